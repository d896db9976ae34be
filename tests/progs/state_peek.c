/* state_peek.c - what a state file holds that the CLI does not show, for
 * the tests: the bulkhead tables' waiter counts (core/slot.h: a hint,
 * exact while no waiter is killed in its wait).
 *
 *   state_peek STATE
 *       Prints "waiters=N", N the sum over the tables bound to a breaker.
 *       Exit 2 (and a line on stderr) if STATE cannot be mapped. */
#include <stdio.h>

#include "core/shm.h"
#include "core/slot.h"

int main(int argc, char **argv)
{
	rc_shm shm;
	char err[256];
	if (argc != 2) {
		fprintf(stderr, "usage: state_peek STATE\n");
		return 2;
	}
	if (rc_shm_map(argv[1], &shm, err, sizeof err) < 0) {
		fprintf(stderr, "state_peek: %s: %s\n", argv[1], err);
		return 2;
	}
	unsigned long long w = 0;
	for (unsigned i = 0; i < RC_BH_TABLES; i++)
		if (__atomic_load_n(&shm.bh[i].owner, __ATOMIC_ACQUIRE))
			w += __atomic_load_n(&shm.bh[i].waiters, __ATOMIC_SEQ_CST);
	printf("waiters=%llu\n", w);
	rc_shm_close(&shm);
	return 0;
}
