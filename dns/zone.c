/*
 * The records of one sandbox's view: networks in endpoint order, and for
 * each (network, name) pair the deduplicated addresses of every endpoint
 * that owns the name there.  Two open-addressing hash tables (name keys,
 * PTR addresses) make a lookup a few probes, whatever the zone's size; the
 * zone is built once by the caller and only read by dns_answer().
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "dns/answer.h"
#include "dns/err.h"

/* "name.network" text at most 253 bytes: 255 on the wire. */
#define TEXT_MAX	(DNS_NAME_MAX - 2)

struct dz_net {
	char		*name;		/* lower-case, owned */
	size_t		len;
};

/* One name on one network. */
struct dz_key {
	char		*name;		/* lower-case, owned */
	size_t		len;
	uint32_t	net;
	uint32_t	hash;
	struct in_addr	*a4;		/* owned, deduplicated */
	size_t		n4, cap4;
	struct in6_addr	*a6;
	size_t		n6, cap6;
};

/* The PTR target of one address. */
struct dz_ptr {
	int		family;
	uint8_t		addr[16];
	uint32_t	net;		/* lowest network index wins */
	uint32_t	hash;
	char		*text;		/* "name.network.", owned */
	uint8_t		*wire;		/* the same on the wire, owned */
	size_t		wlen;
};

struct dns_zone {
	struct dz_net	*nets;
	size_t		nnets;
	struct dz_key	*keys;
	size_t		nkeys, capkeys;
	uint32_t	*kslots;	/* index + 1 into keys, 0: empty */
	size_t		nkslots;	/* power of two */
	struct dz_ptr	*ptrs;
	size_t		nptrs, capptrs;
	uint32_t	*pslots;
	size_t		npslots;
	uint32_t	ttl;
	bool		nodata_single;
};

static uint32_t
fnv(uint32_t h, const void *p, size_t len)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < len; i++)
		h = (h ^ b[i]) * 16777619u;
	return h;
}

static uint32_t
key_hash(uint32_t net, const char *name, size_t len)
{
	return fnv(fnv(2166136261u, &net, sizeof(net)), name, len);
}

static uint32_t
ptr_hash(int family, const uint8_t *addr)
{
	uint8_t f = family == AF_INET6 ? 6 : 4;

	return fnv(fnv(2166136261u, &f, 1), addr, family == AF_INET6 ? 16 : 4);
}

static size_t
addr_len(int family)
{
	return family == AF_INET6 ? 16 : 4;
}

struct dns_zone *
dns_zone_new(void)
{
	struct dns_zone *z = calloc(1, sizeof(*z));

	if (z != NULL)
		z->ttl = DNS_TTL_DEFAULT;
	return z;
}

struct dns_zone *
dns_zone_free(struct dns_zone *z)
{
	if (z == NULL)
		return NULL;
	for (size_t i = 0; i < z->nnets; i++)
		free(z->nets[i].name);
	for (size_t i = 0; i < z->nkeys; i++) {
		free(z->keys[i].name);
		free(z->keys[i].a4);
		free(z->keys[i].a6);
	}
	for (size_t i = 0; i < z->nptrs; i++) {
		free(z->ptrs[i].text);
		free(z->ptrs[i].wire);
	}
	free(z->nets);
	free(z->keys);
	free(z->kslots);
	free(z->ptrs);
	free(z->pslots);
	free(z);
	return NULL;
}

int
dns_zone_set_ttl(struct dns_zone *z, uint32_t ttl, char *err, size_t errlen)
{
	if (z == NULL)
		return -EINVAL;
	if (ttl > DNS_TTL_MAX) {
		dns_seterr(err, errlen, "DNS TTL %u is too large: use 0..%u seconds", ttl,
		    DNS_TTL_MAX);
		return -EINVAL;
	}
	z->ttl = ttl;
	return 0;
}

void
dns_zone_set_nodata_single_label(struct dns_zone *z, bool on)
{
	if (z != NULL)
		z->nodata_single = on;
}

uint32_t
dns_zone_ttl(const struct dns_zone *z)
{
	return z->ttl;
}

bool
dns_zone_nodata_single_label(const struct dns_zone *z)
{
	return z->nodata_single;
}

bool
dns_zone_has_network(const struct dns_zone *z, const char *lname, size_t len)
{
	for (size_t i = 0; i < z->nnets; i++)
		if (z->nets[i].len == len &&
		    memcmp(z->nets[i].name, lname, len) == 0)
			return true;
	return false;
}

