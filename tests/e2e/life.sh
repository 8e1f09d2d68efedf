# shellcheck shell=bash
# Globals shared with run.sh (bin, PLUGIN_PID) and firewall.sh (F_*):
# shellcheck disable=SC2034,SC2154
# Scenarios users live through, sourced by tests/e2e/run.sh after the
# other sets, whose helpers they use (firewall.sh's outside namespace and
# probes, containers.sh's, dns.sh's and dnsdefault.sh's): dockerd
# restarted with and without --live-restore, a reboot, the plugin killed
# or replaced while containers use it, and dockerd's own docker0 next to
# cbridge's networks. Containers and networks are named lf-*; every
# scenario removes its own at its end (f_reset) and dockerd runs with the
# flags the run started it with afterwards (e2e_restart_dockerd).
#
# l_all runs, in this order (those without a restart first, the reboot
# last):
#   lk  kill -9 of the plugin while 16 `docker run -d` on one network are
#       under way (at least 3 running): dockerd starts it again; the
#       running containers have distinct addresses, the network's pool in
#       state.json holds exactly their addresses and the gateway, its
#       endpoints are theirs, one veth each; failed runs are retried;
#       removing all leaves only the gateway allocated
#   lp  the plugin replaced while a network and containers use it: docker
#       plugin disable -f and rm -f (traffic goes on), installed again
#       (e2e_plugin_install, a new plugin ID): ping, a published port,
#       names and a new container work, the port is held again; then a
#       new build (a marker file in its rootfs) pushed to docker-registry
#       on 127.0.0.1 in E2E_NS and `docker plugin upgrade`: the same ID,
#       the new rootfs runs, all works again
#   ll  dockerd restarted with --live-restore: while it is down the
#       containers keep running, ping each other, the published port
#       answers and cbridge answers names at 127.0.0.11; afterwards the
#       same plugin process (dockerd keeps an enabled managed plugin
#       running under live-restore), the same container pids and
#       addresses, state.json and cbridge's rules as before, names, and a
#       new container joins
#   ln  dockerd restarted without live-restore: --restart always and
#       unless-stopped containers come back with ping, names and the
#       published port (from the outside, the host's address and
#       127.0.0.1), and no stale endpoint or address (state.json, docker
#       inspect, docker network inspect)
#   ld  dockerd with its default docker0 (without --bridge=none): docker0
#       up, a container on the default bridge network reaches the
#       outside; a cbridge network next to it works; docker0's container
#       cannot reach cbridge's containers (but their published port
#       through the host's address), cbridge's cannot reach docker0's;
#       dockerd's rules unchanged by cbridge, during and after
#   lr  a reboot, dockerd still with docker0: dockerd stopped (its
#       --restart containers die), the bridges deleted (cbridge's and
#       docker0), the legacy tables (filter, nat, raw; IPv4 and IPv6) and
#       the nft ruleset of E2E_NS wiped, IPv4 forwarding off, dockerd
#       started in a fresh mount namespace: the bridge and cbridge's rules
#       (legacy, nft) are back, the containers come back with ping, names
#       and the published port, no stale endpoint or address; the one on
#       docker0 reaches the outside and the FORWARD policies are those of
#       the run's start; then dockerd with --bridge=none again: docker0
#       and its rules gone
# Checks that a known bug of cbridge would break go through
# l_check_or_known; none is known now (the bugs this set found are fixed).

L_REG_PORT=5000		# docker-registry, on 127.0.0.1 in E2E_NS
L_DEFAULT_ARGS=''	# E2E_DOCKERD_DEFAULT_ARGS as the run started
L_BUG_DOCKER0=''	# known bugs: words that say which, or empty
L_BUG_POLICY=''
L_BUG_PORT0=''
L_RULES0=''		# ld: dockerd's rules before lf-d
L_POLICIES=''		# lr: the IPv4 FORWARD policies before the reboot

# ------------------------------------------------------------------ helpers

# l_sort_ips: sorts IPv4 addresses, one per line.
l_sort_ips() {
	sort -t. -k1,1n -k2,2n -k3,3n -k4,4n
}

# l_check_or_known BUG DESC CMD...: e2e_check, or e2e_known_bug when BUG
# (a known bug's words) is not empty.
l_check_or_known() {
	local bug=$1
	shift
	if [ -n "$bug" ]; then
		e2e_known_bug "$1" "$bug" "${@:2}"
	else
		e2e_check "$@"
	fi
}

# l_plugin_back LABEL [OLD]: waits (<= 30 s) for the plugin to run, with a
# pid other than OLD if given; sets PLUGIN_PID.
l_plugin_back() {
	local i pid=''
	for i in $(seq 120); do
		pid=$(e2e_plugin_pid)
		[ -z "$pid" ] || [ "$pid" = "${2:-}" ] || break
		pid=''
		sleep 0.25
	done
	PLUGIN_PID=$pid
	if [ -n "$pid" ]; then
		e2e_pass "$1: the plugin runs (pid $pid${2:+, was $2})"
	else
		e2e_fail "$1: the plugin runs${2:+ with a pid other than $2} within 30 s"
	fi
}

# l_restart LABEL [ARGS...]: e2e_restart_dockerd ARGS and the plugin back;
# false if dockerd did not come back (it is then started with the run's
# flags, so that the run can go on and clean up).
l_restart() {
	local label=$1 desc flags
	shift
	flags="$E2E_DOCKERD_DEFAULT_ARGS ${DOCKERD_EXTRA_ARGS:-} $*"
	flags=$(xargs <<<"$flags")
	desc="$label: dockerd restarted with ${flags:-no flags}"
	if e2e_restart_dockerd "$@" 2>"$E2E_TMP/lf-restart.err"; then
		e2e_pass "$desc"
		l_plugin_back "$label"
		return 0
	fi
	e2e_fail "$desc" "$(cat "$E2E_TMP/lf-restart.err")"
	E2E_DOCKERD_DEFAULT_ARGS=$L_DEFAULT_ARGS e2e_start_dockerd >/dev/null 2>&1 || true
	PLUGIN_PID=$(e2e_plugin_pid)
	return 1
}

