/*
 * What cbridge's nftables table holds (read from nft's JSON), and the
 * transaction that makes it match the plan.  Pure: the backend
 * (firewall/nft.c) lists and applies.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <jansson.h>

#include "firewall/common.h"
#include "firewall/nftplan.h"

void
fw_nft_found_done(struct fw_nfound *f)
{
	if (f == NULL)
		return;
	for (size_t i = 0; i < f->nchains; i++)
		free(f->chains[i].rules);
	free(f->chains);
	free(f->elems);
	free(f->maps);
	memset(f, 0, sizeof(*f));
}

static int
grow(void *pv, size_t n, size_t *cap, size_t size)
{
	void **p = pv, *v;
	size_t c;

	if (n < *cap)
		return 0;
	c = *cap ? 2 * *cap : 16;
	if ((v = realloc(*p, c * size)) == NULL)
		return -ENOMEM;
	*p = v;
	*cap = c;
	return 0;
}

static bool
copy(char *dst, size_t len, const char *src)
{
	return src != NULL && snprintf(dst, len, "%s", src) < (int)len;
}

/* Lookups start where the last one matched: the plan and what was
 * found are mostly in the same order, so a diff stays linear in the
 * number of chains and elements. */
static struct fw_nfound_chain *
found_chain(const struct fw_nfound *f, const char *name)
{
	static _Thread_local size_t hint;

	for (size_t k = 0; k < f->nchains; k++) {
		size_t i = (hint + k) % f->nchains;

		if (strcmp(f->chains[i].name, name) == 0) {
			hint = i + 1;
			return &f->chains[i];
		}
	}
	return NULL;
}

static const struct fw_nmapdef *
mapdef(const char *name)
{
	for (size_t i = 0; i < fw_nft_nmaps; i++)
		if (strcmp(fw_nft_maps[i].name, name) == 0)
			return &fw_nft_maps[i];
	return NULL;
}

static int
push_rule(struct fw_nfound_chain *c, const char *comment,
    unsigned long long handle)
{
	struct fw_nfound_rule *r;

	if (grow(&c->rules, c->nrules, &c->cap, sizeof(*c->rules)) < 0)
		return -ENOMEM;
	r = &c->rules[c->nrules++];
	memset(r, 0, sizeof(*r));
	/* A comment that is not one of ours reads as none. */
	if (comment != NULL && strncmp(comment, FW_COMMENT_PREFIX,
	    sizeof(FW_COMMENT_PREFIX) - 1) == 0)
		(void) copy(r->comment, sizeof(r->comment), comment);
	r->handle = handle;
	return 0;
}

/* A key or type as nft writes it: a string, a number, or a
 * concatenation of them joined by " . ".  false when it does not fit. */
static bool
render(const json_t *v, char *buf, size_t len)
{
	const json_t *parts = json_is_array(v) ? v :
	    json_object_get(v, "concat");
	size_t off = 0, i;
	const json_t *x;
	int n;

	if (json_is_string(v))
		return copy(buf, len, json_string_value(v));
	if (json_is_integer(v))
		return snprintf(buf, len, "%lld",
		    (long long)json_integer_value(v)) < (int)len;
	if (!json_is_array(parts) || json_array_size(parts) == 0)
		return false;
	json_array_foreach(parts, i, x) {
		if (json_is_array(x) || json_is_object(x))
			return false;
		if (i > 0) {
			if (off + 3 >= len)
				return false;
			memcpy(buf + off, " . ", 4);
			off += 3;
		}
		if (!render(x, buf + off, len - off))
			return false;
		off += strlen(buf + off);
	}
	n = (int)off;
	return n >= 0;
}

static int
parse_map(struct fw_nfound *f, int family, const json_t *m, const char *name,
    bool set, size_t *ecap, size_t *mcap)
{
	const struct fw_nmapdef *d = mapdef(name);
	const json_t *elem = json_object_get(m, "elem"), *el;
	const char *vt = json_string_value(json_object_get(m, "map"));
	char type[64], want[64];
	size_t i;

	if (grow(&f->maps, f->nmaps, mcap, sizeof(*f->maps)) < 0)
		return -ENOMEM;
	if (!copy(f->maps[f->nmaps], FW_NFT_NAMELEN, name))
		return -EBADMSG;
	f->nmaps++;
	if (d == NULL) {
		/* Not one of ours: it goes with the whole table. */
		f->odd = true;
		return 0;
	}
	/* One of ours of another kind or type cannot be changed in place. */
	fw_nft_map_type(d, family, want, sizeof(want));
	if (d->set != set || !render(json_object_get(m, "type"), type,
	    sizeof(type)) || strcmp(type, want) != 0 || (!set && (vt == NULL ||
	    strcmp(vt, "verdict") != 0)) || json_object_get(m, "flags")) {
		f->odd = true;
		return 0;
	}
	if (elem == NULL)
		return 0;
	if (!json_is_array(elem)) {
		f->odd = true;
		return 0;
	}
	json_array_foreach(elem, i, el) {
		struct fw_nelem e = { 0 };
		const char *target = "";
		const json_t *key = el;

		if (!set) {
			const json_t *v = json_array_get(el, 1);
			const json_t *j = json_object_get(v, "jump");

			key = json_array_get(el, 0);
			target = json_string_value(json_object_get(j,
			    "target"));
		}
		if (target == NULL || !render(key, e.key, sizeof(e.key)) ||
		    !copy(e.chain, sizeof(e.chain), target)) {
			/* Not an element of the form we write: it goes with
			 * the whole table. */
			f->odd = true;
			return 0;
		}
		(void) copy(e.map, sizeof(e.map), name);
		e.family = family;
		if (grow(&f->elems, f->nelems, ecap, sizeof(*f->elems)) < 0)
			return -ENOMEM;
		f->elems[f->nelems++] = e;
	}
	return 0;
}

