{
  _config+:: {
    // Selects the zookeeper_* series the exporter exposes.
    zookeeperSelector: 'job="zookeeper"',
    // Selects the exporter's own scrape (up, zookeeper_exporter_*). The
    // exporter usually serves both, so this defaults to the same job.
    exporterSelector: 'job="zookeeper"',

    // The label that tells one Prometheus's clusters apart (as in the
    // kubernetes and node mixins). Every aggregation and join keeps it, so
    // two clusters with an ensemble of the same name stay apart; series
    // without it aggregate as one cluster.
    clusterLabel: 'cluster',
    // Window of rate() in recording rules.
    rateInterval: '5m',

    // The quorum alerts survive scrape gaps: the last known quorum margin is
    // held this long after the series vanish (longer than exporterDownFor, so
    // a firing quorum page never resolves before the blind-spot page fires).
    quorumHoldFor: '5m',
    // Repeated quorum loss pages even when no single loss lasts
    // quorumLostFor: the ensemble was without quorum for at least this share
    // of the window, and has no margin now. One short election stays below.
    quorumFlapWindow: '10m',
    quorumFlapRatio: 0.25,

    // Quorum alerts page, so they use short windows: one scrape glitch must
    // not page, but a real loss must page well before the next one.
    quorumAtRiskFor: '1m',
    quorumLostFor: '1m',
    // A blind spot, not an outage: it warns once it outlasts a restart.
    quorumMarginUnknownFor: '5m',
    faultToleranceReducedFor: '5m',
    multipleLeadersFor: '2m',
    voterDownFor: '2m',
    // A voter that went down and came back this many times (each change of
    // zookeeper_up counts: one crash and restart is 2) within the window.
    voterFlappingChanges: 6,
    voterFlappingWindow: '15m',
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
    // ZooKeeperSlowElection: an election that ended within this window took
    // longer than the ensemble's minSessionTimeout (from conf), or than
    // defaultMinSessionTimeoutSeconds where conf is not known (ZooKeeper's
    // default: 2 x tickTime, 4s at the default tickTime of 2s).
    slowElectionWindow: '15m',
    defaultMinSessionTimeoutSeconds: 4,

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
    // Every replica of the exporter down: page. One of several down: warn.
    exporterDownFor: '2m',
    // How long an ensemble (and an exporter job) seen once stays expected:
    // its metrics vanishing within this window fires.
    expectedFor: '6h',
    ensembleMetricsMissingFor: '3m',

    // Alert name, lower-cased, fills %s: that is the GitHub heading anchor.
    runbookURLPattern: 'https://github.com/quorumwatch/zookeeper_exporter/blob/main/mixin/runbook.md#%s',

    // Dashboards.
    dashboardTags: ['zookeeper', 'zookeeper-mixin'],
    dashboardRefresh: '30s',
    dashboardTimezone: 'utc',
    dashboardTimeFrom: 'now-6h',
    dashboardUIDPrefix: 'zookeeper-',
    dashboardTitlePrefix: 'ZooKeeper / ',
    dashboardRateInterval: '$__rate_interval',
  },
}
