/*
 * The DNS responder's pure core: a sandbox's records (struct dns_zone)
 * and the decision for one query (dns_answer).  No sockets, namespaces,
 * threads or globals; the caller owns the transport.
 *
 * Files: dns/wire.c parses queries and writes replies by hand, dns/zone.c
 * is the records store, dns/answer.c decides.  Functions return 0 (or a
 * non-negative verdict) on success and -errno on failure; the ones that
 * take (err, errlen) write a message a user can act on there.
 *
 * Decisions (Docker's embedded resolver is the model, quirks named):
 *  - Parsing.  The header, the question and the one OPT record are read by
 *    hand; client bytes never reach ldns_wire2pkt, which leaks memory on
 *    queries with several TSIG records (NLnetLabs/ldns#317).
 *    Under 12 bytes, QR=1 or QDCOUNT=0: no reply, as Docker.  Opcode
 *    other than QUERY: NOTIMP, NOTIFY included (we are no secondary; Docker
 *    treats NOTIFY as QUERY, a quirk not copied).  QDCOUNT>1, ANCOUNT>0,
 *    NSCOUNT>0, ARCOUNT>1, an additional record that is not an OPT with
 *    the root owner, any compression pointer or extended label type in the
 *    question (a query's first name has nothing valid to point at, so a
 *    pointer is a loop or garbage), labels over 63, names over 255, counts
 *    beyond the packet, bytes after the last record, a malformed OPT
 *    RDATA, or OPT/TSIG/TKEY as QTYPE: FORMERR with empty sections (ID,
 *    opcode, RD and CD echoed).  NOTIMP and FORMERR carry no OPT.
 *  - EDNS (RFC 6891).  A reply to a query with an OPT carries an OPT:
 *    payload size DNS_EDNS_SIZE (1232), version 0, the DO bit copied
 *    (RFC 3225), no options.  Docker drops it; RFC 6891 wants it echoed,
 *    and clients use it to learn our size.  An OPT with version > 0 gets
 *    BADVERS (extended rcode 16) and nothing else.
 *  - Sizes.  UDP limit: 512 without OPT, else the client's
 *    size clamped to [512, 1232]; TCP: 65535; never more than outcap.
 *    Whole answer RRs are dropped from the end until the reply fits, and
 *    TC is set; the OPT is always kept (RFC 6891 §7).
 *  - Classes.  Local answers only for QCLASS IN or ANY; other classes
 *    (CH TXT version.bind, ...) are forwarded.  Docker answers a CH A query
 *    with IN records; we do not copy that.
 *  - Types.  A/AAAA: every address of the name, owner name as
 *    written (0x20 case kept), TTL from the zone; the name without the
 *    asked family: NOERROR, 0 answers (NXDOMAIN makes musl drop the other
 *    family's answer too).  MX for a local name: NOERROR, 0 answers (mail
 *    falls back to A/AAAA).  PTR: answered from the zone, else forwarded.
 *    AXFR, IXFR, MAILA, MAILB: REFUSED (no zone transfers).  SRV, ANY and
 *    everything else: forwarded (Docker's SRV records exist only in its
 *    tests).  Names not in the zone: forwarded, except the single-label
 *    switch below (dns_zone_set_nodata_single_label).
 *  - Rotation.  When a name has several addresses of a family, the
 *    answer starts at index (client ID mod count) and wraps: deterministic
 *    (testable, no state in a const zone), and as varied as clients' IDs,
 *    which are random.  Duplicate addresses are removed when the zone is
 *    built, so a shared address is returned once.
 *  - Flags.  Local answers and NODATA: QR=1, RA=1, AA=0, AD=0, RD and
 *    CD copied.  Error replies (FORMERR, NOTIMP, REFUSED, SERVFAIL,
 *    BADVERS): RA=0, as Docker's own.
 *  - Name forms (as Docker's).  "name" is looked up on every attached
 *    network in endpoint order and the first network that has it wins
 *    (no merging).  Failing that, for "a.b.c.d": "a.b.c" on a network
 *    named "d", then "a.b" on "c.d", then "a" on "b.c.d" (networks with
 *    that name in endpoint order).  Docker's per-step --link aliases do not
 *    exist here.
 *  - Case.  Names and network names are stored lower-case and matched
 *    without case.  PTR names too: "IN-ADDR.ARPA." and upper-case ip6.arpa
 *    nibbles are answered (Docker's case-sensitive suffix match
 *    forwards them; nothing is gained by leaking such queries).  Reverse
 *    names must be canonical: exactly four decimal labels 0..255 without
 *    leading zeros, or exactly 32 single hex-digit labels; any other form
 *    (partial zones, "01") is forwarded.
 *  - PTR target.  "<first name>.<network>." from the lowest
 *    network index that has the address.  Names are validated when they
 *    are added (labels <= 63 bytes, "name.network" <= 255 bytes on the
 *    wire), so a target Docker would answer SERVFAIL for cannot be
 *    stored: dns_zone_add refuses it with a message instead.
 *  - Names Docker may know first (ask_docker).  Names come from the
 *    Engine API a moment after a container starts; Docker's own resolver,
 *    still running in the sandbox, knows them at once.  A query "looks
 *    local" when all of these hold: QCLASS IN or ANY; QTYPE A or AAAA;
 *    the name has only letters, digits, '-' and '_' in its labels (any
 *    case, no escapes); it is one label ("web"), or ends in
 *    ".<network>" for a network of the zone after at least one label
 *    ("web.n1", "a.b.my.net"); and dns_zone_find() does not know it.
 *    Such a verdict has ask_docker set and is otherwise what it was
 *    without the flag: DNS_FORWARD, or the NODATA reply of the
 *    single-label switch (which would deny a name Docker knows just as
 *    NXDOMAIN would).  A caller without Docker's resolver ignores the
 *    flag.  Not included: PTR (keyed by address, not by a name Docker
 *    learns first), MX and other types (Docker answers them from no
 *    name either), and dotted names without a network suffix
 *    ("db.internal", possible as an alias): any external name has that
 *    form, and each would cost a round trip to Docker first.
 */
