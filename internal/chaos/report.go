package chaos

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"
)

// Report is what a campaign did and found.
type Report struct {
	Seed              uint64
	Voters, Observers int
	Groups            [][]int
	Release           string // "" for Debian's package
	Elapsed           time.Duration
	// Steps counts faults applied; Faults them by kind.
	Steps  int
	Faults map[string]int
	// Margins counts the exporter's margin (whole ensemble) at each
	// agreeing check, after a fault and once it settled; PartialMargins the same with one voter left out of its
	// configuration; TruthMargins the members' own worst case at every
	// settled check.
	Margins, PartialMargins, TruthMargins map[int]int
	// Checks counts settled readings that agreed; Transient those that
	// first disagreed and agreed within confirmWithin; Unsettled the checks
	// where the members never held still within settleWithin.
	Checks, Transient, Unsettled int
	// Exact counts the agreeing checks where the exporter's margin was
	// the members' own worst case to the voter (not a check: the margin
	// may be more careful than the members show).
	Exact int
	// SafeStops counts "safe to stop" answers acted on, SafeStopVoters
	// those of them that stopped a voter (the others an observer).
	SafeStops, SafeStopVoters int
	// AlertChecks counts readings of Prometheus's alerts; AlertsFiring
	// the critical alerts seen firing (where the members showed no
	// tolerance of a loss), by name, per reading.
	AlertChecks  int
	AlertsFiring map[string]int
	// Sequence is every fault in order, as a plan replays it.
	Sequence      []string
	Disagreements []Disagreement
}

// Disagreement is one check the exporter failed.
type Disagreement struct {
	Step     int
	Fault    string
	Check    string
	Exporter string
	Members  string
}

func (d Disagreement) String() string {
	return fmt.Sprintf("step %d (%s), %s: exporter: %s; members: %s", d.Step, d.Fault, d.Check, d.Exporter, d.Members)
}

// Failed reports whether any check disagreed.
func (r *Report) Failed() bool { return len(r.Disagreements) > 0 }

// Write prints the report as plain text (it reads as Markdown too).
func (r *Report) Write(w io.Writer) {
	groups := ""
	if r.Groups != nil {
		groups = fmt.Sprintf(" in groups %v", r.Groups)
	}
	release := r.Release
	if release == "" {
		release = "Debian's package"
	}
	fmt.Fprintf(w, "chaos campaign: seed %d, %d voters%s + %d observers, ZooKeeper %s, %s\n", r.Seed, r.Voters, groups, r.Observers, release, r.Elapsed)
	fmt.Fprintf(w, "fault steps: %d (%s)\n", r.Steps, counts(r.Faults, func(k string) string { return k }))
	fmt.Fprintf(w, "safe-to-stop answers acted on: %d (voters %d, observers %d)\n", r.SafeStops, r.SafeStopVoters, r.SafeStops-r.SafeStopVoters)
	fmt.Fprintf(w, "exporter margin at checks:        %s\n", marginCounts(r.Margins))
	fmt.Fprintf(w, "same, one voter unconfigured:     %s\n", marginCounts(r.PartialMargins))
	fmt.Fprintf(w, "members' own margin at checks:    %s\n", marginCounts(r.TruthMargins))
	fmt.Fprintf(w, "exporter margin equal to the members' own: %d of %d checks\n", r.Exact, r.Checks)
	fmt.Fprintf(w, "settled checks agreeing: %d (of which first disagreeing for under %s: %d); not settled within %s: %d\n",
		r.Checks, confirmWithin, r.Transient, settleWithin, r.Unsettled)
	fmt.Fprintf(w, "Prometheus alert readings: %d; critical alerts firing (readings): %s\n", r.AlertChecks, counts(r.AlertsFiring, func(k string) string { return k }))
	fmt.Fprintf(w, "disagreements: %d\n", len(r.Disagreements))
	for _, d := range r.Disagreements {
		fmt.Fprintf(w, "  seed %d %s\n", r.Seed, d)
	}
	fmt.Fprintf(w, "replay: PLAN=%q\n", strings.Join(r.Sequence, "; "))
}

func counts[K string | int](m map[K]int, name func(K) string) string {
	if len(m) == 0 {
		return "none"
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s %d", name(k), m[k]))
	}
	return strings.Join(parts, ", ")
}

func marginCounts(m map[int]int) string {
	keys := slices.Sorted(maps.Keys(m))
	slices.Reverse(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%d: %d", k, m[k]))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}
