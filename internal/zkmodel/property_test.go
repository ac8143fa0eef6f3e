package zkmodel_test

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/promslog"

	"github.com/quorumwatch/zookeeper_exporter/config"
	"github.com/quorumwatch/zookeeper_exporter/ensemble"
	"github.com/quorumwatch/zookeeper_exporter/internal/zkmodel"
	"github.com/quorumwatch/zookeeper_exporter/quorum"
	"github.com/quorumwatch/zookeeper_exporter/zk"
)

// The property test's size: cases (ensembles) and steps (states) per case.
// make test runs the defaults; make model passes more.
var (
	modelCases = flag.Int("model.cases", 2500, "generated ensembles")
	modelSteps = flag.Int("model.steps", 4, "state changes per ensemble, each checked")
	modelSeed  = flag.Uint64("model.seed", 0, "first seed (0: from the clock)")
)

// TestModelProperties runs the real engine on the answers of generated
// ensembles and checks it against the brute-force truth. A failure prints
// the seed that replays it: go test ./internal/zkmodel -run
// TestModelProperties -model.seed=S -model.cases=1. A seed replays its case
// only while the generator draws the same way, so a failure, once fixed,
// is kept as a case of TestModelSituations.
func TestModelProperties(t *testing.T) {
	first := *modelSeed
	if first == 0 {
		first = uint64(time.Now().UnixNano())
	}
	t.Logf("seeds %d..%d", first, first+uint64(*modelCases)-1)
	states := 0
	covered := map[string]int{}
	for i := range *modelCases {
		seed := first + uint64(i)
		n, err := checkSeed(seed, *modelSteps, covered)
		states += n
		if err != nil {
			t.Fatalf("seed %d: %v\nreplay: go test ./internal/zkmodel -run 'TestModelProperties$' -model.seed=%d -model.cases=1", seed, err, seed)
		}
	}
	t.Logf("%d states checked; states with each feature: %v", states, covered)
	// The generator must keep drawing every kind of state the properties
	// are about: a change that stops drawing one fails here.
	if states >= 10000 {
		for _, feature := range features {
			if covered[feature.name] < states/500 {
				t.Errorf("only %d of %d states had %s", covered[feature.name], states, feature.name)
			}
		}
	}
}

// features are the kinds of state the property test must cover.
var features = []struct {
	name string
	has  func(c *zkmodel.Case) bool
}{
	{"a hierarchical quorum", func(c *zkmodel.Case) bool { return c.Ensemble.Hierarchical }},
	{"a weight-0 voter", func(c *zkmodel.Case) bool {
		return anyServer(c, func(s *zkmodel.Server) bool { return c.Ensemble.Hierarchical && s.Voter() && s.Weight == 0 })
	}},
	{"an observer weighing in a group", func(c *zkmodel.Case) bool {
		return anyServer(c, func(s *zkmodel.Server) bool {
			return c.Ensemble.Hierarchical && s.Member && !s.Participant && s.Group != 0
		})
	}},
	{"an observer", func(c *zkmodel.Case) bool {
		return anyServer(c, func(s *zkmodel.Server) bool { return s.Member && !s.Participant })
	}},
	{"a removed server still running", func(c *zkmodel.Case) bool {
		return anyServer(c, func(s *zkmodel.Server) bool { return !s.Member && s.Process == zkmodel.Running })
	}},
	{"two leaders", func(c *zkmodel.Case) bool {
		n := 0
		for _, s := range c.Ensemble.Servers {
			if s.Mode() == "leader" {
				n++
			}
		}
		return n > 1
	}},
	{"no quorum", func(c *zkmodel.Case) bool { return c.Ensemble.Leader() == nil }},
	{"the oracle", func(c *zkmodel.Case) bool { return c.Ensemble.Oracle }},
	{"3.4", func(c *zkmodel.Case) bool { return releaseOf(c, "3.4.") }},
	{"3.5", func(c *zkmodel.Case) bool { return releaseOf(c, "3.5.") }},
	{"3.6+", func(c *zkmodel.Case) bool {
		return releaseOf(c, "3.6.") || releaseOf(c, "3.7.") || releaseOf(c, "3.8.") || releaseOf(c, "3.9.")
	}},
	{"two releases (an upgrade)", func(c *zkmodel.Case) bool {
		return anyServer(c, func(s *zkmodel.Server) bool { return s.Release != c.Ensemble.Servers[0].Release })
	}},
	{"srvr only", func(c *zkmodel.Case) bool { return anyServer(c, func(s *zkmodel.Server) bool { return s.SrvrOnly }) }},
	{"srvr only with the AdminServer", func(c *zkmodel.Case) bool {
		return anyServer(c, func(s *zkmodel.Server) bool { return s.SrvrOnly && s.Admin })
	}},
	{"conf refused", func(c *zkmodel.Case) bool { return anyServer(c, func(s *zkmodel.Server) bool { return s.NoConf }) }},
	{"a member out of reach", func(c *zkmodel.Case) bool {
		return anyServer(c, func(s *zkmodel.Server) bool { return s.Hidden && s.Process == zkmodel.Running })
	}},
	{"a frozen member", func(c *zkmodel.Case) bool {
		return anyServer(c, func(s *zkmodel.Server) bool { return s.Process == zkmodel.Frozen })
	}},
	{"a partition", func(c *zkmodel.Case) bool { return anyServer(c, func(s *zkmodel.Server) bool { return s.Side != 0 }) }},
	{"a server listed twice", func(c *zkmodel.Case) bool {
		seen := map[int]bool{}
		for _, l := range c.Listing {
			if seen[l.ID] {
				return true
			}
			seen[l.ID] = true
		}
		return false
	}},
	{"an unlisted member", func(c *zkmodel.Case) bool {
		listed := map[int]bool{}
		for _, l := range c.Listing {
			listed[l.ID] = true
		}
		return anyServer(c, func(s *zkmodel.Server) bool { return s.Member && !listed[s.ID] })
	}},
	{"an observer listed as a voter", func(c *zkmodel.Case) bool {
		for _, l := range c.Listing {
			if s := c.Ensemble.Server(l.ID); !l.Observer && s.Member && !s.Participant {
				return true
			}
		}
		return false
	}},
	{"discovery", func(c *zkmodel.Case) bool { return c.Discover }},
	{"datacenters", func(c *zkmodel.Case) bool {
		return anyServer(c, func(s *zkmodel.Server) bool { return s.Datacenter != "" })
	}},
}

