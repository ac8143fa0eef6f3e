package quorum

import (
	"testing"

	"github.com/quorumwatch/zookeeper_exporter/zk"
)

// Shorthands for table rows.
var (
	leader     = Member{Voter: true, Up: true, Mode: zk.ModeLeader, Zxid: 1 << 32, ZxidKnown: true}
	follower   = Member{Voter: true, Up: true, Mode: zk.ModeFollower, Zxid: 1 << 32, ZxidKnown: true}
	notServing = Member{Voter: true, Up: true, Mode: zk.ModeNotServing}
	voterDown  = Member{Voter: true, Mode: zk.ModeUnknown}
	observer   = Member{Up: true, Mode: zk.ModeObserver, Zxid: 1 << 32, ZxidKnown: true}
	obsDown    = Member{Mode: zk.ModeUnknown}
	// obsNotServing is an observer that has noticed the quorum is gone.
	obsNotServing = Member{Up: true, Mode: zk.ModeNotServing}
)

func withLeaderVoters(m Member, voters int) Member { m.LeaderVoters = voters; return m }

func TestEvaluate(t *testing.T) {
	tests := []struct {
		name    string
		members []Member
		want    Ensemble
	}{
		{
			name:    "5 voters and an observer, healthy",
			members: []Member{leader, follower, follower, follower, follower, observer},
			want:    Ensemble{Voters: 5, Observers: 1, QuorumSize: 3, FaultTolerance: 2, VotersUp: 5, VotersInQuorum: 5, Leaders: 1, Margin: 2},
		},
		{
			// No leader serves: no quorum, whatever answers. One voter
			// must come back (or the election end) before it serves.
			name:    "leader stopped, election under way",
			members: []Member{voterDown, notServing, notServing, notServing, notServing, observer},
			want:    Ensemble{Voters: 5, Observers: 1, QuorumSize: 3, FaultTolerance: 2, VotersUp: 4, Margin: -1},
		},
		{
			name:    "leader stopped, new leader elected",
			members: []Member{voterDown, leader, follower, follower, follower, observer},
			want:    Ensemble{Voters: 5, Observers: 1, QuorumSize: 3, FaultTolerance: 2, VotersUp: 4, VotersInQuorum: 4, Leaders: 1, Margin: 1},
		},
		{
			name:    "two voters lost: the next loss breaks quorum",
			members: []Member{voterDown, leader, voterDown, follower, follower, observer},
			want:    Ensemble{Voters: 5, Observers: 1, QuorumSize: 3, FaultTolerance: 2, VotersUp: 3, VotersInQuorum: 3, Leaders: 1, Margin: 0},
		},
		{
			name:    "three voters lost: quorum lost, survivors not serving",
			members: []Member{voterDown, notServing, voterDown, voterDown, notServing, obsNotServing},
			want:    Ensemble{Voters: 5, Observers: 1, QuorumSize: 3, FaultTolerance: 2, VotersUp: 2, Margin: -1},
		},
		{
			// An observer serves only while a leader holds a quorum: here a
			// leaderServes=no leader with two followers out of reach.
			name:    "three voters unreachable, an observer serving",
			members: []Member{voterDown, notServing, voterDown, voterDown, notServing, observer},
			want:    Ensemble{Voters: 5, Observers: 1, QuorumSize: 3, FaultTolerance: 2, VotersUp: 2, VotersInQuorum: 3, LeaderHidden: true, Margin: 0},
		},
		{
			name:    "observer lost: margin unchanged",
			members: []Member{leader, follower, follower, follower, follower, obsDown},
			want:    Ensemble{Voters: 5, Observers: 1, QuorumSize: 3, FaultTolerance: 2, VotersUp: 5, VotersInQuorum: 5, Leaders: 1, Margin: 2},
		},
		{
			name:    "a voter the exporter reaches but the leader lost does not count",
			members: []Member{withLeaderVoters(leader, 2), follower, follower},
			want:    Ensemble{Voters: 3, QuorumSize: 2, FaultTolerance: 1, VotersUp: 3, VotersInQuorum: 2, Leaders: 1, Margin: 0},
		},
		{
			// The exporter cannot reach the third voter, but the leader
			// counts it synced: its word wins, never beyond the voters.
			name:    "the leader's count raises the number",
			members: []Member{withLeaderVoters(leader, 5), follower, voterDown},
			want:    Ensemble{Voters: 3, QuorumSize: 2, FaultTolerance: 1, VotersUp: 2, VotersInQuorum: 3, VotersUnseenSynced: 1, Leaders: 1, Margin: 1},
		},
		{
			name:    "leaderServes=no: followers serve, so a hidden leader exists",
			members: []Member{notServing, follower, follower},
			want:    Ensemble{Voters: 3, QuorumSize: 2, FaultTolerance: 1, VotersUp: 3, VotersInQuorum: 3, LeaderHidden: true, Margin: 1},
		},
		{
			name:    "leaderServes=no, named by the AdminServer",
			members: []Member{{Voter: true, Up: true, Mode: zk.ModeNotServing, LeaderNotServing: true}, follower, voterDown},
			want:    Ensemble{Voters: 3, QuorumSize: 2, FaultTolerance: 1, VotersUp: 2, VotersInQuorum: 2, LeaderHidden: true, Margin: 0},
		},
		{
			name:    "two leaders: the newer epoch caps",
			members: []Member{withLeaderVoters(leader, 3), withLeaderVoters(Member{Voter: true, Up: true, Mode: zk.ModeLeader, Zxid: 2 << 32, ZxidKnown: true}, 2), follower},
			want:    Ensemble{Voters: 3, QuorumSize: 2, FaultTolerance: 1, VotersUp: 3, VotersInQuorum: 2, Leaders: 2, Margin: 0},
		},
		{
			name:    "standalone server",
			members: []Member{{Voter: true, Up: true, Mode: zk.ModeStandalone}},
			want:    Ensemble{Voters: 1, QuorumSize: 1, VotersUp: 1, VotersInQuorum: 1, Leaders: 1, Margin: 0},
		},
		{
			name:    "even voter count tolerates no more than the odd one below",
			members: []Member{leader, follower, follower, follower},
			want:    Ensemble{Voters: 4, QuorumSize: 3, FaultTolerance: 1, VotersUp: 4, VotersInQuorum: 4, Leaders: 1, Margin: 1},
		},
		{
			name:    "everything down",
			members: []Member{voterDown, voterDown, voterDown},
			want:    Ensemble{Voters: 3, QuorumSize: 2, FaultTolerance: 1, Margin: -2},
		},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			got := Evaluate(test.members, VoterSet{})
			if got != test.want {
				t.Errorf("Evaluate() =\n %+v\nwant\n %+v", got, test.want)
			}
		})
	}
}
