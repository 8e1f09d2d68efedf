/*
 * firewall/: the pure planner, the reader of nft's JSON output (on output
 * captured from nft 1.0.6 and iptables-nft 1.8.9), the shared checks and the
 * fake.  The nft backend itself is tested in tests/integration/firewall.sh.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <check.h>

#include "firewall/common.h"
#include "firewall/firewall.h"
#include "tests/unit/suites.h"

#define ID1 "5f1c0a7e9b2d44c18e3f6a0b7c9d2e4f1a3b5c7d9e0f2a4b6c8d0e1f3a5b7c9d"
#define ID2 "a3e900000000000000000000000000000000000000000000000000000000071b"
#define ID3 "0000000000000000000000000000000000000000000000000000000000000003"
#define DU FW_CHAIN_DOCKER_USER
#define FWD FW_CHAIN_FORWARD

static const struct fw_host NONE = { 0 };
static const struct fw_host TABLE_ONLY = { .has_table = true };
static const struct fw_host BOTH = { .has_table = true,
    .has_docker_user = true, .has_forward = true };
static const struct fw_host FWD_ONLY = { .has_table = true,
    .has_forward = true };

static struct fw_net
N(const char *id, const char *br, bool v4, bool v6, bool icc)
{
	struct fw_net n;

	memset(&n, 0, sizeof(n));
	(void) snprintf(n.id, sizeof(n.id), "%s", id);
	(void) snprintf(n.bridge, sizeof(n.bridge), "%s", br);
	n.ipv4 = v4;
	n.ipv6 = v6;
	n.icc = icc;
	return n;
}

static struct fw_rule
R(int fam, const char *chain, const char *id, const char *br,
    unsigned long long handle)
{
	struct fw_rule r;

	memset(&r, 0, sizeof(r));
	r.family = fam;
	(void) snprintf(r.chain, sizeof(r.chain), "%s", chain);
	(void) snprintf(r.id, sizeof(r.id), "%s", id);
	(void) snprintf(r.iif, sizeof(r.iif), "%s", br);
	(void) snprintf(r.oif, sizeof(r.oif), "%s", br);
	r.handle = handle;
	return r;
}

static void
check_rule(const struct fw_rule *r, int fam, const char *chain,
    const char *id, const char *br, unsigned long long handle)
{
	ck_assert_int_eq(r->family, fam);
	ck_assert_str_eq(r->chain, chain);
	ck_assert_str_eq(r->id, id);
	ck_assert_str_eq(r->iif, br);
	ck_assert_str_eq(r->oif, br);
	ck_assert_uint_eq(r->handle, handle);
}

/* Computes the plan and checks that it succeeded. */
static struct fw_plan
plan(const struct fw_net *nets, size_t n, const struct fw_host *h4,
    const struct fw_host *h6, const struct fw_rule *cur, size_t ncur)
{
	struct fw_plan p;

	memset(&p, 0, sizeof(p));
	ck_assert_int_eq(fw_plan_compute(nets, n, h4, h6, cur, ncur, &p), 0);
	return p;
}

static void
check_empty(struct fw_plan *p)
{
	ck_assert_uint_eq(p->nadd, 0);
	ck_assert_uint_eq(p->ndel, 0);
	fw_plan_done(p);
}

/* A plan applied: cur minus del plus add (handles from next_handle). */
static size_t
apply_plan(struct fw_rule *cur, size_t ncur, const struct fw_plan *p,
    unsigned long long *next_handle)
{
	size_t n = 0;

	for (size_t i = 0; i < ncur; i++) {
		bool gone = false;

		for (size_t j = 0; j < p->ndel && !gone; j++)
			gone = p->del[j].handle == cur[i].handle &&
			    p->del[j].family == cur[i].family;
		if (!gone)
			cur[n++] = cur[i];
	}
	for (size_t i = 0; i < p->nadd; i++) {
		cur[n] = p->add[i];
		cur[n++].handle = (*next_handle)++;
	}
	return n;
}

START_TEST(no_table_nothing)
{
	struct fw_net nets[] = { N(ID1, "br-1", true, true, true) };
	struct fw_plan p;

	p = plan(nets, 1, &NONE, &NONE, NULL, 0);
	check_empty(&p);
	p = plan(nets, 1, NULL, NULL, NULL, 0);
	check_empty(&p);
	/* A filter table without either chain drops nothing. */
	p = plan(nets, 1, &TABLE_ONLY, &TABLE_ONLY, NULL, 0);
	check_empty(&p);
	/* Chains without has_table are not believed. */
	struct fw_host odd = { .has_docker_user = true, .has_forward = true };
	p = plan(nets, 1, &odd, &odd, NULL, 0);
	check_empty(&p);
	/* No networks, no rules. */
	p = plan(NULL, 0, &BOTH, &BOTH, NULL, 0);
	check_empty(&p);
}
END_TEST

