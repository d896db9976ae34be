/* shm.c - the shared state file (see shm.h).
 *
 * Decisions the header leaves open, made here:
 *  - A state file from another boot: every slot is reset (rc_breaker_reboot).
 *    The header's boot_hash (taken from reserved space) makes that reset
 *    happen once, by whichever process wins a CAS on it.
 *  - A half-finished claim (of the header or a slot) by a dead process is
 *    taken over; one by a live process is waited for, 200 ms at most. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/alive.h"
#include "core/breaker.h"
#include "core/clock.h"
#include "core/hash.h"
#include "core/shm.h"
#include "core/sys.h"

_Static_assert(sizeof(rc_slot) == 576, "rc_slot layout changed: bump RC_SHM_VERSION");
_Static_assert(sizeof(rc_shm_header) == 144, "header layout changed: bump RC_SHM_VERSION");

static int name_ok(const char *name, size_t max)
{
	size_t i;
	for (i = 0; i < max && name[i]; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-'))
			return 0;
	}
	return i > 0 && i < max && i < RC_NAME_MAX;
}

/* ---- the state file ---- */

size_t rc_shm_file_size(void)
{
	return sizeof(rc_shm_header) + (size_t)RC_MAX_BREAKERS * sizeof(rc_slot);
}

static int refuse(char *err, size_t errlen, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int refuse(char *err, size_t errlen, const char *path, const char *fmt, ...)
{
	if (err && errlen) {
		int n = snprintf(err, errlen, "state file %s: ", path);
		if (n >= 0 && (size_t)n < errlen) {
			va_list ap;
			va_start(ap, fmt);
			vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
			va_end(ap);
		}
	}
	return -1;
}

/* Read this boot's id into BUF (NUL-terminated, no newline).  Return 0 or -1. */
static int read_boot_id(char buf[40])
{
	int fd = rc_sys_open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);
	ssize_t n;
	if (fd < 0)
		return -1;
	n = rc_sys_read(fd, buf, 39);
	rc_sys_close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = 0;
	return n > 0 ? 0 : -1;
}

static uint64_t boot_hash(const char *id)
{
	uint64_t h = rc_fnv1a(RC_FNV_INIT, id, strlen(id));
	return h ? h : 1;
}

/* Nonzero if the mapping holds only zeros, init_word apart. */
static int zero_but_init(const void *map, size_t size)
{
	const uint64_t *p = map;
	size_t skip = offsetof(rc_shm_header, init_word) / 8;
	for (size_t i = 0; i < size / 8; i++)
		if (i != skip && p[i])
			return 0;
	return 1;
}

/* Nonzero if an abandoned initialisation left only what hdr_init writes. */
static int abandoned_ok(const rc_shm_header *h, const void *map, size_t size)
{
	const uint64_t *p = (const uint64_t *)((const char *)map + sizeof *h);
	uint64_t m = rc_ld(&h->magic);
	if (m && m != RC_SHM_MAGIC)
		return 0;
	for (size_t i = 0; i < (size - sizeof *h) / 8; i++)
		if (p[i])
			return 0;
	return 1;
}

static void hdr_init(rc_shm_header *h, const char *boot)
{
	h->version = RC_SHM_VERSION;
	h->header_size = sizeof(rc_shm_header);
	h->slot_size = sizeof(rc_slot);
	h->nslots = RC_MAX_BREAKERS;
	memset(h->boot_id, 0, sizeof h->boot_id);
	if (boot[0])
		memcpy(h->boot_id, boot, strlen(boot));
	h->created_ms = rc_now_ms();
	rc_st(&h->boot_hash, boot[0] ? boot_hash(boot) : 0);
	rc_st(&h->magic, RC_SHM_MAGIC);   /* last: the header is complete */
	rc_st(&h->init_word, 2);
}

/* Take the header at MAP through the init_word protocol until it is
 * initialised (by us or another process).  Return 0, or -1 with ERR set. */
