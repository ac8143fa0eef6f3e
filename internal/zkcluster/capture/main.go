// Command capture starts real ZooKeeper members with zkcluster and saves
// their raw answers to four-letter words and AdminServer commands, one
// directory per server state, as test data for the parsers. Debian's
// package is captured into -out itself, any other release (fetched from
// Maven Central) into -out/<release>:
//
//	go run ./internal/zkcluster/capture -out zk/testdata
//	go run ./internal/zkcluster/capture -out zk/testdata -release 3.9.5
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/quorumwatch/zookeeper_exporter/internal/zkcluster"
)

var (
	words         = []string{"srvr", "stat", "mntr", "conf", "ruok", "isro", "envi"}
	adminCommands = []string{"monitor", "stats", "leader", "voting_view", "zabstate", "ruok", "server_stats"}
)

// placeholderDir replaces the temporary cluster directory in answers (conf
// and envi print it) so the files do not depend on the machine.
const placeholderDir = "/var/lib/zookeeper"

// placeholderLib replaces the cache folder of fetched releases, whose jars
// envi lists: /opt/zookeeper/<version>/<jar>.
const placeholderLib = "/opt/zookeeper"

func main() {
	out := flag.String("out", "zk/testdata", "directory to write <state>/<word> files to")
	timeout := flag.Duration("timeout", 5*time.Minute, "overall time limit")
	only := flag.String("only", "", "comma-separated steps to run (default all): "+stepNames())
	releaseName := flag.String("release", zkcluster.DebianRelease, "ZooKeeper release to run (zkcluster.ParseRelease)")
	flag.Parse()
	log.SetFlags(log.Ltime)
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	release, err := zkcluster.ParseRelease(*releaseName)
	if err != nil {
		log.Fatal(err)
	}
	cp := &capturer{out: *out, release: release}
	if !release.Debian {
		cp.out = filepath.Join(*out, release.Name)
	}
	failed := false
	for _, s := range steps {
		if *only != "" && !slices.Contains(strings.Split(*only, ","), s.name) {
			continue
		}
		if s.skip != nil {
			if reason := s.skip(release); reason != "" {
				log.Printf("%s: skipped, %s", s.name, reason)
				continue
			}
		}
		log.Printf("capturing %s", s.name)
		if err := s.run(cp, ctx); err != nil {
			log.Printf("%s: %v", s.name, err)
			failed = true
		}
	}
	if !release.Debian {
		if err := cp.writeReadme(); err != nil {
			log.Print(err)
			failed = true
		}
	}
	if failed {
		os.Exit(1)
	}
}

// writeReadme says in a fetched release's folder where its answers come
// from; zk/testdata/README.md describes the states.
func (cp *capturer) writeReadme() error {
	srvr, err := os.ReadFile(filepath.Join(cp.out, "leader", "srvr"))
	if err != nil {
		return fmt.Errorf("README: %w", err)
	}
	version, _, _ := strings.Cut(string(srvr), "\n")
	var states []string
	entries, _ := os.ReadDir(cp.out)
	for _, e := range entries {
		if e.IsDir() {
			states = append(states, "`"+e.Name()+"`")
		}
	}
	text := fmt.Sprintf(`# ZooKeeper %s

Answers of real members of ZooKeeper %s, the release published on Maven
Central (org.apache.zookeeper:zookeeper:%s with the dependencies its own build
compiles against, logging through slf4j-simple), run by internal/zkcluster on
OpenJDK 17 with the settings ../README.md describes, captured with:

    go run ./internal/zkcluster/capture -out zk/testdata -release %s

The members said: %s

States: %s.
`, cp.release, cp.release, cp.release.Version, cp.release, strings.TrimPrefix(version, "Zookeeper version: "), strings.Join(states, ", "))
	if !cp.release.HasAdminServer() {
		text += "\nThis release has no AdminServer: no `admin_*.json` answers.\n"
	}
	if !cp.release.HasReconfig() {
		text += "It has no dynamic reconfiguration: no `reconfig_*` states.\n"
	}
	return os.WriteFile(filepath.Join(cp.out, "README.md"), []byte(text), 0o644)
}

