/* shm.c - libFuzzer harness: the state file's validation (shim/core/shm.c)
 * and the breaker code on what it accepts (shim/core/breaker.c).
 *
 * The input is a state file's bytes.  It is written, mode 0600, at its own
 * size and (when that differs) zero-padded or cut to a state file's size,
 * and each is handed to rc_shm_open.  Contracts:
 *  - rc_shm_open leaves no fd open, whatever it answers.
 *  - A refused file is left exactly as it was: the same bytes, size, mode,
 *    inode and mtime (set to a fixed past time first, so that any write,
 *    even a CAS that puts the old value back, shows).  The reason is one
 *    "state file PATH: ..." line.  One in four full-size files is written
 *    sparse (its zero blocks as holes): shm.h lets rc_shm_open allocate
 *    such a file, which may change its mtime (when it did allocate blocks),
 *    never its bytes.
 *  - Refused or not, a file is then mapped as the shim maps it (rc_shm_map,
 *    which looks at no slot) and breakers bound one by one (rc_shm_bind):
 *    a slot bound is valid and the name's; one refused as damaged is not
 *    valid and not written.
 *  - An accepted file has a state file's size (or was empty: created).
 *    Then every named slot is found by its name (rc_shm_slot, with create
 *    as the shim and the CLI call it: no second slot of the same name),
 *    viewed, and made to admit and judge a call; a new name is claimed; a
 *    slot is flipped, and now and then forgotten (rc_shm_forget: then its
 *    name is not found).  Through all that the state stays valid, and the
 *    file is still accepted when opened again.
 *
 * Linked with fakeclock.c: a claim by a live process is waited for in
 * virtual time (see there).
 *
 * RECLOSER_FUZZ_SEEDS=DIR build/fuzz/shm writes seed state files into DIR
 * and exits (scripts/fuzz.sh does, for the run's corpus copy): a fresh
 * file, one in use (breakers open, half-open with a probe held, forced),
 * one from another boot, and ones with claims abandoned by a dead process. */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <signal.h>

#include "core/alive.h"
#include "core/breaker.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/shm.h"
#include "fuzz.h"

/* slot.h's words, also for a state file of version 1 (before claims held
 * a pid-namespace tag and a time, and slots could be freed) */
#ifndef RC_NW_READY
#define RC_NW_READY 2u
#define RC_CLAIM(ns, pid, ms) (((uint64_t)(pid) << 2) | 1u)
#endif

static rc_config *cfg;   /* breakers of different settings, for the slots */
static size_t full;      /* rc_shm_file_size() */

static const char cfg_text[] =
	"[global]\n"
	"state_file = /nonexistent/unused\n"
	"[plain]\n"
	"match = 127.0.0.1\n"
	"[eager]\n"
	"match = 127.0.0.2\n"
	"failure_threshold = 1\n"
	"failure_rate = 1\n"
	"minimum_calls = 1\n"
	"window = 10ms\n"
	"slow_call = 1ms\n"
	"open_duration = 1ms\n"
	"open_duration_max = 576h\n"
	"half_open_probes = 16\n"
	"success_threshold = 1\n"
	"[watch]\n"
	"match = 127.0.0.3\n"
	"mode = observe\n"
	"failure_threshold = 0\n"
	"failure_rate = 100\n"
	"minimum_calls = 0\n"
	"window = 576h\n"
	"connect_timeout = 0\n"
	"response_timeout = 576h\n"
	"open_duration = 576h\n";

static uint64_t fnv(const uint8_t *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < n; i += i < 1024 ? 1 : 61) /* the header, then a sample */
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h ^ n;
}

static void check_view(const rc_slot *s, const rc_breaker_cfg *b, uint64_t now)
{
	rc_view v;

	rc_breaker_view(s, b, now, &v);
	FUZZ_CHECK(v.state >= RC_CLOSED && v.state <= RC_FORCED_CLOSED && rc_breaker_valid(s),
		   "slot '%.*s' in state %d", RC_NAME_MAX, s->name, v.state);
	FUZZ_CHECK(v.level <= 31 && v.probes_held <= RC_MAX_PROBES, "level %u, %u probes held",
		   v.level, v.probes_held);
	FUZZ_CHECK(!strcmp(rc_state_name(v.state), rc_state_name(rc_breaker_state(s))),
		   "view and state disagree");
}

