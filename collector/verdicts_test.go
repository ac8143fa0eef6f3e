package collector

import (
	"context"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/quorumwatch/zookeeper_exporter/ensemble"
	"github.com/quorumwatch/zookeeper_exporter/internal/zktest"
	"github.com/quorumwatch/zookeeper_exporter/status"
)

// roundCollector writes one given round, as a scrape would.
type roundCollector struct{ round *ensemble.Round }

func (roundCollector) Describe(chan<- *prometheus.Desc) {}

func (c roundCollector) Collect(ch chan<- prometheus.Metric) {
	newWriter(channelSink{ch}, nil).round(c.round)
}

// The status command and page render the same round as the metrics: the
// same margin, leader, and per member the same safe-to-stop verdict and
// impact.
func TestStatusAgreesWithMetrics(t *testing.T) {
	states := map[string]map[string]string{
		"healthy":         {"127.0.0.1:44037": "follower", "127.0.0.1:40615": "leader", "127.0.0.1:40747": "follower#3", "127.0.0.1:37661": "observer"},
		"a follower down": {"127.0.0.1:40615": "leader", "127.0.0.1:40747": "follower#3", "127.0.0.1:37661": "observer"},
		"quorum lost":     {"127.0.0.1:40747": "not_serving", "127.0.0.1:37661": "not_serving"},
	}
	for name, state := range states {
		t.Run(name, func(t *testing.T) {
			exporter := newTestExporter(t, mustServers(t, "127.0.0.1:44037,127.0.0.1:40615,127.0.0.1:40747,127.0.0.1:37661:observer"), &zktest.ScriptedClient{States: state})
			round, err := exporter.Probe(context.Background(), "test")
			if err != nil {
				t.Fatal(err)
			}
			report := status.FromRound(round)
			families := gather(t, roundCollector{round})
			margin := families["zookeeper_ensemble_quorum_margin"].GetMetric()[0].GetGauge().GetValue()
			if int(margin) != report.Margin {
				t.Errorf("metrics margin %v, status margin %d", margin, report.Margin)
			}
			for _, m := range report.Members {
				safe := seriesValue(families["zookeeper_member_safe_to_stop"], map[string]string{"member": m.Member})
				impact := seriesValue(families["zookeeper_member_stop_impact"], map[string]string{"member": m.Member, "impact": m.StopImpact})
				leader := seriesValue(families["zookeeper_server_mode"], map[string]string{"member": m.Member, "mode": "leader"})
				if safe != boolValue(m.SafeToStop) || impact != 1 || (leader == 1) != (m.Member == report.Leader && m.Mode == "leader") {
					t.Errorf("%s: metrics safe %v impact(%s) %v leader %v; status safe %v leader %q", m.Member, safe, m.StopImpact, impact, leader, m.SafeToStop, report.Leader)
				}
			}
		})
	}
}

// seriesValue is the value of the series of family whose labels include
// labels, -1 when there is none.
func seriesValue(family *dto.MetricFamily, labels map[string]string) float64 {
	for _, metric := range family.GetMetric() {
		match := true
		for name, value := range labels {
			match = match && labelValue(metric, name) == value
		}
		if match {
			return metric.GetGauge().GetValue()
		}
	}
	return -1
}
