/*
 * A network's nft commands as one netlink batch (see nftwire.h).  Each
 * statement becomes the expressions nft 1.0 makes of it, so that `nft
 * list` prints what the planner wrote; the integration tests hold every
 * planned rule against `nft --debug=netlink`.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/udata.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_nat.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>

#include "firewall/common.h"
#include "firewall/nftplan.h"
#include "firewall/nftwire.h"

#define WIRE_LIMIT	(128u << 10)	/* bigger batches go to libnftables */
#define WORDS		32		/* tokens of one rule */

struct fw_nwire {
	struct mnl_socket	*nl;
	uint32_t		seq;
	/* Twice the limit: the message that overflows still fits. */
	char			buf[2 * WIRE_LIMIT];
};

/* What a script line became: a message in the batch, or (dump) a rule
 * printed. */
struct out {
	struct mnl_nlmsg_batch	*b;	/* NULL: dump */
	uint32_t		seq;
	struct fw_sbuf		dump;
};

int
fw_nwire_open(struct fw_nwire **ret, char *err, size_t errlen)
{
	struct fw_nwire *w;
	int one = 1;

	if ((w = calloc(1, sizeof(*w))) == NULL) {
		fw_seterr(err, errlen, "Failed to set up nftables: out of "
		    "memory");
		return -ENOMEM;
	}
	if ((w->nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC)) ==
	    NULL || mnl_socket_bind(w->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		int e = errno;

		fw_seterr(err, errlen, "Failed to set up nftables: cannot "
		    "open a netfilter netlink socket: %s", strerror(e));
		fw_nwire_close(w);
		return -e;
	}
	/* Errors come back without the message that caused them. */
	(void) mnl_socket_setsockopt(w->nl, NETLINK_CAP_ACK, &one,
	    sizeof(one));
	w->seq = (uint32_t)time(NULL);
	*ret = w;
	return 0;
}

void
fw_nwire_close(struct fw_nwire *w)
{
	if (w == NULL)
		return;
	if (w->nl != NULL)
		(void) mnl_socket_close(w->nl);
	free(w);
}

/* ---- statements ---- */

static int
add(struct nftnl_rule *r, struct nftnl_expr *e)
{
	if (e == NULL)
		return -ENOMEM;
	nftnl_rule_add_expr(r, e);
	return 0;
}

static int
meta(struct nftnl_rule *r, uint32_t key)
{
	struct nftnl_expr *e = nftnl_expr_alloc("meta");

	if (e != NULL) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
		nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, NFT_REG_1);
	}
	return add(r, e);
}

static int
cmp(struct nftnl_rule *r, uint32_t op, const void *data, uint32_t len)
{
	struct nftnl_expr *e = nftnl_expr_alloc("cmp");

	if (e != NULL) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, op);
		nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, len);
	}
	return add(r, e);
}

static int
payload(struct nftnl_rule *r, uint32_t base, uint32_t off, uint32_t len)
{
	struct nftnl_expr *e = nftnl_expr_alloc("payload");

	if (e != NULL) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, off);
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
	}
	return add(r, e);
}

static int
bitwise(struct nftnl_rule *r, const void *mask, uint32_t len)
{
	static const unsigned char zero[16];
	struct nftnl_expr *e = nftnl_expr_alloc("bitwise");

	if (e != NULL) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, len);
		nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, mask, len);
		nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, zero, len);
	}
	return add(r, e);
}

static int
simple(struct nftnl_rule *r, const char *name)
{
	return add(r, nftnl_expr_alloc(name));
}

static int
verdict(struct nftnl_rule *r, int v)
{
	struct nftnl_expr *e = nftnl_expr_alloc("immediate");

	if (e != NULL) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
		nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, (uint32_t)v);
	}
	return add(r, e);
}

static int
immediate(struct nftnl_rule *r, uint32_t reg, const void *data,
    uint32_t len)
{
	struct nftnl_expr *e = nftnl_expr_alloc("immediate");

	if (e != NULL) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, reg);
		nftnl_expr_set(e, NFTNL_EXPR_IMM_DATA, data, len);
	}
	return add(r, e);
}

