/*
 * Clearing the conntrack entries of UDP flows to newly published host
 * ports, or to one address and port (a sandbox's 127.0.0.11:53, see
 * firewall/hostops.h), over ctnetlink in the caller's network namespace.
 *
 * Why libnl-nf-3: it is the libnl cbridge already links for routes, it
 * parses ctnetlink's dump messages into nfnl_ct objects, and nfnl_ct_del()
 * builds the delete for one of them: its original tuple, zone and ID (the
 * ID makes the kernel delete exactly the entry dumped, not a newer flow
 * with the same tuple).  Two of its defaults do not fit and are avoided:
 * nfnl_ct_dump_request() always dumps every family, so the request is
 * sent with nfnl_send_simple() and ours; and nfnl_ct_alloc_cache() would
 * hold the whole table (100k+ entries on a busy host), so the dump goes
 * through a callback that keeps the matches only.  Its one gap: it does
 * not read a per-direction zone (CTA_TUPLE_ZONE, from a CT --zone-orig
 * rule); such an entry is not found by the delete and stays until it
 * times out, as if it had expired.  Hand-written ctnetlink would close
 * that at the price of our own message parsing.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <netinet/in.h>

#include <netlink/errno.h>
#include <netlink/handlers.h>
#include <netlink/msg.h>
#include <netlink/netfilter/ct.h>
#include <netlink/netfilter/nfnl.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>

#include "firewall/common.h"
#include "firewall/hostops.h"

/* Dumps again when the kernel says one was interrupted by a change. */
#define DUMP_TRIES	3

/* The inverse of libnl's nl_syserr2nlerr() for what ctnetlink returns. */
static int
nl2errno(int nlerr)
{
	switch (nlerr < 0 ? -nlerr : nlerr) {
	case NLE_INTR:		return -EINTR;
	case NLE_BAD_SOCK:	return -EBADF;
	case NLE_AGAIN:		return -EAGAIN;
	case NLE_NOMEM:		return -ENOMEM;
	case NLE_EXIST:		return -EEXIST;
	case NLE_INVAL:		return -EINVAL;
	case NLE_RANGE:		return -ERANGE;
	case NLE_MSGSIZE:	return -EMSGSIZE;
	case NLE_OPNOTSUPP:	return -EOPNOTSUPP;
	case NLE_AF_NOSUPPORT:	return -EAFNOSUPPORT;
	case NLE_OBJ_NOTFOUND:	return -ENOENT;
	case NLE_SEQ_MISMATCH:	return -EPROTO;
	case NLE_MSG_TRUNC:	return -EMSGSIZE;
	case NLE_MSG_TOOSHORT:	return -EPROTO;
	case NLE_BUSY:		return -EBUSY;
	case NLE_PROTO_MISMATCH: return -EPROTONOSUPPORT;
	case NLE_NOACCESS:	return -EACCES;
	case NLE_PERM:		return -EPERM;
	case NLE_PARSE_ERR:	return -EBADMSG;
	case NLE_NODEV:		return -ENODEV;
	case NLE_DUMP_INTR:	return -EAGAIN;
	default:		return -EIO;
	}
}

/* A hint for the errors a user can do something about. */
static const char *
hint(int r)
{
	switch (r) {
	case -EPERM:
	case -EACCES:
		return " (cbridge needs CAP_NET_ADMIN)";
	case -EOPNOTSUPP:
	case -EPROTONOSUPPORT:
		return " (the kernel lacks conntrack's netlink interface: "
		    "modprobe nf_conntrack_netlink)";
	default:
		return "";
	}
}

/* What the dump looks for, and the entries it found. */
struct ct_match {
	int			family;
	const unsigned short	*ports;
	size_t			nports;
	const struct prefix	*dst;	/* NULL: any destination */
	struct nfnl_ct		**v;	/* references held */
	size_t			n, cap;
	int			error;	/* -errno, from the callback */
};

static void
match_clear(struct ct_match *m)
{
	for (size_t i = 0; i < m->n; i++)
		nfnl_ct_put(m->v[i]);
	free(m->v);
	m->v = NULL;
	m->n = m->cap = 0;
	m->error = 0;
}

static bool
dst_is(struct nl_addr *a, const struct prefix *want)
{
	size_t len = want->family == AF_INET ? 4 : 16;

	return nl_addr_get_family(a) == want->family &&
	    nl_addr_get_len(a) == len &&
	    memcmp(nl_addr_get_binary_addr(a), want->addr, len) == 0;
}

static bool
wanted(const struct ct_match *m, const struct nfnl_ct *ct)
{
	uint16_t dport;

	if (nfnl_ct_get_family(ct) != m->family ||
	    !nfnl_ct_test_proto(ct) || nfnl_ct_get_proto(ct) != IPPROTO_UDP ||
	    !nfnl_ct_test_dst_port(ct, 0))
		return false;
	/* A delete without an original tuple would flush the whole table:
	 * only entries whose tuple libnl read in full are candidates. */
	if (nfnl_ct_get_src(ct, 0) == NULL || nfnl_ct_get_dst(ct, 0) == NULL)
		return false;
	if (m->dst != NULL && !dst_is(nfnl_ct_get_dst(ct, 0), m->dst))
		return false;
	dport = nfnl_ct_get_dst_port(ct, 0);
	for (size_t i = 0; i < m->nports; i++)
		if (m->ports[i] == dport)
			return true;
	return false;
}

