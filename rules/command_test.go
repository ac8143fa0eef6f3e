package rules

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/alecthomas/kingpin/v2"
)

func parse(t *testing.T, args ...string) (*Command, error) {
	t.Helper()
	app := kingpin.New("zookeeper_exporter", "")
	cmd := app.Command("rules", "")
	c := Register(cmd)
	_, err := app.Parse(append([]string{"rules"}, args...))
	return c, err
}

func TestCommand(t *testing.T) {
	for _, tc := range []struct {
		name     string
		args     []string
		want     []string
		wantErr  string
		parseErr bool
	}{
		{name: "defaults", want: []string{"groups:\n", `zookeeper_ensemble_quorum_margin{job="zookeeper"}`}},
		{name: "selector", args: []string{`--rules.selector=job="zk"`}, want: []string{`zookeeper_ensemble_quorum_margin{job="zk"}`}},
		{name: "exporter selector", args: []string{`--rules.exporter-selector=job="zk-exporter"`}, want: []string{`max by (cluster, job) (up{job="zk-exporter"})`}},
		{name: "cluster label", args: []string{`--rules.cluster-label=k8s_cluster`}, want: []string{`max by (k8s_cluster, ensemble) (zookeeper_ensemble_leaders`}},
		{name: "runbook", args: []string{"--rules.runbook-url-pattern=https://wiki/zk/%s"}, want: []string{"runbook_url: https://wiki/zk/zookeeperquorumlost\n"}},
		{
			name: "set string and number",
			args: []string{`--rules.set=quorumAtRiskFor="30s"`, "--rules.set", "outstandingRequestsThreshold=25"},
			want: []string{"for: 30s\n", "zookeeper_outstanding_requests{job=\"zookeeper\"}) > 25"},
		},
		{
			name: "operator",
			args: []string{"--rules.format=prometheus-operator", "--rules.namespace=monitoring", "--rules.name=zk", "--rules.label=release=kps"},
			want: []string{"kind: PrometheusRule\n", "name: zk\n", "namespace: monitoring\n", "release: kps\n"},
		},
		{name: "bad format", args: []string{"--rules.format=yaml"}, parseErr: true},
		{name: "set without =", args: []string{"--rules.set=quorumAtRiskFor"}, wantErr: `--rules.set "quorumAtRiskFor": want KEY=VALUE`},
		{name: "set with non-JSON value", args: []string{"--rules.set=quorumAtRiskFor=2m"}, wantErr: `--rules.set quorumAtRiskFor: value 2m is not JSON`},
		{name: "set unknown key", args: []string{"--rules.set=nope=1"}, wantErr: `unknown rules config key "nope"`},
		{name: "set wrong type", args: []string{"--rules.set=followerBehindThreshold=\"many\""}, wantErr: `key "followerBehindThreshold": want a number`},
		{name: "set twice", args: []string{"--rules.set=quorumLostFor=\"1m\"", "--rules.set=quorumLostFor=\"2m\""}, wantErr: `config key "quorumLostFor" is already set by --rules.set`},
		{name: "flag and set", args: []string{`--rules.selector=job="a"`, `--rules.set=zookeeperSelector="job=\"b\""`}, wantErr: `config key "zookeeperSelector" is already set by --rules.selector`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := parse(t, tc.args...)
			if tc.parseErr {
				if err == nil {
					t.Fatal("want a parse error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			err = c.Run(&out)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tc.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output lacks %q", w)
				}
			}
		})
	}
}

func TestCommandWritesFiles(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "zookeeper.rules.yaml")
	dash := filepath.Join(dir, "dashboards")
	c, err := parse(t, "--rules.output="+out, "--rules.dashboards-dir="+dash)
	if err != nil {
		t.Fatal(err)
	}
	var stdout bytes.Buffer
	if err := c.Run(&stdout); err != nil {
		t.Fatal(err)
	}
	if stdout.Len() != 0 {
		t.Errorf("wrote %d bytes to stdout with --rules.output set", stdout.Len())
	}
	b, err := os.ReadFile(out)
	if err != nil || !strings.HasPrefix(string(b), "groups:\n") {
		t.Fatalf("rules file: %v %.40q", err, b)
	}
	for _, name := range []string{"zookeeper-overview.json", "zookeeper-maintenance.json"} {
		if _, err := os.Stat(filepath.Join(dash, name)); err != nil {
			t.Error(err)
		}
	}
}
