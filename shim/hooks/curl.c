/* curl.c - the exported libcurl functions (hooks/curl.def), each handed
 * to its rc_curl_* in engine/curl.c.  The shim never links libcurl: these
 * are reached only in a process that loaded one. */
#include "engine/curl.h"

#define RC_EXPORT __attribute__((visibility("default")))

/* Every hook is exported and declared as <curl/curl.h> declares it. */
#define RC_CURL(ret, name, params) RC_EXPORT ret name params;
#include "hooks/curl.def"

RC_EXPORT CURL *curl_easy_init(void)
{
	return rc_curl_easy_init();
}

RC_EXPORT CURL *curl_easy_duphandle(CURL *h)
{
	return rc_curl_easy_duphandle(h);
}

RC_EXPORT void curl_easy_reset(CURL *h)
{
	rc_curl_easy_reset(h);
}

RC_EXPORT void curl_easy_cleanup(CURL *h)
{
	rc_curl_easy_cleanup(h);
}

RC_EXPORT CURLcode curl_easy_setopt(CURL *h, CURLoption option, ...)
{
	va_list ap;
	va_start(ap, option);
	CURLcode r = rc_curl_easy_setopt(h, option, ap);
	va_end(ap);
	return r;
}

RC_EXPORT CURLcode curl_easy_getinfo(CURL *h, CURLINFO info, ...)
{
	va_list ap;
	va_start(ap, info);
	void *p = va_arg(ap, void *);
	va_end(ap);
	return rc_curl_easy_getinfo(h, info, p);
}

RC_EXPORT CURLcode curl_easy_perform(CURL *h)
{
	return rc_curl_easy_perform(h);
}

RC_EXPORT CURLMcode curl_multi_add_handle(CURLM *m, CURL *h)
{
	return rc_curl_multi_add_handle(m, h);
}

RC_EXPORT CURLMcode curl_multi_remove_handle(CURLM *m, CURL *h)
{
	return rc_curl_multi_remove_handle(m, h);
}

RC_EXPORT CURLMsg *curl_multi_info_read(CURLM *m, int *left)
{
	return rc_curl_multi_info_read(m, left);
}

RC_EXPORT CURLMcode curl_multi_cleanup(CURLM *m)
{
	return rc_curl_multi_cleanup(m);
}

RC_EXPORT CURLMcode curl_multi_perform(CURLM *m, int *running)
{
	return rc_curl_multi_perform(m, running);
}

RC_EXPORT CURLMcode curl_multi_socket_action(CURLM *m, curl_socket_t s, int ev, int *running)
{
	return rc_curl_multi_socket_action(m, s, ev, running);
}

RC_EXPORT CURLMcode curl_multi_socket(CURLM *m, curl_socket_t s, int *running)
{
	return rc_curl_multi_socket(m, s, running);
}

RC_EXPORT CURLMcode curl_multi_socket_all(CURLM *m, int *running)
{
	return rc_curl_multi_socket_all(m, running);
}
