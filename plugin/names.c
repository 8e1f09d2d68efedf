#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

void
names_plan_free(struct sbx_want *w, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(w[i].eps);
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

static int
plan_sig(struct sbx_want *w, const struct drv *d)
{
	size_t k = 0;

	w->sig = malloc(w->neps * (NET_ID_LEN + 1) + 1);
	if (w->sig == NULL)
		return -ENOMEM;
	w->internal_only = true;
	for (size_t i = 0; i < w->neps; i++) {
		const struct net_cfg *n = drv_network_get(d,
		    w->eps[i]->net_id);

		if (n == NULL || !n->opts.internal)
			w->internal_only = false;
		memcpy(w->sig + k, w->eps[i]->net_id, NET_ID_LEN);
		k += NET_ID_LEN;
		w->sig[k++] = ',';
	}
	w->sig[k] = '\0';
	return 0;
}

int
names_plan(const struct drv *d, struct sbx_want **ret, size_t *ret_n)
{
	struct sbx_want *w = NULL;
	size_t n = 0, neps = drv_endpoint_count(d);

	for (size_t i = 0; i < neps; i++) {
		const struct ep_cfg *e = drv_endpoint_at(d, i);
		size_t j;

		if (!e->joined || e->sandbox[0] == '\0')
			continue;
		for (j = 0; j < n; j++)
			if (strcmp(w[j].key, e->sandbox) == 0)
				break;
		if (j == n) {
			struct sbx_want *p = realloc(w, (n + 1) * sizeof(*p));

			if (p == NULL)
				goto fail;
			w = p;
			memset(&w[n], 0, sizeof(w[n]));
			w[n++].key = e->sandbox;
		}
		if (plan_add(&w[j], e) < 0)
			goto fail;
	}
	for (size_t j = 0; j < n; j++)
		if (plan_sig(&w[j], d) < 0)
			goto fail;
	*ret = w;
	*ret_n = n;
	return 0;
fail:
	names_plan_free(w, n);
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

static int
add_endpoint(struct dns_zone *z, size_t net, const struct ep_cfg *e,
    const struct eng_endpoint *x, char *err, size_t errlen)
{
	const char *keep[DNS_ZONE_NAMES_MAX];
	struct in_addr a4;
	struct in6_addr a6;
	size_t k = 0;

	for (size_t i = 0; i < x->nnames && k < DNS_ZONE_NAMES_MAX; i++)
		if (names_valid(x->names[i]) && strlen(x->names[i]) +
		    strlen(x->net_name) + 1 <= 253)
			keep[k++] = x->names[i];
	if (k == 0 || (!e->has_addr4 && !e->has_addr6))
		return 0;
	if (e->has_addr4)
		memcpy(&a4, e->addr4.addr, sizeof(a4));
	if (e->has_addr6)
		memcpy(&a6, e->addr6.addr, sizeof(a6));
	return dns_zone_add(z, net, keep, k, e->has_addr4 ? &a4 : NULL,
	    e->has_addr6 ? &a6 : NULL, err, errlen);
}

struct dns_zone *
names_zone(const struct names *n, const struct drv *d,
    const struct sbx_want *w, uint32_t ttl, char *err, size_t errlen)
{
	struct dns_zone *z;
	size_t neps = drv_endpoint_count(d);
	int r;

	if ((z = dns_zone_new()) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (dns_zone_set_ttl(z, ttl, err, errlen) < 0)
		return dns_zone_free(z);
	for (size_t i = 0; i < w->neps; i++) {
		const char *net_id = w->eps[i]->net_id, *name;
		bool dup = false;
		int idx;

		for (size_t j = 0; j < i; j++)
			dup |= strcmp(w->eps[j]->net_id, net_id) == 0;
		if (dup || (name = net_name(n, d, net_id)) == NULL)
			continue;
		idx = dns_zone_add_network(z, name, err, errlen);
		if (idx == -ENOMEM)
			return dns_zone_free(z);
		if (idx < 0)
			continue;	/* over the limit: the first ones stay */
		for (size_t k = 0; k < neps; k++) {
			const struct ep_cfg *e = drv_endpoint_at(d, k);
			const struct eng_endpoint *x;

			if (!e->joined || strcmp(e->net_id, net_id) != 0 ||
			    (x = names_endpoint(n, e->id)) == NULL)
				continue;
			r = add_endpoint(z, (size_t)idx, e, x, err, errlen);
			if (r == -ENOMEM)
				return dns_zone_free(z);
			/* Other failures (a limit) leave that one out. */
		}
	}
	return z;
}
