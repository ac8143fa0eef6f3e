package roll

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/quorumwatch/zookeeper_exporter/config"
	"github.com/quorumwatch/zookeeper_exporter/ensemble"
	"github.com/quorumwatch/zookeeper_exporter/maintenance"
	"github.com/quorumwatch/zookeeper_exporter/rules"
)

// The alerts a step silences are the mixin's alerts about one member
// (grouped by member) that a restart sets off, and no quorum alert.
func TestMemberAlertsAreTheMixins(t *testing.T) {
	defaults, err := rules.DefaultConfig()
	if err != nil {
		t.Fatal(err)
	}
	file, err := rules.Rules(defaults)
	if err != nil {
		t.Fatal(err)
	}
	perMember := map[string]bool{}
	for _, group := range file.Groups {
		for _, rule := range group.Rules {
			if rule.Alert != "" && strings.Contains(rule.Expr, "member") {
				perMember[rule.Alert] = true
			}
			if rule.Alert != "" && strings.Contains(rule.Alert, "Quorum") && slices.Contains(MemberAlerts, rule.Alert) {
				t.Errorf("%s is silenced during a step", rule.Alert)
			}
		}
	}
	for _, name := range MemberAlerts {
		if !perMember[name] {
			t.Errorf("%s is not a per-member alert of the mixin", name)
		}
	}
}

func TestExpand(t *testing.T) {
	member := &ensemble.ProbedMember{Member: &config.Member{Address: "zk3.east:2181"}, ServerID: 3}
	got, err := expand("ssh {host} systemctl restart zookeeper # {address} {port} {server_id} ${HOME}", member)
	if want := "ssh zk3.east systemctl restart zookeeper # zk3.east:2181 2181 3 ${HOME}"; err != nil || got != want {
		t.Errorf("expand = %q, %v; want %q", got, err, want)
	}
	member.ServerID = 0
	if _, err := expand("restart {server_id}", member); err == nil || !strings.Contains(err.Error(), "zk3.east:2181") {
		t.Errorf("an unknown server id: err %v, want one naming the member", err)
	}
}

func TestPrefixWriter(t *testing.T) {
	var out bytes.Buffer
	w := &prefixWriter{prefix: "[zk1:2181] ", out: &out}
	_, _ = w.Write([]byte("stopping\nstar"))
	_, _ = w.Write([]byte("ted\nlast"))
	w.flush()
	if want := "[zk1:2181] stopping\n[zk1:2181] started\n[zk1:2181] last\n"; out.String() != want {
		t.Errorf("got %q, want %q", out.String(), want)
	}
}

func TestChosen(t *testing.T) {
	plan := maintenance.Plan{Ensemble: "m", Steps: []maintenance.Step{
		{Member: "h:6", ServerID: "6", Kind: maintenance.KindObserver},
		{Member: "h:1", ServerID: "1", Kind: maintenance.KindFollower},
		{Member: "h:2", ServerID: "2", Kind: maintenance.KindFollower},
		{Member: "h:3", ServerID: "3", Kind: maintenance.KindLeader},
	}}
	tests := []struct {
		name       string
		only, skip []string
		done       map[string]bool
		want       string
		err        string
	}{
		{name: "all, in the plan's order", want: "h:6 h:1 h:2 h:3"},
		{name: "done ones left out", done: map[string]bool{"h:6": true, "h:1": true}, want: "h:2 h:3"},
		{name: "--only by address and server id", only: []string{"h:3", "1"}, want: "h:1 h:3"},
		{name: "--skip", skip: []string{"6", "h:3"}, want: "h:1 h:2"},
		{name: "--only naming no member", only: []string{"h:9"}, err: `"h:9" is neither`},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			r := &roller{c: &Command{Only: test.only, Skip: test.skip}}
			err := r.checkSelection(plan)
			if test.err != "" {
				if err == nil || !strings.Contains(err.Error(), test.err) {
					t.Errorf("checkSelection: %v, want an error saying %q", err, test.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, s := range r.chosen(plan, test.done) {
				got = append(got, s.Member)
			}
			if strings.Join(got, " ") != test.want {
				t.Errorf("chosen %v, want %s", got, test.want)
			}
		})
	}
}
