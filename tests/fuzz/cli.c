/* cli.c - libFuzzer harness: the `recloser` command's argument handling
 * (the files of shim/cli/), in process.
 *
 * Input: byte 0 chooses the environment (below), the rest is the
 * arguments, separated by NUL bytes: "status\0api\0--json" is
 * `recloser status api --json`.  Each input runs recloser_main (main.c's
 * main, renamed by cli_main.c) in a sandbox directory, rebuilt for every
 * input, which is the working directory during the call:
 *   r.ini     a valid config; its state_file and log_file are in the sandbox
 *   bad.ini   a config that does not load
 *   shim.so   an empty file, for RECLOSER_SHIM
 * An argument's leading '/' becomes '_', and so does every '/' of an
 * argument holding "..": a path an argument names is in the sandbox (or,
 * for "..", its parent, the harness's own directory), so the fuzzer cannot
 * write, or open a state file, anywhere else.  CIDR patterns such as
 * 10.0.0.0/8 still reach `add` as they are.
 * Byte 0: bits 0-1 RECLOSER_CONFIG (r.ini, r.ini, bad.ini, or new.ini,
 * which does not exist); bit 2 RECLOSER_SHIM=shim.so; bit 3 an LD_PRELOAD
 * already set; bit 4 NO_COLOR=1.  It is never unset: the CLI would read
 * /etc/recloser.ini (and `add` would write it).
 *
 * The CLI runs with stdin and stdout on /dev/null; its stderr is the
 * process's, so scripts/fuzz.sh runs this harness with -close_fd_mask=2
 * (libFuzzer keeps its own output and the sanitizers' reports).  `run`
 * execs nothing (cli_run.c); `status --watch` runs on a virtual clock
 * (cli_watch.c).
 *
 * Contracts, after every input:
 *  - no fd is left open;
 *  - the exit status is one the CLI documents: 0, 1, 2, or 126/127 (run);
 *  - r.ini still loads, bad.ini is byte for byte as it was, and new.ini,
 *    if `add` made it, loads: a command leaves no config broken;
 *  - the state file, if a command made one, is still accepted.
 * The working directory, the environment and the signal handlers the CLI
 * changes are put back.
 *
 * In process, not in a forked child per input: a child's coverage counters
 * are its own copy, so libFuzzer would learn nothing from the CLI's code.
 * The price: an exit() would end the fuzzer (the CLI calls it only when out
 * of memory, which ASan does not let happen; libFuzzer reports it), and a
 * leak is a leak: every verb frees what it allocates. */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/config.h"
#include "core/shm.h"
#include "fuzz.h"

int recloser_main(int argc, char **argv);  /* cli_main.c */
void fuzz_watch_reset(void);               /* cli_watch.c */

#define MAXARGS 64

static char sb[4096];        /* the sandbox */
static int  home = -1;       /* the working directory to go back to */
static char r_ini[8192], bad_ini[8192];
static char *r_path, *bad_path, *new_path, *shim_path, *state_path;

static const char bad_text[] =
	"[global]\n"
	"log_level = loud\n"
	"[api]\n"
	"match = api.example.com:99999, 10.1.2.3/8\n"
	"failure_rate = 150\n"
	"[api]\n"
	"  mode = off\n";

static char *sbpath(const char *name)
{
	char *p;

	if (asprintf(&p, "%s/%s", sb, name) < 0)
		abort();
	return p;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	int err = dup(2);

	/* FUZZ_CHECK's messages, even with the CLI's stderr closed */
	if (err >= 0 && (fuzz_err = fdopen(err, "w")))
		setvbuf(fuzz_err, NULL, _IONBF, 0);
	if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0) {
		perror("recloser fuzz: /dev/null");
		exit(1);
	}
	close(null);
	home = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	snprintf(sb, sizeof sb, "%s", fuzz_path("sb"));
	if (home < 0 || mkdir(sb, 0700) < 0) {
		perror(sb);
		exit(1);
	}
	r_path = sbpath("r.ini");
	bad_path = sbpath("bad.ini");
	new_path = sbpath("new.ini");
	shim_path = sbpath("shim.so");
	state_path = sbpath("state");
	snprintf(r_ini, sizeof r_ini,
		 "; the CLI harness's config (tests/fuzz/cli.c)\n"
		 "[global]\n"
		 "state_file = %s\n"
		 "log_file = %s/log\n"
		 "log_level = debug\n"
		 "failure_threshold = 3\n"
		 "\n"
		 "[api]\n"
		 "match = api.example.com:443, 10.0.0.0/8\n"
		 "open_duration = 2s\n"
		 "\n"
		 "[db.primary]\n"
		 "match = [2001:db8::/32]:5432\n"
		 "  db.internal:5432\n"
		 "mode = observe\n"
		 "\n"
		 "[cache_v2]\n"
		 "match = *.cache.local\n",
		 state_path, sb);
	snprintf(bad_ini, sizeof bad_ini, "%s", bad_text);
	return 0;
}

