/*
 * Integration test of the host-port reservations (firewall/ports.c) and
 * the UDP conntrack flush (firewall/conntrack.c).  Run by
 * tests/integration/ports.sh inside a throwaway network namespace, which
 * the script prepares:
 *
 *   - lo up, so 127.0.0.1 and ::1 exist (::1 must then be bindable; the
 *     IPv6 checks are skipped, and counted as skipped, only when the
 *     kernel has no IPv6 at all);
 *   - an nft table "inet cbpt" whose rules make conntrack track the
 *     namespace's IPv4 and IPv6 traffic, and put UDP datagrams to
 *     ZONE_PORT in conntrack zone ZONE.
 *
 * The ports below are free in a new namespace.  Refuses to run in the
 * namespace of PID 1 (or of its parent): it deletes conntrack entries.
 * Prints "ok N - ..." lines and a final "N passed, M failed, K skipped";
 * exits 1 if anything failed.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <netinet/in.h>

#include <netlink/cache.h>
#include <netlink/netfilter/ct.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>

#include "firewall/hostops.h"
#include "tests/integration/itest.h"

#define P_ANY		40100	/* 0.0.0.0 and ::; ranges above it */
#define P_LOCAL		40110	/* TCP on 127.0.0.1 first */
#define P_TW		40120	/* TCP, left in TIME_WAIT */
#define P_FILTER	40130	/* TCP and UDP behind the filter */
#define P_SCTP		40140
#define CT_P1		40200	/* conntrack: flushed */
#define CT_P2		40201	/* conntrack: kept, then flushed */
#define CT_P3		40202	/* conntrack: no entries */
#define ZONE_PORT	40210	/* conntrack zone ZONE (ports.sh) */
#define ZONE		5

static bool have_v6;	/* the kernel has IPv6: every IPv6 check runs */

#define NO_V6	"the kernel has no IPv6"

static void
diag(const char *what, int r, const char *err)
{
	printf("# %s: %d (%s): %s\n", what, r, r < 0 ? strerror(-r) : "-",
	    err[0] != '\0' ? err : "(no message)");
}

/* See tests/integration/fw_itest.c. */
static int
count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	(void) closedir(d);
	return n - 1;	/* the DIR's own */
}

static socklen_t
mkaddr(int family, const char *ip, unsigned short port,
    struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		if (inet_pton(AF_INET, ip, &sin->sin_addr) != 1)
			abort();
		return sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		if (inet_pton(AF_INET6, ip, &sin6->sin6_addr) != 1)
			abort();
		return sizeof(*sin6);
	}
}

/* -errno of a plain bind (reuse: with SO_REUSEADDR) of ip:port, 0 if it
 * binds (the socket is closed again either way). */
static int
try_bind(int family, int type, const char *ip, unsigned short port,
    bool reuse)
{
	struct sockaddr_storage ss;
	socklen_t len = mkaddr(family, ip, port, &ss);
	int fd, r = 0, on = 1;

	if ((fd = socket(family, type | SOCK_CLOEXEC, 0)) < 0)
		return -errno;
	if (family == AF_INET6)
		(void) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on,
		    sizeof(on));
	if (reuse)
		(void) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on,
		    sizeof(on));
	if (bind(fd, (struct sockaddr *)&ss, len) < 0)
		r = -errno;
	else if (type == SOCK_STREAM && listen(fd, 1) < 0)
		r = -errno;
	(void) close(fd);
	return r;
}

static bool
listening(int fd)
{
	int v = 0;
	socklen_t len = sizeof(v);

	return getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &v, &len) == 0 &&
	    v == 1;
}

static void
sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* ip as text ("" any); text that is no address becomes a value of no
 * family the call accepts, so that it still has to refuse it. */
static int
reserve(int family, int proto, const char *ip, unsigned short lo,
    unsigned short hi, struct fw_resv *rv, char *err, size_t errlen)
{
	struct prefix p = { .family = 0 };

	err[0] = '\0';
	if (ip[0] != '\0' && prefix_parse_addr(ip, &p) < 0)
		p = (struct prefix){ .family = AF_UNIX };
	return fw_hostport_reserve(family, proto, ip[0] ? &p : NULL, lo, hi,
	    rv, err, errlen);
}

