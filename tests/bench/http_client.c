/*
 * A small plugin client for latency figures: one keep-alive connection to
 * the daemon's socket, dockerd's call sequence for `docker network create`,
 * one container's endpoint (create, join, leave, delete) and
 * `docker network rm`, N times, and the p50/p90/p99 of each call.
 *
 *   http_client SOCKET [N]
 *
 * Two more modes for tests/bench/dns_latency.sh, each with IPAM's calls
 * around the driver's as dockerd makes them (RequestPool, RequestAddress
 * for the gateway, CreateNetwork; DeleteNetwork, ReleaseAddress,
 * ReleasePool), automatic pools, IDs unique to this process:
 *
 *   http_client SOCKET create N          N networks, left in place
 *   http_client SOCKET cycle N [SECONDS] a network created and deleted, N
 *                                        times (0: no limit), or until
 *                                        SECONDS have passed
 *
 * Both print one line with the CreateNetwork (and DeleteNetwork) latency:
 * "calls=N create_p50_ms=... create_max_ms=... [delete_p50_ms=...
 * delete_max_ms=...]".
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define RESP_MAX	65536

enum { RP, RA, CN, CE, JN, LV, DE, DN, RELA, RELP, NCALLS };
static const char *const names[NCALLS] = { "RequestPool", "RequestAddress",
    "CreateNetwork", "CreateEndpoint", "Join", "Leave", "DeleteEndpoint",
    "DeleteNetwork", "ReleaseAddress", "ReleasePool" };

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* POSTs body to path over fd; the reply body goes to out. Returns the
 * HTTP status, -1 on a transport error. */
static int
post(int fd, const char *path, const char *body, char *out, size_t outlen)
{
	char req[4096], buf[RESP_MAX];
	size_t have = 0, need;
	const char *hdr_end, *cl;
	int n, status;

	n = snprintf(req, sizeof(req), "POST %s HTTP/1.1\r\nHost: plugin\r\n"
	    "Content-Length: %zu\r\n\r\n%s", path, strlen(body), body);
	if (n < 0 || (size_t)n >= sizeof(req) || write(fd, req, (size_t)n) != n)
		return -1;
	for (;;) {
		ssize_t r = read(fd, buf + have, sizeof(buf) - 1 - have);
		if (r <= 0)
			return -1;
		have += (size_t)r;
		buf[have] = '\0';
		hdr_end = strstr(buf, "\r\n\r\n");
		if (hdr_end == NULL)
			continue;
		cl = strcasestr(buf, "Content-Length:");
		if (cl == NULL || cl > hdr_end)
			return -1;
		need = (size_t)(hdr_end + 4 - buf) + strtoul(cl + 15, NULL, 10);
		if (have >= need)
			break;
	}
	if (sscanf(buf, "HTTP/1.1 %d", &status) != 1)
		return -1;
	(void) snprintf(out, outlen, "%s", hdr_end + 4);
	return status;
}

static int
cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Copies the string value of "key" in json into dst. */
static int
field(const char *json, const char *key, char *dst, size_t len)
{
	char pat[64];
	const char *p, *e;

	(void) snprintf(pat, sizeof(pat), "\"%s\":\"", key);
	p = strstr(json, pat);
	if (p == NULL)
		return -1;
	p += strlen(pat);
	e = strchr(p, '"');
	if (e == NULL || (size_t)(e - p) >= len)
		return -1;
	memcpy(dst, p, (size_t)(e - p));
	dst[e - p] = '\0';
	return 0;
}

/* One network made as dockerd makes it: its pool and gateway go to
 * pool_id and gw (without the prefix length); the CreateNetwork latency
 * to *ms.  0, or -1 after printing why. */
static int
net_create(int fd, const char *id, char *pool_id, size_t pool_len,
    char *gw, size_t gw_len, double *ms)
{
	char body[2048], out[RESP_MAX], pool[64];
	double t;
	int st;

	(void) snprintf(body, sizeof(body), "{\"AddressSpace\":"
	    "\"LocalDefault\",\"Pool\":\"\",\"SubPool\":\"\","
	    "\"Options\":{},\"V6\":false}");
	if ((st = post(fd, "/IpamDriver.RequestPool", body, out,
	    sizeof(out))) != 200)
		goto fail;
	if (field(out, "PoolID", pool_id, pool_len) < 0 ||
	    field(out, "Pool", pool, sizeof(pool)) < 0)
		goto fail;
	(void) snprintf(body, sizeof(body), "{\"PoolID\":\"%s\","
	    "\"Address\":\"\",\"Options\":{\"RequestAddressType\":"
	    "\"com.docker.network.gateway\"}}", pool_id);
	if ((st = post(fd, "/IpamDriver.RequestAddress", body, out,
	    sizeof(out))) != 200 || field(out, "Address", gw, gw_len) < 0)
		goto fail;
	(void) snprintf(body, sizeof(body), "{\"NetworkID\":\"%s\","
	    "\"Options\":{\"com.docker.network.enable_ipv6\":false,"
	    "\"com.docker.network.generic\":{}},\"IPv4Data\":[{"
	    "\"AddressSpace\":\"LocalDefault\",\"Pool\":\"%s\","
	    "\"Gateway\":\"%s\"}],\"IPv6Data\":[]}", id, pool, gw);
	t = now_ms();
	st = post(fd, "/NetworkDriver.CreateNetwork", body, out, sizeof(out));
	*ms = now_ms() - t;
	if (st != 200)
		goto fail;
	if (strchr(gw, '/') != NULL)
		*strchr(gw, '/') = '\0';
	return 0;
fail:
	fprintf(stderr, "creating network %.12s: %d %s\n", id, st, out);
	return -1;
}

