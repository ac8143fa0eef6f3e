package ensemble

import (
	"fmt"
	"net"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/quorumwatch/zookeeper_exporter/config"
	"github.com/quorumwatch/zookeeper_exporter/quorum"
	"github.com/quorumwatch/zookeeper_exporter/zk"
)

// Source says where the voter set in force comes from.
type Source string

// Voter set sources, as exported in zookeeper_ensemble_voter_set_source.
const (
	// SourceEnsemble: the ensemble's own membership, from conf.
	SourceEnsemble Source = "ensemble"
	// SourceConfiguration: the exporter's configuration, because no member
	// said its membership (conf refused or never answered).
	SourceConfiguration Source = "configuration"
)

// Sources lists every source, in export order.
var Sources = []Source{SourceEnsemble, SourceConfiguration}

// VoterSet is the voter set in force for one round, and how it compares
// with the configuration.
type VoterSet struct {
	Source Source
	Quorum quorum.VoterSet
	// Unconfigured are live voters that no configured member stands for:
	// voters the exporter cannot see.
	Unconfigured []int
	// Matches compares the live voter set with the configured voters; nil
	// when either is not known (no conf, or a configured voter's id is).
	Matches *bool
	// Hierarchical: the rule is ZooKeeper's hierarchical quorum.
	Hierarchical bool
	// ConfTime is when the membership in force was read; zero without one.
	ConfTime time.Time
	// MinSessionTimeout is the membership's conf minSessionTimeout, 0
	// when not said: an election longer than it expires sessions.
	MinSessionTimeout time.Duration
}

// Membership is the ensemble's own view of its members, from conf.
type Membership struct {
	Servers []zk.Server
	Groups  map[int]int // server id -> group, nil without hierarchy
	Weights map[int]int // server id -> weight; absent means 1
	Version string
	// From is the address of the member that said it.
	From string
	// FromID is that member's own server id, 0 if it did not say.
	FromID int
	// Time is when it was read.
	Time time.Time
	// MinSessionTimeout is conf's minSessionTimeout, 0 when not said.
	MinSessionTimeout time.Duration
	// FromVotingView: read from the AdminServer's voting_view, which lists
	// voters only; Groups and Weights are then the configuration's.
	FromVotingView bool
}

// membershipOf reads a conf answer's membership, group and weight lines.
func membershipOf(conf *zk.Conf, from string, at time.Time) (*Membership, error) {
	m := &Membership{Servers: conf.Servers, Version: conf.Version, From: from, FromID: conf.ServerID, Time: at}
	if ms, err := strconv.Atoi(conf.Settings["minSessionTimeout"]); err == nil && ms > 0 {
		m.MinSessionTimeout = time.Duration(ms) * time.Millisecond
	}
	for key, value := range conf.Settings {
		switch {
		case strings.HasPrefix(key, "group."):
			if m.Groups == nil {
				m.Groups = map[int]int{}
			}
			group, err := strconv.Atoi(strings.TrimPrefix(key, "group."))
			if err != nil {
				return nil, fmt.Errorf("conf: %s: group id is not a number", key)
			}
			for _, idText := range strings.Split(value, ":") {
				id, err := strconv.Atoi(strings.TrimSpace(idText))
				if err != nil {
					return nil, fmt.Errorf("conf: %s=%s: server id %q is not a number", key, value, idText)
				}
				m.Groups[id] = group
			}
		case strings.HasPrefix(key, "weight."):
			if m.Weights == nil {
				m.Weights = map[int]int{}
			}
			id, errID := strconv.Atoi(strings.TrimPrefix(key, "weight."))
			weight, errWeight := strconv.Atoi(strings.TrimSpace(value))
			if errID != nil || errWeight != nil {
				return nil, fmt.Errorf("conf: %s=%s is not server weight", key, value)
			}
			m.Weights[id] = weight
		}
	}
	return m, nil
}

// rule builds the quorum rule of the given voters from groups and weights
// (nil groups: simple majority). Observers named in a group add their
// weight to its total, as ZooKeeper counts them, though they never ack.
func rule(ids, observers []int, groups, weights map[int]int) (quorum.Rule, error) {
	if groups == nil {
		return quorum.Majority(ids), nil
	}
	voters := make([]quorum.Voter, 0, len(ids)+len(observers))
	place := func(id int, observer bool) {
		weight, ok := weights[id]
		if !ok {
			weight = 1
		}
		// ZooKeeper's group ids start anywhere from 0; the rule's group 0
		// means "in no group".
		group, grouped := groups[id]
		if grouped {
			group++
		} else {
			group = 0
		}
		voters = append(voters, quorum.Voter{ID: id, Group: group, Weight: weight, Observer: observer})
	}
	for _, id := range ids {
		place(id, false)
	}
	for _, id := range observers {
		if _, grouped := groups[id]; grouped {
			place(id, true)
		}
	}
	return quorum.Hierarchical(voters)
}

