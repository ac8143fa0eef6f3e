package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
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

// TestAlertsEndToEnd is issue #3's and issue #11's "must show" on real parts
// only: a real 3-voter ensemble watched by two exporter replicas, the rules
// the binary generates, a real Prometheus scraping both replicas and a real
// Alertmanager running the example inhibit rules. Voters are killed one by
// one: ZooKeeperQuorumAtRisk must page before the loss that breaks quorum,
// then ZooKeeperQuorumLost must page, Alertmanager must inhibit the
// per-member alerts of the outage, and each page must reach the pager
// exactly once, whatever the number of replicas.
func TestAlertsEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("starts ZooKeeper, Prometheus and Alertmanager")
	}
	prometheusBinary := lookTool(t, "prometheus", "prometheus")
	alertmanagerBinary := lookTool(t, "prometheus-alertmanager", "prometheus-alertmanager")

	const ensemble = "alerts-e2e"
	cluster := zkcluster.StartT(t, zkcluster.Options{Voters: 3})
	config := writeClusterConfig(t, ensemble, cluster, time.Second)
	replicaA, replicaALogs, _ := startExporter(t, "--config.file="+config)
	replicaB, replicaBLogs, _ := startExporter(t, "--config.file="+config)
	dir := t.TempDir()
	rulesPath := generateRules(t, dir)

	pager := newWebhookReceiver(t)
	alertmanagerBase, alertmanagerLogs := startAlertmanager(t, alertmanagerBinary, dir, pager.server.URL)
	prometheusBase, prometheusLogs := startPrometheus(t, prometheusBinary, dir, rulesPath,
		[]string{hostPort(replicaA), hostPort(replicaB)}, hostPort(alertmanagerBase))
	stack := &alertStack{t: t, ensemble: ensemble, cluster: cluster, prometheus: prometheusBase,
		alertmanager: alertmanagerBase, pager: pager, replicas: 2, started: time.Now()}

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
		t.Logf("exporter replica A logs:\n%s\nexporter replica B logs:\n%s", replicaALogs, replicaBLogs)
		t.Logf("Prometheus logs:\n%s", prometheusLogs)
		t.Logf("Alertmanager logs:\n%s", alertmanagerLogs)
	})

	waitTargetsUp(t, prometheusBase, "zookeeper", stack.replicas)
	stack.expectHealthy()
	stack.pageBeforeBreakingLoss()
	stack.pageQuorumLost()
	stack.recover()
}

// alertStack is one real ensemble watched by exporter replicas, with the
// Prometheus and Alertmanager that alert on it, as TestAlertsEndToEnd runs
// them.
type alertStack struct {
	t            *testing.T
	ensemble     string
	cluster      *zkcluster.Cluster
	prometheus   string
	alertmanager string
	pager        *webhookReceiver
	replicas     int
	started      time.Time
	killed       []*zkcluster.Member
}

func (s *alertStack) logf(format string, args ...any) {
	s.t.Helper()
	s.t.Logf("%5.1fs "+format, append([]any{time.Since(s.started).Seconds()}, args...)...)
}

// promAlert checks that Prometheus has the ensemble's alert in state.
func (s *alertStack) promAlert(name, state string) func() (bool, string) {
	return func() (bool, string) {
		alerts, err := prometheusAlerts(s.prometheus)
		if err != nil {
			return false, err.Error()
		}
		for _, alert := range alerts {
			if alert.Labels["alertname"] == name && alert.Labels["ensemble"] == s.ensemble && alert.State == state {
				return true, ""
			}
		}
		return false, fmt.Sprintf("alerts: %v", alerts)
	}
}

// marginSeenByAll waits until every replica's margin, as Prometheus stored
// it, is want.
func (s *alertStack) marginSeenByAll(want int) {
	s.t.Helper()
	query := fmt.Sprintf(`count(zookeeper_ensemble_quorum_margin{job="zookeeper",ensemble=%q} == %d)`, s.ensemble, want)
	pollUntil(s.t, fmt.Sprintf("every replica's quorum margin %d in Prometheus", want), func() (bool, string) {
		value, err := prometheusQuery(s.prometheus, query)
		return err == nil && value == fmt.Sprint(s.replicas), fmt.Sprintf("%s = %q, %v", query, value, err)
	})
}

