/* real.c - see real.h. */
#include <dlfcn.h>
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/config.h"
#include "core/hot.h"
#include "core/log.h"
#include "core/sys.h"
#include "engine/real.h"

#define RC_HOOK(ret, name, params) RC_HOT_DATA ret (*real_##name) params;
#include "hooks/hooks.def"

/* The shim's binding of core's I/O interface (core/sys.h), set at init. */
rc_sys rc_sys_fn;

__thread int rc_guard __attribute__((tls_model("initial-exec")));
__thread uintptr_t rc_guard_sp __attribute__((tls_model("initial-exec")));
__thread int rc_curl_depth __attribute__((tls_model("initial-exec")));
static uint32_t pid_fallback;        /* where the pid lives without WIPEONFORK */
RC_HOT_DATA uint32_t *rc_pid_cell = &pid_fallback;

uint32_t rc_pid_refresh(void)
{
	RC_KEEP_ERRNO();
	uint32_t p = (uint32_t)getpid();
	__atomic_store_n(rc_pid_cell, p, __ATOMIC_RELAXED);
	return p;
}

void rc_pid_init(void)
{
	RC_KEEP_ERRNO();
	long pg = sysconf(_SC_PAGESIZE);
	void *m = mmap(NULL, (size_t)(pg > 0 ? pg : 4096), PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m != MAP_FAILED && madvise(m, (size_t)(pg > 0 ? pg : 4096), MADV_WIPEONFORK) == 0)
		rc_pid_cell = m;
	else if (m != MAP_FAILED)
		munmap(m, (size_t)(pg > 0 ? pg : 4096)); /* old kernel: atfork keeps it right */
	rc_pid_refresh();
}

/* The stubs of names dlsym cannot find: the call fails with ENOSYS.  The
 * arguments, whatever they are, are not looked at. */
static long enosys_int(void)
{
	errno = ENOSYS;
	return -1;
}

static void *enosys_ptr(void)
{
	errno = ENOSYS;
	return NULL;
}

#define MISSING_MAX 8
static const char *missing[MISSING_MAX];
static unsigned nmissing;

void *rc_real_resolve(void **slot, const char *name, int ptr)
{
	RC_KEEP_ERRNO();
	void *p = dlsym(RTLD_NEXT, name);
	if (!p) {
		p = ptr ? (void *)enosys_ptr : (void *)enosys_int;
		unsigned n = __atomic_fetch_add(&nmissing, 1, __ATOMIC_RELAXED);
		if (n < MISSING_MAX)
			missing[n] = name;
	}
	__atomic_store_n(slot, p, __ATOMIC_RELEASE);
	return p;
}

void rc_real_resolve_all(void)
{
#define RC_HOOK(ret, name, params) (void)REAL(name);
#include "hooks/hooks.def"
	rc_sys_fn = (rc_sys){ real_open, real_close, real_read, real_write };
}

/* inih's file reader (ini_parse, linked in but never called) names
 * fopen64: the link wraps it here, so that no reference inside the shim
 * binds to the shim's own exported hook. */
FILE *__wrap_fopen64(const char *path, const char *mode);
FILE *__wrap_fopen64(const char *path, const char *mode)
{
	return REAL(fopen64)(path, mode);
}

void rc_real_log_missing(void)
{
	unsigned n = __atomic_load_n(&nmissing, __ATOMIC_RELAXED);
	for (unsigned i = 0; i < n && i < MISSING_MAX; i++)
		rc_log(RC_LOG_ERROR, "hook_missing",
		       "function=%s msg=\"not found by dlsym; calls to it fail with ENOSYS\"",
		       missing[i]);
}