int
fw_nft_parse(const char *json, int family, struct fw_nfound *ret)
{
	const char *fam = fw_family_name(family);
	json_t *root = NULL, *arr, *item;
	json_error_t jerr;
	size_t i, ccap = 0, ecap = 0, mcap = 0;
	int e = -EBADMSG;

	memset(ret, 0, sizeof(*ret));
	if (fam == NULL)
		return -EINVAL;
	if (json == NULL || *json == '\0')
		return 0;
	if ((root = json_loads(json, JSON_REJECT_DUPLICATES, &jerr)) == NULL ||
	    !json_is_array(arr = json_object_get(root, "nftables")))
		goto out;
	/* Chains first: rules name them, and nft lists them in any order. */
	for (int pass = 0; pass < 2; pass++)
		json_array_foreach(arr, i, item) {
			const char *kind;
			json_t *o;
			void *it = json_object_iter(item);

			if (it == NULL)
				goto out;
			kind = json_object_iter_key(it);
			o = json_object_iter_value(it);
			if (strcmp(kind, "metainfo") == 0)
				continue;
			if (!json_is_object(o))
				goto out;
			/* Only our table is listed; anything else is not
			 * what was asked for. */
			if (strcmp(kind, "table") != 0 && (!json_is_string(
			    json_object_get(o, "table")) || strcmp(
			    json_string_value(json_object_get(o, "table")),
			    FW_NFT_TABLE) != 0))
				goto out;
			if (pass == 0 && strcmp(kind, "table") == 0) {
				ret->table = true;
				if (json_object_get(o, "flags") != NULL)
					ret->odd = true;	/* dormant */
			} else if (pass == 0 && strcmp(kind, "chain") == 0) {
				struct fw_nfound_chain *c;
				const char *pol;

				if (grow(&ret->chains, ret->nchains, &ccap,
				    sizeof(*ret->chains)) < 0) {
					e = -ENOMEM;
					goto out;
				}
				c = &ret->chains[ret->nchains];
				memset(c, 0, sizeof(*c));
				if (!copy(c->name, sizeof(c->name),
				    json_string_value(json_object_get(o,
				    "name"))))
					goto out;
				ret->nchains++;
				if (json_object_get(o, "hook") != NULL) {
					if (!copy(c->type, sizeof(c->type),
					    json_string_value(json_object_get(o,
					    "type"))) || !copy(c->hook,
					    sizeof(c->hook), json_string_value(
					    json_object_get(o, "hook"))))
						ret->odd = true;
					c->prio = (int)json_integer_value(
					    json_object_get(o, "prio"));
					pol = json_string_value(json_object_get(o,
					    "policy"));
					c->drop = pol != NULL &&
					    strcmp(pol, "drop") == 0;
				}
			} else if (pass == 0 && (strcmp(kind, "map") == 0 ||
			    strcmp(kind, "set") == 0)) {
				const char *name = json_string_value(
				    json_object_get(o, "name"));

				if (name == NULL)
					goto out;
				if ((e = parse_map(ret, family, o, name, strcmp(kind,
				    "set") == 0, &ecap, &mcap)) < 0)
					goto out;
				e = -EBADMSG;
			} else if (pass == 1 && strcmp(kind, "rule") == 0) {
				struct fw_nfound_chain *c = found_chain(ret,
				    json_string_value(json_object_get(o,
				    "chain")) ?: "");
				json_int_t h = json_integer_value(
				    json_object_get(o, "handle"));

				if (c == NULL || h <= 0)
					goto out;
				if (push_rule(c, json_string_value(
				    json_object_get(o, "comment")),
				    (unsigned long long)h) < 0) {
					e = -ENOMEM;
					goto out;
				}
			} else if (pass == 0 && strcmp(kind, "rule") != 0)
				ret->odd = true;	/* flowtable, counter... */
		}
	e = 0;
out:
	json_decref(root);
	if (e < 0)
		fw_nft_found_done(ret);
	return e;
}

/* The transaction being written: its text, and the family's name. */
struct txn {
	struct fw_sbuf	b;
	const char	*fam;
};

