#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <check.h>
#include <jansson.h>

#include "plugin/api.h"
#include "tests/unit/helpers.h"
#include "tests/unit/suites.h"

static struct th_env env;
static struct api *api;

static void
setup(void)
{
	th_env_setup(&env);
	api = api_new(env.drv);
	ck_assert_ptr_nonnull(api);
}

static void
teardown(void)
{
	api = api_free(api);
	th_env_teardown(&env);
}

/* Calls path with body; returns the status, *ret the parsed reply. */
static unsigned int
call(const char *path, const char *body, json_t **ret)
{
	struct api_reply rep;
	json_error_t jerr;
	unsigned int status;
	json_t *j;

	ck_assert_int_eq(api_handle(api, path, body, strlen(body), &rep), 0);
	j = json_loadb(rep.body, rep.len, 0, &jerr);
	ck_assert_msg(json_is_object(j), "reply is not a JSON object: %s",
	    rep.body);
	if (rep.status != 200)
		ck_assert_msg(json_is_string(json_object_get(j, "Err")),
		    "error without Err: %s", rep.body);
	status = rep.status;
	free(rep.body);
	if (ret != NULL)
		*ret = j;
	else
		json_decref(j);
	return status;
}

static const char *
err_of(json_t *j)
{
	return json_string_value(json_object_get(j, "Err"));
}

START_TEST(handshake)
{
	json_t *j;

	ck_assert_uint_eq(call("/Plugin.Activate", "", &j), 200);
	ck_assert_uint_eq(json_array_size(json_object_get(j, "Implements")), 2);
	json_decref(j);
	ck_assert_uint_eq(call("/NetworkDriver.GetCapabilities", "", &j), 200);
	ck_assert_str_eq(json_string_value(json_object_get(j, "Scope")),
	    "local");
	json_decref(j);
	ck_assert_uint_eq(call("/IpamDriver.GetCapabilities", "", &j), 200);
	ck_assert(json_is_false(json_object_get(j, "RequiresRequestReplay")));
	json_decref(j);
	ck_assert_uint_eq(call("/IpamDriver.GetDefaultAddressSpaces", "", &j),
	    200);
	ck_assert_str_eq(json_string_value(json_object_get(j,
	    "LocalDefaultAddressSpace")), "LocalDefault");
	json_decref(j);
	ck_assert_uint_eq(call("/NoSuch.Thing", "{}", NULL), 404);
}
END_TEST

START_TEST(ipam_flow)
{
	json_t *j;
	char body[256];
	const char *id;

	ck_assert_uint_eq(call("/IpamDriver.RequestPool",
	    "{\"AddressSpace\":\"LocalDefault\",\"Pool\":\"10.77.0.0/24\","
	    "\"SubPool\":\"\",\"Options\":{},\"V6\":false}", &j), 200);
	ck_assert_str_eq(json_string_value(json_object_get(j, "Pool")),
	    "10.77.0.0/24");
	id = json_string_value(json_object_get(j, "PoolID"));
	ck_assert_ptr_nonnull(id);
	(void) snprintf(body, sizeof(body), "{\"PoolID\":\"%s\",\"Address\":\"\","
	    "\"Options\":{\"RequestAddressType\":\"com.docker.network.gateway\"}}",
	    id);
	json_t *g;
	ck_assert_uint_eq(call("/IpamDriver.RequestAddress", body, &g), 200);
	ck_assert_str_eq(json_string_value(json_object_get(g, "Address")),
	    "10.77.0.1/24");
	json_decref(g);
	(void) snprintf(body, sizeof(body), "{\"PoolID\":\"%s\",\"Address\":"
	    "\"10.77.0.50\",\"Options\":null}", id);
	ck_assert_uint_eq(call("/IpamDriver.RequestAddress", body, &g), 200);
	ck_assert_str_eq(json_string_value(json_object_get(g, "Address")),
	    "10.77.0.50/24");
	json_decref(g);
	ck_assert_uint_eq(call("/IpamDriver.RequestAddress", body, NULL), 409);
	(void) snprintf(body, sizeof(body), "{\"PoolID\":\"%s\",\"Address\":"
	    "\"10.77.0.50\"}", id);
	ck_assert_uint_eq(call("/IpamDriver.ReleaseAddress", body, NULL), 200);
	ck_assert_uint_eq(call("/IpamDriver.ReleaseAddress", body, NULL), 404);
	/* Overlapping subnet. */
	json_t *o;
	ck_assert_uint_eq(call("/IpamDriver.RequestPool",
	    "{\"Pool\":\"10.77.0.0/16\",\"V6\":false}", &o), 409);
	ck_assert_ptr_nonnull(strstr(err_of(o), "overlaps"));
	json_decref(o);
	(void) snprintf(body, sizeof(body), "{\"PoolID\":\"%s\"}", id);
	ck_assert_uint_eq(call("/IpamDriver.ReleasePool", body, NULL), 200);
	ck_assert_uint_eq(call("/IpamDriver.ReleasePool", body, NULL), 404);
	json_decref(j);
	ck_assert_uint_eq(call("/IpamDriver.RequestPool",
	    "{\"Pool\":\"\",\"SubPool\":\"10.1.0.0/24\"}", NULL), 400);
}
END_TEST

