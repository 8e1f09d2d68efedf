/*
 * The DNS responder's pure core (dns/answer.h): the records store and the
 * query -> drop/reply/forward decision, against Docker's embedded resolver
 * (cases adapted from moby's resolver tests, named where used).  Queries
 * are built by hand, so that hostile ones can be; every reply is parsed
 * back with ldns and checked (ldns only ever sees our own replies).
 *
 *   CK_RUN_SUITE=dns_answer CK_RUN_CASE=hostile build/check_cbridge
 *   CK_FORK=no to debug one test in gdb.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <ldns/ldns.h>

#include "dns/answer.h"
#include "tests/unit/suites.h"

#define QR	0x8000
#define TC	0x0200
#define RD	0x0100
#define RA	0x0080
#define CD	0x0010

/* A query under construction. */
struct q {
	uint8_t	b[70000];
	size_t	n;
};

static void
put8(struct q *q, unsigned int v)
{
	ck_assert_uint_lt(q->n, sizeof(q->b));
	q->b[q->n++] = (uint8_t)v;
}

static void
put16(struct q *q, unsigned int v)
{
	put8(q, v >> 8);
	put8(q, v & 0xFF);
}

static void
put_header(struct q *q, uint16_t id, uint16_t flags, uint16_t qd,
    uint16_t an, uint16_t ns, uint16_t ar)
{
	q->n = 0;
	put16(q, id);
	put16(q, flags);
	put16(q, qd);
	put16(q, an);
	put16(q, ns);
	put16(q, ar);
}

/* "a.b.c" (or "." / "") as labels, case kept. */
static void
put_name(struct q *q, const char *name)
{
	while (*name != '\0' && strcmp(name, ".") != 0) {
		const char *dot = strchr(name, '.');
		size_t l = dot != NULL ? (size_t)(dot - name) : strlen(name);

		put8(q, (unsigned int)l);
		for (size_t i = 0; i < l; i++)
			put8(q, (uint8_t)name[i]);
		name += l;
		if (*name == '.')
			name++;
	}
	put8(q, 0);
}

/* An OPT with payload size, version and DO. */
static void
put_opt(struct q *q, uint16_t size, uint8_t version, bool dobit)
{
	put8(q, 0);
	put16(q, DNS_TYPE_OPT);
	put16(q, size);
	put8(q, 0);
	put8(q, version);
	put16(q, dobit ? 0x8000 : 0);
	put16(q, 0);
}

/* A standard query; edns < 0: no OPT. */
static void
mkq(struct q *q, uint16_t id, uint16_t flags, const char *name,
    uint16_t type, uint16_t class, int edns)
{
	put_header(q, id, flags, 1, 0, 0, edns >= 0 ? 1 : 0);
	put_name(q, name);
	put16(q, type);
	put16(q, class);
	if (edns >= 0)
		put_opt(q, (uint16_t)edns, 0, false);
}

static struct dns_zone *zone;
static struct dns_verdict v;
static uint8_t out[70000];
static size_t outlen;

static void
add_net(struct dns_zone *z, const char *name)
{
	char err[256] = "";

	ck_assert_msg(dns_zone_add_network(z, name, err, sizeof(err)) >= 0,
	    "%s", err);
}

/* One entry: names separated by spaces, addresses may be NULL. */
static void
add(struct dns_zone *z, size_t net, const char *names, const char *s4,
    const char *s6)
{
	char buf[1024], *save = NULL, *tok, err[256] = "";
	const char *nv[DNS_ZONE_NAMES_MAX];
	struct in_addr a4;
	struct in6_addr a6;
	size_t n = 0;

	snprintf(buf, sizeof(buf), "%s", names);
	for (tok = strtok_r(buf, " ", &save); tok != NULL;
	    tok = strtok_r(NULL, " ", &save))
		nv[n++] = tok;
	if (s4 != NULL)
		ck_assert_int_eq(inet_pton(AF_INET, s4, &a4), 1);
	if (s6 != NULL)
		ck_assert_int_eq(inet_pton(AF_INET6, s6, &a6), 1);
	ck_assert_msg(dns_zone_add(z, net, nv, n, s4 != NULL ? &a4 : NULL,
	    s6 != NULL ? &a6 : NULL, err, sizeof(err)) == 0, "%s: %s", names,
	    err);
}

/*
 * The sandbox of most tests: on n1 then n2.
 *   n1: c1 (alias web, short ID, hostname) 10.0.1.2 + fd00:1::2; c2 v4 only
 *       10.0.1.3; v6only fd00:1::6; web also on c3 10.0.1.4.
 *   n2: c1 10.0.2.2; only2 10.0.2.9; web 10.0.2.5.
 *   my.net (dotted network name): dotted 10.0.3.3.
 */
static void
setup(void)
{
	zone = dns_zone_new();
	ck_assert_ptr_nonnull(zone);
	add_net(zone, "n1");
	add_net(zone, "N2");
	add_net(zone, "my.net");
	add(zone, 0, "c1 web 35de8003b19e host-c1", "10.0.1.2", "fd00:1::2");
	add(zone, 0, "c2", "10.0.1.3", NULL);
	add(zone, 0, "v6only", NULL, "fd00:1::6");
	add(zone, 0, "c3 web", "10.0.1.4", NULL);
	add(zone, 1, "c1", "10.0.2.2", NULL);
	add(zone, 1, "only2", "10.0.2.9", NULL);
	add(zone, 1, "web", "10.0.2.5", NULL);
	add(zone, 2, "dotted", "10.0.3.3", NULL);
}

static void
teardown(void)
{
	zone = dns_zone_free(zone);
}

/*
 * Runs q through dns_answer; for a reply, checks the invariants every
 * reply must keep and returns it parsed by ldns (caller frees).
 */
static int
run(const struct dns_zone *z, const struct q *q, bool tcp, ldns_pkt **ret)
{
	int r = dns_answer(z, q->b, q->n, tcp, out, sizeof(out), &outlen, &v);

	*ret = NULL;
	ck_assert_int_ge(r, 0);
	if (r != DNS_REPLY) {
		ck_assert_uint_eq(outlen, 0);
		return r;
	}
	ck_assert_uint_ge(outlen, DNS_HEADER_LEN);
	if (v.has_question)
		ck_assert_uint_le(outlen, v.limit);
	ck_assert_uint_le(outlen, tcp ? DNS_TCP_MAX : DNS_EDNS_SIZE);
	ck_assert_msg(ldns_wire2pkt(ret, out, outlen) == LDNS_STATUS_OK,
	    "reply does not parse");
	ck_assert_uint_eq(ldns_pkt_id(*ret), q->b[0] << 8 | q->b[1]);
	ck_assert(ldns_pkt_qr(*ret));
	ck_assert(!ldns_pkt_aa(*ret));
	ck_assert(!ldns_pkt_ad(*ret));
	ck_assert_uint_eq(ldns_pkt_get_rcode(*ret), v.rcode & 0xF);
	ck_assert_uint_eq(ldns_pkt_ancount(*ret), v.ancount);
	ck_assert(ldns_pkt_tc(*ret) == v.truncated);
	return r;
}

/* Replies with rcode, no answers; returns the parsed reply. */
static ldns_pkt *
expect_reply(const struct q *q, bool tcp, int rcode)
{
	ldns_pkt *p;

	ck_assert_int_eq(run(zone, q, tcp, &p), DNS_REPLY);
	ck_assert_int_eq(v.rcode, rcode);
	return p;
}

static void
expect_formerr(const struct q *q)
{
	ldns_pkt *p = expect_reply(q, false, DNS_RCODE_FORMERR);

	/* Empty sections, header echoed. */
	ck_assert_uint_eq(outlen, DNS_HEADER_LEN);
	ck_assert_uint_eq(ldns_pkt_qdcount(p), 0);
	ck_assert_uint_eq(ldns_pkt_ancount(p), 0);
	ck_assert(!ldns_pkt_ra(p));
	ldns_pkt_free(p);
}

