/*
 * What the DNS responders should serve, computed without I/O: the
 * containers learned from the Engine API (plugin/engine.h), the
 * sandboxes that exist (cbridge's joined endpoints grouped by
 * SandboxKey) with every network they are attached to, and each
 * sandbox's zone: the names Docker's own resolver (20.10) answers there.
 *
 * Decisions:
 *  - A sandbox exists while cbridge has a joined endpoint in it.  Its
 *    networks: cbridge's in endpoint order, then the other networks of
 *    the running containers whose SandboxKey it is, in the order the
 *    Engine API lists them.
 *  - Addresses on cbridge networks come from the driver's endpoints
 *    (what the container really has), on the others from the Engine
 *    API (IPAddress, GlobalIPv6Address).
 *  - Per network, every container attached: its name, aliases, DNSNames,
 *    short ID and hostname.  Networks that are not user-defined
 *    ("bridge", the default bridge, and "host", "none", "default") serve
 *    nothing: dockerd makes their endpoints without name resolution, and
 *    legacy links live in /etc/hosts.
 *  - Links of a user-defined network: the alias is served in the
 *    sandbox of the container that declared it only, with the addresses
 *    on that network of the containers that have the target's name; on
 *    that network it hides a container named like the alias, as in
 *    Docker.  So sandboxes on the same networks may differ: sbx_want's
 *    sig says by what.
 *  - Where we differ from Docker: the zone looks a name up network by
 *    network, so a link alias on a later network does not win over a
 *    container of that name on an earlier one (Docker tries every
 *    network's aliases first); a container all of whose names on a
 *    network are hidden by aliases has no PTR there; IPv6-only endpoints
 *    are served (20.10 leaves them out).
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

/* The running containers whose SandboxKey is key, then the running
 * ones that share their network namespace (NetworkMode container:<name,
 * ID or ID prefix of one of them>): how many there are, the first cap of
 * them in ret.  Borrowed, valid until the next names_apply(). */
size_t	names_containers_at(const struct names *n, const char *key,
	    const struct eng_container **ret, size_t cap);

/* Every container known, by index 0 .. names_container_count() - 1;
 * NULL past the end.  Borrowed, valid until the next names_apply(). */
const struct eng_container *names_container(const struct names *n,
	    size_t i);

/* One network of a sandbox. */
struct sbx_net {
	const char	*net_id;	/* borrowed */
	const char	*name;		/* borrowed; NULL when unknown */
	const struct ep_cfg *ep;	/* cbridge's endpoint on it; NULL for
					 * other drivers' networks */
	const struct eng_endpoint *x;	/* the Engine API's view of the
					 * sandbox's endpoint there; NULL when
					 * unknown */
};

/* A sandbox as the driver's endpoints and the Engine API describe it.
 * Pointers into the driver and names are valid until either changes. */
struct sbx_want {
	const char	*key;		/* SandboxKey, borrowed from eps[0] */
	const struct ep_cfg **eps;	/* owned array; endpoints borrowed */
	size_t		neps;
	struct sbx_net	*nets;		/* owned: every network once, in the
					 * order names are looked up */
	size_t		nnets;
	bool		internal_only;	/* every network a cbridge --internal
					 * one: no forwarding, DNS would be a
					 * way out */
	char		*sig;		/* owned: what the zone depends on,
					 * the network IDs in order, each with
					 * the link aliases served there */
};

/* The sandboxes: every joined endpoint with a SandboxKey, grouped by it,
 * in endpoint order, with their networks (n may be NULL: cbridge's
 * only).  -ENOMEM. */
int	names_plan(const struct names *n, const struct drv *d,
	    struct sbx_want **ret, size_t *ret_n);
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
 * The zone of the sandbox w, its networks in w->nets' order: for each
 * user-defined network that has a name, every container attached whose
 * names are known (cbridge networks: the joined endpoints, with the
 * driver's addresses; others: the Engine API's endpoints and addresses),
 * then the link aliases of the sandbox's endpoint there.  Names that
 * cannot be served are skipped.  NULL with a message on failure (out of
 * memory).
 */
struct dns_zone *names_zone(const struct names *n, const struct drv *d,
	    const struct sbx_want *w, uint32_t ttl, char *err, size_t errlen);

#endif
