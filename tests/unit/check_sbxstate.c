/* The sandbox responder's lifecycle: every transition, retry timing,
 * leave and shutdown in every state, repeated events. */
#include <check.h>
#include <stdint.h>
#include <string.h>

#include "plugin/sbxstate.h"
#include "tests/unit/suites.h"

#define T0	1000000u

/* A sandbox brought to st through the usual events. */
static void
make(struct sbs *sb, enum sbs_state st)
{
	sbs_init(sb, false);
	if (st == SBS_PENDING)
		return;
	ck_assert_uint_eq(sbs_ns(sb, true, T0), SBS_A_SERVE);
	if (st == SBS_FAILED) {
		(void)sbs_serve_failed(sb, "no address", T0);
		return;
	}
	(void)sbs_served(sb);
	if (st == SBS_GONE)
		(void)sbs_ns(sb, false, T0);
	ck_assert_int_eq(sb->state, st);
}

START_TEST(new_sandbox_is_pending_until_its_namespace)
{
	struct sbs sb;

	sbs_init(&sb, true);
	ck_assert_int_eq(sb.state, SBS_PENDING);
	ck_assert(sb.internal_only);
	ck_assert_str_eq(sbs_state_str(sb.state), "pending");
	ck_assert(sbs_check_due(&sb, SBS_WHY_MOUNTS, T0));
	ck_assert(sbs_check_due(&sb, SBS_WHY_TICK, T0));
	ck_assert(!sbs_check_due(&sb, SBS_WHY_RETRY, T0));
	ck_assert_uint_eq(sbs_ns(&sb, false, T0), 0);
	ck_assert_int_eq(sb.state, SBS_PENDING);
	ck_assert_uint_eq(sbs_ns(&sb, true, T0), SBS_A_SERVE);
	/* Nothing changes until the outcome is reported. */
	ck_assert_int_eq(sb.state, SBS_PENDING);
}
END_TEST

START_TEST(served_then_idle)
{
	struct sbs sb;

	sbs_init(&sb, false);
	ck_assert_uint_eq(sbs_served(&sb),
	    SBS_A_DISARM_RETRY | SBS_A_LOG_SERVING);
	ck_assert_int_eq(sb.state, SBS_SERVING);
	ck_assert_str_eq(sbs_state_str(sb.state), "serving");
	ck_assert_str_eq(sb.err, "");
	/* Only the tick looks at a serving sandbox's namespace. */
	ck_assert(!sbs_check_due(&sb, SBS_WHY_MOUNTS, T0));
	ck_assert(sbs_check_due(&sb, SBS_WHY_TICK, T0));
	ck_assert(!sbs_check_due(&sb, SBS_WHY_RETRY, T0));
	ck_assert_uint_eq(sbs_ns(&sb, true, T0), 0);
	ck_assert_uint_eq(sbs_served(&sb), 0);
	ck_assert_int_eq(sb.state, SBS_SERVING);
}
END_TEST

START_TEST(failure_arms_a_retry)
{
	struct sbs sb;

	sbs_init(&sb, false);
	ck_assert_uint_eq(sbs_serve_failed(&sb, "cannot open", T0),
	    SBS_A_ARM_RETRY | SBS_A_LOG_FAILED);
	ck_assert_int_eq(sb.state, SBS_FAILED);
	ck_assert_str_eq(sbs_state_str(sb.state), "failed");
	ck_assert_str_eq(sb.err, "cannot open");
	ck_assert_uint_eq(sb.retry_at, T0 + SBS_RETRY_MS);
}
END_TEST

START_TEST(retry_timing)
{
	struct sbs sb;
	uint64_t due = T0 + SBS_RETRY_MS;

	make(&sb, SBS_FAILED);
	/* Not before the deadline, whatever wakes us. */
	ck_assert(!sbs_check_due(&sb, SBS_WHY_MOUNTS, due));
	ck_assert(!sbs_check_due(&sb, SBS_WHY_TICK, due - 1));
	ck_assert(!sbs_check_due(&sb, SBS_WHY_RETRY, due - 1));
	ck_assert_uint_eq(sbs_ns(&sb, true, due - 1), 0);
	/* At it: the namespace is looked at again. */
	ck_assert(sbs_check_due(&sb, SBS_WHY_TICK, due));
	ck_assert(sbs_check_due(&sb, SBS_WHY_RETRY, due));
	/* Still no namespace: failed, due on every later tick. */
	ck_assert_uint_eq(sbs_ns(&sb, false, due), 0);
	ck_assert_int_eq(sb.state, SBS_FAILED);
	ck_assert(sbs_check_due(&sb, SBS_WHY_TICK, due + 1000));
	ck_assert_uint_eq(sbs_ns(&sb, true, due + 1000), SBS_A_SERVE);
	/* Failing again moves the deadline, without a second warning for
	 * the same error. */
	ck_assert_uint_eq(sbs_serve_failed(&sb, "no address", due + 1000),
	    SBS_A_ARM_RETRY);
	ck_assert_uint_eq(sb.retry_at, due + 1000 + SBS_RETRY_MS);
	ck_assert(!sbs_check_due(&sb, SBS_WHY_RETRY, due + 1000));
	/* A different error is warned about. */
	ck_assert_uint_eq(sbs_serve_failed(&sb, "bind: in use",
	    due + 1000 + SBS_RETRY_MS), SBS_A_ARM_RETRY | SBS_A_LOG_FAILED);
	ck_assert_str_eq(sb.err, "bind: in use");
	/* Then it works: the timer goes, the error is cleared. */
	ck_assert_uint_eq(sbs_served(&sb),
	    SBS_A_DISARM_RETRY | SBS_A_LOG_SERVING);
	ck_assert_int_eq(sb.state, SBS_SERVING);
	ck_assert_str_eq(sb.err, "");
}
END_TEST

