/*
 * The responders' I/O on the daemon's loop (see sandbox.h): namespaces,
 * the address on lo, the responders and forwarders, zones, the Engine API
 * client's updates and the failure log.  When to serve is sbxstate.c's.
 */
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
#include "loop/loop.h"
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
};

struct sbx {
	const struct settings *set;
	struct lnk	*lnk;
	const struct drv *d;
	struct loop	*loop;
	int		mounts_fd;
	struct loop_fd	*mounts_w, *eng_w;
	struct loop_timer *tick;
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

/* ---- failed forwards ---- */

static void
on_fail(void *arg, const struct dns_upstream *up, int status,
    const char *reason, const uint8_t *q, size_t qlen)
{
	struct sandbox *sb = arg;
	struct sbx *s = sb->owner;
	char ups[DNS_UPSTREAM_STRLEN] = "no upstream";
	const char *from = s->set->dns_from_sandbox ? "sandbox" : "host";
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
		log_warnx("dns: sandbox %s: forwarding %s (type %u) from the %s "
		    "namespace to %s failed: %s (%lu more since the last "
		    "warning; each is logged at debug level)", sb->key,
		    scratch_v.qname, scratch_v.qtype, from, ups, reason,
		    s->fail_quiet);
		s->fail_log_at = now;
		s->fail_quiet = 0;
		return;
	}
	s->fail_quiet++;
	log_debug("dns: sandbox %s: forwarding %s (type %u) from the %s "
	    "namespace to %s failed: %s", sb->key, scratch_v.qname,
	    scratch_v.qtype, from, ups, reason);
}

/* ---- sandboxes ---- */

static void
unserve(struct sandbox *sb, bool remove_addr)
{
	char e[256];
	int fd;

	sb->srv = dns_srv_free(sb->srv);
	sb->fwd = dns_fwd_free(sb->fwd);
	if (sb->nsfd >= 0) {
		(void)close(sb->nsfd);
		sb->nsfd = -1;
	}
	if (!remove_addr || !ns_ready(sb->path))
		return;
	fd = open(sb->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	if (dns_addr_set(sb->owner, fd, false, e, sizeof(e)) < 0)
		log_debug("dns: sandbox %s: %s", sb->key, e);
	(void)close(fd);
}

/* Starts the responder, all or nothing: NULL, or why not (in e). */
static const char *
start(struct sbx *s, struct sandbox *sb, char *e, size_t elen)
{
	struct dns_srv_params sp = { 0 };
	struct dns_fwd_params fp = { 0 };
	int fd;

	fd = open(sb->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		(void)snprintf(e, elen, "cannot open the namespace %.150s: %s",
		    sb->path, strerror(errno));
		return e;
	}
	if (dns_addr_set(s, fd, true, e, elen) < 0) {
		(void)close(fd);
		return e;
	}
	sb->nsfd = fd;
	sp.fwd = sb->st.internal_only ? NULL : s->fwd;
	if (!sb->st.internal_only && s->set->dns_from_sandbox) {
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
	sp.ups = &s->ups.cur;
	sp.cache = s->cache;
	sp.on_fail = on_fail;
	sp.fail_arg = sb;
	if ((sb->srv = dns_srv_new(&sp, e, elen)) == NULL)
		goto fail;
	if (sb->fwd == NULL) {
		(void)close(sb->nsfd);
		sb->nsfd = -1;
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
	if (a & SBS_A_LOG_FAILED)
		log_warnx("dns: sandbox %s: %s; retrying every %d s", sb->key,
		    sb->st.err, SBS_RETRY_MS / 1000);
	if (a & SBS_A_LOG_SERVING) {
		s->served_total++;
		log_debug("dns: sandbox %s: serving on %s port 53%s", sb->key,
		    s->set->dns_address, sb->st.internal_only ?
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
			apply(s, sb, sbs_ns(&sb->st, ns_ready(sb->path), now));
	}
}

static void
on_retry(void *arg)
{
	struct sandbox *sb = arg;
	uint64_t now = loop_now_ms();

	if (sbs_check_due(&sb->st, SBS_WHY_RETRY, now))
		apply(sb->owner, sb, sbs_ns(&sb->st, ns_ready(sb->path), now));
}

/* Carries out a is sbs_leave()'s or sbs_shutdown()'s actions. */
static struct sandbox *
sandbox_free(struct sbx *s, struct sandbox *sb, unsigned int a)
{
	if (sb == NULL)
		return NULL;
	apply(s, sb, a);
	loop_timer_free(sb->retry);
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
	if ((sb->retry = loop_timer_new(s->loop, on_retry, sb)) == NULL) {
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
	bool changed = false;

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
		changed |= names_apply(s->names, u);
	}
	eng_update_free(list);
	if (changed)
		refresh(s);
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
	log_info("dns: responders listen on %s port 53 in each sandbox, "
	    "forwarding from the %s namespace", set->dns_address,
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
	};

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
