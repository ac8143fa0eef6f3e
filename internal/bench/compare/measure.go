package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
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

// floor sends srvr and mntr to every member, all connections at once, and
// reads every answer whole: the least any exporter that reports what they
// carry must wait for.
type floor struct{ addresses []string }

func (floor) label() string   { return "floor: `srvr` + `mntr` to every member, all at once" }
func (floor) peakRSS() string { return "–" }

func (f floor) once(ctx context.Context) (time.Duration, error) {
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, 2*len(f.addresses))
	for _, address := range f.addresses {
		for _, word := range []string{"srvr", "mntr"} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := ask(ctx, address, word); err != nil {
					errs <- fmt.Errorf("%s to %s: %w", word, address, err)
				}
			}()
		}
	}
	wg.Wait()
	took := time.Since(start)
	close(errs)
	return took, <-errs
}

func ask(ctx context.Context, address, word string) error {
	var dialer net.Dialer
	conn, err := dialer.DialContext(ctx, "tcp", address)
	if err != nil {
		return err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(conn, word); err != nil {
		return err
	}
	n, err := io.Copy(io.Discard, conn)
	if err == nil && n == 0 {
		err = fmt.Errorf("no answer")
	}
	return err
}

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
