/*
 * DNS over TCP framing (RFC 1035 §4.2.2, RFC 7766 §8): every message is
 * preceded by its length, two bytes in network order.  A reassembler of
 * one message at a time from a stream read piecewise, pure: the caller
 * asks where the next bytes go and how many at most, reads them itself
 * and says how many came.  It never asks for bytes past the current
 * message, so a read never takes the start of the next one and nothing is
 * copied twice.  The body is allocated at its exact length once the
 * prefix is in (at most 65535 bytes: the prefix's limit).
 *
 * Used by the responder's TCP connections (dns/server.c).  A message of
 * length 0 is reported like any other; what to do with it is the
 * caller's.  Not thread-safe; one owner.
 */
#ifndef CBRIDGE_DNS_FRAME_H
#define CBRIDGE_DNS_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Fields are the reader's own; use the functions below. */
struct dns_frame {
	uint8_t		hdr[2];		/* the length prefix */
	size_t		got;		/* prefix + body bytes so far */
	size_t		need;		/* body length, once the prefix is in */
	uint8_t		*buf;		/* the body (need bytes), owned */
};

/* dns_frame_got() results. */
#define DNS_FRAME_MORE	0	/* the message is not whole yet */
#define DNS_FRAME_MSG	1	/* a whole message: dns_frame_msg() */

/* Ready for the first byte of a message; owns nothing yet. */
void	dns_frame_init(struct dns_frame *f);

/* Where the next bytes go (*ret_dst) and how many at most: 1 or 2 while
 * the prefix is incomplete, else what the body lacks.  Never 0, except
 * after DNS_FRAME_MSG until dns_frame_reset(). */
size_t	dns_frame_want(struct dns_frame *f, uint8_t **ret_dst);

/* n bytes (1..want) were written where dns_frame_want() said.
 * DNS_FRAME_MORE, DNS_FRAME_MSG, -ENOMEM (the body could not be
 * allocated; f is as after dns_frame_reset()) or -EINVAL (n out of
 * range; nothing changed). */
int	dns_frame_got(struct dns_frame *f, size_t n);

/* After DNS_FRAME_MSG: the body and its length (NULL and 0 for an empty
 * message), borrowed until dns_frame_reset().  NULL and 0 otherwise. */
const uint8_t *dns_frame_msg(const struct dns_frame *f, size_t *ret_len);

/* Has any byte of a message arrived (prefix included)?  True from the
 * first byte until dns_frame_reset(). */
bool	dns_frame_started(const struct dns_frame *f);

/* Frees the body and starts over: after each message, to drop a partial
 * one, and before f goes away. */
void	dns_frame_reset(struct dns_frame *f);

#endif
