// Package ensemble is the probe engine. A Registry owns the configuration in
// force and one long-lived state per ensemble, kept across reloads; it runs
// at most one probe round per ensemble at a time, shares it between the
// scrapes that ask meanwhile, and publishes each round as an immutable Round
// in which the voter set, quorum, maintenance assessment and availability
// are computed once. The Prometheus collector, the status command and page,
// and event logging all read Rounds; none of them probes.
package ensemble

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/quorumwatch/zookeeper_exporter/config"
	"github.com/quorumwatch/zookeeper_exporter/zk"
)

// Defaults for Options' zero fields.
const (
	// DefaultConfRefresh is how often the ensemble's membership (conf) is
	// read again when no election or reconfiguration calls for it sooner:
	// one word per ensemble, so that a reconfiguration that changes
	// neither the leader nor the voters' count (a role swap) shows within
	// a minute.
	DefaultConfRefresh = 30 * time.Second
	// MinProbeLimit and MaxProbeLimit bound the default number of members
	// probed at once; between them it is a quarter of the members, so that
	// every member is probed within four round trips. More at once buys
	// little (the probes contend for the same cores) and costs memory: at
	// 1,000 members, all at once doubled the peak RSS of a quarter.
	MinProbeLimit = 64
	MaxProbeLimit = 1024
	roundTrips    = 4
)

// Options tune a Registry; the zero value is fine.
type Options struct {
	// MaxConcurrentProbes bounds the members probed at once, across all
	// ensembles; each probe holds two connections. 0: a quarter of the
	// configured members, from MinProbeLimit to MaxProbeLimit.
	MaxConcurrentProbes int
	// ConfRefresh: see DefaultConfRefresh; 0 means the default.
	ConfRefresh time.Duration
	// NewClient builds an ensemble's word client; nil: the four-letter-word
	// client, with TLS when the ensemble configures it.
	NewClient func(*config.Ensemble) (WordClient, error)
	// Admin calls AdminServer commands; nil: zk.AdminClient.
	Admin AdminCaller
}

// ProbeLimit is the number of members probed at once for cfg.
func (o Options) ProbeLimit(cfg *config.Config) int {
	if o.MaxConcurrentProbes > 0 {
		return o.MaxConcurrentProbes
	}
	members := 0
	for _, e := range cfg.Ensembles {
		members += len(e.Members)
	}
	return min(MaxProbeLimit, max(MinProbeLimit, (members+roundTrips-1)/roundTrips))
}

// Registry is the probe engine; it is safe for concurrent use.
type Registry struct {
	opts    Options
	logger  *slog.Logger
	metrics *SelfMetrics

	mu       sync.RWMutex
	config   *config.Config
	trackers map[string]*tracker
	slots    chan struct{}

	subscribersMu sync.Mutex
	subscribers   []func(previous, current *Round)
}

// New returns a Registry for cfg.
func New(cfg *config.Config, logger *slog.Logger, opts Options) (*Registry, error) {
	if opts.NewClient == nil {
		opts.NewClient = newZKClient
	}
	if opts.Admin == nil {
		opts.Admin = &zk.AdminClient{}
	}
	if opts.ConfRefresh <= 0 {
		opts.ConfRefresh = DefaultConfRefresh
	}
	r := &Registry{opts: opts, logger: logger, metrics: newSelfMetrics(), trackers: map[string]*tracker{}}
	if err := r.SetConfig(cfg); err != nil {
		return nil, err
	}
	return r, nil
}

// SelfMetrics returns the engine's own counters, to register once.
func (r *Registry) SelfMetrics() *SelfMetrics { return r.metrics }

// Subscribe calls f after every complete round of every ensemble, with the
// ensemble's previous complete round (nil for the first). Calls for one
// ensemble come one at a time, in order.
func (r *Registry) Subscribe(f func(previous, current *Round)) {
	r.subscribersMu.Lock()
	defer r.subscribersMu.Unlock()
	r.subscribers = append(r.subscribers, f)
}