#define put(t, ...)	fw_sbuf_printf(&(t)->b, __VA_ARGS__)

static const struct fw_nchain *
plan_chain(const struct fw_nplan *p, int family, const char *name)
{
	static _Thread_local size_t hint;

	for (size_t k = 0; k < p->nchains; k++) {
		size_t i = (hint + k) % p->nchains;

		if (p->chains[i].family == family &&
		    strcmp(p->chains[i].name, name) == 0) {
			hint = i + 1;
			return &p->chains[i];
		}
	}
	return NULL;
}

static bool
elem_eq(const struct fw_nelem *a, const struct fw_nelem *b)
{
	return a->family == b->family && strcmp(a->key, b->key) == 0 &&
	    strcmp(a->map, b->map) == 0 && strcmp(a->chain, b->chain) == 0;
}

static bool
elem_in(const struct fw_nelem *v, size_t n, const struct fw_nelem *e,
    size_t *hint)
{
	for (size_t k = 0; k < n; k++) {
		size_t i = (*hint + k) % n;

		if (elem_eq(&v[i], e)) {
			*hint = i + 1;
			return true;
		}
	}
	return false;
}

static bool
elem_planned(const struct fw_nplan *p, const struct fw_nelem *e)
{
	static _Thread_local size_t hint;

	return elem_in(p->elems, p->nelems, e, &hint);
}

static bool
elem_found(const struct fw_nfound *f, const struct fw_nelem *e)
{
	static _Thread_local size_t hint;

	return elem_in(f->elems, f->nelems, e, &hint);
}

static void
put_chain_spec(struct txn *t, const struct fw_nchain *c)
{
	put(t, "add chain %s %s %s", t->fam, FW_NFT_TABLE, c->name);
	if (c->hook != NULL)
		put(t, " { type %s hook %s priority %d; policy %s; }",
		    c->type, c->hook, c->prio, c->drop ? "drop" : "accept");
	put(t, "\n");
}

/* Whether a found base chain is what c plans (policy aside). */
static bool
same_hook(const struct fw_nchain *c, const struct fw_nfound_chain *fc)
{
	if (c->hook == NULL)
		return fc->hook[0] == '\0';
	return strcmp(fc->type, c->type) == 0 && strcmp(fc->hook,
	    c->hook) == 0 && fc->prio == c->prio;
}

/* A chain: exactly the planned rules in order (by comment), or written
 * whole after a flush (in del: before any chain is deleted, since a rule
 * that is not ours may jump to a chain that goes). */
static void
diff_rules(const struct fw_nplan *p, const struct fw_nchain *c,
    const struct fw_nfound_chain *fc, struct txn *del, struct txn *add)
{
	const struct fw_nrule *pr = &p->rules[c->first];
	bool same = (fc != NULL ? fc->nrules : 0) == c->n;

	for (size_t j = 0; same && j < c->n; j++)
		same = strcmp(fc->rules[j].comment, pr[j].comment) == 0;
	if (same)
		return;
	if (fc != NULL && fc->nrules != 0)
		put(del, "flush chain %s %s %s\n", del->fam, FW_NFT_TABLE,
		    c->name);
	for (size_t j = 0; j < c->n; j++)
		put(add, "add rule %s %s %s %s\n", add->fam, FW_NFT_TABLE,
		    c->name, pr[j].text);
}

/* Everything in one table block: after "add table" and "delete table",
 * the same transaction loads the plan whole. */
static int
full(const struct fw_nplan *p, int family, struct txn *t)
{
	char *s;
	int e;

	if ((e = fw_nft_format(p, family, &s)) < 0)
		return e;
	put(t, "add table %s %s\ndelete table %s %s\n%s", t->fam, FW_NFT_TABLE,
	    t->fam, FW_NFT_TABLE, s);
	free(s);
	return 0;
}

