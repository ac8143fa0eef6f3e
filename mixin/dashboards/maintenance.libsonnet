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
    local hidden = { Time: true, __name__: true, job: true, instance: true },

    'zookeeper-maintenance.json': lib.dashboard(
      c,
      'maintenance',
      'Rolling maintenance',
      'Stop one voter at a time, and only when it is marked safe to stop and the quorum margin is back at the designed fault tolerance.',
      [
        lib.stat(
          'Quorum margin',
          [t('max by (ensemble) (zookeeper_ensemble_quorum_margin{%s})' % s, '{{ensemble}}')],
          steps=[[null, 'red'], [0, 'orange'], [1, 'green']],
          description='Voters that can still be lost. At 0 do not stop anything.',
        ),
        lib.stat(
          'Voters down',
          [t('min by (ensemble) (zookeeper_ensemble_voters{%s} - zookeeper_ensemble_voters_up{%s})' % [s, s], '{{ensemble}}')],
          steps=[[null, 'green'], [1, 'orange']],
        ),
        lib.stat(
          'Observers down',
          [t('sum by (ensemble) (1 - max by (ensemble, member) (zookeeper_up{%s, role="observer"}))' % s, '{{ensemble}}')],
          steps=[[null, 'green'], [1, 'orange']],
        ),
        lib.stat(
          'Members not serving',
          [t('sum by (ensemble) (max by (ensemble, member) (zookeeper_server_mode{%s, mode=~"not_serving|read_only|unknown"}))' % s, '{{ensemble}}')],
          steps=[[null, 'green'], [1, 'orange']],
          description='Members that are down or answer without serving clients.',
        ),
        lib.table(
          'Who may go next',
          [t('min by (ensemble, member, role, server_id) (zookeeper_member_safe_to_stop{%s})' % s, instant=true, format='table')],
          h=10,
          description="Members that can be stopped now without putting quorum at risk, by every exporter replica's account. Stop one, wait until it is back and the margin has recovered, then check again.",
          mappings=[{
            type: 'value',
            options: {
              '1': { text: 'safe to stop', color: 'green', index: 0 },
              '0': { text: 'do not stop', color: 'red', index: 1 },
            },
          }],
          organize={ excludeByName: hidden, renameByName: { Value: 'verdict' } },
        ),
        lib.table(
          'Caught up with the leader',
          [t('min by (ensemble, member, role, server_id) (zookeeper_member_caught_up{%s})' % s, instant=true, format='table')],
          h=10,
          description='A restarted member serves again before it has caught up. Stop the next one only when every member is caught up here and the margin is back.',
          mappings=[{
            type: 'value',
            options: {
              '1': { text: 'caught up', color: 'green', index: 0 },
              '0': { text: 'behind or away', color: 'red', index: 1 },
            },
          }],
          organize={ excludeByName: hidden, renameByName: { Value: 'state' } },
        ),
        lib.timeseries(
          'Last election: seconds without a leader',
          [
            t('max by (ensemble) (zookeeper_ensemble_last_election_seconds{%s})' % s, '{{ensemble}} last election'),
            t('min by (ensemble) (zookeeper_ensemble_min_session_timeout_seconds{%s})' % s, '{{ensemble}} min session timeout'),
          ],
          description='Every leader restart causes one election. Longer than the minimum session timeout, and clients lose their sessions (ZooKeeperSlowElection).',
        ),
        lib.table(
          'Member states',
          [t('max by (ensemble, member, role, server_id, mode) (zookeeper_server_mode{%s} == 1)' % s, instant=true, format='table')],
          h=10,
          organize={ excludeByName: hidden { Value: true } },
        ),
        lib.timeseries(
          'Quorum margin and designed fault tolerance',
          [
            t('max by (ensemble) (zookeeper_ensemble_quorum_margin{%s})' % s, '{{ensemble}} margin'),
            t('max by (ensemble) (zookeeper_ensemble_fault_tolerance{%s})' % s, '{{ensemble}} designed'),
          ],
          description='Wait for the margin to return to the designed value before stopping the next voter.',
        ),
        lib.timeseries(
          'Datacenter loss margin',
          [t('max by (ensemble, datacenter) (zookeeper_ensemble_datacenter_loss_margin{%s})' % s, '{{ensemble}} without {{datacenter}}')],
          description='Quorum margin left if the whole datacenter were lost now. Negative: losing it loses quorum.',
        ),
        lib.stateTimeline('Member modes', [t(modes.expr(s), '{{ensemble}} {{member}}')], modes.states),
      ],
      lib.variables(c),
    ),
  },
}
