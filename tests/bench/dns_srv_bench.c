/*
 * The DNS responder under dnsperf (tests/bench/dns_bench.sh): one
 * dns_srv (dns/server.h) bound in a sandbox namespace, with a zone of
 * NAMES names "c0".."c<NAMES-1>" on the network "bench" (addresses
 * 10.53.x.y), a shared forwarder dialling from this process's own
 * namespace and a shared cache, all on one event loop (loop/loop.h) with
 * the signals' fd, run with loop_run() as the daemon runs its own.
 *
 *   dns_srv_bench [-n NAMES] [-C] /run/netns/SANDBOX ADDR PORT UPSTREAM
 *
 * UPSTREAM is a DNS_UPSTREAMS entry ("203.0.113.2:53").  -C: no cache.
 * Prints "ready" on stdout once bound.  SIGUSR1 prints the counters on
 * stdout (one "key value" line each, then "."), SIGTERM or SIGINT ends
 * the loop, prints them and exits.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "dns/answer.h"
#include "dns/conf.h"
#include "dns/forward.h"
#include "dns/server.h"
#include "loop/loop.h"

#define NAMES_DEFAULT	50
#define NAMES_MAX	60000
/* Room for every distinct name of a miss run, as a daemon's cache
 * would be sized; evictions are part of the miss path. */
#define CACHE_ENTRIES	10000
#define CACHE_BYTES	(8u << 20)

static void
print_stats(const struct dns_srv *s, const struct dns_fwd *f,
    const struct dns_cache *c)
{
	struct dns_srv_stats ss;
	struct dns_fwd_stats fs;
	struct dns_cache_stats cs = { 0 };

	dns_srv_stats(s, &ss);
	dns_fwd_stats(f, &fs);
	if (c)
		dns_cache_stats(c, &cs);
	printf("queries_udp %llu\nlocal %llu\nforwarded %llu\n"
	    "cache_hits %llu\nupstream_failures %llu\nservfail %llu\n"
	    "drops %llu\nfwd_refused_cap %llu\nfwd_timeouts %llu\n"
	    "fwd_errors %llu\nfwd_failures %llu\nfwd_mismatched %llu\n"
	    "cache_entries %zu\ncache_evictions %llu\n.\n",
	    (unsigned long long)ss.queries_udp, (unsigned long long)ss.local,
	    (unsigned long long)ss.forwarded,
	    (unsigned long long)ss.cache_hits,
	    (unsigned long long)ss.upstream_failures,
	    (unsigned long long)ss.servfail, (unsigned long long)ss.drops,
	    (unsigned long long)fs.refused_cap,
	    (unsigned long long)fs.up[0].timeouts,
	    (unsigned long long)fs.up[0].errors,
	    (unsigned long long)fs.up[0].failures,
	    (unsigned long long)fs.up[0].mismatched, cs.entries,
	    (unsigned long long)cs.evictions);
	fflush(stdout);
}

static struct dns_zone *
make_zone(unsigned int n)
{
	struct dns_zone *z;
	char err[256], name[16];
	int net;

	if ((z = dns_zone_new()) == NULL)
		return NULL;
	net = dns_zone_add_network(z, "bench", err, sizeof(err));
	if (net < 0)
		goto fail;
	for (unsigned int i = 0; i < n; i++) {
		const char *names[] = { name };
		struct in_addr a = { htonl(0x0a350000u + i + 2) };

		(void)snprintf(name, sizeof(name), "c%u", i);
		if (dns_zone_add(z, (size_t)net, names, 1, &a, NULL, err,
		    sizeof(err)) < 0)
			goto fail;
	}
	return z;
fail:
	fprintf(stderr, "dns_srv_bench: zone: %s\n", err);
	return dns_zone_free(z);
}

struct bench {
	struct loop		*loop;
	int			sfd;
	struct dns_srv		*srv;
	struct dns_fwd		*fwd;
	struct dns_cache	*cache;
};

/* SIGUSR1: the counters; SIGTERM, SIGINT: the counters, then the end. */
static void
on_signal(void *arg, uint32_t events)
{
	struct bench *b = arg;
	struct signalfd_siginfo si;

	(void)events;
	if (read(b->sfd, &si, sizeof(si)) != sizeof(si))
		return;
	print_stats(b->srv, b->fwd, b->cache);
	if (si.ssi_signo != SIGUSR1)
		loop_stop(b->loop, 0);
}

