/*
 * The iptables planner (firewall/rules.c) against Docker's own rules, an
 * oracle cbridge did not write.  Each vector in tests/golden/docker/ is
 * what Docker 28.3 writes for one setup, taken from moby's documentation
 * and test files (tests/golden/README.md says which, and how they are
 * normalised).  Each scenario below builds the matching model, plans it,
 * normalises the plan the same way (comments stripped, the model's
 * bridges and addresses as placeholders) and compares table by table and
 * chain by chain.  A difference passes only as one of the named
 * exceptions, the table of tests/golden/README.md; an exception that no
 * longer applies fails too, so that table stays true.
 */
#include <dirent.h>
#include <fnmatch.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "firewall/firewall.h"
#include "tests/golden/cases.h"
#include "tests/unit/suites.h"

#define DG_DIR		"tests/golden/docker/"
#define DG_LINELEN	320
#define DG_SECTLEN	16
#define DG_MAXNAMES	32
#define DG_MAXUNCHECKED	8

#define DG_V4		0x1
#define DG_V6		0x2

enum dg_kind {
	DG_EXTRA,	/* cbridge writes the rule, Docker does not */
	DG_MISSING,	/* Docker writes the rule, cbridge does not */
	DG_COMMENT,	/* cbridge adds this match to every rule */
	DG_PROXY,	/* a rule Docker writes only with its userland proxy */
};

struct dg_exception {
	const char	*name;	/* the row of tests/golden/README.md */
	enum dg_kind	kind;
	bool		open;	/* a known bug, not a choice */
	bool		every;	/* expected in every scenario */
	const char	*table;	/* "raw", "nat", "filter" */
	int		family;	/* AF_INET, AF_INET6, 0: both */
	/* The normalised rule; DG_PROXY: an fnmatch(3) pattern of one;
	 * DG_COMMENT: the start of the match, up to its text. */
	const char	*rule;
};

/* One entry per rule; entries of one exception share its name. */
static const struct dg_exception exceptions[] = {
	{ "comments", DG_COMMENT, false, true, NULL, 0,
	  " -m comment --comment \"" FW_COMMENT_PREFIX },
	{ "isolation_dnat_return", DG_EXTRA, false, true, "filter", 0,
	  "-A DOCKER-ISOLATION-STAGE-2 -m conntrack --ctstate DNAT -j RETURN" },
	{ "loopback_return", DG_EXTRA, false, true, "nat", AF_INET,
	  "-A DOCKER -d 127.0.0.0/8 -j RETURN" },
	{ "loopback_return", DG_EXTRA, false, false, "nat", AF_INET6,
	  "-A DOCKER -d ::1/128 -j RETURN" },
	{ "no_proxy", DG_PROXY, false, true, "nat", AF_INET,
	  "-A OUTPUT ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j DOCKER" },
	{ "no_proxy", DG_PROXY, false, true, "nat", AF_INET6,
	  "-A OUTPUT ! -d ::1/128 -m addrtype --dst-type LOCAL -j DOCKER" },
	{ "no_proxy", DG_PROXY, false, true, "nat", 0,
	  "-A DOCKER -i <br*> -j RETURN" },
	{ "no_proxy", DG_PROXY, false, true, "nat", 0,
	  "-A DOCKER *! -i <br*> *-j DNAT *" },
	{ "no_proxy", DG_PROXY, false, true, "nat", AF_INET,
	  "-A DOCKER -d 127.0.0.0/8 -i loopback0 -j RETURN" },
};
#define NEXC	(sizeof(exceptions) / sizeof(exceptions[0]))

/* The exceptions a comparison allows: exceptions[], or in the test of
 * the comparison itself, a copy with one more. */
struct dg_exctab {
	const struct dg_exception	*v;
	size_t				n;
};

static const struct dg_exctab all_exceptions = { exceptions, NEXC };

/* --- the models ---------------------------------------------------------- */

#define ID1 "1111111111111111111111111111111111111111111111111111111111111111"
#define ID2 "2222222222222222222222222222222222222222222222222222222222222222"
#define ID3 "3333333333333333333333333333333333333333333333333333333333333333"

/* Binary addresses, network order, as the driver passes them. */
#define V4(a, b, c, d, l) { .family = AF_INET, .addr = { a, b, c, d }, \
	.plen = (l) }
#define A4(a, b, c, d) V4(a, b, c, d, 32)
/* fd00:<x>::<last>/<l> */
#define V6(x, last, l) { .family = AF_INET6, .addr = { 0xfd, 0x00, 0x00, \
	(x), [15] = (last) }, .plen = (l) }
#define LO4	A4(127, 0, 0, 1)
#define LO6	{ .family = AF_INET6, .addr = { [15] = 1 }, .plen = 128 }

/* As tests/golden/cases.c: 172.30.0.0/24 and fd00:30::/64 on br-n1. */
#define NET1_BASE .id = ID1, .bridge = "br-n1", .ipv4 = true, \
	.subnet4 = V4(172, 30, 0, 0, 24)
#define NET1	NET1_BASE, .icc = true, .masquerade = true
#define DUAL	.ipv6 = true, .subnet6 = V6(0x30, 0, 64)
#define CIP4	A4(172, 30, 0, 2)
#define CIP6	V6(0x30, 2, 128)
#define TCP(fam, hip, addr) { .net_id = ID1, .family = (fam), \
	.proto = IPPROTO_TCP, .host_ip = hip, .host_port = 8080, \
	.cip = addr, .cport = 80 }

#define LEN(a)	(sizeof(a) / sizeof((a)[0]))
#define MODEL(n, e, p) { .nets = (n), .nnets = LEN(n), .eps = (e), \
	.neps = LEN(e), .ports = (p), .nports = LEN(p) }