/* Use the accepted state file SHM as the shim and the CLI would. */
static void exercise(rc_shm *shm, uint64_t h)
{
	uint64_t now = rc_now_ms();
	uint32_t pid = (uint32_t)getpid();
	rc_slot *any = NULL;

	FUZZ_CHECK(shm->hdr->nslots == RC_MAX_BREAKERS, "nslots %u", shm->hdr->nslots);
	for (unsigned i = 0; i < RC_MAX_BREAKERS; i++) {
		rc_slot *s = &shm->slots[i], *f;
		const rc_breaker_cfg *b = &cfg->breakers[(h + i) % cfg->nbreakers];
		char name[RC_NAME_MAX];
		rc_ticket t;
		rc_transition tr;
		int outcome = (int)((h >> (i % 32)) % 3);

		check_view(s, b, now);
		if (__atomic_load_n(&s->name_word, __ATOMIC_ACQUIRE) != RC_NW_READY)
			continue;
		memcpy(name, s->name, sizeof name);
		FUZZ_CHECK(memchr(name, 0, sizeof name), "slot %u: a ready name without its NUL", i);
		f = rc_shm_slot(shm, name, 1);
		FUZZ_CHECK(f == s, "slot %u holds '%s', but rc_shm_slot('%s', create) gave %s %ld",
			   i, name, name, f ? "slot" : "NULL", f ? (long)(f - shm->slots) : -1L);
		if (rc_breaker_admit(s, b, now, pid, &t, &tr) == RC_ADMIT) {
			FUZZ_CHECK(t.probe >= -1 && t.probe < RC_MAX_PROBES, "probe %d", t.probe);
			if ((h >> 7) % 5 == 0)
				rc_breaker_cancel(s, &t);
			else
				rc_breaker_record(s, b, &t, outcome, (h >> 3) % 20000000,
						  now + (h >> 11) % 4, &tr);
		}
		(void)rc_breaker_refusing(s, b);
		rc_breaker_unlogged_add(s, 1);
		(void)rc_breaker_unlogged_take(s);
		check_view(s, b, now + 1);
		any = s;
	}
	rc_slot *n = rc_shm_slot(shm, "fuzz-new.slot", 1);
	if (n) {
		FUZZ_CHECK(!strcmp(n->name, "fuzz-new.slot"), "claimed slot named '%.*s'", RC_NAME_MAX,
			   n->name);
		FUZZ_CHECK(rc_shm_slot(shm, "fuzz-new.slot", 0) == n, "a claimed name not found again");
		check_view(n, &cfg->breakers[0], now);
		any = n;
	}
	if (any) {
		rc_transition tr;

		FUZZ_CHECK(rc_breaker_set(any, (int)(h % 5), now, &tr) == 0, "rc_breaker_set failed");
		check_view(any, &cfg->breakers[h % cfg->nbreakers], now);
	}
#ifdef RC_SHM_REUSE_IDLE_S
	/* free a slot (recloser forget), at once or only when quiet */
	if (any && (h >> 13) % 3 == 0) {
		char name[RC_NAME_MAX];
		uint64_t idle = 0;
		int r;

		memcpy(name, any->name, sizeof name);
		r = rc_shm_forget(shm, name, (h >> 15) % 2 ? 0 : 3600, &idle);
		FUZZ_CHECK(r >= -1 && r <= 1, "rc_shm_forget returned %d", r);
		if (r == 0)
			FUZZ_CHECK(rc_shm_slot(shm, name, 0) == NULL,
				   "'%s' forgotten, and still found", name);
	}
#endif
	FUZZ_CHECK(!rc_shm_slot(shm, "bad name", 1) && !rc_shm_slot(shm, "", 1),
		   "a slot for an invalid name");
}

