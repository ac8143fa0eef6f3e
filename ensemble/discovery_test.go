package ensemble

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/quorumwatch/zookeeper_exporter/config"
	"github.com/quorumwatch/zookeeper_exporter/internal/zktest"
	"github.com/quorumwatch/zookeeper_exporter/zk"
)

// addresses lists the round's members as address=role, discovered ones
// marked with a star.
func addresses(round *Round) []string {
	var out []string
	for _, m := range round.Members {
		mark := ""
		if m.Discovered {
			mark = "*"
		}
		out = append(out, fmt.Sprintf("%s%s=%s#%d", mark, m.Address, m.Role, m.ServerID))
	}
	return out
}

// Given one follower, the exporter probes every member the membership
// lists, in its first round; with discovery off, exactly what it is given.
func TestDiscovery(t *testing.T) {
	all := []string{capturedFollower + "=voter#1", "*" + capturedLeader + "=voter#2", "*" + capturedFollower3 + "=voter#3", "*" + capturedObserver + "=observer#4"}
	tests := []struct {
		name     string
		discover string
		limit    int
		want     []string
		state    string
		margin   int
		skipped  int
	}{
		{"discovery", "", 0, all, DiscoveryMembership, 1, 0},
		// The leader's own count still says every voter is synced.
		{"limit of one", config.DiscoverConf, 1, all[:2], DiscoveryMembership, 1, 2},
		{"off", config.DiscoverOff, 0, all[:1], DiscoveryOff, 0, 0},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			cfg := servers(t, capturedFollower)
			cfg.Ensembles[0].Discover, cfg.Ensembles[0].MaxDiscovered = test.discover, test.limit
			client := &zktest.ScriptedClient{States: capturedStates()}
			r := newTestRegistry(t, cfg, client)
			for round := range 2 {
				got := probe(t, r)
				if !slices.Equal(addresses(got), test.want) {
					t.Errorf("round %d: members %v, want %v", round+1, addresses(got), test.want)
				}
				if got.Discovery.State != test.state || got.Discovery.Skipped[SkipLimit] != test.skipped {
					t.Errorf("round %d: discovery %+v, want state %s, %d skipped for the limit", round+1, got.Discovery, test.state, test.skipped)
				}
				if q := got.Quorum(); q.Margin != test.margin {
					t.Errorf("round %d: margin %d, want %d", round+1, q.Margin, test.margin)
				}
			}
			// The membership comes from the configured member, not the
			// discovered leader.
			if words := client.Words(); test.state == DiscoveryMembership && words[capturedLeader] != 4 {
				t.Errorf("words %v: the discovered leader was asked more than srvr and mntr", words)
			}
		})
	}
}

// One server under two names (an A and an AAAA record, 127.0.0.1 and
// localhost) is one member: one leader, its voters counted once.
func TestOneServerTwoNames(t *testing.T) {
	states := capturedStates()
	states["localhost:40615"] = "leader"
	cfg := servers(t, capturedLeader+",localhost:40615,"+capturedFollower)
	cfg.Ensembles[0].Discover = config.DiscoverOff
	round := probe(t, newTestRegistry(t, cfg, &zktest.ScriptedClient{States: states}))
	q := round.Quorum()
	if q.Leaders != 1 || q.VotersUp != 2 || len(round.Members) != 2 || q.Margin != 1 {
		t.Fatalf("leaders %d, voters up %d, members %v, margin %d; want 1 leader, 2 voters up, 2 members, margin 1", q.Leaders, q.VotersUp, addresses(round), q.Margin)
	}
	if leader := round.Members[0]; !slices.Equal(leader.Aliases, []string{"localhost:40615"}) {
		t.Errorf("the leader's other names %v, want localhost:40615", leader.Aliases)
	}
	// The first name down, the other answering: still one member, up.
	states[capturedLeader] = ""
	round = probe(t, newTestRegistry(t, cfg, &zktest.ScriptedClient{States: states}))
	if q := round.Quorum(); q.Leaders != 1 || len(round.Members) != 2 || !round.Members[0].Up || round.Members[0].Address != capturedLeader {
		t.Errorf("first name down: leaders %d, members %v", q.Leaders, addresses(round))
	}
}

// A configured member of another ensemble (its conf shares no server line
// with the membership in force) is reported and left out: its leader is
// not a second leader, its servers are not discovered.
func TestMemberOfAnotherEnsemble(t *testing.T) {
	states := capturedStates()
	states["other:1"] = "reconfig_leader" // a leader of another capture's ensemble
	cfg := servers(t, capturedLeader+",other:1")
	r := newTestRegistry(t, cfg, &zktest.ScriptedClient{States: states})
	var round *Round
	for range 2 {
		round = probe(t, r)
	}
	if len(round.Disagreeing) != 1 || round.Disagreeing[0].Address != "other:1" || round.Disagreeing[0].Disagrees == "" {
		t.Fatalf("disagreeing %v, want other:1 with a reason", round.Disagreeing)
	}
	if q := round.Quorum(); q.Leaders != 1 || q.Margin != 1 || len(round.Members) != 4 {
		t.Errorf("leaders %d, margin %d, members %v; want 1 leader, margin 1, the 4 members of the leader's ensemble", q.Leaders, q.Margin, addresses(round))
	}
}

