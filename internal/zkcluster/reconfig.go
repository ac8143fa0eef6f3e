package zkcluster

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// Membership is a member's current view of the ensemble, from the conf
// four-letter word.
type Membership struct {
	// Participants and Observers are server ids in ascending order.
	Participants, Observers []int
	// Servers maps a server id to its whole server.N=... line.
	Servers map[int]string
	// Version is the configuration version (hex, as ZooKeeper prints
	// it), "" before the first reconfiguration of a static ensemble.
	Version string
}

// Membership asks m for its view of the ensemble with conf. A member
// without quorum refuses conf, which is an error here.
func (m *Member) Membership(ctx context.Context) (Membership, error) {
	b, err := m.FourLetterWord(ctx, "conf")
	if err != nil {
		return Membership{}, err
	}
	ms, err := parseMembership(b)
	if err != nil {
		return ms, fmt.Errorf("zkcluster: conf of member %d: %w", m.ID, err)
	}
	return ms, nil
}

// parseMembership reads the server.N and version lines of a conf answer.
func parseMembership(b []byte) (Membership, error) {
	if bytes.Contains(b, []byte(notServingText)) {
		return Membership{}, errors.New("not serving")
	}
	ms := Membership{Servers: map[int]string{}}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if v, ok := strings.CutPrefix(line, "version="); ok {
			ms.Version = v
			continue
		}
		key, val, ok := strings.Cut(line, "=")
		idText, isServer := strings.CutPrefix(key, "server.")
		if !ok || !isServer {
			continue
		}
		id, err := strconv.Atoi(idText)
		if err != nil {
			return ms, fmt.Errorf("bad line %q", line)
		}
		ms.Servers[id] = line
		addrs, _, _ := strings.Cut(val, ";")
		if strings.HasSuffix(addrs, ":observer") {
			ms.Observers = append(ms.Observers, id)
		} else {
			ms.Participants = append(ms.Participants, id)
		}
	}
	if len(ms.Servers) == 0 {
		return ms, fmt.Errorf("no server lines in %q", truncate(b, 200))
	}
	slices.Sort(ms.Participants)
	slices.Sort(ms.Observers)
	return ms, nil
}

var (
	errNoReconfig      = errors.New("zkcluster: dynamic reconfiguration needs Options.Reconfig")
	errHierarchicalAdd = errors.New("zkcluster: AddVoters does not support Options.Groups")
)

// AddVoters starts n new members and makes them voters with reconfig -add,
// as ZooKeeper's dynamic reconfiguration guide describes: each new member
// starts with the ensemble's current membership plus itself, syncs with the
// leader as a non-voting follower, and votes once the reconfiguration
// commits. It returns when the leader's conf lists them as participants.
// ZooCfgPath keeps listing only the members started by Start.
func (c *Cluster) AddVoters(ctx context.Context, n int) ([]*Member, error) {
	switch {
	case !c.opts.Reconfig:
		return nil, errNoReconfig
	case len(c.opts.Groups) > 0:
		return nil, errHierarchicalAdd
	case n < 1:
		return nil, fmt.Errorf("zkcluster: AddVoters(%d)", n)
	}
	leader, err := c.WaitLeader(ctx)
	if err != nil {
		return nil, err
	}
	current, _, err := c.CurrentMembership(ctx)
	if err != nil {
		return nil, err
	}
	added, err := c.startJoiners(ctx, n, current)
	if err != nil {
		return added, err
	}
	var joining []string
	for _, m := range added {
		joining = append(joining, serverLine(m, true, true))
	}
	out, err := c.CLI(ctx, leader.ID, "reconfig", "-add", strings.Join(joining, ","))
	if err != nil {
		return added, err
	}
	err = c.waitMembership(ctx, func(ms Membership) bool {
		return !slices.ContainsFunc(added, func(m *Member) bool { return !slices.Contains(ms.Participants, m.ID) })
	})
	if err != nil {
		return added, fmt.Errorf("zkcluster: reconfig -add: %w\n%s", err, out)
	}
	return added, nil
}

