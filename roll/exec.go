package roll

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/quorumwatch/zookeeper_exporter/ensemble"
)

// Placeholders the command may use.
const (
	PlaceholderAddress  = "{address}"
	PlaceholderHost     = "{host}"
	PlaceholderPort     = "{port}"
	PlaceholderServerID = "{server_id}"
)

// expand fills the placeholders in for one member.
func expand(command string, m *ensemble.ProbedMember) (string, error) {
	host, port, err := net.SplitHostPort(m.Address)
	if err != nil {
		host, port = m.Address, ""
	}
	id := m.ServerIDLabel()
	if id == "" && strings.Contains(command, PlaceholderServerID) {
		return "", fmt.Errorf("%s: the command uses %s, but the member's server id is not known (configure it, or let the exporter read conf)", m.Address, PlaceholderServerID)
	}
	return strings.NewReplacer(PlaceholderAddress, m.Address, PlaceholderHost, host, PlaceholderPort, port, PlaceholderServerID, id).Replace(command), nil
}

// run runs command through shell, its output written to out line by line,
// each prefixed with the member. It runs in a process group of its own, so
// an operator's Ctrl-C stops the roll after the step, not the command
// half-way; timeout kills the group.
func run(command, shell, member string, timeout time.Duration, out io.Writer) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, shell, "-c", command)
	prefixed := &prefixWriter{prefix: "[" + member + "] ", out: out}
	cmd.Stdout, cmd.Stderr = prefixed, prefixed
	ownProcessGroup(cmd)
	// A daemon the command starts may keep its output open: the step ends
	// when the command does.
	cmd.WaitDelay = 2 * time.Second
	err := cmd.Run()
	if errors.Is(err, exec.ErrWaitDelay) {
		err = nil
	}
	prefixed.flush()
	if ctx.Err() != nil {
		return fmt.Errorf("%s: the command did not end within %s", member, timeout)
	}
	if err != nil {
		return fmt.Errorf("%s: the command failed: %w", member, err)
	}
	return nil
}

// prefixWriter writes whole lines, each with a prefix.
type prefixWriter struct {
	mu      sync.Mutex
	prefix  string
	out     io.Writer
	pending []byte
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.pending = append(p.pending, b...)
	for {
		i := bytes.IndexByte(p.pending, '\n')
		if i < 0 {
			return len(b), nil
		}
		if _, err := fmt.Fprintf(p.out, "%s%s\n", p.prefix, p.pending[:i]); err != nil {
			return 0, err
		}
		p.pending = p.pending[i+1:]
	}
}

// flush writes a last line without a newline.
func (p *prefixWriter) flush() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.pending) > 0 {
		fmt.Fprintf(p.out, "%s%s\n", p.prefix, p.pending)
		p.pending = nil
	}
}
