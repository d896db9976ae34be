/* dashboard.c - `recloser dashboard [-c FILE] [--listen ADDR:PORT]
 * [--read-only]`: the breakers in a browser, and /metrics to scrape.
 *
 * An HTTP server (libmicrohttpd, its own thread) over dashdata.c, which
 * the main thread samples once a second until SIGINT or SIGTERM.  Pages
 * and scripts are embedded at build time (assets.h), Chart.js among them:
 * nothing is loaded from the network.
 *
 * Security: it listens on 127.0.0.1 unless told otherwise.  Every
 * state-changing request is a POST that carries the token made at start
 * (getrandom; printed once in the URL, and kept mode 0600 in
 * STATE_FILE.dashboard-PORT.token while running) in an X-Recloser-Token
 * header, and comes from the page's own origin: an Origin header must be
 * http:// and the Host asked for, and a Sec-Fetch-Site header must say
 * same-origin.  On a loopback address the Host itself must name that
 * address (or localhost) and the port, so that a DNS name rebound to
 * 127.0.0.1 reaches nothing.  --read-only refuses every POST (403).
 * Every response forbids framing and any script but the page's own. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/assets.h"
#include "cli/cli.h"
#include "cli/dashdata.h"
#include "cli/dashview.h"
#include "cli/verbs.h"
#include "core/breaker.h"

#define DASH_PORT   8471       /* the default port: see the man page */
#define BODY_MAX    (64 * 1024)

struct server {
	dashdata *d;
	int       read_only;
	char      token[65];
	char      hosts[3][80];     /* Host values accepted (loopback); */
	int       nhosts;           /* 0: any */
	int       ready;            /* hosts set (atomic): before, every
	                               request is refused (the server's thread
	                               runs before the port it bound is known) */
};

struct req {
	char  *body;
	size_t len;
	int    too_big;
};

static const char csp[] =
	"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
	"connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/* Queue STATUS with BODY (LEN bytes; FREE: malloc'd, ours to free). */
static enum MHD_Result reply(struct MHD_Connection *conn, unsigned status, const char *type,
			     const void *body, size_t len, int free_it)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, (void *)body,
		free_it ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
	enum MHD_Result ret;

	if (!r) {
		if (free_it)
			free((void *)body);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", type);
	MHD_add_response_header(r, "Content-Security-Policy", csp);
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "X-Frame-Options", "DENY");
	MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(r, "Cache-Control", "no-store");
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

/* A JSON answer {"ok": OK, "message": MSG}. */
static enum MHD_Result answer(struct MHD_Connection *conn, unsigned status, int ok,
			      const char *msg)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		return MHD_NO;
	fprintf(f, "{\"ok\": %s, \"message\": \"", ok ? "true" : "false");
	dashview_json_str(f, msg);
	fputs("\"}\n", f);
	if (fclose(f) != 0) {
		free(text);
		return MHD_NO;
	}
	return reply(conn, status, "application/json", text, len, 1);
}

static const char *header(struct MHD_Connection *conn, const char *name)
{
	return MHD_lookup_connection_value(conn, MHD_HEADER_KIND, name);
}

/* The Host asked for is one we answer to (see the top). */
static int host_ok(const struct server *S, struct MHD_Connection *conn)
{
	const char *h = header(conn, "Host");

	if (!__atomic_load_n(&S->ready, __ATOMIC_ACQUIRE))
		return 0;
	if (!S->nhosts)
		return 1;
	if (!h)
		return 0;
	for (int i = 0; i < S->nhosts; i++)
		if (strcasecmp(h, S->hosts[i]) == 0)
			return 1;
	return 0;
}

