# shellcheck shell=bash
# Globals shared with run.sh (bin, PLUGIN_PID) and firewall.sh (F_*):
# shellcheck disable=SC2034,SC2154
# Scale and concurrency scenarios of the end-to-end tests, sourced by
# tests/e2e/run.sh after dnsdefault.sh, whose helpers they use (the
# outside namespace and probes of firewall.sh, the DNS queries of
# dnsdefault.sh, the container helpers of containers.sh). Every name made
# here starts with "sc-". A network sc-ctl, with no container, lives
# through all of them: the control that proves each "is gone" probe
# (its bridge, its legacy rules, its nft accepts on an nft host and its
# state.json entry must show where the removed networks' must not).
#
# s_all runs, in this order, each scenario removing what it made:
#   sa  a docker-compose project (Debian's docker-compose 1.29, through
#       the Engine API of the private dockerd) on two cbridge networks
#       (driver and IPAM cbridge:latest): web on both, with an alias on
#       each and a published port; client only on front; db only on back
#       with an alias. After `up -d`: all running; service names and
#       aliases resolve through 127.0.0.11 on the shared network, not
#       those only on the other network (proven against a name that
#       does resolve from the same container); ping by name across the
#       shared network; the published port answers from the host at
#       127.0.0.1 and at its own address, and from the outside namespace.
#       `down`: containers and both networks gone, and their bridges,
#       legacy rules, nft accepts and state.json entries
#   sb  S_NETS (300) automatic networks, each with a running container
#       (parallel batches of S_BATCH): subnets distinct and not
#       overlapping, every container running with an address in its
#       network's subnet and its veth the only port of its bridge; every
#       sandbox served by cbridge's DNS with 127.0.0.11 redirected; fewer
#       than 512 of the plugin's descriptors below 1024 (libnftables'
#       select() needs one free there); every 30th container pings its
#       gateway, resolves its own name and cannot ping the container of
#       the next network
#       (proven with its gateway first); a
#       `docker network create` and `inspect` timed at S_NETS, the
#       plugin's VmRSS noted before, at S_NETS and after; then all
#       removed: no bridge, veth, legacy rule, nft accept, state.json
#       network, pool or endpoint of them left, and no error of the
#       plugin or about its calls in the dockerd log meanwhile (but its
#       warnings that dockerd took over 10 s to answer an Engine API
#       request, counted)
#   sc  4 workers creating and removing networks for S_CHURN seconds
#       (every third with an explicit subnet from four overlapping ones,
#       the others automatic) and one running `docker run --rm` on the
#       workers' networks meanwhile: the only failures are overlap
#       refusals (at least one), a network removed under a starting
#       container, and a network with a container refused removal; no
#       two networks with overlapping subnets ever existed at the same
#       time (from the workers' timestamps); afterwards every network
#       docker lists has its bridge, as many legacy rules and nft
#       accepts as sc-ctl, a state.json entry and a pool, and nothing
#       exists for any other; the plugin never restarted; the dockerd
#       log of the scenario holds no error but the expected ones (and
#       dockerd's cleanup of a container whose start failed so); then
#       all removed and checked gone
# The seconds each scenario took are printed as a note.

S_NETS=${S_NETS:-300}	# networks (each with a container) in sb
S_BATCH=${S_BATCH:-8}	# docker commands run at once in sb
S_CHURN=${S_CHURN:-25}	# seconds sc's workers run
S_PROJ=sc-cmp		# sa's compose project
S_PORT=18480		# sa's published port
S_DIR=''		# scratch directory of the set
S_CTL=''		# ID of sc-ctl
S_PIDS=()		# background processes of the current scenario

# ------------------------------------------------------------------ helpers

# s_ms T0: milliseconds since T0 (date +%s%N).
s_ms() {
	echo $((($(date +%s%N) - $1) / 1000000))
}

# s_rss: the plugin process's VmRSS ("N kB"), "?" when it cannot be read.
s_rss() {
	local pid
	pid=$(e2e_plugin_pid)
	awk '/^VmRSS:/ { print $2 " " $3; f = 1 } END { exit !f }' \
		"/proc/${pid:-0}/status" 2>/dev/null || echo "?"
}

# s_fds: "ALL LOW", the plugin process's open descriptors and those
# numbered below FD_SETSIZE (1024); "?" when they cannot be listed.
s_fds() {
	local pid
	pid=$(e2e_plugin_pid)
	find "/proc/${pid:-0}/fd" -mindepth 1 -maxdepth 1 -printf '%f\n' 2>/dev/null |
		awk '{ n++; if ($1 < 1024) low++ } END { if (n) print n, low + 0; else exit 1 }' ||
		echo "?"
}

# s_legacy_ids: "ID12 COUNT" for each network with rules in the legacy
# tables of E2E_NS (IPv4 and IPv6), sorted; fails when a table cannot be
# read.
s_legacy_ids() {
	local out
	out=$(f_legacy)
	if f_probe_failed "$out" >&2; then
		return 1
	fi
	{ grep -o 'cbridge:[0-9a-f]\{12\}:' <<<"$out" || true; } | cut -c9-20 | sort | uniq -c |
		awk '{ print $2, $1 }'
}

# s_nft_ids: "ID COUNT" for each network with accepts in the nft ruleset
# of E2E_NS, sorted; fails when it cannot be read.
s_nft_ids() {
	local out
	out=$(e2e_nsx nft -s list ruleset 2>&1) || {
		echo "nft -s list ruleset in $E2E_NS: $out" >&2
		return 1
	}
	{ grep -o '"cbridge:[0-9a-f]\{64\}"' <<<"$out" || true; } | cut -c10-73 | sort | uniq -c |
		awk '{ print $2, $1 }'
}

# s_bridges: the 12 hex digits of every cb-* link in E2E_NS, sorted; fails
# when the links cannot be listed (lo is always there).
s_bridges() {
	local out
	if ! out=$(e2e_links) || ! grep -qx lo <<<"$out"; then
		echo "cannot list the links of $E2E_NS" >&2
		return 1
	fi
	{ grep -E '^cb-[0-9a-f]{12}$' <<<"$out" || true; } | cut -c4- | sort
}

# s_state JQ: jq -r JQ of state.json, sorted; fails when it cannot be
# read.
s_state() {
	jq -r "$1" "$E2E_STATE_DIR/state.json" | sort
}

# s_cbnets: IDs of every cbridge network in the daemon, sorted.
s_cbnets() {
	dk network ls -q --no-trunc --filter "driver=$E2E_PLUGIN" | sort
}

