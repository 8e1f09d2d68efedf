# shellcheck shell=bash
# Firewall scenarios of the end-to-end tests, sourced by tests/e2e/run.sh
# (after lib.sh and containers.sh, whose helpers they use): cbridge's rules
# in the legacy iptables tables (Docker 28's DOCKER-FORWARD layout, kernel
# NAT only) and its accepts in dockerd's nft DOCKER-USER, judged by the
# traffic they let through or stop, in dockerd's namespace E2E_NS (the
# plugin's host).
#
# The outside world is a network namespace F_OUT (E2E_PREFIX + "out")
# joined to E2E_NS by a veth pair on test-only subnets: F_HOST4
# (198.51.100.1/30) and F_HOST6 (fd00:cb:ffff::1/64) on the host's side,
# F_OUT4 and F_OUT6 (.2, ::2) outside. The outside has a default route via
# the host, to reach ports published on the host's address, and no other
# route. Its server (tests/e2e/peer.pl, on port 9000, TCP and UDP) answers
# each client with the source address it saw: a container's traffic that
# arrives there from F_HOST4, not from the container's address, was
# masqueraded. Servers in containers are busybox `nc -ll -p PORT -e echo
# cbtok-NAME` for TCP and peer.pl (run from the host with nsenter in the
# container's network namespace: busybox's nc has no UDP) for UDP.
#
# f_all runs, in this order, each scenario removing its containers and
# networks at its end (f_reset), and checking that no rule of them is left:
#   fa  outbound: TCP and UDP from a container to the outside, masqueraded
#       to the host's address (and IPv6); the outside cannot reach a
#       container's address
#   fb  two networks cannot reach each other; each reaches its gateway
#   fc  enable_icc=false stops traffic inside a network, ICC on lets it
#   fd  --internal: containers reach each other but neither the outside
#       nor another network (even with a default route added by hand), and
#       no other network reaches them
#   fe  -p: TCP and UDP published ports reached from the outside, from the
#       host (127.0.0.1 and its address), by hairpin from the same network
#       and the container itself, from another network; host port ranges,
#       -p 80 (the port cbridge chose, from state.json and ss), a host port
#       already taken; the port is free again once the container is gone
#   fg  `cbridge status` of the plugin lists the network with its bridge,
#       subnet, endpoint and published port, the backend (iptables: the
#       legacy tables this set reads hold the rules) and a last sync
#       without error; self-healing: rules flushed by hand in the legacy
#       tables and nft are back within 2.5 s, without duplicates, and
#       traffic flows again
#   ff  at the end: the rules and chains of iptables-legacy-save and
#       ip6tables-legacy-save (without counters) and `nft list ruleset` of
#       E2E_NS as before fa, no rule with a cbridge comment; chain policies
#       as before too, but for FORWARD DROP in a family whose forwarding
#       cbridge turned on meanwhile (dockerd does the same, and neither
#       turns it back)
# Each negative check first proves that its probe works: the same client
# from the same place gets an answer from a control server (or a ping
# answer from a control address), and a snapshot that could not be taken
# fails, so that a broken probe never passes as "blocked" or "gone".

F_OUT=''
F_VH=''		# veth end in E2E_NS
F_VO=''		# veth end in F_OUT
F_HOST4=198.51.100.1
F_OUT4=198.51.100.2
F_HOST6=fd00:cb:ffff::1
F_OUT6=fd00:cb:ffff::2
F_V6=0		# 1: the host has IPv6, test it too
F_PEER=''	# peer.pl, copied into E2E_TMP (so e2e_kill_leftovers finds it)
F_OUTSRV=''	# pid of the outside's server
F_CTRS=()	# containers of the current scenario
F_NETS=()	# networks of the current scenario
F_PIDS=()	# background processes of the current scenario
F_LEGACY0=''	# f_legacy before fa
F_NFT0=''	# nft -s list ruleset before fa
F_FWD0=''	# f_forwarding before fa
F_ANSWER=''	# f_reach: the answer

# ------------------------------------------------------------------ helpers

f_out() {
	ip netns exec "$F_OUT" "$@"
}

# f_pid CTR: the container's pid on the host.
f_pid() {
	dk inspect -f '{{.State.Pid}}' "$1" 2>/dev/null || true
}

# f_bg LOG CMD...: starts CMD (an executable, not a function) in the
# background, output to LOG, and records its pid in F_PIDS.
f_bg() {
	local log=$1
	shift
	"$@" >"$log" 2>&1 </dev/null 8>&- 9>&- &
	F_PIDS+=("$!")
}

# f_legacy: the legacy tables of E2E_NS as iptables-legacy-save and
# ip6tables-legacy-save show them, without comment lines and counters (a
# save that fails: e2e_probe_failed's line).
f_legacy() {
	local t out
	for t in iptables-legacy-save ip6tables-legacy-save; do
		echo "== $t"
		if out=$(e2e_nsx "$t" 2>&1); then
			grep -v '^#' <<<"$out" | sed -E 's/ \[[0-9]+:[0-9]+\]$//' || true
		else
			e2e_probe_failed "$t in $E2E_NS: $out"
		fi
	done
}

# f_norm: f_legacy's output as one line per rule or user-defined chain,
# "FAMILY TABLE RULE", and one per built-in chain whose policy is not
# ACCEPT, "FAMILY TABLE =policy CHAIN POLICY" (a table that was never
# loaded, and so is not shown, has all ACCEPT).
f_norm() {
	awk '
		/^== iptables-legacy-save/ { f = "ipv4"; next }
		/^== ip6tables-legacy-save/ { f = "ipv6"; next }
		/^\*/ { t = substr($0, 2); next }
		/^:/ {
			if ($2 == "-")
				print f, t, $0
			else if ($2 != "ACCEPT")
				print f, t, "=policy", substr($1, 2), $2
			next
		}
		/^-/ { print f, t, $0 }'
}

# f_nft: the nft ruleset of E2E_NS without counters, each table's chains
# in name order (a dockerd restart re-creates them in another order; the
# rules inside a chain keep theirs).
f_nft() {
	local out
	out=$(e2e_nsx nft -s list ruleset 2>&1) || {
		e2e_probe_failed "nft -s list ruleset in $E2E_NS: $out"
		return 0
	}
	awk '
		/^table / { tbl = $0; next }
		/^\tchain / { ch = $2; key = tbl " " ch; keys[++n] = key; next }
		/^\t}/ { ch = ""; next }
		ch != "" { body[key] = body[key] $0 "\n"; next }
		END {
			# insertion sort: few chains
			for (i = 2; i <= n; i++) { k = keys[i]; j = i - 1
				while (j > 0 && keys[j] > k) { keys[j + 1] = keys[j]; j-- }
				keys[j + 1] = k }
			for (i = 1; i <= n; i++) printf "%s\n%s", keys[i], body[keys[i]]
		}' <<<"$out"
}

