/* dashview.h - what a breaker's view in the dashboard takes from files
 * (dashview.c): its settings as the config's text has them, its recent
 * log lines; and JSON strings escaped for the page.  No locking: the
 * caller (dashdata.c) holds its own. */
#ifndef RC_CLI_DASHVIEW_H
#define RC_CLI_DASHVIEW_H

#include <stdio.h>

/* S as the body of a JSON string (no quotes) to F: ", \ and control
 * characters escaped, <, > and & as \u escapes, bytes that are not UTF-8
 * as U+FFFD.  dashview_jstr: the same within quotes (NULL as ""). */
void dashview_json_str(FILE *f, const char *s);
void dashview_jstr(FILE *f, const char *s);

/* `, "settings": [...]` for breaker NAME of the config TEXT (NULL: none
 * known): match, then every breaker key of keys.def with its value and
 * "from": "section" (set in [NAME]), "global" (set in [global]) or
 * "default" (the built-in default). */
void dashview_settings(FILE *f, const char *text, const char *name);

/* The last 256 KiB of the log at PATH, from a line start (malloc'd), or
 * NULL (no such regular file).  Opened O_NOFOLLOW|O_NONBLOCK. */
char *dashview_log_tail(const char *path);

/* `, "log": [...]`: the transition and reject lines of breaker NAME in
 * TAIL (NULL: none), the last 100, oldest first. */
void dashview_log_lines(FILE *f, const char *tail, const char *name);

#endif
