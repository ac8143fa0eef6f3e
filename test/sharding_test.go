package e2e

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/quorumwatch/zookeeper_exporter/internal/zkcluster"
)

// TestSharding is issue #12's sharding example on real parts, with the
// files of examples/sharding/: the exporter knows every ensemble of the
// example (each name pointing at one real standalone member here, to stay
// cheap), and two Prometheus shards split them with hashmod over /probe
// targets from file_sd. Each shard must scrape only its ensembles, both
// shards some, and every ensemble exactly one shard, by the targets API and
// by the series each shard stored.
func TestSharding(t *testing.T) {
	prometheusBinary := lookTool(t, "prometheus", "prometheus")
	member := zkcluster.StartT(t, zkcluster.Options{Standalone: true}).Members()[0]
	examples := filepath.Join("..", "examples", "sharding")
	dir := t.TempDir()

	var targets []map[string][]string
	readYAMLInto(t, filepath.Join(examples, "ensembles.yml"), &targets)
	var names []string
	for _, group := range targets {
		names = append(names, group["targets"]...)
	}
	sort.Strings(names)
	exporterBase, _, _ := startExporter(t, "--config.file="+shardedExporterConfig(t, examples, dir, names, member.ClientAddr))
	ensembles, err := os.ReadFile(filepath.Join(examples, "ensembles.yml"))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "ensembles.yml"), ensembles)

	scraped := map[string][]string{} // shard -> ensembles
	owner := map[string][]string{}   // ensemble -> shards
	for _, shard := range []string{"0", "1"} {
		base := startShard(t, prometheusBinary, examples, dir, shard, hostPort(exporterBase))
		scraped[shard] = shardTargets(t, base, shard, names)
		for _, ensemble := range scraped[shard] {
			owner[ensemble] = append(owner[ensemble], shard)
		}
		stored := shardSeries(t, base, len(scraped[shard]))
		if !slices.Equal(stored, scraped[shard]) {
			t.Errorf("shard %s stored zookeeper_ensemble_voters of %v, but scrapes %v", shard, stored, scraped[shard])
		}
		if len(scraped[shard]) == 0 {
			t.Errorf("shard %s scrapes no ensemble of %v: the example's names do not spread", shard, names)
		}
		t.Logf("shard %s scrapes %v", shard, scraped[shard])
	}
	for _, name := range names {
		if len(owner[name]) != 1 {
			t.Errorf("ensemble %s is scraped by shards %v, want exactly one", name, owner[name])
		}
	}
}

// readYAMLInto decodes a YAML file, failing the test naming it.
func readYAMLInto(t *testing.T, path string, into any) {
	t.Helper()
	text, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(text, into); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// shardedExporterConfig is the example's exporter configuration, whose
// ensembles must be the file_sd targets, with every member replaced by the
// one real member.
func shardedExporterConfig(t *testing.T, examples, dir string, names []string, address string) string {
	t.Helper()
	example := filepath.Join(examples, "zookeeper_exporter.yml")
	config := loadYAML(t, example)
	var configured []string
	for _, e := range dig(t, example, config, "ensembles").([]any) {
		ensemble := e.(map[string]any)
		configured = append(configured, fmt.Sprint(ensemble["name"]))
		ensemble["members"] = []any{map[string]any{"address": address}}
	}
	sort.Strings(configured)
	if !slices.Equal(configured, names) {
		t.Fatalf("%s configures %v, but ensembles.yml lists %v", example, configured, names)
	}
	return writeYAML(t, dir, "zookeeper_exporter.yml", config)
}

// startShard runs Prometheus with examples/sharding/prometheus-shard-N.yml,
// where only the exporter's address, the rule file and the intervals (to
// one second) are replaced; its file_sd file sits next to it, as in the
// example.
func startShard(t *testing.T, binary, examples, dir, shard, exporter string) string {
	t.Helper()
	example := filepath.Join(examples, "prometheus-shard-"+shard+".yml")
	config := loadYAML(t, example)
	twin := loadYAML(t, filepath.Join(examples, "prometheus-shard-"+map[string]string{"0": "1", "1": "0"}[shard]+".yml"))
	dig(t, example, twin, "global", "external_labels").(map[string]any)["shard"] = shard
	relabel := dig(t, example, twin, "scrape_configs", 0, "relabel_configs").([]any)
	for _, r := range relabel {
		if rule := r.(map[string]any); rule["action"] == "keep" {
			rule["regex"] = shard
		}
	}
	if !reflect.DeepEqual(config, twin) {
		t.Fatalf("%s and the other shard's file differ in more than the shard number", example)
	}
	global := dig(t, example, config, "global").(map[string]any)
	global["scrape_interval"], global["evaluation_interval"], global["scrape_timeout"] = "1s", "1s", "1s"
	config["rule_files"] = []any{}
	delete(config, "alerting")
	replaced := false
	for _, r := range dig(t, example, config, "scrape_configs", 0, "relabel_configs").([]any) {
		if rule := r.(map[string]any); rule["target_label"] == "__address__" {
			rule["replacement"], replaced = exporter, true
		}
	}
	if !replaced {
		t.Fatalf("%s sets no __address__", example)
	}
	configPath := writeYAML(t, dir, "prometheus-shard-"+shard+".yml", config)
	base, _ := startDaemon(t, "Prometheus shard "+shard, binary, func(address string) []string {
		return []string{
			"--config.file=" + configPath,
			"--storage.tsdb.path=" + filepath.Join(dir, "prometheus-shard-"+shard),
			"--web.listen-address=" + address,
		}
	})
	return base
}

// shardTargets waits until the shard's active targets are all up and
// returns the ensembles they probe, checking each target's URL asks the
// exporter for the ensemble its instance label names.
func shardTargets(t *testing.T, base, shard string, names []string) []string {
	t.Helper()
	var ensembles []string
	pollUntil(t, "shard "+shard+"'s targets up", func() (bool, string) {
		targets, err := activeTargets(base)
		if err != nil || len(targets) == 0 {
			return false, fmt.Sprintf("%+v %v", targets, err)
		}
		ensembles = nil
		for _, target := range targets {
			if target.Health != "up" {
				return false, fmt.Sprintf("%+v", targets)
			}
			ensembles = append(ensembles, target.Labels["instance"])
		}
		return true, ""
	})
	sort.Strings(ensembles)
	for _, ensemble := range ensembles {
		if !slices.Contains(names, ensemble) {
			t.Errorf("shard %s scrapes %q, which ensembles.yml does not list", shard, ensemble)
		}
	}
	return ensembles
}

// shardSeries returns the ensembles whose zookeeper_ensemble_voters the
// shard stored, once it holds want of them.
func shardSeries(t *testing.T, base string, want int) []string {
	t.Helper()
	var ensembles []string
	query := "count by (ensemble) (zookeeper_ensemble_voters)"
	pollUntil(t, "the shard to store "+fmt.Sprint(want)+" ensembles", func() (bool, string) {
		var response struct {
			Data struct {
				Result []struct {
					Metric map[string]string `json:"metric"`
				} `json:"result"`
			} `json:"data"`
		}
		if err := getJSON(base+"/api/v1/query?query="+url.QueryEscape(query), &response); err != nil {
			return false, err.Error()
		}
		ensembles = nil
		for _, sample := range response.Data.Result {
			ensembles = append(ensembles, sample.Metric["ensemble"])
		}
		return len(ensembles) >= want, fmt.Sprint(ensembles)
	})
	sort.Strings(ensembles)
	return ensembles
}
