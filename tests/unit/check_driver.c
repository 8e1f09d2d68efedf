#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <check.h>

#include "firewall/firewall.h"
#include "netlink/netlink.h"
#include "plugin/driver.h"
#include "tests/unit/helpers.h"
#include "tests/unit/suites.h"

static struct th_env env;

static void
setup(void)
{
	th_env_setup(&env);
}

static void
teardown(void)
{
	th_env_teardown(&env);
}

static struct prefix
P(const char *s)
{
	struct prefix p;

	ck_assert_msg(prefix_parse(s, &p) == 0, "parse %s", s);
	return p;
}

/* A request for one IPv4 network with gateway .1. */
static void
req_v4(struct drv_net_req *r, const char *id, const char *pool,
    const char *gw, const struct opt_kvlist *generic)
{
	*r = (struct drv_net_req){ .enable_ipv4 = true, .generic = generic };
	memcpy(r->id, id, NET_ID_LEN + 1);
	if (pool != NULL) {
		r->nv4 = 1;
		r->v4[0].pool = P(pool);
		r->v4[0].has_gw = gw != NULL;
		if (gw != NULL)
			r->v4[0].gw = P(gw);
	}
}

START_TEST(create_and_delete)
{
	struct drv_net_req r;
	struct lnk_bridge_cfg bc;
	char err[256] = "", buf[PREFIX_STRLEN];

	req_v4(&r, TH_NETID1, "172.30.0.0/24", "172.30.0.1/24", NULL);
	ck_assert_int_eq(drv_create_network(env.drv, &r, err, sizeof(err)), 0);
	ck_assert_int_eq(lnk_fake_get_bridge(env.lnk, "cb-5f1c0a7e9b2d", &bc), 1);
	ck_assert_uint_eq(bc.naddrs, 1);
	ck_assert_str_eq(prefix_format((struct prefix *)&bc.addrs[0], buf,
	    sizeof(buf)), "172.30.0.1/24");
	ck_assert_uint_eq(bc.mac[0] & 0x03, 0x02);	/* local unicast */
	ck_assert_ptr_nonnull(drv_network_get(env.drv, TH_NETID1));
	ck_assert_int_eq(drv_create_network(env.drv, &r, err, sizeof(err)),
	    -EEXIST);
	ck_assert_int_eq(drv_delete_network(env.drv, TH_NETID1, err,
	    sizeof(err)), 0);
	ck_assert_uint_eq(lnk_fake_bridge_count(env.lnk), 0);
	ck_assert_int_eq(drv_delete_network(env.drv, TH_NETID1, err,
	    sizeof(err)), -ENOENT);
	ck_assert_ptr_nonnull(strstr(err, "not found"));
}
END_TEST

START_TEST(options_applied)
{
	struct opt_kvlist g = { 0 };
	struct drv_net_req r;
	struct lnk_bridge_cfg bc;
	char err[256] = "";

	ck_assert_int_eq(opt_kvlist_add(&g, OPT_BRIDGE_PREFIX "name", "mybr0"), 0);
	ck_assert_int_eq(opt_kvlist_add(&g, OPT_PREFIX "driver.mtu", "1400"), 0);
	req_v4(&r, TH_NETID1, "172.30.0.0/24", "172.30.0.1/24", &g);
	r.enable_ipv6 = true;
	r.nv6 = 1;
	r.v6[0].pool = P("fd00:30::/64");
	r.v6[0].has_gw = true;
	r.v6[0].gw = P("fd00:30::1/64");
	ck_assert_int_eq(drv_create_network(env.drv, &r, err, sizeof(err)), 0);
	ck_assert_int_eq(lnk_fake_get_bridge(env.lnk, "mybr0", &bc), 1);
	ck_assert_uint_eq(bc.mtu, 1400);
	ck_assert(bc.ipv6);
	ck_assert_uint_eq(bc.naddrs, 2);
	opt_kvlist_done(&g);
}
END_TEST

