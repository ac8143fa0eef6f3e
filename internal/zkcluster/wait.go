package zkcluster

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// waitStarted polls until the ensemble serves, failing early if a JVM exits.
func (c *Cluster) waitStarted(ctx context.Context) error {
	want := ModeLeader
	if c.opts.Standalone {
		want = ModeStandalone
	}
	var last map[int]string
	err := c.poll(ctx, func() (bool, error) {
		for _, m := range c.snapshot() {
			if !m.running() {
				return false, fmt.Errorf("member %d exited: %v", m.ID, m.exitErr())
			}
		}
		last = c.modes(ctx, c.snapshot())
		leaders := 0
		for _, m := range c.snapshot() {
			switch mode := last[m.ID]; {
			case mode == want:
				leaders++
			case !servingMode(mode):
				return false, nil
			}
		}
		return leaders == 1, nil
	})
	if err != nil && last != nil {
		return fmt.Errorf("%w (last modes: %v)", err, last)
	}
	return err
}

func servingMode(mode string) bool {
	switch mode {
	case ModeLeader, ModeFollower, ModeObserver, ModeStandalone:
		return true
	}
	return false
}

// modes probes members concurrently; unreachable members map to "".
func (c *Cluster) modes(ctx context.Context, ms []*Member) map[int]string {
	var (
		mu  sync.Mutex
		wg  sync.WaitGroup
		out = make(map[int]string, len(ms))
	)
	for _, m := range ms {
		wg.Go(func() {
			mode, _ := m.Mode(ctx)
			mu.Lock()
			out[m.ID] = mode
			mu.Unlock()
		})
	}
	wg.Wait()
	return out
}

// poll calls f until it reports done, returns an error, or ctx ends.
func (c *Cluster) poll(ctx context.Context, f func() (bool, error)) error {
	t := time.NewTicker(pollInterval)
	defer t.Stop()
	for {
		done, err := f()
		if err != nil || done {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

// Mode reports member id's mode via the srvr four-letter word (or the
// AdminServer if srvr is not whitelisted on it): one of the Mode constants
// or another mode ZooKeeper reports. A member that is stopped, frozen or
// still starting yields an error.
func (c *Cluster) Mode(ctx context.Context, id int) (string, error) {
	m, err := c.member(id)
	if err != nil {
		return "", err
	}
	return m.Mode(ctx)
}

// Leader returns the member that currently reports itself leader (or
// standalone), probing all running members that are not frozen. It fails if
// there is none or more than one.
func (c *Cluster) Leader(ctx context.Context) (*Member, error) {
	var live []*Member
	for _, m := range c.snapshot() {
		if m.running() && !m.Frozen() {
			live = append(live, m)
		}
	}
	modes := c.modes(ctx, live)
	var leaders []*Member
	for _, m := range live {
		if mode := modes[m.ID]; mode == ModeLeader || mode == ModeStandalone {
			leaders = append(leaders, m)
		}
	}
	switch len(leaders) {
	case 1:
		return leaders[0], nil
	case 0:
		return nil, fmt.Errorf("zkcluster: no leader (modes: %v)", modes)
	default:
		return nil, fmt.Errorf("zkcluster: %d leaders (modes: %v)", len(leaders), modes)
	}
}

// WaitFor polls cond every 100ms until it returns true or ctx ends.
func (c *Cluster) WaitFor(ctx context.Context, cond func() bool) error {
	return c.poll(ctx, func() (bool, error) { return cond(), nil })
}

// WaitServing waits until the given members, or all running members that
// are not frozen if none are given, report a serving mode (leader,
// follower, observer or standalone).
func (c *Cluster) WaitServing(ctx context.Context, ids ...int) error {
	var ms []*Member
	if len(ids) == 0 {
		for _, m := range c.snapshot() {
			if m.running() && !m.Frozen() {
				ms = append(ms, m)
			}
		}
	}
	for _, id := range ids {
		m, err := c.member(id)
		if err != nil {
			return err
		}
		ms = append(ms, m)
	}
	var last map[int]string
	err := c.poll(ctx, func() (bool, error) {
		last = c.modes(ctx, ms)
		for _, m := range ms {
			if !servingMode(last[m.ID]) {
				return false, nil
			}
		}
		return true, nil
	})
	if err != nil {
		return fmt.Errorf("zkcluster: waiting for members to serve: %w (last modes: %v)", err, last)
	}
	return nil
}

// WaitLeader waits until exactly one member reports itself leader and
// returns it.
func (c *Cluster) WaitLeader(ctx context.Context) (*Member, error) {
	var (
		leader *Member
		last   error
	)
	err := c.poll(ctx, func() (bool, error) {
		leader, last = c.Leader(ctx)
		return last == nil, nil
	})
	if err != nil {
		return nil, fmt.Errorf("zkcluster: waiting for a leader: %w (last: %v)", err, last)
	}
	return leader, nil
}
