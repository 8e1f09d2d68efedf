/*
 * The plugin API: Docker's remote NetworkDriver and IpamDriver calls as
 * JSON in, JSON out.  Parses and validates every request into plain structs
 * for the driver; http.c hands it a path and a body and sends back what it
 * returns.
 */
#ifndef CBRIDGE_API_H
#define CBRIDGE_API_H

#include <stddef.h>

#define API_BODY_MAX	(256u * 1024)	/* larger request bodies get 413 */

struct drv;
struct api;

struct api_reply {
	unsigned int	status;		/* 200 on success */
	char		*body;		/* malloc'ed JSON, owned by the caller */
	size_t		len;
};

/* d is borrowed and must outlive the api. */
struct api	*api_new(struct drv *d);
struct api	*api_free(struct api *a);

struct json_t;
/* The DNS counters as a JSON document (a new reference), NULL when out
 * of memory. */
typedef struct json_t *(*api_stats_fn)(void *arg);
/* Serves POST /Cbridge.DnsStats from fn; without it that route answers
 * 404 with a message. */
void	api_set_dns_stats(struct api *a, api_stats_fn fn, void *arg);

/* Handles one POST synchronously (a driver without a loop: tests,
 * fuzzers).  Always fills *ret with a JSON body (an error is a
 * non-200 status with {"Err": "..."}); returns -ENOMEM only when not even
 * that could be built. */
int	api_handle(struct api *a, const char *path, const char *body,
	    size_t len, struct api_reply *ret);
/* The reply of a request that api_start() could not answer at once. */
typedef void	api_reply_fn(void *ctx, struct api_reply *rep);

/* At most this many requests wait behind a change in progress (dockerd
 * sends one at a time per network; this bounds a misbehaving client). */
#define API_QUEUE_MAX	256

/* Like api_handle, for a driver that finishes changes on its worker:
 * 0 with *ret filled, or 1 when the reply comes later through fn(ctx,
 * reply) on the loop (the change waits on the worker, or waits behind
 * another change: changes run one at a time, in arrival order).  The
 * reply's body is the receiver's. */
int	api_start(struct api *a, const char *path, const char *body,
	    size_t len, struct api_reply *ret, api_reply_fn *fn, void *ctx);
/* A JSON error reply built without the driver (for http.c's own errors). */
int	api_error_reply(unsigned int status, const char *msg,
	    struct api_reply *ret);

#endif