/* A POST from the page itself, with the token: NULL, else why not. */
static const char *refused(const struct server *S, struct MHD_Connection *conn)
{
	const char *origin = header(conn, "Origin"), *site = header(conn, "Sec-Fetch-Site");
	const char *host = header(conn, "Host"), *tok = header(conn, "X-Recloser-Token");

	if (S->read_only)
		return "this dashboard is read-only (--read-only): nothing can be changed";
	if (origin && (!host || strncmp(origin, "http://", 7) != 0 ||
		       strcasecmp(origin + 7, host) != 0))
		return "cross-origin request refused (Origin is not this dashboard)";
	if (site && strcmp(site, "same-origin") != 0)
		return "cross-origin request refused (Sec-Fetch-Site is not same-origin)";
	if (!tok || !S->token[0] || strlen(tok) != strlen(S->token))
		return "missing or wrong token (X-Recloser-Token): use the URL printed at start";
	unsigned char diff = 0;
	for (size_t i = 0; S->token[i]; i++)
		diff |= (unsigned char)(tok[i] ^ S->token[i]);
	return diff ? "missing or wrong token (X-Recloser-Token): use the URL printed at start"
		    : NULL;
}

/* The value of KEY in the urlencoded BODY (malloc'd, decoded), or NULL. */
static char *form(const char *body, const char *key)
{
	size_t kl = strlen(key);

	for (const char *p = body; p && *p; ) {
		const char *amp = strchr(p, '&'), *end = amp ? amp : p + strlen(p);

		if ((size_t)(end - p) > kl && strncmp(p, key, kl) == 0 && p[kl] == '=') {
			char *v = strndup(p + kl + 1, (size_t)(end - p - (ptrdiff_t)kl - 1));
			if (!v)
				return NULL;
			for (char *c = v; *c; c++)
				if (*c == '+')
					*c = ' ';
			MHD_http_unescape(v);
			return v;
		}
		p = amp ? amp + 1 : NULL;
	}
	return NULL;
}

static const struct { const char *verb; int to; } flips[] = {
	{ "open", RC_OPEN }, { "close", RC_CLOSED }, { "half-open", RC_HALF_OPEN },
	{ "force-open", RC_FORCED_OPEN }, { "force-close", RC_FORCED_CLOSED },
};

static enum MHD_Result do_flip(struct server *S, struct MHD_Connection *conn, const char *body)
{
	char *name = form(body, "name"), *to = form(body, "to"), err[512], ok[128];
	enum MHD_Result ret;
	int state = -1;

	for (size_t i = 0; to && i < sizeof flips / sizeof *flips; i++)
		if (strcmp(to, flips[i].verb) == 0)
			state = flips[i].to;
	if (!name || state < 0)
		ret = answer(conn, 400, 0, "expected name=NAME and to=open|close|half-open|"
			     "force-open|force-close");
	else if (dashdata_flip(S->d, name, state, err, sizeof err) < 0)
		ret = answer(conn, 404, 0, err);
	else {
		snprintf(ok, sizeof ok, "%s: %s", name, rc_state_name(state));
		ret = answer(conn, 200, 1, ok);
	}
	free(name);
	free(to);
	return ret;
}

/* add: NAME, MATCH (the patterns, comma-separated) and SETTINGS (one
 * KEY=VALUE a line) become `recloser add NAME MATCH KEY=VALUE...`. */
static enum MHD_Result do_add(struct server *S, struct MHD_Connection *conn, const char *body)
{
	char *name = form(body, "name"), *match = form(body, "match");
	char *set = form(body, "settings"), *msg = NULL, *mkv = NULL, *argv[64];
	enum MHD_Result ret;
	int argc = 0, rc;

	argv[argc++] = name ? name : (char *)"";
	/* as match=..., so that a pattern with '=' in it is not a setting */
	if (match && strspn(match, " \t") != strlen(match) &&
	    asprintf(&mkv, "match=%s", match) >= 0)
		argv[argc++] = mkv;
	for (char *l = set ? strtok(set, "\r\n") : NULL; l; l = strtok(NULL, "\r\n")) {
		l += strspn(l, " \t");
		if (!*l)
			continue;
		if (!strchr(l, '=') || argc == 64) {
			char why[512];
			snprintf(why, sizeof why, argc == 64 ? "too many settings" :
				 "recloser: add: setting '%.400s' is not KEY=VALUE", l);
			ret = answer(conn, 400, 0, why);
			goto out;
		}
		argv[argc++] = l;
	}
	if (!name || !*name) {
		ret = answer(conn, 400, 0, "recloser: add: a breaker needs a name");
		goto out;
	}
	rc = dashdata_add(S->d, argc, argv, &msg);
	ret = answer(conn, rc == 0 ? 200 : 400, rc == 0, msg ? msg : "");
out:
	free(msg);
	free(mkv);
	free(name);
	free(match);
	free(set);
	return ret;
}

