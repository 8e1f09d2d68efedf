#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <jansson.h>

#include "plugin/cli.h"
#include "plugin/engine.h"
#include "plugin/statustext.h"

#define CLI_REPLY_MAX	(16u << 20)
#define CLI_TIMEOUT_MS	5000

struct body {
	char	*p;
	size_t	len;
};

static int
body_add(void *arg, const char *data, size_t len)
{
	struct body *b = arg;
	char *p = realloc(b->p, b->len + len + 1);

	if (p == NULL)
		return -ENOMEM;
	memcpy(p + b->len, data, len);
	b->p = p;
	b->len += len;
	b->p[b->len] = '\0';
	return 0;
}

/* One POST with an empty body; the reply's body in *ret (malloc'ed),
 * read with the Engine API client's HTTP reader. */
static int
post(const char *sock, const char *path, char **ret, int *status)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct body b = { NULL, 0 };
	struct eng_http h;
	struct pollfd pfd;
	char req[256], buf[16384];
	int fd, r;

	if (strlen(sock) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, sock, strlen(sock) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		r = -errno;
		goto out;
	}
	r = snprintf(req, sizeof(req), "POST %s HTTP/1.1\r\nHost: cbridge\r\n"
	    "Content-Length: 0\r\nConnection: close\r\n\r\n", path);
	if (write(fd, req, (size_t)r) != r) {
		r = -EIO;
		goto out;
	}
	eng_http_init(&h, CLI_REPLY_MAX, body_add, &b);
	pfd = (struct pollfd){ .fd = fd, .events = POLLIN };
	for (r = 0; r == 0;) {
		ssize_t n;

		if (poll(&pfd, 1, CLI_TIMEOUT_MS) <= 0) {
			r = -ETIMEDOUT;
			break;
		}
		n = read(fd, buf, sizeof(buf));
		if (n < 0)
			r = -errno;
		else if (n == 0)
			r = eng_http_eof(&h);
		else
			r = eng_http_feed(&h, buf, (size_t)n);
	}
	if (r < 0)
		goto out;
	if (b.p == NULL && body_add(&b, "", 0) < 0) {
		r = -ENOMEM;
		goto out;
	}
	*status = h.status;
	*ret = b.p;
	b.p = NULL;
	r = 0;
out:
	free(b.p);
	(void)close(fd);
	return r;
}

static json_int_t
num(json_t *o, const char *k)
{
	return json_integer_value(json_object_get(o, k));
}

static const char *
str(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s ? s : "";
}

static void
print_table(json_t *doc)
{
	json_t *ups = json_object_get(doc, "Upstreams");
	json_t *sbs = json_object_get(doc, "Sandboxes"), *v;
	json_t *eng = json_object_get(doc, "Engine");
	json_t *cache = json_object_get(doc, "Cache");
	size_t i;

	if (strcmp(str(doc, "Mode"), "off") == 0) {
		printf("DNS_MODE off: no responder\n");
		return;
	}
	printf("DNS_MODE %s: responder address %s%s, forwarding from the %s "
	    "namespace\n", str(doc, "Mode"), str(doc, "Address"),
	    strcmp(str(doc, "Mode"), "intercept") == 0 ?
	    " and 127.0.0.11 in each sandbox" : "", str(doc, "ForwardFrom"));
	printf("upstreams (from %s):\n", str(doc, "UpstreamsFrom"));
	if (json_array_size(ups) == 0)
		printf("  none: only container names are answered\n");
	json_array_foreach(ups, i, v)
		printf("  %-28s sent %lld replies %lld timeouts %lld errors "
		    "%lld servfail/refused %lld mismatched %lld tc->tcp %lld\n",
		    str(v, "Address"), num(v, "Sent"), num(v, "Replies"),
		    num(v, "Timeouts"), num(v, "Errors"), num(v, "Failures"),
		    num(v, "Mismatched"), num(v, "TcRetries"));
	printf("cache: %lld entries, %lld hits, %lld misses\n",
	    num(cache, "Entries"), num(cache, "Hits"), num(cache, "Misses"));
	if (json_is_true(json_object_get(eng, "Enabled")))
		printf("engine API %s: %lld containers known%s%s\n",
		    str(eng, "Socket"), num(eng, "Containers"),
		    *str(eng, "Error") ? "; " : "", str(eng, "Error"));
	else
		printf("engine API: off (container names are not served)\n");
	printf("%-40s %-8s %8s %8s %8s %8s %8s %8s %6s %6s\n", "sandbox",
	    "state", "queries", "local", "fwd", "cached", "failed",
	    "servfail", "trunc", "drops");
	json_array_foreach(sbs, i, v) {
		json_t *per = json_object_get(v, "Upstreams"), *u;
		json_t *icpt = json_object_get(v, "Intercept"), *c;
		size_t j;

		printf("%-40s %-8s %8lld %8lld %8lld %8lld %8lld %8lld %6lld "
		    "%6lld%s\n", str(v, "SandboxKey"), str(v, "State"),
		    num(v, "QueriesUdp") + num(v, "QueriesTcp"),
		    num(v, "Local"), num(v, "Forwarded"),
		    num(v, "CacheHits"), num(v, "UpstreamFailures"),
		    num(v, "ServFail"), num(v, "Truncations"),
		    num(v, "Drops"), json_is_false(json_object_get(v,
		    "Forwarding")) ? "  (internal: no forwarding)" : "");
		if (*str(v, "Error"))
			printf("    error: %s\n", str(v, "Error"));
		printf("    containers:");
		json_array_foreach(json_object_get(v, "Containers"), j, c)
			printf(" %s", json_string_value(c) ?
			    json_string_value(c) : "?");
		printf("%s%s\n", json_array_size(json_object_get(v,
		    "Containers")) ? "" : " (not known yet)",
		    json_is_true(json_object_get(v, "OwnUpstreams")) ?
		    "; their own --dns servers" : "");
		if (json_is_true(json_object_get(icpt, "Enabled")))
			printf("    redirect of 127.0.0.11: %s%s%s; dockerd's "
			    "resolver %s: asked %lld, answered %lld, fell "
			    "through %lld, timeouts %lld, loops %lld\n",
			    json_is_true(json_object_get(icpt, "Redirected")) ?
			    "yes" : "no", *str(icpt, "Error") ? ": " : "",
			    str(icpt, "Error"), *str(icpt, "DockerResolver") ?
			    str(icpt, "DockerResolver") : "not found",
			    num(icpt, "DockerAsked"), num(icpt, "DockerAnswered"),
			    num(icpt, "DockerFellThrough"),
			    num(icpt, "DockerTimeouts"), num(icpt, "DockerLoops"));
		json_array_foreach(per, j, u)
			if (num(u, "Timeouts") || num(u, "Failures"))
				printf("    upstream %s: %lld timeouts, %lld "
				    "failures\n", str(u, "Address"),
				    num(u, "Timeouts"), num(u, "Failures"));
	}
}

