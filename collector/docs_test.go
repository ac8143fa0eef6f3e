package collector

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite docs/metrics.md")

// docs/metrics.md is made from the descriptors: it fails here when stale.
func TestMetricsDoc(t *testing.T) {
	var b bytes.Buffer
	if err := WriteMetricsDoc(&b); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("..", "docs", "metrics.md")
	if *update {
		if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	current, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(current, b.Bytes()) {
		t.Error("docs/metrics.md is stale: go test ./collector -run TestMetricsDoc -update")
	}
}
