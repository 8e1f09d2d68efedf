/*
 * The I/O half of the 127.0.0.11 redirect (firewall/dnsintercept.h):
 * libnftables for cbridge's table, ctnetlink (firewall/conntrack.c) for
 * the flows the old path still holds, sock_diag for dockerd's resolver.
 * Everything happens inside the sandbox's network namespace, entered on
 * the calling thread and left before returning; every netlink socket,
 * libnftables' included, is made after entering, so that it belongs to
 * the sandbox.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/tcp.h>
#include <nftables/libnftables.h>

#include "firewall/common.h"
#include "firewall/dnsintercept.h"
#include "firewall/hostops.h"
#include "lib/netns.h"

/* Big enough for one read of a sock_diag dump (the kernel fills what
 * fits, at least one message, and sends the rest in the next read). */
#define DIAG_BUF	32768

/*
 * libnftables
 */

/* A context in the namespace the thread is in now, with its output and
 * errors buffered, in *ret; 0 or -errno with a message. */
static int
ctx_open(struct nft_ctx **ret, const char *what, char *err, size_t errlen)
{
	struct nft_ctx *ctx;
	int fd;

	/* nft_ctx_new() calls exit() when it cannot open its netlink
	 * socket: find out first, with a reason. */
	if ((fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC,
	    NETLINK_NETFILTER)) < 0) {
		int e = errno;

		fw_seterr(err, errlen, "Failed to %s: cannot open a netfilter "
		    "netlink socket in the sandbox: %s%s", what, strerror(e),
		    e == EPERM || e == EACCES ? " (cbridge needs "
		    "CAP_NET_ADMIN)" : "");
		return -e;
	}
	(void) close(fd);
	/* libnftables waits for the kernel's answer with select() on its
	 * socket, which gets the number this one had: at FD_SETSIZE or
	 * above, glibc would abort the daemon (lib/fd.h). */
	if (fd >= FD_SETSIZE) {
		fw_seterr(err, errlen, "Failed to %s: no descriptor below %d is "
		    "free, and libnftables needs one", what, FD_SETSIZE);
		return -EMFILE;
	}
	if ((ctx = nft_ctx_new(NFT_CTX_DEFAULT)) == NULL) {
		fw_seterr(err, errlen, "Failed to %s: libnftables could not "
		    "create a context", what);
		return -ENOMEM;
	}
	if (nft_ctx_buffer_output(ctx) != 0 ||
	    nft_ctx_buffer_error(ctx) != 0) {
		fw_seterr(err, errlen, "Failed to %s: libnftables could not "
		    "buffer its output", what);
		nft_ctx_free(ctx);
		return -ENOMEM;
	}
	*ret = ctx;
	return 0;
}

/* Runs cmd; with json, *ret_out is nft's JSON output, valid until the
 * next run or the context's end.  On failure, -errno (from nft's text)
 * and "Failed to <what>: <nft's message>". */
static int
run(struct nft_ctx *ctx, const char *cmd, bool json, const char **ret_out,
    const char *what, char *err, size_t errlen)
{
	const char *out, *emsg;
	char reason[512];

	nft_ctx_output_set_flags(ctx, json ? NFT_CTX_OUTPUT_JSON : 0);
	if (nft_run_cmd_from_buffer(ctx, cmd) != 0) {
		emsg = nft_ctx_get_error_buffer(ctx);
		fw_nft_oneline(emsg != NULL ? emsg : "", reason,
		    sizeof(reason));
		fw_seterr(err, errlen, "Failed to %s: %s", what, reason);
		return -fw_nft_errno(reason);
	}
	out = nft_ctx_get_output_buffer(ctx);
	if (ret_out != NULL)
		*ret_out = out != NULL ? out : "";
	return 0;
}

/* Runs script in the namespace of nsfd, then flushes the UDP conntrack
 * entries to 127.0.0.11:53 there. */
static int
run_in(int nsfd, const char *script, const char *what, char *err,
    size_t errlen)
{
	struct prefix docker = { .family = AF_INET, .plen = 32 };
	struct nft_ctx *ctx;
	int home, r;

	(void) inet_pton(AF_INET, DNSI_DOCKER_ADDR, docker.addr);
	if ((r = netns_enter(nsfd, &home, err, errlen)) < 0)
		return r;
	if ((r = ctx_open(&ctx, what, err, errlen)) < 0)
		goto out;
	r = run(ctx, script, false, NULL, what, err, errlen);
	nft_ctx_free(ctx);
	/* A client that keeps its source port would stay on the path its
	 * first query took (the first NAT binding of a flow is kept) for as
	 * long as it asks at least every 30 s. */
	if (r == 0)
		r = fw_conntrack_flush_udp_to(&docker, DNSI_DNS_PORT, err,
		    errlen);
out:
	netns_leave(home);
	return r;
}

int
dnsi_apply(int nsfd, const struct in_addr *to, char *err, size_t errlen)
{
	char script[DNSI_SCRIPT_MAX], addr[INET_ADDRSTRLEN] = "?";
	int r;

	if (to != NULL)
		(void) inet_ntop(AF_INET, to, addr, sizeof(addr));
	if ((r = dnsi_plan_apply(to, script, sizeof(script))) < 0) {
		fw_seterr(err, errlen, "Failed to redirect %s:%d to %s: %s",
		    DNSI_DOCKER_ADDR, DNSI_DNS_PORT, addr, r == -EINVAL ?
		    "not an address a DNS responder can have" : strerror(-r));
		return r;
	}
	return run_in(nsfd, script, "redirect " DNSI_DOCKER_ADDR " port 53 "
	    "in the sandbox (nft table ip " DNSI_TABLE ")", err, errlen);
}