// conf refused (srvr only, ZooKeeper 3.5+'s default): the configured
// members, and the state says so.
func TestDiscoveryWithoutMembership(t *testing.T) {
	cfg := servers(t, "a:1")
	round := probe(t, newTestRegistry(t, cfg, &zktest.ScriptedClient{States: map[string]string{"a:1": "default_whitelist"}}))
	if round.Discovery.State != DiscoveryConfiguration || len(round.Members) != 1 {
		t.Errorf("discovery %+v, members %v; want state configuration, the one configured member", round.Discovery, addresses(round))
	}
}

// Where a discovered member is reached: its server line's client address
// (the parser puts the quorum host for a wildcard), else the answering
// member's clientPort; with TLS, moved as the answering member's
// secureClientPort is from its client port.
func TestDiscoveredAddress(t *testing.T) {
	line := func(spec string) zk.Server {
		server, err := zk.ParseServerLine(2, spec)
		if err != nil {
			t.Fatal(err)
		}
		return server
	}
	conf := func(settings ...string) *zk.Conf {
		c := &zk.Conf{Settings: map[string]string{}, ServerID: 1,
			Servers: []zk.Server{{ID: 1, Host: "zk1", ClientAddress: "zk1:2181", ClientPort: 2181}}}
		for i := 0; i+1 < len(settings); i += 2 {
			c.Settings[settings[i]] = settings[i+1]
		}
		return c
	}
	tests := []struct {
		name    string
		server  zk.Server
		conf    *zk.Conf
		tls     bool
		want    string
		wantErr bool
	}{
		{"client address", line("zk2:2888:3888;10.0.0.2:2181"), conf(), false, "10.0.0.2:2181", false},
		{"wildcard", line("zk2:2888:3888;0.0.0.0:2181"), conf(), false, "zk2:2181", false},
		{"IPv6 wildcard", line("zk2:2888:3888;[::]:2181"), conf(), false, "zk2:2181", false},
		{"port only", line("zk2:2888:3888;2181"), conf(), false, "zk2:2181", false},
		{"no client part", line("zk2:2888:3888"), conf("clientPort", "2182"), false, "zk2:2181", false},
		{"no client part, answerer without its own line", line("zk2:2888:3888"), &zk.Conf{Settings: map[string]string{"clientPort": "2182"}}, false, "zk2:2182", false},
		{"no port anywhere", line("zk2:2888:3888"), &zk.Conf{Settings: map[string]string{}}, false, "", true},
		{"TLS on separate hosts", line("zk2:2888:3888;2181"), conf("secureClientPort", "2281"), true, "zk2:2281", false},
		{"TLS on one host", line("127.0.0.1:2888:3888;127.0.0.1:3181"), conf("secureClientPort", "2281"), true, "127.0.0.1:3281", false},
		{"TLS without secureClientPort", line("zk2:2888:3888;2181"), conf("secureClientPort", "-1"), true, "", true},
	}
	for _, test := range tests {
		got, err := discoveredAddress(test.server, test.conf, test.tls)
		if got != test.want || (err != nil) != test.wantErr {
			t.Errorf("%s: %q, %v; want %q (error %v)", test.name, got, err, test.want, test.wantErr)
		}
	}
}

// A server whose host does not resolve is skipped and counted; the others
// are discovered; a configured member's address or server id stands for
// its server.
func TestDiscoverSkipsUnresolvable(t *testing.T) {
	live := &Membership{Servers: []zk.Server{
		{ID: 1, Host: "zk1", ClientAddress: "zk1:2181", ClientPort: 2181},
		{ID: 2, Host: "zk2", ClientAddress: "zk2:2181", ClientPort: 2181},
		{ID: 3, Host: "gone", ClientAddress: "gone:2181", ClientPort: 2181},
		{ID: 4, Host: "zk4", ClientAddress: "zk4:2181", ClientPort: 2181, Role: zk.RoleObserver},
		{ID: 5, Host: "zk5", ClientAddress: "zk5:2181", ClientPort: 2181},
	}}
	e := &config.Ensemble{Name: "e", Members: []*config.Member{{Address: "zk1:2181", Role: config.RoleVoter}, {Address: "10.0.0.5:2181", Role: config.RoleVoter, ServerID: 5}}}
	resolve := func(_ context.Context, host string) error {
		if host == "gone" {
			return errors.New("no such host")
		}
		return nil
	}
	found := discover(context.Background(), live, &zk.Conf{Settings: map[string]string{}}, e, map[string]int{}, resolve)
	var got []string
	for _, m := range found.members {
		got = append(got, fmt.Sprintf("%s=%s#%d", m.Address, m.Role, m.ServerID))
	}
	if want := []string{"zk2:2181=voter#2", "zk4:2181=observer#4"}; !slices.Equal(got, want) {
		t.Errorf("discovered %v, want %v", got, want)
	}
	if found.skipped[SkipUnresolvable] != 1 || len(found.problems) != 1 {
		t.Errorf("skipped %v, problems %v; want server 3 unresolvable", found.skipped, found.problems)
	}
}

