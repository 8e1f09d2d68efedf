#!/usr/bin/env bash
# Docker's resolver address 127.0.0.11 served by cbridge (a cbridge
# network: the plugin intercepts the container's queries to it) against
# dockerd's embedded resolver (a network of the built-in bridge driver), in
# one run with one private dockerd (tests/e2e/lib.sh):
#
#   1. Two load clients from inside a container's network namespace
#      (nsenter into the namespace of its State.Pid; both are the host's,
#      the image has no DNS tools), no --dns flag, the same query files
#      for both servers and both clients, 200 queries outstanding:
#      dnsperf (-c 4 -q 200), and build/dns_blast (-w 200: one thread,
#      sendmmsg/recvmmsg in batches), which costs less CPU per query, so
#      that on a fast server the server rather than the client's CPU
#      saturates.  The query files:
#        names  NAMES network aliases of another container, dnsdk-t0...,
#               repeated (answered from the server's own names);
#        ext    NAMES names of hit.test, repeated, answered by the test's
#               upstream (cbridge serves them from its cache after the
#               warm-up, dockerd forwards every one).
#      qps, lost, and the serving process's CPU time per reply: utime +
#      stime of every thread (/proc/PID/stat) around the run, divided by
#      the replies; the plugin's process for cbridge, dockerd for its
#      resolver; and how busy CPU 0 (the client's) and CPU 1 (the
#      servers') were, to tell which side saturated.  Target: cbridge 3x
#      dockerd (qps, and CPU per query), each client against itself.
#   2. The time from `docker run -d` returning until another running
#      container on the same network gets its first answer for the new
#      container's name (dns_wait from the observer's namespace, a query
#      to 127.0.0.11 every millisecond), RUNS containers in a row per
#      network: median and max, and which server gave the first answer.
#
#   tests/bench/dns_docker_bench.sh build/cbridge build/dns_wait build/dns_blast
#
# Layout, every name after the run (E2E_PREFIX, see tests/e2e/lib.sh):
#   E2E_NS     dockerd (`--dns 203.0.113.2`, for its resolver's forwards),
#              the plugin (DNS_UPSTREAMS 203.0.113.2, forwarding from this
#              namespace), both networks (10.201.1.0/24 cbridge,
#              10.201.2.0/24 bridge), PREFIXh 203.0.113.1/30;
#   PREFIXout  the upstream: dnsmasq at 203.0.113.2, *.hit.test is
#              192.0.2.2 (TTL 600), nothing else is known (REFUSED).
#   The containers: PREFIXcbc and PREFIXbrc (the load clients and
#   dns_wait run in their namespaces), PREFIXcbt and PREFIXbrt (the aliases), the new
#   ones PREFIXcbwI and PREFIXbrwI.
# The plugin's DNS_TTL is 300 (dockerd's resolver answers with 600): the
# TTL of an answer tells which server made it.  Its counters (`cbridge
# dns-stats --json`) must move by the replies the load client got on
# cbridge's side (either client), and the upstream's (dnsmasq, SIGUSR1)
# by those dockerd forwarded: when they do not, the figures are not what
# they say, and the run fails after printing them.  A missed target does
# not fail the run.
#
# For part 1, both servers (every thread) run on CPU 1, the load client
# and the upstream on CPU 0 (taskset); rows interleaved, ROUNDS rounds,
# medians and ranges.  A fresh source port per forwarded query makes a
# conntrack entry each; UDP conntrack timeouts are 2 s in our namespaces,
# as in tests/bench/dns_bench.sh (tests/bench/lib.sh says why).
#
# Environment: DNS_DOCKER_SECONDS (4, per load client run),
# DNS_DOCKER_ROUNDS (3), DNS_DOCKER_NAMES (10), DNS_DOCKER_RUNS (10),
# DNS_DOCKER_LIMIT (whole run, 400 s), and those of tests/e2e/run.sh
# (DOCKERD_EXTRA_ARGS, E2E_DOCKER).
set -eu -o pipefail

# shellcheck source=tests/e2e/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../e2e/lib.sh"
# shellcheck source=tests/bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if [ $# -ne 3 ]; then
	echo "usage: $0 path/to/cbridge path/to/dns_wait path/to/dns_blast" >&2
	exit 2
fi
e2e_need_root
bin=$(readlink -f "$1")
wait_bin=$(readlink -f "$2")
blast_bin=$(readlink -f "$3")
bench_need_built "$bin" "$wait_bin" "$blast_bin"
bench_need_tools dnsperf dnsmasq taskset nsenter ip awk jq
if [ "$(nproc)" -lt 2 ]; then
	echo "$0: needs 2 CPUs (servers on CPU 1, the load client on CPU 0)" >&2
	exit 77
