package ensemble

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/quorumwatch/zookeeper_exporter/zk"
)

// confRetry is how soon a conf that got no answer is asked again.
const confRetry = 30 * time.Second

// ownIDRecheck is how often a server id a member said itself is asked
// again while the member stays up (a member that comes back is asked at
// once).
const ownIDRecheck = 5 * time.Minute

// confTries is when conf was last asked, and the ensemble's state then.
type confTries struct {
	last time.Time
	// epoch and viewSize are the leader's zxid epoch and the voters in the
	// ensemble's view at the last answer: an election or a
	// reconfiguration changes one of them, and calls for a new read.
	epoch    uint32
	viewSize int
	answered bool
}

// due reports whether the membership should be read again now.
func (c confTries) due(now time.Time, every time.Duration, epoch uint32, viewSize int) bool {
	switch {
	case c.last.IsZero():
		return true
	case !c.answered:
		return now.Sub(c.last) >= min(every, confRetry)
	case epoch != c.epoch, viewSize > 0 && viewSize != c.viewSize:
		return true
	case viewSize == 0:
		// No member says how many voters it sees (3.5 sends no
		// zk_quorum_size): only conf shows a reconfiguration, so it is
		// read every round, from one member.
		return true
	}
	return now.Sub(c.last) >= every
}

// leaderEpoch is the newest zxid epoch among serving members: it changes
// with every election.
func leaderEpoch(members []*ProbedMember) uint32 {
	var epoch uint32
	for _, m := range members {
		if m.ZxidKnown && m.Mode.Serving() {
			epoch = max(epoch, m.Zxid.Epoch())
		}
	}
	return epoch
}

// confTargets are the members to ask conf, best first: configured members
// before discovered ones (the configuration says which ensemble is meant),
// and among each the leader, then serving voters, then any serving member;
// none whose whitelist refused it.
func confTargets(members []*ProbedMember, allowed map[string]bool) []*ProbedMember {
	rank := func(m *ProbedMember) int {
		if ok, asked := allowed[m.Address]; asked && !ok || !m.Up || !m.Mode.Serving() {
			return 0
		}
		rank := 1
		switch {
		case m.Mode == zk.ModeLeader:
			rank = 3
		case m.Member.Voter():
			rank = 2
		}
		if !m.Discovered {
			rank += 3
		}
		return rank
	}
	var targets []*ProbedMember
	for _, m := range members {
		if rank(m) > 0 {
			targets = append(targets, m)
		}
	}
	sort.SliceStable(targets, func(i, j int) bool { return rank(targets[i]) > rank(targets[j]) })
	return targets
}

// confAnswer is one member's conf, or why there is none.
type confAnswer struct {
	conf    *zk.Conf
	err     error
	allowed bool // false: the whitelist refused conf
}

// askConf asks one member its conf; failures other than a refusal or "not
// serving" are counted.
func (r *Registry) askConf(s *setup, address string) confAnswer {
	ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
	defer cancel()
	a := ask(ctx, s.client, address, wordConf)
	err := a.err
	if err == nil {
		err = a.parseErr
	}
	var conf *zk.Conf
	if err == nil {
		conf = a.value.(*zk.Conf)
	}
	allowed := !zk.IsNotWhitelisted(err)
	if err != nil && allowed && !errors.Is(err, zk.ErrNotServing) {
		r.recordError(s.ensemble.Name, address, wordConf, err)
	}
	return confAnswer{conf: conf, err: err, allowed: allowed}
}

// refreshMembership reads the ensemble's membership (conf) from one serving
// member when it is due: on the first round, after an election or a change
// in the voters' count, when a member's conf gave another version, every
// round where no member counts its voters (3.5), and otherwise every
// Options.ConfRefresh. Between reads the last answer stands, so a round
// costs each member two words. A member whose whitelist refuses conf is
// passed over for the next best. Each read also decides the members
// discovery adds.
func (r *Registry) refreshMembership(t *tracker, s *setup, members []*ProbedMember) {
	now := time.Now()
	epoch, size := leaderEpoch(members), viewSize(members)
	t.mu.Lock()
	due := t.confTries.due(now, r.opts.ConfRefresh, epoch, size) || rolesContradict(members, t.membership, t.serverIDs) ||
		viewDisagrees(size, t.membership)
	targets := confTargets(members, t.confAllowed)
	returned := t.forgetReturned(members)
	t.mu.Unlock()
	if due && len(targets) == 0 {
		// Every serving member refuses conf: the AdminServer's voting
		// view may still say the membership.
		targets = r.viewTargets(s, members)
	}
	if due && len(targets) > 0 {
		r.readMembership(t, s, targets, confTries{last: now, epoch: epoch, viewSize: size})
	}
	t.mu.Lock()
	known := t.membership != nil
	t.mu.Unlock()
	// Without a membership (3.4's conf lists none), members still name
	// themselves: one server under two names counts once.
	if known && (due && len(targets) > 0 || returned) || !known && due && len(targets) > 0 {
		r.learnOwnIDs(t, s, members, now)
	}
	if known && due && len(targets) > 0 {
		r.rediscover(t, s)
	}
}

