#!/bin/bash
# The libiptc backend (firewall/iptc.c) in throwaway network namespaces:
# every golden model of tests/golden/ is applied and iptables-legacy-save /
# ip6tables-legacy-save there must print exactly the golden file; applying
# again changes nothing; rules flushed or deleted behind cbridge's back come
# back in place without duplicates; rules and chains of others survive and
# the tables are exactly as before once the model is empty; the xtables lock
# is honoured; the composite host backend on a legacy-only namespace adds
# nothing to nft, and next to dockerd-like iptables-nft chains keeps
# `iptables-nft -S` working.  The host's own tables are never touched.
#
#   tests/integration/iptables.sh path/to/iptc_itest
#
# Exit status: 0, 1 when a check failed, 77 (skip) when not root.
set -eu -o pipefail

bin=${1:?usage: $0 path/to/iptc_itest}
case $bin in /*) ;; *) bin=$(pwd)/$bin ;; esac
here=$(cd "$(dirname "$0")" && pwd)
golden=$here/../golden
if [ "$(id -u)" -ne 0 ]; then
	echo "$0: skipped, needs root" >&2
	exit 77
fi
for c in ip iptables-legacy-save ip6tables-legacy-save iptables-legacy iptables-nft nft; do
	if ! command -v "$c" >/dev/null; then
		echo "$0: skipped, $c is missing" >&2
		exit 77
	fi
done

run=cbt-ipt$$-$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')
tmp=$(mktemp -d "/tmp/$run.XXXX")
lock=$tmp/xtables.lock
export XTABLES_LOCK=$lock WSLINFO=$tmp/no-wslinfo FW_CHAINS=$tmp/chains
made=()
passed=0
failed=0
n=0

cleanup() {
	local ns
	for ns in "${made[@]}"; do
		ip netns del "$ns" 2>/dev/null || true
	done
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
check() {
	local what=$1
	shift
	if "$@"; then ok "$what"; else not_ok "$what"; fi
}

# newns NAME: makes $run-NAME and sets ns to it (not in a subshell, so
# that cleanup knows it).
newns() {
	ns=$run-$1
	ip netns add "$ns"
	made+=("$ns")
	ip -n "$ns" link set lo up
	# A host has its tables; a new namespace gets them on first use.
	local t
	for t in raw nat filter; do
		ip netns exec "$ns" iptables-legacy -t $t -S >/dev/null
		ip netns exec "$ns" ip6tables-legacy -t $t -S >/dev/null
	done
}

# norm NS: both families' raw, nat and filter tables in the golden files'
# form: no counters or comments, no built-in chain lines, user chains as
# ":NAME", tables with neither chains nor rules left out.
norm() {
	local ns=$1 fam t
	for fam in 4 6; do
		for t in raw nat filter; do
			ip netns exec "$ns" "ip$([ $fam = 6 ] && echo 6)tables-legacy-save" -t $t 2>/dev/null |
			awk -v hdr="*ipv$fam $t" '
				/^#/ || /^\*/ || /^COMMIT/ { next }
				/^:(PREROUTING|INPUT|FORWARD|OUTPUT|POSTROUTING) / { next }
				/^:/ { sub(/ .*/, ""); lines[++k] = $0; next }
				{ lines[++k] = $0 }
				END { if (k) { print hdr; for (i = 1; i <= k; i++) print lines[i]; print "COMMIT" } }'
		done
	done
}

# full NS: everything, counters and policies included, for "exactly as
# before" comparisons.
full() {
	{
		ip netns exec "$1" iptables-legacy-save
		ip netns exec "$1" ip6tables-legacy-save
	} | sed -e '/^#/d' -e 's/\[[0-9]*:[0-9]*\]//'
}

apply() {
	ip netns exec "$1" "$bin" "${@:2}"
}

same_as_golden() {
	diff -u "$golden/$2.rules" <(norm "$1") >"$tmp/diff" || {
		cat "$tmp/diff" >&2
		return 1
	}
}

