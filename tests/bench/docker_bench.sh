#!/usr/bin/env bash
# Latency through the real engine, cbridge (driver and IPAM, as the managed
# plugin) against dockerd's built-in bridge driver, interleaved in one run
# with one private dockerd (in a network namespace of its own, iptables on;
# see tests/e2e/lib.sh):
#   - `docker network create` + `docker network rm`, N rounds;
#   - `docker run --rm --network NET cbtest/busybox sh -c :` on one
#     network of each driver, max(N, 10) rounds;
#   - a container publishing 20 ports (`-p 30000-30019:8000-8019`), started
#     and removed, 5 rounds per driver;
#   - networks 1 to SCALE (300) of each driver, created interleaved: the
#     time of the first ones and of the last ones, and cbridge's CPU time
#     for 10 idle seconds with them all (its once-a-second rule check).
#
#   tests/bench/docker_bench.sh build/cbridge [N]     (N defaults to 20)
#
# Prints median and p90 in ms per driver. The times include the docker
# CLI's own start-up, which is the same for both drivers. Environment as for
# tests/e2e/run.sh (DOCKERD_EXTRA_ARGS, E2E_DOCKER, E2E_PLUGIN_SETTINGS,
# which defaults to LOG_LEVEL=info here).
set -eu -o pipefail

# shellcheck source=tests/e2e/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../e2e/lib.sh"

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
	echo "usage: $0 BIN [N]" >&2
	exit 2
fi
e2e_need_root
bin=$(readlink -f "$1")
n=${2:-20}
case $n in
'' | *[!0-9]* | 0)
	echo "$0: N must be a positive integer" >&2
	exit 2
	;;
esac

now_ms() {
	echo $(($(date +%s%N) / 1000000))
}

# timed KIND I: creates and removes one network, appends the times to
# $E2E_TMP/KIND.create, .rm and .total.
timed() {
	local kind=$1 name=bench-$1-$2 t0 t1 t2 t3 args
	if [ "$kind" = cbridge ]; then
		args=(-d "$E2E_PLUGIN" --ipam-driver "$E2E_PLUGIN")
	else
		args=(-d bridge)
	fi
	t0=$(now_ms)
	dk network create "${args[@]}" "$name" >"$E2E_TMP/id"
	t1=$(now_ms)
	e2e_record_bridge "$(e2e_net_bridge "$name")"
	t2=$(now_ms)
	dk network rm "$name" >/dev/null
	t3=$(now_ms)
	echo $((t1 - t0)) >>"$E2E_TMP/$kind.create"
	echo $((t3 - t2)) >>"$E2E_TMP/$kind.rm"
	echo $((t1 - t0 + t3 - t2)) >>"$E2E_TMP/$kind.total"
}

# stats FILE: "median M ms, p90 P ms" (p90 by nearest rank).
stats() {
	sort -n "$1" | awk '{ v[NR] = $1 }
		END {
			med = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
			r = int(0.9 * NR); if (r < 0.9 * NR) r++
			printf "median %6.1f ms, p90 %6.1f ms", med, v[r]
		}'
}

E2E_PLUGIN_SETTINGS=${E2E_PLUGIN_SETTINGS-LOG_LEVEL=info}
e2e_init
e2e_start_dockerd
e2e_plugin_install "$bin"

# One untimed round each, so that first-use costs are not measured.
timed cbridge 0
timed bridge 0
: >"$E2E_TMP/cbridge.create"
: >"$E2E_TMP/cbridge.rm"
: >"$E2E_TMP/cbridge.total"
: >"$E2E_TMP/bridge.create"
: >"$E2E_TMP/bridge.rm"
: >"$E2E_TMP/bridge.total"

for i in $(seq "$n"); do
	timed cbridge "$i"
	timed bridge "$i"
done

echo "docker network create + rm, $n rounds, dockerd $(dk version --format '{{.Server.Version}}')"
for kind in cbridge bridge; do
	for what in create rm total; do
		printf '%-8s %-7s %s\n' "$kind" "$what" "$(stats "$E2E_TMP/$kind.$what")"
	done
done

# run_timed KIND: one `docker run --rm` on KIND's network; appends the time
# to $E2E_TMP/KIND.run, or the error to $E2E_TMP/KIND.err.
run_timed() {
	local t0 t1
	t0=$(now_ms)
	if dk run --rm --network "bench-run-$1" "$E2E_IMAGE" sh -c : >"$E2E_TMP/out" 2>&1; then
		t1=$(now_ms)
		echo $((t1 - t0)) >>"$E2E_TMP/$1.run"
	else
		head -n 3 "$E2E_TMP/out" >>"$E2E_TMP/$1.err"
	fi
}

runs=$((n < 10 ? 10 : n))
e2e_build_image
dk network create -d "$E2E_PLUGIN" --ipam-driver "$E2E_PLUGIN" bench-run-cbridge >/dev/null
e2e_record_bridge "$(e2e_net_bridge bench-run-cbridge)"
dk network create -d bridge bench-run-bridge >/dev/null
e2e_record_bridge "$(e2e_net_bridge bench-run-bridge)"
run_timed cbridge
run_timed bridge
for kind in cbridge bridge; do
	: >"$E2E_TMP/$kind.run"
	: >"$E2E_TMP/$kind.err"
