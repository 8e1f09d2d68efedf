/*
 * The responders' I/O on the daemon's loop (see sandbox.h): namespaces,
 * the address on lo, the responders and forwarders, zones, the Engine API
 * client's updates and the failure log.  When to serve is sbxstate.c's.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <jansson.h>

#include "dns/answer.h"
#include "dns/conf.h"
#include "dns/forward.h"
#include "dns/server.h"
#include "firewall/dnsintercept.h"
#include "lib/fd.h"
#include "loop/loop.h"
#include "loop/work.h"
#include "plugin/dnsstats.h"
#include "plugin/engine.h"
#include "plugin/log.h"
#include "plugin/names.h"
#include "plugin/sandbox.h"
#include "plugin/sbxstate.h"
#include "plugin/upstreams.h"

#define NSFS_MAGIC_NUM		0x6e736673
#define TICK_MS			1000	/* upstreams, namespaces */
#define FAIL_LOG_QUIET_MS	60000	/* between warnings of failures */
#define CACHE_BYTES_PER_ENTRY	1024
#define REDIRECT_RETRY_MS	5000	/* a redirect that failed */
/* dockerd may start its resolver a moment after cbridge's responder:
 * looked for again this often, this many times, then once a second. */
#define FIND_RETRY_MS		100
#define FIND_FAST_TRIES		30
#define CONTAINERS_MAX		8	/* named per sandbox */
#define WHO_MAX			512	/* a sandbox's name in the log */

struct zref {
	char		*sig;
	struct dns_zone	*z;
};

struct sandbox {
	char		key[ST_SANDBOX_MAX + 1];	/* as dockerd gave it */
	char		path[PATH_MAX];		/* where it is opened */
	char		*sig;		/* owned copy of the plan's */
	size_t		neps;
	struct sbs	st;		/* lifecycle */
	struct dns_srv	*srv;
	struct dns_fwd	*fwd;		/* DNS_FORWARD_FROM=sandbox */
	int		nsfd;		/* open while fwd dials from it */
	const struct dns_zone *zone;	/* borrowed from sbx's zones */
	struct loop_timer *retry;
	bool		keep;
	struct sbx	*owner;
	char		nspath[PATH_MAX];	/* where the namespace was seen:
					 * path, or /proc/PID/ns/net */
	uint64_t	gen;		/* bumped at every (un)serve: a worker
					 * reply for an older one is stale */
	/* The container's own --dns servers (n == 0: none), forwarded from
	 * the sandbox; the ones the responder was started with. */
	struct dns_upstreams own, own_started;
	/* DNS_MODE=intercept. */
	bool		redirected;	/* the table is in place */
	bool		applying;	/* an apply in flight */
	uint64_t	apply_at;	/* after a failure: next try */
	char		icpt_err[256];
	bool		finding;	/* a resolver lookup in flight */
	unsigned int	find_tries;	/* since the responder started */
	struct loop_timer *find_t;	/* the next quick look */
	bool		have_resolver;
	struct sockaddr_in resolver;
	char		resolver_str[32];
};

struct sbx {
	const struct settings *set;
	struct lnk	*lnk;
	const struct drv *d;
	struct loop	*loop;
	int		mounts_fd;
	struct loop_fd	*mounts_w, *eng_w;
	struct loop_timer *tick;
	struct loop_work *work;		/* the redirects, off the loop */
	bool		intercept;	/* DNS_MODE=intercept */
	struct in_addr	to;		/* the responder's IPv4 address */
	uint64_t	gens;		/* the last sandbox generation given */
	bool		swept;		/* leftovers of an earlier run looked
					 * for, after the first full sync */
	struct dns_fwd	*fwd;
	struct dns_cache *cache;
	struct eng	*eng;
	struct names	*names;
	struct upstreams ups;
	struct sandbox	**sbs;
	size_t		nsbs;
	struct zref	*zones;
	size_t		nzones;
	struct dns_zone	*empty;
	bool		eng_up;
	char		eng_err[256];
	uint64_t	fail_log_at;
	unsigned long	fail_quiet;	/* failures not warned about */
	unsigned long	served_total;
};

static struct dns_verdict scratch_v;

static bool
ns_ready(const char *key)
{
	struct statfs st;

	return statfs(key, &st) == 0 &&
	    (unsigned long)st.f_type == NSFS_MAGIC_NUM;
}

/* The containers in a sandbox, as the Engine API told. */
static size_t
containers_at(const struct sbx *s, const struct sandbox *sb,
    const struct eng_container **ret)
{
	size_t n = names_containers_at(s->names, sb->key, ret, CONTAINERS_MAX);

	return n < CONTAINERS_MAX ? n : CONTAINERS_MAX;
}

/* For log lines: "container web (sandbox KEY)", "container web, db
 * (sandbox KEY)", or "sandbox KEY" while the names are not known. */
