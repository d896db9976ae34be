/* watch.h - `recloser status --watch`, which status.c hands over to once
 * it has read the options. */
#ifndef RC_CLI_WATCH_H
#define RC_CLI_WATCH_H

#include <stdint.h>

/* Show the status table of every breaker in CFGPATH (or of NAME only)
 * every INTERVAL_MS (> 0), COUNT times (<= 0: until SIGINT, SIGTERM or
 * SIGHUP); the config is read again at each refresh.  Return 0, or 1 if
 * the config does not load at first or has no breaker NAME. */
int cmd_watch(const char *cfgpath, const char *name, uint64_t interval_ms,
	      long count);

#endif
