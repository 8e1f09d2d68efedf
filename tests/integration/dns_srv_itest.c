/*
 * Integration test of the responder loop (dns/server.c): a server bound
 * in a "sandbox" namespace (argv[1], e.g. /run/netns/NAME, with
 * 169.254.53.53 on its lo), run from this process in a "host" namespace
 * where the fake upstreams listen on 127.0.0.x, out of the sandbox's
 * reach.  The clients' sockets are made inside the sandbox (setns, socket,
 * setns back: sockets keep their namespace), so the whole test is one
 * thread and one event loop (loop/loop.h) that the servers, the
 * forwarder and the fakes register with, driven with loop_once().  Run by tests/integration/dns_server.sh,
 * which makes both namespaces.  Refuses to run in the namespace of PID 1.
 *
 * Prints "ok N - ..." lines and a final "N passed, M failed"; exits 1 if
 * anything failed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <netinet/in.h>

#include "dns/answer.h"
#include "dns/conf.h"
#include "dns/forward.h"
#include "dns/server.h"
#include "loop/loop.h"
#include "tests/integration/itest.h"

#define SANDBOX_IP	"169.254.53.53"
#define NOFWD_PORT	5300	/* a second server without a forwarder */
#define DOCKER_IP	"127.0.0.11"	/* the fake Docker resolver, in the */
#define DOCKER_PORT	35353		/* sandbox; nothing on DOCKER_PORT+1 */
#define TCP_CAP		4
#define READ_MS		300
#define IDLE_MS		600

static int sandbox_fd = -1;
static struct loop *lp;
static struct dns_fwd *fwd;
static struct dns_srv *srv, *srv_nofwd;

/* Fake upstreams in the host namespace: good (127.0.0.4:5353) answers A
 * with 192.0.2.1 and TXT with ~800 bytes; silent (127.0.0.2:5353) never
 * answers. */
static int good_fd = -1, silent_fd = -1, silent_lfd = -1;
static int good_nq, silent_nq;

static int
bind_udp(const char *ip, int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
	    .sin_port = htons((uint16_t)port) };
	int fd;

	inet_pton(AF_INET, ip, &sa.sin_addr);
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "cannot bind %s:%d: %s\n", ip, port,
		    strerror(errno));
		exit(1);
	}
	return fd;
}

/* Never accepts: connections complete in the backlog and hang. */
static int
listen_tcp(const char *ip, int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
	    .sin_port = htons((uint16_t)port) };
	int fd;

	inet_pton(AF_INET, ip, &sa.sin_addr);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(fd, 16) < 0) {
		fprintf(stderr, "cannot listen on %s:%d: %s\n", ip, port,
		    strerror(errno));
		exit(1);
	}
	return fd;
}

static void
serve_fakes(void)
{
	uint8_t q[512], r[2048];
	struct sockaddr_in from;
	socklen_t flen = sizeof(from);
	ssize_t n;

	while (recv(silent_fd, q, sizeof(q), 0) > 0)
		silent_nq++;
	while ((n = recvfrom(good_fd, q, sizeof(q), 0,
	    (struct sockaddr *)&from, &flen)) >= DNS_HEADER_LEN) {
		size_t off = (size_t)n;
		uint16_t qtype = (uint16_t)(q[n - 4] << 8 | q[n - 3]);
		int nan = qtype == DNS_TYPE_TXT ? 3 : 1;

		good_nq++;
		memcpy(r, q, (size_t)n);
		r[2] = (uint8_t)(0x80 | (q[2] & 0x01));
		r[3] = 0x80;
		r[6] = 0;
		r[7] = (uint8_t)nan;
		for (int i = 0; i < nan; i++) {
			static const uint8_t a[] = { 0xc0, 0x0c, 0, 1, 0, 1,
			    0, 0, 0, 60, 0, 4, 192, 0, 2, 1 };
			static const uint8_t t[] = { 0xc0, 0x0c, 0, 16, 0, 1,
			    0, 0, 0, 60, 0, 251, 250 };

			if (qtype != DNS_TYPE_TXT) {
				memcpy(r + off, a, sizeof(a));
				off += sizeof(a);
				continue;
			}
			memcpy(r + off, t, sizeof(t));
			off += sizeof(t);
			memset(r + off, 'x', 250);
			off += 250;
		}
		(void)sendto(good_fd, r, off, 0, (struct sockaddr *)&from,
		    flen);
		flen = sizeof(from);
	}
}

static void
fakes_ready(void *arg, uint32_t events)
{
	(void)arg;
	(void)events;
	serve_fakes();
}

/*
 * A fake of Docker's embedded resolver, in the sandbox on
 * DOCKER_IP:DOCKER_PORT, answering by the first label of the name:
 *   newbie  A 10.0.0.77, AAAA NODATA (a container we have not learnt)
 *   ghost, nx*  NXDOMAIN      sfail  SERVFAIL
 *   bad     a reply for another question, with our ID
 *   tcname  A 10.0.0.78 with TC=1
 *   loopy   forwarded to our server (a container whose --dns is us), its
 *           reply relayed back
 *   anything else (slow*, late): never answered.
 */
static int dock_fd = -1;
static int dock_nq;		/* queries seen */
static uint16_t dock_last_id;	/* ID of the last query seen */
static uint16_t loop_id;	/* the asker's ID of the query forwarded */
static struct sockaddr_in loop_peer;
static int loop_fwd;		/* queries forwarded to our server */

static void
dock_answer(const uint8_t *q, size_t qlen, size_t qend, int rc, bool tc,
    const uint8_t *a4, const struct sockaddr_in *to)
{
	static const uint8_t rr[] = { 0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60,
	    0, 4 };
	uint8_t r[600];
	size_t off = qend;

	if (qlen > 500)
		return;
	memcpy(r, q, qend);
	r[2] = (uint8_t)(0x80 | (q[2] & 0x01) | (tc ? 0x02 : 0));
	r[3] = (uint8_t)(0x80 | rc);
	r[6] = 0;
	r[7] = a4 ? 1 : 0;
	r[8] = r[9] = r[10] = r[11] = 0;
	if (a4) {
		memcpy(r + off, rr, sizeof(rr));
		memcpy(r + off + sizeof(rr), a4, 4);
		off += sizeof(rr) + 4;
	}
	(void)sendto(dock_fd, r, off, 0, (const struct sockaddr *)to,
	    sizeof(*to));
}

