#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <check.h>

#include "plugin/options.h"
#include "tests/unit/suites.h"

static int
parse1(const char *k, const char *v, struct net_opts *o, char *err)
{
	struct opt_kvlist l = { 0 };
	int r;

	ck_assert_int_eq(opt_kvlist_add(&l, k, v), 0);
	r = opt_parse(&l, true, false, false, o, err, 256);
	opt_kvlist_done(&l);
	return r;
}

START_TEST(defaults)
{
	struct net_opts o;
	char err[256];

	ck_assert_int_eq(opt_parse(NULL, true, true, true, &o, err,
	    sizeof(err)), 0);
	ck_assert(o.enable_icc && o.enable_ip_masquerade && o.enable_ipv6 &&
	    o.internal && !o.inhibit_ipv4);
	ck_assert_uint_eq(o.mtu, 0);
	ck_assert_str_eq(o.bridge_name, "");
	ck_assert_int_eq(o.gw_mode_ipv4, GW_MODE_NAT);
}
END_TEST

START_TEST(valid_values)
{
	struct net_opts o;
	char err[256];

	ck_assert_int_eq(parse1(OPT_PREFIX "driver.mtu", "1400", &o, err), 0);
	ck_assert_uint_eq(o.mtu, 1400);
	ck_assert_int_eq(parse1(OPT_BRIDGE_PREFIX "name", "br-x_1", &o, err), 0);
	ck_assert_str_eq(o.bridge_name, "br-x_1");
	ck_assert_int_eq(parse1(OPT_BRIDGE_PREFIX "enable_icc", "False", &o,
	    err), 0);
	ck_assert(!o.enable_icc);
	ck_assert_int_eq(parse1(OPT_BRIDGE_PREFIX "enable_ip_masquerade", "0",
	    &o, err), 0);
	ck_assert(!o.enable_ip_masquerade);
	ck_assert_int_eq(parse1(OPT_BRIDGE_PREFIX "host_binding_ipv4",
	    "127.0.0.1", &o, err), 0);
	ck_assert(o.has_host_binding);
	ck_assert_int_eq(parse1(OPT_BRIDGE_PREFIX "gateway_mode_ipv4",
	    "routed", &o, err), 0);
	ck_assert_int_eq(o.gw_mode_ipv4, GW_MODE_ROUTED);
	ck_assert_int_eq(parse1(OPT_BRIDGE_PREFIX "trusted_host_interfaces",
	    "eth0:eth1", &o, err), 0);
	ck_assert_uint_eq(o.ntrusted, 2);
	ck_assert_str_eq(o.trusted[1], "eth1");
	ck_assert_int_eq(parse1(OPT_PREFIX "container_iface_prefix", "net", &o,
	    err), 0);
	ck_assert_str_eq(o.iface_prefix, "net");
	ck_assert_int_eq(parse1(OPT_PREFIX "host_ipv4", "192.0.2.1", &o,
	    err), 0);
	/* Keys outside the bridge namespace belong to others. */
	ck_assert_int_eq(parse1("acme.vni", "4100", &o, err), 0);
}
END_TEST

