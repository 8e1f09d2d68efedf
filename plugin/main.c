/*
 * cbridge: Docker network and IPAM plugin daemon.  One loop (loop/loop.h)
 * owns the state: the HTTP server, signals, the periodic check and the
 * DNS responders register their fds and timers with it.  What may wait
 * runs on the driver's worker thread; names come from the Engine API
 * client's thread.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "firewall/firewall.h"
#include "loop/loop.h"
#include "netlink/netlink.h"
#include "plugin/api.h"
#include "plugin/cli.h"
#include "plugin/driver.h"
#include "plugin/fileutil.h"
#include "plugin/http.h"
#include "plugin/log.h"
#include "plugin/sandbox.h"
#include "plugin/settings.h"

#define CBRIDGE_VERSION	"0.1.0"

static const char *
env_get(const char *name)
{
	return getenv(name);
}

/* Takes the state directory for this process, so two daemons never write
 * one state file. */
static int
lock_state_dir(const char *dir)
{
	char path[PATH_MAX];
	int fd;

	if ((size_t)snprintf(path, sizeof(path), "%s/lock", dir) >=
	    sizeof(path))
		return -ENAMETOOLONG;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int r = -errno;

		(void) close(fd);
		return r == -EWOULDBLOCK ? -EBUSY : r;
	}
	return fd;
}

static int
open_socket(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char dir[sizeof(sa.sun_path)];
	char *slash;
	mode_t old;
	int fd, r;

	memcpy(sa.sun_path, path, strlen(path) + 1);
	memcpy(dir, path, strlen(path) + 1);
	slash = strrchr(dir, '/');
	if (slash != NULL && slash != dir) {
		*slash = '\0';
		(void) fu_mkdir_p(dir, 0755);
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	/* A socket someone still answers on is not stale. */
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
		(void) snprintf(err, errlen, "another process is serving '%s'",
		    path);
		(void) close(fd);
		return -EADDRINUSE;
	}
	(void) unlink(path);
	(void) close(fd);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	old = umask(0117);
	r = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (r < 0 || chmod(path, 0660) < 0 || listen(fd, 128) < 0) {
		r = -errno;
		(void) snprintf(err, errlen, "Failed to listen on '%s': %s",
		    path, strerror(-r));
		(void) close(fd);
		return r;
	}
	return fd;
}

/* How often the host is checked against the state (firewall rules that
 * someone flushed come back within two of these). */
#define TICK_MS		1000

static json_t *
dns_stats(void *arg)
{
	return sbx_stats_json(arg);
}

/* Every sandbox's responder holds a few fds: use the hard limit. */
static void
raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/* What the loop's callbacks of this file need. */
struct daemon {
	struct loop	*loop;
	struct drv	*drv;
	struct sbx	*sbx;
	int		sfd;
	struct loop_fd	*sig;
	struct loop_timer *tick;
};

static void
on_signal(void *arg, uint32_t events)
{
	struct daemon *dm = arg;
	struct signalfd_siginfo si;

	(void) events;
	while (read(dm->sfd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) {
			log_info("signal %u: shutting down", si.ssi_signo);
			loop_stop(dm->loop, 0);
		}
	}
}

static void
on_tick(void *arg)
{
	struct daemon *dm = arg;

	drv_tick(dm->drv);
	loop_timer_arm(dm->tick, TICK_MS);
}

/* The driver saved a change: the responders look at the joins again. */
static void
on_state_changed(void *arg)
{
	struct daemon *dm = arg;

	if (dm->sbx != NULL)
		sbx_sync(dm->sbx);
}

