/*
 * Real netlink backend: bridges, veth pairs, addresses and link sysctls
 * through libnl-route-3 on one NETLINK_ROUTE socket.  libnl types and
 * -NLE_* codes stay in this file; callers see -errno and a message in err.
 */
#include "lib/netns.h"
#include "netlink/common.h"
#include "netlink/netlink.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/socket.h>

#include <netlink/addr.h>
#include <netlink/attr.h>
#include <netlink/cache.h>
#include <netlink/errno.h>
#include <netlink/msg.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/bridge.h>
#include <netlink/route/link/veth.h>
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
 * Writes val to <proc_root>/sys/<rel>; name is the dotted sysctl name for
 * messages.  A missing file is 0 when optional (IPv6 off on the host).
 */
static int
write_proc(struct lnk_netlink *nl, const char *rel, const char *name,
    const char *val, bool optional, const char *hint, char *err,
    size_t errlen)
{
	char path[PATH_MAX];
	size_t len = strlen(val);
	ssize_t w;
	int fd = -1, n, r;

	n = snprintf(path, sizeof(path), "%s/sys/%s", nl->proc_root, rel);
	if (n < 0 || (size_t)n >= sizeof(path)) {
		lnk_seterr(err, errlen, "Failed to set %s: path under '%s' is "
		    "too long", name, nl->proc_root);
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
		lnk_seterr(err, errlen, "Failed to set %s=%s (%s): %s%s", name,
		    val, path, strerror(-r), r == -ENOENT ? hint : "");
		goto out;
	}
	do
		w = write(fd, val, len);
	while (w < 0 && errno == EINTR);
	if (w < 0 || (size_t)w != len) {
		r = w < 0 ? -errno : -EIO;
		lnk_seterr(err, errlen, "Failed to set %s=%s (%s): %s", name,
		    val, path, strerror(-r));
		goto out;
	}
	r = 0;
out:
	if (fd >= 0)
		(void) close(fd);
	return r;
}

/* 1 if <proc_root>/sys/<rel> reads "1", 0 if something else, -errno. */
static int
proc_is_one(struct lnk_netlink *nl, const char *rel)
{
	char path[PATH_MAX], buf[8] = "";
	ssize_t n;
	int fd;

	if (snprintf(path, sizeof(path), "%s/sys/%s", nl->proc_root, rel) >=
	    (int)sizeof(path))
		return -ENAMETOOLONG;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	(void) close(fd);
	if (n < 0)
		return -EIO;
	return buf[0] == '1' && (buf[1] == '\n' || buf[1] == '\0');
}

static int
write_sysctl(struct lnk_netlink *nl, const char *ifname, const char *key,
    const char *val, bool optional, char *err, size_t errlen)
{
	char rel[128], name[128];

	(void) snprintf(rel, sizeof(rel), "net/ipv6/conf/%s/%s", ifname, key);
	(void) snprintf(name, sizeof(name), "net.ipv6.conf.%s.%s", ifname, key);
	return write_proc(nl, rel, name, val, optional,
	    " (is IPv6 disabled on the host?)", err, errlen);
}

