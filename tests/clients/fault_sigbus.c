/* fault_sigbus.c - a program that faults in a mapping of its own (a file it
 * maps, truncates, then touches beyond the new end), for
 * tests/3a-engine-faults.t: a shim that catches SIGBUS for its own state
 * file must leave this one to the program.
 *
 *   fault_sigbus FILE catch|nocatch [PORT]
 *
 * With PORT, first makes one HTTP call to 127.0.0.1:PORT (so a preloaded
 * shim has mapped its state file and made a call).  Then installs (catch)
 * a SA_SIGINFO SIGBUS handler that records si_addr and siglongjmps out,
 * maps FILE (4 pages, MAP_SHARED), writes to it, truncates it to 0 and
 * reads its third page.  Prints "caught=1 addr=own" (si_addr in that page)
 * or "caught=1 addr=other", then, with PORT, makes a second call and prints
 * " after=ok" (or the error); exits 0.  nocatch: no handler, so the program
 * is killed by SIGBUS (as it is without any shim); if the read returns,
 * prints "no fault" and exits 3. */
#define _GNU_SOURCE /* strerrorname_np */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "safety.h"

static sigjmp_buf jb;
static void *volatile fault_addr;

static void on_bus(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	fault_addr = si->si_addr;
	siglongjmp(jb, 1);
}

static const char *http_call(const char *port)
{
	static char buf[256];
	int fd = connect_lo(port);
	send_get(fd);
	ssize_t n = read(fd, buf, sizeof buf - 1);
	const char *r = n > 12 && strncmp(buf, "HTTP/1.1 200", 12) == 0 ? "ok"
			: n < 0 ? strerrorname_np(errno) : "bad";
	close(fd);
	return r;
}

int main(int argc, char **argv)
{
	if (argc != 3 && argc != 4)
		return 2;
	int catch = strcmp(argv[2], "catch") == 0;
	if (!catch && strcmp(argv[2], "nocatch") != 0)
		return 2;
	const char *port = argc == 4 ? argv[3] : NULL;
	setvbuf(stdout, NULL, _IONBF, 0);
	if (port && strcmp(http_call(port), "ok") != 0) {
		fprintf(stderr, "fault_sigbus: the first call failed\n");
		return 1;
	}
	long pg = sysconf(_SC_PAGESIZE);
	int fd = open(argv[1], O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || ftruncate(fd, 4 * pg) != 0) {
		perror(argv[1]);
		return 1;
	}
	volatile char *m = mmap(NULL, 4 * pg, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	memset((char *)m, 'x', 4 * pg);
	if (catch) {
		struct sigaction sa;
		memset(&sa, 0, sizeof sa);
		sa.sa_sigaction = on_bus;
		sa.sa_flags = SA_SIGINFO;
		sigemptyset(&sa.sa_mask);
		sigaction(SIGBUS, &sa, NULL);
	}
	if (ftruncate(fd, 0) != 0) {
		perror("ftruncate");
		return 1;
	}
	volatile char *p = m + 2 * pg + 17;
	if (sigsetjmp(jb, 1) == 0) {
		char c = *p;
		(void)c;
		printf("no fault\n");
		return 3;
	}
	uintptr_t a = (uintptr_t)fault_addr, lo = (uintptr_t)(m + 2 * pg);
	printf("caught=1 addr=%s", a >= lo && a < lo + (uintptr_t)pg ? "own" : "other");
	if (port)
		printf(" after=%s", http_call(port));
	printf("\n");
	return 0;
}