/* ct state/status against a mask: (x & mask) != 0, or == 0. */
static int
ct_mask(struct nftnl_rule *r, uint32_t key, uint32_t mask, uint32_t op)
{
	struct nftnl_expr *e = nftnl_expr_alloc("ct");
	uint32_t zero = 0;
	int x;

	if (e != NULL) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, key);
		nftnl_expr_set_u32(e, NFTNL_EXPR_CT_DREG, NFT_REG_1);
	}
	if ((x = add(r, e)) < 0 || (x = bitwise(r, &mask, sizeof(mask))) < 0)
		return x;
	return cmp(r, op, &zero, sizeof(zero));
}

static int
ifname(struct nftnl_rule *r, uint32_t key, uint32_t op, const char *q)
{
	char name[IFNAMSIZ] = { 0 };
	size_t n = strlen(q);

	/* A quoted name: "..." without quotes or backslashes inside. */
	if (n < 3 || q[0] != '"' || q[n - 1] != '"' || n - 2 >= IFNAMSIZ ||
	    memchr(q + 1, '"', n - 2) != NULL || memchr(q + 1, '\\',
	    n - 2) != NULL)
		return -ENOTSUP;
	memcpy(name, q + 1, n - 2);
	if (meta(r, key) < 0)
		return -ENOMEM;
	return cmp(r, op, name, sizeof(name));
}

static int
lookup(struct nftnl_rule *r, uint32_t key, const char *set)
{
	struct nftnl_expr *e;

	if (meta(r, key) < 0 || (e = nftnl_expr_alloc("lookup")) == NULL)
		return -ENOMEM;
	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, NFT_REG_1);
	nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, set);
	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SET_ID, 0);
	return add(r, e);
}

/* "A" or "A/len" of family fam. */
static int
addr(int fam, const char *s, unsigned char *buf, unsigned int *plen)
{
	char a[INET6_ADDRSTRLEN + 8];
	unsigned int max = fam == AF_INET ? 32 : 128;
	char *slash, *end;
	unsigned long l = max;

	if (snprintf(a, sizeof(a), "%s", s) >= (int)sizeof(a))
		return -ENOTSUP;
	if ((slash = strchr(a, '/')) != NULL) {
		*slash = '\0';
		l = strtoul(slash + 1, &end, 10);
		if (*end != '\0' || l == 0 || l > max)
			return -ENOTSUP;
	}
	if (inet_pton(fam, a, buf) != 1)
		return -ENOTSUP;
	*plen = (unsigned int)l;
	return 0;
}

/* ip/ip6 saddr/daddr [!=] address or prefix, as nft compiles it: a
 * prefix on a byte boundary loads only those bytes, any other is
 * masked. */
static int
ip_match(struct nftnl_rule *r, int fam, bool src, uint32_t op,
    const char *v)
{
	unsigned char a[16], mask[16] = { 0 };
	uint32_t alen = fam == AF_INET ? 4 : 16;
	uint32_t off = fam == AF_INET ? (src ? 12 : 16) : (src ? 8 : 24);
	unsigned int plen;
	int e;

	if ((e = addr(fam, v, a, &plen)) < 0)
		return e;
	if (plen == alen * 8 || plen % 8 == 0) {
		if (payload(r, NFT_PAYLOAD_NETWORK_HEADER, off, plen / 8) < 0)
			return -ENOMEM;
		return cmp(r, op, a, plen / 8);
	}
	for (unsigned int i = 0; i < plen; i++)
		mask[i / 8] |= (unsigned char)(0x80u >> (i % 8));
	for (unsigned int i = 0; i < alen; i++)
		a[i] &= mask[i];
	if (payload(r, NFT_PAYLOAD_NETWORK_HEADER, off, alen) < 0 ||
	    bitwise(r, mask, alen) < 0)
		return -ENOMEM;
	return cmp(r, op, a, alen);
}

static int
proto_num(const char *s)
{
	if (strcmp(s, "tcp") == 0)
		return IPPROTO_TCP;
	if (strcmp(s, "udp") == 0)
		return IPPROTO_UDP;
	if (strcmp(s, "sctp") == 0)
		return IPPROTO_SCTP;
	return -1;
}

static int
port_num(const char *s, uint16_t *ret)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);

	if (*s == '\0' || *end != '\0' || v == 0 || v > 65535)
		return -ENOTSUP;
	*ret = htons((uint16_t)v);
	return 0;
}

