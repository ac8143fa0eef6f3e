// Package rules renders the ZooKeeper mixin's alerting and recording rules
// and its dashboards from the jsonnet embedded in the binary.
package rules

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"regexp"
	"sort"
	"strings"

	"github.com/prometheus/common/model"
	"gopkg.in/yaml.v3"

	"github.com/quorumwatch/zookeeper_exporter/mixin"
)

// Output formats.
const (
	FormatPrometheus         = "prometheus"
	FormatPrometheusOperator = "prometheus-operator"
)

// DefaultName is the PrometheusRule object's name when Options.Name is empty.
const DefaultName = "zookeeper-mixin"

// Options selects what Generate renders.
type Options struct {
	// Format is FormatPrometheus (a rule file) or FormatPrometheusOperator (a
	// PrometheusRule object). Empty means FormatPrometheus.
	Format string
	// Config overrides keys of the mixin's _config (see mixin/config.libsonnet).
	Config map[string]any
	// Name, Namespace and Labels are the PrometheusRule object's metadata;
	// a plain rule file has none, so they are ignored there.
	Name, Namespace string
	Labels          map[string]string
}

// The snippets take the overrides as a top-level argument so that the
// composition is exactly (import 'mixin.libsonnet') + { _config+:: overrides }.
const (
	rulesSnippet = `function(overrides)
  local m = (import 'mixin.libsonnet') + { _config+:: overrides };
  { groups: m.prometheusRules.groups + m.prometheusAlerts.groups }`
	dashboardsSnippet = `function(overrides)
  ((import 'mixin.libsonnet') + { _config+:: overrides }).grafanaDashboards`
	configSnippet = `function(overrides) (import 'mixin.libsonnet')._config`
)

// RuleFile is a Prometheus rule file. Field order gives the usual layout.
type RuleFile struct {
	Groups []RuleGroup `json:"groups" yaml:"groups"`
}

// RuleGroup is one rule group.
type RuleGroup struct {
	Name     string `json:"name" yaml:"name"`
	Interval string `json:"interval,omitempty" yaml:"interval,omitempty"`
	Rules    []Rule `json:"rules" yaml:"rules"`
}

// Rule is a recording or an alerting rule.
type Rule struct {
	Record        string            `json:"record,omitempty" yaml:"record,omitempty"`
	Alert         string            `json:"alert,omitempty" yaml:"alert,omitempty"`
	Expr          string            `json:"expr" yaml:"expr"`
	For           string            `json:"for,omitempty" yaml:"for,omitempty"`
	KeepFiringFor string            `json:"keep_firing_for,omitempty" yaml:"keep_firing_for,omitempty"`
	Labels        map[string]string `json:"labels,omitempty" yaml:"labels,omitempty"`
	Annotations   map[string]string `json:"annotations,omitempty" yaml:"annotations,omitempty"`
}

type prometheusRule struct {
	APIVersion string     `yaml:"apiVersion"`
	Kind       string     `yaml:"kind"`
	Metadata   objectMeta `yaml:"metadata"`
	Spec       RuleFile   `yaml:"spec"`
}

type objectMeta struct {
	Name      string            `yaml:"name"`
	Namespace string            `yaml:"namespace,omitempty"`
	Labels    map[string]string `yaml:"labels,omitempty"`
}

// Generate renders the mixin's rules as a Prometheus rule file or as a
// Prometheus Operator PrometheusRule object, both YAML.
func Generate(opts Options) ([]byte, error) {
	format := opts.Format
	if format == "" {
		format = FormatPrometheus
	}
	if format != FormatPrometheus && format != FormatPrometheusOperator {
		return nil, fmt.Errorf("unknown rules format %q: want %q or %q", opts.Format, FormatPrometheus, FormatPrometheusOperator)
	}
	rf, err := Rules(opts.Config)
	if err != nil {
		return nil, err
	}
	if format == FormatPrometheus {
		return marshalYAML(rf)
	}
	name := opts.Name
	if name == "" {
		name = DefaultName
	}
	if err := checkObjectMeta(name, opts.Namespace, opts.Labels); err != nil {
		return nil, err
	}
	return marshalYAML(prometheusRule{
		APIVersion: "monitoring.coreos.com/v1",
		Kind:       "PrometheusRule",
		Metadata:   objectMeta{Name: name, Namespace: opts.Namespace, Labels: opts.Labels},
		Spec:       rf,
	})
}

