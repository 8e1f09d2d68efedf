/*
 * netlink/: links, addresses and link sysctls on the host, behind an ops
 * table so the driver can be tested without root against the in-memory
 * fake.  No libnl type leaves this folder.  Every function returns 0 (or a
 * positive count) on success and -errno on failure, with a message a user
 * can act on written to err (errlen bytes, may be NULL).
 */
#ifndef CBRIDGE_NETLINK_H
#define CBRIDGE_NETLINK_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/prefix.h"

/* The build uses -iquote for the project root, so "netlink/netlink.h" is
 * this file and <netlink/netlink.h> stays libnl's. */

#define LNK_IFNAMSIZ	16	/* IFNAMSIZ: 15 characters plus NUL */
#define LNK_MAX_ADDRS	4

struct lnk_bridge_cfg {
	char		name[LNK_IFNAMSIZ];
	unsigned int	mtu;		/* 0: leave the kernel default */
	unsigned char	mac[6];		/* set on creation, so ports never change
					 * it; all zeros: the kernel picks one */
	bool		ipv6;		/* disable_ipv6=0 on the bridge */
	bool		route_localnet;	/* net.ipv4.conf.<name>.route_localnet=1 */
	size_t		naddrs;
	struct prefix addrs[LNK_MAX_ADDRS];	/* gateway/len; v6 added NODAD */
};

/* One endpoint's veth pair: host stays on the bridge; dockerd moves peer
 * into the sandbox and renames it. */
struct lnk_veth_cfg {
	char		host[LNK_IFNAMSIZ];
	char		peer[LNK_IFNAMSIZ];
	char		bridge[LNK_IFNAMSIZ];	/* must exist */
	unsigned int	mtu;		/* 0: the bridge's MTU */
	unsigned char	peer_mac[6];	/* set on peer; all zero: kernel's */
	bool		hairpin;	/* bridge port hairpin mode */
};

struct lnk;

struct lnk_ops {
	/* Creates bridge cfg->name (MAC, MTU, accept_ra=0, disable_ipv6 per
	 * cfg->ipv6, addresses) and sets it up.  -EEXIST when any link of
	 * that name exists.  On failure nothing it made is left behind. */
	int	(*bridge_create)(struct lnk *l, const struct lnk_bridge_cfg *cfg,
		    char *err, size_t errlen);
	/* Brings an existing bridge in line with cfg (adds missing addresses,
	 * MTU, up), used when cbridge restarts.  -ENOENT if it is missing,
	 * -ENOTTY if cfg->name exists but is not a bridge. */
	int	(*bridge_ensure)(struct lnk *l, const struct lnk_bridge_cfg *cfg,
		    char *err, size_t errlen);
	/* Deletes bridge name; 0 if it was already gone.  -ENOTTY if name is
	 * a link of another kind (left alone). */
	int	(*bridge_delete)(struct lnk *l, const char *name, char *err,
		    size_t errlen);
	/* 1 if a link of that name exists, 0 if not, -errno on failure. */
	int	(*link_exists)(struct lnk *l, const char *name);
	/* Prefixes in use on the host: every address (with its prefix
	 * length, host bits kept: the caller masks) and every route in every
	 * table, both families.  Left out: default routes, IPv6 link-local
	 * addresses and routes (fe80::/10), ff00::/8, and local, broadcast,
	 * anycast and multicast routes (the local table).  Entries may
	 * repeat.  *ret is malloc'ed (possibly NULL when *ret_n is 0), owned
	 * by the caller; *ret_n its length. */
	int	(*host_prefixes)(struct lnk *l, struct prefix **ret,
		    size_t *ret_n);
	/* Creates the pair, sets MTU on both ends and the MAC on peer,
	 * enslaves host to the bridge with the port flags and sets host
	 * up (peer stays down for dockerd).  -EEXIST if either name exists,
	 * -ENOENT if the bridge is missing.  Nothing left behind on failure. */
	int	(*veth_create)(struct lnk *l, const struct lnk_veth_cfg *cfg,
		    char *err, size_t errlen);
	/* Deletes the pair by whichever end is still in this namespace
	 * (host, or peer when dockerd moved it back under that name); 0 when
	 * neither is (dockerd destroyed the sandbox with it). */
	int	(*veth_delete)(struct lnk *l, const char *host, const char *peer,
		    char *err, size_t errlen);
	/* The host-wide sysctls a bridge network needs, as dockerd sets
	 * them: net.ipv4.ip_forward, with ipv6 also IPv6 forwarding (all and
	 * default), and bridge-nf-call-iptables (and -ip6tables).
	 * *flipped4 / *flipped6 tell whether forwarding was off before, so
	 * the caller can close the FORWARD policy as dockerd does. */
	int	(*host_sysctls)(struct lnk *l, bool ipv6, bool *flipped4,
		    bool *flipped6, char *err, size_t errlen);
	/* In the network namespace of nsfd (a sandbox): brings lo up and
	 * adds the address p (full length, scope host) to it, or deletes
	 * it.  Adding an address already there and deleting one already
	 * gone are not errors.  For the DNS responder's listening
	 * address. */
	int	(*sandbox_addr)(struct lnk *l, int nsfd,
		    const struct prefix *p, bool add, char *err,
		    size_t errlen);
	void	(*free)(struct lnk *l);
};

/* Every backend embeds this as its first member. */
struct lnk {
	const struct lnk_ops *ops;
};

/* Real backend (libnl-route-3) in the caller's network namespace.
 * proc_root is where the host's /proc is mounted ("/proc", or "/host/proc"
 * inside a managed plugin whose own /proc/sys is read-only).  NULL on
 * failure, with err set. */
struct lnk *lnk_netlink_new(const char *proc_root, char *err, size_t errlen);

/* In-memory fake for unit tests: links live in a table. */
struct lnk *lnk_fake_new(void);
/* Makes the next call of op ("bridge_create", "bridge_ensure",
 * "bridge_delete", "link_exists", "host_prefixes", "veth_create",
 * "veth_delete") fail with -err. */
void	lnk_fake_fail_next(struct lnk *l, const char *op, int err);
/* Adds a non-bridge link or a host prefix the fake will report. */
void	lnk_fake_add_link(struct lnk *l, const char *name, bool is_bridge);
void	lnk_fake_add_prefix(struct lnk *l, const struct prefix *p);
/* Inspection: 1 and *ret filled if bridge name exists, else 0. */
int	lnk_fake_get_bridge(struct lnk *l, const char *name,
	    struct lnk_bridge_cfg *ret);
size_t	lnk_fake_bridge_count(struct lnk *l);
/* 1 and *ret filled if a veth pair with that host name exists, else 0. */
int	lnk_fake_get_veth(struct lnk *l, const char *host,
	    struct lnk_veth_cfg *ret);
size_t	lnk_fake_veth_count(struct lnk *l);
/* How many times host_sysctls ran; the next calls report forwarding as
 * flipped (a host where it was off) while set. */
unsigned int lnk_fake_sysctl_calls(struct lnk *l);
/* Sandbox addresses added less those deleted. */
int	lnk_fake_sandbox_addrs(struct lnk *l);
void	lnk_fake_set_forwarding_off(struct lnk *l, bool off);

static inline struct lnk *
lnk_free(struct lnk *l)
{
	if (l != NULL)
		l->ops->free(l);
	return NULL;
}

#endif
