/*
 * A small plugin client for latency figures: one keep-alive connection to
 * the daemon's socket, dockerd's call sequence for `docker network create`,
 * one container's endpoint (create, join, leave, delete) and
 * `docker network rm`, N times, and the p50/p90/p99 of each call.
 *
 *   http_client SOCKET [N]
 *
 * With a third argument M, it first creates M networks (left in place),
 * then times N rounds of creating and deleting one more network, and
 * prints the median and maximum of CreateNetwork and DeleteNetwork.
 *
 *   http_client SOCKET N M
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

/* One network's IPAM pool, gateway and CreateNetwork; *ms gets the
 * CreateNetwork's time. */
static int
net_create(int fd, const char *id, char *pool_id, size_t idlen, char *gw,
    size_t gwlen, double *ms)
{
	char body[2048], out[RESP_MAX], pool[64];
	double t;

	(void) snprintf(body, sizeof(body), "{\"AddressSpace\":"
	    "\"LocalDefault\",\"Pool\":\"\",\"SubPool\":\"\","
	    "\"Options\":{},\"V6\":false}");
	if (post(fd, "/IpamDriver.RequestPool", body, out, sizeof(out)) != 200 ||
	    field(out, "PoolID", pool_id, idlen) < 0 ||
	    field(out, "Pool", pool, sizeof(pool)) < 0)
		goto fail;
	(void) snprintf(body, sizeof(body), "{\"PoolID\":\"%s\","
	    "\"Address\":\"\",\"Options\":{\"RequestAddressType\":"
	    "\"com.docker.network.gateway\"}}", pool_id);
	if (post(fd, "/IpamDriver.RequestAddress", body, out,
	    sizeof(out)) != 200 || field(out, "Address", gw, gwlen) < 0)
		goto fail;
	(void) snprintf(body, sizeof(body), "{\"NetworkID\":\"%s\","
	    "\"Options\":{\"com.docker.network.enable_ipv6\":false,"
	    "\"com.docker.network.generic\":{}},\"IPv4Data\":[{"
	    "\"AddressSpace\":\"LocalDefault\",\"Pool\":\"%s\","
	    "\"Gateway\":\"%s\"}],\"IPv6Data\":[]}", id, pool, gw);
	t = now_ms();
	if (post(fd, "/NetworkDriver.CreateNetwork", body, out,
	    sizeof(out)) != 200)
		goto fail;
	*ms = now_ms() - t;
	return 0;
fail:
	fprintf(stderr, "creating network %.12s failed: %s\n", id, out);
	return -1;
}

/* DeleteNetwork (timed into *ms), then the gateway and the pool. */
static int
net_delete(int fd, const char *id, const char *pool_id, char *gw, double *ms)
{
	char body[512], out[RESP_MAX];
	double t;

	(void) snprintf(body, sizeof(body), "{\"NetworkID\":\"%s\"}", id);
	t = now_ms();
	if (post(fd, "/NetworkDriver.DeleteNetwork", body, out,
	    sizeof(out)) != 200)
		goto fail;
	*ms = now_ms() - t;
	*strchr(gw, '/') = '\0';
	(void) snprintf(body, sizeof(body), "{\"PoolID\":\"%s\","
	    "\"Address\":\"%s\"}", pool_id, gw);
	if (post(fd, "/IpamDriver.ReleaseAddress", body, out,
	    sizeof(out)) != 200)
		goto fail;
	(void) snprintf(body, sizeof(body), "{\"PoolID\":\"%s\"}", pool_id);
	if (post(fd, "/IpamDriver.ReleasePool", body, out, sizeof(out)) != 200)
		goto fail;
	return 0;
fail:
	fprintf(stderr, "deleting network %.12s failed: %s\n", id, out);
	return -1;
}

/* M networks first, then N timed create/delete rounds of one more. */
static int
with_networks(int fd, int n, int m)
{
	char id[65], pool_id[256], gw[64];
	double *cn = calloc((size_t)n, sizeof(double));
	double *dn = calloc((size_t)n, sizeof(double));
	double ms, t0 = now_ms();

	if (cn == NULL || dn == NULL)
		return 1;
	for (int i = 0; i < m; i++) {
		/* The bridge is named after the first 12 digits. */
		(void) snprintf(id, sizeof(id), "%08x%056x", 0xbf000000u +
		    (unsigned)i, 0u);
		if (net_create(fd, id, pool_id, sizeof(pool_id), gw, sizeof(gw),
		    &ms) < 0)
			return 1;
	}
	fprintf(stderr, "%d networks made in %.0f ms\n", m, now_ms() - t0);
	for (int i = 0; i < n; i++) {
		/* The bridge is named after the first 12 digits. */
		(void) snprintf(id, sizeof(id), "%08x%056x", 0xbe000000u +
		    (unsigned)i, 0u);
		if (net_create(fd, id, pool_id, sizeof(pool_id), gw, sizeof(gw),
		    &cn[i]) < 0 || net_delete(fd, id, pool_id, gw, &dn[i]) < 0)
			return 1;
	}
	qsort(cn, (size_t)n, sizeof(double), cmp);
	qsort(dn, (size_t)n, sizeof(double), cmp);
	printf("%d networks present, %d rounds: CreateNetwork median %.3f ms "
	    "max %.3f ms; DeleteNetwork median %.3f ms max %.3f ms\n", m, n,
	    cn[n / 2], cn[n - 1], dn[n / 2], dn[n - 1]);
	free(cn);
	free(dn);
	return 0;
}

int
main(int argc, char *argv[])
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int n = argc > 2 ? atoi(argv[2]) : 200, fd;
	double *lat[NCALLS];
	char body[2048], out[RESP_MAX], pool_id[256], pool[64], gw[64];

	if (argc < 2 || n <= 0 || strlen(argv[1]) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "usage: %s SOCKET [N]\n", argv[0]);
		return 2;
	}
	memcpy(sa.sun_path, argv[1], strlen(argv[1]) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		perror("connect");
		return 1;
	}
	if (argc > 3)
		return with_networks(fd, n, atoi(argv[3]));
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
