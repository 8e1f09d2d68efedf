/*
 * Helpers the firewall planner and backends share.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "firewall/common.h"

void
fw_seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	/* A message cut short is still a message. */
	(void) vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

bool
fw_valid_ifname(const char *name)
{
	size_t n;

	if (name == NULL)
		return false;
	n = strnlen(name, FW_IFNAMSIZ);
	if (n == 0 || n >= FW_IFNAMSIZ)
		return false;
	if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];

		/* Printable ASCII only: no spaces or control characters,
		 * and nothing that could end or escape an nft string. */
		if (c <= ' ' || c >= 0x7f)
			return false;
		if (strchr("/:\"'\\*", c) != NULL)
			return false;
	}
	return true;
}

bool
fw_valid_id(const char *id)
{
	if (id == NULL)
		return false;
	for (size_t i = 0; i < FW_ID_LEN; i++) {
		char c = id[i];

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return false;
	}
	return id[FW_ID_LEN] == '\0';
}

int
fw_check_nets(const struct fw_net *nets, size_t n, char *err, size_t errlen)
{
	if (n != 0 && nets == NULL) {
		fw_seterr(err, errlen, "Failed to set up the firewall: no "
		    "network list given");
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		const struct fw_net *net = &nets[i];

		if (!fw_valid_id(net->id)) {
			fw_seterr(err, errlen, "Failed to set up the firewall "
			    "for network '%.*s': the ID is not %d lower-case "
			    "hex digits", FW_ID_LEN, net->id, FW_ID_LEN);
			return -EINVAL;
		}
		if (!fw_valid_ifname(net->bridge)) {
			fw_seterr(err, errlen, "Failed to set up the firewall "
			    "for network '%.12s': bridge name '%.*s' is not "
			    "1 to %d printable characters without '/', ':', "
			    "quotes, '\\' or '*'", net->id, FW_IFNAMSIZ - 1,
			    net->bridge, FW_IFNAMSIZ - 1);
			return -EINVAL;
		}
	}
	return 0;
}

const char *
fw_family_name(int family)
{
	switch (family) {
	case AF_INET:
		return "ip";
	case AF_INET6:
		return "ip6";
	default:
		return NULL;
	}
}

int
fw_rule_vec_push(struct fw_rule_vec *vec, const struct fw_rule *r)
{
	if (vec->n == vec->cap) {
		size_t ncap = vec->cap == 0 ? 8 : vec->cap * 2;
		struct fw_rule *nv;

		nv = reallocarray(vec->v, ncap, sizeof(*nv));
		if (nv == NULL)
			return -ENOMEM;
		vec->v = nv;
		vec->cap = ncap;
	}
	vec->v[vec->n++] = *r;
	return 0;
}

void
fw_rule_vec_done(struct fw_rule_vec *vec)
{
	free(vec->v);
	vec->v = NULL;
	vec->n = vec->cap = 0;
}

const char *
fw_proto_name(int proto)
{
	switch (proto) {
	case IPPROTO_TCP:
		return "tcp";
	case IPPROTO_UDP:
		return "udp";
	case IPPROTO_SCTP:
		return "sctp";
	default:
		return NULL;
	}
}

int
fw_family_index(int family)
{
	return family == AF_INET ? 0 : family == AF_INET6 ? 1 : -1;
}

const char *
fw_chain_table(const char *chain)
{
	if (chain == NULL)
		return NULL;
	if (strcmp(chain, FW_CHAIN_DOCKER_FORWARD) == 0)
		return FW_TABLE_DOCKER_NFT;
	if (strcmp(chain, FW_CHAIN_DOCKER_USER) == 0 ||
	    strcmp(chain, FW_CHAIN_FORWARD) == 0)
		return FW_TABLE;
	return NULL;
}

int
fw_check_host_ip(int family, const struct prefix *host_ip, char *err,
    size_t errlen)
{
	const char *want = family == AF_INET ? "IPv4" : "IPv6";
	char a[PREFIX_STRLEN];

	if (host_ip->family == family)
		return 0;
	if (host_ip->family == AF_INET || host_ip->family == AF_INET6)
		fw_seterr(err, errlen, "Failed to reserve a host port: host "
		    "IP '%s' is not an %s address",
		    prefix_format_addr(host_ip, a, sizeof(a)), want);
	else
		fw_seterr(err, errlen, "Failed to reserve a host port: host "
		    "IP of address family %d is not an %s address",
		    host_ip->family, want);
	return -EINVAL;
}

/* The errno whose text nft printed in msg (it prints strerror() of the
 * kernel's answer), or EIO. */
int
fw_nft_errno(const char *msg)
{
	static const int known[] = { EPERM, EACCES, ENOENT, EEXIST, EBUSY,
	    ENOMEM, ENOBUFS, ENOSPC, EOPNOTSUPP, EPROTONOSUPPORT,
	    EAFNOSUPPORT, EINVAL, ERANGE, EMSGSIZE, EINTR, EAGAIN };

	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (strstr(msg, strerror(known[i])) != NULL)
			return known[i];
	return EIO;
}

/* nft's error output on one line: lines joined with "; ", the caret lines
 * that point into the command left out. */
void
fw_nft_oneline(const char *msg, char *buf, size_t len)
{
	size_t o = 0;
	const char *p = msg;

	if (len == 0)
		return;
	buf[0] = '\0';
	while (*p != '\0' && o + 1 < len) {
		const char *nl = strchrnul(p, '\n');
		size_t n = (size_t)(nl - p);

		if (n != 0 && strspn(p, "^~ \t") < n) {
			int w = snprintf(buf + o, len - o, "%s%.*s",
			    o == 0 ? "" : "; ", (int)n, p);

			if (w < 0)
				break;
			o += (size_t)w;
			if (o >= len)
				o = len - 1;
		}
		p = *nl == '\0' ? nl : nl + 1;
	}
	if (o == 0)
		(void) snprintf(buf, len, "nft gave no reason");
}

uint32_t
fw_fnv1a(uint32_t h, const char *s)
{
	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 16777619u;
	}
	return h;
}

void
fw_sbuf_printf(struct fw_sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->e != 0)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->s ? b->s + b->n : NULL, b->s ? b->cap - b->n :
		    0, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->e = -EINVAL;
			return;
		}
		if (b->s != NULL && b->n + (size_t)n < b->cap) {
			b->n += (size_t)n;
			return;
		}
		{
			size_t cap = b->cap ? b->cap : 4096;
			char *v;

			while (cap <= b->n + (size_t)n)
				cap *= 2;
			if ((v = realloc(b->s, cap)) == NULL) {
				b->e = -ENOMEM;
				return;
			}
			b->s = v;
			b->cap = cap;
		}
	}
}
