/*
 * The sandboxes' DNS responders (issue 5): one dns_srv per sandbox
 * (container network namespace) with a cbridge endpoint, all on the
 * daemon's thread.  Decides when a sandbox's namespace is real, puts the
 * listening address on its lo, shares one forwarder and one cache between
 * sandboxes (DNS_FORWARD_FROM=host), learns names through plugin/engine.h
 * and keeps the zones (plugin/names.h) up to date.
 *
 * Decisions:
 *  - When.  dockerd calls Join before the sandbox's namespace exists on
 *    engines up to 27: its SandboxKey is then an empty file that becomes
 *    an nsfs mount when the container starts.  A sandbox is pending until
 *    statfs() says nsfs; the check runs at every change of the mount
 *    table (/proc/self/mountinfo polls with POLLPRI) and at every tick,
 *    never with sleeps.  A serving sandbox whose key stops being nsfs is
 *    gone (the container died without a Leave): its responder closes.
 *  - Names come from the Engine API on a thread of its own; the driver's
 *    HTTP handlers never wait for it.  Without the API the responders
 *    still forward.
 *  - Zones are shared by sandboxes attached to the same networks in the
 *    same order, and rebuilt whenever names or joins change.
 *  - Upstreams: DNS_UPSTREAMS, else the host's resolv.conf (systemd's
 *    rule, dns/conf.h), re-read when the file changes (checked every
 *    tick); the responder's own address is never an upstream.  The cache
 *    is flushed when they change.
 *  - Sandboxes attached only to --internal networks never forward.
 */
#ifndef CBRIDGE_SANDBOX_H
#define CBRIDGE_SANDBOX_H

#include <stddef.h>

#include <jansson.h>

#include "netlink/netlink.h"
#include "plugin/driver.h"
#include "plugin/settings.h"

struct sbx;

/* set, lnk and d are borrowed and must outlive the sbx. */
struct sbx	*sbx_new(const struct settings *set, struct lnk *lnk,
		    const struct drv *d, char *err, size_t errlen);
/* Closes every responder and takes its address off the sandbox. */
struct sbx	*sbx_free(struct sbx *s);

/* An fd for the daemon's epoll set (EPOLLIN): call sbx_run() when it is
 * readable. */
int	sbx_fd(const struct sbx *s);
void	sbx_run(struct sbx *s);
/* /proc/self/mountinfo, for the daemon's epoll set with EPOLLPRI (-1
 * when it could not be opened): call sbx_mounts_changed() when it fires
 * (a new sandbox namespace may have been mounted). */
int	sbx_mounts_fd(const struct sbx *s);
void	sbx_mounts_changed(struct sbx *s);
/* The driver's state changed (joins, leaves, endpoints). */
void	sbx_sync(struct sbx *s);
/* About once a second: upstreams, pending and vanished sandboxes. */
void	sbx_tick(struct sbx *s);

/* The counters as a JSON document (a new reference, the caller's): for
 * the Cbridge.DnsStats route.  NULL when out of memory. */
json_t	*sbx_stats_json(const struct sbx *s);

#endif
