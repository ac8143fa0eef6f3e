package ensemble

import "time"

// Availability is what the rounds so far say about when the ensemble had no
// quorum. Outages are timed from the first round that found no quorum to
// the first that found one again, so they are as precise as the scrape
// interval. It lives as long as the ensemble's name is configured: a reload
// keeps it.
type Availability struct {
	// Available: a leader serves with a quorum (margin >= 0).
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

// next carries the availability forward to a round at now.
func (a Availability) next(now time.Time, available bool) Availability {
	a.Available = available
	switch {
	case !available && a.UnavailableSince.IsZero():
		a.UnavailableSince = now
	case available && !a.UnavailableSince.IsZero():
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

// Elections is what the rounds so far say about leader changes. A change is
// a member leading that did not before, or the same member leading a newer
// epoch (it won an election again). Like Availability it lives as long as
// the ensemble's name is configured.
type Elections struct {
	// Changes counts leader changes seen since the exporter started.
	Changes uint64
	// LastElection is how long the ensemble was without a leader before
	// the latest change: from the first round that found none to the first
	// that found the new one; 0 when the new leader was there by the next
	// round. HasLast is false until a change has been seen.
	LastElection time.Duration
	HasLast      bool
	// LeaderlessSince is when the current leaderless period was first
	// seen, zero while a leader serves or before one has been seen.
	LeaderlessSince time.Time

	leader string
	epoch  uint32
	known  bool
}

// next carries the elections forward to a round at now; leader is the
// round's leader (nil if none) and epoch its zxid epoch (0 if unknown).
func (e Elections) next(now time.Time, leader *ProbedMember) Elections {
	if leader == nil {
		if e.known && e.LeaderlessSince.IsZero() {
			e.LeaderlessSince = now
		}
		return e
	}
	epoch := uint32(0)
	if leader.ZxidKnown {
		epoch = leader.Zxid.Epoch()
	}
	if e.known && (leader.Address != e.leader || epoch > 0 && epoch > e.epoch) {
		e.Changes++
		e.LastElection, e.HasLast = 0, true
		if !e.LeaderlessSince.IsZero() {
			e.LastElection = now.Sub(e.LeaderlessSince)
		}
	}
	if leader.Address != e.leader || epoch > 0 {
		// A round without the leader's zxid keeps the epoch known.
		e.epoch = epoch
	}
	e.leader, e.known = leader.Address, true
	e.LeaderlessSince = time.Time{}
	return e
}
