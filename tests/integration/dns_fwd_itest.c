/*
 * Integration test of the DNS forwarder (dns/forward.c) against fake
 * upstreams run in this process on 127.0.0.x: silent, SERVFAIL, REFUSED,
 * NXDOMAIN, good, spoofing (wrong ID, wrong question, wrong source port
 * before the right reply) and truncating (TC=1 over UDP, the answer over
 * TCP after a wrong-ID message).  The fakes' sockets and the forwarder
 * share one event loop (loop/loop.h), driven with loop_once() as the
 * daemon's would run.  Run by tests/integration/dns_forward.sh
 * inside a throwaway network namespace with lo up; it never sends to any
 * other address.  Refuses to run in the namespace of PID 1.
 *
 * Prints "ok N - ..." lines and a final "N passed, M failed"; exits 1 if
 * anything failed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <netinet/in.h>

#include "dns/answer.h"
#include "dns/conf.h"
#include "dns/forward.h"
#include "loop/loop.h"
#include "tests/integration/itest.h"

#define CLIENT_ID	0xbeef
#define NQ_IDS		50
#define MAX_FAKES	12

enum behaviour {
	B_SILENT, B_SERVFAIL, B_REFUSED, B_NXDOMAIN, B_GOOD, B_SPOOF,
	B_SPOOF_ONLY, B_TC,
};

struct fake {
	const char	*ip;
	int		port;
	enum behaviour	b;
	int		ufd, lfd, cfd, alt;	/* alt: another port, same ip */
	struct loop_fd	*wu, *wl, *wc;		/* ufd's, lfd's, cfd's */
	uint8_t		tbuf[600];
	size_t		tgot;
	int		nq, ntcp;
	uint16_t	ids[NQ_IDS * 2];
	uint16_t	ports[NQ_IDS * 2];
};

static struct fake fakes[MAX_FAKES];
static size_t nfakes;
static struct loop *lp;

static void fake_udp_cb(void *arg, uint32_t events);
static void fake_tcp_cb(void *arg, uint32_t events);

static int
bind_sock(const char *ip, int port, int type)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
	    .sin_port = htons((uint16_t)port) };
	int one = 1, fd;

	inet_pton(AF_INET, ip, &sa.sin_addr);
	fd = socket(AF_INET, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    (type == SOCK_STREAM && listen(fd, 16) < 0)) {
		close(fd);
		return -1;
	}
	return fd;
}

static struct fake *
fake_add(const char *ip, int port, enum behaviour b)
{
	struct fake *fk = &fakes[nfakes++];

	*fk = (struct fake){ .ip = ip, .port = port, .b = b, .cfd = -1 };
	fk->ufd = bind_sock(ip, port, SOCK_DGRAM);
	fk->lfd = bind_sock(ip, port, SOCK_STREAM);
	fk->alt = bind_sock(ip, port + 1000, SOCK_DGRAM);
	if (fk->ufd < 0 || fk->lfd < 0 || fk->alt < 0) {
		fprintf(stderr, "cannot bind %s:%d: %s\n", ip, port,
		    strerror(errno));
		exit(1);
	}
	fk->wu = loop_fd_add(lp, fk->ufd, EPOLLIN, fake_udp_cb, fk);
	fk->wl = loop_fd_add(lp, fk->lfd, EPOLLIN, fake_tcp_cb, fk);
	if (fk->wu == NULL || fk->wl == NULL) {
		fprintf(stderr, "loop_fd_add: %s\n", strerror(errno));
		exit(1);
	}
	return fk;
}

/* "www.example.com" A IN, RD, no OPT. */
static size_t
make_query(uint16_t id, uint8_t *out)
{
	static const uint8_t name[] = "\3www\7example\3com";
	size_t off = DNS_HEADER_LEN;

	memset(out, 0, DNS_HEADER_LEN);
	out[0] = (uint8_t)(id >> 8);
	out[1] = (uint8_t)id;
	out[2] = 0x01;		/* RD */
	out[5] = 1;		/* QDCOUNT */
	memcpy(out + off, name, sizeof(name));
	off += sizeof(name);
	out[off++] = 0; out[off++] = DNS_TYPE_A;
	out[off++] = 0; out[off++] = DNS_CLASS_IN;
	return off;
}