static int init_header(void *map, size_t size, const char *boot,
		       const char *path, char *err, size_t errlen)
{
	rc_shm_header *h = map;
	uint64_t mine = ((uint64_t)getpid() << 2) | 1, deadline = 0;

	for (;;) {
		uint64_t iw = rc_ld(&h->init_word), orig = iw;
		if (iw == 2)
			return 0;
		if (iw == 0) {
			if (!rc_cas(&h->init_word, &iw, mine))
				continue;
			if (!zero_but_init(map, size)) {
				uint64_t m = rc_ld(&h->magic), me = mine;
				rc_cas(&h->init_word, &me, 0);
				if (m != RC_SHM_MAGIC)
					return refuse(err, errlen, path,
						      "not a recloser state file (bad magic)");
				return refuse(err, errlen, path,
					      "corrupt header (init_word 0)");
			}
			hdr_init(h, boot);
			return 0;
		}
		if ((iw & 3) != 1 || (iw >> 2) == 0 || (iw >> 2) > INT_MAX) {
			if (rc_ld(&h->magic) != RC_SHM_MAGIC)
				return refuse(err, errlen, path,
					      "not a recloser state file (bad magic)");
			return refuse(err, errlen, path,
				      "corrupt header (init_word %#llx)",
				      (unsigned long long)iw);
		}
		if (rc_pid_dead(iw >> 2)) {
			if (!rc_cas(&h->init_word, &iw, mine))
				continue;
			if (!abandoned_ok(h, map, size)) {
				uint64_t me = mine;
				rc_cas(&h->init_word, &me, orig);
				return refuse(err, errlen, path,
					      "corrupt header (abandoned by pid %llu)",
					      (unsigned long long)(orig >> 2));
			}
			hdr_init(h, boot);
			return 0;
		}
		if (!deadline) {
			deadline = rc_now_ms() + 200;
		} else if (rc_now_ms() >= deadline) {
			return refuse(err, errlen, path,
				      "still being initialised by pid %llu after 200 ms",
				      (unsigned long long)(iw >> 2));
		}
		rc_sleep_ms(1);
	}
}

/* Light checks of every slot: a corrupt file is refused, not trusted. */
static int check_slots(rc_slot *slots, const char *path, char *err, size_t errlen)
{
	for (unsigned i = 0; i < RC_MAX_BREAKERS; i++) {
		rc_slot *s = &slots[i];
		uint64_t nw = rc_ld(&s->name_word);
		if (!rc_breaker_valid(s))
			return refuse(err, errlen, path, "corrupt slot %u (state %u)", i,
				      rc_breaker_state(s));
		if (nw == 0) {
			/* a claim may land between the two loads: look again */
			if (s->name[0] && rc_ld(&s->name_word) == 0)
				return refuse(err, errlen, path,
					      "corrupt slot %u (empty, with a name)", i);
			continue;
		}
		if (nw == 2) {
			if (!name_ok(s->name, RC_NAME_MAX))
				return refuse(err, errlen, path,
					      "corrupt slot %u (bad name)", i);
			for (unsigned j = 0; j < i; j++)
				if (rc_ld(&slots[j].name_word) == 2 &&
				    strncmp(slots[j].name, s->name, RC_NAME_MAX) == 0)
					return refuse(err, errlen, path,
						      "corrupt slot %u (duplicate of slot %u)",
						      i, j);
			continue;
		}
		if ((nw & 3) == 1 && (nw >> 2) > 0 && (nw >> 2) <= INT_MAX)
			continue; /* being claimed */
		return refuse(err, errlen, path, "corrupt slot %u (name_word %#llx)",
			      i, (unsigned long long)nw);
	}
	return 0;
}

/* The file was made in another boot: its times mean nothing now. */
static void reset_for_boot(rc_shm *shm, uint64_t now)
{
	for (unsigned i = 0; i < RC_MAX_BREAKERS; i++)
		rc_breaker_reboot(&shm->slots[i], now);
}

