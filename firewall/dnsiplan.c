/*
 * The pure half of the 127.0.0.11 redirect (firewall/dnsintercept.h):
 * the nft scripts, the check of nft's JSON listing against the plan, and
 * the reading of sock_diag dumps.  No syscalls: unit-tested on captured
 * output (nft 1.0.6).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/tcp.h>

#include <jansson.h>

#include "firewall/dnsintercept.h"

/* The two protocols the chain redirects, in the order of its rules. */
static const char *const protos[] = { "udp", "tcp" };
#define NRULES	(sizeof(protos) / sizeof(protos[0]))

static bool
valid_target(const struct in_addr *to)
{
	uint32_t a;

	if (to == NULL)
		return false;
	a = ntohl(to->s_addr);
	/* 127.0.0.11 itself would hide dockerd's resolver behind a port
	 * that nothing serves. */
	return a != INADDR_ANY && a != INADDR_BROADCAST && !IN_MULTICAST(a) &&
	    a != 0x7f00000bu;
}

int
dnsi_plan_apply(const struct in_addr *to, char *buf, size_t len)
{
	char addr[INET_ADDRSTRLEN];
	size_t off;
	int w;

	if (!valid_target(to))
		return -EINVAL;
	if (inet_ntop(AF_INET, to, addr, sizeof(addr)) == NULL)
		return -EINVAL;
	/* "add" first, so that "delete" finds a table also the first
	 * time; the second "add" starts from nothing, so that no chain,
	 * set or rule someone left there survives. */
	w = snprintf(buf, len,
	    "add table ip %s\n"
	    "delete table ip %s\n"
	    "add table ip %s\n"
	    "add chain ip %s %s { type nat hook output priority %d; "
	    "policy accept; }\n",
	    DNSI_TABLE, DNSI_TABLE, DNSI_TABLE, DNSI_TABLE, DNSI_CHAIN,
	    DNSI_PRIORITY);
	if (w < 0 || (size_t)w >= len)
		return -ENOBUFS;
	off = (size_t)w;
	for (size_t i = 0; i < NRULES; i++) {
		w = snprintf(buf + off, len - off, "add rule ip %s %s ip daddr "
		    "%s %s dport %d counter dnat to %s:%d\n", DNSI_TABLE,
		    DNSI_CHAIN, DNSI_DOCKER_ADDR, protos[i], DNSI_DNS_PORT,
		    addr, DNSI_DNS_PORT);
		if (w < 0 || (size_t)w >= len - off)
			return -ENOBUFS;
		off += (size_t)w;
	}
	return 0;
}

int
dnsi_plan_remove(char *buf, size_t len)
{
	/* "add" makes "delete" succeed when the table is not there. */
	int w = snprintf(buf, len, "add table ip %s\ndelete table ip %s\n",
	    DNSI_TABLE, DNSI_TABLE);

	return w < 0 || (size_t)w >= len ? -ENOBUFS : 0;
}

/* ---- the check ---- */

static bool
str_is(const json_t *obj, const char *key, const char *want)
{
	const char *s = json_string_value(json_object_get(obj, key));

	return s != NULL && strcmp(s, want) == 0;
}

static bool
int_is(const json_t *obj, const char *key, json_int_t want)
{
	const json_t *v = json_object_get(obj, key);

	return json_is_integer(v) && json_integer_value(v) == want;
}

/* obj has exactly n keys, all of them in keys[]. */
static bool
only_keys(const json_t *obj, const char *const *keys, size_t n)
{
	const char *k;
	json_t *v;
	size_t found = 0;

	json_object_foreach((json_t *)obj, k, v) {
		size_t i;

		for (i = 0; i < n && strcmp(k, keys[i]) != 0; i++)
			;
		if (i == n)
			return false;
		found++;
	}
	return found == n;
}

/* {"match": {"op": "==", "left": {"payload": {"protocol": P, "field": F}},
 * "right": R}}: R is checked by the caller.  Returns "right" or NULL. */
