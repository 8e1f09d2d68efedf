/*
 * firewall/: the packet-filter rules cbridge's networks need, behind an ops
 * table with a real backend and an in-memory fake.  What should exist is
 * computed by a pure planner from the list of networks; a backend only
 * applies the difference.  Every rule cbridge adds carries the comment
 * "cbridge:<network ID>" so that it only ever touches its own rules.
 *
 * Two rule backends hold the model: libiptc in the legacy tables, or
 * libnftables in cbridge's own tables (FIREWALL_BACKEND); where dockerd's
 * own chains would drop cbridge's forwarded traffic (its FORWARD policy
 * DROP), accepts for cbridge's bridges go into dockerd's DOCKER-USER, and
 * at the end of Docker 29's filter-FORWARD (table docker-bridges, its
 * nftables backend), after Docker's jumps; both layouts may exist at
 * once, each gets its accepts.
 *
 * Functions return 0 or -errno with a message a user can act on in err.
 */
#ifndef CBRIDGE_FIREWALL_H
#define CBRIDGE_FIREWALL_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/prefix.h"

#define FW_IFNAMSIZ	16
#define FW_ID_LEN	64
#define FW_COMMENT_PREFIX "cbridge:"

#define FW_CHAINLEN	29	/* XT_EXTENSION_MAXNAMELEN: 28 + NUL */
#define FW_COMMENTLEN	32
#define FW_MAX_TRUSTED	16

/* com.docker.network.bridge.gateway_mode_ipv4/ipv6. */
enum fw_gw_mode {
	FW_GW_NAT,
	FW_GW_NAT_UNPROTECTED,
	FW_GW_ROUTED,
	FW_GW_ISOLATED,
};

/* What the firewall needs to know of one network.  Addresses are binary
 * (lib/prefix.h) and become text only where a library or a person reads
 * them.  An optional address is unset while its family is 0; for a single
 * address (not a subnet) plen is not looked at. */
struct fw_net {
	char	id[FW_ID_LEN + 1];
	char	bridge[FW_IFNAMSIZ];
	bool	ipv4;		/* has an IPv4 subnet */
	bool	ipv6;		/* has an IPv6 subnet */
	bool	icc;		/* enable_icc */
	bool	internal;	/* --internal: nothing in or out */
	bool	masquerade;	/* enable_ip_masquerade */
	enum fw_gw_mode gw4, gw6;
	struct prefix subnet4;	/* when ipv4; host bits are ignored */
	struct prefix subnet6;	/* when ipv6 */
	struct prefix snat4;	/* host_ipv4: SNAT source; unset masquerade */
	struct prefix snat6;	/* host_ipv6 */
	size_t	ntrusted;		/* trusted_host_interfaces */
	char	trusted[FW_MAX_TRUSTED][FW_IFNAMSIZ];
};

/* An endpoint's addresses: the direct-routing protection needs them. */
struct fw_ep {
	char	net_id[FW_ID_LEN + 1];
	struct prefix addr4;	/* unset: none */
	struct prefix addr6;
};

/* One published port, its host port already chosen. */
struct fw_port {
	char		net_id[FW_ID_LEN + 1];
	int		family;		/* of host_ip and cip */
	int		proto;		/* IPPROTO_TCP, _UDP or _SCTP */
	struct prefix	host_ip;	/* unset: any address */
	unsigned short	host_port;
	struct prefix	cip;
	unsigned short	cport;
};

/* A list of interface names. */
struct fw_ifnames {
	char	(*v)[FW_IFNAMSIZ];
	size_t	n;
};

/* Everything the rules are computed from. */
struct fw_model {
	const struct fw_net	*nets;
	size_t			nnets;
	const struct fw_ep	*eps;
	size_t			neps;
	const struct fw_port	*ports;
	size_t			nports;
	bool			wsl2;	/* loopback0 and an executable wslinfo */
	/* dockerd's own bridges per family where its chains are in nft (its
	 * isolation chain names them there), so that the legacy tables keep
	 * them apart from cbridge's and never drop what dockerd accepts.
	 * Empty where dockerd shares the legacy tables: its own rules do it. */
	struct fw_ifnames	docker4, docker6;
	/* Only the accepts for cbridge's bridges, at the top of a
	 * DOCKER-USER chain that exists in a loaded table: the libiptc half
	 * of the nftables backend, for a dockerd on legacy iptables. */
	bool			accept_only;
	/* Read every table back even where the plan is the one the backend
	 * last applied or found: the periodic check.  Without it a sync
	 * may trust its own record of a table whose plan did not change. */
	bool			verify;
};

