/*
 * The Docker Engine API client: pure parsers (inspect, list, event lines,
 * an HTTP/1.1 response reader) and the worker thread that uses them.  See
 * engine.h for the decisions.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "plugin/engine.h"
#include "plugin/hexid.h"
#include "plugin/errmsg.h"

/* The events we act on; anything else would only wake us up. */
#define EVENTS_PATH "/events?filters=%7B%22type%22%3A%5B%22network%22%2C" \
	"%22container%22%5D%2C%22event%22%3A%5B%22connect%22%2C" \
	"%22disconnect%22%2C%22start%22%2C%22restart%22%2C%22die%22%2C" \
	"%22rename%22%2C%22destroy%22%5D%7D"

static const char *const kind_str[ENG_KIND_MAX] = {
	[ENG_CONTAINER] = "container",
	[ENG_REMOVED] = "removed",
	[ENG_SYNC_BEGIN] = "sync-begin",
	[ENG_SYNC_END] = "sync-end",
	[ENG_DOWN] = "down",
};

const char *
eng_kind_str(enum eng_kind k)
{
	if ((unsigned int)k >= ENG_KIND_MAX)
		return "?";
	return kind_str[k];
}

/*
 * JSON
 */

bool
eng_id_valid(const char *s, size_t len)
{
	return len > 0 && len <= ENG_ID_LEN && hex_id(s, len, true);
}

static json_t *
load(const char *json, size_t len, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *root;

	root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL)
		ERR("not JSON: %s (line %d)", jerr.text, jerr.line);
	return root;
}

/* A string member: NULL when absent or null, *bad on any other type. */
static const char *
get_str(json_t *obj, const char *key, size_t *ret_len, bool *bad)
{
	json_t *v = json_object_get(obj, key);

	*ret_len = 0;
	if (v == NULL || json_is_null(v))
		return NULL;
	if (!json_is_string(v)) {
		*bad = true;
		return NULL;
	}
	*ret_len = json_string_length(v);
	return json_string_value(v);
}

/* A member that must be an object when present: NULL when absent or
 * null, *bad on any other type. */
static json_t *
get_obj(json_t *obj, const char *key, bool *bad)
{
	json_t *v = json_object_get(obj, key);

	if (v == NULL || json_is_null(v))
		return NULL;
	if (!json_is_object(v)) {
		*bad = true;
		return NULL;
	}
	return v;
}

static void
endpoint_done(struct eng_endpoint *ep)
{
	for (size_t i = 0; i < ep->nnames; i++)
		free(ep->names[i]);
	free(ep->names);
	ep->names = NULL;
	ep->nnames = 0;
	for (size_t i = 0; i < ep->nlinks; i++) {
		free(ep->links[i].target);
		free(ep->links[i].alias);
	}
	free(ep->links);
	ep->links = NULL;
	ep->nlinks = 0;
}

void
eng_container_done(struct eng_container *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->neps; i++)
		endpoint_done(&c->eps[i]);
	free(c->eps);
	c->eps = NULL;
	c->neps = 0;
}

/* Appends s[0..len) to ep's names unless empty, too long, with a NUL,
 * already there (ASCII case aside) or beyond the cap.  -ENOMEM. */
static int
add_name(struct eng_endpoint *ep, const char *s, size_t len)
{
	char *copy;

	if (s == NULL || len == 0 || len > ENG_NAME_MAX ||
	    memchr(s, '\0', len) != NULL || ep->nnames >= ENG_NAMES_MAX)
		return 0;
	/* s need not end at len (the short ID is a prefix). */
	for (size_t i = 0; i < ep->nnames; i++)
		if (strncasecmp(ep->names[i], s, len) == 0 &&
		    ep->names[i][len] == '\0')
			return 0;
	if (ep->names == NULL &&
	    (ep->names = calloc(ENG_NAMES_MAX, sizeof(*ep->names))) == NULL)
		return -ENOMEM;
	if ((copy = strndup(s, len)) == NULL)
		return -ENOMEM;
	ep->names[ep->nnames++] = copy;
	return 0;
}

/* Adds the strings of an array member (absent or null: none). */
static int
add_names(struct eng_endpoint *ep, json_t *net, const char *key,
    const char *netname, char *err, size_t errlen)
{
	json_t *arr = json_object_get(net, key), *v;
	size_t i;
	int r;

	if (arr == NULL || json_is_null(arr))
		return 0;
	if (!json_is_array(arr)) {
		ERR("NetworkSettings.Networks.%.64s.%s is not an array",
		    netname, key);
		return -EINVAL;
	}
	json_array_foreach(arr, i, v) {
		if (!json_is_string(v)) {
			ERR("NetworkSettings.Networks.%.64s.%s[%zu] is not a "
			    "string", netname, key, i);
			return -EINVAL;
		}
		if ((r = add_name(ep, json_string_value(v),
		    json_string_length(v))) < 0)
			return r;
	}
	return 0;
}

/* Appends the link s[0..len) to ep's, read as dockerd reads links:
 * "target:alias", "target" (alias the same), or "/target:/me/alias" as
 * HostConfig.Links shows the default bridge's (alias the last path
 * component).  Malformed ones and those beyond the cap are left out.
 * -ENOMEM. */
static int
add_link(struct eng_endpoint *ep, const char *s, size_t len)
{
	const char *colon, *t = s, *a = s, *slash;
	size_t tlen = len, alen = len;
	struct eng_link *l;

	if (ep->nlinks >= ENG_LINKS_MAX || len == 0 ||
	    memchr(s, '\0', len) != NULL)
		return 0;
	if ((colon = memchr(s, ':', len)) != NULL) {
		tlen = (size_t)(colon - s);
		a = colon + 1;
		alen = len - tlen - 1;
		if (memchr(a, ':', alen) != NULL)
			return 0;
		if (tlen > 0 && t[0] == '/') {
			t++;
			tlen--;
			if ((slash = memrchr(a, '/', alen)) != NULL) {
				alen -= (size_t)(slash + 1 - a);
				a = slash + 1;
			}
		}
	}
	if (tlen == 0 || alen == 0 || tlen > ENG_NAME_MAX ||
	    alen > ENG_NAME_MAX)
		return 0;
	if (ep->links == NULL &&
	    (ep->links = calloc(ENG_LINKS_MAX, sizeof(*ep->links))) == NULL)
		return -ENOMEM;
	l = &ep->links[ep->nlinks];
	if ((l->target = strndup(t, tlen)) == NULL ||
	    (l->alias = strndup(a, alen)) == NULL) {
		free(l->target);
		l->target = NULL;
		return -ENOMEM;
	}
	ep->nlinks++;
	return 0;
}

