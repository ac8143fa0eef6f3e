package e2e

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/quorumwatch/zookeeper_exporter/internal/zkcluster"
)

// TestAlertsEndToEnd is issue #3's and issue #11's "must show" on real parts
// only: a real 3-voter ensemble watched by two exporter replicas, the rules
// the binary generates, a real Prometheus scraping both replicas and a real
// Alertmanager running the example inhibit rules. Voters are killed one by
// one: ZooKeeperQuorumAtRisk must page before the loss that breaks quorum,
// then ZooKeeperQuorumLost must page, Alertmanager must inhibit the
// per-member alerts of the outage, and each page must reach the pager
// exactly once, whatever the number of replicas.
func TestAlertsEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("starts ZooKeeper, Prometheus and Alertmanager")
	}
	prometheusBinary := lookTool(t, "prometheus", "prometheus")
	alertmanagerBinary := lookTool(t, "prometheus-alertmanager", "prometheus-alertmanager")

	const ensemble = "alerts-e2e"
	cluster := zkcluster.StartT(t, zkcluster.Options{Voters: 3})
	config := writeClusterConfig(t, ensemble, cluster, time.Second)
	replicaA, replicaALogs, _ := startExporter(t, "--config.file="+config)
	replicaB, replicaBLogs, _ := startExporter(t, "--config.file="+config)
	dir := t.TempDir()
	rulesPath := generateRules(t, dir)

	pager := newWebhookReceiver(t)
	alertmanagerBase, alertmanagerLogs := startAlertmanager(t, alertmanagerBinary, dir, pager.server.URL)
	prometheusBase, prometheusLogs := startPrometheus(t, prometheusBinary, dir, rulesPath,
		[]string{hostPort(replicaA), hostPort(replicaB)}, hostPort(alertmanagerBase))
	stack := &alertStack{t: t, ensemble: ensemble, cluster: cluster, prometheus: prometheusBase,
		alertmanager: alertmanagerBase, pager: pager, replicas: 2, started: time.Now()}

	// Registered after every process, so it runs before they are killed.
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		for _, path := range []string{"/api/v1/alerts", "/api/v1/rules"} {
			t.Logf("Prometheus %s:\n%s", path, fetchForLog(prometheusBase+path))
		}
		t.Logf("Alertmanager /api/v2/alerts:\n%s", fetchForLog(alertmanagerBase+"/api/v2/alerts"))
		t.Logf("webhook notifications:\n%s", pager.dump())
		t.Logf("exporter replica A logs:\n%s\nexporter replica B logs:\n%s", replicaALogs, replicaBLogs)
		t.Logf("Prometheus logs:\n%s", prometheusLogs)
		t.Logf("Alertmanager logs:\n%s", alertmanagerLogs)
	})

	waitTargetsUp(t, prometheusBase, "zookeeper", stack.replicas)
	stack.expectHealthy()
	stack.pageBeforeBreakingLoss()
	stack.pageQuorumLost()
	stack.recover()
}

// alertStack is one real ensemble watched by exporter replicas, with the
// Prometheus and Alertmanager that alert on it, as TestAlertsEndToEnd runs
// them.
type alertStack struct {
	t            *testing.T
	ensemble     string
	cluster      *zkcluster.Cluster
	prometheus   string
	alertmanager string
	pager        *webhookReceiver
	replicas     int
	started      time.Time
	killed       []*zkcluster.Member
}

func (s *alertStack) logf(format string, args ...any) {
	s.t.Helper()
	s.t.Logf("%5.1fs "+format, append([]any{time.Since(s.started).Seconds()}, args...)...)
}

// promAlert checks that Prometheus has the ensemble's alert in state.
func (s *alertStack) promAlert(name, state string) func() (bool, string) {
	return func() (bool, string) {
		alerts, err := prometheusAlerts(s.prometheus)
		if err != nil {
			return false, err.Error()
		}
		for _, alert := range alerts {
			if alert.Labels["alertname"] == name && alert.Labels["ensemble"] == s.ensemble && alert.State == state {
				return true, ""
			}
		}
		return false, fmt.Sprintf("alerts: %v", alerts)
	}
}

