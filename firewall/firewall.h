/*
 * firewall/: the packet-filter rules cbridge's networks need, behind an ops
 * table with a real backend and an in-memory fake.  What should exist is
 * computed by a pure planner from the list of networks; a backend only
 * applies the difference.  Every rule cbridge adds carries the comment
 * "cbridge:<network ID>" so that it only ever touches its own rules.
 *
 * This first part covers hosts where dockerd uses the nft variant of
 * iptables (Debian 12, Ubuntu 22.04+, Fedora): dockerd sets the FORWARD
 * policy of nft's "ip filter" table to DROP, and a forwarded packet must be
 * accepted by every base chain on the hook, so cbridge adds accepts for
 * traffic inside each of its bridges to dockerd's DOCKER-USER chain, before
 * its final return (or first in FORWARD while DOCKER-USER does not exist),
 * in a form iptables-nft reads.
 * Where neither chain exists nothing is dropped and nothing is added.
 *
 * Functions return 0 or -errno with a message a user can act on in err.
 */
#ifndef CBRIDGE_FIREWALL_H
#define CBRIDGE_FIREWALL_H

#include <stdbool.h>
#include <stddef.h>

#define FW_IFNAMSIZ	16
#define FW_ID_LEN	64
#define FW_COMMENT_PREFIX "cbridge:"

/* What the firewall needs to know of one network. */
struct fw_net {
	char	id[FW_ID_LEN + 1];
	char	bridge[FW_IFNAMSIZ];
	bool	ipv4;		/* has an IPv4 subnet */
	bool	ipv6;		/* has an IPv6 subnet */
	bool	icc;		/* enable_icc; false: no accept inside */
};

/* A rule cbridge owns, as found in or planned for one chain. */
struct fw_rule {
	int	family;		/* AF_INET or AF_INET6 */
	char	chain[32];	/* "DOCKER-USER" or "FORWARD" */
	char	id[FW_ID_LEN + 1];	/* network ID from the comment */
	char	iif[FW_IFNAMSIZ];
	char	oif[FW_IFNAMSIZ];
	unsigned long long handle;	/* nft rule handle; 0 when planned */
};

/* Which chains exist in the family's "filter" table. */
struct fw_host {
	bool	has_table;
	bool	has_docker_user;
	bool	has_forward;
	/* Handle of dockerd's final plain "return" in DOCKER-USER (0: none,
	 * as from Docker 28.3).  Rules go just before it, so an admin's own
	 * rules at the top of DOCKER-USER still come first. */
	unsigned long long docker_user_return;
};

struct fw_plan {
	size_t		nadd, ndel;
	struct fw_rule	*add;	/* malloc'ed */
	struct fw_rule	*del;	/* malloc'ed; have handles */
};

/* Pure: the rules that should exist for nets on a host whose filter
 * tables look like host4/host6, compared with the cbridge rules found
 * there (current).  Rules found in the wrong chain, for networks that are
 * gone, or duplicated are deleted; missing ones added. */
int	fw_plan_compute(const struct fw_net *nets, size_t n,
	    const struct fw_host *host4, const struct fw_host *host6,
	    const struct fw_rule *current, size_t ncurrent,
	    struct fw_plan *ret);
void	fw_plan_done(struct fw_plan *p);

struct fw;

struct fw_ops {
	/* Makes cbridge's rules match nets exactly (idempotent). */
	int	(*sync)(struct fw *f, const struct fw_net *nets, size_t n,
		    char *err, size_t errlen);
	void	(*free)(struct fw *f);
};

struct fw {
	const struct fw_ops *ops;
};

/* libnftables backend, in the caller's network namespace.  NULL with err
 * set when libnftables cannot be initialised. */
struct fw	*fw_nft_new(char *err, size_t errlen);
/* In-memory fake: records the last synced networks. */
struct fw	*fw_fake_new(void);
/* Networks passed to the last successful sync (a failed one, injected or
 * refused, keeps the previous list); *ret is borrowed until the next sync
 * or fw_free, NULL when the count is 0. */
size_t		fw_fake_synced(struct fw *f, const struct fw_net **ret);
/* How many times sync was called, failed calls included. */
unsigned int	fw_fake_sync_calls(struct fw *f);
/* The next sync fails with -err (either sign; 0 means EIO). */
void		fw_fake_fail_next(struct fw *f, int err);

static inline struct fw *
fw_free(struct fw *f)
{
	if (f != NULL)
		f->ops->free(f);
	return NULL;
}

#endif
