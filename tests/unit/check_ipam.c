#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "plugin/ipam.h"
#include "tests/unit/suites.h"

#define ERRLEN	512

static struct prefix
P(const char *s)
{
	struct prefix p;

	if (strchr(s, '/') != NULL)
		ck_assert_int_eq(prefix_parse(s, &p), 0);
	else
		ck_assert_int_eq(prefix_parse_addr(s, &p), 0);
	return p;
}

/* Requests a pool; id (IPAM_ID_MAX) and pfx ("a/n") may be NULL. */
static int
req_pool(struct ipam *ip, const char *space, const char *pool,
    const char *sub, bool v6, char *id, char *pfx, char *err)
{
	struct ipam_pool_req req;
	struct prefix pp, sp, ret;
	char idbuf[IPAM_ID_MAX];
	int r;

	memset(&req, 0, sizeof(req));
	req.space = space;
	req.v6 = v6;
	if (pool != NULL) {
		pp = P(pool);
		req.pool = &pp;
	}
	if (sub != NULL) {
		sp = P(sub);
		req.subpool = &sp;
	}
	r = ipam_request_pool(ip, &req, idbuf, &ret, err, ERRLEN);
	if (r == 0 && id != NULL)
		snprintf(id, IPAM_ID_MAX, "%s", idbuf);
	if (r == 0 && pfx != NULL)
		prefix_format(&ret, pfx, PREFIX_STRLEN);
	return r;
}

static int
req_auto(struct ipam *ip, bool v6, const struct prefix *avoid,
    size_t navoid, char *id, char *pfx, char *err)
{
	struct ipam_pool_req req;
	struct prefix ret;
	int r;

	memset(&req, 0, sizeof(req));
	req.v6 = v6;
	req.avoid = avoid;
	req.navoid = navoid;
	r = ipam_request_pool(ip, &req, id, &ret, err, ERRLEN);
	if (r == 0 && pfx != NULL)
		prefix_format(&ret, pfx, PREFIX_STRLEN);
	return r;
}

/* Requests an address; out gets "a/n". */
static int
req_addr(struct ipam *ip, const char *id, const char *want, bool gw,
    char *out, char *err)
{
	struct prefix w, ret;
	int r;

	if (want != NULL)
		w = P(want);
	r = ipam_request_address(ip, id, want != NULL ? &w : NULL, gw, &ret,
	    err, ERRLEN);
	if (r == 0 && out != NULL)
		prefix_format(&ret, out, PREFIX_STRLEN);
	return r;
}

static int
rel_addr(struct ipam *ip, const char *id, const char *addr, char *err)
{
	struct prefix a = P(addr);

	return ipam_release_address(ip, id, &a, err, ERRLEN);
}

static void
expect_addr(struct ipam *ip, const char *id, const char *want, bool gw,
    const char *expect)
{
	char out[PREFIX_STRLEN], err[ERRLEN] = "";
	int r = req_addr(ip, id, want, gw, out, err);

	ck_assert_msg(r == 0, "request %s: %d %s", want ? want : "next", r,
	    err);
	ck_assert_str_eq(out, expect);
}

static void
set_defaults(struct ipam *ip, const char *spec)
{
	struct ipam_default_pool *d = NULL;
	char err[ERRLEN] = "";
	size_t n = 0;

	ck_assert_msg(ipam_parse_default_pools(spec, &d, &n, err, ERRLEN) == 0,
	    "%s", err);
	ck_assert_int_eq(ipam_set_default_pools(ip, d, n, err, ERRLEN), 0);
	free(d);
}

static char *
dump_str(const struct ipam *ip)
{
	json_t *j = NULL;
	char *s;

	ck_assert_int_eq(ipam_dump(ip, &j), 0);
	s = json_dumps(j, JSON_SORT_KEYS | JSON_COMPACT);
	ck_assert_ptr_nonnull(s);
	json_decref(j);
	return s;
}

START_TEST(test_explicit_pool)
{
	struct ipam *ip = ipam_new();
	char id[IPAM_ID_MAX], pfx[PREFIX_STRLEN], err[ERRLEN];

	ck_assert_ptr_nonnull(ip);
	ck_assert_int_eq(req_pool(ip, NULL, "10.0.0.0/24", NULL, false, id,
	    pfx, err), 0);
	ck_assert_str_eq(id, "LocalDefault/10.0.0.0/24");
	ck_assert_str_eq(pfx, "10.0.0.0/24");
	ck_assert_int_eq(req_pool(ip, "", "10.1.0.0/30", NULL, false, id,
	    pfx, err), 0);
	ck_assert_str_eq(id, "LocalDefault/10.1.0.0/30");
	ck_assert_int_eq(req_pool(ip, "GlobalDefault", "fd00::/126", NULL,
	    true, id, pfx, err), 0);
	ck_assert_str_eq(id, "GlobalDefault/fd00::/126");
	ck_assert_uint_eq(ipam_pool_count(ip), 3);
	ck_assert_int_eq(ipam_pool_used(ip, "LocalDefault/10.0.0.0/24"), 0);

	/* Too small pools. */
	ck_assert_int_eq(req_pool(ip, NULL, "10.2.0.0/31", NULL, false, id,
	    pfx, err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "10.2.0.0/31"));
	ck_assert_int_eq(req_pool(ip, NULL, "10.2.0.0/32", NULL, false, id,
	    pfx, err), -EINVAL);
	ck_assert_int_eq(req_pool(ip, NULL, "fd01::/127", NULL, true, id,
	    pfx, err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "126"));

	/* Address space names. */
	ck_assert_int_eq(req_pool(ip, "bad/space", "10.3.0.0/24", NULL,
	    false, id, pfx, err), -EINVAL);
	ck_assert_int_eq(req_pool(ip, "sp ace", "10.3.0.0/24", NULL,
	    false, id, pfx, err), -EINVAL);
	ck_assert_int_eq(req_pool(ip, "x234567890123456789012345678901234567"
	    "890123456789012345678901234", "10.3.0.0/24", NULL, false, id,
	    pfx, err), 0);
	ck_assert_int_eq(req_pool(ip, "x234567890123456789012345678901234567"
	    "8901234567890123456789012345", "10.4.0.0/24", NULL, false, id,
	    pfx, err), -EINVAL);
	ck_assert_int_eq(req_pool(ip, "My.space_1-a", "10.3.0.0/24", NULL,
	    false, id, pfx, err), 0);
	ck_assert_str_eq(id, "My.space_1-a/10.3.0.0/24");
	ck_assert_uint_eq(ipam_pool_count(ip), 5);
	ipam_free(ip);
}
END_TEST