static bool
name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
	    c == '_';
}

/*
 * Checks what (a "name" or "network name") s: labels of 1..63 bytes of
 * [A-Za-z0-9_-] joined by dots, at most max bytes.  Writes the lower-cased
 * copy to low (max + 1 bytes).  Returns the length, or -EINVAL.
 */
static int
check_name(const char *what, const char *s, size_t max, char *low,
    char *err, size_t errlen)
{
	size_t len, label = 0;

	if (s == NULL || *s == '\0') {
		dns_seterr(err, errlen, "Empty DNS %s: give a non-empty name", what);
		return -EINVAL;
	}
	len = strnlen(s, max + 1);
	if (len > max) {
		dns_seterr(err, errlen, "DNS %s '%.40s...' is longer than %zu bytes", what, s, max);
		return -EINVAL;
	}
	for (size_t i = 0; i <= len; i++) {
		char c = s[i];

		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		low[i] = c;
		if (c == '.' || c == '\0') {
			if (label == 0) {
				dns_seterr(err, errlen, "DNS %s '%s' has an empty label (leading, "
				    "trailing or double dot)", what, s);
				return -EINVAL;
			}
			if (label > DNS_LABEL_MAX) {
				dns_seterr(err, errlen, "DNS %s '%s' has a label longer than %d "
				    "bytes", what, s, DNS_LABEL_MAX);
				return -EINVAL;
			}
			label = 0;
		} else if (!name_char(c)) {
			dns_seterr(err, errlen, "DNS %s '%s' has a character other than letters, "
			    "digits, '-', '_' and '.'", what, s);
			return -EINVAL;
		} else {
			label++;
		}
	}
	return (int)len;
}

int
dns_zone_add_network(struct dns_zone *z, const char *netname, char *err,
    size_t errlen)
{
	char low[TEXT_MAX + 1];
	struct dz_net *nv;
	char *copy;
	int len;

	if (z == NULL)
		return -EINVAL;
	if ((len = check_name("network name", netname, TEXT_MAX, low, err,
	    errlen)) < 0)
		return len;
	if (z->nnets >= DNS_ZONE_NETS_MAX) {
		dns_seterr(err, errlen, "Too many networks for one DNS view (at most %d)",
		    DNS_ZONE_NETS_MAX);
		return -ENOSPC;
	}
	if ((copy = strdup(low)) == NULL)
		goto oom;
	nv = realloc(z->nets, (z->nnets + 1) * sizeof(*nv));
	if (nv == NULL) {
		free(copy);
		goto oom;
	}
	z->nets = nv;
	z->nets[z->nnets] = (struct dz_net){ copy, (size_t)len };
	return (int)z->nnets++;
oom:
	dns_seterr(err, errlen, "Out of memory adding DNS network '%s'", netname);
	return -ENOMEM;
}

static struct dz_key *
find_key(const struct dns_zone *z, uint32_t net, const char *name,
    size_t len, uint32_t h)
{
	if (z->nkslots == 0)
		return NULL;
	for (size_t i = h & (z->nkslots - 1);; i = (i + 1) & (z->nkslots - 1)) {
		uint32_t s = z->kslots[i];
		struct dz_key *k;

		if (s == 0)
			return NULL;
		k = &z->keys[s - 1];
		if (k->hash == h && k->net == net && k->len == len &&
		    memcmp(k->name, name, len) == 0)
			return k;
	}
}

static struct dz_ptr *
find_ptr(const struct dns_zone *z, int family, const uint8_t *addr,
    uint32_t h)
{
	if (z->npslots == 0)
		return NULL;
	for (size_t i = h & (z->npslots - 1);; i = (i + 1) & (z->npslots - 1)) {
		uint32_t s = z->pslots[i];
		struct dz_ptr *p;

		if (s == 0)
			return NULL;
		p = &z->ptrs[s - 1];
		if (p->hash == h && p->family == family &&
		    memcmp(p->addr, addr, addr_len(family)) == 0)
			return p;
	}
}

/* Makes room in a table of *nslots slots for want entries at load <= 1/2,
 * rehashing from the hashes stored at (base + i*stride). */