static void
expect_drop(const struct q *q)
{
	ldns_pkt *p;

	ck_assert_int_eq(run(zone, q, false, &p), DNS_DROP);
	ck_assert_int_eq(run(zone, q, true, &p), DNS_DROP);
}

static void
expect_forward(const struct q *q)
{
	ldns_pkt *p;

	ck_assert_msg(run(zone, q, false, &p) == DNS_FORWARD, "%s: not "
	    "forwarded (%s)", v.qname, v.why ? v.why : "");
	ck_assert(v.has_question);
}

/* The text of answer i's RDATA (caller frees). */
static char *
rdata_str(ldns_pkt *p, size_t i)
{
	ldns_rr *rr = ldns_rr_list_rr(ldns_pkt_answer(p), i);

	ck_assert_ptr_nonnull(rr);
	return ldns_rdf2str(ldns_rr_rdf(rr, 0));
}

static void
expect_rdata(ldns_pkt *p, size_t i, const char *want)
{
	char *s = rdata_str(p, i);

	ck_assert_str_eq(s, want);
	free(s);
}

/* A local answer to name/type: n answers, the first want0 (or NULL). */
static ldns_pkt *
expect_answer(const char *name, uint16_t type, size_t n, const char *want0)
{
	struct q q;
	ldns_pkt *p;

	mkq(&q, 0x1234, RD, name, type, DNS_CLASS_IN, -1);
	ck_assert_msg(run(zone, &q, false, &p) == DNS_REPLY, "%s: %s", name,
	    v.why ? v.why : "");
	ck_assert_int_eq(v.rcode, DNS_RCODE_NOERROR);
	ck_assert(v.local);
	ck_assert_uint_eq(ldns_pkt_ancount(p), n);
	ck_assert(ldns_pkt_ra(p));
	ck_assert(ldns_pkt_rd(p));
	for (size_t i = 0; i < n; i++) {
		ldns_rr *rr = ldns_rr_list_rr(ldns_pkt_answer(p), i);

		ck_assert_uint_eq(ldns_rr_get_type(rr), type);
		ck_assert_uint_eq(ldns_rr_get_class(rr), LDNS_RR_CLASS_IN);
		ck_assert_uint_eq(ldns_rr_ttl(rr), dns_zone_ttl(zone));
	}
	if (want0 != NULL)
		expect_rdata(p, 0, want0);
	return p;
}

/* --- the zone --- */

START_TEST(zone_validation)
{
	struct dns_zone *z = dns_zone_new();
	char err[256] = "", l64[65];
	const char *nv[2];
	struct in_addr a4;
	struct dns_addrs a;

	ck_assert_ptr_nonnull(z);
	inet_pton(AF_INET, "10.9.0.1", &a4);
	memset(l64, 'x', 64);
	l64[64] = '\0';
	ck_assert_int_eq(dns_zone_add_network(z, "", err, sizeof(err)),
	    -EINVAL);
	ck_assert_int_eq(dns_zone_add_network(z, "a..b", err, sizeof(err)),
	    -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "empty label"));
	ck_assert_int_eq(dns_zone_add_network(z, "n1.", err, sizeof(err)),
	    -EINVAL);
	ck_assert_int_eq(dns_zone_add_network(z, "net work", err, sizeof(err)),
	    -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "character"));
	ck_assert_int_eq(dns_zone_add_network(z, l64, err, sizeof(err)),
	    -EINVAL);
	ck_assert_int_eq(dns_zone_add_network(z, "Net_1-x", err, sizeof(err)),
	    0);
	ck_assert_int_eq(dns_zone_add_network(z, "n2", err, sizeof(err)), 1);

	/* moby's TestInvalidReverseDNS adapted: a 64-byte label is refused
	 * when it is registered, with a message, instead of a SERVFAIL per
	 * PTR. */
	nv[0] = l64;
	ck_assert_int_eq(dns_zone_add(z, 0, nv, 1, &a4, NULL, err,
	    sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "longer than 63"));
	ck_assert_ptr_null(dns_zone_ptr(z, AF_INET, &a4));
	nv[0] = "ok";
	nv[1] = "bad name";
	ck_assert_int_eq(dns_zone_add(z, 0, nv, 2, &a4, NULL, err,
	    sizeof(err)), -EINVAL);
	/* Nothing was added: "ok" does not resolve. */
	ck_assert_int_eq(dns_zone_lookup(z, "ok", &a), -ENOENT);
	ck_assert_int_eq(dns_zone_add(z, 0, nv, 1, NULL, NULL, err,
	    sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "no address"));
	ck_assert_int_eq(dns_zone_add(z, 2, nv, 1, &a4, NULL, err,
	    sizeof(err)), -EINVAL);
	ck_assert_int_eq(dns_zone_add(z, 0, nv, 0, &a4, NULL, err,
	    sizeof(err)), -EINVAL);
	ck_assert_int_eq(dns_zone_set_ttl(z, DNS_TTL_MAX + 1u, err,
	    sizeof(err)), -EINVAL);
	ck_assert_int_eq(dns_zone_set_ttl(z, 5, err, sizeof(err)), 0);
	ck_assert_uint_eq(dns_zone_ttl(z), 5);
	ck_assert_ptr_null(dns_zone_free(z));
	ck_assert_ptr_null(dns_zone_free(NULL));
}
END_TEST

START_TEST(zone_name_length)
{
	struct dns_zone *z = dns_zone_new();
	char err[256] = "", net[64], name[256];
	const char *nv[1] = { name };
	struct in_addr a4;

	inet_pton(AF_INET, "10.9.0.1", &a4);
	/* "name.network" is 253 bytes of text at most (255 on the wire). */
	memset(net, 'n', 60);
	net[60] = '\0';
	ck_assert_int_eq(dns_zone_add_network(z, net, err, sizeof(err)), 0);
	/* 3 labels of 63 + dots = 191; + "." + 60 = 252: fits. */
	snprintf(name, sizeof(name), "%.63s.%.63s.%.63s",
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	    "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
	    "ccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc");
	ck_assert_uint_eq(strlen(name) + 1 + strlen(net), 252);
	ck_assert_msg(dns_zone_add(z, 0, nv, 1, &a4, NULL, err, sizeof(err)) ==
	    0, "%s", err);
	/* Two bytes more: 254. */
	memmove(name + 2, name, strlen(name) + 1);
	memcpy(name, "z.", 2);
	ck_assert_int_eq(dns_zone_add(z, 0, nv, 1, &a4, NULL, err,
	    sizeof(err)), -EINVAL);
	ck_assert_msg(strstr(err, "longer than 253") != NULL, "%s", err);
	dns_zone_free(z);
}
END_TEST

START_TEST(zone_lookup)
{
	struct dns_addrs a;
	char buf[64];
	struct in_addr x;

	ck_assert_int_eq(dns_zone_lookup(zone, "C1", &a), 0);
	ck_assert_uint_eq(a.net, 0);
	ck_assert_uint_eq(a.n4, 1);
	ck_assert_uint_eq(a.n6, 1);
	ck_assert_str_eq(inet_ntop(AF_INET, &a.a4[0], buf, sizeof(buf)),
	    "10.0.1.2");
	ck_assert_int_eq(dns_zone_lookup(zone, "c1.n2.", &a), 0);
	ck_assert_uint_eq(a.net, 1);
	ck_assert_int_eq(dns_zone_lookup(zone, "only2", &a), 0);
	ck_assert_uint_eq(a.net, 1);
	ck_assert_int_eq(dns_zone_lookup(zone, "only2.n1", &a), -ENOENT);
	ck_assert_int_eq(dns_zone_lookup(zone, "dotted.my.net", &a), 0);
	ck_assert_int_eq(dns_zone_lookup(zone, "web", &a), 0);
	ck_assert_uint_eq(a.n4, 2);
	ck_assert_int_eq(dns_zone_lookup(zone, "nope", &a), -ENOENT);
	ck_assert_int_eq(dns_zone_lookup(zone, "c 1", &a), -ENOENT);
	inet_pton(AF_INET, "10.0.1.4", &x);
	ck_assert_str_eq(dns_zone_ptr(zone, AF_INET, &x), "c3.n1.");
	inet_pton(AF_INET, "10.0.2.2", &x);
	ck_assert_str_eq(dns_zone_ptr(zone, AF_INET, &x), "c1.n2.");
}
END_TEST

