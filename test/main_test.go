package e2e

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestVersion(t *testing.T) {
	out, err := exec.Command(exporterBinary, "--version").CombinedOutput()
	if err != nil {
		t.Fatalf("--version: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "version 9.8.7") || !strings.Contains(string(out), "abc123") {
		t.Errorf("--version = %q, want the injected version and revision", out)
	}
}

func TestConfigCheck(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yml")
	bad := filepath.Join(dir, "bad.yml")
	os.WriteFile(good, []byte("ensembles:\n  - name: a\n    members: [{address: 127.0.0.1:2181}]\n"), 0o644)
	os.WriteFile(bad, []byte("ensembles:\n  - name: a\n    members:\n      - {address: 127.0.0.1:2181}\n      - {address: 127.0.0.1:2181}\n"), 0o644)

	if out, err := exec.Command(exporterBinary, "--config.file="+good, "--config.check").CombinedOutput(); err != nil {
		t.Errorf("valid config: %v\n%s", err, out)
	}
	out, err := exec.Command(exporterBinary, "--config.file="+bad, "--config.check").CombinedOutput()
	if err == nil {
		t.Fatalf("invalid config accepted:\n%s", out)
	}
	if !strings.Contains(string(out), "bad.yml:5") || !strings.Contains(string(out), "duplicate member") {
		t.Errorf("error does not name file, line and problem:\n%s", out)
	}
	// A bare start probes the local default, and says so.
	out, err = exec.Command(exporterBinary, "--config.check").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "localhost:2181") || !strings.Contains(string(out), "--config.file") {
		t.Errorf("no source: err %v, output %s; want the local default, and a hint at the flags", err, out)
	}
}

func TestServe(t *testing.T) {
	dead := freePort(t) // nothing listens: the member is down
	base, logs, _ := startExporter(t, "--zookeeper.servers="+dead, "--zookeeper.ensemble=solo", "--zookeeper.timeout=500ms")

	status, body := get(t, base+"/")
	if status != http.StatusOK || !strings.Contains(body, "ZooKeeper Exporter") || !strings.Contains(body, "/metrics") {
		t.Errorf("landing page: %d\n%s", status, body)
	}

	status, body = get(t, base+"/metrics")
	if status != http.StatusOK {
		t.Fatalf("/metrics: %d\n%s", status, body)
	}
	for _, want := range []string{
		fmt.Sprintf(`zookeeper_up{ensemble="solo",member=%q,role="voter",server_id=""} 0`, dead),
		`zookeeper_ensemble_quorum_margin{ensemble="solo"} -1`,
		`zookeeper_exporter_build_info{`,
		`version="9.8.7"`,
		`go_goroutines `,
		`zookeeper_exporter_probe_errors_total{ensemble="solo",member="` + dead + `",reason="connection_refused"} 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if !strings.Contains(logs.String(), "member down") || !strings.Contains(logs.String(), dead) {
		t.Errorf("no log line names the down member:\n%s", logs)
	}

	status, body = get(t, base+"/probe?ensemble=solo")
	if status != http.StatusOK || !strings.Contains(body, `zookeeper_ensemble_voters{ensemble="solo"} 1`) || strings.Contains(body, "go_goroutines") {
		t.Errorf("/probe?ensemble=solo: %d\n%s", status, body)
	}
	for _, query := range []string{"", "?ensemble=other", "?target=127.0.0.1:2181"} {
		if status, body := get(t, base+"/probe"+query); status != http.StatusBadRequest {
			t.Errorf("/probe%s: %d, want 400\n%s", query, status, body)
		}
	}
}

func TestReload(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "zk.yml")
	write := func(text string) {
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	first, second := freePort(t), freePort(t)
	write(fmt.Sprintf("timeout: 300ms\nensembles:\n  - name: first\n    members: [{address: %q}]\n", first))
	base, logs, cmd := startExporter(t, "--config.file="+path)

	if status, _ := get(t, base+"/-/reload"); status != http.StatusMethodNotAllowed {
		t.Errorf("GET /-/reload: %d, want 405", status)
	}

	write("ensembles:\n  - name: broken\n    members: []\n")
	status, body := post(t, base+"/-/reload")
	if status != http.StatusInternalServerError || !strings.Contains(body, "zk.yml") {
		t.Errorf("bad reload: %d %q, want 500 naming the file", status, body)
	}
	_, metrics := get(t, base+"/metrics")
	if !strings.Contains(metrics, `zookeeper_ensemble_voters{ensemble="first"} 1`) {
		t.Errorf("the old configuration stopped serving after a bad reload")
	}
	if !strings.Contains(metrics, "zookeeper_exporter_config_last_reload_successful 0") {
		t.Errorf("last_reload_successful is not 0 after a bad reload")
	}

	write(fmt.Sprintf("timeout: 300ms\nensembles:\n  - name: second\n    members: [{address: %q}]\n", second))
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, metrics = get(t, base+"/metrics")
		// The new ensembles show a moment before the reload is marked done.
		if strings.Contains(metrics, `zookeeper_ensemble_voters{ensemble="second"} 1`) &&
			strings.Contains(metrics, "zookeeper_exporter_config_last_reload_successful 1") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("SIGHUP did not load the new configuration; logs:\n%s", logs)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if strings.Contains(metrics, `ensemble="first"`) {
		t.Errorf("after a good reload the old ensemble is still exported")
	}
}

// TestMaxRequests: past --web.max-requests scrapes in flight, a scrape is
// answered 503 at once, as node_exporter's are; once one finishes, the next
// gets in. The member is a fake that accepts and never answers (what no
// real ZooKeeper can be made to do on demand), so that a scrape stays in
// flight for its whole timeout.
func TestMaxRequests(t *testing.T) {
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	accepted := make(chan net.Conn, 16)
	t.Cleanup(func() {
		silent.Close()
		for len(accepted) > 0 {
			(<-accepted).Close()
		}
	})
	go func() {
		for {
			conn, err := silent.Accept()
			if err != nil {
				return
			}
			accepted <- conn
		}
	}()
	base, _, _ := startExporter(t, "--zookeeper.servers="+silent.Addr().String(), "--zookeeper.timeout=2s", "--web.max-requests=1")

	first := make(chan int, 1)
	go func() {
		response, err := http.Get(base + "/metrics")
		if err != nil {
			first <- 0
			return
		}
		response.Body.Close()
		first <- response.StatusCode
	}()
	// The first scrape is in flight once the member has a connection.
	select {
	case conn := <-accepted:
		accepted <- conn
	case <-time.After(10 * time.Second):
		t.Fatal("the first scrape never reached the member")
	}
	if status, body := get(t, base+"/probe?ensemble=default"); status != http.StatusServiceUnavailable || !strings.Contains(body, "Limit of concurrent requests reached (1)") {
		t.Errorf("a scrape while one is in flight: %d %q, want 503 and the limit", status, body)
	}
	if status := <-first; status != http.StatusOK {
		t.Errorf("the scrape in flight: %d, want 200", status)
	}
	status, body := get(t, base+"/metrics")
	if status != http.StatusOK {
		t.Fatalf("a scrape after the first finished: %d, want 200\n%s", status, body)
	}
	if !strings.Contains(body, "\nzookeeper_exporter_scrapes_refused_total 1\n") {
		t.Errorf("the refusal is not counted once:\n%s", body)
	}
}
