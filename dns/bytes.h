/*
 * Internal to dns/: network-order reads and writes and ASCII lower case,
 * shared by the packet code and the cache.
 */
#ifndef CBRIDGE_DNS_BYTES_H
#define CBRIDGE_DNS_BYTES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

static inline uint16_t
rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t
rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static inline void
wr16(uint8_t *p, unsigned int v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void
wr32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* DNS names compare without case, ASCII only (RFC 4343). */
static inline uint8_t
dns_lower(uint8_t ch)
{
	return ch >= 'A' && ch <= 'Z' ? (uint8_t)(ch + 32) : ch;
}

/* Two wire names of len bytes each, without case; length bytes are
 * <= 63, so folding them too is harmless. */
static inline bool
dns_wire_eq_nocase(const uint8_t *a, const uint8_t *b, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (dns_lower(a[i]) != dns_lower(b[i]))
			return false;
	return true;
}

#endif
