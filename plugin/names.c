#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "plugin/names.h"

struct ctr {
	struct eng_container	c;
	bool			seen;	/* in the current sync */
};

struct ep_ix {
	const char			*ep_id;	/* borrowed from ep */
	const struct eng_endpoint	*ep;
};

struct names {
	struct ctr	*ctrs;
	size_t		n, cap;
	bool		syncing;
	struct ep_ix	*ix;		/* sorted by ep_id */
	size_t		nix;
};

struct names *
names_new(void)
{
	return calloc(1, sizeof(struct names));
}

struct names *
names_free(struct names *n)
{
	if (n == NULL)
		return NULL;
	for (size_t i = 0; i < n->n; i++)
		eng_container_done(&n->ctrs[i].c);
	free(n->ctrs);
	free(n->ix);
	free(n);
	return NULL;
}

static struct ctr *
find_ctr(struct names *n, const char *id, size_t *idx)
{
	for (size_t i = 0; i < n->n; i++)
		if (strcmp(n->ctrs[i].c.id, id) == 0) {
			if (idx)
				*idx = i;
			return &n->ctrs[i];
		}
	return NULL;
}

static void
remove_at(struct names *n, size_t i)
{
	eng_container_done(&n->ctrs[i].c);
	n->ctrs[i] = n->ctrs[--n->n];
}

static int
ix_cmp(const void *a, const void *b)
{
	return strcmp(((const struct ep_ix *)a)->ep_id,
	    ((const struct ep_ix *)b)->ep_id);
}

/* On failure the index is empty: names are then not served until the
 * next update, which is all that out of memory costs. */
static void
reindex(struct names *n)
{
	size_t k = 0, total = 0;

	free(n->ix);
	n->ix = NULL;
	n->nix = 0;
	for (size_t i = 0; i < n->n; i++)
		total += n->ctrs[i].c.neps;
	if (total == 0 || (n->ix = calloc(total, sizeof(*n->ix))) == NULL)
		return;
	for (size_t i = 0; i < n->n; i++)
		for (size_t j = 0; j < n->ctrs[i].c.neps; j++) {
			const struct eng_endpoint *e = &n->ctrs[i].c.eps[j];

			if (e->ep_id[0] == '\0')
				continue;
			n->ix[k].ep_id = e->ep_id;
			n->ix[k++].ep = e;
		}
	qsort(n->ix, k, sizeof(*n->ix), ix_cmp);
	n->nix = k;
}

bool
names_apply(struct names *n, struct eng_update *u)
{
	struct ctr *c;
	size_t i;
	bool changed = false;

	switch (u->kind) {
	case ENG_CONTAINER:
		if ((c = find_ctr(n, u->c.id, NULL)) != NULL) {
			eng_container_done(&c->c);
		} else {
			if (n->n == n->cap) {
				size_t cap = n->cap ? n->cap * 2 : 16;
				struct ctr *p = realloc(n->ctrs,
				    cap * sizeof(*p));

				if (p == NULL) {
					eng_container_done(&u->c);
					return false;
				}
				n->ctrs = p;
				n->cap = cap;
			}
			c = &n->ctrs[n->n++];
		}
		c->c = u->c;
		c->seen = true;
		memset(&u->c, 0, sizeof(u->c));
		changed = true;
		break;
	case ENG_REMOVED:
		if (find_ctr(n, u->c.id, &i) != NULL) {
			remove_at(n, i);
			changed = true;
		}
		break;
	case ENG_SYNC_BEGIN:
		for (i = 0; i < n->n; i++)
			n->ctrs[i].seen = false;
		n->syncing = true;
		break;
	case ENG_SYNC_END:
		if (!n->syncing)
			break;
		for (i = n->n; i-- > 0;)
			if (!n->ctrs[i].seen) {
				remove_at(n, i);
				changed = true;
			}
		n->syncing = false;
		break;
	case ENG_DOWN:
		/* Names known stay: containers keep running without the
		 * API. */
		n->syncing = false;
		break;
	default:
		break;
	}
	if (changed)
		reindex(n);
	return changed;
}

size_t
names_container_count(const struct names *n)
{
	return n->n;
}