/* As moby's TestDNSNamesOrder: names in order, the first is the PTR target. */
START_TEST(names_order)
{
	struct dns_zone *z = dns_zone_new();
	const char *nv[] = { "foobar", "myctr", "35de8003b19e", "baz" };
	char err[256] = "";
	struct in_addr a4;
	struct dns_addrs a;

	inet_pton(AF_INET, "172.19.0.2", &a4);
	add_net(z, "net1");
	ck_assert_int_eq(dns_zone_add(z, 0, nv, 4, &a4, NULL, err,
	    sizeof(err)), 0);
	for (size_t i = 0; i < 4; i++)
		ck_assert_int_eq(dns_zone_lookup(z, nv[i], &a), 0);
	ck_assert_str_eq(dns_zone_ptr(z, AF_INET, &a4), "foobar.net1.");
	dns_zone_free(z);
}
END_TEST

/* --- local answers --- */

/* moby's TestDNSIPQuery: A name1. and NaMe1. -> one A; MX name1 ->
 * NOERROR empty; MX nonexistent -> forward (the caller SERVFAILs with
 * forwarding off). */
START_TEST(ip_query)
{
	struct dns_zone *z = dns_zone_new();
	ldns_pkt *p;
	ldns_rr *rr;
	struct q q;
	char *s;

	add_net(z, "n1");
	add(z, 0, "name1", "192.168.0.1", NULL);
	teardown();
	zone = z;

	p = expect_answer("name1.", DNS_TYPE_A, 1, "192.168.0.1");
	ldns_pkt_free(p);
	p = expect_answer("NaMe1.", DNS_TYPE_A, 1, "192.168.0.1");
	/* The owner is the name as written (0x20). */
	rr = ldns_rr_list_rr(ldns_pkt_answer(p), 0);
	s = ldns_rdf2str(ldns_rr_owner(rr));
	ck_assert_str_eq(s, "NaMe1.");
	free(s);
	rr = ldns_rr_list_rr(ldns_pkt_question(p), 0);
	s = ldns_rdf2str(ldns_rr_owner(rr));
	ck_assert_str_eq(s, "NaMe1.");
	free(s);
	ldns_pkt_free(p);
	ck_assert_str_eq(v.qname, "name1.");
	ck_assert_str_eq(v.qname_raw, "NaMe1.");
	p = expect_answer("name1.", DNS_TYPE_MX, 0, NULL);
	ldns_pkt_free(p);
	mkq(&q, 7, RD, "nonexistent.", DNS_TYPE_MX, DNS_CLASS_IN, -1);
	expect_forward(&q);
	ck_assert_int_eq(dns_reply_error(q.b, q.n, DNS_RCODE_SERVFAIL, out,
	    sizeof(out), &outlen), 0);
	ck_assert_int_eq(ldns_wire2pkt(&p, out, outlen), LDNS_STATUS_OK);
	ck_assert_int_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_SERVFAIL);
	ck_assert_uint_eq(ldns_pkt_qdcount(p), 1);
	ck_assert_uint_eq(ldns_pkt_ancount(p), 0);
	ldns_pkt_free(p);
}
END_TEST

/* moby's TestUpdateSvcRecord: v4-only, v6-only and dual-stack endpoints
 * with two names each. */
START_TEST(families)
{
	struct dns_zone *z = dns_zone_new();
	struct q q;

	add_net(z, "n1");
	add(z, 0, "v4a v4b", "10.1.0.4", NULL);
	add(z, 0, "v6a v6b", NULL, "fd00::6");
	add(z, 0, "dsa dsb", "10.1.0.5", "fd00::5");
	teardown();
	zone = z;
	ldns_pkt_free(expect_answer("v4b", DNS_TYPE_A, 1, "10.1.0.4"));
	ldns_pkt_free(expect_answer("v4a", DNS_TYPE_AAAA, 0, NULL));
	ldns_pkt_free(expect_answer("v6a", DNS_TYPE_A, 0, NULL));
	ldns_pkt_free(expect_answer("v6b", DNS_TYPE_AAAA, 1, "fd00::6"));
	ldns_pkt_free(expect_answer("dsa", DNS_TYPE_A, 1, "10.1.0.5"));
	ldns_pkt_free(expect_answer("dsb", DNS_TYPE_AAAA, 1, "fd00::5"));
	/* "Removed": a zone rebuilt without them forwards the names. */
	zone = dns_zone_free(zone);
	zone = dns_zone_new();
	add_net(zone, "n1");
	mkq(&q, 1, RD, "dsa", DNS_TYPE_A, DNS_CLASS_IN, -1);
	expect_forward(&q);
}
END_TEST

/* The name without the asked family: NOERROR, 0 answers. */
START_TEST(nodata)
{
	ldns_pkt *p = expect_answer("c2", DNS_TYPE_AAAA, 0, NULL);

	ck_assert_int_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	ck_assert_uint_eq(ldns_pkt_qdcount(p), 1);
	ldns_pkt_free(p);
	ldns_pkt_free(expect_answer("v6only", DNS_TYPE_A, 0, NULL));
	ldns_pkt_free(expect_answer("v6only", DNS_TYPE_AAAA, 1, "fd00:1::6"));
}
END_TEST

/* TTL 600 by default, the zone's otherwise. */
START_TEST(ttl)
{
	ldns_pkt *p = expect_answer("c1", DNS_TYPE_A, 1, "10.0.1.2");

	ck_assert_uint_eq(ldns_rr_ttl(ldns_rr_list_rr(ldns_pkt_answer(p), 0)),
	    600);
	ldns_pkt_free(p);
	ck_assert_int_eq(dns_zone_set_ttl(zone, 0, NULL, 0), 0);
	p = expect_answer("c1", DNS_TYPE_AAAA, 1, "fd00:1::2");
	ck_assert_uint_eq(ldns_rr_ttl(ldns_rr_list_rr(ldns_pkt_answer(p), 0)),
	    0);
	ldns_pkt_free(p);
}
END_TEST

/* Every address, deduplicated, rotation from the client's ID. */
START_TEST(all_addresses)
{
	struct q q;
	ldns_pkt *p;
	char *first[3];

	/* A shared address on a third entry is returned once. */
	add(zone, 0, "c4 web", "10.0.1.4", NULL);
	for (uint16_t id = 0; id < 3; id++) {
		mkq(&q, id, 0, "web", DNS_TYPE_A, DNS_CLASS_IN, -1);
		ck_assert_int_eq(run(zone, &q, false, &p), DNS_REPLY);
		ck_assert_uint_eq(ldns_pkt_ancount(p), 2);
		first[id] = rdata_str(p, 0);
		ldns_pkt_free(p);
	}
	/* ID 0 and 2 start at the same place (mod 2), 1 elsewhere. */
	ck_assert_str_eq(first[0], "10.0.1.2");
	ck_assert_str_eq(first[1], "10.0.1.4");
	ck_assert_str_eq(first[2], "10.0.1.2");
	for (size_t i = 0; i < 3; i++)
		free(first[i]);
}
END_TEST