static void
serve_dock(void *arg, uint32_t events)
{
	static const uint8_t a77[] = { 10, 0, 0, 77 }, a78[] = { 10, 0, 0, 78 };
	uint8_t q[600];
	struct sockaddr_in from;
	socklen_t flen;
	ssize_t n;

	(void)arg;
	(void)events;
	for (;;) {
		size_t end = DNS_HEADER_LEN, l;
		const char *lab;
		uint16_t qtype;

		flen = sizeof(from);
		n = recvfrom(dock_fd, q, sizeof(q), MSG_DONTWAIT,
		    (struct sockaddr *)&from, &flen);
		if (n < 0)
			return;
		if (n < DNS_HEADER_LEN + 5)
			continue;
		if (q[2] & 0x80) {
			/* Our server's reply to a query forwarded here. */
			if (q[0] == 0x77 && q[1] == 0x77) {
				q[0] = (uint8_t)(loop_id >> 8);
				q[1] = (uint8_t)loop_id;
				(void)sendto(dock_fd, q, (size_t)n, 0,
				    (struct sockaddr *)&loop_peer,
				    sizeof(loop_peer));
			}
			continue;
		}
		dock_nq++;
		dock_last_id = (uint16_t)(q[0] << 8 | q[1]);
		while (end < (size_t)n && q[end] != 0)
			end += 1 + q[end];
		if (end + 5 > (size_t)n)
			continue;
		end += 5;
		qtype = (uint16_t)(q[end - 4] << 8 | q[end - 3]);
		lab = (const char *)q + DNS_HEADER_LEN + 1;
		l = q[DNS_HEADER_LEN];
#define IS(w)	(l == strlen(w) && strncasecmp(lab, w, l) == 0)
		if (IS("newbie"))
			dock_answer(q, (size_t)n, end, 0, false,
			    qtype == DNS_TYPE_A ? a77 : NULL, &from);
		else if (IS("ghost") || (l >= 2 && strncmp(lab, "nx", 2) == 0))
			dock_answer(q, (size_t)n, end, DNS_RCODE_NXDOMAIN,
			    false, NULL, &from);
		else if (IS("sfail"))
			dock_answer(q, (size_t)n, end, DNS_RCODE_SERVFAIL,
			    false, NULL, &from);
		else if (IS("bad")) {
			q[DNS_HEADER_LEN + 1] = 'x';	/* "xad" */
			dock_answer(q, (size_t)n, end, 0, false, a77, &from);
		} else if (IS("tcname"))
			dock_answer(q, (size_t)n, end, 0, true, a78, &from);
		else if (IS("loopy")) {
			struct sockaddr_in us = { .sin_family = AF_INET,
			    .sin_port = htons(DNS_SRV_PORT) };

			inet_pton(AF_INET, SANDBOX_IP, &us.sin_addr);
			loop_id = dock_last_id;
			loop_peer = from;
			q[0] = q[1] = 0x77;
			loop_fwd++;
			(void)sendto(dock_fd, q, (size_t)n, 0,
			    (struct sockaddr *)&us, sizeof(us));
		}
#undef IS
	}
}

/* One turn of the loop, waiting up to wait_ms for anything. */
static void
step(int wait_ms)
{
	int r = loop_once(lp, wait_ms);

	if (r < 0) {
		fprintf(stderr, "loop_once: %s\n", strerror(-r));
		exit(1);
	}
}

/* Runs the loop until fd has events (fd < 0: for ms).  true if it did. */
static bool
pump_until(int fd, short events, unsigned int ms)
{
	uint64_t end = loop_now_ms() + ms;

	while (loop_now_ms() < end) {
		struct pollfd pf = { .fd = fd, .events = events };

		if (fd >= 0 && poll(&pf, 1, 0) > 0)
			return true;
		step(5);
	}
	return false;
}

/* A socket made in the sandbox, connected to SANDBOX_IP:port. */
static int
sandbox_socket(int type, int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
	    .sin_port = htons((uint16_t)port) };
	int home = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	int fd;

	if (home < 0 || setns(sandbox_fd, CLONE_NEWNET) < 0) {
		fprintf(stderr, "setns: %s\n", strerror(errno));
		exit(1);
	}
	fd = socket(AF_INET, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (setns(home, CLONE_NEWNET) < 0) {
		fprintf(stderr, "setns back: %s\n", strerror(errno));
		exit(1);
	}
	close(home);
	inet_pton(AF_INET, SANDBOX_IP, &sa.sin_addr);
	if (fd < 0 || (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 &&
	    errno != EINPROGRESS)) {
		fprintf(stderr, "sandbox socket: %s\n", strerror(errno));
		exit(1);
	}
	return fd;
}

/* A UDP socket made in the sandbox, bound to ip:port. */
static int
sandbox_bind_udp(const char *ip, int port)
{
	int home = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	int fd;

	if (home < 0 || setns(sandbox_fd, CLONE_NEWNET) < 0) {
		fprintf(stderr, "setns: %s\n", strerror(errno));
		exit(1);
	}
	fd = bind_udp(ip, port);
	if (setns(home, CLONE_NEWNET) < 0) {
		fprintf(stderr, "setns back: %s\n", strerror(errno));
		exit(1);
	}
	close(home);
	return fd;
}

/* A query for name (presentation, no trailing dot), RD set, no OPT. */
static size_t
make_query(uint16_t id, const char *name, uint16_t qtype, uint8_t *out)
{
	size_t off = DNS_HEADER_LEN;
	const char *p = name;

	memset(out, 0, DNS_HEADER_LEN);
	out[0] = (uint8_t)(id >> 8);
	out[1] = (uint8_t)id;
	out[2] = 0x01;
	out[5] = 1;
	while (*p) {
		const char *dot = strchr(p, '.');
		size_t l = dot ? (size_t)(dot - p) : strlen(p);

		out[off++] = (uint8_t)l;
		memcpy(out + off, p, l);
		off += l;
		p += l + (dot ? 1 : 0);
	}
	out[off++] = 0;
	out[off++] = (uint8_t)(qtype >> 8);
	out[off++] = (uint8_t)qtype;
	out[off++] = 0;
	out[off++] = DNS_CLASS_IN;
	return off;
}

