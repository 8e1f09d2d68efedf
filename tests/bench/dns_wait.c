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
 * ADDR is an IPv4 address.  Defaults: 1 ms, 30 s, port 53.  Exit status:
 * 0 when the name resolved (with -T: also with that TTL), 1 when it did
 * not within the timeout (first_ns=0, or match_ns=0) or on a socket
 * error, 2 on a usage error.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tests/bench/dnsq.h"

#define NIDS		65536
#define RMAX		4096

/* What a valid reply says. */
enum verdict {
	REPLY_INVALID = -1,	/* not a reply to our question */
	REPLY_A,		/* NOERROR with an A record */
	REPLY_NODATA,		/* NOERROR without one */
	REPLY_NXDOMAIN,
	REPLY_OTHER		/* any other rcode */
};

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

	if (!dnsq_is_reply(r, n, q, qlen))
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
	const struct dnsq_cli cli = { argv[0],
	    "[-i INTERVAL_MS] [-t TIMEOUT_S] [-T TTL] NAME ADDR [PORT]" };
	const char *prog = argv[0], *name;
	double interval = 1, timeout = 30, start, next, *sent_at = NULL;
	double match_rx = 0;
	long want_ttl = -1;
	char first[256] = "";	/* the line's start, once answered */
	unsigned port = 53;
	unsigned char q[DNSQ_QUERY_MAX], r[RMAX];
	size_t qlen, nsent = 0, replies = 0, nx = 0, nodata = 0, other = 0;
	struct sockaddr_storage ss;
	socklen_t sslen;
	int c, fd = -1, rc = 1;
	uint16_t id0;

	while ((c = getopt(argc, argv, "i:t:T:")) != -1) {
		switch (c) {
		case 'i':
			interval = dnsq_number(&cli, optarg, 0.05, 1000);
			break;
		case 't':
			timeout = dnsq_number(&cli, optarg, 0.001, 600);
			break;
		case 'T':
			want_ttl = (long)dnsq_number(&cli, optarg, 0,
			    INT32_MAX);
			break;
		default: dnsq_usage(&cli);
		}
	}
	if (argc - optind < 2 || argc - optind > 3)
		dnsq_usage(&cli);
	name = argv[optind];
	if (argc - optind == 3)
		port = (unsigned)dnsq_number(&cli, argv[optind + 2], 1, 65535);
	/* dnsq_addr() also takes IPv6; ADDR is IPv4 (see above). */
	if (dnsq_addr(argv[optind + 1], port, &ss, &sslen) < 0 ||
	    ss.ss_family != AF_INET)
		dnsq_usage(&cli);
	if (timeout * 1e3 / interval >= NIDS) {
		fprintf(stderr, "%s: TIMEOUT / INTERVAL must stay below %d "
		    "(the query IDs)\n", prog, NIDS);
		return 2;
	}
	if ((qlen = dnsq_query(name, 1, q, sizeof(q))) == 0) {	/* A */
		fprintf(stderr, "%s: bad name '%s'\n", prog, name);
		return 2;
	}
	if ((sent_at = calloc(NIDS, sizeof(*sent_at))) == NULL) {
		fprintf(stderr, "%s: out of memory\n", prog);
		goto out;
	}
	if ((fd = dnsq_connect(&ss, sslen)) < 0) {
		perror("socket");
		goto out;
	}
	id0 = (uint16_t)((uint64_t)dnsq_real_ns() ^ (uint64_t)getpid());
	printf("started_ns=%.0f\n", dnsq_real_ns());
	fflush(stdout);

	start = next = dnsq_mono_ns();
	for (;;) {
		double now = dnsq_mono_ns(), rx;
		ssize_t n;

		if (now - start >= timeout * 1e9)
			break;
		/* The next query once its time has come; after a delay
		 * one query, not a burst to catch up. */
		if (next <= now) {
			uint16_t id = (uint16_t)(id0 + nsent);

			sent_at[id] = dnsq_real_ns();
			if (dnsq_send(fd, q, qlen, id) < 0) {
				perror("send");
				goto out;
			}
			nsent++;
			next += interval * 1e6;
			if (next < now)
				next = now + interval * 1e6;
		}
		if (dnsq_wait(fd, next - dnsq_mono_ns()) < 0) {
			perror("ppoll");
			goto out;
		}
		/* Every reply that is there. */
		while ((n = dnsq_recv(fd, r, sizeof(r), &rx)) > 0) {
			struct in_addr a;
			uint32_t ttl = 0;
			char abuf[INET_ADDRSTRLEN];
			uint16_t id = (uint16_t)(r[0] << 8 | r[1]);

			if (sent_at[id] == 0)
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
		if (n < 0) {
			perror("recvmsg");
			goto out;
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