START_TEST(no_table_deletes_found_rules)
{
	struct fw_rule cur[] = { R(AF_INET, DU, ID1, "br-1", 9) };
	struct fw_plan p;

	/* Not reachable in practice (no chain, no rule found), but the
	 * planner must not keep a rule it would not add. */
	p = plan(NULL, 0, &NONE, &NONE, cur, 1);
	ck_assert_uint_eq(p.nadd, 0);
	ck_assert_uint_eq(p.ndel, 1);
	check_rule(&p.del[0], AF_INET, DU, ID1, "br-1", 9);
	fw_plan_done(&p);
}
END_TEST

START_TEST(docker_user_preferred)
{
	struct fw_net nets[] = { N(ID1, "br-1", true, false, true) };
	struct fw_plan p;

	p = plan(nets, 1, &BOTH, &NONE, NULL, 0);
	ck_assert_uint_eq(p.nadd, 1);
	ck_assert_uint_eq(p.ndel, 0);
	check_rule(&p.add[0], AF_INET, DU, ID1, "br-1", 0);
	fw_plan_done(&p);

	struct fw_host du_only = { .has_table = true,
	    .has_docker_user = true };
	p = plan(nets, 1, &du_only, &NONE, NULL, 0);
	ck_assert_uint_eq(p.nadd, 1);
	check_rule(&p.add[0], AF_INET, DU, ID1, "br-1", 0);
	fw_plan_done(&p);

	p = plan(nets, 1, &FWD_ONLY, &NONE, NULL, 0);
	ck_assert_uint_eq(p.nadd, 1);
	check_rule(&p.add[0], AF_INET, FWD, ID1, "br-1", 0);
	fw_plan_done(&p);
}
END_TEST

START_TEST(families)
{
	struct fw_net v4 = N(ID1, "br-4", true, false, true);
	struct fw_net v6 = N(ID2, "br-6", false, true, true);
	struct fw_net ds = N(ID3, "br-ds", true, true, true);
	struct fw_net none = N(ID3, "br-x", false, false, true);
	struct fw_plan p;

	p = plan(&v4, 1, &BOTH, &BOTH, NULL, 0);
	ck_assert_uint_eq(p.nadd, 1);
	check_rule(&p.add[0], AF_INET, DU, ID1, "br-4", 0);
	fw_plan_done(&p);

	p = plan(&v6, 1, &BOTH, &BOTH, NULL, 0);
	ck_assert_uint_eq(p.nadd, 1);
	check_rule(&p.add[0], AF_INET6, DU, ID2, "br-6", 0);
	fw_plan_done(&p);

	p = plan(&ds, 1, &BOTH, &BOTH, NULL, 0);
	ck_assert_uint_eq(p.nadd, 2);
	check_rule(&p.add[0], AF_INET, DU, ID3, "br-ds", 0);
	check_rule(&p.add[1], AF_INET6, DU, ID3, "br-ds", 0);
	fw_plan_done(&p);

	/* Each family on its own: ip6 filter only has FORWARD. */
	p = plan(&ds, 1, &BOTH, &FWD_ONLY, NULL, 0);
	ck_assert_uint_eq(p.nadd, 2);
	check_rule(&p.add[0], AF_INET, DU, ID3, "br-ds", 0);
	check_rule(&p.add[1], AF_INET6, FWD, ID3, "br-ds", 0);
	fw_plan_done(&p);

	/* ip6tables disabled in dockerd: no ip6 filter table. */
	p = plan(&ds, 1, &BOTH, &NONE, NULL, 0);
	ck_assert_uint_eq(p.nadd, 1);
	check_rule(&p.add[0], AF_INET, DU, ID3, "br-ds", 0);
	fw_plan_done(&p);
	p = plan(&v6, 1, &BOTH, &NONE, NULL, 0);
	check_empty(&p);

	/* No subnet at all: nothing to accept. */
	p = plan(&none, 1, &BOTH, &BOTH, NULL, 0);
	check_empty(&p);
}
END_TEST

START_TEST(icc_false)
{
	struct fw_net nets[] = { N(ID1, "br-1", true, true, false) };
	struct fw_rule cur[] = { R(AF_INET, DU, ID1, "br-1", 4),
	    R(AF_INET6, DU, ID1, "br-1", 5) };
	struct fw_plan p;

	p = plan(nets, 1, &BOTH, &BOTH, NULL, 0);
	check_empty(&p);
	/* icc switched off (a network re-created under the same ID): the
	 * accepts go. */
	p = plan(nets, 1, &BOTH, &BOTH, cur, 2);
	ck_assert_uint_eq(p.nadd, 0);
	ck_assert_uint_eq(p.ndel, 2);
	check_rule(&p.del[0], AF_INET, DU, ID1, "br-1", 4);
	check_rule(&p.del[1], AF_INET6, DU, ID1, "br-1", 5);
	fw_plan_done(&p);
}
END_TEST

