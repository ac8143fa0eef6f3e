package rules

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

func TestPromtoolCheckRules(t *testing.T) {
	promtool := tool(t, "promtool", "prometheus")
	dir := t.TempDir()
	for _, config := range []map[string]any{nil, overrides} {
		plain := writeFile(t, dir, "rules.yaml", mustGenerate(t, Options{Config: config}))
		run(t, promtool, "check", "rules", plain)

		// promtool knows rule files only, so check the object's spec.
		var obj prometheusRule
		if err := yaml.Unmarshal(mustGenerate(t, Options{Format: FormatPrometheusOperator, Config: config}), &obj); err != nil {
			t.Fatal(err)
		}
		if obj.APIVersion != "monitoring.coreos.com/v1" || obj.Kind != "PrometheusRule" || obj.Metadata.Name != DefaultName {
			t.Fatalf("unexpected object header: %+v", obj)
		}
		spec, err := marshalYAML(obj.Spec)
		if err != nil {
			t.Fatal(err)
		}
		run(t, promtool, "check", "rules", writeFile(t, dir, "spec.yaml", spec))
	}
}

// TestPromtoolUnitTests runs every mixin/tests/*.yaml against the rules the
// generator makes, so `go test ./...` covers the alert behaviour too.
func TestPromtoolUnitTests(t *testing.T) {
	promtool := tool(t, "promtool", "prometheus")
	dir := t.TempDir()
	ruleFile := writeFile(t, dir, "zookeeper_rules.yaml", mustGenerate(t, Options{}))
	rf, err := Rules(nil)
	if err != nil {
		t.Fatal(err)
	}
	var groups []string
	for _, g := range rf.Groups {
		groups = append(groups, g.Name)
	}
	files, err := filepath.Glob(filepath.Join(mixinDir, "tests", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no promtool tests in %s/tests (%v)", mixinDir, err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			var doc map[string]any
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if err := yaml.Unmarshal(b, &doc); err != nil {
				t.Fatal(err)
			}
			// promtool evaluates groups missing from group_eval_order first,
			// in random order: alerts would read recording rules one
			// evaluation late, some runs only.
			if order := fmt.Sprint(doc["group_eval_order"]); order != fmt.Sprint(anySlice(groups)) {
				t.Errorf("group_eval_order is %s, want every group, recording rules first: %v", order, groups)
			}
			doc["rule_files"] = []string{ruleFile}
			out, err := yaml.Marshal(doc)
			if err != nil {
				t.Fatal(err)
			}
			run(t, promtool, "test", "rules", writeFile(t, dir, filepath.Base(f), out))
		})
	}
}

// TestEveryAlertHasUnitTests: each alert must be seen firing in some
// promtool test, not just asserted silent.
func TestEveryAlertHasUnitTests(t *testing.T) {
	rf, err := Rules(nil)
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(mixinDir, "tests", "*.yaml"))
	fired := map[string]bool{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Tests []struct {
				AlertRuleTest []struct {
					Alertname string           `yaml:"alertname"`
					ExpAlerts []map[string]any `yaml:"exp_alerts"`
				} `yaml:"alert_rule_test"`
			} `yaml:"tests"`
		}
		if err := yaml.Unmarshal(b, &doc); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, tc := range doc.Tests {
			for _, a := range tc.AlertRuleTest {
				if len(a.ExpAlerts) > 0 {
					fired[a.Alertname] = true
				}
			}
		}
	}
	var missing []string
	for _, g := range rf.Groups {
		for _, r := range g.Rules {
			if r.Alert != "" && !fired[r.Alert] {
				missing = append(missing, r.Alert)
			}
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Fatalf("alerts never expected to fire in mixin/tests: %s", strings.Join(missing, ", "))
	}
}

func anySlice(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}
