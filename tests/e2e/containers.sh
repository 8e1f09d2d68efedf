# shellcheck shell=bash
# Container scenarios of the end-to-end tests, sourced by tests/e2e/run.sh
# (after lib.sh): docker run, exec, network connect/disconnect and rm with
# cbridge:latest as network and IPAM driver, and the image E2E_IMAGE built
# by e2e_build_image. dockerd runs in E2E_NS with iptables on, so its
# FORWARD policy is DROP and traffic between containers only passes with
# cbridge's accept rules in DOCKER-USER.
#
# c_all runs, in this order:
#   ce  --internal network: containers reach each other, no default route,
#       no docker_gwbridge (first, so that no other network could have made
#       one)
#   ca  n1: run -d, ping from another container, eth0 address and default
#       route, the veth on n1's bridge, TCP with nc, the gateway
#   cb  --ip and --mac-address
#   cc  IPv6: ping6 both ways, default IPv6 route
#   cd  network connect/disconnect while running
#   cf  one container on n1 and n2
#   cj  the firewall: FORWARD policy DROP, cbridge's rules in DOCKER-USER
#   ch  50 x run --rm: no veth, address or endpoint left
#   ci  20 x run -d in parallel: distinct addresses, all reachable
#   cg  rm -f: veth gone, address and endpoint released
#   cz  everything removed: no veth, only gateways allocated, no endpoint;
#       network rm removes the firewall rules and bridges
#
# Container names have at least two characters: dockerd 20.10 refuses "a".

C_IMG=$E2E_IMAGE
C_NETS=()	# networks made here, in order
C_CTRS=()	# containers started here
C_N1_SUB=''
C_N1_ID=''
C_N1_BR=''
C_N1_GW=''
C_N2_BR=''
C_A_IP=''
C_A_VETH=''
C_A_EP=''
C_PEER_IP=''
C_N2PEER_IP=''

# ------------------------------------------------------------------ helpers

# c_msg WHAT TEXT: records the first CLI error of each kind for the report.
c_msg() {
	local m
	m=$(cli_error "$2" | head -n 3)
	MSGS+=("$1: $m")
}

# c_net DESC NAME ARGS...: creates a cbridge network, pass or fail.
c_net() {
	local desc=$1
	shift
	if e2e_net_create "$@"; then
		C_NETS+=("$1")
		e2e_pass "$desc"
		return 0
	fi
	e2e_fail "$desc" "$E2E_OUT"
	c_msg "$desc" "$E2E_OUT"
	return 1
}

# c_start DESC NAME NET [RUN ARGS...]: docker run -d --name NAME --network
# NET ARGS IMG sleep 1d.
c_start() {
	local desc=$1 name=$2 net=$3 out
	shift 3
	C_CTRS+=("$name")
	if out=$(dk run -d --name "$name" --network "$net" "$@" "$C_IMG" sleep 1d 2>&1); then
		e2e_pass "$desc"
		return 0
	fi
	e2e_fail "$desc" "command: docker run -d --name $name --network $net $* $C_IMG sleep 1d" "$out"
	c_msg "$desc" "$out"
	# A container whose start failed stays created.
	dk rm -f "$name" >/dev/null 2>&1 || true
	return 1
}

# c_net_field CTR NET FIELD: a field of .NetworkSettings.Networks[NET].
c_net_field() {
	dk inspect "$1" 2>/dev/null |
		jq -r --arg n "$2" --arg f "$3" '.[0].NetworkSettings.Networks[$n][$f] // ""' 2>/dev/null || true
}

c_addr4() { c_net_field "$1" "$2" IPAddress; }
c_addr6() { c_net_field "$1" "$2" GlobalIPv6Address; }

# re_quote TEXT: TEXT as an ERE matching itself (addresses: dots).
re_quote() {
	printf '%s' "${1//./\\.}"
}

# c_retry N CMD...: runs CMD up to N times, 1 s apart; prints the output
# of the last attempt and, if it took more than one, "(attempt K)".
c_retry() {
	local n=$1 i out rc
	shift
	for i in $(seq "$n"); do
		rc=0
		out=$("$@" 2>&1) || rc=$?
		if [ "$rc" -eq 0 ]; then
			[ "$i" -eq 1 ] || out="$out"$'\n'"(succeeded on attempt $i)"
			echo "$out"
			return 0
		fi
		[ "$i" -eq "$n" ] || sleep 1
	done
	echo "$out"
	return "$rc"
}

# c_ping_new DESC NET ADDR [ping6]: from a new container on NET.
c_ping_new() {
	local desc=$1 net=$2 addr=$3 p=${4:-ping} out
	if out=$(dk run --rm --network "$net" "$C_IMG" "$p" -c1 -W2 "$addr" 2>&1); then
		e2e_pass "$desc"
	else
		e2e_fail "$desc" "command: docker run --rm --network $net $C_IMG $p -c1 -W2 $addr" "$out"
	fi
}

