package e2e

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/quorumwatch/zookeeper_exporter/internal/zkcluster"
)

// TestVersionMatrix runs one story on a real ensemble of every release in
// $ZK_VERSIONS (default: every line, Debian's 3.8.0 and the newest of each
// from Maven Central; make test sets Debian's and the newest 3.9): healthy,
// the default whitelist, the AdminServer fallback, an observer, a follower
// and the leader killed, reconfig -remove and -add, and a hierarchical
// quorum. Each release's results go into a table (see versionMatrix).
func TestVersionMatrix(t *testing.T) {
	releases, err := zkcluster.Releases()
	if err != nil {
		t.Fatal(err)
	}
	prometheusBinary := lookTool(t, "prometheus", "prometheus")
	matrix := &versionMatrix{}
	for _, release := range releases {
		row := matrix.row(release)
		t.Run(release.Name, func(t *testing.T) {
			story := startMatrixStory(t, release, prometheusBinary)
			for _, step := range matrixSteps {
				if reason := step.skip(release); reason != "" {
					row.skip(step.name, reason)
					continue
				}
				row.ran(step.name, t.Run(step.name, func(t *testing.T) { step.run(story, t) }))
			}
		})
	}
	matrix.publish(t)
}

// matrixStep is one part of the story; skip names why a release cannot
// run it, "" when it can.
type matrixStep struct {
	name string
	skip func(zkcluster.Release) string
	run  func(*matrixStory, *testing.T)
}

func always(zkcluster.Release) string { return "" }

func needsAdminServer(r zkcluster.Release) string {
	if !r.HasAdminServer() {
		return r.Line() + " has no AdminServer"
	}
	return ""
}

func needsReconfig(r zkcluster.Release) string {
	if !r.HasReconfig() {
		return r.Line() + " has no dynamic reconfiguration"
	}
	return ""
}

// matrixSteps run in this order on the release's shared ensemble; every
// step leaves it healthy again (3 voters, the observer, margin 1).
var matrixSteps = []matrixStep{
	{"healthy", always, (*matrixStory).healthy},
	{"whitelist", always, (*matrixStory).whitelist},
	{"admin fallback", needsAdminServer, (*matrixStory).adminFallback},
	{"observer killed", always, (*matrixStory).observerKilled},
	{"follower killed", always, (*matrixStory).followerKilled},
	{"leader killed", always, (*matrixStory).leaderKilled},
	{"reconfig", needsReconfig, (*matrixStory).reconfig},
	{"hierarchical", always, (*matrixStory).hierarchical},
}

// matrixStory is one release's ensemble of 3 voters and an observer, the
// exporter watching it, and Prometheus evaluating the generated rules on
// the exporter's figures. Member 3 keeps ZooKeeper's default whitelist
// (only srvr from 3.5; every word on 3.4) and, from 3.5, is configured with
// its AdminServer for what mntr would say.
type matrixStory struct {
	t          *testing.T
	release    zkcluster.Release
	cluster    *zkcluster.Cluster
	metrics    string
	prometheus string
}

const (
	matrixEnsemble = "matrix"
	defaultListed  = 3 // the member with ZooKeeper's default whitelist
)

func startMatrixStory(t *testing.T, release zkcluster.Release, prometheusBinary string) *matrixStory {
	cluster := zkcluster.StartT(t, zkcluster.Options{
		Release: release.Name, Voters: 3, Observers: 1,
		Reconfig:  release.HasReconfig(),
		Whitelist: map[int]string{defaultListed: ""},
	})
	var config strings.Builder
	fmt.Fprintf(&config, "timeout: 2s\nensembles:\n  - name: %s\n    members:\n", matrixEnsemble)
	for _, member := range cluster.Members() {
		role := map[bool]string{false: "voter", true: "observer"}[member.Observer]
		fmt.Fprintf(&config, "      - {address: %q, role: %s", member.ClientAddr, role)
		if member.ID == defaultListed && release.HasAdminServer() {
			fmt.Fprintf(&config, ", admin_url: \"http://%s/commands\"", member.AdminAddr)
		}
		config.WriteString("}\n")
	}
	dir := t.TempDir()
	path := writeFile(t, filepath.Join(dir, "zookeeper_exporter.yml"), []byte(config.String()))
	base, _, _ := startExporter(t, "--config.file="+path)
	prometheus, _ := startPrometheus(t, prometheusBinary, dir, generateRules(t, dir), []string{hostPort(base)}, freePort(t))
	return &matrixStory{t: t, release: release, cluster: cluster, metrics: base + "/metrics", prometheus: prometheus}
}

func (s *matrixStory) labels(member *zkcluster.Member) map[string]string {
	return map[string]string{"ensemble": matrixEnsemble, "member": member.ClientAddr}
}

