/*
 * The pure half of the 127.0.0.11 redirect (firewall/dnsiplan.c): the nft
 * scripts, the check of nft's JSON listing (on output captured from nft
 * 1.0.6 and variants of it), and the reading of sock_diag dumps.  The I/O
 * half is tested in tests/integration/dns_intercept.sh.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/tcp.h>

#include <check.h>

#include "firewall/dnsintercept.h"
#include "tests/unit/suites.h"

/* `nft -j list table ip cbridge-dns` after dnsi_apply(169.254.53.53). */
static const char PLANNED[] =
    "{\"nftables\": [{\"metainfo\": {\"version\": \"1.0.6\", \"release_name\":"
    " \"Lester Gooch #5\", \"json_schema_version\": 1}}, {\"table\": "
    "{\"family\": \"ip\", \"name\": \"cbridge-dns\", \"handle\": 3}}, "
    "{\"chain\": {\"family\": \"ip\", \"table\": \"cbridge-dns\", \"name\": "
    "\"dns-redirect\", \"handle\": 1, \"type\": \"nat\", \"hook\": "
    "\"output\", \"prio\": -150, \"policy\": \"accept\"}}, {\"rule\": "
    "{\"family\": \"ip\", \"table\": \"cbridge-dns\", \"chain\": "
    "\"dns-redirect\", \"handle\": 2, \"expr\": [{\"match\": {\"op\": "
    "\"==\", \"left\": {\"payload\": {\"protocol\": \"ip\", \"field\": "
    "\"daddr\"}}, \"right\": \"127.0.0.11\"}}, {\"match\": {\"op\": \"==\", "
    "\"left\": {\"payload\": {\"protocol\": \"udp\", \"field\": \"dport\"}}, "
    "\"right\": 53}}, {\"counter\": {\"packets\": 0, \"bytes\": 0}}, "
    "{\"dnat\": {\"addr\": \"169.254.53.53\", \"port\": 53}}]}}, {\"rule\": "
    "{\"family\": \"ip\", \"table\": \"cbridge-dns\", \"chain\": "
    "\"dns-redirect\", \"handle\": 3, \"expr\": [{\"match\": {\"op\": "
    "\"==\", \"left\": {\"payload\": {\"protocol\": \"ip\", \"field\": "
    "\"daddr\"}}, \"right\": \"127.0.0.11\"}}, {\"match\": {\"op\": \"==\", "
    "\"left\": {\"payload\": {\"protocol\": \"tcp\", \"field\": \"dport\"}}, "
    "\"right\": 53}}, {\"counter\": {\"packets\": 0, \"bytes\": 0}}, "
    "{\"dnat\": {\"addr\": \"169.254.53.53\", \"port\": 53}}]}}]}";

/* The rule someone added in the integration test, as nft prints it. */
#define EXTRA_RULE \
    ", {\"rule\": {\"family\": \"ip\", \"table\": \"cbridge-dns\", " \
    "\"chain\": \"dns-redirect\", \"handle\": 6, \"expr\": [{\"match\": " \
    "{\"op\": \"==\", \"left\": {\"payload\": {\"protocol\": \"udp\", " \
    "\"field\": \"dport\"}}, \"right\": 54}}, {\"accept\": null}]}}"

static struct in_addr
A(const char *s)
{
	struct in_addr a;

	ck_assert_int_eq(inet_pton(AF_INET, s, &a), 1);
	return a;
}

/* doc with the n bytes at off replaced by ins; the caller frees it. */
static char *
splice(const char *doc, size_t off, size_t n, const char *ins)
{
	size_t dl = strlen(doc), il = strlen(ins);
	char *out;

	ck_assert_uint_le(off + n, dl);
	out = malloc(dl - n + il + 1);
	ck_assert_ptr_nonnull(out);
	memcpy(out, doc, off);
	memcpy(out + off, ins, il);
	memcpy(out + off + il, doc + off + n, dl - off - n + 1);
	return out;
}

/* doc with its first "from" replaced by "to" (from must be there). */
static char *
edit(const char *doc, const char *from, const char *to)
{
	const char *p = strstr(doc, from);

	ck_assert_msg(p != NULL, "fixture lacks %s", from);
	return splice(doc, (size_t)(p - doc), strlen(from), to);
}

/* The same for every "from". */
static char *
edit_all(const char *doc, const char *from, const char *to)
{
	char *out = edit(doc, from, to);
	const char *p;

	while ((p = strstr(out, from)) != NULL) {
		char *next = splice(out, (size_t)(p - out), strlen(from), to);

		free(out);
		out = next;
	}
	return out;
}