/* name.network forms, first network wins, no merging. */
START_TEST(networks)
{
	ldns_pkt *p;
	struct q q;

	/* web is on n1 (two endpoints) and n2: only n1's. */
	p = expect_answer("web", DNS_TYPE_A, 2, NULL);
	ldns_pkt_free(p);
	ldns_pkt_free(expect_answer("web.n2", DNS_TYPE_A, 1, "10.0.2.5"));
	ldns_pkt_free(expect_answer("WEB.N2.", DNS_TYPE_A, 1, "10.0.2.5"));
	ldns_pkt_free(expect_answer("web.n1", DNS_TYPE_A, 2, NULL));
	ldns_pkt_free(expect_answer("c1.n1", DNS_TYPE_A, 1, "10.0.1.2"));
	ldns_pkt_free(expect_answer("c1.n2", DNS_TYPE_A, 1, "10.0.2.2"));
	ldns_pkt_free(expect_answer("c1.n2", DNS_TYPE_AAAA, 0, NULL));
	ldns_pkt_free(expect_answer("only2", DNS_TYPE_A, 1, "10.0.2.9"));
	ldns_pkt_free(expect_answer("dotted.my.net", DNS_TYPE_A, 1,
	    "10.0.3.3"));
	ldns_pkt_free(expect_answer("35de8003b19e", DNS_TYPE_A, 1,
	    "10.0.1.2"));
	ldns_pkt_free(expect_answer("host-c1.n1", DNS_TYPE_AAAA, 1,
	    "fd00:1::2"));
	/* Not on that network, or more labels: forwarded. */
	mkq(&q, 1, RD, "only2.n1", DNS_TYPE_A, DNS_CLASS_IN, -1);
	expect_forward(&q);
	mkq(&q, 1, RD, "c1.n1.google.com", DNS_TYPE_A, DNS_CLASS_IN, -1);
	expect_forward(&q);
	mkq(&q, 1, RD, "dotted.net", DNS_TYPE_A, DNS_CLASS_IN, -1);
	expect_forward(&q);
	mkq(&q, 1, RD, "n1", DNS_TYPE_A, DNS_CLASS_IN, -1);
	expect_forward(&q);
}
END_TEST

/* MX for a local name: NOERROR, no answers. */
START_TEST(mx)
{
	ldns_pkt_free(expect_answer("c1", DNS_TYPE_MX, 0, NULL));
	ldns_pkt_free(expect_answer("c1.n2", DNS_TYPE_MX, 0, NULL));
}
END_TEST

/* PTR from the zone, any case; misses forwarded. */
START_TEST(ptr)
{
	static const char *const fwd[] = { "9.1.0.10.in-addr.arpa.",
	    "1.0.10.in-addr.arpa.", "2.1.0.010.in-addr.arpa.",
	    "2.1.0.10.0.in-addr.arpa.", "x.1.0.10.in-addr.arpa.",
	    "256.1.0.10.in-addr.arpa.", "in-addr.arpa.", "c1.", "arpa.",
	    "2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.1.0.0.0.0.0.d.f."
	    "ip6.arpa.x.", "0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.1."
	    "0.0.0.0.0.d.f.ip6.arpa.", "2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0."
	    "0.0.0.0.0.0.1.0.0.0.0.0.d.g.ip6.arpa.", NULL };
	ldns_pkt *p;
	struct q q;

	ldns_pkt_free(expect_answer("2.1.0.10.in-addr.arpa.", DNS_TYPE_PTR, 1,
	    "c1.n1."));
	ldns_pkt_free(expect_answer("2.2.0.10.IN-ADDR.ARPA.", DNS_TYPE_PTR, 1,
	    "c1.n2."));
	ldns_pkt_free(expect_answer("3.3.0.10.in-addr.arpa", DNS_TYPE_PTR, 1,
	    "dotted.my.net."));
	p = expect_answer("2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.1.0."
	    "0.0.0.0.d.f.ip6.arpa.", DNS_TYPE_PTR, 1, "c1.n1.");
	ldns_pkt_free(p);
	ldns_pkt_free(expect_answer("6.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0."
	    "0.0.0.1.0.0.0.0.0.D.F.IP6.ARPA.", DNS_TYPE_PTR, 1, "v6only.n1."));
	for (size_t i = 0; fwd[i] != NULL; i++) {
		mkq(&q, 1, RD, fwd[i], DNS_TYPE_PTR, DNS_CLASS_IN, -1);
		ck_assert_msg(run(zone, &q, false, &p) == DNS_FORWARD, "%s",
		    fwd[i]);
	}
}
END_TEST

/* SRV and other types forwarded even for local names; zone transfers
 * refused. */
START_TEST(other_types)
{
	static const uint16_t types[] = { DNS_TYPE_SRV, DNS_TYPE_TXT,
	    DNS_TYPE_CNAME, DNS_TYPE_SOA, DNS_TYPE_NS, DNS_TYPE_ANY, 65, 0,
	    65535 };
	ldns_pkt *p;
	struct q q;

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		mkq(&q, 1, RD, "c1", types[i], DNS_CLASS_IN, -1);
		expect_forward(&q);
		ck_assert_uint_eq(v.qtype, types[i]);
	}
	mkq(&q, 1, RD, "_http._tcp.web", DNS_TYPE_SRV, DNS_CLASS_IN, -1);
	expect_forward(&q);
	mkq(&q, 9, RD, "n1", DNS_TYPE_AXFR, DNS_CLASS_IN, -1);
	p = expect_reply(&q, true, DNS_RCODE_REFUSED);
	ck_assert_uint_eq(ldns_pkt_qdcount(p), 1);
	ldns_pkt_free(p);
	mkq(&q, 9, RD, "n1", DNS_TYPE_IXFR, DNS_CLASS_IN, -1);
	ldns_pkt_free(expect_reply(&q, false, DNS_RCODE_REFUSED));
	mkq(&q, 9, RD, "n1", DNS_TYPE_TSIG, DNS_CLASS_IN, -1);
	expect_formerr(&q);
	mkq(&q, 9, RD, "n1", DNS_TYPE_OPT, DNS_CLASS_IN, -1);
	expect_formerr(&q);
}
END_TEST

/* Classes: IN and ANY answered, other classes forwarded. */
START_TEST(class)
{
	struct q q;
	ldns_pkt *p;

	mkq(&q, 1, RD, "c1", DNS_TYPE_A, DNS_CLASS_CH, -1);
	expect_forward(&q);
	ck_assert_uint_eq(v.qclass, DNS_CLASS_CH);
	mkq(&q, 1, RD, "c1", DNS_TYPE_A, DNS_CLASS_ANY, -1);
	ck_assert_int_eq(run(zone, &q, false, &p), DNS_REPLY);
	ck_assert_uint_eq(ldns_pkt_ancount(p), 1);
	ldns_pkt_free(p);
}
END_TEST

/* Flags of local answers and of errors. */
START_TEST(flags)
{
	struct q q;
	ldns_pkt *p;

	mkq(&q, 0xBEEF, CD, "c1", DNS_TYPE_A, DNS_CLASS_IN, -1);
	ck_assert_int_eq(run(zone, &q, false, &p), DNS_REPLY);
	ck_assert(!ldns_pkt_rd(p));
	ck_assert(ldns_pkt_cd(p));
	ck_assert(ldns_pkt_ra(p));
	ck_assert_uint_eq(ldns_pkt_get_opcode(p), LDNS_PACKET_QUERY);
	ck_assert_uint_eq(ldns_pkt_id(p), 0xBEEF);
	ldns_pkt_free(p);
	mkq(&q, 0xBEEF, RD, "c1", DNS_TYPE_AXFR, DNS_CLASS_IN, -1);
	p = expect_reply(&q, false, DNS_RCODE_REFUSED);
	ck_assert(ldns_pkt_rd(p));
	ck_assert(!ldns_pkt_ra(p));
	ldns_pkt_free(p);
}
END_TEST

