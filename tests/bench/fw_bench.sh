#!/bin/bash
# CreateNetwork and DeleteNetwork through the daemon, per firewall
# backend, with 1 network (the only one: its tables are made with it and
# go with it), 2 (one left in place first) and 300 (299 left in place):
# the calls dockerd makes for `docker network create` and `rm`, against
# the daemon in a throwaway namespace (its bridges and tables never touch
# the host).  Prints a table of the medians and maxima; fails when the
# nftables backend's CreateNetwork median at 300 networks is over 1.2
# times the one at 1 (the target: flat).
#
#   tests/bench/fw_bench.sh path/to/cbridge path/to/http_client [N]
set -eu -o pipefail

bin=$1 client=$2 n=${3:-40}
if [ "$(id -u)" -ne 0 ]; then
	echo "$0: skipped, needs root" >&2
	exit 77
fi
run=cbt-fb$$-$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')
tmp=$(mktemp -d "/tmp/$run.XXXX")
pid=
ns=
# shellcheck disable=SC2317 # called by the trap
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	[ -n "$ns" ] && ip netns delete "$ns" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

# field NAME LINE: the value of NAME=... in the client's line.
field() {
	sed -n "s/.*\\b$1=\\([0-9.]*\\).*/\\1/p" <<<"$2"
}

declare -A p50
rc=0
printf '%-9s %8s  %-28s %-28s\n' backend networks \
    'CreateNetwork p50/max ms' 'DeleteNetwork p50/max ms'
for backend in iptables nftables; do
	ns=$run-$backend
	ip netns add "$ns"
	ip -n "$ns" link set lo up
	ip netns exec "$ns" env LOG_LEVEL=warn DNS_MODE=off \
	    FIREWALL_BACKEND=$backend "$bin" --socket "$tmp/s.sock" \
	    --state-dir "$tmp/state-$backend" 2>>"$tmp/log" &
	pid=$!
	for _ in $(seq 100); do [ -S "$tmp/s.sock" ] && break; sleep 0.05; done
	have=0
	for at in 1 2 300; do
		# The networks left in place: at - 1 in all.
		if [ "$at" -gt $((have + 1)) ]; then
			"$client" "$tmp/s.sock" create $((at - 1 - have)) \
			    >/dev/null
			have=$((at - 1))
		fi
		line=$("$client" "$tmp/s.sock" cycle "$n")
		c50=$(field create_p50_ms "$line")
		p50[$backend-$at]=$c50
		printf '%-9s %8s  %-28s %-28s\n' "$backend" "$at" \
		    "$c50 / $(field create_max_ms "$line")" \
		    "$(field delete_p50_ms "$line") / $(field delete_max_ms "$line")"
	done
	kill "$pid"
	wait "$pid" || true
	pid=
	ip netns delete "$ns"
	ns=
	rm -f "$tmp/s.sock"
done
a=${p50[nftables-1]:-} b=${p50[nftables-300]:-}
if ! [[ $a =~ ^[0-9.]+$ && $b =~ ^[0-9.]+$ ]]; then
	echo "nftables: no CreateNetwork figure ('$a', '$b'): the client failed"
	exit 1
fi
ratio=$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2f", (a > 0 ? b / a : 99) }')
if awk -v r="$ratio" 'BEGIN { exit !(r + 0 <= 1.2) }'; then
	echo "nftables: CreateNetwork at 300 networks is ${ratio}x the one at 1 (target 1.2x): ok"
else
	echo "nftables: CreateNetwork at 300 networks is ${ratio}x the one at 1 (target 1.2x): MISSED"
	rc=1
fi
exit "$rc"
