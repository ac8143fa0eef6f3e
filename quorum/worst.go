package quorum

import (
	"math"
	"slices"
)

// WorstMargin is the smallest Margin the leader's word allows: it says count
// voters are in quorum but not which. Those in known are in (when count is
// smaller, any count of them); the rest come from candidates; if count
// exceeds both, all of them are in. A server that does not count (weight 0,
// unknown) may still be one of the count: it fills a place and adds nothing.
//
// A serving leader steps down when its synced voters are no quorum, so only
// the choices that form one are considered; if none does, the count itself
// says quorum is lost and the result is the worst (negative) margin of all.
//
// It is exact without trying every choice of voters. Groups are independent:
// Margin depends on each group only through whether it holds its majority,
// the losses that break it and the returns that restore it. So each group's
// possible states are listed for each number x of its members taken, and a
// dynamic program over the groups, with the number taken so far in its
// state, finds the worst combination. Members of equal weight are
// interchangeable, so a group's states come from how many of each weight are
// taken: the cost grows with the voters only polynomially, and exponentially
// only in the number of distinct weights within one group. The tests check
// it against every choice, for random rules of up to 9 voters and for every
// rule of up to 4.
func (r Rule) WorstMargin(count int, known, candidates map[int]bool) int {
	if len(r.groups) == 0 {
		return -1
	}
	in := trueKeys(known, nil)
	pool := trueKeys(candidates, known)
	switch {
	case count >= len(in)+len(pool):
		return r.Margin(toSet(append(in, pool...)))
	case count <= len(in):
		in, pool = nil, in
	default:
		count -= len(in)
	}
	return r.choices(toSet(in), pool).worst(max(count, 0), r.needGroups())
}

// groupChoice is what taking x pool members of one group can do to it.
type groupChoice struct {
	regain   int // the most returns any such choice needs (0: always held)
	held     bool
	heldLose int // the fewest losses that break a choice that holds it
}

// choiceTable holds each group's choices, indexed by the number taken.
type choiceTable struct {
	groups [][]groupChoice
	duds   int // pool members that do not count
}

func (r Rule) choices(fixed map[int]bool, pool []int) choiceTable {
	t := choiceTable{groups: make([][]groupChoice, len(r.groups))}
	inPool := map[int]bool{}
	for _, id := range pool {
		if r.IsVoter(id) {
			inPool[id] = true
		} else {
			t.duds++
		}
	}
	for gi, g := range r.groups {
		t.groups[gi] = g.choices(fixed, inPool)
	}
	return t
}

// choices lists, for x = 0 .. the group's pool members, what taking x of
// them can do, trying every count of each weight.
func (g group) choices(fixed, inPool map[int]bool) []groupChoice {
	var byWeight [][]int // indexes into g.members of the pool, one slice per weight
	for i, m := range g.members {
		if !inPool[m.ID] {
			continue
		}
		if n := len(byWeight); n > 0 && g.members[byWeight[n-1][0]].Weight == m.Weight {
			byWeight[n-1] = append(byWeight[n-1], i)
		} else {
			byWeight = append(byWeight, []int{i})
		}
	}
	var out []groupChoice
	taken := make([]bool, len(g.members))
	var try func(class, x int)
	try = func(class, x int) {
		if class == len(byWeight) {
			lose, regain := g.costs(func(i int) bool { return taken[i] || fixed[g.members[i].ID] })
			for len(out) <= x {
				out = append(out, groupChoice{})
			}
			c := &out[x]
			c.regain = max(c.regain, regain)
			if regain == 0 && (!c.held || lose < c.heldLose) {
				c.held, c.heldLose = true, lose
			}
			return
		}
		try(class+1, x)
		for k, i := range byWeight[class] {
			taken[i] = true
			try(class+1, x+k+1)
		}
		for _, i := range byWeight[class] {
			taken[i] = false
		}
	}
	try(0, 0)
	return out
}

