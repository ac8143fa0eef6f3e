// ZooKeeper server modes as numbers, because a state timeline colours values,
// not label values.
local modes = [
  ['leader', 1, 'green'],
  ['follower', 2, 'blue'],
  ['observer', 3, 'purple'],
  ['standalone', 4, 'yellow'],
  ['read_only', 5, 'orange'],
  ['not_serving', 6, 'red'],
  ['unknown', 7, 'dark-red'],
];

{
  states: [[m[1], m[0], m[2]] for m in modes],
  // expr(selector) yields one series per member whose value is its mode code.
  expr(selector):: 'max by (ensemble, member) (\n' + std.join('\n  or\n', [
    '  (zookeeper_server_mode{%s, mode="%s"} == 1) * %d' % [selector, m[0], m[1]]
    for m in modes
  ]) + '\n)',
}
