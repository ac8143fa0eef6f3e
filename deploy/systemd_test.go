package deploy

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

const (
	unitFile    = "systemd/zookeeper_exporter.service"
	defaultFile = "systemd/zookeeper_exporter.default"
	installed   = "/usr/local/bin/zookeeper_exporter"
)

// unitWithBinary copies the unit into a temporary directory with ExecStart
// on the binary the tests built: systemd-analyze verify refuses a unit whose
// command does not exist.
func unitWithBinary(t *testing.T, edit func(string) string) string {
	t.Helper()
	unit := strings.ReplaceAll(string(readFile(t, unitFile)), installed, exporter(t))
	if edit != nil {
		unit = edit(unit)
	}
	return writeFile(t, filepath.Join(t.TempDir(), filepath.Base(unitFile)), []byte(unit))
}

// TestSystemdUnitVerifies runs systemd-analyze verify, which exits 0 even on
// unknown keys and bad values: any word it says is a failure. The broken
// copies prove that.
func TestSystemdUnitVerifies(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(string) string
		clean bool
	}{
		{"as shipped", nil, true},
		{"misspelt key", func(u string) string { return strings.Replace(u, "ProtectHome=", "ProtectHomes=", 1) }, false},
		{"bad value", func(u string) string { return strings.Replace(u, "ProtectSystem=strict", "ProtectSystem=very", 1) }, false},
		{"missing binary", func(u string) string {
			return strings.Replace(u, "ExecStart="+exporter(t), "ExecStart="+installed+".missing", 1)
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			analyze := tool(t, "systemd-analyze", "apt-get install systemd")
			out, err := runErr(analyze, "verify", unitWithBinary(t, tt.edit))
			if clean := err == nil && strings.TrimSpace(out) == ""; clean != tt.clean {
				t.Errorf("systemd-analyze verify clean: %v, want %v\n%s", clean, tt.clean, out)
			}
		})
	}
}

var exposure = regexp.MustCompile(`Overall exposure level for \S+: ([0-9.]+)`)

// TestSystemdUnitSandbox: the directives the exporter's sandbox rests on are
// there, and systemd's own assessment rates the unit's exposure low (0 is
// the best, 10 the worst; an unsandboxed service scores 9.6).
func TestSystemdUnitSandbox(t *testing.T) {
	unit := string(readFile(t, unitFile))
	for _, want := range []string{
		"DynamicUser=yes", "ProtectSystem=strict", "ProtectHome=yes", "NoNewPrivileges=yes",
		"PrivateTmp=yes", "PrivateDevices=yes", "ProtectKernelTunables=yes", "ProtectKernelModules=yes",
		"ProtectKernelLogs=yes", "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX", "CapabilityBoundingSet=",
		"SystemCallFilter=@system-service", "MemoryDenyWriteExecute=yes", "LockPersonality=yes",
		"ExecReload=/bin/kill -HUP $MAINPID", "ConfigurationDirectory=zookeeper_exporter",
	} {
		if !slices.Contains(strings.Split(unit, "\n"), want) {
			t.Errorf("%s: no line %q", unitFile, want)
		}
	}
	analyze := tool(t, "systemd-analyze", "apt-get install systemd")
	out := run(t, analyze, "security", "--offline=true", unitWithBinary(t, nil))
	m := exposure.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("systemd-analyze security: no overall exposure\n%s", out)
	}
	if level, _ := strconv.ParseFloat(m[1], 64); level > 2 {
		t.Errorf("exposure %s, want at most 2 (systemd's \"OK\")\n%s", m[1], out)
	}
}

// TestSystemdExecStartFlags runs the binary with the unit's ExecStart
// arguments and the example ARGS of the environment file, as systemd would
// expand them: an unknown flag would make the service fail at start.
func TestSystemdExecStartFlags(t *testing.T) {
	var execStart string
	for _, line := range strings.Split(string(readFile(t, unitFile)), "\n") {
		if v, ok := strings.CutPrefix(line, "ExecStart="); ok {
			execStart = v
		}
	}
	var args string
	for _, line := range strings.Split(string(readFile(t, defaultFile)), "\n") {
		if v, ok := strings.CutPrefix(line, "ARGS="); ok {
			args = strings.Trim(v, `"`)
		}
	}
	if args == "" {
		t.Fatalf("%s: no example ARGS", defaultFile)
	}
	configDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(configDir, "config.yml"), readFile(t, "../examples/config.yml"), 0o644); err != nil {
		t.Fatal(err)
	}
	expanded := strings.NewReplacer("${CONFIGURATION_DIRECTORY}", configDir, "$ARGS", args).Replace(execStart)
	argv := strings.Fields(expanded)
	if argv[0] != installed {
		t.Errorf("ExecStart runs %s; the unit's comments say %s", argv[0], installed)
	}
	out := run(t, exporter(t), append(argv[1:], "--config.check")...)
	if !strings.Contains(out, "configuration is valid") {
		t.Errorf("%s --config.check: %s", expanded, out)
	}
}
