/*
 * IPAM: address spaces, pools and per-pool address allocation.  Pure: no
 * system calls; the host's prefixes in use are passed in by the caller.
 * Functions return 0 on success or -errno, and on failure write a message
 * a user can act on to err (errlen bytes, may be NULL):
 *   -EINVAL  malformed or inconsistent request
 *   -ENOENT  unknown pool ID / address not allocated
 *   -EEXIST  overlap with an existing pool, address already in use
 *   -ENOSPC  no free pool / no free address
 *   -ENOMEM  out of memory
 */
#ifndef CBRIDGE_IPAM_H
#define CBRIDGE_IPAM_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/prefix.h"

#define IPAM_LOCAL_SPACE	"LocalDefault"
#define IPAM_GLOBAL_SPACE	"GlobalDefault"
#define IPAM_SPACE_MAX		64	/* bytes, without NUL */
#define IPAM_ID_MAX		192	/* "<space>/<pool>[/<subpool>]" + NUL */

struct json_t;
struct ipam;

/* One entry of default-address-pools: split base into prefixes of /size. */
struct ipam_default_pool {
	struct prefix	base;
	unsigned int	size;
};

struct ipam_pool_req {
	const char		*space;		/* NULL or "": IPAM_LOCAL_SPACE */
	const struct prefix	*pool;		/* NULL: pick from default pools */
	const struct prefix	*subpool;	/* NULL: allocate from all of pool */
	bool			v6;
	/* Host prefixes an automatic pool must not overlap (addresses and
	 * routes); ignored for explicit pools. Borrowed. */
	const struct prefix	*avoid;
	size_t			navoid;
};

/* Built-in default pools: 172.16.0.0/12 split in /20, 192.168.0.0/16 in
 * /24; no IPv6 defaults until ipam_set_default_pools() provides them. */
struct ipam	*ipam_new(void);
struct ipam	*ipam_free(struct ipam *ip);

/* Parses DEFAULT_ADDRESS_POOLS: either dockerd's daemon.json form
 * '[{"base":"10.10.0.0/16","size":24}, ...]' or the flag form
 * 'base=10.10.0.0/16,size=24 base=fd00:1::/48,size=64' (entries separated
 * by spaces or ';').  *ret is malloc'ed, owned by the caller. */
int	ipam_parse_default_pools(const char *spec,
	    struct ipam_default_pool **ret, size_t *ret_n,
	    char *err, size_t errlen);
/* Replaces the default pools of the families present in pools[] (copied).
 * Families absent from pools[] keep their current defaults. */
int	ipam_set_default_pools(struct ipam *ip,
	    const struct ipam_default_pool *pools, size_t n,
	    char *err, size_t errlen);

/* ret_id gets IPAM_ID_MAX bytes; ret_pool the masked pool. */
int	ipam_request_pool(struct ipam *ip, const struct ipam_pool_req *req,
	    char *ret_id, struct prefix *ret_pool, char *err, size_t errlen);
int	ipam_release_pool(struct ipam *ip, const char *id,
	    char *err, size_t errlen);

/* want NULL: the next free address after the last one handed out
 * (wrapping), so a just-released address is not reused at once; with
 * gateway set, the lowest free address instead.  want set: that address,
 * which must lie in the pool (not necessarily in the sub-pool).  *ret is
 * the address with the pool's prefix length. */
int	ipam_request_address(struct ipam *ip, const char *id,
	    const struct prefix *want, bool gateway, struct prefix *ret,
	    char *err, size_t errlen);
int	ipam_release_address(struct ipam *ip, const char *id,
	    const struct prefix *addr, char *err, size_t errlen);

/* Pools and allocations as a JSON value (new reference in *ret). */
int	ipam_dump(const struct ipam *ip, struct json_t **ret);
/* Pool i (below ipam_pool_count) as compact JSON text with sorted keys,
 * the element ipam_dump puts in "pools".  Made on first use and kept until
 * the pool changes; *ret is borrowed, valid until ip next changes. */
int	ipam_pool_text(struct ipam *ip, size_t i, const char **ret,
	    size_t *ret_len);
/* Drops every pool's cached text. */
void	ipam_drop_cache(struct ipam *ip);
/* Replaces ip's pools with those in v, validating everything; on failure
 * ip is unchanged. */
int	ipam_load(struct ipam *ip, const struct json_t *v,
	    char *err, size_t errlen);

size_t	ipam_pool_count(const struct ipam *ip);
/* Number of allocated addresses in pool id, -ENOENT if unknown. */
long long ipam_pool_used(const struct ipam *ip, const char *id);

#endif
