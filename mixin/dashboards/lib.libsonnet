// Minimal Grafana JSON model builders: grafonnet is not vendored here, and the
// dashboards need only a handful of panel types.
local ds = { type: 'prometheus', uid: '${datasource}' };

local target(expr, legend='', instant=false, format='time_series') = {
  datasource: ds,
  expr: expr,
  legendFormat: legend,
  instant: instant,
  range: !instant,
  format: format,
};

local withRefIds(targets) = std.mapWithIndex(
  function(i, t) t { refId: std.char(std.codepoint('A') + i) },
  targets,
);

local panel(type, title, targets, w, h, description='') = {
  type: type,
  title: title,
  description: description,
  datasource: ds,
  targets: withRefIds(targets),
  gridPos: { w: w, h: h },
};

{
  datasource:: ds,
  target:: target,

  timeseries(title, targets, unit='short', w=12, h=8, description='', min=null):: panel('timeseries', title, targets, w, h, description) {
    fieldConfig: {
      defaults: {
        unit: unit,
        [if min != null then 'min']: min,
        custom: { lineWidth: 1, fillOpacity: 10, showPoints: 'never', spanNulls: false },
      },
      overrides: [],
    },
    options: {
      legend: { showLegend: true, displayMode: 'table', placement: 'bottom', calcs: ['lastNotNull', 'max'] },
      tooltip: { mode: 'multi', sort: 'desc' },
    },
  },

  // steps: [[value or null, color], ...] in ascending order.
  stat(title, targets, unit='short', steps=[[null, 'green']], w=6, h=4, description='', mappings=[]):: panel('stat', title, targets, w, h, description) {
    fieldConfig: {
      defaults: {
        unit: unit,
        mappings: mappings,
        thresholds: { mode: 'absolute', steps: [{ value: s[0], color: s[1] } for s in steps] },
      },
      overrides: [],
    },
    options: {
      reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false },
      colorMode: 'background',
      graphMode: 'none',
      textMode: 'value_and_name',
      justifyMode: 'auto',
      orientation: 'auto',
      wideLayout: true,
      showPercentChange: false,
      percentChangeColorMode: 'standard',
    },
  },

  // states: [[value, text, color], ...]
  stateTimeline(title, targets, states, w=24, h=8, description=''):: panel('state-timeline', title, targets, w, h, description) {
    fieldConfig: {
      defaults: {
        mappings: [{
          type: 'value',
          options: { [std.toString(states[i][0])]: { text: states[i][1], color: states[i][2], index: i } for i in std.range(0, std.length(states) - 1) },
        }],
        color: { mode: 'thresholds' },
        thresholds: { mode: 'absolute', steps: [{ value: null, color: 'text' }] },
      },
      overrides: [],
    },
    options: {
      showValue: 'never',
      mergeValues: true,
      rowHeight: 0.9,
      legend: { showLegend: false, displayMode: 'list', placement: 'bottom', calcs: [] },
      tooltip: { mode: 'single', sort: 'none' },
    },
  },

  table(title, targets, w=12, h=8, description='', mappings=[], organize={}):: panel('table', title, targets, w, h, description) {
    fieldConfig: {
      defaults: { mappings: mappings, custom: { align: 'auto', inspect: false, cellOptions: { type: 'color-text' } } },
      overrides: [],
    },
    options: { showHeader: true, sortBy: [], frameIndex: 0 },
    transformations: [
      { id: 'merge', options: {} },
      { id: 'organize', options: organize },
    ],
  },

  row(title):: { type: 'row', title: title, collapsed: false, panels: [], gridPos: { w: 24, h: 1 } },

  // layout flows panels left to right, wrapping at Grafana's 24 columns, and
  // numbers them so that panel ids are unique by construction.
  local layout(panels) = std.foldl(
    function(acc, p)
      local wrap = p.type == 'row' || acc.x + p.gridPos.w > 24;
      local x = if wrap then 0 else acc.x;
      local y = if wrap then acc.y + acc.rowH else acc.y;
      acc {
        x: x + p.gridPos.w,
        y: y,
        rowH: if wrap then p.gridPos.h else std.max(acc.rowH, p.gridPos.h),
        out+: [p { id: std.length(acc.out) + 1, gridPos+: { x: x, y: y } }],
      },
    panels,
    { x: 0, y: 0, rowH: 0, out: [] },
  ).out,

  dashboard(c, uid, title, description, panels, variables):: {
    uid: c.dashboardUIDPrefix + uid,
    title: c.dashboardTitlePrefix + title,
    description: description,
    tags: c.dashboardTags,
    refresh: c.dashboardRefresh,
    timezone: c.dashboardTimezone,
    time: { from: c.dashboardTimeFrom, to: 'now' },
    editable: true,
    graphTooltip: 1,
    schemaVersion: 39,
    version: 1,
    annotations: { list: [] },
    links: [{
      type: 'dashboards',
      tags: c.dashboardTags,
      asDropdown: true,
      title: 'ZooKeeper',
      includeVars: true,
      keepTime: true,
      icon: 'external link',
      tooltip: '',
      targetBlank: false,
    }],
    templating: {
      list: [{
        name: 'datasource',
        label: 'Data source',
        type: 'datasource',
        query: 'prometheus',
        regex: '',
        hide: 0,
        refresh: 1,
        // Grafana resolves 'default' to the default data source.
        current: { text: 'default', value: 'default' },
      }] + variables,
    },
    panels: layout(panels),
  },

  // allValue '.*' also matches series without the label (a Prometheus that
  // watches one cluster often has no cluster label at all).
  queryVariable(name, label, query, multi=true, allValue='.+'):: {
    name: name,
    label: label,
    type: 'query',
    datasource: ds,
    query: { query: query, refId: 'PrometheusVariableQueryEditor-VariableQuery' },
    definition: query,
    refresh: 2,
    sort: 1,
    multi: multi,
    includeAll: multi,
    allValue: if multi then allValue else null,
    hide: 0,
    current: if multi then { text: 'All', value: '$__all' } else { text: '', value: '' },
    options: [],
  },

  // variables are the cluster, job and ensemble pickers every dashboard
  // has, each narrowed by the ones before it; selector(c) is the matcher
  // set that applies them.
  variables(c):: [
    self.queryVariable('cluster', 'Cluster', 'label_values(zookeeper_ensemble_voters{%(zookeeperSelector)s}, %(clusterLabel)s)' % c, allValue='.*'),
    self.queryVariable('job', 'Job', 'label_values(zookeeper_ensemble_voters{%(zookeeperSelector)s, %(clusterLabel)s=~"$cluster"}, job)' % c, allValue='.*'),
    self.queryVariable('ensemble', 'Ensemble', 'label_values(zookeeper_ensemble_voters{%(zookeeperSelector)s, %(clusterLabel)s=~"$cluster", job=~"$job"}, ensemble)' % c),
  ],
  selector(c):: '%(zookeeperSelector)s, %(clusterLabel)s=~"$cluster", job=~"$job", ensemble=~"$ensemble"' % c,
}
