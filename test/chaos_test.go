package e2e

import (
	"strings"
	"testing"

	"github.com/quorumwatch/zookeeper_exporter/internal/chaos"
	"github.com/quorumwatch/zookeeper_exporter/internal/zkcluster"
)

// chaosRegressions are fixed fault sequences, replayed by TestChaosPlans
// through the campaign's checks. Each visits margins 2 to -1 of 5 voters
// and an observer and acts on the exporter's "safe to stop" answers.
var chaosRegressions = []struct {
	name, plan string
}{
	{
		// The last voter is left out of one exporter configuration; two
		// visible followers killed leave a quorum that only the leader's
		// count or its serving proves. Found by the campaign (seed 1)
		// when the arithmetic dropped the count and read margin -1 while
		// writes committed.
		name: "unconfigured voter in quorum",
		plan: "safe-stop leader; restart stopped; term 5; restart 5; kill follower; kill follower; " +
			"partition follower; heal; restart stopped; restart stopped; safe-stop follower; restart stopped",
	},
	{
		// Margin 1 held for longer than the critical alerts' "for":
		// nothing pages (an AtRisk threshold of <= 1 fails here).
		name: "margin 1 for a while",
		plan: "kill follower; term 6; restart 6; term 6; restart 6; term 6; restart 6; restart stopped",
	},
	{
		name: "freeze and partition past syncLimit",
		plan: "freeze follower; freeze follower; freeze follower; thaw frozen; thaw frozen; thaw frozen; " +
			"partition 1,2; heal; safe-stop observer; restart stopped",
	},
}

// TestChaosPlans replays fixed sequences of faults on a real ensemble in a
// network namespace, the exporter's every answer checked against the
// members as `make chaos` checks it: a disagreement fails the test with the
// step and both sides' answers. Every margin from 2 to -1 must be checked
// over the cases (a lone case needs not visit them all).
func TestChaosPlans(t *testing.T) {
	if err := zkcluster.NetNSSupported(); err != nil {
		t.Skip(err)
	}
	prometheus := lookTool(t, "prometheus", "prometheus")
	checked := map[int]int{}
	for _, c := range chaosRegressions {
		t.Run(c.name, func(t *testing.T) {
			plan, err := chaos.ParsePlan(c.plan)
			if err != nil {
				t.Fatal(err)
			}
			var log strings.Builder
			report, err := chaos.Run(t.Context(), chaos.Options{
				Plan: plan, Exporter: exporterBinary, Prometheus: prometheus, Log: &log,
			})
			if err != nil {
				t.Fatalf("%v\n%s", err, log.String())
			}
			var out strings.Builder
			report.Write(&out)
			t.Log(out.String())
			if report.Failed() {
				t.Fatalf("disagreements:\n%s", log.String())
			}
			for margin, n := range report.Margins {
				checked[margin] += n
			}
		})
	}
	for _, margin := range []int{2, 1, 0, -1} {
		if checked[margin] == 0 {
			t.Errorf("margin %d never checked (checks by margin: %v)", margin, checked)
		}
	}
}