# c_ping DESC CTR ADDR [ping6]: from a running container (one retry: the
# first packet to a new neighbour may race its address set-up).
c_ping() {
	local desc=$1 ctr=$2 addr=$3 p=${4:-ping} out
	if out=$(c_retry 2 dk exec "$ctr" "$p" -c1 -W2 "$addr"); then
		e2e_pass "$desc"
		! grep -q 'attempt' <<<"$out" || e2e_note "$desc: $(tail -n 1 <<<"$out")"
	else
		e2e_fail "$desc" "command: docker exec $ctr $p -c1 -W2 $addr" "$out"
	fi
}

# c_ifaces CTR: the container's interfaces, sorted, on one line.
c_ifaces() {
	dk exec "$1" ls /sys/class/net 2>&1 | sort | xargs || true
}

# c_host_veth CTR IFACE: the link in E2E_NS paired with IFACE of CTR.
c_host_veth() {
	local idx
	idx=$(dk exec "$1" cat "/sys/class/net/$2/iflink" 2>/dev/null) || return 0
	case $idx in '' | *[!0-9]*) return 0 ;; esac
	e2e_ip -j link show | jq -r --argjson i "$idx" '.[] | select(.ifindex == $i) | .ifname' || true
}

# c_veth_on LINK BRIDGE: LINK is an up veth in E2E_NS attached to BRIDGE.
c_veth_on() {
	local j
	[ -n "$1" ] || {
		echo "no peer link found in $E2E_NS"
		return 1
	}
	j=$(e2e_ip -j -d link show dev "$1" 2>&1) || {
		echo "no link $1 in $E2E_NS: $j"
		return 1
	}
	jq -e --arg br "$2" '.[0].linkinfo.info_kind == "veth" and .[0].master == $br and
		(.[0].flags | index("UP") != null)' <<<"$j" >/dev/null || {
		echo "not an up veth on $2: $(e2e_ip -d link show dev "$1")"
		return 1
	}
}

# c_ns_veths: veth links in E2E_NS, one per line, sorted.
c_ns_veths() {
	e2e_ip -j link show type veth | jq -r '.[].ifname' | sort || true
}

# c_ports BRIDGE: links attached to BRIDGE in E2E_NS, sorted.
c_ports() {
	e2e_ip -j link show master "$1" 2>/dev/null | jq -r '.[].ifname' | sort || true
}

# c_state_extra: what state.json holds beyond empty networks: each
# allocated address (or run) that is not a network's gateway, and each
# endpoint.
c_state_extra() {
	local f=$E2E_STATE_DIR/state.json
	[ -f "$f" ] || {
		echo "no $f"
		return 0
	}
	jq -r '
		[.networks[]? | (.ipv4.gateway?, .ipv6.gateway?) | strings | sub("/[0-9]+$"; "")] as $gw
		| (.ipam.pools[]? | .pool as $p | .allocated[]?
			| select(. as $a | $gw | all(. != $a))
			| "allocated in \($p): \(.)"),
		  (.endpoints[]? | "endpoint \(.id[0:12]) of network \(.network[0:12]) \(.address // "") \(.address_ipv6 // "") host \(.host // "")")
	' "$f" 2>&1 || true
}

# c_state_has TEXT: state.json mentions TEXT (an address or an ID) as a
# whole allocation or endpoint field.
c_state_has() {
	jq -e --arg t "$1" '
		[(.ipam.pools[]?.allocated[]?), (.endpoints[]? | .id, .address, .address_ipv6)]
		| map(strings | sub("/[0-9]+$"; "")) | index($t) != null
	' "$E2E_STATE_DIR/state.json" >/dev/null 2>&1
}

# c_state_lacks DESC TEXT CONTROL: state.json no longer mentions TEXT (an
# address or an ID that was released), proven able to tell first: it is
# read and mentions CONTROL, something the scenario still holds. An empty
# TEXT or CONTROL (not found earlier) fails too.
c_state_lacks() {
	local desc=$1 text=$2 ctl=$3
	if [ -z "$text" ] || [ -z "$ctl" ]; then
		e2e_fail "$desc" "nothing to look for: '$text', control '$ctl'"
	elif ! c_state_has "$ctl"; then
		e2e_fail "$desc" "probe: state.json does not show $ctl, which is still in use:" \
			"$(c_state_extra)"
	elif c_state_has "$text"; then
		e2e_fail "$desc" "$(c_state_extra)"
	else
		e2e_pass "$desc"
	fi
}

# c_docker_user: the DOCKER-USER chain in E2E_NS as iptables-nft -S shows it.
c_docker_user() {
	e2e_nsx iptables-nft -S DOCKER-USER 2>&1 || true
}

