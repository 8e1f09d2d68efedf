/*
 * What the DNS responders serve (plugin/names.c): the sandboxes planned
 * from the driver's joins, names kept from Engine API updates, the zones
 * built from both, SandboxKey paths; and the DNS settings.
 */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "dns/answer.h"
#include "plugin/names.h"
#include "plugin/settings.h"
#include "tests/unit/helpers.h"
#include "tests/unit/suites.h"

#define NETID3 "c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3"
#define EPA "a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1"
#define EPB "b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2"
#define EPC "c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3"
#define EPD "d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4"
#define CTR1 "1111111111111111111111111111111111111111111111111111111111111111"
#define CTR2 "2222222222222222222222222222222222222222222222222222222222222222"
#define CTR3 "3333333333333333333333333333333333333333333333333333333333333333"

static struct th_env env;

static void
setup(void)
{
	th_env_setup(&env);
}

static void
teardown(void)
{
	th_env_teardown(&env);
}

static void
net(const char *id, const char *pool, const char *gw, bool internal)
{
	struct drv_net_req r = { .enable_ipv4 = true, .internal = internal,
	    .nv4 = 1 };
	char err[256] = "";

	memcpy(r.id, id, NET_ID_LEN + 1);
	ck_assert_int_eq(prefix_parse(pool, &r.v4[0].pool), 0);
	r.v4[0].has_gw = true;
	ck_assert_int_eq(prefix_parse(gw, &r.v4[0].gw), 0);
	ck_assert_msg(drv_create_network(env.drv, &r, err, sizeof(err)) == 0,
	    "%s", err);
}

static void
ep(const char *net_id, const char *ep_id, const char *addr,
    const char *sandbox)
{
	struct drv_ep_req q = { .has_addr4 = true };
	struct drv_ep_reply rep;
	struct drv_join j;
	char err[256] = "";

	memcpy(q.net_id, net_id, NET_ID_LEN + 1);
	memcpy(q.ep_id, ep_id, NET_ID_LEN + 1);
	ck_assert_int_eq(prefix_parse(addr, &q.addr4), 0);
	ck_assert_msg(drv_create_endpoint(env.drv, &q, &rep, err,
	    sizeof(err)) == 0, "%s", err);
	if (sandbox != NULL)
		ck_assert_msg(drv_join(env.drv, net_id, ep_id, sandbox, &j,
		    err, sizeof(err)) == 0, "%s", err);
}

/* Front (10.80.0.0/24) and back (internal, 10.81.0.0/24); sandbox A on
 * both (EPA front, EPB back), B on back only (EPC), EPD created on front
 * but not joined. */
static void
topology(void)
{
	net(TH_NETID1, "10.80.0.0/24", "10.80.0.1/24", false);
	net(TH_NETID2, "10.81.0.0/24", "10.81.0.1/24", true);
	ep(TH_NETID1, EPA, "10.80.0.2/24", "/run/netns/a");
	ep(TH_NETID2, EPB, "10.81.0.2/24", "/run/netns/a");
	ep(TH_NETID2, EPC, "10.81.0.3/24", "/run/netns/b");
	ep(TH_NETID1, EPD, "10.80.0.4/24", NULL);
}

/* An ENG_CONTAINER update for id with one endpoint per (net_id, net_name,
 * ep_id, names...) group; groups end with NULL, the list with NULL. */
static void
ctr_update(struct eng_update *u, const char *id, ...)
{
	va_list ap;
	const char *s;

	memset(u, 0, sizeof(*u));
	u->kind = ENG_CONTAINER;
	memcpy(u->c.id, id, strlen(id) + 1);
	va_start(ap, id);
	while ((s = va_arg(ap, const char *)) != NULL) {
		struct eng_endpoint *e;

		u->c.eps = realloc(u->c.eps, (u->c.neps + 1) * sizeof(*e));
		ck_assert_ptr_nonnull(u->c.eps);
		e = &u->c.eps[u->c.neps++];
		memset(e, 0, sizeof(*e));
		memcpy(e->net_id, s, strlen(s) + 1);
		s = va_arg(ap, const char *);
		memcpy(e->net_name, s, strlen(s) + 1);
		s = va_arg(ap, const char *);
		memcpy(e->ep_id, s, strlen(s) + 1);
		while ((s = va_arg(ap, const char *)) != NULL) {
			e->names = realloc(e->names,
			    (e->nnames + 1) * sizeof(char *));
			ck_assert_ptr_nonnull(e->names);
			e->names[e->nnames++] = strdup(s);
		}
	}
	va_end(ap);
}

