#!/bin/bash
# The per-sandbox DNS responder through the real daemon, in throwaway
# namespaces.  The daemon runs in a "host" namespace H and is driven over
# its socket with curl, as dockerd would (CreateNetwork, CreateEndpoint,
# Join with a SandboxKey, Leave...).  Sandboxes are namespaces made with
# `ip netns add`; upstreams are dnsmasq in a namespace U joined to H (and
# to one sandbox) by veth pairs:
#
#   H  hu0 10.254.53.1/30 ---- uh0 10.254.53.2/30  U   dnsmasq D1 on .2
#                                                       lo: 10.254.53.9 dnsmasq D2
#   S4 su0 10.254.53.5/30 ---- us0 10.254.53.6/30       10.254.53.10 (dropped)
#                                                       10.254.53.11 (port 53 closed)
#
# H and S4 route 10.254.53.8/29 to U.  Every link lives in one of this
# run's namespaces (names unique per run), so nothing touches the host's
# links, and no query leaves for the machine's resolver or outside.
#
# The daemon runs with DOCKER_SOCKET=off (no Engine API: only forwarding)
# and LOG_LEVEL=debug, once per group of scenarios with their DNS_*
# settings.  A sandbox namespace must be an nsfs mount in the daemon's
# mount namespace (`ip netns exec` gives it a private one): the sandboxes
# are made before the daemon starts, and the pending case bind-mounts one
# inside the daemon's mount namespace with nsenter.
#
# The client is a small Perl script (perl-base only): one query over UDP,
# with or without EDNS, or TCP, printing rcode, TC, the answers and TTLs.
#
#   tests/integration/dns_daemon.sh path/to/cbridge
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
for t in dnsmasq nsenter busybox perl curl jq iptables; do
	if ! command -v "$t" >/dev/null; then
		echo "$0: needs $t (dnsmasq: apt-get install dnsmasq-base)" >&2
		exit 1
	fi
done

run=cbt-n$$-$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')
H=$run-h
U=$run-u
S1=$run-s1	# forwarding, TC, cache, lifecycle
S2=$run-s2	# internal networks only
S3=$run-s3	# pending until bind-mounted
S4=$run-s4	# its own route to U (DNS_FORWARD_FROM=sandbox)
ALLNS="$H $U $S1 $S2 $S3 $S4"
tmp=$(mktemp -d "/tmp/$run.XXXX")
sock=$tmp/cbridge.sock
pid=
dm1=
dm2=
passed=0
failed=0
DNS=169.254.53.53
D1=10.254.53.2		# dnsmasq, answers ext.test with 192.0.2.7
D2=10.254.53.9		# dnsmasq, answers ext.test with 192.0.2.9
DROP=10.254.53.10	# routed into U, dropped there
CLOSED=10.254.53.11	# in U, nothing on port 53

