package quorum

import (
	"fmt"
	"sort"

	"github.com/quorumwatch/zookeeper_exporter/zk"
)

// Rolling maintenance: which member may be stopped now, what stopping it
// costs, what losing a whole datacenter would leave, and how far the
// ensemble strays from the sizing the vendor guide recommends.

// Sizing limits from the vendor guide: more voters slow every write (each
// needs a majority of acknowledgements); read capacity comes from observers.
const (
	MaxVoters              = 9
	MaxVotersPerDatacenter = 5
)

// DefaultMaxLag is how many transactions a serving member may trail the
// leader and still count as caught up. The members are probed concurrently,
// not atomically, so a synced follower of a busy leader reads a little
// behind; a thousand transactions is far more than a probe's few
// milliseconds of writes and far less than a member still replaying a log.
const DefaultMaxLag = 1000

// Impact is what stopping a member now would cost. Exactly one applies.
type Impact string

// Impacts, as exported in the zookeeper_member_stop_impact state set.
const (
	// ImpactNone: the member is already down or not serving.
	ImpactNone Impact = "none"
	// ImpactReadCapacity: an observer; its clients move to other members.
	ImpactReadCapacity Impact = "read_capacity"
	// ImpactFaultTolerance: a follower; quorum holds with one voter less
	// to spare.
	ImpactFaultTolerance Impact = "fault_tolerance"
	// ImpactElection: the leader; quorum holds, but requests stall while
	// the others elect a new leader.
	ImpactElection Impact = "election"
	// ImpactQuorum: stopping it leaves fewer voters than a quorum (or
	// quorum is already lost and it is one of the voters still up).
	ImpactQuorum Impact = "quorum"
)

// Impacts lists every impact, in the order the state set is exported.
var Impacts = []Impact{ImpactNone, ImpactReadCapacity, ImpactFaultTolerance, ImpactElection, ImpactQuorum}

// Verdict says whether one member may be stopped now, and why.
type Verdict struct {
	Safe   bool
	Impact Impact
	// Reason is one line for an operator: why not, or what it costs.
	Reason string
	// MarginWhileDown is the quorum margin predicted while the member is
	// down: the margin now for a member that does not count (an observer,
	// one already down or not serving), the margin without it for a voter.
	MarginWhileDown int
}

// Health summarises an ensemble for the status command's exit status.
type Health string

// Health states, from best to worst.
const (
	// HealthHealthy: the margin is the designed fault tolerance.
	HealthHealthy Health = "healthy"
	// HealthDegraded: below the designed tolerance but still able to lose
	// a voter; expected while one member is down for maintenance.
	HealthDegraded Health = "degraded"
	// HealthAtRisk: the next voter loss breaks quorum on an ensemble
	// designed to tolerate one, or more than one member claims to lead.
	HealthAtRisk Health = "at_risk"
	// HealthLost: no quorum (negative margin).
	HealthLost Health = "lost"
)

// Worse reports whether h is worse than other.
func (h Health) Worse(other Health) bool { return h.rank() > other.rank() }

func (h Health) rank() int {
	switch h {
	case HealthHealthy:
		return 0
	case HealthDegraded:
		return 1
	case HealthAtRisk:
		return 2
	}
	return 3
}

// HealthOf classifies an ensemble's quorum state.
func HealthOf(e Ensemble) Health {
	switch {
	case e.Margin < 0:
		return HealthLost
	case e.Leaders > 1, e.Margin == 0 && e.FaultTolerance > 0:
		return HealthAtRisk
	case e.Margin < e.FaultTolerance:
		return HealthDegraded
	}
	return HealthHealthy
}

// Advice names a way the ensemble departs from the recommended sizing.
type Advice string

// Advice kinds, as exported in zookeeper_ensemble_sizing_advice.
const (
	// AdviceTooManyVoters: more than MaxVoters voters in all.
	AdviceTooManyVoters Advice = "too_many_voters"
	// AdviceTooManyVotersInDatacenter: more than MaxVotersPerDatacenter
	// voters in one datacenter.
	AdviceTooManyVotersInDatacenter Advice = "too_many_voters_in_one_datacenter"
)

// Advices lists every advice kind, in export order.
var Advices = []Advice{AdviceTooManyVoters, AdviceTooManyVotersInDatacenter}

// DatacenterMargin is what losing one whole datacenter would leave.
type DatacenterMargin struct {
	Datacenter string
	Voters     int // configured voters in it
	// Margin is the quorum margin left without every member of the
	// datacenter: negative means losing it loses quorum.
	Margin int
}

// Assessment is the maintenance view of one ensemble.
type Assessment struct {
	Quorum Ensemble
	Health Health
	// Leader is the index of the serving leader in the members (with
	// leaderServes=no, the voter named leader), -1 if none.
	Leader      int
	Members     []Verdict // in the members' order
	Datacenters []DatacenterMargin
	Advice      map[Advice]bool // every kind, true when it applies
	// AdviceText explains each advice that applies, one line each.
	AdviceText []string
}

