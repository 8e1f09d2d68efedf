/*
 * The Docker Engine API client that learns container names (for the DNS
 * responder): the network-plugin protocol never names a container, so a
 * worker thread asks the engine over its unix socket and posts
 * updates to a queue that the daemon's loop drains through an eventfd.
 *
 * Decisions:
 *  - Never from an HTTP handler: dockerd calls the plugin while holding
 *    its locks, and an inspect of a starting container waits for its
 *    lock.  All engine I/O is on the worker thread, which touches nothing
 *    but its own sockets and the queue (under a mutex).
 *  - Per (re)connection: the events stream is opened first, then the
 *    running containers are listed and inspected, so nothing between the
 *    listing and the subscription is missed.  Unversioned paths, so newer
 *    engines answer too.
 *  - On any failure (no socket, refused, a stream that ends, a timeout of
 *    10 s on a request) one ENG_DOWN per outage, then retries 1 s, 2 s, ...
 *    30 s apart and a full sync when back.  Names already known stay.  A
 *    container whose inspect fails otherwise (HTTP 500, a body that does
 *    not parse) is skipped, not sent: within a sync it is then forgotten.
 *  - Bounded: response bodies (4 MiB per inspect, 16 MiB for the list),
 *    event lines (64 KiB, longer ones skipped), names, links and networks
 *    kept (ENG_NAMES_MAX, ENG_LINKS_MAX, ENG_NETS_MAX; names over
 *    ENG_NAME_MAX bytes skipped), a SandboxKey (ENG_KEY_MAX) and own DNS
 *    servers (ENG_DNS_MAX), and the queue (ENG_QUEUE_MAX updates or
 *    ENG_QUEUE_BYTES): when the loop does not drain it, everything queued
 *    is dropped and a full sync follows once the loop has taken from the
 *    queue again.
 *  - Events followed: network connect and disconnect, container start,
 *    restart, die (the process, its namespace and addresses change),
 *    rename (inspected again) and destroy (forgotten).
 *
 * What the consumer must accept: a SYNC_BEGIN may follow another without
 * a SYNC_END (a sync cut short by an outage or an overflow): start over.
 * A CONTAINER may come outside a sync (events).
 */
#ifndef CBRIDGE_ENGINE_H
#define CBRIDGE_ENGINE_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ENG_ID_LEN	64
#define ENG_NAME_MAX	255		/* bytes of one name */
#define ENG_NAMES_MAX	64		/* names per endpoint kept */
#define ENG_NETS_MAX	64		/* networks per container kept */
#define ENG_LINKS_MAX	64		/* links per endpoint kept */
#define ENG_KEY_MAX	256		/* bytes of a SandboxKey */
#define ENG_DNS_MAX	3		/* HostConfig.Dns servers kept */
#define ENG_SOCK_DEFAULT "/var/run/docker.sock"

#define ENG_TIMEOUT_MS		10000	/* one request, connect to last byte */
#define ENG_INSPECT_MAX		(4u << 20)	/* body bytes */
#define ENG_LIST_MAX		(16u << 20)
#define ENG_LINE_MAX		(64u << 10)	/* one event line */
#define ENG_QUEUE_MAX		10000	/* updates waiting */
#define ENG_QUEUE_BYTES		(64u << 20)	/* their approximate size */
#define ENG_BACKOFF_MIN_MS	1000
#define ENG_BACKOFF_MAX_MS	30000

/* A link: alias stands for the container named target.  On a
 * user-defined network (its Links, "target:alias" or "target") Docker's
 * resolver answers alias for the container that declared it only; on the
 * default bridge (HostConfig.Links, "/target:/me/alias") it lives in
 * /etc/hosts, not in DNS. */
struct eng_link {
	char	*target;		/* owned, without '/' */
	char	*alias;			/* owned */
};

struct eng_endpoint {			/* one network attachment */
	char	net_id[ENG_ID_LEN + 1];	/* .Networks.<name>.NetworkID */
	char	net_name[ENG_NAME_MAX + 1];	/* <name>, cut if longer */
	char	ep_id[ENG_ID_LEN + 1];	/* .EndpointID, never "" */
	/* Owned.  names[0] the container name without '/', then Aliases,
	 * DNSNames (newer engines), the 12-hex short ID, Config.Hostname, in
	 * that order; duplicates (ASCII case-insensitive) and empty strings
	 * left out. */
	char	**names;
	size_t	nnames;
	/* .IPAddress, .GlobalIPv6Address: absent, "" or not an address of
	 * the family is none. */
	bool		has_addr4, has_addr6;
	struct in_addr	addr4;
	struct in6_addr	addr6;
	/* Owned.  This network's Links; on the network named "bridge" (the
	 * default bridge) HostConfig.Links.  Entries of more than two ':'
	 * parts, or with an empty or over-long part, left out. */
	struct eng_link	*links;
	size_t		nlinks;
};

