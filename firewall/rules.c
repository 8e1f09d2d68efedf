/*
 * The iptables rule model: from the networks, their endpoints and the
 * published ports, every chain and rule cbridge wants in the legacy
 * tables.  Pure (no system calls), so the golden-file tests in
 * tests/unit/check_rules.c run without root.
 *
 * The layout is Docker 28.3's (the "DOCKER-FORWARD" chain and its
 * per-port rules) in its userland-proxy=false form, because cbridge runs no
 * proxy: host-local traffic into a bridge is masqueraded, OUTPUT jumps to
 * nat DOCKER without excluding 127.0.0.0/8, DNAT has no "! -i BR", the
 * per-port hairpin MASQUERADE is there whenever ports are mapped (not in
 * routed mode), and WSL2 mirrored mode gets no loopback0 RETURN.  One addition: stage 2 of
 * the isolation lets DNAT'd connections through, so a container reaches a
 * port published on another network through the host's address (Docker
 * does that with its proxy).
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

#define C_DOCKER	"DOCKER"
#define C_BRIDGE	"DOCKER-BRIDGE"
#define C_CT		"DOCKER-CT"
#define C_FORWARD	"DOCKER-FORWARD"
#define C_ISO1		"DOCKER-ISOLATION-STAGE-1"
#define C_ISO2		"DOCKER-ISOLATION-STAGE-2"
#define C_USER		"DOCKER-USER"

/* The DNAT's "! -s fe80::/10". */
static const struct prefix linklocal6 = { .family = AF_INET6,
    .addr = { 0xfe, 0x80 }, .plen = 10 };

static const char *const docker_chains[] = {
	C_DOCKER, C_BRIDGE, C_CT, C_FORWARD, C_ISO1, C_ISO2, C_USER,
};

/* Built-in chains per table, in the order iptables-save lists them. */
static const char *const builtins[FW_T_MAX][5] = {
	[FW_T_RAW]	= { "PREROUTING", "OUTPUT" },
	[FW_T_NAT]	= { "PREROUTING", "INPUT", "OUTPUT", "POSTROUTING" },
	[FW_T_FILTER]	= { "INPUT", "FORWARD", "OUTPUT" },
};

const char *
fw_table_name(enum fw_table t)
{
	switch (t) {
	case FW_T_RAW:		return "raw";
	case FW_T_NAT:		return "nat";
	case FW_T_FILTER:	return "filter";
	default:		return NULL;
	}
}

bool
fw_is_docker_chain(const char *name)
{
	for (size_t i = 0; i < sizeof(docker_chains) / sizeof(docker_chains[0]);
	    i++)
		if (strcmp(name, docker_chains[i]) == 0)
			return true;
	return false;
}

static const char *
proto_name(int family, int proto)
{
	switch (proto) {
	case IPPROTO_ICMP:	return family == AF_INET ? "icmp" : NULL;
	case IPPROTO_ICMPV6:	return family == AF_INET6 ? "ipv6-icmp" : NULL;
	default:		return fw_proto_name(proto);
	}
}

static const char *
target_name(enum fw_target t)
{
	switch (t) {
	case FW_ACCEPT:		return "ACCEPT";
	case FW_DROP:		return "DROP";
	case FW_RETURN:		return "RETURN";
	case FW_MASQUERADE:	return "MASQUERADE";
	case FW_SNAT:		return "SNAT";
	case FW_DNAT:		return "DNAT";
	default:		return NULL;
	}
}

/* Appends to buf at *off; -ENOSPC once it no longer fits. */
static int __attribute__((format(printf, 4, 5)))
put(char *buf, size_t len, size_t *off, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*off >= len)
		return -ENOSPC;
	va_start(ap, fmt);
	n = vsnprintf(buf + *off, len - *off, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= len - *off)
		return -ENOSPC;
	*off += (size_t)n;
	return 0;
}

static const char *
neg(bool inv)
{
	return inv ? "! " : "";
}

/* An address of a rule: unset, or of the rule's family with a length
 * that fits it. */
static bool
rule_addr_ok(const struct fw_xrule *r, const struct prefix *a, bool unset_ok)
{
	if (a->family == 0)
		return unset_ok;
	return a->family == r->family && a->plen <= prefix_maxlen(a->family);
}

/* The rule without its comment; with_comment adds it where iptables-save
 * shows it (the comment match is the rule's last). */
