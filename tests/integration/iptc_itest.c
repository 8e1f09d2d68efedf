/*
 * Drives the libiptc backend (or the whole host backend) on one golden
 * model in the caller's network namespace; tests/integration/iptables.sh
 * runs it in throwaway namespaces and compares iptables-legacy-save.
 *
 *   iptc_itest [-host] apply CASE | clear | show CASE | forward-drop 4|6
 *   iptc_itest -nft nwire-script CASE   the networks' part of CASE's nft plan
 *                           as the commands that add it (chains, rules,
 *                           elements), for nwire-dump and nft to compile
 *   iptc_itest nwire-dump FILE   those commands' rules as compiled to
 *                           netlink here (the "[ ... ]" lines of
 *                           nft --debug=netlink)
 *   iptc_itest -nft seq ... also prints "wire: B batches, F through
 *                           libnftables" on stderr
 *   iptc_itest scale N      N networks with a container and two published
 *                           ports each: prints the time of the first sync,
 *                           of a sync that changes nothing (the once-a-
 *                           second check) and of the clearing one
 */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "firewall/firewall.h"
#include "firewall/nftplan.h"
#include "firewall/nftwire.h"
#include "tests/golden/cases.h"

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int
scale(struct fw *f, int n)
{
	struct fw_net *nets = calloc((size_t)n, sizeof(*nets));
	struct fw_ep *eps = calloc((size_t)n, sizeof(*eps));
	struct fw_port *ports = calloc(2 * (size_t)n, sizeof(*ports));
	struct fw_model m = { .nets = nets, .nnets = (size_t)n, .eps = eps,
	    .neps = (size_t)n, .ports = ports, .nports = 2 * (size_t)n };
	struct fw_model empty = { 0 };
	char err[512] = "";
	double t0, t1, t2, t3, t4, t5;
	int r = 1;

	if (nets == NULL || eps == NULL || ports == NULL)
		goto out;
	for (int i = 0; i < n; i++) {
		/* IDs that differ early, as dockerd's random ones do. */
		snprintf(nets[i].id, sizeof(nets[i].id), "%08x%056x",
		    (unsigned int)(i + 1) * 2654435761u, i + 1);
		snprintf(nets[i].bridge, sizeof(nets[i].bridge), "cbs%d", i);
		nets[i].ipv4 = nets[i].icc = nets[i].masquerade = true;
		nets[i].subnet4 = (struct prefix){ .family = AF_INET,
		    .addr = { 10, (unsigned char)(100 + i / 256),
		    (unsigned char)(i % 256), 0 }, .plen = 24 };
		memcpy(eps[i].net_id, nets[i].id, sizeof(eps[i].net_id));
		eps[i].addr4 = nets[i].subnet4;
		eps[i].addr4.addr[3] = 2;
		eps[i].addr4.plen = 32;
		for (int j = 0; j < 2; j++) {
			struct fw_port *p = &ports[2 * i + j];

			memcpy(p->net_id, nets[i].id, sizeof(p->net_id));
			p->family = AF_INET;
			p->proto = j ? IPPROTO_UDP : IPPROTO_TCP;
			p->host_port = (unsigned short)(20000 + i);
			p->cip = eps[i].addr4;
			p->cport = 80;
		}
	}
	t0 = now_ms();
	if (f->ops->sync(f, &m, err, sizeof(err)) < 0)
		goto out;
	t1 = now_ms();
	if (f->ops->sync(f, &m, err, sizeof(err)) < 0)
		goto out;
	t2 = now_ms();
	/* One network (its container and ports) less, and back. */
	m.nnets--;
	m.neps--;
	m.nports -= 2;
	if (f->ops->sync(f, &m, err, sizeof(err)) < 0)
		goto out;
	t3 = now_ms();
	m.nnets++;
	m.neps++;
	m.nports += 2;
	if (f->ops->sync(f, &m, err, sizeof(err)) < 0)
		goto out;
	t4 = now_ms();
	if (f->ops->sync(f, &empty, err, sizeof(err)) < 0)
		goto out;
	t5 = now_ms();
	printf("networks %d: first sync %.1f ms, unchanged sync %.2f ms, "
	    "one network removed %.2f ms, added %.2f ms, clearing sync "
	    "%.1f ms\n", n, t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4);
	r = 0;
out:
	if (r != 0)
		fprintf(stderr, "%s\n", err);
	free(nets);
	free(eps);
	free(ports);
	return r;
}

