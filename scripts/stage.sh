#!/bin/bash
# Runs one stage of the tests under a time limit.
#
#   scripts/stage.sh [-g GRACE] NAME SECONDS CMD...
#   scripts/stage.sh --summary FILE
#
# CMD runs in a session of its own (setsid), so that every process of the
# stage, and only those, can be found in /proc.  When CMD is still running
# after SECONDS, or when this script gets INT, TERM or HUP, it prints the
# step the stage was at (the last line a test driver wrote to the file
# named by $STAGE_STEP) and the stage's processes, sends TERM to all of
# them (the test scripts remove what they made in their traps), and KILL
# to those still there GRACE seconds later (default 60).  Processes CMD
# leaves behind when it ends are reported and stopped the same way, so
# that nothing outlives its stage; they do not change the exit status.
# Processes that start a session of their own are not followed.  CMD's
# standard input is /dev/null: nothing in CI can wait for a terminal.
#
# The last line is "stage NAME: N s, exit S"; with $STAGE_SUMMARY set, the
# same goes to that file as "NAME<TAB>N<TAB>SECONDS<TAB>S", and --summary
# prints such a file as a table.  Exit status: CMD's; 124 when the stage
# hit its limit; 128+n when this script got signal n.
set -u

usage() {
	echo "usage: $0 [-g GRACE] NAME SECONDS CMD... | --summary FILE" >&2
	exit 2
}

if [ "${1:-}" = --summary ]; then
	[ $# -eq 2 ] || usage
	[ -s "$2" ] || exit 0
	awk -F '\t' '
		BEGIN { printf "%-20s %8s %8s %6s\n", "stage", "seconds", "limit", "exit" }
		{ printf "%-20s %8s %8s %6s%s\n", $1, $2, $3, $4, $4 == 0 ? "" : "  FAILED"
		  total += $2 }
		END { printf "%-20s %8d\n", "total", total }' "$2"
	exit 0
fi

grace=60
if [ "${1:-}" = -g ]; then
	[ $# -ge 2 ] || usage
	grace=$2
	shift 2
fi
[ $# -ge 3 ] || usage
name=$1
limit=$2
shift 2
case $limit$grace in
*[!0-9]*) usage ;;
esac

# procs: the live processes of the stage's session, one "PID PGID STATE"
# a line.
procs() {
	local d s
	for d in /proc/[0-9]*; do
		{ read -r s <"$d/stat"; } 2>/dev/null || continue
		# The fields after the command name (which may hold spaces and
		# ")"): state, ppid, pgrp, session, ...; numbers, so no globbing.
		# shellcheck disable=SC2086
		set -- ${s##*) }
		[ "$4" = "$pid" ] && [ "$1" != Z ] && echo "${d#/proc/} $3 $1"
	done
}

# list: the stage's processes with their command lines (but those that
# ended meanwhile).
list() {
	local p st args
	while read -r p _ st; do
		args=$(tr '\0' ' ' 2>/dev/null <"/proc/$p/cmdline") || continue
		[ -n "$args" ] || continue
		printf 'stage %s:   %7s %s %s\n' "$name" "$p" "$st" "$args"
	done < <(procs)
}

# signal SIG: SIG to the stage's process group, and to the processes of
# its session in other groups (a test may have made groups of its own).
# Once each: a second TERM could cut short the cleanup the first started.
signal() {
	local p pg
	kill -s "$1" -- "-$pid" 2>/dev/null
	while read -r p pg _; do
		[ "$pg" = "$pid" ] || kill -s "$1" "$p" 2>/dev/null
	done < <(procs)
}

# stop: TERM, up to GRACE seconds for the traps to clean up, then KILL.
stop() {
	local i
	signal TERM
	echo "stage $name: sent TERM to the stage's processes; waiting up to $grace s for them to clean up and end"
	for ((i = 0; i < grace * 5; i++)); do
		[ -n "$(procs)" ] || return 0
		sleep 0.2
	done
	echo "stage $name: still running after $grace s, sending KILL:"
	list
	signal KILL
	for ((i = 0; i < 25; i++)); do
		[ -n "$(procs)" ] || return 0
		sleep 0.2
	done
	echo "stage $name: these outlived KILL (stuck in the kernel?):"
	list
}

# report WHY: what the stage was doing.
report() {
	local step=
	[ -r "$STAGE_STEP" ] && step=$(tail -n 1 "$STAGE_STEP")
	echo "stage $name: FAILED: $1"
	echo "stage $name: the step it was at: ${step:-(no step recorded; see the processes below)}"
	echo "stage $name: its processes (pid, state, command):"
	list
}

# finish STATUS [NOTE]: the last line, the summary, exit STATUS.
finish() {
	local secs=$((SECONDS - start))
	{
		kill -KILL "$timer"
		wait "$timer"
	} 2>/dev/null
	rm -rf "$dir"
	echo "stage $name: $secs s, exit $1${2:+ ($2)}"
	if [ -n "${STAGE_SUMMARY:-}" ]; then
		printf '%s\t%s\t%s\t%s\n' "$name" "$secs" "$limit" "$1" >>"$STAGE_SUMMARY"
	fi
	exit "$1"
}

# shellcheck disable=SC2317 # (called by the traps)
on_signal() {
	# Once: make, for one, passes on the TERM the stage got itself.
	[ -z "$stopping" ] || return 0
	stopping=1
	trap '' INT TERM HUP
	[ -n "$pid" ] || finish "$2" "stopped by SIG$1 before it started"
	report "stopped by SIG$1 after $((SECONDS - start)) s"
	stop
	finish "$2" "stopped by SIG$1"
}

dir=$(mktemp -d "${TMPDIR:-/tmp}/stage.XXXXXX") || exit 1
export STAGE_STEP=$dir/step
start=$SECONDS
pid=
timer=
stopping=
trap 'on_signal INT 130' INT
trap 'on_signal TERM 143' TERM
trap 'on_signal HUP 129' HUP
echo "stage $name: limit $limit s: $*"
# An asynchronous command of a shell without job control is never a
# process group leader, so setsid makes its session without forking: its
# pid is the session's id and its process group's.  Such a command also
# starts with INT and QUIT ignored; env gives them back their defaults.
setsid env --default-signal=INT,QUIT "$@" </dev/null &
pid=$!
# The timer shares this script's process group, and ^C: only KILL ends it.
(
	trap '' INT TERM HUP
	exec sleep "$limit"
) &
timer=$!

ended=
wait -n -p ended "$pid" "$timer"
rc=$?
if [ "$ended" = "$pid" ]; then
	if [ -n "$(procs)" ]; then
		echo "stage $name: the command ended but left processes running:"
		list
		stop
	fi
	finish "$rc"
fi
trap '' INT TERM HUP
report "still running after its limit of $limit s"
# (bash's own note that the command was killed is not worth a line)
{
	stop
	wait "$pid"
} 2>/dev/null
finish 124 "over its limit of $limit s"
