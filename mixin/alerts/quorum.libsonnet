local util = import 'util.libsonnet';

{
  prometheusAlerts+:: {
    groups+: [
      {
        local c = $._config,
        name: 'zookeeper-quorum',
        rules: [
          util.alert(
            c,
            'ZooKeeperQuorumLost',
            'critical',
            |||
              zookeeper_ensemble_quorum_margin{%(zookeeperSelector)s} < 0
              or
              (
                zookeeper_ensemble_voters_in_quorum{%(zookeeperSelector)s} == 0
                and
                zookeeper_ensemble_voters{%(zookeeperSelector)s} > 0
              )
            ||| % c,
            c.quorumLostFor,
            'ZooKeeper ensemble has lost its quorum.',
            'ZooKeeper ensemble {{ $labels.ensemble }} has no serving leader or fewer voters in quorum than its quorum size: clients can neither read nor write and sessions are expiring. Bring stopped voters back one at a time until a leader is elected; do not wipe data directories or change the voter set while quorum is lost.',
          ),
          util.alert(
            c,
            'ZooKeeperQuorumAtRisk',
            'critical',
            |||
              zookeeper_ensemble_quorum_margin{%(zookeeperSelector)s} == 0
              and
              zookeeper_ensemble_fault_tolerance{%(zookeeperSelector)s} > 0
            ||| % c,
            c.quorumAtRiskFor,
            'ZooKeeper ensemble will lose quorum with the next voter failure.',
            'ZooKeeper ensemble {{ $labels.ensemble }} still has a quorum, but losing one more voter will break it. Stop all maintenance on this ensemble, do not stop or restart any voter, and bring the missing voters back now.',
          ),
          util.alert(
            c,
            'ZooKeeperFaultToleranceReduced',
            'warning',
            |||
              zookeeper_ensemble_quorum_margin{%(zookeeperSelector)s} > 0
              and
              zookeeper_ensemble_quorum_margin{%(zookeeperSelector)s} < zookeeper_ensemble_fault_tolerance{%(zookeeperSelector)s}
            ||| % c,
            c.faultToleranceReducedFor,
            'ZooKeeper ensemble tolerates fewer voter failures than designed.',
            'ZooKeeper ensemble {{ $labels.ensemble }} can lose only {{ $value }} more voter(s) before quorum is at risk. This is expected while one member is down for rolling maintenance; do not take another voter down until this clears. Otherwise find and restart the missing voters.',
          ),
          util.alert(
            c,
            'ZooKeeperMultipleLeaders',
            'critical',
            'zookeeper_ensemble_leaders{%(zookeeperSelector)s} > 1' % c,
            c.multipleLeadersFor,
            'More than one ZooKeeper member reports being leader.',
            '{{ $value }} members of ZooKeeper ensemble {{ $labels.ensemble }} report being leader. A partitioned old leader or members configured with disjoint server lists can serve diverging data. Compare the server.N lines of every member and restart the leader that is not followed by a quorum.',
          ),
        ],
      },
    ],
  },
}
