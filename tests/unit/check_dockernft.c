/*
 * The nftables planner (firewall/nftrules.c) against Docker's own
 * nftables rules, an oracle cbridge did not write.  The vectors in
 * tests/golden/docker-nft/ are what Docker 29's nftables firewaller
 * writes without its userland proxy, from moby's test and documentation
 * files (tests/golden/README.md says which, and how they are normalised).
 * Each scenario below builds the matching model, plans it, formats each
 * family's table as nft lists it, reads that back into the vectors' form
 * (comments stripped, the model's bridges and addresses as placeholders)
 * and compares maps, elements, chains and each chain's rules in order.
 * A difference passes only as one of the named exceptions, the nftables
 * table of tests/golden/README.md; an exception that no longer applies
 * fails too, so that table stays true.
 */
#include <ctype.h>
#include <fnmatch.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "firewall/firewall.h"
#include "firewall/nftplan.h"
#include "tests/unit/helpers.h"
#include "tests/unit/suites.h"

#define DN_DIR		"tests/golden/docker-nft/"
#define DN_LINELEN	400
#define DN_NAMELEN	64
#define DN_MAXNAMES	32
#define DN_NEXPECT	4

#define DN_V4		0x1
#define DN_V6		0x2

#define LEN(a)	(sizeof(a) / sizeof((a)[0]))

enum dn_kind {
	DN_COMMENT,	/* cbridge adds this to every rule (stripped) */
	DN_EXTRA,	/* cbridge writes the line, Docker does not */
	DN_DISPATCH,	/* cbridge reaches per-network chains through a map
			 * where Docker has one shared chain: flattened */
	DN_REPLACED,	/* Docker's adjacent rules, one rule of cbridge's in
			 * their place */
};

struct dn_exception {
	const char	*name;	/* the row of tests/golden/README.md */
	enum dn_kind	kind;
	bool		open;	/* a known bug, not a choice */
	bool		every;	/* expected in every scenario */
	int		family;	/* AF_INET, AF_INET6, 0: both */
	/* DN_COMMENT: the start of the comment, up to its text;
	 * DN_EXTRA: an fnmatch(3) pattern of a line of cbridge's;
	 * DN_DISPATCH: the map; DN_REPLACED: cbridge's rule. */
	const char	*line;
	/* DN_DISPATCH: Docker's chain, and the prefix of cbridge's chains
	 * the map jumps to; DN_REPLACED: Docker's rules, in order. */
	const char	*into;
	const char	*prefix;
	const char	*docker[3];
	/* DN_DISPATCH: the rule of e->into that looks the map up ("{ip}"
	 * the family's "ip" or "ip6"), and what its keys are made of
	 * ("daddr", "proto . port" or "daddr . proto . port"): the rules
	 * of a chain it jumps to match their own key. */
	const char	*lookup;
	const char	*key;
};

/* One entry per line or map; entries of one exception share its name. */
static const struct dn_exception exceptions[] = {
	{ .name = "comments", .kind = DN_COMMENT, .every = true,
	  .line = " comment \"" FW_COMMENT_PREFIX },
	{ .name = "dnat_raw_maps", .kind = DN_DISPATCH, .every = true,
	  .line = "nat-dnat-addr-jumps", .into = "nat-prerouting-and-output",
	  .prefix = "nat-dnat__", .key = "daddr . proto . port",
	  .lookup = "{ip} daddr . meta l4proto . th dport vmap "
	  "@nat-dnat-addr-jumps" },
	{ .name = "dnat_raw_maps", .kind = DN_DISPATCH, .every = true,
	  .line = "nat-dnat-jumps", .into = "nat-prerouting-and-output",
	  .prefix = "nat-dnat__", .key = "proto . port",
	  .lookup = "meta l4proto . th dport vmap @nat-dnat-jumps" },
	{ .name = "dnat_raw_maps", .kind = DN_DISPATCH, .every = true,
	  .line = "raw-prerouting-jumps", .into = "raw-PREROUTING",
	  .prefix = "raw-prerouting__", .key = "daddr",
	  .lookup = "{ip} daddr vmap @raw-prerouting-jumps" },
	{ .name = "dnat_raw_maps", .kind = DN_DISPATCH, .every = true,
	  .line = "raw-prerouting-lo-jumps", .into = "raw-PREROUTING",
	  .prefix = "raw-prerouting__", .key = "daddr . proto . port",
	  .lookup = "{ip} daddr . meta l4proto . th dport vmap "
	  "@raw-prerouting-lo-jumps" },
	{ .name = "docker_bridges", .kind = DN_EXTRA, .every = true,
	  .line = "%set docker-bridges ifname" },
	{ .name = "docker_bridges", .kind = DN_EXTRA,
	  .line = "-A filter-forward-out__<br*> oifname @docker-bridges "
	  "ct status ! dnat counter drop" },
	{ .name = "wsl2_loopback", .kind = DN_REPLACED, .family = AF_INET,
	  .line = "-A raw-PREROUTING iifname != { \"lo\", \"loopback0\" } "
	  "ip daddr 127.0.0.1 tcp dport 8080 counter drop",
	  .docker = { "-A raw-PREROUTING iifname \"loopback0\" ip daddr "
	    "127.0.0.1 tcp dport 8080 counter accept",
	    "-A raw-PREROUTING iifname != \"lo\" ip daddr 127.0.0.1 "
	    "tcp dport 8080 counter drop" } },
};
#define NEXC	LEN(exceptions)

struct dn_exctab {
	const struct dn_exception	*v;
	size_t				n;
};

static const struct dn_exctab all_exceptions = { exceptions, NEXC };

/* --- the models ---------------------------------------------------------- */

#define ID1 "1111111111111111111111111111111111111111111111111111111111111111"
#define ID2 "2222222222222222222222222222222222222222222222222222222222222222"
#define ID3 "3333333333333333333333333333333333333333333333333333333333333333"

/* TestNftabler's options: gateway mode (or --internal) and flags. */
enum dn_gwm { DN_NAT, DN_NAT_UNPROT, DN_ROUTED, DN_NGWM };
static const char *const gwm_name[] = { "nat", "nat-unprotected", "routed" };
static const enum fw_gw_mode gwm_mode[] = { FW_GW_NAT,
	FW_GW_NAT_UNPROTECTED, FW_GW_ROUTED };

#define F_INTERNAL	0x01
#define F_ICC		0x02
#define F_MASQ		0x04
#define F_SNAT		0x08
#define F_BINDLH	0x10
#define F_WSL2		0x20
#define F_ALL		0x40
/* Every gateway mode with every combination of the flags. */
#define NUNIT		(DN_NGWM * F_ALL)

struct dn_model {
	struct fw_net	nets[3];
	struct fw_ep	eps[3];
	struct fw_port	ports[2];
	struct fw_model	m;
};

struct dn_scenario {
	char		name[128];
	char		file[32];	/* DN_DIR<file>.vectors */
	char		vector[96];	/* "vector <name>" in it */
	struct dn_model	model;
	unsigned int	fams;		/* the families compared */
	const char	*expect[DN_NEXPECT];	/* exceptions besides
						 * "every" ones */
};

static const char *
tf(bool b)
{
	return b ? "true" : "false";
}

static void
expect(struct dn_scenario *sc, const char *name)
{
	size_t i = 0;

	while (sc->expect[i] != NULL)
		i++;
	ck_assert_uint_lt(i, DN_NEXPECT - 1);
	sc->expect[i] = name;
}

static struct fw_port
tcp_8080(const char *id, const char *host, const char *cip)
{
	struct fw_port p = { .proto = IPPROTO_TCP, .host_port = 8080,
	    .cport = 80 };

	snprintf(p.net_id, sizeof(p.net_id), "%s", id);
	p.cip = th_prefix(cip);
	p.family = p.cip.family;
	if (host != NULL)
		p.host_ip = th_prefix(host);
	return p;
}

