/*
 * Integration test of the Docker Engine API client (plugin/engine.c)
 * against a fake engine: a thread of this process serving
 * GET /containers/json (chunked), GET /containers/{id}/json (404 for an
 * unknown container, optionally slow) and a chunked GET /events stream
 * the test pushes lines into, on a unix socket in the directory given as
 * argv[1] (tests/integration/engine.sh makes and removes it).  Needs no
 * root.  Checks the first sync, events, an outage and the resync after
 * it, a missing socket, and that eng_free() is prompt while the worker
 * waits on the engine.
 *
 * Prints "ok N - ..." lines and a final "N passed, M failed"; exits 1 if
 * anything failed.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "plugin/engine.h"
#include "tests/integration/itest.h"

/* 64 hex digits: 12 that tell them apart, then TAIL and one more. */
#define TAIL	"000000000000000000000000000000000000000000000000000"
#define ID_A	"aaaaaaaaaaaa" TAIL "1"
#define ID_B	"bbbbbbbbbbbb" TAIL "2"
#define ID_C	"cccccccccccc" TAIL "3"
#define ID_D	"dddddddddddd" TAIL "4"
#define ID_SLOW	"eeeeeeeeeeee" TAIL "5"
#define ID_GONE	"ffffffffffff" TAIL "6"
#define NET1	"111111111111" TAIL "0"
#define MAX_CTR	8
#define MAX_CONN 64

struct fake_ctr {
	const char	*id, *name, *alias;
	bool		running;	/* listed */
	bool		attached;	/* has an endpoint on NET1 */
	int		delay_ms;	/* before the inspect answer */
};

/* The fake engine.  mu guards everything but the thread handles. */
static struct {
	char		path[100];	/* fits sun_path */
	int		lfd, stop[2];
	pthread_t	thr;
	bool		up;
	pthread_mutex_t	mu;
	struct fake_ctr	ctr[MAX_CTR];
	size_t		nctr;
	int		evconn;		/* the /events client, -1 */
	char		evpath[512];	/* the path it asked for */
	int		nlist, ninspect, nevents;
	pthread_t	conn[MAX_CONN];
	size_t		nconn;
} fk = { .lfd = -1, .stop = { -1, -1 }, .evconn = -1,
	.mu = PTHREAD_MUTEX_INITIALIZER };

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
send_str(int fd, const char *s, size_t len)
{
	ssize_t n;

	while (len > 0 && (n = send(fd, s, len, MSG_NOSIGNAL)) > 0)
		s += n, len -= (size_t)n;
}

static void
reply(int fd, int status, const char *body)
{
	char head[256];
	int n;

	n = snprintf(head, sizeof(head), "HTTP/1.1 %d %s\r\nApi-Version: "
	    "1.41\r\nContent-Type: application/json\r\nContent-Length: %zu"
	    "\r\n\r\n", status, status == 200 ? "OK" : "Not Found",
	    strlen(body));
	send_str(fd, head, (size_t)n);
	send_str(fd, body, strlen(body));
}

static void
inspect_json(const struct fake_ctr *c, char *buf, size_t len)
{
	if (!c->attached) {
		snprintf(buf, len, "{\"Id\":\"%s\",\"Name\":\"/%s\",\"Config\":"
		    "{\"Hostname\":\"%.12s\"},\"NetworkSettings\":"
		    "{\"Networks\":{}}}", c->id, c->name, c->id);
		return;
	}
	snprintf(buf, len, "{\"Id\":\"%s\",\"Name\":\"/%s\",\"State\":"
	    "{\"Running\":true},\"Config\":{\"Hostname\":\"host-%s\"},"
	    "\"NetworkSettings\":{\"Networks\":{\"n1\":{\"NetworkID\":\"%s\","
	    "\"EndpointID\":\"%.12s0000ep\",\"Aliases\":[\"%s\",\"%.12s\"]},"
	    "\"n2\":{\"NetworkID\":\"%s\",\"EndpointID\":\"\"}}}}", c->id,
	    c->name, c->name, NET1, c->id, c->alias, c->id, NET1);
}

/* Sleeps ms unless the fake is stopped. */
static void
fake_sleep(int ms)
{
	struct pollfd p = { .fd = fk.stop[0], .events = POLLIN };

	(void) poll(&p, 1, ms);
}