static const json_t *
payload_match(const json_t *e, const char *proto, const char *field)
{
	static const char *const mkeys[] = { "op", "left", "right" };
	static const char *const pkeys[] = { "protocol", "field" };
	const json_t *m = json_object_get(e, "match"), *p;

	if (!json_is_object(e) || json_object_size(e) != 1 ||
	    !json_is_object(m) || !only_keys(m, mkeys, 3) ||
	    !str_is(m, "op", "=="))
		return NULL;
	p = json_object_get(json_object_get(m, "left"), "payload");
	if (json_object_size(json_object_get(m, "left")) != 1 ||
	    !json_is_object(p) || !only_keys(p, pkeys, 2) ||
	    !str_is(p, "protocol", proto) || !str_is(p, "field", field))
		return NULL;
	return json_object_get(m, "right");
}

static bool
addr_is(const json_t *v, const struct in_addr *want)
{
	const char *s = json_string_value(v);
	struct in_addr a;

	return s != NULL && inet_pton(AF_INET, s, &a) == 1 &&
	    a.s_addr == want->s_addr;
}

/* The expressions of rule i of the plan: ip daddr 127.0.0.11, <proto>
 * dport 53, counter (any values), dnat to <to>:53. */
static bool
rule_is_planned(const json_t *expr, size_t i, const struct in_addr *to)
{
	static const char *const dkeys[] = { "addr", "port" };
	static const char *const dkeys_fam[] = { "addr", "port", "family" };
	struct in_addr docker;
	const json_t *v, *c, *d;

	if (!json_is_array(expr) || json_array_size(expr) != 4)
		return false;
	(void) inet_pton(AF_INET, DNSI_DOCKER_ADDR, &docker);
	v = payload_match(json_array_get(expr, 0), "ip", "daddr");
	if (v == NULL || !addr_is(v, &docker))
		return false;
	v = payload_match(json_array_get(expr, 1), protos[i], "dport");
	if (v == NULL || !json_is_integer(v) ||
	    json_integer_value(v) != DNSI_DNS_PORT)
		return false;
	c = json_array_get(expr, 2);
	if (json_object_size(c) != 1 ||
	    !json_is_object(json_object_get(c, "counter")))
		return false;
	d = json_object_get(json_array_get(expr, 3), "dnat");
	if (json_object_size(json_array_get(expr, 3)) != 1 ||
	    !json_is_object(d))
		return false;
	/* Some nft versions also print the family of a dnat. */
	if (!only_keys(d, dkeys, 2) && !(only_keys(d, dkeys_fam, 3) &&
	    str_is(d, "family", "ip")))
		return false;
	return addr_is(json_object_get(d, "addr"), to) &&
	    int_is(d, "port", DNSI_DNS_PORT);
}

/* The one key of an item of the "nftables" array, and its object. */
static const char *
item_kind(json_t *item, json_t **ret_obj)
{
	const char *k;
	json_t *v;

	if (!json_is_object(item) || json_object_size(item) != 1)
		return NULL;
	json_object_foreach(item, k, v) {
		*ret_obj = v;
		return k;
	}
	return NULL;
}

int
dnsi_plan_check(const char *json, const struct in_addr *to,
    enum dnsi_state *ret)
{
	json_error_t jerr;
	json_t *root, *arr, *item;
	size_t i, nchains = 0, nrules = 0;
	bool table = false, ours = false, drift = false;