static enum MHD_Result do_get(struct server *S, struct MHD_Connection *conn, const char *url)
{
	enum dash_doc doc = DASH_DOC_OVERVIEW;
	const char *type = "application/json";
	size_t len;
	char *text;

	if (strcmp(url, "/") == 0 || strncmp(url, "/breaker/", 9) == 0)
		url = "/index.html";
	for (const struct rc_asset *a = rc_assets; a->name; a++)
		if (url[0] == '/' && strcmp(url + 1, a->name) == 0)
			return reply(conn, 200, a->type, a->data, a->len, 0);
	if (strcmp(url, "/healthz") == 0)
		return reply(conn, 200, "text/plain; charset=utf-8", "ok\n", 3, 0);
	if (strcmp(url, "/api/breaker") == 0) {
		const char *name = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "name");
		if (!name || !(text = dashdata_breaker(S->d, name, &len)))
			return answer(conn, 404, 0, "no such breaker");
		return reply(conn, 200, type, text, len, 1);
	}
	if (strcmp(url, "/api/breakers") == 0)
		doc = DASH_DOC_STATUS;
	else if (strcmp(url, "/metrics") == 0) {
		doc = DASH_DOC_METRICS;
		type = "text/plain; version=0.0.4; charset=utf-8";
	} else if (strcmp(url, "/api/dash") != 0)
		return answer(conn, 404, 0, "not found");
	if (!(text = dashdata_doc(S->d, doc, &len)))
		return MHD_NO;
	return reply(conn, 200, type, text, len, 1);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version,
				  const char *upload, size_t *upload_size, void **con_cls)
{
	struct server *S = cls;
	struct req *R = *con_cls;
	const char *why;

	if (strcmp(method, "POST") != 0) {
		if (!host_ok(S, conn))
			return answer(conn, 421, 0, "this Host is not this dashboard's");
		if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
			return answer(conn, 405, 0, "method not allowed");
		return do_get(S, conn, url);
	}
	if (!R) {                       /* the headers: the body follows */
		if (!(R = calloc(1, sizeof *R)))
			return MHD_NO;
		*con_cls = R;
		return MHD_YES;
	}
	if (*upload_size) {
		if (R->len + *upload_size > BODY_MAX)
			R->too_big = 1;
		else {
			char *nb = realloc(R->body, R->len + *upload_size + 1);
			if (!nb)
				return MHD_NO;
			memcpy(nb + R->len, upload, *upload_size);
			R->body = nb;
			R->len += *upload_size;
			R->body[R->len] = '\0';
		}
		*upload_size = 0;
		return MHD_YES;
	}
	if (!host_ok(S, conn))
		return answer(conn, 421, 0, "this Host is not this dashboard's");
	if ((why = refused(S, conn)))
		return answer(conn, 403, 0, why);
	if (R->too_big)
		return answer(conn, 413, 0, "request body too large");
	if (strcmp(url, "/api/flip") == 0)
		return do_flip(S, conn, R->body ? R->body : "");
	if (strcmp(url, "/api/add") == 0)
		return do_add(S, conn, R->body ? R->body : "");
	return answer(conn, 404, 0, "not found");
}

static void on_done(void *cls, struct MHD_Connection *conn, void **con_cls,
		    enum MHD_RequestTerminationCode toe)
{
	struct req *R = *con_cls;

	if (R) {
		free(R->body);
		free(R);
		*con_cls = NULL;
	}
}

