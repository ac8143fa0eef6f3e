package main

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/quorumwatch/zookeeper_exporter/internal/bench"
)

// target is one thing measured: an exporter's metrics page or the floor.
type target interface {
	label() string
	once(ctx context.Context) (time.Duration, error)
	peakRSS() string
}

// scraped is an exporter process, measured by scraping it.
type scraped struct {
	name, url string
	process   *bench.Process
}

var client = &http.Client{Timeout: 30 * time.Second}

func (s *scraped) label() string { return s.name }

func (s *scraped) once(ctx context.Context) (time.Duration, error) {
	_, took, err := bench.Scrape(ctx, client, s.url)
	return took, err
}

func (s *scraped) peakRSS() string {
	rss, err := s.process.PeakRSS()
	if err != nil {
		return err.Error()
	}
	return bench.MiB(rss)
}

// floor is bench.Floor to the ensemble's members.
type floor struct{ addresses []string }

func (floor) label() string   { return bench.FloorLabel }
func (floor) peakRSS() string { return "–" }

func (f floor) once(ctx context.Context) (time.Duration, error) { return bench.Floor(ctx, f.addresses) }

// interleave measures every target in turn, the order rotating by one each
// round, after warmup unmeasured rounds.
func interleave(ctx context.Context, targets []target, warmup, rounds int) ([][]time.Duration, error) {
	results := make([][]time.Duration, len(targets))
	for round := -warmup; round < rounds; round++ {
		for k := range targets {
			i := (k + max(round, 0)) % len(targets)
			took, err := targets[i].once(ctx)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", targets[i].label(), err)
			}
			if round >= 0 {
				results[i] = append(results[i], took)
			}
		}
	}
	return results, nil
}

func printResults(o options, addresses []string, targets []target, results [][]time.Duration) {
	fmt.Printf("\n%d real voters on loopback (%v), %d interleaved sequential scrapes of each target after %d warm-up:\n\n",
		len(addresses), addresses, o.scrapes, o.warmup)
	fmt.Println("| | p50 | p99 | peak RSS |\n|---|---|---|---|")
	for i, t := range targets {
		fmt.Printf("| %s | %s | %s | %s |\n", t.label(), bench.Millis(bench.Percentile(results[i], 50)),
			bench.Millis(bench.Percentile(results[i], 99)), t.peakRSS())
	}
	ratio := func(i, j int, p float64) float64 {
		return float64(bench.Percentile(results[i], p)) / float64(bench.Percentile(results[j], p))
	}
	fmt.Printf("\nthis exporter / floor: p50 %.2fx, p99 %.2fx\n", ratio(0, 1, 50), ratio(0, 1, 99))
	if len(targets) > 2 {
		fmt.Printf("this exporter / peer: p50 %.2fx, p99 %.2fx\n", ratio(0, 2, 50), ratio(0, 2, 99))
	}
}
