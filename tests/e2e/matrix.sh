# shellcheck shell=bash
# The differential reachability matrix of the end-to-end tests, sourced by
# tests/e2e/run.sh (after lib.sh, containers.sh and firewall.sh, whose
# helpers it uses): an oracle cbridge did not write. In the one private
# dockerd, for each option set, a network of dockerd's own `bridge` driver
# and a cbridge network get the same options and the same containers, and
# both are probed the same way, cell by cell; each cell's outcome (reach,
# blocked, the source address the outside saw) is recorded for both
# drivers and compared. A difference fails unless M_EXPECTED lists it (with
# the iptables mode it happens in), and a listed difference that does not
# happen fails too; README.md ("Differences from dockerd's bridge driver,
# measured") gives the reasons.
#
# Per driver D (b: bridge, c: cbridge) and option set: network mx-D-a with
# the set's options and mx-D-o with none (another network of the same
# driver); containers mx-D-srv (publishing port 9000, tcp and udp, on host
# port M_HP[D]) and mx-D-peer on mx-D-a, mx-D-oth on mx-D-o. Servers (peer.pl,
# tcp and udp, answering with the source address they saw): mx-D-srv on
# 9000 (published) and 9001 (not), mx-D-oth on 9001, the outside
# (firewall.sh's F_OUT) on 9000, and the control server on M_CTL in dockerd's
# namespace E2E_NS (the host), reachable from every client place: a cell
# only counts as "blocked" when the same client from the same place got the
# control's answer just before (else it is "probe-broken" and fails).
# Clients run in the container's network namespace through nsenter (the
# same stack as a docker exec, without its cost). The outside routes
# 127.0.0.1 to the host (a rule of its own), to knock on ports bound to
# 127.0.0.1 from outside, as a neighbour on the host's link could.
#
# m_all runs these option sets, in this order, each one with the same
# probes (M_PROBES; the README explains each) and removing its containers
# and networks at its end (f_reset):
#   default    no option
#   icc-off    -o com.docker.network.bridge.enable_icc=false
#   internal   --internal (the containers get a default route by hand, so
#              that only the firewall stands in the way)
#   masq-off   -o com.docker.network.bridge.enable_ip_masquerade=false
#   host-bind  -o com.docker.network.bridge.host_binding_ipv4=F_HOST4
#   lo-ports   no option, ports published as -p 127.0.0.1:HP:9000
# then prints the matrix, one table of all sets, as "#" lines, and fails
# the listed differences that never occurred.

M_CTL=9100	# port of the control server in E2E_NS
M_CTLSRV=''	# its pid
M_MAXJOBS=10	# probes running at once
M_DIR=''	# result files of the probes
M_SET=''	# the option set running
M_NSET=0	# its number (host ports)
M_ROWS=()	# the table: "SET|PROBE|BRIDGE|CBRIDGE|VERDICT"
M_JOBS=()	# pids of running probes
M_DUMPED=''	# option sets whose rules were printed after a failure
declare -A M_HP=()	# host port of driver b or c in this set
declare -A M_PID=()	# container -> pid
declare -A M_IP=()	# container -> IPv4 address
declare -A M_GW=()	# container or network -> the network's gateway
declare -A M_SEEN=()	# "SET|PROBE" measured -> "BRIDGE|CBRIDGE"

# The probes, in table order; what each one does is in m_specs.
M_PROBES=(out-pub/tcp out-pub/udp out-lo-pub/tcp out-cip-pub/tcp out-cip-pub/udp
	out-cip-unpub/tcp host-lo-pub/tcp host-lo-pub/udp host-addr-pub/tcp
	host-addr-pub/udp ctr-same/tcp ctr-net/tcp ctr-drv/tcp ctr-out/tcp
	ctr-out/udp ctr-out-src hairpin/tcp hairpin/udp same-pub/tcp same-pub/udp
	net-pub/tcp net-pub/udp drv-pub/tcp port-owner)

