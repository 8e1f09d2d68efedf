/*
 * Internal to firewall/: the nftables rule model (nftrules.c) and what
 * the backend found in the kernel (nftstate.c), both pure so that the
 * unit tests plan, compare and diff without root.
 *
 * Per family one table "cbridge" in the layout of Docker 29's nftables
 * backend with its userland proxy off: base chains that reach per-network
 * chains through verdict maps keyed by interface name, and Docker's two
 * shared chains (DNAT and the raw-table protections), which reach
 * per-network chains through maps keyed by address, protocol and port
 * (tests/golden/README.md lists the differences).  Every rule carries the
 * comment "cbridge:<owner>:<hash>", the hash covering its family, chain
 * and text, so the backend recognises its rules and notices a changed one.
 */
#ifndef CBRIDGE_FIREWALL_NFTPLAN_H
#define CBRIDGE_FIREWALL_NFTPLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "firewall/firewall.h"

#define FW_NFT_TABLE	"cbridge"
#define FW_NFT_NAMELEN	48	/* chain, map and set names */
#define FW_NFT_RULELEN	320	/* one rule's text, its comment included */
#define FW_NFT_KEYLEN	96	/* an element's key as nft writes it */
#define FW_NFT_BASE	((size_t)-1)	/* owner of what no one network has */

/* A chain to exist; rules[first .. first + n) are its rules in order. */
struct fw_nchain {
	int		family;		/* AF_INET or AF_INET6 */
	char		name[FW_NFT_NAMELEN];
	const char	*type;		/* base chains: "filter" or "nat"; */
	const char	*hook;		/* NULL for a regular chain */
	int		prio;
	bool		drop;		/* policy drop */
	size_t		first, n;
	size_t		net;		/* the model's network, or FW_NFT_BASE */
};

struct fw_nrule {
	char	text[FW_NFT_RULELEN];	/* "... comment \"cbridge:...\"" */
	char	comment[FW_COMMENTLEN];
};

/* An element of a verdict map (key -> jump chain) or of a set (chain
 * ""); the key as nft lists it, unquoted ("br0", "tcp . 8080",
 * "127.0.0.1 . tcp . 8080"). */
struct fw_nelem {
	int	family;
	char	map[FW_NFT_NAMELEN];
	char	key[FW_NFT_KEYLEN];
	char	chain[FW_NFT_NAMELEN];
	size_t	net;	/* planned: the model's network, or FW_NFT_BASE */
};

struct fw_nplan {
	struct fw_nchain *chains;	/* malloc'ed, in creation order */
	size_t		nchains;
	struct fw_nrule	*rules;		/* malloc'ed */
	size_t		nrules;
	struct fw_nelem	*elems;		/* malloc'ed */
	size_t		nelems;
	bool		family[2];	/* a table per family: [0] ip, [1] ip6 */
};

/* The maps and sets every table holds: name, key type ('@' the family's
 * address type), and whether a set rather than a verdict map. */
struct fw_nmapdef {
	const char	*name;
	const char	*type;
	bool		set;
};
extern const struct fw_nmapdef fw_nft_maps[];
extern const size_t fw_nft_nmaps;
/* d's key type for family, as nft writes it. */
void	fw_nft_map_type(const struct fw_nmapdef *d, int family, char *buf,
	    size_t len);
/* Whether d's keys are strings nft wants quoted (interface names). */
bool	fw_nft_map_quoted(const struct fw_nmapdef *d);

/* Pure: validates m as fw_rules_compute does and computes every table,
 * chain, map element and rule cbridge wants; drop4/drop6 give the
 * family's forward chain the policy drop. */
int	fw_nft_compute(const struct fw_model *m, bool drop4, bool drop6,
	    struct fw_nplan *ret, char *err, size_t errlen);
void	fw_nft_plan_done(struct fw_nplan *p);
/* m's endpoints and ports by network: those of network i are
 * eps[eidx[efirst[i]] .. eidx[efirst[i + 1] - 1]] (ports alike), in
 * model order.  O((items + networks) log networks). */
