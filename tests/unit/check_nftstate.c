/*
 * What the nftables backend reads and writes (firewall/nftstate.c):
 * fw_nft_parse on nft's own JSON, captured from a namespace after the
 * backend applied a case of tests/golden/cases.c (tests/unit/nftstate/,
 * README.md there), also after someone changed the table; fw_nft_diff
 * from what was found to the plan, command by command; and
 * fw_nft_found_update, after which the next diff is empty.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "firewall/nftplan.h"
#include "tests/golden/cases.h"
#include "tests/unit/suites.h"

#define NS_DIR	"tests/unit/nftstate/"
#define LEN(a)	(sizeof(a) / sizeof((a)[0]))

/* --- helpers --------------------------------------------------------------- */

static char *
slurp(const char *name)
{
	char path[256], *buf = NULL;
	size_t len = 0;
	FILE *f;

	snprintf(path, sizeof(path), NS_DIR "%s.json", name);
	f = fopen(path, "r");
	ck_assert_msg(f != NULL, "cannot open %s", path);
	ck_assert_int_gt(getdelim(&buf, &len, '\0', f), 0);
	fclose(f);
	return buf;
}

static void
found_of(const char *name, int family, struct fw_nfound *f)
{
	char *json = slurp(name);

	ck_assert_int_eq(fw_nft_parse(json, family, f), 0);
	free(json);
}

/* The plan of a golden case, or of m. */
static void
plan_model(const struct fw_model *m, bool drop4, struct fw_nplan *p)
{
	char err[256] = "";

	ck_assert_msg(fw_nft_compute(m, drop4, false, p, err,
	    sizeof(err)) == 0, "%s", err);
}

static void
plan_of(const char *golden, bool drop4, struct fw_nplan *p)
{
	const struct golden_case *c = golden_find(golden);

	ck_assert_msg(c != NULL, "no golden case %s", golden);
	plan_model(&c->model, drop4, p);
}

static char *
diff_of(const struct fw_nplan *p, int family, const struct fw_nfound *f)
{
	char *s = NULL;

	ck_assert_int_eq(fw_nft_diff(p, family, f, &s), 0);
	ck_assert_ptr_nonnull(s);
	return s;
}

static void
assert_diff(const struct fw_nplan *p, int family, const struct fw_nfound *f,
    const char *want)
{
	char *s = diff_of(p, family, f);

	ck_assert_str_eq(s, want);
	free(s);
}

/* After the diff ran, the found state says so, and nothing is left. */
static void
assert_converges(const struct fw_nplan *p, int family, struct fw_nfound *f)
{
	ck_assert_int_eq(fw_nft_found_update(f, p, family), 0);
	assert_diff(p, family, f, "");
}

static const struct fw_nchain *
plan_chain(const struct fw_nplan *p, int family, const char *name)
{
	for (size_t i = 0; i < p->nchains; i++)
		if (p->chains[i].family == family &&
		    strcmp(p->chains[i].name, name) == 0)
			return &p->chains[i];
	ck_abort_msg("no chain %s in the plan", name);
	return NULL;
}

/* "add rule ..." of each planned rule of the chain, after head. */
static char *
chain_rules(const struct fw_nplan *p, int family, const char *chain,
    const char *head)
{
	const struct fw_nchain *c = plan_chain(p, family, chain);
	const char *fam = family == AF_INET ? "ip" : "ip6";
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	ck_assert_ptr_nonnull(f);
	fputs(head, f);
	for (size_t i = c->first; i < c->first + c->n; i++)
		fprintf(f, "add rule %s cbridge %s %s\n", fam, chain,
		    p->rules[i].text);
	ck_assert_int_eq(fclose(f), 0);
	return buf;
}

/* The whole table, loaded in one transaction over whatever was there. */
static char *
rebuild(const struct fw_nplan *p, int family)
{
	const char *fam = family == AF_INET ? "ip" : "ip6";
	char *text, *buf;
	size_t n;

	ck_assert_int_eq(fw_nft_format(p, family, &text), 0);
	n = strlen(text) + 64;
	ck_assert_ptr_nonnull(buf = malloc(n));
	snprintf(buf, n, "add table %s cbridge\ndelete table %s cbridge\n%s",
	    fam, fam, text);
	free(text);
	return buf;
}

static struct fw_nfound_chain *
found_chain(struct fw_nfound *f, const char *name)
{
	for (size_t i = 0; i < f->nchains; i++)
		if (strcmp(f->chains[i].name, name) == 0)
			return &f->chains[i];
	ck_abort_msg("no chain %s found", name);
	return NULL;
}

static void
drop_chain(struct fw_nfound *f, const char *name)
{
	struct fw_nfound_chain *c = found_chain(f, name);
	size_t i = (size_t)(c - f->chains);

	free(c->rules);
	memmove(c, c + 1, (f->nchains - i - 1) * sizeof(*c));
	f->nchains--;
}

static void
drop_rule(struct fw_nfound *f, const char *chain, size_t j)
{
	struct fw_nfound_chain *c = found_chain(f, chain);

	ck_assert_uint_lt(j, c->nrules);
	memmove(&c->rules[j], &c->rules[j + 1], (c->nrules - j - 1) *
	    sizeof(*c->rules));
	c->nrules--;
}

