/*
 * Upstream DNS replies: the input is what an upstream (or anyone who can
 * reach the socket) sends back, after two bytes that choose the rest:
 *
 *   byte 0  bits 0-1  the question: 0 and 2 the reply's own (when it is
 *                     a plain name), 1 www.example.com A IN, 3
 *                     ExAmple.COM AAAA IN
 *           bit 2, 3  DO, CD in the cache key
 *           bit 4     the try was over TCP (for dns_upstream_action)
 *           bit 5     the client's name in other case (0x20)
 *           bits 6-7  how long after the put the second get comes
 *   byte 1  bit 7     TTL caps from bits 0-6 instead of the defaults
 *
 * Checks, against a walk of the reply written here from the rules in
 * dns/conf.h and dns/cache.c (pointers strictly backwards, at most 128
 * of them, labels <= 63, names <= 255, every RR within the message, one
 * OPT owned by the root in the additional section, the first SOA of the
 * authority section whole, nothing after the last RR):
 *   - dns_question_match() and dns_upstream_action() say exactly what
 *     answer.h says for the question, with the reply's ID and another;
 *   - dns_cache_put() returns exactly what conf.h says: -EINVAL for a
 *     malformed reply or another question, 0 for TC, TSIG, an rcode
 *     other than NOERROR and NXDOMAIN, a negative answer without an SOA,
 *     a TTL of 0 or an entry larger than the cache, else 1; what it
 *     keeps answers the question (dns_question_match);
 *   - a hit comes back byte for byte but for the ID, AA cleared, the
 *     client's name case and every TTL but OPT's, which is the stored
 *     one (capped as cache.c says) less the whole seconds elapsed and
 *     never below 1; a miss at the expiry, for other DO/CD bits or
 *     type; -ENOBUFS for a buffer one byte short, the entry kept; the
 *     counters add up; nothing leaks (the cache is freed per input);
 *   - under its four keys (DO, CD) in a cache with room for two entries
 *     (by count, then by bytes) the least recently used go first.
 */
#include <errno.h>
#include <string.h>

#include "dns/answer.h"
#include "dns/conf.h"
#include "tests/fuzz/fuzz.h"

#define HDR		12
#define RRS_MAX		(65535 / 11 + 1)
#define HOPS_MAX	128
#define TYPE_SOA	6
#define TYPE_OPT	41
#define TYPE_TSIG	250

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void) argc, (void) argv;
	fuzz_keep_stderr();
	return 0;
}

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static uint8_t
lower(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? (uint8_t)(c + 32) : c;
}

/* What the walk found. */
struct walk {
	uint16_t	ttl_off[RRS_MAX];
	size_t		nttl;
	size_t		qname_len;
	uint16_t	qtype, qclass;
	uint32_t	min_ttl;
	bool		soa, tsig;
	uint32_t	soa_neg;
};

/* A name at *off within m[0..end), pointers allowed. */
static bool
name_ok(const uint8_t *m, size_t end, size_t *off)
{
	size_t p = *off, after = 0, total = 0;
	unsigned int hops = 0;

	for (;;) {
		size_t l;

		if (p >= end)
			return false;
		l = m[p];
		if (l >= 0xc0) {
			size_t t;

			if (p + 2 > end || ++hops > HOPS_MAX)
				return false;
			t = (l & 0x3f) << 8 | m[p + 1];
			if (t < HDR || t >= p)
				return false;
			if (after == 0)
				after = p + 2;
			p = t;
			continue;
		}
		if (l > 63 || p + 1 + l > end)
			return false;
		total += l + 1;
		if (total > 255)
			return false;
		p += l + 1;
		if (l == 0)
			break;
	}
	*off = after != 0 ? after : p;
	return true;
}

