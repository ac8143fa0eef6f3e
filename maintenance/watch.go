package maintenance

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/quorumwatch/zookeeper_exporter/config"
	"github.com/quorumwatch/zookeeper_exporter/ensemble"
	"github.com/quorumwatch/zookeeper_exporter/quorum"
	"github.com/quorumwatch/zookeeper_exporter/zk"
)

// Defaults of a Watch's zero fields.
const (
	DefaultInterval = time.Second
	DefaultSettle   = 3
)

// RoundTimeout bounds one probe round of cfg: every member its own
// timeout, with room for queueing behind the limit on probes in flight.
func RoundTimeout(cfg *config.Config) time.Duration {
	longest := time.Duration(0)
	for _, e := range cfg.Ensembles {
		longest = max(longest, cfg.MemberTimeout(e))
	}
	return 3*longest + time.Second
}

// Check is what one round says about a condition. Known is false when the
// round cannot tell (it is partial or stale): that never counts as met.
type Check struct {
	OK, Known bool
	Reason    string
}

// Condition judges one round.
type Condition func(*ensemble.Round) Check

// Watch probes one ensemble round after round until a condition has held
// for Settle consecutive fresh rounds: a member that has just come back, or
// an election that has just ended, must stay that way for a while before
// anything acts on it.
type Watch struct {
	Prober   Prober
	Ensemble string
	// Interval between rounds; Settle rounds in a row must meet the
	// condition. The settle period is Settle × Interval, and a round older
	// than that (or than RoundTimeout, if longer) when judged is refused as
	// stale.
	Interval time.Duration
	Settle   int
	// RoundTimeout bounds one round; a round cut short cannot tell.
	RoundTimeout time.Duration
	// OnRound, if set, sees every round and its check.
	OnRound func(*ensemble.Round, Check)
	now     func() time.Time
}

// ErrUnsafe is returned by Until with failFast when a round says no.
var ErrUnsafe = errors.New("condition not met")

// settlePeriod is Settle × Interval.
func (w *Watch) settlePeriod() time.Duration { return time.Duration(w.settle()) * w.interval() }

// maxAge is how old a round may be when judged: the settle period, or the
// longest a round may take when that is longer (a frozen member holds a
// round for its whole timeout; that round is not stale, only slow).
func (w *Watch) maxAge() time.Duration { return max(w.settlePeriod(), w.RoundTimeout) }

func (w *Watch) interval() time.Duration {
	if w.Interval <= 0 {
		return DefaultInterval
	}
	return w.Interval
}

func (w *Watch) settle() int {
	if w.Settle <= 0 {
		return DefaultSettle
	}
	return w.Settle
}

func (w *Watch) clock() time.Time {
	if w.now != nil {
		return w.now()
	}
	return time.Now()
}

// Round probes once and judges the round: a partial round, an error or a
// round older than the settle period cannot tell.
func (w *Watch) Round(ctx context.Context, cond Condition) (*ensemble.Round, Check) {
	roundCtx, cancel := context.WithTimeout(ctx, w.RoundTimeout)
	defer cancel()
	r, err := w.Prober.Probe(roundCtx, w.Ensemble)
	var check Check
	switch {
	case err != nil:
		check = Check{Reason: fmt.Sprintf("cannot tell: %v", err)}
	case r.Partial:
		check = Check{Reason: "cannot tell: some members had not answered by the deadline"}
	case w.clock().Sub(r.Time) > w.maxAge():
		check = Check{Reason: fmt.Sprintf("cannot tell: the round is %s old, older than the settle period (%s)", w.clock().Sub(r.Time).Round(time.Millisecond), w.maxAge())}
	default:
		check = cond(r)
	}
	if w.OnRound != nil && r != nil {
		w.OnRound(r, check)
	}
	return r, check
}

// Until returns the last round once cond has held for Settle rounds in a
// row. It returns an error with the last round's reason when ctx ends
// first, and with failFast ErrUnsafe as soon as a round that can tell says
// no.
func (w *Watch) Until(ctx context.Context, cond Condition, failFast bool) (*ensemble.Round, Check, error) {
	held := 0
	var last Check
	for {
		r, check := w.Round(ctx, cond)
		if ctx.Err() != nil {
			return r, last, fmt.Errorf("%w: %s", ctx.Err(), reasonOr(last, check))
		}
		last = check
		switch {
		case check.Known && check.OK:
			held++
		case check.Known && failFast:
			return r, check, fmt.Errorf("%w: %s", ErrUnsafe, check.Reason)
		default:
			held = 0
		}
		if held >= w.settle() {
			return r, check, nil
		}
		select {
		case <-ctx.Done():
			return r, check, fmt.Errorf("%w: %s", ctx.Err(), check.Reason)
		case <-time.After(w.interval()):
		}
	}
}