static void
drop_elem(struct fw_nfound *f, const char *map, const char *key)
{
	for (size_t i = 0; i < f->nelems; i++)
		if (strcmp(f->elems[i].map, map) == 0 &&
		    strcmp(f->elems[i].key, key) == 0) {
			memmove(&f->elems[i], &f->elems[i + 1],
			    (f->nelems - i - 1) * sizeof(*f->elems));
			f->nelems--;
			return;
		}
	ck_abort_msg("no element %s in %s found", key, map);
}

/* Whether f holds exactly p's family: its maps, elements, chains (hook,
 * priority, policy) and each chain's rules by comment, in order.  Prints
 * the first difference unless what is NULL. */
static bool
same_as_plan(const struct fw_nfound *f, const struct fw_nplan *p,
    int family, const char *what)
{
	size_t nchains = 0, nelems = 0;

	if (!f->table || f->odd || f->nmaps != fw_nft_nmaps) {
		if (what) fprintf(stderr, "%s: table %d, odd %d, %zu maps\n", what,
		    f->table, f->odd, f->nmaps);
		return false;
	}
	for (size_t i = 0; i < fw_nft_nmaps; i++) {
		bool have = false;

		for (size_t k = 0; k < f->nmaps; k++)
			have |= strcmp(f->maps[k], fw_nft_maps[i].name) == 0;
		if (!have) {
			if (what) fprintf(stderr, "%s: no map %s\n", what,
			    fw_nft_maps[i].name);
			return false;
		}
	}
	for (size_t i = 0; i < p->nelems; i++) {
		const struct fw_nelem *e = &p->elems[i];
		bool have = false;

		if (e->family != family)
			continue;
		nelems++;
		for (size_t k = 0; k < f->nelems && !have; k++)
			have = strcmp(f->elems[k].map, e->map) == 0 &&
			    strcmp(f->elems[k].key, e->key) == 0 &&
			    strcmp(f->elems[k].chain, e->chain) == 0 &&
			    f->elems[k].family == family;
		if (!have) {
			if (what) fprintf(stderr, "%s: no element %s { %s : %s }\n",
			    what, e->map, e->key, e->chain);
			return false;
		}
	}
	for (size_t i = 0; i < p->nchains; i++) {
		const struct fw_nchain *c = &p->chains[i];
		const struct fw_nfound_chain *fc = NULL;

		if (c->family != family)
			continue;
		nchains++;
		for (size_t k = 0; k < f->nchains && fc == NULL; k++)
			if (strcmp(f->chains[k].name, c->name) == 0)
				fc = &f->chains[k];
		if (fc == NULL || fc->nrules != c->n ||
		    strcmp(fc->hook, c->hook ? c->hook : "") != 0 ||
		    strcmp(fc->type, c->hook ? c->type : "") != 0 ||
		    (c->hook && (fc->prio != c->prio || fc->drop != c->drop))) {
			if (what) fprintf(stderr, "%s: chain %s differs\n", what,
			    c->name);
			return false;
		}
		for (size_t j = 0; j < c->n; j++)
			if (strcmp(fc->rules[j].comment,
			    p->rules[c->first + j].comment) != 0) {
				if (what) fprintf(stderr, "%s: rule %zu of %s differs\n",
				    what, j, c->name);
				return false;
			}
	}
	if (nchains != f->nchains || nelems != f->nelems) {
		if (what) fprintf(stderr, "%s: %zu chains and %zu elements, not %zu and "
		    "%zu\n", what, f->nchains, f->nelems, nchains, nelems);
		return false;
	}
	return true;
}

/* --- fw_nft_parse ---------------------------------------------------------- */

/* Each capture is read as the plan it came from, every rule with its
 * handle, and there is nothing to do. */
static const struct {
	const char	*file;
	const char	*golden;
	int		family;
} captures[] = {
	{ "default_ip", "default", AF_INET },
	{ "ipv6_ip6", "ipv6", AF_INET6 },
	{ "two_networks_ip", "two_networks", AF_INET },
	{ "docker_bridges_ip", "docker_bridges", AF_INET },
	{ "wsl2_ip", "wsl2", AF_INET },
	{ "ports_ip", "ports", AF_INET },
	{ "trusted_interface_ip", "trusted_interface", AF_INET },
	{ "host_binding_ipv4_ip", "host_binding_ipv4", AF_INET },
	{ "internal_ipv6_ip6", "internal_ipv6", AF_INET6 },
};

START_TEST(capture_is_plan)
{
	struct fw_nfound f;
	struct fw_nplan p;

	plan_of(captures[_i].golden, false, &p);
	found_of(captures[_i].file, captures[_i].family, &f);
	ck_assert(same_as_plan(&f, &p, captures[_i].family,
	    captures[_i].file));
	for (size_t i = 0; i < f.nchains; i++)
		for (size_t j = 0; j < f.chains[i].nrules; j++)
			ck_assert_uint_gt(f.chains[i].rules[j].handle, 0);
	assert_diff(&p, captures[_i].family, &f, "");
	/* What found_update makes of the plan is what was read. */
	fw_nft_found_done(&f);
	ck_assert_int_eq(fw_nft_found_update(&f, &p, captures[_i].family), 0);
	ck_assert(same_as_plan(&f, &p, captures[_i].family, "updated"));
	fw_nft_found_done(&f);
	fw_nft_plan_done(&p);
}
END_TEST

