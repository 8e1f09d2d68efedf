/*
 * Upstream servers for the responder: resolv.conf (at most 3 servers,
 * systemd-resolved's stub replaced by the servers behind it, odd lines
 * skipped with a warning) and the DNS_UPSTREAMS setting.  Pure except for
 * reading files.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dns/conf.h"
#include "dns/err.h"

/* A resolv.conf is a few hundred bytes; anything near this is not one. */
#define RESOLV_CONF_MAX		(64 * 1024)
#define SYSTEMD_STUB		"127.0.0.53"
#define DNS_PORT		53
/* Tokens looked at on one line; more are counted, not kept. */
#define LINE_TOKENS		(DNS_SEARCH_MAX + 2)

struct token {
	const char	*p;
	size_t		len;
};

void
dns_seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	(void) vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* Counts a warning; the first one's text is kept for the caller's log. */
__attribute__((format(printf, 2, 3)))
static void
add_warning(struct dns_upstreams *u, const char *fmt, ...)
{
	va_list ap;

	if (u->warnings++ > 0)
		return;
	va_start(ap, fmt);
	(void) vsnprintf(u->warning, sizeof(u->warning), fmt, ap);
	va_end(ap);
}

static bool
tok_eq(const struct token *t, const char *s)
{
	return t->len == strlen(s) && memcmp(t->p, s, t->len) == 0;
}

/* Copies a token into buf as a C string; false if it does not fit or
 * holds a NUL byte. */
static bool
tok_str(const struct token *t, char *buf, size_t size)
{
	if (t->len >= size || memchr(t->p, '\0', t->len) != NULL)
		return false;
	memcpy(buf, t->p, t->len);
	buf[t->len] = '\0';
	return true;
}

/* Printable form of a token for a message, cut to fit. */
static const char *
tok_show(const struct token *t, char *buf, size_t size)
{
	size_t n = t->len < size - 1 ? t->len : size - 1;

	for (size_t i = 0; i < n; i++)
		buf[i] = t->p[i] >= 0x20 && t->p[i] < 0x7f ? t->p[i] : '?';
	buf[n] = '\0';
	return buf;
}

/* The kernel's dev_valid_name(): 1 to 15 bytes, not "." or "..", no '/',
 * ':' or blanks.  Also printable ASCII, since it ends up in logs, and none
 * of the bytes that delimit a DNS_UPSTREAMS entry (",[]%"), so that what
 * dns_upstream_format() writes parses again ("[fe80::1%a]b]:53" would
 * not); no interface is named so in practice. */
static bool
valid_ifname(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= IF_NAMESIZE || strcmp(s, ".") == 0 ||
	    strcmp(s, "..") == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] <= ' ' || s[i] >= 0x7f || strchr("/:,[]%", s[i]) !=
		    NULL)
			return false;
	return true;
}

static bool
all_digits(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

/*
 * One address with an optional zone ("fe80::1%eth0"), no port.  Fills s
 * with port 53.  -EINVAL with a reason in why (a static string).
 */
static int
parse_addr(const char *a, struct dns_upstream *ret, const char **why)
{
	struct dns_upstream s = { 0 };
	struct sockaddr_in *sin = (struct sockaddr_in *)&s.addr;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&s.addr;
	char host[INET6_ADDRSTRLEN];
	const char *pct = strchr(a, '%');
	size_t hl = pct != NULL ? (size_t)(pct - a) : strlen(a);

	if (hl == 0 || hl >= sizeof(host)) {
		*why = "not an IP address";
		return -EINVAL;
	}
	memcpy(host, a, hl);
	host[hl] = '\0';
	if (pct == NULL && inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(DNS_PORT);
		*ret = s;
		return 0;
	}
	if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1) {
		*why = pct != NULL ? "not an IPv6 address with a zone" :
		    "not an IP address";
		return -EINVAL;
	}
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(DNS_PORT);
	if (pct != NULL) {
		if (!valid_ifname(pct + 1)) {
			*why = "the zone after '%' is not an interface name";
			return -EINVAL;
		}
		(void) snprintf(s.zone, sizeof(s.zone), "%s", pct + 1);
		if (all_digits(s.zone)) {
			/* At most 15 digits: no overflow in 64 bits. */
			unsigned long long v = strtoull(s.zone, NULL, 10);

			if (v > UINT32_MAX) {
				*why = "the zone after '%' is an interface index "
				    "over 4294967295";
				return -EINVAL;
			}
			sin6->sin6_scope_id = (uint32_t)v;
		}
	} else if (IN6_IS_ADDR_LINKLOCAL(&sin6->sin6_addr)) {
		/* It can only be dialled through one interface. */
		*why = "a link-local address needs a zone, as in fe80::1%eth0";
		return -EINVAL;
	}
	*ret = s;
	return 0;
}

