#!/bin/sh
# Loads br_netfilter, which the integration and end-to-end tests need:
# cbridge turns on net.bridge.bridge-nf-call-iptables (traffic between
# two ports of a bridge must cross iptables, for ICC off and hairpin NAT)
# and fails without it, and the tests check the sysctls in their
# namespaces.  The tests load it themselves, at their start, rather than
# depend on a dockerd having done it: dockerd with iptables on runs
# `modprobe br_netfilter` when /proc/sys/net/bridge is missing, and the
# end-to-end run's dockerd doing so halfway would change the host's
# sysctls under the check that they are left as they were.
#
# Loading it turns bridge-nf-call-iptables on in every namespace, the
# host's included (1 is the default), as dockerd does; it stays loaded.
# Nothing to do when it is loaded or built in.
#
#   tests/br_netfilter.sh        exit 0, or 1 with a message
set -eu

f=/proc/sys/net/bridge/bridge-nf-call-iptables
[ -e "$f" ] && exit 0
if ! command -v modprobe >/dev/null 2>&1; then
	echo "$0: br_netfilter is not loaded and there is no modprobe" \
	    "(scripts/deps.sh e2e installs kmod)" >&2
	exit 1
fi
if ! out=$(modprobe br_netfilter 2>&1); then
	echo "$0: cannot load br_netfilter, which the tests need" \
	    "($f): modprobe br_netfilter: $out" >&2
	exit 1
fi
if [ ! -e "$f" ]; then
	echo "$0: modprobe br_netfilter succeeded but $f is missing" >&2
	exit 1
fi
echo "# loaded br_netfilter"
