/*
 * Integration test of the real netlink backend (netlink/link.c).  Run by
 * tests/integration/netlink.sh inside a throwaway network namespace, which
 * the script prepares:
 *
 *   - a non-bridge link OTHER_LINK, up, with the routes below on it:
 *     ROUTE_MAIN and ROUTE6_MAIN in the main table, ROUTE_T100 in table 100,
 *     and IPv4 and IPv6 default routes;
 *   - net.ipv6.conf.default.disable_ipv6=1, so that a bridge gets IPv6
 *     only when asked for.
 *
 * Refuses to run in the namespace of PID 1 (or of its parent).  Prints
 * "ok N - ..." lines and a final "N passed, M failed"; exits 1 if anything
 * failed.
 *
 * With arguments it is a helper for tests/integration/veth.sh, which plays
 * dockerd with several namespaces (see usage()).
 */
#include "netlink/common.h"	/* lnk_veth_step_hook */
#include "netlink/netlink.h"
#include "tests/integration/itest.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <linux/if_addr.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>

#include <netlink/addr.h>
#include <netlink/cache.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/veth.h>
#include <netlink/socket.h>

#define BR		"cbt-br0"
#define BR2		"cbt-br1"
#define BAD		"cbt-bad0"
#define OTHER_LINK	"cbt-other0"
#define ROUTE_MAIN	"10.99.0.0/16"
#define ROUTE_T100	"10.97.0.0/16"
#define ROUTE6_MAIN	"2001:db8:99::/48"
#define VBR		"cbt-vbr0"	/* bridge for the veth tests */
#define VH1		"cbt-vh1"
#define VP1		"cbt-vp1"
#define VH2		"cbt-vh2"
#define VP2		"cbt-vp2"
#define VH3		"cbt-vh3"
#define VP3		"cbt-vp3"
#define LONE_A		"cbt-lone0"	/* a plain veth pair made here */
#define LONE_B		"cbt-lone1"

static void
diag(const char *what, int r, const char *err)
{
	printf("# %s: %d (%s): %s\n", what, r, r < 0 ? strerror(-r) : "-",
	    err[0] != '\0' ? err : "(no message)");
}

static struct prefix
pfx(const char *s)
{
	struct prefix p = { 0 };
	char buf[INET6_ADDRSTRLEN];
	const char *slash = strchr(s, '/');
	size_t n = (size_t)(slash - s);

	if (slash == NULL || n >= sizeof(buf))
		abort();
	memcpy(buf, s, n);
	buf[n] = '\0';
	p.family = strchr(buf, ':') != NULL ? AF_INET6 : AF_INET;
	if (inet_pton(p.family, buf, p.addr) != 1)
		abort();
	p.plen = (unsigned int)strtoul(slash + 1, NULL, 10);
	return p;
}

static int
same_pfx(const struct prefix *a, const struct prefix *b)
{
	return a->family == b->family && a->plen == b->plen &&
	    memcmp(a->addr, b->addr, a->family == AF_INET ? 4 : 16) == 0;
}

/* First line of a file, without the newline; -errno. */
static int
read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");
	int r = 0;

	if (f == NULL)
		return -errno;
	if (fgets(buf, (int)len, f) == NULL)
		r = -EIO;
	else
		buf[strcspn(buf, "\n")] = '\0';
	fclose(f);
	return r;
}

static int
read_sys(const char *ifname, const char *file, char *buf, size_t len)
{
	char path[PATH_MAX];
	int n;

	n = snprintf(path, sizeof(path), "/sys/class/net/%s/%s", ifname, file);
	if (n < 0 || (size_t)n >= sizeof(path))
		return -ENAMETOOLONG;
	return read_line(path, buf, len);
}

static int
read_ipv6_conf(const char *ifname, const char *key, char *buf, size_t len)
{
	char path[PATH_MAX];
	int n;

	n = snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/%s",
	    ifname, key);
	if (n < 0 || (size_t)n >= sizeof(path))
		return -ENAMETOOLONG;
	return read_line(path, buf, len);
}

static int
sys_equals(const char *ifname, const char *file, const char *want)
{
	char buf[128];

	if (read_sys(ifname, file, buf, sizeof(buf)) < 0)
		return 0;
	if (strcmp(buf, want) != 0)
		printf("# %s/%s is '%s', want '%s'\n", ifname, file, buf,
		    want);
	return strcmp(buf, want) == 0;
}

static int
conf_equals(const char *ifname, const char *key, const char *want)
{
	char buf[32];

	if (read_ipv6_conf(ifname, key, buf, sizeof(buf)) < 0)
		return 0;
	return strcmp(buf, want) == 0;
}

static unsigned long
link_flags(const char *ifname)
{
	char buf[32];

	if (read_sys(ifname, "flags", buf, sizeof(buf)) < 0)
		return 0;
	return strtoul(buf, NULL, 16);
}

