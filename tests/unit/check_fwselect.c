/*
 * FIREWALL_BACKEND: the names, and what auto chooses from what the host
 * offers (firewall/select.c), with the reason it gives.
 */
#include <errno.h>
#include <string.h>

#include <check.h>

#include "firewall/firewall.h"
#include "tests/unit/suites.h"

START_TEST(names_round_trip)
{
	static const enum fw_backend all[] = { FW_BACKEND_AUTO,
	    FW_BACKEND_IPTABLES, FW_BACKEND_NFTABLES };
	enum fw_backend b;

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		ck_assert_int_eq(fw_backend_parse(fw_backend_name(all[i]), &b),
		    0);
		ck_assert_int_eq(b, all[i]);
	}
	ck_assert_int_eq(fw_backend_parse("nft", &b), -EINVAL);
	ck_assert_int_eq(fw_backend_parse("", &b), -EINVAL);
	ck_assert_int_eq(fw_backend_parse(NULL, &b), -EINVAL);
	ck_assert_int_eq(fw_backend_parse("IPTABLES", &b), -EINVAL);
	ck_assert_str_eq(fw_backend_name((enum fw_backend)7), "unknown");
}
END_TEST

/* One row: what the host offers, what is asked, what is chosen, and a
 * word the reason must hold. */
static const struct {
	bool		legacy, docker_nft;
	enum fw_backend	want, got;
	const char	*why;
} rows[] = {
	{ true, false, FW_BACKEND_AUTO, FW_BACKEND_IPTABLES, "legacy" },
	{ false, false, FW_BACKEND_AUTO, FW_BACKEND_NFTABLES, "no legacy" },
	{ true, true, FW_BACKEND_AUTO, FW_BACKEND_NFTABLES, "docker-bridges" },
	{ false, true, FW_BACKEND_AUTO, FW_BACKEND_NFTABLES, "docker-bridges" },
	/* Asked for: chosen whatever the host offers. */
	{ false, true, FW_BACKEND_IPTABLES, FW_BACKEND_IPTABLES,
	    "FIREWALL_BACKEND=iptables" },
	{ true, false, FW_BACKEND_NFTABLES, FW_BACKEND_NFTABLES,
	    "FIREWALL_BACKEND=nftables" },
};

START_TEST(auto_chooses)
{
	struct fw_backend_probe p = { .legacy = rows[_i].legacy,
	    .docker_nft = rows[_i].docker_nft };
	char why[160] = "";

	ck_assert_int_eq(fw_backend_choose(rows[_i].want, &p, why,
	    sizeof(why)), rows[_i].got);
	ck_assert_msg(strstr(why, rows[_i].why) != NULL,
	    "row %d: reason '%s' does not say '%s'", _i, why, rows[_i].why);
}
END_TEST

Suite *
fwselect_suite(void)
{
	Suite *s = suite_create("fwselect");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, names_round_trip);
	tcase_add_loop_test(tc, auto_chooses, 0,
	    (int)(sizeof(rows) / sizeof(rows[0])));
	suite_add_tcase(s, tc);
	return s;
}