func reasonOr(last, check Check) string {
	if last.Reason != "" {
		return last.Reason
	}
	return check.Reason
}

// SafeToStop holds while stopping the member is safe (quorum.Assess's
// verdict).
func SafeToStop(member string) Condition {
	return func(r *ensemble.Round) Check {
		i := Find(r, member)
		if i < 0 {
			return Check{Known: true, Reason: fmt.Sprintf("%q is neither the address nor the server id of a member of %s", member, r.Ensemble.Name)}
		}
		v := r.Assessment.Members[i]
		reason := Name(r.Members[i]) + ": " + v.Reason
		if absent := absentNames(r, i); !v.Safe && absent != "" {
			reason += "; not in quorum: " + absent
		}
		return Check{OK: v.Safe, Known: true, Reason: reason}
	}
}

// absentNames lists the voters other than members[except] that are not in
// the quorum, and why.
func absentNames(r *ensemble.Round, except int) string {
	var names []string
	for i, m := range r.Members {
		if i == except || inQuorum(r, i) {
			continue
		}
		state := string(m.Mode)
		if !m.Up {
			state = "down"
			if m.Reason != "" {
				state += ": " + m.Reason
			}
		}
		names = append(names, fmt.Sprintf("%s (%s)", Name(m), state))
	}
	return strings.Join(names, ", ")
}

// CaughtUp holds once the member has caught up (ensemble.Round.CaughtUp),
// its zxid has reached the leader's as of the first round that saw it
// serve (or the leader has moved past that and it is within the lag), and
// the quorum counts every voter seen in it (see votersCounted). It keeps
// that first zxid between rounds: use one per wait.
func CaughtUp(member string) Condition {
	var target quorum.Member
	targeted := false
	return func(r *ensemble.Round) Check {
		i := Find(r, member)
		if i < 0 {
			return Check{Known: true, Reason: fmt.Sprintf("%q is neither the address nor the server id of a member of %s", member, r.Ensemble.Name)}
		}
		m, name := r.Members[i], Name(r.Members[i])
		if !r.CaughtUp(i) {
			targeted = false
			return Check{Known: true, Reason: name + ": " + r.CaughtUpReason(i)}
		}
		leader := r.Leader()
		if !targeted {
			target = quorum.Member{Up: true, Mode: zk.ModeLeader, Zxid: leader.Zxid, ZxidKnown: leader.ZxidKnown}
			targeted = true
		}
		peer := quorum.Member{Up: true, Mode: m.Mode, Zxid: m.Zxid, ZxidKnown: m.ZxidKnown}
		if reached, lag := quorum.CaughtUp(peer, target, 0); !reached && !(leader.ZxidKnown && leader.Zxid > target.Zxid) {
			return Check{Known: true, Reason: fmt.Sprintf("%s: zxid %s lacks %d transactions of the leader's %s", name, m.Zxid, lag, target.Zxid)}
		}
		q := r.Quorum()
		if !votersCounted(r) {
			return Check{Known: true, Reason: fmt.Sprintf("%s serves, but the quorum counts %d voters of the %d seen in it (margin %d)", name, q.VotersInQuorum, q.Voters-absentVoters(r), q.Margin)}
		}
		return Check{OK: true, Known: true, Reason: fmt.Sprintf("%s has caught up: zxid %s, leader's %s, margin %d of %d", name, m.Zxid, leader.Zxid, q.Margin, q.FaultTolerance)}
	}
}

// AllVotersIn holds while every voter serves in the quorum and the quorum
// counts them all: the margin is what the ensemble was designed for.
func AllVotersIn() Condition {
	return func(r *ensemble.Round) Check {
		if absent := absentNames(r, -1); absent != "" {
			return Check{Known: true, Reason: "not in quorum: " + absent}
		}
		if q := r.Quorum(); !votersCounted(r) {
			return Check{Known: true, Reason: fmt.Sprintf("the quorum counts %d of %d voters (margin %d)", q.VotersInQuorum, q.Voters, q.Margin)}
		}
		return Check{OK: true, Known: true, Reason: "every voter is in the quorum"}
	}
}

// Both holds while a and b do; the reason is the first that fails.
func Both(a, b Condition) Condition {
	return func(r *ensemble.Round) Check {
		if check := a(r); !check.OK {
			return check
		}
		return b(r)
	}
}