// viewDisagrees: the members say their view holds another number of voters
// than the membership in force lists. Comparing with the view when conf was
// last read is not enough: the member that answered it may not have applied
// a reconfiguration the others already count.
func viewDisagrees(size int, live *Membership) bool {
	if size == 0 || live == nil {
		return false
	}
	voters := 0
	for _, server := range live.Servers {
		if server.Voter() {
			voters++
		}
	}
	return voters != size
}

// rolesContradict reports whether a member answers in a role the
// membership in force does not give it: a participant that observes, an
// observer that follows or leads. A reconfiguration that swaps roles moves
// neither the leader's epoch nor the voters' count; this shows it at once.
func rolesContradict(members []*ProbedMember, live *Membership, learned map[string]int) bool {
	if live == nil {
		return false
	}
	voter := make(map[int]bool, len(live.Servers))
	for _, server := range live.Servers {
		voter[server.ID] = server.Voter()
	}
	for _, m := range members {
		id := m.ServerID
		if id == 0 {
			id = learned[m.Address]
		}
		votes, listed := voter[id]
		switch {
		case !listed || !m.Up:
		case votes && m.Mode == zk.ModeObserver, !votes && (m.Mode == zk.ModeFollower || m.Mode == zk.ModeLeader):
			return true
		}
	}
	return false
}