struct eng_container {
	char			id[ENG_ID_LEN + 1];
	char			name[ENG_NAME_MAX + 1];	/* Name without '/';
					 * "" when none or over-long */
	bool			running;	/* State.Running */
	int			pid;	/* State.Pid; 0 when not running */
	/* NetworkSettings.SandboxKey, the network namespace's path; "" when
	 * none or longer than ENG_KEY_MAX. */
	char			sandbox_key[ENG_KEY_MAX + 1];
	/* HostConfig.NetworkMode "container:<ref>": the name or ID (maybe
	 * shortened) of the container whose namespace this one shares; ""
	 * for any other mode. */
	char			net_container[ENG_NAME_MAX + 1];
	/* HostConfig.Dns (the container's --dns): the first ENG_DNS_MAX that
	 * are IPv4 or IPv6 literals, as text; others skipped. */
	char			dns[ENG_DNS_MAX][INET6_ADDRSTRLEN];
	size_t			ndns;
	struct eng_endpoint	*eps;	/* owned */
	size_t			neps;
};

enum eng_kind {
	ENG_CONTAINER,	/* c: c.id's current attachments, replacing all */
	ENG_REMOVED,	/* c.id (only) is gone: forget it */
	ENG_SYNC_BEGIN,	/* a full listing starts (after (re)connecting) */
	ENG_SYNC_END,	/* done: containers not sent since BEGIN are gone */
	ENG_DOWN,	/* the API became unreachable (msg); names known stay */
	ENG_KIND_MAX
};

struct eng_update {
	enum eng_kind		kind;
	struct eng_container	c;	/* ENG_CONTAINER, ENG_REMOVED (id) */
	char			msg[256];	/* ENG_DOWN */
	struct eng_update	*next;
};

struct eng;

/* Starts the worker thread (all signals blocked in it); sock_path is
 * copied.  NULL with a message in err when the eventfds or the thread
 * cannot be made. */
struct eng	*eng_new(const char *sock_path, char *err, size_t errlen);

/* Stops and joins the thread (within a few ms, also while it waits on the
 * engine or between retries) and frees everything, queued updates too.
 * Accepts NULL; returns NULL. */
struct eng	*eng_free(struct eng *e);

/* An eventfd, readable while updates wait: for the daemon's epoll set.
 * Owned by e. */
int		 eng_fd(const struct eng *e);

/* Every queued update, oldest first, as a list the caller frees with
 * eng_update_free(); clears eng_fd()'s readiness.  NULL when none. */
struct eng_update *eng_take(struct eng *e);

/* Frees the whole list u; accepts NULL. */
void		 eng_update_free(struct eng_update *u);

const char	*eng_kind_str(enum eng_kind k);

/*
 * Pure functions (no I/O), for the worker, unit tests and fuzzing.
 */

/* The body of GET /containers/{id}/json into *ret (written only on
 * success; the caller frees it with eng_container_done()).  Endpoints
 * with an empty EndpointID (not attached) are left out, as are those
 * with an ID over ENG_ID_LEN; network names are cut, names over
 * ENG_NAME_MAX skipped, names, links and networks beyond the caps
 * dropped, text that is no address taken as none.  -EINVAL with a
 * message in err for anything else odd: not JSON (a NUL byte, \u0000,
 * included), wrong types, Id missing or not 1..64 hex digits, State.Pid
 * not an integer of 0..INT_MAX. */
int	eng_parse_container(const char *json, size_t len,
	    struct eng_container *ret, char *err, size_t errlen);
void	eng_container_done(struct eng_container *c);

/* The body of GET /containers/json: the containers' IDs into *ret_ids
 * (malloc'ed, *ret_n of them, NULL when 0; the caller frees).  -EINVAL
 * with a message for a body that is not an array of objects with an Id
 * of 1..64 hex digits, -ENOMEM. */
