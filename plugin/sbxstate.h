/*
 * The lifecycle of one sandbox's DNS responder, without I/O: what the
 * daemon should do when something happens to the sandbox.  Each event
 * returns a set of actions (SBS_A_*) that plugin/sandbox.c carries out;
 * starting a responder is reported back with sbs_served() or
 * sbs_serve_failed().
 *
 *   PENDING --namespace seen--> (serve) --ok--> SERVING
 *                                       \-fails--> FAILED --retry due,
 *                                                   namespace seen--> (serve)
 *   SERVING --namespace vanished--> GONE (until the sandbox leaves)
 *   SERVING --forwarding switched on or off, or reconfigured--> PENDING
 *   any     --leave or shutdown--> stopped, address removed
 *
 * The namespace is looked at (statfs, by the caller) only when
 * sbs_check_due() says so: pending sandboxes whenever the mount table or
 * the joins change, every sandbox but gone ones once a second, failed
 * ones only once their retry is due.
 */
#ifndef CBRIDGE_SBXSTATE_H
#define CBRIDGE_SBXSTATE_H

#include <stdbool.h>
#include <stdint.h>

#define SBS_RETRY_MS	5000	/* a sandbox whose set-up failed */
#define SBS_ERR_MAX	256

enum sbs_state { SBS_PENDING, SBS_SERVING, SBS_FAILED, SBS_GONE };

/* What the caller does, in this order: disarm, unserve, serve, arm, then
 * the log lines. */
enum sbs_action {
	SBS_A_DISARM_RETRY	= 1u << 0,
	SBS_A_UNSERVE		= 1u << 1,	/* close the responder */
	SBS_A_REMOVE_ADDR	= 1u << 2,	/* and take the address off lo
						 * (with SBS_A_UNSERVE) */
	SBS_A_SERVE		= 1u << 3,	/* start it, then report */
	SBS_A_ARM_RETRY		= 1u << 4,	/* a timer at retry_at */
	SBS_A_LOG_FAILED	= 1u << 5,	/* a new or different err */
	SBS_A_LOG_SERVING	= 1u << 6,
	SBS_A_LOG_GONE		= 1u << 7,
};

/* What woke the caller, for sbs_check_due(). */
enum sbs_why {
	SBS_WHY_MOUNTS,	/* the mount table or the joins changed */
	SBS_WHY_TICK,	/* the once-a-second check */
	SBS_WHY_RETRY,	/* this sandbox's retry timer */
};

struct sbs {
	enum sbs_state	state;
	bool		internal_only;	/* no forwarding */
	bool		left;		/* after leave or shutdown */
	uint64_t	retry_at;	/* FAILED: when to try again */
	char		err[SBS_ERR_MAX];	/* FAILED: why; else "" */
};

/* A new sandbox: pending. */
void		sbs_init(struct sbs *sb, bool internal_only);

/* The sandbox is still wanted (the joins changed): whether it forwards. */
unsigned int	sbs_want(struct sbs *sb, bool internal_only);
/* What the responder was started with changed (the container's own
 * upstreams): a serving responder restarts; the address stays. */
unsigned int	sbs_reconfigure(struct sbs *sb);
/* Its last endpoint left, or the daemon stops.  Final: later events
 * return nothing. */
unsigned int	sbs_leave(struct sbs *sb);
unsigned int	sbs_shutdown(struct sbs *sb);

bool		sbs_check_due(const struct sbs *sb, enum sbs_why why,
		    uint64_t now_ms);
/* What the caller saw at the sandbox's path: a network namespace or not. */
unsigned int	sbs_ns(struct sbs *sb, bool present, uint64_t now_ms);

/* Outcome of SBS_A_SERVE.  The caller has undone any partial set-up on
 * failure; msg is copied (cut to SBS_ERR_MAX - 1 bytes). */
unsigned int	sbs_served(struct sbs *sb);
unsigned int	sbs_serve_failed(struct sbs *sb, const char *msg,
		    uint64_t now_ms);

/* "pending", "serving", "failed", "gone": the stats' State. */
const char	*sbs_state_str(enum sbs_state st);

#endif