START_TEST(long_error_is_cut)
{
	struct sbs sb;
	char msg[2 * SBS_ERR_MAX];

	memset(msg, 'x', sizeof(msg) - 1);
	msg[sizeof(msg) - 1] = '\0';
	sbs_init(&sb, false);
	ck_assert_uint_eq(sbs_serve_failed(&sb, msg, T0),
	    SBS_A_ARM_RETRY | SBS_A_LOG_FAILED);
	ck_assert_uint_eq(strlen(sb.err), SBS_ERR_MAX - 1);
	/* The same long error again counts as the same. */
	ck_assert_uint_eq(sbs_serve_failed(&sb, msg, T0), SBS_A_ARM_RETRY);
}
END_TEST

START_TEST(namespace_vanishes_while_serving)
{
	struct sbs sb;

	make(&sb, SBS_SERVING);
	ck_assert_uint_eq(sbs_ns(&sb, false, T0),
	    SBS_A_UNSERVE | SBS_A_LOG_GONE);
	ck_assert_int_eq(sb.state, SBS_GONE);
	ck_assert_str_eq(sbs_state_str(sb.state), "gone");
	/* Gone stays gone until the sandbox leaves. */
	ck_assert(!sbs_check_due(&sb, SBS_WHY_MOUNTS, T0));
	ck_assert(!sbs_check_due(&sb, SBS_WHY_TICK, T0));
	ck_assert(!sbs_check_due(&sb, SBS_WHY_RETRY, T0));
	ck_assert_uint_eq(sbs_ns(&sb, false, T0), 0);
	ck_assert_uint_eq(sbs_ns(&sb, true, T0), 0);
	ck_assert_uint_eq(sbs_served(&sb), 0);
	ck_assert_uint_eq(sbs_serve_failed(&sb, "x", T0), 0);
	ck_assert_int_eq(sb.state, SBS_GONE);
}
END_TEST

START_TEST(forwarding_switch_restarts_the_responder)
{
	struct sbs sb;

	make(&sb, SBS_SERVING);
	/* The same mode again: nothing. */
	ck_assert_uint_eq(sbs_want(&sb, false), 0);
	/* Switched: a new responder, the address stays. */
	ck_assert_uint_eq(sbs_want(&sb, true), SBS_A_UNSERVE);
	ck_assert_int_eq(sb.state, SBS_PENDING);
	ck_assert(sb.internal_only);
	ck_assert_uint_eq(sbs_want(&sb, true), 0);
	ck_assert(sbs_check_due(&sb, SBS_WHY_MOUNTS, T0));
	ck_assert_uint_eq(sbs_ns(&sb, true, T0), SBS_A_SERVE);
}
END_TEST

START_TEST(forwarding_switch_when_not_serving)
{
	static const enum sbs_state sts[] = { SBS_PENDING, SBS_FAILED,
	    SBS_GONE };

	for (size_t i = 0; i < sizeof(sts) / sizeof(sts[0]); i++) {
		struct sbs sb;

		make(&sb, sts[i]);
		ck_assert_uint_eq(sbs_want(&sb, true), 0);
		ck_assert_int_eq(sb.state, sts[i]);
		ck_assert(sb.internal_only);
	}
}
END_TEST

START_TEST(reconfigure_restarts_only_a_serving_responder)
{
	static const enum sbs_state sts[] = { SBS_PENDING, SBS_FAILED,
	    SBS_GONE };
	struct sbs sb;

	make(&sb, SBS_SERVING);
	ck_assert_uint_eq(sbs_reconfigure(&sb), SBS_A_UNSERVE);
	ck_assert_int_eq(sb.state, SBS_PENDING);
	ck_assert(sbs_check_due(&sb, SBS_WHY_MOUNTS, T0));
	ck_assert_uint_eq(sbs_ns(&sb, true, T0), SBS_A_SERVE);
	for (size_t i = 0; i < sizeof(sts) / sizeof(sts[0]); i++) {
		make(&sb, sts[i]);
		ck_assert_uint_eq(sbs_reconfigure(&sb), 0);
		ck_assert_int_eq(sb.state, sts[i]);
	}
	make(&sb, SBS_SERVING);
	(void)sbs_leave(&sb);
	ck_assert_uint_eq(sbs_reconfigure(&sb), 0);
}
END_TEST

