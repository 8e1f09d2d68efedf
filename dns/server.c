/*
 * The responder of one sandbox: see dns/server.h for the decisions.
 *
 * Loop handles: the UDP socket and the listener with the server as their
 * argument, each TCP connection with its struct srv_conn, and one timer
 * for the connections' deadlines.  Connections have IDs that are never
 * reused (forward contexts name them by ID).  Forwards in flight are
 * struct srv_fwd contexts in a list, each the callback argument of one
 * dns_fwd_start().  Asks to Docker's resolver are struct srv_ask in a
 * list of their own, matched to replies by their ID; the connection
 * timer also holds their deadlines.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dns/bytes.h"
#include "dns/frame.h"
#include "dns/server.h"
#include "lib/fd.h"
#include "lib/netns.h"
#include "loop/loop.h"

struct srv_conn {
	struct dns_srv	*srv;
	unsigned int	slot;		/* in srv->conns */
	uint64_t	id;
	int		fd;
	struct loop_fd	*w;
	uint32_t	events;		/* registered with the loop */
	bool		eof;		/* no more reading */
	bool		dead;		/* close when back in our callback */
	unsigned int	nq;		/* messages read */
	unsigned int	pending;	/* forwards in flight */
	uint64_t	msg_start;	/* first byte of the partial message */
	uint64_t	last_act;	/* last message or reply */
	uint64_t	last_write;	/* last write progress */
	struct dns_frame rd;		/* the message being read */
	uint8_t		*wbuf;		/* framed replies not yet sent */
	size_t		wlen, woff;
};

struct srv_fwd {
	struct srv_fwd		*prev, *next;
	struct dns_srv		*srv;
	bool			tcp;
	uint64_t		conn_id;	/* TCP */
	struct sockaddr_storage	peer;		/* UDP */
	socklen_t		peerlen;
	size_t			limit;		/* the client's reply limit */
	size_t			qlen;
	uint8_t			q[];
};

/* A query waiting for Docker's resolver. */
struct srv_ask {
	struct srv_ask		*prev, *next;
	bool			tcp;
	uint64_t		conn_id;	/* TCP */
	struct sockaddr_storage	peer;		/* UDP */
	socklen_t		peerlen;
	size_t			limit;		/* the client's reply limit */
	uint64_t		deadline;
	uint16_t		id;		/* ours, on the relayed query */
	uint16_t		qtype, qclass;
	size_t			qname_len;
	uint8_t			qname[DNS_NAME_MAX];
	size_t			qlen;
	uint8_t			q[];		/* the client's, its ID */
};

struct dns_srv {
	struct loop		*loop;
	int			ufd, lfd, dfd;	/* dfd: to Docker's resolver */
	struct loop_fd		*wudp, *wlis, *wdock;
	struct loop_timer	*timer;
	const struct dns_zone	*zone;
	struct dns_upstreams	ups;
	struct dns_fwd		*fwd;
	struct dns_cache	*cache;
	unsigned int		max_conns, read_ms, idle_ms, max_queries;
	uint64_t		next_id;
	struct srv_conn		**conns;	/* max_conns slots */
	struct srv_fwd		*fwds;
	struct srv_ask		*asks;
	struct sockaddr_in	dock;		/* Docker's resolver */
	bool			dock_set;	/* dock is to be asked */
	bool			dock_connected;	/* dfd is connected to dock */
	struct dns_srv_stats	st;
	dns_srv_fail_cb		on_fail;
	void			*fail_arg;
	uint64_t		armed;		/* deadline the timer holds,
						 * UINT64_MAX: none */
};

/* Scratch space shared by every server: all of them run on one thread
 * (see server.h) and none holds these across a call, so an idle sandbox
 * costs no buffer of its own. */
static struct dns_verdict	scratch_v;
static uint8_t			scratch_out[DNS_TCP_MAX];
/* Replies from Docker's resolver, and random bytes for the asks' IDs. */
static uint8_t			dock_buf[DNS_TCP_MAX];
static uint8_t			rnd_pool[128];
static size_t			rnd_left;

/* Makes the timer fire by deadline at the latest.  It may fire early (a
 * deadline moved later meanwhile): on_timer() then re-arms it. */
static void
schedule(struct dns_srv *s, uint64_t deadline)
{
	if (deadline >= s->armed)
		return;
	loop_timer_arm_at(s->timer, deadline);
	s->armed = deadline;
}

/* Makes the timer look at the connections on the next turn (one died or
 * may be done after a forwarder callback, which never closes one). */
static void
wake(struct dns_srv *s)
{
	schedule(s, 0);
}

static struct srv_conn *
conn_find(const struct dns_srv *s, uint64_t id)
{
	for (unsigned int i = 0; i < s->max_conns; i++)
		if (s->conns[i] && s->conns[i]->id == id)
			return s->conns[i];
	return NULL;
}

static void
conn_close(struct dns_srv *s, unsigned int slot)
{
	struct srv_conn *c = s->conns[slot];

	if (c == NULL)
		return;
	loop_fd_free(c->w);
	close(c->fd);
	dns_frame_reset(&c->rd);
	free(c->wbuf);
	free(c);
	s->conns[slot] = NULL;
	s->st.tcp_open--;
}

