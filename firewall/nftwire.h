/*
 * Internal to firewall/: the scripts of a sync that changes only
 * networks, written as one netlink batch with libnftnl.
 *
 * libnftables reads the name of every chain and set in the ruleset
 * before it adds a rule or an element, and its copy is stale after each
 * commit, so with hundreds of networks that read costs more than all the
 * rest of a sync.  A network's chains and elements need no read: this
 * file knows the few statements the planner writes for them and builds
 * their bytecode as nft does.  A line it does not know makes it return
 * -ENOTSUP before anything is sent, and the caller runs the script
 * through libnftables instead.
 */
#ifndef CBRIDGE_FIREWALL_NFTWIRE_H
#define CBRIDGE_FIREWALL_NFTWIRE_H

#include <stddef.h>

struct fw_nwire;

/* A netfilter netlink socket in the caller's network namespace. */
int	fw_nwire_open(struct fw_nwire **ret, char *err, size_t errlen);
void	fw_nwire_close(struct fw_nwire *w);
/* Sends script (lines of "flush chain", "delete chain", "add chain"
 * without a hook, "add rule", "add element" with a jump and "delete
 * element", all in table cbridge) as one transaction: 0; -ENOTSUP when
 * a line is not one of those (nothing sent); else -errno with
 * "Failed to <what>: ..." in err, and nothing was applied. */
int	fw_nwire_run(struct fw_nwire *w, const char *script,
	    const char *what, char *err, size_t errlen);
/* Pure, for tests: each rule of script as libnftnl prints it, the
 * "[ ... ]" lines of `nft --debug=netlink`, a blank line after each
 * rule.  0 with *ret malloc'ed, or -ENOTSUP / -EINVAL / -ENOMEM. */
int	fw_nwire_dump(const char *script, char **ret);

#endif
