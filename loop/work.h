/*
 * Work off the loop: one thread that runs, in submission order, what may
 * wait on another program or on the disk (firewall commits under the
 * xtables lock, conntrack flushes, the state file's fsync), and reports
 * each item back on the loop, in the same order, through an eventfd
 * registered with the loop.  One thread, not a pool: the items change
 * the host in the order the daemon decided them.
 *
 * With no loop (loop_work_new's loop NULL: unit tests, tools) the worker
 * is inline: loop_work_submit runs the item and calls done before it
 * returns, so callers written for the thread also run synchronously.
 *
 * Every function here is called on the loop's thread; run() alone runs
 * on the worker's.
 */
#ifndef CBRIDGE_LOOP_WORK_H
#define CBRIDGE_LOOP_WORK_H

#include <stdbool.h>
#include <stddef.h>

struct loop;
struct loop_work;

/* On the worker thread: may block; must not touch what the loop owns
 * (arg is handed over until done). */
typedef void	loop_work_fn(void *arg);
/* On the loop, once run(arg) returned. */
typedef void	loop_work_done_fn(void *arg);

/* NULL with a message in err. */
struct loop_work *loop_work_new(struct loop *loop, char *err, size_t errlen);
/* Runs every item already submitted to the end and delivers it (a done
 * callback may submit more; those run too), then stops the thread.  A
 * reply dockerd waits for, or a rollback, is not lost at shutdown.  NULL
 * is a no-op. */
void		loop_work_free(struct loop_work *w);

/* Queues run(arg) then done(arg).  0, or -ENOMEM (nothing is called). */
int		loop_work_submit(struct loop_work *w, loop_work_fn *run,
		    loop_work_done_fn *done, void *arg);
/* Items submitted and not delivered yet. */
size_t		loop_work_pending(const struct loop_work *w);
/* Whether items run on a thread (else inside submit). */
bool		loop_work_threaded(const struct loop_work *w);

#endif
