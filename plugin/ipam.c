/*
 * IPAM: pools per address space and a sparse allocation bitmap per pool.
 *
 * Addresses are handled as 128-bit integers (IPv4 in the low 32 bits) so
 * that both families share one code path.  Allocations are kept in 4096-bit
 * chunks keyed by address >> 12, in a sorted array, created on demand and
 * freed when empty: memory follows what is allocated, not the pool size.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "plugin/errmsg.h"
#include "plugin/ipam.h"

#define CHUNK_SHIFT	12
#define CHUNK_BITS	(1u << CHUNK_SHIFT)
#define CHUNK_WORDS	(CHUNK_BITS / 64)

#define MAX_DEFAULTS	64
/* Allocatable offsets of a range are capped so they fit a uint64_t. */
#define RANGE_CAP	(UINT64_C(1) << 63)
/* Bound on what ipam_load will materialise for the whole document (8 MiB
 * of bitmap), so a hostile state file cannot exhaust memory pool by pool. */
#define LOAD_MAX_ADDRS	(UINT64_C(1) << 26)
#define V4_MAX_PLEN	30
#define V6_MAX_PLEN	126

struct u128 {
	uint64_t	hi, lo;
};

struct chunk {
	struct u128	key;		/* address >> CHUNK_SHIFT */
	unsigned int	count;		/* bits set */
	uint64_t	bits[CHUNK_WORDS];
};

struct pool {
	char		 id[IPAM_ID_MAX];
	char		 space[IPAM_SPACE_MAX + 1];
	struct prefix	 pfx;
	struct prefix	 sub;
	bool		 has_sub;
	struct u128	 net;		/* pool network address */
	struct u128	 last;		/* pool last address */
	struct u128	 base;		/* first address of the range */
	uint64_t	 n;		/* allocatable offsets in the range */
	uint64_t	 cursor;	/* next-free search starts here */
	uint64_t	 used;
	struct chunk	**chunks;	/* sorted by key */
	size_t		 nchunks;
	size_t		 chunkcap;
	char		*enc;		/* cached JSON text (ipam_pool_text),
					 * owned; NULL: none */
	size_t		 enc_len;
};

struct ipam {
	struct pool		**pools;
	size_t			  npools;
	size_t			  poolcap;
	struct ipam_default_pool *defs;
	size_t			  ndefs;
};

static void bufcat(char *, size_t, size_t *, const char *, ...)
    __attribute__((format(printf, 4, 5)));

static void
bufcat(char *buf, size_t len, size_t *off, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*off >= len)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf + *off, len - *off, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= len - *off)
		*off = len;
	else
		*off += (size_t)n;
}

static const char *
famname(int family)
{
	return family == AF_INET6 ? "IPv6" : "IPv4";
}

/* 128-bit helpers. */

static struct u128
u128_of(const struct prefix *p)
{
	struct u128 r = { 0, 0 };

	if (p->family == AF_INET) {
		for (int i = 0; i < 4; i++)
			r.lo = (r.lo << 8) | p->addr[i];
		return r;
	}
	for (int i = 0; i < 8; i++)
		r.hi = (r.hi << 8) | p->addr[i];
	for (int i = 8; i < 16; i++)
		r.lo = (r.lo << 8) | p->addr[i];
	return r;
}

static struct prefix
u128_prefix(struct u128 a, int family, unsigned int plen)
{
	struct prefix p;

	memset(&p, 0, sizeof(p));
	p.family = family;
	p.plen = plen;
	if (family == AF_INET) {
		for (int i = 3; i >= 0; i--, a.lo >>= 8)
			p.addr[i] = (unsigned char)a.lo;
		return p;
	}
	for (int i = 15; i >= 8; i--, a.lo >>= 8)
		p.addr[i] = (unsigned char)a.lo;
	for (int i = 7; i >= 0; i--, a.hi >>= 8)
		p.addr[i] = (unsigned char)a.hi;
	return p;
}

static int
u128_cmp(struct u128 a, struct u128 b)
{
	if (a.hi != b.hi)
		return a.hi < b.hi ? -1 : 1;
	if (a.lo != b.lo)
		return a.lo < b.lo ? -1 : 1;
	return 0;
}

static bool
u128_eq(struct u128 a, struct u128 b)
{
	return a.hi == b.hi && a.lo == b.lo;
}

static struct u128
u128_add(struct u128 a, uint64_t x)
{
	a.lo += x;
	if (a.lo < x)
		a.hi++;
	return a;
}

static struct u128
u128_sub(struct u128 a, struct u128 b)
{
	struct u128 r;

	r.lo = a.lo - b.lo;
	r.hi = a.hi - b.hi - (a.lo < b.lo ? 1 : 0);
	return r;
}

/* The low hb bits set. */
static struct u128
u128_hostmask(unsigned int hb)
{
	struct u128 r = { 0, 0 };

	if (hb >= 128)
		return (struct u128){ UINT64_MAX, UINT64_MAX };
	if (hb >= 64) {
		r.lo = UINT64_MAX;
		r.hi = hb == 64 ? 0 : (UINT64_C(1) << (hb - 64)) - 1;
		return r;
	}
	r.lo = (UINT64_C(1) << hb) - 1;
	return r;
}

static struct u128
u128_or(struct u128 a, struct u128 b)
{
	return (struct u128){ a.hi | b.hi, a.lo | b.lo };
}

static struct u128
chunk_key(struct u128 a)
{
	return (struct u128){ a.hi >> CHUNK_SHIFT,
	    (a.lo >> CHUNK_SHIFT) | (a.hi << (64 - CHUNK_SHIFT)) };
}

static struct u128
chunk_addr(struct u128 key, unsigned int bit)
{
	return (struct u128){ (key.hi << CHUNK_SHIFT) |
	    (key.lo >> (64 - CHUNK_SHIFT)), (key.lo << CHUNK_SHIFT) | bit };
}

static unsigned int
chunk_bit(struct u128 a)
{
	return (unsigned int)(a.lo & (CHUNK_BITS - 1));
}

static struct u128
prefix_last(const struct prefix *p)
{
	return u128_or(u128_of(p), u128_hostmask(prefix_host_bits(p)));
}

