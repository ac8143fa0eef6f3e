package collector

import (
	"fmt"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/quorumwatch/zookeeper_exporter/ensemble"
	"github.com/quorumwatch/zookeeper_exporter/quorum"
)

// Every metric the exporter writes about ZooKeeper is specified here; the
// descriptors and docs/metrics.md are both made from these specs. The names
// are a contract with the alerts and dashboards in mixin/.

var (
	memberLabels   = []string{"ensemble", "member", "role", "server_id"}
	ensembleLabels = []string{"ensemble"}
)

// Spec is one metric: what Describe would say, and what docs/metrics.md
// lists.
type Spec struct {
	Name   string
	Type   prometheus.ValueType
	Labels []string
	Help   string
	desc   *prometheus.Desc
	// index is the spec's place in specs (len(specs) for member info): the
	// text exposition keeps each family's lines at it.
	index int
}

// specs lists every metric in documentation order.
var specs []*Spec

func spec(name string, kind prometheus.ValueType, labels []string, help string) *Spec {
	s := &Spec{Name: name, Type: kind, Labels: labels, Help: help, index: len(specs)}
	s.desc = prometheus.NewDesc(name, help, labels, nil)
	specs = append(specs, s)
	return s
}

func memberGauge(name, help string, extra ...string) *Spec {
	return spec("zookeeper_"+name, prometheus.GaugeValue, append(append([]string{}, memberLabels...), extra...), help)
}

func memberCounter(name, help string) *Spec {
	return spec("zookeeper_"+name, prometheus.CounterValue, memberLabels, help)
}

func ensembleGauge(name, help string, extra ...string) *Spec {
	return spec("zookeeper_ensemble_"+name, prometheus.GaugeValue, append(append([]string{}, ensembleLabels...), extra...), help)
}

// Per member.
var (
	upSpec               = memberGauge("up", "1 if the member answered the probe at all (even 'not serving'), 0 if it could not be reached or did not answer in time.")
	modeSpec             = memberGauge("server_mode", "The member's mode as it reports it; exactly one mode is 1. not_serving: the process answers but serves no requests (no quorum, or a leader with leaderServes=no). unknown: no answer.", "mode")
	zxidEpochSpec        = memberGauge("zxid_epoch", "High 32 bits of the member's last zxid: the epoch of the leader it last followed. It grows with every election.")
	zxidTransactionsSpec = memberGauge("zxid_transactions", "Low 32 bits of the member's last zxid: the transaction counter within the epoch (the name avoids the word counter: it is a gauge). Reaching 0xffffffff forces an election.")
	probeDurationSpec    = memberGauge("probe_duration_seconds", "How long the member's probe took.")
	commandSpec          = memberGauge("command_allowed", "1 if the member executes this four-letter word, 0 if its 4lw.commands.whitelist refuses it. Only words the probe tried are listed.", "command")
	versionSpec          = memberGauge("version_info", "ZooKeeper release the member runs.", "version")
)

// figureSpecs are the member's figures, from srvr where it says them and
// mntr otherwise.
var figureSpecs = []struct {
	figure ensemble.Figure
	spec   *Spec
}{
	{ensemble.LatencyMin, memberGauge("latency_min_seconds", "Minimum request latency since the server statistics were last reset.")},
	{ensemble.LatencyAvg, memberGauge("latency_avg_seconds", "Average request latency since the server statistics were last reset.")},
	{ensemble.LatencyMax, memberGauge("latency_max_seconds", "Maximum request latency since the server statistics were last reset.")},
	{ensemble.Outstanding, memberGauge("outstanding_requests", "Requests queued on the member and not yet answered.")},
	{ensemble.Connections, memberGauge("connections", "Client connections open on the member.")},
	{ensemble.Znodes, memberGauge("znodes", "Znodes in the member's data tree.")},
	{ensemble.PacketsReceived, memberCounter("packets_received_total", "Packets the member received since its statistics were last reset.")},
	{ensemble.PacketsSent, memberCounter("packets_sent_total", "Packets the member sent since its statistics were last reset.")},
	{ensemble.Watches, memberGauge("watches", "Watches set on the member (mntr only).")},
	{ensemble.Ephemerals, memberGauge("ephemerals", "Ephemeral znodes on the member (mntr only).")},
	{ensemble.DataSizeBytes, memberGauge("approximate_data_size_bytes", "Approximate size of the member's data tree (mntr only).")},
	{ensemble.OpenFileDescriptors, memberGauge("open_file_descriptors", "File descriptors the member's JVM holds open (mntr only, Unix).")},
	{ensemble.MaxFileDescriptors, memberGauge("max_file_descriptors", "File descriptor limit of the member's JVM (mntr only, Unix).")},
	{ensemble.LeaderFollowers, memberGauge("leader_followers", "On the leader: followers and observers connected to it (mntr only).")},
	{ensemble.LeaderSyncedFollowers, memberGauge("leader_synced_followers", "On the leader: synced followers, non-voting ones included (mntr only).")},
	{ensemble.LeaderSyncedNonVotingFollowers, memberGauge("leader_synced_non_voting_followers", "On the leader: synced followers that do not vote (mntr only).")},
	{ensemble.LeaderPendingSyncs, memberGauge("leader_pending_syncs", "On the leader: followers still syncing (mntr only).")},
}