static void *
conn_main(void *arg)
{
	int fd = (int)(intptr_t)arg;
	struct pollfd p[2] = { { .fd = fd, .events = POLLIN },
	    { .fd = fk.stop[0], .events = POLLIN } };
	char req[4096], path[512], body[4096];
	size_t len = 0;
	ssize_t n;

	while (len < sizeof(req) - 1) {
		if (poll(p, 2, 5000) <= 0 || p[1].revents != 0)
			goto out;
		if ((n = recv(fd, req + len, sizeof(req) - 1 - len, 0)) <= 0)
			goto out;
		len += (size_t)n;
		req[len] = '\0';
		if (strstr(req, "\r\n\r\n") != NULL)
			break;
	}
	if (sscanf(req, "GET %511s HTTP/1.1", path) != 1)
		goto out;
	if (strncmp(path, "/events?", 8) == 0) {
		static const char head[] = "HTTP/1.1 200 OK\r\nApi-Version: "
		    "1.41\r\nContent-Type: application/json\r\n"
		    "Transfer-Encoding: chunked\r\n\r\n";

		send_str(fd, head, strlen(head));
		pthread_mutex_lock(&fk.mu);
		if (fk.evconn >= 0)
			close(fk.evconn);
		fk.evconn = fd;
		fk.nevents++;
		snprintf(fk.evpath, sizeof(fk.evpath), "%s", path);
		pthread_mutex_unlock(&fk.mu);
		return NULL;	/* fd now belongs to the stream */
	}
	if (strcmp(path, "/containers/json") == 0) {
		/* Chunked, in two chunks, as a proxy might send it. */
		char chunk[64];
		size_t off = 1;

		pthread_mutex_lock(&fk.mu);
		fk.nlist++;
		body[0] = '[';
		for (size_t i = 0; i < fk.nctr; i++)
			if (fk.ctr[i].running)
				off += (size_t)snprintf(body + off,
				    sizeof(body) - off, "%s{\"Id\":\"%s\","
				    "\"Names\":[\"/%s\"]}", off > 1 ? "," : "",
				    fk.ctr[i].id, fk.ctr[i].name);
		snprintf(body + off, sizeof(body) - off, "]");
		pthread_mutex_unlock(&fk.mu);
		send_str(fd, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
		    "\r\n", 47);
		len = strlen(body);
		n = snprintf(chunk, sizeof(chunk), "%x;x=y\r\n", 1);
		send_str(fd, chunk, (size_t)n);
		send_str(fd, body, 1);
		n = snprintf(chunk, sizeof(chunk), "\r\n%zx\r\n", len - 1);
		send_str(fd, chunk, (size_t)n);
		send_str(fd, body + 1, len - 1);
		send_str(fd, "\r\n0\r\n\r\n", 7);
		goto out;
	}
	if (strncmp(path, "/containers/", 12) == 0 &&
	    strlen(path) == 12 + 64 + 5 && strcmp(path + 76, "/json") == 0) {
		struct fake_ctr c = { 0 };
		bool found = false;

		pthread_mutex_lock(&fk.mu);
		fk.ninspect++;
		for (size_t i = 0; i < fk.nctr; i++)
			if (strncmp(fk.ctr[i].id, path + 12, 64) == 0) {
				c = fk.ctr[i];
				found = true;
			}
		pthread_mutex_unlock(&fk.mu);
		if (c.delay_ms > 0)
			fake_sleep(c.delay_ms);
		if (!found) {
			reply(fd, 404, "{\"message\":\"No such container\"}\n");
			goto out;
		}
		inspect_json(&c, body, sizeof(body));
		reply(fd, 200, body);
		goto out;
	}
	reply(fd, 404, "{\"message\":\"page not found\"}\n");
out:
	close(fd);
	return NULL;
}

static void *
fake_main(void *arg)
{
	struct pollfd p[2] = { { .fd = fk.lfd, .events = POLLIN },
	    { .fd = fk.stop[0], .events = POLLIN } };
	int fd;

	(void) arg;
	for (;;) {
		if (poll(p, 2, -1) < 0 && errno != EINTR)
			break;
		if (p[1].revents != 0)
			break;
		if (!(p[0].revents & POLLIN))
			continue;
		if ((fd = accept4(fk.lfd, NULL, NULL, SOCK_CLOEXEC)) < 0)
			continue;
		if (fk.nconn >= MAX_CONN ||
		    pthread_create(&fk.conn[fk.nconn], NULL, conn_main,
		    (void *)(intptr_t)fd) != 0) {
			close(fd);
			continue;
		}
		fk.nconn++;
		/* Reap finished connections now and then. */
		if (fk.nconn == MAX_CONN) {
			for (size_t i = 0; i < fk.nconn; i++)
				pthread_join(fk.conn[i], NULL);
			fk.nconn = 0;
		}
	}
	return NULL;
}

