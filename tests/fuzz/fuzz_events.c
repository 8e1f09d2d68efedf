/*
 * The Engine API's /events stream as the daemon reads it (plugin/engine.c,
 * session()): the HTTP reader without a body cap, its body through the
 * line splitter, each line through eng_parse_event(), the bytes handed
 * over in pieces of 1 to 16384 bytes (recv() into the daemon's 16 KiB
 * buffer).  The first byte chooses the shape, the second seeds the piece
 * sizes (xorshift):
 *
 *   byte 0 bit 0    raw: the rest is the whole response, head included
 *          bit 0 clear: the rest is the body, and the harness writes the
 *                   response around it:
 *          bits 1-2 0 chunked (chunk sizes, hex case and extensions from
 *                   the seed), 1 Content-Length, 2 ended by the close,
 *                   3 chunked after a 100 Continue, with a trailer
 *          bit 3    0xff k in the body stands for k * 1024 'x' bytes,
 *                   so that lines longer than ENG_LINE_MAX occur
 *
 * Checks (fuzz_engine covers the reader with a 4 KiB cap, whole against
 * fixed pieces, and the other parsers):
 *   - in pieces and whole: the same result, status and decoded body, also
 *     when an error cuts the stream; no error but -EPROTO, -EMSGSIZE
 *     (over the head or line caps) or -EPIPE at the end;
 *   - a response the harness wrote decodes to exactly its body and
 *     completes (at its end, or at the close);
 *   - the lines are those of a plain split of the decoded body: split at
 *     '\n', empty ones and the unterminated tail left out, the ones over
 *     ENG_LINE_MAX skipped and counted; in pieces and whole alike;
 *   - each line's eng_parse_event() keeps the promises of engine.h.
 */
#include <errno.h>
#include <string.h>

#include "plugin/engine.h"
#include "tests/fuzz/fuzz.h"

#define PIECE_MAX	16384
#define X_UNIT		1024
/* Bodies the harness writes: room for lines over ENG_LINE_MAX. */
#define BODY_MAX	(256u << 10)

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void) argc, (void) argv;
	fuzz_keep_stderr();
	return 0;
}

/* A growing buffer; { NULL, 0, 0 } is empty.  The harness's buffers are
 * static and keep their room from one input to the next: fresh pages for
 * each input made the page faults cost more than the code under test. */
struct buf {
	uint8_t		*p;
	size_t		len, cap;
};

static void
add(struct buf *b, const void *data, size_t len)
{
	if (len > b->cap - b->len) {
		size_t cap = b->cap > 0 ? b->cap : 4096;

		while (len > cap - b->len)
			cap *= 2;
		if ((b->p = realloc(b->p, cap)) == NULL)
			abort();
		b->cap = cap;
	}
	if (len > 0)
		memcpy(b->p + b->len, data, len);
	b->len += len;
}

static void
adds(struct buf *b, const char *s)
{
	add(b, s, strlen(s));
}

static bool
same(const struct buf *a, const struct buf *b)
{
	return a->len == b->len && (a->len == 0 ||
	    memcmp(a->p, b->p, a->len) == 0);
}

/* The lines one run saw, end to end with their lengths. */
struct seen {
	struct buf	lines;
	size_t		n;
};

static int
on_line(void *arg, const char *line, size_t len)
{
	struct seen *s = arg;
	char id[ENG_ID_LEN + 1];
	enum eng_event ev;
	uint32_t l = (uint32_t)len;
	int r;

	FUZZ_CHECK(len >= 1 && len <= ENG_LINE_MAX, "line of %zu bytes", len);
	FUZZ_CHECK(memchr(line, '\n', len) == NULL, "newline in a line");
	add(&s->lines, &l, sizeof(l));
	add(&s->lines, line, len);
	s->n++;
	r = eng_parse_event(line, len, &ev, id);
	FUZZ_CHECK(r == 0 || r == -EINVAL, "eng_parse_event: %d", r);
	FUZZ_CHECK(ev == ENG_EV_IGNORE || ev == ENG_EV_INSPECT ||
	    ev == ENG_EV_REMOVED, "event %d", (int)ev);
	FUZZ_CHECK(r == 0 || ev == ENG_EV_IGNORE, "event on error");
	if (ev == ENG_EV_IGNORE)
		FUZZ_CHECK(id[0] == '\0', "ID without event");
	else
		FUZZ_CHECK(eng_id_valid(id, strlen(id)), "bad ID '%.70s'", id);
	return 0;
}

