/*
 * Internal to firewall/: one libnftables context and the ruleset's
 * generation ID, shared by the users of nft in the host's namespace (the
 * docker-accept shim and the nftables backend).
 */
#ifndef CBRIDGE_FIREWALL_NFTIO_H
#define CBRIDGE_FIREWALL_NFTIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct nft_ctx;

struct fw_nftio {
	/* Opens its netlink socket when created, so it stays in the
	 * network namespace fw_nftio_open ran in. */
	struct nft_ctx	*ctx;
	int		gen_fd;		/* NETLINK_NETFILTER, -1 if none */
};

/* 0, or -errno with "Failed to set up nftables: ..." in err; on failure
 * io holds nothing to close. */
int	fw_nftio_open(struct fw_nftio *io, char *err, size_t errlen);
void	fw_nftio_close(struct fw_nftio *io);
/* Runs cmd (one transaction however many lines); with json, *ret_out is
 * nft's JSON output with handles, valid until the next run.  On failure
 * err says "Failed to <what>: <nft's message on one line>" and the
 * errno nft printed is returned negated. */
int	fw_nftio_run(struct fw_nftio *io, const char *cmd, bool json,
	    const char **ret_out, const char *what, char *err, size_t errlen);
/* Runs cmd as fw_nftio_run does, and *ret_out is nft's echo of it as
 * JSON: every object it added, with its handle. */
int	fw_nftio_echo(struct fw_nftio *io, const char *cmd,
	    const char **ret_out, const char *what, char *err, size_t errlen);
/* The ruleset's generation ID (NFT_MSG_GETGEN): it changes with every
 * transaction, whoever makes it.  0 or -errno. */
int	fw_nftio_gen(struct fw_nftio *io, uint32_t *ret);

#endif
