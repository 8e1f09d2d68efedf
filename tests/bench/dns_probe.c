/*
 * A DNS latency prober: UDP queries for one name to ADDR:PORT at a fixed
 * rate for a fixed time, each with its own ID, each waited for up to a
 * timeout, then one machine-readable line:
 *
 *   sent=20000 answered=20000 lost=0 avg_ms=0.11 p99_ms=0.30 max_ms=4.10
 *   late=0 rcode_err=0 gap_ms=1.2
 *
 * (one line).  lost = sent - answered: no valid reply within the timeout.
 * avg, p99 and max are over the answered queries only; late counts
 * replies that came after their timeout (they are lost, not answered);
 * rcode_err counts answered queries whose rcode was not NOERROR; gap_ms is
 * the longest time without any valid reply after the first one (a stalled
 * server shows up there even when nothing is lost).
 *
 * A reply is valid when it comes from ADDR:PORT (the socket is connected),
 * has QR set, the ID of an outstanding query and the same question.
 * Send times are taken just before each send, receive times are the
 * kernel's (SO_TIMESTAMPNS), so the prober's own scheduling delays do not
 * count as the server's.  Queries go out on a fixed schedule (open loop):
 * a sender that falls behind catches up at once instead of waiting for
 * replies.  With 65536 IDs, an ID comes back after 65536 queries; the
 * rate times the timeout must stay below that.
 *
 *   dns_probe [-r RATE] [-d SECONDS] [-t TIMEOUT_S] [-n NAME] [-q TYPE]
 *             ADDR [PORT]
 *
 * Defaults: 2000 queries/s, 10 s, 2 s, "probe.test", type A (1), port 53.
 * SIGINT or SIGTERM ends the sending early: the queries already sent are
 * still waited for, then the line is printed (for a caller that does not
 * know beforehand how long its load runs).
 * Exit status: 0 when it ran (whatever was lost), 1 on a socket error, 2
 * on a usage error.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
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

static volatile sig_atomic_t stop_sending;

static void
on_signal(int sig)
{
	(void) sig;
	stop_sending = 1;
}

static void
usage(const char *prog)
{
	fprintf(stderr, "usage: %s [-r RATE] [-d SECONDS] [-t TIMEOUT_S] "
	    "[-n NAME] [-q TYPE] ADDR [PORT]\n", prog);
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

/* A positive number from s, within [lo, hi], or exit 2. */
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

/* The question section for name and type into q; its length, or 0. */
static size_t
question(const char *name, unsigned type, unsigned char *q, size_t qlen)
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
	q[o++] = (unsigned char)(type >> 8);
	q[o++] = (unsigned char)type;
	q[o++] = 0;
	q[o++] = 1;	/* IN */
	return o;
}

/* memcmp, ignoring the case of ASCII letters (names in any case). */
static int
same_ci(const unsigned char *a, const unsigned char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (tolower(a[i]) != tolower(b[i]))
			return 0;
	return 1;
}

