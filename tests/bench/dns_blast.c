/*
 * A lean DNS load client: UDP queries, type A, for a list of names in
 * turn, to ADDR:PORT, keeping WINDOW queries outstanding (closed loop: a
 * query goes out for each one answered or given up), for SECONDS; then it
 * stops sending, waits up to the timeout for the ones still out, and
 * prints one machine-readable line:
 *
 *   sent=412345 answered=412340 lost=5 qps=103085 seconds=4.000
 *   latency_ms=1.912 unmatched=0 noerror=412340 formerr=0 servfail=0
 *   nxdomain=0 notimp=0 refused=0 rcode_other=0
 *
 * (one line).  answered counts valid replies, whatever their rcode (the
 * rcode counts split them); lost = sent - answered: no valid reply within
 * the timeout, or none by the end of the drain; qps = answered / seconds
 * of sending; latency_ms is the average over the answered queries,
 * clocked per batch (the time a batch went out to the time the batch
 * with its reply was read), so it includes the client's own delays;
 * unmatched counts datagrams that answer no outstanding query (late
 * replies, duplicates, a question that differs).
 *
 * It is built to cost its CPU as little per query as it can, so that the
 * server is what saturates: one thread, queries prebuilt per name, sends
 * with sendmmsg and receives with recvmmsg in batches of up to BATCH,
 * poll only when a round found nothing to read or send, no timestamps
 * per packet.
 *
 * A reply is valid when it comes from ADDR:PORT (each socket is
 * connected), has QR set, the ID of a query outstanding on that socket
 * and one question, the same one (dnsq_is_reply()).  Each socket has its
 * own 65536 IDs, handed out in turn, skipping those still outstanding: an
 * ID comes back after 65536 queries on its socket, so a reply that comes
 * later than that after its query timed out can pass for the new query's
 * when the name is the same (at 100000 q/s, a reply over 0.6 s late).
 *
 *   dns_blast [-w WINDOW] [-l SECONDS] [-s SOCKETS] [-b BATCH]
 *             [-t TIMEOUT_S] [-p PORT] [-f FILE] ADDR [NAME...]
 *
 * The names come from the command line and from FILE, one a line, as
 * dnsperf reads them: the name, then optionally its type, which must be
 * A; blank lines and lines starting with ';' or '#' are skipped.  The
 * window is spread over the sockets.  Defaults: 200 outstanding, 4 s,
 * 1 socket, batches of 64, 1 s timeout, port 53.
 * Exit status: 0 when it ran and something was answered, 1 when nothing
 * was or on a socket error, 2 on a usage error.
 */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tests/bench/dnsq.h"

#define NIDS		65536
#define NAMES_MAX	65536
#define SOCKS_MAX	16
#define BATCH_MAX	1024
#define WINDOW_MAX	10000	/* well below NIDS per socket */
#define RMAX		1024	/* a reply longer than this is cut: the
				 * question at its start is still whole */
#define SCAN_NS		50e6	/* how often timed-out queries are looked for */
#define POLL_MAX_NS	10e6	/* the longest poll, to see the clock */

/* A prebuilt query, ID 0. */
struct query {
	size_t		 len;
	unsigned char	 q[DNSQ_QUERY_MAX];
};

/* One outstanding query. */
struct slot {
	double		 sent_ns;	/* monotonic, of its batch */
	uint32_t	 name;		/* index into the queries */
	uint16_t	 id;
	int		 busy;
};

/* A connected socket and its share of the window. */
struct sock {
	int		 fd;
	struct slot	*slots;		/* [nslots] */
	uint32_t	*free;		/* stack of free slot indexes */
	size_t		 nslots, nfree;
	uint32_t	*owner;		/* [NIDS]: slot index + 1 waiting for
					 * a reply with that ID, or 0 */
	uint16_t	 next_id;
	int		 blocked;	/* the last send found no room */
};

/* The counters of the line. */
struct tally {
	size_t		 sent, answered, lost, unmatched;
	size_t		 rcode[16];
	double		 latency_ns;	/* summed over the answered */
};

