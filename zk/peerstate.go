package zk

import "strings"

// Zab phases a member goes through (ZooKeeper's QuorumPeer.ZabState), as
// mntr's zk_peer_state names them from 3.6 on: "following - broadcast",
// "leading - synchronization", "observing - discovery - diff".
const (
	ZabElection        = "election"
	ZabDiscovery       = "discovery"
	ZabSynchronization = "synchronization"
	ZabBroadcast       = "broadcast"
)

// ZabStates lists every phase, in the order a member goes through them.
var ZabStates = []string{ZabElection, ZabDiscovery, ZabSynchronization, ZabBroadcast}

// ZabState returns the phase in a zk_peer_state value, "" when the value
// names none. ZooKeeper leaves the phase out while electing ("looking"),
// and appends the sync mode (diff, snap, trunc) while syncing.
func ZabState(peerState string) string {
	parts := strings.Split(peerState, " - ")
	if strings.TrimSpace(parts[0]) == "" {
		return ""
	}
	if len(parts) == 1 {
		if strings.TrimSpace(parts[0]) == "looking" {
			return ZabElection
		}
		return ""
	}
	phase := strings.TrimSpace(parts[1])
	for _, state := range ZabStates {
		if phase == state {
			return state
		}
	}
	return ""
}