static int
fake_start(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", fk.path);
	(void) unlink(fk.path);
	if (pipe(fk.stop) < 0 ||
	    (fk.lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    bind(fk.lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(fk.lfd, 64) < 0 ||
	    pthread_create(&fk.thr, NULL, fake_main, NULL) != 0) {
		perror("fake engine");
		return -1;
	}
	fk.up = true;
	return 0;
}

/* Like dockerd going away: the socket disappears, streams end. */
static void
fake_stop(void)
{
	if (!fk.up)
		return;
	(void) !write(fk.stop[1], "x", 1);
	pthread_join(fk.thr, NULL);
	for (size_t i = 0; i < fk.nconn; i++)
		pthread_join(fk.conn[i], NULL);
	fk.nconn = 0;
	close(fk.lfd);
	(void) unlink(fk.path);
	pthread_mutex_lock(&fk.mu);
	if (fk.evconn >= 0)
		close(fk.evconn);
	fk.evconn = -1;
	pthread_mutex_unlock(&fk.mu);
	close(fk.stop[0]);
	close(fk.stop[1]);
	fk.lfd = fk.stop[0] = fk.stop[1] = -1;
	fk.up = false;
}

static void
fake_add(const char *id, const char *name, const char *alias, bool running,
    bool attached, int delay_ms)
{
	pthread_mutex_lock(&fk.mu);
	fk.ctr[fk.nctr++] = (struct fake_ctr){ id, name, alias, running,
	    attached, delay_ms };
	pthread_mutex_unlock(&fk.mu);
}

static void
fake_del(const char *id)
{
	pthread_mutex_lock(&fk.mu);
	for (size_t i = 0; i < fk.nctr; i++)
		if (strcmp(fk.ctr[i].id, id) == 0) {
			/* Keeps the order: the list answers in it. */
			memmove(&fk.ctr[i], &fk.ctr[i + 1],
			    (fk.nctr - i - 1) * sizeof(fk.ctr[0]));
			fk.nctr--;
			break;
		}
	pthread_mutex_unlock(&fk.mu);
}

/* One line into the events stream, as one chunk.  The send may block
 * until the client reads, so not under mu (its inspects need it); only
 * the test's thread pushes or stops the fake. */
static void
fake_push(const char *line)
{
	char head[32];
	int fd, n;

	pthread_mutex_lock(&fk.mu);
	fd = fk.evconn;
	pthread_mutex_unlock(&fk.mu);
	if (fd < 0)
		return;
	n = snprintf(head, sizeof(head), "%zx\r\n", strlen(line) + 1);
	send_str(fd, head, (size_t)n);
	send_str(fd, line, strlen(line));
	send_str(fd, "\n\r\n", 3);
}

static void
push_connect(const char *id)
{
	char line[512];

	snprintf(line, sizeof(line), "{\"Type\":\"network\",\"Action\":"
	    "\"connect\",\"Actor\":{\"ID\":\"%s\",\"Attributes\":"
	    "{\"container\":\"%s\",\"name\":\"n1\",\"type\":\"cbridge\"}},"
	    "\"scope\":\"local\",\"time\":1}", NET1, id);
	fake_push(line);
}

/*
 * The client side
 */

static struct eng_update *pending;

/* The next update within ms, or NULL; the caller frees it. */
static struct eng_update *
next_update(struct eng *e, int ms)
{
	int64_t end = now_ms() + ms;
	struct pollfd p = { .fd = eng_fd(e), .events = POLLIN };
	struct eng_update *u, *t;

	while (pending == NULL) {
		int64_t left = end - now_ms();

		if (left < 0 || poll(&p, 1, (int)left) <= 0)
			return NULL;
		if ((u = eng_take(e)) == NULL)
			continue;
		for (t = u; t->next != NULL; t = t->next)
			;
		pending = u;
	}
	u = pending;
	pending = u->next;
	u->next = NULL;
	return u;
}

static void
drop_pending(void)
{
	eng_update_free(pending);
	pending = NULL;
}

/* Expects an update of kind (and id when not NULL); frees it. */
static struct eng_update *
expect(struct eng *e, enum eng_kind kind, const char *id, int ms,
    const char *what)
{
	struct eng_update *u = next_update(e, ms);

	ok(u != NULL && u->kind == kind && (id == NULL ||
	    strcmp(u->c.id, id) == 0), "%s: %s%s%.12s (got %s %.12s)", what,
	    eng_kind_str(kind), id != NULL ? " " : "", id != NULL ? id : "",
	    u != NULL ? eng_kind_str(u->kind) : "nothing",
	    u != NULL ? u->c.id : "");
	return u;
}

static void
expect_free(struct eng *e, enum eng_kind kind, const char *id, int ms,
    const char *what)
{
	eng_update_free(expect(e, kind, id, ms, what));
}

static const char *
joined(const struct eng_endpoint *ep)
{
	static char buf[1024];
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < ep->nnames; i++)
		off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%s%s",
		    i > 0 ? " " : "", ep->names[i]);
	return buf;
}

