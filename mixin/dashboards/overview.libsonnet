local lib = import 'lib.libsonnet';
local modes = import 'modes.libsonnet';

{
  grafanaDashboards+:: {
    local c = $._config,
    local s = lib.selector(c),
    local cl = c.clusterLabel,
    // Replica-safe: every query aggregates by the ensemble's (and member's)
    // identity, so two exporter replicas show one line, not two: the best
    // replica's view for health, the worst for "safe to stop".
    // Every query also groups by the cluster label, so that same-named
    // ensembles of two clusters stay apart.
    local t(expr, legend='', instant=false, format='time_series') = lib.target(
      std.strReplace(expr, 'by (ensemble', 'by (%s, ensemble' % cl), legend, instant, format
    ),
    local ri = c.dashboardRateInterval,
    local perMember = '{{ensemble}} {{member}}',

    'zookeeper-overview.json': lib.dashboard(
      c,
      'overview',
      'Ensemble overview',
      'Quorum health, member states and load of ZooKeeper ensembles.',
      [
        lib.row('Quorum'),
        lib.stat(
          'Quorum margin',
          [t('max by (ensemble) (zookeeper_ensemble_quorum_margin{%s})' % s, '{{ensemble}}')],
          steps=[[null, 'red'], [0, 'orange'], [1, 'green']],
          description='Voters the ensemble can still lose and keep a quorum. 0: the next voter loss breaks quorum. Negative: quorum lost; its size is the number of voters that must come back.',
        ),
        lib.stat(
          'Voters in quorum / quorum size',
          [
            t('max by (ensemble) (zookeeper_ensemble_voters_in_quorum{%s})' % s, '{{ensemble}} in quorum'),
            t('max by (ensemble) (zookeeper_ensemble_quorum_size{%s})' % s, '{{ensemble}} quorum size'),
          ],
          steps=[[null, 'blue']],
        ),
        lib.stat(
          'Leader',
          [t('max by (ensemble, member) (zookeeper_server_mode{%s, mode="leader"} == 1)' % s, '{{ensemble}}: {{member}}')],
          steps=[[null, 'green']],
          description='Members reporting themselves leader. More than one per ensemble is a split brain.',
        ) { options+: { textMode: 'name' } },
        lib.stat(
          'Designed fault tolerance',
          [t('max by (ensemble) (zookeeper_ensemble_fault_tolerance{%s})' % s, '{{ensemble}}')],
          steps=[[null, 'red'], [1, 'green']],
          description='Voters the ensemble can lose when all are healthy: voters minus quorum size.',
        ),
        lib.timeseries(
          'Quorum margin',
          [
            t('max by (ensemble) (zookeeper_ensemble_quorum_margin{%s})' % s, '{{ensemble}} margin'),
            t('max by (ensemble) (zookeeper_ensemble_fault_tolerance{%s})' % s, '{{ensemble}} designed'),
          ],
        ),
        lib.timeseries(
          'Voters',
          [
            t('max by (ensemble) (zookeeper_ensemble_voters{%s})' % s, '{{ensemble}} configured'),
            t('max by (ensemble) (zookeeper_ensemble_voters_up{%s})' % s, '{{ensemble}} up'),
            t('max by (ensemble) (zookeeper_ensemble_voters_in_quorum{%s})' % s, '{{ensemble}} in quorum'),
            t('max by (ensemble) (zookeeper_ensemble_quorum_size{%s})' % s, '{{ensemble}} quorum size'),
          ],
          min=0,
        ),

        lib.row('Members'),
        lib.stateTimeline('Member modes', [t(modes.expr(s), perMember)], modes.states),
        lib.timeseries(
          'Transactions behind leader',
          [t('min by (ensemble, member) (ensemble_member:zookeeper_zxid_behind_leader:value{%s})' % s, perMember)],
          min=0,
          description="How many zxids each follower and observer trails the leader by, within one exporter replica's probe round; the least any replica saw.",
        ),
        lib.timeseries(
          'Zxid counter used',
          [t('max by (ensemble, member) (zookeeper_zxid_transactions{%s}) / 2^32' % s, perMember)],
          unit='percentunit',
          min=0,
          description='Share of the 32-bit zxid counter used in the current epoch; at 100% the leader forces an election.',
        ),
        lib.timeseries(
          'Zxid epoch',
          [t('max by (ensemble) (zookeeper_zxid_epoch{%s})' % s, '{{ensemble}}')],
          description='Each step is a leader election.',
        ),
        lib.timeseries(
          'Leader: followers',
          [
            t('max by (ensemble) (zookeeper_leader_followers{%s})' % s, '{{ensemble}} followers'),
            t('max by (ensemble) (zookeeper_leader_synced_followers{%s})' % s, '{{ensemble}} synced'),
            t('max by (ensemble) (zookeeper_leader_synced_non_voting_followers{%s})' % s, '{{ensemble}} synced non-voting'),
            t('max by (ensemble) (zookeeper_leader_pending_syncs{%s})' % s, '{{ensemble}} pending syncs'),
          ],
          min=0,
        ),

        lib.row('Load'),
        lib.timeseries('Average latency', [t('max by (ensemble, member) (zookeeper_latency_avg_seconds{%s})' % s, perMember)], unit='s', w=8, min=0),
        lib.timeseries('Maximum latency', [t('max by (ensemble, member) (zookeeper_latency_max_seconds{%s})' % s, perMember)], unit='s', w=8, min=0),
        lib.timeseries('Outstanding requests', [t('max by (ensemble, member) (zookeeper_outstanding_requests{%s})' % s, perMember)], w=8, min=0),
        lib.timeseries('Client connections', [t('max by (ensemble, member) (zookeeper_connections{%s})' % s, perMember)], w=8, min=0),
        lib.timeseries(
          'Packets',
          [
            t('max by (ensemble, member) (rate(zookeeper_packets_received_total{%s}[%s]))' % [s, ri], '{{ensemble}} {{member}} received'),
            t('-max by (ensemble, member) (rate(zookeeper_packets_sent_total{%s}[%s]))' % [s, ri], '{{ensemble}} {{member}} sent'),
          ],
          unit='pps',
          w=8,
          description='Received above the axis, sent below.',
        ),
        lib.timeseries(
          'File descriptors used',
          [t('max by (ensemble, member) (zookeeper_open_file_descriptors{%s} / (zookeeper_max_file_descriptors{%s} > 0))' % [s, s], perMember)],
          unit='percentunit',
          w=8,
          min=0,
        ),
        lib.timeseries(
          'Ensemble packets',
          [
            // Recording rules (mixin/rules): each member counted once, whatever
            // the number of exporter replicas. They carry no job label.
            t('max by (ensemble) (ensemble:zookeeper_packets_received:rate{%s=~"$cluster", ensemble=~"$ensemble"})' % cl, '{{ensemble}} received'),
            t('-max by (ensemble) (ensemble:zookeeper_packets_sent:rate{%s=~"$cluster", ensemble=~"$ensemble"})' % cl, '{{ensemble}} sent'),
          ],
          unit='pps',
          w=24,
          description="All members of the ensemble together, over the rules' rate interval. Received above the axis, sent below.",
        ),

        lib.row('Data'),
        lib.timeseries('Znodes', [t('max by (ensemble) (zookeeper_znodes{%s})' % s, '{{ensemble}}')], w=6, min=0),
        lib.timeseries('Watches', [t('sum by (ensemble) (max by (ensemble, member) (zookeeper_watches{%s}))' % s, '{{ensemble}}')], w=6, min=0),
        lib.timeseries('Ephemeral nodes', [t('max by (ensemble) (zookeeper_ephemerals{%s})' % s, '{{ensemble}}')], w=6, min=0),
        lib.timeseries('Data size', [t('max by (ensemble) (zookeeper_approximate_data_size_bytes{%s})' % s, '{{ensemble}}')], unit='bytes', w=6, min=0),
      ],
      lib.variables(c),
    ),
  },
}
