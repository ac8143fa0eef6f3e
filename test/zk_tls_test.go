package e2e

import (
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/quorumwatch/zookeeper_exporter/internal/zkcluster"
	"github.com/quorumwatch/zookeeper_exporter/zk"
)

// TestZooKeeperTLS probes Debian's ZooKeeper 3.8 on its secureClientPort.
// The members run NettyServerCnxnFactory (the NIO factory has no TLS) with
// PEM key and trust stores made here, and need a client certificate
// (ssl.clientAuth=need). The exporter watches the same members three times:
// with the right CA and a client certificate (modes and zxids as the members
// say on their plain port), without a client certificate, and trusting
// another CA (every member down with reason tls).
func TestZooKeeperTLS(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a real ZooKeeper ensemble")
	}
	dir := t.TempDir()
	ca, otherCA := newTestCA(t, "zookeeper test CA"), newTestCA(t, "some other CA")
	serverCert, serverKey := ca.issue(t, "zookeeper", 2)
	clientCert, clientKey := ca.issue(t, "zookeeper_exporter", 3)
	caFile := writeFile(t, filepath.Join(dir, "ca.pem"), ca.certPEM)
	otherCAFile := writeFile(t, filepath.Join(dir, "other-ca.pem"), otherCA.certPEM)
	// ZooKeeper's PEM key store is one file: the key and its certificate.
	serverStore := writeFile(t, filepath.Join(dir, "server.pem"), serverKey, serverCert)
	clientCertFile := writeFile(t, filepath.Join(dir, "client.pem"), clientCert)
	clientKeyFile := writeFile(t, filepath.Join(dir, "client-key.pem"), clientKey)

	// Members 1 and 2 speak TLS 1.2, 3.8's default; member 3 only TLS 1.3,
	// where a server refuses a client certificate after the client has
	// finished its handshake.
	const voters, tls13Member = 3, 3
	securePorts := make([]string, voters)
	extra := map[int][]string{}
	for id := 1; id <= voters; id++ {
		address := freePort(t)
		_, port, _ := net.SplitHostPort(address)
		securePorts[id-1] = address
		extra[id] = []string{
			"serverCnxnFactory=org.apache.zookeeper.server.NettyServerCnxnFactory",
			"secureClientPort=" + port,
			"secureClientPortAddress=127.0.0.1",
			"authProvider.x509=org.apache.zookeeper.server.auth.X509AuthenticationProvider",
			"ssl.keyStore.location=" + serverStore,
			"ssl.keyStore.type=PEM",
			"ssl.trustStore.location=" + caFile,
			"ssl.trustStore.type=PEM",
			"ssl.clientAuth=need",
		}
		if id == tls13Member {
			// 3.8's default cipher list has only TLS 1.2 suites.
			extra[id] = append(extra[id], "ssl.protocol=TLSv1.3", "ssl.enabledProtocols=TLSv1.3",
				"ssl.ciphersuites=TLS_AES_128_GCM_SHA256,TLS_AES_256_GCM_SHA384")
		}
	}
	cluster := zkcluster.StartT(t, zkcluster.Options{Voters: voters, ExtraConfig: extra, ExtraClasspath: zkcluster.NettyJars()})

	var config strings.Builder
	fmt.Fprintf(&config, "timeout: 2s\nensembles:\n")
	for _, ensemble := range []struct{ name, tls string }{
		{"tls", fmt.Sprintf("{ca_file: %q, cert_file: %q, key_file: %q}", caFile, clientCertFile, clientKeyFile)},
		{"no-client-cert", fmt.Sprintf("{ca_file: %q}", caFile)},
		{"wrong-ca", fmt.Sprintf("{ca_file: %q, cert_file: %q, key_file: %q}", otherCAFile, clientCertFile, clientKeyFile)},
	} {
		fmt.Fprintf(&config, "  - name: %s\n    tls: %s\n    members:\n", ensemble.name, ensemble.tls)
		for _, address := range securePorts {
			fmt.Fprintf(&config, "      - {address: %q}\n", address)
		}
	}
	configFile := writeFile(t, filepath.Join(dir, "zookeeper_exporter.yml"), []byte(config.String()))
	base, logs, _ := startExporter(t, "--config.file="+configFile)
	url := base + "/metrics"
	defer func() {
		if t.Failed() {
			t.Logf("exporter logs:\n%s", logs)
		}
	}()

	// The secure port speaks only TLS: a plain srvr gets no answer there.
	if answer, err := zkcluster.FourLetterWord(t.Context(), securePorts[0], "srvr"); err == nil && strings.Contains(string(answer), "Mode:") {
		t.Fatalf("the secure port answered srvr in plain text: %q", answer)
	}
	t.Run("with the CA and a client certificate: modes and zxids over TLS", func(t *testing.T) {
		scrape := eventually(t, url, 30*time.Second, func(scrape *exposition) error {
			return expectValues(scrape, map[string]float64{
				"zookeeper_ensemble_voters_up":        voters,
				"zookeeper_ensemble_voters_in_quorum": voters,
				"zookeeper_ensemble_leaders":          1,
				"zookeeper_ensemble_quorum_margin":    1,
			}, map[string]string{"ensemble": "tls"})
		})
		for i, member := range cluster.Members() {
			labels := map[string]string{"ensemble": "tls", "member": securePorts[i]}
			// Ground truth from the member's plain client port.
			plain, err := member.FourLetterWord(t.Context(), "srvr")
			if err != nil {
				t.Fatal(err)
			}
			srvr, err := zk.ParseSrvr(plain)
			if err != nil {
				t.Fatal(err)
			}
			modes := scrape.labelValues("zookeeper_server_mode", "mode", labels, 1)
			if len(modes) != 1 || modes[0] != string(srvr.Mode) {
				t.Errorf("zk%d over TLS: modes set %v, the plain port says %s", member.ID, modes, srvr.Mode)
			}
			if epoch, ok := scrape.value("zookeeper_zxid_epoch", labels); !ok || epoch != float64(srvr.Zxid.Epoch()) {
				t.Errorf("zk%d over TLS: zxid epoch %v (present %v), the plain port says %d", member.ID, epoch, ok, srvr.Zxid.Epoch())
			}
			if _, ok := scrape.value("zookeeper_zxid_transactions", labels); !ok {
				t.Errorf("zk%d over TLS: no zxid_transactions", member.ID)
			}
			if _, ok := scrape.value("zookeeper_watches", labels); !ok {
				t.Errorf("zk%d over TLS: no mntr metrics", member.ID)
			}
			if got := scrape.labelValues("zookeeper_up", "server_id", labels, 1); len(got) != 1 || got[0] != fmt.Sprint(member.ID) {
				t.Errorf("zk%d over TLS: server_id %v, want %d from conf", member.ID, got, member.ID)
			}
		}
	})

	for _, name := range []string{"no-client-cert", "wrong-ca"} {
		t.Run(name+": every member down, reason tls", func(t *testing.T) {
			scrape := eventually(t, url, 30*time.Second, func(scrape *exposition) error {
				if err := expectValues(scrape, map[string]float64{
					"zookeeper_ensemble_voters_up":     0,
					"zookeeper_ensemble_leaders":       0,
					"zookeeper_ensemble_quorum_margin": -2,
				}, map[string]string{"ensemble": name}); err != nil {
					return err
				}
				for i, address := range securePorts {
					if i+1 == tls13Member && name == "no-client-cert" {
						continue // below
					}
					errors, ok := scrape.value("zookeeper_exporter_probe_errors_total", map[string]string{"ensemble": name, "member": address, "reason": "tls"})
					if !ok || errors < 1 {
						return fmt.Errorf("%s: no probe error with reason tls for %s:\n%s", name, address, grepLines(scrape.body, "probe_errors_total"))
					}
				}
				return nil
			})
			for _, address := range securePorts {
				labels := map[string]string{"ensemble": name, "member": address}
				if up, _ := scrape.value("zookeeper_up", labels); up != 0 {
					t.Errorf("%s: up = %v", address, up)
				}
			}
			if name == "no-client-cert" {
				// Over TLS 1.3 the refusal ("remote error: tls: bad
				// certificate") arrives on the first read, after the
				// client's handshake succeeded: still reason "tls".
				address := securePorts[tls13Member-1]
				if errors, _ := scrape.value("zookeeper_exporter_probe_errors_total", map[string]string{"ensemble": name, "member": address, "reason": "tls"}); errors < 1 {
					t.Errorf("TLS 1.3 member %s refusing the missing client certificate is counted as:\n%s", address,
						grepLines(grepLines(scrape.body, "zookeeper_exporter_probe_errors_total{"), `member="`+address+`"`))
				}
			}
		})
	}
}

// grepLines returns the lines of text containing substr.
func grepLines(text, substr string) string {
	var lines []string
	for _, line := range strings.Split(text, "\n") {
		if strings.Contains(line, substr) {
			lines = append(lines, line)
		}
	}
	return strings.Join(lines, "\n")
}