// marginSeenByAll waits until every replica's margin, as Prometheus stored
// it, is want.
func (s *alertStack) marginSeenByAll(want int) {
	s.t.Helper()
	query := fmt.Sprintf(`count(zookeeper_ensemble_quorum_margin{job="zookeeper",ensemble=%q} == %d)`, s.ensemble, want)
	pollUntil(s.t, fmt.Sprintf("every replica's quorum margin %d in Prometheus", want), func() (bool, string) {
		value, err := prometheusQuery(s.prometheus, query)
		return err == nil && value == fmt.Sprint(s.replicas), fmt.Sprintf("%s = %q, %v", query, value, err)
	})
}

// expectHealthy: once the rules were evaluated on samples with margin 1,
// no quorum or member alert may be active, not even pending.
func (s *alertStack) expectHealthy() {
	s.t.Helper()
	s.marginSeenByAll(1)
	sawHealthy := time.Now()
	pollUntil(s.t, "the alert rules evaluated after the healthy sample", func() (bool, string) {
		last, err := lastEvaluation(s.prometheus, "zookeeper-quorum", "zookeeper-members")
		return err == nil && last.After(sawHealthy), fmt.Sprintf("last evaluation %v, %v", last, err)
	})
	watched := []string{
		"ZooKeeperQuorumLost", "ZooKeeperQuorumAtRisk", "ZooKeeperFaultToleranceReduced",
		"ZooKeeperMultipleLeaders", "ZooKeeperVoterDown", "ZooKeeperMemberNotServing",
	}
	alerts, err := prometheusAlerts(s.prometheus)
	if err != nil {
		s.t.Fatal(err)
	}
	for _, alert := range alerts {
		if alert.Labels["ensemble"] == s.ensemble && slices.Contains(watched, alert.Labels["alertname"]) {
			s.t.Errorf("healthy ensemble, yet %s is %s: %v", alert.Labels["alertname"], alert.State, alert.Labels)
		}
	}
	if s.t.Failed() {
		s.t.FailNow()
	}
	s.logf("healthy, no alert")
}

// pageBeforeBreakingLoss: the first voter lost leaves margin 0. The
// critical QuorumAtRisk must fire and reach the pager while the ensemble
// still has its quorum, and only then is the next voter killed.
func (s *alertStack) pageBeforeBreakingLoss() {
	s.t.Helper()
	first := killFollower(s.t, s.cluster)
	s.killed = append(s.killed, first)
	pollUntil(s.t, "ZooKeeperQuorumAtRisk firing in Prometheus", s.promAlert("ZooKeeperQuorumAtRisk", "firing"))
	s.logf("zk%d killed: ZooKeeperQuorumAtRisk firing", first.ID)
	if lost, _ := s.promAlert("ZooKeeperQuorumLost", "pending")(); lost {
		s.t.Errorf("ZooKeeperQuorumLost pending with 2 of 3 voters serving")
	}
	if lost, _ := s.promAlert("ZooKeeperQuorumLost", "firing")(); lost {
		s.t.Errorf("ZooKeeperQuorumLost firing with 2 of 3 voters serving")
	}
	pollUntil(s.t, "the pager notified of ZooKeeperQuorumAtRisk", func() (bool, string) {
		return s.pager.notified("pager", "ZooKeeperQuorumAtRisk", s.ensemble), s.pager.dump()
	})
	// Both replicas must have reported margin 0 before the next loss, so
	// that a page per replica would have had its chance to arrive.
	s.marginSeenByAll(0)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.cluster.WaitServing(ctx); err != nil {
		s.t.Fatalf("paged for ZooKeeperQuorumAtRisk, but the ensemble no longer serves: %v", err)
	}
	// The killed voter's own alert is part of the same story.
	pollUntil(s.t, "ZooKeeperVoterDown inhibited by ZooKeeperQuorumAtRisk in Alertmanager",
		inhibited(s.alertmanager, s.ensemble, "ZooKeeperQuorumAtRisk", "ZooKeeperVoterDown", 1))
	s.logf("paged for ZooKeeperQuorumAtRisk while the ensemble serves")
}

