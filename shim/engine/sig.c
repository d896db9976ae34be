/* sig.c - see sig.h. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/hot.h"
#include "engine/real.h"
#include "engine/sig.h"

static int fault_signal(int sig)
{
	return sig == SIGSEGV || sig == SIGBUS || sig == SIGFPE || sig == SIGILL ||
	       sig == SIGTRAP || sig == SIGSYS;
}

/* Nonzero if the program has a handler for SIG (*FLAGS: its sa_flags). */
static int caught(int sig, int *flags)
{
	struct sigaction sa;
	if (REAL(sigaction)(sig, NULL, &sa) != 0)
		return 0;
	*flags = sa.sa_flags;
	return (sa.sa_flags & SA_SIGINFO) ? sa.sa_sigaction != NULL
					  : (sa.sa_handler != SIG_DFL && sa.sa_handler != SIG_IGN);
}

int rc_sig_restart(void)
{
	RC_KEEP_ERRNO();
	int flags;
	for (int sig = 1; sig < NSIG; sig++)
		if (!fault_signal(sig) && caught(sig, &flags) && !(flags & SA_RESTART))
			return 0;
	return 1;
}

/* Per thread: the caught signals it keeps blocked outside any handler
 * (bit SIG-1), as seen at its first look, less those seen unblocked
 * since. */
static __thread uint64_t base_blocked __attribute__((tls_model("initial-exec")));
static __thread uint8_t base_known __attribute__((tls_model("initial-exec")));

/* Bits SIG-1 of the signals blocked in this thread's mask, and of those
 * of them caught; 0 if it cannot tell (*OK 0). */
static void look(uint64_t *blocked, uint64_t *caught_blocked, int *ok)
{
	sigset_t cur;
	int flags;
	*blocked = *caught_blocked = 0;
	*ok = pthread_sigmask(SIG_BLOCK, NULL, &cur) == 0;
	for (int sig = 1; *ok && sig < NSIG && sig <= 64; sig++) {
		if (sigismember(&cur, sig) != 1)
			continue;
		*blocked |= 1ull << (sig - 1);
		if (caught(sig, &flags))
			*caught_blocked |= 1ull << (sig - 1);
	}
}

void rc_sig_first_look(void)
{
	if (base_known)
		return;
	RC_KEEP_ERRNO();
	uint64_t blocked, cb;
	int ok;
	look(&blocked, &cb, &ok);
	if (ok) {
		base_blocked = cb;
		base_known = 1;
	}
}

/* ---- handlers the mask cannot tell: SA_NODEFER ----
 *
 * A handler installed with SA_NODEFER leaves its signal unblocked while it
 * runs, so the mask says nothing.  The program's SA_NODEFER handlers (for
 * signals other than the fault signals, which the shim does not wrap) are
 * therefore installed behind a trampoline, tramp(), that notes on this
 * thread's list of handler frames where its frame is, calls the program's
 * handler with what the kernel gave, and takes the note off when it
 * returns.  What the program asks of the disposition (sigaction, signal,
 * sysv_signal, bsd_signal, sigset) names its own handler and flags, never
 * the trampoline.
 *
 * The program's handler is held in a record that never changes once made
 * (one per handler and kind, shared by the signals that use it, from a
 * fixed pool): a signal's slot points at one, swapped whole, so a
 * trampoline running in a handler, or a sigaction racing another thread's,
 * never reads half of one.  Records left unused are not reused: a program
 * that made more than RECS different SA_NODEFER handlers gets the later
 * ones installed as they are (and unseen, as before).
 *
 * A handler left by a jump (siglongjmp, longjmp) never returns through
 * the trampoline: the jump hooks drop its note, knowing where the jump
 * lands (rc_sig_jumping).  One left some other way (setcontext, a jump
 * inside libc) leaves its note behind until the thread runs at or above
 * the frame it marks (stacks grow down) on the same stack, which
 * rc_sig_maybe_in_handler and a trampoline that finds notes already there
 * see and drop; meanwhile, a call made from deeper down is taken to be in
 * the handler (its reload waits).  Which stack a note is on is told by
 * the thread's alternate signal stack (sigaltstack): a note on it is live
 * only while the thread is on it. */

