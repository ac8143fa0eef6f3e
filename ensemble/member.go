package ensemble

import (
	"time"

	"github.com/quorumwatch/zookeeper_exporter/config"
	"github.com/quorumwatch/zookeeper_exporter/zk"
)

// ReasonDeadline is the reason of a member whose probe had not ended when
// the scrape that asked for it had to answer.
const ReasonDeadline = "deadline"

// ProbedMember is what one round learned about one configured member. It
// embeds the configured member, so Address, Role and Datacenter read as the
// configuration has them.
type ProbedMember struct {
	*config.Member
	// ServerID is configured, or learned from the ensemble; 0 when unknown.
	ServerID int
	// Up: the process answered at all, "not serving" included.
	Up   bool
	Mode zk.Mode
	// Voter: the member votes in the voter set in force (see VoterSet); a
	// member configured as a voter that answers observer does not.
	Voter bool
	// SaidObserver: the member's last mode was observer (now, or before it
	// went down or stopped answering with a mode).
	SaidObserver bool
	// Unplaced: configured as a voter, but the ensemble's membership lists
	// it neither as a voter nor as an observer (its server id is unknown:
	// the membership names it at another address; or it was removed).
	Unplaced bool
	// Zxid is the member's last zxid; ZxidKnown is false unless srvr said.
	Zxid      zk.Zxid
	ZxidKnown bool
	// Version is the ZooKeeper release, e.g. 3.8.0; "" when not said.
	Version string
	// Figures are the member's numbers, from srvr where it says them and
	// from mntr otherwise, in base units.
	Figures Figures
	// QuorumSize is mntr's zk_quorum_size (voters in the member's view), 0
	// when not said.
	QuorumSize int
	// LeaderVoters is, on a leader that answered mntr, the voters in its
	// quorum including itself; 0 when unknown.
	LeaderVoters int
	// LeaderVotersAtMost: the release does not say how many of the count
	// do not vote (3.5), so it bounds the voters from above only.
	LeaderVotersAtMost bool
	// ZabState is the Zab phase in mntr's zk_peer_state (see zk.ZabStates),
	// "" when the member did not say (before 3.6, mntr refused).
	ZabState string
	// LeaderNotServing is set when the AdminServer says a member that
	// answers "not serving" leads: a leader started with leaderServes=no.
	LeaderNotServing bool
	// Allowed records, for each word tried, whether the member executes it.
	Allowed map[string]bool
	// Err is the first failure that left the member down or a word unused;
	// Reason is its short classification ("" when none).
	Err      error
	Reason   string
	Duration time.Duration
	// Aliases are the other configured names of the same server (same
	// server id), probed and counted as this one.
	Aliases []string
	// Disagrees says how the member's own conf lists another ensemble's
	// servers; such a member is left out of the round's figures.
	Disagrees string
}

// Figure names one of a member's numbers.
type Figure int

// A member's numbers. Latencies are in seconds whatever the word said.
const (
	LatencyMin Figure = iota
	LatencyAvg
	LatencyMax
	Outstanding
	Connections
	Znodes
	PacketsReceived
	PacketsSent
	Watches
	Ephemerals
	DataSizeBytes
	OpenFileDescriptors
	MaxFileDescriptors
	LeaderFollowers
	LeaderSyncedFollowers
	LeaderSyncedNonVotingFollowers
	LeaderPendingSyncs
	figureCount
)

// Figures holds the numbers a member said; a figure it did not say is
// absent.
type Figures struct {
	values [figureCount]float64
	known  [figureCount]bool
}

// Get returns a figure and whether the member said it.
func (f *Figures) Get(figure Figure) (float64, bool) { return f.values[figure], f.known[figure] }

func (f *Figures) set(figure Figure, value float64) {
	f.values[figure], f.known[figure] = value, true
}

// mntrKeys maps mntr keys to figures; mntr's latencies are milliseconds.
var mntrKeys = []struct {
	key    string
	figure Figure
	scale  float64
	// fromSrvr: srvr says this figure too, and srvr's answer wins.
	fromSrvr bool
}{
	{"zk_min_latency", LatencyMin, 1.0 / 1000, true},
	{"zk_avg_latency", LatencyAvg, 1.0 / 1000, true},
	{"zk_max_latency", LatencyMax, 1.0 / 1000, true},
	{"zk_outstanding_requests", Outstanding, 1, true},
	{"zk_num_alive_connections", Connections, 1, true},
	{"zk_znode_count", Znodes, 1, true},
	{"zk_packets_received", PacketsReceived, 1, true},
	{"zk_packets_sent", PacketsSent, 1, true},
	{"zk_watch_count", Watches, 1, false},
	{"zk_ephemerals_count", Ephemerals, 1, false},
	{"zk_approximate_data_size", DataSizeBytes, 1, false},
	{"zk_open_file_descriptor_count", OpenFileDescriptors, 1, false},
	{"zk_max_file_descriptor_count", MaxFileDescriptors, 1, false},
}

// leaderKeys are mntr keys only a leader sends.
var leaderKeys = []struct {
	key    string
	figure Figure
}{
	{"zk_synced_followers", LeaderSyncedFollowers},
	{"zk_synced_non_voting_followers", LeaderSyncedNonVotingFollowers},
	{"zk_pending_syncs", LeaderPendingSyncs},
}

// takeSrvr records what srvr said.
func (m *ProbedMember) takeSrvr(srvr *zk.Srvr) {
	m.Mode, m.Version = srvr.Mode, srvr.Version
	m.Zxid, m.ZxidKnown = srvr.Zxid, true
	m.Figures.set(LatencyMin, srvr.LatencyMin)
	m.Figures.set(LatencyAvg, srvr.LatencyAvg)
	m.Figures.set(LatencyMax, srvr.LatencyMax)
	m.Figures.set(Outstanding, float64(srvr.Outstanding))
	m.Figures.set(Connections, float64(srvr.Connections))
	if srvr.HasNodeCount {
		m.Figures.set(Znodes, float64(srvr.NodeCount))
	}
	m.Figures.set(PacketsReceived, float64(srvr.Received))
	m.Figures.set(PacketsSent, float64(srvr.Sent))
}

// takeMntr records what mntr said that srvr did not.
func (m *ProbedMember) takeMntr(mntr *zk.Mntr, srvrAnswered bool) {
	if m.Version == "" {
		m.Version = mntr.Version
	}
	if m.Mode == zk.ModeUnknown {
		m.Mode = mntr.ServerState
	}
	m.ZabState = zk.ZabState(mntr.PeerState)
	for _, k := range mntrKeys {
		if k.fromSrvr && srvrAnswered {
			continue
		}
		if value, ok := mntr.Number(k.key); ok {
			m.Figures.set(k.figure, value*k.scale)
		}
	}
	if size, ok := mntr.Number("zk_quorum_size"); ok && size > 0 && size < 1<<16 {
		m.QuorumSize = int(size)
	}
	if mntr.ServerState != zk.ModeLeader {
		return
	}
	for _, k := range leaderKeys {
		if value, ok := mntr.Number(k.key); ok {
			m.Figures.set(k.figure, value)
		}
	}
	// 3.6 renamed zk_followers zk_learners.
	if value, ok := mntr.Learners(); ok {
		m.Figures.set(LeaderFollowers, value)
	}
	if voters, ok := mntr.LeaderVoters(); ok {
		m.LeaderVoters, m.LeaderVotersAtMost = voters, !mntr.LeaderVotersExact()
	}
}

// refused reports whether the member's whitelist refused word.
func (m *ProbedMember) refused(word string) bool {
	allowed, tried := m.Allowed[word]
	return tried && !allowed
}
