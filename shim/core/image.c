/* image.c - see image.h.
 *
 * The file: a header (below), the config's path and a NUL, padded to 8
 * bytes, then the block core/config.c writes and opens.  The header says
 * which build wrote it, which file it was compiled from, the block's size
 * and checksum, and the address its pointers are for.
 *
 * That address is the point of it.  Every process maps the file at the
 * same address (map_at(): one of 4,096 64 MiB places in a range nothing
 * else uses, chosen by the path's hash), read-only, where the block's
 * pointers are right as they are: the config is then pages of the page
 * cache, shared by every process that uses it, and none of it is copied
 * or written (a copy of a 4,096-breaker config is 190 fresh pages, which
 * cost more to fault in than all the rest of a start-up).  Where the
 * place is taken (a sanitizer's shadow, say), the file is read into
 * memory instead and its pointers moved (core/config.c).  Like
 * ld.so.cache, an image is replaced by a rename, never rewritten in
 * place: a process that has it mapped keeps the file it mapped. */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/magic.h>
#include <sys/mman.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include "core/hash.h"
#include "core/image.h"
#include "core/scratch.h"
#include "core/sys.h"

#ifndef RC_IMAGE_TAG
#error "RC_IMAGE_TAG: the Makefile's checksum of shim/core's sources"
#endif

#define MAGIC      "RCLSIMG\001"
#define BLOCK_MAX  (60u << 20)   /* a 4,096-breaker config's is under 1 MiB */
#define PLACE      (64ull << 20) /* where map_at() puts images: 4,096 of */
#define PLACES     0x3f0000000000ull /* these, in a range nothing maps */
#define FRESH_S    2             /* a ctime younger than this: no image */
#define ALIGN8(n)  (((n) + 7) & ~(size_t)7)

void (*rc_image_on_map)(void *base, size_t len);
void (*rc_image_on_unmap)(void *base);

struct head {
	char     magic[8];
	uint64_t tag;                /* RC_IMAGE_TAG of the build that wrote it */
	uint64_t sum;                /* sum64() of the block */
	uint64_t block;              /* the block's bytes */
	uint64_t dev, ino, size;     /* the config file's, as compiled */
	int64_t  mtime_s, mtime_ns, ctime_s, ctime_ns;
	uint64_t base;               /* where the block's pointers are for */
	int64_t  seal_s, seal_ns;    /* the image file's own mtime, as sealed */
	uint32_t uid, pathlen;       /* the path as given, after the header */
};

/* The seal.  The writer of an image sets the file's mtime, once it is
 * written, to a time made of the block's sum, in 1970: any write to the
 * file after that (the owner's, who may chmod it; root's, who need not)
 * makes its mtime the time of that write, so a reader that finds the seal
 * there knows the bytes are those that were summed and reads them only
 * as it uses them; one that does not (a write since, or a filesystem that
 * keeps coarser times) sums the whole block first.  A file on a disk is
 * also synced before it is renamed into place: after a crash there is a
 * whole image or none. */
static void seal_of(uint64_t sum, int64_t *s, int64_t *ns)
{
	*s = 1 + (int64_t)(sum & 0xffffff);
	*ns = (int64_t)((sum >> 32) % 1000000000u);
}

/* A checksum of N bytes at P (N a multiple of 8, P 8-aligned): four
 * lanes of a multiply-rotate, so that the whole block is read at memory
 * speed.  Not a defence against anyone who can write the file (they are
 * the owner): it catches a torn or damaged one. */
static uint64_t sum64(const void *p, size_t n)
{
	const uint64_t *w = p;
	const uint64_t k = 0x9e3779b97f4a7c15ull;
	uint64_t l[4] = { 1, 2, 3, 4 };
	size_t m = n / 8, i = 0;
	for (; i + 4 <= m; i += 4)
		for (int j = 0; j < 4; j++) {
			uint64_t x = (l[j] ^ w[i + j]) * k;
			l[j] = x ^ (x >> 31);
		}
	for (; i < m; i++)
		l[i & 3] = ((l[i & 3] ^ w[i]) * k) ^ (l[i & 3] >> 29);
	uint64_t h = n;
	for (int j = 0; j < 4; j++) {
		h = (h ^ l[j]) * k;
		h ^= h >> 32;
	}
	return h;
}

int rc_image_path(const char *path, char *out, size_t len)
{
	const char *dir = getenv("RECLOSER_CACHE_DIR");
	if (!dir || !*dir)
		dir = "/dev/shm";
	if (strcmp(dir, "off") == 0 || dir[0] != '/')
		return -1;
	uint64_t h = rc_fnv1a(RC_FNV_INIT, path, strlen(path));
	int n = snprintf(out, len, "%s/recloser-%u-%016llx.config", dir, (unsigned)getuid(),
			 (unsigned long long)h);
	return n > 0 && (size_t)n < len ? 0 : -1;
}