# --- every golden model, applied to an empty namespace ---------------------
for f in "$golden"/*.rules; do
	c=$(basename "$f" .rules)
	newns "g-$c"
	before=$(full "$ns")
	check "$c: apply" apply "$ns" apply "$c"
	check "$c: iptables-legacy-save equals the golden file" same_as_golden "$ns" "$c"
	snap=$(full "$ns")
	apply "$ns" apply "$c"
	check "$c: applying again changes nothing" test "$snap" = "$(full "$ns")"
	check "$c: clear" apply "$ns" clear
	check "$c: tables exactly as before afterwards" test "$before" = "$(full "$ns")"
	ip netns del "$ns"
done

# --- self-healing ---------------------------------------------------------
newns heal
apply "$ns" apply ports
ip netns exec "$ns" iptables-legacy -t nat -F POSTROUTING
ip netns exec "$ns" iptables-legacy -F DOCKER-FORWARD
ip netns exec "$ns" iptables-legacy -t raw -F PREROUTING
ip netns exec "$ns" iptables-legacy -D DOCKER 3
check "flushed chains and a deleted rule: re-apply" apply "$ns" apply ports
check "... restores exactly the golden set" same_as_golden "$ns" ports
ip netns exec "$ns" iptables-legacy -X DOCKER-USER 2>/dev/null || true
ip netns exec "$ns" iptables-legacy -F FORWARD
ip netns exec "$ns" iptables-legacy -X DOCKER-USER
apply "$ns" apply ports
check "a deleted chain is re-created" same_as_golden "$ns" ports
# A duplicate of one of ours (same comment) goes; a rule of ours moved out
# of place is put back in order.
ip netns exec "$ns" iptables-legacy -A DOCKER-FORWARD -m comment \
	--comment "$(ip netns exec "$ns" iptables-legacy -S DOCKER-FORWARD | sed -n '2s/.*--comment "\{0,1\}\([^" ]*\).*/\1/p')" -j DOCKER-CT
apply "$ns" apply ports
check "a duplicated rule of ours is removed" same_as_golden "$ns" ports
apply "$ns" apply default
check "unpublished ports' rules go (ports -> default)" same_as_golden "$ns" default
apply "$ns" clear
ip netns del "$ns"

# --- coexistence with rules and chains of others --------------------------
newns share
ip netns exec "$ns" sh -e -c '
	iptables-legacy -N DOCKER
	iptables-legacy -A DOCKER -s 10.9.9.9/32 -j ACCEPT
	iptables-legacy -N DOCKER-USER
	iptables-legacy -A DOCKER-USER -s 10.8.8.8/32 -j DROP
	iptables-legacy -A FORWARD -j DOCKER-USER
	iptables-legacy -A FORWARD -i eth9 -j ACCEPT
	iptables-legacy -t nat -A POSTROUTING -o eth9 -j MASQUERADE
	iptables-legacy -t nat -N DOCKER
	iptables-legacy -t nat -A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER
	iptables-legacy -N ADMIN
	iptables-legacy -A ADMIN -j RETURN'
before=$(full "$ns")
check "shared chains: apply" apply "$ns" apply default
check "others' rules are all still there" sh -c "
	ip netns exec $ns iptables-legacy -S | grep -q -- '-A DOCKER -s 10.9.9.9/32 -j ACCEPT' &&
	ip netns exec $ns iptables-legacy -S | grep -q -- '-A DOCKER-USER -s 10.8.8.8/32 -j DROP' &&
	ip netns exec $ns iptables-legacy -S | grep -q -- '-A FORWARD -i eth9 -j ACCEPT' &&
	ip netns exec $ns iptables-legacy -t nat -S | grep -q -- '-A POSTROUTING -o eth9 -j MASQUERADE'"
check "cbridge's FORWARD jumps come first" sh -c "
	ip netns exec $ns iptables-legacy -S FORWARD | sed -n 2,3p | grep -c cbridge: | grep -qx 2"
ip netns exec "$ns" iptables-legacy -F DOCKER
ip netns exec "$ns" iptables-legacy -A DOCKER -s 10.9.9.9/32 -j ACCEPT
apply "$ns" apply default
check "their rule re-added behind cbridge's back stays, ours come back" sh -c "
	ip netns exec $ns iptables-legacy -S DOCKER | grep -q 10.9.9.9 &&
	test \$(ip netns exec $ns iptables-legacy -S DOCKER | grep -c cbridge:) = 2"
check "shared chains: clear" apply "$ns" clear
check "tables exactly as before, shared chains kept" diff -u <(echo "$before") <(full "$ns")
ip netns del "$ns"

# --- empty chains of others (dockerd on a legacy host with no bridge) ----
newns empty
ip netns exec "$ns" iptables-legacy -N DOCKER
ip netns exec "$ns" iptables-legacy -N DOCKER-ISOLATION-STAGE-1
ip netns exec "$ns" iptables-legacy -t nat -N DOCKER
before=$(full "$ns")
apply "$ns" apply default
check "empty chains of others: apply, clear" apply "$ns" clear
check "... their chains are still there, ours gone" diff -u <(echo "$before") <(full "$ns")
check "the record of created chains is empty again" test ! -s "$tmp/chains"
ip netns del "$ns"

# --- the FORWARD policy ---------------------------------------------------
newns policy
check "forward-drop" apply "$ns" forward-drop 4
check "FORWARD policy is DROP" sh -c "ip netns exec $ns iptables-legacy -S FORWARD | grep -qx -- '-P FORWARD DROP'"
check "forward-drop 6" apply "$ns" forward-drop 6
check "ip6tables FORWARD policy is DROP" sh -c "ip netns exec $ns ip6tables-legacy -S FORWARD | grep -qx -- '-P FORWARD DROP'"
ip netns del "$ns"

