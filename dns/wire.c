/*
 * DNS wire format by hand: the header, question and OPT of a query, and
 * the fixed parts of our replies.  Every read is checked with subtraction
 * against the remaining length before it happens, and no
 * count from the packet sizes anything.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "dns/answer.h"
#include "dns/bytes.h"

/* Header flag bits (RFC 1035 §4.1.1, RFC 4035 for AD and CD). */
#define F_QR	0x8000
#define F_AA	0x0400
#define F_TC	0x0200
#define F_RD	0x0100
#define F_RA	0x0080
#define F_AD	0x0020
#define F_CD	0x0010

#define OPT_DO	0x8000	/* in the OPT's TTL field, low 16 bits */

/*
 * Reads an uncompressed name at q[*off]: refuses pointers and extended
 * label types (top bits 01, 10 or 11), which also keeps labels <= 63, and
 * names over 255 bytes.  Advances *off past the root label.  Returns the
 * name's length on the wire, or 0 with *why set.
 */
static size_t
read_name(const uint8_t *q, size_t qlen, size_t *off, const char **why)
{
	size_t start = *off, o = *off;

	for (;;) {
		uint8_t l;

		if (o >= qlen) {
			*why = "name runs past the packet";
			return 0;
		}
		l = q[o];
		if ((l & 0xC0) == 0xC0) {
			*why = "compression pointer in a query's name";
			return 0;
		}
		if (l & 0xC0) {
			*why = "label longer than 63 bytes";
			return 0;
		}
		if (l > qlen - o - 1) {
			*why = "label runs past the packet";
			return 0;
		}
		o += 1 + (size_t)l;
		if (o - start > DNS_NAME_MAX) {
			*why = "name longer than 255 bytes";
			return 0;
		}
		if (l == 0)
			break;
	}
	*off = o;
	return o - start;
}

/* The OPT's RDATA is a sequence of {code, length, data}; anything else is
 * malformed (RFC 6891 §6.1.2). */
static bool
opt_rdata_ok(const uint8_t *p, size_t len)
{
	size_t o = 0;

	while (o < len) {
		size_t ol;

		if (len - o < 4)
			return false;
		ol = rd16(p + o + 2);
		o += 4;
		if (ol > len - o)
			return false;
		o += ol;
	}
	return true;
}

