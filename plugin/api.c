#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "plugin/api.h"
#include "plugin/driver.h"
#include "plugin/errmsg.h"
#include "plugin/log.h"

#define GATEWAY_TYPE	"com.docker.network.gateway"
#define LOG_BODY_MAX	512

struct route;

/* A request waiting behind the change in flight. */
struct api_queued {
	const struct route *rt;
	char		*body;
	size_t		len;
	api_reply_fn	*fn;
	void		*fn_ctx;
	struct api_queued *next;
};

struct api {
	struct drv	*drv;
	api_stats_fn	dns_stats;
	void		*dns_arg;
	/* The request whose change the driver finishes on its worker: the
	 * reply prepared for success, and whom to give the result. */
	bool		inflight;
	struct api_reply prepared;
	api_reply_fn	*fn;
	void		*fn_ctx;
	char		path[64];
	char		object[80];
	struct api_queued *head, **tail;
	size_t		nqueued;
};

/* Per-request context: what the error log line names. */
struct req_ctx {
	char	object[80];	/* "network 1a2b3c4d5e6f" or "pool ..." */
	bool	pending;	/* the driver finishes the change later */
};

static void	on_drv_done(void *arg, int r, const char *err);
static void	queue_free(struct api_queued *q);

/* A change the driver finishes on its worker counts as done for now: the
 * handler builds its success reply, which is sent only if the change
 * succeeds (api_start). */
static int
pend(struct req_ctx *ctx, int r)
{
	if (r != -EINPROGRESS)
		return r;
	ctx->pending = true;
	return 0;
}

typedef int (*route_fn)(struct api *a, json_t *req, json_t **ret,
    struct req_ctx *ctx, char *err, size_t errlen);

struct api *
api_new(struct drv *d)
{
	struct api *a = calloc(1, sizeof(*a));

	if (a != NULL) {
		a->drv = d;
		a->tail = &a->head;
		drv_set_done(d, on_drv_done, a);
	}
	return a;
}

struct api *
api_free(struct api *a)
{
	if (a == NULL)
		return NULL;
	free(a->prepared.body);
	while (a->head != NULL) {
		struct api_queued *q = a->head;

		a->head = q->next;
		queue_free(q);
	}
	free(a);
	return NULL;
}

/* Field accessors: a missing or null field takes the default; a field of
 * the wrong type is an error naming it. */
static int
get_string(json_t *o, const char *key, bool required, size_t max,
    const char **ret, char *err, size_t errlen)
{
	json_t *v = json_object_get(o, key);

	if (v == NULL || json_is_null(v)) {
		if (required) {
			ERR("missing field %s", key);
			return -EINVAL;
		}
		*ret = "";
		return 0;
	}
	if (!json_is_string(v)) {
		ERR("field %s must be a string", key);
		return -EINVAL;
	}
	if (json_string_length(v) > max ||
	    strlen(json_string_value(v)) != json_string_length(v)) {
		ERR("field %s is too long or contains NUL (at most %zu bytes)",
		    key, max);
		return -EINVAL;
	}
	if (required && json_string_length(v) == 0) {
		ERR("field %s must not be empty", key);
		return -EINVAL;
	}
	*ret = json_string_value(v);
	return 0;
}

/* Booleans: dockerd sends JSON booleans; strings as Go's ParseBool are
 * accepted too, since -o values travel as strings. */
static int
get_bool(json_t *o, const char *key, bool def, bool *ret, char *err,
    size_t errlen)
{
	json_t *v = json_object_get(o, key);

	if (v == NULL || json_is_null(v)) {
		*ret = def;
		return 0;
	}
	if (json_is_boolean(v)) {
		*ret = json_is_true(v);
		return 0;
	}
	if (json_is_string(v) && opt_parse_bool(json_string_value(v), ret) == 0)
		return 0;
	ERR("field %s must be a boolean", key);
	return -EINVAL;
}

static int
get_object(json_t *o, const char *key, json_t **ret, char *err, size_t errlen)
{
	json_t *v = json_object_get(o, key);

	if (v == NULL || json_is_null(v)) {
		*ret = NULL;
		return 0;
	}
	if (!json_is_object(v)) {
		ERR("field %s must be an object", key);
		return -EINVAL;
	}
	*ret = v;
	return 0;
}

static int
get_network_id(json_t *req, const char **ret, struct req_ctx *ctx,
    char *err, size_t errlen)
{
	const char *id;
	int r;

	r = get_string(req, "NetworkID", true, NET_ID_LEN, &id, err, errlen);
	if (r < 0)
		return r;
	(void) snprintf(ctx->object, sizeof(ctx->object), "network %.12s", id);
	if (!net_valid_id(id)) {
		ERR("invalid NetworkID '%.64s': expected 64 hex characters", id);
		return -EINVAL;
	}
	*ret = id;
	return 0;
}

static int
parse_cidr_field(const char *what, const char *s, struct prefix *ret,
    char *err, size_t errlen)
{
	if (prefix_parse(s, ret) < 0) {
		ERR("invalid %s '%s': expected an address with a prefix length, "
		    "like 172.30.0.0/24", what, s);
		return -EINVAL;
	}
	return 0;
}

