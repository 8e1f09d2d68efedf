/*
 * Small file helpers for state that must survive a crash.
 */
#ifndef CBRIDGE_FILEUTIL_H
#define CBRIDGE_FILEUTIL_H

#include <stddef.h>

/* Writes data to dir/name atomically: a temp file in dir, fsync, rename
 * over the target, fsync of dir.  On failure the old file is kept and the
 * temp file removed.  -errno with a message in err. */
int	fu_write_atomic(const char *dir, const char *name, const void *data,
	    size_t len, char *err, size_t errlen);

/* Reads a whole file of at most max bytes into a NUL-terminated malloc'ed
 * buffer (*ret, owned by the caller).  -ENOENT if absent, -EFBIG if larger
 * than max. */
int	fu_read_file(const char *path, size_t max, char **ret, size_t *ret_len);

/* mkdir -p with mode for the directories it creates. */
int	fu_mkdir_p(const char *path, unsigned int mode);

#endif