fi
secs=${DNS_DOCKER_SECONDS:-4}
rounds=${DNS_DOCKER_ROUNDS:-3}
names=${DNS_DOCKER_NAMES:-10}
runs=${DNS_DOCKER_RUNS:-10}
limit=${DNS_DOCKER_LIMIT:-400}

UP_HOST=203.0.113.1
UP_IP=203.0.113.2
CB_TTL=300
DNSPERF_ARGS=(-c 4 -q 200 -t 2)
BLAST_ARGS=(-w 200 -t 2)

pids=()
watchdog=

# The plugin's upstream is the test's, never the machine's resolver; so is
# dockerd's (--dns), which its resolver forwards to.
E2E_PLUGIN_SETTINGS="LOG_LEVEL=warn DNS_UPSTREAMS=$UP_IP DNS_TTL=$CB_TTL"
DOCKERD_EXTRA_ARGS="${DOCKERD_EXTRA_ARGS:-} --dns $UP_IP"
e2e_init >/dev/null
trap 'rc=$?; set +e; bench_stop; (exit $rc); e2e_cleanup' EXIT
trap 'exit 129' HUP
trap 'exit 141' PIPE
# The whole run within DNS_DOCKER_LIMIT seconds.
bench_watchdog "$limit"
T=$E2E_TMP
OUT=${E2E_PREFIX}out

# ------------------------------------------------------------ the upstream

e2e_make_ns
bench_conntrack_short ip netns exec "$E2E_NS"
bench_upstream "$OUT" "$UP_HOST" "$UP_IP"

ip netns exec "$OUT" taskset -c 0 dnsmasq -k -C /dev/null --user=root \
	--bind-interfaces --no-resolv --no-hosts --local-ttl=600 \
	--listen-address="$UP_IP" --pid-file= --log-facility="$T/up.log" \
	--address=/hit.test/192.0.2.2 >"$T/up.out" 2>&1 &
up_pid=$!
pids+=("$up_pid")
bench_wait_udp "$OUT" "$UP_IP"

# up_answered: the upstream's "queries answered locally", fresh (SIGUSR1
# makes dnsmasq log its counters).
up_answered() {
	bench_usr1_dump "$up_pid" "$T/up.log" 'queries answered locally'
	awk '/queries answered locally/ { v = $NF } END { print v + 0 }' "$T/up.log"
}

# --------------------------------------------------- dockerd, the plugin

e2e_start_dockerd >"$T/dockerd-start.log" 2>&1 || {
	cat "$T/dockerd-start.log" >&2
	exit 1
}
e2e_plugin_install "$bin" >"$T/plugin-install.log" 2>&1 || {
	cat "$T/plugin-install.log" >&2
	exit 1
}
e2e_build_image >/dev/null
sock=/run/docker/plugins/$(dk plugin inspect -f '{{.Id}}' "$E2E_PLUGIN")/cbridge.sock
cb_pid=$(e2e_plugin_pid)
dk_pid=$(cat "$T/dockerd.pid")
[ -n "$cb_pid" ] || {
	echo "$0: the plugin does not run" >&2
	exit 1
}

e2e_net_create "${E2E_PREFIX}cb" --subnet 10.201.1.0/24 || {
	echo "$0: cbridge network: $E2E_OUT" >&2
	exit 1
}
e2e_net_create "${E2E_PREFIX}br" -d bridge --subnet 10.201.2.0/24 || {
	echo "$0: bridge network: $E2E_OUT" >&2
	exit 1
}
aliases=()
for i in $(seq 0 $((names - 1))); do
	aliases+=(--network-alias "dnsdk-t$i")
done
for k in cb br; do
	dk run -d --name "${E2E_PREFIX}${k}c" --network "${E2E_PREFIX}$k" \
		"$E2E_IMAGE" sleep 1d >/dev/null
	dk run -d --name "${E2E_PREFIX}${k}t" --network "${E2E_PREFIX}$k" \
		"${aliases[@]}" "$E2E_IMAGE" sleep 1d >/dev/null
done
cb_cpid=$(dk inspect -f '{{.State.Pid}}' "${E2E_PREFIX}cbc")
br_cpid=$(dk inspect -f '{{.State.Pid}}' "${E2E_PREFIX}brc")
bench_conntrack_short nsenter "--net=/proc/$cb_cpid/ns/net"
bench_conntrack_short nsenter "--net=/proc/$br_cpid/ns/net"
cb_t_ip=$(dk inspect -f "{{(index .NetworkSettings.Networks \"${E2E_PREFIX}cb\").IPAddress}}" "${E2E_PREFIX}cbt")
br_t_ip=$(dk inspect -f "{{(index .NetworkSettings.Networks \"${E2E_PREFIX}br\").IPAddress}}" "${E2E_PREFIX}brt")

