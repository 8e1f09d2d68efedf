/*
 * The upstream configuration (dns/conf.h): the input is a host's
 * resolv.conf for dns_upstreams_parse() and, up to its first NUL byte, a
 * DNS_UPSTREAMS setting for dns_upstreams_from_env().  Checks:
 *   - parse never fails; at most 3 distinct servers, port 53, none set
 *     exactly when there are none, extra only past the third; a zone only
 *     on IPv6, link-local addresses only with one, a numeric zone's
 *     number in sin6_scope_id (whole, not cut to 32 bits), a named zone
 *     with scope 0 and a valid interface name; ndots <= 15 and 1 unless
 *     set; at most 6 search domains, each "." or labels of 1..63
 *     [A-Za-z0-9_-] bytes, at most 253 bytes, no trailing dot; the
 *     warning NUL-terminated and empty exactly without warnings;
 *   - what parse found, written out again as a plain resolv.conf
 *     (nameserver, search, options ndots), parses to the same
 *     (dns_upstreams_equal) without a warning;
 *   - every server, through dns_upstream_format(), parses again with
 *     dns_upstreams_from_env() to itself, and all of them in one setting
 *     to the same list;
 *   - dns_upstreams_drop() of the first server removes it and every
 *     server equal to it, nothing else; dns_upstreams_try_ms() keeps to
 *     its floor and budget;
 *   - from_env either fails with a message and leaves *ret untouched, or
 *     gives 1..3 distinct servers with a port that round-trip as above.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "dns/conf.h"
#include "tests/fuzz/fuzz.h"

#define SPEC_MAX	4096

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void) argc, (void) argv;
	fuzz_keep_stderr();
	return 0;
}

/* A server as both parsers promise it; port 0 means any but 0. */
static void
check_server(const struct dns_upstream *s, unsigned int port)
{
	const struct sockaddr_in *sin = (const void *)&s->addr;
	const struct sockaddr_in6 *sin6 = (const void *)&s->addr;
	size_t zl = strnlen(s->zone, sizeof(s->zone));

	FUZZ_CHECK(zl < sizeof(s->zone), "zone not terminated");
	if (s->addr.ss_family == AF_INET) {
		FUZZ_CHECK(zl == 0, "zone on IPv4");
		FUZZ_CHECK(port == 0 ? sin->sin_port != 0 :
		    ntohs(sin->sin_port) == port, "port %u",
		    ntohs(sin->sin_port));
		return;
	}
	FUZZ_CHECK(s->addr.ss_family == AF_INET6, "family %d",
	    s->addr.ss_family);
	FUZZ_CHECK(port == 0 ? sin6->sin6_port != 0 :
	    ntohs(sin6->sin6_port) == port, "port %u",
	    ntohs(sin6->sin6_port));
	if (zl == 0) {
		FUZZ_CHECK(!IN6_IS_ADDR_LINKLOCAL(&sin6->sin6_addr) &&
		    sin6->sin6_scope_id == 0, "link-local without a zone");
		return;
	}
	if (strspn(s->zone, "0123456789") == zl) {
		unsigned long long v = 0;

		for (size_t i = 0; i < zl; i++)
			v = v * 10 + (unsigned long long)(s->zone[i] - '0');
		FUZZ_CHECK(v == sin6->sin6_scope_id, "zone '%s' as scope %u",
		    s->zone, sin6->sin6_scope_id);
	} else {
		FUZZ_CHECK(sin6->sin6_scope_id == 0, "named zone '%s' with "
		    "scope %u", s->zone, sin6->sin6_scope_id);
		for (size_t i = 0; i < zl; i++)
			FUZZ_CHECK(s->zone[i] > ' ' && s->zone[i] < 0x7f &&
			    s->zone[i] != '/' && s->zone[i] != ':',
			    "zone byte %#x", (unsigned char)s->zone[i]);
		FUZZ_CHECK(strcmp(s->zone, ".") != 0 &&
		    strcmp(s->zone, "..") != 0, "zone '%s'", s->zone);
	}
}

static void
check_servers(const struct dns_upstreams *u, unsigned int port)
{
	FUZZ_CHECK(u->n <= DNS_UPSTREAMS_MAX, "%u servers", u->n);
	for (unsigned int i = 0; i < u->n; i++) {
		check_server(&u->srv[i], port);
		for (unsigned int j = 0; j < i; j++)
			FUZZ_CHECK(!dns_upstream_equal(&u->srv[i], &u->srv[j]),
			    "server %u twice", j);
	}
}