func anyServer(c *zkmodel.Case, f func(*zkmodel.Server) bool) bool {
	for _, s := range c.Ensemble.Servers {
		if f(s) {
			return true
		}
	}
	return false
}

func releaseOf(c *zkmodel.Case, prefix string) bool {
	return anyServer(c, func(s *zkmodel.Server) bool { return strings.HasPrefix(s.Release, prefix) })
}

// checkSeed generates one case from seed, probes it after every step, and
// returns the number of states checked and the first violation.
func checkSeed(seed uint64, steps int, covered map[string]int) (int, error) {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	c := zkmodel.Generate(r, zkmodel.Options{Duplicates: true})
	registry, err := newEngine(c)
	if err != nil {
		return 0, fmt.Errorf("%w\n%s", err, c)
	}
	history := []string{"start"}
	told := map[int]bool{} // servers that have answered as observers
	for step := 0; ; step++ {
		round, err := registry.Probe(context.Background(), "model")
		if err != nil {
			return step, err
		}
		for _, m := range round.Members {
			if m.Up && m.Mode == zk.ModeObserver {
				told[serverAt(m.Address)] = true
			}
		}
		if err := check(c, round, told); err != nil {
			return step + 1, fmt.Errorf("after %s: %w\n%s%s", strings.Join(history, ", "), err, c, describe(round))
		}
		for _, feature := range features {
			if feature.has(c) {
				covered[feature.name]++
			}
		}
		if step == steps {
			return step + 1, nil
		}
		history = append(history, c.Step(r))
	}
}

func newEngine(c *zkmodel.Case) (*ensemble.Registry, error) {
	cfg, err := config.Parse("model.yml", []byte(c.Config()))
	if err != nil {
		return nil, err
	}
	client := &zkmodel.Client{Ensemble: c.Ensemble}
	return ensemble.New(cfg, promslog.NewNopLogger(), ensemble.Options{
		NewClient:   func(*config.Ensemble) (ensemble.WordClient, error) { return client, nil },
		Admin:       &zk.AdminClient{HTTPClient: &http.Client{Transport: client}},
		ConfRefresh: time.Nanosecond, // the membership is read every round: staleness is not what this tests
	})
}