/* Keys as nft writes them: names, addresses, concatenations. */
START_TEST(parse_keys)
{
	static const struct {
		const char *file, *map, *key, *chain;
	} want[] = {
		{ "default_ip", "filter-forward-in-jumps", "br-n1",
		  "filter-forward-in__br-n1" },
		{ "default_ip", "nat-dnat-jumps", "tcp . 8080",
		  "nat-dnat__br-n1" },
		{ "default_ip", "raw-prerouting-jumps", "172.30.0.2",
		  "raw-prerouting__br-n1" },
		{ "host_binding_ipv4_ip", "nat-dnat-addr-jumps",
		  "192.0.2.10 . tcp . 8080", "nat-dnat__br-n1" },
		{ "wsl2_ip", "raw-prerouting-lo-jumps",
		  "127.0.0.1 . tcp . 8080", "raw-prerouting__br-n1" },
		{ "docker_bridges_ip", "docker-bridges", "docker0", "" },
		{ "ipv6_ip6", "raw-prerouting-jumps", "fd00:30::2",
		  "raw-prerouting__br-n1" },
	};

	for (size_t i = 0; i < LEN(want); i++) {
		struct fw_nfound f;
		bool have = false;

		found_of(want[i].file, strstr(want[i].file, "_ip6") ?
		    AF_INET6 : AF_INET, &f);
		for (size_t k = 0; k < f.nelems && !have; k++)
			have = strcmp(f.elems[k].map, want[i].map) == 0 &&
			    strcmp(f.elems[k].key, want[i].key) == 0 &&
			    strcmp(f.elems[k].chain, want[i].chain) == 0;
		ck_assert_msg(have, "%s: no element %s { %s }", want[i].file,
		    want[i].map, want[i].key);
		fw_nft_found_done(&f);
	}
}
END_TEST

START_TEST(parse_rejects)
{
	static const char *const bad[] = {
		"not json",
		"[]",
		"{}",
		"{\"nftables\": {}}",
		"{\"nftables\": [1]}",
		"{\"nftables\": [{}]}",
		"{\"nftables\": [{\"table\": 1}]}",
		/* Another table's object: not what was listed. */
		"{\"nftables\": [{\"table\": {\"family\": \"ip\", \"name\": "
		"\"cbridge\"}}, {\"chain\": {\"family\": \"ip\", \"table\": "
		"\"other\", \"name\": \"x\"}}]}",
		/* A rule of a chain that is not there. */
		"{\"nftables\": [{\"table\": {\"family\": \"ip\", \"name\": "
		"\"cbridge\"}}, {\"rule\": {\"family\": \"ip\", \"table\": "
		"\"cbridge\", \"chain\": \"x\", \"handle\": 3}}]}",
		/* A rule without its handle. */
		"{\"nftables\": [{\"table\": {\"family\": \"ip\", \"name\": "
		"\"cbridge\"}}, {\"chain\": {\"family\": \"ip\", \"table\": "
		"\"cbridge\", \"name\": \"x\"}}, {\"rule\": {\"family\": \"ip\", "
		"\"table\": \"cbridge\", \"chain\": \"x\"}}]}",
		/* A chain without a name. */
		"{\"nftables\": [{\"chain\": {\"family\": \"ip\", \"table\": "
		"\"cbridge\"}}]}",
		/* Duplicate keys. */
		"{\"nftables\": [], \"nftables\": []}",
	};
	struct fw_nfound f;

	for (size_t i = 0; i < LEN(bad); i++) {
		memset(&f, 0xa5, sizeof(f));
		ck_assert_msg(fw_nft_parse(bad[i], AF_INET, &f) == -EBADMSG,
		    "accepted: %s", bad[i]);
		ck_assert_uint_eq(f.nchains, 0);
		ck_assert_ptr_null(f.chains);
		ck_assert(!f.table);
	}
	/* No table: nothing listed. */
	ck_assert_int_eq(fw_nft_parse(NULL, AF_INET, &f), 0);
	ck_assert(!f.table);
	ck_assert_int_eq(fw_nft_parse("", AF_INET6, &f), 0);
	ck_assert(!f.table);
	ck_assert_int_eq(fw_nft_parse("{\"nftables\": [{\"metainfo\": "
	    "{\"json_schema_version\": 1}}]}", AF_INET, &f), 0);
	ck_assert(!f.table);
	fw_nft_found_done(&f);
	ck_assert_int_eq(fw_nft_parse("", 0, &f), -EINVAL);
	fw_nft_found_done(NULL);
}
END_TEST

/* What cbridge never makes: the table goes, whole, in the same
 * transaction that loads the plan. */
START_TEST(odd_rebuilt)
{
	static const struct {
		const char	*file;
		bool		odd;	/* else a base chain's hook differs */
	} odd[] = {
		{ "foreign_set_ip", true },	/* a set not ours */
		{ "dormant_ip", true },		/* flags dormant */
		{ "map_type_ip", true },	/* ipv4_addr : verdict */
		{ "goto_ip", true },		/* an element "goto" */
		{ "named_counter_ip", true },	/* a named counter */
		{ "priority_ip", false },	/* raw-PREROUTING at -200 */
	};
	struct fw_nplan p;
	char *want;

	plan_of("default", false, &p);
	want = rebuild(&p, AF_INET);
	for (size_t i = 0; i < LEN(odd); i++) {
		struct fw_nfound f;

		found_of(odd[i].file, AF_INET, &f);
		ck_assert(f.table);
		ck_assert_msg(f.odd == odd[i].odd, "%s: odd %d", odd[i].file,
		    f.odd);
		assert_diff(&p, AF_INET, &f, want);
		assert_converges(&p, AF_INET, &f);
		fw_nft_found_done(&f);
	}
	free(want);
	fw_nft_plan_done(&p);
}
END_TEST

