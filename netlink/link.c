/*
 * Real netlink backend: bridges, addresses and link sysctls through
 * libnl-route-3 on one NETLINK_ROUTE socket.  libnl types and -NLE_* codes
 * stay in this file; callers see -errno and a message in err.
 */
#include "netlink/common.h"
#include "netlink/netlink.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <net/if.h>

#include <netlink/addr.h>
#include <netlink/cache.h>
#include <netlink/errno.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/bridge.h>
#include <netlink/route/route.h>
#include <netlink/socket.h>

struct lnk_netlink {
	struct lnk	lnk;		/* first: the ops table */
	struct nl_sock	*sk;
	char		proc_root[PATH_MAX];
};

static const struct lnk_ops netlink_ops;


/*
 * The inverse of libnl's nl_syserr2nlerr().  Where libnl folds several
 * errno values into one code, the most likely one is returned.
 */
static const struct {
	int	nle;
	int	errnum;
} nle_map[] = {
	{ NLE_FAILURE,		EIO },
	{ NLE_INTR,		EINTR },
	{ NLE_BAD_SOCK,		EBADF },
	{ NLE_AGAIN,		EAGAIN },
	{ NLE_NOMEM,		ENOMEM },
	{ NLE_EXIST,		EEXIST },
	{ NLE_INVAL,		EINVAL },
	{ NLE_RANGE,		ERANGE },
	{ NLE_MSGSIZE,		EMSGSIZE },
	{ NLE_OPNOTSUPP,	EOPNOTSUPP },
	{ NLE_AF_NOSUPPORT,	EAFNOSUPPORT },
	{ NLE_OBJ_NOTFOUND,	ENOENT },
	{ NLE_NOATTR,		EINVAL },
	{ NLE_MISSING_ATTR,	EINVAL },
	{ NLE_AF_MISMATCH,	EAFNOSUPPORT },
	{ NLE_SEQ_MISMATCH,	EPROTO },
	{ NLE_MSG_OVERFLOW,	EOVERFLOW },
	{ NLE_MSG_TRUNC,	EMSGSIZE },
	{ NLE_NOADDR,		EADDRNOTAVAIL },
	{ NLE_SRCRT_NOSUPPORT,	EOPNOTSUPP },
	{ NLE_MSG_TOOSHORT,	EPROTO },
	{ NLE_MSGTYPE_NOSUPPORT, EPROTO },
	{ NLE_OBJ_MISMATCH,	EINVAL },
	{ NLE_NOCACHE,		ENOENT },
	{ NLE_BUSY,		EBUSY },
	{ NLE_PROTO_MISMATCH,	EPROTONOSUPPORT },
	{ NLE_NOACCESS,		EACCES },
	{ NLE_PERM,		EPERM },
	{ NLE_PKTLOC_FILE,	ENOENT },
	{ NLE_PARSE_ERR,	EBADMSG },
	{ NLE_NODEV,		ENODEV },
	{ NLE_IMMUTABLE,	EPERM },
	{ NLE_DUMP_INTR,	EAGAIN },
	{ NLE_ATTRSIZE,		EINVAL },
};

/* -NLE_* (or NLE_*) to -errno. */
static int
nl2errno(int nlerr)
{
	int e = nlerr < 0 ? -nlerr : nlerr;

	for (size_t i = 0; i < sizeof(nle_map) / sizeof(nle_map[0]); i++)
		if (nle_map[i].nle == e)
			return -nle_map[i].errnum;
	return -EIO;
}



static const char *
fmt_prefix(const struct lnk_prefix *p, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];
	int n;

	if (inet_ntop(p->family, p->addr, a, sizeof(a)) == NULL)
		(void) snprintf(a, sizeof(a), "?");
	n = snprintf(buf, len, "%s/%u", a, p->plen);
	if (n < 0 || (size_t)n >= len)
		(void) snprintf(buf, len, "?");
	return buf;
}

/* 0 with *ret_link (NULL when no link has that name), or -errno. */
static int
get_link(struct lnk_netlink *nl, const char *name, struct rtnl_link **ret_link)
{
	struct rtnl_link *link = NULL;
	int r;

	r = rtnl_link_get_kernel(nl->sk, 0, name, &link);
	if (r == -NLE_NODEV || r == -NLE_OBJ_NOTFOUND) {
		*ret_link = NULL;
		return 0;
	}
	if (r < 0)
		return nl2errno(r);
	*ret_link = link;
	return 0;
}

