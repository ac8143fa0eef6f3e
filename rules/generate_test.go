package rules

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// overrides exercises a selector, a duration, a number and the runbook.
var overrides = map[string]any{
	"zookeeperSelector":       `job="zk", cluster="prod"`,
	"exporterSelector":        `job="zk-exporter"`,
	"quorumAtRiskFor":         "3m",
	"followerBehindThreshold": 5000,
	"runbookURLPattern":       "https://runbooks.example.com/zookeeper#%s",
	"dashboardTags":           []string{"zk"},
	"clusterLabel":            "k8s_cluster",
}

func mustGenerate(t *testing.T, opts Options) []byte {
	t.Helper()
	b, err := Generate(opts)
	if err != nil {
		t.Fatalf("Generate(%+v): %v", opts, err)
	}
	return b
}

// TestGeneratorMatchesJsonnetBinary proves the embedded go-jsonnet rendering
// equals what the reference jsonnet implementation makes of mixin/.
func TestGeneratorMatchesJsonnetBinary(t *testing.T) {
	jsonnetBin := tool(t, "jsonnet", "jsonnet")
	for name, config := range map[string]map[string]any{"defaults": nil, "overrides": overrides} {
		t.Run(name, func(t *testing.T) {
			cfg, err := json.Marshal(config)
			if err != nil {
				t.Fatal(err)
			}
			if config == nil {
				cfg = []byte("{}")
			}
			field := func(f string) any {
				out := run(t, jsonnetBin, "-J", mixinDir, "-e",
					`((import "mixin.libsonnet") + { _config+:: `+string(cfg)+` }).`+f)
				var v any
				if err := json.Unmarshal(out, &v); err != nil {
					t.Fatal(err)
				}
				return v
			}
			alerts := field("prometheusAlerts").(map[string]any)["groups"].([]any)
			recording := field("prometheusRules").(map[string]any)["groups"].([]any)
			want := map[string]any{"groups": append(recording, alerts...)}

			var got any
			if err := yaml.Unmarshal(mustGenerate(t, Options{Config: config}), &got); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				gj, _ := json.MarshalIndent(got, "", " ")
				wj, _ := json.MarshalIndent(want, "", " ")
				t.Fatalf("generator and jsonnet binary differ\ngenerator:\n%s\njsonnet:\n%s", gj, wj)
			}

			dashboards, err := Dashboards(config)
			if err != nil {
				t.Fatal(err)
			}
			wantDash := field("grafanaDashboards").(map[string]any)
			if len(dashboards) != len(wantDash) {
				t.Fatalf("got %d dashboards, jsonnet made %d", len(dashboards), len(wantDash))
			}
			for name, b := range dashboards {
				var d any
				if err := json.Unmarshal(b, &d); err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(d, wantDash[name]) {
					t.Errorf("dashboard %s differs from the jsonnet binary's", name)
				}
			}
		})
	}
}

func TestGenerateOverridesReachRules(t *testing.T) {
	rf, err := Rules(overrides)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	// Every aggregation and join keeps the cluster label, so that two
	// clusters' same-named ensembles never merge.
	grouping := regexp.MustCompile(`\b(by|on) \(([^)]*)\)`)
	for _, g := range rf.Groups {
		for _, r := range g.Rules {
			if strings.Contains(r.Expr, `job="zookeeper"`) {
				t.Errorf("rule %s%s still uses the default selector: %s", r.Alert, r.Record, r.Expr)
			}
			for _, m := range grouping.FindAllStringSubmatch(r.Expr, -1) {
				if !strings.HasPrefix(m[2], "k8s_cluster") {
					t.Errorf("rule %s%s: %q drops the cluster label", r.Alert, r.Record, m[0])
				}
			}
			if r.Alert == "ZooKeeperQuorumAtRisk" {
				found = true
				if r.For != "3m" {
					t.Errorf("ZooKeeperQuorumAtRisk for = %q, want 3m", r.For)
				}
				if want := "https://runbooks.example.com/zookeeper#zookeeperquorumatrisk"; r.Annotations["runbook_url"] != want {
					t.Errorf("runbook_url = %q, want %q", r.Annotations["runbook_url"], want)
				}
			}
		}
	}
	if !found {
		t.Fatal("no ZooKeeperQuorumAtRisk alert")
	}
}

