// Package zktest holds stand-ins for ZooKeeper members, for tests of the
// probe engine that need no JVM: answers captured from real ZooKeeper 3.8
// members (zk/testdata) replayed per address, and members scripted by mode.
// Real ensembles are in internal/zkcluster; these stand in only where a test
// needs exact control of every answer.
package zktest

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/quorumwatch/zookeeper_exporter/zk"
)

// TestData is the folder of captured answers: zk/testdata.
func TestData() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "zk", "testdata")
}

// Captured returns the captured answer of a member in state to word.
func Captured(state, word string) ([]byte, error) {
	return os.ReadFile(filepath.Join(TestData(), state, word))
}

// ScriptedClient answers each member with the answers captured from a real
// member in a state (a zk/testdata folder). A member scripted as "" is down.
// "follower#3" is the captured follower speaking as server 3: one capture
// stands in for both followers of a 3-voter ensemble.
type ScriptedClient struct {
	States map[string]string // address -> state
	Calls  atomic.Int64
	// Gate, when set, holds every word until it is closed.
	Gate chan struct{}

	mu    sync.Mutex
	words map[string]int // address -> words received
}

// Command answers as the scripted member would.
func (c *ScriptedClient) Command(ctx context.Context, address, word string) ([]byte, error) {
	c.Calls.Add(1)
	c.mu.Lock()
	if c.words == nil {
		c.words = map[string]int{}
	}
	c.words[address]++
	c.mu.Unlock()
	if c.Gate != nil {
		select {
		case <-c.Gate:
		case <-ctx.Done():
			return nil, &zk.Error{Word: word, Address: address, Reason: zk.ReasonTimeout, Err: ctx.Err()}
		}
	}
	state := c.States[address]
	if state == "" {
		return nil, &zk.Error{Word: word, Address: address, Reason: zk.ReasonRefused, Err: os.ErrNotExist}
	}
	state, serverID, renumbered := strings.Cut(state, "#")
	answer, err := Captured(state, word)
	if err != nil {
		return nil, &zk.Error{Word: word, Address: address, Reason: zk.ReasonOther, Err: err}
	}
	if renumbered && word == "conf" {
		answer = regexp.MustCompile(`serverId=\d+`).ReplaceAll(answer, []byte("serverId="+serverID))
	}
	if err := zk.Special(word, answer); err != nil {
		return nil, &zk.Error{Word: word, Address: address, Reason: zk.Reason(err), Err: err}
	}
	return answer, nil
}

// CommandFunc hands Command's answer to use.
func (c *ScriptedClient) CommandFunc(ctx context.Context, address, word string, use func([]byte) error) error {
	return handOver(c.Command(ctx, address, word))(use)
}

// handOver hands an answer to use, or returns the error that stood for it.
func handOver(answer []byte, err error) func(func([]byte) error) error {
	return func(use func([]byte) error) error {
		if err != nil {
			return err
		}
		return use(answer)
	}
}

// Words returns how many words each address has received.
func (c *ScriptedClient) Words() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]int, len(c.words))
	for address, n := range c.words {
		out[address] = n
	}
	return out
}

// ScriptedAdmin replays captured AdminServer answers: base URL -> state.
type ScriptedAdmin struct{ States map[string]string }

// Command answers as the scripted AdminServer would.
func (a *ScriptedAdmin) Command(_ context.Context, base, command string) ([]byte, error) {
	answer, err := Captured(a.States[base], "admin_"+command+".json")
	if err != nil {
		return nil, &zk.Error{Word: "admin " + command, Address: base, Reason: zk.ReasonHTTP, Err: err}
	}
	return answer, nil
}

// ModeMembers answers srvr as a ZooKeeper 3.8 member in the given mode
// (leader, follower, observer, not_serving) would, and refuses the other
// words as a srvr-only whitelist does; a member in state "" is down. The
// states can change between rounds.
type ModeMembers struct {
	mu     sync.Mutex
	states map[string]string
}

// Set replaces every member's state.
func (c *ModeMembers) Set(states map[string]string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.states = states
}

// CommandFunc hands Command's answer to use.
func (c *ModeMembers) CommandFunc(ctx context.Context, address, word string, use func([]byte) error) error {
	return handOver(c.Command(ctx, address, word))(use)
}

// Command answers as the member in its state would.
func (c *ModeMembers) Command(_ context.Context, address, word string) ([]byte, error) {
	c.mu.Lock()
	state := c.states[address]
	c.mu.Unlock()
	var answer string
	switch {
	case state == "":
		return nil, &zk.Error{Word: word, Address: address, Reason: zk.ReasonRefused, Err: errors.New("connection refused")}
	case state == "not_serving":
		answer = "This ZooKeeper instance is not currently serving requests\n"
	case word != "srvr":
		answer = word + " is not executed because it is not in the whitelist.\n"
	default:
		answer = "Zookeeper version: 3.8.0-1, built on 2024-12-29 17:54 UTC\nLatency min/avg/max: 0/0.5/3\nReceived: 4\nSent: 3\n" +
			"Connections: 1\nOutstanding: 0\nZxid: 0x100000007\nMode: " + state + "\nNode count: 5\n"
	}
	if err := zk.Special(word, []byte(answer)); err != nil {
		return nil, &zk.Error{Word: word, Address: address, Reason: zk.Reason(err), Err: err}
	}
	return []byte(answer), nil
}
