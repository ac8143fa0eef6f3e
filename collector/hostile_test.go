package collector

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"go.uber.org/goleak"

	"github.com/quorumwatch/zookeeper_exporter/config"
	"github.com/quorumwatch/zookeeper_exporter/zk"
)

// These tests put the real four-letter-word client (collector.New builds a
// zk.Client) in front of TCP servers on loopback that misbehave in ways no
// real ZooKeeper can be made to: they are fakes, named fakeMember*. The one
// healthy member replays answers captured from a real 3.8 leader.

// fakeMemberServer is a loopback TCP server; handle gets each connection
// once the four-letter word has been read.
type fakeMemberServer struct {
	listener net.Listener
	handlers sync.WaitGroup
	mu       sync.Mutex
	conns    map[net.Conn]bool
}

func startFakeMember(t *testing.T, handle func(conn net.Conn, word string)) *fakeMemberServer {
	t.Helper()
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	server := &fakeMemberServer{listener: listener, conns: map[net.Conn]bool{}}
	server.handlers.Add(1)
	go func() {
		defer server.handlers.Done()
		for {
			conn, err := listener.Accept()
			if err != nil {
				return
			}
			server.mu.Lock()
			server.conns[conn] = true
			server.mu.Unlock()
			server.handlers.Add(1)
			go func() {
				defer server.handlers.Done()
				defer func() {
					server.mu.Lock()
					delete(server.conns, conn)
					server.mu.Unlock()
					conn.Close()
				}()
				word := make([]byte, 4)
				if _, err := io.ReadFull(conn, word); err != nil {
					return
				}
				handle(conn, string(word))
			}()
		}
	}()
	return server
}

func (s *fakeMemberServer) address() string { return s.listener.Addr().String() }

// stop closes the listener and any connection still open, and waits for
// every handler to return.
func (s *fakeMemberServer) stop() {
	s.listener.Close()
	s.mu.Lock()
	for conn := range s.conns {
		conn.Close()
	}
	s.mu.Unlock()
	s.handlers.Wait()
}

// replayMemberLeader answers srvr, mntr and conf with the bytes a real 3.8
// leader sent (zk/testdata/leader), and mntrOverride instead of its mntr when
// set.
func replayMemberLeader(t *testing.T, mntrOverride []byte) func(net.Conn, string) {
	t.Helper()
	answers := map[string][]byte{}
	for _, word := range []string{"srvr", "mntr", "conf"} {
		answers[word] = captured(t, "leader", word)
	}
	if mntrOverride != nil {
		answers["mntr"] = mntrOverride
	}
	return func(conn net.Conn, word string) { _, _ = conn.Write(answers[word]) }
}

func captured(t *testing.T, state, word string) []byte {
	t.Helper()
	answer, err := os.ReadFile(filepath.Join("..", "zk", "testdata", state, word))
	if err != nil {
		t.Fatal(err)
	}
	return answer
}

// fakeMemberSilent accepts, reads the word, and never answers; it returns
// when the prober hangs up.
func fakeMemberSilent(conn net.Conn, _ string) { _, _ = io.Copy(io.Discard, conn) }