static int shm_open_(const char *path, rc_shm *shm, char *err, size_t errlen)
{
	size_t want = rc_shm_file_size();
	struct stat sb;
	char boot[40] = "";
	void *map;
	int fd = -1, created = 0;

	memset(shm, 0, sizeof *shm);
	if (err && errlen)
		err[0] = 0;
	if (!path || !path[0])
		return refuse(err, errlen, "''", "no path");
	for (int tries = 0;; tries++) {
		fd = rc_sys_open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd >= 0) {
			created = 1;
			break;
		}
		if (errno != EEXIST)
			return refuse(err, errlen, path, "cannot create: %s",
				      strerror(errno));
		/* O_NONBLOCK, O_NOCTTY: a FIFO or a device put there must
		 * not block or adopt us; fstat refuses them next. */
		fd = rc_sys_open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
		if (fd >= 0)
			break;
		if (errno == ELOOP)
			return refuse(err, errlen, path, "is a symbolic link");
		if (errno != ENOENT || tries >= 4) /* ENOENT: removed meanwhile */
			return refuse(err, errlen, path, "cannot open: %s",
				      strerror(errno));
	}
	if (fstat(fd, &sb) < 0) {
		int e = errno;
		rc_sys_close(fd);
		return refuse(err, errlen, path, "cannot stat: %s", strerror(e));
	}
	if (!S_ISREG(sb.st_mode)) {
		rc_sys_close(fd);
		return refuse(err, errlen, path, "not a regular file");
	}
	if (sb.st_uid != getuid()) {
		rc_sys_close(fd);
		return refuse(err, errlen, path, "owned by uid %u, not %u",
			      (unsigned)sb.st_uid, (unsigned)getuid());
	}
	if (created && (sb.st_mode & 07777) != 0600) /* a umask took bits */
		fchmod(fd, 0600);
	else if (sb.st_mode & (S_IWGRP | S_IWOTH)) {
		rc_sys_close(fd);
		return refuse(err, errlen, path,
			      "writable by group or others (mode %04o)",
			      (unsigned)(sb.st_mode & 07777));
	}
	if (sb.st_size != 0 && (uint64_t)sb.st_size != want) {
		uint64_t head[2] = { 0, 0 };
		ssize_t n = pread(fd, head, sizeof head, 0);
		rc_sys_close(fd);
		if (n == (ssize_t)sizeof head && head[0] == RC_SHM_MAGIC &&
		    (uint32_t)head[1] != RC_SHM_VERSION)
			return refuse(err, errlen, path, "version %u, expected %u",
				      (unsigned)(uint32_t)head[1], RC_SHM_VERSION);
		if (n == (ssize_t)sizeof head && head[0] != RC_SHM_MAGIC && head[0])
			return refuse(err, errlen, path,
				      "not a recloser state file (bad magic)");
		return refuse(err, errlen, path, "size %lld, expected %zu",
			      (long long)sb.st_size, want);
	}
	if (sb.st_size == 0 && ftruncate(fd, (off_t)want) < 0) {
		int e = errno;
		rc_sys_close(fd);
		return refuse(err, errlen, path, "cannot size: %s", strerror(e));
	}
	/* Reserve the blocks of a file we sized: a write to a hole on a full
	 * tmpfs would be a SIGBUS in the host program.  No emulation where
	 * unsupported.  A file of the right size is only read until it has
	 * been validated: a foreign file is never modified, not even its mtime. */
	if (sb.st_size == 0 && fallocate(fd, 0, 0, (off_t)want) < 0 && errno != EOPNOTSUPP &&
	    errno != ENOSYS) {
		int e = errno;
		rc_sys_close(fd);
		return refuse(err, errlen, path, "cannot allocate: %s", strerror(e));
	}
	map = mmap(NULL, want, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	int map_errno = errno;
	rc_sys_close(fd);
	if (map == MAP_FAILED)
		return refuse(err, errlen, path, "cannot map: %s", strerror(map_errno));

	rc_shm_header *h = map;
	if (read_boot_id(boot) < 0)
		boot[0] = 0;
	if (init_header(map, want, boot, path, err, errlen) < 0)
		goto bad;
	if (rc_ld(&h->magic) != RC_SHM_MAGIC) {
		refuse(err, errlen, path, "not a recloser state file (bad magic)");
		goto bad;
	}
	if (h->version != RC_SHM_VERSION) {
		refuse(err, errlen, path, "version %u, expected %u", h->version,
		       RC_SHM_VERSION);
		goto bad;
	}
	if (h->header_size != sizeof(rc_shm_header) || h->slot_size != sizeof(rc_slot) ||
	    h->nslots != RC_MAX_BREAKERS) {
		refuse(err, errlen, path,
		       "layout %u/%u/%u, expected %zu/%zu/%u (header/slot size, slots)",
		       h->header_size, h->slot_size, h->nslots, sizeof(rc_shm_header),
		       sizeof(rc_slot), (unsigned)RC_MAX_BREAKERS);
		goto bad;
	}
	if (memchr(h->boot_id, 0, sizeof h->boot_id) == NULL) {
		refuse(err, errlen, path, "corrupt header (boot_id)");
		goto bad;
	}
	shm->hdr = h;
	shm->slots = (rc_slot *)((char *)map + sizeof(rc_shm_header));
	shm->size = want;
	if (check_slots(shm->slots, path, err, errlen) < 0) {
		memset(shm, 0, sizeof *shm);
		goto bad;
	}
	if (boot[0]) {
		uint64_t bh = boot_hash(boot), old = rc_ld(&h->boot_hash);
		/* 0: made where boot_id could not be read; adopt ours */
		if (old != bh && rc_cas(&h->boot_hash, &old, bh)) {
			if (old)
				reset_for_boot(shm, rc_now_ms());
			memset(h->boot_id, 0, sizeof h->boot_id);
			memcpy(h->boot_id, boot, strlen(boot));
		}
	}
	return 0;
bad:
	munmap(map, want);
	return -1;
}