bool
dns_upstream_equal(const struct dns_upstream *a, const struct dns_upstream *b)
{
	const struct sockaddr_in *a4 = (const void *)&a->addr;
	const struct sockaddr_in *b4 = (const void *)&b->addr;
	const struct sockaddr_in6 *a6 = (const void *)&a->addr;
	const struct sockaddr_in6 *b6 = (const void *)&b->addr;

	if (a->addr.ss_family != b->addr.ss_family ||
	    strcmp(a->zone, b->zone) != 0)
		return false;
	if (a->addr.ss_family == AF_INET)
		return a4->sin_port == b4->sin_port &&
		    a4->sin_addr.s_addr == b4->sin_addr.s_addr;
	return a6->sin6_port == b6->sin6_port &&
	    a6->sin6_scope_id == b6->sin6_scope_id &&
	    memcmp(&a6->sin6_addr, &b6->sin6_addr, 16) == 0;
}

static bool
has_server(const struct dns_upstreams *u, const struct dns_upstream *s)
{
	for (unsigned int i = 0; i < u->n; i++)
		if (dns_upstream_equal(&u->srv[i], s))
			return true;
	return false;
}

static void
init(struct dns_upstreams *u)
{
	memset(u, 0, sizeof(*u));
	u->ndots = 1;
}

/* A search domain: labels of 1 to 63 letters, digits, '-' or '_', at most
 * 253 bytes, one trailing dot dropped; "." alone is kept (no search). */
static bool
valid_domain(char *d)
{
	size_t n = strlen(d), label = 0;

	if (n > 1 && d[n - 1] == '.')
		d[--n] = '\0';
	if (strcmp(d, ".") == 0)
		return true;
	if (n == 0 || n > DNS_NAME_TEXT_MAX - 1)
		return false;
	for (size_t i = 0; i <= n; i++) {
		char ch = d[i];

		if (ch == '.' || ch == '\0') {
			if (label == 0 || label > 63)
				return false;
			label = 0;
		} else if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || ch == '-' || ch == '_')
			label++;
		else
			return false;
	}
	return true;
}

static void
line_nameserver(struct dns_upstreams *u, unsigned int ln,
    const struct token *t, size_t nt)
{
	struct dns_upstream s;
	char a[INET6_ADDRSTRLEN + IF_NAMESIZE + 1], show[64];
	const char *why = NULL;

	if (nt < 2) {
		add_warning(u, "line %u: nameserver without an address, ignoring", ln);
		return;
	}
	if (!tok_str(&t[1], a, sizeof(a)) || parse_addr(a, &s, &why) < 0) {
		add_warning(u, "line %u: nameserver '%s' is %s, ignoring", ln,
		    tok_show(&t[1], show, sizeof(show)),
		    why != NULL ? why : "not an IP address");
		return;
	}
	/* podman#13926: glibc takes the first and drops the rest silently. */
	if (nt > 2)
		add_warning(u, "line %u: one nameserver per line; using '%s' and "
		    "ignoring the rest", ln, a);
	if (has_server(u, &s)) {
		add_warning(u, "line %u: nameserver '%s' listed twice, ignoring", ln,
		    a);
		return;
	}
	if (u->n == DNS_UPSTREAMS_MAX) {
		u->extra++;
		return;
	}
	u->srv[u->n++] = s;
}

static void
line_search(struct dns_upstreams *u, unsigned int ln, const struct token *t,
    size_t nt, size_t total)
{
	char d[DNS_NAME_TEXT_MAX + 1], show[64];
	bool domain = tok_eq(&t[0], "domain");
	size_t valid = 0;

	/* As glibc: the last search or domain line wins. */
	u->nsearch = 0;
	if (nt < 2) {
		add_warning(u, "line %u: %s without a name, ignoring", ln,
		    domain ? "domain" : "search");
		return;
	}
	for (size_t i = 1; i < nt; i++) {
		if (!tok_str(&t[i], d, sizeof(d)) || !valid_domain(d)) {
			add_warning(u, "line %u: search domain '%s' is not a domain "
			    "name, ignoring", ln, tok_show(&t[i], show,
			    sizeof(show)));
			continue;
		}
		valid++;
		if (u->nsearch < (domain ? 1u : DNS_SEARCH_MAX))
			memcpy(u->search[u->nsearch++], d, strlen(d) + 1);
	}
	if (domain && total > 2)
		add_warning(u, "line %u: domain takes one name; using the first", ln);
	else if (!domain && (valid > DNS_SEARCH_MAX || total > nt))
		add_warning(u, "line %u: more than %d search domains; using the "
		    "first %d", ln, DNS_SEARCH_MAX, DNS_SEARCH_MAX);
}

