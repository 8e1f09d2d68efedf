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
/* Refuses a malformed veth configuration (-EINVAL): invalid or equal
 * names, an MTU outside 68..65535, a multicast peer MAC. */
int	lnk_check_veth_cfg(const struct lnk_veth_cfg *cfg, char *err,
	    size_t errlen);
bool	lnk_mac_is_zero(const unsigned char mac[6]);

/*
 * For tests of the real backend only; NULL otherwise.  When set,
 * veth_create calls it before each step that follows the pair's creation,
 * with the step's name ("master", "hairpin", "up"), and fails that step
 * with its return value when it is negative (-errno).  No other way makes
 * those steps fail on demand, and their clean-up needs testing.
 */
extern int (*lnk_veth_step_hook)(const char *step);

#endif