var steps = []struct {
	name string
	run  func(*capturer, context.Context) error
	skip func(zkcluster.Release) string // why a release cannot, "" if it can
}{
	{"ensemble", (*capturer).ensemble, nil},
	{"standalone", (*capturer).standalone, nil},
	{"not_whitelisted", (*capturer).notWhitelisted, nil},
	{"default_whitelist", (*capturer).defaultWhitelist, nil},
	{"leader_serves_no", (*capturer).leaderServesNo, func(r zkcluster.Release) string {
		// Only the AdminServer's zabstate (3.6+) tells such a leader
		// from a member without quorum, so zkcluster cannot wait for it.
		if r.Minor < 6 {
			return r.Line() + " has no zabstate command to find a leader that does not serve"
		}
		return ""
	}},
	{"read_only", (*capturer).readOnly, nil},
	{"reconfig_removed", (*capturer).reconfigRemoved, func(r zkcluster.Release) string {
		if !r.HasReconfig() {
			return r.Line() + " has no dynamic reconfiguration"
		}
		return ""
	}},
}

func stepNames() string {
	var names []string
	for _, s := range steps {
		names = append(names, s.name)
	}
	return strings.Join(names, ",")
}

type capturer struct {
	out     string
	release zkcluster.Release
}

// start starts an ensemble of the release being captured.
func (cp *capturer) start(ctx context.Context, opts zkcluster.Options) (*zkcluster.Cluster, error) {
	opts.Release = cp.release.Name
	return zkcluster.Start(ctx, opts)
}

// ensemble captures leader, follower and observer of a 3+1 ensemble, then
// kills two voters and captures the survivors without quorum.
func (cp *capturer) ensemble(ctx context.Context) error {
	c, err := cp.start(ctx, zkcluster.Options{Voters: 3, Observers: 1})
	if err != nil {
		return err
	}
	defer c.Close()
	leader, follower, err := roles(ctx, c)
	if err != nil {
		return err
	}
	observer := c.Observers()[0]
	for state, m := range map[string]*zkcluster.Member{"leader": leader, "follower": follower, "observer": observer} {
		if err := cp.member(ctx, c, m, state); err != nil {
			return err
		}
	}
	if err := c.Kill(leader.ID); err != nil {
		return err
	}
	if err := c.Kill(follower.ID); err != nil {
		return err
	}
	var survivor *zkcluster.Member
	for _, m := range c.Voters() {
		if m != leader && m != follower {
			survivor = m
		}
	}
	if err := waitMode(ctx, c, survivor, zkcluster.ModeNotServing); err != nil {
		return err
	}
	if err := waitMode(ctx, c, observer, zkcluster.ModeNotServing); err != nil {
		return err
	}
	if err := cp.member(ctx, c, survivor, "not_serving"); err != nil {
		return err
	}
	return cp.member(ctx, c, observer, "not_serving_observer")
}

func (cp *capturer) standalone(ctx context.Context) error {
	c, err := cp.start(ctx, zkcluster.Options{Standalone: true})
	if err != nil {
		return err
	}
	defer c.Close()
	return cp.member(ctx, c, c.Member(1), "standalone")
}

func (cp *capturer) notWhitelisted(ctx context.Context) error {
	c, err := cp.start(ctx, zkcluster.Options{Standalone: true, Whitelist: map[int]string{1: "srvr"}})
	if err != nil {
		return err
	}
	defer c.Close()
	return cp.member(ctx, c, c.Member(1), "not_whitelisted")
}

// defaultWhitelist captures a member without 4lw.commands.whitelist.
func (cp *capturer) defaultWhitelist(ctx context.Context) error {
	c, err := cp.start(ctx, zkcluster.Options{Standalone: true, Whitelist: map[int]string{1: ""}})
	if err != nil {
		return err
	}
	defer c.Close()
	return cp.member(ctx, c, c.Member(1), "default_whitelist")
}

func (cp *capturer) leaderServesNo(ctx context.Context) error {
	no := false
	c, err := cp.start(ctx, zkcluster.Options{Voters: 3, LeaderServes: &no})
	if err != nil {
		return err
	}
	defer c.Close()
	leader, follower, err := roles(ctx, c)
	if err != nil {
		return err
	}
	if err := cp.member(ctx, c, leader, "leader_serves_no"); err != nil {
		return err
	}
	return cp.member(ctx, c, follower, "leader_serves_no_follower")
}

