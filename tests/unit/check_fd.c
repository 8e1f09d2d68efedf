#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <unistd.h>

#include <check.h>

#include "lib/fd.h"
#include "tests/unit/suites.h"

/* The soft RLIMIT_NOFILE at least want (up to the hard limit); false
 * when the hard limit is lower. */
static bool
nofile_at_least(rlim_t want)
{
	struct rlimit rl;

	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < want) {
		if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < want)
			return false;
		rl.rlim_cur = want;
		ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
	}
	return true;
}

/* A pipe's write end moved above FD_SETSIZE: the old number is closed,
 * the new one close-on-exec and still the same pipe. */
START_TEST(moves_above_fd_setsize)
{
	int p[2], w, flags;
	char c = 0;

	ck_assert_msg(nofile_at_least(FD_SETSIZE + 64), "RLIMIT_NOFILE's "
	    "hard limit is below %d: nothing can move above FD_SETSIZE",
	    FD_SETSIZE + 64);
	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_lt(p[1], FD_SETSIZE);
	w = fd_move_high(p[1]);
	ck_assert_int_ge(w, FD_SETSIZE);
	errno = 0;
	ck_assert_int_eq(fcntl(p[1], F_GETFD), -1);
	ck_assert_int_eq(errno, EBADF);
	flags = fcntl(w, F_GETFD);
	ck_assert_int_ge(flags, 0);
	ck_assert(flags & FD_CLOEXEC);
	ck_assert_int_eq(write(w, "x", 1), 1);
	ck_assert_int_eq(read(p[0], &c, 1), 1);
	ck_assert_int_eq(c, 'x');
	/* Already high: kept as it is. */
	ck_assert_int_eq(fd_move_high(w), w);
	ck_assert_int_eq(close(w), 0);
	ck_assert_int_eq(close(p[0]), 0);
}
END_TEST

/* With no number at FD_SETSIZE or above allowed, the descriptor stays
 * where it is, open; a negative one is returned as it is. */
START_TEST(stays_when_it_cannot_move)
{
	struct rlimit rl, low;
	int fd, got;

	ck_assert_int_eq(fd_move_high(-1), -1);
	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
	low = rl;
	low.rlim_cur = FD_SETSIZE;
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < FD_SETSIZE)
		low.rlim_cur = rl.rlim_max;
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &low), 0);
	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	got = fd_move_high(fd);
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
	ck_assert_int_eq(got, fd);
	ck_assert_int_ge(fcntl(fd, F_GETFD), 0);
	ck_assert_int_eq(close(fd), 0);
}
END_TEST

Suite *
fd_suite(void)
{
	Suite *s = suite_create("fd");
	TCase *tc = tcase_create("move_high");

	tcase_add_test(tc, moves_above_fd_setsize);
	tcase_add_test(tc, stays_when_it_cannot_move);
	suite_add_tcase(s, tc);
	return s;
}