// fakeMemberTrickle answers one byte every 50ms, forever: each read gets
// something, so only an overall deadline stops the prober.
func fakeMemberTrickle(conn net.Conn, _ string) {
	for {
		if _, err := conn.Write([]byte("Z")); err != nil {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// fakeMemberFlood streams up to 100 MB, and counts what it could write
// before the prober hung up.
func fakeMemberFlood(written *atomic.Int64) func(net.Conn, string) {
	return func(conn net.Conn, _ string) {
		chunk := bytes.Repeat([]byte("zk_flood\t1\n"), 6<<10)
		for written.Load() < 100<<20 {
			n, err := conn.Write(chunk)
			written.Add(int64(n))
			if err != nil {
				return
			}
		}
	}
}

// fakeMemberGarbage answers 4 KiB of random bytes.
func fakeMemberGarbage(conn net.Conn, _ string) {
	garbage := make([]byte, 4<<10)
	random := rand.New(rand.NewPCG(1, 2))
	for i := range garbage {
		garbage[i] = byte(random.Uint32())
	}
	_, _ = conn.Write(garbage)
}

// fakeMemberHalfAnswer sends the first half of a real srvr answer and closes.
func fakeMemberHalfAnswer(t *testing.T) func(net.Conn, string) {
	srvr := captured(t, "leader", "srvr")
	return func(conn net.Conn, _ string) { _, _ = conn.Write(srvr[:len(srvr)/2]) }
}

// fakeMemberHTTP answers as an HTTP server does to a request it cannot
// read: the member address points at an AdminServer or a proxy.
func fakeMemberHTTP(conn net.Conn, _ string) {
	_, _ = io.WriteString(conn, "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n400 Bad Request")
}

// fakeMemberReset resets the connection (RST, not FIN) once it has the word.
func fakeMemberReset(conn net.Conn, _ string) {
	_ = conn.(*net.TCPConn).SetLinger(0)
	conn.Close()
}

// fakeMemberBadVersion answers a real srvr whose version is not UTF-8: as a
// label value it would make client_golang panic.
func fakeMemberBadVersion(t *testing.T) func(net.Conn, string) {
	srvr := bytes.Replace(captured(t, "leader", "srvr"), []byte("3.8.0"), []byte("3.8.\xff"), 1)
	return func(conn net.Conn, _ string) { _, _ = conn.Write(srvr) }
}

// hostileMember is one member of the hostile ensemble and what its probe
// must end with.
type hostileMember struct {
	name   string
	handle func(net.Conn, string)
	reason string
}

func TestHostileMembers(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())

	const memberTimeout = 500 * time.Millisecond
	var flooded atomic.Int64
	members := []hostileMember{
		{"silent", fakeMemberSilent, zk.ReasonTimeout},
		{"one byte every 50ms", fakeMemberTrickle, zk.ReasonTimeout},
		{"100 MB answer", fakeMemberFlood(&flooded), zk.ReasonAnswerTooLarge},
		{"binary garbage", fakeMemberGarbage, zk.ReasonUnparsable},
		{"half an answer, then close", fakeMemberHalfAnswer(t), zk.ReasonUnparsable},
		{"HTTP 400", fakeMemberHTTP, zk.ReasonUnparsable},
		{"connection reset", fakeMemberReset, zk.ReasonReset},
		{"version not UTF-8", fakeMemberBadVersion(t), zk.ReasonUnparsable},
	}
	healthy := startFakeMember(t, replayMemberLeader(t, nil))
	servers := []*fakeMemberServer{healthy}
	stopAll := func() {
		for _, server := range servers {
			server.stop()
		}
	}
	defer stopAll()
	addresses := healthy.address()
	for _, member := range members {
		server := startFakeMember(t, member.handle)
		servers = append(servers, server)
		addresses += "," + server.address()
	}
	cfg, err := config.FromServers("hostile", addresses)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Timeout = memberTimeout
	exporter := newTestExporter(t, cfg, &zk.Client{})

	// A scrape with a deadline far beyond the member timeout: each member
	// must end on its own timeout, and the scrape by its deadline.
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	ctx, cancel := context.WithTimeout(context.Background(), 20*memberTimeout)
	defer cancel()
	families := scrapeHostile(t, ctx, exporter)
	if ctx.Err() != nil {
		t.Fatalf("the scrape ran into its deadline: %v", ctx.Err())
	}
	runtime.ReadMemStats(&after)

	// The 100 MB member cost at most the client's 1 MiB cap (twice, for the
	// buffer's growth), not 100 MB: everything the scrape allocated, garbage
	// included, stays well below.
	allocated := after.TotalAlloc - before.TotalAlloc
	t.Logf("the scrape allocated %d KiB", allocated>>10)
	if allocated > 32<<20 {
		t.Errorf("the scrape allocated %d MiB; the 100 MB answer was not capped", allocated>>20)
	}
	if flooded.Load() >= 100<<20 {
		t.Errorf("the prober read the whole 100 MB answer instead of hanging up")
	}

	healthyLabels := map[string]string{"member": healthy.address()}
	if up, _ := hostileValue(families, "zookeeper_up", healthyLabels); up != 1 {
		t.Errorf("the healthy member: up %v, want 1", up)
	}
	if leader, _ := hostileValue(families, "zookeeper_server_mode", map[string]string{"member": healthy.address(), "mode": "leader"}); leader != 1 {
		t.Errorf("the healthy member is not mode leader")
	}
	if _, ok := hostileValue(families, "zookeeper_watches", healthyLabels); !ok {
		t.Errorf("the healthy member lost its mntr metrics")
	}
	for i, member := range members {
		address := servers[i+1].address()
		t.Run(member.name, func(t *testing.T) {
			labels := map[string]string{"member": address}
			errors, _ := hostileValue(families, "zookeeper_exporter_probe_errors_total", map[string]string{"member": address, "reason": member.reason})
			if errors < 1 {
				t.Errorf("no probe error with reason %q; errors: %v", member.reason, hostileSeries(families, "zookeeper_exporter_probe_errors_total", labels))
			}
			if duration, _ := hostileValue(families, "zookeeper_probe_duration_seconds", labels); duration >= (10 * memberTimeout).Seconds() {
				t.Errorf("the probe took %vs: it ended by the scrape's deadline, not the member's timeout", duration)
			}
			up, ok := hostileValue(families, "zookeeper_up", labels)
			if !ok || up != 0 {
				t.Errorf("zookeeper_up = %v (present %v), want 0", up, ok)
			}
		})
	}
	stopAll()
	servers = nil
}

// TestGarbageMntr: a member whose srvr is right and whose mntr is garbage
// stays up with its srvr metrics; the mntr-only ones are absent, and the
// error is counted as unparsable.
func TestGarbageMntr(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	tests := []struct {
		name string
		mntr []byte
	}{
		{"binary", []byte("\x00\x01\xfe\xff zk_watch_count 3\n")},
		{"HTTP", []byte("HTTP/1.1 400 Bad Request\r\n\r\n")},
		{"half an answer", captured(t, "leader", "mntr")[:40]},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			member := startFakeMember(t, replayMemberLeader(t, test.mntr))
			defer member.stop()
			cfg, err := config.FromServers("garbage", member.address())
			if err != nil {
				t.Fatal(err)
			}
			cfg.Timeout = time.Second
			exporter := newTestExporter(t, cfg, &zk.Client{})
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			families := scrapeHostile(t, ctx, exporter)
			labels := map[string]string{"member": member.address()}
			if up, _ := hostileValue(families, "zookeeper_up", labels); up != 1 {
				t.Errorf("up = %v, want 1: srvr answered", up)
			}
			if _, ok := hostileValue(families, "zookeeper_zxid_epoch", labels); !ok {
				t.Error("the srvr metrics are missing")
			}
			for _, name := range []string{"zookeeper_watches", "zookeeper_ephemerals", "zookeeper_open_file_descriptors", "zookeeper_leader_synced_followers"} {
				if value, ok := hostileValue(families, name, labels); ok {
					t.Errorf("%s = %v from a garbage mntr", name, value)
				}
			}
			if errors, _ := hostileValue(families, "zookeeper_exporter_probe_errors_total", map[string]string{"member": member.address(), "reason": zk.ReasonUnparsable}); errors != 1 {
				t.Errorf("unparsable_answer errors = %v, want 1", errors)
			}
		})
	}
}