/*
 * Scenario i of TestNftabler's setup (nftabler_test.go): one network on
 * br-dummy, 192.168.0.0/24 and fd49:efd7:54aa::/64, a container .2 and
 * ::1, 8080->80/tcp on each family's any address or (bindlh) on
 * 127.0.0.1 and ::1, host_ipv4/host_ipv6 192.168.123.0 and
 * fd34:d0d4:672f::123 (snat).  The vector is the one Docker's test checks
 * for those options: --internal shares one per ICC setting, and WSL2
 * mirrored mode has its own IPv4 file only with a port on loopback.
 */
static void
unit_scenario(size_t i, struct dn_scenario *sc)
{
	enum dn_gwm g = (enum dn_gwm)(i / F_ALL);
	unsigned int f = (unsigned int)(i % F_ALL);
	bool internal = f & F_INTERNAL, icc = f & F_ICC, masq = f & F_MASQ,
	    snat = f & F_SNAT, lh = f & F_BINDLH, wsl2 = f & F_WSL2;
	struct dn_model *dm = &sc->model;
	struct fw_net *n = &dm->nets[0];
	const char *wsl2sfx = wsl2 && lh ? ",wsl2mirrored=true" : "";

	memset(sc, 0, sizeof(*sc));
	snprintf(sc->name, sizeof(sc->name), "internal=%s,icc=%s,masq=%s,"
	    "snat=%s,gwm=%s,bindlh=%s,wsl2mirrored=%s", tf(internal), tf(icc),
	    tf(masq), tf(snat), gwm_name[g], tf(lh), tf(wsl2));
	if (internal) {
		snprintf(sc->file, sizeof(sc->file), "internal");
		snprintf(sc->vector, sizeof(sc->vector), "icc=%s%s", tf(icc),
		    wsl2sfx);
	} else {
		snprintf(sc->file, sizeof(sc->file), "%s", gwm_name[g]);
		snprintf(sc->vector, sizeof(sc->vector), "icc=%s,masq=%s,"
		    "snat=%s,bindlh=%s%s", tf(icc), tf(masq), tf(snat), tf(lh),
		    wsl2sfx);
		expect(sc, "docker_bridges");
		if (wsl2 && lh && g != DN_ROUTED)
			expect(sc, "wsl2_loopback");
	}
	sc->fams = DN_V4 | DN_V6;

	snprintf(n->id, sizeof(n->id), "%s", ID1);
	snprintf(n->bridge, sizeof(n->bridge), "br-dummy");
	n->ipv4 = n->ipv6 = true;
	n->subnet4 = th_prefix("192.168.0.0/24");
	n->subnet6 = th_prefix("fd49:efd7:54aa::/64");
	n->internal = internal;
	n->icc = icc;
	n->masquerade = masq;
	n->gw4 = n->gw6 = gwm_mode[g];
	if (snat) {
		n->snat4 = th_prefix("192.168.123.0");
		n->snat6 = th_prefix("fd34:d0d4:672f::123");
	}
	snprintf(dm->eps[0].net_id, sizeof(dm->eps[0].net_id), "%s", ID1);
	dm->eps[0].addr4 = th_prefix("192.168.0.2");
	dm->eps[0].addr6 = th_prefix("fd49:efd7:54aa::1");
	dm->ports[0] = tcp_8080(ID1, lh ? "127.0.0.1" : NULL, "192.168.0.2");
	dm->ports[1] = tcp_8080(ID1, lh ? "::1" : NULL, "fd49:efd7:54aa::1");
	dm->m = (struct fw_model){ .nets = dm->nets, .nnets = 1,
	    .eps = dm->eps, .neps = 1, .ports = dm->ports, .nports = 2,
	    .wsl2 = wsl2 };
}

/* nftablesdoc's setups: dockerd's docker0 first (here a cbridge network
 * with its values), then the user-defined networks on 192.0.2.0/24 and
 * 198.51.100.0/24, a container .2 on each. */
enum dn_doc { DOC_NOPROXY, DOC_INTERNAL, DOC_ROUTED, DN_NDOC };
static const char *const doc_name[] = { "usernet-portmap-noproxy",
	"usernet-internal", "usernet-portmap-routed" };

static void
doc_net(struct fw_net *n, const char *id, const char *bridge,
    const char *subnet)
{
	snprintf(n->id, sizeof(n->id), "%s", id);
	snprintf(n->bridge, sizeof(n->bridge), "%s", bridge);
	n->ipv4 = true;
	n->subnet4 = th_prefix(subnet);
	n->icc = true;
	n->masquerade = true;
}

static void
doc_scenario(size_t i, struct dn_scenario *sc)
{
	struct dn_model *dm = &sc->model;
	size_t nn = 2, ne = 1, np = 1;

	memset(sc, 0, sizeof(*sc));
	snprintf(sc->name, sizeof(sc->name), "%s", doc_name[i]);
	snprintf(sc->file, sizeof(sc->file), "daemon");
	snprintf(sc->vector, sizeof(sc->vector), "%s", doc_name[i]);
	sc->fams = DN_V4;
	expect(sc, "docker_bridges");
	doc_net(&dm->nets[0], ID1, "docker0", "172.17.0.0/16");
	if (i == DOC_INTERNAL) {
		doc_net(&dm->nets[1], ID2, "bridgeICC", "192.0.2.0/24");
		dm->nets[1].internal = true;
		doc_net(&dm->nets[2], ID3, "bridgeNoICC", "198.51.100.0/24");
		dm->nets[2].internal = true;
		dm->nets[2].icc = false;
		snprintf(dm->eps[1].net_id, sizeof(dm->eps[1].net_id), "%s",
		    ID3);
		dm->eps[1].addr4 = th_prefix("198.51.100.2");
		nn = 3;
		ne = 2;
		np = 0;
	} else {
		doc_net(&dm->nets[1], ID2, "bridge1", "192.0.2.0/24");
		if (i == DOC_ROUTED)
			dm->nets[1].gw4 = FW_GW_ROUTED;
		dm->ports[0] = tcp_8080(ID2, NULL, "192.0.2.2");
	}
	snprintf(dm->eps[0].net_id, sizeof(dm->eps[0].net_id), "%s", ID2);
	dm->eps[0].addr4 = th_prefix("192.0.2.2");
	dm->m = (struct fw_model){ .nets = dm->nets, .nnets = nn,
	    .eps = dm->eps, .neps = ne, .ports = dm->ports, .nports = np };
}

/* --- normalised tables ---------------------------------------------------- */

/*
 * One line of the vectors' form:
 *   %map NAME TYPE : verdict | %set NAME TYPE      a map or set
 *   +NAME KEY [: jump CHAIN]                      an element of it
 *   :CHAIN [type T hook H priority N policy P]    a chain
 *   -A CHAIN RULE                                 a rule, in order
 *   ~CHAIN                                        its rules not compared
 */
struct dn_line {
	int	fam;			/* AF_INET or AF_INET6 */
	char	kind;			/* '%', '+', ':', '-' or '~' */
	char	obj[DN_NAMELEN];	/* the map, set or chain */
	char	text[DN_LINELEN];
	bool	taken;			/* accounted for by an exception */
};

struct dn_set {
	struct dn_line	*v;		/* malloc'ed */
	size_t		n, cap;
};

static void
set_done(struct dn_set *s)
{
	free(s->v);
	memset(s, 0, sizeof(*s));
}

