package config

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"
)

// The fuzz targets check what the exporter relies on from any configuration
// that loads: never a nil configuration without an error, and every value
// that becomes a label is UTF-8 (client_golang panics on any other). Seeds
// are the YAML of examples/ and of the tests; see docs/testing.md for the
// long runs.

func FuzzParse(f *testing.F) {
	example, err := os.ReadFile(filepath.Join("..", "examples", "config.yml"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(example)
	for _, seed := range []string{
		"timeout: 2s\nensembles:\n  - name: prod\n    timeout: 1s\n    members:\n" +
			"      - {address: \"zk1:2181\", datacenter: dc1, server_id: 1, labels: {rack: r1}}\n" +
			"      - {address: \"zk4:2181\", datacenter: dc2, role: observer}\n" +
			"  - name: test\n    members:\n      - address: \"[::1]:2181\"\n",
		"ensembles:\n  - name: a\n    admin_port: 8080\n    members:\n      - {address: h:1, admin_url: \"http://h:8080/commands\"}\n",
		"ensembles:\n  - name: a\n    members:\n      - address: h:1\n      - address: h:1\n  - members: [{address: h:2}]\n",
		"ensembles:\n  - name: a\n    zoo_cfg: zoo.cfg\n",
		"ensembles:\n  - name: a\n    tls: {ca_file: ca.pem, insecure_skip_verify: true}\n    members: [{address: h:1}]\n",
		"ensembles:\n  - name: a\n    members: [{address: !!binary /zox, datacenter: !!binary /w==}]\n",
		"ensembles: [\n",
		"ensembles:\n  - &e {name: a, members: [{address: h:1}]}\n  - *e\n",
		"ensembles:\n  - name: a\n    members:\n      - {address: h:1, server_id: 1, group: 1, weight: 2}\n" +
			"      - {address: h:2, server_id: 2, group: 2, weight: 0}\n      - {address: h:3, server_id: 3, group: 2}\n",
		"ensembles:\n  - name: a\n    members:\n      - &m {address: h:1, datacenter: dc1}\n      - {<<: *m, address: h:2}\n",
		"scrape_interval: 1s\nensembles:\n  - name: a\n    timeout: soon\n    members:\n      - {adress: h:1, role: obsrver}\n",
		"",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse("fuzz.yml", data)
		if err != nil {
			if cfg != nil {
				t.Fatalf("Parse returned a configuration with error %v", err)
			}
			if !strings.HasPrefix(err.Error(), "fuzz.yml") {
				t.Fatalf("error %q does not name the file", err)
			}
			return
		}
		if cfg == nil {
			t.Fatal("Parse returned neither a configuration nor an error")
		}
		checkConfig(t, cfg)
	})
}

func FuzzFromServers(f *testing.F) {
	for _, seed := range []struct{ name, servers string }{
		{"edge", "10.0.0.1 10.0.0.2:2182@dc1,10.0.0.3:observer@dc2, [::1]:2183:voter"},
		{"x", "h1:1,h2:1,h3:1,h4:1,h5:1:observer"},
		{"default", "zk1:2181,zk2:2181,zk3:2181:observer"},
		{"default", "h:2181:observer"},
		{"\xff", "\xfe:1@\xfd"},
	} {
		f.Add(seed.name, seed.servers)
	}
	f.Fuzz(func(t *testing.T, name, servers string) {
		cfg, err := FromServers(name, servers)
		if err != nil {
			if cfg != nil {
				t.Fatalf("FromServers returned a configuration with error %v", err)
			}
			return
		}
		if cfg == nil {
			t.Fatal("FromServers returned neither a configuration nor an error")
		}
		checkConfig(t, cfg)
		if len(cfg.Ensembles) != 1 || cfg.Ensembles[0].Name != name {
			t.Fatalf("FromServers(%q) built %d ensembles", name, len(cfg.Ensembles))
		}
		// Written back in the same syntax, the members parse the same.
		var items []string
		for _, member := range cfg.Ensembles[0].Members {
			item := member.Address
			if member.Role == RoleObserver {
				item += ":" + RoleObserver
			}
			if member.Datacenter != "" {
				item += "@" + member.Datacenter
			}
			items = append(items, item)
		}
		again, err := FromServers(name, strings.Join(items, ","))
		if err != nil {
			t.Fatalf("%q written back as %q: %v", servers, strings.Join(items, ","), err)
		}
		if !slices.EqualFunc(again.Ensembles[0].Members, cfg.Ensembles[0].Members, func(a, b *Member) bool {
			return a.Address == b.Address && a.Role == b.Role && a.Datacenter == b.Datacenter
		}) {
			t.Fatalf("%q written back as %q parses differently", servers, strings.Join(items, ","))
		}
	})
}

func FuzzZooCfg(f *testing.F) {
	for _, seed := range []string{
		"tickTime=2000\ndataDir=/tmp/zookeeper\nclientPort=2181\n",
		"clientPort=2181\nclientPortAddress=::\n",
		"secureClientPort=2281\nsecureClientPortAddress=10.0.0.1\n",
		"server.1=localhost:28881:38881\nserver.2=localhost:28882:38882;21812\n" +
			"server.3=[::1]:28883:38883:observer;127.0.0.1:21813\nclientPort=2181\n",
		"server.1=a:1:2;2181\nserver.2=b:1:2;2181\nserver.3=c:1:2;2181\nserver.4=d:1:2:observer;2181\n" +
			"group.1=1:2\ngroup.2=3\nweight.1=2\nweight.3=0\n",
		"clientPort=2181\nserver.1=h:1:2\ngroup.1=1:1\nweight.1=-1\nweight.2=1\n",
		"standaloneEnabled=false\nserver.1=h:1:2;2181\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		// The file's lines only: a fuzzed dynamicConfigFile must not make
		// the test read files of this machine.
		z := newZooCfg()
		z.parse("fuzz.cfg", 0, data)
		ensemble := z.ensemble("fuzz.cfg")
		if len(z.problems) > 0 {
			for _, text := range z.problemTexts() {
				if !strings.HasPrefix(text, "fuzz.cfg") {
					t.Fatalf("problem %q does not name the file", text)
				}
			}
			return
		}
		ensemble.Name = "fuzz"
		cfg := &Config{Source: "fuzz.cfg", Ensembles: []*Ensemble{ensemble}}
		if cfg.Validate() != nil {
			return
		}
		checkConfig(t, cfg)
		for _, member := range ensemble.Members {
			if member.ServerID <= 0 && !ensemble.Standalone {
				t.Fatalf("member %q of a zoo.cfg has no server id", member.Address)
			}
		}
		if ensemble.Standalone && len(ensemble.Voters()) != 1 {
			t.Fatalf("standalone with %d voters", len(ensemble.Voters()))
		}
	})
}

