/*
 * Sending a sandbox's queries for Docker's embedded resolver (127.0.0.11
 * port 53, what dockerd writes into a container's resolv.conf) to
 * cbridge's responder in that sandbox instead, with an nftables table of
 * cbridge's own in the sandbox's namespace.  dockerd's resolver and its
 * NAT rules stay as they are, behind ours; deleting the table gives the
 * queries back to them.  Why it is done this way: firewall/README.md,
 * "Redirecting 127.0.0.11".
 *
 * dnsiplan.c is pure (the nft scripts, the check of a listing, the
 * reading of sock_diag answers), dnsintercept.c does the I/O.
 */
#ifndef CBRIDGE_FIREWALL_DNSINTERCEPT_H
#define CBRIDGE_FIREWALL_DNSINTERCEPT_H

#include <stddef.h>
#include <netinet/in.h>

/* dockerd's resolver address and the port it is asked on. */
#define DNSI_DOCKER_ADDR	"127.0.0.11"
#define DNSI_DNS_PORT		53
/* The table (family ip) and its one chain.  Its priority runs before
 * dockerd's DNAT (-100); NAT chains at -200 or below are refused. */
#define DNSI_TABLE		"cbridge-dns"
#define DNSI_CHAIN		"dns-redirect"
#define DNSI_PRIORITY		(-150)
/* Room for either script. */
#define DNSI_SCRIPT_MAX		640

enum dnsi_state {
	DNSI_ABSENT,		/* no table of ours */
	DNSI_OK,		/* exactly the plan */
	DNSI_DRIFTED,		/* our table, not as planned */
};

/*
 * firewall/dnsiplan.c, pure.
 */
/* The libnftables script that makes the table exactly the plan for to,
 * in one transaction, whatever it held before and also when it does not
 * exist (add, delete, add, then the chain and its two rules).  0;
 * -EINVAL for a target that cannot be a responder (0.0.0.0, broadcast,
 * multicast, 127.0.0.11 itself); -ENOBUFS when len is too small. */
int	dnsi_plan_apply(const struct in_addr *to, char *buf, size_t len);
/* The script that deletes the table; it also succeeds when the table is
 * not there.  0 or -ENOBUFS. */
int	dnsi_plan_remove(char *buf, size_t len);
/* Compares the table in json (nft's JSON listing: `list table ip
 * cbridge-dns`, or anything larger, e.g. `list ruleset`; objects of
 * other tables are not looked at) with the plan for to: DNSI_ABSENT
 * when nothing of our table is there, DNSI_OK when it holds exactly the
 * chain and the two rules of the plan (counter values aside) and nothing
 * else, else DNSI_DRIFTED.  0, or -EBADMSG when json is not nft's JSON
 * document. */
int	dnsi_plan_check(const char *json, const struct in_addr *to,
	    enum dnsi_state *ret);

/* Docker's resolver's sockets, as a sock_diag dump of one protocol finds
 * them: for UDP, unconnected sockets bound to 127.0.0.11; for TCP,
 * listeners on 127.0.0.11.  n counts them; addr is the first one's. */
struct dnsi_found {
	unsigned int		n;
	struct sockaddr_in	addr;
};
/* Reads one buffer of NETLINK_SOCK_DIAG replies (inet_diag_msg) to a
 * dump of protocol (IPPROTO_UDP or IPPROTO_TCP) into *f.  1 when the
 * buffer holds the dump's end (NLMSG_DONE), 0 when more is to come,
 * -errno from an NLMSG_ERROR, -EBADMSG for a malformed message. */
int	dnsi_diag_scan(const void *buf, size_t len, int protocol,
	    struct dnsi_found *f);

/*
 * firewall/dnsintercept.c: blocking I/O, for a worker thread.  Each call
 * takes an open descriptor of the sandbox's network namespace, moves the
 * calling thread into it (lib/netns.h), does its work with sockets made
 * there and comes back before it returns.  libnftables: one context per
 * call, made after entering the namespace (its netlink socket belongs to
 * the namespace it is made in) and freed before coming back; call from
 * one thread at a time, like the rest of the firewall.  All return 0 or
 * -errno with a message a user can act on in err (may be NULL).
 */
/* Puts the redirect in place (idempotent: replaces the table), then
 * deletes the UDP conntrack entries to 127.0.0.11:53 in the namespace, so
 * that a client reusing its source port is not kept on the old path. */
int	dnsi_apply(int nsfd, const struct in_addr *to, char *err,
	    size_t errlen);
/* Deletes cbridge's table (0 also when it was not there), then the same
 * conntrack entries. */
int	dnsi_remove(int nsfd, char *err, size_t errlen);
/* *ret: DNSI_ABSENT, DNSI_OK (exactly the plan for to), DNSI_DRIFTED. */
int	dnsi_check(int nsfd, const struct in_addr *to, enum dnsi_state *ret,
	    char *err, size_t errlen);
/* Docker's embedded resolver in the namespace: the UDP socket bound to
 * 127.0.0.11 and the TCP socket listening there (found with sock_diag,
 * whichever firewall tool dockerd used).  -ENOENT when either is missing
 * (not started yet, or no dockerd resolver in this sandbox); -ENOTUNIQ
 * when there is more than one of either.  udp and tcp get address and
 * port only on success. */
int	dnsi_docker_resolver(int nsfd, struct sockaddr_in *udp,
	    struct sockaddr_in *tcp, char *err, size_t errlen);

#endif
