#!/usr/bin/env bash
# Installs the real parts the tests and the demo run: Debian's ZooKeeper,
# Prometheus (with promtool), Alertmanager, jsonnet and Maven (which fetches
# the other ZooKeeper releases). Does nothing when
# they are already there.
set -euo pipefail

missing=()
[ -f /usr/share/java/zookeeper.jar ] && command -v java >/dev/null || missing+=(zookeeper)
command -v prometheus >/dev/null && command -v promtool >/dev/null || missing+=(prometheus)
command -v prometheus-alertmanager >/dev/null || missing+=(prometheus-alertmanager)
command -v jsonnet >/dev/null && command -v jsonnetfmt >/dev/null || missing+=(jsonnet)
command -v chromium >/dev/null || missing+=(chromium)
# nc: the roll test's --exec command calls back into the test with it.
command -v nc >/dev/null || missing+=(netcat-openbsd)
command -v nft >/dev/null && command -v ip >/dev/null || missing+=(nftables iproute2)
# systemd-analyze checks the packaged unit (deploy/); it needs no running systemd.
command -v systemd-analyze >/dev/null || missing+=(systemd)
# mvn fetches the ZooKeeper releases of the version matrix from Maven Central.
command -v mvn >/dev/null || missing+=(maven)
for extra in "$@"; do
  command -v "$extra" >/dev/null || missing+=("$extra")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "installing Debian packages: ${missing[*]}" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
