/*
 * Which rule backend holds cbridge's model.  Pure: the probes are made by
 * the host firewall (firewall/host.c).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "firewall/common.h"
#include "firewall/firewall.h"

static const char *const names[] = {
	[FW_BACKEND_AUTO]	= "auto",
	[FW_BACKEND_IPTABLES]	= "iptables",
	[FW_BACKEND_NFTABLES]	= "nftables",
};

const char *
fw_backend_name(enum fw_backend b)
{
	if ((unsigned int)b >= sizeof(names) / sizeof(names[0]))
		return "unknown";
	return names[b];
}

int
fw_backend_parse(const char *s, enum fw_backend *ret)
{
	for (size_t i = 0; s != NULL && i < sizeof(names) / sizeof(names[0]);
	    i++)
		if (strcmp(s, names[i]) == 0) {
			*ret = (enum fw_backend)i;
			return 0;
		}
	return -EINVAL;
}

enum fw_backend
fw_backend_choose(enum fw_backend want, const struct fw_backend_probe *p,
    char *why, size_t whylen)
{
	switch (want) {
	case FW_BACKEND_IPTABLES:
	case FW_BACKEND_NFTABLES:
		fw_seterr(why, whylen, "FIREWALL_BACKEND=%s",
		    fw_backend_name(want));
		return want;
	case FW_BACKEND_AUTO:
		break;
	}
	/* dockerd's nftables backend first: with it the legacy tables may
	 * well exist, but dockerd's own drop would be in nft. */
	if (p->docker_nft) {
		fw_seterr(why, whylen, "auto: dockerd uses its nftables "
		    "backend (table docker-bridges exists)");
		return FW_BACKEND_NFTABLES;
	}
	if (!p->legacy) {
		fw_seterr(why, whylen, "auto: the kernel has no legacy "
		    "iptables (x_tables)");
		return FW_BACKEND_NFTABLES;
	}
	fw_seterr(why, whylen, "auto: the kernel has legacy iptables and "
	    "dockerd does not use its nftables backend");
	return FW_BACKEND_IPTABLES;
}
