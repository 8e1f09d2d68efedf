#!/usr/bin/env bash
# End-to-end tests: a private dockerd, in a network namespace of its own
# with its default firewall settings (iptables on), with cbridge installed
# as the managed plugin cbridge:latest (scripts/plugin.sh), driven with the
# docker CLI; containers use a busybox image made with `docker import`.
#
#   tests/e2e/run.sh build/cbridge
#
# Prints TAP-like "ok N - ..." / "not ok N - ..." lines, the error messages
# cbridge returned for bad input, and "N passed, M failed"; exits non-zero if
# anything failed, 77 if not root. See tests/e2e/lib.sh for the environment
# variables (DOCKERD_EXTRA_ARGS, E2E_DOCKER, E2E_PLUGIN_SETTINGS,
# E2E_DOCKERD_IPTABLES, E2E_EXEC_ROOT_PRIVATE); E2E_ONLY (words of
# "networks containers firewall dns dnsdefault matrix scale life",
# separated by spaces or commas) runs only those scenario sets (default:
# all), e.g.
# E2E_ONLY=firewall,dnsdefault; an unknown word is an error.
#
# Scenarios, in the order they run: dockerd's firewall in its namespace;
# networks: a explicit subnet, b automatic pool, c gateway/ip-range/
# aux-addresses, d IPv6, e options, f bad options, h plugin
# disable+enable, g network rm, i 40 automatic networks, l routes of
# dockerd's namespace avoided, k DEFAULT_ADDRESS_POOLS, j state.json;
# then the container scenarios of tests/e2e/containers.sh (c*), then the
# firewall scenarios of tests/e2e/firewall.sh (f*), then the DNS
# scenarios of tests/e2e/dns.sh (d*), then those of containers without
# --dns of tests/e2e/dnsdefault.sh (n*), then the reachability matrix of
# tests/e2e/matrix.sh (m*: dockerd's bridge driver next to cbridge, option
# set by option set), then the scale and concurrency scenarios of
# tests/e2e/scale.sh (s*: a docker-compose project, 300 networks with a
# container each, concurrent create and rm), then the restarts, reboot,
# plugin kill and replacement and docker0 of tests/e2e/life.sh (l*, last:
# they restart dockerd, and leave it with the run's flags); at the end,
# the host is as before the run.  Under scripts/stage.sh, the scenario
# running and its last check are the stage's step.
#
# The scenarios run through e2e_scenario, which shellcheck cannot follow:
# shellcheck disable=SC2317
set -eu -o pipefail

# shellcheck source=tests/e2e/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=tests/e2e/containers.sh
. "$(dirname "${BASH_SOURCE[0]}")/containers.sh"
# shellcheck source=tests/e2e/firewall.sh
. "$(dirname "${BASH_SOURCE[0]}")/firewall.sh"
# shellcheck source=tests/e2e/dns.sh
. "$(dirname "${BASH_SOURCE[0]}")/dns.sh"
# shellcheck source=tests/e2e/dnsdefault.sh
. "$(dirname "${BASH_SOURCE[0]}")/dnsdefault.sh"
# shellcheck source=tests/e2e/matrix.sh
. "$(dirname "${BASH_SOURCE[0]}")/matrix.sh"
# shellcheck source=tests/e2e/scale.sh
. "$(dirname "${BASH_SOURCE[0]}")/scale.sh"
# shellcheck source=tests/e2e/life.sh
. "$(dirname "${BASH_SOURCE[0]}")/life.sh"

