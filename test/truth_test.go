package e2e

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/quorumwatch/zookeeper_exporter/internal/zkcluster"
)

// The TestTruth* tests are issue 9's "must show": the quorum margin the
// exporter reports against what real ZooKeeper members do, in the cases
// where reading the configuration instead of the ensemble gets it wrong.

// truthWithin bounds every wait for ZooKeeper, the exporter or Prometheus
// to reach a state: elections, failure detection and JVM starts are slow
// on a loaded machine.
const truthWithin = 90 * time.Second

// eventuallyThrough is eventually for an exporter reached through client
// (one inside a cluster's network namespace).
func eventuallyThrough(t *testing.T, client *http.Client, target string, check func(*exposition) error) *exposition {
	t.Helper()
	deadline := time.Now().Add(truthWithin)
	for {
		scrape, err := scrapeThrough(client, target, 5*time.Second)
		if err == nil {
			if err = check(scrape); err == nil {
				return scrape
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %v", truthWithin, err)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// ensembleIs checks the named ensemble's figures, each given without its
// zookeeper_ensemble_ prefix, and that its voter set is the ensemble's own.
func ensembleIs(name string, want map[string]float64) func(*exposition) error {
	full := make(map[string]float64, len(want))
	for figure, value := range want {
		full["zookeeper_ensemble_"+figure] = value
	}
	return func(scrape *exposition) error {
		return errors.Join(
			expectValues(scrape, full, map[string]string{"ensemble": name}),
			expectValues(scrape, map[string]float64{"zookeeper_ensemble_voter_set_source": 1},
				map[string]string{"ensemble": name, "source": "ensemble"}),
		)
	}
}

// memberIs adds per-member checks (full metric names) to an ensemble check.
func memberIs(check func(*exposition) error, name, address string, want map[string]float64) func(*exposition) error {
	return func(scrape *exposition) error {
		return errors.Join(check(scrape), expectValues(scrape, want, map[string]string{"ensemble": name, "member": address}))
	}
}

// startClustersT starts ensembles together, as zkcluster.StartT starts
// one: the JVMs' start-up dominates these tests.
func startClustersT(t *testing.T, options ...zkcluster.Options) []*zkcluster.Cluster {
	t.Helper()
	clusters := make([]*zkcluster.Cluster, len(options))
	errs := make([]error, len(options))
	var wg sync.WaitGroup
	for i, opts := range options {
		wg.Go(func() { clusters[i], errs[i] = zkcluster.Start(context.Background(), opts) })
	}
	wg.Wait()
	for _, cluster := range clusters {
		if cluster == nil {
			continue
		}
		t.Cleanup(func() {
			if t.Failed() {
				for _, member := range cluster.Members() {
					t.Logf("zk%d (%s) log tail:\n%s", member.ID, member.ClientAddr, member.LogTail(30))
				}
			}
			if err := cluster.Close(); err != nil {
				t.Errorf("closing an ensemble: %v", err)
			}
		})
	}
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	return clusters
}

// killT SIGKILLs members, failing the test if one cannot be killed.
func killT(t *testing.T, cluster *zkcluster.Cluster, members ...*zkcluster.Member) {
	t.Helper()
	for _, member := range members {
		if err := cluster.Kill(member.ID); err != nil {
			t.Fatalf("killing zk%d: %v", member.ID, err)
		}
	}
}

// waitModes waits until every running member answers srvr with want.
func waitModes(t *testing.T, cluster *zkcluster.Cluster, want string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), truthWithin)
	defer cancel()
	var last []string
	err := cluster.WaitFor(ctx, func() bool {
		last = nil
		for _, member := range cluster.Members() {
			if member.PID() == 0 {
				continue
			}
			mode, err := member.Mode(ctx)
			if err != nil {
				mode = err.Error()
			}
			last = append(last, fmt.Sprintf("zk%d=%s", member.ID, mode))
			if mode != want {
				return false
			}
		}
		return true
	})
	if err != nil {
		t.Fatalf("waiting for every running member to answer %s: %v (last: %v)", want, err, last)
	}
}

// logOnFailure logs an exporter's output when the test failed.
func logOnFailure(t *testing.T, what string, logs *lockedBuffer) {
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("%s logs:\n%s", what, logs)
		}
	})
}