/* eng_free() and how long it took. */
static int64_t
timed_free(struct eng *e)
{
	int64_t t0 = now_ms();

	drop_pending();
	eng_free(e);
	return now_ms() - t0;
}

static void
test_sync_and_events(void)
{
	char err[256] = "", *big;
	struct eng_update *u;
	struct eng *e;
	int64_t ms;

	fake_add(ID_A, "alpha", "web", true, true, 0);
	fake_add(ID_B, "beta", "", true, false, 0);
	fake_add(ID_C, "gamma", "g", false, true, 0);	/* not running */
	if (fake_start() < 0)
		exit(1);
	e = eng_new(fk.path, err, sizeof(err));
	ok(e != NULL, "eng_new: %s", err);
	if (e == NULL)
		exit(1);
	expect_free(e, ENG_SYNC_BEGIN, NULL, 3000, "first sync");
	u = expect(e, ENG_CONTAINER, ID_A, 3000, "running container");
	if (u != NULL && u->kind == ENG_CONTAINER) {
		ok(u->c.neps == 1 && strcmp(u->c.eps[0].net_id, NET1) == 0 &&
		    strcmp(u->c.eps[0].net_name, "n1") == 0 &&
		    strncmp(u->c.eps[0].ep_id, ID_A, 12) == 0,
		    "one endpoint (the unattached one left out)");
		ok(u->c.neps == 1 && strcmp(joined(&u->c.eps[0]),
		    "alpha web aaaaaaaaaaaa host-alpha") == 0, "names: %s",
		    u->c.neps == 1 ? joined(&u->c.eps[0]) : "");
	}
	eng_update_free(u);
	u = expect(e, ENG_CONTAINER, ID_B, 3000, "container without network");
	ok(u != NULL && u->c.neps == 0, "sent with no endpoint");
	eng_update_free(u);
	expect_free(e, ENG_SYNC_END, NULL, 3000, "sync done");
	pthread_mutex_lock(&fk.mu);
	ok(fk.nlist == 1 && fk.nevents == 1 && fk.ninspect == 2,
	    "one list, one events stream, two inspects (%d %d %d)",
	    fk.nlist, fk.nevents, fk.ninspect);
	ok(strncmp(fk.evpath, "/events?filters=", 16) == 0 &&
	    strstr(fk.evpath, "%22destroy%22") != NULL &&
	    strstr(fk.evpath, "%22start%22") != NULL &&
	    strstr(fk.evpath, "%22restart%22") != NULL &&
	    strstr(fk.evpath, "%22die%22") != NULL &&
	    strstr(fk.evpath, "%22network%22") != NULL,
	    "unversioned, filtered events: %s", fk.evpath);
	pthread_mutex_unlock(&fk.mu);
	{
		struct pollfd p = { .fd = eng_fd(e), .events = POLLIN };

		ok(poll(&p, 1, 200) == 0, "eng_fd not readable when drained");
	}

	/* Events. */
	fake_add(ID_D, "delta", "d", true, true, 0);
	push_connect(ID_D);
	u = expect(e, ENG_CONTAINER, ID_D, 3000, "connect event");
	ok(u != NULL && u->c.neps == 1 && strcmp(joined(&u->c.eps[0]),
	    "delta d dddddddddddd host-delta") == 0, "its names");
	eng_update_free(u);
	fake_del(ID_A);
	fake_push("{\"status\":\"destroy\",\"Type\":\"container\",\"Action\":"
	    "\"destroy\",\"Actor\":{\"ID\":\"" ID_A "\",\"Attributes\":"
	    "{\"name\":\"alpha\"}}}");
	expect_free(e, ENG_REMOVED, ID_A, 3000, "destroy event");
	push_connect(ID_GONE);
	expect_free(e, ENG_REMOVED, ID_GONE, 3000, "connect of a container "
	    "gone by the inspect (404)");
	/* Noise, then a line over 64 KiB, then a rename. */
	fake_push("{\"Type\":\"image\",\"Action\":\"tag\"}");
	fake_push("not json");
	big = malloc(ENG_LINE_MAX + 100);
	memset(big, 'x', ENG_LINE_MAX + 99);
	big[ENG_LINE_MAX + 99] = '\0';
	fake_push(big);
	free(big);
	fake_push("{\"Type\":\"container\",\"Action\":\"rename\",\"Actor\":{"
	    "\"ID\":\"" ID_B "\",\"Attributes\":{\"name\":\"beta\"}}}");
	expect_free(e, ENG_CONTAINER, ID_B, 3000, "rename event after noise "
	    "and an over-long line");
	/* The process and its addresses change: inspected again. */
	fake_push("{\"status\":\"die\",\"Type\":\"container\",\"Action\":"
	    "\"die\",\"Actor\":{\"ID\":\"" ID_D "\",\"Attributes\":"
	    "{\"exitCode\":\"0\",\"name\":\"delta\"}}}");
	u = expect(e, ENG_CONTAINER, ID_D, 3000, "die event");
	ok(u != NULL && strcmp(u->c.name, "delta") == 0 && u->c.running,
	    "its name and state");
	eng_update_free(u);
	fake_push("{\"Type\":\"container\",\"Action\":\"start\",\"Actor\":{"
	    "\"ID\":\"" ID_B "\"}}");
	expect_free(e, ENG_CONTAINER, ID_B, 3000, "start event");

	/* dockerd goes away: one DOWN over several failed retries. */
	fake_stop();
	u = expect(e, ENG_DOWN, NULL, 3000, "outage");
	ok(u != NULL && strstr(u->msg, fk.path) != NULL &&
	    strstr(u->msg, "container names are not served") != NULL,
	    "message: %s", u != NULL ? u->msg : "");
	eng_update_free(u);
	u = next_update(e, 2000);	/* retries at 1 s (and 3 s) fail */
	ok(u == NULL, "no second DOWN while it stays away (%s)",
	    u != NULL ? eng_kind_str(u->kind) : "nothing");
	eng_update_free(u);
	if (fake_start() < 0)
		exit(1);
	expect_free(e, ENG_SYNC_BEGIN, NULL, 5000, "resync when back");
	expect_free(e, ENG_CONTAINER, ID_B, 3000, "resync: beta");
	expect_free(e, ENG_CONTAINER, ID_D, 3000, "resync: delta");
	expect_free(e, ENG_SYNC_END, NULL, 3000, "resync done");
	push_connect(ID_D);
	expect_free(e, ENG_CONTAINER, ID_D, 3000, "events again after the "
	    "resync");

	ms = timed_free(e);
	ok(ms < 1000, "eng_free while following events: %lld ms",
	    (long long)ms);
}

