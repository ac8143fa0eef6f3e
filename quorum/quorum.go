// Package quorum is the arithmetic of ZooKeeper voting: quorum size, fault
// tolerance and the quorum margin, from what each member said. It does no I/O.
package quorum

import (
	"github.com/quorumwatch/zookeeper_exporter/zk"
)

// Member is what one probe round learned about one member, as the quorum
// arithmetic and the maintenance rules see it.
type Member struct {
	// Name identifies the member in reasons, usually its address.
	Name string
	// ID is the member's server id. 0 means unknown: Evaluate then gives it
	// an id of its own that no server has.
	ID         int
	Datacenter string
	// Voter: the member votes in the voter set in force. The caller decides,
	// from the ensemble's own voter set when it is known.
	Voter bool
	Up    bool // the process answered at all
	Mode  zk.Mode
	// Zxid is the member's last zxid; ZxidKnown is false when srvr did not
	// answer.
	Zxid      zk.Zxid
	ZxidKnown bool
	// LeaderNotServing marks a member that answers "not serving" but leads
	// (leaderServes=no), as its AdminServer says.
	LeaderNotServing bool
	// LeaderVoters is, on a leader that answered mntr, the voters in its
	// quorum including itself; 0 when unknown.
	LeaderVoters int
}

// Epoch is the epoch of the member's zxid, 0 when unknown.
func (m Member) Epoch() uint32 {
	if !m.ZxidKnown {
		return 0
	}
	return m.Zxid.Epoch()
}

// VoterSet is the voter set in force: the quorum rule and the voters that
// no member stands for (live voters missing from the configuration, which
// the exporter cannot see).
type VoterSet struct {
	// Rule decides quorums; the zero Rule is a simple majority of the
	// members marked Voter plus Unseen.
	Rule   Rule
	Unseen []int
}

// Ensemble is the quorum state of one ensemble.
type Ensemble struct {
	Voters         int // in the voter set, unseen ones included
	Observers      int // members that do not vote
	QuorumSize     int // fewest voters that can form a quorum
	FaultTolerance int // by design: voters that can be lost in the worst case
	VotersUp       int // voter members that answer at all
	// VotersInQuorum is the serving leader's own count when it gave one,
	// else the voters seen serving with it; 0 without a leader.
	VotersInQuorum int
	// VotersUnseenSynced is how many voters the leader counts in its quorum
	// beyond those the exporter sees serving.
	VotersUnseenSynced int
	Leaders            int // members reporting leader (a lone standalone server leads itself)
	// Standalone counts members answering standalone in an ensemble of
	// several: a misconfigured member, never the ensemble's leader.
	Standalone int
	// LeaderHidden is set when voters follow a leader that does not say so
	// (leaderServes=no makes a leader answer "not serving").
	LeaderHidden bool
	// Margin is how many more voters can be lost before quorum breaks:
	// 0 = the next voter loss can break it; negative = no quorum, by how
	// many voters must come back.
	Margin int
}

// HasQuorum reports whether a leader serves with a quorum.
func (e Ensemble) HasQuorum() bool { return e.Margin >= 0 }

// evaluation is Evaluate's working state, kept for the maintenance rules,
// which ask the same question with members taken away.
type evaluation struct {
	Ensemble
	rule   Rule
	leader int // index of the leader in the members, -1 if none (or hidden and unnamed)
	// inQuorum are voters known to be in the quorum; candidates are voters
	// that may be (unreachable or unseen); count is how many are in it.
	inQuorum   map[int]bool
	candidates map[int]bool
	count      int
	// up are the voters that answer, for the margin without a quorum.
	up map[int]bool
}

// Evaluate computes the ensemble's quorum state.
func Evaluate(members []Member, voters VoterSet) Ensemble {
	return evaluate(members, voters).Ensemble
}

func evaluate(members []Member, voters VoterSet) *evaluation {
	members = withIDs(members)
	e := &evaluation{rule: voters.Rule, leader: -1, inQuorum: map[int]bool{}, candidates: map[int]bool{}, up: map[int]bool{}}
	if e.rule.zero() {
		e.rule = Majority(voterIDs(members, voters.Unseen))
	}
	e.Voters = len(e.rule.Voters())
	e.QuorumSize = e.rule.QuorumSize()
	e.FaultTolerance = e.rule.FaultTolerance()
	for _, id := range voters.Unseen {
		e.candidates[id] = true
	}
	e.countMembers(members)
	e.leader = pickLeader(members, e)
	e.findQuorum(members)
	return e
}

// withIDs gives members of unknown id an id no server has, so that the
// rule can name them.
func withIDs(members []Member) []Member {
	out := make([]Member, len(members))
	for i, m := range members {
		if m.ID == 0 {
			m.ID = -(i + 1)
		}
		out[i] = m
	}
	return out
}

func voterIDs(members []Member, unseen []int) []int {
	ids := append([]int{}, unseen...)
	for _, m := range members {
		if m.Voter {
			ids = append(ids, m.ID)
		}
	}
	return ids
}

