/*
 * The iptables planner (firewall/rules.c) against the golden files in
 * tests/golden/: one model per option combination, printed canonically.
 * CBRIDGE_UPDATE_GOLDEN=1 rewrites the files (then review the diff).
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "firewall/firewall.h"
#include "tests/golden/cases.h"
#include "tests/unit/helpers.h"
#include "tests/unit/suites.h"

static char *
slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	long n;

	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 &&
	    fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)n + 1)) != NULL) {
		if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
			free(buf);
			buf = NULL;
		} else {
			buf[n] = '\0';
		}
	}
	fclose(f);
	return buf;
}

#define PX(text)	th_prefix(text)

static char *
plan_text(const struct fw_model *m)
{
	struct fw_ruleset rs;
	char err[256] = "", *text = NULL;

	ck_assert_msg(fw_rules_compute(m, &rs, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(fw_ruleset_format(&rs, &text), 0);
	fw_ruleset_done(&rs);
	return text;
}

START_TEST(golden_files)
{
	const struct golden_case *c = &golden_cases[_i];
	char path[256], *got, *want;

	snprintf(path, sizeof(path), "tests/golden/%s.rules", c->name);
	got = plan_text(&c->model);
	if (getenv("CBRIDGE_UPDATE_GOLDEN") != NULL) {
		FILE *f = fopen(path, "w");

		ck_assert_ptr_nonnull(f);
		fputs(got, f);
		ck_assert_int_eq(fclose(f), 0);
	}
	want = slurp(path);
	ck_assert_msg(want != NULL, "cannot read %s", path);
	ck_assert_msg(strcmp(got, want) == 0, "%s differs from the plan:\n%s",
	    path, got);
	free(got);
	free(want);
}
END_TEST

START_TEST(no_networks_no_rules)
{
	struct fw_model m = { 0 };
	struct fw_ruleset rs;

	ck_assert_int_eq(fw_rules_compute(&m, &rs, NULL, 0), 0);
	ck_assert_uint_eq(rs.nrules, 0);
	ck_assert_uint_eq(rs.nchains, 0);
	fw_ruleset_done(&rs);
}
END_TEST

/* Every rule is tagged, and no two rules of a chain share a tag. */
START_TEST(comments_tag_and_identify)
{
	const struct golden_case *c = golden_find("ports");
	struct fw_ruleset rs;

	ck_assert_int_eq(fw_rules_compute(&c->model, &rs, NULL, 0), 0);
	ck_assert_uint_gt(rs.nrules, 20);
	for (size_t i = 0; i < rs.nrules; i++) {
		ck_assert_msg(strncmp(rs.rules[i].comment, "cbridge:", 8) == 0,
		    "%s", rs.rules[i].comment);
		for (size_t j = i + 1; j < rs.nrules; j++)
			ck_assert(strcmp(rs.rules[i].comment,
			    rs.rules[j].comment) != 0);
	}
	fw_ruleset_done(&rs);
}
END_TEST

/* Two bindings to one container port need one ACCEPT and one hairpin
 * MASQUERADE, but two DNATs. */
START_TEST(equal_rules_once)
{
	struct fw_net n = { .id = "1111111111111111111111111111111111111111111111111111111111111111",
	    .bridge = "br-n1", .ipv4 = true, .subnet4 = PX("172.30.0.9/24"),
	    .icc = true, .masquerade = true };
	struct fw_port p[2] = {
		{ .family = AF_INET, .proto = IPPROTO_TCP, .host_port = 80,
		  .cip = PX("172.30.0.2"), .cport = 80 },
		{ .family = AF_INET, .proto = IPPROTO_TCP, .host_port = 81,
		  .cip = PX("172.30.0.2"), .cport = 80 },
	};
	struct fw_model m = { .nets = &n, .nnets = 1, .ports = p, .nports = 2 };
	char *text;

	memcpy(p[0].net_id, n.id, sizeof(n.id));
	memcpy(p[1].net_id, n.id, sizeof(n.id));
	text = plan_text(&m);
	/* The subnet is printed masked, as iptables-save shows it. */
	ck_assert_ptr_nonnull(strstr(text, "-s 172.30.0.0/24 "));
	ck_assert_ptr_nonnull(strstr(text, "--dport 80 -m comment"));
	ck_assert_ptr_nonnull(strstr(text, "--dport 81 -m comment"));
	{
		size_t accepts = 0;

		for (char *s = text; (s = strstr(s, "-j ACCEPT")) != NULL; s++)
			if (strstr(s - 120 > text ? s - 120 : text,
			    "--dport 80") != NULL)
				accepts++;
		ck_assert_uint_ge(accepts, 1);
	}
	{
		const char *a = strstr(text, "-A DOCKER -d 172.30.0.2/32");

		ck_assert_ptr_nonnull(a);
		ck_assert_ptr_null(strstr(a + 1, "-A DOCKER -d 172.30.0.2/32"));
	}
	free(text);
}
END_TEST

