package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/quorumwatch/zookeeper_exporter/config"
)

func TestGCPercentFor(t *testing.T) {
	cases := []struct {
		name      string
		ensembles int
		members   int // each
		dns       int // ensembles whose members come from DNS
		want      int
	}{
		{"one ensemble of five", 1, 5, 0, 100},
		{"just under", 1, largeConfiguration - 1, 0, 100},
		{"200 ensembles of five", 200, 5, 0, 50},
		{"DNS ensembles count", 1, largeConfiguration - membersPerDNSEnsemble, 1, 50},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := gcPercentFor(configuration(t, c.ensembles, c.members, c.dns)); got != c.want {
				t.Errorf("gcPercentFor = %d, want %d", got, c.want)
			}
		})
	}
}

// configuration writes and parses a configuration of ensembles×members
// listed members and dns ensembles from DNS.
func configuration(t *testing.T, ensembles, members, dns int) *config.Config {
	t.Helper()
	var text strings.Builder
	text.WriteString("ensembles:\n")
	port := 10000
	for i := range ensembles {
		fmt.Fprintf(&text, "  - name: e%d\n    members:\n", i)
		for range members {
			port++
			fmt.Fprintf(&text, "      - {address: \"127.0.0.1:%d\"}\n", port)
		}
	}
	for i := range dns {
		fmt.Fprintf(&text, "  - name: d%d\n    dns: {name: zk.example.org, port: 2181}\n", i)
	}
	cfg, err := config.Parse("test.yml", []byte(text.String()))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}
