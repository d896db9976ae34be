/* fault_sigconnect.c - connect() called from a signal handler, while the
 * main loop allocates and connects too, for tests/3a-engine-faults.t (a
 * live reload due when the handler's connect runs must not re-enter malloc
 * or anything else the interrupted code was in).
 *
 *   fault_sigconnect PORT SECONDS [nodefer]
 *
 * A SIGALRM handler (SA_RESTART; with nodefer also SA_NODEFER, so the
 * signal is not blocked while its handler runs) fires every 1 ms
 * (setitimer) and makes a whole connect: socket, connect to
 * 127.0.0.1:PORT, close (errno kept).
 * The main loop, for SECONDS, mallocs and frees blocks of assorted sizes
 * (so the signals land inside malloc and free) and, every 500 rounds of
 * 200 of those (so that most reload checks fall to the handler), connects
 * and closes the same way.  Prints "loops=N main_ok=A handler_ok=B
 * handler_fail=C signals=S" and exits 0. */
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

static struct sockaddr_in dst;
static volatile sig_atomic_t signals, handler_ok, handler_fail;

static int one_connect(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		return -1;
	int r = connect(fd, (struct sockaddr *)&dst, sizeof dst);
	close(fd);
	return r;
}

static void on_alarm(int sig)
{
	(void)sig;
	int e = errno;
	signals++;
	if (one_connect() == 0)
		handler_ok++;
	else
		handler_fail++;
	errno = e;
}

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	if (argc != 3 && !(argc == 4 && strcmp(argv[3], "nodefer") == 0))
		return 2;
	dst.sin_family = AF_INET;
	dst.sin_port = htons(atoi(argv[1]));
	dst.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	double secs = atof(argv[2]);

	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_alarm;
	sa.sa_flags = SA_RESTART | (argc == 4 ? SA_NODEFER : 0);
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
	struct itimerval it = { { 0, 1000 }, { 0, 1000 } };
	setitimer(ITIMER_REAL, &it, NULL);

	long loops = 0, main_ok = 0;
	void *keep[64] = { 0 };
	unsigned seed = 12345;
	double t0 = now_s();
	while (now_s() - t0 < secs) {
		for (int i = 0; i < 200; i++) {
			seed = seed * 1103515245u + 12345u;
			unsigned k = (seed >> 8) % 64;
			size_t sz = 16 + (seed >> 16) % 4096;
			free(keep[k]);
			keep[k] = malloc(sz);
			if (keep[k])
				memset(keep[k], (int)(seed & 0xff), sz < 32 ? sz : 32);
		}
		/* now and then: most reload checks fall to the handler */
		if (loops++ % 500 == 0 && one_connect() == 0)
			main_ok++;
	}
	struct itimerval off = { { 0, 0 }, { 0, 0 } };
	setitimer(ITIMER_REAL, &off, NULL);
	for (int k = 0; k < 64; k++)
		free(keep[k]);
	printf("loops=%ld main_ok=%ld handler_ok=%d handler_fail=%d signals=%d\n", loops, main_ok,
	       (int)handler_ok, (int)handler_fail, (int)signals);
	return 0;
}
