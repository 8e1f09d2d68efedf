/*
 * DNS query -> answer (dns/answer.h): the input is the raw bytes of one
 * query from a container, given to dns_answer() over UDP and over TCP
 * against a fixed zone built once.  Checks:
 *   - no reply for fewer than 12 bytes or QR=1, and the same
 *     verdict kind over UDP and TCP;
 *   - a reply parses with ldns, echoes the ID, has QR set, is no longer
 *     than the limit (512 without OPT on UDP, 1232 with, 65535 on TCP)
 *     and than the buffer, and its counts and TC bit match the verdict;
 *     a reply with a question echoes the query's question byte for byte;
 *   - a forward verdict carries a question that dns_question_match()
 *     accepts on the query itself (with QR set), a name of at most 255
 *     bytes, and a limit within [512, 1232] (UDP);
 *   - ask_docker is set exactly when the definition in answer.h, written
 *     out again here over the harness's networks, says so, the same over
 *     UDP and TCP, and with the single-label NODATA switch on and off;
 *   - dns_reply_error() on the same bytes gives a reply ldns parses.
 * ldns parses only our own replies, never the input (ldns_wire2pkt leaks
 * on repeated TSIG records).
 */
#include <arpa/inet.h>
#include <stdbool.h>
#include <string.h>

#include <ldns/ldns.h>
/* ldns/util.h defines a debugging dprintf() macro over libc's. */
#undef dprintf

#include "dns/answer.h"
#include "tests/fuzz/fuzz.h"

static struct dns_zone *zone;
static uint8_t out[DNS_TCP_MAX + 1];

static void
add(size_t net, const char *n1, const char *n2, const char *s4,
    const char *s6)
{
	const char *names[2] = { n1, n2 };
	struct in_addr a4;
	struct in6_addr a6;
	char err[256] = "";

	if ((s4 != NULL && inet_pton(AF_INET, s4, &a4) != 1) ||
	    (s6 != NULL && inet_pton(AF_INET6, s6, &a6) != 1) ||
	    dns_zone_add(zone, net, names, n2 != NULL ? 2 : 1,
	    s4 != NULL ? &a4 : NULL, s6 != NULL ? &a6 : NULL, err,
	    sizeof(err)) != 0)
		fuzz_fail(__FILE__, __LINE__, "zone: %s", err);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char name[16], a4[32], a6[64];

	(void) argc, (void) argv;
	fuzz_keep_stderr();
	if ((zone = dns_zone_new()) == NULL ||
	    dns_zone_add_network(zone, "n1", NULL, 0) != 0 ||
	    dns_zone_add_network(zone, "n2", NULL, 0) != 1 ||
	    dns_zone_add_network(zone, "my.net", NULL, 0) != 2)
		fuzz_fail(__FILE__, __LINE__, "zone networks");
	add(0, "c1", "web", "10.0.1.2", "fd00:1::2");
	add(0, "c2", NULL, "10.0.1.3", NULL);
	add(0, "v6only", NULL, NULL, "fd00:1::6");
	add(1, "c1", "web", "10.0.2.2", NULL);
	add(2, "dotted", NULL, "10.0.3.3", NULL);
	/* Enough addresses to truncate on UDP and not on TCP. */
	for (int i = 0; i < 120; i++) {
		snprintf(name, sizeof(name), "m%d", i);
		snprintf(a4, sizeof(a4), "10.8.0.%d", i + 1);
		snprintf(a6, sizeof(a6), "fd00:8::%x", i + 1);
		add(0, name, "many", a4, a6);
	}
	return 0;
}

static void
check_reply(const uint8_t *q, size_t qlen, const struct dns_verdict *v,
    size_t len, size_t cap, bool tcp)
{
	ldns_pkt *p = NULL;
	ldns_status st;

	FUZZ_CHECK(len >= DNS_HEADER_LEN && len <= cap, "reply of %zu bytes",
	    len);
	FUZZ_CHECK(out[0] == q[0] && out[1] == q[1], "ID not echoed");
	FUZZ_CHECK(out[2] & 0x80, "QR not set");
	if (v->has_question) {
		FUZZ_CHECK(len <= v->limit, "reply of %zu bytes over the "
		    "limit %zu", len, v->limit);
		size_t want = tcp ? DNS_TCP_MAX : !v->edns ? 512 :
		    v->edns_size <= 512 ? 512 : v->edns_size >= 1232 ? 1232 :
		    v->edns_size;

		FUZZ_CHECK(v->limit == (want < cap ? want : cap), "limit %zu",
		    v->limit);
		FUZZ_CHECK(out[4] == 0 && out[5] == 1 && len >=
		    DNS_HEADER_LEN + v->question_len && memcmp(out +
		    DNS_HEADER_LEN, q + DNS_HEADER_LEN, v->question_len) == 0,
		    "question not echoed");
	} else
		FUZZ_CHECK(len == DNS_HEADER_LEN, "error reply with sections");
	(void) qlen;
	st = ldns_wire2pkt(&p, out, len);
	FUZZ_CHECK(st == LDNS_STATUS_OK, "reply does not parse: %s",
	    ldns_get_errorstr_by_id(st));
	FUZZ_CHECK(ldns_pkt_ancount(p) == v->ancount, "ANCOUNT %u, verdict "
	    "%u", ldns_pkt_ancount(p), v->ancount);
	FUZZ_CHECK(ldns_pkt_tc(p) == v->truncated, "TC bit");
	FUZZ_CHECK(ldns_pkt_get_rcode(p) == (v->rcode & 0xF), "rcode");
	FUZZ_CHECK(ldns_pkt_edns(p) == (v->edns && v->has_question), "OPT");
	ldns_pkt_free(p);
}

