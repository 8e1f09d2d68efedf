# shellcheck shell=bash
# Globals shared with run.sh (bin, PLUGIN_PID), firewall.sh (F_*) and
# dns.sh (D_SOCK):
# shellcheck disable=SC2034,SC2154
# DNS scenarios of the end-to-end tests for containers started WITHOUT
# --dns, sourced by tests/e2e/run.sh after dns.sh, whose helpers
# (d_plugin_set, d_stats, d_sandbox, d_ip) and firewall.sh's
# outside namespace they use. dockerd writes 127.0.0.11 into such a
# container's resolv.conf; with DNS_MODE=intercept (the default) cbridge
# redirects the sandbox's queries to 127.0.0.11:53 to its own responder
# (an nftables table `ip cbridge-dns` in the sandbox's namespace), with
# DNS_MODE=address it only answers at DNS_ADDRESS, with off not at all.
#
# Who answered is told apart three ways, none of them cbridge's word
# alone: cbridge answers container names with DNS_TTL, set to N_TTL (77)
# here, dockerd's resolver with 600; the table and its counters are read
# from the sandbox's namespace with nft; and the per-sandbox counters of
# `cbridge dns-stats` must move by what the test sent. External names come
# from test upstreams in the outside namespace (dnsmasq, every query
# logged, TTL 300 so that replies are cached): N_LOG1's on F_OUT4 (the
# plugin's DNS_UPSTREAMS), N_LOG2's on N_UP2 (for --dns). dockerd's own
# resolver could not reach them: its servers are the machine's, and
# dockerd's namespace E2E_NS has no route but to the test's links.
# Queries whose answer or TTL matters are sent with peer.pl's dns client
# from the container's network namespace (nsenter -n: the same netfilter
# hooks as a process of the container); busybox's nslookup, run in the
# container, checks the path through its resolv.conf.
#
# Passes, chosen from the environment of run.sh:
#   default (nft)
#     n1  a container's name, NAME.NETWORK and an external name, answered
#         by cbridge: resolv.conf says 127.0.0.11, dns-stats says
#         Redirected, the table is in the sandbox and its counters move,
#         the TTL is cbridge's, a repeated external name reaches the
#         upstream once (cache), the sandbox's counters move; the plugin
#         sees the sandbox's namespace mount (the harness's exec root is
#         shared with it)
#     n2  rules in DOCKER-USER of E2E_NS dropping the containers'
#         forwarded DNS (proven to drop: the container's own query to the
#         upstream dies): external names still resolve
#     n3  a container on a cbridge network and a user-defined bridge
#         network resolves names on both; a container only on the bridge
#         network is left to dockerd (no table, TTL 600)
#     n4  five containers started one after another: each name answered on
#         the first try right after its `docker run -d` returned, asked
#         from a running container; prints the time to the answer
#     n5  --internal network: names answered, an external name never
#         reaches the upstream (first proven to log names)
#     n6  a container with its own --dns: that server gets the query, the
#         default upstream does not
#     n7  TCP: names and an external name, QueriesTcp moves
#     n8  docker plugin disable (refused without -f while networks use
#         it): the table leaves the sandbox, dockerd answers; enable:
#         cbridge again; kill -9 of the plugin: dockerd restarts it and
#         the sandbox is served again
#     n11 DNS_MODE=address: no table, dockerd answers, the counters stay;
#         the responder at DNS_ADDRESS still answers (and they move)
#     n12 DNS_MODE=off: no table, no responder at DNS_ADDRESS, dockerd
#         answers; back to intercept: the running sandbox is redirected
#     n13 a table left in a sandbox without a cbridge endpoint is removed
#         after a restart; the others' are adopted.
#   E2E_DOCKERD_IPTABLES=legacy
#     n9  n1, n2 (DOCKER-USER of the legacy tables), n3 and n7 with
#         dockerd's NAT rules for 127.0.0.11 in the legacy tables
#   E2E_EXEC_ROOT_PRIVATE=1
#     n10 the plugin cannot see the sandbox's namespace mount (a private
#         exec root): n1 all the same (the namespace is opened through
#         /proc/PID/ns/net), and again after a kill -9 of the plugin

N_TTL=77	# DNS_TTL during these scenarios
N_DOCKERD_TTL=600	# the TTL of dockerd's resolver's answers
N_UP2=203.0.113.53	# the second upstream, on F_OUT's lo, routed via F_OUT4
N_ANS1=192.0.2.44	# what the upstreams answer for *.ext.cbtest
N_ANS2=192.0.2.66
N_LOG1=''
N_LOG2=''
N_NET=''	# n1's network and containers, used by later scenarios
N_SUB=10.232.1.0/24
N_A=''
N_B=''

# ------------------------------------------------------------------ helpers

# n_qp PID NAME [TYPE [PROTO [SERVER [SEC]]]]: one query (peer.pl dns) from
# the network namespace of process PID, to SERVER (default 127.0.0.11);
# prints peer.pl's output.
n_qp() {
	local pid=$1
	if [ -z "$pid" ] || [ "$pid" = 0 ]; then
		echo "no process to take the network namespace from"
		return 1
	fi
	timeout 10 nsenter -t "$pid" -n perl "$F_PEER" dns "${5:-127.0.0.11}" \
		"$2" "${3:-A}" "${4:-udp}" "${6:-3}" 2>&1
}

# n_q CTR NAME [TYPE [PROTO [SERVER [SEC]]]]: n_qp from CTR's namespace.
n_q() {
	local c=$1
	shift
	n_qp "$(f_pid "$c")" "$@"
}