START_TEST(bad_models_refused)
{
	struct fw_net n = { .id = "1111111111111111111111111111111111111111111111111111111111111111",
	    .bridge = "br-n1", .ipv4 = true, .subnet4 = PX("172.30.0.0/24") };
	struct fw_port p = { .family = AF_INET, .proto = IPPROTO_TCP,
	    .host_port = 80, .cip = PX("172.30.0.2"), .cport = 80 };
	struct fw_ep ep = { .addr4 = PX("172.30.0.2") };
	struct fw_model m = { .nets = &n, .nnets = 1 };
	struct fw_ruleset rs;
	char err[256];

	memcpy(p.net_id, n.id, sizeof(n.id));
	memcpy(ep.net_id, n.id, sizeof(n.id));
#define REFUSED(what) do { \
		err[0] = '\0'; \
		ck_assert_int_eq(fw_rules_compute(&m, &rs, err, sizeof(err)), \
		    -EINVAL); \
		ck_assert_msg(err[0] != '\0', "%s: no message", what); \
		ck_assert_uint_eq(rs.nrules, 0); \
	} while (0)
	n.subnet4.plen = 33;
	REFUSED("prefix length");
	memset(&n.subnet4, 0, sizeof(n.subnet4));
	REFUSED("no subnet");
	n.subnet4 = PX("fd00::/64");
	REFUSED("wrong family");
	n.subnet4 = PX("172.30.0.0/24");
	snprintf(n.bridge, sizeof(n.bridge), "br\"x");
	REFUSED("quote in bridge");
	snprintf(n.bridge, sizeof(n.bridge), "br-n1");
	n.snat4 = PX("fd00::5");
	REFUSED("snat");
	n.snat4.family = AF_UNIX;
	REFUSED("snat family");
	memset(&n.snat4, 0, sizeof(n.snat4));
	m.ports = &p;
	m.nports = 1;
	p.host_port = 0;
	REFUSED("host port 0");
	p.host_port = 80;
	p.proto = IPPROTO_ICMP;
	REFUSED("protocol");
	p.proto = IPPROTO_TCP;
	p.cip = PX("fd00::2");
	REFUSED("container address family");
	memset(&p.cip, 0, sizeof(p.cip));
	REFUSED("no container address");
	p.cip = PX("172.30.0.2");
	p.net_id[0] = '2';
	REFUSED("unknown network");
	p.net_id[0] = '1';
	m.eps = &ep;
	m.neps = 1;
	ep.addr4.family = 99;
	REFUSED("endpoint address");
	ep.addr4 = PX("fd00::2");
	REFUSED("endpoint address family");
	ep.addr4 = PX("172.30.0.2");
	ck_assert_int_eq(fw_rules_compute(&m, &rs, err, sizeof(err)), 0);
	fw_ruleset_done(&rs);
#undef REFUSED
}
END_TEST

Suite *
rules_suite(void)
{
	Suite *s = suite_create("rules");
	TCase *tc = tcase_create("core");
	int n = 0;

	while (golden_cases[n].name != NULL)
		n++;
	tcase_add_loop_test(tc, golden_files, 0, n);
	tcase_add_test(tc, no_networks_no_rules);
	tcase_add_test(tc, comments_tag_and_identify);
	tcase_add_test(tc, equal_rules_once);
	tcase_add_test(tc, bad_models_refused);
	suite_add_tcase(s, tc);
	return s;
}
