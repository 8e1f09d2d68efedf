/*
 * libiptc backend: applies the planned rule set (firewall/rules.c) to the
 * legacy iptables tables of the caller's network namespace.
 *
 * Per family and table: read the table, make the chains the plan needs,
 * and in every chain compare the sequence of cbridge's rules (told apart
 * by their comment, which also carries a hash of the rule) with the plan.
 * Where they differ, cbridge's rules of that chain are deleted and the
 * planned ones inserted (heads at the top, the rest appended); rules of
 * others are never touched and no chain is flushed.  A chain is deleted
 * only when cbridge created it, just removed its last rule or the last
 * jump to it, and nothing else is left in or pointing at it.  One commit per
 * table, only when something changed, under the xtables lock.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>

#include <libiptc/libiptc.h>
#include <libiptc/libip6tc.h>
#include <linux/netfilter/nf_nat.h>
#include <linux/netfilter/xt_addrtype.h>
#include <linux/netfilter/xt_comment.h>
#include <linux/netfilter/xt_conntrack.h>
#include <linux/netfilter/xt_sctp.h>
#include <linux/netfilter/xt_tcpudp.h>

#include "firewall/common.h"
#include "firewall/firewall.h"

#define LOCK_WAIT_MS	10000

/* A chain cbridge created (and so may delete once it is done with it). */
struct owned {
	int		family;
	enum fw_table	table;
	char		name[FW_CHAINLEN];
};

struct fw_iptc {
	struct fw	fw;		/* first: the ops table */
	char		lock_path[PATH_MAX];
	/* The chains cbridge created, kept in chains_path (one "4 filter
	 * NAME" line each) so that a restart still knows them: a Docker-
	 * named chain that someone else made, dockerd on a legacy host
	 * above all, is never deleted, even when empty. */
	char		chains_path[PATH_MAX];	/* "": memory only */
	struct owned	*owned;
	size_t		nowned;
	bool		owned_dirty;
	/* Per family and table, the hash of the plan the table was last
	 * read or committed to match (0: unknown).  A sync without verify
	 * leaves such a table unread; the periodic check reads them all, so
	 * a table someone changed meanwhile is still repaired by the next
	 * check. */
	uint64_t	confirmed[2][FW_T_MAX];
};

/* The two libiptc flavours behind one table of calls. */
struct tc {
	int		family;
	size_t		entry_size;	/* sizeof(struct ipt_entry) etc. */
	struct xtc_handle *(*init)(const char *table);
	void		(*free)(struct xtc_handle *h);
	int		(*is_chain)(const char *c, struct xtc_handle *h);
	int		(*create_chain)(const char *c, struct xtc_handle *h);
	int		(*delete_chain)(const char *c, struct xtc_handle *h);
	const char	*(*first_chain)(struct xtc_handle *h);
	const char	*(*next_chain)(struct xtc_handle *h);
	const void	*(*first_rule)(const char *c, struct xtc_handle *h);
	const void	*(*next_rule)(const void *prev, struct xtc_handle *h);
	int		(*insert)(const char *c, const void *e, unsigned int n,
			    struct xtc_handle *h);
	int		(*append)(const char *c, const void *e,
			    struct xtc_handle *h);
	int		(*delete_num)(const char *c, unsigned int n,
			    struct xtc_handle *h);
	int		(*refs)(unsigned int *ref, const char *c,
			    struct xtc_handle *h);
	int		(*set_policy)(const char *c, const char *policy,
			    struct xtc_handle *h);
	int		(*commit)(struct xtc_handle *h);
	const char	*(*strerror)(int err);
	const char	*(*target)(const void *e, struct xtc_handle *h);
	/* The input interface of an entry, "" for any or a negated one. */
	const char	*(*iniface)(const void *e);
};

/* Thin adapters: libiptc's prototypes differ only in the entry type. */
#define ADAPT(our, p, entry)							\
static const void *							\
our##_first_rule(const char *c, struct xtc_handle *h)			\
{									\
	return p##_first_rule(c, h);					\
}									\
static const void *							\
our##_next_rule(const void *prev, struct xtc_handle *h)		\
{									\
	return p##_next_rule(prev, h);					\
}									\
static int								\
our##_insert(const char *c, const void *e, unsigned int n,		\
    struct xtc_handle *h)						\
{									\
	return p##_insert_entry(c, (const struct entry *)e, n, h);	\
}									\
static int								\
our##_append(const char *c, const void *e, struct xtc_handle *h)	\
{									\
	return p##_append_entry(c, (const struct entry *)e, h);		\
}									\
static int								\
our##_create(const char *c, struct xtc_handle *h)			\
{									\
	return p##_create_chain(c, h);					\
}									\
static int								\
our##_delete_chain(const char *c, struct xtc_handle *h)		\
{									\
	return p##_delete_chain(c, h);					\
}									\
static int								\
our##_delete_num(const char *c, unsigned int n, struct xtc_handle *h)	\
{									\
	return p##_delete_num_entry(c, n, h);				\
}									\
static int								\
our##_refs(unsigned int *ref, const char *c, struct xtc_handle *h)	\
{									\
	return p##_get_references(ref, c, h);				\
}									\
static int								\
our##_policy(const char *c, const char *policy, struct xtc_handle *h)	\
{									\
	return p##_set_policy(c, policy, NULL, h);			\
}									\
static const char *							\
our##_target(const void *e, struct xtc_handle *h)			\
{									\
	return p##_get_target((const struct entry *)e, h);		\
}