static void setup(uint8_t flags)
{
	static const char *const cfgs[4] = { "r", "r", "bad", "new" };

	fuzz_empty_dir(sb);
	fuzz_write_file(r_path, r_ini, strlen(r_ini));
	fuzz_write_file(bad_path, bad_ini, strlen(bad_ini));
	fuzz_write_file(shim_path, "", 0);
	setenv("RECLOSER_CONFIG", !strcmp(cfgs[flags & 3], "r") ? r_path :
		      !strcmp(cfgs[flags & 3], "bad") ? bad_path : new_path, 1);
	if (flags & 4)
		setenv("RECLOSER_SHIM", shim_path, 1);
	else
		unsetenv("RECLOSER_SHIM");
	if (flags & 8)
		setenv("LD_PRELOAD", "libother-fuzz.so", 1);
	else
		unsetenv("LD_PRELOAD");
	if (flags & 16)
		setenv("NO_COLOR", "1", 1);
	else
		unsetenv("NO_COLOR");
}

static void teardown(void)
{
	unsetenv("RECLOSER_CONFIG");
	unsetenv("RECLOSER_SHIM");
	unsetenv("LD_PRELOAD");
	unsetenv("NO_COLOR");
}

static void check_after(int rc, int argc, char **argv)
{
	char err[1 << 14];
	unsigned char *now;
	size_t n;
	struct stat st;
	rc_config *c;
	rc_shm shm;

	if (!(rc == 0 || rc == 1 || rc == 2 || rc == 126 || rc == 127)) {
		fprintf(fuzz_err ? fuzz_err : stderr, "argv:");
		for (int i = 0; i < argc; i++)
			fprintf(fuzz_err ? fuzz_err : stderr, " '%s'", argv[i]);
		FUZZ_CHECK(0, "exit status %d", rc);
	}
	c = rc_config_load(r_path, err, sizeof err);
	FUZZ_CHECK(c, "r.ini no longer loads: %s", err);
	rc_config_free(c);
	FUZZ_CHECK(fuzz_read_file(bad_path, &now, &n) == 0 && n == strlen(bad_ini) &&
		   !memcmp(now, bad_ini, n), "bad.ini changed");
	free(now);
	if (stat(new_path, &st) == 0) {
		c = rc_config_load(new_path, err, sizeof err);
		FUZZ_CHECK(c, "new.ini was made, and does not load: %s", err);
		rc_config_free(c);
	}
	if (stat(state_path, &st) == 0) {
		FUZZ_CHECK(rc_shm_open(state_path, &shm, err, sizeof err) == 0,
			   "the state file the CLI used is refused: %s", err);
		rc_shm_close(&shm);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGPIPE };
	struct sigaction old[sizeof sigs / sizeof sigs[0]];
	char *buf, *argv[MAXARGS + 2];
	int argc = 0, rc, fds;

	if (size < 1)
		return 0;
	buf = malloc(size);
	FUZZ_CHECK(buf, "out of memory");
	memcpy(buf, data + 1, size - 1);
	buf[size - 1] = '\0';
	argv[argc++] = "recloser";
	for (char *p = buf; size > 1 && argc <= MAXARGS;) {
		size_t n = strlen(p);

		if (p[0] == '/')
			p[0] = '_';
		if (strstr(p, ".."))
			for (size_t i = 0; i < n; i++)
				if (p[i] == '/')
					p[i] = '_';
		argv[argc++] = p;
		if (p + n >= buf + size - 1)
			break;
		p += n + 1;
	}
	argv[argc] = NULL;

	setup(data[0]);
	for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
		sigaction(sigs[i], NULL, &old[i]);
	fuzz_watch_reset();
	FUZZ_CHECK(chdir(sb) == 0, "chdir %s", sb);

	fds = fuzz_nfds();
	rc = recloser_main(argc, argv);
	FUZZ_CHECK(fuzz_nfds() == fds, "the command left %d fds open", fuzz_nfds() - fds);

	fflush(stdout);
	fflush(stderr);
	FUZZ_CHECK(fchdir(home) == 0, "back from the sandbox");
	for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
		sigaction(sigs[i], &old[i], NULL);
	check_after(rc, argc, argv);
	teardown();
	free(buf);
	return 0;
}
