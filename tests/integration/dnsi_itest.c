/*
 * The 127.0.0.11 redirect (firewall/dnsintercept.h) from the command line,
 * for tests/integration/dns_intercept.sh.  Runs in the host's namespace
 * like the daemon and enters NSPATH for each call; refuses an NSPATH that
 * is its own namespace or PID 1's, so that it never touches the host's
 * ruleset.
 *
 *   dnsi_itest apply NSPATH ADDR     prints "applied in N ms"
 *   dnsi_itest remove NSPATH         prints "removed in N ms"
 *   dnsi_itest check NSPATH ADDR     prints "absent", "ok" or "drifted"
 *   dnsi_itest resolver NSPATH       prints "udp=A:P tcp=A:P"
 *   dnsi_itest ctxns NSPATH          prints "early=S late=S": S is
 *       "present" or "absent", whether a libnftables context made before
 *       entering NSPATH (early) and one made after (late) see cbridge's
 *       table there; only lists, in either namespace
 *
 * Exit status: 0; 1 when the call failed (its message on stderr); 2 on bad
 * usage or a host NSPATH; 3 when resolver found none (-ENOENT).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <nftables/libnftables.h>

#include "firewall/dnsintercept.h"
#include "lib/netns.h"

static void
usage(void)
{
	fprintf(stderr, "usage: dnsi_itest apply NSPATH ADDR | remove NSPATH "
	    "| check NSPATH ADDR | resolver NSPATH | ctxns NSPATH\n");
	exit(2);
}

static double
now_ms(void)
{
	struct timespec ts;

	(void) clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static bool
same_file(const struct stat *a, const char *path)
{
	struct stat b;

	return stat(path, &b) == 0 && a->st_dev == b.st_dev &&
	    a->st_ino == b.st_ino;
}

/* An fd of NSPATH, which must be neither this process's namespace nor
 * PID 1's (when that can be read). */
static int
open_ns(const char *path)
{
	struct stat a;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		fprintf(stderr, "dnsi_itest: %s: %s\n", path, strerror(errno));
		exit(2);
	}
	if (fstat(fd, &a) < 0 || same_file(&a, "/proc/self/ns/net") ||
	    same_file(&a, "/proc/1/ns/net")) {
		fprintf(stderr, "dnsi_itest: %s is the host's namespace (or "
		    "cannot be told apart from it): refused\n", path);
		exit(2);
	}
	return fd;
}

static struct in_addr
parse_addr(const char *s)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1) {
		fprintf(stderr, "dnsi_itest: %s: not an IPv4 address\n", s);
		exit(2);
	}
	return a;
}

/* Does ctx see cbridge's table?  "present" or "absent". */
static const char *
sees_table(struct nft_ctx *ctx)
{
	return nft_run_cmd_from_buffer(ctx, "list table ip " DNSI_TABLE) == 0 ?
	    "present" : "absent";
}

static struct nft_ctx *
quiet_ctx(void)
{
	struct nft_ctx *ctx = nft_ctx_new(NFT_CTX_DEFAULT);

	if (ctx == NULL || nft_ctx_buffer_output(ctx) != 0 ||
	    nft_ctx_buffer_error(ctx) != 0) {
		fprintf(stderr, "dnsi_itest: no libnftables context\n");
		exit(1);
	}
	return ctx;
}

static int
ctxns(int nsfd)
{
	struct nft_ctx *early = quiet_ctx(), *late;
	const char *e, *l;
	char err[256];
	int home;

	if (netns_enter(nsfd, &home, err, sizeof(err)) < 0) {
		fprintf(stderr, "dnsi_itest: %s\n", err);
		nft_ctx_free(early);
		return 1;
	}
	late = quiet_ctx();
	e = sees_table(early);
	l = sees_table(late);
	nft_ctx_free(late);
	netns_leave(home);
	nft_ctx_free(early);
	printf("early=%s late=%s\n", e, l);
	return 0;
}

int
main(int argc, char **argv)
{
	static const char *const states[] = { [DNSI_ABSENT] = "absent",
	    [DNSI_OK] = "ok", [DNSI_DRIFTED] = "drifted" };
	char err[512] = "";
	const char *cmd;
	struct in_addr to;
	double t0;
	int nsfd, r;

	if (argc < 3)
		usage();
	cmd = argv[1];
	if ((strcmp(cmd, "apply") == 0 || strcmp(cmd, "check") == 0) ?
	    argc != 4 : argc != 3)
		usage();
	nsfd = open_ns(argv[2]);
	t0 = now_ms();
	if (strcmp(cmd, "apply") == 0) {
		to = parse_addr(argv[3]);
		if ((r = dnsi_apply(nsfd, &to, err, sizeof(err))) == 0)
			printf("applied in %.2f ms\n", now_ms() - t0);
	} else if (strcmp(cmd, "remove") == 0) {
		if ((r = dnsi_remove(nsfd, err, sizeof(err))) == 0)
			printf("removed in %.2f ms\n", now_ms() - t0);
	} else if (strcmp(cmd, "check") == 0) {
		enum dnsi_state st;

		to = parse_addr(argv[3]);
		if ((r = dnsi_check(nsfd, &to, &st, err, sizeof(err))) == 0)
			printf("%s\n", states[st]);
	} else if (strcmp(cmd, "resolver") == 0) {
		struct sockaddr_in u, t;
		char ua[INET_ADDRSTRLEN], ta[INET_ADDRSTRLEN];

		r = dnsi_docker_resolver(nsfd, &u, &t, err, sizeof(err));
		if (r == 0)
			printf("udp=%s:%u tcp=%s:%u\n",
			    inet_ntop(AF_INET, &u.sin_addr, ua, sizeof(ua)),
			    ntohs(u.sin_port),
			    inet_ntop(AF_INET, &t.sin_addr, ta, sizeof(ta)),
			    ntohs(t.sin_port));
	} else if (strcmp(cmd, "ctxns") == 0) {
		r = ctxns(nsfd);
	} else {
		usage();
	}
	(void) close(nsfd);
	if (r < 0) {
		fprintf(stderr, "dnsi_itest %s: %s (%s)\n", cmd, err,
		    strerror(-r));
		return r == -ENOENT && strcmp(cmd, "resolver") == 0 ? 3 : 1;
	}
	return r == 0 ? 0 : 1;
}
