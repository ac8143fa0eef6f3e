package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// The real Prometheus, Alertmanager and webhook receiver the alert tests
// run, and how they are queried.

// generateRules writes the rules as a user generates them, with short "for"
// durations so the tests run in seconds. The quorum alerts keep a non-zero
// "for" so that they go through pending like in production.
func generateRules(t *testing.T, dir string) string {
	t.Helper()
	rulesPath := filepath.Join(dir, "rules.yml")
	if out, err := exec.Command(exporterBinary, "rules",
		"--rules.output="+rulesPath,
		`--rules.selector=job="zookeeper"`,
		`--rules.exporter-selector=job="zookeeper"`,
		`--rules.set=quorumAtRiskFor="3s"`,
		`--rules.set=quorumLostFor="3s"`,
		`--rules.set=voterDownFor="0s"`,
		`--rules.set=memberNotServingFor="0s"`,
	).CombinedOutput(); err != nil {
		t.Fatalf("zookeeper_exporter rules: %v\n%s", err, out)
	}
	return rulesPath
}

// hostPort strips the scheme from a base URL.
func hostPort(base string) string { return strings.TrimPrefix(base, "http://") }

// waitTargetsUp waits until Prometheus has want healthy targets in job.
func waitTargetsUp(t *testing.T, base, job string, want int) {
	t.Helper()
	pollUntil(t, fmt.Sprintf("%d %s targets up in Prometheus", want, job), func() (bool, string) {
		targets, err := activeTargets(base)
		if err != nil {
			return false, err.Error()
		}
		up := 0
		for _, target := range targets {
			if target.Labels["job"] == job && target.Health == "up" {
				up++
			}
		}
		return up == want, fmt.Sprintf("targets: %+v", targets)
	})
}

type prometheusTarget struct {
	Labels    map[string]string `json:"labels"`
	Health    string            `json:"health"`
	LastError string            `json:"lastError"`
}

func activeTargets(base string) ([]prometheusTarget, error) {
	var response struct {
		Data struct {
			ActiveTargets []prometheusTarget `json:"activeTargets"`
		} `json:"data"`
	}
	err := getJSON(base+"/api/v1/targets", &response)
	return response.Data.ActiveTargets, err
}

// lookTool finds a binary the test needs or fails naming its Debian package.
func lookTool(t *testing.T, binary, debianPackage string) string {
	t.Helper()
	path, err := exec.LookPath(binary)
	if err != nil {
		t.Fatalf("%s not found (apt-get install -y %s): %v", binary, debianPackage, err)
	}
	return path
}

// daemon is a server process a test started.
type daemon struct {
	name   string
	base   string // http://address
	logs   *lockedBuffer
	cmd    *exec.Cmd
	exited chan struct{}
}

// kill SIGKILLs the server and waits until it is gone. A process started
// elsewhere (exited nil) is reaped by whoever started it.
func (d *daemon) kill() {
	_ = d.cmd.Process.Kill()
	if d.exited != nil {
		<-d.exited
	}
}

// startDaemon runs a server on a free loopback port, kills it and waits for
// it in t.Cleanup, and waits until base+"/-/ready" answers 200.
func startDaemon(t *testing.T, name, binary string, args func(address string) []string) (base string, logs *lockedBuffer) {
	t.Helper()
	d := startDaemonProcess(t, name, binary, args)
	return d.base, d.logs
}

// startDaemonProcess is startDaemon, returning the process too. A free
// port can be taken between freePort and the server's bind (outgoing
// connections use the same range): a server that could not bind its port
// is started again on another.
func startDaemonProcess(t *testing.T, name, binary string, args func(address string) []string) *daemon {
	t.Helper()
	for attempt := 1; ; attempt++ {
		d, err := tryDaemon(t, name, binary, args)
		if err == nil {
			return d
		}
		if attempt == 3 || !strings.Contains(d.logs.String(), "address already in use") {
			t.Fatalf("%v\n%s", err, d.logs)
		}
		t.Logf("%s: port taken, starting it again: %v", name, err)
	}
}

// tryDaemon starts the server once and waits until it is ready or exited.
func tryDaemon(t *testing.T, name, binary string, args func(address string) []string) (*daemon, error) {
	t.Helper()
	address := freePort(t)
	d := &daemon{name: name, base: "http://" + address, logs: &lockedBuffer{}, exited: make(chan struct{})}
	d.cmd = exec.Command(binary, args(address)...)
	d.cmd.Stdout, d.cmd.Stderr = d.logs, d.logs
	if err := d.cmd.Start(); err != nil {
		return d, fmt.Errorf("starting %s: %w", name, err)
	}
	go func() {
		_ = d.cmd.Wait()
		close(d.exited)
	}()
	t.Cleanup(d.kill)
	var exitErr error
	pollUntil(t, name+" ready", func() (bool, string) {
		select {
		case <-d.exited:
			exitErr = fmt.Errorf("%s exited: %v", name, d.cmd.ProcessState)
			return true, ""
		default:
		}
		response, err := http.Get(d.base + "/-/ready")
		if err != nil {
			return false, err.Error()
		}
		response.Body.Close()
		return response.StatusCode == http.StatusOK, response.Status
	})
	return d, exitErr
}

