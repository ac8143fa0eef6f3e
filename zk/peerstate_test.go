package zk

import "testing"

func TestZabState(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"following - broadcast", ZabBroadcast},
		{"leading - broadcast", ZabBroadcast},
		{"observing - broadcast", ZabBroadcast},
		{"following - synchronization - diff", ZabSynchronization},
		{"leading - discovery", ZabDiscovery},
		{"looking", ZabElection},
		{"", ""},
		{"following - dancing", ""},
		{"following", ""},
	} {
		if got := ZabState(tc.in); got != tc.want {
			t.Errorf("ZabState(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