static bool
link_is_bridge(struct rtnl_link *link)
{
	const char *type = rtnl_link_get_type(link);

	return type != NULL && strcmp(type, "bridge") == 0;
}

/*
 * Writes val to <proc_root>/sys/net/ipv6/conf/<ifname>/<key>.  A missing
 * file is 0 when optional (IPv6 off on the host).
 */
static int
write_sysctl(struct lnk_netlink *nl, const char *ifname, const char *key,
    const char *val, bool optional, char *err, size_t errlen)
{
	char path[PATH_MAX];
	size_t len = strlen(val);
	ssize_t w;
	int fd = -1, n, r;

	n = snprintf(path, sizeof(path), "%s/sys/net/ipv6/conf/%s/%s",
	    nl->proc_root, ifname, key);
	if (n < 0 || (size_t)n >= sizeof(path)) {
		lnk_seterr(err, errlen, "Failed to set net.ipv6.conf.%s.%s: path "
		    "under '%s' is too long", ifname, key, nl->proc_root);
		r = -ENAMETOOLONG;
		goto out;
	}
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		if (r == -ENOENT && optional) {
			r = 0;
			goto out;
		}
		lnk_seterr(err, errlen, "Failed to set net.ipv6.conf.%s.%s=%s "
		    "(%s): %s%s", ifname, key, val, path, strerror(-r),
		    r == -ENOENT ? " (is IPv6 disabled on the host?)" : "");
		goto out;
	}
	do
		w = write(fd, val, len);
	while (w < 0 && errno == EINTR);
	if (w < 0 || (size_t)w != len) {
		r = w < 0 ? -errno : -EIO;
		lnk_seterr(err, errlen, "Failed to set net.ipv6.conf.%s.%s=%s "
		    "(%s): %s", ifname, key, val, path, strerror(-r));
		goto out;
	}
	r = 0;
out:
	if (fd >= 0)
		(void) close(fd);
	return r;
}

