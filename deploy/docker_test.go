package deploy

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"net"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// instruction is one Dockerfile instruction, continuation lines joined.
type instruction struct {
	cmd  string // upper-cased: FROM, ARG, COPY, ...
	args string
	line int
}

func parseDockerfile(t *testing.T, path string) []instruction {
	t.Helper()
	var out []instruction
	var pending strings.Builder
	start := 0
	for i, line := range strings.Split(string(readFile(t, path)), "\n") {
		trimmed := strings.TrimSpace(line)
		if pending.Len() == 0 && (trimmed == "" || strings.HasPrefix(trimmed, "#")) {
			continue
		}
		if pending.Len() == 0 {
			start = i + 1
		}
		if strings.HasSuffix(trimmed, "\\") {
			pending.WriteString(strings.TrimSuffix(trimmed, "\\") + " ")
			continue
		}
		pending.WriteString(trimmed)
		cmd, args, _ := strings.Cut(pending.String(), " ")
		out = append(out, instruction{cmd: strings.ToUpper(cmd), args: strings.TrimSpace(args), line: start})
		pending.Reset()
	}
	return out
}

// dockerImage is what the Dockerfile says about the image it builds.
type dockerImage struct {
	from, copySrc, copyDst, user string
	expose                       []string
	entrypoint                   []string
	// argsBefore and argsAfter are the ARGs declared before and after FROM:
	// an ARG declared before FROM is not visible after it unless declared again.
	argsBefore, argsAfter map[string]string
	usedAfterFrom         []string
}

var dockerVar = regexp.MustCompile(`\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?`)

func readDockerImage(t *testing.T) dockerImage {
	t.Helper()
	img := dockerImage{argsBefore: map[string]string{}, argsAfter: map[string]string{}}
	for _, in := range parseDockerfile(t, "../Dockerfile") {
		if img.from != "" && in.cmd != "ARG" {
			for _, m := range dockerVar.FindAllStringSubmatch(in.args, -1) {
				img.usedAfterFrom = append(img.usedAfterFrom, m[1])
			}
		}
		switch in.cmd {
		case "ARG":
			name, def, _ := strings.Cut(in.args, "=")
			args := img.argsBefore
			if img.from != "" {
				args = img.argsAfter
			}
			args[name] = strings.Trim(def, `"`)
		case "FROM":
			if img.from != "" {
				t.Fatalf("Dockerfile:%d: a second FROM; the image is one stage", in.line)
			}
			img.from = in.args
		case "COPY":
			f := strings.Fields(in.args)
			if len(f) != 2 {
				t.Fatalf("Dockerfile:%d: COPY %s: want one source and one destination", in.line, in.args)
			}
			img.copySrc, img.copyDst = f[0], f[1]
		case "EXPOSE":
			img.expose = append(img.expose, strings.Fields(in.args)...)
		case "USER":
			img.user = in.args
		case "ENTRYPOINT":
			if err := json.Unmarshal([]byte(in.args), &img.entrypoint); err != nil {
				t.Fatalf("Dockerfile:%d: ENTRYPOINT not in exec form (a JSON array), so signals would reach a shell: %v", in.line, err)
			}
		}
	}
	return img
}

func expandArgs(s string, args map[string]string) string {
	return dockerVar.ReplaceAllStringFunc(s, func(v string) string {
		return args[dockerVar.FindStringSubmatch(v)[1]]
	})
}

// TestDockerfile checks the image a `docker build` would produce, as far as
// it can be known without a docker engine.
func TestDockerfile(t *testing.T) {
	img := readDockerImage(t)
	for _, name := range img.usedAfterFrom {
		if _, ok := img.argsAfter[name]; !ok {
			t.Errorf("Dockerfile uses ${%s} after FROM without an ARG %s after FROM: it would expand to nothing", name, name)
		}
	}
	for _, name := range []string{"OS", "ARCH"} {
		if img.argsBefore[name] == "" {
			t.Errorf("Dockerfile: no ARG %s with a default before FROM", name)
		}
	}
	if want := "quay.io/prometheus/busybox-${OS}-${ARCH}:latest"; img.from != want {
		t.Errorf("FROM %s, want the Prometheus projects' base %s", img.from, want)
	}
	if img.user == "" || img.user == "root" || strings.HasPrefix(img.user, "0") {
		t.Errorf("USER %q: the exporter needs no root, the image must not run as root", img.user)
	}
	if port := listenPort(t); !slices.Equal(img.expose, []string{port}) {
		t.Errorf("EXPOSE %v, want the exporter's default port %s (main.go's defaultListenAddress)", img.expose, port)
	}
	if len(img.entrypoint) == 0 || img.entrypoint[0] != img.copyDst {
		t.Errorf("ENTRYPOINT %v does not start the binary COPY puts at %s", img.entrypoint, img.copyDst)
	}
	want := filepath.Join(".build", "linux-amd64", promuBinary(t))
	if got := expandArgs(img.copySrc, img.argsAfter); got != want {
		t.Errorf("COPY %s expands to %s with the default ARGs, want %s, where promu crossbuild and make crossbuild put it", img.copySrc, got, want)
	}
}