/* A reply to q (no OPT): the question echoed (its type changed to AAAA
 * when wrong_q), one A record addr unless rcode or tc. */
static size_t
make_reply(const uint8_t *q, size_t qlen, uint16_t id, int rcode, bool tc,
    bool wrong_q, const char *addr, uint8_t *out)
{
	static const uint8_t rr[] = { 0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60,
	    0, 4 };
	size_t off = qlen;
	bool ans = rcode == 0 && !tc;

	memcpy(out, q, qlen);
	out[0] = (uint8_t)(id >> 8);
	out[1] = (uint8_t)id;
	out[2] = (uint8_t)(0x80 | (q[2] & 0x01) | (tc ? 0x02 : 0));
	out[3] = (uint8_t)(0x80 | rcode);
	out[7] = ans ? 1 : 0;
	if (wrong_q)
		out[qlen - 3] = DNS_TYPE_AAAA;
	if (ans) {
		memcpy(out + off, rr, sizeof(rr));
		off += sizeof(rr);
		inet_pton(AF_INET, addr, out + off);
		off += 4;
	}
	return off;
}

static void
fake_udp(struct fake *fk)
{
	uint8_t q[512], r[600];
	struct sockaddr_in from;
	socklen_t flen = sizeof(from);
	ssize_t n;
	size_t rl;
	uint16_t id;

	while ((n = recvfrom(fk->ufd, q, sizeof(q), 0,
	    (struct sockaddr *)&from, &flen)) >= DNS_HEADER_LEN) {
		id = (uint16_t)(q[0] << 8 | q[1]);
		if (fk->nq < NQ_IDS * 2) {
			fk->ids[fk->nq] = id;
			fk->ports[fk->nq] = ntohs(from.sin_port);
		}
		fk->nq++;
#define SEND(len) (void)sendto(fk->ufd, r, (len), 0, \
		    (struct sockaddr *)&from, flen)
		switch (fk->b) {
		case B_SILENT:
			break;
		case B_SERVFAIL:
			SEND(make_reply(q, (size_t)n, id, 2, false, false,
			    NULL, r));
			break;
		case B_REFUSED:
			SEND(make_reply(q, (size_t)n, id, 5, false, false,
			    NULL, r));
			break;
		case B_NXDOMAIN:
			SEND(make_reply(q, (size_t)n, id, 3, false, false,
			    NULL, r));
			break;
		case B_GOOD:
			SEND(make_reply(q, (size_t)n, id, 0, false, false,
			    "192.0.2.1", r));
			break;
		case B_SPOOF:
		case B_SPOOF_ONLY:
			SEND(make_reply(q, (size_t)n, (uint16_t)(id + 1), 0,
			    false, false, "6.6.6.6", r));
			SEND(make_reply(q, (size_t)n, id, 0, false, true,
			    "6.6.6.7", r));
			SEND(make_reply(q, (size_t)n, CLIENT_ID, 0, false,
			    false, "6.6.6.9", r));
			/* Right ID and question from the wrong port. */
			rl = make_reply(q, (size_t)n, id, 0, false, false,
			    "6.6.6.8", r);
			(void)sendto(fk->alt, r, rl, 0,
			    (struct sockaddr *)&from, flen);
			if (fk->b == B_SPOOF)
				SEND(make_reply(q, (size_t)n, id, 0, false,
				    false, "192.0.2.7", r));
			break;
		case B_TC:
			SEND(make_reply(q, (size_t)n, id, 0, true, false,
			    NULL, r));
			break;
		}
#undef SEND
		flen = sizeof(from);
	}
}

static void
send_framed(int fd, const uint8_t *m, size_t len)
{
	uint8_t b[700];

	b[0] = (uint8_t)(len >> 8);
	b[1] = (uint8_t)len;
	memcpy(b + 2, m, len);
	(void)send(fd, b, len + 2, MSG_NOSIGNAL);
}

/* TCP: a wrong-ID message, then the full answer; silent ones never
 * answer. */
