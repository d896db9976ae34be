/* value.h - the value types of the INI keys: parse and format them.
 *
 * Durations, whole numbers, percentages, booleans, modes, log levels,
 * errnos, sets of HTTP statuses and paths, each as keys.def names it; and
 * the few ASCII helpers the config and pattern parsers share.  ASCII only,
 * whatever locale the host program set.  Parsing a PATH allocates; nothing
 * else here does.  Nothing here prints or exits. */
#ifndef RC_VALUE_H
#define RC_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum rc_mode  { RC_MODE_ENFORCE = 0, RC_MODE_OBSERVE = 1, RC_MODE_OFF = 2 };
enum rc_level { RC_LOG_ERROR = 0, RC_LOG_WARN = 1, RC_LOG_INFO = 2, RC_LOG_DEBUG = 3 };

/* A set of HTTP statuses 100-599: bit (status - 100). Empty = none. */
typedef struct rc_statusset { uint64_t bits[8]; } rc_statusset;

/* The value types, named as in keys.def: RC_VALUE_##type. */
enum rc_value_type {
	RC_VALUE_DURATION, RC_VALUE_UINT, RC_VALUE_PERCENT, RC_VALUE_BOOL,
	RC_VALUE_MODE, RC_VALUE_LEVEL, RC_VALUE_ERRNO, RC_VALUE_STATUSES,
	RC_VALUE_PATH,
};

/* The C type a value of each type is stored as: RC_CTYPE_##type. */
#define RC_CTYPE_DURATION uint64_t      /* milliseconds */
#define RC_CTYPE_UINT     uint32_t
#define RC_CTYPE_PERCENT  uint32_t      /* 0-100 */
#define RC_CTYPE_BOOL     int           /* 0 or 1 */
#define RC_CTYPE_MODE     int           /* enum rc_mode */
#define RC_CTYPE_LEVEL    int           /* enum rc_level */
#define RC_CTYPE_ERRNO    int           /* 1-4095 */
#define RC_CTYPE_STATUSES const rc_statusset * /* a config's: one copy per distinct set;
                                                  rc_value_parse writes an rc_statusset */
#define RC_CTYPE_PATH     char *        /* malloc'd; NULL = unset */

/* Parse S (NUL-terminated; white space around it ignored) as a value of
 * TYPE into DST, which points to an RC_CTYPE_##type.  For PATH, "<uid>" is
 * replaced by the real uid, the result must be absolute, and the old
 * string at *DST (NULL or malloc'd) is freed on success.  Return 0, else
 * -1 with a short message in ERR (DST untouched). */
int rc_value_parse(enum rc_value_type type, const char *s, void *dst,
		   char *err, size_t errlen);

/* Parse S as a duration ("250ms", "2s", "1.5s", "5m", "1h"; a bare number
 * is seconds) into *MS: whole milliseconds, at most 576h.  Return 0, else
 * -1 with a short message in ERR. */
int rc_parse_duration(const char *s, uint64_t *ms, char *err, size_t errlen);

/* Format MS as the shortest duration string ("250ms", "2s", "1.5s", "5m")
 * that parses back to MS, into BUF (LEN bytes, NUL-terminated). */
void rc_format_duration(uint64_t ms, char *buf, size_t len);

/* Return nonzero if STATUS is in SET (NULL: in no set). */
int rc_status_in(const rc_statusset *set, int status);

/* ---- the ASCII helpers the parsers share ---- */

/* Write printf-style FMT into ERR (ERRLEN bytes; none if NULL or 0) and
 * return -1, for "return rc_value_fail(err, errlen, ...);". */
__attribute__((format(printf, 3, 4)))
int rc_value_fail(char *err, size_t errlen, const char *fmt, ...);

/* C in lowercase, ASCII only. */
static inline char rc_value_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* Nonzero if C is an ASCII letter or digit. */
static inline bool rc_value_isalnum(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Nonzero if the N bytes at A and B are equal, ignoring ASCII case. */
static inline bool rc_value_ncaseeq(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (rc_value_lower(a[i]) != rc_value_lower(b[i]))
			return false;
	return true;
}

/* Narrow [*S, *S + *N) to its part without surrounding white space
 * (isspace(), as inih does). */
void rc_value_trim(const char **s, size_t *n);

/* Nonzero if [S, S + N) is the NUL-terminated WORD, ignoring ASCII case. */
bool rc_value_word_eq(const char *s, size_t n, const char *word);

/* Parse the decimal digits [S, S + N) into *V, at most MAX.  Return 0,
 * -1 when not all digits (or none), -2 when above MAX (*V untouched). */
int rc_value_decimal(const char *s, size_t n, uint64_t max, uint64_t *v);

#endif
