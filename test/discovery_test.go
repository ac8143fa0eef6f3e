package e2e

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/quorumwatch/zookeeper_exporter/internal/zkcluster"
)

// The ensemble's own membership says whom to probe: given one member (or
// none, the bare start), the exporter shows them all, follows reconfig
// -add and -remove, counts a server under two names once, and with
// discovery off probes exactly what it is given. Two real ensembles, shared
// by the subtests: 5 voters and an observer with dynamic reconfiguration,
// and 3 voters whose member 1 listens on ZooKeeper's default 127.0.0.1:2181
// when that port is free.
func TestDiscovery(t *testing.T) {
	if testing.Short() {
		t.Skip("starts ZooKeeper and Prometheus")
	}
	prometheusBinary := lookTool(t, "prometheus", "prometheus")
	small := zkcluster.Options{Voters: 3}
	defaultPortTaken := defaultPortInUse()
	if defaultPortTaken == nil {
		small.ClientPorts = map[int]int{1: 2181}
	}
	clusters := startClustersT(t, zkcluster.Options{Voters: 5, Observers: 1, Reconfig: true}, small)
	big, three := clusters[0], clusters[1]

	t.Run("bare start", func(t *testing.T) {
		if defaultPortTaken != nil {
			t.Skipf("port 2181 is in use on this machine, so no member can listen on ZooKeeper's default address: %v", defaultPortTaken)
		}
		base, logs, _ := startExporter(t) // no --config.file, --zookeeper.servers or --zookeeper.zoo-cfg
		logOnFailure(t, "exporter", logs)
		eventually(t, base+"/metrics", truthWithin, allOf(
			ensembleIs("default", map[string]float64{"members": 3, "members_discovered": 2, "voters": 3, "voters_up": 3, "leaders": 1, "quorum_margin": 1}),
			membersAre("default", "localhost:2181", three.Members()[1].ClientAddr, three.Members()[2].ClientAddr),
		))
	})

	t.Run("one server under two names", func(t *testing.T) {
		second, third := three.Members()[1], three.Members()[2]
		_, port, _ := net.SplitHostPort(second.ClientAddr)
		config := writeConfig(t, "ensembles:\n  - name: names\n    members:\n      - {address: %q}\n      - {address: %q}\n      - {address: %q}\n",
			second.ClientAddr, "localhost:"+port, third.ClientAddr)
		base, logs, _ := startExporter(t, "--config.file="+config, "--zookeeper.timeout=1s")
		logOnFailure(t, "exporter", logs)
		// Server 1 discovered, server 2 once under its first name.
		eventually(t, base+"/metrics", truthWithin, allOf(
			ensembleIs("names", map[string]float64{"members": 3, "voters": 3, "voters_up": 3, "leaders": 1, "quorum_margin": 1}),
			membersAre("names", three.Members()[0].ClientAddr, second.ClientAddr, third.ClientAddr),
		))
	})

	t.Run("discovery off", func(t *testing.T) {
		first, second := three.Members()[0], three.Members()[1]
		config := writeConfig(t, "ensembles:\n  - name: off\n    discover: off\n    members:\n      - {address: %q}\n      - {address: %q}\n",
			first.ClientAddr, second.ClientAddr)
		base, logs, _ := startExporter(t, "--config.file="+config, "--zookeeper.timeout=1s")
		logOnFailure(t, "exporter", logs)
		eventually(t, base+"/metrics", truthWithin, allOf(
			ensembleIs("off", map[string]float64{"members": 2, "members_discovered": 0, "voters": 3, "voters_unconfigured": 1}),
			membersAre("off", first.ClientAddr, second.ClientAddr),
			func(scrape *exposition) error {
				return expectValues(scrape, map[string]float64{"zookeeper_ensemble_discovery": 1}, map[string]string{"ensemble": "off", "state": "off"})
			},
		))
	})

	t.Run("one follower of five voters and an observer", func(t *testing.T) {
		discoverFromOneFollower(t, big, prometheusBinary)
	})
}