static void
fake_tcp(struct fake *fk)
{
	uint8_t r[600];
	ssize_t n;
	size_t need;
	uint16_t id;

	if (fk->cfd < 0) {
		fk->cfd = accept4(fk->lfd, NULL, NULL,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		fk->tgot = 0;
		if (fk->cfd < 0)
			return;
		fk->wc = loop_fd_add(lp, fk->cfd, EPOLLIN, fake_tcp_cb, fk);
		/* One connection at a time: the next waits in the backlog
		 * without waking the loop. */
		(void)loop_fd_mod(fk->wl, 0);
		return;
	}
	n = recv(fk->cfd, fk->tbuf + fk->tgot, sizeof(fk->tbuf) - fk->tgot,
	    0);
	if (n <= 0) {
		if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
			loop_fd_free(fk->wc);
			fk->wc = NULL;
			close(fk->cfd);
			fk->cfd = -1;
			(void)loop_fd_mod(fk->wl, EPOLLIN);
		}
		return;
	}
	fk->tgot += (size_t)n;
	if (fk->tgot < 2)
		return;
	need = (size_t)fk->tbuf[0] << 8 | fk->tbuf[1];
	if (fk->tgot < need + 2)
		return;
	fk->ntcp++;
	id = (uint16_t)(fk->tbuf[2] << 8 | fk->tbuf[3]);
	if (fk->b != B_SILENT) {
		send_framed(fk->cfd, r, make_reply(fk->tbuf + 2, need,
		    (uint16_t)(id ^ 0x8000), 0, false, false, "6.6.6.6", r));
		send_framed(fk->cfd, r, make_reply(fk->tbuf + 2, need, id, 0,
		    false, false, "192.0.2.8", r));
	}
	fk->tgot = 0;
}

static void
fake_udp_cb(void *arg, uint32_t events)
{
	(void)events;
	fake_udp(arg);
}

static void
fake_tcp_cb(void *arg, uint32_t events)
{
	(void)events;
	fake_tcp(arg);
}

struct result {
	int		called;
	int		status;
	uint8_t		reply[1024];
	size_t		len;
	int		up;
	const char	*reason;
	uint64_t	at;
};

static void
done_cb(void *arg, int status, const uint8_t *reply, size_t len,
    int upstream, const char *reason)
{
	struct result *res = arg;

	res->called++;
	res->status = status;
	res->len = 0;
	if (reply && len <= sizeof(res->reply)) {
		memcpy(res->reply, reply, len);
		res->len = len;
	}
	res->up = upstream;
	res->reason = reason;
	res->at = loop_now_ms();
}

/* Runs the loop (the fakes and every forwarder on it) until every
 * res[0..n) is called or timeout_ms passes. */
static void
pump(struct result *res, size_t n, unsigned int timeout_ms)
{
	uint64_t end = loop_now_ms() + timeout_ms;

	for (;;) {
		size_t done = 0;
		int r;

		for (size_t i = 0; i < n; i++)
			done += res[i].called > 0;
		if (done == n || loop_now_ms() >= end)
			return;
		r = loop_once(lp, 20);
		if (r < 0) {
			fprintf(stderr, "loop_once: %s\n", strerror(-r));
			exit(1);
		}
	}
}

static struct dns_fwd *
new_fwd(unsigned int max, unsigned int budget, int netns_fd)
{
	struct dns_fwd_params p = { .loop = lp, .max_inflight = max,
	    .budget_ms = budget, .netns_fd = netns_fd };
	char err[256];
	struct dns_fwd *f = dns_fwd_new(&p, err, sizeof(err));

	if (f == NULL) {
		fprintf(stderr, "dns_fwd_new: %s\n", err);
		exit(1);
	}
	return f;
}

static struct dns_upstreams
ups_of(const char *spec)
{
	struct dns_upstreams u;
	char err[256];

	if (dns_upstreams_from_env(spec, &u, err, sizeof(err)) < 0) {
		fprintf(stderr, "upstreams %s: %s\n", spec, err);
		exit(1);
	}
	return u;
}

/* The first A record's address in a reply from make_reply, or "". */
static const char *
answer_addr(const struct result *res, char *buf)
{
	buf[0] = '\0';
	if (res->len >= 4 && res->reply[7] == 1)
		inet_ntop(AF_INET, res->reply + res->len - 4, buf,
		    INET_ADDRSTRLEN);
	return buf;
}

