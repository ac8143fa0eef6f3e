// Package bench holds what the benchmark commands share: starting a process
// to measure, timing sequential scrapes, and reading a process's peak
// memory and CPU time from /proc (Linux only).
package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Process is a measured process (an exporter) started by Start.
type Process struct {
	Name string
	Cmd  *exec.Cmd
	logs lockedBuffer
	done chan struct{}
}

// Start runs name with args and waits until ready answers 200 (or until
// ctx ends).
func Start(ctx context.Context, name, path string, args []string, ready string) (*Process, error) {
	p := &Process{Name: name, Cmd: exec.Command(path, args...), done: make(chan struct{})}
	p.Cmd.Stdout, p.Cmd.Stderr = &p.logs, &p.logs
	if err := p.Cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	go func() { _ = p.Cmd.Wait(); close(p.done) }()
	for {
		response, err := http.Get(ready)
		if err == nil {
			response.Body.Close()
			if response.StatusCode == http.StatusOK {
				return p, nil
			}
		}
		select {
		case <-p.done:
			return nil, fmt.Errorf("%s exited before answering %s; its output:\n%s", name, ready, p.logs.String())
		case <-ctx.Done():
			p.Stop()
			return nil, fmt.Errorf("%s did not answer %s: %w; its output:\n%s", name, ready, ctx.Err(), p.logs.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Stop sends SIGTERM, and SIGKILL if the process is still there after 5 s.
func (p *Process) Stop() {
	_ = p.Cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		_ = p.Cmd.Process.Kill()
		<-p.done
	}
}

// Logs returns what the process printed so far.
func (p *Process) Logs() string { return p.logs.String() }

// PeakRSS is the process's peak resident set size (VmHWM), in bytes.
func (p *Process) PeakRSS() (int64, error) {
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.Cmd.Process.Pid))
	if err != nil {
		return 0, fmt.Errorf("peak RSS of %s: %w", p.Name, err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		if value, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kib, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(value), "kB")), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("peak RSS of %s: VmHWM %q: %w", p.Name, value, err)
			}
			return kib << 10, nil
		}
	}
	return 0, fmt.Errorf("peak RSS of %s: no VmHWM in /proc status", p.Name)
}

// clockTicks is USER_HZ, the unit of /proc/PID/stat times: 100 on every
// Linux architecture Go supports.
const clockTicks = 100

// CPU is the user and system time the process used so far.
func (p *Process) CPU() (time.Duration, error) {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.Cmd.Process.Pid))
	if err != nil {
		return 0, fmt.Errorf("CPU time of %s: %w", p.Name, err)
	}
	// The command name, in parentheses, may hold spaces: count fields
	// after its closing parenthesis. utime and stime are fields 14 and 15.
	end := bytes.LastIndexByte(stat, ')')
	if end < 0 {
		return 0, fmt.Errorf("CPU time of %s: unexpected /proc stat %q", p.Name, stat)
	}
	fields := strings.Fields(string(stat[end+1:]))
	if len(fields) < 13 {
		return 0, fmt.Errorf("CPU time of %s: unexpected /proc stat %q", p.Name, stat)
	}
	var ticks int64
	for _, field := range fields[11:13] {
		n, err := strconv.ParseInt(field, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("CPU time of %s: %w", p.Name, err)
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / clockTicks, nil
}

// Scrape GETs url the way Prometheus does (with its scrape-timeout header)
// and returns the body and how long the whole exchange took.
func Scrape(ctx context.Context, client *http.Client, url string) ([]byte, time.Duration, error) {
	request, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, 0, err
	}
	request.Header.Set("X-Prometheus-Scrape-Timeout-Seconds", "10")
	start := time.Now()
	response, err := client.Do(request)
	if err != nil {
		return nil, 0, fmt.Errorf("scraping %s: %w", url, err)
	}
	defer response.Body.Close()
	body, err := io.ReadAll(response.Body)
	took := time.Since(start)
	if err != nil {
		return nil, 0, fmt.Errorf("scraping %s: %w", url, err)
	}
	if response.StatusCode != http.StatusOK {
		return nil, 0, fmt.Errorf("scraping %s: %s", url, response.Status)
	}
	return body, took, nil
}

// Percentile returns the nearest-rank percentile p (0-100) of samples.
func Percentile(samples []time.Duration, p float64) time.Duration {
	if len(samples) == 0 {
		return 0
	}
	sorted := slices.Clone(samples)
	slices.Sort(sorted)
	rank := int(math.Ceil(p/100*float64(len(sorted)))) - 1
	return sorted[min(max(rank, 0), len(sorted)-1)]
}

// Millis formats a duration in milliseconds with one decimal.
func Millis(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 1, 64) + " ms"
}

// MiB formats bytes in MiB with one decimal.
func MiB(bytes int64) string {
	return strconv.FormatFloat(float64(bytes)/(1<<20), 'f', 1, 64) + " MiB"
}

// ErrChecks says the measured run was not correct; the figures are printed
// anyway.
var ErrChecks = errors.New("checks failed")

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
