/*
 * Drives the libiptc backend (or the whole host backend) on one golden
 * model in the caller's network namespace; tests/integration/iptables.sh
 * runs it in throwaway namespaces and compares iptables-legacy-save.
 *
 *   iptc_itest [-host] apply CASE | clear | show CASE | forward-drop 4|6
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "firewall/firewall.h"
#include "tests/golden/cases.h"

int
main(int argc, char **argv)
{
	const struct golden_case *c = NULL;
	struct fw_model empty = { 0 };
	struct fw *f;
	char err[512] = "";
	bool host = false;
	int r;

	if (argc > 1 && strcmp(argv[1], "-host") == 0) {
		host = true;
		argv++;
		argc--;
	}
	if (argc < 2) {
		fprintf(stderr, "usage: iptc_itest [-host] apply CASE | clear | "
		    "show CASE | forward-drop 4|6\n");
		return 2;
	}
	if (argc > 2 && strcmp(argv[1], "forward-drop") != 0 &&
	    (c = golden_find(argv[2])) == NULL) {
		fprintf(stderr, "no golden case '%s'\n", argv[2]);
		return 2;
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
	f = host ? fw_host_new(getenv("XTABLES_LOCK"), getenv("WSLINFO"), err,
	    sizeof(err)) : fw_iptc_new(getenv("XTABLES_LOCK"), err, sizeof(err));
	if (f == NULL) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	if (strcmp(argv[1], "apply") == 0 && c != NULL)
		r = f->ops->sync(f, &c->model, err, sizeof(err));
	else if (strcmp(argv[1], "clear") == 0)
		r = f->ops->sync(f, &empty, err, sizeof(err));
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
