// Package roll is the roll command: a rolling restart of one ensemble, one
// member at a time in the plan's order (observers, followers, the leader
// last), each step waiting until the member is safe to stop, running the
// operator's command, and waiting until the member has caught up again
// before the next. With an Alertmanager it silences the member alerts of
// the member being restarted for that step only.
package roll

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"slices"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/alecthomas/kingpin/v2"

	"github.com/quorumwatch/zookeeper_exporter/config"
	"github.com/quorumwatch/zookeeper_exporter/ensemble"
	"github.com/quorumwatch/zookeeper_exporter/maintenance"
)

// Exit statuses of the roll command.
const (
	ExitDone = 0 // every chosen member restarted and caught up (or --dry-run)
	// ExitError: configuration, unknown ensemble or member, Alertmanager
	// refused a silence, or a probe round could not be run.
	ExitError = 1
	ExitUsage = 2 // bad flags
	// ExitUnsafe: the next member did not become safe to stop within
	// --safe-timeout; at the start, it was not safe at once.
	ExitUnsafe = 3
	// ExitNotBack: the member restarted had not caught up within
	// --catch-up-timeout. It is named; nothing else was touched.
	ExitNotBack = 4
	// ExitCommandFailed: the command exited non-zero or outlived
	// --exec-timeout.
	ExitCommandFailed = 5
	// ExitStopped: stopped by the operator (SIGINT or SIGTERM), after the
	// wait in progress.
	ExitStopped = 6
)

// Command is the roll command's options.
type Command struct {
	Ensemble        string
	Exec            string
	Shell           string
	DryRun          bool
	Only, Skip      []string
	Interval        time.Duration
	Settle          int
	SafeTimeout     time.Duration
	CatchUpTimeout  time.Duration
	ExecTimeout     time.Duration
	AlertmanagerURL string
}

// Register adds the roll command's flags to cmd; they fill c.
func (c *Command) Register(cmd *kingpin.CmdClause) {
	cmd.Flag("ensemble", "The ensemble to restart (needed when several are configured).").StringVar(&c.Ensemble)
	cmd.Flag("exec", "The command that restarts one member, run through --shell; "+
		PlaceholderAddress+", "+PlaceholderHost+", "+PlaceholderPort+" and "+PlaceholderServerID+" are replaced by the member's. It must return once the member has been started again.").StringVar(&c.Exec)
	cmd.Flag("shell", "The shell that runs --exec.").Default("/bin/sh").StringVar(&c.Shell)
	cmd.Flag("dry-run", "Print the plan and exit.").BoolVar(&c.DryRun)
	cmd.Flag("only", "Restart only this member (address or server id); repeatable.").StringsVar(&c.Only)
	cmd.Flag("skip", "Do not restart this member (address or server id); repeatable.").StringsVar(&c.Skip)
	cmd.Flag("interval", "Time between probe rounds while waiting.").Default("1s").DurationVar(&c.Interval)
	cmd.Flag("settle", "Probe rounds in a row that must agree before a member counts as safe to stop or caught up; a round older than settle x interval is refused.").Default("3").IntVar(&c.Settle)
	cmd.Flag("safe-timeout", "How long to wait for the next member to become safe to stop (not for the first: the roll refuses to start unless it is safe now).").Default("5m").DurationVar(&c.SafeTimeout)
	cmd.Flag("catch-up-timeout", "How long a restarted member has to catch up before the roll stops at it.").Default("10m").DurationVar(&c.CatchUpTimeout)
	cmd.Flag("exec-timeout", "How long the command may run.").Default("10m").DurationVar(&c.ExecTimeout)
	cmd.Flag("alertmanager.url", "Alertmanager to silence the restarted member's own alerts in (API v2), for its step only; quorum alerts are never silenced.").StringVar(&c.AlertmanagerURL)
}

// Run rolls through the ensemble and returns the exit status. Transitions
// go to logger; the command's output, each line prefixed with the member,
// and the plan go to stdout.
func (c *Command) Run(cfg *config.Config, engine ensemble.Options, logger *slog.Logger, stdout io.Writer) int {
	r, code := c.setup(cfg, engine, logger, stdout)
	if r == nil {
		return code
	}
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(signals)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case sig := <-signals:
			logger.Warn("stopping after the wait in progress", "signal", sig.String())
			r.stopped.Store(true)
			r.cancelSafeWait()
		case <-ctx.Done():
		}
	}()
	return r.roll(ctx)
}

