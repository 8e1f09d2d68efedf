#!/bin/sh
# Runs the DNS responder loop's integration test (dns_srv_itest) with two
# throwaway network namespaces: a "host" one where the test process and
# its fake upstreams (127.0.0.x) live, and a "sandbox" one with lo up and
# 169.254.53.53/32 on lo, where the server's sockets are bound and the
# test's clients sit.  Both are removed afterwards, also on failure.
# Nothing reaches the machine's resolver or any outside address.
#
#   tests/integration/dns_server.sh path/to/dns_srv_itest
#
# ITEST_NS_PREFIX (default "cbd") starts the namespaces' names, so that
# runs side by side on one machine can tell theirs apart.
#
# Exit status: the test's; 77 (skip) when not root.
set -eu

# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
itest_bin path/to/dns_srv_itest "$@"

# Names no one else uses; `ip netns add` fails rather than reuse one.
newns() {
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		cand=$1-$$-$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')
		if ! ip netns list | grep -q "^$cand\\b" &&
		    ip netns add "$cand" 2>/dev/null; then
			echo "$cand"
			return 0
		fi
	done
	echo "$0: cannot create a network namespace" >&2
	return 1
}

host=
sandbox=
cleanup() {
	[ -z "$host" ] || ip netns delete "$host" 2>/dev/null || true
	[ -z "$sandbox" ] || ip netns delete "$sandbox" 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

prefix=${ITEST_NS_PREFIX:-cbd}
host=$(newns "${prefix}h")
sandbox=$(newns "${prefix}s")
ip netns exec "$host" ip link set lo up
ip netns exec "$sandbox" ip link set lo up
ip netns exec "$sandbox" ip addr add 169.254.53.53/32 dev lo
ip netns exec "$host" "$bin" "/run/netns/$sandbox"
