/*
 * The firewall planner: from the networks and what the host's filter
 * tables look like, the rules cbridge should own, compared with the ones it
 * owns now.  Pure: no system calls, no globals, so it is tested without
 * root (tests/unit/check_firewall.c).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "firewall/common.h"
#include "firewall/firewall.h"

/* The chain that takes cbridge's rules for a family, or NULL when the
 * family's filter table has neither: then nothing drops forwarded
 * traffic that dockerd would have to let through, and nothing is added. */
static const char *
target_chain(const struct fw_host *h)
{
	if (h == NULL || !h->has_table)
		return NULL;
	if (h->has_docker_user)
		return FW_CHAIN_DOCKER_USER;
	if (h->has_forward)
		return FW_CHAIN_FORWARD;
	return NULL;
}

/* Everything that makes two rules the same rule; the handle is not. */
static int
cmp_key(const struct fw_rule *a, const struct fw_rule *b)
{
	int c;

	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	if ((c = strcmp(a->chain, b->chain)) != 0)
		return c;
	if ((c = strcmp(a->id, b->id)) != 0)
		return c;
	if ((c = strcmp(a->iif, b->iif)) != 0)
		return c;
	return strcmp(a->oif, b->oif);
}

static int
cmp_key_handle(const void *pa, const void *pb)
{
	const struct fw_rule *a = pa, *b = pb;
	int c;

	if ((c = cmp_key(a, b)) != 0)
		return c;
	if (a->handle != b->handle)
		return a->handle < b->handle ? -1 : 1;
	return 0;
}

/* Deletions are listed by chain and handle: the order nft shows them. */
static int
cmp_chain_handle(const void *pa, const void *pb)
{
	const struct fw_rule *a = pa, *b = pb;
	int c;

	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	if ((c = strcmp(a->chain, b->chain)) != 0)
		return c;
	if (a->handle != b->handle)
		return a->handle < b->handle ? -1 : 1;
	return 0;
}

static bool
terminated(const char *s, size_t size)
{
	return memchr(s, '\0', size) != NULL;
}

/* A found rule must name a family, one of the three chains and a handle
 * the backend can delete it by.  Any of iif and oif may be empty: both are for
 * a rule of ours of a shape cbridge does not write (edited by someone, or
 * the single iif-and-oif accept of earlier versions), which the planner
 * never wants, so it goes. */
static bool
valid_current(const struct fw_rule *r)
{
	return fw_family_name(r->family) != NULL && r->handle != 0 &&
	    terminated(r->chain, sizeof(r->chain)) &&
	    fw_chain_table(r->chain) != NULL && fw_valid_id(r->id) && terminated(r->iif, sizeof(r->iif)) &&
	    terminated(r->oif, sizeof(r->oif));
}

/* Appends the two accepts of one network and family to want: traffic
 * from the bridge, and traffic to it. */
static int
push_pair(struct fw_rule_vec *want, int family, const char *chain,
    const struct fw_net *net)
{
	struct fw_rule rule;
	int r;

	memset(&rule, 0, sizeof(rule));
	rule.family = family;
	/* Lengths were checked by the caller. */
	memcpy(rule.chain, chain, strlen(chain) + 1);
	memcpy(rule.id, net->id, sizeof(rule.id));
	memcpy(rule.iif, net->bridge, strlen(net->bridge) + 1);
	if ((r = fw_rule_vec_push(want, &rule)) < 0)
		return r;
	memset(rule.iif, 0, sizeof(rule.iif));
	memcpy(rule.oif, net->bridge, strlen(net->bridge) + 1);
	return fw_rule_vec_push(want, &rule);
}

/* Appends the rules nets call for to want, sorted, without repeats.  The
 * legacy iptables tables do the real filtering (icc, internal, published
 * ports); nft must merely not drop, so every network with a subnet of the
 * family gets both accepts whatever its options: in dockerd's filter
 * table (DOCKER-USER, else FORWARD) and, apart from that, in Docker 29's
 * filter-FORWARD, each where it exists. */
