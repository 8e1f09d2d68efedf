/*
 * IPAM micro-benchmarks (no root): filling a /16 address by address, the
 * same through the driver (with the state write), automatic pool
 * selection with many pools in use, and state encoding of a full /16.
 * DNS: the pure query path for a local A answer, with 500 names.  These
 * are CPU costs in one process, not the dnsperf figures of
 * tests/bench/dns_bench.sh (sockets, a sandbox, a client on another core).
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dns/answer.h"
#include "netlink/netlink.h"
#include "plugin/driver.h"
#include "plugin/ipam.h"
#include "plugin/log.h"
#include "plugin/state.h"

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void
fill_slash16(void)
{
	struct ipam *ip = ipam_new();
	struct prefix pool, a;
	char id[IPAM_ID_MAX], err[256], *buf = NULL;
	size_t n = 0, len = 0;
	double t0, t1, t2;

	prefix_parse("10.200.0.0/16", &pool);
	if (ipam_request_pool(ip, &(struct ipam_pool_req){ .pool = &pool },
	    id, &pool, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		exit(1);
	}
	t0 = now_ms();
	while (ipam_request_address(ip, id, NULL, false, &a, err,
	    sizeof(err)) == 0)
		n++;
	t1 = now_ms();
	if (st_encode(&(struct st_doc){ 0 }, ip, &buf, &len, err,
	    sizeof(err)) < 0)
		exit(1);
	t2 = now_ms();
	printf("ipam: filled a /16 with %zu addresses in %.1f ms "
	    "(%.2f us each); state of a full /16 encodes to %zu bytes in "
	    "%.2f ms\n", n, t1 - t0, (t1 - t0) * 1e3 / (double)n, len,
	    t2 - t1);
	free(buf);
	ipam_free(ip);
}

static void
auto_pools(void)
{
	struct ipam *ip = ipam_new();
	struct prefix pool;
	char id[IPAM_ID_MAX], err[256];
	double t0, t1;
	int n = 0;

	t0 = now_ms();
	while (ipam_request_pool(ip, &(struct ipam_pool_req){ .pool = NULL },
	    id, &pool, err, sizeof(err)) == 0)
		n++;
	t1 = now_ms();
	printf("ipam: %d automatic IPv4 pools from the defaults in %.1f ms "
	    "(%.1f us each, until exhausted)\n", n, t1 - t0,
	    (t1 - t0) * 1e3 / n);
	ipam_free(ip);
}

/* Through the driver, so every allocation is written to disk. */
static void
driver_requests(void)
{
	char dir[] = "/tmp/cbbench.XXXXXX", err[256], id[IPAM_ID_MAX], path[64];
	struct drv_params p = { .state_dir = dir };
	struct drv *d = NULL;
	struct prefix pool, a;
	double t0, t1, *lat;
	int n = 1000;

	if (mkdtemp(dir) == NULL)
		exit(1);
	p.lnk = lnk_fake_new();
	if (drv_new(&p, &d, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		exit(1);
	}
	prefix_parse("10.201.0.0/16", &pool);
	drv_request_pool(d, "", &pool, NULL, false, id, &pool, err,
	    sizeof(err));
	lat = calloc((size_t)n, sizeof(*lat));
	for (int i = 0; i < n; i++) {
		t0 = now_ms();
		if (drv_request_address(d, id, NULL, false, &a, err,
		    sizeof(err)) < 0)
			exit(1);
		t1 = now_ms();
		lat[i] = t1 - t0;
	}
	for (int i = 1; i < n; i++)	/* insertion sort: n is small */
		for (int j = i; j > 0 && lat[j] < lat[j - 1]; j--) {
			double t = lat[j];
			lat[j] = lat[j - 1];
			lat[j - 1] = t;
		}
	printf("driver: RequestAddress with durable state write: p50 %.3f ms, "
	    "p90 %.3f ms, p99 %.3f ms (%d requests)\n", lat[n / 2],
	    lat[n * 9 / 10], lat[n * 99 / 100], n);
	free(lat);
	drv_free(d);
	lnk_free(p.lnk);
	snprintf(path, sizeof(path), "%s/state.json", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/lock", dir);
	unlink(path);
	rmdir(dir);
}

/* A query for "cN.n1." type A, ID id, into q; its length. */
static size_t
dns_query(uint8_t *q, unsigned int n, uint16_t id)
{
	char label[16];
	size_t off = 12, l;

	memset(q, 0, 12);
	q[0] = (uint8_t)(id >> 8);
	q[1] = (uint8_t)id;
	q[2] = 0x01;		/* RD */
	q[5] = 1;		/* QDCOUNT */
	l = (size_t)snprintf(label, sizeof(label), "c%u", n);
	q[off++] = (uint8_t)l;
	memcpy(q + off, label, l);
	off += l;
	memcpy(q + off, "\002n1\000\000\001\000\001", 8);
	return off + 8;
}

static void
dns_local_answers(void)
{
	enum { NAMES = 500, ROUNDS = 2000000 };
	struct dns_zone *z = dns_zone_new();
	uint8_t out[512];
	char err[256], name[16];
	struct dns_verdict v;
	size_t qlen[NAMES], outlen;
	static uint8_t qs[NAMES][64];
	double t0, t1;
	unsigned int replies = 0;

	if (z == NULL || dns_zone_add_network(z, "n1", err, sizeof(err)) < 0) {
		fprintf(stderr, "dns: cannot build the zone\n");
		dns_zone_free(z);
		return;
	}
	for (unsigned int i = 0; i < NAMES; i++) {
		const char *names[1] = { name };
		struct in_addr a = { .s_addr = htonl(0x0a000000u + i + 2) };

		snprintf(name, sizeof(name), "c%u", i);
		if (dns_zone_add(z, 0, names, 1, &a, NULL, err,
		    sizeof(err)) < 0) {
			fprintf(stderr, "dns: %s\n", err);
			dns_zone_free(z);
			return;
		}
		qlen[i] = dns_query(qs[i], i, (uint16_t)i);
	}
	t0 = now_ms();
	for (unsigned int r = 0; r < ROUNDS; r++)
		replies += dns_answer(z, qs[r % NAMES], qlen[r % NAMES], false,
		    out, sizeof(out), &outlen, &v) == DNS_REPLY;
	t1 = now_ms();
	printf("dns: local A answers from a zone of %d names: %.0f ns each "
	    "(%u of %d replied, %zu bytes)\n", NAMES, (t1 - t0) * 1e6 / ROUNDS,
	    replies, ROUNDS, outlen);
	dns_zone_free(z);
}

int
main(void)
{
	log_set_level(LOG_LVL_ERROR);
	fill_slash16();
	auto_pools();
	driver_requests();
	dns_local_answers();
	return 0;
}
