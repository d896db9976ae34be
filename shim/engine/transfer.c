/* transfer.c - see transfer.h. */
#include <errno.h>
#include <string.h>

#include "core/clock.h"
#include "core/match.h"
#include "engine/gate.h"
#include "engine/init.h"
#include "engine/real.h"
#include "engine/transfer.h"

int rc_transfer_begin(const char *host, uint16_t port, rc_transfer *tx)
{
	tx->bk = NULL;
	tx->held = NULL;
	if (rc_bypass() || !host)
		return -1;
	RC_SCOPE();
	uint64_t now = rc_now_us();
	rc_live_maybe_reload(now / 1000);
	rc_live *L = rc_live_use();
	const rc_bk *bk = L ? rc_live_breaker(L, rc_match_host(L->cfg, host, port)) : NULL;
	if (!bk) {
		rc_live_unuse(L);
		return -1;
	}
	tx->held = L;
	size_t hl = strnlen(host, sizeof tx->host - 1);
	memcpy(tx->host, host, hl);
	tx->host[hl] = 0;
	tx->port = port;
	tx->bk = bk;
	tx->pid = rc_self_pid();
	tx->start_us = now;
	if (rc_gate_admit(bk, now, 0, tx->host, port, &tx->t) != RC_ADMIT)
		return 0;
	/* a transfer's bulkhead never waits (a multi handle must not block) */
	if (__builtin_expect(bk->cfg->max_concurrent != 0, 0) &&
	    rc_gate_bulkhead(bk, &tx->t, -1, 0, 0, NULL, &now, 0, tx->host, port) == RC_REJECT)
		return 0;
	return 1;
}

void rc_transfer_end(rc_transfer *tx, int outcome, uint64_t end_us)
{
	const rc_bk *bk = tx->bk;
	if (!bk || tx->pid != rc_self_pid())
		return;
	if (outcome == RC_TRANSFER_REJECTED)
		rc_gate_reject_late(bk, &tx->t, 0, tx->host, tx->port);
	else if (outcome < 0)
		rc_gate_cancel(bk, &tx->t);
	else
		rc_gate_verdict(bk, &tx->t, outcome, tx->start_us, end_us, 0, tx->host, tx->port, 0);
	rc_transfer_drop(tx);
}

void rc_transfer_drop(rc_transfer *tx)
{
	rc_live_unuse(tx->held);
	tx->held = NULL;
	tx->bk = NULL;
}

const rc_breaker_cfg *rc_transfer_breaker(const rc_transfer *tx)
{
	return tx->bk ? tx->bk->cfg : NULL;
}

int rc_transfer_refusing(const rc_transfer *tx)
{
	return tx->bk && rc_gate_refusing(tx->bk);
}