// TestTruthHierarchical: 9 voters in 3 groups of 3 (group.N lines), the
// exporter reading the same zoo.cfg. A hierarchical quorum is more than
// half of the groups, each by more than half its weight, so two losses in
// one group and one in another leave margin 0, where a simple majority of
// 9 would still say 1. The overlapping scrapes run on the healthy ensemble
// first, with one member frozen.
func TestTruthHierarchical(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a real ZooKeeper ensemble")
	}
	const name = "truth-hierarchical"
	cluster := zkcluster.StartT(t, zkcluster.Options{Voters: 9, Groups: [][]int{{1, 2, 3}, {4, 5, 6}, {7, 8, 9}}})
	base, logs, _ := startExporter(t, "--zookeeper.zoo-cfg="+cluster.ZooCfgPath(), "--zookeeper.ensemble="+name,
		"--zookeeper.timeout=3s", "--web.timeout-offset=100ms")
	logOnFailure(t, "exporter", logs)
	metrics := base + "/metrics"

	eventually(t, metrics, truthWithin, ensembleIs(name, map[string]float64{
		"voters": 9, "quorum_size": 4, "fault_tolerance": 3, "hierarchical_quorum": 1,
		"voters_in_quorum": 9, "quorum_margin": 3,
	}))
	t.Run("overlapping scrapes with a frozen member", func(t *testing.T) {
		overlappingScrapes(t, cluster, metrics, name)
	})
	eventually(t, metrics, truthWithin, ensembleIs(name, map[string]float64{"voters_up": 9, "quorum_margin": 3}))

	// The leader's group stays whole, so the losses below never force an
	// election: each step's figures are read while the same leader serves.
	leader := cluster.LeaderT(t)
	var groups [][]*zkcluster.Member
	for _, ids := range [][]int{{1, 2, 3}, {4, 5, 6}, {7, 8, 9}} {
		if !slices.Contains(ids, leader.ID) {
			groups = append(groups, []*zkcluster.Member{cluster.Member(ids[0]), cluster.Member(ids[1])})
		}
	}
	first, second := groups[0], groups[1]

	killT(t, cluster, first...)
	eventually(t, metrics, truthWithin, ensembleIs(name, map[string]float64{
		"voters": 9, "voters_up": 7, "voters_in_quorum": 7, "quorum_margin": 1,
	}))
	killT(t, cluster, second[0])
	eventually(t, metrics, truthWithin, ensembleIs(name, map[string]float64{
		"voters": 9, "voters_up": 6, "voters_in_quorum": 6, "quorum_margin": 0,
	}))
	if serving := cluster.LeaderT(t); serving.ID != leader.ID {
		t.Errorf("margin 0 read while zk%d led, but zk%d leads now", leader.ID, serving.ID)
	}
	t.Logf("zk%d leads with two of one group and one of another down: margin 0", leader.ID)

	killT(t, cluster, second[1])
	waitModes(t, cluster, zkcluster.ModeNotServing)
	eventually(t, metrics, truthWithin, ensembleIs(name, map[string]float64{
		"voters": 9, "voters_up": 5, "voters_in_quorum": 0, "leaders": 0, "quorum_margin": -1,
	}))
}

