/*
 * The worker: a queue in, a queue out, one thread between them, guarded
 * by one mutex.  The thread touches nothing but the item it runs.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "loop/loop.h"
#include "loop/work.h"

struct item {
	loop_work_fn	*run;
	loop_work_done_fn *done;
	void		*arg;
	struct item	*next;
};

struct itemq {
	struct item	*head, **tail;
};

struct loop_work {
	struct loop_fd	*lfd;
	int		efd;
	pthread_t	thread;
	bool		started;
	pthread_mutex_t	mu;
	pthread_cond_t	cv;		/* todo gained an item, or stop */
	pthread_cond_t	cv_done;	/* done gained an item */
	struct itemq	todo, done;
	bool		stop;
	size_t		pending;	/* loop side: submitted, undelivered */
};

static void
q_init(struct itemq *q)
{
	q->head = NULL;
	q->tail = &q->head;
}

static void
q_push(struct itemq *q, struct item *it)
{
	it->next = NULL;
	*q->tail = it;
	q->tail = &it->next;
}

static struct item *
q_pop(struct itemq *q)
{
	struct item *it = q->head;

	if (it != NULL) {
		q->head = it->next;
		if (q->head == NULL)
			q->tail = &q->head;
	}
	return it;
}

static void *
worker_main(void *arg)
{
	struct loop_work *w = arg;
	const uint64_t one = 1;

	(void) pthread_mutex_lock(&w->mu);
	for (;;) {
		struct item *it;

		while (w->todo.head == NULL && !w->stop)
			(void) pthread_cond_wait(&w->cv, &w->mu);
		if ((it = q_pop(&w->todo)) == NULL)
			break;		/* stopped, and nothing left */
		(void) pthread_mutex_unlock(&w->mu);
		it->run(it->arg);
		(void) pthread_mutex_lock(&w->mu);
		q_push(&w->done, it);
		(void) pthread_cond_signal(&w->cv_done);
		/* A full counter only means a wake-up is already waiting. */
		(void) !write(w->efd, &one, sizeof(one));
	}
	(void) pthread_mutex_unlock(&w->mu);
	return NULL;
}

/* Hands finished items to their callbacks, in submission order. */
static void
deliver(struct loop_work *w)
{
	struct item *list, *next;

	(void) pthread_mutex_lock(&w->mu);
	list = w->done.head;
	q_init(&w->done);
	(void) pthread_mutex_unlock(&w->mu);
	for (; list != NULL; list = next) {
		next = list->next;
		w->pending--;
		list->done(list->arg);
		free(list);
	}
}

static void
on_results(void *arg, uint32_t events)
{
	struct loop_work *w = arg;
	uint64_t n;

	(void) events;
	(void) !read(w->efd, &n, sizeof(n));
	deliver(w);
}

struct loop_work *
loop_work_new(struct loop *loop, char *err, size_t errlen)
{
	struct loop_work *w = calloc(1, sizeof(*w));
	int r;

	if (w == NULL) {
		(void) snprintf(err, errlen, "worker: out of memory");
		return NULL;
	}
	w->efd = -1;
	q_init(&w->todo);
	q_init(&w->done);
	(void) pthread_mutex_init(&w->mu, NULL);
	(void) pthread_cond_init(&w->cv, NULL);
	(void) pthread_cond_init(&w->cv_done, NULL);
	if (loop == NULL)
		return w;
	w->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (w->efd < 0) {
		(void) snprintf(err, errlen, "worker: eventfd: %s",
		    strerror(errno));
		goto fail;
	}
	w->lfd = loop_fd_add(loop, w->efd, EPOLLIN, on_results, w);
	if (w->lfd == NULL) {
		(void) snprintf(err, errlen, "worker: %s", strerror(errno));
		goto fail;
	}
	if ((r = pthread_create(&w->thread, NULL, worker_main, w)) != 0) {
		(void) snprintf(err, errlen, "worker: cannot start its "
		    "thread: %s", strerror(r));
		goto fail;
	}
	w->started = true;
	return w;
fail:
	loop_work_free(w);
	return NULL;
}

void
loop_work_free(struct loop_work *w)
{
	if (w == NULL)
		return;
	if (w->started) {
		while (w->pending > 0) {
			(void) pthread_mutex_lock(&w->mu);
			while (w->done.head == NULL)
				(void) pthread_cond_wait(&w->cv_done, &w->mu);
			(void) pthread_mutex_unlock(&w->mu);
			deliver(w);
		}
		(void) pthread_mutex_lock(&w->mu);
		w->stop = true;
		(void) pthread_cond_signal(&w->cv);
		(void) pthread_mutex_unlock(&w->mu);
		(void) pthread_join(w->thread, NULL);
	}
	loop_fd_free(w->lfd);
	if (w->efd >= 0)
		(void) close(w->efd);
	(void) pthread_cond_destroy(&w->cv);
	(void) pthread_cond_destroy(&w->cv_done);
	(void) pthread_mutex_destroy(&w->mu);
	free(w);
}

int
loop_work_submit(struct loop_work *w, loop_work_fn *run,
    loop_work_done_fn *done, void *arg)
{
	struct item *it;

	if (!w->started) {
		run(arg);
		done(arg);
		return 0;
	}
	if ((it = calloc(1, sizeof(*it))) == NULL)
		return -ENOMEM;
	*it = (struct item){ .run = run, .done = done, .arg = arg };
	w->pending++;
	(void) pthread_mutex_lock(&w->mu);
	q_push(&w->todo, it);
	(void) pthread_cond_signal(&w->cv);
	(void) pthread_mutex_unlock(&w->mu);
	return 0;
}

size_t
loop_work_pending(const struct loop_work *w)
{
	return w->pending;
}

bool
loop_work_threaded(const struct loop_work *w)
{
	return w->started;
}