# s_subnets NET...: "ID SUBNET" of each network's IPv4 subnets, sorted.
s_subnets() {
	[ $# -gt 0 ] || return 0
	dk network inspect "$@" |
		jq -r '.[] | .Id as $i | .IPAM.Config[]? | .Subnet // empty | select(contains(":") | not) | "\($i) \(.)"' |
		sort
}

# s_overlaps: reads "NAME CIDR" lines; prints each NAME whose IPv4 prefix
# overlaps an earlier one (by first address), with the one it overlaps.
s_overlaps() {
	awk '{
		split($2, p, "/"); split(p[1], o, ".")
		n = ((o[1] * 256 + o[2]) * 256 + o[3]) * 256 + o[4]
		size = 2 ^ (32 - p[2]); s = n - n % size
		printf "%.0f %.0f %s %s\n", s, s + size - 1, $1, $2
	}' | sort -n -k1,1 | awk '
		NR > 1 && $1 + 0 <= end + 0 { print $3 " (" $4 ") overlaps " name " (" cidr ")" }
		NR == 1 || $2 + 0 > end + 0 { end = $2; name = $3; cidr = $4 }'
}

# s_minus ALL SUB: the lines of ALL that are not in SUB (sorted lists).
s_minus() {
	comm -23 <(echo "$1" | grep .) <(echo "$2" | grep .) || true
}

# s_gone DESC IDS: none of the networks IDS (full IDs, one per line) has a
# bridge, a legacy rule, an nft accept or a state.json network entry,
# endpoint or pool (SUBS: their subnets, one per line) left. Proven able
# to tell first: each source shows sc-ctl.
s_gone() {
	local desc=$1 ids=$2 subs=${3:-} br leg nft st ep pools bad='' ctl12=${S_CTL:0:12}
	if ! br=$(s_bridges) || ! leg=$(s_legacy_ids) || ! nft=$(s_nft_ids) ||
		! st=$(s_state '.networks[].id') || ! ep=$(s_state '.endpoints[].network') ||
		! pools=$(s_state '.ipam.pools[].pool'); then
		e2e_fail "$desc" "probe: a source could not be read (above)"
		return 0
	fi
	grep -qx "$ctl12" <<<"$br" || bad="${bad}probe: no bridge cb-$ctl12 of sc-ctl"$'\n'
	grep -q "^$ctl12 " <<<"$leg" || bad="${bad}probe: no legacy rule of sc-ctl"$'\n'
	if [ "$E2E_DOCKERD_IPTABLES" = nft ]; then
		grep -q "^$S_CTL " <<<"$nft" || bad="${bad}probe: no nft accept of sc-ctl"$'\n'
	fi
	grep -qx "$S_CTL" <<<"$st" || bad="${bad}probe: no state.json entry of sc-ctl"$'\n'
	if [ -n "$bad" ]; then
		e2e_fail "$desc" "$bad"
		return 0
	fi
	bad=$(
		comm -12 <(cut -c1-12 <<<"$ids" | sort) <(echo "$br") | sed 's/^/bridge cb-/'
		comm -12 <(cut -c1-12 <<<"$ids" | sort) <(cut -d' ' -f1 <<<"$leg") | sed 's/^/legacy rules of /'
		comm -12 <(sort <<<"$ids") <(cut -d' ' -f1 <<<"$nft") | sed 's/^/nft accepts of /'
		comm -12 <(sort <<<"$ids") <(echo "$st") | sed 's/^/state.json network /'
		comm -12 <(sort <<<"$ids") <(sort -u <<<"$ep") | sed 's/^/state.json endpoint on /'
		[ -z "$subs" ] || comm -12 <(sort -u <<<"$subs") <(echo "$pools") | sed 's/^/state.json pool /'
	) || true
	e2e_check_eq "$desc" "" "$bad"
}

# s_consistent LABEL: for every cbridge network docker lists: its bridge,
# as many legacy rules and nft accepts as sc-ctl has, its state.json
# entry and its pool; none of these for any other network; no two of
# their subnets overlap.
s_consistent() {
	local l=$1 nets br leg nft st pools subs c n want bad
	nets=$(s_cbnets)
	if ! br=$(s_bridges) || ! leg=$(s_legacy_ids) || ! nft=$(s_nft_ids) ||
		! st=$(s_state '.networks[].id') || ! pools=$(s_state '.ipam.pools[].pool'); then
		e2e_fail "$l: bridges, rules and state.json could be read"
		return 0
	fi
	# shellcheck disable=SC2086
	subs=$(s_subnets $nets)
	n=$(grep -c . <<<"$nets" || true)
	e2e_note "$l: $n cbridge networks, $(grep -c . <<<"$br" || true) bridges, $(grep -c . <<<"$leg" || true) with legacy rules, $(grep -c . <<<"$nft" || true) with nft accepts, $(grep -c . <<<"$st" || true) in state.json"
	e2e_check_eq "$l: a bridge for every network, none for another" "" \
		"$(s_minus "$(cut -c1-12 <<<"$nets")" "$br" | sed 's/^/missing cb-/'; s_minus "$br" "$(cut -c1-12 <<<"$nets")" | sed 's/^/extra cb-/')"
	c=$(awk -v i="${S_CTL:0:12}" '$1 == i { print $2 }' <<<"$leg")
	want=$(cut -c1-12 <<<"$nets" | awk -v c="${c:-0}" '{ print $1, c }')
	bad=$(diff <(echo "$want") <(echo "$leg")) || true
	e2e_check_eq "$l: every network has sc-ctl's ${c:-0} legacy rules, no other network any" "" "$bad"
	c=$(awk -v i="$S_CTL" '$1 == i { print $2 }' <<<"$nft")
	if [ "$E2E_DOCKERD_IPTABLES" = nft ]; then
		e2e_check_match "$l: sc-ctl has nft accepts (${c:-none})" '^[1-9]' "${c:-}"
	fi
	want=$(awk -v c="${c:-0}" 'c > 0 { print $1, c }' <<<"$nets")
	bad=$(diff <(echo "$want") <(echo "$nft")) || true
	e2e_check_eq "$l: every network has sc-ctl's ${c:-0} nft accepts, no other network any" "" "$bad"
	bad=$(diff <(echo "$nets") <(echo "$st")) || true
	e2e_check_eq "$l: state.json holds exactly the networks docker lists" "" "$bad"
	bad=$(diff <(cut -d' ' -f2 <<<"$subs" | sort) <(echo "$pools")) || true
	e2e_check_eq "$l: state.json's pools are exactly the networks' subnets" "" "$bad"
	e2e_check_eq "$l: no two networks' subnets overlap" "" "$(s_overlaps <<<"$subs")"
}

