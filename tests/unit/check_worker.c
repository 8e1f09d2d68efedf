/*
 * The firewall worker's protocol, against a backend of the test's own
 * that can be slow and fail on demand: results come back on the loop in
 * submission order, a failure is reported with its message and does not
 * stop later jobs, the loop keeps running while a job waits, and freeing
 * the worker delivers what was submitted.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "firewall/worker.h"
#include "loop/loop.h"
#include "tests/unit/suites.h"

struct slow_fw {
	struct fw	fw;
	/* Per sync call, in order: how long it takes and how it ends. */
	unsigned int	delay_ms[8];
	int		fail[8];
	unsigned int	calls;
	size_t		nnets[8];	/* what each call saw */
	unsigned int	drops, flushes;
};

static int
slow_sync(struct fw *f, const struct fw_model *m, char *err, size_t errlen)
{
	struct slow_fw *s = (struct slow_fw *)f;
	unsigned int i = s->calls++ % 8;

	s->nnets[i] = m->nnets;
	(void) usleep(s->delay_ms[i] * 1000);
	if (s->fail[i] != 0) {
		(void) snprintf(err, errlen, "sync %u failed", i);
		return -s->fail[i];
	}
	return 0;
}

static int
slow_drop(struct fw *f, int family, char *err, size_t errlen)
{
	(void) family, (void) err, (void) errlen;
	((struct slow_fw *)f)->drops++;
	return 0;
}

static int
slow_flush(struct fw *f, int family, const unsigned short *ports, size_t n,
    char *err, size_t errlen)
{
	(void) family, (void) ports, (void) err, (void) errlen;
	((struct slow_fw *)f)->flushes += (unsigned int)n;
	return 0;
}

static void
slow_free(struct fw *f)
{
	(void) f;
}

static const struct fw_ops slow_ops = {
	.sync = slow_sync,
	.forward_drop = slow_drop,
	.conntrack_flush_udp = slow_flush,
	.free = slow_free,
};

struct seen {
	int		tag[8];
	int		r[8];
	char		err[8][64];
	int		n;
	struct loop	*l;
	int		stop_after;
};

struct tagged_arg {
	struct seen	*s;
	int		tag;
};

static void
on_done(void *arg, const struct fw_result *res)
{
	struct tagged_arg *t = arg;
	struct seen *s = t->s;

	s->tag[s->n] = t->tag;
	s->r[s->n] = res->r;
	(void) snprintf(s->err[s->n], sizeof(s->err[0]), "%.63s", res->err);
	s->n++;
	if (s->l != NULL && s->n == s->stop_after)
		loop_stop(s->l, 0);
}

static void
ticker(void *arg)
{
	int *ticks = arg;

	(*ticks)++;
}

