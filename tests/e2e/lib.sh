# shellcheck shell=bash
# Helpers for the end-to-end tests, sourced by tests/e2e/run.sh and
# tests/bench/docker_bench.sh: a private dockerd, the plugin, cleanup and
# assertions.
#
#   . tests/e2e/lib.sh
#   e2e_init                # root check, run dir, host snapshot, trap
#   e2e_start_dockerd       # network namespace E2E_NS + dockerd in it
#   e2e_plugin_install BIN
#   e2e_build_image         # cbtest/busybox:latest (E2E_IMAGE), no registry
#   e2e_scenario FUNC ARGS... # runs a scenario, named as the step
#   ... e2e_check / e2e_pass / e2e_fail / e2e_known_bug ...
#   e2e_restart_dockerd ARGS... # dockerd stopped (containers, networks and
#                           # plugin kept) and started again with ARGS
#   e2e_finish              # teardown, host unchanged?, "N passed, M failed"
#
# The private dockerd runs in a network namespace of its own, E2E_NS
# (tests/e2e/netns-exec.sh: `ip netns exec` plus the host's cgroup mounts),
# with its firewall defaults (iptables on, ip-forward on): its nft tables,
# the FORWARD policy DROP it sets when it turns ip_forward on, its bridges
# and everything the plugin makes (the managed plugin shares dockerd's
# network namespace) stay in E2E_NS, and the host's namespace is left
# exactly as it was (links, addresses, routes, nft ruleset, legacy
# iptables tables, sysctls, mounts); e2e_finish checks that. E2E_NS starts with ip_forward
# 0 (a new namespace copies the host's IPv4 settings), so dockerd really
# turns it on and sets DROP, as on a fresh host. dockerd also gets a private
# mount namespace: its mounts are invisible from here and go away with its
# last process. Look inside with e2e_nsx CMD... and `ip -n "$E2E_NS" ...`.
#
# Everything a run creates is named after it: the directory
# /tmp/cbe2e.<pid>.XXXX (E2E_TMP) holds the daemon's data root, exec root,
# socket, log and the plugin's state dir; E2E_PREFIX is "cbe" + 5 hex
# digits, E2E_NS is E2E_PREFIX + "ns", and links the tests make in E2E_NS
# start with E2E_PREFIX. The bridges of networks created through
# e2e_net_create are written to $E2E_TMP/bridges so that cleanup can report
# those the plugin left (deleting E2E_NS deletes them).
#
# Environment:
#   DOCKERD_EXTRA_ARGS   more dockerd flags, after the defaults (so they
#                        win): --bridge=none
#   E2E_DOCKER           docker CLI to use (default: docker on PATH)
#   E2E_PLUGIN_SETTINGS  `docker plugin set` words for the plugin
#   E2E_DOCKERD_IPTABLES nft (default: the machine's iptables) or legacy
#                        (dockerd uses iptables-legacy; cbridge adds no nft rule)
#   E2E_EXEC_ROOT_PRIVATE 1: dockerd's exec root is a private mount in its
#                        mount namespace, so that the sandbox namespaces
#                        mounted there later never reach the plugin's copy
#                        of it (as on a host whose exec root is on a private
#                        mount); by default it is a shared mount and they do
#                        (default LOG_LEVEL=debug)
#   E2E_LOG_LINES        dockerd log lines printed on failure (default 80)

E2E_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
E2E_DOCKER=${E2E_DOCKER:-docker}
E2E_DOCKERD_DEFAULT_ARGS="--bridge=none"
E2E_DOCKERD_IPTABLES=${E2E_DOCKERD_IPTABLES:-nft}
# The iptables that shows dockerd's own chains (used by run.sh).
# shellcheck disable=SC2034
E2E_IPT=iptables-$E2E_DOCKERD_IPTABLES
E2E_PLUGIN=cbridge:latest
E2E_IMAGE=cbtest/busybox:latest

E2E_PASS=0
E2E_FAIL=0
E2E_KNOWN=0
E2E_DONE=0
E2E_TMP=
E2E_PREFIX=
E2E_NS=
E2E_NS_MADE=0
E2E_RUN_NETNS=mount
E2E_HOST_BEFORE=
E2E_DOCKERD_PID=
E2E_MNT_HOLDER=
E2E_NET_ID=
E2E_OUT=
E2E_STEP=setup
E2E_LAST=

# ---------------------------------------------------------------- assertions

# Under scripts/stage.sh, the file $STAGE_STEP holds the scenario running
# and the last check it made: what the stage prints if it hits its limit.
e2e_step_write() {
	echo "tests/e2e: $E2E_STEP${E2E_LAST:+, after check $E2E_LAST}" \
		>"${STAGE_STEP:-/dev/null}"
}

# e2e_step NAME: NAME is what runs from now on.
e2e_step() {
	E2E_STEP=$1
	E2E_LAST=
	e2e_step_write
}

# e2e_scenario FUNC ARGS...: runs FUNC ARGS as the step "scenario FUNC ARGS".
e2e_scenario() {
	e2e_step "scenario $*"
	"$@"
}

# e2e_n: the number of the last check.
e2e_n() {
	echo $((E2E_PASS + E2E_FAIL + E2E_KNOWN))
}

e2e_pass() {
	E2E_PASS=$((E2E_PASS + 1))
	echo "ok $(e2e_n) - $1"
	E2E_LAST="$(e2e_n) ($1)"
	e2e_step_write
}

