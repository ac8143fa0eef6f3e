package e2e

import (
	"testing"

	"github.com/quorumwatch/zookeeper_exporter/internal/zkcluster"
)

// Weight-0 participants (group.1=1:2:3:4:5, weight.4=0, weight.5=0) are in
// the voting view and in the leader's zk_synced_followers, but weigh
// nothing: three voters of weight 1 need two, so the margin is 1 with every
// member up, still 1 once both weight-0 members are gone, and 0 after a
// weighted follower.
func TestWeightZeroParticipants(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a real ZooKeeper ensemble")
	}
	const name = "weight-zero"
	cluster := zkcluster.StartT(t, zkcluster.Options{Voters: 5, Groups: [][]int{{1, 2, 3, 4, 5}}, Weights: map[int]int{4: 0, 5: 0}})
	base, logs, _ := startExporter(t, "--zookeeper.zoo-cfg="+cluster.ZooCfgPath(), "--zookeeper.ensemble="+name,
		"--zookeeper.timeout=3s", "--web.timeout-offset=100ms")
	logOnFailure(t, "exporter", logs)
	metrics := base + "/metrics"

	eventually(t, metrics, truthWithin, ensembleIs(name, map[string]float64{
		"voters": 3, "quorum_size": 2, "fault_tolerance": 1, "hierarchical_quorum": 1, "quorum_margin": 1,
	}))
	killT(t, cluster, cluster.Member(4), cluster.Member(5))
	eventually(t, metrics, truthWithin, ensembleIs(name, map[string]float64{"voters_up": 3, "quorum_margin": 1}))
	// ZooKeeper never elects a weight-0 voter, so the leader is 1, 2 or 3.
	killT(t, cluster, killFollowerOf(t, cluster, 1, 2, 3))
	eventually(t, metrics, truthWithin, ensembleIs(name, map[string]float64{"voters_up": 2, "voters_in_quorum": 2, "quorum_margin": 0}))
}

// killFollowerOf returns a member among ids that does not lead.
func killFollowerOf(t *testing.T, cluster *zkcluster.Cluster, ids ...int) *zkcluster.Member {
	t.Helper()
	leader := cluster.LeaderT(t)
	for _, id := range ids {
		if id != leader.ID {
			return cluster.Member(id)
		}
	}
	t.Fatalf("every one of %v leads", ids)
	return nil
}