static const char *
fmt_addr(struct u128 a, int family, char *buf, size_t len)
{
	struct prefix p = u128_prefix(a, family, prefix_maxlen(family));

	return prefix_format_addr(&p, buf, len);
}

/* Every change to what the state file holds of p (its allocations, its
 * cursor) goes through here, so the cached text never goes stale. */
static void
pool_changed(struct pool *p)
{
	free(p->enc);
	p->enc = NULL;
	p->enc_len = 0;
}

/* Chunk bitmap. */

static struct chunk *
chunk_find(const struct pool *p, struct u128 key, size_t *ret_pos)
{
	size_t lo = 0, hi = p->nchunks;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = u128_cmp(p->chunks[mid]->key, key);

		if (c == 0) {
			if (ret_pos != NULL)
				*ret_pos = mid;
			return p->chunks[mid];
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (ret_pos != NULL)
		*ret_pos = lo;
	return NULL;
}

static int
chunk_get(struct pool *p, struct u128 key, struct chunk **ret)
{
	struct chunk *c;
	size_t pos;

	if ((c = chunk_find(p, key, &pos)) != NULL) {
		*ret = c;
		return 0;
	}
	if (p->nchunks == p->chunkcap) {
		size_t ncap = p->chunkcap ? p->chunkcap * 2 : 4;
		struct chunk **nc;

		if (ncap > SIZE_MAX / sizeof(*nc))
			return -ENOMEM;
		if ((nc = realloc(p->chunks, ncap * sizeof(*nc))) == NULL)
			return -ENOMEM;
		p->chunks = nc;
		p->chunkcap = ncap;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return -ENOMEM;
	c->key = key;
	memmove(&p->chunks[pos + 1], &p->chunks[pos],
	    (p->nchunks - pos) * sizeof(*p->chunks));
	p->chunks[pos] = c;
	p->nchunks++;
	*ret = c;
	return 0;
}

static bool
bit_test(const struct chunk *c, unsigned int bit)
{
	return (c->bits[bit / 64] >> (bit % 64)) & 1;
}

/* First clear bit at or after from, CHUNK_BITS if none. */
static unsigned int
chunk_next_zero(const struct chunk *c, unsigned int from)
{
	if (from >= CHUNK_BITS || c->count == CHUNK_BITS)
		return CHUNK_BITS;
	for (unsigned int w = from / 64; w < CHUNK_WORDS; w++) {
		uint64_t free = ~c->bits[w];

		if (w == from / 64)
			free &= UINT64_MAX << (from % 64);
		if (free != 0)
			return w * 64 + (unsigned int)__builtin_ctzll(free);
	}
	return CHUNK_BITS;
}

static bool
addr_test(const struct pool *p, struct u128 a)
{
	const struct chunk *c = chunk_find(p, chunk_key(a), NULL);

	return c != NULL && bit_test(c, chunk_bit(a));
}

/* Marks count addresses from a; -EEXIST if any was already marked. */
static int
run_set(struct pool *p, struct u128 a, uint64_t count)
{
	pool_changed(p);
	while (count > 0) {
		unsigned int bit = chunk_bit(a), end;
		uint64_t span = CHUNK_BITS - bit;
		struct chunk *c;
		int r;

		if (span > count)
			span = count;
		end = bit + (unsigned int)span;
		if ((r = chunk_get(p, chunk_key(a), &c)) < 0)
			return r;
		for (unsigned int i = bit; i < end;) {
			unsigned int sh = i % 64, nb = 64 - sh;
			uint64_t m;

			if (nb > end - i)
				nb = end - i;
			m = (nb == 64 ? UINT64_MAX :
			    (UINT64_C(1) << nb) - 1) << sh;
			if (c->bits[i / 64] & m)
				return -EEXIST;
			c->bits[i / 64] |= m;
			i += nb;
		}
		c->count += (unsigned int)span;
		p->used += span;
		a = u128_add(a, span);
		count -= span;
	}
	return 0;
}

static void
addr_clear(struct pool *p, struct u128 a)
{
	unsigned int bit = chunk_bit(a);
	struct chunk *c;
	size_t pos;

	if ((c = chunk_find(p, chunk_key(a), &pos)) == NULL ||
	    !bit_test(c, bit))
		return;
	pool_changed(p);
	c->bits[bit / 64] &= ~(UINT64_C(1) << (bit % 64));
	c->count--;
	p->used--;
	if (c->count == 0) {
		free(c);
		memmove(&p->chunks[pos], &p->chunks[pos + 1],
		    (p->nchunks - pos - 1) * sizeof(*p->chunks));
		p->nchunks--;
	}
}

/* Pools. */

static void
pool_free(struct pool *p)
{
	if (p == NULL)
		return;
	for (size_t i = 0; i < p->nchunks; i++)
		free(p->chunks[i]);
	free(p->chunks);
	free(p->enc);
	free(p);
}

static bool
pool_reserved(const struct pool *p, struct u128 a)
{
	return u128_eq(a, p->net) ||
	    (p->pfx.family == AF_INET && u128_eq(a, p->last));
}

static bool
pool_has(const struct pool *p, struct u128 a)
{
	return u128_cmp(a, p->net) >= 0 && u128_cmp(a, p->last) <= 0;
}

static int
pool_new(const char *space, const struct prefix *pfx,
    const struct prefix *sub, struct pool **ret)
{
	char pbuf[PREFIX_STRLEN], sbuf[PREFIX_STRLEN];
	const struct prefix *range = sub != NULL ? sub : pfx;
	unsigned int hb = prefix_host_bits(range);
	struct pool *p;
	int n;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return -ENOMEM;
	prefix_format(pfx, pbuf, sizeof(pbuf));
	if (sub != NULL)
		n = snprintf(p->id, sizeof(p->id), "%s/%s/%s", space, pbuf,
		    prefix_format(sub, sbuf, sizeof(sbuf)));
	else
		n = snprintf(p->id, sizeof(p->id), "%s/%s", space, pbuf);
	if (n < 0 || (size_t)n >= sizeof(p->id) ||
	    strlen(space) >= sizeof(p->space)) {
		free(p);
		return -EINVAL;
	}
	memcpy(p->space, space, strlen(space) + 1);
	p->pfx = *pfx;
	if (sub != NULL) {
		p->sub = *sub;
		p->has_sub = true;
	}
	p->net = u128_of(pfx);
	p->last = prefix_last(pfx);
	p->base = u128_of(range);
	p->n = hb >= 63 ? RANGE_CAP : UINT64_C(1) << hb;
	*ret = p;
	return 0;
}

/* First free, non-reserved offset of the range in [from, to). */
static int
pool_find_free(const struct pool *p, uint64_t from, uint64_t to,
    uint64_t *ret)
{
	uint64_t o = from;

	while (o < to) {
		struct u128 a = u128_add(p->base, o);
		unsigned int bit = chunk_bit(a);
		const struct chunk *c;

		if (pool_reserved(p, a)) {
			o++;
			continue;
		}
		c = chunk_find(p, chunk_key(a), NULL);
		if (c == NULL || !bit_test(c, bit)) {
			*ret = o;
			return 0;
		}
		/* Skip the whole run of taken bits in this chunk at once. */
		o += chunk_next_zero(c, bit + 1) - bit;
	}
	return -ENOSPC;
}

static struct pool *
find_pool(const struct ipam *ip, const char *id)
{
	if (id == NULL)
		return NULL;
	for (size_t i = 0; i < ip->npools; i++)
		if (strcmp(ip->pools[i]->id, id) == 0)
			return ip->pools[i];
	return NULL;
}

static int
add_pool(struct ipam *ip, struct pool *p)
{
	if (ip->npools == ip->poolcap) {
		size_t ncap = ip->poolcap ? ip->poolcap * 2 : 8;
		struct pool **np;

		if (ncap > SIZE_MAX / sizeof(*np))
			return -ENOMEM;
		if ((np = realloc(ip->pools, ncap * sizeof(*np))) == NULL)
			return -ENOMEM;
		ip->pools = np;
		ip->poolcap = ncap;
	}
	ip->pools[ip->npools++] = p;
	return 0;
}

/* Validation shared by requests, defaults and load. */

static bool
space_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > IPAM_SPACE_MAX)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '.' && *s != '_' &&
		    *s != '-')
			return false;
	return true;
}

