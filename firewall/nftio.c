/*
 * One libnftables context plus a netlink socket of our own for the
 * generation ID (libnftables has no call for it).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/netfilter.h>

#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <nftables/libnftables.h>

#include "firewall/common.h"
#include "firewall/nftio.h"

int
fw_nftio_open(struct fw_nftio *io, char *err, size_t errlen)
{
	int r;

	io->ctx = NULL;
	io->log = NULL;
	/* libnftables opens its NETLINK_NETFILTER socket in nft_ctx_new and
	 * calls exit() when that fails; fail here instead, with a reason.
	 * The socket stays, for the generation ID. */
	if ((io->gen_fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC,
	    NETLINK_NETFILTER)) < 0) {
		r = -errno;
		fw_seterr(err, errlen, "Failed to set up nftables: cannot "
		    "open a netfilter netlink socket: %s", strerror(errno));
		return r;
	}
	if ((io->ctx = nft_ctx_new(NFT_CTX_DEFAULT)) == NULL) {
		fw_seterr(err, errlen, "Failed to set up nftables: "
		    "libnftables could not create a context");
		r = -ENOMEM;
		goto fail;
	}
	if (nft_ctx_buffer_output(io->ctx) != 0 ||
	    nft_ctx_buffer_error(io->ctx) != 0) {
		fw_seterr(err, errlen, "Failed to set up nftables: "
		    "libnftables could not buffer its output");
		r = -ENOMEM;
		goto fail;
	}
	return 0;
fail:
	fw_nftio_close(io);
	return r;
}

void
fw_nftio_close(struct fw_nftio *io)
{
	if (io->ctx != NULL)
		nft_ctx_free(io->ctx);
	io->ctx = NULL;
	if (io->gen_fd >= 0)
		(void) close(io->gen_fd);
	io->gen_fd = -1;
}

static int
run(struct fw_nftio *io, const char *cmd, unsigned int flags,
    const char **ret_out, const char *what, char *err, size_t errlen)
{
	const char *out, *emsg;
	char reason[512];
	int rc;

	nft_ctx_output_set_flags(io->ctx, flags);
	rc = nft_run_cmd_from_buffer(io->ctx, cmd);
	/* Fetching a buffer also empties it for the next run. */
	out = nft_ctx_get_output_buffer(io->ctx);
	emsg = nft_ctx_get_error_buffer(io->ctx);
	if (rc != 0) {
		fw_nft_oneline(emsg != NULL ? emsg : "", reason, sizeof(reason));
		fw_seterr(err, errlen, "Failed to %s: %s", what, reason);
		return -fw_nft_errno(reason);
	}
	if (ret_out != NULL)
		*ret_out = out != NULL ? out : "";
	return 0;
}

int
fw_nftio_run(struct fw_nftio *io, const char *cmd, bool json,
    const char **ret_out, const char *what, char *err, size_t errlen)
{
	return run(io, cmd, json ? NFT_CTX_OUTPUT_JSON | NFT_CTX_OUTPUT_HANDLE :
	    0, ret_out, what, err, errlen);
}

int
fw_nftio_echo(struct fw_nftio *io, const char *cmd, const char **ret_out,
    const char *what, char *err, size_t errlen)
{
	return run(io, cmd, NFT_CTX_OUTPUT_JSON | NFT_CTX_OUTPUT_HANDLE |
	    NFT_CTX_OUTPUT_ECHO, ret_out, what, err, errlen);
}

