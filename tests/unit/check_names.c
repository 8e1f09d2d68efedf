/*
 * What the DNS responders serve (plugin/names.c): the sandboxes planned
 * from the driver's joins, names kept from Engine API updates, the zones
 * built from both, SandboxKey paths; and the DNS settings.
 */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns/answer.h"
#include "plugin/names.h"
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
#define CTR4 "4444444444444444444444444444444444444444444444444444444444444444"
#define CTR5 "5555555555555555555555555555555555555555555555555555555555555555"
#define CTR6 "6666666666666666666666666666666666666666666666666666666666666666"
#define CTR7 "7777777777777777777777777777777777777777777777777777777777777777"
#define CTR8 "8888888888888888888888888888888888888888888888888888888888888888"
/* Networks of other drivers: a user-defined one and the default bridge. */
#define NETO "e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5"
#define NETB "b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0"
#define EPE "e6e6e6e6e6e6e6e6e6e6e6e6e6e6e6e6e6e6e6e6e6e6e6e6e6e6e6e6e6e6e6e6"
#define EPF "f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7"

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

/* u's container runs in the sandbox key; its name is its first one. */
static void
at(struct eng_update *u, const char *key)
{
	u->c.running = true;
	u->c.pid = 4242;
	(void) snprintf(u->c.sandbox_key, sizeof(u->c.sandbox_key), "%s", key);
	if (u->c.neps > 0 && u->c.eps[0].nnames > 0)
		(void) snprintf(u->c.name, sizeof(u->c.name), "%s",
		    u->c.eps[0].names[0]);
}

/* The Engine API's addresses of u's endpoint i (NULL: none). */
static void
addrs(struct eng_update *u, size_t i, const char *a4, const char *a6)
{
	struct eng_endpoint *e = &u->c.eps[i];

	ck_assert_uint_lt(i, u->c.neps);
	e->has_addr4 = a4 != NULL;
	e->has_addr6 = a6 != NULL;
	if (a4 != NULL)
		ck_assert_int_eq(inet_pton(AF_INET, a4, &e->addr4), 1);
	if (a6 != NULL)
		ck_assert_int_eq(inet_pton(AF_INET6, a6, &e->addr6), 1);
}

