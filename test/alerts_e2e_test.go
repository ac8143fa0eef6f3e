package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/quorumwatch/zookeeper_exporter/internal/zkcluster"
)

// TestAlertsEndToEnd is issue #3's "must show" on real parts only: a real
// 3-voter ensemble, the exporter binary, the rules it generates, a real
// Prometheus and a real Alertmanager running the example inhibit rules.
// Voters are killed one by one: ZooKeeperQuorumAtRisk must fire and page
// before the loss that breaks quorum, then ZooKeeperQuorumLost must fire and
// page, and Alertmanager must inhibit the per-member alerts of the outage.
func TestAlertsEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("starts ZooKeeper, Prometheus and Alertmanager")
	}
	prometheusBinary := lookTool(t, "prometheus", "prometheus")
	alertmanagerBinary := lookTool(t, "prometheus-alertmanager", "prometheus-alertmanager")

	const ensemble = "alerts-e2e"
	cluster := zkcluster.StartT(t, zkcluster.Options{Voters: 3})
	exporterBase, exporterLogs, _ := startExporter(t, "--config.file="+writeClusterConfig(t, ensemble, cluster, 500*time.Millisecond))
	dir := t.TempDir()

	// The rules as a user generates them, with short "for" durations so
	// the test runs in seconds. The quorum alerts keep a non-zero "for" so
	// that they go through pending like in production.
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

	pager := newWebhookReceiver(t)
	alertmanagerBase, alertmanagerLogs := startAlertmanager(t, alertmanagerBinary, dir, pager.server.URL)
	prometheusBase, prometheusLogs := startPrometheus(t, prometheusBinary, dir, rulesPath,
		strings.TrimPrefix(exporterBase, "http://"), strings.TrimPrefix(alertmanagerBase, "http://"))

	// Registered after every process, so it runs before they are killed.
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		for _, path := range []string{"/api/v1/alerts", "/api/v1/rules"} {
			t.Logf("Prometheus %s:\n%s", path, fetchForLog(prometheusBase+path))
		}
		t.Logf("Alertmanager /api/v2/alerts:\n%s", fetchForLog(alertmanagerBase+"/api/v2/alerts"))
		t.Logf("webhook notifications:\n%s", pager.dump())
		t.Logf("exporter logs:\n%s", exporterLogs)
		t.Logf("Prometheus logs:\n%s", prometheusLogs)
		t.Logf("Alertmanager logs:\n%s", alertmanagerLogs)
	})

	ours := func(labels map[string]string) bool { return labels["ensemble"] == ensemble }
	promAlert := func(name, state string) func() (bool, string) {
		return func() (bool, string) {
			alerts, err := prometheusAlerts(prometheusBase)
			if err != nil {
				return false, err.Error()
			}
			for _, alert := range alerts {
				if alert.Labels["alertname"] == name && ours(alert.Labels) && alert.State == state {
					return true, ""
				}
			}
			return false, fmt.Sprintf("alerts: %v", alerts)
		}
	}

	started := time.Now()
	pollUntil(t, "the zookeeper target up in Prometheus", func() (bool, string) {
		var targets struct {
			Data struct {
				ActiveTargets []struct {
					Labels    map[string]string `json:"labels"`
					Health    string            `json:"health"`
					LastError string            `json:"lastError"`
				} `json:"activeTargets"`
			} `json:"data"`
		}
		if err := getJSON(prometheusBase+"/api/v1/targets", &targets); err != nil {
			return false, err.Error()
		}
		for _, target := range targets.Data.ActiveTargets {
			if target.Labels["job"] == "zookeeper" && target.Health == "up" {
				return true, ""
			}
		}
		return false, fmt.Sprintf("targets: %+v", targets.Data.ActiveTargets)
	})

	// Healthy: once the rules were evaluated on a sample with margin 1, no
	// quorum or member alert may be active, not even pending.
	pollUntil(t, "Prometheus to see quorum margin 1", func() (bool, string) {
		value, err := prometheusQuery(prometheusBase, fmt.Sprintf(`zookeeper_ensemble_quorum_margin{job="zookeeper",ensemble=%q}`, ensemble))
		return err == nil && value == "1", fmt.Sprintf("margin %q, %v", value, err)
	})
	sawHealthy := time.Now()
	pollUntil(t, "the alert rules evaluated after the healthy sample", func() (bool, string) {
		last, err := lastEvaluation(prometheusBase, "zookeeper-quorum", "zookeeper-members")
		return err == nil && last.After(sawHealthy), fmt.Sprintf("last evaluation %v, %v", last, err)
	})
	watched := []string{
		"ZooKeeperQuorumLost", "ZooKeeperQuorumAtRisk", "ZooKeeperFaultToleranceReduced",
		"ZooKeeperMultipleLeaders", "ZooKeeperVoterDown", "ZooKeeperMemberNotServing",
	}
	alerts, err := prometheusAlerts(prometheusBase)
	if err != nil {
		t.Fatal(err)
	}
	for _, alert := range alerts {
		if ours(alert.Labels) && slices.Contains(watched, alert.Labels["alertname"]) {
			t.Errorf("healthy ensemble, yet %s is %s: %v", alert.Labels["alertname"], alert.State, alert.Labels)
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	t.Logf("%5.1fs healthy, no alert", time.Since(started).Seconds())

	// First voter lost: margin 0. The critical QuorumAtRisk must fire and
	// reach the pager while the ensemble still has its quorum.
	first := killFollower(t, cluster)
	pollUntil(t, "ZooKeeperQuorumAtRisk firing in Prometheus", promAlert("ZooKeeperQuorumAtRisk", "firing"))
	t.Logf("%5.1fs zk%d killed: ZooKeeperQuorumAtRisk firing", time.Since(started).Seconds(), first.ID)
	if lost, _ := promAlert("ZooKeeperQuorumLost", "pending")(); lost {
		t.Errorf("ZooKeeperQuorumLost pending with 2 of 3 voters serving")
	}
	if lost, _ := promAlert("ZooKeeperQuorumLost", "firing")(); lost {
		t.Errorf("ZooKeeperQuorumLost firing with 2 of 3 voters serving")
	}
	pollUntil(t, "the pager notified of ZooKeeperQuorumAtRisk", func() (bool, string) {
		return pager.notified("pager", "ZooKeeperQuorumAtRisk", ensemble), pager.dump()
	})
	// The killed voter's own alert is part of the same story.
	pollUntil(t, "ZooKeeperVoterDown inhibited by ZooKeeperQuorumAtRisk in Alertmanager",
		inhibited(alertmanagerBase, ensemble, "ZooKeeperQuorumAtRisk", "ZooKeeperVoterDown", 1))
	t.Logf("%5.1fs paged for ZooKeeperQuorumAtRisk", time.Since(started).Seconds())

	// Only now the loss that breaks quorum.
	second := killFollower(t, cluster)
	pollUntil(t, "ZooKeeperQuorumLost firing in Prometheus", promAlert("ZooKeeperQuorumLost", "firing"))
	t.Logf("%5.1fs zk%d killed: ZooKeeperQuorumLost firing", time.Since(started).Seconds(), second.ID)
	pollUntil(t, "the pager notified of ZooKeeperQuorumLost", func() (bool, string) {
		return pager.notified("pager", "ZooKeeperQuorumLost", ensemble), pager.dump()
	})
	// Both dead voters and the survivor, which answers but cannot serve
	// without a quorum, are the same outage: QuorumLost inhibits them.
	// QuorumLost > QuorumAtRisk is not checked: QuorumAtRisk needs margin
	// 0 and resolves on the first evaluation that sees margin -1, while
	// QuorumLost fires only its "for" later, so Alertmanager never holds
	// both active at once and there is nothing to inhibit.
	pollUntil(t, "both ZooKeeperVoterDown inhibited by ZooKeeperQuorumLost in Alertmanager",
		inhibited(alertmanagerBase, ensemble, "ZooKeeperQuorumLost", "ZooKeeperVoterDown", 2))
	pollUntil(t, "ZooKeeperMemberNotServing inhibited by ZooKeeperQuorumLost in Alertmanager",
		inhibited(alertmanagerBase, ensemble, "ZooKeeperQuorumLost", "ZooKeeperMemberNotServing", 1))
	t.Logf("%5.1fs paged for ZooKeeperQuorumLost, member alerts inhibited", time.Since(started).Seconds())
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

// killFollower SIGKILLs a running voter that is not the leader.
func killFollower(t *testing.T, cluster *zkcluster.Cluster) *zkcluster.Member {
	t.Helper()
	leader := cluster.LeaderT(t)
	for _, member := range cluster.Voters() {
		if member.ID == leader.ID || member.PID() == 0 {
			continue
		}
		if err := cluster.Kill(member.ID); err != nil {
			t.Fatal(err)
		}
		return member
	}
	t.Fatal("no follower left to kill")
	return nil
}

// pollUntil calls check until it succeeds, failing after a generous
// deadline with check's last description of what it saw.
func pollUntil(t *testing.T, what string, check func() (bool, string)) {
	t.Helper()
	const within = 60 * time.Second
	deadline := time.Now().Add(within)
	for {
		ok, state := check()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s still waiting for %s; last seen: %s", within, what, state)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// startDaemon runs a server on a free loopback port, kills it and waits for
// it in t.Cleanup, and waits until base+"/-/ready" answers 200.
func startDaemon(t *testing.T, name, binary string, args func(address string) []string) (base string, logs *lockedBuffer) {
	t.Helper()
	address := freePort(t)
	cmd := exec.Command(binary, args(address)...)
	logs = &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", name, err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})
	base = "http://" + address
	pollUntil(t, name+" ready", func() (bool, string) {
		select {
		case <-exited:
			t.Fatalf("%s exited: %v\n%s", name, cmd.ProcessState, logs)
		default:
		}
		response, err := http.Get(base + "/-/ready")
		if err != nil {
			return false, err.Error()
		}
		response.Body.Close()
		return response.StatusCode == http.StatusOK, response.Status
	})
	return base, logs
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

// startPrometheus runs Prometheus scraping the exporter as job "zookeeper"
// every second, with the rule file in place from the start (an alert's
// pending time is lost across a reload) and Alertmanager to send to.
func startPrometheus(t *testing.T, binary, dir, rulesPath, exporterAddress, alertmanagerAddress string) (string, *lockedBuffer) {
	t.Helper()
	config := fmt.Sprintf(`global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
rule_files: [%q]
alerting:
  alertmanagers:
    - static_configs:
        - targets: [%q]
scrape_configs:
  - job_name: zookeeper
    static_configs:
      - targets: [%q]
`, rulesPath, alertmanagerAddress, exporterAddress)
	path := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(path, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	storage := filepath.Join(dir, "prometheus")
	return startDaemon(t, "Prometheus", binary, func(address string) []string {
		return []string{
			"--config.file=" + path,
			"--storage.tsdb.path=" + storage,
			"--web.listen-address=" + address,
			"--rules.alert.resend-delay=1s",
		}
	})
}

func getJSON(url string, into any) error {
	response, err := http.Get(url)
	if err != nil {
		return err
	}
	defer response.Body.Close()
	body, err := io.ReadAll(response.Body)
	if err != nil {
		return err
	}
	if response.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s: %s", url, response.Status, body)
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
func inhibited(base, ensemble, source, target string, count int) func() (bool, string) {
	return func() (bool, string) {
		var alerts []alertmanagerAlert
		if err := getJSON(base+"/api/v2/alerts", &alerts); err != nil {
			return false, err.Error()
		}
		var sources, targets []alertmanagerAlert
		for _, alert := range alerts {
			if alert.Labels["ensemble"] != ensemble {
				continue
			}
			switch alert.Labels["alertname"] {
			case source:
				sources = append(sources, alert)
			case target:
				targets = append(targets, alert)
			}
		}
		state := fmt.Sprintf("%s: %+v; %s: %+v", source, sources, target, targets)
		if len(sources) != 1 || sources[0].Status.State != "active" || len(targets) < count {
			return false, state
		}
		for _, alert := range targets {
			if alert.Status.State != "suppressed" || !slices.Contains(alert.Status.InhibitedBy, sources[0].Fingerprint) {
				return false, state
			}
		}
		return true, state
	}
}

// webhookReceiver records Alertmanager's webhook notifications; the path is
// the receiver's name.
type webhookReceiver struct {
	server        *httptest.Server
	mu            sync.Mutex
	notifications []webhookNotification
}

type webhookNotification struct {
	Receiver string `json:"receiver"`
	Status   string `json:"status"`
	Alerts   []struct {
		Status string            `json:"status"`
		Labels map[string]string `json:"labels"`
	} `json:"alerts"`
	path string
}

func newWebhookReceiver(t *testing.T) *webhookReceiver {
	receiver := &webhookReceiver{}
	receiver.server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var notification webhookNotification
		if err := json.NewDecoder(r.Body).Decode(&notification); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		notification.path = r.URL.Path
		receiver.mu.Lock()
		receiver.notifications = append(receiver.notifications, notification)
		receiver.mu.Unlock()
	}))
	t.Cleanup(receiver.server.Close)
	return receiver
}

// notified reports whether the named receiver got alertname firing for the
// ensemble.
func (w *webhookReceiver) notified(receiver, alertname, ensemble string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, notification := range w.notifications {
		if notification.Receiver != receiver || notification.path != "/"+receiver {
			continue
		}
		for _, alert := range notification.Alerts {
			if alert.Status == "firing" && alert.Labels["alertname"] == alertname && alert.Labels["ensemble"] == ensemble {
				return true
			}
		}
	}
	return false
}

func (w *webhookReceiver) dump() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var b strings.Builder
	for _, notification := range w.notifications {
		fmt.Fprintf(&b, "%s (%s):", notification.path, notification.Status)
		for _, alert := range notification.Alerts {
			fmt.Fprintf(&b, " %s{ensemble=%q}=%s", alert.Labels["alertname"], alert.Labels["ensemble"], alert.Status)
		}
		b.WriteString("\n")
	}
	return b.String()
}
