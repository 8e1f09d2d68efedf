/*
 * In-memory firewall backend for unit tests and benchmarks: sync records
 * the networks and published ports it was given, refuses what the real
 * backend refuses (it runs the same planner, firewall/rules.c), and can
 * be made to fail once.  A failed sync, like a failed transaction of the
 * real one, leaves the recorded state as it was.

 * Host ports are firewall/fakeports.c's.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "firewall/common.h"
#include "firewall/firewall.h"

struct fw_fake {
	struct fw	fw;		/* first: the ops table */
	struct fw_net	*nets;		/* the last successful sync */
	size_t		nnets;
	struct fw_port	*ports;		/* likewise */
	size_t		nports;
	unsigned int	calls;		/* sync calls, failed ones too */
	int		fail;		/* 0, or the errno of the next sync */
	unsigned int	drops[2];	/* forward_drop calls: ip, ip6 */
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

/* A malloc'ed copy of n items of size sz in *ret (NULL for none). */
static int
dup_array(const void *v, size_t n, size_t sz, void **ret)
{
	void *copy = NULL;

	if (n != 0) {
		if ((copy = calloc(n, sz)) == NULL)
			return -ENOMEM;
		memcpy(copy, v, n * sz);
	}
	*ret = copy;
	return 0;
}

static int
fake_sync(struct fw *f, const struct fw_model *m, char *err, size_t errlen)
{
	struct fw_fake *ff = to_fake(f);
	void *nets = NULL, *ports = NULL;
	struct fw_ruleset rs;
	int r;

	ff->calls++;
	if (ff->fail != 0) {
		r = -ff->fail;
		ff->fail = 0;
		fw_seterr(err, errlen, "Failed to update the firewall rules: "
		    "%s", strerror(-r));
		return r;
	}
	if (m == NULL) {
		fw_seterr(err, errlen, "Failed to set up the firewall: no "
		    "model given");
		return -EINVAL;
	}
	/* The real backend's planner, so that the fake refuses exactly what
	 * the real one would; the rules themselves are not kept. */
	if ((r = fw_rules_compute(m, &rs, err, errlen)) < 0)
		return r;
	fw_ruleset_done(&rs);
	if ((r = dup_array(m->nets, m->nnets, sizeof(*m->nets), &nets)) < 0 ||
	    (r = dup_array(m->ports, m->nports, sizeof(*m->ports),
	    &ports)) < 0) {
		fw_seterr(err, errlen, "Failed to update the firewall rules: "
		    "%s", strerror(-r));
		free(nets);
		return r;
	}
	free(ff->nets);
	free(ff->ports);
	ff->nets = nets;
	ff->nnets = m->nnets;
	ff->ports = ports;
	ff->nports = m->nports;
	return 0;
}

static int
fake_forward_drop(struct fw *f, int family, char *err, size_t errlen)
{
	struct fw_fake *ff = to_fake(f);
	int i = fw_family_index(family);

	if (i < 0) {
		fw_seterr(err, errlen, "Failed to set the FORWARD policy: "
		    "address family %d is neither IPv4 nor IPv6", family);
		return -EAFNOSUPPORT;
	}
	ff->drops[i]++;
	return 0;
}

static void
fake_free(struct fw *f)
{
	struct fw_fake *ff = to_fake(f);

	free(ff->nets);
	free(ff->ports);
	free(ff);
}

static const struct fw_ops fake_ops = {
	.sync			= fake_sync,
	.forward_drop		= fake_forward_drop,
	.free			= fake_free,
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

size_t
fw_fake_ports(struct fw *f, const struct fw_port **ret)
{
	struct fw_fake *ff = to_fake(f);

	if (ret != NULL)
		*ret = ff->ports;
	return ff->nports;
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

unsigned int
fw_fake_forward_drops(struct fw *f, int family)
{
	struct fw_fake *ff = to_fake(f);
	int i = fw_family_index(family);

	return i < 0 ? 0 : ff->drops[i];
}
