/* safety_eintr.c - a blocking recv() waiting for an HTTP answer, hit by
 * SIGALRM, for tests/35-host-safety.t.
 *
 *   safety_eintr PORT norestart|restart SECONDS
 *
 * Installs a SIGALRM handler (the only handler in the program) without
 * SA_RESTART (norestart) or with it (restart), connects to 127.0.0.1:PORT,
 * sends one request, arms a timer for SECONDS (a decimal), and calls recv
 * once.  Prints "sNNN@MS" (the answer's status) or "ERRNAME@MS" or "EOF@MS",
 * MS counted from the request, then " signals=N"; exits 0 (1 if it cannot
 * connect).  Without SA_RESTART the kernel fails the recv with EINTR; with
 * it the recv goes on and gets the answer. */
#define _GNU_SOURCE /* strerrorname_np */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "safety.h"

static volatile sig_atomic_t signals;

static void on_alarm(int sig)
{
	(void)sig;
	signals++;
}

static long ms_since(const struct timespec *t0)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

int main(int argc, char **argv)
{
	if (argc != 4)
		return 2;
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_alarm;
	sigemptyset(&sa.sa_mask);
	if (strcmp(argv[2], "restart") == 0)
		sa.sa_flags = SA_RESTART;
	else if (strcmp(argv[2], "norestart") != 0)
		return 2;
	sigaction(SIGALRM, &sa, NULL);

	int fd = connect_lo(argv[1]);
	send_get(fd);
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	double s = atof(argv[3]);
	struct itimerval it = { .it_value = { (time_t)s, (suseconds_t)((s - (time_t)s) * 1e6) } };
	setitimer(ITIMER_REAL, &it, NULL);

	char buf[512];
	ssize_t n = recv(fd, buf, sizeof buf - 1, 0);
	int err = errno;
	long ms = ms_since(&t0);
	if (n > 0) {
		buf[n] = 0;
		printf("s%.3s@%ld", strncmp(buf, "HTTP/", 5) == 0 ? buf + 9 : "???", ms);
	} else {
		printf("%s@%ld", n == 0 ? "EOF" : strerrorname_np(err), ms);
	}
	printf(" signals=%d\n", (int)signals);
	close(fd);
	return 0;
}
