package ensemble

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/quorumwatch/zookeeper_exporter/config"
)

// SelfMetrics are the probe engine's own counters.
type SelfMetrics struct {
	probeErrors  *prometheus.CounterVec
	probeRounds  *prometheus.CounterVec
	sharedRounds *prometheus.CounterVec
	dnsErrors    *prometheus.CounterVec
}

func newSelfMetrics() *SelfMetrics {
	return &SelfMetrics{
		probeErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "zookeeper_exporter_probe_errors_total",
			Help: "Four-letter words (or AdminServer commands) that got no usable answer, by member and reason; reason deadline: the member had not answered when a scrape had to.",
		}, []string{"ensemble", "member", "reason"}),
		probeRounds: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "zookeeper_exporter_probe_rounds_total",
			Help: "Probe rounds run against an ensemble; each probes every member once.",
		}, []string{"ensemble"}),
		sharedRounds: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "zookeeper_exporter_probe_rounds_shared_total",
			Help: "Scrapes that joined a probe round already in flight instead of starting their own.",
		}, []string{"ensemble"}),
		dnsErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "zookeeper_exporter_dns_lookup_errors_total",
			Help: "Lookups of an ensemble's DNS name that failed; its last members stay.",
		}, []string{"ensemble"}),
	}
}

// Collectors returns the counters, to register once.
func (m *SelfMetrics) Collectors() []prometheus.Collector {
	return []prometheus.Collector{m.probeErrors, m.probeRounds, m.sharedRounds, m.dnsErrors}
}

// forget drops the series of ensembles and members that the new
// configuration no longer has, so a reload leaves no stale series behind.
func (m *SelfMetrics) forget(old, current *config.Config) {
	for _, ensemble := range old.Ensembles {
		kept := current.Ensemble(ensemble.Name)
		if kept == nil {
			for _, vec := range []*prometheus.CounterVec{m.probeErrors, m.probeRounds, m.sharedRounds, m.dnsErrors} {
				vec.DeletePartialMatch(prometheus.Labels{"ensemble": ensemble.Name})
			}
			continue
		}
		for _, member := range ensemble.Members {
			if kept.Member(member.Address) == nil {
				m.probeErrors.DeletePartialMatch(prometheus.Labels{"ensemble": ensemble.Name, "member": member.Address})
			}
		}
	}
}

// forgetMembers drops the error series of members an ensemble's DNS name no
// longer gives.
func (m *SelfMetrics) forgetMembers(ensemble string, before, after []*config.Member) {
	kept := make(map[string]bool, len(after))
	for _, member := range after {
		kept[member.Address] = true
	}
	for _, member := range before {
		if !kept[member.Address] {
			m.probeErrors.DeletePartialMatch(prometheus.Labels{"ensemble": ensemble, "member": member.Address})
		}
	}
}