cleanup() {
	if [ -n "$pid" ]; then
		nsenter --mount="/proc/$pid/ns/mnt" umount "$tmp/key3" \
		    2>/dev/null || true
		kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	fi
	for p in $dm1 $dm2; do
		kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
	done
	for n in $ALLNS; do
		ip netns delete "$n" 2>/dev/null || true
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# within SECONDS CMD...: CMD succeeds within SECONDS (tenths of a second).
within() {
	local n=$(($1 * 10)) i; shift
	for i in $(seq "$n"); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}
now_ms() { echo $(($(date +%s%N) / 1000000)); }

# ---- the namespaces ----

for n in $ALLNS; do
	ip netns add "$n"
	ip -n "$n" link set lo up
done
ip -n "$H" link add hu0 type veth peer name uh0 netns "$U"
ip -n "$H" addr add 10.254.53.1/30 dev hu0
ip -n "$H" link set hu0 up
ip -n "$H" route add 10.254.53.8/29 via "$D1"
ip -n "$U" addr add "$D1/30" dev uh0
ip -n "$U" link set uh0 up
for a in "$D2" "$DROP" "$CLOSED"; do
	ip -n "$U" addr add "$a/32" dev lo
done
ip netns exec "$U" iptables -A INPUT -d "$DROP" -j DROP
ip -n "$S4" link add su0 type veth peer name us0 netns "$U"
ip -n "$S4" addr add 10.254.53.5/30 dev su0
ip -n "$S4" link set su0 up
ip -n "$U" addr add 10.254.53.6/30 dev us0
ip -n "$U" link set us0 up
ip -n "$S4" route add 10.254.53.8/29 via 10.254.53.6
ip -n "$S4" route add 10.254.53.0/30 via 10.254.53.6

# ---- the upstreams ----

big=$(printf 'x%.0s' $(seq 200))
# dnsmasq LISTEN ANSWER LOG: answers ext.test (and below) with ANSWER,
# big.test with four 200-byte TXT records (over 512 bytes), TTL 2;
# NXDOMAIN below nx.test, REFUSED for anything else (no servers).
dnsmasq_start() {
	ip netns exec "$U" dnsmasq -k -C /dev/null --user=root --port=53 \
	    --listen-address="$1" --bind-interfaces --no-resolv --no-hosts \
	    --pid-file= --log-queries=extra --log-facility="$3" --local-ttl=2 \
	    --address=/ext.test/"$2" --local=/nx.test/ \
	    --txt-record=big.test,"1$big" --txt-record=big.test,"2$big" \
	    --txt-record=big.test,"3$big" --txt-record=big.test,"4$big" \
	    >>"$3.out" 2>&1 &
}
dnsmasq_start "$D1" 192.0.2.7 "$tmp/d1.log"
dm1=$!
dnsmasq_start "$D2" 192.0.2.9 "$tmp/d2.log"
dm2=$!
up() { ip netns exec "$U" busybox nslookup -type=a up.ext.test "$1" >/dev/null 2>&1; }
if ! within 5 up "$D1" || ! within 5 up "$D2"; then
	echo "dnsmasq did not start:"; cat "$tmp"/d*.log*
	exit 1
fi

# seen LOG NAME: how many queries for NAME reached the upstream.
seen() { grep -c "query\[[A-Z]*\] $2 from" "$1" || true; }
# logged LOG NAME: the upstream logged a query for NAME.
logged() { [ "$(seen "$1" "$2")" -ge 1 ] 2>/dev/null; }
# never_seen LOG SERVER NAME: the upstream SERVER, logging to LOG, never
# saw NAME.  First proven to log what it gets by now: a query for
# ctl-NAME, sent to it straight from H after NAME's, must show up in LOG,
# so that a log that is not written or not read cannot pass.
never_seen() {
	ip netns exec "$H" busybox nslookup -type=a "ctl-$3" "$2" >/dev/null 2>&1 || true
	if ! within 2 logged "$1" "ctl-$3"; then
		echo "# probe: a query for ctl-$3 straight to $2 is not in $1"
		return 1
	fi
	[ "$(seen "$1" "$3")" = 0 ]
}
# seen_from LOG NAME SOURCE: a query for NAME came from SOURCE.
seen_from() { grep -q "query\[[A-Z]*\] $2 from $3\$" "$1"; }

# ---- the client ----

cat >"$tmp/q.pl" <<'EOF'
# q.pl SERVER NAME TYPE udp|tcp EDNS_SIZE(0: none) TIMEOUT_S
use strict;
use IO::Socket::INET;
use IO::Select;
my ($srv, $name, $type, $proto, $edns, $to) = @ARGV;
my %types = (A => 1, NS => 2, TXT => 16, AAAA => 28);
my %rcodes = (0 => 'NOERROR', 1 => 'FORMERR', 2 => 'SERVFAIL',
    3 => 'NXDOMAIN', 4 => 'NOTIMP', 5 => 'REFUSED');
my $id = int(rand(65536));
my $q = pack('nnnnnn', $id, 0x0100, 1, 0, 0, $edns ? 1 : 0);
$q .= join('', map { chr(length $_) . $_ } split(/\./, $name)) . "\0";
$q .= pack('nn', $types{$type}, 1);
$q .= pack('Cnnnnn', 0, 41, $edns, 0, 0, 0) if $edns;
my $r = '';
my $s = IO::Socket::INET->new(PeerAddr => $srv, PeerPort => 53,
    Proto => $proto, Timeout => $to) or die "socket: $!\n";
my $sel = IO::Select->new($s);
if ($proto eq 'tcp') {
	$s->send(pack('n', length $q) . $q);
	my $buf = '';
	while (length($buf) < 2 || length($buf) < 2 + unpack('n', $buf)) {
		$sel->can_read($to) or do { print "timeout\n"; exit 1 };
		my $n = sysread($s, $buf, 65537, length $buf);
		last unless $n;
	}
	$r = substr($buf, 2);
} else {
	$s->send($q);
	$sel->can_read($to) or do { print "timeout\n"; exit 1 };
	$s->recv($r, 65535);
}
my ($rid, $fl, $qd, $an) = unpack('nnnn', $r);
die "id mismatch\n" if $rid != $id;
printf "rcode=%s tc=%d an=%d size=%d\n", $rcodes{$fl & 15} // ($fl & 15),
    ($fl >> 9) & 1, $an, length $r;
my $o = 12;
sub skipname { while (1) { my $l = ord(substr($r, $o, 1));
	if ($l >= 192) { $o += 2; return } $o += $l + 1; return if !$l } }
for (1 .. $qd) { skipname(); $o += 4 }
for (1 .. $an) {
	skipname();
	my ($t, $c, $ttl, $len) = unpack('nnNn', substr($r, $o, 10));
	$o += 10;
	printf "A %s ttl=%d\n", join('.', unpack('C4', substr($r, $o, 4))), $ttl
	    if $t == 1;
	printf "TXT %d ttl=%d\n", $len, $ttl if $t == 16;
	$o += $len;
}
EOF
# q NS NAME [TYPE [PROTO [EDNS [TIMEOUT]]]]: one query from namespace NS.
q() {
	ip netns exec "$1" perl "$tmp/q.pl" "$DNS" "$2" "${3:-A}" "${4:-udp}" \
	    "${5:-0}" "${6:-6}" 2>&1 || true
}
has() { [[ "$1" == *"$2"* ]]; }

# ---- the daemon ----

nrun=0
# start ENV...: a daemon with these settings (and a fresh state).
start() {
	nrun=$((nrun + 1))
	log=$tmp/log.$nrun
	# Not through a function: $! must be the daemon.
	ip netns exec "$H" env LOG_LEVEL=debug DOCKER_SOCKET=off "$@" \
	    "$bin" --socket "$sock" --state-dir "$tmp/state.$nrun" >>"$log" 2>&1 &
	pid=$!
	wait_daemon "$log"
}

# expect DESCRIPTION ROUTE BODY STATUS
expect() {
	local got
	got=$(call "$2" "$3")
	if [ "${got%% *}" = "$4" ]; then ok "$1"; else not_ok "$1 (got: $got)"; fi
}
# id KIND N: a 64-hex network or endpoint ID, unique per daemon run.
id() { printf '%s%02x%02x%058d' "$1" "$nrun" "$2" 0; }
# net N SUBNET [internal]: prints the network ID.
net() {
	local i opts='{}'
	i=$(id 0e "$1")
	[ "${3:-}" = internal ] && opts='{"com.docker.network.internal":true}'
	call NetworkDriver.CreateNetwork "{\"NetworkID\":\"$i\",\"Options\":$opts,\"IPv4Data\":[{\"AddressSpace\":\"LocalDefault\",\"Pool\":\"$2.0/24\",\"Gateway\":\"$2.1/24\"}]}" >"$tmp/netr"
	[ "$(cut -c1-3 "$tmp/netr")" = 200 ] || { echo "# CreateNetwork: $(cat "$tmp/netr")" >&2; }
	echo "$i"
}
# ep NET N HOSTPART: prints the endpoint ID.
ep() {
	local i
	i=$(id ee "$2")
	call NetworkDriver.CreateEndpoint "{\"NetworkID\":\"$1\",\"EndpointID\":\"$i\",\"Interface\":{\"Address\":\"$3\"},\"Options\":{}}" >/dev/null
	echo "$i"
}
join() { call NetworkDriver.Join "{\"NetworkID\":\"$1\",\"EndpointID\":\"$2\",\"SandboxKey\":\"$3\",\"Options\":{}}"; }
leave() { call NetworkDriver.Leave "{\"NetworkID\":\"$1\",\"EndpointID\":\"$2\"}"; }

stats() {
	curl -sS --max-time 10 --unix-socket "$sock" -XPOST \
	    http://plugin/Cbridge.DnsStats --data-binary '' 2>/dev/null || true
}
# sb KEY JQ: a field of one sandbox's counters.
sb() {
	stats | jq -r --arg k "$1" ".Sandboxes[] | select(.SandboxKey == \$k) | $2"
}
# top JQ: a field of the whole document.
top() { stats | jq -r "$1"; }
state_is() { [ "$(sb "$1" .State)" = "$2" ]; }
listed() { [ -n "$(sb "$1" .State)" ]; }
addr_on() { ip -n "$1" -4 addr show dev lo | grep -q "inet $DNS/32"; }
# no_addr NS: lo of NS is there, with 127.0.0.1, and has not $DNS.
no_addr() {
	local a
	a=$(ip -n "$1" -4 addr show dev lo) && grep -q 'inet 127\.0\.0\.1/8' <<<"$a" &&
	    ! grep -q "inet $DNS/32" <<<"$a"
}
ge() { [ "${1:-0}" -ge "$2" ] 2>/dev/null; }

# The daemon's logs and the upstreams', kept for a look afterwards.
keep_log() {
	for f in "$tmp"/log.* "$tmp"/d1.log "$tmp"/d2.log; do
		echo "==> ${f##*/}"; cat "$f"
	done >/tmp/cbt-dns-daemon.log 2>/dev/null || true
}

t_start=$(now_ms)

echo "# daemon 1: DNS_UPSTREAMS=$D1"
start DNS_UPSTREAMS="$D1"
check "dns-stats --json: forwarding from the host, upstream $D1" \
    test "$("$bin" dns-stats --socket "$sock" --json | jq -r '[.ForwardFrom, .Upstreams[0].Address, .Engine.Enabled] | join(" ")')" = "host $D1:53 false"
N1=$(net 1 172.31.201)
N2=$(net 2 172.31.202 internal)
N3=$(net 3 172.31.203)
E1=$(ep "$N1" 1 172.31.201.5/24)
E2=$(ep "$N2" 2 172.31.202.5/24)
E3=$(ep "$N3" 3 172.31.203.5/24)

echo "# lifecycle: Join puts the address on the sandbox's lo"
r=$(join "$N1" "$E1" "/run/netns/$S1")
check "Join ($r)" test "${r%% *}" = 200
check "$DNS/32 on $S1's lo" within 3 addr_on "$S1"
check "dns-stats: $S1 serving, forwarding" test "$(sb "/run/netns/$S1" '[.State, .Forwarding, .Endpoints] | join(" ")')" = "serving true 1"

echo "# forwarding from the host namespace"
r=$(ip netns exec "$S1" busybox nslookup -type=a ext.test "$DNS" 2>&1 || true)
check "busybox nslookup ext.test: 192.0.2.7" has "$r" "Address: 192.0.2.7"
check "the upstream saw it from H's end of the veth (10.254.53.1)" \
    within 2 seen_from "$tmp/d1.log" ext.test 10.254.53.1
r=$(q "$S1" nope.nx.test)
check "the upstream's NXDOMAIN relayed ($r)" has "$r" rcode=NXDOMAIN
r=$(q "$S1" nx.zz)
check "the upstream's REFUSED, no other upstream: SERVFAIL ($r)" has "$r" rcode=SERVFAIL
check "logged: sandbox, namespace, upstream and reason" grep -qF \
    "dns: sandbox /run/netns/$S1: forwarding nx.zz. (type 1) from the host namespace to $D1:53 failed: refused" "$log"

echo "# TC=1 from the upstream: retried over TCP"
r=$(q "$S1" big.test TXT udp 0)
check "UDP client without EDNS: minimal TC=1 reply ($(head -1 <<<"$r"))" has "$r" "rcode=NOERROR tc=1 an=0"
check "upstream 0: TcRetries >= 1" ge "$(top '.Upstreams[0].TcRetries')" 1
check "sandbox: Truncations >= 1" ge "$(sb "/run/netns/$S1" .Truncations)" 1
check "the upstream saw big.test twice (UDP, then TCP)" \
    within 2 test "$(seen "$tmp/d1.log" big.test)" = 2
# dnsmasq answers TCP in a child process: the second query's pid is not
# the daemon's.
check "the second over TCP (logged by dnsmasq's TCP child, not pid $dm1)" \
    test "$(grep 'query\[TXT\] big.test' "$tmp/d1.log" | grep -o 'dnsmasq\[[0-9]*\]' |
    sed 's/[^0-9]//g' | tr '\n' ' ' | awk -v p="$dm1" '{ print ($1 == p && $2 != p) }')" = 1
