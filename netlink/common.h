/*
 * Internal to netlink/: shared by link.c and fake.c.
 */
#ifndef CBRIDGE_NETLINK_COMMON_H
#define CBRIDGE_NETLINK_COMMON_H

#include <stdbool.h>
#include <stddef.h>

#include "netlink/netlink.h"

/* vsnprintf into err when err is not NULL. */
void	lnk_seterr(char *err, size_t errlen, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
/* What the kernel's dev_valid_name() accepts; the name also ends up in a
 * /proc/sys path, so this check matters. */
bool	lnk_valid_ifname(const char *name);
/* Refuses a malformed bridge configuration; what names the operation in
 * the message ("create", "configure"). */
int	lnk_check_cfg(const struct lnk_bridge_cfg *cfg, const char *what,
	    char *err, size_t errlen);

#endif