# Query files, the same for both servers.
for i in $(seq 0 $((names - 1))); do
	echo "dnsdk-t$i A"
done >"$T/names.txt"
for i in $(seq 0 $((names - 1))); do
	echo "h$i.hit.test A"
done >"$T/ext.txt"

# cb_counters: "QUERIES ASKED ANSWERED" from cbridge's dns-stats, summed
# over the sandboxes: the queries, and the ones it asked of dockerd's
# resolver and dockerd answered (Intercept; -1 when dns-stats has no such
# counters).
cb_counters() {
	"$bin" dns-stats --socket "$sock" --json |
		jq -r '[([.Sandboxes[] | .QueriesUdp + .QueriesTcp] | add // 0),
			([.Sandboxes[] | .Intercept.DockerAsked // empty] |
				if length == 0 then -1 else add end),
			([.Sandboxes[] | .Intercept.DockerAnswered // empty] |
				if length == 0 then -1 else add end)] | @tsv'
}

# cpu_ticks: "BUSY0 IDLE0 BUSY1 IDLE1" clock ticks of CPU 0 (the
# client's) and CPU 1 (the servers'), whoever used them (the softirqs of
# the packets each side sends, which the kernel may not count in the
# sender's own time; other processes).
cpu_ticks() {
	awk '$1 == "cpu0" { b0 = $2 + $3 + $4 + $7 + $8 + $9; i0 = $5 + $6 }
		$1 == "cpu1" { b1 = $2 + $3 + $4 + $7 + $8 + $9; i1 = $5 + $6 }
		END { print b0, i0, b1, i1 }' /proc/stat
}

# busy_pct B0 I0 B1 I1: the busy share of the ticks between two counts.
busy_pct() {
	awk -v b="$(($3 - $1))" -v i="$(($4 - $2))" \
		'BEGIN { printf "%.0f", (b + i > 0 ? b * 100 / (b + i) : 0) }'
}

# num S: S, or 0 when S is empty.
num() {
	echo "${1:-0}"
}

# client_field CLIENT FILE KEY: qps, sent, completed, noerror or lat
# (average, seconds) from CLIENT's (dnsperf, blast) report FILE.
client_field() {
	if [ "$1" = dnsperf ]; then
		bench_dnsperf_field "$2" "$3"
		return
	fi
	case $3 in
	completed) bench_blast_field "$2" answered ;;
	lat) awk -v ms="$(bench_blast_field "$2" latency_ms)" 'BEGIN { print ms / 1e3 }' ;;
	*) bench_blast_field "$2" "$3" ;;
	esac
}

# in_ct KIND CMD...: CMD in KIND's (cb, br) client container's namespace.
in_ct() {
	local k=$1
	shift
	if [ "$k" = cb ]; then
		nsenter "--net=/proc/$cb_cpid/ns/net" "$@"
	else
		nsenter "--net=/proc/$br_cpid/ns/net" "$@"
	fi
}

# answer_of KIND NAME: "ADDRESS TTL" of the first A record of the answer
# to NAME through 127.0.0.11 in KIND's client (dns_wait's first answer).
answer_of() {
	in_ct "$1" timeout 10 "$wait_bin" -t 5 "$2" 127.0.0.11 |
		sed -n 's/.* addr=\([^ ]*\) ttl=\([0-9]*\).*/\1 \2/p'
}

# ----------------------------------------- part 1: dnsperf, dns_blast