ADAPT(tc4, iptc, ipt_entry)
ADAPT(tc6, ip6tc, ip6t_entry)

static const char *
tc4_iniface(const void *e)
{
	const struct ipt_entry *x = e;

	return (x->ip.invflags & IPT_INV_VIA_IN) ? "" : x->ip.iniface;
}

static const char *
tc6_iniface(const void *e)
{
	const struct ip6t_entry *x = e;

	return (x->ipv6.invflags & IP6T_INV_VIA_IN) ? "" : x->ipv6.iniface;
}

static const struct tc tc4 = {
	.family = AF_INET, .entry_size = sizeof(struct ipt_entry),
	.init = iptc_init, .free = iptc_free, .is_chain = iptc_is_chain,
	.create_chain = tc4_create, .delete_chain = tc4_delete_chain,
	.first_chain = iptc_first_chain, .next_chain = iptc_next_chain,
	.first_rule = tc4_first_rule, .next_rule = tc4_next_rule,
	.insert = tc4_insert, .append = tc4_append,
	.delete_num = tc4_delete_num, .refs = tc4_refs,
	.set_policy = tc4_policy, .commit = iptc_commit,
	.strerror = iptc_strerror, .target = tc4_target,
	.iniface = tc4_iniface,
};

static const struct tc tc6 = {
	.family = AF_INET6, .entry_size = sizeof(struct ip6t_entry),
	.init = ip6tc_init, .free = ip6tc_free, .is_chain = ip6tc_is_chain,
	.create_chain = tc6_create, .delete_chain = tc6_delete_chain,
	.first_chain = ip6tc_first_chain, .next_chain = ip6tc_next_chain,
	.first_rule = tc6_first_rule, .next_rule = tc6_next_rule,
	.insert = tc6_insert, .append = tc6_append,
	.delete_num = tc6_delete_num, .refs = tc6_refs,
	.set_policy = tc6_policy, .commit = ip6tc_commit,
	.strerror = ip6tc_strerror, .target = tc6_target,
	.iniface = tc6_iniface,
};

static const struct tc *
tc_for(int family)
{
	return family == AF_INET ? &tc4 : &tc6;
}

/*
 * Building entries.
 */

/* A growable, zeroed byte buffer for one entry. */
struct ebuf {
	unsigned char	*p;
	size_t		n, cap;
};

/* Reserves size zeroed bytes (XT_ALIGN'ed); NULL on out of memory. */
static void *
eb_take(struct ebuf *b, size_t size)
{
	size = XT_ALIGN(size);
	if (b->n + size > b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 512;
		unsigned char *v;

		while (cap < b->n + size)
			cap *= 2;
		if ((v = realloc(b->p, cap)) == NULL)
			return NULL;
		memset(v + b->cap, 0, cap - b->cap);
		b->p = v;
		b->cap = cap;
	}
	b->n += size;
	return b->p + b->n - size;
}

/* Adds a match of name/revision with datalen bytes of data; returns
 * its data (zeroed) or NULL. */
static void *
add_match(struct ebuf *b, const char *name, unsigned char rev,
    size_t datalen)
{
	size_t size = XT_ALIGN(sizeof(struct xt_entry_match) + datalen);
	struct xt_entry_match *m = eb_take(b, size);

	if (m == NULL)
		return NULL;
	m->u.user.match_size = (uint16_t)size;
	snprintf(m->u.user.name, sizeof(m->u.user.name), "%s", name);
	m->u.user.revision = rev;
	return m->data;
}

static void *
add_target(struct ebuf *b, const char *name, unsigned char rev,
    size_t datalen)
{
	size_t size = XT_ALIGN(sizeof(struct xt_entry_target) + datalen);
	struct xt_entry_target *t = eb_take(b, size);

	if (t == NULL)
		return NULL;
	t->u.user.target_size = (uint16_t)size;
	snprintf(t->u.user.name, sizeof(t->u.user.name), "%s", name);
	t->u.user.revision = rev;
	return t->data;
}

/* A planned address into libiptc's address and mask bytes; the planner
 * gives masked prefixes of the rule's family. */
