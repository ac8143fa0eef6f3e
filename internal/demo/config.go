package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// ensembleName is the demo ensemble's name in metrics and alerts.
const ensembleName = "demo"

func (s *stack) writeExporterConfig() (string, error) {
	var config strings.Builder
	fmt.Fprintf(&config, "ensembles:\n  - name: %s\n    members:\n", ensembleName)
	for _, member := range s.cluster.Members() {
		role := "voter"
		if member.Observer {
			role = "observer"
		}
		fmt.Fprintf(&config, "      - {address: %q, role: %s, server_id: %d}\n", member.ClientAddr, role, member.ID)
	}
	path := filepath.Join(s.root, "zookeeper_exporter.yml")
	if err := os.WriteFile(path, []byte(config.String()), 0o644); err != nil {
		return "", fmt.Errorf("writing the exporter's configuration: %w", err)
	}
	return path, nil
}

// generateRules writes the rules as a user would, with `zookeeper_exporter
// rules`; only the alerts' "for" is shortened so the story fits a demo.
func (s *stack) generateRules() (string, error) {
	path := filepath.Join(s.root, "zookeeper-rules.yml")
	wait := fmt.Sprintf("%q", s.opts.alertFor.String())
	args := []string{"rules", "--rules.output=" + path}
	for _, key := range []string{"quorumAtRiskFor", "quorumLostFor", "voterDownFor", "memberNotServingFor"} {
		args = append(args, "--rules.set="+key+"="+wait)
	}
	if out, err := exec.Command(s.opts.exporter, args...).CombinedOutput(); err != nil {
		return "", fmt.Errorf("%s rules: %w\n%s", s.opts.exporter, err, out)
	}
	return path, nil
}

// startAlertmanager runs Alertmanager with the example configuration's
// routes and inhibit rules; every receiver sends to the demo's webhook, and
// the grouping delays are cut to seconds.
func (s *stack) startAlertmanager(ctx context.Context, webhookURL string) error {
	example, err := os.ReadFile(s.opts.alertmanagerConfig)
	if err != nil {
		return fmt.Errorf("reading the example Alertmanager configuration: %w", err)
	}
	var config map[string]any
	if err := yaml.Unmarshal(example, &config); err != nil {
		return fmt.Errorf("%s: %w", s.opts.alertmanagerConfig, err)
	}
	route, _ := config["route"].(map[string]any)
	receivers, _ := config["receivers"].([]any)
	if route == nil || len(receivers) == 0 {
		return fmt.Errorf("%s has no route or no receivers", s.opts.alertmanagerConfig)
	}
	route["group_wait"], route["group_interval"] = "1s", "5s"
	for _, r := range receivers {
		receiver, _ := r.(map[string]any)
		if receiver == nil {
			return fmt.Errorf("%s: a receiver is not a mapping", s.opts.alertmanagerConfig)
		}
		receiver["webhook_configs"] = []any{map[string]any{
			"url":           webhookURL + "/" + url.PathEscape(fmt.Sprint(receiver["name"])),
			"send_resolved": true,
		}}
	}
	text, err := yaml.Marshal(config)
	if err != nil {
		return fmt.Errorf("encoding the Alertmanager configuration: %w", err)
	}
	path := filepath.Join(s.root, "alertmanager.yml")
	if err := os.WriteFile(path, text, 0o644); err != nil {
		return fmt.Errorf("writing the Alertmanager configuration: %w", err)
	}
	return s.startChild(ctx, "alertmanager", "http://"+s.opts.amListen+"/-/ready", s.opts.alertmanager,
		"--config.file="+path,
		"--storage.path="+filepath.Join(s.root, "alertmanager"),
		"--web.listen-address="+s.opts.amListen,
		"--cluster.listen-address=", // a single instance: no gossip port
	)
}

// startPrometheus runs Prometheus on the example configuration, scraping
// the exporter every second with the generated rules and Alertmanager.
func (s *stack) startPrometheus(ctx context.Context, rulesPath string) error {
	example := s.opts.prometheusConfig
	text, err := os.ReadFile(example)
	if err != nil {
		return fmt.Errorf("reading the example Prometheus configuration: %w", err)
	}
	var config map[string]any
	if err := yaml.Unmarshal(text, &config); err != nil {
		return fmt.Errorf("%s: %w", example, err)
	}
	global, err1 := dig(config, "global")
	alertmanagers, err2 := dig(config, "alerting", "alertmanagers", 0, "static_configs", 0)
	exporters, err3 := dig(config, "scrape_configs", 0, "static_configs", 0)
	if err := errors.Join(err1, err2, err3); err != nil {
		return fmt.Errorf("%s: %w", example, err)
	}
	// Seconds, not the example's 15s, so that the story moves at once.
	global["scrape_interval"], global["evaluation_interval"], global["scrape_timeout"] = "1s", "1s", "1s"
	config["rule_files"] = []any{rulesPath}
	alertmanagers["targets"] = []any{s.opts.amListen}
	exporters["targets"] = []any{s.opts.exporterListen}
	if text, err = yaml.Marshal(config); err != nil {
		return fmt.Errorf("encoding the Prometheus configuration: %w", err)
	}
	path := filepath.Join(s.root, "prometheus.yml")
	if err := os.WriteFile(path, text, 0o644); err != nil {
		return fmt.Errorf("writing the Prometheus configuration: %w", err)
	}
	return s.startChild(ctx, "prometheus", "http://"+s.opts.prometheusListen+"/-/ready", s.opts.prometheus,
		"--config.file="+path,
		"--storage.tsdb.path="+filepath.Join(s.root, "prometheus"),
		"--web.listen-address="+s.opts.prometheusListen,
		"--rules.alert.resend-delay=1s",
	)
}

// dig returns the mapping at the path of map keys and list indexes.
func dig(document any, path ...any) (map[string]any, error) {
	node := document
	for i, step := range path {
		switch key := step.(type) {
		case string:
			m, _ := node.(map[string]any)
			node = m[key]
		case int:
			l, _ := node.([]any)
			node = nil
			if key < len(l) {
				node = l[key]
			}
		}
		if node == nil {
			return nil, fmt.Errorf("no %v", path[:i+1])
		}
	}
	m, ok := node.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%v is not a mapping", path)
	}
	return m, nil
}

// notification is the part of Alertmanager's webhook payload the demo
// prints.
type notification struct {
	Receiver string `json:"receiver"`
	Alerts   []struct {
		Status      string            `json:"status"`
		Labels      map[string]string `json:"labels"`
		Annotations map[string]string `json:"annotations"`
	} `json:"alerts"`
}

func (s *stack) printNotification(w http.ResponseWriter, r *http.Request) {
	var n notification
	if err := json.NewDecoder(r.Body).Decode(&n); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	for _, alert := range n.Alerts {
		member := ""
		if m := alert.Labels["member"]; m != "" {
			member = " member=" + m
		}
		s.printf("%s  Alertmanager -> %-6s %-8s %s ensemble=%s%s: %s\n", time.Now().Format("15:04:05"), n.Receiver,
			strings.ToUpper(alert.Status), alert.Labels["alertname"], alert.Labels["ensemble"], member, alert.Annotations["summary"])
	}
}
