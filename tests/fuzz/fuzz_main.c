/*
 * Replays corpus files through a harness's LLVMFuzzerTestOneInput, for
 * builds without libFuzzer (gcc, `make check`): every file committed under
 * tests/fuzz/<target>/ is a regression test.
 *
 *   fuzz_main DIR|FILE...    each regular file, directories in name order
 *
 * The code under test logs to stderr, and the harnesses make it fail on
 * purpose (injected host failures are logged as errors), so stderr goes to
 * /dev/null while the inputs run; sanitizer reports and harness failures
 * still reach the real stderr.  FUZZ_VERBOSE=1 keeps stderr as it is (and
 * so glibc's own messages) and names each file before it runs, to find the
 * one that crashes.  Exits 1 when a path cannot be read or nothing was
 * replayed.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/fuzz/fuzz.h"

int	LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));
/* In the sanitizer runtimes when a sanitizer is linked in. */
void	__sanitizer_set_report_fd(void *fd) __attribute__((weak));

static bool verbose;
static FILE *msg;		/* our own messages: the real stderr */

/* Sends fd 2 to /dev/null, the sanitizers' reports to a copy of it. */
static void
quiet_stderr(void)
{
	int keep = dup(2), null = open("/dev/null", O_WRONLY | O_CLOEXEC);
	FILE *f;

	if (keep < 0 || null < 0 || (f = fdopen(keep, "w")) == NULL) {
		if (keep >= 0)
			(void) close(keep);
		if (null >= 0)
			(void) close(null);
		return;
	}
	(void) fcntl(keep, F_SETFD, FD_CLOEXEC);
	if (__sanitizer_set_report_fd != NULL)
		__sanitizer_set_report_fd((void *)(intptr_t)keep);
	(void) dup2(null, 2);
	(void) close(null);
	msg = f;
}

/* Reads path into an allocation of exactly its size, so that the
 * sanitizers see a read past the input. */
static int
run_file(const char *path)
{
	struct stat st;
	uint8_t *buf;
	size_t len = 0;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 || fstat(fd, &st) < 0) {
		fprintf(msg, "fuzz_main: %s: %s\n", path, strerror(errno));
		if (fd >= 0)
			(void) close(fd);
		return -1;
	}
	if ((buf = malloc(st.st_size > 0 ? (size_t)st.st_size : 1)) == NULL) {
		(void) close(fd);
		return -1;
	}
	while (len < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + len, (size_t)st.st_size - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	(void) close(fd);
	if (verbose)
		fprintf(msg, "fuzz_main: %s (%zu bytes)\n", path, len);
	(void) LLVMFuzzerTestOneInput(buf, len);
	free(buf);
	return 0;
}

static int
is_regular(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* Files of dir in name order, hidden ones skipped. */
static int
run_dir(const char *dir, size_t *count)
{
	char path[PATH_MAX];
	struct dirent **names;
	int n, r = 0;

	if ((n = scandir(dir, &names, NULL, alphasort)) < 0) {
		fprintf(msg, "fuzz_main: %s: %s\n", dir, strerror(errno));
		return -1;
	}
	for (int i = 0; i < n; i++) {
		if (names[i]->d_name[0] != '.' &&
		    (size_t)snprintf(path, sizeof(path), "%s/%s", dir,
		    names[i]->d_name) < sizeof(path) && is_regular(path)) {
			if (run_file(path) < 0)
				r = -1;
			else
				(*count)++;
		}
		free(names[i]);
	}
	free(names);
	return r;
}

int
main(int argc, char **argv)
{
	const char *v = getenv("FUZZ_VERBOSE");
	const char *prog = strrchr(argv[0], '/');
	size_t count = 0;
	int fail = 0;

	verbose = v != NULL && *v != '\0' && strcmp(v, "0") != 0;
	msg = stderr;
	if (argc < 2) {
		fprintf(stderr, "usage: %s DIR|FILE...\n", argv[0]);
		return 2;
	}
	/* First, so that the harness keeps the real stderr for its own
	 * failure messages. */
	if (LLVMFuzzerInitialize != NULL)
		(void) LLVMFuzzerInitialize(&argc, &argv);
	if (!verbose && getenv("FUZZ_TRACE") == NULL)
		quiet_stderr();
	for (int i = 1; i < argc; i++) {
		struct stat st;

		if (stat(argv[i], &st) < 0) {
			fprintf(msg, "fuzz_main: %s: %s\n", argv[i],
			    strerror(errno));
			fail = 1;
		} else if (S_ISDIR(st.st_mode)) {
			if (run_dir(argv[i], &count) < 0)
				fail = 1;
		} else if (run_file(argv[i]) < 0)
			fail = 1;
		else
			count++;
	}
	printf("%s: %zu inputs replayed\n", prog != NULL ? prog + 1 : argv[0],
	    count);
	if (count == 0) {
		fprintf(msg, "fuzz_main: no input found\n");
		fail = 1;
	}
	return fail;
}