static int
is_bridge_sysfs(const char *ifname)
{
	char path[PATH_MAX];
	struct stat st;
	int n;

	n = snprintf(path, sizeof(path), "/sys/class/net/%s/bridge", ifname);
	if (n < 0 || (size_t)n >= sizeof(path))
		return 0;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

struct addr_query {
	int		ifindex;
	struct prefix want;
	int		found;
	unsigned int	flags;
};

static void
addr_query_cb(struct nl_object *obj, void *arg)
{
	struct rtnl_addr *a = (struct rtnl_addr *)obj;
	struct addr_query *q = arg;
	struct nl_addr *local = rtnl_addr_get_local(a);

	if (rtnl_addr_get_ifindex(a) != q->ifindex || local == NULL ||
	    nl_addr_get_family(local) != q->want.family ||
	    rtnl_addr_get_prefixlen(a) != (int)q->want.plen ||
	    memcmp(nl_addr_get_binary_addr(local), q->want.addr,
	    nl_addr_get_len(local)) != 0)
		return;
	q->found = 1;
	q->flags = rtnl_addr_get_flags(a);
}

/* 1 if ifname has address p (*ret_flags: its IFA_F_*), 0 if not, -1. */
static int
has_addr(struct nl_sock *sk, const char *ifname, const char *p,
    unsigned int *ret_flags)
{
	struct addr_query q = { 0 };
	struct nl_cache *cache;

	q.ifindex = (int)if_nametoindex(ifname);
	q.want = pfx(p);
	if (q.ifindex == 0 || rtnl_addr_alloc_cache(sk, &cache) < 0)
		return -1;
	nl_cache_foreach(cache, addr_query_cb, &q);
	nl_cache_free(cache);
	if (q.found && ret_flags != NULL)
		*ret_flags = q.flags;
	return q.found;
}

/* Deletes address p from ifname behind the backend's back. */
static int
del_addr(struct nl_sock *sk, const char *ifname, const char *p)
{
	struct prefix lp = pfx(p);
	struct rtnl_addr *a = rtnl_addr_alloc();
	struct nl_addr *local = nl_addr_build(lp.family, lp.addr,
	    lp.family == AF_INET ? 4 : 16);
	int r = -1;

	if (a == NULL || local == NULL)
		goto out;
	nl_addr_set_prefixlen(local, (int)lp.plen);
	rtnl_addr_set_ifindex(a, (int)if_nametoindex(ifname));
	rtnl_addr_set_family(a, lp.family);
	if (rtnl_addr_set_local(a, local) < 0)
		goto out;
	r = rtnl_addr_delete(sk, a, 0);
out:
	if (local != NULL)
		nl_addr_put(local);
	if (a != NULL)
		rtnl_addr_put(a);
	return r;
}

/* Sets ifname down behind the backend's back. */
static int
set_down(struct nl_sock *sk, const char *ifname)
{
	struct rtnl_link *orig = NULL, *change = NULL;
	int r = -1;

	if (rtnl_link_get_kernel(sk, 0, ifname, &orig) < 0)
		goto out;
	if ((change = rtnl_link_alloc()) == NULL)
		goto out;
	rtnl_link_unset_flags(change, IFF_UP);
	r = rtnl_link_change(sk, orig, change, 0);
out:
	if (change != NULL)
		rtnl_link_put(change);
	if (orig != NULL)
		rtnl_link_put(orig);
	return r;
}

static int
in_list(const struct prefix *v, size_t n, const char *p)
{
	struct prefix want = pfx(p);

	for (size_t i = 0; i < n; i++)
		if (same_pfx(&v[i], &want))
			return 1;
	return 0;
}

static struct lnk_bridge_cfg
base_cfg(const char *name)
{
	struct lnk_bridge_cfg cfg = { 0 };

	(void) snprintf(cfg.name, sizeof(cfg.name), "%s", name);
	return cfg;
}

static void
test_create(struct lnk *l, struct nl_sock *sk)
{
	static const unsigned char mac[6] = { 0x02, 0x42, 0xcb, 0x00, 0x00,
	    0x01 };
	struct lnk_bridge_cfg cfg = base_cfg(BR);
	char err[256] = "";
	unsigned int flags = 0;
	int r;

	cfg.mtu = 1400;
	memcpy(cfg.mac, mac, sizeof(mac));
	cfg.ipv6 = true;
	cfg.addrs[cfg.naddrs++] = pfx("10.77.0.1/24");
	cfg.addrs[cfg.naddrs++] = pfx("fd77::1/64");
	r = l->ops->bridge_create(l, &cfg, err, sizeof(err));
	if (r < 0)
		diag("bridge_create", r, err);
	ok(r == 0, "bridge_create " BR " with IPv4+IPv6, MTU 1400, MAC");
	ok(is_bridge_sysfs(BR), BR " is a bridge");
	ok(sys_equals(BR, "mtu", "1400"), BR " has MTU 1400");
	ok(sys_equals(BR, "address", "02:42:cb:00:00:01"),
	    BR " has the configured MAC");
	ok((link_flags(BR) & IFF_UP) != 0, BR " is up");
	ok(conf_equals(BR, "accept_ra", "0"), BR " has accept_ra=0");
	ok(conf_equals(BR, "disable_ipv6", "0"),
	    BR " has disable_ipv6=0 although the default is 1");
	ok(has_addr(sk, BR, "10.77.0.1/24", NULL) == 1,
	    BR " has 10.77.0.1/24");
	ok(has_addr(sk, BR, "fd77::1/64", &flags) == 1 &&
	    (flags & IFA_F_NODAD) != 0 && (flags & IFA_F_TENTATIVE) == 0,
	    BR " has fd77::1/64, NODAD and not tentative");
	ok(l->ops->link_exists(l, BR) == 1, "link_exists " BR " is 1");
	ok(l->ops->link_exists(l, "cbt-nosuch0") == 0,
	    "link_exists of an absent link is 0");

	err[0] = '\0';
	r = l->ops->bridge_create(l, &cfg, err, sizeof(err));
	ok(r == -EEXIST && strstr(err, "already exists") != NULL,
	    "second bridge_create " BR " is -EEXIST with a message");
	if (r != -EEXIST)
		diag("second bridge_create", r, err);
	else
		printf("# %s\n", err);

	cfg = base_cfg(OTHER_LINK);
	err[0] = '\0';
	r = l->ops->bridge_create(l, &cfg, err, sizeof(err));
	ok(r == -EEXIST && is_bridge_sysfs(OTHER_LINK) == 0,
	    "bridge_create over a non-bridge link is -EEXIST");
}

static void
test_ensure(struct lnk *l, struct nl_sock *sk)
{
	struct lnk_bridge_cfg cfg = base_cfg(BR);
	char err[256] = "";
	int r;

	cfg.mtu = 1450;
	cfg.ipv6 = true;
	cfg.addrs[cfg.naddrs++] = pfx("10.77.0.1/24");
	cfg.addrs[cfg.naddrs++] = pfx("fd77::1/64");
	ok(del_addr(sk, BR, "10.77.0.1/24") == 0 &&
	    has_addr(sk, BR, "10.77.0.1/24", NULL) == 0 &&
	    set_down(sk, BR) == 0 && (link_flags(BR) & IFF_UP) == 0,
	    "deleted 10.77.0.1/24 and set " BR " down behind its back");
	r = l->ops->bridge_ensure(l, &cfg, err, sizeof(err));
	if (r < 0)
		diag("bridge_ensure", r, err);
	ok(r == 0, "bridge_ensure " BR);
	ok(has_addr(sk, BR, "10.77.0.1/24", NULL) == 1 &&
	    has_addr(sk, BR, "fd77::1/64", NULL) == 1,
	    "bridge_ensure re-added the deleted address, kept the other");
	ok((link_flags(BR) & IFF_UP) != 0, "bridge_ensure set " BR " up");
	ok(sys_equals(BR, "mtu", "1450"), "bridge_ensure changed the MTU");
	cfg.mtu = 0;
	r = l->ops->bridge_ensure(l, &cfg, err, sizeof(err));
	ok(r == 0 && sys_equals(BR, "mtu", "1450"),
	    "bridge_ensure again (MTU 0) is 0 and keeps the MTU");

	cfg = base_cfg("cbt-nosuch0");
	err[0] = '\0';
	r = l->ops->bridge_ensure(l, &cfg, err, sizeof(err));
	ok(r == -ENOENT && err[0] != '\0', "bridge_ensure of a missing bridge "
	    "is -ENOENT");
	cfg = base_cfg(OTHER_LINK);
	err[0] = '\0';
	r = l->ops->bridge_ensure(l, &cfg, err, sizeof(err));
	ok(r == -ENOTTY && err[0] != '\0',
	    "bridge_ensure of a non-bridge link is -ENOTTY");
	if (r == -ENOTTY)
		printf("# %s\n", err);
}

static void
test_prefixes(struct lnk *l)
{
	struct prefix *v = NULL;
	size_t n = 0;
	int r, bad = 0;

	r = l->ops->host_prefixes(l, &v, &n);
	ok(r == 0 && n > 0, "host_prefixes returns %zu prefixes", n);
	if (r < 0)
		return;
	ok(in_list(v, n, "10.77.0.1/24") && in_list(v, n, "fd77::1/64"),
	    "host_prefixes has the bridge's addresses");
	ok(in_list(v, n, ROUTE_MAIN) && in_list(v, n, ROUTE6_MAIN),
	    "host_prefixes has the routes " ROUTE_MAIN " and " ROUTE6_MAIN);
	ok(in_list(v, n, ROUTE_T100), "host_prefixes has " ROUTE_T100
	    " from table 100");
	for (size_t i = 0; i < n; i++) {
		char a[INET6_ADDRSTRLEN];

		printf("# host prefix %s/%u\n", inet_ntop(v[i].family,
		    v[i].addr, a, sizeof(a)), v[i].plen);
		if (v[i].plen == 0 ||
		    (v[i].family == AF_INET6 && v[i].addr[0] == 0xff) ||
		    (v[i].family == AF_INET6 && v[i].addr[0] == 0xfe &&
		    (v[i].addr[1] & 0xc0) == 0x80) ||
		    same_pfx(&v[i], &(struct prefix){ .family = AF_INET,
		    .addr = { 10, 77, 0, 1 }, .plen = 32 }) ||
		    same_pfx(&v[i], &(struct prefix){ .family = AF_INET,
		    .addr = { 10, 77, 0, 255 }, .plen = 32 })) {
			bad++;
			printf("# unexpected: %s/%u\n", inet_ntop(v[i].family,
			    v[i].addr, a, sizeof(a)), v[i].plen);
		}
	}
	ok(bad == 0, "no default, link-local, multicast, local or broadcast "
	    "entries");
	free(v);
}

static void
test_delete(struct lnk *l)
{
	char err[256] = "";
	int r;

	r = l->ops->bridge_delete(l, BR, err, sizeof(err));
	if (r < 0)
		diag("bridge_delete", r, err);
	ok(r == 0 && l->ops->link_exists(l, BR) == 0,
	    "bridge_delete " BR " removed it");
	ok(l->ops->bridge_delete(l, BR, err, sizeof(err)) == 0,
	    "bridge_delete of an absent bridge is 0");
	err[0] = '\0';
	r = l->ops->bridge_delete(l, OTHER_LINK, err, sizeof(err));
	ok(r == -ENOTTY && l->ops->link_exists(l, OTHER_LINK) == 1,
	    "bridge_delete of a non-bridge link is -ENOTTY and leaves it");
	r = l->ops->bridge_delete(l, "bad/name", err, sizeof(err));
	ok(r == -EINVAL, "bridge_delete of an invalid name is -EINVAL");
}

static void
test_failures(struct lnk *l, struct nl_sock *sk)
{
	struct lnk_bridge_cfg cfg;
	struct lnk *l2;
	char err[256] = "";
	int r;

	cfg = base_cfg(BAD);
	cfg.mtu = 100000;
	r = l->ops->bridge_create(l, &cfg, err, sizeof(err));
	printf("# %s\n", err);
	ok(r < 0 && l->ops->link_exists(l, BAD) == 0,
	    "bridge_create with MTU 100000 fails, no link left");

	cfg = base_cfg(BAD);
	cfg.addrs[cfg.naddrs++] = pfx("10.78.0.1/24");
	cfg.addrs[cfg.naddrs++] = pfx("fd78::1/64");	/* but ipv6 false */
	err[0] = '\0';
	r = l->ops->bridge_create(l, &cfg, err, sizeof(err));
	printf("# %s\n", err);
	ok(r < 0 && strstr(err, "fd78::1/64") != NULL &&
	    l->ops->link_exists(l, BAD) == 0,
	    "bridge_create with IPv6 disabled on it fails after creation, "
	    "no link left");

	cfg = base_cfg("bad/name");
	ok(l->ops->bridge_create(l, &cfg, err, sizeof(err)) == -EINVAL,
	    "bridge_create with an invalid name is -EINVAL");
	cfg = base_cfg(BAD);
	cfg.naddrs = LNK_MAX_ADDRS + 1;
	ok(l->ops->bridge_create(l, &cfg, err, sizeof(err)) == -EINVAL &&
	    l->ops->link_exists(l, BAD) == 0,
	    "bridge_create with too many addresses is -EINVAL");

	/* A proc root without the sysctls: accept_ra is optional, the
	 * disable_ipv6 write an IPv6 bridge needs is not. */
	err[0] = '\0';
	l2 = lnk_netlink_new("/nonexistent/proc/", err, sizeof(err));
	ok(l2 != NULL, "lnk_netlink_new with another proc root");
	if (l2 == NULL)
		return;
	cfg = base_cfg(BAD);
	cfg.ipv6 = true;
	err[0] = '\0';
	r = l2->ops->bridge_create(l2, &cfg, err, sizeof(err));
	printf("# %s\n", err);
	ok(r == -ENOENT && strstr(err, "/nonexistent/proc/sys/net/ipv6/conf/"
	    BAD "/disable_ipv6") != NULL && l->ops->link_exists(l, BAD) == 0,
	    "failing disable_ipv6 write removes the new bridge again");
	cfg = base_cfg(BR2);
	cfg.addrs[cfg.naddrs++] = pfx("10.79.0.1/24");
	err[0] = '\0';
	r = l2->ops->bridge_create(l2, &cfg, err, sizeof(err));
	if (r < 0)
		diag("bridge_create " BR2, r, err);
	ok(r == 0 && has_addr(sk, BR2, "10.79.0.1/24", NULL) == 1,
	    "a missing accept_ra sysctl is no error (IPv4-only bridge)");
	ok(conf_equals(BR2, "disable_ipv6", "1"),
	    "an IPv4-only bridge keeps disable_ipv6=1");
	ok(l2->ops->bridge_delete(l2, BR2, err, sizeof(err)) == 0 &&
	    l2->ops->link_exists(l2, BR2) == 0, "bridge_delete " BR2);
	lnk_free(l2);
}

/* Kind of link name ("veth", "bridge", "" for none); 0, or -1 if absent. */
static int
link_kind(struct nl_sock *sk, const char *name, char *buf, size_t len)
{
	struct rtnl_link *link = NULL;
	const char *type;

	if (rtnl_link_get_kernel(sk, 0, name, &link) < 0)
		return -1;
	type = rtnl_link_get_type(link);
	(void) snprintf(buf, len, "%s", type != NULL ? type : "");
	rtnl_link_put(link);
	return 0;
}

static int
is_kind(struct nl_sock *sk, const char *name, const char *want)
{
	char buf[32];

	return link_kind(sk, name, buf, sizeof(buf)) == 0 &&
	    strcmp(buf, want) == 0;
}

static int
link_gone(const char *name)
{
	return if_nametoindex(name) == 0;
}

/* 1 if ifname's master is bridge (the sysfs "master" link). */
static int
master_is(const char *ifname, const char *bridge)
{
	char path[PATH_MAX], target[PATH_MAX];
	const char *base;
	ssize_t n;

	(void) snprintf(path, sizeof(path), "/sys/class/net/%s/master", ifname);
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return bridge == NULL;
	target[n] = '\0';
	base = strrchr(target, '/');
	base = base != NULL ? base + 1 : target;
	return bridge != NULL && strcmp(base, bridge) == 0;
}

static struct lnk_veth_cfg
veth_cfg(const char *host, const char *peer, const char *bridge)
{
	struct lnk_veth_cfg cfg = { 0 };

	(void) snprintf(cfg.host, sizeof(cfg.host), "%s", host);
	(void) snprintf(cfg.peer, sizeof(cfg.peer), "%s", peer);
	(void) snprintf(cfg.bridge, sizeof(cfg.bridge), "%s", bridge);
	return cfg;
}

/* Fails step fail_step of veth_create with -EIO; steps_seen lists the
 * steps it reached, space-separated. */
static const char *fail_step;
static char steps_seen[128];

static int
step_hook(const char *step)
{
	size_t n = strlen(steps_seen);

	(void) snprintf(steps_seen + n, sizeof(steps_seen) - n, "%s%s",
	    n > 0 ? " " : "", step);
	return fail_step != NULL && strcmp(step, fail_step) == 0 ? -EIO : 0;
}

#define VETH_PREFIX(h, p, b) \
	"Failed to create veth pair '" h "'/'" p "' on bridge '" b "': "

static void
test_veth_create(struct lnk *l, struct nl_sock *sk)
{
	static const unsigned char mac[6] = { 0x02, 0x42, 0x0a, 0x42, 0x00,
	    0x02 };
	static const char *const steps[] = { "master", "hairpin", "up" };
	struct lnk_bridge_cfg bcfg = base_cfg(VBR);
	struct lnk_veth_cfg cfg;
	char err[256] = "", buf[64];
	int r;

	bcfg.mtu = 1400;
	bcfg.addrs[bcfg.naddrs++] = pfx("10.66.0.1/24");
	r = l->ops->bridge_create(l, &bcfg, err, sizeof(err));
	if (r < 0)
		diag("bridge_create " VBR, r, err);
	ok(r == 0 && sys_equals(VBR, "mtu", "1400"),
	    "bridge_create " VBR " with MTU 1400");

	cfg = veth_cfg(VH1, VP1, VBR);
	cfg.hairpin = true;
	memcpy(cfg.peer_mac, mac, sizeof(mac));
	lnk_veth_step_hook = step_hook;
	steps_seen[0] = '\0';
	r = l->ops->veth_create(l, &cfg, err, sizeof(err));
	lnk_veth_step_hook = NULL;
	if (r < 0)
		diag("veth_create " VH1, r, err);
	ok(r == 0, "veth_create " VH1 "/" VP1 " on " VBR ", MTU from the "
	    "bridge, hairpin on, peer MAC");
	ok(strcmp(steps_seen, "master hairpin up") == 0,
	    "veth_create went through master, hairpin, up (%s)", steps_seen);
	ok(is_kind(sk, VH1, "veth") && is_kind(sk, VP1, "veth"),
	    "both ends are veths");
	ok((link_flags(VH1) & IFF_UP) != 0, VH1 " is up");
	ok(link_flags(VP1) != 0 && (link_flags(VP1) & IFF_UP) == 0,
	    VP1 " is down");
	ok(master_is(VH1, VBR), VH1 " has master " VBR);
	ok(master_is(VP1, NULL), VP1 " has no master");
	ok(sys_equals(VH1, "mtu", "1400") && sys_equals(VP1, "mtu", "1400"),
	    "both ends have the bridge's MTU 1400");
	ok(sys_equals(VH1, "brport/hairpin_mode", "1"),
	    VH1 " has hairpin mode on");
	ok(sys_equals(VH1, "brport/learning", "1") &&
	    sys_equals(VH1, "brport/unicast_flood", "1"),
	    VH1 " keeps learning and flooding on (kernel defaults)");
	ok(sys_equals(VP1, "address", "02:42:0a:42:00:02"),
	    VP1 " has the configured MAC");

	err[0] = '\0';
	r = l->ops->veth_create(l, &cfg, err, sizeof(err));
	printf("# %s\n", err);
	ok(r == -EEXIST && strstr(err, VETH_PREFIX(VH1, VP1, VBR)) != NULL,
	    "second veth_create is -EEXIST with a message");
	cfg = veth_cfg(VH3, VP1, VBR);
	r = l->ops->veth_create(l, &cfg, err, sizeof(err));
	ok(r == -EEXIST && link_gone(VH3),
	    "veth_create with an existing peer name is -EEXIST, host not made");
	cfg = veth_cfg(OTHER_LINK, VP3, VBR);
	r = l->ops->veth_create(l, &cfg, err, sizeof(err));
	ok(r == -EEXIST && link_gone(VP3) && !master_is(OTHER_LINK, VBR),
	    "veth_create with the name of a non-veth link is -EEXIST");

	cfg = veth_cfg(VH3, VP3, "cbt-nosuch0");
	err[0] = '\0';
	r = l->ops->veth_create(l, &cfg, err, sizeof(err));
	printf("# %s\n", err);
	ok(r == -ENOENT && strstr(err, "cbt-nosuch0") != NULL &&
	    link_gone(VH3) && link_gone(VP3),
	    "veth_create on a missing bridge is -ENOENT, nothing left");
	cfg = veth_cfg(VH3, VP3, OTHER_LINK);
	r = l->ops->veth_create(l, &cfg, err, sizeof(err));
	ok(r == -ENOTTY && link_gone(VH3) && link_gone(VP3),
	    "veth_create on a non-bridge link is -ENOTTY, nothing left");

	cfg = veth_cfg("bad/name", VP3, VBR);
	r = l->ops->veth_create(l, &cfg, err, sizeof(err));
	ok(r == -EINVAL && link_gone(VP3), "invalid host name is -EINVAL");
	cfg = veth_cfg(VH3, "", VBR);
	r = l->ops->veth_create(l, &cfg, err, sizeof(err));
	ok(r == -EINVAL && link_gone(VH3), "empty peer name is -EINVAL");
	cfg = veth_cfg(VH3, VH3, VBR);
	r = l->ops->veth_create(l, &cfg, err, sizeof(err));
	ok(r == -EINVAL && link_gone(VH3), "host == peer is -EINVAL");
	cfg = veth_cfg(VH3, VP3, VBR);
	cfg.peer_mac[0] = 0x01;
	r = l->ops->veth_create(l, &cfg, err, sizeof(err));
	ok(r == -EINVAL && link_gone(VH3) && link_gone(VP3),
	    "multicast peer MAC is -EINVAL");
	cfg = veth_cfg(VH3, VP3, VBR);
	cfg.mtu = 67;
	r = l->ops->veth_create(l, &cfg, err, sizeof(err));
	ok(r == -EINVAL && link_gone(VH3) && link_gone(VP3),
	    "MTU 67 is -EINVAL");

	/* Explicit MTU below the bridge's, hairpin off, kernel's MAC. */
	cfg = veth_cfg(VH2, VP2, VBR);
	cfg.mtu = 1300;
	err[0] = '\0';
	r = l->ops->veth_create(l, &cfg, err, sizeof(err));
	if (r < 0)
		diag("veth_create " VH2, r, err);
	ok(r == 0 && sys_equals(VH2, "mtu", "1300") &&
	    sys_equals(VP2, "mtu", "1300"),
	    "veth_create " VH2 "/" VP2 " with MTU 1300 on both ends");
	ok(sys_equals(VH2, "brport/hairpin_mode", "0"),
	    VH2 " has hairpin mode off");
	ok(read_sys(VP2, "address", buf, sizeof(buf)) == 0 &&
	    strcmp(buf, "00:00:00:00:00:00") != 0 &&
	    (strtoul(buf, NULL, 16) & 1) == 0,
	    VP2 " has a unicast MAC from the kernel (%s)", buf);
	ok((link_flags(VH2) & IFF_UP) != 0 && (link_flags(VP2) & IFF_UP) == 0 &&
	    master_is(VH2, VBR), VH2 " up on " VBR ", " VP2 " down");
	ok(sys_equals(VBR, "mtu", "1400"),
	    VBR " keeps MTU 1400 with a 1300 port (the MTU is pinned)");

	/* Each step after creation fails in turn: the pair goes again. */
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		cfg = veth_cfg(VH3, VP3, VBR);
		cfg.hairpin = true;
		fail_step = steps[i];
		steps_seen[0] = '\0';
		err[0] = '\0';
		lnk_veth_step_hook = step_hook;
		r = l->ops->veth_create(l, &cfg, err, sizeof(err));
		lnk_veth_step_hook = NULL;
		fail_step = NULL;
		printf("# %s\n", err);
		ok(r == -EIO && strstr(err, VETH_PREFIX(VH3, VP3, VBR)) !=
		    NULL && strstr(err, strerror(EIO)) != NULL &&
		    strcmp(steps_seen + strlen(steps_seen) - strlen(steps[i]),
		    steps[i]) == 0 && link_gone(VH3) && link_gone(VP3),
		    "veth_create failing at step '%s' is -EIO, pair removed",
		    steps[i]);
	}
}