# f_snapshot: f_legacy and f_nft.
f_snapshot() {
	f_legacy
	echo "== nft -s list ruleset"
	f_nft
}

# f_probe_failed SNAPSHOT...: the lines of the snapshots that say they
# could not be taken; false if there are none.
f_probe_failed() {
	printf '%s\n' "$@" | grep '^!! probe failed'
}

# f_snapshot_lacks DESC ERE [CONTROL]: no line of f_snapshot matches ERE;
# proven able to tell first: the snapshot was taken whole and, with
# CONTROL (an ERE), shows a rule that is still there.
f_snapshot_lacks() {
	local snap bad
	snap=$(f_snapshot)
	if bad=$(f_probe_failed "$snap"); then
		e2e_fail "$1" "$bad"
	elif [ -n "${3:-}" ] && ! grep -qE -- "$3" <<<"$snap"; then
		e2e_fail "$1" "probe: the rules do not show /$3/, which is still there:" "$snap"
	elif bad=$(grep -E -- "$2" <<<"$snap"); then
		e2e_fail "$1" "$bad"
	else
		e2e_pass "$1"
	fi
}

# f_forwarding: "ipv4 0|1" and "ipv6 0|1", forwarding in E2E_NS.
f_forwarding() {
	echo "ipv4 $(e2e_nsx cat /proc/sys/net/ipv4/ip_forward 2>&1)"
	echo "ipv6 $(e2e_nsx cat /proc/sys/net/ipv6/conf/all/forwarding 2>&1)"
}

# f_nft_rules ID: the rules of the nft ruleset with the comment
# cbridge:ID, sorted, without counters.
f_nft_rules() {
	e2e_nsx nft -s list ruleset 2>/dev/null | grep -F "\"cbridge:$1\"" |
		sed 's/^[[:space:]]*//' | sort || true
}

# f_client PLACE PROTO HOST PORT [SEC]: one client, from PLACE ("out",
# "host", a container, or "pid:PID", the network namespace of a
# container's process PID, entered from the host, which saves a docker
# exec): busybox nc for tcp, peer.pl for udp (from the host in the
# container's network namespace); prints the answer. SEC is the connect
# or answer timeout (default 2).
f_client() {
	local place=$1 proto=$2 host=$3 port=$4 sec=${5:-2}
	case $proto:$place in
	tcp:host) e2e_nsx timeout 5 busybox nc -w "$sec" "$host" "$port" </dev/null ;;
	tcp:out) f_out timeout 5 busybox nc -w "$sec" "$host" "$port" </dev/null ;;
	tcp:pid:*) nsenter -t "${place#pid:}" -n timeout 5 busybox nc -w "$sec" "$host" "$port" </dev/null ;;
	udp:pid:*) nsenter -t "${place#pid:}" -n perl "$F_PEER" udp "$host" "$port" "$sec" ;;
	tcp:*) dk exec "$place" busybox timeout 5 nc -w "$sec" "$host" "$port" ;;
	udp:host) e2e_nsx perl "$F_PEER" udp "$host" "$port" "$sec" ;;
	udp:out) f_out perl "$F_PEER" udp "$host" "$port" "$sec" ;;
	udp:*) nsenter -t "$(f_pid "$place")" -n perl "$F_PEER" udp "$host" "$port" "$sec" ;;
	esac
}

# f_has NAME TEXT: TEXT holds the answer of the server NAME.
f_has() {
	grep -qE "cbtok-$1( |\$)" <<<"$2"
}

# f_reach DESC NAME PLACE PROTO HOST PORT: a client in PLACE gets the
# answer of the server NAME from HOST:PORT (3 tries, 0.3 s apart); the
# answer is left in F_ANSWER.
f_reach() {
	local desc=$1 name=$2 i out=''
	shift 2
	F_ANSWER=''
	for i in 1 2 3; do
		out=$(f_client "$@" 2>&1) || true
		if f_has "$name" "$out"; then
			F_ANSWER=$(grep -m1 -E "cbtok-$name( |\$)" <<<"$out")
			e2e_pass "$desc"
			[ "$i" -eq 1 ] || e2e_note "$desc: on attempt $i"
			return 0
		fi
		sleep 0.3
	done
	e2e_fail "$desc" "client: $2 from $1 to $3 port $4, 3 tries; the last printed:" "${out:-(nothing)}"
}

# f_blocked DESC PLACE PROTO HOST PORT CNAME CHOST CPORT: a client in
# PLACE gets no answer from HOST:PORT within 1 s. Proven able to tell
# first: the same client in PLACE gets the answer of the control server
# CNAME at CHOST:CPORT over PROTO (3 tries, 0.3 s apart).
f_blocked() {
	local desc=$1 place=$2 proto=$3 host=$4 port=$5 cname=$6 chost=$7 cport=$8 i out=''
	for i in 1 2 3; do
		out=$(f_client "$place" "$proto" "$chost" "$cport" 2>&1) || true
		! f_has "$cname" "$out" || break
		sleep 0.3
	done
	if ! f_has "$cname" "$out"; then
		e2e_fail "$desc" "probe: the client in $place got no answer from the control $cname at $chost:$cport/$proto:" \
			"${out:-(nothing)}"
		return 0
	fi
	out=$(f_client "$place" "$proto" "$host" "$port" 1 2>&1) || true
	if grep -q 'cbtok-' <<<"$out"; then
		e2e_fail "$desc" "client: $proto from $place to $host port $port got an answer:" "$out"
	else
		e2e_pass "$desc"
	fi
}

# f_no_ping DESC CTR ADDR CONTROL: CTR gets no ping answer from ADDR
# within 1 s. Proven able to tell first: the same ping in CTR gets an
# answer from CONTROL (one retry).
f_no_ping() {
	local out
	if ! out=$(c_retry 2 dk exec "$2" ping -c1 -W1 "$4"); then
		e2e_fail "$1" "probe: docker exec $2 ping -c1 -W1 $4 (the control) got no answer:" "$out"
	elif out=$(dk exec "$2" ping -c1 -W1 "$3" 2>&1); then
		e2e_fail "$1" "command: docker exec $2 ping -c1 -W1 $3" "$out"
	else
		e2e_pass "$1"
	fi
}

