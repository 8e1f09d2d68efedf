# shellcheck shell=sh
# Shared by the namespace test scripts (sourced, POSIX sh).

# itest_bin USAGE ARGS...: the one argument, the test binary, made
# absolute in $bin; exit 2 on misuse, 77 (skip) when not root.
itest_bin() {
	if [ "$#" -ne 2 ]; then
		echo "usage: $0 $1" >&2
		exit 2
	fi
	bin=$2
	case $bin in
	/*) ;;
	*) bin=$(pwd)/$bin ;;
	esac
	if [ ! -x "$bin" ]; then
		echo "$0: $bin is not an executable" >&2
		exit 2
	fi
	if [ "$(id -u)" -ne 0 ]; then
		echo "$0: skipped, needs root" >&2
		exit 77
	fi
}

# itest_br_netfilter: loads br_netfilter if it is not (the daemon sets
# the bridge-nf sysctls and fails without them); exit 1 if it cannot.
itest_br_netfilter() {
	"$(dirname "$0")/../br_netfilter.sh" || exit 1
}

# itest_netns PREFIX: makes a network namespace PREFIX-<pid>-<random> (a
# name no one else uses: `ip netns add` fails rather than reuse one), sets
# $ns to it and removes it on exit, also on failure or a signal.
itest_netns() {
	ns=
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		cand=$1-$$-$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')
		if ! ip netns list | grep -q "^$cand\\b" &&
		    ip netns add "$cand" 2>/dev/null; then
			ns=$cand
			break
		fi
	done
	if [ -z "$ns" ]; then
		echo "$0: cannot create a network namespace" >&2
		exit 1
	fi
	trap 'ip netns delete "$ns" 2>/dev/null || true' EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
}

# TAP lines, counted in $passed and $failed (the caller sets both to 0).
ok() { passed=$((passed + 1)); echo "ok $((passed + failed)) - $*"; }
not_ok() { failed=$((failed + 1)); echo "not ok $((passed + failed)) - $*"; }
# check DESCRIPTION COMMAND...: ok when COMMAND succeeds.
check() {
	_d=$1
	shift
	if "$@"; then ok "$_d"; else not_ok "$_d"; fi
}

# For scripts that run the daemon ($pid, serving $sock; $tmp a scratch
# directory):
# wait_daemon LOG: until $sock exists (about 10 s); the end of LOG when
# the daemon dies or never listens.
# shellcheck disable=SC2154
wait_daemon() {
	for _ in $(seq 200); do
		[ -S "$sock" ] && return 0
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	echo "daemon did not start:"; tail -20 "$1"
	return 1
}

# stop: SIGTERM, then its exit status.
stop() {
	kill -TERM "$pid"
	_rc=0
	wait "$pid" || _rc=$?
	pid=
	return $_rc
}

# no_sanitizer_report LOG...: none of the daemon's logs holds a sanitizer
# report (ASan, LeakSanitizer, UBSan's "runtime error:") or the like, and
# each of them could be read and holds something (a daemon that ran has
# logged at least its start; what could not be read never passes).
# Prints what it found, as "# " lines.
no_sanitizer_report() {
	if [ "$#" -eq 0 ]; then
		echo "# no log to scan"
		return 1
	fi
	for _f in "$@"; do
		if [ ! -f "$_f" ] || [ ! -r "$_f" ] || [ ! -s "$_f" ]; then
			echo "# $_f: no log, or empty, or unreadable: nothing to scan"
			return 1
		fi
	done
	_rc=0
	_hits=$(grep -HE 'AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|ThreadSanitizer|runtime error:' "$@") || _rc=$?
	if [ "$_rc" -eq 1 ]; then
		return 0
	fi
	echo "$_hits" | head -n 20 | sed 's/^/# /'
	return 1
}

# call ROUTE BODY: POSTs BODY to the daemon; prints "STATUS BODY".
# shellcheck disable=SC2154
call() {
	curl -sS --max-time 10 --unix-socket "$sock" -o "$tmp/out" \
	    -w '%{http_code}' -XPOST "http://plugin/$1" --data-binary "$2" \
	    >"$tmp/code" || echo 000 >"$tmp/code"
	echo "$(cat "$tmp/code") $(cat "$tmp/out")"
}

# teardown_procs PID...: each process's own children first (curl, sleep,
# by their parent), then the process, and waits for them all.
teardown_procs() {
	for _p in "$@"; do
		pkill -TERM -P "$_p" 2>/dev/null || true
		kill "$_p" 2>/dev/null || true
	done
	for _p in "$@"; do
		wait "$_p" 2>/dev/null || true
	done
}
