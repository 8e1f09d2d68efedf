#!/bin/sh
# Runs the netlink backend's integration test (lnk_itest) inside a
# throwaway network namespace and removes the namespace afterwards, also on
# failure; then veth.sh, the reachability test.  The host's namespace is
# never touched.
#
#   tests/integration/netlink.sh path/to/lnk_itest
#
# Exit status: the test's; 77 (skip) when not root.
set -eu

# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
itest_bin path/to/lnk_itest "$@"

itest_netns cbt-lnk

in_ns() {
	ip netns exec "$ns" "$@"
}

# What lnk_itest.c expects: a non-bridge link cbt-other0 with routes on it
# (see the constants at the top of lnk_itest.c).  dummy is not built into
# every kernel; a veth pair does as well.
in_ns ip link set lo up
if ! in_ns ip link add cbt-other0 type dummy 2>/dev/null; then
	in_ns ip link add cbt-other0 type veth peer name cbt-other1
	in_ns ip link set cbt-other1 up
fi
in_ns ip link set cbt-other0 up
in_ns ip addr add 10.98.0.1/24 dev cbt-other0
in_ns ip route add 10.99.0.0/16 dev cbt-other0
in_ns ip route add 10.97.0.0/16 dev cbt-other0 table 100
in_ns ip route add default dev cbt-other0
in_ns ip -6 route add 2001:db8:99::/48 dev cbt-other0
in_ns ip -6 route add default dev cbt-other0
# New links start without IPv6, so that the test sees bridge_create turn it
# on (and fail to add an IPv6 address when not asked to).
in_ns sysctl -q -w net.ipv6.conf.default.disable_ipv6=1

rc=0
in_ns "$bin" || rc=$?
# Then reachability through veth pairs, in namespaces of its own.
r=0
"$(dirname "$0")/veth.sh" "$bin" || r=$?
[ "$rc" -ne 0 ] || rc=$r
exit "$rc"