# n_got OUT: "ADDRESSES ttl=TTLS" of peer.pl's output (data and TTLs of
# the answer records, sorted, space separated), or the rcode line when
# there is no record, or the output itself.
n_got() {
	local a t
	a=$(awk '$1 == "A" || $1 == "AAAA" || $1 == "PTR" { print $2 }' <<<"$1" | sort | tr '\n' ' ')
	t=$(awk '$1 == "A" || $1 == "AAAA" || $1 == "PTR" { sub(/ttl=/, "", $3); print $3 }' <<<"$1" | sort -u | tr '\n' ' ')
	if [ -n "$a" ]; then
		echo "${a% } ttl=${t% }"
	else
		grep -m1 '^rcode=' <<<"$1" || echo "$1" | tr '\n' ' '
	fi
}

# n_answer DESC CTR NAME WANT TTL [PROTO [SERVER]]: a query from CTR's
# namespace is answered with WANT (addresses) and TTL.
n_answer() {
	local desc=$1 out got
	out=$(n_q "$2" "$3" A "${6:-udp}" "${7:-127.0.0.11}") || true
	got=$(n_got "$out")
	if [ "$got" = "$4 ttl=$5" ]; then
		e2e_pass "$desc"
	else
		e2e_fail "$desc" "expected: '$4 ttl=$5'" "query ${3} A over ${6:-udp} to ${7:-127.0.0.11} from $2:" "${out:-(nothing)}"
	fi
}

# n_resolv DESC CTR: the container's resolv.conf names only 127.0.0.11.
n_resolv() {
	local out
	out=$(timeout 10 "$E2E_DOCKER" exec "$2" cat /etc/resolv.conf 2>&1 | grep '^nameserver' || true)
	e2e_check_eq "$1" "nameserver 127.0.0.11" "$out"
}

# n_nslookup DESC CTR NAME WANT: busybox nslookup -type=a NAME in CTR,
# through its resolv.conf, answers WANT (up to 5 tries, 0.2 s apart, for a
# name not known yet; a later try is noted; no retry after a timeout).
n_nslookup() {
	local out got i
	for i in 1 2 3 4 5; do
		out=$(timeout 20 "$E2E_DOCKER" exec "$2" nslookup -type=a "$3" 2>&1) || true
		got=$(awk '/^Name:/ { n = 1; next } n && /^Address/ { sub(/^Address( [0-9]+)?:[ \t]*/, ""); print }' <<<"$out" | sort | tr '\n' ' ')
		got=${got% }
		[ -z "$got" ] || break
		! grep -q 'timed out' <<<"$out" || break
		sleep 0.2
	done
	if [ "$got" = "$4" ]; then
		e2e_pass "$1"
		[ "$i" -eq 1 ] || e2e_note "$1: on try $i"
	else
		e2e_fail "$1" "expected: '$4'" "nslookup -type=a $3 in $2, try $i:" "$out"
	fi
}

# n_table CTR: nft's listing of cbridge's table in CTR's namespace; fails
# when there is none.
n_table() {
	local pid
	pid=$(f_pid "$1")
	[ -n "$pid" ] && [ "$pid" != 0 ] || return 1
	timeout 10 nsenter -t "$pid" -n nft list table ip cbridge-dns 2>&1
}

# n_table_packets CTR: packets counted by the table's rules.
n_table_packets() {
	{ n_table "$1" || true; } | awk '{ for (i = 1; i < NF; i++) if ($i == "packets") n += $(i + 1) } END { print n + 0 }'
}

# n_no_table DESC CTR: there is no cbridge table in CTR's namespace (and
# nft works there: it lists the ruleset).
n_no_table() {
	local pid out
	pid=$(f_pid "$2")
	if ! out=$(timeout 10 nsenter -t "$pid" -n nft list ruleset 2>&1); then
		e2e_fail "$1" "nft list ruleset in $2's namespace failed:" "$out"
	elif grep -q 'table ip cbridge-dns' <<<"$out"; then
		e2e_fail "$1" "$out"
	else
		e2e_pass "$1"
	fi
}

# n_docker_dnat CTR: dockerd's NAT rules for its resolver in CTR's
# namespace, in the iptables of dockerd's backend; fails without them.
n_docker_dnat() {
	local out
	out=$(timeout 10 nsenter -t "$(f_pid "$1")" -n "$E2E_IPT-save" -t nat 2>&1)
	grep -E -- '-d 127\.0\.0\.11(/32)? .*-j DNAT' <<<"$out" || {
		echo "$out"
		return 1
	}
}

# n_sb CTR: CTR's sandbox in dns-stats (d_sandbox; "null" if not there or
# dns-stats fails).
n_sb() {
	local j
	j=$(d_sandbox "$1" 2>/dev/null) || j=null
	echo "${j:-null}"
}

# n_wait CTR JQ SEC: waits up to SEC seconds for CTR's sandbox in
# dns-stats to satisfy the jq filter JQ; prints the time waited in ms.
n_wait() {
	local t0 t1 end
	t0=$(date +%s%N)
	end=$((t0 + $3 * 1000000000))
	while :; do
		if n_sb "$1" | jq -e "$2" >/dev/null 2>&1; then
			t1=$(date +%s%N)
			echo $(((t1 - t0) / 1000000))
			return 0
		fi
		[ "$(date +%s%N)" -lt "$end" ] || break
		sleep 0.1
	done
	echo "$3 s"
	return 1
}

