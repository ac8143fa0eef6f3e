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
            // A member that does not answer at all is already reported by
            // ZooKeeperVoterDown / ZooKeeperObserverDown.
            |||
              sum by (ensemble, member, reason) (rate(zookeeper_exporter_probe_errors_total{%(exporterSelector)s}[%(probeFailingWindow)s])) > 0
              unless on (ensemble, member)
              (zookeeper_up{%(zookeeperSelector)s} == 0)
            ||| % c,
            c.probeFailingFor,
            'The exporter cannot fully probe a ZooKeeper member.',
            'The exporter keeps failing to probe member {{ $labels.member }} of ZooKeeper ensemble {{ $labels.ensemble }} ({{ $labels.reason }}), so its metrics are incomplete and quorum alerts may be blind. Check the exporter log, the four-letter-word whitelist and timeouts.',
          ),
          util.alert(
            c,
            'ZooKeeperExporterDown',
            'critical',
            'up{%(exporterSelector)s} == 0' % c,
            c.exporterDownFor,
            'The ZooKeeper exporter cannot be scraped.',
            'Prometheus cannot scrape the ZooKeeper exporter {{ $labels.instance }} (job {{ $labels.job }}), so no ZooKeeper quorum alert can fire. Restart the exporter or fix the scrape target.',
          ),
        ],
      },
    ],
  },
}