static int
cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int
main(int argc, char *argv[])
{
	const char *prog = argv[0], *name = "probe.test";
	double rate = 2000, secs = 10, timeout = 2, tx0, *lat, *sent_at;
	double interval_ns, timeout_ns, start, end, last_rx = 0, gap = 0;
	double last_tx;
	unsigned type = 1, port = 53;
	unsigned char q[12 + QMAX], r[RMAX];
	size_t qlen, total, nsent = 0, answered = 0, late = 0, rcode_err = 0;
	struct sockaddr_storage ss = { 0 };
	socklen_t sslen;
	int c, fd, on = 1, rcvbuf = 4 << 20;
	uint16_t id0;

	while ((c = getopt(argc, argv, "r:d:t:n:q:")) != -1) {
		switch (c) {
		case 'r': rate = number(prog, optarg, 1, 1e6); break;
		case 'd': secs = number(prog, optarg, 0.001, 86400); break;
		case 't': timeout = number(prog, optarg, 0.001, 60); break;
		case 'n': name = optarg; break;
		case 'q': type = (unsigned)number(prog, optarg, 1, 65535); break;
		default: usage(prog);
		}
	}
	if (argc - optind < 1 || argc - optind > 2)
		usage(prog);
	if (argc - optind == 2)
		port = (unsigned)number(prog, argv[optind + 1], 1, 65535);
	if (rate * timeout >= NIDS) {
		fprintf(stderr, "%s: RATE x TIMEOUT must stay below %d "
		    "(the query IDs)\n", prog, NIDS);
		return 2;
	}
	{
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		if (inet_pton(AF_INET, argv[optind], &s4->sin_addr) == 1) {
			s4->sin_family = AF_INET;
			s4->sin_port = htons((uint16_t)port);
			sslen = sizeof(*s4);
		} else if (inet_pton(AF_INET6, argv[optind],
		    &s6->sin6_addr) == 1) {
			s6->sin6_family = AF_INET6;
			s6->sin6_port = htons((uint16_t)port);
			sslen = sizeof(*s6);
		} else
			usage(prog);
	}
	/* The header (ID filled per query, RD set, one question). */
	memset(q, 0, 12);
	q[2] = 0x01;
	q[5] = 1;
	if ((qlen = question(name, type, q + 12, QMAX)) == 0) {
		fprintf(stderr, "%s: bad name '%s'\n", prog, name);
		return 2;
	}
	qlen += 12;

	total = (size_t)(rate * secs + 0.5);
	if (total == 0)
		total = 1;
	lat = calloc(total, sizeof(*lat));
	sent_at = calloc(NIDS, sizeof(*sent_at));	/* 0: not outstanding */
	if (lat == NULL || sent_at == NULL) {
		fprintf(stderr, "%s: out of memory\n", prog);
		return 1;
	}
	fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&ss, sslen) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof(on)) < 0) {
		perror("socket");
		return 1;
	}
	(void) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));

	/* A random first ID, then one more per query. */
	{
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		id0 = (uint16_t)(ts.tv_nsec ^ getpid());
	}
	{
		struct sigaction sa = { .sa_handler = on_signal };

		sigemptyset(&sa.sa_mask);
		(void) sigaction(SIGINT, &sa, NULL);
		(void) sigaction(SIGTERM, &sa, NULL);
	}
	interval_ns = 1e9 / rate;
	timeout_ns = timeout * 1e9;
	start = last_tx = mono_ns();
	end = start + (double)(total - 1) * interval_ns + timeout_ns;
	for (;;) {
		double now = mono_ns(), wait_ns;
		struct timespec tmo;
		struct pollfd pfd = { .fd = fd, .events = POLLIN };

		if (stop_sending && nsent < total) {
			total = nsent;
			end = last_tx + timeout_ns;
		}
		/* Every query due by now (catching up after a delay). */
		while (nsent < total && start + nsent * interval_ns <= now) {
			uint16_t id = (uint16_t)(id0 + nsent);

			q[0] = (unsigned char)(id >> 8);
			q[1] = (unsigned char)id;
			tx0 = real_ns();
			if (send(fd, q, qlen, 0) < 0 && errno != EAGAIN &&
			    errno != ECONNREFUSED && errno != ENOBUFS) {
				perror("send");
				return 1;
			}
			/* A query that could not leave is lost, as any. */
			sent_at[id] = tx0;
			nsent++;
			last_tx = mono_ns();
		}
		if (now >= end)
			break;
		wait_ns = nsent < total ? start + nsent * interval_ns - now :
		    end - now;
		if (wait_ns < 0)
			wait_ns = 0;
		tmo.tv_sec = (time_t)(wait_ns / 1e9);
		tmo.tv_nsec = (long)(wait_ns - tmo.tv_sec * 1e9);
		if (ppoll(&pfd, 1, &tmo, NULL) < 0 && errno != EINTR) {
			perror("ppoll");
			return 1;
		}
		for (;;) {
			char cbuf[CMSG_SPACE(sizeof(struct timespec))];
			struct iovec iov = { r, sizeof(r) };
			struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			    .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
			struct cmsghdr *cm;
			double rx = 0;
			ssize_t n = recvmsg(fd, &mh, 0);
			uint16_t id;

			if (n < 0) {
				if (errno == EAGAIN || errno == EINTR)
					break;
				if (errno == ECONNREFUSED)
					continue;	/* nothing listening */
				perror("recvmsg");
				return 1;
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
			/* QR, one question, the same question (any case). */
			if ((size_t)n < qlen || !(r[2] & 0x80) || r[4] != 0 ||
			    r[5] != 1 || !same_ci(r + 12, q + 12, qlen - 12))
				continue;
			id = (uint16_t)(r[0] << 8 | r[1]);
			if (sent_at[id] == 0)
				continue;	/* a duplicate, or not ours */
			if (rx - sent_at[id] > timeout_ns) {
				late++;
				sent_at[id] = 0;
				continue;
			}
			lat[answered++] = (rx - sent_at[id]) / 1e6;
			sent_at[id] = 0;
			if ((r[3] & 0x0f) != 0)
				rcode_err++;
			if (last_rx != 0 && rx - last_rx > gap)
				gap = rx - last_rx;
			if (rx > last_rx)
				last_rx = rx;
		}
	}
	{
		double sum = 0, p99 = 0, max = 0;

		qsort(lat, answered, sizeof(*lat), cmp);
		for (size_t i = 0; i < answered; i++)
			sum += lat[i];
		if (answered > 0) {
			size_t k = (answered * 99 + 99) / 100;

			p99 = lat[k > 0 ? k - 1 : 0];
			max = lat[answered - 1];
		}
		printf("sent=%zu answered=%zu lost=%zu avg_ms=%.3f p99_ms=%.3f "
		    "max_ms=%.3f late=%zu rcode_err=%zu gap_ms=%.1f\n", nsent,
		    answered, nsent - answered, answered ? sum / answered : 0,
		    p99, max, late, rcode_err, gap / 1e6);
	}
	free(lat);
	free(sent_at);
	close(fd);
	return 0;
}
