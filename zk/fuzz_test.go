package zk

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// The fuzz targets below check properties of every parser, not only that it
// does not panic. Their seeds are the answers captured from real members
// (testdata/<state>/<word> and testdata/<release>/<state>/<word>); `go test` runs the seeds, and
// `go test -run '^$' -fuzz '^FuzzParseSrvr$' ./zk` explores from them (see
// docs/testing.md). Crashers found land in testdata/fuzz/<target>/ and stay
// there as regression tests.

// addCaptures seeds f with every captured answer named like one of names.
func addCaptures(f *testing.F, names ...string) {
	f.Helper()
	for _, name := range names {
		paths, err := filepath.Glob(filepath.Join("testdata", "*", name))
		if err != nil {
			f.Fatal(err)
		}
		// Every other release's, in testdata/<release>/<state>/.
		releases, err := filepath.Glob(filepath.Join("testdata", "3.*", "*", name))
		if err != nil {
			f.Fatal(err)
		}
		paths = append(paths, releases...)
		if len(paths) == 0 {
			f.Fatalf("no captured %s answers to seed from", name)
		}
		for _, path := range paths {
			answer, err := os.ReadFile(path)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(answer)
		}
	}
}

// checkError says err is one of the three kinds a parser may return, so that
// every failure has a readable reason label and never lands on "other".
func checkError(t *testing.T, word string, answer []byte, err error) {
	t.Helper()
	special := Special(word, answer)
	switch reason := Reason(err); {
	case special != nil:
		if reason != Reason(special) {
			t.Fatalf("special answer %q: reason %q, want %q", answer, reason, Reason(special))
		}
	case reason != ReasonUnparsable && !(reason == ReasonNotServing && word == "isro"):
		t.Fatalf("%q: error %v has reason %q, want %q", answer, err, reason, ReasonUnparsable)
	}
}

func FuzzParseSrvr(f *testing.F) {
	addCaptures(f, "srvr", "stat")
	f.Add([]byte("Zookeeper version: 3.8.\xff\nZxid: 0x1\nMode: leader\n"))
	f.Add([]byte("Zookeeper version: 3.8.0\nLatency min/avg/max: NaN/0/+Inf\nZxid: 0x1\nMode: leader\n"))
	f.Fuzz(func(t *testing.T, answer []byte) {
		srvr, err := ParseSrvr(answer)
		if err != nil {
			if srvr != nil {
				t.Fatalf("ParseSrvr returned %+v with error %v", srvr, err)
			}
			checkError(t, "srvr", answer, err)
			return
		}
		if Special("srvr", answer) != nil {
			t.Fatalf("special answer %q parsed as data", answer)
		}
		// A parsed srvr names a mode the state set knows, and it is one that
		// serves: only errors stand for "not serving".
		if !slices.Contains(Modes, srvr.Mode) || !srvr.Mode.Serving() {
			t.Fatalf("parsed mode %q is not a serving mode", srvr.Mode)
		}
		checkVersion(t, srvr.Version, srvr.FullVersion)
		for _, latency := range []float64{srvr.LatencyMin, srvr.LatencyAvg, srvr.LatencyMax} {
			if math.IsNaN(latency) || math.IsInf(latency, 0) {
				t.Fatalf("latency %v is not a number of seconds", latency)
			}
		}
		if srvr.NodeCount != 0 && !srvr.HasNodeCount {
			t.Fatalf("node count %d without HasNodeCount", srvr.NodeCount)
		}
	})
}

func FuzzParseMntr(f *testing.F) {
	addCaptures(f, "mntr")
	f.Add([]byte("zk_version\t3.8.0\nzk_server_state\tleader\nzk_synced_followers\tNaN\n"))
	f.Add([]byte("zk_version\t\xc0\xaf\nzk_server_state\tleader\n"))
	f.Fuzz(func(t *testing.T, answer []byte) {
		mntr, err := ParseMntr(answer)
		if err != nil {
			if mntr != nil {
				t.Fatalf("ParseMntr returned %+v with error %v", mntr, err)
			}
			checkError(t, "mntr", answer, err)
			return
		}
		if mntr.Version == "" || mntr.ServerState == "" || !slices.Contains(Modes, mntr.ServerState) {
			t.Fatalf("parsed mntr has version %q, state %q", mntr.Version, mntr.ServerState)
		}
		checkVersion(t, mntr.Version, mntr.FullVersion)
		checkLeaderVoters(t, mntr)
	})
}

