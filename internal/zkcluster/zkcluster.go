// Package zkcluster starts real ZooKeeper ensembles on the loopback
// interface, one JVM per member, for integration tests and demos.
//
// Members run Debian's ZooKeeper 3.8 (apt-get install -y zookeeper), or any
// release from 3.4 on fetched once per machine from Maven Central
// (Options.Release, Fetch), directly through QuorumPeerMain with a zoo.cfg
// generated in that release's dialect, so no system configuration is read. Everything binds to 127.0.0.1 on free ports,
// with Options.NetNS inside a network namespace of the cluster's own, where
// BlockPeers can cut the members off from each other. Options.Groups makes
// a hierarchical quorum; Options.Reconfig allows AddVoters and RemoveVoters.
// Which voter wins an election is not fixed; ask Leader rather than assume.
package zkcluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/quorumwatch/zookeeper_exporter/internal/freeport"
)

// Defaults applied by Start for zero Options fields.
const (
	DefaultVoters       = 3
	DefaultTickTime     = 500 * time.Millisecond
	DefaultInitLimit    = 10
	DefaultSyncLimit    = 5
	DefaultStartTimeout = 60 * time.Second
)

// fetchTimeout is added to the start deadline for a release that may have
// to be fetched first (about 15 s each, measured, 35 s for the first).
const fetchTimeout = 2 * time.Minute

// Options describe an ensemble. The zero value is three voters of
// Debian's ZooKeeper.
type Options struct {
	// Release is the ZooKeeper release every member runs (see
	// ParseRelease): "" or DebianRelease for Debian's package, a version
	// such as "3.9.5" for that release from Maven Central, fetched once
	// per machine (Fetch). The configuration is written in that release's
	// dialect: 3.4 has no AdminServer, no dynamic reconfiguration and no
	// client address in server.N lines.
	Release string
	// MemberReleases maps a member id to a release other than Release,
	// for an ensemble in the middle of an upgrade.
	MemberReleases map[int]string

	// Voters is the number of voting members, DefaultVoters if zero. In
	// Standalone mode it must be 0 or 1.
	Voters int
	// Observers is the number of observers. Their ids follow the voters'.
	Observers int
	// Standalone runs a single member in ZooKeeper's standalone mode (no
	// server.N lines) instead of a one-member quorum.
	Standalone bool

	// TickTime is ZooKeeper's tickTime, DefaultTickTime if zero. It is
	// short by default so that elections and failure detection are fast:
	// a follower gives up on a silent leader after SyncLimit ticks.
	TickTime time.Duration
	// InitLimit and SyncLimit are in ticks; DefaultInitLimit and
	// DefaultSyncLimit if zero.
	InitLimit, SyncLimit int

	// Whitelist maps a member id to its 4lw.commands.whitelist value.
	// Members not in the map get "*"; an empty value leaves the line out
	// so ZooKeeper's default applies.
	Whitelist map[int]string
	// LeaderServes sets leaderServes=yes/no; nil leaves ZooKeeper's
	// default (yes).
	LeaderServes *bool
	// ReconfigEnabled sets reconfigEnabled=true and nothing else.
	ReconfigEnabled bool
	// Reconfig prepares the ensemble for dynamic reconfiguration
	// (AddVoters, RemoveVoters): reconfigEnabled=true, membership in a
	// dynamicConfigFile, standaloneEnabled=false, and ACL checks skipped
	// (zookeeper.skipACL=yes) so that an unauthenticated client may
	// reconfigure.
	Reconfig bool

	// Groups makes the quorum hierarchical: each entry lists the voter
	// ids of one group (group.N= lines), e.g. {{1,2,3},{4,5,6},{7,8,9}}.
	// Every voter must be in exactly one group, no observer in any.
	Groups [][]int
	// Weights maps a voter id to its weight.N= value (ZooKeeper's default
	// is 1; 0 makes a voter that never counts). Needs Groups.
	Weights map[int]int

	// NetNS runs every member inside a network namespace of the
	// cluster's own, created by Start and deleted by Close (needs root,
	// ip and nft; see NetNSSupported). Only DialContext, Listen, Exec and
	// the cluster's own probes reach the members then; BlockPeers can
	// partition them.
	NetNS bool
	// SeparateUsers runs every member JVM as a user of its own (uid
	// MemberUIDBase+id, through setpriv), so that nftables rules can tell
	// one member's traffic from another's on the shared loopback: Partition
	// needs it. It needs NetNS (and so root).
	SeparateUsers bool
	// ExtraConfig maps a member id to raw zoo.cfg lines appended after
	// the generated ones; a repeated key overrides the generated value.
	ExtraConfig map[int][]string
	// JVMArgs are added to every member's java command line, for example
	// "-Dreadonlymode.enabled=true".
	JVMArgs []string
	// ExtraClasspath is appended to every member's class path. Debian's
	// zookeeper.jar manifest names only part of netty, so a member with
	// serverCnxnFactory=...NettyServerCnxnFactory (which secureClientPort
	// needs) also wants NettyJars.
	ExtraClasspath []string

	// ClientPorts maps a member id to a fixed client port instead of a free
	// one, e.g. ZooKeeper's default 2181 for a test of a start without
	// flags; the caller makes sure it is free.
	ClientPorts map[int]int

	// LogOutput, if set, also receives every member's log, each line
	// prefixed with "zk<id> ". The log is always written to LogPath too.
	LogOutput io.Writer

	// Set by withDefaults from Release and MemberReleases.
	release        Release
	memberReleases map[int]Release
}

