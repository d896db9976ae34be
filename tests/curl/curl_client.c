/* curl_client - libcurl transfers for the tests, built against the system's
 * libcurl (cc ... -lcurl) by the tests themselves.
 *
 *   curl_client easy URL N [OPTIONS]    N transfers on one reused handle
 *   curl_client multi URL N [OPTIONS]   N handles at once in a multi handle,
 *                                       curl_multi_perform + curl_multi_poll
 *   curl_client socket URL N [OPTIONS]  the same, driven by
 *                                       curl_multi_socket_action and poll(2)
 * OPTIONS:
 *   --insecure          no TLS certificate check
 *   --curlu             give the URL as a CURLU handle (CURLOPT_CURLU)
 *   --ctl FILE V1,V2..  before transfer i (easy), write Vi to FILE (a
 *                       faultserver control file)
 *   --connect-timeout MS  CURLOPT_CONNECTTIMEOUT_MS
 *   --after-add CMD     (multi) run CMD with system(3) once the handles are
 *                       added, before the first curl_multi_perform
 *
 * One line per transfer, in order:
 *   i=1 code=0 http=200 ip=127.0.0.1 port=8080 connects=1 oserr=0 total_us=123 err=TEXT
 * (err= last: the error buffer, may hold spaces). */
#include <curl/curl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int insecure, use_curlu;
static long connect_ms = -1;
static const char *after_add;

static size_t sink(char *p, size_t sz, size_t n, void *u)
{
	return sz * n;
}

struct xfer {
	CURL *h;
	CURLU *u;
	char err[CURL_ERROR_SIZE];
	CURLcode code;
	int done;
};

static void setup(struct xfer *x, const char *url)
{
	if (!x->h)
		x->h = curl_easy_init();
	CURL *h = x->h;
	x->err[0] = 0;
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, x->err);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sink);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	if (insecure) {
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (connect_ms >= 0)
		curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, connect_ms);
	if (use_curlu) {
		if (!x->u) {
			x->u = curl_url();
			curl_url_set(x->u, CURLUPART_URL, url, 0);
		}
		curl_easy_setopt(h, CURLOPT_CURLU, x->u);
	} else {
		curl_easy_setopt(h, CURLOPT_URL, url);
	}
}

static void report(int i, struct xfer *x)
{
	long http = -1, port = -1, connects = -1, oserr = -1;
	char *ip = NULL;
	curl_off_t total = -1;
	curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &http);
	curl_easy_getinfo(x->h, CURLINFO_PRIMARY_IP, &ip);
	curl_easy_getinfo(x->h, CURLINFO_PRIMARY_PORT, &port);
	curl_easy_getinfo(x->h, CURLINFO_NUM_CONNECTS, &connects);
	curl_easy_getinfo(x->h, CURLINFO_OS_ERRNO, &oserr);
	curl_easy_getinfo(x->h, CURLINFO_TOTAL_TIME_T, &total);
	printf("i=%d code=%d http=%ld ip=%s port=%ld connects=%ld oserr=%ld total_us=%lld err=%s\n", i,
	       (int)x->code, http, ip ? ip : "(null)", port, connects, oserr, (long long)total,
	       x->err);
	fflush(stdout);
}

static void write_ctl(const char *file, const char *vals, int i)
{
	const char *p = vals;
	for (int k = 1; k < i && p; k++) {
		p = strchr(p, ',');
		if (p)
			p++;
	}
	if (!p)
		return;
	char tmp[4096];
	snprintf(tmp, sizeof tmp, "%s.tmp", file);
	FILE *f = fopen(tmp, "w");
	if (!f)
		return;
	fprintf(f, "%.*s\n", (int)strcspn(p, ","), p);
	fclose(f);
	rename(tmp, file);
}

static int run_easy(const char *url, int n, const char *ctl, const char *vals)
{
	struct xfer x;
	memset(&x, 0, sizeof x);
	for (int i = 1; i <= n; i++) {
		if (ctl)
			write_ctl(ctl, vals, i);
		setup(&x, url);
		x.code = curl_easy_perform(x.h);
		report(i, &x);
	}
	curl_easy_cleanup(x.h);
	if (x.u)
		curl_url_cleanup(x.u);
	return 0;
}

static struct xfer *start_all(CURLM *m, const char *url, int n)
{
	struct xfer *xs = calloc((size_t)n, sizeof *xs);
	for (int i = 0; i < n; i++) {
		setup(&xs[i], url);
		curl_easy_setopt(xs[i].h, CURLOPT_PRIVATE, &xs[i]);
		curl_multi_add_handle(m, xs[i].h);
	}
	return xs;
}

