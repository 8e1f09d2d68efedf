/*
 * Host-port reservations for published ports (see firewall/hostops.h).
 *
 * cbridge publishes ports in the kernel only: DNAT rules, no userland
 * proxy.  Nothing in those rules stops another program, or another
 * mapping, from binding a host port that the rules already send to a
 * container, so cbridge holds each one with a bound socket, as dockerd
 * does with userland-proxy=false: bind() is the one arbiter every program
 * on the host respects, and `ss` shows the port taken.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/filter.h>
#include <netinet/in.h>

#include "firewall/common.h"
#include "firewall/hostops.h"
#include "lib/fd.h"

/* Tries of a 0..0 reservation whose kernel-picked port cannot be listened
 * on (a TCP socket with SO_REUSEADDR can be given a port that another
 * such socket holds without listening). */
#define ANY_PORT_TRIES	8

/* What one reservation asks for, checked, and how messages show it. */
struct want {
	int			family;
	int			proto;
	const char		*pname;
	struct sockaddr_storage	sa;
	socklen_t		salen;
	char			shown[INET6_ADDRSTRLEN]; /* address */
};

static void
set_port(struct want *w, unsigned short port)
{
	if (w->family == AF_INET)
		((struct sockaddr_in *)&w->sa)->sin_port = htons(port);
	else
		((struct sockaddr_in6 *)&w->sa)->sin6_port = htons(port);
}

/*
 * One socket bound to w's address and port (0: the kernel picks), in
 * *ret_fd with the port it got in *ret_port.  -EADDRINUSE without a
 * message, so that the caller can go on to the next port; any other
 * failure is final and has its message.
 */
