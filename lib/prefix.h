/*
 * IPv4/IPv6 addresses and prefixes as plain values.  Pure: no allocation,
 * no system state.  Bytes are in network order; an IPv4 value uses the
 * first 4 bytes of addr[].
 */
#ifndef CBRIDGE_PREFIX_H
#define CBRIDGE_PREFIX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>	/* AF_INET, AF_INET6 */

/* "ffff:...:ffff/128" plus NUL, with room to spare. */
#define PREFIX_STRLEN	64

struct prefix {
	int		family;		/* AF_INET or AF_INET6 */
	unsigned char	addr[16];
	unsigned int	plen;		/* 0..32 or 0..128 */
};

/* Parses "a.b.c.d/n" or "x::y/n".  Host bits may be set (a gateway
 * "10.0.0.1/24" parses as such); -EINVAL on anything else. */
int	prefix_parse(const char *s, struct prefix *ret);
/* Parses a plain address; plen becomes the full length.  -EINVAL. */
int	prefix_parse_addr(const char *s, struct prefix *ret);
/* "addr/plen" into buf (at least PREFIX_STRLEN). Returns buf. */
const char *prefix_format(const struct prefix *p, char *buf, size_t len);
/* The address alone, without "/plen". Returns buf. */
const char *prefix_format_addr(const struct prefix *p, char *buf, size_t len);

unsigned int prefix_maxlen(int family);
/* Clears host bits. */
void	prefix_mask(struct prefix *p);
bool	prefix_is_masked(const struct prefix *p);
/* Same family, address and length. */
bool	prefix_equal(const struct prefix *a, const struct prefix *b);
/* Does prefix a (masked view) contain address/prefix b? */
bool	prefix_contains(const struct prefix *a, const struct prefix *b);
bool	prefix_overlaps(const struct prefix *a, const struct prefix *b);

/* Number of host bits, maxlen - plen. */
unsigned int prefix_host_bits(const struct prefix *p);
/* ret = network(p) + off, keeping p's plen.  -ERANGE when off does not fit
 * in the host part. */
int	prefix_add_offset(const struct prefix *p, uint64_t off,
	    struct prefix *ret);
/* Offset of address a inside prefix p; -ERANGE if a is outside p or the
 * offset does not fit in 64 bits. */
int	prefix_offset_of(const struct prefix *p, const struct prefix *a,
	    uint64_t *ret);

#endif
