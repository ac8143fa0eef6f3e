package zk

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// capture reads an answer captured from a real ZooKeeper 3.8 member
// (testdata/README.md says how).
func capture(t testing.TB, state, word string) []byte {
	t.Helper()
	answer, err := os.ReadFile(filepath.Join("testdata", state, word))
	if err != nil {
		t.Fatal(err)
	}
	return answer
}

func TestParseSrvrCaptures(t *testing.T) {
	tests := []struct {
		state, word string
		mode        Mode
		zxidEpoch   uint32
		proposal    bool
	}{
		{"leader", "srvr", ModeLeader, 1, true},
		{"leader", "stat", ModeLeader, 1, true},
		{"follower", "srvr", ModeFollower, 0, false},
		{"follower", "stat", ModeFollower, 0, false},
		{"observer", "srvr", ModeObserver, 0, false},
		{"standalone", "srvr", ModeStandalone, 0, false},
		{"not_whitelisted", "srvr", ModeStandalone, 0, false},
	}
	for _, test := range tests {
		t.Run(test.state+"/"+test.word, func(t *testing.T) {
			srvr, err := ParseSrvr(capture(t, test.state, test.word))
			if err != nil {
				t.Fatal(err)
			}
			if srvr.Mode != test.mode {
				t.Errorf("Mode = %q, want %q", srvr.Mode, test.mode)
			}
			if srvr.Version != "3.8.0" {
				t.Errorf("Version = %q, want 3.8.0 (build suffix cut)", srvr.Version)
			}
			if srvr.Zxid.Epoch() != test.zxidEpoch {
				t.Errorf("zxid %s: epoch %d, want %d", srvr.Zxid, srvr.Zxid.Epoch(), test.zxidEpoch)
			}
			if !srvr.HasNodeCount || srvr.NodeCount < 4 {
				t.Errorf("NodeCount = %d (present %v): a fresh tree has the /zookeeper nodes", srvr.NodeCount, srvr.HasNodeCount)
			}
			if srvr.Connections < 1 {
				t.Errorf("Connections = %d: the probe's own connection counts", srvr.Connections)
			}
		})
	}
}

func TestParseSpecialAnswers(t *testing.T) {
	tests := []struct {
		state, word string
		parse       func([]byte) error
		want        func(error) bool
	}{
		{"not_serving", "srvr", func(b []byte) error { _, err := ParseSrvr(b); return err }, isNotServing},
		{"not_serving", "stat", func(b []byte) error { _, err := ParseSrvr(b); return err }, isNotServing},
		{"not_serving", "mntr", func(b []byte) error { _, err := ParseMntr(b); return err }, isNotServing},
		{"not_serving", "conf", func(b []byte) error { _, err := ParseConf(b); return err }, isNotServing},
		{"not_serving", "isro", func(b []byte) error { _, err := ParseIsro(b); return err }, isNotServing},
		{"not_whitelisted", "mntr", func(b []byte) error { _, err := ParseMntr(b); return err }, IsNotWhitelisted},
		{"not_whitelisted", "conf", func(b []byte) error { _, err := ParseConf(b); return err }, IsNotWhitelisted},
		{"not_whitelisted", "stat", func(b []byte) error { _, err := ParseSrvr(b); return err }, IsNotWhitelisted},
		{"not_whitelisted", "ruok", func(b []byte) error { _, err := ParseRuok(b); return err }, IsNotWhitelisted},
		{"not_whitelisted", "isro", func(b []byte) error { _, err := ParseIsro(b); return err }, IsNotWhitelisted},
	}
	for _, test := range tests {
		t.Run(test.state+"/"+test.word, func(t *testing.T) {
			err := test.parse(capture(t, test.state, test.word))
			if !test.want(err) {
				t.Errorf("err = %v, want the special answer recognised", err)
			}
			var parseErr *ParseError
			if errors.As(err, &parseErr) {
				t.Errorf("a special answer became a parse error: %v", err)
			}
		})
	}
}

func isNotServing(err error) bool { return errors.Is(err, ErrNotServing) }

func TestRuokWithoutQuorum(t *testing.T) {
	// ruok says imok even without quorum: it proves the process, not service.
	for _, state := range []string{"leader", "not_serving"} {
		imok, err := ParseRuok(capture(t, state, "ruok"))
		if err != nil || !imok {
			t.Errorf("%s ruok: imok %v, err %v", state, imok, err)
		}
	}
}

func TestIsro(t *testing.T) {
	readOnly, err := ParseIsro(capture(t, "leader", "isro"))
	if err != nil || readOnly {
		t.Errorf("leader isro: read-only %v, err %v; want rw", readOnly, err)
	}
	if _, err := ParseIsro([]byte("maybe")); err == nil {
		t.Error("isro accepted garbage")
	}
}