// overlappingScrapes freezes a follower (it accepts connections, answers
// nothing) and sends two scrapes at once, with scrape timeouts of 0.5 s and
// 5 s, to an exporter with a 3 s member timeout and a 100 ms offset. The
// first must not wait for the round: it gets every series of the ensemble
// with the frozen member down for reason deadline; the round goes on for
// the second, which sees the member time out.
func overlappingScrapes(t *testing.T, cluster *zkcluster.Cluster, metrics, name string) {
	leader := cluster.LeaderT(t)
	frozen := cluster.Voters()[0]
	if frozen.ID == leader.ID {
		frozen = cluster.Voters()[1]
	}
	before, err := scrapeThrough(http.DefaultClient, metrics, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	shared := map[string]string{"ensemble": name}
	sharedBefore, _ := before.value("zookeeper_exporter_probe_rounds_shared_total", shared)
	if err := cluster.Freeze(frozen.ID); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := cluster.Thaw(frozen.ID); err != nil {
			t.Errorf("thawing zk%d: %v", frozen.ID, err)
		}
	}()
	member := map[string]string{"ensemble": name, "member": frozen.ClientAddr}
	for attempt := 1; ; attempt++ {
		early, late := scrapePair(t, metrics)
		// On a loaded machine a healthy member may miss 0.4 s too; then
		// the two scrapes rightly differ, and the pair is tried again.
		down := early.labelValues("zookeeper_up", "member", shared, 0)
		if len(down) > 1 && attempt < 3 {
			t.Logf("attempt %d: besides the frozen zk%d, %v missed the early deadline; again", attempt, frozen.ID, down)
			continue
		}
		if err := expectValues(early, map[string]float64{"zookeeper_up": 0}, member); err != nil {
			t.Errorf("0.5 s scrape: %v", err)
		}
		if deadline, ok := early.value("zookeeper_exporter_probe_errors_total",
			map[string]string{"ensemble": name, "member": frozen.ClientAddr, "reason": "deadline"}); !ok || deadline < 1 {
			t.Errorf("0.5 s scrape: probe errors of zk%d for reason deadline = %v (present %v), want at least 1", frozen.ID, deadline, ok)
		}
		t.Logf("frozen zk%d; members down in the 0.5 s scrape: %v", frozen.ID, down)
		compareScrapes(t, early, late, name, member)
		if sharedAfter, _ := late.value("zookeeper_exporter_probe_rounds_shared_total", shared); sharedAfter <= sharedBefore {
			t.Errorf("probe rounds shared: %v before the pair, %v after: the scrapes did not share a round", sharedBefore, sharedAfter)
		}
		return
	}
}

// scrapePair sends the 5 s and the 0.5 s scrape at once.
func scrapePair(t *testing.T, metrics string) (early, late *exposition) {
	t.Helper()
	client := &http.Client{Timeout: 30 * time.Second}
	var lateErr error
	lateDone := make(chan struct{})
	go func() {
		defer close(lateDone)
		late, lateErr = scrapeThrough(client, metrics, 5*time.Second)
	}()
	early, earlyErr := scrapeThrough(client, metrics, 500*time.Millisecond)
	<-lateDone
	if err := errors.Join(earlyErr, lateErr); err != nil {
		t.Fatal(err)
	}
	return early, late
}

// compareScrapes checks what tells the two scrapes apart (the round's
// completeness) and that nothing else does: the same series of the
// ensemble, by name and labels, in both.
func compareScrapes(t *testing.T, early, late *exposition, name string, frozen map[string]string) {
	t.Helper()
	ensemble := map[string]string{"ensemble": name}
	if err := expectValues(early, map[string]float64{"zookeeper_ensemble_round_complete": 0}, ensemble); err != nil {
		t.Errorf("0.5 s scrape: %v", err)
	}
	if err := errors.Join(
		expectValues(late, map[string]float64{"zookeeper_ensemble_round_complete": 1}, ensemble),
		expectValues(late, map[string]float64{"zookeeper_up": 0}, frozen),
	); err != nil {
		t.Errorf("5 s scrape: %v", err)
	}
	earlyKeys, lateKeys := seriesKeys(early), seriesKeys(late)
	if len(earlyKeys) == 0 {
		t.Fatalf("0.5 s scrape: no series at all")
	}
	if !slices.Equal(earlyKeys, lateKeys) {
		t.Errorf("the scrapes' series differ:\nonly in the 0.5 s scrape: %v\nonly in the 5 s scrape: %v",
			missingFrom(earlyKeys, lateKeys), missingFrom(lateKeys, earlyKeys))
	}
}

// missingFrom lists the keys of a that b lacks.
func missingFrom(a, b []string) []string {
	var out []string
	for _, key := range a {
		if !slices.Contains(b, key) {
			out = append(out, key)
		}
	}
	return out
}

// The live voter set's ensembles: one reconfigured 3 -> 5 -> 3 under an
// exporter still configured with its first 3 voters; one with a follower
// the exporter is configured to find where it does not listen, and an
// observer it is configured to take for a voter.
const (
	reconfigEnsemble = "truth-reconfig"
	cutoffEnsemble   = "truth-cutoff"
)

// cutoff is the second ensemble as the exporter is configured with it.
type cutoff struct {
	cluster   *zkcluster.Cluster
	leader    *zkcluster.Member
	unseen    *zkcluster.Member // a follower the exporter looks for elsewhere
	elsewhere string            // where it looks
	observer  *zkcluster.Member // configured as a voter
}

