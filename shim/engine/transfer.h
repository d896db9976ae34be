/* transfer.h - a libcurl transfer as one call, judged at the transfer
 * level (SPEC section 3).
 *
 * While rc_curl_depth > 0 (this thread is inside libcurl), the socket
 * layer counts nothing and tracks no fd: it only refuses connects to a
 * breaker that is open or forced_open (mode enforce), uncounted. */
#ifndef RC_TRANSFER_H
#define RC_TRANSFER_H

#include <stdint.h>

#include "core/breaker.h"
#include "engine/live.h"

typedef struct rc_transfer {
	const rc_bk *bk;     /* NULL: no breaker, or already ended */
	rc_live  *held;      /* the config bk belongs to, held while bk is set */
	uint32_t  pid;
	uint64_t  start_us;
	rc_ticket t;
	uint16_t  port;
	char      host[RC_HOST_MAX]; /* for the log */
} rc_transfer;

/* Match HOST (a name or an IP literal, "[v6]" allowed) and PORT (host
 * order) to a breaker and ask whether a transfer may start.  Return 1
 * admitted (TX holds the ticket until rc_transfer_end), 0 rejected
 * (counted and logged; TX names the breaker), -1 no breaker (TX empty). */
int rc_transfer_begin(const char *host, uint16_t port, rc_transfer *tx);

/* Let go of a rejected transfer's breaker once the caller has taken
 * what it needs of it (its name, its reject_errno); TX is emptied. */
void rc_transfer_drop(rc_transfer *tx);

/* Judge the admitted transfer TX: OUTCOME RC_OK, RC_FAIL, RC_FAIL_TIMEOUT
 * (latency END_US - start); RC_TRANSFER_REJECTED (its connect was refused
 * because the breaker opened after admission: counted as rejected); or
 * -1 to release it without a verdict.  Only the process that began it
 * judges it; TX is emptied. */
#define RC_TRANSFER_REJECTED (-2)
void rc_transfer_end(rc_transfer *tx, int outcome, uint64_t end_us);

/* The breaker config of TX (admitted or rejected), or NULL. */
const rc_breaker_cfg *rc_transfer_breaker(const rc_transfer *tx);

/* Nonzero if TX's breaker refuses every new call now (open or
 * forced_open, mode enforce). */
int rc_transfer_refusing(const rc_transfer *tx);

#endif