# n_redirected DESC CTR: CTR's sandbox is served and redirected (waits up
# to 10 s), with cbridge's table in its namespace.
n_redirected() {
	local ms
	if ms=$(n_wait "$2" '.State == "serving" and .Intercept.Redirected == true' 10); then
		e2e_pass "$1: dns-stats: $2's sandbox serving, Intercept.Redirected true (after $ms ms)"
	else
		e2e_fail "$1: dns-stats: $2's sandbox serving, Intercept.Redirected true (within 10 s)" \
			"$(n_sb "$2")"
	fi
	e2e_check "$1: cbridge's table ip cbridge-dns is in $2's namespace" n_table "$2"
}

# n_delta S0 S1 FIELD: S1.FIELD - S0.FIELD of two n_sb snapshots; "?"
# unless both hold FIELD (a sandbox that was not listed counts as
# nothing, never as 0).
n_delta() {
	jq -rn --argjson a "$1" --argjson b "$2" --arg f "$3" '
		if ($a | type) == "object" and ($b | type) == "object" and
		   ($a[$f] | type) == "number" and ($b[$f] | type) == "number"
		then $b[$f] - $a[$f] else "?" end' 2>/dev/null || echo "?"
}

# n_moved DESC S0 S1 FIELD MIN: FIELD grew by at least MIN.
n_moved() {
	local d
	d=$(n_delta "$2" "$3" "$4")
	if [ "$d" != "?" ] && [ "$d" -ge "$5" ]; then
		e2e_pass "$1: dns-stats $4 +$d (>= $5)"
	else
		e2e_fail "$1: dns-stats $4 grew by >= $5" "before: $2" "after:   $3"
	fi
}