START_TEST(exact_match_kept)
{
	struct fw_net nets[] = { N(ID1, "br-1", true, true, true),
	    N(ID2, "br-2", true, false, true) };
	struct fw_rule cur[] = { R(AF_INET6, DU, ID1, "br-1", 12),
	    R(AF_INET, DU, ID2, "br-2", 3), R(AF_INET, DU, ID1, "br-1", 7) };
	struct fw_plan p;

	p = plan(nets, 2, &BOTH, &BOTH, cur, 3);
	check_empty(&p);
	/* Also in FORWARD when that is the chain to use. */
	cur[0] = R(AF_INET6, FWD, ID1, "br-1", 12);
	p = plan(nets, 2, &BOTH, &FWD_ONLY, cur, 3);
	check_empty(&p);
}
END_TEST

START_TEST(duplicate_deleted)
{
	struct fw_net nets[] = { N(ID1, "br-1", true, false, true) };
	struct fw_rule cur[] = { R(AF_INET, DU, ID1, "br-1", 40),
	    R(AF_INET, DU, ID1, "br-1", 8), R(AF_INET, DU, ID1, "br-1", 15) };
	struct fw_plan p;

	p = plan(nets, 1, &BOTH, &NONE, cur, 3);
	ck_assert_uint_eq(p.nadd, 0);
	ck_assert_uint_eq(p.ndel, 2);
	/* The oldest (lowest handle) stays; the others go in handle order. */
	check_rule(&p.del[0], AF_INET, DU, ID1, "br-1", 15);
	check_rule(&p.del[1], AF_INET, DU, ID1, "br-1", 40);
	fw_plan_done(&p);

	/* The same network twice in nets asks for one rule. */
	struct fw_net twice[] = { nets[0], nets[0] };
	p = plan(twice, 2, &BOTH, &NONE, NULL, 0);
	ck_assert_uint_eq(p.nadd, 1);
	ck_assert_uint_eq(p.ndel, 0);
	fw_plan_done(&p);
}
END_TEST

START_TEST(wrong_chain_moved)
{
	struct fw_net nets[] = { N(ID1, "br-1", true, false, true) };
	struct fw_rule cur[] = { R(AF_INET, FWD, ID1, "br-1", 21) };
	struct fw_plan p;

	/* Added to FORWARD before dockerd created DOCKER-USER. */
	p = plan(nets, 1, &BOTH, &NONE, cur, 1);
	ck_assert_uint_eq(p.ndel, 1);
	ck_assert_uint_eq(p.nadd, 1);
	check_rule(&p.del[0], AF_INET, FWD, ID1, "br-1", 21);
	check_rule(&p.add[0], AF_INET, DU, ID1, "br-1", 0);
	fw_plan_done(&p);

	/* And back when DOCKER-USER is gone. */
	cur[0] = R(AF_INET, DU, ID1, "br-1", 22);
	p = plan(nets, 1, &FWD_ONLY, &NONE, cur, 1);
	ck_assert_uint_eq(p.ndel, 1);
	ck_assert_uint_eq(p.nadd, 1);
	check_rule(&p.del[0], AF_INET, DU, ID1, "br-1", 22);
	check_rule(&p.add[0], AF_INET, FWD, ID1, "br-1", 0);
	fw_plan_done(&p);

	/* A rule of the right chain but the wrong family table. */
	cur[0] = R(AF_INET6, DU, ID1, "br-1", 23);
	p = plan(nets, 1, &BOTH, &BOTH, cur, 1);
	ck_assert_uint_eq(p.ndel, 1);
	ck_assert_uint_eq(p.nadd, 1);
	check_rule(&p.del[0], AF_INET6, DU, ID1, "br-1", 23);
	check_rule(&p.add[0], AF_INET, DU, ID1, "br-1", 0);
	fw_plan_done(&p);
}
END_TEST

START_TEST(gone_network_deleted)
{
	struct fw_net nets[] = { N(ID1, "br-1", true, false, true) };
	struct fw_rule cur[] = { R(AF_INET, DU, ID2, "br-2", 30),
	    R(AF_INET, DU, ID1, "br-1", 31), R(AF_INET, FWD, ID3, "br-3", 2) };
	struct fw_plan p;

	p = plan(nets, 1, &BOTH, &NONE, cur, 3);
	ck_assert_uint_eq(p.nadd, 0);
	ck_assert_uint_eq(p.ndel, 2);
	/* Ordered by family, chain name, handle. */
	check_rule(&p.del[0], AF_INET, DU, ID2, "br-2", 30);
	check_rule(&p.del[1], AF_INET, FWD, ID3, "br-3", 2);
	fw_plan_done(&p);

	/* No networks at all: every rule of ours goes. */
	p = plan(NULL, 0, &BOTH, &NONE, cur, 3);
	ck_assert_uint_eq(p.nadd, 0);
	ck_assert_uint_eq(p.ndel, 3);
	fw_plan_done(&p);
}
END_TEST

