/*
 * In-memory netlink backend for unit tests and benchmarks: links and host
 * prefixes live in tables, with the same error semantics as the real one
 * (-EEXIST on a name clash, -ENOENT for a missing bridge, -ENOTTY for a link
 * of the wrong kind) and one-shot failure injection per operation.  A veth
 * pair is two links, both in the table until veth_delete removes them.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netlink/common.h"
#include "netlink/netlink.h"

enum fake_op {
	OP_BRIDGE_CREATE,
	OP_BRIDGE_ENSURE,
	OP_BRIDGE_DELETE,
	OP_LINK_EXISTS,
	OP_HOST_PREFIXES,
	OP_VETH_CREATE,
	OP_VETH_DELETE,
	OP_HOST_SYSCTLS,
	OP_SANDBOX_ADDR,
	OP_MAX,
};

static const char *const op_names[OP_MAX] = {
	[OP_BRIDGE_CREATE] = "bridge_create",
	[OP_BRIDGE_ENSURE] = "bridge_ensure",
	[OP_BRIDGE_DELETE] = "bridge_delete",
	[OP_LINK_EXISTS] = "link_exists",
	[OP_HOST_PREFIXES] = "host_prefixes",
	[OP_VETH_CREATE] = "veth_create",
	[OP_VETH_DELETE] = "veth_delete",
	[OP_HOST_SYSCTLS] = "host_sysctls",
	[OP_SANDBOX_ADDR] = "sandbox_addr",
};

struct fake_link {
	char		name[LNK_IFNAMSIZ];
	bool		is_bridge;
	struct lnk_bridge_cfg cfg;	/* bridges: what the host has now */
	bool		is_veth;	/* either end of a pair */
	bool		veth_host;	/* ... and this end is veth.host */
	struct lnk_veth_cfg veth;	/* veths, both ends: the pair as made
					 * (mtu resolved; bridge emptied when
					 * the bridge goes, as ports are) */
};

struct lnk_fake {
	struct lnk	lnk;		/* first: the ops table */
	struct fake_link *links;
	size_t		nlinks;
	size_t		links_cap;
	struct prefix *pfx;		/* added with lnk_fake_add_prefix */
	size_t		npfx;
	size_t		pfx_cap;
	int		fail[OP_MAX];	/* 0, or the errno of the next call */
	unsigned int	sysctl_calls;
	int		sandbox_addrs;	/* added less deleted */
	bool		forwarding_off;
};

static const struct lnk_ops fake_ops;

static struct lnk_fake *
to_fake(struct lnk *l)
{
	if (l == NULL || l->ops != &fake_ops) {
		fprintf(stderr, "lnk fake: not a fake lnk\n");
		abort();
	}
	return (struct lnk_fake *)l;
}

/* The one-shot injected failure for op, as -errno, or 0. */
static int
take_fail(struct lnk_fake *f, enum fake_op op)
{
	int e = f->fail[op];

	f->fail[op] = 0;
	return e == 0 ? 0 : -e;
}

static struct fake_link *
find_link(struct lnk_fake *f, const char *name)
{
	for (size_t i = 0; i < f->nlinks; i++)
		if (strcmp(f->links[i].name, name) == 0)
			return &f->links[i];
	return NULL;
}

/* Appends a zeroed link named name; NULL when out of memory. */
static struct fake_link *
append_link(struct lnk_fake *f, const char *name)
{
	struct fake_link *fl;

	if (f->nlinks == f->links_cap) {
		size_t ncap = f->links_cap == 0 ? 8 : f->links_cap * 2;
		struct fake_link *nv;

		nv = reallocarray(f->links, ncap, sizeof(*nv));
		if (nv == NULL)
			return NULL;
		f->links = nv;
		f->links_cap = ncap;
	}
	fl = &f->links[f->nlinks++];
	memset(fl, 0, sizeof(*fl));
	(void) snprintf(fl->name, sizeof(fl->name), "%s", name);
	return fl;
}

/* Removes fl, keeping insertion order: tests may look at the table. */
static void
remove_link(struct lnk_fake *f, struct fake_link *fl)
{
	memmove(fl, fl + 1,
	    (size_t)(&f->links[f->nlinks] - (fl + 1)) * sizeof(*fl));
	f->nlinks--;
}

static bool
same_addr(const struct prefix *a, const struct prefix *b)
{
	size_t n = a->family == AF_INET ? 4 : 16;

	return a->family == b->family && a->plen == b->plen &&
	    memcmp(a->addr, b->addr, n) == 0;
}

