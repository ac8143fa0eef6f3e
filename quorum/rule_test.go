package quorum

import (
	"fmt"
	"math/bits"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

func set(ids ...int) map[int]bool { return toSet(ids) }

// without is ids 1..n minus the given ones.
func without(n int, gone ...int) map[int]bool {
	s := map[int]bool{}
	for id := 1; id <= n; id++ {
		s[id] = !slices.Contains(gone, id)
	}
	return s
}

// groupsOf builds voters 1..len(weights) in groups of the given sizes, in
// order, each with its weight.
func groupsOf(sizes []int, weights ...int) []Voter {
	var voters []Voter
	for g, size := range sizes {
		for range size {
			id := len(voters) + 1
			w := 1
			if len(weights) > 0 {
				w = weights[id-1]
			}
			voters = append(voters, Voter{ID: id, Group: g + 1, Weight: w})
		}
	}
	return voters
}

func mustHierarchical(t testing.TB, voters []Voter) Rule {
	t.Helper()
	r, err := Hierarchical(voters)
	if err != nil {
		t.Fatalf("Hierarchical(%v): %v", voters, err)
	}
	return r
}

func TestMajority(t *testing.T) {
	tests := []struct {
		voters, quorum, tolerance int
		margins                   []int // with 0, 1, 2, ... voters down
	}{
		{1, 1, 0, []int{0, -1}},
		{2, 2, 0, []int{0, -1, -2}},
		{3, 2, 1, []int{1, 0, -1, -2}},
		{4, 3, 1, []int{1, 0, -1, -2, -3}},
		{5, 3, 2, []int{2, 1, 0, -1, -2, -3}},
		{6, 4, 2, []int{2, 1, 0, -1, -2, -3, -4}},
		{7, 4, 3, []int{3, 2, 1, 0, -1, -2, -3, -4}},
		{8, 5, 3, []int{3, 2, 1, 0, -1, -2, -3, -4, -5}},
		{9, 5, 4, []int{4, 3, 2, 1, 0, -1, -2, -3, -4, -5}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d voters", tt.voters), func(t *testing.T) {
			var ids []int
			for id := 1; id <= tt.voters; id++ {
				ids = append(ids, id)
			}
			r := Majority(ids)
			if r.Hierarchical() || r.QuorumSize() != tt.quorum || r.FaultTolerance() != tt.tolerance {
				t.Errorf("hierarchical %v, quorum size %d, fault tolerance %d; want false, %d, %d",
					r.Hierarchical(), r.QuorumSize(), r.FaultTolerance(), tt.quorum, tt.tolerance)
			}
			for down, want := range tt.margins {
				present := without(tt.voters, ids[:down]...)
				if got := r.Margin(present); got != want {
					t.Errorf("%d down: margin %d, want %d", down, got, want)
				}
				if got := r.Contains(present); got != (want >= 0) {
					t.Errorf("%d down: Contains %v, want %v", down, got, want >= 0)
				}
				if got := r.LossesToBreak(present); got != max(want+1, 0) {
					t.Errorf("%d down: LossesToBreak %d, want %d", down, got, max(want+1, 0))
				}
			}
		})
	}
}

func TestMajorityVoters(t *testing.T) {
	r := Majority([]int{5, 3, 3, 1})
	want := []Voter{{ID: 1, Weight: 1}, {ID: 3, Weight: 1}, {ID: 5, Weight: 1}}
	if got := r.Voters(); !slices.Equal(got, want) {
		t.Errorf("Voters() = %v, want %v (duplicates once, sorted)", got, want)
	}
	if !r.IsVoter(3) || r.IsVoter(2) {
		t.Errorf("IsVoter(3) = %v, IsVoter(2) = %v; want true, false", r.IsVoter(3), r.IsVoter(2))
	}
	if r.QuorumSize() != 2 {
		t.Errorf("3 distinct voters: quorum size %d, want 2", r.QuorumSize())
	}
}

