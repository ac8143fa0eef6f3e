package status

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/quorumwatch/zookeeper_exporter/quorum"
)

func ms(v float64) *float64 { return &v }

// sample is a 3-voter ensemble with one voter down, in two datacenters.
func sample() Report {
	lastOutage := 4.25
	return Report{
		Time:   time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		Health: quorum.HealthAtRisk,
		Ensembles: []Ensemble{{
			Name: "prod", Health: quorum.HealthAtRisk, Voters: 3, Observers: 1, QuorumSize: 2, FaultTolerance: 1, VotersInQuorum: 2, Margin: 0,
			Leader: "10.0.0.1:2181", VoterSetSource: "ensemble", LastUnavailabilitySeconds: &lastOutage,
			Datacenters: []Datacenter{{Name: "east", Voters: 2, LossMargin: -2}, {Name: "west", Voters: 1, LossMargin: 0}},
			Advice:      []string{},
			Members: []Member{
				{Member: "10.0.0.1:2181", Role: "voter", Datacenter: "east", ServerID: "1", Mode: "leader", Up: true, Serving: true, Zxid: "0x100000007", LatencyAvgMs: ms(0.5), LatencyMaxMs: ms(3), CaughtUp: true, StopImpact: "quorum", Reason: "stopping it breaks quorum: 2 of 3 voters in quorum, 2 needed"},
				{Member: "10.0.0.2:2181", Role: "voter", Datacenter: "east", ServerID: "2", Mode: "unknown", DownReason: "connection_refused", StopImpact: "none", Reason: "already down"},
				{Member: "10.0.0.3:2181", Role: "voter", Datacenter: "west", ServerID: "3", Mode: "follower", Up: true, Serving: true, Zxid: "0x100000007", LatencyAvgMs: ms(0), LatencyMaxMs: ms(1), StopImpact: "quorum", Reason: "stopping it breaks quorum: 2 of 3 voters in quorum, 2 needed"},
				{Member: "10.0.0.4:2181", Role: "observer", Datacenter: "west", Mode: "observer", Up: true, Serving: true, Zxid: "0x100000007", LatencyAvgMs: ms(0), LatencyMaxMs: ms(0), CaughtUp: true, SafeToStop: true, StopImpact: "read_capacity", Reason: "observer: quorum unaffected, its clients move to other members"},
			},
		}},
	}
}

func TestWriteTable(t *testing.T) {
	tests := []struct {
		name    string
		color   bool
		want    []string
		wantNot []string
	}{
		{
			name:  "plain terminal-less table",
			color: false,
			want: []string{
				"prod: AT_RISK, voters 3 (in quorum 2, from the ensemble), observers 1, quorum size 2, margin 0 of 1, leader 10.0.0.1:2181\n",
				"MEMBER             ROLE      DC    MODE                      ZXID         LATENCY avg/max  SERVING  CAUGHT UP  SAFE TO STOP\n",
				"10.0.0.1:2181 (1)  voter     east  leader                    0x100000007  0.5/3 ms         yes      yes        no\n",
				"10.0.0.2:2181 (2)  voter     east  down: connection_refused  -            -                no       no         no\n",
				"10.0.0.4:2181      observer  west  observer                  0x100000007  0/0 ms           yes      yes        yes (read capacity)\n",
				"  10.0.0.2:2181: already down\n",
				"if a datacenter is lost: east -2 (loses quorum), west 0 (survives)\n",
				"last unavailability: 4.2s\n",
			},
			wantNot: []string{"\033["},
		},
		{
			name:  "on a terminal: coloured, still aligned",
			color: true,
			want: []string{
				"\033[1m\033[31mprod: AT_RISK",
				"10.0.0.1:2181 (1)  voter     east  \033[36mleader\033[0m                    0x100000007",
				"\033[32myes (read capacity)\033[0m",
			},
		},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			var out bytes.Buffer
			if err := WriteTable(&out, sample(), test.color); err != nil {
				t.Fatal(err)
			}
			for _, want := range test.want {
				if !strings.Contains(out.String(), want) {
					t.Errorf("table lacks %q:\n%s", want, out.String())
				}
			}
			for _, not := range test.wantNot {
				if strings.Contains(out.String(), not) {
					t.Errorf("table has %q:\n%s", not, out.String())
				}
			}
		})
	}
}

func TestWritePlainAndJSON(t *testing.T) {
	var plain bytes.Buffer
	if err := WritePlain(&plain, sample()); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"ensemble=prod health=at_risk voters=3 voters_in_quorum=2 quorum_size=2 margin=0 fault_tolerance=1 leader=10.0.0.1:2181 datacenter_loss_margin.east=-2 datacenter_loss_margin.west=0\n",
		`ensemble=prod member=10.0.0.2:2181 server_id=2 role=voter datacenter=east mode=unknown up=no down_reason=connection_refused zxid="" latency=- serving=no caught_up=no safe_to_stop=no impact=none reason="already down"` + "\n",
	} {
		if !strings.Contains(plain.String(), want) {
			t.Errorf("plain lacks %q:\n%s", want, plain.String())
		}
	}

	var out bytes.Buffer
	if err := WriteJSON(&out, sample()); err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(out.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, sample()) {
		t.Errorf("JSON does not round-trip:\n%s", out.String())
	}
}

