package standin

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/quorumwatch/zookeeper_exporter/zk"
)

// TestEnsembleIsCoherent: what the stand-ins answer parses as a real 3.8
// ensemble would, and the members agree on who votes and who leads.
func TestEnsembleIsCoherent(t *testing.T) {
	cases := []struct {
		name          string
		roles         []Role
		wantVoters    int
		wantObservers float64
	}{
		{"five voters", nil, 5, 0},
		{"three voters and an observer", []Role{Follower, Leader, Follower, Observer}, 3, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			stand, err := Start(Config{Ensembles: 2, Roles: c.roles, Delay: time.Millisecond, MaxDuration: time.Minute})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { stand.Close() })
			if got := len(stand.Ensembles()); got != 2 {
				t.Fatalf("%d ensembles, want 2", got)
			}
			for _, members := range stand.Ensembles() {
				checkEnsemble(t, members, c.wantVoters, c.wantObservers)
			}
		})
	}
}

func checkEnsemble(t *testing.T, members []*Member, wantVoters int, wantObservers float64) {
	t.Helper()
	client := &zk.Client{Timeout: 10 * time.Second}
	ctx := context.Background()
	var configured []string
	for _, member := range members {
		configured = append(configured, member.Address)
	}
	for _, member := range members {
		srvr := ask(t, client, member, "srvr", zk.ParseSrvr)
		if string(srvr.Mode) != string(member.Role) {
			t.Errorf("%s: srvr mode %q, want %q", member.Address, srvr.Mode, member.Role)
		}
		mntr := ask(t, client, member, "mntr", zk.ParseMntr)
		if size, _ := mntr.Number("zk_quorum_size"); int(size) != wantVoters {
			t.Errorf("%s: zk_quorum_size %v, want %d", member.Address, size, wantVoters)
		}
		voters, ok := mntr.LeaderVoters()
		if member.Role == Leader && (!ok || voters != wantVoters) {
			t.Errorf("leader counts %d voters (%v), want %d", voters, ok, wantVoters)
		}
		if observers, _ := mntr.Number("zk_synced_observers"); member.Role == Leader && observers != wantObservers {
			t.Errorf("leader counts %v synced observers, want %v", observers, wantObservers)
		}
		conf := ask(t, client, member, "conf", zk.ParseConf)
		var listed []string
		for _, server := range conf.Servers {
			listed = append(listed, server.ClientAddress)
		}
		if conf.ServerID != member.ServerID || !slices.Equal(listed, configured) || len(conf.Voters()) != wantVoters {
			t.Errorf("%s: conf says server %d, members %v (%d voters); want %d, %v",
				member.Address, conf.ServerID, listed, len(conf.Voters()), member.ServerID, configured)
		}
		if answer, err := client.Command(ctx, member.Address, "ruok"); err != nil || string(answer) != "imok" {
			t.Errorf("%s: ruok = %q, %v", member.Address, answer, err)
		}
	}
}

func ask[T any](t *testing.T, client *zk.Client, member *Member, word string, parse func([]byte) (T, error)) T {
	t.Helper()
	answer, err := client.Command(context.Background(), member.Address, word)
	if err != nil {
		t.Fatalf("%s: %v", member.Address, err)
	}
	parsed, err := parse(answer)
	if err != nil {
		t.Fatalf("%s: %s: %v", member.Address, word, err)
	}
	return parsed
}

// TestWordCounts: every word is counted on the member that received it,
// unknown words as "other".
func TestWordCounts(t *testing.T) {
	stand, err := Start(Config{Roles: []Role{Leader, Follower, Follower}, MaxDuration: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stand.Close() })
	client := &zk.Client{Timeout: 10 * time.Second}
	members := stand.Ensembles()[0]
	sent := []struct {
		member int
		word   string
	}{{0, "srvr"}, {0, "srvr"}, {0, "mntr"}, {1, "conf"}, {1, "wchs"}}
	for _, s := range sent {
		_, _ = client.Command(context.Background(), members[s.member].Address, s.word)
	}
	want := map[string]map[string]int64{
		members[0].Address: {"srvr": 2, "mntr": 1},
		members[1].Address: {"conf": 1, "other": 1},
		members[2].Address: {},
	}
	got := stand.WordCounts()
	for address, words := range want {
		for word, n := range words {
			if got[address][word] != n {
				t.Errorf("%s received %d %s, want %d (all: %v)", address, got[address][word], word, n, got[address])
			}
		}
		if len(got[address]) != len(words) {
			t.Errorf("%s counts %v, want %v", address, got[address], words)
		}
	}
}

// TestStopsByItself: after MaxDuration the members are gone.
func TestStopsByItself(t *testing.T) {
	stand, err := Start(Config{Ensembles: 1, MaxDuration: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stand.Close() })
	<-stand.Done()
	stand.Close() // waits for the listeners to end
	_, err = (&zk.Client{Timeout: 10 * time.Second}).Command(context.Background(), stand.Addresses()[0], "srvr")
	if zk.Reason(err) != zk.ReasonRefused {
		t.Errorf("srvr after MaxDuration: %v, want connection refused", err)
	}
}

func TestStartRefusesIncoherentRoles(t *testing.T) {
	for _, roles := range [][]Role{{Follower, Follower}, {Leader, Leader}, {Leader, "candidate"}} {
		if stand, err := Start(Config{Roles: roles}); err == nil {
			stand.Close()
			t.Errorf("Start(%v) succeeded", roles)
		}
	}
}