# e2e_details DETAIL...: the lines of each DETAIL as "#   " comments.
e2e_details() {
	local l line
	for l in "$@"; do
		while IFS= read -r line; do
			echo "#   $line"
		done <<<"$l"
	done
}

# e2e_fail DESC [DETAIL...]: DETAIL lines are printed as "# " comments.
e2e_fail() {
	E2E_FAIL=$((E2E_FAIL + 1))
	echo "not ok $(e2e_n) - $1"
	E2E_LAST="$(e2e_n) ($1)"
	e2e_step_write
	shift
	e2e_details "$@"
}

# e2e_known_bug DESC BUG CMD...: a check that a known bug of cbridge (BUG,
# a few words; the README's Tests section describes each) makes fail. CMD
# failing prints "not ok N - DESC # TODO known bug: BUG" (TAP's TODO) and
# counts apart, neither as a pass nor as a failure; CMD succeeding fails
# the run, so that the mark goes with the bug. Only the assertion the bug
# breaks goes through here: its probe is an ordinary check before it.
e2e_known_bug() {
	local desc=$1 bug=$2 out
	shift 2
	if out=$("$@" 2>&1); then
		e2e_fail "$desc" "the known bug ($bug) no longer shows: make this an ordinary check" \
			"command: $*" "${out:-(no output)}"
		return 0
	fi
	E2E_KNOWN=$((E2E_KNOWN + 1))
	echo "not ok $(e2e_n) - $desc # TODO known bug: $bug"
	E2E_LAST="$(e2e_n) ($desc)"
	e2e_step_write
	e2e_details "command: $*" "${out:-(no output)}"
}

e2e_note() {
	echo "# $*"
}

# e2e_check DESC CMD...: passes if CMD succeeds.
e2e_check() {
	local desc=$1 out
	shift
	if out=$("$@" 2>&1); then
		e2e_pass "$desc"
	else
		e2e_fail "$desc" "command: $*" "${out:-(no output)}"
	fi
}

# e2e_check_eq DESC EXPECTED ACTUAL
e2e_check_eq() {
	if [ "$2" = "$3" ]; then
		e2e_pass "$1"
	else
		e2e_fail "$1" "expected: '$2'" "actual:   '$3'"
	fi
}

# e2e_check_match DESC ERE TEXT: passes if TEXT matches ERE (case-insensitive).
e2e_check_match() {
	if grep -Eqi -- "$2" <<<"$3"; then
		e2e_pass "$1"
	else
		e2e_fail "$1" "expected to match /$2/:" "$3"
	fi
}

# e2e_summary: prints the summary line; false if anything failed.
e2e_summary() {
	E2E_DONE=1
	echo "$E2E_PASS passed, $E2E_FAIL failed$([ "$E2E_KNOWN" -eq 0 ] || echo ", $E2E_KNOWN known bugs (TODO)")"
	[ "$E2E_FAIL" -eq 0 ]
}

# -------------------------------------------------------------------- set-up

e2e_need_root() {
	if [ "$(id -u)" != 0 ]; then
		echo "SKIP: $0 needs root"
		exit 77
	fi
}

# e2e_init: checks root and tools, loads br_netfilter before the host's
# sysctls are noted (tests/br_netfilter.sh), makes the run dir, installs
# the trap.
e2e_init() {
	local t
	e2e_need_root
	for t in dockerd "$E2E_DOCKER" ctr jq ip unshare nsenter mountpoint nft iptables-nft \
		iptables-legacy-save ip6tables-legacy-save; do
		if ! command -v "$t" >/dev/null; then
			echo "SKIP: $t is not installed (make deps / scripts/deps.sh e2e)"
			exit 77
		fi
	done
	"$E2E_TOP/tests/br_netfilter.sh" || exit 1
	E2E_TMP=$(mktemp -d "/tmp/cbe2e.$$.XXXX")
	E2E_PREFIX=cbe$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n' | cut -c1-5)
	E2E_NS=${E2E_PREFIX}ns
	E2E_RUN_SOCK=/run/${E2E_PREFIX}-docker.sock
	E2E_HOST_BEFORE=$(e2e_host_state)
	: >"$E2E_TMP/bridges"
	: >"$E2E_TMP/plugins"
	# dockerd makes /run/docker/plugins and containerd's shims make
	# /run/containerd/s whatever the exec root; remove them if we made them.
	[ -e /run/docker ] || touch "$E2E_TMP/rmdir-run-docker"
	# `ip netns add` makes /run/netns (a mount point) if it is missing.
	if mountpoint -q /run/netns 2>/dev/null; then
		E2E_RUN_NETNS=mount
	elif [ -d /run/netns ]; then
		E2E_RUN_NETNS=dir
	else
		E2E_RUN_NETNS=absent
	fi
	[ -e /run/containerd ] || touch "$E2E_TMP/rmdir-run-containerd"
	# The traps may fire inside a function whose output is redirected, so
	# they write to a copy of the script's stdout and stderr.
	exec 8>&1 9>&2
	trap e2e_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	# The CLI talks only to the private daemon, with a private config.
	export DOCKER_HOST="unix://$E2E_TMP/docker.sock"
	export DOCKER_CONFIG="$E2E_TMP/cli"
	unset DOCKER_CONTEXT DOCKER_TLS_VERIFY DOCKER_CERT_PATH
	mkdir -p "$DOCKER_CONFIG"
	e2e_note "run dir $E2E_TMP, link prefix $E2E_PREFIX, network namespace $E2E_NS, docker CLI $(command -v "$E2E_DOCKER")"
}