static void
line_options(struct dns_upstreams *u, unsigned int ln, const struct token *t,
    size_t nt)
{
	char show[64];

	for (size_t i = 1; i < nt; i++) {
		const char *p = t[i].p;
		size_t n = t[i].len;
		unsigned long v = 0;

		if (n < 6 || memcmp(p, "ndots:", 6) != 0)
			continue;	/* other options are the client's */
		if (n == 6 || n > 6 + 9) {
			add_warning(u, "line %u: option '%s' needs a number, ignoring",
			    ln, tok_show(&t[i], show, sizeof(show)));
			continue;
		}
		for (size_t k = 6; k < n; k++) {
			if (p[k] < '0' || p[k] > '9') {
				add_warning(u, "line %u: option '%s' needs a number, "
				    "ignoring", ln, tok_show(&t[i], show,
				    sizeof(show)));
				goto next;
			}
			v = v * 10 + (unsigned long)(p[k] - '0');
		}
		/* glibc clamps, so the client sees the same value. */
		u->ndots = v > DNS_NDOTS_MAX ? DNS_NDOTS_MAX : (unsigned int)v;
		u->ndots_set = true;
next:
		;
	}
}

/* Splits [p, end) into blank-separated tokens after dropping a comment;
 * returns how many there are, storing the first LINE_TOKENS. */
static size_t
tokenize(const char *p, const char *end, struct token *t)
{
	size_t n = 0;

	for (const char *c = p; c < end; c++)
		if (*c == '#' || *c == ';') {
			end = c;
			break;
		}
	while (p < end) {
		const char *s;

		while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' ||
		    *p == '\f' || *p == '\v'))
			p++;
		if (p == end)
			break;
		s = p;
		while (p < end && *p != ' ' && *p != '\t' && *p != '\r' &&
		    *p != '\f' && *p != '\v')
			p++;
		if (n < LINE_TOKENS)
			t[n] = (struct token){ s, (size_t)(p - s) };
		n++;
	}
	return n;
}

int
dns_upstreams_parse(const char *text, size_t len, struct dns_upstreams *ret,
    char *err, size_t errlen)
{
	struct dns_upstreams u;
	const char *p = text, *end = text + len;
	unsigned int ln = 0;

	if (text == NULL && len > 0) {
		dns_seterr(err, errlen, "no resolv.conf text to parse");
		return -EINVAL;
	}
	init(&u);
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		struct token t[LINE_TOKENS];
		size_t total, nt;
		char show[64];

		if (eol == NULL)
			eol = end;
		ln++;
		total = tokenize(p, eol, t);
		nt = total < LINE_TOKENS ? total : LINE_TOKENS;
		if (total == 0)
			;
		else if (memchr(p, '\0', (size_t)(eol - p)) != NULL)
			add_warning(&u, "line %u: contains a NUL byte, ignoring", ln);
		else if (tok_eq(&t[0], "nameserver"))
			line_nameserver(&u, ln, t, nt);
		else if (tok_eq(&t[0], "search") || tok_eq(&t[0], "domain"))
			line_search(&u, ln, t, nt, total);
		else if (tok_eq(&t[0], "options"))
			line_options(&u, ln, t, nt);
		else if (!tok_eq(&t[0], "sortlist"))
			add_warning(&u, "line %u: unknown keyword '%s', ignoring", ln,
			    tok_show(&t[0], show, sizeof(show)));
		p = eol + (eol < end);
	}
	u.none = u.n == 0;
	*ret = u;
	return 0;
}

/* One DNS_UPSTREAMS entry: an address with optional zone, or either in
 * brackets followed by an optional ":port"; IPv4 may take ":port" bare. */
