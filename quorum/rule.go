package quorum

import (
	"errors"
	"fmt"
	"slices"
	"sort"
)

// Voter is one voting server: ID is ZooKeeper's server id; Group is 0 for
// simple majority; Weight is the hierarchical weight (0 = never counts).
// An Observer named in a group.N line adds its weight to the group's total,
// as ZooKeeper's QuorumHierarchical sums every listed server, but never
// acks: it makes the group's majority harder to reach and is no voter.
//
// Weight has no implicit default: whoever reads zoo.cfg sets 1 when a server
// has no weight.N line, as ZooKeeper does. In Hierarchical, Group 0 means
// "listed in no group": such a server is not a voter, so a `group.0=` line
// must be given another, unused group id.
type Voter struct {
	ID, Group, Weight int
	Observer          bool
}

// Rule decides which sets of voters form a quorum, as ZooKeeper's QuorumMaj
// and QuorumHierarchical do. A simple majority is the hierarchical rule with
// one group of weight-1 voters, so one implementation serves both.
//
// The zero Rule has no voters and never has a quorum.
type Rule struct {
	hierarchical bool
	// groups holds only the groups with non-zero total weight, by group id:
	// ZooKeeper drops zero-weight groups from the group count.
	groups []group
	// seat maps each counting voter (weight > 0) to its group and weight.
	seat map[int]seat
	// oracle: QuorumOracleMaj with two voters, where one voter alone holds
	// a quorum when the oracle consents.
	oracle bool
}

type group struct {
	id      int
	members []Voter // acking voters of weight > 0 only, heaviest first (ties by id)
	total   int     // observers named in the group included
	// needOne: the oracle's group, where one voter is enough.
	needOne bool
}

type seat struct{ group, weight int }

// need is the weight a group must hold: more than half its total. ZooKeeper
// tests weight > total/2 in integer arithmetic, which is the same thing.
func (g group) need() int {
	if g.needOne {
		return 1
	}
	return g.total/2 + 1
}

// needGroups is how many groups must each hold their majority: more than
// half the groups with non-zero weight.
func (r Rule) needGroups() int { return len(r.groups)/2 + 1 }

// Majority is the simple-majority rule over the given server ids.
func Majority(ids []int) Rule {
	r := Rule{seat: map[int]seat{}}
	g := group{}
	for _, id := range ids {
		if _, dup := r.seat[id]; dup {
			continue
		}
		r.seat[id] = seat{weight: 1}
		g.members = append(g.members, Voter{ID: id, Weight: 1})
		g.total++
	}
	if g.total > 0 {
		sortHeaviestFirst(g.members)
		r.groups = []group{g}
	}
	return r
}

// MajorityWithOracle is QuorumOracleMaj (ZooKeeper 3.8+, oraclePath): a
// simple majority, except that with exactly two voters one of them holds a
// quorum alone, as the oracle lets it. The margin then takes the oracle's
// consent for granted: with both voters up one can be lost.
func MajorityWithOracle(ids []int) Rule {
	r := Majority(ids)
	if len(r.groups) == 1 && r.groups[0].total == 2 {
		r.oracle = true
		r.groups[0].needOne = true
	}
	return r
}

// WithOracle is the rule with QuorumOracleMaj's oracle: a simple majority
// of two voters becomes one where either voter alone holds a quorum. Any
// other rule is returned as it is, as ZooKeeper consults the oracle only
// with two voters.
func (r Rule) WithOracle() Rule {
	if r.hierarchical || r.oracle || len(r.groups) != 1 || r.groups[0].total != 2 {
		return r
	}
	ids := make([]int, 0, 2)
	for _, v := range r.Voters() {
		ids = append(ids, v.ID)
	}
	return MajorityWithOracle(ids)
}

// Oracle reports whether the rule is a two-voter majority with an oracle.
func (r Rule) Oracle() bool { return r.oracle }

// Hierarchical is ZooKeeper's hierarchical rule (group.N and weight.N lines):
// a quorum is more than half of the groups with non-zero weight, each holding
// more than half of its weight. Weight-0 servers and servers in no group
// (Group 0) are not voters.
func Hierarchical(voters []Voter) (Rule, error) {
	r := Rule{hierarchical: true, seat: map[int]seat{}}
	listed := map[int]Voter{}
	byGroup := map[int]*group{}
	for _, v := range voters {
		if err := checkVoter(v, listed); err != nil {
			return Rule{}, err
		}
		listed[v.ID] = v
		if v.Group == 0 || v.Weight == 0 {
			continue
		}
		g := byGroup[v.Group]
		if g == nil {
			g = &group{id: v.Group}
			byGroup[v.Group] = g
		}
		g.total += v.Weight
		if v.Observer {
			continue
		}
		g.members = append(g.members, v)
		r.seat[v.ID] = seat{weight: v.Weight}
	}
	if len(byGroup) == 0 {
		return Rule{}, errors.New("hierarchical quorum: no group has a server of non-zero weight, so no set of servers can ever form a quorum")
	}
	for _, g := range byGroup {
		sortHeaviestFirst(g.members)
		r.groups = append(r.groups, *g)
	}
	sort.Slice(r.groups, func(i, j int) bool { return r.groups[i].id < r.groups[j].id })
	for i, g := range r.groups {
		for _, m := range g.members {
			r.seat[m.ID] = seat{group: i, weight: m.Weight}
		}
	}
	return r, nil
}