START_TEST(leave_in_every_state)
{
	static const enum sbs_state sts[] = { SBS_PENDING, SBS_SERVING,
	    SBS_FAILED, SBS_GONE };

	for (size_t i = 0; i < sizeof(sts) / sizeof(sts[0]); i++) {
		struct sbs sb;

		make(&sb, sts[i]);
		ck_assert_uint_eq(sbs_leave(&sb), SBS_A_DISARM_RETRY |
		    SBS_A_UNSERVE | SBS_A_REMOVE_ADDR);
		/* Final: nothing more happens. */
		ck_assert_uint_eq(sbs_leave(&sb), 0);
		ck_assert_uint_eq(sbs_shutdown(&sb), 0);
		ck_assert(!sbs_check_due(&sb, SBS_WHY_TICK, UINT64_MAX));
		ck_assert(!sbs_check_due(&sb, SBS_WHY_RETRY, UINT64_MAX));
		ck_assert_uint_eq(sbs_ns(&sb, true, UINT64_MAX), 0);
		ck_assert_uint_eq(sbs_ns(&sb, false, UINT64_MAX), 0);
		ck_assert_uint_eq(sbs_want(&sb, true), 0);
		ck_assert_uint_eq(sbs_served(&sb), 0);
		ck_assert_uint_eq(sbs_serve_failed(&sb, "x", T0), 0);
	}
}
END_TEST

START_TEST(leave_while_pending)
{
	struct sbs sb;

	sbs_init(&sb, false);
	ck_assert_uint_eq(sbs_ns(&sb, true, T0), SBS_A_SERVE);
	/* The joins changed before the outcome came back. */
	ck_assert_uint_eq(sbs_leave(&sb), SBS_A_DISARM_RETRY |
	    SBS_A_UNSERVE | SBS_A_REMOVE_ADDR);
	ck_assert_uint_eq(sbs_served(&sb), 0);
	ck_assert_int_eq(sb.state, SBS_PENDING);
	ck_assert(!sbs_check_due(&sb, SBS_WHY_MOUNTS, T0));
}
END_TEST

START_TEST(shutdown_in_every_state)
{
	static const enum sbs_state sts[] = { SBS_PENDING, SBS_SERVING,
	    SBS_FAILED, SBS_GONE };

	for (size_t i = 0; i < sizeof(sts) / sizeof(sts[0]); i++) {
		struct sbs sb;

		make(&sb, sts[i]);
		ck_assert_uint_eq(sbs_shutdown(&sb), SBS_A_DISARM_RETRY |
		    SBS_A_UNSERVE | SBS_A_REMOVE_ADDR);
		ck_assert_uint_eq(sbs_shutdown(&sb), 0);
		ck_assert_uint_eq(sbs_leave(&sb), 0);
	}
}
END_TEST

START_TEST(state_names)
{
	ck_assert_str_eq(sbs_state_str(SBS_PENDING), "pending");
	ck_assert_str_eq(sbs_state_str(SBS_SERVING), "serving");
	ck_assert_str_eq(sbs_state_str(SBS_FAILED), "failed");
	ck_assert_str_eq(sbs_state_str(SBS_GONE), "gone");
	ck_assert_str_eq(sbs_state_str((enum sbs_state)42), "?");
}
END_TEST

Suite *
sbxstate_suite(void)
{
	Suite *s = suite_create("sbxstate");
	TCase *tc = tcase_create("sbxstate");

	tcase_add_test(tc, new_sandbox_is_pending_until_its_namespace);
	tcase_add_test(tc, served_then_idle);
	tcase_add_test(tc, failure_arms_a_retry);
	tcase_add_test(tc, retry_timing);
	tcase_add_test(tc, long_error_is_cut);
	tcase_add_test(tc, namespace_vanishes_while_serving);
	tcase_add_test(tc, forwarding_switch_restarts_the_responder);
	tcase_add_test(tc, forwarding_switch_when_not_serving);
	tcase_add_test(tc, reconfigure_restarts_only_a_serving_responder);
	tcase_add_test(tc, leave_in_every_state);
	tcase_add_test(tc, leave_while_pending);
	tcase_add_test(tc, shutdown_in_every_state);
	tcase_add_test(tc, state_names);
	suite_add_tcase(s, tc);
	return s;
}
