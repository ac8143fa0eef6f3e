package e2e

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/quorumwatch/zookeeper_exporter/internal/zkcluster"
)

// TestDemo is issue #12's "must show" for `make demo`: the demo program is
// run as a newcomer runs it, its printed instructions are followed (the
// voters it says to stop are stopped) until ZooKeeperQuorumAtRisk fires in
// Prometheus while the ensemble still serves; Ctrl-C must then stop every
// process it started and remove its files.
func TestDemo(t *testing.T) {
	lookTool(t, "prometheus", "prometheus")
	lookTool(t, "prometheus-alertmanager", "prometheus-alertmanager")
	demoBinary := filepath.Join(t.TempDir(), "demo")
	if out, err := exec.Command("go", "build", "-o", demoBinary, "../internal/demo").CombinedOutput(); err != nil {
		t.Fatalf("building the demo: %v\n%s", err, out)
	}
	var d *runningDemo
	for attempt := 1; d == nil; attempt++ {
		d = startDemo(t, demoBinary)
		if d.guide == nil {
			// A free port may be taken before the demo binds it.
			if attempt == 1 && strings.Contains(d.output.String(), "address already in use") {
				d = nil
				continue
			}
			t.Fatalf("the demo printed no complete guide:\n%s", d.output)
		}
	}
	cmd, exited, g, output := d.cmd, d.exited, d.guide, d.output
	if g.dir == "" || g.prometheus == "" {
		t.Fatalf("the demo's guide lacks its directory or the Prometheus URL:\n%s", output)
	}
	followStoryToAtRisk(t, g, output)

	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		exited <- err // stopDemo waits too
		if err != nil {
			t.Errorf("the demo exited with %v after Ctrl-C:\n%s", err, output)
		}
	case <-time.After(time.Minute):
		t.Fatalf("the demo did not exit within a minute of Ctrl-C:\n%s", output)
	}
	for _, pid := range g.pids {
		if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
			t.Errorf("process %d the demo started is still there after Ctrl-C (%v)", pid, err)
		}
	}
	if _, err := os.Stat(g.dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the demo's directory %s is still there after Ctrl-C (%v)", g.dir, err)
	}
}

// runningDemo is the demo program started by a test.
type runningDemo struct {
	cmd    *exec.Cmd
	exited chan error // receives Wait's result, once
	output *lockedBuffer
	guide  *demoGuide // nil if the demo ended before printing all of it
}

// startDemo runs the demo on free ports and waits for its guide; it is
// stopped in t.Cleanup.
func startDemo(t *testing.T, binary string) *runningDemo {
	t.Helper()
	d := &runningDemo{exited: make(chan error, 1), output: &lockedBuffer{}}
	d.cmd = exec.Command(binary, "-exporter", exporterBinary,
		"-listen", freePort(t), "-prometheus.listen", freePort(t), "-alertmanager.listen", freePort(t),
		"-alertmanager.config", filepath.Join("..", "examples", "alertmanager.yml"),
		"-prometheus.config", filepath.Join("..", "examples", "prometheus.yml"), "-alert-for", "3s")
	d.cmd.Stderr = d.output
	stdout, err := d.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	guide := make(chan *demoGuide, 1)
	go func() {
		readDemoGuide(bufio.NewScanner(stdout), d.output, guide)
		d.exited <- d.cmd.Wait()
	}()
	t.Cleanup(func() { stopDemo(t, d) })
	select {
	case d.guide = <-guide:
	case <-time.After(2 * time.Minute):
		t.Fatalf("the demo printed no guide within 2 minutes:\n%s", d.output)
	}
	return d
}

// demoGuide is what the demo printed: where things run and the story.
type demoGuide struct {
	dir, prometheus string
	pids            []int          // every process the demo started
	voters          map[string]int // client address -> pid
	steps           []demoStep     // in order
	killed          map[int]bool   // pids the test stopped
}

type demoStep struct{ text, command string }

var (
	demoServiceLine = regexp.MustCompile(`^  (exporter|Prometheus|Alertmanager) +(http://[^/ ]+)/\S* +pid (\d+)$`)
	demoMemberLine  = regexp.MustCompile(`^  zk\d+ +(voter|observer) +\S+ +(\S+) +pid (\d+)$`)
	demoStepLine    = regexp.MustCompile(`^  \d+\. (.*)$`)
	demoCommandLine = regexp.MustCompile(`^       (kill .*)$`)
	demoFilesLine   = regexp.MustCompile(`^Ctrl-C stops everything and removes (\S+)\.$`)
)