# measure CLIENT KIND QUERIES: one run of CLIENT (dnsperf, or blast:
# dns_blast) in KIND's client on CPU 0; its report goes to
# $T/KIND.QUERIES.N.CLIENT, and "qps sent completed noerror serve_ticks
# other_ticks cb_queries up_answered client_cpu% latency_s cpu0_busy%
# cpu1_busy%" is appended to $T/CLIENT.KIND.QUERIES.rows (serve: the
# plugin for cb, dockerd for br; other: the other one).
measure() {
	local c=$1 k=$2 qf=$3 rows=$T/$1.$2.$3.rows f n=0 serve other s0 s1
	local o0 o1 q0 q1 u0 u1 real user sys b00 i00 b10 i10 b01 i01 b11 i11
	[ -f "$rows" ] && n=$(wc -l <"$rows")
	f=$T/$k.$qf.$((n + 1)).$c
	if [ "$k" = cb ]; then
		serve=$cb_pid other=$dk_pid
	else
		serve=$dk_pid other=$cb_pid
	fi
	read -r q0 _ _ <<<"$(cb_counters)"
	u0=$(up_answered)
	s0=$(bench_cpu_ticks "$serve")
	o0=$(bench_cpu_ticks "$other")
	read -r b00 i00 b10 i10 <<<"$(cpu_ticks)"
	TIMEFORMAT='%R %U %S'
	if [ "$c" = dnsperf ]; then
		{ time in_ct "$k" taskset -c 0 dnsperf -s 127.0.0.11 -p 53 \
			-d "$T/$qf.txt" -l "$secs" "${DNSPERF_ARGS[@]}" >"$f" 2>&1; } \
			2>"$T/time"
	else
		# Its exit status 1 (nothing answered) shows in the checks.
		{ time in_ct "$k" taskset -c 0 "$blast_bin" "${BLAST_ARGS[@]}" \
			-l "$secs" -f "$T/$qf.txt" 127.0.0.11 >"$f" 2>&1 || true; } \
			2>"$T/time"
	fi
	read -r b01 i01 b11 i11 <<<"$(cpu_ticks)"
	s1=$(bench_cpu_ticks "$serve")
	o1=$(bench_cpu_ticks "$other")
	u1=$(up_answered)
	read -r q1 _ _ <<<"$(cb_counters)"
	read -r real user sys <"$T/time"
	# A field the report lacks (a client that failed) is 0, in its place.
	echo "$(num "$(client_field "$c" "$f" qps)") $(num "$(client_field "$c" "$f" sent)")" \
		"$(num "$(client_field "$c" "$f" completed)") $(num "$(client_field "$c" "$f" noerror)")" \
		"$((s1 - s0)) $((o1 - o0)) $((q1 - q0)) $((u1 - u0))" \
		"$(awk -v r="$real" -v u="$user" -v s="$sys" 'BEGIN { printf "%.0f", (u + s) * 100 / r }')" \
		"$(num "$(client_field "$c" "$f" lat)")" \
		"$(busy_pct "$b00" "$i00" "$b01" "$i01")" \
		"$(busy_pct "$b10" "$i10" "$b11" "$i11")" \
		>>"$rows"
}

# Every query answered NOERROR through 127.0.0.11 in each client (also
# the warm-up of cbridge's cache).
for k in cb br; do
	bench_all_answered "$k" 127.0.0.11 "$T/names.txt" in_ct "$k"
	bench_all_answered "$k" 127.0.0.11 "$T/ext.txt" in_ct "$k"
done
read -r cb_addr cb_ttl <<<"$(answer_of cb dnsdk-t0)"
read -r br_addr br_ttl <<<"$(answer_of br dnsdk-t0)"

# Servers on CPU 1 for part 1 (every thread; the ones they start later
# inherit it), back on every CPU afterwards.
all_cpus=0-$(($(nproc) - 1))
taskset -a -p -c 1 "$dk_pid" >/dev/null
taskset -a -p -c 1 "$cb_pid" >/dev/null
for r in $(seq "$rounds"); do
	for qf in names ext; do
		for c in dnsperf blast; do
			measure "$c" cb "$qf"
			measure "$c" br "$qf"
		done
	done
done
taskset -a -p -c "$all_cpus" "$dk_pid" >/dev/null
taskset -a -p -c "$all_cpus" "$cb_pid" >/dev/null

# summary CLIENT KIND QUERIES: "qps qps_lo qps_hi us us_lo us_hi lost%
# other_us cb_per_reply up_per_reply client% latency_ms server_busy%
# cpu0_busy% cpu1_busy%": medians and ranges over the rounds of qps and
# server CPU per reply; lost, the other server's CPU, the counters per
# reply, the client's CPU and the CPUs' busy shares over all rounds
# together.
summary() {
	awk -v hz="$(getconf CLK_TCK)" '
	function med(a, n,   j, k, t) {
		for (j = 2; j <= n; j++)
			for (k = j; k > 1 && a[k - 1] > a[k]; k--) {
				t = a[k]; a[k] = a[k - 1]; a[k - 1] = t
			}
		return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
	}
	{
		q[NR] = $1; us[NR] = $3 ? $5 * 1e6 / hz / $3 : 0; lat[NR] = $10 * 1e3
		busy[NR] = us[NR] * $1 / 1e4
		sent += $2; done += $3; st += $5; ot += $6; cq += $7; up += $8
		cl += $9; c0 += $11; c1 += $12
	}
	END {
		mq = med(q, NR); lq = q[1]; hq = q[NR]
		mu = med(us, NR); lu = us[1]; hu = us[NR]
		printf "%.0f %.0f %.0f %.2f %.2f %.2f %.2f %.2f %.3f %.3f %.0f %.3f %.0f %.0f %.0f\n",
		    mq, lq, hq, mu, lu, hu, sent ? (sent - done) * 100 / sent : 100,
		    done ? ot * 1e6 / hz / done : 0, done ? cq / done : 0,
		    done ? up / done : 0, cl / NR, med(lat, NR), med(busy, NR), c0 / NR,
		    c1 / NR
	}' "$T/$1.$2.$3.rows"
}