START_TEST(test_subpool)
{
	struct ipam *ip = ipam_new();
	char id[IPAM_ID_MAX], pfx[PREFIX_STRLEN], err[ERRLEN];

	ck_assert_int_eq(req_pool(ip, NULL, "10.1.0.0/16", "10.1.2.0/24",
	    false, id, pfx, err), 0);
	ck_assert_str_eq(id, "LocalDefault/10.1.0.0/16/10.1.2.0/24");
	ck_assert_str_eq(pfx, "10.1.0.0/16");
	/* Only the pool's network address is reserved, not the range's. */
	expect_addr(ip, id, NULL, true, "10.1.2.0/16");
	expect_addr(ip, id, NULL, false, "10.1.2.1/16");

	ck_assert_int_eq(req_pool(ip, NULL, "10.2.0.0/16", "10.3.0.0/24",
	    false, id, pfx, err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "not inside"));
	ck_assert_int_eq(req_pool(ip, NULL, "10.2.0.0/24", "10.2.0.0/16",
	    false, id, pfx, err), -EINVAL);
	ck_assert_int_eq(req_pool(ip, NULL, "10.2.0.0/16", "10.2.0.1/24",
	    false, id, pfx, err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "did you mean 10.2.0.0/24?"));
	ck_assert_int_eq(req_pool(ip, NULL, "10.2.0.0/16", "fd00::/64",
	    false, id, pfx, err), -EINVAL);
	/* A range without a subnet makes no sense. */
	ck_assert_int_eq(req_pool(ip, NULL, NULL, "10.2.0.0/24", false, id,
	    pfx, err), -EINVAL);
	ck_assert_uint_eq(ipam_pool_count(ip), 1);

	/* Sub-pool equal to the pool is fine. */
	ck_assert_int_eq(req_pool(ip, NULL, "10.2.0.0/24", "10.2.0.0/24",
	    false, id, pfx, err), 0);
	expect_addr(ip, id, NULL, false, "10.2.0.1/24");
	ipam_free(ip);
}
END_TEST

START_TEST(test_family_mismatch)
{
	struct ipam *ip = ipam_new();
	char id[IPAM_ID_MAX], err[ERRLEN];

	ck_assert_int_eq(req_pool(ip, NULL, "10.0.0.0/24", NULL, true, id,
	    NULL, err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "IPv4"));
	ck_assert_ptr_nonnull(strstr(err, "IPv6"));
	ck_assert_int_eq(req_pool(ip, NULL, "fd00::/64", NULL, false, id,
	    NULL, err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "fd00::/64"));
	ck_assert_uint_eq(ipam_pool_count(ip), 0);
	ipam_free(ip);
}
END_TEST

START_TEST(test_host_bits)
{
	struct ipam *ip = ipam_new();
	char id[IPAM_ID_MAX] = "untouched", err[ERRLEN];

	ck_assert_int_eq(req_pool(ip, NULL, "10.0.0.1/24", NULL, false, id,
	    NULL, err), -EINVAL);
	ck_assert_str_eq(err, "invalid subnet 10.0.0.1/24: host bits are set "
	    "(did you mean 10.0.0.0/24?)");
	ck_assert_str_eq(id, "untouched");
	ck_assert_int_eq(req_pool(ip, NULL, "fd00::1/64", NULL, true, id,
	    NULL, err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "did you mean fd00::/64?"));
	ck_assert_uint_eq(ipam_pool_count(ip), 0);
	ipam_free(ip);
}
END_TEST

START_TEST(test_overlap)
{
	struct ipam *ip = ipam_new();
	char id[IPAM_ID_MAX], err[ERRLEN];

	ck_assert_int_eq(req_pool(ip, NULL, "172.30.0.0/16", NULL, false, id,
	    NULL, err), 0);
	ck_assert_int_eq(req_pool(ip, NULL, "172.30.0.0/24", NULL, false, id,
	    NULL, err), -EEXIST);
	ck_assert_str_eq(err, "subnet 172.30.0.0/24 overlaps with "
	    "172.30.0.0/16, which is already in use by another network");
	ck_assert_int_eq(req_pool(ip, NULL, "172.0.0.0/8", NULL, false, id,
	    NULL, err), -EEXIST);
	ck_assert_int_eq(req_pool(ip, "LocalDefault", "172.30.0.0/16", NULL,
	    false, id, NULL, err), -EEXIST);
	/* Other spaces are independent. */
	ck_assert_int_eq(req_pool(ip, "GlobalDefault", "172.30.0.0/24", NULL,
	    false, id, NULL, err), 0);
	ck_assert_str_eq(id, "GlobalDefault/172.30.0.0/24");
	ck_assert_int_eq(req_pool(ip, "GlobalDefault", "172.30.0.128/25",
	    NULL, false, id, NULL, err), -EEXIST);
	/* Adjacent is not overlapping. */
	ck_assert_int_eq(req_pool(ip, NULL, "172.31.0.0/16", NULL, false, id,
	    NULL, err), 0);
	ck_assert_uint_eq(ipam_pool_count(ip), 3);
	ipam_free(ip);
}
END_TEST

START_TEST(test_auto_pool)
{
	struct ipam *ip = ipam_new();
	char id[IPAM_ID_MAX], pfx[PREFIX_STRLEN], err[ERRLEN];
	struct prefix avoid[3];

	ck_assert_int_eq(req_auto(ip, false, NULL, 0, id, pfx, err), 0);
	ck_assert_str_eq(pfx, "172.16.0.0/20");
	ck_assert_str_eq(id, "LocalDefault/172.16.0.0/20");
	ck_assert_int_eq(req_auto(ip, false, NULL, 0, id, pfx, err), 0);
	ck_assert_str_eq(pfx, "172.16.16.0/20");

	/* A host route inside the next candidate; a default route, which
	 * must not block everything; and an IPv6 prefix, ignored. */
	avoid[0] = P("172.16.33.7/24");
	avoid[1] = P("0.0.0.0/0");
	avoid[2] = P("fd00::/8");
	ck_assert_int_eq(req_auto(ip, false, avoid, 3, id, pfx, err), 0);
	ck_assert_str_eq(pfx, "172.16.48.0/20");

	/* Pools in any space are skipped; so are large ones at once. */
	ck_assert_int_eq(req_pool(ip, "GlobalDefault", "172.16.64.0/18", NULL,
	    false, id, NULL, err), 0);
	ck_assert_int_eq(req_auto(ip, false, NULL, 0, id, pfx, err), 0);
	ck_assert_str_eq(pfx, "172.16.32.0/20");
	ck_assert_int_eq(req_auto(ip, false, NULL, 0, id, pfx, err), 0);
	ck_assert_str_eq(pfx, "172.16.128.0/20");

	/* An avoided prefix larger than the whole first base. */
	avoid[0] = P("172.16.0.0/12");
	ck_assert_int_eq(req_auto(ip, false, avoid, 1, id, pfx, err), 0);
	ck_assert_str_eq(pfx, "192.168.0.0/24");

	/* No IPv6 default. */
	ck_assert_int_eq(req_auto(ip, true, NULL, 0, id, pfx, err), -ENOSPC);
	ck_assert_str_eq(err, "no default IPv6 address pool is configured; "
	    "pass --subnet with an IPv6 prefix or set DEFAULT_ADDRESS_POOLS");
	set_defaults(ip, "base=fd00:1::/48,size=64");
	ck_assert_int_eq(req_auto(ip, true, NULL, 0, id, pfx, err), 0);
	ck_assert_str_eq(pfx, "fd00:1::/64");
	ck_assert_str_eq(id, "LocalDefault/fd00:1::/64");
	ck_assert_int_eq(req_auto(ip, true, NULL, 0, id, pfx, err), 0);
	ck_assert_str_eq(pfx, "fd00:1:0:1::/64");
	/* IPv4 defaults were kept. */
	ck_assert_int_eq(req_auto(ip, false, NULL, 0, id, pfx, err), 0);
	ck_assert_str_eq(pfx, "172.16.144.0/20");
	ck_assert_uint_eq(ipam_pool_count(ip), 10);
	ipam_free(ip);
}
END_TEST