enum dns_parse_result
dns_parse_query(const uint8_t *q, size_t qlen, struct dns_verdict *v)
{
	uint16_t flags, qd, an, ns, ar;
	size_t off = DNS_HEADER_LEN, nlen;

	if (qlen < DNS_HEADER_LEN) {
		v->why = "shorter than a header";
		return DNS_PARSE_DROP;
	}
	flags = rd16(q + 2);
	v->has_header = true;
	v->id = rd16(q);
	v->opcode = (uint8_t)((flags >> 11) & 0xF);
	v->rd = (flags & F_RD) != 0;
	v->cd = (flags & F_CD) != 0;
	if (flags & F_QR) {
		v->why = "QR set: a response, not a query";
		return DNS_PARSE_DROP;
	}
	if (v->opcode != DNS_OPCODE_QUERY) {
		v->why = v->opcode == DNS_OPCODE_NOTIFY ?
		    "NOTIFY not implemented" : "opcode not implemented";
		return DNS_PARSE_NOTIMP;
	}
	qd = rd16(q + 4);
	an = rd16(q + 6);
	ns = rd16(q + 8);
	ar = rd16(q + 10);
	if (qd > 1 || an > 0 || ns > 0 || ar > 1) {
		v->why = "section counts other than 1 question and 1 OPT";
		return DNS_PARSE_FORMERR;
	}
	if (qd == 0) {
		v->why = "no question";
		return DNS_PARSE_DROP;
	}

	if ((nlen = read_name(q, qlen, &off, &v->why)) == 0)
		return DNS_PARSE_FORMERR;
	if (qlen - off < 4) {
		v->why = "question runs past the packet";
		return DNS_PARSE_FORMERR;
	}
	memcpy(v->qname_wire, q + DNS_HEADER_LEN, nlen);
	v->qname_len = nlen;
	v->qtype = rd16(q + off);
	v->qclass = rd16(q + off + 2);
	off += 4;
	v->question_len = off - DNS_HEADER_LEN;

	if (ar == 1) {
		uint16_t type, rdlen;
		uint32_t ttl;

		/* Owner must be the root: one zero byte (RFC 6891 §6.1.2). */
		if (qlen - off < 11 || q[off] != 0) {
			v->why = "additional record is not an OPT";
			return DNS_PARSE_FORMERR;
		}
		type = rd16(q + off + 1);
		if (type != DNS_TYPE_OPT) {
			v->why = type == DNS_TYPE_TSIG ?
			    "TSIG not supported" :
			    "additional record is not an OPT";
			return DNS_PARSE_FORMERR;
		}
		v->edns_size = rd16(q + off + 3);
		ttl = (uint32_t)rd16(q + off + 5) << 16 | rd16(q + off + 7);
		rdlen = rd16(q + off + 9);
		off += 11;
		if (rdlen > qlen - off || !opt_rdata_ok(q + off, rdlen)) {
			v->why = "malformed OPT RDATA";
			return DNS_PARSE_FORMERR;
		}
		off += rdlen;
		v->edns = true;
		v->edns_version = (uint8_t)(ttl >> 16);
		v->edns_do = (ttl & OPT_DO) != 0;
	}
	if (off != qlen) {
		v->why = "bytes after the last record";
		return DNS_PARSE_FORMERR;
	}
	v->has_question = true;
	dns_name_format(v->qname_wire, v->qname_len, false, v->qname_raw);
	dns_name_format(v->qname_wire, v->qname_len, true, v->qname);
	return DNS_PARSE_OK;
}

void
dns_name_format(const uint8_t *wire, size_t len, bool lower, char *buf)
{
	size_t o = 0, b = 0;

	while (o < len && wire[o] != 0) {
		size_t l = wire[o++];

		for (size_t i = 0; i < l && o < len; i++, o++) {
			uint8_t c = wire[o];

			if (lower && c >= 'A' && c <= 'Z')
				c = (uint8_t)(c - 'A' + 'a');
			if (c == '.' || c == '\\') {
				buf[b++] = '\\';
				buf[b++] = (char)c;
			} else if (c <= 0x20 || c >= 0x7F) {
				buf[b++] = '\\';
				buf[b++] = (char)('0' + c / 100);
				buf[b++] = (char)('0' + c / 10 % 10);
				buf[b++] = (char)('0' + c % 10);
			} else {
				buf[b++] = (char)c;
			}
		}
		buf[b++] = '.';
	}
	if (b == 0)
		buf[b++] = '.';
	buf[b] = '\0';
}

/* Header for a reply to v. */
static void
write_header(const struct dns_verdict *v, int rcode, bool ra,
    unsigned int qd, unsigned int an, unsigned int ar, uint8_t *out)
{
	unsigned int flags = F_QR | (unsigned int)v->opcode << 11 |
	    (v->rd ? F_RD : 0) | (v->cd ? F_CD : 0) | (ra ? F_RA : 0) |
	    ((unsigned int)rcode & 0xF);

	wr16(out, v->id);
	wr16(out + 2, flags);
	wr16(out + 4, qd);
	wr16(out + 6, an);
	wr16(out + 8, 0);
	wr16(out + 10, ar);
}

size_t
dns_write_header_only(const struct dns_verdict *v, int rcode, uint8_t *out)
{
	write_header(v, rcode, false, 0, 0, 0, out);
	return DNS_HEADER_LEN;
}

void
dns_write_opt(const struct dns_verdict *v, int ercode, uint8_t *out)
{
	out[0] = 0;
	wr16(out + 1, DNS_TYPE_OPT);
	wr16(out + 3, DNS_EDNS_SIZE);
	out[5] = (uint8_t)((unsigned int)ercode >> 4);	/* extended rcode */
	out[6] = 0;					/* version */
	wr16(out + 7, v->edns_do ? OPT_DO : 0);
	wr16(out + 9, 0);
}

