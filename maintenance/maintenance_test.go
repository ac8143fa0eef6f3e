package maintenance

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/quorumwatch/zookeeper_exporter/config"
	"github.com/quorumwatch/zookeeper_exporter/ensemble"
	"github.com/quorumwatch/zookeeper_exporter/internal/zktest"
	"github.com/quorumwatch/zookeeper_exporter/quorum"
	"github.com/quorumwatch/zookeeper_exporter/zk"
)

const servers = "127.0.0.1:1,127.0.0.1:2,127.0.0.1:3,127.0.0.1:4,127.0.0.1:5,127.0.0.1:6:observer"

func healthy(overrides map[string]string) map[string]string {
	states := map[string]string{"127.0.0.1:1": "follower", "127.0.0.1:2": "follower", "127.0.0.1:3": "leader", "127.0.0.1:4": "follower", "127.0.0.1:5": "follower", "127.0.0.1:6": "observer"}
	for address, state := range overrides {
		states[address] = state
	}
	return states
}

func registry(t *testing.T, members *zktest.ModeMembers, list string) *ensemble.Registry {
	t.Helper()
	cfg, err := config.FromServers("m", list)
	if err != nil {
		t.Fatal(err)
	}
	r, err := ensemble.New(cfg, slog.New(slog.DiscardHandler), ensemble.Options{NewClient: func(*config.Ensemble) (ensemble.WordClient, error) { return members, nil }})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestPlanOrder(t *testing.T) {
	tests := []struct {
		name   string
		states map[string]string
		want   []string // member kind margin now
	}{
		{
			name:   "healthy: observer, followers by address, the leader last",
			states: healthy(nil),
			want: []string{
				"127.0.0.1:6 observer 2 ready", "127.0.0.1:1 follower 1 ready", "127.0.0.1:2 follower 1 ready",
				"127.0.0.1:4 follower 1 ready", "127.0.0.1:5 follower 1 ready", "127.0.0.1:3 leader 1 ready",
			},
		},
		{
			name:   "a follower down: every other voter blocked, the observer still ready",
			states: healthy(map[string]string{"127.0.0.1:2": ""}),
			want: []string{
				"127.0.0.1:6 observer 1 ready", "127.0.0.1:1 follower 0 blocked", "127.0.0.1:2 follower 1 blocked",
				"127.0.0.1:4 follower 0 blocked", "127.0.0.1:5 follower 0 blocked", "127.0.0.1:3 leader 0 blocked",
			},
		},
		{
			name:   "the leader moved: the old one is a follower now, the new one last",
			states: healthy(map[string]string{"127.0.0.1:3": "follower", "127.0.0.1:1": "leader"}),
			want: []string{
				"127.0.0.1:6 observer 2 ready", "127.0.0.1:2 follower 1 ready", "127.0.0.1:3 follower 1 ready",
				"127.0.0.1:4 follower 1 ready", "127.0.0.1:5 follower 1 ready", "127.0.0.1:1 leader 1 ready",
			},
		},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			members := &zktest.ModeMembers{}
			members.Set(test.states)
			round, err := registry(t, members, servers).Probe(context.Background(), "m")
			if err != nil {
				t.Fatal(err)
			}
			plan := PlanOf(round)
			var got []string
			for i, s := range plan.Steps {
				if s.Order != i+1 {
					t.Errorf("step %d has order %d", i+1, s.Order)
				}
				now := "ready"
				if !s.Now {
					now = "blocked"
				}
				got = append(got, strings.Join([]string{s.Member, s.Kind, strconv.Itoa(s.MarginWhileDown), now}, " "))
			}
			if strings.Join(got, "\n") != strings.Join(test.want, "\n") {
				t.Errorf("plan:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(test.want, "\n"))
			}
			var table strings.Builder
			if err := plan.WriteTable(&table); err != nil {
				t.Fatal(err)
			}
			for _, s := range plan.Steps {
				if !s.Now && !strings.Contains(table.String(), s.Reason) {
					t.Errorf("the table does not say why %s is blocked (%s):\n%s", s.Member, s.Reason, table.String())
				}
			}
		})
	}
}

// A prober whose rounds the test scripts, one per call.
type scripted struct {
	rounds []func() (*ensemble.Round, error)
	calls  int
}