static void
test_missing_socket(const char *dir)
{
	char path[300], err[256] = "";
	struct eng_update *u;
	struct eng *e;
	int64_t ms;

	snprintf(path, sizeof(path), "%s/nope.sock", dir);
	e = eng_new(path, err, sizeof(err));
	ok(e != NULL, "eng_new without a socket: %s", err);
	if (e == NULL)
		return;
	u = expect(e, ENG_DOWN, NULL, 3000, "missing socket");
	ok(u != NULL && strstr(u->msg, "connect: No such file or directory") !=
	    NULL && strstr(u->msg, path) != NULL, "message: %s",
	    u != NULL ? u->msg : "");
	eng_update_free(u);
	usleep(1200 * 1000);	/* into the second retry's wait */
	ms = timed_free(e);
	ok(ms < 1000, "eng_free between retries: %lld ms", (long long)ms);

	/* Freed right away, while the first connect fails. */
	e = eng_new(path, err, sizeof(err));
	ms = timed_free(e);
	ok(e != NULL && ms < 1000, "eng_free at once: %lld ms", (long long)ms);
	ok(eng_free(NULL) == NULL, "eng_free(NULL)");
}

static void
test_slow_inspect(void)
{
	char err[256] = "";
	struct eng *e;
	int64_t ms;
	int n0;

	if (fake_start() < 0)
		exit(1);
	e = eng_new(fk.path, err, sizeof(err));
	if (e == NULL) {
		ok(0, "eng_new: %s", err);
		return;
	}
	expect_free(e, ENG_SYNC_BEGIN, NULL, 3000, "sync before the slow one");
	while (pending == NULL || pending->kind != ENG_SYNC_END) {
		struct eng_update *u = next_update(e, 3000);

		if (u == NULL)
			break;
		if (u->kind == ENG_SYNC_END) {
			eng_update_free(u);
			break;
		}
		eng_update_free(u);
	}
	fake_add(ID_SLOW, "slow", "s", true, true, 2000);
	pthread_mutex_lock(&fk.mu);
	n0 = fk.ninspect;
	pthread_mutex_unlock(&fk.mu);
	push_connect(ID_SLOW);
	usleep(300 * 1000);
	pthread_mutex_lock(&fk.mu);
	ok(fk.ninspect == n0 + 1, "the slow inspect is under way");
	pthread_mutex_unlock(&fk.mu);
	ms = timed_free(e);
	ok(ms < 1000, "eng_free during a slow inspect: %lld ms",
	    (long long)ms);
	fake_stop();
}

