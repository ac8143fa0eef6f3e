// Package e2e holds the integration tests: the exporter binary against real
// ZooKeeper ensembles, Prometheus and Alertmanager. helpers_test.go is the one
// place for what they share: the binary, free ports, config writing, a test CA
// and scrape-and-parse.
package e2e

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"flag"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	dto "github.com/prometheus/client_model/go"

	"github.com/quorumwatch/zookeeper_exporter/internal/freeport"
	"github.com/quorumwatch/zookeeper_exporter/internal/zkcluster"
)

// exporterBinary is built once per test run, with the version ldflags the
// Makefile and promu use.
var exporterBinary string

// TestMain builds the binary once per run, with the version ldflags the
// Makefile and promu use. With -short nothing here runs: every test in this
// package starts real processes, so none is built.
func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() {
		fmt.Println("e2e: skipped with -short (every test here starts real processes)")
		os.Exit(0)
	}
	dir, err := os.MkdirTemp("", "zookeeper_exporter_test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	exporterBinary = filepath.Join(dir, "zookeeper_exporter")
	build := exec.Command("go", "build", "-o", exporterBinary, "-ldflags",
		"-X github.com/prometheus/common/version.Version=9.8.7 -X github.com/prometheus/common/version.Revision=abc123", "..")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building the exporter:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// freePort returns a loopback address nobody listens on right now, below
// the ports the kernel gives connections (see freeport).
func freePort(t *testing.T) string {
	t.Helper()
	address, err := freeport.Address()
	if err != nil {
		t.Fatal(err)
	}
	return address
}

// lockedBuffer collects a process's output while the test reads it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// startExporter runs the binary and waits until it answers.
func startExporter(t *testing.T, args ...string) (base string, logs *lockedBuffer, cmd *exec.Cmd) {
	t.Helper()
	address := freePort(t)
	cmd = exec.Command(exporterBinary, append([]string{"--web.listen-address=" + address}, args...)...)
	logs = &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	base = "http://" + address
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if response, err := http.Get(base + "/-/healthy"); err == nil {
			response.Body.Close()
			return base, logs, cmd
		}
	}
	t.Fatalf("exporter did not answer; logs:\n%s", logs)
	return
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	response, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer response.Body.Close()
	body, _ := io.ReadAll(response.Body)
	return response.StatusCode, string(body)
}

