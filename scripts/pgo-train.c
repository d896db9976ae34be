/* pgo-train - the training run of the shim's profile-guided build.
 *
 *   pgo-train SHIM     (run without LD_PRELOAD; the Makefile does, with
 *                      the instrumented shim it built)
 *
 * Starts loopback servers in this process (an echo server, a keep-alive
 * HTTP/1.1 server, and a port that refuses), writes configs naming them
 * into a temporary directory, and runs itself as a client under
 * LD_PRELOAD=SHIM once per workload below.  The instrumented shim writes
 * its counts (.gcda) as each client exits; the Makefile then builds the
 * real shim with them (-fprofile-use -fprofile-partial-training: a
 * function no workload ran is optimised as without a profile).
 *
 * The workloads are the shim's common paths, not one benchmark's:
 *   echo       64-byte write/read on one blocking connection, breaker fd
 *   http       GET and a 200 answer with a body, blocking, send/recv,
 *              under connect_timeout and response_timeout
 *   nonblock   the same over a non-blocking socket: connect in progress,
 *              write, read until EAGAIN, poll (an event loop's way)
 *   connect    a new connection per request (writev/readv), closed after
 *              its answer
 *   refused    connects to a port that refuses, until the breaker opens,
 *              then the fast rejections
 *   unmatched  the echo workload on an fd of no breaker
 * Exit 0 when every workload ran and the shim's log shows it judged them
 * (the breaker of the refusing port opened); 1, with a line on stderr,
 * otherwise, and the Makefile then builds without a profile.  All traffic is on
 * 127.0.0.1, in bounded loops, each client under an alarm. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../tests/progs/bench.h"

#define MSG 64
static const char REQ[] = "GET /train HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
static const char RESP[] = "HTTP/1.1 200 OK\r\nContent-Length: 16\r\n\r\n0123456789abcdef";
#define RESP_LEN (sizeof RESP - 1)

/* ---- the servers (this process, no shim) ---- */

static void *echo_conn(void *arg)
{
	echo_messages((int)(intptr_t)arg, MSG);
	return NULL;
}

static void *http_conn(void *arg)
{
	answer_requests((int)(intptr_t)arg, RESP, RESP_LEN);
	return NULL;
}

struct srv {
	int s;
	void *(*conn)(void *);
};

static void *accept_loop(void *arg)
{
	struct srv *v = arg;
	serve_threads(v->s, v->conn);
	return NULL;
}

static int start(struct srv *v, const char *portfile, void *(*conn)(void *))
{
	v->s = listen_lo(portfile, 128);
	v->conn = conn;
	if (v->s >= 0)
		fcntl(v->s, F_SETFD, FD_CLOEXEC); /* not the clients' */
	pthread_t t;
	if (v->s < 0 || pthread_create(&t, NULL, accept_loop, v))
		return -1;
	pthread_detach(t);
	return 0;
}

static int port_in(const char *path)
{
	FILE *f = fopen(path, "r");
	int p = 0;
	if (f) {
		if (fscanf(f, "%d", &p) != 1)
			p = 0;
		fclose(f);
	}
	return p;
}

/* A port nothing listens on: bound, its number taken, closed. */
static int refusing_port(void)
{
	struct sockaddr_in a = addr_of(0);
	socklen_t l = sizeof a;
	int s = socket(AF_INET, SOCK_STREAM, 0), p = 0;
	if (s >= 0 && bind(s, (struct sockaddr *)&a, sizeof a) == 0 &&
	    getsockname(s, (struct sockaddr *)&a, &l) == 0)
		p = ntohs(a.sin_port);
	if (s >= 0)
		close(s);
	return p;
}

/* ---- the clients (run under the shim) ---- */

