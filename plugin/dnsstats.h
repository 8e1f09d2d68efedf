/*
 * The DNS counters as the JSON document of the Cbridge.DnsStats route
 * (what `cbridge dns-stats` prints), built from counters already read:
 * no I/O.  Field names are an interface: scripts read them.
 */
#ifndef CBRIDGE_DNSSTATS_H
#define CBRIDGE_DNSSTATS_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "dns/conf.h"
#include "dns/forward.h"
#include "dns/server.h"

/* One sandbox; pointers borrowed for the call. */
struct dnsstats_sandbox {
	const char	*key;		/* SandboxKey */
	const char	*state;		/* sbs_state_str() */
	const char	*err;		/* "" when none */
	size_t		neps;
	bool		forwarding;
	const struct dns_srv_stats *srv;	/* NULL: no responder */
	const struct dns_fwd_stats *fwd;	/* its own forwarder
						 * (DNS_FORWARD_FROM=sandbox),
						 * NULL: none */
};

/* The whole daemon; pointers borrowed for the call. */
struct dnsstats {
	const char	*address;	/* DNS_ADDRESS as given */
	const char	*forward_from;	/* "host" or "sandbox" */
	const char	*upstreams_from;
	const struct dns_upstreams *ups;
	const struct dns_fwd_stats *fwd;	/* shared forwarder, NULL: none */
	const struct dns_cache_stats *cache;	/* NULL: no cache */
	bool		engine;		/* the Engine API client runs */
	const char	*socket;
	const char	*engine_err;	/* "" when it answers */
	size_t		containers;	/* names known for */
};

/* A sandbox's object, for the array given to dnsstats_json(); the
 * upstreams are the daemon's.  NULL when out of memory. */
json_t	*dnsstats_sandbox_json(const struct dnsstats_sandbox *sb,
	    const struct dns_upstreams *ups);
/* The document; takes the reference to sandboxes (NULL: an empty array).
 * NULL when out of memory. */
json_t	*dnsstats_json(const struct dnsstats *st, json_t *sandboxes);

#endif