static int
open_one(const struct want *w, unsigned short port, int *ret_fd,
    unsigned short *ret_port, char *err, size_t errlen)
{
	/* A filter that keeps nothing: the socket holds the port and never
	 * receives.  DNAT in nat PREROUTING and OUTPUT rewrites the
	 * destination before the socket lookup, so no packet for the
	 * published address ever comes here; what still could (a SYN or a
	 * datagram before the rules are in place, or to an address the rules
	 * cannot NAT, like [::1]) is dropped instead of being queued on a
	 * socket that nobody reads, where a TCP client would hang on an
	 * accepted but dead connection.  The same as dockerd's drop filter. */
	struct sock_filter drop_all[] = { BPF_STMT(BPF_RET | BPF_K, 0) };
	struct sock_fprog prog = { .len = 1, .filter = drop_all };
	struct want bound = *w;
	socklen_t len = bound.salen;
	const int on = 1;
	char what[96];
	int fd = -1, r, stype;

	if (port != 0)
		(void) snprintf(what, sizeof(what), "host port %u/%s on %s",
		    port, w->pname, w->shown);
	else
		(void) snprintf(what, sizeof(what), "a host port for %s on %s",
		    w->pname, w->shown);

	stype = w->proto == IPPROTO_UDP ? SOCK_DGRAM : SOCK_STREAM;
	/* Held as long as the port is published: above the numbers
	 * select() can take (lib/fd.h). */
	fd = fd_move_high(socket(w->family, stype | SOCK_CLOEXEC, w->proto));
	if (fd < 0) {
		r = -errno;
		if (r == -EPROTONOSUPPORT && w->proto == IPPROTO_SCTP)
			fw_seterr(err, errlen, "Failed to reserve %s: this "
			    "kernel has no SCTP support (load it with "
			    "'modprobe sctp', or publish the port over tcp or "
			    "udp)", what);
		else if (r == -EAFNOSUPPORT && w->family == AF_INET6)
			fw_seterr(err, errlen, "Failed to reserve %s: IPv6 "
			    "is disabled on this host", what);
		else
			fw_seterr(err, errlen, "Failed to reserve %s: cannot "
			    "open a socket: %s", what, strerror(-r));
		goto out;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog,
	    sizeof(prog)) < 0) {
		r = -errno;
		fw_seterr(err, errlen, "Failed to reserve %s: cannot attach "
		    "a socket filter: %s", what, strerror(-r));
		goto out;
	}
	/* TCP only, as dockerd: the port stays bindable while connections
	 * of a program that just gave it up sit in TIME_WAIT (otherwise
	 * "in use" for up to a minute), and a listening socket still
	 * conflicts with every other bind of the port.  Never for UDP,
	 * where two SO_REUSEADDR sockets share a port. */
	if (w->proto == IPPROTO_TCP &&
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) < 0) {
		r = -errno;
		fw_seterr(err, errlen, "Failed to reserve %s: cannot set "
		    "SO_REUSEADDR: %s", what, strerror(-r));
		goto out;
	}
	/* IPv6 only: an IPv4 reservation of the same port is another one. */
	if (w->family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on)) < 0) {
		r = -errno;
		fw_seterr(err, errlen, "Failed to reserve %s: cannot set "
		    "IPV6_V6ONLY: %s", what, strerror(-r));
		goto out;
	}
	set_port(&bound, port);
	if (bind(fd, (struct sockaddr *)&bound.sa, bound.salen) < 0) {
		r = -errno;
		if (r == -EADDRINUSE)
			goto out;
		if (r == -EADDRNOTAVAIL)
			fw_seterr(err, errlen, "Failed to reserve %s: no "
			    "interface of this host has the address %s", what,
			    w->shown);
		else
			fw_seterr(err, errlen, "Failed to reserve %s: %s",
			    what, strerror(-r));
		goto out;
	}
	/* Listening is what makes a TCP or SCTP port show as taken in
	 * `ss -l`, and for TCP with SO_REUSEADDR what makes the kernel
	 * check it against every other socket of the port.  A backlog of 0:
	 * the filter above lets no connection in anyway. */
	if (w->proto != IPPROTO_UDP && listen(fd, 0) < 0) {
		r = -errno;
		if (r == -EADDRINUSE)
			goto out;
		fw_seterr(err, errlen, "Failed to reserve %s: cannot listen: "
		    "%s", what, strerror(-r));
		goto out;
	}
	if (getsockname(fd, (struct sockaddr *)&bound.sa, &len) < 0) {
		r = -errno;
		fw_seterr(err, errlen, "Failed to reserve %s: cannot read the "
		    "port bound: %s", what, strerror(-r));
		goto out;
	}
	*ret_port = ntohs(w->family == AF_INET ?
	    ((struct sockaddr_in *)&bound.sa)->sin_port :
	    ((struct sockaddr_in6 *)&bound.sa)->sin6_port);
	*ret_fd = fd;
	fd = -1;
	r = 0;
out:
	if (fd >= 0)
		(void) close(fd);
	return r;
}

/* Checks the request and fills *w; -EINVAL with a message if it is bad. */
static int
parse_want(int family, int proto, const struct prefix *host_ip,
    unsigned short lo, unsigned short hi, struct want *w, char *err,
    size_t errlen)
{
	void *addr;

	memset(w, 0, sizeof(*w));
	w->family = family;
	w->proto = proto;
	if (family != AF_INET && family != AF_INET6) {
		fw_seterr(err, errlen, "Failed to reserve a host port: "
		    "address family %d is neither IPv4 nor IPv6", family);
		return -EINVAL;
	}
	if ((w->pname = fw_proto_name(proto)) == NULL) {
		fw_seterr(err, errlen, "Failed to reserve a host port: "
		    "protocol %d is not tcp, udp or sctp", proto);
		return -EINVAL;
	}
	if (lo > hi || (lo == 0) != (hi == 0)) {
		fw_seterr(err, errlen, "Failed to reserve a host port: "
		    "%u-%u is not a range of ports (1-65535, or 0-0 for any)",
		    lo, hi);
		return -EINVAL;
	}
	if (family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&w->sa;

		sin->sin_family = AF_INET;
		sin->sin_addr.s_addr = htonl(INADDR_ANY);
		addr = &sin->sin_addr;
		w->salen = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&w->sa;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = in6addr_any;
		addr = &sin6->sin6_addr;
		w->salen = sizeof(*sin6);
	}
	if (host_ip != NULL && fw_check_host_ip(family, host_ip, err,
	    errlen) < 0)
		return -EINVAL;
	if (host_ip != NULL)
		memcpy(addr, host_ip->addr, prefix_maxlen(family) / 8);
	/* Shown as the kernel (and `ss`) will: "0.0.0.0", "::", canonical. */
	if (inet_ntop(family, addr, w->shown, sizeof(w->shown)) == NULL)
		(void) snprintf(w->shown, sizeof(w->shown), "?");
	return 0;
}

