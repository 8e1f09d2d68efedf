#!/bin/bash
# Latency of the plugin calls behind `docker network create/rm`, measured
# with a small client against the daemon running in a throwaway namespace
# (its bridges never touch the host).
#
#   tests/bench/http_bench.sh path/to/cbridge path/to/http_client [N [M]]
#
# With M, CreateNetwork/DeleteNetwork of one network while M others exist.
# BENCH_TABLES=1 first loads every legacy table (raw, nat, filter, IPv4
# and IPv6), as on a host where dockerd or firewalld use them.
set -eu -o pipefail

bin=$1 client=$2 n=${3:-200} m=${4:-}
if [ "$(id -u)" -ne 0 ]; then
	echo "$0: skipped, needs root" >&2
	exit 77
fi
ns=cbt-b$$-$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')
tmp=$(mktemp -d "/tmp/$ns.XXXX")
pid=
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	ip netns delete "$ns" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
ip netns add "$ns"
if [ -n "${BENCH_TABLES:-}" ]; then
	for t in raw nat filter; do
		ip netns exec "$ns" iptables-legacy -t "$t" -S >/dev/null
		ip netns exec "$ns" ip6tables-legacy -t "$t" -S >/dev/null
	done
fi
LOG_LEVEL=warn ip netns exec "$ns" "$bin" --socket "$tmp/s.sock" \
    --state-dir "$tmp/state" &
pid=$!
for _ in $(seq 100); do [ -S "$tmp/s.sock" ] && break; sleep 0.05; done
"$client" "$tmp/s.sock" "$n" $m
