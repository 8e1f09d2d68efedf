/*
 * Network options: the com.docker.network.* keys dockerd passes to
 * CreateNetwork, parsed and validated into plain values.  Pure.
 */
#ifndef CBRIDGE_OPTIONS_H
#define CBRIDGE_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/prefix.h"

#define OPT_IFNAMSIZ		16	/* 15 characters plus NUL */
#define OPT_MAX_TRUSTED		16
#define OPT_MAX_KV		64	/* generic options per network */
#define OPT_KEY_MAX		256
#define OPT_VALUE_MAX		1024

#define OPT_PREFIX		"com.docker.network."
#define OPT_BRIDGE_PREFIX	"com.docker.network.bridge."

enum gw_mode {
	GW_MODE_NAT,
	GW_MODE_NAT_UNPROTECTED,
	GW_MODE_ROUTED,
	GW_MODE_ISOLATED,
	GW_MODE_MAX,
};

const char *gw_mode_to_string(enum gw_mode m);
int	gw_mode_from_string(const char *s, enum gw_mode *ret);

/* One generic option, both strings owned by the kv list. */
struct opt_kv {
	char	*key;
	char	*value;
};

struct opt_kvlist {
	size_t		n;
	struct opt_kv	*v;
};

/* Adds a copy of key/value; -E2BIG past OPT_MAX_KV or over-long strings,
 * -EEXIST for a duplicate key, -ENOMEM. */
int	opt_kvlist_add(struct opt_kvlist *l, const char *key, const char *value);
const char *opt_kvlist_get(const struct opt_kvlist *l, const char *key);
void	opt_kvlist_done(struct opt_kvlist *l);
int	opt_kvlist_copy(const struct opt_kvlist *src, struct opt_kvlist *ret);

struct net_opts {
	char		bridge_name[OPT_IFNAMSIZ];	/* "" = derive from ID */
	unsigned int	mtu;				/* 0 = kernel default */
	bool		enable_icc;
	bool		enable_ip_masquerade;
	bool		has_host_binding;		/* host_binding_ipv4 */
	struct prefix	host_binding;
	bool		has_host_ipv4;			/* SNAT source */
	struct prefix	host_ipv4;
	bool		has_host_ipv6;
	struct prefix	host_ipv6;
	bool		inhibit_ipv4;
	bool		default_bridge;
	enum gw_mode	gw_mode_ipv4;
	enum gw_mode	gw_mode_ipv6;
	size_t		ntrusted;
	char		trusted[OPT_MAX_TRUSTED][OPT_IFNAMSIZ];
	char		iface_prefix[OPT_IFNAMSIZ];	/* "" = "eth" */
	/* Top-level flags, not in the generic map. */
	bool		enable_ipv4;
	bool		enable_ipv6;
	bool		internal;
};

/* Go's strconv.ParseBool, which is what users know from dockerd. */
int	opt_parse_bool(const char *s, bool *ret);
/* Linux interface name rules (1..15 bytes, not "." or "..", no '/', ':'
 * or white space), narrowed to printable ASCII without quotes, '\\' and
 * '*' so that the name can go into a firewall rule. */
bool	opt_valid_ifname(const char *s);

/* Fills *ret with defaults, then applies the generic options.  Unknown
 * com.docker.network.bridge.* keys are refused (a typo would otherwise be
 * silently ignored); other keys are accepted and ignored. */
int	opt_parse(const struct opt_kvlist *generic, bool enable_ipv4,
	    bool enable_ipv6, bool internal, struct net_opts *ret,
	    char *err, size_t errlen);

#endif