/* Map the file at PATH as the shim does (rc_shm_map: no look at its slots
 * as a whole, whatever they hold) and bind breakers one by one as it does
 * at their first calls (rc_shm_bind), the slot's own number as the hint,
 * or another: a slot bound is valid and NAME's, and takes a call; a slot
 * refused as damaged is not valid, and not written. */
static void exercise_lazy(const char *path, uint64_t h)
{
	static char before[sizeof(rc_slot)];
	uint64_t now = rc_now_ms();
	char err[1024];
	rc_shm shm;
	int bad;

	if (rc_shm_map(path, &shm, err, sizeof err) < 0)
		return;
	for (unsigned k = 0; k < 64; k++) {
		unsigned i = (unsigned)(((h >> (k % 40)) + k * 977u) % RC_MAX_BREAKERS);
		unsigned hint = (h >> k) & 1 ? i : (unsigned)((h + k) % (RC_MAX_BREAKERS + 2));
		rc_slot *s = &shm.slots[i], *f;
		const rc_breaker_cfg *b = &cfg->breakers[(h + i) % cfg->nbreakers];
		char name[RC_NAME_MAX];
		rc_transition tr;
		rc_ticket t;

		if (__atomic_load_n(&s->name_word, __ATOMIC_ACQUIRE) != RC_NW_READY)
			continue;
		memcpy(name, s->name, sizeof name);
		if (!memchr(name, 0, sizeof name))
			continue;
		memcpy(before, s, sizeof before);
		f = rc_shm_bind(&shm, name, hint, 1, &bad);
		FUZZ_CHECK(!f || bad < 0, "rc_shm_bind gave a slot and a damaged one (%d)", bad);
		if (bad >= 0) {
			FUZZ_CHECK(bad < RC_MAX_BREAKERS && !rc_breaker_valid(&shm.slots[bad]),
				   "slot %d refused as damaged, but valid", bad);
			if (bad == (int)i)
				FUZZ_CHECK(!memcmp(before, s, sizeof before),
					   "slot %u refused as damaged, and written", i);
		}
		if (!f)
			continue;
		FUZZ_CHECK(!strncmp(f->name, name, RC_NAME_MAX) && rc_breaker_valid(f),
			   "rc_shm_bind('%s') gave slot %ld, named '%.*s'", name, (long)(f - shm.slots),
			   RC_NAME_MAX, f->name);
		if (rc_breaker_admit(f, b, now, (uint32_t)getpid(), &t, &tr) == RC_ADMIT)
			rc_breaker_record(f, b, &t, (int)(h % 3), (h >> 3) % 20000000, now, &tr);
		check_view(f, b, now + 1);
	}
	rc_slot *n = rc_shm_bind(&shm, "fuzz-lazy.slot", (unsigned)(h % RC_MAX_BREAKERS), 1, &bad);
	if (n) {
		FUZZ_CHECK(!strcmp(n->name, "fuzz-lazy.slot") && bad < 0, "claimed slot named '%.*s'",
			   RC_NAME_MAX, n->name);
		check_view(n, &cfg->breakers[0], now);
	}
	FUZZ_CHECK(!rc_shm_bind(&shm, "bad name", 0, 1, &bad) && bad < 0,
		   "a slot for an invalid name");
	rc_shm_close(&shm);
}

/* Write the LEN bytes at BUF to PATH as a sparse file: its all-zero
 * 4 KiB blocks are holes. */
static void write_sparse(const char *path, const uint8_t *buf, size_t len)
{
	static const uint8_t zero[4096];
	int fd;

	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	FUZZ_CHECK(fd >= 0 && ftruncate(fd, (off_t)len) == 0, "making %s", path);
	for (size_t off = 0; off < len; off += sizeof zero) {
		size_t n = len - off < sizeof zero ? len - off : sizeof zero;

		if (memcmp(buf + off, zero, n))
			FUZZ_CHECK(pwrite(fd, buf + off, n, (off_t)off) == (ssize_t)n, "writing %s", path);
	}
	close(fd);
}

