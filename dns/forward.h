/*
 * The upstream forwarder (issue 5): sends a client's query to the
 * sandbox's upstreams in turn and hands back the first usable reply.
 * Non-blocking and single-threaded: it owns one epoll fd that the daemon
 * adds to its own epoll set; when that fd is readable the daemon calls
 * dns_fwd_run(), which handles socket events and expired deadlines and
 * calls the callbacks.  References are to ../shared/spec/dns-responder.md.
 *
 * Decisions:
 *  - Anti-spoofing (spec §5).  Every try has a fresh random 16-bit ID from
 *    getrandom() (never the client's, which is restored in the reply) and
 *    a fresh socket connect()ed to the upstream, so the kernel picks a
 *    random source port and drops datagrams from any other address or
 *    port.  A reply is accepted only when its ID and question (name
 *    without case, type, class) match ours (dns_question_match); anything
 *    else is dropped, counted, and waiting goes on until the deadline.
 *    No 0x20 case randomisation: little value for a stub to the host's
 *    resolver, and some upstreams do not keep case.
 *  - Failover (B33, B35, B40).  Upstreams in order, never in parallel; one
 *    try each.  SERVFAIL, REFUSED, an IO error (ICMP port unreachable,
 *    reset, malformed TCP framing) or the per-try timeout
 *    dns_upstreams_try_ms(ups, budget) moves to the next; any other rcode
 *    (NXDOMAIN with its SOA, NODATA, FORMERR...) is relayed as it is.  The
 *    whole forward never outlives budget_ms.  A late reply from an
 *    upstream already given up on is lost: its socket is closed.
 *  - Transport (B34).  A UDP client's query goes over UDP; TC=1 in the UDP
 *    reply retries the same upstream over TCP with the rest of the budget
 *    (a new try deadline).  A TCP client's query goes straight over TCP.
 *    TCP uses the 2-byte length framing, a non-blocking connect and
 *    bounded reads (at most 65535 bytes, the framing's limit).  UDP
 *    replies are read into a 65535-byte buffer (B30: upstreams that send
 *    more than 512 bytes without EDNS) and relayed without cutting; the
 *    caller decides about the client's size.
 *  - Namespace (B37).  With netns_fd >= 0 each socket is created after
 *    setns() into it and the thread returns to its own namespace right
 *    after (sockets keep the namespace they were created in).  A link-local
 *    upstream with a named zone (fe80::1%eth0) is resolved there too.
 *  - Cap (B43).  At most max_inflight forwards; beyond that dns_fwd_start()
 *    returns -EBUSY at once and counts it (the caller answers REFUSED, or
 *    SERVFAIL, and rate-limits its log line).  No waiting queue.
 *  - Timeouts are kept in a list scanned on every run: O(in flight), at
 *    most max_inflight, which is fine at the default 1024.
 *
 * Not thread-safe; one owner.  now_ms is monotonic milliseconds
 * (CLOCK_MONOTONIC), the same clock on every call.
 */
#ifndef CBRIDGE_DNS_FORWARD_H
#define CBRIDGE_DNS_FORWARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dns/conf.h"

#define DNS_FWD_INFLIGHT_DEFAULT	1024	/* Docker's cap (B43) */
#define DNS_FWD_INFLIGHT_MAX		65536
/* Every try of one forward fits in a client's 5 s (B40, F12). */
#define DNS_FWD_BUDGET_DEFAULT_MS	4500

struct loop;	/* TEMP: replaced by the dns loop conversion */

struct dns_fwd_params {
	/* TEMP: replaced by the dns loop conversion */
	struct loop	*loop;
	unsigned int	max_inflight;	/* 0: DNS_FWD_INFLIGHT_DEFAULT */
	unsigned int	budget_ms;	/* 0: DNS_FWD_BUDGET_DEFAULT_MS */
	/* Namespace to dial from: an open /proc/PID/ns/net or /run/netns
	 * fd, borrowed (the caller keeps it open while f lives); -1 for the
	 * caller's own. */
	int		netns_fd;
};

