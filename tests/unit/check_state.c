#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "plugin/state.h"
#include "tests/unit/suites.h"

static struct net_cfg *
make_net(const char *id, const char *bridge, const char *pool,
    const char *gw)
{
	struct net_cfg *n = calloc(1, sizeof(*n));
	char err[256];

	ck_assert_ptr_nonnull(n);
	memcpy(n->id, id, NET_ID_LEN + 1);
	memcpy(n->bridge, bridge, strlen(bridge) + 1);
	ck_assert_int_eq(opt_kvlist_add(&n->generic, OPT_PREFIX "driver.mtu",
	    "1400"), 0);
	ck_assert_int_eq(opt_parse(&n->generic, true, true, true, &n->opts,
	    err, sizeof(err)), 0);
	n->has_v4 = n->has_gw4 = true;
	ck_assert_int_eq(prefix_parse(pool, &n->pool4), 0);
	ck_assert_int_eq(prefix_parse(gw, &n->gw4), 0);
	return n;
}

START_TEST(round_trip)
{
	struct net_cfg *nets[2];
	struct ipam *ip = ipam_new(), *ip2 = ipam_new();
	struct st_doc doc;
	struct prefix ula, pool, a;
	char *buf = NULL, id[IPAM_ID_MAX], err[256];
	size_t len;

	ck_assert_int_eq(prefix_parse("fd12:3456:789a::/48", &ula), 0);
	ck_assert_int_eq(prefix_parse("10.9.0.0/24", &pool), 0);
	ck_assert_int_eq(ipam_request_pool(ip, &(struct ipam_pool_req){
	    .pool = &pool }, id, &pool, err, sizeof(err)), 0);
	ck_assert_int_eq(ipam_request_address(ip, id, NULL, true, &a, err,
	    sizeof(err)), 0);
	nets[0] = make_net(
	    "1111111111111111111111111111111111111111111111111111111111111111",
	    "cb-111111111111", "10.9.0.0/24", "10.9.0.1/24");
	nets[1] = make_net(
	    "2222222222222222222222222222222222222222222222222222222222222222",
	    "custom0", "10.10.0.0/24", "10.10.0.1/24");
	struct ep_cfg ep = { .id =
	    "e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1",
	    .net_id =
	    "2222222222222222222222222222222222222222222222222222222222222222",
	    .host = "cbve1e1e1e1e1e1", .peer = "cbpe1e1e1e1e1e1",
	    .has_addr4 = true, .mac = { 2, 0x42, 10, 10, 0, 2 },
	    .joined = true, .sandbox = "/var/run/docker/netns/abc" };
	struct ep_cfg *eps[] = { &ep };
	ck_assert_int_eq(prefix_parse("10.10.0.2/24", &ep.addr4), 0);
	struct st_doc in = { .nets = nets, .nnets = 2, .eps = eps, .neps = 1,
	    .has_ula = true, .ula = ula };
	ck_assert_int_eq(st_encode(&in, ip, &buf, &len, err,
	    sizeof(err)), 0);
	ck_assert_int_eq(st_decode(buf, len, ip2, &doc, err, sizeof(err)), 0);
	ck_assert_uint_eq(doc.nnets, 2);
	ck_assert(doc.has_ula && prefix_equal(&doc.ula, &ula));
	ck_assert_str_eq(doc.nets[1]->bridge, "custom0");
	ck_assert_uint_eq(doc.nets[0]->opts.mtu, 1400);
	ck_assert(doc.nets[0]->opts.internal && doc.nets[0]->opts.enable_ipv6);
	ck_assert(prefix_equal(&doc.nets[1]->gw4, &nets[1]->gw4));
	ck_assert_int_eq(ipam_pool_used(ip2, id), 1);
	ck_assert_uint_eq(doc.neps, 1);
	ck_assert_str_eq(doc.eps[0]->peer, "cbpe1e1e1e1e1e1");
	ck_assert_str_eq(doc.eps[0]->sandbox, "/var/run/docker/netns/abc");
	ck_assert(doc.eps[0]->joined && doc.eps[0]->has_addr4 &&
	    !doc.eps[0]->has_addr6);
	ck_assert(prefix_equal(&doc.eps[0]->addr4, &ep.addr4));
	ck_assert_mem_eq(doc.eps[0]->mac, ep.mac, 6);
	st_doc_done(&doc);
	free(buf);
	ep_cfg_changed(&ep);	/* its cached text: ep is not heap-owned */
	net_cfg_free(nets[0]);
	net_cfg_free(nets[1]);
	ipam_free(ip);
	ipam_free(ip2);
}
END_TEST