// setup checks the flags and builds the roller; it returns nil and the exit
// status when there is nothing to roll.
func (c *Command) setup(cfg *config.Config, engine ensemble.Options, logger *slog.Logger, stdout io.Writer) (*roller, int) {
	if c.Ensemble == "" && len(cfg.Ensembles) == 1 {
		c.Ensemble = cfg.Ensembles[0].Name
	}
	switch {
	case c.Ensemble == "":
		logger.Error("--ensemble is needed", "configured", len(cfg.Ensembles))
		return nil, ExitUsage
	case cfg.Ensemble(c.Ensemble) == nil:
		logger.Error("ensemble is not configured", "ensemble", c.Ensemble)
		return nil, ExitError
	case c.Exec == "" && !c.DryRun:
		logger.Error("--exec is needed (or --dry-run)")
		return nil, ExitUsage
	case c.Settle <= 0 || c.Interval <= 0:
		logger.Error("--settle and --interval must be positive")
		return nil, ExitUsage
	}
	registry, err := ensemble.New(cfg, logger, engine)
	if err != nil {
		logger.Error("invalid configuration", "err", err)
		return nil, ExitError
	}
	registry.Subscribe(ensemble.LogEvents(logger))
	r := &roller{c: c, logger: logger.With("ensemble", c.Ensemble), stdout: stdout,
		watch: &maintenance.Watch{Prober: registry, Ensemble: c.Ensemble, Interval: c.Interval, Settle: c.Settle, RoundTimeout: maintenance.RoundTimeout(cfg)}}
	if c.AlertmanagerURL != "" {
		if r.silences, err = newSilencer(c.AlertmanagerURL); err != nil {
			logger.Error("bad flag", "err", err)
			return nil, ExitUsage
		}
	}
	return r, ExitDone
}

// roller is one roll in progress.
type roller struct {
	c        *Command
	logger   *slog.Logger
	stdout   io.Writer
	watch    *maintenance.Watch
	silences *silencer // nil without --alertmanager.url
	stopped  atomic.Bool
	// cancelSafe cancels the wait for a member to become safe; set while
	// one runs.
	cancelSafe atomic.Pointer[context.CancelFunc]
}

func (r *roller) cancelSafeWait() {
	if cancel := r.cancelSafe.Load(); cancel != nil {
		(*cancel)()
	}
}

// always is a condition every round that can tell meets: for a plan.
func always(*ensemble.Round) maintenance.Check { return maintenance.Check{OK: true, Known: true} }

func (r *roller) roll(ctx context.Context) int {
	done := map[string]bool{}
	for first := true; ; {
		round, check := r.watch.Round(ctx, always)
		if !check.OK {
			r.logger.Error("cannot plan", "reason", check.Reason)
			return ExitError
		}
		plan := maintenance.PlanOf(round)
		if err := r.checkSelection(plan); err != nil {
			r.logger.Error("bad selection", "err", err)
			return ExitError
		}
		if r.c.DryRun {
			if err := plan.WriteTable(r.stdout); err != nil {
				return ExitError
			}
			r.logger.Info("dry run: nothing restarted", "would_restart", fmt.Sprint(r.chosen(plan, done)))
			return ExitDone
		}
		next := r.chosen(plan, done)
		if len(next) == 0 {
			r.logger.Info("roll done", "restarted", len(done), "margin", round.Quorum().Margin)
			return ExitDone
		}
		step := next[0]
		cond := maintenance.SafeToStop(step.Member)
		if first && slices.ContainsFunc(next, func(s maintenance.Step) bool { return s.Kind != maintenance.KindObserver }) {
			// A roll that will stop voters starts only with all of them in.
			cond = maintenance.Both(maintenance.AllVotersIn(), cond)
		}
		settled, code := r.waitSafe(step, cond, first)
		if settled == nil {
			return code
		}
		if now := r.chosen(maintenance.PlanOf(settled), done); len(now) == 0 || now[0].Member != step.Member {
			r.logger.Info("the plan changed while waiting (the leader moved): planning again", "member", step.Member)
			continue
		}
		first = false
		if code := r.restart(settled, step); code != ExitDone {
			return code
		}
		done[step.Member] = true
		if r.stopped.Load() {
			r.logger.Warn("stopped by the operator", "restarted", len(done))
			return ExitStopped
		}
	}
}

// waitSafe waits until the step's member may be stopped; the first step
// must be safe at once. It returns the settled round, or nil and the exit
// status.
func (r *roller) waitSafe(step maintenance.Step, cond maintenance.Condition, first bool) (*ensemble.Round, int) {
	ctx, cancel := context.WithTimeout(context.Background(), r.c.SafeTimeout)
	defer cancel()
	r.cancelSafe.Store(&cancel)
	defer r.cancelSafe.Store(nil)
	if r.stopped.Load() {
		return nil, ExitStopped
	}
	r.logger.Info("waiting until safe to stop", "member", step.Member, "kind", step.Kind, "margin_while_down", step.MarginWhileDown)
	settled, check, err := r.watch.Until(ctx, cond, first)
	switch {
	case r.stopped.Load():
		r.logger.Warn("stopped by the operator before", "member", step.Member)
		return nil, ExitStopped
	case errors.Is(err, maintenance.ErrUnsafe):
		r.logger.Error("refusing to start: not safe", "member", step.Member, "reason", check.Reason)
		fmt.Fprintf(r.stdout, "unsafe: %s\n", check.Reason)
		return nil, ExitUnsafe
	case err != nil:
		r.logger.Error("not safe to stop in time", "member", step.Member, "timeout", r.c.SafeTimeout, "reason", check.Reason)
		fmt.Fprintf(r.stdout, "unsafe: %s not safe to stop within %s: %s\n", step.Member, r.c.SafeTimeout, check.Reason)
		return nil, ExitUnsafe
	}
	return settled, ExitDone
}

