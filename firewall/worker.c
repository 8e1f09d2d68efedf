/*
 * The firewall worker: a job queue in, a result queue out, one thread
 * between them.  The thread owns nothing but the job it runs; the queues
 * are guarded by one mutex.  Results wake the loop through an eventfd.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "firewall/common.h"
#include "firewall/worker.h"
#include "loop/loop.h"

struct job {
	struct fw_job	j;		/* with owned copies of the arrays */
	fw_job_done_fn	*done;
	void		*arg;
	struct fw_result res;
	struct job	*next;
};

struct jobq {
	struct job	*head, **tail;
};

struct fw_worker {
	struct fw	*fw;		/* borrowed; the thread's once started */
	struct loop	*loop;		/* NULL: inline */
	struct loop_fd	*lfd;
	int		efd;
	pthread_t	thread;
	bool		started;
	pthread_mutex_t	mu;
	pthread_cond_t	cv;		/* todo gained a job, or stop */
	pthread_cond_t	cv_done;	/* done gained a result */
	struct jobq	todo, done;
	bool		stop;
	size_t		pending;	/* loop side: submitted, not delivered */
};

static void
q_init(struct jobq *q)
{
	q->head = NULL;
	q->tail = &q->head;
}

static void
q_push(struct jobq *q, struct job *j)
{
	j->next = NULL;
	*q->tail = j;
	q->tail = &j->next;
}

static struct job *
q_take_all(struct jobq *q)
{
	struct job *j = q->head;

	q_init(q);
	return j;
}

static struct job *
q_pop(struct jobq *q)
{
	struct job *j = q->head;

	if (j != NULL) {
		q->head = j->next;
		if (q->head == NULL)
			q->tail = &q->head;
	}
	return j;
}

static void
job_free(struct job *j)
{
	if (j == NULL)
		return;
	free((void *)j->j.model.nets);
	free((void *)j->j.model.eps);
	free((void *)j->j.model.ports);
	free((void *)j->j.ct);
	free(j);
}

static int
dup_array(const void *v, size_t n, size_t sz, void **ret)
{
	*ret = NULL;
	if (n == 0)
		return 0;
	if ((*ret = malloc(n * sz)) == NULL)
		return -ENOMEM;
	memcpy(*ret, v, n * sz);
	return 0;
}

static struct job *
job_new(const struct fw_job *src, fw_job_done_fn *done, void *arg)
{
	struct job *j = calloc(1, sizeof(*j));
	void *nets, *eps, *ports, *ct;

	if (j == NULL)
		return NULL;
	j->j = *src;
	j->j.model.nets = NULL;
	j->j.model.eps = NULL;
	j->j.model.ports = NULL;
	j->j.ct = NULL;
	j->done = done;
	j->arg = arg;
	if (dup_array(src->model.nets, src->model.nnets,
	    sizeof(*src->model.nets), &nets) < 0)
		goto fail;
	j->j.model.nets = nets;
	if (dup_array(src->model.eps, src->model.neps,
	    sizeof(*src->model.eps), &eps) < 0)
		goto fail;
	j->j.model.eps = eps;
	if (dup_array(src->model.ports, src->model.nports,
	    sizeof(*src->model.ports), &ports) < 0)
		goto fail;
	j->j.model.ports = ports;
	if (dup_array(src->ct, src->nct, sizeof(*src->ct), &ct) < 0)
		goto fail;
	j->j.ct = ct;
	return j;
fail:
	job_free(j);
	return NULL;
}

