package chaos

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/quorumwatch/zookeeper_exporter/internal/zkcluster"
)

// Ground truth, measured on the members without the exporter: what each
// process is (running, frozen, stopped), what each member says of itself on
// its client port, and whether a write commits through it.

// Process states of a member, as the campaign left it.
const (
	procRunning = "running"
	procFrozen  = "frozen"
	procStopped = "stopped"
)

// memberTruth is one member as observed.
type memberTruth struct {
	ID       int
	Observer bool
	Process  string
	Mode     string // zkcluster's Mode, "" without an answer
	Epoch    int64  // the zxid's epoch from srvr, -1 if unknown
	Synced   int    // a leader's zk_synced_followers, -1 elsewhere
	Commits  bool   // a write through it committed (only with writes)
}

// observation is one reading of every member.
type observation struct {
	At      time.Time
	Members []memberTruth
	Writes  bool // writes were tried
}

// key is what must not change between two readings for the ensemble to
// count as settled: processes, modes and the leaders' synced counts.
func (o observation) key() string {
	var b strings.Builder
	for _, m := range o.Members {
		fmt.Fprintf(&b, "%d:%s/%s/%d ", m.ID, m.Process, m.Mode, m.Synced)
	}
	return b.String()
}

// commits reports whether a write committed through any member.
func (o observation) commits() bool {
	for _, m := range o.Members {
		if m.Commits {
			return true
		}
	}
	return false
}

// starting reports whether a running member does not answer yet.
func (o observation) starting() bool {
	for _, m := range o.Members {
		if m.Process == procRunning && m.Mode == "" {
			return true
		}
	}
	return false
}

// serving is the set of voters that say leader or follower.
func (o observation) serving() map[int]bool {
	set := map[int]bool{}
	for _, m := range o.Members {
		if !m.Observer && (m.Mode == zkcluster.ModeLeader || m.Mode == zkcluster.ModeFollower) {
			set[m.ID] = true
		}
	}
	return set
}

// margin is the members' own worst-case margin: the rule's margin over the
// voters serving when a write commits; without one, how many voters must
// come back to the voters that answer at all (at least one).
func (o observation) margin(r rule) int {
	if o.commits() {
		return r.margin(o.serving())
	}
	answering := map[int]bool{}
	for _, m := range o.Members {
		if !m.Observer && m.Mode != "" {
			answering[m.ID] = true
		}
	}
	return min(-1, r.margin(answering))
}

func (o observation) String() string {
	var parts []string
	for _, m := range o.Members {
		state := m.Mode
		switch {
		case m.Process != procRunning:
			state = m.Process
		case state == "":
			state = "silent"
		}
		if m.Commits {
			state += "+w"
		}
		parts = append(parts, fmt.Sprintf("zk%d=%s", m.ID, state))
	}
	s := strings.Join(parts, " ")
	if o.Writes {
		s += fmt.Sprintf(" (writes commit: %v)", o.commits())
	}
	return s
}

// observer reads the members of a cluster.
type observer struct {
	cluster      *zkcluster.Cluster
	probeTimeout time.Duration
	writeTimeout time.Duration
	seq          int64
	mu           sync.Mutex
}

// observe reads every member concurrently; with writes it also tries a
// write through every member that says it serves.
func (ob *observer) observe(ctx context.Context, writes bool) observation {
	members := ob.cluster.Members()
	out := observation{At: time.Now(), Writes: writes, Members: make([]memberTruth, len(members))}
	var wg sync.WaitGroup
	for i, m := range members {
		wg.Go(func() { out.Members[i] = ob.member(ctx, m, writes) })
	}
	wg.Wait()
	return out
}

func (ob *observer) member(ctx context.Context, m *zkcluster.Member, writes bool) memberTruth {
	t := memberTruth{ID: m.ID, Observer: m.Observer, Process: procRunning, Epoch: -1, Synced: -1}
	switch {
	case m.PID() == 0:
		t.Process = procStopped
		return t
	case m.Frozen():
		t.Process = procFrozen
		return t
	}
	ctx, cancel := context.WithTimeout(ctx, ob.probeTimeout)
	defer cancel()
	if mode, err := m.Mode(ctx); err == nil {
		t.Mode = mode
	}
	if b, err := m.FourLetterWord(ctx, "srvr"); err == nil {
		t.Epoch = zxidEpoch(b)
	}
	if t.Mode == zkcluster.ModeLeader {
		if b, err := m.FourLetterWord(ctx, "mntr"); err == nil {
			t.Synced = mntrInt(b, "zk_synced_followers")
		}
	}
	if writes && servingMode(t.Mode) {
		t.Commits = ob.write(m) == nil
	}
	return t
}

func servingMode(mode string) bool {
	switch mode {
	case zkcluster.ModeLeader, zkcluster.ModeFollower, zkcluster.ModeObserver:
		return true
	}
	return false
}

// write creates and deletes a znode through m alone, in a session of its
// own: both commit only with a quorum behind the member.
func (ob *observer) write(m *zkcluster.Member) error {
	ob.mu.Lock()
	ob.seq++
	path := fmt.Sprintf("/chaos-%d-%d", m.ID, ob.seq)
	ob.mu.Unlock()
	dial := func(network, address string, timeout time.Duration) (net.Conn, error) {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		return ob.cluster.DialContext(ctx, network, address)
	}
	conn, events, err := zk.Connect([]string{m.ClientAddr}, 4*time.Second,
		zk.WithDialer(dial), zk.WithLogger(quiet{}), zk.WithMaxConnBufferSize(64<<10))
	if err != nil {
		return err
	}
	// Close waits up to a second for the server; never on the caller.
	defer func() { go conn.Close() }()
	done := make(chan error, 1)
	go func() {
		for ev := range events {
			if ev.State == zk.StateHasSession {
				break
			}
		}
		if _, err := conn.Create(path, []byte("chaos"), 0, zk.WorldACL(zk.PermAll)); err != nil {
			done <- err
			return
		}
		done <- conn.Delete(path, -1)
	}()
	select {
	case err := <-done:
		return err
	case <-time.After(ob.writeTimeout):
		return fmt.Errorf("write through zk%d: no answer in %s", m.ID, ob.writeTimeout)
	}
}

// quiet drops the client's reconnection chatter.
type quiet struct{}

func (quiet) Printf(string, ...any) {}

var _ zk.Logger = quiet{}

// zxidEpoch reads the epoch (high 32 bits) of srvr's Zxid line, -1 if absent.
func zxidEpoch(b []byte) int64 {
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "Zxid: "); ok {
			z, err := strconv.ParseUint(strings.TrimPrefix(strings.TrimSpace(v), "0x"), 16, 64)
			if err != nil {
				return -1
			}
			return int64(z >> 32)
		}
	}
	return -1
}

// mntrInt reads one integer key of a mntr answer, -1 if absent.
func mntrInt(b []byte, key string) int {
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), key+"\t"); ok {
			if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil {
				return n
			}
		}
	}
	return -1
}