static const struct fw_ep ep4[] = { { .net_id = ID1, .addr4 = CIP4 } };
static const struct fw_ep ep46[] = { { .net_id = ID1, .addr4 = CIP4,
	.addr6 = CIP6 } };
static const struct fw_port p_any4[] = { TCP(AF_INET, { 0 }, CIP4) };
static const struct fw_port p_any46[] = { TCP(AF_INET, { 0 }, CIP4),
	TCP(AF_INET6, { 0 }, CIP6) };
static const struct fw_port p_lo4[] = { TCP(AF_INET, LO4, CIP4) };
static const struct fw_port p_lo46[] = { TCP(AF_INET, LO4, CIP4),
	TCP(AF_INET6, LO6, CIP6) };

static const struct fw_net n_v4[] = { { NET1 } };
static const struct fw_net n_v46[] = { { NET1, DUAL } };
static const struct fw_net n_snat46[] = { { NET1, DUAL,
	.snat4 = A4(192, 0, 2, 10), .snat6 = V6(0x99, 0x10, 128) } };
static const struct fw_net n_snat_nomasq[] = { { NET1_BASE, .icc = true,
	.snat4 = A4(192, 0, 2, 10) } };
static const struct fw_net n_unprot[] = { { NET1,
	.gw4 = FW_GW_NAT_UNPROTECTED } };
static const struct fw_net n_routed4[] = { { NET1, .gw4 = FW_GW_ROUTED } };
static const struct fw_net n_routed46[] = { { NET1, DUAL,
	.gw4 = FW_GW_ROUTED, .gw6 = FW_GW_ROUTED } };
static const struct fw_net n_internal_nicc[] = { { NET1_BASE,
	.masquerade = true, .internal = true, DUAL } };

static const struct fw_model m_wsl2_any = { .nets = n_v4, .nnets = 1,
	.eps = ep4, .neps = 1, .ports = p_any4, .nports = 1, .wsl2 = true };
static const struct fw_model m_snat46 = MODEL(n_snat46, ep46, p_any46);
static const struct fw_model m_snat_nomasq = MODEL(n_snat_nomasq, ep4,
	p_any4);
static const struct fw_model m_unprot_lo = MODEL(n_unprot, ep4, p_lo4);
static const struct fw_model m_routed46 = MODEL(n_routed46, ep46, p_any46);
static const struct fw_model m_routed_lo = MODEL(n_routed4, ep4, p_lo4);
static const struct fw_model m_routed_lo_wsl2 = { .nets = n_routed4,
	.nnets = 1, .eps = ep4, .neps = 1, .ports = p_lo4, .nports = 1,
	.wsl2 = true };
static const struct fw_model m_lo46 = MODEL(n_v46, ep46, p_lo46);
static const struct fw_model m_internal_nicc = { .nets = n_internal_nicc,
	.nnets = 1, .eps = ep46, .neps = 1 };

/* iptablesdoc's setups: dockerd's default bridge docker0 first (here a
 * cbridge network with its values), then the user-defined networks. */
#define DOCKER0 .id = ID1, .bridge = "br-n1", .ipv4 = true, \
	.subnet4 = V4(172, 17, 0, 0, 16), .icc = true, .masquerade = true
static const struct fw_net n_two[] = {
	{ DOCKER0 },
	{ .id = ID2, .bridge = "br-n2", .ipv4 = true,
	  .subnet4 = V4(192, 0, 2, 0, 24), .icc = true, .masquerade = true },
};
static const struct fw_ep ep_two[] = { { .net_id = ID2,
	.addr4 = A4(192, 0, 2, 2) } };
static const struct fw_port p_two[] = { { .net_id = ID2, .family = AF_INET,
	.proto = IPPROTO_TCP, .host_port = 8080, .cip = A4(192, 0, 2, 2),
	.cport = 80 } };
static const struct fw_model m_two = MODEL(n_two, ep_two, p_two);

static const struct fw_net n_internals[] = {
	{ DOCKER0 },
	{ .id = ID2, .bridge = "br-n2", .ipv4 = true,
	  .subnet4 = V4(192, 0, 2, 0, 24), .icc = true, .masquerade = true,
	  .internal = true },
	{ .id = ID3, .bridge = "br-n3", .ipv4 = true,
	  .subnet4 = V4(198, 51, 100, 0, 24), .masquerade = true,
	  .internal = true },
};
static const struct fw_ep ep_internals[] = {
	{ .net_id = ID2, .addr4 = A4(192, 0, 2, 2) },
	{ .net_id = ID3, .addr4 = A4(198, 51, 100, 2) },
};
static const struct fw_model m_internals = { .nets = n_internals,
	.nnets = LEN(n_internals), .eps = ep_internals,
	.neps = LEN(ep_internals) };

struct dg_scenario {
	const char		*name;
	const char		*vector;	/* DG_DIR<vector>.rules */
	const char		*golden;	/* a model of cases.c */
	const struct fw_model	*model;		/* or this one */
	unsigned int		fams;		/* the families compared */
	const char		*expect[3];	/* exceptions besides "every" */
};