/* Adds a line of family fam; -1 if it is none of the forms. */
static int
set_add(struct dn_set *s, int fam, const char *text)
{
	struct dn_line *l;
	const char *name;
	size_t len;

	switch (text[0]) {
	case '%':
		if (strncmp(text, "%map ", 5) != 0 &&
		    strncmp(text, "%set ", 5) != 0)
			return -1;
		name = text + 5;
		break;
	case '-':
		if (strncmp(text, "-A ", 3) != 0)
			return -1;
		name = text + 3;
		break;
	case '+':
	case ':':
	case '~':
		name = text + 1;
		break;
	default:
		return -1;
	}
	len = strcspn(name, " ");
	/* A chain's mark is its name alone; a rule, an element or a map
	 * has more after it. */
	if (len == 0 || len >= DN_NAMELEN || strlen(text) >= DN_LINELEN ||
	    (fam != AF_INET && fam != AF_INET6) ||
	    (text[0] == '~' && name[len] != '\0') ||
	    (strchr("-+%", text[0]) != NULL && name[len] == '\0'))
		return -1;
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 128;
		struct dn_line *v = realloc(s->v, cap * sizeof(*v));

		if (v == NULL)
			return -1;
		s->v = v;
		s->cap = cap;
	}
	l = &s->v[s->n++];
	memset(l, 0, sizeof(*l));
	l->fam = fam;
	l->kind = text[0];
	snprintf(l->obj, sizeof(l->obj), "%.*s", (int)len, name);
	snprintf(l->text, sizeof(l->text), "%s", text);
	return 0;
}

static unsigned int
fam_bit(int family)
{
	return family == AF_INET ? DN_V4 : family == AF_INET6 ? DN_V6 : 0;
}

/* Calls fn for each vector's name in file; -1 if it cannot be read. */
static int
vector_names(const char *file, void (*fn)(const char *, const char *, void *),
    void *arg)
{
	char path[256], line[DN_LINELEN + 2];
	FILE *f;

	snprintf(path, sizeof(path), DN_DIR "%s.vectors", file);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		if (strncmp(line, "vector ", 7) == 0)
			fn(file, line + 7, arg);
	}
	fclose(f);
	return 0;
}

/* Reads vector name of DN_DIR<file>.vectors into s.  -1 with a message
 * in log when it is missing or has a line of no form. */
static int
vector_read(const char *file, const char *name, struct dn_set *s, FILE *log)
{
	char path[256], line[DN_LINELEN + 2];
	unsigned int lineno = 0;
	bool in = false, found = false;
	int fam = 0, r = -1;
	FILE *f;

	snprintf(path, sizeof(path), DN_DIR "%s.vectors", file);
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
		if (strncmp(line, "vector ", 7) == 0) {
			if (in)
				break;
			in = strcmp(line + 7, name) == 0;
			found |= in;
			fam = 0;
			continue;
		}
		if (!in || line[0] == '#' || line[0] == '\0')
			continue;
		if (strcmp(line, "*ip") == 0 || strcmp(line, "*ip6") == 0) {
			fam = line[3] == '6' ? AF_INET6 : AF_INET;
			continue;
		}
		if (set_add(s, fam, line) < 0)
			goto bad;
	}
	if (found) {
		r = 0;
		goto out;
	}
	if (log)
		fprintf(log, "%s: no vector %s\n", path, name);
	goto out;
bad:
	if (log)
		fprintf(log, "%s:%u: not a line of a vector\n", path, lineno);
out:
	fclose(f);
	return r;
}

/* --- cbridge's plan, normalised ------------------------------------------ */

/* The model's values and their placeholders. */
struct dn_names {
	char	from[DN_MAXNAMES][PREFIX_STRLEN];
	char	to[DN_MAXNAMES][40];
	size_t	n;
};

static void
names_add(struct dn_names *nm, const char *from, const char *kind, size_t i,
    bool v6)
{
	ck_assert_uint_lt(nm->n, DN_MAXNAMES);
	snprintf(nm->from[nm->n], sizeof(nm->from[0]), "%s", from);
	snprintf(nm->to[nm->n], sizeof(nm->to[0]), "<%.4s%zu%s>", kind, i,
	    v6 ? "-v6" : "");
	nm->n++;
}

