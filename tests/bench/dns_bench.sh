#!/usr/bin/env bash
# The DNS responder against dnsmasq, a bare reflector and Docker's
# embedded resolver, under dnsperf, in one run (servers and client pinned
# to their own CPUs, see below): qps, lost queries, average
# latency, and the server's CPU time per reply (utime+stime from
# /proc/PID/stat over the measured interval, divided by the replies).
#
#   tests/bench/dns_bench.sh build/dns_srv_bench build/dns_reflector [build/cbridge]
#
# With the cbridge binary, the daemon itself (host namespace, CPU 1,
# DNS_ADDRESS 169.254.53.56, driven over its socket: one network, one
# endpoint joined to the sandbox) is measured on cache hits too: the
# whole path a query takes in production, its epoll loop included.
#
# Layout, every namespace and link named after the run (E2E_PREFIX, see
# tests/e2e/lib.sh) and removed at exit:
#   host     E2E_NS: dns_srv_bench (its forwarder dials from here), later
#            the private dockerd and its container network;
#   sandbox  PREFIXsb: lo up with 169.254.53.53 (cbridge's dns_srv, port
#            53), .54 (dnsmasq from an addn-hosts file) and .55 (the
#            reflector); dnsperf runs here;
#   outside  PREFIXout: the upstream, a dnsmasq answering *.hit.test and
#            *.miss.test from --address (TTL 600), at 203.0.113.2, joined
#            to the host by a veth pair on 203.0.113.0/30 (the firewall
#            e2e test uses 198.51.100.0/30).
# Servers run on CPU 1, dnsperf and the upstream on CPU 0 (taskset);
# dockerd (every thread) is moved to CPU 1 for its row.  dnsperf: -c 4
# -q 200 -l SECONDS; local and hit files have NAMES names, repeated; the
# miss files have distinct names, sent once each (-n 1).  This VM's
# figures drift by 10-20% from one minute to the next, so the rows that
# are compared run interleaved, ROUNDS times each, and the table gives the
# median and the range: first local, dnsmasq, reflector and cache hits,
# then cache misses and dockerd.
#
# Environment: DNS_BENCH_SECONDS (5), DNS_BENCH_ROUNDS (3),
# DNS_BENCH_NAMES (50), DNS_BENCH_DOCKER=0 to leave out the dockerd row.
# The targets (last column) are remarks: a missed one does not fail the run.
set -eu -o pipefail

# shellcheck source=tests/e2e/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../e2e/lib.sh"
# shellcheck source=tests/bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if [ $# -ne 2 ] && [ $# -ne 3 ]; then
	echo "usage: $0 path/to/dns_srv_bench path/to/dns_reflector [path/to/cbridge]" >&2
	exit 2
fi
e2e_need_root
srv_bin=$(readlink -f "$1")
refl_bin=$(readlink -f "$2")
cb_bin=${3:+$(readlink -f "$3")}
secs=${DNS_BENCH_SECONDS:-5}
rounds=${DNS_BENCH_ROUNDS:-3}
names=${DNS_BENCH_NAMES:-50}
with_docker=${DNS_BENCH_DOCKER:-1}
bench_need_tools dnsperf dnsmasq taskset nsenter ip awk
bench_need_built "$srv_bin" "$refl_bin"
if [ "$(nproc)" -lt 2 ]; then
	echo "$0: needs 2 CPUs (server on CPU 1, dnsperf on CPU 0)" >&2
	exit 77
fi

SB_IP=169.254.53.53
DM_IP=169.254.53.54
RF_IP=169.254.53.55
CB_IP=169.254.53.56
UP_HOST=203.0.113.1
UP_IP=203.0.113.2
DNSPERF_ARGS=(-c 4 -q 200 -t 2)

pids=()

E2E_PLUGIN_SETTINGS=${E2E_PLUGIN_SETTINGS-LOG_LEVEL=info}
e2e_init >/dev/null
# Our processes first, then lib.sh's teardown (dockerd, namespaces).
trap 'rc=$?; set +e; bench_stop; (exit $rc); e2e_cleanup' EXIT
# Also when our output goes away (| head): the default action would kill
# the shell without running the EXIT trap.
trap 'exit 129' HUP
trap 'exit 141' PIPE
T=$E2E_TMP
SB=${E2E_PREFIX}sb
OUT=${E2E_PREFIX}out