#define RECS   128  /* records of program handlers */
#define FRAMES 8    /* handler frames noted per thread (deeper ones are not) */
#define NSLOT  65   /* signals 1..64 */

struct rec {
	union {
		void (*h)(int);
		void (*sa)(int, siginfo_t *, void *);
	} fn;
	int siginfo;  /* fn.sa (SA_SIGINFO) or fn.h */
	int ready;    /* made: found by rec_for */
};

static struct rec recs[RECS];
static unsigned nrecs;
static const struct rec *slot[NSLOT];

static __thread uintptr_t frame_sp[FRAMES] __attribute__((tls_model("initial-exec")));
static __thread unsigned frames __attribute__((tls_model("initial-exec")));

/* A record of ACT's handler: found, made, or NULL when the pool is spent. */
static const struct rec *rec_for(const struct sigaction *act)
{
	int si = (act->sa_flags & SA_SIGINFO) != 0;
	unsigned n = __atomic_load_n(&nrecs, __ATOMIC_ACQUIRE);
	for (unsigned i = 0; i < n && i < RECS; i++) {
		if (!__atomic_load_n(&recs[i].ready, __ATOMIC_ACQUIRE) || recs[i].siginfo != si)
			continue;
		if (si ? recs[i].fn.sa == act->sa_sigaction : recs[i].fn.h == act->sa_handler)
			return &recs[i];
	}
	unsigned i = __atomic_fetch_add(&nrecs, 1, __ATOMIC_ACQ_REL);
	if (i >= RECS) {
		__atomic_store_n(&nrecs, RECS, __ATOMIC_RELEASE);
		return NULL;
	}
	if (si)
		recs[i].fn.sa = act->sa_sigaction;
	else
		recs[i].fn.h = act->sa_handler;
	recs[i].siginfo = si;
	__atomic_store_n(&recs[i].ready, 1, __ATOMIC_RELEASE);
	return &recs[i];
}

/* Where this thread runs: its alternate signal stack, if it has one
 * (*ALT set, *ON nonzero while it runs on it). */
static void alt_stack(stack_t *alt, int *on)
{
	int e = errno;
	if (sigaltstack(NULL, alt) != 0 || (alt->ss_flags & SS_DISABLE)) {
		alt->ss_sp = NULL;
		alt->ss_size = 0;
		*on = 0;
	} else {
		*on = (alt->ss_flags & SS_ONSTACK) != 0;
	}
	errno = e;
}

/* Nonzero if A lies on the alternate stack ALT (from alt_stack). */
static inline int on_alt_stack(uintptr_t a, const stack_t *alt)
{
	return a - (uintptr_t)alt->ss_sp < alt->ss_size;
}

/* Nonzero if the handler whose frame is at FSP still runs, seen from SP. */
static int frame_live(uintptr_t fsp, uintptr_t sp, const stack_t *alt, int on_alt)
{
	if (on_alt_stack(fsp, alt))
		return on_alt && sp < fsp;
	return on_alt || sp < fsp;
}

/* Drop the notes of handlers left by siglongjmp, seen from SP. */
static void prune(uintptr_t sp, const stack_t *alt, int on_alt)
{
	unsigned n = __atomic_load_n(&frames, __ATOMIC_RELAXED);
	while (n > 0 && !frame_live(frame_sp[n - 1], sp, alt, on_alt))
		n--;
	__atomic_store_n(&frames, n, __ATOMIC_RELAXED);
}

