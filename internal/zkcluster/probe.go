package zkcluster

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
)

// ProbeTimeout bounds a single probe when the caller's context has no
// earlier deadline. A frozen member accepts connections and then sends
// nothing, so every probe needs one.
const ProbeTimeout = 2 * time.Second

// Modes reported by Mode. Other values ZooKeeper prints after "Mode: " are
// passed through unchanged.
const (
	ModeLeader     = "leader"
	ModeFollower   = "follower"
	ModeObserver   = "observer"
	ModeStandalone = "standalone"
	ModeReadOnly   = "read-only"
	ModeNotServing = "not_serving"
)

const notServingText = "This ZooKeeper instance is not currently serving requests"

// FourLetterWord sends one four-letter word to addr and returns the raw
// answer. It is deliberately independent of the exporter's zk package: tests
// use it as ground truth for what the exporter reports. The server answers one word per connection and then closes it.
func FourLetterWord(ctx context.Context, addr, word string) ([]byte, error) {
	var d net.Dialer
	return fourLetterWord(ctx, d.DialContext, addr, word)
}

// dialFunc dials like net.Dialer.DialContext, possibly from another
// network namespace.
type dialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

func fourLetterWord(ctx context.Context, dial dialFunc, addr, word string) ([]byte, error) {
	ctx, cancel := withProbeTimeout(ctx)
	defer cancel()
	conn, err := dial(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		if err := conn.SetDeadline(dl); err != nil {
			return nil, err
		}
	}
	// Closing on cancellation unblocks the read below.
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	if _, err := io.WriteString(conn, word); err != nil {
		return nil, fmt.Errorf("%s to %s: %w", word, addr, err)
	}
	b, err := io.ReadAll(conn)
	if err != nil {
		return b, fmt.Errorf("%s to %s: %w", word, addr, err)
	}
	return b, nil
}

var adminClient = &http.Client{
	Transport: &http.Transport{
		// Loopback only: never go through a proxy from the environment,
		// and keep no idle connections to members that may be frozen
		// or killed next.
		Proxy:             nil,
		DisableKeepAlives: true,
	},
}

// AdminCommand fetches http://addr/commands/command from a member's
// AdminServer. The body is returned whenever a response arrived, also
// together with an error for a status other than 200.
func AdminCommand(ctx context.Context, addr, command string) ([]byte, error) {
	return adminCommand(ctx, adminClient, addr, command)
}

func adminCommand(ctx context.Context, client *http.Client, addr, command string) ([]byte, error) {
	ctx, cancel := withProbeTimeout(ctx)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/commands/"+command, nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return b, err
	}
	if resp.StatusCode != http.StatusOK {
		return b, fmt.Errorf("GET %s: %s", req.URL, resp.Status)
	}
	return b, nil
}

// parseMode extracts the mode from a srvr or stat answer.
func parseMode(b []byte) (string, error) {
	if bytes.Contains(b, []byte(notServingText)) {
		return ModeNotServing, nil
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "Mode: "); ok {
			return strings.TrimSpace(v), nil
		}
	}
	return "", fmt.Errorf("no Mode line in answer %q", truncate(b, 200))
}

func withProbeTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) <= ProbeTimeout {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, ProbeTimeout)
}

func truncate(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}

// adminMode reads the mode from the AdminServer's srvr command, for members
// whose four-letter-word whitelist excludes srvr.
func (m *Member) adminMode(ctx context.Context) (string, error) {
	b, err := m.Admin(ctx, "srvr")
	if err != nil {
		return "", err
	}
	var r struct {
		Error       *string `json:"error"`
		ServerStats struct {
			ServerState string `json:"server_state"`
		} `json:"server_stats"`
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return "", fmt.Errorf("admin srvr on %s: %w", m.AdminAddr, err)
	}
	if r.Error != nil {
		if strings.Contains(*r.Error, notServingText) {
			return ModeNotServing, nil
		}
		return "", fmt.Errorf("admin srvr on %s: %s", m.AdminAddr, *r.Error)
	}
	if r.ServerStats.ServerState == "" {
		return "", fmt.Errorf("admin srvr on %s: no server_state in %q", m.AdminAddr, truncate(b, 200))
	}
	return r.ServerStats.ServerState, nil
}

// adminIsLeader reports whether m's AdminServer says it leads an ensemble
// in the broadcast phase.
func (m *Member) adminIsLeader(ctx context.Context) bool {
	b, err := m.Admin(ctx, "zabstate")
	if err != nil {
		return false
	}
	var r struct {
		IsLeader bool   `json:"is_leader"`
		ZabState string `json:"zabstate"`
	}
	return json.Unmarshal(b, &r) == nil && r.IsLeader && r.ZabState == "broadcast"
}
