#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <microhttpd.h>

#include "loop/loop.h"
#include "plugin/api.h"
#include "plugin/http.h"
#include "plugin/log.h"

struct http {
	struct MHD_Daemon	*mhd;
	struct api		*api;	/* borrowed */
	int			listen_fd;
	struct loop_fd		*lfd;	/* MHD's epoll fd on the loop */
	struct loop_timer	*timer;	/* MHD's own deadlines, and a run
					 * after a connection resumes */
};

/* One per request, freed in on_completed. */
struct http_req {
	char	*buf;
	size_t	len;
	size_t	cap;
	bool	too_big;
	/* A reply that waited for the driver: the connection was suspended
	 * and is resumed to send it. */
	struct http		*h;
	struct MHD_Connection	*conn;
	bool			waiting;
	bool			have_reply;
	struct api_reply	reply;
};

static int
append(struct http_req *rq, const char *data, size_t n)
{
	size_t want;
	char *nb;

	if (n > API_BODY_MAX - rq->len)
		return -E2BIG;
	want = rq->len + n + 1;
	if (want > rq->cap) {
		size_t cap = rq->cap ? rq->cap : 1024;

		while (cap < want)
			cap *= 2;
		nb = realloc(rq->buf, cap);
		if (nb == NULL)
			return -ENOMEM;
		rq->buf = nb;
		rq->cap = cap;
	}
	memcpy(rq->buf + rq->len, data, n);
	rq->len += n;
	rq->buf[rq->len] = '\0';
	return 0;
}

static enum MHD_Result
send_reply(struct MHD_Connection *c, struct api_reply *rep)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	resp = MHD_create_response_from_buffer(rep->len, rep->body,
	    MHD_RESPMEM_MUST_FREE);
	if (resp == NULL) {
		free(rep->body);
		return MHD_NO;
	}
	(void) MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
	    "application/vnd.docker.plugins.v1.2+json");
	ret = MHD_queue_response(c, rep->status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result
send_error(struct MHD_Connection *c, unsigned int status, const char *msg)
{
	struct api_reply rep;

	log_warnx("HTTP %u: %s", status, msg);
	if (api_error_reply(status, msg, &rep) < 0)
		return MHD_NO;
	return send_reply(c, &rep);
}

static bool
declared_too_big(struct MHD_Connection *c)
{
	const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_CONTENT_LENGTH);
	unsigned long long v = 0;

	if (cl == NULL)
		return false;
	for (; *cl >= '0' && *cl <= '9'; cl++) {
		v = v * 10 + (unsigned long long)(*cl - '0');
		if (v > API_BODY_MAX)
			return true;
	}
	return false;
}

static void	on_reply(void *ctx, struct api_reply *rep);

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_data_size, void **con_cls)
{
	struct http *h = cls;
	struct http_req *rq = *con_cls;
	struct api_reply rep;

	(void) version;
	if (rq == NULL) {
		rq = calloc(1, sizeof(*rq));
		if (rq == NULL)
			return MHD_NO;
		*con_cls = rq;
		/* Refuse at once rather than read a body we will drop. */
		if (declared_too_big(c)) {
			rq->too_big = true;
			return send_error(c, 413,
			    "request body too large (limit 256 KiB)");
		}
		return MHD_YES;
	}
	if (*upload_data_size > 0) {
		if (!rq->too_big && append(rq, upload_data,
		    *upload_data_size) < 0) {
			rq->too_big = true;
			free(rq->buf);
			rq->buf = NULL;
			rq->len = rq->cap = 0;
		}
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (rq->too_big)
		return send_error(c, 413,
		    "request body too large (limit 256 KiB)");
	if (rq->have_reply) {
		rq->have_reply = false;
		return send_reply(c, &rq->reply);
	}
	if (rq->waiting)
		return MHD_YES;
	if (strcmp(method, MHD_HTTP_METHOD_POST) != 0)
		return send_error(c, MHD_HTTP_METHOD_NOT_ALLOWED,
		    "only POST is supported");
	rq->h = h;
	rq->conn = c;
	switch (api_start(h->api, url, rq->buf ? rq->buf : "", rq->len, &rep,
	    on_reply, rq)) {
	case 0:
		return send_reply(c, &rep);
	case 1:
		/* The loop goes on; on_reply resumes this connection. */
		rq->waiting = true;
		MHD_suspend_connection(c);
		return MHD_YES;
	default:
		return MHD_NO;
	}
}

/* The driver finished: the reply goes out on the connection's next turn. */
static void
on_reply(void *ctx, struct api_reply *rep)
{
	struct http_req *rq = ctx;

	rq->reply = *rep;
	rq->have_reply = true;
	rq->waiting = false;
	MHD_resume_connection(rq->conn);
	loop_timer_arm(rq->h->timer, 0);
}

static void
on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct http_req *rq = *con_cls;

	(void) cls, (void) c, (void) toe;
	if (rq != NULL) {
		if (rq->have_reply)
			free(rq->reply.body);
		free(rq->buf);
		free(rq);
		*con_cls = NULL;
	}
}

