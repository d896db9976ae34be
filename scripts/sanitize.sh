#!/bin/bash
# sanitize.sh - the sanitizer run (make sanitize).  Exits non-zero on any
# sanitizer report, a failed unit test or a failed integration test.
#
#   scripts/sanitize.sh [STEP...]       default: all steps, in this order
#     canary        each sanitizer, as configured here, fails a run on a report
#     asan-unit     build-asan/t/*: the unit tests under ASan+UBSan (LSan on)
#     tsan-unit     build-tsan/t/*: the unit tests under TSan (the state
#                   test's threads in one process and in a forked child)
#     integration   prove tests/*.t with build-asan/librecloser.so preloaded
#                   (and build-asan/recloser as the CLI), but the SKIP list
#   SANITIZE_T="tests/21-trip.t ..."    integration: only these tests
#   SANITIZE_JOBS=N                     prove -jN (default 1)
#
# Builds (gcc's own runtimes: libasan8, libubsan1, libtsan2 come with gcc):
#   build-asan/  make B=build-asan CFLAGS="$ASAN_CFLAGS": shim, CLI, unit tests
#   build-tsan/  make B=build-tsan CFLAGS="$TSAN_CFLAGS": the unit tests
# A build directory whose flags differ from these is removed and rebuilt.
#
# Every sanitizer writes its reports to files (log_path), never only to a
# stderr a test may discard: build-{asan,tsan}/reports/{asan,ubsan,tsan}.PID.
# Any file there after a step fails the run; each is printed, with whether
# a frame is in our code (shim/, build-*/librecloser.so, the CLI).
#
# How the ASan shim is preloaded (tests/lib.sh's under_shim, RC_PRELOAD_FIRST):
#   LD_PRELOAD="libasan.so build-asan/san-preload.so build-asan/librecloser.so"
# libasan first, so the program's malloc and libc calls go through ASan too.
# san-preload.so (its source is below) works around a hang of the ASan runtime
# when preloaded, not of ours: in a program that links libp11-kit (curl,
# every libcurl+GnuTLS program), p11-kit's constructor runs before ASan's and
# calls newlocale(), which mallocs while holding libc's locale lock; that
# first malloc initialises ASan, whose dlerror() -> dcgettext() takes the
# same lock again (EDEADLK, then an unlock that releases newlocale's write
# lock), and the next setlocale() waits forever.  san-preload.so defines
# newlocale, duplocale, bindtextdomain and bind_textdomain_codeset, each
# calling __asan_init() first and then libc's.
# A test that sets LD_PRELOAD="$SHIM" itself, and everything `recloser run`
# starts, gets the ASan shim without libasan first: the runtime comes in as
# the shim's dependency, after libc (verify_asan_link_order=0 allows that).
# The shim's own code is still checked there (stack, globals, UBSan, its
# memory builtins), but not its heap blocks (malloc is libc's).
set -u

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 2
MAKE=${MAKE:-make}
CC=${CC:-cc}
ASAN_B=build-asan
TSAN_B=build-tsan
ASAN_CFLAGS="-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all"
TSAN_CFLAGS="-O1 -g -fno-omit-frame-pointer -fsanitize=thread"
LIBASAN=$($CC -print-file-name=libasan.so)

# Integration tests that do not run under the ASan build, and why.
declare -A SKIP=(
	[tests/05-layers.t]="static checks of build/'s objects (nm, objdump): no code of ours runs"
	[tests/10-unit-config.t]="runs build/t/config_test: the asan-unit and tsan-unit steps run build-{asan,tsan}/t/"
	[tests/11-unit-state.t]="runs build/t/state_test: see asan-unit and tsan-unit"
	[tests/12-unit-http.t]="runs build/t/http_test: see asan-unit and tsan-unit"
	[tests/13-unit-real.t]="runs build/t/real_test: see asan-unit and tsan-unit"
	[tests/20-faultserver.t]="the fault servers alone, without the shim"
	[tests/60-install.t]="make install installs build/, not the ASan build, and checks it is build/'s"
)