START_TEST(create_network_json)
{
	json_t *j;

	ck_assert_uint_eq(call("/NetworkDriver.CreateNetwork",
	    "{\"NetworkID\":\"" TH_NETID1 "\",\"Options\":{"
	    "\"com.docker.network.enable_ipv6\":false,"
	    "\"com.docker.network.generic\":{\"com.docker.network.driver.mtu\":\"1450\"}},"
	    "\"IPv4Data\":[{\"AddressSpace\":\"LocalDefault\",\"Pool\":\"10.77.0.0/24\","
	    "\"Gateway\":\"10.77.0.1/24\",\"AuxAddresses\":{\"r\":\"10.77.0.254/24\"}}],"
	    "\"IPv6Data\":null}", &j), 200);
	json_decref(j);
	ck_assert_int_eq(lnk_fake_get_bridge(env.lnk, "cb-5f1c0a7e9b2d", NULL), 1);
	ck_assert_uint_eq(call("/NetworkDriver.DeleteNetwork",
	    "{\"NetworkID\":\"" TH_NETID1 "\"}", NULL), 200);
	ck_assert_uint_eq(lnk_fake_bridge_count(env.lnk), 0);
}
END_TEST

/* Each bad body gets a 4xx with a message that names the problem. */
START_TEST(bad_input)
{
	static const char *const cases[][3] = {
		{ "/NetworkDriver.CreateNetwork", "", "empty" },
		{ "/NetworkDriver.CreateNetwork", "{", "malformed JSON" },
		{ "/NetworkDriver.CreateNetwork", "[1,2]", "JSON object" },
		{ "/NetworkDriver.CreateNetwork", "\"x\"", "malformed JSON" },
		{ "/NetworkDriver.CreateNetwork", "{\"NetworkID\":1}", "must be a string" },
		{ "/NetworkDriver.CreateNetwork", "{}", "missing field NetworkID" },
		{ "/NetworkDriver.CreateNetwork", "{\"NetworkID\":\"abc\"}", "64 hex" },
		{ "/NetworkDriver.CreateNetwork", "{\"NetworkID\":\"" TH_NETID1 "\",\"NetworkID\":\"" TH_NETID1 "\"}", "duplicate" },
		{ "/NetworkDriver.CreateNetwork", "{\"NetworkID\":\"" TH_NETID1 "\",\"Options\":[]}", "Options must be an object" },
		{ "/NetworkDriver.CreateNetwork", "{\"NetworkID\":\"" TH_NETID1 "\",\"Options\":{\"com.docker.network.generic\":{\"com.docker.network.driver.mtu\":1400}}}", "must be a string" },
		{ "/NetworkDriver.CreateNetwork", "{\"NetworkID\":\"" TH_NETID1 "\",\"Options\":{\"com.docker.network.enable_ipv6\":3}}", "boolean" },
		{ "/NetworkDriver.CreateNetwork", "{\"NetworkID\":\"" TH_NETID1 "\",\"IPv4Data\":{}}", "array" },
		{ "/NetworkDriver.CreateNetwork", "{\"NetworkID\":\"" TH_NETID1 "\",\"IPv4Data\":[{\"Pool\":\"10.0.0.0/33\"}]}", "invalid pool" },
		{ "/NetworkDriver.CreateNetwork", "{\"NetworkID\":\"" TH_NETID1 "\",\"IPv4Data\":[{\"Pool\":\"fd00::/64\"}]}", "IPv4" },
		{ "/NetworkDriver.CreateNetwork", "{\"NetworkID\":\"" TH_NETID1 "\",\"IPv4Data\":[{\"Pool\":\"10.0.0.0/24\",\"Gateway\":\"nope\"}]}", "gateway" },
		{ "/NetworkDriver.CreateNetwork", "{\"NetworkID\":\"" TH_NETID1 "\",\"IPv4Data\":[{\"Pool\":\"10.0.0.0/24\",\"AuxAddresses\":{\"a\":5}}]}", "aux address" },
		{ "/NetworkDriver.CreateNetwork", "{\"NetworkID\":\"" TH_NETID1 "\",\"Options\":{\"com.docker.network.generic\":{\"com.docker.network.bridge.name\":\"waytoolongbridgename\"}}}", "bridge name" },
		{ "/NetworkDriver.DeleteNetwork", "{\"NetworkID\":\"" TH_NETID2 "\"}", "not found" },
		{ "/IpamDriver.RequestPool", "{\"Pool\":5}", "must be a string" },
		{ "/IpamDriver.RequestPool", "{\"Pool\":\"10.0.0.0\"}", "prefix length" },
		{ "/IpamDriver.RequestPool", "{\"V6\":\"perhaps\"}", "boolean" },
		{ "/IpamDriver.RequestPool", "{\"Options\":{\"a\":1}}", "must be a string" },
		{ "/IpamDriver.RequestAddress", "{\"Address\":\"\"}", "missing field PoolID" },
		{ "/IpamDriver.RequestAddress", "{\"PoolID\":\"LocalDefault/10.0.0.0/24\"}", "not found" },
		{ "/IpamDriver.RequestAddress", "{\"PoolID\":\"x\",\"Address\":\"1.2.3.400\"}", "invalid address" },
		{ "/IpamDriver.ReleaseAddress", "{\"PoolID\":\"x\"}", "missing field Address" },
		{ "/IpamDriver.ReleasePool", "{\"PoolID\":\"\"}", "empty" },
		{ "/NetworkDriver.Join", "{}", "missing field NetworkID" },
		{ "/NetworkDriver.Join", "{\"NetworkID\":\"" TH_NETID1 "\",\"EndpointID\":\"xyz\"}", "64 hex" },
		{ "/NetworkDriver.Join", "{\"NetworkID\":\"" TH_NETID1 "\",\"EndpointID\":\"" TH_NETID2 "\"}", "not found" },
		{ "/NetworkDriver.CreateEndpoint", "{\"NetworkID\":\"" TH_NETID1 "\",\"EndpointID\":\"" TH_NETID2 "\"}", "not found" },
		{ "/NetworkDriver.CreateEndpoint", "{\"NetworkID\":\"" TH_NETID1 "\",\"EndpointID\":\"" TH_NETID2 "\",\"Interface\":{\"Address\":\"10.0.0.2\"}}", "prefix length" },
		{ "/NetworkDriver.CreateEndpoint", "{\"NetworkID\":\"" TH_NETID1 "\",\"EndpointID\":\"" TH_NETID2 "\",\"Interface\":{\"Address\":\"fd00::2/64\"}}", "not an IPv4" },
		{ "/NetworkDriver.CreateEndpoint", "{\"NetworkID\":\"" TH_NETID1 "\",\"EndpointID\":\"" TH_NETID2 "\",\"Interface\":{\"MacAddress\":\"01:00:5e:00:00:01\"}}", "unicast" },
		{ "/NetworkDriver.CreateEndpoint", "{\"NetworkID\":\"" TH_NETID1 "\",\"EndpointID\":\"" TH_NETID2 "\",\"Interface\":{\"MacAddress\":\"zz\"}}", "MAC" },
		{ "/NetworkDriver.CreateEndpoint", "{\"NetworkID\":\"" TH_NETID1 "\",\"EndpointID\":\"" TH_NETID2 "\",\"Interface\":[]}", "Interface must be an object" },
		{ "/NetworkDriver.EndpointOperInfo", "{\"NetworkID\":\"" TH_NETID1 "\",\"EndpointID\":\"" TH_NETID2 "\"}", "not found" },
		{ "/NetworkDriver.DeleteEndpoint", "{\"NetworkID\":\"" TH_NETID1 "\",\"EndpointID\":\"" TH_NETID2 "\"}", "not found" },
	};
	json_t *j;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		unsigned int st = call(cases[i][0], cases[i][1], &j);

		ck_assert_msg(st >= 400, "%s %s: status %u", cases[i][0],
		    cases[i][1], st);
		ck_assert_msg(strstr(err_of(j), cases[i][2]) != NULL,
		    "%s %s: '%s' lacks '%s'", cases[i][0], cases[i][1],
		    err_of(j), cases[i][2]);
		json_decref(j);
	}
	ck_assert_uint_eq(lnk_fake_bridge_count(env.lnk), 0);
}
END_TEST