// checkVersion: the release is the full version without its build suffix,
// and it is UTF-8, as a label value must be (client_golang panics on any
// other).
func checkVersion(t *testing.T, version, full string) {
	t.Helper()
	if version != ReleaseVersion(full) || strings.ContainsAny(version, "-, ") {
		t.Fatalf("version %q of %q keeps its build suffix", version, full)
	}
	if !utf8.ValidString(version) {
		t.Fatalf("version %q is not UTF-8: it cannot be a label value", version)
	}
}

// checkLeaderVoters: the leader's count is a number of voters, the leader
// included, never more than the synced followers and itself.
func checkLeaderVoters(t *testing.T, mntr *Mntr) {
	t.Helper()
	voters, ok := mntr.LeaderVoters()
	if !ok {
		return
	}
	synced, _ := mntr.Number("zk_synced_followers")
	if voters < 1 || float64(voters) > synced+1 {
		t.Fatalf("LeaderVoters() = %d from zk_synced_followers %v", voters, synced)
	}
}

func FuzzParseConf(f *testing.F) {
	addCaptures(f, "conf")
	f.Fuzz(func(t *testing.T, answer []byte) {
		conf, err := ParseConf(answer)
		if err != nil {
			if conf != nil {
				t.Fatalf("ParseConf returned %+v with error %v", conf, err)
			}
			checkError(t, "conf", answer, err)
			return
		}
		if _, ok := conf.Settings["clientPort"]; !ok {
			t.Fatal("parsed conf has no clientPort")
		}
		if !slices.IsSortedFunc(conf.Servers, func(a, b Server) int { return a.ID - b.ID }) {
			t.Fatalf("servers are not sorted by id: %+v", conf.Servers)
		}
		for _, server := range conf.Servers {
			checkServerRoundTrip(t, server)
		}
		if len(conf.Voters()) > len(conf.Servers) {
			t.Fatal("more voters than servers")
		}
	})
}

func FuzzParseServerLine(f *testing.F) {
	for _, state := range []string{"leader", "reconfig_leader", "observer"} {
		for line := range strings.Lines(string(capture(f, state, "conf"))) {
			if key, value, ok := strings.Cut(strings.TrimSpace(line), "="); ok && strings.HasPrefix(key, "server.") {
				id, _ := strconv.Atoi(strings.TrimPrefix(key, "server."))
				f.Add(id, value)
			}
		}
	}
	for _, spec := range []string{
		"zk1:2888:3888", "zk1:2888:3888:observer", "10.0.0.1:2888:3888;0.0.0.0:2181",
		"[::1]:2888:3888:observer;[::1]:2181", "zk1:2888:3888;2181", "[fe80::1%eth0]:2888:3888;[::]:2181",
		"zk]:2888:3888;2181", "zk 1:2888:3888", "\xff:2888:3888",
	} {
		f.Add(1, spec)
	}
	f.Fuzz(func(t *testing.T, id int, spec string) {
		server, err := ParseServerLine(id, spec)
		if err != nil {
			return
		}
		if server.ID != id {
			t.Fatalf("id %d became %d", id, server.ID)
		}
		checkServerRoundTrip(t, server)
	})
}

