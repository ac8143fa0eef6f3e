package quorum

import (
	"fmt"
	"testing"
)

// benchRules are the shapes a real ensemble takes: simple majorities,
// three sites of equal groups, and a large ensemble with uneven weights.
func benchRules(b *testing.B) []namedRule {
	var fifteen []int
	for id := 1; id <= 15; id++ {
		fifteen = append(fifteen, id)
	}
	uneven := make([]int, 45)
	for i := range uneven {
		uneven[i] = 1 + i%3
	}
	return []namedRule{
		{"majority 9", Majority(fifteen[:9])},
		{"majority 15", Majority(fifteen)},
		{"hierarchical 3x3", mustHierarchical(b, groupsOf([]int{3, 3, 3}))},
		{"hierarchical 3x5", mustHierarchical(b, groupsOf([]int{5, 5, 5}))},
		{"hierarchical 5x9 weights 1-3", mustHierarchical(b, groupsOf([]int{9, 9, 9, 9, 9}, uneven...))},
	}
}

type namedRule struct {
	name string
	rule Rule
}

func BenchmarkMargin(b *testing.B) {
	for _, nr := range benchRules(b) {
		r := nr.rule
		present := map[int]bool{}
		for _, v := range r.Voters() {
			present[v.ID] = v.ID%4 != 0
		}
		b.Run(nr.name, func(b *testing.B) {
			for b.Loop() {
				r.Margin(present)
			}
		})
	}
}

// BenchmarkWorstMargin has the exporter see a third of the voters while
// the leader counts all but one.
func BenchmarkWorstMargin(b *testing.B) {
	for _, nr := range benchRules(b) {
		r := nr.rule
		voters := r.Voters()
		known, candidates := map[int]bool{}, map[int]bool{}
		for _, v := range voters {
			if v.ID%3 == 0 {
				known[v.ID] = true
			} else {
				candidates[v.ID] = true
			}
		}
		b.Run(fmt.Sprintf("%s, %d of %d", nr.name, len(voters)-1, len(voters)), func(b *testing.B) {
			for b.Loop() {
				r.WorstMargin(len(voters)-1, known, candidates)
			}
		})
	}
}