static int
fake_bridge_create(struct lnk *l, const struct lnk_bridge_cfg *cfg,
    char *err, size_t errlen)
{
	struct lnk_fake *f = to_fake(l);
	struct fake_link *fl;
	int r;

	if ((r = take_fail(f, OP_BRIDGE_CREATE)) < 0) {
		lnk_seterr(err, errlen, "Failed to create bridge '%s': %s",
		    cfg->name, strerror(-r));
		return r;
	}
	if ((r = lnk_check_cfg(cfg, "create", err, errlen)) < 0)
		return r;
	if (find_link(f, cfg->name) != NULL) {
		lnk_seterr(err, errlen, "Failed to create bridge '%s': a network "
		    "interface with that name already exists on the host",
		    cfg->name);
		return -EEXIST;
	}
	if ((fl = append_link(f, cfg->name)) == NULL) {
		lnk_seterr(err, errlen, "Failed to create bridge '%s': %s",
		    cfg->name, strerror(ENOMEM));
		return -ENOMEM;
	}
	fl->is_bridge = true;
	fl->cfg = *cfg;
	/* Duplicate addresses in cfg collapse, as on a real link. */
	fl->cfg.naddrs = 0;
	for (size_t i = 0; i < cfg->naddrs; i++) {
		bool dup = false;

		for (size_t j = 0; j < fl->cfg.naddrs && !dup; j++)
			dup = same_addr(&fl->cfg.addrs[j], &cfg->addrs[i]);
		if (!dup)
			fl->cfg.addrs[fl->cfg.naddrs++] = cfg->addrs[i];
	}
	return 0;
}

static int
fake_bridge_ensure(struct lnk *l, const struct lnk_bridge_cfg *cfg,
    char *err, size_t errlen)
{
	struct lnk_fake *f = to_fake(l);
	struct lnk_bridge_cfg next;
	struct fake_link *fl;
	char buf[INET6_ADDRSTRLEN + 8];
	int r;

	if ((r = take_fail(f, OP_BRIDGE_ENSURE)) < 0) {
		lnk_seterr(err, errlen, "Failed to configure bridge '%s': %s",
		    cfg->name, strerror(-r));
		return r;
	}
	if ((r = lnk_check_cfg(cfg, "configure", err, errlen)) < 0)
		return r;
	if ((fl = find_link(f, cfg->name)) == NULL) {
		lnk_seterr(err, errlen, "Bridge '%s' does not exist on the host",
		    cfg->name);
		return -ENOENT;
	}
	if (!fl->is_bridge) {
		lnk_seterr(err, errlen, "Network interface '%s' exists on the host "
		    "but is not a bridge; remove or rename it", cfg->name);
		return -ENOTTY;
	}
	/* Compute the result first so that a failure changes nothing. */
	next = fl->cfg;
	if (cfg->mtu != 0)
		next.mtu = cfg->mtu;
	if (cfg->ipv6)
		next.ipv6 = true;
	for (size_t i = 0; i < cfg->naddrs; i++) {
		bool have = false;

		for (size_t j = 0; j < next.naddrs && !have; j++)
			have = same_addr(&next.addrs[j], &cfg->addrs[i]);
		if (have)
			continue;
		if (next.naddrs == LNK_MAX_ADDRS) {
			lnk_seterr(err, errlen, "Failed to add address %s to "
			    "bridge '%s': the fake holds at most %d addresses "
			    "per bridge", prefix_format(&cfg->addrs[i], buf,
			    sizeof(buf)), cfg->name, LNK_MAX_ADDRS);
			return -ENOSPC;
		}
		next.addrs[next.naddrs++] = cfg->addrs[i];
	}
	fl->cfg = next;
	return 0;
}