# ------------------------------------------- part 2: first answer

# first_answer KIND I: a new container PREFIX{KIND}wI on KIND's network,
# dns_wait asking for its name in KIND's client from before `docker run
# -d` until the first answer (on cbridge's network: until the first one
# from cbridge's own names, TTL CB_TTL).  Appends "ms_after_return run_ms
# ttl asked answered addr_ok ms_after_start own_ms_after_return" to
# $T/KIND.wait (asked and answered: cbridge's Intercept counters, 0 for
# br, -1 without them; own: -1 for br), or the failure to $T/KIND.werr.
first_answer() {
	local k=$1 name=${E2E_PREFIX}${1}w$2 out=$T/wait.out wp t0 t1 line
	local a0=0 d0=0 a1=0 d1=0 first ip ttl own=-1 want=()
	[ "$k" = br ] || {
		read -r _ a0 d0 <<<"$(cb_counters)"
		want=(-T "$CB_TTL")
	}
	in_ct "$k" timeout 20 "$wait_bin" -i 1 -t 10 "${want[@]}" "$name" \
		127.0.0.11 >"$out" 2>&1 &
	wp=$!
	for _ in $(seq 500); do
		grep -q '^started_ns=' "$out" && break
		sleep 0.01
	done
	t0=${EPOCHREALTIME/./}
	if ! dk run -d --name "$name" --network "${E2E_PREFIX}$k" "$E2E_IMAGE" \
		sleep 1d >"$T/run.out" 2>&1; then
		t1=${EPOCHREALTIME/./}
		kill "$wp" 2>/dev/null || true
		wait "$wp" 2>/dev/null || true
		echo "docker run: $(head -n 1 "$T/run.out")" >>"$T/$k.werr"
		return 0
	fi
	t1=${EPOCHREALTIME/./}
	wait "$wp" || true
	[ "$k" = br ] || read -r _ a1 d1 <<<"$(cb_counters)"
	line=$(grep '^first_ns=' "$out" || true)
	first=$(sed -n 's/^first_ns=\([0-9]*\).*/\1/p' <<<"$line")
	if [ -z "$first" ] || [ "$first" = 0 ]; then
		echo "no answer: ${line:-$(head -n 2 "$out")}" >>"$T/$k.werr"
		return 0
	fi
	if [ "$k" = cb ]; then
		own=$(sed -n 's/.* match_ns=\([0-9]*\).*/\1/p' <<<"$line")
		if [ "${own:-0}" = 0 ]; then
			echo "cbridge's own names did not answer within 10 s: $line" >>"$T/$k.werr"
			return 0
		fi
	fi
	ip=$(dk inspect -f "{{(index .NetworkSettings.Networks \"${E2E_PREFIX}$k\").IPAddress}}" "$name")
	ttl=$(sed -n 's/.* ttl=\([0-9]*\).*/\1/p' <<<"$line")
	awk -v f="$first" -v t0="$t0" -v t1="$t1" -v ttl="$ttl" -v own="$own" \
		-v a=$((a0 < 0 ? -1 : a1 - a0)) -v d=$((d0 < 0 ? -1 : d1 - d0)) \
		-v ok="$([ "$(sed -n 's/.* addr=\([^ ]*\).*/\1/p' <<<"$line")" = "$ip" ] && echo 1 || echo 0)" \
		'BEGIN { printf "%.1f %.1f %s %d %d %d %.1f %.1f\n", f / 1e6 - t1 / 1e3,
		    (t1 - t0) / 1e3, ttl, a, d, ok, f / 1e6 - t0 / 1e3,
		    own < 0 ? -1 : own / 1e6 - t1 / 1e3 }' >>"$T/$k.wait"
}

for k in cb br; do
	: >"$T/$k.wait"
	: >"$T/$k.werr"
done
# One untimed container each first (first-use costs), then RUNS in a row,
# interleaved.
first_answer cb 0
first_answer br 0
for k in cb br; do
	: >"$T/$k.wait"
	: >"$T/$k.werr"
done
for i in $(seq "$runs"); do
	first_answer cb "$i"
	first_answer br "$i"
