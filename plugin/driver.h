/*
 * The driver core: decides what networks and pools exist, keeps them
 * persisted, and has netlink/ carry it out.  Takes validated plain structs
 * from api.c; never sees JSON.  Every call returns 0 or -errno and writes a
 * message a user can act on to err:
 *   -EINVAL bad request, -ENOENT unknown object, -EEXIST clash/overlap,
 *   -ENOSPC exhausted, -E2BIG a limit, other errnos from the host.
 *
 * What may wait (writing the state file, the firewall) runs on a worker
 * thread (loop/work.h) when the driver has a loop.  A call that changes
 * the state then returns -EINPROGRESS once its first half is done and
 * its outputs are filled; its result, 0 or the error that undid it,
 * reaches the drv_done_fn on the loop later.  Until then drv_busy() is
 * true and the caller must not start another change: operations run one
 * at a time, in order, as they would synchronously.  Without a loop
 * every call finishes before it returns and -EINPROGRESS never comes.
 */
#ifndef CBRIDGE_DRIVER_H
#define CBRIDGE_DRIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "firewall/firewall.h"
#include "netlink/netlink.h"
#include "plugin/ipam.h"
#include "plugin/options.h"
#include "lib/prefix.h"
#include "plugin/state.h"

#define DRV_MAX_NETWORKS	1024
#define DRV_MAX_ENDPOINTS	8192
#define DRV_MAX_IPDATA		4	/* per family, as accepted from JSON */
#define DRV_BRIDGE_PREFIX	"cb-"
#define DRV_VETH_HOST_PREFIX	"cbv"	/* + 12 hex of the endpoint ID */
#define DRV_VETH_PEER_PREFIX	"cbp"

struct drv;
struct loop;

