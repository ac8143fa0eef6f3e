package e2e

import (
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// TestWebSecurity runs the binary behind --web.config.file (exporter-toolkit:
// TLS and basic auth) with a CA and a server certificate made at test time,
// and shows what a client with and without the credentials gets, that
// /probe never reaches an address it was handed, and that no secret shows
// in the logs, the metrics or the landing page.
func TestWebSecurity(t *testing.T) {
	dir := t.TempDir()
	ca := newTestCA(t, "zookeeper_exporter test CA")
	certPEM, keyPEM := ca.issue(t, "zookeeper_exporter", 2)
	certFile := writeFile(t, filepath.Join(dir, "server.crt"), certPEM)
	keyFile := writeFile(t, filepath.Join(dir, "server.key"), keyPEM)

	secret := make([]byte, 16)
	if _, err := rand.Read(secret); err != nil {
		t.Fatal(err)
	}
	const user = "prometheus"
	password := hex.EncodeToString(secret)
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	webConfig := writeFile(t, filepath.Join(dir, "web.yml"), []byte(fmt.Sprintf(
		"tls_server_config:\n  cert_file: %s\n  key_file: %s\nbasic_auth_users:\n  %s: %q\n", certFile, keyFile, user, hash)))

	// A listener standing for an arbitrary address a caller might hand
	// /probe: it must never see a connection.
	bystander, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer bystander.Close()
	var reached atomic.Int64
	go func() {
		for {
			conn, err := bystander.Accept()
			if err != nil {
				return
			}
			reached.Add(1)
			conn.Close()
		}
	}()

	dead := freePort(t)
	base, logs, _ := startExporter(t, "--web.config.file="+webConfig, "--log.level=debug",
		"--zookeeper.servers="+dead, "--zookeeper.ensemble=secure", "--zookeeper.timeout=300ms")
	secureBase := strings.Replace(base, "http://", "https://", 1)

	roots := x509.NewCertPool()
	roots.AddCert(ca.cert)
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}
	fetch := func(t *testing.T, client *http.Client, url, user, password string) (int, string, error) {
		t.Helper()
		request, err := http.NewRequest(http.MethodGet, url, nil)
		if err != nil {
			t.Fatal(err)
		}
		if user != "" {
			request.SetBasicAuth(user, password)
		}
		response, err := client.Do(request)
		if err != nil {
			return 0, "", err
		}
		defer response.Body.Close()
		body, _ := io.ReadAll(response.Body)
		return response.StatusCode, string(body), nil
	}

	var metrics, landing string
	tests := []struct {
		name           string
		client         *http.Client
		url            string
		user, password string
		status         int    // 0: the request must fail
		want           string // in the body
		keep           *string
	}{
		{name: "metrics with the CA and the password", client: client, url: secureBase + "/metrics", user: user, password: password,
			status: http.StatusOK, want: `zookeeper_up{ensemble="secure"`, keep: &metrics},
		{name: "landing page", client: client, url: secureBase + "/", user: user, password: password,
			status: http.StatusOK, want: "ZooKeeper Exporter", keep: &landing},
		{name: "wrong password", client: client, url: secureBase + "/metrics", user: user, password: password + "x", status: http.StatusUnauthorized},
		{name: "unknown user", client: client, url: secureBase + "/metrics", user: "admin", password: password, status: http.StatusUnauthorized},
		{name: "no password", client: client, url: secureBase + "/metrics", status: http.StatusUnauthorized},
		{name: "no password, probe", client: client, url: secureBase + "/probe?ensemble=secure", status: http.StatusUnauthorized},
		{name: "plain HTTP to the TLS listener", client: &http.Client{Timeout: 10 * time.Second}, url: base + "/metrics", user: user, password: password,
			status: http.StatusBadRequest},
		{name: "a CA the exporter's certificate is not from", client: &http.Client{Timeout: 10 * time.Second}, url: secureBase + "/metrics", user: user, password: password},
		{name: "probe of an ensemble not configured", client: client, url: secureBase + "/probe?ensemble=other", user: user, password: password,
			status: http.StatusBadRequest, want: "not configured"},
		{name: "probe of a target address", client: client, url: secureBase + "/probe?target=" + bystander.Addr().String(), user: user, password: password,
			status: http.StatusBadRequest},
		{name: "probe of a target address beside an ensemble", client: client, url: secureBase + "/probe?ensemble=secure&target=" + bystander.Addr().String(), user: user, password: password,
			status: http.StatusOK, want: `member="` + dead + `"`},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			status, body, err := fetch(t, test.client, test.url, test.user, test.password)
			if test.status == 0 {
				if err == nil {
					t.Fatalf("got %d, want the request refused", status)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if status != test.status || !strings.Contains(body, test.want) {
				t.Errorf("%d, want %d with %q:\n%.500s", status, test.status, test.want, body)
			}
			if status != http.StatusOK && strings.Contains(body, "zookeeper_") {
				t.Errorf("a refused request leaked metrics:\n%.500s", body)
			}
			if test.keep != nil {
				*test.keep = body
			}
		})
	}
	if n := reached.Load(); n != 0 {
		t.Errorf("/probe connected to an address it was handed (%d connections)", n)
	}

	// No secret anywhere the exporter writes.
	secrets := map[string]string{"password": password, "bcrypt hash": string(hash)}
	for i, line := range strings.Split(strings.TrimSpace(string(keyPEM)), "\n") {
		if !strings.HasPrefix(line, "-----") {
			secrets[fmt.Sprintf("key file line %d", i+1)] = line
		}
	}
	for where, text := range map[string]string{"logs": logs.String(), "/metrics": metrics, "the landing page": landing} {
		if text == "" {
			t.Errorf("nothing to search in %s", where)
		}
		for what, secret := range secrets {
			if strings.Contains(text, secret) {
				t.Errorf("%s show the %s", where, what)
			}
		}
	}
}
