package collector

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/promslog"

	"github.com/quorumwatch/zookeeper_exporter/config"
	"github.com/quorumwatch/zookeeper_exporter/zk"
)

// scriptedClient answers each member with files captured from real
// ZooKeeper 3.8 members (zk/testdata/<state>/<word>), so the collector can be
// tested without a JVM. A member scripted as "" is down.
type scriptedClient struct {
	states map[string]string // address -> testdata state directory
	calls  atomic.Int64
	gate   chan struct{} // when set, every word waits for it
}

func (c *scriptedClient) Command(ctx context.Context, address, word string) ([]byte, error) {
	c.calls.Add(1)
	if c.gate != nil {
		select {
		case <-c.gate:
		case <-ctx.Done():
			return nil, &zk.Error{Word: word, Address: address, Reason: zk.ReasonTimeout, Err: ctx.Err()}
		}
	}
	state := c.states[address]
	if state == "" {
		return nil, &zk.Error{Word: word, Address: address, Reason: zk.ReasonRefused, Err: os.ErrNotExist}
	}
	// "follower#3" is the captured follower speaking as server 3: one real
	// capture stands in for both followers of a 3-voter ensemble.
	state, serverID, renumbered := strings.Cut(state, "#")
	answer, err := os.ReadFile(filepath.Join("..", "zk", "testdata", state, word))
	if err != nil {
		return nil, &zk.Error{Word: word, Address: address, Reason: zk.ReasonOther, Err: err}
	}
	if renumbered && word == "conf" {
		answer = regexp.MustCompile(`serverId=\d+`).ReplaceAll(answer, []byte("serverId="+serverID))
	}
	if err := zk.Special(word, answer); err != nil {
		return nil, &zk.Error{Word: word, Address: address, Reason: zk.Reason(err), Err: err}
	}
	return answer, nil
}

func newTestExporter(t *testing.T, cfg *config.Config, client wordClient) *Exporter {
	t.Helper()
	exporter := &Exporter{
		logger:     promslog.NewNopLogger(),
		self:       newSelfMetrics(),
		probeSlots: make(chan struct{}, DefaultMaxConcurrentProbes),
		newClient:  func(*config.Ensemble) (wordClient, error) { return client, nil },
		ensembles:  map[string]*ensembleState{},
	}
	if err := exporter.SetConfig(cfg); err != nil {
		t.Fatal(err)
	}
	return exporter
}

func mustServers(t *testing.T, servers string) *config.Config {
	t.Helper()
	cfg, err := config.FromServers("test", servers)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestConcurrentScrapesShareOneRound(t *testing.T) {
	cfg := mustServers(t, "a:1,b:1,c:1")
	client := &scriptedClient{states: map[string]string{"a:1": "leader", "b:1": "follower", "c:1": "follower"}, gate: make(chan struct{})}
	exporter := newTestExporter(t, cfg, client)

	const scrapes = 10
	var wg sync.WaitGroup
	for range scrapes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if n := testutil.CollectAndCount(exporter.Collector(ctx)); n == 0 {
				t.Error("a scrape collected nothing")
			}
		}()
	}
	// Let every scrape arrive while the first round waits at the gate.
	for exporter.self.sharedRounds.WithLabelValues("test"); testutil.ToFloat64(exporter.self.sharedRounds.WithLabelValues("test")) < scrapes-1; {
		time.Sleep(time.Millisecond)
	}
	close(client.gate)
	wg.Wait()
	if rounds := testutil.ToFloat64(exporter.self.probeRounds.WithLabelValues("test")); rounds != 1 {
		t.Errorf("%d scrapes ran %v probe rounds, want 1", scrapes, rounds)
	}
	// One round: srvr, mntr and conf to each of three members.
	if calls := client.calls.Load(); calls != 9 {
		t.Errorf("members were sent %d words, want 9", calls)
	}
}

func TestHangingMemberDoesNotHoldTheScrape(t *testing.T) {
	cfg := mustServers(t, "a:1,b:1,c:1")
	client := &scriptedClient{states: map[string]string{"a:1": "leader", "b:1": "follower", "c:1": "follower"}, gate: make(chan struct{})}
	exporter := newTestExporter(t, cfg, client)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	// Every member hangs: the scrape still ends by its deadline with every
	// member down, rather than never.
	got := testutil.ToFloat64(gaugeFrom(t, exporter.Collector(ctx), "zookeeper_ensemble_voters_up"))
	if got != 0 {
		t.Errorf("voters_up = %v, want 0", got)
	}
	close(client.gate)
}

// gaugeFrom collects c and returns the one metric named name as a collector.
func gaugeFrom(t *testing.T, c prometheus.Collector, name string) prometheus.Collector {
	t.Helper()
	registry := prometheus.NewPedanticRegistry()
	registry.MustRegister(c)
	families, err := registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, family := range families {
		if family.GetName() == name {
			if len(family.Metric) != 1 {
				t.Fatalf("%s has %d series", name, len(family.Metric))
			}
			return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: "copy"}, func() float64 { return family.Metric[0].GetGauge().GetValue() })
		}
	}
	t.Fatalf("no %s", name)
	return nil
}