static bool
valid_search(const char *d)
{
	size_t n = strlen(d), label = 0;

	if (strcmp(d, ".") == 0)
		return true;
	if (n == 0 || n > DNS_NAME_TEXT_MAX - 1 || d[n - 1] == '.')
		return false;
	for (size_t i = 0; i <= n; i++) {
		if (d[i] == '.' || d[i] == '\0') {
			if (label == 0 || label > 63)
				return false;
			label = 0;
		} else if (strchr("abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_", d[i]) != NULL)
			label++;
		else
			return false;
	}
	return true;
}

/* The address as resolv.conf writes it: "fe80::1%eth0". */
static void
addr_text(const struct dns_upstream *s, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN] = "";
	const void *p = s->addr.ss_family == AF_INET ?
	    (const void *)&((const struct sockaddr_in *)&s->addr)->sin_addr :
	    (const void *)&((const struct sockaddr_in6 *)&s->addr)->sin6_addr;

	FUZZ_CHECK(inet_ntop(s->addr.ss_family, p, a, sizeof(a)) != NULL,
	    "inet_ntop");
	(void) snprintf(buf, len, "%s%s%s", a, s->zone[0] != '\0' ? "%" : "",
	    s->zone);
}

/* Every server through dns_upstream_format() and back, alone and all
 * together. */
static void
check_format(const struct dns_upstreams *u)
{
	char spec[DNS_UPSTREAMS_MAX * (DNS_UPSTREAM_STRLEN + 1)] = "";
	char buf[DNS_UPSTREAM_STRLEN], err[256];
	struct dns_upstreams back;
	size_t off = 0;
	int r;

	for (unsigned int i = 0; i < u->n; i++) {
		(void) dns_upstream_format(&u->srv[i], buf, sizeof(buf));
		FUZZ_CHECK(strlen(buf) < sizeof(buf) - 1, "'%s' cut", buf);
		err[0] = '\0';
		r = dns_upstreams_from_env(buf, &back, err, sizeof(err));
		FUZZ_CHECK(r == 0 && back.n == 1 && dns_upstream_equal(&back.srv[0],
		    &u->srv[i]), "'%s' does not parse back: %d %s", buf, r,
		    err);
		off += (size_t)snprintf(spec + off, sizeof(spec) - off, "%s%s",
		    i > 0 ? "," : "", buf);
	}
	if (u->n == 0)
		return;
	r = dns_upstreams_from_env(spec, &back, err, sizeof(err));
	FUZZ_CHECK(r == 0 && back.n == u->n, "'%s': %d %s", spec, r, err);
	for (unsigned int i = 0; i < u->n; i++)
		FUZZ_CHECK(dns_upstream_equal(&back.srv[i], &u->srv[i]), "'%s': server "
		    "%u", spec, i);
}

static void
check_drop(const struct dns_upstreams *u)
{
	struct dns_upstreams d = *u;
	unsigned int k, t;

	t = dns_upstreams_try_ms(u, 4500);
	FUZZ_CHECK(u->n == 0 ? t == 4500 : t == (4500 / u->n < DNS_TRY_MIN_MS ?
	    DNS_TRY_MIN_MS : 4500 / u->n), "try_ms %u for %u", t, u->n);
	if (u->n == 0)
		return;
	k = dns_upstreams_drop(&d, &u->srv[0].addr);
	FUZZ_CHECK(k >= 1 && d.n == u->n - k && d.none == (d.n == 0),
	    "dropped %u of %u, %u left", k, u->n, d.n);
	/* The others, in order: a different address or port (the zone
	 * does not count). */
	t = 0;
	for (unsigned int i = 1; i < u->n; i++) {
		const struct sockaddr_storage *a = &u->srv[i].addr;
		const struct sockaddr_storage *self = &u->srv[0].addr;
		bool same = a->ss_family == self->ss_family &&
		    (a->ss_family == AF_INET ?
		    ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
		    ((const struct sockaddr_in *)self)->sin_addr.s_addr &&
		    ((const struct sockaddr_in *)a)->sin_port ==
		    ((const struct sockaddr_in *)self)->sin_port :
		    memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
		    &((const struct sockaddr_in6 *)self)->sin6_addr, 16) == 0 &&
		    ((const struct sockaddr_in6 *)a)->sin6_port ==
		    ((const struct sockaddr_in6 *)self)->sin6_port);

		if (!same) {
			FUZZ_CHECK(t < d.n && dns_upstream_equal(&d.srv[t], &u->srv[i]),
			    "server %u not kept in place", i);
			t++;
		}
	}
	FUZZ_CHECK(t == d.n, "%u kept, want %u", d.n, t);
}

