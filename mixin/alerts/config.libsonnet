local util = import 'util.libsonnet';

{
  prometheusAlerts+:: {
    groups+: [
      {
        local c = $._config,
        name: 'zookeeper-configuration',
        rules: [
          util.alert(
            c,
            'ZooKeeperEvenVoterCount',
            'info',
            'max by (%(clusterLabel)s, ensemble) (zookeeper_ensemble_even_voters{%(zookeeperSelector)s}) == 1' % c,
            c.configFindingsFor,
            'A ZooKeeper ensemble has an even number of voters.',
            'ZooKeeper ensemble {{ $labels.ensemble }} has an even number of voters: the extra voter raises the quorum size without raising fault tolerance. Make one voter an observer or add a voter.',
          ),
          util.alert(
            c,
            'ZooKeeperNoFaultTolerance',
            'info',
            |||
              max by (%(clusterLabel)s, ensemble) (zookeeper_ensemble_fault_tolerance{%(zookeeperSelector)s}) == 0
              and
              max by (%(clusterLabel)s, ensemble) (zookeeper_ensemble_voters{%(zookeeperSelector)s}) > 0
            ||| % c,
            c.configFindingsFor,
            'A ZooKeeper ensemble cannot survive the loss of any voter.',
            'ZooKeeper ensemble {{ $labels.ensemble }} has fewer than three voters, so losing any voter (including for a restart) stops it. Grow it to three or five voters if it matters.',
          ),
          util.alert(
            c,
            'ZooKeeperVoterSetMismatch',
            'info',
            'max by (%(clusterLabel)s, ensemble) (zookeeper_ensemble_voter_set_matches{%(zookeeperSelector)s}) == 0' % c,
            c.configFindingsFor,
            "A ZooKeeper ensemble's voters differ from the exporter's configuration.",
            "The voters ZooKeeper ensemble {{ $labels.ensemble }} reports in its own configuration differ from those configured in the exporter, so its quorum figures and alerts may be wrong. Update the exporter's ensemble configuration after a reconfiguration, or find the member with the stray server list.",
          ),
          util.alert(
            c,
            'ZooKeeperVoterSetFromConfiguration',
            'info',
            // min: as long as one replica learns the live voter set, fine.
            'min by (%(clusterLabel)s, ensemble) (zookeeper_ensemble_voter_set_source{%(zookeeperSelector)s, source="configuration"}) == 1' % c,
            c.configFindingsFor,
            "The exporter computes a ZooKeeper ensemble's quorum from its own configuration.",
            "No member of ZooKeeper ensemble {{ $labels.ensemble }} tells the exporter the ensemble's own voter set (conf), so quorum size and margin come from the exporter's configuration and miss any dynamic reconfiguration. Allow conf in 4lw.commands.whitelist or configure the AdminServer.",
          ),
          util.alert(
            c,
            'ZooKeeperCommandNotAllowed',
            'warning',
            'max by (%(clusterLabel)s, ensemble, member, command) (zookeeper_command_allowed{%(zookeeperSelector)s, command=~"%(requiredCommands)s"}) == 0' % c,
            c.commandNotAllowedFor,
            'A ZooKeeper member refuses a four-letter word the exporter needs.',
            'Member {{ $labels.member }} of ZooKeeper ensemble {{ $labels.ensemble }} does not allow the "{{ $labels.command }}" command, so the exporter cannot see its state. Add it to 4lw.commands.whitelist in zoo.cfg and restart the member during maintenance.',
          ),
        ],
      },
    ],
  },
}
