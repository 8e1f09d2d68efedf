/*
 * What the DNS responders should serve, computed without I/O:
 * the names learned from the Engine API (plugin/engine.h) kept by
 * container, the sandboxes that exist (joined endpoints grouped by
 * SandboxKey, in endpoint order), and each sandbox's zone.  Addresses
 * always come from the driver's endpoints, never from the Engine API:
 * the driver's are what the container really has.
 */
#ifndef CBRIDGE_NAMES_H
#define CBRIDGE_NAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dns/answer.h"
#include "plugin/driver.h"
#include "plugin/engine.h"

struct names;

struct names	*names_new(void);
struct names	*names_free(struct names *n);

/*
 * Takes in one update (ownership of its container passes to n: the
 * update's c is emptied).  ENG_SYNC_BEGIN ... ENG_SYNC_END forgets
 * containers not listed in between.  Returns true when the names served
 * may have changed.
 */
bool	names_apply(struct names *n, struct eng_update *u);
size_t	names_container_count(const struct names *n);
/* The Engine API's view of an endpoint, NULL when unknown.  Borrowed,
 * valid until the next names_apply(). */
const struct eng_endpoint *names_endpoint(const struct names *n,
	    const char *ep_id);

/* A sandbox as the driver's endpoints describe it. */
struct sbx_want {
	const char	*key;		/* SandboxKey, borrowed from eps[0] */
	const struct ep_cfg **eps;	/* owned array; endpoints borrowed */
	size_t		neps;
	bool		internal_only;	/* every network --internal: no
					 * forwarding, DNS would be a way out */
	char		*sig;		/* owned: the network IDs in order,
					 * which is what the zone depends on */
};

/* The sandboxes: every joined endpoint with a SandboxKey, grouped by it,
 * in endpoint order.  -ENOMEM. */
int	names_plan(const struct drv *d, struct sbx_want **ret, size_t *ret_n);
void	names_plan_free(struct sbx_want *w, size_t n);

/* Where to open a SandboxKey: key itself, or, when it lies under
 * exec_root (dockerd's --exec-root, also matched as /run/... for
 * /var/run/...), the same path under mount.  -ENAMETOOLONG. */
int	names_sandbox_path(const char *key, const char *exec_root,
	    const char *mount, char *buf, size_t len);

/* Whether name can be served: labels of 1..63 of [A-Za-z0-9_-] joined by
 * dots, at most 253 bytes, so that dns_zone_add() takes it. */
bool	names_valid(const char *name);

/*
 * The zone of a sandbox attached to the networks of w, in that order:
 * for each network that has a name, every joined endpoint on it whose
 * names are known, with the endpoint's addresses.  Names that cannot be
 * served are skipped.  NULL with a message on failure (out of memory).
 */
struct dns_zone *names_zone(const struct names *n, const struct drv *d,
	    const struct sbx_want *w, uint32_t ttl, char *err, size_t errlen);

#endif