# n_upstream LOG ADDR ANSWER: dnsmasq in the outside namespace on ADDR:53,
# authoritative for cbtest. (ext.cbtest and below: ANSWER, TTL 300; other
# names NXDOMAIN), every query logged to LOG.
n_upstream() {
	local log=$1 _
	: >"$log"
	f_out dnsmasq -k --user=root --port=53 --listen-address="$2" --bind-interfaces \
		--no-resolv --no-hosts --pid-file= --local-ttl=300 \
		--address="/ext.cbtest/$3" --local=/cbtest/ \
		--log-queries --log-facility="$log" >/dev/null 2>&1 </dev/null 8>&- 9>&- &
	F_OUTSRV="$F_OUTSRV $!"
	for _ in $(seq 50); do
		grep -q "started" "$log" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# n_plugin_mounts CTR: the plugin's mounts of CTR's sandbox namespace (its
# mountinfo lines for the path the docker-exec mount shows it at).
n_plugin_mounts() {
	local key pid
	key=$(dk inspect -f '{{.NetworkSettings.SandboxKey}}' "$1")
	pid=$(e2e_plugin_pid)
	[ -n "$pid" ] || {
		echo "no plugin process"
		return 1
	}
	awk -v m="/host/docker-exec/${key#"$E2E_TMP/exec/"}" '$5 == m' "/proc/$pid/mountinfo"
}

# n_set LABEL WORDS...: d_plugin_set, pass or fail.
n_set() {
	local label=$1
	shift
	if d_plugin_set "$@"; then
		e2e_pass "$label: plugin disable -f, set $*, enable"
	else
		e2e_fail "$label: plugin disable -f, set $*, enable"
	fi
}

# n_trap ADD|DEL SUBNET: rules at the top of DOCKER-USER in E2E_NS (in the
# iptables of dockerd's backend) dropping DNS forwarded from SUBNET.
n_trap() {
	local p
	for p in udp tcp; do
		if [ "$1" = ADD ]; then
			e2e_nsx "$E2E_IPT" -I DOCKER-USER 1 -s "$2" -p "$p" --dport 53 -j DROP || return 1
		else
			e2e_nsx "$E2E_IPT" -D DOCKER-USER -s "$2" -p "$p" --dport 53 -j DROP || return 1
		fi
	done
}

# n_took LABEL T0: notes the seconds since T0 (date +%s%N).
n_took() {
	e2e_note "$1: took $((($(date +%s%N) - $2) / 1000000)) ms"
}

# ---------------------------------------------------------------- scenarios

# n_names L: n1 (L is the label: n1, or n9 and n10 in their passes).
n_names() {
	local L=$1 t0 ipa s0 s1 out n ms
	t0=$(date +%s%N)
	N_NET=${E2E_PREFIX}nn1
	N_A=${E2E_PREFIX}n1a
	N_B=${E2E_PREFIX}n1b
	f_net "$L: network nn1" "$N_NET" --subnet "$N_SUB" || return 1
	f_start "$L: container n1a, no --dns" "$N_A" "$N_NET" || return 1
	f_start "$L: container n1b, no --dns" "$N_B" "$N_NET" || return 1
	ipa=$(d_ip "$N_A" "$N_NET")
	n_resolv "$L: n1b's resolv.conf names only 127.0.0.11 (dockerd's resolver)" "$N_B"
	e2e_check "$L: dockerd's DNAT of 127.0.0.11 is in n1b's namespace ($E2E_IPT)" \
		n_docker_dnat "$N_B"
	n_redirected "$L" "$N_B"
	e2e_check_eq "$L: dns-stats Mode" intercept "$(d_stats | jq -r '.Mode')"
	s0=$(n_sb "$N_B")
	e2e_check_eq "$L: dns-stats: Intercept.Error of n1b's sandbox is empty" "" \
		"$(jq -r '.Intercept.Error // "(none)"' <<<"$s0")"
	e2e_check_match "$L: dns-stats lists n1b's name for its sandbox" "\"/?$N_B\"" \
		"$(jq -c '.Containers' <<<"$s0")"
	# Looked for when the responder starts, and again every second until
	# dockerd has started it.
	if ms=$(n_wait "$N_B" '.Intercept.DockerResolver | test("^127\\.0\\.0\\.11:[0-9]+$")' 5); then
		e2e_pass "$L: dns-stats: dockerd's resolver found in n1b's sandbox (after $ms ms more)"
	else
		e2e_fail "$L: dns-stats: dockerd's resolver found in n1b's sandbox (within 5 s)" "$(n_sb "$N_B")"
	fi
	n=$(n_table_packets "$N_B")
	n_nslookup "$L: nslookup $N_A in n1b (through resolv.conf)" "$N_B" "$N_A" "$ipa"
	n_nslookup "$L: nslookup $N_A.$N_NET in n1b (through resolv.conf)" "$N_B" "$N_A.$N_NET" "$ipa"
	n_nslookup "$L: nslookup one.ext.cbtest in n1b (through resolv.conf)" "$N_B" one.ext.cbtest "$N_ANS1"
	if [ "$(n_table_packets "$N_B")" -gt "$n" ]; then
		e2e_pass "$L: the redirect's counters in n1b's namespace moved ($n -> $(n_table_packets "$N_B") packets)"
	else
		e2e_fail "$L: the redirect's counters in n1b's namespace moved" "$(n_table "$N_B")"
	fi
	n_answer "$L: $N_A answered with cbridge's TTL $N_TTL (dockerd: $N_DOCKERD_TTL)" \
		"$N_B" "$N_A" "$ipa" "$N_TTL"
	n_answer "$L: $N_A.$N_NET answered with cbridge's TTL $N_TTL" \
		"$N_B" "$N_A.$N_NET" "$ipa" "$N_TTL"
	# Cached: the second query is not forwarded. The upstream's TTL is
	# 300; what comes from the cache has at most that.
	out=$(n_q "$N_B" rep.ext.cbtest A)
	e2e_check_eq "$L: rep.ext.cbtest answered (1st)" "$N_ANS1 ttl=300" "$(n_got "$out")"
	out=$(n_q "$N_B" rep.ext.cbtest A)
	e2e_check_match "$L: rep.ext.cbtest answered (2nd)" "^$(re_quote "$N_ANS1") ttl=(300|29[0-9])\$" "$(n_got "$out")"
	e2e_check_eq "$L: the upstream saw one.ext.cbtest (A)" 1 "$(d_seen "$N_LOG1" one.ext.cbtest A)"
	e2e_check_eq "$L: the upstream saw rep.ext.cbtest (A) once for two queries (cache)" 1 \
		"$(d_seen "$N_LOG1" rep.ext.cbtest A)"
	s1=$(n_sb "$N_B")
	n_moved "$L" "$s0" "$s1" QueriesUdp 7
	n_moved "$L" "$s0" "$s1" Local 4
	n_moved "$L" "$s0" "$s1" Forwarded 2
	n_moved "$L" "$s0" "$s1" CacheHits 1
	if [ "$L" = n1 ]; then
		e2e_check "$L: the plugin sees n1b's namespace mount (the harness shares the exec root with it)" \
			test -n "$(n_plugin_mounts "$N_B")"
	fi
	n_took "$L" "$t0"
}

# n_trapped L: n2, on n1's network.
n_trapped() {
	local L=$1 t0 out s0 s1
	t0=$(date +%s%N)
	out=$(n_q "$N_B" direct.ext.cbtest A udp "$F_OUT4" 1) || true
	e2e_check_eq "$L: before the trap, n1b queries the upstream $F_OUT4 itself" \
		"$N_ANS1 ttl=300" "$(n_got "$out")"
	e2e_check "$L: trap: $E2E_IPT -I DOCKER-USER -s $N_SUB -p udp|tcp --dport 53 -j DROP" \
		n_trap ADD "$N_SUB"
	out=$(n_q "$N_B" trapped.ext.cbtest A udp "$F_OUT4" 1) || true
	e2e_check_match "$L: the trap works: n1b's own query to $F_OUT4 gets no reply" \
		"no reply" "$out"
	out=$(n_q "$N_B" trapped-tcp.ext.cbtest A tcp "$F_OUT4" 1) || true
	e2e_check_match "$L: the trap works over TCP too" "no reply|timed out|closed|refused" "$out"
	s0=$(n_sb "$N_B")
	n_nslookup "$L: nslookup two.ext.cbtest in n1b through resolv.conf, with the trap" \
		"$N_B" two.ext.cbtest "$N_ANS1"
	out=$(n_q "$N_B" two-tcp.ext.cbtest A tcp) || true
	e2e_check_eq "$L: two-tcp.ext.cbtest over TCP with the trap" "$N_ANS1 ttl=300" "$(n_got "$out")"
	e2e_check "$L: the upstream saw two.ext.cbtest" test "$(d_seen "$N_LOG1" two.ext.cbtest A)" -ge 1
	d_never "$L: the upstream never saw trapped.ext.cbtest" "$N_LOG1" "$F_OUT4" trapped.ext.cbtest
	s1=$(n_sb "$N_B")
	n_moved "$L" "$s0" "$s1" Forwarded 2
	e2e_check "$L: trap removed" n_trap DEL "$N_SUB"
	n_took "$L" "$t0"
}

# n_two L: n3, a container on n1's network and a bridge network.
n_two() {
	local L=$1 t0 br=${E2E_PREFIX}nn3 c=${E2E_PREFIX}n3a d=${E2E_PREFIX}n3b ipd ipc s0 s1
	t0=$(date +%s%N)
	f_net "$L: bridge network nn3 (-d bridge)" "$br" -d bridge --subnet 10.232.3.0/24 || return 0
	f_start "$L: container n3b on nn3 only" "$d" "$br" || return 0
	f_start "$L: container n3a on nn3" "$c" "$br" || return 0
	e2e_check "$L: docker network connect nn1 n3a" dk network connect "$N_NET" "$c"
	ipd=$(d_ip "$d" "$br")
	ipc=$(d_ip "$c" "$br")
	n_redirected "$L" "$c"
	s0=$(n_sb "$c")
	n_nslookup "$L: nslookup $d (bridge network) in n3a" "$c" "$d" "$ipd"
	n_answer "$L: n3a: $d (bridge network) answered by cbridge" "$c" "$d" "$ipd" "$N_TTL"
	n_answer "$L: n3a: $d.$br answered by cbridge" "$c" "$d.$br" "$ipd" "$N_TTL"
	n_answer "$L: n3a: $N_A (cbridge network) answered by cbridge" "$c" "$N_A" \
		"$(d_ip "$N_A" "$N_NET")" "$N_TTL"
	s1=$(n_sb "$c")
	n_moved "$L" "$s0" "$s1" Local 4
	n_no_table "$L: n3b (no cbridge endpoint) has no cbridge table" "$d"
	n_answer "$L: n3b: $c answered by dockerd's resolver" "$d" "$c" "$ipc" "$N_DOCKERD_TTL"
	n_took "$L" "$t0"
}

# n_tcp L: n7, TCP from n1b.
n_tcp() {
	local L=$1 t0 out s0 s1
	t0=$(date +%s%N)
	out=$(n_q "$N_B" tcp-probe.ext.cbtest A tcp "$F_OUT4") || true
	e2e_check_eq "$L: the TCP client works: n1b asks the upstream $F_OUT4 itself" \
		"$N_ANS1 ttl=300" "$(n_got "$out")"
	s0=$(n_sb "$N_B")
	n_answer "$L: $N_A over TCP answered by cbridge" "$N_B" "$N_A" \
		"$(d_ip "$N_A" "$N_NET")" "$N_TTL" tcp
	n_answer "$L: $N_A.$N_NET over TCP answered by cbridge" "$N_B" "$N_A.$N_NET" \
		"$(d_ip "$N_A" "$N_NET")" "$N_TTL" tcp
	n_answer "$L: tcp.ext.cbtest over TCP" "$N_B" tcp.ext.cbtest "$N_ANS1" 300 tcp
	e2e_check_eq "$L: the upstream saw tcp.ext.cbtest" 1 "$(d_seen "$N_LOG1" tcp.ext.cbtest A)"
	s1=$(n_sb "$N_B")
	n_moved "$L" "$s0" "$s1" QueriesTcp 3
	n_took "$L" "$t0"
}

# n4: five containers, each name asked for right after its docker run.
n_4() {
	local L=n4 t0 i name out got ip ms pid t1 t2 k figs='' ttls='' s0 base=''
	t0=$(date +%s%N)
	pid=$(f_pid "$N_B")
	s0=$(n_sb "$N_B")
	# The same query for a name known long since: the client's own cost.
	for i in 1 2 3; do
		t1=$(date +%s%N)
		n_qp "$pid" "$N_A" A udp 127.0.0.11 2 >/dev/null || true
		t2=$(date +%s%N)
		base="$base $(((t2 - t1) / 1000000))"
	done
	for i in 1 2 3 4 5; do
		name=${E2E_PREFIX}n4c$i
		F_CTRS+=("$name")
		if ! out=$(dk run -d --name "$name" --network "$N_NET" "$E2E_IMAGE" sleep 1d 2>&1); then
			e2e_fail "$L: docker run -d --name n4c$i" "$out"
			continue
		fi
		t1=$(date +%s%N)
		out=$(n_qp "$pid" "$name" A udp 127.0.0.11 2) || true
		t2=$(date +%s%N)
		ms=$(((t2 - t1) / 1000000))
		ip=$(d_ip "$name" "$N_NET")
		got=$(n_got "$out")
		if [ "${got% ttl=*}" = "$ip" ]; then
			e2e_pass "$L: n4c$i answered on the first try, $ms ms after docker run returned ($got)"
			figs="$figs $ms"
			ttls="$ttls ${got#* ttl=}"
			continue
		fi
		e2e_fail "$L: n4c$i answered on the first try after docker run returned" \
			"expected $ip, got:" "$out"
		for k in $(seq 50); do
			out=$(n_qp "$pid" "$name" A udp 127.0.0.11 1) || true
			got=$(n_got "$out")
			[ "${got% ttl=*}" != "$ip" ] || break
			sleep 0.1
		done
		t2=$(date +%s%N)
		e2e_note "$L: n4c$i: '$got' after $(((t2 - t1) / 1000000)) ms (try $((k + 1)))"
		figs="$figs >$ms"
	done
	e2e_note "$L: ms from docker run -d returning to the first answer (one query from n1b's namespace, perl's start included):$figs; TTLs:$ttls ($N_TTL: cbridge's own records, $N_DOCKERD_TTL: relayed from dockerd's resolver); the same query for $N_A, known long since:$base ms"
	e2e_note "$L: n1b's sandbox meanwhile: $(jq -n -c --argjson a "$s0" --argjson b "$(n_sb "$N_B")" \
		'{Local: ($b.Local - $a.Local), DockerAsked: ($b.Intercept.DockerAsked - $a.Intercept.DockerAsked),
		  DockerAnswered: ($b.Intercept.DockerAnswered - $a.Intercept.DockerAnswered)}' 2>&1)"
	n_took "$L" "$t0"
}

