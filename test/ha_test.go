package e2e

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/quorumwatch/zookeeper_exporter/internal/zkcluster"
)

// TestHighAvailability is issue #12's HA topology on real parts, with the
// configurations of examples/ha/: two exporter replicas watching one real
// 3-voter ensemble, two Prometheus replicas scraping both, and two
// Alertmanager peers clustered over loopback. A voter lost (margin 0) must
// page exactly once and resolve exactly once. Then, in a second episode, one
// Prometheus dies before the page, one exporter once it has paged, and the
// Alertmanager that sent the page before the resolution: the page must be
// neither lost nor duplicated, and resolve once.
func TestHighAvailability(t *testing.T) {
	prometheusBinary := lookTool(t, "prometheus", "prometheus")
	alertmanagerBinary := lookTool(t, "prometheus-alertmanager", "prometheus-alertmanager")
	const ensemble = "ha"
	cluster := zkcluster.StartT(t, zkcluster.Options{Voters: 3})
	config := writeClusterConfig(t, ensemble, cluster, time.Second)
	dir := t.TempDir()
	rulesPath := generateRules(t, dir)
	s := &haStack{t: t, ensemble: ensemble, cluster: cluster, pager: newWebhookReceiver(t), started: time.Now()}
	for range 2 {
		base, logs, cmd := startExporter(t, "--config.file="+config)
		s.exporters = append(s.exporters, &daemon{name: "exporter", base: base, logs: logs, cmd: cmd})
	}
	s.alertmanagers = startAlertmanagerCluster(t, alertmanagerBinary, dir, s.pager.server.URL)
	for _, replica := range []string{"a", "b"} {
		s.prometheus = append(s.prometheus, startPrometheusReplica(t, prometheusBinary, dir, replica, rulesPath,
			hostPorts(s.exporters), hostPorts(s.alertmanagers)))
	}
	t.Cleanup(s.logOnFailure) // registered last: runs before the processes are killed
	for _, prometheus := range s.prometheus {
		waitTargetsUp(t, prometheus.base, "zookeeper", len(s.exporters))
	}

	// Everything up: one page, one resolution.
	voter := s.loseVoter()
	s.expectPages(1, 0)
	s.restoreVoter(voter)
	s.expectPages(1, 1)
	s.alertEverywhere("inactive")

	// One of each replicated component dies, each at its own point.
	voter = s.loseVoter(func() { s.prometheus[0].kill(); s.logf("Prometheus replica a killed") })
	s.expectPages(2, 1)
	s.exporters[0].kill()
	waitTargetDown(t, s.prometheus[1].base, hostPort(s.exporters[0].base))
	s.alertEverywhere("firing")
	s.logf("exporter replica 1 killed, its target down, the alert still firing")
	sender := s.pageSender()
	s.alertmanagers[sender].kill()
	s.logf("%s, which sent the page, killed", s.alertmanagers[sender].name)
	s.restoreVoter(voter)
	s.expectPages(2, 2)
	if repeated := s.pager.duplicates(); len(repeated) > 0 {
		t.Errorf("notifications delivered twice:\n%s", strings.Join(repeated, "\n"))
	}
}

// haStack is the HA topology around one ensemble.
type haStack struct {
	t             *testing.T
	ensemble      string
	cluster       *zkcluster.Cluster
	exporters     []*daemon
	prometheus    []*daemon
	alertmanagers []*daemon
	pager         *webhookReceiver
	started       time.Time
}

func (s *haStack) logf(format string, args ...any) {
	s.t.Helper()
	s.t.Logf("%5.1fs "+format, append([]any{time.Since(s.started).Seconds()}, args...)...)
}

