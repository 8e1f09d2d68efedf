/*
 * In-memory firewall backend for unit tests and benchmarks: sync records
 * the networks and published ports it was given, refuses what the real
 * backend refuses (it runs the same planner, firewall/rules.c), and can
 * be made to fail once.  A failed sync, like a failed transaction of the
 * real one, leaves the recorded state as it was.
 *
 * Host ports are held in a table instead of by bound sockets (fw_resv.fd
 * is a token, not a descriptor: FAKE_TOKEN0 and up), with the kernel's overlap rule as firewall/ports.c binds: the
 * "any" address of a family ("", NULL, 0.0.0.0 or ::) overlaps every
 * address of that family, and IPv4 and IPv6 are apart.  Requests are
 * checked, and refused, with the messages of firewall/ports.c.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "firewall/common.h"
#include "firewall/firewall.h"

/* Where a reservation of 0..0 looks: dockerd's range for a port published
 * without a host port.  Fixed, so tests do not depend on the host's
 * ip_local_port_range. */
#define FAKE_EPHEMERAL_LO	49153
#define FAKE_EPHEMERAL_HI	65535

/* One host port taken. */
struct fake_resv {
	int		family;
	int		proto;
	bool		any;		/* "" or the unspecified address */
	unsigned char	addr[16];	/* in6_addr or in_addr, zero padded */
	unsigned short	port;
	int		token;		/* handed out as fw_resv.fd */
};

#define FAKE_TOKEN0	1000000

struct fw_fake {
	struct fw	fw;		/* first: the ops table */
	struct fw_net	*nets;		/* the last successful sync */
	size_t		nnets;
	struct fw_port	*ports;		/* likewise */
	size_t		nports;
	unsigned int	calls;		/* sync calls, failed ones too */
	int		fail;		/* 0, or the errno of the next sync */
	unsigned int	drops[2];	/* forward_drop calls: ip, ip6 */
	unsigned int	flushes[2];	/* conntrack_flush_udp calls */
	struct fake_resv *resv;		/* ports taken, oldest first */
	unsigned int	next_token;
	size_t		nresv, capresv;
};

static const struct fw_ops fake_ops;

static struct fw_fake *
to_fake(struct fw *f)
{
	if (f == NULL || f->ops != &fake_ops) {
		fprintf(stderr, "fw fake: not a fake fw\n");
		abort();
	}
	return (struct fw_fake *)f;
}

/* 0 for AF_INET, 1 for AF_INET6, -1 for anything else. */
static int
family_index(int family)
{
	return family == AF_INET ? 0 : family == AF_INET6 ? 1 : -1;
}

/* A malloc'ed copy of n items of size sz in *ret (NULL for none). */
static int
dup_array(const void *v, size_t n, size_t sz, void **ret)
{
	void *copy = NULL;

	if (n != 0) {
		if ((copy = calloc(n, sz)) == NULL)
			return -ENOMEM;
		memcpy(copy, v, n * sz);
	}
	*ret = copy;
	return 0;
}

static int
fake_sync(struct fw *f, const struct fw_model *m, char *err, size_t errlen)
{
	struct fw_fake *ff = to_fake(f);
	void *nets = NULL, *ports = NULL;
	struct fw_ruleset rs;
	int r;

	ff->calls++;
	if (ff->fail != 0) {
		r = -ff->fail;
		ff->fail = 0;
		fw_seterr(err, errlen, "Failed to update the firewall rules: "
		    "%s", strerror(-r));
		return r;
	}
	if (m == NULL) {
		fw_seterr(err, errlen, "Failed to set up the firewall: no "
		    "model given");
		return -EINVAL;
	}
	/* The real backend's planner, so that the fake refuses exactly what
	 * the real one would; the rules themselves are not kept. */
	if ((r = fw_rules_compute(m, &rs, err, errlen)) < 0)
		return r;
	fw_ruleset_done(&rs);
	if ((r = dup_array(m->nets, m->nnets, sizeof(*m->nets), &nets)) < 0 ||
	    (r = dup_array(m->ports, m->nports, sizeof(*m->ports),
	    &ports)) < 0) {
		fw_seterr(err, errlen, "Failed to update the firewall rules: "
		    "%s", strerror(-r));
		free(nets);
		return r;
	}
	free(ff->nets);
	free(ff->ports);
	ff->nets = nets;
	ff->nnets = m->nnets;
	ff->ports = ports;
	ff->nports = m->nports;
	return 0;
}

