#!/bin/sh
# Runs the DNS forwarder's integration test (dns_fwd_itest) inside a
# throwaway network namespace with only loopback up, and removes the
# namespace afterwards, also on failure.  The fake upstreams live on
# 127.0.0.x inside that namespace: nothing reaches the machine's resolver
# or any outside address.
#
#   tests/integration/dns_forward.sh path/to/dns_fwd_itest
#
# Exit status: the test's; 77 (skip) when not root.
set -eu

# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
itest_bin path/to/dns_fwd_itest "$@"

itest_netns cbdf

ip netns exec "$ns" ip link set lo up
ip netns exec "$ns" "$bin"
