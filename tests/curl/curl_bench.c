/* curl_bench - libcurl transfer timings for `make bench`, built against the
 * system's libcurl (cc ... -lcurl -pthread) by scripts/bench.sh.
 *
 *   curl_bench serve PORTFILE   a small HTTP/1.1 keep-alive server on
 *                               127.0.0.1, one thread per connection, every
 *                               request answered 200 with a 2-byte body (run
 *                               it without the shim)
 *   curl_bench run URL N        N x curl_easy_perform on one reused handle
 *
 * run prints the median nanoseconds per transfer over 5 rounds of N/5, wall
 * clock then this process's CPU time (user + system: what the shim adds,
 * whatever the server and the machine's other load do), and exits 1 if a
 * transfer did not end with 200. */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../progs/bench.h"

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* CPU time (user + system) this process used, in ns. */
static double cpu_ns(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e9 +
	       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e3;
}

static void *conn_main(void *arg)
{
	static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n"
				   "Content-Type: text/plain\r\n\r\nok";
	answer_requests((int)(intptr_t)arg, resp, sizeof resp - 1);
	return NULL;
}

static int serve(const char *portfile)
{
	int s = listen_lo(portfile, 128);
	if (s < 0)
		return 1;
	serve_threads(s, conn_main);
	return 1;
}

static size_t sink(char *p, size_t sz, size_t n, void *u)
{
	return sz * n;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static int run(const char *url, long n)
{
	CURL *h = curl_easy_init();
	char err[CURL_ERROR_SIZE];
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sink);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, err);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	long per = n / 5 > 0 ? n / 5 : 1;
	double r[5], cpu[5];
	for (int k = 0; k < 5; k++) {
		double t0 = now_ns(), c0 = cpu_ns();
		for (long i = 0; i < per; i++) {
			long code = 0;
			CURLcode c = curl_easy_perform(h);
			curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
			if (c != CURLE_OK || code != 200) {
				fprintf(stderr, "curl_bench: transfer failed: %d %ld %s\n", (int)c, code, err);
				return 1;
			}
		}
		r[k] = (now_ns() - t0) / per;
		cpu[k] = (cpu_ns() - c0) / per;
	}
	qsort(r, 5, sizeof r[0], cmp);
	qsort(cpu, 5, sizeof cpu[0], cmp);
	printf("%.0f %.0f\n", r[2], cpu[2]);
	curl_easy_cleanup(h);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "serve"))
		return serve(argv[2]);
	if (argc == 4 && !strcmp(argv[1], "run")) {
		curl_global_init(CURL_GLOBAL_DEFAULT);
		int r = run(argv[2], atol(argv[3]));
		curl_global_cleanup();
		return r;
	}
	fprintf(stderr, "usage: curl_bench serve PORTFILE | run URL N\n");
	return 2;
}