# M_EXPECTED: the differences known, "MODE|SETS|PROBE|BRIDGE|CBRIDGE|KIND|WHY":
# MODE nft, legacy or * (dockerd's iptables mode they happen in), SETS the
# option sets (space-separated), KIND "deliberate" or "bug" (a fault of
# cbridge's, open), WHY a short reason; README.md ("Differences from
# dockerd's bridge driver, measured") has the long ones, in this order.
# Each must happen, in each of its sets.
M_ALLPUB='default icc-off masq-off host-bind lo-ports'
M_EXPECTED=(
	"*|$M_ALLPUB|port-owner|docker-proxy|cbridge|deliberate|no userland proxy, kernel NAT"
	"*|$M_ALLPUB|out-cip-pub/tcp|reach|blocked|deliberate|Docker 28 raw drop of direct access"
	"*|$M_ALLPUB|out-cip-pub/udp|reach|blocked|deliberate|Docker 28 raw drop of direct access"
	"*|lo-ports|out-lo-pub/tcp|reach|blocked|deliberate|Docker 28 raw drop of 127.0.0.1 from outside"
	"*|default masq-off|hairpin/udp|blocked|reach|deliberate|docker-proxy answers UDP from the gateway"
	"*|default masq-off|same-pub/udp|blocked|reach|deliberate|docker-proxy answers UDP from the gateway"
	"*|default icc-off masq-off|net-pub/udp|blocked|reach|deliberate|docker-proxy answers UDP from the gateway"
	"*|icc-off|hairpin/tcp|reach|blocked|deliberate|no proxy: ICC off drops hairpin NAT"
	"*|icc-off|same-pub/tcp|reach|blocked|deliberate|no proxy: ICC off drops hairpin NAT"
	"*|masq-off|ctr-out/tcp|reach|blocked|deliberate|raw drop also meets unmasqueraded replies"
	"*|masq-off|ctr-out/udp|reach|blocked|deliberate|raw drop also meets unmasqueraded replies"
	"*|masq-off|ctr-out-src|own|n/a|deliberate|raw drop also meets unmasqueraded replies"
	"*|masq-off|drv-pub/tcp|blocked|reach|deliberate|raw drop also meets unmasqueraded replies"
)

# ------------------------------------------------------------------ helpers

# m_ctr_info CTR NET: records the container's pid, address and gateway
# (one inspect each, 3 tries: one may fail while dockerd is busy); false
# without them.
m_ctr_info() {
	local i j=''
	for i in 1 2 3; do
		j=$(dk inspect "$1" 2>&1) || true
		M_PID[$1]=$(jq -r '.[0].State.Pid // ""' <<<"$j" 2>/dev/null) || true
		M_IP[$1]=$(jq -r --arg n "$2" '.[0].NetworkSettings.Networks[$n].IPAddress // ""' <<<"$j" 2>/dev/null) || true
		[ -n "${M_GW[$2]:-}" ] || M_GW[$2]=$(f_gw "$2")
		M_GW[$1]=${M_GW[$2]}
		if [[ ${M_PID[$1]} =~ ^[1-9][0-9]*$ ]] && [ -n "${M_IP[$1]}" ] && [ -n "${M_GW[$1]}" ]; then
			return 0
		fi
		M_GW[$2]=''
		sleep 0.5
	done
	e2e_fail "mx $M_SET: pid, address and gateway of $1 on $2" \
		"pid '${M_PID[$1]}', address '${M_IP[$1]}', gateway '${M_GW[$1]}'" "${j:0:2000}"
	return 1
}

# m_place PLACE: f_client's place for "out", "host" or a container.
m_place() {
	case $1 in
	out | host) echo "$1" ;;
	*) echo "pid:${M_PID[$1]}" ;;
	esac
}

# m_ctl_host PLACE HOST: where PLACE reaches the control server: the
# host's own address (127.0.0.1 when HOST is), or a container's gateway.
m_ctl_host() {
	case $1:$2 in
	*:127.0.0.1) echo 127.0.0.1 ;;
	out:* | host:*) echo "$F_HOST4" ;;
	*) echo "${M_GW[$1]}" ;;
	esac
}

