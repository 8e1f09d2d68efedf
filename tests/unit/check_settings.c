/*
 * The DNS settings: DNS_ADDRESS, upstreams, TTL, cache, paths, and
 * DNS_MODE (how containers reach the responder); FIREWALL_BACKEND.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "plugin/settings.h"
#include "tests/unit/suites.h"

static const char *const *test_env;

static const char *
getenv_test(const char *name)
{
	for (size_t i = 0; test_env[i] != NULL; i += 2)
		if (strcmp(test_env[i], name) == 0)
			return test_env[i + 1];
	return NULL;
}

static int
load(const char *const *vars, struct settings *s, char *err, size_t errlen)
{
	char *argv[] = { "cbridge", NULL };

	test_env = vars;
	return settings_load(1, argv, getenv_test, s, err, errlen);
}

START_TEST(dns_settings_defaults_and_values)
{
	static const char *const none[] = { NULL };
	static const char *const some[] = { "DNS_ADDRESS", "fd00:53::53",
	    "DNS_UPSTREAMS", "192.0.2.1, [2001:db8::1]:5353",
	    "DNS_FORWARD_FROM", "sandbox", "DNS_TTL", "0",
	    "DNS_CACHE_SIZE", "0", "DOCKER_SOCKET", "off",
	    "DOCKER_EXEC_ROOT", "/var/run/docker/",
	    "DOCKER_EXEC_ROOT_MOUNT", "/host/docker-exec", NULL };
	static const char *const off[] = { "DNS_ADDRESS", "off", NULL };
	struct settings s;
	char err[256] = "";

	ck_assert_int_eq(load(none, &s, err, sizeof(err)), 0);
	ck_assert(s.dns_enabled);
	ck_assert_str_eq(s.dns_address, "169.254.53.53");
	ck_assert_int_eq(s.dns_addr.ss_family, AF_INET);
	ck_assert_ptr_null(s.dns_upstreams);
	ck_assert(!s.dns_from_sandbox);
	ck_assert_uint_eq(s.dns_ttl, 600);
	ck_assert_uint_eq(s.dns_cache, SET_DEFAULT_DNS_CACHE);
	ck_assert_str_eq(s.resolv_conf, "/etc/resolv.conf");
	ck_assert_str_eq(s.docker_socket, "/var/run/docker.sock");
	ck_assert_str_eq(s.exec_root, "");
	ck_assert_int_eq(load(some, &s, err, sizeof(err)), 0);
	ck_assert_int_eq(s.dns_addr.ss_family, AF_INET6);
	ck_assert_uint_eq(ntohs(((struct sockaddr_in6 *)&s.dns_addr)->
	    sin6_port), 53);
	ck_assert(s.dns_from_sandbox);
	ck_assert_uint_eq(s.dns_ttl, 0);
	ck_assert_uint_eq(s.dns_cache, 0);
	ck_assert_str_eq(s.docker_socket, "");
	ck_assert_str_eq(s.exec_root, "/var/run/docker");
	ck_assert_int_eq(load(off, &s, err, sizeof(err)), 0);
	ck_assert(!s.dns_enabled);
}
END_TEST

START_TEST(dns_settings_refused)
{
	static const char *const bad[][3] = {
		{ "DNS_ADDRESS", "169.254.53", "not an IPv4 or IPv6" },
		{ "DNS_ADDRESS", "0.0.0.0", "unicast" },
		{ "DNS_ADDRESS", "ff02::1", "unicast" },
		{ "DNS_UPSTREAMS", "resolver.example", "not an IP address" },
		{ "DNS_UPSTREAMS", "1.1.1.1,2.2.2.2,3.3.3.3,4.4.4.4", "3" },
		{ "DNS_FORWARD_FROM", "container", "'host' or 'sandbox'" },
		{ "DNS_TTL", "-1", "DNS_TTL" },
		{ "DNS_TTL", "2147483648", "DNS_TTL" },
		{ "DNS_CACHE_SIZE", "lots", "DNS_CACHE_SIZE" },
		{ "DNS_RESOLV_CONF", "etc/resolv.conf", "absolute" },
		{ "DOCKER_EXEC_ROOT", "/var/run/docker", "go together" },
	};
	struct settings s;
	char err[256];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *vars[] = { bad[i][0], bad[i][1], NULL };

		err[0] = '\0';
		ck_assert_msg(load(vars, &s, err, sizeof(err)) == -EINVAL,
		    "%s=%s accepted", bad[i][0], bad[i][1]);
		ck_assert_msg(strstr(err, bad[i][2]) != NULL,
		    "%s=%s: '%s' lacks '%s'", bad[i][0], bad[i][1], err,
		    bad[i][2]);
	}
}
END_TEST

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
		ck_assert_msg(load(cases[i].vars, &s, err, sizeof(err)) ==
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
		ck_assert_msg(load(vars, &s, err, sizeof(err)) == -EINVAL,
		    "case %zu accepted", i);
		ck_assert_msg(strstr(err, bad[i][4]) != NULL,
		    "case %zu: '%s' lacks '%s'", i, err, bad[i][4]);
	}
}
END_TEST

/* load() with command-line arguments after "cbridge". */
static int
load_args(const char *const *vars, char **args, int nargs,
    struct settings *s, char *err, size_t errlen)
{
	char *argv[8] = { "cbridge" };

