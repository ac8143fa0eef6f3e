package config

import (
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeFiles writes name -> text into a new directory and returns it.
func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestZooCfgStandalone: a zoo.cfg without server.N lines, Debian's default
// first, is one standalone voter probed where it listens.
func TestZooCfgStandalone(t *testing.T) {
	debian, err := os.ReadFile(filepath.Join("testdata", "debian-zoo.cfg"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, zooCfg string
		address      string
		standalone   bool
		warning      string // a fragment of the one warning wanted; "" = none
	}{
		{"debian default", string(debian), "127.0.0.1:2181", true, ""},
		{"clientPortAddress", "clientPort=2182\nclientPortAddress=10.0.0.5\n", "10.0.0.5:2182", true, ""},
		{"wildcard address", "clientPort=2181\nclientPortAddress=0.0.0.0\n", "127.0.0.1:2181", true, ""},
		{"IPv6 wildcard", "clientPort=2181\nclientPortAddress=::\n", "[::1]:2181", true, ""},
		{"IPv6 address", "clientPort=2181\nclientPortAddress=fd00::5\n", "[fd00::5]:2181", true, ""},
		{"secure port only", "secureClientPort=2281\n", "127.0.0.1:2281", true, "secureClientPort"},
		{"both ports", "clientPort=2181\nsecureClientPort=2281\n", "127.0.0.1:2181", true, ""},
		{"one server line", "clientPort=2181\nserver.1=zk1:2888:3888\n", "zk1:2181", true, ""},
		{"one voter, standalone disabled", "clientPort=2181\nstandaloneEnabled=false\nserver.1=zk1:2888:3888\n", "zk1:2181", false, ""},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			dir := writeFiles(t, map[string]string{"zoo.cfg": test.zooCfg})
			cfg, err := FromZooCfg("local", filepath.Join(dir, "zoo.cfg"))
			if err != nil {
				t.Fatal(err)
			}
			ensemble := cfg.Ensemble("local")
			if len(ensemble.Members) != 1 || ensemble.Members[0].Address != test.address || !ensemble.Members[0].Voter() {
				t.Errorf("members %+v, want one voter %s", ensemble.Members, test.address)
			}
			if ensemble.Standalone != test.standalone {
				t.Errorf("Standalone = %v, want %v", ensemble.Standalone, test.standalone)
			}
			switch {
			case test.warning == "" && len(cfg.Warnings) > 0:
				t.Errorf("warnings %v, want none", cfg.Warnings)
			case test.warning != "" && (len(cfg.Warnings) != 1 || !strings.Contains(cfg.Warnings[0], test.warning)):
				t.Errorf("warnings %v, want one about %s", cfg.Warnings, test.warning)
			}
		})
	}
}