static void
apply(struct names *n, struct eng_update *u, bool changed)
{
	ck_assert_int_eq(names_apply(n, u), changed);
	eng_container_done(&u->c);
}

static void
simple(struct names *n, enum eng_kind k, const char *id, bool changed)
{
	struct eng_update u = { .kind = k };

	if (id != NULL)
		memcpy(u.c.id, id, strlen(id) + 1);
	apply(n, &u, changed);
}

/* The names of the topology: c1 on front (EPA) and back (EPB), c3 on
 * back (EPC); one name of c1 cannot be served. */
static struct names *
known_names(void)
{
	struct names *n = names_new();
	struct eng_update u;

	ck_assert_ptr_nonnull(n);
	ctr_update(&u, CTR1, TH_NETID1, "front", EPA, "c1", "web", "bad name!",
	    "111111111111", NULL, TH_NETID2, "back", EPB, "c1", "db-client",
	    NULL, NULL);
	apply(n, &u, true);
	ctr_update(&u, CTR3, TH_NETID2, "back", EPC, "c3", NULL, NULL);
	apply(n, &u, true);
	return n;
}

static const char *
addr4(const struct dns_zone *z, const char *name, char *buf)
{
	struct dns_addrs a;

	if (dns_zone_lookup(z, name, &a) < 0)
		return "none";
	ck_assert_uint_ge(a.n4, 1);
	return inet_ntop(AF_INET, &a.a4[0], buf, INET_ADDRSTRLEN);
}