static int
format_rule(const struct fw_xrule *r, bool with_comment, char *buf,
    size_t len)
{
	const char *pn = NULL, *tn;
	char a[PREFIX_STRLEN];
	size_t off = 0;
	int e = 0;

	if (r->proto != 0 && (pn = proto_name(r->family, r->proto)) == NULL)
		return -EINVAL;
	if (!rule_addr_ok(r, &r->src, true) || !rule_addr_ok(r, &r->dst, true))
		return -EINVAL;
	e |= put(buf, len, &off, "-A %s", r->chain);
	if (r->src.family != 0)
		e |= put(buf, len, &off, " %s-s %s", neg(r->src_inv),
		    prefix_format(&r->src, a, sizeof(a)));
	if (r->dst.family != 0)
		e |= put(buf, len, &off, " %s-d %s", neg(r->dst_inv),
		    prefix_format(&r->dst, a, sizeof(a)));
	if (r->iif[0] != '\0')
		e |= put(buf, len, &off, " %s-i %s", neg(r->iif_inv), r->iif);
	if (r->oif[0] != '\0')
		e |= put(buf, len, &off, " %s-o %s", neg(r->oif_inv), r->oif);
	if (pn != NULL)
		e |= put(buf, len, &off, " -p %s", pn);
	if (r->dport != 0) {
		if (r->proto != IPPROTO_TCP && r->proto != IPPROTO_UDP &&
		    r->proto != IPPROTO_SCTP)
			return -EINVAL;
		e |= put(buf, len, &off, " -m %s --dport %u", pn,
		    (unsigned int)r->dport);
	}
	if (r->src_local || r->dst_local)
		e |= put(buf, len, &off, " -m addrtype%s%s",
		    r->src_local ? " --src-type LOCAL" : "",
		    r->dst_local ? " --dst-type LOCAL" : "");
	if (r->ct_established && r->ct_dnat)
		return -EINVAL;
	if (r->ct_established)
		e |= put(buf, len, &off,
		    " -m conntrack --ctstate RELATED,ESTABLISHED");
	if (r->ct_dnat)
		e |= put(buf, len, &off, " -m conntrack --ctstate DNAT");
	if (with_comment)
		e |= put(buf, len, &off, " -m comment --comment \"%s\"",
		    r->comment);
	if (r->target == FW_JUMP) {
		e |= put(buf, len, &off, " -j %s", r->jump);
	} else {
		if ((tn = target_name(r->target)) == NULL)
			return -EINVAL;
		e |= put(buf, len, &off, " -j %s", tn);
		if ((r->target == FW_SNAT || r->target == FW_DNAT) &&
		    !rule_addr_ok(r, &r->to, false))
			return -EINVAL;
		if (r->target == FW_SNAT)
			e |= put(buf, len, &off, " --to-source %s",
			    prefix_format_addr(&r->to, a, sizeof(a)));
		else if (r->target == FW_DNAT)
			e |= put(buf, len, &off, r->family == AF_INET ?
			    " --to-destination %s:%u" :
			    " --to-destination [%s]:%u",
			    prefix_format_addr(&r->to, a, sizeof(a)),
			    (unsigned int)r->to_port);
	}
	return e < 0 ? -ENOSPC : 0;
}

int
fw_xrule_format(const struct fw_xrule *r, char *buf, size_t len)
{
	return format_rule(r, true, buf, len);
}

/* The planner's working state. */
struct plan {
	struct fw_ruleset	*rs;
	size_t			rcap, ccap;
	/* Open addressing over rs->rules by chain and comment, so that
	 * spotting an equal rule stays cheap with thousands of rules. */
	size_t			*slots;	/* index + 1; 0 empty */
	size_t			nslots;
	const struct fw_model	*m;
	char			*err;
	size_t			errlen;
};

static int
add_chain(struct plan *p, int family, enum fw_table t, const char *name)
{
	struct fw_ruleset *rs = p->rs;

	for (size_t i = 0; i < rs->nchains; i++)
		if (rs->chains[i].family == family && rs->chains[i].table == t &&
		    strcmp(rs->chains[i].name, name) == 0)
			return 0;
	if (rs->nchains == p->ccap) {
		size_t cap = p->ccap ? 2 * p->ccap : 16;
		struct fw_xchain *v = realloc(rs->chains, cap * sizeof(*v));

		if (v == NULL)
			return -ENOMEM;
		rs->chains = v;
		p->ccap = cap;
	}
	memset(&rs->chains[rs->nchains], 0, sizeof(rs->chains[0]));
	rs->chains[rs->nchains].family = family;
	rs->chains[rs->nchains].table = t;
	snprintf(rs->chains[rs->nchains].name, FW_CHAINLEN, "%s", name);
	rs->nchains++;
	return 0;
}

/* Keeps the slot table at most half full (a power of two). */
static int
grow_slots(struct plan *p)
{
	const struct fw_ruleset *rs = p->rs;
	size_t n, *v;

	if (2 * (rs->nrules + 1) <= p->nslots)
		return 0;
	n = p->nslots ? 2 * p->nslots : 256;
	if ((v = calloc(n, sizeof(*v))) == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < rs->nrules; i++) {
		const struct fw_xrule *o = &rs->rules[i];
		size_t k = fw_fnv1a(fw_fnv1a(2166136261u, o->chain), o->comment) &
		    (n - 1);

		while (v[k] != 0)
			k = (k + 1) & (n - 1);
		v[k] = i + 1;
	}
	free(p->slots);
	p->slots = v;
	p->nslots = n;
	return 0;
}

/* Finishes r (comment) and appends it, unless an equal rule is already
 * planned: two bindings to one container port need one ACCEPT. */
