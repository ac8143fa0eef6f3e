// Package zkmodel is a model of a ZooKeeper ensemble for property tests of
// the probe engine: servers with ids, roles, groups and weights, the release
// each runs, its whitelist and AdminServer, and a state (which processes
// run, are stopped or frozen, which reach each other, whom the exporter
// reaches). From the state it settles who leads and who is synced by
// ZooKeeper's rules, writes every member's exact answers in its release's
// dialect (answers.go), and computes the true quorum margin by brute force
// (truth.go), with no code shared with the engine's arithmetic.
//
// It models a settled ensemble: elections are over and every leader has
// noticed every lost follower. The moments in between (an election, a
// leader that has not yet dropped a frozen follower) are what the fault
// campaign on real ensembles checks.
package zkmodel

import (
	"fmt"
	"sort"
	"strings"
)

// Process is the state of a server's process.
type Process int

// Process states.
const (
	Running Process = iota
	Stopped         // no process: connections are refused
	Frozen          // SIGSTOP: connections are accepted, nothing answers
)

func (p Process) String() string {
	return [...]string{"running", "stopped", "frozen"}[p]
}

// Server is one ZooKeeper server of the model.
type Server struct {
	ID int
	// Member: listed in the live membership. A server removed by reconfig
	// (Member false) may go on running and following the leader.
	Member bool
	// Participant: a voting member (else an observer). Weight-0
	// participants are voters that never count.
	Participant bool
	// Group and Weight place the server in a hierarchical quorum (Group 0:
	// in no group). An observer may be listed in a group: its weight counts
	// in the group's total, though it never acks.
	Group, Weight int
	// Release is the ZooKeeper version it runs, e.g. "3.8.4".
	Release string
	// SrvrOnly: 4lw.commands.whitelist lets only srvr through (the default
	// since 3.5); else every word is allowed.
	SrvrOnly bool
	// NoConf: the whitelist lets every word through but conf.
	NoConf bool
	// Admin: the AdminServer answers (3.5+).
	Admin bool
	// Datacenter is where the server runs.
	Datacenter string

	Process Process
	// Side is the server's side of a network partition: servers reach
	// each other when they are on the same side.
	Side int
	// Hidden: the exporter cannot reach it (its probes time out).
	Hidden bool

	// Settled state, set by Settle.
	mode     string // leader, follower, observer, not_serving, standalone
	zxid     uint64
	lastZxid uint64
	stale    bool // a leader of an older epoch that has not stepped down
}

// Ensemble is the model of one ensemble and its state.
type Ensemble struct {
	Servers []*Server
	// Hierarchical: group.N/weight.N lines decide quorums.
	Hierarchical bool
	// Oracle: QuorumOracleMaj (3.8+, oraclePath) with two voters: one voter
	// alone keeps a quorum when the oracle says so (here it always does).
	Oracle bool
	// LeaderServes is false with leaderServes=no: the leader answers "not
	// serving" to clients and to the words.
	LeaderServes bool
	// ConfigVersion is the membership's version= (a zxid).
	ConfigVersion uint64
	// LeaderPick chooses among the possible leaders of an election: which
	// voter wins is not fixed.
	LeaderPick int
	// StaleLeader: a voter cut off from the quorum still says leader, in
	// an older epoch, until it notices (syncLimit), while the quorum has a
	// new leader: two members say leader. (A leader that has lost its
	// quorum with no new one elected is a moment of an election, which the
	// model leaves to the campaigns on real ensembles.)
	StaleLeader bool

	epoch   uint32
	counter uint32
	leader  *Server
}

// Server returns the server with the given id, or nil.
func (e *Ensemble) Server(id int) *Server {
	for _, s := range e.Servers {
		if s.ID == id {
			return s
		}
	}
	return nil
}

// Clone returns a deep copy, to change without touching e.
func (e *Ensemble) Clone() *Ensemble {
	c := *e
	c.Servers = make([]*Server, len(e.Servers))
	for i, s := range e.Servers {
		copied := *s
		c.Servers[i] = &copied
		if e.leader == s {
			c.leader = &copied
		}
	}
	return &c
}

// Voter reports whether the server votes: a participant of the membership.
func (s *Server) Voter() bool { return s.Member && s.Participant }

// up: the process runs and answers.
func (s *Server) up() bool { return s.Process == Running }

// Mode is the server's settled mode.
func (s *Server) Mode() string { return s.mode }

// Leader returns the serving leader (with leaderServes=no, the leader that
// does not serve), nil without a quorum.
func (e *Ensemble) Leader() *Server { return e.leader }

