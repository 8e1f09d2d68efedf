#!/bin/bash
# The nft half of the firewall backend against dockerd's iptables-nft
# layout, in throwaway network namespaces: a "host" namespace with a bridge
# and two "container" namespaces on it (veth pairs), an "outside" namespace
# routed through the host, bridge netfilter on, FORWARD policy DROP as
# dockerd leaves it.  Pings between the containers (bridged) and from a
# container to the outside (routed: out through the "iifname" accept, back
# through the "oifname" one) show that the two accepts per network and
# family fw_itest (firewall/dockeraccept.c) adds or removes really let the traffic
# through or not.  The host's namespace and ruleset are never touched;
# everything is removed on exit, also on failure.
#
#   tests/integration/firewall.sh path/to/fw_itest
#
# Exit status: 0, 1 when a check failed or br_netfilter cannot be loaded,
# 77 (skip) when not root or when bridge netfilter is not available per
# namespace.
set -eu -o pipefail
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

bin=${1:?usage: $0 path/to/fw_itest}
case $bin in /*) ;; *) bin=$(pwd)/$bin ;; esac
if [ ! -x "$bin" ]; then
	echo "$0: $bin is not an executable" >&2
	exit 2
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "$0: skipped, needs root" >&2
	exit 77
fi
for c in ip nft iptables-nft ip6tables-nft; do
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

ID=5f1c0a7e9b2d44c18e3f6a0b7c9d2e4f1a3b5c7d9e0f2a4b6c8d0e1f3a5b7c9d
ID2=a3e900000000000000000000000000000000000000000000000000000000071b
BR=cbt-fwbr0
COMMENT="cbridge:$ID"
run=cbt-fw$$-$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')
ns=$run-h
c1=$run-c1
c2=$run-c2
out=$run-o
made=()
tmp=$(mktemp -d "/tmp/$run.XXXX")
passed=0
failed=0
host_brnf=

cleanup() {
	local n
	for n in "${made[@]}"; do
		ip netns delete "$n" 2>/dev/null || true
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# `ip netns add` fails rather than reuse a name someone else has.
for n in "$ns" "$c1" "$c2" "$out"; do
	if ip netns list | grep -q "^$n\\b" || ! ip netns add "$n"; then
		echo "$0: cannot create network namespace $n" >&2
		exit 1
	fi
	made+=("$n")
done

in_ns() { ip netns exec "$ns" "$@"; }
in_c1() { ip netns exec "$c1" "$@"; }
in_c2() { ip netns exec "$c2" "$@"; }
in_out() { ip netns exec "$out" "$@"; }
fw() { in_ns "$bin" "$@" 2>>"$tmp/fw.err"; }

fails() { ! "$@"; }

# Bridge netfilter: loaded as dockerd loads it (tests/br_netfilter.sh);
# its sysctls are per namespace since Linux 5.3, and only then can the
# test turn them on without touching the host's.
itest_br_netfilter
if ! in_ns test -e /proc/sys/net/bridge/bridge-nf-call-iptables; then
	echo "$0: skipped, the bridge-nf sysctls are not per namespace" \
	    "(Linux before 5.3)" >&2
	exit 77
fi
host_brnf=$(cat /proc/sys/net/bridge/bridge-nf-call-iptables \
    /proc/sys/net/bridge/bridge-nf-call-ip6tables)
kver=$(uname -r)
kmaj=${kver%%.*}
kmin=${kver#*.}
kmin=${kmin%%[!0-9]*}
if [ "$kmaj" -lt 5 ] || { [ "$kmaj" -eq 5 ] && [ "$kmin" -lt 3 ]; }; then
	if [ "$host_brnf" != "$(printf '1\n1')" ]; then
		echo "$0: skipped, bridge-nf sysctls are global before" \
		    "Linux 5.3 and the host's are not 1" >&2
		exit 77
	fi
fi

# The network: bridge in $ns (the gateway), one veth pair per container,
# and an uplink to $out, which routes the containers' subnets back.
in_ns ip link set lo up
in_ns sysctl -q -w net.ipv6.conf.all.disable_ipv6=0
in_ns sysctl -q -w net.ipv4.ip_forward=1
in_ns sysctl -q -w net.ipv6.conf.all.forwarding=1
in_ns ip link add "$BR" type bridge
in_ns ip addr add 10.98.0.1/24 dev "$BR"
in_ns ip addr add fd98::1/64 dev "$BR" nodad
in_ns ip link set "$BR" up
i=2
for c in "$c1" "$c2"; do
	ip netns exec "$c" ip link set lo up
	in_ns ip link add "cbt-fwv$i" type veth peer name eth0 netns "$c"
	in_ns ip link set "cbt-fwv$i" master "$BR" up
	ip netns exec "$c" ip addr add "10.98.0.$i/24" dev eth0
	ip netns exec "$c" ip addr add "fd98::$i/64" dev eth0 nodad
	ip netns exec "$c" ip link set eth0 up
	ip netns exec "$c" ip route add default via 10.98.0.1
	ip netns exec "$c" ip -6 route add default via fd98::1
	i=$((i + 1))
done
in_out ip link set lo up
in_ns ip link add cbt-fwup type veth peer name eth0 netns "$out"
in_ns ip addr add 10.97.0.1/24 dev cbt-fwup
in_ns ip addr add fd97::1/64 dev cbt-fwup nodad
in_ns ip link set cbt-fwup up
in_out ip addr add 10.97.0.2/24 dev eth0
in_out ip addr add fd97::2/64 dev eth0 nodad
in_out ip link set eth0 up
in_out ip route add 10.98.0.0/24 via 10.97.0.1
in_out ip -6 route add fd98::/64 via fd97::1

# Ports take a moment to reach forwarding (STP is off: no delay).
reach4() { in_c1 "${ping[@]}" -4 10.98.0.3 >/dev/null 2>&1; }
reach6() { in_c1 "${ping[@]}" -6 fd98::3 >/dev/null 2>&1; }
out4() { in_c1 "${ping[@]}" -4 10.97.0.2 >/dev/null 2>&1; }
out6() { in_c1 "${ping[@]}" -6 fd97::2 >/dev/null 2>&1; }
for _ in 1 2 3 4 5; do reach4 && break; sleep 0.2; done
for _ in 1 2 3 4 5; do out6 && break; sleep 0.2; done
check "containers reach each other over IPv4 before any rule" reach4
check "containers reach each other over IPv6 before any rule" reach6
check "a container reaches the outside over IPv4 before any rule" out4
check "a container reaches the outside over IPv6 before any rule" out6

# dockerd's layout (iptables-nft), both families, and bridge netfilter on
# in this namespace.
for ipt in iptables-nft ip6tables-nft; do
	in_ns "$ipt" -N DOCKER-USER
	in_ns "$ipt" -A DOCKER-USER -j RETURN
	in_ns "$ipt" -I FORWARD -j DOCKER-USER
	in_ns "$ipt" -P FORWARD DROP
	# Others' rules that must survive: an admin's, and one whose comment
	# only looks like ours.
	in_ns "$ipt" -A FORWARD -i cbt-none -j ACCEPT
	in_ns "$ipt" -I DOCKER-USER -i cbt-admin -j DROP
	in_ns nft add rule "$([ "$ipt" = iptables-nft ] && echo ip || echo ip6)" \
	    filter DOCKER-USER iifname cbt-none accept comment '"cbridge:0"'
done
in_ns sysctl -q -w net.bridge.bridge-nf-call-iptables=1
in_ns sysctl -q -w net.bridge.bridge-nf-call-ip6tables=1
check "FORWARD DROP blocks IPv4 between the containers" fails reach4
check "FORWARD DROP blocks IPv6 between the containers" fails reach6
check "FORWARD DROP blocks IPv4 to the outside" fails out4
check "FORWARD DROP blocks IPv6 to the outside" fails out6

ours() {	# ours FAMILY: how many rules with our comment, all chains
	in_ns nft list table "$1" filter | grep -c "comment \"$COMMENT\"" || true
}
# Our two rules as iptables-save prints them, in chain $2 (DOCKER-USER).
rule_in() { echo "-A ${2:-DOCKER-USER} -i $1 -m comment --comment \"$COMMENT\" -j ACCEPT"; }
rule_out() { echo "-A ${2:-DOCKER-USER} -o $1 -m comment --comment \"$COMMENT\" -j ACCEPT"; }
# The line numbers in `iptables -S DOCKER-USER` of our two rules and of
# dockerd's return, as "IN OUT RETURN".
order() {
	local s i o x
	s=$(in_ns "$1" -S DOCKER-USER)
	i=$(grep -n -x -e "$(rule_in "$BR")" <<<"$s" | cut -d: -f1)
	o=$(grep -n -x -e "$(rule_out "$BR")" <<<"$s" | cut -d: -f1)
	x=$(grep -n -x -e "-A DOCKER-USER -j RETURN" <<<"$s" | cut -d: -f1)
	echo "${i:-none} ${o:-none} ${x:-none}"
}
before_return() {
	local i o x
	read -r i o x <<<"$(order "$1")"
	[ "$i" != none ] && [ "$o" != none ] && [ "$x" != none ] &&
	    [ "$i" -lt "$x" ] && [ "$o" -lt "$x" ]
}
# Handle of our rule matching "iifname"/"oifname" ($2) in family $1's
# DOCKER-USER.
handle_of() {
	in_ns nft -a list chain "$1" filter DOCKER-USER |
	    sed -n "s/.*$2 \"$BR\" .*comment \"$COMMENT\" # handle \([0-9]*\)$/\1/p"
}
others_intact() {
	local fam du fwd
	# Captured first: grep -q closing the pipe early would fail it under
	# pipefail.
	for fam in ip ip6; do
		du=$(in_ns nft list chain "$fam" filter DOCKER-USER)
		fwd=$(in_ns nft list chain "$fam" filter FORWARD)
		grep -q 'comment "cbridge:0"' <<<"$du" || return 1
		grep -q -x '[[:space:]]*counter packets [0-9]* bytes [0-9]* return' \
		    <<<"$du" || return 1
		grep -q 'jump DOCKER-USER' <<<"$fwd" || return 1
		grep -q 'iifname "cbt-none"' <<<"$fwd" || return 1
	done
}
snapshot() { in_ns nft -a -s list ruleset; }

check "sync adds the accepts" fw "$ID:$BR"
check "IPv4 between the containers works after sync" reach4
check "IPv6 between the containers works after sync" reach6
check "IPv4 to the outside and back works after sync" out4
check "IPv6 to the outside and back works after sync" out6
check "iptables-nft shows both rules, with their comment, before RETURN" \
    before_return iptables-nft
admin_first() {
	local s
	s=$(in_ns "$1" -S DOCKER-USER)
	[ "$(sed -n 2p <<<"$s")" = "-A DOCKER-USER -i cbt-admin -j DROP" ]
}
check "an admin's rule at the top of DOCKER-USER stays above ours" \
    admin_first iptables-nft
check "ip6tables-nft shows both rules, with their comment, before RETURN" \
    before_return ip6tables-nft
check "two rules per family" test "$(ours ip) $(ours ip6)" = "2 2"

snapshot >"$tmp/before"
check "sync again succeeds" fw "$ID:$BR"
snapshot >"$tmp/after"
check "sync again changes nothing (same rules, same handles)" \
    cmp -s "$tmp/before" "$tmp/after"

# Each accept is needed: without "oifname" the replies from outside are
# dropped, without "iifname" the requests; traffic inside the bridge
# matches both, so it still goes through either alone.
in_ns nft delete rule ip filter DOCKER-USER handle "$(handle_of ip oifname)"
check "without the oifname accept IPv4 to the outside fails" fails out4
check "... IPv4 inside the bridge still works" reach4
check "sync restores the oifname accept" fw "$ID:$BR"
check "... and IPv4 to the outside works again" out4
in_ns nft delete rule ip6 filter DOCKER-USER handle "$(handle_of ip6 iifname)"
check "without the iifname accept IPv6 to the outside fails" fails out6
check "... IPv6 inside the bridge still works" reach6
check "sync restores the iifname accept" fw "$ID:$BR"
check "... and IPv6 to the outside works again" out6
check "... still two rules per family" test "$(ours ip) $(ours ip6)" = "2 2"

# Changes made by others between two syncs of one backend (one libnftables
# context, as in the daemon) are seen.
h=$(handle_of ip iifname)
check "a rule deleted by someone else comes back on the next sync" \
    fw -a "nft delete rule ip filter DOCKER-USER handle $h" "$ID:$BR"
check "... once" test "$(ours ip) $(ours ip6)" = "2 2"
check "DOCKER-USER flushed and rebuilt behind its back: restored" \
    fw -a "iptables-nft -F DOCKER-USER && iptables-nft -A DOCKER-USER -j RETURN && ip6tables-nft -F DOCKER-USER && ip6tables-nft -A DOCKER-USER -j RETURN" "$ID:$BR"
check "... before RETURN, in both families" \
    eval 'before_return iptables-nft && before_return ip6tables-nft'
check "... two rules per family" test "$(ours ip) $(ours ip6)" = "2 2"
check "... and traffic flows" eval 'reach4 && out4 && out6'
# The flush took others' rules too: put them back for the checks below.
for fam in ip ip6; do
	in_ns nft insert rule "$fam" filter DOCKER-USER iifname cbt-admin drop
	in_ns nft add rule "$fam" filter DOCKER-USER iifname cbt-none accept \
	    comment '"cbridge:0"'
done
check "a duplicate added by someone else goes on the next sync" \
    fw -a "nft add rule ip6 filter DOCKER-USER oifname $BR counter accept comment '\"$COMMENT\"'" "$ID:$BR"
check "... and one stays" test "$(ours ip) $(ours ip6)" = "2 2"
check "IPv6 still works" reach6

# What an earlier cbridge wrote (one accept inside the bridge), or a rule
# of ours someone edited, is replaced.
in_ns nft add rule ip filter DOCKER-USER iifname "$BR" oifname "$BR" \
    counter accept comment "\"$COMMENT\""
in_ns nft insert rule ip6 filter DOCKER-USER iifname "$BR" drop \
    comment "\"$COMMENT\""
check "an earlier version's rule and an edited rule: sync succeeds" \
    fw "$ID:$BR"
check "... both are gone" fails in_ns sh -c \
    "nft list ruleset | grep -e 'oifname \"$BR\" .*iifname\|iifname \"$BR\" oifname' -e 'drop comment \"$COMMENT\"'"
check "... two rules per family" test "$(ours ip) $(ours ip6)" = "2 2"
check "... and IPv6 inside the bridge works" reach6

# Invalid input reaches no command and changes nothing.
snapshot >"$tmp/before"
check "a bridge name with a quote is refused" fails fw "$ID:cbt\"x"
check "a bridge name with a wildcard is refused" fails fw "$ID:cbt*"
snapshot >"$tmp/after"
check "... and the ruleset is unchanged" cmp -s "$tmp/before" "$tmp/after"

check "a second network is added beside the first" fw "$ID:$BR" "$ID2:cbt-fwbr9:4"
check "... in IPv4 only, both rules" \
    test "$(in_ns nft list ruleset | grep -c "cbridge:$ID2")" = 2
# The legacy tables filter by icc and internal; nft must only not drop.
check "the second network goes again" fw "$ID:$BR"
snapshot >"$tmp/before"
check "icc off and internal: sync succeeds" fw "$ID:$BR:46ni"
snapshot >"$tmp/after"
check "icc off and internal: the accepts stay as they were" \
    cmp -s "$tmp/before" "$tmp/after"
check "icc off and internal: nft lets the traffic through" reach4

check "sync with no networks succeeds" fw
check "no rule of ours is left" \
    fails in_ns sh -c "nft list ruleset | grep -q 'comment \"cbridge:[0-9a-f]\\{64\\}\"'"
check "dockerd's RETURN and jumps and others' rules are still there" \
    others_intact
check "without our rules the containers are cut off again" fails reach4
check "without our rules the outside is cut off again" fails out4

# A layout with FORWARD only (no DOCKER-USER): the rule goes there.
for ipt in iptables-nft ip6tables-nft; do
	in_ns "$ipt" -D FORWARD -j DOCKER-USER
	in_ns "$ipt" -F DOCKER-USER
	in_ns "$ipt" -X DOCKER-USER
done
check "FORWARD only: sync succeeds" fw "$ID:$BR"
in_forward() {
	local s
	s=$(in_ns "$1" -S FORWARD)
	grep -q -x -e "$(rule_in "$BR" FORWARD)" <<<"$s" &&
	    grep -q -x -e "$(rule_out "$BR" FORWARD)" <<<"$s"
}
check "FORWARD only: both rules are in FORWARD, both families" \
    eval 'in_forward iptables-nft && in_forward ip6tables-nft'
check "FORWARD only: IPv4 works" reach4
check "FORWARD only: IPv6 works" reach6
check "FORWARD only: the outside works" eval 'out4 && out6'

check "FORWARD only: the admin's rule is still there" \
    in_ns sh -c "iptables-nft -S FORWARD | grep -q -e '-i cbt-none'"
# dockerd (re)creates DOCKER-USER: the rule moves there.
for ipt in iptables-nft ip6tables-nft; do
	in_ns "$ipt" -N DOCKER-USER
	in_ns "$ipt" -A DOCKER-USER -j RETURN
	in_ns "$ipt" -I FORWARD -j DOCKER-USER
done
check "DOCKER-USER back: sync succeeds" fw "$ID:$BR"
check "DOCKER-USER back: the rules left FORWARD" \
    fails in_ns sh -c "iptables-nft -S FORWARD | grep -q cbridge"
check "DOCKER-USER back: the rules are in DOCKER-USER before RETURN" \
    before_return iptables-nft
check "DOCKER-USER back: IPv4 works" reach4
check "DOCKER-USER back: two rules per family" \
    test "$(ours ip) $(ours ip6)" = "2 2"

# Where dockerd made no tables, nothing is created.
check "no filter table: sync succeeds" in_c1 "$bin" "$ID:$BR"
check "no filter table: still no table" \
    test -z "$(in_c1 nft list tables)"

check "the host's bridge-nf sysctls are unchanged" test "$host_brnf" = \
    "$(cat /proc/sys/net/bridge/bridge-nf-call-iptables \
    /proc/sys/net/bridge/bridge-nf-call-ip6tables)"

if [ -s "$tmp/fw.err" ]; then
	echo "# fw_itest said:"
	sed 's/^/#   /' "$tmp/fw.err"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
