package status

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/alecthomas/kingpin/v2"

	"github.com/quorumwatch/zookeeper_exporter/config"
	"github.com/quorumwatch/zookeeper_exporter/ensemble"
	"github.com/quorumwatch/zookeeper_exporter/maintenance"
	"github.com/quorumwatch/zookeeper_exporter/quorum"
)

// Exit statuses of the status command. A degraded ensemble (below its
// designed tolerance but able to lose another voter, as during rolling
// maintenance) exits 0: the summary line says so.
const (
	ExitHealthy = 0 // every ensemble healthy or degraded; or --can-stop: safe
	ExitError   = 1 // configuration, unknown ensemble or member
	ExitUsage   = 2 // bad flags (kingpin's own parse errors exit 2 too)
	ExitAtRisk  = 3 // margin 0 on an ensemble designed to lose a voter, or two leaders
	ExitLost    = 4 // negative margin, or the probe round did not finish
	ExitNotSafe = 5 // --can-stop: stopping the member now is not safe
	// ExitNotCaughtUp: --wait-caught-up: the member had not caught up by
	// --timeout.
	ExitNotCaughtUp = 6
)

// ExitCode maps the worst health to an exit status.
func ExitCode(h quorum.Health) int {
	switch h {
	case quorum.HealthAtRisk:
		return ExitAtRisk
	case quorum.HealthLost:
		return ExitLost
	}
	return ExitHealthy
}

// Command is the status command's options, parsed once from its flags.
type Command struct {
	Ensemble string
	CanStop  string
	Watch    bool
	Interval time.Duration
	Output   string
	// WaitCaughtUp, Timeout, Settle and Plan: see Register.
	WaitCaughtUp string
	Timeout      time.Duration
	Settle       int
	Plan         bool
}

// Register adds the status command's flags to cmd; they fill c.
func (c *Command) Register(cmd *kingpin.CmdClause) {
	cmd.Flag("ensemble", "Show only this ensemble (needed with --can-stop when several are configured).").StringVar(&c.Ensemble)
	cmd.Flag("can-stop", "Exit 0 only if stopping this member (address or server id) now is safe, else 5 with the reason. With --watch, wait until it is.").StringVar(&c.CanStop)
	cmd.Flag("watch", "Probe again every --interval and redraw, until interrupted.").BoolVar(&c.Watch)
	cmd.Flag("interval", "How often --watch probes.").Default("2s").DurationVar(&c.Interval)
	cmd.Flag("output", "table (coloured on a terminal), plain (key=value lines) or json.").Default("table").EnumVar(&c.Output, "table", "plain", "json")
	cmd.Flag("wait-caught-up", "Wait until this member (address or server id) has caught up with the leader and the quorum counts it, for --settle rounds in a row; exit 0, or 6 with the reason after --timeout.").StringVar(&c.WaitCaughtUp)
	cmd.Flag("timeout", "How long --wait-caught-up and --can-stop --watch wait.").Default("10m").DurationVar(&c.Timeout)
	cmd.Flag("settle", "Probe rounds in a row, --interval apart, that must agree before --wait-caught-up or --can-stop --watch answers yes; a round older than settle x interval is refused.").Default("3").IntVar(&c.Settle)
	cmd.Flag("plan", "Print the rolling-restart order of the ensemble: observers, followers, the leader last, each step's margin while that member is down, and the steps blocked now and why.").BoolVar(&c.Plan)
}

// Run probes the configured ensembles and writes their status to stdout;
// it returns the exit status.
func (c *Command) Run(cfg *config.Config, engine ensemble.Options, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// Events would scroll the table away; the table shows the same.
	registry, err := ensemble.New(cfg, slog.New(slog.DiscardHandler), engine)
	if err != nil {
		fmt.Fprintf(stderr, "status: %v\n", err)
		return ExitError
	}
	names, err := c.ensembles(cfg)
	if err != nil {
		fmt.Fprintf(stderr, "status: %v\n", err)
		return ExitError
	}
	if c.Interval <= 0 {
		fmt.Fprintln(stderr, "status: --interval must be positive")
		return ExitUsage
	}
	timeout := maintenance.RoundTimeout(cfg)
	if c.Plan || c.WaitCaughtUp != "" || c.CanStop != "" && c.Watch {
		return c.runMaintenance(ctx, registry, names[0], timeout, stdout, stderr)
	}
	terminal := isTerminal(stdout)
	for round := 0; ; round++ {
		roundCtx, cancel := context.WithTimeout(ctx, timeout)
		report := Collect(roundCtx, registry, names)
		cancel()
		if ctx.Err() != nil {
			return ExitError // interrupted mid-round: no answer
		}
		code, done := c.answer(stdout, stderr, report, terminal, round)
		if done {
			return code
		}
		select {
		case <-ctx.Done():
			return code
		case <-time.After(c.Interval):
		}
	}
}

