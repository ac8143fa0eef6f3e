// Package quorum is the arithmetic of ZooKeeper voting: quorum size, fault
// tolerance and the quorum margin, from what each member said. It does no I/O.
package quorum

import (
	"maps"

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
	// DatacenterUnknown: the member's datacenter is not known (only the
	// ensemble's membership lists it): it is lost with every datacenter.
	DatacenterUnknown bool
	// Voter: the member votes in the voter set in force. The caller decides,
	// from the ensemble's own voter set when it is known.
	Voter bool
	// Unplaced: neither voter nor observer in the voter set in force (a
	// configured voter the membership does not list): counted as neither.
	Unplaced bool
	Up       bool // the process answered at all
	Mode     zk.Mode
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
	// LeaderVotersAtMost: the count may include followers that do not vote
	// (servers removed by reconfig still following): ZooKeeper 3.5 does not
	// say how many, so the count bounds the voters from above only.
	LeaderVotersAtMost bool
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
	// Unruled counts the voters the rule does not place (members say their
	// view holds more voters than a configured hierarchy names, or a
	// voting view lists voters the configured groups do not): while above
	// 0, no margin above 0 can be promised, nor any stop called safe.
	Unruled int
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
	// (leaderServes=no makes a leader answer "not serving"), or when only
	// observers are seen serving: either proves a leader with a quorum.
	LeaderHidden bool
	// VotersUnknown counts the voters whose state the margin had to guess:
	// voters no probed member stands for (known only from the membership or
	// the members' view size), where no exact count of the leader's settles
	// how many are in quorum. Above 0, a margin of 0 may only mean "cannot
	// tell": the exporter does not see enough of the ensemble.
	VotersUnknown int
	// Oracle: the rule is QuorumOracleMaj's with two voters, configured or
	// seen (a leader serving with one of its two voters).
	Oracle bool
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
	// candidates are voters that may be in the quorum (unreachable or
	// unseen); possible are the quorums the leader may hold; count is the
	// voters in the one the margin came from, 0 without a quorum.
	candidates map[int]bool
	possible   []possibleQuorum
	count      int
	// up are the voters that answer, for the margin without a quorum.
	up map[int]bool
	// participants is the voters in the view, weight-0 ones included: the
	// most a leader's count can hold.
	participants int
	unseen       map[int]bool
	unruled      int
}

// Evaluate computes the ensemble's quorum state.
func Evaluate(members []Member, voters VoterSet) Ensemble {
	return evaluate(members, voters).Ensemble
}