# ---- sanitizer options: any report fails (halt_on_error, exitcode) ----
# exit codes: ASan 66, UBSan 67, TSan 68; reports go to files, see above.
san_env() { # san_env REPORTDIR LEAKS(0|1): export the options
	local d=$1 leaks=$2
	export RC_SAN_REPORTS=$d # san-preload.so's UBSan reports
	export ASAN_OPTIONS="halt_on_error=1:exitcode=66:abort_on_error=0:detect_leaks=$leaks:log_path=$d/asan:verify_asan_link_order=0:check_initialization_order=1:strict_init_order=1:detect_stack_use_after_return=1:strict_string_checks=1:print_summary=1"
	export UBSAN_OPTIONS="halt_on_error=1:exitcode=67:print_stacktrace=1:report_error_type=1:log_path=$d/ubsan"
	export TSAN_OPTIONS="halt_on_error=1:exitcode=68:second_deadlock_stack=1:log_path=$d/tsan"
	export LSAN_OPTIONS="exitcode=66"
}

fail=0
summary=()
say() { printf '%s\n' "sanitize: $*"; }
note_result() { summary+=("$1"); say "$1"; }

# reports DIR WHAT: print every report file in DIR; 1 if there was one.
reports() {
	local d=$1 what=$2 f n=0 ours
	for f in "$d"/asan.* "$d"/ubsan.* "$d"/ubsan-hook.* "$d"/tsan.*; do
		[ -s "$f" ] || continue
		n=$((n + 1))
		ours=host
		grep -qE 'shim/|librecloser\.so|/recloser\+0x|in (rc|cmd|cli)_' "$f" && ours=OURS
		echo "==== $what: sanitizer report $f ($ours code in the stack)"
		cat "$f"
	done
	[ $n -eq 0 ] && return 0
	note_result "FAIL $what: $n sanitizer report(s), in $d"
	return 1
}

fresh_reports() { rm -rf "$1/reports"; mkdir -p "$1/reports"; }

# build DIR FLAGS TARGET...: make in DIR with FLAGS; a DIR built with other
# flags is removed first (make does not track flags).
build() {
	local d=$1 flags=$2 stamp
	shift 2
	stamp=$d/.sanitize-cflags
	if [ -d "$d" ] && [ "$(cat "$stamp" 2>/dev/null)" != "$flags" ]; then
		say "$d was built with other flags: removing it"
		rm -rf "$d"
	fi
	mkdir -p "$d"
	echo "$flags" >"$stamp"
	"$MAKE" -s -j2 B="$d" CFLAGS="$flags" "$@" || {
		note_result "FAIL build of $d"
		return 1
	}
}