#define EP1 "e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1"

static void
create_net(const char *extra_generic, bool internal)
{
	char body[1024];

	(void) snprintf(body, sizeof(body), "{\"NetworkID\":\"" TH_NETID1
	    "\",\"Options\":{\"com.docker.network.enable_ipv6\":true,"
	    "%s\"com.docker.network.generic\":{%s}},"
	    "\"IPv4Data\":[{\"Pool\":\"10.77.0.0/24\",\"Gateway\":\"10.77.0.1/24\"}],"
	    "\"IPv6Data\":[{\"Pool\":\"fd00:77::/64\",\"Gateway\":\"fd00:77::1/64\"}]}",
	    internal ? "\"com.docker.network.internal\":true," : "",
	    extra_generic);
	ck_assert_uint_eq(call("/NetworkDriver.CreateNetwork", body, NULL), 200);
}

START_TEST(endpoint_flow)
{
	json_t *j;

	create_net("", false);
	/* dockerd sent addresses and no MAC: only the MAC comes back. */
	ck_assert_uint_eq(call("/NetworkDriver.CreateEndpoint",
	    "{\"NetworkID\":\"" TH_NETID1 "\",\"EndpointID\":\"" EP1 "\","
	    "\"Interface\":{\"Address\":\"10.77.0.2/24\",\"AddressIPv6\":"
	    "\"fd00:77::2/64\",\"MacAddress\":\"\"},\"Options\":{}}", &j), 200);
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(j,
	    "Interface"), "MacAddress")), "02:42:0a:4d:00:02");
	ck_assert_ptr_null(json_object_get(json_object_get(j, "Interface"),
	    "Address"));
	json_decref(j);
	ck_assert_int_eq(lnk_fake_get_veth(env.lnk, "cbve1e1e1e1e1e1", NULL), 1);

	ck_assert_uint_eq(call("/NetworkDriver.Join",
	    "{\"NetworkID\":\"" TH_NETID1 "\",\"EndpointID\":\"" EP1 "\","
	    "\"SandboxKey\":\"/var/run/docker/netns/3c9f1b2a7d44\",\"Options\":{}}",
	    &j), 200);
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(j,
	    "InterfaceName"), "SrcName")), "cbpe1e1e1e1e1e1");
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(j,
	    "InterfaceName"), "DstPrefix")), "eth");
	ck_assert_str_eq(json_string_value(json_object_get(j, "Gateway")),
	    "10.77.0.1");
	ck_assert_str_eq(json_string_value(json_object_get(j, "GatewayIPv6")),
	    "fd00:77::1");
	ck_assert(json_is_true(json_object_get(j, "DisableGatewayService")));
	json_decref(j);

	ck_assert_uint_eq(call("/NetworkDriver.EndpointOperInfo",
	    "{\"NetworkID\":\"" TH_NETID1 "\",\"EndpointID\":\"" EP1 "\"}", &j),
	    200);
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(j,
	    "Value"), "host_veth")), "cbve1e1e1e1e1e1");
	json_decref(j);
	ck_assert_uint_eq(call("/NetworkDriver.ProgramExternalConnectivity",
	    "{\"NetworkID\":\"" TH_NETID1 "\",\"EndpointID\":\"" EP1 "\","
	    "\"Options\":{\"com.docker.network.portmap\":[]}}", NULL), 200);
	ck_assert_uint_eq(call("/NetworkDriver.ProgramExternalConnectivity",
	    "{\"NetworkID\":\"" TH_NETID1 "\",\"EndpointID\":\"" EP1 "\","
	    "\"Options\":{\"com.docker.network.portmap\":[{\"Proto\":6,"
	    "\"Port\":80,\"HostPort\":8080}]}}", &j), 501);
	ck_assert_ptr_nonnull(strstr(err_of(j), "publish"));
	json_decref(j);
	ck_assert_uint_eq(call("/NetworkDriver.Leave",
	    "{\"NetworkID\":\"" TH_NETID1 "\",\"EndpointID\":\"" EP1 "\"}", NULL),
	    200);
	ck_assert_uint_eq(call("/NetworkDriver.DeleteEndpoint",
	    "{\"NetworkID\":\"" TH_NETID1 "\",\"EndpointID\":\"" EP1 "\"}", NULL),
	    200);
	ck_assert_uint_eq(lnk_fake_veth_count(env.lnk), 0);
}
END_TEST

