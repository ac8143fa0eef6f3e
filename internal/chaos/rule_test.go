package chaos

import "testing"

func TestRuleMargin(t *testing.T) {
	five := rule{voters: []int{1, 2, 3, 4, 5}}
	nine := rule{voters: []int{1, 2, 3, 4, 5, 6, 7, 8, 9}, groups: [][]int{{1, 2, 3}, {4, 5, 6}, {7, 8, 9}}}
	for _, c := range []struct {
		name string
		r    rule
		up   []int
		want int
	}{
		{"5 up", five, []int{1, 2, 3, 4, 5}, 2},
		{"4 up", five, []int{1, 2, 3, 4}, 1},
		{"3 up", five, []int{1, 2, 3}, 0},
		{"2 up", five, []int{1, 2}, -1},
		{"none up", five, nil, -3},
		{"9 in groups", nine, []int{1, 2, 3, 4, 5, 6, 7, 8, 9}, 3},
		{"two of one group down", nine, []int{1, 4, 5, 6, 7, 8, 9}, 1},
		{"two down in each of two groups", nine, []int{1, 4, 7, 8, 9}, -1},
		{"one down in each group", nine, []int{1, 2, 4, 5, 7, 8}, 1},
	} {
		if got := c.r.margin(setOf(c.up...)); got != c.want {
			t.Errorf("%s: margin %d, want %d", c.name, got, c.want)
		}
	}
	if got := nine.faultTolerance(); got != 3 {
		t.Errorf("9 voters in 3 groups tolerate %d, want 3", got)
	}
}
