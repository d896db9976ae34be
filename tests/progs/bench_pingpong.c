/* bench_pingpong - 64-byte request/response round trips for `make bench`.
 *
 *   bench_pingpong serve PORTFILE   echo 64-byte messages on every accepted
 *                                   connection (a thread each), forever; run
 *                                   it without the shim
 *   bench_pingpong client PORT N    one blocking TCP connection: 1000 warm-up
 *                                   round trips, then N (write 64 bytes, read
 *                                   64 bytes) in 5 rounds of N/5
 *   bench_pingpong mixed PORT_B PORT_U BLOCKS
 *                                   run under the shim with a breaker matching
 *                                   PORT_B and none PORT_U: two connections,
 *                                   and BLOCKS turns of three blocks of 100
 *                                   round trips, in rotating order: on PORT_B's
 *                                   connection through raw system calls (the
 *                                   shim never sees them: as without it), on
 *                                   PORT_U's through read/write (unmatched fd),
 *                                   on PORT_B's through read/write (breaker fd)
 * The client prints "WALL CPU TOTAL": the median wall-clock nanoseconds per
 * round trip over the 5 rounds, the median CPU nanoseconds this (single-
 * threaded) client spent per round trip, user and system, and the round
 * trips it made in all (warm-up included: under a matching breaker each is
 * one call, the first one the connect's).  What the shim adds is CPU work on
 * the client's thread, so CPU is the steadier measure of it; wall time also
 * carries the scheduler's wake-ups on both sides.
 *
 * Separate processes compare whole runs seconds apart, and on a busy small
 * machine runs differ by far more than the shim costs.  `mixed` compares
 * blocks milliseconds apart inside one process, so load drifts hit the
 * three alike; it prints "RAW UNM BRK RAW_CPU UNM_CPU BRK_CPU DU DB DU_CPU
 * DB_CPU TOTAL": the median ns per round trip of each kind of block (wall,
 * then the client's CPU time), the median over the turns of what a round
 * trip on the unmatched and on the breaker fd took more than a raw one in
 * the same turn (wall, CPU), and the round trips made through the breaker
 * fd's hooks (warm-up included: each is one call). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

#define MSG 64
#define WARMUP 1000

static double clock_ns(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static void *echo(void *arg)
{
	echo_messages((int)(intptr_t)arg, MSG);
	return NULL;
}

static int serve(const char *portfile)
{
	int s = listen_lo(portfile, 128);
	if (s < 0)
		return 1;
	serve_threads(s, echo);
	return 1;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static int client(int port, long n)
{
	struct sockaddr_in a = addr_of(port);
	int s = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	if (connect(s, (struct sockaddr *)&a, sizeof a)) {
		perror("connect");
		return 1;
	}
	setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	char out[MSG], in[MSG];
	memset(out, 'x', sizeof out);
	long total = 0, per = n / 5;
	for (long i = 0; i < WARMUP; i++, total++)
		if (write_full(s, out, MSG) || read_full(s, in, MSG))
			goto broken;
	double wall[5], cpu[5];
	for (int round = 0; round < 5; round++) {
		double t0 = clock_ns(CLOCK_MONOTONIC), c0 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
		for (long i = 0; i < per; i++, total++)
			if (write_full(s, out, MSG) || read_full(s, in, MSG))
				goto broken;
		cpu[round] = (clock_ns(CLOCK_THREAD_CPUTIME_ID) - c0) / (double)per;
		wall[round] = (clock_ns(CLOCK_MONOTONIC) - t0) / (double)per;
	}
	close(s);
	qsort(wall, 5, sizeof *wall, cmp);
	qsort(cpu, 5, sizeof *cpu, cmp);
	printf("%.1f %.1f %ld\n", wall[2], cpu[2], total);
	return 0;
broken:
	perror("round trip");
	return 1;
}

/* ---- mixed ---- */

enum { RAW, UNM, BRK, KINDS };
#define BLOCK 100