static void
test_veth_delete(struct lnk *l, struct nl_sock *sk)
{
	char err[256] = "";
	int r;

	r = l->ops->veth_delete(l, VH1, VP1, err, sizeof(err));
	if (r < 0)
		diag("veth_delete " VH1, r, err);
	ok(r == 0 && link_gone(VH1) && link_gone(VP1),
	    "veth_delete " VH1 "/" VP1 " removed both ends");
	ok(l->ops->veth_delete(l, VH1, VP1, err, sizeof(err)) == 0,
	    "veth_delete when neither end exists is 0");

	/* Only the peer is here, as when dockerd moved it back. */
	r = rtnl_link_veth_add(sk, LONE_A, LONE_B, getpid());
	ok(r == 0 && is_kind(sk, LONE_B, "veth"),
	    "made a plain veth pair " LONE_A "/" LONE_B);
	r = l->ops->veth_delete(l, VH3, LONE_B, err, sizeof(err));
	if (r < 0)
		diag("veth_delete by peer", r, err);
	ok(r == 0 && link_gone(LONE_B) && link_gone(LONE_A),
	    "veth_delete with host gone deletes the pair by the peer name");

	err[0] = '\0';
	r = l->ops->veth_delete(l, VBR, VP2, err, sizeof(err));
	printf("# %s\n", err);
	ok(r == -ENOTTY && !link_gone(VBR) && !link_gone(VH2),
	    "veth_delete of a bridge by the host name is -ENOTTY, both left");
	/* Not OTHER_LINK: netlink.sh makes it a veth without dummy. */
	r = l->ops->veth_delete(l, "cbt-nosuch0", VBR, err, sizeof(err));
	ok(r == -ENOTTY && !link_gone(VBR),
	    "veth_delete of a bridge by the peer name is -ENOTTY, left alone");
	ok(l->ops->veth_delete(l, "bad/name", VP2, err, sizeof(err)) ==
	    -EINVAL && !link_gone(VH2), "veth_delete of an invalid name is "
	    "-EINVAL");

	r = l->ops->veth_delete(l, VH2, VP2, err, sizeof(err));
	ok(r == 0 && link_gone(VH2) && link_gone(VP2),
	    "veth_delete " VH2 "/" VP2);
	ok(sys_equals(VBR, "mtu", "1400"),
	    VBR " keeps MTU 1400 after its last port left");
	r = l->ops->bridge_delete(l, VBR, err, sizeof(err));
	ok(r == 0 && link_gone(VBR), "bridge_delete " VBR);
}