/* Where the image of PATH is mapped. */
static uintptr_t map_at(const char *path)
{
	uint64_t h = rc_fnv1a(RC_FNV_INIT, path, strlen(path));
	return (uintptr_t)(PLACES + (h >> 40 & 0xfff) * PLACE);
}

/* The bytes before the block: the header and the path. */
static size_t head_len(const char *path)
{
	return ALIGN8(sizeof(struct head) + strlen(path) + 1);
}

/* The header for the config at PATH whose file is ST, its block of N
 * bytes summing to SUM. */
static void fill_head(struct head *h, const char *path, const struct stat *st, size_t n,
		      uint64_t sum)
{
	memset(h, 0, sizeof *h);
	memcpy(h->magic, MAGIC, sizeof h->magic);
	h->tag = RC_IMAGE_TAG;
	h->sum = sum;
	h->block = n;
	h->dev = (uint64_t)st->st_dev;
	h->ino = (uint64_t)st->st_ino;
	h->size = (uint64_t)st->st_size;
	h->mtime_s = st->st_mtim.tv_sec;
	h->mtime_ns = st->st_mtim.tv_nsec;
	h->ctime_s = st->st_ctim.tv_sec;
	h->ctime_ns = st->st_ctim.tv_nsec;
	h->base = map_at(path) + head_len(path);
	seal_of(sum, &h->seal_s, &h->seal_ns);
	h->uid = (uint32_t)getuid();
	h->pathlen = (uint32_t)strlen(path);
}