/* Sends over UDP fd and waits for a reply: its length, or -1. */
static ssize_t
udp_ask(int fd, const uint8_t *q, size_t len, uint8_t *r, size_t cap,
    unsigned int ms)
{
	if (send(fd, q, len, 0) != (ssize_t)len)
		return -1;
	if (!pump_until(fd, POLLIN, ms))
		return -1;
	return recv(fd, r, cap, 0);
}

static ssize_t
udp_query(const char *name, uint16_t qtype, int port, uint8_t *r,
    size_t cap)
{
	int fd = sandbox_socket(SOCK_DGRAM, port);
	uint8_t q[512];
	size_t ql = make_query(0x1234, name, qtype, q);
	ssize_t n = udp_ask(fd, q, ql, r, cap, 2000);

	close(fd);
	return n;
}

/* Reads one framed TCP message from fd into r: its length, or -1. */
static ssize_t
tcp_read_msg(int fd, uint8_t *r, size_t cap, unsigned int ms)
{
	uint8_t hdr[2];
	size_t got = 0, need = 2;
	uint64_t end = loop_now_ms() + ms;

	while (got < need) {
		uint8_t *dst = got < 2 ? hdr + got : r + got - 2;
		size_t want = got < 2 ? 2 - got : need - got;
		ssize_t n;

		if (loop_now_ms() >= end)
			return -1;
		if (!pump_until(fd, POLLIN, (unsigned int)(end -
		    loop_now_ms())))
			return -1;
		n = recv(fd, dst, want, 0);
		if (n <= 0)
			return -1;
		got += (size_t)n;
		if (got == 2) {
			need = 2 + ((size_t)hdr[0] << 8 | hdr[1]);
			if (need - 2 > cap)
				return -1;
		}
	}
	return (ssize_t)(need - 2);
}

static bool
tcp_connect(int fd)
{
	int e = 0;
	socklen_t el = sizeof(e);

	if (!pump_until(fd, POLLOUT, 1000))
		return false;
	return getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el) == 0 && e == 0;
}

static void
send_framed(int fd, const uint8_t *q, size_t len)
{
	uint8_t b[600];

	b[0] = (uint8_t)(len >> 8);
	b[1] = (uint8_t)len;
	memcpy(b + 2, q, len);
	(void)send(fd, b, len + 2, MSG_NOSIGNAL);
}

static int
rcode(const uint8_t *r)
{
	return r[3] & 0x0f;
}

static int
ancount(const uint8_t *r)
{
	return r[6] << 8 | r[7];
}

/* The address of a reply whose last RR is an A record (no OPT). */
static const char *
last_a(const uint8_t *r, ssize_t n, char *buf)
{
	buf[0] = '\0';
	if (n >= DNS_HEADER_LEN + 4 && ancount(r) > 0)
		inet_ntop(AF_INET, r + n - 4, buf, INET_ADDRSTRLEN);
	return buf;
}

static struct dns_srv_stats
stats(struct dns_srv *s)
{
	struct dns_srv_stats st;

	dns_srv_stats(s, &st);
	return st;
}

static void
test_local(void)
{
	uint8_t q[512], r[2048];
	char a[INET_ADDRSTRLEN];
	ssize_t n, n1, n2;
	size_t ql;
	int fd;

	n = udp_query("web", DNS_TYPE_A, DNS_SRV_PORT, r, sizeof(r));
	ok(n > 0 && rcode(r) == 0 && ancount(r) == 1 &&
	    strcmp(last_a(r, n, a), "10.0.0.5") == 0 && r[0] == 0x12,
	    "UDP: local A answer from the zone (%s)", a);

	fd = sandbox_socket(SOCK_STREAM, DNS_SRV_PORT);
	ok(tcp_connect(fd), "TCP: connected inside the sandbox");
	ql = make_query(0x0101, "web", DNS_TYPE_A, q);
	send_framed(fd, q, ql);
	ql = make_query(0x0202, "web.n1", DNS_TYPE_A, q);
	send_framed(fd, q, ql);
	n1 = tcp_read_msg(fd, r, sizeof(r), 2000);
	ok(n1 > 0 && r[0] == 0x01 && ancount(r) == 1 &&
	    strcmp(last_a(r, n1, a), "10.0.0.5") == 0,
	    "TCP: first of two queries on one connection (%s)", a);
	n2 = tcp_read_msg(fd, r, sizeof(r), 2000);
	ok(n2 > 0 && r[0] == 0x02 && ancount(r) == 1 &&
	    strcmp(last_a(r, n2, a), "10.0.0.5") == 0,
	    "TCP: second query on the same connection (%s)", a);
	close(fd);
	ok(stats(srv).queries_tcp == 2 && stats(srv).local == 3,
	    "counters: 2 TCP queries, 3 local answers");
}

