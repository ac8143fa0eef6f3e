#!/bin/sh
# load.sh runs the load test: 50 concurrent scrapers for 30 seconds against
# the exporter binary watching a real 3-voter ZooKeeper ensemble (Debian's
# zookeeper package, see scripts/install-deps.sh), and prints its figures.
# docs/load.md keeps the figures of a run.
set -eu
cd "$(dirname "$0")/.."
out=$(mktemp)
trap 'rm -f "$out"' EXIT
if go test -run '^TestLoad$' -count=1 -v ./test/ >"$out" 2>&1; then
	grep -E 'load: ' "$out" | sed -E 's/^ *load_test\.go:[0-9]+: //'
	grep -E '^--- PASS' "$out"
else
	cat "$out"
	exit 1
fi