int	eng_parse_list(const char *json, size_t len,
	    char (**ret_ids)[ENG_ID_LEN + 1], size_t *ret_n, char *err,
	    size_t errlen);

/* One line of the /events stream: what to do, and about which container
 * (network connect/disconnect: Actor.Attributes.container; container
 * start, restart, die, rename: inspect Actor.ID; container destroy:
 * removed).  0, or -EINVAL for a line that is not a JSON object or an
 * event we act on without a valid container ID; container_id is "" for
 * ENG_EV_IGNORE. */
enum eng_event { ENG_EV_IGNORE, ENG_EV_INSPECT, ENG_EV_REMOVED };
int	eng_parse_event(const char *json, size_t len, enum eng_event *ev,
	    char container_id[ENG_ID_LEN + 1]);

/* 1 if s[0..len) is 1..ENG_ID_LEN hex digits (safe in a URL path). */
bool	eng_id_valid(const char *s, size_t len);

/*
 * An incremental HTTP/1.1 response reader: the status line, headers,
 * then a body delimited by Content-Length, chunked transfer coding
 * (extensions and trailers ignored) or the end of the connection.  Fed
 * bytes as they arrive; decoded body bytes go to the callback as they
 * come, so it serves the endless /events stream as well.
 */
#define ENG_HTTP_LINE_MAX	8192	/* one header or chunk-size line */
#define ENG_HTTP_HEAD_MAX	(64u << 10)	/* the whole head */

/* Called with each piece of decoded body; a negative return stops the
 * reader and is returned by eng_http_feed(). */
typedef int	(*eng_http_body_fn)(void *arg, const char *data, size_t len);

enum eng_http_state {
	ENG_HTTP_STATUS, ENG_HTTP_HEADER, ENG_HTTP_BODY_LEN, ENG_HTTP_BODY_EOF,
	ENG_HTTP_CHUNK_SIZE, ENG_HTTP_CHUNK_DATA, ENG_HTTP_CHUNK_END,
	ENG_HTTP_TRAILER, ENG_HTTP_DONE, ENG_HTTP_ERROR
};

struct eng_http {
	enum eng_http_state state;
	int		status;		/* 0 until the status line is read */
	bool		chunked;
	bool		has_length;
	uint64_t	length;		/* Content-Length */
	uint64_t	left;		/* of the body or the current chunk */
	uint64_t	body;		/* decoded body bytes so far */
	size_t		body_max;	/* 0: no limit */
	size_t		head;		/* head bytes so far */
	char		line[ENG_HTTP_LINE_MAX + 1];
	size_t		linelen;
	eng_http_body_fn cb;
	void		*arg;
};

/* Ready for a response; more than body_max body bytes (0: no limit) is
 * -EMSGSIZE.  cb may be NULL (body dropped). */
void	eng_http_init(struct eng_http *h, size_t body_max, eng_http_body_fn cb,
	    void *arg);

/* Feeds buf[0..len).  1 when the response is complete (bytes after its
 * end are ignored), 0 when more is needed, -EPROTO for a malformed
 * response, -EMSGSIZE over a cap, or the callback's error; an error
 * sticks.  head_done() tells when the status and headers are in. */
int	eng_http_feed(struct eng_http *h, const char *buf, size_t len);

/* The connection ended: 1 when that completes the response (a body
 * delimited by the close), -EPIPE when it cuts it short. */
int	eng_http_eof(struct eng_http *h);

/* 1 once the status line and headers have been read. */
bool	eng_http_head_done(const struct eng_http *h);

/*
 * Splits the /events body into lines (of at most ENG_LINE_MAX bytes;
 * longer ones are skipped whole) for the callback, without the '\n'.
 */
struct eng_lines {
	char		*buf;		/* ENG_LINE_MAX bytes, owned */
	size_t		len;
	bool		skipping;	/* inside a line that was too long */
	size_t		nskipped;	/* lines skipped */
	int		(*cb)(void *arg, const char *line, size_t len);
	void		*arg;
};

int	eng_lines_init(struct eng_lines *l,
	    int (*cb)(void *arg, const char *line, size_t len), void *arg);
/* Passes each complete line to cb; its negative return stops and is
 * returned.  Shaped as an eng_http_body_fn (arg is the eng_lines). */
int	eng_lines_feed(void *l, const char *data, size_t len);
void	eng_lines_done(struct eng_lines *l);

#endif
