#!/bin/bash
# cbridge next to Docker 29's nftables backend (dockerd
# --firewall-backend=nftables), simulated in throwaway network namespaces:
# Docker's documented layout for a new daemon (tests/integration/
# docker29.nft: tables ip and ip6 docker-bridges, docker0's chains behind
# verdict maps, base chain filter-FORWARD with policy drop) is loaded into
# a "host" namespace, which routes for an "outside" namespace.  A forwarded
# packet must be accepted by every base chain on the hook, so whatever
# cbridge forwards dies in Docker's filter-FORWARD unless the docker-accept
# shim (firewall/dockeraccept.c) puts its two accepts per network and
# family there.
#
# Part 1, the shim alone (fw_itest, one sync per call): a bridge standing
# for a cbridge network with two "container" namespaces, and docker0 with
# one of Docker's.  Before Docker's table everything flows; with it,
# nothing of cbridge's (the control); after a sync both containers reach
# each other and the outside over IPv4 and IPv6, the accepts are the last
# two rules of filter-FORWARD in each family, and Docker's rules are
# unchanged apart from them; Docker's own drop still keeps cbridge's
# containers from opening flows into docker0 (an accept moved above
# Docker's jumps would not, and the next sync moves it back); Docker
# re-creating or flushing its tables between two syncs of one process;
# both layouts at once (iptables-nft's DOCKER-USER too), each repaired on
# its own; no network: no rule of ours, Docker's tables as loaded.
#
# Part 2, the daemon, once per backend in $D29_BACKENDS (default: both,
# iptables and nftables): a network and
# two endpoints made over the plugin API, the endpoints' interfaces moved
# into container namespaces as dockerd would.  The accepts appear, traffic
# flows; with the daemon stopped (SIGSTOP) Docker rebuilds its tables and
# the traffic is dropped (the control); resumed, the accepts are back
# within 2 s; Docker rebuilding (delete and load, or flush and load) while
# the daemon runs: back within 2 s, never a duplicate, Docker's rules
# byte for byte as before apart from the accepts (counters aside); the
# network deleted: Docker's tables exactly as loaded.
#
# Nothing touches the host's namespace: everything runs in namespaces
# named cbt-d29-*, removed on exit, also on failure or a signal; the
# daemon gets a private xtables lock (its legacy tables are the test
# namespace's) and is stopped on exit.  Each probe has a one-second
# timeout, each wait a bound.
#
#   tests/integration/docker29.sh path/to/fw_itest path/to/cbridge
#
# Exit status: 0, 1 when a check failed or br_netfilter cannot be loaded,
# 2 on bad usage, 77 (skip) when not root or without per-namespace bridge
# netfilter sysctls.
set -eu -o pipefail
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

if [ "$#" -ne 2 ]; then
	echo "usage: $0 path/to/fw_itest path/to/cbridge" >&2
	exit 2