START_TEST(renamed_bridge_replaced)
{
	struct fw_net nets[] = { N(ID1, "br-new", true, false, true) };
	struct fw_rule cur[] = { R(AF_INET, DU, ID1, "br-old", 17) };
	struct fw_plan p;

	p = plan(nets, 1, &BOTH, &NONE, cur, 1);
	ck_assert_uint_eq(p.ndel, 1);
	ck_assert_uint_eq(p.nadd, 1);
	check_rule(&p.del[0], AF_INET, DU, ID1, "br-old", 17);
	check_rule(&p.add[0], AF_INET, DU, ID1, "br-new", 0);
	fw_plan_done(&p);

	/* Only one side matching is not a match either. */
	(void) snprintf(cur[0].iif, sizeof(cur[0].iif), "br-new");
	p = plan(nets, 1, &BOTH, &NONE, cur, 1);
	ck_assert_uint_eq(p.ndel, 1);
	ck_assert_uint_eq(p.nadd, 1);
	fw_plan_done(&p);
}
END_TEST

START_TEST(changed_rule_replaced)
{
	struct fw_net nets[] = { N(ID1, "br-1", true, false, true) };
	struct fw_rule cur[] = { R(AF_INET, DU, ID1, "", 5) };
	struct fw_plan p;

	/* What fw_parse_rules reports for a rule of ours someone edited. */
	p = plan(nets, 1, &BOTH, &NONE, cur, 1);
	ck_assert_uint_eq(p.ndel, 1);
	ck_assert_uint_eq(p.nadd, 1);
	check_rule(&p.del[0], AF_INET, DU, ID1, "", 5);
	fw_plan_done(&p);
}
END_TEST

START_TEST(deterministic)
{
	struct fw_net a[] = { N(ID2, "br-2", true, true, true),
	    N(ID1, "br-1", true, true, true), N(ID3, "br-3", false, true,
	    true) };
	struct fw_net b[] = { a[2], a[0], a[1] };
	struct fw_rule ca[] = { R(AF_INET6, FWD, ID1, "br-1", 9),
	    R(AF_INET, DU, ID3, "br-3", 4), R(AF_INET, FWD, ID2, "x", 1) };
	struct fw_rule cb[] = { ca[1], ca[2], ca[0] };
	struct fw_plan p, q;

	p = plan(a, 3, &BOTH, &BOTH, ca, 3);
	q = plan(b, 3, &BOTH, &BOTH, cb, 3);
	ck_assert_uint_eq(p.nadd, 5);
	ck_assert_uint_eq(p.ndel, 3);
	ck_assert_uint_eq(q.nadd, p.nadd);
	ck_assert_uint_eq(q.ndel, p.ndel);
	ck_assert(memcmp(p.add, q.add, p.nadd * sizeof(*p.add)) == 0);
	ck_assert(memcmp(p.del, q.del, p.ndel * sizeof(*p.del)) == 0);
	/* Adds by family, then ID. */
	check_rule(&p.add[0], AF_INET, DU, ID1, "br-1", 0);
	check_rule(&p.add[1], AF_INET, DU, ID2, "br-2", 0);
	check_rule(&p.add[2], AF_INET6, DU, ID3, "br-3", 0);
	check_rule(&p.add[3], AF_INET6, DU, ID1, "br-1", 0);
	check_rule(&p.add[4], AF_INET6, DU, ID2, "br-2", 0);
	fw_plan_done(&p);
	fw_plan_done(&q);
}
END_TEST

/* Sync twice in a row: the second plan is empty, whatever the start. */
START_TEST(converges)
{
	struct fw_net nets[] = { N(ID1, "br-1", true, true, true),
	    N(ID2, "br-2", true, false, false), N(ID3, "br-3", false, true,
	    true) };
	struct fw_rule cur[16] = { R(AF_INET, FWD, ID1, "br-1", 1),
	    R(AF_INET, DU, ID1, "br-1", 2), R(AF_INET, DU, ID1, "br-1", 3),
	    R(AF_INET, DU, ID2, "br-2", 4), R(AF_INET6, DU, ID3, "old", 5) };
	unsigned long long next = 100;
	size_t ncur = 5;
	struct fw_plan p;

	p = plan(nets, 3, &BOTH, &BOTH, cur, ncur);
	ck_assert_uint_eq(p.ndel, 4);
	ck_assert_uint_eq(p.nadd, 2);
	ncur = apply_plan(cur, ncur, &p, &next);
	fw_plan_done(&p);
	ck_assert_uint_eq(ncur, 3);
	p = plan(nets, 3, &BOTH, &BOTH, cur, ncur);
	check_empty(&p);
}
END_TEST

