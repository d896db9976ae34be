/* bench.h - what the bench programs (tests/progs/bench_*.c,
 * tests/curl/curl_bench.c, scripts/pgo-train.c) share: loopback addresses,
 * a listening socket whose port is published in a file, and a keep-alive
 * HTTP responder.  Header-only. */
#ifndef BENCH_H
#define BENCH_H
#include <arpa/inet.h>
#include <netinet/in.h>
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
			for (size_t off = 0; off < len;) {
				ssize_t w = write(fd, resp + off, len - off);
				if (w <= 0)
					goto out;
				off += (size_t)w;
			}
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