static int
resolve_space(const char *space, const char **ret, char *err, size_t errlen)
{
	if (space == NULL || *space == '\0') {
		*ret = IPAM_LOCAL_SPACE;
		return 0;
	}
	if (!space_valid(space)) {
		ERR("invalid address space name \"%.*s\": use "
		    "1 to %d characters from A-Z a-z 0-9 . _ -",
		    IPAM_SPACE_MAX + 1, space, IPAM_SPACE_MAX);
		return -EINVAL;
	}
	*ret = space;
	return 0;
}

static unsigned int
max_pool_plen(int family)
{
	return family == AF_INET6 ? V6_MAX_PLEN : V4_MAX_PLEN;
}

static bool
family_valid(const struct prefix *p)
{
	return p->family == AF_INET || p->family == AF_INET6;
}

/* what: "subnet", "sub-pool", ... used in messages. */
static int
check_masked(const struct prefix *p, const char *what, char *err,
    size_t errlen)
{
	char buf[PREFIX_STRLEN], mbuf[PREFIX_STRLEN];
	struct prefix m = *p;

	if (!family_valid(p) || p->plen > prefix_maxlen(p->family)) {
		ERR("invalid %s: not an IP prefix", what);
		return -EINVAL;
	}
	if (prefix_is_masked(p))
		return 0;
	prefix_mask(&m);
	ERR("invalid %s %s: host bits are set (did you mean "
	    "%s?)", what, prefix_format(p, buf, sizeof(buf)),
	    prefix_format(&m, mbuf, sizeof(mbuf)));
	return -EINVAL;
}

static int
check_pool_prefix(const struct prefix *p, const char *what, char *err,
    size_t errlen)
{
	char buf[PREFIX_STRLEN];
	int r;

	if ((r = check_masked(p, what, err, errlen)) < 0)
		return r;
	if (p->plen > max_pool_plen(p->family)) {
		ERR("invalid %s %s: an %s pool must be /%u or "
		    "larger (prefix length at most %u)", what,
		    prefix_format(p, buf, sizeof(buf)), famname(p->family),
		    max_pool_plen(p->family), max_pool_plen(p->family));
		return -EINVAL;
	}
	return 0;
}

static int
check_subpool(const struct prefix *pool, const struct prefix *sub,
    char *err, size_t errlen)
{
	char buf[PREFIX_STRLEN], pbuf[PREFIX_STRLEN];
	int r;

	if (sub->family != pool->family) {
		ERR("invalid IP range %s: it is %s but the "
		    "subnet %s is %s", prefix_format(sub, buf, sizeof(buf)),
		    famname(sub->family), prefix_format(pool, pbuf,
		    sizeof(pbuf)), famname(pool->family));
		return -EINVAL;
	}
	if ((r = check_masked(sub, "IP range", err, errlen)) < 0)
		return r;
	if (!prefix_contains(pool, sub)) {
		ERR("invalid IP range %s: it is not inside "
		    "the subnet %s", prefix_format(sub, buf, sizeof(buf)),
		    prefix_format(pool, pbuf, sizeof(pbuf)));
		return -EINVAL;
	}
	return 0;
}

static int
check_default(const struct ipam_default_pool *d, char *err, size_t errlen)
{
	char buf[PREFIX_STRLEN];
	int r;

	if ((r = check_masked(&d->base, "default address pool base", err,
	    errlen)) < 0)
		return r;
	prefix_format(&d->base, buf, sizeof(buf));
	if (d->size < d->base.plen) {
		ERR("invalid default address pool %s: size "
		    "%u is shorter than the base prefix length", buf, d->size);
		return -EINVAL;
	}
	if (d->size > max_pool_plen(d->base.family)) {
		ERR("invalid default address pool %s: size "
		    "%u is too long, %s pools must be /%u or larger", buf,
		    d->size, famname(d->base.family),
		    max_pool_plen(d->base.family));
		return -EINVAL;
	}
	return 0;
}

/* Lifecycle and default pools. */