# f_web LABEL CTR ADDR PORT NAME: a busybox nc server in CTR answering
# "cbtok-NAME" on PORT/tcp, checked from the host at ADDR:PORT.
f_web() {
	local label=$1 ctr=$2 addr=$3 port=$4 name=$5 i out=''
	dk exec -d "$ctr" nc -ll -p "$port" -e echo "cbtok-$name" >/dev/null 2>&1 || true
	for i in $(seq 15); do
		out=$(f_client host tcp "$addr" "$port" 1 2>&1) || true
		if f_has "$name" "$out"; then
			e2e_pass "$label: nc server in $ctr answers on $addr:$port/tcp (from the host)"
			return 0
		fi
		sleep 0.2
	done
	e2e_fail "$label: nc server in $ctr answers on $addr:$port/tcp (from the host)" "${out:-(nothing)}"
}

# f_serve LABEL PLACE ADDR PORT NAME: peer.pl's server NAME on PORT (TCP
# and UDP) in PLACE ("out" or a container), checked over UDP from the host
# at ADDR:PORT.
f_serve() {
	local label=$1 place=$2 addr=$3 port=$4 name=$5 log i out=''
	log=$E2E_TMP/fw-serve-$name.log
	if [ "$place" = out ]; then
		f_bg "$log" ip netns exec "$F_OUT" perl "$F_PEER" serve "$port" "$name"
	else
		f_bg "$log" nsenter -t "$(f_pid "$place")" -n perl "$F_PEER" serve "$port" "$name"
	fi
	for i in $(seq 25); do
		if grep -q '^listening' "$log" 2>/dev/null; then
			out=$(f_client host udp "$addr" "$port" 1 2>&1) || true
			if f_has "$name" "$out"; then
				e2e_pass "$label: UDP server in $place answers on $addr:$port/udp (from the host)"
				return 0
			fi
		fi
		sleep 0.2
	done
	e2e_fail "$label: UDP server in $place answers on $addr:$port/udp (from the host)" \
		"server: $(cat "$log" 2>&1)" "client: ${out:-(nothing)}"
}

# f_net DESC NAME ARGS...: creates a cbridge network of the scenario.
f_net() {
	local desc=$1
	shift
	if e2e_net_create "$@"; then
		F_NETS+=("$1")
		e2e_pass "$desc"
		return 0
	fi
	e2e_fail "$desc" "$E2E_OUT"
	c_msg "$desc" "$E2E_OUT"
	return 1
}

# f_start DESC NAME NET [RUN ARGS...]: docker run -d --name NAME --network
# NET ARGS IMG sleep 1d, a container of the scenario.
f_start() {
	local desc=$1 name=$2 net=$3 out
	shift 3
	F_CTRS+=("$name")
	if out=$(dk run -d --name "$name" --network "$net" "$@" "$E2E_IMAGE" sleep 1d 2>&1); then
		e2e_pass "$desc"
		return 0
	fi
	e2e_fail "$desc" "command: docker run -d --name $name --network $net $* $E2E_IMAGE sleep 1d" "$out"
	c_msg "$desc" "$out"
	dk rm -f "$name" >/dev/null 2>&1 || true
	return 1
}

# f_gw NET: the IPv4 gateway of a network, without its length.
f_gw() {
	local g
	g=$(gateway4 "$1")
	echo "${g%/*}"
}

# f_host_port CTR NET PROTO PORT: the IPv4 host port that state.json
# records for PORT/PROTO of CTR's endpoint on NET (empty if none).
f_host_port() {
	local ep pr=6
	[ "$3" = tcp ] || pr=17
	ep=$(c_net_field "$1" "$2" EndpointID)
	jq -r --arg ep "$ep" --argjson p "$4" --argjson pr "$pr" '
		[.endpoints[]? | select(.id == $ep) | .ports[]?
		 | select(.port == $p and .proto == $pr and .family == 4)
		 | .host_port] | first // ""' "$E2E_STATE_DIR/state.json" 2>/dev/null || true
}

# f_listening PROTO PORT: sockets listening on PORT in E2E_NS (ss lines).
f_listening() {
	local o=-Hltn
	[ "$1" = tcp ] || o=-Hlun
	e2e_nsx ss "$o" "sport = :$2" 2>&1 || true
}

