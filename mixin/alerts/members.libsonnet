local util = import 'util.libsonnet';

{
  prometheusAlerts+:: {
    groups+: [
      {
        local c = $._config,
        // Per member, across exporter replicas: labels that name the member.
        local m = '%(clusterLabel)s, ensemble, member, role, server_id' % c,
        // The hidden leader of a leaderServes=no ensemble answers "not
        // serving" by design. It is a voter; when exactly one voter of such
        // an ensemble does not serve, that is the leader. Observers and a
        // second voter still alert.
        local notServing(extra) = 'max by (%s, mode) (zookeeper_server_mode{%s%s}) == 1' % [m, c.zookeeperSelector, extra],
        local hiddenLeader = notServing(', role="voter", mode="not_serving"'),
        name: 'zookeeper-members',
        rules: [
          util.alert(
            c,
            'ZooKeeperVoterDown',
            'warning',
            // Down only when no replica reaches it.
            'max by (%s) (zookeeper_up{%s, role="voter"}) == 0' % [m, c.zookeeperSelector],
            c.voterDownFor,
            'A ZooKeeper voter does not answer.',
            'Voter {{ $labels.member }} (server {{ $labels.server_id }}) of ZooKeeper ensemble {{ $labels.ensemble }} does not answer the exporter. Check that the process runs and that its client port is reachable, and restart it unless it is down for planned maintenance. Watch the quorum margin before touching any other voter.',
          ),
          util.alert(
            c,
            'ZooKeeperVoterFlapping',
            'warning',
            // A crash-looping voter is never down for voterDownFor. min: each
            // replica must see the flapping, not just one with a bad link.
            'min by (%s) (changes(zookeeper_up{%s, role="voter"}[%s])) >= %d' % [m, c.zookeeperSelector, c.voterFlappingWindow, c.voterFlappingChanges],
            '0m',
            'A ZooKeeper voter keeps going down and coming back.',
            'Voter {{ $labels.member }} (server {{ $labels.server_id }}) of ZooKeeper ensemble {{ $labels.ensemble }} changed between up and down {{ $value }} times in the last ' + c.voterFlappingWindow + '. Each time it leaves, the ensemble loses a vote and may hold an election. Look at its log for the crash (out of memory, a full disk, a corrupt snapshot) and stop it until fixed if the quorum margin is 0.',
          ),
          util.alert(
            c,
            'ZooKeeperObserverDown',
            'warning',
            'max by (%s) (zookeeper_up{%s, role="observer"}) == 0' % [m, c.zookeeperSelector],
            c.observerDownFor,
            'A ZooKeeper observer does not answer.',
            'Observer {{ $labels.member }} of ZooKeeper ensemble {{ $labels.ensemble }} does not answer the exporter. Observers do not vote, so quorum is untouched, but read capacity is reduced and its clients reconnect elsewhere. Restart it when convenient.',
          ),
          util.alert(
            c,
            'ZooKeeperMemberNotServing',
            'warning',
            |||
              %(notServing)s
              unless on (%(cl)s, ensemble, member)
              (
                %(hiddenLeader)s
                and on (%(cl)s, ensemble)
                (max by (%(cl)s, ensemble) (zookeeper_ensemble_leader_hidden{%(sel)s}) == 1)
                and on (%(cl)s, ensemble)
                (count by (%(cl)s, ensemble) (%(hiddenLeader)s) == 1)
              )
            ||| % {
              notServing: notServing(', mode=~"%s"' % c.notServingModes),
              hiddenLeader: hiddenLeader,
              cl: c.clusterLabel,
              sel: c.zookeeperSelector,
            },
            c.memberNotServingFor,
            'A ZooKeeper member answers but does not serve clients.',
            'Member {{ $labels.member }} ({{ $labels.role }}) of ZooKeeper ensemble {{ $labels.ensemble }} answers but is in mode {{ $labels.mode }}: it cannot reach a leader, so it serves no requests (or only stale reads). Check its network path to the other members (quorum and election ports) and its log for election errors.',
          ),
          util.alert(
            c,
            'ZooKeeperFollowerBehind',
            'warning',
            // Lag is computed within each replica's probe round; the least
            // lag any replica saw wins.
            'min by (%s) (ensemble_member:zookeeper_zxid_behind_leader:value) > %s' % [m, c.followerBehindThreshold],
            c.followerBehindFor,
            'A ZooKeeper learner is behind its leader.',
            '{{ $labels.role | title }} {{ $labels.member }} of ZooKeeper ensemble {{ $labels.ensemble }} has applied {{ $value | humanize }} fewer transactions than the leader. Its clients read stale data and it may be stuck syncing. Check its disk latency, GC pauses and network to the leader; restart it if it does not catch up.',
          ),
          util.alert(
            c,
            'ZooKeeperHighLatency',
            'warning',
            'max by (%(clusterLabel)s, ensemble, member) (zookeeper_latency_avg_seconds{%(zookeeperSelector)s}) > %(highLatencyThresholdSeconds)s' % c,
            c.highLatencyFor,
            'ZooKeeper request latency is high.',
            'Member {{ $labels.member }} of ZooKeeper ensemble {{ $labels.ensemble }} answers requests in {{ $value | humanizeDuration }} on average. Check transaction log disk latency (fsync), GC pauses and the request rate; a dedicated log disk usually fixes this.',
          ),
          util.alert(
            c,
            'ZooKeeperOutstandingRequests',
            'warning',
            'max by (%(clusterLabel)s, ensemble, member) (zookeeper_outstanding_requests{%(zookeeperSelector)s}) > %(outstandingRequestsThreshold)s' % c,
            c.outstandingRequestsFor,
            'ZooKeeper requests are queueing up.',
            'Member {{ $labels.member }} of ZooKeeper ensemble {{ $labels.ensemble }} has {{ $value }} requests queued. It cannot keep up: look for a client flooding it, slow transaction log disks or GC pauses.',
          ),
          util.alert(
            c,
            'ZooKeeperFrequentLeaderElections',
            'warning',
            'max by (%(clusterLabel)s, ensemble) (changes(zookeeper_zxid_epoch{%(zookeeperSelector)s}[%(frequentElectionsWindow)s])) >= %(frequentElectionsThreshold)s' % c,
            '0m',
            'ZooKeeper elects leaders too often.',
            'ZooKeeper ensemble {{ $labels.ensemble }} elected a new leader {{ $value }} times in the last ' + c.frequentElectionsWindow + '. Every election blocks writes for a moment. Look for a flapping member, network drops between members, long GC pauses or initLimit/syncLimit set too low.',
          ),
          util.alert(
            c,
            'ZooKeeperSlowElection',
            'warning',
            // The exporter measures the leaderless time itself; the worst
            // replica's figure counts, against the shortest session timeout.
            |||
              (
                max by (%(cl)s, ensemble) (zookeeper_ensemble_last_election_seconds{%(sel)s})
                > on (%(cl)s, ensemble)
                (
                  min by (%(cl)s, ensemble) (zookeeper_ensemble_min_session_timeout_seconds{%(sel)s})
                  or on (%(cl)s, ensemble)
                  max by (%(cl)s, ensemble) (zookeeper_ensemble_last_election_seconds{%(sel)s}) * 0 + %(default)s
                )
              )
              and on (%(cl)s, ensemble)
              (max by (%(cl)s, ensemble) (increase(zookeeper_ensemble_leader_changes_total{%(sel)s}[%(window)s])) > 0)
            ||| % { cl: c.clusterLabel, sel: c.zookeeperSelector, default: c.defaultMinSessionTimeoutSeconds, window: c.slowElectionWindow },
            '0m',
            'A ZooKeeper election took longer than the session timeout.',
            'ZooKeeper ensemble {{ $labels.ensemble }} was without a leader for {{ $value | humanizeDuration }} before its latest leader took over, longer than its minimum session timeout: clients that asked for the shortest sessions lost them and their ephemeral nodes. Look at why the election was slow: a large snapshot to load or sync, initLimit too high, a voter slow to answer, network drops between voters.',
          ),
          util.alert(
            c,
            'ZooKeeperZxidCounterNearRollover',
            'warning',
            'max by (%(clusterLabel)s, ensemble) (zookeeper_zxid_transactions{%(zookeeperSelector)s}) / 2^32 > %(zxidCounterRolloverRatio)s' % c,
            c.zxidCounterRolloverFor,
            'The ZooKeeper zxid counter is close to rolling over.',
            'ZooKeeper ensemble {{ $labels.ensemble }} has used {{ $value | humanizePercentage }} of the 32-bit zxid counter of its current epoch. When it runs out the leader forces an election and writes stop for a moment. Plan a leader restart in a quiet period to start a new epoch on your terms.',
          ),
          util.alert(
            c,
            'ZooKeeperFileDescriptorsNearLimit',
            'warning',
            |||
              max by (%(clusterLabel)s, ensemble, member) (
                zookeeper_open_file_descriptors{%(zookeeperSelector)s}
                /
                (zookeeper_max_file_descriptors{%(zookeeperSelector)s} > 0)
              )
              > %(fileDescriptorsRatio)s
            ||| % c,
            c.fileDescriptorsFor,
            'A ZooKeeper member is running out of file descriptors.',
            'Member {{ $labels.member }} of ZooKeeper ensemble {{ $labels.ensemble }} uses {{ $value | humanizePercentage }} of its file descriptors. When it runs out it refuses client connections. Find clients leaking connections (see the connections panel) or raise the limit (LimitNOFILE / ulimit -n) and restart it during maintenance.',
          ),
        ],
      },
    ],
  },
}