static void
test_forward_and_cache(void)
{
	uint8_t r[2048], q[512];
	char a[INET_ADDRSTRLEN];
	struct dns_srv_stats st;
	struct sockaddr_in up = { .sin_family = AF_INET,
	    .sin_port = htons(5353) };
	ssize_t n;
	size_t ql;
	int fd, nq0;

	/* The upstream is out of the sandbox's reach. */
	nq0 = good_nq;
	fd = sandbox_socket(SOCK_DGRAM, DNS_SRV_PORT);
	inet_pton(AF_INET, "127.0.0.4", &up.sin_addr);
	ql = make_query(0x4444, "www.example.com", DNS_TYPE_A, q);
	(void)sendto(fd, q, ql, 0, (struct sockaddr *)&up, sizeof(up));
	(void)pump_until(-1, 0, 200);
	ok(good_nq == nq0, "the fake upstream is unreachable from the "
	    "sandbox");
	close(fd);

	n = udp_query("www.example.com", DNS_TYPE_A, DNS_SRV_PORT, r,
	    sizeof(r));
	ok(n > 0 && rcode(r) == 0 && r[0] == 0x12 && r[1] == 0x34 &&
	    strcmp(last_a(r, n, a), "192.0.2.1") == 0 && good_nq == nq0 + 1,
	    "forwarded from the host namespace: answer %s, client's ID", a);
	n = udp_query("WWW.example.com", DNS_TYPE_A, DNS_SRV_PORT, r,
	    sizeof(r));
	st = stats(srv);
	ok(n > 0 && strcmp(last_a(r, n, a), "192.0.2.1") == 0 &&
	    good_nq == nq0 + 1 && st.cache_hits == 1 && st.forwarded == 1 &&
	    memcmp(r + DNS_HEADER_LEN, "\3WWW", 4) == 0,
	    "second query from the cache: upstream saw %d, hits %llu, the "
	    "client's case kept", good_nq - nq0,
	    (unsigned long long)st.cache_hits);

	/* ~800 bytes: TC over UDP, whole over TCP (from the cache). */
	n = udp_query("big.example.com", DNS_TYPE_TXT, DNS_SRV_PORT, r,
	    sizeof(r));
	ok(n > 0 && n <= DNS_UDP_MIN && (r[2] & 0x02) && ancount(r) == 0 &&
	    rcode(r) == 0 && stats(srv).truncations == 1,
	    "oversize upstream reply over UDP: header + question, TC=1 "
	    "(%zd bytes)", n);
	fd = sandbox_socket(SOCK_STREAM, DNS_SRV_PORT);
	ok(tcp_connect(fd), "TCP connect");
	ql = make_query(0x5555, "big.example.com", DNS_TYPE_TXT, q);
	send_framed(fd, q, ql);
	n = tcp_read_msg(fd, r, sizeof(r), 2000);
	ok(n > 700 && ancount(r) == 3 && !(r[2] & 0x02) &&
	    good_nq == nq0 + 2 && stats(srv).cache_hits == 2,
	    "the same over TCP: whole reply from the cache (%zd bytes)", n);
	close(fd);
}

static void
test_servfail(void)
{
	struct dns_upstreams dead, good;
	uint8_t r[2048];
	char err[256];
	ssize_t n;
	uint64_t t0;

	(void)dns_upstreams_from_env("127.0.0.9:5353,127.0.0.10:5353", &dead,
	    err, sizeof(err));
	(void)dns_upstreams_from_env("127.0.0.4:5353", &good, err,
	    sizeof(err));
	dns_srv_set_upstreams(srv, &dead);
	t0 = loop_now_ms();
	n = udp_query("dead.example.com", DNS_TYPE_A, DNS_SRV_PORT, r,
	    sizeof(r));
	ok(n > 0 && rcode(r) == DNS_RCODE_SERVFAIL && r[0] == 0x12 &&
	    stats(srv).upstream_failures == 1 && stats(srv).servfail == 1,
	    "dead upstreams: SERVFAIL (%llu ms)",
	    (unsigned long long)(loop_now_ms() - t0));
	dns_srv_set_upstreams(srv, NULL);
	n = udp_query("none.example.com", DNS_TYPE_A, DNS_SRV_PORT, r,
	    sizeof(r));
	ok(n > 0 && rcode(r) == DNS_RCODE_SERVFAIL,
	    "no upstreams: SERVFAIL");
	dns_srv_set_upstreams(srv, &good);

	n = udp_query("www.example.com", DNS_TYPE_A, NOFWD_PORT, r,
	    sizeof(r));
	ok(n > 0 && rcode(r) == DNS_RCODE_SERVFAIL &&
	    stats(srv_nofwd).servfail == 1,
	    "forwarding disabled (internal sandbox): SERVFAIL, even for a "
	    "cached name");
	n = udp_query("web", DNS_TYPE_A, NOFWD_PORT, r, sizeof(r));
	ok(n > 0 && rcode(r) == 0 && ancount(r) == 1,
	    "forwarding disabled: local names still answered");
}

static void
test_hostile(void)
{
	static const uint8_t three[] = { 1, 2, 3 };
	uint8_t q[512], r[2048];
	size_t ql;
	ssize_t n;
	int fd = sandbox_socket(SOCK_DGRAM, DNS_SRV_PORT);
	uint64_t drops = stats(srv).drops;

	(void)send(fd, three, sizeof(three), 0);
	ql = make_query(0x6666, "web", DNS_TYPE_A, q);
	q[2] |= 0x80;	/* QR=1 */
	(void)send(fd, q, ql, 0);
	ok(!pump_until(fd, POLLIN, 300) && stats(srv).drops == drops + 2,
	    "3 bytes and QR=1: no reply, counted as drops");
	q[2] &= 0x7f;
	n = udp_ask(fd, q, ql, r, sizeof(r), 2000);
	ok(n > 0 && r[0] == 0x66 && ancount(r) == 1,
	    "the server keeps serving after hostile packets");
	close(fd);
}