// A member answering in a role the membership does not give it calls for
// reading the membership again: a role swap moves neither the epoch nor the
// voters' count.
func TestRolesContradict(t *testing.T) {
	live := &Membership{Servers: []zk.Server{{ID: 1, Role: zk.RoleParticipant}, {ID: 2, Role: zk.RoleObserver}}}
	tests := []struct {
		name    string
		member  ProbedMember
		learned map[string]int
		want    bool
	}{
		{"participant following", ProbedMember{ServerID: 1, Up: true, Mode: zk.ModeFollower}, nil, false},
		{"participant observing", ProbedMember{ServerID: 1, Up: true, Mode: zk.ModeObserver}, nil, true},
		{"observer observing", ProbedMember{ServerID: 2, Up: true, Mode: zk.ModeObserver}, nil, false},
		{"observer leading", ProbedMember{ServerID: 2, Up: true, Mode: zk.ModeLeader}, nil, true},
		{"observer following, id learned", ProbedMember{Member: &config.Member{Address: "a:1"}, Up: true, Mode: zk.ModeFollower}, map[string]int{"a:1": 2}, true},
		{"observer not serving", ProbedMember{ServerID: 2, Up: true, Mode: zk.ModeNotServing}, nil, false},
		{"not listed (removed, still following)", ProbedMember{ServerID: 3, Up: true, Mode: zk.ModeFollower}, nil, false},
	}
	for _, test := range tests {
		if test.member.Member == nil {
			test.member.Member = &config.Member{Address: "x:1"}
		}
		if got := rolesContradict([]*ProbedMember{&test.member}, live, test.learned); got != test.want {
			t.Errorf("%s: %v, want %v", test.name, got, test.want)
		}
	}
}

// Members reached at addresses the membership does not list (pod IPs from
// DNS A records) say their server ids themselves; when pods come back with
// each other's addresses, the ids follow the servers, not the addresses.
func TestServerIDsFollowPodsThatSwapAddresses(t *testing.T) {
	states := capturedStates()
	states["10.0.0.1:2181"], states["10.0.0.2:2181"] = "follower", "follower#3"
	cfg := servers(t, capturedLeader+",10.0.0.1:2181,10.0.0.2:2181")
	cfg.Ensembles[0].Discover = config.DiscoverOff
	r := newTestRegistry(t, cfg, &zktest.ScriptedClient{States: states})
	ids := func() []string { return addresses(probe(t, r)) }
	before := []string{capturedLeader + "=voter#2", "10.0.0.1:2181=voter#1", "10.0.0.2:2181=voter#3"}
	if got := ids(); !slices.Equal(got, before) {
		t.Fatalf("before: %v, want %v", got, before)
	}
	states["10.0.0.1:2181"], states["10.0.0.2:2181"] = "", "" // both pods restart
	ids()
	states["10.0.0.1:2181"], states["10.0.0.2:2181"] = "follower#3", "follower"
	want := []string{capturedLeader + "=voter#2", "10.0.0.1:2181=voter#3", "10.0.0.2:2181=voter#1"}
	if got := ids(); !slices.Equal(got, want) {
		t.Errorf("after the swap: %v, want %v", got, want)
	}
}

// A discovered member's datacenter is unknown: losing any datacenter is
// assumed to take it too, so discovery never overstates a datacenter-loss
// margin.
func TestDiscoveredMembersLostWithEveryDatacenter(t *testing.T) {
	round := probe(t, newTestRegistry(t, servers(t, capturedFollower+"@dc1"), &zktest.ScriptedClient{States: capturedStates()}))
	if len(round.Members) != 4 {
		t.Fatalf("members %v, want the whole ensemble", addresses(round))
	}
	for _, dc := range round.Assessment.Datacenters {
		if dc.Datacenter == "dc1" && dc.Margin >= 0 {
			t.Errorf("losing dc1 leaves margin %d: the discovered voters, of unknown datacenter, were assumed to survive", dc.Margin)
		}
	}
	if len(round.Assessment.Datacenters) != 1 {
		t.Errorf("datacenters %+v, want dc1 alone", round.Assessment.Datacenters)
	}
}