const struct eng_endpoint *
names_endpoint(const struct names *n, const char *ep_id)
{
	struct ep_ix key = { .ep_id = ep_id }, *hit;

	if (n == NULL || n->nix == 0)
		return NULL;
	hit = bsearch(&key, n->ix, n->nix, sizeof(*n->ix), ix_cmp);
	return hit ? hit->ep : NULL;
}

/* Whether ref (NetworkMode's container:<ref>) names c: its name, its
 * ID or a prefix of it, as dockerd looks containers up. */
static bool
refers_to(const char *ref, const struct eng_container *c)
{
	size_t len = strlen(ref);

	return strcmp(ref, c->name) == 0 || (eng_id_valid(ref, len) &&
	    strncasecmp(c->id, ref, len) == 0);
}

static bool
at_key(const struct eng_container *c, const char *key)
{
	return c->running && strcmp(c->sandbox_key, key) == 0;
}

/* Whether c shares the namespace of a container at key; own[0..nown)
 * are those, unless there are more (then all are looked at). */
static bool
shares(const struct names *n, const struct eng_container *c,
    const char *key, const struct eng_container *const *own, size_t nown,
    size_t max)
{
	if (!c->running || c->net_container[0] == '\0' || at_key(c, key))
		return false;
	if (nown <= max) {
		for (size_t j = 0; j < nown; j++)
			if (refers_to(c->net_container, own[j]))
				return true;
		return false;
	}
	for (size_t j = 0; j < n->n; j++)
		if (at_key(&n->ctrs[j].c, key) &&
		    refers_to(c->net_container, &n->ctrs[j].c))
			return true;
	return false;
}

size_t
names_containers_at(const struct names *n, const char *key,
    const struct eng_container **ret, size_t cap)
{
	const struct eng_container *own[8];
	size_t k = 0, nown;

	if (n == NULL || key == NULL || key[0] == '\0')
		return 0;
	for (size_t i = 0; i < n->n; i++)
		if (at_key(&n->ctrs[i].c, key)) {
			if (k < sizeof(own) / sizeof(own[0]))
				own[k] = &n->ctrs[i].c;
			if (k < cap)
				ret[k] = &n->ctrs[i].c;
			k++;
		}
	/* Those in container network mode have no SandboxKey of their
	 * own. */
	nown = k;
	for (size_t i = 0; nown > 0 && i < n->n; i++)
		if (shares(n, &n->ctrs[i].c, key, own, nown,
		    sizeof(own) / sizeof(own[0]))) {
			if (k < cap)
				ret[k] = &n->ctrs[i].c;
			k++;
		}
	return k;
}

const struct eng_container *
names_container(const struct names *n, size_t i)
{
	return n != NULL && i < n->n ? &n->ctrs[i].c : NULL;
}

void
names_plan_free(struct sbx_want *w, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(w[i].eps);
		free(w[i].nets);
		free(w[i].sig);
	}
	free(w);
}

static int
plan_add(struct sbx_want *w, const struct ep_cfg *e)
{
	const struct ep_cfg **p;

	p = realloc(w->eps, (w->neps + 1) * sizeof(*p));
	if (p == NULL)
		return -ENOMEM;
	w->eps = p;
	w->eps[w->neps++] = e;
	return 0;
}

/* The network's name as the Engine API reported it for any endpoint on
 * it, NULL when none is known. */
static const char *
net_name(const struct names *n, const struct drv *d, const char *net_id)
{
	size_t neps = drv_endpoint_count(d);

	for (size_t i = 0; i < neps; i++) {
		const struct ep_cfg *e = drv_endpoint_at(d, i);
		const struct eng_endpoint *x;

		if (strcmp(e->net_id, net_id) != 0)
			continue;
		x = names_endpoint(n, e->id);
		if (x != NULL && strcmp(x->net_id, net_id) == 0 &&
		    names_valid(x->net_name))
			return x->net_name;
	}
	return NULL;
}

static bool
has_net(const struct sbx_want *w, const char *net_id)
{
	for (size_t i = 0; i < w->nnets; i++)
		if (strcmp(w->nets[i].net_id, net_id) == 0)
			return true;
	return false;
}

static int
net_add(struct sbx_want *w, const char *net_id, const char *name,
    const struct ep_cfg *ep, const struct eng_endpoint *x)
{
	struct sbx_net *p;

	p = realloc(w->nets, (w->nnets + 1) * sizeof(*p));
	if (p == NULL)
		return -ENOMEM;
	w->nets = p;
	w->nets[w->nnets++] = (struct sbx_net){ .net_id = net_id,
	    .name = name, .ep = ep, .x = x };
	return 0;
}