func TestCanStop(t *testing.T) {
	tests := []struct {
		member   string
		wantCode int
		wantLine string
	}{
		{"10.0.0.4:2181", ExitHealthy, "safe: 10.0.0.4:2181 may be stopped now: observer"},
		{"10.0.0.1:2181", ExitNotSafe, "not safe: 10.0.0.1:2181 (server 1): stopping it breaks quorum"},
		{"3", ExitNotSafe, "not safe: 10.0.0.3:2181 (server 3)"},
		{"10.0.0.9:2181", ExitError, `error: "10.0.0.9:2181" is neither`},
	}
	for _, test := range tests {
		t.Run(test.member, func(t *testing.T) {
			code, line := canStop(sample().Ensembles[0], test.member)
			if code != test.wantCode || !strings.HasPrefix(line, test.wantLine) || strings.Contains(line, "\n") {
				t.Errorf("canStop = %d %q, want %d %q...", code, line, test.wantCode, test.wantLine)
			}
		})
	}
	failed := Ensemble{Name: "prod", Error: "context deadline exceeded"}
	if code, _ := canStop(failed, "1"); code != ExitNotSafe {
		t.Errorf("a failed probe: exit %d, want %d", code, ExitNotSafe)
	}
}

func TestExitCode(t *testing.T) {
	tests := []struct {
		health quorum.Health
		want   int
	}{
		{quorum.HealthHealthy, 0}, {quorum.HealthDegraded, 0}, {quorum.HealthAtRisk, 3}, {quorum.HealthLost, 4},
	}
	for _, test := range tests {
		if got := ExitCode(test.health); got != test.want {
			t.Errorf("ExitCode(%s) = %d, want %d", test.health, got, test.want)
		}
	}
}

func TestHandler(t *testing.T) {
	server := httptest.NewServer(newHandler(func(context.Context) Report { return sample() }))
	defer server.Close()
	tests := []struct {
		query       string
		status      int
		contentType string
		want        []string
		wantNot     []string
	}{
		{"", 200, "text/html", []string{"<!DOCTYPE html>", `name="viewport"`, "@media (max-width: 700px)", `fetch("status?format=fragment"`, `data-ensemble="prod"`, `data-health="at_risk"`, "already down"}, []string{"http://", "https://", "<link", "src="}},
		{"?format=fragment", 200, "text/html", []string{`<section class="ensemble" data-ensemble="prod"`, `data-safe="yes"`}, []string{"<html", "<script"}},
		{"?format=json", 200, "application/json", []string{`"health": "at_risk"`, `"safe_to_stop": true`}, nil},
		{"?format=xml", 400, "text/plain", nil, nil},
	}
	for _, test := range tests {
		t.Run(test.query, func(t *testing.T) {
			response, err := http.Get(server.URL + "/status" + test.query)
			if err != nil {
				t.Fatal(err)
			}
			defer response.Body.Close()
			body, _ := io.ReadAll(response.Body)
			if response.StatusCode != test.status || !strings.HasPrefix(response.Header.Get("Content-Type"), test.contentType) {
				t.Fatalf("%d %s, want %d %s", response.StatusCode, response.Header.Get("Content-Type"), test.status, test.contentType)
			}
			for _, want := range test.want {
				if !strings.Contains(string(body), want) {
					t.Errorf("lacks %q", want)
				}
			}
			for _, not := range test.wantNot {
				if strings.Contains(string(body), not) {
					t.Errorf("has %q: the page must load nothing from elsewhere", not)
				}
			}
		})
	}
}

// A discovered member is marked in the table, the page and plain output,
// and a server's other names are shown with it.
func TestDiscoveredMemberShown(t *testing.T) {
	tests := []struct {
		member Member
		want   string
	}{
		{Member{Member: "a:1", ServerID: "3", Discovered: true}, "a:1 (3, discovered)"},
		{Member{Member: "a:1", ServerID: "2", Aliases: []string{"b:1"}}, "a:1 (2, also b:1)"},
		{Member{Member: "a:1"}, "a:1"},
	}
	for _, test := range tests {
		if got := test.member.Name(); got != test.want {
			t.Errorf("%+v: %q, want %q", test.member, got, test.want)
		}
	}
	report := sample()
	report.Ensembles[0].Members[3].Discovered = true
	var plain bytes.Buffer
	if err := WritePlain(&plain, report); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(plain.String(), "member="+report.Ensembles[0].Members[3].Member+" ") || strings.Count(plain.String(), "discovered=yes") != 1 {
		t.Errorf("plain output does not mark the one discovered member:\n%s", plain.String())
	}
}
