package chaos

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// The checks, at every step: once the campaign's exporter answers from a
// round that started after the fault, and the members read the same
// before the scrape, after it (with writes) and once more, the exporter's
// margin must say what the writes did: negative exactly when no write
// commits. A freeze or a partition first waits out the leader's syncLimit,
// the window in which a leader still counts a follower it can no longer
// hear. A disagreement must outlast confirmWithin over settled readings.

const (
	// settleWithin bounds waiting for a settled reading after a fault.
	settleWithin = 60 * time.Second
	// confirmWithin is how long a disagreement over settled readings must
	// last to count: a change the members' modes do not show (a follower
	// still syncing) passes within it.
	confirmWithin = 4 * time.Second
	// syncWindow: the leader's syncLimit, and a tick to notice.
	syncWindow = (syncLimit + 1) * tickTime
	// settlePeriod is when, after a fault, its state is checked again:
	// past the leader's syncLimit, so that a state whose change the
	// members did not show yet has shown it.
	settlePeriod = syncWindow
	// rejoinWithin bounds waiting, after a restart, thaw or heal, for
	// every running member to answer again, so that the check sees where
	// the recovery led rather than a JVM still starting.
	rejoinWithin = 20 * time.Second
	// scrapeTimeout is the campaign's scrape timeout header.
	scrapeTimeout = 5 * time.Second
)

// result is a step's settled reading.
type result struct {
	view view  // the whole ensemble's
	safe []int // member ids the exporter says are safe to stop
	ok   bool
}

func (c *campaign) check(ctx context.Context, step int, f Fault, at time.Time, phase string) result {
	deadline := time.Now().Add(settleWithin)
	var (
		pending      []string
		pendingSince time.Time
		pendingObs   observation
		last         string
	)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		before := c.ob.observe(ctx, false)
		views, err := scrape(c.s.client, c.s.exporter+"/metrics", scrapeTimeout, ensembleFull, ensemblePartial)
		if err != nil {
			last = err.Error()
			continue
		}
		obs := c.ob.observe(ctx, true)
		after := c.ob.observe(ctx, false)
		c.history = append(c.history, obs)
		full := views[ensembleFull]
		fresh := full.Shared == c.shared && full.Rounds > c.rounds
		c.rounds, c.shared = full.Rounds, full.Shared
		switch {
		case !fresh:
			last = "the exporter's round was shared with another scrape"
			continue
		case (f.Kind == faultFreeze || f.Kind == faultPartition) && time.Since(at) < syncWindow:
			last = "within the leader's syncLimit"
			continue
		case before.key() != obs.key() || obs.key() != after.key():
			last = fmt.Sprintf("members changing: %s / %s / %s", before, obs, after)
			continue
		case recovering(f) && obs.starting() && time.Since(at) < rejoinWithin:
			last = fmt.Sprintf("members still starting: %s", obs)
			continue
		}
		problems := c.judge(views, obs)
		if len(problems) == 0 {
			if pending != nil {
				c.report.Transient++
				c.logf("step %d %s: passed after %s of %v\n", step, phase, time.Since(pendingSince).Round(time.Millisecond), pending)
			}
			c.report.Checks++
			c.report.Margins[full.Margin]++
			c.policy.saw(full.Margin)
			c.report.PartialMargins[views[ensemblePartial].Margin]++
			c.report.TruthMargins[obs.margin(c.rule)]++
			if obs.margin(c.rule) == full.Margin {
				c.report.Exact++
			}
			c.logf("step %d %s: margin %d (partial view %d), members: %s\n", step, phase, full.Margin, views[ensemblePartial].Margin, obs)
			return result{view: full, safe: c.ids(full.SafeToStop), ok: true}
		}
		if pending == nil {
			pending, pendingSince, pendingObs = problems, time.Now(), obs
			continue
		}
		if time.Since(pendingSince) >= confirmWithin {
			for _, p := range problems {
				c.disagree(step, f, phase, p, fmt.Sprintf("%s; %s earlier: %s", obs, time.Since(pendingSince).Round(time.Millisecond), pendingObs))
			}
			return result{view: full}
		}
	}
	c.report.Unsettled++
	c.logf("step %d %s: not settled within %s: %s\n", step, phase, settleWithin, last)
	return result{}
}

