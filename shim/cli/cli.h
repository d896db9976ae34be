/* cli.h - what the verbs of the recloser command share.
 *
 * cli.c holds these helpers and calls nothing in the verb files; each
 * verb has its own file (status.c, flip.c, check.c, run.c, add.c,
 * metrics.c, watch.c), declared for main.c in verbs.h.  Every command
 * returns the program's exit status: 0 ok, 1 failure, 2 usage. */
#ifndef RC_CLI_H
#define RC_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "core/config.h"
#include "core/shm.h"
#include "core/breaker.h"

#define EXIT_USAGE 2

/* Print WHY (if any) and the usage text to stderr; return EXIT_USAGE. */
int cli_usage(const char *why);

/* Print the usage text to F (`-h`, `--help`, `help`: to stdout). */
void cli_help(FILE *f);

/* The config to use: OPT (-c FILE) if given, else $RECLOSER_CONFIG if set
 * and not empty, else /etc/recloser.ini.  Never NULL. */
const char *cli_config_path(const char *opt);

/* Load the config at PATH; on failure print its FILE:LINE: messages to
 * stderr and return NULL. */
rc_config *cli_load(const char *path);

/* Map C's state file; on failure print why and return -1.  Run as root
 * on a config owned by another user, it first acts as that user for the
 * rest of the command (cli_as_config_owner): C's paths may change. */
int cli_open_state(rc_config *c, rc_shm *shm);

/* Judge the calls of breaker B (slot S, config C) whose process died
 * with a deadline passed and no verdict (core/slot.h, RC_PEND), logging
 * them to C's log, before a verb shows the slot. */
void cli_settle(const rc_config *c, rc_slot *s, const rc_breaker_cfg *b, uint64_t now_ms);

/* Run as root (euid 0) on a config C owned by another user: become that
 * user (uid, groups; root stays the saved set-user-ID, for
 * cli_write_atomic) and read C's file again as them, so "<uid>" in its
 * paths is the owner's and the state file, the log and any file created
 * are the ones that user's programs use.  C's paths are replaced.  Does
 * nothing for another caller, a config of root's, or a second time.
 * Return 0, else -1 after printing why (the command must then stop). */
int cli_as_config_owner(rc_config *c);

/* After cli_as_config_owner changed the state file: one line saying which
 * file is shown and why (for stderr); else NULL. */
const char *cli_state_note(void);

/* "enforce", "observe" or "off". */
const char *cli_mode_name(int mode);

/* PART as a percentage of WHOLE; 0 when WHOLE is 0. */
double cli_pct(uint64_t part, uint64_t whole);

/* The status table: its header, and one row for breaker NAME.  With
 * COLOUR the state name is coloured (ANSI): open red, half_open yellow,
 * closed green, forced states bold. */
void cli_table_header(FILE *f);
void cli_table_row(FILE *f, const char *name, const rc_view *v, int colour);

/* Replace PATH by LEN bytes of DATA atomically: a temp file in the same
 * directory, fsync, rename, fsync of the directory, as the user who ran
 * the command (root, even while acting as a config's owner).  A symlink is
 * followed (its target is replaced).  An existing file keeps its mode
 * (and, for root, its owner); a new one gets NEW_MODE.  Return 0, else -1
 * with a one-line reason in ERR. */
int cli_write_atomic(const char *path, const char *data, size_t len,
		     mode_t new_mode, char *err, size_t errlen);

#endif
