package zkmodel

import "math/bits"

// TrueMargin is the quorum margin by brute force over every choice of
// voters: with a leader, the fewest further voter losses that leave its
// acking voters without a quorum, minus one; without one, minus the fewest
// voters that must come back (at least 1). The state must be settled.
func (e *Ensemble) TrueMargin() int {
	if e.leader == nil {
		return -e.fewestReturns()
	}
	var acking []int
	for _, s := range e.Servers {
		if s.Voter() && s.up() && s.Side == e.leader.Side {
			acking = append(acking, s.ID)
		}
	}
	fewest := len(acking)
	for mask := uint(0); mask < 1<<len(acking); mask++ {
		lost := bits.OnesCount(mask)
		if lost >= fewest {
			continue
		}
		left := map[int]bool{}
		for i, id := range acking {
			if mask&(1<<i) == 0 {
				left[id] = true
			}
		}
		if !e.quorum(left) {
			fewest = lost
		}
	}
	return fewest - 1
}

// fewestReturns is the fewest voters not running that must come back for
// the running ones to hold a quorum, at least 1 (a partition may be all
// that keeps the running ones apart).
func (e *Ensemble) fewestReturns() int {
	var up map[int]bool = map[int]bool{}
	var down []int
	for _, s := range e.voters() {
		if s.up() {
			up[s.ID] = true
		} else {
			down = append(down, s.ID)
		}
	}
	fewest := len(down) + 1
	for mask := uint(0); mask < 1<<len(down); mask++ {
		back := bits.OnesCount(mask)
		if back >= fewest {
			continue
		}
		set := map[int]bool{}
		for id := range up {
			set[id] = true
		}
		for i, id := range down {
			if mask&(1<<i) != 0 {
				set[id] = true
			}
		}
		if e.quorum(set) {
			fewest = back
		}
	}
	return max(1, fewest)
}

// MarginWithout is the true margin once the given servers are stopped and
// the ensemble has settled again (a new election if the leader went).
func (e *Ensemble) MarginWithout(ids ...int) int {
	after := e.Clone()
	for _, id := range ids {
		if s := after.Server(id); s != nil {
			s.Process = Stopped
		}
	}
	after.Settle()
	return after.TrueMargin()
}

// MarginWithoutDatacenter is the true margin once every server of the
// datacenter is stopped.
func (e *Ensemble) MarginWithoutDatacenter(dc string) int {
	var ids []int
	for _, s := range e.Servers {
		if s.Datacenter == dc {
			ids = append(ids, s.ID)
		}
	}
	return e.MarginWithout(ids...)
}
