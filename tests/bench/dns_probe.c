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
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "tests/bench/dnsq.h"

#define NIDS		65536
#define RMAX		4096

static volatile sig_atomic_t stop_sending;

static void
on_signal(int sig)
{
	(void) sig;
	stop_sending = 1;
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
	const struct dnsq_cli cli = { argv[0], "[-r RATE] [-d SECONDS] "
	    "[-t TIMEOUT_S] [-n NAME] [-q TYPE] ADDR [PORT]" };
	const char *prog = argv[0], *name = "probe.test";
	double rate = 2000, secs = 10, timeout = 2, tx0, *lat, *sent_at;
	double interval_ns, timeout_ns, start, end, last_rx = 0, gap = 0;
	double last_tx;
	unsigned type = 1, port = 53;
	unsigned char q[DNSQ_QUERY_MAX], r[RMAX];
	size_t qlen, total, nsent = 0, answered = 0, late = 0, rcode_err = 0;
	struct sockaddr_storage ss;
	socklen_t sslen;
	int c, fd, rcvbuf = 4 << 20;
	uint16_t id0;

	while ((c = getopt(argc, argv, "r:d:t:n:q:")) != -1) {
		switch (c) {
		case 'r': rate = dnsq_number(&cli, optarg, 1, 1e6); break;
		case 'd': secs = dnsq_number(&cli, optarg, 0.001, 86400); break;
		case 't': timeout = dnsq_number(&cli, optarg, 0.001, 60); break;
		case 'n': name = optarg; break;
		case 'q':
			type = (unsigned)dnsq_number(&cli, optarg, 1, 65535);
			break;
		default: dnsq_usage(&cli);
		}
	}
	if (argc - optind < 1 || argc - optind > 2)
		dnsq_usage(&cli);
	if (argc - optind == 2)
		port = (unsigned)dnsq_number(&cli, argv[optind + 1], 1, 65535);
	if (rate * timeout >= NIDS) {
		fprintf(stderr, "%s: RATE x TIMEOUT must stay below %d "
		    "(the query IDs)\n", prog, NIDS);
		return 2;
	}
	if (dnsq_addr(argv[optind], port, &ss, &sslen) < 0)
		dnsq_usage(&cli);
	if ((qlen = dnsq_query(name, type, q, sizeof(q))) == 0) {
		fprintf(stderr, "%s: bad name '%s'\n", prog, name);
		return 2;
	}

	total = (size_t)(rate * secs + 0.5);
	if (total == 0)
		total = 1;
	lat = calloc(total, sizeof(*lat));
	sent_at = calloc(NIDS, sizeof(*sent_at));	/* 0: not outstanding */
	if (lat == NULL || sent_at == NULL) {
		fprintf(stderr, "%s: out of memory\n", prog);
		return 1;
	}
	if ((fd = dnsq_connect(&ss, sslen)) < 0) {
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
	start = last_tx = dnsq_mono_ns();
	end = start + (double)(total - 1) * interval_ns + timeout_ns;
	for (;;) {
		double now = dnsq_mono_ns(), rx;
		ssize_t n;

		if (stop_sending && nsent < total) {
			total = nsent;
			end = last_tx + timeout_ns;
		}
		/* Every query due by now (catching up after a delay). */
		while (nsent < total && start + nsent * interval_ns <= now) {
			uint16_t id = (uint16_t)(id0 + nsent);

			tx0 = dnsq_real_ns();
			if (dnsq_send(fd, q, qlen, id) < 0) {
				perror("send");
				return 1;
			}
			/* A query that could not leave is lost, as any. */
			sent_at[id] = tx0;
			nsent++;
			last_tx = dnsq_mono_ns();
		}
		if (now >= end)
			break;
		if (dnsq_wait(fd, nsent < total ?
		    start + nsent * interval_ns - now : end - now) < 0) {
			perror("ppoll");
			return 1;
		}
		/* Every reply that is there. */
		while ((n = dnsq_recv(fd, r, sizeof(r), &rx)) > 0) {
			uint16_t id = (uint16_t)(r[0] << 8 | r[1]);

			if (!dnsq_is_reply(r, (size_t)n, q, qlen))
				continue;
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
		if (n < 0) {
			perror("recvmsg");
			return 1;
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
