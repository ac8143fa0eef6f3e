package status

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/quorumwatch/zookeeper_exporter/ensemble"
	"github.com/quorumwatch/zookeeper_exporter/maintenance"
)

// runMaintenance answers --plan, --wait-caught-up and --can-stop --watch
// for one ensemble.
func (c *Command) runMaintenance(ctx context.Context, prober maintenance.Prober, name string, roundTimeout time.Duration, stdout, stderr io.Writer) int {
	if c.Settle <= 0 || c.Timeout <= 0 {
		fmt.Fprintln(stderr, "status: --settle and --timeout must be positive")
		return ExitUsage
	}
	watch := &maintenance.Watch{Prober: prober, Ensemble: name, Interval: c.Interval, Settle: c.Settle, RoundTimeout: roundTimeout}
	if c.Plan {
		return c.plan(ctx, watch, stdout, stderr)
	}
	member, cond, failed := c.CanStop, maintenance.SafeToStop(c.CanStop), ExitNotSafe
	if c.WaitCaughtUp != "" {
		member, cond, failed = c.WaitCaughtUp, maintenance.CaughtUp(c.WaitCaughtUp), ExitNotCaughtUp
	}
	round, _ := watch.Round(ctx, func(*ensemble.Round) maintenance.Check { return maintenance.Check{} })
	if round != nil && maintenance.Find(round, member) < 0 {
		fmt.Fprintf(stderr, "status: %q is neither the address nor the server id of a member of %s\n", member, name)
		return ExitError
	}
	last := ""
	watch.OnRound = func(_ *ensemble.Round, check maintenance.Check) {
		if check.Reason != last && !check.OK {
			fmt.Fprintf(stderr, "waiting: %s\n", check.Reason)
			last = check.Reason
		}
	}
	waitCtx, cancel := context.WithTimeout(ctx, c.Timeout)
	defer cancel()
	_, check, err := watch.Until(waitCtx, cond, false)
	switch {
	case err == nil && c.WaitCaughtUp != "":
		fmt.Fprintf(stdout, "caught up: %s\n", check.Reason)
		return ExitHealthy
	case err == nil:
		fmt.Fprintf(stdout, "safe: %s\n", check.Reason)
		return ExitHealthy
	case ctx.Err() != nil:
		fmt.Fprintf(stderr, "status: interrupted: %s\n", check.Reason)
		return ExitError
	case errors.Is(err, context.DeadlineExceeded):
		fmt.Fprintf(stdout, "timed out after %s: %s\n", c.Timeout, check.Reason)
		return failed
	}
	fmt.Fprintf(stdout, "%v\n", err)
	return failed
}

// plan prints the ensemble's rolling-restart plan from one round.
func (c *Command) plan(ctx context.Context, watch *maintenance.Watch, stdout, stderr io.Writer) int {
	round, check := watch.Round(ctx, func(*ensemble.Round) maintenance.Check { return maintenance.Check{Known: true, OK: true} })
	if round == nil {
		fmt.Fprintf(stderr, "status: %s\n", check.Reason)
		return ExitError
	}
	plan := maintenance.PlanOf(round)
	var err error
	if c.Output == "json" {
		encoder := json.NewEncoder(stdout)
		encoder.SetIndent("", "  ")
		err = encoder.Encode(plan)
	} else {
		err = plan.WriteTable(stdout)
	}
	if err != nil {
		fmt.Fprintf(stderr, "status: %v\n", err)
		return ExitError
	}
	if !plan.Complete {
		return ExitLost
	}
	return ExitHealthy
}
