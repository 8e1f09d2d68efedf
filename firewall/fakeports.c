/*
 * In-memory host ports for unit tests and benchmarks (the fake of
 * fw_hostports): ports are held in a table instead of by bound sockets
 * (fw_resv.fd is a token, not a descriptor: FAKE_TOKEN0 and up), with
 * the kernel's overlap rule as firewall/ports.c binds: the "any" address
 * of a family ("", NULL, 0.0.0.0 or ::) overlaps every address of that
 * family, and IPv4 and IPv6 are apart.  Requests are checked, and
 * refused, with the messages of firewall/ports.c.  Conntrack flushes are
 * only counted.
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

struct fake_ports {
	struct fw_hostports hp;		/* first: the ops table */
	unsigned int	flushes[2];	/* conntrack_flush_udp calls: ip, ip6 */
	struct fake_resv *resv;		/* ports taken, oldest first */
	unsigned int	next_token;
	size_t		nresv, capresv;
};

static const struct fw_hostports_ops fake_ports_ops;

static struct fake_ports *
to_fake(struct fw_hostports *hp)
{
	if (hp == NULL || hp->ops != &fake_ports_ops) {
		fprintf(stderr, "fw fake: not a fake fw_hostports\n");
		abort();
	}
	return (struct fake_ports *)hp;
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
parse_want(int family, int proto, const struct prefix *host_ip,
    unsigned short lo,
    unsigned short hi, struct fake_resv *want, char *shown, size_t shownlen,
    char *err, size_t errlen)
{
	static const unsigned char zero[16];

	if (fw_family_index(family) < 0) {
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
	if (host_ip != NULL && fw_check_host_ip(family, host_ip, err,
	    errlen) < 0)
		return -EINVAL;
	if (host_ip != NULL)
		memcpy(want->addr, host_ip->addr, prefix_maxlen(family) / 8);
	/* Binding 0.0.0.0 or :: is binding the any address. */
	want->any = memcmp(want->addr, zero, sizeof(zero)) == 0;
	if (inet_ntop(family, want->addr, shown, (socklen_t)shownlen) == NULL)
		(void) snprintf(shown, shownlen, "?");
	return 0;
}

/* As fw_hostport_reserve (firewall/hostops.h), but 0..0 takes the first
 * free port from FAKE_EPHEMERAL_LO up instead of the kernel's pick. */
static int
fake_reserve(struct fw_hostports *hp, int family, int proto,
    const struct prefix *host_ip,
    unsigned short lo, unsigned short hi, struct fw_resv *ret, char *err,
    size_t errlen)
{
	struct fake_ports *ff = to_fake(hp);
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
fake_release(struct fw_hostports *hp, struct fw_resv *r)
{
	struct fake_ports *ff = to_fake(hp);

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
fake_conntrack_flush_udp(struct fw_hostports *hp, int family,
    const unsigned short *ports,
    size_t n, char *err, size_t errlen)
{
	struct fake_ports *ff = to_fake(hp);
	int i = fw_family_index(family);

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
fake_ports_free(struct fw_hostports *hp)
{
	struct fake_ports *ff = to_fake(hp);

	free(ff->resv);
	free(ff);
}

static const struct fw_hostports_ops fake_ports_ops = {
	.reserve		= fake_reserve,
	.release		= fake_release,
	.conntrack_flush_udp	= fake_conntrack_flush_udp,
	.free			= fake_ports_free,
};

struct fw_hostports *
fw_hostports_fake_new(void)
{
	struct fake_ports *ff;

	if ((ff = calloc(1, sizeof(*ff))) == NULL)
		return NULL;
	ff->hp.ops = &fake_ports_ops;
	return &ff->hp;
}

unsigned int
fw_fake_conntrack_flushes(struct fw_hostports *hp, int family)
{
	struct fake_ports *ff = to_fake(hp);
	int i = fw_family_index(family);

	return i < 0 ? 0 : ff->flushes[i];
}

size_t
fw_fake_reserved(struct fw_hostports *hp)
{
	return to_fake(hp)->nresv;
}