static void tramp(int sig, siginfo_t *si, void *ctx)
{
	const struct rec *r = sig > 0 && sig < NSLOT ? __atomic_load_n(&slot[sig], __ATOMIC_ACQUIRE)
						     : NULL;
	if (!r)
		return;
	uintptr_t sp = (uintptr_t)__builtin_frame_address(0);
	if (__atomic_load_n(&frames, __ATOMIC_RELAXED)) {
		stack_t alt;
		int on;
		alt_stack(&alt, &on);
		prune(sp, &alt, on);
	}
	/* the note first, then the count, then the note again: a signal
	 * that comes between takes the same place and gives it back */
	unsigned me = __atomic_load_n(&frames, __ATOMIC_RELAXED);
	if (me < FRAMES) { /* deeper: the notes below say it already */
		frame_sp[me] = sp;
		__atomic_signal_fence(__ATOMIC_SEQ_CST);
		__atomic_store_n(&frames, me + 1, __ATOMIC_RELAXED);
		__atomic_signal_fence(__ATOMIC_SEQ_CST);
		frame_sp[me] = sp;
	}
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	if (r->siginfo)
		r->fn.sa(sig, si, ctx);
	else
		r->fn.h(sig);
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	if (me < FRAMES)
		__atomic_store_n(&frames, me, __ATOMIC_RELAXED); /* and any a jump left above */
}

/* Nonzero while SIG's disposition is one the shim put the trampoline in
 * (set once the kernel has it, cleared once another replaced it). */
static uint8_t wrapped[NSLOT];

/* OLD, SIG's disposition from the kernel, as the program is to see it:
 * the handler behind the trampoline (R: the record in SIG's slot when OLD
 * was in force), and without the SA_SIGINFO the shim added to a handler
 * that had none (WAS_WRAPPED: OLD was the trampoline's), even once
 * SA_RESETHAND put SIG_DFL in its place. */
static void as_set(struct sigaction *old, const struct rec *r, int was_wrapped)
{
	if (!r)
		return;
	if (old->sa_sigaction != tramp) {
		if (was_wrapped && !r->siginfo && (old->sa_flags & SA_RESETHAND) &&
		    old->sa_handler == SIG_DFL)
			old->sa_flags &= ~SA_SIGINFO;
		return;
	}
	if (r->siginfo) {
		old->sa_flags |= SA_SIGINFO;
		old->sa_sigaction = r->fn.sa;
	} else {
		old->sa_flags &= ~SA_SIGINFO;
		old->sa_handler = r->fn.h;
	}
}

/* H, a handler from the kernel, as the program is to see it: the handler
 * behind the trampoline (R: the record in its signal's slot then). */
static sighandler_t as_handler(sighandler_t h, const struct rec *r)
{
	if ((void *)h != (void *)tramp || !r)
		return h;
	return r->siginfo ? (sighandler_t)(void (*)(void))r->fn.sa : r->fn.h;
}

void rc_sig_block_all(sigset_t *old)
{
	sigset_t all;
	sigfillset(&all);
	sigdelset(&all, SIGBUS);
	sigdelset(&all, SIGSEGV);
	sigdelset(&all, SIGFPE);
	sigdelset(&all, SIGILL);
	sigdelset(&all, SIGTRAP);
	sigdelset(&all, SIGSYS); /* blocked, a seccomp trap would kill */
	pthread_sigmask(SIG_BLOCK, &all, old);
}

/* rc_sig_action's piece: a signal's slot, its disposition in the kernel
 * and wrapped[] change together, one thread at a time, so that two
 * threads setting handlers at once leave the trampoline calling the one
 * whose sigaction the kernel took last.  The thread's signals are blocked
 * meanwhile (but the faults), so none of its handlers waits for it.  The
 * word holds the holder's thread id:
 *  - a fault's handler that interrupted its own thread's piece and sets a
 *    handler goes on without it (the piece is its thread's already: told
 *    by where the piece was entered, act_sp);
 *  - one that jumps out of the piece gives it back (an undo record); one
 *    that leaves it unseen (setcontext) leaves it to its thread's next
 *    call (act_sp again) or to the take-over below;
 *  - a piece held longer than ACT_WAIT_US (a holder gone without a jump
 *    the hooks saw, a child of fork: the word is cleared at fork too) is
 *    taken over: a wait, never a hang. */
#define ACT_WAIT_US 50000

static int act_owner;

struct act_held {
	rc_undo u; /* first */
	sigset_t mask; /* the thread's mask before */
	int me;        /* the thread's id if it holds the piece, else 0 */
};