START_TEST(endpoint_mac_given_internal)
{
	json_t *j;

	create_net("\"com.docker.network.container_iface_prefix\":\"net\"", true);
	/* A MAC from dockerd is used and not echoed back. */
	ck_assert_uint_eq(call("/NetworkDriver.CreateEndpoint",
	    "{\"NetworkID\":\"" TH_NETID1 "\",\"EndpointID\":\"" EP1 "\","
	    "\"Interface\":{\"Address\":\"10.77.0.9/24\",\"MacAddress\":"
	    "\"02:42:ac:1e:00:99\"}}", &j), 200);
	ck_assert_ptr_null(json_object_get(j, "Interface"));
	json_decref(j);
	struct lnk_veth_cfg vc;
	ck_assert_int_eq(lnk_fake_get_veth(env.lnk, "cbve1e1e1e1e1e1", &vc), 1);
	ck_assert_uint_eq(vc.peer_mac[5], 0x99);
	ck_assert_str_eq(vc.bridge, "cb-5f1c0a7e9b2d");
	/* Internal: no gateway, no docker_gwbridge, custom prefix. */
	ck_assert_uint_eq(call("/NetworkDriver.Join",
	    "{\"NetworkID\":\"" TH_NETID1 "\",\"EndpointID\":\"" EP1 "\","
	    "\"SandboxKey\":\"/x\"}", &j), 200);
	ck_assert_ptr_null(json_object_get(j, "Gateway"));
	ck_assert_ptr_null(json_object_get(j, "GatewayIPv6"));
	ck_assert(json_is_true(json_object_get(j, "DisableGatewayService")));
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(j,
	    "InterfaceName"), "DstPrefix")), "net");
	json_decref(j);
	/* Outside the subnet. */
	ck_assert_uint_eq(call("/NetworkDriver.CreateEndpoint",
	    "{\"NetworkID\":\"" TH_NETID1 "\",\"EndpointID\":\"" TH_NETID2 "\","
	    "\"Interface\":{\"Address\":\"10.78.0.9/24\"}}", &j), 400);
	ck_assert_ptr_nonnull(strstr(err_of(j), "not inside"));
	json_decref(j);
}
END_TEST

