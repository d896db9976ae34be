/* lib.c - see lib.h. */
#include <dlfcn.h>
#include <limits.h>
#include <link.h>
#include <string.h>
#include <sys/mman.h>

#include "engine/lib.h"
#include "engine/real.h"

struct find {
	const char *sym;
	char self[PATH_MAX];  /* the shim's own file name */
	char path[PATH_MAX];  /* out: the object found */
};

/* dl_iterate_phdr callback: an object, not the program nor the shim,
 * whose own definition of f->sym dlsym finds. */
static int defines(struct dl_phdr_info *info, size_t size, void *data)
{
	struct find *f = data;
	const char *p = info->dlpi_name;
	if (!p || !*p || strcmp(p, f->self) == 0 || strlen(p) >= PATH_MAX)
		return 0;
	void *h = REAL(dlopen)(p, RTLD_NOLOAD | RTLD_LAZY);
	if (!h)
		return 0;
	void *fn = dlsym(h, f->sym);
	Dl_info di;
	int own = fn && dladdr(fn, &di) && di.dli_fname && strcmp(di.dli_fname, p) == 0;
	dlclose(h);
	if (!own)
		return 0;
	memcpy(f->path, p, strlen(p) + 1);
	return 1;
}

void *rc_lib_find(const char *sym)
{
	RC_SCOPE();
	void *fn = dlsym(RTLD_NEXT, sym);
	Dl_info di;
	if (fn) {
		if (dladdr(fn, &di) && di.dli_fname)
			REAL(dlopen)(di.dli_fname, RTLD_NOLOAD | RTLD_LAZY); /* held */
		return RTLD_NEXT;
	}
	/* each caller its own (PATH_MAX twice: not on a small stack, and
	 * not a static a second thread would have to wait for: a thread
	 * told "not found" would fail its call with ENOSYS) */
	struct find *f = mmap(NULL, sizeof *f, PROT_READ | PROT_WRITE,
			      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (f == MAP_FAILED)
		return NULL;
	f->sym = sym;
	f->self[0] = f->path[0] = 0;
	if (dladdr((void *)rc_lib_find, &di) && di.dli_fname && strlen(di.dli_fname) < PATH_MAX)
		strcpy(f->self, di.dli_fname);
	void *h = NULL;
	if (dl_iterate_phdr(defines, f) == 1)
		h = REAL(dlopen)(f->path, RTLD_NOLOAD | RTLD_LAZY); /* held */
	munmap(f, sizeof *f);
	return h;
}
