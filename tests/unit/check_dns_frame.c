/*
 * DNS over TCP framing (dns/frame.h): messages reassembled from a stream
 * read in pieces of every size, the reader never asking for bytes of the
 * next message, empty and largest messages, a partial message dropped,
 * and reads of a wrong size refused without a change.
 *
 *   CK_RUN_SUITE=dns_frame build/check_cbridge
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "dns/frame.h"
#include "tests/unit/suites.h"

/* A stream of framed messages under construction. */
struct stream {
	uint8_t	b[3 * 65537];
	size_t	n;
};

static void
add_msg(struct stream *s, const uint8_t *msg, size_t len)
{
	ck_assert_uint_le(len, 65535);
	ck_assert_uint_le(len + 2, sizeof(s->b) - s->n);
	s->b[s->n++] = (uint8_t)(len >> 8);
	s->b[s->n++] = (uint8_t)len;
	if (len > 0)
		memcpy(s->b + s->n, msg, len);
	s->n += len;
}

/*
 * Feeds s through f in reads of at most step bytes each (as recv() with
 * dns_frame_want()'s size), checking every message against want[] in
 * order.  Returns the number of messages.
 */
static size_t
feed(struct dns_frame *f, const struct stream *s, size_t step,
    const uint8_t *const *want, const size_t *want_len, size_t nwant)
{
	size_t off = 0, nmsg = 0;

	while (off < s->n) {
		const uint8_t *msg;
		uint8_t *dst;
		size_t n, len, w = dns_frame_want(f, &dst);
		int r;

		ck_assert_uint_gt(w, 0);
		ck_assert_ptr_nonnull(dst);
		n = w < step ? w : step;
		if (n > s->n - off)
			n = s->n - off;
		memcpy(dst, s->b + off, n);
		off += n;
		r = dns_frame_got(f, n);
		ck_assert_int_ge(r, 0);
		ck_assert(dns_frame_started(f));
		if (r == DNS_FRAME_MORE) {
			ck_assert_ptr_null(dns_frame_msg(f, &len));
			ck_assert_uint_eq(len, 0);
			continue;
		}
		ck_assert_uint_lt(nmsg, nwant);
		msg = dns_frame_msg(f, &len);
		ck_assert_uint_eq(len, want_len[nmsg]);
		if (len == 0)
			ck_assert_ptr_null(msg);
		else
			ck_assert_mem_eq(msg, want[nmsg], len);
		/* Whole: nothing more to read into until reset. */
		ck_assert_uint_eq(dns_frame_want(f, &dst), 0);
		ck_assert_ptr_null(dst);
		ck_assert_int_eq(dns_frame_got(f, 1), -EINVAL);
		nmsg++;
		dns_frame_reset(f);
		ck_assert(!dns_frame_started(f));
	}
	return nmsg;
}

START_TEST(frame_messages)
{
	static struct stream s;
	static const uint8_t a[] = { 0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0,
	    3, 'w', 'w', 'w', 0, 0, 1, 0, 1 };
	static const uint8_t b[] = { 0xab, 0xcd, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0,
	    0, 0, 28, 0, 1 };
	static const uint8_t c[] = { 0x0a };
	const uint8_t *want[] = { a, b, c, NULL, a };
	const size_t want_len[] = { sizeof(a), sizeof(b), sizeof(c), 0,
	    sizeof(a) };
	struct dns_frame f;

	s.n = 0;
	for (size_t i = 0; i < 5; i++)
		add_msg(&s, want[i], want_len[i]);
	/* Every read size from 1 byte to more than the whole stream. */
	for (size_t step = 1; step <= s.n + 1; step++) {
		dns_frame_init(&f);
		ck_assert_uint_eq(feed(&f, &s, step, want, want_len, 5), 5);
		ck_assert(!dns_frame_started(&f));
		dns_frame_reset(&f);
	}
}
END_TEST

/* The prefix is asked for byte by byte after a 1-byte read, then the body
 * exactly, never more. */
