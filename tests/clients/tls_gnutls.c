/* tls_gnutls.c - a GnuTLS client on a blocking socket, for tests/81-tls.t:
 * its whole handshake (several round trips) is one gnutls_handshake call,
 * the session is given the fd (gnutls_transport_set_int), so the shim
 * learns the session's socket only from the socket calls inside it.  N GET
 * requests on one kept-alive connection; per request one line
 * "I STATUS ok" or "I ERR WHAT CODE".
 *
 *   tls_gnutls PORT CAFILE N */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <gnutls/gnutls.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* gnutls_record_recv, again on GNUTLS_E_AGAIN and _INTERRUPTED (a TLS 1.3
 * session ticket read alone returns E_AGAIN, blocking socket or not). */
static ssize_t rd(gnutls_session_t s, char *buf, size_t n)
{
	ssize_t r;
	do
		r = gnutls_record_recv(s, buf, n);
	while (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED);
	return r;
}

/* Read one response's head and its Content-Length body; its status or -1. */
static int response(gnutls_session_t s, int *code)
{
	char buf[16384];
	size_t have = 0;
	char *end = NULL;
	while (!end) {
		if (have == sizeof buf - 1)
			return -1;
		ssize_t r = rd(s, buf + have, sizeof buf - 1 - have);
		if (r <= 0) {
			*code = (int)r;
			return -1;
		}
		have += (size_t)r;
		buf[have] = 0;
		end = strstr(buf, "\r\n\r\n");
	}
	int status = atoi(buf + 9);
	const char *cl = strcasestr(buf, "\r\ncontent-length:");
	size_t want = cl ? (size_t)atol(cl + 17) : 0;
	size_t got = have - (size_t)(end + 4 - buf);
	while (got < want) {
		ssize_t r = rd(s, buf, sizeof buf);
		if (r <= 0) {
			*code = (int)r;
			return -1;
		}
		got += (size_t)r;
	}
	return status;
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: tls_gnutls PORT CAFILE N\n");
		return 2;
	}
	int n = atoi(argv[3]);
	gnutls_certificate_credentials_t cred;
	gnutls_session_t s;
	if (gnutls_global_init() < 0 || gnutls_certificate_allocate_credentials(&cred) < 0 ||
	    gnutls_certificate_set_x509_trust_file(cred, argv[2], GNUTLS_X509_FMT_PEM) < 0)
		return 2;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[1])) };
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		printf("0 ERR connect 0\n");
		return 1;
	}
	if (gnutls_init(&s, GNUTLS_CLIENT) < 0 || gnutls_set_default_priority(s) < 0 ||
	    gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, cred) < 0)
		return 2;
	gnutls_session_set_verify_cert(s, "localhost", 0);
	gnutls_transport_set_int(s, fd);
	int r;
	do
		r = gnutls_handshake(s);
	while (r < 0 && !gnutls_error_is_fatal(r));
	if (r < 0) {
		printf("0 ERR handshake %d\n", r);
		return 1;
	}
	const char req[] = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
	for (int i = 0; i < n; i++) {
		if (gnutls_record_send(s, req, sizeof req - 1) != (ssize_t)(sizeof req - 1)) {
			printf("%d ERR send 0\n", i);
			return 1;
		}
		int code = 0, st = response(s, &code);
		if (st < 0) {
			printf("%d ERR recv %d\n", i, code);
			return 1;
		}
		printf("%d %d ok\n", i, st);
		fflush(stdout);
	}
	gnutls_bye(s, GNUTLS_SHUT_WR);
	close(fd);
	gnutls_deinit(s);
	gnutls_certificate_free_credentials(cred);
	gnutls_global_deinit();
	return 0;
}
