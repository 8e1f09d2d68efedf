#!/bin/bash
# DNS latency of a sandbox's responder while the daemon's loop is busy
# with something else: idle, while networks are created and deleted with
# 300 present, and while another program holds the xtables lock and a
# network is being created.  Then the daemon's own CreateNetwork and
# DeleteNetwork latency with 1 and with 300 networks present.  One
# Markdown table; the targets are remarks, a missed one does not fail the
# run.
#
#   tests/bench/dns_latency.sh path/to/cbridge path/to/dns_probe \
#       [path/to/http_client]
#
# (http_client defaults to the one next to dns_probe.)
#
# Layout, every namespace named after the run and removed at exit:
#   H  the daemon (unmanaged: --socket, --state-dir, XTABLES_LOCK a file
#      of this run, DOCKER_SOCKET=off), its bridges and its legacy
#      iptables tables; hu0 10.254.55.1/30
#   U  the upstream: dnsmasq on uh0 10.254.55.2, answering lat.test with
#      192.0.2.7, TTL 600
#   S  the sandbox: one endpoint of a network 10.253.55.0/24 joined to it,
#      so the responder serves DNS_ADDRESS 169.254.53.53 on S's lo
# lat.test is asked once first, so every probe query is a cache hit: the
# reply needs nothing but the daemon's loop.  dns_probe runs in S:
# DNS_LAT_RATE queries per second (2000) for DNS_LAT_SECONDS (10), each
# waited for 2 s.  The networks come from the daemon's IPAM (automatic
# pools) with the calls dockerd makes, through http_client.
#
# Rows:
#   idle                 1 network (the sandbox's)
#   idle, 300 networks   the once-a-second firewall check with 300
#   churn                300 networks present, http_client creating and
#                        deleting one more in a loop for the whole probe
#   xtables lock         flock(1) holds XTABLES_LOCK from 2 s into the
#                        probe for DNS_LAT_LOCK_SECONDS (6); 1 s after it
#                        is taken, a network is created (and deleted)
# Environment: DNS_LAT_SECONDS, DNS_LAT_RATE, DNS_LAT_NETWORKS (300),
# DNS_LAT_CALLS (20, create/delete pairs per latency row),
# DNS_LAT_LOCK_SECONDS, DNS_LAT_LIMIT (whole run, seconds: 900).
set -eu -o pipefail

# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/../integration/lib.sh"
# shellcheck source=tests/bench/lib.sh
. "$(dirname "$0")/lib.sh"