// expectHealthy: once the rules were evaluated on samples with margin 1,
// no quorum or member alert may be active, not even pending.
func (s *alertStack) expectHealthy() {
	s.t.Helper()
	s.marginSeenByAll(1)
	sawHealthy := time.Now()
	pollUntil(s.t, "the alert rules evaluated after the healthy sample", func() (bool, string) {
		last, err := lastEvaluation(s.prometheus, "zookeeper-quorum", "zookeeper-members")
		return err == nil && last.After(sawHealthy), fmt.Sprintf("last evaluation %v, %v", last, err)
	})
	watched := []string{
		"ZooKeeperQuorumLost", "ZooKeeperQuorumAtRisk", "ZooKeeperFaultToleranceReduced",
		"ZooKeeperMultipleLeaders", "ZooKeeperVoterDown", "ZooKeeperMemberNotServing",
	}
	alerts, err := prometheusAlerts(s.prometheus)
	if err != nil {
		s.t.Fatal(err)
	}
	for _, alert := range alerts {
		if alert.Labels["ensemble"] == s.ensemble && slices.Contains(watched, alert.Labels["alertname"]) {
			s.t.Errorf("healthy ensemble, yet %s is %s: %v", alert.Labels["alertname"], alert.State, alert.Labels)
		}
	}
	if s.t.Failed() {
		s.t.FailNow()
	}
	s.logf("healthy, no alert")
}

// pageBeforeBreakingLoss: the first voter lost leaves margin 0. The
// critical QuorumAtRisk must fire and reach the pager while the ensemble
// still has its quorum, and only then is the next voter killed.
func (s *alertStack) pageBeforeBreakingLoss() {
	s.t.Helper()
	first := killFollower(s.t, s.cluster)
	s.killed = append(s.killed, first)
	pollUntil(s.t, "ZooKeeperQuorumAtRisk firing in Prometheus", s.promAlert("ZooKeeperQuorumAtRisk", "firing"))
	s.logf("zk%d killed: ZooKeeperQuorumAtRisk firing", first.ID)
	if lost, _ := s.promAlert("ZooKeeperQuorumLost", "pending")(); lost {
		s.t.Errorf("ZooKeeperQuorumLost pending with 2 of 3 voters serving")
	}
	if lost, _ := s.promAlert("ZooKeeperQuorumLost", "firing")(); lost {
		s.t.Errorf("ZooKeeperQuorumLost firing with 2 of 3 voters serving")
	}
	pollUntil(s.t, "the pager notified of ZooKeeperQuorumAtRisk", func() (bool, string) {
		return s.pager.notified("pager", "ZooKeeperQuorumAtRisk", s.ensemble), s.pager.dump()
	})
	// Both replicas must have reported margin 0 before the next loss, so
	// that a page per replica would have had its chance to arrive.
	s.marginSeenByAll(0)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.cluster.WaitServing(ctx); err != nil {
		s.t.Fatalf("paged for ZooKeeperQuorumAtRisk, but the ensemble no longer serves: %v", err)
	}
	// The killed voter's own alert is part of the same story.
	pollUntil(s.t, "ZooKeeperVoterDown inhibited by ZooKeeperQuorumAtRisk in Alertmanager",
		inhibited(s.alertmanager, s.ensemble, "ZooKeeperQuorumAtRisk", "ZooKeeperVoterDown", 1))
	s.logf("paged for ZooKeeperQuorumAtRisk while the ensemble serves")
}

// pageQuorumLost: only now the loss that breaks quorum.
func (s *alertStack) pageQuorumLost() {
	s.t.Helper()
	second := killFollower(s.t, s.cluster)
	s.killed = append(s.killed, second)
	pollUntil(s.t, "ZooKeeperQuorumLost firing in Prometheus", s.promAlert("ZooKeeperQuorumLost", "firing"))
	s.logf("zk%d killed: ZooKeeperQuorumLost firing", second.ID)
	pollUntil(s.t, "the pager notified of ZooKeeperQuorumLost", func() (bool, string) {
		return s.pager.notified("pager", "ZooKeeperQuorumLost", s.ensemble), s.pager.dump()
	})
	// Both dead voters and the survivor, which answers but cannot serve
	// without a quorum, are the same outage: QuorumLost inhibits them.
	// QuorumLost > QuorumAtRisk is not checked in Alertmanager: the rules
	// make them exclude each other, so there is nothing to inhibit. That
	// they never fired at the same evaluation is checked on ALERTS.
	pollUntil(s.t, "both ZooKeeperVoterDown inhibited by ZooKeeperQuorumLost in Alertmanager",
		inhibited(s.alertmanager, s.ensemble, "ZooKeeperQuorumLost", "ZooKeeperVoterDown", 2))
	pollUntil(s.t, "ZooKeeperMemberNotServing inhibited by ZooKeeperQuorumLost in Alertmanager",
		inhibited(s.alertmanager, s.ensemble, "ZooKeeperQuorumLost", "ZooKeeperMemberNotServing", 1))
	s.logf("paged for ZooKeeperQuorumLost, member alerts inhibited")
	both := fmt.Sprintf(`max_over_time(count(ALERTS{alertstate="firing",ensemble=%q,`+
		`alertname=~"ZooKeeperQuorumAtRisk|ZooKeeperQuorumLost"})[2m:1s])`, s.ensemble)
	if value, err := prometheusQuery(s.prometheus, both); err != nil || value != "1" {
		s.t.Errorf("ZooKeeperQuorumAtRisk and ZooKeeperQuorumLost firing at once: %s = %q, %v", both, value, err)
	}
	// ZooKeeperQuorumAtRisk's one episode is over by now: any copy from
	// the second replica would have arrived long ago.
	s.expectOnePage("ZooKeeperQuorumAtRisk")
}