r=$(q "$S1" big.test TXT tcp 0)
check "TCP client: the whole reply, 4 TXT records ($(head -1 <<<"$r"))" has "$r" "rcode=NOERROR tc=0 an=4"
r=$(q "$S1" big.test TXT udp 1232)
check "UDP client with EDNS 1232: the whole reply ($(head -1 <<<"$r"))" has "$r" "rcode=NOERROR tc=0 an=4"
check "both from the cache: the upstream still saw 2" test "$(seen "$tmp/d1.log" big.test)" = 2
check "sandbox: QueriesTcp >= 1" ge "$(sb "/run/netns/$S1" .QueriesTcp)" 1
r=$(ip netns exec "$S1" busybox nslookup -type=txt big.test "$DNS" 2>&1 || true)
echo "# busybox nslookup -type=txt big.test (UDP, no EDNS, no TCP retry): $(tr '\n' ' ' <<<"$r" | cut -c1-160)"

echo "# cache and expiry (upstream TTL 2)"
hits0=$(top .Cache.Hits)
r1=$(q "$S1" c1.ext.test)
r2=$(q "$S1" c1.ext.test)
check "two answers: 192.0.2.7, TTL 2 ($(tr '\n' ' ' <<<"$r1"))" has "$r1$r2" "A 192.0.2.7 ttl=2"
check "the second from the cache ($(grep -o 'A .*' <<<"$r2"))" has "$r2" "A 192.0.2.7"
check "the upstream saw c1.ext.test once" within 2 test "$(seen "$tmp/d1.log" c1.ext.test)" = 1
check "Cache.Hits went up" ge "$(top .Cache.Hits)" $((hits0 + 1))
check "sandbox CacheHits >= 1" ge "$(sb "/run/netns/$S1" .CacheHits)" 1
sleep 3
r=$(q "$S1" c1.ext.test)
check "after 3 s: answered again ($(grep -o 'A .*' <<<"$r"))" has "$r" "A 192.0.2.7"
check "and the upstream saw a second query" within 2 test "$(seen "$tmp/d1.log" c1.ext.test)" = 2

