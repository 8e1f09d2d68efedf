#!/bin/bash
# The nftables backend (firewall/nft.c) in throwaway network namespaces:
# every golden model of tests/golden/ is applied and `nft list ruleset`
# there must be exactly the planner's table (listing order of chains and
# elements aside); applying again writes nothing; going from any model to
# any other in one process gives the second model's table; a flushed
# ruleset, a deleted rule, a deleted map element and a rule of someone
# else's put into cbridge's chain are repaired by the next sync without a
# duplicate; another table and the legacy tables are never touched; an
# empty model leaves no table.  Traffic, through the host firewall with
# this backend next to a dockerd-like bridge: a cbridge container reaches
# the other bridge's published port and nothing else there, and the other
# bridge's container does not get into cbridge's.  The host's own tables
# are never touched.
#
#   tests/integration/nftables.sh path/to/iptc_itest
#
# Exit status: 0, 1 when a check failed, 77 (skip) when not root.
set -eu -o pipefail

bin=${1:?usage: $0 path/to/iptc_itest}
case $bin in /*) ;; *) bin=$(pwd)/$bin ;; esac
if [ "$(id -u)" -ne 0 ]; then
	echo "$0: skipped, needs root" >&2
	exit 77
fi
for c in ip nft perl iptables-legacy-save busybox timeout; do
	if ! command -v "$c" >/dev/null; then
		echo "$0: skipped, $c is missing" >&2
		exit 77
	fi
done

ns=cbt-nft$$-$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')
tmp=$(mktemp -d "/tmp/$ns.XXXX")
passed=0
failed=0
n=0

cleanup() {
	ip netns del "$ns" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT

ok() {
	n=$((n + 1))
	passed=$((passed + 1))
	echo "ok $n - $1"
}
not_ok() {
	n=$((n + 1))
	failed=$((failed + 1))
	echo "not ok $n - $1"
}
in_ns() {
	ip netns exec "$ns" "$@"
}

# The table as a canonical text: counters out, each chain, map and set a
# block, blocks sorted, elements and anonymous set members sorted (the
# kernel lists them in its own order, and chains in creation order).
canon() {
	perl -0777 -ne '
		s/counter packets \d+ bytes \d+/counter/g;
		s/,\n\s+/, /g;
		s/(\{ )([^{}\n]*?)( \})/$1 . join(", ", sort split(m{, }, $2)) . $3/ge;
		for my $t (split /^(?=table )/m) {
			my ($head, $body) = $t =~ /^(table [^\n]*\n)(.*)\}\n*\z/s or next;
			my @b = grep { /\S/ } split /\n\n/, $body;
			s/\s+\z// for @b;
			print $head, join("\n", sort @b), "\n}\n";
		}'
}

# want CASE: the planner's table for the model, canonical.
want() {
	"$bin" -nft show "$1" | canon
}
got() {
	in_ns nft list ruleset | canon
}
check_same() {
	if diff -u "$tmp/want" "$tmp/got" >"$tmp/diff"; then
		ok "$1"
	else
		not_ok "$1"
		head -20 "$tmp/diff"
	fi
}

ip netns add "$ns"
cases=$("$bin" -nft cases)
[ -n "$cases" ] || { echo "no golden cases" >&2; exit 1; }

# Someone else's table, and the legacy tables, as they are before.
in_ns nft -f - <<'NFT'
table ip other {
	chain others-forward {
		type filter hook forward priority 10; policy accept;
		iifname "eth7" counter accept comment "not cbridge's"
	}
}
NFT
in_ns nft list table ip other >"$tmp/other.before"
in_ns iptables-legacy-save 2>/dev/null | grep -v '^#' >"$tmp/legacy.before" || true
in_ns nft delete table ip other

for c in $cases; do
	in_ns "$bin" -nft apply "$c"
	want "$c" >"$tmp/want"
	got >"$tmp/got"
	check_same "$c: nft lists exactly the planned table"
	in_ns nft -a list ruleset >"$tmp/before"
	in_ns "$bin" -nft apply "$c"
	in_ns nft -a list ruleset >"$tmp/after"
	if cmp -s "$tmp/before" "$tmp/after"; then
		ok "$c: a second sync writes nothing (handles unchanged)"
	else
		not_ok "$c: a second sync writes nothing (handles unchanged)"
	fi
done
in_ns "$bin" -nft clear
if [ -z "$(in_ns nft list ruleset)" ]; then
	ok "an empty model leaves no table"
else
	not_ok "an empty model leaves no table"
fi

# From every model to every other, in one process (the backend's memory
# of the table, not a fresh read, decides what to write).  Where only
# networks change, the change goes out as a netlink batch compiled here
# (firewall/nftwire.c); only a network with an anonymous set (trusted
# interfaces, WSL2's two loopbacks) goes through libnftables.
batches=0
anon() {
	"$bin" -nft nwire-script "$1" | grep -q '^add rule .*{ "'
}
for a in $cases; do
	for b in ports two_networks internal_ipv6 default; do
		in_ns "$bin" -nft clear
		in_ns "$bin" -nft seq "$a" "$b" "$a" 2>"$tmp/seq"
		want "$a" >"$tmp/want"
		got >"$tmp/got"
		check_same "$a -> $b -> $a in one process"
		wire=$(sed -n 's/^wire: \([0-9]*\) batches, \([0-9]*\) through.*/\1 \2/p' \
		    "$tmp/seq")
		if [ -z "$wire" ]; then
			not_ok "$a -> $b -> $a: the backend reported no write counts"
		elif ! anon "$a" && ! anon "$b" && [ "${wire#* }" != 0 ]; then
			not_ok "$a -> $b -> $a: went through libnftables (batches, fallbacks: $wire)"
		else
			batches=$((batches + ${wire% *}))
		fi
	done