static int
desired_rules(const struct fw_net *nets, size_t n, const struct fw_host *host4,
    const struct fw_host *host6, struct fw_rule_vec *want)
{
	static const int families[] = { AF_INET, AF_INET6 };
	size_t i, j;
	int r;

	for (i = 0; i < n; i++) {
		const struct fw_net *net = &nets[i];

		if (!fw_valid_id(net->id) || !fw_valid_ifname(net->bridge))
			return -EINVAL;
		for (j = 0; j < sizeof(families) / sizeof(families[0]); j++) {
			int fam = families[j];
			bool has = fam == AF_INET ? net->ipv4 : net->ipv6;
			const struct fw_host *h = fam == AF_INET ? host4 :
			    host6;
			const char *chain = target_chain(h);

			if (!has)
				continue;
			if (chain != NULL &&
			    (r = push_pair(want, fam, chain, net)) < 0)
				return r;
			if (h != NULL && h->has_docker_forward &&
			    (r = push_pair(want, fam, FW_CHAIN_DOCKER_FORWARD,
			    net)) < 0)
				return r;
		}
	}
	if (want->n == 0)
		return 0;
	qsort(want->v, want->n, sizeof(want->v[0]), cmp_key_handle);
	/* Two networks with the same ID and bridge ask for one pair. */
	for (i = 1, j = 1; i < want->n; i++)
		if (cmp_key(&want->v[i], &want->v[j - 1]) != 0)
			want->v[j++] = want->v[i];
	want->n = j;
	return 0;
}

int
fw_plan_compute(const struct fw_net *nets, size_t n,
    const struct fw_host *host4, const struct fw_host *host6,
    const struct fw_rule *current, size_t ncurrent, struct fw_plan *ret)
{
	struct fw_rule_vec want = { 0 }, add = { 0 }, del = { 0 };
	struct fw_rule *cur = NULL;
	size_t i, c, ncur = 0;
	int r;

	if (ret == NULL || (n != 0 && nets == NULL) ||
	    (ncurrent != 0 && current == NULL))
		return -EINVAL;
	for (i = 0; i < ncurrent; i++)
		if (!valid_current(&current[i]))
			return -EINVAL;
	if ((r = desired_rules(nets, n, host4, host6, &want)) < 0)
		goto out;
	if (ncurrent != 0) {
		if ((cur = calloc(ncurrent, sizeof(*cur))) == NULL) {
			r = -ENOMEM;
			goto out;
		}
		/* A misplaced rule is never the one kept: it goes, and the
		 * rule it stood for is added again in its place. */
		for (i = 0; i < ncurrent; i++) {
			if (!current[i].misplaced)
				cur[ncur++] = current[i];
			else if ((r = fw_rule_vec_push(&del,
			    &current[i])) < 0)
				goto out;
		}
		/* Among equal rules the oldest (lowest handle) is kept. */
		if (ncur > 1)
			qsort(cur, ncur, sizeof(*cur), cmp_key_handle);
	}

	/* Merge the two sorted lists: a found rule equal to a wanted one is
	 * kept (the first of them; want has no repeats, so the others sort
	 * before the next wanted rule and go); a wanted rule with no equal is
	 * added; every other found rule is deleted. */
	c = 0;
	for (i = 0; i < want.n; i++) {
		int cmp = -1;

		while (c < ncur &&
		    (cmp = cmp_key(&cur[c], &want.v[i])) < 0) {
			if ((r = fw_rule_vec_push(&del, &cur[c])) < 0)
				goto out;
			c++;
		}
		if (c < ncur && cmp == 0)
			c++;
		else if ((r = fw_rule_vec_push(&add, &want.v[i])) < 0)
			goto out;
	}
	for (; c < ncur; c++)
		if ((r = fw_rule_vec_push(&del, &cur[c])) < 0)
			goto out;
	if (del.n > 1)
		qsort(del.v, del.n, sizeof(del.v[0]), cmp_chain_handle);

	ret->add = add.v;
	ret->nadd = add.n;
	ret->del = del.v;
	ret->ndel = del.n;
	add.v = del.v = NULL;
	r = 0;
out:
	fw_rule_vec_done(&want);
	fw_rule_vec_done(&add);
	fw_rule_vec_done(&del);
	free(cur);
	return r;
}

void
fw_plan_done(struct fw_plan *p)
{
	if (p == NULL)
		return;
	free(p->add);
	free(p->del);
	p->add = p->del = NULL;
	p->nadd = p->ndel = 0;
}
