package e2e

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/quorumwatch/zookeeper_exporter/internal/zkcluster"
)

// faultEnsemble is the ensemble name in TestFaults' exporter configuration.
const faultEnsemble = "faults"

// faultTruth is what the members themselves say, asked directly on their
// client ports (zkcluster's Mode): a member that does not answer is "".
type faultTruth map[int]string

// readTruth asks every member its mode, concurrently.
func readTruth(cluster *zkcluster.Cluster) faultTruth {
	truth := faultTruth{}
	type answer struct {
		id   int
		mode string
	}
	answers := make(chan answer)
	for _, member := range cluster.Members() {
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
			defer cancel()
			mode, err := cluster.Mode(ctx, member.ID)
			if err != nil {
				mode = ""
			}
			answers <- answer{member.ID, mode}
		}()
	}
	for range cluster.Members() {
		a := <-answers
		truth[a.id] = a.mode
	}
	return truth
}

func (truth faultTruth) String() string {
	ids := make([]int, 0, len(truth))
	for id := range truth {
		ids = append(ids, id)
	}
	sort.Ints(ids)
	var parts []string
	for _, id := range ids {
		mode := truth[id]
		if mode == "" {
			mode = "down"
		}
		parts = append(parts, fmt.Sprintf("zk%d=%s", id, mode))
	}
	return strings.Join(parts, " ")
}

// ensemble derives the ensemble metrics from the members' own modes: 3
// voters, quorum 2.
func (truth faultTruth) ensemble(cluster *zkcluster.Cluster) map[string]float64 {
	var up, leaders, inQuorum float64
	for _, member := range cluster.Voters() {
		switch truth[member.ID] {
		case "":
			continue
		case zkcluster.ModeLeader:
			leaders++
			inQuorum++
		case zkcluster.ModeFollower:
			inQuorum++
		}
		up++
	}
	if leaders == 0 {
		inQuorum = 0
	}
	margin := up - 2
	if leaders > 0 {
		margin = inQuorum - 2
	}
	return map[string]float64{
		"zookeeper_ensemble_voters_up":        up,
		"zookeeper_ensemble_leaders":          leaders,
		"zookeeper_ensemble_voters_in_quorum": inQuorum,
		"zookeeper_ensemble_quorum_margin":    margin,
	}
}

// matches reports how a scrape differs from the members' own modes: every
// member's up and mode, and the ensemble's quorum metrics.
func (truth faultTruth) matches(cluster *zkcluster.Cluster, scrape *exposition) error {
	var problems []string
	for _, member := range cluster.Members() {
		labels := map[string]string{"ensemble": faultEnsemble, "member": member.ClientAddr}
		wantUp, wantMode := 1.0, truth[member.ID]
		if wantMode == "" {
			wantUp, wantMode = 0, "unknown"
		}
		if up, ok := scrape.value("zookeeper_up", labels); !ok || up != wantUp {
			problems = append(problems, fmt.Sprintf("zk%d up %v, want %v", member.ID, up, wantUp))
		}
		if modes := scrape.labelValues("zookeeper_server_mode", "mode", labels, 1); len(modes) != 1 || modes[0] != wantMode {
			problems = append(problems, fmt.Sprintf("zk%d modes %v, want %s", member.ID, modes, wantMode))
		}
	}
	if err := expectValues(scrape, truth.ensemble(cluster), map[string]string{"ensemble": faultEnsemble}); err != nil {
		problems = append(problems, err.Error())
	}
	if len(problems) > 0 {
		return fmt.Errorf("members say %s; the exporter: %s", truth, strings.Join(problems, "; "))
	}
	return nil
}

// probeErrors sums the exporter's probe errors for one member over reasons.
func probeErrors(scrape *exposition, member *zkcluster.Member) float64 {
	var sum float64
	for _, metric := range scrape.families["zookeeper_exporter_probe_errors_total"].GetMetric() {
		if labelsMatch(metric, map[string]string{"ensemble": faultEnsemble, "member": member.ClientAddr}) {
			sum += metric.GetCounter().GetValue()
		}
	}
	return sum
}

// maxEpoch is the highest zxid epoch any member of ensemble reported.
func maxEpoch(scrape *exposition, ensemble string) float64 {
	var epoch float64
	for _, metric := range scrape.families["zookeeper_zxid_epoch"].GetMetric() {
		if labelsMatch(metric, map[string]string{"ensemble": ensemble}) {
			epoch = max(epoch, metric.GetGauge().GetValue())
		}
	}
	return epoch
}

