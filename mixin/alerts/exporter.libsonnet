local util = import 'util.libsonnet';

{
  prometheusAlerts+:: {
    groups+: [
      {
        local c = $._config,
        name: 'zookeeper-exporter',
        rules: [
          util.alert(
            c,
            'ZooKeeperMemberProbeFailing',
            'warning',
            // A member down for the whole window is ZooKeeperVoterDown's /
            // ZooKeeperObserverDown's; one that comes and goes (or that one
            // replica cannot reach) is left here.
            |||
              sum by (%(clusterLabel)s, ensemble, member, reason) (rate(zookeeper_exporter_probe_errors_total{%(exporterSelector)s}[%(probeFailingWindow)s])) > 0
              unless on (%(clusterLabel)s, ensemble, member)
              max by (%(clusterLabel)s, ensemble, member) (max_over_time(zookeeper_up{%(zookeeperSelector)s}[%(probeFailingWindow)s])) == 0
            ||| % c,
            c.probeFailingFor,
            'The exporter cannot fully probe a ZooKeeper member.',
            'At least one exporter replica keeps failing to probe member {{ $labels.member }} of ZooKeeper ensemble {{ $labels.ensemble }} ({{ $labels.reason }}), so its metrics are incomplete and quorum alerts may be blind. Check the exporter log, the four-letter-word whitelist, timeouts, and whether the member restarts over and over.',
          ),
          util.alert(
            c,
            'ZooKeeperExporterDown',
            'critical',
            'job:zookeeper_exporter_up:max == 0',
            c.exporterDownFor,
            'No ZooKeeper exporter can be scraped.',
            'Prometheus cannot scrape any target of the ZooKeeper exporter job {{ $labels.job }}, so no ZooKeeper quorum alert can fire for the ensembles it watches. Restart the exporter or fix the scrape targets.',
          ),
          util.alert(
            c,
            'ZooKeeperExporterReplicaDown',
            'warning',
            |||
              up{%(exporterSelector)s} == 0
              and on (%(clusterLabel)s, job)
              job:zookeeper_exporter_up:max == 1
            ||| % c,
            c.exporterDownFor,
            'A ZooKeeper exporter replica cannot be scraped.',
            'Prometheus cannot scrape the ZooKeeper exporter {{ $labels.instance }} (job {{ $labels.job }}); another target of the job still answers, so the alerts still work, but one more failure leaves the ensembles unwatched. Restart the exporter or fix the scrape target.',
          ),
          util.alert(
            c,
            'ZooKeeperExporterAbsent',
            'critical',
            // A target that leaves service discovery has no `up` at all.
            |||
              job:zookeeper_exporter_expected:group
              unless on (%(clusterLabel)s, job)
              up{%(exporterSelector)s}
              or
              absent(up{%(exporterSelector)s})
            ||| % c,
            c.exporterDownFor,
            'The ZooKeeper exporter is missing from service discovery.',
            'Prometheus has no scrape target for the ZooKeeper exporter job {{ $labels.job }} any more, so no ZooKeeper alert can fire. Check the service discovery (pods, endpoints, file_sd targets) and the scrape configuration.',
          ),
          util.alert(
            c,
            'ZooKeeperEnsembleMetricsMissing',
            'warning',
            |||
              ensemble:zookeeper_ensemble_expected:group
              unless on (%(clusterLabel)s, ensemble)
              zookeeper_ensemble_voters{%(zookeeperSelector)s}
            ||| % c,
            c.ensembleMetricsMissingFor,
            "A ZooKeeper ensemble's metrics disappeared.",
            'No exporter reports ZooKeeper ensemble {{ $labels.ensemble }} any more, although it did within the last ' + c.expectedFor + ', so its quorum alerts cannot fire. Either the exporter stopped probing it (a configuration reload, a probe that does not finish) or every exporter is down. If it was removed on purpose, silence this until the expectation expires.',
          ),
        ],
      },
    ],
  },
}
