package chaos

// rule is the campaign's own quorum arithmetic, written apart from the
// exporter's quorum package so that the members' truth is never judged with
// the code under test: a majority of the voters, or with groups more than
// half of the groups each with more than half of its voters (every weight
// is 1 here). It is small enough to check by brute force.
type rule struct {
	voters []int
	groups [][]int // nil: simple majority
}

// quorate reports whether the voters in set form a quorum.
func (r rule) quorate(set map[int]bool) bool {
	if r.groups == nil {
		n := 0
		for _, id := range r.voters {
			if set[id] {
				n++
			}
		}
		return 2*n > len(r.voters)
	}
	groups := 0
	for _, g := range r.groups {
		n := 0
		for _, id := range g {
			if set[id] {
				n++
			}
		}
		if 2*n > len(g) {
			groups++
		}
	}
	return 2*groups > len(r.groups)
}

// margin is how many more of the voters in set can be lost, chosen the worst
// way, with a quorum left, minus one: 0 means the next loss can break it.
// Without a quorum it is minus the fewest voters that must come back.
func (r rule) margin(set map[int]bool) int {
	in, out := r.split(set)
	if !r.quorate(set) {
		return -r.fewest(out, func(chosen map[int]bool) bool { return r.quorate(union(set, chosen)) })
	}
	return r.fewest(in, func(chosen map[int]bool) bool { return !r.quorate(minus(set, chosen)) }) - 1
}

// faultTolerance is the margin with every voter up.
func (r rule) faultTolerance() int {
	all := map[int]bool{}
	for _, id := range r.voters {
		all[id] = true
	}
	return r.margin(all)
}

func (r rule) split(set map[int]bool) (in, out []int) {
	for _, id := range r.voters {
		if set[id] {
			in = append(in, id)
		} else {
			out = append(out, id)
		}
	}
	return in, out
}

// fewest is the size of the smallest subset of ids that satisfies ok,
// len(ids)+1 if none does.
func (r rule) fewest(ids []int, ok func(map[int]bool) bool) int {
	best := len(ids) + 1
	for mask := 0; mask < 1<<len(ids); mask++ {
		chosen := map[int]bool{}
		for i, id := range ids {
			if mask&(1<<i) != 0 {
				chosen[id] = true
			}
		}
		if len(chosen) < best && ok(chosen) {
			best = len(chosen)
		}
	}
	return best
}

func union(a, b map[int]bool) map[int]bool {
	out := map[int]bool{}
	for id := range a {
		out[id] = true
	}
	for id := range b {
		out[id] = true
	}
	return out
}

func minus(a, b map[int]bool) map[int]bool {
	out := map[int]bool{}
	for id := range a {
		if !b[id] {
			out[id] = true
		}
	}
	return out
}

func setOf(ids ...int) map[int]bool {
	out := map[int]bool{}
	for _, id := range ids {
		out[id] = true
	}
	return out
}
