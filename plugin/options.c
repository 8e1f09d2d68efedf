#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plugin/errmsg.h"
#include "plugin/options.h"

static const char *const gw_mode_names[GW_MODE_MAX] = {
	[GW_MODE_NAT] = "nat",
	[GW_MODE_NAT_UNPROTECTED] = "nat-unprotected",
	[GW_MODE_ROUTED] = "routed",
	[GW_MODE_ISOLATED] = "isolated",
};

const char *
gw_mode_to_string(enum gw_mode m)
{
	return m < GW_MODE_MAX ? gw_mode_names[m] : "?";
}

int
gw_mode_from_string(const char *s, enum gw_mode *ret)
{
	for (int i = 0; i < GW_MODE_MAX; i++) {
		if (strcmp(s, gw_mode_names[i]) == 0) {
			*ret = (enum gw_mode)i;
			return 0;
		}
	}
	return -EINVAL;
}

int
opt_kvlist_add(struct opt_kvlist *l, const char *key, const char *value)
{
	struct opt_kv *nv;
	char *k, *v;

	if (l->n >= OPT_MAX_KV || strlen(key) > OPT_KEY_MAX ||
	    strlen(value) > OPT_VALUE_MAX)
		return -E2BIG;
	if (opt_kvlist_get(l, key) != NULL)
		return -EEXIST;
	nv = realloc(l->v, (l->n + 1) * sizeof(*nv));
	if (nv == NULL)
		return -ENOMEM;
	l->v = nv;
	k = strdup(key);
	v = strdup(value);
	if (k == NULL || v == NULL) {
		free(k);
		free(v);
		return -ENOMEM;
	}
	l->v[l->n++] = (struct opt_kv){ .key = k, .value = v };
	return 0;
}

const char *
opt_kvlist_get(const struct opt_kvlist *l, const char *key)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i].key, key) == 0)
			return l->v[i].value;
	return NULL;
}

void
opt_kvlist_done(struct opt_kvlist *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].key);
		free(l->v[i].value);
	}
	free(l->v);
	*l = (struct opt_kvlist){ 0 };
}

int
opt_kvlist_copy(const struct opt_kvlist *src, struct opt_kvlist *ret)
{
	struct opt_kvlist l = { 0 };
	int r;

	for (size_t i = 0; i < src->n; i++) {
		r = opt_kvlist_add(&l, src->v[i].key, src->v[i].value);
		if (r < 0) {
			opt_kvlist_done(&l);
			return r;
		}
	}
	*ret = l;
	return 0;
}

int
opt_parse_bool(const char *s, bool *ret)
{
	static const char *const yes[] = { "1", "t", "T", "TRUE", "true", "True" };
	static const char *const no[] = { "0", "f", "F", "FALSE", "false", "False" };

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcmp(s, yes[i]) == 0) {
			*ret = true;
			return 0;
		}
		if (strcmp(s, no[i]) == 0) {
			*ret = false;
			return 0;
		}
	}
	return -EINVAL;
}

bool
opt_valid_ifname(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= OPT_IFNAMSIZ || strcmp(s, ".") == 0 ||
	    strcmp(s, "..") == 0)
		return false;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		/* The kernel's rules, plus what a firewall rule cannot
		 * quote (nft reads a trailing '*' as a wildcard). */
		if (c <= ' ' || c >= 0x7f || strchr("/:\"'\\*", c) != NULL)
			return false;
	}
	return true;
}

static int
parse_uint(const char *s, unsigned long max, unsigned long *ret)
{
	unsigned long v = 0;

	if (*s == '\0' || strlen(s) > 10)
		return -EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		v = v * 10 + (unsigned long)(*s - '0');
	}
	if (v > max)
		return -ERANGE;
	*ret = v;
	return 0;
}

static int
parse_addr(const char *key, const char *value, int family,
    struct prefix *ret, char *err, size_t errlen)
{
	struct prefix p;

	if (prefix_parse_addr(value, &p) < 0 ||
	    (family != AF_UNSPEC && p.family != family)) {
		ERR("invalid value '%s' for option %s: expected an %s address",
		    value, key, family == AF_INET ? "IPv4" :
		    family == AF_INET6 ? "IPv6" : "IP");
		return -EINVAL;
	}
	*ret = p;
	return 0;
}

static int
parse_trusted(const char *key, const char *value, struct net_opts *o,
    char *err, size_t errlen)
{
	const char *p = value;

	o->ntrusted = 0;
	while (*p != '\0') {
		const char *end = strchr(p, ':');
		size_t n = end != NULL ? (size_t)(end - p) : strlen(p);
		char name[OPT_IFNAMSIZ];

		if (n == 0 || n >= sizeof(name)) {
			ERR("invalid value '%s' for option %s: expected "
			    "interface names separated by ':'", value, key);
			return -EINVAL;
		}
		memcpy(name, p, n);
		name[n] = '\0';
		if (!opt_valid_ifname(name)) {
			ERR("invalid interface name '%s' in option %s", name, key);
			return -EINVAL;
		}
		if (o->ntrusted >= OPT_MAX_TRUSTED) {
			ERR("too many interfaces in option %s (at most %d)",
			    key, OPT_MAX_TRUSTED);
			return -EINVAL;
		}
		memcpy(o->trusted[o->ntrusted++], name, n + 1);
		p += n;
		if (*p == ':')
			p++;
	}
	return 0;
}

