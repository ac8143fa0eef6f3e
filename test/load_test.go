package e2e

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/quorumwatch/zookeeper_exporter/internal/zkcluster"
)

// The load the hardening issue asks for: 50 scrapers, 30 seconds.
const (
	loadScrapers = 50
	loadDuration = 30 * time.Second
)

// wordsPerRound is what one probe round asks a serving, fully whitelisted
// member between reads of the membership: srvr and mntr, at once. conf is
// read on its own cycle (on start, after an election, every few minutes),
// so during the load no member may see more than two words a round: the
// check of probes seen against rounds run below fails if one does.
const wordsPerRound = 2

// packetsReceived reads a member's own count of requests received. ZooKeeper
// 3.8 counts every four-letter word as one packet received (measured: 22
// words, zk_packets_received +22), and nothing else reaches a client port
// here, so it counts the exporter's words on the member side. The mntr
// asking for it counts too.
func packetsReceived(ctx context.Context, member *zkcluster.Member) (int64, error) {
	answer, err := member.FourLetterWord(ctx, "mntr")
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(answer), "\n") {
		if value, ok := strings.CutPrefix(line, "zk_packets_received\t"); ok {
			return strconv.ParseInt(strings.TrimSpace(value), 10, 64)
		}
	}
	return 0, fmt.Errorf("zk%d: no zk_packets_received in mntr", member.ID)
}

// loadSample is the exporter's own view of itself at one moment.
type loadSample struct {
	heap, rss, goroutines float64
}

