/* The event loop: fd callbacks, timer order, handles freed from inside
 * callbacks, loop_stop. */
#include <check.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "loop/loop.h"
#include "tests/unit/suites.h"

struct rec {
	struct loop	*l;
	int		order[16];
	int		n;
	struct loop_fd	*victim;	/* freed by the first callback */
	struct loop_timer *tvictim;
	int		fired;
};

static void
on_timer(void *arg)
{
	struct rec *r = arg;

	r->order[r->n++] = r->fired++;
}

struct tagged {
	struct rec	*r;
	int		tag;
	struct loop_timer *t;
};

static void
on_tagged(void *arg)
{
	struct tagged *t = arg;

	t->r->order[t->r->n++] = t->tag;
	if (t->r->n == 4)
		loop_stop(t->r->l, 7);
}

START_TEST(timers_fire_in_deadline_order)
{
	char err[128];
	struct rec r = { 0 };
	struct tagged tg[4];
	uint64_t now;

	r.l = loop_new(err, sizeof(err));
	ck_assert_ptr_nonnull(r.l);
	now = loop_now_ms();
	for (int i = 0; i < 4; i++) {
		tg[i] = (struct tagged){ .r = &r, .tag = i };
		tg[i].t = loop_timer_new(r.l, on_tagged, &tg[i]);
		ck_assert_ptr_nonnull(tg[i].t);
	}
	/* Armed out of order, one moved after arming. */
	loop_timer_arm_at(tg[2].t, now + 30);
	loop_timer_arm_at(tg[0].t, now + 10);
	loop_timer_arm_at(tg[3].t, now + 5);
	loop_timer_arm_at(tg[1].t, now + 20);
	loop_timer_arm_at(tg[3].t, now + 40);
	ck_assert_int_eq(loop_run(r.l), 7);
	ck_assert_int_eq(r.n, 4);
	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(r.order[i], i);
	ck_assert(loop_now_ms() >= now + 40);
	for (int i = 0; i < 4; i++)
		loop_timer_free(tg[i].t);
	loop_free(r.l);
}
END_TEST

START_TEST(disarmed_timer_does_not_fire)
{
	char err[128];
	struct rec r = { 0 };
	struct loop_timer *a, *b;

	r.l = loop_new(err, sizeof(err));
	a = loop_timer_new(r.l, on_timer, &r);
	b = loop_timer_new(r.l, on_timer, &r);
	loop_timer_arm(a, 0);
	loop_timer_arm(b, 1);
	ck_assert(loop_timer_armed(a));
	loop_timer_disarm(a);
	ck_assert(!loop_timer_armed(a));
	for (int i = 0; i < 20 && r.fired == 0; i++)
		ck_assert_int_eq(loop_once(r.l, 50), 0);
	ck_assert_int_eq(r.fired, 1);
	ck_assert(!loop_timer_armed(b));
	loop_timer_free(a);
	loop_timer_free(b);
	loop_free(r.l);
}
END_TEST

struct fdrec {
	int		efd[2];
	struct loop_fd	*w[2];
	int		calls[2];
};

/* Whichever of the two fires first frees the other: its event of the
 * same turn must be dropped, not dispatched to freed memory. */
static void
on_fd(struct fdrec *f, int me, uint32_t ev)
{
	uint64_t v;

	ck_assert(ev & EPOLLIN);
	f->calls[me]++;
	ck_assert_int_eq(read(f->efd[me], &v, sizeof(v)), sizeof(v));
	loop_fd_free(f->w[!me]);
	f->w[!me] = NULL;
}

static void on_fd0(void *a, uint32_t ev) { on_fd(a, 0, ev); }
static void on_fd1(void *a, uint32_t ev) { on_fd(a, 1, ev); }

START_TEST(fd_freed_inside_a_callback_is_not_called)
{
	char err[128];
	struct loop *l = loop_new(err, sizeof(err));
	struct fdrec f = { 0 };
	uint64_t one = 1;

	for (int i = 0; i < 2; i++) {
		f.efd[i] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		ck_assert_int_ge(f.efd[i], 0);
		ck_assert_int_eq(write(f.efd[i], &one, sizeof(one)),
		    sizeof(one));
	}
	f.w[0] = loop_fd_add(l, f.efd[0], EPOLLIN, on_fd0, &f);
	f.w[1] = loop_fd_add(l, f.efd[1], EPOLLIN, on_fd1, &f);
	ck_assert_ptr_nonnull(f.w[0]);
	ck_assert_ptr_nonnull(f.w[1]);
	ck_assert_int_eq(loop_once(l, 1000), 0);
	ck_assert_int_eq(f.calls[0] + f.calls[1], 1);
	/* The survivor still works. */
	ck_assert_int_eq(write(f.efd[f.calls[1]], &one, sizeof(one)),
	    sizeof(one));
	ck_assert_int_eq(loop_once(l, 1000), 0);
	ck_assert_int_eq(f.calls[0] + f.calls[1], 2);
	loop_fd_free(f.w[0]);
	loop_fd_free(f.w[1]);
	/* Nothing left: a turn with a timeout returns without callbacks. */
	ck_assert_int_eq(loop_once(l, 10), 0);
	ck_assert_int_eq(f.calls[0] + f.calls[1], 2);
	(void) close(f.efd[0]);
	(void) close(f.efd[1]);
	loop_free(l);
}
END_TEST

static void
free_self(void *arg)
{
	struct rec *r = arg;

	r->fired++;
	loop_timer_free(r->tvictim);
	r->tvictim = NULL;
}

START_TEST(timer_frees_itself)
{
	char err[128];
	struct rec r = { 0 };

	r.l = loop_new(err, sizeof(err));
	r.tvictim = loop_timer_new(r.l, free_self, &r);
	loop_timer_arm(r.tvictim, 0);
	ck_assert_int_eq(loop_once(r.l, 100), 0);
	ck_assert_int_eq(r.fired, 1);
	ck_assert_ptr_null(r.tvictim);
	loop_free(r.l);
}
END_TEST

START_TEST(fd_add_of_a_bad_fd_fails)
{
	char err[128];
	struct loop *l = loop_new(err, sizeof(err));

	ck_assert_ptr_null(loop_fd_add(l, -1, EPOLLIN, on_fd0, NULL));
	loop_free(l);
}
END_TEST

Suite *
loop_suite(void)
{
	Suite *s = suite_create("loop");
	TCase *tc = tcase_create("loop");

	tcase_add_test(tc, timers_fire_in_deadline_order);
	tcase_add_test(tc, disarmed_timer_does_not_fire);
	tcase_add_test(tc, fd_freed_inside_a_callback_is_not_called);
	tcase_add_test(tc, timer_frees_itself);
	tcase_add_test(tc, fd_add_of_a_bad_fd_fails);
	suite_add_tcase(s, tc);
	return s;
}