// Member is one ZooKeeper server of a Cluster. Its fields are fixed for the
// life of the Cluster, also across Restart.
type Member struct {
	ID       int
	Observer bool
	// Release is the ZooKeeper release the member runs.
	Release Release
	// ClientAddr is "127.0.0.1:port" of the client port, which also
	// answers four-letter words.
	ClientAddr string
	// AdminAddr is "127.0.0.1:port" of the AdminServer (HTTP).
	AdminAddr string
	// QuorumAddr and ElectionAddr are the server-to-server ports.
	QuorumAddr, ElectionAddr string
	// Dir holds zoo.cfg, the data directory and the log.
	Dir        string
	ConfigPath string
	DataDir    string
	LogPath    string
	// DynamicConfigPath is the dynamicConfigFile first given to the
	// member with Options.Reconfig ("" otherwise). ZooKeeper writes each
	// later configuration to a new versioned file next to it.
	DynamicConfigPath string

	cluster *Cluster
	ports   memberPorts

	// Guarded by cluster.mu.
	proc   *process
	frozen bool
}

type memberPorts struct{ client, admin, quorum, election int }

type process struct {
	cmd  *exec.Cmd
	log  *os.File
	done chan struct{} // closed once the JVM has exited and been reaped
	err  error         // valid after done
}

// Cluster is a running ensemble. Its methods are safe for concurrent use.
type Cluster struct {
	opts    Options
	inst    *install            // the release of Options.Release
	insts   map[string]*install // every member's, by release name
	baseDir string
	ns      *netNS // nil without Options.NetNS
	http    *http.Client

	mu      sync.Mutex
	members []*Member // guarded by mu: AddVoters appends
	closed  bool
}

// Start starts all members concurrently and waits until the ensemble
// serves: exactly one leader (or the standalone member) and every member in
// a serving mode. ctx bounds only the start; without a deadline
// DefaultStartTimeout applies per three members, since JVMs starting
// together share the CPU. On failure everything started is removed and
// the error includes the tail of every member's log.
func Start(ctx context.Context, opts Options) (*Cluster, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		per3 := (opts.Voters + opts.Observers + 2) / 3
		ctx, cancel = context.WithTimeout(ctx, time.Duration(per3)*DefaultStartTimeout+fetchTimeout)
		defer cancel()
	}
	insts := map[string]*install{}
	for _, r := range append([]Release{opts.release}, slices.Collect(maps.Values(opts.memberReleases))...) {
		if insts[r.Name] == nil {
			if insts[r.Name], err = findRelease(ctx, r); err != nil {
				return nil, err
			}
		}
	}
	// Free ports are found by binding and releasing them, so another
	// process may take one before ZooKeeper binds it; one retry with new
	// ports covers that race.
	for attempt := 1; ; attempt++ {
		c, err := start(ctx, opts, insts)
		if err == nil {
			return c, nil
		}
		if attempt == 2 || !errors.Is(err, errPortTaken) || ctx.Err() != nil {
			return nil, err
		}
	}
}

var errPortTaken = errors.New("port already in use")

func (o Options) withDefaults() (Options, error) {
	if o.Standalone {
		if o.Voters > 1 || o.Observers > 0 {
			return o, errors.New("zkcluster: standalone mode has exactly one member")
		}
		o.Voters = 1
	}
	if o.Voters == 0 {
		o.Voters = DefaultVoters
	}
	if o.Voters < 0 || o.Observers < 0 {
		return o, errors.New("zkcluster: negative member count")
	}
	if o.Standalone && o.Reconfig {
		return o, errors.New("zkcluster: Reconfig needs a quorum, not standalone mode")
	}
	if o.SeparateUsers && !o.NetNS {
		return o, errors.New("zkcluster: SeparateUsers needs NetNS")
	}
	if err := o.validateQuorum(); err != nil {
		return o, err
	}
	if o.TickTime == 0 {
		o.TickTime = DefaultTickTime
	}
	if o.TickTime < time.Millisecond {
		return o, fmt.Errorf("zkcluster: TickTime %v below 1ms", o.TickTime)
	}
	if o.InitLimit == 0 {
		o.InitLimit = DefaultInitLimit
	}
	if o.SyncLimit == 0 {
		o.SyncLimit = DefaultSyncLimit
	}
	err := o.parseReleases()
	return o, err
}