static void
names_addr(struct dn_names *nm, const struct prefix *a, const char *kind,
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
names_of(const struct fw_model *m, struct dn_names *nm)
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

/* Whether c continues a name or an address (an IPv6 one also over ':';
 * "__" before a bridge's name in a chain's is a boundary). */
static bool
continues(char c, bool v6)
{
	return isalnum((unsigned char)c) || c == '.' || c == '-' ||
	    (v6 && c == ':');
}

/* in with each of the model's values that stands alone (a bridge or an
 * address, also in a chain's name after "__", before "/len", ":port" or
 * "]") replaced by its placeholder. */
static void
names_apply(const struct dn_names *nm, const char *in, char *out,
    size_t outlen)
{
	size_t o = 0;

	for (const char *p = in; *p != '\0' && o + 1 < outlen;) {
		size_t best = SIZE_MAX, blen = 0;

		for (size_t i = 0; i < nm->n; i++) {
			size_t len = strlen(nm->from[i]);
			bool v6 = strchr(nm->from[i], ':') != NULL;

			if (len > blen && strncmp(p, nm->from[i], len) == 0 &&
			    (p == in || !continues(p[-1], v6)) &&
			    !continues(p[len], v6)) {
				best = i;
				blen = len;
			}
		}
		if (best == SIZE_MAX) {
			out[o++] = *p++;
			continue;
		}
		o += (size_t)snprintf(out + o, outlen - o, "%s", nm->to[best]);
		p += blen;
	}
	out[o < outlen ? o : outlen - 1] = '\0';
}

/* The "comments" exception: every rule of cbridge's ends in exactly one
 * comment of its own, which Docker's rules do not have (Docker's own were
 * stripped from the vectors).  Cuts it off; -1 if it is missing,
 * malformed or not the only one. */
static int
strip_comment(char *rule)
{
	const char *start = NULL;
	char *at;
	size_t n;

	for (size_t i = 0; i < NEXC; i++)
		if (exceptions[i].kind == DN_COMMENT)
			start = exceptions[i].line;
	if (start == NULL || (at = strstr(rule, start)) == NULL)
		return -1;
	n = strlen(at);
	if (strchr(at + strlen(start), '"') != at + n - 1 ||
	    n == strlen(start) + 1)
		return -1;
	*at = '\0';
	return strstr(rule, " comment ") == NULL ? 0 : -1;
}

/* nft's priority names for the numbers (nft lists nat output by number). */
static int
prio_number(const char *p, int *ret)
{
	static const struct {
		const char *name;
		int prio;
	} names[] = { { "filter", 0 }, { "dstnat", -100 }, { "srcnat", 100 },
	    { "raw", -300 } };
	char *end;
	long v;

	for (size_t i = 0; i < LEN(names); i++)
		if (strcmp(p, names[i].name) == 0) {
			*ret = names[i].prio;
			return 0;
		}
	v = strtol(p, &end, 10);
	if (end == p || *end != '\0' || v < -1000 || v > 1000)
		return -1;
	*ret = (int)v;
	return 0;
}

struct dn_reader {
	const struct dn_names	*nm;
	struct dn_set		*s;
	int			fam;
	FILE			*log;
	char			kind[4];	/* "map", "set" or "" */
	char			obj[DN_NAMELEN];
	char			chain[DN_NAMELEN];
	bool			decl;		/* the chain's line written */
	bool			elems;		/* in "elements = { ..." */
};

static int
emit(struct dn_reader *rd, const char *text)
{
	char out[DN_LINELEN];

	names_apply(rd->nm, text, out, sizeof(out));
	if (strlen(text) >= DN_LINELEN || set_add(rd->s, rd->fam, out) < 0) {
		if (rd->log)
			fprintf(rd->log, "not a line of the vectors' form: "
			    "%s\n", out);
		return -1;
	}
	return 0;
}

/* The elements on one line of a listing: after "{ ", up to " }". */
static int
read_elems(struct dn_reader *rd, const char *line)
{
	char buf[DN_LINELEN], el[DN_LINELEN];
	const char *b = strchr(line, '{'), *e;
	char *p, *save = NULL;

	b = b != NULL ? b + 1 : line;
	e = strchr(b, '}');
	rd->elems = e == NULL;
	snprintf(buf, sizeof(buf), "%.*s", e != NULL ? (int)(e - b) :
	    (int)strlen(b), b);
	for (p = strtok_r(buf, ",", &save); p != NULL;
	    p = strtok_r(NULL, ",", &save)) {
		size_t n;

		p += strspn(p, " \t");
		n = strlen(p);
		while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
			p[--n] = '\0';
		if (n == 0)
			continue;
		snprintf(el, sizeof(el), "+%s %s", rd->obj, p);
		if (emit(rd, el) < 0)
			return -1;
	}
	return 0;
}

/* One line of `nft list table` (as fw_nft_format writes it). */
static int
read_listing_line(struct dn_reader *rd, char *line)
{
	char text[DN_LINELEN + DN_NAMELEN + 8], t[16], h[16], pr[16];
	char pol[16];
	int prio;

	if (line[0] == '\0' || strncmp(line, "table ", 6) == 0 ||
	    strcmp(line, "}") == 0)
		return 0;
	if (rd->elems)
		return read_elems(rd, line);
	if (strncmp(line, "\tmap ", 5) == 0 || strncmp(line, "\tset ", 5) == 0) {
		snprintf(rd->kind, sizeof(rd->kind), "%.3s", line + 1);
		snprintf(rd->obj, sizeof(rd->obj), "%.*s",
		    (int)strcspn(line + 5, " "), line + 5);
		return 0;
	}
	if (strncmp(line, "\tchain ", 7) == 0) {
		snprintf(rd->chain, sizeof(rd->chain), "%.*s",
		    (int)strcspn(line + 7, " "), line + 7);
		rd->decl = false;
		return 0;
	}
	if (strcmp(line, "\t}") == 0) {
		if (rd->chain[0] != '\0' && !rd->decl) {
			snprintf(text, sizeof(text), ":%s", rd->chain);
			if (emit(rd, text) < 0)
				return -1;
		}
		rd->chain[0] = rd->kind[0] = '\0';
		return 0;
	}
	if (rd->kind[0] != '\0' && strncmp(line, "\t\ttype ", 7) == 0) {
		snprintf(text, sizeof(text), "%%%s %s %s", rd->kind, rd->obj,
		    line + 7);
		return emit(rd, text);
	}
	if (rd->kind[0] != '\0' && strncmp(line, "\t\telements = ", 13) == 0)
		return read_elems(rd, line);
	if (rd->chain[0] != '\0' && strncmp(line, "\t\ttype ", 7) == 0 &&
	    !rd->decl) {
		if (sscanf(line, "\t\ttype %15s hook %15s priority %15[^;]; "
		    "policy %15[^;];", t, h, pr, pol) != 4 ||
		    prio_number(pr, &prio) < 0)
			goto bad;
		snprintf(text, sizeof(text), ":%s type %s hook %s priority %d "
		    "policy %s", rd->chain, t, h, prio, pol);
		rd->decl = true;
		return emit(rd, text);
	}
	if (rd->chain[0] != '\0' && strncmp(line, "\t\t", 2) == 0) {
		char rule[DN_LINELEN];

		if (!rd->decl) {
			snprintf(text, sizeof(text), ":%s", rd->chain);
			if (emit(rd, text) < 0)
				return -1;
			rd->decl = true;
		}
		snprintf(rule, sizeof(rule), "%s", line + 2);
		if (strip_comment(rule) < 0) {
			if (rd->log)
				fprintf(rd->log, "a rule without its one "
				    "comment of cbridge: %s\n", line + 2);
			return -1;
		}
		snprintf(text, sizeof(text), "-A %s %s", rd->chain, rule);
		return emit(rd, text);
	}
bad:
	if (rd->log)
		fprintf(rd->log, "a line of nft's listing not understood: "
		    "%s\n", line);
	return -1;
}

/* Plans m and reads each family's table, as fw_nft_format lists it,
 * into s, normalised. */
static int
plan_read(const struct fw_model *m, struct dn_set *s, FILE *log)
{
	struct dn_names nm;
	struct fw_nplan p;
	char err[256] = "";
	int r = 0;

	names_of(m, &nm);
	if (fw_nft_compute(m, false, false, &p, err, sizeof(err)) < 0) {
		if (log)
			fprintf(log, "the planner refused the model: %s\n",
			    err);
		return -1;
	}
	for (int fi = 0; fi < 2 && r == 0; fi++) {
		struct dn_reader rd = { .nm = &nm, .s = s, .log = log,
		    .fam = fi ? AF_INET6 : AF_INET };
		char *text = NULL, *line, *nl;

		if (!p.family[fi])
			continue;
		if (fw_nft_format(&p, rd.fam, &text) < 0) {
			r = -1;
			break;
		}
		for (line = text; r == 0 && *line != '\0'; line = nl + 1) {
			if ((nl = strchr(line, '\n')) == NULL) {
				r = -1;
				break;
			}
			*nl = '\0';
			r = read_listing_line(&rd, line);
		}
		free(text);
	}
	fw_nft_plan_done(&p);
	return r;
}

/* --- exceptions ------------------------------------------------------------ */

static const struct dn_exception *
exception_find(const struct dn_exctab *t, const char *name)
{
	for (size_t i = 0; i < t->n; i++)
		if (strcmp(t->v[i].name, name) == 0)
			return &t->v[i];
	return NULL;
}

static bool
expects(const struct dn_scenario *sc, const char *name)
{
	for (size_t i = 0; i < DN_NEXPECT && sc->expect[i] != NULL; i++)
		if (strcmp(sc->expect[i], name) == 0)
			return true;
	return false;
}

static bool
fam_ok(const struct dn_line *l, const struct dn_exception *e,
    unsigned int fams)
{
	return (fam_bit(l->fam) & fams) && (e->family == 0 ||
	    e->family == l->fam);
}

/* Marks the untaken lines of s that match e's pattern; their number. */
static unsigned int
take(struct dn_set *s, const struct dn_exception *e, unsigned int fams,
    bool mark)
{
	unsigned int n = 0;

	for (size_t i = 0; i < s->n; i++) {
		struct dn_line *l = &s->v[i];

		if (l->taken || !fam_ok(l, e, fams) ||
		    fnmatch(e->line, l->text, 0) != 0)
			continue;
		l->taken |= mark;
		n++;
	}
	return n;
}

/* The lookup of e's map in e->into, for family. */
static void
lookup_of(const struct dn_exception *e, int family, char *buf, size_t len)
{
	const char *ip = strstr(e->lookup, "{ip}");

	if (ip == NULL)
		snprintf(buf, len, "-A %s %s", e->into, e->lookup);
	else
		snprintf(buf, len, "-A %s %.*s%s%s", e->into,
		    (int)(ip - e->lookup), e->lookup, family == AF_INET ?
		    "ip" : "ip6", ip + 4);
}

/* What a rule matches on: "ip daddr A", "PROTO dport P". */
struct dn_rkey {
	char	daddr[PREFIX_STRLEN + 8];
	char	proto[8];
	char	port[8];
};

static void
rule_key(const char *rule, struct dn_rkey *k)
{
	char w[4][DN_LINELEN];
	const char *p = rule;
	size_t n = 0;

	memset(k, 0, sizeof(k[0]));
	memset(w, 0, sizeof(w));
	/* A window of four words. */
	while (*p != '\0') {
		size_t len = strcspn(p, " ");

		memmove(w[0], w[1], 3 * sizeof(w[0]));
		snprintf(w[3], sizeof(w[3]), "%.*s", (int)len, p);
		p += len;
		p += strspn(p, " ");
		if (++n < 3)
			continue;
		if ((strcmp(w[1], "ip") == 0 || strcmp(w[1], "ip6") == 0) &&
		    strcmp(w[2], "daddr") == 0)
			snprintf(k->daddr, sizeof(k->daddr), "%.*s",
			    (int)sizeof(k->daddr) - 1, w[3]);
		if ((strcmp(w[1], "tcp") == 0 || strcmp(w[1], "udp") == 0 ||
		    strcmp(w[1], "sctp") == 0) && strcmp(w[2], "dport") == 0) {
			snprintf(k->proto, sizeof(k->proto), "%.*s",
			    (int)sizeof(k->proto) - 1, w[1]);
			snprintf(k->port, sizeof(k->port), "%.*s",
			    (int)sizeof(k->port) - 1, w[3]);
		}
	}
}

/* The key of e's map for a rule matching on k; false when the rule is
 * not of the map's shape. */
static bool
key_for(const struct dn_exception *e, const struct dn_rkey *k, char *buf,
    size_t len)
{
	bool addr = strstr(e->key, "daddr") != NULL;
	bool port = strstr(e->key, "port") != NULL;

	if (addr != (k->daddr[0] != '\0') || port != (k->proto[0] != '\0'))
		return false;
	if (addr && port)
		snprintf(buf, len, "%s . %s . %s", k->daddr, k->proto, k->port);
	else if (addr)
		snprintf(buf, len, "%s", k->daddr);
	else
		snprintf(buf, len, "%s . %s", k->proto, k->port);
	return true;
}

static bool
has_line(const struct dn_set *s, int fam, const char *text)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i].fam == fam && strcmp(s->v[i].text, text) == 0)
			return true;
	return false;
}

