// Package quorum is the arithmetic of ZooKeeper voting: quorum size, fault
// tolerance and the quorum margin, from what each member said. It does no I/O.
package quorum

import "github.com/quorumwatch/zookeeper_exporter/zk"

// Member is what one probe round learned about one configured member.
type Member struct {
	Voter bool // configured role; observers never count
	Up    bool // the process answered at all
	Mode  zk.Mode
	Epoch uint32 // zxid epoch, to pick the current leader if two claim it
	// LeaderNotServing marks a member that answers "not serving" but leads
	// (leaderServes=no), as its AdminServer says.
	LeaderNotServing bool
	// LeaderVoters is, on a leader that answered mntr, the voters in its
	// quorum including itself; 0 when unknown.
	LeaderVoters int
}

// Ensemble is the quorum state of one ensemble.
type Ensemble struct {
	Voters         int
	Observers      int
	QuorumSize     int
	FaultTolerance int // by design: Voters - QuorumSize
	VotersUp       int // voters that answer at all
	VotersInQuorum int // voters serving in the current quorum; 0 without a leader
	Leaders        int // members reporting leader (a standalone server leads itself)
	// LeaderHidden is set when voters follow a leader that does not say so
	// (leaderServes=no makes a leader answer "not serving").
	LeaderHidden bool
	// Margin is how many more voters can be lost before quorum breaks:
	// 0 = the next voter loss breaks it; negative = lost.
	Margin int
}

// HasQuorum reports whether the ensemble has, or can form, a quorum.
func (e Ensemble) HasQuorum() bool { return e.Margin >= 0 }

// QuorumSize is the majority of voters: floor(voters/2)+1.
func QuorumSize(voters int) int { return voters/2 + 1 }

// Evaluate computes the ensemble's quorum state.
//
// With a serving leader, the voters in quorum are the configured voters that
// answer as leader or follower, capped by the leader's own count when it
// answered mntr: a voter we reach but the leader has lost does not count.
// Without one (an election, or quorum lost) the margin is the voters that
// answer at all minus the quorum size: what an election could still gather.
func Evaluate(members []Member) Ensemble {
	var ensemble Ensemble
	var leader *Member
	serving := 0
	for i := range members {
		member := &members[i]
		if !member.Voter {
			ensemble.Observers++
			if member.Up && member.Mode == zk.ModeLeader {
				ensemble.Leaders++ // wrong, but worth showing
			}
			continue
		}
		ensemble.Voters++
		if !member.Up {
			continue
		}
		ensemble.VotersUp++
		switch member.Mode {
		case zk.ModeLeader, zk.ModeStandalone:
			ensemble.Leaders++
			serving++
			if leader == nil || member.Epoch > leader.Epoch {
				leader = member
			}
		case zk.ModeFollower:
			serving++
		case zk.ModeNotServing:
			if member.LeaderNotServing {
				ensemble.LeaderHidden = true
				serving++
			}
		}
	}
	ensemble.QuorumSize = QuorumSize(ensemble.Voters)
	ensemble.FaultTolerance = ensemble.Voters - ensemble.QuorumSize

	switch {
	case leader != nil:
		ensemble.VotersInQuorum = serving
		if leader.LeaderVoters > 0 && leader.LeaderVoters < serving {
			ensemble.VotersInQuorum = leader.LeaderVoters
		}
	case ensemble.LeaderHidden:
		// The AdminServer named the non-serving leader; it is counted.
		ensemble.VotersInQuorum = serving
	case serving > 0:
		// Followers serve only when synced with a leader, and that leader is
		// a voter: it is here, answering "not serving" or not at all.
		ensemble.LeaderHidden = true
		ensemble.VotersInQuorum = serving + 1
	}
	if ensemble.VotersInQuorum > 0 {
		ensemble.Margin = ensemble.VotersInQuorum - ensemble.QuorumSize
	} else {
		ensemble.Margin = ensemble.VotersUp - ensemble.QuorumSize
	}
	return ensemble
}
