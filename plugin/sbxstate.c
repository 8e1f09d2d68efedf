/*
 * The lifecycle of a sandbox's responder: state changes and the actions
 * they call for, nothing else (see sbxstate.h).
 */
#include <stdio.h>
#include <string.h>

#include "plugin/sbxstate.h"

static const char *const state_names[] = {
	[SBS_PENDING] = "pending", [SBS_SERVING] = "serving",
	[SBS_FAILED] = "failed", [SBS_GONE] = "gone",
};

const char *
sbs_state_str(enum sbs_state st)
{
	if ((unsigned int)st >= sizeof(state_names) / sizeof(state_names[0]))
		return "?";
	return state_names[st];
}

void
sbs_init(struct sbs *sb, bool internal_only)
{
	memset(sb, 0, sizeof(*sb));
	sb->state = SBS_PENDING;
	sb->internal_only = internal_only;
}

unsigned int
sbs_want(struct sbs *sb, bool internal_only)
{
	if (sb->left || sb->internal_only == internal_only)
		return 0;
	sb->internal_only = internal_only;
	if (sb->state != SBS_SERVING)
		return 0;
	/* Forwarding on or off needs a new responder; the address stays. */
	sb->state = SBS_PENDING;
	return SBS_A_UNSERVE;
}

unsigned int
sbs_reconfigure(struct sbs *sb)
{
	if (sb->left || sb->state != SBS_SERVING)
		return 0;
	sb->state = SBS_PENDING;
	return SBS_A_UNSERVE;
}

unsigned int
sbs_leave(struct sbs *sb)
{
	if (sb->left)
		return 0;
	sb->left = true;
	/* Also when not serving: an address left behind (a set-up cut
	 * short, an earlier run of the daemon) goes too. */
	return SBS_A_DISARM_RETRY | SBS_A_UNSERVE | SBS_A_REMOVE_ADDR;
}

unsigned int
sbs_shutdown(struct sbs *sb)
{
	return sbs_leave(sb);
}

static bool
retry_due(const struct sbs *sb, uint64_t now_ms)
{
	return sb->state == SBS_FAILED && now_ms >= sb->retry_at;
}

bool
sbs_check_due(const struct sbs *sb, enum sbs_why why, uint64_t now_ms)
{
	if (sb->left)
		return false;
	switch (why) {
	case SBS_WHY_MOUNTS:
		return sb->state == SBS_PENDING;
	case SBS_WHY_TICK:
		return sb->state == SBS_PENDING || sb->state == SBS_SERVING ||
		    retry_due(sb, now_ms);
	case SBS_WHY_RETRY:
		return retry_due(sb, now_ms);
	}
	return false;
}

unsigned int
sbs_ns(struct sbs *sb, bool present, uint64_t now_ms)
{
	if (sb->left)
		return 0;
	switch (sb->state) {
	case SBS_PENDING:
		return present ? SBS_A_SERVE : 0;
	case SBS_FAILED:
		return present && retry_due(sb, now_ms) ? SBS_A_SERVE : 0;
	case SBS_SERVING:
		if (present)
			return 0;
		/* The container died without a Leave: nothing left to take
		 * the address off. */
		sb->state = SBS_GONE;
		return SBS_A_UNSERVE | SBS_A_LOG_GONE;
	case SBS_GONE:
		return 0;
	}
	return 0;
}

unsigned int
sbs_served(struct sbs *sb)
{
	if (sb->left ||
	    (sb->state != SBS_PENDING && sb->state != SBS_FAILED))
		return 0;
	sb->state = SBS_SERVING;
	sb->err[0] = '\0';
	sb->retry_at = 0;
	return SBS_A_DISARM_RETRY | SBS_A_LOG_SERVING;
}

unsigned int
sbs_serve_failed(struct sbs *sb, const char *msg, uint64_t now_ms)
{
	char cut[SBS_ERR_MAX];
	unsigned int a = SBS_A_ARM_RETRY;

	if (sb->left ||
	    (sb->state != SBS_PENDING && sb->state != SBS_FAILED))
		return 0;
	(void)snprintf(cut, sizeof(cut), "%s", msg);
	/* The same failure again is not worth another warning. */
	if (sb->state != SBS_FAILED || strcmp(cut, sb->err) != 0)
		a |= SBS_A_LOG_FAILED;
	memcpy(sb->err, cut, sizeof(cut));
	sb->state = SBS_FAILED;
	sb->retry_at = now_ms + SBS_RETRY_MS;
	return a;
}