START_TEST(invalid_input)
{
	struct fw_net good = N(ID1, "br-1", true, false, true);
	struct fw_net bad[] = { N("abc", "br-1", true, false, true),
	    N(ID1, "", true, false, true), N(ID1, "br 1", true, false, true),
	    N(ID1, "br\"1", true, false, true),
	    N("5F1C0A7E9B2D44C18E3F6A0B7C9D2E4F1A3B5C7D9E0F2A4B6C8D0E1F3A5B7C9D",
	    "br-1", true, false, true) };
	struct fw_rule cur;
	struct fw_plan p = { .nadd = 77 };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_int_eq(fw_plan_compute(&bad[i], 1, &BOTH, &BOTH,
		    NULL, 0, &p), -EINVAL);
		/* icc off does not make a bad entry acceptable. */
		bad[i].icc = false;
		ck_assert_int_eq(fw_plan_compute(&bad[i], 1, &BOTH, &BOTH,
		    NULL, 0, &p), -EINVAL);
	}
	ck_assert_int_eq(fw_plan_compute(NULL, 1, &BOTH, &BOTH, NULL, 0, &p),
	    -EINVAL);
	ck_assert_int_eq(fw_plan_compute(&good, 1, &BOTH, &BOTH, NULL, 1,
	    &p), -EINVAL);
	ck_assert_int_eq(fw_plan_compute(&good, 1, &BOTH, &BOTH, NULL, 0,
	    NULL), -EINVAL);
	/* Found rules the backend could not delete. */
	cur = R(AF_INET, DU, ID1, "br-1", 0);
	ck_assert_int_eq(fw_plan_compute(&good, 1, &BOTH, &BOTH, &cur, 1,
	    &p), -EINVAL);
	cur = R(AF_INET, "OUTPUT", ID1, "br-1", 3);
	ck_assert_int_eq(fw_plan_compute(&good, 1, &BOTH, &BOTH, &cur, 1,
	    &p), -EINVAL);
	cur = R(AF_UNIX, DU, ID1, "br-1", 3);
	ck_assert_int_eq(fw_plan_compute(&good, 1, &BOTH, &BOTH, &cur, 1,
	    &p), -EINVAL);
	cur = R(AF_INET, DU, "xyz", "br-1", 3);
	ck_assert_int_eq(fw_plan_compute(&good, 1, &BOTH, &BOTH, &cur, 1,
	    &p), -EINVAL);
	/* ret written only on success. */
	ck_assert_uint_eq(p.nadd, 77);
	ck_assert_ptr_null(p.add);
	fw_plan_done(NULL);
}
END_TEST

START_TEST(many_networks)
{
	enum { NNET = 500 };
	struct fw_net *nets = calloc(NNET, sizeof(*nets));
	struct fw_rule *cur = calloc(2 * NNET, sizeof(*cur));
	struct fw_plan p;
	size_t ncur = 0;

	ck_assert_ptr_nonnull(nets);
	ck_assert_ptr_nonnull(cur);
	for (int i = 0; i < NNET; i++) {
		char id[FW_ID_LEN + 1], br[FW_IFNAMSIZ];

		(void) snprintf(id, sizeof(id), "%064x", i);
		(void) snprintf(br, sizeof(br), "br-%d", i);
		nets[i] = N(id, br, true, true, true);
		/* Every other network already has its IPv4 rule. */
		if (i % 2 == 0)
			cur[ncur++] = R(AF_INET, DU, id, br,
			    (unsigned long long)i + 1);
	}
	p = plan(nets, NNET, &BOTH, &BOTH, cur, ncur);
	ck_assert_uint_eq(p.ndel, 0);
	ck_assert_uint_eq(p.nadd, NNET / 2 + NNET);
	fw_plan_done(&p);
	free(nets);
	free(cur);
}
END_TEST

/*
 * The reader of nft's JSON, on output captured with nft 1.0.6 in a
 * namespace set up with iptables-nft 1.8.9 as dockerd does.
 */
static const char LIST_TABLES[] =
    "{\"nftables\": [{\"metainfo\": {\"version\": \"1.0.6\", "
    "\"release_name\": \"Lester Gooch #5\", \"json_schema_version\": 1}}, "
    "{\"table\": {\"family\": \"ip\", \"name\": \"filter\", \"handle\": 1}}, "
    "{\"table\": {\"family\": \"inet\", \"name\": \"filter\", "
    "\"handle\": 2}}, {\"table\": {\"family\": \"ip6\", \"name\": \"nat\", "
    "\"handle\": 3}}]}\n";