static struct query	*queries;
static size_t		 nqueries;

/* Adds NAME (type A) to the queries: 0, or -1 with a message. */
static int
add_name(const char *prog, const char *name)
{
	if (nqueries == NAMES_MAX) {
		fprintf(stderr, "%s: more than %d names\n", prog, NAMES_MAX);
		return -1;
	}
	queries[nqueries].len = dnsq_query(name, 1, queries[nqueries].q,
	    sizeof(queries[nqueries].q));
	if (queries[nqueries].len == 0) {
		fprintf(stderr, "%s: bad name '%s'\n", prog, name);
		return -1;
	}
	nqueries++;
	return 0;
}

/* Adds the names of FILE (format above): 0, or -1 with a message. */
static int
read_names(const char *prog, const char *path)
{
	FILE *f;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	unsigned lineno = 0;
	int rc = -1;

	if ((f = fopen(path, "r")) == NULL) {
		fprintf(stderr, "%s: cannot open '%s': %s\n", prog, path,
		    strerror(errno));
		return -1;
	}
	while ((len = getline(&line, &cap, f)) >= 0) {
		char *name = line, *type, *rest;

		lineno++;
		name += strspn(name, " \t\r\n");
		if (*name == '\0' || *name == ';' || *name == '#')
			continue;
		type = name + strcspn(name, " \t\r\n");
		if (*type != '\0')
			*type++ = '\0';
		type += strspn(type, " \t\r\n");
		rest = type + strcspn(type, " \t\r\n");
		*rest = '\0';
		if (*type != '\0' && strcasecmp(type, "A") != 0) {
			fprintf(stderr, "%s: %s:%u: type '%s': only A is "
			    "asked\n", prog, path, lineno, type);
			goto out;
		}
		if (add_name(prog, name) < 0)
			goto out;
	}
	if (ferror(f)) {
		fprintf(stderr, "%s: cannot read '%s'\n", prog, path);
		goto out;
	}
	rc = 0;
out:
	free(line);
	fclose(f);
	return rc;
}

/* A connected UDP socket to ss with a large receive buffer (a full
 * window of replies can arrive while the client is busy elsewhere): the
 * fd, or -1 with errno.  Blocking; every call says MSG_DONTWAIT. */