START_TEST(test_auto_exhaustion)
{
	struct ipam *ip = ipam_new();
	char id[IPAM_ID_MAX], pfx[PREFIX_STRLEN], err[ERRLEN];

	set_defaults(ip, "base=fd00:9::/63,size=64");
	set_defaults(ip, "base=10.99.0.0/23,size=24;base=10.98.0.0/24,size=25");
	ck_assert_int_eq(req_auto(ip, false, NULL, 0, id, pfx, err), 0);
	ck_assert_str_eq(pfx, "10.99.0.0/24");
	ck_assert_int_eq(req_auto(ip, false, NULL, 0, id, pfx, err), 0);
	ck_assert_str_eq(pfx, "10.99.1.0/24");
	ck_assert_int_eq(req_auto(ip, false, NULL, 0, id, pfx, err), 0);
	ck_assert_str_eq(pfx, "10.98.0.0/25");
	ck_assert_int_eq(req_auto(ip, false, NULL, 0, id, pfx, err), 0);
	ck_assert_str_eq(pfx, "10.98.0.128/25");
	ck_assert_int_eq(req_auto(ip, false, NULL, 0, id, pfx, err), -ENOSPC);
	ck_assert_str_eq(err, "no free IPv4 subnet left in the default "
	    "address pools (10.99.0.0/23 split in /24, 10.98.0.0/24 split in "
	    "/25); set DEFAULT_ADDRESS_POOLS or pass --subnet");
	ck_assert_uint_eq(ipam_pool_count(ip), 4);

	/* IPv6 defaults survived the IPv4 replacement. */
	ck_assert_int_eq(req_auto(ip, true, NULL, 0, id, pfx, err), 0);
	ck_assert_str_eq(pfx, "fd00:9::/64");
	ck_assert_int_eq(req_auto(ip, true, NULL, 0, id, pfx, err), 0);
	ck_assert_str_eq(pfx, "fd00:9:0:1::/64");
	ck_assert_int_eq(req_auto(ip, true, NULL, 0, id, pfx, err), -ENOSPC);

	/* Freeing a pool makes its prefix available again. */
	ck_assert_int_eq(ipam_release_pool(ip, "LocalDefault/10.99.1.0/24",
	    err, ERRLEN), 0);
	ck_assert_int_eq(req_auto(ip, false, NULL, 0, id, pfx, err), 0);
	ck_assert_str_eq(pfx, "10.99.1.0/24");
	ipam_free(ip);
}
END_TEST

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

START_TEST(test_auto_fast)
{
	struct ipam *ip = ipam_new();
	char id[IPAM_ID_MAX], pfx[PREFIX_STRLEN], err[ERRLEN], s[64];
	struct prefix avoid[2];
	double t0;

	set_defaults(ip, "base=fd00:1::/48,size=64");
	/* 400 pools at the start of the base, in reverse order. */
	for (int i = 399; i >= 0; i--) {
		snprintf(s, sizeof(s), "fd00:1:0:%x::/64", i);
		ck_assert_int_eq(req_pool(ip, "other", s, NULL, true, id,
		    NULL, err), 0);
	}
	t0 = now();
	ck_assert_int_eq(req_auto(ip, true, NULL, 0, id, pfx, err), 0);
	ck_assert_str_eq(pfx, "fd00:1:0:190::/64");
	/* The whole base blocked: 65536 candidates, rejected quickly. */
	avoid[0] = P("fd00:1::/49");
	avoid[1] = P("fd00:1:0:8000::/49");
	ck_assert_int_eq(req_auto(ip, true, avoid, 2, id, pfx, err), -ENOSPC);
	ck_assert_ptr_nonnull(strstr(err, "fd00:1::/48 split in /64"));
	/* Only the last /64 is left. */
	avoid[1] = P("fd00:1:0:8000::/50");
	ck_assert_int_eq(req_auto(ip, true, avoid, 2, id, pfx, err), 0);
	ck_assert_str_eq(pfx, "fd00:1:0:c000::/64");
	/* 2^48 candidates, the first half avoided: must skip, not step. */
	set_defaults(ip, "base=fc00::/16,size=64");
	avoid[0] = P("fc00::/17");
	ck_assert_int_eq(req_auto(ip, true, avoid, 1, id, pfx, err), 0);
	ck_assert_str_eq(pfx, "fc00:8000::/64");
	ck_assert_msg(now() - t0 < 0.5, "automatic pools too slow: %.3fs",
	    now() - t0);
	ipam_free(ip);
}
END_TEST

