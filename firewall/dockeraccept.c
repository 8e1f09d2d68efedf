/*
 * The docker-accept shim: the nft half of the host firewall, through
 * libnftables.  It is not an nftables rule backend of its own: the full
 * rule model lives in the legacy iptables tables (firewall/iptc.c); where
 * dockerd uses iptables-nft, its nft "filter" FORWARD policy is DROP and
 * would drop what the legacy tables accept, so this half only adds, per
 * network and family, two accepts: traffic from the bridge and traffic to
 * it, whatever the network's options.
 *
 * It reads dockerd's "filter" tables (ip and ip6) as JSON, lets the planner
 * decide, and applies the difference in one nft transaction, so that a
 * failure changes nothing.  It only ever deletes rules whose comment is
 * "cbridge:<ID>" and only inserts rules into chains that exist: dockerd's
 * tables and chains are never created, flushed or deleted here.
 *
 * Rules are written in nft syntax that iptables-nft reads back
 * (iifname/oifname, counter, accept, comment), so `iptables -S` shows them
 * and dockerd, which parses that table through iptables-nft, is not
 * confused by them.
 *
 * Docker 29 with its nftables backend has no DOCKER-USER: its forward
 * rules are in table docker-bridges (ip and ip6), whose base chain
 * filter-FORWARD sends packets of Docker's bridges to their chains
 * through two verdict maps and leaves the rest to its policy.  Where that
 * chain exists the same two accepts per network go at its end, after
 * Docker's jumps, so that Docker's own rules still decide about traffic
 * to and from its bridges.  Docker never reads its table back and never
 * minds a foreign rule in it, but it flushes or re-creates the table when
 * it starts (and when one of its updates fails): the periodic sync puts
 * the accepts back (firewall/README.md, "Docker 29's nftables backend").
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


#include "firewall/common.h"
#include "firewall/firewall.h"
#include "firewall/nftio.h"

/* Longest line of a transaction: "insert rule ip6 filter DOCKER-USER
 * position <20> iifname "<15>" counter accept comment "cbridge:<64>"",
 * or "add rule ip6 docker-bridges filter-FORWARD iifname ...". */
#define CMD_LINE_MAX	256

struct fw_dacc {
	struct fw	fw;		/* first: the ops table */
	struct fw_nftio	io;
	/* The ruleset's generation after the last sync that succeeded, and
	 * a hash of the networks it was for: while neither changes, the
	 * once-a-second check has nothing to read (listing a large ruleset
	 * costs tens of milliseconds). */
	/* Whether FORWARD may hold rules of ours: until a read found none
	 * there, and after cbridge put some there (DOCKER-USER missing).
	 * dockerd's FORWARD is long; reading it for nothing is slow. */
	bool		forward_maybe;
	bool		have_last;
	uint32_t	last_gen;
	uint32_t	last_key;
	/* dockerd's bridges and the generation they were read at. */
	bool		have_bridges;
	uint32_t	bridges_gen;
	struct fw_ifnames bridges4, bridges6;
};

static const struct fw_ops dacc_ops;

static int
run(struct fw_dacc *n, const char *cmd, bool json, const char **ret_out,
    const char *what, char *err, size_t errlen)
{
	return fw_nftio_run(&n->io, cmd, json, ret_out, what, err, errlen);
}

static int
read_gen(struct fw_dacc *n, uint32_t *ret)
{
	return fw_nftio_gen(&n->io, ret);
}

/* What of the networks the nft rules depend on. */
static uint32_t
model_key(const struct fw_model *m)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < m->nnets; i++) {
		const struct fw_net *net = &m->nets[i];
		const char *parts[] = { net->id, net->bridge,
		    net->ipv4 ? "4" : "-", net->ipv6 ? "6" : "-", "|" };

		for (size_t j = 0; j < sizeof(parts) / sizeof(parts[0]); j++)
			for (const char *c = parts[j]; *c != '\0'; c++) {
				h ^= (unsigned char)*c;
				h *= 16777619u;
			}
	}
	return h;
}

/* Which filter tables and chains exist, per family (a chain implies its
 * table; a table without chains takes no rule).  Only dockerd's tables
 * are listed: `list chains` would list every table's, cbridge's own
 * nftables backend with hundreds of networks included. */