static const char *
who(const struct sbx *s, const struct sandbox *sb, char *buf, size_t len)
{
	const struct eng_container *c[CONTAINERS_MAX];
	size_t n = containers_at(s, sb, c), off = 0;
	int w;

	for (size_t i = 0; i < n && off < len; i++) {
		w = snprintf(buf + off, len - off, "%s%.60s",
		    i ? ", " : "container ", c[i]->name);
		if (w < 0)
			break;
		off += (size_t)w;
	}
	if (off == 0)
		(void)snprintf(buf, len, "sandbox %.200s", sb->key);
	else if (off < len)
		(void)snprintf(buf + off, len - off, " (sandbox %.200s)",
		    sb->key);
	return buf;
}

/*
 * Where the sandbox's namespace can be opened: its SandboxKey (under
 * the exec root's mount in a managed plugin), or, when that mount is
 * not visible here (dockerd's exec root on a private mount), the
 * network namespace of its container's process.  False when neither
 * is there (not yet, or no more).
 */
static bool
ns_locate(const struct sbx *s, struct sandbox *sb)
{
	const struct eng_container *c[CONTAINERS_MAX];
	size_t n;
	char p[PATH_MAX];

	if (ns_ready(sb->path)) {
		(void)snprintf(sb->nspath, sizeof(sb->nspath), "%s", sb->path);
		return true;
	}
	n = containers_at(s, sb, c);
	for (size_t i = 0; i < n; i++) {
		if (c[i]->pid <= 0)
			continue;
		if (snprintf(p, sizeof(p), "%s/%d/ns/net", s->set->proc_root,
		    (int)c[i]->pid) >= (int)sizeof(p) || !ns_ready(p))
			continue;
		memcpy(sb->nspath, p, strlen(p) + 1);
		return true;
	}
	return false;
}

/* The container's own --dns servers, less the responder itself and
 * Docker's 127.0.0.11 (both would be a loop): u->n == 0 when none. */
static void
own_upstreams(const struct sbx *s, const struct sandbox *sb,
    struct dns_upstreams *u)
{
	const struct eng_container *c[CONTAINERS_MAX];
	struct sockaddr_storage docker = { 0 };
	struct sockaddr_in *d4 = (struct sockaddr_in *)&docker;
	char spec[3 * 64], e[256];
	size_t n = containers_at(s, sb, c), off = 0;

	memset(u, 0, sizeof(*u));
	for (size_t i = 0; i < n && off == 0; i++)
		for (size_t j = 0; j < c[i]->ndns; j++)
			off += (size_t)snprintf(spec + off, sizeof(spec) - off,
			    "%s%s", j ? "," : "", c[i]->dns[j]);
	if (off == 0 || off >= sizeof(spec) ||
	    dns_upstreams_from_env(spec, u, e, sizeof(e)) < 0) {
		memset(u, 0, sizeof(*u));
		return;
	}
	d4->sin_family = AF_INET;
	d4->sin_addr.s_addr = htonl(0x7f00000b);	/* 127.0.0.11 */
	(void)dns_upstreams_drop(u, &s->set->dns_addr);
	(void)dns_upstreams_drop(u, &docker);
}

/* Adds or removes the responder's address on the lo of namespace fd. */
static int
dns_addr_set(struct sbx *s, int fd, bool add, char *err, size_t errlen)
{
	const struct sockaddr_storage *ss = &s->set->dns_addr;
	struct prefix p = { .family = ss->ss_family };

	if (p.family == AF_INET) {
		memcpy(p.addr, &((const struct sockaddr_in *)ss)->sin_addr, 4);
		p.plen = 32;
	} else {
		memcpy(p.addr, &((const struct sockaddr_in6 *)ss)->sin6_addr,
		    16);
		p.plen = 128;
	}
	return s->lnk->ops->sandbox_addr(s->lnk, fd, &p, add, err, errlen);
}

/* ---- the redirect of 127.0.0.11, on the worker ---- */

/*
 * Each job carries its own descriptor of the namespace (a dup: the
 * sandbox may close its own meanwhile) and names its sandbox by key and
 * generation, never by pointer: the sandbox may be gone, or serving
 * again, when the reply comes back.  The worker runs jobs in order, so a
 * removal queued after an apply runs after it.
 */
enum icpt_op { ICPT_APPLY, ICPT_REMOVE, ICPT_FIND, ICPT_SWEEP };

struct icpt_job {
	struct sbx	*s;
	enum icpt_op	op;
	char		key[ST_SANDBOX_MAX + 1];
	char		who[128];	/* ICPT_SWEEP: for the log */
	uint64_t	gen;
	int		nsfd;		/* owned */
	struct in_addr	to;
	int		r;
	enum dnsi_state	st;
	struct sockaddr_in udp, tcp;
	char		err[256];
};

static void
icpt_run(void *arg)
{
	struct icpt_job *j = arg;

	switch (j->op) {
	case ICPT_APPLY:
		j->r = dnsi_apply(j->nsfd, &j->to, j->err, sizeof(j->err));
		break;
	case ICPT_REMOVE:
		j->r = dnsi_remove(j->nsfd, j->err, sizeof(j->err));
		break;
	case ICPT_FIND:
		j->r = dnsi_docker_resolver(j->nsfd, &j->udp, &j->tcp, j->err,
		    sizeof(j->err));
		break;
	case ICPT_SWEEP:
		j->r = dnsi_check(j->nsfd, &j->to, &j->st, j->err,
		    sizeof(j->err));
		if (j->r == 0 && j->st != DNSI_ABSENT)
			j->r = dnsi_remove(j->nsfd, j->err, sizeof(j->err));
		break;
	}
}

