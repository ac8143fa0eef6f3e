package zk

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
)

// captureRelease is one release's captured answers: Debian's 3.8.0 in
// testdata/ itself, every other release in testdata/<version>/ (see
// testdata/README.md).
type captureRelease struct {
	dir          string // under testdata
	version      string
	minor        int
	fetched      bool // from Maven Central, not Debian's package
	hasQuorumKey bool // mntr zk_quorum_size, zk_synced_non_voting_followers, zk_peer_state (3.6+)
	membership   bool // conf lists server.N and version= (3.5+)
	adminServer  bool // 3.5+
	allWords     bool // no whitelist line answers every word (3.4)
}

var releaseDir = regexp.MustCompile(`^3\.(\d+)\.\d+$`)

// captureReleases lists every release captured, Debian's first.
func captureReleases(t *testing.T) []captureRelease {
	t.Helper()
	out := []captureRelease{releaseFacts("", "3.8.0", 8)}
	entries, err := os.ReadDir("testdata")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if m := releaseDir.FindStringSubmatch(e.Name()); m != nil && e.IsDir() {
			minor, _ := strconv.Atoi(m[1])
			r := releaseFacts(e.Name(), e.Name(), minor)
			r.fetched = true
			out = append(out, r)
		}
	}
	if len(out) < 2 {
		t.Fatal("no release captured besides Debian's")
	}
	return out
}

// releaseFacts are what ZooKeeper's source says of release line 3.minor.
func releaseFacts(dir, version string, minor int) captureRelease {
	return captureRelease{
		dir: dir, version: version, minor: minor,
		hasQuorumKey: minor >= 6, membership: minor >= 5, adminServer: minor >= 5, allWords: minor == 4,
	}
}