static int
apply_sysctls(struct lnk_netlink *nl, const struct lnk_bridge_cfg *cfg,
    char *err, size_t errlen)
{
	char rel[128], name[128];
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
	if (cfg->route_localnet) {
		/* The host reaches published ports on 127.0.0.1 through
		 * DNAT into the bridge. */
		(void) snprintf(rel, sizeof(rel), "net/ipv4/conf/%s/"
		    "route_localnet", cfg->name);
		(void) snprintf(name, sizeof(name), "net.ipv4.conf.%s."
		    "route_localnet", cfg->name);
		r = write_proc(nl, rel, name, "1", false, "", err, errlen);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Turns a forwarding sysctl on; *flipped when it was off. */
static int
enable(struct lnk_netlink *nl, const char *rel, const char *name,
    bool *flipped, const char *hint, char *err, size_t errlen)
{
	int r = proc_is_one(nl, rel);

	*flipped = false;
	if (r == 1)
		return 0;
	if ((r = write_proc(nl, rel, name, "1", false, hint, err, errlen)) < 0)
		return r;
	*flipped = true;
	return 0;
}

static int
lnk_nl_host_sysctls(struct lnk *l, bool ipv6, bool *flipped4, bool *flipped6,
    char *err, size_t errlen)
{
	struct lnk_netlink *nl = (struct lnk_netlink *)l;
	static const char brnf[] = " (the br_netfilter module is not loaded: "
	    "run 'modprobe br_netfilter' on the host)";
	bool ignore;
	int r;

	*flipped4 = *flipped6 = false;
	if ((r = enable(nl, "net/ipv4/ip_forward", "net.ipv4.ip_forward",
	    flipped4, "", err, errlen)) < 0)
		return r;
	if (ipv6 && ((r = enable(nl, "net/ipv6/conf/all/forwarding",
	    "net.ipv6.conf.all.forwarding", flipped6,
	    " (is IPv6 disabled on the host?)", err, errlen)) < 0 ||
	    (r = enable(nl, "net/ipv6/conf/default/forwarding",
	    "net.ipv6.conf.default.forwarding", &ignore, "", err,
	    errlen)) < 0))
		return r;
	/* Traffic between two ports of one bridge must cross iptables for
	 * ICC off and for hairpin NAT. */
	if ((r = enable(nl, "net/bridge/bridge-nf-call-iptables",
	    "net.bridge.bridge-nf-call-iptables", &ignore, brnf, err,
	    errlen)) < 0)
		return r;
	if (ipv6 && (r = enable(nl, "net/bridge/bridge-nf-call-ip6tables",
	    "net.bridge.bridge-nf-call-ip6tables", &ignore, brnf, err,
	    errlen)) < 0)
		return r;
	return 0;
}

/* Adds p to ifindex; -EEXIST (without a message) if it is already there. */
static int
add_addr(struct lnk_netlink *nl, int ifindex, const char *ifname,
    const struct prefix *p, char *err, size_t errlen)
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
			    prefix_format(p, buf, sizeof(buf)), ifname,
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

/*
 * Sets a new bridge's MTU with a change request rather than IFLA_MTU at
 * creation: only a change marks the MTU as chosen by the user.  Otherwise
 * the kernel keeps it at the smallest MTU of the bridge's ports, and back at
 * 1500 when the last port leaves, so that the next veth_create with mtu 0
 * would copy 1500 instead of the network's MTU.  (1500 itself is the
 * default: setting it changes nothing, and needs no pinning either.)
 */
static int
set_bridge_mtu(struct lnk_netlink *nl, struct rtnl_link *orig,
    unsigned int mtu, char *err, size_t errlen)
{
	struct rtnl_link *change;
	const char *name = rtnl_link_get_name(orig);
	int r;

	if ((change = rtnl_link_alloc()) == NULL) {
		lnk_seterr(err, errlen, "Failed to set MTU %u on bridge '%s': %s",
		    mtu, name, strerror(ENOMEM));
		return -ENOMEM;
	}
	rtnl_link_set_mtu(change, mtu);
	r = rtnl_link_change(nl->sk, orig, change, 0);
	if (r < 0) {
		r = nl2errno(r);
		lnk_seterr(err, errlen, "Failed to set MTU %u on bridge '%s': %s",
		    mtu, name, strerror(-r));
	}
	rtnl_link_put(change);
	return r < 0 ? r : 0;
}

/* Deletes the link with index ifindex (> 0), else the one named name; 0
 * if it is gone already. */
static int
delete_link(struct lnk_netlink *nl, int ifindex, const char *name)
{
	struct rtnl_link *link;
	int r;

	if ((link = rtnl_link_alloc()) == NULL)
		return -ENOMEM;
	if (ifindex > 0)
		rtnl_link_set_ifindex(link, ifindex);
	else
		rtnl_link_set_name(link, name);
	r = rtnl_link_delete(nl->sk, link);
	rtnl_link_put(link);
	if (r == -NLE_NODEV || r == -NLE_OBJ_NOTFOUND)
		return 0;
	return r < 0 ? nl2errno(r) : 0;
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
	if (!lnk_mac_is_zero(cfg->mac)) {
		if ((mac = nl_addr_build(AF_LLC, cfg->mac, 6)) == NULL) {
			r = -ENOMEM;
			lnk_seterr(err, errlen, "Failed to create bridge '%s': %s",
			    cfg->name, strerror(-r));
			goto out;
		}
		rtnl_link_set_addr(link, mac);
	}
	/* No IFLA_MTU here: see set_bridge_mtu(). */
	r = rtnl_link_add(nl->sk, link, NLM_F_CREATE | NLM_F_EXCL);
	if (r < 0) {
		r = nl2errno(r);
		if (r == -EEXIST)
			lnk_seterr(err, errlen, "Failed to create bridge '%s': a "
			    "network interface with that name already exists "
			    "on the host", cfg->name);
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
	/* Before the addresses: an MTU below 1280 turns IPv6 off. */
	if (cfg->mtu != 0 &&
	    (r = set_bridge_mtu(nl, got, cfg->mtu, err, errlen)) < 0)
		goto out;
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
		int dr = delete_link(nl, ifindex, NULL);

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
lnk_nl_bridge_create(struct lnk *l, const struct lnk_bridge_cfg *cfg, char *err,
    size_t errlen)
{
	struct lnk_netlink *nl = (struct lnk_netlink *)l;
	int r;

	if ((r = lnk_check_cfg(cfg, "create", err, errlen)) < 0)
		return r;
	return do_create(nl, cfg, err, errlen);
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
lnk_nl_bridge_ensure(struct lnk *l, const struct lnk_bridge_cfg *cfg, char *err,
    size_t errlen)
{
	struct lnk_netlink *nl = (struct lnk_netlink *)l;
	int r;

	if ((r = lnk_check_cfg(cfg, "configure", err, errlen)) < 0)
		return r;
	return do_ensure(nl, cfg, err, errlen);
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
	if ((r = delete_link(nl, rtnl_link_get_ifindex(got), NULL)) < 0)
		lnk_seterr(err, errlen, "Failed to delete bridge '%s': %s", name,
		    strerror(-r));
out:
	if (got != NULL)
		rtnl_link_put(got);
	return r;
}

static int
lnk_nl_bridge_delete(struct lnk *l, const char *name, char *err, size_t errlen)
{
	struct lnk_netlink *nl = (struct lnk_netlink *)l;

	if (!lnk_valid_ifname(name)) {
		lnk_seterr(err, errlen, "Failed to delete bridge: '%s' is not a "
		    "valid interface name", name != NULL ? name : "(null)");
		return -EINVAL;
	}
	return do_delete(nl, name, err, errlen);
}

static int
lnk_nl_link_exists(struct lnk *l, const char *name)
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

int (*lnk_veth_step_hook)(const char *step);

static bool
link_is_veth(struct rtnl_link *link)
{
	const char *type = rtnl_link_get_type(link);

	return type != NULL && strcmp(type, "veth") == 0;
}

/* The injected failure of step, as -errno, or 0. */
static int
veth_step(const char *step)
{
	int r;

	if (lnk_veth_step_hook == NULL)
		return 0;
	r = lnk_veth_step_hook(step);
	return r < 0 ? r : 0;
}

/*
 * Sets the hairpin flag of bridge port ifindex.  libnl's change request
 * is an RTM_NEWLINK, which the kernel's bridge code never sees: port flags
 * need an AF_BRIDGE RTM_SETLINK with IFLA_PROTINFO, nested (without
 * NLA_F_NESTED the kernel reads it as the old one-byte port state).
 */
static int
set_hairpin(struct lnk_netlink *nl, int ifindex, bool on)
{
	struct ifinfomsg ifi = { 0 };
	struct nl_msg *msg;
	struct nlattr *pi;
	int r;

	ifi.ifi_family = AF_BRIDGE;
	ifi.ifi_index = ifindex;
	if ((msg = nlmsg_alloc_simple(RTM_SETLINK, 0)) == NULL)
		return -ENOMEM;
	if (nlmsg_append(msg, &ifi, sizeof(ifi), NLMSG_ALIGNTO) < 0 ||
	    (pi = nla_nest_start(msg, IFLA_PROTINFO | NLA_F_NESTED)) == NULL ||
	    nla_put_u8(msg, IFLA_BRPORT_MODE, on ? 1 : 0) < 0) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	nla_nest_end(msg, pi);
	r = nl_send_sync(nl->sk, msg);		/* frees msg */
	return r < 0 ? nl2errno(r) : 0;
}

/* Sets master (when nonzero) or IFF_UP on ifindex. */
static int
veth_change(struct lnk_netlink *nl, int ifindex, int master)
{
	struct rtnl_link *orig, *change;
	int r;

	orig = rtnl_link_alloc();
	change = rtnl_link_alloc();
	if (orig == NULL || change == NULL) {
		r = -ENOMEM;
		goto out;
	}
	rtnl_link_set_ifindex(orig, ifindex);
	if (master != 0)
		rtnl_link_set_master(change, master);
	else
		rtnl_link_set_flags(change, IFF_UP);
	r = rtnl_link_change(nl->sk, orig, change, 0);
	r = r < 0 ? nl2errno(r) : 0;
out:
	if (change != NULL)
		rtnl_link_put(change);
	if (orig != NULL)
		rtnl_link_put(orig);
	return r;
}

static int
do_veth_create(struct lnk_netlink *nl, const struct lnk_veth_cfg *cfg,
    char *err, size_t errlen)
{
	const char *const ends[2] = { cfg->host, cfg->peer };
	struct rtnl_link *br = NULL, *got = NULL, *link = NULL, *peer = NULL;
	struct nl_addr *mac = NULL;
	const char *step = NULL, *step_end = "";
	bool created = false;
	unsigned int mtu;
	int ifindex = 0, r;

#define VETH_ERR(...) lnk_seterr(err, errlen, "Failed to create veth pair " \
	    "'%s'/'%s' on bridge '%s': " __VA_ARGS__)
#define VETH_ARGS cfg->host, cfg->peer, cfg->bridge

	for (int i = 0; i < 2; i++) {
		if ((r = get_link(nl, ends[i], &got)) < 0) {
			VETH_ERR("looking up existing interfaces: %s", VETH_ARGS,
			    strerror(-r));
			goto out;
		}
		if (got != NULL) {
			VETH_ERR("a network interface named '%s' already "
			    "exists on the host", VETH_ARGS, ends[i]);
			r = -EEXIST;
			goto out;
		}
	}
	if ((r = get_link(nl, cfg->bridge, &br)) < 0) {
		VETH_ERR("looking up the bridge: %s", VETH_ARGS, strerror(-r));
		goto out;
	}
	if (br == NULL) {
		VETH_ERR("the bridge does not exist", VETH_ARGS);
		r = -ENOENT;
		goto out;
	}
	if (!link_is_bridge(br)) {
		VETH_ERR("'%s' is not a bridge", VETH_ARGS, cfg->bridge);
		r = -ENOTTY;
		goto out;
	}
	mtu = cfg->mtu != 0 ? cfg->mtu : rtnl_link_get_mtu(br);

	if ((link = rtnl_link_veth_alloc()) == NULL ||
	    (peer = rtnl_link_veth_get_peer(link)) == NULL) {
		r = -ENOMEM;
		VETH_ERR("%s", VETH_ARGS, strerror(-r));
		goto out;
	}
	rtnl_link_set_name(link, cfg->host);
	rtnl_link_set_name(peer, cfg->peer);
	if (mtu != 0) {
		rtnl_link_set_mtu(link, mtu);
		rtnl_link_set_mtu(peer, mtu);
	}
	if (!lnk_mac_is_zero(cfg->peer_mac)) {
		if ((mac = nl_addr_build(AF_LLC, cfg->peer_mac, 6)) == NULL) {
			r = -ENOMEM;
			VETH_ERR("%s", VETH_ARGS, strerror(-r));
			goto out;
		}
		rtnl_link_set_addr(peer, mac);
	}
	r = rtnl_link_add(nl->sk, link, NLM_F_CREATE | NLM_F_EXCL);
	if (r < 0) {
		r = nl2errno(r);
		if (r == -EEXIST)
			VETH_ERR("a network interface with one of these names "
			    "already exists on the host", VETH_ARGS);
		else
			VETH_ERR("%s", VETH_ARGS, strerror(-r));
		goto out;
	}

	/* From here on a failure deletes the pair again. */
	created = true;
	if ((r = get_link(nl, cfg->host, &got)) < 0 || got == NULL) {
		r = r < 0 ? r : -ENOENT;
		VETH_ERR("looking up '%s' after creating it: %s", VETH_ARGS,
		    cfg->host, strerror(-r));
		goto out;
	}
	ifindex = rtnl_link_get_ifindex(got);

	step = "attaching";
	step_end = " to the bridge";
	if ((r = veth_step("master")) < 0 ||
	    (r = veth_change(nl, ifindex, rtnl_link_get_ifindex(br))) < 0)
		goto out;
	step = cfg->hairpin ? "turning hairpin mode on for" :
	    "turning hairpin mode off for";
	step_end = "";
	if ((r = veth_step("hairpin")) < 0 ||
	    (r = set_hairpin(nl, ifindex, cfg->hairpin)) < 0)
		goto out;
	step = "bringing";
	step_end = " up";
	if ((r = veth_step("up")) < 0 ||
	    (r = veth_change(nl, ifindex, 0)) < 0)
		goto out;
	step = NULL;
	r = 0;
out:
	if (r < 0 && step != NULL)
		VETH_ERR("%s '%s'%s: %s", VETH_ARGS, step, cfg->host,
		    step_end, strerror(-r));
	if (r < 0 && created) {
		/* Deleting one end deletes both. */
		int dr = delete_link(nl, ifindex, cfg->host);

		if (dr < 0 && err != NULL) {
			size_t used = strnlen(err, errlen);

			if (used + 1 < errlen)
				lnk_seterr(err + used, errlen - used, "; removing "
				    "the half-configured pair failed too: %s",
				    strerror(-dr));
		}
	}
#undef VETH_ARGS
#undef VETH_ERR
	if (mac != NULL)
		nl_addr_put(mac);
	if (peer != NULL)
		rtnl_link_put(peer);
	if (link != NULL)
		rtnl_link_put(link);
	if (got != NULL)
		rtnl_link_put(got);
	if (br != NULL)
		rtnl_link_put(br);
	return r;
}

static int
lnk_nl_veth_create(struct lnk *l, const struct lnk_veth_cfg *cfg, char *err,
    size_t errlen)
{
	struct lnk_netlink *nl = (struct lnk_netlink *)l;
	int r;

	if ((r = lnk_check_veth_cfg(cfg, err, errlen)) < 0)
		return r;
	return do_veth_create(nl, cfg, err, errlen);
}

/*
 * The first of host and peer that exists decides: a veth is deleted (and
 * its other end with it), anything else is refused.
 */
static int
lnk_nl_veth_delete(struct lnk *l, const char *host, const char *peer, char *err,
    size_t errlen)
{
	struct lnk_netlink *nl = (struct lnk_netlink *)l;
	const char *const ends[2] = { host, peer };
	struct rtnl_link *got = NULL;
	int r = 0;

	if (!lnk_valid_ifname(host) || !lnk_valid_ifname(peer)) {
		lnk_seterr(err, errlen, "Failed to delete veth pair '%.*s'/'%.*s': "
		    "not a valid interface name", LNK_IFNAMSIZ - 1,
		    host != NULL ? host : "(null)", LNK_IFNAMSIZ - 1,
		    peer != NULL ? peer : "(null)");
		return -EINVAL;
	}
	for (int i = 0; i < 2; i++) {
		if ((r = get_link(nl, ends[i], &got)) < 0) {
			lnk_seterr(err, errlen, "Failed to delete veth pair "
			    "'%s'/'%s': looking up '%s': %s", host, peer,
			    ends[i], strerror(-r));
			return r;
		}
		if (got == NULL)
			continue;
		if (!link_is_veth(got)) {
			lnk_seterr(err, errlen, "Not deleting network interface "
			    "'%s': it is not a veth", ends[i]);
			r = -ENOTTY;
		} else if ((r = delete_link(nl,
		    rtnl_link_get_ifindex(got), NULL)) < 0) {
			lnk_seterr(err, errlen, "Failed to delete veth pair "
			    "'%s'/'%s' by '%s': %s", host, peer, ends[i],
			    strerror(-r));
		}
		rtnl_link_put(got);
		return r;
	}
	return 0;
}

struct pfx_vec {
	struct prefix *v;
	size_t		n;
	size_t		cap;
	int		error;
};

static void
pfx_push(struct pfx_vec *pv, struct nl_addr *a, unsigned int plen)
{
	struct prefix *p;
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
		struct prefix *nv;

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
lnk_nl_host_prefixes(struct lnk *l, struct prefix **ret, size_t *ret_n)
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
lnk_nl_free(struct lnk *l)
{
	struct lnk_netlink *nl = (struct lnk_netlink *)l;

	if (nl == NULL)
		return;
	if (nl->sk != NULL)
		nl_socket_free(nl->sk);	/* also closes it */
	free(nl);
}

/* A route netlink socket that talks to the namespace of nsfd (a socket
 * keeps the namespace it was made in).  Aborts if the thread cannot get
 * back to its own namespace: the daemon's next sockets would land in the
 * sandbox. */
static int
socket_in(int nsfd, struct nl_sock **ret)
{
	struct nl_sock *sk = NULL;
	int home, r;

	if ((r = netns_enter(nsfd, &home, NULL, 0)) < 0)
		return r;
	if ((sk = nl_socket_alloc()) == NULL)
		r = -ENOMEM;
	else if ((r = nl_connect(sk, NETLINK_ROUTE)) < 0)
		r = nl2errno(r);
	netns_leave(home);
	if (r < 0) {
		if (sk != NULL)
			nl_socket_free(sk);
		return r;
	}
	*ret = sk;
	return 0;
}

static int
lnk_nl_sandbox_addr(struct lnk *l, int nsfd, const struct prefix *p,
    bool add, char *err, size_t errlen)
{
	struct lnk_netlink *nl = (struct lnk_netlink *)l;
	struct lnk_netlink in = { .lnk = nl->lnk };
	struct rtnl_link *lo = NULL, *change = NULL;
	struct rtnl_addr *addr = NULL;
	struct nl_addr *local = NULL;
	char buf[INET6_ADDRSTRLEN + 8];
	const char *step = "open netlink";
	int r;

	if (p == NULL || (p->family != AF_INET && p->family != AF_INET6) ||
	    p->plen != (p->family == AF_INET ? 32u : 128u)) {
		lnk_seterr(err, errlen, "sandbox address: a single IPv4 or "
		    "IPv6 address is needed");
		return -EINVAL;
	}
	if ((r = socket_in(nsfd, &in.sk)) < 0)
		goto out;
	step = "find lo";
	if ((r = get_link(&in, "lo", &lo)) < 0)
		goto out;
	if (lo == NULL) {
		r = -ENODEV;
		goto out;
	}
	if (add && !(rtnl_link_get_flags(lo) & IFF_UP)) {
		step = "bring lo up";
		if ((change = rtnl_link_alloc()) == NULL) {
			r = -ENOMEM;
			goto out;
		}
		rtnl_link_set_flags(change, IFF_UP);
		if ((r = rtnl_link_change(in.sk, lo, change, 0)) < 0) {
			r = nl2errno(r);
			goto out;
		}
	}
	step = add ? "add the address to lo" : "delete the address from lo";
	addr = rtnl_addr_alloc();
	local = nl_addr_build(p->family, p->addr,
	    p->family == AF_INET ? 4 : 16);
	if (addr == NULL || local == NULL) {
		r = -ENOMEM;
		goto out;
	}
	nl_addr_set_prefixlen(local, (int)p->plen);
	rtnl_addr_set_ifindex(addr, rtnl_link_get_ifindex(lo));
	rtnl_addr_set_family(addr, p->family);
	if ((r = rtnl_addr_set_local(addr, local)) < 0) {
		r = nl2errno(r);
		goto out;
	}
	rtnl_addr_set_prefixlen(addr, (int)p->plen);
	/* Host scope: never picked as a source for traffic leaving the
	 * sandbox. */
	rtnl_addr_set_scope(addr, RT_SCOPE_HOST);
	if (p->family == AF_INET6)
		rtnl_addr_set_flags(addr, IFA_F_NODAD);
	r = add ? rtnl_addr_add(in.sk, addr, NLM_F_EXCL) :
	    rtnl_addr_delete(in.sk, addr, 0);
	if (r < 0) {
		r = nl2errno(r);
		if ((add && r == -EEXIST) || (!add &&
		    (r == -EADDRNOTAVAIL || r == -ENOENT || r == -ENODEV)))
			r = 0;
	}
out:
	if (r < 0)
		lnk_seterr(err, errlen, "Failed to %s in the sandbox for %s: %s",
		    step, prefix_format(p, buf, sizeof(buf)), strerror(-r));
	if (local != NULL)
		nl_addr_put(local);
	if (addr != NULL)
		rtnl_addr_put(addr);
	if (change != NULL)
		rtnl_link_put(change);
	if (lo != NULL)
		rtnl_link_put(lo);
	if (in.sk != NULL)
		nl_socket_free(in.sk);
	return r < 0 ? r : 0;
}

static const struct lnk_ops netlink_ops = {
	.bridge_create	= lnk_nl_bridge_create,
	.bridge_ensure	= lnk_nl_bridge_ensure,
	.bridge_delete	= lnk_nl_bridge_delete,
	.link_exists	= lnk_nl_link_exists,
	.host_prefixes	= lnk_nl_host_prefixes,
	.veth_create	= lnk_nl_veth_create,
	.veth_delete	= lnk_nl_veth_delete,
	.host_sysctls	= lnk_nl_host_sysctls,
	.sandbox_addr	= lnk_nl_sandbox_addr,
	.free		= lnk_nl_free,
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
		lnk_nl_free(&nl->lnk);
		return NULL;
	}
	return &nl->lnk;
}