// TestHostileAdminServer: a member whose whitelist refuses mntr falls back
// to its AdminServer; an AdminServer that misbehaves costs that member its
// mntr metrics and a counted reason, nothing more. Above all, a redirect
// is not followed: the exporter talks to the addresses it was configured
// with, never to one a member names.
func TestHostileAdminServer(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	var reached atomic.Int64
	bystander := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		reached.Add(1)
		_, _ = w.Write(captured(t, "leader", "admin_monitor.json"))
	}))
	defer bystander.Close()
	tests := []struct {
		name   string
		handle http.HandlerFunc
		reason string
	}{
		{"redirect elsewhere", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, bystander.URL+"/commands/monitor", http.StatusFound)
		}, zk.ReasonHTTP},
		{"100 MB answer", func(w http.ResponseWriter, _ *http.Request) {
			chunk := bytes.Repeat([]byte(`{"x":1}`), 8<<10)
			for written := 0; written < 100<<20; written += len(chunk) {
				if _, err := w.Write(chunk); err != nil {
					return
				}
			}
		}, zk.ReasonAnswerTooLarge},
		{"one byte every 50ms", func(w http.ResponseWriter, r *http.Request) {
			for r.Context().Err() == nil {
				if _, err := w.Write([]byte(" ")); err != nil {
					return
				}
				w.(http.Flusher).Flush()
				time.Sleep(50 * time.Millisecond)
			}
		}, zk.ReasonTimeout},
		{"not JSON", func(w http.ResponseWriter, _ *http.Request) {
			_, _ = w.Write([]byte("<html>maintenance</html>"))
		}, zk.ReasonUnparsable},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			admin := httptest.NewServer(test.handle)
			defer admin.Close()
			member := startFakeMember(t, replayMemberLeader(t, captured(t, "not_whitelisted", "mntr")))
			defer member.stop()
			cfg, err := config.Parse("hostile.yml", []byte(fmt.Sprintf(
				"timeout: 500ms\nensembles:\n  - name: admin\n    members:\n      - {address: %q, admin_url: %q}\n",
				member.address(), admin.URL+"/commands")))
			if err != nil {
				t.Fatal(err)
			}
			exporter := newTestExporter(t, cfg, &zk.Client{})
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			families := scrapeHostile(t, ctx, exporter)
			labels := map[string]string{"member": member.address()}
			if up, _ := hostileValue(families, "zookeeper_up", labels); up != 1 {
				t.Errorf("up = %v, want 1: srvr answered", up)
			}
			if value, ok := hostileValue(families, "zookeeper_watches", labels); ok {
				t.Errorf("zookeeper_watches = %v from a misbehaving AdminServer", value)
			}
			if errors, _ := hostileValue(families, "zookeeper_exporter_probe_errors_total", map[string]string{"member": member.address(), "reason": test.reason}); errors < 1 {
				t.Errorf("no %s error; errors: %v", test.reason, hostileSeries(families, "zookeeper_exporter_probe_errors_total", labels))
			}
			if n := reached.Load(); n != 0 {
				t.Errorf("the exporter followed the AdminServer elsewhere (%d requests)", n)
			}
			// Idle keep-alive connections would outlive the test.
			http.DefaultTransport.(*http.Transport).CloseIdleConnections()
		})
	}
}