#ifndef CBRIDGE_DNS_ANSWER_H
#define CBRIDGE_DNS_ANSWER_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DNS_HEADER_LEN		12
#define DNS_LABEL_MAX		63	/* bytes */
#define DNS_NAME_MAX		255	/* bytes on the wire, root included */
/* Presentation form with every byte escaped as \DDD, dots and NUL. */
#define DNS_NAME_STRLEN		1028
#define DNS_UDP_MIN		512	/* UDP limit without EDNS; the floor */
#define DNS_EDNS_SIZE		1232	/* our UDP maximum (Flag Day 2020) */
#define DNS_TCP_MAX		65535
#define DNS_TTL_DEFAULT		600	/* seconds, as Docker */
#define DNS_TTL_MAX		2147483647u	/* RFC 2181 §8 */

/* Hard limits on what one zone holds. */
#define DNS_ZONE_NETS_MAX	256	/* networks per sandbox */
#define DNS_ZONE_NAMES_MAX	64	/* names per entry */
#define DNS_ZONE_KEYS_MAX	65536	/* distinct (network, name) pairs */

/* RCODEs (4 bits in the header; 16 needs an OPT). */
#define DNS_RCODE_NOERROR	0
#define DNS_RCODE_FORMERR	1
#define DNS_RCODE_SERVFAIL	2
#define DNS_RCODE_NXDOMAIN	3
#define DNS_RCODE_NOTIMP	4
#define DNS_RCODE_REFUSED	5
#define DNS_RCODE_BADVERS	16

#define DNS_TYPE_A		1
#define DNS_TYPE_NS		2
#define DNS_TYPE_CNAME		5
#define DNS_TYPE_SOA		6
#define DNS_TYPE_PTR		12
#define DNS_TYPE_MX		15
#define DNS_TYPE_TXT		16
#define DNS_TYPE_AAAA		28
#define DNS_TYPE_SRV		33
#define DNS_TYPE_OPT		41
#define DNS_TYPE_TKEY		249
#define DNS_TYPE_TSIG		250
#define DNS_TYPE_IXFR		251
#define DNS_TYPE_AXFR		252
#define DNS_TYPE_MAILB		253
#define DNS_TYPE_MAILA		254
#define DNS_TYPE_ANY		255

#define DNS_CLASS_IN		1
#define DNS_CLASS_CH		3
#define DNS_CLASS_ANY		255

#define DNS_OPCODE_QUERY	0
#define DNS_OPCODE_NOTIFY	4

/* What dns_answer() decided. */
enum dns_verdict_kind {
	DNS_DROP,	/* send nothing */
	DNS_REPLY,	/* send out[0.. *outlen) */
	DNS_FORWARD,	/* not ours: the caller forwards (or SERVFAILs) */
	DNS_VERDICT_MAX
};

/*
 * What dns_answer() saw and did, for the forwarder, counters and logs.
 * Filled on every verdict as far as parsing got: has_question says
 * whether the question fields are set, has_header the header fields.
 */