// SetConfig switches to a new configuration, or returns an error and keeps
// the old one. An ensemble whose configuration did not change keeps its
// state untouched; one that changed keeps its availability history and
// what was learned of it; only a name no longer configured is forgotten.
// Every ensemble keeps one round group across reloads, so a round of the
// old configuration never overlaps one of the new.
func (r *Registry) SetConfig(cfg *config.Config) error {
	setups := make(map[string]*setup, len(cfg.Ensembles))
	r.mu.RLock()
	for _, e := range cfg.Ensembles {
		fingerprint, err := fingerprintOf(cfg, e)
		if err != nil {
			r.mu.RUnlock()
			return fmt.Errorf("ensemble %q: %w", e.Name, err)
		}
		if t := r.trackers[e.Name]; t != nil && t.currentSetup().fingerprint == fingerprint {
			continue
		}
		client, err := r.opts.NewClient(e)
		if err != nil {
			r.mu.RUnlock()
			return fmt.Errorf("ensemble %q: %w", e.Name, err)
		}
		setups[e.Name] = &setup{ensemble: e, client: client, timeout: cfg.MemberTimeout(e), fingerprint: fingerprint}
	}
	r.mu.RUnlock()

	r.mu.Lock()
	defer r.mu.Unlock()
	trackers := make(map[string]*tracker, len(cfg.Ensembles))
	for _, e := range cfg.Ensembles {
		t := r.trackers[e.Name]
		if t == nil {
			t = newTracker(e.Name)
		}
		if s := setups[e.Name]; s != nil {
			t.setSetup(s)
		}
		trackers[e.Name] = t
	}
	if r.config != nil {
		r.metrics.forget(r.config, cfg)
	}
	if limit := r.opts.ProbeLimit(cfg); r.slots == nil || cap(r.slots) != limit {
		// Probes in flight release the channel they took a slot from.
		r.slots = make(chan struct{}, limit)
	}
	r.config, r.trackers = cfg, trackers
	return nil
}

// fingerprintOf identifies what probing an ensemble depends on.
func fingerprintOf(cfg *config.Config, e *config.Ensemble) (string, error) {
	text, err := json.Marshal(struct {
		Ensemble *config.Ensemble
		Timeout  time.Duration
	}{e, cfg.MemberTimeout(e)})
	return string(text), err
}

// Config returns the configuration in force.
func (r *Registry) Config() *config.Config {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.config
}

// ErrUnknownEnsemble is returned for an ensemble that is not configured.
var ErrUnknownEnsemble = errors.New("ensemble is not configured")

func (r *Registry) tracker(name string) (*tracker, chan struct{}, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	t := r.trackers[name]
	if t == nil {
		return nil, nil, fmt.Errorf("%q: %w", name, ErrUnknownEnsemble)
	}
	return t, r.slots, nil
}

// Probe runs, or joins, a round of the named ensemble and returns it. When
// ctx ends first, it returns what the round knows by then: the members that
// answered, the others down with ReasonDeadline, and the figures derived
// from that; the round goes on for those who can wait.
func (r *Registry) Probe(ctx context.Context, name string) (*Round, error) {
	t, slots, err := r.tracker(name)
	if err != nil {
		return nil, err
	}
	flight, shared := t.rounds.join(func() *flight { return r.start(t, slots) })
	if shared {
		r.metrics.sharedRounds.WithLabelValues(name).Inc()
	}
	select {
	case <-flight.done:
		return flight.result, nil
	case <-ctx.Done():
		return r.partial(t, flight), nil
	}
}

// Last returns the latest complete round of the named ensemble, or nil.
func (r *Registry) Last(name string) *Round {
	t, _, err := r.tracker(name)
	if err != nil {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.last
}

// publish hands a complete round to the subscribers.
func (r *Registry) publish(previous, current *Round) {
	r.subscribersMu.Lock()
	subscribers := append([]func(*Round, *Round){}, r.subscribers...)
	r.subscribersMu.Unlock()
	for _, f := range subscribers {
		f(previous, current)
	}
}
