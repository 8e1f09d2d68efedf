/*
 * IPAM: the input up to its first NUL byte is a DEFAULT_ADDRESS_POOLS
 * value for ipam_parse_default_pools(); the bytes after it drive a
 * sequence of pool and address requests and releases on a fresh ipam.
 *
 * Next to the ipam runs a small independent model (sorted sets of held
 * addresses, 128-bit arithmetic, an interval sweep for automatic pools),
 * and every call's result is compared with what the model predicts:
 *   - an explicit pool is refused exactly when it is malformed or overlaps
 *     a pool of its address space, and its ID names space, pool, range;
 *   - an automatic pool is the first /size of the first default pool of
 *     the family that overlaps no pool and no avoided host prefix;
 *   - an address is inside its pool, never the network (or IPv4
 *     broadcast) address, never handed out twice while held; "any" is the
 *     next free one after the last handed out (wrapping), "gateway" the
 *     lowest free one, a specific one is refused exactly when it is
 *     outside, reserved or held;
 *   - a release succeeds exactly for what is held;
 *   - usage counts match, and a dump loaded into a new ipam dumps the same
 *     and behaves the same from then on.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <jansson.h>

#include "plugin/ipam.h"
#include "lib/prefix.h"
#include "tests/fuzz/fuzz.h"

#define MAX_OPS		1024
#define MAX_POOLS	48
#define MAX_AVOID	4

typedef unsigned __int128 u128;

/* FUZZ_TRACE set: each call and its result on stderr. */
static bool trace;
#define TRACE(...)	do { if (trace) dprintf(fuzz_errfd, __VA_ARGS__); } \
	while (0)

/* The input as a stream of bytes; zeros once it runs out. */
struct rd {
	const uint8_t	*p;
	size_t		n;
};

static uint8_t
rd_u8(struct rd *r)
{
	if (r->n == 0)
		return 0;
	r->n--;
	return *r->p++;
}

static uint64_t
rd_uint(struct rd *r, unsigned int bytes)
{
	uint64_t v = 0;

	while (bytes-- > 0)
		v = v << 8 | rd_u8(r);
	return v;
}

/* 128-bit view of addresses (IPv4 in the low 32 bits), done here rather
 * than with ipam.c's own helpers so that the model is independent. */
static unsigned int
maxlen(int family)
{
	return family == AF_INET6 ? 128 : 32;
}

static unsigned int
max_pool_plen(int family)
{
	return family == AF_INET6 ? 126 : 30;
}

static u128
hostmask(unsigned int hb)
{
	return hb >= 128 ? ~(u128)0 : ((u128)1 << hb) - 1;
}

/* Shifts by the width or more give 0 (a /0 default split in /0). */
static u128
shr(u128 v, unsigned int n)
{
	return n >= 128 ? 0 : v >> n;
}

static u128
shl(u128 v, unsigned int n)
{
	return n >= 128 ? 0 : v << n;
}

static u128
to_u128(const struct prefix *p)
{
	unsigned int n = p->family == AF_INET6 ? 16 : 4;
	u128 v = 0;

	for (unsigned int i = 0; i < n; i++)
		v = v << 8 | p->addr[i];
	return v;
}

static struct prefix
from_u128(u128 a, int family, unsigned int plen)
{
	struct prefix p;
	unsigned int n = family == AF_INET6 ? 16 : 4;

	memset(&p, 0, sizeof(p));
	p.family = family;
	p.plen = plen;
	for (unsigned int i = n; i-- > 0; a >>= 8)
		p.addr[i] = (unsigned char)a;
	return p;
}

static u128
net_of(const struct prefix *p)
{
	return to_u128(p) & ~hostmask(maxlen(p->family) - p->plen);
}

static u128
last_of(const struct prefix *p)
{
	return net_of(p) | hostmask(maxlen(p->family) - p->plen);
}

static bool
masked(const struct prefix *p)
{
	return (to_u128(p) & hostmask(maxlen(p->family) - p->plen)) == 0;
}

