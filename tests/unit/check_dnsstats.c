/* The DNS counters' JSON: every field `cbridge dns-stats` and scripts
 * read, with the values given, and zeros where a part is missing. */
#include <check.h>
#include <string.h>

#include <jansson.h>

#include "plugin/dnsstats.h"
#include "tests/unit/suites.h"

static const char *const sandbox_fields[] = {
	"SandboxKey", "State", "Error", "Endpoints", "Forwarding",
	"QueriesUdp", "QueriesTcp", "Local", "Forwarded", "CacheHits",
	"UpstreamFailures", "ServFail", "Truncations", "Drops", "TcpTimeouts",
	"TcpRefused", "TcpOpen", "Inflight", "Upstreams",
};

static json_int_t
num(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);

	ck_assert_msg(json_is_integer(v), "%s is not a number", k);
	return json_integer_value(v);
}

static void
ups(struct dns_upstreams *u)
{
	char err[128];

	ck_assert_int_eq(dns_upstreams_from_env("192.0.2.1,[2001:db8::1]:5353",
	    u, err, sizeof(err)), 0);
	ck_assert_uint_eq(u->n, 2);
}

START_TEST(sandbox_fields_and_values)
{
	struct dns_upstreams u;
	struct dns_srv_stats srv = { .queries_udp = 7, .forwarded = 3,
	    .up_timeouts = { 1, 2 }, .up_failures = { 4, 5 } };
	struct dns_fwd_stats fwd = { .up = { { .sent = 9 } } };
	struct dnsstats_sandbox sb = { .key = "/var/run/docker/netns/abc",
	    .state = "serving", .err = "", .neps = 2, .forwarding = true,
	    .srv = &srv };
	json_t *o, *a;

	ups(&u);
	o = dnsstats_sandbox_json(&sb, &u);
	ck_assert_ptr_nonnull(o);
	for (size_t i = 0; i < sizeof(sandbox_fields) /
	    sizeof(sandbox_fields[0]); i++)
		ck_assert_msg(json_object_get(o, sandbox_fields[i]) != NULL,
		    "%s missing", sandbox_fields[i]);
	ck_assert_str_eq(json_string_value(json_object_get(o, "State")),
	    "serving");
	ck_assert(json_is_true(json_object_get(o, "Forwarding")));
	ck_assert_int_eq(num(o, "Endpoints"), 2);
	ck_assert_int_eq(num(o, "QueriesUdp"), 7);
	ck_assert_int_eq(num(o, "Forwarded"), 3);
	a = json_object_get(o, "Upstreams");
	ck_assert_uint_eq(json_array_size(a), 2);
	ck_assert_str_eq(json_string_value(json_object_get(
	    json_array_get(a, 1), "Address")), "[2001:db8::1]:5353");
	ck_assert_int_eq(num(json_array_get(a, 1), "Timeouts"), 2);
	ck_assert_int_eq(num(json_array_get(a, 1), "Failures"), 5);
	/* Only a sandbox with a forwarder of its own has these. */
	ck_assert_ptr_null(json_object_get(o, "SandboxUpstreams"));
	json_decref(o);

	sb.fwd = &fwd;
	sb.srv = NULL;
	o = dnsstats_sandbox_json(&sb, &u);
	ck_assert_ptr_nonnull(o);
	ck_assert_int_eq(num(o, "QueriesUdp"), 0);
	a = json_object_get(o, "SandboxUpstreams");
	ck_assert_uint_eq(json_array_size(a), 2);
	ck_assert_int_eq(num(json_array_get(a, 0), "Sent"), 9);
	json_decref(o);
}
END_TEST

START_TEST(sandbox_intercept_containers_and_own_upstreams)
{
	static const char *const names[] = { "web", "db" };
	struct dns_upstreams u, own;
	struct dns_srv_stats srv = { .docker_asked = 5, .docker_answered = 3,
	    .docker_fellthrough = 1, .docker_timeouts = 1, .docker_loops = 2,
	    .docker_busy = 0, .up_failures = { 8 } };
	struct dnsstats_sandbox sb = { .key = "/var/run/docker/netns/abc",
	    .state = "serving", .err = "", .neps = 1, .forwarding = true,
	    .srv = &srv, .containers = names, .ncontainers = 2,
	    .intercept = true, .redirected = true, .intercept_err = "",
	    .docker_resolver = "127.0.0.11:40001" };
	json_t *o, *i, *a;
	char e[128];

	ups(&u);
	o = dnsstats_sandbox_json(&sb, &u);
	ck_assert_ptr_nonnull(o);
	a = json_object_get(o, "Containers");
	ck_assert_uint_eq(json_array_size(a), 2);
	ck_assert_str_eq(json_string_value(json_array_get(a, 1)), "db");
	ck_assert(json_is_false(json_object_get(o, "OwnUpstreams")));
	i = json_object_get(o, "Intercept");
	ck_assert(json_is_true(json_object_get(i, "Enabled")));
	ck_assert(json_is_true(json_object_get(i, "Redirected")));
	ck_assert_str_eq(json_string_value(json_object_get(i,
	    "DockerResolver")), "127.0.0.11:40001");
	ck_assert_int_eq(num(i, "DockerAsked"), 5);
	ck_assert_int_eq(num(i, "DockerAnswered"), 3);
	ck_assert_int_eq(num(i, "DockerFellThrough"), 1);
	ck_assert_int_eq(num(i, "DockerTimeouts"), 1);
	ck_assert_int_eq(num(i, "DockerLoops"), 2);
	json_decref(o);

	/* Own upstreams: they, not the daemon's, are listed. */
	ck_assert_int_eq(dns_upstreams_from_env("192.0.2.99", &own, e,
	    sizeof(e)), 0);
	sb.own_ups = &own;
	sb.redirected = false;
	sb.intercept_err = "cannot enter the namespace";
	o = dnsstats_sandbox_json(&sb, &u);
	ck_assert_ptr_nonnull(o);
	ck_assert(json_is_true(json_object_get(o, "OwnUpstreams")));
	a = json_object_get(o, "Upstreams");
	ck_assert_uint_eq(json_array_size(a), 1);
	ck_assert_str_eq(json_string_value(json_object_get(
	    json_array_get(a, 0), "Address")), "192.0.2.99:53");
	ck_assert_int_eq(num(json_array_get(a, 0), "Failures"), 8);
	i = json_object_get(o, "Intercept");
	ck_assert(json_is_false(json_object_get(i, "Redirected")));
	ck_assert_str_eq(json_string_value(json_object_get(i, "Error")),
	    "cannot enter the namespace");
	json_decref(o);
}
END_TEST