// readOnly captures a voter of a read-only-enabled ensemble after the other
// two voters were killed.
func (cp *capturer) readOnly(ctx context.Context) error {
	c, err := cp.start(ctx, zkcluster.Options{Voters: 3, JVMArgs: []string{"-Dreadonlymode.enabled=true"}})
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Kill(1); err != nil {
		return err
	}
	if err := c.Kill(2); err != nil {
		return err
	}
	m := c.Member(3)
	if err := waitMode(ctx, c, m, zkcluster.ModeReadOnly); err != nil {
		return err
	}
	return cp.member(ctx, c, m, "read_only")
}

// roles returns the leader and one follower.
func roles(ctx context.Context, c *zkcluster.Cluster) (leader, follower *zkcluster.Member, err error) {
	leader, err = c.WaitLeader(ctx)
	if err != nil {
		return nil, nil, err
	}
	for _, m := range c.Voters() {
		if mode, _ := m.Mode(ctx); mode == zkcluster.ModeFollower {
			return leader, m, nil
		}
	}
	return nil, nil, errors.New("no follower")
}

func waitMode(ctx context.Context, c *zkcluster.Cluster, m *zkcluster.Member, want string) error {
	wctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	var last string
	err := c.WaitFor(wctx, func() bool {
		last, _ = m.Mode(wctx)
		return last == want
	})
	if err != nil {
		return fmt.Errorf("member %d: waiting for mode %s (last %q): %w", m.ID, want, last, err)
	}
	return nil
}

// member saves every answer of m to cp.out/state.
func (cp *capturer) member(ctx context.Context, c *zkcluster.Cluster, m *zkcluster.Member, state string) error {
	dir := filepath.Join(cp.out, state)
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	save := func(name string, b []byte) error {
		return os.WriteFile(filepath.Join(dir, name), sanitize(b, c.Dir()), 0o644)
	}
	for _, w := range words {
		b, err := m.FourLetterWord(ctx, w)
		if err != nil {
			log.Printf("%s: member %d: %s: %v (saving %d bytes)", state, m.ID, w, err, len(b))
		}
		if err := save(w, b); err != nil {
			return err
		}
	}
	for _, cmd := range adminCommands {
		if !m.Release.HasAdminServer() {
			break
		}
		b, err := m.Admin(ctx, cmd)
		if err != nil {
			log.Printf("%s: member %d: admin %s: %v (saving %d bytes)", state, m.ID, cmd, err, len(b))
		}
		if err := save("admin_"+cmd+".json", b); err != nil {
			return err
		}
	}
	log.Printf("%s: member %d saved to %s", state, m.ID, dir)
	return nil
}

var hostLine = regexp.MustCompile(`(?m)^host\.name=.*$`)

// sanitize removes what depends on the capturing machine.
func sanitize(b []byte, clusterDir string) []byte {
	b = bytes.ReplaceAll(b, []byte(clusterDir), []byte(placeholderDir))
	// A fetched release's jars are in this machine's cache (envi's class path).
	if cache, err := zkcluster.CacheDir(); err == nil {
		b = bytes.ReplaceAll(b, []byte(cache), []byte(placeholderLib))
	}
	b = hostLine.ReplaceAll(b, []byte("host.name=zkhost"))
	if h, err := os.Hostname(); err == nil && len(h) > 3 {
		b = bytes.ReplaceAll(b, []byte(h), []byte("zkhost"))
	}
	if strings.Contains(string(b), os.TempDir()+"/zkcluster-") {
		log.Printf("warning: temporary path left in answer")
	}
	return b
}

// reconfigRemoved removes a follower from a reconfigurable ensemble and
// captures it and the leader afterwards.
func (cp *capturer) reconfigRemoved(ctx context.Context) error {
	extra := []string{"skipACL=yes"}
	c, err := cp.start(ctx, zkcluster.Options{
		Voters:          3,
		ReconfigEnabled: true,
		ExtraConfig:     map[int][]string{1: extra, 2: extra, 3: extra},
	})
	if err != nil {
		return err
	}
	defer c.Close()
	leader, follower, err := roles(ctx, c)
	if err != nil {
		return err
	}
	out, err := c.CLI(ctx, leader.ID, "reconfig", "-remove", fmt.Sprint(follower.ID))
	log.Printf("reconfig -remove %d: %s", follower.ID, out)
	if err != nil {
		return err
	}
	time.Sleep(2 * time.Second)
	if err := cp.member(ctx, c, follower, "reconfig_removed"); err != nil {
		return err
	}
	return cp.member(ctx, c, leader, "reconfig_leader")
}
