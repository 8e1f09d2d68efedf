/*
 * What the DNS clients of the benchmarks (dns_probe, dns_wait,
 * dns_blast) have in common: their clocks and command-line parsing, the
 * query they send (header and one question), the check that a reply
 * answers it, and the UDP socket with kernel receive times they send it
 * on (dns_blast opens its own: no timestamps, batched I/O).  One copy,
 * so that they measure alike.  libc only.
 */
#ifndef CBRIDGE_TESTS_BENCH_DNSQ_H
#define CBRIDGE_TESTS_BENCH_DNSQ_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

/* A query buffer: the 12-byte header and a question of up to 300 bytes. */
#define DNSQ_QUERY_MAX	(12 + 300)

/* CLOCK_MONOTONIC and CLOCK_REALTIME in nanoseconds (REALTIME compares
 * with `date +%s%N` and with the kernel's receive times). */
double	dnsq_mono_ns(void);
double	dnsq_real_ns(void);

/* A command line, for its usage message. */
struct dnsq_cli {
	const char	*prog;	/* argv[0] */
	const char	*args;	/* the usage after it: "[-x X] ADDR" */
};

/* "usage: PROG ARGS" on stderr, then exit 2. */
__attribute__((noreturn))
void	dnsq_usage(const struct dnsq_cli *cli);
/* The number in s, within [lo, hi]; anything else ends in
 * dnsq_usage(cli). */
double	dnsq_number(const struct dnsq_cli *cli, const char *s, double lo,
	    double hi);
/* The IPv4 or IPv6 address s with port into *ret_ss and its length into
 * *ret_len: 0, or -1 (nothing written) if s is neither. */
int	dnsq_addr(const char *s, unsigned port,
	    struct sockaddr_storage *ret_ss, socklen_t *ret_len);

/* A query for name and type, class IN, into q[0..qsize): ID 0 (the
 * caller's, per query), RD set, one question.  Its length, or 0 when the
 * name does not fit or has an empty label. */
size_t	dnsq_query(const char *name, unsigned type, unsigned char *q,
	    size_t qsize);
/* Whether r[0..n) answers the query q[0..qlen): QR set, one question and
 * the same one (letters in any case: servers may change it).  The ID is
 * the caller's to check. */
int	dnsq_is_reply(const unsigned char *r, size_t n,
	    const unsigned char *q, size_t qlen);

/* A non-blocking UDP socket connected to ss (only its replies come in)
 * with kernel receive times on; -1 with errno, nothing left open. */
int	dnsq_connect(const struct sockaddr_storage *ss, socklen_t sslen);
/* Sends q[0..qlen) with ID id on fd: 0, also when the datagram was
 * dropped on the way out (no buffer, nothing listening: a lost query like
 * any other), or -1 with errno on another error. */
int	dnsq_send(int fd, unsigned char *q, size_t qlen, uint16_t id);
/* Waits up to wait_ns (0 if negative) for fd to be readable: 0 (also
 * when a signal came), or -1 with errno. */
int	dnsq_wait(int fd, double wait_ns);
/* The next datagram from fd that can be a reply into r[0..size), and its
 * kernel receive time (CLOCK_REALTIME ns, or now when the kernel gave
 * none) into *ret_rx: its length, at least a header's.  0 when nothing
 * is left to read for now (or a signal came), -1 with errno on an error.
 * Skipped: datagrams shorter than a header, and the errors a connected
 * UDP socket reports for earlier queries that found nothing listening
 * (ECONNREFUSED: such a query is simply lost). */
ssize_t	dnsq_recv(int fd, unsigned char *r, size_t size, double *ret_rx);

#endif