// Per ensemble.
var (
	membersSpec        = ensembleGauge("members", "Members probed: configured, or given by the ensemble's DNS name, and those only its own membership (conf) lists; one per server id, however many names reach it.")
	discoveredSpec     = ensembleGauge("members_discovered", "Members probed because the ensemble's own membership (conf) lists them, not the configuration (discover: conf).")
	discoverySpec      = ensembleGauge("discovery", "How the members to probe are chosen; exactly one state is 1. membership: every member the ensemble's own membership lists. configuration: no membership is known (conf refused, not answered yet, or ZooKeeper 3.4), so only the configured members. off: discovery is turned off.", "state")
	discoverySkipSpec  = ensembleGauge("discovery_skipped", "Servers of the ensemble's membership that discovery does not probe, by reason. limit: beyond max_discovered. unresolvable: the host of its client address does not resolve. no_client_address: neither its server line nor the answering member's conf gives a client (or, with TLS, secure) port.", "reason")
	disagreeingSpec    = ensembleGauge("members_disagreeing", "Configured members whose own conf lists another ensemble's servers (none of its server lines is in the membership in force): a member of another ensemble listed by mistake. They are probed and logged, and left out of every figure.")
	dnsOKSpec          = ensembleGauge("dns_lookup_ok", "For an ensemble whose members come from DNS: 1 if the last lookup of its name succeeded, 0 if it failed (the members it gave last are still probed).")
	votersSpec         = ensembleGauge("voters", "Voters in the voter set in force (see voter_set_source), unseen ones included; weight-0 members never count.")
	observersSpec      = ensembleGauge("observers", "Configured members that do not vote: observers, and members the ensemble does not count as voters.")
	quorumSizeSpec     = ensembleGauge("quorum_size", "Fewest voters that can form a quorum: floor(voters/2)+1, or for hierarchical quorums the fewest that hold more than half the weight of more than half the groups.")
	faultToleranceSpec = ensembleGauge("fault_tolerance", "Voters the ensemble can lose by design, in the worst case, and keep a quorum.")
	votersUpSpec       = ensembleGauge("voters_up", "Voter members that answer the exporter at all.")
	votersInQuorumSpec = ensembleGauge("voters_in_quorum", "Voters in the current quorum: the serving leader's own count when it gives one, else the voters seen serving with it; 0 when no leader serves.")
	unseenSyncedSpec   = ensembleGauge("voters_unseen_synced", "Voters the serving leader counts in its quorum beyond those the exporter sees serving: members the exporter cannot reach or does not know.")
	unknownSpec        = ensembleGauge("voters_unknown", "Voters the margin had to guess the state of: known from the ensemble's membership or view but probed as no member, where no exact count of the leader's settles them. Above 0 a margin of 0 means the exporter cannot tell (ZooKeeperQuorumMarginUnknown), not that the next loss breaks quorum.")
	unconfiguredSpec   = ensembleGauge("voters_unconfigured", "Voters in the ensemble's own membership (conf) that no configured member stands for: the exporter cannot see them.")
	leadersSpec        = ensembleGauge("leaders", "Members reporting leader (a lone standalone server leads itself). More than 1 means a stale leader or split brain.")
	standaloneSpec     = ensembleGauge("standalone_members", "Members answering standalone in an ensemble of several: misconfigured, never counted as the leader.")
	quorumMarginSpec   = ensembleGauge("quorum_margin", "How many more voters the ensemble can lose, chosen the worst way, and keep its quorum. 0: the next voter loss can break quorum. Negative: no quorum (no leader serves, or the leader's own count is short); then how many voters must come back, at least 1.")
	voterSetSpec       = ensembleGauge("voter_set_matches", "1 if the ensemble's own voter set (conf) matches the configured voters, 0 if not. Absent until the membership and every configured voter's server id are known.")
	voterSourceSpec    = ensembleGauge("voter_set_source", "Where the voter set in force comes from; exactly one source is 1. ensemble: the members' own membership (conf). configuration: the exporter's configuration, because no member said its membership (conf refused or not answered yet).", "source")
	voterSetAgeSpec    = ensembleGauge("voter_set_age_seconds", "Age of the ensemble's own membership in force, read with conf on start, after an election or a change of voters, and otherwise every --zookeeper.conf-refresh-interval. Absent while the configuration is in force.")
	hierarchicalSpec   = ensembleGauge("hierarchical_quorum", "1 if the voter set in force uses ZooKeeper's hierarchical quorums (group.N / weight.N).")
	roundCompleteSpec  = ensembleGauge("round_complete", "0 if the scrape's deadline came before every member had answered: those members read zookeeper_up 0 with reason deadline, and the ensemble's figures are computed from what was known.")
	leaderHiddenSpec   = ensembleGauge("leader_hidden", "1 if followers or observers serve but no member says leader (in an epoch as new as its followers'): a leader started with leaderServes=no answers 'not serving', or the leader is out of the exporter's reach. It is counted in voters_in_quorum.")
	evenVotersSpec     = ensembleGauge("even_voters", "1 if the number of voters is even: it tolerates no more failures than one voter fewer.")
)