static int
add_rule(struct plan *p, struct fw_xrule *r, const char *owner)
{
	struct fw_ruleset *rs = p->rs;
	char text[512];
	uint32_t h = 2166136261u;
	int e;

	if ((e = format_rule(r, false, text, sizeof(text))) < 0)
		return e;
	h = fw_fnv1a(h, r->family == AF_INET ? "4 " : "6 ");
	h = fw_fnv1a(h, fw_table_name(r->table));
	h = fw_fnv1a(h, r->head ? " head " : " tail ");
	h = fw_fnv1a(h, text);
	snprintf(r->comment, sizeof(r->comment), "%s%.12s:%08x",
	    FW_COMMENT_PREFIX, owner, (unsigned int)h);
	if ((e = grow_slots(p)) < 0)
		return e;
	{
		size_t k = fw_fnv1a(fw_fnv1a(2166136261u, r->chain), r->comment) &
		    (p->nslots - 1);

		for (; p->slots[k] != 0; k = (k + 1) & (p->nslots - 1)) {
			const struct fw_xrule *o = &rs->rules[p->slots[k] - 1];

			if (strcmp(o->comment, r->comment) == 0 &&
			    strcmp(o->chain, r->chain) == 0)
				return 0;
		}
		p->slots[k] = rs->nrules + 1;
	}
	if (rs->nrules == p->rcap) {
		size_t cap = p->rcap ? 2 * p->rcap : 64;
		struct fw_xrule *v = realloc(rs->rules, cap * sizeof(*v));

		if (v == NULL)
			return -ENOMEM;
		rs->rules = v;
		p->rcap = cap;
	}
	rs->rules[rs->nrules++] = *r;
	if (r->target == FW_JUMP)
		return add_chain(p, r->family, r->table, r->jump);
	return 0;
}

static void
rule_init(struct fw_xrule *r, int family, enum fw_table t, const char *chain,
    bool head, enum fw_target target)
{
	memset(r, 0, sizeof(*r));
	r->family = family;
	r->table = t;
	snprintf(r->chain, sizeof(r->chain), "%s", chain);
	r->head = head;
	r->target = target;
}

static void
set_jump(struct fw_xrule *r, const char *chain)
{
	r->target = FW_JUMP;
	snprintf(r->jump, sizeof(r->jump), "%s", chain);
}

static void
set_if(char *dst, const char *name)
{
	snprintf(dst, FW_IFNAMSIZ, "%s", name);
}

/* A single address: addr/32 or addr/128. */
static void
set_host(struct prefix *dst, const struct prefix *addr)
{
	*dst = *addr;
	dst->plen = prefix_maxlen(addr->family);
}

/* NAT towards outside: SNAT to the configured source, else MASQUERADE. */
static void
set_nat_source(struct fw_xrule *r, const struct prefix *snat)
{
	if (snat->family != 0) {
		r->target = FW_SNAT;
		set_host(&r->to, snat);
	} else {
		r->target = FW_MASQUERADE;
	}
}

static int
plan_base(struct plan *p, int fam)
{
	struct fw_xrule r;
	int e = 0;

	for (size_t i = 0; i < sizeof(docker_chains) / sizeof(docker_chains[0]);
	    i++)
		if ((e = add_chain(p, fam, FW_T_FILTER, docker_chains[i])) < 0)
			return e;
	if ((e = add_chain(p, fam, FW_T_NAT, C_DOCKER)) < 0)
		return e;

	rule_init(&r, fam, FW_T_FILTER, "FORWARD", true, FW_JUMP);
	set_jump(&r, C_USER);
	if ((e = add_rule(p, &r, "base")) < 0)
		return e;
	set_jump(&r, C_FORWARD);
	if ((e = add_rule(p, &r, "base")) < 0)
		return e;
	rule_init(&r, fam, FW_T_FILTER, C_FORWARD, true, FW_JUMP);
	set_jump(&r, C_CT);
	if ((e = add_rule(p, &r, "base")) < 0)
		return e;
	set_jump(&r, C_ISO1);
	if ((e = add_rule(p, &r, "base")) < 0)
		return e;
	set_jump(&r, C_BRIDGE);
	if ((e = add_rule(p, &r, "base")) < 0)
		return e;
	/* A connection to a published port may come from another network
	 * (container -> host address -> DNAT): isolation lets it pass, the
	 * port's ACCEPT in DOCKER then decides. */
	rule_init(&r, fam, FW_T_FILTER, C_ISO2, true, FW_RETURN);
	r.ct_dnat = true;
	if ((e = add_rule(p, &r, "base")) < 0)
		return e;

	rule_init(&r, fam, FW_T_NAT, "PREROUTING", false, FW_JUMP);
	r.dst_local = true;
	set_jump(&r, C_DOCKER);
	if ((e = add_rule(p, &r, "base")) < 0)
		return e;
	/* No 127.0.0.0/8 exclusion: without a proxy, the host reaches its
	 * published ports on loopback through DNAT (route_localnet=1). */
	rule_init(&r, fam, FW_T_NAT, "OUTPUT", false, FW_JUMP);
	r.dst_local = true;
	set_jump(&r, C_DOCKER);
	/* No WSL2 "-i loopback0 -d 127.0.0.0/8 -j RETURN" in nat DOCKER:
	 * Docker writes it only to leave such traffic to its userland
	 * proxy.  Without a proxy it would make Windows' localhost:PORT
	 * skip the DNAT and reach nothing. */
	return add_rule(p, &r, "base");
}

static int
plan_internal(struct plan *p, int fam, const struct fw_net *n,
    const struct prefix *sub)
{
	struct fw_xrule r;
	int e;

	rule_init(&r, fam, FW_T_FILTER, C_ISO1, true, FW_DROP);
	set_if(r.iif, n->bridge);
	if (fam == AF_INET6) {
		set_if(r.oif, n->bridge);
		r.oif_inv = true;
	}
	r.dst = *sub;
	r.dst_inv = true;
	if ((e = add_rule(p, &r, n->id)) < 0)
		return e;
	rule_init(&r, fam, FW_T_FILTER, C_ISO1, true, FW_DROP);
	if (fam == AF_INET6) {
		set_if(r.iif, n->bridge);
		r.iif_inv = true;
	}
	set_if(r.oif, n->bridge);
	r.src = *sub;
	r.src_inv = true;
	if ((e = add_rule(p, &r, n->id)) < 0)
		return e;
	rule_init(&r, fam, FW_T_FILTER, C_FORWARD, false,
	    n->icc ? FW_ACCEPT : FW_DROP);
	set_if(r.iif, n->bridge);
	set_if(r.oif, n->bridge);
	return add_rule(p, &r, n->id);
}