static const struct dg_scenario scenarios[] = {
	{ "default", "nat", "default", NULL, DG_V4, { NULL } },
	{ "ipv6", "nat", "ipv6", NULL, DG_V4 | DG_V6, { "loopback_return", NULL } },
	{ "wsl2_any_address", "nat", NULL, &m_wsl2_any, DG_V4, { NULL } },
	{ "icc_off", "icc_off", "icc_off", NULL, DG_V4, { NULL } },
	{ "masquerade_off", "masquerade_off", "masquerade_off", NULL, DG_V4,
	  { NULL } },
	{ "host_ipv4_snat", "snat", "host_ipv4_snat", NULL, DG_V4, { NULL } },
	{ "host_ipv4_ipv6_snat", "snat", NULL, &m_snat46, DG_V4 | DG_V6,
	  { "loopback_return", NULL } },
	{ "snat_masquerade_off", "snat_masquerade_off", NULL, &m_snat_nomasq,
	  DG_V4, { NULL } },
	{ "nat_unprotected", "nat_unprotected", "nat_unprotected", NULL, DG_V4,
	  { NULL } },
	{ "nat_unprotected_loopback", "nat_unprotected_loopback", NULL,
	  &m_unprot_lo, DG_V4, { NULL } },
	{ "routed", "routed", "routed", NULL, DG_V4, { NULL } },
	{ "routed_ipv6", "routed", NULL, &m_routed46, DG_V4 | DG_V6,
	  { "loopback_return", NULL } },
	{ "routed_loopback", "routed", NULL, &m_routed_lo, DG_V4, { NULL } },
	{ "routed_loopback_wsl2", "routed", NULL, &m_routed_lo_wsl2, DG_V4,
	  { NULL } },
	{ "loopback", "loopback", NULL, &m_lo46, DG_V4 | DG_V6, { "loopback_return", NULL } },
	{ "wsl2", "wsl2", "wsl2", NULL, DG_V4, { NULL } },
	{ "internal", "internal", "internal", NULL, DG_V4, { NULL } },
	{ "internal_ipv6", "internal", "internal_ipv6", NULL, DG_V4 | DG_V6,
	  { "loopback_return", NULL } },
	{ "internal_icc_off", "internal_icc_off", NULL, &m_internal_nicc,
	  DG_V4 | DG_V6, { "loopback_return", NULL } },
	{ "two_networks", "two_networks", NULL, &m_two, DG_V4, { NULL } },
	{ "internal_networks", "internal_networks", NULL, &m_internals, DG_V4,
	  { NULL } },
};
#define NSCEN	(sizeof(scenarios) / sizeof(scenarios[0]))

/* --- normalised rule sets ------------------------------------------------ */

struct dg_line {
	char	sect[DG_SECTLEN];	/* "ipv4 filter" */
	char	chain[FW_CHAINLEN];
	char	text[DG_LINELEN];	/* "-A CHAIN ..." or ":CHAIN" */
	bool	decl;			/* a user chain, not a rule */
	bool	taken;			/* accounted for by an exception */
};

struct dg_set {
	struct dg_line	*v;		/* malloc'ed */
	size_t		n, cap;
	/* Tables the vector's source does not document: not compared. */
	char		unchecked[DG_MAXUNCHECKED][DG_SECTLEN];
	size_t		nunchecked;
};

static void
set_done(struct dg_set *s)
{
	free(s->v);
	memset(s, 0, sizeof(*s));
}

/* Adds ":NAME" or "-A NAME ..." of section sect; -1 if it is neither or
 * does not fit. */
static int
set_add(struct dg_set *s, const char *sect, const char *text)
{
	struct dg_line *l;
	const char *name, *end;

	if (text[0] == ':')
		name = text + 1;
	else if (strncmp(text, "-A ", 3) == 0)
		name = text + 3;
	else
		return -1;
	end = name + strcspn(name, " ");
	if (end == name || (size_t)(end - name) >= FW_CHAINLEN ||
	    strlen(text) >= DG_LINELEN || strlen(sect) >= DG_SECTLEN)
		return -1;
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 64;
		struct dg_line *v = realloc(s->v, cap * sizeof(*v));

		if (v == NULL)
			return -1;
		s->v = v;
		s->cap = cap;
	}
	l = &s->v[s->n++];
	memset(l, 0, sizeof(*l));
	snprintf(l->sect, sizeof(l->sect), "%s", sect);
	snprintf(l->chain, sizeof(l->chain), "%.*s", (int)(end - name), name);
	snprintf(l->text, sizeof(l->text), "%s", text);
	l->decl = text[0] == ':';
	return 0;
}

static bool
set_unchecked(const struct dg_set *s, const char *sect)
{
	for (size_t i = 0; i < s->nunchecked; i++)
		if (strcmp(s->unchecked[i], sect) == 0)
			return true;
	return false;
}

/* "ipv4 nat" -> AF_INET and "nat". */
static int
sect_family(const char *sect)
{
	if (strncmp(sect, "ipv4 ", 5) == 0)
		return AF_INET;
	if (strncmp(sect, "ipv6 ", 5) == 0)
		return AF_INET6;
	return 0;
}

static bool
sect_is(const char *sect, const char *table, int family)
{
	int f = sect_family(sect);

	return f != 0 && (family == 0 || f == family) &&
	    strcmp(sect + 5, table) == 0;
}

static unsigned int
fam_bit(int family)
{
	return family == AF_INET ? DG_V4 : family == AF_INET6 ? DG_V6 : 0;
}

/* Reads a vector: "#" comments, "*ipv4 nat" (or "*ipv4 nat unchecked")
 * sections, ":CHAIN" and "-A ..." lines.  -1 with a message in log. */
static int
vector_read(const char *path, struct dg_set *s, FILE *log)
{
	char line[DG_LINELEN + 2], sect[DG_SECTLEN] = "";
	unsigned int lineno = 0;
	FILE *f;
	int r = -1;

	if ((f = fopen(path, "r")) == NULL) {
		if (log)
			fprintf(log, "%s: cannot open\n", path);
		return -1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		size_t len = strcspn(line, "\n");

		lineno++;
		if (line[len] != '\n' && !feof(f))
			goto bad;
		line[len] = '\0';
		if (line[0] == '#' || line[0] == '\0')
			continue;
		if (line[0] == '*') {
			const char *u = strstr(line, " unchecked");
			int n = u != NULL ? (int)(u - line - 1) :
			    (int)strlen(line + 1);

			if (n <= 0 || (size_t)n >= sizeof(sect))
				goto bad;
			snprintf(sect, sizeof(sect), "%.*s", n, line + 1);
			if (sect_family(sect) == 0 || (u != NULL &&
			    (strcmp(u, " unchecked") != 0 ||
			    s->nunchecked == DG_MAXUNCHECKED)))
				goto bad;
			if (u != NULL)
				snprintf(s->unchecked[s->nunchecked++],
				    DG_SECTLEN, "%s", sect);
			continue;
		}
		if (sect[0] == '\0' || set_unchecked(s, sect) ||
		    set_add(s, sect, line) < 0)
			goto bad;
	}
	r = 0;
	goto out;
bad:
	if (log)
		fprintf(log, "%s:%u: not a line of a vector\n", path, lineno);
out:
	fclose(f);
	return r;
}

