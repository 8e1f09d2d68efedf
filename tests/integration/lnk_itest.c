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
 * Refuses to run in the namespace of PID 1 (or of its parent).  Prints "ok N - ..." lines and
 * a final "N passed, M failed"; exits 1 if anything failed.
 */
#include "netlink/netlink.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/if_addr.h>
#include <net/if.h>

#include <netlink/addr.h>
#include <netlink/cache.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/socket.h>

#define BR		"cbt-br0"
#define BR2		"cbt-br1"
#define BAD		"cbt-bad0"
#define OTHER_LINK	"cbt-other0"
#define ROUTE_MAIN	"10.99.0.0/16"
#define ROUTE_T100	"10.97.0.0/16"
#define ROUTE6_MAIN	"2001:db8:99::/48"

static int npass, nfail;

static void	ok(int cond, const char *fmt, ...)
		    __attribute__((format(printf, 2, 3)));

static void
ok(int cond, const char *fmt, ...)
{
	va_list ap;

	if (cond)
		npass++;
	else
		nfail++;
	printf("%sok %d - ", cond ? "" : "not ", npass + nfail);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

static void
diag(const char *what, int r, const char *err)
{
	printf("# %s: %d (%s): %s\n", what, r, r < 0 ? strerror(-r) : "-",
	    err[0] != '\0' ? err : "(no message)");
}

static struct lnk_prefix
pfx(const char *s)
{
	struct lnk_prefix p = { 0 };
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
same_pfx(const struct lnk_prefix *a, const struct lnk_prefix *b)
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
	struct lnk_prefix want;
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
	struct lnk_prefix lp = pfx(p);
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
in_list(const struct lnk_prefix *v, size_t n, const char *p)
{
	struct lnk_prefix want = pfx(p);

	for (size_t i = 0; i < n; i++)
		if (same_pfx(&v[i], &want))
			return 1;
	return 0;
}

/* 1 if we share the network namespace of PID 1 or, where PID 1's is
 * hidden from us (a sandbox), of our parent, which netns.sh runs in the
 * host namespace; 0 if not; -1 if neither can be looked at. */
static int
in_host_netns(void)
{
	struct stat self, other;
	char path[64];
	int n;

	if (stat("/proc/self/ns/net", &self) < 0)
		return -1;
	if (stat("/proc/1/ns/net", &other) < 0) {
		n = snprintf(path, sizeof(path), "/proc/%ld/ns/net",
		    (long)getppid());
		if (n < 0 || (size_t)n >= sizeof(path) ||
		    stat(path, &other) < 0)
			return -1;
	}
	return self.st_dev == other.st_dev && self.st_ino == other.st_ino;
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
	struct lnk_prefix *v = NULL;
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
		    same_pfx(&v[i], &(struct lnk_prefix){ .family = AF_INET,
		    .addr = { 10, 77, 0, 1 }, .plen = 32 }) ||
		    same_pfx(&v[i], &(struct lnk_prefix){ .family = AF_INET,
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

int
main(void)
{
	struct nl_sock *sk = NULL;
	struct lnk *l;
	char err[256] = "";

	if (in_host_netns() != 0) {
		printf("Bail out! not in a throwaway network namespace "
		    "(run me through tests/integration/netlink.sh)\n");
		return 2;
	}
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
out:
	lnk_free(l);
	nl_socket_free(sk);
	printf("%d passed, %d failed\n", npass, nfail);
	return nfail == 0 && npass > 0 ? 0 : 1;
}
