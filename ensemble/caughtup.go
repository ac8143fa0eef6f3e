package ensemble

import (
	"fmt"

	"github.com/quorumwatch/zookeeper_exporter/quorum"
	"github.com/quorumwatch/zookeeper_exporter/zk"
)

// CaughtUp reports whether the round's i-th member has caught up with the
// leader, and when not, why: it serves in its role, mntr (where the member
// answers it with zk_peer_state, 3.6+) puts it in Zab's broadcast phase,
// and its zxid lacks at most quorum.DefaultMaxLag of the leader's
// transactions in the leader's epoch (quorum.CaughtUp). The leader is
// caught up when it serves. Whether the leader counts the member among its
// synced followers shows only as a count, not by name: waits check it
// through the margin instead.
func (r *Round) CaughtUp(i int) (bool, string) {
	m := r.Members[i]
	leader := r.Assessment.Leader
	switch {
	case !m.Up:
		return false, "down"
	case !m.Mode.Serving() && i != leader:
		return false, fmt.Sprintf("not serving (%s)", m.Mode)
	case m.ZabState != "" && m.ZabState != zk.ZabBroadcast:
		return false, fmt.Sprintf("in Zab's %s phase, not broadcast", m.ZabState)
	case i == leader:
		return true, "leader"
	case leader < 0:
		return false, "no leader serves"
	}
	ok, lag := quorum.CaughtUp(m.quorumMember(), r.Members[leader].quorumMember(), quorum.DefaultMaxLag)
	if !ok {
		return false, fmt.Sprintf("%d transactions behind the leader", lag)
	}
	if lag == 0 {
		return true, "at the leader's zxid"
	}
	return true, fmt.Sprintf("%d transactions behind the leader, within %d", lag, quorum.DefaultMaxLag)
}