/* One run: the reader, the decoded body kept beside the splitter. */
struct run {
	struct eng_http	h;
	struct eng_lines l;
	struct buf	body;
	struct seen	seen;
	int		r;
};

static int
on_body(void *arg, const char *data, size_t len)
{
	struct run *x = arg;

	FUZZ_CHECK(len > 0, "empty body piece");
	add(&x->body, data, len);
	return eng_lines_feed(&x->l, data, len);
}

/* Feeds s whole (seed NULL) or in pieces, then the end of the stream
 * when the response wants more, as the daemon's session would see it. */
static void
run(struct run *x, const struct buf *s, uint32_t *seed)
{
	size_t off = 0;

	x->body.len = x->seen.lines.len = x->seen.n = 0;
	x->r = 0;
	if (eng_lines_init(&x->l, on_line, &x->seen) < 0)
		abort();
	eng_http_init(&x->h, 0, on_body, x);
	while (x->r == 0 && off < s->len) {
		size_t n = s->len - off;

		if (seed != NULL) {
			uint32_t r = fuzz_next(seed);
			size_t p = (r & 3) == 0 ? 1 + (r >> 8) % PIECE_MAX :
			    1 + (r >> 8) % 32;

			if (p < n)
				n = p;
		}
		x->r = eng_http_feed(&x->h, (const char *)s->p + off, n);
		off += n;
	}
	FUZZ_CHECK(x->r == 0 || x->r == 1 || x->r == -EPROTO ||
	    x->r == -EMSGSIZE, "eng_http_feed: %d", x->r);
	if (x->r == 0)
		x->r = eng_http_eof(&x->h);
	FUZZ_CHECK(x->r == 1 || x->r == -EPROTO || x->r == -EMSGSIZE ||
	    x->r == -EPIPE, "result %d", x->r);
}


/* The plain split of a decoded body: lines, and those skipped. */
static void
split(const struct buf *body, struct seen *ret, size_t *ret_skipped)
{
	size_t start = 0;

	*ret_skipped = 0;
	for (size_t i = 0; i <= body->len; i++) {
		size_t len = i - start;
		bool end = i < body->len && body->p[i] == '\n';

		if (!end && i < body->len)
			continue;
		if (len > ENG_LINE_MAX)
			(*ret_skipped)++;
		else if (end && len > 0) {
			uint32_t l = (uint32_t)len;

			add(&ret->lines, &l, sizeof(l));
			add(&ret->lines, body->p + start, len);
			ret->n++;
		}
		start = i + 1;
	}
}

/* The body from the input, 0xff k expanded when asked. */
static void
make_body(const uint8_t *in, size_t n, bool expand, struct buf *ret)
{
	static uint8_t xs[X_UNIT];

	memset(xs, 'x', sizeof(xs));
	for (size_t i = 0; i < n && ret->len < BODY_MAX; i++) {
		if (expand && in[i] == 0xff && i + 1 < n) {
			for (unsigned int k = in[++i]; k > 0 &&
			    ret->len < BODY_MAX; k--)
				add(ret, xs, sizeof(xs));
			continue;
		}
		add(ret, in + i, 1);
	}
}

/* A response around body, framed as mode says. */
static void
make_response(const struct buf *body, unsigned int mode, uint32_t seed,
    struct buf *ret)
{
	char line[64];
	size_t off = 0;

