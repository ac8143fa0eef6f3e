package quorum

import "slices"

// maxChoices bounds worstAfterLoss's search: beyond it, the answer is the
// pessimistic -1 rather than a guess.
const maxChoices = 200_000

// worstAfterLoss is the smallest margin left once the voters in lost are
// gone, over every set the leader's quorum may be before the loss: from
// minCount to maxCount voters, all of known first (any of them when the
// count is smaller), the rest from candidates, and a quorum, since a
// serving leader's synced voters are one. The margin of such a set is that
// of what the loss leaves of it; a quorum that the loss breaks counts, which
// is what asking only of the quorums still standing afterwards would miss.
// ok is false when no set of those counts is a quorum.
//
// Members alike for the question (the same group and weight, lost or not)
// are interchangeable, so the search goes over how many of each kind are
// taken rather than over every subset.
func (r Rule) worstAfterLoss(minCount, maxCount int, known, candidates, lost map[int]bool) (worst int, ok bool) {
	in := trueKeys(known, nil)
	pool := trueKeys(candidates, known)
	tried := 0
	for count := minCount; count <= maxCount; count++ {
		fixed, from, picks := in, pool, count-len(in)
		switch {
		case picks >= len(pool):
			fixed, from, picks = append(slices.Clone(in), pool...), nil, 0
		case picks < 0:
			fixed, from, picks = nil, in, count
		}
		kinds := r.kinds(from, lost)
		taken := make([]int, len(kinds))
		var try func(k, left int) bool
		try = func(k, left int) bool {
			if k == len(kinds) {
				if left > 0 {
					return true
				}
				if tried++; tried > maxChoices {
					return false
				}
				set := toSet(fixed)
				for i, kind := range kinds {
					for _, id := range kind[:taken[i]] {
						set[id] = true
					}
				}
				if r.Contains(set) {
					m := r.Margin(minus(set, lost))
					if !ok || m < worst {
						worst, ok = m, true
					}
				}
				return true
			}
			for x := 0; x <= min(left, len(kinds[k])); x++ {
				taken[k] = x
				if !try(k+1, left-x) {
					return false
				}
			}
			return true
		}
		if !try(0, picks) {
			return -1, true
		}
	}
	return worst, ok
}

// kinds splits ids into classes of interchangeable members: the same seat
// (group and weight, or none) and the same fate (lost or not).
func (r Rule) kinds(ids []int, lost map[int]bool) [][]int {
	type key struct {
		group, weight int
		counts, lost  bool
	}
	index := map[key]int{}
	var out [][]int
	for _, id := range ids {
		s, counts := r.seat[id]
		k := key{s.group, s.weight, counts, lost[id]}
		i, seen := index[k]
		if !seen {
			i = len(out)
			index[k] = i
			out = append(out, nil)
		}
		out[i] = append(out[i], id)
	}
	return out
}
