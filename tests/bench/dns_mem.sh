#!/bin/bash
# Memory of idle DNS responders: the daemon (in a throwaway namespace,
# driven over its socket as dockerd would) with N sandboxes (network
# namespaces of their own, default 500) joined to one network. Prints the
# daemon's resident memory with the endpoints created, then with every
# sandbox joined and served, and the difference per sandbox; also its open
# fds. Target: at most 32 KiB per idle sandbox at 500.
#
#   tests/bench/dns_mem.sh path/to/cbridge [N]
set -eu -o pipefail

bin=${1:?usage: $0 path/to/cbridge [N]}
n=${2:-500}
case $bin in /*) ;; *) bin=$(pwd)/$bin ;; esac
if [ "$(id -u)" -ne 0 ]; then
	echo "$0: skipped, needs root" >&2
	exit 77
fi

run=cbm$(od -An -N2 -tx1 /dev/urandom | tr -d ' ')
tmp=$(mktemp -d "/tmp/$run.XXXX")
sock=$tmp/cbridge.sock
pid=
made=0

cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	for i in $(seq "$made"); do
		ip netns delete "$run-$i" 2>/dev/null || true
	done
	ip netns delete "$run" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

hexid() {	# hexid CHAR NUM: a 64-hex ID, distinct in its first 12
	printf '%012x%s' "$2" "$(printf "%52s" "" | tr ' ' "$1")"
}

call() {
	curl -sS --max-time 20 --unix-socket "$sock" -XPOST "http://p/$1" \
	    --data-binary "$2"
}

rss_kib() {
	awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status"
}

serving() {
	"$bin" dns-stats --socket "$sock" --json |
	    jq '[.Sandboxes[] | select(.State == "serving")] | length'
}

# Sandboxes exist before the daemon starts: its private mount namespace
# (ip netns exec) then sees their /run/netns files.
ip netns add "$run"
ip -n "$run" link set lo up
t0=$(date +%s)
for i in $(seq "$n"); do
	ip netns add "$run-$i"
	made=$i
done
echo "# $n sandbox namespaces made in $(($(date +%s) - t0)) s"

ip netns exec "$run" env DOCKER_SOCKET=off DNS_UPSTREAMS=127.0.0.1:9 \
    LOG_LEVEL=warn "$bin" --socket "$sock" --state-dir "$tmp/state" \
    >"$tmp/log" 2>&1 &
pid=$!
for _ in $(seq 100); do
	[ -S "$sock" ] && break
	sleep 0.05
done
net=$(hexid 5 1)
call NetworkDriver.CreateNetwork "{\"NetworkID\":\"$net\",\"Options\":{},\"IPv4Data\":[{\"Pool\":\"10.199.0.0/16\",\"Gateway\":\"10.199.0.1/16\"}]}" >/dev/null
for i in $(seq "$n"); do
	call NetworkDriver.CreateEndpoint "{\"NetworkID\":\"$net\",\"EndpointID\":\"$(hexid e "$i")\",\"Interface\":{\"Address\":\"10.199.$((i / 250)).$((i % 250 + 2))/16\"},\"Options\":{}}" >/dev/null
done
sleep 1
before=$(rss_kib)
fds_before=$(find "/proc/$pid/fd" -mindepth 1 | wc -l)
t0=$(date +%s%N)
for i in $(seq "$n"); do
	call NetworkDriver.Join "{\"NetworkID\":\"$net\",\"EndpointID\":\"$(hexid e "$i")\",\"SandboxKey\":\"/run/netns/$run-$i\",\"Options\":{}}" >/dev/null
done
t1=$(date +%s%N)
for _ in $(seq 100); do
	[ "$(serving)" -eq "$n" ] && break
	sleep 0.1
done
got=$(serving)

sleep 1
after=$(rss_kib)
fds_after=$(find "/proc/$pid/fd" -mindepth 1 | wc -l)
per=$(((after - before) * 1024 / n))
echo "# $n joins in $(((t1 - t0) / 1000000)) ms; $got sandboxes serving"
printf '%-44s %10s\n' "daemon RSS, $n endpoints, none joined" "$before KiB"
printf '%-44s %10s\n' "daemon RSS, $n sandboxes served, idle" "$after KiB"
printf '%-44s %10s\n' "per idle sandbox" "$per bytes"
printf '%-44s %10s\n' "open fds per sandbox" "$(( (fds_after - fds_before) / n ))"
if [ "$got" -eq "$n" ] && [ "$per" -le 32768 ]; then
	echo "# target (<= 32 KiB per idle sandbox at $n): met"
else
	echo "# target (<= 32 KiB per idle sandbox at $n, all serving): NOT met"
fi