static struct sandbox *find_sandbox(struct sbx *s, const char *key);

static void
icpt_done(void *arg)
{
	struct icpt_job *j = arg;
	struct sbx *s = j->s;
	struct sandbox *sb = find_sandbox(s, j->key);
	char w[WHO_MAX], a[INET_ADDRSTRLEN];

	if (j->op == ICPT_SWEEP) {
		if (j->r < 0)
			log_debug("dns: looking for a redirect left in %s: %s",
			    j->who, j->err);
		else if (j->st != DNSI_ABSENT)
			log_info("dns: removed the 127.0.0.11 redirect an "
			    "earlier run left in container %s", j->who);
		goto out;
	}
	if (sb == NULL || sb->gen != j->gen)
		goto out;
	if (j->op == ICPT_APPLY)
		sb->applying = false;
	if (j->op == ICPT_FIND)
		sb->finding = false;
	if (sb->srv == NULL)
		goto out;
	switch (j->op) {
	case ICPT_APPLY:
		if (j->r == 0) {
			sb->redirected = true;
			sb->icpt_err[0] = '\0';
			log_debug("dns: %s: 127.0.0.11 port 53 "
			    "redirected to %s", who(s, sb, w,
			    sizeof(w)), s->set->dns_address);
			break;
		}
		if (strcmp(sb->icpt_err, j->err) != 0)
			log_warnx("dns: %s: cannot redirect "
			    "127.0.0.11 to cbridge's responder (dockerd's "
			    "resolver answers it meanwhile): %s; retrying "
			    "every %d s", who(s, sb, w, sizeof(w)), j->err,
			    REDIRECT_RETRY_MS / 1000);
		(void)snprintf(sb->icpt_err, sizeof(sb->icpt_err), "%s",
		    j->err);
		sb->apply_at = loop_now_ms() + REDIRECT_RETRY_MS;
		break;
	case ICPT_FIND:
		if (j->r < 0) {
			if (++sb->find_tries < FIND_FAST_TRIES)
				loop_timer_arm(sb->find_t, FIND_RETRY_MS);
			break;
		}
		sb->have_resolver = true;
		sb->resolver = j->udp;
		(void)inet_ntop(AF_INET, &j->udp.sin_addr, a, sizeof(a));
		(void)snprintf(sb->resolver_str, sizeof(sb->resolver_str),
		    "%s:%u", a, ntohs(j->udp.sin_port));
		dns_srv_set_docker_resolver(sb->srv, &sb->resolver);
		break;
	default:
		break;
	}
out:
	if (j->nsfd >= 0)
		(void)close(j->nsfd);
	free(j);
}

/* Queues op on namespace fd nsfd, which the job then owns (closed here
 * on failure).  key and gen name the sandbox (none for a sweep), who the
 * container for the log.  0, or -errno. */
static int
icpt_queue(struct sbx *s, enum icpt_op op, int nsfd, const char *key,
    uint64_t gen, const char *who)
{
	struct icpt_job *j;

	if ((j = calloc(1, sizeof(*j))) == NULL) {
		(void)close(nsfd);
		return -ENOMEM;
	}
	j->s = s;
	j->op = op;
	j->gen = gen;
	j->to = s->to;
	j->nsfd = nsfd;
	(void)snprintf(j->key, sizeof(j->key), "%s", key);
	(void)snprintf(j->who, sizeof(j->who), "%.120s", who);
	if (loop_work_submit(s->work, icpt_run, icpt_done, j) < 0) {
		(void)close(nsfd);
		free(j);
		return -ENOMEM;
	}
	return 0;
}

/* Queues op on the sandbox's namespace fd (duplicated).  False when it
 * could not (out of memory, no descriptor): the caller's state says
 * nothing happened. */
static bool
icpt_submit(struct sbx *s, struct sandbox *sb, enum icpt_op op, int fd)
{
	int dup, r;

	if (s->work == NULL || fd < 0)
		return false;
	if ((dup = fcntl(fd, F_DUPFD_CLOEXEC, 0)) < 0)
		r = -errno;
	else
		r = icpt_queue(s, op, dup, sb->key, sb->gen, "");
	if (r < 0) {
		log_warnx("dns: sandbox %s: cannot queue a redirect change: %s",
		    sb->key, strerror(-r));
		return false;
	}
	if (op == ICPT_APPLY)
		sb->applying = true;
	if (op == ICPT_FIND)
		sb->finding = true;
	return true;
}

static void
on_find(void *arg)
{
	struct sandbox *sb = arg;

	if (sb->srv != NULL && sb->nsfd >= 0 && !sb->have_resolver &&
	    !sb->finding)
		(void)icpt_submit(sb->owner, sb, ICPT_FIND, sb->nsfd);
}