/* net_create's network removed again; the DeleteNetwork latency to *ms. */
static int
net_delete(int fd, const char *id, const char *pool_id, const char *gw,
    double *ms)
{
	char body[2048], out[RESP_MAX] = "";
	double t;
	int st;

	(void) snprintf(body, sizeof(body), "{\"NetworkID\":\"%s\"}", id);
	t = now_ms();
	st = post(fd, "/NetworkDriver.DeleteNetwork", body, out, sizeof(out));
	*ms = now_ms() - t;
	if (st != 200)
		goto fail;
	(void) snprintf(body, sizeof(body), "{\"PoolID\":\"%s\","
	    "\"Address\":\"%s\"}", pool_id, gw);
	if ((st = post(fd, "/IpamDriver.ReleaseAddress", body, out,
	    sizeof(out))) != 200)
		goto fail;
	(void) snprintf(body, sizeof(body), "{\"PoolID\":\"%s\"}", pool_id);
	if ((st = post(fd, "/IpamDriver.ReleasePool", body, out,
	    sizeof(out))) != 200)
		goto fail;
	return 0;
fail:
	fprintf(stderr, "deleting network %.12s: %d %s\n", id, st, out);
	return -1;
}

/* The create and cycle modes (see the top of the file). */
static int
networks(int fd, const char *mode, long n, double secs)
{
	size_t cap = n > 0 ? (size_t)n : 1024, done = 0;
	double *cl = calloc(cap, sizeof(double)), *dl = calloc(cap,
	    sizeof(double)), t0 = now_ms();
	bool cycle = strcmp(mode, "cycle") == 0;
	int rc = 0;

	if (cl == NULL || dl == NULL)
		return 1;
	while ((n == 0 || done < (size_t)n) &&
	    (secs <= 0 || now_ms() - t0 < secs * 1e3)) {
		char id[65], pool_id[256], gw[64];

		if (done == cap) {
			double *c2 = realloc(cl, 2 * cap * sizeof(double)),
			    *d2 = c2 ? realloc(dl, 2 * cap * sizeof(double)) :
			    NULL;

			if (c2 != NULL)
				cl = c2;
			if (d2 == NULL) {
				rc = 1;
				break;
			}
			dl = d2;
			cap *= 2;
		}
		/* The first 12 characters name the bridge: unique. */
		(void) snprintf(id, sizeof(id), "%06zx%06x%052d",
		    done & 0xffffff, (unsigned)getpid() & 0xffffff, 0);
		if (net_create(fd, id, pool_id, sizeof(pool_id), gw,
		    sizeof(gw), &cl[done]) < 0 ||
		    (cycle && net_delete(fd, id, pool_id, gw, &dl[done]) < 0)) {
			rc = 1;
			break;
		}
		done++;
	}
	printf("calls=%zu", done);
	if (done > 0) {
		qsort(cl, done, sizeof(double), cmp);
		printf(" create_p50_ms=%.3f create_max_ms=%.3f", cl[done / 2],
		    cl[done - 1]);
		if (cycle) {
			qsort(dl, done, sizeof(double), cmp);
			printf(" delete_p50_ms=%.3f delete_max_ms=%.3f",
			    dl[done / 2], dl[done - 1]);
		}
	}
	printf("\n");
	free(cl);
	free(dl);
	return rc;
}

