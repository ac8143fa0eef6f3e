package rules

import (
	"os"
	"reflect"
	"testing"

	"gopkg.in/yaml.v3"
)

// TestAlertmanagerExample keeps examples/alertmanager.yml's inhibition chain
// in step with the alert names.
func TestAlertmanagerExample(t *testing.T) {
	b, err := os.ReadFile("../examples/alertmanager.yml")
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		InhibitRules []struct {
			SourceMatchers []string `yaml:"source_matchers"`
			TargetMatchers []string `yaml:"target_matchers"`
			Equal          []string `yaml:"equal"`
		} `yaml:"inhibit_rules"`
	}
	if err := yaml.Unmarshal(b, &cfg); err != nil {
		t.Fatal(err)
	}
	rf, err := Rules(nil)
	if err != nil {
		t.Fatal(err)
	}
	alerts := map[string]bool{}
	for _, g := range rf.Groups {
		for _, r := range g.Rules {
			if r.Alert != "" {
				alerts[r.Alert] = true
			}
		}
	}
	inhibits := map[[2]string]bool{}
	for _, r := range cfg.InhibitRules {
		if len(r.SourceMatchers) != 1 || len(r.TargetMatchers) != 1 {
			t.Fatalf("inhibit rule %v: want one alertname matcher each side", r)
		}
		src, dst := alertname(t, r.SourceMatchers[0]), alertname(t, r.TargetMatchers[0])
		// Per ensemble, and per cluster: one cluster's trouble never
		// silences another's ensemble of the same name.
		want := []string{"cluster", "ensemble"}
		if src == "ZooKeeperExporterDown" {
			want = want[:1]
		}
		if !reflect.DeepEqual(r.Equal, want) {
			t.Errorf("inhibit rule %s -> %s: equal %v, want %v", src, dst, r.Equal, want)
		}
		for _, a := range []string{src, dst} {
			if !alerts[a] {
				t.Errorf("inhibit rule names %s, which the mixin does not define", a)
			}
		}
		inhibits[[2]string{src, dst}] = true
	}
	chain := []string{"ZooKeeperQuorumLost", "ZooKeeperQuorumAtRisk", "ZooKeeperFaultToleranceReduced", "ZooKeeperVoterDown"}
	for i := range chain {
		for _, lower := range chain[i+1:] {
			if !inhibits[[2]string{chain[i], lower}] {
				t.Errorf("%s does not inhibit %s", chain[i], lower)
			}
		}
	}
}

func alertname(t *testing.T, matcher string) string {
	t.Helper()
	const prefix = `alertname="`
	if len(matcher) < len(prefix)+1 || matcher[:len(prefix)] != prefix || matcher[len(matcher)-1] != '"' {
		t.Fatalf("matcher %q: want alertname=\"...\"", matcher)
	}
	return matcher[len(prefix) : len(matcher)-1]
}
