/* image_test.c - a config's image file (core/image.h): written, read back
 * equal to the parsed config, mapped in place where it can be and copied
 * where it cannot, and refused (the config parsed instead) whenever it is
 * not exactly this config's: stale, fresh, damaged, truncated, another
 * build's, another owner's, writable by others, a symlink, or off. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/config.h"
#include "core/image.h"
#include "core/match.h"
#include "tap.h"

static char dir[256], cfgpath[300], img[4096];

static const char *text =
	"[global]\n"
	"log_file = /tmp/image-test-<uid>.log\n"
	"log_level = debug\n"
	"state_file = /tmp/image-test-<uid>.state\n"
	"reload = 3s\n"
	"failure_threshold = 7\n"
	"\n"
	"[db]\n"
	"match = 10.1.2.3:5432, db.internal, *.db.internal:5433\n"
	"failure_rate = 25\n"
	"minimum_calls = 4\n"
	"window = 20s\n"
	"slow_call = 300ms\n"
	"connect_timeout = 1500ms\n"
	"response_timeout = 2s\n"
	"open_duration = 3s\n"
	"open_duration_max = 1m\n"
	"half_open_probes = 3\n"
	"success_threshold = 4\n"
	"http_failure_status = 502-504, 429\n"
	"reject_errno = ETIMEDOUT\n"
	"cut_idle = no\n"
	"max_concurrent = 9\n"
	"max_wait = 250ms\n"
	"max_connections = 11\n"
	"\n"
	"[api]\n"
	"match = [2001:db8::/32], api.test:443\n"
	"mode = observe\n"
	"http_failure_status = 500-599\n"
	"\n"
	"[off-one]\n"
	"match = 192.0.2.0/24\n"
	"mode = off\n";

static void write_text(const char *path, const char *t)
{
	FILE *f = fopen(path, "w");
	fputs(t, f);
	fclose(f);
}

/* A and B hold the same config: every key, name and set. */
static int same_config(const rc_config *a, const rc_config *b)
{
	if (a->nbreakers != b->nbreakers || strcmp(a->path, b->path) ||
	    strcmp(a->log_file, b->log_file) || strcmp(a->state_file, b->state_file) ||
	    a->log_level != b->log_level || a->reload != b->reload)
		return 0;
	for (unsigned i = 0; i < a->nbreakers; i++) {
		rc_breaker_cfg x = a->breakers[i], y = b->breakers[i];
		if (strcmp(x.name, y.name) ||
		    !x.http_failure_status != !y.http_failure_status ||
		    (x.http_failure_status &&
		     memcmp(x.http_failure_status, y.http_failure_status, sizeof(rc_statusset))))
			return 0;
		x.name = y.name = NULL;
		x.http_failure_status = y.http_failure_status = NULL;
		if (memcmp(&x, &y, sizeof x))
			return 0;
	}
	return 1;
}

/* The answers of C and P (the parsed config) to a few destinations. */
static int same_matches(const rc_config *c, const rc_config *p)
{
	const char *hosts[] = { "db.internal", "x.db.internal", "api.test", "nope.test" };
	const char *v4[] = { "10.1.2.3", "192.0.2.77", "10.1.2.4" };
	unsigned ports[] = { 0, 443, 5432, 5433 };
	for (unsigned k = 0; k < 4; k++) {
		for (unsigned h = 0; h < 4; h++)
			if (rc_match_host(c, hosts[h], (uint16_t)ports[k]) !=
			    rc_match_host(p, hosts[h], (uint16_t)ports[k]))
				return 0;
		for (unsigned v = 0; v < 3; v++) {
			uint8_t a[16];
			inet_pton(AF_INET, v4[v], a);
			if (rc_match(c, AF_INET, a, (uint16_t)ports[k], NULL, 0) !=
			    rc_match(p, AF_INET, a, (uint16_t)ports[k], NULL, 0))
				return 0;
		}
		uint8_t a6[16];
		inet_pton(AF_INET6, "2001:db8::1", a6);
		if (rc_match(c, AF_INET6, a6, (uint16_t)ports[k], NULL, 0) !=
		    rc_match(p, AF_INET6, a6, (uint16_t)ports[k], NULL, 0))
			return 0;
	}
	return 1;
}