START_TEST(refused_before_touching_host)
{
	struct opt_kvlist g = { 0 };
	struct drv_net_req r;
	char err[256] = "";

	/* An interface of that name exists on the host. */
	lnk_fake_add_link(env.lnk, "cb-5f1c0a7e9b2d", false);
	req_v4(&r, TH_NETID1, "172.30.0.0/24", "172.30.0.1/24", NULL);
	ck_assert_int_eq(drv_create_network(env.drv, &r, err, sizeof(err)),
	    -EEXIST);
	ck_assert_ptr_nonnull(strstr(err, "already exists"));

	/* Bad option. */
	ck_assert_int_eq(opt_kvlist_add(&g, OPT_BRIDGE_PREFIX "enable_icc",
	    "maybe"), 0);
	req_v4(&r, TH_NETID2, "172.31.0.0/24", "172.31.0.1/24", &g);
	ck_assert_int_eq(drv_create_network(env.drv, &r, err, sizeof(err)),
	    -EINVAL);
	opt_kvlist_done(&g);
	ck_assert_int_eq(opt_kvlist_add(&g, OPT_BRIDGE_PREFIX
	    "gateway_mode_ipv4", "isolated"), 0);
	req_v4(&r, TH_NETID2, "172.31.0.0/24", "172.31.0.1/24", &g);
	ck_assert_int_eq(drv_create_network(env.drv, &r, err, sizeof(err)),
	    -ENOTSUP);
	ck_assert_ptr_nonnull(strstr(err, "--internal"));
	opt_kvlist_done(&g);

	/* Gateway outside the subnet; two IPv4 subnets; v6 without --ipv6. */
	req_v4(&r, TH_NETID2, "172.31.0.0/24", "172.32.0.1/24", NULL);
	ck_assert_int_eq(drv_create_network(env.drv, &r, err, sizeof(err)),
	    -EINVAL);
	req_v4(&r, TH_NETID2, "172.31.0.0/24", NULL, NULL);
	r.nv4 = 2;
	r.v4[1].pool = P("172.33.0.0/24");
	ck_assert_int_eq(drv_create_network(env.drv, &r, err, sizeof(err)),
	    -EINVAL);
	req_v4(&r, TH_NETID2, "172.31.0.0/24", NULL, NULL);
	r.nv6 = 1;
	r.v6[0].pool = P("fd00::/64");
	ck_assert_int_eq(drv_create_network(env.drv, &r, err, sizeof(err)),
	    -EINVAL);
	ck_assert_uint_eq(lnk_fake_bridge_count(env.lnk), 0);
	ck_assert_uint_eq(drv_network_count(env.drv), 0);
}
END_TEST

START_TEST(overlap_and_name_clash)
{
	struct opt_kvlist g = { 0 };
	struct drv_net_req r;
	char err[256] = "";

	ck_assert_int_eq(opt_kvlist_add(&g, OPT_BRIDGE_PREFIX "name", "shared0"), 0);
	req_v4(&r, TH_NETID1, "172.30.0.0/16", "172.30.0.1/16", &g);
	ck_assert_int_eq(drv_create_network(env.drv, &r, err, sizeof(err)), 0);
	req_v4(&r, TH_NETID2, "172.30.5.0/24", "172.30.5.1/24", NULL);
	ck_assert_int_eq(drv_create_network(env.drv, &r, err, sizeof(err)),
	    -EEXIST);
	ck_assert_ptr_nonnull(strstr(err, "overlaps"));
	req_v4(&r, TH_NETID2, "172.31.0.0/24", "172.31.0.1/24", &g);
	ck_assert_int_eq(drv_create_network(env.drv, &r, err, sizeof(err)),
	    -EEXIST);
	ck_assert_ptr_nonnull(strstr(err, "shared0"));
	ck_assert_uint_eq(lnk_fake_bridge_count(env.lnk), 1);
	opt_kvlist_done(&g);
}
END_TEST

START_TEST(rollback_on_failure)
{
	struct drv_net_req r;
	char err[256] = "";

	lnk_fake_fail_next(env.lnk, "bridge_create", EPERM);
	req_v4(&r, TH_NETID1, "172.30.0.0/24", "172.30.0.1/24", NULL);
	ck_assert_int_eq(drv_create_network(env.drv, &r, err, sizeof(err)),
	    -EPERM);
	ck_assert_uint_eq(drv_network_count(env.drv), 0);

	/* The state cannot be written: the bridge made must go again. */
	th_rmdir(env.dir);
	ck_assert_int_lt(drv_create_network(env.drv, &r, err, sizeof(err)), 0);
	ck_assert_uint_eq(drv_network_count(env.drv), 0);
	ck_assert_uint_eq(lnk_fake_bridge_count(env.lnk), 0);
	ck_assert_int_eq(mkdir(env.dir, 0700), 0);
}
END_TEST

START_TEST(ipam_rollback_on_save_failure)
{
	struct prefix pool = P("10.50.0.0/24"), a;
	char id[IPAM_ID_MAX], err[256] = "";

	ck_assert_int_eq(drv_request_pool(env.drv, "", &pool, NULL, false, id,
	    &pool, err, sizeof(err)), 0);
	ck_assert_int_eq(drv_request_address(env.drv, id, NULL, false, &a, err,
	    sizeof(err)), 0);
	th_rmdir(env.dir);
	ck_assert_int_lt(drv_request_address(env.drv, id, NULL, false, &a, err,
	    sizeof(err)), 0);
	ck_assert_int_eq(ipam_pool_used(drv_ipam(env.drv), id), 1);
	ck_assert_int_lt(drv_release_pool(env.drv, id, err, sizeof(err)), 0);
	ck_assert_uint_eq(ipam_pool_count(drv_ipam(env.drv)), 1);
	ck_assert_int_eq(ipam_pool_used(drv_ipam(env.drv), id), 1);
	ck_assert_int_eq(mkdir(env.dir, 0700), 0);
}
END_TEST