// scrapeHostile scrapes exporter, then gathers its own counters, which the
// scrape has bumped by then (main.go orders them the same way).
func scrapeHostile(t *testing.T, ctx context.Context, exporter testExporter) []*dto.MetricFamily {
	t.Helper()
	families := gatherHostile(t, exporter.Collector(ctx))
	return append(families, gatherHostile(t, exporter.SelfCollectors()...)...)
}

// gatherHostile collects cs through a pedantic registry: a label value that
// is not UTF-8, or an inconsistent metric, fails the test here.
func gatherHostile(t *testing.T, cs ...prometheus.Collector) []*dto.MetricFamily {
	t.Helper()
	registry := prometheus.NewPedanticRegistry()
	registry.MustRegister(cs...)
	families, err := registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	return families
}

// hostileValue returns the value of the one series of name whose labels
// include want.
func hostileValue(families []*dto.MetricFamily, name string, want map[string]string) (float64, bool) {
	for _, metric := range hostileSeries(families, name, want) {
		switch {
		case metric.Gauge != nil:
			return metric.Gauge.GetValue(), true
		case metric.Counter != nil:
			return metric.Counter.GetValue(), true
		}
	}
	return 0, false
}

func hostileSeries(families []*dto.MetricFamily, name string, want map[string]string) []*dto.Metric {
	var found []*dto.Metric
	for _, family := range families {
		if family.GetName() != name {
			continue
		}
	metrics:
		for _, metric := range family.Metric {
			have := map[string]string{}
			for _, pair := range metric.Label {
				have[pair.GetName()] = pair.GetValue()
			}
			for key, value := range want {
				if have[key] != value {
					continue metrics
				}
			}
			found = append(found, metric)
		}
	}
	return found
}