/* The links of arr (absent or null: none) into ep, or only checked when
 * ep is NULL; what names arr in messages. */
static int
add_links(struct eng_endpoint *ep, json_t *arr, const char *what,
    const char *netname, char *err, size_t errlen)
{
	json_t *v;
	size_t i;
	int r;

	if (arr == NULL || json_is_null(arr))
		return 0;
	if (!json_is_array(arr)) {
		ERR("%s%.64s%s is not an array", what, netname,
		    netname[0] != '\0' ? ".Links" : "");
		return -EINVAL;
	}
	json_array_foreach(arr, i, v) {
		if (!json_is_string(v)) {
			ERR("%s%.64s%s[%zu] is not a string", what, netname,
			    netname[0] != '\0' ? ".Links" : "", i);
			return -EINVAL;
		}
		if (ep != NULL && (r = add_link(ep, json_string_value(v),
		    json_string_length(v))) < 0)
			return r;
	}
	return 0;
}

/* An address member of the family af into *ret; false when there is
 * none (absent, null, "", or text that is not such an address). */
static bool
get_addr(json_t *obj, const char *key, int af, void *ret, bool *bad)
{
	char buf[INET6_ADDRSTRLEN];
	const char *s;
	size_t len;

	s = get_str(obj, key, &len, bad);
	if (s == NULL || len == 0 || len >= sizeof(buf))
		return false;
	memcpy(buf, s, len);
	buf[len] = '\0';
	return inet_pton(af, buf, ret) == 1;
}

/* One NetworkSettings.Networks member into *ep; 1 when it is to be left
 * out (not attached, odd IDs). */
static int
parse_endpoint(json_t *net, const char *netname, const char *name,
    size_t namelen, const char *id, const char *host, size_t hostlen,
    struct eng_endpoint *ep, char *err, size_t errlen)
{
	const char *nid, *eid;
	size_t nidlen, eidlen;
	bool bad = false;
	int r;

	if (!json_is_object(net)) {
		ERR("NetworkSettings.Networks.%.64s is not an object",
		    netname);
		return -EINVAL;
	}
	nid = get_str(net, "NetworkID", &nidlen, &bad);
	eid = get_str(net, "EndpointID", &eidlen, &bad);
	if (bad) {
		ERR("NetworkSettings.Networks.%.64s: NetworkID or EndpointID "
		    "is not a string", netname);
		return -EINVAL;
	}
	if (eid == NULL || eidlen == 0 || eidlen > ENG_ID_LEN ||
	    nidlen > ENG_ID_LEN || memchr(eid, '\0', eidlen) != NULL ||
	    (nid != NULL && memchr(nid, '\0', nidlen) != NULL))
		return 1;
	memset(ep, 0, sizeof(*ep));
	memcpy(ep->ep_id, eid, eidlen);
	if (nid != NULL)
		memcpy(ep->net_id, nid, nidlen);
	(void) snprintf(ep->net_name, sizeof(ep->net_name), "%s", netname);
	ep->has_addr4 = get_addr(net, "IPAddress", AF_INET, &ep->addr4, &bad);
	ep->has_addr6 = get_addr(net, "GlobalIPv6Address", AF_INET6,
	    &ep->addr6, &bad);
	if (bad) {
		ERR("NetworkSettings.Networks.%.64s: IPAddress or "
		    "GlobalIPv6Address is not a string", netname);
		return -EINVAL;
	}

	if ((r = add_name(ep, name, namelen)) < 0 ||
	    (r = add_names(ep, net, "Aliases", netname, err, errlen)) < 0 ||
	    (r = add_names(ep, net, "DNSNames", netname, err, errlen)) < 0 ||
	    (r = add_name(ep, id, strlen(id) >= 12 ? 12 : 0)) < 0 ||
	    (r = add_name(ep, host, hostlen)) < 0 ||
	    (r = add_links(ep, json_object_get(net, "Links"),
	    "NetworkSettings.Networks.", netname, err, errlen)) < 0) {
		if (r == -ENOMEM)
			ERR("out of memory");
		endpoint_done(ep);
		return r;
	}
	return 0;
}

/* State.Running and State.Pid into c. */
static int
parse_state(json_t *root, struct eng_container *c, char *err, size_t errlen)
{
	json_t *st, *run, *pid;
	bool bad = false;

	if ((st = get_obj(root, "State", &bad)) == NULL) {
		if (bad)
			ERR("container %.12s: State is not an object", c->id);
		return bad ? -EINVAL : 0;
	}
	run = json_object_get(st, "Running");
	if (run != NULL && !json_is_null(run) && !json_is_boolean(run)) {
		ERR("container %.12s: State.Running is not true or false",
		    c->id);
		return -EINVAL;
	}
	c->running = json_is_true(run);
	pid = json_object_get(st, "Pid");
	if (pid != NULL && !json_is_null(pid) && (!json_is_integer(pid) ||
	    json_integer_value(pid) < 0 ||
	    json_integer_value(pid) > INT_MAX)) {
		ERR("container %.12s: State.Pid is not a process ID", c->id);
		return -EINVAL;
	}
	if (c->running && json_is_integer(pid))
		c->pid = (int)json_integer_value(pid);
	return 0;
}

/* HostConfig.Dns: the first ENG_DNS_MAX address literals into c. */
static int
parse_dns(json_t *hc, struct eng_container *c, char *err, size_t errlen)
{
	unsigned char bin[sizeof(struct in6_addr)];
	json_t *arr = json_object_get(hc, "Dns"), *v;
	const char *s;
	size_t i, len;

	if (arr == NULL || json_is_null(arr))
		return 0;
	if (!json_is_array(arr)) {
		ERR("container %.12s: HostConfig.Dns is not an array", c->id);
		return -EINVAL;
	}
	json_array_foreach(arr, i, v) {
		if (!json_is_string(v)) {
			ERR("container %.12s: HostConfig.Dns[%zu] is not a "
			    "string", c->id, i);
			return -EINVAL;
		}
		s = json_string_value(v);
		len = json_string_length(v);
		if (c->ndns >= ENG_DNS_MAX || len == 0 ||
		    len >= sizeof(c->dns[0]) || strlen(s) != len)
			continue;
		if (inet_pton(AF_INET, s, bin) != 1 &&
		    inet_pton(AF_INET6, s, bin) != 1)
			continue;
		memcpy(c->dns[c->ndns++], s, len + 1);
	}
	return 0;
}

