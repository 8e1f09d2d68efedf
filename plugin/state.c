#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "plugin/errmsg.h"
#include "plugin/fileutil.h"
#include "plugin/hexid.h"
#include "plugin/state.h"

struct net_cfg *
net_cfg_free(struct net_cfg *n)
{
	if (n == NULL)
		return NULL;
	opt_kvlist_done(&n->generic);
	free(n->enc);
	free(n);
	return NULL;
}

struct ep_cfg *
ep_cfg_free(struct ep_cfg *e)
{
	if (e != NULL) {
		free(e->ports);
		free(e->enc);
	}
	free(e);
	return NULL;
}

void
net_cfg_changed(struct net_cfg *n)
{
	free(n->enc);
	n->enc = NULL;
	n->enc_len = 0;
}

void
ep_cfg_changed(struct ep_cfg *e)
{
	free(e->enc);
	e->enc = NULL;
	e->enc_len = 0;
}

const char *
st_format_mac(const unsigned char mac[6], char *buf, size_t len)
{
	(void) snprintf(buf, len, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0],
	    mac[1], mac[2], mac[3], mac[4], mac[5]);
	return buf;
}

int
st_parse_mac(const char *s, unsigned char ret[6])
{
	unsigned char m[6];

	if (strlen(s) != 17)
		return -EINVAL;
	for (int i = 0; i < 6; i++) {
		int hi = hex_digit(s[3 * i]), lo = hex_digit(s[3 * i + 1]);

		if (hi < 0 || lo < 0 || (i < 5 && s[3 * i + 2] != ':'))
			return -EINVAL;
		m[i] = (unsigned char)(hi << 4 | lo);
	}
	memcpy(ret, m, 6);
	return 0;
}

bool
net_valid_id(const char *s)
{
	size_t len = strnlen(s, NET_ID_LEN + 1);

	return len == NET_ID_LEN && hex_id(s, len, false);
}

void
st_doc_done(struct st_doc *d)
{
	for (size_t i = 0; i < d->nnets; i++)
		net_cfg_free(d->nets[i]);
	free(d->nets);
	for (size_t i = 0; i < d->neps; i++)
		ep_cfg_free(d->eps[i]);
	free(d->eps);
	*d = (struct st_doc){ 0 };
}

static json_t *
encode_ipdata(const struct prefix *pool, bool has_gw, const struct prefix *gw)
{
	char buf[PREFIX_STRLEN];
	json_t *o = json_object();

	if (o == NULL)
		return NULL;
	if (json_object_set_new(o, "pool",
	    json_string(prefix_format(pool, buf, sizeof(buf)))) < 0)
		goto fail;
	if (has_gw && json_object_set_new(o, "gateway",
	    json_string(prefix_format(gw, buf, sizeof(buf)))) < 0)
		goto fail;
	return o;
fail:
	json_decref(o);
	return NULL;
}

static json_t *
encode_net(const struct net_cfg *n)
{
	json_t *o = json_object(), *opts = json_object();

	if (o == NULL || opts == NULL)
		goto fail;
	for (size_t i = 0; i < n->generic.n; i++)
		if (json_object_set_new(opts, n->generic.v[i].key,
		    json_string(n->generic.v[i].value)) < 0)
			goto fail;
	if (json_object_set_new(o, "id", json_string(n->id)) < 0 ||
	    json_object_set_new(o, "bridge", json_string(n->bridge)) < 0 ||
	    json_object_set_new(o, "enable_ipv4",
	    json_boolean(n->opts.enable_ipv4)) < 0 ||
	    json_object_set_new(o, "enable_ipv6",
	    json_boolean(n->opts.enable_ipv6)) < 0 ||
	    json_object_set_new(o, "internal",
	    json_boolean(n->opts.internal)) < 0)
		goto fail;
	if (json_object_set(o, "options", opts) < 0)
		goto fail;
	if (n->has_v4 && json_object_set_new(o, "ipv4",
	    encode_ipdata(&n->pool4, n->has_gw4, &n->gw4)) < 0)
		goto fail;
	if (n->has_v6 && json_object_set_new(o, "ipv6",
	    encode_ipdata(&n->pool6, n->has_gw6, &n->gw6)) < 0)
		goto fail;
	json_decref(opts);
	return o;
fail:
	json_decref(opts);
	json_decref(o);
	return NULL;
}

