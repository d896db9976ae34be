/* fuzz.h - what the libFuzzer harnesses of tests/fuzz/ share.
 *
 * Each harness is one file with LLVMFuzzerTestOneInput, built by the
 * Makefile's fuzz block (clang -fsanitize=fuzzer,address,undefined) into
 * build/fuzz/NAME and run by scripts/fuzz.sh.  A broken contract is a
 * crash: FUZZ_CHECK prints what was expected and aborts, so libFuzzer
 * keeps the input as a crash artifact like any sanitizer report.
 *
 * Files a harness makes go in one private directory per process, under
 * $TMPDIR (else /tmp), removed at exit. */
#ifndef RC_FUZZ_H
#define RC_FUZZ_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Where FUZZ_CHECK writes (stderr unless a harness says otherwise). */
static FILE *fuzz_err;

#define FUZZ_CHECK(cond, ...)                                                     \
	do {                                                                      \
		if (!(cond)) {                                                    \
			FILE *o_ = fuzz_err ? fuzz_err : stderr;                  \
			fprintf(o_, "\n%s:%d: contract broken: %s\n", __FILE__,   \
				__LINE__, #cond);                                 \
			fprintf(o_, "  " __VA_ARGS__);                            \
			fprintf(o_, "\n");                                        \
			fflush(o_);                                               \
			abort();                                                  \
		}                                                                 \
	} while (0)

static char fuzz_dir[4096];

/* Remove every entry of DIR (one level: the harnesses make no subdirectory
 * there, except the CLI's sandbox, which has none either). */
static inline void fuzz_empty_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d))) {
		char p[8192];

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
		if (unlink(p) < 0 && errno == EISDIR) {
			fuzz_empty_dir(p);
			rmdir(p);
		}
	}
	closedir(d);
}

static inline void fuzz_rm_dir(void)
{
	if (fuzz_dir[0]) {
		fuzz_empty_dir(fuzz_dir);
		rmdir(fuzz_dir);
	}
}

/* Make the private directory (once) and return it. */
static inline const char *fuzz_tmpdir(void)
{
	if (!fuzz_dir[0]) {
		const char *t = getenv("TMPDIR");

		snprintf(fuzz_dir, sizeof fuzz_dir, "%s/recloser-fuzz-XXXXXX",
			 t && *t ? t : "/tmp");
		if (!mkdtemp(fuzz_dir)) {
			perror("recloser fuzz: mkdtemp");
			abort();
		}
		atexit(fuzz_rm_dir);
	}
	return fuzz_dir;
}

/* PATH (static storage, one of 4) of file NAME in the private directory. */
static inline const char *fuzz_path(const char *name)
{
	static char buf[4][8192];
	static unsigned k;
	char *p = buf[k++ & 3];

	snprintf(p, sizeof buf[0], "%s/%s", fuzz_tmpdir(), name);
	return p;
}

/* Replace PATH by the N bytes at P.  Aborts on an I/O error: that is the
 * harness's environment failing, not the code under test. */
static inline void fuzz_write_file(const char *path, const void *p, size_t n)
{
	int fd;

	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		perror(path);
		abort();
	}
	for (size_t off = 0; off < n;) {
		ssize_t w = write(fd, (const char *)p + off, n - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			perror(path);
			abort();
		}
		off += (size_t)w;
	}
	close(fd);
}

/* The number of fds open in this process. */
static inline int fuzz_nfds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n - 1; /* the DIR's own */
}

/* All of PATH into *P (malloc'd) and *N; return 0, else -1. */
static inline int fuzz_read_file(const char *path, unsigned char **p, size_t *n)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	size_t off = 0;

	*p = NULL;
	*n = 0;
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0) {
		close(fd);
		return -1;
	}
	*p = malloc((size_t)st.st_size + 1);
	if (!*p) {
		close(fd);
		return -1;
	}
	while (off < (size_t)st.st_size) {
		ssize_t r = read(fd, *p + off, (size_t)st.st_size - off);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		off += (size_t)r;
	}
	close(fd);
	*n = off;
	return 0;
}

#endif
