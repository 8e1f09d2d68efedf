/*
 * Waits for a name to resolve: a UDP query for NAME, type A, to ADDR:PORT
 * every INTERVAL ms (each with its own ID) until a reply with rcode
 * NOERROR and an A record comes back, then one machine-readable line:
 *
 *   first_ns=1718000000123456789 addr=10.201.1.5 ttl=600 rtt_ms=0.21
 *   sent=312 replies=311 nxdomain=0 nodata=0 other=310
 *
 * (one line).  Before the first query it prints "started_ns=N" on a line
 * of its own and flushes, so that a caller can start what it times once
 * the polling runs.  first_ns is the kernel's receive time of that reply
 * (SO_TIMESTAMPNS, CLOCK_REALTIME: comparable with `date +%s%N`), rtt_ms
 * the time since its query was sent, addr and ttl the record's (the TTL
 * can tell which server answered); sent counts the queries, replies the
 * valid replies before it (with it), nxdomain, nodata (NOERROR without an
 * A record) and other (any other rcode: REFUSED, SERVFAIL) split the ones
 * that were not it.
 *
 * A reply is valid when it comes from ADDR:PORT (the socket is
 * connected), has QR set, the ID of a query this run sent and the same
 * question.  Nothing is retried: a query without a reply is simply
 * followed by the next one.
 *
 * With -T TTL it goes on asking after the first answer until an answer
 * whose A record has that TTL (the one server that answers with it), and
 * the line ends with match_ns=N, that answer's receive time.
 *
 *   dns_wait [-i INTERVAL_MS] [-t TIMEOUT_S] [-T TTL] NAME ADDR [PORT]
 *
 * Defaults: 1 ms, 30 s, port 53.  Exit status: 0 when the name resolved
 * (with -T: also with that TTL), 1 when it did not within the timeout
 * (first_ns=0, or match_ns=0) or on a socket error, 2 on a usage error.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define NIDS		65536
#define QMAX		300
#define RMAX		4096

/* What a valid reply says. */
enum verdict {
	REPLY_INVALID = -1,	/* not a reply to our question */
	REPLY_A,		/* NOERROR with an A record */
	REPLY_NODATA,		/* NOERROR without one */
	REPLY_NXDOMAIN,
	REPLY_OTHER		/* any other rcode */
};

static void
usage(const char *prog)
{
	fprintf(stderr, "usage: %s [-i INTERVAL_MS] [-t TIMEOUT_S] [-T TTL] "
	    "NAME ADDR [PORT]\n", prog);
	exit(2);
}

static double
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static double
real_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* A number from s within [lo, hi], or exit 2. */
static double
number(const char *prog, const char *s, double lo, double hi)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !(v >= lo && v <= hi))
		usage(prog);
	return v;
}

/* The question section for name, type A, class IN, into q; its length,
 * or 0 if the name does not fit or has an empty label. */
static size_t
question(const char *name, unsigned char *q, size_t qlen)
{
	size_t o = 0;
	const char *p = name;

	while (*p != '\0') {
		const char *dot = strchr(p, '.');
		size_t l = dot ? (size_t)(dot - p) : strlen(p);

		if (l == 0 || l > 63 || o + 1 + l + 5 > qlen)
			return 0;
		q[o++] = (unsigned char)l;
		memcpy(q + o, p, l);
		o += l;
		p += l;
		if (*p == '.')
			p++;
	}
	if (o + 5 > qlen || o + 1 > 255)
		return 0;
	q[o++] = 0;
	q[o++] = 0;
	q[o++] = 1;	/* A */
	q[o++] = 0;
	q[o++] = 1;	/* IN */
	return o;
}

/* Offset just past the (possibly compressed) name at off in r[0..n), or
 * 0 if it runs past the end.  A pointer ends the name, so no loop. */
static size_t
skip_name(const unsigned char *r, size_t n, size_t off)
{
	while (off < n) {
		unsigned l = r[off];

		if ((l & 0xc0) == 0xc0)
			return off + 2 <= n ? off + 2 : 0;
		if (l & 0xc0)
			return 0;
		off += 1 + l;
		if (l == 0)
			return off <= n ? off : 0;
	}
	return 0;
}

