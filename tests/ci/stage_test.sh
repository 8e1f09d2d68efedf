#!/bin/bash
# scripts/stage.sh, the time limit of every test stage: a stage that ends
# in time keeps its exit status; one that runs over its limit, or whose
# wrapper is stopped, has its step printed, its TERM trap run (cleanup)
# and its processes gone, KILL included for those that ignore TERM, and
# fails; processes a stage leaves behind are stopped.  No root; under 10 s.
#
#   tests/ci/stage_test.sh
set -u
stage=$(cd "$(dirname "$0")/../.." && pwd)/scripts/stage.sh
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cbstage.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
n=0
failed=0

check() {
	local desc=$1
	shift
	n=$((n + 1))
	if "$@"; then
		echo "ok $n - $desc"
	else
		failed=$((failed + 1))
		echo "not ok $n - $desc"
		sed 's/^/#   /' "$tmp/out"
	fi
}

# run ARGS...: stage.sh ARGS, its output in $tmp/out, its status in $rc.
run() {
	STAGE_SUMMARY=$tmp/summary "$stage" "$@" >"$tmp/out" 2>&1
	rc=$?
}

has() { grep -qF -- "$1" "$tmp/out"; }
# gone PIDFILE: that process has ended (a zombie has).
gone() {
	local s
	s=$(cat "/proc/$(cat "$1")/stat" 2>/dev/null) || return 0
	s=${s##*) }
	[ "${s%% *}" = Z ]
}

# A stage's command: records its step, starts a child that would
# outlive the limit (its pid in $tmp/child) and cleans up on TERM.
# shellcheck disable=SC2016 # (expanded by that command)
slow='echo "scenario x1" >"$STAGE_STEP"
trap "echo cleaned >'"$tmp/cleaned"'; exit 143" TERM
sleep 30 & echo $! >'"$tmp/child"'
wait'

run ok 10 true
check "in time, exit 0: kept" test "$rc" = 0
check "the duration line: stage ok: N s, exit 0" \
	grep -qE '^stage ok: [0-9]+ s, exit 0$' "$tmp/out"
run three 10 sh -c 'exit 3'
check "in time, exit 3: kept" test "$rc" = 3
# The ignored signals' mask, read by grep itself: bits 2 and 3 (INT,
# QUIT) are in its last hex digit.
run sigs 10 grep -qE '^SigIgn:\s+[0-9a-f]*[0189]$' /proc/self/status
check "the command starts with INT and QUIT not ignored" test "$rc" = 0

SECONDS=0
run -g 5 slow 1 bash -c "$slow"
t=$SECONDS
check "over the limit: exit 124" test "$rc" = 124
check "over the limit: a clear message" has "stage slow: FAILED: still running after its limit of 1 s"
check "over the limit: the step is printed" has "the step it was at: scenario x1"
check "over the limit: its TERM trap ran" test -s "$tmp/cleaned"
check "over the limit: its child is gone" gone "$tmp/child"
check "over the limit: stopped once the trap was done, not after the grace ($t s)" test "$t" -le 3

rm -f "$tmp/child"
run -g 1 stubborn 1 bash -c "trap '' TERM; sleep 30 & echo \$! >$tmp/child; wait; echo done"
check "TERM ignored: KILL after the grace" has "still running after 1 s, sending KILL"
check "TERM ignored: exit 124" test "$rc" = 124
check "TERM ignored: its child is gone" gone "$tmp/child"

rm -f "$tmp/child"
run left 10 bash -c "sleep 30 & echo \$! >$tmp/child"
check "a process left behind: reported" has "the command ended but left processes running"
check "a process left behind: gone" gone "$tmp/child"
check "a process left behind: exit status kept" test "$rc" = 0

rm -f "$tmp/child" "$tmp/cleaned"
STAGE_SUMMARY=$tmp/summary "$stage" -g 5 stopped 30 bash -c "$slow" >"$tmp/out" 2>&1 &
w=$!
for _ in $(seq 50); do
	[ -s "$tmp/child" ] && break
	sleep 0.1
done
kill -TERM "$w"
wait "$w"
rc=$?
check "the wrapper stopped by TERM: exit 143" test "$rc" = 143
check "the wrapper stopped by TERM: step printed" has "the step it was at: scenario x1"
check "the wrapper stopped by TERM: the stage's trap ran" test -s "$tmp/cleaned"
check "the wrapper stopped by TERM: its child is gone" gone "$tmp/child"

"$stage" --summary "$tmp/summary" >"$tmp/out"
check "the summary: one line per stage, failures marked" \
	test "$(grep -cE '^(ok|three|sigs|slow|stubborn|left|stopped) ' "$tmp/out") $(grep -c FAILED "$tmp/out")" = "7 4"
check "the summary: a total" grep -qE '^total +[0-9]+$' "$tmp/out"

echo "$((n - failed)) passed, $failed failed"
[ "$failed" -eq 0 ]
