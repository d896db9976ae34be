/* creds.c - the set*uid calls: before a process changes its user (a
 * server dropping root for its workers), the shim opens its log as the
 * user it still is and keeps that fd, so the process logs on afterwards
 * (core/log.h, rc_log_keep). */
#include "core/log.h"
#include "hooks/hook.h"

/* Keep the log open before the change, if the shim is active. */
static inline void before_change(void)
{
	if (!rc_bypass())
		rc_log_keep();
}

RC_EXPORT int setuid(uid_t u)
{
	before_change();
	return REAL(setuid)(u);
}

RC_EXPORT int seteuid(uid_t u)
{
	before_change();
	return REAL(seteuid)(u);
}

RC_EXPORT int setreuid(uid_t r, uid_t e)
{
	before_change();
	return REAL(setreuid)(r, e);
}

RC_EXPORT int setresuid(uid_t r, uid_t e, uid_t s)
{
	before_change();
	return REAL(setresuid)(r, e, s);
}