/* EDNS: OPT echoed with our size, DO copied; BADVERS. */
START_TEST(edns)
{
	struct q q;
	ldns_pkt *p;

	mkq(&q, 5, RD, "c1", DNS_TYPE_A, DNS_CLASS_IN, -1);
	ck_assert_int_eq(run(zone, &q, false, &p), DNS_REPLY);
	ck_assert(!ldns_pkt_edns(p));
	ck_assert_uint_eq(out[11], 0);	/* ARCOUNT */
	ldns_pkt_free(p);

	put_header(&q, 5, RD, 1, 0, 0, 1);
	put_name(&q, "c1");
	put16(&q, DNS_TYPE_A);
	put16(&q, DNS_CLASS_IN);
	put_opt(&q, 4096, 0, true);
	ck_assert_int_eq(run(zone, &q, false, &p), DNS_REPLY);
	ck_assert(v.edns && v.edns_do);
	ck_assert_uint_eq(v.edns_size, 4096);
	ck_assert(ldns_pkt_edns(p));
	ck_assert_uint_eq(ldns_pkt_edns_udp_size(p), DNS_EDNS_SIZE);
	ck_assert(ldns_pkt_edns_do(p));
	ck_assert_uint_eq(ldns_pkt_edns_version(p), 0);
	ck_assert_uint_eq(ldns_pkt_ancount(p), 1);
	ldns_pkt_free(p);

	/* NODATA keeps the OPT too. */
	mkq(&q, 5, RD, "c2", DNS_TYPE_AAAA, DNS_CLASS_IN, 1232);
	ck_assert_int_eq(run(zone, &q, false, &p), DNS_REPLY);
	ck_assert(ldns_pkt_edns(p));
	ck_assert(!ldns_pkt_edns_do(p));
	ldns_pkt_free(p);

	/* Version 1: BADVERS (extended rcode 1 in the OPT, 0 in header). */
	put_header(&q, 6, RD, 1, 0, 0, 1);
	put_name(&q, "c1");
	put16(&q, DNS_TYPE_A);
	put16(&q, DNS_CLASS_IN);
	put_opt(&q, 1232, 1, false);
	p = expect_reply(&q, false, DNS_RCODE_BADVERS);
	ck_assert(ldns_pkt_edns(p));
	ck_assert_uint_eq(ldns_pkt_edns_extended_rcode(p), 1);
	ck_assert_uint_eq(ldns_pkt_ancount(p), 0);
	ldns_pkt_free(p);

	/* Options in the OPT are fine when well formed. */
	put_header(&q, 7, RD, 1, 0, 0, 1);
	put_name(&q, "c1");
	put16(&q, DNS_TYPE_A);
	put16(&q, DNS_CLASS_IN);
	put8(&q, 0);
	put16(&q, DNS_TYPE_OPT);
	put16(&q, 1232);
	put16(&q, 0);
	put16(&q, 0);
	put16(&q, 12);		/* RDLENGTH: a cookie option */
	put16(&q, 10);
	put16(&q, 8);
	for (int i = 0; i < 8; i++)
		put8(&q, i);
	ck_assert_int_eq(run(zone, &q, false, &p), DNS_REPLY);
	ck_assert_uint_eq(ldns_pkt_ancount(p), 1);
	ldns_pkt_free(p);
}
END_TEST

/* Sizes and truncation (UDP 512 / EDNS clamp / TCP 65535). */
START_TEST(truncation)
{
	static const struct {
		int	edns;	/* -1: none */
		bool	tcp;
		size_t	limit;
	} cases[] = { { -1, false, 512 }, { 0, false, 512 },
	    { 100, false, 512 }, { 512, false, 512 }, { 1000, false, 1000 },
	    { 1232, false, 1232 }, { 4096, false, 1232 },
	    { 65535, false, 1232 }, { -1, true, 65535 }, { 512, true, 65535 } };
	struct dns_zone *z = dns_zone_new();
	char name[32], a4[32], a6[64];
	struct q q;
	ldns_pkt *p;

	add_net(z, "n1");
	for (int i = 0; i < 200; i++) {
		snprintf(name, sizeof(name), "e%d many", i);
		snprintf(a4, sizeof(a4), "10.7.%d.%d", i / 200, i % 200 + 1);
		snprintf(a6, sizeof(a6), "fd00:7::%x", i + 1);
		add(z, 0, name, a4, a6);
	}
	teardown();
	zone = z;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		for (int t = 0; t < 2; t++) {
			uint16_t type = t ? DNS_TYPE_AAAA : DNS_TYPE_A;
			size_t rr = t ? 28 : 16, fixed, want;

			mkq(&q, 3, RD, "MANY", type, DNS_CLASS_IN,
			    cases[i].edns);
			ck_assert_int_eq(run(zone, &q, cases[i].tcp, &p),
			    DNS_REPLY);
			ck_assert_uint_eq(v.limit, cases[i].limit);
			fixed = q.n;	/* header + question (+ OPT) */
			want = (cases[i].limit - fixed) / rr;
			if (want > 200)
				want = 200;
			ck_assert_uint_eq(ldns_pkt_ancount(p), want);
			ck_assert(ldns_pkt_tc(p) == (want < 200));
			ck_assert_uint_le(outlen, cases[i].limit);
			ck_assert(ldns_pkt_edns(p) == (cases[i].edns >= 0));
			ldns_pkt_free(p);
		}
	}
	/* out smaller than the limit: bounded by out (and a too small one
	 * is refused). */
	mkq(&q, 3, RD, "many", DNS_TYPE_A, DNS_CLASS_IN, -1);
	ck_assert_int_eq(dns_answer(zone, q.b, q.n, true, out, 600, &outlen,
	    &v), DNS_REPLY);
	ck_assert_uint_le(outlen, 600);
	ck_assert(v.truncated);
	ck_assert_int_eq(dns_answer(zone, q.b, q.n, true, out, 511, &outlen,
	    &v), -EINVAL);
}
END_TEST

/* Single-label names that are not local, when ndots was given. */
START_TEST(single_label)
{
	struct q q;
	ldns_pkt *p;

	mkq(&q, 1, RD, "unknown", DNS_TYPE_A, DNS_CLASS_IN, -1);
	expect_forward(&q);
	dns_zone_set_nodata_single_label(zone, true);
	p = expect_answer("unknown", DNS_TYPE_A, 0, NULL);
	ldns_pkt_free(p);
	ldns_pkt_free(expect_answer("Unknown.", DNS_TYPE_AAAA, 0, NULL));
	mkq(&q, 1, RD, "unknown.com", DNS_TYPE_A, DNS_CLASS_IN, -1);
	expect_forward(&q);
	mkq(&q, 1, RD, "unknown", DNS_TYPE_MX, DNS_CLASS_IN, -1);
	expect_forward(&q);
	mkq(&q, 1, RD, ".", DNS_TYPE_A, DNS_CLASS_IN, -1);
	expect_forward(&q);
}
END_TEST

/* The verdict of name/type/class over UDP and TCP: the same kind and
 * the same ask_docker both ways; returns the kind. */
static int
ask_verdict(const struct dns_zone *z, const char *name, uint16_t type,
    uint16_t qclass, bool *ret_ask)
{
	struct q q;
	ldns_pkt *p;
	int ru, rt;
	bool au;

	mkq(&q, 0x2468, RD, name, type, qclass, -1);
	ru = run(z, &q, false, &p);
	ldns_pkt_free(p);
	au = v.ask_docker;
	if (au)
		ck_assert(v.has_question);
	rt = run(z, &q, true, &p);
	ldns_pkt_free(p);
	ck_assert_int_eq(ru, rt);
	ck_assert_msg(au == v.ask_docker, "%s: ask_docker differs over TCP",
	    name);
	*ret_ask = au;
	return ru;
}

static void
expect_ask(const struct dns_zone *z, const char *name, uint16_t type,
    uint16_t qclass, int kind, bool ask)
{
	bool got;
	int r = ask_verdict(z, name, type, qclass, &got);

	ck_assert_msg(r == kind, "%s type %u: %s, want %s", name, type,
	    dns_verdict_str(r), dns_verdict_str(kind));
	ck_assert_msg(got == ask, "%s type %u: ask_docker %d, want %d (%s)",
	    name, type, got, ask, v.why ? v.why : "");
}

/* Which names not in the zone look local (answer.h, "Names Docker may
 * know first"): the flag, with the verdict it would have had anyway. */