// answer writes one round and returns the exit status, and whether to stop.
func (c *Command) answer(stdout, stderr io.Writer, report Report, terminal bool, round int) (int, bool) {
	if c.CanStop != "" {
		code, line := canStop(report.Ensembles[0], c.CanStop)
		fmt.Fprintln(stdout, line)
		return code, code != ExitNotSafe || !c.Watch
	}
	if err := c.write(stdout, report, terminal, round); err != nil {
		fmt.Fprintf(stderr, "status: %v\n", err)
		return ExitError, true
	}
	return ExitCode(report.Health), !c.Watch
}

// ensembles returns the names to probe.
func (c *Command) ensembles(cfg *config.Config) ([]string, error) {
	if c.Ensemble != "" {
		if cfg.Ensemble(c.Ensemble) == nil {
			return nil, fmt.Errorf("ensemble %q is not configured", c.Ensemble)
		}
		return []string{c.Ensemble}, nil
	}
	if (c.CanStop != "" || c.WaitCaughtUp != "" || c.Plan) && len(cfg.Ensembles) != 1 {
		return nil, fmt.Errorf("--can-stop, --wait-caught-up and --plan need --ensemble: %d ensembles are configured", len(cfg.Ensembles))
	}
	var names []string
	for _, ensemble := range cfg.Ensembles {
		names = append(names, ensemble.Name)
	}
	return names, nil
}

// canStop returns the exit status and one line for --can-stop.
func canStop(e Ensemble, member string) (int, string) {
	if e.Error != "" {
		return ExitNotSafe, fmt.Sprintf("not safe: %s: probe failed: %s", e.Name, e.Error)
	}
	if e.Partial {
		return ExitNotSafe, fmt.Sprintf("not safe: %s: cannot tell, some members had not answered by the deadline", e.Name)
	}
	for _, m := range e.Members {
		if m.Member != member && (m.ServerID == "" || m.ServerID != member) {
			continue
		}
		if m.SafeToStop {
			return ExitHealthy, fmt.Sprintf("safe: %s may be stopped now: %s", memberByID(m), m.Reason)
		}
		return ExitNotSafe, fmt.Sprintf("not safe: %s: %s", memberByID(m), m.Reason)
	}
	return ExitError, fmt.Sprintf("error: %q is neither the address nor the server id of a member of %s", member, e.Name)
}

// write renders one round. On a terminal --watch redraws in place;
// elsewhere rounds follow each other.
func (c *Command) write(w io.Writer, report Report, terminal bool, round int) error {
	if c.Watch {
		switch {
		case terminal && c.Output == "table":
			fmt.Fprintf(w, "\033[H\033[2J%s, every %s (Ctrl-C to stop)\n\n", report.Time.Format("15:04:05"), c.Interval)
		case c.Output != "json" && round > 0:
			fmt.Fprintf(w, "\n--- %s\n", report.Time.Format(time.RFC3339))
		}
	}
	switch c.Output {
	case "json":
		return WriteJSON(w, report)
	case "plain":
		return WritePlain(w, report)
	}
	return WriteTable(w, report, terminal && os.Getenv("NO_COLOR") == "")
}

// isTerminal reports whether w is a character device (a terminal) other
// than a dumb one.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok || os.Getenv("TERM") == "dumb" {
		return false
	}
	info, err := f.Stat()
	return err == nil && info.Mode()&os.ModeCharDevice != 0
}

// memberByID is for messages: "127.0.0.1:2181 (server 3)".
func memberByID(m Member) string {
	if m.ServerID == "" {
		return m.Member
	}
	return m.Member + " (server " + m.ServerID + ")"
}