static int
grow_slots(uint32_t **slots, size_t *nslots, size_t want, const void *base,
    size_t stride, size_t hash_off, size_t count)
{
	size_t n = *nslots ? *nslots : 16;
	uint32_t *s;

	while (n < want * 2)
		n *= 2;
	if (n == *nslots)
		return 0;
	if ((s = calloc(n, sizeof(*s))) == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < count; i++) {
		uint32_t h;
		size_t j;

		memcpy(&h, (const uint8_t *)base + i * stride + hash_off,
		    sizeof(h));
		for (j = h & (n - 1); s[j] != 0; j = (j + 1) & (n - 1))
			;
		s[j] = (uint32_t)i + 1;
	}
	free(*slots);
	*slots = s;
	*nslots = n;
	return 0;
}

static void
insert_slot(uint32_t *slots, size_t nslots, uint32_t h, size_t idx)
{
	size_t j;

	for (j = h & (nslots - 1); slots[j] != 0; j = (j + 1) & (nslots - 1))
		;
	slots[j] = (uint32_t)idx + 1;
}

/* Capacity for one more element in an array of elements of size sz. */
static int
reserve(void **v, size_t *cap, size_t n, size_t more, size_t sz)
{
	size_t ncap;
	void *nv;

	if (n + more <= *cap)
		return 0;
	ncap = *cap ? *cap : 4;
	while (ncap < n + more)
		ncap *= 2;
	if ((nv = realloc(*v, ncap * sz)) == NULL)
		return -ENOMEM;
	*v = nv;
	*cap = ncap;
	return 0;
}

/* "a.b" to wire form; text is valid (check_name) and fits 255 bytes. */
static size_t
text_to_wire(const char *text, uint8_t *wire)
{
	size_t w = 0;

	while (*text != '\0') {
		const char *dot = strchr(text, '.');
		size_t l = dot != NULL ? (size_t)(dot - text) : strlen(text);

		wire[w++] = (uint8_t)l;
		memcpy(wire + w, text, l);
		w += l;
		text += l;
		if (*text == '.')
			text++;
	}
	wire[w++] = 0;
	return w;
}

/* What dns_zone_add() allocates before it changes the zone. */
struct add_tmp {
	char		*low[DNS_ZONE_NAMES_MAX];	/* lower-cased names */
	struct in_addr	*a4[DNS_ZONE_NAMES_MAX];	/* for new keys */
	struct in6_addr	*a6[DNS_ZONE_NAMES_MAX];
	char		*ptext[2];			/* per family */
	uint8_t		*pwire[2];
};

static void
add_tmp_done(struct add_tmp *t)
{
	for (size_t i = 0; i < DNS_ZONE_NAMES_MAX; i++) {
		free(t->low[i]);
		free(t->a4[i]);
		free(t->a6[i]);
	}
	for (size_t f = 0; f < 2; f++) {
		free(t->ptext[f]);
		free(t->pwire[f]);
	}
}

static void
add_addresses(struct dz_key *k, const struct in_addr *a4,
    const struct in6_addr *a6)
{
	bool dup = false;

	/* Capacity was reserved by dns_zone_add(). */
	for (size_t j = 0; a4 != NULL && j < k->n4 && !dup; j++)
		dup = k->a4[j].s_addr == a4->s_addr;
	if (a4 != NULL && !dup)
		k->a4[k->n4++] = *a4;
	dup = false;
	for (size_t j = 0; a6 != NULL && j < k->n6 && !dup; j++)
		dup = memcmp(&k->a6[j], a6, sizeof(*a6)) == 0;
	if (a6 != NULL && !dup)
		k->a6[k->n6++] = *a6;
}