echo "# a sandbox on internal networks only never forwards"
r=$(join "$N2" "$E2" "/run/netns/$S2")
check "Join the internal network ($r)" test "${r%% *}" = 200
check "$DNS/32 on $S2's lo" within 3 addr_on "$S2"
check "dns-stats: Forwarding false" test "$(sb "/run/netns/$S2" '[.State, .Forwarding] | join(" ")')" = "serving false"
r=$(q "$S2" i1.ext.test)
check "external name: SERVFAIL ($(head -1 <<<"$r"))" has "$r" rcode=SERVFAIL
sleep 0.3
check "the upstream never saw it" never_seen "$tmp/d1.log" "$D1" i1.ext.test
check "sandbox ServFail >= 1" ge "$(sb "/run/netns/$S2" .ServFail)" 1

echo "# a SandboxKey that is not a namespace yet: pending until mounted"
: >"$tmp/key3"
r=$(join "$N3" "$E3" "$tmp/key3")
check "Join with an empty file as SandboxKey ($r)" test "${r%% *}" = 200
check "dns-stats: pending" within 3 state_is "$tmp/key3" pending
check "nothing on $S3's lo yet" no_addr "$S3"
t0=$(now_ms)
nsenter --mount="/proc/$pid/ns/mnt" mount --bind "/run/netns/$S3" "$tmp/key3"
within 5 state_is "$tmp/key3" serving || true
t1=$(now_ms)
echo "# pending -> serving after the bind mount: $((t1 - t0)) ms"
check "serving after the mount" state_is "$tmp/key3" serving
check "serving within 1 s of the mount ($((t1 - t0)) ms)" test $((t1 - t0)) -lt 1000
check "$DNS/32 on $S3's lo" addr_on "$S3"
r=$(ip netns exec "$S3" busybox nslookup -type=a p1.ext.test "$DNS" 2>&1 || true)
check "query from $S3 answered: 192.0.2.7" has "$r" "Address: 192.0.2.7"

