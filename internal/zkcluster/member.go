package zkcluster

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
)

// Mode reports m's mode; see Cluster.Mode.
func (m *Member) Mode(ctx context.Context) (string, error) {
	b, err := m.FourLetterWord(ctx, "srvr")
	if err != nil {
		return "", err
	}
	if bytes.Contains(b, []byte("not in the whitelist")) {
		return m.adminMode(ctx)
	}
	mode, err := parseMode(b)
	if mode == ModeNotServing && m.adminIsLeader(ctx) {
		// With leaderServes=no the leader refuses srvr like a member
		// without quorum; only the AdminServer tells them apart.
		return ModeLeader, nil
	}
	return mode, err
}

// FourLetterWord sends word to m's client port and returns the raw answer.
// It dials where the members are (see Cluster.DialContext).
func (m *Member) FourLetterWord(ctx context.Context, word string) ([]byte, error) {
	return fourLetterWord(ctx, m.cluster.DialContext, m.ClientAddr, word)
}

// Admin fetches /commands/command from m's AdminServer; see AdminCommand.
// It connects where the members are (see Cluster.DialContext).
func (m *Member) Admin(ctx context.Context, command string) ([]byte, error) {
	return adminCommand(ctx, m.cluster.http, m.AdminAddr, command)
}

// PID returns the process id of m's JVM, or 0 if it is not running.
func (m *Member) PID() int {
	m.cluster.mu.Lock()
	defer m.cluster.mu.Unlock()
	if m.proc == nil || m.proc.exited() {
		return 0
	}
	return m.proc.cmd.Process.Pid
}

// Frozen reports whether m was frozen and not thawed since.
func (m *Member) Frozen() bool {
	m.cluster.mu.Lock()
	defer m.cluster.mu.Unlock()
	return m.frozen
}

func (m *Member) running() bool { return m.PID() != 0 }

func (m *Member) exitErr() error {
	m.cluster.mu.Lock()
	p := m.proc
	m.cluster.mu.Unlock()
	if p == nil || !p.exited() {
		return nil
	}
	return p.err
}

// LogTail returns the last n lines of m's log.
func (m *Member) LogTail(n int) string {
	b, err := os.ReadFile(m.LogPath)
	if err != nil {
		return fmt.Sprintf("(%v)\n", err)
	}
	lines := strings.SplitAfter(string(b), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "")
}

func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// prefixWriter prefixes each line written to w. Lines from concurrent
// members may interleave only at line boundaries per Write call.
type prefixWriter struct {
	mu      sync.Mutex
	w       io.Writer
	prefix  string
	partial bool
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := len(b)
	var out []byte
	for len(b) > 0 {
		if !p.partial {
			out = append(out, p.prefix...)
		}
		line, rest, found := bytes.Cut(b, []byte("\n"))
		out = append(out, line...)
		if found {
			out = append(out, '\n')
		}
		p.partial = !found
		b = rest
	}
	if _, err := p.w.Write(out); err != nil {
		return 0, err
	}
	return n, nil
}