int
fw_nftio_gen(struct fw_nftio *io, uint32_t *ret)
{
	struct {
		struct nlmsghdr	nh;
		struct nfgenmsg	nfg;
	} req = {
		.nh = { .nlmsg_len = sizeof(req),
		    .nlmsg_type = (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETGEN,
		    .nlmsg_flags = NLM_F_REQUEST, .nlmsg_seq = 1 },
		.nfg = { .nfgen_family = AF_UNSPEC, .version = NFNETLINK_V0 },
	};
	union {
		struct nlmsghdr	nh;
		char		buf[512];
	} rsp;
	size_t off;
	ssize_t len;

	if (io->gen_fd < 0)
		return -EBADF;
	if (send(io->gen_fd, &req, sizeof(req), 0) < 0)
		return -errno;
	len = recv(io->gen_fd, &rsp, sizeof(rsp), 0);
	if (len < (ssize_t)(NLMSG_HDRLEN + sizeof(struct nfgenmsg)) ||
	    !NLMSG_OK(&rsp.nh, (unsigned int)len) ||
	    rsp.nh.nlmsg_type != ((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWGEN))
		return -EBADMSG;
	off = NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(struct nfgenmsg));
	while (off + sizeof(struct nlattr) <= rsp.nh.nlmsg_len) {
		const struct nlattr *a = (const void *)(rsp.buf + off);

		if (a->nla_len < sizeof(*a) || off + a->nla_len > rsp.nh.nlmsg_len)
			break;
		if ((a->nla_type & NLA_TYPE_MASK) == NFTA_GEN_ID &&
		    a->nla_len >= NLA_HDRLEN + sizeof(uint32_t)) {
			uint32_t be;

			/* Big-endian on the wire: steps are counted. */
			memcpy(&be, (const char *)a + NLA_HDRLEN, sizeof(be));
			*ret = ntohl(be);
			return 0;
		}
		off += NLA_ALIGN(a->nla_len);
	}
	return -EBADMSG;
}

bool
fw_nftio_wrote(struct fw_nftio *io, uint32_t before, uint32_t after)
{
	struct fw_nftlog *l = io->log;

	if (after != before + 1)
		return false;
	if (l != NULL) {
		l->from[l->next] = before;
		l->to[l->next] = after;
		l->next = (l->next + 1) % FW_NFTLOG_N;
		if (l->n < FW_NFTLOG_N)
			l->n++;
	}
	return true;
}

void
fw_nftio_follow(const struct fw_nftio *io, uint32_t *gen)
{
	const struct fw_nftlog *l = io->log;
	bool moved = true;

	/* At most one step per entry: the ring cannot loop. */
	for (unsigned int k = 0; l != NULL && moved && k < l->n; k++) {
		moved = false;
		for (unsigned int i = 0; i < l->n; i++)
			if (l->from[i] == *gen) {
				*gen = l->to[i];
				moved = true;
				break;
			}
	}
}

int
fw_nftio_table_exists(struct fw_nftio *io, int family, const char *name,
    bool *ret)
{
	struct {
		struct nlmsghdr	nh;
		struct nfgenmsg	nfg;
	} req = {
		.nh = { .nlmsg_len = sizeof(req),
		    .nlmsg_type = (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETTABLE,
		    .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP, .nlmsg_seq = 2 },
		.nfg = { .nfgen_family = (uint8_t)(family == AF_INET ?
		    NFPROTO_IPV4 : NFPROTO_IPV6), .version = NFNETLINK_V0 },
	};
	/* A table's message is small; a dump comes in several reads. */
	static _Thread_local char buf[16384];
	bool found = false;

	if (io->gen_fd < 0)
		return -EBADF;
	if (family != AF_INET && family != AF_INET6)
		return -EINVAL;
	if (send(io->gen_fd, &req, sizeof(req), 0) < 0)
		return -errno;
	for (;;) {
		ssize_t len = recv(io->gen_fd, buf, sizeof(buf), 0);
		struct nlmsghdr *nh;

		if (len < 0)
			return -errno;
		for (nh = (struct nlmsghdr *)(void *)buf;
		    NLMSG_OK(nh, (unsigned int)len);
		    nh = NLMSG_NEXT(nh, len)) {
			size_t off;

			if (nh->nlmsg_seq != req.nh.nlmsg_seq)
				continue;
			if (nh->nlmsg_type == NLMSG_DONE) {
				*ret = found;
				return 0;
			}
			if (nh->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(nh);

				return e->error != 0 ? e->error : -EBADMSG;
			}
			off = NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(struct nfgenmsg));
			while (off + sizeof(struct nlattr) <= nh->nlmsg_len) {
				const struct nlattr *a = (const void *)
				    ((const char *)nh + off);
				size_t alen;

				if (a->nla_len < sizeof(*a) ||
				    off + a->nla_len > nh->nlmsg_len)
					break;
				alen = a->nla_len - NLA_HDRLEN;
				if ((a->nla_type & NLA_TYPE_MASK) ==
				    NFTA_TABLE_NAME && alen > 0 &&
				    strnlen((const char *)a + NLA_HDRLEN, alen) ==
				    strlen(name) && memcmp((const char *)a +
				    NLA_HDRLEN, name, strlen(name)) == 0)
					found = true;
				off += NLA_ALIGN(a->nla_len);
			}
		}
	}
}