# l_dockerd_down PID: dockerd's process PID (taken while it ran) is gone
# and the CLI gets no answer from its socket.
l_dockerd_down() {
	if [ -z "$1" ]; then
		echo "probe: no pid of dockerd taken while it ran"
		return 1
	fi
	if kill -0 "$1" 2>/dev/null; then
		echo "dockerd $1 still runs"
		return 1
	fi
	! timeout 10 "$E2E_DOCKER" version --format '{{.Server.Version}}'
}

# l_alive PID...: every PID (none empty) is a running process.
l_alive() {
	local p
	[ $# -gt 0 ] || return 1
	for p in "$@"; do
		if [ -z "$p" ] || [ "$p" = 0 ] || ! kill -0 "$p"; then
			echo "pid '$p' does not run"
			return 1
		fi
	done
}

# l_running CTR OLDPID: waits (<= 30 s) until CTR runs with a pid other
# than OLDPID; prints that pid, or its state and fails.
l_running() {
	local i s=''
	for i in $(seq 60); do
		s=$(dk inspect -f '{{.State.Running}} {{.State.Pid}}' "$1" 2>&1) || true
		if [ "${s% *}" = true ] && [ "${s#* }" != "$2" ] && [ "${s#* }" != 0 ]; then
			echo "${s#* }"
			return 0
		fi
		sleep 0.5
	done
	echo "$1: $s"
	return 1
}

# l_allocated NET: the IPv4 addresses state.json allocates in NET's pool
# (ranges expanded), sorted.
l_allocated() {
	local f=$E2E_STATE_DIR/state.json id pool a lo hi x
	id=$(dk network inspect -f '{{.Id}}' "$1" 2>/dev/null) || return 0
	pool=$(jq -r --arg id "$id" '.networks[] | select(.id == $id) | .ipv4.pool // empty' "$f" 2>/dev/null) || return 0
	jq -r --arg p "$pool" '.ipam.pools[] | select(.pool == $p) | .allocated[]' "$f" 2>/dev/null |
		while read -r a; do
			if [[ $a == *-* ]]; then
				lo=$(ip4_int "${a%-*}")
				hi=$(ip4_int "${a#*-}")
				for ((x = lo; x <= hi; x++)); do
					int_ip4 "$x"
				done
			else
				echo "$a"
			fi
		done | l_sort_ips
}

# l_running_on NET: the running containers on NET (IDs).
l_running_on() {
	dk ps -q --filter "network=$1" 2>/dev/null || true
}

# l_on NET: "ENDPOINT ADDRESS" on NET of each container running on it, as
# docker inspect shows them (one inspect for all), sorted.
l_on() {
	local ids
	ids=$(l_running_on "$1")
	[ -n "$ids" ] || return 0
	# shellcheck disable=SC2086
	dk inspect $ids 2>&1 | jq -r --arg n "$1" \
		'.[].NetworkSettings.Networks[$n] | "\(.EndpointID) \(.IPAddress)"' 2>&1 | sort
}

# l_in_use NET: NET's gateway and the addresses of the containers running
# on it (docker inspect), sorted.
l_in_use() {
	local g
	g=$(gateway4 "$1")
	{
		echo "${g%/*}"
		l_on "$1" | awk '{ print $2 }'
	} | grep . | l_sort_ips
}

# l_state_eps NET: "ENDPOINT ADDRESS" of NET's endpoints in state.json.
l_state_eps() {
	local id
	id=$(dk network inspect -f '{{.Id}}' "$1" 2>/dev/null) || return 0
	jq -r --arg id "$id" '.endpoints[] | select(.network == $id)
		| "\(.id) \(.address // "" | sub("/[0-9]+$"; ""))"' \
		"$E2E_STATE_DIR/state.json" 2>&1 | sort
}

# l_netinspect_eps NET: "ENDPOINT ADDRESS" of the containers `docker
# network inspect` lists on NET.
l_netinspect_eps() {
	dk network inspect "$1" 2>&1 | jq -r '.[0].Containers // {} | .[]
		| "\(.EndpointID) \(.IPv4Address | sub("/[0-9]+$"; ""))"' 2>&1 | sort
}

# l_check_addrs LABEL NET N: N containers run on NET, with distinct
# addresses; NET's pool in state.json allocates exactly theirs and the
# gateway; state.json's endpoints and docker network inspect's are theirs;
# NET's bridge has one port each.
l_check_addrs() {
	local label=$1 net=$2 n=$3 on br g
	on=$(l_on "$net")
	g=$(gateway4 "$net")
	e2e_check_eq "$label: $n containers run on $net" "$n" "$(grep -c . <<<"$on" || true)"
	e2e_check_eq "$label: their addresses are distinct" "" "$(awk '{ print $2 }' <<<"$on" | grep . | sort | uniq -d)"
	e2e_check_eq "$label: $net's pool in state.json allocates exactly their addresses and the gateway" \
		"$({ echo "${g%/*}"; awk '{ print $2 }' <<<"$on"; } | grep . | l_sort_ips | xargs)" \
		"$(l_allocated "$net" | xargs)"
	e2e_check_eq "$label: state.json's endpoints on $net are the running containers' (docker inspect)" \
		"$on" "$(l_state_eps "$net")"
	e2e_check_eq "$label: docker network inspect $net lists the running containers' endpoints" \
		"$on" "$(l_netinspect_eps "$net")"
	br=$(e2e_net_bridge "$net")
	e2e_check_eq "$label: $net's bridge $br has one port per running container" "$n" \
		"$(c_ports "$br" | grep -c . || true)"
}

# l_resolves DESC CTR NAME WANT: CTR's nslookup of NAME through its
# resolv.conf (127.0.0.11) answers WANT (d_answer, up to three rounds:
# names arrive from the Engine API a moment after a start).
l_resolves() {
	local got='' i
	for i in 1 2 3; do
		got=$(d_answer "$2" "$3") || got=''
		[ "$got" != "$4" ] || break
	done
	e2e_check_eq "$1" "$4" "$got"
}

# l_works LABEL CLIENT IP NAME PORT: CLIENT pings NAME at IP and resolves
# NAME to IP; NAME's server (f_web, answering cbtok-NAME on port 80) is
# reached at its published PORT from the outside and from the host, at the
# host's address and at 127.0.0.1.
l_works() {
	local label=$1 client=$2 ip=$3 name=$4 port=$5
	c_ping "$label: $client pings $name ($ip)" "$client" "$ip"
	l_resolves "$label: $client resolves $name to $ip" "$client" "$name" "$ip"
	f_reach "$label: the outside reaches $name at $F_HOST4:$port" "$name" out tcp "$F_HOST4" "$port"
	f_reach "$label: the host reaches $name at $F_HOST4:$port" "$name" host tcp "$F_HOST4" "$port"
	f_reach "$label: the host reaches $name at 127.0.0.1:$port" "$name" host tcp 127.0.0.1 "$port"
}

# l_cb_rules: cbridge's rules in the legacy tables of E2E_NS (f_legacy's
# lines with a cbridge comment).
l_cb_rules() {
	f_legacy | grep -F 'cbridge:' || true
}

# l_net_rules ID IP...: cbridge's legacy rules of network ID and the base
# ones, without those naming one of the container addresses IP.
l_net_rules() {
	local id=$1 ip rules
	shift
	rules=$(f_legacy | grep -e 'cbridge:base:' -e "cbridge:${id:0:12}:") || true
	for ip in "$@"; do
		rules=$(grep -v -F -e "$ip/" -e "$ip:" <<<"$rules") || true
	done
	echo "$rules"
}

# l_wait_same DESC WANT SEC CMD...: CMD prints WANT within SEC seconds
# (dockerd's start flushes the legacy chains it shares with cbridge's,
# which puts its rules back within two).
l_wait_same() {
	local desc=$1 want=$2 sec=$3 i out=''
	shift 3
	for i in $(seq $((sec * 4))); do
		out=$("$@" 2>&1) || true
		[ "$out" != "$want" ] || break
		sleep 0.25
	done
	e2e_check_eq "$desc" "$want" "$out"
}

# l_nft_want: how many nft accepts cbridge keeps per IPv4 network: 2 where
# dockerd's chains are in nft, none where they are legacy ones.
l_nft_want() {
	if [ "$E2E_DOCKERD_IPTABLES" = legacy ]; then echo 0; else echo 2; fi
}

# l_nft_count ID: cbridge's nft accepts of network ID.
l_nft_count() {
	f_nft_rules "$1" | grep -c . || true
}

# l_policies: the IPv4 FORWARD policies of E2E_NS, nft and legacy.
l_policies() {
	echo "nft: $(e2e_nsx iptables-nft -S FORWARD 2>&1 | grep -m1 -e '^-P FORWARD' -e rror)," \
		"legacy: $(e2e_nsx iptables-legacy -S FORWARD 2>&1 | grep -m1 -e '^-P FORWARD' -e rror)"
}

# l_no_ping CTR ADDR: CTR gets no ping answer from ADDR within 2 s (the
# probe is the caller's: a ping that works from CTR).
l_no_ping() {
	! dk exec "$1" ping -c1 -W2 "$2"
}

# l_no_tcp CTR ADDR PORT: CTR's nc gets no answer from ADDR:PORT within 1 s
# (the probe is the caller's: f_reach from CTR).
l_no_tcp() {
	local out
	out=$(f_client "$1" tcp "$2" "$3" 1 2>&1) || true
	! grep 'cbtok-' <<<"$out"
}

# l_reaches PLACE NAME HOST PORT: f_client's TCP from PLACE gets the answer
# of server NAME (3 tries, 0.3 s apart).
l_reaches() {
	local i out=''
	for i in 1 2 3; do
		out=$(f_client "$1" tcp "$3" "$4" 2>&1) || true
		! f_has "$2" "$out" || return 0
		sleep 0.3
	done
	echo "${out:-(nothing)}"
	return 1
}

# l_dockerd_rules: dockerd's rules in E2E_NS as its iptables saves them,
# IPv4 and IPv6, each "TABLE -A ..." line without a cbridge comment, in
# order, counters left out; a save that fails: e2e_probe_failed's line.
l_dockerd_rules() {
	local t out
	for t in "iptables-$E2E_DOCKERD_IPTABLES-save" "ip6tables-$E2E_DOCKERD_IPTABLES-save"; do
		if out=$(e2e_nsx "$t" 2>/dev/null); then
			awk -v f="$t" '/^\*/ { tb = $0; next }
				/^-A / && !/cbridge:/ { print f, tb, $0 }' <<<"$out"
		else
			e2e_probe_failed "$t in $E2E_NS"
		fi
	done
}

# l_check_rules DESC BEFORE: l_dockerd_rules prints BEFORE; both were read
# whole and show docker0's masquerade (so that they show dockerd's rules).
l_check_rules() {
	local now d
	now=$(l_dockerd_rules)
	if f_probe_failed "$2" "$now" >/dev/null ||
		! grep -q -- '! -o docker0 -j MASQUERADE' <<<"$2"; then
		e2e_fail "$1" "probe: dockerd's rules with docker0's masquerade, read whole before and now:" \
			"before:" "$2" "now:" "$now"
	elif [ "$now" = "$2" ]; then
		e2e_pass "$1"
	else
		d=$(diff <(echo "$2") <(echo "$now") | head -n 40) || true
		e2e_fail "$1" "$d"
	fi
}

# l_wipe: what a reboot clears in E2E_NS: the legacy tables filter, nat and
# raw (IPv4, IPv6: flushed, user chains deleted, built-in policies
# ACCEPT), the nft ruleset, and IPv4 forwarding.
l_wipe() {
	local fam t c
	for fam in iptables-legacy ip6tables-legacy; do
		for t in filter nat raw; do
			e2e_nsx "$fam" -t "$t" -F || return 1
			e2e_nsx "$fam" -t "$t" -X || return 1
		done
		for c in INPUT FORWARD OUTPUT; do
			e2e_nsx "$fam" -t filter -P "$c" ACCEPT || return 1
		done
	done
	e2e_nsx nft flush ruleset || return 1
	e2e_nsx sysctl -qw net.ipv4.ip_forward=0
}

# l_bridges: the bridges of every cbridge network in state.json.
l_bridges() {
	jq -r '.networks[].bridge' "$E2E_STATE_DIR/state.json" 2>/dev/null || true
}

# -------------------------------------------------------------- scenarios

# lk. kill -9 of the plugin while containers start
l_kill() {
	local L=lk n=16 i c names=() pids=() retry=() up=0 old first='' out gw br
	f_net "$L: create lf-k" lf-k --subnet "$(pick4)" || return 0
	gw=$(f_gw lf-k)
	br=$(e2e_net_bridge lf-k)
	old=$(e2e_plugin_pid)
	if [ -z "$old" ]; then
		e2e_fail "$L: the plugin runs before the kill"
		return 0
	fi
	for i in $(seq -w 1 $n); do
		names+=("lf-k-$i")
		F_CTRS+=("lf-k-$i")
		dk run -d --name "lf-k-$i" --network lf-k "$E2E_IMAGE" sleep 1d \
			>"$E2E_TMP/lf-k-$i.out" 2>&1 </dev/null &
		pids+=("$!")
	done
	for i in $(seq 300); do
		up=$(l_running_on lf-k | grep -c . || true)
		[ "$up" -lt 3 ] || break
		sleep 0.1
	done
	kill -KILL "$old" 2>/dev/null || true
	e2e_note "$L: kill -9 of the plugin (pid $old) with $up of $n containers running"
	for i in "${!pids[@]}"; do
		if ! wait "${pids[$i]}"; then
			retry+=("${names[$i]}")
			[ -n "$first" ] || first="${names[$i]}: $(cli_error "$(cat "$E2E_TMP/${names[$i]}.out")" | head -n 2)"
		fi
	done
	if [ "$up" -ge 3 ] && [ "$up" -lt "$n" ]; then
		e2e_pass "$L: the kill came mid-way ($up of $n running)"
	else
		e2e_fail "$L: the kill came mid-way" "$up of $n were running"
	fi
	l_plugin_back "$L: dockerd restarted the plugin after kill -9" "$old"
	e2e_note "$L: ${#retry[@]} of $n docker run -d failed${first:+; the first: $first}"
	l_check_addrs "$L: after the kill" lf-k $((n - ${#retry[@]}))
	for c in "${retry[@]}"; do
		dk rm -f "$c" >/dev/null 2>&1 || true
		if out=$(dk run -d --name "$c" --network lf-k "$E2E_IMAGE" sleep 1d 2>&1); then
			e2e_pass "$L: docker run -d --name $c again succeeds"
		else
			e2e_fail "$L: docker run -d --name $c again succeeds" "$out"
		fi
	done
	[ ${#retry[@]} -gt 0 ] || e2e_note "$L: no run failed, none to retry"
	l_check_addrs "$L: all started" lf-k "$n"
	# shellcheck disable=SC2016,SC2046
	out=$(dk exec lf-k-01 sh -c 'for a in "$@"; do ping -c1 -W2 "$a" >/dev/null 2>&1 || echo "$a"; done' \
		sh $(l_in_use lf-k) 2>&1) || true
	e2e_check_eq "$L: lf-k-01 pings the gateway and all $n" "" "$out"
	e2e_check "$L: docker rm -f all $n" dk rm -f "${names[@]}"
	e2e_check_eq "$L: only the gateway is allocated in lf-k's pool" "$gw" "$(l_allocated lf-k | xargs)"
	e2e_check_eq "$L: no endpoint of lf-k in state.json" "" "$(l_state_eps lf-k)"
	e2e_check_eq "$L: no port on lf-k's bridge $br" "" "$(c_ports "$br")"
}

# lp. the plugin replaced, then upgraded
l_replace() {
	local L=lp ipa ipb old new out
	f_net "$L: create lf-p" lf-p --subnet "$(pick4)" || return 0
	f_start "$L: container lf-p-a" lf-p-a lf-p || return 0
	f_start "$L: container lf-p-b -p 18630:80" lf-p-b lf-p -p 18630:80 || return 0
	ipa=$(c_addr4 lf-p-a lf-p)
	ipb=$(c_addr4 lf-p-b lf-p)
	f_web "$L" lf-p-b "$ipb" 80 lf-p-b
	l_works "$L: before" lf-p-a "$ipb" lf-p-b 18630
	old=$(dk plugin inspect -f '{{.Id}}' "$E2E_PLUGIN" 2>&1)
	e2e_check "$L: docker plugin disable -f, containers running" dk plugin disable -f "$E2E_PLUGIN"
	e2e_check "$L: docker plugin rm -f" dk plugin rm -f "$E2E_PLUGIN"
	if out=$(dk plugin ls --format '{{.Name}}' 2>&1) && ! grep -qxF "$E2E_PLUGIN" <<<"$out" &&
		dk network inspect lf-p >/dev/null 2>&1; then
		e2e_pass "$L: no plugin $E2E_PLUGIN any more (network lf-p still listed)"
	else
		e2e_fail "$L: no plugin $E2E_PLUGIN any more (network lf-p still listed)" "$out"
	fi
	c_ping "$L: without the plugin, lf-p-a still pings lf-p-b" lf-p-a "$ipb"
	f_reach "$L: without the plugin, the outside still reaches $F_HOST4:18630" lf-p-b out tcp "$F_HOST4" 18630
	if out=$(e2e_plugin_install "$bin" 2>&1); then
		e2e_pass "$L: the plugin installed again (e2e_plugin_install)"
	else
		e2e_fail "$L: the plugin installed again (e2e_plugin_install)" "$out"
		return 0
	fi
	new=$(dk plugin inspect -f '{{.Id}}' "$E2E_PLUGIN" 2>&1)
	if [ -n "$new" ] && [ "$new" != "$old" ]; then
		e2e_pass "$L: a new plugin ID (${new:0:12}, was ${old:0:12})"
	else
		e2e_fail "$L: a new plugin ID" "old: $old" "new: $new"
	fi
	l_plugin_back "$L: after the new install"
	l_still_serves "$L: after the new install" lf-p "$ipa" "$ipb" 18630 lf-p-c 3 || return 0
	l_upgrade "$L" "$ipa" "$ipb"
}

# l_held LABEL PORT: the plugin's process holds host port PORT/tcp in
# E2E_NS (ss -p).
l_held() {
	local out
	out=$(e2e_nsx ss -Hltnp "sport = :$2" 2>&1) || true
	e2e_check_match "$1: the plugin (pid ${PLUGIN_PID:-none}) holds host port $2/tcp" \
		"\"cbridge\",pid=${PLUGIN_PID:-none}," "$out"
}

# l_upgrade LABEL IPA IPB: lp's upgrade, through docker-registry in E2E_NS.
l_upgrade() {
	local L=$1 ipa=$2 ipb=$3 reg=127.0.0.1:$L_REG_PORT dir=$E2E_TMP/lf-plugin tok id out i pid ref
	ref=$reg/cbridge:new
	if ! command -v docker-registry >/dev/null; then
		e2e_fail "$L: docker-registry is installed (scripts/deps.sh e2e)"
		return 0
	fi
	mkdir -p "$E2E_TMP/lf-registry"
	cat >"$E2E_TMP/lf-registry.yml" <<-EOF
		version: 0.1
		log:
		  level: warn
		storage:
		  filesystem:
		    rootdirectory: $E2E_TMP/lf-registry
		http:
		  addr: $reg
	EOF
	f_bg "$E2E_TMP/lf-registry.log" ip netns exec "$E2E_NS" docker-registry serve "$E2E_TMP/lf-registry.yml"
	for i in $(seq 40); do
		! out=$(e2e_nsx curl -sS -m 2 "http://$reg/v2/" 2>&1) || break
		sleep 0.25
	done
	if [ "$out" = '{}' ]; then
		e2e_pass "$L: docker-registry answers on $reg in $E2E_NS"
	else
		e2e_fail "$L: docker-registry answers on $reg in $E2E_NS" "$out" "$(cat "$E2E_TMP/lf-registry.log")"
		return 0
	fi
	rm -rf "$dir"
	if ! out=$("$E2E_TOP/scripts/plugin.sh" --rootfs-only "$bin" "$dir" 2>&1); then
		e2e_fail "$L: plugin.sh --rootfs-only" "$out"
		return 0
	fi
	tok=lf-build-$E2E_PREFIX-$RANDOM
	echo "$tok" >"$dir/rootfs/etc/cbridge-build"
	e2e_check "$L: docker plugin create $ref (a new build: its rootfs has /etc/cbridge-build)" \
		dk plugin create "$ref" "$dir"
	e2e_check "$L: docker plugin push $ref" dk plugin push "$ref"
	e2e_check "$L: docker plugin rm $ref (the local copy)" dk plugin rm "$ref"
	rm -rf "$dir"
	id=$(dk plugin inspect -f '{{.Id}}' "$E2E_PLUGIN" 2>&1)
	e2e_check "$L: docker plugin disable -f before the upgrade" dk plugin disable -f "$E2E_PLUGIN"
	# The CLI asks whether to go on, the images differing.
	if out=$(echo y | dk plugin upgrade --grant-all-permissions "$E2E_PLUGIN" "$ref" 2>&1); then
		e2e_pass "$L: docker plugin upgrade $E2E_PLUGIN $ref"
	else
		e2e_fail "$L: docker plugin upgrade $E2E_PLUGIN $ref" "$out"
	fi
	# dockerd takes the mounts from the new config.json, with its
	# default sources (the settings it shows keep the old ones): set
	# them again, as the README says.
	e2e_check "$L: docker plugin set state.source and docker-exec.source again" \
		dk plugin set "$E2E_PLUGIN" "state.source=$E2E_STATE_DIR" "docker-exec.source=$E2E_TMP/exec"
	e2e_check "$L: docker plugin enable after the upgrade" dk plugin enable "$E2E_PLUGIN"
	l_plugin_back "$L: after the upgrade"
	pid=$PLUGIN_PID
	e2e_check_eq "$L: the upgraded plugin keeps its ID" "$id" "$(dk plugin inspect -f '{{.Id}}' "$E2E_PLUGIN" 2>&1)"
	e2e_check_eq "$L: its reference is $ref" "$ref" \
		"$(dk plugin inspect -f '{{.PluginReference}}' "$E2E_PLUGIN" 2>&1)"
	e2e_check_eq "$L: the running plugin is the new build (/etc/cbridge-build in its root)" "$tok" \
		"$(cat "/proc/${pid:-0}/root/etc/cbridge-build" 2>&1)"
	l_still_serves "$L: after the upgrade" lf-p "$ipa" "$ipb" 18630 lf-p-d 4
}

# l_still_serves WHEN NET IPA IPB PORT NEW N: NET's NET-a and NET-b (at IPA
# and IPB) still talk, ports and names work and PORT is held; a new
# container NEW joins NET, pings NET-a and is resolved by it; NET has N
# addresses allocated.  False when NEW does not start.
l_still_serves() {
	local when=$1 net=$2 ipa=$3 ipb=$4 port=$5 new=$6 n=$7
	l_works "$when" "$net-a" "$ipb" "$net-b" "$port"
	l_held "$when" "$port"
	f_start "$when: a new container $new joins $net" "$new" "$net" || return 1
	c_ping "$when: $new pings $net-a" "$new" "$ipa"
	l_resolves "$when: $net-a resolves $new" "$net-a" "$new" "$(c_addr4 "$new" "$net")"
	l_check_addrs "$when" "$net" "$n"
}

# ll. dockerd restarted with --live-restore
l_live() {
	local L=ll ipa ipb pa pb pp id state rules nft out got dpid
	l_restart "$L" --live-restore || return 0
	e2e_check_eq "$L: docker info: LiveRestoreEnabled" true "$(dk info -f '{{.LiveRestoreEnabled}}' 2>&1)"
	f_net "$L: create lf-l" lf-l --subnet "$(pick4)" || return 0
	id=$E2E_NET_ID
	f_start "$L: container lf-l-a" lf-l-a lf-l || return 0
	f_start "$L: container lf-l-b -p 18640:80" lf-l-b lf-l -p 18640:80 || return 0
	ipa=$(c_addr4 lf-l-a lf-l)
	ipb=$(c_addr4 lf-l-b lf-l)
	f_web "$L" lf-l-b "$ipb" 80 lf-l-b
	l_works "$L: before" lf-l-a "$ipb" lf-l-b 18640
	pa=$(f_pid lf-l-a)
	pb=$(f_pid lf-l-b)
	pp=$(e2e_plugin_pid)
	state=$(c_state_extra)
	rules=$(l_cb_rules)
	nft=$(f_nft_rules "$id")
	dpid=$E2E_DOCKERD_PID
	e2e_hold_mount_ns
	e2e_halt_dockerd

	e2e_check "$L: dockerd (pid $dpid) is down" l_dockerd_down "$dpid"
	e2e_check "$L: while it is down, lf-l-a (pid $pa) and lf-l-b (pid $pb) run" l_alive "$pa" "$pb"
	e2e_check "$L: while it is down, the plugin (pid ${pp:-none}) runs" l_alive "$pp"
	e2e_check "$L: while it is down, lf-l-a pings lf-l-b (nsenter)" \
		nsenter -t "$pa" -n busybox ping -c1 -W2 "$ipb"
	f_reach "$L: while it is down, the outside reaches lf-l-b at $F_HOST4:18640" lf-l-b out tcp "$F_HOST4" 18640
	f_reach "$L: while it is down, the host reaches lf-l-b at 127.0.0.1:18640" lf-l-b host tcp 127.0.0.1 18640
	# dockerd's resolver is gone with dockerd: an answer is cbridge's.
	out=$(n_qp "$pa" lf-l-b) || true
	got=$(n_got "$out")
	e2e_check_eq "$L: while it is down, cbridge answers lf-l-b at 127.0.0.11 in lf-l-a" "$ipb" "${got% ttl=*}"

	if e2e_start_dockerd --live-restore >/dev/null 2>"$E2E_TMP/lf-restart.err"; then
		e2e_pass "$L: dockerd started again with --live-restore"
	else
		e2e_fail "$L: dockerd started again with --live-restore" "$(cat "$E2E_TMP/lf-restart.err")"
		E2E_DOCKERD_DEFAULT_ARGS=$L_DEFAULT_ARGS e2e_start_dockerd >/dev/null 2>&1 || true
		PLUGIN_PID=$(e2e_plugin_pid)
		return 0
	fi
	l_plugin_back "$L: after the restart"
	e2e_check_eq "$L: the same plugin process (dockerd keeps it under live-restore)" "$pp" "$PLUGIN_PID"
	e2e_check_eq "$L: lf-l-a and lf-l-b run on, same pids" "$pa $pb" "$(f_pid lf-l-a) $(f_pid lf-l-b)"
	e2e_check_eq "$L: lf-l-a and lf-l-b keep their addresses" "$ipa $ipb" \
		"$(c_addr4 lf-l-a lf-l) $(c_addr4 lf-l-b lf-l)"
	e2e_check_eq "$L: state.json's endpoints and allocations as before" "$state" "$(c_state_extra)"
	l_wait_same "$L: cbridge's legacy rules as before (within 5 s)" "$rules" 5 l_cb_rules
	l_wait_same "$L: cbridge's nft accepts of lf-l as before (within 5 s)" "$nft" 5 f_nft_rules "$id"
	l_still_serves "$L: after the restart" lf-l "$ipa" "$ipb" 18640 lf-l-c 3
}

# ll's end: its containers and network removed, dockerd back to the run's
# flags.
l_live_end() {
	f_reset ll
	l_restart ll || return 0
	e2e_check_eq "ll: docker info: LiveRestoreEnabled false again" false "$(dk info -f '{{.LiveRestoreEnabled}}' 2>&1)"
}

# ln. dockerd restarted without live-restore
l_norestore() {
	local L=ln ipa ipb pa pb epa epb
	f_net "$L: create lf-n" lf-n --subnet "$(pick4)" || return 0
	f_start "$L: container lf-n-a --restart always" lf-n-a lf-n --restart always --stop-timeout 1 || return 0
	f_start "$L: container lf-n-b --restart unless-stopped -p 18650:80" lf-n-b lf-n \
		--restart unless-stopped --stop-timeout 1 -p 18650:80 || return 0
	ipb=$(c_addr4 lf-n-b lf-n)
	f_web "$L" lf-n-b "$ipb" 80 lf-n-b
	l_works "$L: before" lf-n-a "$ipb" lf-n-b 18650
	pa=$(f_pid lf-n-a)
	pb=$(f_pid lf-n-b)
	epa=$(c_net_field lf-n-a lf-n EndpointID)
	epb=$(c_net_field lf-n-b lf-n EndpointID)
	l_restart "$L" || return 0
	e2e_check "$L: lf-n-a (--restart always) runs again, a new process" l_running lf-n-a "$pa"
	e2e_check "$L: lf-n-b (--restart unless-stopped) runs again, a new process" l_running lf-n-b "$pb"
	ipa=$(c_addr4 lf-n-a lf-n)
	ipb=$(c_addr4 lf-n-b lf-n)
	e2e_note "$L: after the restart lf-n-a has $ipa, lf-n-b $ipb"
	f_web "$L" lf-n-b "$ipb" 80 lf-n-b
	l_works "$L: after the restart" lf-n-a "$ipb" lf-n-b 18650
	c_ping "$L: lf-n-b pings lf-n-a ($ipa)" lf-n-b "$ipa"
	l_resolves "$L: lf-n-b resolves lf-n-a" lf-n-b lf-n-a "$ipa"
	l_held "$L: after the restart" 18650
	c_state_lacks "$L: state.json has no endpoint of lf-n-a's before the restart (its new one is there)" \
		"$epa" "$(c_net_field lf-n-a lf-n EndpointID)"
	c_state_lacks "$L: state.json has no endpoint of lf-n-b's before the restart (its new one is there)" \
		"$epb" "$(c_net_field lf-n-b lf-n EndpointID)"
	l_check_addrs "$L: after the restart" lf-n 2
}

# ld. dockerd with its default docker0
l_docker0() {
	local L=ld ip0 ipa ipb gw0
	L_RULES0=''
	E2E_DOCKERD_DEFAULT_ARGS='' l_restart "$L" || return 0
	e2e_check "$L: docker0 is an up bridge in $E2E_NS" e2e_is_bridge_up docker0
	e2e_check_eq "$L: the network bridge (driver bridge) is back" bridge \
		"$(dk network inspect -f '{{.Driver}}' bridge 2>&1)"
	f_start "$L: container lf-d-0 on the default bridge network" lf-d-0 bridge || return 0
	ip0=$(dk inspect -f '{{.NetworkSettings.IPAddress}}' lf-d-0 2>&1)
	gw0=$(dk inspect -f '{{.NetworkSettings.Gateway}}' lf-d-0 2>&1)
	e2e_note "$L: lf-d-0 has $ip0 on docker0 (gateway $gw0)"
	c_ping "$L: lf-d-0 pings docker0's $gw0" lf-d-0 "$gw0"
	f_reach "$L: lf-d-0 reaches the outside $F_OUT4:9000" outside lf-d-0 tcp "$F_OUT4" 9000
	f_web "$L" lf-d-0 "$ip0" 8080 lf-d-0
	L_RULES0=$(l_dockerd_rules)

	f_net "$L: create lf-d next to docker0" lf-d --subnet "$(pick4)" || return 0
	f_start "$L: container lf-d-a on lf-d" lf-d-a lf-d || return 0
	f_start "$L: container lf-d-b on lf-d -p 18660:80" lf-d-b lf-d -p 18660:80 || return 0
	ipa=$(c_addr4 lf-d-a lf-d)
	ipb=$(c_addr4 lf-d-b lf-d)
	f_web "$L" lf-d-b "$ipb" 80 lf-d-b
	l_works "$L" lf-d-a "$ipb" lf-d-b 18660
	f_reach "$L: lf-d-a reaches the outside $F_OUT4:9000" outside lf-d-a tcp "$F_OUT4" 9000

	# docker0 to cbridge: f_no_ping and f_blocked prove their probe.
	f_no_ping "$L: lf-d-0 (docker0) cannot ping lf-d-a ($ipa)" lf-d-0 "$ipa" "$F_OUT4"
	f_blocked "$L: lf-d-0 (docker0) cannot reach lf-d-b's $ipb:80" lf-d-0 tcp "$ipb" 80 \
		outside "$F_OUT4" 9000
	l_check_or_known "$L_BUG_PORT0" "$L: lf-d-0 (docker0) reaches lf-d-b's published port at $F_HOST4:18660" \
		l_reaches lf-d-0 lf-d-b "$F_HOST4" 18660
	# cbridge to docker0: the probes are the pings and f_reach above.
	c_ping "$L: probe: lf-d-a pings lf-d-b" lf-d-a "$ipb"
	l_check_or_known "$L_BUG_DOCKER0" "$L: lf-d-a (cbridge) cannot ping lf-d-0 ($ip0, docker0)" \
		l_no_ping lf-d-a "$ip0"
	f_reach "$L: probe: lf-d-a reaches lf-d-b's $ipb:80" lf-d-b lf-d-a tcp "$ipb" 80
	l_check_or_known "$L_BUG_DOCKER0" "$L: lf-d-a (cbridge) cannot reach lf-d-0's $ip0:8080 (docker0)" \
		l_no_tcp lf-d-a "$ip0" 8080
	l_check_rules "$L: dockerd's rules ($E2E_DOCKERD_IPTABLES) unchanged by lf-d and its containers" "$L_RULES0"
}

# ld's end: its containers and network removed, dockerd's rules as before
# them. dockerd keeps docker0 for lr.
l_docker0_end() {
	f_reset ld
	[ -z "$L_RULES0" ] || l_check_rules "ld: dockerd's rules as before lf-d once it is gone" "$L_RULES0"
}

# lr. a reboot, dockerd with docker0 (its defaults, as on most hosts)
l_reboot() {
	local L=lr ipa ipb pa pb p0 id br gw rules b bridges out dpid
	L_POLICIES=$(l_policies)
	if ! e2e_is_bridge_up docker0 >/dev/null; then
		E2E_DOCKERD_DEFAULT_ARGS='' l_restart "$L" || return 0
	fi
	f_net "$L: create lf-r" lf-r --subnet "$(pick4)" || return 0
	id=$E2E_NET_ID
	br=$(e2e_net_bridge lf-r)
	gw=$(gateway4 lf-r)
	f_start "$L: container lf-r-a --restart always" lf-r-a lf-r --restart always --stop-timeout 1 || return 0
	f_start "$L: container lf-r-b --restart always -p 18670:80" lf-r-b lf-r \
		--restart always --stop-timeout 1 -p 18670:80 || return 0
	f_start "$L: container lf-r-0 --restart always on the default bridge network" lf-r-0 bridge \
		--restart always --stop-timeout 1 || return 0
	ipa=$(c_addr4 lf-r-a lf-r)
	ipb=$(c_addr4 lf-r-b lf-r)
	f_web "$L" lf-r-b "$ipb" 80 lf-r-b
	l_works "$L: before" lf-r-a "$ipb" lf-r-b 18670
	f_reach "$L: before: lf-r-0 (docker0) reaches the outside" outside lf-r-0 tcp "$F_OUT4" 9000
	pa=$(f_pid lf-r-a)
	pb=$(f_pid lf-r-b)
	p0=$(f_pid lf-r-0)
	rules=$(l_net_rules "$id" "$ipa" "$ipb")
	e2e_note "$L: before: IPv4 FORWARD policies $(l_policies)"
	bridges="$(l_bridges) docker0"

	dpid=$E2E_DOCKERD_PID
	e2e_halt_dockerd
	e2e_release_mount_ns
	e2e_check "$L: dockerd (pid $dpid) is down" l_dockerd_down "$dpid"
	for b in $bridges; do
		e2e_check "$L: ip link del $b" e2e_ip link del "$b"
	done
	e2e_check "$L: legacy tables, nft ruleset and IPv4 forwarding of $E2E_NS wiped" l_wipe
	f_snapshot_lacks "$L: no rule of cbridge's left after the wipe" 'cbridge:'
	e2e_check_eq "$L: no rule in the legacy tables, no nft table" "" \
		"$({ f_legacy; e2e_nsx nft list tables; } | grep -E '^(-A|table|!!)' || true)"

	if E2E_DOCKERD_DEFAULT_ARGS='' e2e_start_dockerd >/dev/null 2>"$E2E_TMP/lf-restart.err"; then
		e2e_pass "$L: dockerd started again (a new mount namespace)"
	else
		e2e_fail "$L: dockerd started again (a new mount namespace)" "$(cat "$E2E_TMP/lf-restart.err")"
		return 0
	fi
	l_plugin_back "$L: after the reboot"
	e2e_check "$L: lf-r-a (--restart always) runs again" l_running lf-r-a "$pa"
	e2e_check "$L: lf-r-b (--restart always) runs again" l_running lf-r-b "$pb"
	e2e_check "$L: lf-r-0 (--restart always, docker0) runs again" l_running lf-r-0 "$p0"
	ipa=$(c_addr4 lf-r-a lf-r)
	ipb=$(c_addr4 lf-r-b lf-r)
	e2e_note "$L: after the reboot lf-r-a has $ipa, lf-r-b $ipb; IPv4 FORWARD policies $(l_policies)"
	check_bridge "$L: lf-r" "$br" "$gw"
	e2e_check "$L: docker0 is back" e2e_is_bridge_up docker0
	e2e_check_eq "$L: IPv4 forwarding on again in $E2E_NS" 1 "$(e2e_nsx cat /proc/sys/net/ipv4/ip_forward 2>&1)"
	l_wait_same "$L: cbridge's legacy rules of lf-r as before (within 5 s)" "$rules" 5 \
		l_net_rules "$id" "$ipa" "$ipb"
	out=$(f_legacy | grep -F "cbridge:${id:0:12}:" | grep -F -e "--to-destination $ipb:80" | grep -c -- '--dport 18670' || true)
	e2e_check_eq "$L: the DNAT of 18670 to lf-r-b's new $ipb:80 is there" 1 "$out"
	l_wait_same "$L: $(l_nft_want) nft accepts of lf-r (within 5 s)" "$(l_nft_want)" 5 l_nft_count "$id"
	f_web "$L" lf-r-b "$ipb" 80 lf-r-b
	l_works "$L: after the reboot" lf-r-a "$ipb" lf-r-b 18670
	l_resolves "$L: lf-r-b resolves lf-r-a" lf-r-b lf-r-a "$ipa"
	l_held "$L: after the reboot" 18670
	l_check_addrs "$L: after the reboot" lf-r 2
	# The probe: lf-r-0 answers its gateway; its forwarded traffic is what
	# the FORWARD policies decide.
	c_ping "$L: probe: lf-r-0 pings docker0's $(dk inspect -f '{{.NetworkSettings.Gateway}}' lf-r-0 2>&1)" \
		lf-r-0 "$(dk inspect -f '{{.NetworkSettings.Gateway}}' lf-r-0 2>&1)"
	l_check_or_known "$L_BUG_POLICY" "$L: after the reboot, lf-r-0 (docker0) reaches the outside" \
		l_reaches lf-r-0 outside "$F_OUT4" 9000
	# Whoever turns forwarding on first sets its FORWARD policy to DROP:
	# at boot that may be cbridge (legacy) instead of dockerd (nft).
	l_check_or_known "$L_BUG_POLICY" "$L: after the reboot one IPv4 FORWARD policy is DROP (before: $L_POLICIES; now: $(l_policies))" \
		l_policy_drops
}

# l_policy_drops: the nft or the legacy IPv4 FORWARD policy is DROP.
l_policy_drops() {
	grep -q -- '-P FORWARD DROP' <<<"$(l_policies)"
}

# lr's end: its containers and network removed; dockerd back to the run's
# flags (docker0 gone); the FORWARD policies of the run's start put back
# if the reboot changed them.
l_reboot_end() {
	local L=lr now out
	f_reset "$L"
	l_restart "$L" || return 0
	e2e_check "$L: docker0 is gone with $L_DEFAULT_ARGS" e2e_no_link docker0
	out=$(dk network ls --format '{{.Name}}' 2>&1)
	if grep -qx host <<<"$out" && ! grep -qx bridge <<<"$out"; then
		e2e_pass "$L: no network bridge any more (host is listed)"
	else
		e2e_fail "$L: no network bridge any more (host is listed)" "$out"
	fi
	out=$(l_dockerd_rules)
	if f_probe_failed "$out" >/dev/null; then
		e2e_fail "$L: no rule of dockerd names docker0 any more" "$out"
	else
		e2e_check_eq "$L: no rule of dockerd names docker0 any more" "" "$(grep docker0 <<<"$out" || true)"
	fi
	now=$(l_policies)
	[ -n "$L_POLICIES" ] && [ "$now" != "$L_POLICIES" ] || return 0
	e2e_note "$L: the FORWARD policies are $now; putting back $L_POLICIES"
	e2e_nsx iptables-nft -P FORWARD "$(sed -n 's/^nft: -P FORWARD \([A-Z]*\),.*/\1/p' <<<"$L_POLICIES")" || true
	e2e_nsx iptables-legacy -P FORWARD "$(sed -n 's/.*legacy: -P FORWARD \([A-Z]*\)$/\1/p' <<<"$L_POLICIES")" || true
	e2e_check_eq "$L: the FORWARD policies of the run's start again" "$L_POLICIES" "$(l_policies)"
}

# l_timed LABEL FUNC END...: the scenario FUNC, then END... (its cleanup);
# notes the time both took.
l_timed() {
	local label=$1 func=$2 t0
	shift 2
	t0=$(date +%s%N)
	e2e_scenario "$func"
	"$@"
	e2e_note "$label: took $((($(date +%s%N) - t0) / 1000000)) ms"
}

# l_all: the scenarios, with firewall.sh's outside around them.
l_all() {
	local t missing='' out=''
	for t in perl nsenter iptables-legacy-save ip6tables-legacy-save ss timeout curl; do
		command -v "$t" >/dev/null || missing="$missing $t"
	done
	if [ -n "$missing" ]; then
		e2e_fail "life: tools present" "missing:$missing"
		return 0
	fi
	L_DEFAULT_ARGS=$E2E_DOCKERD_DEFAULT_ARGS
	[ -n "$F_PEER" ] || {
		F_PEER=$E2E_TMP/peer.pl
		cp "$E2E_TOP/tests/e2e/peer.pl" "$F_PEER"
	}
	if f_outside_up && out=$(f_out busybox ping -c1 -W2 "$F_HOST4" 2>&1); then
		e2e_pass "life: outside namespace $F_OUT joined to $E2E_NS ($F_VH $F_HOST4 - $F_VO $F_OUT4)"
	else
		e2e_fail "life: outside namespace $F_OUT joined to $E2E_NS" "${out:-(could not make it)}"
	fi
	f_serve life out "$F_OUT4" 9000 outside
	F_OUTSRV=${F_PIDS[*]}
	F_PIDS=()
	l_timed lk l_kill f_reset lk
	l_timed lp l_replace f_reset lp
	l_timed ll l_live l_live_end
	l_timed ln l_norestore f_reset ln
	l_timed ld l_docker0 l_docker0_end
	l_timed lr l_reboot l_reboot_end
	f_outside_down
	e2e_check_eq "life: dockerd runs with the run's flags ($L_DEFAULT_ARGS), no live-restore" \
		"false" "$(dk info -f '{{.LiveRestoreEnabled}}' 2>&1)"
	e2e_check "life: no docker0 (--bridge=none)" e2e_no_link docker0
	plugin_alive life
}
