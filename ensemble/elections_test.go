package ensemble

import (
	"testing"
	"time"

	"github.com/quorumwatch/zookeeper_exporter/config"
	"github.com/quorumwatch/zookeeper_exporter/zk"
)

func TestNextElections(t *testing.T) {
	start := time.Unix(1000, 0)
	leading := func(address string, epoch uint32) *ProbedMember {
		return &ProbedMember{Member: &config.Member{Address: address}, Mode: zk.ModeLeader, Zxid: zk.Zxid(uint64(epoch) << 32), ZxidKnown: true}
	}
	type round struct {
		at     time.Duration
		leader *ProbedMember // nil: none
	}
	type want struct {
		changes uint64
		hasLast bool
		last    time.Duration
	}
	tests := []struct {
		name   string
		rounds []round
		want   want
	}{
		{"one leader throughout", []round{{0, leading("a", 1)}, {time.Second, leading("a", 1)}}, want{0, false, 0}},
		{"leaderless from the start: no change seen", []round{{0, nil}, {time.Second, leading("a", 1)}}, want{0, false, 0}},
		{"another member leads after 2s without a leader", []round{{0, leading("a", 1)}, {time.Second, nil}, {2 * time.Second, nil}, {3 * time.Second, leading("b", 2)}}, want{1, true, 2 * time.Second}},
		{"a new leader by the next round", []round{{0, leading("a", 1)}, {time.Second, leading("b", 2)}}, want{1, true, 0}},
		{"the same member elected again, new epoch", []round{{0, leading("a", 1)}, {time.Second, nil}, {1500 * time.Millisecond, leading("a", 2)}}, want{1, true, 500 * time.Millisecond}},
		{"two elections: the last one's length", []round{{0, leading("a", 1)}, {time.Second, nil}, {4 * time.Second, leading("b", 2)}, {5 * time.Second, nil}, {6 * time.Second, leading("c", 3)}}, want{2, true, time.Second}},
		{"a leaderless round that ends with the same leader and epoch", []round{{0, leading("a", 1)}, {time.Second, nil}, {2 * time.Second, leading("a", 1)}}, want{0, false, 0}},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			var e Elections
			for _, r := range test.rounds {
				e = e.next(start.Add(r.at), r.leader)
			}
			if got := (want{e.Changes, e.HasLast, e.LastElection}); got != test.want {
				t.Errorf("elections = %+v, want %+v", got, test.want)
			}
		})
	}
}