echo "# lifecycle: Leave takes the address away"
r=$(leave "$N1" "$E1")
check "Leave ($r)" test "${r%% *}" = 200
check "$DNS/32 gone from $S1's lo" within 3 no_addr "$S1"
check "dns-stats no longer lists $S1" within 3 eval "! listed /run/netns/$S1"
expect "DeleteEndpoint" NetworkDriver.DeleteEndpoint "{\"NetworkID\":\"$N1\",\"EndpointID\":\"$E1\"}" 200
expect "DeleteNetwork" NetworkDriver.DeleteNetwork "{\"NetworkID\":\"$N1\"}" 200
check "the others still served" test "$(top '[.Sandboxes[].State] | join(" ")')" = "serving serving"

echo "# SIGTERM: exits 0, the address leaves every sandbox"
check "SIGTERM exits 0" stop
check "$DNS/32 gone from every sandbox's lo" eval "no_addr $S1 && no_addr $S2 && no_addr $S3"
check "no other failed forward logged" test "$(grep -c 'failed:' "$log")" = 1

echo "# daemon 2: DNS_UPSTREAMS=$DROP,$D1 (the first drops everything)"
start DNS_UPSTREAMS="$DROP,$D1"
N1=$(net 1 172.31.211)
E1=$(ep "$N1" 1 172.31.211.5/24)
join "$N1" "$E1" "/run/netns/$S1" >/dev/null
within 3 addr_on "$S1" || true
t0=$(now_ms)
r=$(q "$S1" f1.ext.test A udp 0 6)
t1=$(now_ms)
echo "# failover after a timeout: $((t1 - t0)) ms"
check "answered by the second upstream ($(grep -o 'A [^ ]*' <<<"$r"))" has "$r" "A 192.0.2.7"
check "after the first try timed out, within the client's 5 s ($((t1 - t0)) ms)" \
    test $((t1 - t0)) -ge 1500 -a $((t1 - t0)) -lt 5000
