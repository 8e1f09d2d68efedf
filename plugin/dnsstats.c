/*
 * The DNS counters' JSON document (see dnsstats.h).
 */
#include "plugin/dnsstats.h"

/* The upstreams with the forwarder's counters for each position; zeros
 * without a forwarder. */
static json_t *
ups_json(const struct dns_upstreams *u, const struct dns_fwd_stats *f)
{
	static const struct dns_fwd_stats none;
	char buf[DNS_UPSTREAM_STRLEN];
	json_t *a = json_array();

	if (f == NULL)
		f = &none;
	for (unsigned int i = 0; a != NULL && i < u->n; i++) {
		const struct dns_fwd_upstream_stats *x = &f->up[i];

		(void)json_array_append_new(a, json_pack("{s:s, s:I, s:I, s:I, "
		    "s:I, s:I, s:I, s:I}",
		    "Address", dns_upstream_format(&u->srv[i], buf, sizeof(buf)),
		    "Sent", (json_int_t)x->sent,
		    "Replies", (json_int_t)x->replies,
		    "Timeouts", (json_int_t)x->timeouts,
		    "Errors", (json_int_t)x->errors,
		    "Failures", (json_int_t)x->failures,
		    "Mismatched", (json_int_t)x->mismatched,
		    "TcRetries", (json_int_t)x->tc_retries));
	}
	return a;
}

json_t *
dnsstats_sandbox_json(const struct dnsstats_sandbox *sb,
    const struct dns_upstreams *ups)
{
	static const struct dns_srv_stats none;
	const struct dns_srv_stats *st = sb->srv ? sb->srv : &none;
	char buf[DNS_UPSTREAM_STRLEN];
	json_t *o, *per, *names, *icpt;

	if (sb->own_ups != NULL)
		ups = sb->own_ups;
	per = json_array();
	for (unsigned int i = 0; per != NULL && i < ups->n; i++)
		(void)json_array_append_new(per, json_pack("{s:s, s:I, s:I}",
		    "Address", dns_upstream_format(&ups->srv[i], buf,
		    sizeof(buf)),
		    "Timeouts", (json_int_t)st->up_timeouts[i],
		    "Failures", (json_int_t)st->up_failures[i]));
	o = json_pack("{s:s, s:s, s:s, s:I, s:b, s:I, s:I, s:I, s:I, s:I, "
	    "s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o}",
	    "SandboxKey", sb->key,
	    "State", sb->state,
	    "Error", sb->err,
	    "Endpoints", (json_int_t)sb->neps,
	    "Forwarding", sb->forwarding,
	    "QueriesUdp", (json_int_t)st->queries_udp,
	    "QueriesTcp", (json_int_t)st->queries_tcp,
	    "Local", (json_int_t)st->local,
	    "Forwarded", (json_int_t)st->forwarded,
	    "CacheHits", (json_int_t)st->cache_hits,
	    "UpstreamFailures", (json_int_t)st->upstream_failures,
	    "ServFail", (json_int_t)st->servfail,
	    "Truncations", (json_int_t)st->truncations,
	    "Drops", (json_int_t)st->drops,
	    "TcpTimeouts", (json_int_t)st->timeouts,
	    "TcpRefused", (json_int_t)st->tcp_refused,
	    "TcpOpen", (json_int_t)st->tcp_open,
	    "Inflight", (json_int_t)st->inflight,
	    "Upstreams", per ? per : json_array());
	if (o == NULL)
		return NULL;
	if (sb->fwd != NULL)
		(void)json_object_set_new(o, "SandboxUpstreams",
		    ups_json(ups, sb->fwd));
	(void)json_object_set_new(o, "OwnUpstreams",
	    json_boolean(sb->own_ups != NULL));
	names = json_array();
	for (size_t i = 0; names != NULL && i < sb->ncontainers; i++)
		(void)json_array_append_new(names,
		    json_string(sb->containers[i]));
	(void)json_object_set_new(o, "Containers",
	    names ? names : json_array());
	icpt = json_pack("{s:b, s:b, s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I}",
	    "Enabled", sb->intercept,
	    "Redirected", sb->redirected,
	    "Error", sb->intercept_err ? sb->intercept_err : "",
	    "DockerResolver", sb->docker_resolver ? sb->docker_resolver : "",
	    "DockerAsked", (json_int_t)st->docker_asked,
	    "DockerAnswered", (json_int_t)st->docker_answered,
	    "DockerFellThrough", (json_int_t)st->docker_fellthrough,
	    "DockerTimeouts", (json_int_t)st->docker_timeouts,
	    "DockerLoops", (json_int_t)st->docker_loops,
	    "DockerBusy", (json_int_t)st->docker_busy);
	(void)json_object_set_new(o, "Intercept", icpt ? icpt : json_object());
	return o;
}

json_t *
dnsstats_json(const struct dnsstats *st, json_t *sandboxes)
{
	static const struct dns_cache_stats no_cache;
	static const struct dns_fwd_stats no_fwd;
	const struct dns_cache_stats *cs = st->cache ? st->cache : &no_cache;
	const struct dns_fwd_stats *fs = st->fwd ? st->fwd : &no_fwd;

	return json_pack("{s:s, s:s, s:s, s:s, s:o, s:{s:b, s:s, s:s, s:I}, "
	    "s:{s:I, s:I, s:I, s:I}, s:{s:I, s:I, s:I, s:I, s:I}, s:o}",
	    "Mode", st->mode ? st->mode : "",
	    "Address", st->address,
	    "ForwardFrom", st->forward_from,
	    "UpstreamsFrom", st->upstreams_from,
	    "Upstreams", ups_json(st->ups, st->fwd),
	    "Engine", "Enabled", st->engine,
	    "Socket", st->socket,
	    "Error", st->engine_err,
	    "Containers", (json_int_t)st->containers,
	    "Cache", "Entries", (json_int_t)cs->entries,
	    "Hits", (json_int_t)cs->hits,
	    "Misses", (json_int_t)cs->misses,
	    "Bytes", (json_int_t)cs->bytes,
	    "Forwarder", "Started", (json_int_t)fs->started,
	    "Answered", (json_int_t)fs->answered,
	    "Failed", (json_int_t)fs->failed,
	    "RefusedCap", (json_int_t)fs->refused_cap,
	    "Inflight", (json_int_t)fs->inflight,
	    "Sandboxes", sandboxes ? sandboxes : json_array());
}
