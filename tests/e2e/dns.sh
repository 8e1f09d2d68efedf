# shellcheck shell=bash
# Globals shared with run.sh (bin, PLUGIN_PID) and firewall.sh (F_*):
# shellcheck disable=SC2034,SC2154
# DNS scenarios of the end-to-end tests, sourced by
# tests/e2e/run.sh after firewall.sh, whose outside namespace and helpers
# they use. cbridge's responder listens on D_ADDR in every sandbox with a
# cbridge endpoint; containers select it with --dns (dockerd's own
# 127.0.0.11 then forwards to it) or query it directly.
#
# The upstream is dnsmasq in the outside namespace F_OUT on F_OUT4:53,
# authoritative for cbtest.: ext.cbtest and every name below it are
# 192.0.2.44, others in cbtest. are NXDOMAIN; it logs every query, so the
# tests see which names reached it. No query leaves for any other address.
#
#   da  names: a container's name, its alias, NAME.NETWORK, its short ID and
#       hostname, and the PTR of its address, answered by cbridge
#       directly; an external name forwarded to the upstream, directly and
#       through dockerd's 127.0.0.11; a name both do not know: NXDOMAIN;
#       `cbridge dns-stats` counts them
#   db  --internal: the responder answers names but never forwards
#   dc  the firewall trap: with rules in E2E_NS dropping forwarded DNS
#       from the network's containers, resolution still works with
#       DNS_FORWARD_FROM=host (queries leave from the host's namespace);
#       after switching the plugin to DNS_FORWARD_FROM=sandbox (plugin
#       disable/set/enable with the containers running) it fails, visibly:
#       SERVFAIL, the sandbox's upstream timeout counter, and the log line
#       naming the sandbox, the namespace, the upstream and the reason
#   dd  a container that leaves the network (docker network disconnect)
#       loses its responder: no longer listed, queries refused

D_ADDR=169.254.53.53
D_UPLOG=''	# dnsmasq's query log
D_UPPID=''
D_SOCK=''	# the plugin's socket

# d_plugin_set WORDS...: disable -f, set, enable (the containers keep
# running; the plugin picks their sandboxes up from its state); enabled
# again also when the set fails.
d_plugin_set() {
	local rc=0
	dk plugin disable -f "$E2E_PLUGIN" >/dev/null || return 1
	dk plugin set "$E2E_PLUGIN" "$@" || rc=1
	dk plugin enable "$E2E_PLUGIN" >/dev/null || rc=1
	PLUGIN_PID=$(e2e_plugin_pid)
	D_SOCK=/run/docker/plugins/$(dk plugin inspect -f '{{.Id}}' "$E2E_PLUGIN")/cbridge.sock
	return "$rc"
}

# d_stats: `cbridge dns-stats --json` of the running plugin.
d_stats() {
	"$bin" dns-stats --socket "$D_SOCK" --json 2>&1
}

# d_sandbox CTR: the container's entry in d_stats (JSON, or "null").
d_sandbox() {
	local key
	key=$(dk inspect -f '{{.NetworkSettings.SandboxKey}}' "$1" 2>/dev/null)
	d_stats | jq -c --arg k "$key" '[.Sandboxes[] | select(.SandboxKey == $k)][0]'
}

# d_lookup CTR NAME [SERVER] [TYPE]: busybox nslookup in CTR; prints its
# output and fails when it does.
d_lookup() {
	local c=$1 name=$2 srv=${3:-} type=${4:-} args=()
	[ -z "$type" ] || args+=("-type=$type")
	args+=("$name")
	[ -z "$srv" ] || args+=("$srv")
	dk exec "$c" nslookup "${args[@]}" 2>&1
}

# d_answer CTR NAME SERVER [TYPE]: the addresses (or PTR name) of the
# answer, space separated; retried for 5 s (names arrive from the Engine
# API asynchronously).
d_answer() {
	local out i
	for i in $(seq 25); do
		out=$(d_lookup "$@" || true)
		out=$(awk '/^Name:/ { n = 1; next } n && /^Address/ { sub(/^Address( [0-9]+)?:[ \t]*/, ""); print } /name = / { sub(/.*name = /, ""); print }' <<<"$out" | sort | tr '\n' ' ')
		if [ -n "$out" ]; then
			echo "${out% }"
			return 0
		fi
		sleep 0.2
	done
	return 1
}

# d_ip CTR NET: the container's IPv4 address on NET.
d_ip() {
	dk inspect -f "{{(index .NetworkSettings.Networks \"$2\").IPAddress}}" "$1"
}

