/*
 * The nftables rule model: from the networks, their endpoints and the
 * published ports, every chain, map element and rule of cbridge's tables
 * "ip cbridge" and "ip6 cbridge".  Pure, so the golden-file tests run
 * without root.
 *
 * The layout is Docker 29's nftables one with the userland proxy off
 * (cbridge runs no proxy): filter-FORWARD and nat-POSTROUTING reach a
 * network's chains through verdict maps keyed by the bridge, so a packet
 * of no cbridge bridge costs two lookups and a network's change touches
 * its own chains.  DNAT and the raw-table protections go the same way
 * (maps keyed by address, protocol and port) where Docker has one shared
 * chain each.  Every difference from Docker's rules is a row of
 * tests/golden/README.md, checked against Docker's own by
 * tests/unit/check_dockernft.c; the accepts for dockerd's bridges under
 * a forward policy drop are not among them (Docker's nftables table
 * never has a drop policy).
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "firewall/common.h"
#include "firewall/firewall.h"
#include "firewall/nftplan.h"

#define M_FWD_IN	"filter-forward-in-jumps"
#define M_FWD_OUT	"filter-forward-out-jumps"
#define M_NAT_IN	"nat-postrouting-in-jumps"
#define M_NAT_OUT	"nat-postrouting-out-jumps"
#define S_DOCKER	"docker-bridges"
#define C_FORWARD	"filter-FORWARD"
#define C_NAT_OUTPUT	"nat-OUTPUT"
#define C_NAT_POST	"nat-POSTROUTING"
#define C_NAT_PRE	"nat-PREROUTING"
#define C_DNAT		"nat-prerouting-and-output"
#define C_RAW		"raw-PREROUTING"

#define M_DNAT_ANY	"nat-dnat-jumps"
#define M_DNAT_ADDR	"nat-dnat-addr-jumps"
#define M_RAW_ADDR	"raw-prerouting-jumps"
#define M_RAW_LO	"raw-prerouting-lo-jumps"

/* "@" stands for the family's address type. */
const struct fw_nmapdef fw_nft_maps[] = {
	{ M_FWD_IN, "ifname", false }, { M_FWD_OUT, "ifname", false },
	{ M_NAT_IN, "ifname", false }, { M_NAT_OUT, "ifname", false },
	{ M_DNAT_ANY, "inet_proto . inet_service", false },
	{ M_DNAT_ADDR, "@ . inet_proto . inet_service", false },
	{ M_RAW_ADDR, "@", false },
	{ M_RAW_LO, "@ . inet_proto . inet_service", false },
	{ S_DOCKER, "ifname", true },
};
const size_t fw_nft_nmaps = sizeof(fw_nft_maps) / sizeof(fw_nft_maps[0]);

void
fw_nft_map_type(const struct fw_nmapdef *d, int family, char *buf,
    size_t len)
{
	const char *addr = family == AF_INET ? "ipv4_addr" : "ipv6_addr";
	size_t off = 0;

	buf[0] = '\0';
	for (const char *c = d->type; *c != '\0' && off + 10 < len; c++)
		if (*c == '@')
			off += (size_t)snprintf(buf + off, len - off, "%s", addr);
		else
			buf[off++] = *c, buf[off] = '\0';
}

bool
fw_nft_map_quoted(const struct fw_nmapdef *d)
{
	return strcmp(d->type, "ifname") == 0;
}

/* Priorities nft names: filter 0, dstnat -100, srcnat 100, raw -300. */
#define P_FILTER	0
#define P_DSTNAT	(-100)
#define P_SRCNAT	100
#define P_RAW		(-300)

struct nplan {
	struct fw_nplan	*p;
	size_t		ccap, rcap, ecap;
	const struct fw_model *m;
	int		fam;
	const char	*ip;		/* "ip" or "ip6" in matches */
	/* The chain rules go to, and its owner for the comments. */
	struct fw_nchain *cur;
	const char	*owner;
	/* Ports and endpoints by network; ni is the network being
	 * planned. */
	struct fw_ngroups g;
	size_t		ni;
	size_t		owner_net;	/* ni, or FW_NFT_BASE */
};

