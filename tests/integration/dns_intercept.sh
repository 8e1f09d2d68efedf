#!/bin/bash
# The 127.0.0.11 redirect (firewall/dnsintercept.h, through dnsi_itest) in
# throwaway namespaces, against Docker's embedded-DNS NAT rules written
# three ways, one namespace each:
#
#   nft     iptables-nft: dockerd 20.10's rules in nat OUTPUT/POSTROUTING
#   legacy  iptables-legacy: the same rules in the legacy tables
#   d29     an nftables table like Docker 29's "docker-dns" (nat output
#           hook at priority -100 doing the DNAT, postrouting the SNAT)
#
# In each, a fake "dockerd resolver" (tests/integration/dnsi_dns.pl) binds
# UDP and TCP to 127.0.0.11 at ports the kernel picks and answers every A
# query with 192.0.2.11; "cbridge's responder", the same tool on
# 169.254.53.53:53 (on lo), answers 192.0.2.53.  The client is that tool
# too: one query, printing the answer and the address the reply came from.
# A fourth namespace has only a responder on 169.254.53.53, then two fake
# resolvers, for the resolver lookup's -ENOENT and ambiguity.
#
# Proven in each: the resolver lookup finds the fake's ports; before the
# redirect, queries to 127.0.0.11:53 (UDP, TCP) reach the fake; after it,
# ours, replies still from 127.0.0.11:53, also for a UDP client that
# reuses its source port (the conntrack flush) and a TCP one (no flush
# needed); check says ok; a second apply leaves one table; check sees
# drift (a rule added, a chain added, the rules flushed) and apply repairs
# it; after remove, queries reach the fake again (the reused port too);
# Docker's rules (every table but ours, nft and legacy) are the same
# before, during and after, counters aside.  Everything happens in
# namespaces named cbdnsi-*, removed on exit; no traffic leaves them.
#
#   tests/integration/dns_intercept.sh path/to/dnsi_itest
#
# Exit status: 0 when every check passed, 1 otherwise, 77 (skip) when not
# root.
set -eu -o pipefail
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
itest_bin path/to/dnsi_itest "$@"
for t in perl nft iptables-nft iptables-legacy iptables-legacy-save; do
	if ! command -v "$t" >/dev/null; then
		echo "$0: needs $t (apt-get install nftables iptables)" >&2
		exit 1
	fi
done

pl=$(cd "$(dirname "$0")" && pwd)/dnsi_dns.pl
run=cbdnsi-$$-$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')
VARIANTS="nft legacy d29"
NONE=$run-none
tmp=$(mktemp -d "/tmp/$run.XXXX")
pids=
made=
passed=0
failed=0
DNS=169.254.53.53
DOCKER=127.0.0.11
ANS_DOCKER=192.0.2.11
ANS_OURS=192.0.2.53
SPORT=45353	# the UDP client that keeps its source port
TSPORT=45354	# the TCP client that does

