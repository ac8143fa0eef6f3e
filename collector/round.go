package collector

import (
	"context"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/quorumwatch/zookeeper_exporter/config"
	"github.com/quorumwatch/zookeeper_exporter/quorum"
	"github.com/quorumwatch/zookeeper_exporter/zk"
)

// EnsembleResult is one probe round of one ensemble: every member's answer
// and the quorum state derived from them.
type EnsembleResult struct {
	Ensemble *config.Ensemble
	Members  []*MemberResult // in configuration order
	Quorum   quorum.Ensemble
	// VoterSetMatches compares the ensemble's own voter set (conf) with the
	// configured one; nil when no serving member answered conf.
	VoterSetMatches *bool
	// ServerIDs maps member address to server id, configured or learned.
	ServerIDs map[string]int
	Time      time.Time
	// Availability carries outages across rounds; see maintenance.go.
	Availability Availability
}

// ServerID returns the member's server id label value, "" when unknown.
func (r *EnsembleResult) ServerID(member *config.Member) string {
	if id := r.ServerIDs[member.Address]; id > 0 {
		return strconv.Itoa(id)
	}
	return ""
}

// round is one probe round in flight; scrapes that arrive meanwhile wait for
// it instead of probing again.
type round struct {
	done   chan struct{}
	result *EnsembleResult

	// The round runs until the latest deadline of the scrapes waiting on it
	// (less a margin to write the metrics): a scrape with a short timeout must
	// not cut short one with time to spare that joined it.
	mu        sync.Mutex
	deadline  time.Time
	timer     *time.Timer // cancels the round at deadline
	unbounded bool        // a waiter has no deadline: only member timeouts end the round
	cancel    context.CancelFunc
	cut       bool // the round has ended or was cancelled: joining is pointless
}

// extend pushes the round's deadline out to ctx's, if later. It returns
// false when the round was already cut short and cannot be joined.
func (r *round) extend(ctx context.Context) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case r.cut:
		return false
	case r.unbounded:
		return true
	}
	deadline, ok := ctx.Deadline()
	if !ok {
		if r.timer != nil && !r.timer.Stop() {
			return false // the timer is cutting the round right now
		}
		r.unbounded = true
		return true
	}
	deadline = deadline.Add(-writeMargin(time.Until(deadline)))
	if r.timer != nil {
		if !deadline.After(r.deadline) {
			return true
		}
		if !r.timer.Stop() {
			return false // the timer is cutting the round right now
		}
	}
	r.deadline = deadline
	r.timer = time.AfterFunc(time.Until(deadline), func() {
		r.mu.Lock()
		r.cut = true
		r.mu.Unlock()
		r.cancel()
	})
	return true
}

// roundGroup runs at most one round per ensemble at a time.
type roundGroup struct {
	mu      sync.Mutex
	current *round
}

// join returns the round in flight, extended to ctx's deadline, or starts one
// with run. The round takes no cancellation from its scrapes: a scraper that
// hangs up must not cut short the scrape of another that joined.
func (g *roundGroup) join(ctx context.Context, run func(context.Context) *EnsembleResult) (r *round, shared bool) {
	for {
		g.mu.Lock()
		current := g.current
		if current == nil {
			break
		}
		if current.extend(ctx) {
			g.mu.Unlock()
			return current, true
		}
		// Cut short already: let it finish, then run a round of our own.
		g.mu.Unlock()
		select {
		case <-current.done:
		case <-ctx.Done():
			return current, true
		}
	}
	defer g.mu.Unlock()
	roundCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	r = &round{done: make(chan struct{}), cancel: cancel}
	r.extend(ctx)
	g.current = r
	go func() {
		defer cancel()
		r.result = run(roundCtx)
		r.mu.Lock()
		if r.timer != nil {
			r.timer.Stop()
		}
		r.cut = true
		r.mu.Unlock()
		g.mu.Lock()
		g.current = nil
		g.mu.Unlock()
		close(r.done)
	}()
	return r, false
}

// writeMargin is kept from the scrape's time for writing the metrics: probes
// that run to the very deadline would leave none, and the scrape would lose
// the ensemble along with the hanging member.
func writeMargin(remaining time.Duration) time.Duration {
	return min(remaining/10, 100*time.Millisecond)
}

