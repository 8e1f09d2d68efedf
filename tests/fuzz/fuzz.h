/*
 * Shared by the fuzz harnesses (one per hostile input, style items 31 and
 * 54) and by fuzz_main.c, which replays their corpora under `make check`
 * when libFuzzer is not linked in.  Each harness caps the input size first,
 * needs no root and does no I/O beyond its own temporary state directory.
 */
#ifndef CBRIDGE_FUZZ_H
#define CBRIDGE_FUZZ_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* Larger inputs are ignored: nothing reaches a parser bigger than this
 * through the fuzzers, and the driver's limits are exercised well below. */
#define FUZZ_MAX_INPUT	(64u * 1024)

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int	LLVMFuzzerInitialize(int *argc, char ***argv);

/* Where fuzz_fail() writes: a copy of stderr taken at initialisation, so
 * that the message survives libFuzzer's -close_fd_mask=2 (which silences
 * the daemon's own log lines). */
static int fuzz_errfd __attribute__((unused)) = 2;

static inline void
fuzz_keep_stderr(void)
{
	int fd = dup(2);

	if (fd >= 0)
		fuzz_errfd = fd;
}

static void fuzz_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4), noreturn, unused));

/* An invariant of the code under test does not hold: a finding.  Aborts so
 * that libFuzzer and the sanitizers report it with a stack. */
static void
fuzz_fail(const char *file, int line, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	int n;

	n = snprintf(buf, sizeof(buf), "%s:%d: invariant violated: ", file,
	    line);
	if (n < 0 || (size_t)n >= sizeof(buf))
		n = 0;
	va_start(ap, fmt);
	(void) vsnprintf(buf + n, sizeof(buf) - (size_t)n, fmt, ap);
	va_end(ap);
	dprintf(fuzz_errfd, "%s\n", buf);
	abort();
}

#define FUZZ_CHECK(cond, ...) do { if (!(cond)) \
	fuzz_fail(__FILE__, __LINE__, __VA_ARGS__); } while (0)

/* xorshift32: a reproducible stream (piece sizes, choices) from a seed
 * the input gives; *s must not be 0. */
static inline uint32_t
fuzz_next(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

#endif
