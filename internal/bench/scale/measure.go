package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/quorumwatch/zookeeper_exporter/internal/bench"
	"github.com/quorumwatch/zookeeper_exporter/internal/standin"
)

type result struct {
	durations             []time.Duration
	floor                 []time.Duration // bench.Floor, interleaved with the scrapes
	cpu                   time.Duration
	peakRSS               int64
	wordsPerMember        float64 // mean over members, per scrape
	maxWordsPerMember     float64 // the busiest member, per scrape
	wordsByName           map[string]int64
	series, bytes         int
	membersUp, marginsTwo int
	members, ensembles    int
	problems              []string
	note                  string // why fewer scrapes were measured than asked
}

// measure scrapes o.warmup times, then o.scrapes times with the clock, CPU
// and word counts running, and checks the last scrape.
func measure(ctx context.Context, o options, stand *standin.Stand, exporter *bench.Process, url string) (*result, error) {
	client := &http.Client{Timeout: 30 * time.Second}
	for range o.warmup {
		if _, _, err := bench.Scrape(ctx, client, url); err != nil {
			return nil, scrapeFailed(stand, err)
		}
	}
	cpuBefore, err := exporter.CPU()
	if err != nil {
		return nil, err
	}
	r := &result{members: len(stand.Addresses()), ensembles: len(stand.Ensembles()), wordsByName: map[string]int64{}}
	words := map[string]int64{} // per member, the exporter's scrapes only
	var last []byte
	deadline, _ := ctx.Deadline()
	for range o.scrapes {
		before := stand.WordCounts()
		body, took, err := bench.Scrape(ctx, client, url)
		if err != nil {
			return nil, scrapeFailed(stand, err)
		}
		r.countWords(words, before, stand.WordCounts())
		r.durations = append(r.durations, took)
		last = body
		// The floor in turn with the scrapes, so that both see the same
		// machine; its words are not counted.
		if o.floor {
			took, err := bench.Floor(ctx, stand.Addresses())
			if err != nil {
				return nil, scrapeFailed(stand, fmt.Errorf("floor: %w", err))
			}
			r.floor = append(r.floor, took)
		}
		// Stop early rather than be killed by -max: leave room for two
		// more scrapes' worth and the checks.
		if time.Until(deadline) < 2*took+10*time.Second {
			r.note = fmt.Sprintf("stopped after %d of %d scrapes to finish within -max", len(r.durations), o.scrapes)
			break
		}
	}
	cpuAfter, err := exporter.CPU()
	if err != nil {
		return nil, err
	}
	r.cpu = (cpuAfter - cpuBefore) / time.Duration(len(r.durations))
	if r.peakRSS, err = exporter.PeakRSS(); err != nil {
		return nil, err
	}
	r.perMember(words, len(r.durations))
	r.bytes = len(last)
	return r, r.check(last, o.size)
}

func scrapeFailed(stand *standin.Stand, err error) error {
	select {
	case <-stand.Done():
		return fmt.Errorf("%w: %v", errStopped, err)
	default:
		return err
	}
}

// countWords adds the words each member received between two counts.
func (r *result) countWords(perMember map[string]int64, before, after map[string]map[string]int64) {
	for address, words := range after {
		for word, n := range words {
			delta := n - before[address][word]
			r.wordsByName[word] += delta
			perMember[address] += delta
		}
	}
}

// perMember works out the mean and the busiest member's words per scrape.
func (r *result) perMember(perMember map[string]int64, scrapes int) {
	var total int64
	for _, n := range perMember {
		total += n
		r.maxWordsPerMember = max(r.maxWordsPerMember, float64(n)/float64(scrapes))
	}
	r.wordsPerMember = float64(total) / float64(r.members) / float64(scrapes)
}

// check reads the last exposition: every member up, every ensemble's margin 2
// (five voters, all serving: Q = 3, two may go).
func (r *result) check(exposition []byte, size int) error {
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(string(exposition)))
	if err != nil {
		return fmt.Errorf("parsing the exposition: %w", err)
	}
	for _, family := range families {
		r.series += len(family.GetMetric())
	}
	for _, metric := range families["zookeeper_up"].GetMetric() {
		if metric.GetGauge().GetValue() == 1 {
			r.membersUp++
		}
	}
	wantMargin := float64(size - (size/2 + 1))
	for _, metric := range families["zookeeper_ensemble_quorum_margin"].GetMetric() {
		if metric.GetGauge().GetValue() == wantMargin {
			r.marginsTwo++
		}
	}
	if r.membersUp != r.members {
		r.problems = append(r.problems, fmt.Sprintf("%d of %d members up", r.membersUp, r.members))
	}
	if r.marginsTwo != r.ensembles {
		r.problems = append(r.problems, fmt.Sprintf("%d of %d ensembles with margin %v", r.marginsTwo, r.ensembles, wantMargin))
	}
	return nil
}

func (r *result) print(o options) {
	fmt.Printf("\n| measure | value |\n|---|---|\n")
	fmt.Printf("| members (ensembles x voters) | %d (%d x %d), answering after %v |\n", r.members, r.ensembles, o.size, o.delay)
	fmt.Printf("| scrapes measured (after %d warm-up) | %d, sequential %s|\n", o.warmup, len(r.durations), r.note)
	fmt.Printf("| scrape p50 / p99 | %s / %s |\n", bench.Millis(bench.Percentile(r.durations, 50)), bench.Millis(bench.Percentile(r.durations, 99)))
	if len(r.floor) > 0 {
		floor50, floor99 := bench.Percentile(r.floor, 50), bench.Percentile(r.floor, 99)
		fmt.Printf("| %s, in turn with the scrapes: p50 / p99 | %s / %s |\n", bench.FloorLabel, bench.Millis(floor50), bench.Millis(floor99))
		fmt.Printf("| scrape / floor: p50 / p99 | %.2fx / %.2fx |\n",
			float64(bench.Percentile(r.durations, 50))/float64(floor50), float64(bench.Percentile(r.durations, 99))/float64(floor99))
	}
	fmt.Printf("| exporter peak RSS (VmHWM) | %s |\n", bench.MiB(r.peakRSS))
	fmt.Printf("| exporter CPU per scrape | %.3f s |\n", r.cpu.Seconds())
	fmt.Printf("| words per member per scrape (mean / busiest member) | %.2f / %.2f |\n", r.wordsPerMember, r.maxWordsPerMember)
	fmt.Printf("| words received, all scrapes | %s |\n", formatWords(r.wordsByName))
	fmt.Printf("| series / exposition size | %d / %s |\n", r.series, bench.MiB(int64(r.bytes)))
	fmt.Printf("| members up | %d of %d |\n", r.membersUp, r.members)
	fmt.Printf("| ensembles with margin %d | %d of %d |\n", o.size-(o.size/2+1), r.marginsTwo, r.ensembles)
}

func formatWords(words map[string]int64) string {
	var parts []string
	for _, word := range append(standin.Words, "other") {
		if n := words[word]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", word, n))
		}
	}
	return strings.Join(parts, ", ")
}
