/* safety_recvmsg.c - recvmsg() with a bad msghdr on a connected TCP socket
 * that has an answer waiting, for tests/35-host-safety.t.
 *
 *   safety_recvmsg PORT
 *
 * Sends one HTTP request, then calls recvmsg(fd, NULL, 0) and recvmsg with
 * a msghdr whose msg_iov is NULL and msg_iovlen 1: the kernel fails both
 * with EFAULT.  Then reads the answer with a plain recv.  Prints
 * "null=R/ERRNAME iovnull=R/ERRNAME then=WORD" (WORD: the answer's first
 * word, or the read's error) and exits 0; exits 1 if it cannot connect. */
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

static const char *err_of(ssize_t r)
{
	return r < 0 ? strerrorname_np(errno) : "-";
}

int main(int argc, char **argv)
{
	if (argc != 2)
		return 2;
	int fd = connect_lo(argv[1]);
	send_get(fd);
	ssize_t r1 = recvmsg(fd, NULL, 0);
	printf("null=%zd/%s ", r1, err_of(r1));
	struct msghdr m;
	memset(&m, 0, sizeof m);
	m.msg_iovlen = 1;
	ssize_t r2 = recvmsg(fd, &m, 0);
	printf("iovnull=%zd/%s ", r2, err_of(r2));
	char buf[512];
	ssize_t n = recv(fd, buf, sizeof buf - 1, 0);
	if (n > 0) {
		buf[n] = 0;
		buf[strcspn(buf, " \r\n")] = 0;
		printf("then=%s\n", buf);
	} else {
		printf("then=%s\n", n == 0 ? "EOF" : strerrorname_np(errno));
	}
	close(fd);
	return 0;
}