START_TEST(test_parse_defaults)
{
	struct ipam_default_pool *d = NULL, *sentinel = (void *)&d;
	char err[ERRLEN], buf[PREFIX_STRLEN];
	size_t n = 0;
	static const char *const bad[] = {
		"",
		"  ; ",
		"base=10.0.0.1/16,size=24",
		"base=10.0.0.0/16,size=8",
		"base=10.0.0.0/16,size=31",
		"base=fd00::/48,size=127",
		"base=10.0.0.0/16",
		"size=24",
		"base=10.0.0.0/16,size=24,color=red",
		"base=10.0.0.0/16,size=24,size=25",
		"base=10.0.0.0/16,size=x",
		"base=10.0.0.0/16,size=",
		"base=10.0.0.0,size=24",
		"base=nonsense/8,size=24",
		"base=10.0.0.0/16,size=24;garbage",
		"[",
		"[{\"base\":\"10.0.0.0/16\"}]",
		"[{\"base\":\"10.0.0.0/16\",\"size\":\"24\"}]",
		"[{\"base\":10,\"size\":24}]",
		"[{\"base\":\"10.0.0.0/16\",\"size\":-1}]",
		"[{\"base\":\"10.0.0.0/16\",\"size\":4294967320}]",
		"[{\"base\":\"10.0.0.1/16\",\"size\":24}]",
		"[]",
		"[42]",
	};

	ck_assert_int_eq(ipam_parse_default_pools(" [{\"base\":\"10.10.0.0/16\","
	    "\"size\":24},{\"base\":\"fd00:1::/48\",\"size\":64,\"x\":1}]",
	    &d, &n, err, ERRLEN), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(prefix_format(&d[0].base, buf, sizeof(buf)),
	    "10.10.0.0/16");
	ck_assert_uint_eq(d[0].size, 24);
	ck_assert_str_eq(prefix_format(&d[1].base, buf, sizeof(buf)),
	    "fd00:1::/48");
	ck_assert_uint_eq(d[1].size, 64);
	free(d);

	ck_assert_int_eq(ipam_parse_default_pools("base=10.10.0.0/16,size=24 "
	    " base=fd00:1::/48,size=64;size=20,base=10.20.0.0/14;", &d, &n,
	    err, ERRLEN), 0);
	ck_assert_uint_eq(n, 3);
	ck_assert_str_eq(prefix_format(&d[2].base, buf, sizeof(buf)),
	    "10.20.0.0/14");
	ck_assert_uint_eq(d[2].size, 20);
	ck_assert_uint_eq(d[1].size, 64);
	free(d);

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		d = sentinel;
		n = 77;
		err[0] = '\0';
		ck_assert_msg(ipam_parse_default_pools(bad[i], &d, &n, err,
		    ERRLEN) == -EINVAL, "accepted \"%s\"", bad[i]);
		ck_assert_msg(err[0] != '\0', "no message for \"%s\"", bad[i]);
		ck_assert_ptr_eq(d, sentinel);
		ck_assert_uint_eq(n, 77);
	}
	d = NULL;
	ck_assert_int_eq(ipam_parse_default_pools("base=10.0.0.1/16,size=24",
	    &d, &n, err, ERRLEN), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "did you mean 10.0.0.0/16?"));

	/* 64 entries are fine, 65 are not. */
	{
		char spec[64 * 32 + 64];
		size_t off = 0;

		for (int i = 0; i < 65; i++)
			off += (size_t)snprintf(spec + off, sizeof(spec) - off,
			    "base=10.%d.0.0/16,size=24 ", i);
		spec[off - 1] = '\0';
		ck_assert_int_eq(ipam_parse_default_pools(spec, &d, &n, err,
		    ERRLEN), -EINVAL);
		*strrchr(spec, ' ') = '\0';
		ck_assert_int_eq(ipam_parse_default_pools(spec, &d, &n, err,
		    ERRLEN), 0);
		ck_assert_uint_eq(n, 64);
		free(d);
	}
}
END_TEST

START_TEST(test_set_defaults_invalid)
{
	struct ipam *ip = ipam_new();
	struct ipam_default_pool d = { P("10.0.0.0/16"), 8 };
	char id[IPAM_ID_MAX], pfx[PREFIX_STRLEN], err[ERRLEN];

	ck_assert_int_eq(ipam_set_default_pools(ip, &d, 1, err, ERRLEN),
	    -EINVAL);
	d.base = P("10.0.0.5/16");
	d.size = 24;
	ck_assert_int_eq(ipam_set_default_pools(ip, &d, 1, err, ERRLEN),
	    -EINVAL);
	/* Defaults untouched. */
	ck_assert_int_eq(req_auto(ip, false, NULL, 0, id, pfx, err), 0);
	ck_assert_str_eq(pfx, "172.16.0.0/20");
	ipam_free(ip);
}
END_TEST

START_TEST(test_gateway_lowest)
{
	struct ipam *ip = ipam_new();
	char id[IPAM_ID_MAX], err[ERRLEN];

	ck_assert_int_eq(req_pool(ip, NULL, "10.2.0.0/24", NULL, false, id,
	    NULL, err), 0);
	expect_addr(ip, id, NULL, false, "10.2.0.1/24");
	expect_addr(ip, id, NULL, false, "10.2.0.2/24");
	expect_addr(ip, id, NULL, false, "10.2.0.3/24");
	ck_assert_int_eq(rel_addr(ip, id, "10.2.0.2", err), 0);
	ck_assert_int_eq(rel_addr(ip, id, "10.2.0.1", err), 0);
	expect_addr(ip, id, NULL, true, "10.2.0.1/24");
	expect_addr(ip, id, NULL, true, "10.2.0.2/24");
	/* The gateway did not move the cursor. */
	expect_addr(ip, id, NULL, false, "10.2.0.4/24");
	/* A gateway at a given address. */
	expect_addr(ip, id, "10.2.0.254", true, "10.2.0.254/24");
	ck_assert_int_eq(ipam_pool_used(ip, id), 5);
	ipam_free(ip);
}
END_TEST

START_TEST(test_specific_address)
{
	struct ipam *ip = ipam_new();
	char id[IPAM_ID_MAX], err[ERRLEN];

	ck_assert_int_eq(req_pool(ip, NULL, "10.3.0.0/16", "10.3.5.0/24",
	    false, id, NULL, err), 0);
	/* Inside the pool but outside the sub-pool: allowed. */
	expect_addr(ip, id, "10.3.0.1", true, "10.3.0.1/16");
	expect_addr(ip, id, "10.3.200.9", false, "10.3.200.9/16");
	/* Specific requests do not move the cursor. */
	expect_addr(ip, id, "10.3.5.7", false, "10.3.5.7/16");
	expect_addr(ip, id, NULL, false, "10.3.5.0/16");
	expect_addr(ip, id, NULL, false, "10.3.5.1/16");

	ck_assert_int_eq(req_addr(ip, id, "10.4.0.1", false, NULL, err),
	    -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "10.3.0.0/16"));
	ck_assert_int_eq(req_addr(ip, id, "fd00::1", false, NULL, err),
	    -EINVAL);
	ck_assert_int_eq(req_addr(ip, id, "10.3.5.7", false, NULL, err),
	    -EEXIST);
	ck_assert_str_eq(err, "address 10.3.5.7 is already in use in pool "
	    "LocalDefault/10.3.0.0/16/10.3.5.0/24");
	ck_assert_int_eq(req_addr(ip, id, "10.3.0.1", true, NULL, err),
	    -EEXIST);
	ck_assert_int_eq(ipam_pool_used(ip, id), 5);
	ck_assert_int_eq(req_addr(ip, "LocalDefault/10.9.0.0/16", "10.9.0.1",
	    false, NULL, err), -ENOENT);
	ck_assert_str_eq(err, "pool LocalDefault/10.9.0.0/16 not found");
	ipam_free(ip);
}
END_TEST

