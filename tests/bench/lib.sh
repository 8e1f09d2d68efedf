# shellcheck shell=bash
# What the DNS benchmarks (dns_bench.sh, dns_docker_bench.sh,
# dns_latency.sh) share, sourced after tests/e2e/lib.sh or
# tests/integration/lib.sh: one copy of the setup and of the ways they
# take their figures, so that the tables are comparable.
#
# The functions use the caller's variables where named: pids (the
# background processes to stop), watchdog, T (the run's directory), and
# for those built on tests/e2e/lib.sh E2E_NS and E2E_PREFIX.

# bench_need_built FILE...: exit 2 unless every FILE is an executable.
bench_need_built() {
	local b
	for b in "$@"; do
		[ -x "$b" ] || {
			echo "$0: $b is not built (make bench)" >&2
			exit 2
		}
	done
}

# bench_need_tools TOOL...: skip the run (77) unless every TOOL is there.
bench_need_tools() {
	local t
	for t in "$@"; do
		if ! command -v "$t" >/dev/null; then
			echo "SKIP: $t is not installed (scripts/deps.sh bench)"
			exit 77
		fi
	done
}

# bench_watchdog SECONDS: the whole run within SECONDS, then SIGTERM to
# this shell, whose EXIT trap cleans up; watchdog gets the watchdog's pid
# (the cleanup kills it, and its sleep goes with it: nothing is left
# behind).
bench_watchdog() {
	(
		trap 'kill "$s" 2>/dev/null; exit 0' TERM
		sleep "$1" &
		s=$!
		wait "$s"
		echo "$0: over $1 s, stopping" >&2
		kill -TERM $$
	) &
	watchdog=$!
}

# bench_conntrack_short CMD...: UDP conntrack timeouts of 2 s in the
# namespace CMD enters (`ip netns exec NS`, `nsenter --net=...`).  A
# fresh source port per forwarded query (cbridge's and Docker's) makes
# one conntrack entry each wherever NAT rules are loaded (E2E_NS once
# dockerd runs, a container's namespace for 127.0.0.11).  At 10-40 k
# misses per second, the default 30 s lifetime fills the kernel's table
# (nf_conntrack_max, counted across namespaces here) within the run, and
# new flows are dropped: the rows would measure the table, not the
# resolvers.  Only our namespaces; no failure when conntrack is not
# loaded.
bench_conntrack_short() {
	"$@" sysctl -qw net.netfilter.nf_conntrack_udp_timeout=2 \
		net.netfilter.nf_conntrack_udp_timeout_stream=2 2>/dev/null || true
}

# bench_upstream OUT HOST_IP UP_IP: the namespace OUT (lo up), joined to
# E2E_NS by the veth pair PREFIXh (HOST_IP/30, in E2E_NS) and PREFIXo
# (UP_IP/30, in OUT), for the test's own upstream.  bench_stop removes
# the pair.
bench_upstream() {
	ip netns add "$1"
	ip -n "$1" link set lo up
	ip -n "$E2E_NS" link add "${E2E_PREFIX}h" type veth peer name \
		"${E2E_PREFIX}o" netns "$1"
	ip -n "$E2E_NS" addr add "$2/30" dev "${E2E_PREFIX}h"
	ip -n "$1" addr add "$3/30" dev "${E2E_PREFIX}o"
	ip -n "$E2E_NS" link set "${E2E_PREFIX}h" up
	ip -n "$1" link set "${E2E_PREFIX}o" up
}

# bench_stop: the watchdog, our processes and our veth (tests/e2e/lib.sh's
# teardown reports links named after the run that are still there, as
# the plugin's leftovers).
bench_stop() {
	local p
	[ -z "${watchdog:-}" ] || kill "$watchdog" 2>/dev/null || true
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	for p in "${pids[@]}"; do
		wait "$p" 2>/dev/null || true
	done
	pids=()
	[ -z "$E2E_NS" ] || ip -n "$E2E_NS" link delete "${E2E_PREFIX}h" 2>/dev/null || true
}

# bench_wait_udp NS IP: until something listens on IP:53 in NS (5 s).
bench_wait_udp() {
	for _ in $(seq 100); do
		ip netns exec "$1" ss -Hlnu "src $2:53" | grep -q . && return 0
		sleep 0.05
	done
	echo "$0: nothing listens on $2:53" >&2
	return 1
}

# bench_usr1_dump PID FILE REGEX: SIGUSR1 to PID, which then writes its
# counters to FILE, ending with a line that matches REGEX; returns once
# that line is there (2 s at most), so that the counters read next are
# fresh.
bench_usr1_dump() {
	local n0
	n0=$(grep -c -- "$3" "$2" || true)
	kill -USR1 "$1"
	for _ in $(seq 100); do
		[ "$(grep -c -- "$3" "$2" || true)" -gt "$n0" ] && break
		sleep 0.02
	done
}

# bench_all_answered LABEL ADDR FILE CMD...: dnsperf, run through CMD (a
# command that enters the client's namespace), sends each query of FILE
# once to ADDR:53: 0 when every one got a NOERROR answer, else its report
# on stderr and 1.
bench_all_answered() {
	local label=$1 addr=$2 file=$3 f=$T/check.dnsperf n
	shift 3
	n=$(wc -l <"$file")
	"$@" dnsperf -s "$addr" -p 53 -d "$file" -n 1 -t 2 >"$f" 2>&1 || true
	if [ "$(bench_dnsperf_field "$f" completed)" != "$n" ] ||
		[ "$(bench_dnsperf_field "$f" noerror)" != "$n" ]; then
		echo "$0: $label: not every query of $file got a NOERROR answer:" >&2
		sed 's/^/  /' "$f" >&2
		return 1
	fi
}

# bench_cpu_ticks PID: utime + stime of every thread, in clock ticks.
bench_cpu_ticks() {
	sed 's/^.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'
}

# bench_dnsperf_field FILE KEY: a number from dnsperf's report.
bench_dnsperf_field() {
	case $2 in
	sent) awk '/Queries sent:/ { print $3 }' "$1" ;;
	completed) awk '/Queries completed:/ { print $3 }' "$1" ;;
	lost) awk '/Queries lost:/ { print $3 }' "$1" ;;
	qps) awk '/Queries per second:/ { print $4 }' "$1" ;;
	lat) awk '/Average Latency/ { print $4 }' "$1" ;;
	noerror) awk '/Response codes:/ { for (i = 3; i <= NF; i++) if ($i == "NOERROR") { gsub(/,/, "", $(i + 1)); print $(i + 1) } }' "$1" ;;
	esac
}

# bench_blast_field FILE KEY: a number from dns_blast's line (KEY=N).
bench_blast_field() {
	awk -v k="$2" '{ for (i = 1; i <= NF; i++) if (index($i, k "=") == 1) print substr($i, length(k) + 2) }' "$1"
}
