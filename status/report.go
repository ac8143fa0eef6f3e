// Package status renders what a probe round says about each ensemble for an
// operator: a terminal table, plain key=value lines, JSON, and a live HTML
// page. It also holds the status command, which gates maintenance steps
// with its exit status.
package status

import (
	"context"
	"sync"
	"time"

	"github.com/quorumwatch/zookeeper_exporter/ensemble"
	"github.com/quorumwatch/zookeeper_exporter/quorum"
)

// Report is every ensemble's state at one moment; its JSON is the
// --output=json and /status?format=json contract.
type Report struct {
	Time time.Time `json:"time"`
	// Health is the worst of the ensembles'.
	Health    quorum.Health `json:"health"`
	Ensembles []Ensemble    `json:"ensembles"`
}

// Ensemble is one ensemble's summary and members.
type Ensemble struct {
	Name string `json:"name"`
	// Error is set when the probe round did not finish; nothing else is.
	Error          string        `json:"error,omitempty"`
	Health         quorum.Health `json:"health"`
	Voters         int           `json:"voters"`
	Observers      int           `json:"observers"`
	QuorumSize     int           `json:"quorum_size"`
	FaultTolerance int           `json:"fault_tolerance"`
	VotersInQuorum int           `json:"voters_in_quorum"`
	Margin         int           `json:"margin"`
	Leader         string        `json:"leader"` // member address, "" if none serves
	// VoterSetSource says whose voter set counts: "ensemble" (its own
	// membership) or "configuration".
	VoterSetSource string `json:"voter_set_source"`
	// Partial: some members had not answered by the deadline.
	Partial bool `json:"partial,omitempty"`
	// LastUnavailabilitySeconds is the latest ended outage, absent if none
	// ended since the exporter started.
	LastUnavailabilitySeconds *float64   `json:"last_unavailability_seconds,omitempty"`
	UnavailableSince          *time.Time `json:"unavailable_since,omitempty"`
	// LeaderChanges counts the leader changes seen; LastElectionSeconds is
	// how long the ensemble was without a leader before the latest one,
	// absent until one has been seen.
	LeaderChanges       uint64       `json:"leader_changes"`
	LastElectionSeconds *float64     `json:"last_election_seconds,omitempty"`
	Datacenters         []Datacenter `json:"datacenters"`
	Advice              []string     `json:"advice"`
	Members             []Member     `json:"members"`
	// Discovery says how the members were chosen: "membership" (every
	// member the ensemble's own membership lists), "configuration" (no
	// membership known: only the configured ones) or "off".
	Discovery string `json:"discovery,omitempty"`
	// Disagreeing are configured members whose own conf lists another
	// ensemble's servers, with how; they are left out of the figures.
	Disagreeing []string `json:"disagreeing,omitempty"`
}

// Datacenter is the margin left if the datacenter were lost.
type Datacenter struct {
	Name       string `json:"name"`
	Voters     int    `json:"voters"`
	LossMargin int    `json:"loss_margin"`
}

// Member is one member's row.
type Member struct {
	Member     string `json:"member"`
	Role       string `json:"role"`
	Datacenter string `json:"datacenter"`
	ServerID   string `json:"server_id"`
	Mode       string `json:"mode"`
	Up         bool   `json:"up"`
	Serving    bool   `json:"serving"`
	Zxid       string `json:"zxid"` // "" when unknown
	// DownReason says why a member is down or a word got no answer:
	// connection_refused, timeout, deadline, ... ("" when none); Error is
	// the whole error of a member that is down.
	DownReason string `json:"down_reason,omitempty"`
	Error      string `json:"error,omitempty"`
	// Latencies in milliseconds, absent when the member did not say.
	LatencyAvgMs *float64 `json:"latency_avg_ms,omitempty"`
	LatencyMaxMs *float64 `json:"latency_max_ms,omitempty"`
	// CaughtUp: the member has caught up with the leader; CaughtUpReason
	// says how far it is, or why not.
	CaughtUp       bool   `json:"caught_up"`
	CaughtUpReason string `json:"caught_up_reason"`
	SafeToStop     bool   `json:"safe_to_stop"`
	StopImpact     string `json:"stop_impact"`
	Reason         string `json:"reason"`
	// Discovered: only the ensemble's own membership lists the member.
	Discovered bool `json:"discovered"`
	// Aliases are other configured names of the same server.
	Aliases []string `json:"aliases,omitempty"`
}