START_TEST(document_fields_and_values)
{
	static const char *const up_fields[] = { "Address", "Sent",
	    "Replies", "Timeouts", "Errors", "Failures", "Mismatched",
	    "TcRetries" };
	struct dns_upstreams u;
	struct dns_cache_stats cs = { .hits = 11, .entries = 4 };
	struct dns_fwd_stats fs = { .started = 12, .up = { { .replies = 6 } } };
	struct dnsstats st = { .mode = "intercept",
	    .address = "169.254.53.53", .forward_from = "host", .upstreams_from = "/etc/resolv.conf",
	    .ups = &u, .fwd = &fs, .cache = &cs, .engine = true,
	    .socket = "/var/run/docker.sock", .engine_err = "",
	    .containers = 3 };
	json_t *d, *a, *o;

	ups(&u);
	a = json_array();
	ck_assert_ptr_nonnull(a);
	(void)json_array_append_new(a, json_object());
	d = dnsstats_json(&st, a);
	ck_assert_ptr_nonnull(d);
	ck_assert_str_eq(json_string_value(json_object_get(d, "Address")),
	    "169.254.53.53");
	ck_assert_str_eq(json_string_value(json_object_get(d, "Mode")),
	    "intercept");
	ck_assert_str_eq(json_string_value(json_object_get(d,
	    "ForwardFrom")), "host");
	ck_assert_str_eq(json_string_value(json_object_get(d,
	    "UpstreamsFrom")), "/etc/resolv.conf");
	a = json_object_get(d, "Upstreams");
	ck_assert_uint_eq(json_array_size(a), 2);
	for (size_t i = 0; i < sizeof(up_fields) / sizeof(up_fields[0]); i++)
		ck_assert_msg(json_object_get(json_array_get(a, 0),
		    up_fields[i]) != NULL, "%s missing", up_fields[i]);
	ck_assert_int_eq(num(json_array_get(a, 0), "Replies"), 6);
	o = json_object_get(d, "Engine");
	ck_assert(json_is_true(json_object_get(o, "Enabled")));
	ck_assert_str_eq(json_string_value(json_object_get(o, "Socket")),
	    "/var/run/docker.sock");
	ck_assert_str_eq(json_string_value(json_object_get(o, "Error")), "");
	ck_assert_int_eq(num(o, "Containers"), 3);
	o = json_object_get(d, "Cache");
	ck_assert_int_eq(num(o, "Entries"), 4);
	ck_assert_int_eq(num(o, "Hits"), 11);
	ck_assert_int_eq(num(o, "Misses"), 0);
	ck_assert_int_eq(num(o, "Bytes"), 0);
	o = json_object_get(d, "Forwarder");
	ck_assert_int_eq(num(o, "Started"), 12);
	ck_assert_int_eq(num(o, "Answered"), 0);
	ck_assert_int_eq(num(o, "Failed"), 0);
	ck_assert_int_eq(num(o, "RefusedCap"), 0);
	ck_assert_int_eq(num(o, "Inflight"), 0);
	ck_assert_uint_eq(json_array_size(json_object_get(d, "Sandboxes")), 1);
	json_decref(d);
}
END_TEST

START_TEST(document_without_cache_forwarder_or_sandboxes)
{
	struct dns_upstreams u;
	struct dnsstats st = { .address = "169.254.53.53",
	    .forward_from = "sandbox", .upstreams_from = "DNS_UPSTREAMS",
	    .ups = &u, .socket = "", .engine_err = "" };
	json_t *d;

	ups(&u);
	d = dnsstats_json(&st, NULL);
	ck_assert_ptr_nonnull(d);
	ck_assert(json_is_false(json_object_get(json_object_get(d, "Engine"),
	    "Enabled")));
	ck_assert_int_eq(num(json_object_get(d, "Cache"), "Hits"), 0);
	ck_assert_int_eq(num(json_object_get(d, "Forwarder"), "Started"), 0);
	ck_assert_int_eq(num(json_array_get(json_object_get(d, "Upstreams"),
	    1), "Sent"), 0);
	ck_assert(json_is_array(json_object_get(d, "Sandboxes")));
	ck_assert_uint_eq(json_array_size(json_object_get(d, "Sandboxes")), 0);
	json_decref(d);
}
END_TEST

Suite *
dnsstats_suite(void)
{
	Suite *s = suite_create("dnsstats");
	TCase *tc = tcase_create("dnsstats");

	tcase_add_test(tc, sandbox_fields_and_values);
	tcase_add_test(tc, sandbox_intercept_containers_and_own_upstreams);
	tcase_add_test(tc, document_fields_and_values);
	tcase_add_test(tc, document_without_cache_forwarder_or_sandboxes);
	suite_add_tcase(s, tc);
	return s;
}
