/* tls_nb.c - an OpenSSL client on a non-blocking socket, for
 * tests/81-tls.t: a non-blocking connect, then SSL_connect, SSL_write and
 * SSL_read each retried on WANT_READ/WANT_WRITE after a poll(2), as event
 * loops do.  N GET requests on one kept-alive connection; per request one
 * line "I STATUS MS WANTS" (WANTS: the WANT_* returns it went through) or
 * "I ERR WHAT MS".  With TLS_NB_BLOCKING_HANDSHAKE=1 the socket is made
 * blocking for the handshake (one SSL_connect call, the server's answer
 * read inside it), non-blocking again after.  Neither way asks SO_ERROR.
 *
 *   tls_nb PORT N */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* Wait (at most 30 s) for what SSL_get_error asked; 0 or -1. */
static int await(int fd, int err)
{
	struct pollfd p = { fd, err == SSL_ERROR_WANT_WRITE ? POLLOUT : POLLIN, 0 };
	return poll(&p, 1, 30000) == 1 ? 0 : -1;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: tls_nb PORT N\n");
		return 2;
	}
	int n = atoi(argv[2]);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[1])) };
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	long t0 = now_ms();
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0 && errno != EINPROGRESS) {
		printf("0 ERR connect %ld\n", now_ms() - t0);
		return 1;
	}
	struct pollfd p = { fd, POLLOUT, 0 };
	poll(&p, 1, 30000);
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	SSL *s = SSL_new(ctx);
	SSL_set_fd(s, fd);
	const char *bh = getenv("TLS_NB_BLOCKING_HANDSHAKE");
	int blocking_hs = bh && *bh == '1';
	if (blocking_hs)
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	int r, wants = 0;
	while ((r = SSL_connect(s)) != 1) {
		int e = SSL_get_error(s, r);
		if ((e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) || await(fd, e) < 0) {
			printf("0 ERR handshake %ld\n", now_ms() - t0);
			return 1;
		}
		wants++;
	}
	if (blocking_hs)
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	const char req[] = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
	for (int i = 0; i < n; i++) {
		long t = now_ms();
		while ((r = SSL_write(s, req, (int)sizeof req - 1)) <= 0) {
			int e = SSL_get_error(s, r);
			if ((e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) || await(fd, e) < 0) {
				printf("%d ERR write %ld\n", i, now_ms() - t);
				return 1;
			}
			wants++;
		}
		/* the answer: its head, then Content-Length bytes of body */
		char buf[65536];
		size_t got = 0;
		long want = -1;
		char *body = NULL;
		while (want < 0 || (long)(got - (size_t)(body - buf)) < want) {
			r = SSL_read(s, buf + got, (int)(sizeof buf - 1 - got));
			if (r <= 0) {
				int e = SSL_get_error(s, r);
				if ((e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) ||
				    await(fd, e) < 0) {
					printf("%d ERR read %ld\n", i, now_ms() - t);
					return 1;
				}
				wants++;
				continue;
			}
			got += (size_t)r;
			buf[got] = 0;
			if (!body && (body = strstr(buf, "\r\n\r\n"))) {
				body += 4;
				char *cl = strcasestr(buf, "Content-Length:");
				want = cl ? atol(cl + 15) : 0;
			}
		}
		printf("%d %.3s %ld %d\n", i, buf + 9, now_ms() - t, wants);
		fflush(stdout);
	}
	SSL_free(s);
	SSL_CTX_free(ctx);
	close(fd);
	return 0;
}
