/* index.h - a config's patterns compiled for lookup: which breaker is the
 * first, in file order, with a pattern that matches a destination.
 *
 * Built once per config (core/config.c, when it loads) and read without
 * locks: it never changes once sealed.  A lookup costs a hash probe per
 * distinct CIDR prefix length of the destination's family (one when every
 * address pattern is a single address), and for a host name one for the
 * name and one per suffix of it that starts at a dot, each only where
 * some pattern's name (a wildcard's suffix) is as long; none depends on
 * how many patterns the config has.  A name is read 8 bytes at a time.  The answer is the lowest breaker index among every
 * pattern that matches, which is the first match in file order (breakers
 * are tried in file order, and within a breaker which pattern matched is
 * not asked).  match.h answers with it, and keeps the linear scan it
 * replaces as the reference the tests compare it with.
 *
 * Building allocates; a lookup does not, and makes no system call. */
#ifndef RC_INDEX_H
#define RC_INDEX_H

#include <stddef.h>
#include <stdint.h>

#include "core/pattern.h"

typedef struct rc_index rc_index;

/* A new, empty index for at most NPATS patterns, or NULL (out of memory). */
rc_index *rc_index_new(size_t npats);

/* Add pattern P of breaker IDX (patterns of a breaker in any order;
 * breakers in any order).  Return 0, or -1 (more than NPATS). */
int rc_index_add(rc_index *ix, const rc_pattern *p, unsigned idx);

/* Build the tables: after it, only lookups.  Return 0, or -1 (out of
 * memory: the index is freed). */
int rc_index_seal(rc_index *ix);

void rc_index_free(rc_index *ix);

/* The lowest breaker index with an address pattern of FAMILY (AF_INET:
 * ADDR 4 bytes; AF_INET6: 16, already folded) covering ADDR and applying
 * to PORT (host order), or -1. */
int rc_index_addr(const rc_index *ix, int family, const uint8_t *addr, uint16_t port);

/* The lowest breaker index with a host-name pattern matching NAME
 * (case-insensitive, a trailing dot ignored) and applying to PORT, or to
 * any port when ANYPORT; or -1. */
int rc_index_name(const rc_index *ix, const char *name, uint16_t port, int anyport);

/* Nonzero if some address pattern applies to PORT. */
int rc_index_has_addr_port(const rc_index *ix, uint16_t port);

/* A sealed index as part of a config image (core/image.h): the bytes
 * it takes (a multiple of 8; 0 if IX is not sealed), and writing them at
 * DST, 8-aligned, with the pointers of a copy at address BASE.  Opening:
 * the index held in the N bytes at SRC, written for BASE, in place (only
 * read when SRC is BASE: it may be a read-only mapping; else its
 * pointers are moved), kept alive by the caller (rc_index_free leaves it
 * alone); or NULL if they do not hold one of N bytes. */
size_t rc_index_image_size(const rc_index *ix);
void rc_index_image_write(const rc_index *ix, void *dst, uintptr_t base);
rc_index *rc_index_image_open(void *src, size_t n, uintptr_t base);

/* Write at DST (8-aligned, room for the index struct) an index with no
 * pattern, that matches nothing and is never freed.  Async-signal-safe:
 * what stands in for an image that shrank under a process (engine/live.c). */
void rc_index_write_empty(void *dst);

/* Bytes the index holds (the bench's memory figure). */
size_t rc_index_bytes(const rc_index *ix);

#endif