struct ipam *
ipam_new(void)
{
	static const struct {
		const char	*base;
		unsigned int	 size;
	} def[] = {
		{ "172.16.0.0/12", 20 },
		{ "192.168.0.0/16", 24 },
	};
	size_t n = sizeof(def) / sizeof(def[0]);
	struct ipam *ip, *ret = NULL;

	if ((ip = calloc(1, sizeof(*ip))) == NULL)
		return NULL;
	if ((ip->defs = calloc(n, sizeof(*ip->defs))) == NULL)
		goto out;
	for (size_t i = 0; i < n; i++) {
		if (prefix_parse(def[i].base, &ip->defs[i].base) < 0)
			goto out;
		ip->defs[i].size = def[i].size;
	}
	ip->ndefs = n;
	ret = ip;
	ip = NULL;
out:
	ipam_free(ip);
	return ret;
}

static void
free_pools(struct pool **pools, size_t n)
{
	for (size_t i = 0; i < n; i++)
		pool_free(pools[i]);
	free(pools);
}

struct ipam *
ipam_free(struct ipam *ip)
{
	if (ip == NULL)
		return NULL;
	free_pools(ip->pools, ip->npools);
	free(ip->defs);
	free(ip);
	return NULL;
}

static int
parse_size(const char *s, size_t len, unsigned int *ret)
{
	unsigned int v = 0;

	if (len == 0 || len > 3)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		v = v * 10 + (unsigned int)(s[i] - '0');
	}
	*ret = v;
	return 0;
}

static int
parse_base(const char *s, size_t len, struct prefix *ret)
{
	char buf[PREFIX_STRLEN];

	if (len >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, len);
	buf[len] = '\0';
	return prefix_parse(buf, ret);
}

/* One "base=...,size=..." entry of the flag form. */
static int
parse_flag_entry(const char *s, size_t len, struct ipam_default_pool *ret,
    char *err, size_t errlen)
{
	struct ipam_default_pool d;
	bool have_base = false, have_size = false;
	const char *end = s + len, *f = s;

	memset(&d, 0, sizeof(d));
	while (f < end) {
		const char *comma = memchr(f, ',', (size_t)(end - f));
		const char *fe = comma != NULL ? comma : end;
		const char *eq = memchr(f, '=', (size_t)(fe - f));
		const char *v;
		size_t klen, vlen;

		if (eq == NULL) {
			ERR("invalid default address pool "
			    "\"%.*s\": expected key=value in \"%.*s\"",
			    (int)len, s, (int)(fe - f), f);
			return -EINVAL;
		}
		klen = (size_t)(eq - f);
		v = eq + 1;
		vlen = (size_t)(fe - v);
		if (klen == 4 && memcmp(f, "base", 4) == 0 && !have_base) {
			if (parse_base(v, vlen, &d.base) < 0) {
				ERR("invalid default address "
				    "pool \"%.*s\": base \"%.*s\" is not an IP "
				    "prefix", (int)len, s, (int)vlen, v);
				return -EINVAL;
			}
			have_base = true;
		} else if (klen == 4 && memcmp(f, "size", 4) == 0 &&
		    !have_size) {
			if (parse_size(v, vlen, &d.size) < 0) {
				ERR("invalid default address "
				    "pool \"%.*s\": size \"%.*s\" is not a "
				    "prefix length", (int)len, s, (int)vlen, v);
				return -EINVAL;
			}
			have_size = true;
		} else {
			ERR("invalid default address pool "
			    "\"%.*s\": unexpected or repeated key \"%.*s\" "
			    "(expected base=PREFIX,size=N)", (int)len, s,
			    (int)klen, f);
			return -EINVAL;
		}
		f = comma != NULL ? comma + 1 : end;
	}
	if (!have_base || !have_size) {
		ERR("invalid default address pool \"%.*s\": "
		    "both base and size are required", (int)len, s);
		return -EINVAL;
	}
	*ret = d;
	return 0;
}

static bool
is_sep(char c)
{
	return c == ';' || isspace((unsigned char)c);
}

static int
parse_flag_form(const char *spec, struct ipam_default_pool *defs,
    size_t *ret_n, char *err, size_t errlen)
{
	const char *s = spec;
	size_t n = 0;
	int r;

	for (;;) {
		const char *e;

		while (*s != '\0' && is_sep(*s))
			s++;
		if (*s == '\0')
			break;
		for (e = s; *e != '\0' && !is_sep(*e); e++)
			;
		if (n == MAX_DEFAULTS) {
			ERR("too many default address pools "
			    "(at most %d)", MAX_DEFAULTS);
			return -EINVAL;
		}
		if ((r = parse_flag_entry(s, (size_t)(e - s), &defs[n], err,
		    errlen)) < 0)
			return r;
		n++;
		s = e;
	}
	*ret_n = n;
	return 0;
}

static int
parse_json_form(const char *spec, struct ipam_default_pool *defs,
    size_t *ret_n, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *root, *e;
	size_t i, n;
	int r = 0;

	if ((root = json_loads(spec, JSON_REJECT_DUPLICATES, &jerr)) ==
	    NULL) {
		ERR("invalid default address pools JSON: %s "
		    "(line %d, column %d)", jerr.text, jerr.line, jerr.column);
		return -EINVAL;
	}
	if (!json_is_array(root)) {
		ERR("invalid default address pools: expected "
		    "a JSON array of {\"base\":PREFIX,\"size\":N}");
		r = -EINVAL;
		goto out;
	}
	n = json_array_size(root);
	if (n > MAX_DEFAULTS) {
		ERR("too many default address pools (at most "
		    "%d)", MAX_DEFAULTS);
		r = -EINVAL;
		goto out;
	}
	json_array_foreach(root, i, e) {
		json_t *b = json_object_get(e, "base");
		json_t *sz = json_object_get(e, "size");
		json_int_t v;

		if (!json_is_object(e) || !json_is_string(b) ||
		    !json_is_integer(sz)) {
			ERR("invalid default address pool #%zu:"
			    " expected {\"base\":\"PREFIX\",\"size\":N}", i + 1);
			r = -EINVAL;
			goto out;
		}
		if (prefix_parse(json_string_value(b), &defs[i].base) < 0) {
			ERR("invalid default address pool #%zu:"
			    " base \"%.64s\" is not an IP prefix", i + 1,
			    json_string_value(b));
			r = -EINVAL;
			goto out;
		}
		v = json_integer_value(sz);
		if (v < 0 || v > 128) {
			ERR("invalid default address pool #%zu:"
			    " size %lld is not a prefix length", i + 1,
			    (long long)v);
			r = -EINVAL;
			goto out;
		}
		defs[i].size = (unsigned int)v;
	}
	*ret_n = n;
out:
	json_decref(root);
	return r;
}