dk() {
	"$E2E_DOCKER" "$@"
}

# e2e_nsx CMD...: runs CMD in dockerd's network namespace (with a sysfs and
# /proc/sys/net of it).
e2e_nsx() {
	ip netns exec "$E2E_NS" "$@"
}

# e2e_ip ARGS...: ip in E2E_NS.
e2e_ip() {
	ip -n "$E2E_NS" "$@"
}

# e2e_probe_failed WHAT: marks a snapshot that could not be taken;
# e2e_check_host_unchanged fails on it, so that two equal failed
# snapshots never pass as "unchanged".
e2e_probe_failed() {
	echo "!! probe failed: $*"
}

# e2e_host_legacy: the host's legacy iptables tables filter, nat, raw and
# mangle, IPv4 and IPv6, as ip(6)tables-legacy-save shows them, without
# counters. Only a table the kernel lists in /proc/net/ip(6)_tables_names
# is saved (naming one that does not exist would make the kernel create
# it in the host's namespace); the others show as absent, so that one
# appearing during the run shows too.
e2e_host_legacy() {
	local fam save names t out
	for fam in ip ip6; do
		save=${fam}tables-legacy-save
		names=/proc/net/${fam}_tables_names
		for t in filter nat raw mangle; do
			if [ ! -e "$names" ]; then
				echo "== $save -t $t: absent (no $names)"
			elif ! grep -qx -- "$t" "$names"; then
				echo "== $save -t $t: absent"
			elif out=$("$save" -t "$t" 2>&1); then
				echo "== $save -t $t"
				grep -v '^#' <<<"$out" | sed -E 's/ \[[0-9]+:[0-9]+\]$//'
			else
				e2e_probe_failed "$save -t $t: $out"
			fi
		done
	done
}

# e2e_host_state: what a run must not change in the host's namespaces:
# links, addresses, routes, the nft ruleset (without counters), the legacy
# iptables tables (without counters), forwarding and bridge-netfilter
# sysctls, and mounts or namespaces named after the run. Lifetimes and
# counters, which move on their own, are left out.
e2e_host_state() {
	local k out
	echo "== ip link"
	ip -o link show
	echo "== ip addr"
	ip -br addr show
	echo "== ip route"
	ip route show table all | sed -E 's/ expires [0-9]+sec//'
	ip -6 route show table all | sed -E 's/ expires [0-9]+sec//'
	echo "== nft -s list ruleset"
	out=$(nft -s list ruleset 2>&1) || e2e_probe_failed "nft -s list ruleset: $out"
	echo "$out"
	e2e_host_legacy
	echo "== sysctl"
	for k in net/ipv4/ip_forward net/ipv6/conf/all/forwarding \
		net/ipv6/conf/default/forwarding net/bridge/bridge-nf-call-iptables \
		net/bridge/bridge-nf-call-ip6tables; do
		echo "$k = $(cat "/proc/sys/$k" 2>/dev/null || echo absent)"
	done
	echo "== /run/netns"
	if mountpoint -q /run/netns 2>/dev/null; then
		echo "a mount point"
	elif [ -d /run/netns ]; then
		echo "a directory"
	else
		echo "absent"
	fi
	if [ -n "$E2E_PREFIX" ]; then
		echo "== mounts and namespaces of this run"
		grep -F -e "$E2E_TMP" -e "$E2E_PREFIX" /proc/self/mountinfo || true
		ip netns list | grep -F "$E2E_PREFIX" || true
	fi
}

# e2e_check_host_unchanged: compares the host with e2e_init's snapshot;
# a snapshot that could not be taken whole fails.
e2e_check_host_unchanged() {
	local after d desc failed
	desc="host: links, addresses, routes, nft ruleset, legacy iptables, forwarding sysctls and mounts as before the run"
	[ -n "$E2E_HOST_BEFORE" ] || return 0
	after=$(e2e_host_state)
	e2e_note "host: ip_forward $(cat /proc/sys/net/ipv4/ip_forward)," \
		"$(ip -o link show | grep -c .) links," \
		"nft ruleset $(nft -s list ruleset | grep -c .) lines," \
		"legacy tables: $(grep -E '^== ip6?tables-legacy-save -t [a-z]+$' <<<"$after" |
			awk '{ printf "%s%s %s", (n++ ? ", " : ""), $2, $4 } END { if (!n) printf "none" }')" \
		"(before and after the run)"
	failed=$(grep -h '^!! probe failed' <<<"$E2E_HOST_BEFORE"$'\n'"$after") || true
	if [ -n "$failed" ]; then
		e2e_fail "$desc" "a snapshot could not be taken:" "$failed"
	elif [ "$E2E_HOST_BEFORE" = "$after" ]; then
		e2e_pass "$desc"
	else
		d=$(diff <(echo "$E2E_HOST_BEFORE") <(echo "$after") | head -n 60) || true
		e2e_fail "$desc" "$d"
	fi
}

e2e_dockerd_log_tail() {
	local n=${1:-${E2E_LOG_LINES:-80}}
	[ -f "$E2E_TMP/dockerd.log" ] || return 0
	echo "# ---- last $n lines of $E2E_TMP/dockerd.log ----"
	tail -n "$n" "$E2E_TMP/dockerd.log" | sed 's/^/# /'
	echo "# ---- end of dockerd log ----"
}

