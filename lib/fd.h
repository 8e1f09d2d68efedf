/*
 * Keeping the descriptors below FD_SETSIZE free for the libraries that
 * still wait with select(): libnftables waits for the kernel's answers to
 * a ruleset change that way, on the netlink socket it opens for each
 * context, and glibc aborts the process when that socket's number is
 * FD_SETSIZE (1024) or more.  The daemon holds a few descriptors per
 * sandbox (its namespace, the responder's sockets) and one per published
 * port, so with a few hundred containers its own descriptors would fill
 * every number below FD_SETSIZE; those it keeps are moved above instead.
 */
#ifndef CBRIDGE_LIB_FD_H
#define CBRIDGE_LIB_FD_H

/* fd itself when it is negative or already at FD_SETSIZE or above;
 * otherwise a duplicate at the lowest free number from FD_SETSIZE up,
 * close-on-exec, with fd closed.  When no such number can be had (an
 * RLIMIT_NOFILE of FD_SETSIZE or less, or none left) fd itself, still
 * open: the move only spares the low numbers, it is never needed for fd
 * to work. */
int	fd_move_high(int fd);

#endif
