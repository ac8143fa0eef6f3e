package main

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/alecthomas/kingpin/v2"

	"github.com/quorumwatch/zookeeper_exporter/config"
)

// --zookeeper.discover sets discovery for the flag forms; a configuration
// file says it per ensemble, and the flag leaves it alone.
func TestDiscoverFlag(t *testing.T) {
	file := filepath.Join(t.TempDir(), "config.yml")
	if err := os.WriteFile(file, []byte("ensembles:\n  - name: a\n    discover: off\n    members: [{address: \"h:2181\"}]\n  - name: b\n    members: [{address: \"h:2182\"}]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args []string
		want []string
	}{
		{nil, []string{config.DiscoverConf}},
		{[]string{"--zookeeper.discover=off"}, []string{config.DiscoverOff}},
		{[]string{"--zookeeper.servers=h1,h2", "--zookeeper.discover=off"}, []string{config.DiscoverOff}},
		{[]string{"--zookeeper.servers=h1,h2"}, []string{config.DiscoverConf}},
		{[]string{"--config.file=" + file, "--zookeeper.discover=conf"}, []string{config.DiscoverOff, ""}},
	}
	for _, test := range tests {
		var source sourceOptions
		app := kingpin.New("test", "")
		source.register(app)
		if _, err := app.Parse(test.args); err != nil {
			t.Fatalf("%v: %v", test.args, err)
		}
		cfg, err := source.load()
		if err != nil {
			t.Fatalf("%v: %v", test.args, err)
		}
		var got []string
		for _, e := range cfg.Ensembles {
			got = append(got, e.Discover)
		}
		if !slices.Equal(got, test.want) {
			t.Errorf("%v: discover %q, want %q", test.args, got, test.want)
		}
	}
	var source sourceOptions
	app := kingpin.New("test", "")
	source.register(app)
	if _, err := app.Parse([]string{"--zookeeper.discover=maybe"}); err == nil {
		t.Error("--zookeeper.discover=maybe accepted")
	}
}
