#!/bin/bash
# Runs the cbridge daemon inside a throwaway network namespace and talks to
# it over its unix socket with curl, as dockerd would: the handshake, the
# IPAM and network calls with real bridges, bad input, concurrency, restart
# persistence; `cbridge status` against it, against nothing and against a
# daemon that answers an error; FIREWALL_BACKEND refused at start.
# Everything it makes is removed on exit, also on failure.
#
#   tests/integration/daemon.sh path/to/cbridge
set -eu -o pipefail
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

bin=${1:?usage: $0 path/to/cbridge}
case $bin in /*) ;; *) bin=$(pwd)/$bin ;; esac
if [ "$(id -u)" -ne 0 ]; then
	echo "$0: skipped, needs root" >&2
	exit 77
fi
itest_br_netfilter

run=cbt-d$$-$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')
ns=$run
tmp=$(mktemp -d "/tmp/$run.XXXX")
sock=$tmp/cbridge.sock
state=$tmp/state
pid=
fake=		# a fake daemon's pid (perl)
passed=0
failed=0

cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	[ -n "$fake" ] && kill "$fake" 2>/dev/null && wait "$fake" 2>/dev/null
	ip netns delete "$ns" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
keep_log() { cp "$tmp/log" /tmp/cbt-daemon.log 2>/dev/null || true; }
trap 'exit 130' INT
trap 'exit 143' TERM

ip netns add "$ns"
in_ns() { ip netns exec "$ns" "$@"; }
in_ns ip link set lo up


start() {
	# Not through in_ns: $! must be the daemon, not a subshell.
	ip netns exec "$ns" env LOG_LEVEL=debug DOCKER_SOCKET=off DNS_UPSTREAMS=127.0.0.1:9 "$bin" --socket "$sock" --state-dir "$state" \
	    >>"$tmp/log" 2>&1 &
	pid=$!
	wait_daemon "$tmp/log"
}

# expect DESCRIPTION ROUTE BODY STATUS [SUBSTRING]
expect() {
	local d=$1 route=$2 body=$3 status=$4 sub=${5:-} got
	got=$(call "$route" "$body")
	if [ "${got%% *}" = "$status" ] && [[ "$got" == *"$sub"* ]] &&
	    jq -e 'type == "object"' >/dev/null <<<"${got#* }"; then
		ok "$d"
	else
		not_ok "$d (got: $got)"
	fi
	# The daemon keeps serving after every request.
	got=$(call Plugin.Activate '')
	[ "${got%% *}" = 200 ] || not_ok "daemon still serving after: $d"
	return 0
}

jget() { jq -r "$1" <<<"${2#* }"; }

# lacks CMD CONTROL ERE: CMD (a shell command run in the namespace)
# prints nothing matching ERE.  Proven able to tell first: CMD succeeds
# and its output matches CONTROL, something known to be there.
lacks() {
	if ! in_ns sh -c "$1" >"$tmp/lacks" 2>&1; then
		echo "# probe: '$1' failed: $(head -n 3 "$tmp/lacks")"
		return 1
	fi
	if ! grep -qE -- "$2" "$tmp/lacks"; then
		echo "# probe: '$1' does not show /$2/"
		return 1
	fi
	! grep -E -- "$3" "$tmp/lacks"
}

ID1=5f1c0a7e9b2d44c18e3f6a0b7c9d2e4f1a3b5c7d9e0f2a4b6c8d0e1f3a5b7c9d
ID2=a3e900000000000000000000000000000000000000000000000000000000071b
BR1=cb-${ID1:0:12}

start

echo "# handshake"
expect "Activate names both drivers" Plugin.Activate '' 200 '"IpamDriver"'
expect "GetCapabilities is local" NetworkDriver.GetCapabilities '' 200 '"Scope":"local"'
expect "IPAM capabilities" IpamDriver.GetCapabilities '' 200 '"RequiresRequestReplay":false'
expect "address spaces" IpamDriver.GetDefaultAddressSpaces '' 200 LocalDefault

echo "# docker network create, as dockerd sequences it"
r=$(call IpamDriver.RequestPool '{"AddressSpace":"LocalDefault","Pool":"172.30.0.0/24","SubPool":"","Options":{},"V6":false}')
pool=$(jget .PoolID "$r")
check "RequestPool explicit" test "$pool" = LocalDefault/172.30.0.0/24
r=$(call IpamDriver.RequestAddress "{\"PoolID\":\"$pool\",\"Address\":\"\",\"Options\":{\"RequestAddressType\":\"com.docker.network.gateway\"}}")
check "gateway is the first address" test "$(jget .Address "$r")" = 172.30.0.1/24
r=$(call IpamDriver.RequestPool '{"AddressSpace":"LocalDefault","Pool":"fd00:cb:1::/64","SubPool":"","Options":{},"V6":true}')
pool6=$(jget .PoolID "$r")
r=$(call IpamDriver.RequestAddress "{\"PoolID\":\"$pool6\",\"Address\":\"\",\"Options\":{\"RequestAddressType\":\"com.docker.network.gateway\"}}")
check "IPv6 gateway" test "$(jget .Address "$r")" = fd00:cb:1::1/64
# A host that does not route yet: cbridge turns forwarding on and closes
# the FORWARD policy, as dockerd does.
in_ns sh -c 'echo 0 >/proc/sys/net/ipv4/ip_forward'
expect "CreateNetwork dual stack" NetworkDriver.CreateNetwork \
    "{\"NetworkID\":\"$ID1\",\"Options\":{\"com.docker.network.enable_ipv6\":true,\"com.docker.network.generic\":{\"com.docker.network.driver.mtu\":\"1400\"}},\"IPv4Data\":[{\"AddressSpace\":\"LocalDefault\",\"Pool\":\"172.30.0.0/24\",\"Gateway\":\"172.30.0.1/24\"}],\"IPv6Data\":[{\"AddressSpace\":\"LocalDefault\",\"Pool\":\"fd00:cb:1::/64\",\"Gateway\":\"fd00:cb:1::1/64\"}]}" 200
check "bridge exists and is a bridge" in_ns sh -c "ip -d link show $BR1 | grep -q 'bridge '"
check "bridge is up" in_ns sh -c "ip link show $BR1 | grep -q '<.*UP.*>'"
check "bridge mtu 1400" in_ns sh -c "ip link show $BR1 | grep -q 'mtu 1400'"
check "bridge has 172.30.0.1/24" in_ns sh -c "ip -4 addr show dev $BR1 | grep -q 'inet 172.30.0.1/24'"
check "bridge has fd00:cb:1::1/64" in_ns sh -c "ip -6 addr show dev $BR1 | grep -q 'inet6 fd00:cb:1::1/64'"
check "accept_ra is 0" in_ns sh -c "test \$(cat /proc/sys/net/ipv6/conf/$BR1/accept_ra) = 0"
check "state.json written" jq -e >/dev/null ".networks[0].id == \"$ID1\"" "$state/state.json"

echo "# firewall: the accept appears when dockerd's chain does, and comes back"
# dockerd's nft layout, in this namespace only.
in_ns iptables-nft -N DOCKER-USER
in_ns iptables-nft -A DOCKER-USER -j RETURN
in_ns iptables-nft -I FORWARD -j DOCKER-USER
has_rule() {
	in_ns iptables-nft -S DOCKER-USER >"$tmp/du"
	grep -q -x -e "-A DOCKER-USER -i $BR1 -m comment --comment \"cbridge:$ID1\" -j ACCEPT" "$tmp/du" &&
	grep -q -x -e "-A DOCKER-USER -o $BR1 -m comment --comment \"cbridge:$ID1\" -j ACCEPT" "$tmp/du"
}
# within_2s CMD...: CMD succeeds within two seconds.
within_2s() {
	local i
	for i in $(seq 20); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}
check "accept for $BR1 added to a DOCKER-USER created later" within_2s has_rule
in_ns iptables-nft -F DOCKER-USER
in_ns iptables-nft -A DOCKER-USER -j RETURN
check "flushed by someone else: back within 2 s" within_2s has_rule
check "once each, before dockerd's RETURN" test "$(grep -c cbridge "$tmp/du") $(tail -n 1 "$tmp/du")" = "2 -A DOCKER-USER -j RETURN"
# The full model lives in the legacy tables.
legacy_ok() {
	in_ns iptables-legacy-save >"$tmp/legacy"
	grep -q -e "-A POSTROUTING -s 172.30.0.0/24 ! -o $BR1 -m comment --comment \"cbridge:${ID1:0:12}:" "$tmp/legacy" &&
	grep -q -e "-A DOCKER ! -i $BR1 -o $BR1 -m comment --comment \"cbridge:${ID1:0:12}:" "$tmp/legacy" &&
	test "$(grep -c -e '-j DOCKER-FORWARD' "$tmp/legacy")" = 1
}
check "legacy tables: masquerade and the default drop for $BR1" legacy_ok
in_ns iptables-legacy -t nat -F POSTROUTING
in_ns iptables-legacy -F FORWARD
check "legacy rules flushed by someone else: back within 2 s" within_2s legacy_ok
check "sysctls: ip_forward, bridge-nf-call-iptables, route_localnet" in_ns sh -c "
	test \$(cat /proc/sys/net/ipv4/ip_forward) = 1 &&
	test \$(cat /proc/sys/net/bridge/bridge-nf-call-iptables) = 1 &&
	test \$(cat /proc/sys/net/ipv4/conf/$BR1/route_localnet) = 1"
check "forwarding was off in the namespace: FORWARD policy DROP" in_ns sh -c "iptables-legacy -S FORWARD | grep -qx -- '-P FORWARD DROP'"

echo "# an endpoint, as dockerd creates and removes one"
EP=e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1
r=$(call NetworkDriver.CreateEndpoint "{\"NetworkID\":\"$ID1\",\"EndpointID\":\"$EP\",\"Interface\":{\"Address\":\"172.30.0.5/24\",\"AddressIPv6\":\"fd00:cb:1::5/64\",\"MacAddress\":\"\"},\"Options\":{}}")
check "CreateEndpoint returns only the MAC ($r)" test "$(jget '.Interface.MacAddress' "$r")" = 02:42:ac:1e:00:05
check "host end on the bridge and up" in_ns sh -c "ip link show cbv${EP:0:12} | grep -q 'master $BR1.*state UP\|UP.*master $BR1'"
check "peer end waits, down, with the MAC" in_ns sh -c "ip link show cbp${EP:0:12} | grep -q 'link/ether 02:42:ac:1e:00:05'"
check "MTU of the network on both ends" in_ns sh -c "ip link show cbp${EP:0:12} | grep -q 'mtu 1400'"
r=$(call NetworkDriver.Join "{\"NetworkID\":\"$ID1\",\"EndpointID\":\"$EP\",\"SandboxKey\":\"/var/run/docker/netns/x\",\"Options\":{}}")
check "Join names the peer and the gateways" test "$(jget '[.InterfaceName.SrcName,.InterfaceName.DstPrefix,.Gateway,.GatewayIPv6]|join(" ")' "$r")" = "cbp${EP:0:12} eth 172.30.0.1 fd00:cb:1::1"
echo "# published ports"
PM='"com.docker.network.portmap":[{"Proto":6,"IP":"","Port":80,"HostIP":"","HostPort":18080,"HostPortEnd":18080},{"Proto":17,"IP":"","Port":53,"HostIP":"127.0.0.1","HostPort":0,"HostPortEnd":0}]'
expect "ProgramExternalConnectivity with tcp and udp" NetworkDriver.ProgramExternalConnectivity "{\"NetworkID\":\"$ID1\",\"EndpointID\":\"$EP\",\"Options\":{$PM}}" 200
check "host port 18080 held (v4 and v6)" in_ns sh -c "test \$(ss -Hltn 'sport = :18080' | wc -l) = 2"
check "DNAT for 18080 to the container, v4 and v6" in_ns sh -c "
	iptables-legacy -t nat -S DOCKER | grep -q -- '--dport 18080 .*--to-destination 172.30.0.5:80' &&
	ip6tables-legacy -t nat -S DOCKER | grep -q -- '--dport 18080 .*--to-destination \[fd00:cb:1::5\]:80'"
uport=$(jq -r '.endpoints[0].ports[] | select(.proto == 17) | .host_port' "$state/state.json")
check "udp on 127.0.0.1 got a free port ($uport) and a DNAT" in_ns sh -c "
	iptables-legacy -t nat -S DOCKER | grep -q -- '-d 127.0.0.1/32 -p udp -m udp --dport $uport .*--to-destination 172.30.0.5:53'"

echo "# cbridge status"
check "the log names the firewall backend and why" \
    grep -q "firewall: iptables backend (auto: " "$tmp/log"
st=$("$bin" status --socket "$sock" --json 2>&1) || st="status failed: $st"
echo "# $st"
sj() { jq -r "$1" <<<"$st" 2>/dev/null || echo "(not JSON)"; }
check "status: backend iptables, chosen by auto ($(sj .Firewall.Why))" \
    test "$(sj '.Firewall.Backend + " " + (.Firewall.Why | startswith("auto: ") | tostring)')" = "iptables true"
check "status: the last sync worked, at an RFC 3339 UTC time, and took some microseconds" \
    test "$(sj '.Firewall.LastSync | [.Error == "", (.Time | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}[.][0-9]{3}Z$")), (.DurationUsec | type)] | map(tostring) | join(" ")')" = "true true number"
check "status: syncs counted, none failed" \
    test "$(sj '[.Firewall.Syncs > 0, .Firewall.SyncFailures == 0] | map(tostring) | join(" ")')" = "true true"
# 80/tcp on any address for a dual-stack container: one binding per
# family; 53/udp on 127.0.0.1: one.
check "status: $BR1 with its subnets, 1 endpoint, 3 port bindings, icc and masquerade" \
    test "$(sj ".Networks[] | select(.ID == \"$ID1\") | [.Bridge, .IPv4Subnet, .IPv6Subnet, .Endpoints, .Ports, .Internal, .ICC, .Masquerade] | map(tostring) | join(\" \")")" = \
    "$BR1 172.30.0.0/24 fd00:cb:1::/64 1 3 false true true"
"$bin" status --socket "$sock" >"$tmp/status" 2>&1 || echo "exit $?" >>"$tmp/status"
sed 's/^/# /' "$tmp/status"
check "status: the text names the backend" grep -q '^firewall backend: iptables (auto: ' "$tmp/status"
check "status: the text has a line for $BR1" \
    grep -qE "^${ID1:0:12} +$BR1 +172\.30\.0\.0/24 +fd00:cb:1::/64 +1 +3 +icc,masquerade\$" "$tmp/status"
rc=0
"$bin" status --socket "$tmp/nobody.sock" >"$tmp/nobody" 2>&1 || rc=$?
check "status: no daemon at the socket: exit 1 ($rc)" test "$rc" = 1
check "status: no daemon: the message names the socket and why" \
    grep -q "cannot ask the daemon at $tmp/nobody.sock: No such file" "$tmp/nobody"
# A daemon without the route (an older one) answers 404 with its error.
perl -MIO::Socket::UNIX -e '
	my $s = IO::Socket::UNIX->new(Type => SOCK_STREAM(), Local => $ARGV[0],
	    Listen => 1) or die "listen: $!";
	my $c = $s->accept or die "accept: $!";
	while (<$c>) { last if /^\r?$/ }
	my $b = q({"Err":"unknown call /Cbridge.Status"});
	print $c "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\n" .
	    "Content-Length: " . length($b) . "\r\nConnection: close\r\n\r\n$b";
	close $c;' "$tmp/old.sock" 2>"$tmp/old.err" &
fake=$!
for _ in $(seq 100); do [ -S "$tmp/old.sock" ] && break; sleep 0.05; done
rc=0
timeout 10 "$bin" status --socket "$tmp/old.sock" >"$tmp/old" 2>&1 || rc=$?
wait "$fake" || true
fake=
check "status: a daemon that answers an error: exit 1 ($rc)" test "$rc" = 1
check "status: that error is shown with its HTTP status" \
    grep -q 'the daemon answered 404: {"Err":"unknown call /Cbridge.Status"}' "$tmp/old"

EP2=e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2
call NetworkDriver.CreateEndpoint "{\"NetworkID\":\"$ID1\",\"EndpointID\":\"$EP2\",\"Interface\":{\"Address\":\"172.30.0.6/24\"},\"Options\":{}}" >/dev/null
expect "a host port already taken" NetworkDriver.ProgramExternalConnectivity "{\"NetworkID\":\"$ID1\",\"EndpointID\":\"$EP2\",\"Options\":{$PM}}" 409 "18080/tcp"
check "nothing of the refused publication stays (the first's is there)" \
    lacks iptables-legacy-save '172\.30\.0\.5:80' '172\.30\.0\.6:'
expect "bad protocol" NetworkDriver.ProgramExternalConnectivity "{\"NetworkID\":\"$ID1\",\"EndpointID\":\"$EP2\",\"Options\":{\"com.docker.network.portmap\":[{\"Proto\":1,\"Port\":80}]}}" 400 "Proto"
expect "bad host port" NetworkDriver.ProgramExternalConnectivity "{\"NetworkID\":\"$ID1\",\"EndpointID\":\"$EP2\",\"Options\":{\"com.docker.network.portmap\":[{\"Proto\":6,\"Port\":80,\"HostPort\":70000}]}}" 400 "HostPort"
expect "bad host address" NetworkDriver.ProgramExternalConnectivity "{\"NetworkID\":\"$ID1\",\"EndpointID\":\"$EP2\",\"Options\":{\"com.docker.network.portmap\":[{\"Proto\":6,\"Port\":80,\"HostIP\":\"1.2.3\"}]}}" 400 "HostIP"
expect "IPv6 host address for an IPv4-only container" NetworkDriver.ProgramExternalConnectivity "{\"NetworkID\":\"$ID1\",\"EndpointID\":\"$EP2\",\"Options\":{\"com.docker.network.portmap\":[{\"Proto\":6,\"Port\":80,\"HostIP\":\"::1\",\"HostPort\":18081}]}}" 400 "no IPv6 address"
expect "DeleteEndpoint of the second" NetworkDriver.DeleteEndpoint "{\"NetworkID\":\"$ID1\",\"EndpointID\":\"$EP2\"}" 200
expect "RevokeExternalConnectivity" NetworkDriver.RevokeExternalConnectivity "{\"NetworkID\":\"$ID1\",\"EndpointID\":\"$EP\"}" 200
check "revoked: port released (the daemon's socket is listed)" \
    lacks "ss -Hln" 'cbridge\.sock' ':18080 '
check "revoked: rules gone (the network's masquerade stays)" \
    lacks iptables-legacy-save '^-A POSTROUTING -s 172\.30\.0\.0/24 ' '--dport 18080( |$)'
expect "Leave" NetworkDriver.Leave "{\"NetworkID\":\"$ID1\",\"EndpointID\":\"$EP\"}" 200
expect "DeleteEndpoint" NetworkDriver.DeleteEndpoint "{\"NetworkID\":\"$ID1\",\"EndpointID\":\"$EP\"}" 200
check "veth pair gone" lacks "ip link show" " $BR1: " " cb[vp]${EP:0:12}[@:]"

echo "# bad input: the right error, and the daemon keeps serving"
expect "malformed JSON" NetworkDriver.CreateNetwork '{"NetworkID":' 400 "malformed JSON"
expect "wrong type" NetworkDriver.CreateNetwork '{"NetworkID":42}' 400 "must be a string"
expect "missing field" IpamDriver.ReleasePool '{}' 400 "missing field PoolID"
expect "empty body" NetworkDriver.DeleteNetwork '' 400 "empty request body"
expect "duplicate keys" NetworkDriver.DeleteNetwork "{\"NetworkID\":\"$ID1\",\"NetworkID\":\"$ID1\"}" 400 "duplicate"
expect "unknown network ID" NetworkDriver.DeleteNetwork "{\"NetworkID\":\"$ID2\"}" 404 "not found"
expect "unknown pool ID" IpamDriver.RequestAddress '{"PoolID":"LocalDefault/10.99.0.0/24","Address":""}' 404 "not found"
expect "overlapping subnet (IPAM)" IpamDriver.RequestPool '{"Pool":"172.30.0.0/16"}' 409 "overlaps"
expect "overlapping subnet (driver)" NetworkDriver.CreateNetwork \
    "{\"NetworkID\":\"$ID2\",\"Options\":{},\"IPv4Data\":[{\"Pool\":\"172.30.0.128/25\",\"Gateway\":\"172.30.0.129/25\"}]}" 409 "overlaps"
expect "over-long bridge name" NetworkDriver.CreateNetwork \
    "{\"NetworkID\":\"$ID2\",\"Options\":{\"com.docker.network.generic\":{\"com.docker.network.bridge.name\":\"abcdefghijklmnopq\"}}}" 400 "bridge name"
expect "bad MTU" NetworkDriver.CreateNetwork \
    "{\"NetworkID\":\"$ID2\",\"Options\":{\"com.docker.network.generic\":{\"com.docker.network.driver.mtu\":\"abc\"}}}" 400 "MTU"
expect "unknown route" NetworkDriver.Nope '{}' 404 "unknown call"
head -c 10000000 /dev/zero | tr '\0' ' ' >"$tmp/huge"
got=$(curl -sS --unix-socket "$sock" -w ' %{http_code}' -XPOST http://plugin/NetworkDriver.CreateNetwork --data-binary @"$tmp/huge" || true)
check "huge body refused with 413" test "${got##* }" = 413
printf '%*s' 5000 '' | tr ' ' '[' >"$tmp/deep"
expect "deep nesting" IpamDriver.RequestPool "$(cat "$tmp/deep")" 400 "malformed JSON"
expect "still serving after all that" Plugin.Activate '' 200
check "no bridge from refused requests" lacks "ip link show" " $BR1: " cb-a3e9

echo "# concurrency: 30 automatic pools at once"
for i in $(seq 30); do
	curl -sS --unix-socket "$sock" -XPOST http://plugin/IpamDriver.RequestPool \
	    -d '{"Pool":"","V6":false}' >"$tmp/par.$i" &
done
wait_ok=true
for j in $(jobs -p); do [ "$j" = "$pid" ] && continue; wait "$j" || wait_ok=false; done
check "all parallel requests answered" $wait_ok
n=$(cat "$tmp"/par.* | jq -r .Pool | sort -u | wc -l)
check "30 distinct pools ($n)" test "$n" = 30
for f in "$tmp"/par.*; do
	call IpamDriver.ReleasePool "{\"PoolID\":\"$(jq -r .PoolID "$f")\"}" >/dev/null
done

echo "# automatic pools avoid the host's addresses and routes"
in_ns ip link add cbt-host0 type bridge
in_ns ip addr add 172.16.0.1/20 dev cbt-host0
in_ns ip link set cbt-host0 up
in_ns ip route add 172.16.16.0/20 via 172.16.0.2
r=$(call IpamDriver.RequestPool '{"Pool":""}')
check "auto pool skips host address and route ($(jget .Pool "$r"))" test "$(jget .Pool "$r")" = 172.16.32.0/20
auto=$(jget .PoolID "$r")

echo "# restart keeps networks and allocations"
r=$(call IpamDriver.RequestAddress "{\"PoolID\":\"$pool\",\"Address\":\"\"}")
check "first container address .2" test "$(jget .Address "$r")" = 172.30.0.2/24
call IpamDriver.ReleaseAddress "{\"PoolID\":\"$pool\",\"Address\":\"172.30.0.2\"}" >/dev/null
check "SIGTERM exits 0" stop
check "socket removed on exit" test ! -e "$sock"
in_ns ip link del "$BR1"	# as after a reboot
start
check "bridge re-created at start" in_ns sh -c "ip -4 addr show dev $BR1 | grep -q 'inet 172.30.0.1/24'"
r=$(call IpamDriver.RequestAddress "{\"PoolID\":\"$pool\",\"Address\":\"\"}")
check "next address continues after restart ($(jget .Address "$r"))" test "$(jget .Address "$r")" = 172.30.0.3/24
expect "auto pool survived restart" IpamDriver.ReleasePool "{\"PoolID\":\"$auto\"}" 200

echo "# one daemon per state directory"
rc=0
in_ns "$bin" --socket "$tmp/other.sock" --state-dir "$state" >"$tmp/second" 2>&1 || rc=$?
check "second daemon on the same state dir refused" test "$rc" -ne 0
check "with a clear message" grep -q "another cbridge" "$tmp/second"

echo "# FIREWALL_BACKEND: refused before anything starts"
for how in env:bogus arg:nope; do
	val=${how#*:}
	if [ "${how%%:*}" = env ]; then
		what=FIREWALL_BACKEND desc=FIREWALL_BACKEND=$val
		set -- env FIREWALL_BACKEND="$val" "$bin"
	else
		what=--firewall-backend desc="--firewall-backend $val"
		set -- "$bin" --firewall-backend "$val"
	fi
	rc=0
	in_ns timeout 10 "$@" --socket "$tmp/bad.sock" --state-dir "$tmp/bad-state" \
	    >"$tmp/bad-$val" 2>&1 || rc=$?
	check "$desc: the daemon refuses to start (exit $rc)" test "$rc" = 2
	check "$desc: the message names the value and the accepted ones" \
	    grep -qF -e "$what '$val' is not one of auto, iptables, nftables" "$tmp/bad-$val"
	check "$desc: nothing served, no state made" \
	    test ! -e "$tmp/bad.sock" -a ! -e "$tmp/bad-state"
done
set --

echo "# delete"
expect "DeleteNetwork" NetworkDriver.DeleteNetwork "{\"NetworkID\":\"$ID1\"}" 200
check "bridge gone" lacks "ip link show" ' lo: ' " ${BR1}[@:]"
expect "ReleasePool" IpamDriver.ReleasePool "{\"PoolID\":\"$pool\"}" 200

echo "# corrupt state refuses to start"
check "SIGTERM exits 0 (the restarted daemon)" stop
echo '{"version":1,"networks":[{"id":"nope"}],"ipam":{}}' >"$state/state.json"
rc=0
in_ns "$bin" --socket "$sock" --state-dir "$state" >"$tmp/corrupt" 2>&1 || rc=$?
check "corrupt state: exit non-zero" test "$rc" -ne 0
check "corrupt state: message names the file" grep -q "state.json' is corrupt" "$tmp/corrupt"
check "no sanitizer report or crash in the daemon's logs" \
    no_sanitizer_report "$tmp/log" "$tmp/second" "$tmp/corrupt" \
    "$tmp/status" "$tmp/old" "$tmp/bad-bogus"

keep_log
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
