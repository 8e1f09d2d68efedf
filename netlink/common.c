/*
 * Helpers both netlink backends share, so the fake refuses exactly what the
 * real one does.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "netlink/common.h"

void
lnk_seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	/* A message cut short is still a message. */
	(void) vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

bool
lnk_valid_ifname(const char *name)
{
	size_t n;

	if (name == NULL)
		return false;
	n = strnlen(name, LNK_IFNAMSIZ);
	if (n == 0 || n >= LNK_IFNAMSIZ)
		return false;
	if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c == '/' || c == ':' || c <= ' ' || c == 0x7f)
			return false;
	}
	return true;
}

int
lnk_check_cfg(const struct lnk_bridge_cfg *cfg, const char *what, char *err,
    size_t errlen)
{
	if (!lnk_valid_ifname(cfg->name)) {
		lnk_seterr(err, errlen, "Failed to %s bridge: '%.*s' is not a "
		    "valid interface name (1 to %d characters, no '/', ':' "
		    "or spaces)", what, LNK_IFNAMSIZ - 1, cfg->name,
		    LNK_IFNAMSIZ - 1);
		return -EINVAL;
	}
	if (cfg->naddrs > LNK_MAX_ADDRS) {
		lnk_seterr(err, errlen, "Failed to %s bridge '%s': %zu addresses "
		    "given, at most %d are supported", what, cfg->name,
		    cfg->naddrs, LNK_MAX_ADDRS);
		return -EINVAL;
	}
	for (size_t i = 0; i < cfg->naddrs; i++) {
		const struct lnk_prefix *p = &cfg->addrs[i];

		if ((p->family == AF_INET && p->plen <= 32) ||
		    (p->family == AF_INET6 && p->plen <= 128))
			continue;
		lnk_seterr(err, errlen, "Failed to %s bridge '%s': address %zu "
		    "is not a valid IPv4 or IPv6 prefix", what, cfg->name,
		    i + 1);
		return -EINVAL;
	}
	return 0;
}