/*
 * Before the dispatch is flattened: each rule of a per-network chain is
 * reached by an element of the map of its shape, keyed by what the rule
 * matches on, and each element of a map jumps to a chain with a rule of
 * its key.  Else flattening would hide a rule no packet reaches.  The
 * number of rules and elements that fail.
 */
static unsigned int
check_dispatch(const struct dn_exctab *t, unsigned int fams,
    const struct dn_set *got, FILE *log)
{
	unsigned int bad = 0;

	for (size_t i = 0; i < got->n; i++) {
		const struct dn_line *l = &got->v[i];
		const struct dn_exception *e = NULL;
		struct dn_rkey k;
		char key[DN_LINELEN], el[DN_LINELEN * 2];
		bool prefixed = false;

		if (l->kind != '-' || l->taken || !(fam_bit(l->fam) & fams))
			continue;
		rule_key(l->text + 3 + strlen(l->obj) + 1, &k);
		for (size_t j = 0; j < t->n && e == NULL; j++) {
			const struct dn_exception *d = &t->v[j];

			if (d->kind != DN_DISPATCH || strncmp(l->obj,
			    d->prefix, strlen(d->prefix)) != 0)
				continue;
			prefixed = true;
			if (key_for(d, &k, key, sizeof(key)))
				e = d;
		}
		if (!prefixed)
			continue;
		snprintf(el, sizeof(el), "+%s %s : jump %s", e ? e->line : "",
		    key, l->obj);
		if (e == NULL || !has_line(got, l->fam, el)) {
			if (log)
				fprintf(log, "dispatch: no element of a map "
				    "reaches %s\n", l->text);
			bad++;
		}
	}
	for (size_t i = 0; i < got->n; i++) {
		const struct dn_line *l = &got->v[i];
		const struct dn_exception *e = NULL;
		const char *arrow;
		char key[DN_LINELEN], rk[DN_LINELEN];
		bool reached = false;

		if (l->kind != '+' || !(fam_bit(l->fam) & fams))
			continue;
		for (size_t j = 0; j < t->n && e == NULL; j++)
			if (t->v[j].kind == DN_DISPATCH &&
			    strcmp(t->v[j].line, l->obj) == 0)
				e = &t->v[j];
		if (e == NULL)
			continue;
		arrow = strstr(l->text, " : jump ");
		snprintf(key, sizeof(key), "%.*s", arrow ? (int)(arrow -
		    l->text - strlen(l->obj) - 2) : 0, l->text +
		    strlen(l->obj) + 2);
		for (size_t j = 0; arrow != NULL && j < got->n && !reached;
		    j++) {
			const struct dn_line *r = &got->v[j];
			struct dn_rkey k;

			if (r->kind != '-' || r->fam != l->fam ||
			    strcmp(r->obj, arrow + 8) != 0)
				continue;
			rule_key(r->text + 3 + strlen(r->obj) + 1, &k);
			reached = key_for(e, &k, rk, sizeof(rk)) &&
			    strcmp(rk, key) == 0;
		}
		if (!reached) {
			if (log)
				fprintf(log, "dispatch: %s jumps to no rule of "
				    "its key\n", l->text);
			bad++;
		}
	}
	return bad;
}

/* The map e->line, its elements and its lookup go; the rules of the
 * chains it jumps to join Docker's shared chain e->into, in the order of
 * the chains (the networks').  The number of the map's declarations and
 * lookups found in cbridge's plan (a lookup of another form stays, and
 * differs). */
static unsigned int
flatten(struct dn_set *got, const struct dn_exception *e, int family)
{
	char lookup[DN_LINELEN];
	unsigned int n = 0;
	size_t plen = strlen(e->prefix);

	lookup_of(e, family, lookup, sizeof(lookup));
	for (size_t i = 0; i < got->n; i++) {
		struct dn_line *l = &got->v[i];
		char text[DN_LINELEN];

		if (l->taken || l->fam != family)
			continue;
		if ((l->kind == '%' && strcmp(l->obj, e->line) == 0) ||
		    (l->kind == '-' && strcmp(l->text, lookup) == 0)) {
			l->taken = true;
			n++;
		} else if (l->kind == '+' && strcmp(l->obj, e->line) == 0)
			l->taken = true;
		else if (l->kind == ':' && strncmp(l->obj, e->prefix,
		    plen) == 0)
			l->taken = true;
		else if (l->kind == '-' && strncmp(l->obj, e->prefix,
		    plen) == 0) {
			snprintf(text, sizeof(text), "-A %s %s", e->into,
			    l->text + 3 + strlen(l->obj) + 1);
			snprintf(l->text, sizeof(l->text), "%s", text);
			snprintf(l->obj, sizeof(l->obj), "%s", e->into);
		}
	}
	return n;
}

/* Docker's rules e->docker[], adjacent in their chain, become cbridge's
 * one rule in the place of the first; the number of places. */
static unsigned int
replace(struct dn_set *want, const struct dn_exception *e, unsigned int fams)
{
	unsigned int n = 0;

	for (size_t i = 0; i < want->n; i++) {
		struct dn_line *l = &want->v[i];
		size_t j = i, k = 0;

		if (l->taken || l->kind != '-' || !fam_ok(l, e, fams))
			continue;
		/* The chain's next untaken rules, one per Docker rule. */
		for (; e->docker[k] != NULL && j < want->n; j++) {
			const struct dn_line *o = &want->v[j];

			if (o->taken || o->kind != '-' || o->fam != l->fam ||
			    strcmp(o->obj, l->obj) != 0)
				continue;
			if (strcmp(o->text, e->docker[k]) != 0)
				break;
			k++;
		}
		if (e->docker[k] != NULL)
			continue;
		/* The first becomes cbridge's rule, the others go. */
		for (j = i + 1, k = 1; e->docker[k] != NULL; j++) {
			struct dn_line *o = &want->v[j];

			if (o->taken || o->kind != '-' || o->fam != l->fam ||
			    strcmp(o->obj, l->obj) != 0)
				continue;
			o->taken = true;
			k++;
		}
		snprintf(l->text, sizeof(l->text), "%s", e->line);
		n++;
	}
	return n;
}

