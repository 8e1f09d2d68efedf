/*
 * Work off the loop, with a firewall backend of the test's own that can
 * be slow and fail on demand: results come back on the loop in
 * submission order while the loop keeps running, a failure is reported
 * with its message and does not stop later jobs, each job runs on its own
 * copy of the model, and freeing the worker delivers what was submitted.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "firewall/job.h"
#include "loop/loop.h"
#include "loop/work.h"
#include "tests/unit/suites.h"

struct slow_fw {
	struct fw	fw;
	/* Per sync call, in order: how long it takes and how it ends. */
	unsigned int	delay_ms[8];
	int		fail[8];
	unsigned int	calls;
	size_t		nnets[8];	/* what each call saw */
	char		first_id[8];	/* first byte of nets[0].id */
	unsigned int	drops, flushes;
};

static int
slow_sync(struct fw *f, const struct fw_model *m, char *err, size_t errlen)
{
	struct slow_fw *s = (struct slow_fw *)f;
	unsigned int i = s->calls++ % 8;

	s->nnets[i] = m->nnets;
	s->first_id[i] = m->nnets > 0 ? m->nets[0].id[0] : '\0';
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

/* Conntrack flushes, counted in the slow_fw that holds it. */
struct slow_ports {
	struct fw_hostports	hp;
	struct slow_fw		*fw;
};

static int
slow_flush(struct fw_hostports *hp, int family, const unsigned short *ports,
    size_t n, char *err, size_t errlen)
{
	(void) family, (void) ports;
	((struct slow_ports *)hp)->fw->flushes += (unsigned int)n;
	(void) snprintf(err, errlen, "no conntrack here");
	return -ENOENT;
}

static void
slow_free(struct fw *f)
{
	(void) f;
}

static const struct fw_ops slow_ops = {
	.sync = slow_sync,
	.forward_drop = slow_drop,
	.free = slow_free,
};

static const struct fw_hostports_ops slow_ports_ops = {
	.conntrack_flush_udp = slow_flush,
};

struct seen {
	int		tag[8];
	int		r[8];
	char		err[8][64];
	int		n;
};

/* One submitted job: what the driver's work items look like. */
struct item {
	struct slow_fw	*fw;
	struct fw_job	job;		/* owned copy */
	struct fw_result res;
	struct slow_ports *ports;
	struct seen	*seen;
	int		tag;
};

static void
item_run(void *arg)
{
	struct item *it = arg;

	fw_job_run(&it->fw->fw, it->ports != NULL ? &it->ports->hp : NULL,
	    &it->job, &it->res);
}

static void
item_done(void *arg)
{
	struct item *it = arg;
	struct seen *s = it->seen;

	s->tag[s->n] = it->tag;
	s->r[s->n] = it->res.r;
	(void) snprintf(s->err[s->n], sizeof(s->err[0]), "%.63s",
	    it->res.err);
	s->n++;
	fw_job_done(&it->job);
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
	struct item items[3];
	struct loop *l = loop_new(err, sizeof(err));
	struct loop_work *w;
	struct loop_timer *t;
	int ticks = 0;
	uint64_t t0;

	ck_assert_ptr_nonnull(l);
	w = loop_work_new(l, err, sizeof(err));
	ck_assert_ptr_nonnull(w);
	ck_assert(loop_work_threaded(w));
	for (int i = 0; i < 3; i++) {
		struct fw_job j = { .sync = true,
		    .model = { .nets = nets, .nnets = (size_t)i + 1 } };

		nets[0].id[0] = (char)('a' + i);
		items[i] = (struct item){ .fw = &sf, .seen = &seen, .tag = i };
		ck_assert_int_eq(fw_job_copy(&j, &items[i].job), 0);
		ck_assert_int_eq(loop_work_submit(w, item_run, item_done,
		    &items[i]), 0);
	}
	/* Each job runs on its copy: the caller's model changes at once. */
	memset(nets, 0, sizeof(nets));
	ck_assert_uint_eq(loop_work_pending(w), 3);
	/* A 10 ms timer keeps firing while the first job takes 150 ms. */
	t = loop_timer_new(l, ticker, &ticks);
	t0 = loop_now_ms();
	for (int i = 0; i < 100 && seen.n < 3; i++) {
		loop_timer_arm(t, 10);
		ck_assert_int_eq(loop_once(l, 1000), 0);
	}
	ck_assert_int_eq(seen.n, 3);
	ck_assert_uint_ge(loop_now_ms() - t0, 200);
	ck_assert_int_ge(ticks, 10);
	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(seen.tag[i], i);
		ck_assert_uint_eq(sf.nnets[i], (size_t)i + 1);
		ck_assert_int_eq(sf.first_id[i], 'a' + i);
	}
	ck_assert_int_eq(seen.r[0], 0);
	ck_assert_int_eq(seen.r[1], -EIO);
	ck_assert_str_eq(seen.err[1], "sync 1 failed");
	ck_assert_int_eq(seen.r[2], 0);
	ck_assert_uint_eq(loop_work_pending(w), 0);
	loop_timer_free(t);
	loop_work_free(w);
	loop_free(l);
}
END_TEST

