/*
 * The DNS responder's configuration and answer cache, both pure: no
 * sockets, no threads, no clock (the caller passes monotonic
 * milliseconds).  The only system call is reading resolv.conf files in
 * dns_upstreams_load().
 *
 *   resolvconf.c  upstream servers from resolv.conf or DNS_UPSTREAMS
 *   cache.c       a bounded LRU cache of upstream replies (RFC 2308 for
 *                 negative answers)
 */
#ifndef CBRIDGE_DNS_CONF_H
#define CBRIDGE_DNS_CONF_H

#include <net/if.h>	/* IF_NAMESIZE */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>	/* struct sockaddr_storage */

/* Docker's maxExtDNS; glibc's MAXNS is the same. */
#define DNS_UPSTREAMS_MAX	3
/* glibc's MAXDNSRCH before 2.26; more is never needed in a container. */
#define DNS_SEARCH_MAX		6
/* A domain name in text, without the trailing dot, plus NUL. */
#define DNS_NAME_TEXT_MAX	254
/* glibc's RES_MAXNDOTS: larger ndots values are clamped to it. */
#define DNS_NDOTS_MAX		15
#define DNS_WARNING_MAX		160
/* Per-try floor for dns_upstreams_try_ms(). */
#define DNS_TRY_MIN_MS		500
/* "[ffff:...:ffff%ifname]:65535" plus NUL, with room to spare. */
#define DNS_UPSTREAM_STRLEN	80

struct dns_upstream {
	/* AF_INET or AF_INET6 with the port set (network order).  For a
	 * link-local IPv6 server with a numeric zone, sin6_scope_id is that
	 * number; with a named zone it is 0 and the caller resolves zone in
	 * the namespace it dials from (if_nametoindex is a system call). */
	struct sockaddr_storage	addr;
	char			zone[IF_NAMESIZE];	/* "" when none */
};

struct dns_upstreams {
	struct dns_upstream	srv[DNS_UPSTREAMS_MAX];	/* in order of use */
	unsigned int		n;		/* servers in srv[] */
	unsigned int		extra;		/* nameservers past the 3rd, ignored */
	unsigned int		ndots;		/* 1 unless set */
	bool			ndots_set;	/* "options ndots:" seen */
	unsigned int		nsearch;
	char			search[DNS_SEARCH_MAX][DNS_NAME_TEXT_MAX];
	unsigned int		warnings;	/* odd lines skipped */
	char			warning[DNS_WARNING_MAX];	/* the first one */
	bool			missing;	/* the file does not exist */
	bool			none;		/* no external nameservers */
	bool			from_systemd;	/* read systemd_path */
};

/* Parses resolv.conf text (len bytes, need not be NUL-terminated).  Never
 * fails on content: odd lines are skipped and counted in ret->warnings,
 * the first one described in ret->warning.  Keeps the first 3 distinct
 * nameservers (port 53), counting the rest in ret->extra; a line with two
 * addresses uses the first and warns.  -EINVAL only for text NULL. */
int	dns_upstreams_parse(const char *text, size_t len,
	    struct dns_upstreams *ret, char *err, size_t errlen);

/* Parses the DNS_UPSTREAMS setting: entries separated by commas or
 * blanks, each "1.2.3.4", "1.2.3.4:5353", "fd00::1", "[fd00::1]:53",
 * "fe80::1%eth0" or "[fe80::1%eth0]:53" (a bare IPv6 address takes no
 * port).  At most 3 distinct entries.  -EINVAL with a message naming the
 * bad entry; *ret is written only on success. */
int	dns_upstreams_from_env(const char *spec, struct dns_upstreams *ret,
	    char *err, size_t errlen);

/* Reads the resolv.conf at path (e.g. /host/etc/resolv.conf).  When it
 * lists only systemd-resolved's stub 127.0.0.53, reads systemd_path
 * (/run/systemd/resolve/resolv.conf; NULL for never) instead and sets
 * from_systemd, unless that file is unreadable or lists no server (then
 * the stub is kept, with a warning).  A missing file or one without
 * servers is not an error: 0, with n == 0 and none set (and missing for
 * the former).  -errno with a message for unreadable or oversized files. */
int	dns_upstreams_load(const char *path, const char *systemd_path,
	    struct dns_upstreams *ret, char *err, size_t errlen);

/* Removes the responder's own address from u, which would make it query
 * itself in a loop: same family and address, and the same port unless
 * self's port is 0.  Sets none when it removed the last one.  Returns the
 * number removed. */
unsigned int dns_upstreams_drop(struct dns_upstreams *u,
	    const struct sockaddr_storage *self);

/* Milliseconds for one try so that trying every server in turn fits in
 * total_ms (within a client's 5 s, so a dead first server still leaves
 * time for the next): total_ms / n, at least DNS_TRY_MIN_MS; total_ms
 * when there is no server. */
unsigned int dns_upstreams_try_ms(const struct dns_upstreams *u,
	    unsigned int total_ms);

