/*
 * The upstream servers, loaded from the settings or the host's
 * resolv.conf and watched for changes (see upstreams.h).
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "plugin/log.h"
#include "plugin/upstreams.h"

static void
file_get(const char *path, struct upstreams_file *ret)
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
file_eq(const struct upstreams_file *a, const struct upstreams_file *b)
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
host_path(const struct settings *set, const char *path, char *buf,
    size_t len)
{
	char target[PATH_MAX];
	ssize_t n;
	int w;

	if (set->host_root[0] == '\0' ||
	    (n = readlink(path, target, sizeof(target) - 1)) <= 0)
		return path;
	target[n] = '\0';
	if (target[0] != '/')
		return path;
	w = snprintf(buf, len, "%s%s", set->host_root, target);
	return w < 0 || (size_t)w >= len ? path : buf;
}

bool
upstreams_load(struct upstreams *s, const struct settings *set)
{
	struct dns_upstreams u;
	char e[256] = "", list[4 * DNS_UPSTREAM_STRLEN];
	char rc[PATH_MAX], sd[PATH_MAX];
	int r;

	if (set->dns_upstreams != NULL)
		r = dns_upstreams_from_env(set->dns_upstreams, &u, e,
		    sizeof(e));
	else
		r = dns_upstreams_load(host_path(set, set->resolv_conf, rc,
		    sizeof(rc)), host_path(set, set->systemd_resolv_conf, sd,
		    sizeof(sd)), &u, e, sizeof(e));
	if (r < 0) {
		if (strcmp(e, s->warned) != 0) {
			log_warnx("dns: cannot read upstream servers: %s "
			    "(keeping %s)", e, ups_text(&s->cur, list,
			    sizeof(list)));
			(void)snprintf(s->warned, sizeof(s->warned), "%s", e);
		}
		return false;
	}
	s->warned[0] = '\0';
	if (dns_upstreams_drop(&u, &set->dns_addr) > 0)
		log_warnx("dns: the responder's own address %s is listed as "
		    "an upstream; it is left out", set->dns_address);
	if (s->loaded && dns_upstreams_equal(&u, &s->cur))
		return false;
	s->cur = u;
	s->loaded = true;
	if (u.n == 0)
		log_warnx("dns: no upstream servers (%s%s): only container "
		    "names are answered, other names get SERVFAIL",
		    set->dns_upstreams ? "DNS_UPSTREAMS" : set->resolv_conf,
		    u.missing ? " does not exist" : " lists none");
	else
		log_info("dns: upstream servers %s (from %s%s)",
		    ups_text(&u, list, sizeof(list)),
		    upstreams_source(s, set),
		    u.warnings ? ", some lines skipped" : "");
	if (u.warnings)
		log_warnx("dns: %s: %u line(s) skipped, first: %s",
		    set->resolv_conf, u.warnings, u.warning);
	return true;
}

bool
upstreams_check(struct upstreams *s, const struct settings *set)
{
	struct upstreams_file rc, sd;
	char p1[PATH_MAX], p2[PATH_MAX];

	if (set->dns_upstreams != NULL)
		return false;
	file_get(host_path(set, set->resolv_conf, p1, sizeof(p1)), &rc);
	file_get(host_path(set, set->systemd_resolv_conf, p2, sizeof(p2)),
	    &sd);
	if (file_eq(&rc, &s->rc) && file_eq(&sd, &s->sd))
		return false;
	s->rc = rc;
	s->sd = sd;
	return upstreams_load(s, set);
}

const char *
upstreams_source(const struct upstreams *u, const struct settings *set)
{
	if (set->dns_upstreams != NULL)
		return "DNS_UPSTREAMS";
	return u->cur.from_systemd ? set->systemd_resolv_conf :
	    set->resolv_conf;
}
