package zkmodel

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// Releases are the release lines the model speaks, one of each dialect and
// the newest of each line.
var Releases = []string{"3.4.14", "3.5.10", "3.6.4", "3.7.2", "3.8.6", "3.9.5"}

// Listed is one entry of the exporter's configuration: which server it
// names and what it says of it.
type Listed struct {
	ID int
	// Alias names the server as localhost:port instead of 127.0.0.1:port.
	Alias bool
	// Observer: the configuration says role: observer.
	Observer bool
	// ServerID, Datacenter, Admin and Group: the configuration gives the
	// server's id, datacenter, AdminServer URL and group and weight.
	ServerID, Datacenter, Admin, Group bool
}

// Address is the listed client address.
func (l Listed) Address() string { return ClientAddress(l.ID, l.Alias) }

// Case is one generated ensemble and the exporter's configuration of it.
type Case struct {
	Ensemble *Ensemble
	Listing  []Listed
	// OracleConfigured: the configuration says oracle: true.
	OracleConfigured bool
	// Discover: the exporter probes the members the membership lists too
	// (discover: conf, the default); else exactly the listing.
	Discover bool
}

// Options choose what the generator may draw.
type Options struct {
	// Duplicates lets one server be listed twice, under two names.
	Duplicates bool
}

// Generate draws an ensemble, its state and the exporter's configuration.
func Generate(r *rand.Rand, opts Options) *Case {
	for {
		if c := generate(r, opts); c != nil {
			return c
		}
	}
}

func generate(r *rand.Rand, opts Options) *Case {
	e := &Ensemble{LeaderServes: r.IntN(10) > 0, ConfigVersion: 0x100000000 + uint64(r.IntN(1<<20)), LeaderPick: r.IntN(9), StaleLeader: r.IntN(4) == 0}
	voters := []int{1, 2, 3, 3, 3, 4, 5, 5, 5, 6, 7, 9}[r.IntN(12)]
	observers := []int{0, 0, 1, 1, 2}[r.IntN(5)]
	release := Releases[r.IntN(len(Releases))]
	mixed := r.IntN(8) == 0
	d := dialectOf(release)
	removed := 0
	if d >= dialect35 && r.IntN(5) == 0 {
		removed = 1
	}
	e.Hierarchical = voters >= 3 && r.IntN(3) == 0
	e.Oracle = voters == 2 && !e.Hierarchical && strings.Compare(release, "3.8") > 0 && r.IntN(2) == 0
	srvrOnly := d >= dialect35 && r.IntN(2) == 0
	noConf := !srvrOnly && r.IntN(4) == 0
	admin := d >= dialect35 && r.IntN(3) == 0
	groups := 2 + r.IntN(2)
	withDC := r.IntN(3) == 0
	for id := 1; id <= voters+observers+removed; id++ {
		s := &Server{ID: id, Member: id <= voters+observers, Participant: id <= voters || id > voters+observers,
			Release: release, SrvrOnly: srvrOnly, NoConf: noConf, Admin: admin, Weight: 1}
		if mixed && r.IntN(2) == 0 {
			s.Release = neighbour(release)
		}
		if dialectOf(s.Release) == dialect34 {
			s.SrvrOnly, s.NoConf, s.Admin = false, false, false
		}
		if withDC {
			s.Datacenter = fmt.Sprintf("dc%d", 1+r.IntN(3))
		}
		if e.Hierarchical && (s.Participant || r.IntN(3) == 0) {
			s.Group = 1 + r.IntN(groups)
			s.Weight = []int{0, 1, 1, 1, 2}[r.IntN(5)]
		}
		e.Servers = append(e.Servers, s)
	}
	if e.Hierarchical && !e.quorum(ids(e.voters())) {
		return nil // ZooKeeper refuses a rule that no set of voters meets
	}
	for _, s := range e.Servers {
		mutateServer(r, s, 4)
	}
	e.Settle()
	listed := listing(r, e, withDC, opts)
	if listed == nil {
		return nil
	}
	return &Case{Ensemble: e, Listing: listed, OracleConfigured: e.Oracle && r.IntN(3) > 0, Discover: r.IntN(2) == 0}
}

// neighbour is a release of the next or previous line, for ensembles in
// the middle of an upgrade.
func neighbour(release string) string {
	for i, r := range Releases {
		if r == release {
			if i+1 < len(Releases) {
				return Releases[i+1]
			}
			return Releases[i-1]
		}
	}
	return release
}