// listenPort reads the port of main.go's defaultListenAddress.
func listenPort(t *testing.T) string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "../main.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	obj := f.Scope.Lookup("defaultListenAddress")
	if obj == nil {
		t.Fatal("main.go: no defaultListenAddress")
	}
	lit, ok := obj.Decl.(*ast.ValueSpec).Values[0].(*ast.BasicLit)
	if !ok {
		t.Fatal("main.go: defaultListenAddress is not a string literal")
	}
	addr, err := strconv.Unquote(lit.Value)
	if err != nil {
		t.Fatal(err)
	}
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatalf("defaultListenAddress %q: %v", addr, err)
	}
	return port
}

// promuBinary is the binary .promu.yml builds, checking it cross-builds linux.
func promuBinary(t *testing.T) string {
	t.Helper()
	var promu struct {
		Build struct {
			Binaries []struct{ Name string }
		}
		Crossbuild struct{ Platforms []string }
	}
	if err := yaml.Unmarshal(readFile(t, "../.promu.yml"), &promu); err != nil {
		t.Fatalf(".promu.yml: %v", err)
	}
	if len(promu.Build.Binaries) != 1 {
		t.Fatalf(".promu.yml builds %d binaries, want 1", len(promu.Build.Binaries))
	}
	if !slices.ContainsFunc(promu.Crossbuild.Platforms, func(p string) bool { return p == "linux" || strings.HasPrefix(p, "linux/") }) {
		t.Errorf(".promu.yml cross-builds %v, no linux for the image", promu.Crossbuild.Platforms)
	}
	return promu.Build.Binaries[0].Name
}

// TestMakeCrossbuild builds what the Dockerfile copies, the way a machine
// without promu does, and runs it.
func TestMakeCrossbuild(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: not building")
	}
	if runtime.GOOS != "linux" {
		t.Skip("the image is linux; cross-building here would not run")
	}
	out := t.TempDir()
	run(t, "make", "-C", "..", "-s", "crossbuild", "DOCKER_ARCHS="+runtime.GOARCH, "BUILD_DIR="+out)
	img := readDockerImage(t)
	args := map[string]string{"OS": "linux", "ARCH": runtime.GOARCH}
	rel, ok := strings.CutPrefix(expandArgs(img.copySrc, args), ".build/")
	if !ok {
		t.Fatalf("COPY %s is not under .build/", img.copySrc)
	}
	version := run(t, filepath.Join(out, rel), "--version")
	if !strings.Contains(version, "zookeeper_exporter, version") {
		t.Errorf("%s --version: %q", rel, version)
	}
}

// dockerignored tells whether .dockerignore keeps path out of the build
// context: patterns in order, the last match wins, and a pattern matching a
// directory matches everything in it, as docker does.
func dockerignored(patterns []string, path string) bool {
	ignored := false
	for _, p := range patterns {
		keep := strings.HasPrefix(p, "!")
		p = filepath.Clean(strings.TrimPrefix(p, "!"))
		for dir := path; dir != "." && dir != "/"; dir = filepath.Dir(dir) {
			if ok, _ := filepath.Match(p, dir); ok {
				ignored = !keep
				break
			}
		}
	}
	return ignored
}

func TestDockerignore(t *testing.T) {
	var patterns []string
	for _, line := range strings.Split(string(readFile(t, "../.dockerignore")), "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			patterns = append(patterns, line)
		}
	}
	binary := promuBinary(t)
	tests := []struct {
		path string
		sent bool
	}{
		{".build/linux-amd64/" + binary, true},
		{".build/linux-arm64/" + binary, true},
		{binary, false}, // `make build`'s binary is the host's, maybe not linux
		{".git/config", false},
		{"artifacts/status.png", false},
		{"go.mod", false},
	}
	for _, tt := range tests {
		if sent := !dockerignored(patterns, tt.path); sent != tt.sent {
			t.Errorf("%s in the build context: %v, want %v", tt.path, sent, tt.sent)
		}
	}
}