if [ $# -lt 2 ] || [ $# -gt 3 ]; then
	echo "usage: $0 path/to/cbridge path/to/dns_probe [path/to/http_client]" >&2
	exit 2
fi
bin=$(readlink -f "$1")
probe=$(readlink -f "$2")
client=$(readlink -f "${3:-$(dirname "$2")/http_client}")
bench_need_built "$bin" "$probe" "$client"
if [ "$(id -u)" -ne 0 ]; then
	echo "$0: skipped, needs root" >&2
	exit 77
fi
for t in dnsmasq flock timeout ip ss awk; do
	if ! command -v "$t" >/dev/null; then
		echo "$0: needs $t (scripts/deps.sh bench)" >&2
		exit 1
	fi
done

secs=${DNS_LAT_SECONDS:-10}
rate=${DNS_LAT_RATE:-2000}
nnets=${DNS_LAT_NETWORKS:-300}
calls=${DNS_LAT_CALLS:-20}
lock_secs=${DNS_LAT_LOCK_SECONDS:-6}
limit=${DNS_LAT_LIMIT:-900}
if [ "$secs" -lt $((lock_secs + 3)) ]; then
	echo "$0: DNS_LAT_SECONDS must be at least DNS_LAT_LOCK_SECONDS + 3" >&2
	exit 2
fi

DNS=169.254.53.53
UP_HOST=10.254.55.1
UP=10.254.55.2
NAME=lat.test

run=cbt-l$$-$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')
H=$run-h
U=$run-u
S=$run-s
tmp=$(mktemp -d "/tmp/$run.XXXX")
sock=$tmp/cbridge.sock
lockf=$tmp/xtables.lock
pid=
pids=()
watchdog=

cleanup() {
	local n
	# shellcheck disable=SC2086
	teardown_procs "${pids[@]}" $pid
	[ -z "$watchdog" ] || kill "$watchdog" 2>/dev/null || true
	for n in "$S" "$U" "$H"; do
		ip netns delete "$n" 2>/dev/null || true
	done
	rm -rf "$tmp"
}
on_exit() {
	local rc=$?
	set +e
	cleanup
	exit "$rc"
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP
trap 'exit 141' PIPE
# The whole run within DNS_LAT_LIMIT seconds.
bench_watchdog "$limit"

now_ms() { echo $(($(date +%s%N) / 1000000)); }
die() { echo "$0: $*" >&2; [ ! -f "$tmp/daemon.log" ] || tail -20 "$tmp/daemon.log" >&2; exit 1; }

# ---- namespaces and the upstream ----

for n in "$H" "$U" "$S"; do
	ip netns add "$n"
	ip -n "$n" link set lo up
done
ip -n "$H" link add hu0 type veth peer name uh0 netns "$U"
ip -n "$H" addr add "$UP_HOST/30" dev hu0
ip -n "$U" addr add "$UP/30" dev uh0
ip -n "$H" link set hu0 up
ip -n "$U" link set uh0 up

ip netns exec "$U" dnsmasq -k -C /dev/null --user=root --port=53 \
    --listen-address="$UP" --bind-interfaces --no-resolv --no-hosts \
    --pid-file= --local-ttl=600 --address="/$NAME/192.0.2.7" \
    --log-facility="$tmp/dnsmasq.log" >"$tmp/dnsmasq.out" 2>&1 &
pids+=($!)
bench_wait_udp "$U" "$UP" || die "dnsmasq did not start: $(cat "$tmp/dnsmasq.out")"

# ---- the daemon, after S exists (its mount namespace sees /run/netns/S) ----

: >"$lockf"
echo "nameserver $UP" >"$tmp/resolv.conf"
ip netns exec "$H" env LOG_LEVEL=warn DOCKER_SOCKET=off DNS_ADDRESS="$DNS" \
    DNS_UPSTREAMS="$UP" DNS_RESOLV_CONF="$tmp/resolv.conf" \
    XTABLES_LOCK="$lockf" "$bin" --socket "$sock" --state-dir "$tmp/state" \
    >"$tmp/daemon.log" 2>&1 &
pid=$!
for _ in $(seq 200); do
	[ -S "$sock" ] && break
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.05
done
[ -S "$sock" ] || die "the daemon did not start"

# api ROUTE BODY: POSTs BODY; fails unless the reply is 200.
api() {
	local code
	code=$(curl -sS --max-time 30 --unix-socket "$sock" -o "$tmp/api.out" \
	    -w '%{http_code}' -XPOST "http://plugin/$1" --data-binary "$2") ||
	    code=000
	[ "$code" = 200 ] || die "$1: $code $(cat "$tmp/api.out" 2>/dev/null)"
}
SBNET=$(printf '5b%062d' 1)
SBEP=$(printf '5e%062d' 1)
api NetworkDriver.CreateNetwork "{\"NetworkID\":\"$SBNET\",\"Options\":{},\"IPv4Data\":[{\"AddressSpace\":\"LocalDefault\",\"Pool\":\"10.253.55.0/24\",\"Gateway\":\"10.253.55.1/24\"}],\"IPv6Data\":[]}"
api NetworkDriver.CreateEndpoint "{\"NetworkID\":\"$SBNET\",\"EndpointID\":\"$SBEP\",\"Interface\":{\"Address\":\"10.253.55.2/24\",\"AddressIPv6\":\"\",\"MacAddress\":\"\"},\"Options\":{}}"
api NetworkDriver.Join "{\"NetworkID\":\"$SBNET\",\"EndpointID\":\"$SBEP\",\"SandboxKey\":\"/run/netns/$S\",\"Options\":{}}"
bench_wait_udp "$S" "$DNS" || die "no responder at $DNS in the sandbox"

# probe SECONDS: dns_probe from the sandbox; its one line on stdout.
probe() {
	ip netns exec "$S" timeout $(($1 + 30)) "$probe" -r "$rate" -d "$1" \
	    -t 2 -n "$NAME" "$DNS"
}
# The name into the cache (the upstream's reply, TTL 600).
warm=$(ip netns exec "$S" timeout 10 "$probe" -r 1 -d 1 -t 3 -n "$NAME" "$DNS")
case $warm in
*" answered=1 "*) ;;
*) die "$NAME not answered through the upstream: $warm" ;;
esac

# field LINE KEY: the value of KEY=... in LINE.
field() { tr ' ' '\n' <<<"$1" | sed -n "s/^$2=//p"; }
rows=()
remarks=()
# dns_row LABEL PROBE_LINE
dns_row() {
	local max lost sent verdict
	sent=$(field "$2" sent)
	lost=$(field "$2" lost)
	max=$(field "$2" max_ms)
	if [ "$(field "$2" answered)" = 0 ]; then
		verdict="MISSED: nothing answered"
	elif [ "$lost" = 0 ] && awk -v m="$max" 'BEGIN { exit !(m < 20) }'; then
		verdict="met"
	else
		verdict="MISSED"
	fi
	rows+=("| $1 | $(field "$2" avg_ms) | $(field "$2" p99_ms) | $max | $lost of $sent | $(field "$2" gap_ms) | $verdict |")
	echo "# $1: $2" >&2
}
call_rows=()
# call_row NETWORKS CLIENT_LINE: CreateNetwork and DeleteNetwork rows.
call_row() {
	call_rows+=("| CreateNetwork | $1 | $(field "$2" create_p50_ms) | $(field "$2" create_max_ms) | $(field "$2" calls) |")
	call_rows+=("| DeleteNetwork | $1 | $(field "$2" delete_p50_ms) | $(field "$2" delete_max_ms) | $(field "$2" calls) |")
	echo "# $1 networks: $2" >&2
}
# cycle N: N networks created and deleted, one line.
cycle() { timeout 600 "$client" "$sock" cycle "$1"; }