done
for i in $(seq "$runs"); do
	run_timed cbridge
	run_timed bridge
done
echo "docker run --rm --network NET $E2E_IMAGE sh -c :, $runs rounds"
for kind in cbridge bridge; do
	ok=$(grep -c . "$E2E_TMP/$kind.run" || true)
	if [ "$ok" -gt 0 ]; then
		printf '%-8s %-7s %s' "$kind" run "$(stats "$E2E_TMP/$kind.run")"
	else
		printf '%-8s %-7s %s' "$kind" run "no successful run"
	fi
	if [ -s "$E2E_TMP/$kind.err" ]; then
		printf ' (%d failed: %s)' "$((runs - ok))" "$(head -n 1 "$E2E_TMP/$kind.err")"
	fi
	echo
done
# ports_timed KIND I: a container publishing 20 ports, started (timed)
# and removed.
ports_timed() {
	local t0 t1 name=bench-ports-$1-$2
	t0=$(now_ms)
	if dk run -d --name "$name" --network "bench-run-$1" -p 30000-30019:8000-8019 \
		"$E2E_IMAGE" sleep 60 >"$E2E_TMP/out" 2>&1; then
		t1=$(now_ms)
		echo $((t1 - t0)) >>"$E2E_TMP/$1.ports"
	else
		head -n 3 "$E2E_TMP/out" >>"$E2E_TMP/$1.perr"
	fi
	dk rm -f "$name" >/dev/null 2>&1 || true
}
for kind in cbridge bridge; do
	: >"$E2E_TMP/$kind.ports"
	: >"$E2E_TMP/$kind.perr"
done
ports_timed cbridge 0
ports_timed bridge 0
: >"$E2E_TMP/cbridge.ports"
: >"$E2E_TMP/bridge.ports"
for i in 1 2 3 4 5; do
	ports_timed cbridge "$i"
	ports_timed bridge "$i"
done
echo "docker run -d -p 30000-30019:8000-8019 (20 published ports), 5 rounds"
for kind in cbridge bridge; do
	printf '%-8s %-7s %s' "$kind" start "$(stats "$E2E_TMP/$kind.ports" 2>/dev/null || echo none)"
	[ -s "$E2E_TMP/$kind.perr" ] && printf ' (failed: %s)' "$(head -n 1 "$E2E_TMP/$kind.perr")"
	echo
done
dk network rm bench-run-cbridge bench-run-bridge >/dev/null

# Networks 1..SCALE of each driver, explicit /24s from 10.96.0.0/11 so
# that the built-in driver's default pools (31 networks) do not run out.
scale=${BENCH_SCALE:-300}
: >"$E2E_TMP/scale.cbridge"
: >"$E2E_TMP/scale.bridge"
for i in $(seq "$scale"); do
	for kind in cbridge bridge; do
		if [ "$kind" = cbridge ]; then
			args=(-d "$E2E_PLUGIN" --ipam-driver "$E2E_PLUGIN" --subnet "10.$((96 + i / 256)).$((i % 256)).0/24")
		else
			args=(-d bridge --subnet "10.$((112 + i / 256)).$((i % 256)).0/24")
		fi
		t0=$(now_ms)
		dk network create "${args[@]}" "bench-s-$kind-$i" >/dev/null
		t1=$(now_ms)
		e2e_record_bridge "$(e2e_net_bridge "bench-s-$kind-$i")"
		echo $((t1 - t0)) >>"$E2E_TMP/scale.$kind"
	done
done
echo "docker network create, networks 1 to $scale of each driver, interleaved"
for kind in cbridge bridge; do
	head -n 10 "$E2E_TMP/scale.$kind" >"$E2E_TMP/first"
	tail -n 10 "$E2E_TMP/scale.$kind" >"$E2E_TMP/last"
	printf '%-8s network 1: %s ms; networks 1-10: %s; networks %d-%d: %s; network %d: %s ms\n' \
		"$kind" "$(head -n 1 "$E2E_TMP/scale.$kind")" "$(stats "$E2E_TMP/first")" \
		"$((scale - 9))" "$scale" "$(stats "$E2E_TMP/last")" "$scale" "$(tail -n 1 "$E2E_TMP/scale.$kind")"
done
# cbridge's CPU over 10 idle seconds with every network present.
pid=$(e2e_plugin_pid)
if [ -n "$pid" ]; then
	hz=$(getconf CLK_TCK)
	c0=$(awk '{ print $14 + $15 }' "/proc/$pid/stat")
	sleep 10
	c1=$(awk '{ print $14 + $15 }' "/proc/$pid/stat")
	echo "cbridge idle with $scale networks: $(((c1 - c0) * 1000 / hz)) ms CPU in 10 s ($(awk -v c=$((c1 - c0)) -v hz="$hz" 'BEGIN { printf "%.1f", c * 100 / hz / 10 }')% of a core), RSS $(awk '/VmRSS/ { print $2, $3 }' "/proc/$pid/status")"
fi
t0=$(now_ms)
for i in $(seq "$scale"); do
	dk network rm "bench-s-cbridge-$i" "bench-s-bridge-$i" >/dev/null
done
echo "removed $((2 * scale)) networks in $(($(now_ms) - t0)) ms"

set +e
trap - EXIT INT TERM
e2e_teardown
e2e_check_host_unchanged