static void collect(CURLM *m)
{
	CURLMsg *msg;
	int left;
	while ((msg = curl_multi_info_read(m, &left))) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		struct xfer *x = NULL;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
		x->code = msg->data.result;
		x->done = 1;
	}
}

static void finish_all(CURLM *m, struct xfer *xs, int n)
{
	for (int i = 0; i < n; i++) {
		report(i + 1, &xs[i]);
		curl_multi_remove_handle(m, xs[i].h);
		curl_easy_cleanup(xs[i].h);
		if (xs[i].u)
			curl_url_cleanup(xs[i].u);
	}
	curl_multi_cleanup(m);
	free(xs);
}

static int run_multi(const char *url, int n)
{
	CURLM *m = curl_multi_init();
	struct xfer *xs = start_all(m, url, n);
	int running = 1;
	if (after_add && system(after_add) != 0)
		fprintf(stderr, "curl_client: %s failed\n", after_add);
	while (running) {
		curl_multi_perform(m, &running);
		collect(m);
		if (running)
			curl_multi_poll(m, NULL, 0, 1000, NULL);
	}
	collect(m);
	finish_all(m, xs, n);
	return 0;
}

/* ---- curl_multi_socket_action with poll(2) ---- */

#define MAXS 256
static struct pollfd pfds[MAXS];
static int npfds;
static long timer_ms = -1;

static int on_socket(CURL *e, curl_socket_t s, int what, void *u, void *sp)
{
	int k;
	for (k = 0; k < npfds && pfds[k].fd != s; k++)
		;
	if (what == CURL_POLL_REMOVE) {
		if (k < npfds)
			pfds[k] = pfds[--npfds];
		return 0;
	}
	if (k == npfds) {
		if (npfds == MAXS)
			return -1;
		npfds++;
	}
	pfds[k].fd = s;
	pfds[k].events = (short)((what & CURL_POLL_IN ? POLLIN : 0) |
				 (what & CURL_POLL_OUT ? POLLOUT : 0));
	return 0;
}

static int on_timer(CURLM *m, long ms, void *u)
{
	timer_ms = ms;
	return 0;
}

static int run_socket(const char *url, int n)
{
	CURLM *m = curl_multi_init();
	curl_multi_setopt(m, CURLMOPT_SOCKETFUNCTION, on_socket);
	curl_multi_setopt(m, CURLMOPT_TIMERFUNCTION, on_timer);
	struct xfer *xs = start_all(m, url, n);
	int running = n, done = 0;
	while (!done) {
		int to = timer_ms < 0 ? 1000 : (int)timer_ms;
		int r = poll(pfds, (nfds_t)npfds, to);
		if (r <= 0) {
			timer_ms = -1;
			curl_multi_socket_action(m, CURL_SOCKET_TIMEOUT, 0, &running);
		} else {
			struct pollfd ready[MAXS];
			int nr = 0;
			for (int k = 0; k < npfds; k++)
				if (pfds[k].revents)
					ready[nr++] = pfds[k];
			for (int k = 0; k < nr; k++) {
				int ev = (ready[k].revents & POLLIN ? CURL_CSELECT_IN : 0) |
					 (ready[k].revents & POLLOUT ? CURL_CSELECT_OUT : 0) |
					 (ready[k].revents & (POLLERR | POLLHUP) ? CURL_CSELECT_ERR : 0);
				curl_multi_socket_action(m, ready[k].fd, ev, &running);
			}
		}
		collect(m);
		done = 1;
		for (int i = 0; i < n; i++)
			if (!xs[i].done)
				done = 0;
	}
	finish_all(m, xs, n);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: curl_client easy|multi|socket URL N [options]\n");
		return 2;
	}
	const char *ctl = NULL, *vals = NULL;
	for (int i = 4; i < argc; i++) {
		if (!strcmp(argv[i], "--insecure"))
			insecure = 1;
		else if (!strcmp(argv[i], "--curlu"))
			use_curlu = 1;
		else if (!strcmp(argv[i], "--ctl") && i + 2 < argc) {
			ctl = argv[++i];
			vals = argv[++i];
		} else if (!strcmp(argv[i], "--after-add") && i + 1 < argc)
			after_add = argv[++i];
		else if (!strcmp(argv[i], "--connect-timeout") && i + 1 < argc)
			connect_ms = atol(argv[++i]);
		else {
			fprintf(stderr, "curl_client: unknown option %s\n", argv[i]);
			return 2;
		}
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	int n = atoi(argv[3]), r;
	if (!strcmp(argv[1], "easy"))
		r = run_easy(argv[2], n, ctl, vals);
	else if (!strcmp(argv[1], "multi"))
		r = run_multi(argv[2], n);
	else if (!strcmp(argv[1], "socket"))
		r = run_socket(argv[2], n);
	else
		r = 2;
	curl_global_cleanup();
	return r;
}
