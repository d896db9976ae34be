/* image.h - a config compiled into a file, so that a process starts
 * without parsing its config.
 *
 * Parsing and checking a 4,096-breaker file takes milliseconds; reading
 * it back as one block takes a tenth of that.  The first process to load
 * a config writes its image (core/config.h's block: breakers, strings,
 * index), and every later one whose config file is still the same file,
 * unchanged, reads that instead.  The file is
 *     DIR/recloser-UID-HASH.config
 * where DIR is $RECLOSER_CACHE_DIR (default /dev/shm; "off": no image is
 * read or written) and HASH is of the config's path as given.
 *
 * An image is used only when all of these hold, else the config is
 * parsed (and the image written anew):
 *  - it is a regular file owned by the real uid, writable by no one else;
 *  - it was written by this very build (a tag of the sources of core/);
 *  - it is of the config at this path: the path as given, and the
 *    file's device, inode, size, mtime and ctime as stat(2) gives them;
 *  - its checksum is right and every pointer in it falls inside it (the
 *    block is summed only when the image's mtime is not the seal its
 *    writer set: written to since; see image.c).
 * An image is written only when the config file's ctime is two seconds
 * old or more when it is read: a change within one timestamp tick of the
 * reading could not be told apart by the file's times (git's "racily
 * clean" problem).  It is written to a temporary name, then renamed, so
 * that a reader sees a whole image or none.
 *
 * Nothing here prints; errno is left as it was. */
#ifndef RC_IMAGE_H
#define RC_IMAGE_H

#include <stddef.h>
#include <sys/stat.h>

#include "core/config.h"

/* Set by the shim (engine/live.c), else NULL: told of each image mapped
 * (at BASE, LEN bytes) as soon as it is, and of it before it is unmapped,
 * so that a SIGBUS on it (the file truncated under the process, even
 * while it is being checked) is survived. */
extern void (*rc_image_on_map)(void *base, size_t len);
extern void (*rc_image_on_unmap)(void *base);

/* Unmap an image mapped at BASE (LEN bytes), telling rc_image_on_unmap. */
void rc_image_unmap(void *base, size_t len);

/* Where PATH's image is (DIR from the environment), into OUT; 0, or -1
 * when images are off or the name does not fit. */
int rc_image_path(const char *path, char *out, size_t len);

/* The config at PATH from its image, if there is one that holds (see
 * above) for ST, the file's stat(2) now; else NULL, and *WHY (if not
 * NULL) says why: NULL when there simply is none to use (none yet, off,
 * of another build, or of the file before an edit), else a reason worth
 * a log line (a corrupt image). */
rc_config *rc_image_read(const char *path, const struct stat *st, const char **why);

/* Write C, loaded from PATH whose stat(2) just before it was read is ST,
 * as PATH's image (not when ST's ctime is under two seconds before
 * NOW_S, the wall clock's seconds).  Return 0 if written, else -1. */
int rc_image_write(const rc_config *c, const char *path, const struct stat *st,
		   long long now_s);

#endif