START_TEST(test_reserved)
{
	struct ipam *ip = ipam_new();
	char id[IPAM_ID_MAX], id6[IPAM_ID_MAX], err[ERRLEN];

	ck_assert_int_eq(req_pool(ip, NULL, "10.0.0.0/24", NULL, false, id,
	    NULL, err), 0);
	ck_assert_int_eq(req_addr(ip, id, "10.0.0.0", false, NULL, err),
	    -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "10.0.0.0/24"));
	ck_assert_int_eq(req_addr(ip, id, "10.0.0.255", true, NULL, err),
	    -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "broadcast"));
	expect_addr(ip, id, "10.0.0.254", false, "10.0.0.254/24");

	/* IPv6: only the network address (subnet-router anycast). */
	ck_assert_int_eq(req_pool(ip, NULL, "fd00::/64", NULL, true, id6,
	    NULL, err), 0);
	ck_assert_int_eq(req_addr(ip, id6, "fd00::", false, NULL, err),
	    -EINVAL);
	expect_addr(ip, id6, "fd00::ffff:ffff:ffff:ffff", false,
	    "fd00::ffff:ffff:ffff:ffff/64");
	ck_assert_int_eq(ipam_pool_used(ip, id), 1);
	ck_assert_int_eq(ipam_pool_used(ip, id6), 1);

	/* Sub-pool at the end of the pool: broadcast is still reserved. */
	ck_assert_int_eq(req_pool(ip, NULL, "10.8.0.0/24", "10.8.0.252/30",
	    false, id, NULL, err), 0);
	expect_addr(ip, id, NULL, false, "10.8.0.252/24");
	expect_addr(ip, id, NULL, false, "10.8.0.253/24");
	expect_addr(ip, id, NULL, false, "10.8.0.254/24");
	ck_assert_int_eq(req_addr(ip, id, NULL, false, NULL, err), -ENOSPC);
	ipam_free(ip);
}
END_TEST

START_TEST(test_next_free_order)
{
	struct ipam *ip = ipam_new();
	char id[IPAM_ID_MAX], err[ERRLEN];

	ck_assert_int_eq(req_pool(ip, NULL, "10.5.0.0/24", NULL, false, id,
	    NULL, err), 0);
	expect_addr(ip, id, NULL, true, "10.5.0.1/24");
	expect_addr(ip, id, NULL, false, "10.5.0.2/24");
	expect_addr(ip, id, NULL, false, "10.5.0.3/24");
	expect_addr(ip, id, NULL, false, "10.5.0.4/24");
	ck_assert_int_eq(rel_addr(ip, id, "10.5.0.3", err), 0);
	expect_addr(ip, id, NULL, false, "10.5.0.5/24");

	/* Wrap-around in a /29: .1-.6 usable. */
	ck_assert_int_eq(req_pool(ip, NULL, "10.6.0.0/29", NULL, false, id,
	    NULL, err), 0);
	for (int i = 1; i <= 6; i++) {
		char want[PREFIX_STRLEN];

		snprintf(want, sizeof(want), "10.6.0.%d/29", i);
		expect_addr(ip, id, NULL, false, want);
	}
	ck_assert_int_eq(rel_addr(ip, id, "10.6.0.5", err), 0);
	ck_assert_int_eq(rel_addr(ip, id, "10.6.0.2", err), 0);
	expect_addr(ip, id, NULL, false, "10.6.0.2/29");
	expect_addr(ip, id, NULL, false, "10.6.0.5/29");
	ck_assert_int_eq(rel_addr(ip, id, "10.6.0.1", err), 0);
	ck_assert_int_eq(rel_addr(ip, id, "10.6.0.6", err), 0);
	expect_addr(ip, id, NULL, false, "10.6.0.6/29");
	expect_addr(ip, id, NULL, false, "10.6.0.1/29");
	ipam_free(ip);
}
END_TEST

START_TEST(test_exhaust_29)
{
	struct ipam *ip = ipam_new();
	char id[IPAM_ID_MAX], err[ERRLEN], out[PREFIX_STRLEN];
	int n = 0;

	ck_assert_int_eq(req_pool(ip, NULL, "10.7.0.0/29", NULL, false, id,
	    NULL, err), 0);
	while (req_addr(ip, id, NULL, n % 2 == 0, out, err) == 0) {
		ck_assert_str_ne(out, "10.7.0.0/29");
		ck_assert_str_ne(out, "10.7.0.7/29");
		n++;
		ck_assert_int_le(n, 8);
	}
	ck_assert_int_eq(n, 6);
	ck_assert_int_eq(req_addr(ip, id, NULL, false, out, err), -ENOSPC);
	ck_assert_str_eq(err, "no free address left in pool "
	    "LocalDefault/10.7.0.0/29");
	ck_assert_int_eq(req_addr(ip, id, NULL, true, out, err), -ENOSPC);
	ck_assert_int_eq(ipam_pool_used(ip, id), 6);

	/* /30 gives 2, IPv6 /126 gives 3. */
	ck_assert_int_eq(req_pool(ip, NULL, "10.7.1.0/30", NULL, false, id,
	    NULL, err), 0);
	n = 0;
	while (req_addr(ip, id, NULL, false, out, err) == 0)
		n++;
	ck_assert_int_eq(n, 2);
	ck_assert_int_eq(req_pool(ip, NULL, "fd00::/126", NULL, true, id,
	    NULL, err), 0);
	n = 0;
	while (req_addr(ip, id, NULL, false, out, err) == 0)
		n++;
	ck_assert_int_eq(n, 3);
	ipam_free(ip);
}
END_TEST

START_TEST(test_release_errors)
{
	struct ipam *ip = ipam_new();
	char id[IPAM_ID_MAX], err[ERRLEN];

	ck_assert_int_eq(req_pool(ip, NULL, "10.0.0.0/24", NULL, false, id,
	    NULL, err), 0);
	expect_addr(ip, id, NULL, false, "10.0.0.1/24");
	ck_assert_int_eq(rel_addr(ip, "LocalDefault/10.1.0.0/24", "10.1.0.1",
	    err), -ENOENT);
	ck_assert_str_eq(err, "pool LocalDefault/10.1.0.0/24 not found");
	ck_assert_int_eq(rel_addr(ip, id, "10.0.0.2", err), -ENOENT);
	ck_assert_int_eq(rel_addr(ip, id, "10.9.0.1", err), -ENOENT);
	ck_assert_int_eq(rel_addr(ip, id, "fd00::1", err), -ENOENT);
	ck_assert_int_eq(ipam_pool_used(ip, id), 1);
	ck_assert_int_eq(rel_addr(ip, id, "10.0.0.1", err), 0);
	ck_assert_int_eq(rel_addr(ip, id, "10.0.0.1", err), -ENOENT);
	ck_assert_int_eq(ipam_pool_used(ip, id), 0);
	ck_assert_int_eq(ipam_pool_used(ip, "nope"), -ENOENT);
	ck_assert_int_eq(ipam_release_pool(ip, "nope", err, ERRLEN), -ENOENT);
	ck_assert_int_eq(ipam_release_address(ip, id, NULL, err, ERRLEN),
	    -EINVAL);
	ipam_free(ip);
}
END_TEST