static const char LIST_CHAINS[] =
    "{\"nftables\": [{\"metainfo\": {\"version\": \"1.0.6\", "
    "\"release_name\": \"Lester Gooch #5\", \"json_schema_version\": 1}}, "
    "{\"chain\": {\"family\": \"ip\", \"table\": \"filter\", \"name\": "
    "\"DOCKER-USER\", \"handle\": 1}}, {\"chain\": {\"family\": \"ip\", "
    "\"table\": \"filter\", \"name\": \"FORWARD\", \"handle\": 3, \"type\": "
    "\"filter\", \"hook\": \"forward\", \"prio\": 0, \"policy\": \"drop\"}}, "
    "{\"chain\": {\"family\": \"inet\", \"table\": \"filter\", \"name\": "
    "\"FORWARD\", \"handle\": 1}}, {\"chain\": {\"family\": \"ip6\", "
    "\"table\": \"filter\", \"name\": \"FORWARD\", \"handle\": 1}}, "
    "{\"chain\": {\"family\": \"ip6\", \"table\": \"nat\", \"name\": "
    "\"DOCKER-USER\", \"handle\": 2}}]}\n";

#define RULE_HEAD(h) "{\"rule\": {\"family\": \"ip\", \"table\": " \
	"\"filter\", \"chain\": \"DOCKER-USER\", \"handle\": " #h ", "
#define IFMATCH(k, v) "{\"match\": {\"op\": \"==\", \"left\": {\"meta\": " \
	"{\"key\": \"" k "\"}}, \"right\": \"" v "\"}}"
#define COUNTER "{\"counter\": {\"packets\": 0, \"bytes\": 0}}"
#define OURS(br) "\"expr\": [" IFMATCH("iifname", br) ", " \
	IFMATCH("oifname", br) ", " COUNTER ", {\"accept\": null}]}}"

static const char LIST_CHAIN[] =
    "{\"nftables\": [{\"metainfo\": {\"version\": \"1.0.6\", "
    "\"release_name\": \"Lester Gooch #5\", \"json_schema_version\": 1}}, "
    "{\"chain\": {\"family\": \"ip\", \"table\": \"filter\", \"name\": "
    "\"DOCKER-USER\", \"handle\": 1}}, "
    /* Ours. */
    RULE_HEAD(5) "\"comment\": \"cbridge:" ID1 "\", " OURS("cb-test") ", "
    /* Ours, edited by someone (no counter). */
    RULE_HEAD(6) "\"comment\": \"cbridge:" ID2 "\", \"expr\": ["
    IFMATCH("iifname", "br-2") ", " IFMATCH("oifname", "br-2") ", "
    "{\"accept\": null}]}}, "
    /* Ours, with a wildcard name nobody should have written. */
    RULE_HEAD(7) "\"comment\": \"cbridge:" ID3 "\", " OURS("br*") ", "
    /* Not ours: no comment, another comment, upper case, too long, a
     * prefix only. */
    RULE_HEAD(8) OURS("cb-test") ", "
    RULE_HEAD(9) "\"comment\": \"admin rule\", " OURS("cb-test") ", "
    RULE_HEAD(10) "\"comment\": \"cbridge:"
    "5F1C0A7E9B2D44C18E3F6A0B7C9D2E4F1A3B5C7D9E0F2A4B6C8D0E1F3A5B7C9D\", "
    OURS("cb-test") ", "
    RULE_HEAD(11) "\"comment\": \"cbridge:" ID1 "0\", " OURS("cb-test") ", "
    RULE_HEAD(12) "\"comment\": \"cbridge:\", " OURS("cb-test") ", "
    /* iptables-nft's own comment match (an xt expression). */
    RULE_HEAD(13) "\"expr\": [" IFMATCH("iifname", "x") ", {\"xt\": "
    "{\"type\": \"match\", \"name\": \"comment\"}}, " COUNTER ", "
    "{\"accept\": null}]}}, "
    /* Another chain and another family: not asked for. */
    "{\"rule\": {\"family\": \"ip\", \"table\": \"filter\", \"chain\": "
    "\"FORWARD\", \"handle\": 14, \"comment\": \"cbridge:" ID1 "\", "
    OURS("cb-test") ", "
    "{\"rule\": {\"family\": \"ip6\", \"table\": \"filter\", \"chain\": "
    "\"DOCKER-USER\", \"handle\": 15, \"comment\": \"cbridge:" ID1 "\", "
    OURS("cb-test") ", "
    /* dockerd's return. */
    RULE_HEAD(2) "\"expr\": [" COUNTER ", {\"return\": null}]}}]}\n";

START_TEST(parse_host)
{
	struct fw_host h4 = { 0 }, h6 = { 0 };

	ck_assert_int_eq(fw_parse_host(LIST_TABLES, &h4, &h6), 0);
	ck_assert(h4.has_table && !h4.has_docker_user && !h4.has_forward);
	ck_assert(!h6.has_table);
	ck_assert_int_eq(fw_parse_host(LIST_CHAINS, &h4, &h6), 0);
	ck_assert(h4.has_table && h4.has_docker_user && h4.has_forward);
	/* The ip6 FORWARD chain implies ip6 filter; ip6 nat's chain does
	 * not count. */
	ck_assert(h6.has_table && !h6.has_docker_user && h6.has_forward);

	/* Nothing there. */
	memset(&h4, 0, sizeof(h4));
	memset(&h6, 0, sizeof(h6));
	ck_assert_int_eq(fw_parse_host("{\"nftables\": [{\"metainfo\": "
	    "{\"json_schema_version\": 1}}]}", &h4, &h6), 0);
	ck_assert(!h4.has_table && !h6.has_table);
}
END_TEST

