#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <jansson.h>

#include "dns/answer.h"
#include "dns/conf.h"
#include "dns/forward.h"
#include "dns/server.h"
#include "plugin/engine.h"
#include "plugin/log.h"
#include "plugin/names.h"
#include "plugin/sandbox.h"

#define NSFS_MAGIC_NUM		0x6e736673
#define RETRY_MS		5000	/* a sandbox whose set-up failed */
#define FAIL_LOG_QUIET_MS	60000	/* between warnings of failures */
#define CACHE_BYTES_PER_ENTRY	1024

enum sb_state { SB_PENDING, SB_SERVING, SB_FAILED, SB_GONE };

static const char *const state_names[] = {
	[SB_PENDING] = "pending", [SB_SERVING] = "serving",
	[SB_FAILED] = "failed", [SB_GONE] = "gone",
};

enum watch_kind { W_SRV, W_UDP, W_SB_FWD, W_FWD, W_ENG };

struct watch {
	enum watch_kind	kind;
	void		*p;
};

struct zref {
	char		*sig;
	struct dns_zone	*z;
};

struct sandbox {
	char		key[ST_SANDBOX_MAX + 1];	/* as dockerd gave it */
	char		path[PATH_MAX];		/* where it is opened */
	char		*sig;		/* owned copy of the plan's */
	bool		internal_only;
	size_t		neps;
	enum sb_state	state;
	struct dns_srv	*srv;
	struct dns_fwd	*fwd;		/* DNS_FORWARD_FROM=sandbox */
	int		nsfd;		/* open while fwd dials from it */
	struct watch	wsrv, wudp, wfwd;
	const struct dns_zone *zone;	/* borrowed from sbx's zones */
	char		err[256];
	uint64_t	failed_at;
	bool		keep;
	struct sbx	*owner;
};

struct file_id {
	bool		exists;
	dev_t		dev;
	ino_t		ino;
	off_t		size;
	struct timespec	mtime;
};