static int dial(int port, int nonblock)
{
	struct sockaddr_in a = addr_of(port);
	int s = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	if (s < 0)
		return -1;
	if (nonblock)
		fcntl(s, F_SETFL, fcntl(s, F_GETFL) | O_NONBLOCK);
	if (connect(s, (struct sockaddr *)&a, sizeof a) && errno != EINPROGRESS) {
		close(s);
		return -1;
	}
	if (nonblock) {
		struct pollfd p = { s, POLLOUT, 0 };
		int err = 0;
		socklen_t el = sizeof err;
		if (poll(&p, 1, 5000) != 1 || getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &el) || err) {
			close(s);
			return -1;
		}
	}
	setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	return s;
}

enum { SENDRECV, VECTORS, NONBLOCK };

/* One request and its whole answer: blocking through send/recv or
 * writev/readv, or over a non-blocking socket through write/read, reading
 * until EAGAIN and then polling, as an event loop does. */
static int exchange(int s, int how)
{
	char in[RESP_LEN];
	struct iovec w = { (void *)REQ, sizeof REQ - 1 };
	ssize_t r = how == SENDRECV ? send(s, REQ, sizeof REQ - 1, 0)
		  : how == VECTORS ? writev(s, &w, 1) : write(s, REQ, sizeof REQ - 1);
	if (r != (ssize_t)(sizeof REQ - 1))
		return -1;
	for (size_t n = 0; n < RESP_LEN;) {
		struct iovec v = { in + n, RESP_LEN - n };
		r = how == SENDRECV ? recv(s, in + n, RESP_LEN - n, 0)
		  : how == VECTORS ? readv(s, &v, 1) : read(s, in + n, RESP_LEN - n);
		if (r > 0) {
			n += (size_t)r;
			continue;
		}
		if (r == 0 || how != NONBLOCK || (errno != EAGAIN && errno != EWOULDBLOCK))
			return -1;
		struct pollfd p = { s, POLLIN, 0 };
		if (poll(&p, 1, 5000) != 1)
			return -1;
	}
	return 0;
}

static int client(const char *mode, int port, long n)
{
	char out[MSG], in[MSG];
	memset(out, 'x', sizeof out);
	alarm(120); /* never a hung build */
	if (!strcmp(mode, "echo") || !strcmp(mode, "http") || !strcmp(mode, "nonblock")) {
		int nb = !strcmp(mode, "nonblock"), s = dial(port, nb);
		if (s < 0)
			return 1;
		for (long i = 0; i < n; i++) {
			int r = mode[0] == 'e' ? (write_full(s, out, MSG) || read_full(s, in, MSG))
						: exchange(s, nb ? NONBLOCK : SENDRECV);
			if (r)
				return 1;
		}
		close(s);
		return 0;
	}
	if (!strcmp(mode, "connect")) {
		for (long i = 0; i < n; i++) {
			int s = dial(port, 0);
			if (s < 0 || exchange(s, VECTORS))
				return 1;
			close(s);
		}
		return 0;
	}
	if (!strcmp(mode, "refused")) {
		long refused = 0;
		for (long i = 0; i < n; i++)
			refused += dial(port, 0) < 0; /* refused, then rejected */
		return refused == n ? 0 : 1;
	}
	return 2;
}

/* ---- the driver ---- */

struct run {
	const char *mode, *cfg;
	int port; /* index into ports[] */
	long n;
};

static int run_client(const char *self, const char *shim, const char *dir,
		      const struct run *r, const int *ports)
{
	char cfg[4200], pre[4200], cache[4200], pn[16], nn[24];
	snprintf(cfg, sizeof cfg, "RECLOSER_CONFIG=%s/%s", dir, r->cfg);
	snprintf(pre, sizeof pre, "LD_PRELOAD=%s", shim);
	snprintf(cache, sizeof cache, "RECLOSER_CACHE_DIR=%s", dir);
	snprintf(pn, sizeof pn, "%d", ports[r->port]);
	snprintf(nn, sizeof nn, "%ld", r->n);
	/* the clients' whole environment (made before the fork: the servers'
	 * threads run meanwhile) */
	char *env[] = { pre, cfg, cache, "PATH=/usr/bin:/bin", NULL };
	char *args[] = { (char *)self, "client", (char *)r->mode, pn, nn, NULL };
	pid_t p = fork();
	if (p == 0) {
		execve(self, args, env);
		_exit(127);
	}
	int st;
	if (p < 0 || waitpid(p, &st, 0) != p || !WIFEXITED(st) || WEXITSTATUS(st)) {
		fprintf(stderr, "pgo-train: workload %s did not run through\n", r->mode);
		return -1;
	}
	return 0;
}