int
ipam_parse_default_pools(const char *spec, struct ipam_default_pool **ret,
    size_t *ret_n, char *err, size_t errlen)
{
	struct ipam_default_pool *defs = NULL;
	const char *s = spec;
	size_t n = 0;
	int r;

	if (spec == NULL || ret == NULL || ret_n == NULL) {
		ERR("no default address pools given");
		return -EINVAL;
	}
	while (isspace((unsigned char)*s))
		s++;
	if ((defs = calloc(MAX_DEFAULTS, sizeof(*defs))) == NULL)
		return -ENOMEM;
	if (*s == '[')
		r = parse_json_form(s, defs, &n, err, errlen);
	else
		r = parse_flag_form(s, defs, &n, err, errlen);
	if (r < 0)
		goto out;
	if (n == 0) {
		ERR("empty default address pools: expected "
		    "base=PREFIX,size=N entries or a JSON array");
		r = -EINVAL;
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		if ((r = check_default(&defs[i], err, errlen)) < 0)
			goto out;
	*ret = defs;
	*ret_n = n;
	defs = NULL;
out:
	free(defs);
	return r;
}

int
ipam_set_default_pools(struct ipam *ip, const struct ipam_default_pool *pools,
    size_t n, char *err, size_t errlen)
{
	struct ipam_default_pool *nd;
	bool has[2] = { false, false };	/* [0] IPv4, [1] IPv6 */
	size_t k = 0;
	int r;

	if (n > MAX_DEFAULTS) {
		ERR("too many default address pools (at most "
		    "%d)", MAX_DEFAULTS);
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		if ((r = check_default(&pools[i], err, errlen)) < 0)
			return r;
		has[pools[i].base.family == AF_INET6] = true;
	}
	if ((nd = calloc(ip->ndefs + n + 1, sizeof(*nd))) == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < ip->ndefs; i++)
		if (!has[ip->defs[i].base.family == AF_INET6])
			nd[k++] = ip->defs[i];
	for (size_t i = 0; i < n; i++)
		nd[k++] = pools[i];
	free(ip->defs);
	ip->defs = nd;
	ip->ndefs = k;
	return 0;
}

/* Pool requests. */

/* Does c overlap an existing pool (any space) or an avoided prefix?  If
 * so, *ret_last is the last address of what it overlaps. */
static bool
auto_conflict(const struct ipam *ip, const struct ipam_pool_req *req,
    const struct prefix *c, struct u128 *ret_last)
{
	for (size_t i = 0; i < ip->npools; i++) {
		if (prefix_overlaps(&ip->pools[i]->pfx, c)) {
			*ret_last = ip->pools[i]->last;
			return true;
		}
	}
	for (size_t i = 0; i < req->navoid; i++) {
		/* A default route would rule out everything; like dockerd,
		 * only more specific routes count. */
		if (req->avoid[i].plen == 0)
			continue;
		if (prefix_overlaps(&req->avoid[i], c)) {
			*ret_last = prefix_last(&req->avoid[i]);
			return true;
		}
	}
	return false;
}

static bool
auto_from_default(const struct ipam *ip, const struct ipam_pool_req *req,
    const struct ipam_default_pool *d, struct prefix *ret)
{
	int fam = d->base.family;
	unsigned int maxlen = prefix_maxlen(fam);
	struct u128 cur = u128_of(&d->base);
	struct u128 blast = prefix_last(&d->base);
	struct u128 cmask = u128_hostmask(maxlen - d->size);

	for (;;) {
		struct prefix c = u128_prefix(cur, fam, d->size);
		struct u128 clast = u128_or(cur, cmask), xlast, next;

		if (!auto_conflict(ip, req, &c, &xlast)) {
			*ret = c;
			return true;
		}
		/* Overlapping prefixes nest, so the next candidate clear of
		 * this conflict starts after whichever of the two ends last. */
		next = u128_cmp(xlast, clast) > 0 ? xlast : clast;
		if (u128_cmp(next, blast) >= 0)
			return false;
		cur = u128_add(next, 1);
	}
}

static int
auto_pool(const struct ipam *ip, const struct ipam_pool_req *req,
    struct prefix *ret, char *err, size_t errlen)
{
	int fam = req->v6 ? AF_INET6 : AF_INET;
	char desc[768], buf[PREFIX_STRLEN];
	size_t off = 0;
	bool any = false;

	for (size_t i = 0; i < ip->ndefs; i++) {
		const struct ipam_default_pool *d = &ip->defs[i];

		if (d->base.family != fam)
			continue;
		if (auto_from_default(ip, req, d, ret))
			return 0;
		bufcat(desc, sizeof(desc), &off, "%s%s split in /%u",
		    any ? ", " : "", prefix_format(&d->base, buf, sizeof(buf)),
		    d->size);
		any = true;
	}
	if (!any)
		ERR("no default %s address pool is configured; "
		    "pass --subnet with an %s prefix or set "
		    "DEFAULT_ADDRESS_POOLS", famname(fam), famname(fam));
	else
		ERR("no free %s subnet left in the default "
		    "address pools (%s); set DEFAULT_ADDRESS_POOLS or pass "
		    "--subnet", famname(fam), desc);
	return -ENOSPC;
}

static int
explicit_pool(const struct ipam *ip, const struct ipam_pool_req *req,
    const char *space, char *err, size_t errlen)
{
	char buf[PREFIX_STRLEN], obuf[PREFIX_STRLEN];
	int fam = req->v6 ? AF_INET6 : AF_INET;
	int r;

	if (req->pool->family != fam && family_valid(req->pool)) {
		ERR("subnet %s is %s but an %s pool was "
		    "requested", prefix_format(req->pool, buf, sizeof(buf)),
		    famname(req->pool->family), famname(fam));
		return -EINVAL;
	}
	if ((r = check_pool_prefix(req->pool, "subnet", err, errlen)) < 0)
		return r;
	if (req->subpool != NULL &&
	    (r = check_subpool(req->pool, req->subpool, err, errlen)) < 0)
		return r;
	for (size_t i = 0; i < ip->npools; i++) {
		const struct pool *p = ip->pools[i];

		if (strcmp(p->space, space) != 0 ||
		    !prefix_overlaps(&p->pfx, req->pool))
			continue;
		ERR("subnet %s overlaps with %s, which is "
		    "already in use by another network",
		    prefix_format(req->pool, buf, sizeof(buf)),
		    prefix_format(&p->pfx, obuf, sizeof(obuf)));
		return -EEXIST;
	}
	return 0;
}

int
ipam_request_pool(struct ipam *ip, const struct ipam_pool_req *req,
    char *ret_id, struct prefix *ret_pool, char *err, size_t errlen)
{
	struct pool *p = NULL;
	struct prefix pfx;
	const char *space;
	int r;

	if (ip == NULL || req == NULL) {
		ERR("invalid pool request");
		return -EINVAL;
	}
	if ((r = resolve_space(req->space, &space, err, errlen)) < 0)
		return r;
	if (req->pool != NULL) {
		if ((r = explicit_pool(ip, req, space, err, errlen)) < 0)
			return r;
		pfx = *req->pool;
	} else {
		if (req->subpool != NULL) {
			ERR("an IP range needs an explicit "
			    "subnet; pass --subnet as well");
			return -EINVAL;
		}
		if ((r = auto_pool(ip, req, &pfx, err, errlen)) < 0)
			return r;
	}
	if ((r = pool_new(space, &pfx, req->pool != NULL ? req->subpool :
	    NULL, &p)) < 0)
		goto out;
	if ((r = add_pool(ip, p)) < 0)
		goto out;
	if (ret_id != NULL)
		memcpy(ret_id, p->id, strlen(p->id) + 1);
	if (ret_pool != NULL)
		*ret_pool = pfx;
	p = NULL;
out:
	if (r == -ENOMEM)
		ERR("out of memory");
	pool_free(p);
	return r;
}

int
ipam_release_pool(struct ipam *ip, const char *id, char *err, size_t errlen)
{
	for (size_t i = 0; ip != NULL && id != NULL && i < ip->npools; i++) {
		if (strcmp(ip->pools[i]->id, id) != 0)
			continue;
		pool_free(ip->pools[i]);
		memmove(&ip->pools[i], &ip->pools[i + 1],
		    (ip->npools - i - 1) * sizeof(*ip->pools));
		ip->npools--;
		return 0;
	}
	ERR("pool %s not found", id != NULL ? id : "(null)");
	return -ENOENT;
}

/* Address requests. */

static int
lookup_pool(const struct ipam *ip, const char *id, struct pool **ret,
    char *err, size_t errlen)
{
	struct pool *p = ip != NULL ? find_pool(ip, id) : NULL;

	if (p == NULL) {
		ERR("pool %s not found",
		    id != NULL ? id : "(null)");
		return -ENOENT;
	}
	*ret = p;
	return 0;
}

static int
check_want(const struct pool *p, const struct prefix *want, char *err,
    size_t errlen)
{
	char abuf[INET6_ADDRSTRLEN], pbuf[PREFIX_STRLEN];
	struct u128 a;

	prefix_format(&p->pfx, pbuf, sizeof(pbuf));
	if (want->family != p->pfx.family) {
		ERR("address is %s but pool %s is %s",
		    famname(want->family), pbuf, famname(p->pfx.family));
		return -EINVAL;
	}
	a = u128_of(want);
	fmt_addr(a, p->pfx.family, abuf, sizeof(abuf));
	if (!pool_has(p, a)) {
		ERR("address %s is outside pool %s", abuf,
		    pbuf);
		return -EINVAL;
	}
	if (pool_reserved(p, a)) {
		ERR("address %s is the %s address of pool %s "
		    "and cannot be assigned", abuf, u128_eq(a, p->net) ?
		    "network" : "broadcast", pbuf);
		return -EINVAL;
	}
	if (addr_test(p, a)) {
		ERR("address %s is already in use in pool %s",
		    abuf, p->id);
		return -EEXIST;
	}
	return 0;
}

int
ipam_request_address(struct ipam *ip, const char *id,
    const struct prefix *want, bool gateway, struct prefix *ret,
    char *err, size_t errlen)
{
	struct pool *p;
	struct u128 a;
	uint64_t off = 0;
	int r;

	if ((r = lookup_pool(ip, id, &p, err, errlen)) < 0)
		return r;
	if (want != NULL) {
		if ((r = check_want(p, want, err, errlen)) < 0)
			return r;
		a = u128_of(want);
	} else {
		if (gateway)
			r = pool_find_free(p, 0, p->n, &off);
		else if ((r = pool_find_free(p, p->cursor, p->n, &off)) < 0)
			r = pool_find_free(p, 0, p->cursor, &off);
		if (r < 0) {
			ERR("no free address left in pool %s",
			    p->id);
			return r;
		}
		a = u128_add(p->base, off);
	}
	if ((r = run_set(p, a, 1)) < 0) {
		ERR("out of memory");
		return r;
	}
	if (want == NULL && !gateway) {
		p->cursor = off + 1 < p->n ? off + 1 : 0;
		pool_changed(p);
	}
	if (ret != NULL)
		*ret = u128_prefix(a, p->pfx.family, p->pfx.plen);
	return 0;
}

int
ipam_release_address(struct ipam *ip, const char *id,
    const struct prefix *addr, char *err, size_t errlen)
{
	char abuf[INET6_ADDRSTRLEN];
	struct pool *p;
	struct u128 a;
	int r;

	if ((r = lookup_pool(ip, id, &p, err, errlen)) < 0)
		return r;
	if (addr == NULL || !family_valid(addr)) {
		ERR("no address given to release");
		return -EINVAL;
	}
	a = u128_of(addr);
	if (addr->family != p->pfx.family || !addr_test(p, a)) {
		ERR("address %s is not allocated in pool %s",
		    prefix_format_addr(addr, abuf, sizeof(abuf)), p->id);
		return -ENOENT;
	}
	addr_clear(p, a);
	return 0;
}

size_t
ipam_pool_count(const struct ipam *ip)
{
	return ip != NULL ? ip->npools : 0;
}

long long
ipam_pool_used(const struct ipam *ip, const char *id)
{
	const struct pool *p = ip != NULL ? find_pool(ip, id) : NULL;

	return p != NULL ? (long long)p->used : -ENOENT;
}

/* Dump and load. */

static int
append_run(json_t *arr, int family, struct u128 first, struct u128 last)
{
	char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];
	char buf[2 * INET6_ADDRSTRLEN + 2];
	int n;

	fmt_addr(first, family, a, sizeof(a));
	if (u128_eq(first, last))
		n = snprintf(buf, sizeof(buf), "%s", a);
	else
		n = snprintf(buf, sizeof(buf), "%s-%s", a,
		    fmt_addr(last, family, b, sizeof(b)));
	if (n < 0 || (size_t)n >= sizeof(buf))
		return -EINVAL;
	return json_array_append_new(arr, json_string(buf)) == 0 ? 0 :
	    -ENOMEM;
}

