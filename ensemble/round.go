package ensemble

import (
	"time"

	"github.com/quorumwatch/zookeeper_exporter/config"
	"github.com/quorumwatch/zookeeper_exporter/quorum"
)

// Round is one probe round of one ensemble, with everything derived from it
// computed once: the voter set in force, the quorum state, the maintenance
// assessment and the availability so far. It is never changed once
// published; readers share it.
type Round struct {
	Ensemble *config.Ensemble
	Members  []*ProbedMember // in configuration order, then those discovered by server id
	Time     time.Time
	// Partial: a scrape's deadline came before every member had answered;
	// the missing members are down with ReasonDeadline.
	Partial bool

	VoterSet   VoterSet
	Assessment quorum.Assessment
	// VoterSetError is set when the voter set's rule could not be built
	// (the configuration's was used instead).
	VoterSetError error
	Availability  Availability
	Elections     Elections
	// DNS is how the lookup of the ensemble's DNS name went; nil when its
	// members are configured.
	DNS *DNSStatus
	// Discovery is what the ensemble's membership added to the members.
	Discovery *DiscoveryStatus
	// Disagreeing are members whose own conf lists another ensemble's
	// servers: probed, reported, and left out of Members and the figures.
	Disagreeing []*ProbedMember
}

// Quorum is the round's quorum state.
func (r *Round) Quorum() quorum.Ensemble { return r.Assessment.Quorum }

// Leader returns the member serving as leader (with leaderServes=no, the
// voter named leader), or nil.
func (r *Round) Leader() *ProbedMember {
	if i := r.Assessment.Leader; i >= 0 {
		return r.Members[i]
	}
	return nil
}

// derive computes the voter set, quorum and assessment of a round's
// members. live is the ensemble's own membership, nil when unknown.
func derive(r *Round, live *Membership) {
	var err error
	if live != nil {
		r.VoterSet, err = fromMembership(r.Members, live, r.Ensemble)
		r.VoterSet.ConfTime, r.VoterSet.MinSessionTimeout = live.Time, live.MinSessionTimeout
	}
	if live == nil || err != nil {
		r.VoterSetError = err
		r.VoterSet, err = fromConfiguration(r.Members, r.Ensemble)
		if err != nil && r.VoterSetError == nil {
			r.VoterSetError = err
		}
	}
	if r.Ensemble.Oracle {
		r.VoterSet.Quorum.Rule = r.VoterSet.Quorum.Rule.WithOracle()
	}
	members := make([]quorum.Member, len(r.Members))
	for i, m := range r.Members {
		members[i] = m.quorumMember()
	}
	r.Assessment = quorum.Assess(members, r.VoterSet.Quorum, quorum.Options{})
}

// quorumMember is what the quorum math knows of the member.
func (m *ProbedMember) quorumMember() quorum.Member {
	return quorum.Member{
		Name: m.Address, ID: m.ServerID, Datacenter: m.Datacenter, DatacenterUnknown: m.Discovered,
		Voter: m.Voter, Unplaced: m.Unplaced, Up: m.Up, Mode: m.Mode, Zxid: m.Zxid, ZxidKnown: m.ZxidKnown,
		LeaderNotServing: m.LeaderNotServing, LeaderVoters: m.LeaderVoters, LeaderVotersAtMost: m.LeaderVotersAtMost,
	}
}
