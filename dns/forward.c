/*
 * The upstream forwarder: see dns/forward.h for the decisions.
 *
 * One struct fwd_query per forward, in a doubly linked list, holding at
 * most one socket (the current try's), registered with the loop with the
 * query as its argument.  One loop timer holds the earliest try deadline.
 */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dns/answer.h"
#include "lib/fd.h"
#include "lib/netns.h"
#include "dns/forward.h"
#include "loop/loop.h"

#define RANDOM_POOL	128	/* bytes fetched per getrandom() */

enum fwd_state {
	Q_UDP,			/* sent, waiting for a datagram */
	Q_TCP_CONNECT,		/* non-blocking connect in progress */
	Q_TCP_WRITE,		/* sending prefix + query */
	Q_TCP_READ,		/* reading prefix, then the reply */
};

struct fwd_query {
	struct fwd_query	*prev, *next;
	struct dns_fwd		*f;
	struct loop_fd		*w;		/* fd's handle, NULL with it */
	dns_fwd_done_cb		cb;
	void			*arg;
	struct dns_upstream	srv[DNS_UPSTREAMS_MAX];
	unsigned int		n, cur;		/* servers, current index */
	unsigned int		try_ms;
	uint64_t		try_deadline, end;
	bool			tcp;		/* current try over TCP */
	enum fwd_state		st;
	int			fd;
	uint16_t		client_id, our_id;
	uint16_t		qtype, qclass;
	size_t			qname_len;
	uint8_t			qname[DNS_NAME_MAX];
	const char		*reason;	/* last failure */
	/* TCP: bytes of msg written; reply being read. */
	size_t			woff;
	uint8_t			rhdr[2];
	size_t			rgot;		/* prefix + body bytes read */
	size_t			rneed;		/* body length from prefix */
	uint8_t			*rbuf;
	/* 2-byte length prefix, then the query with our ID. */
	size_t			len;
	uint8_t			msg[];
};

struct dns_fwd {
	struct loop		*loop;
	struct loop_timer	*timer;
	int			netns_fd, home_fd;
	unsigned int		max_inflight, budget_ms;
	uint64_t		armed;		/* timer deadline, UINT64_MAX:
						 * none */
	struct fwd_query	*head;
	struct dns_fwd_stats	st;
	size_t			rnd_left;
	uint8_t			rnd[RANDOM_POOL];
	uint8_t			buf[DNS_TCP_MAX];	/* UDP replies */
};

uint64_t
dns_fwd_now_ms(void)
{
	return loop_now_ms();
}

static void on_timer(void *arg);

struct dns_fwd *
dns_fwd_new(const struct dns_fwd_params *p, char *err, size_t errlen)
{
	struct dns_fwd *f;

	if (p == NULL || p->loop == NULL) {
		snprintf(err, errlen, "dns forwarder: an event loop is needed");
		return NULL;
	}
	f = calloc(1, sizeof(*f));
	if (f == NULL) {
		snprintf(err, errlen, "dns forwarder: out of memory");
		return NULL;
	}
	f->netns_fd = f->home_fd = -1;
	f->loop = p->loop;
	f->armed = UINT64_MAX;
	f->max_inflight = p->max_inflight ? p->max_inflight :
	    DNS_FWD_INFLIGHT_DEFAULT;
	f->budget_ms = p->budget_ms ? p->budget_ms :
	    DNS_FWD_BUDGET_DEFAULT_MS;
	if (f->max_inflight > DNS_FWD_INFLIGHT_MAX) {
		snprintf(err, errlen, "dns forwarder: max in flight %u is "
		    "over %u", f->max_inflight, DNS_FWD_INFLIGHT_MAX);
		goto fail;
	}
	if (p->netns_fd >= 0) {
		f->netns_fd = p->netns_fd;
		/* The way back after each socket made in netns_fd. */
		f->home_fd = fd_move_high(open("/proc/thread-self/ns/net",
		    O_RDONLY | O_CLOEXEC));
		if (f->home_fd < 0) {
			snprintf(err, errlen, "dns forwarder: cannot open "
			    "/proc/thread-self/ns/net: %s (is /proc mounted?)",
			    strerror(errno));
			goto fail;
		}
	}
	f->timer = loop_timer_new(f->loop, on_timer, f);
	if (f->timer == NULL) {
		snprintf(err, errlen, "dns forwarder: out of memory");
		goto fail;
	}
	return f;
fail:
	return dns_fwd_free(f);
}

