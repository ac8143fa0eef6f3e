package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseValid(t *testing.T) {
	cfg, err := Parse("zk.yml", []byte(`
timeout: 2s
ensembles:
  - name: prod
    timeout: 1s
    members:
      - {address: "zk1:2181", datacenter: dc1, server_id: 1, labels: {rack: r1}}
      - {address: "zk2:2181", datacenter: dc1}
      - {address: "zk3:2181", datacenter: dc2}
      - {address: "zk4:2181", datacenter: dc2, role: observer}
  - name: test
    members:
      - address: "[::1]:2181"
`))
	if err != nil {
		t.Fatal(err)
	}
	prod := cfg.Ensemble("prod")
	if got := len(prod.Voters()); got != 3 {
		t.Errorf("prod voters = %d, want 3", got)
	}
	if prod.Members[1].Role != RoleVoter {
		t.Errorf("default role = %q, want voter", prod.Members[1].Role)
	}
	if got := cfg.MemberTimeout(prod); got != time.Second {
		t.Errorf("prod timeout = %s, want the ensemble's 1s", got)
	}
	if got := cfg.MemberTimeout(cfg.Ensemble("test")); got != 2*time.Second {
		t.Errorf("test timeout = %s, want the global 2s", got)
	}
	if got := cfg.LabelNames(); len(got) != 1 || got[0] != "rack" {
		t.Errorf("LabelNames() = %v, want [rack]", got)
	}
	if len(cfg.Warnings) != 0 {
		t.Errorf("unexpected warnings %v", cfg.Warnings)
	}
}

func TestParseErrorsNameFileLineAndMember(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want []string // every fragment must appear in the error
	}{
		{
			name: "unknown key",
			yaml: "ensembles:\n  - name: a\n    membres: []\n",
			want: []string{"zk.yml:3:", "membres"},
		},
		{
			name: "unknown member key",
			yaml: "ensembles:\n  - name: a\n    members:\n      - address: h:1\n        rol: voter\n",
			want: []string{"zk.yml:5:", "rol"},
		},
		{
			name: "duplicate member",
			yaml: "ensembles:\n  - name: a\n    members:\n      - address: h:1\n      - address: h:1\n",
			want: []string{"zk.yml:5:", `member "h:1"`, "duplicate member"},
		},
		{
			name: "no voters",
			yaml: "ensembles:\n  - name: a\n    members:\n      - {address: h:1, role: observer}\n",
			want: []string{"zk.yml:2:", `ensemble "a" has no voters`},
		},
		{
			name: "bad address",
			yaml: "ensembles:\n  - name: a\n    members:\n      - address: h:1\n      - address: nohost\n",
			want: []string{"zk.yml:5:", `member "nohost"`, "host:port"},
		},
		{
			name: "bad port",
			yaml: "ensembles:\n  - name: a\n    members:\n      - address: h:99999\n",
			want: []string{"zk.yml:4:", "99999"},
		},
		{
			name: "bad role",
			yaml: "ensembles:\n  - name: a\n    members:\n      - {address: h:1, role: leader}\n",
			want: []string{"zk.yml:4:", `role "leader"`},
		},
		{
			name: "duplicate ensemble",
			yaml: "ensembles:\n  - name: a\n    members: [{address: h:1}]\n  - name: a\n    members: [{address: h:2}]\n",
			want: []string{"zk.yml:4:", `ensemble "a" is configured twice`},
		},
		{
			name: "reserved label",
			yaml: "ensembles:\n  - name: a\n    members: [{address: h:1, labels: {role: x}}]\n",
			want: []string{"zk.yml:3:", `label "role"`},
		},
		{
			name: "no ensembles",
			yaml: "timeout: 1s\n",
			want: []string{"zk.yml", "no ensembles"},
		},
		{
			name: "empty file",
			yaml: "",
			want: []string{"zk.yml", "empty configuration"},
		},
		{
			name: "not yaml",
			yaml: "ensembles: [\n",
			want: []string{"zk.yml:"},
		},
		{
			name: "several problems at once",
			yaml: "ensembles:\n  - name: a\n    members:\n      - address: h:1\n      - address: h:1\n  - members: [{address: h:2}]\n",
			want: []string{"zk.yml:5:", "duplicate member", "zk.yml:6:", "no name"},
		},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			_, err := Parse("zk.yml", []byte(test.yaml))
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

func TestEvenVotersWarn(t *testing.T) {
	cfg, err := FromServers("x", "h1:1,h2:1,h3:1,h4:1,h5:1:observer")
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Warnings) != 1 || !strings.Contains(cfg.Warnings[0], "4 voters") {
		t.Errorf("warnings = %v, want one about 4 voters", cfg.Warnings)
	}
}