int rc_shm_open(const char *path, rc_shm *shm, char *err, size_t errlen)
{
	int e = errno;
	int r = shm_open_(path, shm, err, errlen);
	errno = e;
	return r;
}

void rc_shm_close(rc_shm *shm)
{
	int e = errno;
	if (shm && shm->hdr)
		munmap(shm->hdr, shm->size);
	if (shm)
		memset(shm, 0, sizeof *shm);
	errno = e;
}

/* Write NAME into a slot we hold the claim of, and publish it. */
static rc_slot *publish(rc_slot *s, const char *name)
{
	char buf[RC_NAME_MAX];
	memset(buf, 0, sizeof buf);
	memcpy(buf, name, strlen(name));
	memcpy(s->name, buf, sizeof buf);
	rc_breaker_init(s, rc_now_ms());
	rc_st(&s->name_word, 2);
	return s;
}

rc_slot *rc_shm_slot(rc_shm *shm, const char *name, int create)
{
	int e = errno;
	rc_slot *found = NULL;
	uint64_t mine = 0;

	if (!shm || !shm->hdr || !name || !name_ok(name, RC_NAME_MAX))
		goto out;
	for (unsigned i = 0; i < shm->hdr->nslots && i < RC_MAX_BREAKERS; i++) {
		rc_slot *s = &shm->slots[i];
		uint64_t deadline = 0;
		for (;;) {
			uint64_t nw = rc_ld(&s->name_word);
			if (nw == 2) {
				if (strncmp(s->name, name, RC_NAME_MAX) == 0)
					found = s;
				break;
			}
			if (nw != 0 && ((nw & 3) != 1 || (nw >> 2) > INT_MAX))
				break; /* garbage that appeared after the checks */
			if (!mine)
				mine = ((uint64_t)getpid() << 2) | 1;
			if (nw == 0 || rc_pid_dead(nw >> 2)) {
				if (!create) {
					if (nw == 0)
						goto out; /* slots fill in order */
					break;    /* skip a dead claim */
				}
				if (!rc_cas(&s->name_word, &nw, mine))
					continue;
				found = publish(s, name);
				goto out;
			}
			/* A live claimer: it may be claiming NAME; wait. */
			if (!deadline)
				deadline = rc_now_ms() + 200;
			else if (rc_now_ms() >= deadline)
				goto out;
			rc_sleep_ms(1);
		}
		if (found)
			break;
	}
out:
	errno = e;
	return found;
}
