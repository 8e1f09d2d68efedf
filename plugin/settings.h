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
#include <stdint.h>
#include <sys/socket.h>

#include "firewall/firewall.h"
#include "plugin/log.h"

#define SET_DEFAULT_SOCKET	"/run/docker/plugins/cbridge.sock"
#define SET_DEFAULT_STATE_DIR	"/var/lib/cbridge"
#define SET_DEFAULT_PROC_ROOT	"/proc"
#define SET_DEFAULT_XTABLES_LOCK "/run/xtables.lock"
#define SET_DEFAULT_WSLINFO	"/usr/bin/wslinfo"
#define SET_SOCKET_MAX		107	/* sun_path less its NUL */
/* The DNS responder. */
#define SET_DEFAULT_DNS_ADDRESS	"169.254.53.53"
#define SET_DEFAULT_RESOLV_CONF	"/etc/resolv.conf"
#define SET_DEFAULT_SYSTEMD_RESOLV_CONF "/run/systemd/resolve/resolv.conf"
#define SET_DEFAULT_DOCKER_SOCKET "/var/run/docker.sock"
#define SET_DEFAULT_DNS_CACHE	4096	/* entries */
#define SET_DNS_CACHE_MAX	(1u << 20)

/* How containers reach the responder (DNS_MODE). */
enum dns_mode {
	DNS_MODE_OFF,		/* no responder */
	DNS_MODE_ADDRESS,	/* only at DNS_ADDRESS (containers need --dns) */
	DNS_MODE_INTERCEPT,	/* also 127.0.0.11:53, redirected in each sandbox */
};

struct settings {
	char		socket_path[SET_SOCKET_MAX + 1];
	char		state_dir[PATH_MAX];
	char		proc_root[PATH_MAX];
	enum log_level	log_level;
	const char	*default_pools;	/* borrowed; NULL or "" = built-in */
	char		xtables_lock[PATH_MAX];
	char		wslinfo[PATH_MAX];
	bool		obsolete_proxy;	/* USERLAND_PROXY was set: ignored */
	/* Which rule backend holds cbridge's rules (FIREWALL_BACKEND or
	 * --firewall-backend); auto lets the host firewall choose. */
	enum fw_backend	fw_backend;
	/* DNS: the responder runs when dns_enabled, listening in every
	 * sandbox on dns_addr (port 53). */
	bool		dns_enabled;	/* dns_mode != DNS_MODE_OFF */
	enum dns_mode	dns_mode;
	struct sockaddr_storage dns_addr;
	char		dns_address[64];	/* as given, for messages */
	const char	*dns_upstreams;	/* borrowed, validated; NULL or "":
					 * the resolv.conf */
	bool		dns_from_sandbox;	/* DNS_FORWARD_FROM=sandbox */
	uint32_t	dns_ttl;
	unsigned int	dns_cache;	/* entries, 0: no cache */
	char		resolv_conf[PATH_MAX];
	char		systemd_resolv_conf[PATH_MAX];
	char		docker_socket[PATH_MAX];	/* "": names not learned */
	/* SandboxKey paths under exec_root (dockerd's --exec-root) are
	 * opened under exec_root_mount instead (a managed plugin sees the
	 * host's directory there); "" for no rewriting. */
	char		exec_root[PATH_MAX];
	char		exec_root_mount[PATH_MAX];
	/* Where the host's / is reachable for an absolute symbolic link
	 * in DNS_RESOLV_CONF ("" for no rewriting). */
	char		host_root[PATH_MAX];
	bool		help;
	bool		version;
};

typedef const char *(*settings_getenv)(const char *name);

/* "off", "address", "intercept". */
const char *settings_dns_mode_str(enum dns_mode m);

int	settings_load(int argc, char *const argv[], settings_getenv get,
	    struct settings *ret, char *err, size_t errlen);
/* The usage text for --help. */
const char *settings_usage(void);

#endif
