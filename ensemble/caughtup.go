package ensemble

import (
	"fmt"

	"github.com/quorumwatch/zookeeper_exporter/quorum"
	"github.com/quorumwatch/zookeeper_exporter/zk"
)

// CaughtUp reports whether the round's i-th member has caught up with the
// leader: it serves in its role, mntr (where the member answers it with
// zk_peer_state, 3.6+) puts it in Zab's broadcast phase, and its zxid lacks
// at most quorum.DefaultMaxLag of the leader's transactions in the leader's
// epoch (quorum.CaughtUp). The leader is caught up when it serves. Whether
// the leader counts the member among its synced followers shows only as a
// count, not by name: waits check it through the margin instead.
func (r *Round) CaughtUp(i int) bool {
	ok, _, _ := r.caughtUp(i)
	return ok
}

// CaughtUpReason says how far the member is from the leader, or why it
// has not caught up.
func (r *Round) CaughtUpReason(i int) string {
	ok, why, lag := r.caughtUp(i)
	m := r.Members[i]
	switch why {
	case lagDown:
		return "down"
	case lagNotServing:
		return fmt.Sprintf("not serving (%s)", m.Mode)
	case lagZab:
		return fmt.Sprintf("in Zab's %s phase, not broadcast", m.ZabState)
	case lagLeader:
		return "leader"
	case lagNoLeader:
		return "no leader serves"
	}
	switch {
	case !ok:
		return fmt.Sprintf("%d transactions behind the leader", lag)
	case lag == 0:
		return "at the leader's zxid"
	}
	return fmt.Sprintf("%d transactions behind the leader, within %d", lag, quorum.DefaultMaxLag)
}

// Why caughtUp decided as it did, when not by the lag.
const (
	byLag = iota
	lagDown
	lagNotServing
	lagZab
	lagLeader
	lagNoLeader
)

// caughtUp decides without formatting anything: the collector asks it for
// every member of every scrape.
func (r *Round) caughtUp(i int) (ok bool, why int, lag uint64) {
	m := r.Members[i]
	leader := r.Assessment.Leader
	switch {
	case !m.Up:
		return false, lagDown, 0
	case !m.Mode.Serving() && i != leader:
		return false, lagNotServing, 0
	case m.ZabState != "" && m.ZabState != zk.ZabBroadcast:
		return false, lagZab, 0
	case i == leader:
		return true, lagLeader, 0
	case leader < 0:
		return false, lagNoLeader, 0
	}
	ok, lag = quorum.CaughtUp(m.quorumMember(), r.Members[leader].quorumMember(), quorum.DefaultMaxLag)
	return ok, byLag, lag
}