e2e_make_ns
# Short UDP conntrack timeouts (why: tests/bench/lib.sh).
bench_conntrack_short ip netns exec "$E2E_NS"
ip netns add "$SB"
ip -n "$SB" link set lo up
for a in $SB_IP $DM_IP $RF_IP; do
	ip -n "$SB" addr add "$a/32" dev lo
done
bench_upstream "$OUT" "$UP_HOST" "$UP_IP"

# Query files.
for i in $(seq 0 $((names - 1))); do
	echo "c$i.bench A"
done >"$T/local.txt"
for i in $(seq 0 $((names - 1))); do
	echo "10.53.$(((i + 2) / 256)).$(((i + 2) % 256)) c$i.bench"
done >"$T/hosts"
for i in $(seq 0 $((names - 1))); do
	echo "h$i.hit.test A"
done >"$T/hit.txt"
# miss_file PREFIX: $T/miss.txt with names never asked before, more than
# the fastest run sends in SECONDS.
miss_file() {
	awk -v n=$((secs * 60000)) -v p="$1" 'BEGIN {
		for (i = 0; i < n; i++) printf "%s%d.miss.test A\n", p, i }' \
		>"$T/miss.txt"
}
awk 'BEGIN { for (i = 0; i < 20; i++) printf "w%d.miss.test A\n", i }' >"$T/warm.txt"

# wait_ready FILE: until FILE says "ready" (5 s).
wait_ready() {
	local i
	for i in $(seq 100); do
		grep -qx ready "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	echo "$0: no 'ready' in $1:" >&2
	cat "$1" >&2
	return 1
}

dnsmasq_args=(-k -C /dev/null --user=root --bind-interfaces --no-resolv
	--no-hosts --local-ttl=600 --log-facility=-)

# The upstream, with the client on CPU 0.
ip netns exec "$OUT" taskset -c 0 dnsmasq "${dnsmasq_args[@]}" \
	--listen-address="$UP_IP" --pid-file="$T/up.pid" \
	--address=/hit.test/192.0.2.2 --address=/miss.test/192.0.2.1 \
	>"$T/up.log" 2>&1 &
pids+=($!)
bench_wait_udp "$OUT" "$UP_IP"

# The servers under test, on CPU 1.
ip netns exec "$E2E_NS" taskset -c 1 "$srv_bin" -n "$names" \
	"/run/netns/$SB" "$SB_IP" 53 "$UP_IP:53" >"$T/srv.out" 2>"$T/srv.err" &
srv_pid=$!
pids+=("$srv_pid")
wait_ready "$T/srv.out"
ip netns exec "$SB" taskset -c 1 dnsmasq "${dnsmasq_args[@]}" \
	--listen-address="$DM_IP" --pid-file="$T/dm.pid" \
	--addn-hosts="$T/hosts" >"$T/dm.log" 2>&1 &
dm_pid=$!
pids+=("$dm_pid")
bench_wait_udp "$SB" "$DM_IP"
ip netns exec "$SB" taskset -c 1 "$refl_bin" "$RF_IP" 53 >"$T/rf.out" 2>&1 &
rf_pid=$!
pids+=("$rf_pid")
wait_ready "$T/rf.out"

# The daemon: a cbridge network in the host namespace, one endpoint
# joined to the sandbox (which exists before the daemon starts, so its
# mount namespace sees /run/netns/$SB).
cb_pid=
if [ -n "$cb_bin" ]; then
	cb_sock=$T/cbridge.sock
	ip netns exec "$E2E_NS" env DOCKER_SOCKET=off DNS_ADDRESS="$CB_IP" \
		DNS_UPSTREAMS="$UP_IP" LOG_LEVEL=warn taskset -c 1 "$cb_bin" \
		--socket "$cb_sock" --state-dir "$T/cbstate" >"$T/cb.log" 2>&1 &
	cb_pid=$!
	pids+=("$cb_pid")
	for _ in $(seq 100); do
		[ -S "$cb_sock" ] && break
		sleep 0.05
	done
	cb_call() {
		curl -sS --max-time 10 --unix-socket "$cb_sock" -XPOST \
			"http://p/$1" --data-binary "$2" >/dev/null
	}
	cb_net=$(printf 'b%063d' 1)
	cb_ep=$(printf 'e%063d' 1)
	cb_call NetworkDriver.CreateNetwork "{\"NetworkID\":\"$cb_net\",\"Options\":{},\"IPv4Data\":[{\"Pool\":\"10.253.0.0/24\",\"Gateway\":\"10.253.0.1/24\"}]}"
	cb_call NetworkDriver.CreateEndpoint "{\"NetworkID\":\"$cb_net\",\"EndpointID\":\"$cb_ep\",\"Interface\":{\"Address\":\"10.253.0.2/24\"},\"Options\":{}}"
	cb_call NetworkDriver.Join "{\"NetworkID\":\"$cb_net\",\"EndpointID\":\"$cb_ep\",\"SandboxKey\":\"/run/netns/$SB\",\"Options\":{}}"
	bench_wait_udp "$SB" "$CB_IP"
