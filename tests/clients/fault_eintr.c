/* fault_eintr.c - a blocking connect or read under a storm of SA_RESTART
 * signals, in a program that also has a SIGSEGV handler without
 * SA_RESTART (as AddressSanitizer builds, JVMs and crash reporters have),
 * for tests/3a-engine-faults.t.  The kernel restarts the interrupted call
 * (the signal that came, SIGALRM, has SA_RESTART): no EINTR may come out.
 *
 *   fault_eintr connect|read PORT
 *
 * Installs a SA_SIGINFO SIGSEGV handler without SA_RESTART (never fired)
 * and a SIGALRM handler with SA_RESTART, armed every 100 us (setitimer);
 * then, blocking:
 *   connect  connect to 127.0.0.1:PORT (a blackhole)
 *   read     connect to 127.0.0.1:PORT, send one HTTP request, recv (a
 *            server that never answers)
 * Prints "RESULT@MS signals=N": RESULT is "ok" (connected), "sNNN" (an
 * answer's status), "EOF" or the errno's name; MS is counted from the
 * connect (connect) or the request (read); N the SIGALRMs during it.
 * Exits 0; 1 on a setup failure. */
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

static void on_segv(int sig, siginfo_t *si, void *uc)
{
	(void)si;
	(void)uc;
	signal(sig, SIG_DFL); /* never expected: die of it */
}

static long ms_since(const struct timespec *t0)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

int main(int argc, char **argv)
{
	if (argc != 3)
		return 2;
	int do_read = strcmp(argv[1], "read") == 0;
	if (!do_read && strcmp(argv[1], "connect") != 0)
		return 2;
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_segv;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER; /* no SA_RESTART */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, NULL);
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_alarm;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);

	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(atoi(argv[2])) };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0) {
		perror("socket");
		return 1;
	}
	if (do_read) {
		if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
			perror("connect");
			return 1;
		}
		send_get(fd);
	}
	struct itimerval it = { { 0, 100 }, { 0, 100 } };
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	signals = 0;
	setitimer(ITIMER_REAL, &it, NULL);
	char res[64], buf[512];
	if (do_read) {
		ssize_t n = recv(fd, buf, sizeof buf - 1, 0);
		int err = errno;
		if (n > 0) {
			buf[n] = 0;
			snprintf(res, sizeof res, "s%.3s",
				 strncmp(buf, "HTTP/", 5) == 0 && n >= 12 ? buf + 9 : "???");
		} else {
			snprintf(res, sizeof res, "%s", n == 0 ? "EOF" : strerrorname_np(err));
		}
	} else {
		int r = connect(fd, (struct sockaddr *)&a, sizeof a);
		snprintf(res, sizeof res, "%s", r == 0 ? "ok" : strerrorname_np(errno));
	}
	long ms = ms_since(&t0);
	struct itimerval off = { { 0, 0 }, { 0, 0 } };
	setitimer(ITIMER_REAL, &off, NULL);
	printf("%s@%ld signals=%d\n", res, ms, (int)signals);
	close(fd);
	return 0;
}
