package deploy

import (
	"bytes"
	"flag"
	"fmt"
	"go/build"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/quorumwatch/zookeeper_exporter/internal/freeport"
)

// requireToolsEnv makes a missing helm, promtool or systemd-analyze fail the
// tests instead of skipping them; CI sets it, as it installs them all.
const requireToolsEnv = "DEPLOY_TOOLS_REQUIRED"

var (
	binaryDir  string
	binaryOnce sync.Once
	binaryPath string
	binaryErr  error
)

// TestMain removes the exporter binary the tests built, if any.
func TestMain(m *testing.M) {
	flag.Parse()
	dir, err := os.MkdirTemp("", "zookeeper_exporter_deploy")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binaryDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// exporter builds the binary once per run, on first use: with -short no test
// asks for it, so nothing is built.
func exporter(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: not building the exporter")
	}
	binaryOnce.Do(func() {
		binaryPath = filepath.Join(binaryDir, "zookeeper_exporter")
		out, err := exec.Command("go", "build", "-o", binaryPath, "..").CombinedOutput()
		if err != nil {
			binaryErr = fmt.Errorf("building the exporter: %w\n%s", err, out)
		}
	})
	if binaryErr != nil {
		t.Fatal(binaryErr)
	}
	return binaryPath
}

// tool finds an external command, also in GOBIN or GOPATH/bin where `go
// install` puts helm. Missing, it skips the test with how to install it, or
// fails when DEPLOY_TOOLS_REQUIRED is set.
func tool(t *testing.T, name, install string) string {
	t.Helper()
	if testing.Short() {
		t.Skipf("-short: not running %s", name)
	}
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	for _, dir := range []string{os.Getenv("GOBIN"), filepath.Join(build.Default.GOPATH, "bin")} {
		if p := filepath.Join(dir, name); dir != "" && isExecutable(p) {
			return p
		}
	}
	msg := fmt.Sprintf("%s not found in PATH, GOBIN or GOPATH/bin; install it: %s", name, install)
	if os.Getenv(requireToolsEnv) != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

func isExecutable(path string) bool {
	info, err := os.Stat(path)
	return err == nil && info.Mode().IsRegular() && info.Mode()&0o111 != 0
}

// run runs a command and returns its standard output and error together,
// failing the test when it exits non-zero.
func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := runErr(name, args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func runErr(name string, args ...string) (string, error) {
	var out bytes.Buffer
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("%s %s: %w\n%s", filepath.Base(name), strings.Join(args, " "), err, out.String())
	}
	return out.String(), nil
}

func writeFile(t *testing.T, path string, data []byte) string {
	t.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// freeLoopbackAddress returns a loopback address nobody listens on right now.
func freeLoopbackAddress(t *testing.T) string {
	t.Helper()
	address, err := freeport.Address()
	if err != nil {
		t.Fatal(err)
	}
	return address
}

// startExporter runs the binary with args until the test ends, and waits
// until it answers on addr.
func startExporter(t *testing.T, addr string, args ...string) {
	t.Helper()
	var logs syncBuffer
	cmd := exec.Command(exporter(t), args...)
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	var waitErr error
	go func() { waitErr = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})
	// Polls until the listener is up: how long that takes is not the test.
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); {
		select {
		case <-exited:
			t.Fatalf("exporter exited: %v\n%s", waitErr, logs.String())
		default:
		}
		if resp, err := http.Get("http://" + addr + "/"); err == nil {
			resp.Body.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("exporter not listening on %s\n%s", addr, logs.String())
}

// syncBuffer collects a process's output while the test may read it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
