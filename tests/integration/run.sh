#!/bin/sh
# Namespace integration tests: the netlink backend, the firewall backends
# (nft accepts, the libiptc rule model, host ports and conntrack), the DNS
# forwarder against fake upstreams, the DNS responder loop in a sandbox
# namespace, the Docker Engine API client against a fake engine, then the
# daemon over its socket, and the DNS responders through the daemon with
# dnsmasq upstreams, and those responders while the daemon waits for the
# xtables lock or creates and deletes networks (with tests/bench's
# dns_probe), and the redirect of a sandbox's 127.0.0.11:53 to cbridge's
# responder.  Each script makes and removes its own namespaces.
#
#   tests/integration/run.sh path/to/cbridge path/to/lnk_itest \
#       path/to/fw_itest path/to/iptc_itest path/to/ports_itest \
#       path/to/dns_fwd_itest path/to/dns_srv_itest path/to/engine_itest \
#       path/to/dns_probe path/to/dnsi_itest
set -eu

here=$(dirname "$0")
"$here/netlink.sh" "$2"
"$here/firewall.sh" "$3"
"$here/iptables.sh" "$4"
"$here/ports.sh" "$5"
"$here/dns_forward.sh" "$6"
"$here/dns_server.sh" "$7"
"$here/engine.sh" "$8"
"$here/daemon.sh" "$1"
"$here/dns_daemon.sh" "$1"
"$here/dns_lock.sh" "$1" "$9"
"$here/dns_intercept.sh" "${10}"
