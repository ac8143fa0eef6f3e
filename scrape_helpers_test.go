package main

import (
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// exposition is one parsed scrape.
type exposition struct {
	body     string
	families map[string]*dto.MetricFamily
}

// scrapeExporter GETs a metrics page the way Prometheus does, with its
// scrape-timeout header and a client that gives up at that timeout.
func scrapeExporter(url string, timeout time.Duration) (*exposition, error) {
	request, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	request.Header.Set("X-Prometheus-Scrape-Timeout-Seconds", strconv.FormatFloat(timeout.Seconds(), 'f', -1, 64))
	response, err := (&http.Client{Timeout: timeout}).Do(request)
	if err != nil {
		return nil, err
	}
	defer response.Body.Close()
	body, err := io.ReadAll(response.Body)
	if err != nil {
		return nil, err
	}
	if response.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: %s\n%s", url, response.Status, body)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(string(body)))
	if err != nil {
		return nil, err
	}
	return &exposition{body: string(body), families: families}, nil
}

// value returns the value of the one series of name whose labels include
// match, and whether exactly one such series exists.
func (e *exposition) value(name string, match map[string]string) (float64, bool) {
	var found []float64
	for _, metric := range e.families[name].GetMetric() {
		if labelsMatch(metric, match) {
			switch {
			case metric.Gauge != nil:
				found = append(found, metric.Gauge.GetValue())
			case metric.Counter != nil:
				found = append(found, metric.Counter.GetValue())
			case metric.Untyped != nil:
				found = append(found, metric.Untyped.GetValue())
			}
		}
	}
	if len(found) != 1 {
		return 0, false
	}
	return found[0], true
}

// labelValues returns label's values over the series of name that match and
// have the value want.
func (e *exposition) labelValues(name, label string, match map[string]string, want float64) []string {
	var values []string
	for _, metric := range e.families[name].GetMetric() {
		if labelsMatch(metric, match) && metric.GetGauge().GetValue() == want {
			for _, pair := range metric.Label {
				if pair.GetName() == label {
					values = append(values, pair.GetValue())
				}
			}
		}
	}
	sort.Strings(values)
	return values
}

func labelsMatch(metric *dto.Metric, match map[string]string) bool {
	have := map[string]string{}
	for _, pair := range metric.Label {
		have[pair.GetName()] = pair.GetValue()
	}
	for name, value := range match {
		if have[name] != value {
			return false
		}
	}
	return true
}

// eventually scrapes until check passes or the deadline passes; ZooKeeper
// needs a moment to elect and to notice a member has gone.
func eventually(t *testing.T, url string, within time.Duration, check func(*exposition) error) *exposition {
	t.Helper()
	deadline := time.Now().Add(within)
	var last error
	for {
		scrape, err := scrapeExporter(url, 5*time.Second)
		if err == nil {
			if last = check(scrape); last == nil {
				return scrape
			}
		} else {
			last = err
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %v", within, last)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// expectValues fails with every mismatch of name{labels} = value.
func expectValues(scrape *exposition, want map[string]float64, labels map[string]string) error {
	var problems []string
	names := make([]string, 0, len(want))
	for name := range want {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		got, ok := scrape.value(name, labels)
		if !ok || got != want[name] {
			problems = append(problems, fmt.Sprintf("%s%v = %v (present %v), want %v", name, labels, got, ok, want[name]))
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("%s", strings.Join(problems, "; "))
	}
	return nil
}