/* On the tick, for a serving sandbox: a failed redirect is tried again,
 * dockerd's resolver looked for until found (dockerd may start it after
 * cbridge's responder). */
static void
icpt_tick(struct sbx *s, struct sandbox *sb)
{
	if (!s->intercept || sb->srv == NULL || sb->nsfd < 0)
		return;
	if (!sb->redirected && !sb->applying &&
	    loop_now_ms() >= sb->apply_at)
		(void)icpt_submit(s, sb, ICPT_APPLY, sb->nsfd);
	if (!sb->have_resolver && !sb->finding)
		(void)icpt_submit(s, sb, ICPT_FIND, sb->nsfd);
}

/*
 * Leftovers of an earlier run (killed, or a host that rebooted into the
 * same containers is not one: namespaces die with them): a container
 * whose sandbox has no cbridge endpoint any more but still carries the
 * table.  Looked for once, after the first full sync with the Engine API,
 * in every running container that is not one of ours.
 */
/* dockerd's key for --network host: the host's own namespace. */
static bool
host_sandbox(const char *key)
{
	size_t len = strlen(key);

	return len >= 8 && strcmp(key + len - 8, "/default") == 0;
}

static void
sweep(struct sbx *s)
{
	const struct eng_container *c;

	s->swept = true;
	if (!s->intercept || s->work == NULL)
		return;
	for (size_t i = 0; (c = names_container(s->names, i)) != NULL; i++) {
		char p[PATH_MAX];
		int fd;

		/* Only a sandbox's owner: a container in another's network
		 * namespace has no key, one in the host's the key "default". */
		if (!c->running || c->pid <= 0 || c->sandbox_key[0] == '\0' ||
		    host_sandbox(c->sandbox_key) ||
		    find_sandbox(s, c->sandbox_key) != NULL)
			continue;
		if (snprintf(p, sizeof(p), "%s/%d/ns/net", s->set->proc_root,
		    (int)c->pid) >= (int)sizeof(p))
			continue;
		if ((fd = open(p, O_RDONLY | O_CLOEXEC)) < 0)
			continue;
		if (icpt_queue(s, ICPT_SWEEP, fd, "", 0, c->name) < 0)
			break;
	}
}

/* ---- failed forwards ---- */

static void
on_fail(void *arg, const struct dns_upstream *up, int status,
    const char *reason, const uint8_t *q, size_t qlen)
{
	struct sandbox *sb = arg;
	struct sbx *s = sb->owner;
	char ups[DNS_UPSTREAM_STRLEN] = "no upstream", w[128];
	const char *from = s->set->dns_from_sandbox || sb->own.n > 0 ?
	    "sandbox" : "host";
	uint64_t now = loop_now_ms();
	bool warn;

	(void)status;	/* reason says it in words */
	if (up != NULL)
		(void)dns_upstream_format(up, ups, sizeof(ups));
	memset(&scratch_v, 0, sizeof(scratch_v));
	if (dns_parse_query(q, qlen, &scratch_v) != DNS_PARSE_OK ||
	    !scratch_v.has_question)
		(void)snprintf(scratch_v.qname, sizeof(scratch_v.qname), "?");
	warn = s->fail_log_at == 0 || now - s->fail_log_at >= FAIL_LOG_QUIET_MS;
	if (warn) {
		log_warnx("dns: %s: forwarding %s "
		    "(type %u) from the %s namespace to %s failed: %s (%lu "
		    "more since the last warning; each is logged at debug "
		    "level)", who(s, sb, w, sizeof(w)),
		    scratch_v.qname, scratch_v.qtype, from, ups, reason,
		    s->fail_quiet);
		s->fail_log_at = now;
		s->fail_quiet = 0;
		return;
	}
	s->fail_quiet++;
	log_debug("dns: %s: forwarding %s (type %u) "
	    "from the %s namespace to %s failed: %s", who(s, sb, w,
	    sizeof(w)), scratch_v.qname,
	    scratch_v.qtype, from, ups, reason);
}

/* ---- sandboxes ---- */

/*
 * Closes the responder.  With remove_addr (the sandbox leaves, the daemon
 * stops, or the set-up failed) its address goes too, and so does the
 * redirect (queued after any apply still in flight), so that dockerd's
 * resolver answers 127.0.0.11 again.  Without it (a restart with new
 * settings, or a namespace that vanished) both stay.
 */
static void
unserve(struct sandbox *sb, bool remove_addr)
{
	struct sbx *s = sb->owner;
	char e[256];
	int fd = sb->nsfd;

	sb->gen = ++s->gens;
	sb->applying = sb->finding = false;
	loop_timer_disarm(sb->find_t);
	sb->srv = dns_srv_free(sb->srv);
	sb->fwd = dns_fwd_free(sb->fwd);
	sb->have_resolver = false;
	sb->resolver_str[0] = '\0';
	sb->nsfd = -1;
	if (remove_addr && fd < 0 && ns_locate(s, sb))
		fd = open(sb->nspath, O_RDONLY | O_CLOEXEC);
	if (remove_addr && fd >= 0) {
		if (dns_addr_set(s, fd, false, e, sizeof(e)) < 0)
			log_debug("dns: sandbox %s: %s", sb->key, e);
		/* Also when no apply is known to have worked: one may be in
		 * flight, or an earlier run's table may be there. */
		if (s->intercept)
			(void)icpt_submit(s, sb, ICPT_REMOVE, fd);
	}
	if (remove_addr || fd < 0) {
		sb->redirected = false;
		sb->icpt_err[0] = '\0';
		sb->apply_at = 0;
	}
	if (fd >= 0)
		(void)close(fd);
}