static int
set_addr(int family, const struct prefix *p, void *addr, void *mask)
{
	unsigned int max = prefix_maxlen(family);
	unsigned char *m = mask;

	if (p->family != family || p->plen > max)
		return -EINVAL;
	memcpy(addr, p->addr, max / 8);
	memset(mask, 0, max / 8);
	for (unsigned int i = 0; i < p->plen; i++)
		m[i / 8] |= (unsigned char)(0x80 >> (i % 8));
	return 0;
}

static void
set_iface(char *name, unsigned char *mask, const char *ifname)
{
	size_t n = strlen(ifname);

	memcpy(name, ifname, n + 1);
	/* An exact name: the mask covers the terminating NUL too. */
	memset(mask, 0xff, n + 1);
}

static int
add_nat_target(struct ebuf *b, const struct fw_xrule *r)
{
	const char *name = r->target == FW_MASQUERADE ? "MASQUERADE" :
	    r->target == FW_SNAT ? "SNAT" : "DNAT";
	union nf_inet_addr a;
	uint16_t port = 0;

	memset(&a, 0, sizeof(a));
	if (r->target == FW_SNAT || r->target == FW_DNAT) {
		if (r->to.family != r->family)
			return -EINVAL;
		memcpy(&a, r->to.addr, prefix_maxlen(r->family) / 8);
		port = htons(r->to_port);
	}
	if (r->target == FW_DNAT && r->to_port == 0)
		return -EINVAL;
	if (r->target == FW_DNAT) {
		/* Revision 2: what iptables 1.8 writes and can print back. */
		struct nf_nat_range2 *nr;

		if ((nr = add_target(b, name, 2, sizeof(*nr))) == NULL)
			return -ENOMEM;
		nr->flags = NF_NAT_RANGE_MAP_IPS | NF_NAT_RANGE_PROTO_SPECIFIED;
		nr->min_addr = nr->max_addr = a;
		nr->min_proto.all = nr->max_proto.all = port;
	} else if (r->family == AF_INET) {
		/* Revision 0, which every kernel with legacy NAT has. */
		struct nf_nat_ipv4_multi_range_compat *mr;

		if ((mr = add_target(b, name, 0, sizeof(*mr))) == NULL)
			return -ENOMEM;
		mr->rangesize = 1;
		if (r->target == FW_SNAT) {
			mr->range[0].flags = NF_NAT_RANGE_MAP_IPS;
			mr->range[0].min_ip = mr->range[0].max_ip = a.ip;
		}
	} else {
		struct nf_nat_range *nr;

		if ((nr = add_target(b, name, r->target == FW_MASQUERADE ? 0 : 1,
		    sizeof(*nr))) == NULL)
			return -ENOMEM;
		if (r->target == FW_SNAT) {
			nr->flags = NF_NAT_RANGE_MAP_IPS;
			nr->min_addr = nr->max_addr = a;
		}
	}
	return 0;
}

static int
add_matches(struct ebuf *b, const struct fw_xrule *r)
{
	if (r->dport != 0 && r->proto == IPPROTO_TCP) {
		struct xt_tcp *t = add_match(b, "tcp", 0, sizeof(*t));

		if (t == NULL)
			return -ENOMEM;
		t->spts[1] = 0xffff;
		t->dpts[0] = t->dpts[1] = r->dport;
	} else if (r->dport != 0 && r->proto == IPPROTO_UDP) {
		struct xt_udp *u = add_match(b, "udp", 0, sizeof(*u));

		if (u == NULL)
			return -ENOMEM;
		u->spts[1] = 0xffff;
		u->dpts[0] = u->dpts[1] = r->dport;
	} else if (r->dport != 0 && r->proto == IPPROTO_SCTP) {
		struct xt_sctp_info *s = add_match(b, "sctp", 0, sizeof(*s));

		if (s == NULL)
			return -ENOMEM;
		s->spts[1] = 0xffff;
		s->dpts[0] = s->dpts[1] = r->dport;
		s->flags = XT_SCTP_DEST_PORTS;
	} else if (r->dport != 0) {
		return -EINVAL;
	}
	if (r->src_local || r->dst_local) {
		struct xt_addrtype_info_v1 *a;

		if ((a = add_match(b, "addrtype", 1, sizeof(*a))) == NULL)
			return -ENOMEM;
		a->source = r->src_local ? XT_ADDRTYPE_LOCAL : 0;
		a->dest = r->dst_local ? XT_ADDRTYPE_LOCAL : 0;
	}
	if (r->ct_established || r->ct_dnat) {
		struct xt_conntrack_mtinfo3 *c;

		if ((c = add_match(b, "conntrack", 3, sizeof(*c))) == NULL)
			return -ENOMEM;
		c->match_flags = XT_CONNTRACK_STATE;
		c->state_mask = r->ct_dnat ? XT_CONNTRACK_STATE_DNAT :
		    XT_CONNTRACK_STATE_BIT(IP_CT_RELATED) |
		    XT_CONNTRACK_STATE_BIT(IP_CT_ESTABLISHED);
	}
	{
		struct xt_comment_info *c = add_match(b, "comment", 0,
		    sizeof(*c));

		if (c == NULL)
			return -ENOMEM;
		snprintf(c->comment, sizeof(c->comment), "%s", r->comment);
	}
	return 0;
}

