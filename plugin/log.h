/*
 * Leveled logging: warnings and errors to stderr, info and debug to
 * stdout (dockerd logs a managed plugin's stderr at level=error).  One
 * line per event; the level is taken from
 * LOG_LEVEL (error, warn, info, debug) by log_init().  Arguments are not
 * formatted when the level is filtered out.
 */
#ifndef CBRIDGE_LOG_H
#define CBRIDGE_LOG_H

#include <stdbool.h>

enum log_level {
	LOG_LVL_ERROR,
	LOG_LVL_WARN,
	LOG_LVL_INFO,
	LOG_LVL_DEBUG,
	LOG_LVL_MAX,
};

/* Parses "error", "warn", "info", "debug" (any case); -EINVAL otherwise. */
int	log_level_from_string(const char *s, enum log_level *ret);
const char *log_level_to_string(enum log_level l);

void	log_set_level(enum log_level l);
bool	log_enabled(enum log_level l);

void	log_msg(enum log_level l, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

#define log_error(...)	log_msg(LOG_LVL_ERROR, __VA_ARGS__)
#define log_warnx(...)	log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_info(...)	log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...)	do { if (log_enabled(LOG_LVL_DEBUG)) \
	log_msg(LOG_LVL_DEBUG, __VA_ARGS__); } while (0)

#endif