# n5: --internal.
n_5() {
	local L=n5 t0 net=${E2E_PREFIX}nn5 a=${E2E_PREFIX}n5a b=${E2E_PREFIX}n5b out s0 s1
	t0=$(date +%s%N)
	n_nslookup "$L: probe: probe5.ext.cbtest from n1b (not internal) through resolv.conf" \
		"$N_B" probe5.ext.cbtest "$N_ANS1"
	e2e_check "$L: probe: the upstream's log shows probe5.ext.cbtest" \
		test "$(d_seen "$N_LOG1" probe5.ext.cbtest)" -ge 1
	f_net "$L: network nn5 --internal" "$net" --internal --subnet 10.232.5.0/24 || return 0
	f_start "$L: container n5a" "$a" "$net" || return 0
	f_start "$L: container n5b" "$b" "$net" || return 0
	n_redirected "$L" "$b"
	e2e_check_eq "$L: dns-stats: n5b's sandbox does not forward" false \
		"$(n_sb "$b" | jq -r '.Forwarding')"
	s0=$(n_sb "$b")
	n_nslookup "$L: nslookup $a in n5b through resolv.conf" "$b" "$a" "$(d_ip "$a" "$net")"
	n_answer "$L: $a answered by cbridge" "$b" "$a" "$(d_ip "$a" "$net")" "$N_TTL"
	out=$(timeout 30 "$E2E_DOCKER" exec "$b" nslookup -type=a int5.ext.cbtest 2>&1) || true
	e2e_check_match "$L: nslookup int5.ext.cbtest in n5b fails" "SERVFAIL|can't find|timed out" "$out"
	out=$(n_q "$b" int5b.ext.cbtest A) || true
	e2e_check_match "$L: int5b.ext.cbtest gets SERVFAIL" "rcode=SERVFAIL" "$out"
	sleep 1
	d_never "$L: the upstream never saw int5.ext.cbtest or int5b.ext.cbtest" "$N_LOG1" "$F_OUT4" \
		int5.ext.cbtest int5b.ext.cbtest
	s1=$(n_sb "$b")
	n_moved "$L: cbridge got the queries" "$s0" "$s1" QueriesUdp 4
	e2e_check_eq "$L: dns-stats: n5b's sandbox forwarded nothing" 0 "$(n_delta "$s0" "$s1" Forwarded)"
	n_took "$L" "$t0"
}