static void act_give(int me)
{
	int o = me;
	__atomic_compare_exchange_n(&act_owner, &o, 0, 0, __ATOMIC_RELEASE, __ATOMIC_RELAXED);
}

/* The thread's mask before its piece, while it holds one (act_left reads
 * this, not its record: the record may be on a stack left unseen). */
static __thread sigset_t act_mask __attribute__((tls_model("initial-exec")));

static void act_left(rc_undo *u)
{
	(void)u;
	act_give((int)REAL(syscall)(SYS_gettid));
	pthread_sigmask(SIG_SETMASK, &act_mask, NULL);
}

/* Where this thread's piece was entered (the frame of its caller) while
 * it holds it. */
static __thread uintptr_t act_sp __attribute__((tls_model("initial-exec")));

/* The piece is this thread's already: nonzero if the caller, whose frame
 * is at SP, runs in a handler that interrupted it, 0 if the piece was
 * left unseen (setcontext out of a handler) and is the caller's now. */
static int act_nested(uintptr_t sp)
{
	stack_t alt;
	int on;
	alt_stack(&alt, &on);
	int here = on_alt_stack(sp, &alt), there = on_alt_stack(act_sp, &alt);
	return here != there ? here : sp < act_sp;
}

/* Enter the piece for a caller whose frame is at SP (*OLD: the thread's
 * mask before).  Return the thread's id if held (act_end gives it back),
 * 0 if not. */
static int act_begin(sigset_t *old, uintptr_t sp)
{
	int e = errno, me = (int)REAL(syscall)(SYS_gettid);
	uint64_t until = 0;
	rc_sig_block_all(old);
	for (;;) {
		int o = 0;
		if (__atomic_compare_exchange_n(&act_owner, &o, me, 0, __ATOMIC_ACQUIRE,
						__ATOMIC_RELAXED))
			break;
		if (o == me) {
			if (act_nested(sp))
				me = 0; /* a handler within our own piece */
			break;
		}
		uint64_t now = rc_now_us();
		if (!until) {
			until = now + ACT_WAIT_US;
		} else if (now >= until &&
			   __atomic_compare_exchange_n(&act_owner, &o, me, 0, __ATOMIC_ACQUIRE,
						       __ATOMIC_RELAXED)) {
			break; /* taken over */
		}
		sched_yield();
	}
	if (me)
		act_sp = sp;
	errno = e;
	return me;
}

static void act_end(const sigset_t *old, int held)
{
	int e = errno;
	if (held)
		act_give(held);
	pthread_sigmask(SIG_SETMASK, old, NULL);
	errno = e;
}

/* The piece for the function this is inlined in (its frame), given back
 * by act_leave, or by a jump out of it. */
static inline __attribute__((always_inline)) void act_enter(struct act_held *h)
{
	h->me = act_begin(&h->mask, (uintptr_t)__builtin_frame_address(0));
	if (h->me) {
		act_mask = h->mask;
		rc_undo_push(&h->u, act_left);
	}
}

static void act_leave(struct act_held *h)
{
	if (h->me)
		rc_undo_pop(&h->u);
	act_end(&h->mask, h->me);
}

void rc_sig_atfork_child(void)
{
	__atomic_store_n(&act_owner, 0, __ATOMIC_RELAXED);
}

