// Package collector translates the probe engine's rounds into Prometheus
// metrics. It probes nothing itself: each scrape asks the ensemble registry
// for a round of every ensemble it wants, and writes the samples either
// straight into the text exposition (WriteText, what the exporter serves:
// no copy of every series as const metrics, no sort) or as const metrics of
// a prometheus.Collector (New).
package collector

import (
	"context"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/quorumwatch/zookeeper_exporter/ensemble"
	"github.com/quorumwatch/zookeeper_exporter/quorum"
	"github.com/quorumwatch/zookeeper_exporter/zk"
)

// Scrape is a prometheus.Collector for one scrape: it carries the scrape's
// deadline and the ensembles asked for.
type Scrape struct {
	registry  *ensemble.Registry
	ctx       context.Context
	ensembles []string
}

// New returns a collector that writes the named ensembles (every configured
// one when names is empty) as of a round that ends by ctx's deadline.
func New(ctx context.Context, registry *ensemble.Registry, names ...string) *Scrape {
	if len(names) == 0 {
		for _, e := range registry.Config().Ensembles {
			names = append(names, e.Name)
		}
	}
	return &Scrape{registry: registry, ctx: ctx, ensembles: names}
}

// Describe sends nothing: the member info metric's labels depend on the
// configuration, so this is an unchecked collector.
func (s *Scrape) Describe(chan<- *prometheus.Desc) {}

// Collect writes every ensemble's round as const metrics.
func (s *Scrape) Collect(ch chan<- prometheus.Metric) {
	w := newWriter(channelSink{ch}, s.registry.Config().LabelNames())
	for _, round := range Rounds(s.ctx, s.registry, s.ensembles) {
		w.round(round)
	}
}

// Rounds probes the named ensembles concurrently and returns their rounds
// in the order named; an ensemble no longer configured is left out.
func Rounds(ctx context.Context, registry *ensemble.Registry, names []string) []*ensemble.Round {
	rounds := make([]*ensemble.Round, len(names))
	var wg sync.WaitGroup
	for i, name := range names {
		wg.Go(func() {
			rounds[i], _ = registry.Probe(ctx, name)
		})
	}
	wg.Wait()
	kept := rounds[:0]
	for _, round := range rounds {
		if round != nil {
			kept = append(kept, round)
		}
	}
	return kept
}

// sink takes the samples a writer makes.
type sink interface {
	sample(s *Spec, value float64, labels []string)
}

// channelSink sends const metrics, for a prometheus.Collector.
type channelSink struct{ ch chan<- prometheus.Metric }

func (c channelSink) sample(s *Spec, value float64, labels []string) {
	if metric, err := prometheus.NewConstMetric(s.desc, s.Type, value, labels...); err == nil {
		c.ch <- metric
	}
}

// writer turns rounds into samples.
type writer struct {
	sink       sink
	info       *Spec // the member info metric, with this configuration's labels
	infoLabels []string
	// scratch and args hold one sample's labels: a sink copies what it
	// keeps, so two slices serve every sample instead of one each.
	scratch, args []string
}

func newWriter(out sink, infoLabels []string) *writer {
	return &writer{sink: out, info: memberInfoSpec(infoLabels), infoLabels: infoLabels}
}

func (w *writer) gauge(s *Spec, value float64, labels ...string) {
	// Passed on through the sink interface, labels would escape and every
	// sample would allocate them; a copy in the writer's own slice keeps
	// them on the caller's stack.
	w.args = append(w.args[:0], labels...)
	w.sink.sample(s, value, w.args)
}

func (w *writer) round(r *ensemble.Round) {
	w.ensemble(r)
	for i, m := range r.Members {
		labels := [...]string{r.Ensemble.Name, m.Address, m.Role, m.ServerIDLabel()}
		w.member(m, labels[:])
		w.maintenance(r.Assessment.Members[i], labels[:])
		caughtUp := r.CaughtUp(i)
		w.gauge(caughtUpSpec, boolValue(caughtUp), labels[:]...)
		if m.ZabState != "" {
			for _, state := range zk.ZabStates {
				w.gauge(peerStateSpec, boolValue(m.ZabState == state), w.with(labels[:], state)...)
			}
		}
		info := append(w.with(labels[:], m.Datacenter), strconv.FormatBool(m.Discovered))
		for _, label := range w.infoLabels {
			info = append(info, m.Labels[label])
		}
		w.scratch = info
		w.gauge(w.info, 1, info...)
	}
}

