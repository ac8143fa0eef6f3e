package zkcluster

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestEnsemble shares one 3-voter + 1-observer ensemble across ordered
// subtests to keep the JVM start-up cost to one.
func TestEnsemble(t *testing.T) {
	c := StartT(t, Options{Voters: 3, Observers: 1})
	ctx := t.Context()

	t.Run("Roles", func(t *testing.T) {
		if got := len(c.Voters()); got != 3 {
			t.Fatalf("Voters() = %d members, want 3", got)
		}
		if obs := c.Observers(); len(obs) != 1 || obs[0].ID != 4 || !obs[0].Observer {
			t.Fatalf("Observers() = %v, want member 4", obs)
		}
		count := map[string]int{}
		for _, m := range c.Members() {
			mode, err := c.Mode(ctx, m.ID)
			if err != nil {
				t.Fatal(err)
			}
			count[mode]++
			if m.Observer && mode != ModeObserver {
				t.Errorf("observer %d has mode %q", m.ID, mode)
			}
		}
		if count[ModeLeader] != 1 || count[ModeFollower] != 2 || count[ModeObserver] != 1 {
			t.Errorf("modes = %v, want 1 leader, 2 followers, 1 observer", count)
		}
		if _, err := c.Leader(ctx); err != nil {
			t.Error(err)
		}
	})

	t.Run("FourLetterWordAndAdmin", func(t *testing.T) {
		m := c.Member(1)
		b, err := m.FourLetterWord(ctx, "ruok")
		if err != nil || string(b) != "imok" {
			t.Errorf("ruok = %q, %v; want imok", b, err)
		}
		b, err = m.Admin(ctx, "ruok")
		if err != nil || !bytes.Contains(b, []byte(`"command" : "ruok"`)) {
			t.Errorf("admin ruok = %s, %v", b, err)
		}
	})

	t.Run("FreezeThaw", func(t *testing.T) {
		leader, err := c.WaitLeader(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var f *Member
		for _, m := range c.Voters() {
			if m != leader {
				f = m
				break
			}
		}
		if err := c.Freeze(f.ID); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		if mode, err := f.Mode(ctx); err == nil {
			t.Errorf("frozen member %d answered mode %q", f.ID, mode)
		}
		if d := time.Since(start); d > 2*ProbeTimeout {
			t.Errorf("probing a frozen member took %v", d)
		}
		// The other voters still form a quorum.
		if got, err := c.Leader(ctx); err != nil || got != leader {
			t.Errorf("Leader() with %d frozen = %v, %v; want %d", f.ID, got, err, leader.ID)
		}
		if err := c.Thaw(f.ID); err != nil {
			t.Fatal(err)
		}
		waitServing(t, c, f.ID)
	})

	t.Run("KillLeader", func(t *testing.T) {
		old, err := c.WaitLeader(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Kill(old.ID); err != nil {
			t.Fatal(err)
		}
		if old.PID() != 0 {
			t.Errorf("killed member %d still has a PID", old.ID)
		}
		if _, err := c.Mode(ctx, old.ID); err == nil {
			t.Errorf("killed member %d answered", old.ID)
		}
		wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		leader, err := c.WaitLeader(wctx)
		if err != nil {
			t.Fatal(err)
		}
		if leader == old || leader.Observer {
			t.Fatalf("new leader is %d (old %d)", leader.ID, old.ID)
		}
		if err := c.Restart(old.ID); err != nil {
			t.Fatal(err)
		}
		waitServing(t, c, old.ID)
		if mode, _ := c.Mode(ctx, old.ID); mode != ModeFollower {
			t.Errorf("restarted member %d has mode %q, want follower", old.ID, mode)
		}
	})

	t.Run("StopRestart", func(t *testing.T) {
		if err := c.Stop(4); err != nil {
			t.Fatal(err)
		}
		if err := c.Stop(4); err == nil {
			t.Error("stopping a stopped member succeeded")
		}
		if err := c.Restart(4); err != nil {
			t.Fatal(err)
		}
		if err := c.Restart(4); err == nil {
			t.Error("restarting a running member succeeded")
		}
		waitServing(t, c, 4)
	})

	t.Run("CloseKillsEverything", func(t *testing.T) {
		if err := c.Freeze(2); err != nil {
			t.Fatal(err)
		}
		pids := c.PIDs()
		if len(pids) != 4 {
			t.Fatalf("PIDs() = %v, want 4", pids)
		}
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
		for _, pid := range pids {
			if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
				t.Errorf("pid %d still exists after Close (kill 0: %v)", pid, err)
			}
		}
		if _, err := os.Stat(c.Dir()); !os.IsNotExist(err) {
			t.Errorf("%s still exists after Close: %v", c.Dir(), err)
		}
		if err := c.Close(); err != nil {
			t.Errorf("second Close: %v", err)
		}
	})
}

func waitServing(t *testing.T, c *Cluster, ids ...int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if err := c.WaitServing(ctx, ids...); err != nil {
		t.Fatal(err)
	}
}

func TestStandalone(t *testing.T) {
	c := StartT(t, Options{Standalone: true, Whitelist: map[int]string{1: "ruok"}})
	// srvr is not whitelisted, so Mode falls back to the AdminServer.
	mode, err := c.Mode(t.Context(), 1)
	if err != nil || mode != ModeStandalone {
		t.Errorf("Mode = %q, %v; want standalone", mode, err)
	}
	if m, err := c.Leader(t.Context()); err != nil || m.ID != 1 {
		t.Errorf("Leader = %v, %v", m, err)
	}
}

func TestLeaderServesNo(t *testing.T) {
	no := false
	c := StartT(t, Options{Voters: 3, LeaderServes: &no})
	leader, err := c.Leader(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	// The leader refuses four-letter words like a member without quorum,
	// yet Mode and Leader identify it through the AdminServer.
	b, err := leader.FourLetterWord(t.Context(), "srvr")
	if err != nil || !strings.Contains(string(b), notServingText) {
		t.Errorf("leader srvr = %q, %v; want not serving", b, err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	follower := c.Voters()[0]
	if follower == leader {
		follower = c.Voters()[1]
	}
	out, err := c.CLI(ctx, follower.ID, "create", "/zkcluster", "x")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), "Created /zkcluster") {
		t.Errorf("create output: %s", out)
	}
}

func TestNotInstalled(t *testing.T) {
	t.Setenv(ClasspathDirEnv, t.TempDir())
	_, err := Start(t.Context(), Options{Standalone: true})
	if !errors.Is(err, ErrNotInstalled) || !strings.Contains(err.Error(), "apt-get install -y zookeeper") {
		t.Errorf("Start with empty %s: %v", ClasspathDirEnv, err)
	}
}

func TestOptionsValidation(t *testing.T) {
	for _, o := range []Options{
		{Standalone: true, Voters: 3},
		{Standalone: true, Observers: 1},
		{Voters: -1},
		{TickTime: time.Microsecond},
		{Standalone: true, Reconfig: true},
		{Voters: 3, Weights: map[int]int{1: 2}},
		{Voters: 3, Groups: [][]int{{1, 2}}},
		{Voters: 3, Groups: [][]int{{1, 2}, {2, 3}}},
		{Voters: 3, Observers: 1, Groups: [][]int{{1, 2}, {3, 4}}},
		{Voters: 3, Groups: [][]int{{1}, {2, 3}, {}}},
		{Voters: 3, Groups: [][]int{{1}, {2, 3}}, Weights: map[int]int{1: -1}},
		{Release: "3.9"},
		{Release: "2.9.9"},
		{Release: "3.4.14", Reconfig: true},
		{Release: "3.9.5", MemberReleases: map[int]string{2: "3.4.14"}, ReconfigEnabled: true},
		{Voters: 3, MemberReleases: map[int]string{4: "3.9.5"}},
	} {
		if _, err := Start(t.Context(), o); err == nil {
			t.Errorf("Start(%+v) succeeded", o)
		}
	}
}

func TestFourLetterWordDeadline(t *testing.T) {
	// Like a frozen member: the kernel accepts, nobody answers.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := FourLetterWord(ctx, l.Addr().String(), "srvr"); err == nil {
		t.Error("no error from a silent server")
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("took %v despite a 200ms deadline", d)
	}
}

func TestParseMode(t *testing.T) {
	for in, want := range map[string]string{
		"Zookeeper version: 3.8.0\nZxid: 0x100000000\nMode: leader\nNode count: 5\n": ModeLeader,
		"Mode: read-only\n": ModeReadOnly,
		"This ZooKeeper instance is not currently serving requests\n": ModeNotServing,
	} {
		if got, err := parseMode([]byte(in)); err != nil || got != want {
			t.Errorf("parseMode(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := parseMode([]byte("srvr is not executed because it is not in the whitelist.\n")); err == nil {
		t.Error("parseMode accepted an answer without a Mode line")
	}
}

func TestPrefixWriter(t *testing.T) {
	var b bytes.Buffer
	w := &prefixWriter{w: &b, prefix: "zk1 "}
	for _, s := range []string{"a\nb", "c\n", "\nd\n"} {
		if n, err := w.Write([]byte(s)); n != len(s) || err != nil {
			t.Fatalf("Write(%q) = %d, %v", s, n, err)
		}
	}
	if want := "zk1 a\nzk1 bc\nzk1 \nzk1 d\n"; b.String() != want {
		t.Errorf("got %q, want %q", b.String(), want)
	}
}

func TestWriteConfig(t *testing.T) {
	no := false
	opts, err := Options{
		Voters: 2, Observers: 1, LeaderServes: &no,
		Whitelist:   map[int]string{2: "", 3: "srvr"},
		ExtraConfig: map[int][]string{1: {"maxClientCnxns=5"}},
	}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	c := &Cluster{opts: opts, baseDir: t.TempDir()}
	for id := 1; id <= 3; id++ {
		dir := t.TempDir()
		c.members = append(c.members, &Member{
			ID: id, Observer: id == 3, Dir: dir, Release: opts.release,
			ConfigPath: filepath.Join(dir, "zoo.cfg"), DataDir: filepath.Join(dir, "data"),
			ports: memberPorts{id * 10, id*10 + 1, id*10 + 2, id*10 + 3},
		})
	}
	cfg := map[int]string{}
	for _, m := range c.members {
		if err := c.writeConfig(m, c.membershipLines(c.members, false)); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(m.ConfigPath)
		if err != nil {
			t.Fatal(err)
		}
		cfg[m.ID] = string(b)
		if myid, _ := os.ReadFile(filepath.Join(m.DataDir, "myid")); string(myid) != strconv.Itoa(m.ID)+"\n" {
			t.Errorf("member %d: myid %q", m.ID, myid)
		}
	}
	for _, want := range []string{
		"tickTime=500\n", "syncLimit=5\n", "clientPort=10\n", "admin.serverPort=11\n",
		"4lw.commands.whitelist=*\n", "leaderServes=no\n", "standaloneEnabled=false\n",
		"server.1=127.0.0.1:12:13;127.0.0.1:10\n", "server.3=127.0.0.1:32:33:observer;127.0.0.1:30\n",
		"clientPortAddress=127.0.0.1\n", "admin.serverAddress=127.0.0.1\n", "quorumListenOnAllIPs=false\n",
	} {
		if !strings.Contains(cfg[1], want) {
			t.Errorf("member 1 config lacks %q:\n%s", want, cfg[1])
		}
	}
	if !strings.HasSuffix(cfg[1], "maxClientCnxns=5\n") {
		t.Errorf("extra config not last:\n%s", cfg[1])
	}
	if strings.Contains(cfg[2], "4lw.commands.whitelist") {
		t.Errorf("empty whitelist should omit the line:\n%s", cfg[2])
	}
	if !strings.Contains(cfg[3], "4lw.commands.whitelist=srvr\n") || !strings.Contains(cfg[3], "peerType=observer\n") {
		t.Errorf("observer config:\n%s", cfg[3])
	}
}

// TestHierarchicalQuorum runs 9 voters in 3 groups of 3: a quorum needs a
// majority of the groups, each with a majority of its members. Losing four
// members leaves a simple majority (5 of 9) but breaks the hierarchical
// quorum when two groups are broken.
func TestHierarchicalQuorum(t *testing.T) {
	groups := [][]int{{1, 2, 3}, {4, 5, 6}, {7, 8, 9}}
	c := StartT(t, Options{Voters: 9, Groups: groups})

	t.Run("ZooCfg", func(t *testing.T) {
		b, err := os.ReadFile(c.ZooCfgPath())
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range c.Members() {
			want := "server." + strconv.Itoa(m.ID) + "=" + m.QuorumAddr + ":" + strconv.Itoa(m.ports.election) + ";" + m.ClientAddr + "\n"
			if !strings.Contains(string(b), want) {
				t.Errorf("%s lacks %q:\n%s", c.ZooCfgPath(), want, b)
			}
		}
		for _, want := range []string{"group.1=1:2:3\n", "group.2=4:5:6\n", "group.3=7:8:9\n"} {
			if !strings.Contains(string(b), want) {
				t.Errorf("%s lacks %q:\n%s", c.ZooCfgPath(), want, b)
			}
		}
	})

	for _, step := range []struct {
		name    string
		kill    []int
		serving bool
	}{
		{"TwoOfGroup1OneOfGroup2", []int{1, 2, 4}, true},
		{"AnotherOfGroup2", []int{5}, false},
	} {
		t.Run(step.name, func(t *testing.T) {
			for _, id := range step.kill {
				if err := c.Kill(id); err != nil {
					t.Fatal(err)
				}
			}
			if step.serving {
				c.LeaderT(t)
			}
			waitSteady(t, c, running(c), step.serving)
		})
	}
}

// running returns the members whose JVM runs.
func running(c *Cluster) []*Member {
	var out []*Member
	for _, m := range c.Members() {
		if m.PID() != 0 {
			out = append(out, m)
		}
	}
	return out
}

// waitSteady waits until every member in ms serves (or, if !serving,
// answers "not currently serving"), then checks over a few samples that
// they stay so: a quorum still being lost, or forming again, would show.
func waitSteady(t *testing.T, c *Cluster, ms []*Member, serving bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	steady := func() (map[int]string, bool) {
		got := c.modes(ctx, ms)
		for _, m := range ms {
			if servingMode(got[m.ID]) != serving || (!serving && got[m.ID] != ModeNotServing) {
				return got, false
			}
		}
		return got, true
	}
	var last map[int]string
	if err := c.WaitFor(ctx, func() bool { m, ok := steady(); last = m; return ok }); err != nil {
		t.Fatalf("members never all reached serving=%v: %v (last modes: %v)", serving, err, last)
	}
	for range 5 {
		time.Sleep(600 * time.Millisecond)
		if got, ok := steady(); !ok {
			t.Fatalf("serving=%v did not last: modes %v", serving, got)
		}
	}
}

// TestReconfigAndPartition shares one ensemble, prepared for dynamic
// reconfiguration and (when possible here) inside its own network
// namespace, between growing it, shrinking it and partitioning it.
func TestReconfigAndPartition(t *testing.T) {
	nsErr := NetNSSupported()
	c := StartT(t, Options{Voters: 3, Reconfig: true, NetNS: nsErr == nil})
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	t.Run("AddVoters", func(t *testing.T) { testAddVoters(ctx, t, c) })
	t.Run("RemoveVoters", func(t *testing.T) { testRemoveVoters(ctx, t, c) })
	t.Run("Partition", func(t *testing.T) {
		if nsErr != nil {
			t.Skipf("no network namespace for a partition: %v", nsErr)
		}
		testPartition(t, c)
	})
}

// testAddVoters grows 3 voters to 5.
func testAddVoters(ctx context.Context, t *testing.T, c *Cluster) {
	added, err := c.AddVoters(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(added) != 2 || added[0].ID != 4 || added[1].ID != 5 {
		t.Fatalf("added %v, want members 4 and 5", added)
	}
	leader := c.LeaderT(t)
	checkParticipants(t, leader, []int{1, 2, 3, 4, 5})
	mntr, err := leader.FourLetterWord(ctx, "mntr")
	if err != nil || !strings.Contains(string(mntr), "zk_quorum_size\t5\n") {
		t.Errorf("leader mntr lacks zk_quorum_size 5 (%v):\n%s", err, mntr)
	}
	for _, m := range added {
		if mode, err := m.Mode(ctx); mode != ModeFollower && mode != ModeLeader {
			t.Errorf("new member %d: mode %q, %v", m.ID, mode, err)
		}
	}
}

// testRemoveVoters shrinks 5 voters back to 3; the removed ones keep
// running and still call themselves followers.
func testRemoveVoters(ctx context.Context, t *testing.T, c *Cluster) {
	if err := c.RemoveVoters(ctx, 4, 5); err != nil {
		t.Fatal(err)
	}
	checkParticipants(t, c.LeaderT(t), []int{1, 2, 3})
	for _, id := range []int{4, 5} {
		if mode, err := c.Mode(ctx, id); mode != ModeFollower {
			t.Errorf("removed member %d: mode %q, %v; want follower", id, mode, err)
		}
	}
	b, err := os.ReadFile(c.ZooCfgPath())
	if err != nil || strings.Count(string(b), "server.") != 3 {
		t.Errorf("ZooCfgPath should still list the 3 first members (%v):\n%s", err, b)
	}
}

// testPartition blocks the peer ports and kills the leader: an election
// that cannot finish, every member answering but none serving, until the
// ports open again.
func testPartition(t *testing.T, c *Cluster) {
	checkNamespaced(t, c)
	if err := c.BlockPeers(); err != nil {
		t.Fatal(err)
	}
	leader := c.LeaderT(t)
	if err := c.Kill(leader.ID); err != nil {
		t.Fatal(err)
	}
	waitSteady(t, c, running(c), false)
	if err := c.UnblockPeers(); err != nil {
		t.Fatal(err)
	}
	c.LeaderT(t)
	waitServing(t, c)
}

// TestNeedsOption checks that reconfiguration and partitions refuse to run
// on an ensemble not started for them, rather than touch the host.
func TestNeedsOption(t *testing.T) {
	c := &Cluster{opts: Options{Voters: 3}}
	for name, f := range map[string]func() error{
		"AddVoters":    func() error { _, err := c.AddVoters(t.Context(), 1); return err },
		"RemoveVoters": func() error { return c.RemoveVoters(t.Context(), 1) },
		"BlockPeers":   c.BlockPeers,
		"UnblockPeers": c.UnblockPeers,
	} {
		if err := f(); err == nil {
			t.Errorf("%s on a plain ensemble succeeded", name)
		}
	}
	grouped := &Cluster{opts: Options{Voters: 3, Reconfig: true, Groups: [][]int{{1, 2, 3}}}}
	if _, err := grouped.AddVoters(t.Context(), 1); !errors.Is(err, errHierarchicalAdd) {
		t.Errorf("AddVoters with groups: %v", err)
	}
}

func checkParticipants(t *testing.T, m *Member, want []int) {
	t.Helper()
	ms, err := m.Membership(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ms.Participants, want) {
		t.Errorf("conf on member %d lists participants %v, want %v", m.ID, ms.Participants, want)
	}
}

// checkNamespaced checks that the members listen inside the namespace
// only: Exec sees their client ports, the host does not reach them.
func checkNamespaced(t *testing.T, c *Cluster) {
	t.Helper()
	m := c.Member(1)
	out, err := c.Exec("ss", "-Htln").CombinedOutput()
	if err != nil || !strings.Contains(string(out), m.ClientAddr+" ") {
		t.Errorf("ss -tln in %s (%v) lacks %s:\n%s", c.NetNS(), err, m.ClientAddr, out)
	}
	if b, err := FourLetterWord(t.Context(), m.ClientAddr, "ruok"); string(b) == "imok" {
		t.Errorf("member 1 answered ruok from outside the namespace (%v)", err)
	}
	// Signals (Kill, Freeze) must reach the JVM, not a wrapper.
	if comm, err := os.ReadFile("/proc/" + strconv.Itoa(m.PID()) + "/comm"); string(comm) != "java\n" {
		t.Errorf("member 1's PID runs %q (%v), want java", comm, err)
	}
	addr, err := c.FreeAddress()
	if err != nil {
		t.Fatal(err)
	}
	if conn, err := c.DialContext(t.Context(), "tcp", addr); err == nil {
		conn.Close()
		t.Errorf("FreeAddress %s accepted a connection", addr)
	}
}

func TestParseMembership(t *testing.T) {
	const head = "clientPort=35077\nserverId=3\nelectionPort=36709\npeerType=0\nmembership: \n"
	for _, tc := range []struct {
		name, in     string
		participants []int
		observers    []int
		version      string
		wantErr      bool
	}{
		{"Dynamic", head + "server.3=127.0.0.1:40441:36709:participant;127.0.0.1:35077\n" +
			"server.2=127.0.0.1:44329:43909:participant;127.0.0.1:46035\n" +
			"server.4=127.0.0.1:1:2:observer;127.0.0.1:3\nversion=100000002\n",
			[]int{2, 3}, []int{4}, "100000002", false},
		{"Static", head + "server.1=127.0.0.1:1:2;127.0.0.1:3\nserver.2=127.0.0.1:4:5:observer;6\nversion=0\n",
			[]int{1}, []int{2}, "0", false},
		{"MultiAddress", head + "server.1=h1:1:2|h2:1:2:participant;3\n", []int{1}, nil, "", false},
		{"NotServing", notServingText + "\n", nil, nil, "", true},
		{"NotWhitelisted", "conf is not executed because it is not in the whitelist.\n", nil, nil, "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ms, err := parseMembership([]byte(tc.in))
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			if !slices.Equal(ms.Participants, tc.participants) || !slices.Equal(ms.Observers, tc.observers) || ms.Version != tc.version {
				t.Errorf("got participants %v observers %v version %q, want %v %v %q",
					ms.Participants, ms.Observers, ms.Version, tc.participants, tc.observers, tc.version)
			}
			for _, id := range append(slices.Clone(tc.participants), tc.observers...) {
				if !strings.HasPrefix(ms.Servers[id], "server."+strconv.Itoa(id)+"=") {
					t.Errorf("Servers[%d] = %q", id, ms.Servers[id])
				}
			}
		})
	}
}

// TestWriteConfigVariants checks the files written for hierarchical
// quorums and for dynamic reconfiguration, and the exporter's zoo.cfg.
func TestWriteConfigVariants(t *testing.T) {
	for _, tc := range []struct {
		name        string
		opts        Options
		memberWants []string // in member 1's zoo.cfg
		memberNot   []string
		dynamic     []string // in member 1's dynamic file
		zooCfg      []string // in ZooCfgPath
	}{
		{
			name:        "Hierarchical",
			opts:        Options{Voters: 4, Groups: [][]int{{1, 2}, {3, 4}}, Weights: map[int]int{4: 0, 1: 2}},
			memberWants: []string{"group.1=1:2\n", "group.2=3:4\n", "weight.1=2\nweight.4=0\n", "server.4=127.0.0.1:42:43;127.0.0.1:40\n"},
			memberNot:   []string{"dynamicConfigFile", "reconfigEnabled"},
			zooCfg:      []string{"server.1=127.0.0.1:12:13;127.0.0.1:10\n", "group.2=3:4\n", "weight.4=0\n"},
		},
		{
			// 3.4 rejects a client address in server.N, has no
			// AdminServer and no standaloneEnabled; the exporter's
			// zoo.cfg still names every client address.
			name:        "Release34",
			opts:        Options{Voters: 2, Observers: 1, Release: "3.4.14"},
			memberWants: []string{"server.1=127.0.0.1:12:13\n", "server.3=127.0.0.1:32:33:observer\n", "clientPort=10\n"},
			memberNot:   []string{";127.0.0.1", "admin.", "standaloneEnabled", "reconfigEnabled"},
			zooCfg:      []string{"server.1=127.0.0.1:12:13;127.0.0.1:10\n", "server.3=127.0.0.1:32:33:observer;127.0.0.1:30\n"},
		},
		{
			// A member on 3.4 makes the whole ensemble's membership
			// 3.4's; a newer member keeps its AdminServer.
			name:        "MixedWith34",
			opts:        Options{Voters: 2, Release: "3.5.10", MemberReleases: map[int]string{2: "3.4.14"}},
			memberWants: []string{"server.2=127.0.0.1:22:23\n", "admin.serverPort=11\n", "standaloneEnabled=false\n"},
			memberNot:   []string{";127.0.0.1"},
			zooCfg:      []string{"server.2=127.0.0.1:22:23;127.0.0.1:20\n"},
		},
		{
			name:        "Reconfig",
			opts:        Options{Voters: 2, Observers: 1, Reconfig: true},
			memberWants: []string{"reconfigEnabled=true\n", "standaloneEnabled=false\n", "dynamicConfigFile="},
			memberNot:   []string{"clientPort=", "server.1="},
			dynamic:     []string{"server.1=127.0.0.1:12:13:participant;127.0.0.1:10\n", "server.3=127.0.0.1:32:33:observer;127.0.0.1:30\n"},
			zooCfg:      []string{"server.1=127.0.0.1:12:13;127.0.0.1:10\n", "server.3=127.0.0.1:32:33:observer;127.0.0.1:30\n"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := writeTestCluster(t, tc.opts)
			m := c.members[0]
			expectFile(t, m.ConfigPath, tc.memberWants, tc.memberNot)
			if tc.dynamic != nil {
				expectFile(t, m.DynamicConfigPath, tc.dynamic, nil)
			}
			expectFile(t, c.ZooCfgPath(), tc.zooCfg, []string{"participant", "dataDir"})
		})
	}
}

// writeTestCluster writes the configuration files of a cluster with fixed
// ports (member N: N0..N3) without starting anything.
func writeTestCluster(t *testing.T, o Options) *Cluster {
	t.Helper()
	opts, err := o.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	c := &Cluster{opts: opts, baseDir: t.TempDir()}
	for id := 1; id <= opts.Voters+opts.Observers; id++ {
		c.members = append(c.members, c.newMember(id, id > opts.Voters, []int{id * 10, id*10 + 1, id*10 + 2, id*10 + 3}))
	}
	for _, m := range c.members {
		if err := c.writeConfig(m, c.membershipLines(c.members, opts.Reconfig)); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.writeZooCfg(); err != nil {
		t.Fatal(err)
	}
	return c
}

func expectFile(t *testing.T, path string, want, not []string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range want {
		if !strings.Contains(string(b), w) {
			t.Errorf("%s lacks %q:\n%s", filepath.Base(path), w, b)
		}
	}
	for _, n := range not {
		if strings.Contains(string(b), n) {
			t.Errorf("%s has %q:\n%s", filepath.Base(path), n, b)
		}
	}
}

// TestPartitionSide cuts the leader of 3 voters off from the two others,
// each running as its own user: the two elect a new leader and serve, the
// old one (reachable on its client port) stops serving; healed, it follows.
func TestPartitionSide(t *testing.T) {
	if err := NetNSSupported(); err != nil {
		t.Skip(err)
	}
	c := StartT(t, Options{Voters: 3, NetNS: true, SeparateUsers: true})
	old := c.LeaderT(t)
	if status, err := os.ReadFile("/proc/" + strconv.Itoa(old.PID()) + "/status"); err != nil ||
		!strings.Contains(string(status), "\nUid:\t"+strconv.Itoa(old.UID())+"\t") {
		t.Errorf("member %d does not run as uid %d (%v):\n%s", old.ID, old.UID(), err, status)
	}
	checkNamespaced(t, c)
	if err := c.Partition(old.ID); err != nil {
		t.Fatal(err)
	}
	var rest []*Member
	for _, m := range c.Members() {
		if m.ID != old.ID {
			rest = append(rest, m)
		}
	}
	// The followers serve the old leader until syncLimit passes.
	waitSteady(t, c, []*Member{old}, false)
	waitSteady(t, c, rest, true)
	if leader := c.LeaderT(t); leader.ID == old.ID {
		t.Fatalf("member %d still leads cut off from the others", old.ID)
	}
	if err := c.UnblockPeers(); err != nil {
		t.Fatal(err)
	}
	waitSteady(t, c, c.Members(), true)
	if err := c.Partition(); err == nil {
		t.Error("Partition with an empty side succeeded")
	}
}