// Options tune the rules; the zero value uses the defaults.
type Options struct {
	// MaxLag is DefaultMaxLag when 0.
	MaxLag uint64
}

// Assess applies the maintenance rules to one probe round.
//
// A voter is safe to stop when stopping it keeps a quorum and the
// one-at-a-time rule holds: it serves now, exactly one leader serves, every
// other voter serves as leader or follower, and every other voter has caught
// up with the leader (see CaughtUp). Observers never count towards a quorum:
// one is safe to stop whenever it serves, at the cost of read capacity.
// What stopping a voter leaves is the same worst-case margin as Evaluate's,
// with that voter gone; so is what losing a datacenter leaves.
func Assess(members []Member, voters VoterSet, opts Options) Assessment {
	if opts.MaxLag == 0 {
		opts.MaxLag = DefaultMaxLag
	}
	e := evaluate(members, voters)
	members = withIDs(members)
	a := Assessment{Quorum: e.Ensemble, Leader: e.leader, Health: HealthOf(e.Ensemble)}
	if a.Leader < 0 && e.LeaderHidden {
		a.Leader = namedLeader(members)
	}
	a.Members = make([]Verdict, len(members))
	for i := range members {
		a.Members[i] = a.verdict(e, members, i, opts)
		a.Members[i].MarginWhileDown = e.Margin
		if members[i].Voter && members[i].Up && (members[i].Mode.Serving() || i == a.Leader) {
			a.Members[i].MarginWhileDown = e.marginWithout(map[int]bool{members[i].ID: true})
		}
	}
	a.Datacenters = datacenterMargins(e, members)
	a.Advice, a.AdviceText = sizingAdvice(members)
	return a
}

// namedLeader is the voter the AdminServer named leader though it does not
// serve (leaderServes=no), or else the one voter up and not serving; -1
// when that is not one voter.
func namedLeader(members []Member) int {
	hidden := -1
	for i, m := range members {
		switch {
		case !m.Voter || !m.Up || m.Mode != zk.ModeNotServing:
		case m.LeaderNotServing:
			return i
		case hidden == -1:
			hidden = i
		default:
			hidden = -2
		}
	}
	return max(hidden, -1)
}

// inQuorum: a voter that serves as leader or follower, or is the leader.
func (a *Assessment) inQuorum(members []Member, i int) bool {
	m := members[i]
	return i == a.Leader || m.Voter && m.Up && (m.Mode == zk.ModeLeader || m.Mode == zk.ModeFollower)
}

// CaughtUp reports whether a serving member has caught up with the leader:
// it lacks at most maxLag of the transactions the leader has committed in
// its epoch. ZooKeeper lets a member serve only once it has synced with the
// leader, so only transactions after that can be missing: when the member
// is still in an older epoch (it has applied none since the election; its
// zxid does not move to the new epoch until then) that is all of the
// leader's epoch. A member probed a moment after the leader may be ahead.
// When either zxid is unknown the serving mode decides. It returns the lag
// in transactions.
func CaughtUp(peer, leader Member, maxLag uint64) (bool, uint64) {
	if !peer.Up || !peer.Mode.Serving() {
		return false, 0
	}
	if !peer.ZxidKnown || !leader.ZxidKnown || peer.Zxid >= leader.Zxid {
		return true, 0
	}
	lag := uint64(leader.Zxid.Counter())
	if peer.Zxid.Epoch() == leader.Zxid.Epoch() {
		lag -= uint64(peer.Zxid.Counter())
	}
	return lag <= maxLag, lag
}

func (a *Assessment) verdict(e *evaluation, members []Member, i int, opts Options) Verdict {
	m := members[i]
	q := a.Quorum
	switch {
	case !m.Up:
		return Verdict{Impact: ImpactNone, Reason: "already down"}
	case !m.Mode.Serving() && i != a.Leader:
		return Verdict{Impact: ImpactNone, Reason: fmt.Sprintf("not serving (%s): wait until it has rejoined", m.Mode)}
	case !m.Voter:
		return Verdict{Safe: true, Impact: ImpactReadCapacity, Reason: "observer: quorum unaffected, its clients move to other members"}
	}
	after := e.marginWithout(map[int]bool{m.ID: true})
	if after < 0 {
		if q.Margin < 0 {
			return Verdict{Impact: ImpactQuorum, Reason: fmt.Sprintf("quorum is already lost (margin %d): keep every voter up", q.Margin)}
		}
		return Verdict{Impact: ImpactQuorum, Reason: fmt.Sprintf("stopping it breaks quorum: %d of %d voters in quorum, %d needed at the least", q.VotersInQuorum, q.Voters, q.QuorumSize)}
	}
	impact := ImpactFaultTolerance
	if i == a.Leader {
		impact = ImpactElection
	}
	if reason := a.blocker(members, i, opts); reason != "" {
		return Verdict{Impact: impact, Reason: reason}
	}
	if impact == ImpactElection {
		return Verdict{Safe: true, Impact: impact, Reason: fmt.Sprintf("leader: a new election follows, margin %d while it is down", after)}
	}
	return Verdict{Safe: true, Impact: impact, Reason: fmt.Sprintf("margin %d while it is down", after)}
}

