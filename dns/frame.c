/*
 * DNS over TCP framing: see dns/frame.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dns/frame.h"

void
dns_frame_init(struct dns_frame *f)
{
	memset(f, 0, sizeof(*f));
}

static bool
whole(const struct dns_frame *f)
{
	return f->got >= 2 && f->got - 2 == f->need;
}

size_t
dns_frame_want(struct dns_frame *f, uint8_t **ret_dst)
{
	if (f->got < 2) {
		*ret_dst = f->hdr + f->got;
		return 2 - f->got;
	}
	if (whole(f)) {
		/* Not buf + 0: buf is NULL for an empty message. */
		*ret_dst = NULL;
		return 0;
	}
	*ret_dst = f->buf + (f->got - 2);
	return f->need - (f->got - 2);
}

int
dns_frame_got(struct dns_frame *f, size_t n)
{
	uint8_t *dst;

	if (n == 0 || n > dns_frame_want(f, &dst))
		return -EINVAL;
	f->got += n;
	if (f->got == 2) {
		f->need = (size_t)f->hdr[0] << 8 | f->hdr[1];
		if (f->need > 0 && (f->buf = malloc(f->need)) == NULL) {
			dns_frame_reset(f);
			return -ENOMEM;
		}
	}
	return whole(f) ? DNS_FRAME_MSG : DNS_FRAME_MORE;
}

const uint8_t *
dns_frame_msg(const struct dns_frame *f, size_t *ret_len)
{
	if (!whole(f)) {
		*ret_len = 0;
		return NULL;
	}
	*ret_len = f->need;
	return f->buf;
}

bool
dns_frame_started(const struct dns_frame *f)
{
	return f->got > 0;
}

void
dns_frame_reset(struct dns_frame *f)
{
	free(f->buf);
	dns_frame_init(f);
}
