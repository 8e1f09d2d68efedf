/*
 * The responder of one sandbox: a UDP and a TCP socket inside the
 * sandbox's network namespace, queries decided by dns_answer() and, when
 * not ours, answered from the cache or forwarded with the shared
 * forwarder (dns/forward.h).  Non-blocking and single-threaded, on the
 * daemon's event loop (loop/loop.h): dns_srv_new() registers the UDP
 * socket and the TCP listener, every accepted connection registers while
 * it is open (EPOLLOUT added only while a reply is queued), and one loop
 * timer holds the earliest TCP deadline.  The server has no epoll set and
 * no timerfd of its own; the caller only runs the loop.
 *
 * Decisions:
 *  - Sockets.  Created after setns() into the sandbox's namespace and the
 *    thread goes back to its own at once (as dns/forward.c does; failing
 *    to go back aborts, since the daemon's next sockets and its netlink
 *    would land in the sandbox).  Bound to the given address (port 53
 *    when 0), which the caller has configured in the sandbox, so no
 *    IP_FREEBIND.  Non-blocking, CLOEXEC, SO_REUSEADDR on TCP, and a UDP
 *    receive buffer of DNS_SRV_UDP_RCVBUF (forced past rmem_max with
 *    CAP_NET_ADMIN), so a burst while the daemon waits for a CPU is
 *    queued, not dropped.
 *  - Fairness.  One loop callback reads at most DNS_SRV_UDP_BATCH
 *    datagrams (recvmmsg, replies sent together with sendmmsg) or
 *    DNS_SRV_TCP_BATCH messages of one connection; the fds are
 *    level-triggered, so the rest waits for the next turn and one busy
 *    sandbox cannot starve the others.  UDP queries over
 *    DNS_SRV_UDP_QUERY_MAX bytes are dropped (Docker cuts at 512).
 *  - TCP.  At most tcp_max_conns connections (default 16): one more is
 *    accepted and closed at once, and counted.  2-byte length framing,
 *    several queries per connection, at most tcp_max_queries (128) of
 *    them, after which the connection closes once its replies are out.
 *    A message must arrive whole within tcp_read_ms (2 s) of its first
 *    byte, queued replies must drain within tcp_read_ms of the last
 *    progress, and a connection with nothing to do closes after
 *    tcp_idle_ms (8 s).  End of file stops reading at once (no
 *    level-triggered spin on a half-open socket): a partial message is
 *    dropped, replies still owed are sent, then the connection closes; a
 *    reset or hang-up closes it at once.  Replies queued for a connection
 *    beyond DNS_SRV_TCP_WBUF_MAX bytes close it (a client that never
 *    reads).
 *  - Deadlines.  One timer per server, not one per connection: it is
 *    armed to the earliest deadline a connection reaches, and when it
 *    fires every connection is checked and the timer re-armed to the
 *    earliest left.  A deadline that moved later only makes it fire
 *    early, which costs one scan of at most tcp_max_conns slots.
 *  - Query path.  DNS_DROP: nothing.  DNS_REPLY: sent.  DNS_FORWARD: with
 *    no forwarder (forwarding disabled for internal-only sandboxes)
 *    SERVFAIL at once, without looking at the cache either.  Else a cache
 *    hit (key: the question's wire name, type, class, DO and CD) is
 *    answered with the client's ID and name case; a miss is forwarded and
 *    the upstream's reply is sent and put into the cache.  No upstream,
 *    the forwarder's cap (-EBUSY), or every upstream failing: SERVFAIL.
 *  - Size.  A cached or upstream reply larger than the UDP client's limit
 *    (512, or its EDNS size up to 1232) is not cut RR by RR: the client
 *    gets the header and question (and our OPT when it sent one) with
 *    TC=1 and no records, and retries over TCP, where the whole reply is
 *    sent.  Cutting a foreign reply would need re-encoding its names; a
 *    minimal TC reply is always valid.
 *  - Docker's resolver (dns_srv_set_docker_resolver).  Docker's embedded
 *    resolver may still run in the sandbox, on 127.0.0.11 and a random
 *    port, and it knows a container's name before the Engine API tells
 *    us.  A query whose verdict has ask_docker (a name that looks local
 *    but is not in the zone: dns/answer.h) is relayed to it first, over
 *    UDP, from one socket made in the sandbox by dns_srv_new() and
 *    connect()ed to its address (the kernel drops datagrams from anyone
 *    else; an ICMP port unreachable shows as an error on that socket).
 *    It goes to the resolver's own port, not to 127.0.0.11:53, so
 *    neither Docker's DNAT nor ours catches it.  The relayed query is the
 *    client's with a fresh random ID (never the client's, never one in
 *    use); a reply is taken when its ID and question match
 *    (dns_question_match).  NOERROR, with answers or NODATA, goes to the
 *    client with its ID restored (over UDP: cut to a minimal TC reply
 *    when over the client's limit, as any foreign reply), and is not
 *    cached: names come and go.  NXDOMAIN or any other rcode, a reply
 *    with our ID that does not match, TC=1 for a TCP client (UDP clients
 *    get it as Docker would have sent it), an error on the socket, or no
 *    reply within DNS_SRV_DOCKER_WAIT_MS: the query falls through.
 *    Falling through decides the query again from the zone as it is then
 *    (the name may have arrived meanwhile) and goes the usual way: a
 *    local answer, the single-label NODATA, or the cache and the
 *    forwarder.  TCP clients are relayed over the same UDP socket.
 *  - Loops.  A container whose --dns is our address makes Docker's
 *    resolver forward names it does not know to us.  A query for a (name,
 *    type) this server is already asking Docker is not asked again: it
 *    falls through at once (counted in docker_loops), and its answer is
 *    what Docker then relays to our pending ask.  The price: a client
 *    that sends the same question twice while the first is with Docker
 *    gets the second one answered the usual way.  At most
 *    DNS_SRV_DOCKER_MAX asks wait at a time; beyond that queries fall
 *    through at once (docker_busy).  One timer serves both the TCP
 *    deadlines and the asks' (the same scan when it fires).  Falling
 *    through after the full wait leaves the forwarder's budget to follow:
 *    a client may give up first only when Docker's resolver is hung and
 *    the upstreams are slow as well.
 *  - Lifetimes.  A forward's context holds the server, the client's
 *    address (UDP) or the connection's ID (TCP), never a pointer to the
 *    connection: a reply for a connection closed meanwhile is dropped.
 *    Sending from a forwarder callback never closes a connection; a
 *    failed one is marked and closed on the next loop turn (the timer is
 *    armed for it).  dns_srv_free() cancels this server's forwards in the
 *    shared forwarder (dns_fwd_cancel_owner), so no callback reaches
 *    freed memory, and frees its loop handles, so no event does either.
 *    Asks to Docker are the server's own: freed with it, no callback.
 *
 * Not thread-safe; one owner, on the loop's thread, the same as the
 * forwarder's.
 */