int
fw_nft_diff(const struct fw_nplan *p, int family, const struct fw_nfound *f,
    char **ret)
{
	int fi = fw_family_index(family);
	struct txn del = { .fam = fw_family_name(family) };
	struct txn add = { .fam = del.fam };
	struct txn gone = { .fam = del.fam };
	struct txn all = { .fam = del.fam };
	int e = 0;

	*ret = NULL;
	if (fi < 0)
		return -EINVAL;
	if (!p->family[fi]) {
		/* No network of this family: no table. */
		if (f->table)
			put(&all, "delete table %s %s\n", all.fam,
			    FW_NFT_TABLE);
		goto done;
	}
	if (!f->table || f->odd) {
		e = full(p, family, &all);
		goto done;
	}
	for (size_t i = 0; i < f->nchains; i++) {
		const struct fw_nfound_chain *fc = &f->chains[i];
		const struct fw_nchain *c = plan_chain(p, family, fc->name);

		if (c != NULL && !same_hook(c, fc)) {
			e = full(p, family, &all);
			goto done;
		}
	}
	/* Maps and sets first (a chain's rules may name them). */
	for (size_t i = 0; i < fw_nft_nmaps; i++) {
		bool have = false;

		for (size_t k = 0; k < f->nmaps; k++)
			have |= strcmp(f->maps[k], fw_nft_maps[i].name) == 0;
		if (!have) {
			char type[64];

			fw_nft_map_type(&fw_nft_maps[i], family, type,
			    sizeof(type));
			put(&add, "add %s %s %s %s { type %s%s; }\n",
			    fw_nft_maps[i].set ? "set" : "map", add.fam,
			    FW_NFT_TABLE, fw_nft_maps[i].name, type,
			    fw_nft_maps[i].set ? "" : " : verdict");
		}
	}
	for (size_t i = 0; i < p->nchains; i++) {
		const struct fw_nchain *c = &p->chains[i];
		const struct fw_nfound_chain *fc;

		if (c->family != family)
			continue;
		fc = found_chain(f, c->name);
		if (fc == NULL || (c->hook != NULL && fc->drop != c->drop))
			put_chain_spec(&add, c);
	}
	for (size_t i = 0; i < p->nchains; i++) {
		const struct fw_nchain *c = &p->chains[i];

		if (c->family != family)
			continue;
		diff_rules(p, c, found_chain(f, c->name), &del, &add);
	}
	/* Elements: wrong ones out, missing ones in (after the chains they
	 * jump to exist). */
	for (size_t i = 0; i < f->nelems; i++) {
		const struct fw_nelem *el = &f->elems[i];

		const char *q = fw_nft_map_quoted(mapdef(el->map)) ? "\"" : "";

		if (!elem_planned(p, el))
			put(&gone, "delete element %s %s %s { %s%s%s }\n",
			    gone.fam, FW_NFT_TABLE, el->map, q, el->key, q);
	}
	for (size_t i = 0; i < p->nelems; i++) {
		const struct fw_nelem *el = &p->elems[i];

		const char *q;

		if (el->family != family || elem_found(f, el))
			continue;
		q = fw_nft_map_quoted(mapdef(el->map)) ? "\"" : "";
		if (el->chain[0] != '\0')
			put(&add, "add element %s %s %s { %s%s%s : jump %s }\n",
			    add.fam, FW_NFT_TABLE, el->map, q, el->key, q,
			    el->chain);
		else
			put(&add, "add element %s %s %s { %s%s%s }\n", add.fam,
			    FW_NFT_TABLE, el->map, q, el->key, q);
	}
	/* Chains the plan does not hold: emptied with the others (their
	 * rules may jump to each other), deleted after the elements that
	 * jump to them.  (A map or set that is not ours made the table
	 * odd.) */
	for (size_t i = 0; i < f->nchains; i++)
		if (plan_chain(p, family, f->chains[i].name) == NULL) {
			put(&del, "flush chain %s %s %s\n", del.fam,
			    FW_NFT_TABLE, f->chains[i].name);
			put(&gone, "delete chain %s %s %s\n", gone.fam,
			    FW_NFT_TABLE, f->chains[i].name);
		}
	/* Every flush first: a chain is deleted only once no rule jumps to
	 * it any more.  Then elements and unplanned chains, then what is
	 * added. */
	put(&all, "%s%s%s", del.b.s ? del.b.s : "", gone.b.s ? gone.b.s : "",
	    add.b.s ? add.b.s : "");
	e = del.b.e ? del.b.e : gone.b.e ? gone.b.e : add.b.e;
done:
	free(del.b.s);
	free(add.b.s);
	free(gone.b.s);
	if (e == 0)
		e = all.b.e;
	if (e < 0) {
		free(all.b.s);
		return e;
	}
	if (all.b.s == NULL && (all.b.s = strdup("")) == NULL)
		return -ENOMEM;
	*ret = all.b.s;
	return 0;
}

int
fw_nft_found_update(struct fw_nfound *f, const struct fw_nplan *p,
    int family)
{
	struct fw_nfound nf = { 0 };
	size_t ccap = 0, ecap = 0, mcap = 0;
	int fi = fw_family_index(family), e = -ENOMEM;

	if (fi < 0)
		return -EINVAL;
	if (!p->family[fi]) {
		fw_nft_found_done(f);
		return 0;
	}
	nf.table = true;
	for (size_t i = 0; i < fw_nft_nmaps; i++) {
		if (grow(&nf.maps, nf.nmaps, &mcap, sizeof(*nf.maps)) < 0)
			goto fail;
		(void) copy(nf.maps[nf.nmaps++], FW_NFT_NAMELEN,
		    fw_nft_maps[i].name);
	}
	for (size_t i = 0; i < p->nelems; i++) {
		if (p->elems[i].family != family)
			continue;
		if (grow(&nf.elems, nf.nelems, &ecap, sizeof(*nf.elems)) < 0)
			goto fail;
		nf.elems[nf.nelems++] = p->elems[i];
	}
	for (size_t i = 0; i < p->nchains; i++) {
		const struct fw_nchain *c = &p->chains[i];
		struct fw_nfound_chain *nc;

		if (c->family != family)
			continue;
		if (grow(&nf.chains, nf.nchains, &ccap, sizeof(*nf.chains)) < 0)
			goto fail;
		nc = &nf.chains[nf.nchains++];
		memset(nc, 0, sizeof(*nc));
		(void) copy(nc->name, sizeof(nc->name), c->name);
		if (c->hook != NULL) {
			(void) copy(nc->type, sizeof(nc->type), c->type);
			(void) copy(nc->hook, sizeof(nc->hook), c->hook);
		}
		nc->prio = c->prio;
		nc->drop = c->drop;
		for (size_t j = c->first; j < c->first + c->n; j++)
			if (push_rule(nc, p->rules[j].comment, 0) < 0)
				goto fail;
	}
	fw_nft_found_done(f);
	*f = nf;
	return 0;
fail:
	fw_nft_found_done(&nf);
	return e;
}