static void
test_tcp(void)
{
	struct fw_resv a, b, c, d, e, f, g;
	char err[256], want[64];
	int r;

	r = reserve(AF_INET, IPPROTO_TCP, "", P_ANY, P_ANY, &a, err,
	    sizeof(err));
	if (r < 0)
		diag("reserve", r, err);
	ok(r == 0 && a.fd >= 0 && a.port == P_ANY,
	    "TCP %u on 0.0.0.0 is reserved", P_ANY);
	ok(listening(a.fd), "... and listening, as `ss -ltn` shows it");

	r = reserve(AF_INET, IPPROTO_TCP, "", P_ANY, P_ANY, &b, err,
	    sizeof(err));
	(void) snprintf(want, sizeof(want), "host port %u/tcp on 0.0.0.0",
	    P_ANY);
	ok(r == -EADDRINUSE && b.fd == -1 && b.port == 0,
	    "a second reservation of TCP %u fails with EADDRINUSE", P_ANY);
	ok(strstr(err, want) != NULL && strstr(err, "in use") != NULL,
	    "... and says so: '%s'", err);

	r = reserve(AF_INET, IPPROTO_TCP, "127.0.0.1", P_ANY, P_ANY, &b,
	    err, sizeof(err));
	ok(r == -EADDRINUSE && strstr(err, "on 127.0.0.1") != NULL,
	    "127.0.0.1:%u conflicts with 0.0.0.0:%u", P_ANY, P_ANY);

	r = reserve(AF_INET, IPPROTO_TCP, "127.0.0.1", P_LOCAL, P_LOCAL, &c,
	    err, sizeof(err));
	if (r < 0)
		diag("reserve", r, err);
	ok(r == 0 && c.port == P_LOCAL, "TCP %u on 127.0.0.1 is reserved",
	    P_LOCAL);
	r = reserve(AF_INET, IPPROTO_TCP, "", P_LOCAL, P_LOCAL, &b, err,
	    sizeof(err));
	ok(r == -EADDRINUSE, "0.0.0.0:%u conflicts with 127.0.0.1:%u",
	    P_LOCAL, P_LOCAL);
	ok(try_bind(AF_INET, SOCK_STREAM, "0.0.0.0", P_ANY, true) ==
	    -EADDRINUSE, "a program's bind to 0.0.0.0:%u, even with "
	    "SO_REUSEADDR, fails", P_ANY);

	if (have_v6) {
		r = reserve(AF_INET6, IPPROTO_TCP, "", P_ANY, P_ANY, &d, err,
		    sizeof(err));
		if (r < 0)
			diag("reserve", r, err);
		ok(r == 0 && d.port == P_ANY, "TCP %u on :: coexists with "
		    "0.0.0.0:%u", P_ANY, P_ANY);
		r = reserve(AF_INET6, IPPROTO_TCP, "::1", P_ANY, P_ANY, &b,
		    err, sizeof(err));
		ok(r == -EADDRINUSE && strstr(err, "on ::1") != NULL,
		    "[::1]:%u conflicts with [::]:%u: '%s'", P_ANY, P_ANY,
		    err);
		fw_hostport_release(&d);
	} else {
		skip(NO_V6, "TCP on :: coexists with 0.0.0.0");
		skip(NO_V6, "[::1] conflicts with [::]");
	}

	/* P_ANY is held; take P_ANY+1 too: the range gets P_ANY+2. */
	r = reserve(AF_INET, IPPROTO_TCP, "", P_ANY + 1, P_ANY + 1, &e, err,
	    sizeof(err));
	ok(r == 0 && e.port == P_ANY + 1, "TCP %u reserved", P_ANY + 1);
	r = reserve(AF_INET, IPPROTO_TCP, "", P_ANY, P_ANY + 3, &f, err,
	    sizeof(err));
	if (r < 0)
		diag("reserve", r, err);
	ok(r == 0 && f.port == P_ANY + 2, "range %u-%u gives the first "
	    "free port, %u (got %u)", P_ANY, P_ANY + 3, P_ANY + 2, f.port);
	r = reserve(AF_INET, IPPROTO_TCP, "", P_ANY, P_ANY + 2, &b, err,
	    sizeof(err));
	(void) snprintf(want, sizeof(want), "no free host port in %u-%u/tcp "
	    "on 0.0.0.0", P_ANY, P_ANY + 2);
	ok(r == -EADDRINUSE && strstr(err, want) != NULL,
	    "a range all in use fails with EADDRINUSE: '%s'", err);

	r = reserve(AF_INET, IPPROTO_TCP, "", 0, 0, &g, err, sizeof(err));
	if (r < 0)
		diag("reserve", r, err);
	ok(r == 0 && g.port != 0, "0-0 gives a port the kernel picks (%u)",
	    g.port);
	ok(try_bind(AF_INET, SOCK_STREAM, "127.0.0.1", g.port, false) ==
	    -EADDRINUSE, "... that is really held");

	/* Release frees; releasing twice is harmless. */
	fw_hostport_release(&a);
	ok(a.fd == -1 && a.port == 0, "release resets the reservation");
	fw_hostport_release(&a);
	fw_hostport_release(NULL);
	r = reserve(AF_INET, IPPROTO_TCP, "", P_ANY, P_ANY, &a, err,
	    sizeof(err));
	if (r < 0)
		diag("reserve", r, err);
	ok(r == 0 && a.port == P_ANY, "after release TCP %u is reserved "
	    "again", P_ANY);
	fw_hostport_release(&a);
	ok(try_bind(AF_INET, SOCK_STREAM, "0.0.0.0", P_ANY, false) == 0,
	    "after release a program can bind 0.0.0.0:%u", P_ANY);

	fw_hostport_release(&c);
	fw_hostport_release(&e);
	fw_hostport_release(&f);
	fw_hostport_release(&g);
}