/* The ipt_entry / ip6t_entry for r, malloc'ed into *ret. */
static int
build_entry(const struct fw_xrule *r, void **ret)
{
	struct ebuf b = { 0 };
	size_t toff;
	int e = -ENOMEM;
	const char *verdict = NULL;

	if (eb_take(&b, tc_for(r->family)->entry_size) == NULL)
		goto fail;
	if (r->family == AF_INET) {
		struct ipt_ip *ip = &((struct ipt_entry *)b.p)->ip;

		e = -EINVAL;
		if ((r->src.family && set_addr(AF_INET, &r->src, &ip->src,
		    &ip->smsk) < 0) || (r->dst.family && set_addr(AF_INET,
		    &r->dst, &ip->dst, &ip->dmsk) < 0))
			goto fail;
		if (r->iif[0])
			set_iface(ip->iniface, ip->iniface_mask, r->iif);
		if (r->oif[0])
			set_iface(ip->outiface, ip->outiface_mask, r->oif);
		ip->proto = (uint16_t)r->proto;
		ip->invflags = (r->src_inv ? IPT_INV_SRCIP : 0) |
		    (r->dst_inv ? IPT_INV_DSTIP : 0) |
		    (r->iif_inv ? IPT_INV_VIA_IN : 0) |
		    (r->oif_inv ? IPT_INV_VIA_OUT : 0);
	} else {
		struct ip6t_ip6 *ip = &((struct ip6t_entry *)b.p)->ipv6;

		e = -EINVAL;
		if ((r->src.family && set_addr(AF_INET6, &r->src, &ip->src,
		    &ip->smsk) < 0) || (r->dst.family && set_addr(AF_INET6,
		    &r->dst, &ip->dst, &ip->dmsk) < 0))
			goto fail;
		if (r->iif[0])
			set_iface(ip->iniface, ip->iniface_mask, r->iif);
		if (r->oif[0])
			set_iface(ip->outiface, ip->outiface_mask, r->oif);
		ip->proto = (uint16_t)r->proto;
		if (r->proto != 0)
			ip->flags |= IP6T_F_PROTO;
		ip->invflags = (r->src_inv ? IP6T_INV_SRCIP : 0) |
		    (r->dst_inv ? IP6T_INV_DSTIP : 0) |
		    (r->iif_inv ? IP6T_INV_VIA_IN : 0) |
		    (r->oif_inv ? IP6T_INV_VIA_OUT : 0);
	}
	if ((e = add_matches(&b, r)) < 0)
		goto fail;
	toff = b.n;
	switch (r->target) {
	case FW_ACCEPT:	verdict = IPTC_LABEL_ACCEPT; break;
	case FW_DROP:	verdict = IPTC_LABEL_DROP; break;
	case FW_RETURN:	verdict = IPTC_LABEL_RETURN; break;
	case FW_JUMP:	verdict = r->jump; break;
	default:	break;
	}
	if (verdict != NULL) {
		/* libiptc maps the label to a verdict or a jump. */
		if (add_target(&b, verdict, 0, sizeof(int)) == NULL) {
			e = -ENOMEM;
			goto fail;
		}
	} else if ((e = add_nat_target(&b, r)) < 0) {
		goto fail;
	}
	/* The entry header moved with every realloc: fill it last. */
	if (r->family == AF_INET) {
		struct ipt_entry *en = (struct ipt_entry *)b.p;

		en->target_offset = (uint16_t)toff;
		en->next_offset = (uint16_t)b.n;
	} else {
		struct ip6t_entry *en = (struct ip6t_entry *)b.p;

		en->target_offset = (uint16_t)toff;
		en->next_offset = (uint16_t)b.n;
	}
	*ret = b.p;
	return 0;
fail:
	free(b.p);
	return e;
}

/*
 * Reading what is there.
 */

/* The comment of entry e when it is one of cbridge's, else NULL. */
static const char *
our_comment(const struct tc *t, const void *entry)
{
	const unsigned char *base = entry;
	uint16_t toff, off;

	if (t->family == AF_INET)
		toff = ((const struct ipt_entry *)entry)->target_offset;
	else
		toff = ((const struct ip6t_entry *)entry)->target_offset;
	for (off = (uint16_t)t->entry_size; off < toff;) {
		const struct xt_entry_match *m = (const void *)(base + off);

		if (m->u.match_size < sizeof(*m))
			return NULL;
		if (strcmp(m->u.user.name, "comment") == 0) {
			const struct xt_comment_info *c = (const void *)m->data;

			if (memchr(c->comment, '\0', sizeof(c->comment)) &&
			    strncmp(c->comment, FW_COMMENT_PREFIX,
			    strlen(FW_COMMENT_PREFIX)) == 0)
				return c->comment;
			return NULL;
		}
		off = (uint16_t)(off + m->u.match_size);
	}
	return NULL;
}