func TestGenerateOptions(t *testing.T) {
	for _, tc := range []struct {
		name    string
		opts    Options
		want    []string // substrings of the output
		wantErr string   // substring of the error
	}{
		{name: "default format is a rule file", opts: Options{}, want: []string{"groups:\n", "alert: ZooKeeperQuorumAtRisk"}},
		{name: "prometheus ignores object metadata", opts: Options{Format: "prometheus", Name: "x", Namespace: "y"}, want: []string{"groups:\n"}},
		{
			name: "operator object",
			opts: Options{Format: "prometheus-operator", Namespace: "monitoring", Labels: map[string]string{"release": "kps"}},
			want: []string{"apiVersion: monitoring.coreos.com/v1\n", "kind: PrometheusRule\n", "name: zookeeper-mixin\n", "namespace: monitoring\n", "release: kps\n", "spec:\n  groups:\n"},
		},
		{name: "operator name", opts: Options{Format: "prometheus-operator", Name: "zk-rules"}, want: []string{"name: zk-rules\n"}},
		{name: "unknown format", opts: Options{Format: "thanos"}, wantErr: `unknown rules format "thanos"`},
		{name: "bad object name", opts: Options{Format: "prometheus-operator", Name: "ZK_Rules"}, wantErr: `name "ZK_Rules"`},
		{name: "bad namespace", opts: Options{Format: "prometheus-operator", Namespace: "a/b"}, wantErr: `namespace "a/b"`},
		{name: "bad label", opts: Options{Format: "prometheus-operator", Labels: map[string]string{"team": "a b"}}, wantErr: `label "team"`},
		{name: "selector", opts: Options{Config: map[string]any{"zookeeperSelector": `cluster="a"`}}, want: []string{`zookeeper_ensemble_quorum_margin{cluster="a"}`}},
		{name: "threshold", opts: Options{Config: map[string]any{"outstandingRequestsThreshold": 42}}, want: []string{"zookeeper_outstanding_requests{job=\"zookeeper\"}) > 42"}},
		{name: "cluster label", opts: Options{Config: map[string]any{"clusterLabel": "k8s_cluster"}}, want: []string{"max by (k8s_cluster, ensemble) (zookeeper_ensemble_leaders"}},
		{name: "unknown key", opts: Options{Config: map[string]any{"quorumAtRiskFr": "1m"}}, wantErr: `unknown rules config key "quorumAtRiskFr"`},
		{name: "key with wrong case", opts: Options{Config: map[string]any{"quorumatriskfor": "1m"}}, wantErr: `did you mean "quorumAtRiskFor"`},
		{name: "wrong type", opts: Options{Config: map[string]any{"quorumAtRiskFor": 2}}, wantErr: `key "quorumAtRiskFor": want a string like "1m", got a number`},
		{name: "bad duration", opts: Options{Config: map[string]any{"quorumLostFor": "2 minutes"}}, wantErr: `key "quorumLostFor": "2 minutes" is not a Prometheus duration`},
		{name: "runbook without %s", opts: Options{Config: map[string]any{"runbookURLPattern": "https://x/runbook"}}, wantErr: `key "runbookURLPattern"`},
		{name: "unmarshalable config", opts: Options{Config: map[string]any{"x": func() {}}}, wantErr: "rules config"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := Generate(tc.opts)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tc.want {
				if !strings.Contains(string(out), w) {
					t.Errorf("output lacks %q", w)
				}
			}
		})
	}
}

// TestAlertConventions checks what every alert must carry.
func TestAlertConventions(t *testing.T) {
	rf, err := Rules(nil)
	if err != nil {
		t.Fatal(err)
	}
	runbook, err := os.ReadFile(filepath.Join(mixinDir, "runbook.md"))
	if err != nil {
		t.Fatal(err)
	}
	headings := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^## (\S+)\s*$`).FindAllStringSubmatch(string(runbook), -1) {
		headings[m[1]] = true
	}
	camel := regexp.MustCompile(`^ZooKeeper[A-Z][A-Za-z]+$`)
	recordName := regexp.MustCompile(`^[a-z_]+:[a-z_]+:[a-z0-9_]+$`)
	seen := map[string]bool{}
	for _, g := range rf.Groups {
		for _, r := range g.Rules {
			if r.Record != "" {
				if !recordName.MatchString(r.Record) {
					t.Errorf("recording rule %s does not follow level:metric:operations", r.Record)
				}
				continue
			}
			if seen[r.Alert] {
				t.Errorf("alert %s defined twice", r.Alert)
			}
			seen[r.Alert] = true
			if !camel.MatchString(r.Alert) {
				t.Errorf("alert %s is not CamelCase ZooKeeper...", r.Alert)
			}
			switch r.Labels["severity"] {
			case "critical", "warning", "info":
			default:
				t.Errorf("alert %s: severity %q", r.Alert, r.Labels["severity"])
			}
			if s := r.Annotations["summary"]; s == "" || strings.Contains(s, "{{") {
				t.Errorf("alert %s: summary must be static and non-empty: %q", r.Alert, s)
			}
			if d := r.Annotations["description"]; !strings.Contains(d, "{{ $labels.ensemble }}") && !strings.Contains(d, "{{ $labels.job }}") {
				t.Errorf("alert %s: description names no ensemble: %q", r.Alert, d)
			}
			if !headings[r.Alert] {
				t.Errorf("alert %s has no '## %s' section in mixin/runbook.md", r.Alert, r.Alert)
			}
			if want := "https://github.com/quorumwatch/zookeeper_exporter/blob/main/mixin/runbook.md#" + strings.ToLower(r.Alert); r.Annotations["runbook_url"] != want {
				t.Errorf("alert %s: runbook_url %q, want %q", r.Alert, r.Annotations["runbook_url"], want)
			}
		}
	}
	for h := range headings {
		if !seen[h] && strings.HasPrefix(h, "ZooKeeper") {
			t.Errorf("runbook section %s has no alert", h)
		}
	}
	names := make([]string, 0, len(seen))
	for n := range seen {
		names = append(names, n)
	}
	sort.Strings(names)
	t.Logf("%d alerts: %s", len(names), strings.Join(names, " "))
}