// restart runs one step from a settled round: silence, command, catch-up,
// silence expired. It never returns between the command and the catch-up
// check, whatever the operator does.
func (r *roller) restart(settled *ensemble.Round, step maintenance.Step) int {
	i := maintenance.Find(settled, step.Member)
	member := settled.Members[i]
	command, err := expand(r.c.Exec, member)
	if err != nil {
		r.logger.Error("cannot run the command", "err", err)
		return ExitError
	}
	q := settled.Quorum()
	r.logger.Info("safe to stop: restarting", "member", step.Member, "server_id", member.ServerIDLabel(), "kind", step.Kind,
		"margin", q.Margin, "margin_while_down", settled.Assessment.Members[i].MarginWhileDown)
	silenceID, err := r.silence(settled.Ensemble.Name, step.Member)
	if err != nil {
		r.logger.Error("cannot silence the member's alerts: not restarting it", "member", step.Member, "err", err)
		return ExitError
	}
	defer r.unsilence(silenceID, step.Member)
	if err := run(command, r.c.Shell, step.Member, r.c.ExecTimeout, r.stdout); err != nil {
		r.logger.Error("the command failed: stopping the roll", "member", step.Member, "err", err)
		fmt.Fprintf(r.stdout, "command failed: %v\n", err)
		return ExitCommandFailed
	}
	r.logger.Info("command done: waiting until caught up", "member", step.Member, "timeout", r.c.CatchUpTimeout)
	ctx, cancel := context.WithTimeout(context.Background(), r.c.CatchUpTimeout)
	defer cancel()
	back, check, err := r.watch.Until(ctx, maintenance.CaughtUp(step.Member), false)
	if err != nil {
		r.logger.Error("member did not come back: stopping the roll", "member", step.Member, "timeout", r.c.CatchUpTimeout, "reason", check.Reason)
		fmt.Fprintf(r.stdout, "not back: %s had not caught up within %s: %s\n", step.Member, r.c.CatchUpTimeout, check.Reason)
		return ExitNotBack
	}
	r.logger.Info("caught up", "member", step.Member, "margin", back.Quorum().Margin, "reason", check.Reason)
	return ExitDone
}

// silence creates the step's silence, ending when the step must have
// ended, so that a crashed roll leaves none behind for long.
func (r *roller) silence(ensembleName, member string) (string, error) {
	if r.silences == nil {
		return "", nil
	}
	end := time.Now().Add(r.c.ExecTimeout + r.c.CatchUpTimeout + time.Minute)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	id, err := r.silences.create(ctx, ensembleName, member, end)
	if err == nil {
		r.logger.Info("silenced the member's alerts", "member", member, "silence", id, "alerts", fmt.Sprint(MemberAlerts), "ends", end.UTC().Format(time.RFC3339))
	}
	return id, err
}

func (r *roller) unsilence(id, member string) {
	if id == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := r.silences.expire(ctx, id); err != nil {
		r.logger.Warn("could not expire the silence: it ends by itself", "member", member, "err", err)
		return
	}
	r.logger.Info("expired the silence", "member", member, "silence", id)
}

// chosen are the plan's steps still to take, in order.
func (r *roller) chosen(plan maintenance.Plan, done map[string]bool) []maintenance.Step {
	var steps []maintenance.Step
	for _, s := range plan.Steps {
		if !done[s.Member] && r.selected(s) {
			steps = append(steps, s)
		}
	}
	return steps
}

func (r *roller) selected(s maintenance.Step) bool {
	named := func(list []string) bool {
		return slices.Contains(list, s.Member) || s.ServerID != "" && slices.Contains(list, s.ServerID)
	}
	return (len(r.c.Only) == 0 || named(r.c.Only)) && !named(r.c.Skip)
}

// checkSelection refuses --only and --skip values that name no member.
func (r *roller) checkSelection(plan maintenance.Plan) error {
	for _, name := range append(append([]string{}, r.c.Only...), r.c.Skip...) {
		if !slices.ContainsFunc(plan.Steps, func(s maintenance.Step) bool { return s.Member == name || s.ServerID == name }) {
			return fmt.Errorf("%q is neither the address nor the server id of a member of %s", name, plan.Ensemble)
		}
	}
	return nil
}
