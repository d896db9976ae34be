/* config.h - the recloser INI file: parse, validate, match destinations.
 *
 * Nothing here knows about hooking: the shim and the CLI both use it, and
 * the unit tests drive it directly.  Parsing allocates; matching does not. */
#ifndef RC_CONFIG_H
#define RC_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#define RC_NAME_MAX      64   /* breaker names: 1-63 chars of [A-Za-z0-9_.-] */
#define RC_HOST_MAX     254   /* host names in patterns (253 + NUL) */
#define RC_MAX_BREAKERS 128   /* per config file; also the state file's slots */
#define RC_MAX_PROBES    16   /* upper bound of half_open_probes */

enum rc_mode  { RC_MODE_ENFORCE = 0, RC_MODE_OBSERVE = 1, RC_MODE_OFF = 2 };
enum rc_level { RC_LOG_ERROR = 0, RC_LOG_WARN = 1, RC_LOG_INFO = 2, RC_LOG_DEBUG = 3 };

/* A set of HTTP statuses 100-599: bit (status - 100). Empty = none. */
typedef struct rc_statusset { uint64_t bits[8]; } rc_statusset;

/* Return nonzero if STATUS is in SET. */
int rc_status_in(const rc_statusset *set, int status);

enum rc_pat_kind {
	RC_PAT_HOST = 1, /* exact host name, lowercase */
	RC_PAT_WILD = 2, /* "*.example.com": host holds ".example.com" */
	RC_PAT_IP4  = 3, /* addr[0..3], prefix 0-32 */
	RC_PAT_IP6  = 4, /* addr[0..15], prefix 0-128 */
};

typedef struct rc_pattern {
	uint8_t  kind;       /* enum rc_pat_kind */
	uint8_t  prefix;     /* CIDR prefix bits (32 or 128 for one address) */
	uint16_t port;       /* host order; 0 = any port */
	uint8_t  addr[16];   /* network order */
	char     host[RC_HOST_MAX];
	int      line;       /* line of the match key that gave it */
} rc_pattern;

/* Per-breaker field types, from the key types in keys.def. */
#define RC_CTYPE_DURATION uint64_t
#define RC_CTYPE_UINT     uint32_t
#define RC_CTYPE_PERCENT  uint32_t
#define RC_CTYPE_BOOL     int
#define RC_CTYPE_MODE     int
#define RC_CTYPE_LEVEL    int
#define RC_CTYPE_ERRNO    int
#define RC_CTYPE_STATUSES rc_statusset
#define RC_CTYPE_PATH     char *

typedef struct rc_breaker_cfg {
	char        name[RC_NAME_MAX];
	int         line;        /* line of the [section] header */
	rc_pattern *pats;
	unsigned    npats;
#define RC_BREAKER(n, t, d) RC_CTYPE_##t n;
#include "core/keys.def"
} rc_breaker_cfg;

typedef struct rc_config {
	char           *path;    /* as given to rc_config_load */
#define RC_GLOBAL(n, t, d) RC_CTYPE_##t n;
#include "core/keys.def"
	rc_breaker_cfg *breakers;  /* in file order */
	unsigned        nbreakers;
} rc_config;

/* Parse and validate the INI file at PATH.
 * Return the config, or NULL with ERR holding one line per problem, each
 * "FILE:LINE: message" (LINE 0 when the file cannot be read), NUL-terminated
 * and truncated to ERRLEN.  Never exits, never writes to stdio. */
rc_config *rc_config_load(const char *path, char *err, size_t errlen);

/* Parse INI text held in memory; NAME stands for the file in messages. */
rc_config *rc_config_load_string(const char *text, const char *name,
				 char *err, size_t errlen);

void rc_config_free(rc_config *c);

/* Read all of PATH into *TEXT (malloc'd, NUL-terminated; *LEN bytes), at
 * most the 1 MiB a config may have.  Return 0, else -1 with errno set
 * (EFBIG when larger, EISDIR for a directory). */
int rc_read_file(const char *path, char **text, size_t *len);

/* Return the index of the breaker named NAME, or -1. */
int rc_config_find(const rc_config *c, const char *name);

/* Value parsers, exported for the CLI (`add`) and the tests.
 * Each returns 0 on success, else -1 with a short message in ERR. */
int rc_parse_duration(const char *s, uint64_t *ms, char *err, size_t errlen);
int rc_parse_pattern(const char *s, rc_pattern *p, char *err, size_t errlen);

/* Format MS as the shortest duration string ("250ms", "2s", "1.5s", "5m"). */
void rc_format_duration(uint64_t ms, char *buf, size_t len);

/* Format pattern P back into its text form. */
void rc_format_pattern(const rc_pattern *p, char *buf, size_t len);

/* ---- matching (no allocation, no system call) ---- */

/* Return nonzero if host-name pattern P (HOST or WILD) matches NAME
 * (case-insensitive; a trailing dot on NAME is ignored). */
int rc_pattern_match_name(const rc_pattern *p, const char *name);

/* Return the index of the first breaker, in file order, with a pattern that
 * matches the destination, or -1.  FAMILY is AF_INET (ADDR = 4 bytes) or
 * AF_INET6 (ADDR = 16 bytes; a v4-mapped address matches as IPv4); PORT is
 * in host order.  NAMES (NNAMES entries, may be 0) are the host names the
 * process resolved to this address; name patterns match through them. */
int rc_match(const rc_config *c, int family, const uint8_t *addr,
	     uint16_t port, const char *const *names, unsigned nnames);

/* Return nonzero if any breaker has a host-name pattern matching NAME
 * (any port): only then is a resolved name worth remembering. */
int rc_match_any_name(const rc_config *c, const char *name);

#endif