static int
read_host(struct fw_dacc *n, struct fw_host *host4, struct fw_host *host6,
    char *err, size_t errlen)
{
	static const char *const tables[] = { FW_TABLE, FW_TABLE_DOCKER_NFT };
	static const int fams[] = { AF_INET, AF_INET6 };
	struct fw_host h4 = { 0 }, h6 = { 0 };
	const char *out;
	char cmd[96];
	bool have[2][2];
	int r;

	for (size_t f = 0; f < 2; f++)
		for (size_t t = 0; t < 2; t++)
			if ((r = fw_nftio_table_exists(&n->io, fams[f],
			    tables[t], &have[f][t])) < 0) {
				fw_seterr(err, errlen, "Failed to list the "
				    "nftables tables: %s", strerror(-r));
				return r;
			}
	for (size_t f = 0; f < 2; f++)
		for (size_t t = 0; t < 2; t++) {
			if (!have[f][t])
				continue;
			(void) snprintf(cmd, sizeof(cmd), "list table %s %s",
			    fw_family_name(fams[f]), tables[t]);
			r = run(n, cmd, true, &out, "list dockerd's nftables "
			    "tables", err, errlen);
			/* Gone since `list tables`: nothing of it. */
			if (r == -ENOENT)
				continue;
			if (r < 0)
				return r;
			if ((r = fw_parse_host(out, &h4, &h6)) < 0) {
				fw_seterr(err, errlen, "Failed to list the "
				    "nftables tables and chains: cannot read "
				    "nft's JSON output of '%s'", cmd);
				return r;
			}
		}
	*host4 = h4;
	*host6 = h6;
	return 0;
}

/* Appends the cbridge rules of chain <family> <its table> <chain> to vec;
 * ret_return (may be NULL) gets the handle of a final plain return. */
static int
read_chain(struct fw_dacc *n, int family, const char *chain,
    struct fw_rule_vec *vec, unsigned long long *ret_return, char *err,
    size_t errlen)
{
	const char *fam = fw_family_name(family), *out;
	const char *table = fw_chain_table(chain);
	char cmd[CMD_LINE_MAX], what[CMD_LINE_MAX];
	int r;

	if (fam == NULL || table == NULL)
		return -EINVAL;
	(void) snprintf(cmd, sizeof(cmd), "list chain %s %s %s", fam, table,
	    chain);
	(void) snprintf(what, sizeof(what), "list chain '%s %s %s'", fam,
	    table, chain);
	if ((r = run(n, cmd, true, &out, what, err, errlen)) < 0)
		return r;
	if ((r = fw_parse_rules(out, family, chain, vec)) < 0) {
		fw_seterr(err, errlen, "Failed to %s: cannot read nft's JSON "
		    "output", what);
		return r;
	}
	if (ret_return != NULL)
		*ret_return = fw_parse_final_return(out);
	return 0;
}

/* Appends one line to the transaction in buf (size len, used *off).  An
 * added rule goes before handle before_handle, or, when that is 0, first
 * in FORWARD and last in a DOCKER-USER without a final return and in
 * Docker 29's filter-FORWARD. */
static int
put_line(char *buf, size_t len, size_t *off, const struct fw_rule *r,
    bool add, unsigned long long before_handle)
{
	char where[64] = "";
	const char *verb = "insert";
	const char *fam = fw_family_name(r->family);
	const char *table;
	int w;

	/* Nothing unchecked goes into a command. */
	if (fam == NULL || memchr(r->chain, '\0', sizeof(r->chain)) == NULL ||
	    (table = fw_chain_table(r->chain)) == NULL)
		return -EINVAL;
	if (add) {
		/* Exactly one of the names: "iifname" or "oifname". */
		bool in = r->iif[0] != '\0';
		const char *name = in ? r->iif : r->oif;

		if ((in && r->oif[0] != '\0') || !fw_valid_ifname(name) ||
		    !fw_valid_id(r->id))
			return -EINVAL;
		if (before_handle != 0)
			(void) snprintf(where, sizeof(where), " position %llu",
			    before_handle);
		else if (strcmp(r->chain, FW_CHAIN_FORWARD) != 0)
			verb = "add";
		w = snprintf(buf + *off, len - *off, "%s rule %s %s %s%s "
		    "%s \"%s\" counter accept comment \"%s%s\"\n", verb, fam,
		    table, r->chain, where, in ? "iifname" : "oifname", name,
		    FW_COMMENT_PREFIX, r->id);
	} else {
		if (r->handle == 0)
			return -EINVAL;
		w = snprintf(buf + *off, len - *off, "delete rule %s %s %s "
		    "handle %llu\n", fam, table, r->chain, r->handle);
	}
	if (w < 0 || (size_t)w >= len - *off)
		return -ENOBUFS;
	*off += (size_t)w;
	return 0;
}