static bool
walk(const uint8_t *m, size_t len, struct walk *w)
{
	size_t off = HDR;
	bool opt = false;

	if (len < HDR || get16(m + 4) != 1)
		return false;
	if (!name_ok(m, len, &off) || len - off < 4)
		return false;
	w->qname_len = off - HDR;
	w->qtype = get16(m + off);
	w->qclass = get16(m + off + 2);
	off += 4;
	w->nttl = 0;
	w->min_ttl = UINT32_MAX;
	w->soa = w->tsig = false;
	for (int s = 0; s < 3; s++) {
		unsigned int count = get16(m + 6 + 2 * s);

		for (unsigned int i = 0; i < count; i++) {
			size_t owner = off, rdlen, rd;
			uint16_t type;
			uint32_t ttl;

			if (!name_ok(m, len, &off) || len - off < 10)
				return false;
			type = get16(m + off);
			ttl = get32(m + off + 4);
			rdlen = get16(m + off + 8);
			rd = off + 10;
			if (rdlen > len - rd)
				return false;
			off = rd + rdlen;
			if (type == TYPE_OPT) {
				if (s != 2 || opt || m[owner] != 0)
					return false;
				opt = true;
				continue;
			}
			if (ttl > INT32_MAX)
				ttl = 0;
			FUZZ_CHECK(w->nttl < RRS_MAX, "RR count");
			w->ttl_off[w->nttl++] = (uint16_t)(rd - 6);
			if (ttl < w->min_ttl)
				w->min_ttl = ttl;
			w->tsig |= type == TYPE_TSIG;
			if (type == TYPE_SOA && s == 1 && !w->soa) {
				size_t p = rd;
				uint32_t min;

				if (!name_ok(m, rd + rdlen, &p) ||
				    !name_ok(m, rd + rdlen, &p) ||
				    rd + rdlen - p != 20)
					return false;
				min = get32(m + p + 16);
				w->soa = true;
				w->soa_neg = ttl < min ? ttl : min;
			}
		}
	}
	return off == len;
}

/* A plain (uncompressed) name at m[HDR..len) and 4 bytes after it, as
 * dns_question_match() reads it: its length, or 0. */
static size_t
plain_question(const uint8_t *m, size_t len)
{
	size_t p = HDR;

	for (;;) {
		size_t l;

		if (p >= len)
			return 0;
		l = m[p];
		if (l > 63 || l > len - p - 1)
			return 0;
		p += l + 1;
		if (p - HDR > DNS_NAME_MAX)
			return 0;
		if (l == 0)
			break;
	}
	return len - p >= 4 ? p - HDR : 0;
}

struct question {
	uint8_t		name[DNS_NAME_MAX];
	size_t		len;
	uint16_t	type, class;
};

static void
check_match(const uint8_t *m, size_t len, const struct question *q,
    bool tcp)
{
	uint16_t id = len >= 2 ? get16(m) : 0;
	size_t nl = len >= HDR ? plain_question(m, len) : 0;
	enum dns_up_action act, want_act;
	int r, want = 0;

	if (len >= HDR && (m[2] & 0x80) && get16(m + 4) == 1 && nl == q->len) {
		want = 1;
		for (size_t i = 0; i < nl; i++)
			if (lower(m[HDR + i]) != lower(q->name[i]))
				want = 0;
		if (get16(m + HDR + nl) != q->type ||
		    get16(m + HDR + nl + 2) != q->class)
			want = 0;
	}
	r = dns_question_match(m, len, id, q->name, q->len, q->type,
	    q->class);
	FUZZ_CHECK(r == want, "dns_question_match %d, want %d", r, want);
	FUZZ_CHECK(dns_question_match(m, len, (uint16_t)(id ^ 0x8001),
	    q->name, q->len, q->type, q->class) == 0, "another ID matches");
	act = dns_upstream_action(m, len, id, q->name, q->len, q->type,
	    q->class, tcp);
	if (!want)
		want_act = DNS_UP_IGNORE;
	else if (!tcp && (m[2] & 0x02))
		want_act = DNS_UP_RETRY_TCP;
	else if ((m[3] & 0x0f) == DNS_RCODE_SERVFAIL ||
	    (m[3] & 0x0f) == DNS_RCODE_REFUSED)
		want_act = DNS_UP_NEXT;
	else
		want_act = DNS_UP_TAKE;
	FUZZ_CHECK(act == want_act, "dns_upstream_action %d, want %d",
	    (int)act, (int)want_act);
}

