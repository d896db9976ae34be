/* log.h - the recloser log file: logfmt, one write(2) per line.
 *
 * Each line is opened, written with one write(2) and closed again on an
 * O_WRONLY|O_APPEND|O_CREAT|O_CLOEXEC descriptor: the shim keeps no fd
 * that the host program could close or reuse, lines of different processes
 * never interleave, and a rotated file is followed at once.
 *
 * Only a regular file owned by the effective uid with one link (st_nlink
 * 1) is written; a symlink, a FIFO, a device, a hard link or a file of
 * another user at the path gets nothing, and nothing there can block: the
 * path is looked at first and opened O_NONBLOCK|O_NOFOLLOW|O_NOCTTY. */
#ifndef RC_LOG_H
#define RC_LOG_H

#include <stddef.h>
#include <stdint.h>
#include <stdarg.h>

/* Set where lines go (PATH copied; NULL or "" = nowhere), the most verbose
 * level written (enum rc_level) and the prog= value. */
void rc_log_setup(const char *path, int level, const char *prog);

/* Return nonzero if lines at LEVEL are written. */
int rc_log_enabled(int level);

/* Write one line: "ts=... pid=... prog=... level=... event=EVENT " then
 * FMT (printf-style, more key=value pairs), then "\n".  Preserves errno.
 * Never allocates; the line is cut at 1 KiB.  Return 0 if the line was
 * written whole, -1 if not (LEVEL not enabled, or the file could not be
 * opened or written): a caller that carries a count in the line keeps it. */
int rc_log(int level, const char *event, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Lines whose level was enabled but that were not written (the file was
 * refused, could not be opened, or the write fell short), since the start
 * of the process.  They cannot be reported in the log itself. */
unsigned long rc_log_dropped(void);

/* Also count every dropped line in *COUNTER (the state file's, shared by
 * every process: `recloser status`, `metrics`), atomically. */
void rc_log_count_to(uint64_t *counter);

/* The process is about to change its user (setuid and friends: a server
 * dropping root for its workers).  Open the log now, as the user it still
 * is, with the usual checks, and keep that fd (close-on-exec): once the
 * log is no longer its own, or no
 * longer opens for it, lines go there, as long as the fd still is that
 * file.  Return 0 if kept (or already), -1 if not. */
int rc_log_keep(void);

/* The kept fd (-1: none), and: the program closed (or dup'ed over) FD; if
 * it was the kept one, it is given up. */
int rc_log_kept_fd(void);
void rc_log_fd_gone(int fd);

/* Why the first dropped line was not written ("not a regular file", "more
 * than one link (a hard link)", "owned by another user", "a symbolic
 * link", "cannot be opened", "a write fell short"), or NULL if none was.
 * A constant string: a caller may report it once, where it has a channel. */
const char *rc_log_refusal(void);

/* Copy S into BUF as a logfmt value: bare when it needs no quoting, else
 * double-quoted with \" and \\ escaped.  Return BUF. */
const char *rc_log_quote(const char *s, char *buf, size_t len);

/* Format the wall-clock time now as 2026-11-28T04:05:06.123456Z. */
void rc_log_timestamp(char *buf, size_t len);

#endif
