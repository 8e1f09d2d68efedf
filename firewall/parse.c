/*
 * Reads the JSON that libnftables prints for `list tables`, `list chains`
 * and `list chain` (schema version 1: {"nftables": [{"metainfo": ...},
 * {"table": ...}, {"chain": ...}, {"rule": ...}]}).  Pure, so that it is
 * unit-tested on captured output.  Objects and keys it does not know are
 * skipped: newer nft versions add some.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "firewall/common.h"

/* The "nftables" array of the document, or NULL.  *ret_root owns it. */
static json_t *
load_array(const char *json, json_t **ret_root)
{
	json_error_t jerr;
	json_t *root, *arr;

	if (json == NULL)
		return NULL;
	root = json_loads(json, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL)
		return NULL;
	arr = json_object_get(root, "nftables");
	if (!json_is_array(arr)) {
		json_decref(root);
		return NULL;
	}
	*ret_root = root;
	return arr;
}

/* The string value of key in obj, or NULL when missing or not a string. */
static const char *
get_str(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

static bool
str_is(const json_t *obj, const char *key, const char *want)
{
	const char *s = get_str(obj, key);

	return s != NULL && strcmp(s, want) == 0;
}

/* The host record for the "family" member of obj, or NULL for a family
 * other than ip and ip6. */
static struct fw_host *
host_for(const json_t *obj, struct fw_host *host4, struct fw_host *host6)
{
	if (str_is(obj, "family", "ip"))
		return host4;
	if (str_is(obj, "family", "ip6"))
		return host6;
	return NULL;
}

int
fw_parse_host(const char *json, struct fw_host *host4, struct fw_host *host6)
{
	json_t *root = NULL, *arr, *item;
	size_t i;

	if ((arr = load_array(json, &root)) == NULL)
		return -EBADMSG;
	json_array_foreach(arr, i, item) {
		const json_t *t = json_object_get(item, "table");
		const json_t *c = json_object_get(item, "chain");
		struct fw_host *h;

		if (json_is_object(t)) {
			if (str_is(t, "name", FW_TABLE) &&
			    (h = host_for(t, host4, host6)) != NULL)
				h->has_table = true;
		} else if (json_is_object(c)) {
			if ((h = host_for(c, host4, host6)) == NULL)
				continue;
			/* Docker 29's: only its base chain on the forward
			 * hook drops what it does not accept. */
			if (str_is(c, "table", FW_TABLE_DOCKER_NFT)) {
				if (str_is(c, "name", FW_CHAIN_DOCKER_FORWARD) &&
				    str_is(c, "hook", "forward"))
					h->has_docker_forward = true;
				continue;
			}
			if (!str_is(c, "table", FW_TABLE))
				continue;
			/* A chain implies its table. */
			h->has_table = true;
			if (str_is(c, "name", FW_CHAIN_DOCKER_USER))
				h->has_docker_user = true;
			else if (str_is(c, "name", FW_CHAIN_FORWARD))
				h->has_forward = true;
			else if (str_is(c, "name", FW_CHAIN_ISOLATION))
				h->has_isolation = true;
		}
	}
	json_decref(root);
	return 0;
}

/* The network ID in a comment of ours, or NULL when comment is not
 * exactly "cbridge:" followed by an ID. */
static const char *
comment_id(const char *comment)
{
	size_t plen = sizeof(FW_COMMENT_PREFIX) - 1;

	if (comment == NULL || strlen(comment) != FW_COMMENT_LEN ||
	    strncmp(comment, FW_COMMENT_PREFIX, plen) != 0 ||
	    !fw_valid_id(comment + plen))
		return NULL;
	return comment + plen;
}

/* Copies the interface name of {"match": {"op": "==", "left": {"meta":
 * {"key": key}}, "right": NAME}} into buf; false for any other shape. */
static bool
ifname_match(const json_t *e, const char *key, char *buf, size_t len)
{
	const json_t *m = json_object_get(e, "match");
	const json_t *meta;
	const char *name;

	if (!json_is_object(m) || json_object_size(e) != 1 ||
	    !str_is(m, "op", "=="))
		return false;
	meta = json_object_get(json_object_get(m, "left"), "meta");
	if (!str_is(meta, "key", key) || json_object_size(meta) != 1)
		return false;
	name = get_str(m, "right");
	/* Only names cbridge could have written; "br*" is a wildcard. */
	if (!fw_valid_ifname(name) || strlen(name) >= len)
		return false;
	memcpy(buf, name, strlen(name) + 1);
	return true;
}

/* Fills r->iif or r->oif when expr is exactly one of the two rules
 * cbridge writes: iifname "X" counter accept, or oifname "X" counter
 * accept.  Leaves both empty for any other shape, so that the planner
 * replaces the rule. */
static void
read_expr(const json_t *expr, struct fw_rule *r)
{
	const json_t *counter, *accept;
	char name[FW_IFNAMSIZ] = { 0 };

	if (!json_is_array(expr) || json_array_size(expr) != 3)
		return;
	counter = json_array_get(expr, 1);
	accept = json_array_get(expr, 2);
	if (json_object_size(counter) != 1 ||
	    json_object_get(counter, "counter") == NULL ||
	    json_object_size(accept) != 1 ||
	    !json_is_null(json_object_get(accept, "accept")))
		return;
	if (ifname_match(json_array_get(expr, 0), "iifname", name,
	    sizeof(name)))
		memcpy(r->iif, name, sizeof(name));
	else if (ifname_match(json_array_get(expr, 0), "oifname", name,
	    sizeof(name)))
		memcpy(r->oif, name, sizeof(name));
}

/* Whether item is a rule of chain <fam> <table> <chain>. */
static bool
rule_of(const json_t *item, const char *fam, const char *table,
    const char *chain)
{
	const json_t *o = json_object_get(item, "rule");

	return json_is_object(o) && str_is(o, "family", fam) &&
	    str_is(o, "table", table) && str_is(o, "chain", chain);
}

int
fw_parse_rules(const char *json, int family, const char *chain,
    struct fw_rule_vec *vec)
{
	const char *fam = fw_family_name(family);
	const char *table = fw_chain_table(chain);
	json_t *root = NULL, *arr, *item;
	size_t i, last_other = 0, n0 = vec->n;
	bool ours_last;
	int r = 0;

	if (fam == NULL || table == NULL ||
	    strlen(chain) >= sizeof(vec->v[0].chain))
		return -EINVAL;
	if ((arr = load_array(json, &root)) == NULL)
		return -EBADMSG;
	/* In Docker's filter-FORWARD ours go after every other rule: nft
	 * lists a chain's rules in their order, so the last rule that is not
	 * ours (one past its index) bounds the place of ours. */
	ours_last = strcmp(chain, FW_CHAIN_DOCKER_FORWARD) == 0;
	json_array_foreach(arr, i, item)
		if (ours_last && rule_of(item, fam, table, chain) &&
		    comment_id(get_str(json_object_get(item, "rule"),
		    "comment")) == NULL)
			last_other = i + 1;
	json_array_foreach(arr, i, item) {
		const json_t *o = json_object_get(item, "rule");
		const json_t *h;
		const char *id;
		struct fw_rule rule;

		if (!rule_of(item, fam, table, chain))
			continue;
		if ((id = comment_id(get_str(o, "comment"))) == NULL)
			continue;
		h = json_object_get(o, "handle");
		/* Without a handle it could not be deleted; nft always
		 * prints one when asked to. */
		if (!json_is_integer(h) || json_integer_value(h) <= 0) {
			r = -EBADMSG;
			goto out;
		}
		memset(&rule, 0, sizeof(rule));
		rule.family = family;
		memcpy(rule.chain, chain, strlen(chain) + 1);
		memcpy(rule.id, id, FW_ID_LEN);
		rule.handle = (unsigned long long)json_integer_value(h);
		rule.misplaced = i < last_other;
		read_expr(json_object_get(o, "expr"), &rule);
		if ((r = fw_rule_vec_push(vec, &rule)) < 0)
			goto out;
	}
out:
	/* All or nothing. */
	if (r < 0)
		vec->n = n0;
	json_decref(root);
	return r;
}

static bool
has_name(const struct fw_ifnames *names, const char *name)
{
	for (size_t i = 0; i < names->n; i++)
		if (strcmp(names->v[i], name) == 0)
			return true;
	return false;
}

int
fw_parse_docker_bridges(const char *json, int family,
    struct fw_ifnames *names)
{
	const char *fam = fw_family_name(family);
	json_t *root = NULL, *arr, *item;
	size_t i, n0 = names->n;
	int r = 0;

	if (fam == NULL)
		return -EINVAL;
	if ((arr = load_array(json, &root)) == NULL)
		return -EBADMSG;
	json_array_foreach(arr, i, item) {
		const json_t *o = json_object_get(item, "rule");
		const json_t *first;
		char name[FW_IFNAMSIZ];

		if (!json_is_object(o) || !str_is(o, "family", fam) ||
		    !str_is(o, "table", FW_TABLE) ||
		    !str_is(o, "chain", FW_CHAIN_ISOLATION) ||
		    json_object_get(o, "comment") != NULL)
			continue;
		first = json_array_get(json_object_get(o, "expr"), 0);
		if (!ifname_match(first, "iifname", name, sizeof(name)) &&
		    !ifname_match(first, "oifname", name, sizeof(name)))
			continue;
		if ((r = fw_ifnames_add(names, name)) < 0)
			goto out;
	}
out:
	if (r < 0)
		names->n = n0;
	json_decref(root);
	return r;
}

int
fw_ifnames_add(struct fw_ifnames *names, const char *name)
{
	void *v;

	if (!fw_valid_ifname(name) || has_name(names, name))
		return 0;
	if ((v = realloc(names->v, (names->n + 1) * sizeof(names->v[0]))) ==
	    NULL)
		return -ENOMEM;
	names->v = v;
	(void) snprintf(names->v[names->n++], FW_IFNAMSIZ, "%s", name);
	return 0;
}

void
fw_ifnames_done(struct fw_ifnames *names)
{
	if (names == NULL)
		return;
	free(names->v);
	names->v = NULL;
	names->n = 0;
}

/* Is rule o exactly a "return" (counters aside), without a comment? */
static bool
is_plain_return(const json_t *o)
{
	const json_t *expr = json_object_get(o, "expr");
	size_t i, n = json_array_size(expr);

	if (json_object_get(o, "comment") != NULL || n == 0)
		return false;
	for (i = 0; i + 1 < n; i++)
		if (json_object_get(json_array_get(expr, i), "counter") == NULL)
			return false;
	return json_object_size(json_array_get(expr, n - 1)) == 1 &&
	    json_is_null(json_object_get(json_array_get(expr, n - 1),
	    "return"));
}

unsigned long long
fw_parse_final_return(const char *json)
{
	unsigned long long handle = 0;
	json_t *root = NULL, *arr, *item;
	size_t i;

	if ((arr = load_array(json, &root)) == NULL)
		return 0;
	/* The last one: anything after dockerd's return is never reached. */
	json_array_foreach(arr, i, item) {
		const json_t *o = json_object_get(item, "rule");
		const json_t *h = json_object_get(o, "handle");

		if (json_is_object(o) && is_plain_return(o) &&
		    json_is_integer(h) && json_integer_value(h) > 0)
			handle = (unsigned long long)json_integer_value(h);
	}
	json_decref(root);
	return handle;
}
