/*
 * The responder loop of one sandbox (issue 5): a UDP and a TCP socket
 * inside the sandbox's network namespace, queries decided by dns_answer()
 * and, when not ours, answered from the cache or forwarded with the
 * shared forwarder (dns/forward.h).  Non-blocking and single-threaded:
 * the server owns one epoll fd that the daemon adds to its own epoll set;
 * when that fd is readable the daemon calls dns_srv_run().  References are
 * to ../shared/spec/dns-responder.md.
 *
 * Decisions:
 *  - Sockets (B01).  Created after setns() into the sandbox's namespace
 *    and the thread goes back to its own at once (as dns/forward.c does;
 *    failing to go back aborts, since the daemon's next sockets and its
 *    netlink would land in the sandbox).  Bound to the given address
 *    (port 53 when 0), which the caller has configured in the sandbox, so
 *    no IP_FREEBIND.  Non-blocking, CLOEXEC, SO_REUSEADDR on TCP.
 *  - Fairness.  One dns_srv_run() reads at most DNS_SRV_UDP_BATCH
 *    datagrams and DNS_SRV_TCP_BATCH messages per connection; the fds are
 *    level-triggered, so the rest waits for the next run and one busy
 *    sandbox cannot starve the others.  UDP queries over
 *    DNS_SRV_UDP_QUERY_MAX bytes are dropped (Docker cuts at 512, B03).
 *  - TCP (B03, B04, F21, spec §5).  At most tcp_max_conns connections
 *    (default 16): one more is accepted and closed at once, and counted.
 *    2-byte length framing, several queries per connection, at most
 *    tcp_max_queries (128) of them, after which the connection closes
 *    once its replies are out.  A message must arrive whole within
 *    tcp_read_ms (2 s) of its first byte, queued replies must drain
 *    within tcp_read_ms of the last progress, and a connection with
 *    nothing to do closes after tcp_idle_ms (8 s).  End of file stops
 *    reading at once (no level-triggered spin on a half-open socket): a
 *    partial message is dropped, replies still owed are sent, then the
 *    connection closes; a reset or hang-up closes it at once.  Replies
 *    queued for a connection beyond DNS_SRV_TCP_WBUF_MAX bytes close it (a
 *    client that never reads).
 *  - Query path.  DNS_DROP: nothing.  DNS_REPLY: sent.  DNS_FORWARD: with
 *    no forwarder (B38: forwarding disabled for internal-only sandboxes)
 *    SERVFAIL at once, without looking at the cache either (B36).  Else a
 *    cache hit (key: the question's wire name, type, class, DO and CD) is
 *    answered with the client's ID and name case; a miss is forwarded and
 *    the upstream's reply is sent and put into the cache.  No upstream,
 *    the forwarder's cap (-EBUSY), or every upstream failing: SERVFAIL.
 *  - Size (B29, spec §5).  A cached or upstream reply larger than the UDP
 *    client's limit (512, or its EDNS size up to 1232) is not cut RR by
 *    RR: the client gets the header and question (and our OPT when it
 *    sent one) with TC=1 and no records, and retries over TCP, where the
 *    whole reply is sent.  Cutting a foreign reply would need re-encoding
 *    its names; a minimal TC reply is always valid.
 *  - Lifetimes.  A forward's context holds the server, the client's
 *    address (UDP) or the connection's ID (TCP), never a pointer to the
 *    connection: a reply for a connection closed meanwhile is dropped.
 *    Sending from a forwarder callback never closes a connection; a
 *    failed one is marked and closed by the next dns_srv_run() (the timer
 *    is armed to wake the loop).  dns_srv_free() cancels this server's
 *    forwards in the shared forwarder (dns_fwd_cancel_owner), so no
 *    callback reaches freed memory.
 *
 * Not thread-safe; one owner, the same thread as the forwarder's.  now_ms
 * is dns_fwd_now_ms() (CLOCK_MONOTONIC milliseconds).
 */
#ifndef CBRIDGE_DNS_SERVER_H
#define CBRIDGE_DNS_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "dns/answer.h"
#include "dns/conf.h"
#include "dns/forward.h"

#define DNS_SRV_PORT			53
#define DNS_SRV_TCP_CONNS_DEFAULT	16
#define DNS_SRV_TCP_CONNS_MAX		1024
#define DNS_SRV_TCP_READ_MS_DEFAULT	2000	/* B03 */
#define DNS_SRV_TCP_IDLE_MS_DEFAULT	8000	/* B03, spec §5 */
#define DNS_SRV_TCP_QUERIES_DEFAULT	128	/* B03 */
#define DNS_SRV_UDP_BATCH		64	/* datagrams per run */
#define DNS_SRV_TCP_BATCH		16	/* messages per connection per run */
#define DNS_SRV_UDP_QUERY_MAX		4096	/* bytes; longer: dropped */
#define DNS_SRV_TCP_WBUF_MAX		(256 * 1024)	/* queued reply bytes */

/* Called once per forward that ended without a reply: up is the last
 * upstream tried (NULL when none was), status and reason as the
 * forwarder's callback gives them (dns/forward.h), q the client's query.
 * For the daemon's log line (issue 5, observability). */