static uint16_t
reply_id(const struct result *res)
{
	return res->len >= 2 ? (uint16_t)(res->reply[0] << 8 |
	    res->reply[1]) : 0;
}

/* One forward of the test query to spec; returns the stats. */
static void
forward_one(const char *spec, unsigned int budget, bool tcp,
    struct result *res, struct dns_fwd_stats *st, uint64_t *elapsed)
{
	struct dns_fwd *f = new_fwd(0, budget, -1);
	struct dns_upstreams u = ups_of(spec);
	uint8_t q[512];
	size_t ql = make_query(CLIENT_ID, q);
	uint64_t t0 = loop_now_ms();
	int r;

	*res = (struct result){ 0 };
	r = dns_fwd_start(f, &u, q, ql, tcp, t0, done_cb, res);
	if (r < 0)
		res->status = r;
	else
		pump(res, 1, budget + 2000);
	*elapsed = (res->called ? res->at : loop_now_ms()) - t0;
	dns_fwd_stats(f, st);
	dns_fwd_free(f);
}

static void
test_failover(void)
{
	struct dns_fwd_stats st;
	struct result res;
	uint64_t ms;
	char a[INET_ADDRSTRLEN];

	/* silent, SERVFAIL, good; try = 1500 / 3 = 500 ms. */
	forward_one("127.0.0.2:5353,127.0.0.3:5353,127.0.0.4:5353", 1500,
	    false, &res, &st, &ms);
	ok(res.called == 1 && res.status == 0 && res.up == 2,
	    "failover: silent, SERVFAIL, then the third answers (status %d, "
	    "upstream %d, %s)", res.status, res.up, res.reason);
	ok(reply_id(&res) == CLIENT_ID &&
	    strcmp(answer_addr(&res, a), "192.0.2.1") == 0,
	    "failover: reply relayed with the client's ID (%04x, %s)",
	    reply_id(&res), a);
	ok(ms >= 450 && ms < 1500, "failover: one try timeout, within the "
	    "budget (%llu ms)", (unsigned long long)ms);
	ok(st.up[0].sent == 1 && st.up[0].timeouts == 1 &&
	    st.up[1].sent == 1 && st.up[1].failures == 1 &&
	    st.up[1].replies == 1 && st.up[2].replies == 1 &&
	    st.answered == 1 && st.failed == 0 && st.inflight == 0,
	    "failover: counters (timeouts %llu, failures %llu, replies %llu)",
	    (unsigned long long)st.up[0].timeouts,
	    (unsigned long long)st.up[1].failures,
	    (unsigned long long)st.up[2].replies);

	/* REFUSED, then NXDOMAIN: relayed as it is. */
	forward_one("127.0.0.5:5353,127.0.0.6:5353,127.0.0.4:5353", 1500,
	    false, &res, &st, &ms);
	ok(res.status == 0 && res.up == 1 && res.len > 3 &&
	    (res.reply[3] & 0x0f) == DNS_RCODE_NXDOMAIN &&
	    st.up[0].failures == 1 && st.up[2].sent == 0,
	    "REFUSED goes on, NXDOMAIN is relayed (upstream %d)", res.up);

	/* Nothing listens on 127.0.0.9: ICMP port unreachable. */
	forward_one("127.0.0.9:5353,127.0.0.4:5353", 1500, false, &res, &st,
	    &ms);
	ok(res.status == 0 && res.up == 1 && st.up[0].errors == 1 &&
	    ms < 400, "connection refused goes on at once (%llu ms, "
	    "errors %llu)", (unsigned long long)ms,
	    (unsigned long long)st.up[0].errors);

	/* Three silent servers: the whole budget, then -ETIMEDOUT. */
	forward_one("127.0.0.2:5353,127.0.0.2:5354,127.0.0.2:5355", 1200,
	    false, &res, &st, &ms);
	ok(res.called == 1 && res.status == -ETIMEDOUT && res.up == 2 &&
	    strcmp(res.reason, "timeout") == 0,
	    "all silent: -ETIMEDOUT, last upstream, reason timeout "
	    "(status %d, %s)", res.status, res.reason ? res.reason : "-");
	ok(ms >= 1150 && ms <= 1300 && st.up[0].timeouts == 1 &&
	    st.up[1].timeouts == 1 && st.up[2].timeouts == 1 &&
	    st.failed == 1, "all silent: total time is the budget "
	    "(%llu ms of 1200)", (unsigned long long)ms);

	/* Every server fails: SERVFAIL, SERVFAIL. */
	forward_one("127.0.0.3:5353,127.0.0.3:5354", 1500, false, &res, &st,
	    &ms);
	ok(res.status == -ETIMEDOUT && strcmp(res.reason, "servfail") == 0 &&
	    res.up == 1, "every upstream SERVFAIL: failure, reason servfail "
	    "(%s)", res.reason ? res.reason : "-");
}

