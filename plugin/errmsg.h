/*
 * Functions that can fail take (char *err, size_t errlen) and write one
 * message a user can act on there.  ERR() does that from inside them.
 */
#ifndef CBRIDGE_ERRMSG_H
#define CBRIDGE_ERRMSG_H

#include <stdio.h>

#define ERR(...)	do { if (err != NULL && errlen > 0) \
	(void) snprintf(err, errlen, __VA_ARGS__); } while (0)

#endif