# c_fw_rule ID BRIDGE: DOCKER-USER accepts what comes from BRIDGE and what
# goes to it (two rules, comment cbridge:ID), before its RETURN.
c_fw_rule() {
	local rules
	rules=$(c_docker_user)
	if awk -v id="cbridge:$1" -v br="$2" '
		/ -j RETURN$/ && !ret { ret = NR }
		index($0, id) && / -j ACCEPT$/ && index($0, "-i " br " ") && !in_ { in_ = NR }
		index($0, id) && / -j ACCEPT$/ && index($0, "-o " br " ") && !out { out = NR }
		END { exit !(in_ && out && ret && in_ < ret && out < ret) }' <<<"$rules"; then
		return 0
	fi
	echo "no '-i $2 ... cbridge:$1 ... -j ACCEPT' and '-o $2 ...' before '-j RETURN' in:"
	echo "$rules"
	return 1
}

# c_no_fw_rule ID: no rule in DOCKER-USER or FORWARD names cbridge:ID
# (ID empty: no cbridge rule at all); proven able to tell first: both
# chains are listed (DOCKER-USER only where dockerd makes it).
c_no_fw_rule() {
	local du='' fw rules
	if e2e_dockerd_drops; then
		if ! du=$(e2e_nsx iptables-nft -S DOCKER-USER 2>&1) ||
			! grep -qx -- '-N DOCKER-USER' <<<"$du"; then
			echo "probe: iptables-nft -S DOCKER-USER in $E2E_NS: $du"
			return 1
		fi
	fi
	if ! fw=$(e2e_nsx iptables-nft -S FORWARD 2>&1) || ! grep -q -- '^-P FORWARD ' <<<"$fw"; then
		echo "probe: iptables-nft -S FORWARD in $E2E_NS: $fw"
		return 1
	fi
	rules=$(grep -F "cbridge:$1" <<<"$du"$'\n'"$fw") || true
	[ -z "$rules" ] || {
		echo "left: $rules"
		return 1
	}
}

# c_no_gwbridge: no network and no link named docker_gwbridge; proven able
# to tell first: the network list shows dockerd's own "host" and "none",
# the link list E2E_NS's lo.
c_no_gwbridge() {
	local nets links
	if ! nets=$(dk network ls --format '{{.Name}}' 2>&1) || ! grep -qx host <<<"$nets" ||
		! grep -qx none <<<"$nets"; then
		echo "probe: docker network ls: $nets"
		return 1
	fi
	if ! links=$(e2e_links 2>&1) || ! grep -qx lo <<<"$links"; then
		echo "probe: the links of $E2E_NS: $links"
		return 1
	fi
	! grep -x docker_gwbridge <<<"$nets"$'\n'"$links"
}

# -------------------------------------------------------------- scenarios

# ce. --internal
c_e() {
	local sub ip1 r
	sub=$(pick4)
	c_net "ce: create nint --internal --subnet $sub" nint --internal --subnet "$sub" || return 0
	c_start "ce: docker run -d --name ctr-int --network nint" ctr-int nint || return 0
	ip1=$(c_addr4 ctr-int nint)
	e2e_check_match "ce: ctr-int has an address in $sub" "^$(re_quote "${sub%.0/24}")\\.[0-9]+$" "$ip1"
	c_ping_new "ce: a new container on nint pings ctr-int ($ip1)" nint "$ip1"
	e2e_check "ce: no docker_gwbridge network or interface in $E2E_NS" c_no_gwbridge
	e2e_check_eq "ce: ctr-int has only eth0 and lo" "eth0 lo" "$(c_ifaces ctr-int)"
	# Proven able to tell: the same listing shows the subnet's route.
	r=$(dk exec ctr-int ip route 2>&1) || true
	if ! grep -q "^$(re_quote "$sub") dev eth0" <<<"$r" || grep -q '^default' <<<"$r"; then
		e2e_fail "ce: ctr-int has its subnet's route and no default route" "$r"
	else
		e2e_pass "ce: ctr-int has its subnet's route and no default route"
	fi
	e2e_check "ce: ctr-int's eth0 pairs with a veth on nint's bridge" \
		c_veth_on "$(c_host_veth ctr-int eth0)" "$(e2e_net_bridge nint)"
}