// TestZooCfgSecurePortWithTLS: in a configuration file, an ensemble whose
// zoo.cfg gives only a secureClientPort is fine once it has tls settings.
func TestZooCfgSecurePortWithTLS(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"zoo.cfg": "secureClientPort=2281\nserver.1=zk1:2888:3888\nserver.2=zk2:2888:3888\nserver.3=zk3:2888:3888\n",
		"ca.pem":  "not read at load time\n",
	})
	// tls file names are relative to the working directory, unlike zoo_cfg.
	yml := "ensembles:\n  - {name: secure, zoo_cfg: zoo.cfg, tls: {ca_file: " + filepath.Join(dir, "ca.pem") + "}}\n" +
		"  - {name: plain, zoo_cfg: zoo.cfg}\n"
	if err := os.WriteFile(filepath.Join(dir, "zk.yml"), []byte(yml), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(filepath.Join(dir, "zk.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Ensemble("secure").Members[2].Address; got != "zk3:2281" {
		t.Errorf("member address %s, want zk3:2281", got)
	}
	if len(cfg.Warnings) != 1 || !strings.Contains(cfg.Warnings[0], `"plain"`) {
		t.Errorf("warnings %v, want one, about the ensemble without tls", cfg.Warnings)
	}
}

// TestZooCfgHierarchical: nine voters in three groups and an observer, with
// membership, groups and weights in the dynamic file as 3.5+ keeps them.
func TestZooCfgHierarchical(t *testing.T) {
	cfg, err := FromZooCfg("nine", filepath.Join("testdata", "hierarchical", "zoo.cfg"))
	if err != nil {
		t.Fatal(err)
	}
	ensemble := cfg.Ensemble("nine")
	if len(ensemble.Members) != 10 || len(ensemble.Voters()) != 9 || ensemble.Standalone {
		t.Fatalf("%d members, %d voters, standalone %v: want 10, 9, false", len(ensemble.Members), len(ensemble.Voters()), ensemble.Standalone)
	}
	for i, member := range ensemble.Members {
		if member.ServerID != i+1 {
			t.Errorf("member %s: server id %d, want %d", member.Address, member.ServerID, i+1)
		}
	}
	if got := ensemble.Members[8].Address; got != "10.0.3.3:2181" {
		t.Errorf("server.9's address %s, want 10.0.3.3:2181 (its wildcard client address is its host)", got)
	}
	wantGroups := map[int]int{1: 1, 2: 1, 3: 1, 4: 2, 5: 2, 6: 2, 7: 3, 8: 3, 9: 3}
	if !maps.Equal(ensemble.Groups, wantGroups) {
		t.Errorf("Groups = %v, want %v", ensemble.Groups, wantGroups)
	}
	wantWeights := map[int]int{1: 1, 2: 1, 3: 1, 4: 1, 5: 1, 6: 1, 7: 2, 8: 0, 9: 1}
	if !maps.Equal(ensemble.Weights, wantWeights) {
		t.Errorf("Weights = %v, want %v", ensemble.Weights, wantWeights)
	}
	if len(cfg.Warnings) != 0 {
		t.Errorf("warnings %v, want none", cfg.Warnings)
	}
}

// TestZooCfgProblems: every problem of a zoo.cfg and its dynamic file is
// reported at once, each naming its file and line.
func TestZooCfgProblems(t *testing.T) {
	const servers = "clientPort=2181\nserver.1=h1:1:2\nserver.2=h2:1:2\nserver.3=h3:1:2\nserver.4=h4:1:2:observer\n"
	tests := []struct {
		name  string
		files map[string]string
		want  []string // fragments, each on its own line of the error
		not   []string // fragments that must not appear
		// ordered: want lists every problem, in the order of the file.
		ordered bool
	}{
		{
			name:  "group names an unknown server",
			files: map[string]string{"zoo.cfg": servers + "group.1=1:2:7\n"},
			want:  []string{"zoo.cfg:6: group.1 names server 7, which has no server.7 line"},
		},
		{
			name:  "server in two groups",
			files: map[string]string{"zoo.cfg": servers + "group.1=1:2\ngroup.2=2:3\n"},
			want:  []string{"zoo.cfg:7: server 2 is also in group.1 (", "zoo.cfg:6)"},
		},
		{
			name:  "observer in a group",
			files: map[string]string{"zoo.cfg": servers + "group.1=1:2:3:4\n"},
			want:  []string{"zoo.cfg:6: group.1 names server 4, an observer"},
		},
		{
			name:  "voter in no group",
			files: map[string]string{"zoo.cfg": servers + "group.1=1\n"},
			want:  []string{`member "h2:2181": no group, while other voters have one`, `member "h3:2181": no group`},
		},
		{
			name:  "weights without groups are ignored, as ZooKeeper does",
			files: map[string]string{"zoo.cfg": servers + "weight.1=3\n"},
		},
		{
			name:  "weight for no server, weight not a number, negative weight",
			files: map[string]string{"zoo.cfg": servers + "group.1=1:2:3\nweight.9=1\nweight.1=x\nweight.2=-1\n"},
			want:  []string{"zoo.cfg:7: weight.9 names no server", `zoo.cfg:8: weight.1: "x" is not a number`, "zoo.cfg:9: weight.2=-1 is negative"},
		},
		{
			name:  "bad keys and ports, all at once",
			files: map[string]string{"zoo.cfg": "clientPort=21a1\nserver.x=h:1:2\ngroup.y=1\nserver.1=h1:1:2\ngroup.1=1\n"},
			want:  []string{`zoo.cfg:1: clientPort "21a1" is not a port`, `zoo.cfg:2: "server.x" is not server.<number>`, `zoo.cfg:3: "group.y" is not group.<number>`, "zoo.cfg:4: server.1 has no client port"},
			// server.1's line is there, only unusable: no second message.
			not:     []string{"no server.1 line"},
			ordered: true,
		},
		{
			name:  "missing dynamic file",
			files: map[string]string{"zoo.cfg": "clientPort=2181\ndynamicConfigFile=zoo.cfg.dynamic\n"},
			want:  []string{"zoo.cfg:2: dynamicConfigFile:", "zoo.cfg.dynamic"},
		},
		{
			name: "server in both files",
			files: map[string]string{
				"zoo.cfg":         "clientPort=2181\nserver.1=h1:1:2\ndynamicConfigFile=zoo.cfg.dynamic\n",
				"zoo.cfg.dynamic": "server.1=h1:1:2;2181\nserver.2=h2:1:2;2181\ngroup.1=1:2\ngroup.2=3\n",
			},
			want: []string{"zoo.cfg.dynamic:1: server.1 is also at ", "zoo.cfg:2", "zoo.cfg.dynamic:4: group.2 names server 3"},
		},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			dir := writeFiles(t, test.files)
			cfg, err := FromZooCfg("a", filepath.Join(dir, "zoo.cfg"))
			if test.want == nil {
				if err != nil {
					t.Fatalf("FromZooCfg() = %v, want valid", err)
				}
				if len(cfg.Warnings) != 1 || !strings.Contains(cfg.Warnings[0], "ZooKeeper ignores them") {
					t.Errorf("warnings %v, want one about ignored weights", cfg.Warnings)
				}
				return
			}
			if err == nil {
				t.Fatal("FromZooCfg() accepted an invalid zoo.cfg")
			}
			lines := strings.Split(err.Error(), "\n")
			for i, fragment := range test.want {
				if !strings.Contains(err.Error(), fragment) {
					t.Errorf("error %q does not contain %q", err, fragment)
				} else if test.ordered && (len(lines) != len(test.want) || !strings.Contains(lines[i], fragment)) {
					t.Errorf("problem %d is %q, want %q: in the order of the file, and nothing else:\n%s", i+1, lines[i], fragment, err)
				}
			}
			for _, fragment := range test.not {
				if strings.Contains(err.Error(), fragment) {
					t.Errorf("error %q contains %q", err, fragment)
				}
			}
		})
	}
}