// check is the properties of one round against the model's truth.
func check(c *zkmodel.Case, round *ensemble.Round, told map[int]bool) error {
	e := c.Ensemble
	q := round.Quorum()
	truth := e.TrueMargin()
	// Without a quorum the margin counts the voters that must come back;
	// a configuration that calls an observer a voter, when nothing live
	// says otherwise, counts it among them.
	misinformed := round.VoterSet.Source == ensemble.SourceConfiguration && configuredVotersWrong(c, told) ||
		round.VoterSet.Source == ensemble.SourceEnsemble && membershipStale(c, round)
	overstates := func(got, want int) bool { return got > want && (want >= 0 || !misinformed) }
	if overstates(q.Margin, truth) {
		return fmt.Errorf("margin %d overstates the true %d", q.Margin, truth)
	}
	seen, why := fullySeen(c, round)
	if c.Ensemble.Oracle && !c.OracleConfigured && !q.Oracle {
		// The oracle shows only once a leader serves alone: before,
		// the margin is the plain majority's, lower than the truth.
		seen, why = false, "the oracle is neither configured nor seen"
	}
	if misinformed {
		seen, why = false, "the configuration's voters are not the ensemble's"
	}
	if q.VotersUnknown > 0 {
		seen, why = false, "the exporter says it cannot tell" // its contract: then a guess, never above the truth
	}
	if seen && q.Margin != truth {
		return fmt.Errorf("margin %d, true %d, though every running member answers what the margin needs", q.Margin, truth)
	} else if !seen && criticalFromIgnorance(q, truth) && !excused(c, round, told) {
		return fmt.Errorf("margin %d pages critically on an ensemble that does not call for it (true %d), and nothing says why (%s)", q.Margin, truth, why)
	}
	for _, dc := range round.Assessment.Datacenters {
		if want := e.MarginWithoutDatacenter(dc.Datacenter); overstates(dc.Margin, want) {
			return fmt.Errorf("losing datacenter %q: margin %d overstates the true %d", dc.Datacenter, dc.Margin, want)
		}
	}
	for i, verdict := range round.Assessment.Members {
		if !verdict.Safe {
			continue
		}
		id := serverAt(round.Members[i].Address)
		if after := e.MarginWithout(id); after < 0 {
			return fmt.Errorf("server %d said safe to stop (%s), but stopping it loses quorum (true margin after: %d)", id, verdict.Reason, after)
		}
	}
	return oneServerOneMember(c, round)
}

// oneServerOneMember: one round member per server, and leaders and voters
// up counted per server.
func oneServerOneMember(c *zkmodel.Case, round *ensemble.Round) error {
	members := map[int]int{}
	for _, m := range round.Members {
		if members[serverAt(m.Address)]++; members[serverAt(m.Address)] > 1 {
			return fmt.Errorf("server %d is %d members", serverAt(m.Address), members[serverAt(m.Address)])
		}
	}
	leaders, up := 0, 0
	for _, s := range c.Ensemble.Servers {
		if members[s.ID] == 0 || s.Process != zkmodel.Running || s.Hidden {
			continue
		}
		up++ // at most: the configuration may call an observer a voter
		if s.Mode() == "leader" {
			leaders++
		}
	}
	q := round.Quorum()
	if q.Leaders > leaders {
		return fmt.Errorf("%d leaders counted, %d servers say leader", q.Leaders, leaders)
	}
	if q.VotersUp > up {
		return fmt.Errorf("%d voters up counted, %d servers answer", q.VotersUp, up)
	}
	return nil
}

// fullySeen reports whether the exporter can know the true margin: every
// running server listed once and reachable, and the voter set knowable
// (from a serving member's conf, the AdminServer's voting view, or a
// configuration whose roles are right). It says why not.
func fullySeen(c *zkmodel.Case, round *ensemble.Round) (bool, string) {
	e := c.Ensemble
	probed := map[int]bool{}
	for _, m := range round.Members {
		probed[serverAt(m.Address)] = true
	}
	if hiddenByLeaderServesNo(c) {
		return false, "a leaderServes=no leader without its AdminServer"
	}
	for _, s := range e.Servers {
		switch {
		case s.Process == zkmodel.Running && !probed[s.ID]:
			return false, fmt.Sprintf("server %d runs unprobed", s.ID)
		case s.Process == zkmodel.Running && s.Hidden:
			return false, fmt.Sprintf("server %d runs out of the exporter's reach", s.ID)
		}
	}
	return true, ""
}