func TestGoldenExposition(t *testing.T) {
	tests := []struct {
		name    string
		servers string
		states  map[string]string
		golden  string
	}{
		{
			name: "healthy 3 voters and an observer",
			// The captured members' own client ports, so conf's membership
			// lines name them.
			servers: "127.0.0.1:44037,127.0.0.1:40615,127.0.0.1:40747,127.0.0.1:37661:observer",
			states:  map[string]string{"127.0.0.1:44037": "follower", "127.0.0.1:40615": "leader", "127.0.0.1:40747": "follower#3", "127.0.0.1:37661": "observer"},
			golden:  "healthy.prom",
		},
		{
			name:    "quorum lost: one survivor not serving",
			servers: "127.0.0.1:1,127.0.0.1:2,127.0.0.1:3",
			states:  map[string]string{"127.0.0.1:1": "not_serving"},
			golden:  "quorum_lost.prom",
		},
		{
			name:    "only srvr whitelisted",
			servers: "127.0.0.1:1",
			states:  map[string]string{"127.0.0.1:1": "not_whitelisted"},
			golden:  "not_whitelisted.prom",
		},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			exporter := newTestExporter(t, mustServers(t, test.servers), &scriptedClient{states: test.states})
			collector := exporter.Collector(context.Background())
			path := filepath.Join("testdata", test.golden)
			if os.Getenv("UPDATE_GOLDEN") != "" {
				writeGolden(t, collector, path)
			}
			golden, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer golden.Close()
			// probe_duration_seconds varies from run to run; everything else is exact.
			if err := testutil.CollectAndCompare(withoutDurations{collector}, golden); err != nil {
				t.Error(err)
			}
		})
	}
}

// withoutDurations drops the probe duration, the one value a golden file
// cannot pin.
type withoutDurations struct{ prometheus.Collector }

func (w withoutDurations) Collect(ch chan<- prometheus.Metric) {
	all := make(chan prometheus.Metric)
	go func() { w.Collector.Collect(all); close(all) }()
	for metric := range all {
		if !strings.Contains(metric.Desc().String(), "probe_duration_seconds") {
			ch <- metric
		}
	}
}

func writeGolden(t *testing.T, c prometheus.Collector, path string) {
	t.Helper()
	registry := prometheus.NewPedanticRegistry()
	registry.MustRegister(withoutDurations{c})
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := prometheus.WriteToTextfile(path, registry); err != nil {
		t.Fatal(err)
	}
}

// scriptedAdmin replays captured AdminServer answers: base URL -> state.
type scriptedAdmin struct{ states map[string]string }

func (a *scriptedAdmin) Command(ctx context.Context, base, command string) ([]byte, error) {
	answer, err := os.ReadFile(filepath.Join("..", "zk", "testdata", a.states[base], "admin_"+command+".json"))
	if err != nil {
		return nil, &zk.Error{Word: "admin " + command, Address: base, Reason: zk.ReasonHTTP, Err: err}
	}
	return answer, nil
}

func TestAdminServerStandsInForRefusedWords(t *testing.T) {
	cfg, err := config.Parse("test.yml", []byte(`
ensembles:
  - name: test
    members:
      - {address: "127.0.0.1:1", admin_url: "http://127.0.0.1:8080/commands"}
`))
	if err != nil {
		t.Fatal(err)
	}
	exporter := newTestExporter(t, cfg, &scriptedClient{states: map[string]string{"127.0.0.1:1": "not_whitelisted"}})
	exporter.admin = &scriptedAdmin{states: map[string]string{"http://127.0.0.1:8080/commands": "not_whitelisted"}}
	for _, state := range exporter.ensembles {
		state.admin = exporter.admin
	}
	result, err := exporter.Probe(context.Background(), "test")
	if err != nil {
		t.Fatal(err)
	}
	member := result.Members[0]
	if member.Mntr == nil {
		t.Fatal("mntr is refused and the AdminServer's monitor did not stand in")
	}
	if _, ok := member.Mntr.Number("zk_watch_count"); !ok {
		t.Error("no watch count from the AdminServer")
	}
	if !member.refused("mntr") || member.Mode != zk.ModeStandalone {
		t.Errorf("mntr refused %v, mode %s", member.refused("mntr"), member.Mode)
	}
}

func TestVoterSetMismatch(t *testing.T) {
	// The observer configured as a voter: the ensemble's own conf disagrees.
	cfg := mustServers(t, "127.0.0.1:44037,127.0.0.1:40615,127.0.0.1:40747,127.0.0.1:37661")
	client := &scriptedClient{states: map[string]string{"127.0.0.1:44037": "follower", "127.0.0.1:40615": "leader", "127.0.0.1:40747": "follower#3", "127.0.0.1:37661": "observer"}}
	result, err := newTestExporter(t, cfg, client).Probe(context.Background(), "test")
	if err != nil {
		t.Fatal(err)
	}
	if result.VoterSetMatches == nil || *result.VoterSetMatches {
		t.Errorf("VoterSetMatches = %v, want false", result.VoterSetMatches)
	}
	if result.ServerIDs["127.0.0.1:37661"] != 4 {
		t.Errorf("server ids %v: the observer's own conf says 4", result.ServerIDs)
	}
}