static int write_cfg(const char *dir, const char *name, const char *body)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	if (!f)
		return -1;
	fprintf(f, "[global]\nstate_file = %s/state\nlog_file = %s/log\n%s", dir, dir, body);
	return fclose(f);
}

/* Nonzero if DIR/log has a line holding WHAT. */
static int logged(const char *dir, const char *what)
{
	char path[4096], line[1024];
	snprintf(path, sizeof path, "%s/log", dir);
	FILE *f = fopen(path, "r");
	int found = 0;
	while (f && !found && fgets(line, sizeof line, f))
		found = strstr(line, what) != NULL;
	if (f)
		fclose(f);
	return found;
}

int main(int argc, char **argv)
{
	if (argc == 5 && !strcmp(argv[1], "client"))
		return client(argv[2], atoi(argv[3]), atol(argv[4]));
	if (argc != 2) {
		fprintf(stderr, "usage: pgo-train SHIM\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	char dir[] = "/tmp/recloser-pgo.XXXXXX", pf[4200], body[1024];
	if (!mkdtemp(dir)) {
		perror("pgo-train: mkdtemp");
		return 1;
	}
	struct srv echo, http;
	int ports[3] = { 0, 0, 0 }, rc = 1;
	snprintf(pf, sizeof pf, "%s/echo.port", dir);
	if (start(&echo, pf, echo_conn) || !(ports[0] = port_in(pf)))
		goto out;
	snprintf(pf, sizeof pf, "%s/http.port", dir);
	if (start(&http, pf, http_conn) || !(ports[1] = port_in(pf)))
		goto out;
	if (!(ports[2] = refusing_port()))
		goto out;
	snprintf(body, sizeof body,
		 "[echo]\nmatch = 127.0.0.1:%d\n"
		 "[web]\nmatch = 127.0.0.1:%d\nconnect_timeout = 2s\nresponse_timeout = 5s\n"
		 "[down]\nmatch = 127.0.0.1:%d\n", ports[0], ports[1], ports[2]);
	if (write_cfg(dir, "all.ini", body))
		goto out;
	snprintf(body, sizeof body, "[web]\nmatch = 127.0.0.1:%d\n", ports[1]);
	if (write_cfg(dir, "unmatched.ini", body))
		goto out;
	static const struct run runs[] = {
		{ "echo", "all.ini", 0, 4000 },
		{ "http", "all.ini", 1, 3000 },
		{ "nonblock", "all.ini", 1, 3000 },
		{ "connect", "all.ini", 1, 500 },
		{ "refused", "all.ini", 2, 300 },
		{ "echo", "unmatched.ini", 0, 3000 },
	};
	rc = 0;
	for (size_t i = 0; i < sizeof runs / sizeof *runs; i++)
		if (run_client("/proc/self/exe", argv[1], dir, &runs[i], ports))
			rc = 1;
	/* the workloads run without a shim too (ld.so only warns of a
	 * preload it cannot load): the log says whether one judged them */
	if (!rc && !logged(dir, "event=transition breaker=down from=closed to=open")) {
		fprintf(stderr, "pgo-train: %s did not run in the clients (no transition in its log)\n",
			argv[1]);
		rc = 1;
	}
out:
	if (rc && !ports[0])
		fprintf(stderr, "pgo-train: no loopback server could start\n");
	char cmd[4200];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd))
		rc = 1;
	return rc;
}