/* A rule without a comment, or with one not ours, makes its chain differ:
 * flushed and written again, the other chains untouched. */
START_TEST(foreign_rules)
{
	static const struct {
		const char *file, *chain;
	} cases[] = {
		{ "no_comment_ip", "filter-forward-in__br-n1" },
		{ "foreign_comment_ip", "nat-dnat__br-n1" },
	};
	struct fw_nplan p;

	plan_of("default", false, &p);
	for (size_t i = 0; i < LEN(cases); i++) {
		struct fw_nfound f;
		struct fw_nfound_chain *c;
		char head[128], *want;
		size_t foreign = 0;

		found_of(cases[i].file, AF_INET, &f);
		ck_assert(!f.odd);
		c = found_chain(&f, cases[i].chain);
		for (size_t j = 0; j < c->nrules; j++)
			foreign += c->rules[j].comment[0] == '\0';
		ck_assert_uint_eq(foreign, 1);
		snprintf(head, sizeof(head), "flush chain ip cbridge %s\n",
		    cases[i].chain);
		want = chain_rules(&p, AF_INET, cases[i].chain, head);
		assert_diff(&p, AF_INET, &f, want);
		free(want);
		assert_converges(&p, AF_INET, &f);
		fw_nft_found_done(&f);
	}
	fw_nft_plan_done(&p);
}
END_TEST

/* --- fw_nft_diff ----------------------------------------------------------- */

/* What is missing comes back, and nothing else is written. */
START_TEST(missing_restored)
{
	struct fw_nplan p, pd;
	struct fw_nfound f;
	char *want;

	plan_of("default", false, &p);

	found_of("default_ip", AF_INET, &f);
	drop_elem(&f, "filter-forward-in-jumps", "br-n1");
	assert_diff(&p, AF_INET, &f, "add element ip cbridge "
	    "filter-forward-in-jumps { \"br-n1\" : jump "
	    "filter-forward-in__br-n1 }\n");
	assert_converges(&p, AF_INET, &f);
	fw_nft_found_done(&f);

	found_of("default_ip", AF_INET, &f);
	drop_elem(&f, "nat-dnat-jumps", "tcp . 8080");
	drop_elem(&f, "raw-prerouting-jumps", "172.30.0.2");
	assert_diff(&p, AF_INET, &f, "add element ip cbridge nat-dnat-jumps "
	    "{ tcp . 8080 : jump nat-dnat__br-n1 }\n"
	    "add element ip cbridge raw-prerouting-jumps "
	    "{ 172.30.0.2 : jump raw-prerouting__br-n1 }\n");
	fw_nft_found_done(&f);

	/* A regular chain: made, then its rules. */
	found_of("default_ip", AF_INET, &f);
	drop_chain(&f, "nat-dnat__br-n1");
	want = chain_rules(&p, AF_INET, "nat-dnat__br-n1",
	    "add chain ip cbridge nat-dnat__br-n1\n");
	assert_diff(&p, AF_INET, &f, want);
	free(want);
	assert_converges(&p, AF_INET, &f);
	fw_nft_found_done(&f);

	/* A base chain, with its hook. */
	found_of("default_ip", AF_INET, &f);
	drop_chain(&f, "filter-FORWARD");
	want = chain_rules(&p, AF_INET, "filter-FORWARD",
	    "add chain ip cbridge filter-FORWARD { type filter hook forward "
	    "priority 0; policy accept; }\n");
	assert_diff(&p, AF_INET, &f, want);
	free(want);
	fw_nft_found_done(&f);

	/* A rule: its chain is written again. */
	found_of("default_ip", AF_INET, &f);
	drop_rule(&f, "filter-forward-in__br-n1", 1);
	want = chain_rules(&p, AF_INET, "filter-forward-in__br-n1",
	    "flush chain ip cbridge filter-forward-in__br-n1\n");
	assert_diff(&p, AF_INET, &f, want);
	free(want);
	assert_converges(&p, AF_INET, &f);
	fw_nft_found_done(&f);

	/* A set's element, and the empty chain a rule's loss leaves. */
	plan_of("docker_bridges", false, &pd);
	found_of("docker_bridges_ip", AF_INET, &f);
	drop_elem(&f, "docker-bridges", "docker0");
	drop_rule(&f, "nat-dnat__br-n1", 0);
	want = chain_rules(&pd, AF_INET, "nat-dnat__br-n1", "");
	{
		char buf[1024];

		snprintf(buf, sizeof(buf), "%sadd element ip cbridge "
		    "docker-bridges { \"docker0\" }\n", want);
		assert_diff(&pd, AF_INET, &f, buf);
	}
	free(want);
	assert_converges(&pd, AF_INET, &f);
	fw_nft_found_done(&f);
	fw_nft_plan_done(&pd);

	/* A map. */
	found_of("default_ip", AF_INET, &f);
	for (size_t i = 0; i < f.nmaps; i++)
		if (strcmp(f.maps[i], "nat-dnat-addr-jumps") == 0) {
			memmove(&f.maps[i], &f.maps[i + 1], (f.nmaps - i - 1) *
			    sizeof(f.maps[0]));
			f.nmaps--;
			break;
		}
	assert_diff(&p, AF_INET, &f, "add map ip cbridge nat-dnat-addr-jumps "
	    "{ type ipv4_addr . inet_proto . inet_service : verdict; }\n");
	fw_nft_found_done(&f);

	/* The whole table. */
	fw_nft_parse("", AF_INET, &f);
	want = rebuild(&p, AF_INET);
	assert_diff(&p, AF_INET, &f, want);
	free(want);
	assert_converges(&p, AF_INET, &f);
	fw_nft_found_done(&f);
	fw_nft_plan_done(&p);
}
END_TEST