static int
plan_net(struct plan *p, int fam, const struct fw_net *n)
{
	const struct prefix *sub = fam == AF_INET ? &n->subnet4 : &n->subnet6;
	const struct prefix *snat = fam == AF_INET ? &n->snat4 : &n->snat6;
	enum fw_gw_mode mode = fam == AF_INET ? n->gw4 : n->gw6;
	struct fw_xrule r;
	int e;

	if (n->internal)
		return plan_internal(p, fam, n, sub);

	if (n->masquerade && mode != FW_GW_ROUTED) {
		rule_init(&r, fam, FW_T_NAT, "POSTROUTING", true, FW_MASQUERADE);
		r.src = *sub;
		set_if(r.oif, n->bridge);
		r.oif_inv = true;
		set_nat_source(&r, snat);
		if ((e = add_rule(p, &r, n->id)) < 0)
			return e;
	}
	/* Host-local traffic DNAT'd into the bridge (127.0.0.1:port, the
	 * host's own address) needs a source the container can answer. */
	rule_init(&r, fam, FW_T_NAT, "POSTROUTING", true, FW_MASQUERADE);
	set_if(r.oif, n->bridge);
	r.src_local = true;
	set_nat_source(&r, snat);
	if ((e = add_rule(p, &r, n->id)) < 0)
		return e;

	if (!n->icc) {
		rule_init(&r, fam, FW_T_FILTER, C_FORWARD, false, FW_DROP);
		set_if(r.iif, n->bridge);
		set_if(r.oif, n->bridge);
		if ((e = add_rule(p, &r, n->id)) < 0)
			return e;
	}
	if (mode == FW_GW_ROUTED) {
		rule_init(&r, fam, FW_T_FILTER, C_DOCKER, false, FW_ACCEPT);
		set_if(r.oif, n->bridge);
		r.proto = fam == AF_INET ? IPPROTO_ICMP : IPPROTO_ICMPV6;
		if ((e = add_rule(p, &r, n->id)) < 0)
			return e;
	}
	rule_init(&r, fam, FW_T_FILTER, C_FORWARD, false, FW_ACCEPT);
	set_if(r.iif, n->bridge);
	if (!n->icc) {
		set_if(r.oif, n->bridge);
		r.oif_inv = true;
	}
	if ((e = add_rule(p, &r, n->id)) < 0)
		return e;
	/* Nothing from outside the bridge gets in unless published. */
	rule_init(&r, fam, FW_T_FILTER, C_DOCKER, false,
	    mode == FW_GW_NAT_UNPROTECTED ? FW_ACCEPT : FW_DROP);
	set_if(r.iif, n->bridge);
	r.iif_inv = true;
	set_if(r.oif, n->bridge);
	if ((e = add_rule(p, &r, n->id)) < 0)
		return e;
	rule_init(&r, fam, FW_T_FILTER, C_CT, false, FW_ACCEPT);
	set_if(r.oif, n->bridge);
	r.ct_established = true;
	if ((e = add_rule(p, &r, n->id)) < 0)
		return e;
	rule_init(&r, fam, FW_T_FILTER, C_BRIDGE, false, FW_JUMP);
	set_if(r.oif, n->bridge);
	set_jump(&r, C_DOCKER);
	if ((e = add_rule(p, &r, n->id)) < 0)
		return e;
	if (mode == FW_GW_ROUTED) {
		rule_init(&r, fam, FW_T_FILTER, C_ISO1, true, FW_ACCEPT);
		set_if(r.iif, n->bridge);
		r.ct_established = true;
		if ((e = add_rule(p, &r, n->id)) < 0)
			return e;
		rule_init(&r, fam, FW_T_FILTER, C_ISO1, true, FW_RETURN);
		set_if(r.oif, n->bridge);
		if ((e = add_rule(p, &r, n->id)) < 0)
			return e;
	}
	rule_init(&r, fam, FW_T_FILTER, C_ISO2, true, FW_DROP);
	set_if(r.oif, n->bridge);
	return add_rule(p, &r, n->id);
}

/* One of dockerd's bridges, where dockerd's chains are in nft and the
 * legacy tables are cbridge's alone: isolated from cbridge's bridges as
 * dockerd's bridges are from each other, and otherwise accepted, so that
 * dockerd's nft rules decide about its traffic whatever the legacy
 * FORWARD policy is (cbridge sets DROP when it turned forwarding on
 * before dockerd). */