func TestParseMntrCaptures(t *testing.T) {
	leader, err := ParseMntr(capture(t, "leader", "mntr"))
	if err != nil {
		t.Fatal(err)
	}
	if leader.ServerState != ModeLeader || leader.Version != "3.8.0" {
		t.Errorf("leader: state %q version %q", leader.ServerState, leader.Version)
	}
	// 3 voters and an observer: 2 synced followers + the leader itself.
	if voters, ok := leader.LeaderVoters(); !ok || voters != 3 {
		t.Errorf("LeaderVoters() = %d, %v; want 3", voters, ok)
	}
	for _, key := range []string{"zk_znode_count", "zk_watch_count", "zk_ephemerals_count", "zk_approximate_data_size",
		"zk_open_file_descriptor_count", "zk_max_file_descriptor_count", "zk_synced_observers", "zk_avg_latency"} {
		if _, ok := leader.Number(key); !ok {
			t.Errorf("leader mntr has no number %s", key)
		}
	}

	follower, err := ParseMntr(capture(t, "follower", "mntr"))
	if err != nil {
		t.Fatal(err)
	}
	if follower.ServerState != ModeFollower {
		t.Errorf("follower state %q", follower.ServerState)
	}
	if _, ok := follower.LeaderVoters(); ok {
		t.Error("a follower's mntr gave a leader count")
	}
	if _, ok := follower.Number("zk_synced_followers"); ok {
		t.Error("a follower's mntr has the leader-only zk_synced_followers")
	}
	observer, err := ParseMntr(capture(t, "observer", "mntr"))
	if err != nil || observer.ServerState != ModeObserver {
		t.Errorf("observer mntr: state %v, err %v", observer, err)
	}
}

func TestParseConfCaptures(t *testing.T) {
	conf, err := ParseConf(capture(t, "leader", "conf"))
	if err != nil {
		t.Fatal(err)
	}
	if len(conf.Servers) != 4 || len(conf.Voters()) != 3 {
		t.Fatalf("servers %d, voters %d; want 4 and 3", len(conf.Servers), len(conf.Voters()))
	}
	if conf.ServerID == 0 || conf.Version == "" {
		t.Errorf("serverId %d, version %q", conf.ServerID, conf.Version)
	}
	observer := conf.Servers[3]
	if observer.Voter() || observer.ClientAddress == "" || observer.ClientPort == 0 {
		t.Errorf("server.4 = %+v, want an observer with a client address", observer)
	}
	standalone, err := ParseConf(capture(t, "standalone", "conf"))
	if err != nil {
		t.Fatal(err)
	}
	if len(standalone.Servers) != 0 {
		t.Errorf("standalone conf lists %d servers", len(standalone.Servers))
	}
}

func TestParseServerLine(t *testing.T) {
	tests := []struct {
		spec    string
		want    Server
		wantErr bool
	}{
		{spec: "zk1:2888:3888", want: Server{ID: 1, Host: "zk1", QuorumPort: 2888, ElectionPort: 3888, Role: RoleParticipant}},
		{spec: "zk1:2888:3888:observer", want: Server{ID: 1, Host: "zk1", QuorumPort: 2888, ElectionPort: 3888, Role: RoleObserver}},
		{spec: "zk1:2888:3888:participant;2181", want: Server{ID: 1, Host: "zk1", QuorumPort: 2888, ElectionPort: 3888, Role: RoleParticipant, ClientAddress: "zk1:2181", ClientPort: 2181}},
		{spec: "10.0.0.1:2888:3888;0.0.0.0:2181", want: Server{ID: 1, Host: "10.0.0.1", QuorumPort: 2888, ElectionPort: 3888, Role: RoleParticipant, ClientAddress: "10.0.0.1:2181", ClientPort: 2181}},
		{spec: "[::1]:2888:3888:observer;[::1]:2181", want: Server{ID: 1, Host: "::1", QuorumPort: 2888, ElectionPort: 3888, Role: RoleObserver, ClientAddress: "[::1]:2181", ClientPort: 2181}},
		// 3.6+ multi-address form: the first address is the host.
		{spec: "10.0.0.1:2888:3888|10.1.0.1:2889:3889;0.0.0.0:2181", want: Server{ID: 1, Host: "10.0.0.1", QuorumPort: 2888, ElectionPort: 3888, Role: RoleParticipant, ClientAddress: "10.0.0.1:2181", ClientPort: 2181}},
		{spec: "zk1a:2888:3888|zk1b:2888:3888:observer;2181", want: Server{ID: 1, Host: "zk1a", QuorumPort: 2888, ElectionPort: 3888, Role: RoleObserver, ClientAddress: "zk1a:2181", ClientPort: 2181}},
		{spec: "zk1a:2888:3888|zk1b:2888", wantErr: true},
		{spec: "zk1:2888", wantErr: true},
		{spec: "zk1:x:3888", wantErr: true},
		{spec: "zk1:2888:3888:witness", wantErr: true},
		{spec: "zk1:2888:3888;port", wantErr: true},
		{spec: "[::1:2888:3888", wantErr: true},
	}
	for _, test := range tests {
		t.Run(test.spec, func(t *testing.T) {
			got, err := ParseServerLine(1, test.spec)
			if test.wantErr {
				if err == nil {
					t.Errorf("accepted %q as %+v", test.spec, got)
				}
				return
			}
			if err != nil || got != test.want {
				t.Errorf("got %+v, %v; want %+v", got, err, test.want)
			}
		})
	}
}