static int
dport(struct nftnl_rule *r, int proto, const char *v)
{
	uint8_t p = (uint8_t)proto;
	uint16_t port;

	if (port_num(v, &port) < 0)
		return -ENOTSUP;
	if (meta(r, NFT_META_L4PROTO) < 0 || cmp(r, NFT_CMP_EQ, &p,
	    sizeof(p)) < 0 || payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 2,
	    sizeof(port)) < 0)
		return -ENOMEM;
	return cmp(r, NFT_CMP_EQ, &port, sizeof(port));
}

/* snat to A, dnat to A:P or [A]:P. */
static int
nat(struct nftnl_rule *r, int fam, uint32_t type, const char *v)
{
	char a[INET6_ADDRSTRLEN + 2];
	unsigned char buf[16];
	uint32_t alen = fam == AF_INET ? 4 : 16;
	const char *port = NULL;
	struct nftnl_expr *e;
	uint16_t p = 0;
	size_t n;

	if (snprintf(a, sizeof(a), "%s", v) >= (int)sizeof(a))
		return -ENOTSUP;
	if (type == NFT_NAT_DNAT) {
		char *colon = strrchr(a, ':');

		if (colon == NULL)
			return -ENOTSUP;
		*colon = '\0';
		port = colon + 1;
		n = strlen(a);
		if (fam == AF_INET6) {
			if (n < 2 || a[0] != '[' || a[n - 1] != ']')
				return -ENOTSUP;
			a[n - 1] = '\0';
			memmove(a, a + 1, n - 1);
		}
		if (port_num(port, &p) < 0)
			return -ENOTSUP;
	}
	if (inet_pton(fam, a, buf) != 1)
		return -ENOTSUP;
	if (immediate(r, NFT_REG_1, buf, alen) < 0 ||
	    (port != NULL && immediate(r, NFT_REG_2, &p, sizeof(p)) < 0) ||
	    (e = nftnl_expr_alloc("nat")) == NULL)
		return -ENOMEM;
	nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_TYPE, type);
	nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_FAMILY, fam == AF_INET ?
	    NFPROTO_IPV4 : NFPROTO_IPV6);
	nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_ADDR_MIN, NFT_REG_1);
	if (port != NULL) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_PROTO_MIN, NFT_REG_2);
		nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_FLAGS,
		    NF_NAT_RANGE_PROTO_SPECIFIED);
	}
	return add(r, e);
}

static int
comment(struct nftnl_rule *r, const char *q)
{
	struct nftnl_udata_buf *u;
	char c[FW_COMMENTLEN];
	size_t n = strlen(q);

	if (n < 2 || q[0] != '"' || q[n - 1] != '"' || n - 2 >= sizeof(c) ||
	    memchr(q + 1, '"', n - 2) != NULL)
		return -ENOTSUP;
	memcpy(c, q + 1, n - 2);
	c[n - 2] = '\0';
	if ((u = nftnl_udata_buf_alloc(NFT_USERDATA_MAXLEN)) == NULL)
		return -ENOMEM;
	if (!nftnl_udata_put_strz(u, NFTNL_UDATA_RULE_COMMENT, c)) {
		nftnl_udata_buf_free(u);
		return -ENOTSUP;
	}
	nftnl_rule_set_data(r, NFTNL_RULE_USERDATA, nftnl_udata_buf_data(u),
	    nftnl_udata_buf_len(u));
	nftnl_udata_buf_free(u);
	return 0;
}

/* Splits s in place at spaces, a quoted string being one word.  The
 * number of words, or -ENOTSUP. */
static int
words(char *s, char **w, int max)
{
	int n = 0;

	while (*s != '\0') {
		while (*s == ' ')
			*s++ = '\0';
		if (*s == '\0')
			break;
		if (n == max)
			return -ENOTSUP;
		w[n++] = s;
		if (*s == '"') {
			char *end = strchr(s + 1, '"');

			if (end == NULL)
				return -ENOTSUP;
			s = end + 1;
		}
		while (*s != '\0' && *s != ' ')
			s++;
	}
	return n;
}

#define NEXT(i)	((i) + 1 < n ? w[++(i)] : "")