// hiddenByLeaderServesNo: a leader started with leaderServes=no answers
// "not serving" like a member without quorum; only its AdminServer's leader
// command (3.6+) tells them apart (and, under a simple majority, its
// followers).
func hiddenByLeaderServesNo(c *zkmodel.Case) bool {
	l := c.Ensemble.Leader()
	return l != nil && !c.Ensemble.LeaderServes && !(adminListed(c, l.ID) && l.Release >= "3.6")
}

func adminListed(c *zkmodel.Case, id int) bool {
	for _, l := range c.Listing {
		if l.ID == id && l.Admin {
			return true
		}
	}
	return false
}

// membershipStale: the membership the exporter last read is not the
// ensemble's now (a reconfiguration while no member it reaches could say).
func membershipStale(c *zkmodel.Case, round *ensemble.Round) bool {
	have := map[int]bool{}
	for _, v := range round.VoterSet.Quorum.Rule.Voters() {
		have[v.ID] = true
	}
	for _, s := range c.Ensemble.Servers {
		counts := s.Voter() && (!c.Ensemble.Hierarchical || s.Weight > 0)
		if counts != have[s.ID] {
			return true
		}
	}
	return false
}

// criticalFromIgnorance: the figures page (ZooKeeperQuorumLost on a
// negative margin, ZooKeeperQuorumAtRisk on 0 where the design tolerates a
// loss) while the truth does not call for that page.
func criticalFromIgnorance(q quorum.Ensemble, truth int) bool {
	return q.Margin < 0 && truth >= 0 || q.Margin == 0 && q.FaultTolerance > 0 && truth >= 1
}

// excused: the exporter reports margin <= 0 on an ensemble that tolerates a
// loss only where the contract for partial views allows it, and then says
// so: a running voter it cannot reach counts as down.
func excused(c *zkmodel.Case, round *ensemble.Round, told map[int]bool) bool {
	for _, s := range c.Ensemble.Servers {
		if s.Voter() && s.Process == zkmodel.Running && s.Hidden {
			return true
		}
	}
	if hiddenByLeaderServesNo(c) {
		return true // documented: such a leader reads as not serving
	}
	q := round.Quorum()
	return q.VotersUnknown > 0 || round.VoterSet.Source == ensemble.SourceConfiguration && configuredVotersWrong(c, told)
}

// configuredVotersWrong: the configuration calls a server a voter that is
// not one (and the server never said otherwise), misses a voter (or an
// observer that weighs in a group) or the groups. With the voter set from the configuration
// (which the exporter exports, and alerts on) the margin counts on the
// voters the configuration names.
func configuredVotersWrong(c *zkmodel.Case, told map[int]bool) bool {
	listed := map[int]bool{}
	for _, l := range c.Listing {
		if c.Ensemble.Hierarchical && !l.Group {
			return true // a hierarchy the configuration does not state
		}
		listed[l.ID] = true
		if !l.Observer && !c.Ensemble.Server(l.ID).Voter() && !told[l.ID] {
			return true // an observer that has said it is one is not a voter
		}
	}
	for _, s := range c.Ensemble.Servers {
		weighs := c.Ensemble.Hierarchical && s.Member && s.Group != 0 && s.Weight > 0
		if (s.Voter() || weighs) && !listed[s.ID] {
			return true
		}
	}
	return false
}

func serverAt(address string) int {
	var port int
	fmt.Sscanf(address[strings.LastIndex(address, ":")+1:], "%d", &port)
	return port - 21000
}

// describe is what the exporter made of the round, for a failure report.
func describe(round *ensemble.Round) string {
	q := round.Quorum()
	var b strings.Builder
	fmt.Fprintf(&b, "  exporter: margin=%d voters=%d quorum=%d up=%d inQuorum=%d unseenSynced=%d leaders=%d hidden=%v source=%s\n",
		q.Margin, q.Voters, q.QuorumSize, q.VotersUp, q.VotersInQuorum, q.VotersUnseenSynced, q.Leaders, q.LeaderHidden, round.VoterSet.Source)
	for i, m := range round.Members {
		v := round.Assessment.Members[i]
		fmt.Fprintf(&b, "    %s id=%d up=%v mode=%s voter=%v leaderVoters=%d safe=%v (%s)\n", m.Address, m.ServerID, m.Up, m.Mode, m.Voter, m.LeaderVoters, v.Safe, v.Reason)
	}
	for _, dc := range round.Assessment.Datacenters {
		fmt.Fprintf(&b, "    datacenter %q: margin %d\n", dc.Datacenter, dc.Margin)
	}
	return b.String()
}