/* Starts the responder, all or nothing: NULL, or why not (in e). */
static const char *
start(struct sbx *s, struct sandbox *sb, char *e, size_t elen)
{
	struct dns_srv_params sp = { 0 };
	struct dns_fwd_params fp = { 0 };
	int fd;

	fd = open(sb->nspath, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		(void)snprintf(e, elen, "cannot open the namespace %.150s: %s",
		    sb->nspath, strerror(errno));
		return e;
	}
	/* Kept while it serves: above the numbers select() can take. */
	fd = fd_move_high(fd);
	if (dns_addr_set(s, fd, true, e, elen) < 0) {
		(void)close(fd);
		return e;
	}
	sb->nsfd = fd;
	sb->gen = ++s->gens;
	sb->find_tries = 0;
	sb->own_started = sb->own;
	sp.fwd = sb->st.internal_only ? NULL : s->fwd;
	sp.ups = &s->ups.cur;
	sp.cache = s->cache;
	/* The container's own --dns: as Docker, from its namespace, and not
	 * through the shared cache (other sandboxes ask other servers). */
	if (sb->own.n > 0) {
		sp.ups = &sb->own;
		sp.cache = NULL;
	}
	if (!sb->st.internal_only &&
	    (s->set->dns_from_sandbox || sb->own.n > 0)) {
		fp.loop = s->loop;
		fp.netns_fd = fd;
		if ((sb->fwd = dns_fwd_new(&fp, e, elen)) == NULL)
			goto fail;
		sp.fwd = sb->fwd;
	}
	sp.loop = s->loop;
	sp.netns_fd = fd;
	sp.addr = s->set->dns_addr;
	sp.zone = sb->zone ? sb->zone : s->empty;
	sp.on_fail = on_fail;
	sp.fail_arg = sb;
	if ((sb->srv = dns_srv_new(&sp, e, elen)) == NULL)
		goto fail;
	/* The redirect and the resolver lookup need the namespace later. */
	if (sb->fwd == NULL && !s->intercept) {
		(void)close(sb->nsfd);
		sb->nsfd = -1;
	}
	if (s->intercept) {
		(void)icpt_submit(s, sb, ICPT_APPLY, sb->nsfd);
		(void)icpt_submit(s, sb, ICPT_FIND, sb->nsfd);
	}
	return NULL;
fail:
	unserve(sb, true);
	return e;
}

static void apply(struct sbx *s, struct sandbox *sb, unsigned int a);

static void
serve(struct sbx *s, struct sandbox *sb)
{
	char e[256];

	if (start(s, sb, e, sizeof(e)) == NULL)
		apply(s, sb, sbs_served(&sb->st));
	else
		apply(s, sb, sbs_serve_failed(&sb->st, e, loop_now_ms()));
}

/* Carries out what the lifecycle asked for, in sbxstate.h's order. */
static void
apply(struct sbx *s, struct sandbox *sb, unsigned int a)
{
	if (a & SBS_A_DISARM_RETRY)
		loop_timer_disarm(sb->retry);
	if (a & SBS_A_LOG_GONE)
		log_debug("dns: sandbox %s: its namespace is gone", sb->key);
	if (a & SBS_A_UNSERVE)
		unserve(sb, (a & SBS_A_REMOVE_ADDR) != 0);
	if (a & SBS_A_SERVE)
		serve(s, sb);
	if (a & SBS_A_ARM_RETRY)
		loop_timer_arm_at(sb->retry, sb->st.retry_at);
	if (a & SBS_A_LOG_FAILED) {
		char w[WHO_MAX];

		log_warnx("dns: %s: %s; retrying every "
		    "%d s", who(s, sb, w, sizeof(w)), sb->st.err,
		    SBS_RETRY_MS / 1000);
	}
	if (a & SBS_A_LOG_SERVING) {
		s->served_total++;
		char w[WHO_MAX];

		log_debug("dns: %s: serving on %s port 53%s%s",
		    who(s, sb, w, sizeof(w)), s->set->dns_address,
		    s->intercept ? " and 127.0.0.11 port 53" : "",
		    sb->st.internal_only ?
		    " (internal networks only: no forwarding)" : "");
	}
}

/* Looks at the namespaces the lifecycle wants looked at. */
static void
check_all(struct sbx *s, enum sbs_why why)
{
	uint64_t now = loop_now_ms();

	for (size_t i = 0; i < s->nsbs; i++) {
		struct sandbox *sb = s->sbs[i];

		if (sbs_check_due(&sb->st, why, now))
			apply(s, sb, sbs_ns(&sb->st, ns_locate(s, sb), now));
	}
}