static int
dump_cb(struct nl_msg *msg, void *arg)
{
	struct ct_match *m = arg;
	struct nfnl_ct *ct = NULL;
	int r;

	if ((r = nfnlmsg_ct_parse(nlmsg_hdr(msg), &ct)) < 0) {
		m->error = nl2errno(r);
		return NL_STOP;
	}
	if (!wanted(m, ct)) {
		nfnl_ct_put(ct);
		return NL_OK;
	}
	if (m->n == m->cap) {
		size_t ncap = m->cap == 0 ? 16 : m->cap * 2;
		struct nfnl_ct **nv;

		if ((nv = reallocarray(m->v, ncap, sizeof(*nv))) == NULL) {
			nfnl_ct_put(ct);
			m->error = -ENOMEM;
			return NL_STOP;
		}
		m->v = nv;
		m->cap = ncap;
	}
	m->v[m->n++] = ct;
	return NL_OK;
}

/* Dumps the family's table into m: 0 or -errno (-EAGAIN: interrupted). */
static int
dump(struct nl_sock *sk, struct ct_match *m)
{
	struct nl_cb *cb;
	int r;

	/* libnl returns the bytes sent here, not 0. */
	r = nfnl_send_simple(sk, NFNL_SUBSYS_CTNETLINK, IPCTNL_MSG_CT_GET,
	    NLM_F_DUMP, (uint8_t)m->family, 0);
	if (r < 0)
		return nl2errno(r);
	if ((cb = nl_cb_alloc(NL_CB_DEFAULT)) == NULL)
		return -ENOMEM;
	(void) nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, dump_cb, m);
	r = nl_recvmsgs(sk, cb);
	nl_cb_put(cb);
	if (m->error < 0)
		return m->error;
	return r < 0 ? nl2errno(r) : 0;
}

/* Deletes the entries m asks for; "to" names them in messages. */
static int
flush(struct ct_match *m, const char *to, char *err, size_t errlen)
{
	const char *fname = m->family == AF_INET ? "IPv4" : "IPv6";
	struct nl_sock *sk = NULL;
	int r, first = 0;

	/* A new socket per call: it belongs to the namespace the calling
	 * thread is in now. */
	if ((sk = nl_socket_alloc()) == NULL) {
		r = -ENOMEM;
		fw_seterr(err, errlen, "Failed to flush UDP conntrack "
		    "entries: %s", strerror(-r));
		goto out;
	}
	if ((r = nl_connect(sk, NETLINK_NETFILTER)) < 0) {
		r = nl2errno(r);
		fw_seterr(err, errlen, "Failed to flush UDP conntrack "
		    "entries: cannot open a netfilter netlink socket: %s%s",
		    strerror(-r), hint(r));
		goto out;
	}
	for (int i = 0; i < DUMP_TRIES; i++) {
		match_clear(m);
		if ((r = dump(sk, m)) != -EAGAIN)
			break;
	}
	if (r < 0) {
		fw_seterr(err, errlen, "Failed to flush UDP conntrack "
		    "entries: cannot read the %s conntrack table: %s%s",
		    fname, strerror(-r), hint(r));
		goto out;
	}

	/* Every match is tried; the first failure is reported. */
	for (size_t i = 0; i < m->n; i++) {
		r = nfnl_ct_del(sk, m->v[i], 0);
		/* Expired or deleted by someone else since the dump. */
		if (r == -NLE_OBJ_NOTFOUND || r >= 0)
			continue;
		r = nl2errno(r);
		if (first == 0) {
			first = r;
			fw_seterr(err, errlen, "Failed to delete the %s "
			    "conntrack entry of a UDP flow to %s %u: %s%s",
			    fname, to, nfnl_ct_get_dst_port(m->v[i], 0),
			    strerror(-r), hint(r));
		}
	}
	r = first;
out:
	match_clear(m);
	nl_socket_free(sk);
	return r;
}

int
fw_conntrack_flush_udp(int family, const unsigned short *ports, size_t n,
    char *err, size_t errlen)
{
	struct ct_match m = { .family = family, .ports = ports, .nports = n };

	if ((family != AF_INET && family != AF_INET6) ||
	    (n != 0 && ports == NULL)) {
		fw_seterr(err, errlen, "Failed to flush UDP conntrack "
		    "entries: invalid request (family %d, %zu ports)", family,
		    n);
		return -EINVAL;
	}
	if (n == 0)
		return 0;
	return flush(&m, "host port", err, errlen);
}

int
fw_conntrack_flush_udp_to(const struct prefix *dst, unsigned short port,
    char *err, size_t errlen)
{
	struct ct_match m = { .ports = &port, .nports = 1, .dst = dst };
	char addr[PREFIX_STRLEN], to[PREFIX_STRLEN + 8];

	if (dst == NULL || (dst->family != AF_INET &&
	    dst->family != AF_INET6)) {
		fw_seterr(err, errlen, "Failed to flush UDP conntrack "
		    "entries: invalid destination");
		return -EINVAL;
	}
	m.family = dst->family;
	(void) snprintf(to, sizeof(to), "%s port", prefix_format_addr(dst,
	    addr, sizeof(addr)));
	return flush(&m, to, err, errlen);
}