# n6: a container with its own --dns.
n_6() {
	local L=n6 t0 c=${E2E_PREFIX}n6a s0 s1
	t0=$(date +%s%N)
	f_start "$L: container n6a --dns $N_UP2" "$c" "$N_NET" --dns "$N_UP2" || return 0
	n_resolv "$L: n6a's resolv.conf names only 127.0.0.11 all the same" "$c"
	n_redirected "$L" "$c"
	s0=$(n_sb "$c")
	n_nslookup "$L: nslookup six.ext.cbtest in n6a: the answer of $N_UP2" "$c" six.ext.cbtest "$N_ANS2"
	e2e_check "$L: $N_UP2 saw six.ext.cbtest" test "$(d_seen "$N_LOG2" six.ext.cbtest A)" -ge 1
	d_never "$L: the default upstream $F_OUT4 did not" "$N_LOG1" "$F_OUT4" six.ext.cbtest
	s1=$(n_sb "$c")
	n_moved "$L: forwarded by cbridge" "$s0" "$s1" Forwarded 1
	e2e_check_eq "$L: dns-stats: n6a's sandbox has its own upstreams, $N_UP2" "true $N_UP2:53" \
		"$(jq -r '"\(.OwnUpstreams) \([.Upstreams[].Address] | join(" "))"' <<<"$s1")"
	n_answer "$L: $N_A answered by cbridge in n6a" "$c" "$N_A" "$(d_ip "$N_A" "$N_NET")" "$N_TTL"
	n_took "$L" "$t0"
}

# n_restart L: n8's kill -9 (and n10's): the plugin's process is killed,
# dockerd starts it again, the sandbox of n1b is served again.
n_kill9() {
	local L=$1 old new t0 t1 ms i s1
	old=$(e2e_plugin_pid)
	if [ -z "$old" ]; then
		e2e_fail "$L: the plugin runs before kill -9"
		return 0
	fi
	t0=$(date +%s%N)
	kill -KILL "$old" || true
	new=''
	for i in $(seq 300); do
		new=$(e2e_plugin_pid)
		[ -z "$new" ] || [ "$new" = "$old" ] || break
		new=''
		sleep 0.1
	done
	t1=$(date +%s%N)
	if [ -z "$new" ]; then
		e2e_fail "$L: dockerd restarts the plugin after kill -9 $old (within 30 s)"
		return 0
	fi
	PLUGIN_PID=$new
	e2e_pass "$L: dockerd restarted the plugin after kill -9 $old: pid $new after $(((t1 - t0) / 1000000)) ms"
	if ms=$(n_wait "$N_B" '.State == "serving" and .Intercept.Redirected == true' 15); then
		e2e_pass "$L: n1b's sandbox served and redirected again, $((($(date +%s%N) - t0) / 1000000)) ms after the kill"
	else
		e2e_fail "$L: n1b's sandbox served and redirected again within 15 s of the restart" "$(n_sb "$N_B")"
	fi
	e2e_check "$L: cbridge's table in n1b's namespace" n_table "$N_B"
	n_answer "$L: $N_A answered by cbridge after the restart" "$N_B" "$N_A" \
		"$(d_ip "$N_A" "$N_NET")" "$N_TTL"
	n_nslookup "$L: nslookup k9.ext.cbtest in n1b after the restart" "$N_B" k9.ext.cbtest "$N_ANS1"
	s1=$(n_sb "$N_B")
	e2e_check "$L: the new process counts n1b's queries ($(jq -c '{QueriesUdp, Local, Forwarded}' <<<"$s1"))" \
		jq -e '.QueriesUdp >= 2 and .Local >= 1 and .Forwarded >= 1' <<<"$s1"
}

