/*
 * The firewall worker: the one thread that applies cbridge's rules.
 * Everything that can wait on another program (libiptc and libnftables
 * commits, the xtables lock that iptables, dockerd or firewalld may hold
 * for seconds, conntrack flushes) runs here, so the daemon's loop never
 * waits on it.  The loop submits jobs, each carrying its own copy of the
 * desired model; the worker runs them one at a time in submission order
 * and reports each result back on the loop, in the same order, through an
 * eventfd registered with the loop.
 *
 * With no loop (fw_worker_new's loop NULL: unit tests, tools) the worker
 * is inline: fw_worker_submit runs the job and calls done before it
 * returns, so callers written for the threaded worker also run
 * synchronously.
 *
 * Every function is called on the loop's thread.
 */
#ifndef CBRIDGE_FIREWALL_WORKER_H
#define CBRIDGE_FIREWALL_WORKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "firewall/firewall.h"

struct loop;
struct fw_worker;

/* One UDP host port whose conntrack entries are flushed after the rules
 * are in place. */
struct fw_ct_port {
	int		family;
	unsigned short	port;
};

/* What one job does, in this order: FORWARD policies, the rules, the
 * conntrack flushes.  Everything is copied by fw_worker_submit. */
struct fw_job {
	bool			drop4, drop6;	/* FORWARD policy DROP */
	bool			sync;		/* rules to match model */
	struct fw_model		model;
	const struct fw_ct_port	*ct;
	size_t			nct;
};

struct fw_result {
	int		r;		/* 0 or -errno of the first failure */
	char		err[512];	/* a message for the user when r < 0 */
	uint64_t	usec;		/* time the job took on the worker */
};

/* Called on the loop once the job ran.  res is valid during the call. */
typedef void	fw_job_done_fn(void *arg, const struct fw_result *res);

/* fw is borrowed and, with a loop, used only by the worker thread from
 * then on.  NULL with a message in err. */
struct fw_worker *fw_worker_new(struct fw *fw, struct loop *loop, char *err,
		    size_t errlen);
/* Runs every job already submitted to the end and delivers its result
 * (results may submit more; those run too), then stops the thread.  NULL
 * is a no-op. */
void		fw_worker_free(struct fw_worker *w);

/* Queues a copy of job.  0, or -ENOMEM (done is then not called). */
int		fw_worker_submit(struct fw_worker *w, const struct fw_job *job,
		    fw_job_done_fn *done, void *arg);
/* Jobs submitted whose result has not been delivered yet. */
size_t		fw_worker_pending(const struct fw_worker *w);
/* Whether results come later (a thread) or inside submit (inline). */
bool		fw_worker_threaded(const struct fw_worker *w);

#endif