# e2e_dockerd_drops: true unless DOCKERD_EXTRA_ARGS turn off dockerd's
# iptables or ip-forward, i.e. when dockerd sets the FORWARD policy DROP.
e2e_dockerd_drops() {
	case " ${DOCKERD_EXTRA_ARGS:-} " in
	*" --iptables=false "* | *" --ip-forward=false "*) return 1 ;;
	esac
}

# e2e_make_ns: creates E2E_NS with lo up and ip_forward 0 (a new namespace
# copies the host's IPv4 settings, and dockerd only sets the FORWARD policy
# to DROP when it turns forwarding on itself).
e2e_make_ns() {
	[ "$E2E_NS_MADE" -eq 0 ] || return 0
	ip netns add "$E2E_NS" || {
		echo "e2e: ip netns add $E2E_NS failed" >&2
		return 1
	}
	E2E_NS_MADE=1
	ip -n "$E2E_NS" link set lo up
	e2e_nsx sysctl -qw net.ipv4.ip_forward=0
}

# e2e_start_dockerd [ARGS...]: creates E2E_NS, starts a private dockerd in
# it (ARGS after the default flags) and waits (<= 30 s) until it answers,
# then prints its firewall. The log is appended to, so that a restart keeps
# what the plugin printed before (e2e_scan_log reads it all).
e2e_start_dockerd() {
	local d=$E2E_TMP i
	mkdir -p "$d/data" "$d/exec" "$d/cgroup"
	e2e_make_ns
	# Keep dockerd 20.10's trust key out of /etc/docker.
	printf '{"deprecated-key-path": "%s"}\n' "$d/key.json" >"$d/daemon.json"
	# E2E_DOCKERD_IPTABLES=legacy: dockerd finds the legacy iptables
	# first on its PATH, as on a host whose alternatives say so; its
	# chains then share the legacy tables with cbridge's.
	if [ "$E2E_DOCKERD_IPTABLES" = legacy ]; then
		mkdir -p "$d/legacy-bin"
		for t in iptables ip6tables; do
			ln -sf "$(command -v "$t-legacy")" "$d/legacy-bin/$t"
			ln -sf "$(command -v "$t-legacy-save")" "$d/legacy-bin/$t-save"
			ln -sf "$(command -v "$t-legacy-restore")" "$d/legacy-bin/$t-restore"
		done
	fi
	# The exec root shared with the plugin's rslave copy, or private.
	local shared=$d/exec private=''
	if [ "${E2E_EXEC_ROOT_PRIVATE:-0}" = 1 ]; then
		shared=''
		private=$d/exec
	fi
	# A new mount namespace, or the one dockerd ran in before if
	# e2e_hold_mount_ns keeps it (a restart on a real host finds the
	# sandboxes' namespace mounts of the containers that kept running).
	local launch=("$BASH" "$E2E_TOP/tests/e2e/netns-exec.sh" "$E2E_NS" "$d/cgroup")
	if [ -n "$E2E_MNT_HOLDER" ] && kill -0 "$E2E_MNT_HOLDER" 2>/dev/null; then
		launch=(nsenter -t "$E2E_MNT_HOLDER" -m -n)
	fi
	# Word splitting of the argument strings is intended.
	# shellcheck disable=SC2086
	# A second socket in /run: the plugin reaches the Engine API there
	# (DOCKER_SOCKET=/host/run/...), its view of the host's /run.
	PATH=$([ "$E2E_DOCKERD_IPTABLES" = legacy ] && echo "$d/legacy-bin:")$PATH \
	NETNS_EXEC_SHARED=$shared NETNS_EXEC_PRIVATE=$private \
	"${launch[@]}" \
		dockerd --data-root "$d/data" --exec-root "$d/exec" \
		-H "unix://$d/docker.sock" -H "unix://$E2E_RUN_SOCK" \
		--pidfile "$d/dockerd.pid" \
		--config-file "$d/daemon.json" \
		$E2E_DOCKERD_DEFAULT_ARGS ${DOCKERD_EXTRA_ARGS:-} "$@" \
		>>"$d/dockerd.log" 2>&1 </dev/null 8>&- 9>&- &
	E2E_DOCKERD_PID=$!
	for i in $(seq 60); do
		if ! kill -0 "$E2E_DOCKERD_PID" 2>/dev/null; then
			echo "e2e: dockerd exited at start-up" >&2
			e2e_dockerd_log_tail 40 >&2
			E2E_DOCKERD_PID=
			return 1
		fi
		if dk version --format '{{.Server.Version}}' >/dev/null 2>&1; then
			e2e_note "dockerd $(dk version --format '{{.Server.Version}}') pid $E2E_DOCKERD_PID up after $((i / 2)) s in network namespace $E2E_NS"
			e2e_note "$E2E_NS: $(e2e_nsx sysctl net.ipv4.ip_forward)"
			e2e_note "$E2E_NS: iptables-nft -S:"
			e2e_nsx iptables-nft -S 2>&1 | sed 's/^/#   /'
			e2e_note "$E2E_NS: nft list ruleset:"
			e2e_nsx nft list ruleset 2>&1 | sed 's/^/#   /'
			return 0
		fi
		sleep 0.5
	done
	echo "e2e: dockerd did not answer within 30 s" >&2
	e2e_dockerd_log_tail 40 >&2
	return 1
}