START_TEST(invalid_values)
{
	static const char *const bad[][3] = {
		{ OPT_PREFIX "driver.mtu", "abc", "mtu" },
		{ OPT_PREFIX "driver.mtu", "67", "MTU" },
		{ OPT_PREFIX "driver.mtu", "65536", "MTU" },
		{ OPT_PREFIX "driver.mtu", "-1", "MTU" },
		{ OPT_BRIDGE_PREFIX "name", "a-very-long-bridge-name", "bridge name" },
		{ OPT_BRIDGE_PREFIX "name", "bad/name", "bridge name" },
		{ OPT_BRIDGE_PREFIX "name", "bad name", "bridge name" },
		{ OPT_BRIDGE_PREFIX "name", "..", "bridge name" },
		{ OPT_BRIDGE_PREFIX "name", "br\"x", "bridge name" },
		{ OPT_BRIDGE_PREFIX "name", "br*", "bridge name" },
		{ OPT_BRIDGE_PREFIX "name", "br\xc3\xa9", "bridge name" },
		{ OPT_BRIDGE_PREFIX "name", "", "bridge name" },
		{ OPT_BRIDGE_PREFIX "enable_icc", "maybe", "enable_icc" },
		{ OPT_BRIDGE_PREFIX "inhibit_ipv4", "yes", "inhibit_ipv4" },
		{ OPT_BRIDGE_PREFIX "host_binding_ipv4", "1.2.3", "host_binding_ipv4" },
		{ OPT_BRIDGE_PREFIX "gateway_mode_ipv6", "bogus", "gateway_mode_ipv6" },
		{ OPT_BRIDGE_PREFIX "trusted_host_interfaces", "eth0::x", "trusted" },
		{ OPT_BRIDGE_PREFIX "bogus", "1", "unknown option" },
		{ OPT_BRIDGE_PREFIX "default_bridge", "true", "default_bridge" },
		{ OPT_PREFIX "host_ipv4", "fd00::1", "IPv4" },
		{ OPT_PREFIX "container_iface_prefix", "waytoolongprefix", "prefix" },
	};
	struct net_opts o;
	char err[256];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		ck_assert_msg(parse1(bad[i][0], bad[i][1], &o, err) == -EINVAL,
		    "%s=%s accepted", bad[i][0], bad[i][1]);
		ck_assert_msg(strstr(err, bad[i][2]) != NULL,
		    "%s=%s: message '%s' lacks '%s'", bad[i][0], bad[i][1], err,
		    bad[i][2]);
	}
}
END_TEST

START_TEST(ipv6_mtu)
{
	struct opt_kvlist l = { 0 };
	struct net_opts o;
	char err[256];

	ck_assert_int_eq(opt_kvlist_add(&l, OPT_PREFIX "driver.mtu", "1200"), 0);
	ck_assert_int_eq(opt_parse(&l, true, false, false, &o, err,
	    sizeof(err)), 0);
	ck_assert_int_eq(opt_parse(&l, true, true, false, &o, err,
	    sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "1280"));
	opt_kvlist_done(&l);
}
END_TEST

START_TEST(kvlist_limits)
{
	struct opt_kvlist l = { 0 }, c;
	char key[32], big[OPT_VALUE_MAX + 2];

	for (int i = 0; i < OPT_MAX_KV; i++) {
		(void) snprintf(key, sizeof(key), "k%d", i);
		ck_assert_int_eq(opt_kvlist_add(&l, key, "v"), 0);
	}
	ck_assert_int_eq(opt_kvlist_add(&l, "one-more", "v"), -E2BIG);
	ck_assert_int_eq(opt_kvlist_copy(&l, &c), 0);
	ck_assert_str_eq(opt_kvlist_get(&c, "k7"), "v");
	opt_kvlist_done(&c);
	opt_kvlist_done(&l);
	ck_assert_int_eq(opt_kvlist_add(&l, "a", "1"), 0);
	ck_assert_int_eq(opt_kvlist_add(&l, "a", "2"), -EEXIST);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ck_assert_int_eq(opt_kvlist_add(&l, "b", big), -E2BIG);
	opt_kvlist_done(&l);
}
END_TEST

START_TEST(bools_like_go)
{
	bool b;

	ck_assert_int_eq(opt_parse_bool("T", &b), 0);
	ck_assert(b);
	ck_assert_int_eq(opt_parse_bool("FALSE", &b), 0);
	ck_assert(!b);
	ck_assert_int_eq(opt_parse_bool("yes", &b), -EINVAL);
	ck_assert_int_eq(opt_parse_bool("", &b), -EINVAL);
}
END_TEST

Suite *
options_suite(void)
{
	Suite *s = suite_create("options");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, defaults);
	tcase_add_test(tc, valid_values);
	tcase_add_test(tc, invalid_values);
	tcase_add_test(tc, ipv6_mtu);
	tcase_add_test(tc, kvlist_limits);
	tcase_add_test(tc, bools_like_go);
	suite_add_tcase(s, tc);
	return s;
}
