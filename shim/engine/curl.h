/* curl.h - the logic behind the libcurl hooks: rc_curl_<name> for each
 * exported curl_<name> of hooks/curl.def, with the same contract as
 * libcurl's own function (the variadic ones take their argument already
 * read).  See engine/curl.c for what a transfer is. */
#ifndef RC_ENGINE_CURL_H
#define RC_ENGINE_CURL_H

#define CURL_DISABLE_TYPECHECK 1
#define CURL_DISABLE_DEPRECATION 1
#define CURL_ALLOW_OLD_MULTI_SOCKET 1  /* curl_multi_socket is a function here */
#include <curl/curl.h>
#include <stdarg.h>

CURL *rc_curl_easy_init(void);
CURL *rc_curl_easy_duphandle(CURL *h);
void rc_curl_easy_reset(CURL *h);
void rc_curl_easy_cleanup(CURL *h);
CURLcode rc_curl_easy_setopt(CURL *h, CURLoption option, va_list ap);
CURLcode rc_curl_easy_getinfo(CURL *h, CURLINFO info, void *p);
CURLcode rc_curl_easy_perform(CURL *h);
CURLMcode rc_curl_multi_add_handle(CURLM *m, CURL *h);
CURLMcode rc_curl_multi_remove_handle(CURLM *m, CURL *h);
CURLMsg *rc_curl_multi_info_read(CURLM *m, int *left);
CURLMcode rc_curl_multi_cleanup(CURLM *m);
CURLMcode rc_curl_multi_perform(CURLM *m, int *running);
CURLMcode rc_curl_multi_socket_action(CURLM *m, curl_socket_t s, int ev, int *running);
CURLMcode rc_curl_multi_socket(CURLM *m, curl_socket_t s, int *running);
CURLMcode rc_curl_multi_socket_all(CURLM *m, int *running);

#endif