cleanup() {
	# shellcheck disable=SC2086
	[ -z "$pids" ] || teardown_procs $pids
	for n in $made; do
		ip netns delete "$n" 2>/dev/null || true
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# expect DESCRIPTION GOT WANT: ok when GOT is WANT, else shows both.
expect() {
	if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1 (got '$2', want '$3')"; fi
}

# newns NAME: a namespace with lo up and $DNS on lo.
newns() {
	ip netns add "$1"
	made="$made $1"
	ip -n "$1" link set lo up
	ip -n "$1" addr add "$DNS/32" dev lo
}

# serve NS ADDR PORT ANSWER OUT: a server in NS, its "udp=P tcp=P" line
# in OUT; fails when it is not up within 5 s.
serve() {
	# Not through a function: $! must be the server (ip execs perl).
	ip netns exec "$1" perl "$pl" serve "$2" "$3" "$3" "$4" >"$5" 2>&1 &
	pids="$pids $!"
	for _ in $(seq 50); do
		grep -q '^udp=' "$5" && return 0
		sleep 0.1
	done
	echo "server in $1 on $2 did not start:"; cat "$5"
	return 1
}

# q NS udp|tcp [SPORT]: one query to 127.0.0.11:53 from NS; its output
# ("A ADDR from ADDR:PORT", or why not).
q() {
	ip netns exec "$1" perl "$pl" query "$2" "$DOCKER" 53 \
	    "q$RANDOM.test" "${3:-0}" 2 2>&1 || true
}

# docker_rules NS VARIANT UDPPORT TCPPORT: what dockerd writes.
docker_rules() {
	local ipt
	case $2 in
	nft|legacy)
		ipt=iptables-$2
		ip netns exec "$1" sh -e -c "
		$ipt -t nat -N DOCKER_OUTPUT
		$ipt -t nat -N DOCKER_POSTROUTING
		$ipt -t nat -I OUTPUT -d $DOCKER -j DOCKER_OUTPUT
		$ipt -t nat -I POSTROUTING -d $DOCKER -j DOCKER_POSTROUTING
		$ipt -t nat -I DOCKER_OUTPUT -d $DOCKER -p udp --dport 53 -j DNAT --to-destination $DOCKER:$3
		$ipt -t nat -I DOCKER_POSTROUTING -s $DOCKER -p udp --sport $3 -j SNAT --to-source :53
		$ipt -t nat -I DOCKER_OUTPUT -d $DOCKER -p tcp --dport 53 -j DNAT --to-destination $DOCKER:$4
		$ipt -t nat -I DOCKER_POSTROUTING -s $DOCKER -p tcp --sport $4 -j SNAT --to-source :53"
		;;
	d29)
		ip netns exec "$1" nft -f - <<-EOF
		table ip docker-dns {
			chain dns-dnat {
				type nat hook output priority -100; policy accept;
				ip daddr $DOCKER udp dport 53 counter dnat to $DOCKER:$3
				ip daddr $DOCKER tcp dport 53 counter dnat to $DOCKER:$4
			}
			chain dns-snat {
				type nat hook postrouting priority srcnat; policy accept;
				ip saddr $DOCKER udp sport $3 counter snat to :53
				ip saddr $DOCKER tcp sport $4 counter snat to :53
			}
		}
		EOF
		;;
	esac
}

# snap NS: every rule in NS but cbridge's table, nft and legacy, without
# counters (they count the queries of the test).
snap() {
	{
		# nft warns (stderr) that iptables-nft's tables are not its.
		ip netns exec "$1" nft list ruleset 2>/dev/null |
		    awk '/^table ip cbridge-dns /{s=1} !s{print} s&&/^}/{s=0}'
		ip netns exec "$1" iptables-legacy-save | { grep -v '^#' || true; }
	} | sed -E 's/\[[0-9]+:[0-9]+\]/[-]/; s/packets [0-9]+ bytes [0-9]+/packets - bytes -/'
}

itest() { "$bin" "$@" 2>&1 || true; }
tables() { ip netns exec "$1" nft list tables | grep -c "^table ip cbridge-dns$" || true; }