fi
fw_bin=$1
cb_bin=$2
case $fw_bin in /*) ;; *) fw_bin=$(pwd)/$fw_bin ;; esac
case $cb_bin in /*) ;; *) cb_bin=$(pwd)/$cb_bin ;; esac
for b in "$fw_bin" "$cb_bin"; do
	if [ ! -x "$b" ]; then
		echo "$0: $b is not an executable" >&2
		exit 2
	fi
done
if [ "$(id -u)" -ne 0 ]; then
	echo "$0: skipped, needs root" >&2
	exit 77
fi
for c in ip nft iptables-nft ip6tables-nft curl jq; do
	if ! command -v "$c" >/dev/null; then
		echo "$0: skipped, $c is missing" >&2
		exit 77
	fi
done
# Commands, not functions: they run through `ip netns exec`.
if command -v ping >/dev/null; then
	ping=(ping -c 1 -W 1)
elif command -v busybox >/dev/null; then
	ping=(busybox ping -c 1 -W 1)
else
	echo "$0: skipped, no ping (iputils-ping or busybox)" >&2
	exit 77
fi
itest_br_netfilter

fixture=$(cd "$(dirname "$0")" && pwd)/docker29.nft
backends=${D29_BACKENDS:-iptables nftables}
run=cbt-d29-$$-$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')
tmp=$(mktemp -d "/tmp/$run.XXXX")
made=()
pid=
passed=0
failed=0

cleanup() {
	if [ -n "$pid" ]; then
		kill -CONT "$pid" 2>/dev/null || true
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
	for n in "${made[@]}"; do
		ip netns delete "$n" 2>/dev/null || true
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# newns NAME: a namespace ($run-NAME) with lo up; `ip netns add` fails
# rather than reuse a name someone else has.
newns() {
	local n=$run-$1
	if ip netns list | grep -q "^$n\\b" || ! ip netns add "$n"; then
		echo "$0: cannot create network namespace $n" >&2
		exit 1
	fi
	made+=("$n")
	ip netns exec "$n" ip link set lo up
	ip netns exec "$n" sysctl -q -w net.ipv6.conf.all.disable_ipv6=0
}
in_() { local n=$run-$1; shift; ip netns exec "$n" "$@"; }

# A host namespace as Docker 29 wants it: forwarding on (Docker 29 leaves
# that to the admin), bridge netfilter on, so that bridged traffic meets
# the forward hook too, as dockerd's setup makes it.
host_setup() {
	in_ "$1" sysctl -q -w net.ipv4.ip_forward=1
	in_ "$1" sysctl -q -w net.ipv6.conf.all.forwarding=1
	in_ "$1" sysctl -q -w net.ipv6.conf.default.forwarding=1
	in_ "$1" sysctl -q -w net.bridge.bridge-nf-call-iptables=1
	in_ "$1" sysctl -q -w net.bridge.bridge-nf-call-ip6tables=1
}

# uplink HOST OUT N: HOST is 10.N.0.1 / fdN::1 towards OUT (.2, ::2),
# and OUT routes the given subnets back through HOST.
uplink() {
	local h=$1 o=$2 n=$3 s
	shift 3
	in_ "$h" ip link add cbt-d29up type veth peer name eth0 netns "$run-$o"
	in_ "$h" ip addr add "10.$n.0.1/24" dev cbt-d29up
	in_ "$h" ip addr add "fd$n::1/64" dev cbt-d29up nodad
	in_ "$h" ip link set cbt-d29up up
	in_ "$o" ip addr add "10.$n.0.2/24" dev eth0
	in_ "$o" ip addr add "fd$n::2/64" dev eth0 nodad
	in_ "$o" ip link set eth0 up
	for s in "$@"; do
		case $s in
		*:*) in_ "$o" ip -6 route add "$s" via "fd$n::1" ;;
		*) in_ "$o" ip route add "$s" via "10.$n.0.1" ;;
		esac
	done
}

# bridge HOST NAME ADDR4/LEN ADDR6/LEN: a bridge, up, with the gateways.
bridge() {
	in_ "$1" ip link add "$2" type bridge
	in_ "$1" ip addr add "$3" dev "$2"
	in_ "$1" ip addr add "$4" dev "$2" nodad
	in_ "$1" ip link set "$2" up
}

# eth0_in CTR ADDR4/LEN ADDR6/LEN GW4 GW6: the container's eth0 (already
# moved there) addressed, up, and its default routes.
eth0_in() {
	in_ "$1" ip addr add "$2" dev eth0
	in_ "$1" ip addr add "$3" dev eth0 nodad
	in_ "$1" ip link set eth0 up
	in_ "$1" ip route add default via "$4"
	in_ "$1" ip -6 route add default via "$5"
}

# attach HOST CTR BRIDGE PORT ADDR4/LEN ADDR6/LEN GW4 GW6: a veth pair,
# PORT on BRIDGE in HOST, eth0 in CTR.
attach() {
	in_ "$1" ip link add "$4" type veth peer name eth0 netns "$run-$2"
	in_ "$1" ip link set "$4" master "$3" up
	eth0_in "$2" "$5" "$6" "$7" "$8"
}

# reach CTR FAMILY ADDR: an echo answered (three tries: a port that just
# came up may not forward yet).  blocked CTR FAMILY ADDR: one echo, not
# answered within a second; every use follows the same probe answered.
reach() {
	local i
	for i in 1 2 3; do
		in_ "$1" "${ping[@]}" "-$2" "$3" >/dev/null 2>&1 && return 0
		[ "$i" -lt 3 ] && sleep 0.2
	done
	return 1
}
blocked() { ! in_ "$1" "${ping[@]}" "-$2" "$3" >/dev/null 2>&1; }

# Docker's two tables as nft lists them, counters left out.
docker_rules() {
	in_ "$1" nft -s list table ip docker-bridges
	in_ "$1" nft -s list table ip6 docker-bridges
}
# docker_same HOST PRISTINE COMMENT: Docker's tables, the rules with our
# comment left out, are PRISTINE byte for byte.
docker_same() {
	docker_rules "$1" >"$tmp/now" || return 1
	grep -v -F "comment \"$3\"" "$tmp/now" >"$tmp/now.others" || true
	if ! cmp -s "$2" "$tmp/now.others"; then
		diff "$2" "$tmp/now.others" | head -n 20 | sed 's/^/# /'
		return 1
	fi
}
# docker_exact HOST PRISTINE: Docker's tables are PRISTINE byte for byte.
docker_exact() {
	docker_rules "$1" >"$tmp/now" || return 1
	if ! cmp -s "$2" "$tmp/now"; then
		diff "$2" "$tmp/now" | head -n 20 | sed 's/^/# /'
		return 1
	fi
}

# fwd_rules HOST FAMILY: the rules of FAMILY's filter-FORWARD, one a line.
fwd_rules() {
	in_ "$1" nft list chain "$2" docker-bridges filter-FORWARD |
	    sed -n 's/^\t\t//p' | grep -v -e '^type filter hook forward'
}
# ours_last HOST FAMILY BRIDGE COMMENT: in FAMILY's filter-FORWARD,
# exactly two rules carry COMMENT, they are the last two, one accepting
# from BRIDGE and one to it, and Docker's two jumps come first.
ours_last() {
	local r n last
	r=$(fwd_rules "$1" "$2") || return 1
	n=$(grep -c -F "comment \"$4\"" <<<"$r" || true)
	if [ "$n" != 2 ]; then
		echo "# $2 filter-FORWARD: $n rules of ours"
		return 1
	fi
	head -n 2 <<<"$r" | grep -q -x 'oifname vmap @filter-forward-in-jumps' ||
	    return 1
	head -n 2 <<<"$r" | grep -q -x 'iifname vmap @filter-forward-out-jumps' ||
	    return 1
	last=$(tail -n 2 <<<"$r")
	grep -q -x "iifname \"$3\" counter packets [0-9]* bytes [0-9]* accept comment \"$4\"" <<<"$last" &&
	    grep -q -x "oifname \"$3\" counter packets [0-9]* bytes [0-9]* accept comment \"$4\"" <<<"$last"
}
both_last() { ours_last "$1" ip "$2" "$3" && ours_last "$1" ip6 "$2" "$3"; }
# count_ours HOST CHAIN-SPEC COMMENT: rules with COMMENT in a chain
# ("ip docker-bridges filter-FORWARD", ...); -1 when it cannot be listed.
count_ours() {
	local h=$1 c=$2 out
	# shellcheck disable=SC2086
	out=$(in_ "$h" nft list chain $c 2>/dev/null) || { echo -1; return; }
	grep -c -F "comment \"$3\"" <<<"$out" || true
}
# within_2s CMD...: CMD succeeds within two seconds.
within_2s() {
	local i
	for i in $(seq 20); do
		"$@" && return 0
		sleep 0.1
	done
	"$@"
}

# rebuild_file HOW FILE: Docker re-creating its tables, as one nft
# transaction like Docker's: "reload" deletes them and loads them again (a
# start after a switch of backends, or after one of Docker's updates
# failed), "flush" empties their chains and fills them again (every
# start: the tables are kept).
rebuild_file() {
	case $1 in
	reload) printf 'delete table %s docker-bridges\n' ip ip6 >"$2" ;;
	flush) printf 'flush table %s docker-bridges\n' ip ip6 >"$2" ;;
	*) return 1 ;;
	esac
	cat "$fixture" >>"$2"
}
# rebuild HOST HOW: that, now.
rebuild() {
	rebuild_file "$2" "$tmp/rebuild.nft" && in_ "$1" nft -f "$tmp/rebuild.nft"
}
# no_ours HOST: the ruleset (Docker's tables in it) holds no rule with our
# comment.
no_ours() {
	local out
	out=$(in_ "$1" nft list ruleset) || return 1
	grep -q 'table ip docker-bridges' <<<"$out" || return 1
	! grep -q -F "comment \"$COMMENT\"" <<<"$out"
}

ID=5f1c0a7e9b2d44c18e3f6a0b7c9d2e4f1a3b5c7d9e0f2a4b6c8d0e1f3a5b7c9d
COMMENT="cbridge:$ID"

# ---------------------------------------------------------------------
echo "# part 1: the shim (fw_itest) and Docker 29's layout"
BR=cbt-d29br0
newns h
newns c1
newns c2
newns d1
newns o
host_setup h
if ! in_ h test -e /proc/sys/net/bridge/bridge-nf-call-iptables; then
	echo "$0: skipped, the bridge-nf sysctls are not per namespace" \
	    "(Linux before 5.3)" >&2
	exit 77
fi
bridge h "$BR" 10.96.0.1/24 fd96::1/64
attach h c1 "$BR" cbt-d29v1 10.96.0.2/24 fd96::2/64 10.96.0.1 fd96::1
attach h c2 "$BR" cbt-d29v2 10.96.0.3/24 fd96::3/64 10.96.0.1 fd96::1
bridge h docker0 172.17.0.1/16 fdd0:c29::1/64
attach h d1 docker0 cbt-d29vd 172.17.0.2/16 fdd0:c29::2/64 172.17.0.1 fdd0:c29::1
uplink h o 95 10.96.0.0/24 fd96::/64 172.17.0.0/16 fdd0:c29::/64
fw() { in_ h "$fw_bin" "$@" 2>>"$tmp/fw.err"; }

for _ in 1 2 3 4 5; do reach c1 4 10.96.0.3 && reach c1 6 fd95::2 && break; sleep 0.2; done
check "before Docker's tables: c1 reaches c2 (IPv4)" reach c1 4 10.96.0.3
check "before Docker's tables: c1 reaches c2 (IPv6)" reach c1 6 fd96::3
check "before Docker's tables: c1 reaches the outside (IPv4)" reach c1 4 10.95.0.2
check "before Docker's tables: c1 reaches the outside (IPv6)" reach c1 6 fd95::2
check "before Docker's tables: c1 reaches d1 on docker0 (IPv4)" reach c1 4 172.17.0.2
check "before Docker's tables: c1 reaches d1 on docker0 (IPv6)" reach c1 6 fdd0:c29::2

check "Docker 29's layout loads (nft -f)" in_ h nft -f "$fixture"
docker_rules h >"$tmp/pristine"
check "Docker's layout works: d1 reaches the outside (IPv4)" reach d1 4 10.95.0.2
check "Docker's layout works: d1 reaches the outside (IPv6)" reach d1 6 fd95::2
check "control: Docker's policy drops c1 -> c2 (IPv4)" blocked c1 4 10.96.0.3
check "control: Docker's policy drops c1 -> c2 (IPv6)" blocked c1 6 fd96::3
check "control: Docker's policy drops c1 -> the outside (IPv4)" blocked c1 4 10.95.0.2
check "control: Docker's policy drops c1 -> the outside (IPv6)" blocked c1 6 fd95::2

check "sync adds the accepts" fw "$ID:$BR"
check "c1 reaches c2 (IPv4)" reach c1 4 10.96.0.3
check "c1 reaches c2 (IPv6)" reach c1 6 fd96::3
check "c1 reaches the outside and back (IPv4)" reach c1 4 10.95.0.2
check "c1 reaches the outside and back (IPv6)" reach c1 6 fd95::2
check "the outside reaches c2 (IPv4)" reach o 4 10.96.0.3
check "ip: two accepts of ours, after Docker's jumps, last" \
    ours_last h ip "$BR" "$COMMENT"
check "ip6: two accepts of ours, after Docker's jumps, last" \
    ours_last h ip6 "$BR" "$COMMENT"
check "Docker's rules unchanged apart from ours (counters aside)" \
    docker_same h "$tmp/pristine" "$COMMENT"
check "Docker's drop still holds: c1 opens no flow into docker0 (IPv4)" \
    blocked c1 4 172.17.0.2
check "... while d1 reaches c1 (IPv4)" reach d1 4 10.96.0.2
check "Docker's drop still holds: c1 opens no flow into docker0 (IPv6)" \
    blocked c1 6 fdd0:c29::2
check "... while d1 reaches c1 (IPv6)" reach d1 6 fd96::2

in_ h nft -a -s list ruleset >"$tmp/before"
check "sync again succeeds" fw "$ID:$BR"
in_ h nft -a -s list ruleset >"$tmp/after"
check "... and changes nothing (same rules, same handles)" \
    cmp -s "$tmp/before" "$tmp/after"

# An accept of ours above Docker's jumps would let c1 into docker0: why
# they go last.  The next sync takes it away and appends it again.
in_ h nft insert rule ip docker-bridges filter-FORWARD iifname "$BR" \
    counter accept comment "\"$COMMENT\""
check "an accept of ours above Docker's jumps opens docker0 (IPv4)" \
    reach c1 4 172.17.0.2
check "sync puts it back after the jumps" fw "$ID:$BR"
check "... docker0 closed again (IPv4)" blocked c1 4 172.17.0.2
check "... two accepts per family, last" both_last h "$BR" "$COMMENT"
check "... c1 still reaches the outside (IPv4)" reach c1 4 10.95.0.2

# Docker rebuilding its tables between two syncs of one process: the
# generation moved, so the second sync reads and adds again.
for how in reload flush; do
	rebuild_file "$how" "$tmp/rebuild-$how.nft"
	cmd="nft -f $tmp/rebuild-$how.nft"
	check "Docker rebuilds its tables ($how) between two syncs: synced" \
	    fw -a "$cmd" "$ID:$BR"
	check "... two accepts per family, last" both_last h "$BR" "$COMMENT"
	check "... Docker's rules unchanged apart from ours" \
	    docker_same h "$tmp/pristine" "$COMMENT"
	check "... c1 reaches the outside (IPv4)" reach c1 4 10.95.0.2
	check "... c1 reaches the outside (IPv6)" reach c1 6 fd95::2
done

# Both layouts at once: iptables-nft's FORWARD drop as well.  Each chain
# gets its accepts, and each is repaired alone.
for ipt in iptables-nft ip6tables-nft; do
	in_ h "$ipt" -N DOCKER-USER
	in_ h "$ipt" -A DOCKER-USER -j RETURN
	in_ h "$ipt" -I FORWARD -j DOCKER-USER
	in_ h "$ipt" -P FORWARD DROP
done
check "control: iptables-nft's FORWARD drop too: c1 -> outside dropped (IPv4)" \
    blocked c1 4 10.95.0.2
check "control: iptables-nft's FORWARD drop too: c1 -> outside dropped (IPv6)" \
    blocked c1 6 fd95::2
check "both layouts: sync succeeds" fw "$ID:$BR"
count_both() {
	test "$(count_ours h 'ip filter DOCKER-USER' "$COMMENT") $(count_ours h 'ip6 filter DOCKER-USER' "$COMMENT") $(count_ours h 'ip docker-bridges filter-FORWARD' "$COMMENT") $(count_ours h 'ip6 docker-bridges filter-FORWARD' "$COMMENT")" = "2 2 2 2"
}
check "both layouts: two accepts in each chain of each family" count_both
check "both layouts: Docker 29's accepts still last" both_last h "$BR" "$COMMENT"
check "both layouts: c1 reaches the outside (IPv4)" reach c1 4 10.95.0.2
check "both layouts: c1 reaches the outside (IPv6)" reach c1 6 fd95::2
# handle_of FAMILY TABLE CHAIN KEY: the handle of our KEY ("iifname",
# "oifname") accept there.
handle_of() {
	in_ h nft -a list chain "$1" "$2" "$3" |
	    sed -n "s/.*$4 \"$BR\" .*comment \"$COMMENT\" # handle \([0-9]*\)$/\1/p"
}
in_ h nft delete rule ip docker-bridges filter-FORWARD handle \
    "$(handle_of ip docker-bridges filter-FORWARD oifname)"
check "without our oifname accept in Docker 29's chain: replies dropped (IPv4)" \
    blocked c1 4 10.95.0.2
in_ h nft -a -s list table ip filter >"$tmp/filter.before"
check "sync restores it" fw "$ID:$BR"
check "... c1 reaches the outside again (IPv4)" reach c1 4 10.95.0.2
in_ h nft -a -s list table ip filter >"$tmp/filter.after"
check "... and left iptables-nft's table alone" \
    cmp -s "$tmp/filter.before" "$tmp/filter.after"
in_ h nft delete rule ip6 filter DOCKER-USER handle \
    "$(handle_of ip6 filter DOCKER-USER iifname)"
check "without our iifname accept in DOCKER-USER: requests dropped (IPv6)" \
    blocked c1 6 fd95::2
docker_rules h >"$tmp/d29.before"
check "sync restores it" fw "$ID:$BR"
check "... c1 reaches the outside again (IPv6)" reach c1 6 fd95::2
check "... and left Docker 29's tables alone" docker_exact h "$tmp/d29.before"
check "both layouts: two accepts in each chain of each family, again" count_both
in_ h nft delete table ip filter
in_ h nft delete table ip6 filter
check "iptables-nft's tables gone: sync succeeds" fw "$ID:$BR"
check "... Docker 29's chain untouched" docker_exact h "$tmp/d29.before"

check "sync with no networks" fw
check "no rule of ours is left" no_ours h
check "Docker's tables exactly as loaded (counters aside)" \
    docker_exact h "$tmp/pristine"
check "control again: c1 -> the outside dropped (IPv4)" blocked c1 4 10.95.0.2
check "... while d1 reaches the outside (IPv4)" reach d1 4 10.95.0.2

# ---------------------------------------------------------------------
# Part 2: the daemon.
sock=
EP3=e3e3e3e3e3e3e3e3e3e3e3e3e3e3e3e3e3e3e3e3e3e3e3e3e3e3e3e3e3e3e3e3
EP4=e4e4e4e4e4e4e4e4e4e4e4e4e4e4e4e4e4e4e4e4e4e4e4e4e4e4e4e4e4e4e4e4
BR2=cb-${ID:0:12}

# watch_rebuild HOST HOW: Docker rebuilds its tables with the daemon
# running; the accepts must be back within 2 s, and no chain may ever
# hold more than two of ours (sampled about every 50 ms for 3 s).
watch_rebuild() {
	local h=$1 how=$2 t0 now max=0 c4 c6 back=
	rebuild "$h" "$how" || { echo "# rebuild failed"; return 1; }
	t0=$(date +%s%N)
	while :; do
		c4=$(count_ours "$h" 'ip docker-bridges filter-FORWARD' "$COMMENT")
		c6=$(count_ours "$h" 'ip6 docker-bridges filter-FORWARD' "$COMMENT")
		now=$(( ($(date +%s%N) - t0) / 1000000 ))
		[ "$c4" -gt "$max" ] && max=$c4
		[ "$c6" -gt "$max" ] && max=$c6
		if [ -z "$back" ] && [ "$c4" = 2 ] && [ "$c6" = 2 ]; then
			back=$now
		fi
		[ "$now" -ge 3000 ] && break
		sleep 0.05
	done
	echo "# $how: back after ${back:-more than 3000} ms, at most $max per chain"
	[ -n "$back" ] && [ "$back" -le 2000 ] && [ "$max" -le 2 ] &&
	    both_last "$h" "$BR2" "$COMMENT"
}

daemon_part() {
	local be=$1 h=d$1 c3=$1-c3 c4=$1-c4 o=$1-o r pool pool6 f0=$failed
	echo "# part 2: the daemon, FIREWALL_BACKEND=$be"
	newns "$h"
	newns "$c3"
	newns "$c4"
	newns "$o"
	host_setup "$h"
	uplink "$h" "$o" 93 10.94.0.0/24 fd94::/64
	# Docker's tables are there before the daemon starts, as on a host
	# where dockerd started first.
	in_ "$h" nft -f "$fixture"
	docker_rules "$h" >"$tmp/pristine2"
	sock=$tmp/$be.sock
	# Not through in_: $! must be the daemon.
	ip netns exec "$run-$h" env LOG_LEVEL=debug DOCKER_SOCKET=off \
	    DNS_UPSTREAMS=127.0.0.1:9 FIREWALL_BACKEND="$be" \
	    XTABLES_LOCK="$tmp/xtables.lock" \
	    "$cb_bin" --socket "$sock" --state-dir "$tmp/$be.state" \
	    >>"$tmp/$be.log" 2>&1 &
	pid=$!
	if ! wait_daemon "$tmp/$be.log"; then
		not_ok "the daemon starts with FIREWALL_BACKEND=$be"
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
		pid=
		return 0
	fi
	check "the daemon uses the $be backend" \
	    grep -q "firewall: $be backend (FIREWALL_BACKEND=$be)" "$tmp/$be.log"

	r=$(call IpamDriver.RequestPool '{"AddressSpace":"LocalDefault","Pool":"10.94.0.0/24","SubPool":"","Options":{},"V6":false}')
	pool=$(jq -r .PoolID <<<"${r#* }")
	call IpamDriver.RequestAddress "{\"PoolID\":\"$pool\",\"Address\":\"\",\"Options\":{\"RequestAddressType\":\"com.docker.network.gateway\"}}" >/dev/null
	r=$(call IpamDriver.RequestPool '{"AddressSpace":"LocalDefault","Pool":"fd94::/64","SubPool":"","Options":{},"V6":true}')
	pool6=$(jq -r .PoolID <<<"${r#* }")
	call IpamDriver.RequestAddress "{\"PoolID\":\"$pool6\",\"Address\":\"\",\"Options\":{\"RequestAddressType\":\"com.docker.network.gateway\"}}" >/dev/null
	r=$(call NetworkDriver.CreateNetwork "{\"NetworkID\":\"$ID\",\"Options\":{\"com.docker.network.enable_ipv6\":true},\"IPv4Data\":[{\"AddressSpace\":\"LocalDefault\",\"Pool\":\"10.94.0.0/24\",\"Gateway\":\"10.94.0.1/24\"}],\"IPv6Data\":[{\"AddressSpace\":\"LocalDefault\",\"Pool\":\"fd94::/64\",\"Gateway\":\"fd94::1/64\"}]}")
	check "CreateNetwork ($r)" test "${r%% *}" = 200
	# Two endpoints, their container ends moved into the containers'
	# namespaces and named eth0, as dockerd does.
	for e in "$EP3:$c3:2" "$EP4:$c4:3"; do
		local ep=${e%%:*} rest=${e#*:} ctr i
		ctr=${rest%%:*}
		i=${rest#*:}
		r=$(call NetworkDriver.CreateEndpoint "{\"NetworkID\":\"$ID\",\"EndpointID\":\"$ep\",\"Interface\":{\"Address\":\"10.94.0.$i/24\",\"AddressIPv6\":\"fd94::$i/64\",\"MacAddress\":\"\"},\"Options\":{}}")
		check "CreateEndpoint .$i" test "${r%% *}" = 200
		r=$(call NetworkDriver.Join "{\"NetworkID\":\"$ID\",\"EndpointID\":\"$ep\",\"SandboxKey\":\"/var/run/docker/netns/x\",\"Options\":{}}")
		check "Join .$i" test "${r%% *}" = 200
		in_ "$h" ip link set "cbp${ep:0:12}" netns "$run-$ctr"
		in_ "$ctr" ip link set "cbp${ep:0:12}" name eth0
		eth0_in "$ctr" "10.94.0.$i/24" "fd94::$i/64" 10.94.0.1 fd94::1
	done

	check "the accepts appear in Docker's chain, last (within 2 s)" \
	    within_2s both_last "$h" "$BR2" "$COMMENT"
	for _ in 1 2 3 4 5; do reach "$c3" 4 10.94.0.3 && break; sleep 0.2; done
	check "c3 reaches c4 (IPv4)" reach "$c3" 4 10.94.0.3
	check "c3 reaches c4 (IPv6)" reach "$c3" 6 fd94::3
	check "c3 reaches the outside (IPv4)" reach "$c3" 4 10.93.0.2
	check "c3 reaches the outside (IPv6)" reach "$c3" 6 fd93::2
	check "Docker's rules unchanged apart from ours" \
	    docker_same "$h" "$tmp/pristine2" "$COMMENT"

	# The control: the daemon stopped, Docker rebuilds its tables.
	kill -STOP "$pid"
	check "daemon stopped: Docker re-creates its tables" rebuild "$h" reload
	check "control: c3 -> c4 dropped without the accepts (IPv4)" \
	    blocked "$c3" 4 10.94.0.3
	check "control: c3 -> c4 dropped without the accepts (IPv6)" \
	    blocked "$c3" 6 fd94::3
	check "control: c3 -> the outside dropped (IPv4)" \
	    blocked "$c3" 4 10.93.0.2
	check "control: c3 -> the outside dropped (IPv6)" \
	    blocked "$c3" 6 fd93::2
	kill -CONT "$pid"
	check "daemon resumed: the accepts are back within 2 s" \
	    within_2s both_last "$h" "$BR2" "$COMMENT"
	check "c3 reaches c4 again (IPv4)" reach "$c3" 4 10.94.0.3
	check "c3 reaches the outside again (IPv6)" reach "$c3" 6 fd93::2

	check "Docker re-creates its tables: back within 2 s, never a duplicate" \
	    watch_rebuild "$h" reload
	check "Docker flushes and refills its tables: back within 2 s, never a duplicate" \
	    watch_rebuild "$h" flush
	check "Docker's rules unchanged apart from ours" \
	    docker_same "$h" "$tmp/pristine2" "$COMMENT"
	check "c3 reaches the outside (IPv4)" reach "$c3" 4 10.93.0.2
	check "c3 reaches c4 (IPv6)" reach "$c3" 6 fd94::3

	for ep in "$EP3" "$EP4"; do
		call NetworkDriver.Leave "{\"NetworkID\":\"$ID\",\"EndpointID\":\"$ep\"}" >/dev/null
		call NetworkDriver.DeleteEndpoint "{\"NetworkID\":\"$ID\",\"EndpointID\":\"$ep\"}" >/dev/null
	done
	r=$(call NetworkDriver.DeleteNetwork "{\"NetworkID\":\"$ID\"}")
	check "DeleteNetwork ($r)" test "${r%% *}" = 200
	check "the network gone: Docker's tables exactly as loaded (within 2 s)" \
	    within_2s docker_exact "$h" "$tmp/pristine2"
	check "SIGTERM: the daemon exits 0" stop
	check "no sanitizer report or crash in the daemon's log" \
	    no_sanitizer_report "$tmp/$be.log"
	if [ "$failed" -ne "$f0" ]; then
		echo "# the daemon's log ($be), last lines:"
		tail -n 30 "$tmp/$be.log" | sed 's/^/#   /'
	fi
}

for be in $backends; do
	case $be in
	iptables|nftables) daemon_part "$be" ;;
	*) not_ok "unknown backend '$be' in D29_BACKENDS" ;;
	esac
done

if [ -s "$tmp/fw.err" ]; then
	echo "# fw_itest said:"
	sed 's/^/#   /' "$tmp/fw.err"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