START_TEST(test_ipv6)
{
	struct ipam *ip = ipam_new();
	char id[IPAM_ID_MAX], err[ERRLEN], out[PREFIX_STRLEN];
	struct prefix a;

	ck_assert_int_eq(req_pool(ip, NULL, "fd00:2::/64", NULL, true, id,
	    NULL, err), 0);
	expect_addr(ip, id, NULL, true, "fd00:2::1/64");
	expect_addr(ip, id, NULL, false, "fd00:2::2/64");
	expect_addr(ip, id, "fd00:2::ffff:0:0:1", false,
	    "fd00:2::ffff:0:0:1/64");
	/* Across several chunks. */
	for (int i = 3; i < 10003; i++) {
		ck_assert_int_eq(req_addr(ip, id, NULL, false, out, err), 0);
		ck_assert_int_eq(prefix_parse(out, &a), 0);
		ck_assert_uint_eq(a.plen, 64);
		ck_assert_uint_eq((unsigned)(a.addr[14] << 8 | a.addr[15]),
		    (unsigned)i);
	}
	ck_assert_int_eq(ipam_pool_used(ip, id), 10003);
	ck_assert_int_eq(rel_addr(ip, id, "fd00:2::1000", err), 0);
	ck_assert_int_eq(rel_addr(ip, id, "fd00:2::ffff:0:0:1", err), 0);
	ck_assert_int_eq(ipam_pool_used(ip, id), 10001);
	expect_addr(ip, id, NULL, true, "fd00:2::1000/64");

	/* A /48 pool (2^80 addresses) works too. */
	ck_assert_int_eq(req_pool(ip, NULL, "fd00:3::/48", NULL, true, id,
	    NULL, err), 0);
	expect_addr(ip, id, NULL, false, "fd00:3::1/48");
	expect_addr(ip, id, "fd00:3:0:ffff:ffff:ffff:ffff:ffff", false,
	    "fd00:3:0:ffff:ffff:ffff:ffff:ffff/48");
	expect_addr(ip, id, NULL, true, "fd00:3::2/48");
	ck_assert_int_eq(rel_addr(ip, id, "fd00:3:0:ffff:ffff:ffff:ffff:ffff",
	    err), 0);
	ck_assert_int_eq(ipam_pool_used(ip, id), 2);
	ipam_free(ip);
}
END_TEST

START_TEST(test_full_16)
{
	struct ipam *ip = ipam_new();
	char id[IPAM_ID_MAX], err[ERRLEN], out[PREFIX_STRLEN];
	unsigned char *seen = calloc(65536, 1);
	struct prefix a;
	json_t *j = NULL, *pools, *alloc;

	ck_assert_ptr_nonnull(seen);
	ck_assert_int_eq(req_pool(ip, NULL, "10.1.0.0/16", NULL, false, id,
	    NULL, err), 0);
	for (int i = 0; i < 65534; i++) {
		unsigned int off;

		ck_assert_int_eq(req_addr(ip, id, NULL, false, out, err), 0);
		ck_assert_int_eq(prefix_parse(out, &a), 0);
		ck_assert(a.addr[0] == 10 && a.addr[1] == 1);
		off = (unsigned)(a.addr[2] << 8 | a.addr[3]);
		ck_assert_uint_ne(off, 0);
		ck_assert_uint_ne(off, 65535);
		ck_assert_int_eq(seen[off], 0);
		seen[off] = 1;
	}
	ck_assert_int_eq(req_addr(ip, id, NULL, false, out, err), -ENOSPC);
	ck_assert_int_eq(req_addr(ip, id, NULL, true, out, err), -ENOSPC);
	ck_assert_int_eq(ipam_pool_used(ip, id), 65534);

	/* The dump stays small. */
	ck_assert_int_eq(ipam_dump(ip, &j), 0);
	pools = json_object_get(j, "pools");
	alloc = json_object_get(json_array_get(pools, 0), "allocated");
	ck_assert_uint_eq(json_array_size(alloc), 1);
	ck_assert_str_eq(json_string_value(json_array_get(alloc, 0)),
	    "10.1.0.1-10.1.255.254");
	json_decref(j);

	ck_assert_int_eq(rel_addr(ip, id, "10.1.128.77", err), 0);
	expect_addr(ip, id, NULL, false, "10.1.128.77/16");
	free(seen);
	ipam_free(ip);
}
END_TEST

/* A state with a sub-pool, an IPv6 pool and scattered allocations. */
static struct ipam *
make_state(char *id4, char *id6)
{
	struct ipam *ip = ipam_new();
	char err[ERRLEN], id[IPAM_ID_MAX];

	ck_assert_int_eq(req_pool(ip, NULL, "10.0.0.0/16", "10.0.32.0/19",
	    false, id4, NULL, err), 0);
	expect_addr(ip, id4, "10.0.0.1", true, "10.0.0.1/16");
	for (int i = 0; i < 5000; i++)
		ck_assert_int_eq(req_addr(ip, id4, NULL, false, NULL, err), 0);
	ck_assert_int_eq(rel_addr(ip, id4, "10.0.33.3", err), 0);
	ck_assert_int_eq(rel_addr(ip, id4, "10.0.32.0", err), 0);
	ck_assert_int_eq(req_pool(ip, "GlobalDefault", "fd00:5::/64", NULL,
	    true, id6, NULL, err), 0);
	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(req_addr(ip, id6, NULL, false, NULL, err), 0);
	ck_assert_int_eq(rel_addr(ip, id6, "fd00:5::2", err), 0);
	ck_assert_int_eq(req_pool(ip, NULL, "10.9.0.0/24", NULL, false, id,
	    NULL, err), 0);
	return ip;
}