// readDemoGuide copies the demo's output into output until it ends, and
// sends the guide once its last line was read.
func readDemoGuide(lines *bufio.Scanner, output *lockedBuffer, guide chan<- *demoGuide) {
	g := &demoGuide{voters: map[string]int{}, killed: map[int]bool{}}
	for lines.Scan() {
		line := lines.Text()
		fmt.Fprintln(output, line)
		if g == nil {
			continue // the guide was sent
		}
		if m := demoServiceLine.FindStringSubmatch(line); m != nil {
			pid, _ := strconv.Atoi(m[3])
			g.pids = append(g.pids, pid)
			if m[1] == "Prometheus" {
				g.prometheus = m[2]
			}
		}
		if m := demoMemberLine.FindStringSubmatch(line); m != nil {
			pid, _ := strconv.Atoi(m[3])
			g.pids = append(g.pids, pid)
			if m[1] == "voter" {
				g.voters[m[2]] = pid
			}
		}
		if m := demoStepLine.FindStringSubmatch(line); m != nil {
			g.steps = append(g.steps, demoStep{text: m[1]})
		} else if m := demoCommandLine.FindStringSubmatch(line); m != nil && len(g.steps) > 0 {
			g.steps[len(g.steps)-1].command = m[1]
		} else if len(g.steps) > 0 && strings.HasPrefix(line, "     ") {
			g.steps[len(g.steps)-1].text += " " + strings.TrimSpace(line)
		}
		if m := demoFilesLine.FindStringSubmatch(line); m != nil {
			g.dir = m[1]
			guide <- g
			g = nil
		}
	}
	if g != nil {
		guide <- nil
	}
}

// followStoryToAtRisk runs the story's commands in order up to the step
// that says ZooKeeperQuorumAtRisk fires; then the alert must be firing in
// Prometheus and the voters left must still serve, under one leader.
func followStoryToAtRisk(t *testing.T, g *demoGuide, output *lockedBuffer) {
	t.Helper()
	for i, st := range g.steps {
		fields := strings.Fields(st.command)
		pid, err := strconv.Atoi(fields[len(fields)-1])
		if len(fields) < 2 || fields[0] != "kill" || err != nil {
			t.Fatalf("step %d's command %q is not kill [-9] PID:\n%s", i+1, st.command, output)
		}
		signal := syscall.SIGTERM
		if fields[1] == "-9" {
			signal = syscall.SIGKILL
		}
		if err := syscall.Kill(pid, signal); err != nil {
			t.Fatalf("step %d, %s: %v", i+1, st.command, err)
		}
		g.killed[pid] = true
		t.Logf("step %d: %s: %s", i+1, st.text, st.command)
		if strings.Contains(st.text, "ZooKeeperQuorumAtRisk") {
			break
		}
		if i == len(g.steps)-1 {
			t.Fatalf("no step of the demo's story says ZooKeeperQuorumAtRisk fires:\n%s", output)
		}
	}
	pollUntil(t, "ZooKeeperQuorumAtRisk firing in the demo's Prometheus", func() (bool, string) {
		alerts, err := prometheusAlerts(g.prometheus)
		if err != nil {
			return false, err.Error()
		}
		for _, alert := range alerts {
			if alert.Labels["alertname"] == "ZooKeeperQuorumAtRisk" && alert.State == "firing" {
				return true, ""
			}
		}
		return false, fmt.Sprintf("alerts: %v", alerts)
	})
	leaders := 0
	for address, pid := range g.voters {
		if g.killed[pid] {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		answer, err := zkcluster.FourLetterWord(ctx, address, "srvr")
		cancel()
		mode := regexp.MustCompile(`Mode: (\w+)`).FindSubmatch(answer)
		if err != nil || mode == nil || (string(mode[1]) != "leader" && string(mode[1]) != "follower") {
			t.Fatalf("ZooKeeperQuorumAtRisk fires, but voter %s does not serve: %q, %v", address, answer, err)
		}
		if string(mode[1]) == "leader" {
			leaders++
		}
	}
	if leaders != 1 {
		t.Fatalf("ZooKeeperQuorumAtRisk fires with %d leaders among the voters left", leaders)
	}
	t.Logf("ZooKeeperQuorumAtRisk firing in Prometheus while the ensemble serves")
}

// stopDemo makes sure the demo and what it started are gone when the test
// ends early: Ctrl-C first, then SIGKILL (its servers die with it).
func stopDemo(t *testing.T, d *runningDemo) {
	_ = d.cmd.Process.Signal(os.Interrupt)
	select {
	case err := <-d.exited:
		d.exited <- err
	case <-time.After(30 * time.Second):
		_ = d.cmd.Process.Kill()
	}
	if d.guide != nil && d.guide.dir != "" {
		_ = os.RemoveAll(d.guide.dir)
	}
	if t.Failed() {
		t.Logf("demo output:\n%s", d.output)
	}
}
