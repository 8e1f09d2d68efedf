#include <errno.h>
#include <string.h>

#include <check.h>

#include "lib/prefix.h"
#include "tests/unit/suites.h"

static struct prefix
P(const char *s)
{
	struct prefix p;

	ck_assert_msg(prefix_parse(s, &p) == 0, "parse %s", s);
	return p;
}

START_TEST(parse_and_format)
{
	char buf[PREFIX_STRLEN];
	struct prefix p;

	p = P("172.30.0.1/24");
	ck_assert_int_eq(p.family, AF_INET);
	ck_assert_uint_eq(p.plen, 24);
	ck_assert_str_eq(prefix_format(&p, buf, sizeof(buf)), "172.30.0.1/24");
	ck_assert(!prefix_is_masked(&p));
	prefix_mask(&p);
	ck_assert_str_eq(prefix_format(&p, buf, sizeof(buf)), "172.30.0.0/24");
	p = P("fd00:30::1/64");
	ck_assert_int_eq(p.family, AF_INET6);
	ck_assert_str_eq(prefix_format_addr(&p, buf, sizeof(buf)), "fd00:30::1");
	ck_assert_int_eq(prefix_parse_addr("10.0.0.1", &p), 0);
	ck_assert_uint_eq(p.plen, 32);
}
END_TEST

START_TEST(parse_rejects)
{
	static const char *const bad[] = { "", "/", "10.0.0.0", "10.0.0.0/33",
	    "10.0.0.0/-1", "10.0.0.0/ 8", "10.0.0/8", "fd00::/129",
	    "10.0.0.0/08x", "x/8", "10.0.0.0/1234", "::/", NULL };
	struct prefix p;

	for (int i = 0; bad[i] != NULL; i++)
		ck_assert_msg(prefix_parse(bad[i], &p) == -EINVAL, "%s", bad[i]);
	ck_assert_int_eq(prefix_parse_addr("10.0.0.1/8", &p), -EINVAL);
	ck_assert_int_eq(prefix_parse(NULL, &p), -EINVAL);
}
END_TEST

START_TEST(overlap_contains)
{
	struct prefix a = P("10.0.0.0/16"), b = P("10.0.5.0/24"),
	    c = P("10.1.0.0/24"), d = P("fd00::/64");

	ck_assert(prefix_overlaps(&a, &b));
	ck_assert(prefix_overlaps(&b, &a));
	ck_assert(!prefix_overlaps(&a, &c));
	ck_assert(!prefix_overlaps(&a, &d));
	ck_assert(prefix_contains(&a, &b));
	ck_assert(!prefix_contains(&b, &a));
}
END_TEST

START_TEST(offsets)
{
	struct prefix net = P("10.0.0.0/16"), r, six = P("fd00:1::/64");
	char buf[PREFIX_STRLEN];
	uint64_t off;

	ck_assert_int_eq(prefix_add_offset(&net, 258, &r), 0);
	ck_assert_str_eq(prefix_format(&r, buf, sizeof(buf)), "10.0.1.2/16");
	ck_assert_int_eq(prefix_offset_of(&net, &r, &off), 0);
	ck_assert_uint_eq(off, 258);
	ck_assert_int_eq(prefix_add_offset(&net, 65536, &r), -ERANGE);
	ck_assert_int_eq(prefix_add_offset(&six, 0xffffffffffffffffull, &r), 0);
	ck_assert_str_eq(prefix_format_addr(&r, buf, sizeof(buf)),
	    "fd00:1::ffff:ffff:ffff:ffff");
	ck_assert_int_eq(prefix_offset_of(&six, &r, &off), 0);
	ck_assert(off == 0xffffffffffffffffull);
	r = P("10.1.0.1/16");
	ck_assert_int_eq(prefix_offset_of(&net, &r, &off), -ERANGE);
}
END_TEST

Suite *
prefix_suite(void)
{
	Suite *s = suite_create("prefix");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, parse_and_format);
	tcase_add_test(tc, parse_rejects);
	tcase_add_test(tc, overlap_contains);
	tcase_add_test(tc, offsets);
	suite_add_tcase(s, tc);
	return s;
}