# ca. one network, one container
c_a() {
	local r out i mac
	C_N1_SUB=$(pick4)
	C_N1_GW=${C_N1_SUB%.0/24}.1
	c_net "ca: create n1 --subnet $C_N1_SUB" n1 --subnet "$C_N1_SUB" || return 0
	C_N1_ID=$E2E_NET_ID
	C_N1_BR=$(e2e_net_bridge n1)
	c_start "ca: docker run -d --name ctr-a --network n1 $C_IMG sleep 1d" ctr-a n1 || return 0
	C_A_IP=$(c_addr4 ctr-a n1)
	C_A_EP=$(c_net_field ctr-a n1 EndpointID)
	e2e_note "ca: ctr-a has $C_A_IP, endpoint ${C_A_EP:0:12}"
	e2e_check_match "ca: inspect shows an address of $C_N1_SUB for ctr-a" \
		"^$(re_quote "${C_N1_SUB%.0/24}")\\.[0-9]+$" "$C_A_IP"
	e2e_check_eq "ca: inspect shows prefix length 24" 24 "$(c_net_field ctr-a n1 IPPrefixLen)"
	e2e_check_eq "ca: inspect shows gateway $C_N1_GW" "$C_N1_GW" "$(c_net_field ctr-a n1 Gateway)"
	c_ping_new "ca: docker run --rm --network n1 $C_IMG ping -c1 -W2 $C_A_IP" n1 "$C_A_IP"

	out=$(dk exec ctr-a ip -o -4 addr show dev eth0 2>&1) || true
	e2e_check_match "ca: ctr-a's eth0 has $C_A_IP/24" "inet $(re_quote "$C_A_IP")/24 " "$out"
	mac=$(c_net_field ctr-a n1 MacAddress)
	e2e_check_eq "ca: ctr-a's eth0 has the MAC inspect shows" "$mac" \
		"$(dk exec ctr-a cat /sys/class/net/eth0/address 2>&1)"
	r=$(dk exec ctr-a ip route 2>&1) || true
	e2e_check_match "ca: ctr-a's default route is via $C_N1_GW on eth0" \
		"^default via $(re_quote "$C_N1_GW") dev eth0" "$r"
	e2e_check_eq "ca: ctr-a has only eth0 and lo (no docker_gwbridge)" "eth0 lo" "$(c_ifaces ctr-a)"
	if c_state_has "$C_A_IP" && c_state_has "$C_A_EP"; then
		e2e_pass "ca: state.json holds ctr-a's address and endpoint"
	else
		e2e_fail "ca: state.json holds ctr-a's address and endpoint" "$(c_state_extra)"
	fi
	C_A_VETH=$(c_host_veth ctr-a eth0)
	e2e_check "ca: ctr-a's eth0 pairs with an up veth on $C_N1_BR in $E2E_NS (${C_A_VETH:-none})" \
		c_veth_on "$C_A_VETH" "$C_N1_BR"
	c_ping "ca: ctr-a pings its gateway $C_N1_GW" ctr-a "$C_N1_GW"

	c_start "ca: docker run -d --name ctr-peer --network n1" ctr-peer n1 || return 0
	C_PEER_IP=$(c_addr4 ctr-peer n1)
	c_ping "ca: ctr-peer ($C_PEER_IP) pings ctr-a ($C_A_IP)" ctr-peer "$C_A_IP"
	c_ping "ca: ctr-a pings ctr-peer" ctr-a "$C_PEER_IP"

	# TCP through the bridge: a one-shot nc server in ctr-a.
	dk exec -d ctr-a sh -c 'echo cbridge-tcp-ok | nc -l -p 8080' >/dev/null 2>&1 || true
	for i in $(seq 10); do
		out=$(dk exec ctr-peer nc -w 2 "$C_A_IP" 8080 </dev/null 2>&1) || true
		! grep -q cbridge-tcp-ok <<<"$out" || break
		sleep 0.3
	done
	e2e_check_match "ca: TCP from ctr-peer to ctr-a:8080 (nc)" cbridge-tcp-ok "$out"
}

# cb. --ip, --mac-address
c_b() {
	local ip out mac=02:42:ac:1e:00:99
	[ -n "$C_N1_ID" ] || {
		e2e_fail "cb: needs n1"
		return 0
	}
	ip=${C_N1_SUB%.0/24}.50
	if out=$(dk run --rm --network n1 --ip "$ip" "$C_IMG" ip addr 2>&1); then
		e2e_pass "cb: docker run --rm --network n1 --ip $ip"
		e2e_check_match "cb: the container has $ip/24" "inet $(re_quote "$ip")/24 " "$out"
	else
		e2e_fail "cb: docker run --rm --network n1 --ip $ip" "$out"
	fi
	if out=$(dk run --rm --network n1 --mac-address "$mac" "$C_IMG" ip link show eth0 2>&1); then
		e2e_pass "cb: docker run --rm --network n1 --mac-address $mac"
		e2e_check_match "cb: eth0 has MAC $mac" "link/ether $mac " "$out"
	elif grep -q 'requires API version' <<<"$out"; then
		# A docker CLI newer than 25 sends --mac-address per network,
		# which dockerd 20.10 (API 1.41) does not take: make the same
		# container through the API, with Config.MacAddress.
		e2e_note "cb: this docker CLI refuses --mac-address with dockerd 20.10: $(head -n 1 <<<"$out"); using the API (Config.MacAddress)"
		c_mac_api "$mac"
	else
		e2e_fail "cb: docker run --rm --network n1 --mac-address $mac" "$out"
	fi
}

