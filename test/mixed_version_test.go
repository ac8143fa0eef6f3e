package e2e

import (
	"slices"
	"testing"
	"time"

	"github.com/quorumwatch/zookeeper_exporter/internal/zkcluster"
)

// TestMixedVersionEnsemble: five voters in the middle of an upgrade, three
// still on Debian's 3.8.0 and two on 3.9.5 from Maven Central, serve as one
// ensemble: margin 2, and every member's version label says what it runs.
func TestMixedVersionEnsemble(t *testing.T) {
	const upgraded = "3.9.5"
	cluster := zkcluster.StartT(t, zkcluster.Options{
		Voters: 5, Release: zkcluster.DebianRelease,
		MemberReleases: map[int]string{4: upgraded, 5: upgraded},
	})
	base, _, _ := startExporter(t, "--config.file="+writeClusterConfig(t, "upgrade", cluster, 2*time.Second))
	scrape := eventually(t, base+"/metrics", 60*time.Second, func(scrape *exposition) error {
		return expectValues(scrape, map[string]float64{
			"zookeeper_ensemble_voters":           5,
			"zookeeper_ensemble_voters_in_quorum": 5,
			"zookeeper_ensemble_leaders":          1,
			"zookeeper_ensemble_quorum_margin":    2,
		}, map[string]string{"ensemble": "upgrade"})
	})
	versions := map[string]int{}
	for _, member := range cluster.Members() {
		want := member.Release.Version
		got := scrape.labelValues("zookeeper_version_info", "version", map[string]string{"ensemble": "upgrade", "member": member.ClientAddr}, 1)
		if !slices.Equal(got, []string{want}) {
			t.Errorf("zk%d version = %v, it runs %s", member.ID, got, want)
		}
		versions[want]++
	}
	if versions["3.8.0"] != 3 || versions[upgraded] != 2 {
		t.Errorf("members by release %v, want three on 3.8.0 and two on %s", versions, upgraded)
	}
}