func (s *haStack) logOnFailure() {
	if !s.t.Failed() {
		return
	}
	s.t.Logf("webhook notifications:\n%s", s.pager.dump())
	for _, prometheus := range s.prometheus {
		s.t.Logf("%s /api/v1/alerts:\n%s", prometheus.name, fetchForLog(prometheus.base+"/api/v1/alerts"))
	}
	for _, alertmanager := range s.alertmanagers {
		s.t.Logf("%s /api/v2/alerts:\n%s", alertmanager.name, fetchForLog(alertmanager.base+"/api/v2/alerts"))
	}
	for _, d := range append(append(append([]*daemon{}, s.exporters...), s.prometheus...), s.alertmanagers...) {
		s.t.Logf("%s (%s) logs:\n%s", d.name, d.base, d.logs)
	}
}

// loseVoter kills a follower, runs each of meanwhile, and waits for the
// page: ZooKeeperQuorumAtRisk at the pager while the ensemble serves.
func (s *haStack) loseVoter(meanwhile ...func()) *zkcluster.Member {
	s.t.Helper()
	voter := killFollower(s.t, s.cluster)
	s.logf("zk%d killed", voter.ID)
	for _, do := range meanwhile {
		do()
	}
	before := s.pager.count("pager", "ZooKeeperQuorumAtRisk", s.ensemble, "firing").notifications
	pollUntil(s.t, "the pager notified of ZooKeeperQuorumAtRisk", func() (bool, string) {
		return s.pager.count("pager", "ZooKeeperQuorumAtRisk", s.ensemble, "firing").notifications > before, s.pager.dump()
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.cluster.WaitServing(ctx); err != nil {
		s.t.Fatalf("paged for ZooKeeperQuorumAtRisk, but the ensemble no longer serves: %v", err)
	}
	s.logf("paged for ZooKeeperQuorumAtRisk")
	s.alertEverywhere("firing")
	return voter
}

// alertEverywhere waits until every Prometheus still running has
// ZooKeeperQuorumAtRisk in state: "firing" (so each replica had its chance
// to page twice) or "inactive" (the episode is over for every replica).
func (s *haStack) alertEverywhere(state string) {
	s.t.Helper()
	for _, prometheus := range s.prometheus {
		select {
		case <-prometheus.exited:
			continue
		default:
		}
		pollUntil(s.t, "ZooKeeperQuorumAtRisk "+state+" in "+prometheus.name, func() (bool, string) {
			alerts, err := prometheusAlerts(prometheus.base)
			if err != nil {
				return false, err.Error()
			}
			current := "inactive"
			for _, alert := range alerts {
				if alert.Labels["alertname"] == "ZooKeeperQuorumAtRisk" && alert.Labels["ensemble"] == s.ensemble {
					current = alert.State
				}
			}
			return current == state, fmt.Sprint(alerts)
		})
	}
}

// restoreVoter restarts the voter and waits for the page's resolution.
func (s *haStack) restoreVoter(voter *zkcluster.Member) {
	s.t.Helper()
	before := s.pager.count("pager", "ZooKeeperQuorumAtRisk", s.ensemble, "resolved").notifications
	if err := s.cluster.Restart(voter.ID); err != nil {
		s.t.Fatal(err)
	}
	pollUntil(s.t, "the pager notified of ZooKeeperQuorumAtRisk resolved", func() (bool, string) {
		return s.pager.count("pager", "ZooKeeperQuorumAtRisk", s.ensemble, "resolved").notifications > before, s.pager.dump()
	})
	s.logf("zk%d restarted: ZooKeeperQuorumAtRisk resolved", voter.ID)
}

// expectPages fails unless the pager got exactly firing pages and resolved
// resolutions of ZooKeeperQuorumAtRisk so far, one alert each.
func (s *haStack) expectPages(firing, resolved int) {
	s.t.Helper()
	for status, want := range map[string]int{"firing": firing, "resolved": resolved} {
		got := s.pager.count("pager", "ZooKeeperQuorumAtRisk", s.ensemble, status)
		if got.notifications != want || got.alerts != want {
			s.t.Fatalf("ZooKeeperQuorumAtRisk %s: %d notifications carrying %d alerts, want %d of each "+
				"(2 exporter replicas, 2 Prometheus replicas, 2 Alertmanager peers)\n%s",
				status, got.notifications, got.alerts, want, s.pager.dump())
		}
	}
}

// pageSender returns the index of the Alertmanager peer that sent the last
// page: each peer sends to its own webhook path, /amN/RECEIVER.
func (s *haStack) pageSender() int {
	s.t.Helper()
	s.pager.mu.Lock()
	defer s.pager.mu.Unlock()
	for i := len(s.pager.notifications) - 1; i >= 0; i-- {
		if n := s.pager.notifications[i]; n.sentTo("pager") {
			for j := range s.alertmanagers {
				if strings.HasPrefix(n.path, fmt.Sprintf("/am%d/", j+1)) {
					return j
				}
			}
		}
	}
	s.t.Fatal("no page to find the sender of")
	return 0
}

// waitTargetDown waits until Prometheus reports the target down.
func waitTargetDown(t *testing.T, base, instance string) {
	t.Helper()
	pollUntil(t, instance+" down in "+base, func() (bool, string) {
		targets, err := activeTargets(base)
		for _, target := range targets {
			if target.Labels["instance"] == instance && target.Health == "down" {
				return true, ""
			}
		}
		return false, fmt.Sprintf("%+v %v", targets, err)
	})
}

func hostPorts(daemons []*daemon) []string {
	var addresses []string
	for _, d := range daemons {
		addresses = append(addresses, hostPort(d.base))
	}
	return addresses
}

// loadYAML reads an example configuration file as a generic document.
func loadYAML(t *testing.T, path string) map[string]any {
	t.Helper()
	text, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var document map[string]any
	if err := yaml.Unmarshal(text, &document); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return document
}

// writeYAML writes a document into dir and returns its path.
func writeYAML(t *testing.T, dir, name string, document map[string]any) string {
	t.Helper()
	text, err := yaml.Marshal(document)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, text, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// dig walks a document by map keys and list indexes, failing the test
// with the example's name when the example lacks the element.
func dig(t *testing.T, example string, document any, steps ...any) any {
	t.Helper()
	node := document
	for _, step := range steps {
		switch key := step.(type) {
		case string:
			m, _ := node.(map[string]any)
			node = m[key]
		case int:
			l, _ := node.([]any)
			if key >= len(l) {
				node = nil
				break
			}
			node = l[key]
		}
		if node == nil {
			t.Fatalf("%s has no %v", example, steps)
		}
	}
	return node
}

// startPrometheusReplica runs Prometheus with examples/ha/prometheus-R.yml,
// where only the addresses, the rule file and the intervals (to seconds)
// are replaced. Firing alerts are resent at Prometheus's default of one
// minute: a replica resending a firing alert just after the other replica
// resolved it would reopen it in Alertmanager, and production runs with
// that default too.
func startPrometheusReplica(t *testing.T, binary, dir, replica, rulesPath string, exporters, alertmanagers []string) *daemon {
	t.Helper()
	example := filepath.Join("..", "examples", "ha", "prometheus-"+replica+".yml")
	config := loadYAML(t, example)
	other := map[string]string{"a": "b", "b": "a"}[replica]
	twin := loadYAML(t, filepath.Join("..", "examples", "ha", "prometheus-"+other+".yml"))
	dig(t, example, twin, "global", "external_labels").(map[string]any)["replica"] = replica
	if !reflect.DeepEqual(config, twin) {
		t.Fatalf("%s and its twin for replica %s differ in more than the replica label", example, other)
	}
	if got := dig(t, example, config, "global", "external_labels", "replica"); got != replica {
		t.Fatalf("%s: replica label %v, want %s", example, got, replica)
	}
	global := dig(t, example, config, "global").(map[string]any)
	// Members on a loaded machine may take a second to answer: the
	// exporter gets 1.5s of a 2s scrape, its members 1s each.
	global["scrape_interval"], global["evaluation_interval"], global["scrape_timeout"] = "2s", "1s", "2s"
	config["rule_files"] = []any{rulesPath}
	dig(t, example, config, "alerting", "alertmanagers", 0, "static_configs", 0).(map[string]any)["targets"] = alertmanagers
	dig(t, example, config, "scrape_configs", 0, "static_configs", 0).(map[string]any)["targets"] = exporters
	configPath := writeYAML(t, dir, "prometheus-"+replica+".yml", config)
	d := startDaemonProcess(t, "Prometheus replica "+replica, binary, func(address string) []string {
		return []string{
			"--config.file=" + configPath,
			"--storage.tsdb.path=" + filepath.Join(dir, "prometheus-"+replica),
			"--web.listen-address=" + address,
			"--rules.alert.resend-delay=1m",
		}
	})
	return d
}

// startAlertmanagerCluster runs two Alertmanager peers gossiping over
// loopback with examples/ha/alertmanager.yml, whose routes and inhibit
// rules must be those of examples/alertmanager.yml. Peer N's receivers send
// to webhookURL/amN/RECEIVER, so the test knows who sent what.
func startAlertmanagerCluster(t *testing.T, binary, dir, webhookURL string) []*daemon {
	t.Helper()
	example := filepath.Join("..", "examples", "ha", "alertmanager.yml")
	single := loadYAML(t, filepath.Join("..", "examples", "alertmanager.yml"))
	gossip := []string{freePort(t), freePort(t)}
	var peers []*daemon
	for i := range gossip {
		config := loadYAML(t, example)
		if !reflect.DeepEqual(config, single) {
			t.Fatalf("%s differs from examples/alertmanager.yml", example)
		}
		// A peer sends what it saw at its flush, peer-timeout × its
		// position later: that must come before the first peer's next
		// flush, or a stale "firing" follows the first peer's
		// resolution. Production's defaults (15s against 5m) keep that
		// order; so do these, scaled down.
		route := dig(t, example, config, "route").(map[string]any)
		route["group_wait"], route["group_interval"] = "1s", "3s"
		for _, r := range dig(t, example, config, "receivers").([]any) {
			receiver := r.(map[string]any)
			receiver["webhook_configs"] = []any{map[string]any{
				"url":           fmt.Sprintf("%s/am%d/%s", webhookURL, i+1, url.PathEscape(fmt.Sprint(receiver["name"]))),
				"send_resolved": true,
			}}
		}
		configPath := writeYAML(t, dir, fmt.Sprintf("alertmanager-%d.yml", i+1), config)
		peers = append(peers, startDaemonProcess(t, fmt.Sprintf("Alertmanager peer %d", i+1), binary, func(address string) []string {
			return []string{
				"--config.file=" + configPath,
				"--storage.path=" + filepath.Join(dir, fmt.Sprintf("alertmanager-%d", i+1)),
				"--web.listen-address=" + address,
				"--cluster.listen-address=" + gossip[i],
				"--cluster.peer=" + gossip[1-i],
				"--cluster.gossip-interval=100ms",
				"--cluster.pushpull-interval=1s",
				"--cluster.peer-timeout=1s",
			}
		}))
	}
	for _, peer := range peers {
		waitClusterFormed(t, peer, len(peers))
	}
	return peers
}

// waitClusterFormed waits until the peer reports a ready cluster of size.
func waitClusterFormed(t *testing.T, peer *daemon, size int) {
	t.Helper()
	pollUntil(t, peer.name+" in a cluster of "+fmt.Sprint(size), func() (bool, string) {
		var status struct {
			Cluster struct {
				Status string `json:"status"`
				Peers  []any  `json:"peers"`
			} `json:"cluster"`
		}
		err := getJSON(peer.base+"/api/v2/status", &status)
		return err == nil && status.Cluster.Status == "ready" && len(status.Cluster.Peers) == size,
			fmt.Sprintf("%+v %v", status.Cluster, err)
	})
}