static int
fake_bridge_delete(struct lnk *l, const char *name, char *err, size_t errlen)
{
	struct lnk_fake *f = to_fake(l);
	struct fake_link *fl;
	int r;

	if ((r = take_fail(f, OP_BRIDGE_DELETE)) < 0) {
		lnk_seterr(err, errlen, "Failed to delete bridge '%s': %s",
		    name != NULL ? name : "(null)", strerror(-r));
		return r;
	}
	if (!lnk_valid_ifname(name)) {
		lnk_seterr(err, errlen, "Failed to delete bridge: '%s' is not a "
		    "valid interface name", name != NULL ? name : "(null)");
		return -EINVAL;
	}
	if ((fl = find_link(f, name)) == NULL)
		return 0;
	if (!fl->is_bridge) {
		lnk_seterr(err, errlen, "Not deleting network interface '%s': it is "
		    "not a bridge", name);
		return -ENOTTY;
	}
	remove_link(f, fl);
	/* The kernel releases the ports; the veths stay. */
	for (size_t i = 0; i < f->nlinks; i++)
		if (f->links[i].is_veth &&
		    strcmp(f->links[i].veth.bridge, name) == 0)
			memset(f->links[i].veth.bridge, 0,
			    sizeof(f->links[i].veth.bridge));
	return 0;
}

static int
fake_link_exists(struct lnk *l, const char *name)
{
	struct lnk_fake *f = to_fake(l);
	int r;

	if ((r = take_fail(f, OP_LINK_EXISTS)) < 0)
		return r;
	if (!lnk_valid_ifname(name))
		return -EINVAL;
	return find_link(f, name) != NULL ? 1 : 0;
}

static void
mask_prefix(struct prefix *p)
{
	unsigned int max = p->family == AF_INET ? 32 : 128;

	for (unsigned int bit = p->plen; bit < max; bit++)
		p->addr[bit / 8] &= (unsigned char)~(0x80u >> (bit % 8));
}

static int
fake_host_prefixes(struct lnk *l, struct prefix **ret, size_t *ret_n)
{
	struct lnk_fake *f = to_fake(l);
	struct prefix *v;
	size_t n = f->npfx, i;
	int r;

	if ((r = take_fail(f, OP_HOST_PREFIXES)) < 0)
		return r;
	/* Like the kernel: each bridge address, and the connected route
	 * that comes with it (the same prefix once masked). */
	for (i = 0; i < f->nlinks; i++)
		if (f->links[i].is_bridge)
			n += 2 * f->links[i].cfg.naddrs;
	if ((v = calloc(n == 0 ? 1 : n, sizeof(*v))) == NULL)
		return -ENOMEM;
	if (f->npfx != 0)
		memcpy(v, f->pfx, f->npfx * sizeof(*v));
	n = f->npfx;
	for (i = 0; i < f->nlinks; i++) {
		const struct fake_link *fl = &f->links[i];

		if (!fl->is_bridge)
			continue;
		for (size_t j = 0; j < fl->cfg.naddrs; j++) {
			v[n++] = fl->cfg.addrs[j];
			v[n] = fl->cfg.addrs[j];
			mask_prefix(&v[n++]);
		}
	}
	*ret = v;
	*ret_n = n;
	return 0;
}

static int
fake_veth_create(struct lnk *l, const struct lnk_veth_cfg *cfg, char *err,
    size_t errlen)
{
	struct lnk_fake *f = to_fake(l);
	const char *const ends[2] = { cfg->host, cfg->peer };
	struct lnk_veth_cfg made;
	struct fake_link *br, *fl;
	int r;

	if ((r = take_fail(f, OP_VETH_CREATE)) < 0) {
		lnk_seterr(err, errlen, "Failed to create veth pair '%.*s'/'%.*s' "
		    "on bridge '%.*s': %s", LNK_IFNAMSIZ - 1, cfg->host,
		    LNK_IFNAMSIZ - 1, cfg->peer, LNK_IFNAMSIZ - 1, cfg->bridge,
		    strerror(-r));
		return r;
	}
	if ((r = lnk_check_veth_cfg(cfg, err, errlen)) < 0)
		return r;
	for (int i = 0; i < 2; i++) {
		if (find_link(f, ends[i]) != NULL) {
			lnk_seterr(err, errlen, "Failed to create veth pair "
			    "'%s'/'%s' on bridge '%s': a network interface "
			    "named '%s' already exists on the host", cfg->host,
			    cfg->peer, cfg->bridge, ends[i]);
			return -EEXIST;
		}
	}
	if ((br = find_link(f, cfg->bridge)) == NULL) {
		lnk_seterr(err, errlen, "Failed to create veth pair '%s'/'%s' on "
		    "bridge '%s': the bridge does not exist", cfg->host,
		    cfg->peer, cfg->bridge);
		return -ENOENT;
	}
	if (!br->is_bridge) {
		lnk_seterr(err, errlen, "Failed to create veth pair '%s'/'%s' on "
		    "bridge '%s': '%s' is not a bridge", cfg->host, cfg->peer,
		    cfg->bridge, cfg->bridge);
		return -ENOTTY;
	}
	made = *cfg;
	if (made.mtu == 0)	/* the bridge's; 0 there is the kernel's 1500 */
		made.mtu = br->cfg.mtu != 0 ? br->cfg.mtu : 1500;
	for (int i = 0; i < 2; i++) {
		if ((fl = append_link(f, ends[i])) == NULL) {
			f->nlinks -= (size_t)i;	/* nothing left behind */
			lnk_seterr(err, errlen, "Failed to create veth pair "
			    "'%s'/'%s' on bridge '%s': %s", cfg->host,
			    cfg->peer, cfg->bridge, strerror(ENOMEM));
			return -ENOMEM;
		}
		fl->is_veth = true;
		fl->veth_host = i == 0;
		fl->veth = made;
	}
	return 0;
}

