#!/bin/sh
# Runs the host-port and conntrack integration test (ports_itest) inside a
# throwaway network namespace and removes the namespace afterwards, also on
# failure.  The host's namespace, ports and conntrack table are never
# touched.
#
#   tests/integration/ports.sh path/to/ports_itest
#
# Exit status: the test's; 77 (skip) when not root or nft is missing.
set -eu

# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
itest_bin path/to/ports_itest "$@"
if ! command -v nft >/dev/null; then
	echo "$0: skipped, nft is missing" >&2
	exit 77
fi

itest_netns cbpt

in_ns() {
	ip netns exec "$ns" "$@"
}

in_ns ip link set lo up
in_ns sysctl -q -w net.ipv6.conf.lo.disable_ipv6=0 2>/dev/null || true
# Conntrack tracks a namespace's traffic only once a rule there needs it:
# this table's ct rules do, for IPv4 and IPv6.  The raw-priority chain puts
# UDP to 40210 (ZONE_PORT in ports_itest.c) in zone 5, so that the test
# sees entries outside the default zone deleted too.
in_ns nft -f - <<'NFT'
table inet cbpt {
	chain raw {
		type filter hook output priority raw; policy accept;
		udp dport 40210 ct zone set 5
	}
	chain out {
		type filter hook output priority filter; policy accept;
		ct state new counter accept
	}
}
NFT

in_ns "$bin"