/* The comments of cbridge's rules in a chain, in order, with their
 * 0-based positions. */
struct found {
	char		(*comments)[FW_COMMENTLEN];
	unsigned int	*pos;
	size_t		n, cap;
};

static int
scan_chain(const struct tc *t, struct xtc_handle *h, const char *chain,
    struct found *f, unsigned int *nrules)
{
	unsigned int i = 0;

	f->n = 0;
	for (const void *e = t->first_rule(chain, h); e != NULL;
	    e = t->next_rule(e, h), i++) {
		const char *c = our_comment(t, e);

		if (c == NULL)
			continue;
		if (f->n == f->cap) {
			size_t cap = f->cap ? 2 * f->cap : 32;
			void *a = realloc(f->comments, cap * FW_COMMENTLEN);
			void *p;

			if (a == NULL)
				return -ENOMEM;
			f->comments = a;
			if ((p = realloc(f->pos, cap * sizeof(*f->pos))) == NULL)
				return -ENOMEM;
			f->pos = p;
			f->cap = cap;
		}
		{
			/* A longer "cbridge:" comment is none cbridge plans:
			 * kept empty, it never matches and the rule goes. */
			size_t l = strnlen(c, FW_COMMENTLEN);

			if (l >= FW_COMMENTLEN)
				l = 0;
			memcpy(f->comments[f->n], c, l);
			f->comments[f->n][l] = '\0';
		}
		f->pos[f->n++] = i;
	}
	*nrules = i;
	return 0;
}

/*
 * Applying.
 */

static int
lock_xtables(const char *path, char *err, size_t errlen)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	int fd, waited = 0;

	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0) {
		int e = errno;

		fw_seterr(err, errlen, "Failed to open the xtables lock %s: %s",
		    path, strerror(e));
		return -e;
	}
	/* Shared with iptables, dockerd and firewalld: a commit replaces the
	 * whole table, so an unlocked read-modify-write would race them. */
	while (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int e = errno;

		if (e != EWOULDBLOCK || waited >= LOCK_WAIT_MS) {
			close(fd);
			fw_seterr(err, errlen, "Failed to take the xtables lock "
			    "%s: %s", path, e == EWOULDBLOCK ?
			    "another program held it for 10 s" : strerror(e));
			return e == EWOULDBLOCK ? -ETIMEDOUT : -e;
		}
		nanosleep(&ts, NULL);
		waited += 10;
	}
	return fd;
}

/* The planned rules of one chain, heads first. */
static size_t
planned(const struct fw_ruleset *rs, int family, enum fw_table table,
    const char *chain, const struct fw_xrule **out)
{
	size_t n = 0;

	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < rs->nrules; i++) {
			const struct fw_xrule *r = &rs->rules[i];

			if (r->family == family && r->table == table &&
			    r->head == (pass == 0) &&
			    strcmp(r->chain, chain) == 0)
				out[n++] = r;
		}
	return n;
}

/* A list of chain names (a table has few). */
struct names {
	char	(*v)[FW_CHAINLEN];
	size_t	n, cap;
};

static int
names_add(struct names *l, const char *name)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i], name) == 0)
			return 0;
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 16;
		void *v = realloc(l->v, cap * FW_CHAINLEN);

		if (v == NULL)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	snprintf(l->v[l->n++], FW_CHAINLEN, "%s", name);
	return 0;
}

static bool
owned(const struct fw_iptc *fi, int family, enum fw_table table,
    const char *name)
{
	for (size_t i = 0; i < fi->nowned; i++)
		if (fi->owned[i].family == family && fi->owned[i].table == table &&
		    strcmp(fi->owned[i].name, name) == 0)
			return true;
	return false;
}

/* Adds (yes) or removes a chain from the owned set; the file is written
 * after the commit (save_owned). */
static int
own(struct fw_iptc *fi, int family, enum fw_table table, const char *name,
    bool yes)
{
	if (yes == owned(fi, family, table, name))
		return 0;
	if (yes) {
		struct owned *v = realloc(fi->owned,
		    (fi->nowned + 1) * sizeof(*v));

		if (v == NULL)
			return -ENOMEM;
		fi->owned = v;
		v[fi->nowned] = (struct owned){ .family = family,
		    .table = table };
		snprintf(v[fi->nowned].name, FW_CHAINLEN, "%s", name);
		fi->nowned++;
	} else {
		for (size_t i = 0; i < fi->nowned; i++)
			if (fi->owned[i].family == family &&
			    fi->owned[i].table == table &&
			    strcmp(fi->owned[i].name, name) == 0) {
				fi->owned[i] = fi->owned[--fi->nowned];
				break;
			}
	}
	fi->owned_dirty = true;
	return 0;
}