// Maintenance companion: what may be stopped now, and what outages cost.
var (
	safeToStopSpec = memberGauge("member_safe_to_stop", fmt.Sprintf("1 if stopping the member now keeps a quorum and the one-at-a-time rule holds: it serves, one leader serves, every other voter serves and has caught up with the leader (zxid within %d transactions in the leader's epoch). An observer: 1 whenever it serves.", quorum.DefaultMaxLag))
	stopImpactSpec = memberGauge("member_stop_impact", "What stopping the member now would cost; exactly one impact is 1. "+impactHelp(), "impact")
	dcLossSpec     = ensembleGauge("datacenter_loss_margin", "Quorum margin left, the worst way, if every member of the datacenter were lost now. Negative: losing it loses quorum. Only for ensembles with datacenters configured; unlabelled members count as datacenter \"\".", "datacenter")
	sizingSpec     = ensembleGauge("sizing_advice", fmt.Sprintf("1 if the advice applies. %s: more than %d voters slow every write. %s: more than %d voters in one datacenter.",
		quorum.AdviceTooManyVoters, quorum.MaxVoters, quorum.AdviceTooManyVotersInDatacenter, quorum.MaxVotersPerDatacenter), "advice")
	lastOutageSpec  = ensembleGauge("last_unavailability_seconds", "How long the latest ended outage (no quorum) lasted, from the first probe round without quorum to the first with it. Absent until one has ended.")
	caughtUpSpec    = memberGauge("member_caught_up", fmt.Sprintf("1 if the member has caught up with the leader: it serves in its role, mntr (3.6+, where answered) puts it in Zab's broadcast phase, and its zxid lacks at most %d of the transactions the leader has committed in its epoch. The serving leader: 1.", quorum.DefaultMaxLag))
	peerStateSpec   = memberGauge("peer_state", "The member's Zab phase from mntr's zk_peer_state; exactly one state is 1. Absent where the member does not say it (before 3.6, mntr refused, standalone).", "state")
	leaderChanges   = spec("zookeeper_ensemble_leader_changes_total", prometheus.CounterValue, ensembleLabels, "Leader changes seen since the exporter started: another member leading, or the same one leading a newer epoch (it won a new election).")
	lastElection    = ensembleGauge("last_election_seconds", "How long the ensemble was without a leader before the latest leader change, from the first probe round that found none to the first that found the new one (0: the new leader was there by the next round). As precise as the probe interval. Absent until a change has been seen.")
	sessionTimeout  = ensembleGauge("min_session_timeout_seconds", "The ensemble's minSessionTimeout, from conf: an election longer than it expires the sessions of clients that asked for the shortest timeout. Absent while conf is not known.")
	unavailableSpec = spec("zookeeper_ensemble_unavailable_seconds_total", prometheus.CounterValue, ensembleLabels, "Time without quorum seen since the exporter started, the current outage included. A reload keeps it for every ensemble whose name is still configured.")
)

func impactHelp() string {
	meaning := map[quorum.Impact]string{
		quorum.ImpactNone:           "already down or not serving",
		quorum.ImpactReadCapacity:   "an observer",
		quorum.ImpactFaultTolerance: "a follower",
		quorum.ImpactElection:       "the leader",
		quorum.ImpactQuorum:         "quorum would be, or is, lost",
	}
	parts := make([]string, len(quorum.Impacts))
	for i, impact := range quorum.Impacts {
		parts[i] = fmt.Sprintf("%s: %s.", impact, meaning[impact])
	}
	return strings.Join(parts, " ")
}

// memberInfoName carries each member's datacenter and configured extra
// labels, to join onto the other member metrics. Its label names depend on
// the configuration, so its descriptor is built per configuration.
const (
	memberInfoName = "zookeeper_member_info"
	memberInfoHelp = "Facts about a member: datacenter and extra labels as configured, and discovered=\"true\" for a member only the ensemble's own membership (conf) lists. Always 1."
)

func memberInfoSpec(extraLabels []string) *Spec {
	labels := append(append(append([]string{}, memberLabels...), "datacenter", "discovered"), extraLabels...)
	return &Spec{Name: memberInfoName, Type: prometheus.GaugeValue, Labels: labels, Help: memberInfoHelp,
		desc: prometheus.NewDesc(memberInfoName, memberInfoHelp, labels, nil), index: len(specs)}
}

// Specs returns every metric's spec, member info included (its
// configuration's extra labels are not listed), for docs/metrics.md.
func Specs() []Spec {
	out := make([]Spec, 0, len(specs)+1)
	for _, s := range specs {
		out = append(out, *s)
	}
	return append(out, Spec{Name: memberInfoName, Type: prometheus.GaugeValue,
		Labels: append(append([]string{}, memberLabels...), "datacenter", "discovered", "<configured labels>"), Help: memberInfoHelp})
}