/* What `cbridge CMD [--socket PATH] [--json]` asks the daemon at route:
 * 0 with the reply parsed in *ret_doc and its text in *ret_body (both
 * the caller's), or the exit status after a message on stderr. */
static int
ask(int argc, char *argv[], const char *default_socket, const char *cmd,
    const char *route, bool *ret_raw, json_t **ret_doc, char **ret_body)
{
	const char *sock = getenv("SOCKET");
	char *body = NULL;
	json_t *doc;
	bool raw = false;
	int status = 0, r;

	if (sock == NULL || *sock == '\0')
		sock = default_socket;
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			raw = true;
		else if (strcmp(argv[i], "--socket") == 0 && i + 1 < argc)
			sock = argv[++i];
		else {
			fprintf(stderr, "usage: cbridge %s [--socket PATH] "
			    "[--json]\n", cmd);
			return 2;
		}
	}
	if ((r = post(sock, route, &body, &status)) < 0) {
		fprintf(stderr, "cbridge: cannot ask the daemon at %s: %s\n",
		    sock, strerror(-r));
		return 1;
	}
	if (status != 200 || (doc = json_loads(body, 0, NULL)) == NULL) {
		fprintf(stderr, "cbridge: the daemon answered %d: %s\n",
		    status, body);
		free(body);
		return 1;
	}
	*ret_raw = raw;
	*ret_doc = doc;
	*ret_body = body;
	return 0;
}

int
cli_dns_stats(int argc, char *argv[], const char *default_socket)
{
	char *body;
	json_t *doc;
	bool raw;
	int rc;

	if ((rc = ask(argc, argv, default_socket, "dns-stats",
	    "/Cbridge.DnsStats", &raw, &doc, &body)) != 0)
		return rc;
	if (raw)
		printf("%s\n", body);
	else
		print_table(doc);
	json_decref(doc);
	free(body);
	return 0;
}

int
cli_status(int argc, char *argv[], const char *default_socket)
{
	char *body;
	json_t *doc;
	bool raw;
	int rc;

	if ((rc = ask(argc, argv, default_socket, "status", "/Cbridge.Status",
	    &raw, &doc, &body)) != 0)
		return rc;
	/* An older daemon answers 404, caught above; anything else that is
	 * not the document is an answer this binary cannot read. */
	if (!json_is_object(json_object_get(doc, "Firewall"))) {
		fprintf(stderr, "cbridge: the daemon's answer is not a status "
		    "document: %s\n", body);
		rc = 1;
	} else if (raw)
		printf("%s\n", body);
	else
		statustext_print(doc, stdout);
	json_decref(doc);
	free(body);
	return rc;
}