// checkServerRoundTrip renders a parsed server as a server.N value and parses
// it back: it must come back equal, and its addresses must be usable.
func checkServerRoundTrip(t *testing.T, server Server) {
	t.Helper()
	if server.Host == "" || !utf8.ValidString(server.Host) || strings.ContainsAny(server.Host, " \t[]") {
		t.Fatalf("server %+v has no usable host", server)
	}
	if server.Role != RoleParticipant && server.Role != RoleObserver {
		t.Fatalf("server %+v has role %q", server, server.Role)
	}
	if server.ClientAddress != "" {
		host, port, err := net.SplitHostPort(server.ClientAddress)
		if err != nil || host == "" || port != strconv.Itoa(server.ClientPort) {
			t.Fatalf("client address %q of %+v is not host:port (%v)", server.ClientAddress, server, err)
		}
	} else if server.ClientPort != 0 {
		t.Fatalf("client port %d without a client address", server.ClientPort)
	}
	spec := formatServer(server)
	again, err := ParseServerLine(server.ID, spec)
	if err != nil {
		t.Fatalf("%+v rendered as %q does not parse back: %v", server, spec, err)
	}
	if again != server {
		t.Fatalf("%+v rendered as %q parses back as %+v", server, spec, again)
	}
}

// formatServer renders a server the way ZooKeeper writes a server.N value.
func formatServer(s Server) string {
	host := s.Host
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	spec := host + ":" + strconv.Itoa(s.QuorumPort) + ":" + strconv.Itoa(s.ElectionPort) + ":" + s.Role
	if s.ClientAddress != "" {
		spec += ";" + s.ClientAddress
	}
	return spec
}

func FuzzParseRuokIsro(f *testing.F) {
	addCaptures(f, "ruok", "isro")
	f.Fuzz(func(t *testing.T, answer []byte) {
		trimmed := string(bytes.TrimSpace(answer))
		imok, err := ParseRuok(answer)
		switch {
		case err != nil:
			if imok || Special("ruok", answer) == nil {
				t.Fatalf("ParseRuok(%q) = %v, %v", answer, imok, err)
			}
		case imok != (trimmed == "imok"):
			t.Fatalf("ParseRuok(%q) = %v", answer, imok)
		}

		readOnly, err := ParseIsro(answer)
		if err != nil {
			if readOnly {
				t.Fatalf("ParseIsro(%q) = read-only with error %v", answer, err)
			}
			checkError(t, "isro", answer, err)
			return
		}
		if want := trimmed == "ro"; readOnly != want || trimmed != "ro" && trimmed != "rw" {
			t.Fatalf("ParseIsro(%q) = %v, nil", answer, readOnly)
		}
	})
}

func FuzzParseAdminMonitor(f *testing.F) {
	addCaptures(f, "admin_monitor.json")
	f.Add([]byte(`{"version":"3.8.0","server_state":"leader","synced_followers":1e300,"synced_non_voting_followers":-1}`))
	f.Fuzz(func(t *testing.T, answer []byte) {
		mntr, err := ParseAdminMonitor(answer)
		if err != nil {
			if mntr != nil {
				t.Fatalf("ParseAdminMonitor returned %+v with error %v", mntr, err)
			}
			if Reason(err) != ReasonUnparsable {
				t.Fatalf("error %v has reason %q", err, Reason(err))
			}
			return
		}
		if mntr.Version == "" || !slices.Contains(Modes, mntr.ServerState) {
			t.Fatalf("parsed monitor has version %q, state %q", mntr.Version, mntr.ServerState)
		}
		checkVersion(t, mntr.Version, mntr.FullVersion)
		checkLeaderVoters(t, mntr)
	})
}

func FuzzParseAdminLeader(f *testing.F) {
	addCaptures(f, "admin_leader.json")
	f.Fuzz(func(t *testing.T, answer []byte) {
		isLeader, err := ParseAdminLeader(answer)
		if err != nil && (isLeader || Reason(err) != ReasonUnparsable) {
			t.Fatalf("ParseAdminLeader(%q) = %v, %v", answer, isLeader, err)
		}
		if isLeader && !bytes.Contains(answer, []byte("true")) {
			t.Fatalf("ParseAdminLeader(%q) says leader without a true", answer)
		}
	})
}