// recover restarts the killed voters. The pager must get QuorumLost's
// resolution, and by then must have had exactly one QuorumLost page.
func (s *alertStack) recover() {
	s.t.Helper()
	for _, member := range s.killed {
		if err := s.cluster.Restart(member.ID); err != nil {
			s.t.Fatal(err)
		}
	}
	pollUntil(s.t, "the pager notified of ZooKeeperQuorumLost resolved", func() (bool, string) {
		return s.pager.count("pager", "ZooKeeperQuorumLost", s.ensemble, "resolved").notifications > 0, s.pager.dump()
	})
	s.logf("voters restarted: ZooKeeperQuorumLost resolved")
	s.expectOnePage("ZooKeeperQuorumLost")
	if resolved := s.pager.count("pager", "ZooKeeperQuorumLost", s.ensemble, "resolved"); resolved.notifications != 1 || resolved.alerts != 1 {
		s.t.Errorf("ZooKeeperQuorumLost resolved: %d notifications, %d alerts; want 1 and 1\n%s",
			resolved.notifications, resolved.alerts, s.pager.dump())
	}
	if repeated := s.pager.duplicates(); len(repeated) > 0 {
		s.t.Errorf("notifications delivered twice:\n%s", strings.Join(repeated, "\n"))
	}
}

// expectOnePage fails unless the pager got alertname firing for the
// ensemble in exactly one notification, holding exactly one alert: a copy
// per exporter replica (the instance label) is a duplicate page.
func (s *alertStack) expectOnePage(alertname string) {
	s.t.Helper()
	got := s.pager.count("pager", alertname, s.ensemble, "firing")
	if got.notifications != 1 || got.alerts != 1 {
		s.t.Errorf("%s with %d exporter replicas: %d page(s) carrying %d alert(s), want exactly 1 page with 1 alert "+
			"(the rules must aggregate across replicas)\n%s", alertname, s.replicas, got.notifications, got.alerts, s.pager.dump())
	}
}

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
	GroupKey string `json:"groupKey"`
	Alerts   []struct {
		Status   string            `json:"status"`
		Labels   map[string]string `json:"labels"`
		StartsAt string            `json:"startsAt"`
	} `json:"alerts"`
	path string // the webhook URL's path: [/SENDER]/RECEIVER
}

// sentTo reports whether the notification is the named receiver's and came
// by its own URL.
func (n webhookNotification) sentTo(receiver string) bool {
	return n.Receiver == receiver && strings.HasSuffix(n.path, "/"+receiver)
}

// content is what a user sees of a notification; two equal in a row for
// one group are one notification delivered twice.
func (n webhookNotification) content() string {
	var alerts []string
	for _, alert := range n.Alerts {
		alerts = append(alerts, fmt.Sprintf("%v=%s since %s", alert.Labels, alert.Status, alert.StartsAt))
	}
	slices.Sort(alerts)
	return n.Receiver + " " + n.GroupKey + " " + n.Status + ": " + strings.Join(alerts, ", ")
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
		if !notification.sentTo(receiver) {
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

// pageCount is how many notifications carried an alert, and how many such
// alerts they carried in all.
type pageCount struct{ notifications, alerts int }

// count counts the named receiver's notifications carrying alertname for
// the ensemble with the given status (firing or resolved).
func (w *webhookReceiver) count(receiver, alertname, ensemble, status string) pageCount {
	w.mu.Lock()
	defer w.mu.Unlock()
	var count pageCount
	for _, notification := range w.notifications {
		if !notification.sentTo(receiver) {
			continue
		}
		alerts := 0
		for _, alert := range notification.Alerts {
			if alert.Status == status && alert.Labels["alertname"] == alertname && alert.Labels["ensemble"] == ensemble {
				alerts++
			}
		}
		if alerts > 0 {
			count.notifications++
			count.alerts += alerts
		}
	}
	return count
}

// duplicates lists the notifications that repeat the one before them in
// their group: the same alerts in the same states, delivered again.
func (w *webhookReceiver) duplicates() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	last := map[string]string{}
	var repeated []string
	for _, notification := range w.notifications {
		key := notification.Receiver + " " + notification.GroupKey
		content := notification.content()
		if last[key] == content {
			repeated = append(repeated, notification.path+" "+content)
		}
		last[key] = content
	}
	return repeated
}

func (w *webhookReceiver) dump() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var b strings.Builder
	for _, notification := range w.notifications {
		fmt.Fprintf(&b, "%s (%s):", notification.path, notification.Status)
		for _, alert := range notification.Alerts {
			labels := maps.Clone(alert.Labels)
			delete(labels, "alertname")
			fmt.Fprintf(&b, " %s%v=%s", alert.Labels["alertname"], labels, alert.Status)
		}
		b.WriteString("\n")
	}
	return b.String()
}