// pageQuorumLost: only now the loss that breaks quorum.
func (s *alertStack) pageQuorumLost() {
	s.t.Helper()
	second := killFollower(s.t, s.cluster)
	s.killed = append(s.killed, second)
	pollUntil(s.t, "ZooKeeperQuorumLost firing in Prometheus", s.promAlert("ZooKeeperQuorumLost", "firing"))
	s.logf("zk%d killed: ZooKeeperQuorumLost firing", second.ID)
	pollUntil(s.t, "the pager notified of ZooKeeperQuorumLost", func() (bool, string) {
		return s.pager.notified("pager", "ZooKeeperQuorumLost", s.ensemble), s.pager.dump()
	})
	// Both dead voters and the survivor, which answers but cannot serve
	// without a quorum, are the same outage: QuorumLost inhibits them.
	// QuorumLost > QuorumAtRisk is not checked in Alertmanager: the rules
	// make them exclude each other, so there is nothing to inhibit. That
	// they never fired at the same evaluation is checked on ALERTS.
	pollUntil(s.t, "both ZooKeeperVoterDown inhibited by ZooKeeperQuorumLost in Alertmanager",
		inhibited(s.alertmanager, s.ensemble, "ZooKeeperQuorumLost", "ZooKeeperVoterDown", 2))
	pollUntil(s.t, "ZooKeeperMemberNotServing inhibited by ZooKeeperQuorumLost in Alertmanager",
		inhibited(s.alertmanager, s.ensemble, "ZooKeeperQuorumLost", "ZooKeeperMemberNotServing", 1))
	s.logf("paged for ZooKeeperQuorumLost, member alerts inhibited")
	both := fmt.Sprintf(`max_over_time(count(ALERTS{alertstate="firing",ensemble=%q,`+
		`alertname=~"ZooKeeperQuorumAtRisk|ZooKeeperQuorumLost"})[2m:1s])`, s.ensemble)
	if value, err := prometheusQuery(s.prometheus, both); err != nil || value != "1" {
		s.t.Errorf("ZooKeeperQuorumAtRisk and ZooKeeperQuorumLost firing at once: %s = %q, %v", both, value, err)
	}
	// ZooKeeperQuorumAtRisk's one episode is over by now: any copy from
	// the second replica would have arrived long ago.
	s.expectOnePage("ZooKeeperQuorumAtRisk")
}

// recover restarts the killed voters. The pager must get QuorumLost's
// resolution, and by then must have had exactly one QuorumLost page.
func (s *alertStack) recover() {
	s.t.Helper()
	for _, member := range s.killed {
		if err := s.cluster.Restart(member.ID); err != nil {
			s.t.Fatal(err)
		}
	}
	pollUntil(s.t, "the pager notified of ZooKeeperQuorumLost resolved", func() (bool, string) {
		return s.pager.count("pager", "ZooKeeperQuorumLost", s.ensemble, "resolved").notifications > 0, s.pager.dump()
	})
	s.logf("voters restarted: ZooKeeperQuorumLost resolved")
	s.expectOnePage("ZooKeeperQuorumLost")
	if resolved := s.pager.count("pager", "ZooKeeperQuorumLost", s.ensemble, "resolved"); resolved.notifications != 1 || resolved.alerts != 1 {
		s.t.Errorf("ZooKeeperQuorumLost resolved: %d notifications, %d alerts; want 1 and 1\n%s",
			resolved.notifications, resolved.alerts, s.pager.dump())
	}
	if repeated := s.pager.duplicates(); len(repeated) > 0 {
		s.t.Errorf("notifications delivered twice:\n%s", strings.Join(repeated, "\n"))
	}
}

// expectOnePage fails unless the pager got alertname firing for the
// ensemble in exactly one notification, holding exactly one alert: a copy
// per exporter replica (the instance label) is a duplicate page.
func (s *alertStack) expectOnePage(alertname string) {
	s.t.Helper()
	got := s.pager.count("pager", alertname, s.ensemble, "firing")
	if got.notifications != 1 || got.alerts != 1 {
		s.t.Errorf("%s with %d exporter replicas: %d page(s) carrying %d alert(s), want exactly 1 page with 1 alert "+
			"(the rules must aggregate across replicas)\n%s", alertname, s.replicas, got.notifications, got.alerts, s.pager.dump())
	}
}