// TestTruthLiveVoterSet: the ensemble's own voter set and its leader's
// count, not the exporter's configuration, decide the margin. One exporter
// watches both ensembles, one Prometheus loads the generated rules.
func TestTruthLiveVoterSet(t *testing.T) {
	if testing.Short() {
		t.Skip("starts ZooKeeper and Prometheus")
	}
	prometheusBinary := lookTool(t, "prometheus", "prometheus")
	clusters := startClustersT(t, zkcluster.Options{Voters: 3, Reconfig: true}, zkcluster.Options{Voters: 3, Observers: 1})
	reconfig, cut := clusters[0], newCutoff(t, clusters[1])
	base, logs, _ := startExporter(t, "--config.file="+writeTruthConfig(t, reconfig, cut))
	logOnFailure(t, "exporter", logs)
	dir := t.TempDir()
	prometheus, prometheusLogs := startPrometheus(t, prometheusBinary, dir, generateRules(t, dir),
		[]string{hostPort(base)}, freePort(t))
	logOnFailure(t, "Prometheus", prometheusLogs)
	started := time.Now()
	waitTargetsUp(t, prometheus, "zookeeper", 1)
	metrics := base + "/metrics"

	cut.check(t, metrics)
	reconfigure(t, reconfig, metrics, prometheus)
	noCriticalAlert(t, prometheus, started)
}

// newCutoff picks the cut-off ensemble's roles once it has a leader.
func newCutoff(t *testing.T, cluster *zkcluster.Cluster) *cutoff {
	t.Helper()
	c := &cutoff{cluster: cluster, leader: cluster.LeaderT(t), observer: cluster.Observers()[0]}
	for _, voter := range cluster.Voters() {
		if voter.ID != c.leader.ID {
			c.unseen = voter
		}
	}
	elsewhere, err := cluster.FreeAddress()
	if err != nil {
		t.Fatal(err)
	}
	c.elsewhere = elsewhere
	return c
}

