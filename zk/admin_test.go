package zk

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestParseAdminCaptures(t *testing.T) {
	tests := []struct {
		state string
		mode  Mode
	}{
		{"leader", ModeLeader},
		{"follower", ModeFollower},
		{"observer", ModeObserver},
		{"standalone", ModeStandalone},
	}
	for _, test := range tests {
		t.Run(test.state, func(t *testing.T) {
			monitor, err := ParseAdminMonitor(capture(t, test.state, "admin_monitor.json"))
			if err != nil {
				t.Fatal(err)
			}
			if monitor.ServerState != test.mode {
				t.Errorf("monitor state %q, want %q", monitor.ServerState, test.mode)
			}
			if _, ok := monitor.Number("zk_znode_count"); !ok {
				t.Error("monitor has no zk_znode_count")
			}
		})
	}
	monitor, err := ParseAdminMonitor(capture(t, "leader", "admin_monitor.json"))
	if err != nil {
		t.Fatal(err)
	}
	if voters, ok := monitor.LeaderVoters(); !ok || voters != 3 {
		t.Errorf("leader monitor: LeaderVoters() = %d, %v; want 3", voters, ok)
	}
	for state, want := range map[string]bool{"leader": true, "follower": false, "leader_serves_no": true} {
		isLeader, err := ParseAdminLeader(capture(t, state, "admin_leader.json"))
		if err != nil || isLeader != want {
			t.Errorf("%s leader: %v, %v; want %v", state, isLeader, err, want)
		}
	}
}

// TestAdminClient replays captured AdminServer answers over real HTTP.
func TestAdminClient(t *testing.T) {
	replies := map[string]struct {
		status int
		body   []byte
	}{
		"/commands/stats":   {200, capture(t, "leader", "admin_stats.json")},
		"/commands/monitor": {500, capture(t, "not_serving", "admin_monitor.json")},
		"/commands/leader":  {200, capture(t, "not_serving", "admin_leader.json")},
		"/commands/ruok":    {404, []byte("not found")},
		"/commands/huge":    {200, []byte(strings.Repeat("x", 128<<10))},
	}
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reply, ok := replies[r.URL.Path]
		if !ok {
			reply.status = 404
		}
		w.WriteHeader(reply.status)
		_, _ = w.Write(reply.body)
	}))
	defer server.Close()
	client := &AdminClient{MaxAnswerBytes: 64 << 10}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	base := server.URL + "/commands"

	if answer, err := client.Command(ctx, base, "stats"); err != nil || !strings.Contains(string(answer), "server_stats") {
		t.Errorf("stats: %v", err)
	}
	for command, reason := range map[string]string{
		"monitor": ReasonNotServing, // 3.8 answers a 500 with a stack trace
		"leader":  ReasonNotServing, // {"error": "...not currently serving..."}
		"ruok":    ReasonHTTP,
		"huge":    ReasonAnswerTooLarge,
	} {
		_, err := client.Command(ctx, base, command)
		if got := Reason(err); got != reason {
			t.Errorf("%s: reason %q (%v), want %q", command, got, err, reason)
		}
	}
	if _, err := client.Command(ctx, base, "leader"); !errors.Is(err, ErrNotServing) {
		t.Errorf("leader without quorum: %v, want ErrNotServing", err)
	}
}

// The AdminServer's voting view lists the same voters, at the same
// addresses, as the same member's conf does.
func TestParseAdminVotingViewMatchesConf(t *testing.T) {
	for _, state := range []string{"leader", "follower", "observer", "reconfig_leader", "reconfig_removed"} {
		t.Run(state, func(t *testing.T) {
			view, err := ParseAdminVotingView(capture(t, state, "admin_voting_view.json"))
			if err != nil {
				t.Fatal(err)
			}
			conf, err := ParseConf(capture(t, state, "conf"))
			if err != nil {
				t.Fatal(err)
			}
			if got, want := fmt.Sprint(view), fmt.Sprint(conf.Voters()); got != want {
				t.Errorf("voting view %s\nconf voters %s", got, want)
			}
		})
	}
	if _, err := ParseAdminVotingView(capture(t, "not_serving", "admin_voting_view.json")); err == nil {
		t.Error("a not-serving member's voting view parsed")
	}
}