/*
 * The iptables rule model (firewall/rules.c, pure): Docker 28.3's
 * "DOCKER-FORWARD" layout with userland-proxy off, since cbridge publishes
 * ports in the kernel only.  Every rule carries the comment
 * "cbridge:<first 12 of the network ID, or 'base'>:<8 hex of a hash of the
 * rule>", which is how the applier tells its own rules and their identity.
 */
enum fw_table { FW_T_RAW, FW_T_NAT, FW_T_FILTER, FW_T_MAX };

enum fw_target {
	FW_ACCEPT,
	FW_DROP,
	FW_RETURN,
	FW_JUMP,
	FW_MASQUERADE,
	FW_SNAT,
	FW_DNAT,
};

struct fw_xrule {
	int		family;		/* AF_INET or AF_INET6 */
	enum fw_table	table;
	char		chain[FW_CHAINLEN];
	bool		head;		/* above the chain's other rules, else
					 * appended below them */
	struct prefix	src, dst;	/* unset (family 0): any */
	bool		src_inv, dst_inv;
	char		iif[FW_IFNAMSIZ], oif[FW_IFNAMSIZ];	/* "" any */
	bool		iif_inv, oif_inv;
	int		proto;		/* 0 any */
	unsigned short	dport;		/* 0 any; tcp, udp or sctp only */
	bool		src_local;	/* -m addrtype --src-type LOCAL */
	bool		dst_local;	/* -m addrtype --dst-type LOCAL */
	bool		ct_established;	/* --ctstate RELATED,ESTABLISHED */
	bool		ct_dnat;	/* --ctstate DNAT */
	enum fw_target	target;
	char		jump[FW_CHAINLEN];	/* FW_JUMP */
	struct prefix	to;		/* SNAT and DNAT: the address */
	unsigned short	to_port;	/* DNAT: the port */
	char		comment[FW_COMMENTLEN];
};

/* A user chain that must exist in a table. */
struct fw_xchain {
	int		family;
	enum fw_table	table;
	char		name[FW_CHAINLEN];
};

struct fw_ruleset {
	bool			accept_only;	/* of a model so marked */
	struct fw_xrule		*rules;	/* malloc'ed; per chain in order */
	size_t			nrules;
	struct fw_xchain	*chains;	/* malloc'ed */
	size_t			nchains;
};

/* "tcp", "udp", "sctp" for those IPPROTO_ numbers, else NULL. */
const char *fw_proto_name(int proto);

/* Pure: validates m (IDs, names, addresses, ports; a message naming the
 * culprit in err) and computes every rule and chain cbridge wants. */
int	fw_rules_compute(const struct fw_model *m, struct fw_ruleset *ret,
	    char *err, size_t errlen);
void	fw_ruleset_done(struct fw_ruleset *rs);
/* One rule as iptables-save prints it: "-A CHAIN ... -j TARGET ...". */
int	fw_xrule_format(const struct fw_xrule *r, char *buf, size_t len);
/* The whole set in the canonical text the golden files hold: per family
 * and table ("*ipv4 filter"), the user chains (":NAME"), then the rules
 * as iptables-save orders them (built-in chains in hook order, then user
 * chains by name).  *ret malloc'ed. */
int	fw_ruleset_format(const struct fw_ruleset *rs, char **ret);
const char *fw_table_name(enum fw_table t);
/* Chains cbridge may create, fill and (once empty and unreferenced after
 * it removed its own rules) delete: Docker's names. */
bool	fw_is_docker_chain(const char *name);

/* A rule cbridge owns, as found in or planned for one chain. */
struct fw_rule {
	int	family;		/* AF_INET or AF_INET6 */
	/* "DOCKER-USER" or "FORWARD" (table filter, iptables-nft), or
	 * "filter-FORWARD" (table docker-bridges, Docker 29's nftables). */
	char	chain[32];
	char	id[FW_ID_LEN + 1];	/* network ID from the comment */
	char	iif[FW_IFNAMSIZ];
	char	oif[FW_IFNAMSIZ];
	unsigned long long handle;	/* nft rule handle; 0 when planned */
	/* Found where it must not be: in filter-FORWARD, above a rule that
	 * is not cbridge's (Docker's jumps come first).  The planner then
	 * deletes it and adds it again, at the end. */
	bool	misplaced;
};

/* Which of dockerd's forward chains exist, per family: the "filter"
 * table of iptables-nft, and Docker 29's own table; both may. */
struct fw_host {
	bool	has_table;
	bool	has_docker_user;
	bool	has_forward;
	bool	has_isolation;	/* dockerd's DOCKER-ISOLATION-STAGE-1 */
	/* Handle of dockerd's final plain "return" in DOCKER-USER (0: none,
	 * as from Docker 28.3).  Rules go just before it, so an admin's own
	 * rules at the top of DOCKER-USER still come first. */
	unsigned long long docker_user_return;
	/* Docker 29 with --firewall-backend=nftables: table docker-bridges
	 * has its base chain filter-FORWARD on the forward hook. */
	bool	has_docker_forward;
};

