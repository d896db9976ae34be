/* lib.h - finding, at run time, a library the process loaded (libcurl,
 * libssl, libgnutls) without ever linking it: the shim's hooks of its
 * functions forward to the real ones found here. */
#ifndef RC_LIB_H
#define RC_LIB_H

/* A handle to dlsym the real functions from: RTLD_NEXT when SYM is
 * defined after the shim in the global scope; else (a library loaded
 * RTLD_LOCAL, as Python loads its extensions and their libraries) the
 * first loaded object other than the program and the shim that itself
 * defines SYM; else NULL (not loaded, or only the program defines it).
 * Such an object is held (dlopen RTLD_NOLOAD, never closed), so a dlclose
 * by the program never unmaps what the pointers point into.  Not on the
 * call path: called until it answers non-NULL. */
void *rc_lib_find(const char *sym);

#endif