/* What dns_cache_put() must return, and the entry's TTL and TTL cap. */
static int
want_put(const uint8_t *m, size_t len, const struct question *q,
    const struct walk *w, bool walked, uint32_t max_ttl, uint32_t max_neg,
    uint32_t *ret_ttl, uint32_t *ret_clamp)
{
	uint32_t ttl;
	uint8_t rcode;

	if (len < HDR || len > 65535 || !(m[2] & 0x80) || (m[2] & 0x78) ||
	    !walked || w->qname_len != q->len || w->qtype != q->type ||
	    w->qclass != q->class)
		return -EINVAL;
	for (size_t i = 0; i < q->len; i++)
		if (lower(m[HDR + i]) != lower(q->name[i]))
			return -EINVAL;
	rcode = m[3] & 0x0f;
	if ((m[2] & 0x02) || w->tsig || (rcode != DNS_RCODE_NOERROR &&
	    rcode != DNS_RCODE_NXDOMAIN))
		return 0;
	if (rcode == DNS_RCODE_NXDOMAIN || get16(m + 6) == 0) {
		if (!w->soa)
			return 0;
		ttl = w->soa_neg < max_neg ? w->soa_neg : max_neg;
		if (w->min_ttl < ttl)
			ttl = w->min_ttl;
		*ret_clamp = ttl;
	} else {
		ttl = w->min_ttl < max_ttl ? w->min_ttl : max_ttl;
		*ret_clamp = max_ttl;
	}
	*ret_ttl = ttl;
	return ttl == 0 ? 0 : 1;
}

/* A hit at now, elapsed_ms after the put: the reply as documented. */
static void
check_hit(const uint8_t *m, size_t len, const struct walk *w,
    const uint8_t *cname, size_t cname_len, uint16_t id, uint32_t clamp,
    uint64_t elapsed_ms, const uint8_t *out, size_t out_len)
{
	uint32_t el = (uint32_t)(elapsed_ms / 1000);
	size_t t = 0;

	FUZZ_CHECK(out_len == len, "hit of %zu bytes, put %zu", out_len, len);
	FUZZ_CHECK(get16(out) == id, "ID %#x, want %#x", get16(out), id);
	FUZZ_CHECK(out[2] == (m[2] & ~0x04) && memcmp(out + 3, m + 3, HDR - 3)
	    == 0, "header");
	FUZZ_CHECK(memcmp(out + HDR, cname, cname_len) == 0, "client's name");
	for (size_t i = HDR + cname_len; i < len; ) {
		if (t < w->nttl && i == w->ttl_off[t]) {
			uint32_t v = get32(m + i), got = get32(out + i);

			v = v > INT32_MAX ? 0 : v > clamp ? clamp : v;
			v = v > el ? v - el : 0;
			FUZZ_CHECK(got == v && got >= 1, "TTL at %zu: %u, want "
			    "%u", i, got, v);
			i += 4;
			t++;
			continue;
		}
		FUZZ_CHECK(out[i] == m[i], "byte %zu changed", i);
		i++;
	}
	FUZZ_CHECK(t == w->nttl, "TTL %zu of %zu not seen", t, w->nttl);
}

static bool
has(struct dns_cache *c, const struct question *q, unsigned int flags,
    uint64_t now)
{
	static uint8_t out[65536];
	size_t n;

	return dns_cache_get(c, q->name, q->len, q->type, q->class, flags, now,
	    1, out, sizeof(out), &n) == 1;
}

/*
 * The same reply under its four keys (DO and CD) in a cache with room for
 * two, by entries or by bytes: the least recently used goes first, a hit
 * makes an entry the most recent, and the counters add up.
 */
