/*
 * The reader of `nft -j -a list ...` output (firewall/parse.c): the input,
 * as a NUL-terminated string, goes to fw_parse_host, fw_parse_rules (both
 * families; DOCKER-USER, FORWARD and Docker 29's filter-FORWARD) and
 * fw_parse_final_return.  Checks that what
 * comes out is only what the readers promise: rules of ours with a valid
 * network ID, the asked family and chain, a handle, and one of the two
 * shapes cbridge writes (a valid iif or a valid oif, the other empty) or
 * neither (both empty); and that the planner takes every rule read and,
 * with no networks, deletes each.  The same input also goes to the check
 * of the 127.0.0.11 redirect's table (firewall/dnsiplan.c), which must
 * answer one of its three states or refuse the document, and to the
 * nftables backend's reader (firewall/nftstate.c, both families): what
 * it reads, one diff and the update that follows reach the plan.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <arpa/inet.h>

#include <jansson.h>

#include "firewall/common.h"
#include "firewall/dnsintercept.h"
#include "firewall/firewall.h"
#include "firewall/nftplan.h"
#include "tests/fuzz/fuzz.h"

static void
check_rules(const struct fw_rule_vec *v, size_t from, int family,
    const char *chain)
{
	for (size_t i = from; i < v->n; i++) {
		const struct fw_rule *r = &v->v[i];
		bool in = r->iif[0] != '\0', out = r->oif[0] != '\0';

		FUZZ_CHECK(r->family == family, "rule %zu: family %d", i,
		    r->family);
		FUZZ_CHECK(strcmp(r->chain, chain) == 0, "rule %zu: chain %s",
		    i, r->chain);
		FUZZ_CHECK(fw_valid_id(r->id), "rule %zu: id '%s'", i, r->id);
		FUZZ_CHECK(r->handle > 0, "rule %zu: handle 0", i);
		FUZZ_CHECK(!(in && out), "rule %zu: both names '%s' '%s'", i,
		    r->iif, r->oif);
		FUZZ_CHECK(!in || fw_valid_ifname(r->iif), "rule %zu: iif "
		    "'%s'", i, r->iif);
		FUZZ_CHECK(!out || fw_valid_ifname(r->oif), "rule %zu: oif "
		    "'%s'", i, r->oif);
		/* Only Docker 29's chain has a place its rules must keep. */
		FUZZ_CHECK(!r->misplaced ||
		    strcmp(chain, FW_CHAIN_DOCKER_FORWARD) == 0,
		    "rule %zu: misplaced in %s", i, chain);
	}
}

/* One network in both families, an endpoint and a port in each. */
#define PL_ID	"1111111111111111111111111111111111111111111111111111111111111111"

static const struct fw_net pl_nets[] = { {
	.id = PL_ID, .bridge = "br-n1", .ipv4 = true, .ipv6 = true,
	.icc = true, .masquerade = true,
	.subnet4 = { .family = AF_INET, .addr = { 172, 30 }, .plen = 24 },
	.subnet6 = { .family = AF_INET6, .addr = { 0xfd, 0, 0, 0x30 },
	    .plen = 64 },
} };
static const struct fw_ep pl_eps[] = { {
	.net_id = PL_ID,
	.addr4 = { .family = AF_INET, .addr = { 172, 30, 0, 2 }, .plen = 32 },
	.addr6 = { .family = AF_INET6, .addr = { 0xfd, 0, 0, 0x30,
	    [15] = 2 }, .plen = 128 },
} };
static const struct fw_port pl_ports[] = {
	{ .net_id = PL_ID, .family = AF_INET, .proto = IPPROTO_TCP,
	  .host_port = 8080, .cport = 80, .cip = { .family = AF_INET,
	  .addr = { 172, 30, 0, 2 }, .plen = 32 } },
	{ .net_id = PL_ID, .family = AF_INET6, .proto = IPPROTO_TCP,
	  .host_port = 8080, .cport = 80, .cip = { .family = AF_INET6,
	  .addr = { 0xfd, 0, 0, 0x30, [15] = 2 }, .plen = 128 } },
};