// startAlertmanager runs Alertmanager with the example configuration's
// routes and inhibit rules; only the receivers' URLs (to webhookURL/NAME)
// and the grouping delays (to one second) are changed.
func startAlertmanager(t *testing.T, binary, dir, webhookURL string) (string, *lockedBuffer) {
	t.Helper()
	example, err := os.ReadFile(filepath.Join("..", "examples", "alertmanager.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var config map[string]any
	if err := yaml.Unmarshal(example, &config); err != nil {
		t.Fatalf("examples/alertmanager.yml: %v", err)
	}
	route, _ := config["route"].(map[string]any)
	receivers, _ := config["receivers"].([]any)
	if route == nil || len(receivers) == 0 || config["inhibit_rules"] == nil {
		t.Fatalf("examples/alertmanager.yml lacks a route, receivers or inhibit_rules")
	}
	route["group_wait"], route["group_interval"] = "1s", "1s"
	for _, r := range receivers {
		receiver := r.(map[string]any)
		receiver["webhook_configs"] = []any{map[string]any{
			"url":           webhookURL + "/" + url.PathEscape(fmt.Sprint(receiver["name"])),
			"send_resolved": true,
		}}
	}
	text, err := yaml.Marshal(config)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "alertmanager.yml")
	if err := os.WriteFile(path, text, 0o644); err != nil {
		t.Fatal(err)
	}
	storage := filepath.Join(dir, "alertmanager")
	return startDaemon(t, "Alertmanager", binary, func(address string) []string {
		return []string{
			"--config.file=" + path,
			"--storage.path=" + storage,
			"--web.listen-address=" + address,
			"--cluster.listen-address=", // no gossip: a single instance
		}
	})
}

// startPrometheus runs Prometheus scraping the exporters as job "zookeeper"
// every two seconds (a loaded machine's members may take a second to answer), with the rule file in place from the start (an alert's
// pending time is lost across a reload) and Alertmanager to send to.
func startPrometheus(t *testing.T, binary, dir, rulesPath string, exporters []string, alertmanagerAddress string) (string, *lockedBuffer) {
	t.Helper()
	targets, err := json.Marshal(exporters)
	if err != nil {
		t.Fatal(err)
	}
	config := fmt.Sprintf(`global:
  scrape_interval: 2s
  scrape_timeout: 2s
  evaluation_interval: 1s
rule_files: [%q]
alerting:
  alertmanagers:
    - static_configs:
        - targets: [%q]
scrape_configs:
  - job_name: zookeeper
    static_configs:
      - targets: %s
`, rulesPath, alertmanagerAddress, targets)
	path := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(path, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	return runPrometheus(t, binary, path, filepath.Join(dir, "prometheus"), "1s")
}

// runPrometheus starts Prometheus on a configuration file, with the given
// resend delay for firing alerts.
func runPrometheus(t *testing.T, binary, configPath, storage, resendDelay string) (string, *lockedBuffer) {
	t.Helper()
	return startDaemon(t, "Prometheus", binary, func(address string) []string {
		return []string{
			"--config.file=" + configPath,
			"--storage.tsdb.path=" + storage,
			"--web.listen-address=" + address,
			"--rules.alert.resend-delay=" + resendDelay,
		}
	})
}

func getJSON(url string, into any) error {
	request, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	body, err := readOK(http.DefaultClient, request)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(body, into); err != nil {
		return fmt.Errorf("GET %s: %v: %s", url, err, body)
	}
	return nil
}

// fetchForLog returns a page's body, or the error, for a failure log.
func fetchForLog(url string) string {
	response, err := http.Get(url)
	if err != nil {
		return err.Error()
	}
	defer response.Body.Close()
	body, _ := io.ReadAll(response.Body)
	return string(body)
}

type prometheusAlert struct {
	Labels map[string]string `json:"labels"`
	State  string            `json:"state"`
}

func (a prometheusAlert) String() string {
	return fmt.Sprintf("%s{ensemble=%q}=%s", a.Labels["alertname"], a.Labels["ensemble"], a.State)
}

func prometheusAlerts(base string) ([]prometheusAlert, error) {
	var response struct {
		Data struct {
			Alerts []prometheusAlert `json:"alerts"`
		} `json:"data"`
	}
	err := getJSON(base+"/api/v1/alerts", &response)
	return response.Data.Alerts, err
}

// prometheusQuery returns the value of a query's only sample.
func prometheusQuery(base, query string) (string, error) {
	var response struct {
		Data struct {
			Result []struct {
				Value [2]any `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := getJSON(base+"/api/v1/query?query="+url.QueryEscape(query), &response); err != nil {
		return "", err
	}
	if len(response.Data.Result) != 1 {
		return "", fmt.Errorf("%d samples", len(response.Data.Result))
	}
	return fmt.Sprint(response.Data.Result[0].Value[1]), nil
}

// lastEvaluation returns the earliest last evaluation among the groups.
func lastEvaluation(base string, groups ...string) (time.Time, error) {
	var response struct {
		Data struct {
			Groups []struct {
				Name           string    `json:"name"`
				LastEvaluation time.Time `json:"lastEvaluation"`
			} `json:"groups"`
		} `json:"data"`
	}
	if err := getJSON(base+"/api/v1/rules", &response); err != nil {
		return time.Time{}, err
	}
	var earliest time.Time
	found := 0
	for _, group := range response.Data.Groups {
		if slices.Contains(groups, group.Name) {
			found++
			if earliest.IsZero() || group.LastEvaluation.Before(earliest) {
				earliest = group.LastEvaluation
			}
		}
	}
	if found != len(groups) {
		return time.Time{}, fmt.Errorf("found %d of the rule groups %v", found, groups)
	}
	return earliest, nil
}

type alertmanagerAlert struct {
	Fingerprint string            `json:"fingerprint"`
	Labels      map[string]string `json:"labels"`
	Status      struct {
		State       string   `json:"state"`
		InhibitedBy []string `json:"inhibitedBy"`
	} `json:"status"`
}

// inhibited checks that Alertmanager holds the source alert of the ensemble
// unsuppressed and at least count target alerts, each inhibited by it.
// Copies of the source (one per exporter replica, when rules are not
// replica-safe) are tolerated here: the page count checks them.
func inhibited(base, ensemble, source, target string, count int) func() (bool, string) {
	return func() (bool, string) {
		var alerts []alertmanagerAlert
		if err := getJSON(base+"/api/v2/alerts", &alerts); err != nil {
			return false, err.Error()
		}
		var sources, targets []alertmanagerAlert
		var fingerprints []string
		for _, alert := range alerts {
			if alert.Labels["ensemble"] != ensemble {
				continue
			}
			switch alert.Labels["alertname"] {
			case source:
				sources = append(sources, alert)
				fingerprints = append(fingerprints, alert.Fingerprint)
			case target:
				targets = append(targets, alert)
			}
		}
		state := fmt.Sprintf("%s: %+v; %s: %+v", source, sources, target, targets)
		if len(sources) == 0 || len(targets) < count {
			return false, state
		}
		for _, alert := range sources {
			if alert.Status.State != "active" {
				return false, state
			}
		}
		for _, alert := range targets {
			if alert.Status.State != "suppressed" || !slices.ContainsFunc(alert.Status.InhibitedBy, func(by string) bool {
				return slices.Contains(fingerprints, by)
			}) {
				return false, state
			}
		}
		return true, state
	}
}

// noCriticalSince waits until Prometheus holds the margin for the ensemble
// and has evaluated the rules a few times since, then finds no critical
// alert for it, pending or firing.
func noCriticalSince(t *testing.T, prometheus, ensemble string, margin int) {
	t.Helper()
	query := fmt.Sprintf(`zookeeper_ensemble_quorum_margin{job="zookeeper",ensemble=%q}`, ensemble)
	pollUntil(t, fmt.Sprintf("%s's margin %d in Prometheus", ensemble, margin), func() (bool, string) {
		value, err := prometheusQuery(prometheus, query)
		return err == nil && value == fmt.Sprint(margin), fmt.Sprintf("%s = %q, %v", query, value, err)
	})
	seen := time.Now()
	pollUntil(t, "three rule evaluations since", func() (bool, string) {
		last, err := lastEvaluation(prometheus, "zookeeper-quorum", "zookeeper-members")
		return err == nil && last.After(seen.Add(3*time.Second)), fmt.Sprintf("last evaluation %v, %v", last, err)
	})
	alerts, err := prometheusAlerts(prometheus)
	if err != nil {
		t.Fatal(err)
	}
	for _, alert := range alerts {
		if alert.Labels["ensemble"] == ensemble && alert.Labels["severity"] == "critical" {
			t.Errorf("margin %d, yet %s is %s", margin, alert, alert.State)
		}
	}
}
