package ensemble

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/common/promslog"

	"github.com/quorumwatch/zookeeper_exporter/config"
	"github.com/quorumwatch/zookeeper_exporter/internal/zktest"
	"github.com/quorumwatch/zookeeper_exporter/zk"
)

// The captured members' own client ports, so conf's membership lines name
// them: three voters and an observer.
const (
	capturedFollower  = "127.0.0.1:44037"
	capturedLeader    = "127.0.0.1:40615"
	capturedFollower3 = "127.0.0.1:40747"
	capturedObserver  = "127.0.0.1:37661"
)

func capturedStates() map[string]string {
	return map[string]string{capturedFollower: "follower", capturedLeader: "leader", capturedFollower3: "follower#3", capturedObserver: "observer"}
}

func newTestRegistry(t *testing.T, cfg *config.Config, client WordClient, admin ...AdminCaller) *Registry {
	t.Helper()
	opts := Options{NewClient: func(*config.Ensemble) (WordClient, error) { return client, nil }}
	if len(admin) > 0 {
		opts.Admin = admin[0]
	}
	r, err := New(cfg, promslog.NewNopLogger(), opts)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func servers(t *testing.T, list string) *config.Config {
	t.Helper()
	cfg, err := config.FromServers("test", list)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func probe(t *testing.T, r *Registry) *Round {
	t.Helper()
	round, err := r.Probe(context.Background(), "test")
	if err != nil {
		t.Fatal(err)
	}
	return round
}

// Each member sees two words per round (srvr and mntr, at once); the
// membership (conf) is read from the leader alone, on the first round and
// then only when due.
func TestTwoWordsPerMemberPerRound(t *testing.T) {
	client := &zktest.ScriptedClient{States: capturedStates()}
	r := newTestRegistry(t, servers(t, capturedFollower+","+capturedLeader+","+capturedFollower3+","+capturedObserver+":observer"), client)
	first := probe(t, r)
	want := map[string]int{capturedFollower: 2, capturedLeader: 3, capturedFollower3: 2, capturedObserver: 2}
	if got := client.Words(); !equalCounts(got, want) {
		t.Errorf("first round: words %v, want %v", got, want)
	}
	if first.VoterSet.Source != SourceEnsemble {
		t.Errorf("voter set from %s, want the ensemble's own", first.VoterSet.Source)
	}
	for range 3 {
		probe(t, r)
	}
	want = map[string]int{capturedFollower: 8, capturedLeader: 9, capturedFollower3: 8, capturedObserver: 8}
	if got := client.Words(); !equalCounts(got, want) {
		t.Errorf("after four rounds: words %v, want %v", got, want)
	}
}

func equalCounts(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// A member configured as a voter that the ensemble says observes: it does
// not vote, and its loss leaves the margin as it was.
func TestConfiguredVoterThatObserves(t *testing.T) {
	states := capturedStates()
	client := &zktest.ScriptedClient{States: states}
	cfg := servers(t, capturedFollower+","+capturedLeader+","+capturedFollower3+","+capturedObserver) // observer configured as a voter
	r := newTestRegistry(t, cfg, client)
	round := probe(t, r)
	q := round.Quorum()
	if q.Voters != 3 || q.Margin != 1 || round.VoterSet.Matches == nil || *round.VoterSet.Matches {
		t.Fatalf("voters %d, margin %d, matches %v; want 3, 1, false", q.Voters, q.Margin, round.VoterSet.Matches)
	}
	if id := round.Members[3].ServerID; id != 4 {
		t.Errorf("the observer's server id %d, want 4 from the membership", id)
	}
	states[capturedObserver] = ""
	if q := probe(t, r).Quorum(); q.Margin != 1 {
		t.Errorf("after the observer's loss margin %d, want 1", q.Margin)
	}
}

func TestAdminServerStandsInForRefusedWords(t *testing.T) {
	cfg, err := config.Parse("test.yml", []byte(`
ensembles:
  - name: test
    members:
      - {address: "127.0.0.1:1", admin_url: "http://127.0.0.1:8080/commands"}
`))
	if err != nil {
		t.Fatal(err)
	}
	client := &zktest.ScriptedClient{States: map[string]string{"127.0.0.1:1": "not_whitelisted"}}
	admin := &zktest.ScriptedAdmin{States: map[string]string{"http://127.0.0.1:8080/commands": "not_whitelisted"}}
	member := probe(t, newTestRegistry(t, cfg, client, admin)).Members[0]
	if _, ok := member.Figures.Get(Watches); !ok {
		t.Error("mntr is refused and the AdminServer's monitor did not stand in: no watch count")
	}
	if !member.refused("mntr") || member.Mode != zk.ModeStandalone {
		t.Errorf("mntr refused %v, mode %s", member.refused("mntr"), member.Mode)
	}
}

// A scrape whose deadline comes first gets the members known by then, the
// frozen one down with reason deadline; the round goes on and a scrape
// with time to spare gets every member.
func TestPartialRoundAtTheDeadline(t *testing.T) {
	frozen := make(chan struct{})
	client := &gatedClient{ScriptedClient: zktest.ScriptedClient{States: capturedStates()}, gated: capturedFollower3, gate: frozen}
	r := newTestRegistry(t, servers(t, capturedFollower+","+capturedLeader+","+capturedFollower3), client)

	long := make(chan *Round)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		round, _ := r.Probe(ctx, "test")
		long <- round
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	short, err := r.Probe(ctx, "test")
	if err != nil {
		t.Fatal(err)
	}
	if !short.Partial || len(short.Members) != 3 {
		t.Fatalf("partial %v with %d members, want a partial round of 3", short.Partial, len(short.Members))
	}
	for _, m := range short.Members {
		wantUp := m.Address != capturedFollower3
		if m.Up != wantUp || !wantUp && m.Reason != ReasonDeadline {
			t.Errorf("%s: up %v reason %q", m.Address, m.Up, m.Reason)
		}
	}
	close(frozen)
	full := <-long
	if full.Partial || !full.Members[2].Up {
		t.Errorf("the later scrape got partial %v, frozen member up %v", full.Partial, full.Members[2].Up)
	}
}

// gatedClient holds one member's words until gate closes: a frozen member.
type gatedClient struct {
	zktest.ScriptedClient
	gated string
	gate  chan struct{}
}

func (c *gatedClient) CommandFunc(ctx context.Context, address, word string, use func([]byte) error) error {
	if address == c.gated {
		select {
		case <-c.gate:
		case <-ctx.Done():
			return &zk.Error{Word: word, Address: address, Reason: zk.ReasonTimeout, Err: ctx.Err()}
		}
	}
	return c.ScriptedClient.CommandFunc(ctx, address, word, use)
}

// A reload with the same configuration changes nothing: the outage in
// progress keeps its start; a changed ensemble of the same name keeps its
// availability history too.
func TestReloadKeepsAvailability(t *testing.T) {
	client := &zktest.ScriptedClient{States: map[string]string{"127.0.0.1:1": "not_serving"}}
	list := "127.0.0.1:1,127.0.0.1:2,127.0.0.1:3"
	r := newTestRegistry(t, servers(t, list), client)
	first := probe(t, r)
	since := first.Availability.UnavailableSince
	if since.IsZero() {
		t.Fatal("no outage under way")
	}
	if err := r.SetConfig(servers(t, list)); err != nil {
		t.Fatal(err)
	}
	if got := probe(t, r).Availability.UnavailableSince; !got.Equal(since) {
		t.Errorf("after a no-op reload the outage started %v, want %v", got, since)
	}
	if err := r.SetConfig(servers(t, list+",127.0.0.1:4:observer")); err != nil {
		t.Fatal(err)
	}
	second := probe(t, r)
	if got := second.Availability.UnavailableSince; !got.Equal(since) || second.Availability.Unavailable <= first.Availability.Unavailable {
		t.Errorf("after a changing reload the outage started %v (want %v), unavailable %v", got, since, second.Availability.Unavailable)
	}
}

func TestNextAvailability(t *testing.T) {
	start := time.Unix(1000, 0)
	type round struct {
		at        time.Duration // since start
		available bool
	}
	type want struct {
		available   bool
		hasLast     bool
		last        time.Duration
		unavailable time.Duration
	}
	tests := []struct {
		name   string
		rounds []round
		want   want
	}{
		{"always available", []round{{0, true}, {15 * time.Second, true}}, want{true, false, 0, 0}},
		{"unavailable from the first round", []round{{0, false}, {15 * time.Second, false}}, want{false, false, 0, 15 * time.Second}},
		{"an outage that ended", []round{{0, true}, {15 * time.Second, false}, {30 * time.Second, false}, {45 * time.Second, true}}, want{true, true, 30 * time.Second, 30 * time.Second}},
		{"two outages, the second still on", []round{{0, false}, {10 * time.Second, true}, {20 * time.Second, false}, {25 * time.Second, false}}, want{false, true, 10 * time.Second, 15 * time.Second}},
		{"two outages ended: last is the latest, the total both", []round{{0, false}, {10 * time.Second, true}, {20 * time.Second, false}, {23 * time.Second, true}}, want{true, true, 3 * time.Second, 13 * time.Second}},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			var a Availability
			for _, r := range test.rounds {
				a = a.next(start.Add(r.at), r.available)
			}
			got := want{a.Available, a.HasLast, a.LastUnavailability, a.Unavailable}
			if got != test.want {
				t.Errorf("availability = %+v, want %+v", got, test.want)
			}
		})
	}
}

func TestConfTriesDue(t *testing.T) {
	now := time.Unix(10000, 0)
	answered := confTries{last: now.Add(-10 * time.Second), epoch: 3, viewSize: 5, answered: true}
	tests := []struct {
		name  string
		tries confTries
		epoch uint32
		size  int
		want  bool
	}{
		{"never asked", confTries{}, 3, 5, true},
		{"answered 10s ago, nothing changed", answered, 3, 5, false},
		{"an election since", answered, 4, 5, true},
		{"voters changed since", answered, 3, 3, true},
		{"older than the refresh interval", confTries{last: now.Add(-DefaultConfRefresh - time.Second), epoch: 3, viewSize: 5, answered: true}, 3, 5, true},
		{"no answer 10s ago: wait", confTries{last: now.Add(-10 * time.Second)}, 3, 5, false},
		{"no answer 40s ago: retry", confTries{last: now.Add(-40 * time.Second)}, 3, 5, true},
		// 3.5: no zk_quorum_size, a reconfiguration shows in conf alone.
		{"no member counts its voters", confTries{last: now.Add(-time.Second), epoch: 3, answered: true}, 3, 0, true},
		{"no member counts its voters, no membership in conf (3.4): wait", confTries{last: now.Add(-time.Second), epoch: 3}, 3, 0, false},
	}
	for _, test := range tests {
		if got := test.tries.due(now, DefaultConfRefresh, test.epoch, test.size); got != test.want {
			t.Errorf("%s: due %v, want %v", test.name, got, test.want)
		}
	}
}

// The exporter configured with an address where a follower does not
// listen: the leader counts that follower synced, so the margin holds. The
// configured member is down and of unknown identity: it stands for no voter
// (taking it for the live voter the exporter cannot see would count that
// voter up whenever the address answers), and the live voter stays unseen.
// (Discovery off: with it, the follower is probed where the membership
// says it listens; see TestDiscovery.)
func TestFollowerTheExporterCannotReach(t *testing.T) {
	client := &zktest.ScriptedClient{States: capturedStates()}
	cfg := servers(t, capturedFollower+","+capturedLeader+",127.0.0.1:9,"+capturedObserver+":observer")
	cfg.Ensembles[0].Discover = config.DiscoverOff
	round := probe(t, newTestRegistry(t, cfg, client))
	q := round.Quorum()
	if q.Margin != 1 || q.Voters != 3 || q.VotersUp != 2 || q.VotersUnseenSynced != 1 || len(round.VoterSet.Unconfigured) != 1 || q.Observers != 1 {
		t.Errorf("got %+v, unconfigured %v; want margin 1, 3 voters, 2 up, 1 unseen synced, 1 unconfigured, 1 observer", q, round.VoterSet.Unconfigured)
	}
	if m := round.Members[2]; m.Up || m.Voter || !m.Unplaced {
		t.Errorf("the unreachable member: up %v voter %v unplaced %v", m.Up, m.Voter, m.Unplaced)
	}
}

// A membership is read again while the members count another number of
// voters than it lists, however the view stood when it was read.
func TestViewDisagrees(t *testing.T) {
	conf, err := zk.ParseConf(mustCaptured(t, "leader", "conf")) // 3 voters, 1 observer
	if err != nil {
		t.Fatal(err)
	}
	live, err := membershipOf(conf, capturedLeader, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	for _, test := range []struct {
		size int
		live *Membership
		want bool
	}{{3, live, false}, {2, live, true}, {4, live, true}, {0, live, false}, {3, nil, false}} {
		if got := viewDisagrees(test.size, test.live); got != test.want {
			t.Errorf("view of %d voters, membership %v: disagrees %v, want %v", test.size, test.live != nil, got, test.want)
		}
	}
}

func mustCaptured(t *testing.T, state, word string) []byte {
	t.Helper()
	answer, err := zktest.Captured(state, word)
	if err != nil {
		t.Fatal(err)
	}
	return answer
}