done
# Most pairs change the base too (an IPv6 table, dockerd's bridges), and
# those are written whole.
if [ "$batches" -ge 20 ]; then
	ok "the syncs that changed only networks went out as $batches netlink batches"
else
	not_ok "only $batches netlink batches"
fi

# The bytecode of every network's rules and elements, compiled here, is
# what nft compiles from the same commands (nft -c --debug=netlink, in a
# namespace holding the model's table so that nft knows the chains and
# maps).  Blocks are compared sorted: nft lists one map's new elements in
# its own order.
blocks() {
	grep -v 'userdata = \|^ip6\? (null) (null)' | perl -0777 -ne '
		my @b = split /\n(?=\S)/; s/\s+\z// for @b;
		print join("\n", sort @b), "\n"'
}
for c in $cases; do
	"$bin" -nft nwire-script "$c" >"$tmp/script.nft"
	in_ns "$bin" -nft clear
	in_ns "$bin" -nft apply "$c"
	if anon "$c"; then
		if "$bin" nwire-dump "$tmp/script.nft" >/dev/null 2>&1; then
			not_ok "$c: a network with an anonymous set was compiled (libnftables should write it)"
		else
			ok "$c: a network with an anonymous set is left to libnftables"
		fi
		continue
	fi
	if ! in_ns nft -c --debug=netlink -f "$tmp/script.nft" 2>&1 |
	    blocks >"$tmp/theirs"; then
		not_ok "$c: nft could not compile the network's commands"
		continue
	fi
	if ! "$bin" nwire-dump "$tmp/script.nft" 2>&1 | blocks >"$tmp/ours"; then
		not_ok "$c: the network's commands could not be compiled here"
		continue
	fi
	if [ "$(grep -c '^ip' "$tmp/ours")" -gt 0 ] &&
	    diff -u "$tmp/theirs" "$tmp/ours" >"$tmp/diff"; then
		ok "$c: every rule and element compiles as nft compiles it ($(grep -c '^ip' "$tmp/ours") rules)"
	else
		not_ok "$c: the compiled rules differ from nft's"
		head -40 "$tmp/diff"
	fi
done

