package zk

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Mode is a member's role as it reports it, plus the states in which it
// reports none.
type Mode string

// Modes, as exported in the zookeeper_server_mode state set.
const (
	ModeLeader     Mode = "leader"
	ModeFollower   Mode = "follower"
	ModeObserver   Mode = "observer"
	ModeStandalone Mode = "standalone"
	ModeReadOnly   Mode = "read_only"
	ModeNotServing Mode = "not_serving"
	ModeUnknown    Mode = "unknown"
)

// Modes lists every mode, in the order the state set is exported.
var Modes = []Mode{ModeLeader, ModeFollower, ModeObserver, ModeStandalone, ModeReadOnly, ModeNotServing, ModeUnknown}

// Serving reports whether a member in this mode serves client requests.
func (m Mode) Serving() bool {
	switch m {
	case ModeLeader, ModeFollower, ModeObserver, ModeStandalone, ModeReadOnly:
		return true
	}
	return false
}

// ParseMode maps ZooKeeper's spelling ("read-only", "leader", ...) to a Mode.
func ParseMode(s string) Mode {
	switch strings.TrimSpace(strings.ToLower(s)) {
	case "leader", "leading":
		return ModeLeader
	case "follower", "following":
		return ModeFollower
	case "observer", "observing":
		return ModeObserver
	case "standalone":
		return ModeStandalone
	case "read-only", "read_only", "readonly":
		return ModeReadOnly
	}
	return ModeUnknown
}

// Zxid is a ZooKeeper transaction id: the leader's epoch in the high 32 bits
// and a counter in the low 32 bits. The counter rolling over forces an
// election.
type Zxid uint64

// Epoch is the high 32 bits: it grows with every elected leader.
func (z Zxid) Epoch() uint32 { return uint32(z >> 32) }

// Counter is the low 32 bits: transactions within the epoch.
func (z Zxid) Counter() uint32 { return uint32(z) }

// String prints the zxid the way ZooKeeper does.
func (z Zxid) String() string { return fmt.Sprintf("0x%x", uint64(z)) }

// Srvr is the answer to srvr (and the server part of stat).
type Srvr struct {
	// Version is the release, "3.8.0", without the build suffix.
	Version string
	// FullVersion is the whole version line, build suffix included.
	FullVersion string
	// Latencies in seconds (ZooKeeper reports milliseconds).
	LatencyMin, LatencyAvg, LatencyMax float64
	Received, Sent                     int64
	Connections, Outstanding           int64
	Zxid                               Zxid
	Mode                               Mode
	NodeCount                          int64
	HasNodeCount                       bool
}

// ParseSrvr parses a srvr or stat answer. The special answers (not serving,
// not whitelisted) are returned as their errors.
func ParseSrvr(answer []byte) (*Srvr, error) {
	if err := Special("srvr", answer); err != nil {
		return nil, err
	}
	srvr := &Srvr{}
	var have srvrSeen
	err := eachLine(answer, func(line []byte) error {
		key, value, ok := bytes.Cut(line, []byte{':'})
		if !ok {
			return nil // stat's client list and blank lines
		}
		if err := srvr.set(string(key), string(bytes.TrimSpace(value)), &have); err != nil {
			return &ParseError{Word: "srvr", Msg: fmt.Sprintf("%s: %v", key, err)}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if !have.version || !have.mode || !have.zxid {
		return nil, &ParseError{Word: "srvr", Msg: "no version, Zxid or Mode line"}
	}
	return srvr, nil
}

// srvrSeen records which of the required lines a srvr answer had.
type srvrSeen struct{ version, mode, zxid bool }

// set reads one "key: value" line of srvr; other keys are ignored.
func (srvr *Srvr) set(key, value string, have *srvrSeen) error {
	var err error
	switch key {
	case "Zookeeper version":
		if !utf8.ValidString(value) {
			err = errors.New("not UTF-8") // it becomes a label value
		}
		srvr.FullVersion = value
		srvr.Version = ReleaseVersion(value)
		have.version = true
	case "Latency min/avg/max":
		err = parseLatencies(value, srvr)
	case "Received":
		srvr.Received, err = strconv.ParseInt(value, 10, 64)
	case "Sent":
		srvr.Sent, err = strconv.ParseInt(value, 10, 64)
	case "Connections":
		srvr.Connections, err = strconv.ParseInt(value, 10, 64)
	case "Outstanding":
		srvr.Outstanding, err = strconv.ParseInt(value, 10, 64)
	case "Zxid":
		var zxid uint64
		zxid, err = strconv.ParseUint(strings.TrimPrefix(value, "0x"), 16, 64)
		srvr.Zxid = Zxid(zxid)
		have.zxid = err == nil
	case "Mode":
		srvr.Mode = ParseMode(value)
		if srvr.Mode == ModeUnknown {
			err = fmt.Errorf("unknown mode %q", value)
		}
		have.mode = err == nil
	case "Node count":
		srvr.NodeCount, err = strconv.ParseInt(value, 10, 64)
		srvr.HasNodeCount = err == nil
	}
	return err
}

// parseLatencies reads "min/avg/max" in milliseconds; avg is a float since 3.5.
func parseLatencies(value string, srvr *Srvr) error {
	parts := strings.Split(value, "/")
	if len(parts) != 3 {
		return fmt.Errorf("want min/avg/max, got %q", value)
	}
	var ms [3]float64
	for i, part := range parts {
		v, err := strconv.ParseFloat(strings.TrimSpace(part), 64)
		if err != nil {
			return err
		}
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("latency %q is not a number of milliseconds", part)
		}
		ms[i] = v
	}
	srvr.LatencyMin, srvr.LatencyAvg, srvr.LatencyMax = ms[0]/1000, ms[1]/1000, ms[2]/1000
	return nil
}

// ReleaseVersion keeps the release of a version string: Debian's build
// reads "3.8.0-${mvngit.commit.id}, built on ...", so cut at the first "-"
// (or ",", or space).
func ReleaseVersion(full string) string {
	end := strings.IndexAny(full, "-, ")
	if end < 0 {
		return full
	}
	return full[:end]
}