static void
conn_update_events(struct srv_conn *c)
{
	uint32_t events = (c->eof ? 0 : EPOLLIN) |
	    (c->wlen > c->woff ? EPOLLOUT : 0);

	if (events == c->events)
		return;
	if (loop_fd_mod(c->w, events) < 0) {
		c->dead = true;
		return;
	}
	c->events = events;
}

/* When c must be looked at again; now_ms when it is done. */
static uint64_t
conn_deadline(const struct dns_srv *s, const struct srv_conn *c)
{
	if (c->dead)
		return 0;
	if (c->wlen > c->woff)
		return c->last_write + s->read_ms;
	if (dns_frame_started(&c->rd) && !c->eof)
		return c->msg_start + s->read_ms;
	if (c->pending > 0)
		return UINT64_MAX;
	if (c->eof)
		return 0;	/* nothing owed: close */
	return c->last_act + s->idle_ms;
}

/* Sends what c has queued.  Marks c dead on a fatal error. */
static void
conn_flush(struct srv_conn *c, uint64_t now_ms)
{
	while (c->woff < c->wlen) {
		ssize_t n = send(c->fd, c->wbuf + c->woff, c->wlen - c->woff,
		    MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0) {
			c->dead = true;
			return;
		}
		c->woff += (size_t)n;
		c->last_write = now_ms;
	}
	if (c->woff == c->wlen)
		c->woff = c->wlen = 0;
	conn_update_events(c);
}

/* Queues msg with its length prefix on c and tries to send it. */
static void
conn_send(struct dns_srv *s, struct srv_conn *c, const uint8_t *msg,
    size_t len, uint64_t now_ms)
{
	size_t used = c->wlen - c->woff;
	uint8_t *nb;

	if (c->dead)
		return;
	if (len > DNS_TCP_MAX || used + len + 2 > DNS_SRV_TCP_WBUF_MAX) {
		s->st.drops++;
		c->dead = true;
		return;
	}
	if (c->woff > 0) {
		memmove(c->wbuf, c->wbuf + c->woff, used);
		c->woff = 0;
		c->wlen = used;
	}
	nb = realloc(c->wbuf, used + len + 2);
	if (nb == NULL) {
		s->st.drops++;
		c->dead = true;
		return;
	}
	c->wbuf = nb;
	if (used == 0)
		c->last_write = now_ms;
	nb[used] = (uint8_t)(len >> 8);
	nb[used + 1] = (uint8_t)len;
	memcpy(nb + used + 2, msg, len);
	c->wlen = used + len + 2;
	c->last_act = now_ms;
	conn_flush(c, now_ms);
}

/* Replies made while on_udp() works through one recvmmsg() batch go out
 * together with one sendmmsg(); replies from forwarder callbacks go out
 * at once. */
#define UDP_VLEN	16
#define UDP_OUT_MAX	4096

static struct {
	struct dns_srv		*srv;	/* batching for this server, or NULL */
	unsigned int		n;
	struct mmsghdr		msgs[UDP_VLEN];
	struct iovec		iov[UDP_VLEN];
	struct sockaddr_storage	peers[UDP_VLEN];
	uint8_t			bufs[UDP_VLEN][UDP_OUT_MAX];
} out_batch;

static void
udp_flush(struct dns_srv *s)
{
	unsigned int off = 0;

	while (off < out_batch.n) {
		int n = sendmmsg(s->ufd, out_batch.msgs + off,
		    out_batch.n - off, MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			/* This one failed (a full buffer, an unreachable
			 * client): drop it, try the rest. */
			s->st.drops++;
			off++;
			continue;
		}
		off += (unsigned int)n;
	}
	out_batch.n = 0;
}

static void
udp_send(struct dns_srv *s, const uint8_t *msg, size_t len,
    const struct sockaddr_storage *peer, socklen_t peerlen)
{
	ssize_t n;

	if (out_batch.srv == s && len <= UDP_OUT_MAX) {
		unsigned int i = out_batch.n++;

		memcpy(out_batch.bufs[i], msg, len);
		memcpy(&out_batch.peers[i], peer, peerlen);
		out_batch.iov[i] = (struct iovec){ out_batch.bufs[i], len };
		out_batch.msgs[i].msg_hdr = (struct msghdr){
		    .msg_name = &out_batch.peers[i], .msg_namelen = peerlen,
		    .msg_iov = &out_batch.iov[i], .msg_iovlen = 1 };
		if (out_batch.n == UDP_VLEN)
			udp_flush(s);
		return;
	}
	do
		n = sendto(s->ufd, msg, len, MSG_DONTWAIT,
		    (const struct sockaddr *)peer, peerlen);
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)len)
		s->st.drops++;
}

/*
 * Sends msg[0..len) to the client of a query (q[0..qlen), over TCP to
 * connection conn_id, or over UDP to peer with the reply limit limit).
 * A UDP reply over the limit becomes header + question (+ OPT) with TC=1.
 */