size_t
dns_write_empty_reply(const struct dns_verdict *v, const uint8_t *q,
    int rcode, bool ra, uint8_t *out, size_t cap)
{
	size_t len = DNS_HEADER_LEN + v->question_len +
	    (v->edns ? DNS_OPT_LEN : 0);

	if (len > cap)
		return 0;
	write_header(v, rcode, ra, 1, 0, v->edns ? 1 : 0, out);
	memcpy(out + DNS_HEADER_LEN, q + DNS_HEADER_LEN, v->question_len);
	if (v->edns)
		dns_write_opt(v, rcode, out + DNS_HEADER_LEN + v->question_len);
	return len;
}

int
dns_reply_error(const uint8_t *q, size_t qlen, int rcode, uint8_t *out,
    size_t outcap, size_t *outlen)
{
	struct dns_verdict v;
	size_t n = 0;

	if (q == NULL || out == NULL || outlen == NULL ||
	    qlen < DNS_HEADER_LEN || rcode < 0 || rcode > 15 ||
	    outcap < DNS_UDP_MIN)
		return -EINVAL;
	memset(&v, 0, sizeof(v));
	if (dns_parse_query(q, qlen, &v) == DNS_PARSE_OK)
		n = dns_write_empty_reply(&v, q, rcode, false, out, outcap);
	if (n == 0) {
		/* Not parsable: what the header says, as far as it goes. */
		uint16_t flags = rd16(q + 2);

		v.id = rd16(q);
		v.opcode = (uint8_t)((flags >> 11) & 0xF);
		v.rd = (flags & F_RD) != 0;
		v.cd = (flags & F_CD) != 0;
		n = dns_write_header_only(&v, rcode, out);
	}
	*outlen = n;
	return 0;
}

int
dns_question_match(const uint8_t *msg, size_t len, uint16_t id,
    const uint8_t *qname, size_t qname_len, uint16_t qtype, uint16_t qclass)
{
	size_t off = DNS_HEADER_LEN, nlen;
	const char *why;

	if (msg == NULL || qname == NULL || len < DNS_HEADER_LEN ||
	    rd16(msg) != id || !(rd16(msg + 2) & F_QR) || rd16(msg + 4) != 1)
		return 0;
	if ((nlen = read_name(msg, len, &off, &why)) == 0 ||
	    nlen != qname_len || len - off < 4)
		return 0;
	/* Both are valid uncompressed names of equal length, so the label
	 * structure lines up byte for byte. */
	if (!dns_wire_eq_nocase(msg + DNS_HEADER_LEN, qname, nlen))
		return 0;
	return rd16(msg + off) == qtype && rd16(msg + off + 2) == qclass;
}

const char *
dns_verdict_str(int verdict)
{
	static const char *const names[DNS_VERDICT_MAX] = {
		[DNS_DROP] = "drop",
		[DNS_REPLY] = "reply",
		[DNS_FORWARD] = "forward",
	};

	return verdict >= 0 && verdict < DNS_VERDICT_MAX ? names[verdict] : "?";
}

enum dns_up_action
dns_upstream_action(const uint8_t *msg, size_t len, uint16_t id,
    const uint8_t *qname, size_t qname_len, uint16_t qtype, uint16_t qclass,
    bool tcp)
{
	int rcode;

	if (!dns_question_match(msg, len, id, qname, qname_len, qtype, qclass))
		return DNS_UP_IGNORE;
	if (!tcp && (rd16(msg + 2) & F_TC))
		return DNS_UP_RETRY_TCP;
	rcode = msg[3] & 0x0f;
	if (rcode == DNS_RCODE_SERVFAIL || rcode == DNS_RCODE_REFUSED)
		return DNS_UP_NEXT;
	return DNS_UP_TAKE;
}