// Settle runs ZooKeeper's rules on the state: the side whose running
// voters form a quorum elects a leader (never a weight-0 one), the running
// learners on that side sync with it and serve, everyone else looks for a
// leader and does not serve. A new leader starts a new epoch.
func (e *Ensemble) Settle() {
	previous := e.leader
	e.leader = nil
	var candidates []*Server
	for _, side := range e.sides() {
		acking := map[int]bool{}
		for _, s := range e.Servers {
			if s.Side == side && s.up() && s.Voter() {
				acking[s.ID] = true
			}
		}
		if !e.quorum(acking) {
			continue
		}
		for _, s := range e.Servers {
			if acking[s.ID] && e.weight(s) > 0 {
				candidates = append(candidates, s)
			}
		}
		break // quorums intersect: at most one side holds one
	}
	if len(candidates) > 0 {
		e.leader = candidates[e.LeaderPick%len(candidates)]
		if previous == nil || previous.ID != e.leader.ID || previous.Process != Running {
			e.epoch++
			e.counter = 0
		}
		e.counter++ // the new configuration or a write
	}
	e.assignModes()
}

// assignModes sets each server's mode and zxid from the leader chosen.
func (e *Ensemble) assignModes() {
	current := uint64(e.epoch)<<32 | uint64(e.counter)
	staleDone := false
	for _, s := range e.Servers {
		s.stale = false
		synced := e.leader != nil && s.up() && s.Side == e.leader.Side
		switch {
		case !s.up():
			s.mode = ""
		case synced && s == e.leader:
			s.mode = "leader"
		case synced && s.Member && !s.Participant:
			s.mode = "observer"
		case synced:
			s.mode = "follower" // a removed server still following says so too
		case e.StaleLeader && !staleDone && s.Voter() && e.leader != nil && e.epoch > 1:
			s.mode, s.stale, staleDone = "leader", true, true
		default:
			s.mode = "not_serving"
		}
		switch {
		case synced:
			s.zxid, s.lastZxid = current, current
		case s.stale:
			s.zxid = uint64(e.epoch-1)<<32 | 7
		default:
			s.zxid = s.lastZxid
		}
	}
}

// sides lists the partition sides of running servers, in order.
func (e *Ensemble) sides() []int {
	seen := map[int]bool{}
	var out []int
	for _, s := range e.Servers {
		if !seen[s.Side] {
			seen[s.Side] = true
			out = append(out, s.Side)
		}
	}
	sort.Ints(out)
	return out
}

// weight is the server's weight in its group; 1 under a simple majority.
func (e *Ensemble) weight(s *Server) int {
	if !e.Hierarchical {
		return 1
	}
	return s.Weight
}

// voters are the voting members (weight-0 participants included).
func (e *Ensemble) voters() []*Server {
	var out []*Server
	for _, s := range e.Servers {
		if s.Voter() {
			out = append(out, s)
		}
	}
	return out
}

// quorum is ZooKeeper's containsQuorum for the acking voters: QuorumMaj
// (more than half of the voting members), QuorumHierarchical (more than
// half of the groups of non-zero weight, each holding more than half of
// its total weight, observers named in the group counted in the total), or
// QuorumOracleMaj (two voters: one is enough, the oracle consenting).
func (e *Ensemble) quorum(acking map[int]bool) bool {
	voters := e.voters()
	if !e.Hierarchical {
		n := 0
		for _, v := range voters {
			if acking[v.ID] {
				n++
			}
		}
		if e.Oracle && len(voters) == 2 {
			return n >= 1
		}
		return 2*n > len(voters)
	}
	total, held := map[int]int{}, map[int]int{}
	for _, s := range e.Servers {
		if !s.Member || s.Group == 0 {
			continue
		}
		total[s.Group] += s.Weight
		if s.Voter() && acking[s.ID] {
			held[s.Group] += s.Weight
		}
	}
	groups, majorities := 0, 0
	for g, t := range total {
		if t == 0 {
			continue
		}
		groups++
		if held[g] > t/2 {
			majorities++
		}
	}
	return 2*majorities > groups
}

// String describes the state in one line per server, for failure reports.
func (e *Ensemble) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "hierarchical=%v oracle=%v leaderServes=%v staleLeader=%v configVersion=%x leaderPick=%d\n",
		e.Hierarchical, e.Oracle, e.LeaderServes, e.StaleLeader, e.ConfigVersion, e.LeaderPick)
	for _, s := range e.Servers {
		role := "participant"
		if !s.Participant {
			role = "observer"
		}
		if !s.Member {
			role += "(removed)"
		}
		fmt.Fprintf(&b, "  server.%d %s group=%d weight=%d release=%s srvrOnly=%v noConf=%v admin=%v dc=%q %s side=%d hidden=%v -> %s\n",
			s.ID, role, s.Group, s.Weight, s.Release, s.SrvrOnly, s.NoConf, s.Admin, s.Datacenter, s.Process, s.Side, s.Hidden, s.mode)
	}
	return b.String()
}
