package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/quorumwatch/zookeeper_exporter/internal/zkcluster"
)

// step is one action of the story: what happens, and the command doing it.
type step struct{ text, command string }

// printGuide prints where everything runs and the story's commands, with
// the members' current roles and process ids.
func (s *stack) printGuide(ctx context.Context) error {
	leader, err := s.cluster.WaitLeader(ctx)
	if err != nil {
		return fmt.Errorf("waiting for a leader: %w", err)
	}
	pid := map[string]int{}
	for _, c := range s.children {
		pid[c.name] = c.cmd.Process.Pid
	}
	exporter, prom, am := "http://"+s.opts.exporterListen, "http://"+s.opts.prometheusListen, "http://"+s.opts.amListen
	s.printf("\nThe whole stack runs on loopback:\n")
	s.printf("  exporter       %-36s pid %d\n", exporter+"/", pid["exporter"])
	s.printf("  status page    %s\n", exporter+"/status")
	s.printf("  Prometheus     %-36s pid %d\n", prom+"/alerts", pid["prometheus"])
	s.printf("  Alertmanager   %-36s pid %d\n", am+"/", pid["alertmanager"])
	s.printf("  files          %s (configurations, rules, logs)\n", s.root)
	s.printf("\nEnsemble %q:\n", ensembleName)
	for _, member := range s.cluster.Members() {
		role, mode := "voter", "?"
		if member.Observer {
			role = "observer"
		}
		if m, err := member.Mode(ctx); err == nil {
			mode = m
		}
		s.printf("  zk%d  %-9s %-10s %s  pid %d\n", member.ID, role, mode, member.ClientAddr, member.PID())
	}
	s.printf("\nWalk the story from another terminal. Alerts fire %s after the condition holds; pages print here.\n", s.opts.alertFor)
	for i, st := range s.story(leader, prom+"/alerts") {
		s.printf("  %d. %s\n       %s\n", i+1, strings.ReplaceAll(st.text, "\n", "\n     "), st.command)
	}
	s.printf("\nThe margin:        curl -s %s/metrics | grep ^zookeeper_ensemble_quorum_margin\n", exporter)
	s.printf("Safe to stop zkN?  %s --config.file=%s status\n", s.opts.exporter, filepath.Join(s.root, "zookeeper_exporter.yml"))
	s.printf("\nCtrl-C stops everything and removes %s.\n\n", s.root)
	return nil
}

// story is the seed story on this ensemble: stop the leader, lose voters
// until the margin is 0 (ZooKeeperQuorumAtRisk fires while the ensemble
// serves), lose the observer (nothing changes), then the voter whose loss
// breaks quorum.
func (s *stack) story(leader *zkcluster.Member, alertsPage string) []step {
	var followers, observers []*zkcluster.Member
	for _, member := range s.cluster.Members() {
		switch {
		case member.Observer:
			observers = append(observers, member)
		case member.ID != leader.ID:
			followers = append(followers, member)
		}
	}
	voters := len(followers) + 1
	// Losses the ensemble survives: after that many the margin is 0.
	tolerated := voters - (voters/2 + 1)
	if tolerated == 0 {
		return []step{{"This ensemble tolerates no voter loss: stopping any voter breaks quorum.",
			fmt.Sprintf("kill -9 %d", leader.PID())}}
	}
	atRisk := fmt.Sprintf("The ensemble still serves, but the next voter loss breaks quorum (margin 0):\n"+
		"ZooKeeperQuorumAtRisk fires and pages: %s", alertsPage)
	steps := []step{{"Stop the leader (zk" + fmt.Sprint(leader.ID) + "). The voters left elect a new one.",
		fmt.Sprintf("kill %d", leader.PID())}}
	for _, member := range followers[:tolerated-1] {
		steps = append(steps, step{fmt.Sprintf("Kill voter zk%d.", member.ID), fmt.Sprintf("kill -9 %d", member.PID())})
	}
	steps[len(steps)-1].text += "\n" + atRisk
	for _, member := range observers {
		steps = append(steps, step{fmt.Sprintf("Kill observer zk%d. Observers never vote: the margin does not move.", member.ID),
			fmt.Sprintf("kill -9 %d", member.PID())})
	}
	breaking := followers[tolerated-1]
	return append(steps, step{fmt.Sprintf("Kill voter zk%d. Quorum is lost and the survivors stop serving:\n"+
		"ZooKeeperQuorumLost fires and inhibits the per-member alerts.", breaking.ID),
		fmt.Sprintf("kill -9 %d", breaking.PID())})
}