/*
 * Helper modes for veth.sh.
 */

static uint16_t
inet_cksum(const void *data, size_t len)
{
	const unsigned char *p = data;
	uint32_t sum = 0;

	for (; len > 1; p += 2, len -= 2)
		sum += (uint32_t)p[0] << 8 | p[1];
	if (len == 1)
		sum += (uint32_t)p[0] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return htons((uint16_t)~sum);
}

static long
ms_left(const struct timespec *deadline)
{
	struct timespec now;

	(void) clock_gettime(CLOCK_MONOTONIC, &now);
	return (deadline->tv_sec - now.tv_sec) * 1000 +
	    (deadline->tv_nsec - now.tv_nsec) / 1000000;
}

/* One ICMP echo to addr, like ping -c1 -W2: 0 on a reply from addr. */
static int
icmp_echo(const char *addr)
{
	struct sockaddr_in to = { .sin_family = AF_INET }, from;
	unsigned char pkt[sizeof(struct icmphdr) + 16], buf[1500];
	struct icmphdr *icmp = (struct icmphdr *)pkt;
	uint16_t id = (uint16_t)(getpid() & 0xffff);
	struct timespec deadline;
	int fd, r = 1;

	if (inet_pton(AF_INET, addr, &to.sin_addr) != 1) {
		printf("# ping: '%s' is not an IPv4 address\n", addr);
		return 2;
	}
	if ((fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMP)) < 0) {
		printf("# ping: raw socket: %s\n", strerror(errno));
		return 2;
	}
	memset(pkt, 0, sizeof(pkt));
	icmp->type = ICMP_ECHO;
	icmp->un.echo.id = htons(id);
	icmp->un.echo.sequence = htons(1);
	memcpy(pkt + sizeof(*icmp), "cbridge-lnk-test", 16);
	icmp->checksum = inet_cksum(pkt, sizeof(pkt));
	(void) clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += 2;
	if (sendto(fd, pkt, sizeof(pkt), 0, (struct sockaddr *)&to,
	    sizeof(to)) < 0) {
		printf("# ping %s: sendto: %s\n", addr, strerror(errno));
		goto out;
	}
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		socklen_t fl = sizeof(from);
		const struct icmphdr *rep;
		long left = ms_left(&deadline);
		ssize_t n;
		size_t ihl;

		if (left <= 0 || poll(&pfd, 1, (int)left) <= 0)
			break;
		n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from,
		    &fl);
		if (n < 20)
			continue;
		ihl = (size_t)(buf[0] & 0x0f) * 4;
		if ((size_t)n < ihl + sizeof(*rep) ||
		    from.sin_addr.s_addr != to.sin_addr.s_addr)
			continue;
		rep = (const struct icmphdr *)(buf + ihl);
		if (rep->type == ICMP_ECHOREPLY && rep->un.echo.id == htons(id) &&
		    rep->un.echo.sequence == htons(1)) {
			r = 0;
			break;
		}
	}
