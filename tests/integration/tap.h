/*
 * The TAP-like lines every namespace itest prints: "ok N - ..." or
 * "not ok N - ...", counted in npass / nfail for the summary.
 */
#ifndef CBRIDGE_TEST_TAP_H
#define CBRIDGE_TEST_TAP_H

#include <stdarg.h>
#include <stdio.h>

static int npass, nfail;

static void	ok(int cond, const char *fmt, ...)
		    __attribute__((format(printf, 2, 3), unused));

static void
ok(int cond, const char *fmt, ...)
{
	va_list ap;

	if (cond)
		npass++;
	else
		nfail++;
	printf("%sok %d - ", cond ? "" : "not ", npass + nfail);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

#endif