for v in $VARIANTS; do
	ns=$run-$v
	key=/run/netns/$ns
	echo "# $v: Docker's rules with $([ "$v" = d29 ] && echo "an nft table (Docker 29)" || echo "iptables-$v")"
	newns "$ns"
	serve "$ns" "$DOCKER" 0 "$ANS_DOCKER" "$tmp/$v.docker"
	serve "$ns" "$DNS" 53 "$ANS_OURS" "$tmp/$v.ours"
	read -r u t <"$tmp/$v.docker"
	u=${u#udp=}
	t=${t#tcp=}
	docker_rules "$ns" "$v" "$u" "$t"
	before=$(snap "$ns")
	docker_ans="A $ANS_DOCKER from $DOCKER:53"
	ours_ans="A $ANS_OURS from $DOCKER:53"

	expect "$v: resolver finds the fake's ports" "$(itest resolver "$key")" \
	    "udp=$DOCKER:$u tcp=$DOCKER:$t"
	expect "$v: before: UDP answered by Docker's" "$(q "$ns" udp)" "$docker_ans"
	expect "$v: before: TCP answered by Docker's" "$(q "$ns" tcp)" "$docker_ans"
	expect "$v: before: UDP from port $SPORT answered by Docker's" \
	    "$(q "$ns" udp "$SPORT")" "$docker_ans"
	expect "$v: before: TCP from port $TSPORT answered by Docker's" \
	    "$(q "$ns" tcp "$TSPORT")" "$docker_ans"
	expect "$v: before: check says absent" "$(itest check "$key" "$DNS")" absent

	r=$(itest apply "$key" "$DNS")
	check "$v: apply ($r)" test "${r% in *}" = applied
	expect "$v: check says ok" "$(itest check "$key" "$DNS")" ok
	expect "$v: check for another address says drifted" \
	    "$(itest check "$key" 169.254.53.54)" drifted
	expect "$v: after: UDP answered by ours" "$(q "$ns" udp)" "$ours_ans"
	expect "$v: after: TCP answered by ours" "$(q "$ns" tcp)" "$ours_ans"
	expect "$v: after: UDP from the same port $SPORT answered by ours (conntrack flushed)" \
	    "$(q "$ns" udp "$SPORT")" "$ours_ans"
	# No flush for TCP: a SYN on a closed flow's entry starts a new one.
	expect "$v: after: TCP from the same port $TSPORT answered by ours" \
	    "$(q "$ns" tcp "$TSPORT")" "$ours_ans"
	expect "$v: Docker's rules unchanged by apply" "$(snap "$ns")" "$before"
	expect "$v: the resolver lookup still finds the fake" \
	    "$(itest resolver "$key")" "udp=$DOCKER:$u tcp=$DOCKER:$t"

	r=$(itest apply "$key" "$DNS")
	check "$v: apply again ($r)" test "${r% in *}" = applied
	expect "$v: one table" "$(tables "$ns")" 1
	expect "$v: check says ok" "$(itest check "$key" "$DNS")" ok

	# Drift, three ways, each repaired by apply.
	for d in "add rule ip cbridge-dns dns-redirect udp dport 54 accept" \
	    "add chain ip cbridge-dns extra" \
	    "flush chain ip cbridge-dns dns-redirect"; do
		ip netns exec "$ns" nft "$d"
		expect "$v: after '$d': check says drifted" \
		    "$(itest check "$key" "$DNS")" drifted
		r=$(itest apply "$key" "$DNS")
		check "$v: apply repairs it ($r)" test "${r% in *}" = applied
		expect "$v: check says ok" "$(itest check "$key" "$DNS")" ok
	done
	expect "$v: repaired: UDP answered by ours" "$(q "$ns" udp)" "$ours_ans"
	expect "$v: repaired: TCP answered by ours" "$(q "$ns" tcp)" "$ours_ans"
	# The flow remove has to move back (the applies above flushed it).
	expect "$v: repaired: UDP from port $SPORT answered by ours" \
	    "$(q "$ns" udp "$SPORT")" "$ours_ans"
	expect "$v: one table" "$(tables "$ns")" 1
	expect "$v: Docker's rules unchanged" "$(snap "$ns")" "$before"
	if [ "$v" = nft ]; then
		expect "$v: a libnftables context sees the namespace it was made in" \
		    "$(itest ctxns "$key")" "early=absent late=present"
	fi

	r=$(itest remove "$key")
	check "$v: remove ($r)" test "${r% in *}" = removed
	expect "$v: check says absent" "$(itest check "$key" "$DNS")" absent
	expect "$v: no table" "$(tables "$ns")" 0
	expect "$v: removed: UDP answered by Docker's" "$(q "$ns" udp)" "$docker_ans"
	expect "$v: removed: TCP answered by Docker's" "$(q "$ns" tcp)" "$docker_ans"
	expect "$v: removed: UDP from the same port $SPORT answered by Docker's" \
	    "$(q "$ns" udp "$SPORT")" "$docker_ans"
	r=$(itest remove "$key")
	check "$v: remove again, nothing there ($r)" test "${r% in *}" = removed
	expect "$v: Docker's rules unchanged by remove" "$(snap "$ns")" "$before"
done

echo "# a namespace without dockerd's resolver"
newns "$NONE"
serve "$NONE" "$DNS" 53 "$ANS_OURS" "$tmp/none.ours"
r=$("$bin" resolver "/run/netns/$NONE" 2>&1) && rc=0 || rc=$?
check "resolver: none, exit 3 ($r)" test "$rc" = 3
check "resolver: the message says what is missing" \
    grep -q "no UDP socket bound to $DOCKER" <<<"$r"
serve "$NONE" "$DOCKER" 0 "$ANS_DOCKER" "$tmp/none.d1"
serve "$NONE" "$DOCKER" 0 "$ANS_DOCKER" "$tmp/none.d2"
r=$("$bin" resolver "/run/netns/$NONE" 2>&1) && rc=0 || rc=$?
check "resolver: two of them, exit 1 ($r)" test "$rc" = 1
check "resolver: the message counts them" \
    grep -q "2 UDP sockets bound to $DOCKER" <<<"$r"
r=$("$bin" apply "/proc/self/ns/net" "$DNS" 2>&1) && rc=0 || rc=$?
check "dnsi_itest refuses its own namespace (exit $rc)" test "$rc" = 2

echo "# $passed passed, $failed failed"
[ "$failed" -eq 0 ]
