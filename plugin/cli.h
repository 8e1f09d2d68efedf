/*
 * Small client commands of the cbridge binary that talk to a running
 * daemon over its socket.
 */
#ifndef CBRIDGE_CLI_H
#define CBRIDGE_CLI_H

/* `cbridge dns-stats [--socket PATH] [--json]`: the DNS responders'
 * counters.  Returns the process exit status. */
int	cli_dns_stats(int argc, char *argv[], const char *default_socket);
/* `cbridge status [--socket PATH] [--json]`: the firewall backend, its
 * last sync and the networks.  Returns the process exit status: 1 when
 * the daemon cannot be reached or answers an error, 2 on bad usage. */
int	cli_status(int argc, char *argv[], const char *default_socket);

#endif
