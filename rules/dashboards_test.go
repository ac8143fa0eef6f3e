package rules

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

type grafanaPanel struct {
	ID         int              `json:"id"`
	Type       string           `json:"type"`
	Title      string           `json:"title"`
	Datasource map[string]any   `json:"datasource"`
	Targets    []map[string]any `json:"targets"`
	Panels     []grafanaPanel   `json:"panels"`
}

type grafanaDashboard struct {
	UID        string         `json:"uid"`
	Title      string         `json:"title"`
	Tags       []string       `json:"tags"`
	Refresh    string         `json:"refresh"`
	Panels     []grafanaPanel `json:"panels"`
	Templating struct {
		List []struct {
			Name       string         `json:"name"`
			Type       string         `json:"type"`
			Query      any            `json:"query"`
			Datasource map[string]any `json:"datasource"`
		} `json:"list"`
	} `json:"templating"`
}

func TestDashboards(t *testing.T) {
	for name, config := range map[string]map[string]any{"defaults": nil, "overrides": overrides} {
		t.Run(name, func(t *testing.T) {
			clusterLabel, wantTags := "cluster", []string{"zookeeper", "zookeeper-mixin"}
			if config != nil {
				clusterLabel, wantTags = config["clusterLabel"].(string), []string{"zk"}
			}
			dashboards, err := Dashboards(config)
			if err != nil {
				t.Fatal(err)
			}
			if len(dashboards) < 2 {
				t.Fatalf("want the overview and maintenance dashboards, got %d", len(dashboards))
			}
			uids := map[string]string{}
			for file, b := range dashboards {
				var d grafanaDashboard
				if err := json.Unmarshal(b, &d); err != nil {
					t.Fatalf("%s: %v", file, err)
				}
				if prev, ok := uids[d.UID]; ok || d.UID == "" {
					t.Errorf("%s: uid %q empty or shared with %s", file, d.UID, prev)
				}
				uids[d.UID] = file
				if !reflect.DeepEqual(d.Tags, wantTags) || d.Refresh != "30s" {
					t.Errorf("%s: tags %v refresh %q, want %v and 30s from _config", file, d.Tags, d.Refresh, wantTags)
				}
				checkVariables(t, file, d)
				checkPanels(t, file, d.Panels, clusterLabel, map[int]string{})
			}
		})
	}
}

func checkVariables(t *testing.T, file string, d grafanaDashboard) {
	t.Helper()
	vars := map[string]bool{}
	for _, v := range d.Templating.List {
		vars[v.Name] = true
		switch v.Name {
		case "datasource":
			if v.Type != "datasource" || v.Query != "prometheus" {
				t.Errorf("%s: datasource variable is %s/%v, want a prometheus datasource variable", file, v.Type, v.Query)
			}
		default:
			checkDatasource(t, file, "variable "+v.Name, v.Datasource)
		}
	}
	for _, v := range []string{"datasource", "cluster", "job", "ensemble"} {
		if !vars[v] {
			t.Errorf("%s: want a %s variable, have %v", file, v, vars)
		}
	}
}

// checkPanels walks panels and rows: unique ids, the datasource variable
// everywhere, replica-safe queries.
func checkPanels(t *testing.T, file string, panels []grafanaPanel, clusterLabel string, ids map[int]string) {
	t.Helper()
	for _, p := range panels {
		if prev, ok := ids[p.ID]; ok || p.ID == 0 {
			t.Errorf("%s: panel %q has id %d, also used by %q", file, p.Title, p.ID, prev)
		}
		ids[p.ID] = p.Title
		checkPanels(t, file, p.Panels, clusterLabel, ids)
		if p.Type == "row" {
			continue
		}
		checkDatasource(t, file, "panel "+p.Title, p.Datasource)
		if len(p.Targets) == 0 {
			t.Errorf("%s: panel %q has no queries", file, p.Title)
		}
		for _, target := range p.Targets {
			ds, _ := target["datasource"].(map[string]any)
			checkDatasource(t, file, "a query of panel "+p.Title, ds)
			checkReplicaSafe(t, file, p.Title, target["expr"].(string), clusterLabel)
		}
	}
}

func checkDatasource(t *testing.T, file, what string, ds map[string]any) {
	t.Helper()
	if ds["uid"] != "${datasource}" || ds["type"] != "prometheus" {
		t.Errorf("%s: %s uses datasource %v, want the ${datasource} variable", file, what, ds)
	}
}

// checkReplicaSafe: two exporter replicas serve the same series with
// different instance labels, so a panel query must aggregate every selector
// by the ensemble's identity, cluster label first, or it draws two lines
// (or sums double).
func checkReplicaSafe(t *testing.T, file, panel, expr, clusterLabel string) {
	t.Helper()
	selectors := strings.Count(expr, "{")
	aggregations := strings.Count(expr, "by ("+clusterLabel+", ensemble")
	if aggregations == 0 || strings.Contains(expr, "by (ensemble") {
		t.Errorf("%s: panel %q: query not aggregated by (%s, ensemble...): %s", file, panel, clusterLabel, expr)
	}
	if !strings.Contains(expr, clusterLabel+`=~"$cluster"`) || selectors == 0 {
		t.Errorf("%s: panel %q: query ignores the cluster variable: %s", file, panel, expr)
	}
}