START_TEST(ask_docker)
{
	static const char *const local[] = { "newbie", "NewBie.", "new-bie_2",
	    "n1", "newbie.n1", "NEWBIE.N2.", "a.b.n1", "x.my.net",
	    "a.b.my.net", "only2.n1", "c2.n2", "web.my.net", "net", NULL };
	static const char *const other[] = { "newbie.example.com",
	    "newbie.net", "newbie.n1.com", "newbie.n3", "my.net",
	    "x.n1x", ".", NULL };
	static const uint16_t types[] = { DNS_TYPE_MX, DNS_TYPE_TXT,
	    DNS_TYPE_SRV, DNS_TYPE_CNAME, DNS_TYPE_ANY, DNS_TYPE_PTR };
	struct dns_zone *empty;
	struct q q;

	for (size_t i = 0; local[i] != NULL; i++) {
		expect_ask(zone, local[i], DNS_TYPE_A, DNS_CLASS_IN,
		    DNS_FORWARD, true);
		ck_assert_str_eq(v.why, "looks local, not in the zone");
		expect_ask(zone, local[i], DNS_TYPE_AAAA, DNS_CLASS_IN,
		    DNS_FORWARD, true);
		expect_ask(zone, local[i], DNS_TYPE_A, DNS_CLASS_ANY,
		    DNS_FORWARD, true);
		/* Other classes are not Docker's names. */
		expect_ask(zone, local[i], DNS_TYPE_A, DNS_CLASS_CH,
		    DNS_FORWARD, false);
		for (size_t t = 0; t < sizeof(types) / sizeof(types[0]); t++)
			expect_ask(zone, local[i], types[t], DNS_CLASS_IN,
			    DNS_FORWARD, false);
	}
	for (size_t i = 0; other[i] != NULL; i++) {
		expect_ask(zone, other[i], DNS_TYPE_A, DNS_CLASS_IN,
		    DNS_FORWARD, false);
		expect_ask(zone, other[i], DNS_TYPE_AAAA, DNS_CLASS_IN,
		    DNS_FORWARD, false);
	}
	/* Names the zone answers, NODATA included, are never asked. */
	expect_ask(zone, "web", DNS_TYPE_A, DNS_CLASS_IN, DNS_REPLY, false);
	expect_ask(zone, "c2", DNS_TYPE_AAAA, DNS_CLASS_IN, DNS_REPLY, false);
	expect_ask(zone, "dotted.my.net", DNS_TYPE_A, DNS_CLASS_IN, DNS_REPLY,
	    false);
	expect_ask(zone, "c1", DNS_TYPE_MX, DNS_CLASS_IN, DNS_REPLY, false);
	/* Bytes no Docker name has: not local. */
	put_header(&q, 1, RD, 1, 0, 0, 0);
	put8(&q, 4);
	put8(&q, 'n');
	put8(&q, ' ');
	put8(&q, 'e');
	put8(&q, 'w');
	put8(&q, 0);
	put16(&q, DNS_TYPE_A);
	put16(&q, DNS_CLASS_IN);
	expect_forward(&q);
	ck_assert(!v.ask_docker);
	put_header(&q, 1, RD, 1, 0, 0, 0);
	put8(&q, 5);
	put8(&q, 'c');
	put8(&q, '9');
	put8(&q, '.');
	put8(&q, 'n');
	put8(&q, '1');
	put8(&q, 0);
	put16(&q, DNS_TYPE_A);
	put16(&q, DNS_CLASS_IN);
	expect_forward(&q);
	ck_assert(!v.ask_docker);
	/* Errors and refusals carry no flag. */
	mkq(&q, 1, RD, "newbie", DNS_TYPE_AXFR, DNS_CLASS_IN, -1);
	ldns_pkt_free(expect_reply(&q, false, DNS_RCODE_REFUSED));
	ck_assert(!v.ask_docker);
	put_header(&q, 1, RD, 1, 0, 0, 1);
	put_name(&q, "newbie");
	put16(&q, DNS_TYPE_A);
	put16(&q, DNS_CLASS_IN);
	put_opt(&q, 1232, 1, false);
	ldns_pkt_free(expect_reply(&q, false, DNS_RCODE_BADVERS));
	ck_assert(!v.ask_docker);

	/* The single-label switch: the NODATA reply it makes is flagged,
	 * since it would deny a name Docker knows as NXDOMAIN would. */
	dns_zone_set_nodata_single_label(zone, true);
	expect_ask(zone, "newbie", DNS_TYPE_A, DNS_CLASS_IN, DNS_REPLY, true);
	ck_assert(v.local);
	ck_assert_uint_eq(v.ancount, 0);
	ck_assert_int_eq(v.rcode, DNS_RCODE_NOERROR);
	expect_ask(zone, "newbie", DNS_TYPE_AAAA, DNS_CLASS_IN, DNS_REPLY,
	    true);
	expect_ask(zone, "newbie.n1", DNS_TYPE_A, DNS_CLASS_IN, DNS_FORWARD,
	    true);
	expect_ask(zone, "newbie.com", DNS_TYPE_A, DNS_CLASS_IN, DNS_FORWARD,
	    false);
	expect_ask(zone, "newbie", DNS_TYPE_MX, DNS_CLASS_IN, DNS_FORWARD,
	    false);
	expect_ask(zone, "web", DNS_TYPE_A, DNS_CLASS_IN, DNS_REPLY, false);

	/* A zone without networks: one label only. */
	empty = dns_zone_new();
	ck_assert_ptr_nonnull(empty);
	expect_ask(empty, "web", DNS_TYPE_A, DNS_CLASS_IN, DNS_FORWARD, true);
	expect_ask(empty, "web.n1", DNS_TYPE_A, DNS_CLASS_IN, DNS_FORWARD,
	    false);
	dns_zone_free(empty);
}
END_TEST

/* moby's TestReplySERVFAIL b/c: not local -> forward verdict with
 * everything the forwarder needs; its SERVFAIL comes from
 * dns_reply_error. */
START_TEST(forward_verdict)
{
	struct q q;
	ldns_pkt *p;

	mkq(&q, 0xABCD, RD | CD, "WwW.Example.COM", DNS_TYPE_A, DNS_CLASS_IN,
	    1400);
	expect_forward(&q);
	ck_assert(!v.ask_docker);
	ck_assert_uint_eq(v.id, 0xABCD);
	ck_assert(v.rd && v.cd);
	ck_assert_uint_eq(v.qtype, DNS_TYPE_A);
	ck_assert_uint_eq(v.qclass, DNS_CLASS_IN);
	ck_assert(v.edns);
	ck_assert_uint_eq(v.edns_size, 1400);
	ck_assert_uint_eq(v.limit, 1232);
	ck_assert_str_eq(v.qname, "www.example.com.");
	ck_assert_str_eq(v.qname_raw, "WwW.Example.COM.");
	ck_assert_uint_eq(v.qname_len, 17);
	ck_assert_mem_eq(v.qname_wire, q.b + 12, 17);
	ck_assert_uint_eq(v.question_len, 21);

	ck_assert_int_eq(dns_reply_error(q.b, q.n, DNS_RCODE_SERVFAIL, out,
	    sizeof(out), &outlen), 0);
	ck_assert_int_eq(ldns_wire2pkt(&p, out, outlen), LDNS_STATUS_OK);
	ck_assert_int_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_SERVFAIL);
	ck_assert_uint_eq(ldns_pkt_id(p), 0xABCD);
	ck_assert(ldns_pkt_qr(p) && ldns_pkt_rd(p) && ldns_pkt_cd(p));
	ck_assert(!ldns_pkt_ra(p));
	ck_assert_uint_eq(ldns_pkt_qdcount(p), 1);
	ck_assert(ldns_pkt_edns(p));
	ldns_pkt_free(p);

	/* REFUSED to an unparsable query: header only. */
	put_header(&q, 0x4321, RD, 1, 0, 0, 0);
	put8(&q, 0xC0);
	put8(&q, 0x0C);
	ck_assert_int_eq(dns_reply_error(q.b, q.n, DNS_RCODE_REFUSED, out,
	    sizeof(out), &outlen), 0);
	ck_assert_uint_eq(outlen, DNS_HEADER_LEN);
	ck_assert_int_eq(ldns_wire2pkt(&p, out, outlen), LDNS_STATUS_OK);
	ck_assert_int_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_REFUSED);
	ck_assert_uint_eq(ldns_pkt_id(p), 0x4321);
	ldns_pkt_free(p);
	ck_assert_int_eq(dns_reply_error(q.b, 11, DNS_RCODE_REFUSED, out,
	    sizeof(out), &outlen), -EINVAL);
	ck_assert_int_eq(dns_reply_error(q.b, q.n, 16, out, sizeof(out),
	    &outlen), -EINVAL);
}
END_TEST