START_TEST(results_in_order_failures_reported_loop_free)
{
	char err[128];
	struct slow_fw sf = { .fw = { &slow_ops },
	    .delay_ms = { 150, 10, 60 }, .fail = { 0, EIO, 0 } };
	struct fw_net nets[3] = { 0 };
	struct seen seen = { 0 };
	struct tagged_arg args[3];
	struct loop *l = loop_new(err, sizeof(err));
	struct fw_worker *w;
	struct loop_timer *t;
	int ticks = 0;
	uint64_t t0;

	ck_assert_ptr_nonnull(l);
	w = fw_worker_new(&sf.fw, l, err, sizeof(err));
	ck_assert_ptr_nonnull(w);
	ck_assert(fw_worker_threaded(w));
	for (int i = 0; i < 3; i++) {
		struct fw_job j = { .sync = true,
		    .model = { .nets = nets, .nnets = (size_t)i + 1 } };

		args[i] = (struct tagged_arg){ &seen, i };
		ck_assert_int_eq(fw_worker_submit(w, &j, on_done, &args[i]), 0);
	}
	/* The job owns its copy: the caller's model may change at once. */
	memset(nets, 0xff, sizeof(nets));
	ck_assert_uint_eq(fw_worker_pending(w), 3);
	/* A 10 ms timer keeps firing while the first job takes 150 ms. */
	t = loop_timer_new(l, ticker, &ticks);
	seen.l = l;
	seen.stop_after = 3;
	t0 = loop_now_ms();
	for (int i = 0; i < 40 && seen.n < 3; i++) {
		loop_timer_arm(t, 10);
		ck_assert_int_eq(loop_once(l, 1000), 0);
	}
	ck_assert_int_eq(seen.n, 3);
	ck_assert_uint_ge(loop_now_ms() - t0, 200);
	ck_assert_int_ge(ticks, 10);
	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(seen.tag[i], i);
		ck_assert_uint_eq(sf.nnets[i], (size_t)i + 1);
	}
	ck_assert_int_eq(seen.r[0], 0);
	ck_assert_int_eq(seen.r[1], -EIO);
	ck_assert_str_eq(seen.err[1], "sync 1 failed");
	ck_assert_int_eq(seen.r[2], 0);
	ck_assert_uint_eq(fw_worker_pending(w), 0);
	loop_timer_free(t);
	fw_worker_free(w);
	loop_free(l);
}
END_TEST

START_TEST(free_delivers_what_was_submitted)
{
	char err[128];
	struct slow_fw sf = { .fw = { &slow_ops }, .delay_ms = { 50, 50 } };
	struct fw_ct_port ct[2] = { { AF_INET, 53 }, { AF_INET6, 53 } };
	struct seen seen = { 0 };
	struct tagged_arg args[2] = { { &seen, 0 }, { &seen, 1 } };
	struct loop *l = loop_new(err, sizeof(err));
	struct fw_worker *w = fw_worker_new(&sf.fw, l, err, sizeof(err));
	struct fw_job j = { .drop4 = true, .drop6 = true, .sync = true,
	    .ct = ct, .nct = 2 };

	ck_assert_ptr_nonnull(w);
	ck_assert_int_eq(fw_worker_submit(w, &j, on_done, &args[0]), 0);
	ck_assert_int_eq(fw_worker_submit(w, &j, on_done, &args[1]), 0);
	fw_worker_free(w);
	ck_assert_int_eq(seen.n, 2);
	ck_assert_int_eq(seen.tag[0], 0);
	ck_assert_int_eq(seen.tag[1], 1);
	ck_assert_uint_eq(sf.calls, 2);
	ck_assert_uint_eq(sf.drops, 4);
	ck_assert_uint_eq(sf.flushes, 4);
	loop_free(l);
}
END_TEST

START_TEST(inline_without_a_loop)
{
	char err[128];
	struct slow_fw sf = { .fw = { &slow_ops }, .fail = { EPERM } };
	struct seen seen = { 0 };
	struct tagged_arg a = { &seen, 7 };
	struct fw_worker *w = fw_worker_new(&sf.fw, NULL, err, sizeof(err));
	struct fw_job j = { .sync = true };

	ck_assert_ptr_nonnull(w);
	ck_assert(!fw_worker_threaded(w));
	ck_assert_int_eq(fw_worker_submit(w, &j, on_done, &a), 0);
	/* Delivered before submit returned. */
	ck_assert_int_eq(seen.n, 1);
	ck_assert_int_eq(seen.tag[0], 7);
	ck_assert_int_eq(seen.r[0], -EPERM);
	ck_assert_uint_eq(fw_worker_pending(w), 0);
	fw_worker_free(w);
}
END_TEST

Suite *
worker_suite(void)
{
	Suite *s = suite_create("fw_worker");
	TCase *tc = tcase_create("worker");

	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, results_in_order_failures_reported_loop_free);
	tcase_add_test(tc, free_delivers_what_was_submitted);
	tcase_add_test(tc, inline_without_a_loop);
	suite_add_tcase(s, tc);
	return s;
}