/* IPv4Data / IPv6Data: [{AddressSpace, Pool, Gateway, AuxAddresses}] */
static int
parse_ipdata(json_t *req, const char *key, int family, struct drv_ipdata *out,
    size_t *ret_n, char *err, size_t errlen)
{
	json_t *arr = json_object_get(req, key), *item, *aux, *v;
	const char *s, *name;
	size_t i;
	int r;

	*ret_n = 0;
	if (arr == NULL || json_is_null(arr))
		return 0;
	if (!json_is_array(arr)) {
		ERR("field %s must be an array", key);
		return -EINVAL;
	}
	if (json_array_size(arr) > DRV_MAX_IPDATA) {
		ERR("field %s has too many entries", key);
		return -EINVAL;
	}
	json_array_foreach(arr, i, item) {
		struct drv_ipdata *d = &out[i];

		*d = (struct drv_ipdata){ 0 };
		if (!json_is_object(item)) {
			ERR("entries of %s must be objects", key);
			return -EINVAL;
		}
		if ((r = get_string(item, "AddressSpace", false, IPAM_SPACE_MAX,
		    &s, err, errlen)) < 0 ||
		    (r = get_string(item, "Pool", true, PREFIX_STRLEN, &s, err,
		    errlen)) < 0 ||
		    (r = parse_cidr_field("pool", s, &d->pool, err, errlen)) < 0)
			return r;
		if (d->pool.family != family) {
			ERR("%s pool %s is not an %s subnet", key, s,
			    family == AF_INET ? "IPv4" : "IPv6");
			return -EINVAL;
		}
		if ((r = get_string(item, "Gateway", false, PREFIX_STRLEN, &s,
		    err, errlen)) < 0)
			return r;
		if (*s != '\0') {
			if (strchr(s, '/') != NULL)
				r = parse_cidr_field("gateway", s, &d->gw, err,
				    errlen);
			else if ((r = prefix_parse_addr(s, &d->gw)) < 0)
				ERR("invalid gateway '%s'", s);
			if (r < 0)
				return r;
			d->has_gw = true;
		}
		if ((r = get_object(item, "AuxAddresses", &aux, err,
		    errlen)) < 0)
			return r;
		json_object_foreach(aux, name, v) {
			struct prefix p;

			if (!json_is_string(v) ||
			    prefix_parse(json_string_value(v), &p) < 0) {
				ERR("aux address '%s' must be an address with "
				    "a prefix length", name);
				return -EINVAL;
			}
		}
		(*ret_n)++;
	}
	return 0;
}

static int
net_create(struct api *a, json_t *req, json_t **ret, struct req_ctx *ctx,
    char *err, size_t errlen)
{
	struct drv_net_req nr = { 0 };
	struct opt_kvlist generic = { 0 };
	json_t *opts, *gen, *v;
	const char *id, *key;
	int r;

	if ((r = get_network_id(req, &id, ctx, err, errlen)) < 0 ||
	    (r = get_object(req, "Options", &opts, err, errlen)) < 0 ||
	    (r = get_object(opts, OPT_PREFIX "generic", &gen, err,
	    errlen)) < 0 ||
	    (r = get_bool(opts, OPT_PREFIX "enable_ipv4", true,
	    &nr.enable_ipv4, err, errlen)) < 0 ||
	    (r = get_bool(opts, OPT_PREFIX "enable_ipv6", false,
	    &nr.enable_ipv6, err, errlen)) < 0 ||
	    (r = get_bool(opts, OPT_PREFIX "internal", false, &nr.internal,
	    err, errlen)) < 0 ||
	    (r = parse_ipdata(req, "IPv4Data", AF_INET, nr.v4, &nr.nv4, err,
	    errlen)) < 0 ||
	    (r = parse_ipdata(req, "IPv6Data", AF_INET6, nr.v6, &nr.nv6, err,
	    errlen)) < 0)
		goto out;
	memcpy(nr.id, id, sizeof(nr.id));
	json_object_foreach(gen, key, v) {
		if (!json_is_string(v)) {
			ERR("option %s must be a string", key);
			r = -EINVAL;
			goto out;
		}
		r = opt_kvlist_add(&generic, key, json_string_value(v));
		if (r < 0) {
			ERR(r == -ENOMEM ? "out of memory" :
			    "too many or too long options (at %s)", key);
			if (r != -ENOMEM)
				r = -EINVAL;
			goto out;
		}
	}
	nr.generic = &generic;
	r = pend(ctx, drv_create_network(a->drv, &nr, err, errlen));
	if (r == 0)
		*ret = json_object();
out:
	opt_kvlist_done(&generic);
	return r;
}

static int
net_delete(struct api *a, json_t *req, json_t **ret, struct req_ctx *ctx,
    char *err, size_t errlen)
{
	const char *id;
	int r;

	if ((r = get_network_id(req, &id, ctx, err, errlen)) < 0)
		return r;
	r = pend(ctx, drv_delete_network(a->drv, id, err, errlen));
	if (r == 0)
		*ret = json_object();
	return r;
}

/* NetworkID and EndpointID, both 64 hex. */
static int
get_ids(json_t *req, const char **ret_net, const char **ret_ep,
    struct req_ctx *ctx, char *err, size_t errlen)
{
	const char *ep;
	int r;

	if ((r = get_network_id(req, ret_net, ctx, err, errlen)) < 0 ||
	    (r = get_string(req, "EndpointID", true, NET_ID_LEN, &ep, err,
	    errlen)) < 0)
		return r;
	(void) snprintf(ctx->object, sizeof(ctx->object),
	    "network %.12s endpoint %.12s", *ret_net, ep);
	if (!net_valid_id(ep)) {
		ERR("invalid EndpointID '%.64s': expected 64 hex characters", ep);
		return -EINVAL;
	}
	*ret_ep = ep;
	return 0;
}