if [ $# -ne 1 ]; then
	echo "usage: $0 BIN" >&2
	exit 2
fi
SETS="networks containers firewall dns dnsdefault matrix scale life"
only_words=''
E2E_ONLY=${E2E_ONLY:-}
for w in ${E2E_ONLY//,/ }; do
	if [[ " $SETS " != *" $w "* ]]; then
		echo "$0: E2E_ONLY: unknown scenario set '$w' (sets: $SETS)" >&2
		exit 2
	fi
	only_words="$only_words $w"
done
E2E_ONLY=${only_words# }
e2e_need_root
bin=$(readlink -f "$1")

MSGS=()        # "scenario: message" for every error cbridge returned
PLUGIN_PID=    # the plugin's pid since the last (re)start

# ------------------------------------------------------------------ helpers

# ipam NET: the network's IPAM config array (JSON).
ipam() {
	dk network inspect "$1" | jq -c '.[0].IPAM.Config // []'
}

# subnets4 NET... / subnets6 NET...: their subnets, one per line.
subnets4() {
	[ $# -gt 0 ] || return 0
	dk network inspect "$@" | jq -r '.[].IPAM.Config[]?.Subnet // empty' | grep -v : || true
}
subnets6() {
	[ $# -gt 0 ] || return 0
	dk network inspect "$@" | jq -r '.[].IPAM.Config[]?.Subnet // empty' | grep : || true
}

# all_subnets4: IPv4 subnets of every network in the daemon.
all_subnets4() {
	local ids
	ids=$(dk network ls -q)
	# shellcheck disable=SC2086
	[ -z "$ids" ] || subnets4 $ids
}

# gateway4 NET: the IPv4 gateway, from inspect or else the subnet's .1
# (dockerd 20.10 shows Gateway only when it was given or chosen by IPAM
# without a --subnet).
gateway4() {
	local c gw sub
	c=$(ipam "$1")
	gw=$(jq -r '[.[] | select(.Subnet | contains(":") | not)][0].Gateway // ""' <<<"$c")
	gw=${gw%/*}
	sub=$(jq -r '[.[] | select(.Subnet | contains(":") | not)][0].Subnet // ""' <<<"$c")
	if [ -z "$gw" ]; then
		local first
		first=$(cidr4_range "$sub" | cut -d' ' -f1)
		gw=$(int_ip4 $((first + 1)))
	fi
	echo "$gw/${sub#*/}"
}

# ip6_hex ADDR: the IPv6 address as 32 hex digits ("::" expanded).
ip6_hex() {
	local a=$1 head tail g out='' n=0 i h=() t=()
	if [[ $a == *::* ]]; then
		head=${a%%::*}
		tail=${a#*::}
	else
		head=$a
		tail=''
	fi
	IFS=: read -ra h <<<"$head"
	IFS=: read -ra t <<<"$tail"
	[[ $a != *::* ]] || n=$((8 - ${#h[@]} - ${#t[@]}))
	for g in "${h[@]}"; do out+=$(printf '%04x' "0x$g" 2>/dev/null); done
	for ((i = 0; i < n; i++)); do out+=0000; done
	for g in "${t[@]}"; do out+=$(printf '%04x' "0x$g" 2>/dev/null); done
	echo "$out"
}

int_ip4() {
	echo "$((($1 >> 24) & 255)).$((($1 >> 16) & 255)).$((($1 >> 8) & 255)).$(($1 & 255))"
}

# pick4: a free 172.30.X.0/24, not on the host and not used by any network.
pick4() {
	# shellcheck disable=SC2046
	e2e_pick4 172.30 $(all_subnets4)
}

# cli_error TEXT: the "Error response from daemon" line(s) of CLI output.
cli_error() {
	grep -i 'error' <<<"$1" || echo "$1"
}

# check_bridge DESC LINK ADDR: LINK is an up bridge that has ADDR.
check_bridge() {
	e2e_check "$1: $2 is a bridge and up" e2e_is_bridge_up "$2"
	e2e_check "$1: $2 has $3" e2e_has_addr "$2" "$3"
}

# rm_net DESC NET: removes NET and checks that its bridge went with it.
rm_net() {
	local br
	br=$(e2e_net_bridge "$2") || {
		e2e_fail "$1: network $2 exists"
		return 0
	}
	e2e_check "$1: docker network rm $2" dk network rm "$2"
	e2e_check "$1: bridge $br of $2 is gone" e2e_no_link "$br"
}

# plugin_alive DESC: the plugin process is the one that started last time,
# i.e. it neither crashed nor was restarted by dockerd.
plugin_alive() {
	local pid
	pid=$(e2e_plugin_pid)
	if [ -n "$pid" ] && [ "$pid" = "$PLUGIN_PID" ]; then
		e2e_pass "$1: plugin still running (pid $pid)"
	else
		e2e_fail "$1: plugin process changed or died" \
			"pid before: ${PLUGIN_PID:-none}, now: ${pid:-none}"
		PLUGIN_PID=$pid
	fi
}

# our_links: filters link names cbridge may have made in this run (other
# tests on the host may be adding links meanwhile).
our_links() {
	grep -E "^(cb-|$E2E_PREFIX)" || true
}

# bad_create DESC ERE NAME ARGS...: the create must fail with a cbridge
# error matching ERE, leave no new link behind, and no network named NAME.
bad_create() {
	local desc=$1 re=$2 name=$3 before after new msg l
	shift 3
	before=$(e2e_links)
	if e2e_net_create "$name" "$@"; then
		e2e_fail "$desc: rejected" "docker network create $* $name succeeded"
		dk network rm "$name" >/dev/null 2>&1 || true
		return 0
	fi
	msg=$(cli_error "$E2E_OUT")
	MSGS+=("$desc: $msg")
	e2e_pass "$desc: rejected"
	e2e_check_match "$desc: message names the problem /$re/" "$re" "$msg"
	e2e_check_match "$desc: message comes from cbridge" \
		'(NetworkDriver|IpamDriver)\.[A-Za-z]+: .' "$msg"
	after=$(e2e_links)
	new=$(comm -13 <(echo "$before") <(echo "$after") | our_links)
	if [ -z "$new" ]; then
		e2e_pass "$desc: no link left behind"
	else
		e2e_fail "$desc: no link left behind" "new links: $new"
		for l in $new; do
			e2e_record_bridge "$l"
		done
	fi
	if dk network inspect "$name" >/dev/null 2>&1; then
		e2e_fail "$desc: no network $name exists"
	fi
}

# -------------------------------------------------------------- scenarios

# a. explicit subnet
t_a() {
	N1_SUB=$(pick4)
	N1_GW=${N1_SUB%.0/24}.1/24
	if ! e2e_net_create n1 --subnet "$N1_SUB"; then
		e2e_fail "a: create n1 --subnet $N1_SUB" "$E2E_OUT"
		return 0
	fi
	e2e_pass "a: create n1 --subnet $N1_SUB"
	N1_ID=$E2E_NET_ID
	N1_BR=cb-${N1_ID:0:12}
	local j
	j=$(dk network inspect n1)
	e2e_check_eq "a: inspect driver" "$E2E_PLUGIN" "$(jq -r '.[0].Driver' <<<"$j")"
	e2e_check_eq "a: inspect IPAM driver" "$E2E_PLUGIN" "$(jq -r '.[0].IPAM.Driver' <<<"$j")"
	e2e_check_eq "a: inspect subnet" "$N1_SUB" "$(jq -r '.[0].IPAM.Config[0].Subnet' <<<"$j")"
	e2e_check_match "a: inspect gateway is .1 or not shown" "^(${N1_SUB%.0/24}\\.1)?$" \
		"$(jq -r '.[0].IPAM.Config[0].Gateway // ""' <<<"$j")"
	check_bridge a "$N1_BR" "$N1_GW"
	e2e_check_eq "a: bridge mtu is 1500 by default" 1500 \
		"$(e2e_ip -j link show dev "$N1_BR" 2>/dev/null | jq -r '.[0].mtu')"
	if [ -f "$E2E_STATE_DIR/state.json" ] &&
		grep -q "${N1_ID:0:12}" "$E2E_STATE_DIR/state.json"; then
		e2e_pass "a: state.json mentions n1"
	else
		e2e_fail "a: state.json mentions n1" \
			"$(ls -la "$E2E_STATE_DIR" 2>&1)" \
			"$(head -c 2000 "$E2E_STATE_DIR/state.json" 2>&1)"
	fi
}

# b. automatic pool
t_b() {
	if ! e2e_net_create nb; then
		e2e_fail "b: create nb with an automatic pool" "$E2E_OUT"
		return 0
	fi
	e2e_pass "b: create nb with an automatic pool"
	local sub gw br=cb-${E2E_NET_ID:0:12}
	sub=$(subnets4 nb | head -n 1)
	gw=$(gateway4 nb)
	e2e_note "b: automatic subnet $sub, gateway $gw"
	e2e_check_match "b: inspect shows a subnet" '^[0-9.]+/[0-9]+$' "$sub"
	e2e_check_match "b: inspect shows a gateway" '^[0-9.]+$' \
		"$(ipam nb | jq -r '.[0].Gateway // ""')"
	if [ -n "${N1_SUB:-}" ] && cidr4_overlap "$sub" "$N1_SUB"; then
		e2e_fail "b: $sub does not overlap n1's $N1_SUB"
	else
		e2e_pass "b: $sub does not overlap n1's ${N1_SUB:-(none)}"
	fi
	local p bad=
	for p in $HOST_PREFIXES; do
		if cidr4_overlap "$sub" "$p"; then
			bad="$bad $p"
		fi
	done
	e2e_check_eq "b: $sub overlaps no host route or address" "" "$bad"
	check_bridge b "$br" "$gw"
}

# c. --gateway, --ip-range, --aux-address
t_c() {
	local sub net
	sub=$(pick4)
	net=${sub%.0/24}
	if ! e2e_net_create nc --subnet "$sub" --gateway "$net.254" \
		--ip-range "$net.128/25" --aux-address "host1=$net.10" \
		--aux-address "host2=$net.130"; then
		e2e_fail "c: create nc with gateway, ip-range, aux-addresses" "$E2E_OUT"
		return 0
	fi
	e2e_pass "c: create nc with gateway, ip-range, aux-addresses"
	local c br=cb-${E2E_NET_ID:0:12}
	c=$(ipam nc)
	e2e_check_eq "c: inspect subnet" "$sub" "$(jq -r '.[0].Subnet' <<<"$c")"
	e2e_check_eq "c: inspect gateway" "$net.254" "$(jq -r '.[0].Gateway' <<<"$c")"
	e2e_check_eq "c: inspect ip-range" "$net.128/25" "$(jq -r '.[0].IPRange' <<<"$c")"
	e2e_check_eq "c: inspect aux-addresses" "$net.10 $net.130" \
		"$(jq -r '.[0].AuxiliaryAddresses | [.host1, .host2] | join(" ")' <<<"$c")"
	check_bridge c "$br" "$net.254/24"
	if e2e_has_addr "$br" "$net.1/24" >/dev/null; then
		e2e_fail "c: $br does not also have $net.1/24"
	else
		e2e_pass "c: $br does not also have $net.1/24"
	fi
}

# d. IPv6
t_d() {
	local sub4 sub6 gw6 br
	if [ ! -d /proc/sys/net/ipv6 ]; then
		e2e_note "d: SKIPPED, this host has no IPv6"
		return 0
	fi
	sub4=$(pick4)
	sub6=$(e2e_pick6)
	gw6=${sub6%/64}1/64
	if ! e2e_net_create nd --ipv6 --subnet "$sub4" --subnet "$sub6"; then
		e2e_fail "d: create nd --ipv6 --subnet $sub4 --subnet $sub6" "$E2E_OUT"
	else
		e2e_pass "d: create nd --ipv6 --subnet $sub4 --subnet $sub6"
		br=cb-${E2E_NET_ID:0:12}
		e2e_check_eq "d: inspect EnableIPv6" true \
			"$(dk network inspect nd | jq -r '.[0].EnableIPv6')"
		e2e_check_eq "d: inspect v6 subnet" "$sub6" "$(subnets6 nd)"
		check_bridge d "$br" "${sub4%.0/24}.1/24"
		e2e_check "d: $br has $gw6 (ip -6 addr show dev $br)" e2e_has_addr "$br" "$gw6"
		e2e_check_eq "d: /proc/sys/net/ipv6/conf/$br/disable_ipv6" 0 \
			"$(e2e_nsx cat "/proc/sys/net/ipv6/conf/$br/disable_ipv6" 2>&1)"
	fi

	# --ipv6 with no IPv6 subnet: as the README promises, a /64 from the
	# host's random ULA /48 (fdXX:XXXX:XXXX::/48), which state.json keeps;
	# a second network gets another /64 of the same /48.
	local ula ulah sub6b sh gw
	if ! e2e_net_create nd2 --ipv6; then
		e2e_fail "d: create nd2 --ipv6 (no subnet): an automatic v6 pool" "$E2E_OUT"
		MSGS+=("d: --ipv6 without a v6 subnet: $(cli_error "$E2E_OUT")")
		plugin_alive d
		return 0
	fi
	e2e_pass "d: create nd2 --ipv6 (no subnet): an automatic v6 pool"
	br=cb-${E2E_NET_ID:0:12}
	sub6=$(subnets6 nd2)
	ula=$(jq -r '.ula // ""' "$E2E_STATE_DIR/state.json" 2>&1)
	ulah=$(ip6_hex "${ula%/*}")
	sh=$(ip6_hex "${sub6%/*}")
	e2e_note "d: nd2's automatic v6 subnet '$sub6', the host's ULA '$ula'"
	e2e_check_match "d: state.json keeps the host's ULA, an fdXX:XXXX:XXXX::/48 ($ula)" \
		'^fd[0-9a-f]{2}(:[0-9a-f]{1,4}){0,2}::/48$' "$ula"
	e2e_check_match "d: the ULA is fd00::/8 and a /48 ($ulah)" '^fd[0-9a-f]{10}0{20}$' "$ulah"
	e2e_check_match "d: nd2's v6 subnet is one /64 ($sub6)" '^[0-9a-f:]+/64$' "$sub6"
	e2e_check_eq "d: nd2's /64 lies in the ULA /48, host bits zero ($sub6 in $ula)" \
		"${ulah:0:12} 0000000000000000" "${sh:0:12} ${sh:16:16}"
	# dockerd 20.10 shows an IPAM-chosen v6 gateway with its length.
	gw=$(ipam nd2 | jq -r '.[] | select(.Subnet | contains(":")) | .Gateway // ""')
	gw=${gw%/*}
	e2e_check_eq "d: nd2's v6 gateway ($gw) is in its /64" "${sh:0:16}" "$(ip6_hex "$gw" | cut -c1-16)"
	e2e_check "d: $br has $gw/64" e2e_has_addr "$br" "$gw/64"
	if e2e_net_create nd3 --ipv6; then
		sub6b=$(subnets6 nd3)
		e2e_pass "d: create nd3 --ipv6 (no subnet): $sub6b"
		sh=$(ip6_hex "${sub6b%/*}")
		e2e_check_eq "d: nd3's /64 ($sub6b) lies in the same ULA /48" \
			"${ulah:0:12} 64" "${sh:0:12} ${sub6b#*/}"
		if [ "$sub6b" != "$sub6" ]; then
			e2e_pass "d: nd3's /64 is not nd2's ($sub6b, $sub6)"
		else
			e2e_fail "d: nd3's /64 is not nd2's" "both $sub6"
		fi
		e2e_check_eq "d: state.json's ULA did not change" "$ula" \
			"$(jq -r '.ula // ""' "$E2E_STATE_DIR/state.json" 2>&1)"
		rm_net d nd3
	else
		e2e_fail "d: create nd3 --ipv6 (no subnet)" "$E2E_OUT"
	fi
	rm_net d nd2
	plugin_alive d
}

# e. options
t_e() {
	local name=${E2E_PREFIX}br sub
	sub=$(pick4)
	e2e_record_bridge "$name"
	if e2e_net_create ne1 --subnet "$sub" -o "com.docker.network.bridge.name=$name"; then
		e2e_pass "e: create ne1 -o com.docker.network.bridge.name=$name"
		check_bridge e "$name" "${sub%.0/24}.1/24"
		e2e_check "e: no cb-${E2E_NET_ID:0:12} for ne1" e2e_no_link "cb-${E2E_NET_ID:0:12}"
	else
		e2e_fail "e: create ne1 -o com.docker.network.bridge.name=$name" "$E2E_OUT"
	fi

	if e2e_net_create ne2 -o com.docker.network.driver.mtu=1400; then
		e2e_pass "e: create ne2 -o com.docker.network.driver.mtu=1400"
		e2e_check_eq "e: bridge mtu 1400" 1400 \
			"$(e2e_ip -j link show dev "cb-${E2E_NET_ID:0:12}" 2>&1 | jq -r '.[0].mtu' 2>&1)"
	else
		e2e_fail "e: create ne2 -o com.docker.network.driver.mtu=1400" "$E2E_OUT"
	fi

	if e2e_net_create ne3 --internal; then
		e2e_pass "e: create ne3 --internal"
		e2e_check_eq "e: inspect Internal" true \
			"$(dk network inspect ne3 | jq -r '.[0].Internal')"
		check_bridge e "cb-${E2E_NET_ID:0:12}" "$(gateway4 ne3)"
	else
		e2e_fail "e: create ne3 --internal" "$E2E_OUT"
	fi
	plugin_alive e
}

# f. bad options
t_f() {
	local long=${E2E_PREFIX}toolongname dummy=${E2E_PREFIX}dm
	bad_create "f: bridge name of ${#long} chars" \
		'bridge\.name|long|IFNAMSIZ|characters|15' nf1 \
		-o "com.docker.network.bridge.name=$long"
	bad_create "f: mtu=abc" 'mtu' nf2 -o com.docker.network.driver.mtu=abc
	bad_create "f: enable_icc=maybe" 'enable_icc' nf3 \
		-o com.docker.network.bridge.enable_icc=maybe
	bad_create "f: unknown option bridge.bogus" 'bogus' nf4 \
		-o com.docker.network.bridge.bogus=1

	# A non-bridge link (dummy, or veth where there is no dummy module).
	local kind=dummy
	if e2e_ip link add "$dummy" type dummy 2>/dev/null ||
		{ kind=veth && e2e_ip link add "$dummy" type veth peer name "${dummy}p"; }; then
		bad_create "f: bridge name of an existing $kind link" \
			"exist|in use|already|busy|$dummy" nf5 \
			-o "com.docker.network.bridge.name=$dummy"
		e2e_check_eq "f: the existing link $dummy is untouched" "$kind" \
			"$(e2e_ip -j -d link show dev "$dummy" 2>&1 | jq -r '.[0].linkinfo.info_kind' 2>&1)"
		e2e_ip link del "$dummy" 2>/dev/null || true
	else
		e2e_fail "f: could not create the dummy link $dummy"
	fi

	if [ -n "${N1_SUB:-}" ]; then
		bad_create "f: --subnet equal to n1's" 'overlap' nf6 --subnet "$N1_SUB"
		bad_create "f: --subnet inside n1's" 'overlap' nf7 \
			--subnet "${N1_SUB%.0/24}.128/25"
	else
		e2e_fail "f: overlap tests need n1"
	fi
	plugin_alive f
}

# h. plugin disable + enable keeps the networks
t_h() {
	local nets n t0 t1 br gw
	mapfile -t nets < <(dk network ls --filter "driver=$E2E_PLUGIN" --format '{{.Name}}' | sort)
	e2e_note "h: networks before the restart: ${nets[*]}"
	t0=$(date +%s%N)
	e2e_check "h: docker plugin disable -f" dk plugin disable -f "$E2E_PLUGIN"
	t1=$(date +%s%N)
	e2e_note "h: disable took $(((t1 - t0) / 1000000)) ms"
	# dockerd sends SIGTERM, waits 10 s, then sends SIGKILL.
	if [ $((t1 - t0)) -lt 8000000000 ]; then
		e2e_pass "h: plugin exits promptly on SIGTERM"
	else
		e2e_fail "h: plugin exits promptly on SIGTERM" \
			"disable took $(((t1 - t0) / 1000000)) ms: dockerd had to SIGKILL it"
	fi
	for n in "${nets[@]}"; do
		br=$(e2e_net_bridge "$n")
		if e2e_ip link show dev "$br" >/dev/null 2>&1; then
			e2e_note "h: while disabled, $br of $n exists"
		else
			e2e_note "h: while disabled, $br of $n does not exist"
		fi
	done
	e2e_check "h: docker plugin enable" dk plugin enable "$E2E_PLUGIN"
	PLUGIN_PID=$(e2e_plugin_pid)

	for n in "${nets[@]}"; do
		e2e_check "h: inspect $n after the restart" dk network inspect "$n"
		br=$(e2e_net_bridge "$n")
		gw=$(gateway4 "$n")
		check_bridge "h: $n" "$br" "$gw"
	done

	if [ -n "${N1_SUB:-}" ]; then
		bad_create "h: n1's subnet is still taken after the restart" 'overlap' \
			nh0 --subnet "$N1_SUB"
	fi

	if e2e_net_create nh; then
		e2e_pass "h: create nh (automatic) after the restart"
		local sub s bad=
		sub=$(subnets4 nh)
		for s in $(subnets4 "${nets[@]}"); do
			if cidr4_overlap "$sub" "$s"; then
				bad="$bad $s"
			fi
		done
		e2e_check_eq "h: nh's $sub overlaps no existing network" "" "$bad"
		check_bridge h "cb-${E2E_NET_ID:0:12}" "$(gateway4 nh)"
	else
		e2e_fail "h: create nh (automatic) after the restart" "$E2E_OUT"
	fi
	plugin_alive h
}

# g. docker network rm removes the bridges
t_g() {
	local n
	for n in $(dk network ls --filter "driver=$E2E_PLUGIN" --format '{{.Name}}' | sort); do
		rm_net g "$n"
	done
	plugin_alive g
}

# i. 40 automatic networks
t_i() {
	local i ok=0 ids=() subs bad='' first='' dup
	for i in $(seq -w 1 40); do
		if e2e_net_create "ni$i"; then
			ok=$((ok + 1))
			ids+=("$E2E_NET_ID")
		elif [ -z "$first" ]; then
			first="ni$i: $(cli_error "$E2E_OUT")"
		fi
	done
	if [ "$ok" -eq 40 ]; then
		e2e_pass "i: 40 automatic networks created"
	else
		e2e_fail "i: 40 automatic networks created" "only $ok; first error: $first"
	fi
	[ ${#ids[@]} -gt 0 ] || return 0
	subs=$(subnets4 "${ids[@]}")
	e2e_note "i: subnets: $(echo "$subs" | tr '\n' ' ')"
	e2e_check_eq "i: one IPv4 subnet per network" "${#ids[@]}" "$(grep -c . <<<"$subs")"
	dup=$(sort <<<"$subs" | uniq -d)
	e2e_check_eq "i: all subnets distinct" "" "$dup"
	# Sorted by first address, each must end before the next begins.
	local prev_end=-1 prev='' s a b
	while read -r a b s; do
		if [ "$a" -le "$prev_end" ]; then
			bad="$bad $prev~$s"
		fi
		[ "$b" -le "$prev_end" ] || {
			prev_end=$b
			prev=$s
		}
	done < <(while read -r s; do
		echo "$(cidr4_range "$s") $s"
	done <<<"$subs" | sort -n -k1,1)
	e2e_check_eq "i: no two subnets overlap" "" "$bad"

	local id br gw missing=
	for id in "${ids[@]}"; do
		br=cb-${id:0:12}
		gw=$(gateway4 "$id")
		if ! e2e_is_bridge_up "$br" >/dev/null || ! e2e_has_addr "$br" "$gw" >/dev/null; then
			missing="$missing $br($gw)"
		fi
	done
	e2e_check_eq "i: every bridge exists, up, with its gateway" "" "$missing"

	local failed=
	for id in "${ids[@]}"; do
		dk network rm "$id" >/dev/null 2>&1 || failed="$failed ${id:0:12}"
	done
	e2e_check_eq "i: all removed" "" "$failed"
	local left=
	for id in "${ids[@]}"; do
		e2e_ip link show dev "cb-${id:0:12}" >/dev/null 2>&1 && left="$left cb-${id:0:12}"
	done
	e2e_check_eq "i: no bridge left" "" "$left"
	plugin_alive i
}

# l. an automatic pool skips a prefix that is routed on the plugin's host,
# i.e. in dockerd's namespace E2E_NS: take the subnet the next automatic
# network would get, route it to a veth of ours there, and create again.
t_l() {
	local sub sub2 va=${E2E_PREFIX}ra vb=${E2E_PREFIX}rb
	if ! e2e_net_create nl0; then
		e2e_fail "l: create nl0 (automatic)" "$E2E_OUT"
		return 0
	fi
	sub=$(subnets4 nl0)
	dk network rm nl0 >/dev/null
	if ! e2e_ip link add "$va" type veth peer name "$vb" ||
		! e2e_ip addr add "$(cidr4_range "$sub" | { read -r a _ && int_ip4 $((a + 1)); })/${sub#*/}" dev "$va" ||
		! e2e_ip link set "$va" up; then
		e2e_fail "l: could not route $sub to $va"
		e2e_ip link del "$va" 2>/dev/null || true
		return 0
	fi
	if e2e_net_create nl1; then
		sub2=$(subnets4 nl1)
		if cidr4_overlap "$sub" "$sub2"; then
			e2e_fail "l: automatic pool skips $sub, routed on the host" "got $sub2"
		else
			e2e_pass "l: automatic pool skips $sub, routed on the host (got $sub2)"
		fi
		rm_net l nl1
	else
		e2e_fail "l: create nl1 (automatic) with $sub routed on the host" "$E2E_OUT"
	fi
	e2e_ip link del "$va" 2>/dev/null || true
	plugin_alive l
}

# k. DEFAULT_ADDRESS_POOLS (both forms) reaches the plugin
t_k() {
	local x base form setting sub i
	for form in json kv; do
		base=
		for i in $(seq 50); do
			x=$((RANDOM % 150 + 100))
			# shellcheck disable=SC2046
			if e2e_free4 "10.$x.0.0/16" $(all_subnets4); then
				base=10.$x.0.0/16
				break
			fi
		done
		if [ -z "$base" ]; then
			e2e_fail "k: no free 10.X.0.0/16 for the pool test"
			return 0
		fi
		if [ "$form" = json ]; then
			setting="[{\"base\":\"$base\",\"size\":26}]"
		else
			setting="base=$base,size=26"
		fi
		dk plugin disable -f "$E2E_PLUGIN" >/dev/null
		e2e_check "k: docker plugin set DEFAULT_ADDRESS_POOLS=$setting" \
			dk plugin set "$E2E_PLUGIN" "DEFAULT_ADDRESS_POOLS=$setting"
		e2e_check "k: enable with DEFAULT_ADDRESS_POOLS ($form)" dk plugin enable "$E2E_PLUGIN"
		PLUGIN_PID=$(e2e_plugin_pid)
		for i in 1 2; do
			if e2e_net_create "nk$i"; then
				sub=$(subnets4 "nk$i")
				if [[ $sub == */26 ]] && cidr4_inside "$sub" "$base"; then
					e2e_pass "k: nk$i ($form) got $sub, a /26 of $base"
				else
					e2e_fail "k: nk$i ($form) got a /26 of $base" "got '$sub'"
				fi
				check_bridge "k: nk$i" "cb-${E2E_NET_ID:0:12}" "$(gateway4 "nk$i")"
			else
				e2e_fail "k: create nk$i with pools $setting" "$E2E_OUT"
			fi
		done
		e2e_check_eq "k: nk1 and nk2 ($form) differ" 2 \
			"$(subnets4 nk1 nk2 | sort -u | grep -c .)"
		rm_net k nk1
		rm_net k nk2
	done
	plugin_alive k
}

# j. state.json
t_j() {
	local f=$E2E_STATE_DIR/state.json
	e2e_check "j: $f exists" test -s "$f"
	e2e_check "j: $f is valid JSON" jq -e . "$f"
}

# only SET: true if E2E_ONLY is empty or names SET.
only() {
	[ -z "$E2E_ONLY" ] || [[ " $E2E_ONLY " == *" $1 "* ]]
}

# --------------------------------------------------------------------- main

e2e_init
e2e_start_dockerd
HOST_PREFIXES=$(e2e_host_prefixes4 | tr '\n' ' ')
if e2e_dockerd_drops; then
	e2e_check_eq "dockerd turned ip_forward on in $E2E_NS" 1 \
		"$(e2e_nsx cat /proc/sys/net/ipv4/ip_forward)"
	e2e_check_eq "dockerd set the FORWARD policy to DROP in $E2E_NS ($E2E_IPT)" "-P FORWARD DROP" \
		"$(e2e_nsx "$E2E_IPT" -S FORWARD 2>/dev/null | grep -m 1 '^-P FORWARD')"
	e2e_check_eq "bridge netfilter is on in $E2E_NS (bridged traffic meets FORWARD)" 1 \
		"$(e2e_nsx cat /proc/sys/net/bridge/bridge-nf-call-iptables 2>&1)"
	e2e_check "dockerd made DOCKER-USER in $E2E_NS ($E2E_IPT)" e2e_nsx "$E2E_IPT" -S DOCKER-USER
else
	e2e_note "DOCKERD_EXTRA_ARGS turn off dockerd's iptables or ip-forward: firewall checks skipped"
fi
e2e_plugin_install "$bin"
PLUGIN_PID=$(e2e_plugin_pid)
if [ -n "$PLUGIN_PID" ]; then
	e2e_pass "plugin enabled, pid $PLUGIN_PID"
else
	e2e_fail "plugin enabled and running"
fi
if e2e_build_image; then
	e2e_pass "docker import of $E2E_IMAGE (busybox-static rootfs)"
else
	e2e_fail "docker import of $E2E_IMAGE (busybox-static rootfs)"
fi

if only networks; then
	e2e_scenario t_a
	e2e_scenario t_b
	e2e_scenario t_c
	e2e_scenario t_d
	e2e_scenario t_e
	e2e_scenario t_f
	e2e_scenario t_h
	e2e_scenario t_g
	e2e_scenario t_i
	e2e_scenario t_l
	e2e_scenario t_k
	e2e_scenario t_j
fi
if only containers; then
	e2e_scenario c_all
fi
if only firewall; then
	e2e_scenario f_all
fi
if only dns; then
	e2e_scenario d_all
fi
if only dnsdefault; then
	e2e_scenario n_all
fi
if only matrix; then
	e2e_scenario m_all
fi
if only scale; then
	e2e_scenario s_all
fi
if only life; then
	e2e_scenario l_all
fi

e2e_step end
left=
while read -r b; do
	[ -n "$b" ] || continue
	! e2e_ip link show dev "$b" >/dev/null 2>&1 || left="$left $b"
done <"$E2E_TMP/bridges"
e2e_check_eq "end: no bridge of this run is left" "" "$left"

echo "# ---- error messages returned for bad requests ----"
for m in "${MSGS[@]}"; do
	echo "# $m"
done
e2e_finish
