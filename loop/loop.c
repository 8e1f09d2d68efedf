/*
 * The event loop: one epoll set for the fds, a binary min-heap for the
 * timers.  Handles freed while their loop is dispatching are only marked
 * dead and go on a list freed at the end of the turn, so an event already
 * fetched for them is dropped instead of touching freed memory.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "loop/loop.h"

#define EVENTS_PER_TURN	64

struct loop_fd {
	struct loop	*l;
	int		fd;
	loop_fd_fn	*fn;
	void		*arg;
	bool		dead;
	struct loop_fd	*next_dead;
};

struct loop_timer {
	struct loop	*l;
	loop_timer_fn	*fn;
	void		*arg;
	uint64_t	at;		/* loop_now_ms() deadline */
	size_t		idx;		/* in the heap; SIZE_MAX: disarmed */
	bool		dead;
	struct loop_timer *next_dead;
};

struct loop {
	int		ep;
	bool		stop;
	int		rc;
	int		depth;		/* > 0 while dispatching */
	struct loop_timer **heap;
	size_t		nheap, capheap;
	struct loop_fd	*dead_fds;
	struct loop_timer *dead_timers;
	size_t		ntimers;	/* live timers: the heap has room */
};

uint64_t
loop_now_ms(void)
{
	struct timespec ts;

	(void) clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

struct loop *
loop_new(char *err, size_t errlen)
{
	struct loop *l = calloc(1, sizeof(*l));

	if (l == NULL) {
		(void) snprintf(err, errlen, "event loop: out of memory");
		return NULL;
	}
	l->ep = epoll_create1(EPOLL_CLOEXEC);
	if (l->ep < 0) {
		(void) snprintf(err, errlen, "event loop: epoll_create1: %s",
		    strerror(errno));
		free(l);
		return NULL;
	}
	return l;
}

/* Heap helpers: heap[0] is the earliest deadline. */
static void
heap_set(struct loop *l, size_t i, struct loop_timer *t)
{
	l->heap[i] = t;
	t->idx = i;
}

static void
heap_up(struct loop *l, size_t i)
{
	struct loop_timer *t = l->heap[i];

	while (i > 0) {
		size_t p = (i - 1) / 2;

		if (l->heap[p]->at <= t->at)
			break;
		heap_set(l, i, l->heap[p]);
		i = p;
	}
	heap_set(l, i, t);
}

static void
heap_down(struct loop *l, size_t i)
{
	struct loop_timer *t = l->heap[i];

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= l->nheap)
			break;
		if (c + 1 < l->nheap && l->heap[c + 1]->at < l->heap[c]->at)
			c++;
		if (t->at <= l->heap[c]->at)
			break;
		heap_set(l, i, l->heap[c]);
		i = c;
	}
	heap_set(l, i, t);
}

static void
heap_remove(struct loop *l, struct loop_timer *t)
{
	size_t i = t->idx;
	struct loop_timer *last;

	if (i == SIZE_MAX)
		return;
	t->idx = SIZE_MAX;
	last = l->heap[--l->nheap];
	if (last == t)
		return;
	heap_set(l, i, last);
	heap_up(l, i);
	heap_down(l, last->idx);
}

struct loop_timer *
loop_timer_new(struct loop *l, loop_timer_fn *fn, void *arg)
{
	struct loop_timer *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return NULL;
	*t = (struct loop_timer){ .l = l, .fn = fn, .arg = arg,
	    .idx = SIZE_MAX };
	/* Room for every timer up front: arming never allocates, so it
	 * cannot fail. */
	if (l->ntimers == l->capheap) {
		size_t cap = l->capheap ? l->capheap * 2 : 16;
		struct loop_timer **h = realloc(l->heap, cap * sizeof(*h));

		if (h == NULL) {
			free(t);
			return NULL;
		}
		l->heap = h;
		l->capheap = cap;
	}
	l->ntimers++;
	return t;
}

void
loop_timer_arm_at(struct loop_timer *t, uint64_t at_ms)
{
	struct loop *l = t->l;

	if (t->dead)
		return;
	if (t->idx != SIZE_MAX) {
		t->at = at_ms;
		heap_up(l, t->idx);
		heap_down(l, t->idx);
		return;
	}
	t->at = at_ms;
	heap_set(l, l->nheap++, t);
	heap_up(l, t->idx);
}

void
loop_timer_arm(struct loop_timer *t, uint64_t ms)
{
	loop_timer_arm_at(t, loop_now_ms() + ms);
}