// readMembership asks the targets conf, best first, until one answers.
func (r *Registry) readMembership(t *tracker, s *setup, targets []*ProbedMember, tries confTries) {
	var live *Membership
	var conf *zk.Conf
	for _, target := range targets {
		if refusedEverywhere(t, []*ProbedMember{target}) {
			continue // known to refuse: asked for its voting view below
		}
		answer := r.askConf(s, target.Address)
		t.mu.Lock()
		t.confAllowed[target.Address] = answer.allowed
		t.mu.Unlock()
		if answer.err == nil {
			conf = answer.conf
			live, answer.err = membershipOf(answer.conf, target.Address, tries.last)
		}
		if answer.err == nil || answer.allowed {
			break
		}
	}
	if live == nil && refusedEverywhere(t, targets) {
		live, conf = r.votingViewMembership(s, targets, tries.last)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.confTries = tries
	if live != nil && len(live.Servers) > 0 {
		t.confTries.answered = true
		t.membership, t.membershipConf = live, conf
		// Ids matched by address follow the membership; those members
		// said themselves are checked on their own cycle.
		for address := range t.serverIDs {
			if _, own := t.ownIDs[address]; !own {
				delete(t.serverIDs, address)
			}
		}
		learnServerIDs(live, s.ensemble, t.serverIDs)
	}
}

// forgetReturned forgets the server ids members said themselves when they
// were down last round and answer now: a restarted pod may have taken
// another's address. It reports whether it forgot any. t.mu is held.
func (t *tracker) forgetReturned(members []*ProbedMember) bool {
	if t.last == nil {
		return false
	}
	down := map[string]bool{}
	for _, m := range append(append([]*ProbedMember{}, t.last.Members...), t.last.Disagreeing...) {
		down[m.Address] = !m.Up
		for _, alias := range m.Aliases {
			down[alias] = !m.Up
		}
	}
	forgot := false
	for _, m := range members {
		if _, learned := t.ownIDs[m.Address]; learned && m.Up && down[m.Address] {
			delete(t.ownIDs, m.Address)
			delete(t.serverIDs, m.Address)
			forgot = true
		}
	}
	return forgot
}

// learnOwnIDs asks conf of each serving member whose server id the
// membership's addresses did not give (it is reached at another address
// than it lists, e.g. a secureClientPort), or gave at the last read but
// not since: its answer names itself. A member whose conf shares no server
// line with the membership in force is of another ensemble: reported, its
// id not learned. One that lists another version of this ensemble's
// membership calls for reading it again next round.
func (r *Registry) learnOwnIDs(t *tracker, s *setup, members []*ProbedMember, now time.Time) {
	t.mu.Lock()
	live := t.membership
	var unknown []*ProbedMember
	for _, m := range members {
		_, learned := t.serverIDs[m.Address]
		learnedAt, own := t.ownIDs[m.Address]
		stale := own && now.Sub(learnedAt) >= ownIDRecheck
		if ok, asked := t.confAllowed[m.Address]; m.ServerID == 0 && (!learned || stale) && m.Up && m.Mode.Serving() && (ok || !asked) {
			unknown = append(unknown, m)
		}
	}
	t.mu.Unlock()
	var wg sync.WaitGroup
	for _, m := range unknown {
		wg.Go(func() {
			answer := r.askConf(s, m.Address)
			t.mu.Lock()
			defer t.mu.Unlock()
			t.confAllowed[m.Address] = answer.allowed
			if answer.err != nil {
				return
			}
			if why := disagreement(answer.conf, live); why != "" {
				if _, known := t.disagreeing[m.Address]; !known {
					r.logger.Warn("member's conf lists another ensemble: left out of it", "ensemble", s.ensemble.Name, "member", m.Address, "why", why)
				}
				t.disagreeing[m.Address] = why
				delete(t.serverIDs, m.Address)
				delete(t.ownIDs, m.Address)
				return
			}
			delete(t.disagreeing, m.Address)
			if live != nil && answer.conf.Version != "" && answer.conf.Version != live.Version && len(answer.conf.Servers) > 0 {
				t.confTries.last = time.Time{} // another version: read the membership again
			}
			if answer.conf.ServerID > 0 {
				t.serverIDs[m.Address] = answer.conf.ServerID
				t.ownIDs[m.Address] = now
			}
		})
	}
	wg.Wait()
}

// disagreement says how a member's conf lists another ensemble than the
// membership in force: none of its server lines (id, host, quorum port) is
// one of the membership's. A member that lists no membership (ZooKeeper
// 3.4, standalone) cannot tell, and agrees.
func disagreement(conf *zk.Conf, live *Membership) string {
	if len(conf.Servers) == 0 || live == nil {
		return ""
	}
	ours := map[int]zk.Server{}
	for _, server := range live.Servers {
		ours[server.ID] = server
	}
	for _, server := range conf.Servers {
		if our, ok := ours[server.ID]; ok && our.Host == server.Host && our.QuorumPort == server.QuorumPort {
			return ""
		}
	}
	return fmt.Sprintf("its conf (version %s, %d servers) shares no server line with the membership in force (version %s, read from %s)",
		conf.Version, len(conf.Servers), live.Version, live.From)
}

// rediscover decides, from the membership just read, which members
// discovery adds, logging each server it cannot add and dropping the error
// series of members no longer listed.
func (r *Registry) rediscover(t *tracker, s *setup) {
	t.mu.Lock()
	live, conf, before := t.membership, t.membershipConf, t.discovered
	ids := make(map[string]int, len(t.serverIDs))
	for address, id := range t.serverIDs {
		if _, foreign := t.disagreeing[address]; !foreign {
			ids[address] = id
		}
	}
	t.mu.Unlock()
	if !s.ensemble.Discovers() || conf == nil {
		return
	}
	configured := *s.ensemble
	configured.Members = nil
	for _, m := range s.ensemble.Members {
		if !m.Discovered {
			configured.Members = append(configured.Members, m)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
	found := discover(ctx, live, conf, &configured, ids, resolveHost)
	cancel()
	if len(found.problems) > 0 && fmt.Sprint(found.problems) != fmt.Sprint(before.problems) {
		r.logger.Warn("discovery: servers of the membership not probed", "ensemble", s.ensemble.Name, "skipped", fmt.Sprint(found.skipped), "servers", strings.Join(found.problems, "; "))
	}
	r.metrics.forgetMembers(s.ensemble.Name, before.members, found.members)
	t.mu.Lock()
	t.discovered = found
	t.mu.Unlock()
}