static json_t *
encode_ep(const struct ep_cfg *e)
{
	char buf[PREFIX_STRLEN];
	json_t *o = json_object();

	if (o == NULL)
		return NULL;
	if (json_object_set_new(o, "id", json_string(e->id)) < 0 ||
	    json_object_set_new(o, "network", json_string(e->net_id)) < 0 ||
	    json_object_set_new(o, "host", json_string(e->host)) < 0 ||
	    json_object_set_new(o, "peer", json_string(e->peer)) < 0 ||
	    json_object_set_new(o, "mac", json_string(st_format_mac(e->mac,
	    buf, sizeof(buf)))) < 0 ||
	    json_object_set_new(o, "joined", json_boolean(e->joined)) < 0 ||
	    json_object_set_new(o, "sandbox", json_string(e->sandbox)) < 0)
		goto fail;
	if (e->has_addr4 && json_object_set_new(o, "address",
	    json_string(prefix_format(&e->addr4, buf, sizeof(buf)))) < 0)
		goto fail;
	if (e->has_addr6 && json_object_set_new(o, "address_ipv6",
	    json_string(prefix_format(&e->addr6, buf, sizeof(buf)))) < 0)
		goto fail;
	if (e->nports > 0) {
		json_t *ports = json_array();

		if (ports == NULL || json_object_set_new(o, "ports", ports) < 0)
			goto fail;
		for (size_t i = 0; i < e->nports; i++) {
			const struct ep_port *p = &e->ports[i];
			json_t *pj = json_pack("{s:i, s:i, s:i, s:i}", "proto",
			    p->proto, "family", p->family == AF_INET ? 4 : 6,
			    "host_port", (int)p->host_port, "port",
			    (int)p->cport);

			if (pj == NULL || json_array_append_new(ports, pj) < 0)
				goto fail;
			if (p->has_host_ip && json_object_set_new(pj, "host_ip",
			    json_string(prefix_format_addr(&p->host_ip, buf,
			    sizeof(buf)))) < 0)
				goto fail;
		}
	}
	return o;
fail:
	json_decref(o);
	return NULL;
}

/* The document being assembled, at most ST_MAX_BYTES (what st_load
 * reads back).  err is sticky: the first failure stops all appends. */
struct stbuf {
	char	*p;
	size_t	len, cap;
	int	err;
};

