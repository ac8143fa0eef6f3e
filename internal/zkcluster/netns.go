package zkcluster

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"strconv"
	"strings"

	"github.com/quorumwatch/zookeeper_exporter/internal/freeport"
)

// NetNS returns the name of the cluster's network namespace, or "" without
// Options.NetNS.
func (c *Cluster) NetNS() string {
	if c.ns == nil {
		return ""
	}
	return c.ns.name
}

// DialContext dials addr from where the members are: inside the cluster's
// network namespace with Options.NetNS, else from this process's own. Its
// signature fits net/http.Transport.DialContext and grpc-style dialers.
func (c *Cluster) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	if c.ns == nil {
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}
	return c.ns.dial(ctx, network, addr)
}

// Listen listens on addr where the members are (see DialContext), for
// example for a stand-in server the members or an exporter run with Exec
// should reach.
func (c *Cluster) Listen(network, addr string) (net.Listener, error) {
	if c.ns == nil {
		return net.Listen(network, addr)
	}
	return c.ns.listen(network, addr)
}

// HTTPClient returns a client whose connections go through DialContext,
// for example to scrape an exporter started with Exec.
func (c *Cluster) HTTPClient() *http.Client {
	return &http.Client{Transport: &http.Transport{
		Proxy:             nil, // loopback only, never a proxy from the environment
		DialContext:       c.DialContext,
		DisableKeepAlives: true,
	}}
}

// Exec returns a command that runs name where the members are: inside the
// cluster's network namespace with Options.NetNS (through ip netns exec,
// which keeps the PID: signals reach the program itself), else as is. The
// caller starts it and must stop it before Close.
func (c *Cluster) Exec(name string, args ...string) *exec.Cmd {
	return c.commandContext(context.Background(), name, args...)
}

func (c *Cluster) commandContext(ctx context.Context, name string, args ...string) *exec.Cmd {
	if c.ns == nil {
		return exec.CommandContext(ctx, name, args...)
	}
	return c.ns.command(ctx, name, args...)
}

// FreeAddress returns a loopback address where nothing listened a moment
// ago, where the members are: a member address that refuses connections.
func (c *Cluster) FreeAddress() (string, error) {
	l, err := freeport.Listener(c.Listen)
	if err != nil {
		return "", fmt.Errorf("zkcluster: free address: %w", err)
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// errNoNetNS is returned by the partition methods without Options.NetNS:
// they would otherwise change the host's firewall.
var errNoNetNS = errors.New("zkcluster: BlockPeers and UnblockPeers need Options.NetNS")

// BlockPeers drops all traffic to and from every member's quorum and
// election ports, with nftables rules inside the cluster's namespace
// (never the host's ruleset). Client and AdminServer ports stay open, so
// probes still reach every member: with the leader lost, the voters stay in
// an election they cannot finish and answer "not currently serving". It
// covers the members that exist when called; calling it again after
// AddVoters covers the new ones.
func (c *Cluster) BlockPeers() error {
	if c.ns == nil {
		return errNoNetNS
	}
	var ports []string
	for _, m := range c.Members() {
		ports = append(ports, strconv.Itoa(m.ports.quorum), strconv.Itoa(m.ports.election))
	}
	set := strings.Join(ports, ", ")
	// Adding then deleting the table makes a repeated call replace the
	// rules instead of failing; both directions are dropped so that
	// established peer connections stall as well as new ones.
	script := fmt.Sprintf(`table inet %[1]s {}
delete table inet %[1]s
table inet %[1]s {
	chain output {
		type filter hook output priority 0; policy accept;
		tcp dport { %[2]s } drop
		tcp sport { %[2]s } drop
	}
}
`, nftTable, set)
	return c.ns.nft(script)
}

// errNoUsers is returned by Partition without Options.SeparateUsers: on
// the shared loopback only the sockets' owners tell the members apart.
var errNoUsers = errors.New("zkcluster: Partition needs Options.SeparateUsers")

// Partition cuts the given members off from all the others: no traffic
// between a member of the side and one outside it on any member's quorum or
// election port, in either direction, while each side keeps talking within
// itself. Client and AdminServer ports stay open, so probes and clients
// still reach every member. The rules sit in the cluster's namespace (never
// the host's ruleset) and replace those of an earlier Partition or
// BlockPeers; UnblockPeers heals. Members are told apart by the user their
// JVM runs as (Options.SeparateUsers): the initiator of a peer connection
// uses an ephemeral port, so ports alone cannot say whose it is.
func (c *Cluster) Partition(side ...int) error {
	if c.ns == nil {
		return errNoNetNS
	}
	if !c.opts.SeparateUsers {
		return errNoUsers
	}
	in := map[int]bool{}
	for _, id := range side {
		if _, err := c.member(id); err != nil {
			return err
		}
		in[id] = true
	}
	var uids, ports [2][]string // [0]: the side, [1]: the others
	for _, m := range c.Members() {
		k := 1
		if in[m.ID] {
			k = 0
		}
		uids[k] = append(uids[k], strconv.Itoa(m.UID()))
		ports[k] = append(ports[k], strconv.Itoa(m.ports.quorum), strconv.Itoa(m.ports.election))
	}
	if len(uids[0]) == 0 || len(uids[1]) == 0 {
		return fmt.Errorf("zkcluster: Partition(%v): both sides need a member", side)
	}
	// Every packet on the loopback is sent by a local socket, whose owner
	// is the member's user; dropping a side's packets to and from the
	// other side's ports stalls established connections as well as new.
	var rules strings.Builder
	for k := range 2 {
		from, to := strings.Join(uids[k], ", "), strings.Join(ports[1-k], ", ")
		fmt.Fprintf(&rules, "\t\tmeta skuid { %s } tcp dport { %s } drop\n", from, to)
		fmt.Fprintf(&rules, "\t\tmeta skuid { %s } tcp sport { %s } drop\n", from, to)
	}
	return c.ns.nft(fmt.Sprintf(`table inet %[1]s {}
delete table inet %[1]s
table inet %[1]s {
	chain output {
		type filter hook output priority 0; policy accept;
%[2]s	}
}
`, nftTable, rules.String()))
}

// UnblockPeers removes the rules of BlockPeers and Partition; without them
// it does nothing.
func (c *Cluster) UnblockPeers() error {
	if c.ns == nil {
		return errNoNetNS
	}
	return c.ns.nft(fmt.Sprintf("table inet %[1]s {}\ndelete table inet %[1]s\n", nftTable))
}