int
dns_zone_add(struct dns_zone *z, size_t net, const char *const *names,
    size_t n, const struct in_addr *a4, const struct in6_addr *a6,
    char *err, size_t errlen)
{
	struct add_tmp t;
	char buf[TEXT_MAX + 1], target[TEXT_MAX + 2];
	const void *addr[2] = { a4, a6 };
	static const int family[2] = { AF_INET, AF_INET6 };
	uint8_t wire[DNS_NAME_MAX];
	size_t newkeys = 0, wlen, netlen;
	int r;

	if (z == NULL || names == NULL)
		return -EINVAL;
	if (net >= z->nnets) {
		dns_seterr(err, errlen, "Unknown DNS network index %zu (%zu networks)", net,
		    z->nnets);
		return -EINVAL;
	}
	if (n == 0 || n > DNS_ZONE_NAMES_MAX) {
		dns_seterr(err, errlen, "A DNS entry needs 1..%d names, not %zu",
		    DNS_ZONE_NAMES_MAX, n);
		return -EINVAL;
	}
	if (a4 == NULL && a6 == NULL) {
		dns_seterr(err, errlen, "DNS name '%s' has no address: give an IPv4 or IPv6 "
		    "address", names[0] != NULL ? names[0] : "");
		return -EINVAL;
	}
	netlen = z->nets[net].len;
	memset(&t, 0, sizeof(t));

	/* Validate and allocate everything before changing the zone, so
	 * that a failure leaves it as it was. */
	for (size_t i = 0; i < n; i++) {
		struct dz_key *k;

		if ((r = check_name("name", names[i], TEXT_MAX, buf, err,
		    errlen)) < 0)
			goto out;
		if ((size_t)r + 1 + netlen > TEXT_MAX) {
			dns_seterr(err, errlen, "DNS name '%.64s%s' on network '%.64s%s' is longer "
			    "than %d bytes as name.network: use a shorter name "
			    "or network name", names[i], r > 64 ? "..." : "",
			    z->nets[net].name, netlen > 64 ? "..." : "",
			    TEXT_MAX);
			r = -EINVAL;
			goto out;
		}
		if ((t.low[i] = strdup(buf)) == NULL)
			goto oom;
		k = find_key(z, (uint32_t)net, buf, (size_t)r,
		    key_hash((uint32_t)net, buf, (size_t)r));
		if (k == NULL) {
			newkeys++;
			if ((a4 != NULL &&
			    (t.a4[i] = malloc(sizeof(*a4))) == NULL) ||
			    (a6 != NULL &&
			    (t.a6[i] = malloc(sizeof(*a6))) == NULL))
				goto oom;
		} else if ((a4 != NULL && reserve((void **)&k->a4, &k->cap4,
		    k->n4, 1, sizeof(*k->a4)) < 0) || (a6 != NULL &&
		    reserve((void **)&k->a6, &k->cap6, k->n6, 1,
		    sizeof(*k->a6)) < 0))
			goto oom;
	}
	if (z->nkeys + newkeys > DNS_ZONE_KEYS_MAX) {
		dns_seterr(err, errlen, "Too many DNS names in one view (at most %d)",
		    DNS_ZONE_KEYS_MAX);
		r = -ENOSPC;
		goto out;
	}
	if (reserve((void **)&z->keys, &z->capkeys, z->nkeys, newkeys,
	    sizeof(*z->keys)) < 0 ||
	    grow_slots(&z->kslots, &z->nkslots, z->nkeys + newkeys, z->keys,
	    sizeof(*z->keys), offsetof(struct dz_key, hash), z->nkeys) < 0 ||
	    reserve((void **)&z->ptrs, &z->capptrs, z->nptrs, 2,
	    sizeof(*z->ptrs)) < 0 ||
	    grow_slots(&z->pslots, &z->npslots, z->nptrs + 2, z->ptrs,
	    sizeof(*z->ptrs), offsetof(struct dz_ptr, hash), z->nptrs) < 0)
		goto oom;
	/* The PTR target, names[0].network: fits by the checks above. */
	(void) snprintf(buf, sizeof(buf), "%s.%s", t.low[0],
	    z->nets[net].name);
	(void) snprintf(target, sizeof(target), "%s.", buf);
	wlen = text_to_wire(buf, wire);
	for (size_t f = 0; f < 2; f++) {
		if (addr[f] == NULL)
			continue;
		if ((t.ptext[f] = strdup(target)) == NULL ||
		    (t.pwire[f] = malloc(wlen)) == NULL)
			goto oom;
		memcpy(t.pwire[f], wire, wlen);
	}

	/* Commit: nothing below fails. */
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(t.low[i]);
		uint32_t h = key_hash((uint32_t)net, t.low[i], len);
		struct dz_key *k = find_key(z, (uint32_t)net, t.low[i], len, h);

		/* A name given twice finds the key made the first time, which
		 * already holds the addresses: add_addresses adds nothing. */
		if (k == NULL) {
			k = &z->keys[z->nkeys];
			*k = (struct dz_key){ .name = t.low[i], .len = len,
			    .net = (uint32_t)net, .hash = h,
			    .a4 = t.a4[i], .cap4 = t.a4[i] != NULL,
			    .a6 = t.a6[i], .cap6 = t.a6[i] != NULL };
			t.low[i] = NULL;
			t.a4[i] = NULL;
			t.a6[i] = NULL;
			insert_slot(z->kslots, z->nkslots, h, z->nkeys++);
		}
		add_addresses(k, a4, a6);
	}
	for (size_t f = 0; f < 2; f++) {
		struct dz_ptr *p;
		uint32_t h;

		if (addr[f] == NULL)
			continue;
		h = ptr_hash(family[f], addr[f]);
		p = find_ptr(z, family[f], addr[f], h);
		/* The first network in endpoint order names the address. */
		if (p != NULL && p->net <= net)
			continue;
		if (p == NULL) {
			p = &z->ptrs[z->nptrs];
			*p = (struct dz_ptr){ .family = family[f], .hash = h };
			memcpy(p->addr, addr[f], addr_len(family[f]));
			insert_slot(z->pslots, z->npslots, h, z->nptrs++);
		} else {
			free(p->text);
			free(p->wire);
		}
		p->net = (uint32_t)net;
		p->text = t.ptext[f];
		p->wire = t.pwire[f];
		p->wlen = wlen;
		t.ptext[f] = NULL;
		t.pwire[f] = NULL;
	}
	r = 0;
	goto out;