/* memcmp, ignoring the case of ASCII letters (servers may change it). */
static int
same_ci(const unsigned char *a, const unsigned char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (tolower(a[i]) != tolower(b[i]))
			return 0;
	return 1;
}

/*
 * What reply r[0..n) to the question q[0..qlen) (header included) says;
 * with REPLY_A, the first A record's address and TTL go to *ret_a and
 * *ret_ttl.  The ID is the caller's to check.
 */
static enum verdict
classify(const unsigned char *r, size_t n, const unsigned char *q,
    size_t qlen, struct in_addr *ret_a, uint32_t *ret_ttl)
{
	unsigned rcode, an;
	size_t off;

	if (n < qlen || !(r[2] & 0x80) || r[4] != 0 || r[5] != 1 ||
	    !same_ci(r + 12, q + 12, qlen - 12))
		return REPLY_INVALID;
	rcode = r[3] & 0x0f;
	if (rcode == 3)
		return REPLY_NXDOMAIN;
	if (rcode != 0)
		return REPLY_OTHER;
	an = (unsigned)r[6] << 8 | r[7];
	off = qlen;
	for (unsigned i = 0; i < an; i++) {
		unsigned type, class, rdlen;

		if ((off = skip_name(r, n, off)) == 0 || n - off < 10)
			return REPLY_INVALID;
		type = (unsigned)r[off] << 8 | r[off + 1];
		class = (unsigned)r[off + 2] << 8 | r[off + 3];
		rdlen = (unsigned)r[off + 8] << 8 | r[off + 9];
		off += 10;
		if (n - off < rdlen)
			return REPLY_INVALID;
		if (type == 1 && class == 1 && rdlen == 4) {
			memcpy(ret_a, r + off, 4);
			*ret_ttl = (uint32_t)r[off - 6] << 24 |
			    (uint32_t)r[off - 5] << 16 |
			    (uint32_t)r[off - 4] << 8 | r[off - 3];
			return REPLY_A;
		}
		off += rdlen;
	}
	return REPLY_NODATA;
}

