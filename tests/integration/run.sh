#!/bin/sh
# Namespace integration tests: the netlink backend, the firewall backends
# (nft accepts, the libiptc rule model, the nftables rule model, host
# ports and conntrack), the DNS
# forwarder against fake upstreams, the DNS responder loop in a sandbox
# namespace, the Docker Engine API client against a fake engine, then the
# daemon over its socket (with each firewall backend), the nft accepts
# next to Docker 29's nftables tables (the shim, then the daemon), and the
# DNS responders through the daemon with dnsmasq upstreams, and those
# responders while the daemon waits for the xtables lock or creates and
# deletes networks (with tests/bench's dns_probe), and the redirect of a
# sandbox's 127.0.0.11:53 to cbridge's
# responder.  Each script makes and removes its own namespaces.
#
#   tests/integration/run.sh path/to/cbridge path/to/lnk_itest \
#       path/to/fw_itest path/to/iptc_itest path/to/ports_itest \
#       path/to/dns_fwd_itest path/to/dns_srv_itest path/to/engine_itest \
#       path/to/dns_probe path/to/dnsi_itest
#
# br_netfilter is loaded first (tests/br_netfilter.sh).  Under
# scripts/stage.sh, the script running is the stage's step.
set -eu

here=$(dirname "$0")
if [ "$#" -ne 10 ]; then
	echo "usage: $0 cbridge lnk_itest fw_itest iptc_itest ports_itest" \
	    "dns_fwd_itest dns_srv_itest engine_itest dns_probe dnsi_itest" >&2
	exit 2
fi
"$here/../br_netfilter.sh"

# run SCRIPT ARGS...: one test script, recorded as the step.
run() {
	echo "tests/integration/$1" >"${STAGE_STEP:-/dev/null}"
	_s=$1
	shift
	"$here/$_s" "$@"
}
run netlink.sh "$2"
run firewall.sh "$3"
run iptables.sh "$4"
run nftables.sh "$4"
run ports.sh "$5"
run dns_forward.sh "$6"
run dns_server.sh "$7"
run engine.sh "$8"
run daemon.sh "$1"
run daemon_nft.sh "$1"
run docker29.sh "$3" "$1"
run dns_daemon.sh "$1"
run dns_lock.sh "$1" "$9"
run dns_intercept.sh "${10}"