	switch (mode) {
	case 1:
		(void) snprintf(line, sizeof(line), "%zu", body->len);
		adds(ret, "HTTP/1.1 200 OK\r\nContent-Type: application/json"
		    "\r\nContent-Length: ");
		adds(ret, line);
		adds(ret, "\r\n\r\n");
		add(ret, body->p, body->len);
		return;
	case 2:
		adds(ret, "HTTP/1.0 200 OK\nConnection: close\n\n");
		add(ret, body->p, body->len);
		return;
	case 3:
		adds(ret, "HTTP/1.1 100 Continue\r\n\r\n");
		break;
	default:
		break;
	}
	adds(ret, "HTTP/1.1 200 OK\r\nApi-Version: 1.41\r\nTransfer-Encoding: "
	    "chunked\r\n\r\n");
	while (off < body->len) {
		uint32_t r = fuzz_next(&seed);
		size_t n = (r & 7) == 0 ? 1 + (r >> 8) % 70000 :
		    1 + (r >> 8) % 300;

		if (n > body->len - off)
			n = body->len - off;
		(void) snprintf(line, sizeof(line), r & 16 ? "%zX%s\r\n" :
		    "%zx%s\r\n", n, r & 32 ? ";ext=\"1\"" : "");
		adds(ret, line);
		add(ret, body->p + off, n);
		adds(ret, r & 64 ? "\r\n" : "\n");
		off += n;
	}
	adds(ret, mode == 3 ? "0\r\nX-Trailer: 1\r\n\r\n" : "0\r\n\r\n");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct run whole, pieces;
	static struct buf stream, body;
	static struct seen want;
	size_t skipped;
	uint32_t seed;
	bool built;

	if (size < 2 || size > FUZZ_MAX_INPUT)
		return 0;
	built = (data[0] & 1) == 0;
	seed = 0x2545f491u ^ data[1] * 0x01000193u;
	stream.len = body.len = want.lines.len = want.n = 0;
	if (built) {
		make_body(data + 2, size - 2, (data[0] & 8) != 0, &body);
		make_response(&body, (data[0] >> 1) & 3, seed, &stream);
	} else
		add(&stream, data + 2, size - 2);

	run(&whole, &stream, NULL);
	run(&pieces, &stream, &seed);
	FUZZ_CHECK(whole.r == pieces.r, "whole %d, in pieces %d", whole.r,
	    pieces.r);
	FUZZ_CHECK(whole.h.status == pieces.h.status, "status %d, %d",
	    whole.h.status, pieces.h.status);
	FUZZ_CHECK(same(&whole.body, &pieces.body), "bodies differ (%zu, "
	    "%zu bytes)", whole.body.len, pieces.body.len);
	if (built) {
		FUZZ_CHECK(whole.r == 1 && whole.h.status == 200,
		    "our response: %d, status %d", whole.r, whole.h.status);
		FUZZ_CHECK(same(&whole.body, &body), "our body decoded to "
		    "%zu bytes, not %zu", whole.body.len, body.len);
	}

	/* The lines of the decoded body, whatever happened after it. */
	split(&whole.body, &want, &skipped);
	FUZZ_CHECK(whole.seen.n == want.n && same(&whole.seen.lines,
	    &want.lines), "%zu lines, want %zu", whole.seen.n, want.n);
	FUZZ_CHECK(pieces.seen.n == want.n && same(&pieces.seen.lines,
	    &want.lines), "in pieces: %zu lines, want %zu",
	    pieces.seen.n, want.n);
	FUZZ_CHECK(whole.l.nskipped == skipped &&
	    pieces.l.nskipped == skipped, "skipped %zu and %zu, want %zu",
	    whole.l.nskipped, pieces.l.nskipped, skipped);

	eng_lines_done(&whole.l);
	eng_lines_done(&pieces.l);
	return 0;
}