struct drv_params {
	const char		*state_dir;	/* borrowed, must exist */
	struct lnk		*lnk;		/* borrowed: the loop's */
	/* Borrowed: the worker's own netlink handle (links are made and
	 * removed there); NULL: lnk, for a driver without a loop. */
	struct lnk		*worker_lnk;
	struct fw		*fw;		/* borrowed; NULL: no firewall.
						 * With a loop only the worker
						 * thread uses it. */
	/* Borrowed; NULL: no host ports (nothing can be published).  Its
	 * conntrack flushes run on the worker, reservations on the loop. */
	struct fw_hostports	*ports;
	struct loop		*loop;		/* borrowed; NULL: synchronous */
	const struct ipam_default_pool *pools;	/* NULL: built-in defaults */
	size_t			npools;
	/* The rule backend fw holds the rules with, and why it was chosen
	 * (fw_host_backend): shown by drv_status.  why is copied; NULL:
	 * not known. */
	enum fw_backend		fw_backend;
	const char		*fw_why;
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

struct drv_ep_req {
	char		net_id[NET_ID_LEN + 1];
	char		ep_id[NET_ID_LEN + 1];
	bool		has_addr4, has_addr6;
	struct prefix	addr4, addr6;		/* CIDR, as dockerd sends */
	bool		has_mac;
	unsigned char	mac[6];
};

/* What CreateEndpoint may fill in: only what arrived empty. */
struct drv_ep_reply {
	bool		mac_generated;
	unsigned char	mac[6];
};

/* One entry of com.docker.network.portmap, validated by the API layer. */
struct drv_port_req {
	int		proto;		/* IPPROTO_TCP, _UDP or _SCTP */
	bool		has_host_ip;	/* else any address */
	struct prefix	host_ip;	/* an address */
	unsigned short	cport;		/* 1..65535 */
	unsigned short	hport, hport_end;	/* a range; 0, 0: any port */
};

#define DRV_MAX_PORTS	1024	/* bindings per ProgramExternalConnectivity */

/* The Join reply. */
struct drv_join {
	char		src_name[OPT_IFNAMSIZ];
	char		dst_prefix[OPT_IFNAMSIZ];
	bool		has_gw4, has_gw6;
	struct prefix	gw4, gw6;		/* addresses, no length */
	bool		disable_gw_service;
};

/* Pure helpers, exported for tests. */
void	drv_veth_names(const char *ep_id, char host[OPT_IFNAMSIZ],
	    char peer[OPT_IFNAMSIZ]);
/* Docker's bridge driver MAC: 02:42 and the IPv4 address; without one, the
 * random bytes made unicast and locally administered. */
void	drv_mac_for(const struct prefix *addr4, const unsigned char rnd[6],
	    unsigned char ret[6]);
void	drv_build_join(const struct net_cfg *n, const struct ep_cfg *e,
	    struct drv_join *ret);

/* The result of a call that returned -EINPROGRESS: r and err as the call
 * would have returned them. */
typedef void	drv_done_fn(void *arg, int r, const char *err);
/* The saved state changed (joins, leaves, endpoints, networks). */
typedef void	drv_change_fn(void *arg);

/* The firewall's last sync, for status and logs.  Recorded on the loop
 * when a firewall job's result comes back from the worker: every change
 * and every periodic check that ran one. */
struct drv_fw_status {
	unsigned long	syncs, failures;	/* since the start */
	int64_t		last_at_usec;	/* when the last one came back:
					 * wall clock, microseconds since
					 * the epoch; 0: none yet */
	unsigned long long last_usec;	/* how long the last one took */
	char		last_err[256];	/* "" when it worked */
};

/* One network as `cbridge status` shows it.  Strings borrowed from the
 * driver until its next change. */
struct drv_net_status {
	const char	*id;
	const char	*bridge;
	bool		has_v4, has_v6;
	struct prefix	subnet4, subnet6;	/* when has_v4, has_v6 */
	size_t		endpoints;	/* created, joined or not */
	/* Published port bindings: one per protocol, host port and address
	 * family (a binding without a host address counts once per family
	 * the container has). */
	size_t		ports;
	bool		internal, icc, masquerade;
};

/* What the driver holds now, for the status route. */
struct drv_status {
	const char	*fw_backend;	/* "iptables", "nftables" ("auto"
					 * when not told); "none" without a
					 * firewall.  Static. */
	const char	*fw_why;	/* borrowed; "" when not known */
	struct drv_fw_status fw;	/* a copy */
	struct drv_net_status *nets;	/* malloc'ed, in creation order */
	size_t		nnets;
};

/* Loads the state in params->state_dir and brings the host in line with
 * it (bridges of persisted networks are re-created if missing). */
int	drv_new(const struct drv_params *params, struct drv **ret,
	    char *err, size_t errlen);
struct drv *drv_free(struct drv *d);
void	drv_set_done(struct drv *d, drv_done_fn *fn, void *arg);
void	drv_set_changed(struct drv *d, drv_change_fn *fn, void *arg);
/* An operation waits on the worker: start no other until it is done. */
bool	drv_busy(const struct drv *d);
/* Finishes everything handed to the worker, delivering each result, and
 * goes on synchronously: before the loop and its callers go away. */
void	drv_drain(struct drv *d);
const struct drv_fw_status *drv_fw_status(const struct drv *d);
/* Fills *ret from what d holds (no I/O, nothing waits); the caller
 * releases it with drv_status_done.  0 or -ENOMEM. */
int	drv_status(const struct drv *d, struct drv_status *ret);
void	drv_status_done(struct drv_status *s);

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

int	drv_create_endpoint(struct drv *d, const struct drv_ep_req *req,
	    struct drv_ep_reply *ret, char *err, size_t errlen);
int	drv_delete_endpoint(struct drv *d, const char *net_id,
	    const char *ep_id, char *err, size_t errlen);
int	drv_join(struct drv *d, const char *net_id, const char *ep_id,
	    const char *sandbox, struct drv_join *ret, char *err,
	    size_t errlen);
int	drv_leave(struct drv *d, const char *net_id, const char *ep_id,
	    char *err, size_t errlen);
/* ProgramExternalConnectivity: publishes ports[] (replacing what the
 * endpoint published before).  A binding without a host address becomes
 * one per address family the container has (host_binding_ipv4, when set,
 * stands in for IPv4's "any").  Host ports are reserved before any rule
 * is written; if one is taken, nothing is published and the error names
 * it.  In a family whose gateway mode is routed, as in Docker, the host
 * address and port are ignored: nothing is reserved and the binding is
 * kept as the container's port (host_port = cport, no host_ip).  Ports
 * on an --internal network are refused. */
int	drv_program_external(struct drv *d, const char *net_id,
	    const char *ep_id, const struct drv_port_req *ports, size_t n,
	    char *err, size_t errlen);
/* RevokeExternalConnectivity: unpublishes every port of the endpoint. */
int	drv_revoke_external(struct drv *d, const char *net_id,
	    const char *ep_id, char *err, size_t errlen);
/* Borrowed; NULL if unknown. */
const struct ep_cfg *drv_endpoint_get(const struct drv *d,
	    const char *net_id, const char *ep_id);
size_t	drv_endpoint_count(const struct drv *d);
/* The i-th endpoint in creation order (borrowed), NULL past the end. */
const struct ep_cfg *drv_endpoint_at(const struct drv *d, size_t i);
/* Changes whenever the state does (a saved change), so callers that
 * derive something from the endpoints know when to look again. */
unsigned long drv_generation(const struct drv *d);

/* Called about once a second from the event loop: puts back firewall
 * rules that someone else removed (on the worker, when it is idle).
 * Failures are logged, once per distinct message. */
void	drv_tick(struct drv *d);

size_t	drv_network_count(const struct drv *d);
/* Borrowed; NULL if unknown. */
const struct net_cfg *drv_network_get(const struct drv *d, const char *id);
const struct ipam *drv_ipam(const struct drv *d);
/* For tests: the state as a save now would write it (*ret malloc'ed,
 * caller owns); with fresh, every cached text is dropped first, so
 * nothing is reused. */
int	drv_encode_state(struct drv *d, bool fresh, char **ret,
	    size_t *ret_len, char *err, size_t errlen);

#endif
