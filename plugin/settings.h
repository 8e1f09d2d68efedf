/*
 * Daemon settings from the environment (what `docker plugin set` changes)
 * and the command line (which wins).  Pure: the environment is read through
 * the getter passed in.
 */
#ifndef CBRIDGE_SETTINGS_H
#define CBRIDGE_SETTINGS_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "plugin/log.h"

#define SET_DEFAULT_SOCKET	"/run/docker/plugins/cbridge.sock"
#define SET_DEFAULT_STATE_DIR	"/var/lib/cbridge"
#define SET_DEFAULT_PROC_ROOT	"/proc"
#define SET_DEFAULT_XTABLES_LOCK "/run/xtables.lock"
#define SET_DEFAULT_WSLINFO	"/usr/bin/wslinfo"
#define SET_SOCKET_MAX		107	/* sun_path less its NUL */

struct settings {
	char		socket_path[SET_SOCKET_MAX + 1];
	char		state_dir[PATH_MAX];
	char		proc_root[PATH_MAX];
	enum log_level	log_level;
	const char	*default_pools;	/* borrowed; NULL or "" = built-in */
	char		xtables_lock[PATH_MAX];
	char		wslinfo[PATH_MAX];
	bool		obsolete_proxy;	/* USERLAND_PROXY was set: ignored */
	bool		help;
	bool		version;
};

typedef const char *(*settings_getenv)(const char *name);

int	settings_load(int argc, char *const argv[], settings_getenv get,
	    struct settings *ret, char *err, size_t errlen);
/* The usage text for --help. */
const char *settings_usage(void);

#endif
