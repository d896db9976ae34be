/* fault_dup2race.c - dup2() onto an fd another thread is making calls on,
 * for tests/3a-engine-faults.t: the shim's entry for the fd must never mix
 * the fields of two connections (a call's breaker and its destination come
 * from one of them).
 *
 *   fault_dup2race PORT_A PORT_B SECONDS
 *
 * Connects A and C to 127.0.0.1:PORT_A and B to 127.0.0.1:PORT_B (HTTP
 * keep-alive servers).  For SECONDS, one thread sends a request on A, waits
 * at most 2 ms for it to be readable and reads what came (send and recv
 * with MSG_DONTWAIT), over and over;
 * another thread dup2()s B onto A, then C onto A, over and over, so A's
 * number is by turns a connection to PORT_B and to PORT_A.  Prints
 * "writes=W reads=R dups=D" and exits 0; 1 on a setup failure. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "safety.h"

static int A, B, C;
static volatile int stop;
static long writes, reads, dups;

static void *caller(void *arg)
{
	(void)arg;
	const char *req = "GET / HTTP/1.1\r\nHost: test\r\n\r\n";
	char buf[4096];
	while (!stop) {
		/* never blocking: by the time of the read, A may be another
		 * connection, with nothing to read */
		if (send(A, req, strlen(req), MSG_DONTWAIT | MSG_NOSIGNAL) > 0)
			writes++;
		struct pollfd p = { .fd = A, .events = POLLIN };
		if (poll(&p, 1, 2) > 0 && recv(A, buf, sizeof buf, MSG_DONTWAIT) > 0)
			reads++;
	}
	return NULL;
}

static void *duper(void *arg)
{
	(void)arg;
	while (!stop) {
		if (dup2(B, A) == A)
			dups++;
		if (dup2(C, A) == A)
			dups++;
	}
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc != 4)
		return 2;
	signal(SIGPIPE, SIG_IGN);
	A = connect_lo(argv[1]);
	B = connect_lo(argv[2]);
	C = connect_lo(argv[1]);
	pthread_t t1, t2;
	if (pthread_create(&t1, NULL, caller, NULL) || pthread_create(&t2, NULL, duper, NULL)) {
		fprintf(stderr, "pthread_create failed\n");
		return 1;
	}
	double s = atof(argv[3]);
	struct timespec d = { (time_t)s, (long)((s - (time_t)s) * 1e9) };
	nanosleep(&d, NULL);
	stop = 1;
	pthread_join(t1, NULL);
	pthread_join(t2, NULL);
	printf("writes=%ld reads=%ld dups=%ld\n", writes, reads, dups);
	return 0;
}