/* HostConfig: NetworkMode and Dns into c; *ret_links its Links (absent
 * or null: NULL), checked. */
static int
parse_hostconfig(json_t *root, struct eng_container *c, json_t **ret_links,
    char *err, size_t errlen)
{
	static const char pfx[] = "container:";
	const char *mode;
	json_t *hc;
	size_t len;
	bool bad = false;
	int r;

	*ret_links = NULL;
	if ((hc = get_obj(root, "HostConfig", &bad)) == NULL) {
		if (bad)
			ERR("container %.12s: HostConfig is not an object",
			    c->id);
		return bad ? -EINVAL : 0;
	}
	mode = get_str(hc, "NetworkMode", &len, &bad);
	if (bad) {
		ERR("container %.12s: HostConfig.NetworkMode is not a string",
		    c->id);
		return -EINVAL;
	}
	if (mode != NULL && len > sizeof(pfx) - 1 &&
	    len - (sizeof(pfx) - 1) <= ENG_NAME_MAX &&
	    strncmp(mode, pfx, sizeof(pfx) - 1) == 0 && strlen(mode) == len)
		memcpy(c->net_container, mode + sizeof(pfx) - 1,
		    len - (sizeof(pfx) - 1) + 1);
	if ((r = parse_dns(hc, c, err, errlen)) < 0)
		return r;
	*ret_links = json_object_get(hc, "Links");
	return add_links(NULL, *ret_links, "HostConfig.Links", "", err,
	    errlen);
}

int
eng_parse_container(const char *json, size_t len, struct eng_container *ret,
    char *err, size_t errlen)
{
	struct eng_container c = { .id = "" };
	json_t *root, *cfg, *ns, *nets = NULL, *net, *hlinks = NULL;
	const char *id, *name, *host = NULL, *key, *sbx = NULL;
	size_t idlen, namelen, hostlen = 0, sbxlen = 0;
	bool bad = false;
	int r = -EINVAL;

	if ((root = load(json, len, err, errlen)) == NULL)
		return -EINVAL;
	if (!json_is_object(root)) {
		ERR("container: not an object");
		goto out;
	}
	id = get_str(root, "Id", &idlen, &bad);
	if (id == NULL || !eng_id_valid(id, idlen)) {
		ERR("container: Id missing or not 1..%d hex digits",
		    ENG_ID_LEN);
		goto out;
	}
	memcpy(c.id, id, idlen);
	name = get_str(root, "Name", &namelen, &bad);
	if (name != NULL && namelen > 0 && name[0] == '/')
		name++, namelen--;
	if (name != NULL && namelen <= ENG_NAME_MAX &&
	    memchr(name, '\0', namelen) == NULL)
		memcpy(c.name, name, namelen);
	if ((r = parse_state(root, &c, err, errlen)) < 0 ||
	    (r = parse_hostconfig(root, &c, &hlinks, err, errlen)) < 0)
		goto out;
	r = -EINVAL;
	cfg = json_object_get(root, "Config");
	if (cfg != NULL && !json_is_null(cfg)) {
		if (!json_is_object(cfg)) {
			ERR("container %.12s: Config is not an object", c.id);
			goto out;
		}
		host = get_str(cfg, "Hostname", &hostlen, &bad);
	}
	ns = json_object_get(root, "NetworkSettings");
	if (ns != NULL && !json_is_null(ns)) {
		if (!json_is_object(ns)) {
			ERR("container %.12s: NetworkSettings is not an object",
			    c.id);
			goto out;
		}
		nets = json_object_get(ns, "Networks");
		if (nets != NULL && json_is_null(nets))
			nets = NULL;
		if (nets != NULL && !json_is_object(nets)) {
			ERR("container %.12s: NetworkSettings.Networks is not "
			    "an object", c.id);
			goto out;
		}
		sbx = get_str(ns, "SandboxKey", &sbxlen, &bad);
	}
	if (bad) {
		ERR("container %.12s: Name, Config.Hostname or "
		    "NetworkSettings.SandboxKey is not a string", c.id);
		goto out;
	}
	if (sbx != NULL && sbxlen <= ENG_KEY_MAX &&
	    memchr(sbx, '\0', sbxlen) == NULL)
		memcpy(c.sandbox_key, sbx, sbxlen);
	if (nets != NULL && json_object_size(nets) > 0) {
		size_t n = json_object_size(nets);

		if (n > ENG_NETS_MAX)
			n = ENG_NETS_MAX;
		if ((c.eps = calloc(n, sizeof(*c.eps))) == NULL) {
			ERR("out of memory");
			r = -ENOMEM;
			goto out;
		}
		json_object_foreach(nets, key, net) {
			if (c.neps >= n)
				break;
			r = parse_endpoint(net, key, name, namelen, c.id, host,
			    hostlen, &c.eps[c.neps], err, errlen);
			if (r < 0)
				goto out;
			if (r == 1)
				continue;
			/* The default bridge's links are the legacy ones. */
			if (strcmp(key, "bridge") == 0 &&
			    (r = add_links(&c.eps[c.neps], hlinks, "", "",
			    err, errlen)) < 0) {
				endpoint_done(&c.eps[c.neps]);
				if (r == -ENOMEM)
					ERR("out of memory");
				goto out;
			}
			c.neps++;
		}
	}
	r = 0;
	if (c.neps == 0) {
		free(c.eps);
		c.eps = NULL;
	}
	*ret = c;
	c.eps = NULL;
	c.neps = 0;
out:
	eng_container_done(&c);
	json_decref(root);
	return r;
}

