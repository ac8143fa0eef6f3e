package chaos

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"

	"github.com/quorumwatch/zookeeper_exporter/internal/zkcluster"
)

// Fault kinds.
const (
	faultKill      = "kill"      // SIGKILL
	faultTerm      = "term"      // SIGTERM, waiting for the exit
	faultFreeze    = "freeze"    // SIGSTOP
	faultThaw      = "thaw"      // SIGCONT
	faultRestart   = "restart"   // start a stopped member again
	faultPartition = "partition" // cut members off from the others
	faultHeal      = "heal"      // remove the partition
	faultSafeStop  = "safe-stop" // SIGTERM a member the exporter says is safe to stop
)

var roles = []string{"leader", "follower", "observer", "stopped", "frozen"}

var faultKinds = []string{faultKill, faultTerm, faultFreeze, faultThaw, faultRestart, faultPartition, faultHeal, faultSafeStop}

// Fault is one step of a campaign: a kind and the member ids it acts on
// (none for heal). In a plan a target may also be a role, resolved when
// the step runs to the lowest id in it: "leader", "follower", "observer"
// (as the members answer), "stopped" or "frozen" (as the campaign left
// them).
type Fault struct {
	Kind    string
	Members []int
	Role    string
}

func (f Fault) String() string {
	if f.Role != "" {
		return f.Kind + " " + f.Role
	}
	if len(f.Members) == 0 {
		return f.Kind
	}
	ids := make([]string, len(f.Members))
	for i, id := range f.Members {
		ids[i] = strconv.Itoa(id)
	}
	return f.Kind + " " + strings.Join(ids, ",")
}

// ParsePlan reads a fixed sequence of faults, separated by ";", each as
// Fault.String writes it: "kill 3; restart 3; partition 1,2; heal;
// safe-stop follower".
func ParsePlan(text string) ([]Fault, error) {
	var plan []Fault
	for i, part := range strings.Split(text, ";") {
		fields := strings.Fields(part)
		if len(fields) == 0 {
			continue
		}
		f := Fault{Kind: fields[0]}
		if !slices.Contains(faultKinds, f.Kind) {
			return nil, fmt.Errorf("plan step %d %q: unknown fault (one of %s)", i+1, strings.TrimSpace(part), strings.Join(faultKinds, ", "))
		}
		switch {
		case len(fields) > 2:
			return nil, fmt.Errorf("plan step %d %q: members are one comma-separated list", i+1, strings.TrimSpace(part))
		case len(fields) == 1 && f.Kind != faultHeal:
			return nil, fmt.Errorf("plan step %d %q: which member?", i+1, strings.TrimSpace(part))
		case len(fields) == 2 && slices.Contains(roles, fields[1]):
			f.Role = fields[1]
		case len(fields) == 2:
			for _, s := range strings.Split(fields[1], ",") {
				id, err := strconv.Atoi(s)
				if err != nil || id < 1 {
					return nil, fmt.Errorf("plan step %d %q: member %q is not an id or a role", i+1, strings.TrimSpace(part), s)
				}
				f.Members = append(f.Members, id)
			}
		}
		plan = append(plan, f)
	}
	return plan, nil
}

// apply runs the fault on the cluster.
func apply(c *zkcluster.Cluster, f Fault) error {
	each := func(do func(int) error) error {
		for _, id := range f.Members {
			if err := do(id); err != nil {
				return fmt.Errorf("%s: %w", f, err)
			}
		}
		return nil
	}
	switch f.Kind {
	case faultKill:
		return each(c.Kill)
	case faultTerm, faultSafeStop:
		return each(c.Stop)
	case faultFreeze:
		return each(c.Freeze)
	case faultThaw:
		return each(c.Thaw)
	case faultRestart:
		return each(c.Restart)
	case faultPartition:
		return c.Partition(f.Members...)
	case faultHeal:
		return c.UnblockPeers()
	}
	return fmt.Errorf("unknown fault %q", f.Kind)
}

// policy draws the next fault. It predicts the margin each possible fault
// leads to (from what the campaign did, not from the exporter) and prefers
// the margins visited least, so that the ensemble passes through every
// margin from its fault tolerance down to lost and back many times.
type policy struct {
	rng    *rand.Rand
	rule   rule
	visits map[int]int // bucket (see bucket) -> checks that saw it
	// safeStopChance is how often an answer "safe to stop" is acted on.
	safeStopChance float64
}