/* The Cbridge.Status document's networks[i] (borrowed from doc). */
static json_t *
status_net(json_t *doc, size_t i)
{
	return json_array_get(json_object_get(doc, "Networks"), i);
}

static const char *
jstr(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	ck_assert_msg(s != NULL, "%s is not a string", key);
	return s;
}

static json_int_t
jint(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	ck_assert_msg(json_is_integer(v), "%s is not an integer", key);
	return json_integer_value(v);
}

/* "2025-01-31T12:00:00.123Z" as seconds since the epoch; -1 if it is
 * not RFC 3339 in UTC with milliseconds. */
static time_t
parse_utc(const char *s)
{
	struct tm tm = { 0 };
	const char *rest = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);

	if (rest == NULL || strlen(rest) != 5 || rest[0] != '.' ||
	    strspn(rest + 1, "0123456789") != 3 || rest[4] != 'Z')
		return -1;
	return timegm(&tm);
}

/* A driver on the firewall and host-port fakes, told its backend, in
 * place of the fixture's (which has no firewall). */
static void
use_fw_fakes(struct fw **ret_fw, struct fw_hostports **ret_hp)
{
	struct drv_params p = { .state_dir = env.dir, .lnk = env.lnk,
	    .fw_backend = FW_BACKEND_IPTABLES,
	    .fw_why = "FIREWALL_BACKEND=iptables" };
	char err[256] = "";

	api = api_free(api);
	env.drv = drv_free(env.drv);
	p.fw = *ret_fw = fw_fake_new();
	p.ports = *ret_hp = fw_hostports_fake_new();
	ck_assert_int_eq(drv_new(&p, &env.drv, err, sizeof(err)), 0);
	api = api_new(env.drv);
	ck_assert_ptr_nonnull(api);
}