/* An Interface address field: "" or an address with its length. */
static int
get_iface_addr(json_t *iface, const char *key, int family, bool *ret_has,
    struct prefix *ret, char *err, size_t errlen)
{
	const char *s;
	int r;

	if ((r = get_string(iface, key, false, PREFIX_STRLEN, &s, err,
	    errlen)) < 0)
		return r;
	*ret_has = *s != '\0';
	if (!*ret_has)
		return 0;
	if ((r = parse_cidr_field(key, s, ret, err, errlen)) < 0)
		return r;
	if (ret->family != family) {
		ERR("Interface.%s '%s' is not an %s address", key, s,
		    family == AF_INET ? "IPv4" : "IPv6");
		return -EINVAL;
	}
	return 0;
}

static int
ep_create(struct api *a, json_t *req, json_t **ret, struct req_ctx *ctx,
    char *err, size_t errlen)
{
	struct drv_ep_req er = { 0 };
	struct drv_ep_reply rep;
	const char *net, *ep, *mac;
	char buf[32];
	json_t *iface, *opts;
	int r;

	if ((r = get_ids(req, &net, &ep, ctx, err, errlen)) < 0 ||
	    (r = get_object(req, "Interface", &iface, err, errlen)) < 0 ||
	    (r = get_object(req, "Options", &opts, err, errlen)) < 0 ||
	    (r = get_iface_addr(iface, "Address", AF_INET, &er.has_addr4,
	    &er.addr4, err, errlen)) < 0 ||
	    (r = get_iface_addr(iface, "AddressIPv6", AF_INET6, &er.has_addr6,
	    &er.addr6, err, errlen)) < 0 ||
	    (r = get_string(iface, "MacAddress", false, 17, &mac, err,
	    errlen)) < 0)
		return r;
	if (*mac != '\0') {
		if (st_parse_mac(mac, er.mac) < 0 || (er.mac[0] & 1)) {
			ERR("invalid MAC address '%s': expected a unicast "
			    "address like 02:42:ac:11:00:02", mac);
			return -EINVAL;
		}
		er.has_mac = true;
	}
	memcpy(er.net_id, net, sizeof(er.net_id));
	memcpy(er.ep_id, ep, sizeof(er.ep_id));
	r = pend(ctx, drv_create_endpoint(a->drv, &er, &rep, err, errlen));
	if (r < 0)
		return r;
	/* Only what arrived empty may be filled in: dockerd rejects an
	 * echo of its own values. */
	if (rep.mac_generated)
		*ret = json_pack("{s:{s:s}}", "Interface", "MacAddress",
		    st_format_mac(rep.mac, buf, sizeof(buf)));
	else
		*ret = json_object();
	return 0;
}

static int
ep_delete(struct api *a, json_t *req, json_t **ret, struct req_ctx *ctx,
    char *err, size_t errlen)
{
	const char *net, *ep;
	int r;

	if ((r = get_ids(req, &net, &ep, ctx, err, errlen)) < 0 ||
	    (r = pend(ctx, drv_delete_endpoint(a->drv, net, ep, err, errlen))) < 0)
		return r;
	*ret = json_object();
	return 0;
}

static int
ep_join(struct api *a, json_t *req, json_t **ret, struct req_ctx *ctx,
    char *err, size_t errlen)
{
	const char *net, *ep, *sandbox;
	struct drv_join j;
	char buf[PREFIX_STRLEN];
	json_t *opts, *o;
	int r;

	if ((r = get_ids(req, &net, &ep, ctx, err, errlen)) < 0 ||
	    (r = get_string(req, "SandboxKey", false, ST_SANDBOX_MAX,
	    &sandbox, err, errlen)) < 0 ||
	    (r = get_object(req, "Options", &opts, err, errlen)) < 0 ||
	    (r = pend(ctx, drv_join(a->drv, net, ep, sandbox, &j, err, errlen))) < 0)
		return r;
	o = json_pack("{s:{s:s, s:s}, s:[], s:b}", "InterfaceName",
	    "SrcName", j.src_name, "DstPrefix", j.dst_prefix, "StaticRoutes",
	    "DisableGatewayService", j.disable_gw_service);
	if (o == NULL)
		return -ENOMEM;
	if ((j.has_gw4 && json_object_set_new(o, "Gateway",
	    json_string(prefix_format_addr(&j.gw4, buf, sizeof(buf)))) < 0) ||
	    (j.has_gw6 && json_object_set_new(o, "GatewayIPv6",
	    json_string(prefix_format_addr(&j.gw6, buf, sizeof(buf)))) < 0)) {
		json_decref(o);
		return -ENOMEM;
	}
	*ret = o;
	return 0;
}

static int
ep_leave(struct api *a, json_t *req, json_t **ret, struct req_ctx *ctx,
    char *err, size_t errlen)
{
	const char *net, *ep;
	int r;

	if ((r = get_ids(req, &net, &ep, ctx, err, errlen)) < 0 ||
	    (r = pend(ctx, drv_leave(a->drv, net, ep, err, errlen))) < 0)
		return r;
	*ret = json_object();
	return 0;
}