// countMembers counts roles and modes, and sorts voters into those that
// answer and those that may be in a quorum the exporter cannot see.
func (e *evaluation) countMembers(members []Member) {
	for _, m := range members {
		if m.Up && m.Mode == zk.ModeLeader {
			e.Leaders++
		}
		if m.Up && m.Mode == zk.ModeStandalone {
			if len(members) == 1 {
				e.Leaders++
			} else {
				e.Standalone++
			}
		}
		if !m.Voter {
			e.Observers++
			continue
		}
		if !m.Up {
			e.candidates[m.ID] = true
			continue
		}
		e.VotersUp++
		e.up[m.ID] = true
		if m.Mode == zk.ModeUnknown {
			// It answers, but not with a mode (srvr refused): it may serve.
			e.candidates[m.ID] = true
		}
	}
}

// leads reports whether the member may be the ensemble's leader.
func leads(m Member, members int) bool {
	return m.Voter && m.Up && (m.Mode == zk.ModeLeader || m.Mode == zk.ModeStandalone && members == 1)
}

// pickLeader chooses the serving leader: the newest epoch, and among equal
// epochs the one giving the smaller margin, so that nothing depends on the
// order of the configuration. -1 if no voter says leader.
func pickLeader(members []Member, e *evaluation) int {
	best, bestMargin := -1, 0
	for i, m := range members {
		if !leads(m, len(members)) {
			continue
		}
		margin := e.withLeader(members, i).Margin
		switch {
		case best < 0, m.Epoch() > members[best].Epoch(),
			m.Epoch() == members[best].Epoch() && margin < bestMargin:
			best, bestMargin = i, margin
		}
	}
	return best
}

// withLeader is the evaluation if members[leader] is the leader.
func (e *evaluation) withLeader(members []Member, leader int) *evaluation {
	trial := *e
	trial.leader = leader
	trial.findQuorum(members)
	return &trial
}

// findQuorum fills in the voters in quorum and the margin.
//
// With a serving leader, the voters known to be in its quorum are the leader
// and the voters answering follower. The leader's own count, when it gave
// one, is the truth for how many are in quorum, whether it is more (voters
// the exporter cannot reach) or fewer (voters it reaches but the leader has
// lost); which ones is unknown, so the worst choice is assumed. Followers
// serve only while synced to a leader, so followers without a visible leader
// mean a leader started with leaderServes=no: it is a voter not seen
// following, again the worst one. Without either the ensemble has no
// quorum: the margin is how many voters must come back, at least one.
func (e *evaluation) findQuorum(members []Member) {
	e.inQuorum = map[int]bool{}
	candidates := map[int]bool{}
	for id := range e.candidates {
		candidates[id] = true
	}
	named := -1
	for i, m := range members {
		switch {
		case !m.Voter || !m.Up:
		case m.Mode == zk.ModeFollower:
			e.inQuorum[m.ID] = true
		case m.LeaderNotServing:
			named = i
		}
	}
	e.LeaderHidden = false
	switch {
	case e.leader >= 0:
		leader := members[e.leader]
		e.inQuorum[leader.ID] = true
		e.count = len(e.inQuorum)
		if leader.LeaderVoters > 0 {
			e.count = min(leader.LeaderVoters, e.Voters)
		}
	case named >= 0:
		e.LeaderHidden = true
		e.inQuorum[members[named].ID] = true
		e.count = len(e.inQuorum)
	case len(e.inQuorum) > 0:
		e.LeaderHidden = true
		for _, m := range members {
			if m.Voter && m.Up && m.Mode == zk.ModeNotServing {
				candidates[m.ID] = true
			}
		}
		e.count = len(e.inQuorum) + 1
	default:
		e.count, e.VotersInQuorum, e.VotersUnseenSynced = 0, 0, 0
		e.Margin = min(-1, e.rule.Margin(e.up))
		e.candidates = candidates
		return
	}
	e.candidates = candidates
	e.VotersInQuorum = e.count
	e.VotersUnseenSynced = 0
	if e.leader >= 0 {
		e.VotersUnseenSynced = max(0, e.count-len(e.inQuorum))
	}
	e.Margin = e.rule.WorstMargin(e.count, e.inQuorum, candidates)
}

// marginWithout is the worst margin left if the voters in lost were gone.
// The leader's quorum holds count voters, the known ones first; the worst
// case puts as many of the lost voters as possible in it, then chooses the
// rest adversarially.
func (e *evaluation) marginWithout(lost map[int]bool) int {
	if e.count == 0 {
		return min(-1, e.rule.Margin(minus(e.up, lost)))
	}
	known, candidates := minus(e.inQuorum, lost), minus(e.candidates, lost)
	count := e.count - (len(e.inQuorum) - len(known))
	if spare := e.count - len(e.inQuorum); spare > 0 {
		count -= min(spare, len(e.candidates)-len(candidates))
	}
	if count <= 0 {
		return min(-1, e.rule.Margin(map[int]bool{}))
	}
	return min(e.Margin, e.rule.WorstMargin(count, known, candidates))
}

// minus returns set without the members of lost.
func minus(set, lost map[int]bool) map[int]bool {
	out := make(map[int]bool, len(set))
	for id := range set {
		if !lost[id] {
			out[id] = true
		}
	}
	return out
}

// zero reports whether the rule has no voters: the zero Rule.
func (r Rule) zero() bool { return len(r.Voters()) == 0 }
