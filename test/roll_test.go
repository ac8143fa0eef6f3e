package e2e

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/quorumwatch/zookeeper_exporter/internal/zkcluster"
)

// TestRoll is the rolling restart on 5 voters and an observer, with a real
// Alertmanager: the roll over all six members (leader last, one silence at
// a time, the margin never below 1 but while the leader's election runs),
// a command that kills instead of restarting, status --wait-caught-up after
// 2,000 writes and on a member that stays down, and the leader killed.
func TestRoll(t *testing.T) {
	alertmanagerBinary := lookTool(t, "prometheus-alertmanager", "prometheus-alertmanager")
	lookTool(t, "nc", "netcat-openbsd")
	cluster := zkcluster.StartT(t, zkcluster.Options{Voters: 5, Observers: 1})
	cluster.LeaderT(t)
	dir := t.TempDir()
	config := writeClusterConfig(t, "roll", cluster, 2*time.Second)
	alertmanager, _ := startAlertmanager(t, alertmanagerBinary, dir, newWebhookReceiver(t).server.URL)
	sampler, _, _ := startExporter(t, "--config.file="+config)
	control := newMemberControl(t, cluster)
	waitFlags := []string{"--config.file=" + config, "status", "--interval=300ms", "--settle=3"}

	t.Run("roll over all six, the leader last", func(t *testing.T) {
		leader := cluster.LeaderT(t)
		control.check = func(address string) error {
			active, err := activeSilences(alertmanager)
			switch {
			case err != nil:
				return err
			case len(active) != 1:
				return fmt.Errorf("restarting %s: %d silences active, want 1: %+v", address, len(active), active)
			case active[0].matcher("member") != address || active[0].matcher("ensemble") != "roll" || active[0].EndsAt.After(time.Now().Add(time.Hour)):
				return fmt.Errorf("restarting %s: the silence is %+v", address, active[0])
			case strings.Contains(active[0].matcher("alertname"), "Quorum"):
				return fmt.Errorf("restarting %s: the silence covers quorum alerts: %s", address, active[0].matcher("alertname"))
			}
			return nil
		}
		stop := make(chan struct{})
		samples := sampleMargins(sampler, "roll", control, stop)
		code, out := runTool(t, "--config.file="+config, "roll", "--exec="+control.command("restart"),
			"--interval=300ms", "--settle=3", "--catch-up-timeout=90s", "--safe-timeout=90s", "--alertmanager.url="+alertmanager)
		close(stop)
		t.Logf("roll:\n%s", out)
		if code != 0 {
			t.Fatalf("roll exited %d:\n%s", code, out)
		}
		asked := control.requests()
		if len(asked) != 6 || asked[0] != cluster.Observers()[0].ClientAddr || asked[5] != leader.ClientAddr {
			t.Errorf("restarted %v; want six, the observer %s first and the leader %s last", asked, cluster.Observers()[0].ClientAddr, leader.ClientAddr)
		}
		for _, failure := range control.failures {
			t.Error(failure)
		}
		if want := fmt.Sprintf("[%s] restarting server %d on 127.0.0.1 port ", leader.ClientAddr, leader.ID); !strings.Contains(out, want) {
			t.Errorf("the command's output is not streamed with the member's name (%q):\n%s", want, out)
		}
		for _, want := range []string{"safe to stop: restarting", "margin_while_down=1", "caught up", "roll done"} {
			if !strings.Contains(out, want) {
				t.Errorf("the roll's log lacks %q:\n%s", want, out)
			}
		}
		checkMargins(t, <-samples)
		if active, err := activeSilences(alertmanager); err != nil || len(active) != 0 {
			t.Errorf("after the roll: active silences %+v (%v), want none", active, err)
		}
		eventually(t, sampler+"/metrics", 30*time.Second, func(e *exposition) error {
			if up := e.labelValues("zookeeper_member_caught_up", "member", map[string]string{"ensemble": "roll"}, 1); len(up) != 6 {
				return fmt.Errorf("caught up: %v, want all six", up)
			}
			return nil
		})
	})

	t.Run("SIGINT during a step: the roll ends that step, then stops", func(t *testing.T) {
		before := len(control.requests())
		cmd := exec.Command(exporterBinary, "--config.file="+config, "roll", "--exec="+control.command("restart"),
			"--interval=300ms", "--settle=3", "--catch-up-timeout=90s")
		var out lockedBuffer
		cmd.Stdout, cmd.Stderr = &out, &out
		control.mu.Lock()
		control.check = func(string) error { return cmd.Process.Signal(os.Interrupt) }
		control.mu.Unlock()
		defer func() {
			control.mu.Lock()
			control.check = nil
			control.mu.Unlock()
		}()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		err := cmd.Wait()
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != 6 {
			t.Fatalf("roll interrupted: %v, want exit status 6:\n%s", err, out.String())
		}
		log := out.String()
		asked := control.requests()[before:]
		caughtUp, stopped := strings.Index(log, `msg="caught up"`), strings.Index(log, "stopped by the operator")
		if len(asked) != 1 || caughtUp < 0 || stopped < caughtUp {
			t.Errorf("restarted %v; want one member, caught up before the roll stopped:\n%s", asked, log)
		}
	})

	t.Run("a command that kills: the roll stops at that member", func(t *testing.T) {
		control.mu.Lock()
		control.kill, control.check = true, nil
		before := len(control.asked)
		control.mu.Unlock()
		observer := cluster.Observers()[0]
		t.Cleanup(func() {
			control.mu.Lock()
			control.kill = false
			control.mu.Unlock()
			if observer.PID() == 0 {
				_ = cluster.Restart(observer.ID)
			}
		})
		code, out := runTool(t, "--config.file="+config, "roll", "--exec="+control.command("kill"),
			"--interval=300ms", "--settle=3", "--catch-up-timeout=6s", "--alertmanager.url="+alertmanager)
		if code != 4 || !strings.Contains(out, "not back: "+observer.ClientAddr) {
			t.Errorf("roll exited %d, want 4 naming %s:\n%s", code, observer.ClientAddr, out)
		}
		if asked := control.requests()[before:]; len(asked) != 1 || asked[0] != observer.ClientAddr {
			t.Errorf("commands run: %v, want only %s", asked, observer.ClientAddr)
		}
		if active, err := activeSilences(alertmanager); err != nil || len(active) != 0 {
			t.Errorf("after the roll stopped: active silences %+v (%v), want none", active, err)
		}
		if err := cluster.Restart(observer.ID); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := cluster.WaitServing(ctx, observer.ID); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("status --wait-caught-up after 2,000 writes", func(t *testing.T) {
		leader, follower := leaderAndFollower(t, cluster)
		if err := cluster.Stop(follower.ID); err != nil {
			t.Fatal(err)
		}
		write2000(t, leader)
		target := srvrZxid(t, leader)
		if err := cluster.Restart(follower.ID); err != nil {
			t.Fatal(err)
		}
		code, out := runTool(t, append(waitFlags, "--wait-caught-up="+follower.ClientAddr, "--timeout=90s")...)
		if code != 0 || !strings.Contains(out, "caught up: ") {
			t.Fatalf("--wait-caught-up exited %d:\n%s", code, out)
		}
		if got := srvrZxid(t, follower); got < target {
			t.Errorf("--wait-caught-up exited 0 with the follower at %s, the leader at %s:\n%s", got, target, out)
		}
		if target.Counter() < 2000 {
			t.Errorf("the leader's zxid %s does not count the 2,000 writes", target)
		}
	})

	t.Run("status --wait-caught-up on a member that stays down", func(t *testing.T) {
		_, follower := leaderAndFollower(t, cluster)
		if err := cluster.Stop(follower.ID); err != nil {
			t.Fatal(err)
		}
		defer func() {
			if err := cluster.Restart(follower.ID); err != nil {
				t.Fatal(err)
			}
		}()
		code, out := runTool(t, append(waitFlags, "--wait-caught-up="+strconv.Itoa(follower.ID), "--timeout=3s")...)
		if code != 6 || !strings.Contains(out, "timed out after 3s: "+follower.ClientAddr) || !strings.Contains(out, "down") {
			t.Errorf("--wait-caught-up on a member that stays down exited %d:\n%s", code, out)
		}
	})

	t.Run("the leader killed: one leader change, the election's length", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := cluster.WaitServing(ctx); err != nil {
			t.Fatal(err)
		}
		first := eventually(t, sampler+"/metrics", 30*time.Second, func(e *exposition) error {
			if up := e.labelValues("zookeeper_member_caught_up", "member", map[string]string{"ensemble": "roll"}, 1); len(up) != 6 {
				return fmt.Errorf("caught up: %v, want all six", up)
			}
			return nil
		})
		before, _ := first.value("zookeeper_ensemble_leader_changes_total", map[string]string{"ensemble": "roll"})
		leader := cluster.LeaderT(t)
		stop := make(chan struct{})
		defer close(stop)
		go func() { // rounds while the election runs, as Prometheus's scrapes would be
			for {
				select {
				case <-stop:
					return
				case <-time.After(100 * time.Millisecond):
					_, _ = scrapeExporter(sampler+"/metrics", 5*time.Second)
				}
			}
		}()
		if err := cluster.Kill(leader.ID); err != nil {
			t.Fatal(err)
		}
		eventually(t, sampler+"/metrics", 60*time.Second, func(e *exposition) error {
			changes, _ := e.value("zookeeper_ensemble_leader_changes_total", map[string]string{"ensemble": "roll"})
			seconds, ok := e.value("zookeeper_ensemble_last_election_seconds", map[string]string{"ensemble": "roll"})
			if changes != before+1 || !ok || seconds < 0 {
				return fmt.Errorf("leader changes %v (before %v), last election %v s (reported %v)", changes, before, seconds, ok)
			}
			return nil
		})
	})
}

// checkMargins: while a follower or the observer is down the margin is at
// least 1; only the leader's step may go lower, while its election runs
// (no leader serves: margin -1), and never below that.
func checkMargins(t *testing.T, samples []marginSample) {
	t.Helper()
	if len(samples) < 20 {
		t.Fatalf("only %d samples during the roll", len(samples))
	}
	lowest := map[int]float64{}
	for _, s := range samples {
		if low, ok := lowest[s.step]; !ok || s.margin < low {
			lowest[s.step] = s.margin
		}
	}
	t.Logf("%d samples; lowest margin by commands run: %v", len(samples), lowest)
	for _, s := range samples {
		leaderStep := s.step == 6
		if s.margin < 1 && !(leaderStep && s.margin >= -1) {
			t.Errorf("margin %v with %v leaders during step %d", s.margin, s.leaders, s.step)
		}
	}
}

// TestGateAndRefusal: the HTTP gate behind basic auth on a healthy 3-voter
// ensemble and with a voter down, and the roll refusing to start then.
func TestGateAndRefusal(t *testing.T) {
	cluster := zkcluster.StartT(t, zkcluster.Options{Voters: 3})
	leader := cluster.LeaderT(t)
	config := writeClusterConfig(t, "three", cluster, 2*time.Second)
	webConfig := filepath.Join(t.TempDir(), "web.yml")
	hash := basicAuthHash(t, "roll-secret")
	if err := os.WriteFile(webConfig, []byte(fmt.Sprintf("basic_auth_users:\n  ops: %q\n", hash)), 0o600); err != nil {
		t.Fatal(err)
	}
	base, _, _ := startExporter(t, "--config.file="+config, "--web.config.file="+webConfig)
	var followers []*zkcluster.Member
	for _, m := range cluster.Voters() {
		if m.ID != leader.ID {
			followers = append(followers, m)
		}
	}
	gate := func(path, user string) (int, string) {
		request, err := newGet(base + "/api/v1/ensembles/three/" + path)
		if err != nil {
			t.Fatal(err)
		}
		if user != "" {
			request.SetBasicAuth(user, "roll-secret")
		}
		return doRequest(t, request)
	}
	canStop := "members/" + followers[0].ClientAddr + "/can-stop"
	if code, body := gate(canStop, ""); code != 401 {
		t.Errorf("without credentials: %d %s, want 401", code, body)
	}
	if code, body := gate(canStop, "ops"); code != 200 || !strings.Contains(body, `"safe": true`) || !strings.Contains(body, "margin 0 while it is down") {
		t.Errorf("healthy follower: %d %s, want 200 and safe", code, body)
	}
	if code, body := gate("plan", "ops"); code != 200 || !strings.Contains(body, `"kind": "leader"`) {
		t.Errorf("plan: %d %s", code, body)
	}
	code, plan := runTool(t, "--config.file="+config, "status", "--plan")
	if want := fmt.Sprintf("3     %s (%d)  leader", leader.ClientAddr, leader.ID); code != 0 || !strings.Contains(plan, want) {
		t.Errorf("status --plan exited %d, want the leader %q last:\n%s", code, want, plan)
	}
	if code, plan := runTool(t, "--config.file="+config, "status", "--plan", "--output=json"); code != 0 || !strings.Contains(plan, `"margin_while_down": 0`) {
		t.Errorf("status --plan --output=json exited %d:\n%s", code, plan)
	}
	if code, out := runTool(t, "--config.file="+config, "roll", "--dry-run"); code != 0 || !strings.Contains(out, "rolling restart, margin 1 of 1") || !strings.Contains(out, "dry run: nothing restarted") {
		t.Errorf("roll --dry-run exited %d:\n%s", code, out)
	}
	page, err := newGet(base + "/status")
	if err != nil {
		t.Fatal(err)
	}
	page.SetBasicAuth("ops", "roll-secret")
	if code, body := doRequest(t, page); code != 200 || strings.Count(body, `data-caught-up="yes"`) != 3 {
		t.Errorf("/status: %d, want every member caught up on the page:\n%s", code, body)
	}
	if err := cluster.Kill(followers[1].ID); err != nil {
		t.Fatal(err)
	}
	pollUntil(t, "the gate says 409 with a voter down", func() (bool, string) {
		code, body := gate(canStop, "ops")
		return code == 409 && strings.Contains(body, `"safe": false`), fmt.Sprint(code, " ", body)
	})

	code, out := runTool(t, "--config.file="+config, "roll", "--exec=true", "--interval=300ms", "--settle=2")
	if code != 3 || !strings.Contains(out, "unsafe: ") || !strings.Contains(out, followers[1].ClientAddr+" (server "+strconv.Itoa(followers[1].ID)+") (down") {
		t.Errorf("roll with a voter down exited %d, want 3 naming %s:\n%s", code, followers[1].ClientAddr, out)
	}
}