func evaluate(members []Member, voters VoterSet) *evaluation {
	members = withIDs(members)
	e := &evaluation{rule: voters.Rule, leader: -1, candidates: map[int]bool{}, up: map[int]bool{},
		unseen: toSet(voters.Unseen), unruled: voters.Unruled}
	all := toSet(voterIDs(members, voters.Unseen))
	if e.rule.zero() {
		e.rule = Majority(voterIDs(members, voters.Unseen))
	}
	counting := map[int]bool{}
	for _, v := range e.rule.Voters() {
		all[v.ID], counting[v.ID] = true, true
	}
	e.participants = len(all)
	e.Voters = len(counting)
	if e.unruled > 0 {
		e.Voters = max(len(union(counting, e.unseen)), len(counting)+e.unruled)
	}
	e.QuorumSize = e.rule.QuorumSize()
	e.FaultTolerance = e.rule.FaultTolerance()
	for _, id := range voters.Unseen {
		e.candidates[id] = true
	}
	e.countMembers(members)
	e.leader = pickLeader(members, e)
	e.findQuorum(members)
	if oracle := e.rule.WithOracle(); e.count == 0 && len(e.possible) > 0 && oracle.Oracle() && !e.rule.Oracle() {
		// A leader of two voters serving (or led) without a quorum of them
		// has the oracle's consent (QuorumOracleMaj), or is about to step
		// down.
		e.rule = oracle
		e.QuorumSize, e.FaultTolerance = e.rule.QuorumSize(), e.rule.FaultTolerance()
		e.findQuorum(members)
	}
	if e.count == 0 {
		e.possible = nil // what-ifs then count on the voters that answer
	}
	e.Oracle = e.rule.Oracle()
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
			if !m.Unplaced {
				e.Observers++
			}
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
// order of the configuration. -1 if no voter says leader in an epoch at
// least as new as its followers'.
func pickLeader(members []Member, e *evaluation) int {
	best, bestMargin := -1, 0
	newest := followedEpoch(members)
	for i, m := range members {
		if !leads(m, len(members)) || m.ZxidKnown && m.Epoch() < newest {
			// A leader older than the epoch learners follow has lost its
			// quorum and not yet noticed: they have a newer leader.
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

// followedEpoch is the newest epoch a serving learner (follower or
// observer) is in, 0 if none.
func followedEpoch(members []Member) uint32 {
	var newest uint32
	for _, m := range members {
		if m.Up && (m.Mode == zk.ModeFollower || m.Mode == zk.ModeObserver) {
			newest = max(newest, m.Epoch())
		}
	}
	return newest
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
// lost); which ones is unknown, so the worst choice is assumed. A count that
// may include followers that do not vote (ZooKeeper 3.5) only lowers what is
// seen. Followers serve only while synced to a leader, and observers only
// while a leader holds a quorum, so a serving follower or observer without
// a visible leader means a leader started with leaderServes=no or one the
// exporter cannot reach: the quorum is then the worst one that holds the
// serving voters and at least one voter more. Without any of these the
// ensemble has no quorum: the margin is how many voters must come back, at
// least one.
func (e *evaluation) findQuorum(members []Member) {
	known := map[int]bool{}
	named, observing, nonVoting := -1, false, 0
	var notServing []int
	for i, m := range members {
		switch {
		case !m.Up:
		case !m.Voter && m.Mode == zk.ModeFollower:
			nonVoting++ // removed by reconfig, still following: proof of a leader too
			observing = true
		case !m.Voter:
			observing = observing || m.Mode == zk.ModeObserver
		case m.Mode == zk.ModeFollower:
			known[m.ID] = true
		case m.LeaderNotServing:
			named = i
		case m.Mode == zk.ModeNotServing:
			notServing = append(notServing, m.ID)
		}
	}
	e.LeaderHidden = false
	e.count, e.VotersInQuorum, e.VotersUnseenSynced, e.possible = 0, 0, 0, nil
	switch {
	case e.leader >= 0:
		leader := members[e.leader]
		known[leader.ID] = true
		e.possible = []possibleQuorum{leaderQuorum(leader, known, e.candidates, nonVoting, e.participants)}
	case named >= 0, len(known) > 0, observing:
		e.possible = e.hiddenLeaderQuorums(members, known, named, notServing)
	}
	if len(e.possible) > 0 {
		e.count, e.Margin = e.worstHeld()
	}
	e.VotersUnknown = e.unknown(members)
	if e.count == 0 {
		e.Margin = min(-1, e.rule.Margin(e.up))
		return
	}
	e.LeaderHidden = e.leader < 0
	e.VotersInQuorum = e.count
	if e.leader >= 0 {
		e.VotersUnseenSynced = max(0, e.count-len(e.possible[0].known))
	}
	if e.unruled > 0 && e.Margin > 0 {
		e.Margin = 0
	}
}

// possibleQuorum is a quorum the leader may hold: every voter of known,
// the rest from candidates, from least to most voters in all.
type possibleQuorum struct {
	known, candidates map[int]bool
	least, most       int
}

// leaderQuorum is the quorum a serving leader may hold. Its exact count
// settles how many voters are in it. A count that may include followers
// that do not vote (3.5) bounds it from above, the followers seen from
// below. Without a count, it holds the followers seen and perhaps voters
// the exporter cannot reach.
func leaderQuorum(leader Member, known, candidates map[int]bool, nonVoting, participants int) possibleQuorum {
	p := possibleQuorum{known: known, candidates: candidates, least: len(known), most: len(union(known, candidates))}
	n := leader.LeaderVoters
	switch {
	case n <= 0:
	case leader.LeaderVotersAtMost:
		n = max(1, min(n-nonVoting, participants))
		p.least, p.most = min(n, len(known)), n
	default:
		n = min(n, participants)
		p.least, p.most = n, n
	}
	return p
}

// hiddenLeaderQuorums are the quorums that serving voters or observers
// without a visible leader imply: the leader is the voter the AdminServer
// names, or one the exporter cannot reach, or one of the voters answering
// "not serving" (leaderServes=no); the other voters of the quorum serve as
// followers, seen or unreachable.
func (e *evaluation) hiddenLeaderQuorums(members []Member, followers map[int]bool, named int, notServing []int) []possibleQuorum {
	all := len(union(followers, e.candidates))
	if named >= 0 {
		known := union(followers, map[int]bool{members[named].ID: true})
		return []possibleQuorum{{known: known, candidates: e.candidates, least: len(known), most: all + 1}}
	}
	out := []possibleQuorum{{known: followers, candidates: e.candidates, least: len(followers) + 1, most: all}}
	for _, id := range notServing {
		known := union(followers, map[int]bool{id: true})
		out = append(out, possibleQuorum{known: known, candidates: e.candidates, least: len(known), most: all + 1})
	}
	return out
}

// worstHeld is the worst margin over the possible quorums, and the voters
// in the one that gives it. A count whose every choice is no quorum is
// passed over: a serving leader (or member) proves one. Without any (a
// leader whose own count says its quorum is gone), the count is 0.
func (e *evaluation) worstHeld() (count, margin int) {
	for _, p := range e.possible {
		for c := p.least; c <= p.most; c++ {
			m := e.rule.WorstMargin(c, p.known, p.candidates)
			if m >= 0 && (count == 0 || m < margin) {
				count, margin = c, m
			}
		}
	}
	return count, margin
}

// unknown counts the voters no member stands for, unless a leader's exact
// count of a quorum under a simple majority makes their state irrelevant to
// the margin.
func (e *evaluation) unknown(members []Member) int {
	if e.unruled > 0 {
		return max(len(e.unseen), e.unruled)
	}
	// A count that says the quorum is gone settles nothing about voters
	// the exporter does not see: a quorum may stand among them, under a
	// new leader this one has not yet heard of.
	if e.leader >= 0 && e.count > 0 && !e.rule.Hierarchical() {
		if leader := members[e.leader]; leader.LeaderVoters > 0 && !leader.LeaderVotersAtMost {
			return 0
		}
	}
	return len(e.unseen)
}

// marginWithout is the worst margin left if the voters in lost were gone:
// over every quorum the leader may hold (a serving leader's synced voters
// are a quorum), the margin of what it keeps.
func (e *evaluation) marginWithout(lost map[int]bool) int {
	if e.count == 0 {
		return min(-1, e.rule.Margin(minus(e.up, lost)))
	}
	worst, ok := 0, false
	for _, p := range e.possible {
		if m, held := e.rule.worstAfterLoss(p.least, p.most, p.known, p.candidates, lost); held && (!ok || m < worst) {
			worst, ok = m, true
		}
	}
	if !ok {
		return min(-1, e.rule.Margin(minus(e.up, lost)))
	}
	if e.unruled > 0 {
		worst = min(worst, -1) // the rule misses voters: nothing can be promised
	}
	return min(e.Margin, worst)
}

func union(a, b map[int]bool) map[int]bool {
	out := maps.Clone(a)
	for id := range b {
		out[id] = true
	}
	return out
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