/* Applies p as one transaction: deletions first, then insertions. */
static int
apply(struct fw_dacc *n, const struct fw_plan *p, const struct fw_host *host4,
    const struct fw_host *host6, char *err, size_t errlen)
{
	size_t len, off = 0, i;
	char *buf;
	int r = 0;

	len = (p->ndel + p->nadd) * CMD_LINE_MAX + 1;
	if ((buf = malloc(len)) == NULL) {
		fw_seterr(err, errlen, "Failed to update the firewall rules: "
		    "%s", strerror(ENOMEM));
		return -ENOMEM;
	}
	buf[0] = '\0';
	for (i = 0; i < p->ndel && r == 0; i++)
		r = put_line(buf, len, &off, &p->del[i], false, 0);
	for (i = 0; i < p->nadd && r == 0; i++) {
		const struct fw_host *h = p->add[i].family == AF_INET ?
		    host4 : host6;

		r = put_line(buf, len, &off, &p->add[i], true,
		    strcmp(p->add[i].chain, FW_CHAIN_DOCKER_USER) == 0 ?
		    h->docker_user_return : 0);
	}
	if (r < 0) {
		fw_seterr(err, errlen, "Failed to update the firewall rules: "
		    "the plan holds a rule that cannot be written (%s)",
		    strerror(-r));
		goto out;
	}
	r = run(n, buf, false, NULL, "update the firewall rules in "
	    "dockerd's nft chains (DOCKER-USER, FORWARD, filter-FORWARD)",
	    err, errlen);
out:
	free(buf);
	return r;
}

static struct fw_dacc *
to_dacc(struct fw *f)
{
	if (f == NULL || f->ops != &dacc_ops) {
		fprintf(stderr, "fw dacc: not a docker-accept fw\n");
		abort();
	}
	return (struct fw_dacc *)f;
}

/* Only m->nets matters here: endpoints, ports and WSL2 are the legacy
 * tables' business. */
static int
dacc_sync(struct fw *f, const struct fw_model *m, char *err, size_t errlen)
{
	static const int families[] = { AF_INET, AF_INET6 };
	struct fw_dacc *n = to_dacc(f);
	struct fw_host host4, host6;
	struct fw_rule_vec cur = { 0 };
	struct fw_plan plan = { 0 };
	uint32_t key, gen = 0, after;
	bool have_now, wrote = false;
	int r;

	if (m == NULL) {
		fw_seterr(err, errlen, "Failed to set up the firewall: no "
		    "model given");
		return -EINVAL;
	}
	if ((r = fw_check_nets(m->nets, m->nnets, err, errlen)) < 0)
		return r;
	key = model_key(m);
	if (n->have_last)
		fw_nftio_follow(&n->io, &n->last_gen);
	have_now = read_gen(n, &gen) == 0;
	if (n->have_last && key == n->last_key && have_now &&
	    gen == n->last_gen)
		return 0;
	n->have_last = false;
	if ((r = read_host(n, &host4, &host6, err, errlen)) < 0)
		goto out;
	/* Rules of ours can be in either chain (FORWARD until dockerd made
	 * DOCKER-USER); both are read so that misplaced ones go. */
	for (size_t i = 0; i < sizeof(families) / sizeof(families[0]); i++) {
		struct fw_host *h = families[i] == AF_INET ? &host4 : &host6;

		if (h->has_docker_user && (r = read_chain(n, families[i],
		    FW_CHAIN_DOCKER_USER, &cur, &h->docker_user_return, err,
		    errlen)) < 0)
			goto out;
		if (h->has_forward && (!h->has_docker_user ||
		    n->forward_maybe) && (r = read_chain(n, families[i],
		    FW_CHAIN_FORWARD, &cur, NULL, err, errlen)) < 0)
			goto out;
		/* Docker 29's table, apart from the filter table. */
		if (h->has_docker_forward && (r = read_chain(n, families[i],
		    FW_CHAIN_DOCKER_FORWARD, &cur, NULL, err, errlen)) < 0)
			goto out;
	}
	r = fw_plan_compute(m->nets, m->nnets, &host4, &host6, cur.v, cur.n,
	    &plan);
	if (r < 0) {
		fw_seterr(err, errlen, "Failed to plan the firewall rules: %s",
		    strerror(-r));
		goto out;
	}
	/* sync runs often: no transaction when nothing changes. */
	wrote = plan.nadd != 0 || plan.ndel != 0;
	if (wrote)
		r = apply(n, &plan, &host4, &host6, err, errlen);
	if (r == 0) {
		bool fwd = false;

		for (size_t i = 0; i < plan.nadd; i++)
			fwd |= strcmp(plan.add[i].chain, FW_CHAIN_FORWARD) == 0;
		/* Read both families' FORWARD this time: anything of ours
		 * found there was just deleted or is planned to stay. */
		for (size_t i = 0; i < cur.n && !fwd; i++)
			fwd = strcmp(cur.v[i].chain, FW_CHAIN_FORWARD) == 0;
		/* Without DOCKER-USER, FORWARD is read anyway. */
		n->forward_maybe = fwd;
	}
	/* Good for this generation only if nobody else wrote meanwhile. */
	if (r == 0 && have_now && read_gen(n, &after) == 0 &&
	    (wrote ? fw_nftio_wrote(&n->io, gen, after) : after == gen)) {
		n->have_last = true;
		n->last_gen = after;
		n->last_key = key;
	}
out:
	fw_plan_done(&plan);
	fw_rule_vec_done(&cur);
	return r;
}