# c_mac_api MAC: the --mac-address check through the Engine API 1.41: a
# container ctr-mac on n1 created with Config.MacAddress.
c_mac_api() {
	local mac=$1 out body
	body=$(jq -cn --arg img "$C_IMG" --arg mac "$mac" \
		'{Image: $img, Cmd: ["sleep", "1d"], MacAddress: $mac, HostConfig: {NetworkMode: "n1"}}')
	C_CTRS+=(ctr-mac)
	if out=$(curl -sS --fail-with-body --unix-socket "${DOCKER_HOST#unix://}" \
		-H 'Content-Type: application/json' -d "$body" \
		'http://localhost/v1.41/containers/create?name=ctr-mac' 2>&1) &&
		out=$(dk start ctr-mac 2>&1); then
		e2e_pass "cb: container ctr-mac on n1 with MacAddress $mac (POST /v1.41/containers/create)"
		out=$(dk exec ctr-mac ip link show eth0 2>&1) || true
		e2e_check_match "cb: ctr-mac's eth0 has MAC $mac" "link/ether $mac " "$out"
		e2e_check_eq "cb: inspect shows MAC $mac" "$mac" "$(c_net_field ctr-mac n1 MacAddress)"
	else
		e2e_fail "cb: container ctr-mac on n1 with MacAddress $mac (POST /v1.41/containers/create)" "$out"
	fi
	dk rm -f ctr-mac >/dev/null 2>&1 || true
}

# cc. IPv6
c_c() {
	local sub4 sub6 gw6 a6 b6 a4 out
	if [ ! -d /proc/sys/net/ipv6 ]; then
		e2e_note "cc: SKIPPED, this host has no IPv6"
		return 0
	fi
	sub4=$(pick4)
	sub6=$(e2e_pick6)
	gw6=${sub6%/64}1
	c_net "cc: create n6 --ipv6 --subnet $sub4 --subnet $sub6" \
		n6 --ipv6 --subnet "$sub4" --subnet "$sub6" || return 0
	c_start "cc: docker run -d --name ctr6-a --network n6" ctr6-a n6 || return 0
	c_start "cc: docker run -d --name ctr6-b --network n6" ctr6-b n6 || return 0
	a6=$(c_addr6 ctr6-a n6)
	b6=$(c_addr6 ctr6-b n6)
	a4=$(c_addr4 ctr6-a n6)
	e2e_note "cc: ctr6-a $a6 $a4, ctr6-b $b6, gateway $gw6"
	e2e_check_match "cc: inspect shows ctr6-a's IPv6 address in $sub6" "^${sub6%::/64}::[0-9a-f:]+$" "$a6"
	e2e_check_match "cc: inspect shows ctr6-b's IPv6 address in $sub6" "^${sub6%::/64}::[0-9a-f:]+$" "$b6"
	out=$(dk exec ctr6-a ip -o -6 addr show dev eth0 2>&1) || true
	e2e_check_match "cc: ctr6-a's eth0 has $a6/64" "inet6 $a6/64 " "$out"
	out=$(dk exec ctr6-a ip -6 route 2>&1) || true
	e2e_check_match "cc: ctr6-a's default IPv6 route is via $gw6" "^default via $gw6 dev eth0" "$out"
	c_ping "cc: ctr6-b pings6 ctr6-a ($a6)" ctr6-b "$a6" ping6
	c_ping "cc: ctr6-a pings6 ctr6-b ($b6)" ctr6-a "$b6" ping6
	c_ping "cc: ctr6-a pings6 its gateway $gw6" ctr6-a "$gw6" ping6
	c_ping "cc: ctr6-b pings ctr6-a over IPv4 ($a4)" ctr6-b "$a4"
}

