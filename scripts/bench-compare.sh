#!/bin/sh
# bench-compare.sh measures, side by side in one run, this exporter, the
# floor (one srvr and one mntr to every member at once) and optionally a
# peer exporter, all against one real 5-voter ZooKeeper ensemble (Debian's
# zookeeper package) on loopback, with interleaved sequential scrapes
# (SCRAPES, 300 by default, of each). It prints p50/p99 and peak RSS.
#
# A peer is any exporter binary you built yourself; nothing of it belongs in
# this repository. Give its command line in PEER, where {zk} stands for the
# members' comma-separated host:port list and {listen} for the address it
# must listen on, and its metrics path in PEER_METRICS_PATH if not /metrics:
#
#   PEER='/path/to/peer-exporter -zk-hosts {zk} -listen {listen}' scripts/bench-compare.sh
#
# docs/performance.md keeps the figures of a run.
set -eu
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
make build
set -- -exporter ./zookeeper_exporter -scrapes "${SCRAPES:-300}"
if [ -n "${PEER:-}" ]; then
	set -- "$@" -peer "$PEER" -peer-metrics-path "${PEER_METRICS_PATH:-/metrics}"
fi
exec go run ./internal/bench/compare "$@"
