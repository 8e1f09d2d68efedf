/*
 * Runs the real firewall backend (firewall/dockeraccept.c) once or twice, for
 * tests/integration/firewall.sh.  Refuses to run in the network namespace
 * of PID 1, so that it never touches the host's ruleset.
 *
 *   fw_itest [-a CMD] [ID:BRIDGE[:FLAGS]]...
 *
 * Syncs a model holding the networks given (none: an empty list), and
 * checks that forward_drop does nothing (dockerd owns the nft policy).
 * FLAGS is made of '4' (IPv4
 * subnet), '6' (IPv6 subnet), 'n' (enable_icc false) and 'i' (internal);
 * the default is "46".  With -a, CMD is run with system() after the first
 * sync and the same backend syncs again: this shows that libnftables'
 * cache inside one context follows changes others make, as in the daemon.
 * Exit status: 0, 1 when a sync failed, 2 on bad usage or when run in the
 * host's namespace.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "firewall/firewall.h"
#include "tests/integration/itest.h"

static int
parse_net(const char *arg, struct fw_net *ret)
{
	const char *c1 = strchr(arg, ':'), *c2, *flags = "46";
	struct fw_net n;
	size_t blen;

	memset(&n, 0, sizeof(n));
	if (c1 == NULL || (size_t)(c1 - arg) != FW_ID_LEN)
		return -EINVAL;
	memcpy(n.id, arg, FW_ID_LEN);
	c2 = strchr(c1 + 1, ':');
	blen = c2 != NULL ? (size_t)(c2 - (c1 + 1)) : strlen(c1 + 1);
	if (blen == 0 || blen >= sizeof(n.bridge))
		return -EINVAL;
	memcpy(n.bridge, c1 + 1, blen);
	if (c2 != NULL)
		flags = c2 + 1;
	n.icc = true;
	for (const char *p = flags; *p != '\0'; p++) {
		switch (*p) {
		case '4':
			n.ipv4 = true;
			break;
		case '6':
			n.ipv6 = true;
			break;
		case 'n':
			n.icc = false;
			break;
		case 'i':
			n.internal = true;
			break;
		default:
			return -EINVAL;
		}
	}
	*ret = n;
	return 0;
}

static int
sync_once(struct fw *f, const struct fw_net *nets, size_t n)
{
	/* The nft half reads only the networks; the rest is there to show
	 * that it does not trip over it. */
	static const struct fw_port port = { .net_id = "5f1c0a7e9b2d44c18e3f"
	    "6a0b7c9d2e4f1a3b5c7d9e0f2a4b6c8d0e1f3a5b7c9d", .family = AF_INET,
	    .proto = IPPROTO_TCP, .host_port = 8080, .cip = { .family = AF_INET,
	    .addr = { 10, 98, 0, 2 }, .plen = 32 }, .cport = 80 };
	struct fw_model m = { .nets = nets, .nnets = n, .ports = &port,
	    .nports = 1 };
	char err[512] = "";
	int r;

	if ((r = f->ops->sync(f, &m, err, sizeof(err))) < 0) {
		fprintf(stderr, "fw_itest: sync: %s (%s)\n", err,
		    strerror(-r));
		return 1;
	}
	return 0;
}

/* dockerd owns its nft FORWARD policy: forward_drop leaves it alone. */
static int
check_forward_drop(struct fw *f)
{
	char err[512] = "";
	int r;

	if ((r = f->ops->forward_drop(f, AF_INET, err, sizeof(err))) != 0) {
		fprintf(stderr, "fw_itest: forward_drop: %d\n", r);
		return 1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	const char *after = NULL;
	struct fw_net *nets = NULL;
	struct fw *f = NULL;
	char err[512] = "";
	int c, rc = 2, nnets;

	while ((c = getopt(argc, argv, "a:")) != -1) {
		switch (c) {
		case 'a':
			after = optarg;
			break;
		default:
			goto usage;
		}
	}
	if (in_host_netns() != 0) {
		fprintf(stderr, "fw_itest: refusing to run outside a "
		    "throwaway network namespace\n");
		return 2;
	}
	nnets = argc - optind;
	if (nnets > 0 && (nets = calloc((size_t)nnets, sizeof(*nets))) ==
	    NULL) {
		fprintf(stderr, "fw_itest: out of memory\n");
		return 1;
	}
	for (int i = 0; i < nnets; i++) {
		if (parse_net(argv[optind + i], &nets[i]) < 0) {
			fprintf(stderr, "fw_itest: bad network '%s'\n",
			    argv[optind + i]);
			goto usage;
		}
	}
	if ((f = fw_dacc_new(err, sizeof(err))) == NULL) {
		fprintf(stderr, "fw_itest: %s\n", err);
		rc = 1;
		goto out;
	}
	if ((rc = check_forward_drop(f)) != 0)
		goto out;
	rc = sync_once(f, nets, (size_t)nnets);
	if (rc == 0 && after != NULL) {
		if (system(after) != 0) {
			fprintf(stderr, "fw_itest: '%s' failed\n", after);
			rc = 1;
			goto out;
		}
		rc = sync_once(f, nets, (size_t)nnets);
	}
	goto out;
usage:
	fprintf(stderr, "usage: fw_itest [-a CMD] [ID:BRIDGE[:46ni]]...\n");
	rc = 2;
out:
	fw_free(f);
	free(nets);
	return rc;
}