/* A network that went: its elements, then its chains. */
START_TEST(extra_network_deleted)
{
	const struct golden_case *c = golden_find("two_networks");
	struct fw_model m;
	struct fw_nplan p;
	struct fw_nfound f;

	ck_assert_ptr_nonnull(c);
	m = c->model;
	m.nnets = 1;	/* br-n1 and its endpoint stay */
	m.neps = 1;
	plan_model(&m, false, &p);
	found_of("two_networks_ip", AF_INET, &f);
	assert_diff(&p, AF_INET, &f,
	    "flush chain ip cbridge filter-forward-in__br-n2\n"
	    "flush chain ip cbridge filter-forward-out__br-n2\n"
	    "flush chain ip cbridge nat-postrouting-in__br-n2\n"
	    "flush chain ip cbridge nat-postrouting-out__br-n2\n"
	    "flush chain ip cbridge raw-prerouting__br-n2\n"
	    "delete element ip cbridge filter-forward-in-jumps { \"br-n2\" }\n"
	    "delete element ip cbridge filter-forward-out-jumps { \"br-n2\" }\n"
	    "delete element ip cbridge nat-postrouting-in-jumps { \"br-n2\" }\n"
	    "delete element ip cbridge nat-postrouting-out-jumps { \"br-n2\" }\n"
	    "delete element ip cbridge raw-prerouting-jumps { 172.31.0.2 }\n"
	    "delete chain ip cbridge filter-forward-in__br-n2\n"
	    "delete chain ip cbridge filter-forward-out__br-n2\n"
	    "delete chain ip cbridge nat-postrouting-in__br-n2\n"
	    "delete chain ip cbridge nat-postrouting-out__br-n2\n"
	    "delete chain ip cbridge raw-prerouting__br-n2\n");
	assert_converges(&p, AF_INET, &f);
	fw_nft_found_done(&f);
	fw_nft_plan_done(&p);

	/* A chain someone added. */
	plan_of("default", false, &p);
	found_of("extra_chain_ip", AF_INET, &f);
	ck_assert(!f.odd);
	assert_diff(&p, AF_INET, &f, "flush chain ip cbridge foo\n"
	    "delete chain ip cbridge foo\n");
	assert_converges(&p, AF_INET, &f);
	fw_nft_found_done(&f);
	fw_nft_plan_done(&p);
}
END_TEST

/* A rule not ours jumps to a chain not ours, which jumps to another:
 * every flush comes before the first chain is deleted, or the kernel
 * refuses the whole transaction (EBUSY) at every sync. */
START_TEST(foreign_jumps)
{
	struct fw_nplan p;
	struct fw_nfound f;
	char *want;

	plan_of("default", false, &p);
	found_of("foreign_jump_ip", AF_INET, &f);
	ck_assert(!f.odd);
	want = chain_rules(&p, AF_INET, "filter-forward-in__br-n1",
	    "flush chain ip cbridge filter-forward-in__br-n1\n"
	    "flush chain ip cbridge bar\n"
	    "flush chain ip cbridge foo\n"
	    "delete chain ip cbridge bar\n"
	    "delete chain ip cbridge foo\n");
	assert_diff(&p, AF_INET, &f, want);
	free(want);
	assert_converges(&p, AF_INET, &f);
	fw_nft_found_done(&f);
	fw_nft_plan_done(&p);
}
END_TEST

/* A rule that changed (ICC off): its chain only is written again. */
START_TEST(changed_rule_rewritten)
{
	struct fw_nplan p;
	struct fw_nfound f;
	char *want;

	plan_of("icc_off", false, &p);
	found_of("default_ip", AF_INET, &f);
	want = chain_rules(&p, AF_INET, "filter-forward-in__br-n1",
	    "flush chain ip cbridge filter-forward-in__br-n1\n");
	assert_diff(&p, AF_INET, &f, want);
	free(want);
	assert_converges(&p, AF_INET, &f);
	fw_nft_found_done(&f);
	fw_nft_plan_done(&p);
}
END_TEST

/* A base chain's policy is changed in place, either way. */
START_TEST(policy_updated)
{
	static const char drop[] = "add chain ip cbridge filter-FORWARD "
	    "{ type filter hook forward priority 0; policy drop; }\n";
	static const char accept[] = "add chain ip cbridge filter-FORWARD "
	    "{ type filter hook forward priority 0; policy accept; }\n";
	struct fw_nplan p;
	struct fw_nfound f;

	plan_of("default", true, &p);
	found_of("default_ip", AF_INET, &f);
	assert_diff(&p, AF_INET, &f, drop);
	assert_converges(&p, AF_INET, &f);
	fw_nft_found_done(&f);
	found_of("policy_drop_ip", AF_INET, &f);
	ck_assert(found_chain(&f, "filter-FORWARD")->drop);
	assert_diff(&p, AF_INET, &f, "");
	fw_nft_found_done(&f);
	fw_nft_plan_done(&p);

	plan_of("default", false, &p);
	found_of("policy_drop_ip", AF_INET, &f);
	assert_diff(&p, AF_INET, &f, accept);
	assert_converges(&p, AF_INET, &f);
	fw_nft_found_done(&f);
	fw_nft_plan_done(&p);
}
END_TEST

