package ensemble

import (
	"context"
	"errors"
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

// confTarget is the member to ask conf: the leader, else a serving voter,
// else any serving member; nil if none serves.
func confTarget(members []*ProbedMember, allowed map[string]bool) *ProbedMember {
	var target *ProbedMember
	rank := func(m *ProbedMember) int {
		refused := !allowed[m.Address]
		if _, tried := allowed[m.Address]; !tried {
			refused = false
		}
		switch {
		case !m.Up || !m.Mode.Serving() || refused:
			return 0
		case m.Mode == zk.ModeLeader:
			return 3
		case m.Member.Voter():
			return 2
		}
		return 1
	}
	for _, m := range members {
		if rank(m) > 0 && (target == nil || rank(m) > rank(target)) {
			target = m
		}
	}
	return target
}

// refreshMembership reads the ensemble's membership (conf) from one serving
// member when it is due: on the first round, after an election or a change
// in the voters' count, and otherwise every Options.ConfRefresh. Between
// reads the last answer stands, so a round costs each member two words.
func (r *Registry) refreshMembership(t *tracker, s *setup, members []*ProbedMember) {
	now := time.Now()
	epoch, size := leaderEpoch(members), viewSize(members)
	t.mu.Lock()
	due := t.confTries.due(now, r.opts.ConfRefresh, epoch, size)
	target := confTarget(members, t.confAllowed)
	t.mu.Unlock()
	if !due || target == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
	defer cancel()
	answer, err := s.client.Command(ctx, target.Address, wordConf)
	tries := confTries{last: now, epoch: epoch, viewSize: size}
	var live *Membership
	if err == nil {
		var conf *zk.Conf
		if conf, err = zk.ParseConf(answer); err == nil {
			live, err = membershipOf(conf, target.Address, now)
		}
	}
	allowed := !zk.IsNotWhitelisted(err)
	switch {
	case err == nil:
		tries.answered = true
	case allowed && !errors.Is(err, zk.ErrNotServing):
		r.recordError(s.ensemble.Name, target.Address, wordConf, err)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.confTries = tries
	t.confAllowed[target.Address] = allowed
	if live != nil && len(live.Servers) > 0 {
		t.membership = live
		learnServerIDs(live, s.ensemble, t.serverIDs)
	}
}