func TestNoVoters(t *testing.T) {
	for name, r := range map[string]Rule{"zero Rule": {}, "Majority(nil)": Majority(nil)} {
		t.Run(name, func(t *testing.T) {
			all := set(1, 2, 3)
			if r.Contains(all) || r.Margin(all) != -1 || r.QuorumSize() != 1 || r.FaultTolerance() != -1 ||
				r.WorstMargin(3, all, nil) != -1 || len(r.Voters()) != 0 {
				t.Errorf("Contains %v, Margin %d, QuorumSize %d, FaultTolerance %d, WorstMargin %d, Voters %v; want false, -1, 1, -1, -1, none",
					r.Contains(all), r.Margin(all), r.QuorumSize(), r.FaultTolerance(), r.WorstMargin(3, all, nil), r.Voters())
			}
		})
	}
}

// TestHierarchical checks hand-computed cases, among them the issue's: 3
// groups of 3, two of group 1 down then one of group 2.
func TestHierarchical(t *testing.T) {
	threeByThree := groupsOf([]int{3, 3, 3})
	// Weight-0 servers 4 and 5 sit in group 1 and never count.
	zeroWeights := groupsOf([]int{5}, 1, 1, 1, 0, 0)
	// Group 2 (servers 4, 5) has zero weight: ZooKeeper drops it, leaving
	// two groups, both needed.
	zeroGroup := groupsOf([]int{3, 2, 3}, 1, 1, 1, 0, 0, 1, 1, 1)
	// Server 1 (weight 3 of 5) holds group 1 alone.
	heavy := groupsOf([]int{3, 3, 3}, 3, 1, 1, 1, 1, 1, 1, 1, 1)
	// Group 1 weighs 4: it needs 3, so servers 2 and 3 alone do not hold it.
	even := groupsOf([]int{3, 3, 3}, 2, 1, 1, 1, 1, 1, 1, 1, 1)
	tests := []struct {
		name           string
		voters         []Voter
		present        map[int]bool
		losses, margin int
	}{
		{"3x3 healthy", threeByThree, without(9), 4, 3},
		{"3x3 two of group 1 down", threeByThree, without(9, 1, 2), 2, 1},
		{"3x3 and one of group 2 down", threeByThree, without(9, 1, 2, 4), 1, 0},
		{"3x3 and another of group 2 down", threeByThree, without(9, 1, 2, 4, 5), 0, -1},
		{"3x3 one of each group down", threeByThree, without(9, 1, 4, 7), 2, 1},
		{"3x3 six down, one per group left", threeByThree, set(3, 6, 9), 0, -2},
		{"3x3 nothing left", threeByThree, set(), 0, -4},
		{"weight 0: healthy", zeroWeights, without(5), 2, 1},
		{"weight 0: both weightless down", zeroWeights, without(5, 4, 5), 2, 1},
		{"weight 0: one voter down", zeroWeights, without(5, 1), 1, 0},
		{"weight 0: two voters down, weightless up", zeroWeights, set(3, 4, 5), 0, -1},
		{"zero-weight group: healthy", zeroGroup, without(8), 2, 1},
		{"zero-weight group: its servers down", zeroGroup, without(8, 4, 5), 2, 1},
		{"zero-weight group: one down in group 3", zeroGroup, without(8, 7), 1, 0},
		{"heavy: healthy", heavy, without(9), 3, 2},
		{"heavy: the heavy server down", heavy, without(9, 1), 2, 1},
		{"heavy: heavy server and two of group 2", heavy, set(1, 4, 5), 1, 0},
		{"heavy: both light servers of group 1 down", heavy, without(9, 2, 3), 3, 2},
		{"even: servers 2 and 3 do not hold group 1", even, set(2, 3, 4, 5), 0, -1},
		{"even: servers 1 and 2 do", even, set(1, 2, 4, 5), 1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := mustHierarchical(t, tt.voters)
			if !r.Hierarchical() {
				t.Error("Hierarchical() = false")
			}
			if got := r.Contains(tt.present); got != (tt.margin >= 0) {
				t.Errorf("Contains = %v, want %v", got, tt.margin >= 0)
			}
			if got := r.LossesToBreak(tt.present); got != tt.losses {
				t.Errorf("LossesToBreak = %d, want %d", got, tt.losses)
			}
			if got := r.Margin(tt.present); got != tt.margin {
				t.Errorf("Margin = %d, want %d", got, tt.margin)
			}
		})
	}
}

