/*
 * The DNS clients' common part; see dnsq.h.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "tests/bench/dnsq.h"

#define HDR	12

static double
clock_ns(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

double
dnsq_mono_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

double
dnsq_real_ns(void)
{
	return clock_ns(CLOCK_REALTIME);
}

void
dnsq_usage(const struct dnsq_cli *cli)
{
	fprintf(stderr, "usage: %s %s\n", cli->prog, cli->args);
	exit(2);
}

double
dnsq_number(const struct dnsq_cli *cli, const char *s, double lo, double hi)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	/* The negated range test also turns away NaN. */
	if (errno != 0 || end == s || *end != '\0' || !(v >= lo && v <= hi))
		dnsq_usage(cli);
	return v;
}

int
dnsq_addr(const char *s, unsigned port, struct sockaddr_storage *ret_ss,
    socklen_t *ret_len)
{
	struct sockaddr_in s4 = { .sin_family = AF_INET };
	struct sockaddr_in6 s6 = { .sin6_family = AF_INET6 };

	if (inet_pton(AF_INET, s, &s4.sin_addr) == 1) {
		s4.sin_port = htons((uint16_t)port);
		memset(ret_ss, 0, sizeof(*ret_ss));
		memcpy(ret_ss, &s4, sizeof(s4));
		*ret_len = sizeof(s4);
		return 0;
	}
	if (inet_pton(AF_INET6, s, &s6.sin6_addr) == 1) {
		s6.sin6_port = htons((uint16_t)port);
		memset(ret_ss, 0, sizeof(*ret_ss));
		memcpy(ret_ss, &s6, sizeof(s6));
		*ret_len = sizeof(s6);
		return 0;
	}
	return -1;
}

size_t
dnsq_query(const char *name, unsigned type, unsigned char *q, size_t qsize)
{
	size_t o = HDR;
	const char *p = name;

	if (qsize < HDR)
		return 0;
	memset(q, 0, HDR);
	q[2] = 0x01;	/* RD */
	q[5] = 1;	/* one question */
	while (*p != '\0') {
		const char *dot = strchr(p, '.');
		size_t l = dot ? (size_t)(dot - p) : strlen(p);

		/* Room for the label and, after it, the root and the
		 * type and class. */
		if (l == 0 || l > 63 || o + 1 + l + 5 > qsize)
			return 0;
		q[o++] = (unsigned char)l;
		memcpy(q + o, p, l);
		o += l;
		p += l;
		if (*p == '.')
			p++;
	}
	/* A name is at most 255 bytes on the wire, its root included. */
	if (o + 5 > qsize || o - HDR + 1 > 255)
		return 0;
	q[o++] = 0;
	q[o++] = (unsigned char)(type >> 8);
	q[o++] = (unsigned char)type;
	q[o++] = 0;
	q[o++] = 1;	/* IN */
	return o;
}

/* memcmp, ignoring the case of ASCII letters. */
static int
same_ci(const unsigned char *a, const unsigned char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (tolower(a[i]) != tolower(b[i]))
			return 0;
	return 1;
}

int
dnsq_is_reply(const unsigned char *r, size_t n, const unsigned char *q,
    size_t qlen)
{
	return n >= qlen && qlen >= HDR && (r[2] & 0x80) && r[4] == 0 &&
	    r[5] == 1 && same_ci(r + HDR, q + HDR, qlen - HDR);
}

int
dnsq_connect(const struct sockaddr_storage *ss, socklen_t sslen)
{
	int fd, on = 1, saved;

	fd = socket(ss->ss_family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0);
	if (fd < 0)
		return -1;
	if (connect(fd, (const struct sockaddr *)ss, sslen) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof(on)) < 0) {
		saved = errno;
		(void) close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

int
dnsq_send(int fd, unsigned char *q, size_t qlen, uint16_t id)
{
	q[0] = (unsigned char)(id >> 8);
	q[1] = (unsigned char)id;
	if (send(fd, q, qlen, 0) < 0 && errno != EAGAIN &&
	    errno != ECONNREFUSED && errno != ENOBUFS)
		return -1;
	return 0;
}

int
dnsq_wait(int fd, double wait_ns)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	struct timespec tmo;

	if (wait_ns < 0)
		wait_ns = 0;
	tmo.tv_sec = (time_t)(wait_ns / 1e9);
	tmo.tv_nsec = (long)(wait_ns - tmo.tv_sec * 1e9);
	if (ppoll(&pfd, 1, &tmo, NULL) < 0 && errno != EINTR)
		return -1;
	return 0;
}

ssize_t
dnsq_recv(int fd, unsigned char *r, size_t size, double *ret_rx)
{
	char cbuf[CMSG_SPACE(sizeof(struct timespec))];
	struct iovec iov = { r, size };
	struct msghdr mh;
	struct cmsghdr *cm;
	double rx = 0;
	ssize_t n;

	/* Past what dnsq.h says is skipped. */
	do {
		mh = (struct msghdr){ .msg_iov = &iov, .msg_iovlen = 1,
		    .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
		n = recvmsg(fd, &mh, 0);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return 0;
	} while ((n < 0 && errno == ECONNREFUSED) || (n >= 0 && n < HDR));
	if (n < 0)
		return -1;
	for (cm = CMSG_FIRSTHDR(&mh); cm != NULL; cm = CMSG_NXTHDR(&mh, cm))
		if (cm->cmsg_level == SOL_SOCKET &&
		    cm->cmsg_type == SCM_TIMESTAMPNS) {
			struct timespec ts;

			memcpy(&ts, CMSG_DATA(cm), sizeof(ts));
			rx = ts.tv_sec * 1e9 + ts.tv_nsec;
		}
	*ret_rx = rx != 0 ? rx : dnsq_real_ns();
	return n;
}
