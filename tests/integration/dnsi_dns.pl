#!/usr/bin/perl
# Helper of tests/integration/dns_intercept.sh: a DNS server that answers
# every A query with one fixed address, and a one-query client that says
# who answered.  Only perl-base modules: perl is Essential on Debian.
#
#   dnsi_dns.pl serve ADDR UDPPORT TCPPORT ANSWER
#       a UDP socket bound to ADDR:UDPPORT and a TCP listener on
#       ADDR:TCPPORT (0: a port the kernel picks, as dockerd's resolver
#       does); prints "udp=PORT tcp=PORT" once both are bound, then
#       answers every query with A ANSWER (TTL 0) until killed
#   dnsi_dns.pl query udp|tcp ADDR PORT NAME [SPORT [TIMEOUT]]
#       one A query for NAME to ADDR:PORT, from source port SPORT (0 or
#       missing: any); prints "A ANSWER from SRCADDR:SRCPORT" (for TCP
#       the address connected to) and exits 0, or prints why and exits 1
#       (no answer within TIMEOUT seconds, default 2, or a reply that is
#       not the answer to this query)
use strict;
use warnings;
use IO::Select;
use IO::Socket::INET;
use Socket qw(inet_aton inet_ntoa pack_sockaddr_in unpack_sockaddr_in);

$| = 1;

# The question section of msg (name and type/class), from offset 12.
sub question {
	my ($msg) = @_;
	my $o = 12;
	while ($o < length $msg) {
		my $l = ord(substr($msg, $o, 1));
		$o += $l + 1;
		last if $l == 0;
	}
	return undef if $o + 4 > length $msg;
	return substr($msg, 12, $o + 4 - 12);
}

# The reply to query q: one A record, or FORMERR when q has no question.
sub answer {
	my ($q, $addr) = @_;
	return undef if length $q < 12;
	my ($id, $fl) = unpack('nn', $q);
	my $qs = question($q);
	return pack('nnnnnn', $id, 0x8181, 0, 0, 0, 0) unless defined $qs;
	return pack('nnnnnn', $id, 0x8180 | ($fl & 0x0100), 1, 1, 0, 0) . $qs .
	    pack('nnnNn', 0xc00c, 1, 1, 0, 4) . inet_aton($addr);
}

my $mode = shift(@ARGV) // '';
if ($mode eq 'serve' && @ARGV == 4) {
	my ($addr, $uport, $tport, $ans) = @ARGV;
	my $u = IO::Socket::INET->new(LocalAddr => $addr, LocalPort => $uport,
	    Proto => 'udp') or die "dnsi_dns.pl: udp $addr:$uport: $@\n";
	my $t = IO::Socket::INET->new(LocalAddr => $addr, LocalPort => $tport,
	    Proto => 'tcp', Listen => 16, ReuseAddr => 1)
	    or die "dnsi_dns.pl: tcp $addr:$tport: $@\n";
	print 'udp=' . $u->sockport . ' tcp=' . $t->sockport . "\n";
	my $sel = IO::Select->new($u, $t);
	while (1) {
		for my $s ($sel->can_read) {
			if ($s == $t) {
				my $c = $t->accept or next;
				$c->blocking(0);
				my $buf = '';
				my $cs = IO::Select->new($c);
				while ($cs->can_read(2)) {
					my $n = sysread($c, $buf, 65537, length $buf);
					last unless $n;
					last if length $buf >= 2 &&
					    length $buf >= 2 + unpack('n', $buf);
				}
				if (length $buf >= 2) {
					my $r = answer(substr($buf, 2, unpack('n', $buf)), $ans);
					syswrite($c, pack('n', length $r) . $r) if defined $r;
				}
				close $c;
			} else {
				my $from = $u->recv(my $q, 4096);
				next unless defined $from && length $from;
				my $r = answer($q, $ans);
				$u->send($r, 0, $from) if defined $r;
			}
		}
	}
} elsif ($mode eq 'query' && @ARGV >= 4 && @ARGV <= 6 &&
    $ARGV[0] =~ /^(udp|tcp)$/) {
	my ($proto, $addr, $port, $name, $sport, $to) = @ARGV;
	$sport //= 0;
	$to //= 2;
	my $id = int(rand(65536));
	my $q = pack('nnnnnn', $id, 0x0100, 1, 0, 0, 0) .
	    join('', map { chr(length $_) . $_ } split(/\./, $name)) . "\0" .
	    pack('nn', 1, 1);
	my ($r, $from);
	if ($proto eq 'udp') {
		my $s = IO::Socket::INET->new(Proto => 'udp',
		    LocalPort => $sport, ReuseAddr => 1)
		    or die "dnsi_dns.pl: socket: $@\n";
		$s->send($q, 0, pack_sockaddr_in($port, inet_aton($addr)))
		    or die "dnsi_dns.pl: send: $!\n";
		IO::Select->new($s)->can_read($to)
		    or do { print "timeout\n"; exit 1 };
		my $sa = $s->recv($r, 65535);
		defined $sa or do { print "recv: $!\n"; exit 1 };
		my ($p, $a) = unpack_sockaddr_in($sa);
		$from = inet_ntoa($a) . ":$p";
	} else {
		my $s = IO::Socket::INET->new(Proto => 'tcp', PeerAddr => $addr,
		    PeerPort => $port, Timeout => $to,
		    $sport ? (LocalPort => $sport, ReuseAddr => 1) : ())
		    or do { print "connect: $@\n"; exit 1 };
		$from = $s->peerhost . ':' . $s->peerport;
		syswrite($s, pack('n', length $q) . $q);
		my $buf = '';
		my $sel = IO::Select->new($s);
		while (length($buf) < 2 || length($buf) < 2 + unpack('n', $buf)) {
			$sel->can_read($to) or do { print "timeout\n"; exit 1 };
			my $n = sysread($s, $buf, 65537, length $buf);
			last unless $n;
		}
		length $buf >= 2 or do { print "closed\n"; exit 1 };
		$r = substr($buf, 2);
	}
	my ($rid, $fl, $qd, $an) = unpack('nnnn', $r . "\0" x 12);
	if (length $r < 12 || $rid != $id || !($fl & 0x8000) || $an != 1 ||
	    question($r) ne question($q)) {
		print "not the reply to this query\n";
		exit 1;
	}
	my $qs = question($r);
	my $rr = substr($r, 12 + length $qs);
	my ($t, $c, $ttl, $len) = unpack('x2nnNn', $rr);
	if (length $rr < 16 || $t != 1 || $len != 4) {
		print "no A record in the reply\n";
		exit 1;
	}
	print 'A ' . join('.', unpack('C4', substr($rr, 12, 4))) .
	    " from $from\n";
} else {
	print STDERR "usage: dnsi_dns.pl serve ADDR UDPPORT TCPPORT ANSWER\n" .
	    "       dnsi_dns.pl query udp|tcp ADDR PORT NAME [SPORT [TIMEOUT]]\n";
	exit 2;
}