START_TEST(frame_want)
{
	struct dns_frame f;
	uint8_t *dst;
	size_t len;

	dns_frame_init(&f);
	ck_assert(!dns_frame_started(&f));
	ck_assert_uint_eq(dns_frame_want(&f, &dst), 2);
	dst[0] = 0;
	ck_assert_int_eq(dns_frame_got(&f, 1), DNS_FRAME_MORE);
	ck_assert(dns_frame_started(&f));
	ck_assert_uint_eq(dns_frame_want(&f, &dst), 1);
	dst[0] = 3;
	ck_assert_int_eq(dns_frame_got(&f, 1), DNS_FRAME_MORE);
	ck_assert_uint_eq(dns_frame_want(&f, &dst), 3);
	memcpy(dst, "ab", 2);
	ck_assert_int_eq(dns_frame_got(&f, 2), DNS_FRAME_MORE);
	ck_assert_uint_eq(dns_frame_want(&f, &dst), 1);
	/* More than wanted, or nothing: refused, nothing changes. */
	ck_assert_int_eq(dns_frame_got(&f, 2), -EINVAL);
	ck_assert_int_eq(dns_frame_got(&f, 0), -EINVAL);
	ck_assert_uint_eq(dns_frame_want(&f, &dst), 1);
	dst[0] = 'c';
	ck_assert_int_eq(dns_frame_got(&f, 1), DNS_FRAME_MSG);
	ck_assert_mem_eq(dns_frame_msg(&f, &len), "abc", 3);
	ck_assert_uint_eq(len, 3);
	dns_frame_reset(&f);
	ck_assert_uint_eq(dns_frame_want(&f, &dst), 2);
}
END_TEST

/* A partial message (prefix only, or part of the body) is dropped by
 * reset, and the next message is read from its first byte. */
START_TEST(frame_partial)
{
	static const uint8_t a[] = { 1, 2, 3, 4, 5 };
	const uint8_t *want[] = { a };
	const size_t want_len[] = { sizeof(a) };
	static struct stream s;
	struct dns_frame f;
	uint8_t *dst;

	for (size_t cut = 1; cut < 2 + sizeof(a); cut++) {
		dns_frame_init(&f);
		s.n = 0;
		add_msg(&s, a, sizeof(a));
		s.n = cut;
		ck_assert_uint_eq(feed(&f, &s, 1, want, want_len, 1), 0);
		ck_assert(dns_frame_started(&f));
		dns_frame_reset(&f);
		ck_assert(!dns_frame_started(&f));
		ck_assert_uint_eq(dns_frame_want(&f, &dst), 2);
		s.n = 0;
		add_msg(&s, a, sizeof(a));
		ck_assert_uint_eq(feed(&f, &s, 4, want, want_len, 1), 1);
		dns_frame_reset(&f);
	}
}
END_TEST

/* 65535 bytes, the prefix's limit, in one read and in odd pieces. */
START_TEST(frame_largest)
{
	static uint8_t big[65535];
	static struct stream s;
	const uint8_t *want[] = { big, big };
	const size_t want_len[] = { sizeof(big), sizeof(big) };
	struct dns_frame f;

	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 7 + 1);
	s.n = 0;
	add_msg(&s, big, sizeof(big));
	add_msg(&s, big, sizeof(big));
	ck_assert_uint_eq(s.b[0], 0xff);
	ck_assert_uint_eq(s.b[1], 0xff);
	dns_frame_init(&f);
	ck_assert_uint_eq(feed(&f, &s, 70000, want, want_len, 2), 2);
	ck_assert_uint_eq(feed(&f, &s, 4093, want, want_len, 2), 2);
	dns_frame_reset(&f);
}
END_TEST

Suite *
dns_frame_suite(void)
{
	Suite *s = suite_create("dns_frame");
	TCase *tc = tcase_create("frame");

	tcase_add_test(tc, frame_messages);
	tcase_add_test(tc, frame_want);
	tcase_add_test(tc, frame_partial);
	tcase_add_test(tc, frame_largest);
	suite_add_tcase(s, tc);
	return s;
}