static void
test_spoof(void)
{
	struct dns_fwd_stats st;
	struct result res;
	uint64_t ms;
	char a[INET_ADDRSTRLEN];

	forward_one("127.0.0.7:5353", 1500, false, &res, &st, &ms);
	ok(res.status == 0 && strcmp(answer_addr(&res, a), "192.0.2.7") == 0 &&
	    reply_id(&res) == CLIENT_ID,
	    "spoofing: wrong ID, wrong question, client's ID and wrong port "
	    "ignored, the right reply taken (%s)", a);
	ok(st.up[0].mismatched == 3 && st.up[0].replies == 1 && ms < 400,
	    "spoofing: 3 mismatched replies counted (%llu), no waiting for "
	    "the timeout (%llu ms)", (unsigned long long)st.up[0].mismatched,
	    (unsigned long long)ms);

	forward_one("127.0.0.8:5354,127.0.0.4:5353", 1000, false, &res, &st,
	    &ms);
	ok(res.status == 0 && res.up == 1 && st.up[0].timeouts == 1 &&
	    st.up[0].mismatched == 3 && st.up[0].replies == 0,
	    "only spoofed replies: the upstream times out, the next answers "
	    "(upstream %d)", res.up);
}

static void
test_tc(void)
{
	struct dns_fwd_stats st;
	struct result res;
	uint64_t ms;
	char a[INET_ADDRSTRLEN];

	forward_one("127.0.0.8:5353", 1500, false, &res, &st, &ms);
	ok(res.status == 0 && strcmp(res.reason, "reply over tcp") == 0 &&
	    strcmp(answer_addr(&res, a), "192.0.2.8") == 0 &&
	    reply_id(&res) == CLIENT_ID && (res.reply[2] & 0x02) == 0,
	    "TC=1 over UDP: retried over TCP, full answer with the client's "
	    "ID (%s, %s)", res.reason ? res.reason : "-", a);
	ok(st.up[0].tc_retries == 1 && st.up[0].sent == 2 &&
	    st.up[0].mismatched == 1 && st.up[0].replies == 2,
	    "TC: counters (tc %llu, sent %llu, mismatched over TCP %llu)",
	    (unsigned long long)st.up[0].tc_retries,
	    (unsigned long long)st.up[0].sent,
	    (unsigned long long)st.up[0].mismatched);

	forward_one("127.0.0.8:5353", 1500, true, &res, &st, &ms);
	ok(res.status == 0 && strcmp(res.reason, "reply over tcp") == 0 &&
	    st.up[0].tc_retries == 0 && st.up[0].sent == 1 &&
	    reply_id(&res) == CLIENT_ID,
	    "TCP client: straight over TCP (%s)",
	    res.reason ? res.reason : "-");
}

