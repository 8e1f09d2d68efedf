/*
 * The sandboxes' DNS responders: one dns_srv per sandbox (container
 * network namespace) with a cbridge endpoint, all on the daemon's loop
 * (loop/loop.h).  Decides when a sandbox's namespace is real, puts the
 * listening address on its lo, shares one forwarder and one cache between
 * sandboxes (DNS_FORWARD_FROM=host), learns names through plugin/engine.h
 * and keeps the zones (plugin/names.h) up to date.
 *
 * The parts, one concern each (plugin/README.md has the map):
 *  - sbxstate.h: a sandbox's lifecycle, pure: pending, serving, failed
 *    (retried), gone; events in, actions out.
 *  - names.h: which sandboxes should exist and each one's zone, pure.
 *  - upstreams.h: the upstream servers and the resolv.conf watch.
 *  - dnsstats.h: the counters' JSON, pure.
 *  - sandbox.c: the I/O those call for, registered with the loop.
 *
 * Decisions:
 *  - When.  dockerd calls Join before the sandbox's namespace exists on
 *    engines up to 27: its SandboxKey is then an empty file that becomes
 *    an nsfs mount when the container starts.  A sandbox is pending until
 *    statfs() says nsfs; the check runs at every change of the mount
 *    table (/proc/self/mountinfo, EPOLLPRI on the loop), at every change
 *    of the joins and once a second (a loop timer), never with sleeps.  A
 *    serving sandbox whose key stops being nsfs is gone (the container
 *    died without a Leave): its responder closes.  A sandbox whose
 *    set-up failed is retried 5 s later (a loop timer per sandbox).
 *  - Names come from the Engine API on a thread of its own, whose eventfd
 *    is on the loop; the driver's HTTP handlers never wait for it.
 *    Without the API the responders still forward.
 *  - Zones are shared by sandboxes attached to the same networks in the
 *    same order, and rebuilt whenever names or joins change.
 *  - Upstreams: DNS_UPSTREAMS, else the host's resolv.conf (systemd's
 *    rule, dns/conf.h), re-read when the file changes (checked every
 *    second); the responder's own address is never an upstream.  The
 *    cache is flushed when they change.
 *  - Sandboxes attached only to --internal networks never forward.
 */
#ifndef CBRIDGE_SANDBOX_H
#define CBRIDGE_SANDBOX_H

#include <stddef.h>

#include <jansson.h>

#include "loop/loop.h"
#include "netlink/netlink.h"
#include "plugin/driver.h"
#include "plugin/settings.h"

struct sbx;

/* Registers its fds and timers with loop.  set, lnk, d and loop are
 * borrowed and must outlive the sbx.  NULL with a message in err. */
struct sbx	*sbx_new(const struct settings *set, struct lnk *lnk,
		    const struct drv *d, struct loop *loop, char *err,
		    size_t errlen);
/* Closes every responder, takes its address off the sandbox and leaves
 * the loop.  Not from inside one of the sbx's own callbacks. */
struct sbx	*sbx_free(struct sbx *s);

/* The driver's state changed (joins, leaves, endpoints). */
void	sbx_sync(struct sbx *s);

/* The counters as a JSON document (a new reference, the caller's): for
 * the Cbridge.DnsStats route.  NULL when out of memory. */
json_t	*sbx_stats_json(const struct sbx *s);

#endif