fi

# srv_stat KEY: the harness's counter KEY, fresh (SIGUSR1).
srv_stat() {
	bench_usr1_dump "$srv_pid" "$T/srv.out" '^\.$'
	awk -v k="$1" '$1 == k { v = $2 } END { print v + 0 }' "$T/srv.out"
}

# measure KEY PID ADDR FILE [-n 1] -- RUNNER...: dnsperf through RUNNER
# (a command that enters the client's namespace) against ADDR:53 on
# CPU 0, with PID's CPU time around it. Appends to $T/KEY.rows:
# qps lost% latency-ms server-us/reply completed client-cpu% noerror.
measure() {
	local key=$1 pid=$2 addr=$3 file=$4 extra=() c0 c1 hz f n=0
	[ -f "$T/$key.rows" ] && n=$(wc -l <"$T/$key.rows")
	f=$T/$key.$((n + 1)).dnsperf
	shift 4
	while [ "$1" != -- ]; do
		extra+=("$1")
		shift
	done
	shift
	hz=$(getconf CLK_TCK)
	c0=$(bench_cpu_ticks "$pid")
	TIMEFORMAT='%R %U %S'
	{ time "$@" taskset -c 0 dnsperf -s "$addr" -p 53 -d "$file" \
		-l "$secs" "${DNSPERF_ARGS[@]}" "${extra[@]}" >"$f" 2>&1; } \
		2>"$T/$key.time"
	c1=$(bench_cpu_ticks "$pid")
	read -r real user sys <"$T/$key.time"
	awk -v qps="$(bench_dnsperf_field "$f" qps)" \
		-v sent="$(bench_dnsperf_field "$f" sent)" \
		-v done="$(bench_dnsperf_field "$f" completed)" \
		-v lat="$(bench_dnsperf_field "$f" lat)" \
		-v noerr="$(bench_dnsperf_field "$f" noerror)" \
		-v dc=$((c1 - c0)) -v hz="$hz" -v r="$real" -v u="$user" -v s="$sys" \
		'BEGIN {
			if (done == "" || done == 0) { print "0 100 0 0 0 0 0"; exit }
			printf "%.0f %.2f %.3f %.2f %d %.0f %d\n", qps,
			    sent ? (sent - done) * 100 / sent : 0, lat * 1000,
			    dc * 1e6 / hz / done, done, (u + s) * 100 / r, noerr
		}' >>"$T/$key.rows"
}

# aggregate KEY: $T/KEY.row from $T/KEY.rows: the median of each column
# (lost: the highest; replies and NOERROR: the sums), then the lowest and
# highest qps and server us/reply.
aggregate() {
	[ -f "$T/$1.rows" ] || return 0
	awk '{ for (i = 1; i <= NF; i++) v[i, NR] = $i }
	function med(c,   a, j, k, t) {
		for (j = 1; j <= NR; j++) a[j] = v[c, j] + 0
		for (j = 2; j <= NR; j++)
			for (k = j; k > 1 && a[k - 1] > a[k]; k--) {
				t = a[k]; a[k] = a[k - 1]; a[k - 1] = t
			}
		lo[c] = a[1]; hi[c] = a[NR]
		return NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2
	}
	function sum(c,   j, t) {
		for (j = 1; j <= NR; j++) t += v[c, j]
		return t
	}
	END {
		q = med(1); l = med(2); la = med(3); u = med(4); cc = med(6)
		printf "%.0f %.2f %.3f %.2f %d %.0f %d %.0f %.0f %.2f %.2f\n",
		    q, hi[2], la, u, sum(5), cc, sum(7), lo[1], hi[1], lo[4],
		    hi[4]
	}' "$T/$1.rows" >"$T/$1.row"
}