/* The driver goes before the fakes it borrows; the fixture's teardown
 * then has nothing left to free. */
static void
drop_fw_fakes(struct fw *fw, struct fw_hostports *hp)
{
	api = api_free(api);
	env.drv = drv_free(env.drv);
	fw_free(fw);
	fw_hostports_free(hp);
}

/* Cbridge.Status: the backend and why, the last sync, and each network
 * with its subnets, endpoints, published ports and flags. */
START_TEST(status_route)
{
	struct fw *fw;
	struct fw_hostports *hp;
	json_t *j, *n, *fwj, *last;
	json_int_t syncs, fails;
	time_t before, after, at;

	use_fw_fakes(&fw, &hp);
	ck_assert_uint_eq(call("/Cbridge.Status", "", &j), 200);
	fwj = json_object_get(j, "Firewall");
	ck_assert_str_eq(jstr(fwj, "Backend"), "iptables");
	ck_assert_str_eq(jstr(fwj, "Why"), "FIREWALL_BACKEND=iptables");
	ck_assert(json_is_array(json_object_get(j, "Networks")));
	ck_assert_uint_eq(json_array_size(json_object_get(j, "Networks")), 0);
	/* No sync yet, or one at the start: LastSync says which. */
	ck_assert(jint(fwj, "Syncs") == 0 ?
	    json_is_null(json_object_get(fwj, "LastSync")) :
	    json_is_object(json_object_get(fwj, "LastSync")));
	json_decref(j);

	before = time(NULL);
	create_net("\"com.docker.network.bridge.enable_icc\":\"false\"",
	    false);
	ck_assert_uint_eq(call("/NetworkDriver.CreateNetwork",
	    "{\"NetworkID\":\"" TH_NETID2 "\",\"Options\":{"
	    "\"com.docker.network.internal\":true,"
	    "\"com.docker.network.generic\":{"
	    "\"com.docker.network.bridge.name\":\"cbtest0\","
	    "\"com.docker.network.bridge.enable_ip_masquerade\":\"false\"}},"
	    "\"IPv4Data\":[{\"Pool\":\"10.78.0.0/24\","
	    "\"Gateway\":\"10.78.0.1/24\"}]}", NULL), 200);
	ck_assert_uint_eq(call("/NetworkDriver.CreateEndpoint",
	    "{\"NetworkID\":\"" TH_NETID1 "\",\"EndpointID\":\"" EP1 "\","
	    "\"Interface\":{\"Address\":\"10.77.0.2/24\",\"AddressIPv6\":"
	    "\"fd00:77::2/64\"}}", NULL), 200);
	ck_assert_uint_eq(call("/NetworkDriver.Join",
	    "{\"NetworkID\":\"" TH_NETID1 "\",\"EndpointID\":\"" EP1 "\","
	    "\"SandboxKey\":\"/var/run/docker/netns/3c9f1b2a7d44\"}", NULL),
	    200);
	/* 80/tcp on any address: one binding per family of the container;
	 * 53/udp on 127.0.0.1: one. */
	ck_assert_uint_eq(call("/NetworkDriver.ProgramExternalConnectivity",
	    "{\"NetworkID\":\"" TH_NETID1 "\",\"EndpointID\":\"" EP1 "\","
	    "\"Options\":{\"com.docker.network.portmap\":[{\"Proto\":6,"
	    "\"Port\":80,\"HostPort\":8080},{\"Proto\":17,\"Port\":53,"
	    "\"HostIP\":\"127.0.0.1\",\"HostPort\":5353}]}}", NULL), 200);
	after = time(NULL);

	ck_assert_uint_eq(call("/Cbridge.Status", "", &j), 200);
	ck_assert_uint_eq(json_array_size(json_object_get(j, "Networks")), 2);
	n = status_net(j, 0);
	ck_assert_str_eq(jstr(n, "ID"), TH_NETID1);
	ck_assert_str_eq(jstr(n, "Bridge"), "cb-5f1c0a7e9b2d");
	ck_assert_str_eq(jstr(n, "IPv4Subnet"), "10.77.0.0/24");
	ck_assert_str_eq(jstr(n, "IPv6Subnet"), "fd00:77::/64");
	ck_assert_int_eq(jint(n, "Endpoints"), 1);
	ck_assert_int_eq(jint(n, "Ports"), 3);
	ck_assert(json_is_false(json_object_get(n, "Internal")));
	ck_assert(json_is_false(json_object_get(n, "ICC")));
	ck_assert(json_is_true(json_object_get(n, "Masquerade")));
	n = status_net(j, 1);
	ck_assert_str_eq(jstr(n, "ID"), TH_NETID2);
	ck_assert_str_eq(jstr(n, "Bridge"), "cbtest0");
	ck_assert_str_eq(jstr(n, "IPv4Subnet"), "10.78.0.0/24");
	ck_assert_str_eq(jstr(n, "IPv6Subnet"), "");
	ck_assert_int_eq(jint(n, "Endpoints"), 0);
	ck_assert_int_eq(jint(n, "Ports"), 0);
	ck_assert(json_is_true(json_object_get(n, "Internal")));
	ck_assert(json_is_true(json_object_get(n, "ICC")));
	ck_assert(json_is_false(json_object_get(n, "Masquerade")));

	fwj = json_object_get(j, "Firewall");
	syncs = jint(fwj, "Syncs");
	fails = jint(fwj, "SyncFailures");
	/* Two networks, an endpoint, a join and the ports: a sync each. */
	ck_assert_int_ge(syncs, 4);
	ck_assert_int_eq(fails, 0);
	last = json_object_get(fwj, "LastSync");
	ck_assert_str_eq(jstr(last, "Error"), "");
	ck_assert_int_ge(jint(last, "DurationUsec"), 0);
	at = parse_utc(jstr(last, "Time"));
	ck_assert_msg(at >= before && at <= after, "LastSync.Time %s is not "
	    "between %lld and %lld", jstr(last, "Time"), (long long)before,
	    (long long)after);
	json_decref(j);

	/* A failed periodic check: counted, its error shown; the next one
	 * that works clears the error and keeps the count. */
	fw_fake_fail_next(fw, EPERM);
	drv_tick(env.drv);
	ck_assert_uint_eq(call("/Cbridge.Status", "", &j), 200);
	fwj = json_object_get(j, "Firewall");
	ck_assert_int_eq(jint(fwj, "Syncs"), syncs + 1);
	ck_assert_int_eq(jint(fwj, "SyncFailures"), fails + 1);
	ck_assert_str_ne(jstr(json_object_get(fwj, "LastSync"), "Error"), "");
	json_decref(j);
	drv_tick(env.drv);
	ck_assert_uint_eq(call("/Cbridge.Status", "", &j), 200);
	fwj = json_object_get(j, "Firewall");
	ck_assert_int_eq(jint(fwj, "Syncs"), syncs + 2);
	ck_assert_int_eq(jint(fwj, "SyncFailures"), fails + 1);
	ck_assert_str_eq(jstr(json_object_get(fwj, "LastSync"), "Error"), "");
	json_decref(j);

	/* Gone with its network. */
	ck_assert_uint_eq(call("/NetworkDriver.DeleteNetwork",
	    "{\"NetworkID\":\"" TH_NETID2 "\"}", NULL), 200);
	ck_assert_uint_eq(call("/Cbridge.Status", "", &j), 200);
	ck_assert_uint_eq(json_array_size(json_object_get(j, "Networks")), 1);
	ck_assert_str_eq(jstr(status_net(j, 0), "ID"), TH_NETID1);
	json_decref(j);
	drop_fw_fakes(fw, hp);
}
END_TEST