static void
on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char buf[512];

	(void) cls;
	if (!log_enabled(LOG_LVL_DEBUG))
		return;
	(void) vsnprintf(buf, sizeof(buf), fmt, ap);
	log_debug("microhttpd: %s", buf);
}

/* Runs MHD and sets the timer to its next deadline. */
static void
run_mhd(struct http *h)
{
	MHD_UNSIGNED_LONG_LONG t;

	(void) MHD_run(h->mhd);
	if (MHD_get_timeout(h->mhd, &t) == MHD_YES)
		loop_timer_arm(h->timer, t > 60000 ? 60000 : t);
	else
		loop_timer_disarm(h->timer);
}

static void
on_mhd_fd(void *arg, uint32_t events)
{
	(void) events;
	run_mhd(arg);
}

static void
on_mhd_timer(void *arg)
{
	run_mhd(arg);
}

int
http_new(int listen_fd, struct api *a, struct loop *loop, struct http **ret,
    char *err, size_t errlen)
{
	struct http *h = calloc(1, sizeof(*h));
	const union MHD_DaemonInfo *info;

	if (h == NULL) {
		(void) close(listen_fd);
		return -ENOMEM;
	}
	h->api = a;
	h->listen_fd = listen_fd;
	/* No threading flag: MHD creates no threads and is driven by our
	 * loop through its epoll fd.  No idle timeout: dockerd keeps its
	 * connections and a POST on a closed one is not retried. */
	h->mhd = MHD_start_daemon(MHD_USE_EPOLL | MHD_USE_ERROR_LOG |
	    MHD_ALLOW_SUSPEND_RESUME, 0, NULL,
	    NULL, on_request, h,
	    MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, h,
	    MHD_OPTION_LISTEN_SOCKET, listen_fd,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned int)HTTP_MAX_CONNECTIONS,
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
	    MHD_OPTION_END);
	if (h->mhd == NULL) {
		(void) snprintf(err, errlen, "Failed to start the HTTP server");
		(void) close(listen_fd);
		free(h);
		return -EIO;
	}
	info = MHD_get_daemon_info(h->mhd, MHD_DAEMON_INFO_EPOLL_FD);
	if (info == NULL || (h->timer = loop_timer_new(loop, on_mhd_timer,
	    h)) == NULL || (h->lfd = loop_fd_add(loop, info->epoll_fd,
	    EPOLLIN, on_mhd_fd, h)) == NULL) {
		(void) snprintf(err, errlen, "Failed to start the HTTP server: "
		    "%s", strerror(errno ? errno : ENOMEM));
		http_free(h);
		return -EIO;
	}
	*ret = h;
	return 0;
}

struct http *
http_free(struct http *h)
{
	if (h == NULL)
		return NULL;
	loop_fd_free(h->lfd);
	loop_timer_free(h->timer);
	if (h->mhd != NULL) {
		MHD_socket fd = MHD_quiesce_daemon(h->mhd);

		MHD_stop_daemon(h->mhd);
		if (fd != MHD_INVALID_SOCKET)
			(void) close(fd);
	}
	free(h);
	return NULL;
}