// Rules evaluates the mixin's recording and alerting rules, in that order.
func Rules(config map[string]any) (RuleFile, error) {
	var rf RuleFile
	overrides, err := checkConfig(mixin.FS(), config)
	if err != nil {
		return rf, err
	}
	out, err := evaluate(mixin.FS(), rulesSnippet, overrides)
	if err != nil {
		return rf, err
	}
	// Unknown fields mean the mixin grew a rule field this type drops.
	dec := json.NewDecoder(strings.NewReader(out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rf); err != nil {
		return rf, fmt.Errorf("decoding the mixin's rules: %w", err)
	}
	return rf, nil
}

// Dashboards renders the mixin's Grafana dashboards, keyed by file name
// (e.g. "zookeeper-overview.json").
func Dashboards(config map[string]any) (map[string][]byte, error) {
	overrides, err := checkConfig(mixin.FS(), config)
	if err != nil {
		return nil, err
	}
	out, err := evaluate(mixin.FS(), dashboardsSnippet, overrides)
	if err != nil {
		return nil, err
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal([]byte(out), &raw); err != nil {
		return nil, fmt.Errorf("decoding the mixin's dashboards: %w", err)
	}
	res := make(map[string][]byte, len(raw))
	for name, d := range raw {
		var buf bytes.Buffer
		if err := json.Indent(&buf, d, "", "  "); err != nil {
			return nil, fmt.Errorf("dashboard %s: %w", name, err)
		}
		buf.WriteByte('\n')
		res[name] = buf.Bytes()
	}
	return res, nil
}

// DefaultConfig returns the mixin's _config as JSON values.
func DefaultConfig() (map[string]any, error) {
	return defaultConfig(mixin.FS())
}

func defaultConfig(fsys fs.FS) (map[string]any, error) {
	out, err := evaluate(fsys, configSnippet, []byte("{}"))
	if err != nil {
		return nil, err
	}
	var cfg map[string]any
	if err := json.Unmarshal([]byte(out), &cfg); err != nil {
		return nil, fmt.Errorf("decoding the mixin's _config: %w", err)
	}
	return cfg, nil
}

// checkConfig validates overrides against the mixin's defaults and returns
// them as JSON. A typo or a wrongly typed value would otherwise be silently
// ignored or surface as a jsonnet stack trace.
func checkConfig(fsys fs.FS, config map[string]any) ([]byte, error) {
	if len(config) == 0 {
		return []byte("{}"), nil
	}
	b, err := json.Marshal(config)
	if err != nil {
		return nil, fmt.Errorf("rules config: %w", err)
	}
	var overrides map[string]any
	if err := json.Unmarshal(b, &overrides); err != nil {
		return nil, fmt.Errorf("rules config: %w", err)
	}
	defaults, err := defaultConfig(fsys)
	if err != nil {
		return nil, err
	}
	keys := make([]string, 0, len(overrides))
	for k := range overrides {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if err := checkValue(k, overrides[k], defaults); err != nil {
			return nil, err
		}
	}
	return b, nil
}

func checkValue(key string, v any, defaults map[string]any) error {
	def, ok := defaults[key]
	if !ok {
		for known := range defaults {
			if strings.EqualFold(known, key) {
				return fmt.Errorf("unknown rules config key %q (did you mean %q?)", key, known)
			}
		}
		return fmt.Errorf("unknown rules config key %q (the keys are the _config fields in mixin/config.libsonnet)", key)
	}
	if want, got := jsonKind(def), jsonKind(v); want != got {
		return fmt.Errorf("rules config key %q: want a %s like %s, got a %s", key, want, mustJSON(def), got)
	}
	// Keys whose default is a duration must stay durations, or the rule file
	// only fails later, in Prometheus.
	if s, ok := def.(string); ok {
		if _, err := model.ParseDuration(s); err == nil {
			if _, err := model.ParseDuration(v.(string)); err != nil {
				return fmt.Errorf("rules config key %q: %q is not a Prometheus duration like %q", key, v, s)
			}
		}
	}
	if key == "runbookURLPattern" && strings.Count(v.(string), "%s") != 1 {
		return fmt.Errorf("rules config key %q: %q must contain %%s exactly once, for the alert name", key, v)
	}
	return nil
}

func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case float64:
		return "number"
	case string:
		return "string"
	case []any:
		return "list"
	default:
		return "object"
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

var (
	// Kubernetes object names are DNS subdomains, namespaces DNS labels.
	dnsSubdomain = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)
	dnsLabel     = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
	labelName    = regexp.MustCompile(`^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$`)
	labelValue   = regexp.MustCompile(`^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$`)
)

func checkObjectMeta(name, namespace string, labels map[string]string) error {
	if len(name) > 253 || !dnsSubdomain.MatchString(name) {
		return fmt.Errorf("PrometheusRule name %q: want lower-case letters, digits, '-' and '.'", name)
	}
	if namespace != "" && (len(namespace) > 63 || !dnsLabel.MatchString(namespace)) {
		return fmt.Errorf("PrometheusRule namespace %q: want at most 63 lower-case letters, digits and '-'", namespace)
	}
	for k, v := range labels {
		if len(k) > 316 || !labelName.MatchString(k) {
			return fmt.Errorf("PrometheusRule label name %q is not a valid Kubernetes label name", k)
		}
		if len(v) > 63 || !labelValue.MatchString(v) {
			return fmt.Errorf("PrometheusRule label %q: value %q is not a valid Kubernetes label value", k, v)
		}
	}
	return nil
}

func marshalYAML(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
