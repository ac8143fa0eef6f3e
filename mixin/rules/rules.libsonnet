{
  prometheusRules+:: {
    groups+: [
      {
        local c = $._config,
        local cl = c.clusterLabel,
        name: 'zookeeper-quorum.rules',
        rules: [
          {
            // One margin per ensemble whatever the number of exporter
            // replicas: the best-informed replica wins (a replica that cannot
            // reach a voter must not page). A replica that sees no serving
            // leader counts the ensemble as without quorum (at most -1) even
            // when enough voters answer: nobody is served during an election.
            record: 'ensemble:zookeeper_quorum_margin:max',
            expr: |||
              max by (%(clusterLabel)s, ensemble) (
                (
                  zookeeper_ensemble_quorum_margin{%(zookeeperSelector)s}
                  unless
                  zookeeper_ensemble_voters_in_quorum{%(zookeeperSelector)s} == 0
                )
                or
                clamp_max(zookeeper_ensemble_quorum_margin{%(zookeeperSelector)s}, -1)
              )
            ||| % c,
          },
          {
            // The fewest voters any replica had to guess: a replica that
            // probes every voter (0) makes the margin's 0 mean what it says.
            record: 'ensemble:zookeeper_voters_unknown:min',
            expr: 'min by (%(clusterLabel)s, ensemble) (zookeeper_ensemble_voters_unknown{%(zookeeperSelector)s})' % c,
          },
          {
            record: 'ensemble:zookeeper_fault_tolerance:max',
            expr: 'max by (%(clusterLabel)s, ensemble) (zookeeper_ensemble_fault_tolerance{%(zookeeperSelector)s})' % c,
          },
          {
            // The quorum alerts read these: a scrape gap must not resolve a
            // page, it is held until the blind-spot alerts fire.
            record: 'ensemble:zookeeper_quorum_margin:held',
            expr: 'last_over_time(ensemble:zookeeper_quorum_margin:max[%(quorumHoldFor)s])' % c,
          },
          {
            record: 'ensemble:zookeeper_fault_tolerance:held',
            expr: 'last_over_time(ensemble:zookeeper_fault_tolerance:max[%(quorumHoldFor)s])' % c,
          },
          {
            // 0/1 so that avg_over_time gives the share of time without quorum.
            record: 'ensemble:zookeeper_quorum_lost:bool',
            expr: 'ensemble:zookeeper_quorum_margin:held < bool 0',
          },
          {
            // Ensembles seen within expectedFor: their metrics vanishing is a
            // blind spot, not a recovery.
            record: 'ensemble:zookeeper_ensemble_expected:group',
            expr: 'group by (%(clusterLabel)s, ensemble) (max_over_time(ensemble:zookeeper_fault_tolerance:max[%(expectedFor)s]))' % c,
          },
          {
            record: 'job:zookeeper_exporter_up:max',
            expr: 'max by (%(clusterLabel)s, job) (up{%(exporterSelector)s})' % c,
          },
          {
            // Exporter jobs seen within expectedFor, for a target that
            // vanished from service discovery (then up is absent, not 0).
            record: 'job:zookeeper_exporter_expected:group',
            expr: 'group by (%(clusterLabel)s, job) (max_over_time(job:zookeeper_exporter_up:max[%(expectedFor)s]))' % c,
          },
        ],
      },
      {
        local c = $._config,
        // One exporter replica's view: the leader and its learners must come
        // from the same probe round, or scrape timing reads as lag.
        local replica = '%(clusterLabel)s, job, instance, ensemble' % c,
        name: 'zookeeper-zxid.rules',
        rules: [
          {
            // One number per member, so members and the leader compare
            // directly; float64 holds it exactly below 2^21 epochs.
            record: 'ensemble_member:zookeeper_zxid:value',
            expr: 'zookeeper_zxid_epoch{%(zookeeperSelector)s} * 2^32 + zookeeper_zxid_transactions{%(zookeeperSelector)s}' % c,
          },
          {
            record: 'replica_ensemble:zookeeper_leader_zxid:max',
            expr: |||
              max by (%(replica)s) (
                ensemble_member:zookeeper_zxid:value
                and on (%(replica)s, member)
                (zookeeper_server_mode{%(zookeeperSelector)s, mode="leader"} == 1)
              )
            ||| % (c { replica: replica }),
          },
          {
            // Learners only: the leader is never behind itself.
            record: 'ensemble_member:zookeeper_zxid_behind_leader:value',
            expr: |||
              (
                replica_ensemble:zookeeper_leader_zxid:max
                - on (%(replica)s) group_right
                ensemble_member:zookeeper_zxid:value
              )
              and on (%(replica)s, member)
              (zookeeper_server_mode{%(zookeeperSelector)s, mode=~"follower|observer"} == 1)
            ||| % (c { replica: replica }),
          },
        ],
      },
      {
        local c = $._config,
        name: 'zookeeper-traffic.rules',
        // Per member first: replicas probe the same member, so summing every
        // replica's series would count its traffic once per replica.
        rules: [
          {
            record: 'ensemble:zookeeper_packets_%s:rate' % dir,
            expr: |||
              sum by (%(clusterLabel)s, ensemble) (
                max by (%(clusterLabel)s, ensemble, member) (rate(zookeeper_packets_%(dir)s_total{%(zookeeperSelector)s}[%(rateInterval)s]))
              )
            ||| % (c { dir: dir }),
          }
          for dir in ['received', 'sent']
        ],
      },
    ],
  },
}