static void
query_unlink(struct dns_fwd *f, struct fwd_query *q)
{
	if (q->prev)
		q->prev->next = q->next;
	else
		f->head = q->next;
	if (q->next)
		q->next->prev = q->prev;
	q->prev = q->next = NULL;
	f->st.inflight--;
}

static void
close_try(struct fwd_query *q)
{
	/* The handle goes first: the loop must not watch a closed fd. */
	loop_fd_free(q->w);
	q->w = NULL;
	if (q->fd >= 0) {
		close(q->fd);
		q->fd = -1;
	}
	free(q->rbuf);
	q->rbuf = NULL;
	q->rgot = q->rneed = q->woff = 0;
}

/* Ends q: the callback, then q is gone. */
static void
finish(struct dns_fwd *f, struct fwd_query *q, int status,
    const uint8_t *reply, size_t len, const char *reason)
{
	int up = q->n ? (int)q->cur : -1;

	if (q->n && q->cur >= q->n)
		up = (int)q->n - 1;
	query_unlink(f, q);
	if (status == 0)
		f->st.answered++;
	else
		f->st.failed++;
	/* reply may be q->rbuf: closed and freed after the callback. */
	q->cb(q->arg, status, reply, len, up, reason);
	close_try(q);
	free(q);
}

static int
random_id(struct dns_fwd *f, uint16_t *ret)
{
	if (f->rnd_left < 2) {
		ssize_t n = getrandom(f->rnd, sizeof(f->rnd), 0);

		if (n != (ssize_t)sizeof(f->rnd))
			return n < 0 ? -errno : -EIO;
		f->rnd_left = sizeof(f->rnd);
	}
	f->rnd_left -= 2;
	*ret = (uint16_t)(f->rnd[f->rnd_left] << 8 |
	    f->rnd[f->rnd_left + 1]);
	return 0;
}

/* The timer fires at deadline (UINT64_MAX: never). */
static void
arm_timer(struct dns_fwd *f, uint64_t deadline)
{
	if (deadline == UINT64_MAX)
		loop_timer_disarm(f->timer);
	else
		loop_timer_arm_at(f->timer, deadline);
	f->armed = deadline;
}