int
main(int argc, char *argv[])
{
	const char *prog = argv[0], *name;
	double interval = 1, timeout = 30, start, next, *sent_at = NULL;
	double match_rx = 0;
	long want_ttl = -1;
	char first[256] = "";	/* the line's start, once answered */
	unsigned port = 53;
	unsigned char q[12 + QMAX], r[RMAX];
	size_t qlen, nsent = 0, replies = 0, nx = 0, nodata = 0, other = 0;
	struct sockaddr_in sa = { .sin_family = AF_INET };
	int c, fd = -1, on = 1, rc = 1;
	uint16_t id0;

	while ((c = getopt(argc, argv, "i:t:T:")) != -1) {
		switch (c) {
		case 'i': interval = number(prog, optarg, 0.05, 1000); break;
		case 't': timeout = number(prog, optarg, 0.001, 600); break;
		case 'T': want_ttl = (long)number(prog, optarg, 0, 2147483647);
			break;
		default: usage(prog);
		}
	}
	if (argc - optind < 2 || argc - optind > 3)
		usage(prog);
	name = argv[optind];
	if (inet_pton(AF_INET, argv[optind + 1], &sa.sin_addr) != 1)
		usage(prog);
	if (argc - optind == 3)
		port = (unsigned)number(prog, argv[optind + 2], 1, 65535);
	sa.sin_port = htons((uint16_t)port);
	if (timeout * 1e3 / interval >= NIDS) {
		fprintf(stderr, "%s: TIMEOUT / INTERVAL must stay below %d "
		    "(the query IDs)\n", prog, NIDS);
		return 2;
	}
	memset(q, 0, 12);
	q[2] = 0x01;	/* RD */
	q[5] = 1;	/* one question */
	if ((qlen = question(name, q + 12, QMAX)) == 0) {
		fprintf(stderr, "%s: bad name '%s'\n", prog, name);
		return 2;
	}
	qlen += 12;
	if ((sent_at = calloc(NIDS, sizeof(*sent_at))) == NULL) {
		fprintf(stderr, "%s: out of memory\n", prog);
		goto out;
	}
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof(on)) < 0) {
		perror("socket");
		goto out;
	}
	id0 = (uint16_t)((uint64_t)real_ns() ^ (uint64_t)getpid());
	printf("started_ns=%.0f\n", real_ns());
	fflush(stdout);

	start = next = mono_ns();
	for (;;) {
		double now = mono_ns(), wait_ns;
		struct timespec tmo;
		struct pollfd pfd = { .fd = fd, .events = POLLIN };

		if (now - start >= timeout * 1e9)
			break;
		/* The next query once its time has come; after a delay
		 * one query, not a burst to catch up. */
		if (next <= now) {
			uint16_t id = (uint16_t)(id0 + nsent);

			q[0] = (unsigned char)(id >> 8);
			q[1] = (unsigned char)id;
			sent_at[id] = real_ns();
			if (send(fd, q, qlen, 0) < 0 && errno != EAGAIN &&
			    errno != ECONNREFUSED && errno != ENOBUFS) {
				perror("send");
				goto out;
			}
			nsent++;
			next += interval * 1e6;
			if (next < now)
				next = now + interval * 1e6;
		}
		wait_ns = next - mono_ns();
		if (wait_ns < 0)
			wait_ns = 0;
		tmo.tv_sec = (time_t)(wait_ns / 1e9);
		tmo.tv_nsec = (long)(wait_ns - tmo.tv_sec * 1e9);
		if (ppoll(&pfd, 1, &tmo, NULL) < 0 && errno != EINTR) {
			perror("ppoll");
			goto out;
		}
		for (;;) {
			char cbuf[CMSG_SPACE(sizeof(struct timespec))];
			struct iovec iov = { r, sizeof(r) };
			struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			    .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
			struct cmsghdr *cm;
			struct in_addr a;
			uint32_t ttl = 0;
			char abuf[INET_ADDRSTRLEN];
			double rx = 0;
			ssize_t n = recvmsg(fd, &mh, 0);
			uint16_t id;

			if (n < 0) {
				if (errno == EAGAIN || errno == EINTR)
					break;
				if (errno == ECONNREFUSED)
					continue;	/* nothing listening */
				perror("recvmsg");
				goto out;
			}
			for (cm = CMSG_FIRSTHDR(&mh); cm != NULL;
			    cm = CMSG_NXTHDR(&mh, cm))
				if (cm->cmsg_level == SOL_SOCKET &&
				    cm->cmsg_type == SCM_TIMESTAMPNS) {
					struct timespec ts;

					memcpy(&ts, CMSG_DATA(cm), sizeof(ts));
					rx = ts.tv_sec * 1e9 + ts.tv_nsec;
				}
			if (rx == 0)
				rx = real_ns();
			id = (uint16_t)(r[0] << 8 | r[1]);
			if ((size_t)n < 12 || sent_at[id] == 0)
				continue;	/* a duplicate, or not ours */
			switch (classify(r, (size_t)n, q, qlen, &a, &ttl)) {
			case REPLY_INVALID:
				continue;
			case REPLY_A:
				if (first[0] == '\0')
					(void) snprintf(first, sizeof(first),
					    "first_ns=%.0f addr=%s ttl=%u "
					    "rtt_ms=%.3f sent=%zu replies=%zu "
					    "nxdomain=%zu nodata=%zu other=%zu",
					    rx, inet_ntop(AF_INET, &a, abuf,
					    sizeof(abuf)), (unsigned)ttl,
					    (rx - sent_at[id]) / 1e6, nsent,
					    replies + 1, nx, nodata, other);
				if (want_ttl < 0)
					goto done;
				if ((long)ttl == want_ttl) {
					match_rx = rx;
					goto done;
				}
				break;
			case REPLY_NODATA: nodata++; break;
			case REPLY_NXDOMAIN: nx++; break;
			case REPLY_OTHER: other++; break;
			}
			replies++;
			sent_at[id] = 0;
		}
	}
done:
	if (first[0] == '\0')
		printf("first_ns=0 addr=- ttl=0 rtt_ms=0 sent=%zu replies=%zu "
		    "nxdomain=%zu nodata=%zu other=%zu", nsent, replies, nx,
		    nodata, other);
	else
		printf("%s", first);
	if (want_ttl >= 0)
		printf(" match_ns=%.0f", match_rx);
	printf("\n");
	rc = first[0] != '\0' && (want_ttl < 0 || match_rx != 0) ? 0 : 1;
out:
	if (fd >= 0)
		close(fd);
	free(sent_at);
	return rc;
}