static enum dnsi_state
state_of(const char *json, const char *to)
{
	struct in_addr a = A(to);
	enum dnsi_state st = (enum dnsi_state)-1;

	ck_assert_int_eq(dnsi_plan_check(json, &a, &st), 0);
	return st;
}

/* The state of PLANNED with one edit, for target 169.254.53.53. */
static enum dnsi_state
edited(const char *from, const char *to)
{
	char *doc = edit(PLANNED, from, to);
	enum dnsi_state st = state_of(doc, "169.254.53.53");

	free(doc);
	return st;
}

START_TEST(apply_script)
{
	static const char want[] =
	    "add table ip cbridge-dns\n"
	    "delete table ip cbridge-dns\n"
	    "add table ip cbridge-dns\n"
	    "add chain ip cbridge-dns dns-redirect { type nat hook output "
	    "priority -150; policy accept; }\n"
	    "add rule ip cbridge-dns dns-redirect ip daddr 127.0.0.11 udp "
	    "dport 53 counter dnat to 169.254.53.53:53\n"
	    "add rule ip cbridge-dns dns-redirect ip daddr 127.0.0.11 tcp "
	    "dport 53 counter dnat to 169.254.53.53:53\n";
	struct in_addr a = A("169.254.53.53");
	char buf[DNSI_SCRIPT_MAX];

	ck_assert_int_eq(dnsi_plan_apply(&a, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, want);
	/* Every shorter buffer is refused, the exact size is enough. */
	for (size_t n = 0; n <= strlen(want); n++)
		ck_assert_int_eq(dnsi_plan_apply(&a, buf, n), -ENOBUFS);
	ck_assert_int_eq(dnsi_plan_apply(&a, buf, strlen(want) + 1), 0);
	ck_assert_str_eq(buf, want);
}
END_TEST

START_TEST(apply_longest_address_fits)
{
	struct in_addr a = A("255.255.255.254");
	char buf[DNSI_SCRIPT_MAX];

	ck_assert_int_eq(dnsi_plan_apply(&a, buf, sizeof(buf)), 0);
	ck_assert_ptr_nonnull(strstr(buf, "tcp dport 53 counter dnat to "
	    "255.255.255.254:53\n"));
}
END_TEST

START_TEST(apply_refuses_targets)
{
	static const char *const bad[] = { "0.0.0.0", "255.255.255.255",
	    "224.0.0.1", "239.255.255.250", "127.0.0.11" };
	char buf[DNSI_SCRIPT_MAX];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct in_addr a = A(bad[i]);

		ck_assert_msg(dnsi_plan_apply(&a, buf, sizeof(buf)) == -EINVAL,
		    "%s accepted", bad[i]);
	}
	ck_assert_int_eq(dnsi_plan_apply(NULL, buf, sizeof(buf)), -EINVAL);
	/* Loopback addresses other than dockerd's are fine. */
	{
		struct in_addr a = A("127.0.0.53");

		ck_assert_int_eq(dnsi_plan_apply(&a, buf, sizeof(buf)), 0);
	}
}
END_TEST

