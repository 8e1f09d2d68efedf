/*
 * In-memory firewall backend for unit tests and benchmarks: sync records
 * the networks it was given, refuses what the real backend refuses, and can
 * be made to fail once.  A failed sync, like a failed nft transaction,
 * leaves the recorded state as it was.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "firewall/common.h"
#include "firewall/firewall.h"

struct fw_fake {
	struct fw	fw;		/* first: the ops table */
	struct fw_net	*nets;		/* the last successful sync */
	size_t		nnets;
	unsigned int	calls;		/* sync calls, failed ones too */
	int		fail;		/* 0, or the errno of the next sync */
};

static const struct fw_ops fake_ops;

static struct fw_fake *
to_fake(struct fw *f)
{
	if (f == NULL || f->ops != &fake_ops) {
		fprintf(stderr, "fw fake: not a fake fw\n");
		abort();
	}
	return (struct fw_fake *)f;
}

static int
fake_sync(struct fw *f, const struct fw_net *nets, size_t n, char *err,
    size_t errlen)
{
	struct fw_fake *ff = to_fake(f);
	struct fw_net *copy = NULL;
	int r;

	ff->calls++;
	if (ff->fail != 0) {
		r = -ff->fail;
		ff->fail = 0;
		fw_seterr(err, errlen, "Failed to update the firewall rules: "
		    "%s", strerror(-r));
		return r;
	}
	if ((r = fw_check_nets(nets, n, err, errlen)) < 0)
		return r;
	if (n != 0) {
		if ((copy = calloc(n, sizeof(*copy))) == NULL) {
			fw_seterr(err, errlen, "Failed to update the firewall "
			    "rules: %s", strerror(ENOMEM));
			return -ENOMEM;
		}
		memcpy(copy, nets, n * sizeof(*copy));
	}
	free(ff->nets);
	ff->nets = copy;
	ff->nnets = n;
	return 0;
}

static void
fake_free(struct fw *f)
{
	struct fw_fake *ff = to_fake(f);

	free(ff->nets);
	free(ff);
}

static const struct fw_ops fake_ops = {
	.sync	= fake_sync,
	.free	= fake_free,
};

struct fw *
fw_fake_new(void)
{
	struct fw_fake *ff;

	if ((ff = calloc(1, sizeof(*ff))) == NULL)
		return NULL;
	ff->fw.ops = &fake_ops;
	return &ff->fw;
}

size_t
fw_fake_synced(struct fw *f, const struct fw_net **ret)
{
	struct fw_fake *ff = to_fake(f);

	if (ret != NULL)
		*ret = ff->nets;
	return ff->nnets;
}

unsigned int
fw_fake_sync_calls(struct fw *f)
{
	return to_fake(f)->calls;
}

void
fw_fake_fail_next(struct fw *f, int err)
{
	struct fw_fake *ff = to_fake(f);

	/* Either sign; 0 would mean "do not fail". */
	ff->fail = err < 0 ? -err : err == 0 ? EIO : err;
}