int
main(int argc, char **argv)
{
	const struct golden_case *c = NULL;
	struct fw_model empty = { 0 };
	struct fw *f;
	char err[512] = "";
	bool host = false, nft = false;
	int r;

	if (argc > 1 && strcmp(argv[1], "-host") == 0) {
		host = true;
		argv++;
		argc--;
	} else if (argc > 1 && strcmp(argv[1], "-hostnft") == 0) {
		host = nft = true;
		argv++;
		argc--;
	} else if (argc > 1 && strcmp(argv[1], "-nft") == 0) {
		nft = true;
		argv++;
		argc--;
	}
	if (argc < 2) {
		fprintf(stderr, "usage: iptc_itest [-host|-nft|-hostnft] apply CASE | "
		    "clear | show CASE | seq CASE... | forward-drop 4|6 | "
		    "scale N\n");
		return 2;
	}
	if (strcmp(argv[1], "cases") == 0) {
		for (const struct golden_case *gc = golden_cases;
		    gc->name != NULL; gc++)
			printf("%s\n", gc->name);
		return 0;
	}
	if (argc > 2 && strcmp(argv[1], "forward-drop") != 0 &&
	    strcmp(argv[1], "scale") != 0 && strcmp(argv[1], "seq") != 0 &&
	    strcmp(argv[1], "nwire-dump") != 0 &&
	    (c = golden_find(argv[2])) == NULL) {
		fprintf(stderr, "no golden case '%s'\n", argv[2]);
		return 2;
	}
	if (strcmp(argv[1], "nwire-dump") == 0 && argc > 2) {
		FILE *fp = fopen(argv[2], "r");
		char *script = calloc(1, 1 << 20), *out;
		size_t n = fp != NULL && script != NULL ? fread(script, 1,
		    (1 << 20) - 1, fp) : 0;

		if (fp != NULL)
			fclose(fp);
		if (n == 0 || fw_nwire_dump(script, &out) < 0) {
			fprintf(stderr, "cannot compile %s\n", argv[2]);
			free(script);
			return 1;
		}
		fputs(out, stdout);
		free(out);
		free(script);
		return 0;
	}
	if (strcmp(argv[1], "nwire-script") == 0 && c != NULL && nft) {
		struct fw_nplan np;

		if (fw_nft_compute(&c->model, false, false, &np, err,
		    sizeof(err)) < 0) {
			fprintf(stderr, "%s\n", err);
			return 1;
		}
		for (size_t i = 0; i < np.nchains; i++) {
			const struct fw_nchain *ch = &np.chains[i];
			const char *fam = ch->family == AF_INET ? "ip" : "ip6";

			if (ch->net == FW_NFT_BASE)
				continue;
			printf("add chain %s %s %s\n", fam, FW_NFT_TABLE,
			    ch->name);
			for (size_t j = ch->first; j < ch->first + ch->n; j++)
				printf("add rule %s %s %s %s\n", fam,
				    FW_NFT_TABLE, ch->name, np.rules[j].text);
		}
		for (size_t i = 0; i < np.nelems; i++) {
			const struct fw_nelem *el = &np.elems[i];
			const char *q = "";

			if (el->net == FW_NFT_BASE)
				continue;
			for (size_t k = 0; k < fw_nft_nmaps; k++)
				if (strcmp(fw_nft_maps[k].name, el->map) == 0 &&
				    fw_nft_map_quoted(&fw_nft_maps[k]))
					q = "\"";
			printf("add element %s %s %s { %s%s%s : jump %s }\n",
			    el->family == AF_INET ? "ip" : "ip6", FW_NFT_TABLE,
			    el->map, q, el->key, q, el->chain);
		}
		fw_nft_plan_done(&np);
		return 0;
	}
	if (strcmp(argv[1], "show") == 0 && c != NULL && nft) {
		struct fw_nplan np;
		char *text;

		if (fw_nft_compute(&c->model, false, false, &np, err,
		    sizeof(err)) < 0) {
			fprintf(stderr, "%s\n", err);
			return 1;
		}
		for (int fi = 0; fi < 2; fi++) {
			if (!np.family[fi])
				continue;
			if (fw_nft_format(&np, fi ? AF_INET6 : AF_INET,
			    &text) < 0)
				return 1;
			fputs(text, stdout);
			free(text);
		}
		fw_nft_plan_done(&np);
		return 0;
	}
	if (strcmp(argv[1], "show") == 0 && c != NULL) {
		struct fw_ruleset rs;
		char *text;

		if (fw_rules_compute(&c->model, &rs, err, sizeof(err)) < 0 ||
		    fw_ruleset_format(&rs, &text) < 0) {
			fprintf(stderr, "%s\n", err);
			return 1;
		}
		fputs(text, stdout);
		free(text);
		fw_ruleset_done(&rs);
		return 0;
	}
	f = host ? fw_host_new(&(struct fw_host_params){
	    .lock_path = getenv("XTABLES_LOCK"), .wslinfo = getenv("WSLINFO"),
	    .chains_path = getenv("FW_CHAINS"),
	    .backend = nft ? FW_BACKEND_NFTABLES : FW_BACKEND_IPTABLES }, err,
	    sizeof(err)) : nft ? fw_nft_new(err, sizeof(err)) :
	    fw_iptc_new(getenv("XTABLES_LOCK"), getenv("FW_CHAINS"), err,
	    sizeof(err));
	if (f == NULL) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	if (strcmp(argv[1], "apply") == 0 && c != NULL)
		r = f->ops->sync(f, &c->model, err, sizeof(err));
	else if (strcmp(argv[1], "seq") == 0) {
		/* One process, one backend: each case in turn, then the
		 * table as nft lists it (the caller compares). */
		r = 0;
		for (int i = 2; i < argc && r == 0; i++) {
			const struct golden_case *sc = golden_find(argv[i]);

			if (sc == NULL) {
				fprintf(stderr, "no golden case '%s'\n", argv[i]);
				r = -1;
			} else
				r = f->ops->sync(f, &sc->model, err, sizeof(err));
		}
		if (nft && !host) {
			unsigned long b, fb;

			fw_nft_wire_counts(f, &b, &fb);
			fprintf(stderr, "wire: %lu batches, %lu through "
			    "libnftables\n", b, fb);
		}
	} else if (strcmp(argv[1], "clear") == 0)
		r = f->ops->sync(f, &empty, err, sizeof(err));
	else if (strcmp(argv[1], "scale") == 0 && argc > 2)
		r = scale(f, (int)strtol(argv[2], NULL, 10)) == 0 ? 0 : -1;
	else if (strcmp(argv[1], "forward-drop") == 0 && argc > 2)
		r = f->ops->forward_drop(f, strcmp(argv[2], "6") == 0 ?
		    AF_INET6 : AF_INET, err, sizeof(err));
	else {
		fprintf(stderr, "bad command\n");
		r = -1;
	}
	if (r < 0)
		fprintf(stderr, "error %d: %s\n", r, err);
	fw_free(f);
	return r < 0 ? 1 : 0;
}
