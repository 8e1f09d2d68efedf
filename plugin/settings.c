#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "plugin/errmsg.h"
#include "plugin/options.h"
#include "plugin/settings.h"

const char *
settings_usage(void)
{
	return
	    "usage: cbridge [--socket PATH] [--state-dir DIR] [--log-level LEVEL]\n"
	    "\n"
	    "Docker network and IPAM plugin.  Settings (environment):\n"
	    "  SOCKET                 unix socket to serve (" SET_DEFAULT_SOCKET ")\n"
	    "  STATE_DIR              where networks and allocations persist ("
	    SET_DEFAULT_STATE_DIR ")\n"
	    "  LOG_LEVEL              error, warn, info or debug (info)\n"
	    "  DEFAULT_ADDRESS_POOLS  pools for automatic subnets, as dockerd's\n"
	    "                         default-address-pools: '[{\"base\":\"10.10.0.0/16\",\"size\":24}]'\n"
	    "                         or 'base=10.10.0.0/16,size=24 ...'\n"
	    "  PROC_ROOT              where the host's /proc is mounted (/proc)\n"
	    "  XTABLES_LOCK           the iptables lock file (" SET_DEFAULT_XTABLES_LOCK ")\n"
	    "  WSLINFO                WSL2's wslinfo, checked for mirrored networking\n"
	    "                         (" SET_DEFAULT_WSLINFO ")\n";
}

static int
set_path(char *dst, size_t max, const char *what, const char *v, char *err,
    size_t errlen)
{
	size_t n = strlen(v);

	if (n == 0 || n >= max || v[0] != '/') {
		ERR("%s '%s' must be an absolute path shorter than %zu bytes",
		    what, v, max);
		return -EINVAL;
	}
	memcpy(dst, v, n + 1);
	return 0;
}

int
settings_load(int argc, char *const argv[], settings_getenv get,
    struct settings *ret, char *err, size_t errlen)
{
	struct settings s = { .log_level = LOG_LVL_INFO };
	const char *sock = get("SOCKET"), *dir = get("STATE_DIR");
	const char *proc = get("PROC_ROOT"), *lvl = get("LOG_LEVEL");
	const char *proxy = get("USERLAND_PROXY"), *lock = get("XTABLES_LOCK");
	const char *wsl = get("WSLINFO");
	int r;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char **dst = NULL;

		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			s.help = true;
			continue;
		}
		if (strcmp(a, "--version") == 0) {
			s.version = true;
			continue;
		}
		if (strcmp(a, "--socket") == 0)
			dst = &sock;
		else if (strcmp(a, "--state-dir") == 0)
			dst = &dir;
		else if (strcmp(a, "--log-level") == 0)
			dst = &lvl;
		else {
			ERR("unknown argument '%s' (see --help)", a);
			return -EINVAL;
		}
		if (i + 1 >= argc) {
			ERR("%s needs a value", a);
			return -EINVAL;
		}
		*dst = argv[++i];
	}
	if ((r = set_path(s.socket_path, sizeof(s.socket_path), "SOCKET",
	    sock && *sock ? sock : SET_DEFAULT_SOCKET, err, errlen)) < 0 ||
	    (r = set_path(s.state_dir, sizeof(s.state_dir), "STATE_DIR",
	    dir && *dir ? dir : SET_DEFAULT_STATE_DIR, err, errlen)) < 0 ||
	    (r = set_path(s.proc_root, sizeof(s.proc_root), "PROC_ROOT",
	    proc && *proc ? proc : SET_DEFAULT_PROC_ROOT, err, errlen)) < 0 ||
	    (r = set_path(s.xtables_lock, sizeof(s.xtables_lock),
	    "XTABLES_LOCK", lock && *lock ? lock : SET_DEFAULT_XTABLES_LOCK,
	    err, errlen)) < 0 ||
	    (r = set_path(s.wslinfo, sizeof(s.wslinfo), "WSLINFO",
	    wsl && *wsl ? wsl : SET_DEFAULT_WSLINFO, err, errlen)) < 0)
		return r;
	if (lvl != NULL && *lvl != '\0' &&
	    log_level_from_string(lvl, &s.log_level) < 0) {
		ERR("LOG_LEVEL '%s' is not one of error, warn, info, debug", lvl);
		return -EINVAL;
	}
	/* Earlier releases had it; cbridge now always publishes ports the
	 * way dockerd does with --userland-proxy=false. */
	s.obsolete_proxy = proxy != NULL && *proxy != '\0';
	s.default_pools = get("DEFAULT_ADDRESS_POOLS");
	*ret = s;
	return 0;
}
