/* bench_pingpong - 64-byte request/response round trips for `make bench`.
 *
 *   bench_pingpong serve PORTFILE   echo 64-byte messages on every accepted
 *                                   connection (a thread each), forever; run
 *                                   it without the shim
 *   bench_pingpong client PORT N    one blocking TCP connection: 1000 warm-up
 *                                   round trips, then N (write 64 bytes, read
 *                                   64 bytes) in 5 rounds of N/5
 * The client prints "WALL CPU TOTAL": the median wall-clock nanoseconds per
 * round trip over the 5 rounds, the median CPU nanoseconds this (single-
 * threaded) client spent per round trip, user and system, and the round
 * trips it made in all (warm-up included: under a matching breaker each is
 * one call, the first one the connect's).  What the shim adds is CPU work on
 * the client's thread, so CPU is the steadier measure of it; wall time also
 * carries the scheduler's wake-ups on both sides. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MSG 64
#define WARMUP 1000

static double clock_ns(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static struct sockaddr_in addr_of(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return a;
}

/* Read exactly N bytes.  Return 0, or -1 on EOF or error. */
static int read_full(int fd, char *buf, size_t n)
{
	while (n) {
		ssize_t r = read(fd, buf, n);
		if (r <= 0)
			return -1;
		buf += r;
		n -= (size_t)r;
	}
	return 0;
}

static int write_full(int fd, const char *buf, size_t n)
{
	while (n) {
		ssize_t r = write(fd, buf, n);
		if (r <= 0)
			return -1;
		buf += r;
		n -= (size_t)r;
	}
	return 0;
}

static void *echo(void *arg)
{
	int c = (int)(intptr_t)arg;
	char buf[MSG];
	while (read_full(c, buf, MSG) == 0 && write_full(c, buf, MSG) == 0)
		;
	close(c);
	return NULL;
}

static int serve(const char *portfile)
{
	int s = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	struct sockaddr_in a = addr_of(0);
	socklen_t l = sizeof a;
	if (bind(s, (struct sockaddr *)&a, sizeof a) || listen(s, 128) ||
	    getsockname(s, (struct sockaddr *)&a, &l)) {
		perror("serve");
		return 1;
	}
	char tmp[4096];
	snprintf(tmp, sizeof tmp, "%s.tmp", portfile);
	FILE *f = fopen(tmp, "w");
	fprintf(f, "%d\n", ntohs(a.sin_port));
	fclose(f);
	rename(tmp, portfile);
	for (;;) {
		int c = accept(s, NULL, NULL);
		if (c < 0)
			continue;
		setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		pthread_t t;
		if (pthread_create(&t, NULL, echo, (void *)(intptr_t)c) == 0)
			pthread_detach(t);
		else
			close(c);
	}
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

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "serve") == 0)
		return serve(argv[2]);
	if (argc == 4 && strcmp(argv[1], "client") == 0)
		return client(atoi(argv[2]), atol(argv[3]));
	fprintf(stderr, "usage: bench_pingpong serve PORTFILE | client PORT N\n");
	return 2;
}