static int
plan_docker_bridge(struct plan *p, int fam, const char *name)
{
	struct fw_xrule r;
	int e;

	rule_init(&r, fam, FW_T_FILTER, C_ISO1, false, FW_JUMP);
	set_if(r.iif, name);
	set_if(r.oif, name);
	r.oif_inv = true;
	set_jump(&r, C_ISO2);
	if ((e = add_rule(p, &r, "base")) < 0)
		return e;
	rule_init(&r, fam, FW_T_FILTER, C_ISO2, true, FW_DROP);
	set_if(r.oif, name);
	if ((e = add_rule(p, &r, "base")) < 0)
		return e;
	rule_init(&r, fam, FW_T_FILTER, C_FORWARD, false, FW_ACCEPT);
	set_if(r.iif, name);
	if ((e = add_rule(p, &r, "base")) < 0)
		return e;
	rule_init(&r, fam, FW_T_FILTER, C_FORWARD, false, FW_ACCEPT);
	set_if(r.oif, name);
	return add_rule(p, &r, "base");
}

/* A network's way into the second stage of isolation.  At the top, but
 * below every network's other rules there (the internal networks' drops
 * come first, as in Docker): where dockerd shares the legacy tables, its
 * chain ends in a RETURN that would skip a rule appended after it. */
static int
plan_iso_jump(struct plan *p, int fam, const struct fw_net *n)
{
	struct fw_xrule r;

	rule_init(&r, fam, FW_T_FILTER, C_ISO1, true, FW_JUMP);
	set_if(r.iif, n->bridge);
	set_if(r.oif, n->bridge);
	r.oif_inv = true;
	set_jump(&r, C_ISO2);
	return add_rule(p, &r, n->id);
}

/* Below cbridge's own DNATs in nat DOCKER: the rest of the loopback
 * traffic its OUTPUT jump sends there leaves the chain, so that it never
 * meets the DNATs of a dockerd that shares the legacy nat table (dockerd
 * jumps there without loopback, which is its userland proxy's). */
static int
plan_loopback_return(struct plan *p, int fam)
{
	static const struct prefix lo4 = { .family = AF_INET,
	    .addr = { 127 }, .plen = 8 };
	static const struct prefix lo6 = { .family = AF_INET6,
	    .addr = { [15] = 1 }, .plen = 128 };
	struct fw_xrule r;

	rule_init(&r, fam, FW_T_NAT, C_DOCKER, true, FW_RETURN);
	r.dst = fam == AF_INET ? lo4 : lo6;
	return add_rule(p, &r, "base");
}

/* Is name the bridge of one of cbridge's networks? */
static bool
is_our_bridge(const struct fw_model *m, const char *name)
{
	for (size_t i = 0; i < m->nnets; i++)
		if (strcmp(m->nets[i].bridge, name) == 0)
			return true;
	return false;
}

/* Docker 28.2's direct-routing protection: a container address is only
 * reached through its bridge (or a trusted host interface). */
static int
plan_ep(struct plan *p, int fam, const struct fw_net *n,
    const struct prefix *addr)
{
	struct fw_xrule r;
	int e;

	for (size_t i = 0; i < n->ntrusted; i++) {
		rule_init(&r, fam, FW_T_RAW, "PREROUTING", false, FW_ACCEPT);
		set_host(&r.dst, addr);
		set_if(r.iif, n->trusted[i]);
		if ((e = add_rule(p, &r, n->id)) < 0)
			return e;
	}
	rule_init(&r, fam, FW_T_RAW, "PREROUTING", false, FW_DROP);
	set_host(&r.dst, addr);
	set_if(r.iif, n->bridge);
	r.iif_inv = true;
	return add_rule(p, &r, n->id);
}

static bool
is_loopback4(const struct prefix *a)
{
	return a->family == AF_INET && a->addr[0] == 127;
}

static int
plan_port(struct plan *p, const struct fw_net *n, const struct fw_port *pt)
{
	int fam = pt->family;
	enum fw_gw_mode mode = fam == AF_INET ? n->gw4 : n->gw6;
	struct fw_xrule r;
	int e;

	/* A loopback binding is for this host only.  IPv4 only, as Docker's
	 * filterPortMappedOnLoopback: the kernel itself drops ::1 arriving on
	 * any other interface.  Not in routed mode: nothing is mapped from
	 * the host's address there (Docker ignores it and the host port). */
	if (mode != FW_GW_ROUTED && is_loopback4(&pt->host_ip)) {
		if (p->m->wsl2) {
			rule_init(&r, fam, FW_T_RAW, "PREROUTING", false,
			    FW_ACCEPT);
			set_host(&r.dst, &pt->host_ip);
			set_if(r.iif, "loopback0");
			r.proto = pt->proto;
			r.dport = pt->host_port;
			if ((e = add_rule(p, &r, n->id)) < 0)
				return e;
		}
		rule_init(&r, fam, FW_T_RAW, "PREROUTING", false, FW_DROP);
		set_host(&r.dst, &pt->host_ip);
		set_if(r.iif, "lo");
		r.iif_inv = true;
		r.proto = pt->proto;
		r.dport = pt->host_port;
		if ((e = add_rule(p, &r, n->id)) < 0)
			return e;
	}
	if (mode != FW_GW_ROUTED) {
		/* At the top: where dockerd shares the legacy nat table, its
		 * "-i BR -j RETURN" there would keep its containers from
		 * cbridge's ports. */
		rule_init(&r, fam, FW_T_NAT, C_DOCKER, true, FW_DNAT);
		if (fam == AF_INET6) {
			r.src = linklocal6;
			r.src_inv = true;
		}
		if (pt->host_ip.family != 0)
			set_host(&r.dst, &pt->host_ip);
		r.proto = pt->proto;
		r.dport = pt->host_port;
		set_host(&r.to, &pt->cip);
		r.to_port = pt->cport;
		if ((e = add_rule(p, &r, n->id)) < 0)
			return e;
	}
	/* A container reaching its own published port through the host.
	 * Routed mode maps no ports (no DNAT), so there is no hairpin to
	 * masquerade either, as in Docker. */
	if (mode != FW_GW_ROUTED) {
		rule_init(&r, fam, FW_T_NAT, "POSTROUTING", false,
		    FW_MASQUERADE);
		set_host(&r.src, &pt->cip);
		set_host(&r.dst, &pt->cip);
		r.proto = pt->proto;
		r.dport = pt->cport;
		if ((e = add_rule(p, &r, n->id)) < 0)
			return e;
	}
	if (mode == FW_GW_NAT_UNPROTECTED)
		return 0;
	rule_init(&r, fam, FW_T_FILTER, C_DOCKER, true, FW_ACCEPT);
	set_host(&r.dst, &pt->cip);
	set_if(r.iif, n->bridge);
	r.iif_inv = true;
	set_if(r.oif, n->bridge);
	r.proto = pt->proto;
	r.dport = pt->cport;
	return add_rule(p, &r, n->id);
}

