package ensemble

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
)

// LogEvents returns a subscriber (see Registry.Subscribe) that writes one
// structured line per event between two rounds: leader changed, member left
// or rejoined, quorum lost or regained, the voter set's source or its match
// with the configuration changed. A member found down in the first round is
// logged as "member down", and at debug level for as long as it stays down.
func LogEvents(logger *slog.Logger) func(previous, current *Round) {
	return func(previous, current *Round) {
		log := func(level slog.Level, msg string, attrs ...any) {
			logger.Log(context.Background(), level, msg, append([]any{"ensemble", current.Ensemble.Name}, attrs...)...)
		}
		logMembers(log, previous, current)
		logDiscovery(log, previous, current)
		logLeader(log, previous, current)
		logQuorum(log, previous, current)
		logVoterSet(log, previous, current)
	}
}

type logFunc func(level slog.Level, msg string, attrs ...any)

func logMembers(log logFunc, previous, current *Round) {
	before := map[string]*ProbedMember{}
	if previous != nil {
		for _, m := range previous.Members {
			before[m.Address] = m
		}
	}
	for _, m := range current.Members {
		attrs := []any{"member", m.Address, "role", m.Role, "server_id", serverIDText(m.ServerID), "datacenter", m.Datacenter}
		was := before[m.Address]
		switch {
		case was == nil && !m.Up:
			log(slog.LevelWarn, "member down", append(attrs, "reason", m.Reason, "err", m.Err)...)
		case was == nil:
		case was.Mode.Serving() && !m.Mode.Serving():
			log(slog.LevelWarn, "member left", append(attrs, "mode", string(m.Mode), "reason", m.Reason, "err", m.Err)...)
		case !was.Mode.Serving() && m.Mode.Serving():
			log(slog.LevelInfo, "member rejoined", append(attrs, "mode", string(m.Mode))...)
		case !m.Up:
			log(slog.LevelDebug, "member down", append(attrs, "reason", m.Reason, "err", m.Err)...)
		}
	}
}

// logDiscovery logs the members the ensemble's membership adds or drops,
// and once per change when no membership is known to discover from.
func logDiscovery(log logFunc, previous, current *Round) {
	before, now := map[string]bool{}, map[string]bool{}
	if previous != nil {
		for _, m := range previous.Members {
			before[m.Address] = true
		}
	}
	for _, m := range current.Members {
		now[m.Address] = true
		if m.Discovered && !before[m.Address] {
			log(slog.LevelInfo, "member discovered", "member", m.Address, "role", m.Role, "server_id", serverIDText(m.ServerID), "up", m.Up, "mode", string(m.Mode))
		}
	}
	if previous != nil {
		for _, m := range previous.Members {
			if m.Discovered && !now[m.Address] {
				log(slog.LevelInfo, "member no longer in the membership: not probed any more", "member", m.Address, "server_id", serverIDText(m.ServerID))
			}
		}
	}
	state := func(r *Round) string {
		if r == nil || r.Discovery == nil {
			return ""
		}
		return r.Discovery.State
	}
	if state(current) == DiscoveryConfiguration && state(previous) != DiscoveryConfiguration {
		log(slog.LevelInfo, "discovery: no membership known (conf refused, not answered, or ZooKeeper 3.4): probing the configured members only")
	}
}

func logLeader(log logFunc, previous, current *Round) {
	leader := current.Leader()
	if previous == nil || leader == nil {
		return
	}
	was := ""
	if old := previous.Leader(); old != nil {
		was = old.Address
	}
	if leader.Address != was {
		attrs := []any{"previous", was, "leader", leader.Address, "server_id", serverIDText(leader.ServerID)}
		if e := current.Elections; e.HasLast && e.Changes > previous.Elections.Changes {
			attrs = append(attrs, "leaderless_seconds", e.LastElection.Seconds())
		}
		log(slog.LevelInfo, "leader changed", attrs...)
	}
}

func logQuorum(log logFunc, previous, current *Round) {
	q, availability := current.Quorum(), current.Availability
	switch {
	case !availability.Available && (previous == nil || previous.Availability.Available):
		log(slog.LevelError, "quorum lost", "voters", q.Voters, "voters_up", q.VotersUp, "quorum_size", q.QuorumSize, "margin", q.Margin)
	case availability.Available && previous != nil && !previous.Availability.Available:
		leader := ""
		if m := current.Leader(); m != nil {
			leader = m.Address
		}
		log(slog.LevelWarn, "quorum regained", "unavailable_seconds", availability.LastUnavailability.Seconds(), "leader", leader, "voters_in_quorum", q.VotersInQuorum, "margin", q.Margin)
	}
}

// logVoterSet logs once per change which voter set is in force and how it
// compares with the configuration.
func logVoterSet(log logFunc, previous, current *Round) {
	now := current.VoterSet
	if current.VoterSetError != nil && (previous == nil || fmt.Sprint(previous.VoterSetError) != current.VoterSetError.Error()) {
		log(slog.LevelWarn, "voter set rule refused", "err", current.VoterSetError)
	}
	mismatch := now.Matches != nil && !*now.Matches || len(now.Unconfigured) > 0
	switch {
	case previous == nil && !mismatch:
		return
	case previous != nil && previous.VoterSet.Source == now.Source && sameMatch(previous.VoterSet.Matches, now.Matches) &&
		fmt.Sprint(previous.VoterSet.Unconfigured) == fmt.Sprint(now.Unconfigured):
		return
	}
	level := slog.LevelInfo
	if mismatch {
		level = slog.LevelWarn
	}
	log(level, "voter set", "voter_set_source", string(now.Source), "matches_configuration", matchText(now.Matches),
		"unconfigured_voters", fmt.Sprint(now.Unconfigured), "voters", current.Quorum().Voters, "quorum_size", current.Quorum().QuorumSize)
}

func sameMatch(a, b *bool) bool { return a == nil && b == nil || a != nil && b != nil && *a == *b }

func matchText(m *bool) string {
	if m == nil {
		return "unknown"
	}
	return strconv.FormatBool(*m)
}

// serverIDText is the server_id label value: "" when unknown.
func serverIDText(id int) string {
	if id <= 0 {
		return ""
	}
	return strconv.Itoa(id)
}

// ServerIDLabel is the member's server_id label value: "" when unknown.
func (m *ProbedMember) ServerIDLabel() string { return serverIDText(m.ServerID) }