# e2e_halt_dockerd: stops dockerd (SIGTERM, SIGKILL after 30 s) and waits
# for it, leaving its containers, networks and plugins as they are (unlike
# e2e_stop_dockerd): what a `systemctl stop docker` does. Without
# --live-restore dockerd stops the containers itself; with it they and an
# enabled managed plugin keep running.
e2e_halt_dockerd() {
	local pid=$E2E_DOCKERD_PID i
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null || true
	for i in $(seq 60); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.5
	done
	if kill -0 "$pid" 2>/dev/null; then
		echo "e2e: dockerd $pid ignored SIGTERM for 30 s, killing it" >&2
		kill -KILL "$pid" 2>/dev/null || true
	fi
	wait "$pid" 2>/dev/null || true
	E2E_DOCKERD_PID=
}

# e2e_hold_mount_ns: keeps dockerd's mount namespace alive after dockerd
# (a sleep in it, E2E_MNT_HOLDER), so that e2e_start_dockerd starts the
# next one in it: the namespace mounts of the sandboxes (under the exec
# root) and of the plugin live there, and a dockerd restarted with
# --live-restore restores its running containers only through them. The
# holder runs in E2E_NS, so cleanup stops it with the rest.
e2e_hold_mount_ns() {
	[ -z "$E2E_MNT_HOLDER" ] || ! kill -0 "$E2E_MNT_HOLDER" 2>/dev/null || return 0
	[ -n "$E2E_DOCKERD_PID" ] || return 1
	nsenter -t "$E2E_DOCKERD_PID" -m -n sleep 1000000 </dev/null >/dev/null 2>&1 8>&- 9>&- &
	E2E_MNT_HOLDER=$!
}

# e2e_release_mount_ns: stops the holder: the next dockerd starts in a new
# mount namespace (as after a reboot) once the old one's last process ends.
e2e_release_mount_ns() {
	[ -n "$E2E_MNT_HOLDER" ] || return 0
	kill "$E2E_MNT_HOLDER" 2>/dev/null || true
	wait "$E2E_MNT_HOLDER" 2>/dev/null || true
	E2E_MNT_HOLDER=
}

# e2e_restart_dockerd [ARGS...]: e2e_halt_dockerd, then e2e_start_dockerd
# ARGS in the same mount namespace (e2e_hold_mount_ns), with the same data
# root, exec root and sockets (ARGS after the defaults; run it as
# `E2E_DOCKERD_DEFAULT_ARGS= e2e_restart_dockerd` to drop those). The
# flags last until the next restart.
e2e_restart_dockerd() {
	e2e_hold_mount_ns || return 1
	e2e_halt_dockerd
	e2e_start_dockerd "$@" >/dev/null
}

# e2e_record_bridge NAME: remember a bridge to delete at cleanup.
e2e_record_bridge() {
	grep -qxF -- "$1" "$E2E_TMP/bridges" 2>/dev/null || echo "$1" >>"$E2E_TMP/bridges"
}

# e2e_net_bridge NETWORK: the host bridge name of a cbridge or bridge
# network.
e2e_net_bridge() {
	local j id drv name
	j=$(dk network inspect "$1" 2>/dev/null) || return 1
	id=$(jq -r '.[0].Id' <<<"$j")
	drv=$(jq -r '.[0].Driver' <<<"$j")
	name=$(jq -r '.[0].Options["com.docker.network.bridge.name"] // ""' <<<"$j")
	if [ -n "$name" ]; then
		echo "$name"
	elif [ "$drv" = bridge ]; then
		echo "br-${id:0:12}"
	else
		echo "cb-${id:0:12}"
	fi
}

