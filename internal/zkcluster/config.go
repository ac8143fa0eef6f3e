package zkcluster

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// validateQuorum checks Groups and Weights against the member counts:
// ZooKeeper's hierarchical quorum wants every voter in exactly one group and
// no observer in any, and weights mean nothing without groups.
func (o Options) validateQuorum() error {
	if len(o.Groups) == 0 {
		if len(o.Weights) > 0 {
			return errors.New("zkcluster: Weights need Groups")
		}
		return nil
	}
	if o.Standalone {
		return errors.New("zkcluster: standalone mode has no groups")
	}
	seen := map[int]int{}
	for g, ids := range o.Groups {
		if len(ids) == 0 {
			return fmt.Errorf("zkcluster: group %d is empty", g+1)
		}
		for _, id := range ids {
			if id < 1 || id > o.Voters {
				return fmt.Errorf("zkcluster: group %d names %d, not a voter (1..%d)", g+1, id, o.Voters)
			}
			if prev, dup := seen[id]; dup {
				return fmt.Errorf("zkcluster: member %d is in groups %d and %d", id, prev, g+1)
			}
			seen[id] = g + 1
		}
	}
	for id := 1; id <= o.Voters; id++ {
		if _, ok := seen[id]; !ok {
			return fmt.Errorf("zkcluster: voter %d is in no group", id)
		}
	}
	for id, w := range o.Weights {
		if _, ok := seen[id]; !ok || w < 0 {
			return fmt.Errorf("zkcluster: weight.%d=%d: not a grouped voter or negative", id, w)
		}
	}
	return nil
}

// writeConfig writes m's zoo.cfg (and, with Reconfig, its dynamic
// configuration file) and myid. membership holds the server.N, group.N and
// weight.N lines, each ending in a newline.
func (c *Cluster) writeConfig(m *Member, membership []string) error {
	if err := os.MkdirAll(m.DataDir, 0o755); err != nil {
		return err
	}
	var b strings.Builder
	c.writeStatic(&b, m)
	if !c.opts.Standalone {
		if c.opts.Reconfig {
			// Membership lives in the dynamic file, which ZooKeeper
			// rewrites (as a new versioned file) on every reconfig.
			fmt.Fprintf(&b, "dynamicConfigFile=%s\n", m.DynamicConfigPath)
			if err := os.WriteFile(m.DynamicConfigPath, []byte(strings.Join(membership, "")), 0o644); err != nil {
				return fmt.Errorf("zkcluster: writing %s: %w", m.DynamicConfigPath, err)
			}
		} else {
			b.WriteString(strings.Join(membership, ""))
		}
	}
	for _, l := range c.opts.ExtraConfig[m.ID] {
		fmt.Fprintf(&b, "%s\n", l)
	}
	if err := os.WriteFile(m.ConfigPath, []byte(b.String()), 0o644); err != nil {
		return fmt.Errorf("zkcluster: writing %s: %w", m.ConfigPath, err)
	}
	return os.WriteFile(filepath.Join(m.DataDir, "myid"), []byte(strconv.Itoa(m.ID)+"\n"), 0o644)
}

