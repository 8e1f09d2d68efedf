/*
 * One query in, one decision out: drop, reply (written here, by hand) or
 * forward.  The rules and the reasons for them are in dns/answer.h.  No
 * allocation and no ldns on this path: it runs for every query, and the
 * target is a few microseconds of CPU per local answer.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include "dns/answer.h"
#include "dns/bytes.h"

#define ARPA4		".in-addr.arpa"
#define ARPA6		".ip6.arpa"
#define RR_FIXED	12	/* pointer, type, class, TTL, RDLENGTH */

static int
reply(struct dns_verdict *v, size_t len, size_t *outlen, int rcode,
    const char *why)
{
	v->rcode = rcode;
	if (why != NULL)
		v->why = why;
	*outlen = len;
	return DNS_REPLY;
}

static int
forward(struct dns_verdict *v, const char *why)
{
	v->why = why;
	return DNS_FORWARD;
}

/*
 * A NOERROR reply with count RRs of type whose RDATA are rdlen bytes each
 * at rdata[i * rdlen], starting at (client ID mod count) and wrapping,
 * as many as fit in v->limit.  count 0 is NODATA.
 */
static int
write_answers(const struct dns_zone *z, struct dns_verdict *v,
    const uint8_t *q, uint16_t type, const uint8_t *rdata, size_t rdlen,
    size_t count, uint8_t *out, size_t *outlen)
{
	size_t fixed = DNS_HEADER_LEN + v->question_len +
	    (v->edns ? DNS_OPT_LEN : 0);
	size_t pos = DNS_HEADER_LEN + v->question_len, fit, n, start;
	uint32_t ttl = dns_zone_ttl(z);

	/* fixed <= 12 + 259 + 11 < DNS_UDP_MIN <= limit. */
	(void) dns_write_empty_reply(v, q, DNS_RCODE_NOERROR, true, out,
	    v->limit);
	fit = (v->limit - fixed) / (RR_FIXED + rdlen);
	n = count < fit ? count : fit;
	start = count > 0 ? v->id % count : 0;
	for (size_t i = 0; i < n; i++) {
		const uint8_t *rd = rdata + ((start + i) % count) * rdlen;

		/* The owner is the question's name: a pointer to offset 12
		 * keeps the client's case for 2 bytes. */
		wr16(out + pos, 0xC000 | DNS_HEADER_LEN);
		wr16(out + pos + 2, type);
		wr16(out + pos + 4, DNS_CLASS_IN);
		wr32(out + pos + 6, ttl);
		wr16(out + pos + 10, (unsigned int)rdlen);
		memcpy(out + pos + RR_FIXED, rd, rdlen);
		pos += RR_FIXED + rdlen;
	}
	if (v->edns) {
		dns_write_opt(v, DNS_RCODE_NOERROR, out + pos);
		pos += DNS_OPT_LEN;
	}
	wr16(out + 6, (unsigned int)n);
	if (n < count) {
		out[2] |= 0x02;		/* TC */
		v->truncated = true;
	}
	v->ancount = (unsigned int)n;
	v->local = true;
	return reply(v, pos, outlen, DNS_RCODE_NOERROR,
	    count == 0 ? "local name, no record of this type" : "local answer");
}

/* Decimal label "0".."255", no leading zero; -1 otherwise. */
static int
octet(const char *s, size_t len)
{
	int val = 0;

	if (len == 0 || len > 3 || (len > 1 && s[0] == '0'))
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		val = val * 10 + (s[i] - '0');
	}
	return val <= 255 ? val : -1;
}

static int
nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/*
 * The address a canonical reverse name stands for: "d.c.b.a.in-addr.arpa"
 * or 32 nibbles ".ip6.arpa" (lname lower-case, no trailing dot).  Returns
 * AF_INET or AF_INET6 with addr filled, 0 for any other name.
 */
static int
reverse_addr(const char *lname, size_t len, uint8_t *addr)
{
	static const size_t l4 = sizeof(ARPA4) - 1, l6 = sizeof(ARPA6) - 1;

	if (len > l4 && memcmp(lname + len - l4, ARPA4, l4) == 0) {
		size_t end = len - l4;

		for (int i = 3; i >= 0; i--) {
			size_t b = end;
			int val;

			while (b > 0 && lname[b - 1] != '.')
				b--;
			/* Exactly four labels: the first ends at offset 0. */
			if ((i == 0) != (b == 0) ||
			    (val = octet(lname + b, end - b)) < 0)
				return 0;
			addr[3 - i] = (uint8_t)val;
			end = b > 0 ? b - 1 : 0;
		}
		return AF_INET;
	}
	if (len == 63 + l6 && memcmp(lname + 63, ARPA6, l6) == 0) {
		for (size_t i = 0; i < 32; i++) {
			int x = nibble(lname[2 * i]);

			if (x < 0 || (i < 31 && lname[2 * i + 1] != '.'))
				return 0;
			/* Label i is nibble i from the end of the address. */
			if (i % 2 == 0)
				addr[15 - i / 2] = (uint8_t)x;
			else
				addr[15 - i / 2] |= (uint8_t)(x << 4);
		}
		return AF_INET6;
	}
	return 0;
}

/* Length of v->qname as a lookup key (no trailing dot), or 0 when it has
 * characters no local name has (escapes included). */
