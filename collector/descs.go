package collector

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/quorumwatch/zookeeper_exporter/config"
)

// Every metric the exporter writes about ZooKeeper is described here. The
// names are a contract with the alerts and dashboards in mixin/.

const namespace = "zookeeper"

var (
	memberLabels   = []string{"ensemble", "member", "role", "server_id"}
	ensembleLabels = []string{"ensemble"}
)

func memberDesc(name, help string, extra ...string) *prometheus.Desc {
	return prometheus.NewDesc(prometheus.BuildFQName(namespace, "", name), help, append(append([]string{}, memberLabels...), extra...), nil)
}

func ensembleDesc(name, help string, extra ...string) *prometheus.Desc {
	return prometheus.NewDesc(prometheus.BuildFQName(namespace, "ensemble", name), help, append(append([]string{}, ensembleLabels...), extra...), nil)
}

// Per member.
var (
	upDesc               = memberDesc("up", "1 if the member answered the probe at all (even 'not serving'), 0 if it could not be reached or did not answer in time.")
	modeDesc             = memberDesc("server_mode", "The member's mode as it reports it; exactly one mode is 1. not_serving: the process answers but serves no requests (no quorum, or a leader with leaderServes=no). unknown: no answer.", "mode")
	zxidEpochDesc        = memberDesc("zxid_epoch", "High 32 bits of the member's last zxid: the epoch of the leader it last followed. It grows with every election.")
	zxidTransactionsDesc = memberDesc("zxid_transactions", "Low 32 bits of the member's last zxid: the transaction counter within the epoch (the name avoids the word counter: it is a gauge). Reaching 0xffffffff forces an election.")
	latencyMinDesc       = memberDesc("latency_min_seconds", "Minimum request latency since the server statistics were last reset.")
	latencyAvgDesc       = memberDesc("latency_avg_seconds", "Average request latency since the server statistics were last reset.")
	latencyMaxDesc       = memberDesc("latency_max_seconds", "Maximum request latency since the server statistics were last reset.")
	outstandingDesc      = memberDesc("outstanding_requests", "Requests queued on the member and not yet answered.")
	connectionsDesc      = memberDesc("connections", "Client connections open on the member.")
	znodesDesc           = memberDesc("znodes", "Znodes in the member's data tree.")
	watchesDesc          = memberDesc("watches", "Watches set on the member (mntr only).")
	ephemeralsDesc       = memberDesc("ephemerals", "Ephemeral znodes on the member (mntr only).")
	dataSizeDesc         = memberDesc("approximate_data_size_bytes", "Approximate size of the member's data tree (mntr only).")
	openFDsDesc          = memberDesc("open_file_descriptors", "File descriptors the member's JVM holds open (mntr only, Unix).")
	maxFDsDesc           = memberDesc("max_file_descriptors", "File descriptor limit of the member's JVM (mntr only, Unix).")
	packetsRecvDesc      = memberDesc("packets_received_total", "Packets the member received since its statistics were last reset.")
	packetsSentDesc      = memberDesc("packets_sent_total", "Packets the member sent since its statistics were last reset.")
	followersDesc        = memberDesc("leader_followers", "On the leader: followers and observers connected to it (mntr only).")
	syncedDesc           = memberDesc("leader_synced_followers", "On the leader: synced followers, non-voting ones included (mntr only).")
	syncedNonVoteDesc    = memberDesc("leader_synced_non_voting_followers", "On the leader: synced followers that do not vote (mntr only).")
	pendingSyncsDesc     = memberDesc("leader_pending_syncs", "On the leader: followers still syncing (mntr only).")
	versionDesc          = memberDesc("version_info", "ZooKeeper release the member runs.", "version")
	probeDurationDesc    = memberDesc("probe_duration_seconds", "How long the member's probe took.")
	commandDesc          = memberDesc("command_allowed", "1 if the member executes this four-letter word, 0 if its 4lw.commands.whitelist refuses it. Only words the probe tried are listed.", "command")
)

