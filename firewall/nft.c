/*
 * The nftables backend: cbridge's whole rule model in its own tables
 * "ip cbridge" and "ip6 cbridge", through libnftables.  The planner
 * (nftrules.c) says what should exist, nftstate.c what differs; this file
 * reads and writes.
 *
 * What the tables hold is remembered with every rule's handle, together
 * with the ruleset's generation after the last read or write: while the
 * generation is unchanged nobody touched any table, so a sync diffs the
 * plan against memory and writes only the difference, and the periodic
 * check costs one generation read.  When the generation moved, both
 * tables are read again.  Each write is one transaction for both
 * families, after which the tables are what was planned.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "firewall/common.h"
#include "firewall/firewall.h"
#include "firewall/nftio.h"
#include "firewall/nftplan.h"
#include "firewall/nftwire.h"

struct fw_nft {
	struct fw		fw;	/* first: the ops table */
	struct fw_nftio		io;
	bool			drop[2];	/* forward policy drop */
	bool			have[2];	/* found[] is what the kernel has */
	struct fw_nfound	found[2];
	bool			have_gen;
	uint32_t		gen;	/* after the last read or write */
	struct fw_nmem		mem;	/* what each network's plan made */
	struct fw_nwire		*wire;	/* NULL: libnftables writes all */
	unsigned long		batches, fallbacks;
};

static const struct fw_ops nftb_ops;
static const int families[2] = { AF_INET, AF_INET6 };

static struct fw_nft *
to_nftb(struct fw *f)
{
	if (f == NULL || f->ops != &nftb_ops) {
		fprintf(stderr, "fw nft: not an nftables fw\n");
		abort();
	}
	return (struct fw_nft *)f;
}

/* Reads the family's table into n->found[fi]. */
static int
read_table(struct fw_nft *n, size_t fi, char *err, size_t errlen)
{
	const char *fam = fw_family_name(families[fi]), *out = "";
	char cmd[64], what[96];
	int r;

	n->have[fi] = false;
	fw_nft_found_done(&n->found[fi]);
	(void) snprintf(cmd, sizeof(cmd), "list table %s %s", fam,
	    FW_NFT_TABLE);
	(void) snprintf(what, sizeof(what), "list table '%s %s'", fam,
	    FW_NFT_TABLE);
	r = fw_nftio_run(&n->io, cmd, true, &out, what, err, errlen);
	if (r == -ENOENT)
		out = "";
	else if (r < 0)
		return r;
	r = fw_nft_parse(out, families[fi], &n->found[fi]);
	if (r == -EBADMSG) {
		/* nft 1.0.6 writes broken JSON for some tables (a dormant
		 * one: `"flags": ` and nothing): a table of ours that cannot
		 * be read is written again whole. */
		n->found[fi].table = true;
		n->found[fi].odd = true;
		r = 0;
	}
	if (r < 0) {
		fw_seterr(err, errlen, "Failed to %s: out of memory", what);
		return r;
	}
	/* A drop policy found stays: it was set because cbridge turned
	 * forwarding on, maybe before a restart. */
	for (size_t i = 0; i < n->found[fi].nchains; i++)
		if (strcmp(n->found[fi].chains[i].hook, "forward") == 0 &&
		    n->found[fi].chains[i].drop)
			n->drop[fi] = true;
	n->have[fi] = true;
	return 0;
}

/* Runs script, one transaction; what was remembered goes when it
 * fails. */
static int
write_script(struct fw_nft *n, const char *script, char *err,
    size_t errlen)
{
	int r;

	r = fw_nftio_run(&n->io, script, false, NULL, "update cbridge's "
	    "nftables tables", err, errlen);
	if (r < 0) {
		n->have[0] = n->have[1] = false;
		n->mem.valid = false;
	}
	return r;
}

/* The whole plan against what the tables hold (read again unless
 * fresh); how much was written in *wrote. */
static int
sync_whole(struct fw_nft *n, const struct fw_model *m, bool fresh,
    size_t *wrote, char *err, size_t errlen)
{
	struct fw_nplan plan;
	char *script[2] = { NULL, NULL }, *all = NULL;
	size_t len;
	int r;

	*wrote = 0;
	for (size_t fi = 0; fi < 2; fi++)
		if ((!fresh || !n->have[fi]) &&
		    (r = read_table(n, fi, err, errlen)) < 0)
			return r;
	if ((r = fw_nft_compute(m, n->drop[0], n->drop[1], &plan, err,
	    errlen)) < 0)
		return r;
	for (size_t fi = 0; fi < 2; fi++)
		if ((r = fw_nft_diff(&plan, families[fi], &n->found[fi],
		    &script[fi])) < 0) {
			fw_seterr(err, errlen, "Failed to update the nftables "
			    "rules: %s", r == -ENOMEM ? "out of memory" :
			    "the plan cannot be written");
			goto out;
		}
	len = strlen(script[0]) + strlen(script[1]);
	if (len != 0) {
		if ((all = malloc(len + 1)) == NULL) {
			r = -ENOMEM;
			fw_seterr(err, errlen, "Failed to update the nftables "
			    "rules: out of memory");
			goto out;
		}
		(void) snprintf(all, len + 1, "%s%s", script[0], script[1]);
		if ((r = write_script(n, all, err, errlen)) < 0)
			goto out;
		for (size_t fi = 0; fi < 2; fi++)
			if (fw_nft_found_update(&n->found[fi], &plan,
			    families[fi]) < 0)
				n->have[fi] = false;
	}
	/* The tables hold the whole plan: remembered per network for the
	 * syncs that change only networks. */
	if (fw_nft_mem_build(m, n->drop[0], n->drop[1], &plan, &n->mem) < 0)
		n->mem.valid = false;
	*wrote = len;
	r = 0;
out:
	free(all);
	free(script[0]);
	free(script[1]);
	fw_nft_plan_done(&plan);
	return r;
}

