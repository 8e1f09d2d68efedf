/*
 * The driver core: decides what networks and pools exist, keeps them
 * persisted, and has netlink/ carry it out.  Takes validated plain structs
 * from api.c; never sees JSON.  Every call returns 0 or -errno and writes a
 * message a user can act on to err:
 *   -EINVAL bad request, -ENOENT unknown object, -EEXIST clash/overlap,
 *   -ENOSPC exhausted, -E2BIG a limit, other errnos from the host.
 */
#ifndef CBRIDGE_DRIVER_H
#define CBRIDGE_DRIVER_H

#include <stdbool.h>
#include <stddef.h>

#include "netlink/netlink.h"
#include "plugin/ipam.h"
#include "plugin/options.h"
#include "plugin/prefix.h"
#include "plugin/state.h"

#define DRV_MAX_NETWORKS	1024
#define DRV_MAX_IPDATA		4	/* per family, as accepted from JSON */
#define DRV_BRIDGE_PREFIX	"cb-"

struct drv;

struct drv_params {
	const char		*state_dir;	/* borrowed, must exist */
	struct lnk		*lnk;		/* borrowed */
	const struct ipam_default_pool *pools;	/* NULL: built-in defaults */
	size_t			npools;
};

struct drv_ipdata {
	struct prefix	pool;
	bool		has_gw;
	struct prefix	gw;
};

struct drv_net_req {
	char			id[NET_ID_LEN + 1];
	const struct opt_kvlist	*generic;	/* borrowed */
	bool			enable_ipv4, enable_ipv6, internal;
	size_t			nv4, nv6;
	struct drv_ipdata	v4[DRV_MAX_IPDATA], v6[DRV_MAX_IPDATA];
};

/* Loads the state in params->state_dir and brings the host in line with
 * it (bridges of persisted networks are re-created if missing). */
int	drv_new(const struct drv_params *params, struct drv **ret,
	    char *err, size_t errlen);
struct drv *drv_free(struct drv *d);

int	drv_create_network(struct drv *d, const struct drv_net_req *req,
	    char *err, size_t errlen);
int	drv_delete_network(struct drv *d, const char *id, char *err,
	    size_t errlen);

int	drv_request_pool(struct drv *d, const char *space,
	    const struct prefix *pool, const struct prefix *subpool, bool v6,
	    char *ret_id, struct prefix *ret_pool, char *err, size_t errlen);
int	drv_release_pool(struct drv *d, const char *id, char *err,
	    size_t errlen);
int	drv_request_address(struct drv *d, const char *pool_id,
	    const struct prefix *want, bool gateway, struct prefix *ret,
	    char *err, size_t errlen);
int	drv_release_address(struct drv *d, const char *pool_id,
	    const struct prefix *addr, char *err, size_t errlen);

size_t	drv_network_count(const struct drv *d);
/* Borrowed; NULL if unknown. */
const struct net_cfg *drv_network_get(const struct drv *d, const char *id);
const struct ipam *drv_ipam(const struct drv *d);

#endif