static void
on_retry(void *arg)
{
	struct sandbox *sb = arg;
	uint64_t now = loop_now_ms();

	if (sbs_check_due(&sb->st, SBS_WHY_RETRY, now))
		apply(sb->owner, sb, sbs_ns(&sb->st, ns_locate(sb->owner, sb),
		    now));
}

/* Carries out a is sbs_leave()'s or sbs_shutdown()'s actions. */
static struct sandbox *
sandbox_free(struct sbx *s, struct sandbox *sb, unsigned int a)
{
	if (sb == NULL)
		return NULL;
	apply(s, sb, a);
	loop_timer_free(sb->retry);
	loop_timer_free(sb->find_t);
	free(sb->sig);
	free(sb);
	return NULL;
}

static struct sandbox *
find_sandbox(struct sbx *s, const char *key)
{
	for (size_t i = 0; i < s->nsbs; i++)
		if (strcmp(s->sbs[i]->key, key) == 0)
			return s->sbs[i];
	return NULL;
}

static struct sandbox *
sandbox_new(struct sbx *s, const struct sbx_want *w)
{
	struct sandbox *sb, **p;

	if (strlen(w->key) >= sizeof(sb->key))
		return NULL;
	p = realloc(s->sbs, (s->nsbs + 1) * sizeof(*p));
	if (p == NULL)
		return NULL;
	s->sbs = p;
	if ((sb = calloc(1, sizeof(*sb))) == NULL)
		return NULL;
	if ((sb->retry = loop_timer_new(s->loop, on_retry, sb)) == NULL ||
	    (sb->find_t = loop_timer_new(s->loop, on_find, sb)) == NULL) {
		loop_timer_free(sb->retry);
		free(sb);
		return NULL;
	}
	memcpy(sb->key, w->key, strlen(w->key) + 1);
	if (names_sandbox_path(sb->key, s->set->exec_root,
	    s->set->exec_root_mount, sb->path, sizeof(sb->path)) < 0)
		memcpy(sb->path, sb->key, strlen(sb->key) + 1);
	sb->nsfd = -1;
	sbs_init(&sb->st, w->internal_only);
	sb->owner = s;
	s->sbs[s->nsbs++] = sb;
	return sb;
}

/* ---- zones ---- */

static struct dns_zone *
zone_for(struct sbx *s, struct zref **zs, size_t *nz, const struct sbx_want *w)
{
	struct zref *p;
	struct dns_zone *z;
	char e[256];

	for (size_t i = 0; i < *nz; i++)
		if (strcmp((*zs)[i].sig, w->sig) == 0)
			return (*zs)[i].z;
	z = names_zone(s->names, s->d, w, s->set->dns_ttl, e, sizeof(e));
	if (z == NULL) {
		log_warnx("dns: cannot build the names of a sandbox: %s", e);
		return NULL;
	}
	p = realloc(*zs, (*nz + 1) * sizeof(*p));
	if (p == NULL || (p[*nz].sig = strdup(w->sig)) == NULL) {
		if (p != NULL)
			*zs = p;
		dns_zone_free(z);
		return NULL;
	}
	*zs = p;
	p[*nz].z = z;
	(*nz)++;
	return z;
}

static void
zones_free(struct zref *zs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(zs[i].sig);
		dns_zone_free(zs[i].z);
	}
	free(zs);
}

/*
 * Brings the responders in line with the driver's joins and the names
 * known: new sandboxes become pending, sandboxes without endpoints go,
 * and every sandbox gets a freshly built zone.
 */
static void
refresh(struct sbx *s)
{
	struct sbx_want *w = NULL;
	struct zref *zs = NULL;
	size_t nw = 0, nz = 0, k;

	if (names_plan(s->names, s->d, &w, &nw) < 0) {
		log_warnx("dns: out of memory planning the sandboxes");
		return;
	}
	for (size_t i = 0; i < s->nsbs; i++)
		s->sbs[i]->keep = false;
	for (size_t i = 0; i < nw; i++) {
		struct sandbox *sb = find_sandbox(s, w[i].key);
		const struct dns_zone *z;
		char *sig;

		if (sb == NULL && (sb = sandbox_new(s, &w[i])) == NULL) {
			log_warnx("dns: out of memory for sandbox %s",
			    w[i].key);
			continue;
		}
		sb->keep = true;
		sb->neps = w[i].neps;
		if (sb->sig == NULL || strcmp(sb->sig, w[i].sig) != 0) {
			if ((sig = strdup(w[i].sig)) != NULL) {
				free(sb->sig);
				sb->sig = sig;
			}
		}
		apply(s, sb, sbs_want(&sb->st, w[i].internal_only));
		own_upstreams(s, sb, &sb->own);
		if (!dns_upstreams_equal(&sb->own, &sb->own_started))
			apply(s, sb, sbs_reconfigure(&sb->st));
		z = zone_for(s, &zs, &nz, &w[i]);
		sb->zone = z ? z : s->empty;
		if (sb->srv != NULL)
			dns_srv_set_zone(sb->srv, sb->zone);
	}
	for (size_t i = k = 0; i < s->nsbs; i++) {
		struct sandbox *sb = s->sbs[i];

		if (sb->keep) {
			s->sbs[k++] = sb;
			continue;
		}
		log_debug("dns: sandbox %s: no cbridge endpoint left", sb->key);
		sandbox_free(s, sb, sbs_leave(&sb->st));
	}
	s->nsbs = k;
	zones_free(s->zones, s->nzones);
	s->zones = zs;
	s->nzones = nz;
	names_plan_free(w, nw);
	check_all(s, SBS_WHY_MOUNTS);
}