/* Writes the owned set atomically (temp file, fsync, rename). */
static int
save_owned(struct fw_iptc *fi, char *err, size_t errlen)
{
	char tmp[PATH_MAX + 8];
	FILE *f;
	int e = 0;

	if (!fi->owned_dirty || fi->chains_path[0] == '\0')
		return 0;
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", fi->chains_path) >=
	    (int)sizeof(tmp) || (f = fopen(tmp, "we")) == NULL) {
		e = errno ? errno : ENAMETOOLONG;
		goto fail;
	}
	for (size_t i = 0; i < fi->nowned; i++)
		fprintf(f, "%d %s %s\n", fi->owned[i].family == AF_INET ? 4 : 6,
		    fw_table_name(fi->owned[i].table), fi->owned[i].name);
	if (fflush(f) != 0 || fsync(fileno(f)) != 0)
		e = errno;
	if (fclose(f) != 0 && e == 0)
		e = errno;
	if (e == 0 && rename(tmp, fi->chains_path) != 0)
		e = errno;
	if (e != 0) {
		(void) unlink(tmp);
		goto fail;
	}
	fi->owned_dirty = false;
	return 0;
fail:
	fw_seterr(err, errlen, "Failed to record the chains cbridge created "
	    "in %s: %s", fi->chains_path, strerror(e));
	return -e;
}

/* Reads the owned set; a missing file is an empty set, a line that is
 * not one of Docker's chains is ignored (never deleted later). */
static void
load_owned(struct fw_iptc *fi)
{
	char line[128], tname[16], name[64];
	FILE *f;
	int fam;

	if (fi->chains_path[0] == '\0' ||
	    (f = fopen(fi->chains_path, "re")) == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL) {
		enum fw_table t;

		if (sscanf(line, "%d %15s %63s", &fam, tname, name) != 3 ||
		    (fam != 4 && fam != 6) || !fw_is_docker_chain(name))
			continue;
		for (t = 0; t < FW_T_MAX; t++)
			if (strcmp(fw_table_name(t), tname) == 0)
				break;
		if (t < FW_T_MAX)
			(void) own(fi, fam == 4 ? AF_INET : AF_INET6, t, name,
			    true);
	}
	fclose(f);
	fi->owned_dirty = false;
}

/* Whether the namespace has the table (/proc/net/ip_tables_names lists
 * those in use); when it cannot tell, it says yes. */
static bool
table_loaded(const struct tc *t, const char *tname)
{
	char line[64];
	bool found = false;
	FILE *f = fopen(t->family == AF_INET ? "/proc/net/ip_tables_names" :
	    "/proc/net/ip6_tables_names", "re");

	if (f == NULL)
		return errno != ENOENT;
	while (!found && fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		found = strcmp(line, tname) == 0;
	}
	fclose(f);
	return found;
}

#define TC_FAIL(what, name) do {					\
		int e_ = errno ? errno : EIO;				\
		fw_seterr(err, errlen, "Failed to %s %s in the %s table "	\
		    "(ip%stables legacy): %s", what, name, tname,	\
		    t->family == AF_INET ? "" : "6", t->strerror(e_));	\
		r = -e_;						\
		goto out;						\
	} while (0)

/* Brings one table in line with rs: 1 if it committed, 0 if nothing
 * changed, -errno. */