int rc_sig_action(int sig, const struct sigaction *act, struct sigaction *oact)
{
	if (sig <= 0 || sig >= NSLOT)
		return REAL(sigaction)(sig, act, oact);
	struct sigaction k, old;
	const struct rec *r = NULL;
	if (act) {
		/* read before the piece: a bad pointer faults outside it */
		k = *act;
		/* SIG_DFL and SIG_IGN are told by the pointer whatever the
		 * flags say, as the kernel does */
		if (!fault_signal(sig) && (k.sa_flags & SA_NODEFER) && k.sa_handler != SIG_DFL &&
		    k.sa_handler != SIG_IGN && k.sa_sigaction != tramp && (r = rec_for(&k)) != NULL) {
			k.sa_flags |= SA_SIGINFO;
			k.sa_sigaction = tramp;
		}
	}
	struct act_held h;
	act_enter(&h);
	const struct rec *prev = __atomic_load_n(&slot[sig], __ATOMIC_ACQUIRE);
	int was = __atomic_load_n(&wrapped[sig], __ATOMIC_ACQUIRE);
	if (r) /* the record in place before the kernel can call the trampoline */
		__atomic_store_n(&slot[sig], r, __ATOMIC_RELEASE);
	int rc = REAL(sigaction)(sig, act ? &k : NULL, oact ? &old : NULL), e = errno;
	if (rc != 0 && r) {
		__atomic_store_n(&slot[sig], prev, __ATOMIC_RELEASE);
	} else if (rc == 0 && act) {
		/* again: a fault's handler may have set SIG in between */
		if (r)
			__atomic_store_n(&slot[sig], r, __ATOMIC_RELEASE);
		__atomic_store_n(&wrapped[sig], r != NULL, __ATOMIC_RELEASE);
	}
	act_leave(&h);
	if (rc != 0) {
		errno = e;
		return rc;
	}
	if (oact) {
		as_set(&old, prev, was);
		*oact = old;
	}
	return 0;
}

sighandler_t rc_sig_handler_call(int sig, sighandler_t (*real)(int, sighandler_t), sighandler_t h)
{
	if (sig <= 0 || sig >= NSLOT)
		return real(sig, h);
	struct act_held ah;
	act_enter(&ah);
	const struct rec *prev = __atomic_load_n(&slot[sig], __ATOMIC_ACQUIRE);
	sighandler_t was = real(sig, h);
	int e = errno;
	if (was != SIG_ERR)
		__atomic_store_n(&wrapped[sig], 0, __ATOMIC_RELEASE);
	act_leave(&ah);
	errno = e;
	return as_handler(was, prev);
}

sighandler_t rc_sig_handler_set(int sig, sighandler_t h)
{
	if (sig <= 0 || sig >= NSLOT)
		return h;
	return as_handler(h, __atomic_load_n(&slot[sig], __ATOMIC_ACQUIRE));
}

int rc_sig_maybe_in_handler(void)
{
	RC_KEEP_ERRNO();
	stack_t alt;
	int on_alt;
	alt_stack(&alt, &on_alt);
	if (on_alt) /* the alternate stack is a handler's */
		return 1;
	prune((uintptr_t)__builtin_frame_address(0), &alt, on_alt);
	if (__atomic_load_n(&frames, __ATOMIC_RELAXED))
		return 1;
	uint64_t blocked, caught_blocked;
	int ok;
	look(&blocked, &caught_blocked, &ok);
	if (!ok)
		return 1;
	if (!base_known) {
		/* no first look yet: any caught signal blocked may be a handler's
		 * (and is this thread's habit from now on) */
		base_known = 1;
		base_blocked = caught_blocked;
		return caught_blocked != 0;
	}
	base_blocked &= blocked; /* unblocked since: no longer the thread's habit */
	return (caught_blocked & ~base_blocked) != 0;
}

/* ---- siglongjmp out of a handler ---- */

#define UNDOS 8 /* records per thread */

static __thread struct {
	rc_undo *u;
	uintptr_t sp;  /* its function's frame */
	void (*fn)(rc_undo *); /* what the record said at its push */
} undo[UNDOS] __attribute__((tls_model("initial-exec")));
static __thread unsigned nundo __attribute__((tls_model("initial-exec")));

/* Nonzero if the record whose frame is at SP is gone, seen from HERE
 * (ON_ALT: HERE is on the alternate stack ALT): below HERE on the same
 * stack.  One on another stack is kept: in doubt, it is never run by a
 * jump that does not leave it, and is dropped by the pop of an older one. */
static int undo_dead(uintptr_t sp, uintptr_t here, const stack_t *alt, int on_alt)
{
	return on_alt_stack(sp, alt) == on_alt && sp < here;
}

/* Drop the records found gone, seen from HERE. */
static void drop_dead(uintptr_t here, const stack_t *alt, int on_alt)
{
	unsigned n = 0;
	for (unsigned i = 0; i < nundo; i++)
		if (!undo_dead(undo[i].sp, here, alt, on_alt))
			undo[n++] = undo[i];
	nundo = n;
}

