/* alive.c - see alive.h. */
#include <errno.h>
#include <limits.h>
#include <signal.h>

#include "core/alive.h"

int rc_pid_dead(uint64_t pid)
{
	if (pid == 0 || pid > INT_MAX)
		return 1;
	int e = errno;
	int dead = kill((pid_t)pid, 0) < 0 && errno == ESRCH;
	errno = e;
	return dead;
}