START_TEST(corrupt_documents)
{
	static const char *const bad[] = {
		"",
		"[]",
		"{\"version\":1",
		"{\"version\":2,\"networks\":[],\"ipam\":{\"pools\":[]}}",
		"{\"networks\":[],\"ipam\":{\"pools\":[]}}",
		"{\"version\":1,\"ipam\":{\"pools\":[]}}",
		"{\"version\":1,\"networks\":[]}",
		"{\"version\":1,\"version\":1,\"networks\":[],\"ipam\":{\"pools\":[]}}",
		"{\"version\":1,\"ula\":\"10.0.0.0/8\",\"networks\":[],\"ipam\":{\"pools\":[]}}",
		"{\"version\":1,\"networks\":[{\"id\":\"x\",\"bridge\":\"b\"}],\"ipam\":{\"pools\":[]}}",
		"{\"version\":1,\"networks\":[{\"id\":\"1111111111111111111111111111111111111111111111111111111111111111\",\"bridge\":\"a/b\",\"options\":{},\"enable_ipv4\":true,\"enable_ipv6\":false,\"internal\":false}],\"ipam\":{\"pools\":[]}}",
		"{\"version\":1,\"networks\":[{\"id\":\"1111111111111111111111111111111111111111111111111111111111111111\",\"bridge\":\"b0\",\"options\":{\"com.docker.network.driver.mtu\":\"x\"},\"enable_ipv4\":true,\"enable_ipv6\":false,\"internal\":false}],\"ipam\":{\"pools\":[]}}",
		"{\"version\":1,\"networks\":[{\"id\":\"1111111111111111111111111111111111111111111111111111111111111111\",\"bridge\":\"b0\",\"options\":{},\"enable_ipv4\":true,\"enable_ipv6\":false,\"internal\":false,\"ipv4\":{\"pool\":\"10.0.0.1/24\"}}],\"ipam\":{\"pools\":[]}}",
		"{\"version\":1,\"networks\":[{\"id\":\"1111111111111111111111111111111111111111111111111111111111111111\",\"bridge\":\"b0\",\"options\":{},\"enable_ipv4\":true,\"enable_ipv6\":false,\"internal\":false,\"ipv4\":{\"pool\":\"10.0.0.0/24\",\"gateway\":\"10.0.1.1/24\"}}],\"ipam\":{\"pools\":[]}}",
		"{\"version\":1,\"networks\":[{\"id\":\"1111111111111111111111111111111111111111111111111111111111111111\",\"bridge\":\"b0\",\"options\":{},\"enable_ipv4\":true,\"enable_ipv6\":false,\"internal\":false},{\"id\":\"1111111111111111111111111111111111111111111111111111111111111111\",\"bridge\":\"b1\",\"options\":{},\"enable_ipv4\":true,\"enable_ipv6\":false,\"internal\":false}],\"ipam\":{\"pools\":[]}}",
		/* A non-string option after a good one (found by fuzz_state). */
		"{\"version\":1,\"networks\":[{\"id\":\"1111111111111111111111111111111111111111111111111111111111111111\",\"bridge\":\"b0\",\"options\":{\"a\":\"x\",\"b\":1},\"enable_ipv4\":true,\"enable_ipv6\":false,\"internal\":false}],\"ipam\":{\"pools\":[]}}",
		/* An endpoint on a network that does not exist. */
		"{\"version\":1,\"networks\":[],\"endpoints\":[{\"id\":\"e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1\",\"network\":\"2222222222222222222222222222222222222222222222222222222222222222\",\"host\":\"h\",\"peer\":\"p\",\"mac\":\"02:42:0a:0a:00:02\",\"joined\":false,\"sandbox\":\"\"}],\"ipam\":{\"pools\":[]}}",
		"{\"version\":1,\"networks\":[],\"endpoints\":{},\"ipam\":{\"pools\":[]}}",
		NULL,
	};
	struct ipam *ip = ipam_new();
	struct st_doc doc;
	char err[256];

	for (int i = 0; bad[i] != NULL; i++) {
		err[0] = '\0';
		ck_assert_msg(st_decode(bad[i], strlen(bad[i]), ip, &doc, err,
		    sizeof(err)) == -EINVAL, "accepted #%d: %s", i, bad[i]);
		ck_assert_msg(err[0] != '\0', "no message for #%d", i);
	}
	ck_assert_uint_eq(ipam_pool_count(ip), 0);
	ipam_free(ip);
}
END_TEST

Suite *
state_suite(void)
{
	Suite *s = suite_create("state");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, round_trip);
	tcase_add_test(tc, corrupt_documents);
	suite_add_tcase(s, tc);
	return s;
}