/* No network of a family: no table of it. */
START_TEST(no_table_without_network)
{
	struct fw_model empty = { 0 };
	struct fw_nplan p;
	struct fw_nfound f;

	plan_of("default", false, &p);		/* IPv4 only */
	ck_assert(p.family[0] && !p.family[1]);
	fw_nft_parse(NULL, AF_INET6, &f);
	assert_diff(&p, AF_INET6, &f, "");
	found_of("ipv6_ip6", AF_INET6, &f);
	assert_diff(&p, AF_INET6, &f, "delete table ip6 cbridge\n");
	assert_converges(&p, AF_INET6, &f);
	ck_assert(!f.table);
	fw_nft_found_done(&f);
	fw_nft_plan_done(&p);

	plan_model(&empty, false, &p);
	ck_assert(!p.family[0] && !p.family[1]);
	found_of("two_networks_ip", AF_INET, &f);
	assert_diff(&p, AF_INET, &f, "delete table ip cbridge\n");
	assert_converges(&p, AF_INET, &f);
	fw_nft_found_done(&f);
	/* Odd or not, it goes the same way. */
	found_of("dormant_ip", AF_INET, &f);
	assert_diff(&p, AF_INET, &f, "delete table ip cbridge\n");
	fw_nft_found_done(&f);
	fw_nft_plan_done(&p);
}
END_TEST

/* From any state read, one diff and its update reach the plan: every
 * capture against every plan of its family. */
static const char *const changed[] = { "foreign_set_ip", "dormant_ip",
	"map_type_ip", "goto_ip", "no_comment_ip", "foreign_comment_ip",
	"extra_chain_ip", "named_counter_ip", "policy_drop_ip",
	"priority_ip", "foreign_jump_ip" };

START_TEST(any_to_any)
{
	const char *file = _i < (int)LEN(captures) ? captures[_i].file :
	    changed[_i - (int)LEN(captures)];
	int family = strstr(file, "_ip6") != NULL ? AF_INET6 : AF_INET;
	int fi = family == AF_INET6;

	for (size_t i = 0; i < LEN(captures); i++) {
		struct fw_nplan p;
		struct fw_nfound f;
		bool same;
		char *s;

		plan_of(captures[i].golden, false, &p);
		found_of(file, family, &f);
		same = p.family[fi] ? same_as_plan(&f, &p, family, NULL) :
		    !f.table;
		s = diff_of(&p, family, &f);
		/* Something to do exactly when the states differ. */
		ck_assert_msg((s[0] == '\0') == same, "%s against %s: %s",
		    file, captures[i].golden, s);
		free(s);
		assert_converges(&p, family, &f);
		if (p.family[fi])
			ck_assert(same_as_plan(&f, &p, family, "updated"));
		fw_nft_found_done(&f);
		fw_nft_plan_done(&p);
	}
}
END_TEST

/* --- syncs that change only networks (fw_nft_incr) ------------------------- */

/* a and b remember the same tables: the same networks, each with the
 * same chains (rules by comment, in order) and elements. */
static void
mem_same(const struct fw_nmem *a, const struct fw_nmem *b, const char *what)
{
	ck_assert_msg(a->valid && b->valid, "%s: a memory is not valid", what);
	ck_assert_msg(a->nnets == b->nnets, "%s: %zu networks, want %zu",
	    what, a->nnets, b->nnets);
	for (size_t i = 0; i < a->nnets; i++) {
		const struct fw_nnet *x = &a->nets[i], *y = &b->nets[i];

		ck_assert_str_eq(x->net.id, y->net.id);
		ck_assert_uint_eq(x->neps, y->neps);
		ck_assert_uint_eq(x->nports, y->nports);
		for (size_t f = 0; f < 2; f++) {
			const struct fw_nfound *u = &x->made[f],
			    *v = &y->made[f];

			ck_assert_msg(u->nchains == v->nchains, "%s: network "
			    "%.12s has %zu chains, want %zu", what, x->net.id,
			    u->nchains, v->nchains);
			for (size_t c = 0; c < u->nchains; c++) {
				ck_assert_str_eq(u->chains[c].name,
				    v->chains[c].name);
				ck_assert_uint_eq(u->chains[c].nrules,
				    v->chains[c].nrules);
				for (size_t r = 0; r < u->chains[c].nrules; r++)
					ck_assert_str_eq(
					    u->chains[c].rules[r].comment,
					    v->chains[c].rules[r].comment);
			}
			ck_assert_uint_eq(u->nelems, v->nelems);
			for (size_t e = 0; e < u->nelems; e++) {
				ck_assert_str_eq(u->elems[e].map,
				    v->elems[e].map);
				ck_assert_str_eq(u->elems[e].key,
				    v->elems[e].key);
				ck_assert_str_eq(u->elems[e].chain,
				    v->elems[e].chain);
			}
		}
	}
}

