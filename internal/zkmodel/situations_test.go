package zkmodel_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/quorumwatch/zookeeper_exporter/internal/zkmodel"
	"github.com/quorumwatch/zookeeper_exporter/zk"
)

// Situations where the margin or "safe to stop" was once wrong, as model
// cases: each step changes the state, and the round after it must pass
// every property (check) and read the margin the truth gives. They document
// the cases; the generator is what proves the rules.

// servers builds running servers 1..voters as participants and the next
// observers as observers, on release, every word allowed.
func servers(voters, observers int, release string) []*zkmodel.Server {
	var out []*zkmodel.Server
	for id := 1; id <= voters+observers; id++ {
		out = append(out, &zkmodel.Server{ID: id, Member: true, Participant: id <= voters, Weight: 1, Release: release})
	}
	return out
}

// listAll lists every server, roles given as they are unless asVoters says
// to call observers voters.
func listAll(e *zkmodel.Ensemble, asVoters bool) []zkmodel.Listed {
	var out []zkmodel.Listed
	for _, s := range e.Servers {
		out = append(out, zkmodel.Listed{ID: s.ID, Observer: !s.Participant && !asVoters, ServerID: true})
	}
	return out
}

func grouped(servers []*zkmodel.Server, groups map[int]int, weights map[int]int) []*zkmodel.Server {
	for _, s := range servers {
		s.Group = groups[s.ID]
		if w, ok := weights[s.ID]; ok {
			s.Weight = w
		}
	}
	return servers
}

type situationStep struct {
	name   string
	do     func(e *zkmodel.Ensemble)
	margin int
	// safe lists servers that must (true) or must not (false) be called
	// safe to stop.
	safe map[int]bool
}

func stop(ids ...int) func(*zkmodel.Ensemble) {
	return func(e *zkmodel.Ensemble) {
		for _, id := range ids {
			e.Server(id).Process = zkmodel.Stopped
		}
	}
}

func hide(ids ...int) func(*zkmodel.Ensemble) {
	return func(e *zkmodel.Ensemble) {
		for _, id := range ids {
			e.Server(id).Hidden = true
		}
	}
}

