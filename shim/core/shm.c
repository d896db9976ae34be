/* shm.c - the shared state file (see shm.h).
 *
 * Decisions the header leaves open, made here:
 *  - A state file from another boot: every slot is reset (rc_breaker_reboot).
 *    The header's boot_hash (taken from reserved space) makes that reset
 *    happen once, by whichever process wins a CAS on it.
 *  - A half-finished claim (of the header or a slot) is taken over when it
 *    is abandoned (slot.h: its claimer known dead, or older than
 *    RC_CLAIM_MAX_MS); a live one is waited for, 200 ms at most.  A
 *    claimer of another pid namespace is never known dead (alive.h).
 *  - Blocks: a file we size is fully allocated (fallocate) before it is
 *    mapped, or removed: a page that cannot be backed would be a SIGBUS in
 *    the host at its first touch.  A full-size file found with fewer blocks
 *    than bytes is allocated the same way, or refused; never mapped as is.
 *  - Slots: found by name; a new name takes the first free slot (RC_NW_FREE,
 *    or the first RC_NW_EMPTY, which ends the table: no slot after it was
 *    ever used), then checks that no other slot holds or is being claimed
 *    for the same name (two claimers: the one of the higher slot backs
 *    off).  A slot is freed by rc_shm_forget, or, when the table is full,
 *    for a new name once it has been seen unused for rc_shm_reuse_idle_s.
 *    "Seen unused": slot->seen holds a fingerprint of what every call
 *    changes and when it was last seen to change, or the slot was last
 *    bound (rc_shm_slot finding it); whoever looks updates it. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/alive.h"
#include "core/breaker.h"
#include "core/clock.h"
#include "core/hash.h"
#include "core/name.h"
#include "core/scratch.h"
#include "core/shm.h"
#include "core/sys.h"

_Static_assert(sizeof(rc_slot) == 600, "rc_slot layout changed: bump RC_SHM_VERSION");
_Static_assert(offsetof(rc_slot, seen) == 520, "rc_slot layout changed: bump RC_SHM_VERSION");
_Static_assert(sizeof(rc_shm_header) == 144, "header layout changed: bump RC_SHM_VERSION");

static int name_ok(const char *name)
{
	return rc_name_hash(name) != 0;
}

/* ---- the state file ---- */

size_t rc_shm_file_size(void)
{
	return sizeof(rc_shm_header) + (size_t)RC_MAX_BREAKERS * sizeof(rc_slot) +
	       RC_BH_REGION_SIZE;
}

/* Where the bulkhead tables begin. */
static size_t bh_offset(void)
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
	h->bh_tables = RC_BH_TABLES;
	h->bh_table_size = sizeof(rc_bh_table);
	memset(h->boot_id, 0, sizeof h->boot_id);
	if (boot[0])
		memcpy(h->boot_id, boot, strlen(boot));
	h->created_ms = rc_now_ms();
	rc_st(&h->boot_hash, boot[0] ? boot_hash(boot) : 0);
	rc_st(&h->magic, RC_SHM_MAGIC);   /* last: the header is complete */
	rc_st(&h->init_word, 2);
}

/* This process's claim word at NOW (slot.h). */
static uint64_t my_claim(uint64_t now)
{
	return RC_CLAIM(rc_alive_ns(), (uint32_t)getpid(), now);
}

/* Nonzero if W has the form of a claim. */
static int claim_ok(uint64_t w)
{
	return RC_CLAIM_IS(w) && RC_CLAIM_PID(w) != 0;
}

/* Nonzero if the claim W, seen at NOW, is abandoned: older than
 * RC_CLAIM_MAX_MS (a start a little in the future is young), or its
 * claimer is known dead. */
static int claim_abandoned(uint64_t w, uint64_t now)
{
	uint32_t age = ((uint32_t)(now >> 4) - RC_CLAIM_T(w)) & 0xffffffu;
	if (age < 0x800000u && (uint64_t)age * 16 > RC_CLAIM_MAX_MS)
		return 1;
	return rc_holder_dead(RC_CLAIM_PID(w), RC_CLAIM_NS(w), RC_NS_BITS);
}

/* Take the header at MAP through the init_word protocol until it is
 * initialised (by us or another process).  Return 0, or -1 with ERR set. */
