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

/*
 * The transactions this process made in one namespace, as steps of the
 * ruleset's generation (from -> to, to == from + 1: nobody else wrote in
 * between).  Every nft user remembers the generation its memory of the
 * kernel is good for; another user's step does not touch what it
 * remembers (each writes only its own objects), so it follows the steps
 * instead of reading everything again after each of them.
 */
#define FW_NFTLOG_N	8
struct fw_nftlog {
	uint32_t	from[FW_NFTLOG_N], to[FW_NFTLOG_N];
	unsigned int	next;		/* ring position */
	unsigned int	n;
};

struct fw_nftio {
	/* Opens its netlink socket when created, so it stays in the
	 * network namespace fw_nftio_open ran in. */
	struct nft_ctx	*ctx;
	int		gen_fd;		/* NETLINK_NETFILTER, -1 if none */
	struct fw_nftlog *log;		/* shared, borrowed; NULL: none */
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
/* A write of this process took the generation from before to after:
 * recorded when after == before + 1 (then true), else nothing (false:
 * someone else wrote too, and what the writer remembers may be stale). */
bool	fw_nftio_wrote(struct fw_nftio *io, uint32_t before, uint32_t after);
/* Moves *gen along the recorded steps of this process. */
void	fw_nftio_follow(const struct fw_nftio *io, uint32_t *gen);
/* Whether family's table called name exists (a dump of the tables'
 * names over our own socket: libnftables would read the whole ruleset
 * for `list tables`).  0 with *ret set, or -errno. */
int	fw_nftio_table_exists(struct fw_nftio *io, int family,
	    const char *name, bool *ret);
/* The ruleset's generation ID (NFT_MSG_GETGEN): it changes with every
 * transaction, whoever makes it.  0 or -errno. */
int	fw_nftio_gen(struct fw_nftio *io, uint32_t *ret);

#endif