static void
check_lru(const uint8_t *m, size_t len, const struct question *q,
    uint64_t t0, size_t entries, size_t bytes)
{
	static const unsigned char key[16] = "fuzz_reply key!";
	struct dns_cache_stats st;
	struct dns_cache *c;

	if ((c = dns_cache_new(entries, bytes, key)) == NULL)
		abort();
	for (unsigned int f = 0; f < 4; f++)
		FUZZ_CHECK(dns_cache_put(c, q->name, q->len, q->type, q->class,
		    f, m, len, t0) == 1, "put with flags %u", f);
	FUZZ_CHECK(!has(c, q, 0, t0) && !has(c, q, 1, t0) && has(c, q, 3, t0)
	    && has(c, q, 2, t0), "not the two most recent");
	/* 2 is the most recent now: 3 goes. */
	FUZZ_CHECK(dns_cache_put(c, q->name, q->len, q->type, q->class, 0, m,
	    len, t0) == 1, "put again");
	FUZZ_CHECK(!has(c, q, 3, t0) && has(c, q, 2, t0) && has(c, q, 0, t0),
	    "the most recent evicted");
	dns_cache_stats(c, &st);
	FUZZ_CHECK(st.entries == 2 && st.evictions == 3 && st.inserts == 5 &&
	    st.bytes <= bytes, "%zu entries, %llu evictions", st.entries,
	    (unsigned long long)st.evictions);
	dns_cache_flush(c);
	dns_cache_stats(c, &st);
	FUZZ_CHECK(st.entries == 0 && st.bytes == 0 && !has(c, q, 0, t0),
	    "flush");
	(void) dns_cache_free(c);
}

