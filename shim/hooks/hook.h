/* hook.h - the entry idioms every hooks/ file uses, documented once.
 *
 * An exported hook is a few lines: if the shim stands back (rc_bypass(),
 * or the fd belongs to no breaker: one table lookup), call REAL(name);
 * else make one engine call.  REAL(name) is never NULL (engine/real.h).
 * Hooks keep errno as the real call left it, unless the engine refuses
 * the call and says why. */
#ifndef RC_HOOK_H
#define RC_HOOK_H

#include <stdio.h>
#include <unistd.h>
#include <fcntl.h>
#include <netdb.h>
#include <linux/close_range.h>
#include <sys/eventfd.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/inotify.h>
#include <sys/pidfd.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>

#include "engine/call.h"
#include "engine/connect.h"
#include "engine/fdtable.h"
#include "engine/init.h"
#include "engine/names.h"
#include "engine/real.h"
#include "engine/stream.h"

#define RC_EXPORT __attribute__((visibility("default")))

/* Declare every hook, from the one list. */
#define RC_HOOK(ret, name, params) RC_EXPORT ret name params;
#include "hooks/hooks.def"

#endif