func (s *scripted) Probe(context.Context, string) (*ensemble.Round, error) {
	f := s.rounds[min(s.calls, len(s.rounds)-1)]
	s.calls++
	return f()
}

func TestWatchSettles(t *testing.T) {
	members := &zktest.ModeMembers{}
	members.Set(healthy(nil))
	reg := registry(t, members, servers)
	fresh := func() (*ensemble.Round, error) { return reg.Probe(context.Background(), "m") }
	partial := func() (*ensemble.Round, error) {
		r, err := fresh()
		copied := *r
		copied.Partial = true
		return &copied, err
	}
	stale := func() (*ensemble.Round, error) {
		r, err := fresh()
		copied := *r
		copied.Time = r.Time.Add(-time.Minute)
		return &copied, err
	}
	failed := func() (*ensemble.Round, error) { return nil, errors.New("no configuration") }
	tests := []struct {
		name     string
		rounds   []func() (*ensemble.Round, error)
		failFast bool
		wantErr  string // "" for settled
		calls    int
	}{
		{"three fresh rounds settle", []func() (*ensemble.Round, error){fresh}, false, "", 3},
		{"a partial round starts the count again", []func() (*ensemble.Round, error){fresh, fresh, partial, fresh, fresh, fresh}, false, "", 6},
		{"a stale round starts the count again", []func() (*ensemble.Round, error){fresh, stale, fresh, fresh, fresh}, false, "", 5},
		{"never fresh: times out, saying why", []func() (*ensemble.Round, error){stale}, false, "older than the settle period", 0},
		{"an error cannot tell, even failing fast", []func() (*ensemble.Round, error){failed}, true, "cannot tell: no configuration", 0},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			prober := &scripted{rounds: test.rounds}
			w := Watch{Prober: prober, Ensemble: "m", Interval: time.Millisecond, Settle: 3, RoundTimeout: time.Second}
			// The cases that settle end when they do: their deadline only
			// bounds a failure. The others wait for it.
			within := 300 * time.Millisecond
			if test.wantErr == "" {
				w.Interval = 20 * time.Millisecond // a loaded machine's round must stay fresh
				within = time.Minute
			}
			ctx, cancel := context.WithTimeout(context.Background(), within)
			defer cancel()
			_, _, err := w.Until(ctx, SafeToStop("127.0.0.1:1"), test.failFast)
			switch {
			case test.wantErr == "" && err != nil:
				t.Fatalf("did not settle: %v", err)
			case test.wantErr == "" && prober.calls != test.calls:
				t.Errorf("settled after %d rounds, want %d", prober.calls, test.calls)
			case test.wantErr != "" && (err == nil || !strings.Contains(err.Error(), test.wantErr)):
				t.Errorf("err = %v, want one saying %q", err, test.wantErr)
			}
		})
	}
}

func TestWatchFailsFast(t *testing.T) {
	members := &zktest.ModeMembers{}
	members.Set(map[string]string{"127.0.0.1:1": "leader", "127.0.0.1:2": "follower"})
	w := Watch{Prober: registry(t, members, "127.0.0.1:1,127.0.0.1:2,127.0.0.1:3"), Ensemble: "m", Interval: 50 * time.Millisecond, RoundTimeout: time.Second}
	_, check, err := w.Until(context.Background(), SafeToStop("127.0.0.1:2"), true)
	if !errors.Is(err, ErrUnsafe) || !strings.Contains(check.Reason, "not in quorum: 127.0.0.1:3 (down") {
		t.Errorf("err %v, reason %q: want unsafe naming the voter down", err, check.Reason)
	}
}

