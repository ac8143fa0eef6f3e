package collector

import (
	"context"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/quorumwatch/zookeeper_exporter/zk"
)

// scrape is a prometheus.Collector for one scrape: it carries the scrape's
// deadline and the ensembles asked for.
type scrape struct {
	exporter  *Exporter
	ctx       context.Context
	ensembles []string
}

// Collector returns a collector that probes the named ensembles (all
// configured ones when names is empty) within ctx's deadline.
func (e *Exporter) Collector(ctx context.Context, names ...string) prometheus.Collector {
	if len(names) == 0 {
		for _, ensemble := range e.Config().Ensembles {
			names = append(names, ensemble.Name)
		}
	}
	return &scrape{exporter: e, ctx: ctx, ensembles: names}
}

// Describe sends nothing: the member info metric's labels depend on the
// configuration, so this is an unchecked collector.
func (s *scrape) Describe(chan<- *prometheus.Desc) {}

// Collect probes every ensemble concurrently and writes their metrics.
func (s *scrape) Collect(ch chan<- prometheus.Metric) {
	var wg sync.WaitGroup
	for _, name := range s.ensembles {
		wg.Add(1)
		go func() {
			defer wg.Done()
			result, err := s.exporter.Probe(s.ctx, name)
			if err != nil {
				s.exporter.logger.Warn("ensemble probe did not finish", "ensemble", name, "err", err)
				return
			}
			s.exporter.writeEnsemble(ch, result)
		}()
	}
	wg.Wait()
}

// writeEnsemble writes one round's metrics.
func (e *Exporter) writeEnsemble(ch chan<- prometheus.Metric, result *EnsembleResult) {
	name := result.Ensemble.Name
	gauge := func(desc *prometheus.Desc, value float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, value, labels...)
	}
	q := result.Quorum
	gauge(votersDesc, float64(q.Voters), name)
	gauge(observersDesc, float64(q.Observers), name)
	gauge(quorumSizeDesc, float64(q.QuorumSize), name)
	gauge(faultToleranceDesc, float64(q.FaultTolerance), name)
	gauge(votersUpDesc, float64(q.VotersUp), name)
	gauge(votersInQuorumDesc, float64(q.VotersInQuorum), name)
	gauge(leadersDesc, float64(q.Leaders), name)
	gauge(quorumMarginDesc, float64(q.Margin), name)
	gauge(evenVotersDesc, boolValue(q.Voters%2 == 0), name)
	gauge(leaderHiddenDesc, boolValue(q.LeaderHidden), name)
	if result.VoterSetMatches != nil {
		gauge(voterSetDesc, boolValue(*result.VoterSetMatches), name)
	}

	e.mu.RLock()
	infoDesc, labelNames := e.infoDesc, e.infoLabels
	e.mu.RUnlock()
	for _, member := range result.Members {
		labels := []string{name, member.Member.Address, member.Member.Role, result.ServerID(member.Member)}
		infoLabels := append(append([]string{}, labels...), member.Member.Datacenter)
		for _, label := range labelNames {
			infoLabels = append(infoLabels, member.Member.Labels[label])
		}
		if metric, err := prometheus.NewConstMetric(infoDesc, prometheus.GaugeValue, 1, infoLabels...); err == nil {
			ch <- metric
		}
		writeMember(ch, member, labels)
	}
	e.writeMaintenance(ch, result)
}

// writeMember writes one member's metrics. A value comes from srvr when srvr
// answered, else from mntr; values only mntr knows come from mntr.
func writeMember(ch chan<- prometheus.Metric, member *MemberResult, labels []string) {
	gauge := func(desc *prometheus.Desc, value float64, extra ...string) {
		ch <- prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, value, append(labels, extra...)...)
	}
	counter := func(desc *prometheus.Desc, value float64) {
		ch <- prometheus.MustNewConstMetric(desc, prometheus.CounterValue, value, labels...)
	}
	gauge(upDesc, boolValue(member.Up))
	for _, mode := range zk.Modes {
		gauge(modeDesc, boolValue(member.Mode == mode), string(mode))
	}
	gauge(probeDurationDesc, member.Duration.Seconds())
	for word, allowed := range member.Allowed {
		gauge(commandDesc, boolValue(allowed), word)
	}

	srvr, mntr := member.Srvr, member.Mntr
	version := ""
	if srvr != nil {
		version = srvr.Version
		gauge(zxidEpochDesc, float64(srvr.Zxid.Epoch()))
		gauge(zxidTransactionsDesc, float64(srvr.Zxid.Counter()))
		gauge(latencyMinDesc, srvr.LatencyMin)
		gauge(latencyAvgDesc, srvr.LatencyAvg)
		gauge(latencyMaxDesc, srvr.LatencyMax)
		gauge(outstandingDesc, float64(srvr.Outstanding))
		gauge(connectionsDesc, float64(srvr.Connections))
		if srvr.HasNodeCount {
			gauge(znodesDesc, float64(srvr.NodeCount))
		}
		counter(packetsRecvDesc, float64(srvr.Received))
		counter(packetsSentDesc, float64(srvr.Sent))
	}
	if mntr != nil {
		if version == "" {
			version = mntr.Version
		}
		number := func(key string, write func(float64)) {
			if value, ok := mntr.Number(key); ok {
				write(value)
			}
		}
		gaugeOf := func(desc *prometheus.Desc, scale float64) func(float64) {
			return func(value float64) { gauge(desc, value*scale) }
		}
		if srvr == nil {
			const perMillisecond = 1.0 / 1000
			number("zk_min_latency", gaugeOf(latencyMinDesc, perMillisecond))
			number("zk_avg_latency", gaugeOf(latencyAvgDesc, perMillisecond))
			number("zk_max_latency", gaugeOf(latencyMaxDesc, perMillisecond))
			number("zk_outstanding_requests", gaugeOf(outstandingDesc, 1))
			number("zk_num_alive_connections", gaugeOf(connectionsDesc, 1))
			number("zk_znode_count", gaugeOf(znodesDesc, 1))
			number("zk_packets_received", func(value float64) { counter(packetsRecvDesc, value) })
			number("zk_packets_sent", func(value float64) { counter(packetsSentDesc, value) })
		}
		number("zk_watch_count", gaugeOf(watchesDesc, 1))
		number("zk_ephemerals_count", gaugeOf(ephemeralsDesc, 1))
		number("zk_approximate_data_size", gaugeOf(dataSizeDesc, 1))
		number("zk_open_file_descriptor_count", gaugeOf(openFDsDesc, 1))
		number("zk_max_file_descriptor_count", gaugeOf(maxFDsDesc, 1))
		if mntr.ServerState == zk.ModeLeader {
			number("zk_followers", gaugeOf(followersDesc, 1))
			number("zk_synced_followers", gaugeOf(syncedDesc, 1))
			number("zk_synced_non_voting_followers", gaugeOf(syncedNonVoteDesc, 1))
			number("zk_pending_syncs", gaugeOf(pendingSyncsDesc, 1))
		}
	}
	if version != "" {
		gauge(versionDesc, 1, version)
	}
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