int
eng_parse_list(const char *json, size_t len, char (**ret_ids)[ENG_ID_LEN + 1],
    size_t *ret_n, char *err, size_t errlen)
{
	char (*ids)[ENG_ID_LEN + 1] = NULL;
	json_t *root, *v;
	const char *id;
	size_t i, idlen;
	bool bad = false;
	int r = -EINVAL;

	if ((root = load(json, len, err, errlen)) == NULL)
		return -EINVAL;
	if (!json_is_array(root)) {
		ERR("container list: not an array");
		goto out;
	}
	if (json_array_size(root) > 0 &&
	    (ids = calloc(json_array_size(root), sizeof(*ids))) == NULL) {
		ERR("out of memory");
		r = -ENOMEM;
		goto out;
	}
	json_array_foreach(root, i, v) {
		id = json_is_object(v) ? get_str(v, "Id", &idlen, &bad) : NULL;
		if (id == NULL || !eng_id_valid(id, idlen)) {
			ERR("container list: entry %zu has no Id of 1..%d hex "
			    "digits", i, ENG_ID_LEN);
			goto out;
		}
		memcpy(ids[i], id, idlen);
		ids[i][idlen] = '\0';
	}
	*ret_n = json_array_size(root);
	*ret_ids = ids;
	ids = NULL;
	r = 0;
out:
	free(ids);
	json_decref(root);
	return r;
}

int
eng_parse_event(const char *json, size_t len, enum eng_event *ev,
    char container_id[ENG_ID_LEN + 1])
{
	json_t *root, *actor, *attrs;
	const char *type, *action, *id = NULL;
	size_t tlen, alen, idlen = 0;
	bool bad = false;
	int r = -EINVAL;

	*ev = ENG_EV_IGNORE;
	container_id[0] = '\0';
	if ((root = load(json, len, NULL, 0)) == NULL)
		return -EINVAL;
	if (!json_is_object(root))
		goto out;
	type = get_str(root, "Type", &tlen, &bad);
	action = get_str(root, "Action", &alen, &bad);
	r = 0;
	if (type == NULL || action == NULL)
		goto out;
	actor = json_object_get(root, "Actor");
	if (strcmp(type, "network") == 0 && (strcmp(action, "connect") == 0 ||
	    strcmp(action, "disconnect") == 0)) {
		attrs = json_is_object(actor) ?
		    json_object_get(actor, "Attributes") : NULL;
		if (json_is_object(attrs))
			id = get_str(attrs, "container", &idlen, &bad);
		*ev = ENG_EV_INSPECT;
	} else if (strcmp(type, "container") == 0 &&
	    (strcmp(action, "start") == 0 || strcmp(action, "restart") == 0 ||
	    strcmp(action, "die") == 0 || strcmp(action, "rename") == 0 ||
	    strcmp(action, "destroy") == 0)) {
		if (json_is_object(actor))
			id = get_str(actor, "ID", &idlen, &bad);
		*ev = strcmp(action, "destroy") == 0 ? ENG_EV_REMOVED :
		    ENG_EV_INSPECT;
	} else
		goto out;
	if (id == NULL || !eng_id_valid(id, idlen)) {
		*ev = ENG_EV_IGNORE;
		r = -EINVAL;
		goto out;
	}
	memcpy(container_id, id, idlen);
	container_id[idlen] = '\0';
out:
	json_decref(root);
	return r;
}

/*
 * HTTP/1.1 response reader
 */

void
eng_http_init(struct eng_http *h, size_t body_max, eng_http_body_fn cb,
    void *arg)
{
	memset(h, 0, sizeof(*h));
	h->state = ENG_HTTP_STATUS;
	h->body_max = body_max;
	h->cb = cb;
	h->arg = arg;
}

bool
eng_http_head_done(const struct eng_http *h)
{
	return h->state != ENG_HTTP_STATUS && h->state != ENG_HTTP_HEADER &&
	    !(h->state == ENG_HTTP_ERROR && h->status == 0);
}

/* Case-insensitive "name:" prefix; the value, blanks trimmed, or NULL. */
static const char *
header_value(char *line, const char *name)
{
	size_t n = strlen(name), end;
	char *v;

	if (strncasecmp(line, name, n) != 0 || line[n] != ':')
		return NULL;
	v = line + n + 1;
	while (*v == ' ' || *v == '\t')
		v++;
	end = strlen(v);
	while (end > 0 && (v[end - 1] == ' ' || v[end - 1] == '\t'))
		v[--end] = '\0';
	return v;
}

/* Decimal or hex digits into *ret without overflow past 2^60; the number
 * of characters used, 0 when none or too big. */
static size_t
parse_num(const char *s, unsigned int base, uint64_t *ret)
{
	uint64_t v = 0;
	size_t i;
	int d;

	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] >= '0' && s[i] <= '9')
			d = s[i] - '0';
		else if (base == 16 && s[i] >= 'a' && s[i] <= 'f')
			d = s[i] - 'a' + 10;
		else if (base == 16 && s[i] >= 'A' && s[i] <= 'F')
			d = s[i] - 'A' + 10;
		else
			break;
		if (v > (UINT64_C(1) << 60) / base)
			return 0;
		v = v * base + (unsigned int)d;
	}
	*ret = v;
	return i;
}

static int
on_status(struct eng_http *h)
{
	const char *l = h->line;

	/* "HTTP/1.x SSS[ reason]" */
	if (strncmp(l, "HTTP/1.", 7) != 0 || l[7] < '0' || l[7] > '9' ||
	    l[8] != ' ' || l[9] < '1' || l[9] > '5' || l[10] < '0' ||
	    l[10] > '9' || l[11] < '0' || l[11] > '9' ||
	    (l[12] != '\0' && l[12] != ' '))
		return -EPROTO;
	h->status = (l[9] - '0') * 100 + (l[10] - '0') * 10 + (l[11] - '0');
	h->state = ENG_HTTP_HEADER;
	return 0;
}

/* The blank line after the headers: how the body is delimited. */
static int
on_head_end(struct eng_http *h)
{
	if (h->status >= 100 && h->status < 200) {
		/* 100 Continue and the like: the real response follows. */
		h->status = 0;
		h->chunked = h->has_length = false;
		h->state = ENG_HTTP_STATUS;
		return 0;
	}
	if (h->status == 204 || h->status == 304) {
		h->state = ENG_HTTP_DONE;
		return 1;
	}
	if (h->chunked) {
		h->state = ENG_HTTP_CHUNK_SIZE;
		return 0;
	}
	if (h->has_length) {
		if (h->body_max > 0 && h->length > h->body_max)
			return -EMSGSIZE;
		h->left = h->length;
		h->state = h->left == 0 ? ENG_HTTP_DONE : ENG_HTTP_BODY_LEN;
		return h->left == 0 ? 1 : 0;
	}
	h->state = ENG_HTTP_BODY_EOF;
	return 0;
}