# f_reset LABEL: removes the scenario's processes, containers and
# networks; the networks' bridges and rules must be gone.
f_reset() {
	local label=$1 p c n id br ids='' ctrs=()
	for p in "${F_PIDS[@]}"; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	F_PIDS=()
	for c in "${F_CTRS[@]}"; do
		! dk inspect "$c" >/dev/null 2>&1 || ctrs+=("$c")
	done
	F_CTRS=()
	if [ ${#ctrs[@]} -gt 0 ]; then
		e2e_check "$label: docker rm -f ${ctrs[*]}" dk rm -f "${ctrs[@]}"
	fi
	for n in "${F_NETS[@]}"; do
		id=$(dk network inspect -f '{{.Id}}' "$n" 2>/dev/null) || continue
		ids="$ids|${id:0:12}"
		br=$(e2e_net_bridge "$n")
		e2e_check "$label: docker network rm $n" dk network rm "$n"
		e2e_check "$label: $n's bridge $br is gone" e2e_no_link "$br"
	done
	F_NETS=()
	[ -n "$ids" ] || return 0
	f_snapshot_lacks "$label: no rule of its networks is left (legacy tables, nft)" "cbridge:(${ids#|})"
}

# ------------------------------------------------------------------- set-up

# f_outside_up: the outside namespace and its veth pair to E2E_NS; false
# if they could not be made.
f_outside_up() {
	F_OUT=${E2E_PREFIX}out
	F_VH=${E2E_PREFIX}fh
	F_VO=${E2E_PREFIX}fo
	ip netns add "$F_OUT" || return 1
	ip -n "$F_OUT" link set lo up &&
		e2e_ip link add "$F_VH" type veth peer name "$F_VO" netns "$F_OUT" &&
		e2e_ip addr add "$F_HOST4/30" dev "$F_VH" &&
		ip -n "$F_OUT" addr add "$F_OUT4/30" dev "$F_VO" || return 1
	if [ "$F_V6" -eq 1 ]; then
		e2e_ip -6 addr add "$F_HOST6/64" dev "$F_VH" nodad &&
			ip -n "$F_OUT" -6 addr add "$F_OUT6/64" dev "$F_VO" nodad || return 1
	fi
	e2e_ip link set "$F_VH" up && ip -n "$F_OUT" link set "$F_VO" up &&
		ip -n "$F_OUT" route add default via "$F_HOST4" || return 1
	if [ "$F_V6" -eq 1 ]; then
		ip -n "$F_OUT" -6 route add default via "$F_HOST6" || return 1
	fi
}

# f_outside_down: stops the outside's processes and deletes it (and so the
# veth pair).
f_outside_down() {
	local p
	[ -n "$F_OUT" ] || return 0
	for p in $F_OUTSRV $(ip netns pids "$F_OUT" 2>/dev/null); do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	F_OUTSRV=''
	e2e_check "end: ip netns delete $F_OUT" ip netns delete "$F_OUT"
	# The kernel dismantles a namespace asynchronously.
	for p in $(seq 30); do
		! e2e_ip link show dev "$F_VH" >/dev/null 2>&1 || sleep 0.1
	done
	e2e_check "end: the veth $F_VH to the outside is gone from $E2E_NS" e2e_no_link "$F_VH"
	F_OUT=''
}

# -------------------------------------------------------------- scenarios

# fa. outbound traffic is masqueraded; the outside cannot come in
f_a() {
	local sub args ip ip6
	sub=$(pick4)
	args=(--subnet "$sub")
	[ "$F_V6" -eq 0 ] || args=(--ipv6 --subnet "$sub" --subnet "$(e2e_pick6)")
	f_net "fa: create fa ${args[*]}" fa "${args[@]}" || return 0
	f_start "fa: docker run -d --name ctr-fa --network fa" ctr-fa fa || return 0
	ip=$(c_addr4 ctr-fa fa)
	f_reach "fa: ctr-fa ($ip) reaches the outside $F_OUT4:9000/tcp" outside ctr-fa tcp "$F_OUT4" 9000
	e2e_check_match "fa: the outside saw TCP from the host's $F_HOST4, not $ip (masquerade)" \
		"peer $(re_quote "$F_HOST4")\$" "$F_ANSWER"
	f_reach "fa: ctr-fa reaches the outside $F_OUT4:9000/udp" outside ctr-fa udp "$F_OUT4" 9000
	e2e_check_match "fa: the outside saw UDP from the host's $F_HOST4 (masquerade)" \
		"peer $(re_quote "$F_HOST4")\$" "$F_ANSWER"
	if [ "$F_V6" -eq 1 ]; then
		ip6=$(c_addr6 ctr-fa fa)
		f_reach "fa: ctr-fa ($ip6) reaches the outside [$F_OUT6]:9000/tcp" outside \
			ctr-fa tcp "$F_OUT6" 9000
		e2e_check_match "fa: the outside saw IPv6 TCP from the host's $F_HOST6 (masquerade)" \
			"peer $F_HOST6\$" "$F_ANSWER"
	fi
	f_web fa ctr-fa "$ip" 8080 fa
	f_blocked "fa: the outside (default route via the host) cannot reach ctr-fa's $ip:8080 (not published)" \
		out tcp "$ip" 8080 outside "$F_OUT4" 9000
}

# fb. two networks are isolated from each other
f_b() {
	local ip1 ip2
	f_net "fb: create fb1" fb1 --subnet "$(pick4)" || return 0
	f_net "fb: create fb2" fb2 --subnet "$(pick4)" || return 0
	f_start "fb: docker run -d --name ctr-fb1 --network fb1" ctr-fb1 fb1 || return 0
	f_start "fb: docker run -d --name ctr-fb2 --network fb2" ctr-fb2 fb2 || return 0
	ip1=$(c_addr4 ctr-fb1 fb1)
	ip2=$(c_addr4 ctr-fb2 fb2)
	f_web fb ctr-fb1 "$ip1" 8080 fb1
	f_web fb ctr-fb2 "$ip2" 8080 fb2
	c_ping "fb: ctr-fb1 pings its gateway $(f_gw fb1)" ctr-fb1 "$(f_gw fb1)"
	c_ping "fb: ctr-fb2 pings its gateway $(f_gw fb2)" ctr-fb2 "$(f_gw fb2)"
	f_no_ping "fb: ctr-fb1 cannot ping ctr-fb2 ($ip2) on fb2" ctr-fb1 "$ip2" "$(f_gw fb1)"
	f_no_ping "fb: ctr-fb2 cannot ping ctr-fb1 ($ip1) on fb1" ctr-fb2 "$ip1" "$(f_gw fb2)"
	f_blocked "fb: ctr-fb1 cannot reach ctr-fb2's $ip2:8080/tcp" ctr-fb1 tcp "$ip2" 8080 \
		outside "$F_OUT4" 9000
	f_blocked "fb: ctr-fb2 cannot reach ctr-fb1's $ip1:8080/tcp" ctr-fb2 tcp "$ip1" 8080 \
		outside "$F_OUT4" 9000
	f_reach "fb: ctr-fb1 still reaches the outside" outside ctr-fb1 tcp "$F_OUT4" 9000
}

# fc. enable_icc=false
f_c() {
	local off2 on2
	f_net "fc: create fc-off -o com.docker.network.bridge.enable_icc=false" fc-off \
		--subnet "$(pick4)" -o com.docker.network.bridge.enable_icc=false || return 0
	f_net "fc: create fc-on (ICC on by default)" fc-on --subnet "$(pick4)" || return 0
	f_start "fc: docker run -d --name ctr-fc-off1 --network fc-off" ctr-fc-off1 fc-off || return 0
	f_start "fc: docker run -d --name ctr-fc-off2 --network fc-off" ctr-fc-off2 fc-off || return 0
	f_start "fc: docker run -d --name ctr-fc-on1 --network fc-on" ctr-fc-on1 fc-on || return 0
	f_start "fc: docker run -d --name ctr-fc-on2 --network fc-on" ctr-fc-on2 fc-on || return 0
	off2=$(c_addr4 ctr-fc-off2 fc-off)
	on2=$(c_addr4 ctr-fc-on2 fc-on)
	f_web fc ctr-fc-off2 "$off2" 8080 fcoff2
	f_web fc ctr-fc-on2 "$on2" 8080 fcon2
	f_no_ping "fc: ICC off: ctr-fc-off1 cannot ping ctr-fc-off2 ($off2)" ctr-fc-off1 "$off2" \
		"$(f_gw fc-off)"
	f_blocked "fc: ICC off: ctr-fc-off1 cannot reach ctr-fc-off2's $off2:8080/tcp" \
		ctr-fc-off1 tcp "$off2" 8080 outside "$F_OUT4" 9000
	c_ping "fc: ICC off: ctr-fc-off1 still pings its gateway" ctr-fc-off1 "$(f_gw fc-off)"
	f_reach "fc: ICC off: ctr-fc-off1 still reaches the outside" outside ctr-fc-off1 tcp "$F_OUT4" 9000
	c_ping "fc: ICC on: ctr-fc-on1 pings ctr-fc-on2 ($on2)" ctr-fc-on1 "$on2"
	f_reach "fc: ICC on: ctr-fc-on1 reaches ctr-fc-on2's $on2:8080/tcp" fcon2 \
		ctr-fc-on1 tcp "$on2" 8080
}

# fd. --internal
f_d() {
	local i2 e gw out
	f_net "fd: create fd-int --internal" fd-int --internal --subnet "$(pick4)" || return 0
	f_net "fd: create fd-ext" fd-ext --subnet "$(pick4)" || return 0
	f_start "fd: docker run -d --name ctr-fd-i1 --network fd-int" ctr-fd-i1 fd-int || return 0
	f_start "fd: docker run -d --name ctr-fd-i2 --network fd-int" ctr-fd-i2 fd-int || return 0
	f_start "fd: docker run -d --name ctr-fd-e --network fd-ext" ctr-fd-e fd-ext || return 0
	i2=$(c_addr4 ctr-fd-i2 fd-int)
	e=$(c_addr4 ctr-fd-e fd-ext)
	gw=$(f_gw fd-int)
	f_web fd ctr-fd-i2 "$i2" 8080 fdi2
	f_serve fd ctr-fd-i2 "$i2" 9000 fdi2u
	f_web fd ctr-fd-e "$e" 8080 fde
	c_ping "fd: ctr-fd-i1 pings ctr-fd-i2 ($i2) on fd-int" ctr-fd-i1 "$i2"
	f_reach "fd: ctr-fd-i1 reaches ctr-fd-i2's $i2:8080/tcp" fdi2 ctr-fd-i1 tcp "$i2" 8080
	# An internal network gives no default route: add one by hand, so
	# that only the firewall stands in the way.
	if out=$(nsenter -t "$(f_pid ctr-fd-i1)" -n ip route add default via "$gw" 2>&1); then
		e2e_pass "fd: ctr-fd-i1 gets a default route via $gw (nsenter ip route add)"
	else
		e2e_fail "fd: ctr-fd-i1 gets a default route via $gw (nsenter ip route add)" "$out"
	fi
	f_blocked "fd: ctr-fd-i1 cannot reach the outside $F_OUT4:9000/tcp" ctr-fd-i1 tcp "$F_OUT4" 9000 \
		fdi2 "$i2" 8080
	f_blocked "fd: ctr-fd-i1 cannot reach the outside $F_OUT4:9000/udp" ctr-fd-i1 udp "$F_OUT4" 9000 \
		fdi2u "$i2" 9000
	f_no_ping "fd: ctr-fd-i1 cannot ping the outside $F_OUT4" ctr-fd-i1 "$F_OUT4" "$i2"
	f_no_ping "fd: ctr-fd-i1 cannot ping ctr-fd-e ($e) on fd-ext" ctr-fd-i1 "$e" "$i2"
	f_blocked "fd: ctr-fd-i1 cannot reach ctr-fd-e's $e:8080/tcp" ctr-fd-i1 tcp "$e" 8080 \
		fdi2 "$i2" 8080
	f_no_ping "fd: ctr-fd-e cannot ping ctr-fd-i2 ($i2) on fd-int" ctr-fd-e "$i2" "$(f_gw fd-ext)"
	f_blocked "fd: ctr-fd-e cannot reach ctr-fd-i2's $i2:8080/tcp" ctr-fd-e tcp "$i2" 8080 \
		outside "$F_OUT4" 9000
	f_blocked "fd: the outside cannot reach ctr-fd-i2's $i2:8080/tcp" out tcp "$i2" 8080 \
		outside "$F_OUT4" 9000
	f_reach "fd: ctr-fd-e reaches the outside (the server is up)" outside ctr-fd-e tcp "$F_OUT4" 9000
}

# fe. published ports
f_e() {
	local ip args where place addr what p1 p2 out l
	args=(--subnet "$(pick4)")
	[ "$F_V6" -eq 0 ] || args=(--ipv6 "${args[@]}" --subnet "$(e2e_pick6)")
	f_net "fe: create fe1 ${args[*]}" fe1 "${args[@]}" || return 0
	f_net "fe: create fe2" fe2 --subnet "$(pick4)" || return 0
	f_start "fe: docker run -d --name ctr-fe-web --network fe1 -p 18080:80 -p 15353:5353/udp" \
		ctr-fe-web fe1 -p 18080:80 -p 15353:5353/udp || return 0
	ip=$(c_addr4 ctr-fe-web fe1)
	f_web fe ctr-fe-web "$ip" 80 fe-web
	f_serve fe ctr-fe-web "$ip" 5353 fe-udp
	f_start "fe: docker run -d --name ctr-fe-peer --network fe1" ctr-fe-peer fe1 || return 0
	f_start "fe: docker run -d --name ctr-fe-n2 --network fe2" ctr-fe-n2 fe2 || return 0
	l=$(f_listening tcp 18080)
	e2e_check_match "fe: host port 18080/tcp is held by a listening socket in $E2E_NS" . "$l"
	l=$(f_listening udp 15353)
	e2e_check_match "fe: host port 15353/udp is held by a socket in $E2E_NS" . "$l"
	for where in "out $F_HOST4 the outside" \
		"host 127.0.0.1 the host" \
		"host $F_HOST4 the host" \
		"ctr-fe-peer $F_HOST4 ctr-fe-peer on fe1 (hairpin)" \
		"ctr-fe-web $F_HOST4 ctr-fe-web itself (hairpin)" \
		"ctr-fe-n2 $F_HOST4 ctr-fe-n2 on fe2"; do
		read -r place addr what <<<"$where"
		f_reach "fe: $what reaches $addr:18080/tcp" fe-web "$place" tcp "$addr" 18080
		f_reach "fe: $what reaches $addr:15353/udp" fe-udp "$place" udp "$addr" 15353
	done
	if [ "$F_V6" -eq 1 ]; then
		f_reach "fe: the outside reaches [$F_HOST6]:18080/tcp" fe-web out tcp "$F_HOST6" 18080
		f_reach "fe: the outside reaches [$F_HOST6]:15353/udp" fe-udp out udp "$F_HOST6" 15353
	fi

	# A range for one port: each container gets a free port of it.
	f_start "fe: docker run -d --name ctr-fe-r1 --network fe1 -p 19000-19002:80" \
		ctr-fe-r1 fe1 -p 19000-19002:80 || return 0
	f_start "fe: docker run -d --name ctr-fe-r2 --network fe1 -p 19000-19002:80" \
		ctr-fe-r2 fe1 -p 19000-19002:80 || return 0
	p1=$(f_host_port ctr-fe-r1 fe1 tcp 80)
	p2=$(f_host_port ctr-fe-r2 fe1 tcp 80)
	e2e_note "fe: state.json: ctr-fe-r1 got host port ${p1:-none}, ctr-fe-r2 ${p2:-none}"
	e2e_check_match "fe: ctr-fe-r1's host port is in 19000-19002" '^190(00|01|02)$' "$p1"
	e2e_check_match "fe: ctr-fe-r2's host port is in 19000-19002" '^190(00|01|02)$' "$p2"
	if [ -n "$p1" ] && [ "$p1" = "$p2" ]; then
		e2e_fail "fe: ctr-fe-r1 and ctr-fe-r2 have different host ports" "both $p1"
	else
		e2e_pass "fe: ctr-fe-r1 and ctr-fe-r2 have different host ports"
	fi
	f_web fe ctr-fe-r1 "$(c_addr4 ctr-fe-r1 fe1)" 80 fe-r1
	f_web fe ctr-fe-r2 "$(c_addr4 ctr-fe-r2 fe1)" 80 fe-r2
	f_reach "fe: the outside reaches ctr-fe-r1 at $F_HOST4:${p1:-?}" fe-r1 out tcp "$F_HOST4" "${p1:-0}"
	f_reach "fe: the outside reaches ctr-fe-r2 at $F_HOST4:${p2:-?}" fe-r2 out tcp "$F_HOST4" "${p2:-0}"

	# A range onto a range: one host port per container port.
	f_start "fe: docker run -d --name ctr-fe-m --network fe1 -p 19010-19011:80-81" \
		ctr-fe-m fe1 -p 19010-19011:80-81 || return 0
	ip=$(c_addr4 ctr-fe-m fe1)
	f_web fe ctr-fe-m "$ip" 80 fe-m80
	f_web fe ctr-fe-m "$ip" 81 fe-m81
	f_reach "fe: the outside reaches ctr-fe-m's port 80 at $F_HOST4:19010" fe-m80 out tcp "$F_HOST4" 19010
	f_reach "fe: the outside reaches ctr-fe-m's port 81 at $F_HOST4:19011" fe-m81 out tcp "$F_HOST4" 19011

	# -p 80: cbridge picks the port (docker port cannot show it).
	f_start "fe: docker run -d --name ctr-fe-any --network fe1 -p 80" ctr-fe-any fe1 -p 80 || return 0
	p1=$(f_host_port ctr-fe-any fe1 tcp 80)
	e2e_note "fe: state.json: ctr-fe-any got host port ${p1:-none}"
	e2e_check_match "fe: state.json records a host port for ctr-fe-any's 80/tcp" '^[0-9]+$' "$p1"
	if [ -n "$p1" ]; then
		l=$(f_listening tcp "$p1")
		e2e_check_match "fe: host port $p1/tcp is held by a listening socket in $E2E_NS" . "$l"
		f_web fe ctr-fe-any "$(c_addr4 ctr-fe-any fe1)" 80 fe-any
		f_reach "fe: the outside reaches ctr-fe-any at $F_HOST4:$p1" fe-any out tcp "$F_HOST4" "$p1"
	fi

	# A host port some program already holds.
	f_bg "$E2E_TMP/fw-busy.log" ip netns exec "$E2E_NS" busybox nc -l -p 18081
	for l in $(seq 20); do
		[ -z "$(f_listening tcp 18081)" ] || break
		sleep 0.1
	done
	F_CTRS+=(ctr-fe-busy)
	if out=$(dk run -d --name ctr-fe-busy --network fe1 -p 18081:80 "$E2E_IMAGE" sleep 1d 2>&1); then
		e2e_fail "fe: docker run -p 18081:80 fails while nc holds 18081 in $E2E_NS" "it started: $out" \
			"listening on 18081: $(f_listening tcp 18081)"
	else
		c_msg "fe: -p 18081:80 with 18081 taken" "$out"
		e2e_pass "fe: docker run -p 18081:80 fails while nc holds 18081 in $E2E_NS"
		e2e_check_match "fe: the error names the port 18081" '18081' "$(cli_error "$out")"
	fi
	dk rm -f ctr-fe-busy >/dev/null 2>&1 || true
	f_snapshot_lacks "fe: no rule for 18081 in the legacy tables (18080's are there)" \
		'--dport 18081( |$)' '--dport 18080( |$)'

	# Gone with the container: the reservation and the rules.
	e2e_check "fe: docker rm -f ctr-fe-web" dk rm -f ctr-fe-web
	e2e_check_eq "fe: host port 18080/tcp is free again" "" "$(f_listening tcp 18080)"
	e2e_check_eq "fe: host port 15353/udp is free again" "" "$(f_listening udp 15353)"
	f_snapshot_lacks "fe: no rule for 18080 or 15353 in the legacy tables (19010's are there)" \
		'--dport (18080|15353)( |$)' '--dport 19010( |$)'
}

# f_status ARGS...: `cbridge status ARGS` of the running plugin, at the
# socket dockerd serves it on.
f_status() {
	local sock
	sock=/run/docker/plugins/$(dk plugin inspect -f '{{.Id}}' "$E2E_PLUGIN")/cbridge.sock
	# shellcheck disable=SC2154 # bin: run.sh's
	"$bin" status --socket "$sock" "$@" 2>&1
}

# f_status_check LABEL NET ID SUBNET CTR: `cbridge status` lists network
# NET (ID, SUBNET) with its bridge, CTR's endpoint and as many published
# port bindings as state.json records for it; the backend is iptables
# and the last sync worked; the plain text names the bridge.
f_status_check() {
	local l=$1 net=$2 id=$3 sub=$4 ctr=$5 br=cb-${3:0:12} st ports ep n
	if ! st=$(f_status --json) || ! jq -e . >/dev/null 2>&1 <<<"$st"; then
		e2e_fail "$l: cbridge status --json answers a JSON document" "$st"
		return 0
	fi
	e2e_pass "$l: cbridge status --json answers a JSON document"
	ep=$(c_net_field "$ctr" "$net" EndpointID)
	ports=$(jq -r --arg ep "$ep" '[.endpoints[]? | select(.id == $ep) | .ports[]?] | length' \
		"$E2E_STATE_DIR/state.json" 2>/dev/null) || ports='?'
	n=$(jq -c --arg id "$id" '[.Networks[] | select(.ID == $id)] | first' <<<"$st")
	e2e_check_eq "$l: status lists $net with bridge $br, subnet $sub, 1 endpoint, $ports port binding(s) (state.json)" \
		"$br $sub 1 $ports" "$(jq -r '[.Bridge, .IPv4Subnet, .Endpoints, .Ports] | map(tostring) | join(" ")' <<<"$n")"
	e2e_check_eq "$l: status: $net's flags (not internal, icc, masquerade)" "false true true" \
		"$(jq -r '[.Internal, .ICC, .Masquerade] | map(tostring) | join(" ")' <<<"$n")"
	e2e_check_match "$l: status: at least one port binding for -p 18090:80" '^[1-9]' "$ports"
	e2e_check_eq "$l: status: backend iptables, and why ($(jq -r .Firewall.Why <<<"$st"))" \
		"iptables true" "$(jq -r '[.Firewall.Backend, (.Firewall.Why != "")] | map(tostring) | join(" ")' <<<"$st")"
	e2e_check_eq "$l: status: the last sync worked, at a UTC time ($(jq -c .Firewall.LastSync <<<"$st"))" \
		"true true 0" "$(jq -r '[(.Firewall.LastSync.Error == ""),
			(.Firewall.LastSync.Time | test("^[0-9-]{10}T[0-9:]{8}[.][0-9]{3}Z$")),
			.Firewall.SyncFailures] | map(tostring) | join(" ")' <<<"$st")"
	st=$(f_status) || true
	e2e_check_match "$l: cbridge status names $br in its line for $net" \
		"^${id:0:12} +$br +$(re_quote "$sub") " "$st"
}

# fg. rules flushed by someone else come back
f_g() {
	local ip id sub legacy nft now h hs t0 t1 ms out ok=0 lines=()
	sub=$(pick4)
	f_net "fg: create fg" fg --subnet "$sub" || return 0
	id=$E2E_NET_ID
	f_start "fg: docker run -d --name ctr-fg --network fg -p 18090:80" ctr-fg fg -p 18090:80 || return 0
	f_status_check fg fg "$id" "$sub" ctr-fg
	ip=$(c_addr4 ctr-fg fg)
	f_web fg ctr-fg "$ip" 80 fg
	f_reach "fg: the outside reaches $F_HOST4:18090 before the flush" fg out tcp "$F_HOST4" 18090
	legacy=$(f_legacy)
	nft=$(f_nft_rules "$id")
	e2e_note "fg: nft rules of fg before the flush:"
	mapfile -t lines <<<"$nft"
	printf '#   %s\n' "${lines[@]}"

	e2e_check "fg: iptables-legacy -t nat -F POSTROUTING" e2e_nsx iptables-legacy -t nat -F POSTROUTING
	e2e_check "fg: iptables-legacy -F DOCKER-FORWARD" e2e_nsx iptables-legacy -F DOCKER-FORWARD
	hs=$(e2e_nsx nft -a list chain ip filter DOCKER-USER 2>/dev/null |
		grep -F "\"cbridge:$id\"" | sed -n 's/.*# handle \([0-9]*\)$/\1/p') || true
	if [ "$E2E_DOCKERD_IPTABLES" = legacy ]; then
		# dockerd's chains are in the legacy tables: nothing of
		# cbridge's belongs in nft.
		f_snapshot_lacks "fg: no nft accept of fg (dockerd uses legacy iptables; its legacy rules are there)" \
			"\"cbridge:$id\"" "cbridge:${id:0:12}:"
	elif [ -z "$hs" ]; then
		e2e_fail "fg: cbridge's nft accepts of fg found in DOCKER-USER, to delete them" \
			"$(e2e_nsx nft -a list chain ip filter DOCKER-USER 2>&1)"
	fi
	for h in $hs; do
		e2e_check "fg: nft delete rule ip filter DOCKER-USER handle $h (cbridge:${id:0:12}...)" \
			e2e_nsx nft delete rule ip filter DOCKER-USER handle "$h"
	done
	t0=$(date +%s%N)
	if [ "$(f_legacy)" = "$legacy" ]; then
		e2e_note "fg: the legacy tables were as before already right after the flush"
	fi
	while :; do
		if [ "$(f_legacy)" = "$legacy" ] && [ "$(f_nft_rules "$id")" = "$nft" ]; then
			ok=1
			break
		fi
		t1=$(date +%s%N)
		[ $((t1 - t0)) -lt 2500000000 ] || break
		sleep 0.1
	done
	t1=$(date +%s%N)
	ms=$(((t1 - t0) / 1000000))
	now=$(f_legacy)
	if [ "$ok" -eq 1 ]; then
		e2e_pass "fg: legacy tables and nft accepts as before the flush again after $ms ms (<= 2.5 s)"
	else
		e2e_fail "fg: legacy tables and nft accepts as before the flush again within 2.5 s" \
			"legacy, diff before/now:" "$(diff <(echo "$legacy") <(echo "$now") || true)" \
			"nft before:" "$nft" "nft now:" "$(f_nft_rules "$id")"
	fi
	out=$(grep '^-A' <<<"$now" | sort | uniq -d) || true
	e2e_check_eq "fg: no duplicate rule in the legacy tables" "" "$out"
	out=$(f_nft_rules "$id" | uniq -d) || true
	e2e_check_eq "fg: no duplicate nft accept" "" "$out"
	f_reach "fg: the outside reaches $F_HOST4:18090 after the repair" fg out tcp "$F_HOST4" 18090
	f_reach "fg: ctr-fg reaches the outside after the repair" outside ctr-fg tcp "$F_OUT4" 9000
	e2e_check_match "fg: still masqueraded to $F_HOST4" "peer $(re_quote "$F_HOST4")\$" "$F_ANSWER"
	f_dockerd_restart "$id" "$ip"
}

# f_ours ID IP: cbridge's legacy rules for network ID and the base ones,
# without those of the container address IP.
f_ours() {
	f_legacy | grep -e 'cbridge:base:' -e "cbridge:${1:0:12}:" |
		grep -v -F -e "$2/" -e "$2:" || true
}

# f_dockerd_restart ID IP: dockerd restarts with cbridge's accepts in its nft
# DOCKER-USER chain (it reads that table at start): iptables-nft -S keeps
# working, dockerd comes back with the plugin, and network fg (ID) works
# again with its accepts in place.
f_dockerd_restart() {
	local id=$1 i out want
	# cbridge's rules of the network itself (ctr-fg and its ports go with
	# dockerd's stop), in order.
	F_LEGACY_FG=$(f_ours "$id" "$2")
	e2e_check "fg: iptables-nft -S reads the table with cbridge's accepts" \
		e2e_nsx iptables-nft -S
	if ! e2e_restart_dockerd; then
		e2e_fail "fg: dockerd starts again" "$(e2e_dockerd_log_tail 20)"
		return 0
	fi
	e2e_pass "fg: dockerd starts again"
	for i in $(seq 40); do
		[ -n "$(e2e_plugin_pid)" ] && break
		sleep 0.25
	done
	PLUGIN_PID=$(e2e_plugin_pid)
	e2e_check "fg: the plugin runs again (pid ${PLUGIN_PID:-none})" test -n "$PLUGIN_PID"
	e2e_check "fg: network fg is still there" dk network inspect fg
	want=2
	[ "$E2E_DOCKERD_IPTABLES" = legacy ] && want=0
	for i in $(seq 12); do
		[ "$(f_nft_rules "$id" | grep -c .)" -ge "$want" ] && break
		sleep 0.25
	done
	out=$(f_nft_rules "$id")
	e2e_check_eq "fg: $want nft accepts of fg after the restart" "$want" "$(grep -c . <<<"$out" || true)"
	# dockerd flushed the chains it shares with cbridge at its start.
	for i in $(seq 12); do
		[ "$(f_ours "$id" "$2")" = "$F_LEGACY_FG" ] && break
		sleep 0.25
	done
	e2e_check_eq "fg: cbridge's legacy rules for fg complete again after dockerd's start" \
		"$F_LEGACY_FG" "$(f_ours "$id" "$2")"
	dk rm -f ctr-fg >/dev/null 2>&1 || true
	f_start "fg: a container on fg after the restart" ctr-fg2 fg || return 0
	f_reach "fg: it reaches the outside" outside ctr-fg2 tcp "$F_OUT4" 9000
	e2e_check "fg: iptables-nft -S still reads the table" e2e_nsx iptables-nft -S
}

# ff. everything removed: the rules are as before. Chain policies may
# differ in one way: FORWARD DROP in the family whose forwarding cbridge
# turned on meanwhile (as dockerd does; neither turns it back).
f_f() {
	local legacy nft b a d l fam bad='' fwd pf
	legacy=$(f_legacy)
	nft=$(f_nft)
	fwd=$(f_forwarding)
	# Two snapshots that could not be taken would compare equal.
	if pf=$(f_probe_failed "$F_LEGACY0" "$legacy" "$F_NFT0" "$nft"); then
		e2e_fail "ff: the legacy tables and the nft ruleset of $E2E_NS could be read, before fa and now" "$pf"
		return 0
	fi
	b=$(f_norm <<<"$F_LEGACY0" | awk '$3 != "=policy"')
	a=$(f_norm <<<"$legacy" | awk '$3 != "=policy"')
	if [ "$a" = "$b" ]; then
		e2e_pass "ff: rules and chains of the legacy tables (iptables, ip6tables) as before fa"
	else
		d=$(diff <(echo "$b") <(echo "$a") | head -n 80) || true
		e2e_fail "ff: rules and chains of the legacy tables (iptables, ip6tables) as before fa" "$d"
	fi
	b=$(f_norm <<<"$F_LEGACY0" | awk '$3 == "=policy"' | sort)
	a=$(f_norm <<<"$legacy" | awk '$3 == "=policy"' | sort)
	d=$(comm -23 <(echo "$b") <(echo "$a"))
	[ -z "$d" ] || bad="gone:"$'\n'"$d"$'\n'
	while read -r l; do
		[ -n "$l" ] || continue
		fam=${l%% *}
		if [ "$l" = "$fam filter =policy FORWARD DROP" ] &&
			grep -qx "$fam 0" <<<"$F_FWD0" && grep -qx "$fam 1" <<<"$fwd"; then
			e2e_note "ff: $fam FORWARD policy DROP in the legacy tables since cbridge turned $fam forwarding on"
		else
			bad="${bad}new: $l"$'\n'
		fi
	done < <(comm -13 <(echo "$b") <(echo "$a"))
	e2e_check_eq "ff: legacy chain policies as before fa (but FORWARD DROP where forwarding was turned on)" "" "$bad"
	if [ "$nft" = "$F_NFT0" ]; then
		e2e_pass "ff: nft ruleset of $E2E_NS as before fa"
	else
		d=$(diff <(echo "$F_NFT0") <(echo "$nft") | head -n 80) || true
		e2e_fail "ff: nft ruleset of $E2E_NS as before fa" "$d"
	fi
	e2e_check_eq "ff: no rule with a cbridge comment is left" "" \
		"$(grep -F 'cbridge:' <<<"$legacy"$'\n'"$nft" || true)"
}

# f_all: the firewall scenarios, with the outside around them.
f_all() {
	local t missing='' out=''
	for t in perl nsenter iptables-legacy-save ip6tables-legacy-save ss timeout; do
		command -v "$t" >/dev/null || missing="$missing $t"
	done
	if [ -n "$missing" ]; then
		e2e_fail "firewall: tools present" "missing:$missing"
		return 0
	fi
	[ ! -d /proc/sys/net/ipv6 ] || F_V6=1
	[ "$F_V6" -eq 1 ] || e2e_note "firewall: IPv6 checks SKIPPED, this host has no IPv6"
	F_PEER=$E2E_TMP/peer.pl
	cp "$E2E_TOP/tests/e2e/peer.pl" "$F_PEER"
	F_LEGACY0=$(f_legacy)
	F_NFT0=$(f_nft)
	F_FWD0=$(f_forwarding)
	if f_outside_up && out=$(f_out busybox ping -c1 -W2 "$F_HOST4" 2>&1); then
		e2e_pass "fa: outside namespace $F_OUT joined to $E2E_NS ($F_VH $F_HOST4 - $F_VO $F_OUT4)"
	else
		e2e_fail "fa: outside namespace $F_OUT joined to $E2E_NS ($F_VH $F_HOST4 - $F_VO $F_OUT4)" \
			"${out:-(could not make it)}"
	fi
	f_serve fa out "$F_OUT4" 9000 outside
	F_OUTSRV=${F_PIDS[*]}
	F_PIDS=()
	e2e_scenario f_a
	f_reset fa
	e2e_scenario f_b
	f_reset fb
	e2e_scenario f_c
	f_reset fc
	e2e_scenario f_d
	f_reset fd
	e2e_scenario f_e
	f_reset fe
	e2e_scenario f_g
	f_reset fg
	e2e_scenario f_f
	f_outside_down
	plugin_alive firewall
}
