/*
 * The Docker Engine API client's parsers (plugin/engine.h): every input
 * goes through all of them, as each of the engine's answers might.
 *   - eng_parse_container(), eng_parse_list(), eng_parse_event(): no
 *     crash, -EINVAL or success, and on success the result keeps the
 *     promises of engine.h (IDs of 1..64 hex digits, endpoint IDs never
 *     empty, at most ENG_NETS_MAX networks and ENG_NAMES_MAX names of
 *     1..ENG_NAME_MAX bytes, no two names equal but for ASCII case, at
 *     most ENG_LINKS_MAX links of two 1..ENG_NAME_MAX byte parts, a
 *     SandboxKey of at most ENG_KEY_MAX bytes, at most ENG_DNS_MAX DNS
 *     servers that are address literals, no process ID unless running).
 *   - The HTTP reader (body cap 4096): fed whole, then in pieces of
 *     1..13 bytes (the first input byte picks the size); both give the
 *     same result, status and, unless an error cut it, the same body.
 * The /events stream (the reader without a cap, in pieces of every size,
 * the line splitter, each line's event) is fuzz_events.c's.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "plugin/engine.h"
#include "tests/fuzz/fuzz.h"

#define BODY_CAP	4096

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void) argc, (void) argv;
	fuzz_keep_stderr();
	return 0;
}

static void
check_id(const char *id)
{
	FUZZ_CHECK(eng_id_valid(id, strlen(id)), "bad ID '%.70s'", id);
}

static void
check_container(const uint8_t *data, size_t size)
{
	struct eng_container c;
	char err[256] = "";
	int r;

	r = eng_parse_container((const char *)data, size, &c, err,
	    sizeof(err));
	FUZZ_CHECK(r == 0 || r == -EINVAL, "eng_parse_container: %d", r);
	if (r < 0) {
		FUZZ_CHECK(err[0] != '\0', "no message");
		return;
	}
	check_id(c.id);
	FUZZ_CHECK(strlen(c.name) <= ENG_NAME_MAX &&
	    strlen(c.net_container) <= ENG_NAME_MAX &&
	    strlen(c.sandbox_key) <= ENG_KEY_MAX, "container lengths");
	FUZZ_CHECK(c.pid >= 0 && (c.running || c.pid == 0), "pid %d", c.pid);
	FUZZ_CHECK(c.ndns <= ENG_DNS_MAX, "%zu DNS servers", c.ndns);
	for (size_t i = 0; i < c.ndns; i++) {
		unsigned char bin[sizeof(struct in6_addr)];

		FUZZ_CHECK(inet_pton(AF_INET, c.dns[i], bin) == 1 ||
		    inet_pton(AF_INET6, c.dns[i], bin) == 1, "DNS '%s'",
		    c.dns[i]);
	}
	FUZZ_CHECK(c.neps <= ENG_NETS_MAX, "%zu networks", c.neps);
	FUZZ_CHECK((c.neps == 0) == (c.eps == NULL), "eps");
	for (size_t i = 0; i < c.neps; i++) {
		const struct eng_endpoint *ep = &c.eps[i];

		FUZZ_CHECK(ep->ep_id[0] != '\0', "empty endpoint ID");
		FUZZ_CHECK(strlen(ep->ep_id) <= ENG_ID_LEN &&
		    strlen(ep->net_id) <= ENG_ID_LEN &&
		    strlen(ep->net_name) <= ENG_NAME_MAX, "lengths");
		FUZZ_CHECK(ep->nnames <= ENG_NAMES_MAX, "%zu names",
		    ep->nnames);
		for (size_t j = 0; j < ep->nnames; j++) {
			size_t l = strlen(ep->names[j]);

			FUZZ_CHECK(l >= 1 && l <= ENG_NAME_MAX, "name of %zu "
			    "bytes", l);
			for (size_t k = 0; k < j; k++)
				FUZZ_CHECK(strcasecmp(ep->names[j],
				    ep->names[k]) != 0, "duplicate name");
		}
		FUZZ_CHECK(ep->nlinks <= ENG_LINKS_MAX &&
		    (ep->nlinks == 0 || ep->links != NULL), "%zu links",
		    ep->nlinks);
		for (size_t j = 0; j < ep->nlinks; j++) {
			size_t t = strlen(ep->links[j].target);
			size_t a = strlen(ep->links[j].alias);

			FUZZ_CHECK(t >= 1 && t <= ENG_NAME_MAX && a >= 1 &&
			    a <= ENG_NAME_MAX && strchr(ep->links[j].alias,
			    ':') == NULL, "link of %zu, %zu bytes", t, a);
		}
	}
	eng_container_done(&c);
}

static void
check_list(const uint8_t *data, size_t size)
{
	char (*ids)[ENG_ID_LEN + 1] = NULL;
	char err[256] = "";
	size_t n = 0;
	int r;

	r = eng_parse_list((const char *)data, size, &ids, &n, err,
	    sizeof(err));
	FUZZ_CHECK(r == 0 || r == -EINVAL, "eng_parse_list: %d", r);
	if (r < 0) {
		FUZZ_CHECK(err[0] != '\0' && ids == NULL, "failure");
		return;
	}
	FUZZ_CHECK((n == 0) == (ids == NULL), "ids");
	for (size_t i = 0; i < n; i++)
		check_id(ids[i]);
	free(ids);
}

static void
check_event(const uint8_t *data, size_t size)
{
	char id[ENG_ID_LEN + 1];
	enum eng_event ev;
	int r;

	r = eng_parse_event((const char *)data, size, &ev, id);
	FUZZ_CHECK(r == 0 || r == -EINVAL, "eng_parse_event: %d", r);
	FUZZ_CHECK(ev == ENG_EV_IGNORE || ev == ENG_EV_INSPECT ||
	    ev == ENG_EV_REMOVED, "event %d", (int)ev);
	if (ev == ENG_EV_IGNORE)
		FUZZ_CHECK(id[0] == '\0', "ID without event");
	else
		check_id(id);
	FUZZ_CHECK(r == 0 || ev == ENG_EV_IGNORE, "event on error");
}

struct body {
	char		buf[BODY_CAP];
	size_t		len;
};

static int
on_body(void *arg, const char *data, size_t len)
{
	struct body *b = arg;

	FUZZ_CHECK(len <= BODY_CAP - b->len, "body over the cap");
	memcpy(b->buf + b->len, data, len);
	b->len += len;
	return 0;
}

/* Feeds data in pieces of step bytes (0: whole); the final result. */
static int
http(const uint8_t *data, size_t size, size_t step, struct eng_http *h,
    struct body *b)
{
	size_t off = 0, n;
	int r = 0;

