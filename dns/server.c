/*
 * The responder loop of one sandbox: see dns/server.h for the decisions.
 *
 * Epoll data is a tag: TAG_UDP, TAG_TCP and TAG_TIMER for the server's
 * own fds, otherwise the ID of a TCP connection (IDs start at TAG_FIRST
 * and are never reused).  Forwards in flight are struct srv_fwd contexts
 * in a list, each the callback argument of one dns_fwd_start().
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
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "dns/server.h"
#include "lib/netns.h"

#define EVENTS_PER_RUN	64

enum {
	TAG_UDP = 1,
	TAG_TCP,
	TAG_TIMER,
	TAG_FIRST = 16,
};

struct srv_conn {
	uint64_t	id;
	int		fd;
	uint32_t	events;		/* registered in the epoll set */
	bool		eof;		/* no more reading */
	bool		dead;		/* close at the next run */
	unsigned int	nq;		/* messages read */
	unsigned int	pending;	/* forwards in flight */
	uint64_t	msg_start;	/* first byte of the partial message */
	uint64_t	last_act;	/* last message or reply */
	uint64_t	last_write;	/* last write progress */
	uint8_t		rhdr[2];
	size_t		rgot;		/* prefix + body bytes read */
	size_t		rneed;		/* body length from the prefix */
	uint8_t		*rbuf;
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

struct dns_srv {
	int			ep, ufd, lfd, tfd;
	const struct dns_zone	*zone;
	struct dns_upstreams	ups;
	struct dns_fwd		*fwd;
	struct dns_cache	*cache;
	unsigned int		max_conns, read_ms, idle_ms, max_queries;
	uint64_t		next_id;
	struct srv_conn		**conns;	/* max_conns slots */
	struct srv_fwd		*fwds;
	struct dns_srv_stats	st;
	dns_srv_fail_cb		on_fail;
	void			*fail_arg;
	uint64_t		armed;		/* deadline the timer holds */
	bool			external_udp;
};

/* Scratch space shared by every server: all of them run on one thread
 * (see server.h) and none holds these across a call, so an idle sandbox
 * costs no buffer of its own. */
static struct dns_verdict	scratch_v;
static uint8_t			scratch_out[DNS_TCP_MAX];

static void
arm_timer(struct dns_srv *s, uint64_t deadline, uint64_t now_ms)
{
	struct itimerspec its = { { 0, 0 }, { 0, 0 } };
	uint64_t ms;

	/* Most runs (every UDP query) leave the deadline as it was: no
	 * system call then. */
	if (deadline == s->armed)
		return;
	if (deadline != UINT64_MAX) {
		ms = deadline > now_ms ? deadline - now_ms : 0;
		its.it_value.tv_sec = (time_t)(ms / 1000);
		/* Zero would disarm: at least 1 ns, i.e. at once. */
		its.it_value.tv_nsec = ms % 1000 ? (long)(ms % 1000) * 1000000 :
		    (ms ? 0 : 1);
	}
	if (timerfd_settime(s->tfd, 0, &its, NULL) == 0)
		s->armed = deadline;
}

/* Makes the daemon's loop call dns_srv_run() soon (a connection died in a
 * forwarder callback). */