void rc_undo_push_at(rc_undo *u, void (*fn)(rc_undo *), uintptr_t sp)
{
	u->fn = fn;
	if (nundo == UNDOS) { /* full: some may be gone (one system call) */
		stack_t alt;
		int on;
		alt_stack(&alt, &on);
		drop_dead(sp, &alt, on);
		if (nundo == UNDOS)
			return;
	}
	unsigned n = nundo;
	undo[n].u = u;
	undo[n].sp = sp;
	undo[n].fn = fn;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	nundo = n + 1;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
}

/* U, and any record newer than it (gone: pushed after it, from below its
 * frame, never popped), go. */
void rc_undo_pop(rc_undo *u)
{
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	for (unsigned i = nundo; i-- > 0;) {
		if (undo[i].u == u) {
			nundo = i;
			break;
		}
	}
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
}

/* The stack pointer ENV resumes at, or 0 where that is not known.  glibc
 * keeps it in the jmp_buf mangled (PTR_MANGLE: xor with the thread's
 * pointer guard, at %fs:0x30, then rotated left 17 bits), slot 6 on
 * x86-64; the same since glibc 2.4. */
static uintptr_t target_sp(const void *env)
{
#if defined(__x86_64__) && defined(__GLIBC__)
	uintptr_t v, guard;
	memcpy(&v, (const char *)env + 6 * sizeof(long), sizeof v);
	__asm__("mov %%fs:0x30, %0" : "=r"(guard));
	v = (v >> 17) | (v << 47);
	return v ^ guard;
#else
	(void)env;
	return 0;
#endif
}

/* Nonzero if a jump to TO leaves the frame at A: below TO on the same
 * stack, or on the alternate stack when TO is not. */
static int left(uintptr_t a, uintptr_t to, const stack_t *alt, int to_alt)
{
	int a_alt = on_alt_stack(a, alt);
	if (a_alt != to_alt)
		return a_alt;
	return a < to;
}

void rc_sig_jumping(const void *env)
{
	if (!__atomic_load_n(&frames, __ATOMIC_RELAXED) && !rc_guard && !nundo)
		return;
	uintptr_t to = target_sp(env);
	if (!to)
		return;
	int e = errno;
	stack_t alt;
	int on;
	alt_stack(&alt, &on);
	int to_alt = on_alt_stack(to, &alt);
	/* a frame above this one on this stack (or on the alternate stack,
	 * or, from it, any stack pointer); else the jmp_buf is not read as
	 * this glibc keeps it: nothing is done */
	uintptr_t here = (uintptr_t)__builtin_frame_address(0);
	if ((to & 7) || !(to_alt || on || (to > here && to - here < (1ull << 32)))) {
		errno = e;
		return;
	}
	/* what the code jumped out of held is given up, newest first, under
	 * the guard (the handler's notes still in place: what the records
	 * do knows it runs in a handler); out of the shim's code altogether
	 * (to the program's frame that called it), the guard comes down */
	int g = rc_guard;
	if (!g) /* raised here: a handler that jumps from inside a record
		 * (a signal the record unblocks) and leaves this frame
		 * lowers it */
		rc_guard_sp = here;
	rc_guard = g + 1;
	drop_dead(here, &alt, on);
	while (nundo && left(undo[nundo - 1].sp, to, &alt, to_alt)) {
		/* a record whose frame is gone unseen (setcontext) and its
		 * stack written over since no longer says what it said:
		 * dropped unrun (one still intact is run) */
		unsigned i = --nundo;
		if (__atomic_load_n(&undo[i].u->fn, __ATOMIC_RELAXED) == undo[i].fn)
			undo[i].fn(undo[i].u);
	}
	rc_guard = g > 0 && left(rc_guard_sp, to, &alt, to_alt) ? 0 : g;
	if (__atomic_load_n(&frames, __ATOMIC_RELAXED))
		prune(to, &alt, to_alt);
	errno = e;
}
