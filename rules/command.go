package rules

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/alecthomas/kingpin/v2"
)

// Command renders rules (and optionally dashboards) from command-line flags.
type Command struct {
	format           string
	selector         string
	exporterSelector string
	clusterLabel     string
	runbookURL       string
	sets             []string
	output           string
	name             string
	namespace        string
	labels           map[string]string
	dashboardsDir    string
}

// Register adds the rule generator's flags to cmd.
func Register(cmd *kingpin.CmdClause) *Command {
	// kingpin writes --rules.label into the map without allocating it.
	c := &Command{labels: map[string]string{}}
	cmd.Flag("rules.format", "Output format: a Prometheus rule file or a Prometheus Operator PrometheusRule object.").
		Default(FormatPrometheus).EnumVar(&c.format, FormatPrometheus, FormatPrometheusOperator)
	cmd.Flag("rules.selector", `Label selector of the exporter's zookeeper_* series, e.g. 'job="zookeeper"' (sets zookeeperSelector).`).
		StringVar(&c.selector)
	cmd.Flag("rules.exporter-selector", `Label selector of the exporter's own scrape job (sets exporterSelector).`).
		StringVar(&c.exporterSelector)
	cmd.Flag("rules.cluster-label", `Label that tells clusters apart in every aggregation and join, e.g. k8s_cluster (sets clusterLabel; default "cluster").`).
		StringVar(&c.clusterLabel)
	cmd.Flag("rules.runbook-url-pattern", "Runbook URL with %s for the lower-cased alert name (sets runbookURLPattern).").
		StringVar(&c.runbookURL)
	cmd.Flag("rules.set", `Override a mixin _config key with a JSON value, e.g. quorumAtRiskFor='"2m"' or followerBehindThreshold=5000. Repeatable.`).
		PlaceHolder("KEY=VALUE").StringsVar(&c.sets)
	cmd.Flag("rules.output", `File to write the rules to; "-" is standard output.`).
		Default("-").StringVar(&c.output)
	cmd.Flag("rules.name", "PrometheusRule object name (prometheus-operator format).").
		Default(DefaultName).StringVar(&c.name)
	cmd.Flag("rules.namespace", "PrometheusRule object namespace (prometheus-operator format); empty leaves it to kubectl.").
		StringVar(&c.namespace)
	cmd.Flag("rules.label", "PrometheusRule object label, e.g. release=kube-prometheus-stack (prometheus-operator format). Repeatable.").
		PlaceHolder("KEY=VALUE").StringMapVar(&c.labels)
	cmd.Flag("rules.dashboards-dir", "Also write the Grafana dashboards as JSON files into this directory.").
		StringVar(&c.dashboardsDir)
	return c
}

// Run writes the rules to the configured output, stdout for "-".
func (c *Command) Run(stdout io.Writer) error {
	config, err := c.config()
	if err != nil {
		return err
	}
	out, err := Generate(Options{
		Format:    c.format,
		Config:    config,
		Name:      c.name,
		Namespace: c.namespace,
		Labels:    c.labels,
	})
	if err != nil {
		return err
	}
	if c.output == "-" || c.output == "" {
		if _, err := stdout.Write(out); err != nil {
			return err
		}
	} else if err := os.WriteFile(c.output, out, 0o644); err != nil {
		return fmt.Errorf("writing rules: %w", err)
	}
	if c.dashboardsDir == "" {
		return nil
	}
	dashboards, err := Dashboards(config)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(c.dashboardsDir, 0o755); err != nil {
		return fmt.Errorf("writing dashboards: %w", err)
	}
	names := make([]string, 0, len(dashboards))
	for name := range dashboards {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if err := os.WriteFile(filepath.Join(c.dashboardsDir, name), dashboards[name], 0o644); err != nil {
			return fmt.Errorf("writing dashboards: %w", err)
		}
	}
	return nil
}

// config merges the dedicated flags and --rules.set into _config overrides.
// Setting one key twice is an error rather than a silent last-one-wins.
func (c *Command) config() (map[string]any, error) {
	config := map[string]any{}
	from := map[string]string{}
	add := func(key string, v any, flag string) error {
		if prev, ok := from[key]; ok {
			return fmt.Errorf("%s: config key %q is already set by %s", flag, key, prev)
		}
		config[key] = v
		from[key] = flag
		return nil
	}
	for _, f := range []struct{ key, value, flag string }{
		{"zookeeperSelector", c.selector, "--rules.selector"},
		{"exporterSelector", c.exporterSelector, "--rules.exporter-selector"},
		{"clusterLabel", c.clusterLabel, "--rules.cluster-label"},
		{"runbookURLPattern", c.runbookURL, "--rules.runbook-url-pattern"},
	} {
		if f.value != "" {
			if err := add(f.key, f.value, f.flag); err != nil {
				return nil, err
			}
		}
	}
	for _, s := range c.sets {
		key, raw, ok := strings.Cut(s, "=")
		key = strings.TrimSpace(key)
		if !ok || key == "" {
			return nil, fmt.Errorf("--rules.set %q: want KEY=VALUE", s)
		}
		var v any
		if err := json.Unmarshal([]byte(raw), &v); err != nil {
			return nil, fmt.Errorf("--rules.set %s: value %s is not JSON (quote strings: %s='%q'): %v", key, raw, key, raw, err)
		}
		if err := add(key, v, "--rules.set"); err != nil {
			return nil, err
		}
	}
	return config, nil
}