/* The networks added in LLVMFuzzerInitialize. */
static const char *const nets[] = { "n1", "n2", "my.net" };

/*
 * Should v have ask_docker?  Class IN or ANY, type A or AAAA, a name of
 * [a-z0-9_-] labels that is one label or ends in ".<network>", and not in
 * the zone.
 */
static bool
want_ask(const struct dns_verdict *v)
{
	struct dns_addrs a;
	size_t len = strlen(v->qname);

	if (!v->has_question || (v->qtype != DNS_TYPE_A &&
	    v->qtype != DNS_TYPE_AAAA) || (v->qclass != DNS_CLASS_IN &&
	    v->qclass != DNS_CLASS_ANY) || len < 2)
		return false;
	len--;		/* the trailing dot */
	for (size_t i = 0; i < len; i++) {
		char c = v->qname[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_' || c == '.'))
			return false;
	}
	if (dns_zone_lookup(zone, v->qname, &a) == 0)
		return false;
	if (memchr(v->qname, '.', len) == NULL)
		return true;
	for (size_t i = 0; i < sizeof(nets) / sizeof(nets[0]); i++) {
		size_t nl = strlen(nets[i]);

		if (len > nl + 1 && v->qname[len - nl - 1] == '.' &&
		    memcmp(v->qname + len - nl, nets[i], nl) == 0)
			return true;
	}
	return false;
}

static void
check_ask(int r, const struct dns_verdict *v)
{
	bool want;

	/* Drops and error replies are never asked about. */
	if (r == DNS_DROP || (r == DNS_REPLY && v->rcode != 0)) {
		FUZZ_CHECK(!v->ask_docker, "ask_docker on a %s, rcode %d",
		    dns_verdict_str(r), v->rcode);
		return;
	}
	/* A NOERROR reply is a local answer (the name is in the zone, or
	 * the type is not A/AAAA) or the single-label NODATA. */
	want = want_ask(v);
	FUZZ_CHECK(v->ask_docker == want, "%s %s type %u class %u: "
	    "ask_docker %d, want %d", dns_verdict_str(r), v->qname, v->qtype,
	    v->qclass, v->ask_docker, want);
	if (v->ask_docker && r == DNS_REPLY)
		FUZZ_CHECK(dns_zone_nodata_single_label(zone) && v->local &&
		    v->ancount == 0, "ask_docker on a reply with answers");
}

static int
one(const uint8_t *q, size_t qlen, bool tcp, size_t cap,
    struct dns_verdict *v)
{
	size_t len = 12345;
	int r = dns_answer(zone, q, qlen, tcp, out, cap, &len, v);

	FUZZ_CHECK(r == DNS_DROP || r == DNS_REPLY || r == DNS_FORWARD,
	    "dns_answer: %d", r);
	if (qlen < DNS_HEADER_LEN || (q[2] & 0x80))
		FUZZ_CHECK(r == DNS_DROP, "reply to a short packet or a "
		    "response");
	if (r == DNS_REPLY)
		check_reply(q, qlen, v, len, cap, tcp);
	else
		FUZZ_CHECK(len == 0, "length %zu without a reply", len);
	check_ask(r, v);
	if (r == DNS_FORWARD) {
		uint8_t *copy = malloc(qlen);

		FUZZ_CHECK(v->has_question && v->qname_len >= 1 &&
		    v->qname_len <= DNS_NAME_MAX, "forward without question");
		FUZZ_CHECK(v->limit >= 512 && v->limit <= cap &&
		    v->limit <= (tcp ? 65535u : 1232u), "limit %zu", v->limit);
		if (copy == NULL)
			abort();
		memcpy(copy, q, qlen);
		copy[2] |= 0x80;
		FUZZ_CHECK(dns_question_match(copy, qlen, v->id,
		    v->qname_wire, v->qname_len, v->qtype, v->qclass) == 1,
		    "question does not match itself");
		free(copy);
	}
	return r;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct dns_verdict vu, vt;
	ldns_pkt *p = NULL;
	size_t len;
	int ru, rt;

	if (size > FUZZ_MAX_INPUT)
		return 0;
	ru = one(data, size, false, sizeof(out), &vu);
	rt = one(data, size, true, sizeof(out), &vt);
	FUZZ_CHECK(ru == rt, "UDP %s, TCP %s", dns_verdict_str(ru),
	    dns_verdict_str(rt));
	FUZZ_CHECK(vu.ask_docker == vt.ask_docker, "ask_docker: UDP %d, "
	    "TCP %d", vu.ask_docker, vt.ask_docker);
	/* A buffer just big enough for UDP. */
	(void) one(data, size, true, DNS_UDP_MIN, &vt);
	/* The single-label NODATA switch on. */
	dns_zone_set_nodata_single_label(zone, true);
	(void) one(data, size, false, sizeof(out), &vu);
	dns_zone_set_nodata_single_label(zone, false);

	if (size >= DNS_HEADER_LEN) {
		FUZZ_CHECK(dns_reply_error(data, size, DNS_RCODE_SERVFAIL, out,
		    sizeof(out), &len) == 0, "dns_reply_error");
		FUZZ_CHECK(len >= DNS_HEADER_LEN && len <= 512 &&
		    ldns_wire2pkt(&p, out, len) == LDNS_STATUS_OK,
		    "error reply does not parse");
		ldns_pkt_free(p);
	}
	return 0;
}
