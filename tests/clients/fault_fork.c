/* fault_fork.c - a child made while its parent has a call open, by fork(),
 * glibc's _Fork() (no atfork handlers run) or a raw clone(SIGCHLD) system
 * call, for tests/3a-engine-faults.t: the child must not judge, nor give
 * up, the parent's call (nor its half-open probe).
 *
 *   fault_fork PORT fork|_Fork|clone close|exit CHILD_MS [CMD]
 *
 * Connects to 127.0.0.1:PORT and sends one HTTP request (the server is not
 * to answer), then makes the child.  The child sleeps CHILD_MS ms, closes
 * the socket (close) or not (exit), and returns from main (exit 0: atexit
 * handlers and destructors run).  The parent waits for it, runs CMD with
 * system() if given (e.g. a look at the counts), then closes the socket
 * itself.  Prints "child=STATUS" (its exit status, or sigN) and exits 0;
 * 1 on a setup failure. */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "safety.h"

pid_t _Fork(void); /* glibc >= 2.34 */

int main(int argc, char **argv)
{
	if (argc != 5 && argc != 6)
		return 2;
	const char *how = argv[2];
	int do_close = strcmp(argv[3], "close") == 0;
	if (!do_close && strcmp(argv[3], "exit") != 0)
		return 2;
	long ms = atol(argv[4]);
	int fd = connect_lo(argv[1]);
	send_get(fd);
	fflush(NULL);
	pid_t pid;
	if (strcmp(how, "fork") == 0)
		pid = fork();
	else if (strcmp(how, "_Fork") == 0)
		pid = _Fork();
	else if (strcmp(how, "clone") == 0)
		pid = (pid_t)syscall(SYS_clone, (unsigned long)SIGCHLD, NULL, NULL, NULL, 0UL);
	else
		return 2;
	if (pid < 0) {
		perror(how);
		return 1;
	}
	if (pid == 0) {
		struct timespec d = { ms / 1000, (ms % 1000) * 1000000L };
		nanosleep(&d, NULL);
		if (do_close)
			close(fd);
		return 0; /* exit(): destructors run */
	}
	int st;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (argc == 6 && system(argv[5]) != 0)
		fprintf(stderr, "fault_fork: '%s' failed\n", argv[5]);
	close(fd);
	if (WIFEXITED(st))
		printf("child=%d\n", WEXITSTATUS(st));
	else
		printf("child=sig%d\n", WIFSIGNALED(st) ? WTERMSIG(st) : -1);
	return 0;
}
