/*
 * Helpers both netlink backends share, so the fake refuses exactly what the
 * real one does.
 */
#include <arpa/inet.h>
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
		const struct prefix *p = &cfg->addrs[i];

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

bool
lnk_mac_is_zero(const unsigned char mac[6])
{
	for (int i = 0; i < 6; i++)
		if (mac[i] != 0)
			return false;
	return true;
}

int
lnk_check_veth_cfg(const struct lnk_veth_cfg *cfg, char *err, size_t errlen)
{
	const int w = LNK_IFNAMSIZ - 1;
	const char *bad = NULL;

	if (!lnk_valid_ifname(cfg->host))
		bad = cfg->host;
	else if (!lnk_valid_ifname(cfg->peer))
		bad = cfg->peer;
	else if (!lnk_valid_ifname(cfg->bridge))
		bad = cfg->bridge;
	if (bad != NULL) {
		lnk_seterr(err, errlen, "Failed to create veth pair '%.*s'/'%.*s' "
		    "on bridge '%.*s': '%.*s' is not a valid interface name (1 "
		    "to %d characters, no '/', ':' or spaces)", w, cfg->host,
		    w, cfg->peer, w, cfg->bridge, w, bad, w);
		return -EINVAL;
	}
	if (strcmp(cfg->host, cfg->peer) == 0) {
		lnk_seterr(err, errlen, "Failed to create veth pair '%s'/'%s' on "
		    "bridge '%s': both ends have the same name", cfg->host,
		    cfg->peer, cfg->bridge);
		return -EINVAL;
	}
	/* The kernel's limits for a veth: ETH_MIN_MTU..ETH_MAX_MTU. */
	if (cfg->mtu != 0 && (cfg->mtu < 68 || cfg->mtu > 65535)) {
		lnk_seterr(err, errlen, "Failed to create veth pair '%s'/'%s' on "
		    "bridge '%s': MTU %u is out of range (68 to 65535)",
		    cfg->host, cfg->peer, cfg->bridge, cfg->mtu);
		return -EINVAL;
	}
	if ((cfg->peer_mac[0] & 1) != 0) {
		lnk_seterr(err, errlen, "Failed to create veth pair '%s'/'%s' on "
		    "bridge '%s': MAC address "
		    "%02x:%02x:%02x:%02x:%02x:%02x is a multicast address",
		    cfg->host, cfg->peer, cfg->bridge, cfg->peer_mac[0],
		    cfg->peer_mac[1], cfg->peer_mac[2], cfg->peer_mac[3],
		    cfg->peer_mac[4], cfg->peer_mac[5]);
		return -EINVAL;
	}
	return 0;
}
