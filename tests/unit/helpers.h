/* Shared fixtures for unit tests: a driver on the in-memory netlink fake
 * with its state in a fresh temporary directory. */
#ifndef CBRIDGE_TEST_HELPERS_H
#define CBRIDGE_TEST_HELPERS_H

#include <stddef.h>

#include "lib/prefix.h"
#include "netlink/netlink.h"
#include "plugin/driver.h"

struct th_env {
	char		dir[64];
	struct lnk	*lnk;
	struct drv	*drv;
};

/* Creates the temp dir, the fake and the driver (ck_assert on failure). */
void	th_env_setup(struct th_env *e);
/* Frees the driver and fake and removes the temp dir. */
void	th_env_teardown(struct th_env *e);
/* Reopens the driver on the same directory, as after a restart. */
void	th_env_restart(struct th_env *e);
/* Removes every file in e->dir and the dir itself. */
void	th_rmdir(const char *dir);
/* "a.b.c.d/n" or a plain address as the binary value (ck_assert on
 * text that is neither). */
struct prefix th_prefix(const char *text);

#define TH_NETID1 "5f1c0a7e9b2d44c18e3f6a0b7c9d2e4f1a3b5c7d9e0f2a4b6c8d0e1f3a5b7c9d"
#define TH_NETID2 "a3e900000000000000000000000000000000000000000000000000000000071b"

#endif