# e2e_kill_leftovers SIG: signals what is left of this run's processes
# after dockerd exited: every process in E2E_NS, containerd and shims (they
# name the run dir on their command line) and their children (the plugin,
# containers).
e2e_kill_leftovers() {
	local sig=$1 p c pids=() cand=()
	if [ "$E2E_NS_MADE" -eq 1 ]; then
		mapfile -t cand < <(ip netns pids "$E2E_NS" 2>/dev/null)
	fi
	for p in /proc/[0-9]*; do
		p=${p#/proc/}
		[ "$p" = $$ ] && continue
		if tr '\0' ' ' 2>/dev/null <"/proc/$p/cmdline" | grep -qF -- "$E2E_TMP/"; then
			cand+=("$p")
		fi
	done
	for p in "${cand[@]}"; do
		[ "$p" = $$ ] && continue
		pids+=("$p")
		for c in $(pgrep -P "$p"); do
			pids+=("$c")
		done
	done
	[ ${#pids[@]} -eq 0 ] && return 0
	kill "-$sig" "${pids[@]}" 2>/dev/null || true
	return 0
}

# e2e_unmount_under DIR: unmounts every mount point at or under DIR, deepest
# first.
e2e_unmount_under() {
	local m
	[ -n "$1" ] || return 0
	awk -v d="$1" '$5 == d || index($5, d "/") == 1 { print $5 }' /proc/self/mountinfo |
		awk '{ print length($0) " " $0 }' | sort -rn | cut -d' ' -f2- |
		while IFS= read -r m; do
			umount -R "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
		done
}

# e2e_stop_dockerd: removes containers, networks and plugins, stops the
# daemon (SIGTERM, then SIGKILL after 30 s), unmounts and deletes its
# directories.
e2e_stop_dockerd() {
	local pid=$E2E_DOCKERD_PID x
	[ -n "$pid" ] || return 0
	if kill -0 "$pid" 2>/dev/null && dk version >/dev/null 2>&1; then
		for x in $(dk ps -aq); do
			dk rm -f "$x" >/dev/null 2>&1 || true
		done
		for x in $(dk network ls -q --no-trunc --filter type=custom); do
			e2e_record_bridge "$(e2e_net_bridge "$x")" 2>/dev/null || true
			dk network rm "$x" >/dev/null 2>&1 || true
		done
		for x in $(dk plugin ls -q --no-trunc); do
			echo "$x" >>"$E2E_TMP/plugins"
			dk plugin disable -f "$x" >/dev/null 2>&1 || true
			dk plugin rm -f "$x" >/dev/null 2>&1 || true
		done
	fi
	e2e_halt_dockerd
	e2e_release_mount_ns
	e2e_kill_leftovers TERM
	sleep 0.2
	e2e_kill_leftovers KILL
	e2e_unmount_under "$E2E_TMP/data"
	e2e_unmount_under "$E2E_TMP/exec"
	# Managed plugins keep their sockets in /run/docker/plugins/<id>
	# whatever the exec root is.
	while read -r x; do
		[ -n "$x" ] || continue
		e2e_unmount_under "/run/docker/plugins/$x"
		rm -rf "/run/docker/plugins/${x:?}"
	done <"$E2E_TMP/plugins"
	rm -rf "$E2E_TMP/data" "$E2E_TMP/exec"
	if [ -n "${E2E_RUN_SOCK:-}" ]; then rm -f "$E2E_RUN_SOCK"; fi
	if [ -e "$E2E_TMP/rmdir-run-docker" ]; then
		rmdir /run/docker/plugins /run/docker 2>/dev/null || true
	fi
	if [ -e "$E2E_TMP/rmdir-run-containerd" ]; then
		rmdir /run/containerd/s /run/containerd 2>/dev/null || true
	fi
}

# e2e_restore_run_netns: undoes what `ip netns add` did to /run/netns if it
# was not a mount point before the run, as long as no namespace is left in
# it (a plain umount also fails while one is mounted there).
e2e_restore_run_netns() {
	[ "$E2E_RUN_NETNS" != mount ] || return 0
	if mountpoint -q /run/netns 2>/dev/null && [ -z "$(ls -A /run/netns)" ]; then
		umount /run/netns 2>/dev/null || true
	fi
	if [ "$E2E_RUN_NETNS" = absent ] && [ -d /run/netns ]; then
		rmdir /run/netns 2>/dev/null || true
	fi
}

# e2e_teardown: stops dockerd, reports this run's bridges and links left in
# E2E_NS, deletes E2E_NS (and so them) and removes the run dir. Runs once.
e2e_teardown() {
	local b i
	[ -n "$E2E_TMP" ] && [ -d "$E2E_TMP" ] || return 0
	e2e_stop_dockerd
	if [ "$E2E_NS_MADE" -eq 1 ]; then
		while read -r b; do
			[ -n "$b" ] || continue
			if ip -n "$E2E_NS" link show dev "$b" >/dev/null 2>&1; then
				e2e_note "cleanup: leftover link $b in $E2E_NS"
			fi
		done <"$E2E_TMP/bridges"
		for b in $(e2e_links | grep "^$E2E_PREFIX"); do
			e2e_note "cleanup: leftover link $b in $E2E_NS"
		done
		# Processes still in it keep the namespace alive.
		for i in $(seq 20); do
			[ -n "$(ip netns pids "$E2E_NS" 2>/dev/null)" ] || break
			e2e_kill_leftovers KILL
			sleep 0.1
		done
		if ip netns delete "$E2E_NS"; then
			E2E_NS_MADE=0
		else
			echo "e2e: ip netns delete $E2E_NS failed" >&2
		fi
	fi
	# Other namespaces named after the run (tests/e2e/firewall.sh's
	# outside), with what still runs in them.
	for b in $(ip netns list 2>/dev/null | awk -v p="$E2E_PREFIX" 'p != "" && index($1, p) == 1 { print $1 }'); do
		[ "$b" != "$E2E_NS" ] || continue
		for i in $(ip netns pids "$b" 2>/dev/null); do
			kill -KILL "$i" 2>/dev/null || true
		done
		ip netns delete "$b" || echo "e2e: ip netns delete $b failed" >&2
	done
	e2e_restore_run_netns
	rm -rf "$E2E_TMP"
}

# e2e_scan_log: after the plugin stopped, its output (in the dockerd log)
# must hold no sanitizer report.
e2e_scan_log() {
	local f=$E2E_TMP/dockerd.log hits
	[ -f "$f" ] || return 0
	hits=$(grep -E 'AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|ThreadSanitizer|runtime error:' "$f" | head -n 40) || true
	if [ -z "$hits" ]; then
		e2e_pass "no sanitizer report in the plugin's output"
	else
		e2e_fail "no sanitizer report in the plugin's output" "$hits"
	fi
}

# e2e_finish: the end of a test script: stops dockerd (and so the plugin),
# checks the log, prints its tail if anything failed, tears down, then
# prints the summary as the last line. Exits 0 only if all passed.
e2e_finish() {
	set +e
	trap - EXIT INT TERM
	e2e_stop_dockerd
	e2e_scan_log
	[ "$E2E_FAIL" -eq 0 ] || e2e_dockerd_log_tail
	e2e_teardown
	e2e_check_host_unchanged
	e2e_summary
	exit $?
}

# e2e_cleanup: the EXIT trap, for runs that did not reach e2e_finish (an
# error under set -e, a signal): the same, and the run fails.
e2e_cleanup() {
	local rc=$?
	set +e
	trap - EXIT INT TERM
	[ -n "$E2E_TMP" ] || exit "$rc"
	exec 1>&8 2>&9
	echo "e2e: aborted (exit status $rc)"
	e2e_dockerd_log_tail
	e2e_teardown
	if [ "$E2E_DONE" -eq 0 ]; then
		e2e_check_host_unchanged
		E2E_FAIL=$((E2E_FAIL + 1))
		e2e_summary
	fi
	[ "$rc" -ne 0 ] || rc=1
	exit "$rc"
}

# e2e_plugin_install BIN: builds and enables cbridge:latest in the private
# daemon with its state dir at $E2E_TMP/state.
e2e_plugin_install() {
	E2E_STATE_DIR=$E2E_TMP/state
	# The private dockerd's exec root and socket; upstream DNS only on
	# the plugin's loopback (the discard port) unless a test sets its own:
	# never the machine's resolver.
	local base="docker-exec.source=$E2E_TMP/exec DOCKER_EXEC_ROOT=$E2E_TMP/exec DOCKER_SOCKET=/host$E2E_RUN_SOCK DNS_UPSTREAMS=127.0.0.1:9"
	DOCKER=$E2E_DOCKER CBRIDGE_PLUGIN_NAME=$E2E_PLUGIN \
		CBRIDGE_STATE_DIR=$E2E_STATE_DIR \
		CBRIDGE_PLUGIN_SETTINGS="$base ${E2E_PLUGIN_SETTINGS-LOG_LEVEL=debug}" \
		"$E2E_TOP/scripts/plugin.sh" "$1" | sed 's/^/# /'
	dk plugin inspect -f '{{.Id}}' "$E2E_PLUGIN" >>"$E2E_TMP/plugins"
}

# e2e_plugin_pid: host pid of the plugin's process (empty if not running).
e2e_plugin_pid() {
	local id
	id=$(dk plugin inspect -f '{{.Id}}' "$E2E_PLUGIN" 2>/dev/null) || return 0
	ctr -a "$E2E_TMP/exec/containerd/containerd.sock" -n plugins.moby \
		task ls 2>/dev/null | awk -v id="$id" '$1 == id && $3 == "RUNNING" { print $2 }'
}

# ------------------------------------------------------------------ networks

# e2e_net_create NAME [docker network create args...]: creates a network
# (driver and IPAM cbridge:latest unless the args say -d/--driver). On
# success E2E_NET_ID is its ID and its bridge is recorded; E2E_OUT is the
# CLI output either way.
e2e_net_create() {
	local name=$1 a drv=()
	shift
	for a in "$@"; do
		case $a in
		-d | --driver | --driver=*) drv=(x) ;;
		esac
	done
	[ ${#drv[@]} -gt 0 ] || set -- -d "$E2E_PLUGIN" --ipam-driver "$E2E_PLUGIN" "$@"
	E2E_NET_ID=
	if E2E_OUT=$(dk network create "$@" "$name" 2>&1); then
		E2E_NET_ID=$(tail -n 1 <<<"$E2E_OUT")
		e2e_record_bridge "$(e2e_net_bridge "$E2E_NET_ID")"
		return 0
	fi
	return 1
}

# e2e_links: names of all links in E2E_NS, one per line.
e2e_links() {
	ip -n "$E2E_NS" -o link show | awk -F': ' '{ sub(/@.*/, "", $2); print $2 }' | sort
}

# e2e_is_bridge_up LINK: LINK exists in E2E_NS, is a bridge and is
# administratively up.
e2e_is_bridge_up() {
	local j
	j=$(ip -n "$E2E_NS" -j -d link show dev "$1" 2>/dev/null) || {
		echo "no link $1 in $E2E_NS"
		return 1
	}
	jq -e '.[0].linkinfo.info_kind == "bridge"' <<<"$j" >/dev/null || {
		echo "$1 is not a bridge: $(ip -n "$E2E_NS" -d link show dev "$1")"
		return 1
	}
	jq -e '.[0].flags | index("UP")' <<<"$j" >/dev/null || {
		echo "$1 is not up: $(ip -n "$E2E_NS" link show dev "$1")"
		return 1
	}
}

# e2e_has_addr LINK ADDR/LEN: the link in E2E_NS has that address.
e2e_has_addr() {
	local have
	have=$(ip -n "$E2E_NS" -j addr show dev "$1" 2>/dev/null |
		jq -r '.[0].addr_info[]? | "\(.local)/\(.prefixlen)"') || true
	if grep -qxF -- "$2" <<<"$have"; then
		return 0
	fi
	echo "$1 has not $2; it has: $(echo "$have" | tr '\n' ' ')"
	return 1
}

# e2e_no_link LINK: there is no LINK in E2E_NS; proven able to tell
# first: the same command shows E2E_NS's lo.
e2e_no_link() {
	if ! ip -n "$E2E_NS" link show dev lo >/dev/null 2>&1; then
		echo "probe: ip -n $E2E_NS link show dev lo fails: $(ip -n "$E2E_NS" link show dev lo 2>&1)"
		return 1
	fi
	if ip -n "$E2E_NS" link show dev "$1" >/dev/null 2>&1; then
		echo "link $1 still exists: $(ip -n "$E2E_NS" -d link show dev "$1")"
		return 1
	fi
}

# ---------------------------------------------------------- address helpers

# ip4_int A.B.C.D
ip4_int() {
	local a b c d
	IFS=. read -r a b c d <<<"$1"
	echo $(((a << 24) | (b << 16) | (c << 8) | d))
}

# cidr4_range A.B.C.D/N: prints "first last" as integers.
cidr4_range() {
	local ip=${1%/*} len=32 n size
	[ "$ip" = "$1" ] || len=${1#*/}
	n=$(ip4_int "$ip")
	size=$((1 << (32 - len)))
	n=$((n - n % size))
	echo "$n $((n + size - 1))"
}

# cidr4_overlap A B: true if the two prefixes overlap.
cidr4_overlap() {
	local a1 a2 b1 b2
	read -r a1 a2 <<<"$(cidr4_range "$1")"
	read -r b1 b2 <<<"$(cidr4_range "$2")"
	[ "$a1" -le "$b2" ] && [ "$b1" -le "$a2" ]
}

# cidr4_inside INNER OUTER: true if INNER lies inside OUTER.
cidr4_inside() {
	local a1 a2 b1 b2
	read -r a1 a2 <<<"$(cidr4_range "$1")"
	read -r b1 b2 <<<"$(cidr4_range "$2")"
	[ "$a1" -ge "$b1" ] && [ "$a2" -le "$b2" ]
}

# e2e_host_prefixes4: IPv4 prefixes in use in dockerd's namespace E2E_NS,
# the plugin's "host" (routes of all tables and interface addresses), one
# per line.
e2e_host_prefixes4() {
	{
		ip -n "$E2E_NS" -j -4 route show table all | jq -r '.[].dst'
		ip -n "$E2E_NS" -j -4 addr show | jq -r '.[].addr_info[]? | "\(.local)/\(.prefixlen)"'
	} | grep -v '^default$' | grep -v '^null$' | sort -u
}

# e2e_free4 CIDR [TAKEN...]: true if CIDR overlaps nothing in E2E_NS and
# none of TAKEN.
e2e_free4() {
	local c=$1 p
	shift
	for p in $(e2e_host_prefixes4) "$@"; do
		if cidr4_overlap "$c" "$p"; then
			return 1
		fi
	done
}

# e2e_pick4 A.B [TAKEN...]: prints a free A.B.X.0/24 (X random) or fails.
e2e_pick4() {
	local base=$1 i c
	shift
	for i in $(seq 100); do
		c=$base.$((RANDOM % 230 + 20)).0/24
		if e2e_free4 "$c" "$@"; then
			echo "$c"
			return 0
		fi
	done
	echo "e2e: no free /24 in $base.0.0/16" >&2
	return 1
}

# e2e_pick6: prints a fd00:cb:XXXX::/64 not routed in E2E_NS.
e2e_pick6() {
	local i h
	for i in $(seq 100); do
		h=$(printf '%x' $((RANDOM % 65000 + 256)))
		if ! ip -n "$E2E_NS" -6 route show table all | grep -q "fd00:cb:$h:"; then
			echo "fd00:cb:$h::/64"
			return 0
		fi
	done
	return 1
}

# -------------------------------------------------------------------- image

# e2e_build_image: makes E2E_IMAGE (cbtest/busybox:latest, command sh) with
# `docker import`, from a rootfs of Debian's busybox-static: /bin/busybox
# and links for the applets the tests use. No registry is involved. (The
# applet wget of this busybox segfaults: use nc for TCP checks.)
e2e_build_image() {
	local r=$E2E_TMP/image a bb
	bb=$(command -v busybox) || {
		echo "e2e: busybox is not installed (busybox-static)" >&2
		return 1
	}
	# ldd fails on a static executable.
	if ldd "$bb" >/dev/null 2>&1; then
		echo "e2e: $bb is not static (install busybox-static)" >&2
		return 1
	fi
	rm -rf "$r"
	mkdir -p "$r/bin" "$r/etc" "$r/proc" "$r/sys" "$r/dev" "$r/tmp" "$r/root"
	chmod 1777 "$r/tmp"
	cp "$bb" "$r/bin/busybox"
	for a in sh ping ping6 ip nc sleep cat ls hostname ifconfig route true \
		echo grep wc seq sysctl nslookup; do
		ln -s busybox "$r/bin/$a"
	done
	echo 'root:x:0:0:root:/root:/bin/sh' >"$r/etc/passwd"
	echo 'root:x:0:' >"$r/etc/group"
	tar -C "$r" --numeric-owner -cf - . |
		dk import -c 'CMD ["sh"]' -c 'ENV PATH=/bin' - "$E2E_IMAGE" >/dev/null || {
		echo "e2e: docker import of $E2E_IMAGE failed" >&2
		return 1
	}
	rm -rf "$r"
	e2e_note "image $E2E_IMAGE: busybox $("$bb" 2>&1 | head -n 1 | awk '{ print $2 }'), $(dk image inspect -f '{{.Size}}' "$E2E_IMAGE") bytes"
}