/* Names with bytes outside the host-name set are shown escaped and never
 * match a local name. */
START_TEST(escaped_names)
{
	struct q q;

	put_header(&q, 1, RD, 1, 0, 0, 0);
	put8(&q, 5);
	put8(&q, 'c');
	put8(&q, '1');
	put8(&q, '.');
	put8(&q, 'n');
	put8(&q, '1');
	put8(&q, 3);
	put8(&q, 'A');
	put8(&q, ' ');
	put8(&q, 0xFF);
	put8(&q, 0);
	put16(&q, DNS_TYPE_A);
	put16(&q, DNS_CLASS_IN);
	expect_forward(&q);
	ck_assert_str_eq(v.qname_raw, "c1\\.n1.A\\032\\255.");
	ck_assert_str_eq(v.qname, "c1\\.n1.a\\032\\255.");
}
END_TEST

/* --- hostile input --- */

START_TEST(hostile)
{
	struct q q;
	ldns_pkt *p;

	/* Under 12 bytes: no reply. */
	mkq(&q, 1, RD, "c1", DNS_TYPE_A, DNS_CLASS_IN, -1);
	for (size_t n = 0; n < DNS_HEADER_LEN; n++) {
		struct q s = { .n = n };

		memcpy(s.b, q.b, n);
		expect_drop(&s);
	}
	/* QR=1, even well formed: no reply. */
	mkq(&q, 1, QR | RD, "c1", DNS_TYPE_A, DNS_CLASS_IN, -1);
	expect_drop(&q);
	/* No question: no reply. */
	put_header(&q, 1, RD, 0, 0, 0, 0);
	expect_drop(&q);
	/* Opcodes other than QUERY, NOTIFY included: NOTIMP. */
	for (unsigned int op = 1; op < 16; op++) {
		mkq(&q, 0x77, (uint16_t)(op << 11 | RD), "c1", DNS_TYPE_A,
		    DNS_CLASS_IN, -1);
		p = expect_reply(&q, false, DNS_RCODE_NOTIMP);
		ck_assert_uint_eq(ldns_pkt_get_opcode(p), op);
		ck_assert_uint_eq(ldns_pkt_qdcount(p), 0);
		ldns_pkt_free(p);
	}
	/* Section counts out of range: FORMERR. */
	put_header(&q, 1, RD, 2, 0, 0, 0);
	put_name(&q, "c1");
	put16(&q, 1);
	put16(&q, 1);
	put_name(&q, "c2");
	put16(&q, 1);
	put16(&q, 1);
	expect_formerr(&q);
	mkq(&q, 1, RD, "c1", DNS_TYPE_A, DNS_CLASS_IN, -1);
	q.b[7] = 1;		/* ANCOUNT 1 */
	expect_formerr(&q);
	q.b[7] = 0;
	q.b[9] = 1;		/* NSCOUNT 1 */
	expect_formerr(&q);
	q.b[9] = 0;
	q.b[11] = 2;		/* ARCOUNT 2 */
	expect_formerr(&q);
	/* Counts beyond the packet: header says 1 question, none. */
	put_header(&q, 1, RD, 1, 0, 0, 0);
	expect_formerr(&q);
	/* Question without type/class, or half of it. */
	put_header(&q, 1, RD, 1, 0, 0, 0);
	put_name(&q, "c1");
	expect_formerr(&q);
	put16(&q, 1);
	put8(&q, 0);
	expect_formerr(&q);
	/* ARCOUNT 1 but nothing there. */
	mkq(&q, 1, RD, "c1", DNS_TYPE_A, DNS_CLASS_IN, -1);
	q.b[11] = 1;
	expect_formerr(&q);
	/* Trailing bytes. */
	mkq(&q, 1, RD, "c1", DNS_TYPE_A, DNS_CLASS_IN, -1);
	put8(&q, 0);
	expect_formerr(&q);
	/* Compression: a pointer to itself, a forward pointer, a pointer
	 * into the header, a pointer after a label. */
	put_header(&q, 1, RD, 1, 0, 0, 0);
	put8(&q, 0xC0);
	put8(&q, 0x0C);
	put16(&q, 1);
	put16(&q, 1);
	expect_formerr(&q);
	ck_assert_ptr_nonnull(strstr(v.why, "compression"));
	put_header(&q, 1, RD, 1, 0, 0, 0);
	put8(&q, 0xC0);
	put8(&q, 0x12);
	put16(&q, 1);
	put16(&q, 1);
	put8(&q, 1);
	put8(&q, 'a');
	put8(&q, 0);
	expect_formerr(&q);
	put_header(&q, 1, RD, 1, 0, 0, 0);
	put8(&q, 2);
	put8(&q, 'c');
	put8(&q, '1');
	put8(&q, 0xC0);
	put8(&q, 0x02);
	put16(&q, 1);
	put16(&q, 1);
	expect_formerr(&q);
	/* Label 64 (top bits 01) and extended label 0x80. */
	for (int t = 0; t < 2; t++) {
		put_header(&q, 1, RD, 1, 0, 0, 0);
		put8(&q, t ? 0x80 : 64);
		for (int i = 0; i < 64; i++)
			put8(&q, 'a');
		put8(&q, 0);
		put16(&q, 1);
		put16(&q, 1);
		expect_formerr(&q);
	}
	/* Label running past the end. */
	put_header(&q, 1, RD, 1, 0, 0, 0);
	put8(&q, 10);
	put8(&q, 'a');
	expect_formerr(&q);
	/* Names of 255 (fine) and 256 bytes (FORMERR). */
	for (int extra = 0; extra < 2; extra++) {
		put_header(&q, 1, RD, 1, 0, 0, 0);
		/* 4 labels of 62 = 252, + 1 label of (1 + extra), + root. */
		for (int l = 0; l < 4; l++) {
			put8(&q, 62);
			for (int i = 0; i < 62; i++)
				put8(&q, 'a');
		}
		put8(&q, (unsigned int)(1 + extra));
		for (int i = 0; i < 1 + extra; i++)
			put8(&q, 'b');
		put8(&q, 0);
		put16(&q, 1);
		put16(&q, 1);
		if (extra) {
			expect_formerr(&q);
			ck_assert_ptr_nonnull(strstr(v.why, "255"));
		} else {
			expect_forward(&q);
			ck_assert_uint_eq(v.qname_len, 255);
		}
	}
	/* ARCOUNT 3 with empty TSIGs (ldns leaks memory on these): FORMERR
	 * before anything reaches ldns.  The sanitizer build checks for
	 * leaks. */
	put_header(&q, 1, RD, 1, 0, 0, 3);
	put_name(&q, "c1");
	put16(&q, 1);
	put16(&q, 1);
	for (int i = 0; i < 3; i++) {
		put8(&q, 0);
		put16(&q, DNS_TYPE_TSIG);
		put16(&q, 255);
		put16(&q, 0);
		put16(&q, 0);
		put16(&q, 0);
	}
	for (int i = 0; i < 100; i++)
		expect_formerr(&q);
	/* One TSIG instead of an OPT. */
	q.b[11] = 1;
	q.n = 12 + 4 + 4 + 11;
	expect_formerr(&q);
	ck_assert_ptr_nonnull(strstr(v.why, "TSIG"));
	/* OPT with a non-root owner, or bad RDATA. */
	put_header(&q, 1, RD, 1, 0, 0, 1);
	put_name(&q, "c1");
	put16(&q, 1);
	put16(&q, 1);
	put_name(&q, "x");
	put16(&q, DNS_TYPE_OPT);
	put16(&q, 1232);
	put16(&q, 0);
	put16(&q, 0);
	put16(&q, 0);
	expect_formerr(&q);
	mkq(&q, 1, RD, "c1", DNS_TYPE_A, DNS_CLASS_IN, 1232);
	q.b[q.n - 1] = 3;	/* RDLENGTH 3, no bytes */
	expect_formerr(&q);
	put8(&q, 0);
	put8(&q, 10);
	put8(&q, 0);		/* 3 bytes: not an option */
	expect_formerr(&q);
	/* NULL arguments. */
	ck_assert_int_eq(dns_answer(NULL, q.b, q.n, false, out, sizeof(out),
	    &outlen, &v), -EINVAL);
	ck_assert_int_eq(dns_answer(zone, q.b, q.n, false, out, sizeof(out),
	    &outlen, NULL), -EINVAL);
}
END_TEST