/* ADDR:PORT, [ADDR6]:PORT or PORT into SA; return 0, else -1 with WHY. */
static int parse_listen(const char *s, struct sockaddr_storage *sa, const char **why)
{
	char host[64];
	const char *colon, *port;
	char *end;

	memset(sa, 0, sizeof *sa);
	if (s[0] == '[') {
		const char *rb = strchr(s, ']');
		if (!rb || rb[1] != ':' || (size_t)(rb - s - 1) >= sizeof host)
			return *why = "expected [IPV6]:PORT", -1;
		snprintf(host, sizeof host, "%.*s", (int)(rb - s - 1), s + 1);
		port = rb + 2;
	} else if ((colon = strrchr(s, ':'))) {
		if (strchr(s, ':') != colon || (size_t)(colon - s) >= sizeof host)
			return *why = "an IPv6 address goes in brackets: [::1]:PORT", -1;
		snprintf(host, sizeof host, "%.*s", (int)(colon - s), s);
		port = colon + 1;
	} else {
		snprintf(host, sizeof host, "127.0.0.1");
		port = s;
	}
	errno = 0;
	unsigned long p = strtoul(port, &end, 10);
	if (!*port || *end || errno || p > 65535 || *port == '-' || *port == '+')
		return *why = "the port must be a number from 0 to 65535", -1;
	if (strcmp(host, "localhost") == 0)
		snprintf(host, sizeof host, "127.0.0.1");
	struct sockaddr_in *v4 = (struct sockaddr_in *)sa;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)sa;
	if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons((uint16_t)p);
	} else if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons((uint16_t)p);
	} else {
		return *why = "expected an IP address (or localhost), not a host name", -1;
	}
	return 0;
}

/* The Host values accepted for SA's address and PORT (loopback only). */
static void allow_hosts(struct server *S, const struct sockaddr_storage *sa, unsigned port,
			char *shown, size_t shownlen)
{
	char a[INET6_ADDRSTRLEN];
	int loop;

	if (sa->ss_family == AF_INET) {
		const struct sockaddr_in *v4 = (const struct sockaddr_in *)sa;
		inet_ntop(AF_INET, &v4->sin_addr, a, sizeof a);
		loop = (ntohl(v4->sin_addr.s_addr) >> 24) == 127;
		snprintf(shown, shownlen, "%s:%u", a, port);
	} else {
		const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)sa;
		inet_ntop(AF_INET6, &v6->sin6_addr, a, sizeof a);
		loop = IN6_IS_ADDR_LOOPBACK(&v6->sin6_addr);
		snprintf(shown, shownlen, "[%s]:%u", a, port);
	}
	S->nhosts = 0;
	if (!loop)
		return;
	snprintf(S->hosts[S->nhosts++], sizeof S->hosts[0], "%s", shown);
	snprintf(S->hosts[S->nhosts++], sizeof S->hosts[0], "localhost:%u", port);
}

/* Make the token (getrandom).  Return 0, else -1 after saying why. */
static int token_new(struct server *S)
{
	unsigned char raw[32];
	ssize_t got = getrandom(raw, sizeof raw, 0);

	if (got != (ssize_t)sizeof raw) {
		fprintf(stderr, "recloser: dashboard: getrandom: %s\n", strerror(errno));
		return -1;
	}
	for (size_t i = 0; i < sizeof raw; i++)
		snprintf(S->token + 2 * i, 3, "%02x", raw[i]);
	return 0;
}

/* Keep the token in PATH, a new file of mode 0600 (a file left there by a
 * dashboard that was killed is replaced).  Return 0, else -1. */
static int token_save(const struct server *S, const char *path)
{
	unlink(path);
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 || fchmod(fd, 0600) < 0 || dprintf(fd, "%s\n", S->token) < 0) {
		fprintf(stderr, "recloser: dashboard: %s: %s\n", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		unlink(path);
		return -1;
	}
	close(fd);
	return 0;
}

