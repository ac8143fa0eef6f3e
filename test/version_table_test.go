package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/quorumwatch/zookeeper_exporter/internal/zkcluster"
)

// versionMatrix is what TestVersionMatrix found, per release and step.
type versionMatrix struct{ rows []*matrixRow }

type matrixRow struct {
	release zkcluster.Release
	passed  []string
	failed  []string
	skipped []string // "step (reason)"
}

func (m *versionMatrix) row(r zkcluster.Release) *matrixRow {
	row := &matrixRow{release: r}
	m.rows = append(m.rows, row)
	return row
}

func (r *matrixRow) ran(step string, ok bool) {
	if ok {
		r.passed = append(r.passed, step)
	} else {
		r.failed = append(r.failed, step)
	}
}

func (r *matrixRow) skip(step, reason string) {
	r.skipped = append(r.skipped, fmt.Sprintf("%s (%s)", step, reason))
}

// markdown is the table: release, source, what ran, what did not, result.
func (m *versionMatrix) markdown() string {
	var b strings.Builder
	b.WriteString("| Release | From | Tested | Not applicable | Result |\n|---|---|---|---|---|\n")
	for _, row := range m.rows {
		from := "Maven Central"
		if row.release.Debian {
			from = "Debian package"
		}
		result := "pass"
		switch {
		case len(row.failed) > 0:
			result = "FAIL: " + strings.Join(row.failed, ", ")
		case len(row.passed) == 0:
			result = "not run"
		}
		skipped := strings.Join(row.skipped, ", ")
		if skipped == "" {
			skipped = "–"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", row.release.Name, from, strings.Join(row.passed, ", "), skipped, result)
	}
	return b.String()
}

// publish logs the table and writes it to $ARTIFACTS_DIR/version-matrix.md
// (CI prints it). With ZK_MATRIX_README=1 (make test-versions) it also
// replaces the README's supported-versions table, when every release
// passed.
func (m *versionMatrix) publish(t *testing.T) {
	table := m.markdown()
	t.Logf("version matrix:\n%s", table)
	if dir := os.Getenv("ARTIFACTS_DIR"); dir != "" {
		if err := os.WriteFile(filepath.Join(dir, "version-matrix.md"), []byte(table), 0o644); err != nil {
			t.Error(err)
		}
	}
	if update, _ := strconv.ParseBool(os.Getenv("ZK_MATRIX_README")); update && !t.Failed() {
		if err := replaceReadmeMatrix(filepath.Join("..", "README.md"), table); err != nil {
			t.Error(err)
		}
	}
}

// The README's supported-versions table sits between these lines.
const (
	matrixBegin = "<!-- version-matrix begin: make test-versions writes this table -->\n"
	matrixEnd   = "<!-- version-matrix end -->\n"
)

func replaceReadmeMatrix(path, table string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	before, rest, ok := strings.Cut(string(b), matrixBegin)
	_, after, ok2 := strings.Cut(rest, matrixEnd)
	if !ok || !ok2 {
		return fmt.Errorf("%s: no %q ... %q section", path, strings.TrimSpace(matrixBegin), strings.TrimSpace(matrixEnd))
	}
	return os.WriteFile(path, []byte(before+matrixBegin+table+matrixEnd+after), 0o644)
}