func ids(servers []*Server) map[int]bool {
	out := map[int]bool{}
	for _, s := range servers {
		out[s.ID] = true
	}
	return out
}

// listing draws the exporter's configuration: most servers listed, some
// roles wrong (an observer listed as a voter), ids, datacenters and admin
// URLs given or not, and where allowed a server listed twice. nil when no
// truthful configuration of the draw exists.
func listing(r *rand.Rand, e *Ensemble, withDC bool, opts Options) []Listed {
	withIDs := r.IntN(3) == 0
	// Groups go in the configuration only with every voter's id and the
	// roles right, as the configuration's validation demands. Where no
	// member lets conf through, the configuration is all the exporter can
	// know of the membership: it must then be right about the groups and
	// name every member and no server that left the ensemble (it may still
	// call an observer a voter, which the observer's answers correct).
	readable := confReadable(e)
	withGroups := e.Hierarchical && (!readable || r.IntN(3) == 0)
	// Members may go unlisted where the membership or the members' view
	// size (3.6+ mntr) says they exist.
	partial := readable || sizeVisible(e)
	var out []Listed
	for _, s := range e.Servers {
		// An observer's weight in a group shows in no count a member says.
		weighs := e.Hierarchical && !s.Participant && s.Group != 0 && s.Weight > 0
		if !s.Member && (!readable || r.IntN(2) == 0) || s.Member && partial && (readable || !weighs) && r.IntN(10) == 0 {
			continue
		}
		l := Listed{ID: s.ID, ServerID: withIDs || withGroups, Datacenter: withDC, Admin: s.Admin && r.IntN(4) > 0}
		// Unreadable membership, an observer called a voter and a voter left
		// out together would make the observer stand for the missing voter
		// in every count the exporter has: no exporter can tell.
		l.Observer = !s.Participant && (withGroups || !readable && partial || r.IntN(3) > 0)
		l.Group = withGroups
		out = append(out, l)
	}
	if withGroups && !listedWeight(e, out) {
		// The configuration's validation refuses groups that all weigh 0:
		// without them, only a readable membership can tell the hierarchy.
		if !readable {
			return nil
		}
		for i := range out {
			out[i].Group = false
		}
	}
	if opts.Duplicates && len(out) > 0 && r.IntN(8) == 0 {
		// Only a member's own conf (serverId), or the same socket, says that
		// two names are one server. A twin would need the group, and so
		// the id, too; one id is one configured member.
		twin := out[r.IntN(len(out))]
		if !twin.Group {
			twin.Alias, twin.ServerID = true, false
			out = append(out, twin)
		}
	}
	if !hasVoter(out) {
		return nil
	}
	return out
}

// listedWeight: some listed voter weighs.
func listedWeight(e *Ensemble, listing []Listed) bool {
	for _, l := range listing {
		if s := e.Server(l.ID); s.Participant && s.Weight > 0 {
			return true
		}
	}
	return false
}

// sizeVisible: every member says its view's size (zk_quorum_size).
func sizeVisible(e *Ensemble) bool {
	for _, s := range e.Servers {
		if s.SrvrOnly || dialectOf(s.Release) < dialect36 {
			return false
		}
	}
	return true
}

// confReadable: every member lets conf through, so the membership can be
// read whenever one serves.
func confReadable(e *Ensemble) bool {
	for _, s := range e.Servers {
		if s.SrvrOnly || s.NoConf || dialectOf(s.Release) == dialect34 {
			return false
		}
	}
	return true
}

func hasVoter(listing []Listed) bool {
	for _, l := range listing {
		if !l.Observer {
			return true
		}
	}
	return false
}

// mutateServer draws a server's process state, side and reachability; one
// time in odds it is not running normally.
func mutateServer(r *rand.Rand, s *Server, odds int) {
	s.Process, s.Side, s.Hidden = Running, 0, false
	if r.IntN(odds) != 0 {
		return
	}
	switch r.IntN(5) {
	case 0, 1:
		s.Process = Stopped
	case 2:
		s.Process = Frozen
	case 3:
		s.Side = 1
	case 4:
		s.Hidden = true
	}
}