struct fw_plan {
	size_t		nadd, ndel;
	struct fw_rule	*add;	/* malloc'ed */
	struct fw_rule	*del;	/* malloc'ed; have handles */
};

/* Pure: the rules that should exist for nets on a host whose filter
 * tables look like host4/host6, compared with the cbridge rules found
 * there (current).  Rules found in the wrong chain, for networks that are
 * gone, or duplicated are deleted; missing ones added; misplaced ones
 * deleted and added again. */
int	fw_plan_compute(const struct fw_net *nets, size_t n,
	    const struct fw_host *host4, const struct fw_host *host6,
	    const struct fw_rule *current, size_t ncurrent,
	    struct fw_plan *ret);
void	fw_plan_done(struct fw_plan *p);

struct fw;

/*
 * A rule backend: brings the packet-filter rules in line with a model.
 * It keeps no state that the host-port interface below shares, so the two
 * can be driven from different threads.
 */
struct fw_ops {
	/* Makes cbridge's rules match m exactly (idempotent; restores rules
	 * someone deleted, removes its own stale or duplicated ones). */
	int	(*sync)(struct fw *f, const struct fw_model *m, char *err,
		    size_t errlen);
	/* Sets the family's filter FORWARD policy to DROP, as dockerd does
	 * after it turned forwarding on itself. */
	int	(*forward_drop)(struct fw *f, int family, char *err,
		    size_t errlen);
	void	(*free)(struct fw *f);
};

struct fw {
	const struct fw_ops *ops;
};

/* Which rule backend holds the model (FIREWALL_BACKEND). */
enum fw_backend {
	FW_BACKEND_AUTO,
	FW_BACKEND_IPTABLES,	/* libiptc, the legacy tables */
	FW_BACKEND_NFTABLES,	/* libnftables, cbridge's own tables */
};

/* "auto", "iptables", "nftables". */
const char *fw_backend_name(enum fw_backend b);
/* The reverse; 0 or -EINVAL. */
int	fw_backend_parse(const char *s, enum fw_backend *ret);
/* What the host offers that the choice depends on. */
struct fw_backend_probe {
	bool	legacy;		/* the kernel has legacy x_tables (ip_tables) */
	bool	docker_nft;	/* dockerd's nftables backend: a table
				 * "docker-bridges" exists */
};
/* Pure: the backend for want given the probe (want itself unless it is
 * auto), and in why one sentence saying why, for the log and the status
 * route. */
enum fw_backend fw_backend_choose(enum fw_backend want,
	    const struct fw_backend_probe *probe, char *why, size_t whylen);

struct fw_host_params {
	const char	*lock_path;	/* xtables lock; NULL: /run/xtables.lock */
	const char	*wslinfo;	/* NULL: /usr/bin/wslinfo */
	const char	*chains_path;	/* chains cbridge created; NULL: memory */
	enum fw_backend	backend;
};

/* The real firewall of the caller's network namespace: the chosen rule
 * backend for the full rule model (libiptc in the legacy tables, holding
 * the xtables lock at lock_path; or libnftables in cbridge's own tables),
 * plus libnftables accepts where dockerd's nft tables would drop
 * cbridge's traffic.  wslinfo is checked for WSL2's mirrored mode.
 * chains_path records the iptables chains cbridge created, the only ones
 * it ever deletes (NULL: kept in memory only, so none made before a
 * restart is deleted). */
struct fw	*fw_host_new(const struct fw_host_params *p, char *err,
		    size_t errlen);
/* The backend fw_host_new chose for f, and why (borrowed for f's life). */
enum fw_backend	fw_host_backend(struct fw *f, const char **why);
/* The two halves alone (tests). */
struct fw	*fw_iptc_new(const char *lock_path, const char *chains_path,
		    char *err, size_t errlen);
/* The nftables backend: the whole model in cbridge's own tables "ip
 * cbridge" and "ip6 cbridge" (firewall/nft.c). */
struct fw	*fw_nft_new(char *err, size_t errlen);
/* The nft users of one namespace (the backend, the docker-accept shim)
 * share a record of the transactions they made, so that one's write
 * does not make the other read everything again (firewall/nftio.h). */
struct fw_nftlog;
void		fw_nft_share_log(struct fw *f, struct fw_nftlog *log);
/* How many syncs of f's changed networks went out as netlink batches,
 * and how many through libnftables (tests). */
