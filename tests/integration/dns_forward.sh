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

# A name no one else uses; `ip netns add` fails rather than reuse one.
ns=
for _ in 1 2 3 4 5 6 7 8 9 10; do
	cand=cbdf-$$-$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')
	if ! ip netns list | grep -q "^$cand\\b" &&
	    ip netns add "$cand" 2>/dev/null; then
		ns=$cand
		break
	fi
done
if [ -z "$ns" ]; then
	echo "$0: cannot create a network namespace" >&2
	exit 1
fi
trap 'ip netns delete "$ns" 2>/dev/null || true' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

ip netns exec "$ns" ip link set lo up
ip netns exec "$ns" "$bin"
