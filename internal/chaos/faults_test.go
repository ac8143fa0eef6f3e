package chaos

import (
	"strings"
	"testing"
)

func TestParsePlan(t *testing.T) {
	plan, err := ParsePlan("kill 3; restart stopped;partition 1,2 ; heal; safe-stop follower;")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range plan {
		got = append(got, f.String())
	}
	if want := "kill 3; restart stopped; partition 1,2; heal; safe-stop follower"; strings.Join(got, "; ") != want {
		t.Errorf("plan %q, want %q", strings.Join(got, "; "), want)
	}
	for _, c := range []struct{ plan, want string }{
		{"explode 1", `step 1 "explode 1": unknown fault`},
		{"heal; kill", `step 2 "kill": which member?`},
		{"kill 1 2", "one comma-separated list"},
		{"freeze 0", `member "0" is not an id or a role`},
		{"thaw someone", `member "someone" is not an id or a role`},
	} {
		if _, err := ParsePlan(c.plan); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ParsePlan(%q) = %v, want an error with %q", c.plan, err, c.want)
		}
	}
}
