/* dl.c - dlopen(3) without RTLD_DEEPBIND.
 *
 * An object loaded with RTLD_DEEPBIND (PHP loads every extension so)
 * resolves its symbols in itself and its own dependencies before the
 * global scope: its calls into libcurl, libssl or libc, and theirs, skip
 * the preloaded shim, and the program is not protected.  While the shim
 * is active, dlopen clears RTLD_DEEPBIND and loads the object as a plain
 * RTLD_GLOBAL/RTLD_LOCAL one: its references bind as any other object's
 * do, the shim's hooks first.  What the program can observe: a symbol the
 * object defines itself and the program (or an earlier RTLD_GLOBAL object)
 * defines too now binds to the earlier one, as it would where
 * RTLD_DEEPBIND does not exist (musl, macOS).  Inert, the shim passes the
 * flags through untouched.
 *
 * dlopen is a tail jump (x86-64): the dynamic linker takes the caller of
 * dlopen to choose the search path (its RUNPATH) and the namespace, so
 * the caller must stay the program's.  Elsewhere the flag is still
 * cleared, from C (the caller is then the shim: a file name without a
 * slash is searched from the shim's RUNPATH, which it has none of, and the
 * default paths). */
#include <dlfcn.h>

#include "hooks/hook.h"

/* The real dlopen, resolved if need be (the jump's slow path). */
void *(*rc_dl_real(void))(const char *, int) __attribute__((visibility("hidden"), used));
void *(*rc_dl_real(void))(const char *, int)
{
	return REAL(dlopen);
}

#if defined(__x86_64__)
__asm__(".text\n"
	".globl dlopen\n"
	".type dlopen, @function\n"
	"dlopen:\n"
	"	cmpl $0, rc_active(%rip)\n"        /* active: clear RTLD_DEEPBIND */
	"	je 1f\n"
	"	andl $-9, %esi\n"                 /* ~RTLD_DEEPBIND (0x8) */
	"1:	movq real_dlopen(%rip), %rax\n"
	"	testq %rax, %rax\n"
	"	jz 2f\n"
	"	jmp *%rax\n"
	"2:	pushq %rdi\n"
	"	pushq %rsi\n"
	"	subq $8, %rsp\n"                  /* the stack 16-aligned at the call */
	"	call rc_dl_real\n"
	"	addq $8, %rsp\n"
	"	popq %rsi\n"
	"	popq %rdi\n"
	"	jmp *%rax\n"
	".size dlopen, .-dlopen\n");
#else
RC_EXPORT void *dlopen(const char *file, int mode)
{
	if (__atomic_load_n(&rc_active, __ATOMIC_RELAXED))
		mode &= ~RTLD_DEEPBIND;
	return REAL(dlopen)(file, mode);
}
#endif
