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
						 * (DNS_FORWARD_FROM=sandbox,
						 * or own_ups), NULL: none */
	/* The container names in the sandbox, as the Engine API knows
	 * them (none while it has not told). */
	const char *const *containers;
	size_t		ncontainers;
	/* The container's own --dns servers, forwarded from the sandbox:
	 * NULL when it has none (the daemon's upstreams are used). */
	const struct dns_upstreams *own_ups;
	/* DNS_MODE=intercept: the 127.0.0.11 redirect. */
	bool		intercept;
	bool		redirected;	/* in place now */
	const char	*intercept_err;	/* "" when none */
	const char	*docker_resolver; /* "127.0.0.11:PORT", "" unknown */
};

/* The whole daemon; pointers borrowed for the call. */
struct dnsstats {
	const char	*mode;		/* DNS_MODE */
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
