package ensemble

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"

	"github.com/quorumwatch/zookeeper_exporter/config"
	"github.com/quorumwatch/zookeeper_exporter/zk"
)

// newZKClient builds a four-letter-word client, with TLS when configured.
func newZKClient(ensemble *config.Ensemble) (WordClient, error) {
	client := &zk.Client{}
	if ensemble.DNS != nil && ensemble.DNS.Resolver != "" {
		client.Dialer = zk.NewDialer(resolverFor(ensemble.DNS))
	}
	if ensemble.TLS == nil {
		return client, nil
	}
	tlsConfig := &tls.Config{ServerName: ensemble.TLS.ServerName, InsecureSkipVerify: ensemble.TLS.InsecureSkipVerify} //nolint:gosec // the operator's explicit choice
	if ensemble.TLS.CAFile != "" {
		pem, err := os.ReadFile(ensemble.TLS.CAFile)
		if err != nil {
			return nil, fmt.Errorf("tls: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("tls: %s holds no PEM certificate", ensemble.TLS.CAFile)
		}
		tlsConfig.RootCAs = pool
	}
	if ensemble.TLS.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(ensemble.TLS.CertFile, ensemble.TLS.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("tls: %w", err)
		}
		tlsConfig.Certificates = []tls.Certificate{cert}
	}
	client.TLSConfig = tlsConfig
	return client, nil
}