int
fw_hostport_reserve(int family, int proto, const struct prefix *host_ip,
    unsigned short lo, unsigned short hi, struct fw_resv *ret, char *err,
    size_t errlen)
{
	struct want w;
	unsigned short got = 0;
	int fd = -1, r;

	if (ret == NULL) {
		fw_seterr(err, errlen, "Failed to reserve a host port: "
		    "nowhere to return it");
		return -EINVAL;
	}
	*ret = (struct fw_resv){ .fd = -1, .port = 0 };
	r = parse_want(family, proto, host_ip, lo, hi, &w, err, errlen);
	if (r < 0)
		return r;

	if (lo == 0) {
		for (int i = 0; i < ANY_PORT_TRIES; i++)
			if ((r = open_one(&w, 0, &fd, &got, err,
			    errlen)) != -EADDRINUSE)
				break;
	} else {
		/* unsigned int: hi may be 65535. */
		for (unsigned int p = lo; p <= hi; p++)
			if ((r = open_one(&w, (unsigned short)p, &fd, &got,
			    err, errlen)) != -EADDRINUSE)
				break;
	}
	if (r == -EADDRINUSE) {
		if (lo == 0)
			fw_seterr(err, errlen, "no free host port for %s on "
			    "%s: the kernel found none in "
			    "net.ipv4.ip_local_port_range", w.pname, w.shown);
		else if (lo == hi)
			fw_seterr(err, errlen, "host port %u/%s on %s is "
			    "already in use by another program or container",
			    lo, w.pname, w.shown);
		else
			fw_seterr(err, errlen, "no free host port in %u-%u/%s "
			    "on %s: all are in use by other programs or "
			    "containers", lo, hi, w.pname, w.shown);
	}
	if (r < 0)
		return r;
	ret->fd = fd;
	ret->port = got;
	return 0;
}

void
fw_hostport_release(struct fw_resv *r)
{
	if (r == NULL)
		return;
	if (r->fd >= 0)
		(void) close(r->fd);
	*r = (struct fw_resv){ .fd = -1, .port = 0 };
}

/* The host-port interface of firewall.h: stateless, so nothing here is
 * shared with the rule backend or between threads. */
static int
hp_reserve(struct fw_hostports *hp, int family, int proto,
    const struct prefix *host_ip, unsigned short lo, unsigned short hi,
    struct fw_resv *ret, char *err, size_t errlen)
{
	(void) hp;
	return fw_hostport_reserve(family, proto, host_ip, lo, hi, ret, err,
	    errlen);
}

static void
hp_release(struct fw_hostports *hp, struct fw_resv *r)
{
	(void) hp;
	fw_hostport_release(r);
}

static int
hp_ct_flush(struct fw_hostports *hp, int family, const unsigned short *ports,
    size_t n, char *err, size_t errlen)
{
	(void) hp;
	return fw_conntrack_flush_udp(family, ports, n, err, errlen);
}

static void
hp_free(struct fw_hostports *hp)
{
	free(hp);
}

static const struct fw_hostports_ops hp_ops = {
	.reserve		= hp_reserve,
	.release		= hp_release,
	.conntrack_flush_udp	= hp_ct_flush,
	.free			= hp_free,
};

struct fw_hostports *
fw_hostports_new(char *err, size_t errlen)
{
	struct fw_hostports *hp;

	if ((hp = calloc(1, sizeof(*hp))) == NULL) {
		fw_seterr(err, errlen, "Failed to set up host ports: %s",
		    strerror(ENOMEM));
		return NULL;
	}
	hp->ops = &hp_ops;
	return hp;
}