// Step changes the state the way faults and operators do: a member
// stopped, frozen, restarted, cut off, hidden from the exporter, a
// reconfiguration, a new election. It returns what it did.
func (c *Case) Step(r *rand.Rand) string {
	e := c.Ensemble
	s := e.Servers[r.IntN(len(e.Servers))]
	var did string
	switch r.IntN(10) {
	case 0, 1:
		s.Process, did = Stopped, fmt.Sprintf("stop %d", s.ID)
	case 2:
		s.Process, did = Frozen, fmt.Sprintf("freeze %d", s.ID)
	case 3, 4:
		s.Process, s.Side, s.Hidden, did = Running, 0, false, fmt.Sprintf("restore %d", s.ID)
	case 5:
		s.Side, did = 1-s.Side, fmt.Sprintf("move %d across the partition", s.ID)
	case 6:
		s.Hidden, did = !s.Hidden, fmt.Sprintf("hide/show %d", s.ID)
	case 7:
		e.LeaderPick, e.StaleLeader = r.IntN(9), r.IntN(3) == 0
		if e.leader != nil {
			e.leader.Process = Stopped
			did = fmt.Sprintf("stop the leader %d", e.leader.ID)
		} else {
			did = "new leader pick"
		}
	case 8:
		did = c.reconfig(r, s)
	default:
		for _, s := range e.Servers {
			s.Process, s.Side, s.Hidden = Running, 0, false
		}
		did = "heal every member"
	}
	e.Settle()
	return did
}

// reconfig swaps the server between participant and observer, or removes
// or adds it back, as one reconfig command would (3.5+, with a leader).
func (c *Case) reconfig(r *rand.Rand, s *Server) string {
	e := c.Ensemble
	if e.leader == nil || !confReadable(e) || e.Oracle {
		return "no reconfig" // the configuration would be all that is left to tell
	}
	before := map[*Server][2]bool{}
	for _, m := range e.Servers {
		before[m] = [2]bool{m.Member, m.Participant}
	}
	if r.IntN(2) == 0 {
		s.Participant = !s.Participant
	} else {
		s.Member = !s.Member
	}
	acking := map[int]bool{}
	for _, m := range e.Servers {
		if m.Voter() && m.up() && m.Side == e.leader.Side {
			acking[m.ID] = true
		}
	}
	// ZooKeeper commits a reconfig only when the new voters' quorum is
	// there, and never leaves no voter of weight.
	if len(e.voters()) == 0 || !e.quorum(acking) || e.Hierarchical && !e.quorum(ids(e.voters())) {
		for m, b := range before {
			m.Member, m.Participant = b[0], b[1]
		}
		return "reconfig refused"
	}
	e.ConfigVersion = uint64(e.epoch)<<32 | uint64(e.counter+1)
	return fmt.Sprintf("reconfig %d: member=%v participant=%v", s.ID, s.Member, s.Participant)
}

// Config is the exporter's configuration file for the case.
func (c *Case) Config() string {
	var b strings.Builder
	b.WriteString("timeout: 1s\nensembles:\n  - name: model\n")
	if !c.Discover {
		b.WriteString("    discover: off\n")
	}
	if c.OracleConfigured {
		b.WriteString("    oracle: true\n")
	}
	b.WriteString("    members:\n")
	for _, l := range c.Listing {
		s := c.Ensemble.Server(l.ID)
		fmt.Fprintf(&b, "      - address: %q\n", l.Address())
		if l.Observer {
			b.WriteString("        role: observer\n")
		}
		if l.ServerID {
			fmt.Fprintf(&b, "        server_id: %d\n", l.ID)
		}
		if l.Datacenter && s.Datacenter != "" {
			fmt.Fprintf(&b, "        datacenter: %s\n", s.Datacenter)
		}
		if l.Admin {
			fmt.Fprintf(&b, "        admin_url: %q\n", AdminURL(l.ID))
		}
		if l.Group && (s.Group != 0 || !l.Observer) {
			fmt.Fprintf(&b, "        group: %d\n        weight: %d\n", s.Group, s.Weight)
		}
	}
	return b.String()
}

// String describes the case for a failure report.
func (c *Case) String() string {
	var b strings.Builder
	b.WriteString(c.Ensemble.String())
	b.WriteString("  configuration:\n")
	for _, line := range strings.Split(strings.TrimSpace(c.Config()), "\n") {
		b.WriteString("    " + line + "\n")
	}
	return b.String()
}
