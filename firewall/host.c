/*
 * The host's firewall: the libiptc backend holds the full rule model in
 * the legacy tables; where dockerd keeps its chains in nft (iptables-nft,
 * FORWARD policy DROP), the docker-accept shim (firewall/dockeraccept.c)
 * adds the accepts cbridge's bridges need there, and adds nothing on a
 * legacy-only host.  Host ports and
 * conntrack are not here: they are fw_hostports (firewall/ports.c).
 */
#include <errno.h>
#include <limits.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "firewall/common.h"
#include "firewall/firewall.h"

struct fw_hostfw {
	struct fw	fw;		/* first: the ops table */
	struct fw	*iptc;
	struct fw	*dacc;
	char		wslinfo[PATH_MAX];
};

static struct fw_hostfw *
to_host(struct fw *f)
{
	return (struct fw_hostfw *)f;
}

/* WSL2's mirrored networking: a loopback0 link and an executable wslinfo
 * (as dockerd checks).  Read at every sync: both can appear later. */
static bool
wsl2_mirrored(const char *wslinfo)
{
	struct stat st;

	return if_nametoindex("loopback0") != 0 &&
	    stat(wslinfo, &st) == 0 && S_ISREG(st.st_mode) &&
	    access(wslinfo, X_OK) == 0;
}

static int
host_sync(struct fw *f, const struct fw_model *m, char *err, size_t errlen)
{
	struct fw_hostfw *h = to_host(f);
	const struct fw_ifnames *b4, *b6;
	struct fw_model mm = *m;
	int r;

	mm.wsl2 = wsl2_mirrored(h->wslinfo);
	if ((r = fw_dacc_docker_bridges(h->dacc, &b4, &b6, err, errlen)) < 0)
		return r;
	mm.docker4 = *b4;
	mm.docker6 = *b6;
	if ((r = h->iptc->ops->sync(h->iptc, &mm, err, errlen)) < 0)
		return r;
	return h->dacc->ops->sync(h->dacc, &mm, err, errlen);
}

static int
host_forward_drop(struct fw *f, int family, char *err, size_t errlen)
{
	struct fw_hostfw *h = to_host(f);

	return h->iptc->ops->forward_drop(h->iptc, family, err, errlen);
}

static void
host_free(struct fw *f)
{
	struct fw_hostfw *h = to_host(f);

	fw_free(h->iptc);
	fw_free(h->dacc);
	free(h);
}

static const struct fw_ops host_ops = {
	.sync			= host_sync,
	.forward_drop		= host_forward_drop,
	.free			= host_free,
};

struct fw *
fw_host_new(const char *lock_path, const char *wslinfo,
    const char *chains_path, char *err, size_t errlen)
{
	struct fw_hostfw *h;

	if (wslinfo == NULL || *wslinfo == '\0')
		wslinfo = "/usr/bin/wslinfo";
	if ((h = calloc(1, sizeof(*h))) == NULL) {
		fw_seterr(err, errlen, "out of memory");
		return NULL;
	}
	h->fw.ops = &host_ops;
	if (snprintf(h->wslinfo, sizeof(h->wslinfo), "%s", wslinfo) >=
	    (int)sizeof(h->wslinfo)) {
		fw_seterr(err, errlen, "wslinfo path '%s' is too long", wslinfo);
		goto fail;
	}
	if ((h->iptc = fw_iptc_new(lock_path, chains_path, err,
	    errlen)) == NULL ||
	    (h->dacc = fw_dacc_new(err, errlen)) == NULL)
		goto fail;
	return &h->fw;
fail:
	host_free(&h->fw);
	return NULL;
}