// writeTruthConfig configures both ensembles: the reconfigured one with its
// first 3 voters, the cut-off one with every address but one right and the
// observer without its role.
func writeTruthConfig(t *testing.T, reconfig *zkcluster.Cluster, cut *cutoff) string {
	t.Helper()
	var config strings.Builder
	// Discovery off: the story is the arithmetic of voters the exporter
	// is not given (with discovery, it would probe them).
	fmt.Fprintf(&config, "timeout: 1s\nensembles:\n  - name: %s\n    discover: off\n    members:\n", reconfigEnsemble)
	for _, member := range reconfig.Voters() {
		fmt.Fprintf(&config, "      - {address: %q}\n", member.ClientAddr)
	}
	fmt.Fprintf(&config, "  - name: %s\n    discover: off\n    members:\n", cutoffEnsemble)
	for _, member := range cut.cluster.Members() {
		address := member.ClientAddr
		if member.ID == cut.unseen.ID {
			address = cut.elsewhere
		}
		fmt.Fprintf(&config, "      - {address: %q}\n", address)
	}
	path := filepath.Join(t.TempDir(), "zookeeper_exporter.yml")
	if err := os.WriteFile(path, []byte(config.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// check: the follower the exporter cannot reach is down to it, but the
// leader counts it in quorum, so the margin stays 1; the observer
// configured as a voter answers observer and never votes, so losing it
// leaves the margin at 1.
func (c *cutoff) check(t *testing.T, metrics string) {
	t.Helper()
	ensemble := ensembleIs(cutoffEnsemble, map[string]float64{
		"voters": 3, "voters_in_quorum": 3, "voters_unseen_synced": 1, "quorum_margin": 1,
	})
	eventually(t, metrics, truthWithin, memberIs(ensemble, cutoffEnsemble, c.elsewhere, map[string]float64{"zookeeper_up": 0}))
	t.Logf("%s: zk%d sought at %s: down to the exporter, synced to the leader, margin 1", cutoffEnsemble, c.unseen.ID, c.elsewhere)

	observing := memberIs(ensemble, cutoffEnsemble, c.observer.ClientAddr, map[string]float64{"zookeeper_up": 1})
	eventually(t, metrics, truthWithin, func(scrape *exposition) error {
		return errors.Join(observing(scrape), expectValues(scrape, map[string]float64{"zookeeper_server_mode": 1},
			map[string]string{"ensemble": cutoffEnsemble, "member": c.observer.ClientAddr, "mode": "observer"}))
	})
	killT(t, c.cluster, c.observer)
	eventually(t, metrics, truthWithin, memberIs(ensemble, cutoffEnsemble, c.observer.ClientAddr, map[string]float64{"zookeeper_up": 0}))
	t.Logf("%s: observer zk%d, configured as a voter, killed: margin still 1", cutoffEnsemble, c.observer.ID)
}

// reconfigure grows the ensemble 3 -> 5 with reconfig -add while the
// exporter stays configured with the first 3: the new voters count,
// unseen. Killed, they leave margin 0, and the page fires. Restarted, then
// removed with reconfig -remove while they keep running, they no longer
// count: margin 1.
func reconfigure(t *testing.T, cluster *zkcluster.Cluster, metrics, prometheus string) {
	t.Helper()
	eventually(t, metrics, truthWithin, ensembleIs(reconfigEnsemble, map[string]float64{"voters": 3, "quorum_margin": 1}))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	added, err := cluster.AddVoters(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	ids := []int{added[0].ID, added[1].ID}
	eventually(t, metrics, truthWithin, ensembleIs(reconfigEnsemble, map[string]float64{
		"voters": 5, "voters_unconfigured": 2, "voters_unseen_synced": 2, "voters_in_quorum": 5, "quorum_margin": 2,
	}))
	killT(t, cluster, added...)
	eventually(t, metrics, truthWithin, ensembleIs(reconfigEnsemble, map[string]float64{
		"voters": 5, "voters_unconfigured": 2, "voters_unseen_synced": 0, "voters_in_quorum": 3, "quorum_margin": 0,
	}))
	pollUntil(t, "ZooKeeperQuorumAtRisk firing for "+reconfigEnsemble,
		alertIn(prometheus, reconfigEnsemble, "ZooKeeperQuorumAtRisk", "firing"))
	t.Logf("%s: 3 -> 5 by reconfig -add, zk%d and zk%d killed: margin 0, paged", reconfigEnsemble, ids[0], ids[1])

	for _, id := range ids {
		if err := cluster.Restart(id); err != nil {
			t.Fatal(err)
		}
	}
	if err := cluster.WaitServing(ctx, ids...); err != nil {
		t.Fatal(err)
	}
	eventually(t, metrics, truthWithin, ensembleIs(reconfigEnsemble, map[string]float64{"voters": 5, "quorum_margin": 2}))
	if err := cluster.RemoveVoters(ctx, ids...); err != nil {
		t.Fatal(err)
	}
	eventually(t, metrics, truthWithin, ensembleIs(reconfigEnsemble, map[string]float64{
		"voters": 3, "voters_unconfigured": 0, "voters_unseen_synced": 0, "voters_in_quorum": 3, "quorum_margin": 1,
	}))
	for _, member := range added {
		mode, err := member.Mode(ctx)
		if err != nil {
			t.Fatalf("zk%d, removed by reconfig -remove, should still run and answer: %v", member.ID, err)
		}
		t.Logf("%s: zk%d removed, still running, answers %s", reconfigEnsemble, member.ID, mode)
	}
}

// alertIn checks that Prometheus has the ensemble's alert in state.
func alertIn(prometheus, ensemble, alertname, state string) func() (bool, string) {
	return func() (bool, string) {
		alerts, err := prometheusAlerts(prometheus)
		if err != nil {
			return false, err.Error()
		}
		for _, alert := range alerts {
			if alert.Labels["alertname"] == alertname && alert.Labels["ensemble"] == ensemble && alert.State == state {
				return true, ""
			}
		}
		return false, fmt.Sprintf("alerts: %v", alerts)
	}
}

// noCriticalAlert: once Prometheus holds margin 1 for both ensembles and
// has evaluated the rules a few times since, no critical alert is active
// for either, not even pending; and none ever fired for the cut-off
// ensemble, whose margin never moved.
func noCriticalAlert(t *testing.T, prometheus string, started time.Time) {
	t.Helper()
	for _, name := range []string{reconfigEnsemble, cutoffEnsemble} {
		noCriticalSince(t, prometheus, name, 1)
	}
	window := int((time.Since(started) + time.Minute).Seconds())
	fired := fmt.Sprintf(`last_over_time(ALERTS{severity="critical",alertstate="firing",ensemble=%q}[%ds])`, cutoffEnsemble, window)
	series, err := prometheusSeries(prometheus, fired)
	if err != nil {
		t.Fatal(err)
	}
	if len(series) > 0 {
		t.Errorf("%s: the margin stayed 1, yet critical alerts fired: %v", cutoffEnsemble, series)
	}
}

// prometheusSeries returns the label sets of an instant query's result.
func prometheusSeries(base, query string) ([]map[string]string, error) {
	var response struct {
		Data struct {
			Result []struct {
				Metric map[string]string `json:"metric"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := getJSON(base+"/api/v1/query?query="+url.QueryEscape(query), &response); err != nil {
		return nil, err
	}
	var series []map[string]string
	for _, result := range response.Data.Result {
		series = append(series, result.Metric)
	}
	return series, nil
}

// TestTruthStuckElection: 3 voters in a network namespace of their own,
// their quorum and election ports blocked there, the leader killed. The
// survivors answer "not serving" and cannot elect: no quorum however many
// answer. The exporter, run inside the namespace, must say margin -1; its
// status command must exit 4 (lost), its status page must say LOST.
func TestTruthStuckElection(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a real ZooKeeper ensemble")
	}
	if err := zkcluster.NetNSSupported(); err != nil {
		t.Skip(err)
	}
	const name = "truth-stuck"
	cluster := zkcluster.StartT(t, zkcluster.Options{Voters: 3, NetNS: true})
	config := writeClusterConfig(t, name, cluster, time.Second)
	base := startExporterIn(t, cluster, "--config.file="+config)
	client := cluster.HTTPClient()
	client.Timeout = 30 * time.Second
	eventuallyThrough(t, client, base+"/metrics", ensembleIs(name, map[string]float64{"voters_up": 3, "quorum_margin": 1}))

	leader := cluster.LeaderT(t)
	if err := cluster.BlockPeers(); err != nil {
		t.Fatal(err)
	}
	killT(t, cluster, leader)
	waitModes(t, cluster, zkcluster.ModeNotServing)
	eventuallyThrough(t, client, base+"/metrics", ensembleIs(name, map[string]float64{
		"voters": 3, "voters_up": 2, "voters_in_quorum": 0, "leaders": 0, "quorum_margin": -1,
	}))
	t.Logf("zk%d killed with peers blocked: the others answer not serving, margin -1", leader.ID)

	statusLost(t, cluster, config)
	response, err := client.Get(base + "/status")
	if err != nil {
		t.Fatal(err)
	}
	page, err := io.ReadAll(response.Body)
	response.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if section := fmt.Sprintf("data-ensemble=%q data-health=%q", name, "lost"); !strings.Contains(string(page), section) ||
		!strings.Contains(string(page), ">LOST<") {
		t.Errorf("status page: no %s with LOST:\n%s", section, page)
	}
}

// statusLost runs the status command inside the namespace until it exits
// 4 (quorum lost), as the exporter's next probes should already say.
func statusLost(t *testing.T, cluster *zkcluster.Cluster, config string) {
	t.Helper()
	deadline := time.Now().Add(truthWithin)
	for {
		out, err := cluster.Exec(exporterBinary, "--config.file="+config, "status").CombinedOutput()
		var exit *exec.ExitError
		if !errors.As(err, &exit) && err != nil {
			t.Fatalf("status: %v", err)
		}
		if exit != nil && exit.ExitCode() == 4 {
			t.Logf("status exits 4:\n%s", out)
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("status exits %v, want 4:\n%s", err, out)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// startExporterIn runs the exporter where the cluster's members are (its
// network namespace) and waits until it answers there. The process is
// killed and reaped in t.Cleanup, before the cluster closes.
func startExporterIn(t *testing.T, cluster *zkcluster.Cluster, args ...string) (base string) {
	t.Helper()
	address, err := cluster.FreeAddress()
	if err != nil {
		t.Fatal(err)
	}
	cmd := cluster.Exec(exporterBinary, append([]string{"--web.listen-address=" + address}, args...)...)
	logs := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})
	logOnFailure(t, "exporter", logs)
	base = "http://" + address
	client := cluster.HTTPClient()
	pollUntil(t, "the exporter answering in the namespace", func() (bool, string) {
		select {
		case <-exited:
			t.Fatalf("exporter exited: %v\n%s", cmd.ProcessState, logs)
		default:
		}
		response, err := client.Get(base + "/-/healthy")
		if err != nil {
			return false, err.Error()
		}
		response.Body.Close()
		return response.StatusCode == http.StatusOK, response.Status
	})
	return base
}