static void
reply(struct dns_srv *s, bool tcp, uint64_t conn_id,
    const struct sockaddr_storage *peer, socklen_t peerlen, size_t limit,
    const uint8_t *q, size_t qlen, const uint8_t *msg, size_t len,
    uint64_t now_ms)
{
	if (tcp) {
		struct srv_conn *c = conn_find(s, conn_id);

		if (c == NULL) {
			s->st.drops++;
			return;
		}
		conn_send(s, c, msg, len, now_ms);
		/* Closing waits for c's own callback or the timer; a reply
		 * left queued brings its write deadline. */
		schedule(s, conn_deadline(s, c));
		return;
	}
	if (len > limit) {
		uint8_t tc[DNS_UDP_MIN];
		size_t n;

		memset(&scratch_v, 0, sizeof(scratch_v));
		if (dns_parse_query(q, qlen, &scratch_v) != DNS_PARSE_OK) {
			s->st.drops++;
			return;
		}
		n = dns_write_empty_reply(&scratch_v, q, msg[3] & 0x0f, true,
		    tc,
		    sizeof(tc));
		if (n == 0) {
			s->st.drops++;
			return;
		}
		/* The upstream's flags (AA, AD) do not describe an empty
		 * reply; ours are RA=1 and RD, CD copied. */
		tc[2] |= 0x02;
		s->st.truncations++;
		udp_send(s, tc, n, peer, peerlen);
		return;
	}
	udp_send(s, msg, len, peer, peerlen);
}

static void
reply_servfail(struct dns_srv *s, bool tcp, uint64_t conn_id,
    const struct sockaddr_storage *peer, socklen_t peerlen, size_t limit,
    const uint8_t *q, size_t qlen, uint64_t now_ms)
{
	uint8_t buf[DNS_UDP_MIN];
	size_t n;

	if (dns_reply_error(q, qlen, DNS_RCODE_SERVFAIL, buf, sizeof(buf),
	    &n) < 0) {
		s->st.drops++;
		return;
	}
	s->st.servfail++;
	reply(s, tcp, conn_id, peer, peerlen, limit, q, qlen, buf, n, now_ms);
}

static void
fwd_unlink(struct dns_srv *s, struct srv_fwd *x)
{
	if (x->prev)
		x->prev->next = x->next;
	else
		s->fwds = x->next;
	if (x->next)
		x->next->prev = x->prev;
	x->prev = x->next = NULL;
	s->st.inflight--;
	if (x->tcp) {
		struct srv_conn *c = conn_find(s, x->conn_id);

		if (c && c->pending > 0) {
			c->pending--;
			if (c->pending == 0)
				wake(s);	/* it may be done */
		}
	}
}

static void
fwd_done(void *arg, int status, const uint8_t *msg, size_t len,
    int upstream, const char *reason)
{
	struct srv_fwd *x = arg;
	struct dns_srv *s = x->srv;
	uint64_t now_ms = loop_now_ms();

	fwd_unlink(s, x);
	if (status < 0 || msg == NULL || len < DNS_HEADER_LEN) {
		s->st.upstream_failures++;
		if (upstream >= 0 && upstream < DNS_UPSTREAMS_MAX) {
			if (status == -ETIMEDOUT && reason != NULL &&
			    strcmp(reason, "timeout") == 0)
				s->st.up_timeouts[upstream]++;
			else
				s->st.up_failures[upstream]++;
		}
		if (s->on_fail)
			s->on_fail(s->fail_arg, upstream >= 0 &&
			    (unsigned int)upstream < s->ups.n ?
			    &s->ups.srv[upstream] : NULL, status,
			    reason ? reason : "failed", x->q, x->qlen);
		reply_servfail(s, x->tcp, x->conn_id, &x->peer, x->peerlen,
		    x->limit, x->q, x->qlen, now_ms);
		free(x);
		return;
	}
	if (s->cache) {
		memset(&scratch_v, 0, sizeof(scratch_v));
		if (dns_parse_query(x->q, x->qlen, &scratch_v) ==
		    DNS_PARSE_OK && scratch_v.has_question)
			(void)dns_cache_put(s->cache, scratch_v.qname_wire,
			    scratch_v.qname_len, scratch_v.qtype,
			    scratch_v.qclass,
			    (scratch_v.edns_do ? DNS_CACHE_DO : 0) |
			    (scratch_v.cd ? DNS_CACHE_CD : 0), msg, len, now_ms);
	}
	reply(s, x->tcp, x->conn_id, &x->peer, x->peerlen, x->limit, x->q,
	    x->qlen, msg, len, now_ms);
	free(x);
}

static int ask_start(struct dns_srv *s, const uint8_t *q, size_t qlen,
    struct srv_conn *c, const struct sockaddr_storage *peer,
    socklen_t peerlen, uint64_t now_ms);

/*
 * One query from a client: UDP from peer, or TCP on connection c.
 * may_ask: Docker's resolver may be asked first (false when the query
 * falls through after asking).
 */
