/*
 * loop/: the daemon's one event loop.  Every file descriptor and timer in
 * the daemon registers a callback here (the HTTP server, signals, the
 * Engine API client's eventfd, the firewall worker's eventfd, the DNS
 * forwarder, every responder's sockets, the periodic checks); nothing else
 * calls epoll_wait.  Callbacks run on the loop's thread, one at a time,
 * and must not block: work that can wait on another program goes to a
 * thread that reports back through an eventfd registered here.
 *
 * One nested epoll set remains, by design: libmicrohttpd exposes the
 * sockets of its connections only as an epoll fd of its own (or as
 * select() sets rebuilt on every turn), so plugin/http.c registers that fd.
 *
 * Timers are a binary heap on CLOCK_MONOTONIC with millisecond precision;
 * they cost no file descriptor.  Handles may be freed from inside any
 * callback, their own included: a freed handle's pending events of the
 * same turn are dropped.
 *
 * Everything here runs on the loop's thread only.
 */
#ifndef CBRIDGE_LOOP_H
#define CBRIDGE_LOOP_H

#include <stddef.h>
#include <stdint.h>

struct loop;
struct loop_fd;
struct loop_timer;

/* events: the EPOLL* bits that fired (EPOLLIN, EPOLLOUT, EPOLLPRI,
 * EPOLLERR, EPOLLHUP). */
typedef void	loop_fd_fn(void *arg, uint32_t events);
typedef void	loop_timer_fn(void *arg);

/* NULL with a message in err when the epoll set cannot be made. */
struct loop	*loop_new(char *err, size_t errlen);
/* Frees the loop.  Every handle must have been freed by its owner
 * first.  NULL is a no-op. */
void		loop_free(struct loop *l);

/* Runs callbacks until loop_stop(); returns the code given there, or
 * -errno if epoll_wait failed. */
int		loop_run(struct loop *l);
/* Makes loop_run() return rc once the current callback returns. */
void		loop_stop(struct loop *l, int rc);
/* One turn: waits at most timeout_ms (-1: until something happens, 0:
 * not at all), then runs what is due.  For tests and tools that drive a
 * loop themselves.  0, or -errno from epoll_wait. */
int		loop_once(struct loop *l, int timeout_ms);

/* Calls fn(arg, events) whenever fd is ready for events (EPOLLIN,
 * EPOLLOUT, EPOLLPRI; EPOLLERR and EPOLLHUP always).  The fd stays the
 * caller's; free the handle before closing it.  NULL with errno set. */
struct loop_fd	*loop_fd_add(struct loop *l, int fd, uint32_t events,
		    loop_fd_fn *fn, void *arg);
/* Changes the events watched.  0 or -errno. */
int		loop_fd_mod(struct loop_fd *w, uint32_t events);
/* Stops watching and frees the handle.  NULL is a no-op. */
void		loop_fd_free(struct loop_fd *w);

/* A disarmed timer; NULL when out of memory. */
struct loop_timer *loop_timer_new(struct loop *l, loop_timer_fn *fn,
		    void *arg);
/* Fires once, ms milliseconds from now (0: on the next turn).  Re-arming
 * an armed timer moves it. */
void		loop_timer_arm(struct loop_timer *t, uint64_t ms);
/* Fires once at the loop_now_ms() instant at_ms. */
void		loop_timer_arm_at(struct loop_timer *t, uint64_t at_ms);
void		loop_timer_disarm(struct loop_timer *t);
int		loop_timer_armed(const struct loop_timer *t);
/* NULL is a no-op. */
void		loop_timer_free(struct loop_timer *t);

/* CLOCK_MONOTONIC in milliseconds. */
uint64_t	loop_now_ms(void);

#endif
