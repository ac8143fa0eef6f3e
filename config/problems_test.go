package config

import (
	"maps"
	"strings"
	"testing"
)

// TestEveryProblemAtOnce: a file with a typo'd key, a wrong role, a bad
// address, a duplicate member, a value of the wrong type and more gets one
// error listing each of them, in file order, each with its file:line and
// its ensemble and member; and nothing else.
func TestEveryProblemAtOnce(t *testing.T) {
	const file = "testdata/many-problems.yml"
	want := []struct {
		line      string
		fragments []string
	}{
		{"3", []string{`unknown key "scrape_interval"`}},
		{"8", []string{`ensemble "edge" member #2`, `unknown key "adress" (did you mean "address"?)`}},
		{"8", []string{`ensemble "edge" member #2`, "no address"}},
		{"10", []string{`ensemble "edge" member "10.0.1.3:2181"`, `role "obsrver" is neither voter nor observer`}},
		{"11", []string{`ensemble "edge" member "10.0.1.4"`, "want host:port"}},
		{"12", []string{`ensemble "edge" member "10.0.1.1:2181"`, "duplicate member (first on line 7)"}},
		{"14", []string{`ensemble "kafka"`, "soon", "time.Duration"}},
		{"16", []string{`ensemble "kafka" member "10.0.3.1:2181"`, "weight without groups"}},
		{"17", []string{`ensemble "kafka" member "10.0.3.2:2181"`, `label "instance" is set by the exporter`}},
	}
	cfg, err := Load(file)
	if err == nil {
		t.Fatalf("Load(%s) accepted it: %+v", file, cfg)
	}
	got := strings.Split(err.Error(), "\n")
	if len(got) != len(want) {
		t.Errorf("%d problems reported, want %d:\n%s", len(got), len(want), err)
	}
	for i, problem := range want {
		if i >= len(got) {
			t.Errorf("missing problem at line %s: %v", problem.line, problem.fragments)
			continue
		}
		if prefix := file + ":" + problem.line + ": "; !strings.HasPrefix(got[i], prefix) {
			t.Errorf("problem %d = %q, want it at %s", i+1, got[i], prefix)
		}
		for _, fragment := range problem.fragments {
			if !strings.Contains(got[i], fragment) {
				t.Errorf("problem %d = %q, want it to say %q", i+1, got[i], fragment)
			}
		}
	}
}

// TestSchemaStaysStrict: unknown keys are errors at every level, named
// with their place, while YAML's own merge keys and anchors still work.
func TestSchemaStaysStrict(t *testing.T) {
	tests := []struct {
		name, yaml string
		want       []string // every fragment must appear in the error; nil = valid
	}{
		{
			name: "unknown tls key",
			yaml: "ensembles:\n  - name: a\n    tls: {ca_fille: x}\n    members: [{address: h:1}]\n",
			want: []string{"zk.yml:3:", `ensemble "a"`, `unknown key "ca_fille" (did you mean "ca_file"?)`},
		},
		{
			name: "unknown key far from any known one",
			yaml: "ensembles:\n  - name: a\n    members: [{address: h:1, zzzzzz: 1}]\n",
			want: []string{"zk.yml:3:", `member "h:1"`, `unknown key "zzzzzz"`},
		},
		{
			name: "unnamed ensemble",
			yaml: "ensembles:\n  - members: [{address: h:1}]\n    nmae: a\n",
			want: []string{"zk.yml:3:", "ensemble #1", `"nmae" (did you mean "name"?)`},
		},
		{
			name: "member that is no mapping",
			yaml: "ensembles:\n  - name: a\n    members:\n      - h:1\n",
			want: []string{"zk.yml:4:", `ensemble "a" member #1`, "cannot unmarshal"},
		},
		{
			name: "keys set by the exporter itself",
			yaml: "ensembles:\n  - name: a\n    standalone: true\n    members: [{address: h:1}]\n",
			want: []string{"zk.yml:3:", `unknown key "standalone"`},
		},
		{
			name: "discover neither conf nor off",
			yaml: "ensembles:\n  - name: a\n    discover: dns\n    max_discovered: -1\n    members: [{address: h:1}]\n",
			want: []string{"zk.yml:2:", `ensemble "a": discover "dns" is neither conf nor off`, `max_discovered -1 is negative`},
		},
		{
			name: "discover off",
			yaml: "ensembles:\n  - name: a\n    discover: off\n    max_discovered: 5\n    members: [{address: h:1}]\n",
		},
		{
			name: "merge keys and anchors",
			yaml: "ensembles:\n  - name: a\n    members:\n      - &m {address: h:1, datacenter: dc1}\n" +
				"      - {<<: *m, address: h:2}\n      - {<<: *m, address: h:3}\n",
		},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			_, err := Parse("zk.yml", []byte(test.yaml))
			if test.want == nil {
				if err != nil {
					t.Fatalf("Parse() = %v, want valid", err)
				}
				return
			}
			if err == nil {
				t.Fatal("Parse() accepted an invalid configuration")
			}
			for _, fragment := range test.want {
				if !strings.Contains(err.Error(), fragment) {
					t.Errorf("error %q does not contain %q", err, fragment)
				}
			}
		})
	}
}