static double
cpu_seconds(void)
{
	struct rusage ru;

	(void)getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	    (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static void
test_tcp_edges(void)
{
	static const uint8_t prefix[] = { 0, 40 };
	static const uint8_t partial[] = { 0, 40, 0x12, 0x34, 1 };
	uint8_t r[2048], q[512];
	double c0, used;
	ssize_t n;
	size_t ql;
	int a = sandbox_socket(SOCK_STREAM, DNS_SRV_PORT);
	int b = sandbox_socket(SOCK_STREAM, DNS_SRV_PORT);
	int c;

	(void)tcp_connect(a);
	(void)tcp_connect(b);
	/* A: a length prefix, then close.  B: half a message, then
	 * half-open (SHUT_WR), kept open. */
	(void)send(a, prefix, sizeof(prefix), MSG_NOSIGNAL);
	close(a);
	(void)send(b, partial, sizeof(partial), MSG_NOSIGNAL);
	(void)shutdown(b, SHUT_WR);
	c0 = cpu_seconds();
	(void)pump_until(-1, 0, 1000);
	used = cpu_seconds() - c0;
	ok(used < 0.2, "prefix then close, partial then half-open: no spin "
	    "(%.3f s CPU in 1 s)", used);
	ok(stats(srv).tcp_open == 0, "both connections closed (open %zu)",
	    stats(srv).tcp_open);
	ok(recv(b, r, sizeof(r), MSG_DONTWAIT) == 0,
	    "the half-open one sees the server's close");
	close(b);
	n = udp_query("web", DNS_TYPE_A, DNS_SRV_PORT, r, sizeof(r));
	ok(n > 0 && ancount(r) == 1, "the server still answers");

	/* Read timeout: a prefix and nothing more, kept open. */
	c = sandbox_socket(SOCK_STREAM, DNS_SRV_PORT);
	(void)tcp_connect(c);
	(void)send(c, prefix, sizeof(prefix), MSG_NOSIGNAL);
	ok(pump_until(c, POLLIN, READ_MS + 500) &&
	    recv(c, r, sizeof(r), 0) <= 0 && stats(srv).timeouts == 1,
	    "a message that never completes: closed after the read timeout");
	close(c);
	/* Idle timeout, after one answered query. */
	c = sandbox_socket(SOCK_STREAM, DNS_SRV_PORT);
	(void)tcp_connect(c);
	ql = make_query(0x7777, "web", DNS_TYPE_A, q);
	send_framed(c, q, ql);
	n = tcp_read_msg(c, r, sizeof(r), 1000);
	ok(n > 0 && pump_until(c, POLLIN, IDLE_MS + 500) &&
	    recv(c, r, sizeof(r), 0) <= 0 && stats(srv).timeouts == 2,
	    "an idle connection is closed after the idle timeout");
	close(c);
}

static void
test_cap(void)
{
	int fds[TCP_CAP + 1];
	uint8_t q[512], r[2048];
	size_t ql;
	ssize_t n;
	bool conn = true;
	uint64_t refused = stats(srv).tcp_refused;

	for (int i = 0; i < TCP_CAP; i++) {
		fds[i] = sandbox_socket(SOCK_STREAM, DNS_SRV_PORT);
		conn &= tcp_connect(fds[i]);
	}
	(void)pump_until(-1, 0, 100);
	fds[TCP_CAP] = sandbox_socket(SOCK_STREAM, DNS_SRV_PORT);
	(void)tcp_connect(fds[TCP_CAP]);
	ok(conn && pump_until(fds[TCP_CAP], POLLIN, 1000) &&
	    recv(fds[TCP_CAP], r, sizeof(r), 0) <= 0 &&
	    stats(srv).tcp_refused == refused + 1 &&
	    stats(srv).tcp_open == TCP_CAP,
	    "connection %d over the cap: accepted and closed, counted",
	    TCP_CAP + 1);
	ql = make_query(0x0808, "web", DNS_TYPE_A, q);
	send_framed(fds[0], q, ql);
	n = tcp_read_msg(fds[0], r, sizeof(r), 1000);
	ok(n > 0 && ancount(r) == 1, "the connections under the cap serve");
	for (int i = 0; i <= TCP_CAP; i++)
		close(fds[i]);
	(void)pump_until(-1, 0, 100);
	ok(stats(srv).tcp_open == 0, "closed by the clients: none open");
}

static struct dns_srv *
new_srv(int port, struct dns_fwd *f, struct dns_cache *cache,
    const struct dns_zone *z, const struct dns_upstreams *u)
{
	struct dns_srv_params p = { .loop = lp, .netns_fd = sandbox_fd,
	    .zone = z,
	    .ups = u, .fwd = f, .cache = cache, .tcp_max_conns = TCP_CAP,
	    .tcp_read_ms = READ_MS, .tcp_idle_ms = IDLE_MS };
	struct sockaddr_in *sa = (struct sockaddr_in *)&p.addr;
	char err[256];
	struct dns_srv *s;

	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)port);
	inet_pton(AF_INET, SANDBOX_IP, &sa->sin_addr);
	s = dns_srv_new(&p, err, sizeof(err));
	if (s == NULL) {
		fprintf(stderr, "dns_srv_new: %s\n", err);
		exit(1);
	}
	return s;
}

static struct sockaddr_in
dock_addr(int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
	    .sin_port = htons((uint16_t)port) };

	inet_pton(AF_INET, DOCKER_IP, &sa.sin_addr);
	return sa;
}

/* A reply over UDP to name/qtype from the server on port, with the
 * time it took in *ret_ms. */
static ssize_t
timed_query(const char *name, uint16_t qtype, uint8_t *r, size_t cap,
    uint64_t *ret_ms)
{
	uint64_t t0 = loop_now_ms();
	ssize_t n = udp_query(name, qtype, DNS_SRV_PORT, r, cap);

	*ret_ms = loop_now_ms() - t0;
	return n;
}