int
fw_dacc_docker_bridges(struct fw *f, const struct fw_ifnames **ret4,
    const struct fw_ifnames **ret6, char *err, size_t errlen)
{
	static const int families[] = { AF_INET, AF_INET6 };
	struct fw_dacc *n = to_dacc(f);
	struct fw_host host4, host6;
	struct fw_ifnames b[2] = { { 0 }, { 0 } };
	uint32_t gen = 0;
	bool have_gen;
	int r;

	have_gen = read_gen(n, &gen) == 0;
	if (n->have_bridges)
		fw_nftio_follow(&n->io, &n->bridges_gen);
	if (n->have_bridges && have_gen && gen == n->bridges_gen)
		goto done;
	n->have_bridges = false;
	if ((r = read_host(n, &host4, &host6, err, errlen)) < 0)
		goto fail;
	for (size_t i = 0; i < 2; i++) {
		const struct fw_host *h = i == 0 ? &host4 : &host6;
		const char *fam = fw_family_name(families[i]), *out;
		char cmd[CMD_LINE_MAX];

		if (!h->has_isolation)
			continue;
		(void) snprintf(cmd, sizeof(cmd), "list chain %s %s %s", fam,
		    FW_TABLE, FW_CHAIN_ISOLATION);
		if ((r = run(n, cmd, true, &out, "list dockerd's isolation "
		    "chain", err, errlen)) < 0)
			goto fail;
		if ((r = fw_parse_docker_bridges(out, families[i],
		    &b[i])) < 0) {
			fw_seterr(err, errlen, "Failed to read dockerd's "
			    "isolation chain: %s", r == -ENOMEM ? "out of "
			    "memory" : "cannot read nft's JSON output");
			goto fail;
		}
	}
	fw_ifnames_done(&n->bridges4);
	fw_ifnames_done(&n->bridges6);
	n->bridges4 = b[0];
	n->bridges6 = b[1];
	n->have_bridges = have_gen;
	n->bridges_gen = gen;
done:
	*ret4 = &n->bridges4;
	*ret6 = &n->bridges6;
	return 0;
fail:
	fw_ifnames_done(&b[0]);
	fw_ifnames_done(&b[1]);
	return r;
}

void
fw_dacc_share_log(struct fw *f, struct fw_nftlog *log)
{
	to_dacc(f)->io.log = log;
}

int
fw_dacc_docker_nft(struct fw *f, bool *ret, char *err, size_t errlen)
{
	struct fw_dacc *n = to_dacc(f);
	bool have4 = false, have6 = false;
	int r;

	if ((r = fw_nftio_table_exists(&n->io, AF_INET, FW_TABLE_DOCKER_NFT,
	    &have4)) < 0 || (r = fw_nftio_table_exists(&n->io, AF_INET6,
	    FW_TABLE_DOCKER_NFT, &have6)) < 0) {
		fw_seterr(err, errlen, "Failed to list the nftables tables: "
		    "%s", strerror(-r));
		return r;
	}
	*ret = have4 || have6;
	return 0;
}

/* dockerd owns the policies of its nft tables: nothing to do. */
static int
dacc_forward_drop(struct fw *f, int family, char *err, size_t errlen)
{
	(void) to_dacc(f), (void) family, (void) err, (void) errlen;
	return 0;
}

static void
dacc_free(struct fw *f)
{
	struct fw_dacc *n = to_dacc(f);

	fw_ifnames_done(&n->bridges4);
	fw_ifnames_done(&n->bridges6);
	fw_nftio_close(&n->io);
	free(n);
}

static const struct fw_ops dacc_ops = {
	.sync			= dacc_sync,
	.forward_drop		= dacc_forward_drop,
	.free			= dacc_free,
};

struct fw *
fw_dacc_new(char *err, size_t errlen)
{
	struct fw_dacc *n;

	if ((n = calloc(1, sizeof(*n))) == NULL) {
		fw_seterr(err, errlen, "Failed to set up nftables: %s",
		    strerror(ENOMEM));
		return NULL;
	}
	n->fw.ops = &dacc_ops;
	n->io.gen_fd = -1;
	n->forward_maybe = true;
	if (fw_nftio_open(&n->io, err, errlen) < 0)
		goto fail;
	return &n->fw;
fail:
	dacc_free(&n->fw);
	return NULL;
}