static void
test_udp(void)
{
	struct fw_resv t, a, b, c, d;
	char err[256], want[64];
	int r;

	/* The same number over TCP is another port. */
	r = reserve(AF_INET, IPPROTO_TCP, "", P_ANY, P_ANY, &t, err,
	    sizeof(err));
	ok(r == 0, "TCP %u reserved", P_ANY);
	r = reserve(AF_INET, IPPROTO_UDP, "", P_ANY, P_ANY, &a, err,
	    sizeof(err));
	if (r < 0)
		diag("reserve", r, err);
	ok(r == 0 && a.port == P_ANY, "UDP %u on 0.0.0.0 is reserved beside "
	    "TCP %u", P_ANY, P_ANY);
	r = reserve(AF_INET, IPPROTO_UDP, "", P_ANY, P_ANY, &b, err,
	    sizeof(err));
	(void) snprintf(want, sizeof(want), "host port %u/udp on 0.0.0.0",
	    P_ANY);
	ok(r == -EADDRINUSE && strstr(err, want) != NULL,
	    "a second UDP reservation fails: '%s'", err);
	ok(try_bind(AF_INET, SOCK_DGRAM, "127.0.0.1", P_ANY, true) ==
	    -EADDRINUSE, "a program's UDP bind with SO_REUSEADDR cannot "
	    "share it");

	r = reserve(AF_INET, IPPROTO_UDP, "", 0, 0, &c, err, sizeof(err));
	ok(r == 0 && c.port != 0 && try_bind(AF_INET, SOCK_DGRAM, "0.0.0.0",
	    c.port, false) == -EADDRINUSE, "UDP 0-0 holds a port (%u)",
	    c.port);

	if (have_v6) {
		r = reserve(AF_INET6, IPPROTO_UDP, "", P_ANY, P_ANY, &d, err,
		    sizeof(err));
		ok(r == 0 && d.port == P_ANY, "UDP %u on :: coexists with "
		    "0.0.0.0:%u", P_ANY, P_ANY);
		fw_hostport_release(&d);
	} else
		skip(NO_V6, "UDP on :: coexists with 0.0.0.0");

	fw_hostport_release(&t);
	fw_hostport_release(&a);
	fw_hostport_release(&c);
	ok(try_bind(AF_INET, SOCK_DGRAM, "0.0.0.0", P_ANY, false) == 0,
	    "after release UDP %u is free", P_ANY);
}

/*
 * Whether this kernel has SCTP, asked of the kernel itself and not
 * through the code under test: an SCTP socket (which also loads the sctp
 * module where there is one).  1 yes, 0 no (EPROTONOSUPPORT), -1 when
 * the probe itself failed.
 */