static bool
overlaps(const struct prefix *a, const struct prefix *b)
{
	return a->family == b->family && net_of(a) <= last_of(b) &&
	    net_of(b) <= last_of(a);
}

static bool
contains(const struct prefix *outer, const struct prefix *inner)
{
	return outer->family == inner->family && inner->plen >= outer->plen &&
	    net_of(inner) >= net_of(outer) && last_of(inner) <= last_of(outer);
}

/* One pool as the model sees it. */
struct mpool {
	char		id[IPAM_ID_MAX];
	char		space[IPAM_SPACE_MAX + 1];
	struct prefix	pfx;
	int		family;
	u128		net, last, base;
	uint64_t	n;		/* offsets of the allocation range */
	uint64_t	cursor;
	u128		*held;		/* sorted */
	size_t		nheld, cap;
};

struct model {
	struct mpool	*pools[MAX_POOLS];
	size_t		npools;
	struct ipam_default_pool defs[128];
	size_t		ndefs;
};

static void
mpool_free(struct mpool *p)
{
	if (p != NULL)
		free(p->held);
	free(p);
}

static bool
held_find(const struct mpool *p, u128 a, size_t *ret_pos)
{
	size_t lo = 0, hi = p->nheld;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (p->held[mid] == a) {
			if (ret_pos != NULL)
				*ret_pos = mid;
			return true;
		}
		if (p->held[mid] < a)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (ret_pos != NULL)
		*ret_pos = lo;
	return false;
}

static void
held_add(struct mpool *p, u128 a)
{
	size_t pos;

	FUZZ_CHECK(!held_find(p, a, &pos), "address handed out twice in %s",
	    p->id);
	if (p->nheld == p->cap) {
		size_t ncap = p->cap ? p->cap * 2 : 16;
		u128 *nv = realloc(p->held, ncap * sizeof(*nv));

		if (nv == NULL)
			abort();
		p->held = nv;
		p->cap = ncap;
	}
	memmove(&p->held[pos + 1], &p->held[pos],
	    (p->nheld - pos) * sizeof(*p->held));
	p->held[pos] = a;
	p->nheld++;
}

static void
held_del(struct mpool *p, u128 a)
{
	size_t pos;

	if (!held_find(p, a, &pos))
		abort();
	memmove(&p->held[pos], &p->held[pos + 1],
	    (p->nheld - pos - 1) * sizeof(*p->held));
	p->nheld--;
}

static bool
reserved(const struct mpool *p, u128 a)
{
	return a == p->net || (p->family == AF_INET && a == p->last);
}

/* First offset in [from, to) that is neither reserved nor held.  Each
 * step past from is paid for by a held or reserved address. */
static bool
model_find_free(const struct mpool *p, uint64_t from, uint64_t to,
    uint64_t *ret)
{
	for (uint64_t o = from; o < to; o++) {
		u128 a = p->base + o;

		if (reserved(p, a) || held_find(p, a, NULL))
			continue;
		*ret = o;
		return true;
	}
	return false;
}

static struct mpool *
find_mpool(const struct model *m, const char *id, size_t *ret_idx)
{
	for (size_t i = 0; i < m->npools; i++) {
		if (strcmp(m->pools[i]->id, id) == 0) {
			if (ret_idx != NULL)
				*ret_idx = i;
			return m->pools[i];
		}
	}
	return NULL;
}

static void
model_add_pool(struct model *m, const char *id, const char *space,
    const struct prefix *pfx, const struct prefix *sub)
{
	const struct prefix *range = sub != NULL ? sub : pfx;
	unsigned int hb = maxlen(range->family) - range->plen;
	struct mpool *p = calloc(1, sizeof(*p));

	if (p == NULL)
		abort();
	FUZZ_CHECK(find_mpool(m, id, NULL) == NULL, "pool ID %s given twice",
	    id);
	FUZZ_CHECK(strlen(id) < sizeof(p->id), "pool ID too long");
	memcpy(p->id, id, strlen(id) + 1);
	memcpy(p->space, space, strlen(space) + 1);
	p->pfx = *pfx;
	p->family = pfx->family;
	p->net = net_of(pfx);
	p->last = last_of(pfx);
	p->base = net_of(range);
	p->n = hb >= 63 ? UINT64_C(1) << 63 : UINT64_C(1) << hb;
	m->pools[m->npools++] = p;
}