/* Checks that a is of family and puts it in canonical form: a subnet
 * masked, a single address at full length; bytes past the family's
 * length cleared so that equal values compare equal. */
static bool
canon_addr(int family, struct prefix *a, bool subnet)
{
	unsigned int max = prefix_maxlen(family);

	if (a->family != family || a->plen > max)
		return false;
	if (subnet)
		prefix_mask(a);
	else
		a->plen = max;
	memset(a->addr + max / 8, 0, sizeof(a->addr) - max / 8);
	return true;
}

/* The network with this ID.  The search starts at *hint, where the
 * last one was found: endpoints and ports come grouped by network, so a
 * model is checked in linear time. */
static const struct fw_net *
find_net(const struct fw_model *m, const char *id, size_t *hint)
{
	for (size_t k = 0; k < m->nnets; k++) {
		size_t i = (*hint + k) % m->nnets;

		if (strncmp(m->nets[i].id, id, FW_ID_LEN + 1) == 0) {
			*hint = i;
			return &m->nets[i];
		}
	}
	return NULL;
}

/* The accepts alone, per network and family: traffic from and to the
 * bridge, above whatever else DOCKER-USER holds. */
static int
plan_accepts(struct plan *p)
{
	static const int fams[] = { AF_INET, AF_INET6 };
	struct fw_xrule r;
	int e;

	for (size_t f = 0; f < 2; f++)
		for (size_t i = 0; i < p->m->nnets; i++) {
			const struct fw_net *n = &p->m->nets[i];

			if (!(f == 0 ? n->ipv4 : n->ipv6))
				continue;
			rule_init(&r, fams[f], FW_T_FILTER, C_USER, true,
			    FW_ACCEPT);
			set_if(r.iif, n->bridge);
			if ((e = add_rule(p, &r, n->id)) < 0)
				return e;
			rule_init(&r, fams[f], FW_T_FILTER, C_USER, true,
			    FW_ACCEPT);
			set_if(r.oif, n->bridge);
			if ((e = add_rule(p, &r, n->id)) < 0)
				return e;
		}
	return 0;
}

