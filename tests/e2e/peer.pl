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
} else {
	die "usage: peer.pl serve PORT NAME | peer.pl udp HOST PORT [SEC]\n";
}
