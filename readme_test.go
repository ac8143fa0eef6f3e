package main

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/quorumwatch/zookeeper_exporter/internal/zkcluster"
)

// TestReadmeVersionMatrix: the README's supported-versions table is the
// output of a full version matrix run (make test-versions): one passing row
// per release the matrix knows, in its order. Change the list of releases,
// and this fails until the matrix ran on them.
func TestReadmeVersionMatrix(t *testing.T) {
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(b), "<!-- version-matrix begin")
	table, _, ok2 := strings.Cut(rest, "<!-- version-matrix end -->")
	if !ok || !ok2 {
		t.Fatal("README.md has no version-matrix section")
	}
	var releases []string
	for _, line := range strings.Split(table, "\n")[1:] {
		cells := strings.Split(strings.Trim(line, "| "), " | ")
		if len(cells) != 5 || cells[0] == "Release" || strings.HasPrefix(cells[0], "---") {
			continue
		}
		releases = append(releases, cells[0])
		if cells[4] != "pass" {
			t.Errorf("README: %s: %s", cells[0], cells[4])
		}
	}
	if !slices.Equal(releases, zkcluster.AllReleases) {
		t.Errorf("README's table has releases %v; the matrix runs %v: run make test-versions", releases, zkcluster.AllReleases)
	}
}
