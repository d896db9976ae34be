/* cli_watch.c - shim/cli/watch.c, unchanged, for the CLI harness (cli.c),
 * on a virtual clock: its nap()'s nanosleep does not sleep but moves the
 * clock watch.c reads (rc_now_ms) on by the time asked, and the second nap
 * of a run asks it to stop, as SIGINT would.  So `status --watch` draws
 * its first frame, reloads the config and draws a second one, then ends,
 * whatever --interval and --count say; --count 1 ends after one frame as
 * in the real CLI.  fuzz_watch_reset() readies it for the next input. */
#include <signal.h>
#include <stdint.h>
#include <time.h>

#include "core/clock.h"

int fuzz_nanosleep(const struct timespec *req, struct timespec *rem);
uint64_t fuzz_now_ms(void);
void fuzz_watch_reset(void);

#define nanosleep fuzz_nanosleep
#define rc_now_ms fuzz_now_ms
#include "cli/watch.c"
#undef nanosleep
#undef rc_now_ms

static uint64_t virtual_ms;
static unsigned naps;

uint64_t fuzz_now_ms(void)
{
	return rc_now_ms() + virtual_ms;
}

int fuzz_nanosleep(const struct timespec *req, struct timespec *rem)
{
	(void)rem;
	virtual_ms += (uint64_t)req->tv_sec * 1000u + (uint64_t)req->tv_nsec / 1000000u + 1;
	if (++naps >= 2)
		stop = SIGINT;
	return 0;
}

void fuzz_watch_reset(void)
{
	stop = 0;
	naps = 0;
	virtual_ms = 0;
}