# san-preload.so: see the header.  Not instrumented; the __asan_* and
# __ubsan_* functions it calls are the runtimes'.
build_preload() {
	local src=$ASAN_B/san-preload.c so=$ASAN_B/san-preload.so
	cat >"$src.new" <<'EOF'
/* generated by scripts/sanitize.sh (see its header): preloaded after
 * libasan, before the ASan build of the shim, and into the unit tests.
 * 1. Initialise ASan before libc's locale and gettext locks are taken.
 * 2. Write every UBSan report to $RC_SAN_REPORTS/ubsan-hook.PID, and its
 *    stack to ASan's log file: UBSan's own log_path is lost when libubsan
 *    and libasan are both loaded (libasan's __sanitizer_set_report_path
 *    gets it), and a test may discard the program's stderr. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <libintl.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#define API __attribute__((visibility("default")))
extern void __asan_init(void) __attribute__((weak));
extern void __sanitizer_print_stack_trace(void) __attribute__((weak));
extern void __ubsan_get_current_report_data(const char **kind, const char **msg,
					    const char **file, unsigned *line,
					    unsigned *col, char **addr) __attribute__((weak));

#define EARLY(ret, name, params, args)                                   \
	API ret name params                                              \
	{                                                                \
		static ret(*real) params;                                \
		if (__asan_init)                                         \
			__asan_init();                                   \
		if (!real)                                               \
			real = (ret(*) params)dlsym(RTLD_NEXT, #name);   \
		return real args;                                        \
	}

EARLY(locale_t, newlocale, (int mask, const char *name, locale_t base), (mask, name, base))
EARLY(locale_t, duplocale, (locale_t l), (l))
EARLY(char *, bindtextdomain, (const char *d, const char *dir), (d, dir))
EARLY(char *, bind_textdomain_codeset, (const char *d, const char *cs), (d, cs))

/* libubsan calls this on every report; raw system calls, never the shim's hooks */
API void __ubsan_on_report(void)
{
	const char *kind = "?", *msg = "?", *file = "?", *dir = getenv("RC_SAN_REPORTS");
	unsigned line = 0, col = 0;
	char *addr = NULL, path[4096], buf[8192];
	if (__ubsan_get_current_report_data)
		__ubsan_get_current_report_data(&kind, &msg, &file, &line, &col, &addr);
	if (dir && *dir) {
		snprintf(path, sizeof path, "%s/ubsan-hook.%ld", dir, (long)getpid());
		int n = snprintf(buf, sizeof buf, "UBSan %s at %s:%u:%u: %s (pid %ld, %s)\n",
				 kind, file, line, col, msg, (long)getpid(),
				 program_invocation_name);
		long fd = syscall(SYS_openat, AT_FDCWD, path,
				  O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		if (fd >= 0) {
			if (n > (int)sizeof buf - 1)
				n = (int)sizeof buf - 1;
			if (n > 0 && syscall(SYS_write, fd, buf, (size_t)n) < 0)
				n = 0;
			syscall(SYS_close, fd);
		}
	}
	if (__sanitizer_print_stack_trace)
		__sanitizer_print_stack_trace();
}
EOF
	if ! cmp -s "$src.new" "$src" || ! [ -f "$so" ]; then
		mv "$src.new" "$src"
		$CC -O2 -Wall -Werror -shared -fPIC -o "$so" "$src" -ldl || {
			note_result "FAIL build of $so"
			return 1
		}
	else
		rm -f "$src.new"
	fi
}

# ---- steps ----

# canary: a heap overflow, a signed overflow and a data race, built with
# the flags above, each fail under the options above and leave a report
# file; and so does a heap overflow in a library preloaded the way the
# integration step preloads the shim, inside a program that is not ours.
step_canary() {
	local d=$ROOT/$ASAN_B/canary st bad=0
	rm -rf "$d"
	mkdir -p "$d/r"
	cat >"$d/heap.c" <<'EOF'
#include <stdlib.h>
#include <string.h>
int main(int argc, char **argv) { char *p = malloc(8); memset(p, 1, 8 + (size_t)argc); return p[3]; }
EOF
	cat >"$d/ub.c" <<'EOF'
#include <limits.h>
int main(int argc, char **argv) { int x = INT_MAX - 1 + argc; return x + argc > 0; }
EOF
	cat >"$d/race.c" <<'EOF'
#include <pthread.h>
static int n;
static void *f(void *a) { n++; return a; }
int main(void) { pthread_t t; pthread_create(&t, 0, f, 0); n++; pthread_join(t, 0); return 0; }
EOF
	cat >"$d/lib.c" <<'EOF'
#include <limits.h>
#include <stdlib.h>
#include <string.h>
char *volatile sink;
__attribute__((constructor)) static void overflow(void)
{
	if (getenv("CANARY_UB")) {
		volatile int x = INT_MAX;
		x = x + 1;
	}
	sink = malloc(8);
	memset(sink, 1, 9);
}
EOF
	# shellcheck disable=SC2086
	$CC $ASAN_CFLAGS -o "$d/heap" "$d/heap.c" && $CC $ASAN_CFLAGS -o "$d/ub" "$d/ub.c" &&
		$CC $TSAN_CFLAGS -o "$d/race" "$d/race.c" &&
		$CC $ASAN_CFLAGS -shared -fPIC -o "$d/lib.so" "$d/lib.c" || {
		note_result "FAIL canary: cannot build"
		return 1
	}
	san_env "$d/r" 1
	canary_run() { # NAME WANT_STATUS WANT_FILE CMD...
		local name=$1 want=$2 file=$3
		shift 3
		"$@" >/dev/null 2>&1
		st=$?
		if [ "$st" != "$want" ] || ! ls "$d/r/$file".* >/dev/null 2>&1; then
			note_result "FAIL canary $name: exit $st (want $want), report file $file.*: $(ls "$d/r" | tr '\n' ' ')"
			bad=1
		fi
		rm -f "$d/r"/*
	}
	local pre="$LIBASAN $ROOT/$ASAN_B/san-preload.so"
	canary_run asan 66 asan "$d/heap"
	canary_run ubsan 67 ubsan-hook env LD_PRELOAD="$pre" "$d/ub"
	canary_run tsan 68 tsan "$d/race"
	canary_run asan-preloaded 66 asan env LD_PRELOAD="$pre $d/lib.so" /usr/bin/curl -s file:///dev/null
	canary_run ubsan-preloaded 67 ubsan-hook env CANARY_UB=1 LD_PRELOAD="$pre $d/lib.so" /usr/bin/curl -s file:///dev/null
	[ $bad = 0 ] && note_result "ok canary: an ASan, UBSan and TSan report each fail a run and leave a report file, also from a library preloaded into curl as the shim is"
	return $bad
}

# unit DIR WHAT [PRELOAD]: run DIR/t/* (the Makefile's UNIT list) with the
# options set, LD_PRELOAD=PRELOAD.
unit() {
	local d=$1 what=$2 pre=${3:-} t st t0 bad=0 out n
	fresh_reports "$d"
	for t in "$d"/t/*; do
		[ -x "$t" ] || continue
		t0=${EPOCHREALTIME//[.,]/}
		out=$(timeout -k 5 300 env ${pre:+LD_PRELOAD="$pre"} "$t" 2>&1)
		st=$?
		n=$(grep -c '^ok' <<<"$out")
		if [ $st -ne 0 ] || grep -q '^not ok' <<<"$out"; then
			bad=1
			grep '^not ok' <<<"$out"
			note_result "FAIL $what ${t##*/}: exit $st, $(grep -c '^not ok' <<<"$out") not ok"
		else
			say "ok $what ${t##*/}: $n ok, $(((${EPOCHREALTIME//[.,]/} - t0) / 1000)) ms"
		fi
	done
	reports "$d/reports" "$what" || bad=1
	[ $bad = 0 ] && note_result "ok $what: every unit test passed, no sanitizer report"
	return $bad
}

step_asan_unit() {
	build "$ASAN_B" "$ASAN_CFLAGS" sanitize-build && build_preload || return 1
	san_env "$ROOT/$ASAN_B/reports" 1
	unit "$ASAN_B" asan-unit "$LIBASAN $ROOT/$ASAN_B/san-preload.so"
}

step_tsan_unit() {
	build "$TSAN_B" "$TSAN_CFLAGS" sanitize-units || return 1
	san_env "$ROOT/$TSAN_B/reports" 0
	unit "$TSAN_B" tsan-unit
}

step_integration() {
	local t list=() st
	build "$ASAN_B" "$ASAN_CFLAGS" sanitize-build && build_preload || return 1
	if [ -n "${SANITIZE_T:-}" ]; then
		# shellcheck disable=SC2206
		list=($SANITIZE_T)
	else
		for t in tests/*.t; do
			if [ -n "${SKIP[$t]:-}" ]; then
				say "skip $t: ${SKIP[$t]}"
				continue
			fi
			list+=("$t")
		done
	fi
	fresh_reports "$ASAN_B"
	# Leaks are the host programs' business (python, node and curl exit
	# with blocks still allocated); the unit tests run with LSan.
	san_env "$ROOT/$ASAN_B/reports" 0
	unset RECLOSER_TEST_SHIM
	export RC_BUILD=$ROOT/$ASAN_B
	export RC_PRELOAD_FIRST="$LIBASAN $ROOT/$ASAN_B/san-preload.so"
	say "integration: ${#list[@]} tests, LD_PRELOAD=\"$RC_PRELOAD_FIRST $RC_BUILD/librecloser.so\""
	prove --timer -j"${SANITIZE_JOBS:-1}" -f "${list[@]}"
	st=$?
	unset RC_BUILD RC_PRELOAD_FIRST
	local bad=0
	[ $st -ne 0 ] && { note_result "FAIL integration: prove exit $st"; bad=1; }
	reports "$ROOT/$ASAN_B/reports" integration || bad=1
	[ $bad = 0 ] && note_result "ok integration: ${#list[@]} tests passed under the ASan+UBSan shim, no sanitizer report"
	return $bad
}

steps=("$@")
[ ${#steps[@]} -eq 0 ] && steps=(canary asan-unit tsan-unit integration)
T0=$SECONDS
for s in "${steps[@]}"; do
	t0=$SECONDS
	case $s in
	canary) build "$ASAN_B" "$ASAN_CFLAGS" sanitize-build && build_preload && step_canary ;;
	asan-unit) step_asan_unit ;;
	tsan-unit) step_tsan_unit ;;
	integration) step_integration ;;
	*) echo "usage: $0 [canary|asan-unit|tsan-unit|integration]..." >&2; exit 2 ;;
	esac || fail=1
	say "step $s: $((SECONDS - t0)) s"
done
echo
say "summary ($((SECONDS - T0)) s):"
for l in "${summary[@]}"; do echo "  $l"; done
exit $fail