	if (json == NULL || to == NULL)
		return -EBADMSG;
	if ((root = json_loads(json, JSON_REJECT_DUPLICATES, &jerr)) == NULL)
		return -EBADMSG;
	arr = json_object_get(root, "nftables");
	if (!json_is_array(arr)) {
		json_decref(root);
		return -EBADMSG;
	}
	json_array_foreach(arr, i, item) {
		json_t *o = NULL;
		const char *kind = item_kind(item, &o);

		if (kind == NULL || !json_is_object(o)) {
			json_decref(root);
			return -EBADMSG;
		}
		if (strcmp(kind, "metainfo") == 0 ||
		    !str_is(o, "family", "ip"))
			continue;
		if (strcmp(kind, "table") == 0) {
			if (!str_is(o, "name", DNSI_TABLE))
				continue;
			table = true;
			/* A dormant table is there but does nothing. */
			if (json_object_get(o, "flags") != NULL)
				drift = true;
			continue;
		}
		if (!str_is(o, "table", DNSI_TABLE))
			continue;
		ours = true;
		if (strcmp(kind, "chain") == 0) {
			nchains++;
			if (!str_is(o, "name", DNSI_CHAIN) ||
			    !str_is(o, "type", "nat") ||
			    !str_is(o, "hook", "output") ||
			    !int_is(o, "prio", DNSI_PRIORITY) ||
			    !str_is(o, "policy", "accept"))
				drift = true;
		} else if (strcmp(kind, "rule") == 0) {
			if (nrules >= NRULES || !str_is(o, "chain", DNSI_CHAIN) ||
			    !rule_is_planned(json_object_get(o, "expr"), nrules,
			    to))
				drift = true;
			nrules++;
		} else {
			/* A set, map, flowtable, named object...: not ours. */
			drift = true;
		}
	}
	json_decref(root);
	/* Objects of ours without the table are not what nft prints, but
	 * not "absent" either: apply replaces whatever it is. */
	if (!table && !ours)
		*ret = DNSI_ABSENT;
	else if (!table || drift || nchains != 1 || nrules != NRULES)
		*ret = DNSI_DRIFTED;
	else
		*ret = DNSI_OK;
	return 0;
}

/* ---- sock_diag ---- */

static void
consider(const struct inet_diag_msg *m, int protocol, struct dnsi_found *f)
{
	struct in_addr docker;
	uint32_t src, dst;

	(void) inet_pton(AF_INET, DNSI_DOCKER_ADDR, &docker);
	memcpy(&src, &m->id.idiag_src[0], sizeof(src));
	memcpy(&dst, &m->id.idiag_dst[0], sizeof(dst));
	if (m->idiag_family != AF_INET || src != docker.s_addr ||
	    m->id.idiag_sport == 0)
		return;
	if (protocol == IPPROTO_TCP) {
		if (m->idiag_state != TCP_LISTEN)
			return;
	} else if (dst != INADDR_ANY || m->id.idiag_dport != 0) {
		/* A connected UDP socket is some client's, not a server. */
		return;
	}
	if (f->n++ == 0) {
		memset(&f->addr, 0, sizeof(f->addr));
		f->addr.sin_family = AF_INET;
		f->addr.sin_addr.s_addr = src;
		f->addr.sin_port = m->id.idiag_sport;
	}
}

int
dnsi_diag_scan(const void *buf, size_t len, int protocol,
    struct dnsi_found *f)
{
	size_t off = 0;

	if (protocol != IPPROTO_UDP && protocol != IPPROTO_TCP)
		return -EINVAL;
	/* By hand rather than NLMSG_OK/NLMSG_NEXT: their int arithmetic
	 * does not mix with a size_t length. */
	while (len - off >= sizeof(struct nlmsghdr)) {
		const struct nlmsghdr *nh = (const void *)((const char *)buf +
		    off);

		if (nh->nlmsg_len < sizeof(*nh) || nh->nlmsg_len > len - off)
			return -EBADMSG;
		if (nh->nlmsg_type == NLMSG_DONE) {
			int e = 0;

			/* The end of a dump may carry the dump's error. */
			if (nh->nlmsg_len >= NLMSG_LENGTH(sizeof(e)))
				memcpy(&e, NLMSG_DATA(nh), sizeof(e));
			return e < 0 ? e : 1;
		}
		if (nh->nlmsg_type == NLMSG_ERROR) {
			const struct nlmsgerr *e = NLMSG_DATA(nh);

			if (nh->nlmsg_len < NLMSG_LENGTH(sizeof(*e)))
				return -EBADMSG;
			return e->error < 0 ? e->error : -EBADMSG;
		}
		if (nh->nlmsg_type == SOCK_DIAG_BY_FAMILY) {
			if (nh->nlmsg_len <
			    NLMSG_LENGTH(sizeof(struct inet_diag_msg)))
				return -EBADMSG;
			consider(NLMSG_DATA(nh), protocol, f);
		}
		/* The last message of a buffer may lack its padding. */
		off += NLMSG_ALIGN(nh->nlmsg_len);
		if (off > len)
			off = len;
	}
	/* A message cut in the middle is not the end of a dump. */
	return off == len ? 0 : -EBADMSG;
}
