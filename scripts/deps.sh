#!/bin/sh
# Installs the Debian packages a target needs, only those missing.
#   scripts/deps.sh build|e2e|plugin|bench|lint|fuzz|test
set -eu

build="gcc make pkg-config libmicrohttpd-dev libjansson-dev libnl-3-dev
libnl-route-3-dev libnl-nf-3-dev libiptc-dev libldns-dev libnftables-dev
libnftnl-dev libmnl-dev check"
# procps: ps, pgrep and sysctl in the tests; kmod: modprobe, which loads
# br_netfilter (tests/br_netfilter.sh).
runtime="iproute2 curl jq nftables iptables busybox-static procps kmod"
# dnsmasq-base (the DNS tests' upstream), not dnsmasq: the binary without
# a system service. docker-registry: the registry `docker plugin upgrade`
# pulls from (tests/e2e/life.sh runs its own, on loopback in dockerd's
# namespace; the package's service is never used). docker-compose (1.29,
# Python, Engine API): the scale set's compose project.
e2e="docker.io dnsmasq-base docker-registry docker-compose"
bench="dnsperf"
# scripts/lint.sh lists the files to check with git.
lint="shellcheck git"
# libFuzzer's runtime is packaged apart from clang, per clang version:
# 14 is Debian 12's clang.
fuzz="clang libclang-rt-14-dev"

case "${1:-build}" in
build)	want="$build" ;;
e2e)	want="$build $runtime $e2e" ;;
plugin)	want="$build $runtime docker.io" ;;
bench)	want="$build $runtime $e2e $bench" ;;
lint)	want="$lint" ;;
fuzz)	want="$build $fuzz" ;;
test)	want="$build $runtime $e2e $lint $fuzz" ;;
*)	echo "usage: $0 build|e2e|plugin|bench|lint|fuzz|test" >&2; exit 2 ;;
esac

missing=""
for p in $want; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "missing Debian packages:$missing (run '$0 ${1:-build}' as root)" >&2
	exit 1
fi
echo "installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing >/dev/null