static int
sync_table(struct fw_iptc *fi, const struct tc *t, enum fw_table table,
    const struct fw_ruleset *rs, char *err, size_t errlen)
{
	const char *tname = fw_table_name(table);
	struct xtc_handle *h = NULL;
	struct names chains = { 0 }, touched = { 0 };
	struct found f = { 0 };
	const struct fw_xrule **want = NULL;
	bool wanted = false, changed = false;
	int r = 0;

	for (size_t i = 0; i < rs->nrules && !wanted; i++)
		wanted = rs->rules[i].family == t->family &&
		    rs->rules[i].table == table;
	/* Opening a table that is not there yet would create it; the
	 * accepts alone go only into a dockerd's table that exists. */
	if ((!wanted || rs->accept_only) && !table_loaded(t, tname))
		return 0;
	errno = 0;
	if ((h = t->init(tname)) == NULL) {
		/* No table means none of our rules can be in it. */
		if (!wanted)
			return 0;
		TC_FAIL("open", "the table");
	}
	for (size_t i = 0; i < rs->nchains; i++) {
		const struct fw_xchain *c = &rs->chains[i];

		if (c->family != t->family || c->table != table ||
		    t->is_chain(c->name, h))
			continue;
		errno = 0;
		if (!t->create_chain(c->name, h))
			TC_FAIL("create chain", c->name);
		if ((r = own(fi, t->family, table, c->name, true)) < 0)
			goto out;
		changed = true;
	}
	for (const char *c = t->first_chain(h); c != NULL; c = t->next_chain(h))
		if ((r = names_add(&chains, c)) < 0)
			goto out;
	if (rs->nrules && (want = calloc(rs->nrules, sizeof(*want))) == NULL) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t ci = 0; ci < chains.n; ci++) {
		const char *chain = chains.v[ci];
		size_t nw = rs->nrules ? planned(rs, t->family, table, chain,
		    want) : 0, nh = 0;
		unsigned int nrules;
		bool same;

		if ((r = scan_chain(t, h, chain, &f, &nrules)) < 0)
			goto out;
		same = f.n == nw;
		for (size_t i = 0; same && i < nw; i++)
			same = strcmp(f.comments[i], want[i]->comment) == 0;
		if (same)
			continue;
		/* Ours go, from the bottom up so positions hold. */
		for (size_t i = f.n; i-- > 0;) {
			errno = 0;
			if (!t->delete_num(chain, f.pos[i], h))
				TC_FAIL("delete a rule from", chain);
		}
		if (f.n != 0 && (r = names_add(&touched, chain)) < 0)
			goto out;
		for (size_t i = 0; i < nw; i++) {
			void *entry = NULL;

			if ((r = build_entry(want[i], &entry)) < 0) {
				fw_seterr(err, errlen, "Failed to build rule "
				    "'%s' for the %s table", want[i]->comment,
				    tname);
				goto out;
			}
			errno = 0;
			if (want[i]->head)
				r = t->insert(chain, entry, (unsigned int)nh++,
				    h) ? 0 : -1;
			else
				r = t->append(chain, entry, h) ? 0 : -1;
			free(entry);
			if (r < 0)
				TC_FAIL("add a rule to", chain);
		}
		changed = true;
	}
	/* Docker chains left empty and unreferenced once our rules went (a
	 * removed jump may have been a chain's last reference, and the
	 * comment does not say which chain, so every Docker chain of the
	 * table is a candidate). */
	if (touched.n != 0)
		for (size_t ci = 0; ci < chains.n; ci++) {
			const char *chain = chains.v[ci];
			unsigned int refs = 1;
			bool keep = false;

			if (!fw_is_docker_chain(chain) ||
			    !owned(fi, t->family, table, chain))
				continue;
			for (size_t i = 0; i < rs->nchains && !keep; i++)
				keep = rs->chains[i].family == t->family &&
				    rs->chains[i].table == table &&
				    strcmp(rs->chains[i].name, chain) == 0;
			if (keep || t->first_rule(chain, h) != NULL ||
			    !t->refs(&refs, chain, h) || refs != 0)
				continue;
			errno = 0;
			if (!t->delete_chain(chain, h))
				TC_FAIL("delete chain", chain);
			(void) own(fi, t->family, table, chain, false);
			changed = true;
		}
	if (changed) {
		errno = 0;
		if (!t->commit(h))
			TC_FAIL("commit", "the rules");
	}
	r = changed ? 1 : 0;
out:
	if (h != NULL)
		t->free(h);
	free(want);
	free(chains.v);
	free(touched.v);
	free(f.comments);
	free(f.pos);
	return r;
}

int
fw_iptc_docker_bridges(struct fw *f, struct fw_ifnames *ret4,
    struct fw_ifnames *ret6, char *err, size_t errlen)
{
	const char *iso1 = "DOCKER-ISOLATION-STAGE-1";
	const char *iso2 = "DOCKER-ISOLATION-STAGE-2";
	int r = 0, lock = -1;

	for (int fi = 0; fi < 2 && r == 0; fi++) {
		const struct tc *t = fi == 0 ? &tc4 : &tc6;
		struct fw_ifnames *names = fi == 0 ? ret4 : ret6;
		struct xtc_handle *h;

		if (!table_loaded(t, "filter"))
			continue;
		if (lock < 0 && (lock = lock_xtables(((struct fw_iptc *)f)->
		    lock_path, err, errlen)) < 0)
			return lock;
		if ((h = t->init("filter")) == NULL)
			continue;
		if (t->is_chain(iso1, h))
			for (const void *e = t->first_rule(iso1, h); e != NULL &&
			    r == 0; e = t->next_rule(e, h)) {
				const char *tg = t->target(e, h);
				const char *in = t->iniface(e);

				if (our_comment(t, e) != NULL || tg == NULL ||
				    strcmp(tg, iso2) != 0 || in[0] == '\0')
					continue;
				r = fw_ifnames_add(names, in);
			}
		t->free(h);
	}
	if (lock >= 0)
		close(lock);
	if (r < 0)
		fw_seterr(err, errlen, "Failed to read dockerd's legacy "
		    "isolation chain: out of memory");
	return r;
}

static struct fw_iptc *
to_iptc(struct fw *f)
{
	return (struct fw_iptc *)f;
}

static uint64_t
fnv64(uint64_t h, const char *s)
{
	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ull;
	}
	/* A separator, so that "ab","c" and "a","bc" differ. */
	return (h ^ 0xff) * 1099511628211ull;
}

/* What sync_table compares for one table: its chains, and per rule the
 * chain, the place and the comment (which hashes the rule itself).
 * Never 0. */
