/*
 * Entering another network namespace on the calling thread, to make a
 * socket there (a socket keeps the namespace it was made in), and coming
 * back.  setns() moves only the calling thread.  Failing to come back is
 * fatal: the daemon's next sockets, and its netlink, would land in the
 * other namespace, so netns_return() aborts instead of returning.
 */
#ifndef CBRIDGE_LIB_NETNS_H
#define CBRIDGE_LIB_NETNS_H

#include <stddef.h>

/* An O_CLOEXEC descriptor of the calling thread's network namespace, the
 * way back; -errno with a message in err (may be NULL). */
int	netns_open_current(char *err, size_t errlen);
/* Moves the calling thread into the namespace of nsfd: 0 or -errno with
 * a message in err (may be NULL). */
int	netns_switch(int nsfd, char *err, size_t errlen);
/* Both: *ret_home gets the way back, then the thread enters nsfd.  On
 * failure nothing is left open and the thread has not moved. */
int	netns_enter(int nsfd, int *ret_home, char *err, size_t errlen);
/* Back into home (from netns_open_current or netns_enter); home stays
 * open.  Aborts when that fails. */
void	netns_return(int home);
/* netns_return(home), then closes home. */
void	netns_leave(int home);

#endif