/* Names the zone lacks, asked of Docker's resolver first. */
static void
test_docker(const struct dns_zone *z, const struct dns_zone *z2)
{
	struct sockaddr_in dk = dock_addr(DOCKER_PORT);
	struct dns_srv_stats st0, st;
	uint8_t q[512], r[2048];
	char a[INET_ADDRSTRLEN];
	uint64_t ms;
	ssize_t n;
	size_t ql;
	int fd, nq0, dq0;

	dns_srv_set_docker_resolver(srv, &dk);
	st0 = stats(srv);
	nq0 = good_nq;
	dq0 = dock_nq;
	n = udp_query("newbie", DNS_TYPE_A, DNS_SRV_PORT, r, sizeof(r));
	st = stats(srv);
	ok(n > 0 && rcode(r) == 0 && r[0] == 0x12 && r[1] == 0x34 &&
	    strcmp(last_a(r, n, a), "10.0.0.77") == 0 &&
	    dock_nq == dq0 + 1 && dock_last_id != 0x1234 && good_nq == nq0 &&
	    st.docker_asked == st0.docker_asked + 1 &&
	    st.docker_answered == st0.docker_answered + 1 &&
	    st.docker_pending == 0,
	    "a name the zone lacks: answered by Docker's resolver (%s), "
	    "client's ID, not the upstream's", a);
	n = udp_query("newbie", DNS_TYPE_AAAA, DNS_SRV_PORT, r, sizeof(r));
	ok(n > 0 && rcode(r) == 0 && ancount(r) == 0 &&
	    dock_nq == dq0 + 2 && good_nq == nq0,
	    "Docker's NODATA is relayed");
	n = udp_query("NewBie", DNS_TYPE_A, DNS_SRV_PORT, r, sizeof(r));
	ok(n > 0 && strcmp(last_a(r, n, a), "10.0.0.77") == 0 &&
	    dock_nq == dq0 + 3 && stats(srv).cache_hits == st0.cache_hits &&
	    memcmp(r + DNS_HEADER_LEN, "\6NewBie", 7) == 0,
	    "asked again, not cached; the client's case kept");
	n = udp_query("newbie.n1", DNS_TYPE_A, DNS_SRV_PORT, r, sizeof(r));
	ok(n > 0 && strcmp(last_a(r, n, a), "10.0.0.77") == 0 &&
	    dock_nq == dq0 + 4, "name.network of the zone: asked too");
	n = udp_query("web", DNS_TYPE_A, DNS_SRV_PORT, r, sizeof(r));
	ok(n > 0 && strcmp(last_a(r, n, a), "10.0.0.5") == 0 &&
	    dock_nq == dq0 + 4, "a name of the zone: never asked");
	n = udp_query("newbie.example.org", DNS_TYPE_A, DNS_SRV_PORT, r,
	    sizeof(r));
	ok(n > 0 && strcmp(last_a(r, n, a), "192.0.2.1") == 0 &&
	    dock_nq == dq0 + 4 && good_nq == nq0 + 1,
	    "an external name: straight to the upstream");

	/* Docker says no: on the usual path. */
	st0 = stats(srv);
	nq0 = good_nq;
	n = udp_query("ghost", DNS_TYPE_A, DNS_SRV_PORT, r, sizeof(r));
	ok(n > 0 && rcode(r) == 0 && strcmp(last_a(r, n, a), "192.0.2.1") ==
	    0 && good_nq == nq0 + 1 &&
	    stats(srv).docker_fellthrough == st0.docker_fellthrough + 1,
	    "Docker's NXDOMAIN: on to the upstream, whose answer (%s) is "
	    "sent", a);
	n = udp_query("sfail", DNS_TYPE_A, DNS_SRV_PORT, r, sizeof(r));
	ok(n > 0 && strcmp(last_a(r, n, a), "192.0.2.1") == 0 &&
	    good_nq == nq0 + 2 &&
	    stats(srv).docker_fellthrough == st0.docker_fellthrough + 2,
	    "Docker's SERVFAIL: on to the upstream");
	n = udp_query("bad", DNS_TYPE_A, DNS_SRV_PORT, r, sizeof(r));
	ok(n > 0 && strcmp(last_a(r, n, a), "192.0.2.1") == 0 &&
	    good_nq == nq0 + 3 &&
	    stats(srv).docker_fellthrough == st0.docker_fellthrough + 3,
	    "a reply for another question: on to the upstream");
	n = udp_query("tcname", DNS_TYPE_A, DNS_SRV_PORT, r, sizeof(r));
	ok(n > 0 && rcode(r) == 0 && (r[2] & 0x02) &&
	    strcmp(last_a(r, n, a), "10.0.0.78") == 0 && good_nq == nq0 + 3,
	    "UDP client: Docker's TC reply sent on as it is");

	/* Docker silent: the upstream after the wait. */
	st0 = stats(srv);
	n = timed_query("slow", DNS_TYPE_A, r, sizeof(r), &ms);
	st = stats(srv);
	ok(n > 0 && strcmp(last_a(r, n, a), "192.0.2.1") == 0 &&
	    ms >= DNS_SRV_DOCKER_WAIT_MS - 50 &&
	    ms < DNS_SRV_DOCKER_WAIT_MS + 600 &&
	    st.docker_timeouts == st0.docker_timeouts + 1 &&
	    st.docker_pending == 0,
	    "Docker silent: the upstream's answer after %llu ms, counted as "
	    "a timeout", (unsigned long long)ms);

	/* Docker forwards to us: the loop guard. */
	st0 = stats(srv);
	nq0 = good_nq;
	n = udp_query("loopy", DNS_TYPE_A, DNS_SRV_PORT, r, sizeof(r));
	st = stats(srv);
	ok(n > 0 && r[0] == 0x12 && strcmp(last_a(r, n, a), "192.0.2.1") ==
	    0 && loop_fwd == 1 && good_nq == nq0 + 1 &&
	    st.docker_loops == st0.docker_loops + 1 &&
	    st.docker_asked == st0.docker_asked + 1 &&
	    st.docker_answered == st0.docker_answered + 1,
	    "Docker forwarding back to us: not asked again (loops %llu), "
	    "the upstream's answer comes back through Docker",
	    (unsigned long long)(st.docker_loops - st0.docker_loops));

	/* TCP clients, over the same UDP relay. */
	st0 = stats(srv);
	fd = sandbox_socket(SOCK_STREAM, DNS_SRV_PORT);
	ok(tcp_connect(fd), "TCP connect");
	ql = make_query(0x0e0e, "newbie", DNS_TYPE_A, q);
	send_framed(fd, q, ql);
	n = tcp_read_msg(fd, r, sizeof(r), 2000);
	ok(n > 0 && r[0] == 0x0e && strcmp(last_a(r, n, a), "10.0.0.77") ==
	    0 && stats(srv).docker_answered == st0.docker_answered + 1,
	    "TCP client: answered by Docker's resolver (%s)", a);
	ql = make_query(0x0f0f, "tcname", DNS_TYPE_A, q);
	send_framed(fd, q, ql);
	n = tcp_read_msg(fd, r, sizeof(r), 3000);
	/* The fake upstream has no TCP: the forward ends in SERVFAIL. */
	ok(n > 0 && r[0] == 0x0f && rcode(r) == DNS_RCODE_SERVFAIL &&
	    stats(srv).docker_fellthrough == st0.docker_fellthrough + 1,
	    "TCP client, Docker's reply truncated: falls through (to the "
	    "forwarder over TCP)");
	close(fd);

	/* Nothing on the port: the ICMP error ends the wait at once. */
	dk = dock_addr(DOCKER_PORT + 1);
	dns_srv_set_docker_resolver(srv, &dk);
	st0 = stats(srv);
	n = timed_query("newbie", DNS_TYPE_A, r, sizeof(r), &ms);
	st = stats(srv);
	ok(n > 0 && strcmp(last_a(r, n, a), "192.0.2.1") == 0 && ms < 500 &&
	    st.docker_asked == st0.docker_asked + 1 &&
	    st.docker_fellthrough == st0.docker_fellthrough + 1,
	    "no resolver on the port: the upstream after %llu ms",
	    (unsigned long long)ms);
	dk = dock_addr(DOCKER_PORT);
	dns_srv_set_docker_resolver(srv, &dk);

	/* The zone is looked at again when falling through: a name learnt
	 * meanwhile, and the single-label NODATA (z2 has both). */
	st0 = stats(srv);
	nq0 = good_nq;
	fd = sandbox_socket(SOCK_DGRAM, DNS_SRV_PORT);
	ql = make_query(0x1111, "late", DNS_TYPE_A, q);
	(void)send(fd, q, ql, 0);
	(void)pump_until(-1, 0, 200);
	dns_srv_set_zone(srv, z2);
	n = pump_until(fd, POLLIN, 2000) ? recv(fd, r, sizeof(r), 0) : -1;
	ok(n > 0 && r[0] == 0x11 && strcmp(last_a(r, n, a), "10.0.0.88") ==
	    0 && good_nq == nq0 &&
	    stats(srv).docker_timeouts == st0.docker_timeouts + 1,
	    "learnt while Docker was asked: answered from the zone (%s)", a);
	close(fd);
	n = udp_query("nxsingle", DNS_TYPE_A, DNS_SRV_PORT, r, sizeof(r));
	ok(n > 0 && rcode(r) == 0 && ancount(r) == 0 && good_nq == nq0 &&
	    stats(srv).docker_fellthrough == st0.docker_fellthrough + 1,
	    "single-label NODATA switch: Docker's NXDOMAIN gives our NODATA");
	n = udp_query("newbie", DNS_TYPE_A, DNS_SRV_PORT, r, sizeof(r));
	ok(n > 0 && strcmp(last_a(r, n, a), "10.0.0.77") == 0,
	    "single-label NODATA switch: a name Docker knows is answered");
	dns_srv_set_zone(srv, z);

	/* The cap: one more than DNS_SRV_DOCKER_MAX silent names. */
	{
		int got = 0, late = 0;
		uint64_t t0 = loop_now_ms();

		st0 = stats(srv);
		fd = sandbox_socket(SOCK_DGRAM, DNS_SRV_PORT);
		for (int i = 0; i <= DNS_SRV_DOCKER_MAX; i++) {
			char name[32];

			snprintf(name, sizeof(name), "slow%d", i);
			ql = make_query((uint16_t)i, name, DNS_TYPE_A, q);
			(void)send(fd, q, ql, 0);
			if (i % 32 == 31)
				(void)pump_until(-1, 0, 10);
		}
		(void)pump_until(-1, 0, 200);
		st = stats(srv);
		while (recv(fd, r, sizeof(r), MSG_DONTWAIT) > 0)
			got++;
		ok(st.docker_pending == DNS_SRV_DOCKER_MAX &&
		    st.docker_busy == st0.docker_busy + 1 && got == 1,
		    "%d asks wait, one over the cap went on at once (%d "
		    "replies)", DNS_SRV_DOCKER_MAX, got);
		while (late < DNS_SRV_DOCKER_MAX &&
		    loop_now_ms() - t0 < DNS_SRV_DOCKER_WAIT_MS + 2000) {
			if (pump_until(fd, POLLIN, 100))
				while (recv(fd, r, sizeof(r), MSG_DONTWAIT) > 0)
					late++;
		}
		st = stats(srv);
		ok(late == DNS_SRV_DOCKER_MAX && st.docker_pending == 0 &&
		    st.docker_timeouts == st0.docker_timeouts +
		    DNS_SRV_DOCKER_MAX,
		    "then all of them answered after the wait (%d)", late);
		close(fd);
	}

	/* No resolver: today's path. */
	dns_srv_set_docker_resolver(srv, NULL);
	dq0 = dock_nq;
	n = udp_query("nxnone", DNS_TYPE_A, DNS_SRV_PORT, r, sizeof(r));
	ok(n > 0 && strcmp(last_a(r, n, a), "192.0.2.1") == 0 &&
	    dock_nq == dq0, "resolver unset: not asked");
}