static size_t
lookup_key(const struct dns_verdict *v)
{
	size_t len = strlen(v->qname);

	if (len <= 1)
		return 0;
	len--;
	for (size_t i = 0; i < len; i++) {
		char c = v->qname[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_' || c == '.'))
			return 0;
	}
	return len;
}

/*
 * Would Docker's resolver look lname (a lookup key of len > 0 bytes) up
 * among its names: one label, or labels then a network of the zone?
 */
static bool
looks_local(const struct dns_zone *z, const char *lname, size_t len)
{
	const char *dot = memchr(lname, '.', len);

	if (dot == NULL)
		return true;
	/* Labels are never empty: the first has a byte, so has the last. */
	for (size_t p = (size_t)(dot - lname); p < len; p++)
		if (lname[p] == '.' &&
		    dns_zone_has_network(z, lname + p + 1, len - p - 1))
			return true;
	return false;
}

int
dns_answer(const struct dns_zone *z, const uint8_t *q, size_t qlen, bool tcp,
    uint8_t *out, size_t outcap, size_t *outlen, struct dns_verdict *v)
{
	struct dns_addrs a;
	size_t klen;
	uint8_t addr[16];
	int family;

	if (v != NULL) {
		/* The name buffers are written when has_question is set. */
		memset(v, 0, offsetof(struct dns_verdict, qname_wire));
		v->qname_raw[0] = '\0';
		v->qname[0] = '\0';
	}
	if (z == NULL || q == NULL || out == NULL || outlen == NULL ||
	    v == NULL || outcap < DNS_UDP_MIN)
		return -EINVAL;
	*outlen = 0;

	switch (dns_parse_query(q, qlen, v)) {
	case DNS_PARSE_OK:
		break;
	case DNS_PARSE_DROP:
		return DNS_DROP;
	case DNS_PARSE_NOTIMP:
		return reply(v, dns_write_header_only(v, DNS_RCODE_NOTIMP, out),
		    outlen, DNS_RCODE_NOTIMP, NULL);
	default:
		return reply(v, dns_write_header_only(v, DNS_RCODE_FORMERR,
		    out), outlen, DNS_RCODE_FORMERR, NULL);
	}

	if (tcp)
		v->limit = DNS_TCP_MAX;
	else if (!v->edns || v->edns_size <= DNS_UDP_MIN)
		v->limit = DNS_UDP_MIN;
	else
		v->limit = v->edns_size < DNS_EDNS_SIZE ? v->edns_size :
		    DNS_EDNS_SIZE;
	if (v->limit > outcap)
		v->limit = outcap;

	if (v->edns_version != 0)
		return reply(v, dns_write_empty_reply(v, q, DNS_RCODE_BADVERS,
		    false, out, v->limit), outlen, DNS_RCODE_BADVERS,
		    "EDNS version not supported");
	switch (v->qtype) {
	case DNS_TYPE_OPT:
	case DNS_TYPE_TSIG:
	case DNS_TYPE_TKEY:
		v->has_question = false;
		return reply(v, dns_write_header_only(v, DNS_RCODE_FORMERR,
		    out), outlen, DNS_RCODE_FORMERR,
		    "meta type in the question");
	case DNS_TYPE_AXFR:
	case DNS_TYPE_IXFR:
	case DNS_TYPE_MAILA:
	case DNS_TYPE_MAILB:
		return reply(v, dns_write_empty_reply(v, q, DNS_RCODE_REFUSED,
		    false, out, v->limit), outlen, DNS_RCODE_REFUSED,
		    "zone transfers refused");
	default:
		break;
	}
	if (v->qclass != DNS_CLASS_IN && v->qclass != DNS_CLASS_ANY)
		return forward(v, "class not IN");

	klen = lookup_key(v);
	switch (v->qtype) {
	case DNS_TYPE_A:
	case DNS_TYPE_AAAA:
	case DNS_TYPE_MX:
		if (klen > 0 && dns_zone_find(z, v->qname, klen, &a) == 0) {
			if (v->qtype == DNS_TYPE_A)
				return write_answers(z, v, q, DNS_TYPE_A,
				    (const uint8_t *)a.a4, 4, a.n4, out,
				    outlen);
			if (v->qtype == DNS_TYPE_AAAA)
				return write_answers(z, v, q, DNS_TYPE_AAAA,
				    (const uint8_t *)a.a6, 16, a.n6, out,
				    outlen);
			/* Mail falls back to A/AAAA (RFC 5321 §5.1). */
			return write_answers(z, v, q, DNS_TYPE_MX, NULL, 0, 0,
			    out, outlen);
		}
		/* Not in the zone (yet): Docker's resolver may know it. */
		v->ask_docker = v->qtype != DNS_TYPE_MX && klen > 0 &&
		    looks_local(z, v->qname, klen);
		/* One label, not local, ndots given explicitly. */
		if (v->qtype != DNS_TYPE_MX &&
		    dns_zone_nodata_single_label(z) && v->qname_len > 2 &&
		    v->qname_wire[0] + 2u == v->qname_len)
			return write_answers(z, v, q, v->qtype, NULL, 0, 0, out,
			    outlen);
		return forward(v, v->ask_docker ?
		    "looks local, not in the zone" : "not a local name");
	case DNS_TYPE_PTR:
		if (klen > 0 &&
		    (family = reverse_addr(v->qname, klen, addr)) != 0) {
			const uint8_t *target;
			size_t tlen;

			target = dns_zone_find_ptr(z, family, addr, &tlen);
			if (target != NULL)
				return write_answers(z, v, q, DNS_TYPE_PTR,
				    target, tlen, 1, out, outlen);
		}
		return forward(v, "not a local address");
	default:
		return forward(v, "type answered upstream");
	}
}
