package ensemble

import (
	"testing"

	"github.com/quorumwatch/zookeeper_exporter/config"
	"github.com/quorumwatch/zookeeper_exporter/quorum"
	"github.com/quorumwatch/zookeeper_exporter/zk"
)

func TestCaughtUp(t *testing.T) {
	member := func(mode zk.Mode, zxid uint64, zab string) *ProbedMember {
		return &ProbedMember{Member: &config.Member{Address: "m"}, Up: mode != zk.ModeUnknown, Mode: mode, Zxid: zk.Zxid(zxid), ZxidKnown: true, ZabState: zab, Voter: true}
	}
	leader := member(zk.ModeLeader, 0x2_00000bb8, zk.ZabBroadcast) // epoch 2, 3000 transactions
	tests := []struct {
		name   string
		peer   *ProbedMember
		leader int // index of the leader in [leader, peer], -1 for none
		want   bool
		reason string
	}{
		{"at the leader's zxid", member(zk.ModeFollower, 0x2_00000bb8, zk.ZabBroadcast), 0, true, "at the leader's zxid"},
		{"a few behind, within the lag", member(zk.ModeFollower, 0x2_00000bb3, ""), 0, true, "5 transactions behind the leader, within 1000"},
		{"2,000 behind", member(zk.ModeFollower, 0x2_000003e8, zk.ZabBroadcast), 0, false, "2000 transactions behind the leader"},
		{"an older epoch lacks all of the leader's", member(zk.ModeFollower, 0x1_00000010, zk.ZabBroadcast), 0, false, "3000 transactions behind the leader"},
		{"syncing", member(zk.ModeFollower, 0x2_00000bb8, zk.ZabSynchronization), 0, false, "in Zab's synchronization phase, not broadcast"},
		{"not serving", member(zk.ModeNotServing, 0, ""), 0, false, "not serving (not_serving)"},
		{"down", member(zk.ModeUnknown, 0, ""), 0, false, "down"},
		{"no leader", member(zk.ModeFollower, 0x2_00000bb8, zk.ZabBroadcast), -1, false, "no leader serves"},
		{"the observer", member(zk.ModeObserver, 0x2_00000bb8, zk.ZabBroadcast), 0, true, "at the leader's zxid"},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			r := &Round{Members: []*ProbedMember{leader, test.peer}, Assessment: quorum.Assessment{Leader: test.leader}}
			if got, reason := r.CaughtUp(1), r.CaughtUpReason(1); got != test.want || reason != test.reason {
				t.Errorf("caught up %v (%s), want %v (%s)", got, reason, test.want, test.reason)
			}
		})
	}
	r := &Round{Members: []*ProbedMember{leader}, Assessment: quorum.Assessment{Leader: 0}}
	if !r.CaughtUp(0) || r.CaughtUpReason(0) != "leader" {
		t.Errorf("the serving leader: caught up %v (%s)", r.CaughtUp(0), r.CaughtUpReason(0))
	}
}