START_TEST(parse_rules)
{
	struct fw_rule_vec v = { 0 };

	ck_assert_int_eq(fw_parse_rules(LIST_CHAIN, AF_INET, DU, &v), 0);
	ck_assert_uint_eq(v.n, 3);
	check_rule(&v.v[0], AF_INET, DU, ID1, "cb-test", 5);
	check_rule(&v.v[1], AF_INET, DU, ID2, "", 6);
	check_rule(&v.v[2], AF_INET, DU, ID3, "", 7);
	/* Appends. */
	ck_assert_int_eq(fw_parse_rules(LIST_CHAIN, AF_INET, FWD, &v), 0);
	ck_assert_uint_eq(v.n, 4);
	check_rule(&v.v[3], AF_INET, FWD, ID1, "cb-test", 14);
	ck_assert_int_eq(fw_parse_rules(LIST_CHAIN, AF_INET6, DU, &v), 0);
	ck_assert_uint_eq(v.n, 5);
	check_rule(&v.v[4], AF_INET6, DU, ID1, "cb-test", 15);
	fw_rule_vec_done(&v);
}
END_TEST

START_TEST(parse_rejects)
{
	static const char *const bad[] = { "", "[]", "{}", "not json",
	    "{\"nftables\": {}}", "{\"nftables\": [], \"nftables\": []}",
	    NULL };
	struct fw_rule_vec v = { 0 };
	struct fw_host h4 = { 0 }, h6 = { 0 };

	for (int i = 0; bad[i] != NULL; i++) {
		ck_assert_int_eq(fw_parse_host(bad[i], &h4, &h6), -EBADMSG);
		ck_assert_int_eq(fw_parse_rules(bad[i], AF_INET, DU, &v),
		    -EBADMSG);
	}
	ck_assert_int_eq(fw_parse_host(NULL, &h4, &h6), -EBADMSG);
	ck_assert(!h4.has_table && !h6.has_table);
	/* A rule of ours without a usable handle: nothing is kept. */
	ck_assert_int_eq(fw_parse_rules("{\"nftables\": [{\"rule\": "
	    "{\"family\": \"ip\", \"table\": \"filter\", \"chain\": "
	    "\"DOCKER-USER\", \"handle\": 3, \"comment\": \"cbridge:" ID2 "\", "
	    OURS("a") ", {\"rule\": {\"family\": \"ip\", \"table\": "
	    "\"filter\", \"chain\": \"DOCKER-USER\", \"handle\": \"4\", "
	    "\"comment\": \"cbridge:" ID1 "\", " OURS("a") "]}", AF_INET, DU,
	    &v), -EBADMSG);
	ck_assert_uint_eq(v.n, 0);
	ck_assert_int_eq(fw_parse_rules(LIST_CHAIN, AF_UNIX, DU, &v),
	    -EINVAL);
	fw_rule_vec_done(&v);
}
END_TEST

START_TEST(names)
{
	static const char *const good[] = { "br-1", "docker0", "a",
	    "123456789012345", "br_x.y-z@1", NULL };
	static const char *const bad[] = { "", "1234567890123456", "br 1",
	    "br/1", "br:1", "br\"1", "br'1", "br\\1", "br*", ".", "..",
	    "br\t1", "br\n", "br\x7f", "br\xc3\xa9", NULL };

	for (int i = 0; good[i] != NULL; i++)
		ck_assert_msg(fw_valid_ifname(good[i]), "%s", good[i]);
	for (int i = 0; bad[i] != NULL; i++)
		ck_assert_msg(!fw_valid_ifname(bad[i]), "%s", bad[i]);
	ck_assert(!fw_valid_ifname(NULL));
	ck_assert(fw_valid_id(ID1));
	ck_assert(!fw_valid_id(ID1 "0"));
	ck_assert(!fw_valid_id("abc"));
	ck_assert(!fw_valid_id(NULL));
	ck_assert_str_eq(fw_family_name(AF_INET), "ip");
	ck_assert_str_eq(fw_family_name(AF_INET6), "ip6");
	ck_assert_ptr_null(fw_family_name(AF_UNIX));
}
END_TEST