static int init_header(void *map, size_t size, const char *boot,
		       const char *path, char *err, size_t errlen)
{
	rc_shm_header *h = map;
	uint64_t mine = my_claim(rc_now_ms()), deadline = 0;

	for (;;) {
		uint64_t iw = rc_ld(&h->init_word), orig = iw;
		if (iw == 2)
			return 0;
		if (iw == 0) {
			/* Look before writing: a file refused here is left
			 * untouched, not even a CAS that puts the old value back
			 * (on a disk filesystem that write is a new mtime). */
			if (!zero_but_init(map, size)) {
				if (rc_ld(&h->init_word) != 0)
					continue; /* being initialised meanwhile */
				if (rc_ld(&h->magic) != RC_SHM_MAGIC)
					return refuse(err, errlen, path,
						      "not a recloser state file (bad magic)");
				return refuse(err, errlen, path,
					      "corrupt header (init_word 0)");
			}
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
		if (!claim_ok(iw)) {
			if (rc_ld(&h->magic) != RC_SHM_MAGIC)
				return refuse(err, errlen, path,
					      "not a recloser state file (bad magic)");
			return refuse(err, errlen, path,
				      "corrupt header (init_word %#llx)",
				      (unsigned long long)iw);
		}
		uint64_t now = rc_now_ms();
		if (claim_abandoned(iw, now)) {
			if (!abandoned_ok(h, map, size)) { /* look before writing */
				if (rc_ld(&h->init_word) != iw)
					continue;
				return refuse(err, errlen, path,
					      "corrupt header (abandoned by pid %u)",
					      RC_CLAIM_PID(orig));
			}
			if (!rc_cas(&h->init_word, &iw, mine))
				continue;
			if (!abandoned_ok(h, map, size)) {
				uint64_t me = mine;
				rc_cas(&h->init_word, &me, orig);
				return refuse(err, errlen, path,
					      "corrupt header (abandoned by pid %u)",
					      RC_CLAIM_PID(orig));
			}
			hdr_init(h, boot);
			return 0;
		}
		if (!deadline) {
			deadline = now + 200;
		} else if (now >= deadline) {
			return refuse(err, errlen, path,
				      "still being initialised by pid %u after 200 ms",
				      RC_CLAIM_PID(iw));
		}
		rc_sleep_ms(1);
	}
}

/* ---- the ready slots by name (rc_shm.index) ---- */

/* The slots of SHM to look at (the header's count, as checked). */
static unsigned nslots(const rc_shm *shm)
{
	return shm->hdr->nslots < RC_MAX_BREAKERS ? shm->hdr->nslots : RC_MAX_BREAKERS;
}

/* An open-addressed table of slot numbers + 1 (0: empty), at most half
 * full, placed by the low bits of the hash of a slot's name, with each
 * slot's hash beside it: a name is told apart from the others by their
 * hashes, without reading their slots.  Entries are 16 bits, and 32 KiB in
 * all (each page of it is a page fault in every process that opens the
 * file). */
#define IX_SIZE (2u * RC_MAX_BREAKERS)
_Static_assert(RC_MAX_BREAKERS < 0xffff, "a slot number + 1 fits in 16 bits");

struct rc_shm_index {
	uint16_t tab[IX_SIZE];
	uint32_t hash[RC_MAX_BREAKERS]; /* of each slot's name (core/name.h); 0: not in */
};

static struct rc_shm_index *index_new(void)
{
	return rc_scratch_alloc(sizeof(struct rc_shm_index)); /* zeroed */
}

static void index_free(struct rc_shm_index *x)
{
	rc_scratch_free(x, sizeof *x);
}

/* Add slot I of SLOTS, ready under a name of hash H, to X.  Return the
 * number of a slot already in X under the same name (I is not added),
 * else -1. */
static int index_add(struct rc_shm_index *x, rc_slot *slots, unsigned i, uint32_t h)
{
	size_t t = h % IX_SIZE;
	for (; x->tab[t]; t = (t + 1) % IX_SIZE) {
		unsigned j = x->tab[t] - 1u;
		if (x->hash[j] == h && strncmp(slots[j].name, slots[i].name, RC_NAME_MAX) == 0)
			return (int)j;
	}
	x->tab[t] = (uint16_t)(i + 1);
	x->hash[i] = h;
	return -1;
}

/* An index of the slots of SHM ready now, or NULL (out of memory).  Of two
 * slots of a name (a file corrupted since it was checked), the first. */
static struct rc_shm_index *index_build(rc_shm *shm)
{
	struct rc_shm_index *x = index_new();
	for (unsigned i = 0, n = nslots(shm); x && i < n; i++) {
		rc_slot *s = &shm->slots[i];
		uint64_t nw = rc_ld(&s->name_word);
		if (nw == RC_NW_EMPTY)
			break;
		uint32_t h = nw == RC_NW_READY ? rc_name_hash_field(s->name) : 0;
		if (h)
			index_add(x, shm->slots, i, h);
	}
	return x;
}

static int check_slots_(rc_slot *slots, struct rc_shm_index *x, const char *path, char *err,
			size_t errlen)
{
	int empty = -1; /* the first empty slot seen */
	for (unsigned i = 0; i < RC_MAX_BREAKERS; i++) {
		rc_slot *s = &slots[i];
		uint64_t nw = rc_ld(&s->name_word);
		/* Slots fill in order (RC_NW_EMPTY: so is every slot after it).
		 * Seen used after an empty one: unless that one was claimed
		 * meanwhile (a claim goes to the first empty slot only), the
		 * file is not one recloser wrote, and a lookup, which stops at
		 * the first empty slot, would make a second slot of a name. */
		if (nw != RC_NW_EMPTY && empty >= 0 &&
		    rc_ld(&slots[empty].name_word) == RC_NW_EMPTY)
			return refuse(err, errlen, path,
				      "corrupt slot %u (in use after empty slot %d)", i, empty);
		if (nw == RC_NW_EMPTY && empty < 0)
			empty = (int)i;
		if (!rc_breaker_valid(s))
			return refuse(err, errlen, path, "corrupt slot %u (state %u)", i,
				      rc_breaker_state(s));
		if (nw == RC_NW_EMPTY || nw == RC_NW_FREE) {
			/* a claim may land between the two loads: look again */
			if (s->name[0] && rc_ld(&s->name_word) == nw)
				return refuse(err, errlen, path,
					      "corrupt slot %u (%s, with a name)", i,
					      nw == RC_NW_EMPTY ? "empty" : "free");
			continue;
		}
		if (nw == RC_NW_READY) {
			uint32_t h = rc_name_hash_field(s->name);
			if (!h)
				return refuse(err, errlen, path,
					      "corrupt slot %u (bad name)", i);
			int d = index_add(x, slots, i, h);
			if (d >= 0)
				return refuse(err, errlen, path,
					      "corrupt slot %u (duplicate of slot %d)", i, d);
			continue;
		}
		if (claim_ok(nw))
			continue; /* being claimed */
		return refuse(err, errlen, path, "corrupt slot %u (name_word %#llx)",
			      i, (unsigned long long)nw);
	}
	return 0;
}

/* Light checks of every slot: a corrupt file is refused, not trusted.
 * The index of the ready slots that the checks make is kept in SHM, for
 * rc_shm_slots. */
static int check_slots(rc_shm *shm, const char *path, char *err, size_t errlen)
{
	struct rc_shm_index *x = index_new();
	if (!x)
		return refuse(err, errlen, path, "out of memory");
	if (check_slots_(shm->slots, x, path, err, errlen) < 0) {
		index_free(x);
		return -1;
	}
	shm->index = x;
	return 0;
}

/* ---- when a slot was last in use (slot->seen) ---- */

unsigned rc_shm_reuse_idle_s = RC_SHM_REUSE_IDLE_S;

/* 32 bits of what every call, rejection or transition changes. */
static uint32_t activity(const rc_slot *s)
{
	uint64_t v[3 + RC_MAX_PROBES];
	v[0] = 0; /* the calls judged: one more in the histogram each */
	for (unsigned i = 0; i < RC_LAT_BUCKETS; i++)
		v[0] += rc_ld(&s->lat_count[i]);
	v[1] = rc_ld(&s->rejected);
	v[2] = rc_ld(&s->transitions);
	for (unsigned i = 0; i < RC_MAX_PROBES; i++)
		v[3 + i] = rc_ld(&s->probes[i]);
	uint64_t h = rc_fnv1a(RC_FNV_INIT, v, sizeof v);
	return (uint32_t)(h ^ (h >> 32));
}

/* The slot is in use now (bound, claimed, a reboot): seen at NOW.  Only
 * the second matters: a reuser that judged the slot idle did so on an
 * older one and looks again after its claim (free_slot), and the next
 * idle_s() takes a stale fingerprint for a change (seen now).  So the
 * fingerprint is left as it was, and a slot already seen this second is
 * not written: binding 4,096 breakers reads their slots' seen words and
 * writes none of them when another process did this second. */
static void touch(rc_slot *s, uint64_t now_ms)
{
	uint32_t now = (uint32_t)(now_ms / 1000);
	uint64_t v = __atomic_load_n(&s->seen, __ATOMIC_SEQ_CST);
	while (RC_SEEN_SEC(v) != now)
		if (rc_cas(&s->seen, &v, RC_SEEN(RC_SEEN_FP(v), now)))
			break;
}

/* Look at S at NOW_MS: the seconds it has been seen unused (0 when it
 * changed since the last look, which is then recorded); *SEENP gets the
 * seen value the answer rests on. */
static uint64_t idle_s(rc_slot *s, uint64_t now_ms, uint64_t *seenp)
{
	uint32_t fp = activity(s), now = (uint32_t)(now_ms / 1000);
	uint64_t v = __atomic_load_n(&s->seen, __ATOMIC_SEQ_CST);
	for (;;) {
		if (RC_SEEN_FP(v) == fp && RC_SEEN_SEC(v) <= now) {
			*seenp = v;
			return now - RC_SEEN_SEC(v);
		}
		uint64_t nv = RC_SEEN(fp, now);
		if (rc_cas(&s->seen, &v, nv)) {
			*seenp = nv;
			return 0;
		}
	}
}

/* The file was made in another boot: its times mean nothing now. */
static void reset_for_boot(rc_shm *shm, uint64_t now)
{
	for (unsigned i = 0; i < RC_MAX_BREAKERS; i++) {
		if (!rc_breaker_valid(&shm->slots[i]))
			continue; /* damaged (rc_shm_map checks no slot): left as it is */
		rc_breaker_reboot(&shm->slots[i], now);
		if (rc_ld(&shm->slots[i].name_word) == RC_NW_READY)
			touch(&shm->slots[i], now);
	}
	/* bulkhead tickets: their times and holders mean nothing now */
	for (unsigned i = 0; i < RC_BH_TABLES; i++) {
		rc_bh_table *t = &shm->bh[i];
		for (unsigned k = 0; k < RC_BH_RECORDS; k++)
			rc_st(&t->rec[k], 0);
		__atomic_store_n(&t->waiters, 0, __ATOMIC_RELAXED);
	}
}

/* Remove PATH if it still names the file open at FD (ours, sized by us
 * and not backed: no process can have used it).  Return nonzero if it
 * was removed.  A mapping another process made of it meanwhile stays
 * valid (the file lives on, unnamed); truncating it instead would not. */
static int remove_ours(int fd, const char *path)
{
	struct stat a, b;
	if (fstat(fd, &a) < 0 || lstat(path, &b) < 0 || a.st_dev != b.st_dev ||
	    a.st_ino != b.st_ino)
		return 0;
	return unlink(path) == 0; /* if not: later openers see its missing blocks */
}

/* An existing file at FD (stat SB): refuse what its size or its first
 * bytes show to be foreign, of another version, or cut, before anything is
 * mapped (pread of a hole is no fault).  Return 0, or -1 with ERR set. */
static int peek(int fd, const struct stat *sb, size_t want, const char *path,
		char *err, size_t errlen)
{
	uint64_t head[2] = { 0, 0 };
	if (sb->st_size == 0)
		return 0;
	ssize_t n = pread(fd, head, sizeof head, 0);
	if (n == (ssize_t)sizeof head && head[0] == RC_SHM_MAGIC &&
	    (uint32_t)head[1] != RC_SHM_VERSION)
		return refuse(err, errlen, path, "version %u, expected %u (made by another "
			      "version of recloser: remove it once no process uses it)",
			      (unsigned)(uint32_t)head[1], RC_SHM_VERSION);
	if (n == (ssize_t)sizeof head && head[0] != RC_SHM_MAGIC && head[0])
		return refuse(err, errlen, path, "not a recloser state file (bad magic)");
	if ((uint64_t)sb->st_size != want)
		return refuse(err, errlen, path, "size %lld, expected %zu",
			      (long long)sb->st_size, want);
	return 0;
}

/* Make sure every block of the file at FD (stat SB) is allocated: a write
 * to a hole on a full tmpfs would be a SIGBUS in the host program.  An
 * empty file is sized first; one we sized and cannot back is removed
 * (CREATED or not: an empty file is nobody's yet).  A full-size file with
 * fewer blocks than bytes is allocated, or refused, never mapped as is;
 * the only change ever made to a file not yet validated, and only to one
 * of ours (owner, mode, no foreign magic).  No emulation where fallocate
 * is unsupported.  Return 0, or -1 with ERR set. */
static int back(int fd, const struct stat *sb, int created, size_t want, const char *path,
		char *err, size_t errlen)
{
	int sized = 0;
	if (sb->st_size == 0) {
		if (ftruncate(fd, (off_t)want) < 0) {
			int e = errno;
			if (created)
				remove_ours(fd, path);
			return refuse(err, errlen, path, "cannot size: %s", strerror(e));
		}
		sized = 1;
	}
	if (!sized && (uint64_t)sb->st_blocks * 512 >= want)
		return 0;
	if (fallocate(fd, 0, 0, (off_t)want) == 0 || errno == EOPNOTSUPP || errno == ENOSYS)
		return 0;
	int e = errno;
	if (sized) /* never leave a file that looks valid and cannot be backed */
		return refuse(err, errlen, path, "cannot allocate %zu bytes: %s (%s)", want,
			      strerror(e), remove_ours(fd, path) ? "file removed" : "file left");
	return refuse(err, errlen, path,
		      "not fully allocated (%lld of %zu bytes) and cannot allocate: %s",
		      (long long)sb->st_blocks * 512, want, strerror(e));
}

static int shm_open_(const char *path, rc_shm *shm, int check, char *err, size_t errlen)
{
	size_t want = rc_shm_file_size();
	struct stat sb;
	char boot[40] = "";
	void *map;
	int fd = -1, created = 0;

	rc_alive_init();
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
	if (peek(fd, &sb, want, path, err, errlen) < 0 ||
	    back(fd, &sb, created, want, path, err, errlen) < 0) {
		rc_sys_close(fd);
		return -1;
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
	    h->nslots != RC_MAX_BREAKERS || h->bh_tables != RC_BH_TABLES ||
	    h->bh_table_size != sizeof(rc_bh_table)) {
		refuse(err, errlen, path,
		       "layout %u/%u/%u/%u/%u, expected %zu/%zu/%u/%u/%zu "
		       "(header/slot size, slots, bulkhead tables/size)",
		       h->header_size, h->slot_size, h->nslots, h->bh_tables, h->bh_table_size,
		       sizeof(rc_shm_header), sizeof(rc_slot), (unsigned)RC_MAX_BREAKERS,
		       (unsigned)RC_BH_TABLES, sizeof(rc_bh_table));
		goto bad;
	}
	if (memchr(h->boot_id, 0, sizeof h->boot_id) == NULL) {
		refuse(err, errlen, path, "corrupt header (boot_id)");
		goto bad;
	}
	shm->hdr = h;
	shm->slots = (rc_slot *)((char *)map + sizeof(rc_shm_header));
	shm->bh = (rc_bh_table *)(void *)((char *)map + bh_offset());
	shm->size = want;
	if (check && check_slots(shm, path, err, errlen) < 0) {
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
	int r = shm_open_(path, shm, 1, err, errlen);
	errno = e;
	return r;
}

int rc_shm_map(const char *path, rc_shm *shm, char *err, size_t errlen)
{
	int e = errno;
	int r = shm_open_(path, shm, 0, err, errlen);
	errno = e;
	return r;
}

void rc_shm_close(rc_shm *shm)
{
	int e = errno;
	if (shm && shm->hdr)
		munmap(shm->hdr, shm->size);
	if (shm) {
		index_free(shm->index);
		memset(shm, 0, sizeof *shm);
	}
	errno = e;
}

/* ---- slots ---- */

/* Zero every field of S but name_word (held by our claim) and the state
 * word (breaker.c's: rc_breaker_init sets it when a name is published). */
static void clear_slot(rc_slot *s)
{
	uint64_t *p = (uint64_t *)(void *)s;
	for (size_t i = 1; i < sizeof *s / 8; i++)
		if (i != offsetof(rc_slot, word) / 8)
			rc_st(&p[i], 0);
}

/* Nonzero if slot S holds NAME: strncmp(s->name, name, RC_NAME_MAX) == 0,
 * as a loop that stops at NAME's end, not a library call (binding a
 * config's breakers makes thousands of them, on short names). */
static int name_is(const rc_slot *s, const char *name)
{
	for (size_t i = 0; i < RC_NAME_MAX; i++) {
		if (s->name[i] != name[i])
			return 0;
		if (!name[i])
			break;
	}
	return 1;
}

/* S was found ready under NAME: note that it is in use, then make sure it
 * still is NAME's (a reuse may have claimed it meanwhile: its claimer
 * looks at seen after its claim, we at name_word after our touch, so one
 * of the two sees the other).  Return S, or NULL to look again. */
static rc_slot *bind(rc_slot *s, const char *name, uint64_t now)
{
	touch(s, now);
	if (__atomic_load_n(&s->name_word, __ATOMIC_SEQ_CST) != RC_NW_READY ||
	    !name_is(s, name))
		return NULL;
	return s;
}

/* S was found ready under NAME: bind it into *OUT (NULL: look again) and
 * return 1, unless its state word is none recloser writes (rc_shm_map
 * checks no slot): then 0, and S is neither bound nor written to. */
static int take(rc_slot *s, const char *name, rc_slot **out)
{
	if (!rc_breaker_valid(s))
		return 0;
	*out = bind(s, name, rc_now_ms());
	return 1;
}

/* Wait for a live claim: 1 ms, unless *DEADLINE (200 ms after the first
 * wait) has passed.  Return 0 if it has. */
static int wait_claim(uint64_t *deadline)
{
	uint64_t now = rc_now_ms();
	if (!*deadline)
		*deadline = now + 200;
	else if (now >= *deadline)
		return 0;
	rc_sleep_ms(1);
	return 1;
}

enum { GOT, AGAIN, NONE };

typedef struct scan {
	int      freei;     /* first free slot (free, empty, abandoned), or -1 */
	uint64_t freew;     /* its name_word */
	int      busy;      /* a live claim never completed: NAME may be in it */
	int      bad;       /* NAME's slot, found damaged (not bound), or -1 */
} scan;

/* Look for NAME among the N slots, waiting at live claims on the way.
 * Return GOT (*OUT set), AGAIN (a bind lost a race), or NONE (SC says
 * where a new claim may go). */
static int lookup(rc_shm *shm, unsigned n, const char *name, uint64_t *deadline,
		  scan *sc, rc_slot **out)
{
	sc->freei = -1;
	sc->busy = 0;
	sc->bad = -1;
	for (unsigned i = 0; i < n; i++) {
		rc_slot *s = &shm->slots[i];
		for (;;) {
			uint64_t nw = rc_ld(&s->name_word);
			if (nw == RC_NW_READY) {
				if (!name_is(s, name))
					break;
				if (!take(s, name, out)) {
					sc->bad = (int)i;
					return NONE;
				}
				return *out ? GOT : AGAIN;
			}
			if (nw == RC_NW_EMPTY || nw == RC_NW_FREE ||
			    (claim_ok(nw) && claim_abandoned(nw, rc_now_ms()))) {
				if (sc->freei < 0) {
					sc->freei = (int)i;
					sc->freew = nw;
				}
				if (nw == RC_NW_EMPTY)
					return NONE; /* the end of the used slots */
				break;
			}
			if (!claim_ok(nw))
				break; /* garbage that appeared after the checks */
			/* a live claimer: it may be claiming NAME */
			if (!wait_claim(deadline)) {
				sc->busy = 1;
				break;
			}
		}
	}
	return NONE;
}

/* We hold the claim MINE of slot F for NAME: make sure no other slot holds
 * NAME or is being claimed for it.  Of two claims, the one of the higher
 * slot backs off.  Return GOT (*OUT: the slot that holds NAME, F or
 * another), AGAIN (we backed off: F is free again), or NONE (a claim that
 * never completes: F is free again). */
static int verify(rc_shm *shm, unsigned n, unsigned f, uint64_t mine, const char *name,
		  uint64_t *deadline, rc_slot **out)
{
	rc_slot *mineslot = &shm->slots[f];
	int r = GOT;
	*out = mineslot;
	for (unsigned j = 0; j < n && r == GOT && *out == mineslot; j++) {
		rc_slot *s = &shm->slots[j];
		if (j == f)
			continue;
		for (;;) {
			uint64_t nw = rc_ld(&s->name_word);
			if (nw == RC_NW_EMPTY) {
				j = n; /* the end */
				break;
			}
			if (nw == RC_NW_READY) {
				if (name_is(s, name)) {
					if (!take(s, name, out))
						r = NONE; /* damaged */
					else if (!*out)
						r = AGAIN;
				}
				break;
			}
			if (!claim_ok(nw) || claim_abandoned(nw, rc_now_ms()))
				break;
			if (j < f) {
				r = AGAIN;
				break;
			}
			if (!wait_claim(deadline)) {
				r = NONE;
				break;
			}
		}
	}
	if (r != GOT || *out != mineslot) {
		uint64_t m = mine;
		clear_slot(mineslot); /* what an abandoned claim may have written */
		rc_cas(&mineslot->name_word, &m, RC_NW_FREE);
		if (r != GOT)
			*out = NULL;
	}
	return r;
}

/* Write NAME into slot S, whose claim MINE we hold, and publish it.
 * Return S, or NULL if the claim was taken over meanwhile (we were
 * stopped longer than RC_CLAIM_MAX_MS). */
static rc_slot *publish(rc_slot *s, uint64_t mine, const char *name)
{
	char buf[RC_NAME_MAX];
	uint64_t now = rc_now_ms();
	memset(buf, 0, sizeof buf);
	memcpy(buf, name, strlen(name));
	clear_slot(s); /* what a process still bound to an old name left */
	memcpy(s->name, buf, sizeof buf);
	rc_breaker_init(s, now);
	touch(s, now);
	return rc_cas(&s->name_word, &mine, RC_NW_READY) ? s : NULL;
}

/* Free slot S, ready under NAME (the name is checked under our claim), if
 * it has been seen unused for QUIET_S seconds (0: at once).  *IDLEP: how
 * long it has been.  Return 0 freed, 1 in use, -1 not NAME's. */
static int free_slot(rc_slot *s, const char *name, unsigned quiet_s, uint64_t *idlep)
{
	uint64_t now = rc_now_ms(), seen;
	uint64_t idle = idle_s(s, now, &seen);
	*idlep = idle;
	if (quiet_s && idle < quiet_s)
		return 1;
	uint64_t w = RC_NW_READY, mine = my_claim(now);
	if (!rc_cas(&s->name_word, &w, mine))
		return -1;
	/* After our claim: bound meanwhile (bind() touches, then looks at
	 * name_word), or another name's by now?  Then it stays as it is. */
	int r = !name_is(s, name) ? -1
		: quiet_s && __atomic_load_n(&s->seen, __ATOMIC_SEQ_CST) != seen ? 1 : 0;
	if (r) {
		uint64_t m = mine;
		rc_cas(&s->name_word, &m, RC_NW_READY);
		if (r > 0)
			*idlep = 0;
		return r;
	}
	clear_slot(s);
	rc_cas(&s->name_word, &mine, RC_NW_FREE);
	return 0;
}

/* The table is full: free the slot seen unused longest, if that is
 * rc_shm_reuse_idle_s or more.  Return nonzero if one was freed. */
static int reuse_idle(rc_shm *shm, unsigned n)
{
	uint64_t now = rc_now_ms(), best = 0, seen;
	int besti = -1;
	char name[RC_NAME_MAX];
	for (unsigned i = 0; i < n; i++) {
		rc_slot *s = &shm->slots[i];
		if (rc_ld(&s->name_word) != RC_NW_READY || !rc_breaker_valid(s))
			continue; /* damaged ones are left as they are */
		uint64_t idle = idle_s(s, now, &seen);
		if (idle >= rc_shm_reuse_idle_s && (besti < 0 || idle > best)) {
			best = idle;
			besti = (int)i;
		}
	}
	if (besti < 0)
		return 0;
	memcpy(name, shm->slots[besti].name, sizeof name);
	name[RC_NAME_MAX - 1] = 0;
	uint64_t idle;
	return free_slot(&shm->slots[besti], name, rc_shm_reuse_idle_s ? rc_shm_reuse_idle_s : 1,
			 &idle) == 0;
}

/* NAME's slot, claimed for it with CREATE; NULL if there is none (*BAD:
 * the number of a damaged slot found under NAME, not bound; else -1). */
static rc_slot *find_or_claim(rc_shm *shm, const char *name, int create, int *bad)
{
	*bad = -1;
	unsigned n = nslots(shm);
	uint64_t deadline = 0;
	int reused = 0;

	for (int tries = 0; tries < 64; tries++) {
		scan sc;
		rc_slot *s = NULL;
		int r = lookup(shm, n, name, &deadline, &sc, &s);
		if (r == GOT)
			return s;
		if (sc.bad >= 0) {
			*bad = sc.bad;
			return NULL;
		}
		if (r == AGAIN)
			continue;
		if (sc.busy)
			*bad = RC_SHM_BUSY;
		if (!create || sc.busy)
			return NULL;
		if (sc.freei < 0) {
			if (reused++ || !reuse_idle(shm, n))
				return NULL; /* full */
			continue;
		}
		uint64_t w = sc.freew, mine = my_claim(rc_now_ms());
		if (!rc_cas(&shm->slots[sc.freei].name_word, &w, mine))
			continue; /* another claimer was faster: look again */
		r = verify(shm, n, (unsigned)sc.freei, mine, name, &deadline, &s);
		if (r == NONE) {
			*bad = RC_SHM_BUSY; /* a claim that never completes, or damage: look again */
			return NULL;
		}
		if (r == AGAIN)
			continue;
		if (s != &shm->slots[sc.freei])
			return s; /* NAME was claimed elsewhere meanwhile */
		if ((s = publish(s, mine, name)))
			return s;
	}
	*bad = RC_SHM_BUSY; /* 64 races lost */
	return NULL;
}

rc_slot *rc_shm_slot(rc_shm *shm, const char *name, int create)
{
	int e = errno;
	rc_slot *found = NULL;
	int bad;
	if (shm && shm->hdr && name && name_ok(name))
		found = find_or_claim(shm, name, create, &bad);
	errno = e;
	return found;
}

rc_slot *rc_shm_bind(rc_shm *shm, const char *name, unsigned hint, int create, int *bad)
{
	int e = errno;
	rc_slot *found = NULL;
	*bad = -1;
	if (shm && shm->hdr && name && name_ok(name)) {
		rc_slot *s = hint < nslots(shm) ? &shm->slots[hint] : NULL;
		if (s && rc_ld(&s->name_word) == RC_NW_READY && name_is(s, name) &&
		    !take(s, name, &found)) /* found NULL: lost a race */
			*bad = (int)hint;
		if (!found && *bad < 0)
			found = find_or_claim(shm, name, create, bad);
	}
	errno = e;
	return found;
}

/* NAME's slot (its hash H) among those in X, bound at NOW; NULL if
 * there is none, or its bind lost a race. */
static rc_slot *index_bind(rc_shm *shm, const struct rc_shm_index *x, const char *name,
			   uint32_t h, uint64_t now)
{
	for (size_t t = h % IX_SIZE; x->tab[t]; t = (t + 1) % IX_SIZE) {
		unsigned j = x->tab[t] - 1u;
		rc_slot *s = &shm->slots[j];
		if (x->hash[j] == h && rc_ld(&s->name_word) == RC_NW_READY && name_is(s, name))
			return bind(s, name, now);
	}
	return NULL;
}

void rc_shm_slots(rc_shm *shm, const char *const *names, unsigned n, int create,
		  rc_slot **out)
{
	int e = errno;
	for (unsigned i = 0; i < n; i++)
		out[i] = NULL;
	if (!shm || !shm->hdr)
		return;
	/* The index rc_shm_open's checks made, if it is still there (the
	 * first call after it takes it; of two racing, one).  Slots may
	 * have been claimed, freed or renamed since: a name it does not
	 * find is looked for in an index made now. */
	struct rc_shm_index *x = __atomic_exchange_n(&shm->index, NULL, __ATOMIC_ACQ_REL);
	int fresh = 0;
	for (int pass = 0; n && pass < 2; pass++) {
		if (!x) {
			x = index_build(shm);
			fresh = 1;
		}
		if (!x)
			break;
		unsigned missed = 0, next = 0, ns = nslots(shm); /* next: after the last bound */
		uint64_t now = rc_now_ms();
		for (unsigned i = 0; i < n; i++) {
			if (out[i] || !names[i])
				continue;
			/* First the slot after the last one bound: a config's
			 * breakers, claimed in its order, are in that order,
			 * and a comparison costs less than a hash and a lookup. */
			rc_slot *s = next < ns ? &shm->slots[next] : NULL;
			if (s && rc_ld(&s->name_word) == RC_NW_READY &&
			    rc_name_in_field(s->name, names[i])) {
				out[i] = bind(s, names[i], now);
			} else {
				uint32_t h = rc_name_hash(names[i]);
				if (h && !(out[i] = index_bind(shm, x, names[i], h, now)))
					missed++;
			}
			if (out[i])
				next = (unsigned)(out[i] - shm->slots) + 1;
		}
		if (!missed || fresh)
			break;
		index_free(x);
		x = NULL;
	}
	index_free(x);
	/* the names not found (or whose bind lost a race), one by one */
	for (unsigned i = 0; i < n; i++)
		if (!out[i])
			out[i] = rc_shm_slot(shm, names[i], create);
	errno = e;
}

int rc_shm_forget(rc_shm *shm, const char *name, unsigned quiet_s, uint64_t *idle_s_out)
{
	int e = errno, r = -1;
	uint64_t idle = 0;
	if (shm && shm->hdr && name && name_ok(name)) {
		unsigned n = nslots(shm);
		for (unsigned i = 0; i < n; i++) {
			rc_slot *s = &shm->slots[i];
			uint64_t nw = rc_ld(&s->name_word);
			if (nw == RC_NW_EMPTY)
				break;
			if (nw == RC_NW_READY && name_is(s, name)) {
				r = free_slot(s, name, quiet_s, &idle);
				break;
			}
		}
	}
	if (idle_s_out)
		*idle_s_out = idle;
	errno = e;
	return r;
}