func TestHierarchicalDesign(t *testing.T) {
	tests := []struct {
		name              string
		voters            []Voter
		quorum, tolerance int
		counting          []int
	}{
		{"3x3", groupsOf([]int{3, 3, 3}), 4, 3, []int{1, 2, 3, 4, 5, 6, 7, 8, 9}},
		{"one group of 5", groupsOf([]int{5}), 3, 2, []int{1, 2, 3, 4, 5}},
		{"weight 0", groupsOf([]int{5}, 1, 1, 1, 0, 0), 2, 1, []int{1, 2, 3}},
		{"zero-weight group", groupsOf([]int{3, 2, 3}, 1, 1, 1, 0, 0, 1, 1, 1), 4, 1, []int{1, 2, 3, 6, 7, 8}},
		{"heavy", groupsOf([]int{3, 3, 3}, 3, 1, 1, 1, 1, 1, 1, 1, 1), 3, 2, []int{1, 2, 3, 4, 5, 6, 7, 8, 9}},
		{"2 groups: both needed", groupsOf([]int{3, 3}), 4, 1, []int{1, 2, 3, 4, 5, 6}},
		{"4 groups: 3 needed", groupsOf([]int{1, 1, 1, 1}), 3, 1, []int{1, 2, 3, 4}},
		{"not in a group", append(groupsOf([]int{3}), Voter{ID: 4, Weight: 1}), 2, 1, []int{1, 2, 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := mustHierarchical(t, tt.voters)
			if r.QuorumSize() != tt.quorum || r.FaultTolerance() != tt.tolerance {
				t.Errorf("quorum size %d, fault tolerance %d; want %d, %d", r.QuorumSize(), r.FaultTolerance(), tt.quorum, tt.tolerance)
			}
			var ids []int
			for _, v := range r.Voters() {
				ids = append(ids, v.ID)
			}
			if !slices.Equal(ids, tt.counting) {
				t.Errorf("Voters() = %v, want ids %v", ids, tt.counting)
			}
			for _, v := range tt.voters {
				if r.IsVoter(v.ID) != slices.Contains(tt.counting, v.ID) {
					t.Errorf("IsVoter(%d) = %v", v.ID, r.IsVoter(v.ID))
				}
			}
		})
	}
}

