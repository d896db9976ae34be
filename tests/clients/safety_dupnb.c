/* safety_dupnb.c - O_NONBLOCK set through a dup() of a socket, then a
 * recv() on the original fd, for tests/35-host-safety.t.
 *
 *   safety_dupnb PORT
 *
 * Connects to 127.0.0.1:PORT (a server that never answers), dup()s the
 * socket and sets O_NONBLOCK with fcntl on the duplicate (the flag belongs
 * to the open file description, so the original is non-blocking too),
 * sends one request on the original and calls recv() on it once.  Prints
 * "nonblock=0|1 ERRNAME@MS" (or "sNNN@MS" / "EOF@MS"), MS the recv's
 * duration; exits 0 (1 if it cannot connect). */
#define _GNU_SOURCE /* strerrorname_np */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "safety.h"

static long ms_since(const struct timespec *t0)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

int main(int argc, char **argv)
{
	if (argc != 2)
		return 2;
	int fd = connect_lo(argv[1]);
	int d = dup(fd);
	if (d < 0 || fcntl(d, F_SETFL, fcntl(d, F_GETFL) | O_NONBLOCK) != 0) {
		perror("dup/fcntl");
		return 1;
	}
	const char *req = "GET / HTTP/1.1\r\nHost: test\r\n\r\n";
	if (write(fd, req, strlen(req)) != (ssize_t)strlen(req)) {
		perror("write");
		return 1;
	}
	int nb = (fcntl(fd, F_GETFL) & O_NONBLOCK) != 0;
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	char buf[512];
	ssize_t n = recv(fd, buf, sizeof buf - 1, 0);
	int err = errno;
	long ms = ms_since(&t0);
	if (n > 0)
		printf("nonblock=%d s%.3s@%ld\n", nb, n > 12 ? buf + 9 : "???", ms);
	else
		printf("nonblock=%d %s@%ld\n", nb, n == 0 ? "EOF" : strerrorname_np(err), ms);
	close(d);
	close(fd);
	return 0;
}
