/*
 * Docker's IDs are hex: network and endpoint IDs as dockerd sends them
 * (64, lower case), container IDs as the Engine API gives them (any case,
 * sometimes shortened).  The one check for both.
 */
#ifndef CBRIDGE_HEXID_H
#define CBRIDGE_HEXID_H

#include <stdbool.h>
#include <stddef.h>

/* The value of hex digit c, -1 if it is none. */
static inline int
hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* s[0..len) is all hex digits, upper case ones only if upper_ok. */
static inline bool
hex_id(const char *s, size_t len, bool upper_ok)
{
	for (size_t i = 0; i < len; i++)
		if (hex_digit(s[i]) < 0 || (!upper_ok && s[i] >= 'A' &&
		    s[i] <= 'F'))
			return false;
	return true;
}

#endif
