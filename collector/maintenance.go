package collector

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/quorumwatch/zookeeper_exporter/quorum"
	"github.com/quorumwatch/zookeeper_exporter/zk"
)

// Availability is what the rounds so far say about when the ensemble had no
// serving quorum. Outages are timed from the first round that found no
// quorum to the first that found one again, so they are as precise as the
// scrape interval. It restarts with the exporter and with a reload.
type Availability struct {
	// Available: a leader serves with a quorum of voters.
	Available bool
	// UnavailableSince is when the current outage was first seen; zero
	// while available.
	UnavailableSince time.Time
	// LastUnavailability is how long the latest ended outage lasted;
	// HasLast is false until one has ended.
	LastUnavailability time.Duration
	HasLast            bool
	// Unavailable is the time without quorum seen so far, the current
	// outage included.
	Unavailable time.Duration
	ended       time.Duration // ended outages only
}

// servingQuorum reports whether a leader serves with a quorum of voters.
func servingQuorum(q quorum.Ensemble) bool {
	return q.VotersInQuorum > 0 && q.VotersInQuorum >= q.QuorumSize
}

// nextAvailability carries the availability of the previous round forward.
func nextAvailability(previous, current *EnsembleResult) Availability {
	var a Availability
	if previous != nil {
		a = previous.Availability
	}
	now := current.Time
	a.Available = servingQuorum(current.Quorum)
	switch {
	case !a.Available && a.UnavailableSince.IsZero():
		a.UnavailableSince = now
	case a.Available && !a.UnavailableSince.IsZero():
		a.LastUnavailability, a.HasLast = now.Sub(a.UnavailableSince), true
		a.ended += a.LastUnavailability
		a.UnavailableSince = time.Time{}
	}
	a.Unavailable = a.ended
	if !a.UnavailableSince.IsZero() {
		a.Unavailable += now.Sub(a.UnavailableSince)
	}
	return a
}

// Assess applies the maintenance rules to the round.
func (r *EnsembleResult) Assess() quorum.Assessment {
	peers := make([]quorum.Peer, len(r.Members))
	for i, member := range r.Members {
		peers[i] = quorum.Peer{Member: quorumMember(member), Name: member.Member.Address, Datacenter: member.Member.Datacenter}
		peers[i].Zxid, peers[i].ZxidKnown = member.Zxid()
	}
	return quorum.Assess(peers, quorum.Options{})
}

// Leader returns the member serving as leader, or nil.
func (r *EnsembleResult) Leader() *MemberResult {
	if a := r.Assess(); a.Leader >= 0 {
		return r.Members[a.Leader]
	}
	return nil
}

// logEvents writes one structured line per event between two rounds:
// leader changed, member left or rejoined, quorum lost or regained. A
// member found down in the first round is logged as "member down", and at
// debug level for as long as it stays down.
func (e *Exporter) logEvents(previous, current *EnsembleResult) {
	ctx := context.Background()
	name := current.Ensemble.Name
	log := func(level slog.Level, msg string, attrs ...any) {
		e.logger.Log(ctx, level, msg, append([]any{"ensemble", name}, attrs...)...)
	}
	previousOf := map[string]*MemberResult{}
	if previous != nil {
		for _, member := range previous.Members {
			previousOf[member.Member.Address] = member
		}
	}
	for _, member := range current.Members {
		attrs := []any{"member", member.Member.Address, "role", member.Member.Role, "server_id", current.ServerID(member.Member), "datacenter", member.Member.Datacenter}
		before := previousOf[member.Member.Address]
		switch {
		case before == nil && !member.Up:
			log(slog.LevelWarn, "member down", append(attrs, "reason", zk.Reason(member.Err), "err", member.Err)...)
		case before == nil:
		case before.Mode.Serving() && !member.Mode.Serving():
			log(slog.LevelWarn, "member left", append(attrs, "mode", string(member.Mode), "reason", zk.Reason(member.Err), "err", member.Err)...)
		case !before.Mode.Serving() && member.Mode.Serving():
			log(slog.LevelInfo, "member rejoined", append(attrs, "mode", string(member.Mode))...)
		case !member.Up:
			log(slog.LevelDebug, "member down", append(attrs, "reason", zk.Reason(member.Err), "err", member.Err)...)
		}
	}

	var was, is string
	if previous != nil {
		if leader := previous.Leader(); leader != nil {
			was = leader.Member.Address
		}
	}
	if leader := current.Leader(); leader != nil {
		is = leader.Member.Address
	}
	if previous != nil && is != "" && is != was {
		log(slog.LevelInfo, "leader changed", "previous", was, "leader", is, "server_id", current.ServerID(current.Leader().Member))
	}

	q, availability := current.Quorum, current.Availability
	switch {
	case !availability.Available && (previous == nil || previous.Availability.Available):
		log(slog.LevelError, "quorum lost", "voters", q.Voters, "voters_up", q.VotersUp, "quorum_size", q.QuorumSize, "margin", q.Margin)
	case availability.Available && previous != nil && !previous.Availability.Available:
		log(slog.LevelWarn, "quorum regained", "unavailable_seconds", availability.LastUnavailability.Seconds(), "leader", is, "voters_in_quorum", q.VotersInQuorum, "margin", q.Margin)
	}
}

// writeMaintenance writes the maintenance companion's metrics of one round.
func (e *Exporter) writeMaintenance(ch chan<- prometheus.Metric, result *EnsembleResult) {
	name := result.Ensemble.Name
	gauge := func(desc *prometheus.Desc, value float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, value, labels...)
	}
	a := result.Assess()
	for i, member := range result.Members {
		labels := []string{name, member.Member.Address, member.Member.Role, result.ServerID(member.Member)}
		verdict := a.Members[i]
		gauge(safeToStopDesc, boolValue(verdict.Safe), labels...)
		for _, impact := range quorum.Impacts {
			gauge(stopImpactDesc, boolValue(verdict.Impact == impact), append(labels, string(impact))...)
		}
	}
	for _, dc := range a.Datacenters {
		gauge(datacenterLossMarginDesc, float64(dc.Margin), name, dc.Datacenter)
	}
	for _, advice := range quorum.Advices {
		gauge(sizingAdviceDesc, boolValue(a.Advice[advice]), name, string(advice))
	}
	availability := result.Availability
	if availability.HasLast {
		gauge(lastUnavailabilityDesc, availability.LastUnavailability.Seconds(), name)
	}
	ch <- prometheus.MustNewConstMetric(unavailableSecondsDesc, prometheus.CounterValue, availability.Unavailable.Seconds(), name)
}
