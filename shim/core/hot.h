/* hot.h - where the data path's code goes.
 *
 * A hooked call on a breaker's fd runs some 260 instructions (310 before
 * a request's start and its answer ran outside a scope, engine/real.h;
 * 350 in a build without a profile, Makefile's PGO) of a score of functions in
 * hooks/, engine/ and core/.  Spread over the library's
 * code they were 11 pages and 77 cache lines per ping-pong round trip
 * (make bench), each page a TLB entry and each line an instruction-cache
 * fill to find again after the kernel and the peer have run.  RC_HOT puts
 * a function into .text.hot, which the linker places in one run: the
 * functions of that path, and only those, carry it. */
#ifndef RC_HOT_H
#define RC_HOT_H

#define RC_HOT __attribute__((hot))

/* The same for data: the few variables that path reads (the real
 * functions' pointers, the clock's base, the log level, the pid cell's
 * address, ...), which the linker had put on 4 pages, go into one section,
 * .data.rc_hot, together (the shim's LTO makes one object of them all,
 * so the section is one run).  Never a large array. */
#define RC_HOT_DATA __attribute__((section(".data.rc_hot")))

#endif
