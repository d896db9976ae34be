/* bench_connect - connect(2) timings for `make bench`.
 *
 *   bench_connect serve PORTFILE        accept and close, forever (run it
 *                                       without the shim)
 *   bench_connect connect PORT N        N x (socket, connect, close)
 *   bench_connect reject PORT N         N x connect on one socket (against
 *                                       an open breaker: no system call)
 *   bench_connect refused PORT N        N x connect on one socket to a
 *                                       closed port (the kernel's refusal)
 * Prints the median nanoseconds per operation over 5 rounds of N/5. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int serve(const char *portfile)
{
	int s = listen_lo(portfile, 4096);
	if (s < 0)
		return 1;
	for (;;) {
		int c = accept(s, NULL, NULL);
		if (c >= 0)
			close(c);
	}
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "serve") == 0)
		return serve(argv[2]);
	if (argc != 4)
		return fprintf(stderr, "usage: see the source\n"), 2;
	const char *mode = argv[1];
	struct sockaddr_in a = addr_of(atoi(argv[2]));
	long n = atol(argv[3]) / 5;
	double r[5];
	int reuse = strcmp(mode, "connect") != 0;
	for (int round = 0; round < 5; round++) {
		int s = reuse ? socket(AF_INET, SOCK_STREAM, 0) : -1;
		double t0 = now_ns();
		for (long i = 0; i < n; i++) {
			if (!reuse)
				s = socket(AF_INET, SOCK_STREAM, 0);
			int rc = connect(s, (struct sockaddr *)&a, sizeof a);
			if (!reuse) {
				if (rc != 0) {
					perror("connect");
					return 1;
				}
				struct linger lg = { 1, 0 }; /* RST: no TIME_WAIT pile-up */
				setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
				close(s);
			} else if (rc == 0 || errno != ECONNREFUSED) {
				fprintf(stderr, "%s: connect did not fail with ECONNREFUSED\n", mode);
				return 1;
			}
		}
		r[round] = (now_ns() - t0) / (double)n;
		if (reuse)
			close(s);
	}
	qsort(r, 5, sizeof *r, cmp);
	printf("%.1f\n", r[2]);
	return 0;
}