int
main(int argc, char **argv)
{
	struct dns_fwd_params fp = { .netns_fd = -1 };
	struct dns_srv_params sp = { 0 };
	struct bench b = { 0 };
	struct loop *lp = NULL;
	struct loop_fd *wsig = NULL;
	struct sockaddr_in *sa = (struct sockaddr_in *)&sp.addr;
	struct dns_upstreams ups;
	struct dns_zone *z = NULL;
	struct dns_fwd *fwd = NULL;
	struct dns_cache *cache = NULL;
	struct dns_srv *srv = NULL;
	unsigned char key[16];
	unsigned int names = NAMES_DEFAULT;
	char err[256], *end;
	sigset_t mask;
	int ch, nocache = 0, sfd = -1, nsfd = -1, rc = 1, lr;
	long port;

	while ((ch = getopt(argc, argv, "Cn:")) != -1) {
		switch (ch) {
		case 'C':
			nocache = 1;
			break;
		case 'n':
			names = (unsigned int)strtoul(optarg, &end, 10);
			if (*end || names == 0 || names > NAMES_MAX)
				goto usage;
			break;
		default:
			goto usage;
		}
	}
	if (argc - optind != 4)
		goto usage;
	port = strtol(argv[optind + 2], &end, 10);
	sa->sin_family = AF_INET;
	if (*end || port <= 0 || port > 65535 ||
	    inet_pton(AF_INET, argv[optind + 1], &sa->sin_addr) != 1)
		goto usage;
	sa->sin_port = htons((uint16_t)port);
	if (dns_upstreams_from_env(argv[optind + 3], &ups, err,
	    sizeof(err)) < 0) {
		fprintf(stderr, "dns_srv_bench: %s\n", err);
		return 2;
	}
	if ((nsfd = open(argv[optind], O_RDONLY | O_CLOEXEC)) < 0) {
		fprintf(stderr, "dns_srv_bench: %s: %s\n", argv[optind],
		    strerror(errno));
		return 2;
	}

	/* Signals through the loop, so that counters print cleanly. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGUSR1);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0 ||
	    (sfd = signalfd(-1, &mask, SFD_CLOEXEC)) < 0) {
		perror("dns_srv_bench: signalfd");
		goto out;
	}
	if ((lp = loop_new(err, sizeof(err))) == NULL) {
		fprintf(stderr, "dns_srv_bench: %s\n", err);
		goto out;
	}
	if ((z = make_zone(names)) == NULL)
		goto out;
	if (getrandom(key, sizeof(key), 0) != sizeof(key))
		memset(key, 0x5a, sizeof(key));
	if (!nocache &&
	    (cache = dns_cache_new(CACHE_ENTRIES, CACHE_BYTES, key)) == NULL) {
		fprintf(stderr, "dns_srv_bench: cache: out of memory\n");
		goto out;
	}
	fp.loop = lp;
	if ((fwd = dns_fwd_new(&fp, err, sizeof(err))) == NULL) {
		fprintf(stderr, "dns_srv_bench: forwarder: %s\n", err);
		goto out;
	}
	sp.loop = lp;
	sp.netns_fd = nsfd;
	sp.zone = z;
	sp.ups = &ups;
	sp.fwd = fwd;
	sp.cache = cache;
	if ((srv = dns_srv_new(&sp, err, sizeof(err))) == NULL) {
		fprintf(stderr, "dns_srv_bench: server: %s\n", err);
		goto out;
	}
	b = (struct bench){ .loop = lp, .sfd = sfd, .srv = srv, .fwd = fwd,
	    .cache = cache };
	if ((wsig = loop_fd_add(lp, sfd, EPOLLIN, on_signal, &b)) == NULL) {
		perror("dns_srv_bench: loop");
		goto out;
	}
	printf("ready\n");
	fflush(stdout);

	/* on_signal stops it with 0 after SIGTERM or SIGINT. */
	if ((lr = loop_run(lp)) < 0) {
		fprintf(stderr, "dns_srv_bench: epoll_wait: %s\n",
		    strerror(-lr));
		goto out;
	}
	rc = 0;

out:
	loop_fd_free(wsig);
	srv = dns_srv_free(srv);
	fwd = dns_fwd_free(fwd);
	cache = dns_cache_free(cache);
	z = dns_zone_free(z);
	loop_free(lp);
	if (sfd >= 0)
		close(sfd);
	if (nsfd >= 0)
		close(nsfd);
	return rc;
usage:
	fprintf(stderr, "usage: dns_srv_bench [-n NAMES] [-C] "
	    "/run/netns/SANDBOX ADDR PORT UPSTREAM\n");
	return 2;
}