// startJoiners starts n new members whose dynamic configuration is current
// plus themselves, and waits until they follow the leader.
func (c *Cluster) startJoiners(ctx context.Context, n int, current Membership) ([]*Member, error) {
	ports, err := c.freePorts(4 * n)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil, errors.New("zkcluster: cluster closed")
	}
	var added []*Member
	for i := range n {
		m := c.newMember(len(c.members)+1, false, ports[4*i:4*i+4])
		c.members = append(c.members, m)
		added = append(added, m)
	}
	c.mu.Unlock()
	var base []string
	for _, id := range slices.Sorted(maps.Keys(current.Servers)) {
		base = append(base, current.Servers[id]+"\n")
	}
	var ids []int
	for _, m := range added {
		if err := c.writeConfig(m, append(slices.Clone(base), serverLine(m, true, true)+"\n")); err != nil {
			return added, err
		}
		if err := c.launch(m); err != nil {
			return added, err
		}
		ids = append(ids, m.ID)
	}
	if err := c.WaitServing(ctx, ids...); err != nil {
		return added, fmt.Errorf("zkcluster: new members did not join: %w", err)
	}
	return added, nil
}

// RemoveVoters removes members from the ensemble with reconfig -remove and
// returns when the leader's conf no longer lists them. Their processes keep
// running (Close or Kill stops them).
func (c *Cluster) RemoveVoters(ctx context.Context, ids ...int) error {
	if !c.opts.Reconfig {
		return errNoReconfig
	}
	if len(ids) == 0 {
		return errors.New("zkcluster: RemoveVoters without ids")
	}
	strs := make([]string, len(ids))
	for i, id := range ids {
		if _, err := c.member(id); err != nil {
			return err
		}
		strs[i] = strconv.Itoa(id)
	}
	leader, err := c.WaitLeader(ctx)
	if err != nil {
		return err
	}
	// The leader runs the reconfiguration, also when it removes itself.
	out, err := c.CLI(ctx, leader.ID, "reconfig", "-remove", strings.Join(strs, ","))
	if err != nil {
		return err
	}
	err = c.waitMembership(ctx, func(ms Membership) bool {
		return !slices.ContainsFunc(ids, func(id int) bool { _, ok := ms.Servers[id]; return ok })
	})
	if err != nil {
		return fmt.Errorf("zkcluster: reconfig -remove %s: %w\n%s", strings.Join(strs, ","), err, out)
	}
	return nil
}

// CurrentMembership is the leader's view of the ensemble (conf), or, when
// the leader's whitelist refuses conf, the first other serving member's
// that answers it; from is the member that answered.
func (c *Cluster) CurrentMembership(ctx context.Context) (_ Membership, from *Member, err error) {
	leader, err := c.Leader(ctx)
	if err != nil {
		return Membership{}, nil, err
	}
	ms, err := leader.Membership(ctx)
	if err == nil {
		return ms, leader, nil
	}
	for _, m := range c.Members() {
		if m == leader || !m.running() {
			continue
		}
		if other, otherErr := m.Membership(ctx); otherErr == nil {
			return other, m, nil
		}
	}
	return Membership{}, nil, err
}

// waitMembership polls the current membership until ok accepts it.
func (c *Cluster) waitMembership(ctx context.Context, ok func(Membership) bool) error {
	var last error
	err := c.poll(ctx, func() (bool, error) {
		ms, from, err := c.CurrentMembership(ctx)
		if err != nil {
			last = err
			return false, nil
		}
		last = fmt.Errorf("member %d: participants %v, observers %v", from.ID, ms.Participants, ms.Observers)
		return ok(ms), nil
	})
	if err != nil {
		return fmt.Errorf("%w (last: %v)", err, last)
	}
	return nil
}