START_TEST(free_delivers_what_was_submitted)
{
	char err[128];
	struct slow_fw sf = { .fw = { &slow_ops }, .delay_ms = { 50, 50 } };
	struct slow_ports sp = { .hp = { &slow_ports_ops }, .fw = &sf };
	struct fw_ct_port ct[2] = { { AF_INET, 53 }, { AF_INET6, 53 } };
	struct seen seen = { 0 };
	struct item items[2];
	struct loop *l = loop_new(err, sizeof(err));
	struct loop_work *w = loop_work_new(l, err, sizeof(err));
	struct fw_job j = { .drop4 = true, .drop6 = true, .sync = true,
	    .ct = ct, .nct = 2 };

	ck_assert_ptr_nonnull(w);
	for (int i = 0; i < 2; i++) {
		items[i] = (struct item){ .fw = &sf, .ports = &sp,
		    .seen = &seen, .tag = i };
		ck_assert_int_eq(fw_job_copy(&j, &items[i].job), 0);
		ck_assert_int_eq(loop_work_submit(w, item_run, item_done,
		    &items[i]), 0);
	}
	loop_work_free(w);
	ck_assert_int_eq(seen.n, 2);
	ck_assert_int_eq(seen.tag[0], 0);
	ck_assert_int_eq(seen.tag[1], 1);
	ck_assert_uint_eq(sf.calls, 2);
	ck_assert_uint_eq(sf.drops, 4);
	/* A failed flush is a warning, not a failed job. */
	ck_assert_uint_eq(sf.flushes, 4);
	ck_assert_int_eq(seen.r[0], 0);
	ck_assert_str_eq(items[1].res.warn, "no conntrack here");
	loop_free(l);
}
END_TEST

START_TEST(inline_without_a_loop)
{
	char err[128];
	struct slow_fw sf = { .fw = { &slow_ops }, .fail = { EPERM } };
	struct seen seen = { 0 };
	struct item it = { .fw = &sf, .seen = &seen, .tag = 7,
	    .job = { .sync = true } };
	struct loop_work *w = loop_work_new(NULL, err, sizeof(err));

	ck_assert_ptr_nonnull(w);
	ck_assert(!loop_work_threaded(w));
	ck_assert_int_eq(loop_work_submit(w, item_run, item_done, &it), 0);
	/* Delivered before submit returned. */
	ck_assert_int_eq(seen.n, 1);
	ck_assert_int_eq(seen.tag[0], 7);
	ck_assert_int_eq(seen.r[0], -EPERM);
	ck_assert_uint_eq(loop_work_pending(w), 0);
	loop_work_free(w);
}
END_TEST

Suite *
worker_suite(void)
{
	Suite *s = suite_create("work");
	TCase *tc = tcase_create("work");

	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, results_in_order_failures_reported_loop_free);
	tcase_add_test(tc, free_delivers_what_was_submitted);
	tcase_add_test(tc, inline_without_a_loop);
	suite_add_tcase(s, tc);
	return s;
}
