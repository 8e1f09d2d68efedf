/*
 * HTTP glue: libmicrohttpd in external-loop mode on a listening unix
 * socket.  Collects each request body (bounded by API_BODY_MAX), hands it to
 * api.c and queues the JSON reply.  No threads: MHD's epoll fd (the one
 * way MHD exposes its connections' sockets short of select() sets rebuilt
 * every turn) and its deadlines are registered with the daemon's loop.  A
 * request whose reply waits for the driver's worker suspends its
 * connection, so the loop goes on serving everything else meanwhile.
 */
#ifndef CBRIDGE_HTTP_H
#define CBRIDGE_HTTP_H

#include <stddef.h>

#define HTTP_MAX_CONNECTIONS	128

struct api;
struct http;

struct loop;

/* listen_fd is a bound, listening socket; ownership passes to the http
 * server, which closes it in http_free().  a and loop are borrowed. */
int	http_new(int listen_fd, struct api *a, struct loop *loop,
	    struct http **ret, char *err, size_t errlen);
struct http *http_free(struct http *h);

#endif