#ifndef CBRIDGE_DNS_SERVER_H
#define CBRIDGE_DNS_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "dns/answer.h"
#include "dns/conf.h"
#include "dns/forward.h"

#define DNS_SRV_PORT			53
#define DNS_SRV_TCP_CONNS_DEFAULT	16
#define DNS_SRV_TCP_CONNS_MAX		1024
#define DNS_SRV_TCP_READ_MS_DEFAULT	2000
#define DNS_SRV_TCP_IDLE_MS_DEFAULT	8000
#define DNS_SRV_TCP_QUERIES_DEFAULT	128
#define DNS_SRV_UDP_BATCH		64	/* datagrams per callback */
#define DNS_SRV_TCP_BATCH		16	/* messages per connection per
						 * callback */
#define DNS_SRV_UDP_QUERY_MAX		4096	/* bytes; longer: dropped */
#define DNS_SRV_UDP_RCVBUF		(2 << 20)	/* bytes, for bursts */
#define DNS_SRV_TCP_WBUF_MAX		(256 * 1024)	/* queued reply bytes */
#define DNS_SRV_DOCKER_WAIT_MS		1000	/* for Docker's resolver */
#define DNS_SRV_DOCKER_MAX		256	/* asks waiting at a time */

/* Called once per forward that ended without a reply: up is the last
 * upstream tried (NULL when none was), status and reason as the
 * forwarder's callback gives them (dns/forward.h), q the client's query.
 * For the daemon's log line. */
typedef void (*dns_srv_fail_cb)(void *arg, const struct dns_upstream *up,
	    int status, const char *reason, const uint8_t *q, size_t qlen);

struct dns_srv_params {
	/* Borrowed, required; must outlive the server. */
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
	/* Borrowed and shared by every sandbox; NULL disables forwarding.
	 * Must outlive the server and be on the same loop. */
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
	/* Docker's resolver.  Every ask ends in exactly one of answered,
	 * fellthrough and timeouts (or is dropped by dns_srv_free). */
	uint64_t	docker_asked;	/* queries relayed to it */
	uint64_t	docker_answered; /* its NOERROR replies sent on */
	uint64_t	docker_fellthrough; /* NXDOMAIN, other rcodes, bad or
					 * TC replies, send or socket errors */
	uint64_t	docker_timeouts; /* no reply within the wait */
	uint64_t	docker_loops;	/* not asked: the same question was
					 * with Docker already */
	uint64_t	docker_busy;	/* not asked: DNS_SRV_DOCKER_MAX */
	size_t		docker_pending;	/* asks waiting now */
};

struct dns_srv;

/* A server with its sockets bound in the sandbox and registered with
 * p->loop; NULL with a message in err (bad parameter, namespace, socket
 * or bind failure, out of memory). */
struct dns_srv	*dns_srv_new(const struct dns_srv_params *p, char *err,
	    size_t errlen);

/* Cancels this server's forwards (no callback), frees its loop handles,
 * then closes every fd and frees s.  Never from within a forwarder
 * callback or one of s's own; from any other loop callback it is fine.
 * Accepts NULL; returns NULL. */
struct dns_srv	*dns_srv_free(struct dns_srv *s);

/* Replaces the zone (borrowed, not NULL) for the next queries. */
void	dns_srv_set_zone(struct dns_srv *s, const struct dns_zone *z);
/* Replaces the upstreams (copied; NULL for none) for the next forwards;
 * forwards in flight keep the old ones. */
void	dns_srv_set_upstreams(struct dns_srv *s,
	    const struct dns_upstreams *ups);

/* Docker's embedded resolver in the sandbox (127.0.0.11 and its UDP
 * port), copied; NULL, or anything but AF_INET with a port, for none.
 * With one set, queries whose verdict has ask_docker are relayed to it
 * first (see the decisions).  The socket connects to a new address at
 * the next ask; asks in flight then get no reply from the old one and
 * fall through at their deadline.  With none, asks in flight finish. */
void	dns_srv_set_docker_resolver(struct dns_srv *s,
	    const struct sockaddr_in *udp);

void	dns_srv_stats(const struct dns_srv *s, struct dns_srv_stats *ret);

#endif