/* w's networks: cbridge's in endpoint order, then the others of the
 * sandbox's containers.  Any of the latter is a way out as far as we
 * know: the Engine API does not say whether it is --internal. */
static int
plan_nets(struct sbx_want *w, const struct names *n, const struct drv *d)
{
	w->internal_only = true;
	for (size_t i = 0; i < w->neps; i++) {
		const struct ep_cfg *e = w->eps[i];
		const struct net_cfg *nc = drv_network_get(d, e->net_id);
		const struct eng_endpoint *x = names_endpoint(n, e->id);

		if (nc == NULL || !nc->opts.internal)
			w->internal_only = false;
		if (has_net(w, e->net_id))
			continue;
		if (x != NULL && strcmp(x->net_id, e->net_id) != 0)
			x = NULL;
		if (net_add(w, e->net_id, n != NULL ? net_name(n, d,
		    e->net_id) : NULL, e, x) < 0)
			return -ENOMEM;
	}
	for (size_t i = 0; n != NULL && i < n->n; i++) {
		const struct eng_container *c = &n->ctrs[i].c;

		if (!at_key(c, w->key))
			continue;
		for (size_t j = 0; j < c->neps; j++) {
			const struct eng_endpoint *x = &c->eps[j];

			/* A cbridge network the driver has no join on is
			 * not the sandbox's yet (or any more).  IDs are hex,
			 * which keeps the sig unambiguous. */
			if (!eng_id_valid(x->net_id, strlen(x->net_id)) ||
			    drv_network_get(d, x->net_id) != NULL ||
			    has_net(w, x->net_id))
				continue;
			if (net_add(w, x->net_id, names_valid(x->net_name) ?
			    x->net_name : NULL, NULL, x) < 0)
				return -ENOMEM;
			w->internal_only = false;
		}
	}
	return 0;
}

/* Whether a network named name serves names: dockerd creates endpoints
 * on the predefined networks without name resolution. */
static bool
net_served(const char *name)
{
	static const char *const predefined[] = { "bridge", "host", "none",
	    "default" };

	if (name == NULL || !names_valid(name))
		return false;
	for (size_t i = 0; i < sizeof(predefined) / sizeof(predefined[0]);
	    i++)
		if (strcmp(name, predefined[i]) == 0)
			return false;
	return true;
}

/* Whether a link is served: both its names can be. */
static bool
link_served(const struct eng_link *l)
{
	return names_valid(l->alias) && names_valid(l->target);
}

static int
plan_sig(struct sbx_want *w)
{
	size_t len = 1, k = 0;

	for (size_t i = 0; i < w->nnets; i++) {
		const struct sbx_net *sn = &w->nets[i];

		len += strlen(sn->net_id) + 1;
		for (size_t j = 0; sn->x != NULL && net_served(sn->name) &&
		    j < sn->x->nlinks; j++)
			len += strlen(sn->x->links[j].alias) +
			    strlen(sn->x->links[j].target) + 2;
	}
	if ((w->sig = malloc(len)) == NULL)
		return -ENOMEM;
	/* '/' and '=' are in neither IDs nor servable names. */
	for (size_t i = 0; i < w->nnets; i++) {
		const struct sbx_net *sn = &w->nets[i];

		k += (size_t)snprintf(w->sig + k, len - k, "%s", sn->net_id);
		for (size_t j = 0; sn->x != NULL && net_served(sn->name) &&
		    j < sn->x->nlinks; j++)
			if (link_served(&sn->x->links[j]))
				k += (size_t)snprintf(w->sig + k, len - k,
				    "/%s=%s", sn->x->links[j].alias,
				    sn->x->links[j].target);
		k += (size_t)snprintf(w->sig + k, len - k, ",");
	}
	w->sig[k] = '\0';
	return 0;
}