// writeStatic writes the settings that are not membership.
func (c *Cluster) writeStatic(b *strings.Builder, m *Member) {
	o := c.opts
	line := func(format string, args ...any) { fmt.Fprintf(b, format+"\n", args...) }
	line("tickTime=%d", o.TickTime.Milliseconds())
	line("initLimit=%d", o.InitLimit)
	line("syncLimit=%d", o.SyncLimit)
	line("dataDir=%s", m.DataDir)
	if !o.Reconfig {
		// With a dynamic configuration the client address comes from
		// the server.N line; ZooKeeper rejects a differing clientPort.
		line("clientPort=%d", m.ports.client)
		line("clientPortAddress=127.0.0.1")
	}
	if m.Release.HasAdminServer() {
		line("admin.enableServer=true")
		line("admin.serverAddress=127.0.0.1")
		line("admin.serverPort=%d", m.ports.admin)
	}
	whitelist := "*"
	if w, ok := o.Whitelist[m.ID]; ok {
		whitelist = w
	}
	if whitelist != "" {
		line("4lw.commands.whitelist=%s", whitelist)
	}
	// preAllocSize is in KiB: 4 MiB instead of the default 64 MiB
	// transaction log preallocation keeps data directories small.
	line("preAllocSize=4096")
	line("quorumListenOnAllIPs=false")
	if o.LeaderServes != nil {
		line("leaderServes=%s", map[bool]string{true: "yes", false: "no"}[*o.LeaderServes])
	}
	if o.ReconfigEnabled || o.Reconfig {
		line("reconfigEnabled=true")
	}
	if !o.Standalone {
		if m.Release.HasReconfig() {
			line("standaloneEnabled=false")
		}
		if m.Observer {
			line("peerType=observer")
		}
	}
}

// membershipLines returns the server.N lines of ms, in the
// server.N=host:quorum:election[:role];host:client form that carries every
// member's client address, followed by any group.N and weight.N lines.
func (c *Cluster) membershipLines(ms []*Member, explicitRole bool) []string {
	var out []string
	clientPart := c.opts.oldest().HasReconfig()
	for _, p := range ms {
		out = append(out, serverLine(p, explicitRole, clientPart)+"\n")
	}
	return append(out, c.quorumLines()...)
}

// quorumLines are the group.N and weight.N lines.
func (c *Cluster) quorumLines() []string {
	var out []string
	for g, ids := range c.opts.Groups {
		parts := make([]string, len(ids))
		for i, id := range ids {
			parts[i] = strconv.Itoa(id)
		}
		out = append(out, fmt.Sprintf("group.%d=%s\n", g+1, strings.Join(parts, ":")))
	}
	ids := make([]int, 0, len(c.opts.Weights))
	for id := range c.opts.Weights {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		out = append(out, fmt.Sprintf("weight.%d=%d\n", id, c.opts.Weights[id]))
	}
	return out
}

// serverLine is m's server.N entry. The role is spelled out for a dynamic
// configuration, where ZooKeeper itself always writes it. Without
// clientPart (3.4, which rejects it) the line names no client address.
func serverLine(m *Member, explicitRole, clientPart bool) string {
	role := ""
	switch {
	case m.Observer:
		role = ":observer"
	case explicitRole:
		role = ":participant"
	}
	line := fmt.Sprintf("server.%d=127.0.0.1:%d:%d%s", m.ID, m.ports.quorum, m.ports.election, role)
	if !clientPart {
		return line
	}
	return fmt.Sprintf("%s;127.0.0.1:%d", line, m.ports.client)
}

// ZooCfgPath returns a zoo.cfg for the exporter's --zookeeper.zoo-cfg: the
// server.N lines of the members started by Start, each with its client
// address, and the group.N and weight.N lines. It is written once at Start;
// AddVoters and RemoveVoters leave it as it was, like an operator's file
// that nobody updated after a reconfiguration.
func (c *Cluster) ZooCfgPath() string { return filepath.Join(c.baseDir, "zoo.cfg") }

func (c *Cluster) writeZooCfg() error {
	if c.opts.Standalone {
		m := c.members[0]
		return os.WriteFile(c.ZooCfgPath(), fmt.Appendf(nil, "clientPort=%d\nclientPortAddress=127.0.0.1\n", m.ports.client), 0o644)
	}
	// The exporter reads every member's client address from this file,
	// whatever the release's own dialect.
	var lines []string
	for _, m := range c.snapshot() {
		lines = append(lines, serverLine(m, false, true)+"\n")
	}
	lines = append(lines, c.quorumLines()...)
	if err := os.WriteFile(c.ZooCfgPath(), []byte(strings.Join(lines, "")), 0o644); err != nil {
		return fmt.Errorf("zkcluster: writing %s: %w", c.ZooCfgPath(), err)
	}
	return nil
}