static void
check_nft(const char *json)
{
	static const struct fw_model m = { .nets = pl_nets, .nnets = 1,
	    .eps = pl_eps, .neps = 1, .ports = pl_ports, .nports = 2 };
	struct fw_nplan p;
	char err[128];
	int r;

	r = fw_nft_compute(&m, false, false, &p, err, sizeof(err));
	FUZZ_CHECK(r == 0 || r == -ENOMEM, "fw_nft_compute: %d", r);
	if (r < 0)
		return;
	for (int fi = 0; fi < 2; fi++) {
		int family = fi ? AF_INET6 : AF_INET;
		struct fw_nfound f;
		char *s = NULL;

		r = fw_nft_parse(json, family, &f);
		FUZZ_CHECK(r == 0 || r == -EBADMSG || r == -ENOMEM,
		    "fw_nft_parse: %d", r);
		if (r < 0) {
			FUZZ_CHECK(!f.table && f.nchains == 0 &&
			    f.nelems == 0 && f.nmaps == 0,
			    "fw_nft_parse failed but kept what it read");
			continue;
		}
		r = fw_nft_diff(&p, family, &f, &s);
		FUZZ_CHECK(r == 0 || r == -ENOMEM, "fw_nft_diff: %d", r);
		FUZZ_CHECK(r < 0 || s != NULL, "fw_nft_diff: no script");
		free(s);
		s = NULL;
		if (fw_nft_found_update(&f, &p, family) == 0) {
			r = fw_nft_diff(&p, family, &f, &s);
			FUZZ_CHECK(r < 0 || strcmp(s, "") == 0,
			    "after the update still: %s", s);
			free(s);
		}
		fw_nft_found_done(&f);
	}
	fw_nft_plan_done(&p);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void) argc, (void) argv;
	fuzz_keep_stderr();
	/* No read of /dev/urandom, and the same hashing every run. */
	json_object_seed(1);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct {
		int		family;
		const char	*chain;
	} asks[] = {
		{ AF_INET, FW_CHAIN_DOCKER_USER },
		{ AF_INET, FW_CHAIN_FORWARD },
		{ AF_INET6, FW_CHAIN_DOCKER_USER },
		{ AF_INET6, FW_CHAIN_FORWARD },
		{ AF_INET, FW_CHAIN_DOCKER_FORWARD },
		{ AF_INET6, FW_CHAIN_DOCKER_FORWARD },
	};
	struct fw_host h4 = { 0 }, h6 = { 0 };
	struct fw_rule_vec v = { 0 };
	char *json;
	int rh, r;

	if (size > FUZZ_MAX_INPUT)
		return 0;
	if ((json = malloc(size + 1)) == NULL)
		return 0;
	memcpy(json, data, size);
	json[size] = '\0';

	rh = fw_parse_host(json, &h4, &h6);
	FUZZ_CHECK(rh == 0 || rh == -EBADMSG, "fw_parse_host: %d", rh);
	if (rh < 0)
		FUZZ_CHECK(!h4.has_table && !h4.has_docker_user &&
		    !h4.has_forward && !h6.has_table && !h6.has_docker_user &&
		    !h6.has_forward && !h4.has_docker_forward &&
		    !h6.has_docker_forward,
		    "fw_parse_host failed but set a flag");
	/* A chain implies its table. */
	FUZZ_CHECK(h4.has_table || (!h4.has_docker_user && !h4.has_forward),
	    "ip chain without table");
	FUZZ_CHECK(h6.has_table || (!h6.has_docker_user && !h6.has_forward),
	    "ip6 chain without table");

	for (size_t i = 0; i < sizeof(asks) / sizeof(asks[0]); i++) {
		size_t n0 = v.n;

		r = fw_parse_rules(json, asks[i].family, asks[i].chain, &v);
		/* Same loader as fw_parse_host; a rule of ours without a
		 * handle refuses the whole list. */
		FUZZ_CHECK(r == 0 || r == -EBADMSG || r == -ENOMEM,
		    "fw_parse_rules: %d", r);
		FUZZ_CHECK(rh == 0 || r == -EBADMSG,
		    "fw_parse_host refused what fw_parse_rules read");
		if (r < 0)
			FUZZ_CHECK(v.n == n0, "fw_parse_rules failed but kept "
			    "%zu rules", v.n - n0);
		check_rules(&v, n0, asks[i].family, asks[i].chain);
	}
	FUZZ_CHECK(fw_parse_rules(json, AF_UNIX, FW_CHAIN_FORWARD, &v) ==
	    -EINVAL, "fw_parse_rules accepted AF_UNIX");

	if (v.n != 0) {
		static const struct fw_host both = { .has_table = true,
		    .has_docker_user = true, .has_forward = true,
		    .has_docker_forward = true };
		struct fw_plan p = { 0 };

		r = fw_plan_compute(NULL, 0, &both, &both, v.v, v.n, &p);
		FUZZ_CHECK(r == 0 || r == -ENOMEM, "fw_plan_compute refused "
		    "what the reader returned: %d", r);
		FUZZ_CHECK(r < 0 || (p.nadd == 0 && p.ndel == v.n),
		    "no networks: %zu added, %zu of %zu deleted", p.nadd,
		    p.ndel, v.n);
		fw_plan_done(&p);
	}

	if (rh < 0)
		FUZZ_CHECK(fw_parse_final_return(json) == 0,
		    "a final return in a refused document");
	else
		(void) fw_parse_final_return(json);

	{
		struct in_addr to = { .s_addr = htonl(0xa9fe3535) };
		enum dnsi_state st = (enum dnsi_state)-1;

		r = dnsi_plan_check(json, &to, &st);
		FUZZ_CHECK(r == 0 || r == -EBADMSG, "dnsi_plan_check: %d", r);
		FUZZ_CHECK(r < 0 || st == DNSI_ABSENT || st == DNSI_OK ||
		    st == DNSI_DRIFTED, "dnsi_plan_check: state %d", (int)st);
		FUZZ_CHECK(r == 0 || st == (enum dnsi_state)-1,
		    "dnsi_plan_check failed but set a state");
	}

	check_nft(json);

	fw_rule_vec_done(&v);
	free(json);
	return 0;
}