START_TEST(persist_and_reconcile)
{
	struct prefix pool = P("10.60.0.0/24"), a;
	struct drv_net_req r;
	char id[IPAM_ID_MAX], err[256] = "", buf[PREFIX_STRLEN];

	ck_assert_int_eq(drv_request_pool(env.drv, "", &pool, NULL, false, id,
	    &pool, err, sizeof(err)), 0);
	ck_assert_int_eq(drv_request_address(env.drv, id, NULL, true, &a, err,
	    sizeof(err)), 0);
	ck_assert_int_eq(drv_request_address(env.drv, id, NULL, false, &a, err,
	    sizeof(err)), 0);
	req_v4(&r, TH_NETID1, "10.60.0.0/24", "10.60.0.1/24", NULL);
	ck_assert_int_eq(drv_create_network(env.drv, &r, err, sizeof(err)), 0);

	/* A reboot loses the bridge; a restart brings it back. */
	ck_assert_int_eq(env.lnk->ops->bridge_delete(env.lnk, "cb-5f1c0a7e9b2d",
	    err, sizeof(err)), 0);
	th_env_restart(&env);
	ck_assert_uint_eq(drv_network_count(env.drv), 1);
	ck_assert_int_eq(lnk_fake_get_bridge(env.lnk, "cb-5f1c0a7e9b2d", NULL), 1);
	ck_assert_int_eq(drv_request_address(env.drv, id, NULL, false, &a, err,
	    sizeof(err)), 0);
	ck_assert_str_eq(prefix_format(&a, buf, sizeof(buf)), "10.60.0.3/24");
}
END_TEST

START_TEST(auto_pool_avoids_host)
{
	struct prefix hp = { .family = AF_INET, .plen = 24,
	    .addr = { 172, 16, 3, 7 } };
	struct prefix pool;
	char id[IPAM_ID_MAX], err[256] = "", buf[PREFIX_STRLEN];

	lnk_fake_add_prefix(env.lnk, &hp);
	ck_assert_int_eq(drv_request_pool(env.drv, "", NULL, NULL, false, id,
	    &pool, err, sizeof(err)), 0);
	ck_assert_str_eq(prefix_format(&pool, buf, sizeof(buf)),
	    "172.16.16.0/20");
	/* IPv6 comes from the host's ULA /48. */
	ck_assert_int_eq(drv_request_pool(env.drv, "", NULL, NULL, true, id,
	    &pool, err, sizeof(err)), 0);
	ck_assert_int_eq(pool.family, AF_INET6);
	ck_assert_uint_eq(pool.plen, 64);
	ck_assert_uint_eq(pool.addr[0], 0xfd);
	lnk_fake_fail_next(env.lnk, "host_prefixes", EIO);
	ck_assert_int_eq(drv_request_pool(env.drv, "", NULL, NULL, false, id,
	    &pool, err, sizeof(err)), -EIO);
}
END_TEST

