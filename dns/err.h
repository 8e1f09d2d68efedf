/*
 * Internal to dns/: the one error formatter of the folder.  Functions
 * that can fail take (char *err, size_t errlen) and write one message a
 * user can act on there; err may be NULL.
 */
#ifndef CBRIDGE_DNS_ERR_H
#define CBRIDGE_DNS_ERR_H

#include <stddef.h>

__attribute__((format(printf, 3, 4)))
void	dns_seterr(char *err, size_t errlen, const char *fmt, ...);

#endif
