package quorum

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/quorumwatch/zookeeper_exporter/zk"
)

// peer builds a table row: m in datacenter dc at zxid (epoch 1), named by
// its position.
func peer(m Member, dc string, counter uint32) Member {
	p := m
	p.Datacenter = dc
	if m.Up && m.Mode.Serving() {
		p.Zxid, p.ZxidKnown = zk.Zxid(uint64(1)<<32|uint64(counter)), true
	}
	return p
}

func named(peers ...Member) []Member {
	for i := range peers {
		peers[i].Name = fmt.Sprintf("zk%d", i+1)
	}
	return peers
}

// fiveAndObserver is the integration test's layout: 3 voters in a, 2 in b,
// an observer in b; every member at zxid 100.
func fiveAndObserver(members ...Member) []Member {
	dcs := []string{"a", "a", "a", "b", "b", "b"}
	peers := make([]Member, len(members))
	for i, m := range members {
		peers[i] = peer(m, dcs[i], 100)
	}
	return named(peers...)
}

func safeList(a Assessment) string {
	var marks []string
	for _, verdict := range a.Members {
		marks = append(marks, map[bool]string{true: "1", false: "0"}[verdict.Safe])
	}
	return strings.Join(marks, "")
}

func impactList(a Assessment) []Impact {
	var impacts []Impact
	for _, verdict := range a.Members {
		impacts = append(impacts, verdict.Impact)
	}
	return impacts
}

