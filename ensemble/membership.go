package ensemble

import (
	"context"
	"errors"
	"sort"
	"sync"
	"time"

	"github.com/quorumwatch/zookeeper_exporter/zk"
)

// confRetry is how soon a conf that got no answer is asked again.
const confRetry = 30 * time.Second

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

// confTargets are the members to ask conf, best first: the leader, then
// serving voters, then any serving member; none whose whitelist refused it.
func confTargets(members []*ProbedMember, allowed map[string]bool) []*ProbedMember {
	rank := func(m *ProbedMember) int {
		if ok, asked := allowed[m.Address]; asked && !ok || !m.Up || !m.Mode.Serving() {
			return 0
		}
		switch {
		case m.Mode == zk.ModeLeader:
			return 3
		case m.Member.Voter():
			return 2
		}
		return 1
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
// in the voters' count, and otherwise every Options.ConfRefresh. Between
// reads the last answer stands, so a round costs each member two words.
// A member whose whitelist refuses conf is passed over for the next best.
func (r *Registry) refreshMembership(t *tracker, s *setup, members []*ProbedMember) {
	now := time.Now()
	epoch, size := leaderEpoch(members), viewSize(members)
	t.mu.Lock()
	due := t.confTries.due(now, r.opts.ConfRefresh, epoch, size)
	targets := confTargets(members, t.confAllowed)
	t.mu.Unlock()
	if !due || len(targets) == 0 {
		return
	}
	tries := confTries{last: now, epoch: epoch, viewSize: size}
	var live *Membership
	for _, target := range targets {
		answer := r.askConf(s, target.Address)
		t.mu.Lock()
		t.confAllowed[target.Address] = answer.allowed
		t.mu.Unlock()
		if answer.err == nil {
			live, answer.err = membershipOf(answer.conf, target.Address, now)
		}
		if answer.err == nil || answer.allowed {
			break
		}
	}
	t.mu.Lock()
	t.confTries = tries
	if live != nil && len(live.Servers) > 0 {
		t.confTries.answered = true
		t.membership = live
		learnServerIDs(live, s.ensemble, t.serverIDs)
	}
	t.mu.Unlock()
	if live != nil {
		r.learnOwnIDs(t, s, members)
	}
}

// learnOwnIDs asks conf of each serving member whose server id the
// membership's addresses did not give (it is reached at another address
// than it lists, e.g. a secureClientPort): its answer names itself.
func (r *Registry) learnOwnIDs(t *tracker, s *setup, members []*ProbedMember) {
	t.mu.Lock()
	var unknown []*ProbedMember
	for _, m := range members {
		_, learned := t.serverIDs[m.Address]
		if ok, asked := t.confAllowed[m.Address]; m.ServerID == 0 && !learned && m.Up && m.Mode.Serving() && (ok || !asked) {
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
			if answer.err == nil && answer.conf.ServerID > 0 {
				t.serverIDs[m.Address] = answer.conf.ServerID
			}
		})
	}
	wg.Wait()
}
