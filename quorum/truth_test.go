package quorum

import (
	"testing"

	"github.com/quorumwatch/zookeeper_exporter/zk"
)

// The cases of "the ensemble's own truth": each gave a wrong margin with the
// arithmetic of configured voters and simple majorities.

func voter(id int, mode zk.Mode) Member {
	m := Member{ID: id, Voter: true, Up: mode != zk.ModeUnknown, Mode: mode}
	if mode.Serving() {
		m.Zxid, m.ZxidKnown = zk.Zxid(1<<32|100), true
	}
	return m
}

func ids(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i + 1
	}
	return out
}

func groupedRule(t *testing.T, groups ...[]int) Rule {
	t.Helper()
	var voters []Voter
	for g, members := range groups {
		for _, id := range members {
			voters = append(voters, Voter{ID: id, Group: g + 1, Weight: 1})
		}
	}
	r, err := Hierarchical(voters)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestTruthMargins(t *testing.T) {
	ns, down := zk.ModeNotServing, zk.ModeUnknown
	leader, follower := zk.ModeLeader, zk.ModeFollower
	withCount := func(m Member, count int) Member { m.LeaderVoters = count; return m }
	removed := func(m Member) Member { m.Voter = false; return m }
	threeByThree := groupedRule(t, []int{1, 2, 3}, []int{4, 5, 6}, []int{7, 8, 9})
	nine := func(modes ...zk.Mode) []Member {
		out := make([]Member, len(modes))
		for i, mode := range modes {
			out[i] = voter(i+1, mode)
		}
		return out
	}
	tests := []struct {
		name       string
		members    []Member
		voters     VoterSet
		wantMargin int
		wantHealth Health
	}{
		{"stuck election, 3 voters all answering", []Member{voter(1, ns), voter(2, ns), voter(3, ns)}, VoterSet{}, -1, HealthLost},
		{"stuck election, 5 voters all answering", []Member{voter(1, ns), voter(2, ns), voter(3, ns), voter(4, ns), voter(5, ns)}, VoterSet{}, -1, HealthLost},
		{"reconfig 3 to 5, the two new voters down and unseen",
			[]Member{withCount(voter(1, leader), 3), voter(2, follower), voter(3, follower)},
			VoterSet{Rule: Majority(ids(5)), Unseen: []int{4, 5}}, 0, HealthAtRisk},
		{"reconfig 5 to 3, removed members still answering follower",
			[]Member{withCount(voter(1, leader), 3), voter(2, follower), voter(3, follower), removed(voter(4, follower)), removed(voter(5, follower))},
			VoterSet{Rule: Majority(ids(3))}, 1, HealthHealthy},
		{"hierarchical 3x3 healthy", nine(leader, follower, follower, follower, follower, follower, follower, follower, follower),
			VoterSet{Rule: threeByThree}, 3, HealthHealthy},
		{"hierarchical 3x3, two of group 1 down", nine(leader, down, down, follower, follower, follower, follower, follower, follower),
			VoterSet{Rule: threeByThree}, 1, HealthDegraded},
		{"hierarchical 3x3, two of group 1 and one of group 2 down", nine(leader, down, down, down, follower, follower, follower, follower, follower),
			VoterSet{Rule: threeByThree}, 0, HealthAtRisk},
		{"the leader counts a voter the exporter cannot reach",
			[]Member{withCount(voter(1, leader), 3), voter(2, follower), voter(3, down)}, VoterSet{}, 1, HealthHealthy},
		{"the leader's count is short of quorum: no quorum",
			[]Member{withCount(voter(1, leader), 1), voter(2, follower), voter(3, follower)}, VoterSet{}, -1, HealthLost},
		{"standalone in an ensemble of several is no leader",
			[]Member{voter(1, zk.ModeStandalone), voter(2, ns), voter(3, ns)}, VoterSet{}, -1, HealthLost},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			a := Assess(test.members, test.voters, Options{})
			if a.Quorum.Margin != test.wantMargin || a.Health != test.wantHealth {
				t.Errorf("margin %d, health %s; want %d, %s (%+v)", a.Quorum.Margin, a.Health, test.wantMargin, test.wantHealth, a.Quorum)
			}
		})
	}
}

// Among leaders of one epoch, the one giving the smaller margin counts,
// whatever the order of the configuration.
func TestTwoLeadersOrderDoesNotMatter(t *testing.T) {
	big, small := voter(1, zk.ModeLeader), voter(2, zk.ModeLeader)
	big.LeaderVoters, small.LeaderVoters = 3, 2
	third := voter(3, zk.ModeFollower)
	for _, order := range [][]Member{{big, small, third}, {small, big, third}} {
		if got := Evaluate(order, VoterSet{}); got.Margin != 0 || got.Leaders != 2 {
			t.Errorf("order %v: margin %d, leaders %d; want 0, 2", []int{order[0].ID, order[1].ID}, got.Margin, got.Leaders)
		}
	}
}

// Losing a datacenter counts the voter set in force, not the modes: a
// member removed by reconfig still answers follower in datacenter a.
func TestDatacenterLossCountsTheVoterSet(t *testing.T) {
	leaderA, removedA := voter(1, zk.ModeLeader), voter(4, zk.ModeFollower)
	removedA.Voter = false
	b1, b2 := voter(2, zk.ModeFollower), voter(3, zk.ModeFollower)
	leaderA.Datacenter, removedA.Datacenter, b1.Datacenter, b2.Datacenter = "a", "a", "b", "b"
	a := Assess([]Member{leaderA, removedA, b1, b2}, VoterSet{Rule: Majority(ids(3))}, Options{})
	for _, dc := range a.Datacenters {
		if dc.Datacenter == "b" && dc.Margin != -1 {
			t.Errorf("losing datacenter b leaves margin %d, want -1", dc.Margin)
		}
	}
}

// Which voters the leader counts is unknown: the margin assumes the worst.
// A hierarchical 3x3 ensemble with a leader counting 7 voters but the
// exporter seeing only 6 serving: the unseen one may be anywhere.
func TestLeaderCountWorstCaseHierarchical(t *testing.T) {
	rule := groupedRule(t, []int{1, 2, 3}, []int{4, 5, 6}, []int{7, 8, 9})
	members := []Member{voter(1, zk.ModeLeader), voter(2, zk.ModeFollower), voter(3, zk.ModeUnknown),
		voter(4, zk.ModeFollower), voter(5, zk.ModeUnknown), voter(6, zk.ModeUnknown),
		voter(7, zk.ModeFollower), voter(8, zk.ModeFollower), voter(9, zk.ModeFollower)}
	members[0].LeaderVoters = 7
	// Known in quorum: 1,2 | 4 | 7,8,9. One more of 3, 5, 6: the worst is
	// 3 (group 1 already holds its majority), leaving group 2 with one.
	// Quorum: groups 1 and 3 hold; breaking either costs 2 (group 1: 1,2 or
	// 1,3 ... two of three present) or group 3 (two of three): margin 1.
	if got := Evaluate(members, VoterSet{Rule: rule}); got.Margin != 1 || got.VotersInQuorum != 7 || got.VotersUnseenSynced != 1 {
		t.Errorf("got %+v, want margin 1, 7 in quorum, 1 unseen synced", got)
	}
}