static rc_config *parsed(void)
{
	char err[1024];
	rc_config *p = rc_config_load(cfgpath, err, sizeof err);
	if (!p)
		printf("# %s\n", err);
	rc_config_drop_patterns(p);
	return p;
}

/* Write the image of the config at CFGPATH as a process would, the file
 * being AGE seconds old then.  Return rc_image_write's answer. */
static int write_image(int age)
{
	struct stat st;
	stat(cfgpath, &st);
	rc_config *p = parsed();
	int r = rc_image_write(p, cfgpath, &st, st.st_ctim.tv_sec + age);
	rc_config_free(p);
	return r;
}

/* Read the image for the config file as it is now; *WHY as given. */
static rc_config *read_image(const char **why)
{
	struct stat st;
	stat(cfgpath, &st);
	return rc_image_read(cfgpath, &st, why);
}

/* Flip the byte at OFF (from the end when negative) of the image. */
static void damage(long off)
{
	int fd = open(img, O_RDWR);
	struct stat st;
	unsigned char b;
	fstat(fd, &st);
	if (off < 0)
		off += st.st_size;
	pread(fd, &b, 1, off);
	b ^= 0x40;
	pwrite(fd, &b, 1, off);
	close(fd);
}

/* Nonzero if the image is used (the config read from it is freed). */
static int used(void)
{
	const char *why;
	rc_config *c = read_image(&why);
	rc_config_free(c);
	return c != NULL;
}

static int exists(const char *p)
{
	struct stat st;
	return lstat(p, &st) == 0;
}