static int
nftb_sync(struct fw *f, const struct fw_model *m, char *err, size_t errlen)
{
	struct fw_nft *n = to_nftb(f);
	uint32_t before = 0, after;
	bool fresh, have_now;
	size_t wrote = 0;
	char *script = NULL;
	int inc = 0, r = 0;

	if (m == NULL) {
		fw_seterr(err, errlen, "Failed to set up the firewall: no "
		    "model given");
		return -EINVAL;
	}
	/* Someone else wrote a transaction since ours (our own and the
	 * shim's steps followed): read both tables. */
	have_now = fw_nftio_gen(&n->io, &before) == 0;
	if (n->have_gen)
		fw_nftio_follow(&n->io, &n->gen);
	fresh = have_now && n->have_gen && before == n->gen;
	n->have_gen = false;
	/* Nobody else wrote: when only networks changed, only they are
	 * planned and written. */
	if (!fresh)
		n->mem.valid = false;
	else if ((inc = fw_nft_incr(&n->mem, m, n->drop[0], n->drop[1],
	    &script, err, errlen)) < 0)
		return inc;
	if (inc > 0) {
		if ((wrote = strlen(script)) != 0) {
			/* found[] no longer says what the tables hold. */
			n->have[0] = n->have[1] = false;
			/* A batch that failed changed nothing: libnftables
			 * runs it again, and says why when it fails too. */
			if (n->wire != NULL && fw_nwire_run(n->wire, script,
			    "update cbridge's nftables tables", err,
			    errlen) == 0)
				n->batches++;
			else {
				n->fallbacks++;
				r = write_script(n, script, err, errlen);
			}
		}
		free(script);
	} else
		r = sync_whole(n, m, fresh, &wrote, err, errlen);
	if (r < 0)
		return r;
	/* What was read or written is good for this generation only if
	 * nobody else wrote meanwhile. */
	if (have_now && fw_nftio_gen(&n->io, &after) == 0 &&
	    (wrote == 0 ? after == before : fw_nftio_wrote(&n->io, before,
	    after))) {
		n->gen = after;
		n->have_gen = true;
	}
	return 0;
}

/* Written now where the family's forward chain exists, and kept for
 * every later plan. */
static int
nftb_forward_drop(struct fw *f, int family, char *err, size_t errlen)
{
	struct fw_nft *n = to_nftb(f);
	int fi = fw_family_index(family), r;
	struct fw_nfound_chain *c = NULL;
	char cmd[160];

	if (fi < 0) {
		fw_seterr(err, errlen, "Failed to set the forward policy: "
		    "unknown family %d", family);
		return -EINVAL;
	}
	n->drop[fi] = true;
	n->have_gen = false;
	if ((r = read_table(n, (size_t)fi, err, errlen)) < 0)
		return r;
	for (size_t i = 0; i < n->found[fi].nchains; i++)
		if (strcmp(n->found[fi].chains[i].hook, "forward") == 0)
			c = &n->found[fi].chains[i];
	if (c == NULL || c->drop)
		return 0;
	(void) snprintf(cmd, sizeof(cmd), "add chain %s %s %s { type %s hook "
	    "forward priority %d; policy drop; }\n", fw_family_name(family),
	    FW_NFT_TABLE, c->name, c->type, c->prio);
	if ((r = fw_nftio_run(&n->io, cmd, false, NULL, "set the forward "
	    "policy to drop", err, errlen)) < 0)
		return r;
	c->drop = true;
	return 0;
}

static void
nftb_free(struct fw *f)
{
	struct fw_nft *n = to_nftb(f);

	fw_nft_found_done(&n->found[0]);
	fw_nft_found_done(&n->found[1]);
	fw_nft_mem_done(&n->mem);
	fw_nwire_close(n->wire);
	fw_nftio_close(&n->io);
	free(n);
}

static const struct fw_ops nftb_ops = {
	.sync		= nftb_sync,
	.forward_drop	= nftb_forward_drop,
	.free		= nftb_free,
};

void
fw_nft_share_log(struct fw *f, struct fw_nftlog *log)
{
	to_nftb(f)->io.log = log;
}

void
fw_nft_wire_counts(struct fw *f, unsigned long *batches,
    unsigned long *fallbacks)
{
	*batches = to_nftb(f)->batches;
	*fallbacks = to_nftb(f)->fallbacks;
}

struct fw *
fw_nft_new(char *err, size_t errlen)
{
	struct fw_nft *n;

	if ((n = calloc(1, sizeof(*n))) == NULL) {
		fw_seterr(err, errlen, "Failed to set up nftables: out of "
		    "memory");
		return NULL;
	}
	n->fw.ops = &nftb_ops;
	n->io.gen_fd = -1;
	if (fw_nftio_open(&n->io, err, errlen) < 0) {
		free(n);
		return NULL;
	}
	/* Without it every write goes through libnftables. */
	if (fw_nwire_open(&n->wire, err, errlen) < 0)
		n->wire = NULL;
	return &n->fw;
}