typedef void (*dns_srv_fail_cb)(void *arg, const struct dns_upstream *up,
	    int status, const char *reason, const uint8_t *q, size_t qlen);

struct loop;	/* TEMP: replaced by the dns loop conversion */

struct dns_srv_params {
	/* TEMP: replaced by the dns loop conversion */
	struct loop		*loop;
	/* The sandbox's namespace: an open /proc/PID/ns/net or /run/netns
	 * fd, borrowed (kept open by the caller while the server lives, or
	 * at least until dns_srv_new returns); -1 for the caller's own. */
	int			netns_fd;
	/* AF_INET or AF_INET6 address configured in the sandbox; port 0
	 * means DNS_SRV_PORT. */
	struct sockaddr_storage	addr;
	/* Borrowed, not NULL; must outlive the server or be replaced with
	 * dns_srv_set_zone() first. */
	const struct dns_zone	*zone;
	/* Copied; NULL for none (every forward then gets SERVFAIL). */
	const struct dns_upstreams *ups;
	/* Borrowed and shared by every sandbox; NULL disables forwarding
	 * (B38).  Must outlive the server. */
	struct dns_fwd		*fwd;
	/* Borrowed, may be NULL (no cache).  Must outlive the server. */
	struct dns_cache	*cache;
	/* 0 for the defaults above. */
	unsigned int		tcp_max_conns;
	unsigned int		tcp_read_ms;
	unsigned int		tcp_idle_ms;
	unsigned int		tcp_max_queries;
	/* NULL for none. */
	dns_srv_fail_cb		on_fail;
	void			*fail_arg;
	/* The UDP socket stays out of the server's epoll set: the caller
	 * polls dns_srv_udp_fd() itself and calls dns_srv_run_udp(), which
	 * saves a level of epoll per query. */
	bool			external_udp;
};

struct dns_srv_stats {
	uint64_t	queries_udp;	/* datagrams read */
	uint64_t	queries_tcp;	/* framed messages read */
	uint64_t	local;		/* DNS_REPLY verdicts sent (answers,
					 * NODATA, FORMERR, NOTIMP, ...) */
	uint64_t	forwarded;	/* accepted by dns_fwd_start */
	uint64_t	cache_hits;
	uint64_t	upstream_failures; /* forwards ended without a reply,
					 * or refused by the forwarder */
	uint64_t	servfail;	/* SERVFAIL replies we made */
	uint64_t	timeouts;	/* TCP connections closed by a timeout */
	uint64_t	truncations;	/* replies sent with TC=1 by us */
	uint64_t	drops;		/* DNS_DROP, oversize datagrams, replies
					 * that could not be sent or whose TCP
					 * connection was gone */
	uint64_t	tcp_accepted;
	uint64_t	tcp_refused;	/* over tcp_max_conns */
	size_t		tcp_open;	/* connections now */
	size_t		inflight;	/* this server's forwards now */
	/* Forwards that failed, by the last upstream tried (its index in
	 * the upstreams): its try timed out, or it failed otherwise. */
	uint64_t	up_timeouts[DNS_UPSTREAMS_MAX];
	uint64_t	up_failures[DNS_UPSTREAMS_MAX];
};

struct dns_srv;

/* A server with its sockets bound in the sandbox; NULL with a message in
 * err (bad parameter, namespace, socket or bind failure, out of memory). */
struct dns_srv	*dns_srv_new(const struct dns_srv_params *p, char *err,
	    size_t errlen);

/* Cancels this server's forwards (no callback), closes every fd and
 * frees s.  Never from within a forwarder callback.  Accepts NULL;
 * returns NULL. */
struct dns_srv	*dns_srv_free(struct dns_srv *s);

/* Replaces the zone (borrowed, not NULL) for the next queries. */
void	dns_srv_set_zone(struct dns_srv *s, const struct dns_zone *z);
/* Replaces the upstreams (copied; NULL for none) for the next forwards;
 * forwards in flight keep the old ones. */
void	dns_srv_set_upstreams(struct dns_srv *s,
	    const struct dns_upstreams *ups);

/* The fd to add to the daemon's epoll set (EPOLLIN); owned by s.  It also
 * becomes readable when a TCP deadline passes. */
int	dns_srv_epoll_fd(const struct dns_srv *s);

/* Processes ready sockets and passed deadlines without blocking, and
 * re-arms the internal timer.  0, or -errno when epoll_wait failed. */
int	dns_srv_run(struct dns_srv *s, uint64_t now_ms);

/* With external_udp: the UDP socket (EPOLLIN), owned by s, and what to
 * call when it is readable. */
int	dns_srv_udp_fd(const struct dns_srv *s);
void	dns_srv_run_udp(struct dns_srv *s, uint64_t now_ms);

/* Earliest TCP deadline, UINT64_MAX when none (for callers that poll). */
uint64_t dns_srv_next_deadline(const struct dns_srv *s);

void	dns_srv_stats(const struct dns_srv *s, struct dns_srv_stats *ret);

#endif
