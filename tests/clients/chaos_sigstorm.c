/* chaos_sigstorm.c - a bounded wait under a storm of signals, for
 * tests/74-chaos-signals.t.
 *
 *   chaos_sigstorm connect|read PORT [WATCHDOG_S]
 *
 * Installs what an ASan build installs (handlers for SIGSEGV, SIGBUS and
 * SIGFPE with SA_SIGINFO | SA_ONSTACK | SA_NODEFER on an alternate stack,
 * no SA_RESTART: they never run here) and a SIGALRM handler with
 * SA_RESTART, then arms ITIMER_REAL to fire every 100 us, and makes one
 * blocking call to 127.0.0.1:PORT:
 *   connect  a blocking connect
 *   read     a blocking connect, one "GET / HTTP/1.1" and one recv
 * Prints "RESULT@MS signals=N": RESULT is "ok" (connect), "sNNN" (the
 * answer's status), "EOF", or the errno name of the step that failed; MS
 * counts from just before the connect; N is the number of SIGALRMs caught.
 * With WATCHDOG_S > 0 a thread (SIGALRM blocked) shuts the socket down
 * after that many seconds, so that a recv nothing bounds ends (EOF).
 * Exits 0 (2 on a usage error). */
#define _GNU_SOURCE /* strerrorname_np */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t alarms;
static int sock = -1;
static double watchdog_s;

static void on_alarm(int sig)
{
	(void)sig;
	alarms++;
}

static void on_fault(int sig, siginfo_t *si, void *uc)
{
	(void)si;
	(void)uc;
	signal(sig, SIG_DFL); /* as a sanitizer would, after its report */
	raise(sig);
}

static void *watchdog(void *arg)
{
	(void)arg;
	struct timespec ts = { (time_t)watchdog_s,
			       (long)((watchdog_s - (time_t)watchdog_s) * 1e9) };
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
	shutdown(sock, SHUT_RDWR);
	return NULL;
}

static long ms_since(const struct timespec *t0)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

static const char *ename(int e)
{
	const char *n = strerrorname_np(e);
	return n ? n : "E?";
}

int main(int argc, char **argv)
{
	if (argc < 3 || argc > 4)
		return 2;
	int rd = strcmp(argv[1], "read") == 0;
	if (!rd && strcmp(argv[1], "connect") != 0)
		return 2;
	watchdog_s = argc > 3 ? atof(argv[3]) : 0;

	/* the sanitizer's fault handlers, on an alternate stack */
	static char altstack[1 << 16];
	stack_t ss = { .ss_sp = altstack, .ss_size = sizeof altstack };
	sigaltstack(&ss, NULL);
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_fault;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
	sigaction(SIGFPE, &sa, NULL);

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_alarm;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);

	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(atoi(argv[2])) };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sock = socket(AF_INET, SOCK_STREAM, 0);
	if (sock < 0) {
		printf("socket:%s@0 signals=0\n", ename(errno));
		return 0;
	}
	if (watchdog_s > 0) {
		sigset_t all, old;
		sigemptyset(&all);
		sigaddset(&all, SIGALRM);
		pthread_sigmask(SIG_BLOCK, &all, &old);
		pthread_t th;
		pthread_create(&th, NULL, watchdog, NULL);
		pthread_detach(th);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	}

	struct itimerval it = { .it_interval = { 0, 100 }, .it_value = { 0, 100 } };
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	setitimer(ITIMER_REAL, &it, NULL);

	char res[64] = "";
	if (connect(sock, (struct sockaddr *)&a, sizeof a) != 0) {
		snprintf(res, sizeof res, "%s", ename(errno));
	} else if (!rd) {
		snprintf(res, sizeof res, "ok");
	} else {
		const char *req = "GET / HTTP/1.1\r\nHost: chaos\r\nConnection: close\r\n\r\n";
		ssize_t w = write(sock, req, strlen(req));
		if (w != (ssize_t)strlen(req)) {
			snprintf(res, sizeof res, "write:%s", w < 0 ? ename(errno) : "short");
		} else {
			char buf[256];
			ssize_t n = recv(sock, buf, sizeof buf - 1, 0);
			if (n < 0)
				snprintf(res, sizeof res, "%s", ename(errno));
			else if (n == 0)
				snprintf(res, sizeof res, "EOF");
			else if (n >= 12 && strncmp(buf, "HTTP/1.", 7) == 0)
				snprintf(res, sizeof res, "s%.3s", buf + 9);
			else
				snprintf(res, sizeof res, "noHTTP");
		}
	}
	long ms = ms_since(&t0);
	struct itimerval off = { { 0, 0 }, { 0, 0 } };
	setitimer(ITIMER_REAL, &off, NULL);
	printf("%s@%ld signals=%d\n", res, ms, (int)alarms);
	return 0;
}
