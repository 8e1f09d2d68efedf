/*
 * The floor for tests/bench/dns_bench.sh: a UDP "DNS server" that does
 * nothing but echo each query back with QR and RA set, in batches of
 * BATCH datagrams with recvmmsg/sendmmsg, on one thread.  No parsing, no
 * answer: what a responder costs beyond the kernel's UDP path is the
 * difference to this.
 *
 *   dns_reflector ADDR PORT
 *
 * Prints "ready" on stdout once bound; runs until killed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define BATCH	32
#define MSG_MAX	4096

static unsigned char	bufs[BATCH][MSG_MAX];
static struct sockaddr_storage peers[BATCH];
static struct iovec	iovs[BATCH];
static struct mmsghdr	in[BATCH], out[BATCH];

int
main(int argc, char **argv)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	int fd, rcvbuf = 4 << 20;
	long port;
	char *end;

	if (argc != 3)
		goto usage;
	port = strtol(argv[2], &end, 10);
	if (*end || port <= 0 || port > 65535 ||
	    inet_pton(AF_INET, argv[1], &sa.sin_addr) != 1)
		goto usage;
	sa.sin_port = htons((uint16_t)port);
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "dns_reflector: %s:%ld: %s\n", argv[1], port,
		    strerror(errno));
		return 1;
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	printf("ready\n");
	fflush(stdout);

	for (;;) {
		int n, m;

		for (int i = 0; i < BATCH; i++) {
			iovs[i].iov_base = bufs[i];
			iovs[i].iov_len = MSG_MAX;
			in[i].msg_hdr = (struct msghdr){ .msg_name = &peers[i],
			    .msg_namelen = sizeof(peers[i]),
			    .msg_iov = &iovs[i], .msg_iovlen = 1 };
		}
		/* Blocks for the first, takes whatever else is queued. */
		n = recvmmsg(fd, in, BATCH, MSG_WAITFORONE, NULL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			perror("dns_reflector: recvmmsg");
			return 1;
		}
		m = 0;
		for (int i = 0; i < n; i++) {
			if (in[i].msg_len < 12)
				continue;
			bufs[i][2] |= 0x80;	/* QR */
			bufs[i][3] |= 0x80;	/* RA */
			iovs[i].iov_len = in[i].msg_len;
			out[m].msg_hdr = in[i].msg_hdr;
			m++;
		}
		for (int off = 0; off < m; ) {
			int s = sendmmsg(fd, out + off, (unsigned int)(m - off),
			    0);

			if (s < 0 && errno == EINTR)
				continue;
			if (s <= 0)
				break;
			off += s;
		}
	}
usage:
	fprintf(stderr, "usage: dns_reflector ADDR PORT\n");
	return 2;
}