	ck_assert_int_lt(nargs, 8);
	for (int i = 0; i < nargs; i++)
		argv[i + 1] = args[i];
	test_env = vars;
	return settings_load(nargs + 1, argv, getenv_test, s, err, errlen);
}

START_TEST(firewall_backend_values)
{
	static const struct {
		const char	*env;		/* NULL: unset */
		const char	*arg;		/* NULL: none */
		enum fw_backend	want;
	} cases[] = {
		{ NULL, NULL, FW_BACKEND_AUTO },
		{ "", NULL, FW_BACKEND_AUTO },
		{ "auto", NULL, FW_BACKEND_AUTO },
		{ "iptables", NULL, FW_BACKEND_IPTABLES },
		{ "nftables", NULL, FW_BACKEND_NFTABLES },
		{ NULL, "nftables", FW_BACKEND_NFTABLES },
		/* The command line wins, also over a value the environment
		 * would have refused. */
		{ "iptables", "nftables", FW_BACKEND_NFTABLES },
		{ "nftables", "auto", FW_BACKEND_AUTO },
		{ "bogus", "iptables", FW_BACKEND_IPTABLES },
	};
	struct settings s;
	char err[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		/* An unset variable: its value NULL. */
		const char *vars[] = { "FIREWALL_BACKEND", cases[i].env, NULL };
		char *args[] = { "--firewall-backend", (char *)cases[i].arg };

		err[0] = '\0';
		ck_assert_msg(load_args(vars, args, cases[i].arg != NULL ? 2 : 0, &s, err,
		    sizeof(err)) == 0, "case %zu: %s", i, err);
		ck_assert_msg(s.fw_backend == cases[i].want,
		    "case %zu: got %s", i, fw_backend_name(s.fw_backend));
	}
}
END_TEST

START_TEST(firewall_backend_refused)
{
	static const char *const bad[] = { "bogus", "IPTABLES", "nft",
	    "iptables ", "legacy" };
	struct settings s;
	char err[256];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *vars[] = { "FIREWALL_BACKEND", bad[i], NULL };
		char *args[] = { "--firewall-backend", (char *)bad[i] };
		char want[64];

		err[0] = '\0';
		ck_assert_int_eq(load(vars, &s, err, sizeof(err)), -EINVAL);
		(void) snprintf(want, sizeof(want), "FIREWALL_BACKEND '%s'",
		    bad[i]);
		ck_assert_msg(strstr(err, want) != NULL, "'%s' lacks '%s'", err,
		    want);
		ck_assert_msg(strstr(err, "auto, iptables, nftables") != NULL,
		    "'%s' does not list the accepted values", err);
		/* From the command line, the message names the option. */
		err[0] = '\0';
		ck_assert_int_eq(load_args((const char *const[]){ NULL }, args,
		    2, &s, err, sizeof(err)), -EINVAL);
		(void) snprintf(want, sizeof(want), "--firewall-backend '%s'",
		    bad[i]);
		ck_assert_msg(strstr(err, want) != NULL, "'%s' lacks '%s'", err,
		    want);
	}
	err[0] = '\0';
	ck_assert_int_eq(load_args((const char *const[]){ NULL },
	    (char *[]){ "--firewall-backend" }, 1, &s, err, sizeof(err)),
	    -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "needs a value"));
	/* --help documents it. */
	ck_assert_ptr_nonnull(strstr(settings_usage(), "FIREWALL_BACKEND"));
	ck_assert_ptr_nonnull(strstr(settings_usage(), "--firewall-backend"));
	ck_assert_ptr_nonnull(strstr(settings_usage(), "cbridge status"));
}
END_TEST

Suite *
settings_suite(void)
{
	Suite *s = suite_create("settings");
	TCase *tc = tcase_create("dns");
	TCase *fw = tcase_create("firewall");

	tcase_add_test(tc, dns_settings_defaults_and_values);
	tcase_add_test(tc, dns_settings_refused);
	tcase_add_test(tc, dns_mode_values);
	tcase_add_test(tc, dns_mode_refused);
	suite_add_tcase(s, tc);
	tcase_add_test(fw, firewall_backend_values);
	tcase_add_test(fw, firewall_backend_refused);
	suite_add_tcase(s, fw);
	return s;
}