int
main(int argc, char *argv[])
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	bool mode = argc > 2 && (strcmp(argv[2], "create") == 0 ||
	    strcmp(argv[2], "cycle") == 0);
	int n = argc > 2 && !mode ? atoi(argv[2]) : 200, fd;
	long nets = mode && argc > 3 ? strtol(argv[3], NULL, 10) : -1;
	double secs = mode && argc > 4 ? strtod(argv[4], NULL) : 0;
	struct timeval rto = { 60, 0 };
	double *lat[NCALLS];
	char body[2048], out[RESP_MAX], pool_id[256], pool[64], gw[64];

	if (argc < 2 || n <= 0 || strlen(argv[1]) >= sizeof(sa.sun_path) ||
	    (mode && (nets < 0 || argc > 5 || (nets == 0 && secs <= 0) ||
	    (argc > 4 && strcmp(argv[2], "cycle") != 0)))) {
		fprintf(stderr, "usage: %s SOCKET [N]\n"
		    "       %s SOCKET create N\n"
		    "       %s SOCKET cycle N [SECONDS]\n", argv[0], argv[0],
		    argv[0]);
		return 2;
	}
	memcpy(sa.sun_path, argv[1], strlen(argv[1]) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		perror("connect");
		return 1;
	}
	/* A daemon that stops answering ends the run instead of hanging it. */
	(void) setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &rto, sizeof(rto));
	if (mode) {
		int rc = networks(fd, argv[2], nets, secs);

		close(fd);
		return rc;
	}
	for (int c = 0; c < NCALLS; c++)
		lat[c] = calloc((size_t)n, sizeof(double));
	for (int i = 0; i < n; i++) {
		char id[65];
		double t;
		int st;

		(void) snprintf(id, sizeof(id), "%064x", 0xbe000000u + (unsigned)i);
#define CALL(c, path) do { t = now_ms(); \
	st = post(fd, path, body, out, sizeof(out)); \
	lat[c][i] = now_ms() - t; \
	if (st != 200) { fprintf(stderr, "%s: %d %s\n", path, st, out); \
		return 1; } } while (0)
		(void) snprintf(body, sizeof(body), "{\"AddressSpace\":"
		    "\"LocalDefault\",\"Pool\":\"\",\"SubPool\":\"\","
		    "\"Options\":{},\"V6\":false}");
		CALL(RP, "/IpamDriver.RequestPool");
		if (field(out, "PoolID", pool_id, sizeof(pool_id)) < 0 ||
		    field(out, "Pool", pool, sizeof(pool)) < 0)
			return 1;
		(void) snprintf(body, sizeof(body), "{\"PoolID\":\"%s\","
		    "\"Address\":\"\",\"Options\":{\"RequestAddressType\":"
		    "\"com.docker.network.gateway\"}}", pool_id);
		CALL(RA, "/IpamDriver.RequestAddress");
		if (field(out, "Address", gw, sizeof(gw)) < 0)
			return 1;
		(void) snprintf(body, sizeof(body), "{\"NetworkID\":\"%s\","
		    "\"Options\":{\"com.docker.network.enable_ipv6\":false,"
		    "\"com.docker.network.generic\":{}},\"IPv4Data\":[{"
		    "\"AddressSpace\":\"LocalDefault\",\"Pool\":\"%s\","
		    "\"Gateway\":\"%s\"}],\"IPv6Data\":[]}", id, pool, gw);
		CALL(CN, "/NetworkDriver.CreateNetwork");
		(void) snprintf(body, sizeof(body), "{\"NetworkID\":\"%s\","
		    "\"EndpointID\":\"%s\",\"Interface\":{\"Address\":\"\","
		    "\"AddressIPv6\":\"\",\"MacAddress\":\"\"},\"Options\":{}}",
		    id, id);
		CALL(CE, "/NetworkDriver.CreateEndpoint");
		(void) snprintf(body, sizeof(body), "{\"NetworkID\":\"%s\","
		    "\"EndpointID\":\"%s\",\"SandboxKey\":\"/x\",\"Options\":{}}",
		    id, id);
		CALL(JN, "/NetworkDriver.Join");
		(void) snprintf(body, sizeof(body), "{\"NetworkID\":\"%s\","
		    "\"EndpointID\":\"%s\"}", id, id);
		CALL(LV, "/NetworkDriver.Leave");
		CALL(DE, "/NetworkDriver.DeleteEndpoint");
		(void) snprintf(body, sizeof(body), "{\"NetworkID\":\"%s\"}", id);
		CALL(DN, "/NetworkDriver.DeleteNetwork");
		*strchr(gw, '/') = '\0';
		(void) snprintf(body, sizeof(body), "{\"PoolID\":\"%s\","
		    "\"Address\":\"%s\"}", pool_id, gw);
		CALL(RELA, "/IpamDriver.ReleaseAddress");
		(void) snprintf(body, sizeof(body), "{\"PoolID\":\"%s\"}",
		    pool_id);
		CALL(RELP, "/IpamDriver.ReleasePool");
	}
	printf("%-16s %9s %9s %9s   (%d calls each, one keep-alive "
	    "connection)\n", "call", "p50 ms", "p90 ms", "p99 ms", n);
	for (int c = 0; c < NCALLS; c++) {
		qsort(lat[c], (size_t)n, sizeof(double), cmp);
		printf("%-16s %9.3f %9.3f %9.3f\n", names[c], lat[c][n / 2],
		    lat[c][n * 9 / 10], lat[c][n * 99 / 100]);
		free(lat[c]);
	}
	close(fd);
	return 0;
}