func TestFromServers(t *testing.T) {
	cfg, err := FromServers("edge", "10.0.0.1 10.0.0.2:2182@dc1,10.0.0.3:observer@dc2, [::1]:2183:voter")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, member := range cfg.Ensembles[0].Members {
		got = append(got, member.Address+"/"+member.Role+"/"+member.Datacenter)
	}
	want := "10.0.0.1:2181/voter/ 10.0.0.2:2182/voter/dc1 10.0.0.3:2181/observer/dc2 [::1]:2183/voter/"
	if strings.Join(got, " ") != want {
		t.Errorf("members = %v, want %v", got, want)
	}
	if _, err := FromServers("edge", "h:2181:observer"); err == nil || !strings.Contains(err.Error(), "no voters") {
		t.Errorf("observers only: err = %v, want no voters", err)
	}
}

func TestZooCfg(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	path := write("zoo.cfg", `# the seed's template
server.1=localhost:28881:38881
server.2=localhost:28882:38882;21812
server.3=[::1]:28883:38883:observer;127.0.0.1:21813
syncLimit=5
clientPort=2181
`)
	cfg, err := FromZooCfg("seed", path)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, member := range cfg.Ensembles[0].Members {
		got = append(got, member.Address+"/"+member.Role)
	}
	want := "localhost:2181/voter localhost:21812/voter 127.0.0.1:21813/observer"
	if strings.Join(got, " ") != want {
		t.Errorf("members = %v, want %v", got, want)
	}
	if id := cfg.Ensembles[0].Members[2].ServerID; id != 3 {
		t.Errorf("server id = %d, want 3", id)
	}

	write("zoo.dyn", "server.1=h1:1:2:participant;2181\nserver.2=h2:1:2:participant;2181\n")
	withDynamic := write("zoo2.cfg", "dynamicConfigFile=zoo.dyn\n")
	ensemble, err := ReadZooCfg(withDynamic)
	if err != nil || len(ensemble.Members) != 2 || ensemble.Members[1].Address != "h2:2181" {
		t.Errorf("dynamic config: ensemble %+v, err %v", ensemble, err)
	}

	for name, text := range map[string]string{
		"bad.cfg":     "clientPort=2181\nserver.x=h:1:2\n",
		"role.cfg":    "clientPort=2181\nserver.1=h:1:2:witness\n",
		"dup.cfg":     "clientPort=2181\nserver.1=h:1:2\nserver.1=h:3:4\n",
		"noport.cfg":  "server.1=h:1:2\n",
		"noserve.cfg": "tickTime=2000\n",
	} {
		_, err := ReadZooCfg(write(name, text))
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: err = %v, want an error naming the file", name, err)
		}
	}

	yamlPath := write("zk.yml", "ensembles:\n  - name: from-file\n    zoo_cfg: zoo.cfg\n")
	cfg, err = Load(yamlPath)
	if err != nil {
		t.Fatal(err)
	}
	if got := len(cfg.Ensembles[0].Members); got != 3 {
		t.Errorf("zoo_cfg in YAML: %d members, want 3", got)
	}
}

func TestExampleConfigIsValid(t *testing.T) {
	cfg, err := Load(filepath.Join("..", "examples", "config.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if edge := cfg.Ensemble("edge"); edge == nil || len(edge.Voters()) != 5 {
		t.Errorf("examples/config.yml: want ensemble edge with 5 voters")
	}
}