/*
 * The memory of what each network's plan made (fw_nft_mem_build) and
 * the sync that plans and writes only the networks that changed
 * (fw_nft_incr).  A network's chains and elements are its own: they are
 * named after its bridge, keyed by its bridge, its endpoints' addresses
 * and its host ports, and planned from its inputs, the family and the
 * base's WSL2 flag alone.
 */

static bool
net_eq(const struct fw_net *a, const struct fw_net *b)
{
	if (strcmp(a->id, b->id) != 0 || strcmp(a->bridge, b->bridge) != 0 ||
	    a->ipv4 != b->ipv4 || a->ipv6 != b->ipv6 || a->icc != b->icc ||
	    a->internal != b->internal || a->masquerade != b->masquerade ||
	    a->gw4 != b->gw4 || a->gw6 != b->gw6 ||
	    !prefix_equal(&a->subnet4, &b->subnet4) ||
	    !prefix_equal(&a->subnet6, &b->subnet6) ||
	    !prefix_equal(&a->snat4, &b->snat4) ||
	    !prefix_equal(&a->snat6, &b->snat6) || a->ntrusted != b->ntrusted)
		return false;
	for (size_t t = 0; t < a->ntrusted && t < FW_MAX_TRUSTED; t++)
		if (strcmp(a->trusted[t], b->trusted[t]) != 0)
			return false;
	return true;
}

static bool
ep_eq(const struct fw_ep *a, const struct fw_ep *b)
{
	return prefix_equal(&a->addr4, &b->addr4) &&
	    prefix_equal(&a->addr6, &b->addr6);
}

static bool
port_eq(const struct fw_port *a, const struct fw_port *b)
{
	return a->family == b->family && a->proto == b->proto &&
	    a->host_port == b->host_port && a->cport == b->cport &&
	    prefix_equal(&a->host_ip, &b->host_ip) &&
	    prefix_equal(&a->cip, &b->cip);
}

static void
nnet_done(struct fw_nnet *r)
{
	free(r->eps);
	free(r->ports);
	fw_nft_found_done(&r->made[0]);
	fw_nft_found_done(&r->made[1]);
	memset(r, 0, sizeof(*r));
}

void
fw_nft_mem_done(struct fw_nmem *mem)
{
	if (mem == NULL)
		return;
	for (size_t i = 0; i < mem->nnets; i++)
		nnet_done(&mem->nets[i]);
	free(mem->nets);
	free(mem->docker[0]);
	free(mem->docker[1]);
	memset(mem, 0, sizeof(*mem));
}

static int
cmp_nnet(const void *a, const void *b)
{
	return strcmp(((const struct fw_nnet *)a)->net.id,
	    ((const struct fw_nnet *)b)->net.id);
}

/* Network ni of m with its endpoints and ports (grouped in g), copied
 * into r. */
static int
nnet_inputs(struct fw_nnet *r, const struct fw_model *m, size_t ni,
    const struct fw_ngroups *g)
{
	const size_t *eidx = g->eidx, *efirst = g->efirst, *pidx = g->pidx,
	    *pfirst = g->pfirst;

	r->net = m->nets[ni];
	r->neps = efirst[ni + 1] - efirst[ni];
	r->nports = pfirst[ni + 1] - pfirst[ni];
	if ((r->neps && (r->eps = calloc(r->neps, sizeof(*r->eps))) == NULL) ||
	    (r->nports && (r->ports = calloc(r->nports,
	    sizeof(*r->ports))) == NULL))
		return -ENOMEM;
	for (size_t k = 0; k < r->neps; k++)
		r->eps[k] = m->eps[eidx[efirst[ni] + k]];
	for (size_t k = 0; k < r->nports; k++)
		r->ports[k] = m->ports[pidx[pfirst[ni] + k]];
	return 0;
}