static int
probe_sctp(void)
{
	int fd;

	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC,
	    IPPROTO_SCTP)) >= 0) {
		(void) close(fd);
		return 1;
	}
	if (errno == EPROTONOSUPPORT)
		return 0;
	printf("# probe: an SCTP socket: %s\n", strerror(errno));
	return -1;
}

/* The probe decides which one outcome is right. */
static void
test_sctp(void)
{
	struct fw_resv s;
	char err[256];
	int have, r;

	have = probe_sctp();
	ok(have >= 0, "probe: the kernel %s SCTP", have > 0 ? "has" :
	    have == 0 ? "has no" : "cannot be asked for");
	if (have < 0)
		return;
	r = reserve(AF_INET, IPPROTO_SCTP, "", P_SCTP, P_SCTP, &s, err,
	    sizeof(err));
	if (r < 0 && have)
		diag("reserve", r, err);
	if (have)
		ok(r == 0 && s.port == P_SCTP && listening(s.fd), "SCTP %u "
		    "reserved and listening", P_SCTP);
	else
		ok(r == -EPROTONOSUPPORT && s.fd == -1 &&
		    strstr(err, "no SCTP support") != NULL,
		    "SCTP: this kernel has none, and the error says so: '%s'",
		    err);
	fw_hostport_release(&s);
}

static void
test_invalid(void)
{
	struct fw_resv b, c;
	char err[256];
	int r;

	r = reserve(AF_INET, IPPROTO_TCP, "300.1.2.3", P_ANY, P_ANY, &b, err,
	    sizeof(err));
	ok(r == -EINVAL && b.fd == -1 && strstr(err, "host IP") != NULL,
	    "a bad host IP fails with EINVAL: '%s'", err);
	r = reserve(AF_INET, IPPROTO_TCP, "::1", P_ANY, P_ANY, &b, err,
	    sizeof(err));
	ok(r == -EINVAL && strstr(err, "'::1'") != NULL,
	    "an IPv6 host IP for IPv4 fails with EINVAL: '%s'", err);
	r = reserve(AF_INET6, IPPROTO_UDP, "127.0.0.1", P_ANY, P_ANY, &b,
	    err, sizeof(err));
	ok(r == -EINVAL, "an IPv4 host IP for IPv6 fails with EINVAL");
	r = reserve(AF_UNIX, IPPROTO_TCP, "", P_ANY, P_ANY, &b, err,
	    sizeof(err));
	ok(r == -EINVAL && err[0] != '\0', "family AF_UNIX fails with "
	    "EINVAL");
	r = reserve(AF_INET, IPPROTO_ICMP, "", P_ANY, P_ANY, &b, err,
	    sizeof(err));
	ok(r == -EINVAL && err[0] != '\0', "protocol ICMP fails with EINVAL");
	r = reserve(AF_INET, IPPROTO_TCP, "", P_ANY + 1, P_ANY, &b, err,
	    sizeof(err));
	ok(r == -EINVAL, "range %u-%u fails with EINVAL", P_ANY + 1, P_ANY);
	r = reserve(AF_INET, IPPROTO_TCP, "", 0, P_ANY, &b, err,
	    sizeof(err));
	ok(r == -EINVAL, "range 0-%u fails with EINVAL", P_ANY);
	r = reserve(AF_INET, IPPROTO_TCP, "", P_ANY, P_ANY, NULL, err,
	    sizeof(err));
	ok(r == -EINVAL, "no reservation to fill fails with EINVAL");
	r = reserve(AF_INET, IPPROTO_TCP, "192.0.2.1", P_ANY, P_ANY, &b, err,
	    sizeof(err));
	ok(r == -EADDRNOTAVAIL && b.fd == -1 &&
	    strstr(err, "no interface") != NULL,
	    "an address the host does not have fails: '%s'", err);
	r = fw_hostport_reserve(AF_INET, IPPROTO_TCP, NULL, P_ANY, P_ANY, &b,
	    NULL, 0);
	ok(r == 0, "err may be NULL");
	r = fw_hostport_reserve(AF_INET, IPPROTO_TCP, NULL, P_ANY, P_ANY, &c,
	    NULL, 0);
	ok(r == -EADDRINUSE, "... also when it fails");
	fw_hostport_release(&b);
}

/* Nothing reaches a reserved socket (the drop filter): a TCP handshake
 * does not complete, a datagram is not queued. */