// parseReleases reads Release and MemberReleases and checks that the
// options ask nothing of a release that it lacks.
func (o *Options) parseReleases() error {
	var err error
	if o.release, err = ParseRelease(o.Release); err != nil {
		return err
	}
	o.memberReleases = map[int]Release{}
	for id, name := range o.MemberReleases {
		if id < 1 || id > o.Voters+o.Observers {
			return fmt.Errorf("zkcluster: MemberReleases names member %d of %d", id, o.Voters+o.Observers)
		}
		if o.memberReleases[id], err = ParseRelease(name); err != nil {
			return err
		}
	}
	if (o.Reconfig || o.ReconfigEnabled) && !o.oldest().HasReconfig() {
		return fmt.Errorf("zkcluster: release %s has no dynamic reconfiguration", o.oldest())
	}
	return nil
}

// releaseOf is the release member id runs.
func (o Options) releaseOf(id int) Release {
	if r, ok := o.memberReleases[id]; ok {
		return r
	}
	return o.release
}

// oldest is the oldest release any member runs: the membership lines,
// which every member reads, are written in its dialect.
func (o Options) oldest() Release {
	old := o.release
	for _, r := range o.memberReleases {
		if !r.atLeast(old.Major, old.Minor) {
			old = r
		}
	}
	return old
}

func start(ctx context.Context, opts Options, insts map[string]*install) (_ *Cluster, err error) {
	base, err := os.MkdirTemp("", "zkcluster-")
	if err != nil {
		return nil, err
	}
	c := &Cluster{opts: opts, inst: insts[opts.release.Name], insts: insts, baseDir: base}
	if opts.SeparateUsers {
		// MkdirTemp makes it 0700; members running as their own users
		// must reach their directories inside.
		if err := os.Chmod(base, 0o755); err != nil {
			os.RemoveAll(base)
			return nil, err
		}
	}
	defer func() {
		if err != nil {
			err = fmt.Errorf("%w\n%s", err, c.logTails(40))
			c.Close()
		}
	}()
	if opts.NetNS {
		if c.ns, err = newNetNS(); err != nil {
			return nil, err
		}
	}
	c.http = c.HTTPClient()
	n := opts.Voters + opts.Observers
	ports, err := c.freePorts(4 * n)
	if err != nil {
		return nil, err
	}
	for i := range n {
		if port, fixed := opts.ClientPorts[i+1]; fixed {
			ports[4*i] = port
		}
		c.members = append(c.members, c.newMember(i+1, i+1 > opts.Voters, ports[4*i:4*i+4]))
	}
	membership := c.membershipLines(c.members, opts.Reconfig)
	for _, m := range c.snapshot() {
		if err := c.writeConfig(m, membership); err != nil {
			return nil, err
		}
	}
	if err := c.writeZooCfg(); err != nil {
		return nil, err
	}
	for _, m := range c.snapshot() {
		if err := c.launch(m); err != nil {
			return nil, err
		}
	}
	if err := c.waitStarted(ctx); err != nil {
		if c.logsContain("Address already in use") {
			return nil, fmt.Errorf("zkcluster: %w: %v", errPortTaken, err)
		}
		return nil, fmt.Errorf("zkcluster: ensemble did not start: %w", err)
	}
	return c, nil
}

// newMember describes member id with ports client, admin, quorum, election.
func (c *Cluster) newMember(id int, observer bool, ports []int) *Member {
	dir := filepath.Join(c.baseDir, "zk"+strconv.Itoa(id))
	p := memberPorts{ports[0], ports[1], ports[2], ports[3]}
	m := &Member{
		ID:           id,
		Observer:     observer,
		Release:      c.opts.releaseOf(id),
		ClientAddr:   loopback(p.client),
		AdminAddr:    loopback(p.admin),
		QuorumAddr:   loopback(p.quorum),
		ElectionAddr: loopback(p.election),
		Dir:          dir,
		ConfigPath:   filepath.Join(dir, "zoo.cfg"),
		DataDir:      filepath.Join(dir, "data"),
		LogPath:      filepath.Join(dir, "zookeeper.log"),
		cluster:      c,
		ports:        p,
	}
	if c.opts.Reconfig {
		m.DynamicConfigPath = filepath.Join(dir, "zoo.cfg.dynamic")
	}
	return m
}