static int
dump_allocated(const struct pool *p, json_t *arr)
{
	int fam = p->pfx.family;
	struct u128 first = { 0, 0 }, prev = { 0, 0 };
	bool open = false;
	int r;

	for (size_t i = 0; i < p->nchunks; i++) {
		const struct chunk *c = p->chunks[i];

		for (unsigned int w = 0; w < CHUNK_WORDS; w++) {
			uint64_t bits = c->bits[w];

			while (bits != 0) {
				unsigned int b = (unsigned int)
				    __builtin_ctzll(bits);
				struct u128 a = chunk_addr(c->key, w * 64 + b);

				bits &= bits - 1;
				if (open && u128_eq(a, u128_add(prev, 1))) {
					prev = a;
					continue;
				}
				if (open && (r = append_run(arr, fam, first,
				    prev)) < 0)
					return r;
				first = prev = a;
				open = true;
			}
		}
	}
	if (open)
		return append_run(arr, fam, first, prev);
	return 0;
}

static int
dump_pool(const struct pool *p, json_t **ret)
{
	char buf[PREFIX_STRLEN], abuf[INET6_ADDRSTRLEN];
	json_t *o = NULL, *arr = NULL;
	int r = -ENOMEM;

	if ((o = json_object()) == NULL || (arr = json_array()) == NULL)
		goto out;
	if (json_object_set_new(o, "id", json_string(p->id)) < 0 ||
	    json_object_set_new(o, "space", json_string(p->space)) < 0 ||
	    json_object_set_new(o, "pool", json_string(prefix_format(&p->pfx,
	    buf, sizeof(buf)))) < 0 ||
	    json_object_set_new(o, "subpool", p->has_sub ?
	    json_string(prefix_format(&p->sub, buf, sizeof(buf))) :
	    json_null()) < 0 ||
	    json_object_set_new(o, "cursor", json_string(fmt_addr(
	    u128_add(p->base, p->cursor), p->pfx.family, abuf,
	    sizeof(abuf)))) < 0)
		goto out;
	if ((r = dump_allocated(p, arr)) < 0)
		goto out;
	r = -ENOMEM;
	if (json_object_set_new(o, "allocated", arr) < 0) {
		arr = NULL;	/* set_new consumed it even on failure */
		goto out;
	}
	arr = NULL;
	*ret = o;
	o = NULL;
	r = 0;
out:
	json_decref(arr);
	json_decref(o);
	return r;
}

