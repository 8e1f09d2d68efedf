/*
 * Shared by the namespace itests: the TAP-like lines they print ("ok N -
 * ..." or "not ok N - ...", counted in npass / nfail for the summary;
 * "ok N - ... # SKIP why" counted apart in nskip, never as a pass) and
 * the check that they run in a throwaway namespace.
 */
#ifndef CBRIDGE_TEST_ITEST_H
#define CBRIDGE_TEST_ITEST_H

#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

static int npass, nfail, nskip;

static void	ok(int cond, const char *fmt, ...)
		    __attribute__((format(printf, 2, 3), unused));
static void	skip(const char *why, const char *fmt, ...)
		    __attribute__((format(printf, 2, 3), unused));

static void
ok(int cond, const char *fmt, ...)
{
	va_list ap;

	if (cond)
		npass++;
	else
		nfail++;
	printf("%sok %d - ", cond ? "" : "not ", npass + nfail + nskip);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

/* A check that could not run here, for a reason the caller has proven
 * (say, the kernel has no IPv6 at all): a numbered TAP line with the SKIP
 * directive, counted in nskip and so never taken for a pass. */
static void
skip(const char *why, const char *fmt, ...)
{
	va_list ap;

	nskip++;
	printf("ok %d - ", npass + nfail + nskip);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf(" # SKIP %s\n", why);
	fflush(stdout);
}

/* 1 when this process is in PID 1's network namespace, 0 if not, -1 when
 * that cannot be told.  Under `ip netns exec` PID 1's namespace link may
 * not be readable; the parent (the shell that ran ip) stands in for it. */
static int	in_host_netns(void) __attribute__((unused));

static int
in_host_netns(void)
{
	struct stat self, other;
	char path[64];
	int n;

	if (stat("/proc/self/ns/net", &self) < 0)
		return -1;
	if (stat("/proc/1/ns/net", &other) < 0) {
		n = snprintf(path, sizeof(path), "/proc/%ld/ns/net",
		    (long)getppid());
		if (n < 0 || (size_t)n >= sizeof(path) ||
		    stat(path, &other) < 0)
			return -1;
	}
	return self.st_dev == other.st_dev && self.st_ino == other.st_ino;
}

#endif