int
fw_model_check(const struct fw_model *m, struct fw_model *ret, char *err,
    size_t errlen)
{
	struct fw_net *nets = NULL;
	struct fw_ep *eps = NULL;
	struct fw_port *ports = NULL;
	struct fw_model cm = *m;
	size_t hint = 0;
	int e = -EINVAL;

	if ((m->nnets && m->nets == NULL) || (m->neps && m->eps == NULL) ||
	    (m->nports && m->ports == NULL)) {
		fw_seterr(err, errlen, "Failed to plan the firewall: a list "
		    "is missing");
		return -EINVAL;
	}
	if ((e = fw_check_nets(m->nets, m->nnets, err, errlen)) < 0)
		return e;
	for (size_t f = 0; f < 2; f++) {
		const struct fw_ifnames *d = f == 0 ? &m->docker4 : &m->docker6;

		if (d->n != 0 && d->v == NULL) {
			fw_seterr(err, errlen, "Failed to plan the firewall: "
			    "a list is missing");
			return -EINVAL;
		}
		for (size_t i = 0; i < d->n; i++)
			if (!fw_valid_ifname(d->v[i])) {
				fw_seterr(err, errlen, "Failed to plan the "
				    "firewall: dockerd's bridge name %zu is "
				    "not valid", i);
				return -EINVAL;
			}
	}
	e = -ENOMEM;
	if ((m->nnets && (nets = calloc(m->nnets, sizeof(*nets))) == NULL) ||
	    (m->neps && (eps = calloc(m->neps, sizeof(*eps))) == NULL) ||
	    (m->nports && (ports = calloc(m->nports, sizeof(*ports))) == NULL))
		goto fail;
	e = -EINVAL;
	for (size_t i = 0; i < m->nnets; i++) {
		struct fw_net *n = &nets[i];

		*n = m->nets[i];
		if ((n->ipv4 && !canon_addr(AF_INET, &n->subnet4, true)) ||
		    (n->ipv6 && !canon_addr(AF_INET6, &n->subnet6, true))) {
			fw_seterr(err, errlen, "Failed to plan the firewall for "
			    "network '%.12s': a subnet is missing or not a "
			    "prefix of its family", n->id);
			goto fail;
		}
		if ((n->snat4.family != 0 && !canon_addr(AF_INET, &n->snat4,
		    false)) || (n->snat6.family != 0 &&
		    !canon_addr(AF_INET6, &n->snat6, false))) {
			fw_seterr(err, errlen, "Failed to plan the firewall for "
			    "network '%.12s': the SNAT source is not an "
			    "address of its family", n->id);
			goto fail;
		}
		if (n->gw4 > FW_GW_ISOLATED || n->gw6 > FW_GW_ISOLATED ||
		    n->ntrusted > FW_MAX_TRUSTED) {
			fw_seterr(err, errlen, "Failed to plan the firewall for "
			    "network '%.12s': bad gateway mode or trusted "
			    "interface list", n->id);
			goto fail;
		}
		for (size_t t = 0; t < n->ntrusted; t++)
			if (!fw_valid_ifname(n->trusted[t])) {
				fw_seterr(err, errlen, "Failed to plan the "
				    "firewall for network '%.12s': trusted "
				    "interface name is not valid", n->id);
				goto fail;
			}
	}
	cm.nets = nets;
	for (size_t i = 0; i < m->neps; i++) {
		struct fw_ep *ep = &eps[i];

		*ep = m->eps[i];
		if (!fw_valid_id(ep->net_id) ||
		    find_net(&cm, ep->net_id, &hint) == NULL ||
		    (ep->addr4.family != 0 && !canon_addr(AF_INET,
		    &ep->addr4, false)) || (ep->addr6.family != 0 &&
		    !canon_addr(AF_INET6, &ep->addr6, false))) {
			fw_seterr(err, errlen, "Failed to plan the firewall: "
			    "endpoint %zu names an unknown network or a bad "
			    "address", i);
			goto fail;
		}
	}
	for (size_t i = 0; i < m->nports; i++) {
		struct fw_port *pt = &ports[i];

		*pt = m->ports[i];
		if (!fw_valid_id(pt->net_id) ||
		    find_net(&cm, pt->net_id, &hint) == NULL || (pt->family != AF_INET && pt->family != AF_INET6) ||
		    (pt->proto != IPPROTO_TCP && pt->proto != IPPROTO_UDP &&
		    pt->proto != IPPROTO_SCTP) || pt->host_port == 0 ||
		    pt->cport == 0 || (pt->host_ip.family != 0 &&
		    !canon_addr(pt->family, &pt->host_ip, false)) ||
		    !canon_addr(pt->family, &pt->cip, false)) {
			fw_seterr(err, errlen, "Failed to plan the firewall: "
			    "published port %zu is malformed (network, family, "
			    "protocol, port or address)", i);
			goto fail;
		}
	}
	*ret = *m;
	ret->nets = nets;
	ret->eps = eps;
	ret->ports = ports;
	return 0;
fail:
	free(nets);
	free(eps);
	free(ports);
	return e;
}

void
fw_model_done(struct fw_model *m)
{
	/* The lists of a checked model are its own copies. */
	free((void *)m->nets);
	free((void *)m->eps);
	free((void *)m->ports);
	m->nets = NULL;
	m->eps = NULL;
	m->ports = NULL;
}

int
fw_rules_compute(const struct fw_model *in, struct fw_ruleset *ret,
    char *err, size_t errlen)
{
	static const int fams[] = { AF_INET, AF_INET6 };
	struct fw_model m;
	size_t hint = 0;
	struct plan p;
	int e;

	if (in == NULL || ret == NULL)
		return -EINVAL;
	memset(ret, 0, sizeof(*ret));
	if ((e = fw_model_check(in, &m, err, errlen)) < 0)
		return e;
	memset(&p, 0, sizeof(p));
	p.rs = ret;
	p.m = &m;
	p.err = err;
	p.errlen = errlen;
	ret->accept_only = m.accept_only;
	if (m.accept_only) {
		e = plan_accepts(&p);
		goto done;
	}

	for (size_t f = 0; f < 2; f++) {
		int fam = fams[f];
		bool any = false;

		for (size_t i = 0; i < m.nnets; i++)
			any |= fam == AF_INET ? m.nets[i].ipv4 : m.nets[i].ipv6;
		if (!any)
			continue;
		if ((e = plan_base(&p, fam)) < 0)
			goto fail;
		for (size_t i = 0; i < m.nnets; i++) {
			const struct fw_net *n = &m.nets[i];

			if (!(fam == AF_INET ? n->ipv4 : n->ipv6))
				continue;
			if ((e = plan_net(&p, fam, n)) < 0)
				goto fail;
		}
		for (size_t i = 0; i < m.nnets; i++) {
			const struct fw_net *n = &m.nets[i];

			if (!(fam == AF_INET ? n->ipv4 : n->ipv6) ||
			    n->internal)
				continue;
			if ((e = plan_iso_jump(&p, fam, n)) < 0)
				goto fail;
		}
		for (size_t i = 0; i < (f == 0 ? m.docker4.n : m.docker6.n);
		    i++) {
			const char *name = f == 0 ? m.docker4.v[i] :
			    m.docker6.v[i];

			if (is_our_bridge(&m, name))
				continue;
			if ((e = plan_docker_bridge(&p, fam, name)) < 0)
				goto fail;
		}
		for (size_t i = 0; i < m.neps; i++) {
			const struct fw_ep *ep = &m.eps[i];
			const struct fw_net *n = find_net(&m, ep->net_id, &hint);
			const struct prefix *a = fam == AF_INET ? &ep->addr4 :
			    &ep->addr6;
			enum fw_gw_mode mode = fam == AF_INET ? n->gw4 : n->gw6;

			if (a->family == 0 || n->internal || mode != FW_GW_NAT ||
			    !(fam == AF_INET ? n->ipv4 : n->ipv6))
				continue;
			if ((e = plan_ep(&p, fam, n, a)) < 0)
				goto fail;
		}
		for (size_t i = 0; i < m.nports; i++) {
			const struct fw_port *pt = &m.ports[i];
			const struct fw_net *n = find_net(&m, pt->net_id, &hint);

			if (pt->family != fam || n->internal ||
			    !(fam == AF_INET ? n->ipv4 : n->ipv6))
				continue;
			if ((e = plan_port(&p, n, pt)) < 0)
				goto fail;
		}
		if ((e = plan_loopback_return(&p, fam)) < 0)
			goto fail;
	}
	e = 0;
done:
	if (e == 0)
		goto out;
fail:
	if (e == -ENOSPC || e == -EINVAL)
		fw_seterr(err, errlen, "Failed to plan the firewall: a rule "
		    "does not fit its fields");
	else
		fw_seterr(err, errlen, "Failed to plan the firewall: out of "
		    "memory");
	fw_ruleset_done(ret);
out:
	free(p.slots);
	fw_model_done(&m);
	return e;
}

