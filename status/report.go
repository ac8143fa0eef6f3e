// Package status renders what a probe round says about each ensemble for an
// operator: a terminal table, plain key=value lines, JSON, and a live HTML
// page. It also holds the status command, which gates maintenance steps
// with its exit status.
package status

import (
	"context"
	"sync"
	"time"

	"github.com/quorumwatch/zookeeper_exporter/collector"
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
	// LastUnavailabilitySeconds is the latest ended outage, absent if none
	// ended since the exporter started.
	LastUnavailabilitySeconds *float64     `json:"last_unavailability_seconds,omitempty"`
	UnavailableSince          *time.Time   `json:"unavailable_since,omitempty"`
	Datacenters               []Datacenter `json:"datacenters"`
	Advice                    []string     `json:"advice"`
	Members                   []Member     `json:"members"`
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
	// Latencies in milliseconds, absent when the member did not say.
	LatencyAvgMs *float64 `json:"latency_avg_ms,omitempty"`
	LatencyMaxMs *float64 `json:"latency_max_ms,omitempty"`
	SafeToStop   bool     `json:"safe_to_stop"`
	StopImpact   string   `json:"stop_impact"`
	Reason       string   `json:"reason"`
}

// FromResult turns one probe round into an Ensemble.
func FromResult(result *collector.EnsembleResult) Ensemble {
	a := result.Assess()
	q := a.Quorum
	e := Ensemble{
		Name: result.Ensemble.Name, Health: a.Health,
		Voters: q.Voters, Observers: q.Observers, QuorumSize: q.QuorumSize, FaultTolerance: q.FaultTolerance,
		VotersInQuorum: q.VotersInQuorum, Margin: q.Margin,
		Datacenters: []Datacenter{}, Advice: append([]string{}, a.AdviceText...),
	}
	if a.Leader >= 0 {
		e.Leader = result.Members[a.Leader].Member.Address
	}
	if availability := result.Availability; availability.HasLast {
		seconds := availability.LastUnavailability.Seconds()
		e.LastUnavailabilitySeconds = &seconds
	}
	if since := result.Availability.UnavailableSince; !since.IsZero() {
		e.UnavailableSince = &since
	}
	for _, dc := range a.Datacenters {
		e.Datacenters = append(e.Datacenters, Datacenter{Name: dc.Datacenter, Voters: dc.Voters, LossMargin: dc.Margin})
	}
	for i, member := range result.Members {
		row := Member{
			Member: member.Member.Address, Role: member.Member.Role, Datacenter: member.Member.Datacenter,
			ServerID: result.ServerID(member.Member), Mode: string(member.Mode), Up: member.Up, Serving: member.Mode.Serving(),
			SafeToStop: a.Members[i].Safe, StopImpact: string(a.Members[i].Impact), Reason: a.Members[i].Reason,
		}
		if zxid, ok := member.Zxid(); ok {
			row.Zxid = zxid.String()
		}
		row.LatencyAvgMs, row.LatencyMaxMs = latencies(member)
		e.Members = append(e.Members, row)
	}
	return e
}

// latencies come from srvr (seconds) or else mntr (milliseconds).
func latencies(member *collector.MemberResult) (avg, max *float64) {
	ms := func(seconds float64) *float64 { v := seconds * 1000; return &v }
	if member.Srvr != nil {
		return ms(member.Srvr.LatencyAvg), ms(member.Srvr.LatencyMax)
	}
	if member.Mntr != nil {
		if v, ok := member.Mntr.Number("zk_avg_latency"); ok {
			avg = &v
		}
		if v, ok := member.Mntr.Number("zk_max_latency"); ok {
			max = &v
		}
	}
	return avg, max
}

// Prober runs a probe round; *collector.Exporter satisfies it.
type Prober interface {
	Probe(ctx context.Context, name string) (*collector.EnsembleResult, error)
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
			report.Ensembles[i] = FromResult(result)
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
