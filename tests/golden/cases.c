#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "tests/golden/cases.h"

#define ID1 "1111111111111111111111111111111111111111111111111111111111111111"
#define ID2 "2222222222222222222222222222222222222222222222222222222222222222"

/* Addresses as the driver passes them: binary, network order. */
#define V4(a, b, c, d, l) { .family = AF_INET, .addr = { a, b, c, d }, \
	.plen = (l) }
#define A4(a, b, c, d) V4(a, b, c, d, 32)
/* fd00:30::<last>/<l> */
#define V6(last, l) { .family = AF_INET6, .addr = { 0xfd, 0x00, 0x00, \
	0x30, [15] = (last) }, .plen = (l) }
#define CIP	A4(172, 30, 0, 2)

#define NET1_BASE .id = ID1, .bridge = "br-n1", .ipv4 = true, \
	.subnet4 = V4(172, 30, 0, 0, 24)
#define NET1 NET1_BASE, .icc = true, .masquerade = true
#define NET2 .id = ID2, .bridge = "br-n2", .ipv4 = true, \
	.subnet4 = V4(172, 31, 0, 0, 24), .icc = true, .masquerade = true

#define LEN(a) (sizeof(a) / sizeof((a)[0]))
#define MODEL(n, e, p) { .nets = (n), .nnets = LEN(n), .eps = (e), \
	.neps = LEN(e), .ports = (p), .nports = LEN(p) }

static const struct fw_ep ep1[] = { { .net_id = ID1, .addr4 = CIP } };
static const struct fw_port p8080[] = {
	{ .net_id = ID1, .family = AF_INET, .proto = IPPROTO_TCP,
	  .host_port = 8080, .cip = CIP, .cport = 80 },
};

static const struct fw_net n_default[] = { { NET1 } };
static const struct fw_net n_icc_off[] = { { NET1_BASE, .masquerade = true } };
static const struct fw_net n_internal[] = { { NET1, .internal = true } };
static const struct fw_net n_internal_v6[] = { { NET1, .internal = true,
	.ipv6 = true, .subnet6 = V6(0, 64) } };
static const struct fw_net n_masq_off[] = { { NET1_BASE, .icc = true } };
static const struct fw_net n_snat[] = { { NET1, .snat4 = A4(192, 0, 2, 10) } };
static const struct fw_net n_two[] = { { NET1 }, { NET2 } };
static const struct fw_net n_routed[] = { { NET1, .gw4 = FW_GW_ROUTED } };
static const struct fw_net n_unprot[] = { { NET1,
	.gw4 = FW_GW_NAT_UNPROTECTED } };
static const struct fw_net n_trusted[] = { { NET1, .ntrusted = 1,
	.trusted = { "eth9" } } };
static const struct fw_net n_v6[] = { { NET1, .ipv6 = true,
	.subnet6 = V6(0, 64) } };

static const struct fw_ep ep_v6[] = { { .net_id = ID1, .addr4 = CIP,
	.addr6 = V6(2, 128) } };
static const struct fw_port p_v6[] = {
	{ .net_id = ID1, .family = AF_INET, .proto = IPPROTO_TCP,
	  .host_port = 8080, .cip = CIP, .cport = 80 },
	{ .net_id = ID1, .family = AF_INET6, .proto = IPPROTO_TCP,
	  .host_port = 8080, .cip = V6(2, 128), .cport = 80 },
};

/* tcp, udp, a range expanded to one binding per port, sctp, loopback. */
static const struct fw_port p_many[] = {
	{ .net_id = ID1, .family = AF_INET, .proto = IPPROTO_TCP,
	  .host_port = 8080, .cip = CIP, .cport = 80 },
	{ .net_id = ID1, .family = AF_INET, .proto = IPPROTO_UDP,
	  .host_port = 5353, .cip = CIP, .cport = 53 },
	{ .net_id = ID1, .family = AF_INET, .proto = IPPROTO_TCP,
	  .host_port = 9000, .cip = CIP, .cport = 90 },
	{ .net_id = ID1, .family = AF_INET, .proto = IPPROTO_TCP,
	  .host_port = 9001, .cip = CIP, .cport = 91 },
	{ .net_id = ID1, .family = AF_INET, .proto = IPPROTO_TCP,
	  .host_port = 9002, .cip = CIP, .cport = 92 },
	{ .net_id = ID1, .family = AF_INET, .proto = IPPROTO_SCTP,
	  .host_port = 3868, .cip = CIP, .cport = 3868 },
	{ .net_id = ID1, .family = AF_INET, .proto = IPPROTO_TCP,
	  .host_ip = A4(127, 0, 0, 1), .host_port = 8443, .cip = CIP,
	  .cport = 443 },
};
static const struct fw_port p_binding[] = {
	{ .net_id = ID1, .family = AF_INET, .proto = IPPROTO_TCP,
	  .host_ip = A4(192, 0, 2, 10), .host_port = 8080, .cip = CIP,
	  .cport = 80 },
};
static const struct fw_port p_wsl[] = {
	{ .net_id = ID1, .family = AF_INET, .proto = IPPROTO_TCP,
	  .host_ip = A4(127, 0, 0, 1), .host_port = 8080, .cip = CIP,
	  .cport = 80 },
};
static const struct fw_ep ep_two[] = {
	{ .net_id = ID1, .addr4 = CIP },
	{ .net_id = ID2, .addr4 = A4(172, 31, 0, 2) },
};

static char d_bridges[][FW_IFNAMSIZ] = { "docker0", "br-0a1b2c3d4e5f" };

const struct golden_case golden_cases[] = {
	{ "default",		MODEL(n_default, ep1, p8080) },
	{ "icc_off",		MODEL(n_icc_off, ep1, p8080) },
	{ "internal",		{ .nets = n_internal, .nnets = 1, .eps = ep1,
				  .neps = 1 } },
	{ "internal_ipv6",	{ .nets = n_internal_v6, .nnets = 1 } },
	{ "masquerade_off",	MODEL(n_masq_off, ep1, p8080) },
	{ "host_ipv4_snat",	MODEL(n_snat, ep1, p8080) },
	{ "host_binding_ipv4",	MODEL(n_default, ep1, p_binding) },
	{ "ipv6",		MODEL(n_v6, ep_v6, p_v6) },
	{ "ports",		MODEL(n_default, ep1, p_many) },
	{ "wsl2",		{ .nets = n_default, .nnets = 1, .eps = ep1,
				  .neps = 1, .ports = p_wsl, .nports = 1,
				  .wsl2 = true } },
	{ "two_networks",	{ .nets = n_two, .nnets = 2, .eps = ep_two,
				  .neps = 2 } },
	{ "routed",		MODEL(n_routed, ep1, p8080) },
	{ "nat_unprotected",	MODEL(n_unprot, ep1, p8080) },
	/* dockerd's bridges named by its nft isolation chain. */
	{ "docker_bridges",	{ .nets = n_default, .nnets = 1, .eps = ep1,
				  .neps = 1, .ports = p8080, .nports = 1,
				  .docker4 = { d_bridges, 2 } } },
	{ "trusted_interface",	{ .nets = n_trusted, .nnets = 1, .eps = ep1,
				  .neps = 1 } },
	{ NULL,			{ 0 } },
};

const struct golden_case *
golden_find(const char *name)
{
	for (const struct golden_case *c = golden_cases; c->name != NULL; c++)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}