/* The statements of one rule (after "add rule FAM TABLE CHAIN"). */
static int
statements(struct nftnl_rule *r, int fam, char *text)
{
	char *w[WORDS];
	int n = words(text, w, WORDS), e = 0;

	if (n <= 0)
		return -ENOTSUP;
	for (int i = 0; i < n && e == 0; i++) {
		const char *t = w[i];
		int proto;

		if (strcmp(t, "ct") == 0) {
			const char *k = NEXT(i);

			if (strcmp(k, "state") == 0 &&
			    strcmp(NEXT(i), "established,related") == 0)
				e = ct_mask(r, NFT_CT_STATE,
				    NF_CT_STATE_BIT(IP_CT_ESTABLISHED) |
				    NF_CT_STATE_BIT(IP_CT_RELATED), NFT_CMP_NEQ);
			else if (strcmp(k, "status") == 0 &&
			    strcmp(NEXT(i), "!") == 0 &&
			    strcmp(NEXT(i), "dnat") == 0)
				e = ct_mask(r, NFT_CT_STATUS, IPS_DST_NAT,
				    NFT_CMP_EQ);
			else
				e = -ENOTSUP;
		} else if (strcmp(t, "iifname") == 0 ||
		    strcmp(t, "oifname") == 0) {
			uint32_t key = t[0] == 'i' ? NFT_META_IIFNAME :
			    NFT_META_OIFNAME;
			const char *v = NEXT(i);

			if (v[0] == '@')
				e = v[1] != '\0' ? lookup(r, key, v + 1) :
				    -ENOTSUP;
			else if (strcmp(v, "!=") == 0)
				e = ifname(r, key, NFT_CMP_NEQ, NEXT(i));
			else
				e = ifname(r, key, NFT_CMP_EQ, v);
		} else if ((strcmp(t, "ip") == 0 && fam == AF_INET) ||
		    (strcmp(t, "ip6") == 0 && fam == AF_INET6)) {
			const char *k = NEXT(i), *v = NEXT(i);
			uint8_t icmp = IPPROTO_ICMP;

			if (strcmp(k, "protocol") == 0 && fam == AF_INET &&
			    strcmp(v, "icmp") == 0)
				e = payload(r, NFT_PAYLOAD_NETWORK_HEADER, 9,
				    1) < 0 ? -ENOMEM : cmp(r, NFT_CMP_EQ,
				    &icmp, 1);
			else if (strcmp(k, "saddr") == 0 ||
			    strcmp(k, "daddr") == 0) {
				uint32_t op = NFT_CMP_EQ;

				if (strcmp(v, "!=") == 0) {
					op = NFT_CMP_NEQ;
					v = NEXT(i);
				}
				e = ip_match(r, fam, k[0] == 's', op, v);
			} else
				e = -ENOTSUP;
		} else if (strcmp(t, "meta") == 0) {
			uint8_t icmp6 = IPPROTO_ICMPV6;

			if (fam == AF_INET6 && strcmp(NEXT(i), "l4proto") == 0 &&
			    strcmp(NEXT(i), "ipv6-icmp") == 0)
				e = meta(r, NFT_META_L4PROTO) < 0 ? -ENOMEM :
				    cmp(r, NFT_CMP_EQ, &icmp6, 1);
			else
				e = -ENOTSUP;
		} else if ((proto = proto_num(t)) >= 0) {
			if (strcmp(NEXT(i), "dport") == 0)
				e = dport(r, proto, NEXT(i));
			else
				e = -ENOTSUP;
		} else if (strcmp(t, "fib") == 0) {
			uint32_t local = RTN_LOCAL;
			struct nftnl_expr *x;

			if (strcmp(NEXT(i), "saddr") != 0 ||
			    strcmp(NEXT(i), "type") != 0 ||
			    strcmp(NEXT(i), "local") != 0)
				e = -ENOTSUP;
			else if ((x = nftnl_expr_alloc("fib")) == NULL)
				e = -ENOMEM;
			else {
				nftnl_expr_set_u32(x, NFTNL_EXPR_FIB_DREG,
				    NFT_REG_1);
				nftnl_expr_set_u32(x, NFTNL_EXPR_FIB_RESULT,
				    NFT_FIB_RESULT_ADDRTYPE);
				nftnl_expr_set_u32(x, NFTNL_EXPR_FIB_FLAGS,
				    NFTA_FIB_F_SADDR);
				nftnl_rule_add_expr(r, x);
				e = cmp(r, NFT_CMP_EQ, &local, sizeof(local));
			}
		} else if (strcmp(t, "counter") == 0)
			e = simple(r, "counter");
		else if (strcmp(t, "accept") == 0)
			e = verdict(r, NF_ACCEPT);
		else if (strcmp(t, "drop") == 0)
			e = verdict(r, NF_DROP);
		else if (strcmp(t, "masquerade") == 0)
			e = simple(r, "masq");
		else if (strcmp(t, "snat") == 0 || strcmp(t, "dnat") == 0) {
			uint32_t type = t[0] == 's' ? NFT_NAT_SNAT :
			    NFT_NAT_DNAT;

			e = strcmp(NEXT(i), "to") == 0 ? nat(r, fam, type,
			    NEXT(i)) : -ENOTSUP;
		} else if (strcmp(t, "comment") == 0 && i == n - 2)
			e = comment(r, NEXT(i));
		else
			e = -ENOTSUP;
	}
	return e;
}