func TestHierarchicalErrors(t *testing.T) {
	tests := []struct {
		name   string
		voters []Voter
		want   string
	}{
		{"in two groups", []Voter{{ID: 1, Group: 1, Weight: 1}, {ID: 2, Group: 1, Weight: 1}, {ID: 1, Group: 2, Weight: 1}}, "server 1 is in group 1 and group 2"},
		{"twice in a group", []Voter{{ID: 1, Group: 1, Weight: 1}, {ID: 1, Group: 1, Weight: 1}}, "server 1 is listed twice in group 1"},
		{"negative weight", []Voter{{ID: 1, Group: 1, Weight: 1}, {ID: 2, Group: 1, Weight: -1}}, "server 2 has negative weight -1"},
		{"negative id", []Voter{{ID: -3, Group: 1, Weight: 1}}, "server -3: negative server id"},
		{"negative group", []Voter{{ID: 3, Group: -1, Weight: 1}}, "server 3: negative group id -1"},
		{"every weight 0", []Voter{{ID: 1, Group: 1, Weight: 0}, {ID: 2, Group: 2, Weight: 0}}, "no group has a server of non-zero weight"},
		{"no group", []Voter{{ID: 1, Group: 0, Weight: 1}}, "no group has a server of non-zero weight"},
		{"nothing", nil, "no group has a server of non-zero weight"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Hierarchical(tt.voters)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}
func TestWorstMargin(t *testing.T) {
	threeByThree := mustHierarchical(t, groupsOf([]int{3, 3, 3}))
	heavy := mustHierarchical(t, groupsOf([]int{3, 3, 3}, 3, 1, 1, 1, 1, 1, 1, 1, 1))
	zeroWeights := mustHierarchical(t, groupsOf([]int{5}, 1, 1, 1, 0, 0))
	tests := []struct {
		name              string
		rule              Rule
		count             int
		known, candidates map[int]bool
		want              int
	}{
		{"majority: leader's count of 4 raises the 3 reached", Majority([]int{1, 2, 3, 4, 5}), 4, set(1, 2, 3), set(4, 5), 1},
		{"majority: leader's count of 3 lowers the 5 reached", Majority([]int{1, 2, 3, 4, 5}), 3, set(1, 2, 3, 4, 5), nil, 0},
		{"3x3: everything known", threeByThree, 9, without(9), nil, 3},
		{"3x3: 7 in quorum, group 3 unseen", threeByThree, 7, set(1, 2, 3, 4, 5, 6), set(7, 8, 9), 1},
		{"3x3: 7 in quorum, nothing seen", threeByThree, 7, nil, without(9), 1},
		// Any 5 of 9 could be three of group 1 and one each of groups 2 and 3,
		// no quorum; a serving leader rules that out.
		{"3x3: 5 in quorum, nothing seen", threeByThree, 5, nil, without(9), 0},
		{"3x3: 4 in quorum", threeByThree, 4, nil, without(9), 0},
		{"3x3: 3 in quorum cannot be one", threeByThree, 3, nil, without(9), -2},
		{"3x3: count below what is known", threeByThree, 6, without(9), nil, 0},
		{"3x3: count above all there is", threeByThree, 12, set(1, 2), set(4, 5), 0},
		{"majority: an unknown server fills a place", Majority([]int{1, 2, 3, 4, 5}), 4, set(1, 2, 3), set(4, 42), 0},
		{"weight 0: weightless servers fill places", zeroWeights, 3, nil, without(5), 0},
		{"heavy: the heavy server may be the one missing", heavy, 8, nil, without(9), 1},
		{"heavy: only group 1's light servers unseen", heavy, 8, set(1, 4, 5, 6, 7, 8, 9), set(2, 3), 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.rule.WorstMargin(tt.count, tt.known, tt.candidates); got != tt.want {
				t.Errorf("WorstMargin = %d, want %d", got, tt.want)
			}
		})
	}
}

// reference answers every question by brute force over the subsets of a
// universe of servers (bit i = universe[i]), from a quorum test written
// after ZooKeeper's QuorumMaj and QuorumHierarchical.containsQuorum.
type reference struct {
	universe []int
	voters   uint // the servers that count
	quorum   []bool
	margin   []int
	losses   []int
}

// zkContains is ZooKeeper's test: simple majority counts the set; the
// hierarchical one adds up weights per group and wants more than half the
// groups (those of non-zero weight) to hold more than half their weight.
func zkContains(voters []Voter, hierarchical bool, in map[int]bool) bool {
	if !hierarchical {
		n := 0
		for _, v := range voters {
			if in[v.ID] {
				n++
			}
		}
		return n > len(voters)/2
	}
	total, got := map[int]int{}, map[int]int{}
	for _, v := range voters {
		if v.Group == 0 {
			continue
		}
		total[v.Group] += v.Weight
		if in[v.ID] {
			got[v.Group] += v.Weight
		}
	}
	groups, held := 0, 0
	for g, w := range total {
		if w != 0 {
			groups++
		}
		if got[g] > w/2 {
			held++
		}
	}
	return held > groups/2
}

func newReference(voters []Voter, hierarchical bool, universe []int) reference {
	n := len(universe)
	ref := reference{universe: universe, quorum: make([]bool, 1<<n), margin: make([]int, 1<<n), losses: make([]int, 1<<n)}
	for mask := range ref.quorum {
		ref.quorum[mask] = zkContains(voters, hierarchical, ref.set(uint(mask)))
	}
	for i, id := range universe {
		for _, v := range voters {
			if v.ID == id && v.Weight > 0 && (v.Group > 0 || !hierarchical) {
				ref.voters |= 1 << i
			}
		}
	}
	for mask := range ref.quorum {
		ref.losses[mask], ref.margin[mask] = ref.brute(uint(mask))
	}
	return ref
}

// brute tries every set of servers to remove (for a quorum) or to bring
// back (without one) and keeps the smallest that flips the answer.
func (ref reference) brute(mask uint) (losses, margin int) {
	if ref.quorum[mask] {
		losses = bits.OnesCount(mask)
		for sub := mask; sub > 0; sub = (sub - 1) & mask {
			if !ref.quorum[mask&^sub] {
				losses = min(losses, bits.OnesCount(sub))
			}
		}
		return losses, losses - 1
	}
	absent := ref.voters &^ mask
	back := -1
	for add := absent; ; add = (add - 1) & absent {
		if ref.quorum[mask|add] && (back < 0 || bits.OnesCount(add) < back) {
			back = bits.OnesCount(add)
		}
		if add == 0 {
			break
		}
	}
	return 0, -max(back, 1)
}

func (ref reference) set(mask uint) map[int]bool {
	s := map[int]bool{}
	for i, id := range ref.universe {
		if mask&(1<<i) != 0 {
			s[id] = true
		}
	}
	return s
}

func (ref reference) quorumSize() int {
	size := len(ref.universe) + 1
	for mask, q := range ref.quorum {
		if q {
			size = min(size, bits.OnesCount(uint(mask)))
		}
	}
	return size
}

// worstMargin tries every choice of count servers that the leader's word
// allows, preferring those that form a quorum.
func (ref reference) worstMargin(count int, known, candidates uint) int {
	candidates &^= known
	take := func(pool uint, k int) []uint {
		var out []uint
		for sub := pool; ; sub = (sub - 1) & pool {
			if bits.OnesCount(sub) == k {
				out = append(out, sub)
			}
			if sub == 0 {
				return out
			}
		}
	}
	fromKnown := min(count, bits.OnesCount(known))
	fromCandidates := min(count-fromKnown, bits.OnesCount(candidates))
	worstQuorum, worst, anyQuorum := 1<<30, 1<<30, false
	for _, a := range take(known, fromKnown) {
		for _, b := range take(candidates, fromCandidates) {
			m := ref.margin[a|b]
			worst = min(worst, m)
			if ref.quorum[a|b] {
				anyQuorum = true
				worstQuorum = min(worstQuorum, m)
			}
		}
	}
	if anyQuorum {
		return worstQuorum
	}
	return worst
}

// check compares every method of r with the reference over every subset,
// and WorstMargin over trials random leader's words (all of them when
// trials < 0). It returns the first difference.
func (ref reference) check(r Rule, rng *rand.Rand, trials int) error {
	full := uint(1)<<len(ref.universe) - 1
	if got, want := r.QuorumSize(), ref.quorumSize(); got != want {
		return fmt.Errorf("QuorumSize = %d, want %d", got, want)
	}
	if got, want := r.FaultTolerance(), ref.losses[ref.voters]-1; got != want {
		return fmt.Errorf("FaultTolerance = %d, want %d", got, want)
	}
	for mask := uint(0); mask <= full; mask++ {
		present := ref.set(mask)
		if r.Contains(present) != ref.quorum[mask] || r.LossesToBreak(present) != ref.losses[mask] || r.Margin(present) != ref.margin[mask] {
			return fmt.Errorf("present %v: Contains %v, LossesToBreak %d, Margin %d; want %v, %d, %d", present,
				r.Contains(present), r.LossesToBreak(present), r.Margin(present), ref.quorum[mask], ref.losses[mask], ref.margin[mask])
		}
	}
	return ref.checkWorst(r, rng, trials)
}

func (ref reference) checkWorst(r Rule, rng *rand.Rand, trials int) error {
	n := len(ref.universe)
	try := func(count int, known, candidates uint) error {
		got := r.WorstMargin(count, ref.set(known), ref.set(candidates))
		if want := ref.worstMargin(count, known, candidates); got != want {
			return fmt.Errorf("WorstMargin(%d, known %v, candidates %v) = %d, want %d", count, ref.set(known), ref.set(candidates), got, want)
		}
		return nil
	}
	if trials < 0 {
		for known := uint(0); known < 1<<n; known++ {
			rest := (uint(1)<<n - 1) &^ known
			for candidates := rest; ; candidates = (candidates - 1) & rest {
				for count := 0; count <= n+1; count++ {
					if err := try(count, known, candidates); err != nil {
						return err
					}
				}
				if candidates == 0 {
					break
				}
			}
		}
		return nil
	}
	for range trials {
		// Overlapping known and candidates on purpose: known wins.
		known, candidates := uint(rng.IntN(1<<n)), uint(rng.IntN(1<<n))
		if err := try(rng.IntN(n+2), known, candidates); err != nil {
			return err
		}
	}
	return nil
}

// randomVoters draws n servers with ids 1..n in up to 4 groups (sometimes
// none), weights from 0 to 3 leaning to 1.
func randomVoters(rng *rand.Rand, n int) []Voter {
	groups := 1 + rng.IntN(4)
	weights := []int{0, 1, 1, 1, 1, 2, 3}
	var voters []Voter
	for id := 1; id <= n; id++ {
		g := 1 + rng.IntN(groups)
		if rng.IntN(12) == 0 {
			g = 0
		}
		voters = append(voters, Voter{ID: id, Group: g, Weight: weights[rng.IntN(len(weights))]})
	}
	return voters
}

// TestRuleAgainstBruteForce checks random rules of 1 to 9 servers (fixed
// seed), plus a server no rule knows, against the brute-force reference.
func TestRuleAgainstBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 2181))
	for n := 1; n <= 9; n++ {
		universe := []int{1000}
		var ids []int
		for id := 1; id <= n; id++ {
			ids = append(ids, id)
			universe = append(universe, id)
		}
		t.Run(fmt.Sprintf("majority of %d", n), func(t *testing.T) {
			voters := make([]Voter, n)
			for i, id := range ids {
				voters[i] = Voter{ID: id, Weight: 1}
			}
			ref := newReference(voters, false, universe)
			if err := ref.check(Majority(ids), rng, 300); err != nil {
				t.Error(err)
			}
		})
		t.Run(fmt.Sprintf("hierarchical of %d", n), func(t *testing.T) {
			for checked := 0; checked < 25; {
				voters := randomVoters(rng, n)
				r, err := Hierarchical(voters)
				if err != nil {
					continue // no weight anywhere: nothing to check
				}
				checked++
				if err := newReference(voters, true, universe).check(r, rng, 300); err != nil {
					t.Fatalf("voters %v: %v", voters, err)
				}
			}
		})
	}
}