// TestFaults drives one real ensemble (3 voters and an observer) through
// the faults operators meet, with one exporter process watching throughout:
// a voter SIGKILLed and restarted, a voter frozen with SIGSTOP and resumed,
// the leader restarted, the whole ensemble stopped and started again (a new
// election, a new zxid epoch), and quorum lost (2 of 3 voters killed) and
// regained. After each event, once the members settle into the state the
// step expects, the exporter's next scrapes agree with what every member
// says of itself on its own client port, and the exporter is the same
// process, still answering.
func TestFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a real ZooKeeper ensemble")
	}
	cluster := zkcluster.StartT(t, zkcluster.Options{Voters: 3, Observers: 1})
	base, logs, cmd := startExporter(t, "--config.file="+writeClusterConfig(t, faultEnsemble, cluster, time.Second))
	url := base + "/metrics"
	pid := cmd.Process.Pid
	defer func() {
		if t.Failed() {
			t.Logf("exporter logs:\n%s", logs)
		}
	}()
	var startTime float64
	ctx := func(t *testing.T) context.Context {
		c, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		t.Cleanup(cancel)
		return c
	}

	// settle polls until the members are in the state the step expects
	// and a scrape agrees with them, then checks one more scrape against
	// the members read again around it, and that the exporter is the
	// process it was.
	settle := func(t *testing.T, expect func(faultTruth) error) *exposition {
		t.Helper()
		deadline := time.Now().Add(90 * time.Second)
		var last error
		for {
			truth := readTruth(cluster)
			if last = expect(truth); last == nil {
				scrape, err := scrapeExporter(url, 5*time.Second)
				if err != nil {
					last = err
				} else if last = truth.matches(cluster, scrape); last == nil {
					break
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("not settled after 90s: %v", last)
			}
			time.Sleep(250 * time.Millisecond)
		}
		// The final scrape, between two readings of the members that agree.
		for attempt := 0; ; attempt++ {
			before := readTruth(cluster)
			scrape, err := scrapeExporter(url, 5*time.Second)
			if err != nil {
				t.Fatalf("final scrape: %v", err)
			}
			after := readTruth(cluster)
			if before.String() != after.String() {
				if attempt == 10 {
					t.Fatalf("members do not hold still: %s, then %s", before, after)
				}
				continue
			}
			if err := after.matches(cluster, scrape); err != nil {
				t.Fatalf("final scrape: %v", err)
			}
			if err := syscall.Kill(pid, 0); err != nil || cmd.ProcessState != nil {
				t.Fatalf("exporter pid %d gone: %v", pid, err)
			}
			started, ok := scrape.value("process_start_time_seconds", nil)
			if !ok || startTime != 0 && started != startTime {
				t.Fatalf("exporter process_start_time_seconds %v (present %v), was %v: the exporter restarted", started, ok, startTime)
			}
			startTime = started
			return scrape
		}
	}
	// count is the number of voters in mode.
	count := func(truth faultTruth, mode string) int {
		n := 0
		for _, member := range cluster.Voters() {
			if truth[member.ID] == mode {
				n++
			}
		}
		return n
	}
	healthy := func(truth faultTruth) error {
		if count(truth, zkcluster.ModeLeader) != 1 || count(truth, zkcluster.ModeFollower) != 2 || truth[4] != zkcluster.ModeObserver {
			return fmt.Errorf("not healthy yet: %s", truth)
		}
		return nil
	}
	oneVoterDown := func(down int) func(faultTruth) error {
		return func(truth faultTruth) error {
			if truth[down] != "" || count(truth, zkcluster.ModeLeader) != 1 || count(truth, zkcluster.ModeFollower) != 1 || truth[4] != zkcluster.ModeObserver {
				return fmt.Errorf("want zk%d down and the others serving: %s", down, truth)
			}
			return nil
		}
	}
	follower := func(t *testing.T) *zkcluster.Member {
		leader := cluster.LeaderT(t)
		for _, member := range cluster.Voters() {
			if member.ID != leader.ID {
				return member
			}
		}
		t.Fatal("no follower")
		return nil
	}
	ensemble := map[string]string{"ensemble": faultEnsemble}

	t.Run("healthy: margin 1", func(t *testing.T) {
		scrape := settle(t, healthy)
		if margin, _ := scrape.value("zookeeper_ensemble_quorum_margin", ensemble); margin != 1 {
			t.Errorf("margin %v, want 1", margin)
		}
	})

	t.Run("a voter SIGKILLed: down, its probe errors grow; restarted: back", func(t *testing.T) {
		victim := follower(t)
		before, err := scrapeExporter(url, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if err := cluster.Kill(victim.ID); err != nil {
			t.Fatal(err)
		}
		scrape := settle(t, oneVoterDown(victim.ID))
		if margin, _ := scrape.value("zookeeper_ensemble_quorum_margin", ensemble); margin != 0 {
			t.Errorf("margin %v, want 0", margin)
		}
		if got, was := probeErrors(scrape, victim), probeErrors(before, victim); got <= was {
			t.Errorf("zk%d killed: probe errors %v, were %v", victim.ID, got, was)
		}
		if refused, ok := scrape.value("zookeeper_exporter_probe_errors_total", map[string]string{"member": victim.ClientAddr, "reason": "connection_refused"}); !ok || refused < 1 {
			t.Errorf("zk%d killed: no connection_refused counted", victim.ID)
		}
		if err := cluster.Restart(victim.ID); err != nil {
			t.Fatal(err)
		}
		if err := cluster.WaitServing(ctx(t), victim.ID); err != nil {
			t.Fatal(err)
		}
		settle(t, healthy)
	})

	t.Run("a voter frozen with SIGSTOP, then SIGCONT", func(t *testing.T) {
		victim := follower(t)
		before, err := scrapeExporter(url, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if err := cluster.Freeze(victim.ID); err != nil {
			t.Fatal(err)
		}
		scrape := settle(t, oneVoterDown(victim.ID))
		if timeouts, ok := scrape.value("zookeeper_exporter_probe_errors_total", map[string]string{"member": victim.ClientAddr, "reason": "timeout"}); !ok || timeouts <= 0 {
			t.Errorf("zk%d frozen: no timeout counted", victim.ID)
		}
		if got, was := probeErrors(scrape, victim), probeErrors(before, victim); got <= was {
			t.Errorf("zk%d frozen: probe errors %v, were %v", victim.ID, got, was)
		}
		if err := cluster.Thaw(victim.ID); err != nil {
			t.Fatal(err)
		}
		settle(t, healthy)
	})

	t.Run("the leader restarted: a new leader, then the old one follows", func(t *testing.T) {
		leader := cluster.LeaderT(t)
		if err := cluster.Stop(leader.ID); err != nil {
			t.Fatal(err)
		}
		settle(t, oneVoterDown(leader.ID))
		if err := cluster.Restart(leader.ID); err != nil {
			t.Fatal(err)
		}
		if err := cluster.WaitServing(ctx(t), leader.ID); err != nil {
			t.Fatal(err)
		}
		settle(t, healthy)
	})

	t.Run("the whole ensemble restarted: a new election, a new zxid epoch", func(t *testing.T) {
		before := settle(t, healthy)
		epoch := maxEpoch(before, faultEnsemble)
		for _, member := range cluster.Members() {
			if err := cluster.Stop(member.ID); err != nil {
				t.Fatal(err)
			}
		}
		scrape := settle(t, func(truth faultTruth) error {
			for id, mode := range truth {
				if mode != "" {
					return fmt.Errorf("zk%d still answers: %s", id, truth)
				}
			}
			return nil
		})
		if margin, _ := scrape.value("zookeeper_ensemble_quorum_margin", ensemble); margin != -2 {
			t.Errorf("everything stopped: margin %v, want -2", margin)
		}
		for _, member := range cluster.Members() {
			if err := cluster.Restart(member.ID); err != nil {
				t.Fatal(err)
			}
		}
		if err := cluster.WaitServing(ctx(t), 1, 2, 3, 4); err != nil {
			t.Fatal(err)
		}
		scrape = settle(t, healthy)
		t.Logf("zxid epoch %v before the whole-ensemble restart, %v after", epoch, maxEpoch(scrape, faultEnsemble))
		if got := maxEpoch(scrape, faultEnsemble); got <= epoch {
			t.Errorf("zxid epoch %v after a new election, was %v", got, epoch)
		}
		leader := cluster.LeaderT(t)
		if got, _ := scrape.value("zookeeper_zxid_epoch", map[string]string{"ensemble": faultEnsemble, "member": leader.ClientAddr}); got <= epoch {
			t.Errorf("leader zk%d: zxid epoch %v, was %v", leader.ID, got, epoch)
		}
	})

	t.Run("quorum lost (2 of 3 voters killed) and regained", func(t *testing.T) {
		leader := cluster.LeaderT(t)
		killed := []int{leader.ID, follower(t).ID}
		for _, id := range killed {
			if err := cluster.Kill(id); err != nil {
				t.Fatal(err)
			}
		}
		scrape := settle(t, func(truth faultTruth) error {
			for _, member := range cluster.Members() {
				down := member.ID == killed[0] || member.ID == killed[1]
				if down && truth[member.ID] != "" || !down && truth[member.ID] != zkcluster.ModeNotServing {
					return fmt.Errorf("want zk%d and zk%d down, the others not serving: %s", killed[0], killed[1], truth)
				}
			}
			return nil
		})
		if err := expectValues(scrape, map[string]float64{
			"zookeeper_ensemble_voters_up":        1,
			"zookeeper_ensemble_voters_in_quorum": 0,
			"zookeeper_ensemble_leaders":          0,
			"zookeeper_ensemble_quorum_margin":    -1,
		}, ensemble); err != nil {
			t.Error(err)
		}
		for _, id := range killed {
			if err := cluster.Restart(id); err != nil {
				t.Fatal(err)
			}
		}
		if err := cluster.WaitServing(ctx(t), 1, 2, 3, 4); err != nil {
			t.Fatal(err)
		}
		scrape = settle(t, healthy)
		if err := expectValues(scrape, map[string]float64{
			"zookeeper_ensemble_voters_up":        3,
			"zookeeper_ensemble_voters_in_quorum": 3,
			"zookeeper_ensemble_leaders":          1,
			"zookeeper_ensemble_quorum_margin":    1,
		}, ensemble); err != nil {
			t.Error(err)
		}
	})

	// The exporter answered throughout, as one process.
	if err := syscall.Kill(pid, 0); err != nil {
		t.Errorf("exporter pid %d not running at the end: %v", pid, err)
	}
	if status, _ := get(t, base+"/-/healthy"); status != 200 {
		t.Errorf("exporter /-/healthy: %d", status)
	}
}
