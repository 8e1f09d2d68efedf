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
	struct dns_zone *z;
	struct dns_cache *cache;
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
	if (wgood == NULL || wsilent == NULL) {
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
	srv_nofwd = dns_srv_free(srv_nofwd);
	test_free_inflight(z);

	dns_srv_free(srv);
	dns_fwd_free(fwd);
	dns_cache_free(cache);
	dns_zone_free(z);
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
