package collector

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/quorumwatch/zookeeper_exporter/config"
	"github.com/quorumwatch/zookeeper_exporter/ensemble"
	"github.com/quorumwatch/zookeeper_exporter/internal/zktest"
	"github.com/quorumwatch/zookeeper_exporter/quorum"
)

// maintenanceExporter builds an exporter over client whose logs go, as
// JSON lines, to the returned buffer.
func maintenanceExporter(t *testing.T, servers string, client ensemble.WordClient) (testExporter, *syncBuffer) {
	t.Helper()
	cfg, err := config.FromServers("m", servers)
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	return newLoggedExporter(t, cfg, slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})), client), logs
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// take returns the log lines written since the last call, as maps.
func (s *syncBuffer) take(t *testing.T) []map[string]any {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	var lines []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(s.b.String()), "\n") {
		if line == "" {
			continue
		}
		var fields map[string]any
		if err := json.Unmarshal([]byte(line), &fields); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		lines = append(lines, fields)
	}
	s.b.Reset()
	return lines
}

// Five voters in two datacenters (3 + 2) and an observer, as in the
// integration test.
const fiveServers = "127.0.0.1:1@east,127.0.0.1:2@east,127.0.0.1:3@east,127.0.0.1:4@west,127.0.0.1:5@west,127.0.0.1:6:observer@west"

func fiveStates(overrides map[string]string) map[string]string {
	states := map[string]string{"127.0.0.1:1": "leader", "127.0.0.1:2": "follower", "127.0.0.1:3": "follower", "127.0.0.1:4": "follower", "127.0.0.1:5": "follower", "127.0.0.1:6": "observer"}
	for address, state := range overrides {
		states[address] = state
	}
	return states
}

func TestLogEvents(t *testing.T) {
	client := &zktest.ModeMembers{}
	exporter, logs := maintenanceExporter(t, fiveServers, client)
	steps := []struct {
		name   string
		states map[string]string
		want   []string // "level message member-or-detail"
	}{
		{
			// srvr only: no conf, so no membership to discover members from.
			name: "first round, healthy: only how members are chosen", states: fiveStates(nil),
			want: []string{"INFO discovery: no membership known (conf refused, not answered, or ZooKeeper 3.4): probing the configured members only "},
		},
		{name: "same again: nothing", states: fiveStates(nil)},
		{name: "a follower stops", states: fiveStates(map[string]string{"127.0.0.1:3": ""}), want: []string{"WARN member left 127.0.0.1:3"}},
		{name: "it stays down: debug only", states: fiveStates(map[string]string{"127.0.0.1:3": ""}), want: []string{"DEBUG member down 127.0.0.1:3"}},
		{name: "it rejoins", states: fiveStates(nil), want: []string{"INFO member rejoined 127.0.0.1:3"}},
		{
			name:   "the leader stops, another leads",
			states: fiveStates(map[string]string{"127.0.0.1:1": "", "127.0.0.1:2": "leader"}),
			want:   []string{"WARN member left 127.0.0.1:1", "INFO leader changed 127.0.0.1:2"},
		},
		{
			name:   "quorum lost",
			states: map[string]string{"127.0.0.1:2": "not_serving", "127.0.0.1:6": "not_serving"},
			want: []string{
				"DEBUG member down 127.0.0.1:1", "WARN member left 127.0.0.1:2", "WARN member left 127.0.0.1:3",
				"WARN member left 127.0.0.1:4", "WARN member left 127.0.0.1:5", "WARN member left 127.0.0.1:6", "ERROR quorum lost ",
			},
		},
		{
			name:   "quorum regained",
			states: fiveStates(nil),
			want: []string{
				"INFO member rejoined 127.0.0.1:1", "INFO member rejoined 127.0.0.1:2", "INFO member rejoined 127.0.0.1:3",
				"INFO member rejoined 127.0.0.1:4", "INFO member rejoined 127.0.0.1:5", "INFO member rejoined 127.0.0.1:6",
				"INFO leader changed 127.0.0.1:1", "WARN quorum regained ",
			},
		},
	}
	for _, step := range steps {
		client.Set(step.states)
		if _, err := exporter.Probe(context.Background(), "m"); err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, line := range logs.take(t) {
			if line["ensemble"] != "m" {
				continue // the probe's own debug lines
			}
			detail, _ := line["member"].(string)
			if line["msg"] == "leader changed" {
				detail, _ = line["leader"].(string)
			}
			got = append(got, line["level"].(string)+" "+line["msg"].(string)+" "+detail)
			if line["msg"] == "quorum regained" {
				if seconds, ok := line["unavailable_seconds"].(float64); !ok || seconds <= 0 {
					t.Errorf("%s: quorum regained without the time unavailable: %v", step.name, line)
				}
			}
		}
		var filtered []string
		for _, line := range got {
			if !strings.HasPrefix(line, "DEBUG probe failed") {
				filtered = append(filtered, line)
			}
		}
		if !reflect.DeepEqual(filtered, step.want) {
			t.Errorf("%s: logged\n  %q\nwant\n  %q", step.name, filtered, step.want)
		}
	}
}