# n8: plugin disable/enable, kill -9.
n_8() {
	local L=n8 t0 out s0 s1 ipa
	t0=$(date +%s%N)
	ipa=$(d_ip "$N_A" "$N_NET")
	if out=$(dk plugin disable "$E2E_PLUGIN" 2>&1); then
		e2e_fail "$L: docker plugin disable (no -f) is refused while networks use it" "$out"
		dk plugin enable "$E2E_PLUGIN" >/dev/null 2>&1 || true
	else
		e2e_pass "$L: docker plugin disable (no -f) is refused while networks use it: $(cli_error "$out" | head -n 1)"
	fi
	e2e_check "$L: docker plugin disable -f, containers running" dk plugin disable -f "$E2E_PLUGIN"
	n_no_table "$L: after disable, no cbridge table in n1b's namespace" "$N_B"
	n_answer "$L: after disable, $N_A answered by dockerd's resolver" "$N_B" "$N_A" "$ipa" "$N_DOCKERD_TTL"
	n_nslookup "$L: after disable, nslookup $N_A in n1b" "$N_B" "$N_A" "$ipa"
	e2e_check "$L: docker plugin enable" dk plugin enable "$E2E_PLUGIN"
	PLUGIN_PID=$(e2e_plugin_pid)
	n_redirected "$L: after enable" "$N_B"
	s0=$(n_sb "$N_B")
	n_answer "$L: after enable, $N_A answered by cbridge" "$N_B" "$N_A" "$ipa" "$N_TTL"
	s1=$(n_sb "$N_B")
	n_moved "$L: after enable" "$s0" "$s1" Local 1
	n_kill9 "$L"
	n_took "$L" "$t0"
}

# n11: DNS_MODE=address.
n_11() {
	local L=n11 t0 s0 s1 ipa ms
	t0=$(date +%s%N)
	ipa=$(d_ip "$N_A" "$N_NET")
	n_set "$L" DNS_MODE=address
	e2e_check_eq "$L: dns-stats Mode" address "$(d_stats | jq -r '.Mode')"
	if ms=$(n_wait "$N_B" '.State == "serving"' 10); then
		e2e_pass "$L: n1b's sandbox serving (after $ms ms)"
	else
		e2e_fail "$L: n1b's sandbox serving" "$(n_sb "$N_B")"
	fi
	e2e_check_eq "$L: dns-stats: Intercept.Redirected false" false "$(n_sb "$N_B" | jq -r '.Intercept.Redirected')"
	n_no_table "$L: no cbridge table in n1b's namespace" "$N_B"
	s0=$(n_sb "$N_B")
	n_answer "$L: $N_A answered by dockerd's resolver" "$N_B" "$N_A" "$ipa" "$N_DOCKERD_TTL"
	n_nslookup "$L: nslookup $N_A in n1b" "$N_B" "$N_A" "$ipa"
	s1=$(n_sb "$N_B")
	# Proven able to tell: both snapshots list n1b's sandbox.
	if ! jq -e '.State == "serving"' <<<"$s0" >/dev/null 2>&1 ||
		! jq -e '.State == "serving"' <<<"$s1" >/dev/null 2>&1; then
		e2e_fail "$L: n1b's queries did not reach cbridge (QueriesUdp +0)" \
			"probe: dns-stats did not list n1b's sandbox as serving:" "before: $s0" "after:  $s1"
	else
		e2e_check_eq "$L: n1b's queries did not reach cbridge (QueriesUdp +0)" 0 "$(n_delta "$s0" "$s1" QueriesUdp)"
	fi
	n_answer "$L: the responder at $D_ADDR answers $N_A" "$N_B" "$N_A" "$ipa" "$N_TTL" udp "$D_ADDR"
	n_moved "$L: the counters do move" "$s1" "$(n_sb "$N_B")" QueriesUdp 1
	n_took "$L" "$t0"
}

# n12: DNS_MODE=off, then back to intercept.
n_12() {
	local L=n12 t0 out ipa
	t0=$(date +%s%N)
	ipa=$(d_ip "$N_A" "$N_NET")
	n_set "$L" DNS_MODE=off
	e2e_check_match "$L: dns-stats: the responder is off" '"Mode": *"off"|responder is off' "$(d_stats)"
	n_no_table "$L: no cbridge table in n1b's namespace" "$N_B"
	out=$(n_q "$N_B" "$N_A" A udp "$D_ADDR" 1) || true
	e2e_check_match "$L: no responder at $D_ADDR" "no reply|refused|unreachable" "$out"
	n_answer "$L: $N_A answered by dockerd's resolver" "$N_B" "$N_A" "$ipa" "$N_DOCKERD_TTL"
	n_set "$L" DNS_MODE=intercept
	n_redirected "$L: back to intercept" "$N_B"
	n_answer "$L: back to intercept, $N_A answered by cbridge" "$N_B" "$N_A" "$ipa" "$N_TTL"
	n_took "$L" "$t0"
}