/* ---- the loop ---- */

/* New upstreams: cached replies came from the old ones. */
static void
upstreams_changed(struct sbx *s)
{
	dns_cache_flush(s->cache);
	for (size_t i = 0; i < s->nsbs; i++)
		if (s->sbs[i]->srv != NULL)
			dns_srv_set_upstreams(s->sbs[i]->srv, &s->ups.cur);
}

static void
on_engine(void *arg, uint32_t events)
{
	struct sbx *s = arg;
	struct eng_update *u, *list = eng_take(s->eng);
	bool changed = false, synced = false;

	(void)events;
	for (u = list; u != NULL; u = u->next) {
		if (u->kind == ENG_DOWN) {
			if (s->eng_up || s->eng_err[0] == '\0')
				log_warnx("dns: %s", u->msg);
			s->eng_up = false;
			(void)snprintf(s->eng_err, sizeof(s->eng_err), "%s",
			    u->msg);
		} else if (u->kind == ENG_SYNC_BEGIN) {
			if (!s->eng_up && s->eng_err[0] != '\0')
				log_info("dns: the Docker Engine API answers "
				    "again at %s", s->set->docker_socket);
			s->eng_up = true;
			s->eng_err[0] = '\0';
		}
		if (u->kind == ENG_SYNC_END)
			synced = true;
		changed |= names_apply(s->names, u);
	}
	eng_update_free(list);
	if (changed)
		refresh(s);
	if (synced && !s->swept)
		sweep(s);
}

/* dockerd mounted (or unmounted) something: maybe a sandbox's namespace. */
static void
on_mounts(void *arg, uint32_t events)
{
	(void)events;
	check_all(arg, SBS_WHY_MOUNTS);
}

static void
on_tick(void *arg)
{
	struct sbx *s = arg;

	loop_timer_arm(s->tick, TICK_MS);
	if (upstreams_check(&s->ups, s->set))
		upstreams_changed(s);
	check_all(s, SBS_WHY_TICK);
	for (size_t i = 0; i < s->nsbs; i++)
		icpt_tick(s, s->sbs[i]);
}

void
sbx_sync(struct sbx *s)
{
	refresh(s);
}

/*
 * The mount table changes when dockerd mounts a sandbox's namespace: that
 * is the moment to look at pending sandboxes.  Without it the tick still
 * finds them.
 */
static void
watch_mounts(struct sbx *s)
{
	int e;

	s->mounts_fd = open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC);
	if (s->mounts_fd >= 0 && (s->mounts_w = loop_fd_add(s->loop,
	    s->mounts_fd, EPOLLPRI, on_mounts, s)) != NULL)
		return;
	e = errno;
	if (s->mounts_fd >= 0)
		(void)close(s->mounts_fd);
	s->mounts_fd = -1;
	log_warnx("dns: cannot watch the mount table (%s): new sandboxes "
	    "are found within a second instead", strerror(e));
}

struct sbx *
sbx_new(const struct settings *set, struct lnk *lnk, const struct drv *d,
    struct loop *loop, char *err, size_t errlen)
{
	struct dns_fwd_params fp = { .loop = loop, .netns_fd = -1 };
	unsigned char key[16];
	struct sbx *s;
	bool changed;