int
names_plan(const struct names *n, const struct drv *d, struct sbx_want **ret,
    size_t *ret_n)
{
	struct sbx_want *w = NULL;
	size_t nw = 0, neps = drv_endpoint_count(d);

	for (size_t i = 0; i < neps; i++) {
		const struct ep_cfg *e = drv_endpoint_at(d, i);
		size_t j;

		if (!e->joined || e->sandbox[0] == '\0')
			continue;
		for (j = 0; j < nw; j++)
			if (strcmp(w[j].key, e->sandbox) == 0)
				break;
		if (j == nw) {
			struct sbx_want *p = realloc(w, (nw + 1) * sizeof(*p));

			if (p == NULL)
				goto fail;
			w = p;
			memset(&w[nw], 0, sizeof(w[nw]));
			w[nw++].key = e->sandbox;
		}
		if (plan_add(&w[j], e) < 0)
			goto fail;
	}
	for (size_t j = 0; j < nw; j++)
		if (plan_nets(&w[j], n, d) < 0 || plan_sig(&w[j]) < 0)
			goto fail;
	*ret = w;
	*ret_n = nw;
	return 0;
fail:
	names_plan_free(w, nw);
	return -ENOMEM;
}

/* The rest of path after root ("/x" or ""), NULL when not under it. */
static const char *
under(const char *path, const char *root)
{
	size_t n = strlen(root);

	if (n == 0 || strncmp(path, root, n) != 0 ||
	    (path[n] != '/' && path[n] != '\0'))
		return NULL;
	return path + n;
}

int
names_sandbox_path(const char *key, const char *exec_root,
    const char *mount, char *buf, size_t len)
{
	const char *rest = NULL;
	int n;

	if (exec_root != NULL && exec_root[0] != '\0' && mount != NULL &&
	    mount[0] != '\0') {
		rest = under(key, exec_root);
		/* /var/run is a link to /run on every current distribution. */
		if (rest == NULL && strncmp(exec_root, "/var/run/", 9) == 0)
			rest = under(key, exec_root + 4);
		if (rest == NULL && strncmp(exec_root, "/run/", 5) == 0 &&
		    strncmp(key, "/var/run/", 9) == 0)
			rest = under(key + 4, exec_root);
	}
	n = rest ? snprintf(buf, len, "%s%s", mount, rest) :
	    snprintf(buf, len, "%s", key);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

bool
names_valid(const char *name)
{
	size_t len = strlen(name), label = 0;

	if (len == 0 || len > 253)
		return false;
	for (size_t i = 0; i < len; i++) {
		char ch = name[i];

		if (ch == '.') {
			if (label == 0)
				return false;
			label = 0;
			continue;
		}
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || ch == '-' || ch == '_'))
			return false;
		if (++label > 63)
			return false;
	}
	return label > 0;
}

/* One container on one network, as the zone gets it. */
struct entry {
	const struct eng_endpoint *x;	/* its names */
	bool		has4, has6;
	struct in_addr	a4;
	struct in6_addr	a6;
};

struct entries {
	struct entry	*e;
	size_t		n, cap;
};

static int
entry_add(struct entries *l, const struct eng_endpoint *x, bool has4,
    const void *a4, bool has6, const void *a6)
{
	struct entry *p;

	if (!has4 && !has6)
		return 0;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;

		if ((p = realloc(l->e, cap * sizeof(*p))) == NULL)
			return -ENOMEM;
		l->e = p;
		l->cap = cap;
	}
	p = &l->e[l->n++];
	memset(p, 0, sizeof(*p));
	p->x = x;
	p->has4 = has4;
	p->has6 = has6;
	if (has4)
		memcpy(&p->a4, a4, sizeof(p->a4));
	if (has6)
		memcpy(&p->a6, a6, sizeof(p->a6));
	return 0;
}

/* Every container known on sn's network with its addresses there. */
static int
net_entries(const struct names *n, const struct drv *d,
    const struct sbx_net *sn, struct entries *l)
{
	if (sn->ep != NULL) {
		size_t neps = drv_endpoint_count(d);

		for (size_t k = 0; k < neps; k++) {
			const struct ep_cfg *e = drv_endpoint_at(d, k);
			const struct eng_endpoint *x;

			if (!e->joined || strcmp(e->net_id, sn->net_id) != 0 ||
			    (x = names_endpoint(n, e->id)) == NULL)
				continue;
			if (entry_add(l, x, e->has_addr4, e->addr4.addr,
			    e->has_addr6, e->addr6.addr) < 0)
				return -ENOMEM;
		}
		return 0;
	}
	for (size_t i = 0; n != NULL && i < n->n; i++) {
		const struct eng_container *c = &n->ctrs[i].c;

		for (size_t j = 0; j < c->neps; j++) {
			const struct eng_endpoint *x = &c->eps[j];

			if (strcmp(x->net_id, sn->net_id) != 0)
				continue;
			if (entry_add(l, x, x->has_addr4, &x->addr4,
			    x->has_addr6, &x->addr6) < 0)
				return -ENOMEM;
		}
	}
	return 0;
}

