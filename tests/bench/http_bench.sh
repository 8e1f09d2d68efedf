#!/bin/bash
# Latency of the plugin calls behind `docker network create/rm`, measured
# with a small client against the daemon running in a throwaway namespace
# (its bridges never touch the host).
#
#   tests/bench/http_bench.sh path/to/cbridge path/to/http_client [N [M]]
#
# With M, CreateNetwork/DeleteNetwork of one network while M others exist.
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
LOG_LEVEL=warn ip netns exec "$ns" "$bin" --socket "$tmp/s.sock" \
    --state-dir "$tmp/state" &
pid=$!
for _ in $(seq 100); do [ -S "$tmp/s.sock" ] && break; sleep 0.05; done
"$client" "$tmp/s.sock" "$n" $m
