#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns/answer.h"
#include "dns/conf.h"

#include "plugin/errmsg.h"
#include "plugin/options.h"
#include "plugin/settings.h"

const char *
settings_usage(void)
{
	return
	    "usage: cbridge [--socket PATH] [--state-dir DIR] [--log-level LEVEL]\n"
	    "               [--firewall-backend auto|iptables|nftables]\n"
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
	    "                         (" SET_DEFAULT_WSLINFO ")\n"
	    "  FIREWALL_BACKEND       what holds cbridge's rules: iptables (libiptc, the\n"
	    "                         legacy tables), nftables (its own nft tables), or\n"
	    "                         auto (default): nftables where dockerd runs its\n"
	    "                         nftables backend or the kernel has no legacy\n"
	    "                         iptables, else iptables\n"
	    "  DNS_MODE               intercept (default): also answer what containers send\n"
	    "                         to 127.0.0.11:53; address: only at DNS_ADDRESS\n"
	    "                         (containers need --dns); off: no responder\n"
	    "  DNS_ADDRESS            the DNS responder's address in every sandbox\n"
	    "                         (" SET_DEFAULT_DNS_ADDRESS "), or 'off'\n"
	    "  DNS_UPSTREAMS          up to 3 upstream servers, e.g. '192.0.2.1,[2001:db8::1]:53';\n"
	    "                         empty: the nameservers of DNS_RESOLV_CONF\n"
	    "  DNS_FORWARD_FROM       host or sandbox: the namespace upstream queries\n"
	    "                         leave from (host)\n"
	    "  DNS_TTL                TTL of container records, seconds (600)\n"
	    "  DNS_CACHE_SIZE         upstream replies cached, entries (4096; 0: none)\n"
	    "  DNS_RESOLV_CONF        the host's resolv.conf (" SET_DEFAULT_RESOLV_CONF ")\n"
	    "  DNS_SYSTEMD_RESOLV_CONF  read instead when that lists only 127.0.0.53\n"
	    "                         (" SET_DEFAULT_SYSTEMD_RESOLV_CONF ")\n"
	    "  DOCKER_SOCKET          the Engine API, for container names\n"
	    "                         (" SET_DEFAULT_DOCKER_SOCKET "), or 'off'\n"
	    "  DOCKER_EXEC_ROOT, DOCKER_EXEC_ROOT_MOUNT  SandboxKey paths under the\n"
	    "                         first are opened under the second (unset)\n"
	    "  HOST_ROOT              where the host's / is, for an absolute link in\n"
	    "                         DNS_RESOLV_CONF (unset)\n"
	    "\n"
	    "cbridge status [--socket PATH] [--json]: the firewall backend, its last\n"
	    "                         sync and the networks of a running daemon.\n"
	    "cbridge dns-stats [--socket PATH] [--json]: the DNS responders' counters.\n";
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

static bool
is_off(const char *v)
{
	return strcmp(v, "off") == 0 || strcmp(v, "none") == 0 ||
	    strcmp(v, "false") == 0 || strcmp(v, "0") == 0;
}

/* An unsigned decimal number up to max. */
static int
parse_uint(const char *v, unsigned long max, unsigned long *ret)
{
	char *end;
	unsigned long n;

	if (v[0] < '0' || v[0] > '9')
		return -EINVAL;
	errno = 0;
	n = strtoul(v, &end, 10);
	if (errno != 0 || *end != '\0' || n > max)
		return -EINVAL;
	*ret = n;
	return 0;
}

const char *
settings_dns_mode_str(enum dns_mode m)
{
	switch (m) {
	case DNS_MODE_OFF:
		return "off";
	case DNS_MODE_ADDRESS:
		return "address";
	case DNS_MODE_INTERCEPT:
		return "intercept";
	}
	return "?";
}

static int
dns_settings(settings_getenv get, struct settings *s, char *err,
    size_t errlen)
{
	const char *addr = get("DNS_ADDRESS"), *ups = get("DNS_UPSTREAMS");
	const char *from = get("DNS_FORWARD_FROM"), *ttl = get("DNS_TTL");
	const char *cache = get("DNS_CACHE_SIZE"), *rc = get("DNS_RESOLV_CONF");
	const char *src = get("DNS_SYSTEMD_RESOLV_CONF");
	const char *dsock = get("DOCKER_SOCKET"), *mode = get("DNS_MODE");
	struct sockaddr_in *s4 = (struct sockaddr_in *)&s->dns_addr;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&s->dns_addr;
	struct dns_upstreams u;
	unsigned long n;
	int r;

	if (addr == NULL || *addr == '\0')
		addr = SET_DEFAULT_DNS_ADDRESS;
	if (mode == NULL || *mode == '\0')
		s->dns_mode = DNS_MODE_INTERCEPT;
	else if (strcmp(mode, "intercept") == 0)
		s->dns_mode = DNS_MODE_INTERCEPT;
	else if (strcmp(mode, "address") == 0)
		s->dns_mode = DNS_MODE_ADDRESS;
	else if (strcmp(mode, "off") == 0)
		s->dns_mode = DNS_MODE_OFF;
	else {
		ERR("DNS_MODE '%s' is not 'intercept', 'address' or 'off'",
		    mode);
		return -EINVAL;
	}
	/* DNS_ADDRESS=off, the older switch, still turns the responder off. */
	if (is_off(addr))
		s->dns_mode = DNS_MODE_OFF;
	s->dns_enabled = s->dns_mode != DNS_MODE_OFF;
	if (s->dns_enabled) {
		if (strlen(addr) >= sizeof(s->dns_address)) {
			ERR("DNS_ADDRESS '%.64s...' is too long", addr);
			return -EINVAL;
		}
		memcpy(s->dns_address, addr, strlen(addr) + 1);
		if (inet_pton(AF_INET, addr, &s4->sin_addr) == 1) {
			s4->sin_family = AF_INET;
			s4->sin_port = htons(53);
		} else if (inet_pton(AF_INET6, addr, &s6->sin6_addr) == 1) {
			s6->sin6_family = AF_INET6;
			s6->sin6_port = htons(53);
		} else {
			ERR("DNS_ADDRESS '%s' is not an IPv4 or IPv6 address "
			    "(or 'off')", addr);
			return -EINVAL;
		}
		if ((s4->sin_family == AF_INET &&
		    (s4->sin_addr.s_addr == htonl(INADDR_ANY) ||
		    IN_MULTICAST(ntohl(s4->sin_addr.s_addr)))) ||
		    (s6->sin6_family == AF_INET6 &&
		    (IN6_IS_ADDR_UNSPECIFIED(&s6->sin6_addr) ||
		    IN6_IS_ADDR_MULTICAST(&s6->sin6_addr)))) {
			ERR("DNS_ADDRESS '%s' must be a unicast address", addr);
			return -EINVAL;
		}
		/* The redirect is an IPv4 NAT rule (127.0.0.11 is IPv4): an
		 * IPv6 responder can only be reached at its address. */
		if (s6->sin6_family == AF_INET6 &&
		    s->dns_mode == DNS_MODE_INTERCEPT) {
			if (mode != NULL && *mode != '\0') {
				ERR("DNS_MODE 'intercept' needs an IPv4 "
				    "DNS_ADDRESS (127.0.0.11 is redirected "
				    "with IPv4 NAT); '%s' is IPv6: set "
				    "DNS_MODE=address or an IPv4 address",
				    addr);
				return -EINVAL;
			}
			s->dns_mode = DNS_MODE_ADDRESS;
		}
	}
	if (ups != NULL && *ups != '\0') {
		char e[256];

		if (dns_upstreams_from_env(ups, &u, e, sizeof(e)) < 0) {
			ERR("DNS_UPSTREAMS: %s", e);
			return -EINVAL;
		}
		s->dns_upstreams = ups;
	}
	if (from == NULL || *from == '\0' || strcmp(from, "host") == 0)
		s->dns_from_sandbox = false;
	else if (strcmp(from, "sandbox") == 0)
		s->dns_from_sandbox = true;
	else {
		ERR("DNS_FORWARD_FROM '%s' is not 'host' or 'sandbox'", from);
		return -EINVAL;
	}
	s->dns_ttl = DNS_TTL_DEFAULT;
	if (ttl != NULL && *ttl != '\0') {
		if (parse_uint(ttl, DNS_TTL_MAX, &n) < 0) {
			ERR("DNS_TTL '%s' is not a number of seconds from 0 to "
			    "%u", ttl, DNS_TTL_MAX);
			return -EINVAL;
		}
		s->dns_ttl = (uint32_t)n;
	}
	s->dns_cache = SET_DEFAULT_DNS_CACHE;
	if (cache != NULL && *cache != '\0') {
		if (parse_uint(cache, SET_DNS_CACHE_MAX, &n) < 0) {
			ERR("DNS_CACHE_SIZE '%s' is not a number of entries from "
			    "0 to %u", cache, SET_DNS_CACHE_MAX);
			return -EINVAL;
		}
		s->dns_cache = (unsigned int)n;
	}
	if ((r = set_path(s->resolv_conf, sizeof(s->resolv_conf),
	    "DNS_RESOLV_CONF", rc && *rc ? rc : SET_DEFAULT_RESOLV_CONF, err,
	    errlen)) < 0 || (r = set_path(s->systemd_resolv_conf,
	    sizeof(s->systemd_resolv_conf), "DNS_SYSTEMD_RESOLV_CONF",
	    src && *src ? src : SET_DEFAULT_SYSTEMD_RESOLV_CONF, err,
	    errlen)) < 0)
		return r;
	for (int i = 0; i < 3; i++) {
		static const char *const names[] = { "DOCKER_EXEC_ROOT",
		    "DOCKER_EXEC_ROOT_MOUNT", "HOST_ROOT" };
		char *dst = i == 0 ? s->exec_root : i == 1 ?
		    s->exec_root_mount : s->host_root;
		const char *v = get(names[i]);
		size_t len;

		if (v == NULL || *v == '\0')
			continue;
		if ((r = set_path(dst, PATH_MAX, names[i], v, err,
		    errlen)) < 0)
			return r;
		len = strlen(dst);
		while (len > 1 && dst[len - 1] == '/')
			dst[--len] = '\0';
	}
	if ((s->exec_root[0] == '\0') != (s->exec_root_mount[0] == '\0')) {
		ERR("DOCKER_EXEC_ROOT and DOCKER_EXEC_ROOT_MOUNT go together");
		return -EINVAL;
	}
	if (dsock == NULL || *dsock == '\0')
		dsock = SET_DEFAULT_DOCKER_SOCKET;
	if (!is_off(dsock) && (r = set_path(s->docker_socket,
	    sizeof(s->docker_socket), "DOCKER_SOCKET", dsock, err,
	    errlen)) < 0)
		return r;
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
	const char *wsl = get("WSLINFO"), *fwb = get("FIREWALL_BACKEND");
	const char *fwb_what = "FIREWALL_BACKEND";
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
		else if (strcmp(a, "--firewall-backend") == 0) {
			dst = &fwb;
			fwb_what = "--firewall-backend";
		} else {
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
	s.fw_backend = FW_BACKEND_AUTO;
	if (fwb != NULL && *fwb != '\0' &&
	    fw_backend_parse(fwb, &s.fw_backend) < 0) {
		ERR("%s '%s' is not one of auto, iptables, nftables", fwb_what,
		    fwb);
		return -EINVAL;
	}
	/* Earlier releases had it; cbridge now always publishes ports the
	 * way dockerd does with --userland-proxy=false. */
	s.obsolete_proxy = proxy != NULL && *proxy != '\0';
	s.default_pools = get("DEFAULT_ADDRESS_POOLS");
	if ((r = dns_settings(get, &s, err, errlen)) < 0)
		return r;
	*ret = s;
	return 0;
}
