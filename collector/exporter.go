// Package collector probes the configured ZooKeeper ensembles and turns what
// they answer into Prometheus metrics. Collect is the entry point: it runs (or
// joins) one probe round per ensemble and writes const metrics from it.
package collector

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/quorumwatch/zookeeper_exporter/config"
	"github.com/quorumwatch/zookeeper_exporter/zk"
)

// DefaultMaxConcurrentProbes bounds member probes in flight across all
// ensembles, so a large configuration cannot open thousands of sockets.
const DefaultMaxConcurrentProbes = 64

// Exporter holds the configuration, the probe rounds in flight and what it
// learned across rounds. It is safe for concurrent scrapes.
type Exporter struct {
	logger     *slog.Logger
	self       *selfMetrics
	probeSlots chan struct{}
	// newClient builds the word client of an ensemble; tests replace it.
	newClient func(*config.Ensemble) (wordClient, error)
	admin     adminCaller

	mu        sync.RWMutex
	config    *config.Config
	ensembles map[string]*ensembleState
	// infoDesc and infoLabels follow the configuration's extra labels.
	infoDesc   *prometheus.Desc
	infoLabels []string
}

// ensembleState is what lives as long as an ensemble's configuration.
type ensembleState struct {
	ensemble *config.Ensemble
	client   wordClient
	admin    adminCaller
	timeout  time.Duration
	rounds   roundGroup

	mu        sync.Mutex
	serverIDs map[string]int // learned from conf, by member address
	last      *EnsembleResult
}

// New returns an Exporter for cfg.
func New(cfg *config.Config, logger *slog.Logger) (*Exporter, error) {
	exporter := &Exporter{
		logger:     logger,
		self:       newSelfMetrics(),
		probeSlots: make(chan struct{}, DefaultMaxConcurrentProbes),
		newClient:  newZKClient,
		admin:      &zk.AdminClient{},
		ensembles:  map[string]*ensembleState{},
	}
	if err := exporter.SetConfig(cfg); err != nil {
		return nil, err
	}
	return exporter, nil
}

// SetConfig switches to a new configuration, or returns an error and keeps
// the old one. Ensembles whose configuration did not change keep what was
// learned about them.
func (e *Exporter) SetConfig(cfg *config.Config) error {
	states := map[string]*ensembleState{}
	for _, ensemble := range cfg.Ensembles {
		client, err := e.newClient(ensemble)
		if err != nil {
			return fmt.Errorf("ensemble %q: %w", ensemble.Name, err)
		}
		state := &ensembleState{ensemble: ensemble, client: client, admin: e.admin, timeout: cfg.MemberTimeout(ensemble), serverIDs: map[string]int{}}
		e.mu.RLock()
		if old := e.ensembles[ensemble.Name]; old != nil {
			old.mu.Lock()
			for address, id := range old.serverIDs {
				state.serverIDs[address] = id
			}
			old.mu.Unlock()
		}
		e.mu.RUnlock()
		states[ensemble.Name] = state
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.config != nil {
		e.self.forget(e.config, cfg)
	}
	e.config = cfg
	e.ensembles = states
	e.infoLabels = cfg.LabelNames()
	e.infoDesc = memberInfoDesc(e.infoLabels)
	return nil
}

// Config returns the configuration in force.
func (e *Exporter) Config() *config.Config {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.config
}

// SelfCollectors returns the exporter's own counters, to register once.
func (e *Exporter) SelfCollectors() []prometheus.Collector { return e.self.collectors() }

// ErrUnknownEnsemble is returned for an ensemble that is not configured.
var ErrUnknownEnsemble = errors.New("ensemble is not configured")

// Probe runs, or joins, a probe round of the named ensemble and waits for it
// or for ctx.
func (e *Exporter) Probe(ctx context.Context, name string) (*EnsembleResult, error) {
	e.mu.RLock()
	state := e.ensembles[name]
	e.mu.RUnlock()
	if state == nil {
		return nil, fmt.Errorf("%q: %w", name, ErrUnknownEnsemble)
	}
	r, shared := state.rounds.join(ctx, func(roundCtx context.Context) *EnsembleResult {
		result := e.probeEnsemble(roundCtx, state)
		state.mu.Lock()
		previous := state.last
		result.Availability = nextAvailability(previous, result)
		state.last = result
		state.mu.Unlock()
		e.logEvents(previous, result)
		return result
	})
	if shared {
		e.self.sharedRounds.WithLabelValues(name).Inc()
	}
	select {
	case <-r.done:
		return r.result, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("ensemble %q: %w", name, ctx.Err())
	}
}

// Last returns the latest completed round of the named ensemble, or nil.
func (e *Exporter) Last(name string) *EnsembleResult {
	e.mu.RLock()
	state := e.ensembles[name]
	e.mu.RUnlock()
	if state == nil {
		return nil
	}
	state.mu.Lock()
	defer state.mu.Unlock()
	return state.last
}

// recordError counts and logs a word that got no usable answer.
func (e *Exporter) recordError(ensemble *config.Ensemble, member *config.Member, word string, err error) {
	reason := zk.Reason(err)
	e.self.probeErrors.WithLabelValues(ensemble.Name, member.Address, reason).Inc()
	e.logger.Debug("probe failed", "ensemble", ensemble.Name, "member", member.Address, "word", word, "reason", reason, "err", err)
}

// newZKClient builds a four-letter-word client, with TLS when configured.
func newZKClient(ensemble *config.Ensemble) (wordClient, error) {
	client := &zk.Client{}
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