func TestAssessSafeToStop(t *testing.T) {
	lagging := fiveAndObserver(leader, follower, follower, follower, follower, observer)
	for i := range lagging {
		lagging[i].Zxid = zk.Zxid(1<<32 | 6000)
	}
	lagging[3].Zxid = zk.Zxid(1<<32 | 1000) // restarted, serving, still replaying
	slightlyBehind := fiveAndObserver(leader, follower, follower, follower, follower, observer)
	slightlyBehind[3].Zxid -= 10 // probed a moment before the leader's last writes
	// After an election the followers keep their old-epoch zxid until the
	// first write of the new epoch (as captured from real members).
	newEpoch := fiveAndObserver(leader, follower, follower, follower, follower, observer)
	newEpoch[0].Zxid = zk.Zxid(0x200000000)
	busyNewEpoch := fiveAndObserver(leader, follower, follower, follower, follower, observer)
	for i := range busyNewEpoch {
		busyNewEpoch[i].Zxid = zk.Zxid(0x200000000 + 5000)
	}
	busyNewEpoch[3].Zxid = zk.Zxid(0x100000000 + 7000)
	ahead := fiveAndObserver(leader, follower, follower, follower, follower, observer)
	ahead[2].Zxid += 3
	unknownZxid := fiveAndObserver(leader, follower, follower, follower, follower, observer)
	unknownZxid[4].ZxidKnown = false // srvr refused by the whitelist
	hiddenLeader := fiveAndObserver(notServing, follower, follower, follower, follower, observer)
	// A voter syncing besides the hidden leader: only the AdminServer's
	// mark tells which one leads.
	markedLeader := fiveAndObserver(notServing, notServing, follower, follower, follower, observer)
	markedLeader[1].LeaderNotServing = true

	tests := []struct {
		name    string
		peers   []Member
		safe    string // one digit per member
		impacts []Impact
		reason  map[int]string // member index -> substring of its reason
	}{
		{
			name:    "healthy: every member",
			peers:   fiveAndObserver(leader, follower, follower, follower, follower, observer),
			safe:    "111111",
			impacts: []Impact{ImpactElection, ImpactFaultTolerance, ImpactFaultTolerance, ImpactFaultTolerance, ImpactFaultTolerance, ImpactReadCapacity},
		},
		{
			name:    "one voter stopped: only the observer",
			peers:   fiveAndObserver(leader, follower, voterDown, follower, follower, observer),
			safe:    "000001",
			impacts: []Impact{ImpactElection, ImpactFaultTolerance, ImpactNone, ImpactFaultTolerance, ImpactFaultTolerance, ImpactReadCapacity},
			reason:  map[int]string{0: "voter zk3 is not in quorum (down)", 2: "already down"},
		},
		{
			name:   "restarted voter still syncing",
			peers:  fiveAndObserver(leader, follower, notServing, follower, follower, observer),
			safe:   "000001",
			reason: map[int]string{1: "zk3 is not in quorum (not_serving)", 2: "not serving"},
		},
		{
			name:   "restarted voter serving but far behind",
			peers:  lagging,
			safe:   "000101",
			reason: map[int]string{0: "zk4 is 5000 transactions behind"},
		},
		{name: "a follower within the lag", peers: slightlyBehind, safe: "111111"},
		{name: "a follower ahead of the leader (probe order)", peers: ahead, safe: "111111"},
		{name: "followers in the old epoch, none written since the election", peers: newEpoch, safe: "111111"},
		{name: "a follower still in the old epoch, 5000 written since", peers: busyNewEpoch, safe: "000101", reason: map[int]string{0: "zk4 is 5000 transactions behind"}},
		{name: "zxid unknown: the serving mode decides", peers: unknownZxid, safe: "111111"},
		{
			name:    "two voters down: margin 0, stopping breaks quorum",
			peers:   fiveAndObserver(leader, voterDown, voterDown, follower, follower, observer),
			safe:    "000001",
			impacts: []Impact{ImpactQuorum, ImpactNone, ImpactNone, ImpactQuorum, ImpactQuorum, ImpactReadCapacity},
			reason:  map[int]string{3: "breaks quorum: 3 of 5 voters in quorum, 3 needed"},
		},
		{
			name:    "quorum lost",
			peers:   fiveAndObserver(notServing, voterDown, voterDown, voterDown, notServing, Member{Up: true, Mode: zk.ModeNotServing}),
			safe:    "000000",
			impacts: []Impact{ImpactNone, ImpactNone, ImpactNone, ImpactNone, ImpactNone, ImpactNone},
		},
		{
			name:   "election under way",
			peers:  fiveAndObserver(voterDown, notServing, notServing, notServing, notServing, observer),
			safe:   "000001",
			reason: map[int]string{1: "not serving"},
		},
		{
			name:    "three voters: any one, never two",
			peers:   named(peer(leader, "", 7), peer(follower, "", 7), peer(follower, "", 7)),
			safe:    "111",
			impacts: []Impact{ImpactElection, ImpactFaultTolerance, ImpactFaultTolerance},
		},
		{
			name:    "one voter of three down",
			peers:   named(peer(leader, "", 7), peer(follower, "", 7), peer(voterDown, "", 7)),
			safe:    "000",
			impacts: []Impact{ImpactQuorum, ImpactQuorum, ImpactNone},
		},
		{
			name:    "two voters tolerate nothing",
			peers:   named(peer(leader, "", 7), peer(follower, "", 7)),
			safe:    "00",
			impacts: []Impact{ImpactQuorum, ImpactQuorum},
		},
		{
			name:   "two leaders",
			peers:  named(peer(leader, "", 7), peer(leader, "", 7), peer(follower, "", 7), peer(follower, "", 7), peer(follower, "", 7)),
			safe:   "00000",
			reason: map[int]string{2: "2 members claim to lead"},
		},
		{
			name:    "leaderServes=no: the hidden leader is found",
			peers:   hiddenLeader,
			safe:    "111111",
			impacts: []Impact{ImpactElection, ImpactFaultTolerance, ImpactFaultTolerance, ImpactFaultTolerance, ImpactFaultTolerance, ImpactReadCapacity},
		},
		{
			name:    "leaderServes=no, another voter syncing: the marked leader",
			peers:   markedLeader,
			safe:    "000001",
			impacts: []Impact{ImpactNone, ImpactElection, ImpactFaultTolerance, ImpactFaultTolerance, ImpactFaultTolerance, ImpactReadCapacity},
			reason:  map[int]string{2: "voter zk1 is not in quorum (not_serving)"},
		},
		{
			name:  "observer down: voters unaffected",
			peers: fiveAndObserver(leader, follower, follower, follower, follower, obsDown),
			safe:  "111110",
		},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			a := Assess(test.peers, VoterSet{}, Options{})
			if got := safeList(a); got != test.safe {
				for i, verdict := range a.Members {
					t.Logf("%s: %+v", test.peers[i].Name, verdict)
				}
				t.Errorf("safe = %s, want %s", got, test.safe)
			}
			if test.impacts != nil && !reflect.DeepEqual(impactList(a), test.impacts) {
				t.Errorf("impacts = %v, want %v", impactList(a), test.impacts)
			}
			for i, want := range test.reason {
				if !strings.Contains(a.Members[i].Reason, want) {
					t.Errorf("%s reason = %q, want it to contain %q", test.peers[i].Name, a.Members[i].Reason, want)
				}
			}
		})
	}
}