/* A socket for srv, made in the dialling namespace. */
static int
dial_socket(struct dns_fwd *f, const struct dns_upstream *srv, bool tcp,
    int *ret_fd)
{
	struct sockaddr_storage sa = srv->addr;
	socklen_t salen = sa.ss_family == AF_INET6 ?
	    sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
	int fd = -1, r = 0;

	if (f->netns_fd >= 0 && (r = netns_switch(f->netns_fd, NULL, 0)) < 0)
		return r;
	/* Up to the in-flight cap of them: above the numbers select() can
	 * take (lib/fd.h). */
	fd = fd_move_high(socket(sa.ss_family, (tcp ? SOCK_STREAM :
	    SOCK_DGRAM) | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
	if (fd < 0)
		r = -errno;
	if (r == 0 && sa.ss_family == AF_INET6 && srv->zone[0] != '\0') {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&sa;

		/* A named zone is an interface of the dialling namespace. */
		if (s6->sin6_scope_id == 0)
			s6->sin6_scope_id = if_nametoindex(srv->zone);
		if (s6->sin6_scope_id == 0)
			r = -ENODEV;
	}
	if (f->netns_fd >= 0)
		netns_return(f->home_fd);
	if (r == 0 && connect(fd, (struct sockaddr *)&sa, salen) < 0 &&
	    !(tcp && errno == EINPROGRESS))
		r = -errno;
	if (r < 0) {
		if (fd >= 0)
			close(fd);
		return r;
	}
	*ret_fd = fd;
	return 0;
}

static const char *
errno_reason(int e)
{
	switch (e) {
	case ECONNREFUSED:	return "connection refused";
	case ECONNRESET:	return "connection reset";
	case ENETUNREACH:	return "network unreachable";
	case EHOSTUNREACH:	return "host unreachable";
	case ENODEV:		return "no such interface for the zone";
	default:		return "io error";
	}
}

static void on_query(void *arg, uint32_t events);

/*
 * Opens and starts the try of upstream q->cur (over TCP when q->tcp),
 * moving on to the next upstreams while that fails at once.  May finish q.
 */
static void
start_try(struct dns_fwd *f, struct fwd_query *q, uint64_t now_ms)
{
	while (q->cur < q->n) {
		struct dns_fwd_upstream_stats *us = &f->st.up[q->cur];
		uint32_t events;
		int r;

		if (now_ms >= q->end) {
			q->reason = "timeout";
			break;
		}
		r = random_id(f, &q->our_id);
		if (r < 0)
			goto error;
		/* Never the client's own ID, so a reply that merely echoes
		 * the client's query cannot match. */
		if (q->our_id == q->client_id)
			q->our_id ^= 1;
		q->msg[2] = (uint8_t)(q->our_id >> 8);
		q->msg[3] = (uint8_t)q->our_id;
		r = dial_socket(f, &q->srv[q->cur], q->tcp, &q->fd);
		if (r < 0)
			goto error;
		if (q->tcp) {
			q->st = Q_TCP_CONNECT;
			events = EPOLLOUT;
		} else {
			q->st = Q_UDP;
			events = EPOLLIN;
			if (send(q->fd, q->msg + 2, q->len, 0) !=
			    (ssize_t)q->len) {
				r = -errno;
				goto error;
			}
		}
		q->w = loop_fd_add(f->loop, q->fd, events, on_query, q);
		if (q->w == NULL) {
			r = -errno;
			goto error;
		}
		if (!q->tcp)
			us->sent++;
		q->try_deadline = now_ms + q->try_ms;
		if (q->try_deadline > q->end)
			q->try_deadline = q->end;
		if (q->try_deadline < f->armed)
			arm_timer(f, q->try_deadline);
		return;
error:
		us->errors++;
		q->reason = errno_reason(-r);
		close_try(q);
		q->tcp = false;
		q->cur++;
	}
	finish(f, q, -ETIMEDOUT, NULL, 0, q->reason);
}

/* Gives up on the current upstream.  May finish q. */
static void
next_upstream(struct dns_fwd *f, struct fwd_query *q, const char *reason,
    uint64_t now_ms)
{
	q->reason = reason;
	close_try(q);
	q->tcp = false;
	q->cur++;
	start_try(f, q, now_ms);
}

/*
 * A message read from the current try's socket.  Returns 1 when q moved
 * on (its socket is closed, or q is gone), 0 to keep waiting.
 */
static int
handle_reply(struct dns_fwd *f, struct fwd_query *q, uint8_t *msg,
    size_t len, uint64_t now_ms)
{
	struct dns_fwd_upstream_stats *us = &f->st.up[q->cur];
	enum dns_up_action act;

	act = dns_upstream_action(msg, len, q->our_id, q->qname, q->qname_len,
	    q->qtype, q->qclass, q->tcp);
	if (act == DNS_UP_IGNORE) {
		us->mismatched++;
		return 0;
	}
	us->replies++;
	if (act == DNS_UP_RETRY_TCP) {
		us->tc_retries++;
		q->reason = "truncated";
		close_try(q);
		q->tcp = true;
		start_try(f, q, now_ms);
		return 1;
	}
	if (act == DNS_UP_NEXT) {
		us->failures++;
		next_upstream(f, q, (msg[3] & 0x0f) == DNS_RCODE_SERVFAIL ?
		    "servfail" : "refused", now_ms);
		return 1;
	}
	msg[0] = (uint8_t)(q->client_id >> 8);
	msg[1] = (uint8_t)q->client_id;
	finish(f, q, 0, msg, len, q->tcp ? "reply over tcp" : "reply");
	return 1;
}

static void
io_error(struct dns_fwd *f, struct fwd_query *q, int e, uint64_t now_ms)
{
	f->st.up[q->cur].errors++;
	next_upstream(f, q, errno_reason(e), now_ms);
}

static void
on_udp(struct dns_fwd *f, struct fwd_query *q, uint64_t now_ms)
{
	for (;;) {
		ssize_t n = recv(q->fd, f->buf, sizeof(f->buf), 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				io_error(f, q, errno, now_ms);
			return;
		}
		if (handle_reply(f, q, f->buf, (size_t)n, now_ms))
			return;
	}
}

static void
on_tcp(struct dns_fwd *f, struct fwd_query *q, uint64_t now_ms)
{
	if (q->st == Q_TCP_CONNECT) {
		int e = 0;
		socklen_t elen = sizeof(e);

		if (getsockopt(q->fd, SOL_SOCKET, SO_ERROR, &e, &elen) < 0)
			e = errno;
		if (e != 0) {
			io_error(f, q, e, now_ms);
			return;
		}
		q->st = Q_TCP_WRITE;
	}
	if (q->st == Q_TCP_WRITE) {
		int r;

		while (q->woff < q->len + 2) {
			ssize_t n = send(q->fd, q->msg + q->woff,
			    q->len + 2 - q->woff, MSG_NOSIGNAL);

			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
				return;
			if (n < 0) {
				io_error(f, q, errno, now_ms);
				return;
			}
			q->woff += (size_t)n;
		}
		r = loop_fd_mod(q->w, EPOLLIN);
		if (r < 0) {
			io_error(f, q, -r, now_ms);
			return;
		}
		f->st.up[q->cur].sent++;
		q->st = Q_TCP_READ;
		return;
	}
	for (;;) {
		uint8_t *dst;
		size_t want;
		ssize_t n;

		if (q->rgot < 2) {
			dst = q->rhdr + q->rgot;
			want = 2 - q->rgot;
		} else {
			dst = q->rbuf + (q->rgot - 2);
			want = q->rneed - (q->rgot - 2);
		}
		n = recv(q->fd, dst, want, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {
			io_error(f, q, n == 0 ? ECONNRESET : errno, now_ms);
			return;
		}
		q->rgot += (size_t)n;
		if (q->rgot == 2) {
			q->rneed = (size_t)q->rhdr[0] << 8 | q->rhdr[1];
			if (q->rneed < DNS_HEADER_LEN) {
				f->st.up[q->cur].errors++;
				next_upstream(f, q, "bad tcp framing", now_ms);
				return;
			}
			/* At most 65535 bytes: the prefix's limit. */
			q->rbuf = malloc(q->rneed);
			if (q->rbuf == NULL) {
				io_error(f, q, ENOMEM, now_ms);
				return;
			}
		}
		if (q->rgot >= 2 && q->rgot - 2 == q->rneed) {
			if (handle_reply(f, q, q->rbuf, q->rneed, now_ms))
				return;
			/* A mismatch: wait for the next message. */
			free(q->rbuf);
			q->rbuf = NULL;
			q->rgot = q->rneed = 0;
		}
	}
}

int
dns_fwd_start(struct dns_fwd *f, const struct dns_upstreams *ups,
    const uint8_t *query, size_t len, bool tcp_client, uint64_t now_ms,
    dns_fwd_done_cb cb, void *arg)
{
	struct dns_verdict *v = NULL;
	struct fwd_query *q = NULL;
	int r;

	if (f == NULL || ups == NULL || query == NULL || cb == NULL ||
	    len < DNS_HEADER_LEN || len > DNS_TCP_MAX)
		return -EINVAL;
	if (f->st.inflight >= f->max_inflight) {
		f->st.refused_cap++;
		return -EBUSY;
	}
	/* The verdict is 2 KiB of names: not on the stack of a callback. */
	v = calloc(1, sizeof(*v));
	q = calloc(1, sizeof(*q) + len + 2);
	if (v == NULL || q == NULL) {
		r = -ENOMEM;
		goto out;
	}
	if (dns_parse_query(query, len, v) != DNS_PARSE_OK ||
	    !v->has_question) {
		r = -EINVAL;
		goto out;
	}
	q->fd = -1;
	q->f = f;
	q->cb = cb;
	q->arg = arg;
	q->n = ups->n < DNS_UPSTREAMS_MAX ? ups->n : DNS_UPSTREAMS_MAX;
	memcpy(q->srv, ups->srv, q->n * sizeof(q->srv[0]));
	q->try_ms = dns_upstreams_try_ms(ups, f->budget_ms);
	q->end = now_ms + f->budget_ms;
	q->tcp = tcp_client;
	q->client_id = v->id;
	q->qtype = v->qtype;
	q->qclass = v->qclass;
	q->qname_len = v->qname_len;
	memcpy(q->qname, v->qname_wire, v->qname_len);
	q->reason = "no upstream";
	q->len = len;
	q->msg[0] = (uint8_t)(len >> 8);
	q->msg[1] = (uint8_t)len;
	memcpy(q->msg + 2, query, len);
	q->next = f->head;
	if (f->head)
		f->head->prev = q;
	f->head = q;
	f->st.inflight++;
	f->st.started++;
	if (q->n == 0)
		finish(f, q, -ENOENT, NULL, 0, "no upstream");
	else
		start_try(f, q, now_ms);
	q = NULL;
	r = 0;
out:
	free(v);
	free(q);
	return r;
}

unsigned int
dns_fwd_cancel_owner(struct dns_fwd *f, const void *owner)
{
	struct fwd_query *q, *next;
	unsigned int n = 0;

	if (f == NULL)
		return 0;
	for (q = f->head; q; q = next) {
		next = q->next;
		if (q->arg != owner)
			continue;
		query_unlink(f, q);
		close_try(q);
		free(q);
		f->st.cancelled++;
		n++;
	}
	return n;
}

uint64_t
dns_fwd_next_deadline(const struct dns_fwd *f)
{
	uint64_t d = UINT64_MAX;

	for (const struct fwd_query *q = f->head; q; q = q->next)
		if (q->try_deadline < d)
			d = q->try_deadline;
	return d;
}

/* The current try's socket is ready.  One handle per query, freed with
 * its socket, so the loop never calls this for a finished query. */
static void
on_query(void *arg, uint32_t events)
{
	struct fwd_query *q = arg;

	(void)events;	/* errors show in recv() and SO_ERROR */
	if (q->st == Q_UDP)
		on_udp(q->f, q, loop_now_ms());
	else
		on_tcp(q->f, q, loop_now_ms());
}

/* The earliest try deadline has come: every try past its own moves on,
 * then the timer holds the next one. */
static void
on_timer(void *arg)
{
	struct dns_fwd *f = arg;
	uint64_t now_ms = loop_now_ms();
	struct fwd_query *q, *next;

	f->armed = UINT64_MAX;
	/* Callbacks only add queries at the head: next stays valid. */
	for (q = f->head; q; q = next) {
		next = q->next;
		if (q->try_deadline > now_ms)
			continue;
		f->st.up[q->cur].timeouts++;
		next_upstream(f, q, "timeout", now_ms);
	}
	arm_timer(f, dns_fwd_next_deadline(f));
}

void
dns_fwd_stats(const struct dns_fwd *f, struct dns_fwd_stats *ret)
{
	*ret = f->st;
}

struct dns_fwd *
dns_fwd_free(struct dns_fwd *f)
{
	if (f == NULL)
		return NULL;
	while (f->head)
		finish(f, f->head, -ECANCELED, NULL, 0, "shutdown");
	loop_timer_free(f->timer);
	if (f->home_fd >= 0)
		close(f->home_fd);
	free(f);
	return NULL;
}