/* Asks waiting when a server goes: freed with it, no callback. */
static void
test_docker_free(const struct dns_zone *z)
{
	struct sockaddr_in dk = dock_addr(DOCKER_PORT);
	struct dns_upstreams good;
	struct dns_srv *s;
	uint8_t q[512];
	char err[256];
	size_t ql;
	int u, t;

	(void)dns_upstreams_from_env("127.0.0.4:5353", &good, err,
	    sizeof(err));
	s = new_srv(5302, fwd, NULL, z, &good);
	dns_srv_set_docker_resolver(s, &dk);
	u = sandbox_socket(SOCK_DGRAM, 5302);
	t = sandbox_socket(SOCK_STREAM, 5302);
	(void)tcp_connect(t);
	ql = make_query(0x0b0b, "slowfree", DNS_TYPE_A, q);
	(void)send(u, q, ql, 0);
	ql = make_query(0x0c0c, "slowfree", DNS_TYPE_AAAA, q);
	send_framed(t, q, ql);
	(void)pump_until(-1, 0, 150);
	ok(stats(s).docker_pending == 2, "two asks waiting (UDP and TCP)");
	dns_srv_free(s);
	(void)pump_until(-1, 0, DNS_SRV_DOCKER_WAIT_MS + 300);
	ok(!pump_until(u, POLLIN, 10), "free: no reply, no callback after "
	    "it (ASan would have stopped here)");
	close(u);
	close(t);
}

/* Forwards in flight when the server goes: UDP and a TCP connection
 * closed meanwhile; free cancels them without callbacks. */