int
main(int argc, char *argv[])
{
	struct settings set;
	struct ipam_default_pool *pools = NULL;
	struct drv_params dp = { 0 };
	struct lnk *lnk = NULL, *wlnk = NULL;
	struct fw *fw = NULL;
	enum fw_backend fw_backend;
	const char *fw_why = "";
	struct fw_hostports *ports = NULL;
	struct drv *drv = NULL;
	struct sbx *sbx = NULL;
	struct api *api = NULL;
	struct http *http = NULL;
	struct daemon dm = { .sfd = -1 };
	char err[512] = "", chains[PATH_MAX + 32];
	sigset_t mask;
	int lockfd = -1, lfd = -1, sfd = -1, r, rc = EXIT_FAILURE;
	size_t npools = 0;

	if (argc > 1 && strcmp(argv[1], "dns-stats") == 0)
		return cli_dns_stats(argc, argv, SET_DEFAULT_SOCKET);
	if (argc > 1 && strcmp(argv[1], "status") == 0)
		return cli_status(argc, argv, SET_DEFAULT_SOCKET);
	if (settings_load(argc, argv, env_get, &set, err, sizeof(err)) < 0) {
		fprintf(stderr, "cbridge: %s\n", err);
		return 2;
	}
	if (set.help) {
		fputs(settings_usage(), stdout);
		return 0;
	}
	if (set.version) {
		printf("cbridge %s\n", CBRIDGE_VERSION);
		return 0;
	}
	log_set_level(set.log_level);
	if (set.default_pools != NULL && *set.default_pools != '\0' &&
	    ipam_parse_default_pools(set.default_pools, &pools, &npools, err,
	    sizeof(err)) < 0) {
		log_error("DEFAULT_ADDRESS_POOLS: %s", err);
		return 2;
	}

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	(void) signal(SIGPIPE, SIG_IGN);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0 ||
	    (sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK)) < 0) {
		log_error("Failed to set up signals: %s", strerror(errno));
		goto out;
	}

	if ((r = fu_mkdir_p(set.state_dir, 0700)) < 0) {
		log_error("Failed to create state directory '%s': %s",
		    set.state_dir, strerror(-r));
		goto out;
	}
	lockfd = lock_state_dir(set.state_dir);
	if (lockfd < 0) {
		log_error("Failed to lock state directory '%s': %s",
		    set.state_dir, lockfd == -EBUSY ?
		    "another cbridge is using it" : strerror(-lockfd));
		goto out;
	}
	if ((dm.loop = loop_new(err, sizeof(err))) == NULL) {
		log_error("%s", err);
		goto out;
	}
	dm.sfd = sfd;
	if ((dm.sig = loop_fd_add(dm.loop, sfd, EPOLLIN, on_signal, &dm)) ==
	    NULL || (dm.tick = loop_timer_new(dm.loop, on_tick, &dm)) == NULL) {
		log_error("Failed to set up the event loop: %s",
		    strerror(errno));
		goto out;
	}
	/* Two netlink handles: the loop's, and the worker's, which makes
	 * and removes links (a libnl socket serves one thread). */
	lnk = lnk_netlink_new(set.proc_root, err, sizeof(err));
	if (lnk != NULL)
		wlnk = lnk_netlink_new(set.proc_root, err, sizeof(err));
	if (lnk == NULL || wlnk == NULL) {
		log_error("%s", err);
		goto out;
	}
	if (set.obsolete_proxy)
		log_warnx("USERLAND_PROXY is no longer used: cbridge always "
		    "publishes ports through kernel NAT, as dockerd does with "
		    "--userland-proxy=false");
	(void) snprintf(chains, sizeof(chains), "%s/firewall-chains",
	    set.state_dir);
	fw = fw_host_new(&(struct fw_host_params){
	    .lock_path = set.xtables_lock, .wslinfo = set.wslinfo,
	    .chains_path = chains, .backend = set.fw_backend }, err,
	    sizeof(err));
	if (fw == NULL) {
		log_error("Failed to set up the firewall (FIREWALL_BACKEND=%s): "
		    "%s", fw_backend_name(set.fw_backend), err);
		goto out;
	}
	fw_backend = fw_host_backend(fw, &fw_why);
	log_info("firewall: %s backend (%s)", fw_backend_name(fw_backend),
	    fw_why);
	if ((ports = fw_hostports_new(err, sizeof(err))) == NULL) {
		log_error("%s", err);
		goto out;
	}
	dp = (struct drv_params){ .state_dir = set.state_dir, .lnk = lnk,
	    .worker_lnk = wlnk,
	    .fw = fw, .ports = ports, .loop = dm.loop, .pools = pools,
	    .npools = npools, .fw_backend = fw_backend, .fw_why = fw_why };
	if ((r = drv_new(&dp, &drv, err, sizeof(err))) < 0) {
		log_error("Failed to load state: %s", err);
		goto out;
	}
	dm.drv = drv;
	drv_set_changed(drv, on_state_changed, &dm);
	api = api_new(drv);
	if (api == NULL)
		goto out;
	if (set.dns_enabled) {
		raise_nofile();
		sbx = sbx_new(&set, lnk, drv, dm.loop, err, sizeof(err));
		if (sbx == NULL) {
			log_error("Failed to start the DNS responders: %s", err);
			goto out;
		}
		dm.sbx = sbx;
		api_set_dns_stats(api, dns_stats, sbx);
	} else
		log_info("dns: DNS_MODE=off: no responder in sandboxes");
	lfd = open_socket(set.socket_path, err, sizeof(err));
	if (lfd < 0) {
		log_error("%s", err[0] ? err : strerror(-lfd));
		goto out;
	}
	r = http_new(lfd, api, dm.loop, &http, err, sizeof(err));
	lfd = -1;
	if (r < 0) {
		log_error("%s", err);
		goto out;
	}
	log_info("cbridge %s serving %s, state in %s, %zu networks",
	    CBRIDGE_VERSION, set.socket_path, set.state_dir,
	    drv_network_count(drv));
	loop_timer_arm(dm.tick, TICK_MS);
	if ((r = loop_run(dm.loop)) < 0)
		log_error("event loop failed: %s", strerror(-r));
	else
		rc = EXIT_SUCCESS;
out:
	/* What the worker was given still happens (a rollback, the rules
	 * of a network dockerd was told about), before anything goes. */
	if (drv != NULL)
		drv_drain(drv);
	/* Remove the socket only if it was ours (dockerd probes every
	 * socket in the plugin directory). */
	if (http != NULL)
		(void) unlink(set.socket_path);
	http_free(http);
	api_free(api);
	sbx_free(sbx);
	drv_free(drv);
	fw_free(fw);
	fw_hostports_free(ports);
	lnk_free(lnk);
	lnk_free(wlnk);
	loop_fd_free(dm.sig);
	loop_timer_free(dm.tick);
	loop_free(dm.loop);
	free(pools);
	if (lockfd >= 0)
		(void) close(lockfd);
	if (sfd >= 0)
		(void) close(sfd);
	return rc;
}
