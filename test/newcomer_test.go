package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/quorumwatch/zookeeper_exporter/internal/zkcluster"
)

// A newcomer's first steps, on the binary.

// A bare start probes the local default, localhost:2181, and says so.
func TestBareStart(t *testing.T) {
	base, logs, _ := startExporter(t)
	scrape := eventually(t, base+"/metrics", 10*time.Second, func(s *exposition) error {
		if _, ok := s.value("zookeeper_up", map[string]string{"ensemble": "default", "member": "localhost:2181"}); !ok {
			return fmt.Errorf("no zookeeper_up for localhost:2181")
		}
		return nil
	})
	if _, ok := scrape.value("zookeeper_ensemble_quorum_margin", map[string]string{"ensemble": "default"}); !ok {
		t.Error("no margin for the default ensemble")
	}
	if !strings.Contains(logs.String(), "probing the local default") || !strings.Contains(logs.String(), "localhost:2181") {
		t.Errorf("the log does not say what a bare start probes:\n%s", logs)
	}
}

// Debian's default zoo.cfg is a standalone server: one member, mode
// standalone, no fault tolerance by design, and healthy.
func TestStandaloneZooCfg(t *testing.T) {
	cluster := zkcluster.StartT(t, zkcluster.Options{Standalone: true})
	member := cluster.Members()[0]
	_, port, _ := strings.Cut(member.ClientAddr, ":")
	zooCfg := filepath.Join(t.TempDir(), "zoo.cfg")
	// The shape of Debian's /etc/zookeeper/conf/zoo.cfg.
	text := fmt.Sprintf("tickTime=2000\ninitLimit=10\nsyncLimit=5\ndataDir=/var/lib/zookeeper\nclientPort=%s\n", port)
	if err := os.WriteFile(zooCfg, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	base, _, _ := startExporter(t, "--zookeeper.zoo-cfg="+zooCfg)
	eventually(t, base+"/metrics", 20*time.Second, func(s *exposition) error {
		if err := expectValues(s, map[string]float64{"zookeeper_up": 1}, map[string]string{"ensemble": "default"}); err != nil {
			return err
		}
		if err := expectValues(s, map[string]float64{"zookeeper_server_mode": 1}, map[string]string{"ensemble": "default", "mode": "standalone"}); err != nil {
			return err
		}
		return expectValues(s, map[string]float64{
			"zookeeper_ensemble_voters": 1, "zookeeper_ensemble_quorum_margin": 0, "zookeeper_ensemble_fault_tolerance": 0,
		}, map[string]string{"ensemble": "default"})
	})
	code, out := runStatusArgs(t, "--zookeeper.zoo-cfg="+zooCfg, "status")
	if code != 0 || !strings.Contains(out, "HEALTHY") {
		t.Errorf("status of a standalone server: exit %d\n%s", code, out)
	}
}

// A file with several problems reports every one, each with its line.
func TestEveryConfigErrorAtOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "zk.yml")
	text := "ensembles:\n  - name: a\n    members:\n      - {adress: 127.0.0.1:2181}\n      - {address: 127.0.0.1:2182, role: obsrver}\n      - {address: 127.0.0.1:2183}\n"
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(exporterBinary, "--config.file="+path, "--config.check").CombinedOutput()
	if err == nil {
		t.Fatalf("a file with two problems was accepted:\n%s", out)
	}
	for _, want := range []string{"zk.yml:4", "adress", "zk.yml:5", "obsrver"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("the error lacks %q:\n%s", want, out)
		}
	}
}

// A member that refuses connections says why, in the table and the JSON.
func TestStatusSaysWhyAMemberIsDown(t *testing.T) {
	dead := freePort(t)
	code, out := runStatusArgs(t, "--zookeeper.servers="+dead, "status")
	if code != 4 || !strings.Contains(out, "down: connection_refused") {
		t.Errorf("status of a refusing member: exit %d\n%s", code, out)
	}
	_, out = runStatusArgs(t, "--zookeeper.servers="+dead, "status", "--output=json")
	var report struct {
		Ensembles []struct {
			Members []struct {
				DownReason string `json:"down_reason"`
				Error      string `json:"error"`
			} `json:"members"`
		} `json:"ensembles"`
	}
	if err := json.Unmarshal([]byte(out), &report); err != nil {
		t.Fatalf("json: %v\n%s", err, out)
	}
	if m := report.Ensembles[0].Members[0]; m.DownReason != "connection_refused" || !strings.Contains(m.Error, "refused") {
		t.Errorf("json member %+v, want down_reason connection_refused and the error", m)
	}
}

// The landing page lists every configured ensemble with its /probe link and
// its latest margin.
func TestLandingPageListsEnsembles(t *testing.T) {
	path := filepath.Join(t.TempDir(), "zk.yml")
	text := fmt.Sprintf("timeout: 300ms\nensembles:\n  - name: east\n    members: [{address: %q}]\n  - name: west\n    members: [{address: %q}]\n", freePort(t), freePort(t))
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	base, _, _ := startExporter(t, "--config.file="+path)
	if _, err := scrapeExporter(base+"/metrics", 5*time.Second); err != nil {
		t.Fatal(err)
	}
	status, body := get(t, base+"/")
	for _, want := range []string{`href="probe?ensemble=east"`, `href="probe?ensemble=west"`, "<td>-1</td>"} {
		if status != http.StatusOK || !strings.Contains(body, want) {
			t.Errorf("landing page lacks %s (%d)", want, status)
		}
	}
	if status, _ := get(t, base+"/probe?ensemble=east"); status != http.StatusOK {
		t.Errorf("the landing page's probe link answers %d", status)
	}
}

// runStatusArgs runs the binary with args and returns its exit status and
// output.
func runStatusArgs(t *testing.T, args ...string) (int, string) {
	t.Helper()
	out, err := exec.Command(exporterBinary, args...).CombinedOutput()
	if exit, ok := err.(*exec.ExitError); ok {
		return exit.ExitCode(), string(out)
	} else if err != nil {
		t.Fatal(err)
	}
	return 0, string(out)
}