/* Same servers in the same order (addresses, ports, zones), same ndots
 * (and whether explicit) and same search list.  Diagnostics (warnings,
 * extra, from_systemd) are not compared. */
/* One server: same family, address, port and zone. */
bool	dns_upstream_equal(const struct dns_upstream *a,
	    const struct dns_upstream *b);
bool	dns_upstreams_equal(const struct dns_upstreams *a,
	    const struct dns_upstreams *b);

/* "1.2.3.4:53" or "[fe80::1%eth0]:53" into buf (DNS_UPSTREAM_STRLEN).
 * Returns buf.  The output parses again with dns_upstreams_from_env(). */
const char *dns_upstream_format(const struct dns_upstream *s, char *buf,
	    size_t len);

/*
 * The cache of upstream replies.  Keyed by (query name without case,
 * qtype, qclass, DO and CD bits): DO because a DO=1 reply carries RRSIGs
 * that a DO=0 client did not ask for and a DO=1 client needs; CD because a
 * CD=1 reply may hold data the upstream's validation would have refused,
 * which must not reach a CD=0 client.  Names are in wire form, as in the
 * question (uncompressed labels and the root label).
 *
 * Stored replies are validated whole when put (names, compression
 * pointers, every RR's bounds, the question against the key), so a hit
 * only copies bytes and rewrites TTLs at offsets found then.  Both the
 * number of entries and their bytes (entry header, name, reply, TTL
 * offsets) are bounded; the least recently used entry goes first.  The
 * hash is keyed (SipHash-1-3) so that query names cannot be chosen to
 * collide.  Not thread-safe; one owner.
 */
struct dns_cache;

#define DNS_CACHE_DO		0x1u	/* EDNS DO bit of the query */
#define DNS_CACHE_CD		0x2u	/* CD bit of the query */

/* Defaults for dns_cache_set_ttl_limits(): 1 day, and 1 hour for negative
 * answers (RFC 2308 §5 suggests 1 to 3 hours at most). */
#define DNS_CACHE_MAX_TTL	86400u
#define DNS_CACHE_MAX_NEG_TTL	3600u

struct dns_cache_stats {
	uint64_t	hits;
	uint64_t	misses;		/* including expired entries */
	uint64_t	inserts;
	uint64_t	uncacheable;	/* valid, not kept: rcode, TC, TTL 0, no SOA */
	uint64_t	rejected;	/* malformed replies refused by put */
	uint64_t	evictions;	/* LRU, for room */
	uint64_t	expired;	/* dropped when found expired */
	size_t		entries;
	size_t		bytes;		/* as counted against max_bytes */
};

/* A cache of at most max_entries entries (capped at 2^24) and max_bytes
 * bytes of entries.  key: 16 random bytes for the hash (NULL: zeros, for
 * tests).  NULL on OOM. */
struct dns_cache *dns_cache_new(size_t max_entries, size_t max_bytes,
	    const unsigned char key[16]);
/* Frees c and every entry; accepts NULL; returns NULL. */
struct dns_cache *dns_cache_free(struct dns_cache *c);
/* Drops every entry (e.g. when the upstreams change). */
void	dns_cache_flush(struct dns_cache *c);
/* Caps, in seconds, on the TTL of positive and negative entries. */
void	dns_cache_set_ttl_limits(struct dns_cache *c, uint32_t max_ttl,
	    uint32_t max_neg_ttl);

/* Stores a copy of an upstream reply for (name, qtype, qclass, flags),
 * replacing any entry for that key.  Kept for min(TTL of every RR but
 * OPT, max_ttl); NXDOMAIN and NODATA for min(SOA TTL, SOA MINIMUM,
 * max_neg_ttl), not at all without an SOA in the authority section.
 * Returns 1 if stored; 0 if valid but not cacheable (rcode other than
 * NOERROR/NXDOMAIN, TC=1, TSIG, TTL 0, no SOA, or larger than the whole
 * cache); -EINVAL for a malformed reply or one whose question is not the
 * key; -ENOMEM. */
int	dns_cache_put(struct dns_cache *c, const uint8_t *name,
	    size_t name_len, uint16_t qtype, uint16_t qclass, unsigned int flags,
	    const uint8_t *reply, size_t len, uint64_t now_ms);

/* On a hit writes the reply to out (outcap bytes) with the given ID, the
 * question name as the client wrote it (name, so 0x20 case survives), AA
 * cleared (cached data is not authoritative) and every TTL but OPT's
 * lowered by the whole seconds elapsed since put, and returns 1 with
 * *ret_len set.  0 on a miss (expired entries are dropped); -ENOBUFS when
 * outcap is too small (the entry stays). */
int	dns_cache_get(struct dns_cache *c, const uint8_t *name,
	    size_t name_len, uint16_t qtype, uint16_t qclass, unsigned int flags,
	    uint64_t now_ms, uint16_t id, uint8_t *out, size_t outcap,
	    size_t *ret_len);

void	dns_cache_stats(const struct dns_cache *c,
	    struct dns_cache_stats *ret);

#endif