# m_probe FILE PLACE PROTO HOST PORT NAME: one cell of one driver: the
# client in PLACE asks HOST:PORT for the server NAME; writes to FILE
# "reach ANSWER", "blocked", "wrong ANSWER" (another server answered) or
# "broken DETAIL" (the control did not answer). A first try without an
# answer is followed by the control (3 tries) and one more try.
m_probe() {
	local file=$1 place=$2 proto=$3 host=$4 port=$5 name=$6 cl chost out c='' i res
	cl=$(m_place "$place")
	chost=$(m_ctl_host "$place" "$host")
	out=$(f_client "$cl" "$proto" "$host" "$port" 1 2>&1) || true
	if ! f_has "$name" "$out"; then
		for i in 1 2 3; do
			c=$(f_client "$cl" "$proto" "$chost" "$M_CTL" 2>&1) || true
			! f_has mxctl "$c" || break
			sleep 0.3
		done
		if ! f_has mxctl "$c"; then
			echo "broken the control at $chost:$M_CTL/$proto gave no answer to $place: $(tr '\n' ' ' <<<"$c")" >"$file.tmp"
			mv "$file.tmp" "$file"
			return 0
		fi
		out=$(f_client "$cl" "$proto" "$host" "$port" 1 2>&1) || true
	fi
	if f_has "$name" "$out"; then
		res="reach $(grep -m1 -E "cbtok-$name( |\$)" <<<"$out")"
	elif grep -q 'cbtok-' <<<"$out"; then
		res="wrong $(grep -m1 'cbtok-' <<<"$out")"
	else
		res=blocked
	fi
	echo "$res" >"$file.tmp"
	mv "$file.tmp" "$file"
}

# m_queue FILE SPEC...: runs m_probe FILE SPEC in the background, at most
# M_MAXJOBS at once.
m_queue() {
	local done_pid i
	while [ ${#M_JOBS[@]} -ge "$M_MAXJOBS" ]; do
		done_pid=''
		wait -n -p done_pid "${M_JOBS[@]}" || true
		for i in "${!M_JOBS[@]}"; do
			[ "${M_JOBS[$i]}" != "$done_pid" ] || unset 'M_JOBS[i]'
		done
		M_JOBS=("${M_JOBS[@]}")
	done
	m_probe "$@" </dev/null 8>&- 9>&- &
	M_JOBS+=("$!")
}

# m_wait: waits for every queued probe (each ends within 15 s: its
# clients run under timeout).
m_wait() {
	local p
	for p in "${M_JOBS[@]}"; do
		wait "$p" 2>/dev/null || true
	done
	M_JOBS=()
}

# m_specs D O: the cells of driver D (b or c; O is the other one), one per
# line, "PROBE PLACE PROTO HOST PORT NAME" (ctr-out-src comes from
# ctr-out/tcp's answer).
m_specs() {
	local d=$1 o=$2 hp=${M_HP[$1]} srv=${M_IP[mx-$1-srv]}
	cat <<EOF
out-pub/tcp out tcp $F_HOST4 $hp $d-pub
out-pub/udp out udp $F_HOST4 $hp $d-pub
out-lo-pub/tcp out tcp 127.0.0.1 $hp $d-pub
out-cip-pub/tcp out tcp $srv 9000 $d-pub
out-cip-pub/udp out udp $srv 9000 $d-pub
out-cip-unpub/tcp out tcp $srv 9001 $d-unp
host-lo-pub/tcp host tcp 127.0.0.1 $hp $d-pub
host-lo-pub/udp host udp 127.0.0.1 $hp $d-pub
host-addr-pub/tcp host tcp $F_HOST4 $hp $d-pub
host-addr-pub/udp host udp $F_HOST4 $hp $d-pub
ctr-same/tcp mx-$d-peer tcp $srv 9001 $d-unp
ctr-net/tcp mx-$d-peer tcp ${M_IP[mx-$d-oth]} 9001 $d-oth
ctr-drv/tcp mx-$d-peer tcp ${M_IP[mx-$o-srv]} 9001 $o-unp
ctr-out/tcp mx-$d-peer tcp $F_OUT4 9000 outside
ctr-out/udp mx-$d-peer udp $F_OUT4 9000 outside
hairpin/tcp mx-$d-srv tcp $F_HOST4 $hp $d-pub
hairpin/udp mx-$d-srv udp $F_HOST4 $hp $d-pub
same-pub/tcp mx-$d-peer tcp $F_HOST4 $hp $d-pub
same-pub/udp mx-$d-peer udp $F_HOST4 $hp $d-pub
net-pub/tcp mx-$d-oth tcp $F_HOST4 $hp $d-pub
net-pub/udp mx-$d-oth udp $F_HOST4 $hp $d-pub
drv-pub/tcp mx-$o-peer tcp $F_HOST4 $hp $d-pub
EOF
}

# m_result D PROBE: the outcome word of driver D's cell, from its file
# ("broken" if the probe left none); m_detail D PROBE: the rest.
m_result() {
	local r
	r=$(cat "$M_DIR/$1-${2//\//_}" 2>/dev/null) || r="broken the probe wrote no result"
	echo "${r%% *}"
}
m_detail() {
	cat "$M_DIR/$1-${2//\//_}" 2>/dev/null || echo "broken the probe wrote no result"
}

# m_src D: ctr-out-src of driver D: whose address the outside saw in
# ctr-out/tcp: "masq" (the host's F_HOST4), "own" (the container's), an
# address, or "n/a" without an answer.
m_src() {
	local r a
	r=$(m_detail "$1" ctr-out/tcp)
	case ${r%% *} in
	reach) ;;
	broken) echo broken && return 0 ;;
	*) echo n/a && return 0 ;;
	esac
	a=${r##* peer }
	if [ "$a" = "$F_HOST4" ]; then
		echo masq
	elif [ "$a" = "${M_IP[mx-$1-peer]}" ]; then
		echo own
	else
		echo "src=$a"
	fi
}