// TestZooCfgProblemsInConfigFile: a zoo_cfg's problems come with the line of
// the ensemble naming it, beside the file's other problems.
func TestZooCfgProblemsInConfigFile(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"zoo.cfg": "clientPort=2181\nserver.1=h1:1:2\nserver.2=h2:1:2\nserver.3=h3:1:2\ngroup.1=1:2:4\ngroup.2=3\n",
		"zk.yml": "ensembles:\n  - name: kafka\n    zoo_cfg: zoo.cfg\n  - name: broken\n    zoo_cfg: missing.cfg\n" +
			"  - name: both\n    zoo_cfg: zoo.cfg\n    members: [{address: h:1}]\n  - name: typo\n    members: [{address: h:1, rack: r1}]\n",
	})
	_, err := Load(filepath.Join(dir, "zk.yml"))
	if err == nil {
		t.Fatal("Load() accepted an invalid configuration")
	}
	for _, fragment := range []string{
		`zk.yml:2: ensemble "kafka": ` + filepath.Join(dir, "zoo.cfg") + ":5: group.1 names server 4",
		`zk.yml:4: ensemble "broken": `,
		"missing.cfg",
		`zk.yml:6: ensemble "both": give either members or zoo_cfg`,
		`zk.yml:10: ensemble "typo" member "h:1": unknown key "rack"`,
	} {
		if !strings.Contains(err.Error(), fragment) {
			t.Errorf("error %q does not contain %q", err, fragment)
		}
	}
	if strings.Contains(err.Error(), `"broken" has no members`) {
		t.Errorf("error %q repeats the unreadable zoo_cfg as no members", err)
	}
}