static int
ep_oper_info(struct api *a, json_t *req, json_t **ret, struct req_ctx *ctx,
    char *err, size_t errlen)
{
	const struct net_cfg *n;
	const struct ep_cfg *e;
	const char *net, *ep;
	char buf[PREFIX_STRLEN], mac[32];
	json_t *v;
	int r;

	if ((r = get_ids(req, &net, &ep, ctx, err, errlen)) < 0)
		return r;
	n = drv_network_get(a->drv, net);
	e = drv_endpoint_get(a->drv, net, ep);
	if (n == NULL || e == NULL) {
		ERR("endpoint %s not found on network %.12s", ep, net);
		return -ENOENT;
	}
	v = json_pack("{s:s, s:s, s:s, s:s}", "bridge", n->bridge, "host_veth",
	    e->host, "mac_address", st_format_mac(e->mac, mac, sizeof(mac)),
	    "sandbox", e->sandbox);
	if (v == NULL)
		return -ENOMEM;
	if ((e->has_addr4 && json_object_set_new(v, "address",
	    json_string(prefix_format(&e->addr4, buf, sizeof(buf)))) < 0) ||
	    (e->has_addr6 && json_object_set_new(v, "address_ipv6",
	    json_string(prefix_format(&e->addr6, buf, sizeof(buf)))) < 0)) {
		json_decref(v);
		return -ENOMEM;
	}
	*ret = json_pack("{s:o}", "Value", v);
	return 0;
}

static int
get_port(json_t *o, const char *key, json_int_t lo, json_int_t *ret,
    size_t i, char *err, size_t errlen)
{
	json_t *v = json_object_get(o, key);

	if (v == NULL) {
		*ret = 0;
		return 0;
	}
	if (!json_is_integer(v) || json_integer_value(v) < lo ||
	    json_integer_value(v) > 65535) {
		ERR("com.docker.network.portmap[%zu].%s must be an integer "
		    "from %d to 65535", i, key, (int)lo);
		return -EINVAL;
	}
	*ret = json_integer_value(v);
	return 0;
}

/* One entry of the port map: {Proto, IP, Port, HostIP, HostPort,
 * HostPortEnd}. */
static int
parse_portmap_entry(json_t *o, size_t i, struct drv_port_req *ret, char *err,
    size_t errlen)
{
	json_t *proto = json_object_get(o, "Proto");
	json_int_t port, hp, hpe;
	const char *hip = NULL;
	int r;

	if (!json_is_object(o)) {
		ERR("com.docker.network.portmap[%zu] must be an object", i);
		return -EINVAL;
	}
	if (!json_is_integer(proto) || (json_integer_value(proto) !=
	    IPPROTO_TCP && json_integer_value(proto) != IPPROTO_UDP &&
	    json_integer_value(proto) != IPPROTO_SCTP)) {
		ERR("com.docker.network.portmap[%zu].Proto must be 6 (tcp), "
		    "17 (udp) or 132 (sctp)", i);
		return -EINVAL;
	}
	if ((r = get_port(o, "Port", 1, &port, i, err, errlen)) < 0 ||
	    (r = get_port(o, "HostPort", 0, &hp, i, err, errlen)) < 0 ||
	    (r = get_port(o, "HostPortEnd", 0, &hpe, i, err, errlen)) < 0)
		return r;
	if (json_object_get(o, "Port") == NULL) {
		ERR("com.docker.network.portmap[%zu].Port is missing", i);
		return -EINVAL;
	}
	if (hpe == 0)
		hpe = hp;
	if (hpe < hp || (hp == 0 && hpe != 0)) {
		ERR("com.docker.network.portmap[%zu]: host port range %d-%d "
		    "is empty", i, (int)hp, (int)hpe);
		return -EINVAL;
	}
	if ((r = get_string(o, "HostIP", false, PREFIX_STRLEN, &hip, err,
	    errlen)) < 0)
		return r;
	*ret = (struct drv_port_req){ .proto = (int)json_integer_value(proto),
	    .cport = (unsigned short)port, .hport = (unsigned short)hp,
	    .hport_end = (unsigned short)hpe };
	if (hip != NULL && hip[0] != '\0') {
		if (prefix_parse_addr(hip, &ret->host_ip) < 0) {
			ERR("com.docker.network.portmap[%zu].HostIP '%s' is not "
			    "an IP address", i, hip);
			return -EINVAL;
		}
		ret->has_host_ip = true;
	}
	return 0;
}

static int
ep_program_external(struct api *a, json_t *req, json_t **ret,
    struct req_ctx *ctx, char *err, size_t errlen)
{
	struct drv_port_req *pr = NULL;
	const char *net, *ep;
	json_t *opts, *ports, *v;
	size_t i, n;
	int r;

	if ((r = get_ids(req, &net, &ep, ctx, err, errlen)) < 0 ||
	    (r = get_object(req, "Options", &opts, err, errlen)) < 0)
		return r;
	ports = json_object_get(opts, "com.docker.network.portmap");
	if (ports != NULL && !json_is_null(ports) && !json_is_array(ports)) {
		ERR("com.docker.network.portmap must be an array");
		return -EINVAL;
	}
	n = json_array_size(ports);
	if (n > DRV_MAX_PORTS) {
		ERR("too many published ports (at most %d per container)",
		    DRV_MAX_PORTS);
		return -E2BIG;
	}
	if (n > 0 && (pr = calloc(n, sizeof(*pr))) == NULL)
		return -ENOMEM;
	json_array_foreach(ports, i, v)
		if ((r = parse_portmap_entry(v, i, pr + i, err, errlen)) < 0)
			goto out;
	if ((r = pend(ctx, drv_program_external(a->drv, net, ep, pr, n, err,
	    errlen))) < 0)
		goto out;
	*ret = json_object();
	r = *ret == NULL ? -ENOMEM : 0;
out:
	free(pr);
	return r;
}