/* Takes the differences sc's exceptions account for out of the
 * comparison; the number of problems: an unknown exception, one that does
 * not apply or whose line both sides have. */
static unsigned int
apply_exceptions(const struct dn_scenario *sc, const struct dn_exctab *t,
    struct dn_set *want, struct dn_set *got, FILE *log)
{
	unsigned int bad = 0;

	for (size_t i = 0; i < DN_NEXPECT && sc->expect[i] != NULL; i++)
		if (exception_find(t, sc->expect[i]) == NULL) {
			if (log)
				fprintf(log, "unknown exception %s\n",
				    sc->expect[i]);
			bad++;
		}
	bad += check_dispatch(t, sc->fams, got, log);
	for (size_t i = 0; i < t->n; i++) {
		const struct dn_exception *e = &t->v[i];
		const char *why = e->open ? " (if that bug was fixed, drop "
		    "the exception here and in tests/golden/README.md)" : "";
		struct dn_exception dock = *e;

		if (e->kind == DN_COMMENT || (!e->every &&
		    !expects(sc, e->name)))
			continue;
		switch (e->kind) {
		case DN_EXTRA:
			if (take(want, e, sc->fams, false) != 0) {
				if (log)
					fprintf(log, "exception %s: both write "
					    "%s\n", e->name, e->line);
				bad++;
			}
			if (take(got, e, sc->fams, true) == 0) {
				if (log)
					fprintf(log, "exception %s does not "
					    "apply: cbridge does not write "
					    "%s%s\n", e->name, e->line, why);
				bad++;
			}
			break;
		case DN_DISPATCH:
			for (size_t k = 0; k < want->n; k++)
				if (want->v[k].kind == '%' &&
				    strcmp(want->v[k].obj, e->line) == 0) {
					if (log)
						fprintf(log, "exception %s: "
						    "Docker has the map %s\n",
						    e->name, e->line);
					bad++;
				}
			/* Per family: the map and its lookup. */
			for (int f = AF_INET; f != 0; f = f == AF_INET ?
			    AF_INET6 : 0)
				if ((sc->fams & fam_bit(f)) && flatten(got, e,
				    f) != 2) {
					if (log)
						fprintf(log, "exception %s does "
						    "not apply: no map %s and "
						    "lookup of it in the ip%s "
						    "table%s\n", e->name,
						    e->line, f == AF_INET ?
						    "" : "6", why);
					bad++;
				}
			break;
		case DN_REPLACED:
			dock.line = e->docker[0];
			if (take(got, &dock, sc->fams, false) != 0) {
				if (log)
					fprintf(log, "exception %s: cbridge "
					    "writes Docker's %s\n", e->name,
					    e->docker[0]);
				bad++;
			}
			if (replace(want, e, sc->fams) == 0) {
				if (log)
					fprintf(log, "exception %s does not "
					    "apply: Docker does not write "
					    "%s ...%s\n", e->name, e->docker[0],
					    why);
				bad++;
			}
			break;
		default:
			break;
		}
	}
	return bad;
}

/* Chains whose rules the vector does not show in the no-proxy form. */
static void
take_unchecked(const struct dn_set *want, struct dn_set *got)
{
	for (size_t i = 0; i < want->n; i++) {
		const struct dn_line *u = &want->v[i];

		if (u->kind != '~')
			continue;
		for (size_t j = 0; j < got->n; j++)
			if (got->v[j].kind == '-' && got->v[j].fam == u->fam &&
			    strcmp(got->v[j].obj, u->obj) == 0)
				got->v[j].taken = true;
	}
}

/* --- comparison ------------------------------------------------------------ */

static int
cmp_text(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The untaken lines of s of one family and kind (rules: of one chain, in
 * order; the others sorted).  *ret malloc'ed. */
static size_t
lines_of(const struct dn_set *s, int fam, char kind, const char *chain,
    const char ***ret)
{
	const char **v = calloc(s->n + 1, sizeof(*v));
	size_t n = 0;

	ck_assert_ptr_nonnull(v);
	for (size_t i = 0; i < s->n; i++) {
		const struct dn_line *l = &s->v[i];

		if (l->taken || l->fam != fam || l->kind != kind ||
		    (chain != NULL && strcmp(l->obj, chain) != 0))
			continue;
		v[n++] = l->text;
	}
	if (kind != '-')
		qsort(v, n, sizeof(*v), cmp_text);
	*ret = v;
	return n;
}

static unsigned int
compare_lines(const struct dn_set *want, const struct dn_set *got, int fam,
    char kind, const char *chain, FILE *log)
{
	static const char *const what[] = { "%maps and sets", "+elements",
	    ":chains" };
	const char **a, **b;
	size_t na = lines_of(want, fam, kind, chain, &a);
	size_t nb = lines_of(got, fam, kind, chain, &b);
	bool same = na == nb;

	for (size_t i = 0; same && i < na; i++)
		same = strcmp(a[i], b[i]) == 0;
	if (!same && log) {
		const char *w = "";

		for (size_t i = 0; i < LEN(what); i++)
			if (what[i][0] == kind)
				w = what[i] + 1;
		fprintf(log, "*%s %s%s differ:\n  Docker:\n", fam == AF_INET ?
		    "ip" : "ip6", chain ? "the rules of " : w, chain ? chain :
		    "");
		for (size_t i = 0; i < na; i++)
			fprintf(log, "    %s\n", a[i]);
		fprintf(log, "  cbridge:\n");
		for (size_t i = 0; i < nb; i++)
			fprintf(log, "    %s\n", b[i]);
	}
	free(a);
	free(b);
	return same ? 0 : 1;
}

/* Whether a rule of the chain of both[k]->v[i] (its family) comes
 * before it, in both[0] and then both[1]. */
static bool
chain_before(const struct dn_set *const both[2], size_t k, size_t i)
{
	const struct dn_line *l = &both[k]->v[i];

	for (size_t kk = 0; kk <= k; kk++)
		for (size_t j = 0; j < (kk < k ? both[kk]->n : i); j++) {
			const struct dn_line *o = &both[kk]->v[j];

			if (o->kind == '-' && !o->taken && o->fam == l->fam &&
			    strcmp(o->obj, l->obj) == 0)
				return true;
		}
	return false;
}

/* Compares want (Docker) and got (cbridge) in the families of fams; the
 * number of differences. */
static unsigned int
compare_sets(const struct dn_set *want, const struct dn_set *got,
    unsigned int fams, FILE *log)
{
	const struct dn_set *const both[2] = { want, got };
	unsigned int bad = 0;

	for (size_t k = 0; k < 2; k++)
		for (size_t i = 0; i < both[k]->n; i++)
			if (!(fam_bit(both[k]->v[i].fam) & fams)) {
				if (log)
					fprintf(log, "%s has a table of a "
					    "family the scenario does not "
					    "compare: %s\n", k ? "cbridge" :
					    "the vector", both[k]->v[i].text);
				return 1;
			}
	for (int f = AF_INET; f != 0; f = f == AF_INET ? AF_INET6 : 0) {
		if (!(fams & fam_bit(f)))
			continue;
		bad += compare_lines(want, got, f, '%', NULL, log);
		bad += compare_lines(want, got, f, '+', NULL, log);
		bad += compare_lines(want, got, f, ':', NULL, log);
		/* Each chain with rules on either side, once. */
		for (size_t k = 0; k < 2; k++)
			for (size_t i = 0; i < both[k]->n; i++) {
				const struct dn_line *l = &both[k]->v[i];

				if (l->kind == '-' && !l->taken &&
				    l->fam == f && !chain_before(both, k, i))
					bad += compare_lines(want, got, f, '-',
					    l->obj, log);
			}
	}
	return bad;
}

/* The number of differences between sc's vector and cbridge's plan that
 * no exception accounts for, and of exceptions that do not apply. */
static unsigned int
run_scenario(const struct dn_scenario *sc, const struct dn_exctab *t,
    FILE *log)
{
	struct dn_set want = { 0 }, got = { 0 };
	unsigned int bad = 1;

	if (vector_read(sc->file, sc->vector, &want, log) < 0 ||
	    plan_read(&sc->model.m, &got, log) < 0)
		goto out;
	bad = apply_exceptions(sc, t, &want, &got, log);
	take_unchecked(&want, &got);
	bad += compare_sets(&want, &got, sc->fams, log);
out:
	set_done(&want);
	set_done(&got);
	return bad;
}

/* --- tests ------------------------------------------------------------------ */

static void
check_scenario(const struct dn_scenario *sc)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *log = open_memstream(&buf, &len);
	unsigned int bad;

	ck_assert_ptr_nonnull(log);
	bad = run_scenario(sc, &all_exceptions, log);
	ck_assert_int_eq(fclose(log), 0);
	if (bad != 0)
		fprintf(stderr, "--- scenario %s against %s%s.vectors, vector "
		    "%s:\n%s", sc->name, DN_DIR, sc->file, sc->vector, buf);
	free(buf);
	ck_assert_msg(bad == 0, "scenario %s: %u difference(s) from Docker's "
	    "rules (printed above)", sc->name, bad);
}