func TestGate(t *testing.T) {
	members := &zktest.ModeMembers{}
	gate := httptest.NewServer(Gate(registry(t, members, servers), 5*time.Second))
	defer gate.Close()
	tests := []struct {
		name   string
		states map[string]string
		path   string
		want   int
		says   string
	}{
		{"healthy follower", healthy(nil), "m/members/127.0.0.1:1/can-stop", http.StatusOK, `"safe": true`},
		{"a follower with another voter down", healthy(map[string]string{"127.0.0.1:2": ""}), "m/members/127.0.0.1:1/can-stop", http.StatusConflict, "127.0.0.1:2 is not in quorum"},
		{"unknown member", healthy(nil), "m/members/127.0.0.1:9/can-stop", http.StatusNotFound, "no member 127.0.0.1:9"},
		{"unknown ensemble", healthy(nil), "nope/plan", http.StatusNotFound, "not configured"},
		{"plan", healthy(nil), "m/plan", http.StatusOK, `"kind": "leader"`},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			members.Set(test.states)
			response, err := http.Get(gate.URL + GatePrefix + test.path)
			if err != nil {
				t.Fatal(err)
			}
			defer response.Body.Close()
			var body strings.Builder
			_, _ = io.Copy(&body, response.Body)
			if response.StatusCode != test.want || !strings.Contains(body.String(), test.says) {
				t.Errorf("%s: %d %s; want %d saying %q", test.path, response.StatusCode, body.String(), test.want, test.says)
			}
		})
	}
}

// A round in which a member had not answered by the deadline cannot tell:
// the gate answers 503, never 200.
func TestGateCannotTell(t *testing.T) {
	members := &zktest.ModeMembers{}
	members.Set(healthy(nil))
	reg := registry(t, members, servers)
	partial := func() (*ensemble.Round, error) {
		r, err := reg.Probe(context.Background(), "m")
		copied := *r
		copied.Partial = true
		return &copied, err
	}
	gate := httptest.NewServer(Gate(&scripted{rounds: []func() (*ensemble.Round, error){partial}}, time.Second))
	defer gate.Close()
	for _, path := range []string{"m/members/127.0.0.1:1/can-stop", "m/plan"} {
		response, err := http.Get(gate.URL + GatePrefix + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(response.Body)
		response.Body.Close()
		if response.StatusCode != http.StatusServiceUnavailable || strings.Contains(string(body), `"safe": true`) {
			t.Errorf("%s on a partial round: %d %s, want 503", path, response.StatusCode, body)
		}
	}
}

// CaughtUp waits for the leader's zxid as of the first round that saw the
// member serve, and for the quorum to count it.
func TestCaughtUpCondition(t *testing.T) {
	round := func(leaderZxid, memberZxid uint64, counted int) *ensemble.Round {
		m := func(address string, mode zk.Mode, zxid uint64) *ensemble.ProbedMember {
			return &ensemble.ProbedMember{Member: &config.Member{Address: address}, Up: true, Voter: true, Mode: mode, Zxid: zk.Zxid(zxid), ZxidKnown: true}
		}
		return &ensemble.Round{
			Ensemble:   &config.Ensemble{Name: "m"},
			Members:    []*ensemble.ProbedMember{m("l", zk.ModeLeader, leaderZxid), m("f", zk.ModeFollower, memberZxid), m("g", zk.ModeFollower, leaderZxid)},
			Assessment: quorum.Assessment{Leader: 0, Quorum: quorum.Ensemble{Voters: 3, VotersInQuorum: counted, QuorumSize: 2, FaultTolerance: 1, Margin: counted - 2}},
		}
	}
	cond := CaughtUp("f")
	steps := []struct {
		name  string
		round *ensemble.Round
		ok    bool
		says  string
	}{
		{"serving 16 behind: the leader's zxid now is the target", round(0x1_00000020, 0x1_00000010, 3), false, "lacks 16 transactions of the leader's 0x100000020"},
		{"still behind the target", round(0x1_00000020, 0x1_0000001f, 3), false, "lacks 1 transactions"},
		{"at the target", round(0x1_00000020, 0x1_00000020, 3), true, "has caught up"},
		{"the leader moved on: within the lag is enough", round(0x1_00000030, 0x1_00000025, 3), true, "has caught up"},
		{"the leader counts one voter fewer than serve", round(0x1_00000030, 0x1_00000030, 2), false, "the quorum counts 2 voters of the 3 seen"},
	}
	for _, step := range steps {
		check := cond(step.round)
		if check.OK != step.ok || !check.Known || !strings.Contains(check.Reason, step.says) {
			t.Errorf("%s: %+v, want ok %v saying %q", step.name, check, step.ok, step.says)
		}
	}
}