// checkConfig asserts what the collector relies on from a valid
// configuration.
func checkConfig(t *testing.T, cfg *Config) {
	t.Helper()
	if len(cfg.Ensembles) == 0 {
		t.Fatal("a valid configuration without ensembles")
	}
	names := map[string]bool{}
	for _, ensemble := range cfg.Ensembles {
		if ensemble == nil || ensemble.Name == "" || names[ensemble.Name] {
			t.Fatalf("ensemble %+v is nil, unnamed or a duplicate", ensemble)
		}
		names[ensemble.Name] = true
		if len(ensemble.Voters()) == 0 {
			t.Fatalf("ensemble %q has no voters", ensemble.Name)
		}
		if timeout := cfg.MemberTimeout(ensemble); timeout <= 0 {
			t.Fatalf("ensemble %q: member timeout %s", ensemble.Name, timeout)
		}
		labelValues := []string{ensemble.Name}
		for _, member := range ensemble.Members {
			if member == nil {
				t.Fatalf("ensemble %q has a nil member", ensemble.Name)
			}
			if err := checkAddress(member.Address); err != nil {
				t.Fatalf("member %q: %v", member.Address, err)
			}
			if member.Role != RoleVoter && member.Role != RoleObserver {
				t.Fatalf("member %q has role %q", member.Address, member.Role)
			}
			labelValues = append(labelValues, member.Address, member.Datacenter)
			for _, value := range member.Labels {
				labelValues = append(labelValues, value)
			}
		}
		for _, value := range labelValues {
			if !utf8.ValidString(value) {
				t.Fatalf("label value %q is not UTF-8", value)
			}
		}
		checkGroups(t, ensemble)
	}
	names = map[string]bool{}
	for _, label := range cfg.LabelNames() {
		if !labelName.MatchString(label) || reservedLabels[label] || names[label] {
			t.Fatalf("label name %q is invalid, reserved or repeated", label)
		}
		names[label] = true
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("a valid configuration fails validation again: %v", err)
	}
}