static int
on_header(struct eng_http *h)
{
	const char *v;
	uint64_t n;
	size_t used;

	if (h->linelen == 0)
		return on_head_end(h);
	if (h->line[0] == ' ' || h->line[0] == '\t')
		return -EPROTO;	/* obsolete line folding */
	if (strchr(h->line, ':') == NULL)
		return -EPROTO;
	if ((v = header_value(h->line, "Content-Length")) != NULL) {
		used = parse_num(v, 10, &n);
		if (used == 0 || v[used] != '\0' ||
		    (h->has_length && n != h->length))
			return -EPROTO;
		h->has_length = true;
		h->length = n;
	} else if ((v = header_value(h->line, "Transfer-Encoding")) != NULL) {
		size_t vl = strlen(v);

		/* Only chunked is understood, and it must come last. */
		if (vl < 7 || strcasecmp(v + vl - 7, "chunked") != 0 ||
		    (vl > 7 && v[vl - 8] != ' ' && v[vl - 8] != ','))
			return -EPROTO;
		h->chunked = true;
	}
	return 0;
}

static int
on_chunk_size(struct eng_http *h)
{
	const char *p = h->line;
	uint64_t n;
	size_t used;

	used = parse_num(p, 16, &n);
	if (used == 0)
		return -EPROTO;
	p += used;
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p != '\0' && *p != ';')
		return -EPROTO;
	if (n == 0) {
		h->state = ENG_HTTP_TRAILER;
		return 0;
	}
	if (h->body_max > 0 && n > h->body_max - h->body)
		return -EMSGSIZE;
	h->left = n;
	h->state = ENG_HTTP_CHUNK_DATA;
	return 0;
}

/* A complete line (CRLF or LF stripped) in h->line. */
static int
on_line(struct eng_http *h)
{
	switch (h->state) {
	case ENG_HTTP_STATUS:
		return on_status(h);
	case ENG_HTTP_HEADER:
		return on_header(h);
	case ENG_HTTP_CHUNK_SIZE:
		return on_chunk_size(h);
	case ENG_HTTP_CHUNK_END:
		h->state = ENG_HTTP_CHUNK_SIZE;
		return 0;
	case ENG_HTTP_TRAILER:
		if (h->linelen != 0)
			return 0;
		h->state = ENG_HTTP_DONE;
		return 1;
	default:
		return -EPROTO;
	}
}

static int
body(struct eng_http *h, const char *p, size_t n)
{
	if (h->body_max > 0 && n > h->body_max - h->body)
		return -EMSGSIZE;
	h->body += n;
	return h->cb != NULL ? h->cb(h->arg, p, n) : 0;
}

int
eng_http_feed(struct eng_http *h, const char *buf, size_t len)
{
	size_t off = 0, n;
	int r = 0;

	while (off < len && r == 0) {
		switch (h->state) {
		case ENG_HTTP_DONE:
			return 1;
		case ENG_HTTP_ERROR:
			return -EPROTO;
		case ENG_HTTP_BODY_LEN:
		case ENG_HTTP_CHUNK_DATA:
			n = len - off;
			if (n > h->left)
				n = (size_t)h->left;
			r = body(h, buf + off, n);
			off += n;
			h->left -= n;
			if (r == 0 && h->left == 0) {
				if (h->state == ENG_HTTP_BODY_LEN) {
					h->state = ENG_HTTP_DONE;
					r = 1;
				} else
					h->state = ENG_HTTP_CHUNK_END;
			}
			break;
		case ENG_HTTP_BODY_EOF:
			r = body(h, buf + off, len - off);
			off = len;
			break;
		case ENG_HTTP_CHUNK_END:
			/* Only CRLF (or LF) may follow a chunk's data. */
			if (buf[off] != '\n' &&
			    (buf[off] != '\r' || h->linelen > 0)) {
				r = -EPROTO;
				break;
			}
			/* FALLTHROUGH */
		default:
			/* A line: the head, chunk sizes, CRLFs, trailers. */
			if (h->state <= ENG_HTTP_HEADER &&
			    ++h->head > ENG_HTTP_HEAD_MAX) {
				r = -EMSGSIZE;
				break;
			}
			if (buf[off] == '\n') {
				off++;
				if (h->linelen > 0 &&
				    h->line[h->linelen - 1] == '\r')
					h->linelen--;
				h->line[h->linelen] = '\0';
				if (memchr(h->line, '\0', h->linelen) != NULL)
					r = -EPROTO;
				else
					r = on_line(h);
				h->linelen = 0;
				break;
			}
			if (h->linelen >= ENG_HTTP_LINE_MAX) {
				r = -EMSGSIZE;
				break;
			}
			h->line[h->linelen++] = buf[off++];
			break;
		}
	}
	if (r < 0)
		h->state = ENG_HTTP_ERROR;
	else if (h->state == ENG_HTTP_DONE)
		r = 1;
	return r;
}

int
eng_http_eof(struct eng_http *h)
{
	if (h->state == ENG_HTTP_DONE)
		return 1;
	if (h->state == ENG_HTTP_BODY_EOF) {
		h->state = ENG_HTTP_DONE;
		return 1;
	}
	h->state = ENG_HTTP_ERROR;
	return -EPIPE;
}

/*
 * Event lines
 */

int
eng_lines_init(struct eng_lines *l,
    int (*cb)(void *arg, const char *line, size_t len), void *arg)
{
	memset(l, 0, sizeof(*l));
	if ((l->buf = malloc(ENG_LINE_MAX)) == NULL)
		return -ENOMEM;
	l->cb = cb;
	l->arg = arg;
	return 0;
}

void
eng_lines_done(struct eng_lines *l)
{
	free(l->buf);
	l->buf = NULL;
}