# ---- idle, 1 network ----

echo "# idle, 1 network (${secs} s at $rate q/s)" >&2
dns_row "idle, 1 network" "$(probe "$secs")"

# ---- another program holds the xtables lock ----

echo "# xtables lock held ${lock_secs} s, a network created meanwhile" >&2
probe "$secs" >"$tmp/lock.probe" &
probe_pid=$!
pids+=("$probe_pid")
sleep 2
# flock(1) on a descriptor of a subshell that is the holder: stopping
# the subshell (cleanup) releases the lock at once.
(
	exec 9>>"$lockf"
	flock -x 9
	date +%s%N >"$tmp/held"
	sleep "$lock_secs"
	date +%s%N >"$tmp/released"
) &
pids+=($!)
sleep 1
t0=$(now_ms)
if timeout 60 "$client" "$sock" cycle 1 >"$tmp/lock.client" 2>&1; then
	lock_call=ok
else
	lock_call="failed: $(cat "$tmp/lock.client")"
fi
t1=$(now_ms)
wait "$probe_pid" || true
dns_row "xtables lock held ${lock_secs} s + CreateNetwork" "$(cat "$tmp/lock.probe")"
if [ -s "$tmp/held" ] && [ -s "$tmp/released" ]; then
	held=$(($(cat "$tmp/held") / 1000000))
	rel=$(($(cat "$tmp/released") / 1000000))
	remarks+=("lock row: the lock was held $((rel - held)) ms; the network created (and deleted) during it, $lock_call, asked $((t0 - held)) ms after the lock was taken, done $((t1 - rel)) ms after it was released ($(cat "$tmp/lock.client"))")
else
	remarks+=("lock row: flock did not take the lock")
fi

# ---- CreateNetwork / DeleteNetwork with 1 network ----

echo "# $calls networks created and deleted, 1 present" >&2
c1=$(cycle "$calls")
call_row 1 "$c1"

# ---- up to 300 networks ----

echo "# $((nnets - 1)) more networks" >&2
t0=$(now_ms)
made=$(timeout 600 "$client" "$sock" create $((nnets - 1)))
t1=$(now_ms)
remarks+=("$((nnets - 1)) networks created one after the other in $(((t1 - t0) / 1000)).$(((t1 - t0) % 1000 / 100)) s (CreateNetwork alone: $made)")

echo "# idle, $nnets networks" >&2
dns_row "idle, $nnets networks" "$(probe "$secs")"

echo "# $calls networks created and deleted, $nnets present" >&2
c300=$(cycle "$calls")
call_row "$nnets" "$c300"

# ---- churn ----

echo "# churn: networks created and deleted during the probe, $nnets present" >&2
probe "$secs" >"$tmp/churn.probe" &
probe_pid=$!
pids+=("$probe_pid")
churn=$(timeout $((secs + 600)) "$client" "$sock" cycle 0 "$secs" || true)
wait "$probe_pid" || true
dns_row "churn, $nnets networks" "$(cat "$tmp/churn.probe")"
remarks+=("churn row: $churn")

# ---- the table ----

kill -0 "$pid" 2>/dev/null || die "the daemon died"
cn1=$(field "$c1" create_p50_ms)
cn300=$(field "$c300" create_p50_ms)
echo
echo "DNS cache hits from a sandbox, $rate q/s, 2 s timeout, ${secs} s per row (cbridge $("$bin" --version | cut -d' ' -f2))"
echo
echo "| scenario | avg ms | p99 ms | max ms | lost | longest gap ms | target: max < 20 ms, 0 lost |"
echo "|---|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
echo
echo "| call | networks present | median ms | max ms | calls |"
echo "|---|---|---|---|---|"
printf '%s\n' "${call_rows[@]}"
echo
awk -v a="$cn1" -v b="$cn300" -v n="$nnets" 'BEGIN {
	printf "- target CreateNetwork <= 15 ms with 1 network: %s (median %.1f ms)\n",
	    (a <= 15 ? "met" : "MISSED"), a
	printf "- target CreateNetwork with %d networks <= 1.5x that with 1: %s (median %.1f ms, %.2fx)\n", n,
	    (b <= 1.5 * a ? "met" : "MISSED"), b, (a > 0 ? b / a : 0) }'
for r in "${remarks[@]}"; do
	echo "- $r"
done