// worst is the smallest margin over the ways to take picks pool members that
// form a quorum, or over all ways if none does.
//
// With a quorum, the margin is the fewest losses that break it, minus one:
// the groups holding their majority are either kept (needGroups-1 of them,
// the dearest) or broken at their lose cost, and at least one is broken.
// The program picks, group by group, how many members to take and the
// group's fate, minimising the total lose cost.
func (t choiceTable) worst(picks, needGroups int) int {
	layers := t.dudLayers()
	for _, choices := range t.groups {
		var layer []option
		for x, c := range choices {
			if c.regain > 0 {
				layer = append(layer, option{picks: x}) // not held
			}
			if c.held {
				layer = append(layer, option{picks: x, marks: 1}, option{picks: x, cost: c.heldLose, flag: true})
			}
		}
		layers = append(layers, layer)
	}
	if losses, ok := cheapest(layers, picks, needGroups-1, true); ok {
		return losses - 1
	}
	return -t.mostReturns(picks, needGroups)
}

// mostReturns is the largest number of returns a choice can need to form a
// quorum: the sum of the needGroups smallest regain costs, a max-min that
// does not split over groups. But the sum of the k smallest of v is the
// maximum over integer levels L of k*L - sum(max(0, L - v_g)), so for each
// level the program minimises a per-group sum.
func (t choiceTable) mostReturns(picks, needGroups int) int {
	top := 0
	for _, choices := range t.groups {
		for _, c := range choices {
			if c.regain < neverRegained {
				top = max(top, c.regain)
			}
		}
	}
	most := 0
	for level := 1; level <= top; level++ {
		layers := t.dudLayers()
		for _, choices := range t.groups {
			var layer []option
			for x, c := range choices {
				layer = append(layer, option{picks: x, cost: max(0, level-c.regain)})
			}
			layers = append(layers, layer)
		}
		short, _ := cheapest(layers, picks, 0, false)
		most = max(most, needGroups*level-short)
	}
	return most
}

func (t choiceTable) dudLayers() [][]option {
	layer := make([]option, t.duds+1)
	for x := range layer {
		layer[x] = option{picks: x}
	}
	return [][]option{layer}
}

// option is one way to fill one group: take picks pool members, add marks to
// a count, set a flag, at cost.
type option struct {
	picks, marks, cost int
	flag               bool
}

// cheapest is the least total cost of one option per layer with exactly
// picks picks and marks marks in all, and a flag set if needFlag; ok is
// false when no combination qualifies.
func cheapest(layers [][]option, picks, marks int, needFlag bool) (cost int, ok bool) {
	const unreachable = math.MaxInt / 2
	width := (marks + 1) * 2
	state := func(p, m int, f bool) int {
		i := p*width + m*2
		if f {
			i++
		}
		return i
	}
	best := make([]int, (picks+1)*width)
	for i := range best {
		best[i] = unreachable
	}
	best[0] = 0
	for _, layer := range layers {
		next := make([]int, len(best))
		for i := range next {
			next[i] = unreachable
		}
		for from, c := range best {
			if c == unreachable {
				continue
			}
			p, m, f := from/width, from%width/2, from%2 == 1
			for _, o := range layer {
				if p+o.picks <= picks && m+o.marks <= marks {
					to := state(p+o.picks, m+o.marks, f || o.flag)
					next[to] = min(next[to], c+o.cost)
				}
			}
		}
		best = next
	}
	cost = best[state(picks, marks, needFlag)]
	if !needFlag {
		cost = min(cost, best[state(picks, marks, true)])
	}
	return cost, cost < unreachable
}

// trueKeys lists the ids marked true in ids and not in except, sorted.
func trueKeys(ids, except map[int]bool) []int {
	var out []int
	for id, in := range ids {
		if in && !except[id] {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

func toSet(ids []int) map[int]bool {
	set := make(map[int]bool, len(ids))
	for _, id := range ids {
		set[id] = true
	}
	return set
}