static int
add_chain(struct nplan *np, const char *name, const char *type,
    const char *hook, int prio, bool drop)
{
	struct fw_nplan *p = np->p;
	struct fw_nchain *c;

	if (p->nchains == np->ccap) {
		size_t cap = np->ccap ? 2 * np->ccap : 32;
		struct fw_nchain *v = realloc(p->chains, cap * sizeof(*v));

		if (v == NULL)
			return -ENOMEM;
		p->chains = v;
		np->ccap = cap;
	}
	c = &p->chains[p->nchains++];
	memset(c, 0, sizeof(*c));
	c->family = np->fam;
	if (snprintf(c->name, sizeof(c->name), "%s", name) >=
	    (int)sizeof(c->name))
		return -ENOSPC;
	c->type = type;
	c->hook = hook;
	c->prio = prio;
	c->drop = drop;
	c->first = p->nrules;
	c->net = np->owner_net;
	np->cur = c;
	return 0;
}

/* Appends a rule to the current chain (the last one added: a chain's
 * rules are contiguous), unless an equal one is already there. */
static int __attribute__((format(printf, 2, 3)))
rule(struct nplan *np, const char *fmt, ...)
{
	struct fw_nplan *p = np->p;
	struct fw_nchain *c = np->cur;
	char comment[FW_COMMENTLEN];
	struct fw_nrule *r;
	uint32_t h = 2166136261u;
	va_list ap;
	int n;

	/* Room to grow first: the text is written in place, once. */
	if (p->nrules == np->rcap) {
		size_t cap = np->rcap ? 2 * np->rcap : 128;
		struct fw_nrule *v = realloc(p->rules, cap * sizeof(*v));

		if (v == NULL)
			return -ENOMEM;
		p->rules = v;
		np->rcap = cap;
	}
	r = &p->rules[p->nrules];
	va_start(ap, fmt);
	n = vsnprintf(r->text, sizeof(r->text), fmt, ap);
	va_end(ap);
	/* " comment \"...\"" must fit after it. */
	if (n < 0 || (size_t)n + sizeof(" comment \"\"") + FW_COMMENTLEN >
	    sizeof(r->text))
		return -ENOSPC;
	h = fw_fnv1a(h, np->fam == AF_INET ? "4 " : "6 ");
	h = fw_fnv1a(h, c->name);
	h = fw_fnv1a(h, " ");
	h = fw_fnv1a(h, r->text);
	(void) snprintf(comment, sizeof(comment), "%s%.12s:%08x",
	    FW_COMMENT_PREFIX, np->owner, (unsigned int)h);
	for (size_t i = c->first; i < c->first + c->n; i++)
		if (strcmp(p->rules[i].comment, comment) == 0)
			return 0;
	(void) snprintf(r->text + n, sizeof(r->text) - (size_t)n,
	    " comment \"%s\"", comment);
	memcpy(r->comment, comment, sizeof(r->comment));
	p->nrules++;
	c->n++;
	return 0;
}

static int
add_elem(struct nplan *np, const char *map, const char *key,
    const char *chain)
{
	struct fw_nplan *p = np->p;
	struct fw_nelem *e;

	/* Keys are unique by construction (one bridge per network, one
	 * address per endpoint, one host port per protocol and address),
	 * except dockerd's bridge names, which come from outside. */
	for (size_t i = 0; chain[0] == '\0' && i < p->nelems; i++)
		if (p->elems[i].family == np->fam &&
		    strcmp(p->elems[i].map, map) == 0 &&
		    strcmp(p->elems[i].key, key) == 0)
			return 0;
	if (p->nelems == np->ecap) {
		size_t cap = np->ecap ? 2 * np->ecap : 64;
		struct fw_nelem *v = realloc(p->elems, cap * sizeof(*v));

		if (v == NULL)
			return -ENOMEM;
		p->elems = v;
		np->ecap = cap;
	}
	e = &p->elems[p->nelems++];
	memset(e, 0, sizeof(*e));
	e->family = np->fam;
	e->net = np->owner_net;
	(void) snprintf(e->map, sizeof(e->map), "%s", map);
	if (snprintf(e->key, sizeof(e->key), "%s", key) >= (int)sizeof(e->key))
		return -ENOSPC;
	(void) snprintf(e->chain, sizeof(e->chain), "%s", chain);
	return 0;
}