static int
fake_forward_drop(struct fw *f, int family, char *err, size_t errlen)
{
	struct fw_fake *ff = to_fake(f);
	int i = family_index(family);

	if (i < 0) {
		fw_seterr(err, errlen, "Failed to set the FORWARD policy: "
		    "address family %d is neither IPv4 nor IPv6", family);
		return -EAFNOSUPPORT;
	}
	ff->drops[i]++;
	return 0;
}

/* Does the taken port t keep a socket of this family, proto and address
 * from binding port? */
static bool
overlaps(const struct fake_resv *t, const struct fake_resv *want)
{
	return t->family == want->family && t->proto == want->proto &&
	    (t->any || want->any ||
	    memcmp(t->addr, want->addr, sizeof(t->addr)) == 0);
}

/* The request checked as firewall/ports.c checks it, with the same
 * messages; want gets the address, shown its canonical text. */
static int
parse_want(int family, int proto, const char *host_ip, unsigned short lo,
    unsigned short hi, struct fake_resv *want, char *shown, size_t shownlen,
    char *err, size_t errlen)
{
	static const unsigned char zero[16];

	if (family_index(family) < 0) {
		fw_seterr(err, errlen, "Failed to reserve a host port: "
		    "address family %d is neither IPv4 nor IPv6", family);
		return -EINVAL;
	}
	if (fw_proto_name(proto) == NULL) {
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
	memset(want, 0, sizeof(*want));
	want->family = family;
	want->proto = proto;
	if (host_ip != NULL && host_ip[0] != '\0' &&
	    inet_pton(family, host_ip, want->addr) != 1) {
		fw_seterr(err, errlen, "Failed to reserve a host port: host "
		    "IP '%.*s' is not an %s address", FW_IPLEN, host_ip,
		    family == AF_INET ? "IPv4" : "IPv6");
		return -EINVAL;
	}
	/* Binding 0.0.0.0 or :: is binding the any address. */
	want->any = memcmp(want->addr, zero, sizeof(zero)) == 0;
	if (inet_ntop(family, want->addr, shown, (socklen_t)shownlen) == NULL)
		(void) snprintf(shown, shownlen, "?");
	return 0;
}

/* As fw_hostport_reserve (firewall/hostops.h), but 0..0 takes the first
 * free port from FAKE_EPHEMERAL_LO up instead of the kernel's pick. */
static int
fake_reserve(struct fw *f, int family, int proto, const char *host_ip,
    unsigned short lo, unsigned short hi, struct fw_resv *ret, char *err,
    size_t errlen)
{
	struct fw_fake *ff = to_fake(f);
	/* One bit per port taken by an overlapping reservation: one pass
	 * over the table, however wide the range. */
	uint64_t taken[65536 / 64] = { 0 };
	struct fake_resv want;
	char shown[INET6_ADDRSTRLEN];
	const char *pname = fw_proto_name(proto);
	unsigned int first, last, p;
	int r;

	if (ret == NULL) {
		fw_seterr(err, errlen, "Failed to reserve a host port: "
		    "nowhere to return it");
		return -EINVAL;
	}
	*ret = (struct fw_resv){ .fd = -1, .port = 0 };
	if ((r = parse_want(family, proto, host_ip, lo, hi, &want, shown,
	    sizeof(shown), err, errlen)) < 0)
		return r;

	for (size_t i = 0; i < ff->nresv; i++)
		if (overlaps(&ff->resv[i], &want))
			taken[ff->resv[i].port / 64] |=
			    UINT64_C(1) << (ff->resv[i].port % 64);
	first = lo != 0 ? lo : FAKE_EPHEMERAL_LO;
	last = hi != 0 ? hi : FAKE_EPHEMERAL_HI;
	for (p = first; p <= last; p++)
		if ((taken[p / 64] & (UINT64_C(1) << (p % 64))) == 0)
			break;
	if (p > last) {
		if (lo == 0)
			fw_seterr(err, errlen, "no free host port for %s on "
			    "%s: the fake found none in %u-%u", pname, shown,
			    FAKE_EPHEMERAL_LO, FAKE_EPHEMERAL_HI);
		else if (lo == hi)
			fw_seterr(err, errlen, "host port %u/%s on %s is "
			    "already in use by another program or container",
			    lo, pname, shown);
		else
			fw_seterr(err, errlen, "no free host port in %u-%u/%s "
			    "on %s: all are in use by other programs or "
			    "containers", lo, hi, pname, shown);
		return -EADDRINUSE;
	}
	if (ff->nresv == ff->capresv) {
		size_t ncap = ff->capresv == 0 ? 16 : ff->capresv * 2;
		struct fake_resv *nv;

		if ((nv = reallocarray(ff->resv, ncap, sizeof(*nv))) == NULL) {
			fw_seterr(err, errlen, "Failed to reserve a host "
			    "port: %s", strerror(ENOMEM));
			return -ENOMEM;
		}
		ff->resv = nv;
		ff->capresv = ncap;
	}
	want.port = (unsigned short)p;
	want.token = FAKE_TOKEN0 + (int)ff->next_token++;
	ff->resv[ff->nresv++] = want;
	ret->port = want.port;
	ret->fd = want.token;
	return 0;
}

/* Frees the reservation whose token r->fd holds; r is reset to { -1, 0 },
 * so that releasing it twice frees nothing more. */
static void
fake_release(struct fw *f, struct fw_resv *r)
{
	struct fw_fake *ff = to_fake(f);

	if (r == NULL)
		return;
	for (size_t i = ff->nresv; i-- > 0;) {
		if (ff->resv[i].token != r->fd)
			continue;
		memmove(&ff->resv[i], &ff->resv[i + 1],
		    (ff->nresv - i - 1) * sizeof(ff->resv[0]));
		ff->nresv--;
		break;
	}
	r->fd = -1;
	r->port = 0;
}

static int
fake_conntrack_flush_udp(struct fw *f, int family, const unsigned short *ports,
    size_t n, char *err, size_t errlen)
{
	struct fw_fake *ff = to_fake(f);
	int i = family_index(family);

	if (i < 0 || (n != 0 && ports == NULL)) {
		fw_seterr(err, errlen, "Failed to flush UDP conntrack "
		    "entries: invalid request (family %d, %zu ports)", family,
		    n);
		return -EINVAL;
	}
	ff->flushes[i]++;
	return 0;
}

static void
fake_free(struct fw *f)
{
	struct fw_fake *ff = to_fake(f);

	free(ff->nets);
	free(ff->ports);
	free(ff->resv);
	free(ff);
}

static const struct fw_ops fake_ops = {
	.sync			= fake_sync,
	.forward_drop		= fake_forward_drop,
	.reserve		= fake_reserve,
	.release		= fake_release,
	.conntrack_flush_udp	= fake_conntrack_flush_udp,
	.free			= fake_free,
};

struct fw *
fw_fake_new(void)
{
	struct fw_fake *ff;

	if ((ff = calloc(1, sizeof(*ff))) == NULL)
		return NULL;
	ff->fw.ops = &fake_ops;
	return &ff->fw;
}

size_t
fw_fake_synced(struct fw *f, const struct fw_net **ret)
{
	struct fw_fake *ff = to_fake(f);

	if (ret != NULL)
		*ret = ff->nets;
	return ff->nnets;
}

size_t
fw_fake_ports(struct fw *f, const struct fw_port **ret)
{
	struct fw_fake *ff = to_fake(f);

	if (ret != NULL)
		*ret = ff->ports;
	return ff->nports;
}

unsigned int
fw_fake_sync_calls(struct fw *f)
{
	return to_fake(f)->calls;
}

void
fw_fake_fail_next(struct fw *f, int err)
{
	struct fw_fake *ff = to_fake(f);

	/* Either sign; 0 would mean "do not fail". */
	ff->fail = err < 0 ? -err : err == 0 ? EIO : err;
}

unsigned int
fw_fake_forward_drops(struct fw *f, int family)
{
	struct fw_fake *ff = to_fake(f);
	int i = family_index(family);

	return i < 0 ? 0 : ff->drops[i];
}

unsigned int
fw_fake_conntrack_flushes(struct fw *f, int family)
{
	struct fw_fake *ff = to_fake(f);
	int i = family_index(family);

	return i < 0 ? 0 : ff->flushes[i];
}

size_t
fw_fake_reserved(struct fw *f)
{
	return to_fake(f)->nresv;
}