// checkVoter refuses what ZooKeeper refuses (a server in two groups) and what
// no configuration can mean (negative ids, groups or weights).
func checkVoter(v Voter, listed map[int]Voter) error {
	switch {
	case v.ID < 0:
		return fmt.Errorf("hierarchical quorum: server %d: negative server id", v.ID)
	case v.Group < 0:
		return fmt.Errorf("hierarchical quorum: server %d: negative group id %d", v.ID, v.Group)
	case v.Weight < 0:
		return fmt.Errorf("hierarchical quorum: server %d has negative weight %d", v.ID, v.Weight)
	}
	prev, dup := listed[v.ID]
	switch {
	case !dup:
		return nil
	case prev.Group != v.Group:
		return fmt.Errorf("hierarchical quorum: server %d is in group %d and group %d", v.ID, prev.Group, v.Group)
	default:
		return fmt.Errorf("hierarchical quorum: server %d is listed twice in group %d", v.ID, v.Group)
	}
}

func sortHeaviestFirst(members []Voter) {
	sort.Slice(members, func(i, j int) bool {
		if members[i].Weight != members[j].Weight {
			return members[i].Weight > members[j].Weight
		}
		return members[i].ID < members[j].ID
	})
}

// Hierarchical reports whether the rule is a hierarchical (group/weight) one.
func (r Rule) Hierarchical() bool { return r.hierarchical }

// Voters lists the counting voters (weight > 0) sorted by ID. A simple
// majority's voters have Group 0 and Weight 1.
func (r Rule) Voters() []Voter {
	var out []Voter
	for _, g := range r.groups {
		out = append(out, g.members...)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// IsVoter reports whether the server counts towards a quorum.
func (r Rule) IsVoter(id int) bool {
	_, ok := r.seat[id]
	return ok
}

// Contains reports whether the servers marked true form a quorum. Servers
// that are not voters are ignored.
func (r Rule) Contains(ids map[int]bool) bool {
	held := 0
	for _, g := range r.groups {
		if g.weightIn(ids) >= g.need() {
			held++
		}
	}
	return held >= r.needGroups()
}

func (g group) weightIn(ids map[int]bool) int {
	w := 0
	for _, m := range g.members {
		if ids[m.ID] {
			w += m.Weight
		}
	}
	return w
}

// QuorumSize is the fewest voters that can form a quorum: the cheapest
// groups, each with its heaviest members (simple majority: floor(V/2)+1).
// With no voters it is 1, as the simple-majority formula gives.
func (r Rule) QuorumSize() int {
	if len(r.groups) == 0 {
		return 1
	}
	costs := make([]int, len(r.groups))
	for i, g := range r.groups {
		_, costs[i] = g.costs(func(int) bool { return false })
	}
	return sumSmallest(costs, r.needGroups())
}

// FaultTolerance is, by design, the most voters that can be lost in the
// worst case with a quorum left (simple majority: V - Q).
func (r Rule) FaultTolerance() int {
	all := map[int]bool{}
	for id := range r.seat {
		all[id] = true
	}
	return r.LossesToBreak(all) - 1
}

// costs returns, for the members present(i) of the group, the fewest present
// members whose loss leaves the group without its majority (0 if it has none)
// and the fewest absent members whose return gives it one (0 if it has one).
// Both pick the heaviest members first, which no other choice of the same
// number of members beats.
func (g group) costs(present func(i int) bool) (lose, regain int) {
	held := 0
	for i, m := range g.members {
		if present(i) {
			held += m.Weight
		}
	}
	need := g.need()
	w := held
	for i := 0; i < len(g.members) && w >= need; i++ {
		if present(i) {
			w -= g.members[i].Weight
			lose++
		}
	}
	w = held
	for i := 0; i < len(g.members) && w < need; i++ {
		if !present(i) {
			w += g.members[i].Weight
			regain++
		}
	}
	if w < need {
		// Observers weigh in the total but never ack: no return of voters
		// gives this group its majority.
		regain = neverRegained
	}
	return lose, regain
}

// neverRegained is the regain cost of a group that no returns can give its
// majority; more than any ensemble has voters.
const neverRegained = 1 << 20

// groupCosts applies costs to every group for the set ids.
func (r Rule) groupCosts(ids map[int]bool) (lose, regain []int) {
	lose = make([]int, len(r.groups))
	regain = make([]int, len(r.groups))
	for gi, g := range r.groups {
		lose[gi], regain[gi] = g.costs(func(i int) bool { return ids[g.members[i].ID] })
	}
	return lose, regain
}

// LossesToBreak is the fewest voters whose loss from present leaves no
// quorum; 0 if present is not a quorum. Groups are independent, so the
// cheapest way is to break the cheapest groups that hold their majority,
// just enough of them that too few remain.
func (r Rule) LossesToBreak(present map[int]bool) int {
	lose, regain := r.groupCosts(present)
	var held []int
	for gi := range r.groups {
		if regain[gi] == 0 {
			held = append(held, lose[gi])
		}
	}
	if len(held) < r.needGroups() {
		return 0
	}
	return sumSmallest(held, len(held)-r.needGroups()+1)
}

// Margin is how many more voters present can lose and keep a quorum:
// LossesToBreak-1 when present is a quorum; otherwise minus the fewest absent
// voters that must come back to form one, at most -1.
func (r Rule) Margin(present map[int]bool) int {
	if len(r.groups) == 0 {
		return -1
	}
	lose, regain := r.groupCosts(present)
	back := sumSmallest(regain, r.needGroups())
	if back > 0 {
		return -back
	}
	var held []int
	for gi := range r.groups {
		if regain[gi] == 0 {
			held = append(held, lose[gi])
		}
	}
	return sumSmallest(held, len(held)-r.needGroups()+1) - 1
}

// sumSmallest is the sum of the k smallest values (k <= len(values)).
func sumSmallest(values []int, k int) int {
	sorted := slices.Clone(values)
	slices.Sort(sorted)
	sum := 0
	for _, v := range sorted[:k] {
		sum += v
	}
	return sum
}