/* Applies one generic option to o. */
static int
apply_one(const char *key, const char *value, struct net_opts *o,
    char *err, size_t errlen)
{
	const char *bkey;
	unsigned long ul;
	bool *flag = NULL;
	enum gw_mode *mode = NULL;

	if (strcmp(key, OPT_PREFIX "driver.mtu") == 0) {
		if (parse_uint(value, 65535, &ul) < 0 || ul < 68) {
			ERR("invalid value '%s' for option %s: expected an "
			    "MTU between 68 and 65535", value, key);
			return -EINVAL;
		}
		o->mtu = (unsigned int)ul;
		return 0;
	}
	if (strcmp(key, OPT_PREFIX "container_iface_prefix") == 0) {
		/* Room for the index dockerd appends. */
		if (!opt_valid_ifname(value) || strlen(value) > 12) {
			ERR("invalid value '%s' for option %s: expected an "
			    "interface name prefix of at most 12 characters",
			    value, key);
			return -EINVAL;
		}
		memcpy(o->iface_prefix, value, strlen(value) + 1);
		return 0;
	}
	if (strcmp(key, OPT_PREFIX "host_ipv4") == 0) {
		o->has_host_ipv4 = true;
		return parse_addr(key, value, AF_INET, &o->host_ipv4, err,
		    errlen);
	}
	if (strcmp(key, OPT_PREFIX "host_ipv6") == 0) {
		o->has_host_ipv6 = true;
		return parse_addr(key, value, AF_INET6, &o->host_ipv6, err,
		    errlen);
	}
	if (strncmp(key, OPT_BRIDGE_PREFIX, strlen(OPT_BRIDGE_PREFIX)) != 0)
		return 0;	/* not ours to judge */

	bkey = key + strlen(OPT_BRIDGE_PREFIX);
	if (strcmp(bkey, "name") == 0) {
		if (!opt_valid_ifname(value)) {
			ERR("invalid bridge name '%s' in option %s: an "
			    "interface name has 1 to 15 printable ASCII "
			    "characters and no spaces or any of / : \" ' \\ *",
			    value, key);
			return -EINVAL;
		}
		memcpy(o->bridge_name, value, strlen(value) + 1);
		return 0;
	}
	if (strcmp(bkey, "enable_icc") == 0)
		flag = &o->enable_icc;
	else if (strcmp(bkey, "enable_ip_masquerade") == 0)
		flag = &o->enable_ip_masquerade;
	else if (strcmp(bkey, "inhibit_ipv4") == 0)
		flag = &o->inhibit_ipv4;
	else if (strcmp(bkey, "default_bridge") == 0)
		flag = &o->default_bridge;
	else if (strcmp(bkey, "gateway_mode_ipv4") == 0)
		mode = &o->gw_mode_ipv4;
	else if (strcmp(bkey, "gateway_mode_ipv6") == 0)
		mode = &o->gw_mode_ipv6;
	else if (strcmp(bkey, "host_binding_ipv4") == 0) {
		o->has_host_binding = true;
		return parse_addr(key, value, AF_UNSPEC, &o->host_binding, err,
		    errlen);
	} else if (strcmp(bkey, "trusted_host_interfaces") == 0)
		return parse_trusted(key, value, o, err, errlen);
	else {
		ERR("unknown option %s: supported bridge options are name, "
		    "enable_icc, enable_ip_masquerade, host_binding_ipv4, "
		    "inhibit_ipv4, default_bridge, gateway_mode_ipv4, "
		    "gateway_mode_ipv6, trusted_host_interfaces", key);
		return -EINVAL;
	}

	if (flag != NULL && opt_parse_bool(value, flag) < 0) {
		ERR("invalid value '%s' for option %s: expected true or false",
		    value, key);
		return -EINVAL;
	}
	if (mode != NULL && gw_mode_from_string(value, mode) < 0) {
		ERR("invalid value '%s' for option %s: expected nat, "
		    "nat-unprotected, routed or isolated", value, key);
		return -EINVAL;
	}
	return 0;
}

int
opt_parse(const struct opt_kvlist *generic, bool enable_ipv4,
    bool enable_ipv6, bool internal, struct net_opts *ret,
    char *err, size_t errlen)
{
	struct net_opts o = {
		.enable_icc = true,
		.enable_ip_masquerade = true,
		.gw_mode_ipv4 = GW_MODE_NAT,
		.gw_mode_ipv6 = GW_MODE_NAT,
		.enable_ipv4 = enable_ipv4,
		.enable_ipv6 = enable_ipv6,
		.internal = internal,
	};
	int r;

	for (size_t i = 0; generic != NULL && i < generic->n; i++) {
		r = apply_one(generic->v[i].key, generic->v[i].value, &o, err,
		    errlen);
		if (r < 0)
			return r;
	}
	if (o.default_bridge) {
		ERR("option " OPT_BRIDGE_PREFIX "default_bridge=true is not "
		    "supported: the default bridge belongs to dockerd");
		return -EINVAL;
	}
	if (enable_ipv6 && o.mtu != 0 && o.mtu < 1280) {
		ERR("MTU %u is too small for an IPv6 network (at least 1280)",
		    o.mtu);
		return -EINVAL;
	}
	*ret = o;
	return 0;
}
