/*
 * The persisted state: networks and IPAM allocations in one JSON document,
 * STATE_DIR/state.json, written atomically after every change and loaded
 * through the same validators as API input.
 *
 * Each network, endpoint and IPAM pool keeps its own encoded JSON text,
 * made by st_encode when first needed, so that a change re-encodes only
 * what changed.  Whoever changes a persisted field of an ep_cfg or a
 * net_cfg after st_encode has seen it must call ep_cfg_changed() or
 * net_cfg_changed(); the IPAM drops its pools' text itself.
 */
#ifndef CBRIDGE_STATE_H
#define CBRIDGE_STATE_H

#include <stdbool.h>
#include <stddef.h>

#include "plugin/ipam.h"
#include "plugin/options.h"
#include "lib/prefix.h"

#define NET_ID_LEN	64		/* hex characters */
#define ST_FILE		"state.json"
#define ST_MAX_BYTES	(64u << 20)
#define ST_VERSION	1
#define ST_SANDBOX_MAX	255	/* bytes of a SandboxKey path */

/* One network as CreateNetwork described it. */
struct net_cfg {
	char		id[NET_ID_LEN + 1];
	char		bridge[OPT_IFNAMSIZ];
	struct opt_kvlist generic;	/* options as dockerd sent them, owned */
	struct net_opts	opts;		/* parsed from generic and the flags */
	bool		has_v4, has_gw4;
	struct prefix	pool4, gw4;	/* gw4 carries the pool's length */
	bool		has_v6, has_gw6;
	struct prefix	pool6, gw6;
	char		*enc;		/* cached JSON text, owned; NULL: none */
	size_t		enc_len;
};

/* One endpoint: a veth pair on a network's bridge. */
/* A published port of an endpoint, its host port chosen. */
struct ep_port {
	int		proto;		/* IPPROTO_TCP, _UDP or _SCTP */
	int		family;		/* of the binding and the container */
	bool		has_host_ip;	/* else any address of family */
	struct prefix	host_ip;	/* an address: full-length prefix */
	unsigned short	host_port;
	unsigned short	cport;
	int		fd;		/* not persisted: the driver's host port
					 * reservation, -1 when none */
};

#define ST_MAX_PORTS	4096	/* published ports per endpoint */

struct ep_cfg {
	char		id[NET_ID_LEN + 1];
	char		net_id[NET_ID_LEN + 1];
	char		host[OPT_IFNAMSIZ];	/* veth end on the bridge */
	char		peer[OPT_IFNAMSIZ];	/* end dockerd moves away */
	bool		has_addr4, has_addr6;
	struct prefix	addr4, addr6;		/* with the subnet's length */
	unsigned char	mac[6];
	bool		joined;
	char		sandbox[ST_SANDBOX_MAX + 1];	/* SandboxKey of Join */
	struct ep_port	*ports;		/* owned; the fds are the driver's */
	size_t		nports;
	char		*enc;		/* cached JSON text, owned; NULL: none.
					 * A struct copy must not keep it. */
	size_t		enc_len;
};

struct net_cfg	*net_cfg_free(struct net_cfg *n);
struct ep_cfg	*ep_cfg_free(struct ep_cfg *e);
/* Drop the cached text of n or e: after any change to what the state file
 * holds of it (not the port fds, which are not persisted). */
void	net_cfg_changed(struct net_cfg *n);
void	ep_cfg_changed(struct ep_cfg *e);
/* "02:42:ac:11:00:02" into buf (at least 18 bytes); parse: -EINVAL. */
const char *st_format_mac(const unsigned char mac[6], char *buf, size_t len);
int	st_parse_mac(const char *s, unsigned char ret[6]);
/* 64 lowercase hex characters, as dockerd's IDs are. */
bool	net_valid_id(const char *s);

struct st_doc {
	struct net_cfg	**nets;		/* owned */
	size_t		nnets;
	struct ep_cfg	**eps;		/* owned; each on one of nets */
	size_t		neps;
	bool		has_ula;
	struct prefix	ula;		/* this host's IPv6 ULA /48 */
};

void	st_doc_done(struct st_doc *d);

/* Serialises doc and ip to a malloc'ed NUL-terminated buffer (*ret,
 * caller owns): compact JSON, keys sorted, one network, endpoint or pool
 * per line.  Not const: it fills the cached text of every network,
 * endpoint and pool that has none, and reuses the text of the others. */
int	st_encode(struct st_doc *doc, struct ipam *ip,
	    char **ret, size_t *ret_len, char *err, size_t errlen);
/* Drops every cached text of doc and ip, so that the next st_encode
 * encodes everything again (tests compare the two). */
void	st_drop_cache(struct st_doc *doc, struct ipam *ip);
/* Parses and validates buf; the IPAM part is loaded into ip (unchanged on
 * failure), the rest returned in *ret.  -EINVAL with a message naming the
 * bad field. */
int	st_decode(const char *buf, size_t len, struct ipam *ip,
	    struct st_doc *ret, char *err, size_t errlen);

/* Reads dir/ST_FILE; a missing file is an empty state (0). */
int	st_load(const char *dir, struct ipam *ip, struct st_doc *ret,
	    char *err, size_t errlen);

#endif