# s_log_from: the size of the dockerd log, where a scenario's part of it
# starts.
s_log_from() {
	stat -c %s "$E2E_TMP/dockerd.log" 2>/dev/null || echo 0
}

# s_log_errors FROM: the level=error and level=fatal lines of the dockerd
# log after byte FROM (the plugin's warnings and errors are logged at
# level=error).
s_log_errors() {
	tail -c +"$(($1 + 1))" "$E2E_TMP/dockerd.log" | grep -E 'level=(error|fatal)' || true
}

# s_log_cbridge FROM: the lines of s_log_errors that come from the plugin
# (its warnings and errors) or name one of its calls or its socket, but
# the plugin's warnings that dockerd was slow to answer an Engine API
# request (its container lock is held while a container starts).
s_log_cbridge() {
	s_log_errors "$1" | grep -E 'plugin=|IpamDriver|NetworkDriver|cbridge\.sock' |
		grep -vE 'warn  dns: Docker Engine API at [^ ]+: GET [^ ]+: no answer within [0-9]+ s' || true
}

# s_sandboxes: "SERVING REDIRECTED" counts of cbridge dns-stats' sandboxes
# (serving, and serving with the 127.0.0.11 redirect in place).
s_sandboxes() {
	local id
	id=$(dk plugin inspect -f '{{.Id}}' "$E2E_PLUGIN") || return 1
	"$bin" dns-stats --socket "/run/docker/plugins/$id/cbridge.sock" --json 2>&1 |
		jq -r '[.Sandboxes[] | select(.State == "serving")] |
			"\(length) \([.[] | select(.Intercept.Redirected == true)] | length)"'
}