/* A link of u's endpoint i: alias stands for target. */
static void
link_to(struct eng_update *u, size_t i, const char *target,
    const char *alias)
{
	struct eng_endpoint *e = &u->c.eps[i];

	e->links = realloc(e->links, (e->nlinks + 1) * sizeof(*e->links));
	ck_assert_ptr_nonnull(e->links);
	e->links[e->nlinks].target = strdup(target);
	e->links[e->nlinks++].alias = strdup(alias);
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
	ck_assert_int_eq(names_plan(NULL, env.drv, &w, &n), 0);
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
	ck_assert_int_eq(names_plan(NULL, env.drv, &w, &n), 0);
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
	ck_assert_int_eq(names_plan(nm, env.drv, &w, &n), 0);
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
	ck_assert_int_eq(names_plan(nm, env.drv, &w, &n), 0);
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

static const char *
addr6(const struct dns_zone *z, const char *name, char *buf)
{
	struct dns_addrs a;

	if (dns_zone_lookup(z, name, &a) < 0 || a.n6 == 0)
		return "none";
	return inet_ntop(AF_INET6, &a.a6[0], buf, INET6_ADDRSTRLEN);
}

/* The topology, and beyond cbridge: c1 (sandbox A) is also on "other"
 * (another driver's user-defined network) and on the default bridge;
 * c5 on "other" only and c6 on the bridge only, in sandboxes cbridge has
 * no endpoint in. */
static struct names *
mixed_names(void)
{
	struct names *n = names_new();
	struct eng_update u;

	ck_assert_ptr_nonnull(n);
	ctr_update(&u, CTR1, TH_NETID1, "front", EPA, "c1", "web", NULL,
	    TH_NETID2, "back", EPB, "c1", NULL, NETO, "other", "o1", "c1",
	    "111111111111", NULL, NETB, "bridge", "b1", "c1", NULL, NULL);
	at(&u, "/run/netns/a");
	addrs(&u, 2, "172.20.0.2", "fd00:20::2");
	addrs(&u, 3, "172.17.0.2", NULL);
	/* A legacy link: /etc/hosts only. */
	link_to(&u, 3, "c6", "legacy");
	apply(n, &u, true);
	ctr_update(&u, CTR3, TH_NETID2, "back", EPC, "c3", NULL, NULL);
	at(&u, "/run/netns/b");
	apply(n, &u, true);
	ctr_update(&u, CTR5, NETO, "other", "o5", "c5", "cache", NULL, NULL);
	at(&u, "/run/netns/e");
	addrs(&u, 0, "172.20.0.5", "fd00:20::5");
	apply(n, &u, true);
	ctr_update(&u, CTR6, NETB, "bridge", "b6", "c6", NULL, NULL);
	at(&u, "/run/netns/f");
	addrs(&u, 0, "172.17.0.6", NULL);
	apply(n, &u, true);
	return n;
}

START_TEST(zone_spans_other_drivers_networks)
{
	struct names *nm;
	struct sbx_want *w = NULL;
	struct dns_zone *za, *zb;
	char err[256] = "", buf[INET6_ADDRSTRLEN];
	struct in_addr ip;
	size_t n = 0;

	topology();
	nm = mixed_names();
	ck_assert_int_eq(names_plan(nm, env.drv, &w, &n), 0);
	ck_assert_uint_eq(n, 2);
	/* cbridge's networks first, then the Engine API's others, once. */
	ck_assert_uint_eq(w[0].neps, 2);
	ck_assert_uint_eq(w[0].nnets, 4);
	ck_assert_str_eq(w[0].nets[0].net_id, TH_NETID1);
	ck_assert_str_eq(w[0].nets[0].name, "front");
	ck_assert_ptr_eq(w[0].nets[0].ep, w[0].eps[0]);
	ck_assert_str_eq(w[0].nets[0].x->ep_id, EPA);
	ck_assert_str_eq(w[0].nets[1].name, "back");
	ck_assert_str_eq(w[0].nets[2].net_id, NETO);
	ck_assert_str_eq(w[0].nets[2].name, "other");
	ck_assert_ptr_null(w[0].nets[2].ep);
	ck_assert_str_eq(w[0].nets[2].x->ep_id, "o1");
	ck_assert_str_eq(w[0].nets[3].name, "bridge");
	ck_assert(!w[0].internal_only);
	ck_assert_str_eq(w[0].sig, TH_NETID1 "," TH_NETID2 "," NETO "," NETB
	    ",");
	/* B: only the internal cbridge network, nothing else. */
	ck_assert_uint_eq(w[1].nnets, 1);
	ck_assert(w[1].internal_only);

	za = names_zone(nm, env.drv, &w[0], 60, err, sizeof(err));
	zb = names_zone(nm, env.drv, &w[1], 60, err, sizeof(err));
	ck_assert_msg(za != NULL && zb != NULL, "%s", err);
	/* cbridge networks: the driver's addresses, as before. */
	ck_assert_str_eq(addr4(za, "c1", buf), "10.80.0.2");
	ck_assert_str_eq(addr4(za, "c3", buf), "10.81.0.3");
	/* The other driver's network: the Engine API's addresses. */
	ck_assert_str_eq(addr4(za, "c5", buf), "172.20.0.5");
	ck_assert_str_eq(addr6(za, "c5", buf), "fd00:20::5");
	ck_assert_str_eq(addr4(za, "cache", buf), "172.20.0.5");
	ck_assert_str_eq(addr4(za, "c5.other", buf), "172.20.0.5");
	ck_assert_str_eq(addr4(za, "c1.other", buf), "172.20.0.2");
	ck_assert_str_eq(addr6(za, "111111111111.other", buf), "fd00:20::2");
	inet_pton(AF_INET, "172.20.0.5", &ip);
	ck_assert_str_eq(dns_zone_ptr(za, AF_INET, &ip), "c5.other.");
	/* The default bridge serves nothing, legacy links neither. */
	ck_assert_str_eq(addr4(za, "c6", buf), "none");
	ck_assert_str_eq(addr4(za, "c6.bridge", buf), "none");
	ck_assert_str_eq(addr4(za, "c1.bridge", buf), "none");
	ck_assert_str_eq(addr4(za, "legacy", buf), "none");
	inet_pton(AF_INET, "172.17.0.6", &ip);
	ck_assert_ptr_null(dns_zone_ptr(za, AF_INET, &ip));
	/* B is not on "other". */
	ck_assert_str_eq(addr4(zb, "c5", buf), "none");
	ck_assert_str_eq(addr4(zb, "c1", buf), "10.81.0.2");
	dns_zone_free(za);
	dns_zone_free(zb);
	names_plan_free(w, n);

	/* c3 on the default bridge too: a way out that B's internal
	 * network does not close, so B forwards. */
	{
		struct eng_update u;

		ctr_update(&u, CTR3, TH_NETID2, "back", EPC, "c3", NULL, NETB,
		    "bridge", "b3", "c3", NULL, NULL);
		at(&u, "/run/netns/b");
		apply(nm, &u, true);
	}
	ck_assert_int_eq(names_plan(nm, env.drv, &w, &n), 0);
	ck_assert_uint_eq(w[1].nnets, 2);
	ck_assert(!w[1].internal_only);
	names_plan_free(w, n);
	names_free(nm);
}
END_TEST

START_TEST(engine_networks_need_a_running_container)
{
	struct names *nm = names_new();
	struct sbx_want *w = NULL;
	struct eng_update u;
	size_t n = 0;

	topology();
	/* Stopped, its old key still set (dockerd 20.10 keeps it). */
	ctr_update(&u, CTR3, TH_NETID2, "back", EPC, "c3", NULL, NETO,
	    "other", "o3", "c3", NULL, NULL);
	at(&u, "/run/netns/b");
	u.c.running = false;
	apply(nm, &u, true);
	/* Another container claims a cbridge network of A in the Engine
	 * API without a driver join there: not taken. */
	ctr_update(&u, CTR4, TH_NETID1, "front", "x4", "c4", NULL, NULL);
	at(&u, "/run/netns/b");
	apply(nm, &u, true);
	ck_assert_int_eq(names_plan(nm, env.drv, &w, &n), 0);
	ck_assert_uint_eq(w[1].nnets, 1);
	ck_assert_str_eq(w[1].nets[0].net_id, TH_NETID2);
	ck_assert(w[1].internal_only);
	names_plan_free(w, n);
	names_free(nm);
}
END_TEST

START_TEST(link_alias_only_where_declared)
{
	struct names *nm = names_new();
	struct sbx_want *w = NULL;
	struct dns_zone *za, *zc;
	struct eng_update u;
	struct in_addr ip;
	char err[256] = "", buf[INET6_ADDRSTRLEN];
	size_t n = 0;

	topology();
	/* Sandbox C on the same networks as A. */
	ep(TH_NETID1, EPE, "10.80.0.5/24", "/run/netns/c");
	ep(TH_NETID2, EPF, "10.81.0.5/24", "/run/netns/c");
	/* c1 (A) links c3 as db and as c7 on back, and c3 as cache on front,
	 * where c3 is not: nothing to answer, and it still hides the
	 * container named cache there, as in Docker. */
	ctr_update(&u, CTR1, TH_NETID1, "front", EPA, "c1", NULL, TH_NETID2,
	    "back", EPB, "c1", NULL, NULL);
	at(&u, "/run/netns/a");
	link_to(&u, 1, "c3", "db");
	link_to(&u, 1, "C3", "c7");
	link_to(&u, 0, "c3", "cache");
	link_to(&u, 0, "bad name", "x");
	apply(nm, &u, true);
	ctr_update(&u, CTR3, TH_NETID2, "back", EPC, "c3", NULL, NULL);
	at(&u, "/run/netns/b");
	apply(nm, &u, true);
	/* c7 (C): cache on front, db on back. */
	ctr_update(&u, CTR7, TH_NETID1, "front", EPE, "c7", "cache", NULL,
	    TH_NETID2, "back", EPF, "c7", "db", NULL, NULL);
	at(&u, "/run/netns/c");
	apply(nm, &u, true);

	ck_assert_int_eq(names_plan(nm, env.drv, &w, &n), 0);
	ck_assert_uint_eq(n, 3);
	ck_assert_str_eq(w[0].key, "/run/netns/a");
	ck_assert_str_eq(w[2].key, "/run/netns/c");
	/* Same networks, different links: different zones. */
	ck_assert_str_eq(w[0].sig, TH_NETID1 "/cache=c3," TH_NETID2
	    "/db=c3/c7=C3,");
	ck_assert_str_eq(w[2].sig, TH_NETID1 "," TH_NETID2 ",");
	za = names_zone(nm, env.drv, &w[0], 60, err, sizeof(err));
	zc = names_zone(nm, env.drv, &w[2], 60, err, sizeof(err));
	ck_assert_msg(za != NULL && zc != NULL, "%s", err);
	/* In A the aliases are c3's address on back, over c7's names; in C
	 * they are c7's. */
	ck_assert_str_eq(addr4(za, "db", buf), "10.81.0.3");
	ck_assert_str_eq(addr4(za, "DB.back", buf), "10.81.0.3");
	ck_assert_str_eq(addr4(za, "c7.back", buf), "10.81.0.3");
	ck_assert_str_eq(addr4(zc, "db", buf), "10.81.0.5");
	ck_assert_str_eq(addr4(zc, "c7.back", buf), "10.81.0.5");
	/* PTR names stay the containers' own. */
	inet_pton(AF_INET, "10.81.0.3", &ip);
	ck_assert_str_eq(dns_zone_ptr(za, AF_INET, &ip), "c3.back.");
	inet_pton(AF_INET, "10.81.0.5", &ip);
	ck_assert_str_eq(dns_zone_ptr(zc, AF_INET, &ip), "c7.back.");
	/* "cache": hidden in A by an alias without a target there. */
	ck_assert_str_eq(addr4(za, "cache", buf), "none");
	ck_assert_str_eq(addr4(za, "cache.front", buf), "none");
	ck_assert_str_eq(addr4(zc, "cache", buf), "10.80.0.5");
	ck_assert_str_eq(addr4(za, "x", buf), "none");
	names_plan_free(w, n);
	dns_zone_free(za);
	dns_zone_free(zc);

	/* c7 declares the same links: one zone for both again. */
	ctr_update(&u, CTR7, TH_NETID1, "front", EPE, "c7", "cache", NULL,
	    TH_NETID2, "back", EPF, "c7", "db", NULL, NULL);
	at(&u, "/run/netns/c");
	link_to(&u, 1, "c3", "db");
	link_to(&u, 1, "C3", "c7");
	link_to(&u, 0, "c3", "cache");
	apply(nm, &u, true);
	ck_assert_int_eq(names_plan(nm, env.drv, &w, &n), 0);
	ck_assert_str_eq(w[0].sig, w[2].sig);
	ck_assert_str_ne(w[0].sig, w[1].sig);
	names_plan_free(w, n);
	names_free(nm);
}
END_TEST

START_TEST(containers_at_a_sandbox)
{
	struct names *nm = names_new();
	const struct eng_container *got[4];
	struct eng_update u;

	ctr_update(&u, CTR1, NETO, "other", "o1", "c1", NULL, NULL);
	at(&u, "/run/netns/a");
	memcpy(u.c.dns[0], "192.0.2.53", 11);
	u.c.ndns = 1;
	apply(nm, &u, true);
	/* Sharing c1's namespace by name and by ID prefix. */
	ctr_update(&u, CTR2, NULL);
	u.c.running = true;
	memcpy(u.c.name, "s2", 3);
	memcpy(u.c.net_container, "c1", 3);
	apply(nm, &u, true);
	ctr_update(&u, CTR3, NULL);
	u.c.running = true;
	memcpy(u.c.net_container, "1111111111", 11);
	apply(nm, &u, true);
	/* Stopped ones, at the key or sharing; a sharer of another. */
	ctr_update(&u, CTR4, NULL);
	at(&u, "/run/netns/a");
	u.c.running = false;
	apply(nm, &u, true);
	ctr_update(&u, CTR5, NULL);
	memcpy(u.c.net_container, "c1", 3);
	apply(nm, &u, true);
	ctr_update(&u, CTR6, NULL);
	u.c.running = true;
	memcpy(u.c.net_container, "c9", 3);
	apply(nm, &u, true);
	ctr_update(&u, CTR7, NULL);
	at(&u, "/run/netns/b");
	apply(nm, &u, true);

	ck_assert_uint_eq(names_containers_at(nm, "/run/netns/a", got, 4), 3);
	ck_assert_str_eq(got[0]->id, CTR1);
	ck_assert_int_eq(got[0]->pid, 4242);
	ck_assert_str_eq(got[0]->dns[0], "192.0.2.53");
	ck_assert_str_eq(got[1]->name, "s2");
	ck_assert_str_eq(got[2]->id, CTR3);
	/* The count even when ret is too small. */
	got[1] = NULL;
	ck_assert_uint_eq(names_containers_at(nm, "/run/netns/a", got, 1), 3);
	ck_assert_ptr_null(got[1]);
	ck_assert_uint_eq(names_containers_at(nm, "/run/netns/b", got, 4), 1);
	ck_assert_str_eq(got[0]->id, CTR7);
	ck_assert_uint_eq(names_containers_at(nm, "/run/netns/x", got, 4), 0);
	ck_assert_uint_eq(names_containers_at(nm, "", got, 4), 0);
	ck_assert_uint_eq(names_containers_at(NULL, "/run/netns/a", got, 4),
	    0);
	/* An update replaces; a removal forgets. */
	ctr_update(&u, CTR1, NULL);
	at(&u, "/run/netns/z");
	memcpy(u.c.name, "c1", 3);
	apply(nm, &u, true);
	ck_assert_uint_eq(names_containers_at(nm, "/run/netns/a", got, 4), 0);
	ck_assert_uint_eq(names_containers_at(nm, "/run/netns/z", got, 4), 3);
	simple(nm, ENG_REMOVED, CTR2, true);
	ck_assert_uint_eq(names_containers_at(nm, "/run/netns/z", got, 4), 2);
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
	tcase_add_test(tc, zone_spans_other_drivers_networks);
	tcase_add_test(tc, engine_networks_need_a_running_container);
	tcase_add_test(tc, link_alias_only_where_declared);
	tcase_add_test(tc, containers_at_a_sandbox);
	tcase_add_test(tc, apply_sync_forgets_the_unlisted);
	tcase_add_test(tc, valid_names);
	tcase_add_test(tc, sandbox_paths);
	suite_add_tcase(s, tc);
	return s;
}