# m_owner D: the program holding driver D's host port (tcp) in E2E_NS,
# as ss shows it ("none" if nothing listens there).
m_owner() {
	local out name
	out=$(e2e_nsx ss -Hltnp "sport = :${M_HP[$1]}" 2>&1) || true
	name=$(grep -o -m1 'users:(("[^"]*"' <<<"$out" | head -n 1 | cut -d'"' -f2) || true
	echo "${name:-none}"
}

# m_mode_is MODE: MODE ("*", nft or legacy) covers this run's dockerd.
m_mode_is() {
	[ "$1" = '*' ] || [ "$1" = "$E2E_DOCKERD_IPTABLES" ]
}

# m_expected SET PROBE: the M_EXPECTED entry "BRIDGE|CBRIDGE|KIND|WHY"
# for the cell in this mode (empty if none).
m_expected() {
	local e mode sets probe rest
	for e in "${M_EXPECTED[@]}"; do
		IFS='|' read -r mode sets probe rest <<<"$e"
		m_mode_is "$mode" || continue
		if [[ " $sets " == *" $1 "* ]] && [ "$probe" = "$2" ]; then
			echo "$rest"
			return 0
		fi
	done
}

# m_dump: once per option set, after a failed cell: dockerd's and
# cbridge's rules in E2E_NS, to explain it.
m_dump() {
	[[ " $M_DUMPED " != *" $M_SET "* ]] || return 0
	M_DUMPED="$M_DUMPED $M_SET"
	e2e_note "$M_SET: rules in $E2E_NS after a failed cell:"
	{
		echo "== iptables-nft-save"
		e2e_nsx iptables-nft-save 2>&1
		echo "== iptables-legacy-save"
		e2e_nsx iptables-legacy-save 2>&1
	} | grep -v '^#' | sed 's/^/#   /'
}

# m_judge PROBE B C DETAIL...: compares the cell's outcomes for bridge (B)
# and cbridge (C), passes or fails, and adds the table row.
m_judge() {
	local probe=$1 b=$2 c=$3 exp eb ec kind why verdict ok=1
	shift 3
	M_SEEN["$M_SET|$probe"]="$b|$c"
	exp=$(m_expected "$M_SET" "$probe")
	IFS='|' read -r eb ec kind why <<<"$exp"
	if [ "$b" = broken ] || [ "$c" = broken ]; then
		verdict=PROBE-BROKEN
		ok=0
	elif [ -n "$exp" ] && [ "$b|$c" = "$eb|$ec" ]; then
		verdict="$kind: $why"
		[ "$kind" = deliberate ] || verdict="known $verdict"
	elif [ -n "$exp" ]; then
		verdict="NOT AS LISTED ($eb/$ec)"
		ok=0
	elif [ "$b" = "$c" ]; then
		verdict=same
	else
		verdict=DIFFERENT
		ok=0
	fi
	M_ROWS+=("$M_SET|$probe|$b|$c|$verdict")
	if [ "$ok" -eq 1 ]; then
		e2e_pass "mx $M_SET: $probe: bridge $b, cbridge $c ($verdict)"
	else
		e2e_fail "mx $M_SET: $probe: bridge $b, cbridge $c ($verdict)" "$@"
		m_dump
	fi
}