check "upstream 0: a timeout, no reply" test "$(top '[.Upstreams[0].Timeouts, .Upstreams[0].Replies] | join(" ")')" = "1 0"
check "upstream 1: a reply" test "$(top '.Upstreams[1].Replies')" = 1
check "sandbox counters: no forward failed" test "$(sb "/run/netns/$S1" '[.UpstreamFailures, .Upstreams[0].Timeouts] | join(" ")')" = "0 0"
check "a forward that succeeded logs no failure" eval "grep -q ' serving ' $log && ! grep -q 'failed:' $log"
check "SIGTERM exits 0" stop
check "$DNS/32 gone from $S1's lo" no_addr "$S1"

echo "# daemon 3: DNS_UPSTREAMS=$CLOSED,$D1 (nothing listens on the first)"
start DNS_UPSTREAMS="$CLOSED,$D1"
N1=$(net 1 172.31.221)
E1=$(ep "$N1" 1 172.31.221.5/24)
join "$N1" "$E1" "/run/netns/$S1" >/dev/null
within 3 addr_on "$S1" || true
t0=$(now_ms)
r=$(q "$S1" f2.ext.test A udp 0 6)
t1=$(now_ms)
echo "# failover after port unreachable: $((t1 - t0)) ms"
check "answered by the second upstream ($(grep -o 'A [^ ]*' <<<"$r"))" has "$r" "A 192.0.2.7"
check "at once ($((t1 - t0)) ms < 1000)" test $((t1 - t0)) -lt 1000
check "upstream 0: an error, no timeout" test "$(top '[.Upstreams[0].Errors, .Upstreams[0].Timeouts] | join(" ")')" = "1 0"
check "upstream 1: a reply" test "$(top '.Upstreams[1].Replies')" = 1
check "SIGTERM exits 0" stop

echo "# daemon 4: DNS_UPSTREAMS=$DROP only: SERVFAIL, one log line per failure"
start DNS_UPSTREAMS="$DROP"
N1=$(net 1 172.31.231)
E1=$(ep "$N1" 1 172.31.231.5/24)
join "$N1" "$E1" "/run/netns/$S1" >/dev/null
within 3 addr_on "$S1" || true
t0=$(now_ms)
q "$S1" fail1.ext.test A udp 0 7 >"$tmp/fail1" &
q1=$!
q "$S1" fail2.ext.test A udp 0 7 >"$tmp/fail2" &
q2=$!
wait "$q1" "$q2" || true
t1=$(now_ms)
r="$(cat "$tmp/fail1" "$tmp/fail2")"
check "both SERVFAIL, after the budget ($((t1 - t0)) ms)" \
    test "$(grep -c rcode=SERVFAIL <<<"$r")" = 2 -a $((t1 - t0)) -ge 4000
for n in fail1 fail2; do
	line="forwarding $n.ext.test. (type 1) from the host namespace to $DROP:53 failed: timeout"
	check "one log line for $n naming the sandbox, namespace, upstream, reason" \
	    test "$(grep -cF "dns: sandbox /run/netns/$S1: $line" "$log")" = 1
