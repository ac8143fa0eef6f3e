{
  _config+:: {
    // Selects the zookeeper_* series the exporter exposes.
    zookeeperSelector: 'job="zookeeper"',
    // Selects the exporter's own scrape (up, zookeeper_exporter_*). The
    // exporter usually serves both, so this defaults to the same job.
    exporterSelector: 'job="zookeeper"',

    // Quorum alerts page, so they use short windows: one scrape glitch must
    // not page, but a real loss must page well before the next one.
    quorumAtRiskFor: '1m',
    quorumLostFor: '1m',
    faultToleranceReducedFor: '5m',
    multipleLeadersFor: '2m',
    voterDownFor: '2m',
    observerDownFor: '5m',
    memberNotServingFor: '2m',
    // Modes that mean the member answers but serves no (or only stale) reads.
    notServingModes: 'not_serving|read_only',

    // Transactions (zxids) a learner may trail the leader by; learners apply
    // proposals a moment after the leader, so a small lag is normal.
    followerBehindThreshold: 1000,
    followerBehindFor: '5m',

    // zookeeper_latency_avg_seconds is averaged since the server's stats were
    // last reset, so it moves slowly; hence the long window.
    highLatencyThresholdSeconds: 0.1,
    highLatencyFor: '10m',
    outstandingRequestsThreshold: 10,
    outstandingRequestsFor: '5m',

    // A new zxid epoch means a leader election happened.
    frequentElectionsWindow: '1h',
    frequentElectionsThreshold: 3,

    // Fraction of the 32-bit zxid counter after which a forced election is near.
    zxidCounterRolloverRatio: 0.9,
    zxidCounterRolloverFor: '5m',

    fileDescriptorsRatio: 0.8,
    fileDescriptorsFor: '10m',

    // Configuration findings change rarely; give operators time to finish a
    // reconfiguration before telling them about it.
    configFindingsFor: '15m',

    // Four-letter words the exporter needs to see quorum state.
    requiredCommands: 'mntr|conf',
    commandNotAllowedFor: '15m',

    probeFailingWindow: '5m',
    probeFailingFor: '15m',
    exporterDownFor: '5m',

    // Alert name, lower-cased, fills %s: that is the GitHub heading anchor.
    runbookURLPattern: 'https://github.com/quorumwatch/zookeeper_exporter/blob/main/mixin/runbook.md#%s',

    // Dashboards.
    dashboardTags: ['zookeeper', 'zookeeper-mixin'],
    dashboardRefresh: '30s',
    dashboardTimezone: 'utc',
    dashboardTimeFrom: 'now-6h',
    dashboardUIDPrefix: 'zookeeper-',
    dashboardTitlePrefix: 'ZooKeeper / ',
    // Label used to pick an ensemble in the dashboards.
    dashboardRateInterval: '$__rate_interval',
  },
}