d_upstream_up() {
	D_UPLOG=$E2E_TMP/dnsmasq.log
	: >"$D_UPLOG"
	f_out dnsmasq -k --user=root --port=53 --listen-address="$F_OUT4" --bind-interfaces \
		--no-resolv --no-hosts --pid-file= \
		--address=/ext.cbtest/192.0.2.44 --local=/cbtest/ \
		--log-queries --log-facility="$D_UPLOG" >/dev/null 2>&1 &
	D_UPPID=$!
	F_PIDS+=("$D_UPPID")
	local _
	for _ in $(seq 50); do
		grep -q "started" "$D_UPLOG" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# d_seen LOG NAME [TYPE]: how many queries for NAME (of TYPE, default any)
# the upstream that logs to LOG logged.
d_seen() {
	awk -v n="$2" -v t="${3:-}" '$0 ~ /query\[/ {
			for (i = 1; i < NF; i++)
				if ($i ~ /^query\[/ && $(i + 1) == n && $(i + 2) == "from" &&
				    (t == "" || $i == "query[" t "]"))
					c++
		} END { print c + 0 }' "$1"
}

# d_upstream_saw NAME: the upstream logged a query for NAME.
d_upstream_saw() {
	[ "$(d_seen "$D_UPLOG" "$1")" -ge 1 ]
}

# d_never DESC LOG SERVER NAME...: the upstream at SERVER:53, which logs
# to LOG, never saw a query for any NAME. Proven to log what it gets by
# now first: a query for a new control name, sent to it straight from
# E2E_NS after NAME's, must show up in LOG (within 3 s), so that a log
# that is not written or not read cannot pass.
D_CTL=0
d_never() {
	local desc=$1 log=$2 srv=$3 ctl n i seen=''
	shift 3
	D_CTL=$((D_CTL + 1))
	ctl=ctl$D_CTL.ext.cbtest
	e2e_nsx timeout 5 busybox nslookup -type=a "$ctl" "$srv" >/dev/null 2>&1 || true
	for i in $(seq 30); do
		[ "$(d_seen "$log" "$ctl" 2>/dev/null)" -ge 1 ] 2>/dev/null && break
		sleep 0.1
	done
	if ! [ "$(d_seen "$log" "$ctl" 2>/dev/null)" -ge 1 ] 2>/dev/null; then
		e2e_fail "$desc" "probe: a query for $ctl straight to $srv is not in $log; its end:" \
			"$(tail -n 5 "$log" 2>&1)"
		return 0
	fi
	for n in "$@"; do
		[ "$(d_seen "$log" "$n")" = 0 ] || seen="$seen $n"
	done
	if [ -z "$seen" ]; then
		e2e_pass "$desc"
	else
		e2e_fail "$desc" "the upstream saw:$seen" "$(for n in $seen; do grep -F " $n " "$log"; done | head -n 5)"
	fi
}

d_a() {
	local id ip1 got short n s
	f_net "da: network dn1" "${E2E_PREFIX}dn1" --subnet 10.231.1.0/24 || return 0
	f_start "da: container da1 with --network-alias web --hostname h-da1" \
		"${E2E_PREFIX}da1" "${E2E_PREFIX}dn1" --network-alias web --hostname h-da1 || return 0
	f_start "da: container da2 with --dns $D_ADDR" "${E2E_PREFIX}da2" "${E2E_PREFIX}dn1" \
		--dns "$D_ADDR" || return 0
	ip1=$(d_ip "${E2E_PREFIX}da1" "${E2E_PREFIX}dn1")
	id=$(dk inspect -f '{{.Id}}' "${E2E_PREFIX}da1")
	short=${id:0:12}
	for n in "${E2E_PREFIX}da1" web "${E2E_PREFIX}da1.${E2E_PREFIX}dn1" "$short" h-da1 "${E2E_PREFIX}DA1"; do
		got=$(d_answer "${E2E_PREFIX}da2" "$n" "$D_ADDR" A || true)
		e2e_check_eq "da: cbridge answers $n with da1's address" "$ip1" "$got"
	done
	got=$(d_answer "${E2E_PREFIX}da2" "$ip1" "$D_ADDR" || true)
	e2e_check_eq "da: cbridge answers the PTR of $ip1" "${E2E_PREFIX}da1.${E2E_PREFIX}dn1" "$got"
	got=$(d_answer "${E2E_PREFIX}da2" ext.cbtest "$D_ADDR" A || true)
	e2e_check_eq "da: ext.cbtest forwarded to the upstream through cbridge" 192.0.2.44 "$got"
	e2e_check "da: the upstream saw ext.cbtest" d_upstream_saw ext.cbtest
	got=$(d_answer "${E2E_PREFIX}da2" via127.ext.cbtest "" A || true)
	e2e_check_eq "da: via127.ext.cbtest through dockerd's 127.0.0.11, which forwards to cbridge" \
		192.0.2.44 "$got"
	e2e_check "da: the upstream saw via127.ext.cbtest" d_upstream_saw via127.ext.cbtest
	got=$(d_lookup "${E2E_PREFIX}da2" nosuch.cbtest "$D_ADDR" A || true)
	e2e_check_match "da: nosuch.cbtest is NXDOMAIN (relayed)" "NXDOMAIN" "$got"
	s=$(d_sandbox "${E2E_PREFIX}da2")
	e2e_check_eq "da: dns-stats lists da2's sandbox as serving" serving "$(jq -r '.State' <<<"$s")"
	e2e_check "da: dns-stats counts local answers and forwards for da2 ($s)" \
		jq -e '.Local >= 6 and .Forwarded >= 2 and .QueriesUdp >= 8' <<<"$s"
	e2e_check "da: dns-stats: the upstream sent and answered ($(d_stats | jq -c '.Upstreams'))" \
		jq -e '.Upstreams[0].Address == "'"$F_OUT4"':53" and .Upstreams[0].Replies >= 2' <<<"$(d_stats)"
	got=$(dk exec "${E2E_PREFIX}da2" ip -4 addr show lo 2>&1 | grep -c "$D_ADDR/32" || true)
	e2e_check_eq "da: $D_ADDR is on da2's lo" 1 "$got"
}

d_b() {
	local got s
	f_net "db: internal network dni" "${E2E_PREFIX}dni" --internal --subnet 10.231.2.0/24 || return 0
	f_start "db: container db1" "${E2E_PREFIX}db1" "${E2E_PREFIX}dni" || return 0
	f_start "db: container db2" "${E2E_PREFIX}db2" "${E2E_PREFIX}dni" || return 0
	got=$(d_answer "${E2E_PREFIX}db2" "${E2E_PREFIX}db1" "$D_ADDR" A || true)
	e2e_check_eq "db: names are answered on an --internal network" \
		"$(d_ip "${E2E_PREFIX}db1" "${E2E_PREFIX}dni")" "$got"
	got=$(d_lookup "${E2E_PREFIX}db2" internal.ext.cbtest "$D_ADDR" A || true)
	e2e_check_match "db: an external name gets SERVFAIL" "SERVFAIL" "$got"
	d_never "db: the upstream never saw internal.ext.cbtest" "$D_UPLOG" "$F_OUT4" internal.ext.cbtest
	s=$(d_sandbox "${E2E_PREFIX}db2")
	e2e_check_eq "db: dns-stats says the sandbox does not forward" false "$(jq -r '.Forwarding' <<<"$s")"
}

# d_trap ADD|DEL: rules in E2E_NS's nft FORWARD (ahead of dockerd's and
# cbridge's accepts) dropping DNS from dn1's containers.
d_trap() {
	local op=-I p
	[ "$1" = ADD ] || op=-D
	for p in udp tcp; do
		if [ "$op" = -I ]; then
			e2e_nsx iptables-nft -I FORWARD 1 -s 10.231.1.0/24 -p "$p" --dport 53 -j DROP || return 1
			e2e_nsx iptables-legacy -I FORWARD 1 -s 10.231.1.0/24 -p "$p" --dport 53 -j DROP || return 1
		else
			e2e_nsx iptables-nft -D FORWARD -s 10.231.1.0/24 -p "$p" --dport 53 -j DROP || true
			e2e_nsx iptables-legacy -D FORWARD -s 10.231.1.0/24 -p "$p" --dport 53 -j DROP || true
		fi
	done
}

d_c() {
	local got s log t0 t1
	e2e_check "dc: trap: drop forwarded DNS from 10.231.1.0/24 in $E2E_NS" d_trap ADD
	got=$(d_lookup "${E2E_PREFIX}da2" direct.ext.cbtest "$F_OUT4" A || true)
	e2e_check_match "dc: the trap works: da2 cannot query the upstream itself" \
		"timed out|no servers|can't|SERVFAIL|connection refused" "$got"
	got=$(d_answer "${E2E_PREFIX}da2" host1.ext.cbtest "$D_ADDR" A || true)
	e2e_check_eq "dc: DNS_FORWARD_FROM=host: host1.ext.cbtest still resolves" 192.0.2.44 "$got"
	if d_plugin_set DNS_FORWARD_FROM=sandbox "DNS_UPSTREAMS=$F_OUT4"; then
		e2e_pass "dc: plugin disable, set DNS_FORWARD_FROM=sandbox, enable"
	else
		e2e_fail "dc: plugin disable, set DNS_FORWARD_FROM=sandbox, enable"
	fi
	for t0 in $(seq 50); do
		[ "$(d_sandbox "${E2E_PREFIX}da2" | jq -r '.State')" = serving ] && break
		sleep 0.1
	done
	e2e_check_eq "dc: after the restart, da2's sandbox is served again" serving \
		"$(d_sandbox "${E2E_PREFIX}da2" | jq -r '.State')"
	got=$(d_answer "${E2E_PREFIX}da2" "${E2E_PREFIX}da1" "$D_ADDR" A || true)
	e2e_check_eq "dc: names still answered after the restart" \
		"$(d_ip "${E2E_PREFIX}da1" "${E2E_PREFIX}dn1")" "$got"
	t0=$(date +%s%N)
	got=$(d_lookup "${E2E_PREFIX}da2" sb1.ext.cbtest "$D_ADDR" A || true)
	t1=$(date +%s%N)
	e2e_check_match "dc: DNS_FORWARD_FROM=sandbox: sb1.ext.cbtest fails (SERVFAIL) in $(((t1 - t0) / 1000000)) ms" \
		"SERVFAIL|timed out" "$got"
	s=$(d_sandbox "${E2E_PREFIX}da2")
	e2e_check "dc: dns-stats: da2's sandbox counts an upstream timeout ($(jq -c '.Upstreams' <<<"$s"))" \
		jq -e '.UpstreamFailures >= 1 and .Upstreams[0].Timeouts >= 1' <<<"$s"
	log=$(grep -a "forwarding sb1.ext.cbtest" "$E2E_TMP/dockerd.log" | head -n 1)
	e2e_check_match "dc: the log names the sandbox, the namespace, the upstream and the reason" \
		"sandbox .*$(dk inspect -f '{{.NetworkSettings.SandboxKey}}' "${E2E_PREFIX}da2" | sed 's/.*\///').*from the sandbox namespace to $F_OUT4:53 failed: timeout" \
		"$log"
	e2e_check "dc: trap removed" d_trap DEL
	got=$(d_answer "${E2E_PREFIX}da2" sb2.ext.cbtest "$D_ADDR" A || true)
	e2e_check_eq "dc: without the trap, sandbox forwarding works" 192.0.2.44 "$got"
}

d_d() {
	local got
	e2e_check "dd: docker network disconnect dn1 da2" \
		dk network disconnect "${E2E_PREFIX}dn1" "${E2E_PREFIX}da2"
	e2e_check_eq "dd: da2's sandbox is no longer served" null "$(d_sandbox "${E2E_PREFIX}da2")"
	got=$(dk exec "${E2E_PREFIX}da2" ip -4 addr show lo 2>&1 | grep -c "$D_ADDR/32" || true)
	e2e_check_eq "dd: $D_ADDR is gone from da2's lo" 0 "$got"
	got=$(d_lookup "${E2E_PREFIX}da2" "${E2E_PREFIX}da1" "$D_ADDR" A || true)
	e2e_check_match "dd: queries to $D_ADDR get no answer" "timed out|can't|refused|unreachable" "$got"
}

d_all() {
	local t missing=''
	for t in dnsmasq jq nsenter; do
		command -v "$t" >/dev/null || missing="$missing $t"
	done
	if [ -n "$missing" ]; then
		e2e_fail "dns: tools present" "missing:$missing"
		return 0
	fi
	[ ! -d /proc/sys/net/ipv6 ] || F_V6=1
	# Not through e2e_check: these set variables.
	if f_outside_up; then
		e2e_pass "dns: outside namespace $F_OUT joined to $E2E_NS"
	else
		e2e_fail "dns: outside namespace $F_OUT joined to $E2E_NS"
	fi
	if d_upstream_up; then
		e2e_pass "dns: upstream dnsmasq on $F_OUT4:53"
	else
		e2e_fail "dns: upstream dnsmasq on $F_OUT4:53" "$(cat "$D_UPLOG")"
	fi
	F_OUTSRV=${F_PIDS[*]}
	F_PIDS=()
	if d_plugin_set DNS_FORWARD_FROM=host "DNS_UPSTREAMS=$F_OUT4"; then
		e2e_pass "dns: plugin set DNS_UPSTREAMS=$F_OUT4 DNS_FORWARD_FROM=host"
	else
		e2e_fail "dns: plugin set DNS_UPSTREAMS=$F_OUT4 DNS_FORWARD_FROM=host"
	fi
	e2e_scenario d_b
	f_reset db
	e2e_scenario d_a
	e2e_scenario d_c
	e2e_scenario d_d
	d_trap DEL >/dev/null 2>&1 || true
	f_reset da
	e2e_check_eq "dns: no sandbox left in dns-stats" 0 "$(d_stats | jq '.Sandboxes | length')"
	f_outside_down
	plugin_alive dns
}
