/* alive.c - see alive.h.
 *
 * The tag is kept in two statics: the namespace this process runs in, and
 * the one its children are born in (they differ after unshare(CLONE_NEWPID)
 * made before the shim started).  A fork child takes the second: the fork
 * handler makes no system call.  A process that changes its pid namespace
 * for children after rc_alive_init and then forks without exec gives its
 * children its own tag: kill() from its namespace may then judge them,
 * which is what happened to every holder before tags existed. */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>

#include "core/alive.h"
#include "core/hash.h"

static uint32_t ns_self, ns_children;
static int ns_known, atfork_done;

/* The tag of the namespace PATH names (that of "unknown" if it cannot be
 * read); *FOUND: whether it could. */
static uint32_t ns_tag(const char *path, int *found)
{
	struct stat st;
	uint64_t id[2] = { 0, 0 };
	*found = stat(path, &st) == 0;
	if (*found) {
		id[0] = (uint64_t)st.st_dev;
		id[1] = (uint64_t)st.st_ino;
	}
	uint64_t h = rc_fnv1a(RC_FNV_INIT, id, sizeof id);
	h ^= h >> 32;
	h ^= h >> 16;
	return (uint32_t)(h & ((1u << RC_NS_BITS) - 1));
}

static void after_fork_child(void)
{
	__atomic_store_n(&ns_self, __atomic_load_n(&ns_children, __ATOMIC_RELAXED),
			 __ATOMIC_RELEASE);
}

void rc_alive_init(void)
{
	int e = errno;
	int found;
	uint32_t self = ns_tag("/proc/self/ns/pid", &found);
	uint32_t kids = ns_tag("/proc/self/ns/pid_for_children", &found);
	if (!found)
		kids = self; /* before Linux 4.12: children are born in ours */
	__atomic_store_n(&ns_children, kids, __ATOMIC_RELAXED);
	__atomic_store_n(&ns_self, self, __ATOMIC_RELEASE);
	__atomic_store_n(&ns_known, 1, __ATOMIC_RELEASE);
	int no = 0;
	if (__atomic_compare_exchange_n(&atfork_done, &no, 1, 0, __ATOMIC_ACQ_REL,
					__ATOMIC_RELAXED))
		pthread_atfork(NULL, NULL, after_fork_child);
	errno = e;
}

uint32_t rc_alive_ns(void)
{
	if (!__atomic_load_n(&ns_known, __ATOMIC_ACQUIRE))
		rc_alive_init();
	return __atomic_load_n(&ns_self, __ATOMIC_ACQUIRE);
}

int rc_pid_dead(uint64_t pid)
{
	if (pid == 0 || pid > INT_MAX)
		return 1;
	int e = errno;
	int dead = kill((pid_t)pid, 0) < 0 && errno == ESRCH;
	errno = e;
	return dead;
}

int rc_holder_dead(uint32_t pid, uint32_t ns, unsigned bits)
{
	uint32_t mask = bits >= 32 ? UINT32_MAX : (1u << bits) - 1;
	if ((ns & mask) != (rc_alive_ns() & mask))
		return 0; /* another pid namespace: its pids are not ours */
	return rc_pid_dead(pid);
}