/* The memory of tables that hold m's whole plan. */
static void
mem_of(const struct fw_model *m, bool drop4, struct fw_nmem *mem)
{
	struct fw_nplan p;

	plan_model(m, drop4, &p);
	ck_assert_int_eq(fw_nft_mem_build(m, drop4, false, &p, mem), 0);
	fw_nft_plan_done(&p);
}

/* From every golden case to every other: where the base is the same
 * the incremental sync leaves the memory a whole plan of the target
 * would, and writes nothing when nothing changed. */
START_TEST(incr_any_to_any)
{
	const struct golden_case *a = &golden_cases[_i];

	for (const struct golden_case *b = golden_cases; b->name != NULL;
	    b++) {
		struct fw_nmem mem = { 0 }, want = { 0 };
		char err[256] = "", *script = NULL, what[96];
		int r;

		snprintf(what, sizeof(what), "%s -> %s", a->name, b->name);
		mem_of(&a->model, false, &mem);
		r = fw_nft_incr(&mem, &b->model, false, false, &script, err,
		    sizeof(err));
		ck_assert_msg(r >= 0, "%s: %s", what, err);
		if (r == 1) {
			mem_of(&b->model, false, &want);
			mem_same(&mem, &want, what);
			ck_assert_msg((script[0] == '\0') == (a == b),
			    "%s: script '%s'", what, script);
		} else
			ck_assert_msg(a != b, "%s: the same base planned whole",
			    what);
		free(script);
		fw_nft_mem_done(&mem);
		fw_nft_mem_done(&want);
	}
}
END_TEST

/* ports, plus a second network made from its first. */
struct two {
	struct fw_net	nets[2];
	struct fw_ep	eps[8];
	struct fw_port	ports[16];
	struct fw_model	m;
};

static void
two_of(const struct fw_model *base, struct two *t)
{
	ck_assert_uint_eq(base->nnets, 1);
	ck_assert_uint_le(base->neps, LEN(t->eps) / 2);
	ck_assert_uint_le(base->nports, LEN(t->ports) / 2);
	memset(t, 0, sizeof(*t));
	t->m = *base;
	t->nets[0] = base->nets[0];
	t->nets[1] = base->nets[0];
	memset(t->nets[1].id, 'e', 12);
	snprintf(t->nets[1].bridge, sizeof(t->nets[1].bridge), "br-two");
	t->nets[1].subnet4.addr[1] ^= 0x40;
	memcpy(t->eps, base->eps, base->neps * sizeof(*t->eps));
	for (size_t i = 0; i < base->neps; i++) {
		t->eps[base->neps + i] = base->eps[i];
		memcpy(t->eps[base->neps + i].net_id, t->nets[1].id,
		    sizeof(t->nets[1].id));
		t->eps[base->neps + i].addr4.addr[1] ^= 0x40;
	}
	memcpy(t->ports, base->ports, base->nports * sizeof(*t->ports));
	for (size_t i = 0; i < base->nports; i++) {
		struct fw_port *p = &t->ports[base->nports + i];

		*p = base->ports[i];
		memcpy(p->net_id, t->nets[1].id, sizeof(t->nets[1].id));
		p->host_port = (unsigned short)(p->host_port + 1000);
		if (p->family == AF_INET)
			p->cip.addr[1] ^= 0x40;
	}
	t->m.nets = t->nets;
	t->m.nnets = 2;
	t->m.eps = t->eps;
	t->m.neps = 2 * base->neps;
	t->m.ports = t->ports;
	t->m.nports = 2 * base->nports;
}

/* a and b are both in s, a first. */
static void
before(const char *s, const char *a, const char *b)
{
	const char *x = strstr(s, a), *y = strstr(s, b);

	ck_assert_msg(x != NULL && y != NULL && x < y, "'%s' not before "
	    "'%s' in:\n%s", a, b, s);
}

static char *
incr(struct fw_nmem *mem, const struct fw_model *m, bool drop4)
{
	char err[256] = "", *script = NULL;

	ck_assert_msg(fw_nft_incr(mem, m, drop4, false, &script, err,
	    sizeof(err)) == 1, "planned whole: %s", err);
	return script;
}

/* A network added, a port moved, a network removed: each sync writes
 * that network alone, in the order the kernel needs. */