# cd. connect and disconnect a running container
c_d() {
	local sub a2 veth ep ports_before out
	[ -n "$C_A_IP" ] || {
		e2e_fail "cd: needs ctr-a on n1"
		return 0
	}
	sub=$(pick4)
	c_net "cd: create n2 --subnet $sub" n2 --subnet "$sub" || return 0
	C_N2_BR=$(e2e_net_bridge n2)
	c_start "cd: docker run -d --name ctr-n2 --network n2" ctr-n2 n2 || return 0
	C_N2PEER_IP=$(c_addr4 ctr-n2 n2)
	ports_before=$(c_ports "$C_N2_BR")
	e2e_check "cd: docker network connect n2 ctr-a" dk network connect n2 ctr-a || return 0
	a2=$(c_addr4 ctr-a n2)
	ep=$(c_net_field ctr-a n2 EndpointID)
	e2e_check_match "cd: ctr-a got an address of $sub" "^$(re_quote "${sub%.0/24}")\\.[0-9]+$" "$a2"
	out=$(dk exec ctr-a ip -o -4 addr show dev eth1 2>&1) || true
	e2e_check_match "cd: ctr-a's eth1 has $a2/24" "inet $(re_quote "$a2")/24 " "$out"
	veth=$(c_host_veth ctr-a eth1)
	e2e_check "cd: ctr-a's eth1 pairs with a veth on $C_N2_BR (${veth:-none})" c_veth_on "$veth" "$C_N2_BR"
	c_ping "cd: ctr-a pings ctr-n2 ($C_N2PEER_IP) on n2" ctr-a "$C_N2PEER_IP"
	c_ping "cd: ctr-n2 pings ctr-a's n2 address $a2" ctr-n2 "$a2"
	c_ping "cd: ctr-a still pings ctr-peer on n1" ctr-a "$C_PEER_IP"

	e2e_check "cd: docker network disconnect n2 ctr-a" dk network disconnect n2 ctr-a || return 0
	# Proven able to tell: the same command shows eth0.
	if ! out=$(dk exec ctr-a ip link show eth0 2>&1); then
		e2e_fail "cd: ctr-a's eth1 is gone (and eth0 is there)" "probe: $out"
	elif out=$(dk exec ctr-a ip link show eth1 2>&1); then
		e2e_fail "cd: ctr-a's eth1 is gone (and eth0 is there)" "$out"
	else
		e2e_pass "cd: ctr-a's eth1 is gone (and eth0 is there)"
	fi
	e2e_check_eq "cd: ctr-a has eth0 and lo" "eth0 lo" "$(c_ifaces ctr-a)"
	c_ping "cd: ctr-a still pings ctr-peer on n1" ctr-a "$C_PEER_IP"
	[ -z "$veth" ] || e2e_check "cd: the veth $veth of ctr-a's n2 endpoint is gone from $E2E_NS" e2e_no_link "$veth"
	e2e_check_eq "cd: $C_N2_BR has only ctr-n2's port again" "$ports_before" "$(c_ports "$C_N2_BR")"
	c_state_lacks "cd: state.json has no endpoint ${ep:0:12} any more (ctr-a's n1 endpoint stays)" \
		"$ep" "$C_A_EP"
	c_state_lacks "cd: $a2 is released in state.json (ctr-n2's $C_N2PEER_IP stays)" \
		"$a2" "$C_N2PEER_IP"
}

# cf. one container on two networks
c_f() {
	local f1 f2
	if [ -z "$C_PEER_IP" ] || [ -z "$C_N2PEER_IP" ]; then
		e2e_fail "cf: needs ctr-peer on n1 and ctr-n2 on n2"
		return 0
	fi
	c_start "cf: docker run -d --name ctr-f --network n1" ctr-f n1 || return 0
	e2e_check "cf: docker network connect n2 ctr-f" dk network connect n2 ctr-f || return 0
	f1=$(c_addr4 ctr-f n1)
	f2=$(c_addr4 ctr-f n2)
	e2e_note "cf: ctr-f has $f1 on n1 and $f2 on n2"
	e2e_check_eq "cf: ctr-f has eth0, eth1 and lo" "eth0 eth1 lo" "$(c_ifaces ctr-f)"
	c_ping "cf: ctr-f pings ctr-peer on n1" ctr-f "$C_PEER_IP"
	c_ping "cf: ctr-f pings ctr-n2 on n2" ctr-f "$C_N2PEER_IP"
	c_ping "cf: ctr-peer pings ctr-f on n1 ($f1)" ctr-peer "$f1"
	c_ping "cf: ctr-n2 pings ctr-f on n2 ($f2)" ctr-n2 "$f2"
	e2e_check_eq "cf: ctr-f has one default route" 1 \
		"$(dk exec ctr-f ip route 2>/dev/null | grep -c '^default')"
}

# cj. the firewall in dockerd's namespace
c_j() {
	local n id
	if ! e2e_dockerd_drops; then
		e2e_note "cj: SKIPPED, DOCKERD_EXTRA_ARGS turn off dockerd's iptables or ip-forward"
		return 0
	fi
	e2e_check_eq "cj: FORWARD policy in $E2E_NS is DROP (set by dockerd)" "-P FORWARD DROP" \
		"$(e2e_nsx iptables-nft -S FORWARD 2>/dev/null | grep -m 1 '^-P FORWARD')"
	e2e_note "cj: iptables-nft -S DOCKER-USER in $E2E_NS:"
	c_docker_user | sed 's/^/#   /'
	for n in "${C_NETS[@]}"; do
		id=$(dk network inspect -f '{{.Id}}' "$n" 2>/dev/null) || continue
		e2e_check "cj: DOCKER-USER accepts from and to $n's bridge (cbridge:${id:0:12}...) before RETURN" \
			c_fw_rule "$id" "$(e2e_net_bridge "$n")"
	done
	c_j_without_rule
}

