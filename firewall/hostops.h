/*
 * Internal to firewall/: the two host-side operations behind
 * fw_hostports_new()'s reserve, release and conntrack_flush_udp.  They act
 * on the network namespace of the calling thread and keep no state.  Both
 * return 0 or -errno with a message a user can act on in err.
 */
#ifndef CBRIDGE_FIREWALL_HOSTOPS_H
#define CBRIDGE_FIREWALL_HOSTOPS_H

#include <stddef.h>

#include "firewall/firewall.h"

/*
 * firewall/ports.c.  Holds a host port for a published port, as dockerd
 * does with userland-proxy=false: an open socket of family (AF_INET or
 * AF_INET6) and proto (IPPROTO_TCP, _UDP or _SCTP) bound to host_ip
 * (NULL: any address of family only, so that an IPv4 and an IPv6
 * reservation of one port coexist) and, for TCP and SCTP, listening, so
 * that `ss -l` shows it taken.  The socket drops every packet that
 * reaches it: the DNAT rules, not this socket, handle the port's traffic.
 *
 * Takes the first port of lo..hi that binds; 0..0 lets the kernel pick
 * one from net.ipv4.ip_local_port_range.  -EADDRINUSE with a message
 * naming the port(s) and address when none is free; -EINVAL for a
 * host_ip that is not an address of family, an unknown family or
 * protocol, or a bad range; -EPROTONOSUPPORT for SCTP on a kernel
 * without it.  On success ret holds the fd and the port; on failure
 * ret is { -1, 0 } and nothing is left open.
 */
int	fw_hostport_reserve(int family, int proto, const struct prefix *host_ip,
	    unsigned short lo, unsigned short hi, struct fw_resv *ret,
	    char *err, size_t errlen);
/* Closes r's socket, if any, and resets r to { -1, 0 }: releasing twice
 * is harmless.  NULL is a no-op. */
void	fw_hostport_release(struct fw_resv *r);

/*
 * firewall/conntrack.c.  Deletes every conntrack entry of family whose
 * protocol is UDP and whose original-direction destination port is one
 * of ports[0..n-1], as dockerd does when it publishes UDP ports
 * (moby#8795): a flow the kernel tracked before the DNAT rule existed
 * keeps its old, un-NATed entry, and its datagrams would bypass the new
 * rule until it times out.  Call it after the rules are in place.  An
 * entry that expires meanwhile is not an error; n == 0 does nothing.
 */
int	fw_conntrack_flush_udp(int family, const unsigned short *ports,
	    size_t n, char *err, size_t errlen);
/* The same for the entries whose original-direction destination is
 * dst's address (IPv4 or IPv6) and port (e.g. a sandbox's flows to
 * 127.0.0.11:53 once the NAT in front of it changed). */
int	fw_conntrack_flush_udp_to(const struct prefix *dst, unsigned short port,
	    char *err, size_t errlen);

#endif