START_TEST(test_dump_load)
{
	char id4[IPAM_ID_MAX], id6[IPAM_ID_MAX], err[ERRLEN] = "";
	char a[PREFIX_STRLEN], b[PREFIX_STRLEN];
	struct ipam *ip = make_state(id4, id6), *ip2 = ipam_new();
	char *s1, *s2;
	json_t *j, *pool;

	ck_assert_int_eq(ipam_dump(ip, &j), 0);
	pool = json_array_get(json_object_get(j, "pools"), 0);
	ck_assert_str_eq(json_string_value(json_object_get(pool, "id")), id4);
	ck_assert_str_eq(json_string_value(json_object_get(pool, "subpool")),
	    "10.0.32.0/19");
	/* 5000 handed out from the start of the range. */
	ck_assert_str_eq(json_string_value(json_object_get(pool, "cursor")),
	    "10.0.51.136");
	pool = json_array_get(json_object_get(j, "pools"), 2);
	ck_assert(json_is_null(json_object_get(pool, "subpool")));
	ck_assert_uint_eq(json_array_size(json_object_get(pool, "allocated")),
	    0);

	/* ip2 has something that must be replaced. */
	ck_assert_int_eq(req_pool(ip2, NULL, "10.0.0.0/8", NULL, false, NULL,
	    NULL, err), 0);
	ck_assert_msg(ipam_load(ip2, j, err, ERRLEN) == 0, "%s", err);
	json_decref(j);
	ck_assert_uint_eq(ipam_pool_count(ip2), 3);
	ck_assert_int_eq(ipam_pool_used(ip2, "LocalDefault/10.0.0.0/8"),
	    -ENOENT);
	ck_assert_int_eq(ipam_pool_used(ip2, id4), ipam_pool_used(ip, id4));
	ck_assert_int_eq(ipam_pool_used(ip2, id6), 3);
	s1 = dump_str(ip);
	s2 = dump_str(ip2);
	ck_assert_str_eq(s1, s2);
	free(s1);
	free(s2);

	/* Both hand out the same addresses from here on. */
	for (int i = 0; i < 30; i++) {
		ck_assert_int_eq(req_addr(ip, id4, NULL, i % 7 == 0, a, err),
		    0);
		ck_assert_int_eq(req_addr(ip2, id4, NULL, i % 7 == 0, b, err),
		    0);
		ck_assert_str_eq(a, b);
	}
	ck_assert_int_eq(req_addr(ip, id6, NULL, false, a, err), 0);
	ck_assert_int_eq(req_addr(ip2, id6, NULL, false, b, err), 0);
	ck_assert_str_eq(a, "fd00:5::5/64");
	ck_assert_str_eq(b, a);
	ck_assert_int_eq(req_addr(ip2, id6, "fd00:5::3", false, b, err),
	    -EEXIST);
	ck_assert_int_eq(req_addr(ip2, id4, "10.0.0.1", false, b, err),
	    -EEXIST);
	/* Overlap checks work on the loaded pools. */
	ck_assert_int_eq(req_pool(ip2, NULL, "10.0.128.0/24", NULL, false,
	    NULL, NULL, err), -EEXIST);

	/* Loading an empty state clears everything. */
	j = json_loads("{\"pools\":[]}", 0, NULL);
	ck_assert_int_eq(ipam_load(ip2, j, err, ERRLEN), 0);
	json_decref(j);
	ck_assert_uint_eq(ipam_pool_count(ip2), 0);
	ipam_free(ip);
	ipam_free(ip2);
}
END_TEST

START_TEST(test_load_ranges)
{
	struct ipam *ip = ipam_new();
	char err[ERRLEN] = "", out[PREFIX_STRLEN];
	const char *id = "LocalDefault/10.0.0.0/24";
	json_t *j = json_loads("{\"version\":1,\"pools\":[{\"id\":"
	    "\"LocalDefault/10.0.0.0/24\",\"space\":\"LocalDefault\",\"pool\":"
	    "\"10.0.0.0/24\",\"subpool\":null,\"cursor\":\"10.0.0.7\","
	    "\"allocated\":[\"10.0.0.1\",\"10.0.0.2-10.0.0.9\","
	    "\"10.0.0.20-10.0.0.20\"],\"extra\":true}]}", 0, NULL);

	ck_assert_ptr_nonnull(j);
	ck_assert_msg(ipam_load(ip, j, err, ERRLEN) == 0, "%s", err);
	json_decref(j);
	ck_assert_int_eq(ipam_pool_used(ip, id), 10);
	ck_assert_int_eq(req_addr(ip, id, NULL, false, out, err), 0);
	ck_assert_str_eq(out, "10.0.0.10/24");
	ck_assert_int_eq(req_addr(ip, id, "10.0.0.20", false, out, err),
	    -EEXIST);
	ipam_free(ip);
}
END_TEST

/* Copies tmpl into out with each '@' replaced by rep. */
static void
subst(const char *tmpl, const char *rep, char *out, size_t len)
{
	size_t off = 0, rl = strlen(rep);

	for (; *tmpl != '\0'; tmpl++) {
		if (*tmpl == '@') {
			ck_assert_uint_lt(off + rl, len);
			memcpy(out + off, rep, rl);
			off += rl;
		} else {
			ck_assert_uint_lt(off + 1, len);
			out[off++] = *tmpl;
		}
	}
	out[off] = '\0';
}