func post(t *testing.T, url string) (int, string) {
	t.Helper()
	response, err := http.Post(url, "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer response.Body.Close()
	body, _ := io.ReadAll(response.Body)
	return response.StatusCode, string(body)
}

// writeClusterConfig writes an exporter configuration for a real cluster.
func writeClusterConfig(t *testing.T, name string, cluster *zkcluster.Cluster, timeout time.Duration) string {
	t.Helper()
	var config strings.Builder
	fmt.Fprintf(&config, "timeout: %s\nensembles:\n  - name: %s\n    members:\n", timeout, name)
	for _, member := range cluster.Members() {
		role := "voter"
		if member.Observer {
			role = "observer"
		}
		fmt.Fprintf(&config, "      - {address: %q, role: %s}\n", member.ClientAddr, role)
	}
	path := filepath.Join(t.TempDir(), "zookeeper_exporter.yml")
	if err := os.WriteFile(path, []byte(config.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// testCA is a certificate authority made at test time.
type testCA struct {
	cert    *x509.Certificate
	key     *ecdsa.PrivateKey
	certPEM []byte
}

func newTestCA(t *testing.T, name string) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	template := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, template, template, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &testCA{cert: cert, key: key, certPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// issue returns a certificate for 127.0.0.1 and localhost, usable by a
// server and a client, and its PKCS#8 key, both PEM.
func (ca *testCA) issue(t *testing.T, name string, serial int64) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	template := &x509.Certificate{
		SerialNumber: big.NewInt(serial),
		Subject:      pkix.Name{CommonName: name},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:     []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, template, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8})
}

func writeFile(t *testing.T, path string, parts ...[]byte) string {
	t.Helper()
	var all []byte
	for _, part := range parts {
		all = append(all, part...)
	}
	if err := os.WriteFile(path, all, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// exposition is one parsed scrape.
type exposition struct {
	body     string
	families map[string]*dto.MetricFamily
}

// scrapeExporter GETs a metrics page the way Prometheus does, with its
// scrape-timeout header and a client that gives up at that timeout.
func scrapeExporter(url string, timeout time.Duration) (*exposition, error) {
	return scrapeThrough(&http.Client{Timeout: timeout}, url, timeout)
}

// scrapeThrough scrapes like Prometheus with a scrape timeout of deadline,
// through client (one inside a cluster's network namespace, or one giving
// up at the deadline), and parses the exposition.
func scrapeThrough(client *http.Client, target string, deadline time.Duration) (*exposition, error) {
	request, err := http.NewRequest(http.MethodGet, target, nil)
	if err != nil {
		return nil, err
	}
	request.Header.Set("X-Prometheus-Scrape-Timeout-Seconds", strconv.FormatFloat(deadline.Seconds(), 'f', -1, 64))
	body, err := readOK(client, request)
	if err != nil {
		return nil, err
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(string(body)))
	if err != nil {
		return nil, fmt.Errorf("parsing %s: %w", target, err)
	}
	return &exposition{body: string(body), families: families}, nil
}

// value returns the value of the one series of name whose labels include
// match, and whether exactly one such series exists.
func (e *exposition) value(name string, match map[string]string) (float64, bool) {
	var found []float64
	for _, metric := range e.families[name].GetMetric() {
		if labelsMatch(metric, match) {
			switch {
			case metric.Gauge != nil:
				found = append(found, metric.Gauge.GetValue())
			case metric.Counter != nil:
				found = append(found, metric.Counter.GetValue())
			case metric.Untyped != nil:
				found = append(found, metric.Untyped.GetValue())
			}
		}
	}
	if len(found) != 1 {
		return 0, false
	}
	return found[0], true
}

// labelValues returns label's values over the series of name that match and
// have the value want.
func (e *exposition) labelValues(name, label string, match map[string]string, want float64) []string {
	var values []string
	for _, metric := range e.families[name].GetMetric() {
		if labelsMatch(metric, match) && metric.GetGauge().GetValue() == want {
			for _, pair := range metric.Label {
				if pair.GetName() == label {
					values = append(values, pair.GetValue())
				}
			}
		}
	}
	sort.Strings(values)
	return values
}

func labelsMatch(metric *dto.Metric, match map[string]string) bool {
	have := map[string]string{}
	for _, pair := range metric.Label {
		have[pair.GetName()] = pair.GetValue()
	}
	for name, value := range match {
		if have[name] != value {
			return false
		}
	}
	return true
}

// eventually scrapes until check passes or the deadline passes; ZooKeeper
// needs a moment to elect and to notice a member has gone.
func eventually(t *testing.T, url string, within time.Duration, check func(*exposition) error) *exposition {
	t.Helper()
	deadline := time.Now().Add(within)
	var last error
	for {
		scrape, err := scrapeExporter(url, 5*time.Second)
		if err == nil {
			if last = check(scrape); last == nil {
				return scrape
			}
		} else {
			last = err
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %v", within, last)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// expectValues fails with every mismatch of name{labels} = value.
func expectValues(scrape *exposition, want map[string]float64, labels map[string]string) error {
	var problems []string
	names := make([]string, 0, len(want))
	for name := range want {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		got, ok := scrape.value(name, labels)
		if !ok || got != want[name] {
			problems = append(problems, fmt.Sprintf("%s%v = %v (present %v), want %v", name, labels, got, ok, want[name]))
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("%s", strings.Join(problems, "; "))
	}
	return nil
}

// pollUntil calls check until it succeeds, failing after a generous
// deadline with check's last description of what it saw.
func pollUntil(t *testing.T, what string, check func() (bool, string)) {
	t.Helper()
	const within = 60 * time.Second
	deadline := time.Now().Add(within)
	for {
		ok, state := check()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s still waiting for %s; last seen: %s", within, what, state)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// aFollower returns a voter that is not the leader.
func aFollower(t *testing.T, cluster *zkcluster.Cluster) (follower, leader *zkcluster.Member) {
	t.Helper()
	leader = cluster.LeaderT(t)
	for _, member := range cluster.Voters() {
		if member.ID != leader.ID {
			return member, leader
		}
	}
	t.Fatal("no follower")
	return nil, nil
}

// killFollower SIGKILLs a running voter that is not the leader.
func killFollower(t *testing.T, cluster *zkcluster.Cluster) *zkcluster.Member {
	t.Helper()
	leader := cluster.LeaderT(t)
	for _, member := range cluster.Voters() {
		if member.ID == leader.ID || member.PID() == 0 {
			continue
		}
		if err := cluster.Kill(member.ID); err != nil {
			t.Fatal(err)
		}
		return member
	}
	t.Fatal("no follower left to kill")
	return nil
}

// readOK sends request and returns the body of a 200 answer; any other
// status is an error that carries the body.
func readOK(client *http.Client, request *http.Request) ([]byte, error) {
	response, err := client.Do(request)
	if err != nil {
		return nil, err
	}
	defer response.Body.Close()
	body, err := io.ReadAll(response.Body)
	if err != nil {
		return nil, err
	}
	if response.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s %s: %s: %s", request.Method, request.URL, response.Status, body)
	}
	return body, nil
}