int
eng_lines_feed(void *arg, const char *data, size_t len)
{
	struct eng_lines *l = arg;
	const char *nl;
	size_t n;
	int r;

	while (len > 0) {
		nl = memchr(data, '\n', len);
		n = nl != NULL ? (size_t)(nl - data) : len;
		if (!l->skipping && n > ENG_LINE_MAX - l->len) {
			l->skipping = true;
			l->nskipped++;
		}
		if (!l->skipping) {
			memcpy(l->buf + l->len, data, n);
			l->len += n;
		}
		if (nl == NULL)
			return 0;
		data += n + 1;
		len -= n + 1;
		if (!l->skipping && l->len > 0 &&
		    (r = l->cb(l->arg, l->buf, l->len)) < 0)
			return r;
		l->len = 0;
		l->skipping = false;
	}
	return 0;
}

/*
 * The worker thread
 */

struct eng {
	char		*sock;		/* the engine's socket path */
	int		evfd;		/* readable while updates wait */
	int		stopfd;		/* readable once eng_free() ran */
	pthread_t	thread;
	bool		started;

	pthread_mutex_t	mu;		/* guards the fields below */
	struct eng_update *head, *tail;
	size_t		nq, qbytes;
	unsigned long	ntake;		/* eng_take() calls */
};

/* A growable body with a cap, for eng_http's callback. */
struct dbuf {
	char	*p;
	size_t	len, cap, max;
};

static int
dbuf_add(void *arg, const char *data, size_t len)
{
	struct dbuf *b = arg;
	size_t ncap;
	char *np;

	if (len > b->max - b->len)
		return -EMSGSIZE;
	if (b->len + len + 1 > b->cap) {
		ncap = b->cap > 0 ? b->cap : 16384;
		while (ncap < b->len + len + 1)
			ncap *= 2;
		if ((np = realloc(b->p, ncap)) == NULL)
			return -ENOMEM;
		b->p = np;
		b->cap = ncap;
	}
	memcpy(b->p + b->len, data, len);
	b->len += len;
	b->p[b->len] = '\0';
	return 0;
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	(void) clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits for events on fd (-1: none, a plain sleep) until deadline_ms
 * (-1: none).  0 when ready, -ETIMEDOUT, -ECANCELED on eng_free(). */
static int
wait_fd(struct eng *e, int fd, short events, int64_t deadline_ms)
{
	struct pollfd p[2] = {
		{ .fd = e->stopfd, .events = POLLIN },
		{ .fd = fd, .events = events },
	};
	int64_t left;
	int n;

	for (;;) {
		left = -1;
		if (deadline_ms >= 0) {
			left = deadline_ms - now_ms();
			if (left < 0)
				left = 0;
		}
		n = poll(p, fd >= 0 ? 2 : 1, (int)left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (p[0].revents != 0)
			return -ECANCELED;
		if (n > 0)
			return 0;
		return -ETIMEDOUT;
	}
}

static size_t
update_size(const struct eng_update *u)
{
	size_t n = sizeof(*u);

	for (size_t i = 0; i < u->c.neps; i++) {
		const struct eng_endpoint *ep = &u->c.eps[i];

		n += sizeof(*ep);
		for (size_t j = 0; j < ep->nnames; j++)
			n += strlen(ep->names[j]) + 1 + sizeof(char *);
		for (size_t j = 0; j < ep->nlinks; j++)
			n += strlen(ep->links[j].target) +
			    strlen(ep->links[j].alias) + 2 +
			    sizeof(ep->links[j]);
	}
	return n;
}

void
eng_update_free(struct eng_update *u)
{
	struct eng_update *next;

	for (; u != NULL; u = next) {
		next = u->next;
		eng_container_done(&u->c);
		free(u);
	}
}

/* Queues u (taking it).  -ENOBUFS when the queue was over its caps: then
 * everything queued, u too, was dropped and a resync is due. */
static int
post(struct eng *e, struct eng_update *u)
{
	struct eng_update *drop = NULL;
	uint64_t one = 1;
	size_t sz = update_size(u);
	int r = 0;

	u->next = NULL;
	pthread_mutex_lock(&e->mu);
	if (e->nq >= ENG_QUEUE_MAX || sz > ENG_QUEUE_BYTES - e->qbytes) {
		drop = e->head;
		e->head = e->tail = NULL;
		e->nq = e->qbytes = 0;
		eng_update_free(u);
		r = -ENOBUFS;
	} else {
		if (e->tail != NULL)
			e->tail->next = u;
		else
			e->head = u;
		e->tail = u;
		e->nq++;
		e->qbytes += sz;
		(void) !write(e->evfd, &one, sizeof(one));
	}
	pthread_mutex_unlock(&e->mu);
	eng_update_free(drop);
	return r;
}

static int
post_kind(struct eng *e, enum eng_kind kind, const char *id, const char *msg)
{
	struct eng_update *u = calloc(1, sizeof(*u));

	if (u == NULL)
		return -ENOMEM;
	u->kind = kind;
	if (id != NULL)
		(void) snprintf(u->c.id, sizeof(u->c.id), "%s", id);
	if (msg != NULL)
		(void) snprintf(u->msg, sizeof(u->msg), "%s", msg);
	return post(e, u);
}

struct eng_update *
eng_take(struct eng *e)
{
	struct eng_update *u;
	uint64_t v;

	pthread_mutex_lock(&e->mu);
	u = e->head;
	e->head = e->tail = NULL;
	e->nq = e->qbytes = 0;
	e->ntake++;
	(void) !read(e->evfd, &v, sizeof(v));
	pthread_mutex_unlock(&e->mu);
	return u;
}

int
eng_fd(const struct eng *e)
{
	return e->evfd;
}

/* A connected, non-blocking socket to the engine in *ret_fd. */
static int
dial(struct eng *e, int64_t deadline, int *ret_fd, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	socklen_t sl = sizeof(sa);
	int fd, r, soerr = 0;

	if (strlen(e->sock) >= sizeof(sa.sun_path)) {
		ERR("connect: socket path too long");
		return -ENAMETOOLONG;
	}
	memcpy(sa.sun_path, e->sock, strlen(e->sock) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		r = -errno;
		ERR("socket: %s", strerror(-r));
		return r;
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		if (errno != EINPROGRESS) {
			r = -errno;
			ERR("connect: %s", strerror(-r));
			goto fail;
		}
		if ((r = wait_fd(e, fd, POLLOUT, deadline)) < 0) {
			ERR("connect: %s", r == -ETIMEDOUT ? "timed out" :
			    strerror(-r));
			goto fail;
		}
		sl = sizeof(soerr);
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0 ||
		    soerr != 0) {
			r = soerr != 0 ? -soerr : -errno;
			ERR("connect: %s", strerror(-r));
			goto fail;
		}
	}
	*ret_fd = fd;
	return 0;
fail:
	(void) close(fd);
	return r;
}

/* Sends GET path and reads the response head (and what body comes with
 * it) into h.  *ret_fd is the connection, for the rest of the body. */
static int
start_get(struct eng *e, const char *path, struct eng_http *h,
    int64_t deadline, int *ret_fd, char *err, size_t errlen)
{
	char req[512], buf[16384];
	size_t off = 0;
	ssize_t n;
	int fd = -1, len, r;

	len = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: docker\r\n"
	    "User-Agent: cbridge\r\nConnection: close\r\n\r\n", path);
	if (len < 0 || (size_t)len >= sizeof(req)) {
		ERR("GET %.64s: path too long", path);
		return -ENAMETOOLONG;
	}
	if ((r = dial(e, deadline, &fd, err, errlen)) < 0)
		return r;
	while (off < (size_t)len) {
		n = send(fd, req + off, (size_t)len - off, MSG_NOSIGNAL);
		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			if ((r = wait_fd(e, fd, POLLOUT, deadline)) < 0)
				goto fail;
			continue;
		}
		if (n < 0) {
			r = -errno;
			goto fail;
		}
		off += (size_t)n;
	}
	while (!eng_http_head_done(h)) {
		n = recv(fd, buf, sizeof(buf), 0);
		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			if ((r = wait_fd(e, fd, POLLIN, deadline)) < 0)
				goto fail;
			continue;
		}
		if (n < 0) {
			r = -errno;
			goto fail;
		}
		if (n == 0) {
			r = -EPIPE;
			goto fail;
		}
		if ((r = eng_http_feed(h, buf, (size_t)n)) < 0)
			goto fail;
	}
	*ret_fd = fd;
	return 0;