static int
apply_sysctls(struct lnk_netlink *nl, const struct lnk_bridge_cfg *cfg,
    char *err, size_t errlen)
{
	int r;

	/* The bridge is a router's interface: never autoconfigure from
	 * router advertisements heard on it. */
	r = write_sysctl(nl, cfg->name, "accept_ra", "0", true, err, errlen);
	if (r < 0)
		return r;
	if (cfg->ipv6) {
		r = write_sysctl(nl, cfg->name, "disable_ipv6", "0", false,
		    err, errlen);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Adds p to ifindex; -EEXIST (without a message) if it is already there. */
static int
add_addr(struct lnk_netlink *nl, int ifindex, const char *ifname,
    const struct lnk_prefix *p, char *err, size_t errlen)
{
	struct rtnl_addr *addr = NULL;
	struct nl_addr *local = NULL;
	char buf[INET6_ADDRSTRLEN + 8];
	int r;

	addr = rtnl_addr_alloc();
	local = nl_addr_build(p->family, p->addr,
	    p->family == AF_INET ? 4 : 16);
	if (addr == NULL || local == NULL) {
		r = -NLE_NOMEM;		/* r holds -NLE_* until out */
		goto out;
	}
	nl_addr_set_prefixlen(local, (int)p->plen);
	rtnl_addr_set_ifindex(addr, ifindex);
	rtnl_addr_set_family(addr, p->family);
	if ((r = rtnl_addr_set_local(addr, local)) < 0)
		goto out;
	rtnl_addr_set_prefixlen(addr, (int)p->plen);
	if (p->family == AF_INET6)
		rtnl_addr_set_flags(addr, IFA_F_NODAD);
	r = rtnl_addr_add(nl->sk, addr, NLM_F_EXCL);
out:
	if (r < 0) {
		r = nl2errno(r);
		if (r != -EEXIST)
			lnk_seterr(err, errlen, "Failed to add address %s to "
			    "bridge '%s': %s%s",
			    fmt_prefix(p, buf, sizeof(buf)), ifname,
			    strerror(-r),
			    r == -EACCES && p->family == AF_INET6 ?
			    " (IPv6 is disabled on the interface; enable "
			    "IPv6 on the network)" : "");
	}
	if (local != NULL)
		nl_addr_put(local);
	if (addr != NULL)
		rtnl_addr_put(addr);
	return r < 0 ? r : 0;
}

/* Sets the link up and, when mtu is nonzero, its MTU. */
static int
change_link(struct lnk_netlink *nl, struct rtnl_link *orig, unsigned int mtu,
    char *err, size_t errlen)
{
	struct rtnl_link *change;
	const char *name = rtnl_link_get_name(orig);
	int r;

	if ((change = rtnl_link_alloc()) == NULL) {
		lnk_seterr(err, errlen, "Failed to configure bridge '%s': %s",
		    name, strerror(ENOMEM));
		return -ENOMEM;
	}
	rtnl_link_set_flags(change, IFF_UP);
	if (mtu != 0)
		rtnl_link_set_mtu(change, mtu);
	r = rtnl_link_change(nl->sk, orig, change, 0);
	if (r < 0) {
		r = nl2errno(r);
		if (mtu != 0)
			lnk_seterr(err, errlen, "Failed to set MTU %u on bridge "
			    "'%s' and bring it up: %s", mtu, name,
			    strerror(-r));
		else
			lnk_seterr(err, errlen, "Failed to bring bridge '%s' up: "
			    "%s", name, strerror(-r));
	}
	rtnl_link_put(change);
	return r < 0 ? r : 0;
}

static int
delete_ifindex(struct lnk_netlink *nl, int ifindex)
{
	struct rtnl_link *link;
	int r;

	if ((link = rtnl_link_alloc()) == NULL)
		return -ENOMEM;
	rtnl_link_set_ifindex(link, ifindex);
	r = rtnl_link_delete(nl->sk, link);
	rtnl_link_put(link);
	if (r == -NLE_NODEV || r == -NLE_OBJ_NOTFOUND)
		return 0;
	return r < 0 ? nl2errno(r) : 0;
}

static bool
mac_is_zero(const unsigned char mac[6])
{
	for (int i = 0; i < 6; i++)
		if (mac[i] != 0)
			return false;
	return true;
}

static int
do_create(struct lnk_netlink *nl, const struct lnk_bridge_cfg *cfg,
    char *err, size_t errlen)
{
	struct rtnl_link *link = NULL, *got = NULL;
	struct nl_addr *mac = NULL;
	int ifindex = 0, r;

	if ((r = get_link(nl, cfg->name, &got)) < 0) {
		lnk_seterr(err, errlen, "Failed to create bridge '%s': looking up "
		    "existing interfaces: %s", cfg->name, strerror(-r));
		goto out;
	}
	if (got != NULL) {
		lnk_seterr(err, errlen, "Failed to create bridge '%s': a network "
		    "interface with that name already exists on the host",
		    cfg->name);
		r = -EEXIST;
		goto out;
	}

	if ((link = rtnl_link_bridge_alloc()) == NULL) {
		r = -ENOMEM;
		lnk_seterr(err, errlen, "Failed to create bridge '%s': %s",
		    cfg->name, strerror(-r));
		goto out;
	}
	rtnl_link_set_name(link, cfg->name);
	if (!mac_is_zero(cfg->mac)) {
		if ((mac = nl_addr_build(AF_LLC, cfg->mac, 6)) == NULL) {
			r = -ENOMEM;
			lnk_seterr(err, errlen, "Failed to create bridge '%s': %s",
			    cfg->name, strerror(-r));
			goto out;
		}
		rtnl_link_set_addr(link, mac);
	}
	if (cfg->mtu != 0)
		rtnl_link_set_mtu(link, cfg->mtu);
	r = rtnl_link_add(nl->sk, link, NLM_F_CREATE | NLM_F_EXCL);
	if (r < 0) {
		r = nl2errno(r);
		if (r == -EEXIST)
			lnk_seterr(err, errlen, "Failed to create bridge '%s': a "
			    "network interface with that name already exists "
			    "on the host", cfg->name);
		else if (cfg->mtu != 0)
			lnk_seterr(err, errlen, "Failed to create bridge '%s' with "
			    "MTU %u: %s", cfg->name, cfg->mtu, strerror(-r));
		else
			lnk_seterr(err, errlen, "Failed to create bridge '%s': %s",
			    cfg->name, strerror(-r));
		goto out;
	}

	/* From here on a failure removes the bridge again. */
	if ((r = get_link(nl, cfg->name, &got)) < 0 || got == NULL) {
		r = r < 0 ? r : -ENOENT;
		lnk_seterr(err, errlen, "Failed to create bridge '%s': it vanished "
		    "right after creation: %s", cfg->name, strerror(-r));
		goto out;	/* no ifindex: nothing we can safely delete */
	}
	ifindex = rtnl_link_get_ifindex(got);
	if ((r = apply_sysctls(nl, cfg, err, errlen)) < 0)
		goto out;
	for (size_t i = 0; i < cfg->naddrs; i++) {
		r = add_addr(nl, ifindex, cfg->name, &cfg->addrs[i], err,
		    errlen);
		if (r == -EEXIST)	/* the same address twice in cfg */
			r = 0;
		if (r < 0)
			goto out;
	}
	r = change_link(nl, got, 0, err, errlen);
out:
	if (r < 0 && ifindex > 0) {
		int dr = delete_ifindex(nl, ifindex);

		if (dr < 0 && err != NULL) {
			size_t used = strnlen(err, errlen);

			if (used + 1 < errlen)
				lnk_seterr(err + used, errlen - used, "; removing "
				    "the half-configured bridge failed too: %s",
				    strerror(-dr));
		}
	}
	if (got != NULL)
		rtnl_link_put(got);
	if (mac != NULL)
		nl_addr_put(mac);
	if (link != NULL)
		rtnl_link_put(link);
	return r;
}

static int
nl_bridge_create(struct lnk *l, const struct lnk_bridge_cfg *cfg, char *err,
    size_t errlen)
{
	struct lnk_netlink *nl = (struct lnk_netlink *)l;
	int r;

	if ((r = lnk_check_cfg(cfg, "create", err, errlen)) < 0)
		return r;
	r = do_create(nl, cfg, err, errlen);
	return r;
}

static int
do_ensure(struct lnk_netlink *nl, const struct lnk_bridge_cfg *cfg,
    char *err, size_t errlen)
{
	struct rtnl_link *got = NULL;
	unsigned int mtu = 0;
	int ifindex, r;

	if ((r = get_link(nl, cfg->name, &got)) < 0) {
		lnk_seterr(err, errlen, "Failed to look up bridge '%s': %s",
		    cfg->name, strerror(-r));
		goto out;
	}
	if (got == NULL) {
		lnk_seterr(err, errlen, "Bridge '%s' does not exist on the host",
		    cfg->name);
		r = -ENOENT;
		goto out;
	}
	if (!link_is_bridge(got)) {
		const char *type = rtnl_link_get_type(got);

		lnk_seterr(err, errlen, "Network interface '%s' exists on the host "
		    "but is %s%s%s, not a bridge; remove or rename it",
		    cfg->name, type != NULL ? "of kind '" : "a physical or "
		    "unknown kind of interface", type != NULL ? type : "",
		    type != NULL ? "'" : "");
		r = -ENOTTY;
		goto out;
	}
	ifindex = rtnl_link_get_ifindex(got);
	if (cfg->mtu != 0 && rtnl_link_get_mtu(got) != cfg->mtu)
		mtu = cfg->mtu;
	if ((r = apply_sysctls(nl, cfg, err, errlen)) < 0)
		goto out;
	for (size_t i = 0; i < cfg->naddrs; i++) {
		r = add_addr(nl, ifindex, cfg->name, &cfg->addrs[i], err,
		    errlen);
		if (r == -EEXIST)
			r = 0;
		if (r < 0)
			goto out;
	}
	r = change_link(nl, got, mtu, err, errlen);
out:
	if (got != NULL)
		rtnl_link_put(got);
	return r;
}

static int
nl_bridge_ensure(struct lnk *l, const struct lnk_bridge_cfg *cfg, char *err,
    size_t errlen)
{
	struct lnk_netlink *nl = (struct lnk_netlink *)l;
	int r;

	if ((r = lnk_check_cfg(cfg, "configure", err, errlen)) < 0)
		return r;
	r = do_ensure(nl, cfg, err, errlen);
	return r;
}

static int
do_delete(struct lnk_netlink *nl, const char *name, char *err,
    size_t errlen)
{
	struct rtnl_link *got = NULL;
	int r;

	if ((r = get_link(nl, name, &got)) < 0) {
		lnk_seterr(err, errlen, "Failed to look up bridge '%s': %s", name,
		    strerror(-r));
		goto out;
	}
	if (got == NULL) {
		r = 0;
		goto out;
	}
	if (!link_is_bridge(got)) {
		lnk_seterr(err, errlen, "Not deleting network interface '%s': it is "
		    "not a bridge", name);
		r = -ENOTTY;
		goto out;
	}
	if ((r = delete_ifindex(nl, rtnl_link_get_ifindex(got))) < 0)
		lnk_seterr(err, errlen, "Failed to delete bridge '%s': %s", name,
		    strerror(-r));
out:
	if (got != NULL)
		rtnl_link_put(got);
	return r;
}

static int
nl_bridge_delete(struct lnk *l, const char *name, char *err, size_t errlen)
{
	struct lnk_netlink *nl = (struct lnk_netlink *)l;
	int r;

	if (!lnk_valid_ifname(name)) {
		lnk_seterr(err, errlen, "Failed to delete bridge: '%s' is not a "
		    "valid interface name", name != NULL ? name : "(null)");
		return -EINVAL;
	}
	r = do_delete(nl, name, err, errlen);
	return r;
}

static int
nl_link_exists(struct lnk *l, const char *name)
{
	struct lnk_netlink *nl = (struct lnk_netlink *)l;
	struct rtnl_link *got = NULL;
	int r;

	if (!lnk_valid_ifname(name))
		return -EINVAL;
	r = get_link(nl, name, &got);
	if (r < 0)
		return r;
	if (got == NULL)
		return 0;
	rtnl_link_put(got);
	return 1;
}

struct pfx_vec {
	struct lnk_prefix *v;
	size_t		n;
	size_t		cap;
	int		error;
};

static void
pfx_push(struct pfx_vec *pv, struct nl_addr *a, unsigned int plen)
{
	struct lnk_prefix *p;
	int family;
	unsigned int alen;

	if (a == NULL || pv->error != 0)
		return;
	family = nl_addr_get_family(a);
	alen = nl_addr_get_len(a);
	if (!((family == AF_INET && alen == 4 && plen <= 32) ||
	    (family == AF_INET6 && alen == 16 && plen <= 128)))
		return;
	if (pv->n == pv->cap) {
		size_t ncap = pv->cap == 0 ? 32 : pv->cap * 2;
		struct lnk_prefix *nv;

		nv = reallocarray(pv->v, ncap, sizeof(*nv));
		if (nv == NULL) {
			pv->error = -ENOMEM;
			return;
		}
		pv->v = nv;
		pv->cap = ncap;
	}
	p = &pv->v[pv->n++];
	memset(p, 0, sizeof(*p));
	p->family = family;
	memcpy(p->addr, nl_addr_get_binary_addr(a), alen);
	p->plen = plen;
}

static bool
is_v6_linklocal(struct nl_addr *a)
{
	const unsigned char *b = nl_addr_get_binary_addr(a);

	return nl_addr_get_family(a) == AF_INET6 && nl_addr_get_len(a) == 16 &&
	    b[0] == 0xfe && (b[1] & 0xc0) == 0x80;
}

static void
addr_cb(struct nl_object *obj, void *arg)
{
	struct rtnl_addr *addr = (struct rtnl_addr *)obj;
	struct pfx_vec *pv = arg;
	struct nl_addr *local = rtnl_addr_get_local(addr);
	struct nl_addr *peer = rtnl_addr_get_peer(addr);
	int plen = rtnl_addr_get_prefixlen(addr);

	if (plen < 0 || local == NULL)
		return;
	/* fe80::/64 is on every IPv6 link; it never clashes with a pool. */
	if (is_v6_linklocal(local))
		return;
	pfx_push(pv, local, (unsigned int)plen);
	/* Point-to-point: the prefix length belongs to the peer. */
	if (peer != NULL && nl_addr_cmp(peer, local) != 0)
		pfx_push(pv, peer, (unsigned int)plen);
}

static void
route_cb(struct nl_object *obj, void *arg)
{
	struct rtnl_route *route = (struct rtnl_route *)obj;
	struct pfx_vec *pv = arg;
	struct nl_addr *dst = rtnl_route_get_dst(route);
	const unsigned char *b;
	unsigned int plen;
	uint8_t type = rtnl_route_get_type(route);

	if (dst == NULL || rtnl_route_get_table(route) == RT_TABLE_LOCAL)
		return;
	if (type == RTN_LOCAL || type == RTN_BROADCAST ||
	    type == RTN_ANYCAST || type == RTN_MULTICAST)
		return;
	plen = nl_addr_get_prefixlen(dst);
	if (plen == 0)			/* default route */
		return;
	if (nl_addr_get_family(dst) == AF_INET6 &&
	    nl_addr_get_len(dst) == 16) {
		b = nl_addr_get_binary_addr(dst);
		if (b[0] == 0xff && plen >= 8)		/* ff00::/8 */
			return;
		if (is_v6_linklocal(dst) && plen >= 10)	/* fe80::/64 */
			return;
	}
	pfx_push(pv, dst, plen);
}

static int
do_prefixes(struct lnk_netlink *nl, struct pfx_vec *pv)
{
	struct nl_cache *addrs = NULL, *routes = NULL;
	int r;

	if ((r = rtnl_addr_alloc_cache(nl->sk, &addrs)) < 0) {
		r = nl2errno(r);
		goto out;
	}
	if ((r = rtnl_route_alloc_cache(nl->sk, AF_UNSPEC, 0, &routes)) < 0) {
		r = nl2errno(r);
		goto out;
	}
	nl_cache_foreach(addrs, addr_cb, pv);
	nl_cache_foreach(routes, route_cb, pv);
	r = pv->error;
out:
	if (routes != NULL)
		nl_cache_free(routes);
	if (addrs != NULL)
		nl_cache_free(addrs);
	return r;
}

static int
nl_host_prefixes(struct lnk *l, struct lnk_prefix **ret, size_t *ret_n)
{
	struct lnk_netlink *nl = (struct lnk_netlink *)l;
	struct pfx_vec pv = { 0 };
	int r;

	r = do_prefixes(nl, &pv);
	if (r < 0) {
		free(pv.v);
		return r;
	}
	*ret = pv.v;
	*ret_n = pv.n;
	return 0;
}

static void
nl_free(struct lnk *l)
{
	struct lnk_netlink *nl = (struct lnk_netlink *)l;

	if (nl == NULL)
		return;
	if (nl->sk != NULL)
		nl_socket_free(nl->sk);	/* also closes it */
	free(nl);
}

static const struct lnk_ops netlink_ops = {
	.bridge_create	= nl_bridge_create,
	.bridge_ensure	= nl_bridge_ensure,
	.bridge_delete	= nl_bridge_delete,
	.link_exists	= nl_link_exists,
	.host_prefixes	= nl_host_prefixes,
	.free		= nl_free,
};

struct lnk *
lnk_netlink_new(const char *proc_root, char *err, size_t errlen)
{
	struct lnk_netlink *nl = NULL;
	size_t n;
	int r;

	if (proc_root == NULL || proc_root[0] == '\0')
		proc_root = "/proc";
	n = strlen(proc_root);
	while (n > 1 && proc_root[n - 1] == '/')
		n--;
	if (n >= sizeof(nl->proc_root)) {
		lnk_seterr(err, errlen, "proc root '%s' is too long", proc_root);
		return NULL;
	}
	if ((nl = calloc(1, sizeof(*nl))) == NULL) {
		lnk_seterr(err, errlen, "Failed to set up netlink: %s",
		    strerror(ENOMEM));
		return NULL;
	}
	nl->lnk.ops = &netlink_ops;
	memcpy(nl->proc_root, proc_root, n);
	nl->proc_root[n] = '\0';
	if ((nl->sk = nl_socket_alloc()) == NULL) {
		lnk_seterr(err, errlen, "Failed to allocate a netlink socket: %s",
		    strerror(ENOMEM));
		r = -ENOMEM;
		goto out;
	}
	if ((r = nl_connect(nl->sk, NETLINK_ROUTE)) < 0) {
		r = nl2errno(r);
		lnk_seterr(err, errlen, "Failed to open a NETLINK_ROUTE socket: %s",
		    strerror(-r));
		goto out;
	}
	r = 0;
out:
	if (r < 0) {
		nl_free(&nl->lnk);
		return NULL;
	}
	return &nl->lnk;
}
