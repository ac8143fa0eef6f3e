package rules

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const mixinDir = "../mixin"

// tool finds a binary the tests cannot do without. CI installs them, so a
// missing one fails loudly instead of skipping the checks it backs; only
// -short (make unit: no real processes) skips them, and says so.
func tool(t *testing.T, name, pkg string) string {
	t.Helper()
	if testing.Short() {
		t.Skipf("-short: not running %s", name)
	}
	p, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s not found in PATH; it is needed to check the mixin: install it (Debian: apt-get install %s)", name, pkg)
	}
	return p
}

func run(t *testing.T, name string, args ...string) []byte {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\n%s%s", filepath.Base(name), strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.Bytes()
}

func writeFile(t *testing.T, dir, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
