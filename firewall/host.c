/*
 * The host's firewall: the chosen rule backend holds the full rule model
 * (libiptc in the legacy tables, or libnftables in cbridge's own tables);
 * where dockerd keeps its chains in nft (iptables-nft with its FORWARD
 * policy DROP, or its own nftables backend), the docker-accept shim
 * (firewall/dockeraccept.c) adds the accepts cbridge's bridges need
 * there, and adds nothing on a legacy-only host.  Host ports and
 * conntrack are not here: they are fw_hostports (firewall/ports.c).
 */
#include <errno.h>
#include <limits.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <netinet/in.h>

#include <linux/netfilter_ipv4/ip_tables.h>

#include "firewall/common.h"
#include "firewall/firewall.h"
#include "firewall/nftio.h"

struct fw_hostfw {
	struct fw	fw;		/* first: the ops table */
	struct fw	*rules;		/* the chosen backend */
	/* The other backend's library, for what it holds of cbridge's: with
	 * nftables, libiptc keeps only the accepts a dockerd on legacy
	 * iptables needs (and takes away a former iptables model); with
	 * iptables, libnftables takes away a former nftables table once. */
	struct fw	*other;
	bool		other_clean;
	struct fw	*dacc;
	struct fw_nftlog nftlog;	/* shared by the nft users */
	enum fw_backend	backend;
	char		why[160];
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

/* dockerd's bridges, wherever its isolation chain is. */
static int
docker_bridges(struct fw_hostfw *h, struct fw_ifnames *b4,
    struct fw_ifnames *b6, char *err, size_t errlen)
{
	const struct fw_ifnames *n4, *n6;
	int r;

	if ((r = fw_dacc_docker_bridges(h->dacc, &n4, &n6, err, errlen)) < 0)
		return r;
	for (size_t i = 0; i < n4->n && r == 0; i++)
		r = fw_ifnames_add(b4, n4->v[i]);
	for (size_t i = 0; i < n6->n && r == 0; i++)
		r = fw_ifnames_add(b6, n6->v[i]);
	if (r < 0) {
		fw_seterr(err, errlen, "Failed to list dockerd's bridges: out "
		    "of memory");
		return r;
	}
	if (h->backend == FW_BACKEND_NFTABLES)
		r = fw_iptc_docker_bridges(h->other, b4, b6, err, errlen);
	return r;
}

static int
host_sync(struct fw *f, const struct fw_model *m, char *err, size_t errlen)
{
	struct fw_hostfw *h = to_host(f);
	struct fw_ifnames b4 = { 0 }, b6 = { 0 };
	struct fw_model mm = *m, acc;
	int r;

	mm.wsl2 = wsl2_mirrored(h->wslinfo);
	if ((r = docker_bridges(h, &b4, &b6, err, errlen)) < 0)
		goto out;
	mm.docker4 = b4;
	mm.docker6 = b6;
	if ((r = h->rules->ops->sync(h->rules, &mm, err, errlen)) < 0)
		goto out;
	if (h->backend == FW_BACKEND_NFTABLES) {
		acc = mm;
		acc.accept_only = true;
		if ((r = h->other->ops->sync(h->other, &acc, err, errlen)) < 0)
			goto out;
	} else if (!h->other_clean) {
		struct fw_model none = { 0 };

		if ((r = h->other->ops->sync(h->other, &none, err,
		    errlen)) < 0)
			goto out;
		h->other_clean = true;
	}
	r = h->dacc->ops->sync(h->dacc, &mm, err, errlen);
out:
	fw_ifnames_done(&b4);
	fw_ifnames_done(&b6);
	return r;
}

static int
host_forward_drop(struct fw *f, int family, char *err, size_t errlen)
{
	struct fw_hostfw *h = to_host(f);

	return h->rules->ops->forward_drop(h->rules, family, err, errlen);
}

static void
host_free(struct fw *f)
{
	struct fw_hostfw *h = to_host(f);

	fw_free(h->rules);
	fw_free(h->other);
	fw_free(h->dacc);
	free(h);
}

static const struct fw_ops host_ops = {
	.sync			= host_sync,
	.forward_drop		= host_forward_drop,
	.free			= host_free,
};

/* Legacy x_tables in this kernel: ip_tables is loaded (it lists its
 * tables in /proc), or answers a get-info for "filter".  Nothing is
 * loaded or created here: ENOPROTOOPT means no ip_tables at all. */
static bool
have_legacy(void)
{
	struct ipt_getinfo info;
	socklen_t len = sizeof(info);
	int fd;
	bool ok;

	if (access("/proc/net/ip_tables_names", F_OK) == 0)
		return true;
	if ((fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW)) < 0)
		return false;
	memset(&info, 0, sizeof(info));
	(void) snprintf(info.name, sizeof(info.name), "filter");
	ok = getsockopt(fd, IPPROTO_IP, IPT_SO_GET_INFO, &info, &len) == 0 ||
	    errno != ENOPROTOOPT;
	(void) close(fd);
	return ok;
}

static int
choose(struct fw_hostfw *h, enum fw_backend want, char *err, size_t errlen)
{
	struct fw_backend_probe p = { 0 };
	int r;

	if (want == FW_BACKEND_AUTO) {
		p.legacy = have_legacy();
		if ((r = fw_dacc_docker_nft(h->dacc, &p.docker_nft, err,
		    errlen)) < 0)
			return r;
	}
	h->backend = fw_backend_choose(want, &p, h->why, sizeof(h->why));
	return 0;
}

struct fw *
fw_host_new(const struct fw_host_params *p, char *err, size_t errlen)
{
	const char *wslinfo = p->wslinfo;
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
	if ((h->dacc = fw_dacc_new(err, errlen)) == NULL ||
	    choose(h, p->backend, err, errlen) < 0)
		goto fail;
	if (h->backend == FW_BACKEND_NFTABLES) {
		h->rules = fw_nft_new(err, errlen);
		if (h->rules != NULL)
			h->other = fw_iptc_new(p->lock_path, p->chains_path,
			    err, errlen);
	} else {
		h->rules = fw_iptc_new(p->lock_path, p->chains_path, err,
		    errlen);
		if (h->rules != NULL)
			h->other = fw_nft_new(err, errlen);
	}
	if (h->rules == NULL || h->other == NULL)
		goto fail;
	fw_dacc_share_log(h->dacc, &h->nftlog);
	fw_nft_share_log(h->backend == FW_BACKEND_NFTABLES ? h->rules :
	    h->other, &h->nftlog);
	return &h->fw;
fail:
	host_free(&h->fw);
	return NULL;
}

enum fw_backend
fw_host_backend(struct fw *f, const char **why)
{
	struct fw_hostfw *h = to_host(f);

	if (why != NULL)
		*why = h->why;
	return h->backend;
}