func sampleExporter(t *testing.T, url string) (loadSample, *exposition) {
	t.Helper()
	scrape, err := scrapeExporter(url, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var s loadSample
	var ok [3]bool
	s.heap, ok[0] = scrape.value("go_memstats_heap_inuse_bytes", nil)
	s.rss, ok[1] = scrape.value("process_resident_memory_bytes", nil)
	s.goroutines, ok[2] = scrape.value("go_goroutines", nil)
	if !ok[0] || !ok[1] || !ok[2] {
		t.Fatalf("the exporter lacks its Go or process metrics: %v", ok)
	}
	return s, scrape
}

// TestLoad runs 50 concurrent scrapers for 30 seconds against the exporter
// binary watching a real 3-voter ensemble. Concurrent scrapes join the probe
// round in flight, so the members see far fewer probes than there were
// scrapes: counted on the member side with each member's own
// zk_packets_received, on the exporter side with its probe-round counters.
// Memory stays flat and the goroutines return to their baseline afterwards.
// scripts/load.sh runs it and prints the figures; docs/load.md keeps them.
func TestLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a real ZooKeeper ensemble and loads the exporter for 30s")
	}
	cluster := zkcluster.StartT(t, zkcluster.Options{Voters: 3})
	const name = "load"
	// More scrapers than --web.max-requests lets in by default.
	base, logs, _ := startExporter(t, "--config.file="+writeClusterConfig(t, name, cluster, 2*time.Second),
		fmt.Sprintf("--web.max-requests=%d", loadScrapers+2))
	url := base + "/metrics"
	healthy := fmt.Sprintf("zookeeper_ensemble_quorum_margin{ensemble=%q} 1\n", name)
	defer func() {
		if t.Failed() {
			t.Logf("exporter logs (last 4 KiB):\n%s", tail(logs.String(), 4096))
		}
	}()

	// Warm up: the ensemble healthy in the exporter's eyes, a few scrapes,
	// then the baseline at rest.
	eventually(t, url, 30*time.Second, func(scrape *exposition) error {
		if !strings.Contains(scrape.body, healthy) {
			return fmt.Errorf("not healthy yet")
		}
		return nil
	})
	for range 20 {
		if _, err := scrapeExporter(url, 10*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(time.Second)
	warm, _ := sampleExporter(t, url)

	ctx := t.Context()
	packetsBefore := map[int]int64{}
	for _, member := range cluster.Voters() {
		n, err := packetsReceived(ctx, member)
		if err != nil {
			t.Fatal(err)
		}
		packetsBefore[member.ID] = n
	}
	_, before := sampleExporter(t, url)
	roundsBefore, _ := before.value("zookeeper_exporter_probe_rounds_total", map[string]string{"ensemble": name})
	sharedBefore, _ := before.value("zookeeper_exporter_probe_rounds_shared_total", map[string]string{"ensemble": name})

	// The load: every scraper in a loop, each scrape with Prometheus's
	// timeout header, each answer checked for the healthy margin.
	transport := &http.Transport{MaxIdleConnsPerHost: loadScrapers, Proxy: nil}
	client := &http.Client{Transport: transport, Timeout: 10 * time.Second}
	var scrapes, failures atomic.Int64
	var firstFailure atomic.Value
	stop := time.Now().Add(loadDuration)
	var wg sync.WaitGroup
	for range loadScrapers {
		wg.Go(func() {
			for time.Now().Before(stop) {
				scrapes.Add(1)
				if err := loadScrape(client, url, healthy); err != nil {
					failures.Add(1)
					firstFailure.CompareAndSwap(nil, err.Error())
				}
			}
		})
	}
	// Memory over the run, from the exporter itself; these scrapes count.
	var samples []loadSample
	for time.Now().Before(stop) {
		time.Sleep(2 * time.Second)
		sample, _ := sampleExporter(t, url)
		samples = append(samples, sample)
		scrapes.Add(1)
	}
	wg.Wait()
	transport.CloseIdleConnections()

	packetsAfter := map[int]int64{}
	for _, member := range cluster.Voters() {
		n, err := packetsReceived(ctx, member)
		if err != nil {
			t.Fatal(err)
		}
		packetsAfter[member.ID] = n
	}
	after, afterScrape := sampleExporter(t, url)
	rounds, _ := afterScrape.value("zookeeper_exporter_probe_rounds_total", map[string]string{"ensemble": name})
	shared, _ := afterScrape.value("zookeeper_exporter_probe_rounds_shared_total", map[string]string{"ensemble": name})
	rounds, shared = rounds-roundsBefore, shared-sharedBefore

	// Goroutines back to the baseline once the scrapers have gone.
	var settled loadSample
	deadline := time.Now().Add(30 * time.Second)
	for {
		settled, _ = sampleExporter(t, url)
		if settled.goroutines <= warm.goroutines+2 || time.Now().After(deadline) {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}

	made := scrapes.Load()
	var perMember []string
	var seenMin, seenMax float64
	for i, member := range cluster.Voters() {
		// Less the mntr that read the count afterwards.
		words := float64(packetsAfter[member.ID] - packetsBefore[member.ID] - 1)
		probes := words / wordsPerRound
		perMember = append(perMember, fmt.Sprintf("zk%d %.0f words = %.1f probes", member.ID, words, probes))
		if i == 0 || probes < seenMin {
			seenMin = probes
		}
		seenMax = max(seenMax, probes)
	}
	sort.Strings(perMember)
	t.Logf("load: %d scrapers for %s: %d scrapes made (%d failed), %.1f scrapes/s", loadScrapers, loadDuration, made, failures.Load(), float64(made)/loadDuration.Seconds())
	t.Logf("load: probe rounds run %.0f, joined (shared) %.0f: %.1f scrapes per round", rounds, shared, float64(made)/max(rounds, 1))
	t.Logf("load: member side (zk_packets_received, %d words a round): %s", wordsPerRound, strings.Join(perMember, ", "))
	t.Logf("load: heap in use %.1f MiB at rest before, %.1f MiB at most during, %.1f MiB right after, %.1f MiB at rest after", warm.heap/(1<<20), maxOf(samples, func(s loadSample) float64 { return s.heap })/(1<<20), after.heap/(1<<20), settled.heap/(1<<20))
	t.Logf("load: resident memory %.1f MiB at rest before, %.1f MiB at most during, %.1f MiB at rest after", warm.rss/(1<<20), maxOf(samples, func(s loadSample) float64 { return s.rss })/(1<<20), settled.rss/(1<<20))
	t.Logf("load: goroutines %.0f at rest before, %.0f at most during, %.0f at rest after", warm.goroutines, maxOf(samples, func(s loadSample) float64 { return s.goroutines }), settled.goroutines)
	t.Logf("load: heap samples (MiB): %s", formatSamples(samples, func(s loadSample) float64 { return s.heap / (1 << 20) }))

	if failures.Load() > 0 {
		t.Errorf("%d of %d scrapes failed; the first: %v", failures.Load(), made, firstFailure.Load())
	}
	// Every scrape either ran a round or joined one; the few control
	// scrapes around the counters' readings are the slack.
	if got := int64(rounds + shared); got < made-2 || got > made+3 {
		t.Errorf("rounds %.0f + shared %.0f = %d, but %d scrapes were made", rounds, shared, got, made)
	}
	if rounds*5 > float64(made) {
		t.Errorf("%.0f rounds for %d scrapes: concurrent scrapes do not share rounds", rounds, made)
	}
	// What the members saw is what the exporter says it ran.
	if seenMin < rounds-2 || seenMax > rounds+3 {
		t.Errorf("members saw %.1f to %.1f probes, the exporter ran %.0f rounds", seenMin, seenMax, rounds)
	}
	// Flat memory: the heap at the end of the load against the heap once
	// the load had warmed up (the GC lets the heap swing about twice its
	// live size, so compare the highest of a few samples each).
	if len(samples) < 6 {
		t.Fatalf("only %d memory samples", len(samples))
	}
	heap := func(s loadSample) float64 { return s.heap }
	warmedUp, final := maxOf(samples[:3], heap), maxOf(samples[len(samples)-3:], heap)
	t.Logf("load: heap in use under load %.1f MiB at most in the first 6s, %.1f MiB at most in the last 6s", warmedUp/(1<<20), final/(1<<20))
	if final > 3*warmedUp {
		t.Errorf("heap in use grew under load from %.0f to %.0f bytes", warmedUp, final)
	}
	if settled.goroutines > warm.goroutines+2 {
		t.Errorf("goroutines %.0f after the load, %.0f before", settled.goroutines, warm.goroutines)
	}
}

// loadScrape is one scrape of the load: status 200, the healthy margin.
func loadScrape(client *http.Client, url, want string) error {
	request, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	request.Header.Set("X-Prometheus-Scrape-Timeout-Seconds", "10")
	body, err := readOK(client, request)
	if err != nil {
		return err
	}
	if !strings.Contains(string(body), want) {
		return fmt.Errorf("no %q in the scrape", strings.TrimSpace(want))
	}
	return nil
}

func maxOf(samples []loadSample, f func(loadSample) float64) float64 {
	var m float64
	for _, s := range samples {
		m = max(m, f(s))
	}
	return m
}

func formatSamples(samples []loadSample, f func(loadSample) float64) string {
	parts := make([]string, len(samples))
	for i, s := range samples {
		parts[i] = fmt.Sprintf("%.1f", f(s))
	}
	return strings.Join(parts, " ")
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}
