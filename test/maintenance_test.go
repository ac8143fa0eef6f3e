package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/quorumwatch/zookeeper_exporter/internal/zkcluster"
)

// maintenanceDatacenter puts voters 1-3 in east, voters 4-5 and the
// observer in west.
func maintenanceDatacenter(member *zkcluster.Member) string {
	if member.ID <= 3 {
		return "east"
	}
	return "west"
}

func writeMaintenanceConfig(t *testing.T, cluster *zkcluster.Cluster) string {
	t.Helper()
	var config strings.Builder
	fmt.Fprintf(&config, "timeout: 1s\nensembles:\n  - name: maint\n    members:\n")
	for _, member := range cluster.Members() {
		role := "voter"
		if member.Observer {
			role = "observer"
		}
		fmt.Fprintf(&config, "      - {address: %q, role: %s, datacenter: %s}\n", member.ClientAddr, role, maintenanceDatacenter(member))
	}
	path := filepath.Join(t.TempDir(), "zookeeper_exporter.yml")
	if err := os.WriteFile(path, []byte(config.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// runStatus runs the status command and returns its exit status and output.
func runStatus(t *testing.T, configPath string, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(exporterBinary, append([]string{"--config.file=" + configPath, "status"}, args...)...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0, out.String()
	case errors.As(err, &exit):
		return exit.ExitCode(), out.String()
	}
	t.Fatalf("status %v: %v", args, err)
	return 0, ""
}

// statusUntil runs the status command until it exits with want: ZooKeeper
// needs a moment to notice a member has gone or come back.
func statusUntil(t *testing.T, configPath string, want int, args ...string) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		code, out := runStatus(t, configPath, args...)
		if code == want {
			return out
		}
		if time.Now().After(deadline) {
			t.Fatalf("status %v exits %d, want %d:\n%s", args, code, want, out)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// safeToStop returns "1"/"0" per member in id order, "?" where absent.
func safeToStop(scrape *exposition, cluster *zkcluster.Cluster) string {
	var marks strings.Builder
	for _, member := range cluster.Members() {
		value, ok := scrape.value("zookeeper_member_safe_to_stop", map[string]string{"ensemble": "maint", "member": member.ClientAddr})
		switch {
		case !ok:
			marks.WriteString("?")
		case value == 1:
			marks.WriteString("1")
		default:
			marks.WriteString("0")
		}
	}
	return marks.String()
}

func expectSafe(cluster *zkcluster.Cluster, want string) func(*exposition) error {
	return func(scrape *exposition) error {
		if got := safeToStop(scrape, cluster); got != want {
			return fmt.Errorf("safe_to_stop by member = %s, want %s", got, want)
		}
		return nil
	}
}

// TestMaintenance walks a rolling maintenance on one real ensemble of 5
// voters (3 in east, 2 in west) and an observer: the safe-to-stop metric,
// the datacenter loss margin, the status command's exit statuses and
// --can-stop, the event log, and the status page in a real browser.
func TestMaintenance(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a real ZooKeeper ensemble")
	}
	cluster := zkcluster.StartT(t, zkcluster.Options{Voters: 5, Observers: 1})
	configPath := writeMaintenanceConfig(t, cluster)
	base, logs, _ := startExporter(t, "--config.file="+configPath)
	url := base + "/metrics"
	defer func() {
		if t.Failed() {
			t.Logf("exporter logs:\n%s", logs)
		}
	}()

	// followers returns the voters that do not lead, in id order.
	followers := func(t *testing.T) []*zkcluster.Member {
		leader := cluster.LeaderT(t)
		var out []*zkcluster.Member
		for _, member := range cluster.Voters() {
			if member.ID != leader.ID && member.PID() != 0 {
				out = append(out, member)
			}
		}
		return out
	}
	// mark is a safe_to_stop string with one digit per member.
	mark := func(safe func(*zkcluster.Member) bool) string {
		var marks strings.Builder
		for _, member := range cluster.Members() {
			marks.WriteString(map[bool]string{true: "1", false: "0"}[safe(member)])
		}
		return marks.String()
	}
	canStop := func(t *testing.T, member *zkcluster.Member, want int) {
		t.Helper()
		code, out := runStatus(t, configPath, "--ensemble=maint", "--can-stop="+member.ClientAddr)
		if code != want || strings.Count(strings.TrimSpace(out), "\n") != 0 {
			t.Errorf("--can-stop zk%d: exit %d, want %d; output:\n%s", member.ID, code, want, out)
		}
	}

	t.Run("healthy: every member is safe to stop", func(t *testing.T) {
		scrape := eventually(t, url, 30*time.Second, expectSafe(cluster, "111111"))
		for dc, want := range map[string]float64{"east": -1, "west": 0} {
			if got, ok := scrape.value("zookeeper_ensemble_datacenter_loss_margin", map[string]string{"ensemble": "maint", "datacenter": dc}); !ok || got != want {
				t.Errorf("loss margin of %s = %v (present %v), want %v", dc, got, ok, want)
			}
		}
		for _, advice := range []string{"too_many_voters", "too_many_voters_in_one_datacenter"} {
			if got, ok := scrape.value("zookeeper_ensemble_sizing_advice", map[string]string{"ensemble": "maint", "advice": advice}); !ok || got != 0 {
				t.Errorf("sizing advice %s = %v (present %v), want 0", advice, got, ok)
			}
		}
		out := statusUntil(t, configPath, 0)
		for _, want := range []string{"maint: HEALTHY, voters 5 (in quorum 5, from the ensemble), observers 1, quorum size 3, margin 2 of 2", "east -1 (loses quorum), west 0 (survives)", "SAFE TO STOP"} {
			if !strings.Contains(out, want) {
				t.Errorf("status output lacks %q:\n%s", want, out)
			}
		}
		if strings.Contains(out, "\033[") {
			t.Errorf("colour codes in output to a pipe:\n%s", out)
		}
		for _, member := range cluster.Members() {
			canStop(t, member, 0)
		}
		if code, out := runStatus(t, configPath, "--output=json"); code != 0 || !strings.Contains(out, `"health": "healthy"`) {
			t.Errorf("--output=json: exit %d\n%s", code, out)
		}
	})

	var stopped []*zkcluster.Member
	stop := func(t *testing.T, member *zkcluster.Member) {
		t.Helper()
		if err := cluster.Stop(member.ID); err != nil {
			t.Fatal(err)
		}
		stopped = append(stopped, member)
	}

	t.Run("one voter stopped: no other voter is safe, the observer is", func(t *testing.T) {
		stop(t, followers(t)[0])
		eventually(t, url, 30*time.Second, expectSafe(cluster, mark(func(m *zkcluster.Member) bool { return m.Observer })))
		out := statusUntil(t, configPath, 0) // degraded is not at risk
		if !strings.Contains(out, "DEGRADED") || !strings.Contains(out, "margin 1 of 2") {
			t.Errorf("status output:\n%s", out)
		}
		for _, member := range cluster.Members() {
			want := 5
			if member.Observer {
				want = 0
			}
			canStop(t, member, want)
		}
	})

	t.Run("status page in a real browser", func(t *testing.T) {
		browser := chromiumPath(t)
		profile := t.TempDir()
		headless := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
			"--disable-component-update", "--disable-sync", "--user-data-dir=" + profile, "--window-size=412,900"}
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		defer cancel()

		dump := exec.CommandContext(ctx, browser, append(headless, "--virtual-time-budget=3000", "--dump-dom", base+"/status")...)
		dom, err := dump.Output()
		if err != nil {
			t.Fatalf("chromium --dump-dom: %v", err)
		}
		for _, want := range []string{`data-live="1"`, "live, updated", `data-ensemble="maint"`, "DEGRADED", "already down", `data-safe="yes"`} {
			if !bytes.Contains(dom, []byte(want)) {
				t.Errorf("the page after its script ran lacks %q", want)
			}
		}
		for _, member := range cluster.Members() {
			if !bytes.Contains(dom, []byte(member.ClientAddr)) {
				t.Errorf("the page does not list zk%d (%s)", member.ID, member.ClientAddr)
			}
		}

		dir := t.TempDir()
		if artifacts := os.Getenv("ARTIFACTS_DIR"); artifacts != "" {
			dir = artifacts
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		shot := filepath.Join(dir, "status.png")
		screenshot := exec.CommandContext(ctx, browser, append(headless, "--virtual-time-budget=3000", "--hide-scrollbars", "--screenshot="+shot, base+"/status")...)
		if out, err := screenshot.CombinedOutput(); err != nil {
			t.Fatalf("chromium --screenshot: %v\n%s", err, out)
		}
		file, err := os.Open(shot)
		if err != nil {
			t.Fatal(err)
		}
		defer file.Close()
		image, err := png.Decode(file)
		if err != nil {
			t.Fatalf("screenshot: %v", err)
		}
		if width := image.Bounds().Dx(); width != 412 {
			t.Errorf("screenshot is %d px wide, want the phone's 412", width)
		}
		colours := map[uint32]bool{}
		for y := image.Bounds().Min.Y; y < image.Bounds().Max.Y; y += 3 {
			for x := image.Bounds().Min.X; x < image.Bounds().Max.X; x += 3 {
				r, g, b, _ := image.At(x, y).RGBA()
				colours[r>>8<<16|g>>8<<8|b>>8] = true
			}
		}
		if len(colours) < 8 {
			t.Errorf("screenshot has %d colours: blank page?", len(colours))
		}
		t.Logf("screenshot: %s", shot)
	})

	t.Run("voter back and caught up: every member is safe again", func(t *testing.T) {
		back := stopped[0]
		if err := cluster.Restart(back.ID); err != nil {
			t.Fatal(err)
		}
		stopped = stopped[:0]
		eventually(t, url, 60*time.Second, expectSafe(cluster, "111111"))
		statusUntil(t, configPath, 0)
		for _, member := range cluster.Members() {
			canStop(t, member, 0)
		}
		for _, event := range []string{`msg="member left"`, `msg="member rejoined"`} {
			if !strings.Contains(logs.String(), event) || !strings.Contains(logs.String(), back.ClientAddr) {
				t.Errorf("no %s event for zk%d in the log", event, back.ID)
			}
		}
	})

	t.Run("two voters stopped: at risk", func(t *testing.T) {
		for _, member := range followers(t)[:2] {
			stop(t, member)
		}
		eventually(t, url, 30*time.Second, expectValuesFunc(map[string]float64{"zookeeper_ensemble_quorum_margin": 0}))
		out := statusUntil(t, configPath, 3)
		if !strings.Contains(out, "AT_RISK") {
			t.Errorf("status output:\n%s", out)
		}
		for _, member := range cluster.Members() {
			want := 5
			if member.Observer {
				want = 0
			}
			canStop(t, member, want)
		}
	})

	t.Run("three voters stopped: lost", func(t *testing.T) {
		stop(t, followers(t)[0])
		eventually(t, url, 30*time.Second, func(scrape *exposition) error {
			if err := expectValuesFunc(map[string]float64{"zookeeper_ensemble_quorum_margin": -1})(scrape); err != nil {
				return err
			}
			// The observer notices the lost leader a moment after the voters.
			observer := cluster.Observers()[0]
			if modes := scrape.labelValues("zookeeper_server_mode", "mode", map[string]string{"member": observer.ClientAddr}, 1); len(modes) != 1 || modes[0] != "not_serving" {
				return fmt.Errorf("observer mode %v, want not_serving", modes)
			}
			return nil
		})
		out := statusUntil(t, configPath, 4)
		if !strings.Contains(out, "LOST") {
			t.Errorf("status output:\n%s", out)
		}
		for _, member := range cluster.Members() {
			canStop(t, member, 5)
		}
		pollUntil(t, "a quorum lost event in the log", func() (bool, string) {
			return strings.Contains(logs.String(), `msg="quorum lost"`), ""
		})
	})

	t.Run("quorum regained: the outage is timed", func(t *testing.T) {
		for _, member := range stopped {
			if err := cluster.Restart(member.ID); err != nil {
				t.Fatal(err)
			}
		}
		scrape := eventually(t, url, 60*time.Second, func(scrape *exposition) error {
			if err := expectSafe(cluster, "111111")(scrape); err != nil {
				return err
			}
			if seconds, ok := scrape.value("zookeeper_ensemble_last_unavailability_seconds", map[string]string{"ensemble": "maint"}); !ok || seconds <= 0 {
				return fmt.Errorf("last_unavailability_seconds = %v (present %v)", seconds, ok)
			}
			return nil
		})
		last, _ := scrape.value("zookeeper_ensemble_last_unavailability_seconds", map[string]string{"ensemble": "maint"})
		total, _ := scrape.value("zookeeper_ensemble_unavailable_seconds_total", map[string]string{"ensemble": "maint"})
		if total < last {
			t.Errorf("unavailable_seconds_total %v < last_unavailability_seconds %v", total, last)
		}
		// The log comes through a pipe: it may reach the test after the scrape.
		pollUntil(t, "a quorum regained event with the time unavailable in the log", func() (bool, string) {
			text := logs.String()
			return strings.Contains(text, `msg="quorum regained"`) && strings.Contains(text, "unavailable_seconds="), ""
		})
		statusUntil(t, configPath, 0)
	})
}

func expectValuesFunc(want map[string]float64) func(*exposition) error {
	return func(scrape *exposition) error {
		return expectValues(scrape, want, map[string]string{"ensemble": "maint"})
	}
}

// chromiumPath finds Debian's chromium, failing the test when it is missing:
// the status page is only tested in a real browser.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if path, err := exec.LookPath(name); err == nil {
			return path
		}
	}
	t.Fatal("chromium is not installed: apt-get install -y chromium (make deps installs it)")
	return ""
}
