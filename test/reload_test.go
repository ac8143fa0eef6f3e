package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/quorumwatch/zookeeper_exporter/internal/standin"
)

// seriesKeys are the names and labels of every zookeeper_ series of a
// scrape, without values.
func seriesKeys(scrape *exposition) []string {
	var keys []string
	for name, family := range scrape.families {
		if !strings.HasPrefix(name, "zookeeper_") || strings.HasPrefix(name, "zookeeper_exporter_") {
			continue
		}
		for _, metric := range family.GetMetric() {
			var labels []string
			for _, pair := range metric.GetLabel() {
				labels = append(labels, pair.GetName()+"="+pair.GetValue())
			}
			keys = append(keys, name+"{"+strings.Join(labels, ",")+"}")
		}
	}
	sort.Strings(keys)
	return keys
}

// outageStart is the status page's start of the named ensemble's outage.
func outageStart(t *testing.T, base, ensemble string) string {
	t.Helper()
	_, body := get(t, base+"/status?format=json")
	var report struct {
		Ensembles []struct {
			Name             string     `json:"name"`
			UnavailableSince *time.Time `json:"unavailable_since"`
		} `json:"ensembles"`
	}
	if err := json.Unmarshal([]byte(body), &report); err != nil {
		t.Fatalf("status json: %v\n%s", err, body)
	}
	for _, e := range report.Ensembles {
		if e.Name == ensemble && e.UnavailableSince != nil {
			return e.UnavailableSince.Format(time.RFC3339Nano)
		}
	}
	return ""
}

// A SIGHUP with an unchanged file changes nothing observable: no counter
// resets, no series come or go, an outage in progress keeps its start; and
// scrapes running through the reloads never give a member two probes at
// once (counted by the stand-in members, which answer slowly).
func TestNoOpReload(t *testing.T) {
	stand, err := standin.Start(standin.Config{Roles: []standin.Role{standin.Leader, standin.Follower, standin.Follower}, Delay: 150 * time.Millisecond, MaxDuration: 2 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	defer stand.Close()
	down := []string{freePort(t), freePort(t), freePort(t)}
	path := filepath.Join(t.TempDir(), "zk.yml")
	config := fmt.Sprintf("timeout: 1s\nensembles:\n  - name: slow\n    members: [{address: %q}, {address: %q}, {address: %q}]\n  - name: down\n    members: [{address: %q}, {address: %q}, {address: %q}]\n",
		stand.Addresses()[0], stand.Addresses()[1], stand.Addresses()[2], down[0], down[1], down[2])
	if err := os.WriteFile(path, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	base, logs, cmd := startExporter(t, "--config.file="+path)

	before := eventually(t, base+"/metrics", 10*time.Second, func(s *exposition) error {
		if v, ok := s.value("zookeeper_ensemble_unavailable_seconds_total", map[string]string{"ensemble": "down"}); !ok || v <= 0 {
			return fmt.Errorf("no outage under way yet: %v", v)
		}
		return expectValues(s, map[string]float64{"zookeeper_ensemble_quorum_margin": 1}, map[string]string{"ensemble": "slow"})
	})
	start := outageStart(t, base, "down")
	if start == "" {
		t.Fatal("the status page shows no outage start")
	}

	// Scrapes keep coming while the file is reloaded, unchanged.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
					_, _ = scrapeExporter(base+"/metrics", 5*time.Second)
				}
			}
		})
	}
	for range 5 {
		if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	close(stop)
	wg.Wait()

	after, err := scrapeExporter(base+"/metrics", 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	was, _ := before.value("zookeeper_ensemble_unavailable_seconds_total", map[string]string{"ensemble": "down"})
	is, _ := after.value("zookeeper_ensemble_unavailable_seconds_total", map[string]string{"ensemble": "down"})
	if is <= was {
		t.Errorf("unavailable_seconds_total went from %v to %v across no-op reloads: reset", was, is)
	}
	if got := outageStart(t, base, "down"); got != start {
		t.Errorf("the outage started at %s before the reloads, %s after", start, got)
	}
	if b, a := seriesKeys(before), seriesKeys(after); strings.Join(b, "\n") != strings.Join(a, "\n") {
		t.Errorf("series changed across no-op reloads:\nbefore %d\nafter %d", len(b), len(a))
	}
	if !strings.Contains(logs.String(), "configuration reloaded") {
		t.Errorf("no reload was logged:\n%s", logs)
	}
	for address, most := range stand.MaxSrvrInFlight() {
		if most > 1 {
			t.Errorf("member %s answered %d srvr words at once: two probes overlapped", address, most)
		}
	}
}