/*
 * Called exactly once per forward accepted by dns_fwd_start().
 *   status 0: reply[0..len) is the upstream's reply with the client's ID
 *     restored, valid only during the call; upstream is its index in the
 *     ups given to dns_fwd_start().
 *   status < 0: no reply; the caller answers SERVFAIL (B36).  -ENOENT no
 *     upstream (called from within dns_fwd_start), -ETIMEDOUT budget spent
 *     or every upstream failed, -ECANCELED dns_fwd_free().  upstream is
 *     the last one tried, -1 for none.
 * reason is a short static string for logs ("reply", "reply over tcp",
 * "timeout", "servfail", "refused", "connection refused", ...): the last
 * failure when status < 0.  The callback may call dns_fwd_start(), never
 * dns_fwd_free().
 */
typedef void (*dns_fwd_done_cb)(void *arg, int status, const uint8_t *reply,
	    size_t len, int upstream, const char *reason);

/* Counters per upstream position (index in the ups of each start). */
struct dns_fwd_upstream_stats {
	uint64_t	sent;		/* queries sent, UDP and TCP */
	uint64_t	replies;	/* matching replies (any rcode) */
	uint64_t	timeouts;	/* tries that ran out of time */
	uint64_t	errors;		/* IO errors, bad TCP framing */
	uint64_t	failures;	/* SERVFAIL or REFUSED replies */
	uint64_t	mismatched;	/* replies dropped: ID or question */
	uint64_t	tc_retries;	/* TC=1 over UDP, retried over TCP */
};

struct dns_fwd_stats {
	struct dns_fwd_upstream_stats up[DNS_UPSTREAMS_MAX];
	uint64_t	started;	/* accepted by dns_fwd_start */
	uint64_t	answered;	/* callbacks with status 0 */
	uint64_t	failed;		/* callbacks with status < 0 */
	uint64_t	refused_cap;	/* -EBUSY from dns_fwd_start */
	uint64_t	cancelled;	/* dropped by dns_fwd_cancel_owner */
	size_t		inflight;
};

struct dns_fwd;

/* A forwarder; NULL with a message in err (out of memory, epoll or
 * timerfd failed, a parameter out of range). */
struct dns_fwd *dns_fwd_new(const struct dns_fwd_params *p, char *err,
	    size_t errlen);

/* Cancels every forward in flight (callbacks with -ECANCELED), closes
 * every fd, frees f.  Accepts NULL; returns NULL. */
struct dns_fwd *dns_fwd_free(struct dns_fwd *f);

/*
 * Forwards the client's query[0..len) (without TCP's length prefix; it
 * must parse as dns_answer() would forward it) to ups (copied: the caller
 * may change it afterwards).  tcp_client: the client used TCP.  Returns 0
 * when cb will be called (once, possibly before this returns: no
 * upstream); -EINVAL (NULL argument, unparsable query), -EBUSY (the cap),
 * -ENOMEM: cb is not called.
 */
int	dns_fwd_start(struct dns_fwd *f, const struct dns_upstreams *ups,
	    const uint8_t *query, size_t len, bool tcp_client,
	    uint64_t now_ms, dns_fwd_done_cb cb, void *arg);

/* Drops every forward in flight whose callback argument is owner, without
 * calling its callback: for an owner about to free that argument (a
 * sandbox's responder going away while the forwarder is shared).  Never
 * from within a callback.  Returns the number dropped. */
unsigned int dns_fwd_cancel_owner(struct dns_fwd *f, const void *owner);

/* The fd to add to the daemon's epoll set (EPOLLIN); owned by f. */
int	dns_fwd_epoll_fd(const struct dns_fwd *f);

/* Processes ready sockets and expired deadlines, without blocking, and
 * re-arms the internal timer for the next deadline.  Call when the epoll
 * fd is readable (calling it more often is harmless).  0, or -errno when
 * epoll_wait failed (forwards stay in flight). */
int	dns_fwd_run(struct dns_fwd *f, uint64_t now_ms);

/* Earliest deadline in flight, UINT64_MAX when idle (for callers that
 * poll instead of using the epoll fd). */
uint64_t dns_fwd_next_deadline(const struct dns_fwd *f);

void	dns_fwd_stats(const struct dns_fwd *f, struct dns_fwd_stats *ret);

/* CLOCK_MONOTONIC in milliseconds, the clock now_ms is expected in. */
uint64_t dns_fwd_now_ms(void);

#endif