static uint64_t
now_usec(void)
{
	struct timespec ts;

	(void) clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* Runs one job against the backend: this is what may wait. */
static void
run_job(struct fw *fw, struct job *jb)
{
	const struct fw_job *j = &jb->j;
	struct fw_result *res = &jb->res;
	uint64_t t0 = now_usec();
	int r = 0;

	res->err[0] = '\0';
	if (j->drop4)
		r = fw->ops->forward_drop(fw, AF_INET, res->err,
		    sizeof(res->err));
	if (r == 0 && j->drop6)
		r = fw->ops->forward_drop(fw, AF_INET6, res->err,
		    sizeof(res->err));
	if (r == 0 && j->sync)
		r = fw->ops->sync(fw, &j->model, res->err, sizeof(res->err));
	/* Conntrack entries go only once their DNAT rules exist. */
	for (size_t i = 0; r == 0 && i < j->nct; i++)
		r = fw->ops->conntrack_flush_udp(fw, j->ct[i].family,
		    &j->ct[i].port, 1, res->err, sizeof(res->err));
	res->r = r;
	res->usec = now_usec() - t0;
}

static void *
worker_main(void *arg)
{
	struct fw_worker *w = arg;
	const uint64_t one = 1;

	(void) pthread_mutex_lock(&w->mu);
	for (;;) {
		struct job *j;

		while (w->todo.head == NULL && !w->stop)
			(void) pthread_cond_wait(&w->cv, &w->mu);
		if ((j = q_pop(&w->todo)) == NULL)
			break;		/* stop, and nothing left */
		(void) pthread_mutex_unlock(&w->mu);
		run_job(w->fw, j);
		(void) pthread_mutex_lock(&w->mu);
		q_push(&w->done, j);
		(void) pthread_cond_signal(&w->cv_done);
		/* A full counter only means the loop already has a wake-up
		 * waiting. */
		(void) !write(w->efd, &one, sizeof(one));
	}
	(void) pthread_mutex_unlock(&w->mu);
	return NULL;
}

/* Hands finished jobs to their callbacks, in submission order. */
static void
deliver(struct fw_worker *w)
{
	struct job *list, *next;

	(void) pthread_mutex_lock(&w->mu);
	list = q_take_all(&w->done);
	(void) pthread_mutex_unlock(&w->mu);
	for (; list != NULL; list = next) {
		next = list->next;
		w->pending--;
		list->done(list->arg, &list->res);
		job_free(list);
	}
}

static void
on_results(void *arg, uint32_t events)
{
	struct fw_worker *w = arg;
	uint64_t n;

	(void) events;
	(void) !read(w->efd, &n, sizeof(n));
	deliver(w);
}

struct fw_worker *
fw_worker_new(struct fw *fw, struct loop *loop, char *err, size_t errlen)
{
	struct fw_worker *w = calloc(1, sizeof(*w));
	int r;

	if (w == NULL) {
		fw_seterr(err, errlen, "firewall worker: out of memory");
		return NULL;
	}
	w->fw = fw;
	w->loop = loop;
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
		fw_seterr(err, errlen, "firewall worker: eventfd: %s",
		    strerror(errno));
		goto fail;
	}
	w->lfd = loop_fd_add(loop, w->efd, EPOLLIN, on_results, w);
	if (w->lfd == NULL) {
		fw_seterr(err, errlen, "firewall worker: %s",
		    strerror(errno));
		goto fail;
	}
	if ((r = pthread_create(&w->thread, NULL, worker_main, w)) != 0) {
		fw_seterr(err, errlen, "firewall worker: cannot start its "
		    "thread: %s", strerror(r));
		goto fail;
	}
	w->started = true;
	return w;
fail:
	fw_worker_free(w);
	return NULL;
}

void
fw_worker_free(struct fw_worker *w)
{
	if (w == NULL)
		return;
	if (w->started) {
		/* Finish what was asked: a reply dockerd waits for, or a
		 * rollback, must not be lost at shutdown. */
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
fw_worker_submit(struct fw_worker *w, const struct fw_job *job,
    fw_job_done_fn *done, void *arg)
{
	struct job *j;

	if (!w->started) {
		/* Inline: the caller's stack holds the job already. */
		struct job inl = { .j = *job, .done = done, .arg = arg };

		run_job(w->fw, &inl);
		done(arg, &inl.res);
		return 0;
	}
	if ((j = job_new(job, done, arg)) == NULL)
		return -ENOMEM;
	w->pending++;
	(void) pthread_mutex_lock(&w->mu);
	q_push(&w->todo, j);
	(void) pthread_cond_signal(&w->cv);
	(void) pthread_mutex_unlock(&w->mu);
	return 0;
}

size_t
fw_worker_pending(const struct fw_worker *w)
{
	return w->pending;
}

bool
fw_worker_threaded(const struct fw_worker *w)
{
	return w->started;
}