// blocker is why the one-at-a-time rule forbids stopping members[i] now,
// "" when nothing does.
func (a *Assessment) blocker(members []Member, i int, opts Options) string {
	q := a.Quorum
	switch {
	case a.Leader < 0:
		return "no leader serves: wait for the election to finish"
	case q.Leaders > 1:
		return fmt.Sprintf("%d members claim to lead: wait for a single leader", q.Leaders)
	case q.VotersUnknown > 0:
		return fmt.Sprintf("%d voters of the ensemble are not probed: cannot tell what stopping it leaves", q.VotersUnknown)
	case q.VotersUnseenSynced > 0:
		return fmt.Sprintf("%d voters the leader counts are not seen by the exporter: check them first", q.VotersUnseenSynced)
	}
	leader := members[a.Leader]
	for j, other := range members {
		if j == i || !other.Voter {
			continue
		}
		if !a.inQuorum(members, j) {
			state := string(other.Mode)
			if !other.Up {
				state = "down"
			}
			return fmt.Sprintf("voter %s is not in quorum (%s): bring it back first, one member at a time", other.Name, state)
		}
		if j == a.Leader {
			continue
		}
		if ok, lag := CaughtUp(other, leader, opts.MaxLag); !ok {
			return fmt.Sprintf("voter %s is %d transactions behind the leader: wait until it has caught up", other.Name, lag)
		}
	}
	return ""
}

// datacenterMargins computes, per datacenter, the worst margin left without
// it, by the same rule as the margin itself.
//
// Only ensembles with at least one member labelled with a datacenter get
// any: an unlabelled ensemble is taken to live in one place. Once some
// members are labelled, the unlabelled ones form datacenter "": assuming
// they would survive any loss could overstate the margin, the dangerous way.
// Voters no member stands for (unseen), and members of unknown datacenter,
// are in no datacenter the exporter knows: they are counted as lost with
// every datacenter, for the same reason.
func datacenterMargins(e *evaluation, members []Member) []DatacenterMargin {
	labelled := false
	for _, m := range members {
		labelled = labelled || m.Datacenter != ""
	}
	if !labelled {
		return nil
	}
	lost := map[string]map[int]bool{}
	voters := map[string]int{}
	unknown := map[int]bool{}
	for _, m := range members {
		if m.DatacenterUnknown {
			if m.Voter {
				unknown[m.ID] = true
			}
			continue
		}
		if lost[m.Datacenter] == nil {
			lost[m.Datacenter] = map[int]bool{}
		}
		if m.Voter {
			voters[m.Datacenter]++
			lost[m.Datacenter][m.ID] = true
		}
	}
	standFor := memberIDs(members)
	margins := make([]DatacenterMargin, 0, len(lost))
	for name, ids := range lost {
		for id := range e.candidates {
			if !standFor[id] {
				ids[id] = true
			}
		}
		for id := range unknown {
			ids[id] = true
		}
		margins = append(margins, DatacenterMargin{Datacenter: name, Voters: voters[name], Margin: e.marginWithout(ids)})
	}
	sort.Slice(margins, func(i, j int) bool { return margins[i].Datacenter < margins[j].Datacenter })
	return margins
}

// memberIDs are the ids members stand for.
func memberIDs(members []Member) map[int]bool {
	ids := make(map[int]bool, len(members))
	for _, m := range members {
		ids[m.ID] = true
	}
	return ids
}

// sizingAdvice checks the vendor guide's limits on voters.
func sizingAdvice(members []Member) (map[Advice]bool, []string) {
	advice := map[Advice]bool{}
	for _, kind := range Advices {
		advice[kind] = false
	}
	var text []string
	voters := 0
	perDC := map[string]int{}
	labelled := false
	for _, m := range members {
		labelled = labelled || m.Datacenter != ""
		if m.Voter {
			voters++
			perDC[m.Datacenter]++
		}
	}
	if voters > MaxVoters {
		advice[AdviceTooManyVoters] = true
		text = append(text, fmt.Sprintf("%d voters: more than %d slows every write; keep %d or fewer and add observers for read capacity", voters, MaxVoters, MaxVoters))
	}
	if labelled {
		names := make([]string, 0, len(perDC))
		for name := range perDC {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			if perDC[name] > MaxVotersPerDatacenter {
				advice[AdviceTooManyVotersInDatacenter] = true
				text = append(text, fmt.Sprintf("datacenter %q holds %d voters: keep %d or fewer per datacenter and spread the rest", name, perDC[name], MaxVotersPerDatacenter))
			}
		}
	}
	return advice, text
}