done
check "the second of them at debug level" \
    test "$(grep -F 'failed: timeout' "$log" | grep -c 'Z debug ')" = 1
check "dns-stats: ServFail 2, UpstreamFailures 2, both timeouts of upstream 0" \
    test "$(sb "/run/netns/$S1" '[.ServFail, .UpstreamFailures, .Upstreams[0].Timeouts] | join(" ")')" = "2 2 2"
check "SIGTERM exits 0" stop

echo "# daemon 5: upstreams from DNS_RESOLV_CONF, re-read when it changes"
echo "nameserver $D1" >"$tmp/resolv.conf"
start DNS_RESOLV_CONF="$tmp/resolv.conf"
N1=$(net 1 172.31.241)
E1=$(ep "$N1" 1 172.31.241.5/24)
join "$N1" "$E1" "/run/netns/$S1" >/dev/null
within 3 addr_on "$S1" || true
check "dns-stats: upstream $D1 from the file" \
    test "$(top '[.UpstreamsFrom, (.Upstreams | map(.Address) | join(","))] | join(" ")')" = "$tmp/resolv.conf $D1:53"
r=$(q "$S1" r1.ext.test)
check "answered by D1 ($(grep -o 'A [^ ]*' <<<"$r"))" has "$r" "A 192.0.2.7"
printf '# rewritten\nnameserver %s\n' "$D2" >"$tmp/resolv.conf.new"
mv "$tmp/resolv.conf.new" "$tmp/resolv.conf"
t0=$(now_ms)
upstream_is() { [ "$(top '.Upstreams | map(.Address) | join(",")')" = "$1" ]; }
within 4 upstream_is "$D2:53" || true
t1=$(now_ms)
echo "# new upstream picked up after $((t1 - t0)) ms"
check "dns-stats: upstream now $D2 ($((t1 - t0)) ms)" upstream_is "$D2:53"
check "within 2 s" test $((t1 - t0)) -le 2000
r=$(q "$S1" r1.ext.test)
check "r1.ext.test now answered by D2 (cache flushed) ($(grep -o 'A [^ ]*' <<<"$r"))" has "$r" "A 192.0.2.9"
check "D2 saw it from H" within 2 seen_from "$tmp/d2.log" r1.ext.test 10.254.53.1
check "SIGTERM exits 0" stop

echo "# daemon 6: DNS_FORWARD_FROM=sandbox"
# U drops whatever comes from H: only the sandbox's own route reaches it.
ip netns exec "$U" iptables -I INPUT -s 10.254.53.1 -j DROP
start DNS_UPSTREAMS="$D2" DNS_FORWARD_FROM=sandbox
N1=$(net 1 172.31.251)
E1=$(ep "$N1" 1 172.31.251.5/24)
r=$(join "$N1" "$E1" "/run/netns/$S4")
check "Join $S4 ($r)" test "${r%% *}" = 200
check "$DNS/32 on $S4's lo" within 3 addr_on "$S4"
check "dns-stats: ForwardFrom sandbox, per-sandbox upstream counters" \
    test "$(top '.ForwardFrom + " " + (.Sandboxes[0].SandboxUpstreams[0].Address)')" = "sandbox $D2:53"
r=$(q "$S4" s1.ext.test)
check "answered ($(grep -o 'A [^ ]*' <<<"$r"))" has "$r" "A 192.0.2.9"
check "D2 saw it from the sandbox's address 10.254.53.5" \
    within 2 seen_from "$tmp/d2.log" s1.ext.test 10.254.53.5
check "and never from H (the same log shows it from the sandbox)" eval \
    "seen_from '$tmp/d2.log' s1.ext.test 10.254.53.5 && ! seen_from '$tmp/d2.log' s1.ext.test 10.254.53.1"
check "sandbox's own forwarder: one reply" test "$(sb "/run/netns/$S4" '.SandboxUpstreams[0].Replies')" = 1
check "SIGTERM exits 0" stop
check "$DNS/32 gone from $S4's lo" no_addr "$S4"
ip netns exec "$U" iptables -D INPUT -s 10.254.53.1 -j DROP

check "no sanitizer report or crash in the daemon's logs" \
    no_sanitizer_report "$tmp"/log.*

echo "# $((($(now_ms) - t_start) / 1000)) s"
keep_log
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