/* --- cbridge's plan, normalised ----------------------------------------- */

/* The model's values and their placeholders. */
struct dg_names {
	char	from[DG_MAXNAMES][PREFIX_STRLEN];
	char	to[DG_MAXNAMES][40];
	size_t	n;
};

/* "<" kind N [-v6] ">" for the text from. */
static void
names_add(struct dg_names *nm, const char *from, const char *kind, size_t i,
    bool v6)
{
	ck_assert_uint_lt(nm->n, DG_MAXNAMES);
	snprintf(nm->from[nm->n], sizeof(nm->from[0]), "%s", from);
	snprintf(nm->to[nm->n], sizeof(nm->to[0]), "<%.4s%zu%s>", kind, i,
	    v6 ? "-v6" : "");
	nm->n++;
}

static void
names_addr(struct dg_names *nm, const struct prefix *a, const char *kind,
    size_t i)
{
	char buf[PREFIX_STRLEN];

	if (a->family != 0)
		names_add(nm, prefix_format_addr(a, buf, sizeof(buf)), kind, i,
		    a->family == AF_INET6);
}

/* <brN>, <subN>, <subN-v6>, <snatN>, <snatN-v6> for the N-th network;
 * <epN>, <epN-v6> for the N-th endpoint. */
static void
names_of(const struct fw_model *m, struct dg_names *nm)
{
	memset(nm, 0, sizeof(*nm));
	for (size_t i = 0; i < m->nnets; i++) {
		const struct fw_net *n = &m->nets[i];
		struct prefix sub;

		names_add(nm, n->bridge, "br", i + 1, false);
		if (n->ipv4) {
			sub = n->subnet4;
			prefix_mask(&sub);
			names_addr(nm, &sub, "sub", i + 1);
		}
		if (n->ipv6) {
			sub = n->subnet6;
			prefix_mask(&sub);
			names_addr(nm, &sub, "sub", i + 1);
		}
		names_addr(nm, &n->snat4, "snat", i + 1);
		names_addr(nm, &n->snat6, "snat", i + 1);
	}
	for (size_t i = 0; i < m->neps; i++) {
		names_addr(nm, &m->eps[i].addr4, "ep", i + 1);
		names_addr(nm, &m->eps[i].addr6, "ep", i + 1);
	}
}

static const char *
names_get(const struct dg_names *nm, const char *s, size_t len)
{
	for (size_t i = 0; i < nm->n; i++)
		if (strlen(nm->from[i]) == len &&
		    strncmp(nm->from[i], s, len) == 0)
			return nm->to[i];
	return NULL;
}

/* One word of a rule with the model's values as placeholders: a bridge or
 * an address alone, "addr/len", "[addr]:port" or "addr:port". */
static void
norm_word(const struct dg_names *nm, const char *w, size_t len, char *out,
    size_t outlen)
{
	const char *p, *s;

	if ((p = names_get(nm, w, len)) != NULL) {
		snprintf(out, outlen, "%s", p);
		return;
	}
	if ((s = memchr(w, '/', len)) != NULL &&
	    (p = names_get(nm, w, (size_t)(s - w))) != NULL) {
		snprintf(out, outlen, "%s%.*s", p, (int)(len - (size_t)(s - w)),
		    s);
		return;
	}
	if (len > 1 && w[0] == '[' && (s = memchr(w, ']', len)) != NULL &&
	    (p = names_get(nm, w + 1, (size_t)(s - w - 1))) != NULL) {
		snprintf(out, outlen, "[%s%.*s", p,
		    (int)(len - (size_t)(s - w)), s);
		return;
	}
	for (s = w + len; s > w && s[-1] != ':'; s--)
		;
	if (s > w && (p = names_get(nm, w, (size_t)(s - 1 - w))) != NULL) {
		snprintf(out, outlen, "%s%.*s", p, (int)(len - (size_t)(s - 1 -
		    w)), s - 1);
		return;
	}
	snprintf(out, outlen, "%.*s", (int)len, w);
}

/* The "comments" exception: every rule of cbridge carries exactly one
 * comment match of its own, which Docker's rules do not have.  Cuts it out
 * of line; -1 if it is missing, malformed or not the only comment. */
static int
strip_comment(char *line)
{
	const char *start = NULL;
	char *at, *q;

	for (size_t i = 0; i < NEXC; i++)
		if (exceptions[i].kind == DG_COMMENT)
			start = exceptions[i].rule;
	if (start == NULL || (at = strstr(line, start)) == NULL ||
	    (q = strchr(at + strlen(start), '"')) == NULL)
		return -1;
	memmove(at, q + 1, strlen(q + 1) + 1);
	return strstr(line, "--comment") == NULL ? 0 : -1;
}