// Per ensemble.
var (
	votersDesc         = ensembleDesc("voters", "Configured voting members.")
	observersDesc      = ensembleDesc("observers", "Configured observers; they never vote.")
	quorumSizeDesc     = ensembleDesc("quorum_size", "Voters needed for a quorum: floor(voters/2)+1.")
	faultToleranceDesc = ensembleDesc("fault_tolerance", "Voters the ensemble can lose by design: voters - quorum size.")
	votersUpDesc       = ensembleDesc("voters_up", "Configured voters that answer at all.")
	votersInQuorumDesc = ensembleDesc("voters_in_quorum", "Voters serving in the current quorum; 0 when no leader serves.")
	leadersDesc        = ensembleDesc("leaders", "Members reporting leader (or standalone). More than 1 means a stale leader or split brain.")
	quorumMarginDesc   = ensembleDesc("quorum_margin", "How many more voters the ensemble can lose and still have, or form, a quorum. 0: the next voter loss breaks quorum. Negative: quorum is lost, by that many voters.")
	voterSetDesc       = ensembleDesc("voter_set_matches", "1 if the ensemble's own voter set (conf) matches the configured voters, 0 if not. Absent when no serving member answered conf.")
	leaderHiddenDesc   = ensembleDesc("leader_hidden", "1 if followers serve but no member says leader: a leader started with leaderServes=no answers 'not serving'. It is counted in voters_in_quorum.")
	evenVotersDesc     = ensembleDesc("even_voters", "1 if the configured number of voters is even: it tolerates no more failures than one voter fewer.")
)

// memberInfoDesc carries each member's datacenter and configured extra labels,
// to join onto the other member metrics. Its label names depend on the
// configuration, so it is built per configuration.
func memberInfoDesc(extraLabels []string) *prometheus.Desc {
	labels := append(append([]string{}, memberLabels...), "datacenter")
	return prometheus.NewDesc("zookeeper_member_info",
		"Configured facts about a member: datacenter and extra labels. Always 1.",
		append(labels, extraLabels...), nil)
}

// selfMetrics are the exporter's own counters.
type selfMetrics struct {
	probeErrors  *prometheus.CounterVec
	probeRounds  *prometheus.CounterVec
	sharedRounds *prometheus.CounterVec
}

func newSelfMetrics() *selfMetrics {
	return &selfMetrics{
		probeErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "zookeeper_exporter_probe_errors_total",
			Help: "Four-letter words that got no usable answer, by member and reason.",
		}, []string{"ensemble", "member", "reason"}),
		probeRounds: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "zookeeper_exporter_probe_rounds_total",
			Help: "Probe rounds run against an ensemble; each probes every member once.",
		}, []string{"ensemble"}),
		sharedRounds: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "zookeeper_exporter_probe_rounds_shared_total",
			Help: "Scrapes that joined a probe round already in flight instead of starting their own.",
		}, []string{"ensemble"}),
	}
}

func (m *selfMetrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{m.probeErrors, m.probeRounds, m.sharedRounds}
}

// forget drops the self-metric series of ensembles and members that the new
// configuration no longer has, so a reload leaves no stale series behind.
func (m *selfMetrics) forget(old, current *config.Config) {
	for _, ensemble := range old.Ensembles {
		kept := current.Ensemble(ensemble.Name)
		if kept == nil {
			for _, vec := range []*prometheus.CounterVec{m.probeErrors, m.probeRounds, m.sharedRounds} {
				vec.DeletePartialMatch(prometheus.Labels{"ensemble": ensemble.Name})
			}
			continue
		}
		for _, member := range ensemble.Members {
			if kept.Member(member.Address) == nil {
				m.probeErrors.DeletePartialMatch(prometheus.Labels{"ensemble": ensemble.Name, "member": member.Address})
			}
		}
	}
}

// Maintenance companion: what may be stopped now, and what outages cost.
var (
	safeToStopDesc           = memberDesc("member_safe_to_stop", "1 if stopping the member now keeps a quorum and the one-at-a-time rule holds: it serves, one leader serves, every other voter serves and has caught up with the leader (zxid within 1000 transactions in the leader's epoch). An observer: 1 whenever it serves.")
	stopImpactDesc           = memberDesc("member_stop_impact", "What stopping the member now would cost; exactly one impact is 1. none: already down or not serving. read_capacity: an observer. fault_tolerance: a follower. election: the leader. quorum: quorum would be, or is, lost.", "impact")
	datacenterLossMarginDesc = ensembleDesc("datacenter_loss_margin", "Quorum margin left if every member of the datacenter were lost now. Negative: losing it loses quorum. Only for ensembles with datacenters configured; unlabelled members count as datacenter \"\".", "datacenter")
	sizingAdviceDesc         = ensembleDesc("sizing_advice", "1 if the advice applies. too_many_voters: more than 9 voters slow every write. too_many_voters_in_one_datacenter: more than 5 voters in one datacenter.", "advice")
	lastUnavailabilityDesc   = ensembleDesc("last_unavailability_seconds", "How long the latest ended outage (no leader serving with a quorum) lasted, from the first probe round without quorum to the first with it. Absent until one has ended.")
	unavailableSecondsDesc   = ensembleDesc("unavailable_seconds_total", "Time without a serving quorum seen since the exporter started or reloaded, the current outage included.")
)
