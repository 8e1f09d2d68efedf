/*
 * `cbridge status`'s text from a Cbridge.Status document, without a
 * daemon: the firewall lines, one line per network, and documents with
 * fields missing or of the wrong type.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <jansson.h>

#include "plugin/statustext.h"
#include "tests/unit/suites.h"

/* statustext_print's output for the JSON text doc (malloc'ed). */
static char *
render(const char *doc)
{
	json_error_t jerr;
	json_t *j = json_loads(doc, 0, &jerr);
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	ck_assert_msg(j != NULL, "bad test document: %s", jerr.text);
	f = open_memstream(&buf, &len);
	ck_assert_ptr_nonnull(f);
	statustext_print(j, f);
	ck_assert_int_eq(fclose(f), 0);
	json_decref(j);
	return buf;
}

#define NET1 "5f1c0a7e9b2d44c18e3f6a0b7c9d2e4f1a3b5c7d9e0f2a4b6c8d0e1f3a5b7c9d"
#define NET2 "a3e900000000000000000000000000000000000000000000000000000000071b"

START_TEST(two_networks)
{
	char *out = render("{\"Firewall\":{\"Backend\":\"iptables\","
	    "\"Why\":\"auto: the kernel has legacy iptables\","
	    "\"Syncs\":42,\"SyncFailures\":1,\"LastSync\":{"
	    "\"Time\":\"2025-01-31T12:00:00.123Z\",\"DurationUsec\":1234,"
	    "\"Error\":\"\"}},\"Networks\":["
	    "{\"ID\":\"" NET1 "\",\"Bridge\":\"cb-5f1c0a7e9b2d\","
	    "\"IPv4Subnet\":\"10.77.0.0/24\",\"IPv6Subnet\":\"fd00:77::/64\","
	    "\"Endpoints\":2,\"Ports\":3,\"Internal\":false,\"ICC\":true,"
	    "\"Masquerade\":true},"
	    "{\"ID\":\"" NET2 "\",\"Bridge\":\"cbtest0\","
	    "\"IPv4Subnet\":\"10.78.0.0/24\",\"IPv6Subnet\":\"\","
	    "\"Endpoints\":0,\"Ports\":0,\"Internal\":true,\"ICC\":false,"
	    "\"Masquerade\":false}]}");
	const char *want =
	    "firewall backend: iptables (auto: the kernel has legacy iptables)\n"
	    "last sync: 2025-01-31T12:00:00.123Z, took 1.234 ms, ok\n"
	    "syncs since the start: 42, 1 failed\n"
	    "networks: 2\n"
	    "NETWORK       BRIDGE           IPV4                IPV6                      ENDPOINTS  PORTS  FLAGS\n"
	    "5f1c0a7e9b2d  cb-5f1c0a7e9b2d  10.77.0.0/24        fd00:77::/64                      2      3  icc,masquerade\n"
	    "a3e900000000  cbtest0          10.78.0.0/24        -                                 0      0  internal,no-icc,no-masquerade\n";

	ck_assert_str_eq(out, want);
	free(out);
}
END_TEST

START_TEST(failed_sync_no_networks)
{
	char *out = render("{\"Firewall\":{\"Backend\":\"nftables\","
	    "\"Why\":\"FIREWALL_BACKEND=nftables\",\"Syncs\":3,"
	    "\"SyncFailures\":3,\"LastSync\":{\"Time\":"
	    "\"2025-01-31T12:00:01.000Z\",\"DurationUsec\":250,\"Error\":"
	    "\"Failed to commit: Operation not permitted\"}},"
	    "\"Networks\":[]}");

	ck_assert_str_eq(out,
	    "firewall backend: nftables (FIREWALL_BACKEND=nftables)\n"
	    "last sync: 2025-01-31T12:00:01.000Z, took 0.250 ms, failed: "
	    "Failed to commit: Operation not permitted\n"
	    "syncs since the start: 3, 3 failed\n"
	    "networks: none\n");
	free(out);
}
END_TEST

START_TEST(no_sync_yet)
{
	char *out = render("{\"Firewall\":{\"Backend\":\"none\",\"Why\":\"\","
	    "\"Syncs\":0,\"SyncFailures\":0,\"LastSync\":null},"
	    "\"Networks\":[]}");

	ck_assert_str_eq(out, "firewall backend: none\n"
	    "last sync: none since the start\n"
	    "networks: none\n");
	free(out);
}
END_TEST

/* From a daemon older or newer than the binary: what is missing or of
 * another type prints as "-" or 0, nothing fails. */
START_TEST(fields_missing_or_mistyped)
{
	char *out = render("{\"Firewall\":{\"Backend\":7,\"LastSync\":{"
	    "\"DurationUsec\":-5,\"Error\":false}},\"Networks\":[{},"
	    "{\"ID\":\"short\",\"Bridge\":[],\"Endpoints\":\"2\","
	    "\"ICC\":true,\"Masquerade\":1}]}");

	ck_assert_ptr_nonnull(strstr(out, "firewall backend: -\n"));
	ck_assert_ptr_nonnull(strstr(out, "last sync: -, took 0.000 ms, ok\n"));
	ck_assert_ptr_nonnull(strstr(out, "networks: 2\n"));
	ck_assert_ptr_nonnull(strstr(out, "\n-             -                "
	    "-                   -                                 0      0  "
	    "no-icc,no-masquerade\n"));
	ck_assert_ptr_nonnull(strstr(out, "\nshort         -   "));
	ck_assert_ptr_nonnull(strstr(out, "  icc,no-masquerade\n"));
	free(out);
	out = render("[]");
	ck_assert_str_eq(out, "firewall backend: -\n"
	    "last sync: none since the start\nnetworks: none\n");
	free(out);
}
END_TEST

Suite *
statustext_suite(void)
{
	Suite *s = suite_create("statustext");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, two_networks);
	tcase_add_test(tc, failed_sync_no_networks);
	tcase_add_test(tc, no_sync_yet);
	tcase_add_test(tc, fields_missing_or_mistyped);
	suite_add_tcase(s, tc);
	return s;
}