static void
handle_query(struct dns_srv *s, const uint8_t *q, size_t qlen,
    struct srv_conn *c, const struct sockaddr_storage *peer,
    socklen_t peerlen, bool may_ask, uint64_t now_ms)
{
	bool tcp = c != NULL;
	uint64_t conn_id = c ? c->id : 0;
	struct srv_fwd *x;
	size_t olen = 0, limit;
	unsigned int flags;
	int r;

	r = dns_answer(s->zone, q, qlen, tcp, scratch_out,
	    sizeof(scratch_out), &olen, &scratch_v);
	if (may_ask && s->dock_set && scratch_v.ask_docker &&
	    (r == DNS_REPLY || r == DNS_FORWARD) &&
	    ask_start(s, q, qlen, c, peer, peerlen, now_ms) == 0)
		return;
	if (r == DNS_REPLY) {
		s->st.local++;
		if (scratch_v.truncated)
			s->st.truncations++;
		reply(s, tcp, conn_id, peer, peerlen, scratch_v.limit, q, qlen,
		    scratch_out, olen, now_ms);
		return;
	}
	if (r != DNS_FORWARD) {
		s->st.drops++;
		return;
	}
	limit = scratch_v.limit;
	if (s->fwd == NULL) {
		reply_servfail(s, tcp, conn_id, peer, peerlen, limit, q, qlen,
		    now_ms);
		return;
	}
	flags = (scratch_v.edns_do ? DNS_CACHE_DO : 0) |
	    (scratch_v.cd ? DNS_CACHE_CD : 0);
	if (s->cache && dns_cache_get(s->cache, scratch_v.qname_wire,
	    scratch_v.qname_len, scratch_v.qtype, scratch_v.qclass, flags,
	    now_ms, scratch_v.id, scratch_out, sizeof(scratch_out),
	    &olen) == 1) {
		s->st.cache_hits++;
		reply(s, tcp, conn_id, peer, peerlen, limit, q, qlen,
		    scratch_out, olen, now_ms);
		return;
	}
	x = calloc(1, sizeof(*x) + qlen);
	if (x == NULL) {
		s->st.upstream_failures++;
		reply_servfail(s, tcp, conn_id, peer, peerlen, limit, q, qlen,
		    now_ms);
		return;
	}
	x->srv = s;
	x->tcp = tcp;
	x->conn_id = conn_id;
	if (!tcp) {
		x->peer = *peer;
		x->peerlen = peerlen;
	}
	x->limit = limit;
	x->qlen = qlen;
	memcpy(x->q, q, qlen);
	x->next = s->fwds;
	if (s->fwds)
		s->fwds->prev = x;
	s->fwds = x;
	s->st.inflight++;
	if (c)
		c->pending++;
	/* With no upstream, fwd_done runs (and frees x) before this
	 * returns; c stays valid since callbacks never free connections. */
	r = dns_fwd_start(s->fwd, &s->ups, q, qlen, tcp, now_ms, fwd_done, x);
	if (r < 0) {
		fwd_unlink(s, x);
		free(x);
		s->st.upstream_failures++;
		/* The forwarder's cap or no memory: the caller rate-limits
		 * the log line. */
		if (s->on_fail)
			s->on_fail(s->fail_arg, NULL, r, r == -EBUSY ?
			    "too many queries in flight" : "cannot forward",
			    q, qlen);
		reply_servfail(s, tcp, conn_id, peer, peerlen, limit, q, qlen,
		    now_ms);
		return;
	}
	s->st.forwarded++;
}

/* Wire names equal without ASCII case (both validated). */
static struct srv_ask *
ask_find(const struct dns_srv *s, uint16_t id)
{
	for (struct srv_ask *x = s->asks; x; x = x->next)
		if (x->id == id)
			return x;
	return NULL;
}

/* A random ID for a relayed query: not the client's (a reply that only
 * echoes the query cannot match), not one waiting already.  0 or -errno. */
static int
ask_id(const struct dns_srv *s, uint16_t client_id, uint16_t *ret)
{
	for (;;) {
		uint16_t id;

		if (rnd_left < 2) {
			ssize_t n = getrandom(rnd_pool, sizeof(rnd_pool), 0);

			if (n != (ssize_t)sizeof(rnd_pool))
				return n < 0 ? -errno : -EIO;
			rnd_left = sizeof(rnd_pool);
		}
		rnd_left -= 2;
		id = (uint16_t)(rnd_pool[rnd_left] << 8 |
		    rnd_pool[rnd_left + 1]);
		/* At most DNS_SRV_DOCKER_MAX of 65536 taken: this ends. */
		if (id != client_id && ask_find(s, id) == NULL) {
			*ret = id;
			return 0;
		}
	}
}