# m_measure: runs every probe of the set for both drivers and judges them.
m_measure() {
	local probe place proto host port name d o line
	M_DIR=$E2E_TMP/mx-$M_SET
	mkdir -p "$M_DIR"
	for d in b c; do
		o=c
		[ "$d" = b ] || o=b
		while read -r probe place proto host port name; do
			m_queue "$M_DIR/$d-${probe//\//_}" "$place" "$proto" "$host" "$port" "$name"
		done < <(m_specs "$d" "$o")
	done
	m_wait
	for probe in "${M_PROBES[@]}"; do
		if [ "$probe" = ctr-out-src ]; then
			m_judge "$probe" "$(m_src b)" "$(m_src c)" \
				"bridge: $(m_detail b ctr-out/tcp)" "cbridge: $(m_detail c ctr-out/tcp)"
			continue
		fi
		if [ "$probe" = port-owner ]; then
			m_judge "$probe" "$(m_owner b)" "$(m_owner c)" \
				"bridge: $(f_listening tcp "${M_HP[b]}")" "cbridge: $(f_listening tcp "${M_HP[c]}")"
			continue
		fi
		line=$(m_specs b c | grep -m1 "^$probe ")
		m_judge "$probe" "$(m_result b "$probe")" "$(m_result c "$probe")" \
			"bridge ($line): $(m_detail b "$probe")" \
			"cbridge ($(m_specs c b | grep -m1 "^$probe ")): $(m_detail c "$probe")"
	done
	rm -rf "$M_DIR"
}

# m_judge_bg PIDS DESCS OUTS: waits for each background command of PIDS
# (arrays, by name) and passes or fails it (DESCS), with its output (the
# file OUTS names) on failure; false if one failed.
m_judge_bg() {
	local -n mj_pids=$1 mj_descs=$2 mj_outs=$3
	local i ok=0
	for i in "${!mj_pids[@]}"; do
		if wait "${mj_pids[$i]}"; then
			e2e_pass "${mj_descs[$i]}"
		else
			e2e_fail "${mj_descs[$i]}" "$(cat "${mj_outs[$i]}" 2>&1)"
			ok=1
		fi
	done
	return "$ok"
}

# m_nets_up SET OPTIONS...: the set's four networks, created at once:
# mx-D-a with OPTIONS and mx-D-o with none, for D b (dockerd's bridge) and
# c (cbridge); false if one could not be made.
m_nets_up() {
	local set=$1 d n sub args drv name extra taken=() pids=() descs=() outs=()
	shift
	for d in b c; do
		drv=()
		name=cbridge
		[ "$d" = c ] || drv=(-d bridge) name=bridge
		for n in a o; do
			# shellcheck disable=SC2046
			sub=$(e2e_pick4 172.30 $(all_subnets4) "${taken[@]}") || return 1
			taken+=("$sub")
			extra=()
			[ "$n" = o ] || extra=("$@")
			args=("${drv[@]}" --subnet "$sub" "${extra[@]}")
			F_NETS+=("mx-$d-$n")
			descs+=("mx $set: create $name network mx-$d-$n --subnet $sub${extra[*]:+ ${extra[*]}}")
			outs+=("$E2E_TMP/mx-out-mx-$d-$n")
			(
				rc=0
				e2e_net_create "mx-$d-$n" "${args[@]}" || rc=1
				echo "$E2E_OUT" >"$E2E_TMP/mx-out-mx-$d-$n"
				exit "$rc"
			) </dev/null 8>&- 9>&- &
			pids+=("$!")
		done
	done
	m_judge_bg pids descs outs
}

