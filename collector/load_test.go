package collector_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/promslog"
	"go.uber.org/goleak"

	"github.com/quorumwatch/zookeeper_exporter/collector"
	"github.com/quorumwatch/zookeeper_exporter/config"
	"github.com/quorumwatch/zookeeper_exporter/ensemble"
	"github.com/quorumwatch/zookeeper_exporter/internal/zkcluster"
)

// TestConcurrentScrapesLeakNothing scrapes one Exporter from 50 goroutines
// at once against a real 3-voter ensemble, a third of the scrapes hanging
// up almost at once, and checks afterwards that no goroutine outlives them:
// not the probe rounds that hung-up scrapers started or joined, not the
// member probes, not the connections to the members. Every scrape ran a
// round or joined one, and every complete scrape saw the healthy margin.
// The binary under the same load is TestLoad in the main package.
func TestConcurrentScrapesLeakNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a real ZooKeeper ensemble")
	}
	cluster := zkcluster.StartT(t, zkcluster.Options{Voters: 3})
	var servers []string
	for _, member := range cluster.Members() {
		servers = append(servers, member.ClientAddr)
	}
	cfg, err := config.FromServers("inproc", strings.Join(servers, ","))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Timeout = 2 * time.Second
	// The cluster's own goroutines (one per member JVM) stay until its
	// cleanup; everything started from here on must be gone at the end.
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())

	registry, err := ensemble.New(cfg, promslog.NewNopLogger(), ensemble.Options{})
	if err != nil {
		t.Fatal(err)
	}
	self := prometheus.NewRegistry()
	self.MustRegister(registry.SelfMetrics().Collectors()...)

	const scrapers, perScraper = 50, 20
	// scrapeAll runs the scrapers; hangUp says which scrapes give up after
	// a millisecond. It returns the complete scrapes and those of them
	// that did not see the healthy margin, with the first problem.
	scrapeAll := func(hangUp func(i, j int) bool) (complete, unhealthy int64, first any) {
		var completeN, unhealthyN atomic.Int64
		var firstProblem atomic.Value
		var wg sync.WaitGroup
		for i := range scrapers {
			wg.Go(func() {
				for j := range perScraper {
					timeout := 10 * time.Second
					if hangUp(i, j) {
						timeout = time.Millisecond
					}
					ctx, cancel := context.WithTimeout(context.Background(), timeout)
					scrape := prometheus.NewRegistry()
					scrape.MustRegister(collector.New(ctx, registry))
					families, err := scrape.Gather()
					cancel()
					if timeout == time.Millisecond {
						continue
					}
					completeN.Add(1)
					if err != nil {
						unhealthyN.Add(1)
						firstProblem.CompareAndSwap(nil, err.Error())
					} else if margin := gaugeOf(families, "zookeeper_ensemble_quorum_margin"); margin != 1 {
						unhealthyN.Add(1)
						firstProblem.CompareAndSwap(nil, fmt.Sprintf("margin %v", margin))
					}
				}
			})
		}
		wg.Wait()
		return completeN.Load(), unhealthyN.Load(), firstProblem.Load()
	}

	complete, unhealthy, first := scrapeAll(func(int, int) bool { return false })
	if unhealthy > 0 {
		t.Errorf("%d of %d concurrent scrapes not healthy; the first: %v", unhealthy, complete, first)
	}
	// A third hang up at once: the rounds they start or join must end by
	// themselves, with nothing left behind.
	completeMixed, unhealthyMixed, firstMixed := scrapeAll(func(i, j int) bool { return (i+j)%3 == 0 })
	if unhealthyMixed > 0 {
		// A round runs until its members answer or time out, whatever its
		// waiters' deadlines: scrapes with time to spare must not inherit a
		// 1ms scrape's cut.
		t.Errorf("%d of %d complete scrapes joined a round cut short by another scrape's deadline; the first: %v", unhealthyMixed, completeMixed, firstMixed)
	}

	// Rounds that hung-up scrapers started finish by themselves; wait for
	// the counters to account for every scrape.
	made := float64(2 * scrapers * perScraper)
	var rounds, shared float64
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		rounds = counterSum(t, self, "zookeeper_exporter_probe_rounds_total")
		shared = counterSum(t, self, "zookeeper_exporter_probe_rounds_shared_total")
		if rounds+shared == made || time.Now().After(deadline) {
			break
		}
	}
	t.Logf("%.0f scrapes (%d complete, %.0f hung up at once): %.0f rounds run, %.0f joined", made, complete+completeMixed, made-float64(complete+completeMixed), rounds, shared)
	if rounds+shared != made {
		t.Errorf("rounds %.0f + shared %.0f != %.0f scrapes", rounds, shared, made)
	}
	if rounds >= made/2 {
		t.Errorf("%.0f rounds for %.0f concurrent scrapes: rounds are not shared", rounds, made)
	}
}

// gaugeOf returns the value of the one series of a gauge family, and -999
// when there is not exactly one.
func gaugeOf(families []*dto.MetricFamily, name string) float64 {
	for _, family := range families {
		if family.GetName() == name && len(family.GetMetric()) == 1 {
			return family.GetMetric()[0].GetGauge().GetValue()
		}
	}
	return -999
}

// counterSum gathers registry and sums the counter family name.
func counterSum(t *testing.T, registry *prometheus.Registry, name string) float64 {
	t.Helper()
	families, err := registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, family := range families {
		if family.GetName() == name {
			for _, metric := range family.GetMetric() {
				sum += metric.GetCounter().GetValue()
			}
		}
	}
	return sum
}