int
ipam_dump(const struct ipam *ip, struct json_t **ret)
{
	json_t *root = NULL, *arr = NULL, *po;
	int r = -ENOMEM;

	if (ip == NULL || ret == NULL)
		return -EINVAL;
	if ((root = json_object()) == NULL || (arr = json_array()) == NULL)
		goto out;
	for (size_t i = 0; i < ip->npools; i++) {
		if ((r = dump_pool(ip->pools[i], &po)) < 0)
			goto out;
		r = -ENOMEM;
		if (json_array_append_new(arr, po) < 0)
			goto out;
	}
	r = -ENOMEM;
	if (json_object_set_new(root, "pools", arr) < 0) {
		arr = NULL;
		goto out;
	}
	arr = NULL;
	*ret = root;
	root = NULL;
	r = 0;
out:
	json_decref(arr);
	json_decref(root);
	return r;
}

int
ipam_pool_text(struct ipam *ip, size_t i, const char **ret, size_t *ret_len)
{
	struct pool *p;
	json_t *o = NULL;
	int r;

	if (ip == NULL || i >= ip->npools)
		return -EINVAL;
	p = ip->pools[i];
	if (p->enc == NULL) {
		if ((r = dump_pool(p, &o)) < 0)
			return r;
		p->enc = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
		json_decref(o);
		if (p->enc == NULL)
			return -ENOMEM;
		p->enc_len = strlen(p->enc);
	}
	*ret = p->enc;
	*ret_len = p->enc_len;
	return 0;
}

void
ipam_drop_cache(struct ipam *ip)
{
	for (size_t i = 0; ip != NULL && i < ip->npools; i++)
		pool_changed(ip->pools[i]);
}

static int
load_prefix(const json_t *v, const char *key, size_t idx, struct prefix *ret,
    char *err, size_t errlen)
{
	const json_t *s = json_object_get(v, key);

	if (!json_is_string(s) || prefix_parse(json_string_value(s), ret) < 0) {
		ERR("pools[%zu]: \"%s\" must be an IP prefix "
		    "string", idx, key);
		return -EINVAL;
	}
	return 0;
}

/* "addr" or "first-last" ("addr" is "addr-addr"). */
static int
parse_run(const char *s, struct prefix *ret_first, struct prefix *ret_last)
{
	char buf[2 * INET6_ADDRSTRLEN + 2];
	struct prefix fa, la;
	char *dash;

	if (s == NULL || strlen(s) >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, strlen(s) + 1);
	if ((dash = strchr(buf, '-')) != NULL)
		*dash = '\0';
	if (prefix_parse_addr(buf, &fa) < 0 || (dash != NULL &&
	    prefix_parse_addr(dash + 1, &la) < 0))
		return -EINVAL;
	*ret_first = fa;
	*ret_last = dash != NULL ? la : fa;
	return 0;
}