	b->len = 0;
	eng_http_init(h, BODY_CAP, on_body, b);
	while (r == 0 && off < size) {
		n = step == 0 || step > size - off ? size - off : step;
		r = eng_http_feed(h, (const char *)data + off, n);
		off += n;
	}
	FUZZ_CHECK(r == 0 || r == 1 || r == -EPROTO || r == -EMSGSIZE,
	    "eng_http_feed: %d", r);
	if (r == 0)
		r = eng_http_eof(h);
	FUZZ_CHECK(eng_http_head_done(h) == (h->status != 0) ||
	    h->state == ENG_HTTP_ERROR, "head done, status %d", h->status);
	return r;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct eng_http h1, h2;
	static struct body b1, b2;
	int r1, r2;

	if (size > FUZZ_MAX_INPUT)
		return 0;
	check_container(data, size);
	check_list(data, size);
	check_event(data, size);

	r1 = http(data, size, 0, &h1, &b1);
	r2 = http(data, size, size > 0 ? data[0] % 13 + 1 : 1, &h2, &b2);
	FUZZ_CHECK(r1 == r2, "whole %d, in pieces %d", r1, r2);
	FUZZ_CHECK(h1.status == h2.status, "status %d, %d", h1.status,
	    h2.status);
	if (r1 >= 0)
		FUZZ_CHECK(b1.len == b2.len && memcmp(b1.buf, b2.buf,
		    b1.len) == 0, "bodies differ (%zu, %zu bytes)", b1.len,
		    b2.len);
	if (r1 == 1 && h1.has_length && !h1.chunked && h1.status != 204 &&
	    h1.status != 304)
		FUZZ_CHECK(b1.len == h1.length, "Content-Length %llu, body "
		    "%zu", (unsigned long long)h1.length, b1.len);
	return 0;
}