static void
check_cache(const uint8_t *m, size_t len, const struct question *q,
    unsigned int mode, unsigned int mode2)
{
	static struct walk w;
	static uint8_t out[65536];
	static const uint64_t later[4] = { 999, 1000, 61500, 86399999 };
	struct dns_cache *c, *tiny;
	struct dns_cache_stats st;
	unsigned int flags = (mode & 4 ? DNS_CACHE_DO : 0) |
	    (mode & 8 ? DNS_CACHE_CD : 0);
	uint32_t max_ttl = DNS_CACHE_MAX_TTL, max_neg = DNS_CACHE_MAX_NEG_TTL;
	uint32_t ttl = 0, clamp = 0;
	uint64_t t0 = 5000, el;
	uint8_t cname[DNS_NAME_MAX];
	uint16_t id = (uint16_t)(0x5a5a ^ len);
	size_t n = 0, size;
	bool walked;
	int r, want;

	if (mode2 & 0x80) {
		max_ttl = (mode2 & 0x0f) * 97u;
		max_neg = ((mode2 >> 4) & 0x07) * 13u;
	}
	walked = walk(m, len, &w);
	want = want_put(m, len, q, &w, walked, max_ttl, max_neg, &ttl, &clamp);
	if ((c = dns_cache_new(8, 1u << 20, NULL)) == NULL)
		abort();
	dns_cache_set_ttl_limits(c, max_ttl, max_neg);
	r = dns_cache_put(c, q->name, q->len, q->type, q->class, flags, m, len,
	    t0);
	FUZZ_CHECK(r == want, "dns_cache_put %d, want %d", r, want);
	dns_cache_stats(c, &st);
	FUZZ_CHECK(st.inserts == (r == 1) && st.rejected == (r < 0) &&
	    st.uncacheable == (r == 0) && st.entries == (r == 1) &&
	    (st.bytes > 0) == (r == 1), "counters after put");
	if (r == 1) {
		FUZZ_CHECK(dns_question_match(m, len, get16(m), q->name,
		    q->len, q->type, q->class) == 1, "cached, not matching");
		/* Larger than the whole cache: valid, not kept. */
		if ((tiny = dns_cache_new(8, len, NULL)) == NULL)
			abort();
		FUZZ_CHECK(dns_cache_put(tiny, q->name, q->len, q->type,
		    q->class, flags, m, len, t0) == 0, "kept in a cache of "
		    "%zu bytes", len);
		(void) dns_cache_free(tiny);
	}
	if (r != 1) {
		FUZZ_CHECK(dns_cache_get(c, q->name, q->len, q->type, q->class,
		    flags, t0, id, out, sizeof(out), &n) == 0, "hit without "
		    "an entry");
		(void) dns_cache_free(c);
		return;
	}
	memcpy(cname, q->name, q->len);
	if (mode & 0x20)
		for (size_t i = 0; i < q->len; i++)
			if (lower(cname[i]) >= 'a' && lower(cname[i]) <= 'z')
				cname[i] ^= 0x20;

	/* At once, then later, then in the last millisecond. */
	el = later[(mode >> 6) & 3];
	if (el >= (uint64_t)ttl * 1000)
		el = (uint64_t)ttl * 1000 - 1;
	for (int k = 0; k < 3; k++) {
		uint64_t e = k == 0 ? 0 : k == 1 ? el :
		    (uint64_t)ttl * 1000 - 1;

		r = dns_cache_get(c, cname, q->len, q->type, q->class, flags,
		    t0 + e, id, out, sizeof(out), &n);
		FUZZ_CHECK(r == 1, "miss %llu ms after the put, TTL %u",
		    (unsigned long long)e, ttl);
		check_hit(m, len, &w, cname, q->len, id, clamp, e, out, n);
	}
	FUZZ_CHECK(dns_cache_get(c, cname, q->len, q->type, q->class, flags,
	    t0, id, out, len - 1, &n) == -ENOBUFS, "a short buffer");
	FUZZ_CHECK(dns_cache_get(c, cname, q->len, q->type, q->class,
	    flags ^ DNS_CACHE_DO, t0, id, out, sizeof(out), &n) == 0 &&
	    dns_cache_get(c, cname, q->len, q->type, q->class,
	    flags ^ DNS_CACHE_CD, t0, id, out, sizeof(out), &n) == 0 &&
	    dns_cache_get(c, cname, q->len, (uint16_t)(q->type + 1), q->class,
	    flags, t0, id, out, sizeof(out), &n) == 0, "a hit for another key");
	/* The same reply again replaces the entry. */
	FUZZ_CHECK(dns_cache_put(c, cname, q->len, q->type, q->class, flags, m,
	    len, t0) == 1, "second put");
	dns_cache_stats(c, &st);
	FUZZ_CHECK(st.entries == 1 && st.inserts == 2 && st.hits == 3 &&
	    st.misses == 3, "counters: %zu entries, %llu hits, %llu misses",
	    st.entries, (unsigned long long)st.hits,
	    (unsigned long long)st.misses);
	/* Expired at t0 + TTL, and then gone. */
	FUZZ_CHECK(dns_cache_get(c, cname, q->len, q->type, q->class, flags,
	    t0 + (uint64_t)ttl * 1000, id, out, sizeof(out), &n) == 0,
	    "a hit at the expiry, TTL %u", ttl);
	size = st.bytes;
	dns_cache_stats(c, &st);
	FUZZ_CHECK(st.expired == 1 && st.entries == 0 && st.bytes == 0,
	    "expired entry kept");
	(void) dns_cache_free(c);
	check_lru(m, len, q, t0, 2, 1u << 20);
	check_lru(m, len, q, t0, 16, 2 * size + size / 2);
}

static void
fixed(struct question *q, const char *wire, size_t len, uint16_t type)
{
	memcpy(q->name, wire, len);
	q->len = len;
	q->type = type;
	q->class = DNS_CLASS_IN;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct question q;
	const uint8_t *m = data + 2;
	size_t len, nl;

	if (size < 2 || size > FUZZ_MAX_INPUT)
		return 0;
	len = size - 2;
	nl = len >= HDR ? plain_question(m, len) : 0;
	if ((data[0] & 1) == 0 && nl > 0) {
		memcpy(q.name, m + HDR, nl);
		q.len = nl;
		q.type = get16(m + HDR + nl);
		q.class = get16(m + HDR + nl + 2);
	} else if ((data[0] & 3) == 3)
		fixed(&q, "\x07" "ExAmple" "\x03" "COM", 13, DNS_TYPE_AAAA);
	else
		fixed(&q, "\x03" "www" "\x07" "example" "\x03" "com", 17,
		    DNS_TYPE_A);
	check_match(m, len, &q, (data[0] & 0x10) != 0);
	check_cache(m, len, &q, data[0], data[1]);
	return 0;
}