func TestCaughtUp(t *testing.T) {
	lead := peer(leader, "", 500)
	tests := []struct {
		name    string
		peer    Member
		maxLag  uint64
		want    bool
		wantLag uint64
	}{
		{"same zxid", peer(follower, "", 500), 10, true, 0},
		{"within lag", peer(follower, "", 490), 10, true, 10},
		{"beyond lag", peer(follower, "", 489), 10, false, 11},
		{"ahead", peer(follower, "", 501), 10, true, 0},
		{"observer", peer(observer, "", 500), 10, true, 0},
		{"not serving", peer(notServing, "", 0), 10, false, 0},
		{"down", peer(voterDown, "", 0), 10, false, 0},
		{"unknown zxid", Member{Voter: true, Up: true, Mode: zk.ModeFollower}, 10, true, 0},
		{"older epoch, leader's epoch within lag", Member{Voter: follower.Voter, Up: follower.Up, Mode: follower.Mode, Zxid: 0x0000000000000fff, ZxidKnown: true}, 500, true, 500},
		{"older epoch, leader's epoch beyond lag", Member{Voter: follower.Voter, Up: follower.Up, Mode: follower.Mode, Zxid: 0x0000000000000fff, ZxidKnown: true}, 499, false, 500},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			got, lag := CaughtUp(test.peer, lead, test.maxLag)
			if got != test.want || lag != test.wantLag {
				t.Errorf("CaughtUp = %v, lag %d; want %v, lag %d", got, lag, test.want, test.wantLag)
			}
		})
	}
}

func TestDatacenterMargins(t *testing.T) {
	tests := []struct {
		name  string
		peers []Member
		want  []DatacenterMargin
	}{
		{
			name:  "3 + 2 healthy: the bigger one holds a quorum",
			peers: fiveAndObserver(leader, follower, follower, follower, follower, observer),
			want:  []DatacenterMargin{{"a", 3, -1}, {"b", 2, 0}},
		},
		{
			name:  "3 + 2, a voter of b down",
			peers: fiveAndObserver(leader, follower, follower, follower, voterDown, observer),
			want:  []DatacenterMargin{{"a", 3, -2}, {"b", 2, 0}},
		},
		{
			name:  "quorum lost: counted on the voters that answer",
			peers: fiveAndObserver(notServing, voterDown, voterDown, notServing, voterDown, obsNotServing),
			want:  []DatacenterMargin{{"a", 3, -2}, {"b", 2, -2}},
		},
		{
			name:  "2 + 2 + 1 across three datacenters",
			peers: named(peer(leader, "a", 1), peer(follower, "a", 1), peer(follower, "b", 1), peer(follower, "b", 1), peer(follower, "c", 1)),
			want:  []DatacenterMargin{{"a", 2, 0}, {"b", 2, 0}, {"c", 1, 1}},
		},
		{
			name:  "unlabelled members form datacenter \"\" once any is labelled",
			peers: named(peer(leader, "a", 1), peer(follower, "", 1), peer(follower, "", 1)),
			want:  []DatacenterMargin{{"", 2, -1}, {"a", 1, 0}},
		},
		{
			name:  "nothing labelled: no datacenters",
			peers: named(peer(leader, "", 1), peer(follower, "", 1), peer(follower, "", 1)),
			want:  []DatacenterMargin{},
		},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			got := Assess(test.peers, VoterSet{}, Options{}).Datacenters
			if len(got) == 0 && len(test.want) == 0 {
				return
			}
			if !reflect.DeepEqual(got, test.want) {
				t.Errorf("datacenters = %+v, want %+v", got, test.want)
			}
		})
	}
}

