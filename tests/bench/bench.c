/*
 * IPAM micro-benchmarks (no root): filling a /16 address by address, the
 * same through the driver (with the state write), automatic pool
 * selection with many pools in use, and state encoding of a full /16.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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

int
main(void)
{
	log_set_level(LOG_LVL_ERROR);
	fill_slash16();
	auto_pools();
	driver_requests();
	return 0;
}
