package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/quorumwatch/zookeeper_exporter/internal/zkcluster"
)

// TestAdminServerFallback: a real member whose whitelist allows only ruok
// still gets its mntr-only values from its AdminServer. (ZooKeeper always
// executes srvr, whatever the whitelist says: zkServer.sh depends on it.)
func TestAdminServerFallback(t *testing.T) {
	cluster := zkcluster.StartT(t, zkcluster.Options{Standalone: true, Whitelist: map[int]string{1: "ruok"}})
	member := cluster.Members()[0]
	config := fmt.Sprintf("ensembles:\n  - name: locked\n    members:\n      - {address: %q, admin_url: \"http://%s/commands\"}\n",
		member.ClientAddr, member.AdminAddr)
	path := filepath.Join(t.TempDir(), "zk.yml")
	if err := os.WriteFile(path, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	base, _, _ := startExporter(t, "--config.file="+path)
	labels := map[string]string{"ensemble": "locked", "member": member.ClientAddr}
	scrape := eventually(t, base+"/metrics", 20*time.Second, func(scrape *exposition) error {
		return expectValues(scrape, map[string]float64{"zookeeper_up": 1, "zookeeper_ensemble_quorum_margin": 0}, map[string]string{"ensemble": "locked"})
	})
	if modes := scrape.labelValues("zookeeper_server_mode", "mode", labels, 1); len(modes) != 1 || modes[0] != "standalone" {
		t.Errorf("mode = %v, want standalone", modes)
	}
	for _, name := range []string{"zookeeper_zxid_epoch", "zookeeper_znodes", "zookeeper_watches", "zookeeper_max_file_descriptors"} {
		if _, ok := scrape.value(name, labels); !ok {
			t.Errorf("no %s although the AdminServer answers", name)
		}
	}
	for command, want := range map[string]float64{"srvr": 1, "mntr": 0} {
		if allowed, ok := scrape.value("zookeeper_command_allowed", map[string]string{"member": member.ClientAddr, "command": command}); !ok || allowed != want {
			t.Errorf("command_allowed{command=%q} = %v (present %v), want %v", command, allowed, ok, want)
		}
	}
}
