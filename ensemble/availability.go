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