// probeEnsemble probes every member concurrently, each within its own
// timeout, and derives the quorum state once all have answered or timed out.
// It returns only when every probe has ended, so a member never has more
// than one probe in flight.
func (e *Exporter) probeEnsemble(ctx context.Context, state *ensembleState) *EnsembleResult {
	ensemble := state.ensemble
	result := &EnsembleResult{
		Ensemble:  ensemble,
		Members:   make([]*MemberResult, len(ensemble.Members)),
		ServerIDs: map[string]int{},
		Time:      time.Now(),
	}
	var wg sync.WaitGroup
	for i, member := range ensemble.Members {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case e.probeSlots <- struct{}{}:
				defer func() { <-e.probeSlots }()
			case <-ctx.Done():
				result.Members[i] = &MemberResult{Member: member, Mode: zk.ModeUnknown, Allowed: map[string]bool{}, Err: ctx.Err()}
				e.recordError(ensemble, member, "probe", ctx.Err())
				return
			}
			memberCtx, cancel := context.WithTimeout(ctx, state.timeout)
			defer cancel()
			prober := &memberProber{words: state.client, admin: state.admin, adminURL: ensemble.AdminURL(member),
				onError: func(word string, err error) { e.recordError(ensemble, member, word, err) }}
			result.Members[i] = prober.probe(memberCtx, member)
		}()
	}
	wg.Wait()
	e.self.probeRounds.WithLabelValues(ensemble.Name).Inc()

	members := make([]quorum.Member, len(result.Members))
	for i, member := range result.Members {
		members[i] = quorumMember(member)
	}
	result.Quorum = quorum.Evaluate(members)
	e.learnServerIDs(state, result)
	result.VoterSetMatches = voterSetMatches(result)
	return result
}

// quorumMember is the part of a probe result the quorum arithmetic needs.
func quorumMember(result *MemberResult) quorum.Member {
	member := quorum.Member{Voter: result.Member.Voter(), Up: result.Up, Mode: result.Mode, LeaderNotServing: result.LeaderNotServing}
	if zxid, ok := result.Zxid(); ok {
		member.Epoch = zxid.Epoch()
	}
	if result.Mntr != nil {
		if voters, ok := result.Mntr.LeaderVoters(); ok {
			member.LeaderVoters = voters
		}
	}
	return member
}

// learnServerIDs fills result.ServerIDs: configured ids first, then a
// member's own serverId from conf, then the membership lines any serving
// member listed. Learned ids are remembered so that the server_id label does
// not come and go with a member's answers.
func (e *Exporter) learnServerIDs(state *ensembleState, result *EnsembleResult) {
	state.mu.Lock()
	defer state.mu.Unlock()
	for _, member := range result.Members {
		if member.Conf != nil && member.Conf.ServerID > 0 {
			state.serverIDs[member.Member.Address] = member.Conf.ServerID
		}
		if member.Conf == nil {
			continue
		}
		for _, server := range member.Conf.Servers {
			for _, configured := range result.Ensemble.Members {
				if sameAddress(configured.Address, server.ClientAddress) {
					if _, known := state.serverIDs[configured.Address]; !known {
						state.serverIDs[configured.Address] = server.ID
					}
				}
			}
		}
	}
	for _, member := range result.Ensemble.Members {
		if member.ServerID > 0 {
			result.ServerIDs[member.Address] = member.ServerID
		} else if id, ok := state.serverIDs[member.Address]; ok {
			result.ServerIDs[member.Address] = id
		}
	}
}

// voterSetMatches compares the voters in a serving voter's conf (the
// leader's when it answered) with the configured voters, by server id.
func voterSetMatches(result *EnsembleResult) *bool {
	var conf *zk.Conf
	for _, member := range result.Members {
		if member.Conf == nil || len(member.Conf.Servers) == 0 || !member.Member.Voter() {
			continue
		}
		if conf == nil || member.Mode == zk.ModeLeader {
			conf = member.Conf
		}
	}
	if conf == nil {
		return nil
	}
	want := map[int]bool{}
	for _, member := range result.Ensemble.Voters() {
		id := result.ServerIDs[member.Address]
		if id == 0 {
			return nil // a voter we have not heard from yet: cannot tell
		}
		want[id] = true
	}
	got := map[int]bool{}
	for _, server := range conf.Voters() {
		got[server.ID] = true
	}
	matches := len(got) == len(want)
	for id := range want {
		matches = matches && got[id]
	}
	return &matches
}

// sameAddress compares host:port pairs, treating names that are the same
// literal IP, or both loopback, as the same host.
func sameAddress(a, b string) bool {
	if a == b {
		return true
	}
	hostA, portA, errA := net.SplitHostPort(a)
	hostB, portB, errB := net.SplitHostPort(b)
	if errA != nil || errB != nil || portA != portB {
		return false
	}
	ipA, ipB := hostIP(hostA), hostIP(hostB)
	return ipA != nil && ipB != nil && (ipA.Equal(ipB) || ipA.IsLoopback() && ipB.IsLoopback())
}

func hostIP(host string) net.IP {
	if host == "localhost" {
		return net.IPv4(127, 0, 0, 1)
	}
	return net.ParseIP(host)
}