# --- the xtables lock -----------------------------------------------------
newns lock
exec 9>"$lock"
flock 9
( sleep 1; flock -u 9 ) &
t0=$(date +%s%N)
check "apply waits for the xtables lock" apply "$ns" apply default
t1=$(date +%s%N)
wait
exec 9>&-
check "... and only went on once it was free ($(((t1 - t0) / 1000000)) ms)" test $(((t1 - t0) / 1000000)) -ge 900
apply "$ns" clear
ip netns del "$ns"

# --- the host backend: legacy-only, and next to dockerd's iptables-nft -----
newns host
check "host backend, legacy-only namespace: apply" apply "$ns" -host apply default
check "... the legacy tables hold the full model" same_as_golden "$ns" default
check "... nothing was added to nft" test -z "$(ip netns exec "$ns" nft list ruleset)"
check "host backend: clear" apply "$ns" -host clear
ip netns exec "$ns" sh -e -c '
	iptables-nft -N DOCKER-USER
	iptables-nft -A DOCKER-USER -j RETURN
	iptables-nft -A FORWARD -j DOCKER-USER
	iptables-nft -P FORWARD DROP'
check "host backend next to iptables-nft chains: apply" apply "$ns" -host apply default
check "... iptables-nft -S still works and shows the accepts" sh -c "
	ip netns exec $ns iptables-nft -S DOCKER-USER | grep -c 'cbridge:' | grep -qx 2"
check "... the legacy tables hold the full model" same_as_golden "$ns" default
# dockerd's bridges, as its isolation chain names them in nft: the legacy
# tables keep them apart from cbridge's and accept the rest of their
# traffic (the docker_bridges model is default plus those two names).
ip netns exec "$ns" sh -e -c '
	iptables-nft -N DOCKER-ISOLATION-STAGE-1
	iptables-nft -N DOCKER-ISOLATION-STAGE-2
	iptables-nft -A DOCKER-ISOLATION-STAGE-1 -i docker0 ! -o docker0 -j DOCKER-ISOLATION-STAGE-2
	iptables-nft -A DOCKER-ISOLATION-STAGE-1 -i br-0a1b2c3d4e5f ! -o br-0a1b2c3d4e5f -j DOCKER-ISOLATION-STAGE-2
	iptables-nft -A DOCKER-ISOLATION-STAGE-1 -j RETURN
	iptables-nft -A FORWARD -j DOCKER-ISOLATION-STAGE-1'
check "host backend with dockerd's bridges in nft: apply" apply "$ns" -host apply default
check "... the legacy tables isolate and accept dockerd's bridges" same_as_golden "$ns" docker_bridges
ip netns exec "$ns" iptables-nft -D DOCKER-ISOLATION-STAGE-1 -i docker0 ! -o docker0 -j DOCKER-ISOLATION-STAGE-2
ip netns exec "$ns" iptables-nft -D DOCKER-ISOLATION-STAGE-1 -i br-0a1b2c3d4e5f ! -o br-0a1b2c3d4e5f -j DOCKER-ISOLATION-STAGE-2
check "dockerd's networks gone: apply" apply "$ns" -host apply default
check "... their rules are gone from the legacy tables" same_as_golden "$ns" default
check "host backend: clear" apply "$ns" -host clear
check "... no cbridge rule left in nft" sh -c "! ip netns exec $ns nft list ruleset | grep -q cbridge"
ip netns del "$ns"

# --- WSL2 mirrored mode, detected by the host backend ----------------------
newns wsl
ip -n "$ns" link add loopback0 type veth peer name cbt-lb0peer
printf '#!/bin/sh\n' >"$tmp/wslinfo"
# The "ports" case has a port bound to 127.0.0.1 and no WSL2 flag of its
# own: only the detection can add its loopback0 ACCEPT.
check "no executable wslinfo: no WSL2 rule" sh -c "
	ip netns exec $ns $bin -host apply ports &&
	ip netns exec $ns iptables-legacy -t raw -S PREROUTING | grep -q -- '-d 127.0.0.1/32 ! -i lo ' &&
	! ip netns exec $ns iptables-legacy-save | grep -q loopback0"
chmod +x "$tmp/wslinfo"
check "loopback0 and an executable wslinfo: the loopback0 ACCEPT, no nat RETURN" sh -c "
	WSLINFO=$tmp/wslinfo ip netns exec $ns $bin -host apply ports &&
	ip netns exec $ns iptables-legacy -t raw -S PREROUTING | grep -q -- '-d 127.0.0.1/32 -i loopback0 .* -j ACCEPT' &&
	! ip netns exec $ns iptables-legacy -t nat -S DOCKER | grep -q loopback0"
WSLINFO=$tmp/wslinfo apply "$ns" -host apply wsl2
check "... and the loopback0 ACCEPT before a loopback port's DROP" same_as_golden "$ns" wsl2
apply "$ns" -host clear
ip netns del "$ns"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