# n13: a table left by an earlier run in a sandbox that has no cbridge
# endpoint (n3b, on the bridge network only) is removed after the
# plugin's first sync with the Engine API; n1b's is adopted.
n_13() {
	local L=n13 t0 d=${E2E_PREFIX}n3b pid i gone=''
	t0=$(date +%s%N)
	pid=$(f_pid "$d")
	if [ -z "$pid" ] || [ "$pid" = 0 ]; then
		e2e_fail "$L: n3b runs"
		return 0
	fi
	e2e_check "$L: a leftover cbridge table made by hand in n3b's namespace" \
		timeout 10 nsenter -t "$pid" -n nft add table ip cbridge-dns
	e2e_check "$L: n_table sees it" n_table "$d"
	n_set "$L" DNS_MODE=intercept
	for i in $(seq 100); do
		if ! n_table "$d" >/dev/null 2>&1; then
			gone=$i
			break
		fi
		sleep 0.1
	done
	if [ -n "$gone" ]; then
		e2e_pass "$L: the plugin removed n3b's leftover table ($((gone * 100)) ms after enable)"
	else
		e2e_fail "$L: the plugin removed n3b's leftover table within 10 s of enable"
	fi
	n_no_table "$L: no cbridge table in n3b's namespace" "$d"
	e2e_check "$L: the plugin logged it at level=info, naming n3b" grep -q \
		"level=info.*removed the 127.0.0.11 redirect an earlier run left in container $d" \
		"$E2E_TMP/dockerd.log"
	n_redirected "$L: n1b's redirect is back" "$N_B"
	n_answer "$L: n3b: n3a answered by dockerd's resolver (no redirect there)" \
		"$d" "${E2E_PREFIX}n3a" "$(d_ip "${E2E_PREFIX}n3a" "${E2E_PREFIX}nn3")" "$N_DOCKERD_TTL"
	n_took "$L" "$t0"
}

# n10: the exec root is a mount the plugin cannot see into.
n_10() {
	local L=n10 c=${E2E_PREFIX}n10c out
	n_names "$L" || return 0
	out=$(n_plugin_mounts "$N_B" 2>&1)
	e2e_check_eq "$L: the plugin does not see n1b's namespace mount (private exec root)" "" "$out"
	n_kill9 "$L"
	# The restarted plugin copied the mounts of its day: n1b's is one
	# of them now, a container started after it is not.
	f_start "$L: container n10c, after the restart" "$c" "$N_NET" || return 0
	out=$(n_plugin_mounts "$c" 2>&1)
	e2e_check_eq "$L: the restarted plugin does not see n10c's namespace mount" "" "$out"
	n_redirected "$L" "$c"
	n_answer "$L: n10c: $N_A answered by cbridge" "$c" "$N_A" "$(d_ip "$N_A" "$N_NET")" "$N_TTL"
}

# n_outside_up: the outside namespace with both upstreams, the plugin set
# to use the first and to intercept.
n_outside_up() {
	[ -n "$F_PEER" ] || {
		F_PEER=$E2E_TMP/peer.pl
		cp "$E2E_TOP/tests/e2e/peer.pl" "$F_PEER"
	}
	if f_outside_up && ip -n "$F_OUT" addr add "$N_UP2/32" dev lo &&
		e2e_ip route add "$N_UP2/32" via "$F_OUT4"; then
		e2e_pass "dnsdefault: outside namespace $F_OUT joined to $E2E_NS, $N_UP2 routed to it"
	else
		e2e_fail "dnsdefault: outside namespace $F_OUT joined to $E2E_NS, $N_UP2 routed to it"
		return 1
	fi
	N_LOG1=$E2E_TMP/upstream1.log
	N_LOG2=$E2E_TMP/upstream2.log
	if n_upstream "$N_LOG1" "$F_OUT4" "$N_ANS1" && n_upstream "$N_LOG2" "$N_UP2" "$N_ANS2"; then
		e2e_pass "dnsdefault: upstreams dnsmasq on $F_OUT4:53 and $N_UP2:53"
	else
		e2e_fail "dnsdefault: upstreams dnsmasq on $F_OUT4:53 and $N_UP2:53" \
			"$(cat "$N_LOG1" "$N_LOG2" 2>&1)"
		return 1
	fi
	n_set dnsdefault DNS_MODE=intercept DNS_FORWARD_FROM=host "DNS_UPSTREAMS=$F_OUT4" "DNS_TTL=$N_TTL"
}

n_all() {
	local t missing='' private=${E2E_EXEC_ROOT_PRIVATE:-0}
	for t in dnsmasq jq nsenter perl nft timeout; do
		command -v "$t" >/dev/null || missing="$missing $t"
	done
	if [ -n "$missing" ]; then
		e2e_fail "dnsdefault: tools present" "missing:$missing"
		return 0
	fi
	if n_outside_up; then
		if [ "$private" = 1 ]; then
			e2e_scenario n_10
		elif [ "$E2E_DOCKERD_IPTABLES" = legacy ]; then
			if e2e_scenario n_names n9; then
				e2e_scenario n_trapped n9
				e2e_scenario n_two n9
				e2e_scenario n_tcp n9
			fi
		elif e2e_scenario n_names n1; then
			e2e_scenario n_trapped n2
			e2e_scenario n_two n3
			e2e_scenario n_4
			e2e_scenario n_5
			e2e_scenario n_6
			e2e_scenario n_tcp n7
			e2e_scenario n_8
			e2e_scenario n_11
			e2e_scenario n_12
			e2e_scenario n_13
		fi
	fi
	n_trap DEL "$N_SUB" >/dev/null 2>&1 || true
	f_reset dnsdefault
	e2e_check_eq "dnsdefault: no sandbox left in dns-stats" 0 "$(d_stats | jq '.Sandboxes | length' 2>&1)"
	f_outside_down
	plugin_alive dnsdefault
}
