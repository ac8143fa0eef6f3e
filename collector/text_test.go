package collector

import (
	"bytes"
	"context"
	"sort"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/quorumwatch/zookeeper_exporter/ensemble"
	"github.com/quorumwatch/zookeeper_exporter/internal/zktest"
)

// render is a family set as sorted text lines, for comparing.
func render(t *testing.T, families map[string]*dto.MetricFamily) string {
	t.Helper()
	var lines []string
	for _, family := range families {
		for _, metric := range family.GetMetric() {
			sort.Slice(metric.Label, func(i, j int) bool { return metric.Label[i].GetName() < metric.Label[j].GetName() })
		}
		var b bytes.Buffer
		if _, err := expfmt.MetricFamilyToText(&b, family); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, strings.Split(strings.TrimSpace(b.String()), "\n")...)
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// The text the exporter serves says exactly what the const metrics say,
// HELP and TYPE included, for the same round.
func TestTextMatchesConstMetrics(t *testing.T) {
	states := map[string]map[string]string{
		"healthy":     {"127.0.0.1:44037": "follower", "127.0.0.1:40615": "leader", "127.0.0.1:40747": "follower#3", "127.0.0.1:37661": "observer"},
		"quorum lost": {"127.0.0.1:40747": "not_serving"},
	}
	for name, state := range states {
		t.Run(name, func(t *testing.T) {
			exporter := newTestExporter(t, mustServers(t, "127.0.0.1:44037,127.0.0.1:40615,127.0.0.1:40747,127.0.0.1:37661:observer"), &zktest.ScriptedClient{States: state})
			round, err := exporter.Probe(context.Background(), "test")
			if err != nil {
				t.Fatal(err)
			}
			registry := prometheus.NewPedanticRegistry()
			registry.MustRegister(roundCollector{round})
			gathered, err := registry.Gather()
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]*dto.MetricFamily{}
			for _, family := range gathered {
				want[family.GetName()] = family
			}
			var text bytes.Buffer
			if err := WriteText(&text, []*ensemble.Round{round}, nil); err != nil {
				t.Fatal(err)
			}
			parser := expfmt.NewTextParser(model.UTF8Validation)
			got, err := parser.TextToMetricFamilies(&text)
			if err != nil {
				t.Fatalf("the exposition does not parse: %v", err)
			}
			// Its age is measured as each is written.
			delete(got, "zookeeper_ensemble_voter_set_age_seconds")
			delete(want, "zookeeper_ensemble_voter_set_age_seconds")
			if g, w := render(t, got), render(t, want); g != w {
				t.Errorf("text exposition differs from the const metrics:\n%s\nwant\n%s", g, w)
			}
		})
	}
}

func TestAppendEscapedAndValues(t *testing.T) {
	for value, want := range map[string]string{
		"": "", "127.0.0.1:2181": "127.0.0.1:2181", `a"b`: `a\"b`, `a\b`: `a\\b`, "a\nb": `a\nb`,
		"a\\b\"c\nd": `a\\b\"c\nd`, "zk-é": "zk-é",
	} {
		if got := string(appendEscaped([]byte("x="), value)); got != "x="+want {
			t.Errorf("appendEscaped(%q) = %q, want %q", value, got, "x="+want)
		}
	}
	for value, want := range map[float64]string{1: "1", 0.25: "0.25", 1e21: "1e+21"} {
		if got := string(appendValue(nil, value)); got != want {
			t.Errorf("%v rendered %q, want %q", value, got, want)
		}
	}
}