void		fw_nft_wire_counts(struct fw *f, unsigned long *batches,
		    unsigned long *fallbacks);
void		fw_dacc_share_log(struct fw *f, struct fw_nftlog *log);
/* The accepts for cbridge's bridges in dockerd's nft DOCKER-USER (or
 * FORWARD) chains and in Docker 29's filter-FORWARD
 * (firewall/dockeraccept.c). */
struct fw	*fw_dacc_new(char *err, size_t errlen);
/* Whether dockerd runs its nftables backend: a table "docker-bridges"
 * exists (ip or ip6). */
int		fw_dacc_docker_nft(struct fw *f, bool *ret, char *err,
		    size_t errlen);
/* dockerd's bridges in its nft isolation chains, per family: read again
 * when the ruleset changed since the last call.  *ret4 and *ret6 are
 * borrowed until the next call. */
int		fw_dacc_docker_bridges(struct fw *f,
		    const struct fw_ifnames **ret4,
		    const struct fw_ifnames **ret6, char *err, size_t errlen);
/* dockerd's bridges in its legacy isolation chain (rules "-i X ! -o X
 * -j DOCKER-ISOLATION-STAGE-2" without cbridge's comment), appended to
 * *ret4 and *ret6; nothing where the legacy filter table is not loaded.
 * f from fw_iptc_new. */
int		fw_iptc_docker_bridges(struct fw *f, struct fw_ifnames *ret4,
		    struct fw_ifnames *ret6, char *err, size_t errlen);
/* In-memory fake: records the last synced model. */
struct fw	*fw_fake_new(void);
/* Networks passed to the last successful sync (a failed one, injected or
 * refused, keeps the previous list); *ret is borrowed until the next sync
 * or fw_free, NULL when the count is 0. */
size_t		fw_fake_synced(struct fw *f, const struct fw_net **ret);
/* Published ports of the last successful sync, borrowed likewise. */
size_t		fw_fake_ports(struct fw *f, const struct fw_port **ret);
/* How many times sync was called, failed calls included. */
unsigned int	fw_fake_sync_calls(struct fw *f);
/* The next sync fails with -err (either sign; 0 means EIO). */
void		fw_fake_fail_next(struct fw *f, int err);
/* forward_drop calls for family (AF_INET or AF_INET6; else 0). */
unsigned int	fw_fake_forward_drops(struct fw *f, int family);

static inline struct fw *
fw_free(struct fw *f)
{
	if (f != NULL)
		f->ops->free(f);
	return NULL;
}

/* A host port held for a published port: an open, bound socket, so that
 * no other program takes it while the rules point it at a container. */
struct fw_resv {
	int		fd;		/* -1: none */
	unsigned short	port;
};

struct fw_hostports;

/*
 * Host ports and conntrack: what publishing a port needs besides rules.
 * Apart from the rule backend (no state shared with it): reserve and
 * release run on the caller's thread, the flush may run on another.
 */
struct fw_hostports_ops {
	/* Binds a socket of proto on host_ip (NULL: any address of family) to
	 * the first free port in lo..hi (0..0: any free port).  -EADDRINUSE
	 * with a message naming the address and port(s) when none is free. */
	int	(*reserve)(struct fw_hostports *hp, int family, int proto,
		    const struct prefix *host_ip, unsigned short lo, unsigned short hi,
		    struct fw_resv *ret, char *err, size_t errlen);
	void	(*release)(struct fw_hostports *hp, struct fw_resv *r);
	/* Deletes conntrack entries of UDP flows to these host ports, so
	 * that a flow the kernel saw before the port was published does not
	 * bypass the new DNAT. */
	int	(*conntrack_flush_udp)(struct fw_hostports *hp, int family,
		    const unsigned short *ports, size_t n, char *err,
		    size_t errlen);
	void	(*free)(struct fw_hostports *hp);
};

struct fw_hostports {
	const struct fw_hostports_ops *ops;
};

/* Sockets (firewall/ports.c) and libnl-nf (firewall/conntrack.c) in the
 * network namespace of the calling thread. */
struct fw_hostports *fw_hostports_new(char *err, size_t errlen);
/* In-memory fake: ports held in a table (firewall/fakeports.c). */
struct fw_hostports *fw_hostports_fake_new(void);
/* conntrack_flush_udp calls for family (AF_INET or AF_INET6; else 0). */
unsigned int	fw_fake_conntrack_flushes(struct fw_hostports *hp, int family);
/* Host ports reserved and not released. */
size_t		fw_fake_reserved(struct fw_hostports *hp);

static inline struct fw_hostports *
fw_hostports_free(struct fw_hostports *hp)
{
	if (hp != NULL)
		hp->ops->free(hp);
	return NULL;
}

#endif