/* Plans m and reads the canonical text into s, normalised. */
static int
plan_read(const struct fw_model *m, struct dg_set *s, FILE *log)
{
	struct dg_names nm;
	struct fw_ruleset rs;
	char err[256] = "", sect[DG_SECTLEN] = "", *text = NULL, *line, *nl;
	int r = -1;

	names_of(m, &nm);
	if (fw_rules_compute(m, &rs, err, sizeof(err)) < 0) {
		if (log)
			fprintf(log, "the planner refused the model: %s\n",
			    err);
		return -1;
	}
	if (fw_ruleset_format(&rs, &text) < 0)
		goto out;
	for (line = text; *line != '\0'; line = nl + 1) {
		char out[DG_LINELEN], w[DG_LINELEN];
		size_t off = 0;

		if ((nl = strchr(line, '\n')) == NULL)
			goto out;
		*nl = '\0';
		if (line[0] == '*') {
			snprintf(sect, sizeof(sect), "%s", line + 1);
			continue;
		}
		if (strcmp(line, "COMMIT") == 0)
			continue;
		if (line[0] == '-' && strip_comment(line) < 0) {
			if (log)
				fprintf(log, "a rule without its one comment "
				    "of cbridge: %s\n", line);
			goto out;
		}
		out[0] = '\0';
		for (const char *p = line; *p != '\0' && off < sizeof(out);) {
			size_t len = strcspn(p, " ");
			int n;

			norm_word(&nm, p, len, w, sizeof(w));
			n = snprintf(out + off, sizeof(out) - off, "%s%s",
			    off ? " " : "", w);
			off = n < 0 ? sizeof(out) : off + (size_t)n;
			p += len;
			p += strspn(p, " ");
		}
		if (off >= sizeof(out) || set_add(s, sect, out) < 0)
			goto out;
	}
	r = 0;
out:
	free(text);
	fw_ruleset_done(&rs);
	return r;
}

/* --- comparison ---------------------------------------------------------- */

/* The verdict of a rule when it ends the chain's traversal for a packet it
 * matches (the " -j ..." part), else NULL. */
static const char *
terminal_verdict(const char *text)
{
	static const char *const terminal[] = { "ACCEPT", "DROP", "RETURN",
	    "MASQUERADE", "SNAT", "DNAT" };
	const char *j = strstr(text, " -j ");

	if (j == NULL)
		return NULL;
	for (size_t i = 0; i < LEN(terminal); i++) {
		size_t n = strlen(terminal[i]);

		if (strncmp(j + 4, terminal[i], n) == 0 &&
		    (j[4 + n] == '\0' || j[4 + n] == ' '))
			return j;
	}
	return NULL;
}

