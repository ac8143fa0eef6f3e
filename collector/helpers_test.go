package collector

import (
	"context"
	"log/slog"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/promslog"

	"github.com/quorumwatch/zookeeper_exporter/config"
	"github.com/quorumwatch/zookeeper_exporter/ensemble"
)

// testExporter is a registry with the scrape collector over it, as main
// wires them.
type testExporter struct{ *ensemble.Registry }

func (e testExporter) Collector(ctx context.Context, names ...string) prometheus.Collector {
	return New(ctx, e.Registry, names...)
}

func (e testExporter) SelfCollectors() []prometheus.Collector { return e.SelfMetrics().Collectors() }

// newTestExporter builds a registry whose members answer through client
// (and admin, when given).
func newTestExporter(t *testing.T, cfg *config.Config, client ensemble.WordClient, admin ...ensemble.AdminCaller) testExporter {
	t.Helper()
	return newLoggedExporter(t, cfg, promslog.NewNopLogger(), client, admin...)
}

func newLoggedExporter(t *testing.T, cfg *config.Config, logger *slog.Logger, client ensemble.WordClient, admin ...ensemble.AdminCaller) testExporter {
	t.Helper()
	opts := ensemble.Options{NewClient: func(*config.Ensemble) (ensemble.WordClient, error) { return client, nil }}
	if len(admin) > 0 {
		opts.Admin = admin[0]
	}
	registry, err := ensemble.New(cfg, logger, opts)
	if err != nil {
		t.Fatal(err)
	}
	registry.Subscribe(ensemble.LogEvents(logger))
	return testExporter{registry}
}

// selfCounter sums the exporter's own counter name over the series of the
// ensemble.
func selfCounter(t *testing.T, e testExporter, name, ensembleName string) float64 {
	t.Helper()
	registry := prometheus.NewRegistry()
	registry.MustRegister(e.SelfCollectors()...)
	families, err := registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	sum := 0.0
	for _, family := range families {
		if family.GetName() != name {
			continue
		}
		for _, metric := range family.GetMetric() {
			if labelValue(metric, "ensemble") == ensembleName {
				sum += metric.GetCounter().GetValue()
			}
		}
	}
	return sum
}

func labelValue(metric *dto.Metric, name string) string {
	for _, pair := range metric.GetLabel() {
		if pair.GetName() == name {
			return pair.GetValue()
		}
	}
	return ""
}