// world is the state the campaign left the members in.
type world struct {
	members []*zkcluster.Member
	side    []int // the partitioned members, nil when healed
}

func (w world) live(f Fault) map[int]bool {
	live := map[int]bool{}
	for _, m := range w.members {
		if m.Observer {
			continue
		}
		up := m.PID() != 0 && !m.Frozen()
		if slices.Contains(f.Members, m.ID) {
			switch f.Kind {
			case faultKill, faultTerm, faultSafeStop, faultFreeze:
				up = false
			case faultThaw, faultRestart:
				up = true
			}
		}
		if up {
			live[m.ID] = true
		}
	}
	return live
}

// predict is the margin the ensemble should reach after f.
func (p *policy) predict(w world, f Fault) int {
	live := w.live(f)
	side := w.side
	switch f.Kind {
	case faultPartition:
		side = f.Members
	case faultHeal:
		side = nil
	}
	if side == nil {
		return p.rule.margin(live)
	}
	in := map[int]bool{}
	for _, id := range side {
		if live[id] {
			in[id] = true
		}
	}
	out := minus(live, in)
	if p.rule.quorate(in) {
		return p.rule.margin(in)
	}
	if p.rule.quorate(out) {
		return p.rule.margin(out)
	}
	return min(p.rule.margin(in), p.rule.margin(out))
}

// candidates lists every fault that applies now.
func (p *policy) candidates(w world) []Fault {
	var out []Fault
	for _, m := range w.members {
		switch {
		case m.PID() == 0:
			out = append(out, Fault{Kind: faultRestart, Members: []int{m.ID}})
		case m.Frozen():
			out = append(out, Fault{Kind: faultThaw, Members: []int{m.ID}}, Fault{Kind: faultKill, Members: []int{m.ID}})
		default:
			for _, kind := range []string{faultKill, faultTerm, faultFreeze} {
				out = append(out, Fault{Kind: kind, Members: []int{m.ID}})
			}
		}
	}
	if w.side != nil {
		return append(out, Fault{Kind: faultHeal})
	}
	for range 3 {
		ids := make([]int, len(w.members))
		for i, m := range w.members {
			ids[i] = m.ID
		}
		p.rng.Shuffle(len(ids), func(i, j int) { ids[i], ids[j] = ids[j], ids[i] })
		side := ids[:1+p.rng.IntN(len(ids)-1)]
		slices.Sort(side)
		out = append(out, Fault{Kind: faultPartition, Members: slices.Clone(side)})
	}
	return out
}

// next draws a fault: acting on a "safe to stop" answer (voters first) with
// safeStopChance, else a fault whose predicted margin is one seldom seen.
func (p *policy) next(w world, safe []int) Fault {
	if len(safe) > 0 && p.rng.Float64() < p.safeStopChance {
		voters := slices.DeleteFunc(slices.Clone(safe), func(id int) bool { return w.members[id-1].Observer })
		if len(voters) > 0 {
			safe = voters
		}
		return Fault{Kind: faultSafeStop, Members: []int{safe[p.rng.IntN(len(safe))]}}
	}
	byBucket := map[int][]Fault{}
	for _, f := range p.candidates(w) {
		b := p.bucket(p.predict(w, f))
		byBucket[b] = append(byBucket[b], f)
	}
	// A margin bucket first, the less visited the likelier; deeper
	// losses than -1 only now and then. Then any fault that leads there.
	var buckets []int
	var weights []float64
	top := 0.0
	for _, b := range slices.Sorted(maps.Keys(byBucket)) {
		v := float64(1 + p.visits[b])
		buckets, weights = append(buckets, b), append(weights, 1/(v*v))
		if b >= -1 {
			top = max(top, 1/(v*v))
		}
	}
	total := 0.0
	for i, b := range buckets {
		if b < -1 && top > 0 {
			weights[i] = min(weights[i], top/10)
		}
		total += weights[i]
	}
	x := p.rng.Float64() * total
	chosen := buckets[len(buckets)-1]
	for i, wt := range weights {
		if x < wt {
			chosen = buckets[i]
			break
		}
		x -= wt
	}
	faults := byBucket[chosen]
	return faults[p.rng.IntN(len(faults))]
}

// bucket groups margins for the steering: every margin from the fault
// tolerance to -1 on its own, deeper losses together.
func (p *policy) bucket(margin int) int { return max(margin, -2) }

// saw counts a margin the exporter reported after a fault.
func (p *policy) saw(margin int) { p.visits[p.bucket(margin)]++ }
