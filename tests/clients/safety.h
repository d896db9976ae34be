/* safety.h - what the safety_*.c test clients share.  Header-only: each
 * client is compiled on its own by tests/35-host-safety.t. */
#ifndef SAFETY_H
#define SAFETY_H
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Connect a blocking TCP socket to 127.0.0.1:PORT.  Return the fd, or
 * print why and exit 1. */
__attribute__((unused)) static int connect_lo(const char *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(atoi(port)) };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
		perror("connect");
		exit(1);
	}
	return fd;
}

/* Send one HTTP GET on FD, or print why and exit 1. */
__attribute__((unused)) static void send_get(int fd)
{
	const char *req = "GET / HTTP/1.1\r\nHost: test\r\n\r\n";
	if (write(fd, req, strlen(req)) != (ssize_t)strlen(req)) {
		perror("write");
		exit(1);
	}
}
#endif
