#!/usr/bin/perl
# Helper of tests/e2e/firewall.sh for what busybox cannot do: its nc has
# no UDP and no way to tell who connected.
#
#   peer.pl serve PORT NAME     TCP and UDP server on PORT (IPv4 and IPv6
#                               where the namespace has it): answers every
#                               connection or datagram with one line
#                               "cbtok-NAME peer ADDR", ADDR being the
#                               source address it saw; prints "listening"
#                               once bound
#   peer.pl udp HOST PORT [SEC] sends a datagram to HOST:PORT (twice, SEC/2
#                               apart) and prints the first answer; fails
#                               without one within SEC seconds (default 2)
#   peer.pl dns SERVER NAME TYPE udp|tcp [SEC]
#                               one DNS query (TYPE A, AAAA or PTR, class
#                               IN, RD set) to SERVER port 53 over UDP or
#                               TCP; prints "rcode=RCODE an=N" and one line
#                               per answer record, "TYPE DATA ttl=TTL";
#                               fails without a matching reply within SEC
#                               seconds (default 3)
#
# Only perl-base modules: perl is Essential on Debian.
use strict;
use warnings;
use IO::Select;
use IO::Socket::IP;
use Socket qw(SOCK_STREAM NI_NUMERICHOST NIx_NOSERV getnameinfo);

$| = 1;

sub shown {
	my ($sa) = @_;
	my ($err, $host) = getnameinfo($sa, NI_NUMERICHOST, NIx_NOSERV);
	return '?' if $err;
	$host =~ s/^::ffff:(\d+\.\d+\.\d+\.\d+)$/$1/;
	$host =~ s/%.*$//;
	return $host;
}

sub listener {
	my ($proto, $port) = @_;
	my %o = (LocalPort => $port, Proto => $proto, ReuseAddr => 1);
	$o{Listen} = 16 if $proto eq 'tcp';
	return IO::Socket::IP->new(%o, LocalHost => '::', V6Only => 0) //
	    IO::Socket::IP->new(%o, LocalHost => '0.0.0.0') //
	    die "peer.pl: cannot bind $proto port $port: $@\n";
}

my $mode = shift(@ARGV) // '';
if ($mode eq 'serve' && @ARGV == 2) {
	my ($port, $name) = @ARGV;
	my $sel = IO::Select->new(listener('tcp', $port), listener('udp', $port));
	print "listening\n";
	while (1) {
		for my $s ($sel->can_read) {
			if ($s->socktype == SOCK_STREAM) {
				my $c = $s->accept or next;
				print $c "cbtok-$name peer " . shown($c->peername) . "\n";
				close $c;
			} else {
				my $from = $s->recv(my $buf, 4096);
				next unless defined $from && length $from;
				$s->send("cbtok-$name peer " . shown($from) . "\n", 0, $from);
			}
		}
	}
} elsif ($mode eq 'udp' && (@ARGV == 2 || @ARGV == 3)) {
	my ($host, $port, $sec) = @ARGV;
	$sec //= 2;
	my $s = IO::Socket::IP->new(PeerHost => $host, PeerPort => $port,
	    Proto => 'udp') or die "peer.pl: udp socket to $host port $port: $@\n";
	my $sel = IO::Select->new($s);
	for my $try (1, 2) {
		$s->send("ping\n");
		next unless $sel->can_read($sec / 2);
		my $buf;
		if (defined $s->recv($buf, 4096)) {
			print $buf;
			exit 0;
		}
		die "peer.pl: $host port $port/udp: $!\n";
	}
	die "peer.pl: no answer from $host port $port/udp within $sec s\n";
} elsif ($mode eq 'dns' && (@ARGV == 4 || @ARGV == 5)) {
	exit dns(@ARGV);
} else {
	die "usage: peer.pl serve PORT NAME | peer.pl udp HOST PORT [SEC] | " .
	    "peer.pl dns SERVER NAME TYPE udp|tcp [SEC]\n";
}