/* Whether r was planned from network ni of m as grouped in g. */
static bool
nnet_same(const struct fw_nnet *r, const struct fw_model *m, size_t ni,
    const struct fw_ngroups *g)
{
	const size_t *eidx = g->eidx, *efirst = g->efirst, *pidx = g->pidx,
	    *pfirst = g->pfirst;

	if (!net_eq(&r->net, &m->nets[ni]) ||
	    r->neps != efirst[ni + 1] - efirst[ni] ||
	    r->nports != pfirst[ni + 1] - pfirst[ni])
		return false;
	for (size_t k = 0; k < r->neps; k++)
		if (!ep_eq(&r->eps[k], &m->eps[eidx[efirst[ni] + k]]))
			return false;
	for (size_t k = 0; k < r->nports; k++)
		if (!port_eq(&r->ports[k], &m->ports[pidx[pfirst[ni] + k]]))
			return false;
	return true;
}

/* What p's chains and elements of network ni (in p's numbering) are,
 * per family, into r->made. */
static int
nnet_made(struct fw_nnet *r, const struct fw_nplan *p, size_t ni)
{
	size_t ccap[2] = { 0, 0 }, ecap[2] = { 0, 0 };

	for (size_t i = 0; i < p->nchains; i++) {
		const struct fw_nchain *c = &p->chains[i];
		int fi = fw_family_index(c->family);
		struct fw_nfound *f;
		struct fw_nfound_chain *nc;

		if (c->net != ni || fi < 0)
			continue;
		f = &r->made[fi];
		if (grow(&f->chains, f->nchains, &ccap[fi],
		    sizeof(*f->chains)) < 0)
			return -ENOMEM;
		nc = &f->chains[f->nchains++];
		memset(nc, 0, sizeof(*nc));
		(void) copy(nc->name, sizeof(nc->name), c->name);
		for (size_t j = c->first; j < c->first + c->n; j++)
			if (push_rule(nc, p->rules[j].comment, 0) < 0)
				return -ENOMEM;
	}
	for (size_t i = 0; i < p->nelems; i++) {
		const struct fw_nelem *el = &p->elems[i];
		int fi = fw_family_index(el->family);
		struct fw_nfound *f;

		if (el->net != ni || fi < 0)
			continue;
		f = &r->made[fi];
		if (grow(&f->elems, f->nelems, &ecap[fi], sizeof(*f->elems)) < 0)
			return -ENOMEM;
		f->elems[f->nelems++] = *el;
	}
	r->made[0].table = r->made[0].nchains != 0;
	r->made[1].table = r->made[1].nchains != 0;
	return 0;
}

/* Which families have a table: those of some network. */
static void
families(const struct fw_model *m, bool ret[2])
{
	ret[0] = ret[1] = false;
	for (size_t i = 0; i < m->nnets; i++) {
		ret[0] |= m->nets[i].ipv4;
		ret[1] |= m->nets[i].ipv6;
	}
}

/* The base's inputs into mem. */
static int
mem_base(struct fw_nmem *mem, const struct fw_model *m, bool drop4,
    bool drop6)
{
	mem->wsl2 = m->wsl2;
	mem->drop[0] = drop4;
	mem->drop[1] = drop6;
	families(m, mem->family);
	for (size_t f = 0; f < 2; f++) {
		const struct fw_ifnames *d = f == 0 ? &m->docker4 : &m->docker6;

		mem->ndocker[f] = d->n;
		if (d->n == 0)
			continue;
		if ((mem->docker[f] = calloc(d->n, sizeof(*d->v))) == NULL)
			return -ENOMEM;
		memcpy(mem->docker[f], d->v, d->n * sizeof(*d->v));
	}
	return 0;
}

/* Whether m, drop4 and drop6 plan the base mem was planned from. */
static bool
mem_base_same(const struct fw_nmem *mem, const struct fw_model *m,
    bool drop4, bool drop6)
{
	bool fam[2];

	families(m, fam);
	if (mem->wsl2 != m->wsl2 || mem->drop[0] != drop4 ||
	    mem->drop[1] != drop6 || mem->family[0] != fam[0] ||
	    mem->family[1] != fam[1])
		return false;
	for (size_t f = 0; f < 2; f++) {
		const struct fw_ifnames *d = f == 0 ? &m->docker4 : &m->docker6;

		if (mem->ndocker[f] != d->n || (d->n != 0 &&
		    memcmp(mem->docker[f], d->v, d->n * sizeof(*d->v)) != 0))
			return false;
	}
	return true;
}