func FuzzSpecial(f *testing.F) {
	for _, word := range []string{"srvr", "stat", "mntr", "conf", "ruok", "isro", "envi"} {
		for _, state := range []string{"not_serving", "not_whitelisted", "default_whitelist", "leader"} {
			f.Add(word, capture(f, state, word))
		}
	}
	f.Fuzz(func(t *testing.T, word string, answer []byte) {
		err := Special(word, answer)
		trimmed := bytes.TrimSpace(answer)
		notServing := bytes.Equal(trimmed, []byte(notServingAnswer))
		notWhitelisted := bytes.HasSuffix(trimmed, []byte(notWhitelistedSuffix))
		switch {
		case notServing:
			if !errors.Is(err, ErrNotServing) || Reason(err) != ReasonNotServing {
				t.Fatalf("Special(%q) = %v, want not serving", answer, err)
			}
		case notWhitelisted:
			var notWhitelistedErr *NotWhitelistedError
			if !errors.As(err, &notWhitelistedErr) || notWhitelistedErr.Word != word || Reason(err) != ReasonNotWhitelisted {
				t.Fatalf("Special(%q, %q) = %v, want %q not whitelisted", word, answer, err, word)
			}
		case err != nil:
			t.Fatalf("Special(%q) = %v for an ordinary answer", answer, err)
		}
		// Whitespace around an answer changes nothing.
		padded := append(append([]byte(" \r\n"), answer...), "\n\t"...)
		if again := Special(word, padded); Reason(again) != Reason(err) {
			t.Fatalf("Special of the padded answer = %v, of the answer %v", again, err)
		}
	})
}

// TestParseLargeAnswers feeds every parser answers as large as the client
// lets through (1 MiB) and shaped to cost the most: one endless line, only
// newlines, as many distinct keys or servers as fit. Each must end with a
// result or a classified error, allocating a small multiple of the answer.
func TestParseLargeAnswers(t *testing.T) {
	repeat := func(line func(i int) string) []byte {
		var answer []byte
		for i := 0; len(answer) < DefaultMaxAnswerBytes; i++ {
			answer = append(answer, line(i)...)
		}
		return answer[:DefaultMaxAnswerBytes]
	}
	answers := map[string][]byte{
		"one line":  bytes.Repeat([]byte("x"), DefaultMaxAnswerBytes),
		"newlines":  bytes.Repeat([]byte("\n"), DefaultMaxAnswerBytes),
		"mode":      repeat(func(int) string { return "Mode: leader\n" }),
		"mntr keys": repeat(func(i int) string { return fmt.Sprintf("zk_%d\t%d\n", i, i) }),
		"servers":   repeat(func(i int) string { return fmt.Sprintf("server.%d=h%d:1:2:observer;%d\n", i, i, i%65535) }),
		"settings":  repeat(func(i int) string { return fmt.Sprintf("k%d=v\n", i) }),
		"json":      append([]byte(`{"version":"3.8.0","server_state":"leader","a":[`), repeat(func(int) string { return "[1]," })...),
	}
	parsers := map[string]func([]byte) error{
		"srvr":          func(b []byte) error { _, err := ParseSrvr(b); return err },
		"mntr":          func(b []byte) error { _, err := ParseMntr(b); return err },
		"conf":          func(b []byte) error { _, err := ParseConf(b); return err },
		"isro":          func(b []byte) error { _, err := ParseIsro(b); return err },
		"admin monitor": func(b []byte) error { _, err := ParseAdminMonitor(b); return err },
		"admin leader":  func(b []byte) error { _, err := ParseAdminLeader(b); return err },
	}
	for shape, answer := range answers {
		for word, parse := range parsers {
			t.Run(shape+"/"+word, func(t *testing.T) {
				var before, after runtime.MemStats
				runtime.ReadMemStats(&before)
				err := parse(answer)
				runtime.ReadMemStats(&after)
				if reason := Reason(err); err != nil && reason != ReasonUnparsable && reason != ReasonNotServing {
					t.Errorf("error %v has reason %q", err, reason)
				}
				if allocated := after.TotalAlloc - before.TotalAlloc; allocated > 64<<20 {
					t.Errorf("parsing %d KiB allocated %d MiB", len(answer)>>10, allocated>>20)
				}
			})
		}
	}
}