// FromRound turns one probe round into an Ensemble.
func FromRound(r *ensemble.Round) Ensemble {
	a := r.Assessment
	q := a.Quorum
	e := Ensemble{
		Name: r.Ensemble.Name, Health: a.Health,
		Voters: q.Voters, Observers: q.Observers, QuorumSize: q.QuorumSize, FaultTolerance: q.FaultTolerance,
		VotersInQuorum: q.VotersInQuorum, Margin: q.Margin, VoterSetSource: string(r.VoterSet.Source),
		Partial:     r.Partial,
		Datacenters: []Datacenter{}, Advice: append([]string{}, a.AdviceText...),
	}
	if leader := r.Leader(); leader != nil {
		e.Leader = leader.Address
	}
	if availability := r.Availability; availability.HasLast {
		seconds := availability.LastUnavailability.Seconds()
		e.LastUnavailabilitySeconds = &seconds
	}
	if since := r.Availability.UnavailableSince; !since.IsZero() {
		e.UnavailableSince = &since
	}
	e.LeaderChanges = r.Elections.Changes
	if r.Elections.HasLast {
		seconds := r.Elections.LastElection.Seconds()
		e.LastElectionSeconds = &seconds
	}
	for _, dc := range a.Datacenters {
		e.Datacenters = append(e.Datacenters, Datacenter{Name: dc.Datacenter, Voters: dc.Voters, LossMargin: dc.Margin})
	}
	if r.Discovery != nil {
		e.Discovery = r.Discovery.State
	}
	for _, m := range r.Disagreeing {
		e.Disagreeing = append(e.Disagreeing, m.Address+": "+m.Disagrees)
	}
	for i, m := range r.Members {
		row := Member{
			Member: m.Address, Role: m.Role, Datacenter: m.Datacenter,
			ServerID: m.ServerIDLabel(), Mode: string(m.Mode), Up: m.Up, Serving: m.Mode.Serving(),
			DownReason: m.Reason, SafeToStop: a.Members[i].Safe, StopImpact: string(a.Members[i].Impact), Reason: a.Members[i].Reason,
			Discovered: m.Discovered, Aliases: m.Aliases,
		}
		row.CaughtUp, row.CaughtUpReason = r.CaughtUp(i), r.CaughtUpReason(i)
		if m.Err != nil && !m.Up {
			row.Error = m.Err.Error()
		}
		if m.ZxidKnown {
			row.Zxid = m.Zxid.String()
		}
		row.LatencyAvgMs = milliseconds(m, ensemble.LatencyAvg)
		row.LatencyMaxMs = milliseconds(m, ensemble.LatencyMax)
		e.Members = append(e.Members, row)
	}
	return e
}

// milliseconds is a latency figure in milliseconds, nil when not said.
func milliseconds(m *ensemble.ProbedMember, figure ensemble.Figure) *float64 {
	seconds, ok := m.Figures.Get(figure)
	if !ok {
		return nil
	}
	ms := seconds * 1000
	return &ms
}

// Prober runs a probe round; *ensemble.Registry satisfies it.
type Prober interface {
	Probe(ctx context.Context, name string) (*ensemble.Round, error)
}

// Collect probes the named ensembles concurrently and reports them in the
// order given. An ensemble whose round does not finish within ctx is
// reported with its error and counts as lost.
func Collect(ctx context.Context, prober Prober, names []string) Report {
	report := Report{Time: time.Now(), Health: quorum.HealthHealthy, Ensembles: make([]Ensemble, len(names))}
	var wg sync.WaitGroup
	for i, name := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			result, err := prober.Probe(ctx, name)
			if err != nil {
				report.Ensembles[i] = Ensemble{Name: name, Error: err.Error(), Health: quorum.HealthLost, Datacenters: []Datacenter{}, Advice: []string{}, Members: []Member{}}
				return
			}
			report.Ensembles[i] = FromRound(result)
		}()
	}
	wg.Wait()
	for _, e := range report.Ensembles {
		if e.Health.Worse(report.Health) {
			report.Health = e.Health
		}
	}
	return report
}