/* The loop does not drain: past ENG_QUEUE_MAX everything queued is
 * dropped, and once the loop takes again a full sync follows. */
static void
test_overflow(void)
{
	struct eng_update *u;
	char err[256] = "";
	struct eng *e;
	int64_t end;
	int n0, n = 0;

	if (fake_start() < 0)
		exit(1);
	e = eng_new(fk.path, err, sizeof(err));
	if (e == NULL) {
		ok(0, "eng_new: %s", err);
		return;
	}
	while ((u = next_update(e, 3000)) != NULL && u->kind != ENG_SYNC_END)
		eng_update_free(u);
	ok(u != NULL, "synced before the flood");
	eng_update_free(u);
	pthread_mutex_lock(&fk.mu);
	n0 = fk.ninspect;
	pthread_mutex_unlock(&fk.mu);
	for (int i = 0; i < ENG_QUEUE_MAX + 1; i++)
		push_connect(ID_D);
	end = now_ms() + 60000;
	while (n < ENG_QUEUE_MAX + 1 && now_ms() < end) {
		usleep(50 * 1000);
		pthread_mutex_lock(&fk.mu);
		n = fk.ninspect - n0;
		pthread_mutex_unlock(&fk.mu);
	}
	usleep(300 * 1000);
	pthread_mutex_lock(&fk.mu);
	n = fk.ninspect - n0;
	pthread_mutex_unlock(&fk.mu);
	ok(n == ENG_QUEUE_MAX + 1, "%d inspects, then no more until the "
	    "loop takes", n);
	/* What was queued is gone; a full sync comes instead. */
	u = expect(e, ENG_SYNC_BEGIN, NULL, 5000, "resync after the overflow");
	eng_update_free(u);
	while ((u = next_update(e, 3000)) != NULL && u->kind != ENG_SYNC_END)
		eng_update_free(u);
	ok(u != NULL, "resync done");
	eng_update_free(u);
	ok(timed_free(e) < 1000, "eng_free");
	fake_stop();
}

int
main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: engine_itest DIR\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	if (strlen(argv[1]) + sizeof("/docker.sock") > sizeof(fk.path)) {
		fprintf(stderr, "engine_itest: %s: path too long\n", argv[1]);
		return 2;
	}
	snprintf(fk.path, sizeof(fk.path), "%s/docker.sock", argv[1]);
	test_sync_and_events();
	fake_stop();
	test_missing_socket(argv[1]);
	test_slow_inspect();
	test_overflow();
	printf("%d passed, %d failed\n", npass, nfail);
	return nfail == 0 ? 0 : 1;
}