/* ---- lines ---- */

static int
family_of(const char *s)
{
	if (strcmp(s, "ip") == 0)
		return AF_INET;
	if (strcmp(s, "ip6") == 0)
		return AF_INET6;
	return -1;
}

/* A message of type for family into out's batch. */
static struct nlmsghdr *
msg(struct out *o, uint16_t type, int fam, uint16_t flags)
{
	return nftnl_nlmsg_build_hdr(mnl_nlmsg_batch_current(o->b), type,
	    fam == AF_INET ? NFPROTO_IPV4 : NFPROTO_IPV6, flags, o->seq++);
}

static int
next(struct out *o)
{
	return mnl_nlmsg_batch_next(o->b) ? 0 : -ENOTSUP;
}

static int
rule_line(struct out *o, int fam, const char *chain, char *text)
{
	struct nftnl_rule *r = nftnl_rule_alloc();
	char buf[4096];
	int e;

	if (r == NULL)
		return -ENOMEM;
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, FW_NFT_TABLE);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, chain);
	nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, fam == AF_INET ?
	    NFPROTO_IPV4 : NFPROTO_IPV6);
	if ((e = statements(r, fam, text)) < 0)
		goto out;
	if (o->b == NULL) {
		(void) nftnl_rule_snprintf(buf, sizeof(buf), r,
		    NFTNL_OUTPUT_DEFAULT, 0);
		fw_sbuf_printf(&o->dump, "%s\n", buf);
		e = o->dump.e;
	} else {
		nftnl_rule_nlmsg_build_payload(msg(o, NFT_MSG_NEWRULE, fam,
		    NLM_F_CREATE | NLM_F_APPEND), r);
		e = next(o);
	}
out:
	nftnl_rule_free(r);
	return e;
}

static int
chain_line(struct out *o, uint16_t type, int fam, const char *name)
{
	struct nftnl_chain *c;
	struct nftnl_rule *r;

	if (o->b == NULL)
		return 0;
	if (type == NFT_MSG_DELRULE) {
		/* Every rule of the chain: a flush. */
		if ((r = nftnl_rule_alloc()) == NULL)
			return -ENOMEM;
		nftnl_rule_set_str(r, NFTNL_RULE_TABLE, FW_NFT_TABLE);
		nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, name);
		nftnl_rule_nlmsg_build_payload(msg(o, type, fam, 0), r);
		nftnl_rule_free(r);
		return next(o);
	}
	if ((c = nftnl_chain_alloc()) == NULL)
		return -ENOMEM;
	nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, FW_NFT_TABLE);
	nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, name);
	nftnl_chain_nlmsg_build_payload(msg(o, type, fam,
	    type == NFT_MSG_NEWCHAIN ? NLM_F_CREATE : 0), c);
	nftnl_chain_free(c);
	return next(o);
}

/* An element's key as the map's type lays it out: every part in 4-byte
 * steps, addresses and ports in network order, names NUL-padded. */
