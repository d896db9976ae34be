/* bench.h - what the bench_*.c programs share: loopback addresses and a
 * listening socket whose port is published in a file.  Header-only. */
#ifndef BENCH_H
#define BENCH_H
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

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
#endif
