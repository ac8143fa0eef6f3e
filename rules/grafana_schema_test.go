package rules

import (
	"bytes"
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/plugins"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
)

// checkGrafanaSchema decodes a dashboard with Grafana's own generated types,
// strictly: an unknown field or a wrongly typed value anywhere (including
// panel options, custom field config and Prometheus queries) is an error.
func checkGrafanaSchema(b []byte) error {
	plugins.RegisterDefaultPlugins()
	// The mixin's dashboards are the classic JSON model Grafana imports
	// (schemaVersion 39), which this type describes; dashboardv2 is a
	// different, resource-shaped schema.
	//lint:ignore SA1019 the classic model is the one we generate
	var d dashboard.Dashboard
	if err := d.UnmarshalJSONStrict(b); !isNil(err) {
		return fmt.Errorf("not a valid Grafana dashboard: %w", err)
	}
	if err := d.Validate(); err != nil {
		return fmt.Errorf("invalid Grafana dashboard: %w", err)
	}
	return nil
}

func TestDashboardsMatchGrafanaSchema(t *testing.T) {
	for name, config := range map[string]map[string]any{"defaults": nil, "overrides": overrides} {
		dashboards, err := Dashboards(config)
		if err != nil {
			t.Fatal(err)
		}
		for _, file := range sortedKeys(dashboards) {
			t.Run(name+"/"+file, func(t *testing.T) {
				if err := checkGrafanaSchema(dashboards[file]); err != nil {
					t.Error(err)
				}
			})
		}
	}
}

// TestGrafanaSchemaCheckRejectsBrokenDashboards proves the check above can
// fail: each case breaks a copy of a generated dashboard the way a typo or a
// wrong type in the jsonnet would.
func TestGrafanaSchemaCheckRejectsBrokenDashboards(t *testing.T) {
	dashboards, err := Dashboards(nil)
	if err != nil {
		t.Fatal(err)
	}
	orig := dashboards["zookeeper-overview.json"]
	for _, tc := range []struct {
		name, from, to string
		// want is what the error must name, so the author finds the typo.
		want string
	}{
		{"typo in a dashboard field", `"refresh":`, `"refesh":`, "refesh"},
		{"typo in a panel field", `"gridPos":`, `"gridPosition":`, "gridPosition"},
		{"typo in a query field", `"legendFormat":`, `"legendFromat":`, "legendFromat"},
		{"typo in a stat option", `"colorMode":`, `"colourMode":`, "colorMode"},
		{"title as a number", `"title": "ZooKeeper / Ensemble overview"`, `"title": 42`, "title"},
		{"panel width as a string", `"w": 24`, `"w": "24"`, "gridPos.w"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if !bytes.Contains(orig, []byte(tc.from)) {
				t.Fatalf("the overview dashboard has no %s to break", tc.from)
			}
			broken := bytes.Replace(orig, []byte(tc.from), []byte(tc.to), 1)
			err := checkGrafanaSchema(broken)
			if err == nil {
				t.Fatalf("a dashboard with %s -> %s passed the check", tc.from, tc.to)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("the error does not name %s: %v", tc.want, err)
			}
		})
	}
}

// isNil: the SDK returns its error list typed, so no errors is a non-nil
// error holding an empty list.
func isNil(err error) bool {
	var list cog.BuildErrors
	if errors.As(err, &list) {
		return len(list) == 0
	}
	return err == nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