out:
	(void) close(fd);
	return r;
}

static void
usage(void)
{
	printf("usage: lnk_itest                         the tests\n"
	    "       lnk_itest bridge NAME CIDR MTU     bridge_create\n"
	    "       lnk_itest unbridge NAME            bridge_delete\n"
	    "       lnk_itest veth BRIDGE HOST PEER    veth_create (MTU of the "
	    "bridge)\n"
	    "       lnk_itest unveth HOST PEER         veth_delete\n"
	    "       lnk_itest ping ADDR                one ICMP echo, 2 s\n");
}

static int
helper(int argc, char **argv)
{
	struct lnk *l = NULL;
	char err[256] = "";
	int r = -EINVAL;

	if (argc == 2 && strcmp(argv[0], "ping") == 0)
		return icmp_echo(argv[1]);
	if ((l = lnk_netlink_new("/proc", err, sizeof(err))) == NULL) {
		printf("# lnk_netlink_new: %s\n", err);
		return 2;
	}
	if (argc == 4 && strcmp(argv[0], "bridge") == 0) {
		struct lnk_bridge_cfg cfg = base_cfg(argv[1]);

		cfg.addrs[cfg.naddrs++] = pfx(argv[2]);
		cfg.mtu = (unsigned int)strtoul(argv[3], NULL, 10);
		r = l->ops->bridge_create(l, &cfg, err, sizeof(err));
	} else if (argc == 2 && strcmp(argv[0], "unbridge") == 0) {
		r = l->ops->bridge_delete(l, argv[1], err, sizeof(err));
	} else if (argc == 4 && strcmp(argv[0], "veth") == 0) {
		struct lnk_veth_cfg cfg = veth_cfg(argv[2], argv[3], argv[1]);

		r = l->ops->veth_create(l, &cfg, err, sizeof(err));
	} else if (argc == 3 && strcmp(argv[0], "unveth") == 0) {
		r = l->ops->veth_delete(l, argv[1], argv[2], err, sizeof(err));
	} else {
		usage();
		lnk_free(l);
		return 2;
	}
	if (r < 0)
		diag(argv[0], r, err);
	lnk_free(l);
	return r < 0 ? 1 : 0;
}

int
main(int argc, char **argv)
{
	struct nl_sock *sk = NULL;
	struct lnk *l;
	char err[256] = "";

	if (in_host_netns() != 0) {
		printf("Bail out! not in a throwaway network namespace "
		    "(run me through tests/integration/netlink.sh)\n");
		return 2;
	}
	if (argc > 1)
		return helper(argc - 1, argv + 1);
	if ((sk = nl_socket_alloc()) == NULL ||
	    nl_connect(sk, NETLINK_ROUTE) < 0) {
		printf("Bail out! cannot open a netlink socket\n");
		return 2;
	}
	l = lnk_netlink_new("/proc", err, sizeof(err));
	ok(l != NULL, "lnk_netlink_new");
	if (l == NULL) {
		printf("# %s\n", err);
		goto out;
	}
	test_create(l, sk);
	test_ensure(l, sk);
	test_prefixes(l);
	test_delete(l);
	test_failures(l, sk);
	test_veth_create(l, sk);
	test_veth_delete(l, sk);
out:
	lnk_free(l);
	nl_socket_free(sk);
	printf("%d passed, %d failed\n", npass, nfail);
	return nfail == 0 && npass > 0 ? 0 : 1;
}