/* Read exactly N bytes; 0, or -1 (an error, or the file ended). */
static int read_all(int fd, void *buf, size_t n)
{
	for (size_t got = 0; got < n;) {
		ssize_t r = rc_sys_read(fd, (char *)buf + got, n - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		got += (size_t)r;
	}
	return 0;
}

static int write_all(int fd, const void *buf, size_t n)
{
	for (size_t put = 0; put < n;) {
		ssize_t r = rc_sys_write(fd, (const char *)buf + put, n - put);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		put += (size_t)r;
	}
	return 0;
}

void rc_image_unmap(void *base, size_t len)
{
	if (rc_image_on_unmap)
		rc_image_on_unmap(base);
	munmap(base, len);
}

static void free_bytes(void *p, size_t len)
{
	(void)len;
	free(p);
}

/* Nonzero in a program built with ThreadSanitizer or MemorySanitizer:
 * their runtimes keep most of the address space for their shadow, and
 * kill the program at a mapping asked for outside what they leave it. */
static int shadowed(void)
{
	static int known = -1;
	int k = __atomic_load_n(&known, __ATOMIC_RELAXED);
	if (k < 0) {
		k = dlsym(RTLD_DEFAULT, "__tsan_init") || dlsym(RTLD_DEFAULT, "__msan_init");
		__atomic_store_n(&known, k, __ATOMIC_RELAXED);
	}
	return k;
}

/* The N bytes of the image FD: mapped read-only at map_at(PATH) (*MAPPED
 * set), else read into malloc'd memory; NULL if neither. */
static char *get_bytes(int fd, const char *path, size_t n, int *mapped)
{
	uintptr_t at = map_at(path);
	/* (MAP_POPULATE measured no faster: the checksum faults the pages
	 * in, 16 to a fault) */
	void *m = shadowed() ? MAP_FAILED
		: mmap((void *)at, n, PROT_READ, MAP_PRIVATE | MAP_FIXED_NOREPLACE, fd, 0);
	*mapped = 0;
	if (m != MAP_FAILED && (uintptr_t)m == at) {
		*mapped = 1;
		if (rc_image_on_map)
			rc_image_on_map(m, n);
		return m;
	}
	if (m != MAP_FAILED) /* a kernel without MAP_FIXED_NOREPLACE: a hint */
		munmap(m, n);
	char *buf = malloc(n);
	if (buf && read_all(fd, buf, n) < 0) {
		free(buf);
		buf = NULL;
	}
	return buf;
}

/* The config in the image FD (stat IS) of PATH, if it holds for the
 * config file ST; else NULL (*WHY: a reason worth a line, or NULL). */
static rc_config *open_image(int fd, const struct stat *is, const char *path,
			     const struct stat *st, const char **why)
{
	size_t hlen = head_len(path), n = (size_t)is->st_size;
	struct head h, want;
	int mapped;
	if (n < hlen + sizeof(rc_config) || n - hlen > BLOCK_MAX || (n - hlen) % 8)
		return NULL;
	char *bytes = get_bytes(fd, path, n, &mapped);
	if (!bytes)
		return NULL;
	rc_config *c = NULL;
	memcpy(&h, bytes, sizeof h);
	fill_head(&want, path, st, n - hlen, h.sum);
	want.base = h.base; /* checked below: at it, or moved */
	/* another build's, or of the file as it was before an edit: just not
	 * this one's (no log line) */
	if (memcmp(&h, &want, sizeof h) != 0 || memcmp(bytes + sizeof h, path, h.pathlen + 1))
		goto out;
	int sealed = is->st_mtim.tv_sec == h.seal_s && is->st_mtim.tv_nsec == h.seal_ns;
	if (!sealed && sum64(bytes + hlen, n - hlen) != h.sum) {
		*why = "checksum mismatch";
		goto out;
	}
	if (mapped && (uintptr_t)bytes + hlen != h.base) {
		/* made for another address: a copy, whose pointers can move */
		rc_image_unmap(bytes, n);
		if (!(bytes = malloc(n)) || lseek(fd, 0, SEEK_SET) != 0 || read_all(fd, bytes, n)) {
			mapped = 0;
			goto out;
		}
		mapped = 0;
	}
	if (!(c = rc_config_image_open(bytes + hlen, n - hlen, h.base, sealed))) {
		*why = "malformed block";
		goto out;
	}
	c->image = bytes;
	c->image_len = n;
	c->image_own = mapped ? RC_IMAGE_MAPPED : RC_IMAGE_MALLOC;
	c->image_free = mapped ? rc_image_unmap : free_bytes;
	return c;
out:
	if (mapped)
		rc_image_unmap(bytes, n);
	else
		free(bytes);
	return NULL;
}

rc_config *rc_image_read(const char *path, const struct stat *st, const char **why)
{
	int saved = errno;
	const char *reason = NULL;
	char name[4096];
	rc_config *c = NULL;
	if (strlen(path) < 4096 && rc_image_path(path, name, sizeof name) == 0) {
		int fd = rc_sys_open(name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK |
				     O_NOCTTY);
		struct stat is;
		if (fd >= 0 && fstat(fd, &is) == 0 && S_ISREG(is.st_mode) &&
		    is.st_uid == getuid() && !(is.st_mode & 022))
			c = open_image(fd, &is, path, st, &reason);
		if (fd >= 0)
			rc_sys_close(fd);
	}
	if (why)
		*why = reason;
	errno = saved;
	return c;
}

int rc_image_write(const rc_config *c, const char *path, const struct stat *st,
		   long long now_s)
{
	int saved = errno, r = -1;
	char name[4096], tmp[4200];
	size_t n = rc_config_image_size(c), plen = strlen(path), hlen = head_len(path);
	if (!n || n > BLOCK_MAX || plen >= 4096 || st->st_ctim.tv_sec + FRESH_S > now_s ||
	    rc_image_path(path, name, sizeof name) < 0)
		return -1;
	snprintf(tmp, sizeof tmp, "%s.%u.tmp", name, (unsigned)getpid());
	char *buf = rc_scratch_alloc(hlen + n); /* zeroed: the padding too */
	if (!buf)
		return -1;
	if (rc_config_image_write(c, buf + hlen, n, map_at(path) + hlen) == 0) {
		struct head h;
		fill_head(&h, path, st, n, sum64(buf + hlen, n));
		memcpy(buf, &h, sizeof h);
		memcpy(buf + sizeof h, path, plen);
		/* read-only: an image is replaced (renamed over), never written */
		int fd = rc_sys_open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
				     0400);
		if (fd >= 0) {
			int ok = write_all(fd, buf, hlen + n) == 0;
			/* the seal fill_head put in the header */
			struct timespec ts[2] = { { 0, UTIME_OMIT },
						  { (time_t)h.seal_s, (long)h.seal_ns } };
			struct statfs fs;
			ok = ok && futimens(fd, ts) == 0;
			if (ok && (fstatfs(fd, &fs) != 0 || (fs.f_type != TMPFS_MAGIC &&
							     fs.f_type != RAMFS_MAGIC)))
				ok = fsync(fd) == 0;
			ok = rc_sys_close(fd) == 0 && ok;
			if (ok && rename(tmp, name) == 0)
				r = 0;
			else
				unlink(tmp);
		}
	}
	rc_scratch_free(buf, hlen + n);
	errno = saved;
	return r;
}
