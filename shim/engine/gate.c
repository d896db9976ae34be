/* gate.c - see gate.h.  On the call path: no malloc, no lock, no stdio
 * (the log line is one snprintf into a stack buffer and one write). */
#include <errno.h>
#include <string.h>

#include "core/clock.h"
#include "core/dest.h"
#include "core/log.h"
#include "engine/gate.h"
#include "engine/real.h"
#include "engine/sig.h"

/* Per process: the second of the last reject line, per state-file slot. */
static uint64_t rej_sec[RC_MAX_BREAKERS];

int rc_is_net_failure(int e)
{
	switch (e) {
	case ECONNREFUSED: case ETIMEDOUT: case EHOSTUNREACH: case ENETUNREACH:
	case ECONNRESET: case ECONNABORTED: case EHOSTDOWN: case ENETDOWN:
	case EPIPE: case ENONET: case EPROTO:
		return 1;
	}
	return 0;
}

static const char *errno_name(int e)
{
	const char *n = strerrorname_np(e);
	return n ? n : "?";
}

/* One reject line for B carrying every rejection not yet logged (DEST
 * NULL: WHY names the occasion, at_exit or carried).  A line that cannot
 * be written gives its count back to the slot. */
static void reject_line(const rc_bk *b, const char *dest, const char *why)
{
	uint64_t n = rc_breaker_unlogged_take(b->slot);
	if (!n)
		return;
	if (rc_log(RC_LOG_INFO, "reject", "breaker=%s count=%llu errno=%s%s%s", b->cfg->name,
		   (unsigned long long)n, errno_name(b->cfg->reject_errno),
		   dest ? " dest=" : why, dest ? dest : "=1") < 0)
		rc_breaker_unlogged_add(b->slot, n);
}

/* Count a rejection; log at most one line per breaker per second. */
static void note_reject(const rc_bk *b, int family, const void *addr, uint16_t port)
{
	if (!rc_log_enabled(RC_LOG_INFO))
		return;
	rc_breaker_unlogged_add(b->slot, 1);
	uint64_t sec = rc_now_ms() / 1000, *last = &rej_sec[b->slotno % RC_MAX_BREAKERS];
	uint64_t was = __atomic_load_n(last, __ATOMIC_RELAXED);
	if (sec == was ||
	    !__atomic_compare_exchange_n(last, &was, sec, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		return;
	char d[RC_HOST_MAX + 16];
	rc_dest_format(family, addr, port, d, sizeof d);
	reject_line(b, d, NULL);
}

void rc_gate_settle(const rc_bk *b, uint64_t now_ms)
{
	RC_SCOPE();
	rc_breaker_settle_dead(b->slot, b->cfg, now_ms);
}

int rc_gate_admit(const rc_bk *b, uint64_t now_us, int family, const void *addr,
		  uint16_t port, rc_ticket *t)
{
	RC_SCOPE_INNER();
	if (__builtin_expect(rc_sig_mapping_lost(), 0))
		rc_live_note_lost();
	if (__builtin_expect(rc_breaker_pend_any(b->slot), 0))
		rc_gate_settle(b, now_us / 1000);
	rc_transition tr;
	int v = rc_breaker_admit(b->slot, b->cfg, now_us / 1000, rc_self_pid(), t, &tr);
	if (__builtin_expect(tr.to >= 0, 0))
		rc_breaker_log_transition(b->cfg, &tr);
	if (v == RC_REJECT)
		note_reject(b, family, addr, port);
	return v;
}

void rc_gate_verdict(const rc_bk *b, const rc_ticket *t, int outcome, uint64_t start_us,
		     uint64_t end_us, int family, const void *addr, uint16_t port, int err)
{
	RC_SCOPE_INNER();
	const rc_breaker_cfg *c = b->cfg;
	uint64_t lat = end_us > start_us ? end_us - start_us : 0;
	const char *which = outcome == RC_CONNECT_TIMEOUT ? " timeout=connect" :
			    outcome == RC_FAIL_TIMEOUT ? " timeout=response" : "";
	if (outcome == RC_CONNECT_TIMEOUT)
		outcome = RC_FAIL_TIMEOUT;
	rc_transition tr;
	rc_breaker_record(b->slot, c, t, outcome, lat, end_us / 1000, &tr);
	if (__builtin_expect(tr.to >= 0, 0))
		rc_breaker_log_transition(c, &tr);
	if (rc_log_enabled(RC_LOG_DEBUG)) {
		char d[RC_HOST_MAX + 16];
		rc_dest_format(family, addr, port, d, sizeof d);
		const char *o = outcome == RC_OK ? "success" :
				outcome == RC_FAIL_TIMEOUT ? "timeout" : "failure";
		if (c->slow_call && outcome == RC_OK && lat > c->slow_call * 1000)
			o = "slow";
		rc_log(RC_LOG_DEBUG, "call", "breaker=%s outcome=%s%s latency_us=%llu dest=%s%s%s",
		       c->name, o, which, (unsigned long long)lat, d, err ? " errno=" : "",
		       err ? errno_name(err) : "");
	}
}

void rc_gate_cancel(const rc_bk *b, const rc_ticket *t)
{
	rc_breaker_cancel(b->slot, t);
}

void rc_gate_reject_late(const rc_bk *b, const rc_ticket *t, int family, const void *addr,
			 uint16_t port)
{
	RC_SCOPE();
	rc_breaker_cancel(b->slot, t);
	rc_breaker_count_reject(b->slot);
	note_reject(b, family, addr, port);
}

int rc_gate_refusing(const rc_bk *b)
{
	return rc_breaker_refusing(b->slot, b->cfg);
}

int rc_gate_closed(const rc_bk *b)
{
	int st = rc_breaker_state(b->slot);
	return st == RC_CLOSED || st == RC_FORCED_CLOSED;
}

void rc_gate_flush_rejects(int at_exit)
{
	RC_SCOPE();
	RC_LIVE_USE(L);
	if (!L || !rc_log_enabled(RC_LOG_INFO))
		return;
	for (unsigned i = 0; i < L->cfg->nbreakers; i++)
		if (L->bk[i].slot)
			reject_line(&L->bk[i], NULL, at_exit ? " at_exit" : " carried");
}