# c_j_without_rule: the rules are what let traffic through: with n1's two
# accepts deleted by hand (and cbridge stopped, so that it cannot put them
# back at once), ctr-peer cannot ping ctr-a (dockerd's DROP applies to
# bridged traffic); once cbridge runs again they are back, and the ping
# works again.
c_j_without_rule() {
	local hs h out pid
	if [ -z "$C_N1_ID" ] || [ -z "$C_PEER_IP" ] || [ -z "$C_A_IP" ]; then
		return 0
	fi
	hs=$(e2e_nsx nft -a list chain ip filter DOCKER-USER 2>/dev/null |
		grep -F "comment \"cbridge:$C_N1_ID\"" | sed -n 's/.*# handle \([0-9]*\)$/\1/p') || true
	if [ "$(echo "$hs" | grep -c .)" != 2 ]; then
		e2e_fail "cj: n1's two rules found in nft, to delete them" "$(e2e_nsx nft -a list chain ip filter DOCKER-USER 2>&1)"
		return 0
	fi
	pid=$(e2e_plugin_pid)
	[ -n "$pid" ] && kill -STOP "$pid"
	for h in $hs; do
		if ! out=$(e2e_nsx nft delete rule ip filter DOCKER-USER handle "$h" 2>&1); then
			e2e_fail "cj: delete n1's rule by hand (handle $h)" "$out"
			[ -n "$pid" ] && kill -CONT "$pid"
			return 0
		fi
	done
	# Proven able to tell: the same ping in ctr-peer reaches its gateway
	# (not forwarded, so no rule of n1's needed).
	if ! out=$(c_retry 2 dk exec ctr-peer ping -c1 -W2 "$C_N1_GW"); then
		e2e_fail "cj: without n1's rule, ctr-peer cannot ping ctr-a (FORWARD DROP applies)" \
			"probe: ctr-peer's ping of its gateway $C_N1_GW got no answer:" "$out"
	elif out=$(dk exec ctr-peer ping -c1 -W2 "$C_A_IP" 2>&1); then
		e2e_fail "cj: without n1's rule, ctr-peer cannot ping ctr-a (FORWARD DROP applies)" "$out"
	else
		e2e_pass "cj: without n1's rule, ctr-peer cannot ping ctr-a (FORWARD DROP applies)"
	fi
	[ -n "$pid" ] && kill -CONT "$pid"
	sleep 2
	if c_fw_rule "$C_N1_ID" "$C_N1_BR" >/dev/null; then
		e2e_pass "cj: cbridge put n1's rules back within 2 s"
	else
		e2e_fail "cj: cbridge put n1's rules back within 2 s" "$(c_docker_user)"
	fi
	c_ping "cj: with n1's rule back, ctr-peer pings ctr-a" ctr-peer "$C_A_IP"
}

# ch. 50 x docker run --rm
c_h() {
	local i out fails=0 first='' veths_before state_before
	[ -n "$C_N1_ID" ] || {
		e2e_fail "ch: needs n1"
		return 0
	}
	veths_before=$(c_ns_veths)
	state_before=$(c_state_extra)
	for i in $(seq 50); do
		if ! out=$(dk run --rm --network n1 "$C_IMG" true 2>&1); then
			fails=$((fails + 1))
			[ -n "$first" ] || first="run $i: $out"
		fi
	done
	e2e_check_eq "ch: 50 x docker run --rm --network n1 $C_IMG true succeed (failures)" 0 "$fails"
	[ -z "$first" ] || e2e_note "ch: first failure: $first"
	e2e_check_eq "ch: no veth left in $E2E_NS" "$veths_before" "$(c_ns_veths)"
	e2e_check_eq "ch: state.json allocations and endpoints as before" "$state_before" "$(c_state_extra)"
}