static uint64_t
plan_hash(const struct fw_ruleset *rs, int family, enum fw_table t)
{
	uint64_t h = 14695981039346656037ull;

	for (size_t i = 0; i < rs->nchains; i++)
		if (rs->chains[i].family == family && rs->chains[i].table == t)
			h = fnv64(h, rs->chains[i].name);
	for (size_t i = 0; i < rs->nrules; i++) {
		const struct fw_xrule *r = &rs->rules[i];

		if (r->family != family || r->table != t)
			continue;
		h = fnv64(fnv64(fnv64(h, r->chain), r->head ? "h" : "t"),
		    r->comment);
	}
	return h | 1;
}

static int
fw_iptc_sync(struct fw *f, const struct fw_model *m, char *err, size_t errlen)
{
	static const enum fw_table tables[] = { FW_T_RAW, FW_T_NAT,
	    FW_T_FILTER };
	struct fw_iptc *ipt = to_iptc(f);
	struct fw_ruleset rs;
	uint64_t want[2][FW_T_MAX];
	bool any = false;
	int r, lock;

	if ((r = fw_rules_compute(m, &rs, err, errlen)) < 0)
		return r;
	for (int fi = 0; fi < 2; fi++)
		for (size_t ti = 0; ti < 3; ti++) {
			enum fw_table t = tables[ti];

			want[fi][t] = plan_hash(&rs, fi == 0 ? AF_INET : AF_INET6,
			    t);
			any |= m->verify || want[fi][t] != ipt->confirmed[fi][t];
		}
	/* Nothing to read: not even the lock. */
	if (!any) {
		fw_ruleset_done(&rs);
		return 0;
	}
	if ((lock = lock_xtables(ipt->lock_path, err, errlen)) < 0) {
		fw_ruleset_done(&rs);
		return lock;
	}
	r = 0;
	for (int fi = 0; fi < 2 && r >= 0; fi++)
		for (size_t ti = 0; ti < 3 && r >= 0; ti++) {
			enum fw_table t = tables[ti];

			if (!m->verify && want[fi][t] == ipt->confirmed[fi][t])
				continue;
			/* Unknown until this table is through. */
			ipt->confirmed[fi][t] = 0;
			r = sync_table(ipt, fi == 0 ? &tc4 : &tc6, t, &rs, err,
			    errlen);
			if (r >= 0)
				ipt->confirmed[fi][t] = want[fi][t];
		}
	close(lock);
	fw_ruleset_done(&rs);
	/* Also after a failure: chains made by a table that committed. */
	if (save_owned(to_iptc(f), r < 0 ? NULL : err, errlen) < 0 && r >= 0)
		r = -EIO;
	return r < 0 ? r : 0;
}

static int
fw_iptc_forward_drop(struct fw *f, int family, char *err, size_t errlen)
{
	const struct tc *t = tc_for(family);
	const char *tname = "filter";
	struct xtc_handle *h = NULL;
	int r = 0, lock;

	if ((lock = lock_xtables(to_iptc(f)->lock_path, err, errlen)) < 0)
		return lock;
	errno = 0;
	if ((h = t->init(tname)) == NULL)
		TC_FAIL("open", "the table");
	errno = 0;
	if (!t->set_policy("FORWARD", "DROP", h))
		TC_FAIL("set the policy of", "FORWARD");
	errno = 0;
	if (!t->commit(h))
		TC_FAIL("commit", "the policy");
out:
	if (h != NULL)
		t->free(h);
	close(lock);
	return r;
}

static void
fw_iptc_free(struct fw *f)
{
	free(to_iptc(f)->owned);
	free(to_iptc(f));
}

static const struct fw_ops fw_iptc_ops = {
	.sync			= fw_iptc_sync,
	.forward_drop		= fw_iptc_forward_drop,
	.free			= fw_iptc_free,
};

struct fw *
fw_iptc_new(const char *lock_path, const char *chains_path, char *err,
    size_t errlen)
{
	struct fw_iptc *fi;

	if (lock_path == NULL || *lock_path == '\0')
		lock_path = "/run/xtables.lock";
	if (chains_path == NULL)
		chains_path = "";
	if (strlen(lock_path) >= sizeof(fi->lock_path) ||
	    strlen(chains_path) >= sizeof(fi->chains_path)) {
		fw_seterr(err, errlen, "xtables lock path '%s' or chain record "
		    "'%s' is too long", lock_path, chains_path);
		return NULL;
	}
	if ((fi = calloc(1, sizeof(*fi))) == NULL) {
		fw_seterr(err, errlen, "out of memory");
		return NULL;
	}
	fi->fw.ops = &fw_iptc_ops;
	snprintf(fi->lock_path, sizeof(fi->lock_path), "%s", lock_path);
	snprintf(fi->chains_path, sizeof(fi->chains_path), "%s", chains_path);
	load_owned(fi);
	return &fi->fw;
}