START_TEST(incr_one_network)
{
	const struct golden_case *c = golden_find("ports");
	struct fw_nmem mem = { 0 }, want = { 0 };
	struct two t;
	char *s;
	const char *del;

	ck_assert_ptr_nonnull(c);
	two_of(&c->model, &t);
	mem_of(&c->model, false, &mem);

	/* Added: its chains, rules and elements, nothing of br-n1's. */
	s = incr(&mem, &t.m, false);
	ck_assert_ptr_nonnull(strstr(s, "add chain ip cbridge "
	    "filter-forward-in__br-two\n"));
	ck_assert_ptr_nonnull(strstr(s, "add element ip cbridge "
	    "filter-forward-in-jumps { \"br-two\" : jump "
	    "filter-forward-in__br-two }\n"));
	ck_assert_ptr_null(strstr(s, "br-n1"));
	ck_assert_ptr_null(strstr(s, "delete "));
	ck_assert_ptr_null(strstr(s, "flush "));
	/* Chains before the rules and elements that use them. */
	before(s, "add chain ip cbridge nat-dnat__br-two\n",
	    "add rule ip cbridge nat-dnat__br-two ");
	before(s, "add rule ip cbridge nat-dnat__br-two ",
	    "add element ip cbridge nat-dnat-jumps");
	free(s);
	mem_of(&t.m, false, &want);
	mem_same(&mem, &want, "added");
	fw_nft_mem_done(&want);

	/* Unchanged: nothing. */
	s = incr(&mem, &t.m, false);
	ck_assert_str_eq(s, "");
	free(s);

	/* One host port of br-two's moved: its DNAT chain is written again
	 * and its element swapped; no other chain is touched. */
	t.ports[c->model.nports].host_port++;
	s = incr(&mem, &t.m, false);
	ck_assert_ptr_nonnull(strstr(s, "flush chain ip cbridge "
	    "nat-dnat__br-two\n"));
	ck_assert_ptr_null(strstr(s, "br-n1"));
	ck_assert_ptr_null(strstr(s, "flush chain ip cbridge "
	    "filter-forward-out__br-two"));
	ck_assert_ptr_null(strstr(s, "add chain "));
	ck_assert_ptr_nonnull(strstr(s, "delete element ip cbridge "));
	free(s);
	mem_of(&t.m, false, &want);
	mem_same(&mem, &want, "moved");
	fw_nft_mem_done(&want);

	/* br-n1 removed: flushed, its elements out, then its chains. */
	t.m.nets = &t.nets[1];
	t.m.nnets = 1;
	t.m.eps = &t.eps[c->model.neps];
	t.m.neps = c->model.neps;
	t.m.ports = &t.ports[c->model.nports];
	t.m.nports = c->model.nports;
	s = incr(&mem, &t.m, false);
	ck_assert_ptr_null(strstr(s, "br-two"));
	ck_assert_ptr_null(strstr(s, "add "));
	del = "delete chain ip cbridge filter-forward-in__br-n1\n";
	before(s, "flush chain ip cbridge filter-forward-in__br-n1\n", del);
	before(s, "delete element ip cbridge filter-forward-in-jumps "
	    "{ \"br-n1\" }\n", del);
	free(s);
	mem_of(&t.m, false, &want);
	mem_same(&mem, &want, "removed");
	fw_nft_mem_done(&want);
	fw_nft_mem_done(&mem);
}
END_TEST

/* What the base is planned from changed: 0, plan whole. */
START_TEST(incr_base_changed)
{
	const struct golden_case *c = golden_find("two_networks"),
	    *d = golden_find("docker_bridges");
	struct fw_model m;
	struct fw_nmem mem = { 0 };
	char err[256] = "", *s = NULL;

	ck_assert_ptr_nonnull(c);
	ck_assert_ptr_nonnull(d);
	mem_of(&c->model, false, &mem);
	ck_assert_int_eq(fw_nft_incr(&mem, &c->model, true, false, &s, err,
	    sizeof(err)), 0);
	m = c->model;
	m.wsl2 = !m.wsl2;
	ck_assert_int_eq(fw_nft_incr(&mem, &m, false, false, &s, err,
	    sizeof(err)), 0);
	m = c->model;
	m.docker4 = d->model.docker4;
	ck_assert_int_eq(fw_nft_incr(&mem, &m, false, false, &s, err,
	    sizeof(err)), 0);
	ck_assert_ptr_null(s);
	/* Still good for the model it was made from. */
	ck_assert_int_eq(fw_nft_incr(&mem, &c->model, false, false, &s, err,
	    sizeof(err)), 1);
	ck_assert_str_eq(s, "");
	free(s);
	/* A memory that is not valid plans whole. */
	mem.valid = false;
	s = NULL;
	ck_assert_int_eq(fw_nft_incr(&mem, &c->model, false, false, &s, err,
	    sizeof(err)), 0);
	fw_nft_mem_done(&mem);
}
END_TEST

/* No network at all: a memory of nothing, and nothing to write. */
START_TEST(incr_empty)
{
	const struct fw_model empty = { 0 };
	struct fw_nmem mem = { 0 };
	char *s;

	mem_of(&empty, false, &mem);
	ck_assert(mem.valid);
	ck_assert_uint_eq(mem.nnets, 0);
	s = incr(&mem, &empty, false);
	ck_assert_str_eq(s, "");
	free(s);
	fw_nft_mem_done(&mem);
}
END_TEST

static int
ncases(void)
{
	int n = 0;

	while (golden_cases[n].name != NULL)
		n++;
	return n;
}

Suite *
nftstate_suite(void)
{
	Suite *s = suite_create("nftstate");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, capture_is_plan, 0, (int)LEN(captures));
	tcase_add_test(tc, parse_keys);
	tcase_add_test(tc, parse_rejects);
	tcase_add_test(tc, odd_rebuilt);
	tcase_add_test(tc, foreign_rules);
	tcase_add_test(tc, missing_restored);
	tcase_add_test(tc, extra_network_deleted);
	tcase_add_test(tc, foreign_jumps);
	tcase_add_test(tc, changed_rule_rewritten);
	tcase_add_test(tc, policy_updated);
	tcase_add_test(tc, no_table_without_network);
	tcase_add_loop_test(tc, any_to_any, 0, (int)(LEN(captures) +
	    LEN(changed)));
	tcase_add_loop_test(tc, incr_any_to_any, 0, ncases());
	tcase_add_test(tc, incr_one_network);
	tcase_add_test(tc, incr_base_changed);
	tcase_add_test(tc, incr_empty);
	suite_add_tcase(s, tc);
	return s;
}