func TestModelSituations(t *testing.T) {
	srvrOnly := func(servers []*zkmodel.Server) []*zkmodel.Server {
		for _, s := range servers {
			s.SrvrOnly = true
		}
		return servers
	}
	tests := []struct {
		name     string
		ensemble *zkmodel.Ensemble
		listing  func(*zkmodel.Ensemble) []zkmodel.Listed
		oracle   bool
		steps    []situationStep
	}{
		{
			name:     "1: an observer configured as a voter, srvr only, then killed",
			ensemble: &zkmodel.Ensemble{Servers: srvrOnly(servers(3, 1, "3.8.6")), LeaderServes: true},
			listing:  func(e *zkmodel.Ensemble) []zkmodel.Listed { return listAll(e, true) },
			steps: []situationStep{
				{name: "healthy", margin: 1},
				{name: "observer killed", do: stop(4), margin: 1},
			},
		},
		{
			name: "2: weight-0 participants (group.1=1:2:3:4:5, weight.4=weight.5=0)",
			ensemble: &zkmodel.Ensemble{Hierarchical: true, LeaderServes: true,
				Servers: grouped(servers(5, 0, "3.8.6"), map[int]int{1: 1, 2: 1, 3: 1, 4: 1, 5: 1}, map[int]int{4: 0, 5: 0})},
			steps: []situationStep{
				{name: "every member up", margin: 1},
				{name: "the weight-0 members killed", do: stop(4, 5), margin: 1},
			},
		},
		{
			name: "2: group.1=1:4 group.2=2 group.3=3 weight.4=0",
			ensemble: &zkmodel.Ensemble{Hierarchical: true, LeaderServes: true,
				Servers: grouped(servers(4, 0, "3.8.6"), map[int]int{1: 1, 4: 1, 2: 2, 3: 3}, map[int]int{4: 0})},
			steps: []situationStep{{name: "every member up", margin: 1}},
		},
		{
			name: "3: an observer with a weight in a group.N line, 2 groups",
			// group.1=1:2:5 (5 observes), group.2=3:4: group 1 needs both of
			// its voters, so stopping either loses quorum.
			ensemble: &zkmodel.Ensemble{Hierarchical: true, LeaderServes: true,
				Servers: grouped(servers(4, 1, "3.8.6"), map[int]int{1: 1, 2: 1, 5: 1, 3: 2, 4: 2}, nil)},
			steps: []situationStep{{name: "every member up", margin: 0, safe: map[int]bool{1: false, 2: false, 5: true}}},
		},
		{
			name: "4: groups {1,2},{3,4},{5,6}, the leader counts 5 of 6, 5 out of reach",
			ensemble: &zkmodel.Ensemble{Hierarchical: true, LeaderServes: true, LeaderPick: 0,
				Servers: grouped(servers(6, 0, "3.8.6"), map[int]int{1: 1, 2: 1, 3: 2, 4: 2, 5: 3, 6: 3}, nil)},
			steps: []situationStep{
				{name: "6 frozen, 5 hidden", do: func(e *zkmodel.Ensemble) {
					e.Server(6).Process = zkmodel.Frozen
					e.Server(5).Hidden = true
				}, margin: 0, safe: map[int]bool{3: false, 4: false}},
			},
		},
		{
			name: "7: ZooKeeper 3.5, one voter down, a removed server still following",
			ensemble: &zkmodel.Ensemble{LeaderServes: true, Servers: append(servers(3, 0, "3.5.10"),
				&zkmodel.Server{ID: 4, Member: false, Participant: true, Weight: 1, Release: "3.5.10"})},
			steps: []situationStep{{name: "voter 3 down", do: stop(3), margin: 0}},
		},
		{
			name:     "8: QuorumOracleMaj, two voters, one down",
			ensemble: &zkmodel.Ensemble{Oracle: true, LeaderServes: true, Servers: servers(2, 0, "3.8.6")},
			oracle:   true,
			steps: []situationStep{
				{name: "both up", margin: 1},
				{name: "one down", do: stop(2), margin: 0},
			},
		},
		{
			name:     "9: only the observer in reach",
			ensemble: &zkmodel.Ensemble{LeaderServes: true, Servers: servers(3, 1, "3.8.6")},
			steps:    []situationStep{{name: "voters hidden", do: hide(1, 2, 3), margin: 0}},
		},
		{
			name: "10: conf refused, the AdminServer answering, a voter removed by reconfig",
			ensemble: &zkmodel.Ensemble{LeaderServes: true, LeaderPick: 0, Servers: func() []*zkmodel.Server {
				servers := srvrOnly(servers(4, 0, "3.8.6"))
				for _, s := range servers {
					s.Admin = true
				}
				return servers
			}()},
			listing: func(e *zkmodel.Ensemble) []zkmodel.Listed {
				listed := listAll(e, false)
				for i := range listed {
					listed[i].Admin = true
				}
				return listed
			},
			steps: []situationStep{
				{name: "healthy", margin: 1},
				{name: "4 removed, then stopped", do: func(e *zkmodel.Ensemble) {
					e.Server(4).Member, e.Server(4).Process = false, zkmodel.Stopped
					e.ConfigVersion++
				}, margin: 1},
			},
		},
		{
			// Found by make model: the stale leader was taken for the leader,
			// though the observer it does not lead is in a newer epoch.
			name:     "a stale leader and an observer of the newer epoch, the only members in reach",
			ensemble: &zkmodel.Ensemble{LeaderServes: true, StaleLeader: true, Servers: servers(3, 1, "3.9.5")},
			listing: func(e *zkmodel.Ensemble) []zkmodel.Listed {
				return []zkmodel.Listed{{ID: 3, ServerID: true}, {ID: 4, Observer: true, ServerID: true}}
			},
			steps: []situationStep{{name: "3 cut off after an election", do: func(e *zkmodel.Ensemble) {
				e.Server(e.Leader().ID).Process = zkmodel.Stopped
				e.Settle()
				e.Server(3).Side = 1
				for _, s := range e.Servers {
					s.Process = zkmodel.Running
				}
				if e.Settle(); e.Server(3).Mode() != "leader" || e.Leader().ID == 3 {
					panic("the state is not the one this case is about:\n" + e.String())
				}
			}, margin: 0}},
		},
		{
			// Found by make model: the stale leader's exact count says its
			// quorum is gone, which says nothing of the voters out of sight.
			name:     "a stale leader whose count says the quorum is gone, the new quorum out of sight",
			ensemble: &zkmodel.Ensemble{LeaderServes: true, StaleLeader: true, LeaderPick: 1, Servers: servers(5, 0, "3.9.5")},
			listing: func(e *zkmodel.Ensemble) []zkmodel.Listed {
				return []zkmodel.Listed{{ID: 1, ServerID: true}, {ID: 4, ServerID: true}}
			},
			steps: []situationStep{{name: "1 cut off after an election, 4 stopped", do: func(e *zkmodel.Ensemble) {
				e.Server(e.Leader().ID).Process = zkmodel.Stopped
				e.Settle()
				for _, s := range e.Servers {
					s.Process = zkmodel.Running
				}
				e.Server(1).Side = 1
				e.Server(4).Process = zkmodel.Stopped
				if e.Settle(); e.Server(1).Mode() != "leader" || e.Leader().ID == 1 {
					panic("the state is not the one this case is about:\n" + e.String())
				}
			}, margin: -2}},
		},
		{
			name: "11: a configured hierarchy, conf refused, more voters in the view than configured",
			// The leader (5) answers mntr but not conf: zk_quorum_size 5.
			ensemble: &zkmodel.Ensemble{Hierarchical: true, LeaderServes: true, LeaderPick: 3,
				Servers: grouped(servers(5, 0, "3.8.6"), map[int]int{1: 1, 2: 1, 3: 2, 4: 2, 5: 2}, nil)},
			listing: func(e *zkmodel.Ensemble) []zkmodel.Listed {
				for _, s := range e.Servers {
					s.SrvrOnly, s.NoConf = s.ID != 5, s.ID == 5
				}
				var out []zkmodel.Listed
				for _, id := range []int{1, 2, 3, 5} {
					out = append(out, zkmodel.Listed{ID: id, ServerID: true, Group: true})
				}
				return out
			},
			steps: []situationStep{{name: "4 not configured, 3 down", do: stop(3), margin: 0}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := tt.ensemble
			e.ConfigVersion = 0x100000000
			e.Settle()
			listing := listAll(e, false)
			if tt.listing != nil {
				listing = tt.listing(e)
			}
			c := &zkmodel.Case{Ensemble: e, Listing: listing, OracleConfigured: tt.oracle}
			registry, err := newEngine(c)
			if err != nil {
				t.Fatalf("%v\n%s", err, c)
			}
			told := map[int]bool{}
			for _, step := range tt.steps {
				if step.do != nil {
					step.do(e)
					e.Settle()
				}
				round, err := registry.Probe(context.Background(), "model")
				if err != nil {
					t.Fatal(err)
				}
				for _, m := range round.Members {
					if m.Up && m.Mode == zk.ModeObserver {
						told[serverAt(m.Address)] = true
					}
				}
				report := fmt.Sprintf("%s\n%s", c, describe(round))
				if err := check(c, round, told); err != nil {
					t.Fatalf("%s: %v\n%s", step.name, err, report)
				}
				if got := round.Quorum().Margin; got != step.margin {
					t.Errorf("%s: margin %d, want %d (true %d)\n%s", step.name, got, step.margin, e.TrueMargin(), report)
				}
				for i, m := range round.Members {
					if want, ok := step.safe[serverAt(m.Address)]; ok && round.Assessment.Members[i].Safe != want {
						t.Errorf("%s: server %d safe to stop %v, want %v (%s)", step.name, serverAt(m.Address), !want, want, round.Assessment.Members[i].Reason)
					}
				}
			}
		})
	}
}