func TestGroupsFromYAML(t *testing.T) {
	cfg, err := Parse("zk.yml", []byte(`
ensembles:
  - name: two-sites
    members:
      - {address: "a1:2181", server_id: 1, group: 1}
      - {address: "a2:2181", server_id: 2, group: 1, weight: 2}
      - {address: "b1:2181", server_id: 3, group: 2}
      - {address: "b2:2181", server_id: 4, group: 2, weight: 0}
      - {address: "c1:2181", server_id: 5, role: observer}
  - name: plain
    members:
      - {address: "p1:2181"}
`))
	if err != nil {
		t.Fatal(err)
	}
	sites := cfg.Ensemble("two-sites")
	if want := map[int]int{1: 1, 2: 1, 3: 2, 4: 2}; !maps.Equal(sites.Groups, want) {
		t.Errorf("Groups = %v, want %v", sites.Groups, want)
	}
	if want := map[int]int{1: 1, 2: 2, 3: 1, 4: 0}; !maps.Equal(sites.Weights, want) {
		t.Errorf("Weights = %v, want %v", sites.Weights, want)
	}
	if plain := cfg.Ensemble("plain"); plain.Groups != nil || plain.Weights != nil {
		t.Errorf("plain ensemble: Groups %v, Weights %v, want nil", plain.Groups, plain.Weights)
	}
	// Four voters in groups are sized by groups: no even-voters warning.
	if len(cfg.Warnings) != 0 {
		t.Errorf("warnings %v, want none", cfg.Warnings)
	}
}

func TestGroupProblems(t *testing.T) {
	const head = "ensembles:\n  - name: a\n    members:\n"
	tests := []struct {
		name    string
		members string
		want    []string
	}{
		{
			name: "group on some voters only",
			members: "      - {address: h:1, server_id: 1, group: 1}\n" +
				"      - {address: h:2, server_id: 2, group: 1}\n" +
				"      - {address: h:3, server_id: 3}\n",
			want: []string{"zk.yml:6:", `member "h:3"`, "no group, while other voters have one"},
		},
		{
			name:    "weight without groups",
			members: "      - {address: h:1, weight: 2}\n",
			want:    []string{"zk.yml:4:", `member "h:1"`, "weight without groups"},
		},
		{
			name:    "negative weight",
			members: "      - {address: h:1, server_id: 1, group: 1, weight: -1}\n",
			want:    []string{"zk.yml:4:", `member "h:1"`, "weight -1 is negative"},
		},
		{
			name:    "group without server id",
			members: "      - {address: h:1, group: 1}\n",
			want:    []string{"zk.yml:4:", `member "h:1"`, "group needs server_id"},
		},
		{
			name: "group on an observer without its id",
			members: "      - {address: h:1, server_id: 1, group: 1}\n" +
				"      - {address: h:2, group: 1, role: observer}\n",
			want: []string{"zk.yml:5:", `member "h:2"`, "group needs server_id"},
		},
		{
			name: "every group weighs nothing",
			members: "      - {address: h:1, server_id: 1, group: 1, weight: 0}\n" +
				"      - {address: h:2, server_id: 2, group: 2, weight: 0}\n",
			want: []string{"zk.yml:2:", `ensemble "a"`, "every group weighs 0"},
		},
		{
			name:    "weight that is no number",
			members: "      - {address: h:1, server_id: 1, group: 1, weight: heavy}\n",
			want:    []string{"zk.yml:4:", `ensemble "a" member "h:1"`, "heavy"},
		},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			_, err := Parse("zk.yml", []byte(head+test.members))
			if err == nil {
				t.Fatal("Parse() accepted an invalid configuration")
			}
			for _, fragment := range test.want {
				if !strings.Contains(err.Error(), fragment) {
					t.Errorf("error %q does not contain %q", err, fragment)
				}
			}
		})
	}
}

func TestFromDefault(t *testing.T) {
	cfg := FromDefault()
	if err := cfg.Validate(); err != nil {
		t.Fatalf("the default configuration is invalid: %v", err)
	}
	if cfg.Source != "default (localhost:2181)" {
		t.Errorf("Source = %q", cfg.Source)
	}
	if len(cfg.Ensembles) != 1 || cfg.Ensemble("default") == nil {
		t.Fatalf("ensembles %+v, want one named default", cfg.Ensembles)
	}
	members := cfg.Ensemble("default").Members
	if len(members) != 1 || members[0].Address != "localhost:2181" || !members[0].Voter() {
		t.Errorf("members %+v, want one voter localhost:2181", members)
	}
	if len(cfg.Warnings) != 0 {
		t.Errorf("warnings %v, want none", cfg.Warnings)
	}
}
