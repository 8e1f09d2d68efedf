/*
 * `cbridge status`'s text: the Cbridge.Status document (plugin/api.c) as
 * a few readable lines.  Pure: writes to the stream it is given and does
 * nothing else, so it is tested without a daemon.
 */
#ifndef CBRIDGE_STATUSTEXT_H
#define CBRIDGE_STATUSTEXT_H

#include <stdio.h>

#include <jansson.h>

/* Prints doc (borrowed) to out: the firewall backend and why, the last
 * sync (time, duration, error, counts), then one line per network with
 * its bridge, subnets, endpoints, published ports and flags.  A missing
 * or mistyped field prints as empty or 0, never fails: the daemon may
 * be older or newer than this binary. */
void	statustext_print(json_t *doc, FILE *out);

#endif