func (r captureRelease) read(t *testing.T, state, word string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", r.dir, state, word))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestReleaseCapturesSrvr: every role of every release parses, with its
// version and the mode it had.
func TestReleaseCapturesSrvr(t *testing.T) {
	for _, r := range captureReleases(t) {
		for state, mode := range map[string]Mode{"leader": ModeLeader, "follower": ModeFollower, "observer": ModeObserver, "standalone": ModeStandalone} {
			for _, word := range []string{"srvr", "stat"} {
				t.Run(r.version+"/"+state+"/"+word, func(t *testing.T) {
					srvr, err := ParseSrvr(r.read(t, state, word))
					if err != nil {
						t.Fatal(err)
					}
					if srvr.Mode != mode || srvr.Version != r.version {
						t.Errorf("mode %q version %q, want %q %q", srvr.Mode, srvr.Version, mode, r.version)
					}
					if mode == ModeLeader && srvr.Zxid.Epoch() < 1 {
						t.Errorf("leader zxid %s: no epoch", srvr.Zxid)
					}
				})
			}
		}
	}
}

// TestReleaseCapturesMntr: the keys the quorum arithmetic needs, as each
// release sends them. A 3.4 or 3.5 leader has no zk_quorum_size and no
// zk_synced_non_voting_followers, and counts its learners as zk_followers;
// 3.6+ has zk_learners. Every release's zk_synced_followers leaves the
// observer out: 2 for 3 voters and an observer.
func TestReleaseCapturesMntr(t *testing.T) {
	for _, r := range captureReleases(t) {
		t.Run(r.version, func(t *testing.T) {
			leader, err := ParseMntr(r.read(t, "leader", "mntr"))
			if err != nil {
				t.Fatal(err)
			}
			if leader.ServerState != ModeLeader || leader.Version != r.version {
				t.Errorf("leader: state %q version %q", leader.ServerState, leader.Version)
			}
			learnersKey, otherKey := "zk_learners", "zk_followers"
			if !r.hasQuorumKey {
				learnersKey, otherKey = otherKey, learnersKey
			}
			want := map[string]float64{"zk_synced_followers": 2, learnersKey: 3}
			if r.hasQuorumKey {
				want["zk_quorum_size"] = 3
				want["zk_synced_non_voting_followers"] = 0
				want["zk_synced_observers"] = 1
			}
			for key, value := range want {
				if got, ok := leader.Number(key); !ok || got != value {
					t.Errorf("leader %s = %v (present %v), want %v", key, got, ok, value)
				}
			}
			absent := []string{otherKey}
			if !r.hasQuorumKey {
				absent = append(absent, "zk_quorum_size", "zk_synced_non_voting_followers")
			}
			for _, key := range absent {
				if _, ok := leader.Number(key); ok {
					t.Errorf("leader of %s sends %s", r.version, key)
				}
			}
			if learners, ok := leader.Learners(); !ok || learners != 3 {
				t.Errorf("Learners() = %v, %v; want 3 (2 followers and the observer)", learners, ok)
			}
			if (leader.PeerState != "") != r.hasQuorumKey {
				t.Errorf("zk_peer_state %q", leader.PeerState)
			}
			for _, state := range []string{"follower", "observer"} {
				m, err := ParseMntr(r.read(t, state, "mntr"))
				if err != nil || string(m.ServerState) != state {
					t.Errorf("%s mntr: %v, %v", state, m, err)
				}
				if _, ok := m.Number("zk_synced_followers"); ok {
					t.Errorf("%s sends the leader-only zk_synced_followers", state)
				}
			}
		})
	}
}

// TestReleaseCapturesConf: membership from 3.5, none on 3.4 (whose conf
// still parses: the exporter falls back to its configuration).
func TestReleaseCapturesConf(t *testing.T) {
	for _, r := range captureReleases(t) {
		t.Run(r.version, func(t *testing.T) {
			conf, err := ParseConf(r.read(t, "leader", "conf"))
			if err != nil {
				t.Fatal(err)
			}
			if conf.ServerID == 0 {
				t.Errorf("no serverId")
			}
			servers, voters := 0, 0
			if r.membership {
				servers, voters = 4, 3
			}
			if len(conf.Servers) != servers || len(conf.Voters()) != voters || (conf.Version != "") != r.membership {
				t.Errorf("servers %d voters %d version %q; want %d, %d and a version: %v", len(conf.Servers), len(conf.Voters()), conf.Version, servers, voters, r.membership)
			}
		})
	}
}

// TestReleaseCapturesRefused: not serving, a word outside the whitelist,
// and the default whitelist, as each release answers them.
func TestReleaseCapturesRefused(t *testing.T) {
	mntr := func(b []byte) error { _, err := ParseMntr(b); return err }
	for _, r := range captureReleases(t) {
		t.Run(r.version, func(t *testing.T) {
			for _, state := range []string{"not_serving", "not_serving_observer"} {
				for _, word := range []string{"srvr", "mntr"} {
					if _, err := ParseSrvr(r.read(t, state, word)); !errors.Is(err, ErrNotServing) && word == "srvr" {
						t.Errorf("%s srvr: %v, want not serving", state, err)
					}
					if err := mntr(r.read(t, state, "mntr")); !errors.Is(err, ErrNotServing) {
						t.Errorf("%s mntr: %v, want not serving", state, err)
					}
				}
				if ok, err := ParseRuok(r.read(t, state, "ruok")); !ok || err != nil {
					t.Errorf("%s ruok: %v, %v; want imok", state, ok, err)
				}
			}
			if err := mntr(r.read(t, "not_whitelisted", "mntr")); !IsNotWhitelisted(err) {
				t.Errorf("mntr outside the whitelist: %v", err)
			}
			err := mntr(r.read(t, "default_whitelist", "mntr"))
			if r.allWords && err != nil {
				t.Errorf("3.4 without a whitelist line refused mntr: %v", err)
			}
			if !r.allWords && !IsNotWhitelisted(err) {
				t.Errorf("without a whitelist line: mntr %v, want refused", err)
			}
		})
	}
}

// TestReleaseCapturesAdmin: the AdminServer's monitor and leader commands
// of every release that has one (3.5+); 3.5 has no leader command.
func TestReleaseCapturesAdmin(t *testing.T) {
	for _, r := range captureReleases(t) {
		if !r.adminServer {
			if _, err := os.Stat(filepath.Join("testdata", r.dir, "leader", "admin_monitor.json")); err == nil {
				t.Errorf("%s has no AdminServer, yet an answer was captured", r.version)
			}
			continue
		}
		t.Run(r.version, func(t *testing.T) {
			for state, mode := range map[string]Mode{"leader": ModeLeader, "follower": ModeFollower, "observer": ModeObserver} {
				m, err := ParseAdminMonitor(r.read(t, state, "admin_monitor.json"))
				if err != nil || m.ServerState != mode || m.Version != r.version {
					t.Errorf("%s admin monitor: %+v, %v", state, m, err)
				}
			}
			isLeader, err := ParseAdminLeader(r.read(t, "leader", "admin_leader.json"))
			if r.minor >= 6 && (err != nil || !isLeader) {
				t.Errorf("admin leader on the leader: %v, %v", isLeader, err)
			}
			if r.minor < 6 && err == nil {
				t.Errorf("3.5 has no leader command, yet it parsed: %v", isLeader)
			}
		})
	}
}

// TestReleaseCapturesLeaderCount: the leader's count of voters in its
// quorum, and whether it can be taken as exact, on every release. After
// reconfig -remove of a follower, 3.6+ says 2 (the removed member counted
// as non-voting); a 3.5 leader still counts it and cannot say so.
func TestReleaseCapturesLeaderCount(t *testing.T) {
	for _, r := range captureReleases(t) {
		t.Run(r.version, func(t *testing.T) {
			exact := r.minor != 5
			leader, err := ParseMntr(r.read(t, "leader", "mntr"))
			if err != nil {
				t.Fatal(err)
			}
			if voters, ok := leader.LeaderVoters(); !ok || voters != 3 || leader.LeaderVotersExact() != exact {
				t.Errorf("healthy leader: %d voters (%v), exact %v; want 3, exact %v", voters, ok, leader.LeaderVotersExact(), exact)
			}
			if !r.membership {
				return
			}
			after, err := ParseMntr(r.read(t, "reconfig_leader", "mntr"))
			if err != nil {
				t.Fatal(err)
			}
			want := 2
			if !exact {
				want = 3 // the removed follower, still synced
			}
			if voters, ok := after.LeaderVoters(); !ok || voters != want || after.LeaderVotersExact() != exact {
				t.Errorf("after reconfig -remove: %d voters (%v), exact %v; want %d, exact %v", voters, ok, after.LeaderVotersExact(), want, exact)
			}
		})
	}
}