/* The first of host and peer that exists decides, as in link.c. */
static int
fake_veth_delete(struct lnk *l, const char *host, const char *peer,
    char *err, size_t errlen)
{
	struct lnk_fake *f = to_fake(l);
	const char *const ends[2] = { host, peer };
	struct fake_link *fl;
	char other[LNK_IFNAMSIZ];
	int r;

	if ((r = take_fail(f, OP_VETH_DELETE)) < 0) {
		lnk_seterr(err, errlen, "Failed to delete veth pair '%.*s'/'%.*s': "
		    "%s", LNK_IFNAMSIZ - 1, host != NULL ? host : "(null)",
		    LNK_IFNAMSIZ - 1, peer != NULL ? peer : "(null)",
		    strerror(-r));
		return r;
	}
	if (!lnk_valid_ifname(host) || !lnk_valid_ifname(peer)) {
		lnk_seterr(err, errlen, "Failed to delete veth pair '%.*s'/'%.*s': "
		    "not a valid interface name", LNK_IFNAMSIZ - 1,
		    host != NULL ? host : "(null)", LNK_IFNAMSIZ - 1,
		    peer != NULL ? peer : "(null)");
		return -EINVAL;
	}
	for (int i = 0; i < 2; i++) {
		if ((fl = find_link(f, ends[i])) == NULL)
			continue;
		if (!fl->is_veth) {
			lnk_seterr(err, errlen, "Not deleting network interface "
			    "'%s': it is not a veth", ends[i]);
			return -ENOTTY;
		}
		/* Deleting one end deletes both. */
		(void) snprintf(other, sizeof(other), "%s",
		    fl->veth_host ? fl->veth.peer : fl->veth.host);
		remove_link(f, fl);
		if ((fl = find_link(f, other)) != NULL && fl->is_veth)
			remove_link(f, fl);
		return 0;
	}
	return 0;
}

static int
fake_host_sysctls(struct lnk *l, bool ipv6, bool *flipped4, bool *flipped6,
    char *err, size_t errlen)
{
	struct lnk_fake *f = to_fake(l);
	int r;

	f->sysctl_calls++;
	*flipped4 = *flipped6 = false;
	if ((r = take_fail(f, OP_HOST_SYSCTLS)) < 0) {
		lnk_seterr(err, errlen, "Failed to set net.ipv4.ip_forward=1: "
		    "%s", strerror(-r));
		return r;
	}
	*flipped4 = f->forwarding_off;
	*flipped6 = f->forwarding_off && ipv6;
	return 0;
}

static int
fake_sandbox_addr(struct lnk *l, int nsfd, const struct prefix *p,
    bool add, char *err, size_t errlen)
{
	struct lnk_fake *f = to_fake(l);
	int r;

	(void)nsfd;
	if (p == NULL) {
		lnk_seterr(err, errlen, "sandbox address: none given");
		return -EINVAL;
	}
	if ((r = take_fail(f, OP_SANDBOX_ADDR)) < 0) {
		lnk_seterr(err, errlen, "Failed to add the address to lo in "
		    "the sandbox: %s", strerror(-r));
		return r;
	}
	f->sandbox_addrs += add ? 1 : -1;
	return 0;
}

int
lnk_fake_sandbox_addrs(struct lnk *l)
{
	return to_fake(l)->sandbox_addrs;
}

unsigned int
lnk_fake_sysctl_calls(struct lnk *l)
{
	return to_fake(l)->sysctl_calls;
}

