package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/quorumwatch/zookeeper_exporter/internal/zkcluster"
)

// memberLabels selects one member's series.
func memberLabels(member *zkcluster.Member) map[string]string {
	return map[string]string{"ensemble": "story", "member": member.ClientAddr}
}

// modeOf returns the one mode the member's state set marks 1.
func modeOf(scrape *exposition, member *zkcluster.Member) string {
	modes := scrape.labelValues("zookeeper_server_mode", "mode", memberLabels(member), 1)
	if len(modes) != 1 {
		return fmt.Sprintf("%d modes set %v", len(modes), modes)
	}
	return modes[0]
}

// TestSeedStory walks the blog post's story on a real ensemble of 5 voters
// and an observer: healthy, a frozen member, the leader stopped, voters
// killed one by one until quorum is lost. One voter whitelists only srvr,
// as many production members do.
func TestSeedStory(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a real ZooKeeper ensemble")
	}
	const srvrOnly = 5
	cluster := zkcluster.StartT(t, zkcluster.Options{Voters: 5, Observers: 1, Whitelist: map[int]string{srvrOnly: "srvr"}})
	observer := cluster.Observers()[0]
	base, logs, _ := startExporter(t, "--config.file="+writeClusterConfig(t, "story", cluster, time.Second))
	url := base + "/metrics"
	ensemble := map[string]string{"ensemble": "story"}

	t.Run("healthy: margin 2, exactly one leader", func(t *testing.T) {
		scrape := eventually(t, url, 20*time.Second, func(scrape *exposition) error {
			return expectValues(scrape, map[string]float64{
				"zookeeper_ensemble_voters":            5,
				"zookeeper_ensemble_observers":         1,
				"zookeeper_ensemble_quorum_size":       3,
				"zookeeper_ensemble_fault_tolerance":   2,
				"zookeeper_ensemble_voters_up":         5,
				"zookeeper_ensemble_voters_in_quorum":  5,
				"zookeeper_ensemble_leaders":           1,
				"zookeeper_ensemble_quorum_margin":     2,
				"zookeeper_ensemble_voter_set_matches": 1,
			}, ensemble)
		})
		leader := cluster.LeaderT(t)
		for _, member := range cluster.Members() {
			want := "follower"
			switch {
			case member.ID == leader.ID:
				want = "leader"
			case member.Observer:
				want = "observer"
			}
			if got := modeOf(scrape, member); got != want {
				t.Errorf("zk%d mode = %s, want %s", member.ID, got, want)
			}
			if id, _ := scrape.value("zookeeper_up", memberLabels(member)); id != 1 {
				t.Errorf("zk%d is not up", member.ID)
			}
			if got := scrape.labelValues("zookeeper_up", "server_id", memberLabels(member), 1); len(got) != 1 || got[0] != strconv.Itoa(member.ID) {
				t.Errorf("zk%d server_id = %v, want %d (learned from conf)", member.ID, got, member.ID)
			}
		}
		// The srvr-only member: mode and zxid from srvr, mntr reported refused.
		limited := cluster.Member(srvrOnly)
		for _, name := range []string{"zookeeper_zxid_epoch", "zookeeper_zxid_transactions", "zookeeper_latency_max_seconds"} {
			if _, ok := scrape.value(name, memberLabels(limited)); !ok {
				t.Errorf("srvr-only member: no %s", name)
			}
		}
		if allowed, ok := scrape.value("zookeeper_command_allowed", map[string]string{"member": limited.ClientAddr, "command": "mntr"}); !ok || allowed != 0 {
			t.Errorf("srvr-only member: command_allowed{command=mntr} = %v (present %v), want 0", allowed, ok)
		}
		if _, ok := scrape.value("zookeeper_watches", memberLabels(limited)); ok {
			t.Errorf("srvr-only member exports watches, which only mntr knows")
		}

		// promtool says nothing about a full scrape.
		check := exec.Command("promtool", "check", "metrics")
		check.Stdin = strings.NewReader(scrape.body)
		if out, err := check.CombinedOutput(); err != nil || len(strings.TrimSpace(string(out))) > 0 {
			os.WriteFile(filepath.Join(os.TempDir(), "story-scrape.prom"), []byte(scrape.body), 0o644)
			t.Errorf("promtool check metrics: %v\n%s", err, out)
		}
	})

	t.Run("a frozen follower: the scrape answers in time, that member is down", func(t *testing.T) {
		frozen, leader := aFollower(t, cluster)
		if err := cluster.Freeze(frozen.ID); err != nil {
			t.Fatal(err)
		}
		// Prometheus would give up after its scrape timeout: so does this client.
		scrape, err := scrapeExporter(url, 3*time.Second)
		if err != nil {
			t.Fatalf("scrape with a frozen member did not answer within the scrape timeout: %v", err)
		}
		if up, _ := scrape.value("zookeeper_up", memberLabels(frozen)); up != 0 {
			t.Errorf("frozen zk%d: up = %v, want 0", frozen.ID, up)
		}
		if mode := modeOf(scrape, frozen); mode != "unknown" {
			t.Errorf("frozen zk%d: mode = %s, want unknown", frozen.ID, mode)
		}
		if mode := modeOf(scrape, leader); mode != "leader" {
			t.Errorf("leader zk%d: mode = %s while another member is frozen", leader.ID, mode)
		}
		if err := expectValues(scrape, map[string]float64{"zookeeper_ensemble_voters_up": 4}, ensemble); err != nil {
			t.Error(err)
		}
		if reason, ok := scrape.value("zookeeper_exporter_probe_errors_total", map[string]string{"member": frozen.ClientAddr, "reason": "timeout"}); !ok || reason < 1 {
			t.Errorf("no timeout counted for the frozen member")
		}
		// The leader's word decides who is in quorum, and the leader keeps a
		// silent follower synced for syncLimit ticks: until then the margin
		// may still read 2. Once the leader drops it, the margin is 1.
		eventually(t, url, 30*time.Second, func(scrape *exposition) error {
			return expectValues(scrape, map[string]float64{"zookeeper_ensemble_voters_in_quorum": 4, "zookeeper_ensemble_quorum_margin": 1}, ensemble)
		})

		if err := cluster.Thaw(frozen.ID); err != nil {
			t.Fatal(err)
		}
		eventually(t, url, 30*time.Second, func(scrape *exposition) error {
			return expectValues(scrape, map[string]float64{"zookeeper_ensemble_voters_in_quorum": 5, "zookeeper_ensemble_quorum_margin": 2}, ensemble)
		})
	})

	var stopped []*zkcluster.Member
	t.Run("leader stopped: a new leader, margin 1", func(t *testing.T) {
		oldLeader := cluster.LeaderT(t)
		if err := cluster.Stop(oldLeader.ID); err != nil {
			t.Fatal(err)
		}
		stopped = append(stopped, oldLeader)
		scrape := eventually(t, url, 30*time.Second, func(scrape *exposition) error {
			return expectValues(scrape, map[string]float64{
				"zookeeper_ensemble_voters_up":        4,
				"zookeeper_ensemble_voters_in_quorum": 4,
				"zookeeper_ensemble_leaders":          1,
				"zookeeper_ensemble_quorum_margin":    1,
			}, ensemble)
		})
		if up, _ := scrape.value("zookeeper_up", memberLabels(oldLeader)); up != 0 {
			t.Errorf("stopped leader zk%d: up = %v", oldLeader.ID, up)
		}
		newLeader := cluster.LeaderT(t)
		if newLeader.ID == oldLeader.ID {
			t.Fatalf("zk%d still leads after being stopped", oldLeader.ID)
		}
		if mode := modeOf(scrape, newLeader); mode != "leader" {
			t.Errorf("new leader zk%d: mode = %s", newLeader.ID, mode)
		}
	})

	// killFollower SIGKILLs a serving voter that is not the leader.
	killFollower := func(t *testing.T) {
		leader := cluster.LeaderT(t)
		for _, member := range cluster.Voters() {
			if member.ID == leader.ID || contains(stopped, member) {
				continue
			}
			if err := cluster.Kill(member.ID); err != nil {
				t.Fatal(err)
			}
			stopped = append(stopped, member)
			return
		}
		t.Fatal("no follower left to kill")
	}

	t.Run("second voter killed: margin 0", func(t *testing.T) {
		killFollower(t)
		eventually(t, url, 30*time.Second, func(scrape *exposition) error {
			return expectValues(scrape, map[string]float64{
				"zookeeper_ensemble_voters_up":        3,
				"zookeeper_ensemble_voters_in_quorum": 3,
				"zookeeper_ensemble_leaders":          1,
				"zookeeper_ensemble_quorum_margin":    0,
			}, ensemble)
		})
	})

	t.Run("observer killed: margin unchanged", func(t *testing.T) {
		if err := cluster.Kill(observer.ID); err != nil {
			t.Fatal(err)
		}
		scrape := eventually(t, url, 30*time.Second, func(scrape *exposition) error {
			if up, _ := scrape.value("zookeeper_up", memberLabels(observer)); up != 0 {
				return fmt.Errorf("observer still up")
			}
			return nil
		})
		if err := expectValues(scrape, map[string]float64{"zookeeper_ensemble_voters_in_quorum": 3, "zookeeper_ensemble_quorum_margin": 0}, ensemble); err != nil {
			t.Error(err)
		}
	})

	t.Run("third voter killed: margin -1, survivors not serving", func(t *testing.T) {
		killFollower(t)
		scrape := eventually(t, url, 30*time.Second, func(scrape *exposition) error {
			return expectValues(scrape, map[string]float64{
				"zookeeper_ensemble_voters_up":        2,
				"zookeeper_ensemble_voters_in_quorum": 0,
				"zookeeper_ensemble_leaders":          0,
				"zookeeper_ensemble_quorum_margin":    -1,
			}, ensemble)
		})
		for _, member := range cluster.Voters() {
			if contains(stopped, member) {
				continue
			}
			if mode := modeOf(scrape, member); mode != "not_serving" {
				t.Errorf("surviving zk%d: mode = %s, want not_serving", member.ID, mode)
			}
			if up, _ := scrape.value("zookeeper_up", memberLabels(member)); up != 1 {
				t.Errorf("surviving zk%d: up = %v, want 1 (it answers)", member.ID, up)
			}
		}
	})

	if t.Failed() {
		t.Logf("exporter logs:\n%s", logs)
	}
}

func contains(members []*zkcluster.Member, member *zkcluster.Member) bool {
	for _, m := range members {
		if m.ID == member.ID {
			return true
		}
	}
	return false
}
