/*
 * HTTP glue: libmicrohttpd in external-loop mode on a listening unix
 * socket.  Collects each request body (bounded by API_BODY_MAX), hands it to
 * api.c and queues the JSON reply.  No threads: the caller's loop polls
 * http_fd() and calls http_run().
 */
#ifndef CBRIDGE_HTTP_H
#define CBRIDGE_HTTP_H

#include <stddef.h>

#define HTTP_MAX_CONNECTIONS	128

struct api;
struct http;

/* listen_fd is a bound, listening socket; ownership passes to the http
 * server, which closes it in http_free().  a is borrowed. */
int	http_new(int listen_fd, struct api *a, struct http **ret,
	    char *err, size_t errlen);
struct http *http_free(struct http *h);

/* An fd that becomes readable when http_run() has work. */
int	http_fd(const struct http *h);
/* Milliseconds until http_run() must be called anyway; -1 for none. */
int	http_timeout_ms(const struct http *h);
void	http_run(struct http *h);

#endif