# Repairs: each damage, then the next sync (a new process reads the
# table, as the daemon's periodic check does once the generation moved).
damage() {
	in_ns "$bin" -nft clear
	in_ns "$bin" -nft apply ports
	in_ns sh -c "$1"
	in_ns "$bin" -nft apply ports
	want ports >"$tmp/want"
	got >"$tmp/got"
	check_same "repaired after: $2"
}
damage 'nft flush ruleset' "nft flush ruleset"
h=$(in_ns nft -a list chain ip cbridge filter-forward-in__br-n1 | sed -n 's/.* drop comment .*# handle \([0-9]*\)$/\1/p' | head -1)
[ -n "$h" ] || { echo "no rule handle found" >&2; exit 1; }
damage "nft delete rule ip cbridge filter-forward-in__br-n1 handle $h" \
    "one rule deleted"
damage 'nft delete element ip cbridge filter-forward-in-jumps { "br-n1" }' \
    "a map element deleted"
damage 'nft add rule ip cbridge filter-forward-in__br-n1 counter accept' \
    "a rule without cbridge's comment added to its chain"
damage 'nft flush chain ip cbridge nat-OUTPUT; nft delete chain ip cbridge nat-OUTPUT' \
    "a base chain deleted"
damage 'nft add set ip cbridge stray "{ type ipv4_addr; }"' \
    "a set that is not cbridge's in its table"
damage 'nft add table ip cbridge "{ flags dormant; }"' "the table made dormant"

# A drop policy found stays (cbridge cannot tell whether it set it before
# a restart, and dropping is the safe side); forward-drop sets it.
in_ns "$bin" -nft clear
in_ns "$bin" -nft apply ipv6
in_ns "$bin" -nft forward-drop 4
in_ns nft list chain ip cbridge filter-FORWARD >"$tmp/fwd.1"
in_ns "$bin" -nft apply ipv6
in_ns nft list chain ip cbridge filter-FORWARD >"$tmp/fwd.2"
if grep -q 'policy drop;' "$tmp/fwd.1" && grep -q 'policy drop;' "$tmp/fwd.2"
then
	ok "forward-drop gives the forward chain the policy drop, and it stays"
else
	not_ok "forward-drop gives the forward chain the policy drop, and it stays"
	grep -H policy "$tmp/fwd.1" "$tmp/fwd.2"
fi
fwd6=$(in_ns nft list chain ip6 cbridge filter-FORWARD 2>&1 || true)
if grep -q 'type filter hook forward' <<<"$fwd6" &&
    ! grep -q 'policy drop;' <<<"$fwd6"; then
	ok "forward-drop 4 leaves IPv6 alone"
else
	not_ok "forward-drop 4 leaves IPv6 alone"
fi

in_ns "$bin" -nft clear
in_ns "$bin" -nft apply ports
dups=$(in_ns nft list ruleset | grep -c 'comment "cbridge:' || true)
in_ns "$bin" -nft apply ports
dups2=$(in_ns nft list ruleset | grep -c 'comment "cbridge:' || true)
if [ "$dups" = "$dups2" ] && [ "$dups" -gt 0 ]; then
	ok "never a duplicate rule ($dups rules)"
else
	not_ok "never a duplicate rule ($dups then $dups2)"
fi

# Others' tables and the legacy tables.
in_ns "$bin" -nft clear
in_ns nft -f - <<'NFT'
table ip other {
	chain others-forward {
		type filter hook forward priority 10; policy accept;
		iifname "eth7" counter accept comment "not cbridge's"
	}
}
NFT
for c in ports ipv6 two_networks; do
	in_ns "$bin" -nft apply "$c"
done
in_ns "$bin" -nft forward-drop 4
in_ns "$bin" -nft apply ports
in_ns "$bin" -nft clear
in_ns nft list table ip other >"$tmp/other.after"
if cmp -s "$tmp/other.before" "$tmp/other.after"; then
	ok "another table is left byte for byte as it was"
else
	not_ok "another table is left byte for byte as it was"
fi
in_ns iptables-legacy-save 2>/dev/null | grep -v '^#' >"$tmp/legacy.after" || true
if cmp -s "$tmp/legacy.before" "$tmp/legacy.after"; then
	ok "the legacy tables are untouched"
else
	not_ok "the legacy tables are untouched"
fi

