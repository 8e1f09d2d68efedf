#!/bin/bash
# The daemon with FIREWALL_BACKEND=nftables in a throwaway network
# namespace, driven over its socket as dockerd would: the choice logged
# and shown by `cbridge status`; a dual-stack network's rules in
# cbridge's own tables and nothing of cbridge's in the legacy tables;
# after `nft flush ruleset`, after a deleted rule and after a deleted map
# element, the tables are back within two seconds with no duplicate;
# deleting the network deletes the tables; with FIREWALL_BACKEND=auto a
# table "docker-bridges" (dockerd's nftables backend) makes it choose
# nftables.  Everything it makes is removed on exit, also on failure.
#
#   tests/integration/daemon_nft.sh path/to/cbridge
set -eu -o pipefail
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

bin=${1:?usage: $0 path/to/cbridge}
case $bin in /*) ;; *) bin=$(pwd)/$bin ;; esac
if [ "$(id -u)" -ne 0 ]; then
	echo "$0: skipped, needs root" >&2
	exit 77
fi
for c in nft jq curl iptables-legacy-save; do
	if ! command -v "$c" >/dev/null; then
		echo "$0: skipped, $c is missing" >&2
		exit 77
	fi
done
itest_br_netfilter

run=cbt-dn$$-$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')
ns=$run
tmp=$(mktemp -d "/tmp/$run.XXXX")
sock=$tmp/cbridge.sock
state=$tmp/state
pid=
passed=0
failed=0

cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	ip netns delete "$ns" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

ip netns add "$ns"
in_ns() { ip netns exec "$ns" "$@"; }
in_ns ip link set lo up

# start BACKEND: the daemon in the namespace.
start() {
	# Not through in_ns: $! must be the daemon, not a subshell.
	ip netns exec "$ns" env LOG_LEVEL=debug DOCKER_SOCKET=off \
	    DNS_MODE=off FIREWALL_BACKEND="$1" "$bin" --socket "$sock" \
	    --state-dir "$state" >>"$tmp/log" 2>&1 &
	pid=$!
	wait_daemon "$tmp/log"
}
within_2s() {
	for _ in $(seq 20); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

ID1=7e0b5d2c4a6f48e19b3d5f7a9c1e3b5d7f9a1c3e5b7d9f1a3c5e7b9d1f3a5c7e
BR1=cb-${ID1:0:12}

in_ns iptables-legacy-save 2>/dev/null | grep -v '^#' >"$tmp/legacy.before" || true
start nftables
check "the log names the backend and why" \
    grep -q 'firewall: nftables backend (FIREWALL_BACKEND=nftables)' "$tmp/log"

r=$(call IpamDriver.RequestPool '{"AddressSpace":"LocalDefault","Pool":"172.30.9.0/24","SubPool":"","Options":{},"V6":false}')
check "RequestPool" test "${r%% *}" = 200
r=$(call IpamDriver.RequestPool '{"AddressSpace":"LocalDefault","Pool":"fd00:cb:9::/64","SubPool":"","Options":{},"V6":true}')
check "RequestPool IPv6" test "${r%% *}" = 200
r=$(call NetworkDriver.CreateNetwork "{\"NetworkID\":\"$ID1\",\"Options\":{\"com.docker.network.enable_ipv6\":true},\"IPv4Data\":[{\"AddressSpace\":\"LocalDefault\",\"Pool\":\"172.30.9.0/24\",\"Gateway\":\"172.30.9.1/24\"}],\"IPv6Data\":[{\"AddressSpace\":\"LocalDefault\",\"Pool\":\"fd00:cb:9::/64\",\"Gateway\":\"fd00:cb:9::1/64\"}]}")
check "CreateNetwork dual stack" test "${r%% *}" = 200

# tables_ok: both families' tables hold the network: its map elements,
# its masquerade, and every rule of cbridge's once.
tables_ok() {
	in_ns nft list ruleset >"$tmp/rs" 2>&1 || return 1
	grep -q "\"$BR1\" : jump filter-forward-in__$BR1" "$tmp/rs" &&
	grep -q "oifname != \"$BR1\" ip saddr 172.30.9.0/24 counter packets [0-9]* bytes [0-9]* masquerade" "$tmp/rs" &&
	grep -q "oifname != \"$BR1\" ip6 saddr fd00:cb:9::/64" "$tmp/rs" &&
	test "$(grep -o 'comment "cbridge:[^"]*"' "$tmp/rs" | sort | uniq -d | wc -l)" = 0
}
check "the network's rules are in ip and ip6 cbridge" within_2s tables_ok
nrules=$(grep -c 'comment "cbridge:' "$tmp/rs")
in_ns iptables-legacy-save 2>/dev/null | grep -v '^#' >"$tmp/legacy.after" || true
check "nothing of cbridge's in the legacy tables" cmp -s "$tmp/legacy.before" "$tmp/legacy.after"

st=$("$bin" status --socket "$sock" --json 2>&1) || true
check "status: backend nftables, why, a last sync without error" \
    test "$(jq -r '[.Firewall.Backend, .Firewall.Why, .Firewall.LastSync.Error] | join("|")' <<<"$st" 2>/dev/null)" = "nftables|FIREWALL_BACKEND=nftables|"

same_count() {
	tables_ok && test "$(grep -c 'comment "cbridge:' "$tmp/rs")" = "$nrules"
}
in_ns nft flush ruleset
check "nft flush ruleset: back within 2 s, every rule once" within_2s same_count
h=$(in_ns nft -a list chain ip cbridge "filter-forward-in__$BR1" |
    sed -n 's/.* drop comment .*# handle \([0-9]*\)$/\1/p' | head -n 1)
check "found a rule of cbridge's to delete" test -n "$h"
in_ns nft delete rule ip cbridge "filter-forward-in__$BR1" handle "${h:-0}"
check "a deleted rule: back within 2 s, every rule once" within_2s same_count
in_ns nft delete element ip6 cbridge filter-forward-out-jumps "{ \"$BR1\" }"
# Listed first, matched after: with pipefail, `nft | grep -q` fails when
# grep stops reading before nft is done writing (SIGPIPE).
elem6() {
	local m
	m=$(in_ns nft list map ip6 cbridge filter-forward-out-jumps 2>&1) &&
	    grep -q "\"$BR1\"" <<<"$m"
}
check "a deleted map element: back within 2 s" within_2s elem6

r=$(call NetworkDriver.DeleteNetwork "{\"NetworkID\":\"$ID1\"}")
check "DeleteNetwork" test "${r%% *}" = 200
no_tables() {
	local t
	t=$(in_ns nft list tables) && ! grep -q cbridge <<<"$t"
}
check "no network, no cbridge table" within_2s no_tables
check "the daemon stops cleanly" stop

# auto, with dockerd's nftables backend present.
in_ns nft add table ip docker-bridges
start auto
check "auto chooses nftables when dockerd's docker-bridges table exists" \
    grep -q 'firewall: nftables backend (auto: dockerd uses its nftables backend' "$tmp/log"
check "the daemon stops cleanly (auto)" stop
check "no sanitizer report in the daemon's log" no_sanitizer_report "$tmp/log"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
