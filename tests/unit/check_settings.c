/*
 * DNS_MODE: how containers reach the responder.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "plugin/settings.h"
#include "tests/unit/suites.h"

static const char *const *env;

static const char *
getenv_fake(const char *name)
{
	for (size_t i = 0; env[i] != NULL; i += 2)
		if (strcmp(env[i], name) == 0)
			return env[i + 1];
	return NULL;
}

static int
load_env(const char *const *vars, struct settings *s, char *err,
    size_t errlen)
{
	char *argv[] = { "cbridge", NULL };

	env = vars;
	return settings_load(1, argv, getenv_fake, s, err, errlen);
}

START_TEST(dns_mode_values)
{
	static const struct {
		const char	*vars[5];
		enum dns_mode	 want;
	} cases[] = {
		{ { NULL }, DNS_MODE_INTERCEPT },
		{ { "DNS_MODE", "", NULL }, DNS_MODE_INTERCEPT },
		{ { "DNS_MODE", "intercept", NULL }, DNS_MODE_INTERCEPT },
		{ { "DNS_MODE", "address", NULL }, DNS_MODE_ADDRESS },
		{ { "DNS_MODE", "off", NULL }, DNS_MODE_OFF },
		/* The older switch still turns it off, whatever the mode. */
		{ { "DNS_ADDRESS", "off", "DNS_MODE", "intercept", NULL },
		    DNS_MODE_OFF },
		/* No IPv6 redirect of 127.0.0.11: the default steps back. */
		{ { "DNS_ADDRESS", "fd00:53::53", NULL }, DNS_MODE_ADDRESS },
		{ { "DNS_ADDRESS", "fd00:53::53", "DNS_MODE", "address", NULL },
		    DNS_MODE_ADDRESS },
		{ { "DNS_ADDRESS", "10.53.0.1", NULL }, DNS_MODE_INTERCEPT },
	};
	struct settings s;
	char err[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err[0] = '\0';
		ck_assert_msg(load_env(cases[i].vars, &s, err, sizeof(err)) ==
		    0, "case %zu: %s", i, err);
		ck_assert_msg(s.dns_mode == cases[i].want, "case %zu: %s", i,
		    settings_dns_mode_str(s.dns_mode));
		ck_assert(s.dns_enabled == (cases[i].want != DNS_MODE_OFF));
	}
	ck_assert_str_eq(settings_dns_mode_str(DNS_MODE_INTERCEPT),
	    "intercept");
	ck_assert_str_eq(settings_dns_mode_str(DNS_MODE_ADDRESS), "address");
	ck_assert_str_eq(settings_dns_mode_str(DNS_MODE_OFF), "off");
}
END_TEST

START_TEST(dns_mode_refused)
{
	static const char *const bad[][5] = {
		{ "DNS_MODE", "redirect", NULL, NULL, "'intercept', 'address'" },
		{ "DNS_MODE", "Intercept", NULL, NULL, "is not" },
		{ "DNS_MODE", "intercept", "DNS_ADDRESS", "fd00:53::53",
		    "needs an IPv4" },
	};
	struct settings s;
	char err[256];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *vars[] = { bad[i][0], bad[i][1], bad[i][2],
		    bad[i][3], NULL };

		err[0] = '\0';
		ck_assert_msg(load_env(vars, &s, err, sizeof(err)) == -EINVAL,
		    "case %zu accepted", i);
		ck_assert_msg(strstr(err, bad[i][4]) != NULL,
		    "case %zu: '%s' lacks '%s'", i, err, bad[i][4]);
	}
}
END_TEST

Suite *
settings_suite(void)
{
	Suite *s = suite_create("settings");
	TCase *tc = tcase_create("dns_mode");

	tcase_add_test(tc, dns_mode_values);
	tcase_add_test(tc, dns_mode_refused);
	suite_add_tcase(s, tc);
	return s;
}