/* TestNftabler's options, each combination. */
START_TEST(unit_vectors)
{
	static struct dn_scenario sc;

	unit_scenario((size_t)_i, &sc);
	check_scenario(&sc);
}
END_TEST

/* nftablesdoc's daemons: several networks side by side. */
START_TEST(daemon_vectors)
{
	static struct dn_scenario sc;

	doc_scenario((size_t)_i, &sc);
	check_scenario(&sc);
}
END_TEST

/* The README's table of differences: the rows of its nftables section. */
static char *
readme_section(void)
{
	static const char head[] = "\n## Differences from Docker's nftables "
	    "rules\n";
	char *readme = NULL, *s, *end;
	size_t len = 0;
	FILE *f = fopen("tests/golden/README.md", "r");

	ck_assert_ptr_nonnull(f);
	ck_assert_int_gt(getdelim(&readme, &len, '\0', f), 0);
	fclose(f);
	s = strstr(readme, head);
	ck_assert_msg(s != NULL, "tests/golden/README.md has no section "
	    "\"%s\"", head + 4);
	s += strlen(head);
	if ((end = strstr(s, "\n## ")) != NULL)
		end[1] = '\0';
	memmove(readme, s, strlen(s) + 1);
	return readme;
}

struct dn_used {
	size_t	nvec;
	size_t	unused;
};

static void
vector_used(const char *file, const char *name, void *arg)
{
	struct dn_used *u = arg;
	static struct dn_scenario sc;
	bool used = false;

	u->nvec++;
	for (size_t i = 0; !used && i < NUNIT; i++) {
		unit_scenario(i, &sc);
		used = strcmp(sc.file, file) == 0 &&
		    strcmp(sc.vector, name) == 0;
	}
	for (size_t i = 0; !used && i < DN_NDOC; i++) {
		doc_scenario(i, &sc);
		used = strcmp(sc.file, file) == 0 &&
		    strcmp(sc.vector, name) == 0;
	}
	if (!used) {
		fprintf(stderr, "%s%s.vectors: vector %s is compared by no "
		    "scenario\n", DN_DIR, file, name);
		u->unused++;
	}
}

/* Each exception is a row of the nftables table in tests/golden/README.md
 * and each row an exception; each exception is expected somewhere; each
 * vector is compared by some scenario. */
START_TEST(nothing_unused)
{
	static const char *const files[] = { "nat", "nat-unprotected",
	    "routed", "internal", "daemon" };
	static struct dn_scenario sc;
	char *readme = readme_section(), row[64];
	struct dn_used u = { 0 };

	for (size_t i = 0; i < NEXC; i++) {
		snprintf(row, sizeof(row), "\n| `%s` |", exceptions[i].name);
		ck_assert_msg(strstr(readme, row) != NULL, "exception %s has "
		    "no row in the nftables table of tests/golden/README.md",
		    exceptions[i].name);
	}
	for (const char *r = readme; (r = strstr(r, "\n| `")) != NULL; r++) {
		size_t n = strcspn(r + 4, "`");

		snprintf(row, sizeof(row), "%.*s", (int)n, r + 4);
		ck_assert_msg(exception_find(&all_exceptions, row) != NULL,
		    "the nftables table of tests/golden/README.md lists %s, "
		    "which is no exception", row);
	}
	free(readme);

	for (size_t i = 0; i < NEXC; i++) {
		const struct dn_exception *e = &exceptions[i];
		bool used = e->every || e->kind == DN_COMMENT;

		for (size_t j = 0; !used && j < NUNIT + DN_NDOC; j++) {
			if (j < NUNIT)
				unit_scenario(j, &sc);
			else
				doc_scenario(j - NUNIT, &sc);
			used = expects(&sc, e->name);
		}
		ck_assert_msg(used, "exception %s is expected by no scenario",
		    e->name);
	}
	for (size_t i = 0; i < LEN(files); i++)
		ck_assert_int_eq(vector_names(files[i], vector_used, &u), 0);
	ck_assert_uint_eq(u.unused, 0);
	ck_assert_uint_ge(u.nvec, 70);
}
END_TEST

/* The comparison finds what it is for. */
START_TEST(differences_found)
{
	static struct dn_scenario sc, other;
	/* An exception for a difference that is not there. */
	static const struct dn_exception stale = { .name = "stale",
	    .kind = DN_EXTRA, .open = true, .family = AF_INET,
	    .line = "-A raw-PREROUTING ip daddr <ep1> counter drop" };
	struct dn_exception v[NEXC + 1];
	struct dn_exctab t = { v, NEXC + 1 };
	char *buf = NULL;
	size_t len = 0;
	FILE *log;

	/* ICC off against the vector of ICC on. */
	unit_scenario(F_ICC | F_MASQ, &sc);
	unit_scenario(F_MASQ, &other);
	snprintf(other.vector, sizeof(other.vector), "%s", sc.vector);
	ck_assert_uint_gt(run_scenario(&other, &all_exceptions, NULL), 0);
	/* Routed against nat's vector: no DNAT, no loopback drop. */
	unit_scenario((size_t)DN_ROUTED * F_ALL + (F_ICC | F_BINDLH), &other);
	snprintf(other.file, sizeof(other.file), "nat");
	ck_assert_uint_gt(run_scenario(&other, &all_exceptions, NULL), 0);
	/* An unknown exception; one whose lines are not there (WSL2 without
	 * a port on loopback). */
	unit_scenario(F_ICC | F_MASQ, &other);
	other.expect[1] = "no_such_exception";
	ck_assert_uint_gt(run_scenario(&other, &all_exceptions, NULL), 0);
	unit_scenario(F_ICC | F_MASQ | F_WSL2, &other);
	ck_assert_uint_eq(run_scenario(&other, &all_exceptions, NULL), 0);
	other.expect[1] = "wsl2_loopback";
	ck_assert_uint_gt(run_scenario(&other, &all_exceptions, NULL), 0);
	/* A family the scenario does not compare. */
	unit_scenario(F_ICC | F_MASQ, &other);
	other.fams = DN_V4;
	ck_assert_uint_gt(run_scenario(&other, &all_exceptions, NULL), 0);

	/* A stale exception fails, and is what fails. */
	memcpy(v, exceptions, sizeof(exceptions));
	v[NEXC] = stale;
	ck_assert_uint_eq(run_scenario(&sc, &t, NULL), 0);
	sc.expect[1] = "stale";
	ck_assert_ptr_nonnull(log = open_memstream(&buf, &len));
	ck_assert_uint_eq(run_scenario(&sc, &t, log), 1);
	ck_assert_int_eq(fclose(log), 0);
	ck_assert_msg(strstr(buf, "exception stale does not apply") != NULL,
	    "the stale exception is not what failed: %s", buf);
	free(buf);
}
END_TEST