static void
test_free_inflight(const struct dns_zone *z)
{
	struct dns_upstreams silent;
	struct dns_fwd_stats fs0, fs;
	struct dns_srv *s;
	uint8_t q[512];
	size_t ql;
	char err[256];
	int u, t, t2;

	(void)dns_upstreams_from_env("127.0.0.2:5353", &silent, err,
	    sizeof(err));
	/* A TCP client gone while its forward is in flight: the late
	 * callback finds no connection and drops the reply. */
	dns_srv_set_upstreams(srv, &silent);
	t2 = sandbox_socket(SOCK_STREAM, DNS_SRV_PORT);
	(void)tcp_connect(t2);
	ql = make_query(0x0909, "late.example.com", DNS_TYPE_A, q);
	send_framed(t2, q, ql);
	(void)pump_until(-1, 0, 100);
	{
		struct linger lg = { .l_onoff = 1, .l_linger = 0 };

		/* A reset: the server closes its side at once. */
		(void)setsockopt(t2, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	}
	close(t2);
	{
		uint64_t d0 = stats(srv).drops;

		(void)pump_until(-1, 0, 1300);	/* the budget is 1000 ms */
		ok(stats(srv).inflight == 0 && stats(srv).drops == d0 + 1 &&
		    stats(srv).upstream_failures >= 3,
		    "a forward for a closed TCP connection ends safely "
		    "(reply dropped)");
	}

	s = new_srv(5301, fwd, NULL, z, &silent);
	dns_fwd_stats(fwd, &fs0);
	u = sandbox_socket(SOCK_DGRAM, 5301);
	t = sandbox_socket(SOCK_STREAM, 5301);
	(void)tcp_connect(t);
	ql = make_query(0x0a0a, "slow.example.com", DNS_TYPE_A, q);
	(void)send(u, q, ql, 0);
	send_framed(t, q, ql);
	(void)pump_until(-1, 0, 150);
	dns_fwd_stats(fwd, &fs);
	ok(stats(s).inflight == 2 && fs.inflight == fs0.inflight + 2,
	    "two forwards in flight (UDP and TCP)");
	dns_srv_free(s);
	dns_fwd_stats(fwd, &fs);
	ok(fs.inflight == fs0.inflight && fs.cancelled == fs0.cancelled + 2,
	    "free: both cancelled in the forwarder (cancelled %llu)",
	    (unsigned long long)(fs.cancelled - fs0.cancelled));
	(void)pump_until(-1, 0, 1200);
	ok(1, "no callback after free (ASan would have stopped here)");
	close(u);
	close(t);
	dns_srv_set_upstreams(srv, NULL);
}

int
main(int argc, char **argv)
{
	struct dns_fwd_params fp = { .budget_ms = 1000, .netns_fd = -1 };
	struct loop_fd *wgood = NULL, *wsilent = NULL;
	struct in_addr web;
	struct dns_upstreams good;
	struct dns_zone *z, *z2;
	struct dns_cache *cache;
	struct loop_fd *wdock;
	struct in_addr late;
	const char *late_names[] = { "late" };
	struct stat a, b;
	const char *names[] = { "web" };
	char err[256];

	if (argc != 2) {
		fprintf(stderr, "usage: dns_srv_itest /run/netns/SANDBOX\n");
		return 2;
	}
	if (stat("/proc/1/ns/net", &a) == 0 &&
	    stat("/proc/self/ns/net", &b) == 0 && a.st_ino == b.st_ino) {
		fprintf(stderr, "dns_srv_itest: run me in a throwaway "
		    "namespace (tests/integration/dns_server.sh)\n");
		return 2;
	}
	sandbox_fd = open(argv[1], O_RDONLY | O_CLOEXEC);
	if (sandbox_fd < 0) {
		fprintf(stderr, "%s: %s\n", argv[1], strerror(errno));
		return 2;
	}
	lp = loop_new(err, sizeof(err));
	if (lp == NULL) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	fp.loop = lp;
	good_fd = bind_udp("127.0.0.4", 5353);
	silent_fd = bind_udp("127.0.0.2", 5353);
	silent_lfd = listen_tcp("127.0.0.2", 5353);
	wgood = loop_fd_add(lp, good_fd, EPOLLIN, fakes_ready, NULL);
	wsilent = loop_fd_add(lp, silent_fd, EPOLLIN, fakes_ready, NULL);
	dock_fd = sandbox_bind_udp(DOCKER_IP, DOCKER_PORT);
	wdock = loop_fd_add(lp, dock_fd, EPOLLIN, serve_dock, NULL);
	if (wgood == NULL || wsilent == NULL || wdock == NULL) {
		fprintf(stderr, "loop_fd_add: %s\n", strerror(errno));
		return 1;
	}

	z = dns_zone_new();
	inet_pton(AF_INET, "10.0.0.5", &web);
	if (z == NULL || dns_zone_add_network(z, "n1", err, sizeof(err)) < 0 ||
	    dns_zone_add(z, 0, names, 1, &web, NULL, err, sizeof(err)) < 0) {
		fprintf(stderr, "zone: %s\n", err);
		return 1;
	}
	/* z and "late" on n1, with the single-label NODATA switch. */
	z2 = dns_zone_new();
	inet_pton(AF_INET, "10.0.0.88", &late);
	if (z2 == NULL ||
	    dns_zone_add_network(z2, "n1", err, sizeof(err)) < 0 ||
	    dns_zone_add(z2, 0, names, 1, &web, NULL, err, sizeof(err)) < 0 ||
	    dns_zone_add(z2, 0, late_names, 1, &late, NULL, err,
	    sizeof(err)) < 0) {
		fprintf(stderr, "zone: %s\n", err);
		return 1;
	}
	dns_zone_set_nodata_single_label(z2, true);
	cache = dns_cache_new(1024, 1 << 20, NULL);
	fwd = dns_fwd_new(&fp, err, sizeof(err));
	if (cache == NULL || fwd == NULL) {
		fprintf(stderr, "setup: %s\n", err);
		return 1;
	}
	(void)dns_upstreams_from_env("127.0.0.4:5353", &good, err,
	    sizeof(err));
	srv = new_srv(0, fwd, cache, z, &good);
	srv_nofwd = new_srv(NOFWD_PORT, NULL, cache, z, &good);

	test_local();
	test_forward_and_cache();
	test_servfail();
	test_hostile();
	test_tcp_edges();
	test_cap();
	test_docker(z, z2);
	test_docker_free(z);
	srv_nofwd = dns_srv_free(srv_nofwd);
	test_free_inflight(z);

	dns_srv_free(srv);
	dns_fwd_free(fwd);
	dns_cache_free(cache);
	dns_zone_free(z);
	dns_zone_free(z2);
	loop_fd_free(wdock);
	close(dock_fd);
	loop_fd_free(wgood);
	loop_fd_free(wsilent);
	loop_free(lp);
	close(good_fd);
	close(silent_fd);
	close(silent_lfd);
	close(sandbox_fd);
	printf("%d passed, %d failed\n", npass, nfail);
	return nfail ? 1 : 0;
}