START_TEST(fake_records)
{
	struct fw *f = fw_fake_new();
	struct fw_net nets[] = { N(ID1, "br-1", true, false, true),
	    N(ID2, "br-2", false, true, false) };
	const struct fw_net *got;
	char err[256] = "";

	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fw_fake_synced(f, &got), 0);
	ck_assert_ptr_null(got);
	ck_assert_uint_eq(fw_fake_sync_calls(f), 0);
	ck_assert_int_eq(f->ops->sync(f, nets, 2, err, sizeof(err)), 0);
	ck_assert_uint_eq(fw_fake_synced(f, &got), 2);
	ck_assert(memcmp(got, nets, sizeof(nets)) == 0);

	/* Injected failure: the last good list stays. */
	fw_fake_fail_next(f, EPERM);
	ck_assert_int_eq(f->ops->sync(f, NULL, 0, err, sizeof(err)), -EPERM);
	ck_assert_ptr_nonnull(strstr(err, "Operation not permitted"));
	ck_assert_uint_eq(fw_fake_synced(f, &got), 2);
	/* One shot, either sign. */
	fw_fake_fail_next(f, -EBUSY);
	ck_assert_int_eq(f->ops->sync(f, nets, 1, NULL, 0), -EBUSY);
	ck_assert_int_eq(f->ops->sync(f, nets, 1, NULL, 0), 0);
	ck_assert_uint_eq(fw_fake_synced(f, &got), 1);

	/* What the real backend refuses. */
	(void) snprintf(nets[1].bridge, sizeof(nets[1].bridge), "br\"x");
	ck_assert_int_eq(f->ops->sync(f, nets, 2, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "br\"x"));
	ck_assert_uint_eq(fw_fake_synced(f, NULL), 1);

	ck_assert_int_eq(f->ops->sync(f, NULL, 0, err, sizeof(err)), 0);
	ck_assert_uint_eq(fw_fake_synced(f, &got), 0);
	ck_assert_uint_eq(fw_fake_sync_calls(f), 6);
	ck_assert_ptr_null(fw_free(f));
	ck_assert_ptr_null(fw_free(NULL));
}
END_TEST

START_TEST(parse_final_return)
{
	/* dockerd's return, then something unreachable after it. */
	static const char with[] = "{\"nftables\":[{\"chain\":{\"family\":"
	    "\"ip\",\"table\":\"filter\",\"name\":\"DOCKER-USER\",\"handle\":1}},"
	    "{\"rule\":{\"family\":\"ip\",\"table\":\"filter\",\"chain\":"
	    "\"DOCKER-USER\",\"handle\":7,\"expr\":[{\"match\":{}},{\"drop\":null}]}},"
	    "{\"rule\":{\"family\":\"ip\",\"table\":\"filter\",\"chain\":"
	    "\"DOCKER-USER\",\"handle\":2,\"expr\":[{\"counter\":{\"packets\":0,"
	    "\"bytes\":0}},{\"return\":null}]}},"
	    "{\"rule\":{\"family\":\"ip\",\"table\":\"filter\",\"chain\":"
	    "\"DOCKER-USER\",\"handle\":9,\"comment\":\"x\",\"expr\":"
	    "[{\"return\":null}]}}]}";
	/* Docker 28.3+: no return at all. */
	static const char without[] = "{\"nftables\":[{\"rule\":{\"family\":"
	    "\"ip\",\"table\":\"filter\",\"chain\":\"DOCKER-USER\",\"handle\":3,"
	    "\"expr\":[{\"match\":{}},{\"return\":null}]}}]}";

	ck_assert_uint_eq(fw_parse_final_return(with), 2);
	ck_assert_uint_eq(fw_parse_final_return(without), 0);
	ck_assert_uint_eq(fw_parse_final_return("not json"), 0);
}
END_TEST

Suite *
firewall_suite(void)
{
	Suite *s = suite_create("firewall");
	TCase *tp = tcase_create("plan");
	TCase *tj = tcase_create("json");
	TCase *tf = tcase_create("fake");

	tcase_add_test(tp, no_table_nothing);
	tcase_add_test(tp, no_table_deletes_found_rules);
	tcase_add_test(tp, docker_user_preferred);
	tcase_add_test(tp, families);
	tcase_add_test(tp, icc_false);
	tcase_add_test(tp, exact_match_kept);
	tcase_add_test(tp, duplicate_deleted);
	tcase_add_test(tp, wrong_chain_moved);
	tcase_add_test(tp, gone_network_deleted);
	tcase_add_test(tp, renamed_bridge_replaced);
	tcase_add_test(tp, changed_rule_replaced);
	tcase_add_test(tp, deterministic);
	tcase_add_test(tp, converges);
	tcase_add_test(tp, invalid_input);
	tcase_add_test(tp, many_networks);
	suite_add_tcase(s, tp);
	tcase_add_test(tj, parse_host);
	tcase_add_test(tj, parse_rules);
	tcase_add_test(tj, parse_rejects);
	tcase_add_test(tj, parse_final_return);
	suite_add_tcase(s, tj);
	tcase_add_test(tf, names);
	tcase_add_test(tf, fake_records);
	suite_add_tcase(s, tf);
	return s;
}
