/* hook.h - what every hook_*.c file needs. */
#ifndef RC_HOOK_H
#define RC_HOOK_H

#include "engine/engine.h"

#include <stdio.h>
#include <unistd.h>
#include <fcntl.h>
#include <netdb.h>
#include <linux/close_range.h>
#include <sys/eventfd.h>
#include <sys/epoll.h>
#include <sys/mman.h>

#define RC_EXPORT __attribute__((visibility("default")))

/* Declare every hook, from the one list. */
#define RC_HOOK(ret, name, params) RC_EXPORT ret name params;
#include "hooks/hooks.def"

/* The real function, resolving it first if a hook runs before init. */
#define REAL(name) (__builtin_expect(real_##name != NULL, 1) ? real_##name : (rc_init(), real_##name))

#endif