struct sbx {
	const struct settings *set;
	struct lnk	*lnk;
	const struct drv *d;
	int		ep, mounts_fd;
	struct dns_fwd	*fwd;
	struct dns_cache *cache;
	struct eng	*eng;
	struct names	*names;
	struct watch	wfwd, weng;
	struct dns_upstreams ups;
	bool		ups_loaded;
	struct file_id	rc_id, sd_id;
	char		ups_warned[256];
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

static void
addr_prefix(const struct sockaddr_storage *ss, struct prefix *p)
{
	memset(p, 0, sizeof(*p));
	p->family = ss->ss_family;
	if (p->family == AF_INET) {
		memcpy(p->addr, &((const struct sockaddr_in *)ss)->sin_addr, 4);
		p->plen = 32;
	} else {
		memcpy(p->addr, &((const struct sockaddr_in6 *)ss)->sin6_addr,
		    16);
		p->plen = 128;
	}
}

static int
watch_add(struct sbx *s, int fd, uint32_t events, struct watch *w)
{
	struct epoll_event ev = { .events = events, .data.ptr = w };

	return epoll_ctl(s->ep, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

static void
watch_del(struct sbx *s, int fd)
{
	if (fd >= 0)
		(void)epoll_ctl(s->ep, EPOLL_CTL_DEL, fd, NULL);
}

/* ---- upstreams ---- */

static void
file_id_get(const char *path, struct file_id *ret)
{
	struct stat st;

	memset(ret, 0, sizeof(*ret));
	if (stat(path, &st) < 0)
		return;
	ret->exists = true;
	ret->dev = st.st_dev;
	ret->ino = st.st_ino;
	ret->size = st.st_size;
	ret->mtime = st.st_mtim;
}

static bool
file_id_eq(const struct file_id *a, const struct file_id *b)
{
	return a->exists == b->exists && a->dev == b->dev &&
	    a->ino == b->ino && a->size == b->size &&
	    a->mtime.tv_sec == b->mtime.tv_sec &&
	    a->mtime.tv_nsec == b->mtime.tv_nsec;
}

static const char *
ups_text(const struct dns_upstreams *u, char *buf, size_t len)
{
	char one[DNS_UPSTREAM_STRLEN];
	size_t k = 0;

	buf[0] = '\0';
	for (unsigned int i = 0; i < u->n && k < len; i++) {
		int w = snprintf(buf + k, len - k, "%s%s", i ? ", " : "",
		    dns_upstream_format(&u->srv[i], one, sizeof(one)));

		if (w < 0)
			break;
		k += (size_t)w;
	}
	if (u->n == 0)
		(void)snprintf(buf, len, "none");
	return buf;
}

/*
 * The file to read for path: in a managed plugin the host's /etc is under
 * HOST_ROOT, and an absolute link there (/etc/resolv.conf ->
 * /run/systemd/resolve/stub-resolv.conf) means the host's path, so it is
 * followed under HOST_ROOT too.  One level: enough for resolv.conf.
 */
static const char *
host_path(const struct sbx *s, const char *path, char *buf, size_t len)
{
	char target[PATH_MAX];
	ssize_t n;
	int w;

	if (s->set->host_root[0] == '\0' ||
	    (n = readlink(path, target, sizeof(target) - 1)) <= 0)
		return path;
	target[n] = '\0';
	if (target[0] != '/')
		return path;
	w = snprintf(buf, len, "%s%s", s->set->host_root, target);
	return w < 0 || (size_t)w >= len ? path : buf;
}

static void
load_upstreams(struct sbx *s)
{
	const struct settings *set = s->set;
	struct dns_upstreams u;
	char e[256] = "", list[4 * DNS_UPSTREAM_STRLEN];
	char rc[PATH_MAX], sd[PATH_MAX];
	int r;

	if (set->dns_upstreams != NULL)
		r = dns_upstreams_from_env(set->dns_upstreams, &u, e,
		    sizeof(e));
	else
		r = dns_upstreams_load(host_path(s, set->resolv_conf, rc,
		    sizeof(rc)), host_path(s, set->systemd_resolv_conf, sd,
		    sizeof(sd)), &u, e, sizeof(e));
	if (r < 0) {
		if (strcmp(e, s->ups_warned) != 0) {
			log_warnx("dns: cannot read upstream servers: %s "
			    "(keeping %s)", e, ups_text(&s->ups, list,
			    sizeof(list)));
			(void)snprintf(s->ups_warned, sizeof(s->ups_warned),
			    "%s", e);
		}
		return;
	}
	s->ups_warned[0] = '\0';
	if (dns_upstreams_drop(&u, &set->dns_addr) > 0)
		log_warnx("dns: the responder's own address %s is listed as "
		    "an upstream; it is left out", set->dns_address);
	if (s->ups_loaded && dns_upstreams_equal(&u, &s->ups))
		return;
	s->ups = u;
	s->ups_loaded = true;
	dns_cache_flush(s->cache);
	for (size_t i = 0; i < s->nsbs; i++)
		if (s->sbs[i]->srv != NULL)
			dns_srv_set_upstreams(s->sbs[i]->srv, &s->ups);
	if (u.n == 0)
		log_warnx("dns: no upstream servers (%s%s): only container "
		    "names are answered, other names get SERVFAIL",
		    set->dns_upstreams ? "DNS_UPSTREAMS" : set->resolv_conf,
		    u.missing ? " does not exist" : " lists none");
	else
		log_info("dns: upstream servers %s (from %s%s)",
		    ups_text(&u, list, sizeof(list)),
		    set->dns_upstreams ? "DNS_UPSTREAMS" :
		    u.from_systemd ? set->systemd_resolv_conf :
		    set->resolv_conf, u.warnings ? ", some lines skipped" : "");
	if (u.warnings)
		log_warnx("dns: %s: %u line(s) skipped, first: %s",
		    set->resolv_conf, u.warnings, u.warning);
}

static void
check_upstreams(struct sbx *s)
{
	struct file_id rc, sd;

	char p1[PATH_MAX], p2[PATH_MAX];

	if (s->set->dns_upstreams != NULL)
		return;
	file_id_get(host_path(s, s->set->resolv_conf, p1, sizeof(p1)), &rc);
	file_id_get(host_path(s, s->set->systemd_resolv_conf, p2,
	    sizeof(p2)), &sd);
	if (file_id_eq(&rc, &s->rc_id) && file_id_eq(&sd, &s->sd_id))
		return;
	s->rc_id = rc;
	s->sd_id = sd;
	load_upstreams(s);
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
	uint64_t now = dns_fwd_now_ms();
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
set_failed(struct sandbox *sb, const char *msg)
{
	if (sb->state != SB_FAILED || strcmp(msg, sb->err) != 0)
		log_warnx("dns: sandbox %s: %s; retrying every %d s", sb->key,
		    msg, RETRY_MS / 1000);
	(void)snprintf(sb->err, sizeof(sb->err), "%s", msg);
	sb->state = SB_FAILED;
	sb->failed_at = dns_fwd_now_ms();
}

static void
unserve(struct sbx *s, struct sandbox *sb, bool remove_addr)
{
	struct prefix p;
	char e[256];
	int fd;

	if (sb->srv != NULL) {
		watch_del(s, dns_srv_udp_fd(sb->srv));
		watch_del(s, dns_srv_epoll_fd(sb->srv));
		sb->srv = dns_srv_free(sb->srv);
	}
	if (sb->fwd != NULL) {
		watch_del(s, dns_fwd_epoll_fd(sb->fwd));
		sb->fwd = dns_fwd_free(sb->fwd);
	}
	if (sb->nsfd >= 0) {
		(void)close(sb->nsfd);
		sb->nsfd = -1;
	}
	if (!remove_addr || !ns_ready(sb->path))
		return;
	fd = open(sb->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	addr_prefix(&s->set->dns_addr, &p);
	if (s->lnk->ops->sandbox_addr(s->lnk, fd, &p, false, e,
	    sizeof(e)) < 0)
		log_debug("dns: sandbox %s: %s", sb->key, e);
	(void)close(fd);
}

static void
serve(struct sbx *s, struct sandbox *sb)
{
	struct dns_srv_params sp = { 0 };
	struct dns_fwd_params fp = { 0 };
	struct prefix p;
	char e[256];
	int fd;

	fd = open(sb->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		(void)snprintf(e, sizeof(e), "cannot open the namespace %.150s: "
		    "%s", sb->path, strerror(errno));
		set_failed(sb, e);
		return;
	}
	addr_prefix(&s->set->dns_addr, &p);
	if (s->lnk->ops->sandbox_addr(s->lnk, fd, &p, true, e,
	    sizeof(e)) < 0) {
		(void)close(fd);
		set_failed(sb, e);
		return;
	}
	sb->nsfd = fd;
	sp.fwd = sb->internal_only ? NULL : s->fwd;
	if (!sb->internal_only && s->set->dns_from_sandbox) {
		fp.netns_fd = fd;
		if ((sb->fwd = dns_fwd_new(&fp, e, sizeof(e))) == NULL ||
		    watch_add(s, dns_fwd_epoll_fd(sb->fwd), EPOLLIN,
		    &sb->wfwd) < 0)
			goto fail;
		sp.fwd = sb->fwd;
	}
	sp.netns_fd = fd;
	sp.addr = s->set->dns_addr;
	sp.zone = sb->zone ? sb->zone : s->empty;
	sp.ups = &s->ups;
	sp.cache = s->cache;
	sp.on_fail = on_fail;
	sp.fail_arg = sb;
	/* Queries wake this loop's own epoll set directly. */
	sp.external_udp = true;
	if ((sb->srv = dns_srv_new(&sp, e, sizeof(e))) == NULL)
		goto fail;
	if (watch_add(s, dns_srv_epoll_fd(sb->srv), EPOLLIN, &sb->wsrv) < 0 ||
	    watch_add(s, dns_srv_udp_fd(sb->srv), EPOLLIN, &sb->wudp) < 0) {
		(void)snprintf(e, sizeof(e), "epoll: %s", strerror(errno));
		goto fail;
	}
	if (sb->fwd == NULL) {
		(void)close(sb->nsfd);
		sb->nsfd = -1;
	}
	sb->state = SB_SERVING;
	sb->err[0] = '\0';
	s->served_total++;
	log_debug("dns: sandbox %s: serving on %s port 53%s", sb->key,
	    s->set->dns_address, sb->internal_only ?
	    " (internal networks only: no forwarding)" : "");
	return;
fail:
	unserve(s, sb, true);
	set_failed(sb, e);
}

static void
try_serve(struct sbx *s, struct sandbox *sb, uint64_t now)
{
	if (sb->state == SB_PENDING ||
	    (sb->state == SB_FAILED && now - sb->failed_at >= RETRY_MS)) {
		if (ns_ready(sb->path))
			serve(s, sb);
	} else if (sb->state == SB_SERVING && !ns_ready(sb->path)) {
		/* The container died without a Leave. */
		log_debug("dns: sandbox %s: its namespace is gone", sb->key);
		unserve(s, sb, false);
		sb->state = SB_GONE;
	}
}

static void
check_pending(struct sbx *s)
{
	uint64_t now = dns_fwd_now_ms();

	for (size_t i = 0; i < s->nsbs; i++)
		if (s->sbs[i]->state == SB_PENDING)
			try_serve(s, s->sbs[i], now);
}

static struct sandbox *
sandbox_free(struct sbx *s, struct sandbox *sb)
{
	if (sb == NULL)
		return NULL;
	unserve(s, sb, true);
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
	memcpy(sb->key, w->key, strlen(w->key) + 1);
	if (names_sandbox_path(sb->key, s->set->exec_root,
	    s->set->exec_root_mount, sb->path, sizeof(sb->path)) < 0)
		memcpy(sb->path, sb->key, strlen(sb->key) + 1);
	sb->nsfd = -1;
	sb->state = SB_PENDING;
	sb->owner = s;
	sb->wsrv = (struct watch){ W_SRV, sb };
	sb->wudp = (struct watch){ W_UDP, sb };
	sb->wfwd = (struct watch){ W_SB_FWD, sb };
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

	if (names_plan(s->d, &w, &nw) < 0) {
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
		if (sb->internal_only != w[i].internal_only) {
			/* Forwarding on or off: a new responder. */
			sb->internal_only = w[i].internal_only;
			if (sb->state == SB_SERVING) {
				unserve(s, sb, false);
				sb->state = SB_PENDING;
			}
		}
		z = zone_for(s, &zs, &nz, &w[i]);
		sb->zone = z ? z : s->empty;
		if (sb->srv != NULL)
			dns_srv_set_zone(sb->srv, sb->zone);
	}
	for (size_t i = k = 0; i < s->nsbs; i++) {
		if (s->sbs[i]->keep)
			s->sbs[k++] = s->sbs[i];
		else {
			log_debug("dns: sandbox %s: no cbridge endpoint left",
			    s->sbs[i]->key);
			sandbox_free(s, s->sbs[i]);
		}
	}
	s->nsbs = k;
	zones_free(s->zones, s->nzones);
	s->zones = zs;
	s->nzones = nz;
	names_plan_free(w, nw);
	check_pending(s);
}

/* ---- the loop ---- */

static void
engine_updates(struct sbx *s)
{
	struct eng_update *u, *list = eng_take(s->eng);
	bool changed = false;

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

void
sbx_run(struct sbx *s)
{
	struct epoll_event evs[32];
	uint64_t now = dns_fwd_now_ms();
	int n;

	n = epoll_wait(s->ep, evs, 32, 0);
	for (int i = 0; i < n; i++) {
		struct watch *w = evs[i].data.ptr;
		struct sandbox *sb = w->p;

		switch (w->kind) {
		case W_SRV:
			if (sb->srv != NULL)
				(void)dns_srv_run(sb->srv, now);
			break;
		case W_UDP:
			if (sb->srv != NULL)
				dns_srv_run_udp(sb->srv, now);
			break;
		case W_SB_FWD:
			if (sb->fwd != NULL)
				(void)dns_fwd_run(sb->fwd, now);
			break;
		case W_FWD:
			(void)dns_fwd_run(s->fwd, now);
			break;
		case W_ENG:
			engine_updates(s);
			break;
		}
	}
}

void
sbx_sync(struct sbx *s)
{
	refresh(s);
}

void
sbx_tick(struct sbx *s)
{
	uint64_t now = dns_fwd_now_ms();

	check_upstreams(s);
	for (size_t i = 0; i < s->nsbs; i++)
		try_serve(s, s->sbs[i], now);
}

int
sbx_fd(const struct sbx *s)
{
	return s->ep;
}

int
sbx_mounts_fd(const struct sbx *s)
{
	return s->mounts_fd;
}

void
sbx_mounts_changed(struct sbx *s)
{
	check_pending(s);
}

struct sbx *
sbx_new(const struct settings *set, struct lnk *lnk, const struct drv *d,
    char *err, size_t errlen)
{
	struct dns_fwd_params fp = { .netns_fd = -1 };
	unsigned char key[16];
	struct sbx *s;

	if ((s = calloc(1, sizeof(*s))) == NULL) {
		(void)snprintf(err, errlen, "dns: out of memory");
		return NULL;
	}
	s->set = set;
	s->lnk = lnk;
	s->d = d;
	s->mounts_fd = -1;
	s->wfwd = (struct watch){ W_FWD, NULL };
	s->weng = (struct watch){ W_ENG, NULL };
	if ((s->ep = epoll_create1(EPOLL_CLOEXEC)) < 0) {
		(void)snprintf(err, errlen, "dns: epoll: %s", strerror(errno));
		goto fail;
	}
	if ((s->names = names_new()) == NULL ||
	    (s->empty = dns_zone_new()) == NULL) {
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
	if (!set->dns_from_sandbox) {
		if ((s->fwd = dns_fwd_new(&fp, err, errlen)) == NULL)
			goto fail;
		if (watch_add(s, dns_fwd_epoll_fd(s->fwd), EPOLLIN,
		    &s->wfwd) < 0) {
			(void)snprintf(err, errlen, "dns: epoll: %s",
			    strerror(errno));
			goto fail;
		}
	}
	/* The mount table changes when dockerd mounts a sandbox's
	 * namespace: that is the moment to look at pending sandboxes.
	 * Without it the tick still finds them.  Not in s->ep: polling
	 * mountinfo consumes its event, so the daemon's own epoll set, which
	 * polls s->ep, would eat it before sbx_run() saw it. */
	s->mounts_fd = open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC);
	if (s->mounts_fd < 0)
		log_warnx("dns: cannot watch the mount table (%s): new "
		    "sandboxes are found within a second instead",
		    strerror(errno));
	if (set->docker_socket[0] != '\0') {
		if ((s->eng = eng_new(set->docker_socket, err, errlen)) ==
		    NULL)
			goto fail;
		if (watch_add(s, eng_fd(s->eng), EPOLLIN, &s->weng) < 0) {
			(void)snprintf(err, errlen, "dns: epoll: %s",
			    strerror(errno));
			goto fail;
		}
	} else
		log_info("dns: DOCKER_SOCKET is off: container names are not "
		    "served, only forwarded queries");
	check_upstreams(s);
	if (!s->ups_loaded)
		load_upstreams(s);
	refresh(s);
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
		sandbox_free(s, s->sbs[i]);
	free(s->sbs);
	zones_free(s->zones, s->nzones);
	eng_free(s->eng);
	dns_fwd_free(s->fwd);
	dns_cache_free(s->cache);
	dns_zone_free(s->empty);
	names_free(s->names);
	if (s->mounts_fd >= 0)
		(void)close(s->mounts_fd);
	if (s->ep >= 0)
		(void)close(s->ep);
	free(s);
	return NULL;
}

/* ---- counters ---- */

static json_t *
ups_json(const struct dns_upstreams *u, const struct dns_fwd *f)
{
	struct dns_fwd_stats st = { 0 };
	char buf[DNS_UPSTREAM_STRLEN];
	json_t *a = json_array();

	if (f != NULL)
		dns_fwd_stats(f, &st);
	for (unsigned int i = 0; a != NULL && i < u->n; i++) {
		const struct dns_fwd_upstream_stats *x = &st.up[i];

		(void)json_array_append_new(a, json_pack("{s:s, s:I, s:I, s:I, "
		    "s:I, s:I, s:I, s:I}",
		    "Address", dns_upstream_format(&u->srv[i], buf, sizeof(buf)),
		    "Sent", (json_int_t)x->sent,
		    "Replies", (json_int_t)x->replies,
		    "Timeouts", (json_int_t)x->timeouts,
		    "Errors", (json_int_t)x->errors,
		    "Failures", (json_int_t)x->failures,
		    "Mismatched", (json_int_t)x->mismatched,
		    "TcRetries", (json_int_t)x->tc_retries));
	}
	return a;
}

static json_t *
sandbox_json(const struct sbx *s, const struct sandbox *sb)
{
	struct dns_srv_stats st = { 0 };
	char buf[DNS_UPSTREAM_STRLEN];
	json_t *o, *per;

	if (sb->srv != NULL)
		dns_srv_stats(sb->srv, &st);
	per = json_array();
	for (unsigned int i = 0; per != NULL && i < s->ups.n; i++)
		(void)json_array_append_new(per, json_pack("{s:s, s:I, s:I}",
		    "Address", dns_upstream_format(&s->ups.srv[i], buf,
		    sizeof(buf)),
		    "Timeouts", (json_int_t)st.up_timeouts[i],
		    "Failures", (json_int_t)st.up_failures[i]));
	o = json_pack("{s:s, s:s, s:s, s:I, s:b, s:I, s:I, s:I, s:I, s:I, "
	    "s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o}",
	    "SandboxKey", sb->key,
	    "State", state_names[sb->state],
	    "Error", sb->err,
	    "Endpoints", (json_int_t)sb->neps,
	    "Forwarding", !sb->internal_only,
	    "QueriesUdp", (json_int_t)st.queries_udp,
	    "QueriesTcp", (json_int_t)st.queries_tcp,
	    "Local", (json_int_t)st.local,
	    "Forwarded", (json_int_t)st.forwarded,
	    "CacheHits", (json_int_t)st.cache_hits,
	    "UpstreamFailures", (json_int_t)st.upstream_failures,
	    "ServFail", (json_int_t)st.servfail,
	    "Truncations", (json_int_t)st.truncations,
	    "Drops", (json_int_t)st.drops,
	    "TcpTimeouts", (json_int_t)st.timeouts,
	    "TcpRefused", (json_int_t)st.tcp_refused,
	    "TcpOpen", (json_int_t)st.tcp_open,
	    "Inflight", (json_int_t)st.inflight,
	    "Upstreams", per ? per : json_array());
	if (o != NULL && sb->fwd != NULL)
		(void)json_object_set_new(o, "SandboxUpstreams",
		    ups_json(&s->ups, sb->fwd));
	return o;
}

json_t *
sbx_stats_json(const struct sbx *s)
{
	struct dns_cache_stats cs = { 0 };
	struct dns_fwd_stats fs = { 0 };
	json_t *doc, *sbs;

	if (s->cache != NULL)
		dns_cache_stats(s->cache, &cs);
	if (s->fwd != NULL)
		dns_fwd_stats(s->fwd, &fs);
	sbs = json_array();
	for (size_t i = 0; sbs != NULL && i < s->nsbs; i++)
		(void)json_array_append_new(sbs, sandbox_json(s, s->sbs[i]));
	doc = json_pack("{s:s, s:s, s:s, s:o, s:{s:b, s:s, s:s, s:I}, "
	    "s:{s:I, s:I, s:I, s:I}, s:{s:I, s:I, s:I, s:I, s:I}, s:o}",
	    "Address", s->set->dns_address,
	    "ForwardFrom", s->set->dns_from_sandbox ? "sandbox" : "host",
	    "UpstreamsFrom", s->set->dns_upstreams ? "DNS_UPSTREAMS" :
	    s->ups.from_systemd ? s->set->systemd_resolv_conf :
	    s->set->resolv_conf,
	    "Upstreams", ups_json(&s->ups, s->fwd),
	    "Engine", "Enabled", s->eng != NULL,
	    "Socket", s->set->docker_socket,
	    "Error", s->eng_err,
	    "Containers", (json_int_t)names_container_count(s->names),
	    "Cache", "Entries", (json_int_t)cs.entries,
	    "Hits", (json_int_t)cs.hits,
	    "Misses", (json_int_t)cs.misses,
	    "Bytes", (json_int_t)cs.bytes,
	    "Forwarder", "Started", (json_int_t)fs.started,
	    "Answered", (json_int_t)fs.answered,
	    "Failed", (json_int_t)fs.failed,
	    "RefusedCap", (json_int_t)fs.refused_cap,
	    "Inflight", (json_int_t)fs.inflight,
	    "Sandboxes", sbs ? sbs : json_array());
	return doc;
}