static int connect_to(int port)
{
	struct sockaddr_in a = addr_of(port);
	int s = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	if (connect(s, (struct sockaddr *)&a, sizeof a)) {
		perror("connect");
		exit(1);
	}
	setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	return s;
}

/* One round trip on S, through the hooks (libc's read/write) or not
 * (raw system calls).  Return 0, or -1 on EOF or error. */
static int round_trip(int s, int raw, char *out, char *in)
{
	if (!raw)
		return write_full(s, out, MSG) || read_full(s, in, MSG) ? -1 : 0;
	size_t n = 0;
	while (n < MSG) {
		long r = syscall(SYS_write, s, out + n, MSG - n);
		if (r <= 0)
			return -1;
		n += (size_t)r;
	}
	for (n = 0; n < MSG;) {
		long r = syscall(SYS_read, s, in + n, MSG - n);
		if (r <= 0)
			return -1;
		n += (size_t)r;
	}
	return 0;
}

static double median_of(double *v, long n)
{
	qsort(v, (size_t)n, sizeof *v, cmp);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static int mixed(int port_b, int port_u, long turns)
{
	int sb = connect_to(port_b), su = connect_to(port_u);
	char out[MSG], in[MSG];
	memset(out, 'x', sizeof out);
	long hooked_b = 0;
	/* warm-up, hooked first: the connect's call ends at the first reply */
	for (int i = 0; i < 1000; i++, hooked_b++)
		if (round_trip(sb, 0, out, in) || round_trip(su, 0, out, in) ||
		    round_trip(sb, 1, out, in))
			goto broken;
	double *w[KINDS], *c[KINDS], *dw[2], *dc[2];
	for (int k = 0; k < KINDS; k++) {
		w[k] = calloc((size_t)turns, sizeof(double));
		c[k] = calloc((size_t)turns, sizeof(double));
	}
	for (int k = 0; k < 2; k++) {
		dw[k] = calloc((size_t)turns, sizeof(double));
		dc[k] = calloc((size_t)turns, sizeof(double));
	}
	for (long t = 0; t < turns; t++) {
		for (int j = 0; j < KINDS; j++) {
			int k = (int)((t + j) % KINDS);
			int s = k == UNM ? su : sb, raw = k == RAW;
			double t0 = clock_ns(CLOCK_MONOTONIC), c0 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
			for (int i = 0; i < BLOCK; i++)
				if (round_trip(s, raw, out, in))
					goto broken;
			c[k][t] = (clock_ns(CLOCK_THREAD_CPUTIME_ID) - c0) / BLOCK;
			w[k][t] = (clock_ns(CLOCK_MONOTONIC) - t0) / BLOCK;
			if (k == BRK)
				hooked_b += BLOCK;
		}
		for (int k = 0; k < 2; k++) {
			dw[k][t] = w[UNM + k][t] - w[RAW][t];
			dc[k][t] = c[UNM + k][t] - c[RAW][t];
		}
	}
	close(sb);
	close(su);
	printf("%.1f %.1f %.1f %.1f %.1f %.1f %.1f %.1f %.1f %.1f %ld\n",
	       median_of(w[RAW], turns), median_of(w[UNM], turns), median_of(w[BRK], turns),
	       median_of(c[RAW], turns), median_of(c[UNM], turns), median_of(c[BRK], turns),
	       median_of(dw[0], turns), median_of(dw[1], turns), median_of(dc[0], turns),
	       median_of(dc[1], turns), hooked_b);
	return 0;
broken:
	perror("round trip");
	return 1;
}

int main(int argc, char **argv)
{
	if (argc == 5 && strcmp(argv[1], "mixed") == 0)
		return mixed(atoi(argv[2]), atoi(argv[3]), atol(argv[4]));
	if (argc == 3 && strcmp(argv[1], "serve") == 0)
		return serve(argv[2]);
	if (argc == 4 && strcmp(argv[1], "client") == 0)
		return client(atoi(argv[2]), atol(argv[3]));
	fprintf(stderr, "usage: bench_pingpong serve PORTFILE | client PORT N |"
			" mixed PORT_B PORT_U TURNS\n");
	return 2;
}