/* Without a firewall (DNS-only tests, a daemon's fake): "none", and no
 * sync ever. */
START_TEST(status_without_firewall)
{
	json_t *j, *fwj;

	create_net("", true);
	ck_assert_uint_eq(call("/Cbridge.Status", "", &j), 200);
	fwj = json_object_get(j, "Firewall");
	ck_assert_str_eq(jstr(fwj, "Backend"), "none");
	ck_assert_str_eq(jstr(fwj, "Why"), "");
	ck_assert_int_eq(jint(fwj, "Syncs"), 0);
	ck_assert_int_eq(jint(fwj, "SyncFailures"), 0);
	ck_assert(json_is_null(json_object_get(fwj, "LastSync")));
	ck_assert_uint_eq(json_array_size(json_object_get(j, "Networks")), 1);
	ck_assert(json_is_true(json_object_get(status_net(j, 0),
	    "Internal")));
	json_decref(j);
	/* A body is not looked at: the route takes none. */
	ck_assert_uint_eq(call("/Cbridge.Status", "{\"x\":", NULL), 200);
}
END_TEST

START_TEST(deep_nesting)
{
	size_t n = 100000;
	char *b = malloc(2 * n + 1);
	struct api_reply rep;

	ck_assert_ptr_nonnull(b);
	memset(b, '[', n);
	memset(b + n, ']', n);
	b[2 * n] = '\0';
	ck_assert_int_eq(api_handle(api, "/IpamDriver.RequestPool", b, 2 * n,
	    &rep), 0);
	ck_assert_uint_eq(rep.status, 400);
	free(rep.body);
	free(b);
}
END_TEST

Suite *
api_suite(void)
{
	Suite *s = suite_create("api");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, handshake);
	tcase_add_test(tc, ipam_flow);
	tcase_add_test(tc, create_network_json);
	tcase_add_test(tc, bad_input);
	tcase_add_test(tc, deep_nesting);
	tcase_add_test(tc, endpoint_flow);
	tcase_add_test(tc, endpoint_mac_given_internal);
	tcase_add_test(tc, status_route);
	tcase_add_test(tc, status_without_firewall);
	suite_add_tcase(s, tc);
	return s;
}