static void
test_ids(void)
{
	struct dns_fwd *f = new_fwd(0, 3000, -1);
	struct dns_upstreams u = ups_of("127.0.0.10:5353");
	static struct result res[NQ_IDS];
	struct fake *fk = &fakes[nfakes - 1];
	uint8_t q[512];
	size_t ql = make_query(CLIENT_ID, q), good = 0, nid = 0, nport = 0;
	bool client_id_seen = false;

	fk->nq = 0;
	for (int i = 0; i < NQ_IDS; i++)
		(void)dns_fwd_start(f, &u, q, ql, false, loop_now_ms(),
		    done_cb, &res[i]);
	pump(res, NQ_IDS, 3000);
	for (int i = 0; i < NQ_IDS; i++)
		good += res[i].called == 1 && res[i].status == 0 &&
		    reply_id(&res[i]) == CLIENT_ID;
	for (int i = 0; i < fk->nq && i < NQ_IDS; i++) {
		bool id_new = true, port_new = true;

		client_id_seen |= fk->ids[i] == CLIENT_ID;
		for (int j = 0; j < i; j++) {
			id_new &= fk->ids[j] != fk->ids[i];
			port_new &= fk->ports[j] != fk->ports[i];
		}
		nid += id_new;
		nport += port_new;
	}
	ok(good == NQ_IDS && fk->nq == NQ_IDS,
	    "%d concurrent forwards answered, each with the client's ID "
	    "(%zu, upstream saw %d)", NQ_IDS, good, fk->nq);
	ok(!client_id_seen && nid > NQ_IDS / 2,
	    "upstream IDs: never the client's, %zu distinct of %d", nid,
	    NQ_IDS);
	ok(nport > NQ_IDS / 2, "source ports: %zu distinct of %d", nport,
	    NQ_IDS);
	dns_fwd_free(f);
}

static void
test_cap_and_free(void)
{
	struct dns_fwd *f = new_fwd(2, 3000, -1);
	struct dns_upstreams u = ups_of("127.0.0.2:5353");
	struct dns_upstreams none = { .n = 0 };
	struct result res[4] = { { 0 } };
	struct dns_fwd_stats st;
	uint8_t q[512];
	size_t ql = make_query(CLIENT_ID, q);
	int r1, r2, r3, r4;

	r1 = dns_fwd_start(f, &u, q, ql, false, loop_now_ms(), done_cb,
	    &res[0]);
	r2 = dns_fwd_start(f, &u, q, ql, true, loop_now_ms(), done_cb,
	    &res[1]);
	r3 = dns_fwd_start(f, &u, q, ql, false, loop_now_ms(), done_cb,
	    &res[2]);
	pump(res, 1, 200);	/* the TCP try connects and writes */
	dns_fwd_stats(f, &st);
	ok(r1 == 0 && r2 == 0 && r3 == -EBUSY && res[2].called == 0 &&
	    st.refused_cap == 1 && st.inflight == 2,
	    "cap 2: the third start gets -EBUSY and is counted (%d, "
	    "refused %llu)", r3, (unsigned long long)st.refused_cap);
	ok(dns_fwd_start(f, &u, q, 5, false, 0, done_cb, &res[3]) ==
	    -EINVAL && res[3].called == 0, "a short query: -EINVAL, no "
	    "callback");
	dns_fwd_free(f);
	ok(res[0].called == 1 && res[1].called == 1 &&
	    res[0].status == -ECANCELED && res[1].status == -ECANCELED &&
	    strcmp(res[1].reason, "shutdown") == 0,
	    "free with 2 in flight (UDP and TCP): each called once with "
	    "-ECANCELED");

	/* Cancel by owner: no callback for the cancelled one. */
	f = new_fwd(0, 3000, -1);
	memset(res, 0, sizeof(res));
	r1 = dns_fwd_start(f, &u, q, ql, false, loop_now_ms(), done_cb,
	    &res[0]);
	r2 = dns_fwd_start(f, &u, q, ql, true, loop_now_ms(), done_cb,
	    &res[1]);
	r3 = dns_fwd_start(f, &u, q, ql, false, loop_now_ms(), done_cb,
	    &res[0]);
	pump(res, 1, 100);
	ok(r1 == 0 && r2 == 0 && r3 == 0 &&
	    dns_fwd_cancel_owner(f, &res[0]) == 2 &&
	    dns_fwd_cancel_owner(f, &res[2]) == 0,
	    "cancel owner: both forwards of one owner dropped, none of "
	    "another");
	dns_fwd_stats(f, &st);
	ok(res[0].called == 0 && st.inflight == 1 && st.cancelled == 2 &&
	    st.failed == 0, "cancel owner: no callback, counted as "
	    "cancelled (%llu), the other still in flight",
	    (unsigned long long)st.cancelled);
	dns_fwd_free(f);
	ok(res[0].called == 0 && res[1].called == 1 &&
	    res[1].status == -ECANCELED,
	    "cancel owner: free calls back only the remaining one");

	f = new_fwd(0, 0, -1);
	res[3] = (struct result){ 0 };
	r4 = dns_fwd_start(f, &none, q, ql, false, loop_now_ms(), done_cb,
	    &res[3]);
	dns_fwd_stats(f, &st);
	ok(r4 == 0 && res[3].called == 1 && res[3].status == -ENOENT &&
	    res[3].up == -1 && st.inflight == 0,
	    "no upstream: callback with -ENOENT before start returns");
	ok(dns_fwd_next_deadline(f) == UINT64_MAX, "idle: no deadline");
	dns_fwd_free(f);
}