in_sb=(ip netns exec "$SB")
echo "DNS responders under dnsperf $(dnsperf -h 2>&1 | awk '/^Version/ { print $2 }' | head -n 1)," \
	"kernel $(uname -r), $(nproc) CPUs: servers on CPU 1, dnsperf on CPU 0," \
	"-c 4 -q 200 -l $secs, $rounds rounds, $names local names"

# Forwarding: the cache warmed with every hit name, then only hits.
bench_all_answered "cbridge to the upstream" "$SB_IP" "$T/hit.txt" "${in_sb[@]}"
[ -z "$cb_pid" ] || bench_all_answered "the cbridge daemon to the upstream" \
	"$CB_IP" "$T/hit.txt" "${in_sb[@]}"
fw0=$(srv_stat forwarded)
for r in $(seq "$rounds"); do
	measure local "$srv_pid" "$SB_IP" "$T/local.txt" -- "${in_sb[@]}"
	measure dnsmasq "$dm_pid" "$DM_IP" "$T/local.txt" -- "${in_sb[@]}"
	measure refl "$rf_pid" "$RF_IP" "$T/local.txt" -- "${in_sb[@]}"
	measure hit "$srv_pid" "$SB_IP" "$T/hit.txt" -- "${in_sb[@]}"
	[ -z "$cb_pid" ] || measure dhit "$cb_pid" "$CB_IP" "$T/hit.txt" -- \
		"${in_sb[@]}"
done
if [ -n "$cb_pid" ]; then
	cb_stats=$("$cb_bin" dns-stats --socket "$cb_sock" --json)
	# Its firewall must not meet dockerd's in the same namespace: its
	# rules go with the network, and the FORWARD DROP it set (forwarding
	# was off here, as dockerd would) goes back to what dockerd expects
	# of a fresh host.
	cb_call NetworkDriver.Leave "{\"NetworkID\":\"$cb_net\",\"EndpointID\":\"$cb_ep\"}"
	cb_call NetworkDriver.DeleteEndpoint "{\"NetworkID\":\"$cb_net\",\"EndpointID\":\"$cb_ep\"}"
	cb_call NetworkDriver.DeleteNetwork "{\"NetworkID\":\"$cb_net\"}"
	kill "$cb_pid"
	wait "$cb_pid" 2>/dev/null || true
	ip netns exec "$E2E_NS" iptables-legacy -P FORWARD ACCEPT 2>/dev/null || true
	ip netns exec "$E2E_NS" ip6tables-legacy -P FORWARD ACCEPT 2>/dev/null || true
fi
fw1=$(srv_stat forwarded)
ch1=$(srv_stat cache_hits)

if [ "$with_docker" = 1 ]; then
	e2e_start_dockerd >"$T/dockerd-start.log" 2>&1 || {
		cat "$T/dockerd-start.log" >&2
		exit 1
	}
	e2e_build_image >/dev/null
	dk network create -d bridge "${E2E_PREFIX}dns" >/dev/null
	e2e_record_bridge "$(e2e_net_bridge "${E2E_PREFIX}dns")"
	dk run -d --name "${E2E_PREFIX}c" --network "${E2E_PREFIX}dns" \
		--dns "$UP_IP" "$E2E_IMAGE" sleep 1d >/dev/null
	cpid=$(dk inspect -f '{{.State.Pid}}' "${E2E_PREFIX}c")
	bench_conntrack_short nsenter "--net=/proc/$cpid/ns/net"
	dpid=$(cat "$T/dockerd.pid")
	taskset -a -p -c 1 "$dpid" >/dev/null
	in_ct=(nsenter "--net=/proc/$cpid/ns/net")
	bench_all_answered "dockerd's resolver to the upstream" 127.0.0.11 \
		"$T/warm.txt" "${in_ct[@]}"
	dver=$(dk version --format '{{.Server.Version}}')
fi
for r in $(seq "$rounds"); do
	miss_file "r${r}q"
	measure miss "$srv_pid" "$SB_IP" "$T/miss.txt" -n 1 -- "${in_sb[@]}"
	if [ "$with_docker" = 1 ]; then
		miss_file "r${r}d"
		measure docker "$dpid" 127.0.0.11 "$T/miss.txt" -n 1 -- \
			"${in_ct[@]}"
	fi
done
fw2=$(srv_stat forwarded)
uf2=$(srv_stat upstream_failures)
up2="$(srv_stat fwd_timeouts) timeouts, $(srv_stat fwd_errors) IO errors, $(srv_stat fwd_failures) SERVFAIL/REFUSED, $(srv_stat fwd_mismatched) mismatched"
for key in local dnsmasq refl hit dhit miss docker; do
	aggregate "$key"
