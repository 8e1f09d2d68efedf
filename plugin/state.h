/*
 * The persisted state: networks and IPAM allocations in one JSON document,
 * STATE_DIR/state.json, written atomically after every change and loaded
 * through the same validators as API input.
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
};

struct net_cfg	*net_cfg_free(struct net_cfg *n);
struct ep_cfg	*ep_cfg_free(struct ep_cfg *e);
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
 * caller owns). */
int	st_encode(const struct st_doc *doc, const struct ipam *ip,
	    char **ret, size_t *ret_len, char *err, size_t errlen);
/* Parses and validates buf; the IPAM part is loaded into ip (unchanged on
 * failure), the rest returned in *ret.  -EINVAL with a message naming the
 * bad field. */
int	st_decode(const char *buf, size_t len, struct ipam *ip,
	    struct st_doc *ret, char *err, size_t errlen);

/* Reads dir/ST_FILE; a missing file is an empty state (0). */
int	st_load(const char *dir, struct ipam *ip, struct st_doc *ret,
	    char *err, size_t errlen);

#endif
