package collector

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/quorumwatch/zookeeper_exporter/config"
	"github.com/quorumwatch/zookeeper_exporter/internal/zktest"
)

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
	client := &zktest.ScriptedClient{States: map[string]string{"a:1": "leader", "b:1": "follower", "c:1": "follower#3"}, Gate: make(chan struct{})}
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
	for selfCounter(t, exporter, "zookeeper_exporter_probe_rounds_shared_total", "test") < scrapes-1 {
		time.Sleep(time.Millisecond)
	}
	close(client.Gate)
	wg.Wait()
	if rounds := selfCounter(t, exporter, "zookeeper_exporter_probe_rounds_total", "test"); rounds != 1 {
		t.Errorf("%d scrapes ran %v probe rounds, want 1", scrapes, rounds)
	}
	// One round: srvr and mntr to each of three members, conf to the
	// leader for the ensemble's membership, conf to the two followers,
	// whose addresses the membership does not list, for their server ids,
	// then srvr and mntr to the observer only the membership lists.
	if calls := client.Calls.Load(); calls != 11 {
		t.Errorf("members were sent %d words, want 11", calls)
	}
}

func TestHangingMemberDoesNotHoldTheScrape(t *testing.T) {
	cfg := mustServers(t, "a:1,b:1,c:1")
	client := &zktest.ScriptedClient{States: map[string]string{"a:1": "leader", "b:1": "follower", "c:1": "follower"}, Gate: make(chan struct{})}
	exporter := newTestExporter(t, cfg, client)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	// Every member hangs: the scrape still ends by its deadline with every
	// member down, rather than never.
	got := testutil.ToFloat64(gaugeFrom(t, exporter.Collector(ctx), "zookeeper_ensemble_voters_up"))
	if got != 0 {
		t.Errorf("voters_up = %v, want 0", got)
	}
	close(client.Gate)
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
			exporter := newTestExporter(t, mustServers(t, test.servers), &zktest.ScriptedClient{States: test.states})
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

// withoutDurations drops the probe duration and the membership's age, the
// values a golden file cannot pin.
type withoutDurations struct{ prometheus.Collector }

func (w withoutDurations) Collect(ch chan<- prometheus.Metric) {
	all := make(chan prometheus.Metric)
	go func() { w.Collector.Collect(all); close(all) }()
	for metric := range all {
		if desc := metric.Desc().String(); !strings.Contains(desc, "probe_duration_seconds") && !strings.Contains(desc, "voter_set_age_seconds") {
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