static int
ep_revoke_external(struct api *a, json_t *req, json_t **ret,
    struct req_ctx *ctx, char *err, size_t errlen)
{
	const char *net, *ep;
	int r;

	if ((r = get_ids(req, &net, &ep, ctx, err, errlen)) < 0 ||
	    (r = pend(ctx, drv_revoke_external(a->drv, net, ep, err, errlen))) < 0)
		return r;
	*ret = json_object();
	return 0;
}

static int
net_capabilities(struct api *a, json_t *req, json_t **ret,
    struct req_ctx *ctx, char *err, size_t errlen)
{
	(void) a, (void) req, (void) ctx, (void) err, (void) errlen;
	*ret = json_pack("{s:s, s:s}", "Scope", "local",
	    "ConnectivityScope", "local");
	return 0;
}

static int
activate(struct api *a, json_t *req, json_t **ret, struct req_ctx *ctx,
    char *err, size_t errlen)
{
	(void) a, (void) req, (void) ctx, (void) err, (void) errlen;
	*ret = json_pack("{s:[s,s]}", "Implements", "NetworkDriver",
	    "IpamDriver");
	return 0;
}

static int
swarm_only(struct api *a, json_t *req, json_t **ret, struct req_ctx *ctx,
    char *err, size_t errlen)
{
	(void) a, (void) req, (void) ret, (void) ctx;
	ERR("cbridge is a local-scope driver; swarm networks are not "
	    "supported");
	return -ENOTSUP;
}

static int
empty_ok(struct api *a, json_t *req, json_t **ret, struct req_ctx *ctx,
    char *err, size_t errlen)
{
	(void) a, (void) req, (void) ctx, (void) err, (void) errlen;
	*ret = json_object();
	return 0;
}

static int
ipam_capabilities(struct api *a, json_t *req, json_t **ret,
    struct req_ctx *ctx, char *err, size_t errlen)
{
	(void) a, (void) req, (void) ctx, (void) err, (void) errlen;
	/* Allocations are persisted, so dockerd need not replay them. */
	*ret = json_pack("{s:b, s:b}", "RequiresMACAddress", 0,
	    "RequiresRequestReplay", 0);
	return 0;
}

static int
ipam_spaces(struct api *a, json_t *req, json_t **ret, struct req_ctx *ctx,
    char *err, size_t errlen)
{
	(void) a, (void) req, (void) ctx, (void) err, (void) errlen;
	*ret = json_pack("{s:s, s:s}", "LocalDefaultAddressSpace",
	    IPAM_LOCAL_SPACE, "GlobalDefaultAddressSpace", IPAM_GLOBAL_SPACE);
	return 0;
}

/* Options maps of IPAM calls carry strings only. */
static int
check_string_map(json_t *req, const char *key, json_t **ret, char *err,
    size_t errlen)
{
	const char *k;
	json_t *v;
	int r;

	if ((r = get_object(req, key, ret, err, errlen)) < 0)
		return r;
	json_object_foreach(*ret, k, v) {
		if (!json_is_string(v)) {
			ERR("%s value for '%s' must be a string", key, k);
			return -EINVAL;
		}
	}
	return 0;
}

static int
ipam_request_pool_route(struct api *a, json_t *req, json_t **ret,
    struct req_ctx *ctx, char *err, size_t errlen)
{
	const char *space, *pool_s, *sub_s;
	struct prefix pool, sub, out;
	char id[IPAM_ID_MAX], buf[PREFIX_STRLEN];
	json_t *opts;
	bool v6;
	int r;

	if ((r = get_string(req, "AddressSpace", false, IPAM_SPACE_MAX, &space,
	    err, errlen)) < 0 ||
	    (r = get_string(req, "Pool", false, PREFIX_STRLEN, &pool_s, err,
	    errlen)) < 0 ||
	    (r = get_string(req, "SubPool", false, PREFIX_STRLEN, &sub_s, err,
	    errlen)) < 0 ||
	    (r = check_string_map(req, "Options", &opts, err, errlen)) < 0 ||
	    (r = get_bool(req, "V6", false, &v6, err, errlen)) < 0)
		return r;
	(void) snprintf(ctx->object, sizeof(ctx->object), "pool %s",
	    *pool_s ? pool_s : "(automatic)");
	if (*pool_s != '\0' &&
	    (r = parse_cidr_field("subnet", pool_s, &pool, err, errlen)) < 0)
		return r;
	if (*sub_s != '\0') {
		if (*pool_s == '\0') {
			ERR("an IP range (SubPool %s) needs a subnet", sub_s);
			return -EINVAL;
		}
		if ((r = parse_cidr_field("ip-range", sub_s, &sub, err,
		    errlen)) < 0)
			return r;
	}
	r = pend(ctx, drv_request_pool(a->drv, space, *pool_s ? &pool : NULL,
	    *sub_s ? &sub : NULL, v6, id, &out, err, errlen));
	if (r < 0)
		return r;
	*ret = json_pack("{s:s, s:s, s:{}}", "PoolID", id, "Pool",
	    prefix_format(&out, buf, sizeof(buf)), "Data");
	return 0;
}

static int
get_pool_id(json_t *req, const char **ret, struct req_ctx *ctx, char *err,
    size_t errlen)
{
	int r;

	r = get_string(req, "PoolID", true, IPAM_ID_MAX - 1, ret, err, errlen);
	if (r == 0)
		(void) snprintf(ctx->object, sizeof(ctx->object), "pool %s",
		    *ret);
	return r;
}