int
fw_nft_mem_build(const struct fw_model *in, bool drop4, bool drop6,
    const struct fw_nplan *p, struct fw_nmem *ret)
{
	struct fw_nmem mem = { 0 };
	struct fw_model m;
	struct fw_ngroups g = { 0 };
	char ignore[8];
	int e;

	fw_nft_mem_done(ret);
	if ((e = fw_model_check(in, &m, ignore, sizeof(ignore))) < 0)
		return e;
	if ((e = fw_nft_groups(&m, &g)) < 0 ||
	    (e = mem_base(&mem, &m, drop4, drop6)) < 0)
		goto out;
	e = -ENOMEM;
	if (m.nnets && (mem.nets = calloc(m.nnets, sizeof(*mem.nets))) == NULL)
		goto out;
	for (size_t i = 0; i < m.nnets; i++) {
		struct fw_nnet *r = &mem.nets[mem.nnets++];

		if ((e = nnet_inputs(r, &m, i, &g)) < 0 ||
		    (e = nnet_made(r, p, i)) < 0)
			goto out;
	}
	if (mem.nnets > 1)
		qsort(mem.nets, mem.nnets, sizeof(*mem.nets), cmp_nnet);
	mem.valid = true;
	*ret = mem;
	memset(&mem, 0, sizeof(mem));
	e = 0;
out:
	fw_nft_mem_done(&mem);
	fw_nft_groups_done(&g);
	fw_model_done(&m);
	return e;
}

/* The commands that turn one network's chains and elements of family
 * fi from old (NULL: none) into those p plans for its network pi
 * (FW_NFT_BASE: none, the network goes). */
static void
nnet_diff(const struct fw_nfound *old, const struct fw_nplan *p, size_t pi,
    int family, struct txn *del, struct txn *gone, struct txn *add)
{
	static const struct fw_nfound none;

	if (old == NULL)
		old = &none;
	for (size_t i = 0; i < old->nelems; i++) {
		const struct fw_nelem *el = &old->elems[i];
		const char *q = fw_nft_map_quoted(mapdef(el->map)) ? "\"" : "";
		bool keep = false;

		for (size_t k = 0; pi != FW_NFT_BASE && !keep && k < p->nelems;
		    k++)
			keep = p->elems[k].net == pi && elem_eq(&p->elems[k], el);
		if (!keep)
			put(gone, "delete element %s %s %s { %s%s%s }\n",
			    gone->fam, FW_NFT_TABLE, el->map, q, el->key, q);
	}
	/* Chains after the elements that jump to them. */
	for (size_t i = 0; i < old->nchains; i++) {
		const struct fw_nchain *c = pi == FW_NFT_BASE ? NULL :
		    plan_chain(p, family, old->chains[i].name);

		if (c != NULL && c->net == pi)
			continue;
		if (old->chains[i].nrules != 0)
			put(del, "flush chain %s %s %s\n", del->fam,
			    FW_NFT_TABLE, old->chains[i].name);
		put(gone, "delete chain %s %s %s\n", gone->fam, FW_NFT_TABLE,
		    old->chains[i].name);
	}
	if (pi == FW_NFT_BASE)
		return;
	for (size_t i = 0; i < p->nchains; i++) {
		const struct fw_nchain *c = &p->chains[i];
		const struct fw_nfound_chain *oc;

		if (c->family != family || c->net != pi)
			continue;
		if ((oc = found_chain(old, c->name)) == NULL)
			put_chain_spec(add, c);
		diff_rules(p, c, oc, del, add);
	}
	for (size_t i = 0; i < p->nelems; i++) {
		const struct fw_nelem *el = &p->elems[i];
		const char *q = fw_nft_map_quoted(mapdef(el->map)) ? "\"" : "";

		if (el->family != family || el->net != pi ||
		    elem_found(old, el))
			continue;
		put(add, "add element %s %s %s { %s%s%s : jump %s }\n", add->fam,
		    FW_NFT_TABLE, el->map, q, el->key, q, el->chain);
	}
}