done
cb_stats=$("$bin" dns-stats --socket "$sock" --json)
# One call for the new containers (teardown would take one per container).
mapfile -t made < <(dk ps -aq --filter "name=${E2E_PREFIX}cbw" --filter "name=${E2E_PREFIX}brw")
[ ${#made[@]} -eq 0 ] || dk rm -f "${made[@]}" >/dev/null

# ------------------------------------------------------------ the report

ver=$(dk version --format '{{.Server.Version}}')
echo "127.0.0.11 in a container: cbridge (DNS_MODE $(jq -r '.Mode // "?"' <<<"$cb_stats")) vs dockerd $ver's resolver," \
	"dnsperf $(dnsperf -h 2>&1 | awk '/^Version/ { print $2 }' | head -n 1) ${DNSPERF_ARGS[*]} and dns_blast ${BLAST_ARGS[*]}," \
	"-l $secs from the container's namespace, $rounds rounds," \
	"kernel $(uname -r), $(nproc) CPUs (servers on CPU 1, the client on CPU 0)"
echo
echo "| server | query kind | client | qps (range) | µs CPU/query (range) | lost | latency ms | server busy (CPU 1 busy) | other server µs/q | client CPU (CPU 0 busy) | saturated | cbridge/dockerd | target ≥ 3× |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
bad=()
# saturated CPU0% CPU1% SERVER%: which side was saturated, 90% busy or
# more: the server's side when CPU 1 or the serving process alone was,
# the client's when CPU 0 was.
saturated() {
	awk -v c0="$1" -v c1="$2" -v sv="$3" 'BEGIN {
		s = c1 >= 90 || sv >= 90
		if (c0 >= 90 && s) print "both sides"
		else if (s) print "server"
		else if (c0 >= 90) print "client (CPU 0)"
		else print "neither" }'
}
for qf in names ext; do
	if [ "$qf" = names ]; then
		label="container name ($names aliases)"
	else
		label="external name, cached by cbridge ($names names)"
	fi
	for c in dnsperf blast; do
		read -r cq cql cqh cu cul cuh cl cother ccb cup ccl clat cbusy cc0 cc1 <<<"$(summary "$c" cb "$qf")"
		read -r dq dql dqh du dul duh dl dother dcb dup dcl dlat dbusy dc0 dc1 <<<"$(summary "$c" br "$qf")"
		cname=$([ "$c" = dnsperf ] && echo dnsperf || echo dns_blast)
		ratio=$(awk -v a="$cq" -v b="$dq" -v u="$cu" -v v="$du" 'BEGIN {
			printf "qps %.2f×, µs/q %.2f× (%.1f× less)", b ? a / b : 0,
			    v ? u / v : 0, u ? v / u : 0 }')
		verdict=$(awk -v a="$cq" -v b="$dq" -v u="$cu" -v v="$du" \
			-v c0="$cc0" -v c1="$cc1" -v sv="$cbusy" 'BEGIN {
			s = c1 >= 90 || sv >= 90
			why = s && c0 >= 90 ? " (both sides saturated)" : \
			    s ? "" : \
			    c0 >= 90 ? " (cbridge'"'"'s CPU 1 not saturated: CPU 0, the client'"'"'s, was)" : \
			    " (neither CPU saturated)"
			printf "qps %s, CPU %s", (a >= 3 * b ? "met" : "MISSED" why),
			    (u > 0 && v >= 3 * u ? "met" : "MISSED") }')
		printf '| cbridge | %s | %s | %s (%s–%s) | %s (%s–%s) | %s%% | %s | %s%% (%s%%) | dockerd %s | %s%% (%s%%) | %s | %s | %s |\n' \
			"$label" "$cname" "$cq" "$cql" "$cqh" "$cu" "$cul" "$cuh" "$cl" "$clat" "$cbusy" "$cc1" \
			"$cother" "$ccl" "$cc0" "$(saturated "$cc0" "$cc1" "$cbusy")" "$ratio" "$verdict"
		printf '| dockerd | %s | %s | %s (%s–%s) | %s (%s–%s) | %s%% | %s | %s%% (%s%%) | cbridge %s | %s%% (%s%%) | %s | | |\n' \
			"$label" "$cname" "$dq" "$dql" "$dqh" "$du" "$dul" "$duh" "$dl" "$dlat" "$dbusy" "$dc1" \
			"$dother" "$dcl" "$dc0" "$(saturated "$dc0" "$dc1" "$dbusy")"
		# Which side limited cbridge's figure, in words.
		awk -v q="$qf" -v c="$cname" -v c0="$cc0" -v c1="$cc1" -v busy="$cbusy" 'BEGIN {
			printf "%s, %s: on cbridge'"'"'s side CPU 0 (the client'"'"'s) was %d%% busy, CPU 1 %d%% (the plugin'"'"'s process %d%%): ", q, c, c0, c1, busy
			s = c1 >= 90 || busy >= 90
			if (c0 >= 90 && s) print "both saturated, the qps is what the pair allows"
			else if (s) print "the server saturated first: its qps is cbridge'"'"'s own limit here"
			else if (c0 >= 90) print "the client saturated first: cbridge'"'"'s qps is a lower bound"
			else print "neither saturated: latency bound, the qps is a lower bound" }' >>"$T/notes"
		# Who really answered: cbridge's counters per reply on its side
		# (about 1), not on dockerd's (0); the upstream per reply: 0 for
		# cbridge's cache, about 1 for dockerd's forwards of ext.
		echo "$qf, $cname: cbridge's counters moved $ccb per reply on its side, $dcb on dockerd's; the upstream answered $cup per reply on cbridge's side, $dup on dockerd's" >>"$T/notes"
		awk -v x="$ccb" 'BEGIN { exit !(x < 0.95 || x > 1.05) }' &&
			bad+=("$qf, $cname: cbridge's counters moved $ccb per reply on cbridge's side (not about 1): 127.0.0.11 was not answered by cbridge")
		awk -v x="$dcb" 'BEGIN { exit !(x > 0.05) }' &&
			bad+=("$qf, $cname: cbridge's counters moved $dcb per reply on dockerd's side (expected 0)")
		if [ "$qf" = ext ]; then
			awk -v x="$cup" 'BEGIN { exit !(x > 0.05) }' &&
				bad+=("ext, $cname: the upstream answered $cup per reply on cbridge's side: not served from cbridge's cache")
			awk -v x="$dup" 'BEGIN { exit !(x < 0.95 || x > 1.05) }' &&
				bad+=("ext, $cname: the upstream answered $dup per reply on dockerd's side (expected about 1, a forward each)")
		fi
		awk -v l="$cl" -v m="$dl" 'BEGIN { exit !(l > 1 || m > 1) }' &&
			bad+=("$qf, $cname: more than 1% lost (cbridge $cl%, dockerd $dl%): see the client's reports")
	done