/* Hand the LEN bytes at BUF, as a state file, to rc_shm_open; with
 * SPARSE, its zero blocks are holes. */
static void one(const uint8_t *buf, size_t len, uint64_t h, int sparse)
{
#ifdef RC_SHM_REUSE_IDLE_S
	/* a full table takes over a slot unused for so long: now and then, at once */
	rc_shm_reuse_idle_s = h % 7 == 0 ? 0 : RC_SHM_REUSE_IDLE_S;
#endif
	static const struct timespec past[2] = { { 1000000000, 123456789 },
						 { 1000000000, 123456789 } };
	const char *path = fuzz_path("state");
	char err[1024], want[600];
	struct stat a, b;
	rc_shm shm;
	int r, fds;

	if (sparse)
		write_sparse(path, buf, len);
	else
		fuzz_write_file(path, buf, len);
	FUZZ_CHECK(chmod(path, 0600) == 0 && utimensat(AT_FDCWD, path, past, 0) == 0 &&
		   stat(path, &b) == 0, "preparing %s", path);
	memset(err, 0, sizeof err);
	fds = fuzz_nfds();
	r = rc_shm_open(path, &shm, err, sizeof err);
	FUZZ_CHECK(fuzz_nfds() == fds, "rc_shm_open (%s) left %d fds open", r ? err : "accepted",
		   fuzz_nfds() - fds);
	if (r < 0) {
		unsigned char *now;
		size_t n;

		snprintf(want, sizeof want, "state file %s: ", path);
		FUZZ_CHECK(!strncmp(err, want, strlen(want)) && strlen(err) > strlen(want) &&
			   !strchr(err, '\n'), "refusal without a one-line reason: '%s'", err);
		FUZZ_CHECK(!shm.hdr && !shm.slots && !shm.size, "refused, with a mapping");
		FUZZ_CHECK(stat(path, &a) == 0, "the refused file is gone");
		FUZZ_CHECK(fuzz_read_file(path, &now, &n) == 0, "the refused file is unreadable");
		FUZZ_CHECK(n == len && !memcmp(now, buf, len),
			   "refused (%s), but the bytes changed (%zu bytes, were %zu)", err, n, len);
		free(now);
		FUZZ_CHECK(a.st_size == b.st_size && a.st_mode == b.st_mode && a.st_ino == b.st_ino &&
			   a.st_uid == b.st_uid,
			   "refused (%s), but size, mode or owner changed", err);
		/* shm.h's one exception: a full-size file with holes is allocated */
		FUZZ_CHECK((sparse && a.st_blocks > b.st_blocks) ||
			   (a.st_mtim.tv_sec == b.st_mtim.tv_sec && a.st_mtim.tv_nsec == b.st_mtim.tv_nsec),
			   "refused (%s), same bytes, but the mtime changed: %lld.%09ld -> %lld.%09ld",
			   err, (long long)b.st_mtim.tv_sec, b.st_mtim.tv_nsec,
			   (long long)a.st_mtim.tv_sec, a.st_mtim.tv_nsec);
		exercise_lazy(path, h); /* its slots may be what was refused */
		return;
	}
	FUZZ_CHECK(r == 0 && shm.hdr && shm.slots && shm.size == full && !err[0],
		   "accepted: %d, size %zu, '%s'", r, shm.size, err);
	FUZZ_CHECK(len == 0 || len == full, "a file of %zu bytes accepted", len);
	exercise(&shm, h);
	rc_shm_close(&shm);
	FUZZ_CHECK(!shm.hdr, "rc_shm_close left a mapping");
	r = rc_shm_open(path, &shm, err, sizeof err);
	FUZZ_CHECK(r == 0, "accepted and used, then refused: %s", err);
	exercise(&shm, h >> 1);
	rc_shm_close(&shm);
	exercise_lazy(path, h >> 2);
}

/* ---- seeds ---- */

static void save(const char *dir, const char *name, const void *p)
{
	char path[8192];

	snprintf(path, sizeof path, "%s/%s", dir, name);
	fuzz_write_file(path, p, full);
}