# m_ctrs_up SET BIND: the set's six containers, started at once: mx-D-srv
# (publishing 9000 on BIND + M_HP[D]) and mx-D-peer on mx-D-a, mx-D-oth on
# mx-D-o; records their pids and addresses; false if one did not start.
m_ctrs_up() {
	local set=$1 bind=$2 d c hp net ports pids=() descs=() outs=()
	for d in b c; do
		hp=$((18400 + M_NSET * 20))
		[ "$d" = b ] || hp=$((hp + 10))
		M_HP[$d]=$hp
		for c in srv peer oth; do
			net=mx-$d-a
			[ "$c" != oth ] || net=mx-$d-o
			ports=()
			[ "$c" != srv ] || ports=(-p "$bind$hp:9000/tcp" -p "$bind$hp:9000/udp")
			F_CTRS+=("mx-$d-$c")
			descs+=("mx $set: docker run -d --name mx-$d-$c --network $net${ports[*]:+ ${ports[*]}}")
			outs+=("$E2E_TMP/mx-out-mx-$d-$c")
			dk run -d --name "mx-$d-$c" --network "$net" "${ports[@]}" "$E2E_IMAGE" sleep 1d \
				>"$E2E_TMP/mx-out-mx-$d-$c" 2>&1 </dev/null 8>&- 9>&- &
			pids+=("$!")
		done
	done
	m_judge_bg pids descs outs || return 1
	for d in b c; do
		m_ctr_info "mx-$d-srv" "mx-$d-a" && m_ctr_info "mx-$d-peer" "mx-$d-a" &&
			m_ctr_info "mx-$d-oth" "mx-$d-o" || return 1
	done
}

# m_set SET PUBLISH NETWORK-OPTIONS...: one option set: the networks and
# containers of both drivers, their servers, the probes. PUBLISH is "all"
# (-p HP:9000) or "lo" (-p 127.0.0.1:HP:9000).
m_set() {
	local set=$1 pub=$2 d c bind='' out t0 t1
	shift 2
	t0=$SECONDS
	M_SET=$set
	M_PID=()
	M_IP=()
	M_GW=()
	M_NSET=$((M_NSET + 1))
	[ "$pub" = all ] || bind=127.0.0.1:
	m_nets_up "$set" "$@" || return 0
	m_ctrs_up "$set" "$bind" || return 0
	for d in b c; do
		f_serve "mx $set" "mx-$d-srv" "${M_IP[mx-$d-srv]}" 9000 "$d-pub"
		f_serve "mx $set" "mx-$d-srv" "${M_IP[mx-$d-srv]}" 9001 "$d-unp"
		f_serve "mx $set" "mx-$d-oth" "${M_IP[mx-$d-oth]}" 9001 "$d-oth"
	done
	if [ "$set" = internal ]; then
		# An internal network gives no default route: add one by
		# hand, so that only the firewall stands in the way.
		for c in mx-b-srv mx-b-peer mx-c-srv mx-c-peer; do
			out=$(nsenter -t "${M_PID[$c]}" -n ip route show default 2>&1) || true
			if [ -n "$out" ]; then
				e2e_note "mx $set: $c has a default route already: $out"
			elif out=$(nsenter -t "${M_PID[$c]}" -n ip route add default via "${M_GW[$c]}" 2>&1); then
				e2e_pass "mx $set: $c gets a default route via ${M_GW[$c]}"
			else
				e2e_fail "mx $set: $c gets a default route via ${M_GW[$c]}" "$out"
			fi
		done
	fi
	t1=$SECONDS
	m_measure
	e2e_note "mx $set: set-up $((t1 - t0)) s, probes $((SECONDS - t1)) s"
}

# m_outside_lo: the outside sends 127.0.0.1 to the host (a rule before its
# local table), and both ends accept 127.0.0.1 on the veth (route_localnet),
# so that the control server answers there too.
m_outside_lo() {
	ip -n "$F_OUT" rule add pref 100 lookup local &&
		ip -n "$F_OUT" rule del pref 0 lookup local &&
		ip -n "$F_OUT" rule add pref 10 to 127.0.0.1 lookup 100 &&
		ip -n "$F_OUT" route add 127.0.0.1/32 via "$F_HOST4" dev "$F_VO" table 100 &&
		f_out sysctl -qw "net.ipv4.conf.$F_VO.route_localnet=1" &&
		e2e_nsx sysctl -qw "net.ipv4.conf.$F_VH.route_localnet=1"
}