// TestRuleAgainstBruteForceExhaustive checks every rule of up to 4 servers
// (every grouping into up to 3 groups or none, weights 0 to 2) and every
// leader's word (a sample of them for 4 servers).
func TestRuleAgainstBruteForceExhaustive(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 2181))
	largest := 4
	if testing.Short() {
		largest = 3
	}
	for n := 1; n <= largest; n++ {
		universe := []int{1000}
		for id := 1; id <= n; id++ {
			universe = append(universe, id)
		}
		rules, combos := 0, 1
		for range n {
			combos *= 4 * 3
		}
		for c := range combos {
			voters := make([]Voter, n)
			for i := range voters {
				voters[i] = Voter{ID: i + 1, Group: c % 4, Weight: c / 4 % 3}
				c /= 12
			}
			r, err := Hierarchical(voters)
			if err != nil || !canonicalGroups(voters) {
				continue
			}
			rules++
			trials := -1
			if n == 4 {
				trials = 40 // every word for 5 servers takes too long
			}
			if err := newReference(voters, true, universe).check(r, rng, trials); err != nil {
				t.Fatalf("voters %v: %v", voters, err)
			}
		}
		t.Logf("%d servers: %d rules", n, rules)
	}
}

// canonicalGroups is false for a grouping that only renames the groups of
// another one: groups are numbered in the order of their first server.
func canonicalGroups(voters []Voter) bool {
	next := 1
	for _, v := range voters {
		switch {
		case v.Group == next:
			next++
		case v.Group > next:
			return false
		}
	}
	return true
}