static int
cmp_text(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/*
 * The rules (or, chain NULL, the user chains) of one section in canonical
 * order, not counting those an exception took.  Adjacent rules with the
 * same terminal verdict can swap without changing what the chain does (the
 * first match decides, and either decides the same), so each run of them
 * is sorted; every other order is Docker's and is kept.  *ret malloc'ed.
 */
static size_t
canon(const struct dg_set *s, const char *sect, const char *chain,
    const char ***ret)
{
	const char **v;
	size_t n = 0;

	v = calloc(s->n + 1, sizeof(*v));
	ck_assert_ptr_nonnull(v);
	for (size_t i = 0; i < s->n; i++) {
		const struct dg_line *l = &s->v[i];

		if (l->taken || strcmp(l->sect, sect) != 0 ||
		    l->decl != (chain == NULL) ||
		    (chain != NULL && strcmp(l->chain, chain) != 0))
			continue;
		v[n++] = l->text;
	}
	if (chain == NULL) {
		qsort(v, n, sizeof(*v), cmp_text);
	} else {
		for (size_t i = 0, j; i < n; i = j) {
			const char *vd = terminal_verdict(v[i]);

			for (j = i + 1; vd != NULL && j < n; j++) {
				const char *o = terminal_verdict(v[j]);

				if (o == NULL || strcmp(o, vd) != 0)
					break;
			}
			if (vd == NULL)
				j = i + 1;
			qsort(v + i, j - i, sizeof(*v), cmp_text);
		}
	}
	*ret = v;
	return n;
}

static void
print_list(FILE *log, const char *who, const char **v, size_t n)
{
	fprintf(log, "  %s:\n", who);
	for (size_t i = 0; i < n; i++)
		fprintf(log, "    %s\n", v[i]);
}

/* Compares one section's chains (chain NULL: its user chains); the number
 * of differences. */
static unsigned int
compare_chain(const struct dg_set *want, const struct dg_set *got,
    const char *sect, const char *chain, FILE *log)
{
	const char **a, **b;
	size_t na = canon(want, sect, chain, &a), nb = canon(got, sect, chain,
	    &b);
	bool same = na == nb;

	for (size_t i = 0; same && i < na; i++)
		same = strcmp(a[i], b[i]) == 0;
	if (!same && log) {
		fprintf(log, "*%s %s differs:\n", sect, chain ? chain :
		    "user chains");
		print_list(log, "Docker", a, na);
		print_list(log, "cbridge", b, nb);
	}
	free(a);
	free(b);
	return same ? 0 : 1;
}

/* What is compared: per section its user chains (chain NULL) and each
 * chain with rules, on either side. */
struct dg_key {
	const char	*sect;
	const char	*chain;
};

static void
key_add(struct dg_key *k, size_t *n, const char *sect, const char *chain)
{
	for (size_t i = 0; i < *n; i++)
		if (strcmp(k[i].sect, sect) == 0 && ((chain == NULL &&
		    k[i].chain == NULL) || (chain != NULL && k[i].chain !=
		    NULL && strcmp(k[i].chain, chain) == 0)))
			return;
	k[*n].sect = sect;
	k[*n].chain = chain;
	(*n)++;
}

/* Compares want (Docker) and got (cbridge) in the families of fams; the
 * number of differences. */
static unsigned int
compare_sets(const struct dg_set *want, const struct dg_set *got,
    unsigned int fams, FILE *log)
{
	const struct dg_set *both[2] = { want, got };
	struct dg_key *keys;
	size_t nkeys = 0;
	unsigned int bad = 0;

	for (size_t i = 0; i < got->n; i++)
		if (!(fam_bit(sect_family(got->v[i].sect)) & fams)) {
			if (log)
				fprintf(log, "cbridge writes %s, a family the "
				    "scenario does not compare: %s\n",
				    got->v[i].sect, got->v[i].text);
			return 1;
		}
	keys = calloc(2 * (want->n + got->n) + 1, sizeof(*keys));
	ck_assert_ptr_nonnull(keys);
	for (size_t k = 0; k < 2; k++)
		for (size_t i = 0; i < both[k]->n; i++) {
			const struct dg_line *l = &both[k]->v[i];

			if (!(fam_bit(sect_family(l->sect)) & fams) ||
			    set_unchecked(want, l->sect))
				continue;
			key_add(keys, &nkeys, l->sect, NULL);
			if (!l->decl)
				key_add(keys, &nkeys, l->sect, l->chain);
		}
	for (size_t i = 0; i < nkeys; i++)
		bad += compare_chain(want, got, keys[i].sect, keys[i].chain,
		    log);
	free(keys);
	return bad;
}

/* --- exceptions and scenarios -------------------------------------------- */

static const struct dg_exception *
exception_find(const struct dg_exctab *t, const char *name)
{
	for (size_t i = 0; i < t->n; i++)
		if (strcmp(t->v[i].name, name) == 0)
			return &t->v[i];
	return NULL;
}

static bool
expects(const struct dg_scenario *sc, const char *name)
{
	for (size_t i = 0; i < LEN(sc->expect) && sc->expect[i] != NULL; i++)
		if (strcmp(sc->expect[i], name) == 0)
			return true;
	return false;
}

/* Marks the rules of s, in the families of fams, that are e's rule. */
static unsigned int
take(struct dg_set *s, const struct dg_exception *e, unsigned int fams)
{
	unsigned int n = 0;

	for (size_t i = 0; i < s->n; i++) {
		struct dg_line *l = &s->v[i];

		if (l->decl || l->taken ||
		    !(fam_bit(sect_family(l->sect)) & fams) ||
		    !sect_is(l->sect, e->table, e->family) ||
		    strcmp(l->text, e->rule) != 0)
			continue;
		l->taken = true;
		n++;
	}
	return n;
}

/* Rules of s that only Docker's userland-proxy mode writes. */
static unsigned int
proxy_rules(const struct dg_set *s, const struct dg_exception *e,
    const char *who, FILE *log)
{
	unsigned int n = 0;

	for (size_t i = 0; i < s->n; i++) {
		const struct dg_line *l = &s->v[i];

		if (l->decl || !sect_is(l->sect, e->table, e->family) ||
		    fnmatch(e->rule, l->text, 0) != 0)
			continue;
		if (log)
			fprintf(log, "%s has a rule of Docker's proxy mode "
			    "(exception %s): *%s %s\n", who, e->name, l->sect,
			    l->text);
		n++;
	}
	return n;
}

/* Takes the differences sc's exceptions account for out of the
 * comparison; the number of problems: an unknown exception, one that does
 * not apply or whose rule both sides have, a rule of the proxy mode. */
static unsigned int
apply_exceptions(const struct dg_scenario *sc, const struct dg_exctab *t,
    struct dg_set *want, struct dg_set *got, FILE *log)
{
	unsigned int bad = 0;

	for (size_t i = 0; i < LEN(sc->expect) && sc->expect[i] != NULL; i++)
		if (exception_find(t, sc->expect[i]) == NULL) {
			if (log)
				fprintf(log, "unknown exception %s\n",
				    sc->expect[i]);
			bad++;
		}
	for (size_t i = 0; i < t->n; i++) {
		const struct dg_exception *e = &t->v[i];
		struct dg_set *has = e->kind == DG_EXTRA ? got : want;
		struct dg_set *lacks = e->kind == DG_EXTRA ? want : got;

		if (e->kind == DG_PROXY) {
			bad += proxy_rules(want, e, "Docker's vector", log);
			bad += proxy_rules(got, e, "cbridge's plan", log);
			continue;
		}
		if ((e->kind != DG_EXTRA && e->kind != DG_MISSING) ||
		    (!e->every && !expects(sc, e->name)))
			continue;
		if (take(lacks, e, sc->fams) != 0) {
			if (log)
				fprintf(log, "exception %s: both write %s\n",
				    e->name, e->rule);
			bad++;
		}
		if (take(has, e, sc->fams) == 0) {
			if (log)
				fprintf(log, "exception %s does not apply: "
				    "%s does not write %s%s\n", e->name,
				    e->kind == DG_EXTRA ? "cbridge" : "Docker",
				    e->rule, e->open ? " (if that bug was "
				    "fixed, drop the exception here and in "
				    "tests/golden/README.md)" : "");
			bad++;
		}
	}
	return bad;
}

/* The number of differences between sc's vector and cbridge's plan that no
 * exception accounts for, and of exceptions that do not apply. */
static unsigned int
run_scenario(const struct dg_scenario *sc, const struct dg_exctab *t,
    FILE *log)
{
	struct dg_set want = { 0 }, got = { 0 };
	const struct fw_model *m = sc->model;
	char path[256];
	unsigned int bad = 1;

	if (sc->golden != NULL) {
		const struct golden_case *c = golden_find(sc->golden);

		if (c == NULL) {
			if (log)
				fprintf(log, "no golden model %s\n",
				    sc->golden);
			return 1;
		}
		m = &c->model;
	}
	snprintf(path, sizeof(path), DG_DIR "%s.rules", sc->vector);
	if (vector_read(path, &want, log) < 0 || plan_read(m, &got, log) < 0)
		goto out;
	bad = apply_exceptions(sc, t, &want, &got, log);
	bad += compare_sets(&want, &got, sc->fams, log);
out:
	set_done(&want);
	set_done(&got);
	return bad;
}

/* --- tests --------------------------------------------------------------- */

START_TEST(docker_vectors)
{
	const struct dg_scenario *sc = &scenarios[_i];
	char *buf = NULL;
	size_t len = 0;
	FILE *log = open_memstream(&buf, &len);
	unsigned int bad;

	ck_assert_ptr_nonnull(log);
	bad = run_scenario(sc, &all_exceptions, log);
	ck_assert_int_eq(fclose(log), 0);
	if (bad != 0)
		fprintf(stderr, "--- scenario %s against %s%s.rules:\n%s",
		    sc->name, DG_DIR, sc->vector, buf);
	free(buf);
	ck_assert_msg(bad == 0, "scenario %s: %u difference(s) from Docker's "
	    "rules (printed above)", sc->name, bad);
}
END_TEST

/* Each exception is a row of the table in tests/golden/README.md and each
 * rule exception is expected somewhere; each vector is compared by some
 * scenario: nothing in the table or the directory is dead. */
START_TEST(nothing_unused)
{
	DIR *d;
	struct dirent *de;
	size_t nvec = 0;
	char *readme = NULL, row[64], *sect, *end;
	size_t len = 0;
	FILE *f = fopen("tests/golden/README.md", "r");

	ck_assert_ptr_nonnull(f);
	ck_assert_int_gt(getdelim(&readme, &len, '\0', f), 0);
	fclose(f);
	/* The table of this section (the nftables one has its own). */
	ck_assert_ptr_nonnull(sect = strstr(readme, "\n## Differences from "
	    "Docker\n"));
	if ((end = strstr(sect + 1, "\n## ")) != NULL)
		end[1] = '\0';
	memmove(readme, sect, strlen(sect) + 1);
	for (size_t i = 0; i < NEXC; i++) {
		snprintf(row, sizeof(row), "\n| `%s` |", exceptions[i].name);
		ck_assert_msg(strstr(readme, row) != NULL, "exception %s has "
		    "no row in the iptables table of tests/golden/README.md",
		    exceptions[i].name);
	}
	/* ... and each row of that table is an exception. */
	for (const char *r = readme; (r = strstr(r, "\n| `")) != NULL; r++) {
		size_t n = strcspn(r + 4, "`");

		snprintf(row, sizeof(row), "%.*s", (int)n, r + 4);
		ck_assert_msg(exception_find(&all_exceptions, row) != NULL,
		    "tests/golden/README.md lists %s, which is no exception",
		    row);
	}
	free(readme);

	for (size_t i = 0; i < NEXC; i++) {
		const struct dg_exception *e = &exceptions[i];
		bool used = e->every || (e->kind != DG_EXTRA &&
		    e->kind != DG_MISSING);

		for (size_t j = 0; !used && j < NSCEN; j++)
			used = expects(&scenarios[j], e->name);
		ck_assert_msg(used, "exception %s is expected by no scenario",
		    e->name);
	}
	ck_assert_ptr_nonnull(d = opendir(DG_DIR));
	while ((de = readdir(d)) != NULL) {
		size_t n = strlen(de->d_name);
		bool used = false;

		if (n < 7 || strcmp(de->d_name + n - 6, ".rules") != 0)
			continue;
		nvec++;
		for (size_t j = 0; !used && j < NSCEN; j++)
			used = strlen(scenarios[j].vector) == n - 6 &&
			    strncmp(scenarios[j].vector, de->d_name,
			    n - 6) == 0;
		ck_assert_msg(used, "%s%s is compared by no scenario", DG_DIR,
		    de->d_name);
	}
	closedir(d);
	ck_assert_uint_ge(nvec, 10);
}
END_TEST

/* The comparison finds what it is for. */
START_TEST(differences_found)
{
	static const struct dg_scenario wrong_model = { "wrong_model", "nat",
	    "icc_off", NULL, DG_V4, { NULL } };
	static const struct dg_scenario unknown = { "unknown", "nat",
	    "default", NULL, DG_V4, { "no_such_exception", NULL } };
	static const struct dg_scenario wrong_family = { "wrong_family", "nat",
	    "ipv6", NULL, DG_V4, { NULL } };
	/* A bug that was fixed while its exception stayed: the IPv6
	 * loopback drop the planner once wrote.  The scenario is "loopback",
	 * which passes as long as it does not list the exception. */
	static const struct dg_exception fixed = { "fixed_bug", DG_EXTRA, true,
	    false, "raw", AF_INET6, "-A PREROUTING -d ::1/128 ! -i lo -p tcp "
	    "-m tcp --dport 8080 -j DROP" };
	static const struct dg_scenario unlisted = { "unlisted", "loopback",
	    NULL, &m_lo46, DG_V4 | DG_V6, { "loopback_return", NULL } };
	static const struct dg_scenario stale = { "stale", "loopback", NULL,
	    &m_lo46, DG_V4 | DG_V6, { "fixed_bug", "loopback_return", NULL } };
	struct dg_exception v[NEXC + 1];
	struct dg_exctab t = { v, NEXC + 1 };
	char *buf = NULL;
	size_t len = 0;
	FILE *log;

	ck_assert_uint_gt(run_scenario(&wrong_model, &all_exceptions, NULL),
	    0);
	ck_assert_uint_gt(run_scenario(&unknown, &all_exceptions, NULL), 0);
	ck_assert_uint_gt(run_scenario(&wrong_family, &all_exceptions, NULL),
	    0);

	memcpy(v, exceptions, sizeof(exceptions));
	v[NEXC] = fixed;
	ck_assert_uint_eq(run_scenario(&unlisted, &t, NULL), 0);
	ck_assert_ptr_nonnull(log = open_memstream(&buf, &len));
	ck_assert_uint_eq(run_scenario(&stale, &t, log), 1);
	ck_assert_int_eq(fclose(log), 0);
	ck_assert_msg(strstr(buf, "exception fixed_bug does not apply") !=
	    NULL, "the stale exception is not what failed: %s", buf);
	free(buf);
}
END_TEST

static void
set_of(struct dg_set *s, const char *const *lines)
{
	memset(s, 0, sizeof(*s));
	for (; *lines != NULL; lines++)
		ck_assert_int_eq(set_add(s, "ipv4 filter", *lines), 0);
}

/* Only adjacent rules with the same terminal verdict may be reordered. */
START_TEST(order_kept_where_it_matters)
{
	static const char *const docker[] = { ":X", "-A X -i a -j DROP",
	    "-A X -i b -j DROP", "-A X -i c -j ACCEPT", "-A X -i d -j Y",
	    "-A X -i e -j Y", NULL };
	static const char *const swapped_same[] = { ":X", "-A X -i b -j DROP",
	    "-A X -i a -j DROP", "-A X -i c -j ACCEPT", "-A X -i d -j Y",
	    "-A X -i e -j Y", NULL };
	static const char *const swapped_verdict[] = { ":X",
	    "-A X -i a -j DROP", "-A X -i c -j ACCEPT", "-A X -i b -j DROP",
	    "-A X -i d -j Y", "-A X -i e -j Y", NULL };
	static const char *const swapped_jump[] = { ":X", "-A X -i a -j DROP",
	    "-A X -i b -j DROP", "-A X -i c -j ACCEPT", "-A X -i e -j Y",
	    "-A X -i d -j Y", NULL };
	static const char *const missing[] = { ":X", "-A X -i a -j DROP",
	    "-A X -i b -j DROP", "-A X -i c -j ACCEPT", "-A X -i d -j Y",
	    NULL };
	static const char *const other_chain[] = { ":X", ":Z",
	    "-A X -i a -j DROP", "-A X -i b -j DROP", "-A X -i c -j ACCEPT",
	    "-A X -i d -j Y", "-A X -i e -j Y", NULL };
	struct dg_set want, got;

	set_of(&want, docker);
	set_of(&got, swapped_same);
	ck_assert_uint_eq(compare_sets(&want, &got, DG_V4, NULL), 0);
	set_done(&got);
	set_of(&got, swapped_verdict);
	ck_assert_uint_gt(compare_sets(&want, &got, DG_V4, NULL), 0);
	set_done(&got);
	set_of(&got, swapped_jump);
	ck_assert_uint_gt(compare_sets(&want, &got, DG_V4, NULL), 0);
	set_done(&got);
	set_of(&got, missing);
	ck_assert_uint_gt(compare_sets(&want, &got, DG_V4, NULL), 0);
	ck_assert_uint_gt(compare_sets(&got, &want, DG_V4, NULL), 0);
	set_done(&got);
	set_of(&got, other_chain);
	ck_assert_uint_gt(compare_sets(&want, &got, DG_V4, NULL), 0);
	set_done(&got);
	set_done(&want);
}
END_TEST

/* Placeholders replace whole values only; a rule keeps exactly one
 * comment of cbridge's. */
START_TEST(normalisation)
{
	static const struct fw_net n[] = { { NET1, DUAL } };
	static const struct fw_model m = { .nets = n, .nnets = 1, .eps = ep46,
	    .neps = 1 };
	static const struct {
		const char *in, *out;
	} words[] = {
		{ "br-n1", "<br1>" }, { "br-n10", "br-n10" },
		{ "172.30.0.0/24", "<sub1>/24" },
		{ "172.30.0.2/32", "<ep1>/32" },
		{ "172.30.0.20/32", "172.30.0.20/32" },
		{ "172.30.0.2:80", "<ep1>:80" },
		{ "fd00:30::/64", "<sub1-v6>/64" },
		{ "[fd00:30::2]:80", "[<ep1-v6>]:80" },
		{ "fd00:30::2/128", "<ep1-v6>/128" },
		{ "fd00:30::", "<sub1-v6>" },
		{ "127.0.0.1/32", "127.0.0.1/32" }, { "lo", "lo" },
	};
	struct dg_names nm;
	char out[DG_LINELEN], line[DG_LINELEN];

	names_of(&m, &nm);
	for (size_t i = 0; i < LEN(words); i++) {
		norm_word(&nm, words[i].in, strlen(words[i].in), out,
		    sizeof(out));
		ck_assert_str_eq(out, words[i].out);
	}
	snprintf(line, sizeof(line), "-A X -i a -m comment --comment "
	    "\"cbridge:base:0123abcd\" -j DROP");
	ck_assert_int_eq(strip_comment(line), 0);
	ck_assert_str_eq(line, "-A X -i a -j DROP");
	ck_assert_int_eq(strip_comment(line), -1);
	snprintf(line, sizeof(line), "-A X -m comment --comment \"mine\" "
	    "-j DROP");
	ck_assert_int_eq(strip_comment(line), -1);
	snprintf(line, sizeof(line), "-A X -m comment --comment \"cbridge:a\" "
	    "-m comment --comment \"cbridge:b\" -j DROP");
	ck_assert_int_eq(strip_comment(line), -1);
}
END_TEST

Suite *
dockergolden_suite(void)
{
	Suite *s = suite_create("dockergolden");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, docker_vectors, 0, (int)NSCEN);
	tcase_add_test(tc, nothing_unused);
	tcase_add_test(tc, differences_found);
	tcase_add_test(tc, order_kept_where_it_matters);
	tcase_add_test(tc, normalisation);
	suite_add_tcase(s, tc);
	return s;
}
