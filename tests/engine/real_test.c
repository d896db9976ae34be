/* real_test.c - the real-function table (shim/engine/real.c), linked
 * without the hooks: a name dlsym cannot find is bound to a stub that
 * fails with ENOSYS (-1, or NULL for a pointer), never to NULL, and init's
 * log names it once.  TAP, run by prove from the repository root. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/config.h"
#include "core/log.h"
#include "core/sys.h"
#include "engine/real.h"
#include "tap.h"

int main(void)
{
	char dir[] = "/tmp/rc-real-XXXXXX", logp[64];
	ok(mkdtemp(dir) != NULL, "temp dir");
	snprintf(logp, sizeof logp, "%s/log", dir);

	rc_real_resolve_all();
	ok(real_read != NULL && real_connect != NULL && real_fopen != NULL,
	   "every hooked name libc has is resolved");
	ok(rc_sys_fn.open == real_open && rc_sys_fn.write == real_write,
	   "core's I/O interface points at the real functions");

	void *slot = NULL;
	long (*f)(int) = (long (*)(int))rc_real_resolve(&slot, "rc_no_such_function", 0);
	ok(f != NULL && slot == (void *)f, "a missing name gets a stub, never NULL");
	errno = 0;
	is_int(f(3), -1, "the stub fails the call");
	is_int(errno, ENOSYS, "with ENOSYS");

	void *pslot = NULL;
	FILE *(*g)(const char *) = (FILE * (*)(const char *))
		rc_real_resolve(&pslot, "rc_no_such_fopen", 1);
	errno = 0;
	ok(g != NULL && g("x") == NULL && errno == ENOSYS,
	   "a missing function returning a pointer: NULL with ENOSYS");

	rc_log_setup(logp, RC_LOG_ERROR, "real_test");
	rc_real_log_missing();
	char buf[4096] = "";
	int fd = open(logp, O_RDONLY);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
	if (n > 0)
		buf[n] = 0;
	ok(strstr(buf, "event=hook_missing function=rc_no_such_function ") != NULL &&
	   strstr(buf, "function=rc_no_such_fopen ") != NULL, "one log line names each");
	int lines = 0;
	for (char *p = buf; *p; p++)
		lines += *p == '\n';
	is_int(lines, 2, "and only those");
	if (fd >= 0)
		close(fd);
	unlink(logp);
	rmdir(dir);
	return done_testing();
}
