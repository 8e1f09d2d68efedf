#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <errno.h>

#include "log.h"

static enum log_level cur_level = LOG_LVL_INFO;

static const char *const level_names[LOG_LVL_MAX] = {
	[LOG_LVL_ERROR] = "error",
	[LOG_LVL_WARN] = "warn",
	[LOG_LVL_INFO] = "info",
	[LOG_LVL_DEBUG] = "debug",
};

int
log_level_from_string(const char *s, enum log_level *ret)
{
	for (int i = 0; i < LOG_LVL_MAX; i++) {
		if (strcasecmp(s, level_names[i]) == 0) {
			*ret = (enum log_level)i;
			return 0;
		}
	}
	if (strcasecmp(s, "warning") == 0) {
		*ret = LOG_LVL_WARN;
		return 0;
	}
	return -EINVAL;
}

const char *
log_level_to_string(enum log_level l)
{
	return l < LOG_LVL_MAX ? level_names[l] : "?";
}

void
log_set_level(enum log_level l)
{
	cur_level = l;
}

bool
log_enabled(enum log_level l)
{
	return l <= cur_level;
}

void
log_msg(enum log_level l, const char *fmt, ...)
{
	char line[1024], out[1100];
	int n;
	struct timespec ts;
	struct tm tm;
	va_list ap;

	if (!log_enabled(l))
		return;
	va_start(ap, fmt);
	(void) vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* Messages quote request fields; keep one event on one line. */
	for (char *c = line; *c != '\0'; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = '?';
	(void) clock_gettime(CLOCK_REALTIME, &ts);
	(void) gmtime_r(&ts.tv_sec, &tm);
	/* One write per line so concurrent writers do not interleave.
	 * Warnings and errors go to stderr, the rest to stdout: dockerd
	 * logs a managed plugin's stderr at level=error and its stdout at
	 * level=info. */
	n = snprintf(out, sizeof(out),
	    "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %-5s %s\n",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000,
	    level_names[l], line);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(out)) {
		n = sizeof(out) - 1;
		out[n - 1] = '\n';
	}
	(void) write(l <= LOG_LVL_WARN ? STDERR_FILENO : STDOUT_FILENO,
	    out, (size_t)n);
}