oom:
	dns_seterr(err, errlen, "Out of memory adding DNS name '%s'", names[0]);
	r = -ENOMEM;
out:
	add_tmp_done(&t);
	return r;
}

/* name: lname on network net, or NULL. */
static const struct dz_key *
key_on(const struct dns_zone *z, size_t net, const char *lname, size_t len)
{
	return find_key(z, (uint32_t)net, lname, len,
	    key_hash((uint32_t)net, lname, len));
}

static int
key_result(const struct dz_key *k, struct dns_addrs *ret)
{
	*ret = (struct dns_addrs){ .net = k->net, .a4 = k->a4, .n4 = k->n4,
	    .a6 = k->a6, .n6 = k->n6 };
	return 0;
}

int
dns_zone_find(const struct dns_zone *z, const char *lname, size_t len,
    struct dns_addrs *ret)
{
	const struct dz_key *k;

	if (len == 0 || z->nkeys == 0)
		return -ENOENT;
	/* The name itself on every network, in endpoint order. */
	for (size_t i = 0; i < z->nnets; i++)
		if ((k = key_on(z, i, lname, len)) != NULL)
			return key_result(k, ret);
	/* Then "a.b.c" on network "d", then "a.b" on "c.d", and so on. */
	for (size_t p = len; p-- > 0;) {
		const char *suffix = lname + p + 1;
		size_t slen = len - p - 1;

		if (lname[p] != '.')
			continue;
		for (size_t i = 0; i < z->nnets; i++)
			if (z->nets[i].len == slen &&
			    memcmp(z->nets[i].name, suffix, slen) == 0 &&
			    (k = key_on(z, i, lname, p)) != NULL)
				return key_result(k, ret);
	}
	return -ENOENT;
}

int
dns_zone_lookup(const struct dns_zone *z, const char *name,
    struct dns_addrs *ret)
{
	char low[DNS_NAME_MAX];
	size_t len;

	if (z == NULL || name == NULL || ret == NULL)
		return -EINVAL;
	len = strnlen(name, sizeof(low));
	if (len == sizeof(low))
		return -ENOENT;
	if (len > 0 && name[len - 1] == '.')
		len--;
	for (size_t i = 0; i < len; i++) {
		char c = name[i];

		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (!name_char(c) && c != '.')
			return -ENOENT;
		low[i] = c;
	}
	return dns_zone_find(z, low, len, ret);
}

const uint8_t *
dns_zone_find_ptr(const struct dns_zone *z, int family, const uint8_t *addr,
    size_t *ret_len)
{
	const struct dz_ptr *p = find_ptr(z, family, addr,
	    ptr_hash(family, addr));

	if (p == NULL)
		return NULL;
	*ret_len = p->wlen;
	return p->wire;
}

const char *
dns_zone_ptr(const struct dns_zone *z, int family, const void *addr)
{
	const struct dz_ptr *p;

	if (z == NULL || addr == NULL ||
	    (family != AF_INET && family != AF_INET6))
		return NULL;
	p = find_ptr(z, family, addr, ptr_hash(family, addr));
	return p != NULL ? p->text : NULL;
}