/* Address: a plain IP, or an IP with a length (ignored). */
static int
parse_address(const char *s, struct prefix *ret, char *err, size_t errlen)
{
	if ((strchr(s, '/') != NULL ? prefix_parse(s, ret) :
	    prefix_parse_addr(s, ret)) < 0) {
		ERR("invalid address '%s'", s);
		return -EINVAL;
	}
	return 0;
}

static int
ipam_request_address_route(struct api *a, json_t *req, json_t **ret,
    struct req_ctx *ctx, char *err, size_t errlen)
{
	const char *id, *addr_s, *type;
	struct prefix want, out;
	char buf[PREFIX_STRLEN];
	json_t *opts;
	int r;

	if ((r = get_pool_id(req, &id, ctx, err, errlen)) < 0 ||
	    (r = get_string(req, "Address", false, PREFIX_STRLEN, &addr_s,
	    err, errlen)) < 0 ||
	    (r = check_string_map(req, "Options", &opts, err, errlen)) < 0 ||
	    (r = get_string(opts, "RequestAddressType", false, 128, &type,
	    err, errlen)) < 0)
		return r;
	if (*addr_s != '\0' &&
	    (r = parse_address(addr_s, &want, err, errlen)) < 0)
		return r;
	r = pend(ctx, drv_request_address(a->drv, id, *addr_s ? &want : NULL,
	    strcmp(type, GATEWAY_TYPE) == 0, &out, err, errlen));
	if (r < 0)
		return r;
	*ret = json_pack("{s:s, s:{}}", "Address",
	    prefix_format(&out, buf, sizeof(buf)), "Data");
	return 0;
}

static int
ipam_release_address_route(struct api *a, json_t *req, json_t **ret,
    struct req_ctx *ctx, char *err, size_t errlen)
{
	const char *id, *addr_s;
	struct prefix addr;
	int r;

	if ((r = get_pool_id(req, &id, ctx, err, errlen)) < 0 ||
	    (r = get_string(req, "Address", true, PREFIX_STRLEN, &addr_s,
	    err, errlen)) < 0 ||
	    (r = parse_address(addr_s, &addr, err, errlen)) < 0)
		return r;
	r = pend(ctx, drv_release_address(a->drv, id, &addr, err, errlen));
	if (r == 0)
		*ret = json_object();
	return r;
}

static int
ipam_release_pool_route(struct api *a, json_t *req, json_t **ret,
    struct req_ctx *ctx, char *err, size_t errlen)
{
	const char *id;
	int r;

	if ((r = get_pool_id(req, &id, ctx, err, errlen)) < 0)
		return r;
	r = pend(ctx, drv_release_pool(a->drv, id, err, errlen));
	if (r == 0)
		*ret = json_object();
	return r;
}

static int
dns_stats_route(struct api *a, json_t *req, json_t **ret,
    struct req_ctx *ctx, char *err, size_t errlen)
{
	(void)req;
	(void)ctx;
	(void)err;
	(void)errlen;
	/* Off is an answer too: scripts read Mode either way. */
	if (a->dns_stats == NULL) {
		*ret = json_pack("{s:s, s:[]}", "Mode", "off", "Sandboxes");
		return 0;
	}
	/* NULL (out of memory) is answered as such by api_handle(). */
	*ret = a->dns_stats(a->dns_arg);
	return 0;
}

/* usec since the epoch as RFC 3339 in UTC, to the millisecond:
 * "2025-01-31T12:00:00.123Z" ("" if it cannot be shown). */
static const char *
format_utc(int64_t usec, char *buf, size_t len)
{
	time_t t = (time_t)(usec / 1000000);
	char day[32];
	struct tm tm;

	if (len == 0)
		return buf;
	buf[0] = '\0';
	if (usec < 0 || gmtime_r(&t, &tm) == NULL ||
	    strftime(day, sizeof(day), "%Y-%m-%dT%H:%M:%S", &tm) == 0)
		return buf;
	(void) snprintf(buf, len, "%s.%03dZ", day,
	    (int)(usec % 1000000 / 1000));
	return buf;
}

/* One network of the Cbridge.Status document; NULL when out of memory. */
static json_t *
net_status_json(const struct drv_net_status *n)
{
	char s4[PREFIX_STRLEN] = "", s6[PREFIX_STRLEN] = "";

	if (n->has_v4)
		(void) prefix_format(&n->subnet4, s4, sizeof(s4));
	if (n->has_v6)
		(void) prefix_format(&n->subnet6, s6, sizeof(s6));
	return json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:b, s:b, s:b}",
	    "ID", n->id, "Bridge", n->bridge, "IPv4Subnet", s4,
	    "IPv6Subnet", s6, "Endpoints", (json_int_t)n->endpoints,
	    "Ports", (json_int_t)n->ports, "Internal", n->internal,
	    "ICC", n->icc, "Masquerade", n->masquerade);
}

/* The Cbridge.Status document (what `cbridge status` prints); NULL when
 * out of memory.  Field names are an interface: scripts read them. */
static json_t *
status_json(const struct drv_status *st)
{
	json_t *nets = json_array(), *last = json_null();
	char when[64];

	if (nets == NULL)
		return NULL;
	for (size_t i = 0; i < st->nnets; i++)
		if (json_array_append_new(nets, net_status_json(&st->nets[i]))
		    < 0) {
			json_decref(nets);
			return NULL;
		}
	if (st->fw.syncs > 0 && (last = json_pack("{s:s, s:I, s:s}", "Time",
	    format_utc(st->fw.last_at_usec, when, sizeof(when)),
	    "DurationUsec", (json_int_t)st->fw.last_usec, "Error",
	    st->fw.last_err)) == NULL) {
		json_decref(nets);
		return NULL;
	}
	/* "o" steals both references, also when the pack fails. */
	return json_pack("{s:{s:s, s:s, s:I, s:I, s:o}, s:o}", "Firewall",
	    "Backend", st->fw_backend, "Why", st->fw_why, "Syncs",
	    (json_int_t)st->fw.syncs, "SyncFailures",
	    (json_int_t)st->fw.failures, "LastSync", last, "Networks", nets);
}