static int
open_sock(const struct sockaddr_storage *ss, socklen_t sslen)
{
	int fd, buf = 4 << 20, saved;

	if ((fd = socket(ss->ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	/* FORCE passes over rmem_max as root; a smaller buffer only risks
	 * drops, which show as lost. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf,
	    sizeof(buf)) < 0)
		(void) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf,
		    sizeof(buf));
	if (connect(fd, (const struct sockaddr *)ss, sslen) < 0) {
		saved = errno;
		(void) close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

static void
sock_done(struct sock *s)
{
	if (s->fd >= 0)
		(void) close(s->fd);
	free(s->slots);
	free(s->free);
	free(s->owner);
}

/* s with nslots slots, all free: 0, or -1 (out of memory). */
static int
sock_init(struct sock *s, size_t nslots, uint16_t id0)
{
	*s = (struct sock){ .fd = -1, .nslots = nslots, .nfree = nslots,
	    .next_id = id0 };
	s->slots = calloc(nslots, sizeof(*s->slots));
	s->free = calloc(nslots, sizeof(*s->free));
	s->owner = calloc(NIDS, sizeof(*s->owner));
	if (s->slots == NULL || s->free == NULL || s->owner == NULL)
		return -1;
	for (size_t i = 0; i < nslots; i++)
		s->free[i] = (uint32_t)(nslots - 1 - i);
	return 0;
}

/*
 * Fills s's free slots with queries (names in turn from *next_name), in
 * batches of up to batch, at time now.  The number sent, or -1 with errno
 * on an error other than a full buffer or a pending ICMP error (those
 * queries are not sent; their slots stay free for the next round).
 */
static ssize_t
send_some(struct sock *s, size_t batch, double now, size_t *next_name,
    struct mmsghdr *mm, struct iovec *iov, unsigned char (*buf)[DNSQ_QUERY_MAX])
{
	size_t total = 0;

	s->blocked = 0;
	while (s->nfree > 0) {
		size_t k = s->nfree < batch ? s->nfree : batch, name = *next_name;
		uint16_t id = s->next_id;
		int r;

		for (size_t j = 0; j < k; j++) {
			struct slot *sl = &s->slots[s->free[s->nfree - 1 - j]];
			const struct query *q = &queries[name];

			while (s->owner[id] != 0)
				id++;
			sl->name = (uint32_t)name;
			sl->id = id++;
			memcpy(buf[j], q->q, q->len);
			buf[j][0] = (unsigned char)(sl->id >> 8);
			buf[j][1] = (unsigned char)sl->id;
			iov[j] = (struct iovec){ buf[j], q->len };
			mm[j] = (struct mmsghdr){ .msg_hdr = {
			    .msg_iov = &iov[j], .msg_iovlen = 1 } };
			if (++name == nqueries)
				name = 0;
		}
		r = sendmmsg(s->fd, mm, (unsigned)k, MSG_DONTWAIT);
		if (r < 0) {
			if (errno == EINTR || errno == ECONNREFUSED)
				continue;
			if (errno == EAGAIN || errno == ENOBUFS) {
				s->blocked = 1;
				break;
			}
			return -1;
		}
		/* The first r went out: theirs are the slots from the top. */
		for (int j = 0; j < r; j++) {
			uint32_t i = s->free[--s->nfree];
			struct slot *sl = &s->slots[i];

			sl->sent_ns = now;
			sl->busy = 1;
			s->owner[sl->id] = i + 1;
		}
		s->next_id = (uint16_t)(s->slots[s->free[s->nfree]].id + 1);
		*next_name = (*next_name + (size_t)r) % nqueries;
		total += (size_t)r;
		if ((size_t)r < k) {
			s->blocked = 1;
			break;
		}
	}
	return (ssize_t)total;
}

/* Frees the slot of ID id on s (answered or given up). */
static void
release(struct sock *s, uint16_t id)
{
	uint32_t i = s->owner[id] - 1;

	s->owner[id] = 0;
	s->slots[i].busy = 0;
	s->free[s->nfree++] = i;
}

/*
 * Reads every reply waiting on s, in batches, and accounts for them at
 * time now.  The number of datagrams read, or -1 with errno.
 */
static ssize_t
recv_some(struct sock *s, size_t batch, double now, struct tally *t,
    struct mmsghdr *mm, struct iovec *iov, unsigned char (*buf)[RMAX])
{
	size_t total = 0;
	int r;

	do {
		for (size_t j = 0; j < batch; j++) {
			iov[j] = (struct iovec){ buf[j], RMAX };
			mm[j] = (struct mmsghdr){ .msg_hdr = {
			    .msg_iov = &iov[j], .msg_iovlen = 1 } };
		}
		r = recvmmsg(s->fd, mm, (unsigned)batch, MSG_DONTWAIT, NULL);
		if (r < 0) {
			/* A pending ICMP error is reported once; the
			 * query it was for is simply lost. */
			if (errno == EINTR || errno == ECONNREFUSED)
				continue;
			if (errno == EAGAIN)
				break;
			return -1;
		}
		for (int j = 0; j < r; j++) {
			const unsigned char *p = buf[j];
			size_t n = mm[j].msg_len;
			uint16_t id;
			const struct query *q;
			struct slot *sl;

			if (n < 12 || s->owner[id = (uint16_t)(p[0] << 8 |
			    p[1])] == 0) {
				t->unmatched++;
				continue;
			}
			sl = &s->slots[s->owner[id] - 1];
			q = &queries[sl->name];
			if (!dnsq_is_reply(p, n, q->q, q->len)) {
				t->unmatched++;
				continue;
			}
			t->answered++;
			t->rcode[p[3] & 0x0f]++;
			t->latency_ns += now - sl->sent_ns;
			release(s, id);
		}
		total += (size_t)r;
	} while (r < 0 || (size_t)r == batch);
	return (ssize_t)total;
}

/* Gives up on s's queries sent before cutoff: they count as lost. */
static void
expire(struct sock *s, double cutoff, struct tally *t)
{
	for (size_t i = 0; i < s->nslots; i++)
		if (s->slots[i].busy && s->slots[i].sent_ns < cutoff) {
			t->lost++;
			release(s, s->slots[i].id);
		}
}

int
main(int argc, char *argv[])
{
	const struct dnsq_cli cli = { argv[0],
	    "[-w WINDOW] [-l SECONDS] [-s SOCKETS] [-b BATCH] [-t TIMEOUT_S] "
	    "[-p PORT] [-f FILE] ADDR [NAME...]" };
	const char *prog = argv[0], *file = NULL;
	double seconds = 4, timeout = 1, start, end, stop = 0, now, next_scan;
	size_t window = 200, nsocks = 1, batch = 64, next_name = 0;
	size_t outstanding;
	unsigned port = 53;
	struct sockaddr_storage ss;
	socklen_t sslen;
	struct sock socks[SOCKS_MAX];
	struct pollfd pfd[SOCKS_MAX];
	struct tally t = { 0 };
	struct mmsghdr *mm = NULL;
	struct iovec *iov = NULL;
	unsigned char (*sbuf)[DNSQ_QUERY_MAX] = NULL, (*rbuf)[RMAX] = NULL;
	size_t ninit = 0;
	int c, rc = 1, sending = 1;
	uint16_t id0;

	while ((c = getopt(argc, argv, "w:l:s:b:t:p:f:")) != -1) {
		switch (c) {
		case 'w':
			window = (size_t)dnsq_number(&cli, optarg, 1,
			    WINDOW_MAX);
			break;
		case 'l':
			seconds = dnsq_number(&cli, optarg, 0.001, 3600);
			break;
		case 's':
			nsocks = (size_t)dnsq_number(&cli, optarg, 1,
			    SOCKS_MAX);
			break;
		case 'b':
			batch = (size_t)dnsq_number(&cli, optarg, 1,
			    BATCH_MAX);
			break;
		case 't':
			timeout = dnsq_number(&cli, optarg, 0.001, 60);
			break;
		case 'p':
			port = (unsigned)dnsq_number(&cli, optarg, 1, 65535);
			break;
		case 'f':
			file = optarg;
			break;
		default: dnsq_usage(&cli);
		}
	}
	if (argc - optind < 1)
		dnsq_usage(&cli);
	if (dnsq_addr(argv[optind], port, &ss, &sslen) < 0)
		dnsq_usage(&cli);
	if (nsocks > window)
		nsocks = window;

	queries = calloc(NAMES_MAX, sizeof(*queries));
	mm = calloc(batch, sizeof(*mm));
	iov = calloc(batch, sizeof(*iov));
	sbuf = calloc(batch, sizeof(*sbuf));
	rbuf = calloc(batch, sizeof(*rbuf));
	if (queries == NULL || mm == NULL || iov == NULL || sbuf == NULL ||
	    rbuf == NULL) {
		fprintf(stderr, "%s: out of memory\n", prog);
		goto out;
	}
	for (int i = optind + 1; i < argc; i++)
		if (add_name(prog, argv[i]) < 0) {
			rc = 2;
			goto out;
		}
	if (file != NULL && read_names(prog, file) < 0) {
		rc = 2;
		goto out;
	}
	if (nqueries == 0) {
		fprintf(stderr, "%s: no names to ask for\n", prog);
		rc = 2;
		goto out;
	}

	id0 = (uint16_t)((uint64_t)dnsq_real_ns() ^ (uint64_t)getpid());
	for (ninit = 0; ninit < nsocks; ninit++) {
		struct sock *s = &socks[ninit];
		size_t share = window / nsocks + (ninit < window % nsocks);

		if (sock_init(s, share, (uint16_t)(id0 + ninit * 4099)) < 0) {
			ninit++;	/* half built: sock_done() frees it */
			fprintf(stderr, "%s: out of memory\n", prog);
			goto out;
		}
		if ((s->fd = open_sock(&ss, sslen)) < 0) {
			ninit++;
			perror("socket");
			goto out;
		}
		pfd[ninit] = (struct pollfd){ .fd = s->fd };
	}

	start = next_scan = dnsq_mono_ns();
	end = start + seconds * 1e9;
	for (;;) {
		size_t moved = 0;

		now = dnsq_mono_ns();
		if (sending && now >= end) {
			sending = 0;
			stop = now;
		}
		outstanding = 0;
		for (size_t i = 0; i < nsocks; i++)
			outstanding += socks[i].nslots - socks[i].nfree;
		if (!sending && (outstanding == 0 || now >= stop + timeout *
		    1e9))
			break;
		if (now >= next_scan) {
			for (size_t i = 0; i < nsocks; i++)
				expire(&socks[i], now - timeout * 1e9, &t);
			next_scan = now + SCAN_NS;
		}
		for (size_t i = 0; i < nsocks; i++) {
			ssize_t n = recv_some(&socks[i], batch, now, &t, mm,
			    iov, rbuf);

			if (n < 0) {
				perror("recvmmsg");
				goto out;
			}
			moved += (size_t)n;
		}
		for (size_t i = 0; sending && i < nsocks; i++) {
			ssize_t n = send_some(&socks[i], batch, now,
			    &next_name, mm, iov, sbuf);

			if (n < 0) {
				perror("sendmmsg");
				goto out;
			}
			t.sent += (size_t)n;
			moved += (size_t)n;
		}
		if (moved == 0) {
			double until = sending ? end : stop + timeout * 1e9;
			double wait = until - now;

			if (wait > POLL_MAX_NS)
				wait = POLL_MAX_NS;
			for (size_t i = 0; i < nsocks; i++)
				pfd[i].events = POLLIN | (sending &&
				    socks[i].blocked ? POLLOUT : 0);
			if (wait > 0 && poll(pfd, nsocks, (int)(wait / 1e6) +
			    1) < 0 && errno != EINTR) {
				perror("poll");
				goto out;
			}
		}
	}
	/* What is still out after the drain is lost too. */
	for (size_t i = 0; i < nsocks; i++) {
		t.lost += socks[i].nslots - socks[i].nfree;
	}
	if (t.sent != t.answered + t.lost) {
		fprintf(stderr, "%s: miscounted: sent %zu, answered %zu, "
		    "lost %zu\n", prog, t.sent, t.answered, t.lost);
		goto out;
	}
	printf("sent=%zu answered=%zu lost=%zu qps=%.0f seconds=%.3f "
	    "latency_ms=%.3f unmatched=%zu noerror=%zu formerr=%zu "
	    "servfail=%zu nxdomain=%zu notimp=%zu refused=%zu "
	    "rcode_other=%zu\n", t.sent, t.answered, t.lost,
	    t.answered / ((stop - start) / 1e9), (stop - start) / 1e9,
	    t.answered ? t.latency_ns / t.answered / 1e6 : 0, t.unmatched,
	    t.rcode[0], t.rcode[1], t.rcode[2], t.rcode[3], t.rcode[4],
	    t.rcode[5], t.answered - t.rcode[0] - t.rcode[1] - t.rcode[2] -
	    t.rcode[3] - t.rcode[4] - t.rcode[5]);
	rc = t.answered > 0 ? 0 : 1;
out:
	for (size_t i = 0; i < ninit; i++)
		sock_done(&socks[i]);
	free(rbuf);
	free(sbuf);
	free(iov);
	free(mm);
	free(queries);
	return rc;
}
