/*
 * Internal to firewall/: shared by the planner, the docker-accept shim,
 * its JSON reader and the fake, so that the fake refuses exactly what the real
 * backend refuses.
 */
#ifndef CBRIDGE_FIREWALL_COMMON_H
#define CBRIDGE_FIREWALL_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "firewall/firewall.h"

#define FW_CHAIN_DOCKER_USER	"DOCKER-USER"
#define FW_CHAIN_FORWARD	"FORWARD"
#define FW_CHAIN_ISOLATION	"DOCKER-ISOLATION-STAGE-1"
#define FW_TABLE		"filter"
/* Docker 29's nftables backend: its own table per family, whose base
 * chain on the forward hook takes the accepts there. */
#define FW_TABLE_DOCKER_NFT	"docker-bridges"
#define FW_CHAIN_DOCKER_FORWARD	"filter-FORWARD"
/* "cbridge:" and 64 hex digits. */
#define FW_COMMENT_LEN		(sizeof(FW_COMMENT_PREFIX) - 1 + FW_ID_LEN)

/* A growable array of rules; zero-initialised means empty. */
struct fw_rule_vec {
	struct fw_rule	*v;
	size_t		n, cap;
};

/* FNV-1a over s, from h (2166136261 to start): a rule's identity in its
 * comment.  Not cryptographic: it only tells cbridge's rules apart and
 * notices a changed plan. */
uint32_t fw_fnv1a(uint32_t h, const char *s);

/* A growable string that printf appends to; the first failure sticks in
 * e (-ENOMEM, -EINVAL) and later appends do nothing.  Zeroed is empty;
 * s is malloc'ed. */
struct fw_sbuf {
	char	*s;
	size_t	n, cap;
	int	e;
};
void	fw_sbuf_printf(struct fw_sbuf *b, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

/* vsnprintf into err when err is not NULL. */
void	fw_seterr(char *err, size_t errlen, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
/* An interface name that the kernel accepts and that can go between
 * double quotes in an nft command as a plain, exact name: 1 to 15
 * printable ASCII characters, none of '/', ':', quotes, '\\' or '*' (nft
 * reads a trailing '*' as a wildcard). */
bool	fw_valid_ifname(const char *name);
/* 64 lower-case hex digits, as dockerd writes network IDs. */
bool	fw_valid_id(const char *id);
/* Refuses nets[] when any entry has a malformed ID or bridge name, with a
 * message naming it: nothing from nets reaches a command unchecked. */
int	fw_check_nets(const struct fw_net *nets, size_t n, char *err,
	    size_t errlen);
/* Validates in and makes *ret a copy of it whose lists are canonical
 * copies (subnets masked, addresses at full length), owned by *ret:
 * nothing of in reaches a rule unchecked.  Both planners start here
 * (firewall/rules.c); fw_model_done frees the lists. */
int	fw_model_check(const struct fw_model *in, struct fw_model *ret,
	    char *err, size_t errlen);
void	fw_model_done(struct fw_model *m);
/* Refuses a host IP to bind that is not an address of family, with the
 * message both host-port implementations give. */
int	fw_check_host_ip(int family, const struct prefix *host_ip, char *err,
	    size_t errlen);
/* "ip" / "ip6" for AF_INET / AF_INET6, NULL for anything else. */
const char *fw_family_name(int family);
/* 0 for AF_INET, 1 for AF_INET6, -1 for anything else. */
int	fw_family_index(int family);
/* The table of a chain the accepts go to: FW_TABLE_DOCKER_NFT for
 * filter-FORWARD, FW_TABLE for DOCKER-USER and FORWARD, NULL for any
 * other name (the names differ, so the chain alone says which). */
const char *fw_chain_table(const char *chain);

/* libnftables' error output: the errno whose text nft printed in msg
 * (it prints strerror() of the kernel's answer), or EIO; and msg on one
 * line in buf, lines joined with "; ", the caret lines that point into
 * the command left out. */
int	fw_nft_errno(const char *msg);
void	fw_nft_oneline(const char *msg, char *buf, size_t len);

/* Appends a copy of r; -ENOMEM leaves vec as it was. */
int	fw_rule_vec_push(struct fw_rule_vec *vec, const struct fw_rule *r);
void	fw_rule_vec_done(struct fw_rule_vec *vec);


/*
 * Readers of `nft -j -a list ...` output (firewall/parse.c, pure).
 * Both return -EBADMSG when json is not nft's JSON document.
 */
/* Sets has_table, has_docker_user, has_forward and has_isolation in
 * *host4 / *host6 (never clears them) from the table and chain objects of
 * the "filter" tables in json, and has_docker_forward from a chain
 * filter-FORWARD on the forward hook in table docker-bridges: the output
 * of `list tables` or `list chains`. */
int	fw_parse_host(const char *json, struct fw_host *host4,
	    struct fw_host *host6);
/* Appends to vec the cbridge rules of chain <chain> of the family's
 * table for it (fw_chain_table) in json (the output of `list chain`):
 * rules whose comment is exactly "cbridge:" and a network ID.  One of the
 * two shapes cbridge writes (iifname "X" counter accept, or oifname "X"
 * counter accept) gets iif or oif set and the other empty; a rule of ours
 * of any other shape gets both empty, so that the planner replaces it.
 * In Docker's filter-FORWARD a rule of ours that some other rule follows
 * is marked misplaced: cbridge's accepts go last there, after Docker's
 * jumps.  Every other rule is left out. */
int	fw_parse_rules(const char *json, int family, const char *chain,
	    struct fw_rule_vec *vec);
/* Appends to names, once each, the bridges that dockerd's rules in chain
 * <family> filter DOCKER-ISOLATION-STAGE-1 of json start with (iifname
 * "X" or oifname "X" == as the first match; rules with a comment are
 * not dockerd's and are skipped).  -ENOMEM leaves names as it was. */
int	fw_parse_docker_bridges(const char *json, int family,
	    struct fw_ifnames *names);
/* Appends name once (a name that is not a valid interface name is left
 * out); -ENOMEM leaves names as it was. */
int	fw_ifnames_add(struct fw_ifnames *names, const char *name);
void	fw_ifnames_done(struct fw_ifnames *names);
/* The handle of the chain's last rule that is exactly "return" (no
 * comment, no match: dockerd's), else 0; json as for fw_parse_rules. */
unsigned long long fw_parse_final_return(const char *json);

#endif
