/*
 * A firewall job: everything one change of cbridge's networks asks of the
 * host's packet filter, as a value that can cross to the worker thread
 * (loop/work.h) and run there: FORWARD policies first, then the rules,
 * then the conntrack flushes of newly published UDP ports.  The loop
 * builds it from the driver's state; the worker runs it and nothing
 * else touches the backend meanwhile.
 */
#ifndef CBRIDGE_FIREWALL_JOB_H
#define CBRIDGE_FIREWALL_JOB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "firewall/firewall.h"

/* One UDP host port whose conntrack entries go once its DNAT exists. */
struct fw_ct_port {
	int		family;
	unsigned short	port;
};

struct fw_job {
	bool			drop4, drop6;	/* FORWARD policy DROP */
	bool			sync;		/* rules to match model */
	struct fw_model		model;
	const struct fw_ct_port	*ct;
	size_t			nct;
};

struct fw_result {
	int		r;		/* 0 or -errno of the first failure */
	char		err[512];	/* for the user when r < 0 */
	char		warn[256];	/* a conntrack flush failed: logged,
					 * not a failure of the job */
	uint64_t	usec;		/* how long the job took */
};

/* A deep copy of src in *ret, owned by the caller (fw_job_done).  0 or
 * -ENOMEM. */
int	fw_job_copy(const struct fw_job *src, struct fw_job *ret);
/* Frees what fw_job_copy allocated. */
void	fw_job_done(struct fw_job *j);
/* Runs j against the rule backend fw, and the conntrack flushes through
 * hp (NULL: none); stops at the first failure (a failed flush only
 * leaves a warning: the port is published all the same).  May block
 * (the xtables lock): call it on the worker. */
void	fw_job_run(struct fw *fw, struct fw_hostports *hp,
	    const struct fw_job *j, struct fw_result *ret);

#endif