struct dns_verdict {
	bool		has_header;
	bool		has_question;
	uint16_t	id;		/* client's ID */
	uint8_t		opcode;
	bool		rd, cd;		/* client's RD and CD bits */
	uint16_t	qtype, qclass;
	bool		edns;		/* the query had an OPT */
	bool		edns_do;	/* its DO bit */
	uint8_t		edns_version;
	uint16_t	edns_size;	/* its payload size as sent */
	size_t		limit;		/* reply size limit, bytes */
	/* DNS_REPLY only: */
	int		rcode;		/* including 16 (BADVERS) */
	unsigned int	ancount;	/* answer RRs written */
	bool		truncated;	/* TC set: answers were left out */
	bool		local;		/* answered from the zone (or NODATA) */
	/* DNS_FORWARD, or DNS_REPLY with the single-label NODATA: the name
	 * looks local but is not in the zone (see the decisions); a caller
	 * with Docker's resolver asks it before acting on the verdict. */
	bool		ask_docker;
	/* Short static reason for a drop, an error or a forward, for logs. */
	const char	*why;
	/* The question (has_question): the name on the wire as written (no
	 * compression), and in presentation form with a trailing dot, \. \\
	 * and \DDD escapes, as written and lower-cased. */
	size_t		qname_len;
	size_t		question_len;	/* name + type + class, bytes */
	uint8_t		qname_wire[DNS_NAME_MAX];
	char		qname_raw[DNS_NAME_STRLEN];
	char		qname[DNS_NAME_STRLEN];
};

struct dns_zone;

/* An empty zone with TTL DNS_TTL_DEFAULT; NULL when out of memory. */
struct dns_zone	*dns_zone_new(void);
/* Frees z and everything it holds; accepts NULL; returns NULL. */
struct dns_zone	*dns_zone_free(struct dns_zone *z);

/* TTL of every local record, 0..DNS_TTL_MAX seconds.  -EINVAL. */
int	dns_zone_set_ttl(struct dns_zone *z, uint32_t ttl, char *err,
	    size_t errlen);
/* When set (ndots given explicitly), A and AAAA for a single-label
 * name that is not local get NOERROR with 0 answers instead of a forward,
 * so the client moves on to its search list.  Off by default. */
void	dns_zone_set_nodata_single_label(struct dns_zone *z, bool on);

/*
 * Appends a network, in endpoint order: lookups try networks in the
 * order they were added.  Its index (0, 1, ...) is returned for
 * dns_zone_add().  The name is copied and stored lower-case; it must be
 * labels of 1..63 of [A-Za-z0-9_-] joined by dots, at most 253 bytes.
 * -EINVAL (invalid name), -ENOSPC (DNS_ZONE_NETS_MAX), -ENOMEM.
 */
int	dns_zone_add_network(struct dns_zone *z, const char *netname,
	    char *err, size_t errlen);

/*
 * Adds one endpoint's records on network net: names[0..n) (container
 * name, aliases, short ID, hostname: names[0] is the PTR target) with
 * the addresses a4 and/or a6 (either may be NULL, not both).  Names are
 * copied and stored lower-case; each must be valid as for networks and
 * "name.network" must fit in 255 bytes on the wire.  Duplicate names and
 * addresses are merged.  Nothing is added on failure.  -EINVAL (invalid
 * name or address set, unknown net), -ENOSPC (limits), -ENOMEM.
 */
int	dns_zone_add(struct dns_zone *z, size_t net,
	    const char *const *names, size_t n, const struct in_addr *a4,
	    const struct in6_addr *a6, char *err, size_t errlen);

/* Addresses of a name: borrowed from the zone, valid until it changes. */
struct dns_addrs {
	size_t			net;	/* index of the network that matched */
	const struct in_addr	*a4;
	size_t			n4;
	const struct in6_addr	*a6;
	size_t			n6;
};

/* Looks name up as dns_answer() does (any case, one trailing dot
 * allowed, "name.network" forms).  0 with *ret set, -ENOENT. */
int	dns_zone_lookup(const struct dns_zone *z, const char *name,
	    struct dns_addrs *ret);
/* The PTR target of an address ("c1.n1."), borrowed; NULL when none. */
const char *dns_zone_ptr(const struct dns_zone *z, int family,
	    const void *addr);

/*
 * Decides what to do with the query q[0..qlen) received over UDP or TCP
 * (tcp: without the 2-byte length prefix) and, for DNS_REPLY, writes the
 * reply to out (outcap >= DNS_UDP_MIN bytes) and its length to *outlen.
 * *v is always written.  Returns DNS_DROP, DNS_REPLY or DNS_FORWARD, or
 * -EINVAL for a NULL argument or a too small out.
 */
int	dns_answer(const struct dns_zone *z, const uint8_t *q, size_t qlen,
	    bool tcp, uint8_t *out, size_t outcap, size_t *outlen,
	    struct dns_verdict *v);

