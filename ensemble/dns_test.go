package ensemble

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/promslog"

	"github.com/quorumwatch/zookeeper_exporter/config"
	"github.com/quorumwatch/zookeeper_exporter/internal/dnstest"
	"github.com/quorumwatch/zookeeper_exporter/internal/standin"
	"github.com/quorumwatch/zookeeper_exporter/internal/zktest"
)

// Members from DNS, as a StatefulSet's headless service gives them: added
// and removed by changing the answers, the margin following; a name that
// stops resolving keeps the last members and says so.
func TestMembersFromDNS(t *testing.T) {
	dns, err := dnstest.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer dns.Close()
	const name = "_client._tcp.zk-hs.zookeeper.svc.cluster.local"
	records := func(pods ...int) {
		var srv []dnstest.SRV
		for _, pod := range pods {
			srv = append(srv, dnstest.SRV{Target: fmt.Sprintf("zk-%d.zk-hs.zookeeper.svc.cluster.local", pod), Port: 2181})
		}
		dns.SetSRV(name, srv...)
	}
	records(1, 2, 3)
	cfg, err := config.Parse("zk.yml", []byte(fmt.Sprintf(`
ensembles:
  - name: test
    dns: {name: %q, type: SRV, refresh_interval: 1ns, resolver: %q}
`, name, dns.Address())))
	if err != nil {
		t.Fatal(err)
	}
	// srvr only: the voter set is the members DNS gives.
	members := &zktest.ModeMembers{}
	states := map[string]string{}
	for pod := 1; pod <= 5; pod++ {
		states[pod2181(pod)] = "follower"
	}
	states[pod2181(1)] = "leader"
	members.Set(states)
	r := newTestRegistry(t, cfg, members)

	steps := []struct {
		name        string
		change      func()
		wantMembers string
		wantMargin  int
		wantOK      bool
	}{
		{"three members", func() {}, pods(1, 2, 3), 1, true},
		{"scaled to five", func() { records(1, 2, 3, 4, 5) }, pods(1, 2, 3, 4, 5), 2, true},
		{"the name stops resolving: the last members stay", func() { dns.Fail(name, true) }, pods(1, 2, 3, 4, 5), 2, false},
		{"back, scaled to three", func() { dns.Fail(name, false); records(1, 2, 3) }, pods(1, 2, 3), 1, true},
	}
	for _, step := range steps {
		step.change()
		time.Sleep(time.Millisecond)
		round := probe(t, r)
		var got []string
		for _, m := range round.Members {
			got = append(got, m.Address)
		}
		if strings.Join(got, " ") != step.wantMembers || round.Quorum().Margin != step.wantMargin || round.DNS == nil || round.DNS.OK != step.wantOK {
			t.Errorf("%s: members %v margin %d dns %+v; want %s, margin %d, ok %v", step.name, got, round.Quorum().Margin, round.DNS, step.wantMembers, step.wantMargin, step.wantOK)
		}
	}
}

func pod2181(pod int) string { return fmt.Sprintf("zk-%d.zk-hs.zookeeper.svc.cluster.local:2181", pod) }

func pods(ids ...int) string {
	var addresses []string
	for _, id := range ids {
		addresses = append(addresses, pod2181(id))
	}
	return strings.Join(addresses, " ")
}

// SRV targets are pod names that only the configured resolver knows: the
// members are dialled through it too (stand-in members on loopback).
func TestSRVTargetsDialledThroughTheResolver(t *testing.T) {
	stand, err := standin.Start(standin.Config{MaxDuration: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	defer stand.Close()
	dns, err := dnstest.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer dns.Close()
	const name = "_client._tcp.zk-hs.test"
	var records []dnstest.SRV
	for i, address := range stand.Addresses() {
		_, port, _ := net.SplitHostPort(address)
		portNumber, _ := strconv.Atoi(port)
		pod := fmt.Sprintf("zk-%d.zk-hs.test", i)
		dns.SetA(pod, net.ParseIP("127.0.0.1"))
		records = append(records, dnstest.SRV{Target: pod, Port: uint16(portNumber)})
	}
	dns.SetSRV(name, records...)
	cfg, err := config.Parse("zk.yml", []byte(fmt.Sprintf("ensembles:\n  - name: test\n    dns: {name: %q, type: SRV, resolver: %q}\n", name, dns.Address())))
	if err != nil {
		t.Fatal(err)
	}
	r, err := New(cfg, promslog.NewNopLogger(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	round := probe(t, r)
	for _, m := range round.Members {
		if !m.Up || !strings.HasSuffix(strings.Split(m.Address, ":")[0], ".zk-hs.test") {
			t.Errorf("%s: up %v (%v)", m.Address, m.Up, m.Err)
		}
	}
	if q := round.Quorum(); len(round.Members) != 5 || q.Margin != 2 {
		t.Errorf("%d members, margin %d; want 5, 2", len(round.Members), q.Margin)
	}
}
