package main

import (
	"bytes"
	"flag"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/promslog"

	"github.com/quorumwatch/zookeeper_exporter/collector"
	"github.com/quorumwatch/zookeeper_exporter/config"
	"github.com/quorumwatch/zookeeper_exporter/ensemble"
)

var update = flag.Bool("update", false, "rewrite docs/metrics.md")

// docs/metrics.md lists every family a scrape of /metrics shows, made from
// the descriptors: it fails here when stale.
func TestMetricsDoc(t *testing.T) {
	var b bytes.Buffer
	if err := collector.WriteMetricsDoc(&b, ownFamilies(t)); err != nil {
		t.Fatal(err)
	}
	const path = "docs/metrics.md"
	if *update {
		if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	current, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(current, b.Bytes()) {
		t.Error("docs/metrics.md is stale: go test . -run TestMetricsDoc -update")
	}
}

// ownFamilies are the families the server registers besides the
// ensembles': gathered where they have samples, described where they do
// not yet (a counter vector before its first error).
func ownFamilies(t *testing.T) []collector.Spec {
	cfg, err := config.FromServers("doc", "127.0.0.1:1")
	if err != nil {
		t.Fatal(err)
	}
	logger := promslog.NewNopLogger()
	registry, err := ensemble.New(cfg, logger, ensemble.Options{})
	if err != nil {
		t.Fatal(err)
	}
	reloader := newReloader(logger, nil, registry)
	limit := newScrapeLimit(1)
	own := newOwnMetrics(registry, reloader, limit)
	byName := map[string]collector.Spec{}
	for _, gatherer := range []prometheus.Gatherer{own.process, own.engine} {
		families, err := gatherer.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range families {
			byName[f.GetName()] = specOf(f)
		}
	}
	var collectors []prometheus.Collector
	collectors = append(collectors, registry.SelfMetrics().Collectors()...)
	collectors = append(collectors, reloader.collectors()...)
	collectors = append(collectors, limit.refused)
	for _, c := range collectors {
		descs := make(chan *prometheus.Desc, 16)
		go func() { c.Describe(descs); close(descs) }()
		for d := range descs {
			if s, ok := specOfDesc(d); ok {
				if _, seen := byName[s.Name]; !seen {
					byName[s.Name] = s
				}
			}
		}
	}
	out := make([]collector.Spec, 0, len(byName))
	for _, s := range byName {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func specOf(f *dto.MetricFamily) collector.Spec {
	s := collector.Spec{Name: f.GetName(), Help: f.GetHelp(), Type: prometheus.GaugeValue}
	switch f.GetType() {
	case dto.MetricType_COUNTER:
		s.Type = prometheus.CounterValue
	case dto.MetricType_SUMMARY, dto.MetricType_HISTOGRAM:
		s.Type = prometheus.UntypedValue
	}
	if len(f.GetMetric()) > 0 {
		for _, l := range f.GetMetric()[0].GetLabel() {
			s.Labels = append(s.Labels, l.GetName())
		}
	}
	return s
}

// descFields reads a Desc's name, help and variable labels from its
// String(), the only way client_golang shows them.
var descFields = regexp.MustCompile(`fqName: "([^"]*)", help: "((?:[^"\\]|\\.)*)".*variableLabels: \{([^}]*)\}`)

func specOfDesc(d *prometheus.Desc) (collector.Spec, bool) {
	m := descFields.FindStringSubmatch(d.String())
	if m == nil {
		return collector.Spec{}, false
	}
	s := collector.Spec{Name: m[1], Help: strings.ReplaceAll(m[2], `\"`, `"`), Type: prometheus.GaugeValue}
	if strings.HasSuffix(s.Name, "_total") {
		s.Type = prometheus.CounterValue
	}
	if m[3] != "" {
		s.Labels = strings.Split(m[3], ",")
	}
	return s, true
}