/* Sample D at every whole second from now until SIGS (blocked) comes. */
static void sample_until_signal(dashdata *d, const sigset_t *sigs)
{
	struct timespec next;
	clock_gettime(CLOCK_MONOTONIC, &next);
	for (;;) {
		struct timespec now, wait;
		next.tv_sec++;
		clock_gettime(CLOCK_MONOTONIC, &now);
		long long ns = (next.tv_sec - now.tv_sec) * 1000000000LL + next.tv_nsec - now.tv_nsec;
		if (ns < 0) {           /* fell behind (a stop, a slow disk): from now */
			next = now;
			ns = 0;
		}
		wait.tv_sec = ns / 1000000000LL;
		wait.tv_nsec = ns % 1000000000LL;
		int sig = sigtimedwait(sigs, NULL, &wait);
		if (sig == SIGINT || sig == SIGTERM)
			break;
		if (sig < 0 && errno == EINTR) {
			next.tv_sec--;  /* the same second again */
			continue;
		}
		dashdata_sample(d);
	}
}

int cmd_dashboard(const char *cfgpath, int argc, char **argv)
{
	const char *listen = NULL, *why;
	struct server S;
	struct sockaddr_storage sa;
	char tokpath[PATH_MAX], shown[128];
	sigset_t sigs;
	int rc = 1;

	memset(&S, 0, sizeof S);
	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--listen") == 0 && i + 1 < argc && !listen)
			listen = argv[++i];
		else if (strncmp(argv[i], "--listen=", 9) == 0 && !listen)
			listen = argv[i] + 9;
		else if (strcmp(argv[i], "--read-only") == 0)
			S.read_only = 1;
		else
			return cli_usage("dashboard: expected [--listen ADDR:PORT] [--read-only]");
	}
	char dflt[32];
	snprintf(dflt, sizeof dflt, "127.0.0.1:%u", DASH_PORT);
	if (parse_listen(listen ? listen : dflt, &sa, &why) < 0) {
		fprintf(stderr, "recloser: dashboard: bad --listen '%s': %s\n", listen, why);
		return EXIT_USAGE;
	}
	if (!(S.d = dashdata_open(cfgpath, S.read_only)))
		return 1;
	if (!S.read_only && token_new(&S) < 0)
		goto out;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);   /* the server's thread inherits it */
	signal(SIGPIPE, SIG_IGN);
	struct MHD_Daemon *mhd = MHD_start_daemon(
		MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ERROR_LOG |
		(sa.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0), 0, NULL, NULL,
		on_request, &S,
		MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned)512,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30,
		MHD_OPTION_NOTIFY_COMPLETED, on_done, NULL,
		MHD_OPTION_END);
	if (!mhd) {
		int e = errno;
		allow_hosts(&S, &sa, ntohs(((struct sockaddr_in *)&sa)->sin_port), shown,
			    sizeof shown);
		fprintf(stderr, "recloser: dashboard: cannot listen on %s: %s\n", shown,
			e ? strerror(e) : "libmicrohttpd refused");
		goto out;
	}
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(mhd, MHD_DAEMON_INFO_BIND_PORT);
	unsigned port = info ? info->port : 0;
	allow_hosts(&S, &sa, port, shown, sizeof shown);
	__atomic_store_n(&S.ready, 1, __ATOMIC_RELEASE);
	/* per port: two dashboards of one state file keep a token each */
	snprintf(tokpath, sizeof tokpath, "%s.dashboard-%u.token", dashdata_state_file(S.d), port);
	if (!S.read_only && token_save(&S, tokpath) < 0) {
		MHD_stop_daemon(mhd);
		goto out;
	}
	if (S.read_only)
		printf("recloser dashboard (read-only): http://%s/\n", shown);
	else
		printf("recloser dashboard: http://%s/?token=%s\n"
		       "  (the token is kept in %s while it runs; Ctrl-C stops)\n",
		       shown, S.token, tokpath);
	fflush(stdout);

	sample_until_signal(S.d, &sigs);
	MHD_stop_daemon(mhd);
	fprintf(stderr, "recloser dashboard: stopped\n");
	rc = 0;
	if (!S.read_only)
		unlink(tokpath);
out:
	dashdata_close(S.d);
	return rc;
}