void
loop_timer_disarm(struct loop_timer *t)
{
	if (t != NULL)
		heap_remove(t->l, t);
}

int
loop_timer_armed(const struct loop_timer *t)
{
	return t != NULL && t->idx != SIZE_MAX;
}

void
loop_timer_free(struct loop_timer *t)
{
	if (t == NULL || t->dead)
		return;
	heap_remove(t->l, t);
	t->l->ntimers--;
	if (t->l->depth > 0) {
		t->dead = true;
		t->next_dead = t->l->dead_timers;
		t->l->dead_timers = t;
		return;
	}
	free(t);
}

struct loop_fd *
loop_fd_add(struct loop *l, int fd, uint32_t events, loop_fd_fn *fn,
    void *arg)
{
	struct epoll_event ev = { .events = events };
	struct loop_fd *w;

	w = calloc(1, sizeof(*w));
	if (w == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	*w = (struct loop_fd){ .l = l, .fd = fd, .fn = fn, .arg = arg };
	ev.data.ptr = w;
	if (epoll_ctl(l->ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
		int e = errno;

		free(w);
		errno = e;
		return NULL;
	}
	return w;
}

int
loop_fd_mod(struct loop_fd *w, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = w };

	if (epoll_ctl(w->l->ep, EPOLL_CTL_MOD, w->fd, &ev) < 0)
		return -errno;
	return 0;
}

void
loop_fd_free(struct loop_fd *w)
{
	struct loop *l;

	if (w == NULL || w->dead)
		return;
	l = w->l;
	/* The fd may already be closed by a careless caller; the handle
	 * goes either way. */
	(void) epoll_ctl(l->ep, EPOLL_CTL_DEL, w->fd, NULL);
	if (l->depth > 0) {
		w->dead = true;
		w->next_dead = l->dead_fds;
		l->dead_fds = w;
		return;
	}
	free(w);
}

static void
reap(struct loop *l)
{
	while (l->dead_fds != NULL) {
		struct loop_fd *w = l->dead_fds;

		l->dead_fds = w->next_dead;
		free(w);
	}
	while (l->dead_timers != NULL) {
		struct loop_timer *t = l->dead_timers;

		l->dead_timers = t->next_dead;
		free(t);
	}
}

static int
next_timeout(const struct loop *l, int cap_ms)
{
	uint64_t now, at;

	if (l->nheap == 0)
		return cap_ms;
	at = l->heap[0]->at;
	now = loop_now_ms();
	if (at <= now)
		return 0;
	if (cap_ms >= 0 && at - now > (uint64_t)cap_ms)
		return cap_ms;
	return at - now > (uint64_t)(60 * 60 * 1000) ? 60 * 60 * 1000 :
	    (int)(at - now);
}

static void
run_timers(struct loop *l)
{
	uint64_t now = loop_now_ms();

	/* A timer re-armed for "now" from its own callback waits for the
	 * next turn, so one busy timer cannot starve the fds. */
	size_t budget = l->nheap;

	while (budget-- > 0 && l->nheap > 0 && l->heap[0]->at <= now &&
	    !l->stop) {
		struct loop_timer *t = l->heap[0];

		heap_remove(l, t);
		t->fn(t->arg);
	}
}

int
loop_once(struct loop *l, int timeout_ms)
{
	struct epoll_event evs[EVENTS_PER_TURN];
	int n, r = 0;

	n = epoll_wait(l->ep, evs, EVENTS_PER_TURN,
	    next_timeout(l, timeout_ms));
	if (n < 0) {
		if (errno != EINTR)
			r = -errno;
		n = 0;
	}
	l->depth++;
	for (int i = 0; i < n && !l->stop; i++) {
		struct loop_fd *w = evs[i].data.ptr;

		if (!w->dead)
			w->fn(w->arg, evs[i].events);
	}
	if (!l->stop)
		run_timers(l);
	l->depth--;
	if (l->depth == 0)
		reap(l);
	return r;
}

int
loop_run(struct loop *l)
{
	l->stop = false;
	while (!l->stop) {
		int r = loop_once(l, -1);

		if (r < 0)
			return r;
	}
	return l->rc;
}

void
loop_stop(struct loop *l, int rc)
{
	l->stop = true;
	l->rc = rc;
}

void
loop_free(struct loop *l)
{
	if (l == NULL)
		return;
	reap(l);
	free(l->heap);
	(void) close(l->ep);
	free(l);
}