static int
parse_entry(const char *e, struct dns_upstream *ret, const char **why)
{
	char a[INET6_ADDRSTRLEN + IF_NAMESIZE + 1];
	const char *port = NULL, *close, *colon = strchr(e, ':');
	bool bracket = e[0] == '[';
	size_t n;
	int r;

	if (bracket) {
		close = strchr(e, ']');
		if (close == NULL || (close[1] != '\0' && close[1] != ':')) {
			*why = "a '[' without a matching ']' or ']:port'";
			return -EINVAL;
		}
		n = (size_t)(close - e - 1);
		if (close[1] == ':')
			port = close + 2;
		e++;
	} else if (colon != NULL && strchr(colon + 1, ':') == NULL) {
		/* One colon: IPv4 with a port. */
		n = (size_t)(colon - e);
		port = colon + 1;
	} else
		n = strlen(e);
	if (n == 0 || n >= sizeof(a)) {
		*why = "not an IP address";
		return -EINVAL;
	}
	memcpy(a, e, n);
	a[n] = '\0';
	if ((r = parse_addr(a, ret, why)) < 0)
		return r;
	if (bracket && ret->addr.ss_family != AF_INET6) {
		*why = "brackets are for IPv6 addresses";
		return -EINVAL;
	}
	if (port != NULL) {
		unsigned long v = 0;

		if (!all_digits(port) || strlen(port) > 5 ||
		    (v = strtoul(port, NULL, 10)) == 0 || v > 65535) {
			*why = "the port is not a number from 1 to 65535";
			return -EINVAL;
		}
		if (ret->addr.ss_family == AF_INET)
			((struct sockaddr_in *)&ret->addr)->sin_port =
			    htons((uint16_t)v);
		else
			((struct sockaddr_in6 *)&ret->addr)->sin6_port =
			    htons((uint16_t)v);
	}
	return 0;
}

int
dns_upstreams_from_env(const char *spec, struct dns_upstreams *ret,
    char *err, size_t errlen)
{
	struct dns_upstreams u;
	const char *p = spec;

	if (spec == NULL) {
		dns_seterr(err, errlen, "DNS_UPSTREAMS is not set");
		return -EINVAL;
	}
	init(&u);
	for (;;) {
		struct dns_upstream s;
		char e[DNS_UPSTREAM_STRLEN];
		const char *why = NULL;
		size_t n;

		p += strspn(p, ", \t\n");
		if (*p == '\0')
			break;
		n = strcspn(p, ", \t\n");
		if (n >= sizeof(e)) {
			dns_seterr(err, errlen, "DNS_UPSTREAMS entry '%.*s...' is "
			    "too long for an address", 40, p);
			return -EINVAL;
		}
		memcpy(e, p, n);
		e[n] = '\0';
		p += n;
		if (parse_entry(e, &s, &why) < 0) {
			dns_seterr(err, errlen, "DNS_UPSTREAMS entry '%s' is %s; "
			    "use 1.2.3.4, 1.2.3.4:53, [fd00::1]:53 or "
			    "fe80::1%%eth0", e, why);
			return -EINVAL;
		}
		if (has_server(&u, &s)) {
			dns_seterr(err, errlen, "DNS_UPSTREAMS lists '%s' twice",
			    e);
			return -EINVAL;
		}
		if (u.n == DNS_UPSTREAMS_MAX) {
			dns_seterr(err, errlen, "DNS_UPSTREAMS lists more than %d "
			    "servers; remove '%s' and the ones after it",
			    DNS_UPSTREAMS_MAX, e);
			return -EINVAL;
		}
		u.srv[u.n++] = s;
	}
	if (u.n == 0) {
		dns_seterr(err, errlen, "DNS_UPSTREAMS is set but lists no server; "
		    "unset it to use the host's resolv.conf");
		return -EINVAL;
	}
	*ret = u;
	return 0;
}

/* Reads and parses one file.  -ENOENT when absent. */
static int
load_file(const char *path, struct dns_upstreams *ret, char *err,
    size_t errlen)
{
	struct stat st;
	char *buf = NULL;
	size_t len = 0;
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		r = -errno;
		if (r != -ENOENT)
			dns_seterr(err, errlen, "Failed to open '%s': %s", path,
			    strerror(-r));
		return r;
	}
	if (fstat(fd, &st) < 0) {
		r = -errno;
		dns_seterr(err, errlen, "Failed to stat '%s': %s", path,
		    strerror(-r));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		r = -EINVAL;
		dns_seterr(err, errlen, "'%s' is not a regular file", path);
		goto out;
	}
	/* One byte more than the limit tells a file that grew since fstat. */
	buf = malloc(RESOLV_CONF_MAX + 1);
	if (buf == NULL) {
		r = -ENOMEM;
		dns_seterr(err, errlen, "Failed to read '%s': out of memory", path);
		goto out;
	}
	for (;;) {
		ssize_t n = read(fd, buf + len, RESOLV_CONF_MAX + 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			dns_seterr(err, errlen, "Failed to read '%s': %s", path,
			    strerror(-r));
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > RESOLV_CONF_MAX) {
			r = -EFBIG;
			dns_seterr(err, errlen, "'%s' is larger than %d bytes; not "
			    "a resolv.conf", path, RESOLV_CONF_MAX);
			goto out;
		}
	}
	r = dns_upstreams_parse(buf, len, ret, err, errlen);