/*
 * An error reply to q for the caller's own failures (rcode SERVFAIL when
 * no upstream answered, REFUSED when the forward queue is full): header
 * from q (ID, opcode, RD, CD), RA=0, the question echoed and an OPT added
 * when q parses as dns_answer() would forward it, header only otherwise.
 * -EINVAL (qlen < 12, rcode not 0..15, outcap < DNS_UDP_MIN).
 */
int	dns_reply_error(const uint8_t *q, size_t qlen, int rcode,
	    uint8_t *out, size_t outcap, size_t *outlen);

/*
 * Does msg (an upstream reply) answer our question?  1 when its ID is id,
 * QR is set, QDCOUNT is 1 and its question is qname (wire form, compared
 * without case), qtype and qclass; 0 otherwise, including malformed msg
 * (anything else is ignored, so a spoofed reply is not taken).
 */
int	dns_question_match(const uint8_t *msg, size_t len, uint16_t id,
	    const uint8_t *qname, size_t qname_len, uint16_t qtype,
	    uint16_t qclass);

/*
 * What the forwarder (dns/forward.c) does with a message read from the
 * current try's socket, the rules of dns/forward.h in one pure function:
 * DNS_UP_IGNORE when dns_question_match() refuses it (keep waiting);
 * else DNS_UP_RETRY_TCP for TC=1 when the try was over UDP (tcp false);
 * else DNS_UP_NEXT for SERVFAIL or REFUSED; else DNS_UP_TAKE, whatever
 * the rest of the reply holds (it is relayed as it is).
 */
enum dns_up_action {
	DNS_UP_IGNORE,
	DNS_UP_RETRY_TCP,
	DNS_UP_NEXT,
	DNS_UP_TAKE,
};

enum dns_up_action dns_upstream_action(const uint8_t *msg, size_t len,
	    uint16_t id, const uint8_t *qname, size_t qname_len,
	    uint16_t qtype, uint16_t qclass, bool tcp);

/* "drop", "reply", "forward"; "?" for anything else. */
const char *dns_verdict_str(int verdict);

/*
 * Building blocks shared by dns/wire.c, dns/zone.c and dns/answer.c.
 */

/* Outcome of dns_parse_query(). */
enum dns_parse_result {
	DNS_PARSE_OK,		/* header, question and OPT read into *v */
	DNS_PARSE_DROP,		/* no reply */
	DNS_PARSE_NOTIMP,	/* opcode not QUERY */
	DNS_PARSE_FORMERR,	/* malformed: FORMERR with empty sections */
};

/* Reads q into *v (fields above; v->why on failure).  The caller zeroes
 * *v first.  Never reads past q[qlen). */
enum dns_parse_result dns_parse_query(const uint8_t *q, size_t qlen,
	    struct dns_verdict *v);
/* A reply with only a header: v's ID, opcode, RD, CD; QR=1, RA=0.
 * Needs outcap >= DNS_HEADER_LEN; returns the length. */
size_t	dns_write_header_only(const struct dns_verdict *v, int rcode,
	    uint8_t *out);
/* Header + question copied from q (+ OPT when v->edns), no answers:
 * returns the length, 0 when it does not fit in cap. */
size_t	dns_write_empty_reply(const struct dns_verdict *v, const uint8_t *q,
	    int rcode, bool ra, uint8_t *out, size_t cap);
/* Bytes an OPT record takes in our replies. */
#define DNS_OPT_LEN		11
/* Writes our OPT (DNS_OPT_LEN bytes) for extended rcode ercode. */
void	dns_write_opt(const struct dns_verdict *v, int ercode, uint8_t *out);

/* Wire name (len bytes, validated) to presentation form with a trailing
 * dot, lower-cased if lower; buf has DNS_NAME_STRLEN bytes. */
void	dns_name_format(const uint8_t *wire, size_t len, bool lower,
	    char *buf);

/* Zone internals used by dns_answer(): lname is lower-case, without a
 * trailing dot, of [a-z0-9_.-] only (len bytes, not NUL-terminated). */
int	dns_zone_find(const struct dns_zone *z, const char *lname, size_t len,
	    struct dns_addrs *ret);
/* The PTR target in wire form (borrowed) or NULL. */
const uint8_t *dns_zone_find_ptr(const struct dns_zone *z, int family,
	    const uint8_t *addr, size_t *ret_len);
uint32_t dns_zone_ttl(const struct dns_zone *z);
/* Is lname[0..len) (lower-case, no trailing dot) a network of z? */
bool	dns_zone_has_network(const struct dns_zone *z, const char *lname,
	    size_t len);
bool	dns_zone_nodata_single_label(const struct dns_zone *z);

#endif
