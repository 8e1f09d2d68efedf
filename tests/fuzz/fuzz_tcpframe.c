/*
 * The responder's TCP framing (dns/frame.h): the input is what a client
 * sends on one connection, after a first byte that seeds how the kernel
 * hands it over (segments of 1 to 4096 bytes, each read as the reader
 * asks: recv(want) returns at most what has arrived).  Checks:
 *   - dns_frame_want() is 1 or 2 while the prefix is incomplete, then
 *     exactly what the body lacks, never 0 and never past the message;
 *   - the messages come out in order, each byte-identical to the one a
 *     plain split of the whole stream finds (the prefix's length, then
 *     that many bytes), empty ones included;
 *   - at the end a partial message is "started" exactly when the stream
 *     ends inside one, and dns_frame_reset() frees it (LeakSanitizer);
 *   - a read of 0 or of more than wanted is -EINVAL and changes nothing.
 */
#include <errno.h>
#include <string.h>

#include "dns/frame.h"
#include "tests/fuzz/fuzz.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void) argc, (void) argv;
	fuzz_keep_stderr();
	return 0;
}

/* Segment sizes: mostly small, sometimes a whole buffer. */
static size_t
segment(uint32_t *s)
{
	uint32_t r = fuzz_next(s);

	return (r & 3) == 0 ? 1 + (r >> 8) % 4096 : 1 + (r >> 8) % 16;
}

/* The plain split: the message at *off in data[0..size), or false when
 * the stream ends inside it (or at its start). */
static bool
split(const uint8_t *data, size_t size, size_t *off, const uint8_t **msg,
    size_t *len)
{
	size_t n;

	if (size - *off < 2)
		return false;
	n = (size_t)data[*off] << 8 | data[*off + 1];
	if (n > size - *off - 2)
		return false;
	*msg = data + *off + 2;
	*len = n;
	*off += 2 + n;
	return true;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dns_frame f;
	const uint8_t *ref;
	size_t off = 0, arrived = 0, ref_off = 0, ref_len, msg_start = 0;
	size_t nmsg = 0;
	uint32_t seed;

	if (size > FUZZ_MAX_INPUT || size < 1)
		return 0;
	seed = 0x9e3779b9u ^ data[0] * 0x01010101u;
	data++;
	size--;
	dns_frame_init(&f);
	while (off < size) {
		const uint8_t *msg;
		uint8_t *dst;
		size_t want, n, len;
		int r;

		if (arrived == off) {
			n = segment(&seed);
			arrived += n < size - off ? n : size - off;
		}
		want = dns_frame_want(&f, &dst);
		FUZZ_CHECK(want > 0 && dst != NULL, "nothing wanted");
		if (off - msg_start < 2)
			FUZZ_CHECK(want == 2 - (off - msg_start) &&
			    dst == f.hdr + (off - msg_start), "prefix: want "
			    "%zu", want);
		n = want < arrived - off ? want : arrived - off;
		if ((fuzz_next(&seed) & 15) == 0) {
			FUZZ_CHECK(dns_frame_got(&f, 0) == -EINVAL &&
			    dns_frame_got(&f, want + 1) == -EINVAL,
			    "a wrong size taken");
			FUZZ_CHECK(dns_frame_want(&f, &dst) == want, "a wrong "
			    "size changed the reader");
		}
		memcpy(dst, data + off, n);
		off += n;
		r = dns_frame_got(&f, n);
		FUZZ_CHECK(r == DNS_FRAME_MORE || r == DNS_FRAME_MSG,
		    "dns_frame_got: %d", r);
		FUZZ_CHECK(dns_frame_started(&f), "bytes in, not started");
		msg = dns_frame_msg(&f, &len);
		if (r == DNS_FRAME_MORE) {
			FUZZ_CHECK(msg == NULL && len == 0, "a message early");
			continue;
		}
		FUZZ_CHECK(split(data, size, &ref_off, &ref, &ref_len),
		    "message %zu not in the stream", nmsg);
		FUZZ_CHECK(ref_off == off, "message %zu ends at %zu, not %zu",
		    nmsg, off, ref_off);
		FUZZ_CHECK(len == ref_len && (len == 0 ? msg == NULL :
		    msg != NULL && memcmp(msg, ref, len) == 0),
		    "message %zu differs (%zu bytes, want %zu)", nmsg, len,
		    ref_len);
		FUZZ_CHECK(dns_frame_want(&f, &dst) == 0 && dst == NULL,
		    "more wanted after a whole message");
		nmsg++;
		dns_frame_reset(&f);
		FUZZ_CHECK(!dns_frame_started(&f), "started after reset");
		msg_start = off;
	}
	/* Nothing whole is left in the stream; a partial message shows. */
	FUZZ_CHECK(!split(data, size, &ref_off, &ref, &ref_len), "message "
	    "%zu missed", nmsg);
	FUZZ_CHECK(dns_frame_started(&f) == (ref_off < size), "partial "
	    "message: started %d, %zu bytes left", dns_frame_started(&f),
	    size - ref_off);
	dns_frame_reset(&f);
	return 0;
}