func loopback(port int) string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(port)) }

// freePorts returns n distinct ports below the ephemeral range (see
// freeport) that were free a moment ago where the members run (in the namespace with Options.NetNS, where the host's ports
// say nothing), and that no member has, since a stopped one may restart.
// All listeners stay open until every port is picked so none repeats.
func (c *Cluster) freePorts(n int) ([]int, error) {
	taken := map[int]bool{}
	for _, m := range c.snapshot() {
		for _, p := range []int{m.ports.client, m.ports.admin, m.ports.quorum, m.ports.election} {
			taken[p] = true
		}
	}
	ports := make([]int, 0, n)
	for len(ports) < n {
		l, err := freeport.Listener(c.Listen)
		if err != nil {
			return nil, fmt.Errorf("zkcluster: picking a free port: %w", err)
		}
		defer l.Close()
		if p := l.Addr().(*net.TCPAddr).Port; !taken[p] {
			ports = append(ports, p)
		}
	}
	return ports, nil
}

// pollInterval is short because probes are cheap and elections with the
// default tick finish within a few hundred milliseconds.
const pollInterval = 100 * time.Millisecond

// Members returns all members in id order, including those AddVoters
// started and those RemoveVoters removed.
func (c *Cluster) Members() []*Member { return c.snapshot() }

func (c *Cluster) snapshot() []*Member {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.members)
}

// Member returns the member with the given id, or nil.
func (c *Cluster) Member(id int) *Member {
	c.mu.Lock()
	defer c.mu.Unlock()
	if id < 1 || id > len(c.members) {
		return nil
	}
	return c.members[id-1]
}

// Voters returns the voting members in id order.
func (c *Cluster) Voters() []*Member {
	return slices.DeleteFunc(c.Members(), func(m *Member) bool { return m.Observer })
}

// Observers returns the observers in id order.
func (c *Cluster) Observers() []*Member {
	return slices.DeleteFunc(c.Members(), func(m *Member) bool { return !m.Observer })
}

// Dir is the temporary directory holding every member's directory.
func (c *Cluster) Dir() string { return c.baseDir }

func (c *Cluster) member(id int) (*Member, error) {
	m := c.Member(id)
	if m == nil {
		return nil, fmt.Errorf("zkcluster: no member %d", id)
	}
	return m, nil
}

// stopTimeout bounds waiting for a JVM to exit after a signal.
const stopTimeout = 15 * time.Second

// CLI runs ZooKeeper's command-line client (ZooKeeperMain) once against
// member id with the given command, for example "create", "/a", "x" or
// "reconfig", "-remove", "3", and returns its combined output. The client
// retries an unreachable member forever, so ctx should have a deadline.
func (c *Cluster) CLI(ctx context.Context, id int, args ...string) ([]byte, error) {
	m, err := c.member(id)
	if err != nil {
		return nil, err
	}
	full := append([]string{"-Xmx64m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
		// Keep the client's connection chatter out of the output.
		"-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
		"-Dorg.slf4j.simpleLogger.log.org.apache.zookeeper.util.ServiceUtils=off",
		"-cp", c.installOf(m).classpath, "org.apache.zookeeper.ZooKeeperMain", "-server", m.ClientAddr}, args...)
	cmd := c.commandContext(ctx, c.installOf(m).java, full...)
	cmd.Env = append(os.Environ(), "JAVA_TOOL_OPTIONS=")
	cmd.SysProcAttr = sysProcAttr()
	out, err := cmd.CombinedOutput()
	if err != nil {
		return out, fmt.Errorf("zkcluster: zkCli %s on member %d: %w\n%s", strings.Join(args, " "), id, err, out)
	}
	return out, nil
}

// installOf is the installation of m's release.
func (c *Cluster) installOf(m *Member) *install {
	if inst := c.insts[m.Release.Name]; inst != nil {
		return inst
	}
	return c.inst
}

// logTails returns the last n lines of every member's log.
func (c *Cluster) logTails(n int) string {
	var b strings.Builder
	for _, m := range c.snapshot() {
		fmt.Fprintf(&b, "--- member %d log (%s), last %d lines:\n%s", m.ID, m.LogPath, n, m.LogTail(n))
	}
	return b.String()
}

func (c *Cluster) logsContain(s string) bool {
	for _, m := range c.snapshot() {
		if b, err := os.ReadFile(m.LogPath); err == nil && bytes.Contains(b, []byte(s)) {
			return true
		}
	}
	return false
}