START_TEST(test_load_corrupt)
{
	char id4[IPAM_ID_MAX], id6[IPAM_ID_MAX], err[ERRLEN];
	struct ipam *ip = make_state(id4, id6);
	/* Each replaces the valid pool below by something broken. */
	static const char *const bad[] = {
		"[]",
		"{}",
		"{\"pools\":{}}",
		"{\"pools\":[1]}",
		"{\"pools\":[{}]}",
		"{\"pools\":[@,@]}",
		"{\"pools\":[@,{\"id\":\"LocalDefault/10.1.0.0/25\","
		    "\"space\":\"LocalDefault\",\"pool\":\"10.1.0.0/25\","
		    "\"subpool\":null,\"cursor\":\"10.1.0.1\","
		    "\"allocated\":[]}]}",
		"{\"pools\":[{\"id\":\"LocalDefault/10.1.0.0/16\","
		    "\"space\":\"LocalDefault\",\"pool\":\"10.1.0.0/16\","
		    "\"subpool\":null,\"cursor\":\"10.1.0.1\","
		    "\"allocated\":[]},@]}",
	};
	/* Fields substituted into an otherwise valid pool. */
	static const char *const badpool[][2] = {
		{ "id", "\"LocalDefault/10.1.0.0/25\"" },
		{ "id", "7" },
		{ "space", "\"bad space\"" },
		{ "space", "null" },
		{ "pool", "\"10.1.0.0/33\"" },
		{ "pool", "\"10.1.0.1/24\"" },
		{ "pool", "\"10.1.0.0/31\"" },
		{ "pool", "24" },
		{ "subpool", "\"10.2.0.0/28\"" },
		{ "subpool", "\"10.1.0.1/28\"" },
		{ "subpool", "[]" },
		{ "cursor", "\"10.2.0.1\"" },
		{ "cursor", "\"fd00::1\"" },
		{ "cursor", "null" },
		{ "cursor", "\"10.1.0.1/24\"" },
		{ "allocated", "{}" },
		{ "allocated", "[1]" },
		{ "allocated", "[\"10.1.1.1\"]" },
		{ "allocated", "[\"10.1.0.0\"]" },
		{ "allocated", "[\"10.1.0.255\"]" },
		{ "allocated", "[\"10.1.0.250-10.1.0.255\"]" },
		{ "allocated", "[\"10.1.0.5\",\"10.1.0.5\"]" },
		{ "allocated", "[\"10.1.0.2-10.1.0.9\",\"10.1.0.9\"]" },
		{ "allocated", "[\"10.1.0.9-10.1.0.2\"]" },
		{ "allocated", "[\"10.1.0.2-\"]" },
		{ "allocated", "[\"fd00::1\"]" },
		{ "allocated", "[\"garbage\"]" },
	};
	const char *valid = "{\"id\":\"LocalDefault/10.1.0.0/24\","
	    "\"space\":\"LocalDefault\",\"pool\":\"10.1.0.0/24\","
	    "\"subpool\":null,\"cursor\":\"10.1.0.1\","
	    "\"allocated\":[\"10.1.0.1-10.1.0.4\"]}";
	char doc[2048];
	char *before = dump_str(ip), *after;
	json_t *j, *v;

	/* The valid pool itself loads (sanity check of the fixture). */
	snprintf(doc, sizeof(doc), "{\"pools\":[%s]}", valid);
	j = json_loads(doc, 0, NULL);
	ck_assert_ptr_nonnull(j);
	{
		struct ipam *tmp = ipam_new();

		ck_assert_msg(ipam_load(tmp, j, err, ERRLEN) == 0, "%s", err);
		ck_assert_int_eq(ipam_pool_used(tmp,
		    "LocalDefault/10.1.0.0/24"), 4);
		ipam_free(tmp);
	}

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		json_t *d;

		subst(bad[i], valid, doc, sizeof(doc));
		d = json_loads(doc, 0, NULL);
		ck_assert_msg(d != NULL, "fixture %zu", i);
		err[0] = '\0';
		ck_assert_msg(ipam_load(ip, d, err, ERRLEN) == -EINVAL,
		    "accepted %s", doc);
		ck_assert(err[0] != '\0');
		json_decref(d);
	}
	for (size_t i = 0; i < sizeof(badpool) / sizeof(badpool[0]); i++) {
		json_t *d = json_deep_copy(j);
		json_t *p = json_array_get(json_object_get(d, "pools"), 0);

		v = json_loads(badpool[i][1], JSON_DECODE_ANY, NULL);
		ck_assert_ptr_nonnull(v);
		json_object_set_new(p, badpool[i][0], v);
		err[0] = '\0';
		ck_assert_msg(ipam_load(ip, d, err, ERRLEN) == -EINVAL,
		    "accepted %s=%s", badpool[i][0], badpool[i][1]);
		ck_assert(err[0] != '\0');
		json_decref(d);
	}
	/* Missing required keys. */
	{
		static const char *const keys[] = { "id", "space", "pool",
		    "cursor", "allocated" };

		for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
			json_t *d = json_deep_copy(j);

			json_object_del(json_array_get(json_object_get(d,
			    "pools"), 0), keys[i]);
			ck_assert_msg(ipam_load(ip, d, err, ERRLEN) == -EINVAL,
			    "accepted without %s", keys[i]);
			json_decref(d);
		}
	}
	json_decref(j);
	ck_assert_int_eq(ipam_load(ip, NULL, err, ERRLEN), -EINVAL);

	after = dump_str(ip);
	ck_assert_str_eq(before, after);
	ck_assert_uint_eq(ipam_pool_count(ip), 3);
	free(before);
	free(after);
	ipam_free(ip);
}
END_TEST

START_TEST(test_pool_release_rerequest)
{
	struct ipam *ip = ipam_new();
	char id[IPAM_ID_MAX], id2[IPAM_ID_MAX], pfx[PREFIX_STRLEN];
	char err[ERRLEN];

	ck_assert_int_eq(req_pool(ip, NULL, "10.0.0.0/24", "10.0.0.128/25",
	    false, id, NULL, err), 0);
	expect_addr(ip, id, NULL, false, "10.0.0.128/24");
	expect_addr(ip, id, "10.0.0.3", false, "10.0.0.3/24");
	ck_assert_int_eq(req_auto(ip, false, NULL, 0, id2, pfx, err), 0);
	ck_assert_str_eq(pfx, "172.16.0.0/20");
	ck_assert_uint_eq(ipam_pool_count(ip), 2);

	ck_assert_int_eq(ipam_release_pool(ip, id, err, ERRLEN), 0);
	ck_assert_uint_eq(ipam_pool_count(ip), 1);
	ck_assert_int_eq(ipam_pool_used(ip, id), -ENOENT);
	ck_assert_int_eq(ipam_release_pool(ip, id, err, ERRLEN), -ENOENT);
	ck_assert_ptr_nonnull(strstr(err, "not found"));
	ck_assert_int_eq(req_addr(ip, id, NULL, false, NULL, err), -ENOENT);

	/* Same subnet again, with a different range: fresh state. */
	ck_assert_int_eq(req_pool(ip, NULL, "10.0.0.0/24", NULL, false, id,
	    NULL, err), 0);
	ck_assert_str_eq(id, "LocalDefault/10.0.0.0/24");
	ck_assert_int_eq(ipam_pool_used(ip, id), 0);
	expect_addr(ip, id, "10.0.0.3", false, "10.0.0.3/24");
	expect_addr(ip, id, NULL, false, "10.0.0.1/24");

	ck_assert_int_eq(ipam_release_pool(ip, id2, err, ERRLEN), 0);
	ck_assert_int_eq(req_auto(ip, false, NULL, 0, id2, pfx, err), 0);
	ck_assert_str_eq(pfx, "172.16.0.0/20");
	ck_assert_uint_eq(ipam_pool_count(ip), 2);
	ipam_free(ip);
}
END_TEST

Suite *
ipam_suite(void)
{
	Suite *s = suite_create("ipam");
	TCase *tc = tcase_create("pools");
	TCase *ta = tcase_create("addresses");
	TCase *ts = tcase_create("state");

	tcase_add_test(tc, test_explicit_pool);
	tcase_add_test(tc, test_subpool);
	tcase_add_test(tc, test_family_mismatch);
	tcase_add_test(tc, test_host_bits);
	tcase_add_test(tc, test_overlap);
	tcase_add_test(tc, test_auto_pool);
	tcase_add_test(tc, test_auto_exhaustion);
	tcase_add_test(tc, test_auto_fast);
	tcase_add_test(tc, test_parse_defaults);
	tcase_add_test(tc, test_set_defaults_invalid);
	tcase_add_test(tc, test_pool_release_rerequest);
	suite_add_tcase(s, tc);

	tcase_add_test(ta, test_gateway_lowest);
	tcase_add_test(ta, test_specific_address);
	tcase_add_test(ta, test_reserved);
	tcase_add_test(ta, test_next_free_order);
	tcase_add_test(ta, test_exhaust_29);
	tcase_add_test(ta, test_release_errors);
	tcase_add_test(ta, test_ipv6);
	tcase_add_test(ta, test_full_16);
	tcase_set_timeout(ta, 30);
	suite_add_tcase(s, ta);

	tcase_add_test(ts, test_dump_load);
	tcase_add_test(ts, test_load_ranges);
	tcase_add_test(ts, test_load_corrupt);
	tcase_set_timeout(ts, 30);
	suite_add_tcase(s, ts);
	return s;
}