static ino_t
ns_ino(void)
{
	struct stat s;

	return stat("/proc/thread-self/ns/net", &s) == 0 ? s.st_ino : 0;
}

/* From an empty namespace (lo down), dial from this one by fd. */
static void
test_netns(void)
{
	int here = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	struct result res = { 0 };
	struct dns_upstreams u = ups_of("127.0.0.4:5353");
	struct dns_fwd *f;
	uint8_t q[512];
	size_t ql = make_query(CLIENT_ID, q);
	ino_t home = ns_ino(), empty;

	if (here < 0 || unshare(CLONE_NEWNET) < 0) {
		ok(0, "netns: unshare: %s", strerror(errno));
		return;
	}
	empty = ns_ino();
	f = new_fwd(0, 1000, here);
	(void)dns_fwd_start(f, &u, q, ql, false, loop_now_ms(), done_cb,
	    &res);
	ok(ns_ino() == empty && empty != home,
	    "netns: the thread is back in its own namespace after dialling");
	/* The fakes' sockets are in `here`; poll works across namespaces. */
	pump(&res, 1, 1500);
	ok(res.status == 0 && res.up == 0,
	    "netns: the query left from the namespace given by fd "
	    "(status %d)", res.status);
	dns_fwd_free(f);
	if (setns(here, CLONE_NEWNET) < 0) {
		fprintf(stderr, "setns back: %s\n", strerror(errno));
		exit(1);
	}
	close(here);
}

int
main(void)
{
	struct stat a, b;
	char err[256];

	if (stat("/proc/1/ns/net", &a) == 0 &&
	    stat("/proc/self/ns/net", &b) == 0 && a.st_ino == b.st_ino) {
		fprintf(stderr, "dns_fwd_itest: run me in a throwaway "
		    "namespace (tests/integration/dns_forward.sh)\n");
		return 2;
	}
	lp = loop_new(err, sizeof(err));
	if (lp == NULL) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	fake_add("127.0.0.2", 5353, B_SILENT);
	fake_add("127.0.0.2", 5354, B_SILENT);
	fake_add("127.0.0.2", 5355, B_SILENT);
	fake_add("127.0.0.3", 5353, B_SERVFAIL);
	fake_add("127.0.0.3", 5354, B_SERVFAIL);
	fake_add("127.0.0.4", 5353, B_GOOD);
	fake_add("127.0.0.5", 5353, B_REFUSED);
	fake_add("127.0.0.6", 5353, B_NXDOMAIN);
	fake_add("127.0.0.7", 5353, B_SPOOF);
	fake_add("127.0.0.8", 5353, B_TC);
	fake_add("127.0.0.8", 5354, B_SPOOF_ONLY);
	fake_add("127.0.0.10", 5353, B_GOOD);	/* last: test_ids */

	test_failover();
	test_spoof();
	test_tc();
	test_ids();
	test_cap_and_free();
	test_netns();

	for (size_t i = 0; i < nfakes; i++) {
		loop_fd_free(fakes[i].wu);
		loop_fd_free(fakes[i].wl);
		loop_fd_free(fakes[i].wc);
		close(fakes[i].ufd);
		close(fakes[i].lfd);
		close(fakes[i].alt);
		if (fakes[i].cfd >= 0)
			close(fakes[i].cfd);
	}
	loop_free(lp);
	printf("%d passed, %d failed\n", npass, nfail);
	return nfail ? 1 : 0;
}
