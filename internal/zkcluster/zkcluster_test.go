package zkcluster

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
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
			ID: id, Observer: id == 3, Dir: dir,
			ConfigPath: filepath.Join(dir, "zoo.cfg"), DataDir: filepath.Join(dir, "data"),
			ports: memberPorts{id * 10, id*10 + 1, id*10 + 2, id*10 + 3},
		})
	}
	cfg := map[int]string{}
	for _, m := range c.members {
		if err := c.writeConfig(m); err != nil {
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
