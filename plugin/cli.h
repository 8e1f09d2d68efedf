/*
 * Small client commands of the cbridge binary that talk to a running
 * daemon over its socket.
 */
#ifndef CBRIDGE_CLI_H
#define CBRIDGE_CLI_H

/* `cbridge dns-stats [--socket PATH] [--json]`: the DNS responders'
 * counters.  Returns the process exit status. */
int	cli_dns_stats(int argc, char *argv[], const char *default_socket);

#endif
