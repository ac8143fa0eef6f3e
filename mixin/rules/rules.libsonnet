{
  prometheusRules+:: {
    groups+: [
      {
        local c = $._config,
        name: 'zookeeper-zxid.rules',
        rules: [
          {
            // One number per member, so members and the leader compare
            // directly; float64 holds it exactly below 2^21 epochs.
            record: 'ensemble_member:zookeeper_zxid:value',
            expr: 'zookeeper_zxid_epoch{%(zookeeperSelector)s} * 2^32 + zookeeper_zxid_transactions{%(zookeeperSelector)s}' % c,
          },
          {
            record: 'ensemble:zookeeper_leader_zxid:max',
            expr: |||
              max by (ensemble) (
                ensemble_member:zookeeper_zxid:value
                and on (ensemble, member)
                (zookeeper_server_mode{%(zookeeperSelector)s, mode="leader"} == 1)
              )
            ||| % c,
          },
          {
            // Learners only: the leader is never behind itself.
            record: 'ensemble_member:zookeeper_zxid_behind_leader:value',
            expr: |||
              (
                ensemble:zookeeper_leader_zxid:max
                - on (ensemble) group_right
                ensemble_member:zookeeper_zxid:value
              )
              and on (ensemble, member)
              (zookeeper_server_mode{%(zookeeperSelector)s, mode=~"follower|observer"} == 1)
            ||| % c,
          },
        ],
      },
      {
        local c = $._config,
        name: 'zookeeper-traffic.rules',
        rules: [
          {
            record: 'ensemble:zookeeper_packets_received:rate5m',
            expr: 'sum by (ensemble) (rate(zookeeper_packets_received_total{%(zookeeperSelector)s}[5m]))' % c,
          },
          {
            record: 'ensemble:zookeeper_packets_sent:rate5m',
            expr: 'sum by (ensemble) (rate(zookeeper_packets_sent_total{%(zookeeperSelector)s}[5m]))' % c,
          },
        ],
      },
    ],
  },
}