static void
test_filter(void)
{
	struct sockaddr_storage ss;
	socklen_t len = mkaddr(AF_INET, "127.0.0.1", P_FILTER, &ss);
	struct fw_resv t, u;
	struct pollfd pfd;
	char err[256], buf[8];
	int fd, r, soerr = -1;
	socklen_t elen = sizeof(soerr);

	r = reserve(AF_INET, IPPROTO_TCP, "", P_FILTER, P_FILTER, &t, err,
	    sizeof(err));
	r |= reserve(AF_INET, IPPROTO_UDP, "", P_FILTER, P_FILTER, &u, err,
	    sizeof(err));
	ok(r == 0, "TCP and UDP %u reserved", P_FILTER);

	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	r = connect(fd, (struct sockaddr *)&ss, len);
	pfd = (struct pollfd){ .fd = fd, .events = POLLOUT };
	if (r < 0 && errno == EINPROGRESS)
		r = poll(&pfd, 1, 300);
	(void) getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &elen);
	ok(r == 0 && soerr == 0, "a TCP connect to the reserved port is not "
	    "answered (poll %d, SO_ERROR %d)", r, soerr);
	(void) close(fd);

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	(void) sendto(fd, "x", 1, 0, (struct sockaddr *)&ss, len);
	(void) close(fd);
	sleep_ms(20);
	r = (int)recv(u.fd, buf, sizeof(buf), MSG_DONTWAIT);
	ok(r < 0 && errno == EAGAIN, "a datagram to the reserved UDP port is "
	    "not queued");
	fw_hostport_release(&t);
	fw_hostport_release(&u);
}

/* A port whose last server (with SO_REUSEADDR, as servers set it) left
 * connections in TIME_WAIT can be reserved at once, where a bind without
 * SO_REUSEADDR cannot. */
static void
test_time_wait(void)
{
	struct sockaddr_storage ss;
	socklen_t len = mkaddr(AF_INET, "127.0.0.1", P_TW, &ss);
	struct fw_resv t;
	char err[256];
	int l, c, a = -1, r, on = 1;

	l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (l < 0 || c < 0 ||
	    setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) < 0 ||
	    bind(l, (struct sockaddr *)&ss, len) < 0 ||
	    listen(l, 1) < 0 || connect(c, (struct sockaddr *)&ss, len) < 0 ||
	    (a = accept4(l, NULL, NULL, SOCK_CLOEXEC)) < 0) {
		ok(0, "set up a TCP connection to %u: %s", P_TW,
		    strerror(errno));
		return;
	}
	/* The server closes first: its end of the connection, on P_TW,
	 * goes to TIME_WAIT. */
	(void) close(a);
	sleep_ms(20);
	(void) close(c);
	(void) close(l);
	sleep_ms(20);
	ok(try_bind(AF_INET, SOCK_STREAM, "0.0.0.0", P_TW, false) ==
	    -EADDRINUSE, "a plain bind of %u fails while it is in TIME_WAIT",
	    P_TW);
	r = reserve(AF_INET, IPPROTO_TCP, "", P_TW, P_TW, &t, err,
	    sizeof(err));
	if (r < 0)
		diag("reserve", r, err);
	ok(r == 0, "... the reservation succeeds");
	fw_hostport_release(&t);
}

/*
 * Conntrack.  Counted with libnl-nf's cache, not with the code under
 * test: the original-direction entries of family and proto to dport.
 */
static int
ct_count(int family, int proto, unsigned short dport)
{
	struct nl_sock *sk = nl_socket_alloc();
	struct nl_cache *cache = NULL;
	struct nl_object *o;
	int n = -1;

	if (sk == NULL || nl_connect(sk, NETLINK_NETFILTER) < 0 ||
	    nfnl_ct_alloc_cache(sk, &cache) < 0)
		goto out;
	n = 0;
	for (o = nl_cache_get_first(cache); o != NULL;
	    o = nl_cache_get_next(o)) {
		struct nfnl_ct *ct = (struct nfnl_ct *)o;

		if (nfnl_ct_get_family(ct) == family &&
		    nfnl_ct_get_proto(ct) == proto &&
		    nfnl_ct_test_dst_port(ct, 0) &&
		    nfnl_ct_get_dst_port(ct, 0) == dport)
			n++;
	}
out:
	nl_cache_free(cache);
	nl_socket_free(sk);
	return n;
}