static int
status_route(struct api *a, json_t *req, json_t **ret, struct req_ctx *ctx,
    char *err, size_t errlen)
{
	struct drv_status st;
	int r;

	(void)req;
	(void)ctx;
	if ((r = drv_status(a->drv, &st)) < 0) {
		ERR("out of memory");
		return r;
	}
	/* NULL (out of memory) is answered as such by dispatch(). */
	*ret = status_json(&st);
	drv_status_done(&st);
	return 0;
}

static const struct route {
	const char	*path;
	route_fn	fn;
	bool		has_body;	/* the request carries a JSON object */
} routes[] = {
	{ "/Plugin.Activate", activate, false },
	{ "/NetworkDriver.GetCapabilities", net_capabilities, false },
	{ "/NetworkDriver.CreateNetwork", net_create, true },
	{ "/NetworkDriver.DeleteNetwork", net_delete, true },
	{ "/NetworkDriver.CreateEndpoint", ep_create, true },
	{ "/NetworkDriver.DeleteEndpoint", ep_delete, true },
	{ "/NetworkDriver.Join", ep_join, true },
	{ "/NetworkDriver.Leave", ep_leave, true },
	{ "/NetworkDriver.EndpointOperInfo", ep_oper_info, true },
	{ "/NetworkDriver.ProgramExternalConnectivity", ep_program_external,
	    true },
	{ "/NetworkDriver.RevokeExternalConnectivity", ep_revoke_external,
	    true },
	{ "/NetworkDriver.AllocateNetwork", swarm_only, true },
	{ "/NetworkDriver.FreeNetwork", swarm_only, true },
	{ "/NetworkDriver.DiscoverNew", empty_ok, true },
	{ "/NetworkDriver.DiscoverDelete", empty_ok, true },
	{ "/IpamDriver.GetCapabilities", ipam_capabilities, false },
	{ "/IpamDriver.GetDefaultAddressSpaces", ipam_spaces, false },
	{ "/IpamDriver.RequestPool", ipam_request_pool_route, true },
	{ "/IpamDriver.ReleasePool", ipam_release_pool_route, true },
	{ "/IpamDriver.RequestAddress", ipam_request_address_route, true },
	{ "/IpamDriver.ReleaseAddress", ipam_release_address_route, true },
	/* cbridge's own: `cbridge dns-stats` (no request body). */
	{ "/Cbridge.DnsStats", dns_stats_route, false },
	/* `cbridge status`: the firewall and the networks (no body). */
	{ "/Cbridge.Status", status_route, false },
};

static unsigned int
status_of(int r)
{
	switch (r) {
	case -EINVAL:
	case -ERANGE:
		return 400;
	case -ENOENT:
		return 404;
	case -EEXIST:
	case -EADDRINUSE:
		return 409;
	case -E2BIG:
		return 413;
	case -ENOTSUP:
		return 501;
	case -ENOSPC:
		return 507;
	default:
		return 500;
	}
}

static int
reply_json(unsigned int status, json_t *body, struct api_reply *ret)
{
	char *s = json_dumps(body, JSON_COMPACT);

	if (s == NULL)
		return -ENOMEM;
	*ret = (struct api_reply){ .status = status, .body = s,
	    .len = strlen(s) };
	return 0;
}

int
api_error_reply(unsigned int status, const char *msg, struct api_reply *ret)
{
	char clean[1024];
	json_t *o;
	int r;

	/* Messages quote request bytes, possibly cut inside a UTF-8
	 * sequence; jansson refuses invalid UTF-8, and an error must always
	 * reach dockerd. */
	(void) snprintf(clean, sizeof(clean), "%s", msg);
	for (char *c = clean; *c != '\0'; c++)
		if ((unsigned char)*c >= 0x80 || (unsigned char)*c < 0x20)
			*c = '?';
	o = json_pack("{s:s}", "Err", clean);

	if (o == NULL)
		return -ENOMEM;
	r = reply_json(status, o, ret);
	json_decref(o);
	return r;
}

void
api_set_dns_stats(struct api *a, api_stats_fn fn, void *arg)
{
	a->dns_stats = fn;
	a->dns_arg = arg;
}

static void
log_failure(const char *path, const char *object, int r, const char *err)
{
	if (status_of(r) >= 500)
		log_error("%s%s%s: %s", path + 1, object[0] ? " " : "", object,
		    err);
	else
		log_warnx("%s%s%s: %s", path + 1, object[0] ? " " : "", object,
		    err);
}

static const struct route *
find_route(const char *path)
{
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
		if (strcmp(routes[i].path, path) == 0)
			return &routes[i];
	return NULL;
}

/* Parses, validates and runs one request.  With *ctx.pending set on
 * return, *ret is the reply for success and the driver's result decides
 * whether it is sent. */
static int
dispatch(struct api *a, const struct route *rt, const char *path,
    const char *body, size_t len, struct api_reply *ret,
    struct req_ctx *ctx)
{
	json_t *req = NULL, *resp = NULL;
	json_error_t jerr;
	char err[512] = "";
	int r;