done
echo
echo "qps, µs/q and latency (the client's average): medians of $rounds runs of $secs s (range:"
echo "lowest–highest); lost: over all runs. Both clients keep 200 queries outstanding, on"
echo "CPU 0: dnsperf ${DNSPERF_ARGS[*]}, and dns_blast ${BLAST_ARGS[*]} (one thread, sendmmsg and"
echo "recvmmsg in batches: less CPU per query than dnsperf, so that the server saturates"
echo "first); cbridge/dockerd and the target compare each client's rows with each other."
echo "µs CPU/query: user+system time of the serving process (cbridge: the plugin's process;"
echo "dockerd: the daemon, every thread) per reply; other server: the same for the other"
echo "process during these runs. server busy: µs/q × qps, the share of one CPU the serving"
echo "process used; CPU 1 busy: the servers' CPU as a whole (with the softirqs of the replies"
echo "it sends, which the kernel need not count in the process's time); client CPU: the"
echo "client's own, and how busy CPU 0 was (the softirqs of the queries it sends, the"
echo "upstream, anything else on the machine). saturated: the side that was 90% busy or"
echo "more on average (the server: CPU 1 or the serving process; the client: CPU 0)."
echo "Where only the client's CPU 0 saturated, the client was the bottleneck and the"
echo "server's qps is a lower bound (compare µs/q); where neither did, the two sides"
echo "waited for each other (wakeups, the window) and the qps is a lower bound too."
sed 's/^/- /' "$T/notes"
echo "- answers to dnsdk-t0: $cb_addr TTL $cb_ttl on the cbridge network, $br_addr TTL $br_ttl on the bridge network (cbridge answers with TTL $CB_TTL, dockerd with 600)"
[ "$cb_ttl" = "$CB_TTL" ] ||
	bad+=("dnsdk-t0 on the cbridge network answered with TTL ${cb_ttl:-none}, not cbridge's $CB_TTL")
[ "$cb_addr" = "$cb_t_ip" ] && [ "$br_addr" = "$br_t_ip" ] ||
	bad+=("dnsdk-t0 answered with ${cb_addr:-nothing} and ${br_addr:-nothing}, not the target containers' $cb_t_ip and $br_t_ip")