/* One allocated entry into p. */
static int
load_run(struct pool *p, const json_t *v, size_t idx, uint64_t *total,
    char *err, size_t errlen)
{
	const char *s = json_string_value(v);
	char abuf[INET6_ADDRSTRLEN];
	struct prefix fa, la;
	struct u128 first, last, cnt;
	int fam = p->pfx.family, r;

	if (parse_run(s, &fa, &la) < 0) {
		ERR("pools[%zu]: allocated entries must be "
		    "\"ADDR\" or \"FIRST-LAST\" strings", idx);
		return -EINVAL;
	}
	first = u128_of(&fa);
	last = u128_of(&la);
	if (fa.family != fam || la.family != fam || !pool_has(p, first) ||
	    !pool_has(p, last) || u128_cmp(first, last) > 0) {
		ERR("pools[%zu]: allocated address \"%.90s\" "
		    "is not inside pool %s", idx, s, p->id);
		return -EINVAL;
	}
	if (pool_reserved(p, first) || pool_reserved(p, last)) {
		ERR("pools[%zu]: allocated \"%.90s\" includes "
		    "a reserved address of pool %s", idx, s, p->id);
		return -EINVAL;
	}
	cnt = u128_add(u128_sub(last, first), 1);
	if (cnt.hi != 0 || cnt.lo == 0 || cnt.lo > LOAD_MAX_ADDRS - *total) {
		ERR("pools[%zu]: too many allocated addresses "
		    "in pool %s", idx, p->id);
		return -EINVAL;
	}
	*total += cnt.lo;
	if ((r = run_set(p, first, cnt.lo)) == -EEXIST) {
		ERR("pools[%zu]: duplicate allocated address "
		    "in \"%.90s\" (%s)", idx, s,
		    fmt_addr(first, fam, abuf, sizeof(abuf)));
		return -EINVAL;
	}
	if (r < 0)
		ERR("out of memory");
	return r;
}

static int
load_pool(const json_t *v, size_t idx, uint64_t *total, struct pool **ret,
    char *err, size_t errlen)
{
	const json_t *jspace, *jsub, *jid, *jcur, *jalloc, *e;
	char what[48];
	struct prefix pfx, sub, cur;
	struct pool *p = NULL;
	struct u128 off;
	size_t i;
	int r;

	if (!json_is_object(v)) {
		ERR("pools[%zu] must be an object", idx);
		return -EINVAL;
	}
	jspace = json_object_get(v, "space");
	if (!json_is_string(jspace) || !space_valid(json_string_value(jspace))) {
		ERR("pools[%zu]: \"space\" must be a valid "
		    "address space name", idx);
		return -EINVAL;
	}
	if ((r = load_prefix(v, "pool", idx, &pfx, err, errlen)) < 0)
		return r;
	(void) snprintf(what, sizeof(what), "pools[%zu] pool", idx);
	if ((r = check_pool_prefix(&pfx, what, err, errlen)) < 0)
		return r;
	jsub = json_object_get(v, "subpool");
	if (jsub != NULL && !json_is_null(jsub)) {
		if ((r = load_prefix(v, "subpool", idx, &sub, err,
		    errlen)) < 0)
			return r;
		if ((r = check_subpool(&pfx, &sub, err, errlen)) < 0)
			return r;
	}
	if ((r = pool_new(json_string_value(jspace), &pfx,
	    jsub != NULL && !json_is_null(jsub) ? &sub : NULL, &p)) < 0) {
		if (r == -ENOMEM)
			ERR("out of memory");
		else
			ERR("pools[%zu]: invalid pool", idx);
		return r;
	}
	jid = json_object_get(v, "id");
	if (!json_is_string(jid) || strcmp(json_string_value(jid), p->id)) {
		ERR("pools[%zu]: \"id\" must be \"%s\"", idx,
		    p->id);
		r = -EINVAL;
		goto out;
	}
	jcur = json_object_get(v, "cursor");
	if (!json_is_string(jcur) ||
	    prefix_parse_addr(json_string_value(jcur), &cur) < 0 ||
	    cur.family != pfx.family ||
	    u128_cmp(u128_of(&cur), p->base) < 0 ||
	    (off = u128_sub(u128_of(&cur), p->base)).hi != 0 ||
	    off.lo >= p->n) {
		ERR("pools[%zu]: \"cursor\" must be an address "
		    "inside the allocation range of pool %s", idx, p->id);
		r = -EINVAL;
		goto out;
	}
	p->cursor = off.lo;
	jalloc = json_object_get(v, "allocated");
	if (!json_is_array(jalloc)) {
		ERR("pools[%zu]: \"allocated\" must be an "
		    "array", idx);
		r = -EINVAL;
		goto out;
	}
	json_array_foreach(jalloc, i, e) {
		if ((r = load_run(p, e, idx, total, err, errlen)) < 0)
			goto out;
	}
	*ret = p;
	p = NULL;
out:
	pool_free(p);
	return r;
}

int
ipam_load(struct ipam *ip, const struct json_t *v, char *err, size_t errlen)
{
	struct ipam tmp;
	const json_t *arr, *e;
	uint64_t total = 0;
	size_t i;
	int r = 0;

	memset(&tmp, 0, sizeof(tmp));
	if (ip == NULL || !json_is_object(v) ||
	    !json_is_array(arr = json_object_get(v, "pools"))) {
		ERR("IPAM state must be an object with a "
		    "\"pools\" array");
		return -EINVAL;
	}
	json_array_foreach(arr, i, e) {
		struct pool *p = NULL;

		if ((r = load_pool(e, i, &total, &p, err, errlen)) < 0)
			goto out;
		for (size_t j = 0; j < tmp.npools; j++) {
			const struct pool *o = tmp.pools[j];

			if (strcmp(o->space, p->space) != 0 ||
			    !prefix_overlaps(&o->pfx, &p->pfx))
				continue;
			ERR("pools[%zu]: pool %s overlaps with "
			    "pool %s", i, p->id, o->id);
			pool_free(p);
			r = -EINVAL;
			goto out;
		}
		if ((r = add_pool(&tmp, p)) < 0) {
			ERR("out of memory");
			pool_free(p);
			goto out;
		}
	}
	/* Everything validated: swap in the new pools. */
	free_pools(ip->pools, ip->npools);
	ip->pools = tmp.pools;
	ip->npools = tmp.npools;
	ip->poolcap = tmp.poolcap;
	tmp.pools = NULL;
	tmp.npools = 0;
out:
	free_pools(tmp.pools, tmp.npools);
	return r;
}