/* Random packets and mutations of valid ones: never a reply that does not
 * parse, is too long or has the wrong ID (a small fuzz in the unit run;
 * the real one is tests/fuzz/fuzz_dns.c). */
START_TEST(random_input)
{
	uint32_t s = 12345;
	struct q q, base;
	ldns_pkt *p;

	mkq(&base, 1, RD, "web.n1", DNS_TYPE_A, DNS_CLASS_IN, 1232);
	for (int i = 0; i < 20000; i++) {
		s = s * 1103515245u + 12345u;
		if (i % 2 == 0) {
			q = base;
			for (int k = 0; k < 3; k++) {
				s = s * 1103515245u + 12345u;
				q.b[(s >> 8) % q.n] = (uint8_t)(s >> 20);
			}
			q.b[2] &= 0x7F;
			q.n -= (s >> 4) % 3 == 0 ? (s >> 12) % q.n : 0;
		} else {
			q.n = (s >> 8) % 64;
			for (size_t k = 0; k < q.n; k++) {
				s = s * 1103515245u + 12345u;
				q.b[k] = (uint8_t)(s >> 16);
			}
		}
		(void) run(zone, &q, i % 3 == 0, &p);
		ldns_pkt_free(p);
	}
}
END_TEST

START_TEST(question_match)
{
	struct q q;
	uint8_t name[] = { 3, 'w', 'w', 'w', 2, 'e', 'x', 0 };

	mkq(&q, 0x1111, QR, "WWW.eX", DNS_TYPE_A, DNS_CLASS_IN, -1);
	ck_assert_int_eq(dns_question_match(q.b, q.n, 0x1111, name,
	    sizeof(name), DNS_TYPE_A, DNS_CLASS_IN), 1);
	ck_assert_int_eq(dns_question_match(q.b, q.n, 0x1112, name,
	    sizeof(name), DNS_TYPE_A, DNS_CLASS_IN), 0);
	ck_assert_int_eq(dns_question_match(q.b, q.n, 0x1111, name,
	    sizeof(name), DNS_TYPE_AAAA, DNS_CLASS_IN), 0);
	ck_assert_int_eq(dns_question_match(q.b, q.n, 0x1111, name,
	    sizeof(name), DNS_TYPE_A, DNS_CLASS_CH), 0);
	name[1] = 'x';
	ck_assert_int_eq(dns_question_match(q.b, q.n, 0x1111, name,
	    sizeof(name), DNS_TYPE_A, DNS_CLASS_IN), 0);
	name[1] = 'w';
	ck_assert_int_eq(dns_question_match(q.b, q.n - 1, 0x1111, name,
	    sizeof(name), DNS_TYPE_A, DNS_CLASS_IN), 0);
	q.b[2] &= 0x7F;		/* not a response */
	ck_assert_int_eq(dns_question_match(q.b, q.n, 0x1111, name,
	    sizeof(name), DNS_TYPE_A, DNS_CLASS_IN), 0);
	mkq(&q, 0x1111, QR, "www.ex.x", DNS_TYPE_A, DNS_CLASS_IN, -1);
	ck_assert_int_eq(dns_question_match(q.b, q.n, 0x1111, name,
	    sizeof(name), DNS_TYPE_A, DNS_CLASS_IN), 0);
	ck_assert_int_eq(dns_question_match(q.b, 5, 0x1111, name,
	    sizeof(name), DNS_TYPE_A, DNS_CLASS_IN), 0);
	ck_assert_str_eq(dns_verdict_str(DNS_FORWARD), "forward");
	ck_assert_str_eq(dns_verdict_str(-1), "?");
}
END_TEST

/* The forwarder's reading of an upstream's message (dns/forward.h). */
START_TEST(upstream_action)
{
	static const struct {
		uint16_t	flags;
		bool		tcp;
		enum dns_up_action want;
	} cases[] = {
		{ QR | RD | RA, false, DNS_UP_TAKE },
		{ QR | RA | 3, false, DNS_UP_TAKE },		/* NXDOMAIN */
		{ QR | 1, true, DNS_UP_TAKE },			/* FORMERR */
		{ QR | 4, false, DNS_UP_TAKE },			/* NOTIMP */
		{ QR | 2, false, DNS_UP_NEXT },			/* SERVFAIL */
		{ QR | 5, true, DNS_UP_NEXT },			/* REFUSED */
		{ QR | TC, false, DNS_UP_RETRY_TCP },
		{ QR | TC | 2, false, DNS_UP_RETRY_TCP },	/* TC first */
		{ QR | TC, true, DNS_UP_TAKE },		/* TC over TCP */
		{ QR | TC | 5, true, DNS_UP_NEXT },
		{ RD, false, DNS_UP_IGNORE },			/* a query */
		{ TC | 2, true, DNS_UP_IGNORE },
	};
	uint8_t name[] = { 3, 'w', 'w', 'w', 2, 'e', 'x', 0 };
	struct q q;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		mkq(&q, 0x2222, cases[i].flags, "www.EX", DNS_TYPE_AAAA,
		    DNS_CLASS_IN, 1232);
		ck_assert_msg(dns_upstream_action(q.b, q.n, 0x2222, name,
		    sizeof(name), DNS_TYPE_AAAA, DNS_CLASS_IN, cases[i].tcp) ==
		    cases[i].want, "case %zu", i);
		/* Not our question or ID: ignored whatever the flags. */
		ck_assert_int_eq(dns_upstream_action(q.b, q.n, 0x2223, name,
		    sizeof(name), DNS_TYPE_AAAA, DNS_CLASS_IN, cases[i].tcp),
		    DNS_UP_IGNORE);
		ck_assert_int_eq(dns_upstream_action(q.b, q.n, 0x2222, name,
		    sizeof(name), DNS_TYPE_A, DNS_CLASS_IN, cases[i].tcp),
		    DNS_UP_IGNORE);
		ck_assert_int_eq(dns_upstream_action(q.b, 11, 0x2222, name,
		    sizeof(name), DNS_TYPE_AAAA, DNS_CLASS_IN, cases[i].tcp),
		    DNS_UP_IGNORE);
	}
}
END_TEST

Suite *
dns_answer_suite(void)
{
	Suite *s = suite_create("dns_answer");
	TCase *tc = tcase_create("zone");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, zone_validation);
	tcase_add_test(tc, zone_name_length);
	tcase_add_test(tc, zone_lookup);
	tcase_add_test(tc, names_order);
	suite_add_tcase(s, tc);

	tc = tcase_create("answer");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, ip_query);
	tcase_add_test(tc, families);
	tcase_add_test(tc, nodata);
	tcase_add_test(tc, ttl);
	tcase_add_test(tc, all_addresses);
	tcase_add_test(tc, networks);
	tcase_add_test(tc, mx);
	tcase_add_test(tc, ptr);
	tcase_add_test(tc, other_types);
	tcase_add_test(tc, class);
	tcase_add_test(tc, flags);
	tcase_add_test(tc, edns);
	tcase_add_test(tc, truncation);
	tcase_add_test(tc, single_label);
	tcase_add_test(tc, ask_docker);
	tcase_add_test(tc, forward_verdict);
	tcase_add_test(tc, escaped_names);
	tcase_add_test(tc, question_match);
	tcase_add_test(tc, upstream_action);
	suite_add_tcase(s, tc);

	tc = tcase_create("hostile");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, hostile);
	tcase_add_test(tc, random_input);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return s;
}