/* What parse found, written as a resolv.conf of its own. */
static void
check_rewrite(const struct dns_upstreams *u)
{
	static char text[4096];
	struct dns_upstreams again;
	char a[128];
	size_t off = 0;

	for (unsigned int i = 0; i < u->n; i++) {
		addr_text(&u->srv[i], a, sizeof(a));
		off += (size_t)snprintf(text + off, sizeof(text) - off,
		    "nameserver %s\n", a);
	}
	if (u->nsearch > 0) {
		off += (size_t)snprintf(text + off, sizeof(text) - off,
		    "search");
		for (unsigned int i = 0; i < u->nsearch; i++)
			off += (size_t)snprintf(text + off, sizeof(text) - off,
			    " %s", u->search[i]);
		off += (size_t)snprintf(text + off, sizeof(text) - off, "\n");
	}
	if (u->ndots_set)
		off += (size_t)snprintf(text + off, sizeof(text) - off,
		    "options ndots:%u\n", u->ndots);
	FUZZ_CHECK(off < sizeof(text), "rewrite cut");
	FUZZ_CHECK(dns_upstreams_parse(text, off, &again, NULL, 0) == 0,
	    "rewrite does not parse");
	FUZZ_CHECK(dns_upstreams_equal(u, &again) && again.warnings == 0 &&
	    again.extra == 0, "rewrite parses differently (%u warnings: %s)"
	    "\n%s", again.warnings, again.warning, text);
}

static void
check_parse(const uint8_t *data, size_t size)
{
	struct dns_upstreams u, u2;
	char err[256] = "";
	int r;

	r = dns_upstreams_parse((const char *)data, size, &u, err,
	    sizeof(err));
	FUZZ_CHECK(r == 0, "dns_upstreams_parse: %d %s", r, err);
	check_servers(&u, 53);
	FUZZ_CHECK(u.none == (u.n == 0) && (u.extra == 0 ||
	    u.n == DNS_UPSTREAMS_MAX), "n %u, extra %u, none %d", u.n,
	    u.extra, u.none);
	FUZZ_CHECK(!u.missing && !u.from_systemd, "file flags");
	FUZZ_CHECK(u.ndots <= DNS_NDOTS_MAX && (u.ndots_set || u.ndots == 1),
	    "ndots %u", u.ndots);
	FUZZ_CHECK(u.nsearch <= DNS_SEARCH_MAX, "%u search domains",
	    u.nsearch);
	for (unsigned int i = 0; i < u.nsearch; i++)
		FUZZ_CHECK(memchr(u.search[i], '\0', sizeof(u.search[i])) !=
		    NULL && valid_search(u.search[i]), "search domain %u", i);
	FUZZ_CHECK(memchr(u.warning, '\0', sizeof(u.warning)) != NULL &&
	    (u.warnings == 0) == (u.warning[0] == '\0'), "%u warnings, '%s'",
	    u.warnings, u.warning);
	r = dns_upstreams_parse((const char *)data, size, &u2, NULL, 0);
	FUZZ_CHECK(r == 0 && dns_upstreams_equal(&u, &u2) &&
	    u.warnings == u2.warnings && u.extra == u2.extra,
	    "a second parse differs");
	check_rewrite(&u);
	check_format(&u);
	check_drop(&u);
}

static void
check_env(const uint8_t *data, size_t size)
{
	static char spec[SPEC_MAX + 1];
	struct dns_upstreams u, sentinel;
	char err[256] = "";
	size_t n = strnlen((const char *)data, size);
	int r;

	if (n > SPEC_MAX)
		n = SPEC_MAX;
	memcpy(spec, data, n);
	spec[n] = '\0';
	memset(&u, 0xa5, sizeof(u));
	sentinel = u;
	r = dns_upstreams_from_env(spec, &u, err, sizeof(err));
	FUZZ_CHECK(r == 0 || r == -EINVAL, "dns_upstreams_from_env: %d", r);
	if (r < 0) {
		FUZZ_CHECK(err[0] != '\0', "failure without a message");
		FUZZ_CHECK(memcmp(&u, &sentinel, sizeof(u)) == 0,
		    "*ret written on failure");
		return;
	}
	FUZZ_CHECK(u.n >= 1 && !u.none && u.nsearch == 0 && u.ndots == 1,
	    "%u servers", u.n);
	check_servers(&u, 0);
	check_format(&u);
	check_drop(&u);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > FUZZ_MAX_INPUT)
		return 0;
	check_parse(data, size);
	check_env(data, size);
	return 0;
}