// expect waits until the ensemble's figures are want.
func (s *matrixStory) expect(t *testing.T, want map[string]float64) *exposition {
	t.Helper()
	return eventually(t, s.metrics, 60*time.Second, func(scrape *exposition) error {
		return expectValues(scrape, want, map[string]string{"ensemble": matrixEnsemble})
	})
}

var matrixHealthy = map[string]float64{
	"zookeeper_ensemble_voters":           3,
	"zookeeper_ensemble_observers":        1,
	"zookeeper_ensemble_voters_in_quorum": 3,
	"zookeeper_ensemble_leaders":          1,
	"zookeeper_ensemble_quorum_margin":    1,
}

// healthy: margin 1, every member's mode as it says itself, and the
// release in every member's version label.
func (s *matrixStory) healthy(t *testing.T) {
	scrape := s.expect(t, matrixHealthy)
	for _, member := range s.cluster.Members() {
		mode, err := member.Mode(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if got := scrape.labelValues("zookeeper_server_mode", "mode", s.labels(member), 1); !slices.Equal(got, []string{mode}) {
			t.Errorf("zk%d mode = %v, it says %s", member.ID, got, mode)
		}
		if got := scrape.labelValues("zookeeper_version_info", "version", s.labels(member), 1); !slices.Equal(got, []string{s.release.Version}) {
			t.Errorf("zk%d version = %v, want %s", member.ID, got, s.release.Version)
		}
	}
	// 3.6 renamed the leader's zk_followers zk_learners: either way it
	// counts both followers and the observer.
	leader := s.cluster.LeaderT(t)
	if learners, ok := scrape.value("zookeeper_leader_followers", s.labels(leader)); !ok || learners != 3 {
		t.Errorf("leader zk%d: leader_followers %v (present %v), want 3", leader.ID, learners, ok)
	}
	source := scrape.labelValues("zookeeper_ensemble_voter_set_source", "source", map[string]string{"ensemble": matrixEnsemble}, 1)
	want := "ensemble"
	if !s.release.HasReconfig() {
		want = "configuration" // 3.4's conf names no members
	}
	if !slices.Equal(source, []string{want}) {
		t.Errorf("voter set source = %v, want %s", source, want)
	}
}

// whitelist: a member without 4lw.commands.whitelist refuses mntr from
// 3.5 and answers it on 3.4; "*" answers everything.
func (s *matrixStory) whitelist(t *testing.T) {
	scrape := s.expect(t, matrixHealthy)
	want := map[int]float64{1: 1, 2: 1, defaultListed: 0, 4: 1}
	if s.release.DefaultWhitelistAll() {
		want[defaultListed] = 1
	}
	for id, allowed := range want {
		member := s.cluster.Member(id)
		got, ok := scrape.value("zookeeper_command_allowed", map[string]string{"member": member.ClientAddr, "command": "mntr"})
		if !ok || got != allowed {
			t.Errorf("zk%d command_allowed{command=mntr} = %v (present %v), want %v", id, got, ok, allowed)
		}
	}
}

// adminFallback: the srvr-only member's mntr-only figures come from its
// AdminServer.
func (s *matrixStory) adminFallback(t *testing.T) {
	scrape := s.expect(t, matrixHealthy)
	member := s.cluster.Member(defaultListed)
	for _, name := range []string{"zookeeper_watches", "zookeeper_znodes", "zookeeper_max_file_descriptors"} {
		if _, ok := scrape.value(name, s.labels(member)); !ok {
			t.Errorf("zk%d: no %s although its AdminServer answers", member.ID, name)
		}
	}
}

// observerKilled: an observer never votes, the margin stays.
func (s *matrixStory) observerKilled(t *testing.T) {
	observer := s.cluster.Observers()[0]
	if err := s.cluster.Kill(observer.ID); err != nil {
		t.Fatal(err)
	}
	scrape := s.expect(t, map[string]float64{"zookeeper_ensemble_quorum_margin": 1, "zookeeper_ensemble_voters_in_quorum": 3})
	if up, _ := scrape.value("zookeeper_up", s.labels(observer)); up != 0 {
		t.Errorf("killed observer zk%d: up %v", observer.ID, up)
	}
	s.restart(t, observer)
}

// followerKilled: margin 0, and Prometheus fires ZooKeeperQuorumAtRisk
// from the generated rules.
func (s *matrixStory) followerKilled(t *testing.T) {
	follower := killFollower(t, s.cluster)
	s.expect(t, map[string]float64{"zookeeper_ensemble_quorum_margin": 0, "zookeeper_ensemble_voters_in_quorum": 2, "zookeeper_ensemble_leaders": 1})
	pollUntil(t, "ZooKeeperQuorumAtRisk firing", func() (bool, string) {
		alerts, err := prometheusAlerts(s.prometheus)
		if err != nil {
			return false, err.Error()
		}
		for _, alert := range alerts {
			if alert.Labels["alertname"] == "ZooKeeperQuorumAtRisk" && alert.Labels["ensemble"] == matrixEnsemble && alert.State == "firing" {
				return true, ""
			}
		}
		return false, fmt.Sprintf("alerts: %v", alerts)
	})
	s.restart(t, follower)
}

// leaderKilled: another voter leads, in a new epoch.
func (s *matrixStory) leaderKilled(t *testing.T) {
	leader := s.cluster.LeaderT(t)
	before := s.expect(t, matrixHealthy)
	epoch := maxEpoch(before, matrixEnsemble)
	if err := s.cluster.Kill(leader.ID); err != nil {
		t.Fatal(err)
	}
	scrape := s.expect(t, map[string]float64{"zookeeper_ensemble_quorum_margin": 0, "zookeeper_ensemble_leaders": 1})
	if got := scrape.labelValues("zookeeper_server_mode", "mode", s.labels(leader), 1); slices.Contains(got, "leader") {
		t.Errorf("killed zk%d still reads leader", leader.ID)
	}
	eventually(t, s.metrics, 60*time.Second, func(scrape *exposition) error {
		if now := maxEpoch(scrape, matrixEnsemble); now <= epoch {
			return fmt.Errorf("highest zxid epoch %v, was %v before the election", now, epoch)
		}
		return nil
	})
	s.restart(t, leader)
}

// reconfig: removing a follower leaves 2 voters (margin 0) though it keeps
// running; adding it back restores margin 1.
func (s *matrixStory) reconfig(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	leader := s.cluster.LeaderT(t)
	// The leader may be the member whose whitelist refuses conf.
	view, _, err := s.cluster.CurrentMembership(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var follower *zkcluster.Member
	for _, member := range s.cluster.Voters() {
		if member.ID != leader.ID {
			follower = member
			break
		}
	}
	start := time.Now()
	if err := s.cluster.RemoveVoters(ctx, follower.ID); err != nil {
		t.Fatal(err)
	}
	t.Logf("%.1fs: zk%d removed", time.Since(start).Seconds(), follower.ID)
	s.expect(t, map[string]float64{"zookeeper_ensemble_voters": 2, "zookeeper_ensemble_quorum_margin": 0})
	t.Logf("%.1fs: the exporter counts 2 voters", time.Since(start).Seconds())
	leader = s.cluster.LeaderT(t)
	if out, err := s.cluster.CLI(ctx, leader.ID, "reconfig", "-add", view.Servers[follower.ID]); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	t.Logf("%.1fs: zk%d added back", time.Since(start).Seconds(), follower.ID)
	s.expect(t, matrixHealthy)
	t.Logf("%.1fs: healthy again", time.Since(start).Seconds())
}

// hierarchical: 3 voters in groups {1,2} and {3}: a quorum needs both
// groups, each with a majority of its weight, so every voter is needed
// (margin 0) where a simple majority would allow one loss. From 3.5 the
// groups are read from conf; 3.4's conf has no membership, so they come
// from the zoo.cfg the exporter reads.
func (s *matrixStory) hierarchical(t *testing.T) {
	cluster := zkcluster.StartT(t, zkcluster.Options{Release: s.release.Name, Voters: 3, Groups: [][]int{{1, 2}, {3}}})
	base, _, _ := startExporter(t, "--zookeeper.zoo-cfg="+cluster.ZooCfgPath(), "--zookeeper.ensemble="+matrixEnsemble)
	want := "ensemble"
	if !s.release.HasReconfig() {
		want = "configuration"
	}
	eventually(t, base+"/metrics", 60*time.Second, func(scrape *exposition) error {
		source := scrape.labelValues("zookeeper_ensemble_voter_set_source", "source", map[string]string{"ensemble": matrixEnsemble}, 1)
		if !slices.Equal(source, []string{want}) {
			return fmt.Errorf("voter set source %v, want %s", source, want)
		}
		return expectValues(scrape, map[string]float64{
			"zookeeper_ensemble_hierarchical_quorum": 1,
			"zookeeper_ensemble_voters":              3,
			"zookeeper_ensemble_quorum_size":         3,
			"zookeeper_ensemble_quorum_margin":       0,
		}, map[string]string{"ensemble": matrixEnsemble})
	})
}

// restart starts a killed member again and waits until it serves and the
// exporter sees it up in a healthy ensemble.
func (s *matrixStory) restart(t *testing.T, member *zkcluster.Member) {
	t.Helper()
	if err := s.cluster.Restart(member.ID); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	if err := s.cluster.WaitServing(ctx, member.ID); err != nil {
		t.Fatal(err)
	}
	eventually(t, s.metrics, 60*time.Second, func(scrape *exposition) error {
		if up, _ := scrape.value("zookeeper_up", s.labels(member)); up != 1 {
			return fmt.Errorf("restarted zk%d: up %v", member.ID, up)
		}
		return expectValues(scrape, matrixHealthy, map[string]string{"ensemble": matrixEnsemble})
	})
}
