#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/netns.h"

#define SELF_NET	"/proc/thread-self/ns/net"

int
netns_open_current(char *err, size_t errlen)
{
	int fd = open(SELF_NET, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		int e = errno;

		if (err != NULL && errlen > 0)
			(void) snprintf(err, errlen, "cannot open %s: %s (is "
			    "/proc mounted?)", SELF_NET, strerror(e));
		return -e;
	}
	return fd;
}

int
netns_switch(int nsfd, char *err, size_t errlen)
{
	if (setns(nsfd, CLONE_NEWNET) < 0) {
		int e = errno;

		if (err != NULL && errlen > 0)
			(void) snprintf(err, errlen, "cannot enter the "
			    "sandbox's network namespace: %s", strerror(e));
		return -e;
	}
	return 0;
}

int
netns_enter(int nsfd, int *ret_home, char *err, size_t errlen)
{
	int home, r;

	if ((home = netns_open_current(err, errlen)) < 0)
		return home;
	if ((r = netns_switch(nsfd, err, errlen)) < 0) {
		(void) close(home);
		return r;
	}
	*ret_home = home;
	return 0;
}

void
netns_return(int home)
{
	if (setns(home, CLONE_NEWNET) < 0) {
		fprintf(stderr, "cbridge: cannot return to the daemon's "
		    "network namespace: %s\n", strerror(errno));
		abort();
	}
}

void
netns_leave(int home)
{
	netns_return(home);
	(void) close(home);
}
