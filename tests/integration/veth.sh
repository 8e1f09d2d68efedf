#!/bin/sh
# eval takes single-quoted command strings on purpose.
# shellcheck disable=SC2016
# Reachability through the real netlink backend, the way dockerd uses an
# endpoint: lnk_itest's helper modes make a bridge (10.99.0.1/24) and two
# veth pairs in a throwaway "host" namespace; like dockerd, the script
# moves each peer into its own "container" namespace, renames it eth0 and
# configures it there; then both containers ping each other and the
# bridge.  Finally veth_delete removes an endpoint whose peer is still in
# its container, and one whose container is already gone.
#
#   tests/integration/veth.sh path/to/lnk_itest
#
# All namespaces are the script's own and are deleted on exit, also on
# failure; the host's namespace is never touched.  Exit status: 0 if every
# check passed, 1 if not, 77 (skip) when not root.
set -eu

# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
itest_bin path/to/lnk_itest "$@"

made=
cleanup() {
	for n in $made; do
		ip netns delete "$n" 2>/dev/null || true
	done
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Creates a namespace no one else uses (`ip netns add` fails rather than
# reuse one) and sets $ns to its name.
mkns() {
	ns=
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		cand=cbt-$1-$$-$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')
		if ip netns add "$cand" 2>/dev/null; then
			ns=$cand
			made="$made $cand"
			return 0
		fi
	done
	echo "$0: cannot create a network namespace" >&2
	exit 1
}

mkns vh; H=$ns		# the "host" with the bridge
mkns c1; C1=$ns		# two "containers"
mkns c2; C2=$ns

BR=cbt-br9
MTU=1450

n=0
failed=0
check() {
	desc=$1
	shift
	n=$((n + 1))
	if "$@"; then
		echo "ok $n - $desc"
	else
		echo "not ok $n - $desc"
		failed=$((failed + 1))
	fi
}

in_h() { ip netns exec "$H" "$@"; }
link_absent() { ! ip -n "$1" link show "$2" >/dev/null 2>&1; }

# What dockerd does with the peer after CreateEndpoint and Join.
container() {	# ns peer address
	ip -n "$H" link set "$2" netns "$1" &&
	    ip -n "$1" link set lo up &&
	    ip -n "$1" link set "$2" name eth0 &&
	    ip -n "$1" addr add "$3/24" dev eth0 &&
	    ip -n "$1" link set eth0 up &&
	    ip -n "$1" route add default via 10.99.0.1
}

mtu_is() {	# ns ifname mtu
	[ "$(ip netns exec "$1" cat "/sys/class/net/$2/mtu")" = "$3" ]
}

ping_from() {	# ns address
	ip netns exec "$1" "$bin" ping "$2"
}

# Waits up to 5 s for a link to go (a deleted namespace's links go
# asynchronously).
wait_absent() {	# ns ifname
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		link_absent "$1" "$2" && return 0
		sleep 0.5
	done
	return 1
}

ip -n "$H" link set lo up
check "bridge_create $BR 10.99.0.1/24 MTU $MTU" in_h "$bin" bridge "$BR" \
    10.99.0.1/24 "$MTU"
check "veth_create cbt-vh1/cbt-vp1 on $BR" in_h "$bin" veth "$BR" \
    cbt-vh1 cbt-vp1
check "veth_create cbt-vh2/cbt-vp2 on $BR" in_h "$bin" veth "$BR" \
    cbt-vh2 cbt-vp2
check "container 1: peer moved in, renamed eth0, 10.99.0.2/24, up" \
    container "$C1" cbt-vp1 10.99.0.2
check "container 2: peer moved in, renamed eth0, 10.99.0.3/24, up" \
    container "$C2" cbt-vp2 10.99.0.3
check "eth0 in both containers has the bridge's MTU $MTU" \
    eval 'mtu_is "$C1" eth0 "$MTU" && mtu_is "$C2" eth0 "$MTU"'

before=$failed
check "container 1 reaches container 2 (10.99.0.3)" ping_from "$C1" 10.99.0.3
check "container 2 reaches container 1 (10.99.0.2)" ping_from "$C2" 10.99.0.2
check "container 1 reaches the bridge (10.99.0.1)" ping_from "$C1" 10.99.0.1
check "container 2 reaches the bridge (10.99.0.1)" ping_from "$C2" 10.99.0.1
check "the host reaches container 1 (10.99.0.2)" ping_from "$H" 10.99.0.2
check "no reply from an address no one has (10.99.0.99)" \
    eval '! ping_from "$C1" 10.99.0.99'
if [ "$failed" -ne "$before" ]; then
	echo "# host:"
	ip -n "$H" -br link | sed 's/^/#   /'
	ip -n "$H" -br addr | sed 's/^/#   /'
	echo "#   bridge-nf-call-iptables=$(in_h cat \
	    /proc/sys/net/bridge/bridge-nf-call-iptables 2>/dev/null || echo -)"
	for c in "$C1" "$C2"; do
		echo "# $c:"
		ip -n "$c" -br addr | sed 's/^/#   /'
		ip -n "$c" route | sed 's/^/#   /'
	done
fi

# Endpoint 1: the peer is still in its container.
check "veth_delete cbt-vh1/cbt-vp1 with the peer in container 1" \
    in_h "$bin" unveth cbt-vh1 cbt-vp1
check "both ends are gone, eth0 too" \
    eval 'link_absent "$H" cbt-vh1 && link_absent "$C1" eth0'
# Endpoint 2: the container went first, and the pair with it.
ip netns delete "$C2"
check "deleting container 2 removed cbt-vh2" wait_absent "$H" cbt-vh2
check "veth_delete cbt-vh2/cbt-vp2 with neither end left is 0" \
    in_h "$bin" unveth cbt-vh2 cbt-vp2
check "bridge_delete $BR" eval 'in_h "$bin" unbridge "$BR" &&
    link_absent "$H" "$BR"'

echo "$((n - failed)) passed, $failed failed"
[ "$failed" -eq 0 ]
