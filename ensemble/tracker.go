package ensemble

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/quorumwatch/zookeeper_exporter/config"
	"github.com/quorumwatch/zookeeper_exporter/zk"
)

// setup is what probing an ensemble takes from the configuration; a reload
// that changes the ensemble replaces it.
type setup struct {
	ensemble    *config.Ensemble
	client      WordClient
	timeout     time.Duration
	fingerprint string
}

// tracker is one ensemble's state for as long as its name is configured.
type tracker struct {
	name   string
	rounds roundGroup

	mu           sync.Mutex
	setup        *setup
	last         *Round
	availability Availability
	elections    Elections
	serverIDs    map[string]int // learned from the membership, by address
	// ownIDs records when a member's server id was learned from its own
	// conf, by address: such an id is checked again (pods swap addresses).
	ownIDs     map[string]time.Time
	membership *Membership
	// membershipConf is the conf answer the membership came from: its
	// ports place the members discovery adds.
	membershipConf *zk.Conf
	discovered     discovered
	// disagreeing names, by address, members whose own conf lists another
	// ensemble's servers, and how.
	disagreeing map[string]string
	confTries   confTries
	// confAllowed records, by member address, whether its whitelist lets
	// conf through, for the members asked so far.
	confAllowed map[string]bool
	// saidObserver records, by member address, whether the member last
	// said (by its mode) that it observes: a role said stays known while
	// the member is down, until it says otherwise or the membership does.
	saidObserver map[string]bool
	dns          dnsMembers
	// publishing keeps subscribers' calls for this ensemble in order.
	publishing sync.Mutex
}

func newTracker(name string) *tracker {
	return &tracker{name: name, serverIDs: map[string]int{}, ownIDs: map[string]time.Time{}, confAllowed: map[string]bool{}, disagreeing: map[string]string{}, saidObserver: map[string]bool{}}
}

func (t *tracker) currentSetup() *setup {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.setup
}

func (t *tracker) setSetup(s *setup) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.setup = s
}

// flight is one round in progress. Its members fill in as they answer, so
// a scrape that cannot wait takes what is known.
type flight struct {
	base    *setup // the configuration's; setup adds the members from DNS
	started time.Time
	done    chan struct{}
	result  *Round // set before done closes

	mu        sync.Mutex
	setup     *setup     // nil until the members are known
	dns       *DNSStatus // nil unless the members come from DNS
	discovery *DiscoveryStatus
	members   []*ProbedMember // nil until that member's probe ends
}

// roundGroup runs at most one round at a time.
type roundGroup struct {
	mu      sync.Mutex
	current *flight
}

// join returns the round in flight, or starts one.
func (g *roundGroup) join(start func() *flight) (f *flight, shared bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.current != nil {
		return g.current, true
	}
	g.current = start()
	return g.current, false
}

func (g *roundGroup) finish() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.current = nil
}

// start begins a round of t with the setup in force. The round takes no
// cancellation from the scrapes: it ends when every member has answered or
// reached its own timeout, so a member never has two probes in flight.
func (r *Registry) start(t *tracker, slots chan struct{}) *flight {
	base := t.currentSetup()
	f := &flight{base: base, started: time.Now(), done: make(chan struct{})}
	go func() {
		// A DNS lookup runs here, not under the round group's lock: a
		// scrape that cannot wait for it gets the members of the last one.
		r.resolveDNS(t, base)
		s, dns, discovery := r.members(t, base)
		f.mu.Lock()
		f.setup, f.dns, f.discovery, f.members = s, dns, discovery, make([]*ProbedMember, len(s.ensemble.Members))
		f.mu.Unlock()
		r.probeAll(f, s, slots, 0)
		if r.configured(s.ensemble.Name, "") {
			r.metrics.probeRounds.WithLabelValues(s.ensemble.Name).Inc()
		}
		r.refreshMembership(t, s, f.members)
		r.probeNewlyListed(t, f, slots)
		f.result = r.complete(t, f)
		t.rounds.finish()
		close(f.done)
	}()
	return f
}

// probeAll probes the setup's members from index from on into f.members.
func (r *Registry) probeAll(f *flight, s *setup, slots chan struct{}, from int) {
	var wg sync.WaitGroup
	for i, member := range s.ensemble.Members[from:] {
		// A slot first, then the goroutine: members waiting for a slot
		// cost no goroutine (a thousand stacks, at scale).
		slots <- struct{}{}
		wg.Go(func() {
			defer func() { <-slots }()
			probed := r.probeMember(s, member)
			f.mu.Lock()
			f.members[from+i] = probed
			f.mu.Unlock()
		})
	}
	wg.Wait()
}

// probeNewlyListed brings the round up to the membership just read: the
// members it lists that were not probed yet are probed now, and those it
// no longer lists are dropped, so that a start with one member's address
// shows the whole ensemble in its first round, and a reconfiguration in
// the round that reads it.
func (r *Registry) probeNewlyListed(t *tracker, f *flight, slots chan struct{}) {
	next, _, discovery := r.members(t, f.base)
	f.mu.Lock()
	probed := make(map[string]*ProbedMember, len(f.members))
	for _, m := range f.members {
		probed[m.Address] = m
	}
	var members []*ProbedMember
	var fresh []*config.Member
	for _, member := range next.ensemble.Members {
		if m := probed[member.Address]; m != nil {
			members = append(members, m)
		} else {
			fresh = append(fresh, member)
		}
	}
	if len(fresh) == 0 && len(members) == len(f.members) {
		f.mu.Unlock()
		return
	}
	// Already probed members first, in their order; the new ones after.
	kept := *next.ensemble
	kept.Members = make([]*config.Member, 0, len(members)+len(fresh))
	for _, m := range members {
		kept.Members = append(kept.Members, m.Member)
	}
	from := len(kept.Members)
	kept.Members = append(kept.Members, fresh...)
	s := &setup{ensemble: &kept, client: next.client, timeout: next.timeout, fingerprint: next.fingerprint}
	f.setup, f.discovery, f.members = s, discovery, append(members, make([]*ProbedMember, len(fresh))...)
	f.mu.Unlock()
	r.probeAll(f, s, slots, from)
}

