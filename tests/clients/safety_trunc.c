/* safety_trunc.c - one HTTP request over a blocking TCP socket, then the
 * first bytes of the answer discarded with MSG_TRUNC into a NULL buffer
 * (on TCP the kernel drops them without writing anything), for
 * tests/35-host-safety.t.
 *
 *   safety_trunc PORT recv|recvfrom|recvmsg
 *
 * recv/recvfrom pass buf = NULL, len 16; recvmsg passes one iovec
 * { NULL, 16 }.  Prints "trunc=N" (the byte count) or "trunc=-1/ERRNAME",
 * closes the socket and exits 0; exits 1 if it cannot connect. */
#define _GNU_SOURCE /* strerrorname_np */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "safety.h"

int main(int argc, char **argv)
{
	if (argc != 3)
		return 2;
	int fd = connect_lo(argv[1]);
	send_get(fd);
	ssize_t r;
	if (strcmp(argv[2], "recv") == 0) {
		r = recv(fd, NULL, 16, MSG_TRUNC);
	} else if (strcmp(argv[2], "recvfrom") == 0) {
		r = recvfrom(fd, NULL, 16, MSG_TRUNC, NULL, NULL);
	} else if (strcmp(argv[2], "recvmsg") == 0) {
		struct iovec iov = { NULL, 16 };
		struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
		r = recvmsg(fd, &m, MSG_TRUNC);
	} else {
		return 2;
	}
	if (r < 0)
		printf("trunc=-1/%s\n", strerrorname_np(errno));
	else
		printf("trunc=%zd\n", r);
	close(fd);
	return 0;
}