static int
elem_key(const struct fw_nmapdef *d, int fam, char *key, unsigned char *buf,
    size_t *ret)
{
	char *w[8], type[64], *tw[8];
	int n, tn;
	size_t off = 0;

	fw_nft_map_type(d, fam, type, sizeof(type));
	if ((n = words(key, w, 8)) <= 0 || (tn = words(type, tw, 8)) != n)
		return -ENOTSUP;
	for (int i = 0; i < n; i++) {
		const char *t = tw[i], *v = w[i];

		if (i > 0 && (strcmp(t, ".") != 0 || strcmp(v, ".") != 0))
			return -ENOTSUP;
		if (i > 0) {
			/* Step over the dot to the part. */
			if (++i >= n)
				return -ENOTSUP;
			t = tw[i];
			v = w[i];
		}
		if (strcmp(t, "ifname") == 0) {
			size_t l = strlen(v);

			if (l < 3 || v[0] != '"' || v[l - 1] != '"' ||
			    l - 2 >= IFNAMSIZ)
				return -ENOTSUP;
			memset(buf + off, 0, IFNAMSIZ);
			memcpy(buf + off, v + 1, l - 2);
			off += IFNAMSIZ;
		} else if (strcmp(t, "ipv4_addr") == 0 ||
		    strcmp(t, "ipv6_addr") == 0) {
			int f = t[3] == '4' ? AF_INET : AF_INET6;

			if (inet_pton(f, v, buf + off) != 1)
				return -ENOTSUP;
			off += f == AF_INET ? 4 : 16;
		} else if (strcmp(t, "inet_proto") == 0) {
			int p = proto_num(v);

			if (p < 0)
				return -ENOTSUP;
			memset(buf + off, 0, 4);
			buf[off] = (unsigned char)p;
			off += 4;
		} else if (strcmp(t, "inet_service") == 0) {
			uint16_t p;

			if (port_num(v, &p) < 0)
				return -ENOTSUP;
			memset(buf + off, 0, 4);
			memcpy(buf + off, &p, sizeof(p));
			off += 4;
		} else
			return -ENOTSUP;
	}
	*ret = off;
	return 0;
}

/* "MAP { KEY : jump CHAIN }" (add) or "MAP { KEY }" (delete). */
static int
elem_line(struct out *o, bool del, int fam, char *rest)
{
	const struct fw_nmapdef *d = NULL;
	struct nftnl_set *s = NULL;
	struct nftnl_set_elem *el;
	unsigned char key[64];
	char *open, *close, *chain = NULL, *sep, *map = rest;
	size_t klen;
	int e;

	if ((open = strstr(rest, " { ")) == NULL ||
	    (close = strrchr(rest, '}')) == NULL || close < open ||
	    close[1] != '\0' || close[-1] != ' ')
		return -ENOTSUP;
	*open = '\0';
	close[-1] = '\0';
	for (size_t i = 0; i < fw_nft_nmaps; i++)
		if (strcmp(fw_nft_maps[i].name, map) == 0)
			d = &fw_nft_maps[i];
	if (d == NULL || d->set)
		return -ENOTSUP;
	if (!del) {
		if ((sep = strstr(open + 3, " : jump ")) == NULL)
			return -ENOTSUP;
		*sep = '\0';
		chain = sep + 8;
		if (*chain == '\0' || strchr(chain, ' ') != NULL)
			return -ENOTSUP;
	}
	if ((e = elem_key(d, fam, open + 3, key, &klen)) < 0)
		return e;
	if ((s = nftnl_set_alloc()) == NULL ||
	    (el = nftnl_set_elem_alloc()) == NULL) {
		nftnl_set_free(s);
		return -ENOMEM;
	}
	nftnl_set_set_str(s, NFTNL_SET_TABLE, FW_NFT_TABLE);
	nftnl_set_set_str(s, NFTNL_SET_NAME, map);
	nftnl_set_elem_set(el, NFTNL_SET_ELEM_KEY, key, (uint32_t)klen);
	if (!del) {
		nftnl_set_elem_set_u32(el, NFTNL_SET_ELEM_VERDICT, NFT_JUMP);
		nftnl_set_elem_set_str(el, NFTNL_SET_ELEM_CHAIN, chain);
	}
	nftnl_set_elem_add(s, el);
	if (o->b == NULL) {
		char buf[1024];

		(void) nftnl_set_snprintf(buf, sizeof(buf), s,
		    NFTNL_OUTPUT_DEFAULT, 0);
		fw_sbuf_printf(&o->dump, "%s\n", buf);
		e = o->dump.e;
	} else {
		nftnl_set_elems_nlmsg_build_payload(msg(o, del ?
		    NFT_MSG_DELSETELEM : NFT_MSG_NEWSETELEM, fam, del ? 0 :
		    NLM_F_CREATE), s);
		e = next(o);
	}
	nftnl_set_free(s);
	return e;
}