func TestParseGarbage(t *testing.T) {
	for name, answer := range map[string]string{
		"http":      "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n",
		"binary":    "\x00\x01\x02\xff\xfe",
		"truncated": "Zookeeper version: 3.8.0\nLatency min/avg/max: 0/0.0/0\n",
		"bad zxid":  "Zookeeper version: 3.8.0\nZxid: 0xzz\nMode: leader\n",
		"bad mode":  "Zookeeper version: 3.8.0\nZxid: 0x1\nMode: emperor\n",
	} {
		if srvr, err := ParseSrvr([]byte(answer)); err == nil {
			t.Errorf("%s: srvr parsed as %+v", name, srvr)
		}
		if mntr, err := ParseMntr([]byte(answer)); err == nil {
			t.Errorf("%s: mntr parsed as %+v", name, mntr)
		}
	}
}

func TestZxid(t *testing.T) {
	zxid := Zxid(0x5fffffffe)
	if zxid.Epoch() != 5 || zxid.Counter() != 0xfffffffe || zxid.String() != "0x5fffffffe" {
		t.Errorf("Zxid(0x5fffffffe) = epoch %d counter %#x %s", zxid.Epoch(), zxid.Counter(), zxid)
	}
}

// TestMntrKeepsOnlyKnownKeys: the exporter's keys are kept from every state's
// captured mntr (and the AdminServer's monitor); the hundreds of others are
// not.
func TestMntrKeepsOnlyKnownKeys(t *testing.T) {
	cases := []struct {
		state, file string
		parse       func([]byte) (*Mntr, error)
		want        map[string]float64
		absent      []string
	}{
		{"leader", "mntr", ParseMntr,
			map[string]float64{"zk_synced_followers": 2, "zk_synced_observers": 1, "zk_quorum_size": 3, "zk_znode_count": 5},
			[]string{"zk_global_sessions", "zk_learner_proposal_received_count"}},
		{"follower", "mntr", ParseMntr, map[string]float64{"zk_quorum_size": 3, "zk_znode_count": 5},
			[]string{"zk_synced_followers", "zk_commit_count"}},
		{"reconfig_leader", "mntr", ParseMntr,
			map[string]float64{"zk_synced_followers": 2, "zk_synced_non_voting_followers": 1, "zk_quorum_size": 2}, nil},
		{"leader", "admin_monitor.json", ParseAdminMonitor,
			map[string]float64{"zk_synced_followers": 2, "zk_znode_count": 5}, []string{"zk_global_sessions"}},
	}
	for _, c := range cases {
		t.Run(c.state+"/"+c.file, func(t *testing.T) {
			mntr, err := c.parse(capture(t, c.state, c.file))
			if err != nil {
				t.Fatal(err)
			}
			for key, want := range c.want {
				if got, ok := mntr.Number(key); !ok || got != want {
					t.Errorf("Number(%s) = %v, %v; want %v", key, got, ok, want)
				}
			}
			for _, key := range c.absent {
				if _, ok := mntr.Number(key); ok {
					t.Errorf("Number(%s) is kept", key)
				}
			}
			if mntr.FullVersion == mntr.Version || mntr.Version != "3.8.0" {
				t.Errorf("version %q, full version %q", mntr.Version, mntr.FullVersion)
			}
		})
	}
}

// TestMntrKeepsEveryKeptKey reads the captured answers line by line, the
// slow obvious way, and checks that ParseMntr kept exactly the MntrKeys
// among them, with their values.
func TestMntrKeepsEveryKeptKey(t *testing.T) {
	kept := map[string]bool{}
	for _, key := range MntrKeys {
		kept[key] = true
	}
	for _, state := range []string{"leader", "follower", "observer", "standalone", "reconfig_leader"} {
		t.Run(state, func(t *testing.T) {
			answer := capture(t, state, "mntr")
			mntr, err := ParseMntr(answer)
			if err != nil {
				t.Fatal(err)
			}
			sent := map[string]float64{}
			for _, line := range strings.Split(string(answer), "\n") {
				key, value, _ := strings.Cut(line, "\t")
				if number, err := strconv.ParseFloat(strings.TrimSpace(value), 64); err == nil && kept[key] {
					sent[key] = number
				}
			}
			if len(sent) == 0 {
				t.Fatal("the capture has none of MntrKeys")
			}
			for _, key := range MntrKeys {
				got, ok := mntr.Number(key)
				want, wanted := sent[key]
				if ok != wanted || got != want {
					t.Errorf("Number(%s) = %v, %v; the answer sent %v, %v", key, got, ok, want, wanted)
				}
			}
		})
	}
	for _, key := range []string{"zk_avg_latencx", "zk_", "", "zk_max_file_descriptor_count_", strings.Repeat("z", 100)} {
		var m Mntr
		if m.SetNumber(key, 1) {
			t.Errorf("SetNumber(%q) took a key that is not kept", key)
		}
	}
}