// members is the setup with every member to probe: the configured ones
// or DNS's, then those only the ensemble's membership lists.
func (r *Registry) members(t *tracker, base *setup) (*setup, *DNSStatus, *DiscoveryStatus) {
	s, dns := r.withDNSMembers(t, base)
	s, discovery := r.withDiscovered(t, s)
	return s, dns, discovery
}

// probeMember probes one member within its timeout.
func (r *Registry) probeMember(s *setup, member *config.Member) *ProbedMember {
	ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
	defer cancel()
	onError := func(word string, err error) { r.recordError(s.ensemble.Name, member.Address, word, err) }
	prober := &memberProber{words: s.client, admin: r.opts.Admin, adminURL: s.ensemble.AdminURL(member), onError: onError}
	return prober.probe(ctx, member)
}

// recordError counts and logs a word that got no usable answer. A round
// that outlived a reload which dropped its member counts nothing: the
// reload removed that member's series.
func (r *Registry) recordError(ensemble, member, word string, err error) {
	reason := zk.Reason(err)
	if r.configured(ensemble, member) {
		r.metrics.probeErrors.WithLabelValues(ensemble, member, reason).Inc()
	}
	r.logger.Debug("probe failed", "ensemble", ensemble, "member", member, "word", word, "reason", reason, "err", err)
}

// complete derives and publishes a round whose every member has answered.
func (r *Registry) complete(t *tracker, f *flight) *Round {
	round := r.assemble(t, f.setup, f.members, f.started)
	round.DNS, round.Discovery = f.dns, f.discovery
	t.publishing.Lock()
	defer t.publishing.Unlock()
	t.mu.Lock()
	previous := t.last
	t.availability = t.availability.next(round.Time, round.Quorum().HasQuorum())
	round.Availability = t.availability
	t.elections = t.elections.next(round.Time, round.Leader())
	round.Elections = t.elections
	t.last = round
	t.mu.Unlock()
	r.publish(previous, round)
	return round
}

// partial is the round as far as it got: members not done yet are down
// with ReasonDeadline. The availability is the last complete round's.
func (r *Registry) partial(t *tracker, f *flight) *Round {
	f.mu.Lock()
	s, dns, discovery, probed := f.setup, f.dns, f.discovery, f.members
	if s == nil { // still looking the members up
		s, dns, discovery = r.members(t, f.base)
		probed = make([]*ProbedMember, len(s.ensemble.Members))
	}
	members := make([]*ProbedMember, len(probed))
	for i, m := range probed {
		if m == nil {
			configured := s.ensemble.Members[i]
			err := fmt.Errorf("%s: no answer before the scrape's deadline: %w", configured.Address, context.DeadlineExceeded)
			m = &ProbedMember{Member: configured, ServerID: configured.ServerID, Mode: zk.ModeUnknown, Allowed: map[string]bool{}, Err: err, Reason: ReasonDeadline}
			r.metrics.probeErrors.WithLabelValues(t.name, configured.Address, ReasonDeadline).Inc()
		}
		members[i] = m
	}
	f.mu.Unlock()
	round := r.assemble(t, s, members, f.started)
	round.Partial, round.DNS, round.Discovery = true, dns, discovery
	t.mu.Lock()
	round.Availability, round.Elections = t.availability, t.elections
	t.mu.Unlock()
	return round
}

// assemble builds a round from its members: the server ids learned so far,
// then everything derived.
func (r *Registry) assemble(t *tracker, s *setup, members []*ProbedMember, started time.Time) *Round {
	t.mu.Lock()
	live := t.membership
	round := &Round{Ensemble: s.ensemble, Time: started, Members: make([]*ProbedMember, 0, len(members))}
	for _, m := range members {
		copied := *m
		if copied.ServerID == 0 {
			copied.ServerID = t.serverIDs[m.Address]
		}
		switch {
		case m.Up && m.Mode == zk.ModeObserver:
			t.saidObserver[m.Address] = true
		case m.Up && (m.Mode == zk.ModeLeader || m.Mode == zk.ModeFollower):
			delete(t.saidObserver, m.Address)
		}
		copied.SaidObserver = t.saidObserver[m.Address]
		if allowed, asked := t.confAllowed[m.Address]; asked && m.Up {
			copied.Allowed = make(map[string]bool, len(m.Allowed)+1)
			for word, ok := range m.Allowed {
				copied.Allowed[word] = ok
			}
			copied.Allowed[wordConf] = allowed
		}
		if why, foreign := t.disagreeing[m.Address]; foreign && copied.ServerID == 0 {
			copied.Disagrees = why
			round.Disagreeing = append(round.Disagreeing, &copied)
			continue
		}
		round.Members = append(round.Members, &copied)
	}
	t.mu.Unlock()
	round.Members = oneMemberPerServer(round.Members)
	derive(round, live)
	return round
}

// configured reports whether the configuration in force has the ensemble,
// and the member unless member is "".
func (r *Registry) configured(ensemble, member string) bool {
	r.mu.RLock()
	defer r.mu.RUnlock()
	e := r.config.Ensemble(ensemble)
	if e == nil || member == "" || e.DNS != nil || e.Member(member) != nil {
		return e != nil
	}
	t := r.trackers[ensemble]
	if t == nil {
		return false
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, m := range t.discovered.members {
		if m.Address == member {
			return true
		}
	}
	return false
}