void
lnk_fake_set_forwarding_off(struct lnk *l, bool off)
{
	to_fake(l)->forwarding_off = off;
}

static void
fake_free(struct lnk *l)
{
	struct lnk_fake *f = to_fake(l);

	free(f->links);
	free(f->pfx);
	free(f);
}

static const struct lnk_ops fake_ops = {
	.bridge_create	= fake_bridge_create,
	.bridge_ensure	= fake_bridge_ensure,
	.bridge_delete	= fake_bridge_delete,
	.link_exists	= fake_link_exists,
	.host_prefixes	= fake_host_prefixes,
	.veth_create	= fake_veth_create,
	.veth_delete	= fake_veth_delete,
	.host_sysctls	= fake_host_sysctls,
	.sandbox_addr	= fake_sandbox_addr,
	.free		= fake_free,
};

struct lnk *
lnk_fake_new(void)
{
	struct lnk_fake *f;

	if ((f = calloc(1, sizeof(*f))) == NULL)
		return NULL;
	f->lnk.ops = &fake_ops;
	return &f->lnk;
}

void
lnk_fake_fail_next(struct lnk *l, const char *op, int err)
{
	struct lnk_fake *f = to_fake(l);

	for (int i = 0; i < OP_MAX; i++) {
		if (strcmp(op, op_names[i]) == 0) {
			/* Either sign; 0 would mean "do not fail". */
			f->fail[i] = err < 0 ? -err : err == 0 ? EIO : err;
			return;
		}
	}
	fprintf(stderr, "lnk_fake_fail_next: unknown operation '%s'\n", op);
	abort();
}

void
lnk_fake_add_link(struct lnk *l, const char *name, bool is_bridge)
{
	struct lnk_fake *f = to_fake(l);
	struct fake_link *fl;

	if (!lnk_valid_ifname(name)) {
		fprintf(stderr, "lnk_fake_add_link: invalid name '%s'\n",
		    name != NULL ? name : "(null)");
		abort();
	}
	if ((fl = find_link(f, name)) == NULL &&
	    (fl = append_link(f, name)) == NULL) {
		fprintf(stderr, "lnk_fake_add_link: out of memory\n");
		abort();
	}
	fl->is_bridge = is_bridge;
	fl->is_veth = false;
	if (is_bridge)
		(void) snprintf(fl->cfg.name, sizeof(fl->cfg.name), "%s",
		    name);
}

void
lnk_fake_add_prefix(struct lnk *l, const struct prefix *p)
{
	struct lnk_fake *f = to_fake(l);

	if (f->npfx == f->pfx_cap) {
		size_t ncap = f->pfx_cap == 0 ? 8 : f->pfx_cap * 2;
		struct prefix *nv;

		nv = reallocarray(f->pfx, ncap, sizeof(*nv));
		if (nv == NULL) {
			fprintf(stderr, "lnk_fake_add_prefix: out of memory\n");
			abort();
		}
		f->pfx = nv;
		f->pfx_cap = ncap;
	}
	f->pfx[f->npfx++] = *p;
}

int
lnk_fake_get_bridge(struct lnk *l, const char *name,
    struct lnk_bridge_cfg *ret)
{
	struct lnk_fake *f = to_fake(l);
	struct fake_link *fl;

	if (name == NULL || (fl = find_link(f, name)) == NULL ||
	    !fl->is_bridge)
		return 0;
	if (ret != NULL)
		*ret = fl->cfg;
	return 1;
}

size_t
lnk_fake_bridge_count(struct lnk *l)
{
	struct lnk_fake *f = to_fake(l);
	size_t n = 0;

	for (size_t i = 0; i < f->nlinks; i++)
		if (f->links[i].is_bridge)
			n++;
	return n;
}

int
lnk_fake_get_veth(struct lnk *l, const char *host, struct lnk_veth_cfg *ret)
{
	struct lnk_fake *f = to_fake(l);
	struct fake_link *fl;

	if (host == NULL || (fl = find_link(f, host)) == NULL ||
	    !fl->is_veth || !fl->veth_host)
		return 0;
	if (ret != NULL)
		*ret = fl->veth;
	return 1;
}

size_t
lnk_fake_veth_count(struct lnk *l)
{
	struct lnk_fake *f = to_fake(l);
	size_t n = 0;

	for (size_t i = 0; i < f->nlinks; i++)
		if (f->links[i].is_veth && f->links[i].veth_host)
			n++;
	return n;
}