echo
echo "Time from \`docker run -d\` returning to the first answer for the new container's"
echo "name, asked every 1 ms from another container on the network via 127.0.0.11"
echo "($runs containers in a row per network; negative: answered before \`docker run\` returned;"
echo "cbridge's own names: the first answer with cbridge's TTL, after \`docker run\` returned)"
echo
echo "| network | n | median ms | max ms | median ms from \`docker run\` start | \`docker run -d\` median ms | first answer from | cbridge's own names: median, max ms |"
echo "|---|---|---|---|---|---|---|---|"
# column_median N FILE: the median of column N of FILE.
column_median() {
	awk -v c="$1" '{ print $c }' "$2" | sort -g | awk '{ v[NR] = $1 } END {
		printf "%.1f", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
for k in cb br; do
	n=$(grep -c . "$T/$k.wait" || true)
	if [ "$n" -eq 0 ]; then
		printf '| %s | 0 | | | | | %s | |\n' "$([ "$k" = cb ] && echo cbridge || echo bridge)" \
			"no answer: $(head -n 1 "$T/$k.werr")"
		bad+=("$k: no container's name was answered")
		continue
	fi
	read -r med max <<<"$(awk '{ print $1 }' "$T/$k.wait" | sort -g | awk '{ v[NR] = $1 } END {
		printf "%.1f %.1f", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2, v[NR] }')"
	run=$(column_median 2 "$T/$k.wait")
	from_start=$(column_median 7 "$T/$k.wait")
	from=$(awk -v cbttl="$CB_TTL" '{ if ($3 == cbttl) own++; else dk++
			if ($4 < 0) none = 1; a += $4; d += $5 }
		END { printf "cbridge'"'"'s names %d, dockerd %d (TTL)", own, dk
		      if (!none) printf "; meanwhile cbridge asked dockerd %d times, it answered %d", a, d }' "$T/$k.wait")
	own=$(awk '{ print $8 }' "$T/$k.wait" | sort -g | awk '{ v[NR] = $1 } END {
		printf "%.1f, %.1f", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2, v[NR] }')
	if [ "$k" = br ]; then
		from="dockerd (built-in resolver)"
		own=
	fi
	printf '| %s | %d | %s | %s | %s | %s | %s | %s |\n' \
		"$([ "$k" = cb ] && echo cbridge || echo bridge)" "$n" "$med" "$max" \
		"$from_start" "$run" "$from" "$own"
	if [ -s "$T/$k.werr" ]; then
		bad+=("$k: $(grep -c . "$T/$k.werr") containers without an answer: $(head -n 1 "$T/$k.werr")")
	fi
	awk '$6 != 1 { bad++ } END { exit !bad }' "$T/$k.wait" &&
		bad+=("$k: an answer with another address than the new container's")
	# A first answer with dockerd's TTL on cbridge's side came through
	# cbridge's ask of dockerd: its counter must show it.
	[ "$k" = cb ] && awk -v cbttl="$CB_TTL" '$3 != cbttl && $4 >= 0 && $5 < 1 { bad++ }
		END { exit !bad }' "$T/$k.wait" &&
		bad+=("cb: a first answer with dockerd's TTL while cbridge's DockerAnswered did not move")
done
if [ "$(jq -r '[.Sandboxes[] | .Intercept.DockerAsked // empty] | length' <<<"$cb_stats")" = 0 ]; then
	echo "- cbridge's dns-stats has no Intercept counters: which server answered comes from the TTL only"
fi
for f in "$T"/*.dnsperf; do
	[ -f "$f" ] || continue
	d=$(bench_dnsperf_field "$f" completed)
	e=$(bench_dnsperf_field "$f" noerror)
	[ "$d" = "$e" ] || bad+=("$(basename "$f"): $d replies, only $e NOERROR")
done
for f in "$T"/*.blast; do
	[ -f "$f" ] || continue
	d=$(bench_blast_field "$f" answered)
	e=$(bench_blast_field "$f" noerror)
	if [ -z "$d" ] || [ "$d" = 0 ]; then
		bad+=("$(basename "$f"): dns_blast got no answer: $(head -n 1 "$f")")
	elif [ "$d" != "$e" ]; then
		bad+=("$(basename "$f"): $d replies, only $e NOERROR")
	fi
done

status=0
if [ ${#bad[@]} -gt 0 ]; then
	echo
	echo "NOT PLAUSIBLE, the figures above do not measure what they say:"
	printf -- '- %s\n' "${bad[@]}"
	status=1
fi

set +e
bench_stop
trap - EXIT INT TERM
e2e_teardown
host=$(e2e_check_host_unchanged)
grep -q '^not ok' <<<"$host" && {
	echo "$host"
	status=1
}
exit "$status"