# Traffic.  The namespace is the host: br-n1 is the golden "default"
# network's bridge (172.30.0.0/24, container 172.30.0.2), d0 a bridge of
# dockerd's (listed in an nft isolation chain as iptables-nft writes it)
# with a container publishing 9000 as host port 18420 through a DNAT of
# dockerd's.
in_ns "$bin" -nft clear
cns=$ns-c
dns=$ns-d
made_ns() {
	ip netns add "$1"
	ip -n "$ns" link add "$2" type veth peer name e0 netns "$1"
	ip -n "$ns" link set "$2" master "$3" up
	ip -n "$1" addr add "$4/24" dev e0
	ip -n "$1" link set e0 up
	ip -n "$1" link set lo up
	ip -n "$1" route add default via "$5"
}
cleanup_traffic() {
	ip netns del "$cns" 2>/dev/null || true
	ip netns del "$dns" 2>/dev/null || true
	cleanup
}
trap cleanup_traffic EXIT
ip -n "$ns" link set lo up
for b in br-n1 d0; do
	ip -n "$ns" link add "$b" type bridge
	ip -n "$ns" link set "$b" up
done
ip -n "$ns" addr add 172.30.0.1/24 dev br-n1
ip -n "$ns" addr add 10.2.0.1/24 dev d0
made_ns "$cns" vc br-n1 172.30.0.2 172.30.0.1
made_ns "$dns" vd d0 10.2.0.2 10.2.0.1
in_ns sysctl -qw net.ipv4.ip_forward=1
in_ns nft -f - <<'NFT'
table ip filter {
	chain DOCKER-ISOLATION-STAGE-2 {
		oifname "d0" counter drop
	}
	chain DOCKER-ISOLATION-STAGE-1 {
		iifname "d0" oifname != "d0" counter jump DOCKER-ISOLATION-STAGE-2
	}
}
table ip dockernat {
	chain pre {
		type nat hook prerouting priority -100; policy accept;
		fib daddr type local tcp dport 18420 counter dnat to 10.2.0.2:9000
	}
}
NFT
XTABLES_LOCK=$tmp/xtables.lock FW_CHAINS=$tmp/chains WSLINFO=$tmp/no-wslinfo \
    in_ns "$bin" -hostnft apply default
# Listed first, matched after: with pipefail, `nft | grep -q` fails when
# grep stops reading before nft is done writing (SIGPIPE).
set_now=$(in_ns nft list set ip cbridge docker-bridges 2>&1 || true)
if grep -q '"d0"' <<<"$set_now"; then
	ok "dockerd's bridge (from its nft isolation chain) is in the set"
else
	not_ok "dockerd's bridge (from its nft isolation chain) is in the set"
	printf '# %s\n' "$set_now"
fi
# serve NS PORT: one answer "from-NS-PORT" to the next connection.
serve() {
	ip netns exec "$1" timeout 10 busybox nc -l -p "$2" \
	    -e /bin/echo "from-$1-$2" >/dev/null 2>&1 &
	sleep 0.3
}
# reach FROM ADDR PORT: the answer, or "" when none came.
reach() {
	ip netns exec "$1" timeout 4 busybox nc -w 2 "$2" "$3" </dev/null \
	    2>/dev/null || true
}
expect() {
	local what=$1 want=$2 got=$3
	if [ "$got" = "$want" ]; then
		ok "$what"
	else
		not_ok "$what (got '$got', want '$want')"
	fi
}
serve "$dns" 9000
expect "a cbridge container reaches dockerd's published port through the host" \
    "from-$dns-9000" "$(reach "$cns" 172.30.0.1 18420)"
serve "$dns" 9001
expect "control: the host reaches dockerd's container on 9001" \
    "from-$dns-9001" "$(reach "$ns" 10.2.0.2 9001)"
serve "$dns" 9001
expect "a cbridge container does not reach dockerd's container directly" \
    "" "$(reach "$cns" 10.2.0.2 9001)"
serve "$cns" 9002
expect "control: the host reaches the cbridge container on 9002" \
    "from-$cns-9002" "$(reach "$ns" 172.30.0.2 9002)"
serve "$cns" 9002
expect "dockerd's container does not reach the cbridge container" \
    "" "$(reach "$dns" 172.30.0.2 9002)"
wait

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
