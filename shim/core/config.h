/* config.h - the recloser INI file into a config: read, parse, validate.
 *
 * Nothing here knows about hooking: the shim and the CLI both use it, and
 * the unit tests drive it directly.  Loading allocates.  The values of the
 * keys are value.h's, one pattern is pattern.h's, and which breaker a
 * destination belongs to is match.h's question. */
#ifndef RC_CONFIG_H
#define RC_CONFIG_H

#include <stddef.h>
#include <stdint.h>

/* Included for the current users of config.h; to be trimmed to value.h
 * and pattern.h, which the types below need. */
#include "core/value.h"
#include "core/pattern.h"

#define RC_NAME_MAX      64   /* breaker names: 1-63 chars of [A-Za-z0-9_.-] */
#define RC_MAX_BREAKERS 4096  /* per config file; also the state file's slots */
#define RC_MAX_PROBES    16   /* upper bound of half_open_probes (keys.def) */
#define RC_BH_RECORDS   256   /* upper bound of max_concurrent and
                                 max_connections (keys.def, core/bulkhead.h) */
#define RC_MAX_WAIT_MS 60000  /* upper bound of max_wait (keys.def) */

/* A breaker's keys, the 8-byte ones first, then the 4-byte ones: no
 * padding between them (4,096 breakers are a config's largest array). */
#define RC_WIDE_DURATION(n)  RC_CTYPE_DURATION n;
#define RC_WIDE_STATUSES(n)  RC_CTYPE_STATUSES n;
#define RC_WIDE_PATH(n)      RC_CTYPE_PATH n;
#define RC_WIDE_UINT(n)
#define RC_WIDE_PERCENT(n)
#define RC_WIDE_BOOL(n)
#define RC_WIDE_MODE(n)
#define RC_WIDE_LEVEL(n)
#define RC_WIDE_ERRNO(n)
#define RC_NARROW_DURATION(n)
#define RC_NARROW_STATUSES(n)
#define RC_NARROW_PATH(n)
#define RC_NARROW_UINT(n)    RC_CTYPE_UINT n;
#define RC_NARROW_PERCENT(n) RC_CTYPE_PERCENT n;
#define RC_NARROW_BOOL(n)    RC_CTYPE_BOOL n;
#define RC_NARROW_MODE(n)    RC_CTYPE_MODE n;
#define RC_NARROW_LEVEL(n)   RC_CTYPE_LEVEL n;
#define RC_NARROW_ERRNO(n)   RC_CTYPE_ERRNO n;

typedef struct rc_breaker_cfg {
	const char *name;        /* 1 to RC_NAME_MAX - 1 characters (kept in the
	                            config's string pool) */
	rc_pattern *pats;
#define RC_BREAKER(n, t, d, ...) RC_WIDE_##t(n)
#include "core/keys.def"
	int         line;        /* line of the [section] header */
	unsigned    npats;
#define RC_BREAKER(n, t, d, ...) RC_NARROW_##t(n)
#include "core/keys.def"
} rc_breaker_cfg;

typedef struct rc_config {
	char           *path;    /* as given to rc_config_load */
#define RC_GLOBAL(n, t, d, ...) RC_CTYPE_##t n;
#include "core/keys.def"
	rc_breaker_cfg *breakers;  /* in file order */
	unsigned        nbreakers;
	rc_pattern     *pats;      /* every breaker's patterns, in one array: each
	                              breaker's pats points to its run in it */
	struct rc_strchunk *strs;  /* the names, host names and status sets kept */
	struct rc_index *index;    /* the patterns compiled (core/index.h); NULL:
	                              none could be built, match.h scans */
	void           *image;     /* read from an image (core/image.h): the
	                              memory its breakers, names and index are
	                              in; NULL: parsed */
	size_t          image_len; /* its bytes */
	int             image_own; /* 0: the caller's; RC_IMAGE_MALLOC,
	                              RC_IMAGE_MAPPED: the config's, given
	                              back by image_free(image, image_len) */
	void          (*image_free)(void *image, size_t len);
} rc_config;

#define RC_IMAGE_MALLOC 1
#define RC_IMAGE_MAPPED 2

/* Parse and validate the INI file at PATH.
 * Return the config, or NULL with ERR holding one line per problem, each
 * "FILE:LINE: message" (LINE 0 when the file cannot be read), NUL-terminated
 * and truncated to ERRLEN.  Never exits, never writes to stdio. */
rc_config *rc_config_load(const char *path, char *err, size_t errlen);

/* Parse INI text held in memory; NAME stands for the file in messages. */
rc_config *rc_config_load_string(const char *text, const char *name,
				 char *err, size_t errlen);

/* Free C and everything it holds (NULL: nothing). */
void rc_config_free(rc_config *c);

/* Free C's patterns once its index holds them (the shim's copy of a
 * config: matching goes through the index, and nothing reads a pattern
 * again); every breaker then has none (pats NULL, npats 0).  A config
 * without an index keeps them (match.h scans them). */
void rc_config_drop_patterns(rc_config *c);

/* Read all of PATH into *TEXT (malloc'd, NUL-terminated; *LEN bytes), at
 * most the 16 MiB a config may have.  Return 0, else -1 with errno set
 * (EFBIG when larger, EISDIR for a directory). */
int rc_read_file(const char *path, char **text, size_t *len);

/* Peek at [global] of TEXT (INI text, NUL-terminated) without loading
 * it: call FN(USER, KEY, VALUE) for each key=value line of [global] (any
 * case), in file order, with comments and spaces stripped as the loader
 * strips them.  Works on a file too broken to load (the fallback log path
 * of a bad config, `recloser add`).  Return 0, or -1 if TEXT is NULL. */
typedef void (*rc_global_fn)(void *user, const char *key, const char *value);
int rc_config_peek_global(const char *text, rc_global_fn fn, void *user);

/* C as one block, for an image (core/image.h): the bytes it takes (0:
 * C has none: its patterns were not dropped, or it has no index), and
 * writing them at DST (N bytes, 8-aligned), with the pointers of a block
 * at address BASE (0, or -1 when N is not that size).  Opening: the
 * config held in the N bytes at SRC, written for BASE: at BASE, SRC is
 * only read (it may be a read-only mapping); elsewhere, its pointers are
 * moved.  NULL if they do not hold one, or out of memory.  The config
 * then uses SRC, which the caller keeps alive (or hands over: image,
 * image_len and image_own).  Every pointer in the block is checked to fall inside
 * it, unless SEALED (its bytes known to be those its writer wrote: see
 * core/image.c) and at BASE, when only its [global] and the parts of its
 * index are (a process then reads a breaker's bytes only as it uses it);
 * what it points to is trusted (the image's checksum vouches). */
size_t rc_config_image_size(const rc_config *c);
int rc_config_image_write(const rc_config *c, void *dst, size_t n, uintptr_t base);
rc_config *rc_config_image_open(void *src, size_t n, uintptr_t base, int sealed);

/* Return the index of the breaker named NAME, or -1. */
int rc_config_find(const rc_config *c, const char *name);

#endif