# name(MSG, OFF): the (possibly compressed) name at OFF and the offset
# after it; dies on a loop or a name running past the message.
sub name {
	my ($m, $o) = @_;
	my (@labels, $end);
	for (my $hops = 0; $hops < 64; $hops++) {
		die "peer.pl: truncated name\n" if $o >= length $m;
		my $l = ord(substr($m, $o, 1));
		if ($l >= 192) {
			die "peer.pl: truncated pointer\n" if $o + 2 > length $m;
			$end //= $o + 2;
			$o = unpack('n', substr($m, $o, 2)) & 0x3fff;
			next;
		}
		if ($l == 0) {
			return (join('.', @labels), $end // $o + 1);
		}
		die "peer.pl: truncated label\n" if $o + 1 + $l > length $m;
		push @labels, substr($m, $o + 1, $l);
		$o += 1 + $l;
	}
	die "peer.pl: compression loop\n";
}

sub dns {
	my ($srv, $qname, $type, $proto, $sec) = @_;
	$sec //= 3;
	my %types = (A => 1, PTR => 12, AAAA => 28);
	my %rcodes = (0 => 'NOERROR', 1 => 'FORMERR', 2 => 'SERVFAIL',
	    3 => 'NXDOMAIN', 4 => 'NOTIMP', 5 => 'REFUSED');
	my $qt = $types{$type} // die "peer.pl: type $type: A, AAAA or PTR\n";
	die "peer.pl: $proto: udp or tcp\n" unless $proto =~ /^(udp|tcp)$/;
	my $id = int(rand(65536));
	my $q = pack('nnnnnn', $id, 0x0100, 1, 0, 0, 0);
	$q .= join('', map { chr(length $_) . $_ } split(/\./, $qname)) . "\0";
	$q .= pack('nn', $qt, 1);
	my $s = IO::Socket::IP->new(PeerHost => $srv, PeerPort => 53,
	    Proto => $proto, Timeout => $sec)
	    or die "peer.pl: $proto socket to $srv port 53: $@\n";
	my $sel = IO::Select->new($s);
	my $r = '';
	if ($proto eq 'tcp') {
		$s->syswrite(pack('n', length $q) . $q);
		while (length($r) < 2 || length($r) < 2 + unpack('n', $r)) {
			$sel->can_read($sec)
			    or die "peer.pl: no reply from $srv/tcp within $sec s\n";
			my $n = sysread($s, $r, 65537, length $r);
			die "peer.pl: $srv/tcp closed the connection\n" unless $n;
		}
		$r = substr($r, 2, unpack('n', $r));
	} else {
		$s->send($q);
		$sel->can_read($sec)
		    or die "peer.pl: no reply from $srv/udp within $sec s\n";
		defined $s->recv($r, 65535) or die "peer.pl: $srv/udp: $!\n";
	}
	die "peer.pl: short reply\n" if length $r < 12;
	my ($rid, $fl, $qd, $an) = unpack('nnnn', $r);
	die "peer.pl: reply ID $rid, sent $id\n" if $rid != $id;
	die "peer.pl: not a reply\n" unless $fl & 0x8000;
	printf "rcode=%s an=%d\n", $rcodes{$fl & 15} // ($fl & 15), $an;
	my $o = 12;
	for (1 .. $qd) {
		(undef, $o) = name($r, $o);
		$o += 4;
	}
	for (1 .. $an) {
		my $owner;
		($owner, $o) = name($r, $o);
		die "peer.pl: truncated record\n" if $o + 10 > length $r;
		my ($t, $c, $ttl, $len) = unpack('nnNn', substr($r, $o, 10));
		$o += 10;
		die "peer.pl: truncated data\n" if $o + $len > length $r;
		my $d = substr($r, $o, $len);
		if ($t == 1 && $len == 4) {
			printf "A %s ttl=%d\n", join('.', unpack('C4', $d)), $ttl;
		} elsif ($t == 28 && $len == 16) {
			printf "AAAA %s ttl=%d\n",
			    join(':', map { sprintf '%x', $_ } unpack('n8', $d)), $ttl;
		} elsif ($t == 12) {
			printf "PTR %s ttl=%d\n", (name($r, $o))[0], $ttl;
		} else {
			printf "TYPE%d len=%d ttl=%d\n", $t, $len, $ttl;
		}
		$o += $len;
	}
	return 0;
}
