#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "tests/unit/helpers.h"

void
th_rmdir(const char *dir)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d = opendir(dir);

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		(void) snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		(void) unlink(path);
	}
	closedir(d);
	(void) rmdir(dir);
}

static void
open_drv(struct th_env *e)
{
	struct drv_params p = { .state_dir = e->dir, .lnk = e->lnk };
	char err[256] = "";
	int r;

	r = drv_new(&p, &e->drv, err, sizeof(err));
	ck_assert_msg(r == 0, "drv_new: %d %s", r, err);
}

void
th_env_setup(struct th_env *e)
{
	(void) snprintf(e->dir, sizeof(e->dir), "/tmp/cbunit.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(e->dir));
	e->lnk = lnk_fake_new();
	ck_assert_ptr_nonnull(e->lnk);
	open_drv(e);
}

void
th_env_restart(struct th_env *e)
{
	e->drv = drv_free(e->drv);
	open_drv(e);
}

void
th_env_teardown(struct th_env *e)
{
	e->drv = drv_free(e->drv);
	e->lnk = lnk_free(e->lnk);
	th_rmdir(e->dir);
}

struct prefix
th_prefix(const char *text)
{
	struct prefix p;

	if (strchr(text, '/') != NULL)
		ck_assert_int_eq(prefix_parse(text, &p), 0);
	else
		ck_assert_int_eq(prefix_parse_addr(text, &p), 0);
	return p;
}