static void
wake(struct dns_srv *s)
{
	arm_timer(s, 0, 1);
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
	(void)epoll_ctl(s->ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	free(c->rbuf);
	free(c->wbuf);
	free(c);
	s->conns[slot] = NULL;
	s->st.tcp_open--;
}

static void
conn_update_events(struct dns_srv *s, struct srv_conn *c)
{
	struct epoll_event ev = { .data.u64 = c->id };

	ev.events = (c->eof ? 0 : EPOLLIN) | (c->wlen > c->woff ? EPOLLOUT : 0);
	if (ev.events == c->events)
		return;
	if (epoll_ctl(s->ep, EPOLL_CTL_MOD, c->fd, &ev) < 0) {
		c->dead = true;
		return;
	}
	c->events = ev.events;
}

/* When c must be looked at again; now_ms when it is done. */
static uint64_t
conn_deadline(const struct dns_srv *s, const struct srv_conn *c)
{
	if (c->dead)
		return 0;
	if (c->wlen > c->woff)
		return c->last_write + s->read_ms;
	if (c->rgot > 0 && !c->eof)
		return c->msg_start + s->read_ms;
	if (c->pending > 0)
		return UINT64_MAX;
	if (c->eof)
		return 0;	/* nothing owed: close */
	return c->last_act + s->idle_ms;
}

/* Sends what c has queued.  Marks c dead on a fatal error. */
static void
conn_flush(struct dns_srv *s, struct srv_conn *c, uint64_t now_ms)
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
	conn_update_events(s, c);
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
	conn_flush(s, c, now_ms);
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
		if (c->dead)
			wake(s);
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
	uint64_t now_ms = dns_fwd_now_ms();

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

/* One query from a client: UDP from peer, or TCP on connection c. */
static void
handle_query(struct dns_srv *s, const uint8_t *q, size_t qlen,
    struct srv_conn *c, const struct sockaddr_storage *peer,
    socklen_t peerlen, uint64_t now_ms)
{
	bool tcp = c != NULL;
	uint64_t conn_id = c ? c->id : 0;
	struct srv_fwd *x;
	size_t olen = 0, limit;
	unsigned int flags;
	int r;

	r = dns_answer(s->zone, q, qlen, tcp, scratch_out,
	    sizeof(scratch_out), &olen, &scratch_v);
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
		/* The cap (B43) or no memory: the caller rate-limits the
		 * log line. */
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

/* Datagrams read with one recvmmsg(); a run makes at most
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
			    udp_msgs[i].msg_hdr.msg_namelen, now_ms);
		}
		udp_flush(s);
		out_batch.srv = NULL;
		if (n < UDP_VLEN)
			return;
	}
}

static void
on_accept(struct dns_srv *s, uint64_t now_ms)
{
	for (int i = 0; i < DNS_SRV_UDP_BATCH; i++) {
		struct epoll_event ev = { .events = EPOLLIN };
		struct srv_conn *c;
		unsigned int slot;
		int fd;

		fd = accept4(s->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
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
		c->fd = fd;
		c->id = s->next_id++;
		c->last_act = now_ms;
		ev.data.u64 = c->id;
		if (epoll_ctl(s->ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
			s->st.tcp_refused++;
			close(fd);
			free(c);
			continue;
		}
		c->events = EPOLLIN;
		s->conns[slot] = c;
		s->st.tcp_accepted++;
		s->st.tcp_open++;
	}
}

/* Reads up to DNS_SRV_TCP_BATCH messages from c and handles them. */
static void
on_conn_read(struct dns_srv *s, struct srv_conn *c, uint64_t now_ms)
{
	unsigned int handled = 0;

	while (!c->dead && !c->eof && handled < DNS_SRV_TCP_BATCH) {
		uint8_t *dst;
		size_t want;
		ssize_t n;

		if (c->rgot < 2) {
			dst = c->rhdr + c->rgot;
			want = 2 - c->rgot;
		} else {
			dst = c->rbuf + (c->rgot - 2);
			want = c->rneed - (c->rgot - 2);
		}
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
			/* Half-open or closed: never read again (F21).  A
			 * partial message is dropped. */
			c->eof = true;
			if (c->rgot > 0)
				s->st.drops++;
			free(c->rbuf);
			c->rbuf = NULL;
			c->rgot = c->rneed = 0;
			break;
		}
		if (c->rgot == 0)
			c->msg_start = now_ms;
		c->rgot += (size_t)n;
		if (c->rgot == 2) {
			c->rneed = (size_t)c->rhdr[0] << 8 | c->rhdr[1];
			if (c->rneed > 0) {
				c->rbuf = malloc(c->rneed);
				if (c->rbuf == NULL) {
					c->dead = true;
					break;
				}
			}
		}
		if (c->rgot < 2 || c->rgot - 2 < c->rneed)
			continue;
		/* A whole message. */
		handled++;
		c->nq++;
		c->last_act = now_ms;
		s->st.queries_tcp++;
		if (c->rneed > 0)
			handle_query(s, c->rbuf, c->rneed, c, NULL, 0, now_ms);
		else
			s->st.drops++;
		free(c->rbuf);
		c->rbuf = NULL;
		c->rgot = c->rneed = 0;
		if (c->nq >= s->max_queries)
			c->eof = true;	/* B03: the cap; finish and close */
	}
	if (!c->dead)
		conn_update_events(s, c);
}

int
dns_srv_run(struct dns_srv *s, uint64_t now_ms)
{
	struct epoll_event evs[EVENTS_PER_RUN];
	uint64_t expirations, next = UINT64_MAX;
	int n, r = 0;

	n = epoll_wait(s->ep, evs, EVENTS_PER_RUN, 0);
	if (n < 0 && errno != EINTR)
		r = -errno;
	for (int i = 0; i < n; i++) {
		uint64_t tag = evs[i].data.u64;
		struct srv_conn *c;

		if (tag == TAG_UDP) {
			on_udp(s, now_ms);
		} else if (tag == TAG_TCP) {
			on_accept(s, now_ms);
		} else if (tag == TAG_TIMER) {
			(void)read(s->tfd, &expirations, sizeof(expirations));
			/* Expired: nothing is armed any more, whatever the
			 * deadline computed below. */
			s->armed = 0;
		} else if ((c = conn_find(s, tag)) != NULL) {
			if (evs[i].events & (EPOLLERR | EPOLLHUP)) {
				c->dead = true;
				continue;
			}
			if ((evs[i].events & EPOLLOUT) && !c->dead)
				conn_flush(s, c, now_ms);
			if (evs[i].events & EPOLLIN)
				on_conn_read(s, c, now_ms);
		}
	}
	/* Deadlines, finished and dead connections. */
	for (unsigned int i = 0; i < s->max_conns; i++) {
		struct srv_conn *c = s->conns[i];
		uint64_t d;

		if (c == NULL)
			continue;
		d = conn_deadline(s, c);
		if (d <= now_ms) {
			/* Not dead and not done: a read, write or idle
			 * timeout. */
			if (!c->dead && !(c->eof && c->wlen == c->woff &&
			    c->pending == 0))
				s->st.timeouts++;
			conn_close(s, i);
			continue;
		}
		if (d < next)
			next = d;
	}
	arm_timer(s, next, now_ms);
	return r;
}

int
dns_srv_udp_fd(const struct dns_srv *s)
{
	return s->ufd;
}

void
dns_srv_run_udp(struct dns_srv *s, uint64_t now_ms)
{
	on_udp(s, now_ms);
}

uint64_t
dns_srv_next_deadline(const struct dns_srv *s)
{
	uint64_t next = UINT64_MAX;

	for (unsigned int i = 0; i < s->max_conns; i++) {
		uint64_t d;

		if (s->conns[i] == NULL)
			continue;
		d = conn_deadline(s, s->conns[i]);
		if (d < next)
			next = d;
	}
	return next;
}

int
dns_srv_epoll_fd(const struct dns_srv *s)
{
	return s ? s->ep : -1;
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
dns_srv_stats(const struct dns_srv *s, struct dns_srv_stats *ret)
{
	*ret = s->st;
}

/* The UDP and TCP sockets, made in netns_fd (-1: here). */
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
	s->ufd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->ufd < 0)
		e = errno;
	if (e == 0) {
		s->lfd = socket(family, SOCK_STREAM | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, 0);
		if (s->lfd < 0)
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
	struct epoll_event ev = { .events = EPOLLIN };
	struct sockaddr_storage sa;
	socklen_t salen;
	struct dns_srv *s;
	int one = 1;

	if (p == NULL || p->zone == NULL || (p->addr.ss_family != AF_INET &&
	    p->addr.ss_family != AF_INET6)) {
		snprintf(err, errlen, "dns server: a zone and an IPv4 or IPv6 "
		    "address are needed");
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		snprintf(err, errlen, "dns server: out of memory");
		return NULL;
	}
	s->ep = s->ufd = s->lfd = s->tfd = -1;
	s->zone = p->zone;
	dns_srv_set_upstreams(s, p->ups);
	s->fwd = p->fwd;
	s->cache = p->cache;
	s->on_fail = p->on_fail;
	s->fail_arg = p->fail_arg;
	s->external_udp = p->external_udp;
	s->armed = UINT64_MAX;		/* a new timerfd is disarmed */
	s->max_conns = p->tcp_max_conns ? p->tcp_max_conns :
	    DNS_SRV_TCP_CONNS_DEFAULT;
	s->read_ms = p->tcp_read_ms ? p->tcp_read_ms :
	    DNS_SRV_TCP_READ_MS_DEFAULT;
	s->idle_ms = p->tcp_idle_ms ? p->tcp_idle_ms :
	    DNS_SRV_TCP_IDLE_MS_DEFAULT;
	s->max_queries = p->tcp_max_queries ? p->tcp_max_queries :
	    DNS_SRV_TCP_QUERIES_DEFAULT;
	s->next_id = TAG_FIRST;
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
	s->ep = epoll_create1(EPOLL_CLOEXEC);
	s->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (s->ep < 0 || s->tfd < 0) {
		snprintf(err, errlen, "dns server: epoll or timerfd: %s",
		    strerror(errno));
		goto fail;
	}
	ev.data.u64 = TAG_UDP;
	if (!s->external_udp &&
	    epoll_ctl(s->ep, EPOLL_CTL_ADD, s->ufd, &ev) < 0)
		goto fail_ep;
	ev.data.u64 = TAG_TCP;
	if (epoll_ctl(s->ep, EPOLL_CTL_ADD, s->lfd, &ev) < 0)
		goto fail_ep;
	ev.data.u64 = TAG_TIMER;
	if (epoll_ctl(s->ep, EPOLL_CTL_ADD, s->tfd, &ev) < 0)
		goto fail_ep;
	return s;
fail_ep:
	snprintf(err, errlen, "dns server: epoll_ctl: %s", strerror(errno));
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
	if (s->conns) {
		for (unsigned int i = 0; i < s->max_conns; i++)
			conn_close(s, i);
		free(s->conns);
	}
	if (s->tfd >= 0)
		close(s->tfd);
	if (s->ufd >= 0)
		close(s->ufd);
	if (s->lfd >= 0)
		close(s->lfd);
	if (s->ep >= 0)
		close(s->ep);
	free(s);
	return NULL;
}