static void
sb_add(struct stbuf *b, const char *s, size_t n)
{
	size_t ncap;
	char *np;

	if (b->err < 0)
		return;
	if (n >= ST_MAX_BYTES - b->len) {
		b->err = -EFBIG;
		return;
	}
	if (b->len + n + 1 > b->cap) {
		ncap = b->cap ? b->cap : 4096;
		while (ncap < b->len + n + 1)
			ncap *= 2;
		if ((np = realloc(b->p, ncap)) == NULL) {
			b->err = -ENOMEM;
			return;
		}
		b->p = np;
		b->cap = ncap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void
sb_str(struct stbuf *b, const char *s)
{
	sb_add(b, s, strlen(s));
}

/* One array element per line: "[\nA,\nB\n]", or "[]". */
static void
sb_elem(struct stbuf *b, size_t i, const char *s, size_t n)
{
	sb_str(b, i == 0 ? "\n" : ",\n");
	sb_add(b, s, n);
}

/* The compact text of o (consumed) into *ret and *ret_len. */
static int
take_text(json_t *o, char **ret, size_t *ret_len)
{
	char *s = o != NULL ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) :
	    NULL;

	json_decref(o);
	if (s == NULL)
		return -ENOMEM;
	*ret = s;
	*ret_len = strlen(s);
	return 0;
}

static int
net_text(struct net_cfg *n)
{
	return n->enc != NULL ? 0 : take_text(encode_net(n), &n->enc,
	    &n->enc_len);
}

static int
ep_text(struct ep_cfg *e)
{
	return e->enc != NULL ? 0 : take_text(encode_ep(e), &e->enc,
	    &e->enc_len);
}

/*
 * Assembled from each object's cached text, so that a change costs the
 * encoding of what changed plus a copy of the rest.  The top-level keys
 * are written in sorted order, as JSON_SORT_KEYS would put them.
 */
int
st_encode(struct st_doc *doc, struct ipam *ip, char **ret, size_t *ret_len,
    char *err, size_t errlen)
{
	struct stbuf b = { 0 };
	char buf[PREFIX_STRLEN + 32];
	const char *t;
	size_t n, tl;
	int r = 0;

	sb_str(&b, "{\"endpoints\":[");
	for (size_t i = 0; i < doc->neps && r == 0; i++)
		if ((r = ep_text(doc->eps[i])) == 0)
			sb_elem(&b, i, doc->eps[i]->enc, doc->eps[i]->enc_len);
	sb_str(&b, doc->neps > 0 ? "\n],\n\"ipam\":{\"pools\":[" :
	    "],\n\"ipam\":{\"pools\":[");
	n = ipam_pool_count(ip);
	for (size_t i = 0; i < n && r == 0; i++)
		if ((r = ipam_pool_text(ip, i, &t, &tl)) == 0)
			sb_elem(&b, i, t, tl);
	sb_str(&b, n > 0 ? "\n]},\n\"networks\":[" : "]},\n\"networks\":[");
	for (size_t i = 0; i < doc->nnets && r == 0; i++)
		if ((r = net_text(doc->nets[i])) == 0)
			sb_elem(&b, i, doc->nets[i]->enc, doc->nets[i]->enc_len);
	sb_str(&b, doc->nnets > 0 ? "\n],\n" : "],\n");
	/* A prefix needs no JSON escaping. */
	if (doc->has_ula) {
		char pbuf[PREFIX_STRLEN];

		(void) snprintf(buf, sizeof(buf), "\"ula\":\"%s\",\n",
		    prefix_format(&doc->ula, pbuf, sizeof(pbuf)));
		sb_str(&b, buf);
	}
	(void) snprintf(buf, sizeof(buf), "\"version\":%d}\n", ST_VERSION);
	sb_str(&b, buf);
	if (r == 0)
		r = b.err;
	if (r < 0) {
		if (r == -EFBIG)
			ERR("Failed to encode state: more than %u bytes",
			    ST_MAX_BYTES);
		else
			ERR("Failed to encode state: %s", strerror(-r));
		free(b.p);
		return r;
	}
	*ret = b.p;
	*ret_len = b.len;
	return 0;
}

void
st_drop_cache(struct st_doc *doc, struct ipam *ip)
{
	for (size_t i = 0; i < doc->nnets; i++)
		net_cfg_changed(doc->nets[i]);
	for (size_t i = 0; i < doc->neps; i++)
		ep_cfg_changed(doc->eps[i]);
	ipam_drop_cache(ip);
}

static int
decode_ipdata(json_t *o, const char *what, int family, struct prefix *pool,
    bool *has_gw, struct prefix *gw, char *err, size_t errlen)
{
	const char *ps = json_string_value(json_object_get(o, "pool"));
	json_t *g = json_object_get(o, "gateway");

	if (!json_is_object(o) || ps == NULL || prefix_parse(ps, pool) < 0 ||
	    pool->family != family || !prefix_is_masked(pool)) {
		ERR("network %s: invalid %s pool", what,
		    family == AF_INET ? "IPv4" : "IPv6");
		return -EINVAL;
	}
	*has_gw = g != NULL;
	if (g != NULL && (!json_is_string(g) ||
	    prefix_parse(json_string_value(g), gw) < 0 ||
	    !prefix_contains(pool, gw) || gw->plen != pool->plen)) {
		ERR("network %s: invalid gateway", what);
		return -EINVAL;
	}
	return 0;
}

static int
decode_net(json_t *o, struct net_cfg **ret, char *err, size_t errlen)
{
	struct net_cfg *n = calloc(1, sizeof(*n));
	const char *id, *br, *key;
	json_t *opts, *v;
	int r = -EINVAL;

	if (n == NULL)
		return -ENOMEM;
	id = json_string_value(json_object_get(o, "id"));
	br = json_string_value(json_object_get(o, "bridge"));
	if (id == NULL || !net_valid_id(id)) {
		ERR("invalid network ID in state");
		goto out;
	}
	memcpy(n->id, id, NET_ID_LEN + 1);
	if (br == NULL || !opt_valid_ifname(br)) {
		ERR("network %s: invalid bridge name", id);
		goto out;
	}
	memcpy(n->bridge, br, strlen(br) + 1);
	opts = json_object_get(o, "options");
	if (!json_is_object(opts) ||
	    !json_is_boolean(json_object_get(o, "enable_ipv4")) ||
	    !json_is_boolean(json_object_get(o, "enable_ipv6")) ||
	    !json_is_boolean(json_object_get(o, "internal"))) {
		ERR("network %s: missing or mistyped fields", id);
		goto out;
	}
	json_object_foreach(opts, key, v) {
		if (!json_is_string(v)) {
			ERR("network %s: option %s is not a string", id, key);
			r = -EINVAL;
			goto out;
		}
		r = opt_kvlist_add(&n->generic, key, json_string_value(v));
		if (r < 0) {
			ERR("network %s: option %s: %s", id, key, strerror(-r));
			goto out;
		}
	}
	r = opt_parse(&n->generic,
	    json_is_true(json_object_get(o, "enable_ipv4")),
	    json_is_true(json_object_get(o, "enable_ipv6")),
	    json_is_true(json_object_get(o, "internal")), &n->opts, err, errlen);
	if (r < 0)
		goto out;
	r = -EINVAL;
	if ((v = json_object_get(o, "ipv4")) != NULL) {
		n->has_v4 = true;
		if (decode_ipdata(v, id, AF_INET, &n->pool4, &n->has_gw4,
		    &n->gw4, err, errlen) < 0)
			goto out;
	}
	if ((v = json_object_get(o, "ipv6")) != NULL) {
		n->has_v6 = true;
		if (decode_ipdata(v, id, AF_INET6, &n->pool6, &n->has_gw6,
		    &n->gw6, err, errlen) < 0)
			goto out;
	}
	*ret = n;
	n = NULL;
	r = 0;
out:
	net_cfg_free(n);
	return r;
}

static int
decode_addr(json_t *o, const char *key, int family, bool *has,
    struct prefix *ret, const char *id, char *err, size_t errlen)
{
	json_t *v = json_object_get(o, key);

	*has = v != NULL;
	if (v == NULL)
		return 0;
	if (!json_is_string(v) || prefix_parse(json_string_value(v), ret) < 0 ||
	    ret->family != family) {
		ERR("endpoint %.12s: invalid %s", id, key);
		return -EINVAL;
	}
	return 0;
}

static bool
int_in(json_t *v, json_int_t lo, json_int_t hi, json_int_t *ret)
{
	if (!json_is_integer(v) || json_integer_value(v) < lo ||
	    json_integer_value(v) > hi)
		return false;
	*ret = json_integer_value(v);
	return true;
}

/* The published ports of an endpoint, checked as PEC checks them. */
static int
decode_ports(json_t *arr, struct ep_cfg *e, char *err, size_t errlen)
{
	size_t i;
	json_t *v;

	if (arr == NULL)
		return 0;
	if (!json_is_array(arr) || json_array_size(arr) > ST_MAX_PORTS) {
		ERR("endpoint %.12s: invalid ports", e->id);
		return -EINVAL;
	}
	if (json_array_size(arr) == 0)
		return 0;
	e->ports = calloc(json_array_size(arr), sizeof(*e->ports));
	if (e->ports == NULL)
		return -ENOMEM;
	json_array_foreach(arr, i, v) {
		struct ep_port *p = &e->ports[e->nports];
		json_int_t proto, fam, hp, cp;
		json_t *hip = json_object_get(v, "host_ip");

		p->fd = -1;
		if (!json_is_object(v) ||
		    !int_in(json_object_get(v, "proto"), 0, 255, &proto) ||
		    (proto != IPPROTO_TCP && proto != IPPROTO_UDP &&
		    proto != IPPROTO_SCTP) ||
		    !int_in(json_object_get(v, "family"), 4, 6, &fam) ||
		    fam == 5 ||
		    !int_in(json_object_get(v, "host_port"), 1, 65535, &hp) ||
		    !int_in(json_object_get(v, "port"), 1, 65535, &cp)) {
			ERR("endpoint %.12s: invalid port %zu", e->id, i);
			return -EINVAL;
		}
		p->proto = (int)proto;
		p->family = fam == 4 ? AF_INET : AF_INET6;
		p->host_port = (unsigned short)hp;
		p->cport = (unsigned short)cp;
		if (hip != NULL) {
			if (!json_is_string(hip) ||
			    prefix_parse_addr(json_string_value(hip),
			    &p->host_ip) < 0 || p->host_ip.family != p->family) {
				ERR("endpoint %.12s: invalid host_ip of port "
				    "%zu", e->id, i);
				return -EINVAL;
			}
			p->has_host_ip = true;
		}
		e->nports++;
	}
	return 0;
}

/* An endpoint must name a network of d and not clash with another. */
static int
decode_ep(json_t *o, const struct st_doc *d, struct ep_cfg **ret, char *err,
    size_t errlen)
{
	struct ep_cfg *e = calloc(1, sizeof(*e));
	const char *id, *net, *host, *peer, *mac, *sb;
	int r = -EINVAL;

	if (e == NULL)
		return -ENOMEM;
	id = json_string_value(json_object_get(o, "id"));
	net = json_string_value(json_object_get(o, "network"));
	host = json_string_value(json_object_get(o, "host"));
	peer = json_string_value(json_object_get(o, "peer"));
	mac = json_string_value(json_object_get(o, "mac"));
	sb = json_string_value(json_object_get(o, "sandbox"));
	if (id == NULL || !net_valid_id(id) || net == NULL ||
	    !net_valid_id(net) || host == NULL || !opt_valid_ifname(host) ||
	    peer == NULL || !opt_valid_ifname(peer) || mac == NULL ||
	    st_parse_mac(mac, e->mac) < 0 || sb == NULL ||
	    strlen(sb) > ST_SANDBOX_MAX ||
	    !json_is_boolean(json_object_get(o, "joined"))) {
		ERR("invalid endpoint %.12s in state", id ? id : "?");
		goto out;
	}
	memcpy(e->id, id, sizeof(e->id));
	memcpy(e->net_id, net, sizeof(e->net_id));
	memcpy(e->host, host, strlen(host) + 1);
	memcpy(e->peer, peer, strlen(peer) + 1);
	memcpy(e->sandbox, sb, strlen(sb) + 1);
	e->joined = json_is_true(json_object_get(o, "joined"));
	if ((r = decode_addr(o, "address", AF_INET, &e->has_addr4, &e->addr4,
	    id, err, errlen)) < 0 ||
	    (r = decode_addr(o, "address_ipv6", AF_INET6, &e->has_addr6,
	    &e->addr6, id, err, errlen)) < 0 ||
	    (r = decode_ports(json_object_get(o, "ports"), e, err,
	    errlen)) < 0)
		goto out;
	r = -EINVAL;
	bool found = false;
	for (size_t i = 0; i < d->nnets; i++)
		found |= strcmp(d->nets[i]->id, net) == 0;
	if (!found) {
		ERR("endpoint %.12s is on unknown network %.12s", id, net);
		goto out;
	}
	for (size_t i = 0; i < d->neps; i++) {
		const struct ep_cfg *o2 = d->eps[i];

		if (strcmp(o2->id, id) == 0 || strcmp(o2->host, host) == 0 ||
		    strcmp(o2->peer, peer) == 0) {
			ERR("endpoint %.12s appears twice or shares an "
			    "interface name", id);
			goto out;
		}
	}
	*ret = e;
	e = NULL;
	r = 0;
out:
	ep_cfg_free(e);
	return r;
}

int
st_decode(const char *buf, size_t len, struct ipam *ip, struct st_doc *ret,
    char *err, size_t errlen)
{
	struct st_doc d = { 0 };
	json_error_t jerr;
	json_t *root, *nets, *eps, *v;
	const char *ula;
	size_t i;
	int r = -EINVAL;

	root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL) {
		ERR("state is not valid JSON (line %d: %s)", jerr.line,
		    jerr.text);
		return -EINVAL;
	}
	if (!json_is_object(root) ||
	    !json_is_integer(json_object_get(root, "version"))) {
		ERR("state has no version");
		goto out;
	}
	if (json_integer_value(json_object_get(root, "version")) != ST_VERSION) {
		ERR("state version %lld is not %d, which this cbridge writes",
		    (long long)json_integer_value(json_object_get(root,
		    "version")), ST_VERSION);
		goto out;
	}
	if ((v = json_object_get(root, "ula")) != NULL) {
		ula = json_string_value(v);
		if (ula == NULL || prefix_parse(ula, &d.ula) < 0 ||
		    d.ula.family != AF_INET6 || !prefix_is_masked(&d.ula)) {
			ERR("state has an invalid ula prefix");
			goto out;
		}
		d.has_ula = true;
	}
	nets = json_object_get(root, "networks");
	if (!json_is_array(nets)) {
		ERR("state has no networks array");
		goto out;
	}
	d.nets = calloc(json_array_size(nets) + 1, sizeof(*d.nets));
	if (d.nets == NULL) {
		r = -ENOMEM;
		goto out;
	}
	json_array_foreach(nets, i, v) {
		r = decode_net(v, &d.nets[d.nnets], err, errlen);
		if (r < 0)
			goto out;
		d.nnets++;
		for (size_t j = 0; j + 1 < d.nnets; j++) {
			if (strcmp(d.nets[j]->id, d.nets[i]->id) == 0 ||
			    strcmp(d.nets[j]->bridge, d.nets[i]->bridge) == 0) {
				ERR("network %s appears twice or shares bridge "
				    "'%s'", d.nets[i]->id, d.nets[i]->bridge);
				r = -EINVAL;
				goto out;
			}
		}
	}
	/* Endpoints came with containers; older files have none. */
	eps = json_object_get(root, "endpoints");
	if (eps != NULL && !json_is_array(eps)) {
		ERR("state has an invalid endpoints array");
		r = -EINVAL;
		goto out;
	}
	d.eps = calloc(json_array_size(eps) + 1, sizeof(*d.eps));
	if (d.eps == NULL) {
		r = -ENOMEM;
		goto out;
	}
	json_array_foreach(eps, i, v) {
		r = decode_ep(v, &d, &d.eps[d.neps], err, errlen);
		if (r < 0)
			goto out;
		d.neps++;
	}
	v = json_object_get(root, "ipam");
	if (v == NULL) {
		ERR("state has no ipam section");
		r = -EINVAL;
		goto out;
	}
	r = ipam_load(ip, v, err, errlen);
	if (r < 0)
		goto out;
	*ret = d;
	d = (struct st_doc){ 0 };
out:
	st_doc_done(&d);
	json_decref(root);
	return r;
}

int
st_load(const char *dir, struct ipam *ip, struct st_doc *ret, char *err,
    size_t errlen)
{
	char path[PATH_MAX], *buf = NULL;
	size_t len;
	int r;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, ST_FILE) >=
	    sizeof(path)) {
		ERR("state directory path '%s' is too long", dir);
		return -ENAMETOOLONG;
	}
	r = fu_read_file(path, ST_MAX_BYTES, &buf, &len);
	if (r == -ENOENT) {
		*ret = (struct st_doc){ 0 };
		return 0;
	}
	if (r < 0) {
		ERR("Failed to read '%s': %s", path, strerror(-r));
		return r;
	}
	r = st_decode(buf, len, ip, ret, err, errlen);
	if (r < 0) {
		char inner[256];

		(void) snprintf(inner, sizeof(inner), "%s", err ? err : "");
		ERR("'%s' is corrupt: %s; move it away to start with no "
		    "networks", path, inner);
	}
	free(buf);
	return r;
}