/* A prefix from the input: IPv4 from 4 bytes, IPv6 with its first 6
 * bytes from the input (the rest zero), so that pools meet. */
static struct prefix
rd_prefix(struct rd *r, int family, bool mask)
{
	struct prefix p;

	memset(&p, 0, sizeof(p));
	p.family = family;
	for (unsigned int i = 0; i < (family == AF_INET ? 4u : 6u); i++)
		p.addr[i] = rd_u8(r);
	p.plen = rd_u8(r) % (maxlen(family) + 1);
	if (mask)
		p = from_u128(net_of(&p), family, p.plen);
	return p;
}

static const char *
rd_space(struct rd *r, const char **ret_resolved)
{
	static const char *const spaces[] = { NULL, "", IPAM_LOCAL_SPACE,
	    IPAM_GLOBAL_SPACE, "s-1.x_y", "bad space",
	    "x1234567890123456789012345678901234567890123456789012345678901234",
	};
	const char *s = spaces[rd_u8(r) % (sizeof(spaces) / sizeof(spaces[0]))];

	*ret_resolved = s == NULL || *s == '\0' ? IPAM_LOCAL_SPACE :
	    (strchr(s, ' ') != NULL || strlen(s) > IPAM_SPACE_MAX) ? NULL : s;
	return s;
}

static void
expect_id(const char *got, const char *space, const struct prefix *pfx,
    const struct prefix *sub)
{
	char want[IPAM_ID_MAX + 8], a[PREFIX_STRLEN], b[PREFIX_STRLEN];

	if (sub != NULL)
		(void) snprintf(want, sizeof(want), "%s/%s/%s", space,
		    prefix_format(pfx, a, sizeof(a)),
		    prefix_format(sub, b, sizeof(b)));
	else
		(void) snprintf(want, sizeof(want), "%s/%s", space,
		    prefix_format(pfx, a, sizeof(a)));
	FUZZ_CHECK(strcmp(got, want) == 0, "pool ID '%s', expected '%s'", got,
	    want);
}

static void
op_explicit_pool(struct ipam *ip, struct model *m, struct rd *r)
{
	uint8_t flags = rd_u8(r);
	int family = flags & 1 ? AF_INET6 : AF_INET;
	bool v6 = flags & 2 ? family == AF_INET : family == AF_INET6;
	struct prefix pool = rd_prefix(r, family, flags & 4), sub;
	bool has_sub = flags & 8;
	const char *space, *resolved;
	char id[IPAM_ID_MAX], err[512] = "";
	struct ipam_pool_req req = { 0 };
	struct prefix got;
	int want = 0, ret;

	space = rd_space(r, &resolved);
	if (has_sub) {
		if (flags & 16) {
			sub = rd_prefix(r, flags & 32 ? AF_INET6 : AF_INET,
			    flags & 64);
		} else {
			/* A range inside the pool. */
			unsigned int room = maxlen(family) - pool.plen;
			unsigned int plen = pool.plen + rd_u8(r) % (room + 1);
			u128 bits = rd_uint(r, 4);

			/* plen > 0 here, so the shift is below 128. */
			bits = plen == pool.plen ? 0 :
			    bits << (maxlen(family) - plen);
			sub = from_u128(net_of(&pool) | (bits &
			    hostmask(room)), family, plen);
		}
	}
	if (resolved == NULL || pool.family != (v6 ? AF_INET6 : AF_INET) ||
	    !masked(&pool) || pool.plen > max_pool_plen(family) ||
	    (has_sub && (!masked(&sub) || !contains(&pool, &sub))))
		want = -EINVAL;
	for (size_t i = 0; want == 0 && i < m->npools; i++)
		if (strcmp(m->pools[i]->space, resolved) == 0 &&
		    overlaps(&m->pools[i]->pfx, &pool))
			want = -EEXIST;
	if (want == 0 && m->npools == MAX_POOLS)
		return;

	req.space = space;
	req.pool = &pool;
	req.subpool = has_sub ? &sub : NULL;
	req.v6 = v6;
	ret = ipam_request_pool(ip, &req, id, &got, err, sizeof(err));
	TRACE("explicit pool: %d %s%s\n", ret, ret == 0 ? id : "", err);
	FUZZ_CHECK(ret == want, "explicit pool: %d, expected %d (%s)", ret,
	    want, err);
	if (ret < 0) {
		FUZZ_CHECK(err[0] != '\0', "refused without a message");
		return;
	}
	FUZZ_CHECK(prefix_equal(&got, &pool), "explicit pool changed");
	expect_id(id, resolved, &pool, has_sub ? &sub : NULL);
	model_add_pool(m, id, resolved, &pool, has_sub ? &sub : NULL);
}