done

# The table.
row() {
	local key=$1 label=$2 remark=${3:-}
	[ -f "$T/$key.row" ] || return 0
	read -r qps lost lat us _ ccpu _ qlo qhi ulo uhi <"$T/$key.row"
	printf '%-34s %7s %15s %5s%% %6s %5s %11s %4s%%  %s\n' "$label" \
		"$qps" "$qlo-$qhi" "$lost" "$lat" "$us" "$ulo-$uhi" "$ccpu" \
		"$remark"
}
field() {
	awk -v i="$2" '{ print $i }' "$T/$1.row" 2>/dev/null || echo 0
}
# verdict COND TEXT: "PASS: TEXT" or "MISS: TEXT".
verdict() {
	if awk "BEGIN { exit !($1) }"; then
		echo "PASS $2"
	else
		echo "MISS $2"
	fi
}

q_local=$(field local 1)
q_refl=$(field refl 1)
q_hit=$(field hit 1)
q_miss=$(field miss 1)
q_docker=$(field docker 1)
us_local=$(field local 4)
us_hit=$(field hit 4)

echo
printf '%-34s %7s %15s %6s %6s %5s %11s %5s  %s\n' responder qps \
	"(range)" lost "lat ms" "us/q" "(range)" client "target"
row local "cbridge dns_srv, local answers" \
	"$(verdict "$q_local >= 0.95 * $q_refl && $us_local <= 7" \
	"qps $(awk -v a="$q_local" -v b="$q_refl" 'BEGIN { printf "%.2f", b ? a / b : 0 }')x reflector (>= 0.95), <= 7 us")"
row dnsmasq "dnsmasq $(dnsmasq --version | awk 'NR == 1 { print $3 }'), addn-hosts"
row refl "reflector, recvmmsg/sendmmsg"
row hit "cbridge dns_srv, cache hits" \
	"$(verdict "$q_hit >= 0.95 * $q_local && $us_hit <= 7" \
	"qps $(awk -v a="$q_hit" -v b="$q_local" 'BEGIN { printf "%.2f", b ? a / b : 0 }')x local (>= 0.95), <= 7 us")"
row dhit "cbridge daemon, cache hits" \
	"$(verdict "$(field dhit 4) <= 7" "<= 7 us (the whole daemon)")"
row miss "cbridge dns_srv, cache misses" \
	"$([ -f "$T/docker.row" ] && verdict "$q_miss >= 2.5 * $q_docker" \
	"qps $(awk -v a="$q_miss" -v b="$q_docker" 'BEGIN { printf "%.2f", b ? a / b : 0 }')x docker (>= 2.5)")"
row docker "dockerd ${dver:-} 127.0.0.11, misses"
echo
echo "Medians of $rounds rounds; lost: the worst round. us/q: the server's user+system"
echo "CPU time per reply (dockerd: every thread). client: dnsperf's CPU (near 100%: the"
echo "client is the bottleneck and qps a lower bound; compare us/q)."
echo "cbridge counters: $((fw1 - fw0)) forwarded during the local and hit rounds" \
	"($ch1 cache hits in all); $((fw2 - fw1)) forwarded during the miss rounds;" \
	"$uf2 upstream failures (upstream: $up2)."
if [ -n "${cb_stats:-}" ]; then
	echo "cbridge daemon counters: $(jq -r '.Sandboxes[0] | "\(.CacheHits) cache hits, \(.Forwarded) forwarded, \(.UpstreamFailures) failed"' <<<"$cb_stats")."
fi
for key in local dnsmasq refl hit dhit miss docker; do
	[ -f "$T/$key.row" ] || continue
	read -r _ lost _ _ ndone _ noerr _ <"$T/$key.row"
	if [ "$noerr" != "$ndone" ] || awk -v l="$lost" 'BEGIN { exit !(l > 0.1) }'; then
		echo "WARNING: $key: $ndone replies, $noerr NOERROR, up to $lost% lost:"
		tail -n 25 "$T/$key.1.dnsperf" | sed 's/^/  /'
	fi
done

set +e
bench_stop
trap - EXIT INT TERM
e2e_teardown
host=$(e2e_check_host_unchanged)
grep -q '^not ok' <<<"$host" && echo "$host"
exit 0