void
fw_ruleset_done(struct fw_ruleset *rs)
{
	if (rs == NULL)
		return;
	free(rs->rules);
	free(rs->chains);
	memset(rs, 0, sizeof(*rs));
}

/* A growable string. */
struct sbuf {
	char	*s;
	size_t	n, cap;
};

static int
sb_add(struct sbuf *b, const char *s)
{
	size_t l = strlen(s);

	if (b->n + l + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 1024;
		char *v;

		while (b->n + l + 1 > cap)
			cap *= 2;
		if ((v = realloc(b->s, cap)) == NULL)
			return -ENOMEM;
		b->s = v;
		b->cap = cap;
	}
	memcpy(b->s + b->n, s, l + 1);
	b->n += l;
	return 0;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The rules of one chain, heads first, each group in planned order. */
static int
format_chain(const struct fw_ruleset *rs, int fam, enum fw_table t,
    const char *chain, struct sbuf *b)
{
	char line[600];
	int e;

	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < rs->nrules; i++) {
			const struct fw_xrule *r = &rs->rules[i];

			if (r->family != fam || r->table != t ||
			    strcmp(r->chain, chain) != 0 ||
			    r->head != (pass == 0))
				continue;
			if ((e = fw_xrule_format(r, line, sizeof(line))) < 0 ||
			    (e = sb_add(b, line)) < 0 || (e = sb_add(b, "\n")) < 0)
				return e;
		}
	return 0;
}

int
fw_ruleset_format(const struct fw_ruleset *rs, char **ret)
{
	static const int fams[] = { AF_INET, AF_INET6 };
	static const enum fw_table order[] = { FW_T_RAW, FW_T_NAT, FW_T_FILTER };
	struct sbuf b = { 0 };
	const char **names = NULL;
	int e = -ENOMEM;

	if (rs->nchains && (names = calloc(rs->nchains, sizeof(*names))) == NULL)
		return -ENOMEM;
	if ((e = sb_add(&b, "")) < 0)
		goto fail;
	for (size_t f = 0; f < 2; f++)
		for (size_t ti = 0; ti < 3; ti++) {
			enum fw_table t = order[ti];
			int fam = fams[f];
			size_t nn = 0, nr = 0;
			char hdr[64];

			for (size_t i = 0; i < rs->nrules; i++)
				nr += rs->rules[i].family == fam &&
				    rs->rules[i].table == t;
			for (size_t i = 0; i < rs->nchains; i++)
				if (rs->chains[i].family == fam &&
				    rs->chains[i].table == t)
					names[nn++] = rs->chains[i].name;
			if (nn == 0 && nr == 0)
				continue;
			if (nn > 1)
				qsort(names, nn, sizeof(*names), cmp_str);
			snprintf(hdr, sizeof(hdr), "*ipv%d %s\n",
			    fam == AF_INET ? 4 : 6, fw_table_name(t));
			if ((e = sb_add(&b, hdr)) < 0)
				goto fail;
			for (size_t i = 0; i < nn; i++)
				if ((e = sb_add(&b, ":")) < 0 ||
				    (e = sb_add(&b, names[i])) < 0 ||
				    (e = sb_add(&b, "\n")) < 0)
					goto fail;
			for (size_t i = 0; i < 5 && builtins[t][i] != NULL; i++)
				if ((e = format_chain(rs, fam, t, builtins[t][i],
				    &b)) < 0)
					goto fail;
			for (size_t i = 0; i < nn; i++)
				if ((e = format_chain(rs, fam, t, names[i],
				    &b)) < 0)
					goto fail;
			if ((e = sb_add(&b, "COMMIT\n")) < 0)
				goto fail;
		}
	free(names);
	*ret = b.s;
	return 0;
fail:
	free(names);
	free(b.s);
	return e;
}
