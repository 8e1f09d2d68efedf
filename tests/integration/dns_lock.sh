#!/bin/bash
# A sandbox's DNS responder keeps answering while the daemon waits for
# the firewall: (a) while another program holds the xtables lock for 6 s
# and a CreateNetwork arrives meanwhile (its reply must come after the
# lock is released, and succeed), and (b) while 20 networks are created
# and deleted.  No probe query may be lost at a 2 s timeout.
#
# Namespaces (named after the run, removed at exit, also on failure):
#   H  the daemon (--socket, --state-dir, XTABLES_LOCK a file of this run,
#      DOCKER_SOCKET=off), hu0 10.254.56.1/30
#   U  dnsmasq on uh0 10.254.56.2, answering lock.test with 192.0.2.7,
#      TTL 600
#   S  the sandbox, joined to a network 10.253.56.0/24: the responder
#      serves 169.254.53.53 on its lo
# lock.test is asked once first, so the probe's queries are cache hits
# that need nothing but the daemon's loop.  dns_probe (tests/bench/)
# runs in S at 2000 queries/s with a 2 s timeout.
#
#   tests/integration/dns_lock.sh path/to/cbridge path/to/dns_probe
set -eu -o pipefail
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

if [ $# -ne 2 ]; then
	echo "usage: $0 path/to/cbridge path/to/dns_probe" >&2
	exit 2
fi
bin=$(readlink -f "$1")
probe=$(readlink -f "$2")
for b in "$bin" "$probe"; do
	if [ ! -x "$b" ]; then
		echo "$0: $b is not an executable" >&2
		exit 2
	fi
done
if [ "$(id -u)" -ne 0 ]; then
	echo "$0: skipped, needs root" >&2
	exit 77
fi
itest_br_netfilter
for t in dnsmasq flock curl jq ss timeout; do
	if ! command -v "$t" >/dev/null; then
		echo "$0: needs $t (dnsmasq: apt-get install dnsmasq-base)" >&2
		exit 1
	fi
done

DNS=169.254.53.53
UP_HOST=10.254.56.1
UP=10.254.56.2
NAME=lock.test
RATE=2000
LOCK_SECONDS=6

run=cbt-k$$-$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')
H=$run-h
U=$run-u
S=$run-s
tmp=$(mktemp -d "/tmp/$run.XXXX")
sock=$tmp/cbridge.sock
lockf=$tmp/xtables.lock
log=$tmp/daemon.log
pid=
pids=()
watchdog=
passed=0
failed=0

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
# The whole test within 4 minutes; then the EXIT trap cleans up.
# (Its sleep goes with it: nothing is left behind when it is stopped.)
(
	trap 'kill "$s" 2>/dev/null; exit 0' TERM
	sleep 240 &
	s=$!
	wait "$s"
	echo "$0: over 240 s, stopping" >&2
	kill -TERM $$
) &
watchdog=$!

now_ms() { echo $(($(date +%s%N) / 1000000)); }
# field LINE KEY: the value of KEY=... in LINE.
field() { tr ' ' '\n' <<<"$1" | sed -n "s/^$2=//p"; }
# bail WHY: a setup step failed; the daemon's last lines, then exit 1.
bail() {
	not_ok "$1"
	[ ! -f "$log" ] || sed 's/^/# /' "$log" | tail -20
	echo "$passed passed, $failed failed"
	exit 1
}
# wait_udp NS IP: until something listens on IP:53 in NS (5 s).
wait_udp() {
	for _ in $(seq 100); do
		ip netns exec "$1" ss -Hlnu "src $2:53" | grep -q . && return 0
		sleep 0.05
	done
	return 1
}

# ---- namespaces, upstream, daemon ----

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
wait_udp "$U" "$UP" || bail "dnsmasq did not start"

# After S exists: the daemon's mount namespace must see /run/netns/S.
: >"$lockf"
echo "nameserver $UP" >"$tmp/resolv.conf"
ip netns exec "$H" env LOG_LEVEL=info DOCKER_SOCKET=off DNS_ADDRESS="$DNS" \
    DNS_UPSTREAMS="$UP" DNS_RESOLV_CONF="$tmp/resolv.conf" \
    XTABLES_LOCK="$lockf" "$bin" --socket "$sock" --state-dir "$tmp/state" \
    >"$log" 2>&1 &
pid=$!
wait_daemon "$log" | sed 's/^/# /' || true
[ -S "$sock" ] || bail "the daemon listens on its socket"

# ok200 ROUTE BODY: the call succeeds (its reply body in $tmp/out).
ok200() {
	local r
	r=$(call "$1" "$2")
	[ "${r%% *}" = 200 ] || { echo "# $1: $r"; return 1; }
}
SBNET=$(printf '5b%062d' 2)
SBEP=$(printf '5e%062d' 2)
ok200 NetworkDriver.CreateNetwork "{\"NetworkID\":\"$SBNET\",\"Options\":{},\"IPv4Data\":[{\"AddressSpace\":\"LocalDefault\",\"Pool\":\"10.253.56.0/24\",\"Gateway\":\"10.253.56.1/24\"}],\"IPv6Data\":[]}" ||
    bail "the sandbox's network"
ok200 NetworkDriver.CreateEndpoint "{\"NetworkID\":\"$SBNET\",\"EndpointID\":\"$SBEP\",\"Interface\":{\"Address\":\"10.253.56.2/24\",\"AddressIPv6\":\"\",\"MacAddress\":\"\"},\"Options\":{}}" ||
    bail "the sandbox's endpoint"
ok200 NetworkDriver.Join "{\"NetworkID\":\"$SBNET\",\"EndpointID\":\"$SBEP\",\"SandboxKey\":\"/run/netns/$S\",\"Options\":{}}" ||
    bail "Join"
wait_udp "$S" "$DNS" || bail "a responder at $DNS in the sandbox"
r=$(ip netns exec "$S" timeout 10 "$probe" -r 1 -d 1 -t 3 -n "$NAME" "$DNS")
check "$NAME answered once through the upstream, now cached ($r)" \
    test "$(field "$r" answered)" = 1

# probe_start SECONDS OUT: dns_probe from the sandbox in the background.
probe_start() {
	ip netns exec "$S" timeout $(($1 + 30)) "$probe" -r "$RATE" -d "$1" \
	    -t 2 -n "$NAME" "$DNS" >"$2" 2>&1 &
	probe_pid=$!
	pids+=("$probe_pid")
}
# probe_checks WHAT OUT: the probe ran, answered, lost nothing.
probe_checks() {
	local r
	r=$(cat "$2")
	echo "# $1: $r"
	check "$1: the probe ran and got answers (answered=$(field "$r" answered))" \
	    test "$(field "$r" answered)" -gt 0 2>/dev/null
	check "$1: no query lost at a 2 s timeout (lost=$(field "$r" lost) of $(field "$r" sent), max_ms=$(field "$r" max_ms), longest gap $(field "$r" gap_ms) ms)" \
	    test "$(field "$r" lost)" = 0 -a "$(field "$r" sent)" -gt 0
}

# ---- (a) another program holds the xtables lock ----

echo "# (a) the xtables lock held $LOCK_SECONDS s, a CreateNetwork meanwhile"
probe_start 10 "$tmp/a.probe"
sleep 1.5
# flock(1) on a descriptor of a subshell that is the holder: stopping
# the subshell (cleanup) releases the lock at once.
(
	exec 9>>"$lockf"
	flock -x 9
	date +%s%N >"$tmp/held"
	sleep $LOCK_SECONDS
	date +%s%N >"$tmp/released"
) &
pids+=($!)
for _ in $(seq 40); do [ -s "$tmp/held" ] && break; sleep 0.05; done
sleep 1
NA=$(printf '5c%062d' 1)
(
	code=$(curl -sS --max-time 30 --unix-socket "$sock" -o "$tmp/a.out" \
	    -w '%{http_code}' -XPOST http://plugin/NetworkDriver.CreateNetwork \
	    --data-binary "{\"NetworkID\":\"$NA\",\"Options\":{},\"IPv4Data\":[{\"AddressSpace\":\"LocalDefault\",\"Pool\":\"10.253.57.0/24\",\"Gateway\":\"10.253.57.1/24\"}],\"IPv6Data\":[]}") ||
	    code=000
	echo "$code $(date +%s%N)" >"$tmp/a.reply"
) &
call_pid=$!
pids+=("$call_pid")
asked=$(date +%s%N)
wait "$call_pid" || true
wait "$probe_pid" || true
probe_checks "lock held" "$tmp/a.probe"
if [ -s "$tmp/held" ] && [ -s "$tmp/released" ] && [ -s "$tmp/a.reply" ]; then
	read -r code replied <"$tmp/a.reply"
	held=$(cat "$tmp/held")
	released=$(cat "$tmp/released")
	echo "# the lock held $(((released - held) / 1000000)) ms; CreateNetwork asked $(((asked - held) / 1000000)) ms after it was taken, replied $(((replied - released) / 1000000)) ms after its release"
	check "CreateNetwork during the lock succeeded ($code $(cat "$tmp/a.out" 2>/dev/null))" \
	    test "$code" = 200
	check "its reply came after the lock was released" \
	    test "$replied" -gt "$released"
	if command -v iptables-legacy-save >/dev/null; then
		check "and its firewall rules are in place" eval \
		    "ip netns exec $H iptables-legacy-save | grep -q 'cbridge:${NA:0:12}:'"
	fi
else
	not_ok "the lock was taken and released, the CreateNetwork answered"
fi
r=$(call NetworkDriver.DeleteNetwork "{\"NetworkID\":\"$NA\"}")
check "DeleteNetwork of it (${r%% *})" test "${r%% *}" = 200

# ---- (b) 20 networks created and deleted ----

# batch ROUTE BODY [ROUTE BODY]...: the calls in one curl process, in
# order, on one connection; their HTTP codes, one a line.
batch() {
	local args=()
	while [ $# -ge 2 ]; do
		[ ${#args[@]} -eq 0 ] || args+=(--next)
		args+=(-sS --max-time 30 --unix-socket "$sock" -o /dev/null
		    -w '%{http_code}\n' -XPOST "http://plugin/$1" --data-binary "$2")
		shift 2
	done
	curl "${args[@]}" || true
}
# The 20 networks as `docker network create --subnet` makes them (IPAM
# pool, gateway, CreateNetwork), then `docker network rm`
# (DeleteNetwork, ReleaseAddress, ReleasePool).
creates=()
deletes=()
for i in $(seq 20); do
	id=$(printf '5d%02x%060d' "$i" 0)
	sub=10.253.$((100 + i))
	creates+=(IpamDriver.RequestPool "{\"AddressSpace\":\"LocalDefault\",\"Pool\":\"$sub.0/24\",\"SubPool\":\"\",\"Options\":{},\"V6\":false}"
	    IpamDriver.RequestAddress "{\"PoolID\":\"LocalDefault/$sub.0/24\",\"Address\":\"\",\"Options\":{\"RequestAddressType\":\"com.docker.network.gateway\"}}"
	    NetworkDriver.CreateNetwork "{\"NetworkID\":\"$id\",\"Options\":{\"com.docker.network.enable_ipv6\":false,\"com.docker.network.generic\":{}},\"IPv4Data\":[{\"AddressSpace\":\"LocalDefault\",\"Pool\":\"$sub.0/24\",\"Gateway\":\"$sub.1/24\"}],\"IPv6Data\":[]}")
	deletes+=(NetworkDriver.DeleteNetwork "{\"NetworkID\":\"$id\"}"
	    IpamDriver.ReleaseAddress "{\"PoolID\":\"LocalDefault/$sub.0/24\",\"Address\":\"$sub.1\"}"
	    IpamDriver.ReleasePool "{\"PoolID\":\"LocalDefault/$sub.0/24\"}")
done
# all200 N: N lines on stdin, each 200.
all200() {
	local codes
	codes=$(cat)
	[ "$(grep -cx 200 <<<"$codes")" = "$1" ] || {
		echo "# HTTP codes: $(sort <<<"$codes" | uniq -c | tr '\n' ' ')"
		return 1
	}
}

echo "# (b) 20 networks created and deleted, again until 6 s have passed"
# Sending stops at SIGTERM; the queries sent are still waited for.
probe_start 120 "$tmp/b.probe"
sleep 1
rounds=0
churn_ok=true
t0=$(now_ms)
while [ "$rounds" -eq 0 ] || [ $(($(now_ms) - t0)) -lt 6000 ]; do
	batch "${creates[@]}" | all200 60 || churn_ok=false
	batch "${deletes[@]}" | all200 60 || churn_ok=false
	rounds=$((rounds + 1))
	$churn_ok || break
done
t1=$(now_ms)
sleep 0.5
kill -TERM "$probe_pid" 2>/dev/null || true
wait "$probe_pid" || true
echo "# $rounds rounds of 20 networks created and deleted in $((t1 - t0)) ms"
check "every call of the churn succeeded ($rounds rounds of 20 networks)" $churn_ok
probe_checks "20 networks created and deleted" "$tmp/b.probe"

check "the daemon exits 0 on SIGTERM" stop
check "no sanitizer report or crash in the daemon's log" \
    no_sanitizer_report "$log"
if [ "$failed" -ne 0 ]; then
	echo "# the daemon's log, last lines:"
	sed 's/^/# /' "$log" | tail -20
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