// fromMembership decides the voters from the ensemble's own membership:
// a member votes when its server id is a live participant and it does not
// answer observer. Live voters no member stands for are unseen.
func fromMembership(members []*ProbedMember, live *Membership, configured *config.Ensemble) (VoterSet, error) {
	set := VoterSet{Source: SourceEnsemble, Hierarchical: live.Groups != nil}
	var ids, observers []int
	standFor := map[int]bool{}
	for _, m := range members {
		standFor[m.ServerID] = true
	}
	for _, server := range live.Servers {
		if !server.Voter() {
			observers = append(observers, server.ID)
			continue
		}
		ids = append(ids, server.ID)
		if !standFor[server.ID] {
			set.Unconfigured = append(set.Unconfigured, server.ID)
		}
	}
	isVoter := map[int]bool{}
	for _, id := range ids {
		isVoter[id] = true
	}
	for _, m := range members {
		m.Voter = m.ServerID > 0 && isVoter[m.ServerID] && m.Mode != zk.ModeObserver
		// A configured voter the membership does not list as an observer
		// either (another address, or removed by reconfig) is neither.
		m.Unplaced = !m.Voter && m.Mode != zk.ModeObserver && !slices.Contains(observers, m.ServerID) && m.Member.Voter()
	}
	if live.FromVotingView {
		// The view lists no observers: those the configured groups name
		// weigh in their group all the same.
		for id := range live.Groups {
			if !slices.Contains(ids, id) {
				observers = append(observers, id)
			}
		}
	}
	r, err := rule(ids, observers, live.Groups, live.Weights)
	if err != nil {
		return set, fmt.Errorf("the ensemble's own quorum rule: %w", err)
	}
	set.Quorum = quorum.VoterSet{Rule: r, Unseen: set.Unconfigured}
	if live.FromVotingView && live.Groups != nil {
		// The configured groups may not place every live voter.
		for _, id := range ids {
			if _, placed := live.Groups[id]; !placed {
				set.Quorum.Unruled++
			}
		}
	}
	set.Matches = matches(ids, configured, members)
	return set, nil
}

// fromConfiguration decides the voters from the configuration: configured
// voters that do not answer observer, nor did when they last said a mode. When members say their view holds
// more voters than that (mntr's zk_quorum_size), the extra ones are voters
// the exporter cannot see: counting them keeps the margin from overstating.
func fromConfiguration(members []*ProbedMember, configured *config.Ensemble) (VoterSet, error) {
	set := VoterSet{Source: SourceConfiguration, Hierarchical: configured.Groups != nil}
	var ids []int
	for i, m := range members {
		m.Voter = m.Member.Voter() && m.Mode != zk.ModeObserver && !m.SaidObserver
		if !m.Voter {
			continue
		}
		id := m.ServerID
		if id == 0 {
			id = -(i + 1) // quorum.Evaluate's id for a member of unknown id
		}
		ids = append(ids, id)
	}
	for extra := viewSize(members) - len(ids); extra > 0; extra-- {
		id := -(len(members) + extra)
		ids = append(ids, id)
		set.Quorum.Unseen = append(set.Quorum.Unseen, id)
	}
	if configured.Groups == nil {
		set.Quorum.Rule = quorum.Majority(ids)
		return set, nil
	}
	// A configured hierarchy stays in force: replacing it by a simple
	// majority overstates. Voters beyond it have no known group or weight,
	// so nothing above a margin of 0 can be promised (Unruled).
	set.Quorum.Unruled = len(set.Quorum.Unseen)
	var observers []int
	for _, m := range members {
		if !m.Voter && m.ServerID > 0 {
			observers = append(observers, m.ServerID)
		}
	}
	r, err := rule(configuredIDs(ids), observers, configured.Groups, configured.Weights)
	if err != nil {
		return set, fmt.Errorf("the configured quorum rule: %w", err)
	}
	set.Quorum.Rule = r
	return set, nil
}

// configuredIDs drops the ids of voters the exporter cannot see (negative
// ids beyond the configured members), which no group places.
func configuredIDs(ids []int) []int {
	var out []int
	for _, id := range ids {
		if id > 0 {
			out = append(out, id)
		}
	}
	return out
}

// viewSize is the number of voters in the ensemble's own view as mntr says
// it: the serving leader's zk_quorum_size, else the largest any member says.
func viewSize(members []*ProbedMember) int {
	size := 0
	for _, m := range members {
		if m.Up && m.Mode == zk.ModeLeader && m.QuorumSize > 0 {
			return m.QuorumSize
		}
		size = max(size, m.QuorumSize)
	}
	return size
}

// matches compares the live voters with the configured voters by server id;
// nil when a configured voter's id is unknown.
func matches(live []int, configured *config.Ensemble, members []*ProbedMember) *bool {
	var want []int
	for _, m := range members {
		if !m.Member.Voter() {
			continue
		}
		if m.ServerID == 0 {
			return nil
		}
		want = append(want, m.ServerID)
	}
	got := append([]int{}, live...)
	sort.Ints(want)
	sort.Ints(got)
	same := fmt.Sprint(want) == fmt.Sprint(got)
	return &same
}

// learnServerIDs maps configured members to the server ids the membership
// lists, by client address; the member that answered conf names itself.
func learnServerIDs(live *Membership, configured *config.Ensemble, known map[string]int) {
	for _, member := range configured.Members {
		if member.ServerID > 0 {
			continue
		}
		if member.Address == live.From && live.FromID > 0 {
			known[member.Address] = live.FromID
			continue
		}
		for _, server := range live.Servers {
			if sameAddress(member.Address, clientAddress(server)) {
				known[member.Address] = server.ID
			}
		}
	}
}

// clientAddress is where a server takes clients: its client address, with
// the server's own host when it listens on every interface.
func clientAddress(server zk.Server) string {
	if server.ClientAddress == "" {
		return ""
	}
	host, port, err := net.SplitHostPort(server.ClientAddress)
	if err != nil {
		return server.ClientAddress
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = server.Host
	}
	return net.JoinHostPort(host, port)
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