// discoverFromOneFollower is the story of the big ensemble, watched by an
// exporter given one follower's address and a real Prometheus.
func discoverFromOneFollower(t *testing.T, cluster *zkcluster.Cluster, prometheusBinary string) {
	const name = "five"
	seed, leader := aFollower(t, cluster)
	base, logs, _ := startExporter(t, "--zookeeper.servers="+seed.ClientAddr, "--zookeeper.ensemble="+name, "--zookeeper.timeout=1s")
	logOnFailure(t, "exporter", logs)
	dir := t.TempDir()
	prometheus, prometheusLogs := startPrometheus(t, prometheusBinary, dir, generateRules(t, dir), []string{hostPort(base)}, freePort(t))
	logOnFailure(t, "Prometheus", prometheusLogs)
	waitTargetsUp(t, prometheus, "zookeeper", 1)
	metrics := base + "/metrics"
	started := time.Now()

	// Every member up, in the mode it reports itself; margin 2.
	eventually(t, metrics, truthWithin, allOf(
		ensembleIs(name, map[string]float64{"members": 6, "members_discovered": 5, "voters": 5, "observers": 1, "voters_up": 5, "leaders": 1, "quorum_margin": 2}),
		membersAre(name, addressesOf(cluster.Members())...),
		modesAsReported(name, cluster.Members()),
	))
	t.Logf("given zk%d only: all 6 members probed, margin 2", seed.ID)
	noCriticalSince(t, prometheus, name, 2)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	added, err := cluster.AddVoters(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	newcomer := added[0]
	addedAt := time.Now()
	eventually(t, metrics, truthWithin, allOf(
		ensembleIs(name, map[string]float64{"members": 7, "voters": 6, "voters_up": 6, "quorum_size": 4, "quorum_margin": 2}),
		memberIs(func(*exposition) error { return nil }, name, newcomer.ClientAddr, map[string]float64{"zookeeper_up": 1}),
		modesAsReported(name, []*zkcluster.Member{newcomer}),
	))
	t.Logf("reconfig -add zk%d: probed and counted %.1fs after the membership listed it", newcomer.ID, time.Since(addedAt).Seconds())

	if err := cluster.RemoveVoters(ctx, newcomer.ID); err != nil {
		t.Fatal(err)
	}
	eventually(t, metrics, truthWithin, allOf(
		ensembleIs(name, map[string]float64{"members": 6, "voters": 5, "quorum_size": 3, "quorum_margin": 2}),
		membersAre(name, addressesOf(cluster.Members()[:6])...),
	))
	query := fmt.Sprintf(`zookeeper_up{job="zookeeper",member=%q}`, newcomer.ClientAddr)
	pollUntil(t, fmt.Sprintf("zk%d", newcomer.ID)+"'s series gone from Prometheus", func() (bool, string) {
		value, err := prometheusQuery(prometheus, query)
		return err != nil && strings.Contains(err.Error(), "0 samples"), fmt.Sprintf("%s = %q, %v", query, value, err)
	})
	noCriticalSince(t, prometheus, name, 2)
	window := int((time.Since(started) + time.Minute).Seconds())
	series, err := prometheusSeries(prometheus, fmt.Sprintf(`last_over_time(ALERTS{member=%q}[%ds])`, newcomer.ClientAddr, window))
	if err != nil {
		t.Fatal(err)
	}
	if len(series) > 0 {
		t.Errorf("zk%d, removed by reconfig -remove, had alerts: %v", newcomer.ID, series)
	}
	for _, line := range []string{"member discovered", "member no longer in the membership"} {
		if !strings.Contains(logs.String(), line) {
			t.Errorf("the exporter's log lacks %q", line)
		}
	}
	t.Logf("reconfig -remove zk%d (still running): its series gone, no alert for it", newcomer.ID)

	voters := swapRoles(t, ctx, cluster, leader, seed, metrics, prometheus, name)

	// Two followers lost (not the one the exporter was given): margin 0,
	// and the page fires.
	var killed []int
	for _, id := range voters {
		if id != leader.ID && id != seed.ID && len(killed) < 2 {
			if err := cluster.Kill(id); err != nil {
				t.Fatal(err)
			}
			killed = append(killed, id)
		}
	}
	eventually(t, metrics, truthWithin, ensembleIs(name, map[string]float64{"voters": 5, "voters_up": 3, "quorum_margin": 0}))
	pollUntil(t, "ZooKeeperQuorumAtRisk firing for "+name, alertIn(prometheus, name, "ZooKeeperQuorumAtRisk", "firing"))
	t.Logf("zk%d and zk%d killed: margin 0, ZooKeeperQuorumAtRisk fires", killed[0], killed[1])
}

// swapRoles turns a follower into an observer and the observer into a
// participant in one reconfig: no election, the voters' count unchanged, so
// only reading the membership again shows it. Both must show in their new
// roles within a minute. It returns the voters after the swap.
func swapRoles(t *testing.T, ctx context.Context, cluster *zkcluster.Cluster, leader, seed *zkcluster.Member, metrics, prometheus, name string) []int {
	t.Helper()
	current, err := leader.Membership(ctx)
	if err != nil {
		t.Fatal(err)
	}
	observer := cluster.Observers()[0]
	var follower *zkcluster.Member
	for _, id := range current.Participants {
		if id != leader.ID && id != seed.ID {
			follower = cluster.Member(id)
			break
		}
	}
	spec := func(id int, from, to string) string {
		line := strings.TrimPrefix(current.Servers[id], "server.")
		if !strings.Contains(line, from) {
			t.Fatalf("server.%s: no %q", line, from)
		}
		return strings.Replace(line, from, to, 1)
	}
	swap := spec(follower.ID, ":participant;", ":observer;") + "," + spec(observer.ID, ":observer;", ":participant;")
	if out, err := cluster.CLI(ctx, leader.ID, "reconfig", "-add", swap); err != nil {
		t.Fatalf("reconfig -add %s: %v\n%s", swap, err, out)
	}
	swappedAt := time.Now()
	eventually(t, metrics, truthWithin, allOf(
		ensembleIs(name, map[string]float64{"members": 6, "voters": 5, "observers": 1, "voters_up": 5, "leaders": 1, "quorum_margin": 2}),
		func(scrape *exposition) error {
			return errors.Join(
				expectValues(scrape, map[string]float64{"zookeeper_server_mode": 1}, map[string]string{"ensemble": name, "member": follower.ClientAddr, "role": "observer", "mode": "observer"}),
				expectValues(scrape, map[string]float64{"zookeeper_server_mode": 1}, map[string]string{"ensemble": name, "member": observer.ClientAddr, "role": "voter", "mode": "follower"}),
			)
		},
	))
	t.Logf("role swap (zk%d to observer, zk%d to participant, no election): shown %.1fs after the reconfig", follower.ID, observer.ID, time.Since(swappedAt).Seconds())
	noCriticalSince(t, prometheus, name, 2)
	window := int((time.Since(swappedAt) + time.Minute).Seconds())
	fired, err := prometheusSeries(prometheus, fmt.Sprintf(`last_over_time(ALERTS{severity="critical",ensemble=%q}[%ds])`, name, window))
	if err != nil {
		t.Fatal(err)
	}
	if len(fired) > 0 {
		t.Errorf("the role swap left margin 2, yet critical alerts were active: %v", fired)
	}
	after, err := leader.Membership(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return after.Participants
}

// defaultPortInUse says why no member can take 127.0.0.1:2181 (or why
// localhost:2181 would reach something else on ::1), nil when it is free.
func defaultPortInUse() error {
	for _, address := range []string{"127.0.0.1:2181", "[::1]:2181"} {
		listener, err := net.Listen("tcp", address)
		if err != nil {
			if address == "[::1]:2181" && !strings.Contains(err.Error(), "address already in use") {
				continue // no IPv6 loopback: localhost is 127.0.0.1 alone
			}
			return err
		}
		listener.Close()
	}
	return nil
}

// writeConfig writes an exporter configuration file from a format.
func writeConfig(t *testing.T, format string, args ...any) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "zookeeper_exporter.yml")
	if err := os.WriteFile(path, fmt.Appendf(nil, format, args...), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// allOf passes when every check does.
func allOf(checks ...func(*exposition) error) func(*exposition) error {
	return func(scrape *exposition) error {
		var errs []error
		for _, check := range checks {
			errs = append(errs, check(scrape))
		}
		return errors.Join(errs...)
	}
}

// membersAre checks that the ensemble's zookeeper_up series are exactly
// those of the addresses, every one up.
func membersAre(ensemble string, addresses ...string) func(*exposition) error {
	want := slices.Sorted(slices.Values(addresses))
	return func(scrape *exposition) error {
		up := scrape.labelValues("zookeeper_up", "member", map[string]string{"ensemble": ensemble}, 1)
		down := scrape.labelValues("zookeeper_up", "member", map[string]string{"ensemble": ensemble}, 0)
		if !slices.Equal(up, want) || len(down) > 0 {
			return fmt.Errorf("%s: members up %v, down %v; want up %v", ensemble, up, down, want)
		}
		return nil
	}
}

// modesAsReported checks that each member's zookeeper_server_mode is the
// mode it reports itself.
func modesAsReported(ensemble string, members []*zkcluster.Member) func(*exposition) error {
	return func(scrape *exposition) error {
		var errs []error
		for _, member := range members {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			mode, err := member.Mode(ctx)
			cancel()
			if err != nil {
				errs = append(errs, err)
				continue
			}
			errs = append(errs, expectValues(scrape, map[string]float64{"zookeeper_server_mode": 1},
				map[string]string{"ensemble": ensemble, "member": member.ClientAddr, "mode": mode}))
		}
		return errors.Join(errs...)
	}
}

func addressesOf(members []*zkcluster.Member) []string {
	var addresses []string
	for _, member := range members {
		addresses = append(addresses, member.ClientAddr)
	}
	return addresses
}