START_TEST(corrupt_state_refused)
{
	struct drv_params p = { .state_dir = env.dir, .lnk = env.lnk };
	struct drv *d = NULL;
	char path[128], err[512] = "";
	FILE *f;

	env.drv = drv_free(env.drv);
	(void) snprintf(path, sizeof(path), "%s/%s", env.dir, ST_FILE);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs("{\"version\":1,\"networks\":[{\"id\":\"zz\"}],\"ipam\":{}}", f);
	fclose(f);
	ck_assert_int_eq(drv_new(&p, &d, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_null(d);
	ck_assert_ptr_nonnull(strstr(err, "corrupt"));
	/* Open again on an empty dir for teardown. */
	(void) unlink(path);
	ck_assert_int_eq(drv_new(&p, &env.drv, err, sizeof(err)), 0);
}
END_TEST

#define EP1 "e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1"
#define EP2 "e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2"

static void
make_net1(void)
{
	struct drv_net_req r;
	char err[256] = "";

	req_v4(&r, TH_NETID1, "10.70.0.0/24", "10.70.0.1/24", NULL);
	ck_assert_msg(drv_create_network(env.drv, &r, err, sizeof(err)) == 0,
	    "%s", err);
}

static struct drv_ep_req
ep_req(const char *ep, const char *addr)
{
	struct drv_ep_req q = { 0 };

	memcpy(q.net_id, TH_NETID1, NET_ID_LEN + 1);
	memcpy(q.ep_id, ep, NET_ID_LEN + 1);
	if (addr != NULL) {
		q.has_addr4 = true;
		q.addr4 = P(addr);
	}
	return q;
}

START_TEST(pure_helpers)
{
	unsigned char rnd[6] = { 0xff, 1, 2, 3, 4, 5 }, mac[6];
	char host[OPT_IFNAMSIZ], peer[OPT_IFNAMSIZ];
	struct prefix a = P("172.17.0.2/16");

	drv_veth_names(EP1, host, peer);
	ck_assert_str_eq(host, "cbve1e1e1e1e1e1");
	ck_assert_str_eq(peer, "cbpe1e1e1e1e1e1");
	drv_mac_for(&a, rnd, mac);
	ck_assert_mem_eq(mac, ((unsigned char[]){ 2, 0x42, 172, 17, 0, 2 }), 6);
	drv_mac_for(NULL, rnd, mac);
	ck_assert_uint_eq(mac[0], 0xfe);	/* unicast, locally administered */
	ck_assert_mem_eq(mac + 1, rnd + 1, 5);
}
END_TEST

START_TEST(join_reply)
{
	struct net_cfg n = { .has_v4 = true, .has_gw4 = true, .has_v6 = true,
	    .has_gw6 = true };
	struct ep_cfg e = { .has_addr4 = true, .peer = "cbpx" };
	struct drv_join j;
	char buf[PREFIX_STRLEN];

	n.gw4 = P("10.1.0.1/24");
	n.gw6 = P("fd00::1/64");
	drv_build_join(&n, &e, &j);
	ck_assert_str_eq(j.src_name, "cbpx");
	ck_assert_str_eq(j.dst_prefix, "eth");
	ck_assert(j.has_gw4 && !j.has_gw6 && j.disable_gw_service);
	ck_assert_str_eq(prefix_format(&j.gw4, buf, sizeof(buf)), "10.1.0.1/32");
	e.has_addr6 = true;
	drv_build_join(&n, &e, &j);
	ck_assert(j.has_gw6);
	n.opts.inhibit_ipv4 = true;
	drv_build_join(&n, &e, &j);
	ck_assert(!j.has_gw4);
	n.opts.internal = true;
	memcpy(n.opts.iface_prefix, "lan", 4);
	drv_build_join(&n, &e, &j);
	ck_assert(!j.has_gw4 && !j.has_gw6 && j.disable_gw_service);
	ck_assert_str_eq(j.dst_prefix, "lan");
}
END_TEST

START_TEST(endpoint_lifecycle)
{
	struct drv_ep_req q = ep_req(EP1, "10.70.0.2/24");
	struct drv_ep_reply rep;
	struct lnk_veth_cfg vc;
	struct drv_join j;
	char err[256] = "";

	make_net1();
	ck_assert_int_eq(drv_create_endpoint(env.drv, &q, &rep, err,
	    sizeof(err)), 0);
	ck_assert(rep.mac_generated);
	ck_assert_int_eq(lnk_fake_get_veth(env.lnk, "cbve1e1e1e1e1e1", &vc), 1);
	ck_assert_str_eq(vc.peer, "cbpe1e1e1e1e1e1");
	ck_assert(vc.hairpin);		/* kernel NAT only: hairpin always */
	ck_assert_int_eq(drv_create_endpoint(env.drv, &q, &rep, err,
	    sizeof(err)), -EEXIST);
	ck_assert_int_eq(drv_join(env.drv, TH_NETID1, EP1, "/run/netns/x", &j,
	    err, sizeof(err)), 0);
	/* The endpoint survives a restart of cbridge. */
	th_env_restart(&env);
	ck_assert_uint_eq(drv_endpoint_count(env.drv), 1);
	ck_assert_str_eq(drv_endpoint_get(env.drv, TH_NETID1, EP1)->sandbox,
	    "/run/netns/x");
	ck_assert_int_eq(drv_leave(env.drv, TH_NETID1, EP1, err, sizeof(err)), 0);
	ck_assert_int_eq(drv_delete_endpoint(env.drv, TH_NETID1, EP1, err,
	    sizeof(err)), 0);
	ck_assert_uint_eq(lnk_fake_veth_count(env.lnk), 0);
	ck_assert_int_eq(drv_delete_endpoint(env.drv, TH_NETID1, EP1, err,
	    sizeof(err)), -ENOENT);
}
END_TEST

START_TEST(endpoint_rollback)
{
	struct drv_ep_req q = ep_req(EP1, "10.70.0.2/24");
	struct drv_ep_reply rep;
	char err[256] = "";

	make_net1();
	lnk_fake_fail_next(env.lnk, "veth_create", EEXIST);
	ck_assert_int_eq(drv_create_endpoint(env.drv, &q, &rep, err,
	    sizeof(err)), -EEXIST);
	ck_assert_uint_eq(drv_endpoint_count(env.drv), 0);
	th_rmdir(env.dir);
	ck_assert_int_lt(drv_create_endpoint(env.drv, &q, &rep, err,
	    sizeof(err)), 0);
	ck_assert_uint_eq(drv_endpoint_count(env.drv), 0);
	ck_assert_uint_eq(lnk_fake_veth_count(env.lnk), 0);
	ck_assert_int_eq(mkdir(env.dir, 0700), 0);
	/* Outside the subnet, or a network that does not exist. */
	q = ep_req(EP2, "10.71.0.2/24");
	ck_assert_int_eq(drv_create_endpoint(env.drv, &q, &rep, err,
	    sizeof(err)), -EINVAL);
	memcpy(q.net_id, TH_NETID2, NET_ID_LEN + 1);
	ck_assert_int_eq(drv_create_endpoint(env.drv, &q, &rep, err,
	    sizeof(err)), -ENOENT);
}
END_TEST

START_TEST(network_delete_drops_stale_endpoints)
{
	struct drv_ep_req q = ep_req(EP1, NULL);
	struct drv_ep_reply rep;
	char err[256] = "";

	make_net1();
	ck_assert_int_eq(drv_create_endpoint(env.drv, &q, &rep, err,
	    sizeof(err)), 0);
	ck_assert(rep.mac_generated && (rep.mac[0] & 3) == 2);
	ck_assert_int_eq(drv_delete_network(env.drv, TH_NETID1, err,
	    sizeof(err)), 0);
	ck_assert_uint_eq(drv_endpoint_count(env.drv), 0);
	ck_assert_uint_eq(lnk_fake_veth_count(env.lnk), 0);
	/* What was saved must load again (found by fuzz_api). */
	th_env_restart(&env);
	ck_assert_uint_eq(drv_network_count(env.drv), 0);
	ck_assert_uint_eq(drv_endpoint_count(env.drv), 0);
}
END_TEST

/* The firewall is told about every network, a failure there undoes the
 * network, and the tick re-syncs only while networks exist. */
START_TEST(firewall_follows_networks)
{
	struct fw *fw = fw_fake_new();
	struct fw_hostports *hp = fw_hostports_fake_new();
	struct drv_params p = { .state_dir = env.dir, .lnk = env.lnk, .fw = fw,
	    .ports = hp };
	const struct fw_net *fn;
	struct drv_net_req r;
	struct drv *d = NULL;
	char err[256] = "";
	unsigned int calls;

	env.drv = drv_free(env.drv);
	ck_assert_int_eq(drv_new(&p, &d, err, sizeof(err)), 0);
	calls = fw_fake_sync_calls(fw);
	drv_tick(d);
	ck_assert_uint_eq(fw_fake_sync_calls(fw), calls);

	fw_fake_fail_next(fw, EPERM);
	req_v4(&r, TH_NETID1, "10.80.0.0/24", "10.80.0.1/24", NULL);
	ck_assert_int_eq(drv_create_network(d, &r, err, sizeof(err)), -EPERM);
	ck_assert_uint_eq(drv_network_count(d), 0);
	ck_assert_uint_eq(lnk_fake_bridge_count(env.lnk), 0);

	ck_assert_int_eq(drv_create_network(d, &r, err, sizeof(err)), 0);
	ck_assert_uint_eq(fw_fake_synced(fw, &fn), 1);
	ck_assert_str_eq(fn[0].bridge, "cb-5f1c0a7e9b2d");
	ck_assert(fn[0].ipv4 && !fn[0].ipv6 && fn[0].icc);
	calls = fw_fake_sync_calls(fw);
	drv_tick(d);
	drv_tick(d);
	ck_assert_uint_eq(fw_fake_sync_calls(fw), calls + 2);
	fw_fake_fail_next(fw, EIO);
	drv_tick(d);		/* logged, not fatal */
	ck_assert_int_eq(drv_delete_network(d, TH_NETID1, err, sizeof(err)), 0);
	ck_assert_uint_eq(fw_fake_synced(fw, &fn), 0);
	drv_free(d);
	fw_free(fw);
	fw_hostports_free(hp);
	ck_assert_int_eq(drv_new(&(struct drv_params){ .state_dir = env.dir,
	    .lnk = env.lnk }, &env.drv, err,
	    sizeof(err)), 0);
}
END_TEST

static struct drv_port_req
port_req(int proto, const char *host_ip, unsigned short cport,
    unsigned short lo, unsigned short hi)
{
	struct drv_port_req q = { .proto = proto, .cport = cport, .hport = lo,
	    .hport_end = hi };

	if (host_ip != NULL) {
		q.has_host_ip = true;
		ck_assert_int_eq(prefix_parse_addr(host_ip, &q.host_ip), 0);
	}
	return q;
}

/* drv_status: each network's endpoints and ports, whatever order the
 * networks were created in; the backend as told, or "none". */
START_TEST(status_counts)
{
	static const char *const ids[] = {
	    "c000000000000000000000000000000000000000000000000000000000000001",
	    "a000000000000000000000000000000000000000000000000000000000000002",
	    "b000000000000000000000000000000000000000000000000000000000000003",
	};
	static const char *const pools[] = { "10.81.0.0/24", "10.82.0.0/24",
	    "10.83.0.0/24" };
	/* Endpoints: two on the first network, one on the third. */
	static const struct {
		int		net;
		const char	*ep, *addr;
	} eps[] = {
		{ 0, EP1, "10.81.0.2/24" },
		{ 2, EP2, "10.83.0.2/24" },
		{ 0, TH_NETID2, "10.81.0.3/24" },
	};
	struct fw *fw = fw_fake_new();
	struct fw_hostports *hp = fw_hostports_fake_new();
	struct drv_params p = { .state_dir = env.dir, .lnk = env.lnk, .fw = fw,
	    .ports = hp, .fw_backend = FW_BACKEND_NFTABLES,
	    .fw_why = "auto: the kernel has no legacy iptables (x_tables)" };
	struct drv_port_req pr[2];
	struct drv_ep_reply rep;
	struct drv_status st;
	struct drv_net_req r;
	char err[256] = "", a[PREFIX_STRLEN];

	ck_assert_int_eq(drv_status(env.drv, &st), 0);
	ck_assert_str_eq(st.fw_backend, "none");
	ck_assert_uint_eq(st.nnets, 0);
	drv_status_done(&st);
	env.drv = drv_free(env.drv);
	ck_assert_int_eq(drv_new(&p, &env.drv, err, sizeof(err)), 0);
	for (size_t i = 0; i < 3; i++) {
		req_v4(&r, ids[i], pools[i], NULL, NULL);
		ck_assert_msg(drv_create_network(env.drv, &r, err,
		    sizeof(err)) == 0, "%s", err);
	}
	for (size_t i = 0; i < sizeof(eps) / sizeof(eps[0]); i++) {
		struct drv_ep_req q = ep_req(eps[i].ep, eps[i].addr);

		memcpy(q.net_id, ids[eps[i].net], NET_ID_LEN + 1);
		ck_assert_msg(drv_create_endpoint(env.drv, &q, &rep, err,
		    sizeof(err)) == 0, "%s", err);
	}
	pr[0] = port_req(IPPROTO_TCP, NULL, 80, 18080, 18080);
	pr[1] = port_req(IPPROTO_UDP, NULL, 53, 18053, 18053);
	ck_assert_msg(drv_program_external(env.drv, ids[2], EP2, pr, 2, err,
	    sizeof(err)) == 0, "%s", err);
	pr[0] = port_req(IPPROTO_TCP, NULL, 80, 18081, 18081);
	ck_assert_msg(drv_program_external(env.drv, ids[0], TH_NETID2, pr, 1,
	    err, sizeof(err)) == 0, "%s", err);

	ck_assert_int_eq(drv_status(env.drv, &st), 0);
	ck_assert_str_eq(st.fw_backend, "nftables");
	ck_assert_str_eq(st.fw_why,
	    "auto: the kernel has no legacy iptables (x_tables)");
	ck_assert_uint_ge(st.fw.syncs, 8);
	ck_assert_uint_eq(st.fw.failures, 0);
	ck_assert_int_gt(st.fw.last_at_usec, 0);
	ck_assert_uint_eq(st.nnets, 3);
	for (size_t i = 0; i < 3; i++) {
		ck_assert_str_eq(st.nets[i].id, ids[i]);
		ck_assert(st.nets[i].has_v4 && !st.nets[i].has_v6);
		ck_assert_str_eq(prefix_format(&st.nets[i].subnet4, a,
		    sizeof(a)), pools[i]);
		ck_assert(!st.nets[i].internal && st.nets[i].icc &&
		    st.nets[i].masquerade);
	}
	ck_assert_uint_eq(st.nets[0].endpoints, 2);
	ck_assert_uint_eq(st.nets[0].ports, 1);
	ck_assert_uint_eq(st.nets[1].endpoints, 0);
	ck_assert_uint_eq(st.nets[1].ports, 0);
	ck_assert_uint_eq(st.nets[2].endpoints, 1);
	ck_assert_uint_eq(st.nets[2].ports, 2);
	drv_status_done(&st);
	ck_assert_ptr_null(st.nets);
	drv_status_done(NULL);
	env.drv = drv_free(env.drv);
	fw_free(fw);
	fw_hostports_free(hp);
}
END_TEST

/* Ports are reserved, planned, persisted and released; a taken one
 * refuses the whole publication and leaves nothing. */
START_TEST(published_ports)
{
	struct fw *fw = fw_fake_new();
	struct fw_hostports *hp = fw_hostports_fake_new();
	struct drv_params p = { .state_dir = env.dir, .lnk = env.lnk, .fw = fw,
	    .ports = hp };
	struct drv_ep_req q = ep_req(EP1, "10.70.0.2/24");
	struct drv_ep_reply rep;
	struct drv_port_req pr[4];
	const struct fw_port *fp;
	const struct ep_cfg *e;
	char err[256] = "", a[PREFIX_STRLEN];

	env.drv = drv_free(env.drv);
	lnk_fake_set_forwarding_off(env.lnk, true);
	ck_assert_int_eq(drv_new(&p, &env.drv, err, sizeof(err)), 0);
	make_net1();
	/* cbridge turned forwarding on: the FORWARD policy closes. */
	ck_assert_uint_eq(fw_fake_forward_drops(fw, AF_INET), 1);
	ck_assert_uint_eq(fw_fake_forward_drops(fw, AF_INET6), 0);
	q.has_addr6 = true;
	q.addr6 = P("fd00:70::2/64");
	/* The network has no IPv6 subnet: refused. */
	ck_assert_int_eq(drv_create_endpoint(env.drv, &q, &rep, err,
	    sizeof(err)), -EINVAL);
	q.has_addr6 = false;
	ck_assert_int_eq(drv_create_endpoint(env.drv, &q, &rep, err,
	    sizeof(err)), 0);

	pr[0] = port_req(IPPROTO_TCP, NULL, 80, 8080, 8080);
	pr[1] = port_req(IPPROTO_UDP, "127.0.0.1", 53, 0, 0);
	pr[2] = port_req(IPPROTO_TCP, NULL, 443, 9000, 9010);
	pr[3] = port_req(IPPROTO_SCTP, NULL, 3868, 3868, 3868);
	ck_assert_msg(drv_program_external(env.drv, TH_NETID1, EP1, pr, 4, err,
	    sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(fw_fake_reserved(hp), 4);
	ck_assert_uint_eq(fw_fake_ports(fw, &fp), 4);
	ck_assert_uint_eq(fp[0].host_port, 8080);
	ck_assert_str_eq(prefix_format_addr(&fp[0].cip, a, sizeof(a)),
	    "10.70.0.2");
	ck_assert_str_eq(prefix_format_addr(&fp[1].host_ip, a, sizeof(a)),
	    "127.0.0.1");
	ck_assert_uint_ne(fp[1].host_port, 0);
	ck_assert_uint_eq(fp[2].host_port, 9000);
	ck_assert_int_eq(fp[3].proto, IPPROTO_SCTP);
	ck_assert_uint_eq(fw_fake_conntrack_flushes(hp, AF_INET), 1);

	/* The same host port for a second container: refused, nothing
	 * of it stays, the first keeps its ports. */
	ck_assert_int_eq(drv_create_endpoint(env.drv, &(struct drv_ep_req){
	    0 }, &rep, err, sizeof(err)), -ENOENT);
	q = ep_req(EP2, "10.70.0.3/24");
	ck_assert_int_eq(drv_create_endpoint(env.drv, &q, &rep, err,
	    sizeof(err)), 0);
	pr[0] = port_req(IPPROTO_TCP, NULL, 80, 9500, 9500);
	pr[1] = port_req(IPPROTO_TCP, NULL, 80, 8080, 8080);
	ck_assert_int_eq(drv_program_external(env.drv, TH_NETID1, EP2, pr, 2,
	    err, sizeof(err)), -EADDRINUSE);
	ck_assert_ptr_nonnull(strstr(err, "8080"));
	ck_assert_uint_eq(fw_fake_reserved(hp), 4);
	ck_assert_uint_eq(fw_fake_ports(fw, &fp), 4);
	/* A range skips the taken port. */
	pr[0] = port_req(IPPROTO_TCP, NULL, 80, 9000, 9010);
	ck_assert_int_eq(drv_program_external(env.drv, TH_NETID1, EP2, pr, 1,
	    err, sizeof(err)), 0);
	e = drv_endpoint_get(env.drv, TH_NETID1, EP2);
	ck_assert_uint_eq(e->nports, 1);
	ck_assert_uint_eq(e->ports[0].host_port, 9001);
	/* An IPv6 host address needs an IPv6 container address. */
	pr[0] = port_req(IPPROTO_TCP, "::1", 80, 7000, 7000);
	ck_assert_int_eq(drv_program_external(env.drv, TH_NETID1, EP2, pr, 1,
	    err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "no IPv6 address"));
	/* The failed re-programming gave back what EP2 had. */
	ck_assert_uint_eq(drv_endpoint_get(env.drv, TH_NETID1, EP2)->nports, 1);
	ck_assert_uint_eq(fw_fake_reserved(hp), 5);

	/* Persisted: after a restart the ports are reserved again. */
	env.drv = drv_free(env.drv);
	ck_assert_uint_eq(fw_fake_reserved(hp), 0);
	ck_assert_int_eq(drv_new(&p, &env.drv, err, sizeof(err)), 0);
	ck_assert_uint_eq(fw_fake_reserved(hp), 5);
	ck_assert_uint_eq(fw_fake_ports(fw, &fp), 5);

	ck_assert_int_eq(drv_revoke_external(env.drv, TH_NETID1, EP1, err,
	    sizeof(err)), 0);
	ck_assert_uint_eq(fw_fake_reserved(hp), 1);
	ck_assert_uint_eq(fw_fake_ports(fw, &fp), 1);
	/* Deleting the endpoint releases its port and its rules. */
	ck_assert_int_eq(drv_delete_endpoint(env.drv, TH_NETID1, EP2, err,
	    sizeof(err)), 0);
	ck_assert_uint_eq(fw_fake_reserved(hp), 0);
	ck_assert_uint_eq(fw_fake_ports(fw, &fp), 0);
	env.drv = drv_free(env.drv);
	fw_free(fw);
	fw_hostports_free(hp);
	ck_assert_int_eq(drv_new(&(struct drv_params){ .state_dir = env.dir,
	    .lnk = env.lnk }, &env.drv, err, sizeof(err)), 0);
}
END_TEST

/* Routed mode maps no host port (Docker ignores it): a routed family
 * reserves nothing, not even after a restart, and flushes no conntrack
 * entry; the other family of the same network still does both. */
START_TEST(routed_ports_unreserved)
{
	struct fw *fw = fw_fake_new();
	struct fw_hostports *hp = fw_hostports_fake_new();
	struct drv_params p = { .state_dir = env.dir, .lnk = env.lnk, .fw = fw,
	    .ports = hp };
	struct opt_kvlist g = { 0 };
	struct drv_net_req r;
	struct drv_ep_req q = ep_req(EP1, "10.70.0.2/24");
	struct drv_ep_reply rep;
	struct drv_port_req pr[3];
	struct fw_resv taken = { .fd = -1 };
	const struct fw_port *fp;
	const struct ep_cfg *e;
	char err[256] = "";

	env.drv = drv_free(env.drv);
	ck_assert_int_eq(drv_new(&p, &env.drv, err, sizeof(err)), 0);
	ck_assert_int_eq(opt_kvlist_add(&g, OPT_BRIDGE_PREFIX
	    "gateway_mode_ipv4", "routed"), 0);
	req_v4(&r, TH_NETID1, "10.70.0.0/24", "10.70.0.1/24", &g);
	r.enable_ipv6 = true;
	r.nv6 = 1;
	r.v6[0].pool = P("fd00:70::/64");
	r.v6[0].has_gw = true;
	r.v6[0].gw = P("fd00:70::1/64");
	ck_assert_msg(drv_create_network(env.drv, &r, err, sizeof(err)) == 0,
	    "%s", err);
	opt_kvlist_done(&g);
	q.has_addr6 = true;
	q.addr6 = P("fd00:70::2/64");
	ck_assert_int_eq(drv_create_endpoint(env.drv, &q, &rep, err,
	    sizeof(err)), 0);

	/* Someone else holds 127.0.0.1:8080: no matter in routed mode. */
	ck_assert_int_eq(hp->ops->reserve(hp, AF_INET, IPPROTO_TCP,
	    &(struct prefix){ .family = AF_INET, .addr = { 127, 0, 0, 1 },
	    .plen = 32 }, 8080, 8080, &taken, err, sizeof(err)), 0);
	pr[0] = port_req(IPPROTO_TCP, "127.0.0.1", 80, 8080, 8080);
	pr[1] = port_req(IPPROTO_TCP, NULL, 443, 9443, 9443);
	pr[2] = port_req(IPPROTO_UDP, NULL, 53, 0, 0);
	ck_assert_msg(drv_program_external(env.drv, TH_NETID1, EP1, pr, 3, err,
	    sizeof(err)) == 0, "%s", err);
	/* IPv6 (nat) reserved 9443/tcp and a UDP port; IPv4 nothing. */
	ck_assert_uint_eq(fw_fake_reserved(hp), 3);
	ck_assert_uint_eq(fw_fake_conntrack_flushes(hp, AF_INET), 0);
	ck_assert_uint_eq(fw_fake_conntrack_flushes(hp, AF_INET6), 1);
	e = drv_endpoint_get(env.drv, TH_NETID1, EP1);
	ck_assert_uint_eq(e->nports, 5);
	for (size_t i = 0; i < e->nports; i++) {
		const struct ep_port *ep = &e->ports[i];

		if (ep->family == AF_INET) {
			/* The host address and port are dropped. */
			ck_assert_int_lt(ep->fd, 0);
			ck_assert(!ep->has_host_ip);
			ck_assert_uint_eq(ep->host_port, ep->cport);
		} else {
			ck_assert_int_ge(ep->fd, 0);
			if (ep->proto == IPPROTO_TCP)
				ck_assert_uint_eq(ep->host_port, 9443);
		}
	}
	ck_assert_uint_eq(fw_fake_ports(fw, &fp), 5);

	/* After a restart only the IPv6 ports are reserved again. */
	env.drv = drv_free(env.drv);
	ck_assert_uint_eq(fw_fake_reserved(hp), 1);
	ck_assert_int_eq(drv_new(&p, &env.drv, err, sizeof(err)), 0);
	ck_assert_uint_eq(fw_fake_reserved(hp), 3);
	ck_assert_uint_eq(fw_fake_ports(fw, &fp), 5);
	ck_assert_int_eq(drv_revoke_external(env.drv, TH_NETID1, EP1, err,
	    sizeof(err)), 0);
	ck_assert_uint_eq(fw_fake_reserved(hp), 1);
	hp->ops->release(hp, &taken);
	ck_assert_uint_eq(fw_fake_reserved(hp), 0);
	env.drv = drv_free(env.drv);
	fw_free(fw);
	fw_hostports_free(hp);
	ck_assert_int_eq(drv_new(&(struct drv_params){ .state_dir = env.dir,
	    .lnk = env.lnk }, &env.drv, err, sizeof(err)), 0);
}
END_TEST

Suite *
driver_suite(void)
{
	Suite *s = suite_create("driver");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, create_and_delete);
	tcase_add_test(tc, options_applied);
	tcase_add_test(tc, refused_before_touching_host);
	tcase_add_test(tc, overlap_and_name_clash);
	tcase_add_test(tc, rollback_on_failure);
	tcase_add_test(tc, ipam_rollback_on_save_failure);
	tcase_add_test(tc, persist_and_reconcile);
	tcase_add_test(tc, auto_pool_avoids_host);
	tcase_add_test(tc, corrupt_state_refused);
	tcase_add_test(tc, pure_helpers);
	tcase_add_test(tc, join_reply);
	tcase_add_test(tc, endpoint_lifecycle);
	tcase_add_test(tc, endpoint_rollback);
	tcase_add_test(tc, network_delete_drops_stale_endpoints);
	tcase_add_test(tc, firewall_follows_networks);
	tcase_add_test(tc, published_ports);
	tcase_add_test(tc, status_counts);
	tcase_add_test(tc, routed_ports_unreserved);
	suite_add_tcase(s, tc);
	return s;
}