/* Candidate index ranges blocked by a conflict. */
struct ival {
	u128	lo, hi;
};

static int
ival_cmp(const void *a, const void *b)
{
	const struct ival *x = a, *y = b;

	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/* The first /size of d that overlaps none of the pools and avoided
 * prefixes, by a sweep over the blocked candidate ranges. */
static bool
first_fit(const struct model *m, const struct ipam_default_pool *d,
    const struct prefix *avoid, size_t navoid, struct prefix *ret)
{
	struct ival iv[MAX_POOLS + MAX_AVOID];
	int family = d->base.family;
	unsigned int step = maxlen(family) - d->size;
	u128 base = net_of(&d->base), blast = last_of(&d->base);
	u128 ncand_1 = shr(blast - base, step), cand = 0;
	size_t n = 0;

	for (size_t i = 0; i < m->npools + navoid; i++) {
		const struct prefix *x = i < m->npools ? &m->pools[i]->pfx :
		    &avoid[i - m->npools];
		u128 lo, hi;

		if (x->family != family || (i >= m->npools && x->plen == 0) ||
		    last_of(x) < base || net_of(x) > blast)
			continue;
		lo = net_of(x) > base ? net_of(x) : base;
		hi = last_of(x) < blast ? last_of(x) : blast;
		iv[n++] = (struct ival){ shr(lo - base, step),
		    shr(hi - base, step) };
	}
	qsort(iv, n, sizeof(iv[0]), ival_cmp);
	for (size_t i = 0; i < n; i++) {
		if (iv[i].lo > cand)
			break;
		if (iv[i].hi >= cand) {
			if (iv[i].hi == ncand_1)
				return false;
			cand = iv[i].hi + 1;
		}
	}
	*ret = from_u128(base + shl(cand, step), family, d->size);
	return true;
}

static void
op_auto_pool(struct ipam *ip, struct model *m, struct rd *r)
{
	uint8_t flags = rd_u8(r);
	int family = flags & 1 ? AF_INET6 : AF_INET;
	struct prefix avoid[MAX_AVOID], expect, got, junk;
	size_t navoid = ((flags >> 1) & 7) % (MAX_AVOID + 1);
	const char *space, *resolved;
	char id[IPAM_ID_MAX], err[512] = "";
	struct ipam_pool_req req = { 0 };
	bool found = false;
	int want, ret;

	space = rd_space(r, &resolved);
	for (size_t i = 0; i < navoid; i++)
		avoid[i] = rd_prefix(r, rd_u8(r) & 1 ? AF_INET6 : AF_INET,
		    true);
	for (size_t i = 0; i < m->ndefs && !found; i++)
		if (m->defs[i].base.family == family)
			found = first_fit(m, &m->defs[i], avoid, navoid,
			    &expect);
	want = resolved == NULL || (flags & 0x80) ? -EINVAL :
	    found ? 0 : -ENOSPC;
	if (want == 0 && m->npools == MAX_POOLS)
		return;

	req.space = space;
	req.v6 = family == AF_INET6;
	req.avoid = avoid;
	req.navoid = navoid;
	if (flags & 0x80) {
		junk = from_u128(0, family, 24);
		req.subpool = &junk;
	}
	ret = ipam_request_pool(ip, &req, id, &got, err, sizeof(err));
	TRACE("automatic pool: %d %s%s\n", ret, ret == 0 ? id : "", err);
	FUZZ_CHECK(ret == want, "automatic pool: %d, expected %d (%s)", ret,
	    want, err);
	if (ret < 0) {
		FUZZ_CHECK(err[0] != '\0', "refused without a message");
		return;
	}
	FUZZ_CHECK(prefix_equal(&got, &expect), "automatic pool is not the "
	    "first free one");
	expect_id(id, resolved, &got, NULL);
	model_add_pool(m, id, resolved, &got, NULL);
}

static void
op_release_pool(struct ipam *ip, struct model *m, struct rd *r)
{
	size_t idx = rd_u8(r);
	char err[512] = "";
	int ret;

	if (idx >= m->npools) {
		ret = ipam_release_pool(ip, idx & 1 ? "LocalDefault/x" : NULL,
		    err, sizeof(err));
		FUZZ_CHECK(ret == -ENOENT && err[0] != '\0',
		    "released an unknown pool: %d", ret);
		return;
	}
	ret = ipam_release_pool(ip, m->pools[idx]->id, err, sizeof(err));
	TRACE("release pool %s: %d %s\n", m->pools[idx]->id, ret, err);
	FUZZ_CHECK(ret == 0, "release pool %s: %d %s", m->pools[idx]->id, ret,
	    err);
	mpool_free(m->pools[idx]);
	memmove(&m->pools[idx], &m->pools[idx + 1],
	    (m->npools - idx - 1) * sizeof(m->pools[0]));
	m->npools--;
}

/* A pool of the model, or NULL for an ID the ipam does not know. */
static struct mpool *
rd_pool(struct model *m, struct rd *r)
{
	size_t idx = rd_u8(r);

	return idx < m->npools ? m->pools[idx] : NULL;
}

static void
check_used(const struct ipam *ip, const struct mpool *p)
{
	long long used = ipam_pool_used(ip, p->id);

	FUZZ_CHECK(used == (long long)p->nheld, "pool %s: %lld used, %zu held",
	    p->id, used, p->nheld);
}

static void
op_request_address(struct ipam *ip, struct model *m, struct rd *r,
    bool gateway)
{
	struct mpool *p = rd_pool(m, r);
	char err[512] = "";
	struct prefix got;
	uint64_t off = 0;
	bool found;
	int ret;

	ret = ipam_request_address(ip, p != NULL ? p->id : "nope/10.0.0.0/8",
	    NULL, gateway, &got, err, sizeof(err));
	TRACE("%s address from %s: %d %s%s\n", gateway ? "gateway" : "any",
	    p != NULL ? p->id : "(unknown)", ret, ret == 0 ?
	    prefix_format(&got, err, sizeof(err)) : "", ret < 0 ? err : "");
	if (p == NULL) {
		FUZZ_CHECK(ret == -ENOENT, "address from an unknown pool: %d",
		    ret);
		return;
	}
	if (gateway)
		found = model_find_free(p, 0, p->n, &off);
	else
		found = model_find_free(p, p->cursor, p->n, &off) ||
		    model_find_free(p, 0, p->cursor, &off);
	FUZZ_CHECK(ret == (found ? 0 : -ENOSPC), "%s address from %s: %d, "
	    "expected %s (%s)", gateway ? "gateway" : "any", p->id, ret,
	    found ? "one" : "none", err);
	if (ret == 0) {
		u128 a = to_u128(&got);

		FUZZ_CHECK(got.family == p->family && got.plen == p->pfx.plen,
		    "address with the wrong family or length");
		FUZZ_CHECK(a >= p->net && a <= p->last && !reserved(p, a),
		    "address outside its pool or reserved");
		FUZZ_CHECK(a == p->base + off, "%s address from %s is not the "
		    "expected one", gateway ? "gateway" : "next", p->id);
		held_add(p, a);
		if (!gateway)
			p->cursor = off + 1 < p->n ? off + 1 : 0;
	}
	check_used(ip, p);
}

static void
op_request_specific(struct ipam *ip, struct model *m, struct rd *r)
{
	struct mpool *p = rd_pool(m, r);
	uint8_t mode = rd_u8(r);
	char err[512] = "";
	struct prefix want_a, got;
	int want, ret;
	u128 a;

	if (p == NULL)
		return;
	switch (mode % 4) {
	case 0:
		want_a = from_u128(p->net + rd_uint(r, 2), p->family,
		    maxlen(p->family));
		break;
	case 1:
		want_a = from_u128(p->last - rd_u8(r), p->family,
		    maxlen(p->family));
		break;
	case 2:
		if (p->nheld > 0) {
			want_a = from_u128(p->held[rd_u8(r) % p->nheld],
			    p->family, maxlen(p->family));
			break;
		}
		/* FALLTHROUGH */
	default:
		want_a = rd_prefix(r, rd_u8(r) & 1 ? AF_INET6 : AF_INET,
		    false);
		break;
	}
	a = to_u128(&want_a);
	if (want_a.family != p->family || a < p->net || a > p->last ||
	    reserved(p, a))
		want = -EINVAL;
	else if (held_find(p, a, NULL))
		want = -EEXIST;
	else
		want = 0;
	ret = ipam_request_address(ip, p->id, &want_a, mode & 4, &got, err,
	    sizeof(err));
	TRACE("specific address in %s: %d %s\n", p->id, ret, err);
	FUZZ_CHECK(ret == want, "specific address in %s: %d, expected %d (%s)",
	    p->id, ret, want, err);
	if (ret == 0) {
		FUZZ_CHECK(got.family == p->family &&
		    got.plen == p->pfx.plen && to_u128(&got) == a,
		    "specific address changed");
		held_add(p, a);
	} else
		FUZZ_CHECK(err[0] != '\0', "refused without a message");
	check_used(ip, p);
}

static void
op_release_address(struct ipam *ip, struct model *m, struct rd *r)
{
	struct mpool *p = rd_pool(m, r);
	uint8_t mode = rd_u8(r);
	char err[512] = "";
	struct prefix addr;
	bool held;
	int ret;

	if (p == NULL)
		return;
	if (mode & 1 && p->nheld > 0)
		addr = from_u128(p->held[rd_u8(r) % p->nheld], p->family,
		    p->pfx.plen);
	else if (mode & 2)
		addr = from_u128(p->net + rd_uint(r, 2), p->family,
		    maxlen(p->family));
	else
		addr = rd_prefix(r, mode & 4 ? AF_INET6 : AF_INET, false);
	held = addr.family == p->family && held_find(p, to_u128(&addr), NULL);
	ret = ipam_release_address(ip, p->id, &addr, err, sizeof(err));
	TRACE("release address in %s: %d %s\n", p->id, ret, err);
	FUZZ_CHECK(ret == (held ? 0 : -ENOENT), "release address in %s: %d, "
	    "expected %d (%s)", p->id, ret, held ? 0 : -ENOENT, err);
	if (ret == 0)
		held_del(p, to_u128(&addr));
	check_used(ip, p);
}

static struct ipam *
new_ipam(const struct ipam_default_pool *defs, size_t n)
{
	struct ipam *ip = ipam_new();
	char err[512] = "";
	int r;

	if (ip == NULL)
		abort();
	if (n > 0) {
		r = ipam_set_default_pools(ip, defs, n, err, sizeof(err));
		FUZZ_CHECK(r == 0, "parsed default pools refused: %s", err);
	}
	return ip;
}

/* Dump, load into a new ipam, dump again: the same; then carry on with
 * the loaded one, so that anything the dump lost shows up later. */
static struct ipam *
op_reload(struct ipam *ip, const struct ipam_default_pool *defs, size_t n)
{
	struct ipam *ip2 = new_ipam(defs, n);
	json_t *d1 = NULL, *d2 = NULL;
	char err[512] = "";
	int r;

	r = ipam_dump(ip, &d1);
	FUZZ_CHECK(r == 0, "ipam_dump: %d", r);
	r = ipam_load(ip2, d1, err, sizeof(err));
	FUZZ_CHECK(r == 0, "ipam_load of a dump: %s", err);
	r = ipam_dump(ip2, &d2);
	FUZZ_CHECK(r == 0 && json_equal(d1, d2), "dump changed after a load");
	json_decref(d1);
	json_decref(d2);
	ipam_free(ip);
	return ip2;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void) argc, (void) argv;
	fuzz_keep_stderr();
	json_object_seed(1);
	trace = getenv("FUZZ_TRACE") != NULL;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ipam_default_pool *defs = NULL;
	struct model m;
	struct ipam *ip;
	const uint8_t *nul;
	struct rd r = { 0 };
	char *spec, err[512] = "";
	size_t ndefs = 0, speclen;
	int ret;

	if (size > FUZZ_MAX_INPUT)
		return 0;
	nul = memchr(data, '\0', size);
	speclen = nul != NULL ? (size_t)(nul - data) : size;
	if (nul != NULL)
		r = (struct rd){ nul + 1, size - speclen - 1 };
	if ((spec = malloc(speclen + 1)) == NULL)
		return 0;
	memcpy(spec, data, speclen);
	spec[speclen] = '\0';

	memset(&m, 0, sizeof(m));
	/* The built-in defaults, as ipam_new() has them. */
	(void) prefix_parse("172.16.0.0/12", &m.defs[0].base);
	m.defs[0].size = 20;
	(void) prefix_parse("192.168.0.0/16", &m.defs[1].base);
	m.defs[1].size = 24;
	m.ndefs = 2;

	ret = ipam_parse_default_pools(spec, &defs, &ndefs, err, sizeof(err));
	TRACE("default pools: %d %s\n", ret, err);
	if (ret < 0) {
		FUZZ_CHECK(ret == -EINVAL || ret == -ENOMEM,
		    "ipam_parse_default_pools: %d", ret);
		FUZZ_CHECK(err[0] != '\0', "refused without a message");
		ndefs = 0;
	} else {
		bool has[2] = { false, false };
		size_t k = 0;

		FUZZ_CHECK(ndefs >= 1 && ndefs <= 64, "%zu default pools",
		    ndefs);
		for (size_t i = 0; i < ndefs; i++) {
			const struct ipam_default_pool *d = &defs[i];

			FUZZ_CHECK((d->base.family == AF_INET ||
			    d->base.family == AF_INET6) && masked(&d->base) &&
			    d->size >= d->base.plen &&
			    d->size <= max_pool_plen(d->base.family),
			    "default pool %zu accepted but invalid", i);
			has[d->base.family == AF_INET6] = true;
		}
		/* Families given replace the built-ins, others keep them. */
		for (size_t i = 0; i < m.ndefs; i++)
			if (!has[m.defs[i].base.family == AF_INET6])
				m.defs[k++] = m.defs[i];
		memcpy(&m.defs[k], defs, ndefs * sizeof(*defs));
		m.ndefs = k + ndefs;
	}
	ip = new_ipam(defs, ndefs);

	for (unsigned int i = 0; i < MAX_OPS && r.n > 0; i++) {
		switch (rd_u8(&r) % 8) {
		case 0:
			op_explicit_pool(ip, &m, &r);
			break;
		case 1:
			op_auto_pool(ip, &m, &r);
			break;
		case 2:
			op_release_pool(ip, &m, &r);
			break;
		case 3:
			op_request_address(ip, &m, &r, false);
			break;
		case 4:
			op_request_address(ip, &m, &r, true);
			break;
		case 5:
			op_request_specific(ip, &m, &r);
			break;
		case 6:
			op_release_address(ip, &m, &r);
			break;
		default:
			ip = op_reload(ip, defs, ndefs);
			break;
		}
		FUZZ_CHECK(ipam_pool_count(ip) == m.npools, "%zu pools, model "
		    "has %zu", ipam_pool_count(ip), m.npools);
	}

	for (size_t i = 0; i < m.npools; i++)
		mpool_free(m.pools[i]);
	ipam_free(ip);
	free(defs);
	free(spec);
	return 0;
}