int main(void)
{
	const char *why = "unset";
	snprintf(dir, sizeof dir, "/tmp/image-test.%d", (int)getpid());
	mkdir(dir, 0700);
	setenv("RECLOSER_CACHE_DIR", dir, 1);
	snprintf(cfgpath, sizeof cfgpath, "%s/recloser.ini", dir);
	write_text(cfgpath, text);
	ok(rc_image_path(cfgpath, img, sizeof img) == 0 && strncmp(img, dir, strlen(dir)) == 0,
	   "the image's path is in RECLOSER_CACHE_DIR: %s", img);

	/* written only for a file whose ctime is 2 s old or more */
	is_int(write_image(1), -1, "a config changed 1 s ago: no image written");
	ok(!exists(img), "...and no file");
	is_int(write_image(2), 0, "a config changed 2 s ago: its image is written");
	struct stat is;
	ok(stat(img, &is) == 0 && (is.st_mode & 0777) == 0400 && is.st_uid == getuid(),
	   "...mode 0400, ours");

	rc_config *p = parsed();
	rc_config *c = read_image(&why);
	ok(c != NULL && why == NULL, "the image is read back");
	ok(c && same_config(c, p), "...every key of [global] and of the 3 breakers as parsed");
	ok(c && same_matches(c, p), "...and its index answers as the parsed config's");
#ifdef __SANITIZE_THREAD__
	ok(c && c->image_own != 0, "...mapped or copied (TSan keeps the place for its shadow)");
#else
	ok(c && c->image_own == RC_IMAGE_MAPPED, "...mapped in place, read-only (nothing copied)");
#endif
	rc_config_free(c);

	/* where the place is taken: read into memory and moved (under TSan,
	 * always so: its mmap keeps the place for its shadow) */
#ifndef __SANITIZE_THREAD__
	{
		size_t span = 4096ull * (64ull << 20);
		void *r = mmap((void *)0x3f0000000000ull, span, PROT_NONE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0);
		c = read_image(&why);
		ok(c && c->image_own == RC_IMAGE_MALLOC, "the image's place taken: read into memory");
		ok(c && same_config(c, p) && same_matches(c, p), "...its pointers moved: the same config");
		rc_config_free(c);
		if (r != MAP_FAILED)
			munmap(r, span);
	}
#endif

	/* sealed: its writer set its mtime to one made of its sum, in 1970 */
	ok(stat(img, &is) == 0 && is.st_mtim.tv_sec > 0 && is.st_mtim.tv_sec < 0x1000001,
	   "the image is sealed: its mtime is in 1970 (%lld)", (long long)is.st_mtim.tv_sec);
	/* what the seal trades: a byte changed under a seal put back (by
	 * hand) is not seen, the block is not summed */
	damage(-100);
	struct timespec back[2] = { { 0, UTIME_OMIT }, is.st_mtim };
	utimensat(AT_FDCWD, img, back, 0);
	c = read_image(&why);
	ok(c != NULL, "a byte of the block changed, the seal put back: used, not summed (%s)",
	   why ? why : "no reason");
	rc_config_free(c);
	damage(-100); /* the byte as it was */
	ok(stat(img, &is) == 0 && is.st_mtim.tv_sec > 0x1000001, "a write to the image unseals it");
	ok(used(), "...an unsealed image whose sum is right: used");
	/* damaged: the block's sum, or the header */
	damage(-100);
	c = read_image(&why);
	ok(!c && why && strcmp(why, "checksum mismatch") == 0,
	   "a byte of the block changed: the block summed, refused (%s)", why ? why : "no reason");
	write_image(5);
	damage(8); /* the tag: another build's */
	c = read_image(&why);
	ok(!c && !why, "another build's image: not used, without a word");
	write_image(5);
	truncate(img, 4096);
	c = read_image(&why);
	ok(!c && !why, "a truncated image: not used");
	write_image(5);
	ok(used(), "written again: used again");

	/* not this config's */
	write_text(cfgpath, "[other]\nmatch = 10.9.9.9\n");
	c = read_image(&why);
	ok(!c && !why, "the config edited: its old image is not used");
	write_text(cfgpath, text);
	write_image(5);

	/* owner, mode, symlink */
	chmod(img, 0420);
	ok(!used(), "an image others may write to: not used");
	chmod(img, 0400);
	if (getuid() == 0) {
		chown(img, 65534, 65534);
		ok(!used(), "an image of another owner: not used");
		chown(img, 0, 0);
	} else {
		ok(1, "# SKIP another owner's image (needs root)");
	}
	char moved[4200];
	snprintf(moved, sizeof moved, "%s.real", img);
	rename(img, moved);
	symlink(moved, img);
	ok(!used(), "a symlink at the image's path: not followed");
	unlink(img);
	rename(moved, img);
	ok(used(), "the file itself again: used");

	/* the pointer checks, on a block in memory whose breaker 1's name
	 * points outside it */
	{
		size_t n = rc_config_image_size(p);
		uint64_t *w = calloc(1, 2 * n + 64), *w2 = calloc(1, n + 64);
		char *a = (char *)w, *a2 = (char *)w2;
		int wrote = a && a2 && rc_config_image_write(p, a, n, (uintptr_t)a) == 0;
		const rc_config *g = (const rc_config *)(const void *)a;
		rc_breaker_cfg *b = wrote ? (rc_breaker_cfg *)(void *)(a + ((uintptr_t)g->breakers -
									    (uintptr_t)a)) : NULL;
		if (b)
			b[1].name = a + n + 8;
		if (b)
			memcpy(a2, a, n);
		c = b ? rc_config_image_open(a, n, (uintptr_t)a, 0) : NULL;
		ok(b && !c, "a breaker's name outside the block: refused");
		rc_config_free(c);
		c = b ? rc_config_image_open(a, n, (uintptr_t)a, 1) : NULL;
		ok(c != NULL, "...sealed, in place: taken, its breakers not read until used");
		rc_config_free(c);
		c = b ? rc_config_image_open(a2, n, (uintptr_t)a, 1) : NULL;
		ok(b && !c, "...sealed but moved (its pointers moved one by one): refused");
		rc_config_free(c);
		free(w);
		free(w2);
	}

	/* off */
	setenv("RECLOSER_CACHE_DIR", "off", 1);
	ok(rc_image_path(cfgpath, img, sizeof img) < 0 && !used() && write_image(5) < 0,
	   "RECLOSER_CACHE_DIR=off: no image read or written");
	setenv("RECLOSER_CACHE_DIR", "relative/dir", 1);
	ok(rc_image_path(cfgpath, img, sizeof img) < 0, "a relative RECLOSER_CACHE_DIR: off");

	rc_config_free(p);
	setenv("RECLOSER_CACHE_DIR", dir, 1);
	rc_image_path(cfgpath, img, sizeof img);
	unlink(img);
	unlink(cfgpath);
	rmdir(dir);
	return done_testing();
}