/* A UDP flow from a new source port to ip:port; a bound socket there
 * keeps ICMP errors out of it. */
static void
udp_flow(int family, const char *ip, unsigned short port)
{
	struct sockaddr_storage ss;
	socklen_t len = mkaddr(family, ip, port, &ss);
	int fd;

	if ((fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
		return;
	(void) sendto(fd, "x", 1, 0, (struct sockaddr *)&ss, len);
	(void) close(fd);
}

static int
udp_sink(int family, const char *ip, unsigned short port)
{
	struct sockaddr_storage ss;
	socklen_t len = mkaddr(family, ip, port, &ss);
	int fd, on = 1;

	if ((fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	if (family == AF_INET6)
		(void) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on,
		    sizeof(on));
	if (bind(fd, (struct sockaddr *)&ss, len) < 0) {
		(void) close(fd);
		return -1;
	}
	return fd;
}

static int
flush(int family, const unsigned short *ports, size_t n)
{
	char err[256] = "";
	int r;

	r = fw_conntrack_flush_udp(family, ports, n, err, sizeof(err));
	if (r < 0)
		diag("fw_conntrack_flush_udp", r, err);
	return r;
}

static void
test_conntrack(void)
{
	static const unsigned short p1[] = { CT_P1, CT_P3 };
	static const unsigned short p2[] = { CT_P2 };
	static const unsigned short pz[] = { ZONE_PORT };
	struct sockaddr_storage ss;
	socklen_t len = mkaddr(AF_INET, "127.0.0.1", CT_P1, &ss);
	int sinks[5], tl = -1, tc = -1, ta = -1, n6 = 0;
	char err[256] = "";
	int r;

	sinks[0] = udp_sink(AF_INET, "127.0.0.1", CT_P1);
	sinks[1] = udp_sink(AF_INET, "127.0.0.1", CT_P2);
	sinks[2] = udp_sink(AF_INET, "127.0.0.1", ZONE_PORT);
	sinks[3] = have_v6 ? udp_sink(AF_INET6, "::1", CT_P1) : -1;
	sinks[4] = have_v6 ? udp_sink(AF_INET6, "::1", CT_P2) : -1;
	for (int i = 0; i < 3; i++)
		udp_flow(AF_INET, "127.0.0.1", CT_P1);
	udp_flow(AF_INET, "127.0.0.1", CT_P2);
	udp_flow(AF_INET, "127.0.0.1", ZONE_PORT);
	if (have_v6) {
		udp_flow(AF_INET6, "::1", CT_P1);
		udp_flow(AF_INET6, "::1", CT_P2);
		n6 = 1;
	}
	/* A TCP connection to the same port number. */
	tl = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	tc = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (tl >= 0 && tc >= 0 && bind(tl, (struct sockaddr *)&ss, len) == 0 &&
	    listen(tl, 1) == 0 && connect(tc, (struct sockaddr *)&ss, len) == 0)
		ta = accept4(tl, NULL, NULL, SOCK_CLOEXEC);

	r = ct_count(AF_INET, IPPROTO_UDP, CT_P1);
	if (r == 0)
		printf("# conntrack tracks nothing here: does ports.sh's nft "
		    "table exist?\n");
	ok(r == 3, "3 IPv4 UDP entries to %u (%d)", CT_P1, r);
	ok(ct_count(AF_INET, IPPROTO_UDP, CT_P2) == 1,
	    "1 IPv4 UDP entry to %u", CT_P2);
	ok(ct_count(AF_INET, IPPROTO_UDP, ZONE_PORT) == 1,
	    "1 IPv4 UDP entry to %u (zone %d)", ZONE_PORT, ZONE);
	ok(ct_count(AF_INET6, IPPROTO_UDP, CT_P1) == n6,
	    "%d IPv6 UDP entry to %u", n6, CT_P1);
	ok(ct_count(AF_INET, IPPROTO_TCP, CT_P1) == 1,
	    "1 IPv4 TCP entry to %u", CT_P1);

	ok(flush(AF_INET, p1, 2) == 0, "flush IPv4 UDP %u and %u", CT_P1,
	    CT_P3);
	ok(ct_count(AF_INET, IPPROTO_UDP, CT_P1) == 0,
	    "... the IPv4 UDP entries to %u are gone", CT_P1);
	ok(ct_count(AF_INET, IPPROTO_UDP, CT_P2) == 1,
	    "... the one to %u stays", CT_P2);
	ok(ct_count(AF_INET6, IPPROTO_UDP, CT_P1) == n6,
	    "... the IPv6 one to %u stays", CT_P1);
	ok(ct_count(AF_INET, IPPROTO_TCP, CT_P1) == 1,
	    "... the TCP one to %u stays", CT_P1);
	ok(flush(AF_INET, p1, 2) == 0, "flushing again is no error");

	ok(flush(AF_INET, p2, 0) == 0 &&
	    ct_count(AF_INET, IPPROTO_UDP, CT_P2) == 1,
	    "flushing no ports deletes nothing");
	ok(flush(AF_INET, pz, 1) == 0 &&
	    ct_count(AF_INET, IPPROTO_UDP, ZONE_PORT) == 0,
	    "an entry in zone %d is deleted too", ZONE);
	if (have_v6) {
		ok(flush(AF_INET6, p1, 1) == 0 &&
		    ct_count(AF_INET6, IPPROTO_UDP, CT_P1) == 0,
		    "flush IPv6 UDP %u: gone", CT_P1);
		ok(ct_count(AF_INET6, IPPROTO_UDP, CT_P2) == 1,
		    "... the IPv6 one to %u stays", CT_P2);
	} else {
		skip(NO_V6, "flush IPv6 UDP");
		skip(NO_V6, "... the IPv6 one stays");
	}
	ok(flush(AF_INET, p2, 1) == 0 &&
	    ct_count(AF_INET, IPPROTO_UDP, CT_P2) == 0,
	    "flush IPv4 UDP %u: gone", CT_P2);
	ok(ct_count(AF_INET, IPPROTO_TCP, CT_P1) == 1,
	    "the TCP entry still stays");

	r = fw_conntrack_flush_udp(AF_UNIX, p1, 1, err, sizeof(err));
	ok(r == -EINVAL && err[0] != '\0', "family AF_UNIX fails with "
	    "EINVAL: '%s'", err);
	r = fw_conntrack_flush_udp(AF_INET, NULL, 1, err, sizeof(err));
	ok(r == -EINVAL, "no port list fails with EINVAL");

	for (int i = 0; i < 5; i++)
		if (sinks[i] >= 0)
			(void) close(sinks[i]);
	if (ta >= 0)
		(void) close(ta);
	if (tc >= 0)
		(void) close(tc);
	if (tl >= 0)
		(void) close(tl);
}

/*
 * Whether the IPv6 checks run.  Only a kernel without IPv6 (no AF_INET6
 * socket: EAFNOSUPPORT) skips them.  Where it has IPv6, ports.sh has
 * brought lo up with IPv6 on, so ::1 must bind: if not, that is a failure,
 * and the IPv6 checks still run (and fail) rather than being skipped.
 */
static bool
probe_v6(void)
{
	int fd, r;

	if ((fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0) {
		if (errno == EAFNOSUPPORT) {
			printf("# " NO_V6 ": the IPv6 checks are skipped\n");
			return false;
		}
		ok(0, "probe: an IPv6 socket: %s", strerror(errno));
		return true;
	}
	(void) close(fd);
	r = try_bind(AF_INET6, SOCK_DGRAM, "::1", 0, false);
	ok(r == 0, "the kernel has IPv6, and ::1 can be bound (%s)",
	    r == 0 ? "yes" : strerror(-r));
	return true;
}

int
main(void)
{
	int fds;

	if (in_host_netns() != 0) {
		printf("Bail out! not in a throwaway network namespace "
		    "(run me through tests/integration/ports.sh)\n");
		return 2;
	}
	have_v6 = probe_v6();
	fds = count_fds();
	test_tcp();
	test_udp();
	test_sctp();
	test_invalid();
	test_filter();
	test_time_wait();
	ok(count_fds() == fds, "no file descriptor is left open (%d)", fds);
	test_conntrack();
	printf("%d passed, %d failed, %d skipped\n", npass, nfail, nskip);
	return nfail == 0 && npass > 0 ? 0 : 1;
}