func (w *writer) ensemble(r *ensemble.Round) {
	name := r.Ensemble.Name
	q := r.Quorum()
	w.gauge(membersSpec, float64(len(r.Members)), name)
	if r.DNS != nil {
		w.gauge(dnsOKSpec, boolValue(r.DNS.OK), name)
	}
	w.discovery(r)
	w.gauge(votersSpec, float64(q.Voters), name)
	w.gauge(observersSpec, float64(q.Observers), name)
	w.gauge(quorumSizeSpec, float64(q.QuorumSize), name)
	w.gauge(faultToleranceSpec, float64(q.FaultTolerance), name)
	w.gauge(votersUpSpec, float64(q.VotersUp), name)
	w.gauge(votersInQuorumSpec, float64(q.VotersInQuorum), name)
	w.gauge(unseenSyncedSpec, float64(q.VotersUnseenSynced), name)
	w.gauge(unknownSpec, float64(q.VotersUnknown), name)
	w.gauge(unconfiguredSpec, float64(len(r.VoterSet.Unconfigured)), name)
	w.gauge(leadersSpec, float64(q.Leaders), name)
	w.gauge(standaloneSpec, float64(q.Standalone), name)
	w.gauge(quorumMarginSpec, float64(q.Margin), name)
	w.gauge(evenVotersSpec, boolValue(q.Voters%2 == 0), name)
	w.gauge(leaderHiddenSpec, boolValue(q.LeaderHidden), name)
	w.gauge(hierarchicalSpec, boolValue(r.VoterSet.Hierarchical), name)
	w.gauge(roundCompleteSpec, boolValue(!r.Partial), name)
	for _, source := range ensemble.Sources {
		w.gauge(voterSourceSpec, boolValue(r.VoterSet.Source == source), name, string(source))
	}
	if r.VoterSet.Matches != nil {
		w.gauge(voterSetSpec, boolValue(*r.VoterSet.Matches), name)
	}
	if !r.VoterSet.ConfTime.IsZero() {
		w.gauge(voterSetAgeSpec, max(0, time.Since(r.VoterSet.ConfTime).Seconds()), name)
	}
	a := r.Assessment
	for _, dc := range a.Datacenters {
		w.gauge(dcLossSpec, float64(dc.Margin), name, dc.Datacenter)
	}
	for _, advice := range quorum.Advices {
		w.gauge(sizingSpec, boolValue(a.Advice[advice]), name, string(advice))
	}
	if r.Availability.HasLast {
		w.gauge(lastOutageSpec, r.Availability.LastUnavailability.Seconds(), name)
	}
	w.gauge(unavailableSpec, r.Availability.Unavailable.Seconds(), name)
	w.gauge(leaderChanges, float64(r.Elections.Changes), name)
	if r.Elections.HasLast {
		w.gauge(lastElection, r.Elections.LastElection.Seconds(), name)
	}
	if timeout := r.VoterSet.MinSessionTimeout; timeout > 0 {
		w.gauge(sessionTimeout, timeout.Seconds(), name)
	}
}

// discovery writes what the ensemble's membership added to its members.
func (w *writer) discovery(r *ensemble.Round) {
	name := r.Ensemble.Name
	d := r.Discovery
	if d == nil {
		return
	}
	for _, state := range ensemble.DiscoveryStates {
		w.gauge(discoverySpec, boolValue(d.State == state), name, state)
	}
	w.gauge(discoveredSpec, float64(d.Members), name)
	if d.State == ensemble.DiscoveryMembership {
		for _, reason := range ensemble.SkipReasons {
			w.gauge(discoverySkipSpec, float64(d.Skipped[reason]), name, reason)
		}
	}
	w.gauge(disagreeingSpec, float64(len(r.Disagreeing)), name)
}

// member writes one member's metrics.
func (w *writer) member(m *ensemble.ProbedMember, labels []string) {
	w.gauge(upSpec, boolValue(m.Up), labels...)
	for _, mode := range zk.Modes {
		w.gauge(modeSpec, boolValue(m.Mode == mode), w.with(labels, string(mode))...)
	}
	w.gauge(probeDurationSpec, m.Duration.Seconds(), labels...)
	for word, allowed := range m.Allowed {
		w.gauge(commandSpec, boolValue(allowed), w.with(labels, word)...)
	}
	if m.ZxidKnown {
		w.gauge(zxidEpochSpec, float64(m.Zxid.Epoch()), labels...)
		w.gauge(zxidTransactionsSpec, float64(m.Zxid.Counter()), labels...)
	}
	for _, f := range figureSpecs {
		if value, ok := m.Figures.Get(f.figure); ok {
			w.gauge(f.spec, value, labels...)
		}
	}
	if m.Version != "" {
		w.gauge(versionSpec, 1, w.with(labels, m.Version)...)
	}
}

func (w *writer) maintenance(verdict quorum.Verdict, labels []string) {
	w.gauge(safeToStopSpec, boolValue(verdict.Safe), labels...)
	for _, impact := range quorum.Impacts {
		w.gauge(stopImpactSpec, boolValue(verdict.Impact == impact), w.with(labels, string(impact))...)
	}
}

// with is labels and one more, in the writer's scratch slice: valid until
// the next call.
func (w *writer) with(labels []string, extra string) []string {
	w.scratch = append(append(w.scratch[:0], labels...), extra)
	return w.scratch
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
