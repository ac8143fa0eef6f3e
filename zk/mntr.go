package zk

import (
	"bytes"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// MntrKeys are the numeric mntr keys ParseMntr keeps; Number answers for
// these only. A 3.8 leader sends over 500 keys (per-namespace and
// per-learner summaries among them); keeping only what the exporter exports
// or reasons with keeps a thousand members' answers in a few hundred
// kilobytes.
var MntrKeys = []string{
	"zk_avg_latency", "zk_min_latency", "zk_max_latency",
	"zk_packets_received", "zk_packets_sent",
	"zk_num_alive_connections", "zk_outstanding_requests",
	"zk_znode_count", "zk_watch_count", "zk_ephemerals_count",
	"zk_approximate_data_size",
	"zk_open_file_descriptor_count", "zk_max_file_descriptor_count",
	"zk_followers", "zk_learners",
	"zk_synced_followers", "zk_synced_non_voting_followers", "zk_synced_observers",
	"zk_pending_syncs", "zk_quorum_size",
	"zk_uptime", "zk_leader_uptime", "zk_observer_master_id",
}

// mntrKeysByLength holds the kept keys (and their slots) by length, for the
// parser: a leader's mntr has over 500 lines, nearly all of keys the
// exporter does not keep, and a length that no kept key has rejects a line
// without hashing it (a third of the parse, measured).
var mntrKeysByLength = func() (table [64][]mntrKey) {
	for i, key := range MntrKeys {
		table[len(key)] = append(table[len(key)], mntrKey{key, uint8(i)})
	}
	return table
}()

type mntrKey struct {
	name string
	slot uint8
}

// mntrSlot is the slot of a kept key.
func mntrSlot[K string | []byte](key K) (uint8, bool) {
	if len(key) >= len(mntrKeysByLength) {
		return 0, false
	}
	for _, kept := range mntrKeysByLength[len(key)] {
		if string(key) == kept.name {
			return kept.slot, true
		}
	}
	return 0, false
}

// mntrSlots is the size of Mntr.values; the presence mask has one bit per slot.
const mntrSlots = 32

func init() {
	if len(MntrKeys) > mntrSlots {
		panic("zk: more MntrKeys than Mntr slots")
	}
}

// Mntr is the answer to mntr: the keys in MntrKeys, numbers typed, and the
// string keys.
type Mntr struct {
	Version     string // release only, "3.8.0"
	ServerState Mode
	// FullVersion is zk_version as sent, build suffix included.
	FullVersion string
	// PeerState is zk_peer_state ("leading - broadcast"), "" when absent
	// (standalone, read-only).
	PeerState string

	values  [mntrSlots]float64
	present uint32 // bit i: values[i] was sent
}

// Number returns a numeric key of MntrKeys; ok is false when the member did
// not send it (leader-only keys are absent on followers) or it is not a
// kept key.
func (m *Mntr) Number(key string) (value float64, ok bool) {
	i, known := mntrSlot(key)
	if !known || m.present&(1<<i) == 0 {
		return 0, false
	}
	return m.values[i], true
}

// SetNumber sets a key of MntrKeys, and reports false (setting nothing) for
// any other key. It is for building answers in tests and stand-ins.
func (m *Mntr) SetNumber(key string, value float64) bool {
	i, known := mntrSlot(key)
	if !known {
		return false
	}
	m.values[i] = value
	m.present |= 1 << i
	return true
}

// LeaderVoters is the number of voters in the leader's quorum, the leader
// included: zk_synced_followers counts non-voting followers too. It returns
// false unless this is a leader's answer with counts that are counts: a
// NaN, a fraction or more non-voting followers than followers says nothing
// about the quorum.
func (m *Mntr) LeaderVoters() (int, bool) {
	synced, ok := m.Number("zk_synced_followers")
	if !ok || m.ServerState != ModeLeader || !isCount(synced) {
		return 0, false
	}
	nonVoting, ok := m.Number("zk_synced_non_voting_followers")
	if !ok {
		nonVoting = 0
	}
	if !isCount(nonVoting) || nonVoting > synced {
		return 0, false
	}
	return int(synced-nonVoting) + 1, true
}

// Learners is the leader's count of the learners (followers and
// observers) connected to it: zk_learners from 3.6, zk_followers, the same
// count under its older name, on 3.4 and 3.5. ok is false on any other
// member.
func (m *Mntr) Learners() (float64, bool) {
	if v, ok := m.Number("zk_learners"); ok {
		return v, true
	}
	return m.Number("zk_followers")
}

// maxCount bounds the member counts believed from an answer: far above any
// ensemble, far below where a float stops holding whole numbers.
const maxCount = 1 << 20

// LeaderVotersExact reports whether LeaderVoters counts voters only.
// ZooKeeper 3.5 counts servers removed by reconfig that still follow among
// zk_synced_followers without saying how many (zk_synced_non_voting_followers
// came with 3.6); 3.4 has no reconfig, so its count is exact.
func (m *Mntr) LeaderVotersExact() bool {
	if _, ok := m.Number("zk_synced_non_voting_followers"); ok {
		return true
	}
	return strings.HasPrefix(m.Version, "3.4.")
}

// isCount reports whether v is a whole number from 0 to maxCount.
func isCount(v float64) bool { return v >= 0 && v <= maxCount && v == math.Trunc(v) }

// ParseMntr parses "key<TAB>value" lines. Every line must be one; only the
// keys in MntrKeys and the string keys are kept.
func ParseMntr(answer []byte) (*Mntr, error) {
	if err := Special("mntr", answer); err != nil {
		return nil, err
	}
	mntr := &Mntr{}
	line := 0
	err := eachLine(answer, func(text []byte) error {
		line++
		if len(text) == 0 {
			return nil
		}
		key, value, ok := bytes.Cut(text, []byte{'\t'})
		if !ok || !bytes.HasPrefix(key, []byte("zk_")) {
			return &ParseError{Word: "mntr", Msg: fmt.Sprintf("line %d is not a zk_ key and a tab-separated value", line)}
		}
		return mntr.set(line, key, value)
	})
	if err != nil {
		return nil, err
	}
	if mntr.Version == "" || mntr.ServerState == "" {
		return nil, &ParseError{Word: "mntr", Msg: "no zk_version or zk_server_state"}
	}
	return mntr, nil
}

// set keeps one key if it is one of ours; the hundreds of other keys cost
// a length check, no garbage.
func (m *Mntr) set(line int, key, value []byte) error {
	switch string(key) {
	case "zk_version":
		value = bytes.TrimSpace(value)
		if !utf8.Valid(value) { // it becomes a label value
			return &ParseError{Word: "mntr", Msg: fmt.Sprintf("line %d: zk_version is not UTF-8", line)}
		}
		m.FullVersion = string(value)
		m.Version = ReleaseVersion(m.FullVersion)
		return nil
	case "zk_server_state":
		m.ServerState = ParseMode(string(bytes.TrimSpace(value)))
		return nil
	case "zk_peer_state":
		m.PeerState = string(bytes.TrimSpace(value))
		return nil
	}
	i, known := mntrSlot(key)
	if !known {
		return nil
	}
	value = bytes.TrimSpace(value)
	// A kept key whose value is not a number is left out, as if not sent.
	if number, err := strconv.ParseFloat(string(value), 64); err == nil {
		m.values[i] = number
		m.present |= 1 << i
	}
	return nil
}