/* A pid no process has (below 2^22, what a claim holds). */
static uint64_t dead_pid(void)
{
	for (uint64_t p = 4000000; p > 2; p -= 7919)
		if (kill((pid_t)p, 0) < 0 && errno == ESRCH)
			return p;
	fprintf(stderr, "recloser fuzz: no free pid\n");
	exit(1);
}

static void make_seeds(const char *dir)
{
	const char *path = fuzz_path("seed");
	char err[1024];
	uint64_t now = rc_now_ms();
	rc_shm shm;
	rc_transition tr;
	rc_ticket t;

	unlink(path);
	if (rc_shm_open(path, &shm, err, sizeof err) < 0) {
		fprintf(stderr, "recloser fuzz: %s\n", err);
		exit(1);
	}
	save(dir, "fresh", shm.hdr);

	/* in use: closed with counts, open, half-open with a probe, forced */
	const char *names[] = { "api", "db.primary", "cache_v2", "forced-1", "observe" };
	rc_slot *s[5];

	for (int i = 0; i < 5; i++) {
		s[i] = rc_shm_slot(&shm, names[i], 1);
		if (!s[i]) {
			fprintf(stderr, "recloser fuzz: no slot for %s\n", names[i]);
			exit(1);
		}
		for (int k = 0; k < 3 + i; k++)
			if (rc_breaker_admit(s[i], &cfg->breakers[i % 3], now, 1234, &t, &tr) == RC_ADMIT)
				rc_breaker_record(s[i], &cfg->breakers[i % 3], &t,
						  k % 2 ? RC_FAIL : RC_OK, 40u * (uint64_t)k * k * k,
						  now, &tr);
	}
	rc_breaker_set(s[1], RC_OPEN, now, &tr);
	rc_breaker_set(s[2], RC_HALF_OPEN, now, &tr);
	rc_breaker_admit(s[2], &cfg->breakers[1], now + 1, (uint32_t)getpid(), &t, &tr);
	rc_breaker_set(s[3], RC_FORCED_OPEN, now, &tr);
	rc_breaker_unlogged_add(s[0], 3);
	save(dir, "in-use", shm.hdr);

	/* another boot: its times mean nothing now */
	unsigned char *copy = malloc(full);

	memcpy(copy, shm.hdr, full);
	((rc_shm_header *)copy)->boot_hash ^= 0x5a5a;
	memcpy(((rc_shm_header *)copy)->boot_id, "00000000-0000-0000-0000-000000000000", 36);
	save(dir, "other-boot", copy);

	/* a slot claim abandoned by a dead process */
	uint64_t dead = dead_pid();

	memcpy(copy, shm.hdr, full);
	((rc_slot *)(copy + sizeof(rc_shm_header)))[5].name_word = RC_CLAIM(rc_alive_ns(), dead, now);
	save(dir, "dead-claim", copy);

	/* a header left half-initialised by a dead process */
	memset(copy, 0, full);
	((rc_shm_header *)copy)->init_word = RC_CLAIM(rc_alive_ns(), dead, now);
	save(dir, "dead-init", copy);
	free(copy);
	rc_shm_close(&shm);
	unlink(path);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char err[4096];
	const char *seeds = getenv("RECLOSER_FUZZ_SEEDS");

	full = rc_shm_file_size();
	cfg = rc_config_load_string(cfg_text, "shm-fuzz.ini", err, sizeof err);
	if (!cfg) {
		fprintf(stderr, "recloser fuzz: the harness's config: %s\n", err);
		exit(1);
	}
	if (seeds && *seeds) {
		make_seeds(seeds);
		exit(0);
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t h = fnv(data, size);

	if (size != full)
		one(data, size, h, 0);
	if (size >= full) {
		one(data, full, h, (h >> 20) % 4 == 0);
	} else {
		uint8_t *pad = calloc(1, full);

		FUZZ_CHECK(pad, "out of memory");
		memcpy(pad, data, size);
		one(pad, full, h, (h >> 20) % 4 == 0);
		free(pad);
	}
	return 0;
}
