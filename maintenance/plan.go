// Package maintenance turns probe rounds into the answers a rolling restart
// needs: the order to restart an ensemble's members in (the plan), waits
// that hold for a settle period of fresh rounds (safe to stop, caught up
// again), and an HTTP gate for scripts, preStop hooks and disruption
// guards. It probes nothing itself: a Prober (the ensemble registry) does.
package maintenance

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/quorumwatch/zookeeper_exporter/ensemble"
	"github.com/quorumwatch/zookeeper_exporter/zk"
)

// Prober runs a probe round; *ensemble.Registry satisfies it.
type Prober interface {
	Probe(ctx context.Context, name string) (*ensemble.Round, error)
}

// Kinds of step, in restart order: observers cost no vote, followers one,
// and the leader last because stopping it forces an election.
const (
	KindObserver = "observer"
	KindFollower = "follower"
	KindLeader   = "leader"
)

// Step is one member's place in a rolling restart.
type Step struct {
	Order    int    `json:"order"`
	Member   string `json:"member"`
	ServerID string `json:"server_id"`
	Kind     string `json:"kind"`
	Mode     string `json:"mode"`
	// MarginWhileDown is the quorum margin predicted while the member is
	// down, every other member up as now.
	MarginWhileDown int `json:"margin_while_down"`
	// Now says whether the member may be stopped now; Reason says why not,
	// or what stopping it costs.
	Now    bool   `json:"can_stop_now"`
	Reason string `json:"reason"`
	// CaughtUp: the member has caught up with the leader (see
	// ensemble.Round.CaughtUp).
	CaughtUp bool `json:"caught_up"`
}

// Plan is the restart order of one ensemble as of one round. It holds only
// for that round: after every step the order is computed again (the
// leader may have moved).
type Plan struct {
	Ensemble       string    `json:"ensemble"`
	Time           time.Time `json:"time"`
	Complete       bool      `json:"complete"`
	Margin         int       `json:"margin"`
	FaultTolerance int       `json:"fault_tolerance"`
	Leader         string    `json:"leader"`
	Steps          []Step    `json:"steps"`
}

// PlanOf orders the round's members for a rolling restart: observers, then
// followers, the leader last; by server id within each kind.
func PlanOf(r *ensemble.Round) Plan {
	q := r.Quorum()
	p := Plan{Ensemble: r.Ensemble.Name, Time: r.Time, Complete: !r.Partial, Margin: q.Margin, FaultTolerance: q.FaultTolerance, Steps: []Step{}}
	if leader := r.Leader(); leader != nil {
		p.Leader = leader.Address
	}
	for i, m := range r.Members {
		verdict := r.Assessment.Members[i]
		caughtUp := r.CaughtUp(i)
		p.Steps = append(p.Steps, Step{
			Member: m.Address, ServerID: m.ServerIDLabel(), Kind: kindOf(r, i), Mode: string(m.Mode),
			MarginWhileDown: verdict.MarginWhileDown, Now: verdict.Safe, Reason: verdict.Reason, CaughtUp: caughtUp,
		})
	}
	rank := map[string]int{KindObserver: 0, KindFollower: 1, KindLeader: 2}
	sort.SliceStable(p.Steps, func(i, j int) bool {
		a, b := p.Steps[i], p.Steps[j]
		if rank[a.Kind] != rank[b.Kind] {
			return rank[a.Kind] < rank[b.Kind]
		}
		return idOrder(a) < idOrder(b)
	})
	for i := range p.Steps {
		p.Steps[i].Order = i + 1
	}
	return p
}

// kindOf: the leader, a voter (a follower, wherever it is now), or an
// observer.
func kindOf(r *ensemble.Round, i int) string {
	switch {
	case i == r.Assessment.Leader:
		return KindLeader
	case r.Members[i].Voter:
		return KindFollower
	}
	return KindObserver
}

// idOrder sorts by server id, unknown ids last by address.
func idOrder(s Step) string {
	id, err := strconv.Atoi(s.ServerID)
	if err != nil {
		return "~" + s.Member
	}
	return fmt.Sprintf("%010d", id)
}

// Find returns the index of the round's member named by its address or
// server id, or -1.
func Find(r *ensemble.Round, member string) int {
	for i, m := range r.Members {
		if m.Address == member || m.ServerID > 0 && m.ServerIDLabel() == member {
			return i
		}
	}
	return -1
}

// Name is a member for messages: "127.0.0.1:2181 (server 3)".
func Name(m *ensemble.ProbedMember) string {
	if m.ServerID <= 0 {
		return m.Address
	}
	return fmt.Sprintf("%s (server %d)", m.Address, m.ServerID)
}

// absentVoters counts the voters not in the quorum as seen: down, not
// serving, or serving in another role.
func absentVoters(r *ensemble.Round) int {
	absent := 0
	for i := range r.Members {
		if !inQuorum(r, i) {
			absent++
		}
	}
	return absent
}

// inQuorum: not a voter, or a voter serving as leader or follower (or the
// hidden leader).
func inQuorum(r *ensemble.Round, i int) bool {
	m := r.Members[i]
	return !m.Voter || i == r.Assessment.Leader || m.Up && (m.Mode == zk.ModeLeader || m.Mode == zk.ModeFollower)
}

// WriteTable writes the plan for a terminal: the summary, one line per
// step, and why each blocked step is blocked.
func (p Plan) WriteTable(w io.Writer) error {
	leader := p.Leader
	if leader == "" {
		leader = "none"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s: rolling restart, margin %d of %d, leader %s", p.Ensemble, p.Margin, p.FaultTolerance, leader)
	if !p.Complete {
		b.WriteString(" (some members had not answered by the deadline: nothing is safe)")
	}
	b.WriteString("\n")
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "STEP\tMEMBER\tKIND\tMODE\tCAUGHT UP\tMARGIN WHILE DOWN\tNOW")
	var blocked []string
	for _, s := range p.Steps {
		member := s.Member
		if s.ServerID != "" {
			member += " (" + s.ServerID + ")"
		}
		now := "ready"
		if !s.Now {
			now = "blocked"
			blocked = append(blocked, fmt.Sprintf("  step %d, %s: %s", s.Order, s.Member, s.Reason))
		}
		caughtUp := "no"
		if s.CaughtUp {
			caughtUp = "yes"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%d\t%s\n", s.Order, member, s.Kind, s.Mode, caughtUp, s.MarginWhileDown, now)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, line := range blocked {
		b.WriteString(line + "\n")
	}
	b.WriteString("the order is computed again after every step: the leader may move\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// votersCounted reports whether the quorum counts every voter seen in it:
// then the margin is what the design allows with the voters absent now.
// The serving leader's own count (mntr) lags a member that has just
// rejoined; until it counts it, the margin is short of that.
func votersCounted(r *ensemble.Round) bool {
	q := r.Quorum()
	return q.Margin >= 0 && q.VotersInQuorum >= q.Voters-absentVoters(r)
}