// judge compares both ensembles' views with the members' reading: the
// margin's sign with the writes, the margin with the members' own worst
// case (never above it; in the partial view equal to it where no voter is
// unknown), and the leaders' epochs.
func (c *campaign) judge(views map[string]view, obs observation) []string {
	commits, truth := obs.commits(), obs.margin(c.rule)
	var problems []string
	for _, name := range []string{ensembleFull, ensemblePartial} {
		v := views[name]
		switch {
		case !v.Margins:
			problems = append(problems, fmt.Sprintf("%s: no quorum_margin", name))
		case v.Margin < 0 && commits:
			problems = append(problems, fmt.Sprintf("%s: margin %d but writes commit", name, v.Margin))
		case v.Margin >= 0 && !commits:
			problems = append(problems, fmt.Sprintf("%s: margin %d but no write commits", name, v.Margin))
		case v.Margin > truth:
			// The worst case over what the exporter sees may be more
			// careful than the members' own, never less.
			problems = append(problems, fmt.Sprintf("%s: margin %d above the members' own worst case, %d", name, v.Margin, truth))
		}
		if name == ensemblePartial && c.rule.groups == nil && v.Margins && v.Unknown == 0 && v.Margin >= 0 && v.Margin < truth {
			// The exporter does not probe the voter left out, but it says
			// it need not guess: the leader's exact count settles a simple
			// majority's margin.
			problems = append(problems, fmt.Sprintf("%s: margin %d below the members' own %d, with no voter unknown", name, v.Margin, truth))
		}
		if same := v.sameEpochLeaders(); len(same) > 0 {
			problems = append(problems, fmt.Sprintf("%s: leaders of one epoch: %v", name, v.Leaders))
		}
	}
	return problems
}

// ids maps member addresses to server ids.
func (c *campaign) ids(addrs []string) []int {
	var out []int
	for _, m := range c.s.cluster.Members() {
		for _, a := range addrs {
			if a == m.ClientAddr {
				out = append(out, m.ID)
			}
		}
	}
	return out
}

// alertLag is how long after the members change the alert condition can
// follow: the exporter's scrape interval and timeout, and an evaluation.
const alertLag = 6 * time.Second

// checkAlerts: no critical alert may fire while the members showed, at
// every reading since the alert became active (and alertLag before), that
// the ensemble could lose a voter and keep its quorum. An election or the
// syncLimit window may make the condition true for a moment, never for the
// alert's whole "for".
func (c *campaign) checkAlerts(step int, f Fault) {
	var resp struct {
		Data struct {
			Alerts []struct {
				Labels   map[string]string `json:"labels"`
				State    string            `json:"state"`
				ActiveAt time.Time         `json:"activeAt"`
			} `json:"alerts"`
		} `json:"data"`
	}
	if err := getJSON(c.s.client, c.s.prometheus+"/api/v1/alerts", &resp); err != nil {
		c.logf("step %d: reading Prometheus's alerts: %v\n", step, err)
		return
	}
	c.report.AlertChecks++
	for _, a := range resp.Data.Alerts {
		if a.State != "firing" || a.Labels["severity"] != "critical" || a.Labels["ensemble"] != "" && a.Labels["ensemble"] != ensembleFull {
			continue
		}
		c.report.AlertsFiring[a.Labels["alertname"]]++
		key := a.Labels["alertname"] + a.ActiveAt.String()
		if c.alerted[key] || !c.toleratedSince(a.ActiveAt.Add(-alertLag)) {
			continue
		}
		c.alerted[key] = true
		c.disagree(step, f, "critical alert", fmt.Sprintf("%s firing, active since %s", a.Labels["alertname"], a.ActiveAt.Format(time.TimeOnly)),
			fmt.Sprintf("every reading since %s tolerated a voter loss; last: %s", a.ActiveAt.Add(-alertLag).Format(time.TimeOnly), c.history[len(c.history)-1]))
	}
}

// toleratedSince reports whether the readings cover the time from since to
// now without a gap longer than maxGap and every one of them, including the
// last before since, had a margin of at least 1.
func (c *campaign) toleratedSince(since time.Time) bool {
	const maxGap = 10 * time.Second
	covered := false
	prev := time.Time{}
	for _, o := range c.history {
		if o.At.Before(since) {
			covered, prev = o.margin(c.rule) >= 1, o.At
			continue
		}
		if !covered || o.margin(c.rule) < 1 || o.At.Sub(prev) > maxGap {
			return false
		}
		prev = o.At
	}
	return covered && time.Since(prev) <= maxGap
}

func getJSON(client *http.Client, u string, into any) error {
	resp, err := client.Get(u)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(into)
}

func recovering(f Fault) bool {
	return f.Kind == faultRestart || f.Kind == faultThaw || f.Kind == faultHeal
}