fail:
	if (r == -ETIMEDOUT)
		ERR("GET %.80s: no answer within %d s", path,
		    ENG_TIMEOUT_MS / 1000);
	else if (r == -EPROTO)
		ERR("GET %.80s: malformed HTTP response", path);
	else if (r == -EPIPE)
		ERR("GET %.80s: connection closed before a response", path);
	else if (r != -ECANCELED)
		ERR("GET %.80s: %s", path, strerror(-r));
	(void) close(fd);
	return r;
}

/* GET path, the whole body (at most max bytes) in *b; the HTTP status. */
static int
get(struct eng *e, const char *path, size_t max, struct dbuf *b,
    char *err, size_t errlen)
{
	int64_t deadline = now_ms() + ENG_TIMEOUT_MS;
	struct eng_http h;
	char buf[16384];
	ssize_t n;
	int fd = -1, r;

	memset(b, 0, sizeof(*b));
	b->max = max;
	eng_http_init(&h, max, dbuf_add, b);
	if ((r = start_get(e, path, &h, deadline, &fd, err, errlen)) < 0)
		return r;
	r = h.state == ENG_HTTP_DONE;
	while (r == 0) {
		n = recv(fd, buf, sizeof(buf), 0);
		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			if ((r = wait_fd(e, fd, POLLIN, deadline)) < 0)
				break;
			continue;
		}
		if (n < 0)
			r = -errno;
		else if (n == 0)
			r = eng_http_eof(&h);
		else
			r = eng_http_feed(&h, buf, (size_t)n);
	}
	(void) close(fd);
	if (r < 0) {
		if (r == -ETIMEDOUT)
			ERR("GET %.80s: no answer within %d s", path,
			    ENG_TIMEOUT_MS / 1000);
		else if (r == -EMSGSIZE)
			ERR("GET %.80s: response over %zu bytes", path, max);
		else if (r == -EPROTO)
			ERR("GET %.80s: malformed HTTP response", path);
		else if (r == -EPIPE)
			ERR("GET %.80s: connection closed mid-response", path);
		else
			ERR("GET %.80s: %s", path, strerror(-r));
		free(b->p);
		b->p = NULL;
		return r;
	}
	if (b->p == NULL && dbuf_add(b, "", 0) < 0) {
		ERR("out of memory");
		return -ENOMEM;
	}
	return h.status;
}

/* Inspects id and posts CONTAINER, or REMOVED when the engine does not
 * know it.  Another status or a body that does not parse skips the
 * container (0): one broken container must not keep the others' names
 * from being served, which failing the sync would. */
static int
inspect(struct eng *e, const char *id, bool removed_on_404, char *err,
    size_t errlen)
{
	struct eng_update *u;
	struct dbuf b;
	char path[128];
	int st;

	(void) snprintf(path, sizeof(path), "/containers/%s/json", id);
	if ((st = get(e, path, ENG_INSPECT_MAX, &b, err, errlen)) < 0)
		return st;
	if (st == 404) {
		free(b.p);
		return removed_on_404 ? post_kind(e, ENG_REMOVED, id, NULL) : 0;
	}
	if (st != 200) {
		free(b.p);
		return 0;
	}
	if ((u = calloc(1, sizeof(*u))) == NULL) {
		free(b.p);
		return -ENOMEM;
	}
	u->kind = ENG_CONTAINER;
	st = eng_parse_container(b.p, b.len, &u->c, NULL, 0);
	free(b.p);
	if (st < 0) {
		free(u);
		return st == -ENOMEM ? st : 0;
	}
	return post(e, u);
}

/* Lists and inspects the running containers, between SYNC_BEGIN and
 * SYNC_END. */
static int
sync_all(struct eng *e, char *err, size_t errlen)
{
	char (*ids)[ENG_ID_LEN + 1] = NULL;
	struct dbuf b;
	size_t n = 0;
	int r;

	if ((r = get(e, "/containers/json", ENG_LIST_MAX, &b, err,
	    errlen)) < 0)
		return r;
	if (r != 200) {
		ERR("GET /containers/json: HTTP %d", r);
		free(b.p);
		return -EIO;
	}
	r = eng_parse_list(b.p, b.len, &ids, &n, err, errlen);
	free(b.p);
	if (r < 0)
		return r;
	if ((r = post_kind(e, ENG_SYNC_BEGIN, NULL, NULL)) < 0)
		goto out;
	for (size_t i = 0; i < n; i++)
		if ((r = inspect(e, ids[i], false, err, errlen)) < 0)
			goto out;
	r = post_kind(e, ENG_SYNC_END, NULL, NULL);
out:
	free(ids);
	return r;
}