	if (log_enabled(LOG_LVL_DEBUG)) {
		size_t show = len < LOG_BODY_MAX ? len : LOG_BODY_MAX;

		/* dockerd ends each body with a newline. */
		while (show > 0 && (body[show - 1] == '\n' ||
		    body[show - 1] == '\r'))
			show--;
		log_debug("%s: %.*s", path, (int)show, body);
	}

	if (rt->has_body) {
		if (len == 0) {
			(void) snprintf(err, sizeof(err),
			    "empty request body: expected a JSON object");
			r = -EINVAL;
			goto fail;
		}
		req = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
		if (req == NULL) {
			(void) snprintf(err, sizeof(err),
			    "malformed JSON at line %d column %d: %s",
			    jerr.line, jerr.column, jerr.text);
			r = -EINVAL;
			goto fail;
		}
		if (!json_is_object(req)) {
			(void) snprintf(err, sizeof(err),
			    "request body must be a JSON object");
			r = -EINVAL;
			goto fail;
		}
	}
	r = rt->fn(a, req, &resp, ctx, err, sizeof(err));
	if (r < 0)
		goto fail;
	if (resp == NULL) {
		r = -ENOMEM;
		(void) snprintf(err, sizeof(err), "out of memory");
		goto fail;
	}
	r = reply_json(200, resp, ret);
	json_decref(resp);
	json_decref(req);
	if (r < 0)
		return api_error_reply(500, "out of memory", ret);
	return 0;
fail:
	/* A change the driver took on cannot be refused any more here; its
	 * result will tell.  (Only out of memory gets here with it.) */
	json_decref(resp);
	json_decref(req);
	log_failure(path, ctx->object, r, err);
	return api_error_reply(status_of(r), err, ret);
}

int
api_handle(struct api *a, const char *path, const char *body, size_t len,
    struct api_reply *ret)
{
	const struct route *rt = find_route(path);
	struct req_ctx ctx = { .object = "" };
	char err[512];

	if (rt == NULL) {
		(void) snprintf(err, sizeof(err), "unknown call %.128s", path);
		log_debug("%s", err);
		return api_error_reply(404, err, ret);
	}
	return dispatch(a, rt, path, body, len, ret, &ctx);
}

/* Runs a request; 1 when its reply waits for the driver. */
static int
start_one(struct api *a, const struct route *rt, const char *path,
    const char *body, size_t len, struct api_reply *ret, api_reply_fn *fn,
    void *fn_ctx)
{
	struct req_ctx ctx = { .object = "" };
	int r;

	r = dispatch(a, rt, path, body, len, ret, &ctx);
	if (r < 0 || !ctx.pending)
		return r;
	a->inflight = true;
	a->prepared = *ret;
	a->fn = fn;
	a->fn_ctx = fn_ctx;
	(void) snprintf(a->path, sizeof(a->path), "%s", path);
	memcpy(a->object, ctx.object, sizeof(a->object));
	return 1;
}

static void
queue_free(struct api_queued *q)
{
	if (q != NULL) {
		free(q->body);
		free(q);
	}
}

/* Requests that waited behind a change, in arrival order, until one of
 * them waits on the driver again. */
static void
run_queue(struct api *a)
{
	while (!a->inflight && a->head != NULL) {
		struct api_queued *q = a->head;
		struct api_reply rep;

		a->head = q->next;
		if (a->head == NULL)
			a->tail = &a->head;
		a->nqueued--;
		if (start_one(a, q->rt, q->rt->path, q->body, q->len, &rep,
		    q->fn, q->fn_ctx) == 0)
			q->fn(q->fn_ctx, &rep);
		queue_free(q);
	}
}

/* The driver finished the change of the request in flight. */
static void
on_drv_done(void *arg, int r, const char *err)
{
	struct api *a = arg;
	struct api_reply rep = a->prepared;

	if (!a->inflight)
		return;
	a->inflight = false;
	a->prepared = (struct api_reply){ 0 };
	if (r < 0) {
		free(rep.body);
		log_failure(a->path, a->object, r, err);
		if (api_error_reply(status_of(r), err, &rep) < 0)
			rep = (struct api_reply){ .status = 500 };
	}
	a->fn(a->fn_ctx, &rep);
	run_queue(a);
}

int
api_start(struct api *a, const char *path, const char *body, size_t len,
    struct api_reply *ret, api_reply_fn *fn, void *fn_ctx)
{
	const struct route *rt = find_route(path);
	struct api_queued *q;

	if (rt == NULL || !rt->has_body || (!a->inflight && a->head == NULL))
		return rt == NULL ? api_handle(a, path, body, len, ret) :
		    start_one(a, rt, path, body, len, ret, fn, fn_ctx);
	/* Behind a change still in progress: changes run one at a time,
	 * in the order dockerd sent them. */
	if (a->nqueued >= API_QUEUE_MAX)
		return api_error_reply(503, "too many requests waiting for "
		    "the firewall; try again", ret);
	if ((q = calloc(1, sizeof(*q))) == NULL ||
	    (len > 0 && (q->body = malloc(len + 1)) == NULL)) {
		free(q);
		return api_error_reply(500, "out of memory", ret);
	}
	if (len > 0) {
		memcpy(q->body, body, len);
		q->body[len] = '\0';
	}
	q->len = len;
	q->rt = rt;
	q->fn = fn;
	q->fn_ctx = fn_ctx;
	*a->tail = q;
	a->tail = &q->next;
	a->nqueued++;
	return 1;
}