# m_table: the matrix as "#" lines, columns aligned.
m_table() {
	local r w=(10 5 6 7) cols i s p b c v
	for r in "set|probe|bridge|cbridge|verdict" "${M_ROWS[@]}"; do
		IFS='|' read -ra cols <<<"$r"
		for i in 0 1 2 3; do
			[ "${#cols[$i]}" -le "${w[$i]}" ] || w[i]=${#cols[$i]}
		done
	done
	e2e_note "---- reachability matrix, dockerd on iptables-$E2E_DOCKERD_IPTABLES: bridge vs cbridge ----"
	for r in "set|probe|bridge|cbridge|verdict" "${M_ROWS[@]}"; do
		IFS='|' read -r s p b c v <<<"$r"
		printf '# %-*s | %-*s | %-*s | %-*s | %s\n' "${w[0]}" "$s" "${w[1]}" "$p" \
			"${w[2]}" "$b" "${w[3]}" "$c" "$v"
	done
}

# m_unused: every listed difference of this mode was measured.
m_unused() {
	local e mode sets probe s bad=''
	for e in "${M_EXPECTED[@]}"; do
		IFS='|' read -r mode sets probe _ <<<"$e"
		m_mode_is "$mode" || continue
		for s in $sets; do
			[ -n "${M_SEEN["$s|$probe"]:-}" ] || bad="$bad $s|$probe"
		done
	done
	e2e_check_eq "mx: every listed difference of iptables-$E2E_DOCKERD_IPTABLES was measured" "" "${bad# }"
}

# m_all: the outside, the control server, the option sets, the table.
m_all() {
	local t missing='' out='' t0=$SECONDS
	for t in perl nsenter timeout busybox; do
		command -v "$t" >/dev/null || missing="$missing $t"
	done
	if [ -n "$missing" ]; then
		e2e_fail "mx: tools present" "missing:$missing"
		return 0
	fi
	F_PEER=$E2E_TMP/peer.pl
	cp "$E2E_TOP/tests/e2e/peer.pl" "$F_PEER"
	if f_outside_up && m_outside_lo && out=$(f_out busybox ping -c1 -W2 "$F_HOST4" 2>&1); then
		e2e_pass "mx: outside namespace $F_OUT joined to $E2E_NS ($F_VH $F_HOST4 - $F_VO $F_OUT4), 127.0.0.1 routed to the host"
	else
		e2e_fail "mx: outside namespace $F_OUT joined to $E2E_NS" "${out:-(could not make it)}"
		f_outside_down
		return 0
	fi
	f_serve mx out "$F_OUT4" 9000 outside
	# f_outside_down stops it.
	# shellcheck disable=SC2034
	F_OUTSRV=${F_PIDS[*]}
	F_PIDS=()
	f_bg "$E2E_TMP/mx-ctl.log" ip netns exec "$E2E_NS" perl "$F_PEER" serve "$M_CTL" mxctl
	M_CTLSRV=${F_PIDS[*]}
	F_PIDS=()
	for t in $(seq 25); do
		out=$(f_client out tcp 127.0.0.1 "$M_CTL" 1 2>&1) || true
		! f_has mxctl "$out" || break
		sleep 0.2
	done
	e2e_check_match "mx: the control server in $E2E_NS answers the outside at 127.0.0.1:$M_CTL" \
		'cbtok-mxctl' "$out"

	e2e_scenario m_set default all
	f_reset "mx default"
	e2e_scenario m_set icc-off all -o com.docker.network.bridge.enable_icc=false
	f_reset "mx icc-off"
	e2e_scenario m_set internal all --internal
	f_reset "mx internal"
	e2e_scenario m_set masq-off all -o com.docker.network.bridge.enable_ip_masquerade=false
	f_reset "mx masq-off"
	e2e_scenario m_set host-bind all -o "com.docker.network.bridge.host_binding_ipv4=$F_HOST4"
	f_reset "mx host-bind"
	e2e_scenario m_set lo-ports lo
	f_reset "mx lo-ports"

	e2e_step "scenario m_all: the table"
	m_unused
	e2e_note "mx: the option sets took $((SECONDS - t0)) s"
	m_table
	kill "$M_CTLSRV" 2>/dev/null || true
	wait "$M_CTLSRV" 2>/dev/null || true
	M_CTLSRV=''
	f_outside_down
	plugin_alive matrix
}
