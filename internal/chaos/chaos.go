// Package chaos runs fault campaigns against a real ZooKeeper ensemble
// watched by the exporter: random faults (kill -9, SIGTERM, SIGSTOP and
// SIGCONT, restarts, partitions in a network namespace of the campaign's
// own, and stops of members the exporter says are safe to stop), and after
// each one the exporter's answers checked against what the members
// themselves do: whether a write commits, who leads, which processes run.
// A disagreement fails the campaign; the report says which step, with the
// seed and both sides' answers.
package chaos

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"slices"
	"time"

	"github.com/quorumwatch/zookeeper_exporter/internal/zkcluster"
)

// Options describe a campaign.
type Options struct {
	// Seed drives every random choice; the report prints it.
	Seed uint64
	// Duration bounds the faults' time (start-up excluded); a plan ends
	// sooner when it runs out.
	Duration time.Duration
	// Plan, when set, replaces the random faults with a fixed sequence.
	Plan []Fault

	// Voters and Observers size the ensemble (5 and 1 if both are zero); Groups
	// makes its quorum hierarchical, as zkcluster.Options.Groups.
	Voters, Observers int
	Groups            [][]int
	// Release selects the ZooKeeper release the members run, as
	// zkcluster.Options.Release: "" for Debian's 3.8.0, a version such as
	// "3.9.5" for that release, fetched once per machine.
	Release string

	// Exporter and Prometheus are the binaries to run.
	Exporter, Prometheus string
	// Log receives one line per step (os.Stderr if nil).
	Log io.Writer
}

func (o Options) withDefaults() Options {
	if o.Voters == 0 && o.Observers == 0 {
		o.Voters, o.Observers = 5, 1
	}
	if o.Log == nil {
		o.Log = os.Stderr
	}
	return o
}

// The members' timing: a leader gives up on a silent follower (and a
// follower on its leader) after syncLimit ticks.
const (
	tickTime  = 500 * time.Millisecond
	syncLimit = 4
)

func (o Options) clusterOptions() zkcluster.Options {
	zo := zkcluster.Options{
		Voters: o.Voters, Observers: o.Observers, Groups: o.Groups,
		TickTime: tickTime, SyncLimit: syncLimit,
		NetNS: true, SeparateUsers: true,
	}
	// zkcluster fetches a release other than Debian's once per machine.
	zo.Release = o.Release
	return zo
}

func (o Options) rule() rule {
	r := rule{groups: o.Groups}
	for id := 1; id <= o.Voters; id++ {
		r.voters = append(r.voters, id)
	}
	return r
}

// Run runs a campaign and returns its report; the report's Failed says
// whether any check disagreed. The error is for a campaign that could not
// run (no ZooKeeper, no namespace).
func Run(ctx context.Context, o Options) (*Report, error) {
	o = o.withDefaults()
	if err := zkcluster.NetNSSupported(); err != nil {
		return nil, err
	}
	for _, bin := range []string{o.Exporter, o.Prometheus} {
		if _, err := os.Stat(bin); err != nil {
			return nil, fmt.Errorf("chaos: %w", err)
		}
	}
	fmt.Fprintf(o.Log, "chaos: seed %d, %d voters, %d observers, groups %v, for %s\n", o.Seed, o.Voters, o.Observers, o.Groups, o.Duration)
	s, err := startStack(ctx, o)
	if err != nil {
		return nil, err
	}
	defer s.close()
	c := &campaign{
		opts: o, s: s, rule: o.rule(),
		ob: &observer{cluster: s.cluster, probeTimeout: 1500 * time.Millisecond, writeTimeout: 2500 * time.Millisecond},
		report: &Report{Seed: o.Seed, Voters: o.Voters, Observers: o.Observers, Groups: o.Groups, Release: o.Release,
			Faults: map[string]int{}, Margins: map[int]int{}, PartialMargins: map[int]int{},
			TruthMargins: map[int]int{}, AlertsFiring: map[string]int{}},
	}
	c.policy = &policy{rng: rand.New(rand.NewPCG(o.Seed, 0x636861_6f73)), rule: c.rule, visits: map[int]int{}, safeStopChance: 0.8}
	start := time.Now()
	err = c.run(ctx, start.Add(o.Duration))
	c.report.Elapsed = time.Since(start).Round(time.Second)
	return c.report, err
}

// campaign is one run's state.
type campaign struct {
	opts   Options
	s      *stack
	rule   rule
	ob     *observer
	policy *policy
	report *Report
	side   []int // partitioned members
	// history holds every reading with writes, for the alert check.
	history []observation
	// last counters of the campaign's exporter, to tell a fresh round.
	rounds, shared float64
	// alerts already reported, by name and activeAt.
	alerted map[string]bool
}

