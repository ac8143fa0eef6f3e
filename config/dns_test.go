package config

import (
	"strings"
	"testing"
)

func TestDNSConfig(t *testing.T) {
	tests := []struct {
		name, yaml string
		wantErr    []string
	}{
		{"A records with a port", "ensembles:\n  - name: k8s\n    dns: {name: zk-hs.zookeeper.svc, port: 2181}\n", nil},
		{"SRV records", "ensembles:\n  - name: k8s\n    dns: {name: _client._tcp.zk-hs.zookeeper.svc, type: SRV, refresh_interval: 1m, resolver: \"10.0.0.10:53\"}\n", nil},
		{"no name, bad type", "ensembles:\n  - name: k8s\n    dns: {type: MX}\n", []string{"zk.yml:2", "dns: no name", `type "MX"`}},
		{"members and dns", "ensembles:\n  - name: k8s\n    members: [{address: a:1}]\n    dns: {name: zk}\n", []string{"members come from DNS"}},
		{"SRV with a port, bad resolver", "ensembles:\n  - name: k8s\n    dns: {name: zk, type: srv, port: 2181, resolver: nowhere}\n", []string{"port comes from the SRV records", `resolver "nowhere"`}},
		{"a typo in the block", "ensembles:\n  - name: k8s\n    dns: {nmae: zk}\n", []string{"nmae"}},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			cfg, err := Parse("zk.yml", []byte(test.yaml))
			if len(test.wantErr) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				if cfg.Ensembles[0].DNS == nil || len(cfg.Ensembles[0].Members) != 0 {
					t.Errorf("dns %+v, members %v", cfg.Ensembles[0].DNS, cfg.Ensembles[0].Members)
				}
				return
			}
			if err == nil {
				t.Fatal("accepted")
			}
			for _, want := range test.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error lacks %q:\n%v", want, err)
				}
			}
		})
	}
}