struct session {
	struct eng	*e;
	char		*err;
	size_t		errlen;
};

/* One line of the events stream. */
static int
on_event(void *arg, const char *line, size_t len)
{
	struct session *s = arg;
	char id[ENG_ID_LEN + 1];
	enum eng_event ev;

	if (eng_parse_event(line, len, &ev, id) < 0 || ev == ENG_EV_IGNORE)
		return 0;
	if (ev == ENG_EV_REMOVED)
		return post_kind(s->e, ENG_REMOVED, id, NULL);
	return inspect(s->e, id, true, s->err, s->errlen);
}

/* Subscribes, syncs, then follows the events until something fails;
 * *synced tells whether the sync got through. */
static int
session(struct eng *e, bool *synced, char *err, size_t errlen)
{
	struct session s = { e, err, errlen };
	struct eng_lines lines;
	struct eng_http h;
	char buf[16384];
	ssize_t n;
	int fd = -1, r;

	*synced = false;
	if ((r = eng_lines_init(&lines, on_event, &s)) < 0) {
		ERR("out of memory");
		return r;
	}
	eng_http_init(&h, 0, eng_lines_feed, &lines);
	/* Events that come with the head are handled there: an inspect
	 * then only repeats what the sync will say. */
	r = start_get(e, EVENTS_PATH, &h, now_ms() + ENG_TIMEOUT_MS, &fd,
	    err, errlen);
	if (r < 0)
		goto out;
	if (h.status != 200) {
		ERR("GET /events: HTTP %d", h.status);
		r = -EIO;
		goto out;
	}
	if ((r = sync_all(e, err, errlen)) < 0)
		goto out;
	*synced = true;
	for (;;) {
		n = recv(fd, buf, sizeof(buf), 0);
		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			if ((r = wait_fd(e, fd, POLLIN, -1)) < 0)
				break;
			continue;
		}
		if (n < 0) {
			r = -errno;
			ERR("events: %s", strerror(-r));
			break;
		}
		if (n == 0) {
			r = -EPIPE;
			ERR("the events stream ended");
			break;
		}
		if ((r = eng_http_feed(&h, buf, (size_t)n)) != 0) {
			if (r > 0) {
				r = -EPIPE;
				ERR("the events stream ended");
			} else if ((r == -EPROTO || r == -EMSGSIZE) &&
			    err[0] == '\0')
				ERR("events: malformed HTTP stream");
			break;
		}
	}
out:
	if (fd >= 0)
		(void) close(fd);
	eng_lines_done(&lines);
	return r;
}

static void *
worker(void *arg)
{
	struct eng *e = arg;
	int backoff = ENG_BACKOFF_MIN_MS, r;
	bool down = false, synced;
	char why[200], msg[256];
	unsigned long ntake;

	for (;;) {
		why[0] = '\0';
		r = session(e, &synced, why, sizeof(why));
		if (r == -ECANCELED)
			break;
		if (synced) {
			backoff = ENG_BACKOFF_MIN_MS;
			down = false;
		}
		if (r == -ENOBUFS) {
			/* The loop is not draining: wait until it takes
			 * (eng_fd() stays readable), then start over with a
			 * full sync. */
			pthread_mutex_lock(&e->mu);
			ntake = e->ntake;
			pthread_mutex_unlock(&e->mu);
			do {
				if (wait_fd(e, -1, 0, now_ms() + 100) ==
				    -ECANCELED)
					return NULL;
				pthread_mutex_lock(&e->mu);
				r = e->ntake == ntake;
				pthread_mutex_unlock(&e->mu);
			} while (r);
			continue;
		}
		if (!down) {
			if (why[0] == '\0')
				(void) snprintf(why, sizeof(why), "%s",
				    strerror(-r));
			(void) snprintf(msg, sizeof(msg), "Docker Engine API "
			    "at %.60s: %s; container names are not served "
			    "until it answers", e->sock, why);
			if (post_kind(e, ENG_DOWN, NULL, msg) == 0)
				down = true;
		}
		if (wait_fd(e, -1, 0, now_ms() + backoff) == -ECANCELED)
			break;
		backoff = backoff * 2 > ENG_BACKOFF_MAX_MS ?
		    ENG_BACKOFF_MAX_MS : backoff * 2;
	}
	return NULL;
}

struct eng *
eng_new(const char *sock_path, char *err, size_t errlen)
{
	sigset_t all, old;
	struct eng *e;
	int r;

	if ((e = calloc(1, sizeof(*e))) == NULL) {
		ERR("out of memory");
		return NULL;
	}
	e->evfd = e->stopfd = -1;
	if (pthread_mutex_init(&e->mu, NULL) != 0) {
		ERR("out of memory");
		free(e);
		return NULL;
	}
	if ((e->sock = strdup(sock_path)) == NULL) {
		ERR("out of memory");
		return eng_free(e);
	}
	e->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	e->stopfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (e->evfd < 0 || e->stopfd < 0) {
		ERR("Failed to create an eventfd: %s", strerror(errno));
		return eng_free(e);
	}
	/* The daemon takes its signals through a signalfd: none may land
	 * on this thread. */
	(void) sigfillset(&all);
	(void) pthread_sigmask(SIG_BLOCK, &all, &old);
	r = pthread_create(&e->thread, NULL, worker, e);
	(void) pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r != 0) {
		ERR("Failed to start the Docker Engine API thread: %s",
		    strerror(r));
		return eng_free(e);
	}
	e->started = true;
	return e;
}

struct eng *
eng_free(struct eng *e)
{
	uint64_t one = 1;

	if (e == NULL)
		return NULL;
	if (e->started) {
		(void) !write(e->stopfd, &one, sizeof(one));
		(void) pthread_join(e->thread, NULL);
	}
	eng_update_free(e->head);
	if (e->evfd >= 0)
		(void) close(e->evfd);
	if (e->stopfd >= 0)
		(void) close(e->stopfd);
	(void) pthread_mutex_destroy(&e->mu);
	free(e->sock);
	free(e);
	return NULL;
}
