package e2e

import (
	"fmt"
	"testing"

	"github.com/quorumwatch/zookeeper_exporter/internal/zkcluster"
)

// An observer configured as a voter, on members that whitelist only srvr
// (ZooKeeper 3.5+'s default): while it answers "Mode: observer" it does not
// vote, and once it is killed the exporter remembers what it said rather
// than count a lost voter. Margin 1 throughout, and no critical alert in a
// real Prometheus running the generated rules.
func TestObserverConfiguredAsVoter(t *testing.T) {
	if testing.Short() {
		t.Skip("starts ZooKeeper and Prometheus")
	}
	const name = "observer-as-voter"
	prometheusBinary := lookTool(t, "prometheus", "prometheus")
	cluster := zkcluster.StartT(t, zkcluster.Options{Voters: 3, Observers: 1,
		Whitelist: map[int]string{1: "srvr", 2: "srvr", 3: "srvr", 4: "srvr"}})
	var members string
	for _, m := range cluster.Members() {
		members += fmt.Sprintf("      - {address: %q}\n", m.ClientAddr) // no role: all taken for voters
	}
	config := writeConfig(t, "ensembles:\n  - name: %s\n    discover: off\n    members:\n%s", name, members)
	base, logs, _ := startExporter(t, "--config.file="+config, "--zookeeper.timeout=1s")
	logOnFailure(t, "exporter", logs)
	dir := t.TempDir()
	prometheus, prometheusLogs := startPrometheus(t, prometheusBinary, dir, generateRules(t, dir), []string{hostPort(base)}, freePort(t))
	logOnFailure(t, "prometheus", prometheusLogs)

	want := map[string]float64{"voters": 3, "observers": 1, "quorum_margin": 1}
	eventually(t, base+"/metrics", truthWithin, func(scrape *exposition) error {
		return expectValues(scrape, prefixed(want), map[string]string{"ensemble": name})
	})
	noCriticalSince(t, prometheus, name, 1)

	observer := cluster.Member(4)
	killT(t, cluster, observer)
	eventually(t, base+"/metrics", truthWithin, func(scrape *exposition) error {
		return expectValues(scrape, map[string]float64{"zookeeper_up": 0}, map[string]string{"ensemble": name, "member": observer.ClientAddr})
	})
	eventually(t, base+"/metrics", truthWithin, func(scrape *exposition) error {
		return expectValues(scrape, prefixed(want), map[string]string{"ensemble": name})
	})
	noCriticalSince(t, prometheus, name, 1)
}

// prefixed names ensemble figures in full.
func prefixed(figures map[string]float64) map[string]float64 {
	out := make(map[string]float64, len(figures))
	for figure, value := range figures {
		out["zookeeper_ensemble_"+figure] = value
	}
	return out
}
