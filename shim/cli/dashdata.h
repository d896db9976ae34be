/* dashdata.h - what the dashboard shows: the config and the state file
 * sampled once a second, fifteen minutes of history per breaker kept in
 * memory, and the JSON and text the pages ask for, built once per sample
 * so that any number of clients polling costs one build.
 *
 * One dashdata is shared by the sampler (the main thread) and the HTTP
 * server's thread: every function here takes its lock, so none may be
 * called with it held.  Strings returned are malloc'd copies. */
#ifndef RC_CLI_DASHDATA_H
#define RC_CLI_DASHDATA_H

#include <stddef.h>

#define DASH_HISTORY 900   /* samples kept per breaker: 15 min at 1 s */

typedef struct dashdata dashdata;

/* Load the config at CFGPATH and map its state file (as cli_open_state,
 * which may act as the config's owner).  Return the data, else NULL after
 * printing why on stderr. */
dashdata *dashdata_open(const char *cfgpath, int read_only);
void dashdata_close(dashdata *d);

/* The state file's path (for the token file beside it), as loaded. */
const char *dashdata_state_file(dashdata *d);

/* Take one sample now: reload the config if its file changed (a config
 * that no longer loads is kept as it was, its problems shown on the
 * page), read every breaker, and rebuild the cached documents. */
void dashdata_sample(dashdata *d);

/* The cached documents: which is one of enum dash_doc.  Return a malloc'd
 * copy (*LEN bytes), or NULL when out of memory. */
enum dash_doc { DASH_DOC_OVERVIEW, DASH_DOC_STATUS, DASH_DOC_METRICS };
char *dashdata_doc(dashdata *d, enum dash_doc which, size_t *len);

/* Breaker NAME's view as JSON: its counts, its history, its settings
 * (value and where it comes from: the section, [global] or the built-in
 * default) and its recent transition and reject lines of the log.  NULL
 * with *LEN 0 when NAME is not a breaker of the config. */
char *dashdata_breaker(dashdata *d, const char *name, size_t *len);

/* Flip breaker NAME to state TO (enum rc_state), logged with
 * via=dashboard.  Return 0, else -1 with a reason in ERR. */
int dashdata_flip(dashdata *d, const char *name, int to, char *err, size_t errlen);

/* `recloser add` with ARGC arguments ARGV (NAME PATTERN... KEY=VALUE...)
 * through the CLI's own add; its output (the success line or the
 * FILE:LINE: messages) in *MSG (malloc'd).  Return the exit status. */
int dashdata_add(dashdata *d, int argc, char **argv, char **msg);

#endif