# s_par N FUNC ARG...: runs FUNC ARG for each ARG in the background, N at
# a time; waits for each batch.
s_par() {
	local n=$1 fn=$2 a pids=()
	shift 2
	for a in "$@"; do
		"$fn" "$a" &
		pids+=("$!")
		if [ ${#pids[@]} -ge "$n" ]; then
			wait "${pids[@]}" || true
			pids=()
		fi
	done
	[ ${#pids[@]} -eq 0 ] || wait "${pids[@]}" || true
}

# s_kill_bg: stops the scenario's background processes.
s_kill_bg() {
	local p
	for p in "${S_PIDS[@]}"; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	S_PIDS=()
}

# ----------------------------------------------------------------------- sa

# s_compose ARGS...: docker-compose for sa's project (at most 180 s),
# output to $S_DIR/compose.log.
s_compose() {
	timeout 180 docker-compose -p "$S_PROJ" -f "$S_DIR/compose/docker-compose.yml" "$@" \
		>>"$S_DIR/compose.log" 2>&1 </dev/null
}

# s_ctr SERVICE: the container name compose gives SERVICE.
s_ctr() {
	echo "${S_PROJ}_$1_1"
}

# s_resolves DESC CTR NAME WANT: a query for NAME A to 127.0.0.11 from
# CTR's namespace answers exactly WANT (3 tries, 0.3 s apart: the name
# may not be known yet).
s_resolves() {
	local out got i
	for i in 1 2 3; do
		out=$(n_q "$2" "$3" A udp 127.0.0.11 6) || true
		got=$(n_got "$out")
		[ "${got% ttl=*}" != "$4" ] || break
		sleep 0.3
	done
	if [ "${got% ttl=*}" = "$4" ]; then
		e2e_pass "$1"
	else
		e2e_fail "$1" "expected: '$4'" "query $3 A to 127.0.0.11 from $2:" "${out:-(nothing)}"
	fi
}

# s_unresolved DESC CTR NAME CNAME CWANT: a query for NAME from CTR's
# namespace gets no address; proven able to tell first: the same query
# for CNAME answers CWANT.
s_unresolved() {
	local out got
	out=$(n_q "$2" "$4" A udp 127.0.0.11 6) || true
	got=$(n_got "$out")
	if [ "${got% ttl=*}" != "$5" ]; then
		e2e_fail "$1" "probe: query $4 A from $2 did not answer '$5':" "${out:-(nothing)}"
		return 0
	fi
	out=$(n_q "$2" "$3" A udp 127.0.0.11 6) || true
	if grep -qE '^(A|AAAA) ' <<<"$out"; then
		e2e_fail "$1" "query $3 A from $2 answered:" "$out"
	else
		e2e_pass "$1 ($(grep -m1 '^rcode=' <<<"$out" || echo 'no reply'))"
	fi
}

# sa. a docker-compose project
s_a() {
	local t0 c n svc front back webf webb clientf dbb out
	mkdir -p "$S_DIR/compose"
	# Services on one and on both networks, an alias on each, a port.
	cat >"$S_DIR/compose/docker-compose.yml" <<EOF
version: "2.4"
services:
  web:
    image: $E2E_IMAGE
    command: ["nc", "-ll", "-p", "80", "-e", "echo", "cbtok-sc-web"]
    ports: ["$S_PORT:80"]
    networks:
      front:
        aliases: [www]
      back:
        aliases: [api]
  client:
    image: $E2E_IMAGE
    command: ["sleep", "3600"]
    networks: [front]
  db:
    image: $E2E_IMAGE
    command: ["sleep", "3600"]
    networks:
      back:
        aliases: [database]
networks:
  front:
    driver: $E2E_PLUGIN
    ipam:
      driver: $E2E_PLUGIN
  back:
    driver: $E2E_PLUGIN
    ipam:
      driver: $E2E_PLUGIN
EOF
	front=${S_PROJ}_front
	back=${S_PROJ}_back
	t0=$(date +%s%N)
	if s_compose up -d; then
		e2e_pass "sa: docker-compose -p $S_PROJ up -d ($(s_ms "$t0") ms)"
	else
		e2e_fail "sa: docker-compose -p $S_PROJ up -d" "$(tail -n 30 "$S_DIR/compose.log")"
		return 0
	fi
	for n in "$front" "$back"; do
		if e2e_net_bridge "$n" >/dev/null; then
			e2e_record_bridge "$(e2e_net_bridge "$n")"
		fi
		e2e_check_eq "sa: $n's driver and IPAM driver" "$E2E_PLUGIN $E2E_PLUGIN" \
			"$(dk network inspect -f '{{.Driver}} {{.IPAM.Driver}}' "$n" 2>&1)"
		check_bridge "sa: $n" "$(e2e_net_bridge "$n")" "$(gateway4 "$n")"
	done
	for svc in web client db; do
		c=$(s_ctr "$svc")
		e2e_check_eq "sa: service $svc runs ($c)" true \
			"$(dk inspect -f '{{.State.Running}}' "$c" 2>&1)"
	done
	e2e_check_eq "sa: web is on both networks, client on front, db on back" \
		"$back $front|$front|$back" \
		"$(for svc in web client db; do
			dk inspect "$(s_ctr "$svc")" | jq -r '.[0].NetworkSettings.Networks | keys | join(" ")'
		done | paste -sd'|')"
	webf=$(c_addr4 "$(s_ctr web)" "$front")
	webb=$(c_addr4 "$(s_ctr web)" "$back")
	clientf=$(c_addr4 "$(s_ctr client)" "$front")
	dbb=$(c_addr4 "$(s_ctr db)" "$back")
	e2e_note "sa: web $webf (front) $webb (back), client $clientf (front), db $dbb (back)"

	# Names through 127.0.0.11: the service and its alias of the shared
	# network, never those of the other network only.
	s_resolves "sa: client resolves web (service name) to $webf" "$(s_ctr client)" web "$webf"
	s_resolves "sa: client resolves www (web's alias on front) to $webf" "$(s_ctr client)" www "$webf"
	s_resolves "sa: db resolves web to $webb" "$(s_ctr db)" web "$webb"
	s_resolves "sa: db resolves api (web's alias on back) to $webb" "$(s_ctr db)" api "$webb"
	s_resolves "sa: web resolves db to $dbb" "$(s_ctr web)" db "$dbb"
	s_resolves "sa: web resolves database (db's alias) to $dbb" "$(s_ctr web)" database "$dbb"
	s_resolves "sa: web resolves client to $clientf" "$(s_ctr web)" client "$clientf"
	s_unresolved "sa: client does not resolve db (only on back)" "$(s_ctr client)" db web "$webf"
	s_unresolved "sa: client does not resolve database (db's alias on back)" "$(s_ctr client)" \
		database web "$webf"
	s_unresolved "sa: client does not resolve api (web's alias on back only)" "$(s_ctr client)" \
		api www "$webf"
	s_unresolved "sa: db does not resolve client (only on front)" "$(s_ctr db)" client web "$webb"
	s_unresolved "sa: db does not resolve www (web's alias on front only)" "$(s_ctr db)" www api "$webb"
	n_nslookup "sa: nslookup web in client, through its resolv.conf" "$(s_ctr client)" web "$webf"
	c_ping "sa: client pings web by name" "$(s_ctr client)" web
	c_ping "sa: db pings api by name" "$(s_ctr db)" api
	c_ping "sa: web pings database by name" "$(s_ctr web)" database
	f_no_ping "sa: client cannot ping db ($dbb) on back" "$(s_ctr client)" "$dbb" "$webf"

	# The published port, from the host and from the outside.
	f_reach "sa: the host reaches web at 127.0.0.1:$S_PORT" sc-web host tcp 127.0.0.1 "$S_PORT"
	f_reach "sa: the host reaches web at its address $F_HOST4:$S_PORT" sc-web host tcp "$F_HOST4" "$S_PORT"
	f_reach "sa: the outside reaches web at $F_HOST4:$S_PORT" sc-web out tcp "$F_HOST4" "$S_PORT"
	f_reach "sa: client reaches web at www:80" sc-web "$(s_ctr client)" tcp www 80
	out=$(f_listening tcp "$S_PORT")
	e2e_check_match "sa: host port $S_PORT/tcp is held by a listening socket in $E2E_NS" . "$out"
}

# sa's end: docker-compose down, and nothing of the project left.
s_a_down() {
	local ids subs c left
	ids=$(dk network ls -q --no-trunc --filter "label=com.docker.compose.project=$S_PROJ" | sort)
	# shellcheck disable=SC2086
	subs=$(s_subnets $ids | cut -d' ' -f2)
	c=$(dk ps -aq --filter "label=com.docker.compose.project=$S_PROJ" | grep -c . || true)
	e2e_note "sa: $c containers and $(grep -c . <<<"$ids" || true) networks of $S_PROJ before down"
	if s_compose down; then
		e2e_pass "sa: docker-compose -p $S_PROJ down"
	else
		e2e_fail "sa: docker-compose -p $S_PROJ down" "$(tail -n 30 "$S_DIR/compose.log")"
		# What down left, so that the next scenarios start clean.
		for c in $(dk ps -aq --filter "label=com.docker.compose.project=$S_PROJ"); do
			dk rm -f "$c" >/dev/null 2>&1 || true
		done
		for c in $ids; do
			dk network rm "$c" >/dev/null 2>&1 || true
		done
	fi
	left=$(dk ps -a --filter "label=com.docker.compose.project=$S_PROJ" --format '{{.Names}}')
	if dk ps -a --format '{{.Names}}' >/dev/null; then
		e2e_check_eq "sa: no container of $S_PROJ left" "" "$left"
	else
		e2e_fail "sa: no container of $S_PROJ left" "probe: docker ps -a fails"
	fi
	left=$(dk network ls --filter "label=com.docker.compose.project=$S_PROJ" --format '{{.Name}}')
	if dk network inspect sc-ctl >/dev/null; then
		e2e_check_eq "sa: no network of $S_PROJ left" "" "$left"
	else
		e2e_fail "sa: no network of $S_PROJ left" "probe: sc-ctl cannot be inspected"
	fi
	if [ -n "$ids" ]; then
		s_gone "sa: no bridge, legacy rule, nft accept or state.json entry of $S_PROJ's networks left" \
			"$ids" "$subs"
	fi
	e2e_check_eq "sa: host port $S_PORT/tcp is free again" "" "$(f_listening tcp "$S_PORT")"
	rm -rf "$S_DIR/compose"
}

# ----------------------------------------------------------------------- sb

# s_b_net I: creates network sc-nI; its ID or error to $S_DIR/sb/net.I.
s_b_net() {
	timeout 60 "$E2E_DOCKER" network create -d "$E2E_PLUGIN" --ipam-driver "$E2E_PLUGIN" \
		"sc-n$1" >"$S_DIR/sb/net.$1" 2>&1 || echo "exit $?" >>"$S_DIR/sb/net.$1"
}

# s_b_run I: starts container sc-cI on sc-nI; output to $S_DIR/sb/run.I.
s_b_run() {
	timeout 120 "$E2E_DOCKER" run -d --name "sc-c$1" --network "sc-n$1" "$E2E_IMAGE" sleep 1d \
		>"$S_DIR/sb/run.$1" 2>&1 || echo "exit $?" >>"$S_DIR/sb/run.$1"
}

# s_b_rm WORDS: docker rm -f of the containers sc-cI for each I of WORDS
# (a space separated list).
s_b_rm() {
	local i names=()
	for i in $1; do
		names+=("sc-c$i")
	done
	timeout 120 "$E2E_DOCKER" rm -f "${names[@]}" >/dev/null 2>&1 || true
}

# s_b_netrm WORDS: docker network rm of the networks sc-nI of WORDS.
s_b_netrm() {
	local i names=()
	for i in $1; do
		names+=("sc-n$i")
	done
	timeout 120 "$E2E_DOCKER" network rm "${names[@]}" >/dev/null 2>&1 || true
}

# s_chunks N WORD...: the WORDs in N space separated groups, one per line.
s_chunks() {
	local n=$1
	shift
	printf '%s\n' "$@" | awk -v n="$n" '{ g[NR % n] = g[NR % n] " " $0 } END { for (i in g) print substr(g[i], 2) }'
}

# sb. S_NETS networks, each with a running container
s_b() {
	local n=$S_NETS t0 t1 tn tr i idx=() bad ids subs nets ctrs j veths0 veths br ms
	local a b gw peer rss rss0 fds logfrom chunks=()
	mkdir -p "$S_DIR/sb"
	logfrom=$(s_log_from)
	mapfile -t idx < <(seq -f '%03g' 1 "$n")
	veths0=$(c_ns_veths)
	rss0=$(s_rss)
	# A first create, timed with no network of this scenario yet.
	t1=$(date +%s%N)
	if dk network create -d "$E2E_PLUGIN" --ipam-driver "$E2E_PLUGIN" sc-t0 >/dev/null 2>&1; then
		ms=$(s_ms "$t1")
		dk network rm sc-t0 >/dev/null 2>&1 || true
		e2e_note "sb: a docker network create took $ms ms before the $n networks"
	fi

	t0=$(date +%s%N)
	s_par "$S_BATCH" s_b_net "${idx[@]}"
	tn=$(s_ms "$t0")
	bad=''
	ids=''
	for i in "${idx[@]}"; do
		if [ "$(grep -c . "$S_DIR/sb/net.$i")" = 1 ] &&
			grep -qE '^[0-9a-f]{64}$' "$S_DIR/sb/net.$i"; then
			ids+=$(grep -E '^[0-9a-f]{64}$' "$S_DIR/sb/net.$i")$'\n'
		else
			bad+="sc-n$i: $(tr '\n' ' ' <"$S_DIR/sb/net.$i")"$'\n'
		fi
	done
	ids=$(grep . <<<"$ids" | sort || true)
	if [ -z "$bad" ]; then
		e2e_pass "sb: $n automatic networks created, $S_BATCH at a time ($tn ms)"
	else
		e2e_fail "sb: $n automatic networks created, $S_BATCH at a time ($tn ms)" "$(head -n 20 <<<"$bad")"
	fi
	while read -r i; do
		[ -z "$i" ] || echo "cb-${i:0:12}"
	done <<<"$ids" >>"$E2E_TMP/bridges"
	# shellcheck disable=SC2086
	subs=$(s_subnets $ids)
	e2e_check_eq "sb: one IPv4 subnet per network" "$(grep -c . <<<"$ids")" "$(grep -c . <<<"$subs")"
	e2e_check_eq "sb: all subnets distinct" "" "$(cut -d' ' -f2 <<<"$subs" | sort | uniq -d)"
	# shellcheck disable=SC2086
	e2e_check_eq "sb: no two subnets overlap (nor sc-ctl's)" "" \
		"$(s_subnets $ids "$S_CTL" | s_overlaps)"
	e2e_note "sb: subnets by size: $(cut -d' ' -f2 <<<"$subs" | cut -d/ -f2 | sort | uniq -c | awk '{ printf "%s%s x /%s", (n++ ? ", " : ""), $1, $2 }')"

	t1=$(date +%s%N)
	s_par "$S_BATCH" s_b_run "${idx[@]}"
	tr=$(s_ms "$t1")
	bad=''
	for i in "${idx[@]}"; do
		# docker run -d prints the ID before the start, which may fail.
		{ [ "$(grep -c . "$S_DIR/sb/run.$i")" = 1 ] && grep -qE '^[0-9a-f]{64}$' "$S_DIR/sb/run.$i"; } ||
			bad+="sc-c$i: $(tr '\n' ' ' <"$S_DIR/sb/run.$i")"$'\n'
	done
	if [ -z "$bad" ]; then
		e2e_pass "sb: $n containers started (docker run -d), $S_BATCH at a time ($tr ms)"
	else
		e2e_fail "sb: $n containers started (docker run -d), $S_BATCH at a time ($tr ms)" "$(head -n 20 <<<"$bad")"
	fi
	# Each container: running, with an address in its network's subnet.
	# shellcheck disable=SC2046
	ctrs=$(dk inspect $(printf 'sc-c%s ' "${idx[@]}") 2>/dev/null |
		jq -r '.[] | (.Name | ltrimstr("/")) as $c | (.NetworkSettings.Networks | to_entries[0]) as $e
			| "\($c) \(.State.Running) \($e.value.NetworkID // "-") \($e.value.IPAddress // "-")"') || true
	e2e_check_eq "sb: $n containers running" "$n" "$(awk '$2 == "true"' <<<"$ctrs" | grep -c . || true)"
	bad=$(join -1 3 -2 1 <(sort -k3,3 <<<"$ctrs") <(echo "$subs") | awk '{
		split($5, p, "/"); split(p[1], o, "."); split($4, q, ".")
		s = ((o[1] * 256 + o[2]) * 256 + o[3]) * 256 + o[4]; size = 2 ^ (32 - p[2])
		a = ((q[1] * 256 + q[2]) * 256 + q[3]) * 256 + q[4]
		if ($4 == "-" || a <= s || a >= s + size - 1) print $2 " has " $4 " outside " $5; else ok++
	} END { print ok + 0 " inside" }')
	e2e_check_eq "sb: every container's address lies in its network's subnet" "$n inside" "$bad"
	# Each bridge has exactly one port: its container's veth.
	br=$(e2e_ip -j link show type veth | jq -r '.[] | .master // "-"' | sort | uniq -c |
		awk '{ print $2, $1 }')
	bad=$(join -a 1 -e 0 -o 0,2.2 <(awk '{ print "cb-" substr($0, 1, 12) }' <<<"$ids" | sort) <(echo "$br") |
		awk '$2 != 1')
	e2e_check_eq "sb: each of the $n bridges has exactly one veth" "" "$bad"
	# Every sandbox served, with the redirect (within 60 s).
	for j in $(seq 120); do
		bad=$(s_sandboxes 2>&1) || true
		[ "$bad" != "$n $n" ] || break
		sleep 0.5
	done
	e2e_check_eq "sb: dns-stats: $n sandboxes serving, all with 127.0.0.11 redirected" "$n $n" "$bad"

	# A sample: its gateway yes, the next network's container no.
	for ((j = 0; j < n; j += 30)); do
		i=${idx[j]}
		a=$(c_addr4 "sc-c$i" "sc-n$i")
		peer=${idx[(j + 1) % n]}
		b=$(c_addr4 "sc-c$peer" "sc-n$peer")
		gw=$(f_gw "sc-n$i")
		c_ping "sb: sc-c$i ($a) pings its gateway $gw" "sc-c$i" "$gw"
		s_resolves "sb: sc-c$i resolves its own name through 127.0.0.11" "sc-c$i" "sc-c$i" "$a"
		f_no_ping "sb: sc-c$i cannot ping sc-c$peer ($b) on sc-n$peer" "sc-c$i" "$b" "$gw"
	done

	# The daemon at S_NETS networks.
	t1=$(date +%s%N)
	if dk network create -d "$E2E_PLUGIN" --ipam-driver "$E2E_PLUGIN" sc-t1 >"$S_DIR/sb/t1" 2>&1; then
		ms=$(s_ms "$t1")
		e2e_pass "sb: docker network create at $n networks ($ms ms)"
		e2e_record_bridge "$(e2e_net_bridge sc-t1)"
		ids+=$'\n'$(dk network inspect -f '{{.Id}}' sc-t1)
		subs+=$'\n'$(s_subnets sc-t1)
		e2e_check_eq "sb: it overlaps none of the $n" "" "$(s_overlaps <<<"$subs")"
		t1=$(date +%s%N)
		e2e_check "sb: docker network inspect sc-t1 at $((n + 1)) networks" \
			timeout 30 "$E2E_DOCKER" network inspect sc-t1
		e2e_note "sb: docker network inspect took $(s_ms "$t1") ms"
	else
		e2e_fail "sb: docker network create at $n networks" "$(cat "$S_DIR/sb/t1")"
	fi
	rss=$(s_rss)
	e2e_check_match "sb: the plugin's VmRSS at $n networks and containers can be read ($rss)" \
		'^[0-9]+ kB$' "$rss"
	# libnftables needs a free descriptor below FD_SETSIZE (lib/fd.h).
	fds=$(s_fds)
	e2e_note "sb: the plugin holds $fds descriptors (all, below 1024) at $n containers"
	e2e_check_match "sb: fewer than 512 of the plugin's descriptors are below 1024 ($fds)" \
		'^[0-9]+ ([0-9]{1,2}|[1-4][0-9]{2}|50[0-9]|51[01])$' "$fds"
	e2e_note "sb: plugin VmRSS $rss0 before, $rss at $n networks with a container each"
	e2e_note "sb: $n networks in $tn ms, $n containers in $tr ms, $(s_ms "$t0") ms in all so far"

	# Remove everything, S_BATCH commands at a time.
	t1=$(date +%s%N)
	mapfile -t chunks < <(s_chunks "$S_BATCH" "${idx[@]}")
	s_par "$S_BATCH" s_b_rm "${chunks[@]}"
	e2e_check_eq "sb: all containers removed" "" "$(dk ps -aq --filter name=sc-c)"
	s_par "$S_BATCH" s_b_netrm "${chunks[@]}"
	dk network rm sc-t1 >/dev/null 2>&1 || true
	e2e_note "sb: removal took $(s_ms "$t1") ms"
	e2e_check_eq "sb: all networks removed" "" \
		"$(dk network ls --filter name=sc-n --format '{{.Name}}'; dk network ls --filter name=sc-t --format '{{.Name}}')"
	veths=$(c_ns_veths)
	e2e_check_eq "sb: no veth left in $E2E_NS" "$veths0" "$veths"
	s_gone "sb: no bridge, legacy rule, nft accept, state.json network, endpoint or pool of them left" \
		"$ids" "$(cut -d' ' -f2 <<<"$subs")"
	e2e_note "sb: the dockerd log since the scenario began: $(s_log_errors "$logfrom" | grep -c . || true) errors," \
		"$(s_log_errors "$logfrom" | grep -c 'warn  dns: Docker Engine API.*no answer within' || true) of them the plugin's Engine API timeouts;" \
		"most frequent: $(s_log_errors "$logfrom" | sed -nE 's/.* msg="(.{0,70}).*/\1/p' | sed -E 's/[0-9a-f]{12,64}/ID/g' |
			sort | uniq -c | sort -rn | head -n 3 | awk '{ $1 = $1 " x"; print }' | paste -sd';')"
	e2e_check_eq "sb: the dockerd log holds no error or warning of the plugin or about its calls since the scenario began" "" \
		"$(s_log_cbridge "$logfrom" | head -n 30)"
	e2e_note "sb: plugin VmRSS $(s_rss) after the removal; the scenario took $(s_ms "$t0") ms from the first create"
	rm -rf "$S_DIR/sb"
}

# ----------------------------------------------------------------------- sc

# s_c_log FILE T0 WORDS...: appends "T0 NOW WORDS" to FILE.
s_c_log() {
	local f=$1 t0=$2
	shift 2
	echo "$t0 $(date +%s%N) $*" >>"$f"
}

# s_c_worker W END SUB...: until END (date +%s), at most 300 rounds:
# creates network sc-wW-R (every third round with one of the SUBs),
# removes its oldest once it holds three; logs each operation to
# $S_DIR/sc/w.W: "T0 T1 create NAME ok SUBNET|fail SUBNET|auto MESSAGE",
# "T0 T1 rm NAME ok|fail MESSAGE".
s_c_worker() {
	local w=$1 end=$2 r name sub t0 t1 out args live=() log=$S_DIR/sc/w.$1
	shift 2
	for r in $(seq 300); do
		[ "$(date +%s)" -lt "$end" ] || break
		name=sc-w$w-$r
		sub=auto
		args=()
		if [ $((r % 3)) -eq 0 ]; then
			sub=${*:RANDOM % $# + 1:1}
			args=(--subnet "$sub")
		fi
		t0=$(date +%s%N)
		if out=$(timeout 60 "$E2E_DOCKER" network create -d "$E2E_PLUGIN" \
			--ipam-driver "$E2E_PLUGIN" "${args[@]}" "$name" 2>&1); then
			t1=$(date +%s%N)
			[ "$sub" != auto ] || sub=$(timeout 60 "$E2E_DOCKER" network inspect \
				-f '{{range .IPAM.Config}}{{.Subnet}}{{end}}' "$name" 2>&1 | tr -d ' ')
			echo "$t0 $t1 create $name ok $sub" >>"$log"
			live+=("$name")
		else
			s_c_log "$log" "$t0" create "$name" fail "$sub" "$(tr '\n' ' ' <<<"$out")"
		fi
		[ ${#live[@]} -ge 3 ] || continue
		t0=$(date +%s%N)
		if out=$(timeout 60 "$E2E_DOCKER" network rm "${live[0]}" 2>&1); then
			s_c_log "$log" "$t0" rm "${live[0]}" ok
			live=("${live[@]:1}")
		else
			s_c_log "$log" "$t0" rm "${live[0]}" fail "$(tr '\n' ' ' <<<"$out")"
		fi
	done
}

# s_c_runner END: until END, at most 300 times, docker run --rm on one of
# the workers' networks (the oldest, the next its worker removes); logs
# "T0 T1 run NET ok|fail MESSAGE" to $S_DIR/sc/run.
s_c_runner() {
	local end=$1 r net t0 out log=$S_DIR/sc/run
	for r in $(seq 300); do
		[ "$(date +%s)" -lt "$end" ] || break
		net=$(timeout 30 "$E2E_DOCKER" network ls --filter name=sc-w --format '{{.CreatedAt}} {{.Name}}' 2>/dev/null |
			sort | head -n 1 | awk '{ print $NF }') || true
		if [ -z "$net" ]; then
			sleep 0.2
			continue
		fi
		t0=$(date +%s%N)
		if out=$(timeout 60 "$E2E_DOCKER" run --rm --name "sc-r$r" --network "$net" "$E2E_IMAGE" true 2>&1); then
			s_c_log "$log" "$t0" run "$net" ok
		else
			s_c_log "$log" "$t0" run "$net" fail "$(tr '\n' ' ' <<<"$out")"
		fi
	done
}

# s_c_clash: reads the workers' logs; prints each two networks with
# overlapping subnets that both surely existed at the same time: from
# the end of the create that made one to the start of the rm that
# removed it (or the end of the run).
s_c_clash() {
	cat "$S_DIR"/sc/w.* | awk '
		$3 == "create" && $5 == "ok" { n[$4] = $6; from[$4] = $2; to[$4] = 9e18 }
		$3 == "rm" && $5 == "ok" { to[$4] = $1 }
		END {
			for (a in n) {
				split(n[a], p, "/"); split(p[1], o, ".")
				x = ((o[1] * 256 + o[2]) * 256 + o[3]) * 256 + o[4]
				s[a] = x - x % 2 ^ (32 - p[2]); e[a] = s[a] + 2 ^ (32 - p[2]) - 1
			}
			for (a in n) for (b in n)
				if (a < b && s[a] <= e[b] && s[b] <= e[a] && from[a] < to[b] && from[b] < to[a])
					print a " (" n[a] ") and " b " (" n[b] ") existed at the same time"
		}'
}

# sc. concurrent network create and rm, and docker run on them
s_c() {
	local t0 end x base subs=() w pids=() logfrom all bad n ov ids errs i left veths0 gone
	mkdir -p "$S_DIR/sc"
	veths0=$(c_ns_veths)
	# Four overlapping explicit subnets in a free /23.
	for i in $(seq 50); do
		x=$((RANDOM % 100 + 100))
		# shellcheck disable=SC2046
		if e2e_free4 "10.$x.0.0/23" $(all_subnets4); then
			base=10.$x
			break
		fi
	done
	if [ -z "${base:-}" ]; then
		e2e_fail "sc: a free 10.X.0.0/23 for the explicit subnets"
		return 0
	fi
	subs=("$base.0.0/24" "$base.0.0/25" "$base.0.128/25" "$base.0.0/23")
	e2e_note "sc: explicit subnets ${subs[*]}, ${S_CHURN} s of 4 workers and a docker run --rm loop"
	logfrom=$(s_log_from)
	t0=$(date +%s%N)
	end=$(($(date +%s) + S_CHURN))
	for w in 1 2 3 4; do
		s_c_worker "$w" "$end" "${subs[@]}" &
		S_PIDS+=("$!")
	done
	s_c_runner "$end" &
	S_PIDS+=("$!")
	# Each round is bounded by its timeouts; allow two of them after END.
	for i in $(seq $(((S_CHURN + 150) * 5))); do
		pids=()
		for x in "${S_PIDS[@]}"; do
			! kill -0 "$x" 2>/dev/null || pids+=("$x")
		done
		[ ${#pids[@]} -gt 0 ] || break
		sleep 0.2
	done
	if [ ${#pids[@]} -eq 0 ]; then
		e2e_pass "sc: the workers ended ($(s_ms "$t0") ms)"
	else
		e2e_fail "sc: the workers ended" "still running after $(s_ms "$t0") ms: ${pids[*]}"
	fi
	s_kill_bg
	all=$(cat "$S_DIR"/sc/w.* "$S_DIR/sc/run" 2>/dev/null || true)
	e2e_note "sc: $(awk '$3 == "create" && $5 == "ok"' <<<"$all" | grep -c . || true) creates ok" \
		"($(awk '$3 == "create" && $5 == "ok" && $6 ~ /^10\./' <<<"$all" | grep -c . || true) explicit)," \
		"$(awk '$3 == "create" && $5 == "fail"' <<<"$all" | grep -c . || true) refused," \
		"$(awk '$3 == "rm" && $5 == "ok"' <<<"$all" | grep -c . || true) rm ok," \
		"$(awk '$3 == "rm" && $5 == "fail"' <<<"$all" | grep -c . || true) rm refused," \
		"$(awk '$3 == "run" && $5 == "ok"' <<<"$all" | grep -c . || true) runs ok," \
		"$(awk '$3 == "run" && $5 == "fail"' <<<"$all" | grep -c . || true) runs failed"
	ov=$(awk '$3 == "create" && $5 == "fail" && $6 != "auto"' <<<"$all" | grep -ci 'overlap' || true)
	e2e_check_match "sc: some explicit creates were refused for an overlap ($ov)" '^[1-9]' "$ov"
	e2e_check_match "sc: some explicit creates succeeded" '^[1-9]' \
		"$(awk '$3 == "create" && $5 == "ok" && $6 ~ /^10\./' <<<"$all" | grep -c . || true)"
	e2e_check_match "sc: some automatic creates succeeded and were removed" '^[1-9]' \
		"$(awk '$3 == "rm" && $5 == "ok"' <<<"$all" | grep -c . || true)"
	bad=$(awk '$5 == "fail"' <<<"$all" | grep -vE \
		-e '^[0-9]+ [0-9]+ create sc-w[0-9-]+ fail 10\.[0-9./]+ .*IpamDriver\.RequestPool: subnet [0-9./]+ overlaps with ' \
		-e '^[0-9]+ [0-9]+ rm (sc-w[0-9-]+) fail .*network \1 id [0-9a-f]+ has active endpoints' \
		-e '^[0-9]+ [0-9]+ run (sc-w[0-9-]+) fail .*network \1 not found' || true)
	e2e_check_eq "sc: no failure but overlap refusals, removals of networks in use, runs on removed networks" \
		"" "$bad"
	e2e_check_eq "sc: no two networks with overlapping subnets existed at the same time" "" \
		"$(s_c_clash)"

	s_consistent sc
	plugin_alive sc
	# dockerd's cleanup of a container whose start failed (its network
	# was removed meanwhile) reports that containerd never had it.
	x='^$'
	if awk '$3 == "run" && $5 == "fail"' <<<"$all" | grep -q 'not found'; then
		x='[0-9a-f]{64} cleanup: failed to delete container from containerd: no such container'
	fi
	errs=$(s_log_errors "$logfrom" | grep -vE \
		-e 'IpamDriver\.RequestPool.* overlaps with ' \
		-e 'network sc-w[0-9-]+ id [0-9a-f]+ has active endpoints' \
		-e 'network sc-w[0-9-]+ not found' -e "$x" || true)
	e2e_check_eq "sc: the dockerd log holds no error but the expected refusals" "" "$(head -n 30 <<<"$errs")"

	# Remove what the workers left.
	ids=$(dk network ls -q --no-trunc --filter name=sc-w | sort)
	# shellcheck disable=SC2086
	gone=$(s_subnets $ids | cut -d' ' -f2)
	n=$(grep -c . <<<"$ids" || true)
	for x in $ids; do
		e2e_record_bridge "cb-${x:0:12}"
	done
	# shellcheck disable=SC2086
	[ -z "$ids" ] || dk network rm $ids >/dev/null 2>&1 || true
	e2e_check_eq "sc: the $n networks left by the workers removed" "" \
		"$(dk network ls --filter name=sc-w --format '{{.Name}}')"
	left=$(dk ps -a --filter name=sc-r --format '{{.Names}}')
	e2e_check_eq "sc: no container of the docker run loop left" "" "$left"
	e2e_check_eq "sc: no veth left in $E2E_NS" "$veths0" "$(c_ns_veths)"
	if [ -n "$ids" ]; then
		s_gone "sc: nothing of them left" "$ids" "$gone"
	fi
	rm -rf "$S_DIR/sc"
}

# --------------------------------------------------------------------- main

# s_all: the scale scenarios, with sc-ctl and the outside around them.
s_all() {
	local t missing='' t0 out ctl_subs
	for t in docker-compose perl nsenter timeout iptables-legacy-save; do
		command -v "$t" >/dev/null || missing="$missing $t"
	done
	if [ -n "$missing" ]; then
		e2e_fail "scale: tools present (scripts/deps.sh e2e)" "missing:$missing"
		return 0
	fi
	S_DIR=$E2E_TMP/scale
	mkdir -p "$S_DIR"
	[ -n "$F_PEER" ] || {
		F_PEER=$E2E_TMP/peer.pl
		cp "$E2E_TOP/tests/e2e/peer.pl" "$F_PEER"
	}
	if ! e2e_net_create sc-ctl; then
		e2e_fail "scale: create the control network sc-ctl" "$E2E_OUT"
		return 0
	fi
	S_CTL=$E2E_NET_ID
	e2e_pass "scale: create the control network sc-ctl ($(s_subnets sc-ctl | cut -d' ' -f2))"
	if f_outside_up && out=$(f_out busybox ping -c1 -W2 "$F_HOST4" 2>&1); then
		e2e_pass "scale: outside namespace $F_OUT joined to $E2E_NS ($F_HOST4 - $F_OUT4)"
		t0=$(date +%s)
		e2e_scenario s_a
		s_a_down
		e2e_note "sa: $(($(date +%s) - t0)) s"
	else
		e2e_fail "scale: outside namespace $F_OUT joined to $E2E_NS" "${out:-(could not make it)}"
	fi
	f_outside_down
	t0=$(date +%s)
	e2e_scenario s_b
	e2e_note "sb: $(($(date +%s) - t0)) s"
	t0=$(date +%s)
	e2e_scenario s_c
	s_kill_bg
	e2e_note "sc: $(($(date +%s) - t0)) s"

	ctl_subs=$(s_subnets sc-ctl | cut -d' ' -f2)
	e2e_check "scale: docker network rm sc-ctl" dk network rm sc-ctl
	e2e_check "scale: sc-ctl's bridge cb-${S_CTL:0:12} is gone" e2e_no_link "cb-${S_CTL:0:12}"
	f_snapshot_lacks "scale: no rule of sc-ctl is left (legacy tables, nft)" "cbridge:${S_CTL:0:12}"
	if out=$(s_state '.networks[].id, .ipam.pools[].pool' 2>&1); then
		e2e_check_eq "scale: state.json lists neither sc-ctl nor its pool" "" \
			"$(grep -xF -e "$S_CTL" -e "$ctl_subs" <<<"$out" || true)"
	else
		e2e_fail "scale: state.json lists neither sc-ctl nor its pool" "probe: $out"
	fi
	rm -rf "$S_DIR"
	plugin_alive scale
}