/* Placeholders replace whole values only; a rule keeps exactly one
 * comment of cbridge's. */
START_TEST(normalisation)
{
	static struct dn_scenario sc;
	static const struct {
		const char *in, *out;
	} lines[] = {
		{ "-A filter-forward-in__br-dummy iifname \"br-dummy\" accept",
		  "-A filter-forward-in__<br1> iifname \"<br1>\" accept" },
		{ "oifname \"br-dummy2\"", "oifname \"br-dummy2\"" },
		{ "ip saddr 192.168.0.0/24", "ip saddr <sub1>/24" },
		{ "dnat to 192.168.0.2:80", "dnat to <ep1>:80" },
		{ "ip daddr 192.168.0.20", "ip daddr 192.168.0.20" },
		{ "ip6 saddr fd49:efd7:54aa::/64", "ip6 saddr <sub1-v6>/64" },
		{ "dnat to [fd49:efd7:54aa::1]:80", "dnat to [<ep1-v6>]:80" },
		{ "ip6 daddr fd49:efd7:54aa::12", "ip6 daddr fd49:efd7:54aa::12" },
		{ "ip6 daddr fd49:efd7:54aa::1:2",
		  "ip6 daddr fd49:efd7:54aa::1:2" },
		{ "snat to 192.168.123.0", "snat to <snat1>" },
		{ "snat to fd34:d0d4:672f::123", "snat to <snat1-v6>" },
		{ "ip daddr 127.0.0.1 iifname != \"lo\"",
		  "ip daddr 127.0.0.1 iifname != \"lo\"" },
	};
	struct dn_names nm;
	char out[DN_LINELEN], rule[DN_LINELEN];
	int prio;

	unit_scenario(F_SNAT, &sc);
	names_of(&sc.model.m, &nm);
	for (size_t i = 0; i < LEN(lines); i++) {
		names_apply(&nm, lines[i].in, out, sizeof(out));
		ck_assert_str_eq(out, lines[i].out);
	}
	snprintf(rule, sizeof(rule), "counter drop comment \"cbridge:base:"
	    "0123abcd\"");
	ck_assert_int_eq(strip_comment(rule), 0);
	ck_assert_str_eq(rule, "counter drop");
	ck_assert_int_eq(strip_comment(rule), -1);
	snprintf(rule, sizeof(rule), "counter drop comment \"DROP\"");
	ck_assert_int_eq(strip_comment(rule), -1);
	snprintf(rule, sizeof(rule), "counter drop comment \"cbridge:a\" "
	    "comment \"cbridge:b\"");
	ck_assert_int_eq(strip_comment(rule), -1);
	snprintf(rule, sizeof(rule), "counter drop comment \"cbridge:\"");
	ck_assert_int_eq(strip_comment(rule), -1);
	ck_assert_int_eq(prio_number("dstnat", &prio), 0);
	ck_assert_int_eq(prio, -100);
	ck_assert_int_eq(prio_number("-100", &prio), 0);
	ck_assert_int_eq(prio, -100);
	ck_assert_int_eq(prio_number("mangle", &prio), -1);
}
END_TEST

/* Flattening checks that each rule is reached by its key, and keeps the
 * networks' order. */
START_TEST(flattened)
{
	static const char *const lines[] = {
		"%map nat-dnat-jumps inet_proto . inet_service : verdict",
		"+nat-dnat-jumps tcp . 8080 : jump nat-dnat__<br1>",
		"+nat-dnat-jumps tcp . 8081 : jump nat-dnat__<br2>",
		":nat-prerouting-and-output",
		"-A nat-prerouting-and-output meta l4proto . th dport vmap "
		"@nat-dnat-jumps",
		":nat-dnat__<br1>",
		"-A nat-dnat__<br1> tcp dport 8080 counter dnat to <ep1>:80",
		":nat-dnat__<br2>",
		"-A nat-dnat__<br2> tcp dport 8081 counter dnat to <ep2>:80",
	};
	const struct dn_exception *e = NULL;
	struct dn_set s = { 0 };
	const char **v;

	for (size_t i = 0; i < NEXC && e == NULL; i++)
		if (exceptions[i].kind == DN_DISPATCH &&
		    strcmp(exceptions[i].line, "nat-dnat-jumps") == 0)
			e = &exceptions[i];
	ck_assert_ptr_nonnull(e);
	for (size_t i = 0; i < LEN(lines); i++)
		ck_assert_int_eq(set_add(&s, AF_INET, lines[i]), 0);
	ck_assert_uint_eq(check_dispatch(&all_exceptions, DN_V4, &s, NULL), 0);
	/* An element of the wrong key: neither it nor the rule is right. */
	snprintf(s.v[2].text, sizeof(s.v[2].text), "+nat-dnat-jumps tcp . 80 "
	    ": jump nat-dnat__<br2>");
	ck_assert_uint_eq(check_dispatch(&all_exceptions, DN_V4, &s, NULL), 2);
	/* A rule of no map's shape. */
	snprintf(s.v[2].text, sizeof(s.v[2].text), "+nat-dnat-jumps tcp . "
	    "8081 : jump nat-dnat__<br2>");
	snprintf(s.v[8].text, sizeof(s.v[8].text), "-A nat-dnat__<br2> "
	    "counter dnat to <ep2>:80");
	ck_assert_uint_eq(check_dispatch(&all_exceptions, DN_V4, &s, NULL), 2);
	snprintf(s.v[8].text, sizeof(s.v[8].text), "-A nat-dnat__<br2> "
	    "tcp dport 8081 counter dnat to <ep2>:80");
	ck_assert_uint_eq(flatten(&s, e, AF_INET), 2);
	ck_assert_uint_eq(lines_of(&s, AF_INET, '-',
	    "nat-prerouting-and-output", &v), 2);
	ck_assert_str_eq(v[0], "-A nat-prerouting-and-output tcp dport 8080 "
	    "counter dnat to <ep1>:80");
	ck_assert_str_eq(v[1], "-A nat-prerouting-and-output tcp dport 8081 "
	    "counter dnat to <ep2>:80");
	free(v);
	ck_assert_uint_eq(lines_of(&s, AF_INET, ':', NULL, &v), 1);
	ck_assert_str_eq(v[0], ":nat-prerouting-and-output");
	free(v);
	ck_assert_uint_eq(lines_of(&s, AF_INET, '+', NULL, &v), 0);
	free(v);
	set_done(&s);
}
END_TEST

Suite *
dockernft_suite(void)
{
	Suite *s = suite_create("dockernft");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, unit_vectors, 0, (int)NUNIT);
	tcase_add_loop_test(tc, daemon_vectors, 0, (int)DN_NDOC);
	tcase_add_test(tc, nothing_unused);
	tcase_add_test(tc, differences_found);
	tcase_add_test(tc, normalisation);
	tcase_add_test(tc, flattened);
	suite_add_tcase(s, tc);
	return s;
}