	if ((s = calloc(1, sizeof(*s))) == NULL) {
		(void)snprintf(err, errlen, "dns: out of memory");
		return NULL;
	}
	s->set = set;
	s->lnk = lnk;
	s->d = d;
	s->loop = loop;
	s->mounts_fd = -1;
	s->intercept = set->dns_mode == DNS_MODE_INTERCEPT;
	if (s->intercept) {
		s->to = ((const struct sockaddr_in *)&set->dns_addr)->sin_addr;
		if ((s->work = loop_work_new(loop, err, errlen)) == NULL)
			goto fail;
	}
	if ((s->names = names_new()) == NULL ||
	    (s->empty = dns_zone_new()) == NULL ||
	    (s->tick = loop_timer_new(loop, on_tick, s)) == NULL) {
		(void)snprintf(err, errlen, "dns: out of memory");
		goto fail;
	}
	if (getrandom(key, sizeof(key), 0) != (ssize_t)sizeof(key)) {
		(void)snprintf(err, errlen, "dns: getrandom: %s",
		    strerror(errno));
		goto fail;
	}
	if (set->dns_cache > 0 && (s->cache = dns_cache_new(set->dns_cache,
	    (size_t)set->dns_cache * CACHE_BYTES_PER_ENTRY, key)) == NULL) {
		(void)snprintf(err, errlen, "dns: out of memory");
		goto fail;
	}
	if (!set->dns_from_sandbox &&
	    (s->fwd = dns_fwd_new(&fp, err, errlen)) == NULL)
		goto fail;
	watch_mounts(s);
	if (set->docker_socket[0] != '\0') {
		if ((s->eng = eng_new(set->docker_socket, err, errlen)) ==
		    NULL)
			goto fail;
		if ((s->eng_w = loop_fd_add(loop, eng_fd(s->eng), EPOLLIN,
		    on_engine, s)) == NULL) {
			(void)snprintf(err, errlen, "dns: cannot watch the "
			    "Engine API client's queue: %s", strerror(errno));
			goto fail;
		}
	} else
		log_info("dns: DOCKER_SOCKET is off: container names are not "
		    "served, only forwarded queries");
	changed = upstreams_check(&s->ups, set);
	if (!s->ups.loaded)
		changed |= upstreams_load(&s->ups, set);
	if (changed)
		upstreams_changed(s);
	refresh(s);
	loop_timer_arm(s->tick, TICK_MS);
	log_info("dns: DNS_MODE=%s: responders listen on %s port 53 in each "
	    "sandbox%s, forwarding from the %s namespace",
	    settings_dns_mode_str(set->dns_mode), set->dns_address,
	    s->intercept ? " and answer what containers send to 127.0.0.11" :
	    " (containers reach them with --dns)",
	    set->dns_from_sandbox ? "sandbox's" : "host's");
	return s;
fail:
	sbx_free(s);
	return NULL;
}

struct sbx *
sbx_free(struct sbx *s)
{
	if (s == NULL)
		return NULL;
	for (size_t i = 0; i < s->nsbs; i++)
		sandbox_free(s, s->sbs[i], sbs_shutdown(&s->sbs[i]->st));
	s->nsbs = 0;
	/* The removals just queued run to the end: dockerd's resolver
	 * answers 127.0.0.11 again before the daemon is gone. */
	loop_work_free(s->work);
	free(s->sbs);
	zones_free(s->zones, s->nzones);
	loop_timer_free(s->tick);
	loop_fd_free(s->eng_w);
	eng_free(s->eng);
	dns_fwd_free(s->fwd);
	dns_cache_free(s->cache);
	dns_zone_free(s->empty);
	names_free(s->names);
	loop_fd_free(s->mounts_w);
	if (s->mounts_fd >= 0)
		(void)close(s->mounts_fd);
	free(s);
	return NULL;
}

/* ---- counters ---- */

static json_t *
sandbox_json(const struct sbx *s, const struct sandbox *sb)
{
	struct dns_srv_stats st = { 0 };
	struct dns_fwd_stats fst = { 0 };
	struct dnsstats_sandbox ds = {
		.key = sb->key,
		.state = sbs_state_str(sb->st.state),
		.err = sb->st.err,
		.neps = sb->neps,
		.forwarding = !sb->st.internal_only,
		.own_ups = sb->own_started.n > 0 && sb->srv != NULL ?
		    &sb->own_started : NULL,
		.intercept = s->intercept,
		.redirected = sb->redirected,
		.intercept_err = sb->icpt_err,
		.docker_resolver = sb->resolver_str,
	};
	const struct eng_container *c[CONTAINERS_MAX];
	const char *names[CONTAINERS_MAX];

	ds.ncontainers = containers_at(s, sb, c);
	for (size_t i = 0; i < ds.ncontainers; i++)
		names[i] = c[i]->name;
	ds.containers = names;

	if (sb->srv != NULL) {
		dns_srv_stats(sb->srv, &st);
		ds.srv = &st;
	}
	if (sb->fwd != NULL) {
		dns_fwd_stats(sb->fwd, &fst);
		ds.fwd = &fst;
	}
	return dnsstats_sandbox_json(&ds, &s->ups.cur);
}

json_t *
sbx_stats_json(const struct sbx *s)
{
	struct dns_cache_stats cs = { 0 };
	struct dns_fwd_stats fs = { 0 };
	struct dnsstats st = {
		.mode = settings_dns_mode_str(s->set->dns_mode),
		.address = s->set->dns_address,
		.forward_from = s->set->dns_from_sandbox ? "sandbox" : "host",
		.upstreams_from = upstreams_source(&s->ups, s->set),
		.ups = &s->ups.cur,
		.engine = s->eng != NULL,
		.socket = s->set->docker_socket,
		.engine_err = s->eng_err,
		.containers = names_container_count(s->names),
	};
	json_t *sbs;

	if (s->cache != NULL) {
		dns_cache_stats(s->cache, &cs);
		st.cache = &cs;
	}
	if (s->fwd != NULL) {
		dns_fwd_stats(s->fwd, &fs);
		st.fwd = &fs;
	}
	sbs = json_array();
	for (size_t i = 0; sbs != NULL && i < s->nsbs; i++)
		(void)json_array_append_new(sbs, sandbox_json(s, s->sbs[i]));
	return dnsstats_json(&st, sbs);
}