/* Whether name is a served link alias of the sandbox's endpoint x. */
static bool
is_alias(const struct eng_endpoint *x, const char *name)
{
	for (size_t i = 0; x != NULL && i < x->nlinks; i++)
		if (link_served(&x->links[i]) &&
		    strcasecmp(x->links[i].alias, name) == 0)
			return true;
	return false;
}

static bool
servable(const char *name, const char *netname)
{
	return names_valid(name) && strlen(name) + strlen(netname) + 1 <= 253;
}

static int
add_entry(struct dns_zone *z, size_t net, const struct entry *en,
    const char *netname, const struct eng_endpoint *self, char *err,
    size_t errlen)
{
	const char *keep[DNS_ZONE_NAMES_MAX];
	const struct eng_endpoint *x = en->x;
	size_t k = 0;

	for (size_t i = 0; i < x->nnames && k < DNS_ZONE_NAMES_MAX; i++)
		if (servable(x->names[i], netname) &&
		    !is_alias(self, x->names[i]))
			keep[k++] = x->names[i];
	if (k == 0)
		return 0;
	return dns_zone_add(z, net, keep, k, en->has4 ? &en->a4 : NULL,
	    en->has6 ? &en->a6 : NULL, err, errlen);
}

/* The sandbox's link aliases on the network: each with the addresses of
 * the containers there that have the target's name. */
static int
add_links(struct dns_zone *z, size_t net, const struct entries *l,
    const char *netname, const struct eng_endpoint *self, char *err,
    size_t errlen)
{
	for (size_t i = 0; self != NULL && i < self->nlinks; i++) {
		const struct eng_link *ln = &self->links[i];
		const char *alias = ln->alias;

		if (!link_served(ln) || !servable(alias, netname))
			continue;
		for (size_t j = 0; j < l->n; j++) {
			const struct entry *en = &l->e[j];
			bool match = false;
			int r;

			for (size_t k = 0; k < en->x->nnames && !match; k++)
				match = strcasecmp(en->x->names[k],
				    ln->target) == 0;
			if (!match)
				continue;
			r = dns_zone_add(z, net, &alias, 1,
			    en->has4 ? &en->a4 : NULL,
			    en->has6 ? &en->a6 : NULL, err, errlen);
			if (r == -ENOMEM)
				return r;
		}
	}
	return 0;
}

struct dns_zone *
names_zone(const struct names *n, const struct drv *d,
    const struct sbx_want *w, uint32_t ttl, char *err, size_t errlen)
{
	struct entries l = { 0 };
	struct dns_zone *z;
	int r;

	if ((z = dns_zone_new()) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (dns_zone_set_ttl(z, ttl, err, errlen) < 0)
		return dns_zone_free(z);
	for (size_t i = 0; i < w->nnets; i++) {
		const struct sbx_net *sn = &w->nets[i];
		bool dup = false;
		int idx;

		for (size_t j = 0; j < i; j++)
			dup |= strcmp(w->nets[j].net_id, sn->net_id) == 0;
		if (dup || !net_served(sn->name))
			continue;
		idx = dns_zone_add_network(z, sn->name, err, errlen);
		if (idx == -ENOMEM)
			goto oom;
		if (idx < 0)
			continue;	/* over the limit: the first ones stay */
		l.n = 0;
		if (net_entries(n, d, sn, &l) < 0)
			goto oom;
		/* Names first: an address's PTR is its container's name. */
		for (size_t j = 0; j < l.n; j++) {
			r = add_entry(z, (size_t)idx, &l.e[j], sn->name, sn->x,
			    err, errlen);
			if (r == -ENOMEM)
				goto oom;
			/* Other failures (a limit) leave that one out. */
		}
		if (add_links(z, (size_t)idx, &l, sn->name, sn->x, err,
		    errlen) < 0)
			goto oom;
	}
	free(l.e);
	return z;
oom:
	snprintf(err, errlen, "out of memory");
	free(l.e);
	return dns_zone_free(z);
}
