package ensemble

import (
	"context"
	"errors"
	"sort"
	"time"

	"github.com/quorumwatch/zookeeper_exporter/zk"
)

// refusedEverywhere reports whether every member asked refused conf by its
// whitelist.
func refusedEverywhere(t *tracker, targets []*ProbedMember) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, target := range targets {
		if allowed, asked := t.confAllowed[target.Address]; !asked || allowed {
			return false
		}
	}
	return len(targets) > 0
}

// viewTargets are the serving members with an AdminServer, leader first,
// to ask for the voting view where every member refuses conf.
func (r *Registry) viewTargets(s *setup, members []*ProbedMember) []*ProbedMember {
	if r.opts.Admin == nil {
		return nil
	}
	var targets []*ProbedMember
	for _, m := range members {
		if m.Up && m.Mode.Serving() && s.ensemble.AdminURL(m.Member) != "" {
			targets = append(targets, m)
		}
	}
	sort.SliceStable(targets, func(i, j int) bool { return targets[i].Mode == zk.ModeLeader && targets[j].Mode != zk.ModeLeader })
	return targets
}

// votingViewMembership reads the ensemble's voters from the AdminServer's
// voting_view (3.6+) of the first serving member that has an AdminServer:
// where every member refuses conf, it is still the ensemble's own voter
// set, and follows a reconfiguration as conf would. It lists no observers
// and no groups: the configured groups stand, and a voter they do not
// place leaves the rule incomplete. It also returns a conf standing for
// the view, for discovery (the client addresses are in it).
func (r *Registry) votingViewMembership(s *setup, targets []*ProbedMember, at time.Time) (*Membership, *zk.Conf) {
	for _, target := range targets {
		base := s.ensemble.AdminURL(target.Member)
		if base == "" || r.opts.Admin == nil {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
		data, err := r.opts.Admin.Command(ctx, base, "voting_view")
		cancel()
		if err == nil {
			var servers []zk.Server
			if servers, err = zk.ParseAdminVotingView(data); err == nil {
				live := &Membership{Servers: servers, From: target.Address, Time: at, FromVotingView: true,
					Groups: s.ensemble.Groups, Weights: s.ensemble.Weights}
				return live, &zk.Conf{Servers: servers, Settings: map[string]string{}}
			}
		}
		if !errors.Is(err, zk.ErrNotServing) {
			r.recordError(s.ensemble.Name, target.Address, "admin voting_view", err)
		}
	}
	return nil, nil
}
