local util = import 'util.libsonnet';

{
  prometheusAlerts+:: {
    groups+: [
      {
        local c = $._config,
        local e = '%(clusterLabel)s, ensemble' % c,
        // Lost: without quorum for all of quorumLostFor (the sample that old
        // and every one since), or for quorumFlapRatio of quorumFlapWindow
        // with no margin now: a voter crash-looping next to a down one loses
        // quorum again and again, never for long, and must page anyway. The
        // duration is in the expression, not in `for`, so that AtRisk can
        // exclude exactly this expression and the two never fire together.
        local lost = |||
          (
            max_over_time(ensemble:zookeeper_quorum_margin:held[%(quorumLostFor)s]) < 0
            and
            ensemble:zookeeper_quorum_margin:held offset %(quorumLostFor)s < 0
          )
          or
          (
            avg_over_time(ensemble:zookeeper_quorum_lost:bool[%(quorumFlapWindow)s]) >= %(quorumFlapRatio)s
            and
            ensemble:zookeeper_quorum_margin:held <= 0
          )
        ||| % c,
        name: 'zookeeper-quorum',
        rules: [
          util.alert(
            c,
            'ZooKeeperQuorumLost',
            'critical',
            lost,
            '0m',
            'ZooKeeper ensemble has lost its quorum.',
            'ZooKeeper ensemble {{ $labels.ensemble }} has no serving leader or fewer voters in quorum than its quorum size, or keeps losing its quorum (more than ' + std.toString(c.quorumFlapRatio * 100) + '% of the last ' + c.quorumFlapWindow + '): clients can neither read nor write and sessions are expiring. Bring stopped voters back one at a time until a leader is elected, and stop a crash-looping voter; do not wipe data directories or change the voter set while quorum is lost.',
          ),
          util.alert(
            c,
            'ZooKeeperQuorumAtRisk',
            'critical',
            // Margin 0, or below 0 for less than ZooKeeperQuorumLost needs (a
            // short election must not reset this page's `for`). Not where
            // every replica had to guess voters' states: a 0 there means
            // "cannot tell", ZooKeeperQuorumMarginUnknown's business.
            |||
              ensemble:zookeeper_quorum_margin:held <= 0
              unless on (%(e)s)
              ensemble:zookeeper_fault_tolerance:held == 0
              unless on (%(e)s)
              ensemble:zookeeper_voters_unknown:min > 0
              unless on (%(e)s)
              (
            ||| % { e: e } + '  ' + util.indent(lost, 2) + ')\n',
            c.quorumAtRiskFor,
            'ZooKeeper ensemble will lose quorum with the next voter failure.',
            'ZooKeeper ensemble {{ $labels.ensemble }} still has a quorum, but losing one more voter will break it. Stop all maintenance on this ensemble, do not stop or restart any voter, and bring the missing voters back now.',
          ),
          util.alert(
            c,
            'ZooKeeperQuorumMarginUnknown',
            'warning',
            'ensemble:zookeeper_voters_unknown:min > 0 and on (%(e)s) ensemble:zookeeper_quorum_margin:held >= 0' % { e: e },
            c.quorumMarginUnknownFor,
            'The exporter cannot tell how many voters a ZooKeeper ensemble can lose.',
            'ZooKeeper ensemble {{ $labels.ensemble }} has {{ $value }} voter(s) known only from its membership that no exporter probes, and no exact count of the leader settles them: its quorum margin is a guess (at worst 0), so ZooKeeperQuorumAtRisk stays silent. Let the exporter probe every member (discovery from conf, or list them), or allow mntr (or the AdminServer) on the leader.',
          ),
          util.alert(
            c,
            'ZooKeeperFaultToleranceReduced',
            'warning',
            |||
              ensemble:zookeeper_quorum_margin:held > 0
              and
              ensemble:zookeeper_quorum_margin:held < ensemble:zookeeper_fault_tolerance:held
            |||,
            c.faultToleranceReducedFor,
            'ZooKeeper ensemble tolerates fewer voter failures than designed.',
            'ZooKeeper ensemble {{ $labels.ensemble }} can lose only {{ $value }} more voter(s) before quorum is at risk. This is expected while one member is down for rolling maintenance; do not take another voter down until this clears. Otherwise find and restart the missing voters.',
          ),
          util.alert(
            c,
            'ZooKeeperMultipleLeaders',
            'critical',
            // max: a replica cannot see a leader that is not there.
            'max by (%(clusterLabel)s, ensemble) (zookeeper_ensemble_leaders{%(zookeeperSelector)s}) > 1' % c,
            c.multipleLeadersFor,
            'More than one ZooKeeper member reports being leader.',
            '{{ $value }} members of ZooKeeper ensemble {{ $labels.ensemble }} report being leader. A partitioned old leader or members configured with disjoint server lists can serve diverging data. Compare the server.N lines of every member and restart the leader that is not followed by a quorum.',
          ),
        ],
      },
    ],
  },
}