START_TEST(plan_groups_joins_by_sandbox)
{
	struct sbx_want *w = NULL;
	size_t n = 0;

	topology();
	ck_assert_int_eq(names_plan(env.drv, &w, &n), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(w[0].key, "/run/netns/a");
	ck_assert_uint_eq(w[0].neps, 2);
	ck_assert_str_eq(w[0].eps[0]->id, EPA);
	ck_assert_str_eq(w[0].eps[1]->id, EPB);
	ck_assert(!w[0].internal_only);
	ck_assert_str_eq(w[0].sig, TH_NETID1 "," TH_NETID2 ",");
	ck_assert_str_eq(w[1].key, "/run/netns/b");
	ck_assert_uint_eq(w[1].neps, 1);
	ck_assert(w[1].internal_only);
	names_plan_free(w, n);
}
END_TEST

START_TEST(plan_follows_leave)
{
	struct sbx_want *w = NULL;
	size_t n = 0;
	char err[256];

	topology();
	ck_assert_int_eq(drv_leave(env.drv, TH_NETID2, EPC, err,
	    sizeof(err)), 0);
	ck_assert_int_eq(drv_leave(env.drv, TH_NETID1, EPA, err,
	    sizeof(err)), 0);
	ck_assert_int_eq(names_plan(env.drv, &w, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(w[0].neps, 1);
	/* Only the internal network is left: no forwarding. */
	ck_assert(w[0].internal_only);
	names_plan_free(w, n);
}
END_TEST

START_TEST(zone_scoped_to_the_sandbox_networks)
{
	struct names *nm;
	struct sbx_want *w = NULL;
	struct dns_zone *za, *zb;
	struct dns_addrs a;
	char err[256] = "", buf[INET_ADDRSTRLEN];
	size_t n = 0;

	topology();
	nm = known_names();
	ck_assert_int_eq(names_plan(env.drv, &w, &n), 0);
	za = names_zone(nm, env.drv, &w[0], 60, err, sizeof(err));
	zb = names_zone(nm, env.drv, &w[1], 60, err, sizeof(err));
	ck_assert_ptr_nonnull(za);
	ck_assert_ptr_nonnull(zb);
	/* Sandbox A: front first (its first endpoint), then back. */
	ck_assert_str_eq(addr4(za, "c1", buf), "10.80.0.2");
	ck_assert_str_eq(addr4(za, "WEB", buf), "10.80.0.2");
	ck_assert_str_eq(addr4(za, "111111111111", buf), "10.80.0.2");
	ck_assert_str_eq(addr4(za, "c1.back", buf), "10.81.0.2");
	ck_assert_str_eq(addr4(za, "db-client", buf), "10.81.0.2");
	ck_assert_str_eq(addr4(za, "c3", buf), "10.81.0.3");
	ck_assert_str_eq(addr4(za, "c3.back", buf), "10.81.0.3");
	ck_assert_int_eq(dns_zone_lookup(za, "c3.front", &a), -ENOENT);
	ck_assert_int_eq(dns_zone_lookup(za, "bad name!", &a), -ENOENT);
	ck_assert_uint_eq(dns_zone_ttl(za), 60);
	/* The PTR target is the container's name on that network. */
	{
		struct in_addr ip;

		inet_pton(AF_INET, "10.81.0.3", &ip);
		ck_assert_str_eq(dns_zone_ptr(za, AF_INET, &ip), "c3.back.");
	}
	/* Sandbox B sees only back. */
	ck_assert_str_eq(addr4(zb, "c1", buf), "10.81.0.2");
	ck_assert_int_eq(dns_zone_lookup(zb, "web", &a), -ENOENT);
	ck_assert_int_eq(dns_zone_lookup(zb, "c1.front", &a), -ENOENT);
	dns_zone_free(za);
	dns_zone_free(zb);
	names_plan_free(w, n);
	names_free(nm);
}
END_TEST

START_TEST(zone_uses_the_driver_addresses)
{
	struct names *nm = names_new();
	struct sbx_want *w = NULL;
	struct dns_zone *z;
	struct eng_update u;
	struct dns_addrs a;
	char err[256] = "", buf[INET_ADDRSTRLEN];
	size_t n = 0;

	topology();
	/* An endpoint the driver does not have, and one not joined. */
	ctr_update(&u, CTR2, TH_NETID1, "front", EPD, "c4", NULL,
	    TH_NETID1, "front", "ffff", "ghost", NULL, NULL);
	apply(nm, &u, true);
	ck_assert_int_eq(names_plan(env.drv, &w, &n), 0);
	z = names_zone(nm, env.drv, &w[0], 600, err, sizeof(err));
	ck_assert_ptr_nonnull(z);
	ck_assert_int_eq(dns_zone_lookup(z, "c4", &a), -ENOENT);
	ck_assert_int_eq(dns_zone_lookup(z, "ghost", &a), -ENOENT);
	/* No names known for the network: nothing, and no failure. */
	ck_assert_str_eq(addr4(z, "c1", buf), "none");
	dns_zone_free(z);
	names_plan_free(w, n);
	names_free(nm);
}
END_TEST

START_TEST(apply_sync_forgets_the_unlisted)
{
	struct names *nm = known_names();
	struct eng_update u;

	ck_assert_uint_eq(names_container_count(nm), 2);
	ck_assert_ptr_nonnull(names_endpoint(nm, EPC));
	simple(nm, ENG_SYNC_BEGIN, NULL, false);
	ctr_update(&u, CTR1, TH_NETID1, "front", EPA, "c1", NULL, NULL);
	apply(nm, &u, true);
	simple(nm, ENG_SYNC_END, NULL, true);
	ck_assert_uint_eq(names_container_count(nm), 1);
	ck_assert_ptr_null(names_endpoint(nm, EPC));
	/* c1 was replaced whole: its back endpoint went. */
	ck_assert_ptr_null(names_endpoint(nm, EPB));
	ck_assert_str_eq(names_endpoint(nm, EPA)->names[0], "c1");
	/* The API going down keeps what is known. */
	simple(nm, ENG_DOWN, NULL, false);
	ck_assert_uint_eq(names_container_count(nm), 1);
	/* A SYNC_END without a SYNC_BEGIN forgets nothing. */
	simple(nm, ENG_SYNC_END, NULL, false);
	ck_assert_uint_eq(names_container_count(nm), 1);
	simple(nm, ENG_REMOVED, CTR3, false);
	simple(nm, ENG_REMOVED, CTR1, true);
	ck_assert_uint_eq(names_container_count(nm), 0);
	ck_assert_ptr_null(names_endpoint(nm, EPA));
	names_free(nm);
}
END_TEST

START_TEST(valid_names)
{
	char label[70], longname[300];

	ck_assert(names_valid("c1"));
	ck_assert(names_valid("my_app-1.example"));
	ck_assert(!names_valid(""));
	ck_assert(!names_valid("a..b"));
	ck_assert(!names_valid(".a"));
	ck_assert(!names_valid("a."));
	ck_assert(!names_valid("bad name"));
	ck_assert(!names_valid("caf\xc3\xa9"));
	memset(label, 'x', 64);
	label[64] = '\0';
	ck_assert(!names_valid(label));
	label[63] = '\0';
	ck_assert(names_valid(label));
	memset(longname, 'a', sizeof(longname));
	for (int i = 50; i < 300; i += 51)
		longname[i] = '.';
	longname[254] = '\0';
	ck_assert(!names_valid(longname));
	longname[253] = '\0';
	ck_assert(names_valid(longname));
}
END_TEST

START_TEST(sandbox_paths)
{
	char buf[256];

	ck_assert_int_eq(names_sandbox_path("/var/run/docker/netns/abc",
	    "", "", buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "/var/run/docker/netns/abc");
	ck_assert_int_eq(names_sandbox_path("/var/run/docker/netns/abc",
	    "/var/run/docker", "/host/docker-exec", buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "/host/docker-exec/netns/abc");
	/* /var/run and /run are one directory. */
	ck_assert_int_eq(names_sandbox_path("/run/docker/netns/abc",
	    "/var/run/docker", "/host/docker-exec", buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "/host/docker-exec/netns/abc");
	ck_assert_int_eq(names_sandbox_path("/var/run/docker/netns/abc",
	    "/run/docker", "/host/docker-exec", buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "/host/docker-exec/netns/abc");
	/* Only whole path components match. */
	ck_assert_int_eq(names_sandbox_path("/var/run/docker2/netns/abc",
	    "/var/run/docker", "/host/docker-exec", buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "/var/run/docker2/netns/abc");
	ck_assert_int_eq(names_sandbox_path("/var/run/docker/netns/abc",
	    "/var/run/docker", "/host/docker-exec", buf, 10), -ENAMETOOLONG);
}
END_TEST

static const char *const *test_env;

static const char *
getenv_test(const char *name)
{
	for (size_t i = 0; test_env[i] != NULL; i += 2)
		if (strcmp(test_env[i], name) == 0)
			return test_env[i + 1];
	return NULL;
}

static int
load(const char *const *vars, struct settings *s, char *err, size_t errlen)
{
	char *argv[] = { "cbridge", NULL };

	test_env = vars;
	return settings_load(1, argv, getenv_test, s, err, errlen);
}

START_TEST(dns_settings_defaults_and_values)
{
	static const char *const none[] = { NULL };
	static const char *const some[] = { "DNS_ADDRESS", "fd00:53::53",
	    "DNS_UPSTREAMS", "192.0.2.1, [2001:db8::1]:5353",
	    "DNS_FORWARD_FROM", "sandbox", "DNS_TTL", "0",
	    "DNS_CACHE_SIZE", "0", "DOCKER_SOCKET", "off",
	    "DOCKER_EXEC_ROOT", "/var/run/docker/",
	    "DOCKER_EXEC_ROOT_MOUNT", "/host/docker-exec", NULL };
	static const char *const off[] = { "DNS_ADDRESS", "off", NULL };
	struct settings s;
	char err[256] = "";

	ck_assert_int_eq(load(none, &s, err, sizeof(err)), 0);
	ck_assert(s.dns_enabled);
	ck_assert_str_eq(s.dns_address, "169.254.53.53");
	ck_assert_int_eq(s.dns_addr.ss_family, AF_INET);
	ck_assert_ptr_null(s.dns_upstreams);
	ck_assert(!s.dns_from_sandbox);
	ck_assert_uint_eq(s.dns_ttl, 600);
	ck_assert_uint_eq(s.dns_cache, SET_DEFAULT_DNS_CACHE);
	ck_assert_str_eq(s.resolv_conf, "/etc/resolv.conf");
	ck_assert_str_eq(s.docker_socket, "/var/run/docker.sock");
	ck_assert_str_eq(s.exec_root, "");
	ck_assert_int_eq(load(some, &s, err, sizeof(err)), 0);
	ck_assert_int_eq(s.dns_addr.ss_family, AF_INET6);
	ck_assert_uint_eq(ntohs(((struct sockaddr_in6 *)&s.dns_addr)->
	    sin6_port), 53);
	ck_assert(s.dns_from_sandbox);
	ck_assert_uint_eq(s.dns_ttl, 0);
	ck_assert_uint_eq(s.dns_cache, 0);
	ck_assert_str_eq(s.docker_socket, "");
	ck_assert_str_eq(s.exec_root, "/var/run/docker");
	ck_assert_int_eq(load(off, &s, err, sizeof(err)), 0);
	ck_assert(!s.dns_enabled);
}
END_TEST

START_TEST(dns_settings_refused)
{
	static const char *const bad[][3] = {
		{ "DNS_ADDRESS", "169.254.53", "not an IPv4 or IPv6" },
		{ "DNS_ADDRESS", "0.0.0.0", "unicast" },
		{ "DNS_ADDRESS", "ff02::1", "unicast" },
		{ "DNS_UPSTREAMS", "resolver.example", "not an IP address" },
		{ "DNS_UPSTREAMS", "1.1.1.1,2.2.2.2,3.3.3.3,4.4.4.4", "3" },
		{ "DNS_FORWARD_FROM", "container", "'host' or 'sandbox'" },
		{ "DNS_TTL", "-1", "DNS_TTL" },
		{ "DNS_TTL", "2147483648", "DNS_TTL" },
		{ "DNS_CACHE_SIZE", "lots", "DNS_CACHE_SIZE" },
		{ "DNS_RESOLV_CONF", "etc/resolv.conf", "absolute" },
		{ "DOCKER_EXEC_ROOT", "/var/run/docker", "go together" },
	};
	struct settings s;
	char err[256];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *vars[] = { bad[i][0], bad[i][1], NULL };

		err[0] = '\0';
		ck_assert_msg(load(vars, &s, err, sizeof(err)) == -EINVAL,
		    "%s=%s accepted", bad[i][0], bad[i][1]);
		ck_assert_msg(strstr(err, bad[i][2]) != NULL,
		    "%s=%s: '%s' lacks '%s'", bad[i][0], bad[i][1], err,
		    bad[i][2]);
	}
}
END_TEST

Suite *
names_suite(void)
{
	Suite *s = suite_create("names");
	TCase *tc = tcase_create("names");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, plan_groups_joins_by_sandbox);
	tcase_add_test(tc, plan_follows_leave);
	tcase_add_test(tc, zone_scoped_to_the_sandbox_networks);
	tcase_add_test(tc, zone_uses_the_driver_addresses);
	tcase_add_test(tc, apply_sync_forgets_the_unlisted);
	tcase_add_test(tc, valid_names);
	tcase_add_test(tc, sandbox_paths);
	tcase_add_test(tc, dns_settings_defaults_and_values);
	tcase_add_test(tc, dns_settings_refused);
	suite_add_tcase(s, tc);
	return s;
}
