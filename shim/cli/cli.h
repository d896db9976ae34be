/* cli.h - what the parts of the recloser command share.
 *
 * recloser.c holds main() and the small commands (status, the flips,
 * check, run) and the helpers below; cli_add.c, cli_metrics.c and
 * cli_watch.c each hold one bigger command.  Every command returns the
 * program's exit status: 0 ok, 1 failure, 2 usage. */
#ifndef RC_CLI_H
#define RC_CLI_H

#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

#include "core/config.h"
#include "core/state.h"

#define EXIT_USAGE 2

/* Print WHY (if any) and the usage text to stderr; return EXIT_USAGE. */
int cli_usage(const char *why);

/* Load the config at PATH; on failure print its FILE:LINE: messages to
 * stderr and return NULL. */
rc_config *cli_load(const char *path);

/* Map C's state file; on failure print why and return -1. */
int cli_open_state(const rc_config *c, rc_shm *shm);

/* "enforce", "observe" or "off". */
const char *cli_mode_name(int mode);

/* The status table: its header, and one row for breaker NAME.  With
 * COLOUR the state name is coloured (ANSI): open red, half_open yellow,
 * closed green, forced states bold. */
void cli_table_header(FILE *f);
void cli_table_row(FILE *f, const char *name, const rc_view *v, int colour);

/* Replace PATH by LEN bytes of DATA atomically: a temp file in the same
 * directory, fsync, rename, fsync of the directory.  A symlink is
 * followed (its target is replaced).  An existing file keeps its mode
 * (and, for root, its owner); a new one gets NEW_MODE.  Return 0, else -1
 * with a one-line reason in ERR. */
int cli_write_atomic(const char *path, const char *data, size_t len,
		     mode_t new_mode, char *err, size_t errlen);

/* The commands in their own files. */
int cmd_add(const char *cfgpath, int argc, char **argv);
int cmd_metrics(const char *cfgpath, int argc, char **argv);
int cmd_watch(const char *cfgpath, const char *name, uint64_t interval_ms,
	      long count);

#endif
