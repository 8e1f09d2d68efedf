/*
 * The upstream servers the responders forward to: DNS_UPSTREAMS, else the
 * host's resolv.conf (systemd-resolved's rule, dns/conf.h), re-read when
 * one of its files changes (compared by device, inode, size and mtime);
 * the responder's own address is never an upstream.  Reads files only;
 * the caller decides when to look and what to do with a change (flush
 * the cache, hand the list to every responder).
 */
#ifndef CBRIDGE_UPSTREAMS_H
#define CBRIDGE_UPSTREAMS_H

#include <stdbool.h>
#include <sys/types.h>
#include <time.h>

#include "dns/conf.h"
#include "plugin/settings.h"

struct upstreams_file {
	bool		exists;
	dev_t		dev;
	ino_t		ino;
	off_t		size;
	struct timespec	mtime;
};

/* Zeroed: nothing loaded yet. */
struct upstreams {
	struct dns_upstreams	cur;	/* what is in use */
	bool			loaded;
	struct upstreams_file	rc, sd;	/* resolv.conf, systemd's */
	char			warned[256];	/* last read error logged */
};

/* Reads them now.  True when cur changed.  A failure keeps cur and is
 * logged once per distinct error. */
bool	upstreams_load(struct upstreams *u, const struct settings *set);
/* Reads them again if a resolv.conf file changed since the last look
 * (never with DNS_UPSTREAMS).  True when cur changed. */
bool	upstreams_check(struct upstreams *u, const struct settings *set);
/* Where cur came from: "DNS_UPSTREAMS" or a file's path. */
const char *upstreams_source(const struct upstreams *u,
	    const struct settings *set);

#endif