int
fw_nft_incr(struct fw_nmem *mem, const struct fw_model *in, bool drop4,
    bool drop6, char **ret, char *err, size_t errlen)
{
	static const int fams[2] = { AF_INET, AF_INET6 };
	struct fw_model m, sub = { 0 };
	struct fw_nplan sp = { 0 };
	struct fw_nnet *nets = NULL;
	struct fw_net *snets = NULL;
	struct fw_ep *seps = NULL;
	struct fw_port *sports = NULL;
	struct fw_ngroups g = { 0 };
	size_t *changed = NULL, nchanged = 0, nnets = 0;
	struct fw_nnet **was = NULL;
	bool *seen = NULL;
	struct txn t[2][3];
	struct fw_sbuf all = { 0 };
	int e;

	*ret = NULL;
	memset(t, 0, sizeof(t));
	if (!mem->valid)
		return 0;
	if ((e = fw_model_check(in, &m, err, errlen)) < 0)
		return e;
	if (!mem_base_same(mem, &m, drop4, drop6)) {
		fw_model_done(&m);
		return 0;
	}
	if ((e = fw_nft_groups(&m, &g)) < 0)
		goto out;
	e = -ENOMEM;
	if ((changed = calloc(m.nnets + 1, sizeof(*changed))) == NULL ||
	    (was = calloc(m.nnets + 1, sizeof(*was))) == NULL ||
	    (seen = calloc(mem->nnets + 1, sizeof(*seen))) == NULL)
		goto out;
	/* Which networks are new or differ, by their inputs. */
	for (size_t i = 0; i < m.nnets; i++) {
		struct fw_nnet key, *r;

		memcpy(key.net.id, m.nets[i].id, sizeof(key.net.id));
		r = mem->nnets == 0 ? NULL : bsearch(&key, mem->nets,
		    mem->nnets, sizeof(*mem->nets), cmp_nnet);
		if (r != NULL)
			seen[r - mem->nets] = true;
		was[i] = r;
		if (r == NULL || !nnet_same(r, &m, i, &g))
			changed[nchanged++] = i;
	}
	nnets = m.nnets;
	if (nchanged == 0 && nnets == mem->nnets) {
		e = (*ret = strdup("")) == NULL ? -ENOMEM : 1;
		goto out;
	}
	/* The changed networks alone, planned as the whole would be. */
	if ((nchanged && (snets = calloc(nchanged, sizeof(*snets))) == NULL) ||
	    (m.neps && (seps = calloc(m.neps, sizeof(*seps))) == NULL) ||
	    (m.nports && (sports = calloc(m.nports, sizeof(*sports))) == NULL))
		goto out;
	sub = m;
	sub.nets = snets;
	sub.eps = seps;
	sub.ports = sports;
	sub.nnets = sub.neps = sub.nports = 0;
	for (size_t k = 0; k < nchanged; k++) {
		size_t i = changed[k];

		snets[sub.nnets++] = m.nets[i];
		for (size_t j = g.efirst[i]; j < g.efirst[i + 1]; j++)
			seps[sub.neps++] = m.eps[g.eidx[j]];
		for (size_t j = g.pfirst[i]; j < g.pfirst[i + 1]; j++)
			sports[sub.nports++] = m.ports[g.pidx[j]];
	}
	if ((e = fw_nft_compute(&sub, drop4, drop6, &sp, err, errlen)) < 0)
		goto out;
	for (size_t f = 0; f < 2; f++)
		for (size_t x = 0; x < 3; x++)
			t[f][x].fam = fw_family_name(fams[f]);
	/* Networks gone, then networks changed. */
	for (size_t r = 0; r < mem->nnets; r++)
		for (size_t f = 0; !seen[r] && f < 2; f++)
			nnet_diff(&mem->nets[r].made[f], &sp, FW_NFT_BASE,
			    fams[f], &t[f][0], &t[f][1], &t[f][2]);
	for (size_t k = 0; k < nchanged; k++)
		for (size_t f = 0; f < 2; f++)
			nnet_diff(was[changed[k]] ? &was[changed[k]]->made[f] :
			    NULL, &sp, k, fams[f], &t[f][0], &t[f][1],
			    &t[f][2]);
	/* As the whole diff orders them: every flush, then what goes, then
	 * what comes. */
	for (size_t x = 0; x < 3; x++)
		for (size_t f = 0; f < 2; f++)
			fw_sbuf_printf(&all, "%s", t[f][x].b.s ? t[f][x].b.s :
			    "");
	for (size_t f = 0; f < 2; f++)
		for (size_t x = 0; x < 3; x++)
			if (t[f][x].b.e != 0)
				all.e = t[f][x].b.e;
	if (all.e != 0) {
		e = all.e;
		goto out;
	}
	/* The new memory: kept records as they are, changed ones anew. */
	e = -ENOMEM;
	if (nnets && (nets = calloc(nnets, sizeof(*nets))) == NULL)
		goto out;
	for (size_t i = 0, k = 0; i < nnets; i++) {
		struct fw_nnet *r = &nets[i];

		if (k < nchanged && changed[k] == i) {
			if ((e = nnet_inputs(r, &m, i, &g)) < 0 ||
			    (e = nnet_made(r, &sp, k)) < 0)
				goto out;
			k++;
		} else {
			*r = *was[i];
			memset(was[i], 0, sizeof(*was[i]));
		}
	}
	for (size_t r = 0; r < mem->nnets; r++)
		nnet_done(&mem->nets[r]);
	free(mem->nets);
	if (nnets > 1)
		qsort(nets, nnets, sizeof(*nets), cmp_nnet);
	mem->nets = nets;
	mem->nnets = nnets;
	nets = NULL;
	nnets = 0;
	if (all.s == NULL && (all.s = strdup("")) == NULL)
		goto out;
	*ret = all.s;
	all.s = NULL;
	e = 1;
out:
	if (e == -ENOMEM)
		fw_seterr(err, errlen, "Failed to plan the nftables rules: out "
		    "of memory");
	if (e < 0)
		mem->valid = false;
	for (size_t i = 0; i < nnets && nets != NULL; i++)
		nnet_done(&nets[i]);
	free(nets);
	for (size_t f = 0; f < 2; f++)
		for (size_t x = 0; x < 3; x++)
			free(t[f][x].b.s);
	free(all.s);
	fw_nft_plan_done(&sp);
	free(snets);
	free(seps);
	free(sports);
	free(changed);
	free(was);
	free(seen);
	fw_nft_groups_done(&g);
	fw_model_done(&m);
	return e;
}