int
dnsi_remove(int nsfd, char *err, size_t errlen)
{
	char script[DNSI_SCRIPT_MAX];
	int r;

	if ((r = dnsi_plan_remove(script, sizeof(script))) < 0) {
		fw_seterr(err, errlen, "Failed to delete the nft table ip "
		    DNSI_TABLE ": %s", strerror(-r));
		return r;
	}
	return run_in(nsfd, script, "delete the nft table ip " DNSI_TABLE
	    " in the sandbox", err, errlen);
}

int
dnsi_check(int nsfd, const struct in_addr *to, enum dnsi_state *ret,
    char *err, size_t errlen)
{
	static const char what[] = "list the nft table ip " DNSI_TABLE
	    " in the sandbox";
	struct nft_ctx *ctx = NULL;
	const char *out;
	enum dnsi_state st;
	int home, r;

	if (to == NULL || ret == NULL) {
		fw_seterr(err, errlen, "Failed to %s: no address given", what);
		return -EINVAL;
	}
	if ((r = netns_enter(nsfd, &home, err, errlen)) < 0)
		return r;
	if ((r = ctx_open(&ctx, what, err, errlen)) < 0)
		goto out;
	r = run(ctx, "list table ip " DNSI_TABLE, true, &out, what, err,
	    errlen);
	if (r == -ENOENT) {
		/* nft says "No such file or directory" for a missing table. */
		st = DNSI_ABSENT;
		r = 0;
		if (err != NULL && errlen > 0)
			err[0] = '\0';
	} else if (r == 0 && dnsi_plan_check(out, to, &st) < 0) {
		fw_seterr(err, errlen, "Failed to %s: cannot read nft's JSON "
		    "output", what);
		r = -EBADMSG;
	}
	if (r == 0)
		*ret = st;
out:
	if (ctx != NULL)
		nft_ctx_free(ctx);
	netns_leave(home);
	return r;
}

/*
 * sock_diag
 */

/* Dumps the IPv4 sockets of protocol in the current namespace into f. */
static int
diag_dump(int protocol, struct dnsi_found *f)
{
	struct {
		struct nlmsghdr		nh;
		struct inet_diag_req_v2	req;
	} msg = {
		.nh = { .nlmsg_len = sizeof(msg),
		    .nlmsg_type = SOCK_DIAG_BY_FAMILY,
		    .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP, .nlmsg_seq = 1 },
		.req = { .sdiag_family = AF_INET,
		    .sdiag_protocol = (unsigned char)protocol,
		    /* An unbound-peer UDP socket is in state CLOSE. */
		    .idiag_states = protocol == IPPROTO_TCP ?
		    1u << TCP_LISTEN : ~0u },
	};
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	char *buf;
	int fd, r = 0;

	memset(f, 0, sizeof(*f));
	/* malloc's alignment suits struct nlmsghdr. */
	if ((buf = malloc(DIAG_BUF)) == NULL)
		return -ENOMEM;
	if ((fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC,
	    NETLINK_SOCK_DIAG)) < 0) {
		r = -errno;
		free(buf);
		return r;
	}
	if (sendto(fd, &msg, sizeof(msg), 0, (struct sockaddr *)&kernel,
	    sizeof(kernel)) < 0) {
		r = -errno;
		goto out;
	}
	while (r == 0) {
		ssize_t n = recv(fd, buf, DIAG_BUF, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			break;
		}
		if (n == 0) {
			r = -EBADMSG;
			break;
		}
		r = dnsi_diag_scan(buf, (size_t)n, protocol, f);
	}
	if (r == 1)
		r = 0;
out:
	(void) close(fd);
	free(buf);
	return r;
}

int
dnsi_docker_resolver(int nsfd, struct sockaddr_in *udp,
    struct sockaddr_in *tcp, char *err, size_t errlen)
{
	static const int protocols[] = { IPPROTO_UDP, IPPROTO_TCP };
	static const char *const kinds[] = { "UDP socket bound to",
	    "TCP socket listening on" };
	static const char *const many[] = { "UDP sockets bound to",
	    "TCP sockets listening on" };
	struct dnsi_found found[2];
	int home, r = 0;

	if ((r = netns_enter(nsfd, &home, err, errlen)) < 0)
		return r;
	for (size_t i = 0; i < 2 && r == 0; i++)
		if ((r = diag_dump(protocols[i], &found[i])) < 0)
			fw_seterr(err, errlen, "Failed to look for dockerd's "
			    "resolver in the sandbox: cannot list its %s "
			    "sockets (sock_diag): %s%s", i == 0 ? "UDP" : "TCP",
			    strerror(-r), r == -ENOENT || r == -EOPNOTSUPP ?
			    " (the kernel lacks inet_diag: modprobe "
			    "inet_diag udp_diag)" : "");
	netns_leave(home);
	if (r < 0)
		return r;
	for (size_t i = 0; i < 2; i++) {
		if (found[i].n == 0) {
			fw_seterr(err, errlen, "dockerd's resolver is not in "
			    "the sandbox (yet): no %s %s", kinds[i],
			    DNSI_DOCKER_ADDR);
			return -ENOENT;
		}
		if (found[i].n > 1) {
			fw_seterr(err, errlen, "Cannot tell which is dockerd's "
			    "resolver in the sandbox: %u %s %s", found[i].n,
			    many[i], DNSI_DOCKER_ADDR);
			return -ENOTUNIQ;
		}
	}
	*udp = found[0].addr;
	*tcp = found[1].addr;
	return 0;
}