struct fw_ngroups {
	size_t	*eidx, *efirst, *pidx, *pfirst;	/* malloc'ed */
};
int	fw_nft_groups(const struct fw_model *m, struct fw_ngroups *ret);
void	fw_nft_groups_done(struct fw_ngroups *g);
/* The family's table as nft lists it (tabs, maps first, then chains in
 * creation order), counters and handles aside; *ret malloc'ed.  Also
 * what an empty table is loaded from. */
int	fw_nft_format(const struct fw_nplan *p, int family, char **ret);

/* What one family's table holds, as read back. */
struct fw_nfound_rule {
	char			comment[FW_COMMENTLEN];	/* "" none or foreign */
	unsigned long long	handle;
};
struct fw_nfound_chain {
	char			name[FW_NFT_NAMELEN];
	char			type[8], hook[16];	/* "" regular */
	int			prio;
	bool			drop;
	struct fw_nfound_rule	*rules;			/* malloc'ed */
	size_t			nrules, cap;
};
struct fw_nfound {
	bool			table;		/* the table exists */
	bool			odd;		/* an object the plan never makes
						 * (a map of another type, a
						 * flowtable...): rebuild */
	struct fw_nfound_chain	*chains;	/* malloc'ed */
	size_t			nchains;
	struct fw_nelem		*elems;		/* malloc'ed */
	size_t			nelems;
	char			(*maps)[FW_NFT_NAMELEN];	/* found maps, sets */
	size_t			nmaps;
};

/* Reads `list table <family> cbridge` JSON (with handles) into *ret;
 * a missing table is json NULL or "".  -EBADMSG for what is not nft's
 * JSON, -ENOMEM. */
int	fw_nft_parse(const char *json, int family, struct fw_nfound *ret);
void	fw_nft_found_done(struct fw_nfound *f);
/* Pure: the nft commands (one transaction) that make the family's table
 * match p, given what was found; "" when nothing differs.  A chain
 * whose rules (compared by comment, in order) differ is flushed and
 * written again: it is one network's, or the base's.  Elements are
 * deleted and added by key; unplanned chains go.  *ret malloc'ed. */
int	fw_nft_diff(const struct fw_nplan *p, int family,
	    const struct fw_nfound *f, char **ret);
/* After the script of fw_nft_diff ran, the table is exactly p's: makes
 * f say so.  -ENOMEM (then read the table again). */
int	fw_nft_found_update(struct fw_nfound *f, const struct fw_nplan *p,
	    int family);

/*
 * The backend's memory of what each network's plan made, and of what the
 * base was planned from, so that a sync while nobody else touched the
 * tables plans and writes only the networks that changed.
 */
struct fw_nnet {
	struct fw_net		net;	/* the inputs, canonical */
	struct fw_ep		*eps;	/* malloc'ed, in model order */
	size_t			neps;
	struct fw_port		*ports;	/* malloc'ed, in model order */
	size_t			nports;
	struct fw_nfound	made[2];	/* its chains and elements, per
						 * family: [0] ip, [1] ip6 */
};
struct fw_nmem {
	bool			valid;
	bool			wsl2, drop[2], family[2];
	char			(*docker[2])[FW_IFNAMSIZ];	/* malloc'ed */
	size_t			ndocker[2];
	struct fw_nnet		*nets;	/* malloc'ed, sorted by ID */
	size_t			nnets;
};

/* Pure: the memory of tables that hold exactly p, planned from m. */
int	fw_nft_mem_build(const struct fw_model *m, bool drop4, bool drop6,
	    const struct fw_nplan *p, struct fw_nmem *ret);
void	fw_nft_mem_done(struct fw_nmem *mem);
/* Pure: when m differs from what mem was planned from in networks only,
 * 1 and in *ret the commands (one transaction, "" when nothing differs)
 * that plan only the networks that changed and make their chains and
 * elements match; mem then says what the tables hold once they ran (a
 * caller whose write fails drops it).  0 when the base differs: plan
 * whole.  -errno with a message. */
int	fw_nft_incr(struct fw_nmem *mem, const struct fw_model *m, bool drop4,
	    bool drop6, char **ret, char *err, size_t errlen);

#endif