START_TEST(remove_script)
{
	static const char want[] = "add table ip cbridge-dns\n"
	    "delete table ip cbridge-dns\n";
	char buf[DNSI_SCRIPT_MAX];

	ck_assert_int_eq(dnsi_plan_remove(buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, want);
	ck_assert_int_eq(dnsi_plan_remove(buf, strlen(want)), -ENOBUFS);
	ck_assert_int_eq(dnsi_plan_remove(buf, strlen(want) + 1), 0);
}
END_TEST

START_TEST(check_planned)
{
	ck_assert_int_eq(state_of(PLANNED, "169.254.53.53"), DNSI_OK);
	/* The plan for another target is not this table. */
	ck_assert_int_eq(state_of(PLANNED, "169.254.53.54"), DNSI_DRIFTED);
	ck_assert_int_eq(state_of(PLANNED, "10.0.0.1"), DNSI_DRIFTED);
}
END_TEST

START_TEST(check_absent)
{
	static const char empty[] = "{\"nftables\": [{\"metainfo\": "
	    "{\"version\": \"1.0.6\", \"json_schema_version\": 1}}]}";
	char *doc;

	ck_assert_int_eq(state_of(empty, "169.254.53.53"), DNSI_ABSENT);
	ck_assert_int_eq(state_of("{\"nftables\": []}", "169.254.53.53"),
	    DNSI_ABSENT);
	/* The same table in family ip6 is not ours. */
	doc = edit_all(PLANNED, "\"family\": \"ip\"", "\"family\": \"ip6\"");
	ck_assert_int_eq(state_of(doc, "169.254.53.53"), DNSI_ABSENT);
	free(doc);
	/* Objects of ours without the table (not what nft prints): not
	 * absent, so that apply replaces whatever it is. */
	doc = edit(PLANNED, "\"family\": \"ip\", \"name\": \"cbridge-dns\"",
	    "\"family\": \"ip6\", \"name\": \"cbridge-dns\"");
	ck_assert_int_eq(state_of(doc, "169.254.53.53"), DNSI_DRIFTED);
	free(doc);
}
END_TEST

/* Everything of ours in the listing is compared, nothing else is. */
START_TEST(check_ignores_other_tables)
{
	static const char docker[] = "{\"table\": {\"family\": \"ip\", "
	    "\"name\": \"docker-dns\", \"handle\": 1}}, {\"chain\": "
	    "{\"family\": \"ip\", \"table\": \"docker-dns\", \"name\": "
	    "\"dns-dnat\", \"handle\": 1, \"type\": \"nat\", \"hook\": "
	    "\"output\", \"prio\": -100, \"policy\": \"accept\"}}, {\"rule\": "
	    "{\"family\": \"ip\", \"table\": \"docker-dns\", \"chain\": "
	    "\"dns-dnat\", \"handle\": 2, \"expr\": [{\"accept\": null}]}}, "
	    "{\"set\": {\"family\": \"ip\", \"name\": \"s\", \"table\": "
	    "\"docker-dns\", \"type\": \"ipv4_addr\", \"handle\": 4}}, "
	    "{\"table\": {\"family\": \"ip6\", \"name\": \"cbridge-dns\", "
	    "\"handle\": 9}}, {\"chain\": {\"family\": \"ip6\", \"table\": "
	    "\"cbridge-dns\", \"name\": \"x\", \"handle\": 1}}, ";
	const char *at = strstr(PLANNED, "{\"table\"");
	char *doc;

	/* Before ours, as `list ruleset` would print it. */
	ck_assert_ptr_nonnull(at);
	doc = splice(PLANNED, (size_t)(at - PLANNED), 0, docker);
	ck_assert_int_eq(state_of(doc, "169.254.53.53"), DNSI_OK);
	free(doc);
	/* Only the other tables: ours is absent. */
	doc = edit("{\"nftables\": [@{\"table\": {\"family\": \"inet\", "
	    "\"name\": \"cbridge-dns\", \"handle\": 2}}]}", "@", docker);
	ck_assert_int_eq(state_of(doc, "169.254.53.53"), DNSI_ABSENT);
	free(doc);
}
END_TEST

START_TEST(check_counters_and_dnat_family)
{
	ck_assert_int_eq(edited("{\"counter\": {\"packets\": 0, \"bytes\": 0}}",
	    "{\"counter\": {\"packets\": 12, \"bytes\": 900}}"), DNSI_OK);
	/* nft versions that print a dnat's family. */
	ck_assert_int_eq(edited("{\"addr\": \"169.254.53.53\", \"port\": 53}",
	    "{\"family\": \"ip\", \"addr\": \"169.254.53.53\", \"port\": 53}"),
	    DNSI_OK);
	ck_assert_int_eq(edited("{\"addr\": \"169.254.53.53\", \"port\": 53}",
	    "{\"family\": \"ip6\", \"addr\": \"169.254.53.53\", \"port\": 53}"),
	    DNSI_DRIFTED);
}
END_TEST

START_TEST(check_drift_table_and_chain)
{
	static const struct { const char *from, *to; } cases[] = {
		/* nft 1.0.6 prints a dormant table's flags as its name. */
		{ "\"handle\": 3}}, {\"chain\"",
		  "\"handle\": 3, \"flags\": \"cbridge-dns\"}}, {\"chain\"" },
		{ "\"handle\": 3}}, {\"chain\"",
		  "\"handle\": 3, \"flags\": \"dormant\"}}, {\"chain\"" },
		{ "\"prio\": -150", "\"prio\": -100" },
		{ "\"prio\": -150", "\"prio\": \"-150\"" },
		{ "\"hook\": \"output\"", "\"hook\": \"prerouting\"" },
		{ "\"type\": \"nat\"", "\"type\": \"filter\"" },
		{ "\"policy\": \"accept\"", "\"policy\": \"drop\"" },
		{ "\"name\": \"dns-redirect\"", "\"name\": \"other\"" },
		/* A second chain, base or not. */
		{ "\"policy\": \"accept\"}}",
		  "\"policy\": \"accept\"}}, {\"chain\": {\"family\": \"ip\", "
		  "\"table\": \"cbridge-dns\", \"name\": \"extra\", "
		  "\"handle\": 5}}" },
		/* Objects of other kinds in our table. */
		{ "\"policy\": \"accept\"}}",
		  "\"policy\": \"accept\"}}, {\"set\": {\"family\": \"ip\", "
		  "\"name\": \"s\", \"table\": \"cbridge-dns\", \"type\": "
		  "\"ipv4_addr\", \"handle\": 4}}" },
		{ "\"policy\": \"accept\"}}",
		  "\"policy\": \"accept\"}}, {\"counter\": {\"family\": \"ip\", "
		  "\"name\": \"c\", \"table\": \"cbridge-dns\", \"handle\": 4, "
		  "\"packets\": 0, \"bytes\": 0}}" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		ck_assert_msg(edited(cases[i].from, cases[i].to) ==
		    DNSI_DRIFTED, "case %zu (%s) not drift", i, cases[i].to);
}
END_TEST

START_TEST(check_drift_rules)
{
	static const struct { const char *from, *to; } cases[] = {
		{ "\"right\": \"127.0.0.11\"", "\"right\": \"127.0.0.12\"" },
		{ "\"right\": \"127.0.0.11\"", "\"right\": \"127.0.0.0/8\"" },
		{ "\"right\": 53}", "\"right\": 54}" },
		{ "\"right\": 53}", "\"right\": \"53\"}" },
		{ "\"op\": \"==\"", "\"op\": \"!=\"" },
		{ "\"field\": \"daddr\"", "\"field\": \"saddr\"" },
		{ "\"protocol\": \"udp\"", "\"protocol\": \"tcp\"" },
		{ "\"field\": \"dport\"", "\"field\": \"sport\"" },
		{ "\"port\": 53}", "\"port\": 5353}" },
		{ "\"dnat\"", "\"snat\"" },
		{ "{\"counter\": {\"packets\": 0, \"bytes\": 0}}, ", "" },
		{ "{\"counter\": {\"packets\": 0, \"bytes\": 0}}",
		  "{\"counter\": null}" },
		{ "{\"counter\": {\"packets\": 0, \"bytes\": 0}}",
		  "{\"log\": null}" },
		{ "{\"counter\": {\"packets\": 0, \"bytes\": 0}}, ",
		  "{\"counter\": {\"packets\": 0, \"bytes\": 0}}, "
		  "{\"log\": null}, " },
		{ "\"port\": 53}", "\"port\": 53, \"flags\": \"random\"}" },
		{ "\"chain\": \"dns-redirect\", \"handle\": 2",
		  "\"chain\": \"extra\", \"handle\": 2" },
		{ "\"protocol\": \"udp\"", "\"protocol\": \"udplite\"" },
		/* The tcp rule without expressions. */
		{ "\"handle\": 3, \"expr\": [", "\"handle\": 3, \"expr\": [], "
		  "\"x\": [" },
		{ "53}}]}}]}", "53}}]}}" EXTRA_RULE "]}" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		ck_assert_msg(edited(cases[i].from, cases[i].to) ==
		    DNSI_DRIFTED, "case %zu (%s) not drift", i, cases[i].to);
}
END_TEST

START_TEST(check_rule_count_and_order)
{
	/* Only the udp rule: PLANNED cut after it. */
	static const char tail[] = "53}}]}}, {\"rule\": {\"family\": \"ip\", "
	    "\"table\": \"cbridge-dns\", \"chain\": \"dns-redirect\", "
	    "\"handle\": 3";
	const char *p = strstr(PLANNED, tail);
	char *doc, *swapped;

	ck_assert_ptr_nonnull(p);
	doc = splice(PLANNED, (size_t)(p - PLANNED) + 7,
	    strlen(p + 7), "]}");
	ck_assert_int_eq(state_of(doc, "169.254.53.53"), DNSI_DRIFTED);
	free(doc);
	/* udp and tcp swapped. */
	doc = edit(PLANNED, "\"protocol\": \"udp\"", "\"protocol\": \"@\"");
	swapped = edit(doc, "\"protocol\": \"tcp\"", "\"protocol\": \"udp\"");
	free(doc);
	doc = edit(swapped, "\"protocol\": \"@\"", "\"protocol\": \"tcp\"");
	free(swapped);
	ck_assert_int_eq(state_of(doc, "169.254.53.53"), DNSI_DRIFTED);
	free(doc);
}
END_TEST

START_TEST(check_rejects)
{
	static const char *const bad[] = { "", "not json", "[]", "{}",
	    "{\"nftables\": {}}", "{\"nftables\": [1]}",
	    "{\"nftables\": [{\"table\": 1}]}",
	    "{\"nftables\": [{\"table\": {}, \"chain\": {}}]}",
	    "{\"nftables\": [], \"nftables\": []}" };
	struct in_addr a = A("169.254.53.53");
	enum dnsi_state st = DNSI_OK;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(dnsi_plan_check(bad[i], &a, &st) == -EBADMSG,
		    "accepted: %s", bad[i]);
	ck_assert_int_eq(dnsi_plan_check(NULL, &a, &st), -EBADMSG);
	ck_assert_int_eq(dnsi_plan_check(PLANNED, NULL, &st), -EBADMSG);
	ck_assert_int_eq(st, DNSI_OK);
}
END_TEST

/* ---- sock_diag ---- */

struct dump {
	unsigned char	buf[4096] __attribute__((aligned(NLMSG_ALIGNTO)));
	size_t		len;
};

static void
put_sock(struct dump *d, int family, int state, const char *src,
    uint16_t sport, const char *dst, uint16_t dport)
{
	struct nlmsghdr *nh = (struct nlmsghdr *)(d->buf + d->len);
	struct inet_diag_msg *m = NLMSG_DATA(nh);

	memset(nh, 0, NLMSG_SPACE(sizeof(*m)));
	nh->nlmsg_len = NLMSG_LENGTH(sizeof(*m));
	nh->nlmsg_type = SOCK_DIAG_BY_FAMILY;
	nh->nlmsg_flags = NLM_F_MULTI;
	m->idiag_family = (uint8_t)family;
	m->idiag_state = (uint8_t)state;
	ck_assert_int_eq(inet_pton(AF_INET, src, m->id.idiag_src), 1);
	ck_assert_int_eq(inet_pton(AF_INET, dst, m->id.idiag_dst), 1);
	m->id.idiag_sport = htons(sport);
	m->id.idiag_dport = htons(dport);
	d->len += NLMSG_SPACE(sizeof(*m));
}

static void
put_ctl(struct dump *d, int type, int error)
{
	struct nlmsghdr *nh = (struct nlmsghdr *)(d->buf + d->len);

	memset(nh, 0, NLMSG_SPACE(sizeof(struct nlmsgerr)));
	nh->nlmsg_type = (uint16_t)type;
	if (type == NLMSG_ERROR) {
		struct nlmsgerr *e = NLMSG_DATA(nh);

		nh->nlmsg_len = NLMSG_LENGTH(sizeof(*e));
		e->error = error;
	} else {
		nh->nlmsg_len = NLMSG_LENGTH(sizeof(int));
		memcpy(NLMSG_DATA(nh), &error, sizeof(error));
	}
	d->len += NLMSG_ALIGN(nh->nlmsg_len);
}

START_TEST(diag_udp)
{
	struct dump d = { .len = 0 };
	struct dnsi_found f = { 0 };

	/* A client's socket connected to 127.0.0.11, one bound to another
	 * loopback address, an IPv6 one, then dockerd's. */
	put_sock(&d, AF_INET, TCP_ESTABLISHED, "127.0.0.11", 40001,
	    "127.0.0.1", 5300);
	put_sock(&d, AF_INET, TCP_CLOSE, "127.0.0.1", 40002, "0.0.0.0", 0);
	put_sock(&d, AF_INET6, TCP_CLOSE, "127.0.0.11", 40003, "0.0.0.0", 0);
	put_sock(&d, AF_INET, TCP_CLOSE, "127.0.0.11", 0, "0.0.0.0", 0);
	ck_assert_int_eq(dnsi_diag_scan(d.buf, d.len, IPPROTO_UDP, &f), 0);
	ck_assert_uint_eq(f.n, 0);
	put_sock(&d, AF_INET, TCP_CLOSE, "127.0.0.11", 46512, "0.0.0.0", 0);
	put_ctl(&d, NLMSG_DONE, 0);
	ck_assert_int_eq(dnsi_diag_scan(d.buf, d.len, IPPROTO_UDP, &f), 1);
	ck_assert_uint_eq(f.n, 1);
	ck_assert_int_eq(f.addr.sin_family, AF_INET);
	ck_assert_uint_eq(ntohs(f.addr.sin_port), 46512);
	ck_assert_uint_eq(ntohl(f.addr.sin_addr.s_addr), 0x7f00000b);
}
END_TEST

START_TEST(diag_tcp)
{
	struct dump d = { .len = 0 };
	struct dnsi_found f = { 0 };

	/* An accepted connection of dockerd's listener is not it. */
	put_sock(&d, AF_INET, TCP_ESTABLISHED, "127.0.0.11", 38001,
	    "127.0.0.1", 51000);
	put_sock(&d, AF_INET, TCP_LISTEN, "127.0.0.11", 38001, "0.0.0.0", 0);
	put_sock(&d, AF_INET, TCP_LISTEN, "0.0.0.0", 53, "0.0.0.0", 0);
	ck_assert_int_eq(dnsi_diag_scan(d.buf, d.len, IPPROTO_TCP, &f), 0);
	ck_assert_uint_eq(f.n, 1);
	ck_assert_uint_eq(ntohs(f.addr.sin_port), 38001);
	/* A second listener is counted; the first is kept. */
	d.len = 0;
	put_sock(&d, AF_INET, TCP_LISTEN, "127.0.0.11", 38002, "0.0.0.0", 0);
	put_ctl(&d, NLMSG_DONE, 0);
	ck_assert_int_eq(dnsi_diag_scan(d.buf, d.len, IPPROTO_TCP, &f), 1);
	ck_assert_uint_eq(f.n, 2);
	ck_assert_uint_eq(ntohs(f.addr.sin_port), 38001);
}
END_TEST

START_TEST(diag_errors)
{
	struct dump d = { .len = 0 };
	struct dnsi_found f = { 0 };

	put_ctl(&d, NLMSG_ERROR, -EPERM);
	ck_assert_int_eq(dnsi_diag_scan(d.buf, d.len, IPPROTO_UDP, &f),
	    -EPERM);
	d.len = 0;
	put_ctl(&d, NLMSG_DONE, -EINTR);
	ck_assert_int_eq(dnsi_diag_scan(d.buf, d.len, IPPROTO_UDP, &f),
	    -EINTR);
	/* A message cut short, and one too short for its type. */
	d.len = 0;
	put_sock(&d, AF_INET, TCP_LISTEN, "127.0.0.11", 38001, "0.0.0.0", 0);
	ck_assert_int_eq(dnsi_diag_scan(d.buf, d.len - 8, IPPROTO_TCP, &f),
	    -EBADMSG);
	((struct nlmsghdr *)d.buf)->nlmsg_len = NLMSG_LENGTH(4);
	ck_assert_int_eq(dnsi_diag_scan(d.buf, d.len, IPPROTO_TCP, &f),
	    -EBADMSG);
	ck_assert_int_eq(dnsi_diag_scan(d.buf, 0, IPPROTO_TCP, &f), 0);
	ck_assert_int_eq(dnsi_diag_scan(d.buf, d.len, IPPROTO_ICMP, &f),
	    -EINVAL);
}
END_TEST

Suite *
dnsiplan_suite(void)
{
	Suite *s = suite_create("dnsiplan");
	TCase *tp = tcase_create("scripts");
	TCase *tc = tcase_create("check");
	TCase *td = tcase_create("sock_diag");

	tcase_add_test(tp, apply_script);
	tcase_add_test(tp, apply_longest_address_fits);
	tcase_add_test(tp, apply_refuses_targets);
	tcase_add_test(tp, remove_script);
	suite_add_tcase(s, tp);
	tcase_add_test(tc, check_planned);
	tcase_add_test(tc, check_absent);
	tcase_add_test(tc, check_ignores_other_tables);
	tcase_add_test(tc, check_counters_and_dnat_family);
	tcase_add_test(tc, check_drift_table_and_chain);
	tcase_add_test(tc, check_drift_rules);
	tcase_add_test(tc, check_rule_count_and_order);
	tcase_add_test(tc, check_rejects);
	suite_add_tcase(s, tc);
	tcase_add_test(td, diag_udp);
	tcase_add_test(td, diag_tcp);
	tcase_add_test(td, diag_errors);
	suite_add_tcase(s, td);
	return s;
}
