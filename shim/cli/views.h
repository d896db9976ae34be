/* views.h - what the verb files lend the dashboard (dashboard.c), so that
 * the page shows, changes and exposes exactly what the verbs do.
 *
 * Each takes an already loaded config C and its mapped state file SHM
 * (cli_load, cli_open_state) and writes where it is told; none of them
 * exits or prints to stdout unless told to. */
#ifndef RC_CLI_VIEWS_H
#define RC_CLI_VIEWS_H

#include <stdio.h>

#include "core/config.h"
#include "core/shm.h"

/* status.c: the status table (JSON 0) or `status --json`'s array (JSON 1)
 * of every breaker of C, or of NAME only (NULL: all), to F; why a breaker
 * has no slot to WHY (NULL: nowhere).  Return how many have no slot
 * (unprotected). */
int cli_status_print(FILE *f, FILE *why, const rc_config *c, rc_shm *shm,
		     const char *name, int json);

/* metrics.c: `recloser metrics`'s exposition of every breaker of C to F;
 * a breaker without a slot is left out, said on WHY (NULL: nowhere). */
void cli_metrics_expose(FILE *f, const rc_config *c, rc_shm *shm, FILE *why);

/* flip.c: put breaker NAME of C in state TO for every process and log the
 * transition (if it was one) with reason=cli, and via=VIA when VIA is not
 * NULL, to the log rc_log_setup chose.  Return 0, else -1 with a one-line
 * reason in ERR (no such breaker, no slot). */
int cli_flip_set(const rc_config *c, rc_shm *shm, const char *name, int to,
		 const char *via, char *err, size_t errlen);

/* add.c: `recloser add NAME PATTERN... [KEY=VALUE...]` (ARGC, ARGV as
 * after the verb) on the config at CFGPATH: the success line to OUT, the
 * problems (FILE:LINE: message) to EF.  ASK: with no PATTERN, ask on a
 * terminal (the CLI); else that is an error.  Nothing changes unless the
 * whole would-be file parses.  Return the exit status (0 added). */
int cli_add_apply(const char *cfgpath, int argc, char **argv, FILE *out, FILE *ef,
		  int ask);

#endif
