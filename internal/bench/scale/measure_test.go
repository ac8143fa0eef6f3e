package main

import (
	"strings"
	"testing"
)

func TestCountWords(t *testing.T) {
	// Two scrapes of two members, counted around each scrape: what the
	// members got in between (the floor's words) is not counted.
	counts := []map[string]map[string]int64{
		{"a": {"srvr": 1}, "b": {}},
		{"a": {"srvr": 3, "mntr": 2}, "b": {"srvr": 2, "mntr": 2, "conf": 2}},
		{"a": {"srvr": 103, "mntr": 102}, "b": {"srvr": 102, "mntr": 102, "conf": 2}},
		{"a": {"srvr": 105, "mntr": 104}, "b": {"srvr": 104, "mntr": 104, "conf": 2}},
	}
	r := result{members: 2, wordsByName: map[string]int64{}}
	perMember := map[string]int64{}
	r.countWords(perMember, counts[0], counts[1])
	r.countWords(perMember, counts[2], counts[3])
	r.perMember(perMember, 2)
	cases := []struct {
		name      string
		got, want float64
	}{
		{"mean words per member per scrape", r.wordsPerMember, (8 + 10) / 2.0 / 2},
		{"busiest member's words per scrape", r.maxWordsPerMember, 10 / 2.0},
		{"srvr received", float64(r.wordsByName["srvr"]), 8},
		{"conf received", float64(r.wordsByName["conf"]), 2},
	}
	for _, c := range cases {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestCheck(t *testing.T) {
	exposition := strings.Join([]string{
		"# TYPE zookeeper_up gauge",
		`zookeeper_up{member="a"} 1`, `zookeeper_up{member="b"} 0`, `zookeeper_up{member="c"} 1`,
		"# TYPE zookeeper_ensemble_quorum_margin gauge",
		`zookeeper_ensemble_quorum_margin{ensemble="e000"} 2`, `zookeeper_ensemble_quorum_margin{ensemble="e001"} 1`,
	}, "\n") + "\n"
	r := result{members: 3, ensembles: 2}
	if err := r.check([]byte(exposition), 5); err != nil {
		t.Fatal(err)
	}
	want := []string{"2 of 3 members up", "1 of 2 ensembles with margin 2"}
	if r.series != 5 || strings.Join(r.problems, "|") != strings.Join(want, "|") {
		t.Errorf("series %d, problems %q; want 5, %q", r.series, r.problems, want)
	}
}
