#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "prefix.h"

unsigned int
prefix_maxlen(int family)
{
	return family == AF_INET ? 32 : 128;
}

static int
parse_plen(const char *s, unsigned int max, unsigned int *ret)
{
	unsigned int v = 0;

	if (*s == '\0' || strlen(s) > 3)
		return -EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		v = v * 10 + (unsigned int)(*s - '0');
	}
	if (v > max)
		return -EINVAL;
	*ret = v;
	return 0;
}

int
prefix_parse_addr(const char *s, struct prefix *ret)
{
	struct prefix p = { 0 };

	if (s == NULL || strlen(s) >= INET6_ADDRSTRLEN)
		return -EINVAL;
	if (inet_pton(AF_INET, s, p.addr) == 1)
		p.family = AF_INET;
	else if (inet_pton(AF_INET6, s, p.addr) == 1)
		p.family = AF_INET6;
	else
		return -EINVAL;
	p.plen = prefix_maxlen(p.family);
	*ret = p;
	return 0;
}

int
prefix_parse(const char *s, struct prefix *ret)
{
	char buf[INET6_ADDRSTRLEN];
	const char *slash;
	struct prefix p;
	size_t n;

	if (s == NULL || (slash = strchr(s, '/')) == NULL)
		return -EINVAL;
	n = (size_t)(slash - s);
	if (n == 0 || n >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (prefix_parse_addr(buf, &p) < 0)
		return -EINVAL;
	if (parse_plen(slash + 1, prefix_maxlen(p.family), &p.plen) < 0)
		return -EINVAL;
	*ret = p;
	return 0;
}

const char *
prefix_format_addr(const struct prefix *p, char *buf, size_t len)
{
	if (inet_ntop(p->family, p->addr, buf, (socklen_t)len) == NULL)
		(void) snprintf(buf, len, "?");
	return buf;
}

const char *
prefix_format(const struct prefix *p, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	(void) snprintf(buf, len, "%s/%u",
	    prefix_format_addr(p, a, sizeof(a)), p->plen);
	return buf;
}

static void
mask_bytes(unsigned char *addr, unsigned int plen, unsigned int maxlen)
{
	for (unsigned int bit = plen; bit < maxlen; bit++)
		addr[bit / 8] &= (unsigned char)~(0x80u >> (bit % 8));
}

void
prefix_mask(struct prefix *p)
{
	mask_bytes(p->addr, p->plen, prefix_maxlen(p->family));
}

bool
prefix_is_masked(const struct prefix *p)
{
	struct prefix m = *p;

	prefix_mask(&m);
	return memcmp(m.addr, p->addr, sizeof(p->addr)) == 0;
}

bool
prefix_equal(const struct prefix *a, const struct prefix *b)
{
	return a->family == b->family && a->plen == b->plen &&
	    memcmp(a->addr, b->addr, prefix_maxlen(a->family) / 8) == 0;
}

/* Compare the first plen bits of two addresses. */
static bool
same_bits(const unsigned char *x, const unsigned char *y, unsigned int plen)
{
	unsigned int full = plen / 8, rest = plen % 8;

	if (memcmp(x, y, full) != 0)
		return false;
	if (rest == 0)
		return true;
	unsigned char m = (unsigned char)(0xffu << (8 - rest));
	return (x[full] & m) == (y[full] & m);
}

bool
prefix_contains(const struct prefix *a, const struct prefix *b)
{
	if (a->family != b->family || b->plen < a->plen)
		return false;
	return same_bits(a->addr, b->addr, a->plen);
}

bool
prefix_overlaps(const struct prefix *a, const struct prefix *b)
{
	if (a->family != b->family)
		return false;
	return same_bits(a->addr, b->addr, a->plen < b->plen ? a->plen : b->plen);
}

unsigned int
prefix_host_bits(const struct prefix *p)
{
	return prefix_maxlen(p->family) - p->plen;
}

int
prefix_add_offset(const struct prefix *p, uint64_t off, struct prefix *ret)
{
	unsigned int bytes = prefix_maxlen(p->family) / 8;
	unsigned int hb = prefix_host_bits(p);
	struct prefix r = *p;
	unsigned int carry = 0;

	if (hb < 64 && off >> hb != 0)
		return -ERANGE;
	prefix_mask(&r);
	/* Host bits are zero after masking, so adding cannot carry into the
	 * network part when off fits in hb bits. */
	for (unsigned int i = 0; i < bytes; i++) {
		unsigned int idx = bytes - 1 - i;
		unsigned int v = r.addr[idx] + (unsigned int)(i < 8 ?
		    (off >> (8 * i)) & 0xff : 0) + carry;
		r.addr[idx] = (unsigned char)v;
		carry = v >> 8;
	}
	*ret = r;
	return 0;
}

int
prefix_offset_of(const struct prefix *p, const struct prefix *a,
    uint64_t *ret)
{
	unsigned int bytes = prefix_maxlen(p->family) / 8;
	struct prefix net = *p, host = *a;
	uint64_t off = 0;

	if (a->family != p->family)
		return -ERANGE;
	host.plen = p->plen;
	if (!prefix_contains(p, &host))
		return -ERANGE;
	prefix_mask(&net);
	for (unsigned int i = 0; i < bytes; i++) {
		unsigned char hostbyte = a->addr[i] ^ net.addr[i];
		if (bytes - i > 8) {
			if (hostbyte != 0)
				return -ERANGE;
			continue;
		}
		off = (off << 8) | hostbyte;
	}
	*ret = off;
	return 0;
}