// gather collects c and returns its families by name.
func gather(t *testing.T, c prometheus.Collector) map[string]*dto.MetricFamily {
	t.Helper()
	registry := prometheus.NewPedanticRegistry()
	registry.MustRegister(c)
	families, err := registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]*dto.MetricFamily{}
	for _, family := range families {
		byName[family.GetName()] = family
	}
	return byName
}

// series renders family's series as "label=value,... value", with only the
// labels named, sorted by the exposition's order.
func series(family *dto.MetricFamily, labels ...string) []string {
	var out []string
	for _, metric := range family.GetMetric() {
		var parts []string
		for _, pair := range metric.GetLabel() {
			for _, name := range labels {
				if pair.GetName() == name {
					parts = append(parts, pair.GetName()+"="+pair.GetValue())
				}
			}
		}
		value := metric.GetGauge().GetValue()
		if metric.Counter != nil {
			value = metric.GetCounter().GetValue()
		}
		out = append(out, strings.Join(parts, ",")+" "+strconv.FormatFloat(value, 'g', -1, 64))
	}
	return out
}

func TestMaintenanceMetrics(t *testing.T) {
	labels := map[string][]string{
		"zookeeper_member_safe_to_stop":             {"member"},
		"zookeeper_ensemble_datacenter_loss_margin": {"datacenter"},
		"zookeeper_ensemble_sizing_advice":          {"advice"},
	}
	tests := []struct {
		name   string
		states map[string]string
		want   map[string][]string // family -> series, with the labels above
	}{
		{
			name:   "healthy: every member safe, east holds a quorum",
			states: fiveStates(nil),
			want: map[string][]string{
				"zookeeper_member_safe_to_stop": {
					"member=127.0.0.1:1 1", "member=127.0.0.1:2 1", "member=127.0.0.1:3 1",
					"member=127.0.0.1:4 1", "member=127.0.0.1:5 1", "member=127.0.0.1:6 1",
				},
				"zookeeper_ensemble_datacenter_loss_margin": {"datacenter=east -1", "datacenter=west 0"},
				"zookeeper_ensemble_sizing_advice":          {"advice=too_many_voters 0", "advice=too_many_voters_in_one_datacenter 0"},
			},
		},
		{
			name:   "a voter down: only the observer is safe",
			states: fiveStates(map[string]string{"127.0.0.1:4": ""}),
			want: map[string][]string{
				"zookeeper_member_safe_to_stop": {
					"member=127.0.0.1:1 0", "member=127.0.0.1:2 0", "member=127.0.0.1:3 0",
					"member=127.0.0.1:4 0", "member=127.0.0.1:5 0", "member=127.0.0.1:6 1",
				},
				"zookeeper_ensemble_datacenter_loss_margin": {"datacenter=east -2", "datacenter=west 0"},
			},
		},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			exporter, _ := maintenanceExporter(t, fiveServers, modeMembers(test.states))
			families := gather(t, exporter.Collector(context.Background()))
			for name, want := range test.want {
				if got := series(families[name], labels[name]...); !reflect.DeepEqual(got, want) {
					t.Errorf("%s = %q, want %q", name, got, want)
				}
			}
			// The impact state set: every impact for every member, one set.
			impacts := families["zookeeper_member_stop_impact"].GetMetric()
			if len(impacts) != 6*len(quorum.Impacts) {
				t.Errorf("stop_impact has %d series, want %d", len(impacts), 6*len(quorum.Impacts))
			}
			set := map[string]float64{}
			for _, metric := range impacts {
				for _, pair := range metric.GetLabel() {
					if pair.GetName() == "member" {
						set[pair.GetValue()] += metric.GetGauge().GetValue()
					}
				}
			}
			for member, sum := range set {
				if sum != 1 {
					t.Errorf("%s: %v impacts set, want exactly 1", member, sum)
				}
			}
			if got := families["zookeeper_ensemble_unavailable_seconds_total"].GetMetric(); len(got) != 1 || got[0].GetCounter().GetValue() != 0 {
				t.Errorf("unavailable_seconds_total = %v, want one series at 0", got)
			}
			if _, ok := families["zookeeper_ensemble_last_unavailability_seconds"]; ok {
				t.Error("last_unavailability_seconds before any outage ended")
			}
		})
	}
}

func TestNoDatacentersNoLossMargin(t *testing.T) {
	exporter, _ := maintenanceExporter(t, "127.0.0.1:1,127.0.0.1:2,127.0.0.1:3", modeMembers(map[string]string{"127.0.0.1:1": "leader", "127.0.0.1:2": "follower", "127.0.0.1:3": "follower"}))
	families := gather(t, exporter.Collector(context.Background()))
	if family, ok := families["zookeeper_ensemble_datacenter_loss_margin"]; ok {
		t.Errorf("loss margin without datacenters: %v", series(family, "datacenter"))
	}
}

func modeMembers(states map[string]string) *zktest.ModeMembers {
	members := &zktest.ModeMembers{}
	members.Set(states)
	return members
}
