package zkmodel_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/quorumwatch/zookeeper_exporter/internal/zkmodel"
	"github.com/quorumwatch/zookeeper_exporter/internal/zktest"
	"github.com/quorumwatch/zookeeper_exporter/zk"
)

// The model speaks each release as real members of it do: its answers,
// parsed by the exporter's own parsers, say what the captured answers of
// that release say (zk/testdata/<release>/), state by state.
func TestModelSpeaksEachRelease(t *testing.T) {
	for _, release := range zkmodel.Releases {
		t.Run(release, func(t *testing.T) {
			if _, err := os.Stat(filepath.Join(zktest.TestData(), release)); err != nil {
				t.Fatalf("no captures of %s: %v", release, err)
			}
			// As captured: 3 voters and an observer, every word allowed.
			e := &zkmodel.Ensemble{LeaderServes: true, ConfigVersion: 0x100000000, Servers: servers(3, 1, release)}
			e.Settle()
			leader := e.Leader().ID
			follower := 1 + leader%3
			compareWith(t, release, "leader", e, leader)
			compareWith(t, release, "follower", e, follower)
			compareWith(t, release, "observer", e, 4)
			if strings.HasPrefix(release, "3.4.") {
				return
			}
			// As captured: 3 voters, the follower removed by reconfig goes on
			// following.
			e = &zkmodel.Ensemble{LeaderServes: true, ConfigVersion: 0x100000000, Servers: servers(3, 0, release)}
			e.Settle()
			removed := 1 + e.Leader().ID%3
			e.Server(removed).Member = false
			e.Settle()
			compareWith(t, release, "reconfig_leader", e, e.Leader().ID)
			compareWith(t, release, "reconfig_removed", e, removed)
		})
	}
}

// compareWith compares server id's answers with the capture of a member of
// release in state.
func compareWith(t *testing.T, release, state string, e *zkmodel.Ensemble, id int) {
	t.Helper()
	captured := func(word string) string {
		answer, err := zktest.Captured(filepath.Join(release, state), word)
		if err != nil {
			t.Fatal(err)
		}
		return string(answer)
	}
	model := func(word string) string { return e.Answer(id, word) }

	realSrvr, err1 := zk.ParseSrvr([]byte(captured("srvr")))
	modelSrvr, err2 := zk.ParseSrvr([]byte(model("srvr")))
	if err1 != nil || err2 != nil {
		t.Fatalf("%s srvr: %v / model: %v", state, err1, err2)
	}
	if realSrvr.Mode != modelSrvr.Mode || realSrvr.Version != modelSrvr.Version {
		t.Errorf("%s srvr: mode %s version %s, the model %s %s", state, realSrvr.Mode, realSrvr.Version, modelSrvr.Mode, modelSrvr.Version)
	}
	if a, b := fractional(captured("srvr")), fractional(model("srvr")); a != b {
		t.Errorf("%s srvr: a fractional average latency %v, the model's %v", state, a, b)
	}

	realMntr, err1 := zk.ParseMntr([]byte(captured("mntr")))
	modelMntr, err2 := zk.ParseMntr([]byte(model("mntr")))
	if err1 != nil || err2 != nil {
		t.Fatalf("%s mntr: %v / model: %v", state, err1, err2)
	}
	for _, key := range []string{"zk_quorum_size", "zk_synced_followers", "zk_synced_non_voting_followers", "zk_synced_observers", "zk_learners", "zk_followers"} {
		a, hasA := realMntr.Number(key)
		b, hasB := modelMntr.Number(key)
		if hasA != hasB || a != b {
			t.Errorf("%s mntr %s: %v (sent %v), the model %v (sent %v)", state, key, a, hasA, b, hasB)
		}
	}
	if a, b := realMntr.ServerState, modelMntr.ServerState; a != b {
		t.Errorf("%s mntr server state %s, the model's %s", state, a, b)
	}
	if a, b := realMntr.PeerState != "", modelMntr.PeerState != ""; a != b {
		t.Errorf("%s mntr zk_peer_state sent %v, by the model %v", state, a, b)
	}
	realVoters, okA := realMntr.LeaderVoters()
	modelVoters, okB := modelMntr.LeaderVoters()
	if realVoters != modelVoters || okA != okB || realMntr.LeaderVotersExact() != modelMntr.LeaderVotersExact() {
		t.Errorf("%s: the leader's count %d (%v, exact %v), the model's %d (%v, exact %v)", state,
			realVoters, okA, realMntr.LeaderVotersExact(), modelVoters, okB, modelMntr.LeaderVotersExact())
	}

	realConf, err1 := zk.ParseConf([]byte(captured("conf")))
	modelConf, err2 := zk.ParseConf([]byte(model("conf")))
	if err1 != nil || err2 != nil {
		t.Fatalf("%s conf: %v / model: %v", state, err1, err2)
	}
	if a, b := len(realConf.Voters()), len(modelConf.Voters()); a != b || len(realConf.Servers) != len(modelConf.Servers) {
		t.Errorf("%s conf: %d servers, %d voters; the model %d, %d", state, len(realConf.Servers), a, len(modelConf.Servers), b)
	}
	if a, b := realConf.Version != "", modelConf.Version != ""; a != b {
		t.Errorf("%s conf: version= present %v, in the model's %v", state, a, b)
	}
}

// fractional: srvr's average latency is written as a double (3.6+).
func fractional(srvr string) bool {
	for _, line := range strings.Split(srvr, "\n") {
		if rest, ok := strings.CutPrefix(line, "Latency min/avg/max: "); ok {
			parts := strings.Split(rest, "/")
			return len(parts) == 3 && strings.ContainsAny(parts[1], ".E")
		}
	}
	return false
}
