/* bench.h - what the bench programs (tests/progs/bench_*.c,
 * tests/curl/curl_bench.c, scripts/pgo-train.c) share: loopback addresses,
 * a listening socket whose port is published in a file, whole reads and
 * writes, a server of a thread per connection, and what those threads
 * run: an echo of fixed-size messages and a keep-alive HTTP responder.
 * Header-only (build with -pthread). */
#ifndef BENCH_H
#define BENCH_H
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* 127.0.0.1:PORT. */
__attribute__((unused)) static struct sockaddr_in addr_of(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return a;
}

/* Listen on 127.0.0.1 (a free port, BACKLOG) and write the port to
 * PORTFILE atomically (a temporary file, then rename).  Return the
 * listening socket, or -1 after perror. */
__attribute__((unused)) static int listen_lo(const char *portfile, int backlog)
{
	int s = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	struct sockaddr_in a = addr_of(0);
	socklen_t l = sizeof a;
	if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof a) || listen(s, backlog) ||
	    getsockname(s, (struct sockaddr *)&a, &l)) {
		perror("listen");
		return -1;
	}
	char tmp[4096];
	snprintf(tmp, sizeof tmp, "%s.tmp", portfile);
	FILE *f = fopen(tmp, "w");
	if (!f) {
		perror(tmp);
		return -1;
	}
	fprintf(f, "%d\n", ntohs(a.sin_port));
	fclose(f);
	rename(tmp, portfile);
	return s;
}

/* Read, or write, exactly N bytes.  Return 0, or -1 on EOF or error. */
__attribute__((unused)) static int read_full(int fd, char *buf, size_t n)
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

__attribute__((unused)) static int write_full(int fd, const char *buf, size_t n)
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

/* Accept connections on S forever, each (close-on-exec, TCP_NODELAY) in
 * a thread of its own: CONN((void *)(intptr_t)fd), which closes it. */
__attribute__((unused)) static void serve_threads(int s, void *(*conn)(void *))
{
	for (;;) {
		int c = accept(s, NULL, NULL), one = 1;
		if (c < 0) {
			usleep(1000); /* EMFILE and the like: never a spin */
			continue;
		}
		fcntl(c, F_SETFD, FD_CLOEXEC);
		setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		pthread_t t;
		if (pthread_create(&t, NULL, conn, (void *)(intptr_t)c) == 0)
			pthread_detach(t);
		else
			close(c);
	}
}

/* Send back every message of N bytes (at most 4096) read from FD, until
 * the peer closes it; then close FD. */
__attribute__((unused)) static void echo_messages(int fd, size_t n)
{
	char buf[4096];
	if (n > sizeof buf)
		n = sizeof buf;
	while (read_full(fd, buf, n) == 0 && write_full(fd, buf, n) == 0)
		;
	close(fd);
}

/* Answer every request read from FD (each up to its blank line: requests
 * without a body) with the LEN bytes of RESP, keeping the connection,
 * until the peer closes it or sends a header block of over 16 KiB; then
 * close FD. */
__attribute__((unused)) static void answer_requests(int fd, const char *resp, size_t len)
{
	char buf[16384];
	size_t have = 0;
	for (;;) {
		ssize_t n = read(fd, buf + have, sizeof buf - 1 - have);
		if (n <= 0)
			break;
		have += (size_t)n;
		buf[have] = 0;
		char *end;
		while ((end = strstr(buf, "\r\n\r\n"))) {
			if (write_full(fd, resp, len))
				goto out;
			size_t used = (size_t)(end + 4 - buf);
			memmove(buf, buf + used, have - used + 1);
			have -= used;
		}
		if (have == sizeof buf - 1)
			break;
	}
out:
	close(fd);
}
#endif