/* Sends x's query to Docker's resolver with x's ID.  0 or -errno. */
static int
ask_send(struct dns_srv *s, struct srv_ask *x)
{
	uint8_t id0 = x->q[0], id1 = x->q[1];
	ssize_t n;

	if (!s->dock_connected) {
		if (connect(s->dfd, (const struct sockaddr *)&s->dock,
		    sizeof(s->dock)) < 0)
			return -errno;
		s->dock_connected = true;
	}
	x->q[0] = (uint8_t)(x->id >> 8);
	x->q[1] = (uint8_t)x->id;
	do
		n = send(s->dfd, x->q, x->qlen, MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	x->q[0] = id0;
	x->q[1] = id1;
	if (n < 0)
		return -errno;
	return n == (ssize_t)x->qlen ? 0 : -EMSGSIZE;
}

/*
 * Relays the query q (verdict in scratch_v) to Docker's resolver.  0 when
 * it waits for the reply; -1 when the caller goes on without it (the
 * question is with Docker already, too many wait, or it could not be
 * sent), counted.
 */
static int
ask_start(struct dns_srv *s, const uint8_t *q, size_t qlen,
    struct srv_conn *c, const struct sockaddr_storage *peer,
    socklen_t peerlen, uint64_t now_ms)
{
	struct srv_ask *x;

	for (x = s->asks; x; x = x->next)
		if (x->qtype == scratch_v.qtype &&
		    x->qname_len == scratch_v.qname_len &&
		    dns_wire_eq_nocase(x->qname, scratch_v.qname_wire,
		    x->qname_len)) {
			s->st.docker_loops++;
			return -1;
		}
	if (s->st.docker_pending >= DNS_SRV_DOCKER_MAX) {
		s->st.docker_busy++;
		return -1;
	}
	s->st.docker_asked++;
	x = calloc(1, sizeof(*x) + qlen);
	if (x == NULL || ask_id(s, scratch_v.id, &x->id) < 0) {
		free(x);
		s->st.docker_fellthrough++;
		return -1;
	}
	x->tcp = c != NULL;
	if (c)
		x->conn_id = c->id;
	else {
		x->peer = *peer;
		x->peerlen = peerlen;
	}
	x->limit = scratch_v.limit;
	x->deadline = now_ms + DNS_SRV_DOCKER_WAIT_MS;
	x->qtype = scratch_v.qtype;
	x->qclass = scratch_v.qclass;
	x->qname_len = scratch_v.qname_len;
	memcpy(x->qname, scratch_v.qname_wire, scratch_v.qname_len);
	x->qlen = qlen;
	memcpy(x->q, q, qlen);
	if (ask_send(s, x) < 0) {
		free(x);
		s->st.docker_fellthrough++;
		return -1;
	}
	x->next = s->asks;
	if (s->asks)
		s->asks->prev = x;
	s->asks = x;
	s->st.docker_pending++;
	if (c)
		c->pending++;
	schedule(s, x->deadline);
	return 0;
}

/*
 * Ends x: msg[0..len) (Docker's reply, the client's ID restored) goes to
 * the client, or with msg NULL the query falls through.  Then x is gone.
 */
static void
ask_finish(struct dns_srv *s, struct srv_ask *x, const uint8_t *msg,
    size_t len, uint64_t now_ms)
{
	struct srv_conn *c = NULL;

	if (x->prev)
		x->prev->next = x->next;
	else
		s->asks = x->next;
	if (x->next)
		x->next->prev = x->prev;
	s->st.docker_pending--;
	if (x->tcp && (c = conn_find(s, x->conn_id)) != NULL &&
	    c->pending > 0 && --c->pending == 0)
		wake(s);	/* it may be done */
	if (msg != NULL)
		reply(s, x->tcp, x->conn_id, &x->peer, x->peerlen, x->limit,
		    x->q, x->qlen, msg, len, now_ms);
	else if (x->tcp && c == NULL)
		s->st.drops++;	/* the connection is gone */
	else
		handle_query(s, x->q, x->qlen, c, x->tcp ? NULL : &x->peer,
		    x->peerlen, false, now_ms);
	free(x);
}

/* Every ask falls through (Docker's resolver is not there). */
static void
ask_fail_all(struct dns_srv *s, uint64_t now_ms)
{
	/* Falling through never starts an ask: the list only shrinks. */
	while (s->asks) {
		s->st.docker_fellthrough++;
		ask_finish(s, s->asks, NULL, 0, now_ms);
	}
}

/* A datagram from Docker's resolver. */
static void
ask_reply(struct dns_srv *s, uint8_t *msg, size_t len, uint64_t now_ms)
{
	struct srv_ask *x;

	if (len < DNS_HEADER_LEN ||
	    (x = ask_find(s, (uint16_t)(msg[0] << 8 | msg[1]))) == NULL)
		return;		/* late (given up on), or not ours */
	if (!dns_question_match(msg, len, x->id, x->qname, x->qname_len,
	    x->qtype, x->qclass) ||
	    (msg[3] & 0x0f) != DNS_RCODE_NOERROR ||
	    (x->tcp && (msg[2] & 0x02))) {
		s->st.docker_fellthrough++;
		ask_finish(s, x, NULL, 0, now_ms);
		return;
	}
	s->st.docker_answered++;
	msg[0] = x->q[0];
	msg[1] = x->q[1];
	ask_finish(s, x, msg, len, now_ms);
}

static void
on_docker(void *arg, uint32_t events)
{
	struct dns_srv *s = arg;
	uint64_t now_ms = loop_now_ms();

	(void)events;	/* errors show in recv() */
	for (int i = 0; i < DNS_SRV_UDP_BATCH; i++) {
		ssize_t n = recv(s->dfd, dock_buf, sizeof(dock_buf),
		    MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n < 0) {
			/* ICMP port unreachable (ECONNREFUSED) and the like:
			 * every ask went to the same place.  The error is
			 * read, so the next recv() goes on. */
			ask_fail_all(s, now_ms);
			continue;
		}
		ask_reply(s, dock_buf, (size_t)n, now_ms);
	}
}

/* Datagrams read with one recvmmsg(); a callback makes at most
 * DNS_SRV_UDP_BATCH / UDP_VLEN calls, stopping as soon as one comes back
 * short (the queue is empty: no extra call to learn EAGAIN). */

static struct mmsghdr		udp_msgs[UDP_VLEN];
static struct iovec		udp_iov[UDP_VLEN];
static struct sockaddr_storage	udp_peers[UDP_VLEN];
static uint8_t			udp_bufs[UDP_VLEN][DNS_SRV_UDP_QUERY_MAX + 1];

static void
on_udp(struct dns_srv *s, uint64_t now_ms)
{
	for (int round = 0; round < DNS_SRV_UDP_BATCH / UDP_VLEN; round++) {
		int n;

		for (int i = 0; i < UDP_VLEN; i++) {
			udp_iov[i] = (struct iovec){ udp_bufs[i],
			    sizeof(udp_bufs[i]) };
			udp_msgs[i].msg_hdr = (struct msghdr){
			    .msg_name = &udp_peers[i],
			    .msg_namelen = sizeof(udp_peers[i]),
			    .msg_iov = &udp_iov[i], .msg_iovlen = 1 };
		}
		n = recvmmsg(s->ufd, udp_msgs, UDP_VLEN, MSG_DONTWAIT, NULL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;		/* EAGAIN, or a queued ICMP error */
		out_batch.srv = s;
		for (int i = 0; i < n; i++) {
			size_t len = udp_msgs[i].msg_len;

			s->st.queries_udp++;
			if ((udp_msgs[i].msg_hdr.msg_flags & MSG_TRUNC) ||
			    len > DNS_SRV_UDP_QUERY_MAX) {
				s->st.drops++;
				continue;
			}
			handle_query(s, udp_bufs[i], len, NULL, &udp_peers[i],
			    udp_msgs[i].msg_hdr.msg_namelen, true, now_ms);
		}
		udp_flush(s);
		out_batch.srv = NULL;
		if (n < UDP_VLEN)
			return;
	}
}

static void on_conn(void *arg, uint32_t events);

static void
on_accept(struct dns_srv *s, uint64_t now_ms)
{
	for (int i = 0; i < DNS_SRV_UDP_BATCH; i++) {
		struct srv_conn *c;
		unsigned int slot;
		int fd;

		fd = fd_move_high(accept4(s->lfd, NULL, NULL,
		    SOCK_NONBLOCK | SOCK_CLOEXEC));
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			return;
		}
		for (slot = 0; slot < s->max_conns; slot++)
			if (s->conns[slot] == NULL)
				break;
		c = slot < s->max_conns ? calloc(1, sizeof(*c)) : NULL;
		if (c == NULL) {
			s->st.tcp_refused++;
			close(fd);
			continue;
		}
		c->srv = s;
		c->slot = slot;
		dns_frame_init(&c->rd);
		c->fd = fd;
		c->id = s->next_id++;
		c->last_act = now_ms;
		c->w = loop_fd_add(s->loop, fd, EPOLLIN, on_conn, c);
		if (c->w == NULL) {
			s->st.tcp_refused++;
			close(fd);
			free(c);
			continue;
		}
		c->events = EPOLLIN;
		s->conns[slot] = c;
		s->st.tcp_accepted++;
		s->st.tcp_open++;
		schedule(s, conn_deadline(s, c));
	}
}

/* Reads up to DNS_SRV_TCP_BATCH messages from c and handles them. */
static void
on_conn_read(struct dns_srv *s, struct srv_conn *c, uint64_t now_ms)
{
	unsigned int handled = 0;

	while (!c->dead && !c->eof && handled < DNS_SRV_TCP_BATCH) {
		const uint8_t *msg;
		uint8_t *dst;
		size_t want, len;
		ssize_t n;
		int r;

		want = dns_frame_want(&c->rd, &dst);
		n = recv(c->fd, dst, want, MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n < 0) {
			c->dead = true;
			break;
		}
		if (n == 0) {
			/* Half-open or closed: never read again, or a
			 * level-triggered fd would spin.  A partial message
			 * is dropped. */
			c->eof = true;
			if (dns_frame_started(&c->rd))
				s->st.drops++;
			dns_frame_reset(&c->rd);
			break;
		}
		if (!dns_frame_started(&c->rd))
			c->msg_start = now_ms;
		r = dns_frame_got(&c->rd, (size_t)n);
		if (r < 0) {
			c->dead = true;
			break;
		}
		if (r == DNS_FRAME_MORE)
			continue;
		/* A whole message. */
		handled++;
		c->nq++;
		c->last_act = now_ms;
		s->st.queries_tcp++;
		msg = dns_frame_msg(&c->rd, &len);
		if (len > 0)
			handle_query(s, msg, len, c, NULL, 0, true, now_ms);
		else
			s->st.drops++;
		dns_frame_reset(&c->rd);
		if (c->nq >= s->max_queries)
			c->eof = true;	/* the cap: finish and close */
	}
	if (!c->dead)
		conn_update_events(c);
}

/*
 * Closes c when its deadline (conn_deadline) has passed, counting a
 * timeout unless it was dead or done; else makes sure the timer comes
 * back for it.
 */
static void
conn_check(struct dns_srv *s, struct srv_conn *c, uint64_t now_ms)
{
	uint64_t d = conn_deadline(s, c);

	if (d > now_ms) {
		schedule(s, d);
		return;
	}
	if (!c->dead && !(c->eof && c->wlen == c->woff && c->pending == 0))
		s->st.timeouts++;
	conn_close(s, c->slot);
}

static void
on_conn(void *arg, uint32_t events)
{
	struct srv_conn *c = arg;
	struct dns_srv *s = c->srv;
	uint64_t now_ms = loop_now_ms();

	if (events & (EPOLLERR | EPOLLHUP))
		c->dead = true;
	if ((events & EPOLLOUT) && !c->dead)
		conn_flush(c, now_ms);
	if ((events & EPOLLIN) && !c->dead)
		on_conn_read(s, c, now_ms);
	conn_check(s, c, now_ms);
}

static void
on_udp_ready(void *arg, uint32_t events)
{
	(void)events;
	on_udp(arg, loop_now_ms());
}

static void
on_listener(void *arg, uint32_t events)
{
	(void)events;
	on_accept(arg, loop_now_ms());
}

/* A deadline came (or a wake): every connection past its own closes,
 * every ask past its own falls through, then the timer holds the
 * earliest deadline left. */
static void
on_timer(void *arg)
{
	struct dns_srv *s = arg;
	uint64_t now_ms = loop_now_ms();
	struct srv_ask *x, *next;

	/* Fired: nothing is armed until conn_check() arms it again. */
	s->armed = UINT64_MAX;
	for (unsigned int i = 0; i < s->max_conns; i++)
		if (s->conns[i] != NULL)
			conn_check(s, s->conns[i], now_ms);
	/* Falling through never starts an ask: next stays valid. */
	for (x = s->asks; x; x = next) {
		next = x->next;
		if (x->deadline > now_ms) {
			schedule(s, x->deadline);
			continue;
		}
		s->st.docker_timeouts++;
		ask_finish(s, x, NULL, 0, now_ms);
	}
}

void
dns_srv_set_zone(struct dns_srv *s, const struct dns_zone *z)
{
	if (z != NULL)
		s->zone = z;
}

void
dns_srv_set_upstreams(struct dns_srv *s, const struct dns_upstreams *ups)
{
	if (ups)
		s->ups = *ups;
	else
		memset(&s->ups, 0, sizeof(s->ups));
}

void
dns_srv_set_docker_resolver(struct dns_srv *s, const struct sockaddr_in *udp)
{
	if (udp == NULL || udp->sin_family != AF_INET || udp->sin_port == 0) {
		s->dock_set = false;
		return;
	}
	if (!s->dock_set || s->dock.sin_port != udp->sin_port ||
	    s->dock.sin_addr.s_addr != udp->sin_addr.s_addr) {
		memset(&s->dock, 0, sizeof(s->dock));
		s->dock.sin_family = AF_INET;
		s->dock.sin_port = udp->sin_port;
		s->dock.sin_addr = udp->sin_addr;
		s->dock_connected = false;
	}
	s->dock_set = true;
}

void
dns_srv_stats(const struct dns_srv *s, struct dns_srv_stats *ret)
{
	*ret = s->st;
}

/* The UDP and TCP sockets and the UDP one to Docker's resolver, made in
 * netns_fd (-1: here). */
static int
make_sockets(struct dns_srv *s, int netns_fd, int family, char *err,
    size_t errlen)
{
	int home = -1, e = 0;
	char why[256];

	if (netns_fd >= 0 && netns_enter(netns_fd, &home, why,
	    sizeof(why)) < 0) {
		snprintf(err, errlen, "dns server: %s", why);
		return -1;
	}
	/* Each responder's sockets live as long as it does: above the
	 * numbers select() can take (lib/fd.h). */
	s->ufd = fd_move_high(socket(family, SOCK_DGRAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0));
	if (s->ufd < 0)
		e = errno;
	else {
		/* Room for a burst while the daemon is starved of CPU: at
		 * the kernel's default (rmem_default, ~200 KB) a stall of
		 * ~100 ms at 2000 q/s already drops queries.  FORCE passes
		 * rmem_max with CAP_NET_ADMIN; without it the plain option
		 * takes what it can. */
		int rb = DNS_SRV_UDP_RCVBUF;

		if (setsockopt(s->ufd, SOL_SOCKET, SO_RCVBUFFORCE, &rb,
		    sizeof(rb)) < 0)
			(void)setsockopt(s->ufd, SOL_SOCKET, SO_RCVBUF, &rb,
			    sizeof(rb));
	}
	if (e == 0) {
		s->lfd = fd_move_high(socket(family, SOCK_STREAM |
		    SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
		if (s->lfd < 0)
			e = errno;
	}
	/* Docker's resolver listens on 127.0.0.11 whatever our family. */
	if (e == 0) {
		s->dfd = fd_move_high(socket(AF_INET, SOCK_DGRAM |
		    SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
		if (s->dfd < 0)
			e = errno;
	}
	if (home >= 0)
		netns_leave(home);
	if (e != 0) {
		snprintf(err, errlen, "dns server: socket: %s", strerror(e));
		return -1;
	}
	return 0;
}

struct dns_srv *
dns_srv_new(const struct dns_srv_params *p, char *err, size_t errlen)
{
	struct sockaddr_storage sa;
	socklen_t salen;
	struct dns_srv *s;
	int one = 1;

	if (p == NULL || p->loop == NULL || p->zone == NULL ||
	    (p->addr.ss_family != AF_INET && p->addr.ss_family != AF_INET6)) {
		snprintf(err, errlen, "dns server: an event loop, a zone and an "
		    "IPv4 or IPv6 address are needed");
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		snprintf(err, errlen, "dns server: out of memory");
		return NULL;
	}
	s->ufd = s->lfd = s->dfd = -1;
	s->loop = p->loop;
	s->zone = p->zone;
	dns_srv_set_upstreams(s, p->ups);
	s->fwd = p->fwd;
	s->cache = p->cache;
	s->on_fail = p->on_fail;
	s->fail_arg = p->fail_arg;
	s->armed = UINT64_MAX;
	s->max_conns = p->tcp_max_conns ? p->tcp_max_conns :
	    DNS_SRV_TCP_CONNS_DEFAULT;
	s->read_ms = p->tcp_read_ms ? p->tcp_read_ms :
	    DNS_SRV_TCP_READ_MS_DEFAULT;
	s->idle_ms = p->tcp_idle_ms ? p->tcp_idle_ms :
	    DNS_SRV_TCP_IDLE_MS_DEFAULT;
	s->max_queries = p->tcp_max_queries ? p->tcp_max_queries :
	    DNS_SRV_TCP_QUERIES_DEFAULT;
	s->next_id = 1;
	if (s->max_conns > DNS_SRV_TCP_CONNS_MAX) {
		snprintf(err, errlen, "dns server: %u TCP connections is over "
		    "%u", s->max_conns, DNS_SRV_TCP_CONNS_MAX);
		goto fail;
	}
	s->conns = calloc(s->max_conns, sizeof(*s->conns));
	if (s->conns == NULL) {
		snprintf(err, errlen, "dns server: out of memory");
		goto fail;
	}
	if (make_sockets(s, p->netns_fd, p->addr.ss_family, err, errlen) < 0)
		goto fail;
	sa = p->addr;
	if (sa.ss_family == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&sa;

		if (s4->sin_port == 0)
			s4->sin_port = htons(DNS_SRV_PORT);
		salen = sizeof(*s4);
	} else {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&sa;

		if (s6->sin6_port == 0)
			s6->sin6_port = htons(DNS_SRV_PORT);
		salen = sizeof(*s6);
		(void)setsockopt(s->ufd, IPPROTO_IPV6, IPV6_V6ONLY, &one,
		    sizeof(one));
		(void)setsockopt(s->lfd, IPPROTO_IPV6, IPV6_V6ONLY, &one,
		    sizeof(one));
	}
	(void)setsockopt(s->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(s->ufd, (struct sockaddr *)&sa, salen) < 0 ||
	    bind(s->lfd, (struct sockaddr *)&sa, salen) < 0 ||
	    listen(s->lfd, 64) < 0) {
		snprintf(err, errlen, "dns server: cannot listen on port %u in "
		    "the sandbox: %s (is the address configured there?)",
		    sa.ss_family == AF_INET ?
		    ntohs(((struct sockaddr_in *)&sa)->sin_port) :
		    ntohs(((struct sockaddr_in6 *)&sa)->sin6_port),
		    strerror(errno));
		goto fail;
	}
	s->timer = loop_timer_new(s->loop, on_timer, s);
	if (s->timer == NULL) {
		snprintf(err, errlen, "dns server: out of memory");
		goto fail;
	}
	s->wudp = loop_fd_add(s->loop, s->ufd, EPOLLIN, on_udp_ready, s);
	if (s->wudp == NULL)
		goto fail_loop;
	s->wlis = loop_fd_add(s->loop, s->lfd, EPOLLIN, on_listener, s);
	if (s->wlis == NULL)
		goto fail_loop;
	s->wdock = loop_fd_add(s->loop, s->dfd, EPOLLIN, on_docker, s);
	if (s->wdock == NULL)
		goto fail_loop;
	return s;
fail_loop:
	snprintf(err, errlen, "dns server: cannot watch a socket: %s",
	    strerror(errno));
fail:
	return dns_srv_free(s);
}

struct dns_srv *
dns_srv_free(struct dns_srv *s)
{
	if (s == NULL)
		return NULL;
	while (s->fwds) {
		struct srv_fwd *x = s->fwds;

		(void)dns_fwd_cancel_owner(s->fwd, x);
		s->fwds = x->next;
		free(x);
	}
	while (s->asks) {
		struct srv_ask *x = s->asks;

		s->asks = x->next;
		free(x);
	}
	if (s->conns) {
		for (unsigned int i = 0; i < s->max_conns; i++)
			conn_close(s, i);
		free(s->conns);
	}
	/* The handles go before their fds are closed. */
	loop_fd_free(s->wudp);
	loop_fd_free(s->wlis);
	loop_fd_free(s->wdock);
	loop_timer_free(s->timer);
	if (s->ufd >= 0)
		close(s->ufd);
	if (s->lfd >= 0)
		close(s->lfd);
	if (s->dfd >= 0)
		close(s->dfd);
	free(s);
	return NULL;
}