func (c *campaign) run(ctx context.Context, deadline time.Time) error {
	c.alerted = map[string]bool{}
	var prev Fault
	prevAt := time.Now()
	for step := 1; ; step++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := c.s.exited(); err != nil {
			return err
		}
		// The state the last fault left, again after it settled.
		if wait := time.Until(prevAt.Add(settlePeriod)); step > 1 && wait > 0 {
			time.Sleep(wait)
		}
		settled := c.check(ctx, step-1, prev, prevAt, "settled")
		if c.opts.Plan != nil && step > len(c.opts.Plan) || c.opts.Plan == nil && time.Now().After(deadline) {
			return nil
		}
		// A plan's safe stop waits for the exporter to name a member
		// (a restarted one still syncing blocks every verdict).
		for wait := 0; c.opts.Plan != nil && c.opts.Plan[step-1].Kind == faultSafeStop && len(settled.safe) == 0 && wait < 30; wait++ {
			time.Sleep(time.Second)
			settled = c.check(ctx, step-1, prev, prevAt, "settled")
		}
		f, err := c.nextFault(ctx, step, settled)
		if err != nil {
			return err
		}
		if err := apply(c.s.cluster, f); err != nil {
			return fmt.Errorf("step %d: %w", step, err)
		}
		at := time.Now()
		c.record(step, f)
		if f.Kind == faultSafeStop {
			c.verifySafeStop(ctx, step, f)
		}
		c.check(ctx, step, f, at, "after")
		c.checkAlerts(step, f)
		prev, prevAt = f, at
	}
}

// nextFault draws the next fault, or takes it from the plan.
func (c *campaign) nextFault(ctx context.Context, step int, settled result) (Fault, error) {
	w := world{members: c.s.cluster.Members(), side: c.side}
	if c.opts.Plan == nil {
		return c.policy.next(w, settled.safe), nil
	}
	f := c.opts.Plan[step-1]
	if f.Role == "" {
		if f.Kind == faultSafeStop && !slices.Contains(settled.safe, f.Members[0]) {
			return f, fmt.Errorf("step %d (%s): the exporter does not say zk%d is safe to stop (%s)", step, f, f.Members[0], settled.view)
		}
		return f, nil
	}
	if f.Kind == faultSafeStop && len(settled.safe) == 0 {
		return f, fmt.Errorf("step %d (%s): the exporter says no member is safe to stop (%s)", step, f, settled.view)
	}
	obs := c.ob.observe(ctx, false)
	for _, m := range obs.Members {
		is := m.Mode == f.Role
		switch f.Role {
		case "stopped":
			is = m.Process == procStopped
		case "frozen":
			is = m.Process == procFrozen
		}
		if is && (f.Kind != faultSafeStop || slices.Contains(settled.safe, m.ID)) {
			f.Members, f.Role = []int{m.ID}, ""
			return f, nil
		}
	}
	return f, fmt.Errorf("step %d (%s): no member is %s now: %s", step, f, f.Role, obs)
}

func (c *campaign) record(step int, f Fault) {
	c.report.Steps++
	c.report.Faults[f.Kind]++
	c.report.Sequence = append(c.report.Sequence, f.String())
	switch f.Kind {
	case faultPartition:
		c.side = f.Members
	case faultHeal:
		c.side = nil
	}
	c.logf("step %d: %s\n", step, f)
}

// verifySafeStop checks the strongest promise: the member the exporter
// said is safe to stop was stopped, and writes still commit (after the
// election, when it led).
func (c *campaign) verifySafeStop(ctx context.Context, step int, f Fault) {
	c.report.SafeStops++
	if !c.s.cluster.Member(f.Members[0]).Observer {
		c.report.SafeStopVoters++
	}
	deadline := time.Now().Add(safeStopWithin)
	var last observation
	for time.Now().Before(deadline) {
		last = c.ob.observe(ctx, true)
		c.history = append(c.history, last)
		if last.commits() {
			return
		}
	}
	c.disagree(step, f, "safe to stop", fmt.Sprintf("zk%d safe to stop", f.Members[0]),
		fmt.Sprintf("after stopping it no write committed for %s: %s", safeStopWithin, last))
}

// safeStopWithin bounds the election that stopping a safe leader causes.
const safeStopWithin = 30 * time.Second

func (c *campaign) disagree(step int, f Fault, check, exporter, members string) {
	d := Disagreement{Step: step, Fault: f.String(), Check: check, Exporter: exporter, Members: members}
	c.report.Disagreements = append(c.report.Disagreements, d)
	c.logf("DISAGREEMENT %s\n", d)
}

// logf writes one progress line, timed.
func (c *campaign) logf(format string, args ...any) {
	fmt.Fprintf(c.opts.Log, "chaos %s: "+format, append([]any{time.Now().Format("15:04:05.000")}, args...)...)
}