/* A network's chains are named after its bridge, as Docker's are, where
 * the name is an nft identifier; else after the network's ID. */
static void
chain_suffix(const struct fw_net *n, char *buf, size_t len)
{
	bool plain = true;

	for (const char *c = n->bridge; *c != '\0'; c++)
		plain &= (*c >= 'a' && *c <= 'z') || (*c >= 'A' &&
		    *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '_' ||
		    *c == '-' || *c == '.';
	if (plain)
		(void) snprintf(buf, len, "%s", n->bridge);
	else
		(void) snprintf(buf, len, "net-%.12s", n->id);
}

static int
plan_base(struct nplan *np, bool drop, const struct fw_ifnames *docker)
{
	int e;

	np->owner = "base";
	np->owner_net = FW_NFT_BASE;
	if ((e = add_chain(np, C_FORWARD, "filter", "forward", P_FILTER,
	    drop)) < 0 ||
	    (e = rule(np, "oifname vmap @%s", M_FWD_IN)) < 0 ||
	    (e = rule(np, "iifname vmap @%s", M_FWD_OUT)) < 0)
		return e;
	/* With the policy drop, dockerd's bridges (not in the maps) would
	 * be dropped here: its own rules decide about them. */
	for (size_t i = 0; drop && i < docker->n; i++)
		if ((e = rule(np, "iifname \"%s\" counter accept",
		    docker->v[i])) < 0 ||
		    (e = rule(np, "oifname \"%s\" counter accept",
		    docker->v[i])) < 0)
			return e;
	/* No loopback exclusion: without a proxy the host reaches its
	 * published ports on 127.0.0.1 through DNAT (route_localnet). */
	if ((e = add_chain(np, C_NAT_OUTPUT, "nat", "output", P_DSTNAT,
	    false)) < 0 ||
	    (e = rule(np, "fib daddr type local counter jump %s",
	    C_DNAT)) < 0 ||
	    (e = add_chain(np, C_NAT_POST, "nat", "postrouting", P_SRCNAT,
	    false)) < 0 ||
	    (e = rule(np, "iifname vmap @%s", M_NAT_OUT)) < 0 ||
	    (e = rule(np, "oifname vmap @%s", M_NAT_IN)) < 0 ||
	    (e = add_chain(np, C_NAT_PRE, "nat", "prerouting", P_DSTNAT,
	    false)) < 0 ||
	    (e = rule(np, "fib daddr type local counter jump %s",
	    C_DNAT)) < 0)
		return e;
	for (size_t i = 0; i < docker->n; i++)
		if ((e = add_elem(np, S_DOCKER, docker->v[i], "")) < 0)
			return e;
	if ((e = add_chain(np, C_DNAT, NULL, NULL, 0, false)) < 0 ||
	    (e = rule(np, "%s daddr . meta l4proto . th dport vmap @%s",
	    np->ip, M_DNAT_ADDR)) < 0 ||
	    (e = rule(np, "meta l4proto . th dport vmap @%s",
	    M_DNAT_ANY)) < 0 ||
	    (e = add_chain(np, C_RAW, "filter", "prerouting", P_RAW,
	    false)) < 0 ||
	    (e = rule(np, "%s daddr vmap @%s", np->ip, M_RAW_ADDR)) < 0 ||
	    (e = rule(np, "%s daddr . meta l4proto . th dport vmap @%s",
	    np->ip, M_RAW_LO)) < 0)
		return e;
	return 0;
}
static bool
has_fam(const struct fw_net *n, int fam)
{
	return fam == AF_INET ? n->ipv4 : n->ipv6;
}

static enum fw_gw_mode
mode_of(const struct fw_net *n, int fam)
{
	return fam == AF_INET ? n->gw4 : n->gw6;
}

/* "masquerade" or "snat to ADDR". */
static const char *
nat_source(const struct fw_net *n, int fam, char *buf, size_t len)
{
	const struct prefix *snat = fam == AF_INET ? &n->snat4 : &n->snat6;
	char a[PREFIX_STRLEN];

	if (snat->family == 0)
		return "masquerade";
	(void) snprintf(buf, len, "snat to %s",
	    prefix_format_addr(snat, a, sizeof(a)));
	return buf;
}

static bool
is_loopback4(const struct prefix *a)
{
	return a->family == AF_INET && a->addr[0] == 127;
}

/* The container ports published on the network being planned, in this
 * family, one rule each. */
static int
plan_port_accepts(struct nplan *np)
{
	const struct fw_model *m = np->m;
	char a[PREFIX_STRLEN];
	int e;

	for (size_t k = np->g.pfirst[np->ni]; k < np->g.pfirst[np->ni + 1]; k++) {
		const struct fw_port *pt = &m->ports[np->g.pidx[k]];

		if (pt->family != np->fam)
			continue;
		if ((e = rule(np, "%s daddr %s %s dport %u counter accept",
		    np->ip, prefix_format_addr(&pt->cip, a, sizeof(a)),
		    fw_proto_name(pt->proto), (unsigned int)pt->cport)) < 0)
			return e;
	}
	return 0;
}

static int	plan_net_raw(struct nplan *np, const struct fw_net *n,
		    const char *sfx);
static int	plan_net_dnat(struct nplan *np, const struct fw_net *n,
		    const char *sfx);

static int
plan_net(struct nplan *np, const struct fw_net *n)
{
	const struct fw_model *m = np->m;
	const struct prefix *sub = np->fam == AF_INET ? &n->subnet4 :
	    &n->subnet6;
	enum fw_gw_mode mode = mode_of(n, np->fam);
	char sfx[20], in[FW_NFT_NAMELEN], out[FW_NFT_NAMELEN];
	char nin[FW_NFT_NAMELEN], nout[FW_NFT_NAMELEN];
	char a[PREFIX_STRLEN], a2[PREFIX_STRLEN], nat[80];
	int e;

	np->owner = n->id;
	np->owner_net = np->ni;
	chain_suffix(n, sfx, sizeof(sfx));
	(void) snprintf(in, sizeof(in), "filter-forward-in__%s", sfx);
	(void) snprintf(out, sizeof(out), "filter-forward-out__%s", sfx);
	(void) snprintf(nin, sizeof(nin), "nat-postrouting-in__%s", sfx);
	(void) snprintf(nout, sizeof(nout), "nat-postrouting-out__%s", sfx);
	if ((e = add_elem(np, M_FWD_IN, n->bridge, in)) < 0 ||
	    (e = add_elem(np, M_FWD_OUT, n->bridge, out)) < 0 ||
	    (e = add_elem(np, M_NAT_IN, n->bridge, nin)) < 0 ||
	    (e = add_elem(np, M_NAT_OUT, n->bridge, nout)) < 0)
		return e;

	/* Into the bridge. */
	if ((e = add_chain(np, in, NULL, NULL, 0, false)) < 0 ||
	    (e = rule(np, "ct state established,related counter "
	    "accept")) < 0)
		return e;
	if (n->internal) {
		if ((e = rule(np, "iifname != \"%s\" counter drop",
		    n->bridge)) < 0 ||
		    (e = rule(np, "counter %s", n->icc ? "accept" :
		    "drop")) < 0)
			return e;
	} else {
		if (mode == FW_GW_ROUTED && (e = rule(np, np->fam == AF_INET ?
		    "ip protocol icmp counter accept" :
		    "meta l4proto ipv6-icmp counter accept")) < 0)
			return e;
		if ((e = rule(np, "iifname \"%s\" counter %s", n->bridge,
		    n->icc ? "accept" : "drop")) < 0)
			return e;
		if (mode != FW_GW_NAT_UNPROTECTED &&
		    (e = plan_port_accepts(np)) < 0)
			return e;
		if ((e = rule(np, "counter %s", mode == FW_GW_NAT_UNPROTECTED ?
		    "accept" : "drop")) < 0)
			return e;
	}

	/* Out of the bridge. */
	if ((e = add_chain(np, out, NULL, NULL, 0, false)) < 0 ||
	    (e = rule(np, "ct state established,related counter "
	    "accept")) < 0)
		return e;
	if (n->internal) {
		if ((e = rule(np, "oifname != \"%s\" counter drop",
		    n->bridge)) < 0)
			return e;
	} else {
		/* dockerd's bridges are another driver's networks: as
		 * isolated as two networks, their published ports (DNAT'd
		 * through the host's address) aside. */
		if ((e = rule(np, "oifname @%s ct status ! dnat counter drop",
		    S_DOCKER)) < 0 ||
		    (e = rule(np, "counter accept")) < 0)
			return e;
	}

	/* NAT into and out of the bridge. */
	if ((e = add_chain(np, nin, NULL, NULL, 0, false)) < 0)
		return e;
	if (!n->internal) {
		if ((e = rule(np, "fib saddr type local counter %s",
		    nat_source(n, np->fam, nat, sizeof(nat)))) < 0)
			return e;
		for (size_t k = np->g.pfirst[np->ni]; mode != FW_GW_ROUTED &&
		    k < np->g.pfirst[np->ni + 1]; k++) {
			const struct fw_port *pt = &m->ports[np->g.pidx[k]];

			if (pt->family != np->fam)
				continue;
			prefix_format_addr(&pt->cip, a, sizeof(a));
			if ((e = rule(np, "%s saddr %s %s daddr %s %s dport %u "
			    "counter masquerade", np->ip, a, np->ip, a,
			    fw_proto_name(pt->proto),
			    (unsigned int)pt->cport)) < 0)
				return e;
		}
	}
	if ((e = add_chain(np, nout, NULL, NULL, 0, false)) < 0)
		return e;
	if (!n->internal && n->masquerade && mode != FW_GW_ROUTED &&
	    (e = rule(np, "oifname != \"%s\" %s saddr %s counter %s",
	    n->bridge, np->ip, prefix_format(sub, a2, sizeof(a2)),
	    nat_source(n, np->fam, nat, sizeof(nat)))) < 0)
		return e;
	if (n->internal)
		return 0;
	if ((e = plan_net_dnat(np, n, sfx)) < 0)
		return e;
	return plan_net_raw(np, n, sfx);
}

/* Docker 28.2's direct-routing protection, and the loopback one: the
 * network's raw chain, reached by the container's address or by the
 * loopback address, protocol and port. */
static int
plan_net_raw(struct nplan *np, const struct fw_net *n, const char *sfx)
{
	const struct fw_model *m = np->m;
	char name[FW_NFT_NAMELEN], a[PREFIX_STRLEN], key[FW_NFT_KEYLEN];
	char ifs[(FW_MAX_TRUSTED + 1) * (FW_IFNAMSIZ + 4)];
	bool made = false;
	int e;

	(void) snprintf(name, sizeof(name), "raw-prerouting__%s", sfx);
	for (size_t k = np->g.efirst[np->ni]; k < np->g.efirst[np->ni + 1]; k++) {
		const struct fw_ep *ep = &m->eps[np->g.eidx[k]];
		const struct prefix *addr = np->fam == AF_INET ? &ep->addr4 :
		    &ep->addr6;
		size_t off;

		if (addr->family == 0 ||
		    mode_of(n, np->fam) != FW_GW_NAT)
			continue;
		if (!made && (e = add_chain(np, name, NULL, NULL, 0,
		    false)) < 0)
			return e;
		made = true;
		/* Trusted host interfaces count as the bridge. */
		if (n->ntrusted == 0)
			(void) snprintf(ifs, sizeof(ifs), "\"%s\"", n->bridge);
		else {
			off = (size_t)snprintf(ifs, sizeof(ifs), "{ \"%s\"",
			    n->bridge);
			for (size_t t = 0; t < n->ntrusted; t++)
				off += (size_t)snprintf(ifs + off,
				    sizeof(ifs) - off, ", \"%s\"",
				    n->trusted[t]);
			(void) snprintf(ifs + off, sizeof(ifs) - off, " }");
		}
		prefix_format_addr(addr, a, sizeof(a));
		if ((e = rule(np, "%s daddr %s iifname != %s counter drop",
		    np->ip, a, ifs)) < 0 ||
		    (e = add_elem(np, M_RAW_ADDR, a, name)) < 0)
			return e;
	}
	for (size_t k = np->g.pfirst[np->ni]; k < np->g.pfirst[np->ni + 1]; k++) {
		const struct fw_port *pt = &m->ports[np->g.pidx[k]];

		if (pt->family != np->fam || mode_of(n, np->fam) == FW_GW_ROUTED ||
		    !is_loopback4(&pt->host_ip))
			continue;
		if (!made && (e = add_chain(np, name, NULL, NULL, 0,
		    false)) < 0)
			return e;
		made = true;
		prefix_format_addr(&pt->host_ip, a, sizeof(a));
		/* WSL2's loopback0 in the same rule as lo (Docker accepts it
		 * in a rule before). */
		if ((e = rule(np, "iifname != %s ip daddr %s %s dport %u "
		    "counter drop", m->wsl2 ? "{ \"lo\", \"loopback0\" }" :
		    "\"lo\"", a, fw_proto_name(pt->proto),
		    (unsigned int)pt->host_port)) < 0)
			return e;
		(void) snprintf(key, sizeof(key), "%s . %s . %u", a,
		    fw_proto_name(pt->proto), (unsigned int)pt->host_port);
		if ((e = add_elem(np, M_RAW_LO, key, name)) < 0)
			return e;
	}
	return 0;
}

/* The network's DNAT chain, reached by (address,) protocol and port. */
static int
plan_net_dnat(struct nplan *np, const struct fw_net *n, const char *sfx)
{
	const struct fw_model *m = np->m;
	char name[FW_NFT_NAMELEN], a[PREFIX_STRLEN], h[PREFIX_STRLEN + 16];
	char key[FW_NFT_KEYLEN];
	bool made = false;
	int e;

	if (mode_of(n, np->fam) == FW_GW_ROUTED)
		return 0;
	(void) snprintf(name, sizeof(name), "nat-dnat__%s", sfx);
	for (size_t k = np->g.pfirst[np->ni]; k < np->g.pfirst[np->ni + 1]; k++) {
		const struct fw_port *pt = &m->ports[np->g.pidx[k]];
		const char *proto = fw_proto_name(pt->proto);

		if (pt->family != np->fam)
			continue;
		if (!made && (e = add_chain(np, name, NULL, NULL, 0,
		    false)) < 0)
			return e;
		made = true;
		h[0] = '\0';
		if (pt->host_ip.family != 0) {
			prefix_format_addr(&pt->host_ip, a, sizeof(a));
			(void) snprintf(h, sizeof(h), "%s daddr %s ", np->ip, a);
			(void) snprintf(key, sizeof(key), "%s . %s . %u", a,
			    proto, (unsigned int)pt->host_port);
		} else
			(void) snprintf(key, sizeof(key), "%s . %u", proto,
			    (unsigned int)pt->host_port);
		if ((e = add_elem(np, pt->host_ip.family != 0 ? M_DNAT_ADDR :
		    M_DNAT_ANY, key, name)) < 0)
			return e;
		prefix_format_addr(&pt->cip, a, sizeof(a));
		if ((e = rule(np, np->fam == AF_INET ?
		    "%s%s%s dport %u counter dnat to %s:%u" :
		    "%s%s%s dport %u counter dnat to [%s]:%u",
		    np->fam == AF_INET6 ? "ip6 saddr != fe80::/10 " : "", h,
		    proto, (unsigned int)pt->host_port, a,
		    (unsigned int)pt->cport)) < 0)
			return e;
	}
	return 0;
}

static int
cmp_id(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Items (ports or endpoints, each with its net_id at the same offset,
 * base the first one's) grouped by network: *ridx the item numbers,
 * *rfirst per network where its items start (nnets + 1 entries). */
static int
group(const struct fw_model *m, const char *base, size_t size, size_t n,
    size_t **ridx, size_t **rfirst)
{
	const char **ids = NULL;
	size_t *net = NULL, *idx = NULL, *first = NULL;
	int e = -ENOMEM;

	if ((ids = calloc(m->nnets + 1, sizeof(*ids))) == NULL ||
	    (net = calloc(n + 1, sizeof(*net))) == NULL ||
	    (idx = calloc(n + 1, sizeof(*idx))) == NULL ||
	    (first = calloc(m->nnets + 2, sizeof(*first))) == NULL)
		goto out;
	/* Network IDs sorted, each pointing into nets[] (an ID is the first
	 * member of fw_net). */
	for (size_t i = 0; i < m->nnets; i++)
		ids[i] = m->nets[i].id;
	qsort(ids, m->nnets, sizeof(*ids), cmp_id);
	for (size_t i = 0; i < n; i++) {
		const char *id = base + i * size;
		const char **hit = bsearch(&id, ids, m->nnets, sizeof(*ids),
		    cmp_id);

		/* The model check made sure every item's network exists. */
		net[i] = hit == NULL ? m->nnets : (size_t)((const struct fw_net *)
		    (const void *)*hit - m->nets);
		first[net[i] + 1]++;
	}
	for (size_t i = 0; i < m->nnets; i++)
		first[i + 1] += first[i];
	{
		size_t *pos = NULL;

		if ((pos = calloc(m->nnets + 1, sizeof(*pos))) == NULL)
			goto out;
		memcpy(pos, first, (m->nnets + 1) * sizeof(*pos));
		for (size_t i = 0; i < n; i++)
			if (net[i] < m->nnets)
				idx[pos[net[i]]++] = i;
		free(pos);
	}
	*ridx = idx;
	*rfirst = first;
	idx = first = NULL;
	e = 0;
out:
	free(ids);
	free(net);
	free(idx);
	free(first);
	return e;
}

int
fw_nft_groups(const struct fw_model *m, struct fw_ngroups *ret)
{
	struct fw_ngroups g = { 0 };
	int e;

	if ((e = group(m, m->ports ? m->ports[0].net_id : NULL,
	    sizeof(*m->ports), m->nports, &g.pidx, &g.pfirst)) < 0 ||
	    (e = group(m, m->eps ? m->eps[0].net_id : NULL, sizeof(*m->eps),
	    m->neps, &g.eidx, &g.efirst)) < 0) {
		fw_nft_groups_done(&g);
		return e;
	}
	*ret = g;
	return 0;
}

void
fw_nft_groups_done(struct fw_ngroups *g)
{
	free(g->eidx);
	free(g->efirst);
	free(g->pidx);
	free(g->pfirst);
	memset(g, 0, sizeof(*g));
}

int
fw_nft_compute(const struct fw_model *in, bool drop4, bool drop6,
    struct fw_nplan *ret, char *err, size_t errlen)
{
	static const int fams[] = { AF_INET, AF_INET6 };
	struct fw_model m;
	struct nplan np;
	int e;

	if (in == NULL || ret == NULL)
		return -EINVAL;
	memset(ret, 0, sizeof(*ret));
	if ((e = fw_model_check(in, &m, err, errlen)) < 0)
		return e;
	memset(&np, 0, sizeof(np));
	np.p = ret;
	np.m = &m;
	if ((e = fw_nft_groups(&m, &np.g)) < 0)
		goto fail;
	for (size_t f = 0; f < 2; f++) {
		bool any = false;

		np.fam = fams[f];
		np.ip = f == 0 ? "ip" : "ip6";
		for (size_t i = 0; i < m.nnets; i++)
			any |= has_fam(&m.nets[i], np.fam);
		if (!any)
			continue;
		ret->family[f] = true;
		if ((e = plan_base(&np, f == 0 ? drop4 : drop6, f == 0 ?
		    &m.docker4 : &m.docker6)) < 0)
			goto fail;
		for (np.ni = 0; np.ni < m.nnets; np.ni++)
			if (has_fam(&m.nets[np.ni], np.fam) &&
			    (e = plan_net(&np, &m.nets[np.ni])) < 0)
				goto fail;
	}
	e = 0;
	goto out;
fail:
	fw_seterr(err, errlen, "Failed to plan the nftables rules: %s",
	    e == -ENOMEM ? "out of memory" : "a rule does not fit its fields");
	fw_nft_plan_done(ret);
out:
	fw_nft_groups_done(&np.g);
	fw_model_done(&m);
	return e;
}

void
fw_nft_plan_done(struct fw_nplan *p)
{
	if (p == NULL)
		return;
	free(p->chains);
	free(p->rules);
	free(p->elems);
	memset(p, 0, sizeof(*p));
}

/* The priority as nft 1.0 reads and lists it: by name where the hook
 * allows one (dstnat is prerouting's only), else its number. */
static const char *
prio_name(const struct fw_nchain *c, char *buf, size_t len)
{
	if (strcmp(c->type, "filter") == 0 && c->prio == P_FILTER)
		return "filter";
	if (strcmp(c->hook, "prerouting") == 0 && c->prio == P_RAW)
		return "raw";
	if (strcmp(c->hook, "prerouting") == 0 && c->prio == P_DSTNAT)
		return "dstnat";
	if (strcmp(c->hook, "postrouting") == 0 && c->prio == P_SRCNAT)
		return "srcnat";
	(void) snprintf(buf, len, "%d", c->prio);
	return buf;
}

int
fw_nft_format(const struct fw_nplan *p, int family, char **ret)
{
	struct fw_sbuf b = { 0 };
	const char *fam = fw_family_name(family);
	int fi = fw_family_index(family);

	if (fam == NULL || fi < 0)
		return -EINVAL;
	fw_sbuf_printf(&b, "table %s %s {\n", fam, FW_NFT_TABLE);
	for (size_t mi = 0; mi < fw_nft_nmaps; mi++) {
		const struct fw_nmapdef *d = &fw_nft_maps[mi];
		char type[64];
		size_t n = 0;

		fw_nft_map_type(d, family, type, sizeof(type));
		fw_sbuf_printf(&b, "%s\t%s %s {\n\t\ttype %s%s\n",
		    mi ? "\n" : "", d->set ? "set" : "map", d->name, type,
		    d->set ? "" : " : verdict");
		for (size_t i = 0; i < p->nelems; i++) {
			const struct fw_nelem *e = &p->elems[i];
			const char *q = fw_nft_map_quoted(d) ? "\"" : "";

			if (e->family != family || strcmp(e->map, d->name) != 0)
				continue;
			fw_sbuf_printf(&b, "%s%s%s%s", n ? ",\n\t\t\t     " :
			    "\t\telements = { ", q, e->key, q);
			if (!d->set)
				fw_sbuf_printf(&b, " : jump %s", e->chain);
			n++;
		}
		if (n)
			fw_sbuf_printf(&b, " }\n");
		fw_sbuf_printf(&b, "\t}\n");
	}
	for (size_t ci = 0; ci < p->nchains; ci++) {
		const struct fw_nchain *c = &p->chains[ci];
		char pb[16];

		if (c->family != family)
			continue;

		fw_sbuf_printf(&b, "\n\tchain %s {\n", c->name);
		if (c->hook != NULL)
			fw_sbuf_printf(&b, "\t\ttype %s hook %s priority %s; "
			    "policy %s;\n", c->type, c->hook,
			    prio_name(c, pb, sizeof(pb)),
			    c->drop ? "drop" : "accept");
		for (size_t i = c->first; i < c->first + c->n; i++)
			fw_sbuf_printf(&b, "\t\t%s\n", p->rules[i].text);
		fw_sbuf_printf(&b, "\t}\n");
	}
	fw_sbuf_printf(&b, "}\n");
	if (b.e != 0) {
		free(b.s);
		return b.e;
	}
	*ret = b.s;
	return 0;
}