# ci. 20 x docker run -d in parallel
c_i() {
	local i pids=() names=() bad='' addrs=() a unreachable veths_before state_before n=20 out nports
	[ -n "$C_PEER_IP" ] || {
		e2e_fail "ci: needs ctr-peer on n1"
		return 0
	}
	veths_before=$(c_ns_veths)
	state_before=$(c_state_extra)
	nports=$(c_ports "$C_N1_BR" | grep -c . || true)
	for i in $(seq -w 1 $n); do
		names+=("ctr-par$i")
		C_CTRS+=("ctr-par$i")
		dk run -d --name "ctr-par$i" --network n1 "$C_IMG" sleep 1d \
			>"$E2E_TMP/ctr-par$i.out" 2>&1 &
		pids+=("$!")
	done
	for i in "${!pids[@]}"; do
		if ! wait "${pids[$i]}"; then
			bad="$bad${names[$i]}: $(cli_error "$(cat "$E2E_TMP/${names[$i]}.out")" | head -n 1)"$'\n'
		fi
	done
	if [ -z "$bad" ]; then
		e2e_pass "ci: $n x docker run -d --network n1 in parallel all succeed"
	else
		e2e_fail "ci: $n x docker run -d --network n1 in parallel all succeed" "$bad"
	fi
	for i in "${names[@]}"; do
		a=$(c_addr4 "$i" n1)
		[ -z "$a" ] || addrs+=("$a")
	done
	e2e_check_eq "ci: $n distinct IPv4 addresses" "$n" "$(printf '%s\n' "${addrs[@]}" | sort -u | grep -c .)"
	if [ ${#addrs[@]} -gt 0 ]; then
		# shellcheck disable=SC2016
		unreachable=$(dk exec ctr-peer sh -c 'for a in "$@"; do ping -c1 -W2 "$a" >/dev/null 2>&1 || echo "$a"; done' \
			sh "${addrs[@]}" 2>&1) || true
		e2e_check_eq "ci: ctr-peer pings all ${#addrs[@]}" "" "$unreachable"
	fi
	e2e_check_eq "ci: $n more ports on $C_N1_BR" $((nports + n)) \
		"$(c_ports "$C_N1_BR" | grep -c . || true)"
	out=$(dk rm -f "${names[@]}" 2>&1) || true
	e2e_check_eq "ci: all $n removed" "" "$(dk ps -aq --filter name=ctr-par)"
	e2e_check_eq "ci: their veths are gone from $E2E_NS" "$veths_before" "$(c_ns_veths)"
	e2e_check_eq "ci: state.json allocations and endpoints as before" "$state_before" "$(c_state_extra)"
}

# cg. docker rm -f
c_g() {
	[ -n "$C_A_IP" ] || {
		e2e_fail "cg: needs ctr-a"
		return 0
	}
	e2e_check "cg: docker rm -f ctr-a" dk rm -f ctr-a
	if [ -n "$C_A_VETH" ]; then
		e2e_check "cg: ctr-a's veth $C_A_VETH is gone from $E2E_NS" e2e_no_link "$C_A_VETH"
	else
		e2e_fail "cg: ctr-a's veth is gone (its name was not found)"
	fi
	c_state_lacks "cg: $C_A_IP is released in state.json (ctr-peer's $C_PEER_IP stays)" \
		"$C_A_IP" "$C_PEER_IP"
	c_state_lacks "cg: endpoint ${C_A_EP:0:12} is gone from state.json (ctr-peer's stays)" \
		"$C_A_EP" "$(c_net_field ctr-peer n1 EndpointID)"
}

# cz. remove everything
c_z() {
	local c n id br ctrs=()
	for c in "${C_CTRS[@]}"; do
		! dk inspect "$c" >/dev/null 2>&1 || ctrs+=("$c")
	done
	if [ ${#ctrs[@]} -gt 0 ]; then
		e2e_check "cz: docker rm -f ${ctrs[*]}" dk rm -f "${ctrs[@]}"
	fi
	e2e_check_eq "cz: no veth left in $E2E_NS" "" "$(c_ns_veths | xargs)"
	e2e_check_eq "cz: state.json: only gateways allocated, no endpoint" "" "$(c_state_extra)"

	# n2 first and alone: its rule goes, n1's stays.
	for n in n2 "${C_NETS[@]}"; do
		id=$(dk network inspect -f '{{.Id}}' "$n" 2>/dev/null) || continue
		br=$(e2e_net_bridge "$n")
		e2e_check "cz: docker network rm $n" dk network rm "$n"
		e2e_check "cz: $n's bridge $br is gone" e2e_no_link "$br"
		e2e_check "cz: $n's firewall rule (cbridge:${id:0:12}...) is gone" c_no_fw_rule "$id"
		if [ "$n" = n2 ] && [ -n "$C_N1_ID" ] && dk network inspect n1 >/dev/null 2>&1; then
			e2e_check "cz: n1's rule is still there after n2's removal" c_fw_rule "$C_N1_ID" "$C_N1_BR"
		fi
	done
	e2e_check "cz: no cbridge rule left in DOCKER-USER or FORWARD" c_no_fw_rule ''
	e2e_check "cz: no docker_gwbridge appeared during the run" c_no_gwbridge
}

c_all() {
	e2e_scenario c_e
	e2e_scenario c_a
	e2e_scenario c_b
	e2e_scenario c_c
	e2e_scenario c_d
	e2e_scenario c_f
	e2e_scenario c_j
	e2e_scenario c_h
	e2e_scenario c_i
	e2e_scenario c_g
	e2e_scenario c_z
	plugin_alive containers
}