// checkGroups asserts what the quorum arithmetic relies on: with groups,
// every voter is in one, with a weight of 0 or more, some group weighs
// something, and nothing else is grouped; without, no weights either.
func checkGroups(t *testing.T, ensemble *Ensemble) {
	t.Helper()
	if ensemble.Groups == nil {
		if ensemble.Weights != nil {
			t.Fatalf("ensemble %q: weights %v without groups", ensemble.Name, ensemble.Weights)
		}
		return
	}
	voters := ensemble.Voters()
	if len(ensemble.Groups) != len(voters) || len(ensemble.Weights) != len(voters) {
		t.Fatalf("ensemble %q: %d voters, groups %v, weights %v", ensemble.Name, len(voters), ensemble.Groups, ensemble.Weights)
	}
	for _, voter := range voters {
		_, grouped := ensemble.Groups[voter.ServerID]
		if weight, weighed := ensemble.Weights[voter.ServerID]; !grouped || !weighed || weight < 0 {
			t.Fatalf("ensemble %q: voter %d: group %v, weight %d", ensemble.Name, voter.ServerID, grouped, weight)
		}
	}
	if !anyGroupWeighs(ensemble.Groups, ensemble.Weights) {
		t.Fatalf("ensemble %q: every group weighs 0", ensemble.Name)
	}
}

// TestZooCfgThatIsNoFile: a zoo_cfg naming a FIFO (or a device such as
// /dev/zero, not tried here: unfixed, it would fill the memory) fails at
// once, instead of blocking the exporter in open(2) or reading forever.
func TestZooCfgThatIsNoFile(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "zoo.cfg")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("no FIFO here: %v", err)
	}
	tests := []struct{ name, path string }{
		{"fifo", fifo},
		{"directory", dir},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			errs := make(chan error, 1)
			go func() { _, err := FromZooCfg("a", test.path); errs <- err }()
			select {
			case err := <-errs:
				if err == nil || !strings.Contains(err.Error(), "not a regular file") {
					t.Errorf("FromZooCfg(%s) = %v, want not a regular file", test.path, err)
				}
			case <-time.After(5 * time.Second):
				// Unblock the reader so the test binary can exit.
				if writer, err := os.OpenFile(test.path, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
					writer.Close()
				}
				t.Fatalf("FromZooCfg(%s) still reading after 5s", test.path)
			}
		})
	}
}

// TestZooCfgTooLarge: a zoo.cfg is a few kilobytes; a huge one is refused
// rather than read whole.
func TestZooCfgTooLarge(t *testing.T) {
	path := filepath.Join(t.TempDir(), "zoo.cfg")
	line := "# " + strings.Repeat("x", 1000) + "\n"
	if err := os.WriteFile(path, []byte("clientPort=2181\nserver.1=h:1:2\n"+strings.Repeat(line, maxZooCfgBytes/len(line)+1)), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := FromZooCfg("a", path); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("FromZooCfg of a %d-byte file: err = %v, want too large", maxZooCfgBytes, err)
	}
}

// TestLabelValuesMustBeUTF8: anything that becomes a label value is refused
// when it is not UTF-8, at load time, naming it: at scrape time
// client_golang would panic and take the exporter down.
func TestLabelValuesMustBeUTF8(t *testing.T) {
	tests := []struct {
		name, ensemble, servers, want string
	}{
		{"address", "a", "h\xff:2181", "address"},
		{"datacenter", "a", "h:2181@dc\xff", "datacenter"},
		{"ensemble", "a\xff", "h:2181", "ensemble name"},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			_, err := FromServers(test.ensemble, test.servers)
			if err == nil || !strings.Contains(err.Error(), test.want) || !strings.Contains(err.Error(), "not UTF-8") {
				t.Errorf("FromServers(%q, %q) = %v, want %s not UTF-8", test.ensemble, test.servers, err, test.want)
			}
		})
	}
	_, err := Parse("zk.yml", []byte("ensembles:\n  - name: a\n    members:\n      - {address: h:1, labels: {rack: !!binary /w==}}\n"))
	if err == nil || !strings.Contains(err.Error(), "zk.yml:4:") || !strings.Contains(err.Error(), "not UTF-8") {
		t.Errorf("label value \\xff from !!binary: err = %v, want refused naming line 4", err)
	}
}