/* One line: "VERB OBJ FAM cbridge ...". */
static int
line(struct out *o, char *s)
{
	static const struct {
		const char	*prefix;
		int		kind;
	} verbs[] = {
		{ "flush chain ", 0 }, { "delete chain ", 1 },
		{ "add chain ", 2 }, { "add rule ", 3 },
		{ "add element ", 4 }, { "delete element ", 5 },
	};
	char *fam_s, *table, *name, *rest;
	int kind = -1, fam;

	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (strncmp(s, verbs[i].prefix, strlen(verbs[i].prefix)) ==
		    0) {
			kind = verbs[i].kind;
			s += strlen(verbs[i].prefix);
			break;
		}
	fam_s = s;
	if (kind < 0 || (table = strchr(fam_s, ' ')) == NULL)
		return -ENOTSUP;
	*table++ = '\0';
	if ((name = strchr(table, ' ')) == NULL)
		return -ENOTSUP;
	*name++ = '\0';
	if ((fam = family_of(fam_s)) < 0 || strcmp(table, FW_NFT_TABLE) != 0)
		return -ENOTSUP;
	rest = strchr(name, ' ');
	if (kind >= 4)
		return elem_line(o, kind == 5, fam, name);
	if (kind == 3) {
		if (rest == NULL)
			return -ENOTSUP;
		*rest++ = '\0';
		return rule_line(o, fam, name, rest);
	}
	/* A chain line names the chain and nothing else (no hook). */
	if (rest != NULL || *name == '\0')
		return -ENOTSUP;
	return chain_line(o, kind == 0 ? NFT_MSG_DELRULE : kind == 1 ?
	    NFT_MSG_DELCHAIN : NFT_MSG_NEWCHAIN, fam, name);
}

/* Every line of script into o. */
static int
lines(struct out *o, const char *script)
{
	char *copy = strdup(script), *rest, *s;
	int e = 0;

	if (copy == NULL)
		return -ENOMEM;
	rest = copy;
	while (e == 0 && (s = strsep(&rest, "\n")) != NULL)
		if (*s != '\0')
			e = line(o, s);
	free(copy);
	return e;
}

int
fw_nwire_dump(const char *script, char **ret)
{
	struct out o = { 0 };
	int e;

	*ret = NULL;
	if ((e = lines(&o, script)) < 0) {
		free(o.dump.s);
		return e;
	}
	if (o.dump.s == NULL && (o.dump.s = strdup("")) == NULL)
		return -ENOMEM;
	*ret = o.dump.s;
	return 0;
}

int
fw_nwire_run(struct fw_nwire *w, const char *script, const char *what,
    char *err, size_t errlen)
{
	struct out o = { 0 };
	char rbuf[MNL_SOCKET_BUFFER_SIZE];
	size_t len;
	ssize_t n;
	int e, first = 0;

	if ((o.b = mnl_nlmsg_batch_start(w->buf, WIRE_LIMIT)) == NULL) {
		fw_seterr(err, errlen, "Failed to %s: out of memory", what);
		return -ENOMEM;
	}
	o.seq = w->seq;
	nftnl_batch_begin(mnl_nlmsg_batch_current(o.b), o.seq++);
	(void) mnl_nlmsg_batch_next(o.b);
	if ((e = lines(&o, script)) < 0)
		goto out;
	nftnl_batch_end(mnl_nlmsg_batch_current(o.b), o.seq++);
	if ((e = next(&o)) < 0)
		goto out;
	w->seq = o.seq;
	len = mnl_nlmsg_batch_size(o.b);
	if (mnl_socket_sendto(w->nl, mnl_nlmsg_batch_head(o.b), len) < 0) {
		e = -errno;
		fw_seterr(err, errlen, "Failed to %s: %s", what, strerror(-e));
		goto out;
	}
	/* The kernel runs the batch before sendto returns: what it says
	 * (only errors, nothing asked an ack) is queued already. */
	while ((n = recv(mnl_socket_get_fd(w->nl), rbuf, sizeof(rbuf),
	    MSG_DONTWAIT)) > 0) {
		const struct nlmsghdr *h = (const void *)rbuf;
		int left = (int)n;

		for (; mnl_nlmsg_ok(h, left); h = mnl_nlmsg_next(h, &left))
			if (h->nlmsg_type == NLMSG_ERROR && first == 0) {
				const struct nlmsgerr *ne =
				    mnl_nlmsg_get_payload(h);

				first = ne->error;
			}
	}
	if (first < 0) {
		e = first;
		fw_seterr(err, errlen, "Failed to %s: %s", what, strerror(-e));
	}
out:
	mnl_nlmsg_batch_stop(o.b);
	return e;
}
