/* cli_run.c - shim/cli/run.c, unchanged, for the CLI harness (cli.c):
 * its execvp is fuzz_execvp, which runs nothing and fails as for a
 * command not found (ENOENT), so `recloser run` is fuzzed up to the exec
 * without the fuzzer starting programs.  Everything before it (finding
 * the shim, LD_PRELOAD, RECLOSER_CONFIG) runs as in the real CLI; the
 * harness puts the environment back after each input. */
int fuzz_execvp(const char *file, char *const argv[]);
#define execvp fuzz_execvp
#include "cli/run.c"
#undef execvp

unsigned long fuzz_execs;

int fuzz_execvp(const char *file, char *const argv[])
{
	fuzz_execs++;
	(void)file;
	(void)argv;
	errno = ENOENT;
	return -1;
}