out:
	free(buf);
	(void) close(fd);
	return r;
}

static bool
only_systemd_stub(const struct dns_upstreams *u)
{
	const struct sockaddr_in *sin = (const void *)&u->srv[0].addr;
	struct in_addr stub;

	(void) inet_pton(AF_INET, SYSTEMD_STUB, &stub);
	return u->n == 1 && u->extra == 0 && sin->sin_family == AF_INET &&
	    sin->sin_addr.s_addr == stub.s_addr;
}

int
dns_upstreams_load(const char *path, const char *systemd_path,
    struct dns_upstreams *ret, char *err, size_t errlen)
{
	struct dns_upstreams u, sd;
	int r;

	r = load_file(path, &u, err, errlen);
	if (r == -ENOENT) {
		init(&u);
		u.missing = u.none = true;
		*ret = u;
		return 0;
	}
	if (r < 0)
		return r;
	if (systemd_path != NULL && only_systemd_stub(&u)) {
		/* The stub is the host's loopback; the real servers
		 * are in systemd-resolved's own file. */
		r = load_file(systemd_path, &sd, NULL, 0);
		if (r == 0 && sd.n > 0) {
			sd.from_systemd = true;
			u = sd;
		} else
			add_warning(&u, "only systemd-resolved's %s is listed and "
			    "'%s' %s; using %s from the host namespace",
			    SYSTEMD_STUB, systemd_path, r == 0 ?
			    "lists no nameserver" : "is unreadable",
			    SYSTEMD_STUB);
	}
	*ret = u;
	return 0;
}

unsigned int
dns_upstreams_drop(struct dns_upstreams *u, const struct sockaddr_storage *self)
{
	unsigned int k = 0, dropped = 0;

	for (unsigned int i = 0; i < u->n; i++) {
		const struct sockaddr_storage *a = &u->srv[i].addr;
		bool same = false;

		if (a->ss_family == self->ss_family && a->ss_family == AF_INET) {
			const struct sockaddr_in *x = (const void *)a;
			const struct sockaddr_in *y = (const void *)self;

			same = x->sin_addr.s_addr == y->sin_addr.s_addr &&
			    (y->sin_port == 0 || x->sin_port == y->sin_port);
		} else if (a->ss_family == self->ss_family &&
		    a->ss_family == AF_INET6) {
			const struct sockaddr_in6 *x = (const void *)a;
			const struct sockaddr_in6 *y = (const void *)self;

			same = memcmp(&x->sin6_addr, &y->sin6_addr, 16) == 0 &&
			    (y->sin6_port == 0 || x->sin6_port == y->sin6_port);
		}
		if (same)
			dropped++;
		else
			u->srv[k++] = u->srv[i];
	}
	if (dropped > 0) {
		memset(&u->srv[k], 0, (u->n - k) * sizeof(u->srv[0]));
		u->n = k;
		u->none = k == 0;
	}
	return dropped;
}

unsigned int
dns_upstreams_try_ms(const struct dns_upstreams *u, unsigned int total_ms)
{
	unsigned int t;

	if (u->n == 0)
		return total_ms;
	t = total_ms / u->n;
	return t < DNS_TRY_MIN_MS ? DNS_TRY_MIN_MS : t;
}

bool
dns_upstreams_equal(const struct dns_upstreams *a,
    const struct dns_upstreams *b)
{
	if (a->n != b->n || a->ndots != b->ndots ||
	    a->ndots_set != b->ndots_set || a->nsearch != b->nsearch)
		return false;
	for (unsigned int i = 0; i < a->n; i++)
		if (!dns_upstream_equal(&a->srv[i], &b->srv[i]))
			return false;
	for (unsigned int i = 0; i < a->nsearch; i++)
		if (strcmp(a->search[i], b->search[i]) != 0)
			return false;
	return true;
}

const char *
dns_upstream_format(const struct dns_upstream *s, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN] = "?";

	if (s->addr.ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const void *)&s->addr;

		(void) inet_ntop(AF_INET, &sin->sin_addr, a, sizeof(a));
		(void) snprintf(buf, len, "%s:%u", a, ntohs(sin->sin_port));
	} else {
		const struct sockaddr_in6 *sin6 = (const void *)&s->addr;

		(void) inet_ntop(AF_INET6, &sin6->sin6_addr, a, sizeof(a));
		(void) snprintf(buf, len, "[%s%s%s]:%u", a,
		    s->zone[0] != '\0' ? "%" : "", s->zone,
		    ntohs(sin6->sin6_port));
	}
	return buf;
}