func TestSizingAdvice(t *testing.T) {
	voters := func(dcs ...string) []Member {
		var peers []Member
		for _, dc := range dcs {
			peers = append(peers, peer(follower, dc, 1))
		}
		peers[0].Mode = zk.ModeLeader
		return named(peers...)
	}
	repeat := func(dc string, n int) []string { return strings.Split(strings.Repeat(dc+",", n-1)+dc, ",") }
	tests := []struct {
		name  string
		peers []Member
		want  map[Advice]bool
	}{
		{"5 voters in one datacenter", voters(repeat("a", 5)...), map[Advice]bool{AdviceTooManyVoters: false, AdviceTooManyVotersInDatacenter: false}},
		{"6 voters in one datacenter", voters(append(repeat("a", 6), "b")...), map[Advice]bool{AdviceTooManyVoters: false, AdviceTooManyVotersInDatacenter: true}},
		{"11 voters over three datacenters", voters(append(append(repeat("a", 4), repeat("b", 4)...), repeat("c", 3)...)...), map[Advice]bool{AdviceTooManyVoters: true, AdviceTooManyVotersInDatacenter: false}},
		{"7 unlabelled voters: no datacenter advice", voters(repeat("", 7)...), map[Advice]bool{AdviceTooManyVoters: false, AdviceTooManyVotersInDatacenter: false}},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			a := Assess(test.peers, VoterSet{}, Options{})
			if !reflect.DeepEqual(a.Advice, test.want) {
				t.Errorf("advice = %v, want %v", a.Advice, test.want)
			}
			applies := 0
			for _, on := range a.Advice {
				if on {
					applies++
				}
			}
			if len(a.AdviceText) != applies {
				t.Errorf("advice text %q does not explain each advice that applies", a.AdviceText)
			}
		})
	}
}

func TestHealthOf(t *testing.T) {
	tests := []struct {
		name string
		q    Ensemble
		want Health
	}{
		{"5 voters, all in", Ensemble{Voters: 5, FaultTolerance: 2, Leaders: 1, Margin: 2}, HealthHealthy},
		{"5 voters, one down", Ensemble{Voters: 5, FaultTolerance: 2, Leaders: 1, Margin: 1}, HealthDegraded},
		{"5 voters, two down", Ensemble{Voters: 5, FaultTolerance: 2, Leaders: 1, Margin: 0}, HealthAtRisk},
		{"3 voters, one down", Ensemble{Voters: 3, FaultTolerance: 1, Leaders: 1, Margin: 0}, HealthAtRisk},
		{"1 voter, up: as designed", Ensemble{Voters: 1, FaultTolerance: 0, Leaders: 1, Margin: 0}, HealthHealthy},
		{"two leaders", Ensemble{Voters: 5, FaultTolerance: 2, Leaders: 2, Margin: 2}, HealthAtRisk},
		{"lost", Ensemble{Voters: 5, FaultTolerance: 2, Margin: -1}, HealthLost},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			if got := HealthOf(test.q); got != test.want {
				t.Errorf("HealthOf = %s, want %s", got, test.want)
			}
		})
	}
	if !HealthLost.Worse(HealthAtRisk) || !HealthAtRisk.Worse(HealthDegraded) || !HealthDegraded.Worse(HealthHealthy) || HealthHealthy.Worse(HealthHealthy) {
		t.Error("Worse does not order healthy < degraded < at_risk < lost")
	}
}
