#!/bin/bash
# sanitize.sh - the sanitizer run (make sanitize).  Exits non-zero on any
# sanitizer report, on a failed unit test and on a failed integration test.
#
#   scripts/sanitize.sh [STEP...]       default: all four, in this order
#     canary        a report of each sanitizer, as configured here, fails a
#                   run and leaves a report file (also from a preloaded library)
#     asan-unit     build-asan/t/*: the unit tests under ASan+UBSan, LSan on
#     tsan-unit     build-tsan/t/*: the unit tests under TSan (the state
#                   test's 8 threads per process, in a parent and a child)
#     integration   prove tests/*.t but SKIP, with the ASan+UBSan shim
#                   preloaded and the ASan+UBSan CLI (build-asan/)
#   SANITIZE_T="tests/21-trip.t ..."    integration: only these tests
#   SANITIZE_JOBS=N                     integration: prove -jN (default 1)
#
# Builds, with gcc's own runtimes (libasan8, libubsan1 and libtsan2 come
# with gcc through libgcc-12-dev):
#   build-asan/  make B=build-asan CFLAGS="$ASAN_CFLAGS" sanitize-build
#                (shim, CLI, unit tests) and san-preload.so (below)
#   build-tsan/  make B=build-tsan CFLAGS="$TSAN_CFLAGS" sanitize-units
#   build/       make sanitize-helpers (all, tests/progs): some integration
#                tests run build/t/hookcalls under the shim
# make tracks no flags: a build directory made with other flags is removed.
#
# Reports: every sanitizer writes to files (log_path), never only to a
# stderr a test may discard: build-{asan,tsan}/reports/ (integration:
# reports/TEST.t/), one file per report, SANITIZER.EXE.PID.  Any file there
# after a step fails the run; each is printed, marked OURS when a frame is
# in shim/ or in our binaries.  halt_on_error and the exit codes (ASan 66,
# UBSan 67, TSan 68) stop a program at its first report.
#
# Preloading the ASan shim (tests/lib.sh: RC_BUILD, RC_PRELOAD_FIRST):
#   under_shim: LD_PRELOAD="libasan.so build-asan/san-preload.so build-asan/librecloser.so"
# libasan comes first, so the program's malloc and libc calls are ASan's
# too.  san-preload.so (generated below) does two things:
#  - It initialises ASan before libc's locale lock is taken.  Otherwise a
#    program that links libp11-kit (curl, any libcurl+GnuTLS program) hangs
#    at start with libasan preloaded, shim or not: p11-kit's constructor
#    runs before libasan's and calls newlocale(), which mallocs under libc's
#    locale lock; that first malloc initialises ASan, whose dlerror() ->
#    dcgettext() takes the same lock (EDEADLK, then an unlock that releases
#    newlocale's), and curl's setlocale() then waits forever.  So it defines
#    newlocale, duplocale, bindtextdomain and bind_textdomain_codeset as
#    __asan_init() then libc's.
#  - It writes each UBSan report to a file (__ubsan_on_report): with libasan
#    and libubsan both loaded, UBSan's log_path is lost (libasan's
#    __sanitizer_set_report_path takes it) and its report goes to stderr.
#    It is preloaded into the ASan unit tests too.
# A test that sets LD_PRELOAD="$SHIM" itself, and every program `recloser
# run` starts, gets the shim alone: the ASan runtime comes in as its
# dependency, after libc (verify_asan_link_order=0 lets it).  The shim's
# code is still checked there (its stack and globals, its memory builtins,
# UBSan) but not its heap blocks (malloc is libc's), and a UBSan report
# there goes to the program's stderr only (and its exit status, 67).
#
# SKIP lists the test files that do not run here, XFAIL the assertions that
# fail because of the sanitizer build, not of the code, XREPORT the reports
# a test causes that are not of our code.  The integration step runs each
# test through `sanitize.sh tap-run FILE`, which turns an XFAIL "not ok"
# into TODO, renames an XREPORT file *.expected, fails a test that left any
# other report, and lists what it excused at the end.
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
PRELOAD_FIRST="$LIBASAN $ROOT/$ASAN_B/san-preload.so"

# ---- what does not run, and why ----

declare -A SKIP=(
	[tests/05-layers.t]="static checks of build/'s objects (nm, objdump): no code of ours runs"
	[tests/10-unit-config.t]="runs build/t/config_test; the asan-unit and tsan-unit steps run build-{asan,tsan}/t/"
	[tests/11-unit-state.t]="runs build/t/state_test; see asan-unit and tsan-unit"
	[tests/12-unit-http.t]="runs build/t/http_test; see asan-unit and tsan-unit"
	[tests/13-unit-real.t]="runs build/t/real_test; see asan-unit and tsan-unit"
	[tests/15-unit-match.t]="runs build/t/match_test; see asan-unit and tsan-unit"
	[tests/16-unit-image.t]="runs build/t/image_test; see asan-unit and tsan-unit"
	[tests/20-faultserver.t]="the fault servers alone, without the shim"
	[tests/06-pgo.t]="the profile-guided build of build/ (the sanitizer builds have none): it checks build/'s objects and makes a build of its own"
	[tests/60-install.t]="make install installs build/, not build-asan/, and checks it is build/'s"
	[tests/82-deepbind.t]="dlopen(RTLD_DEEPBIND) under a preloaded libasan: the sanitizer runtime's own dlopen interceptor refuses the flag and stops the program before the shim's dlopen sees it (google/sanitizers#611)"
	[tests/80-timeouts-runtimes.t]="the JVM, node, ruby and php with libasan preloaded: the JVM's own signal handling and the runtimes' start-up under ASan do not fit its timing bounds; its C clients' waits are covered by tests/3a and 74"
)

XF_FILE=() XF_RE=() XF_WHY=()
xfail() { XF_FILE+=("$1"); XF_RE+=("$2"); XF_WHY+=("$3"); }
xfail tests/26-config.t '^(run keeps an existing LD_PRELOAD|\.\.\.and appends the shim to it|run sets RECLOSER_CONFIG to the config)$' \
	"LD_PRELOAD=libc.so.6 recloser run: the program run, with libc.so.6 preloaded ahead of the ASan shim, dies in ASan's start (see XREPORT)"
xfail tests/28-inert.t '^ldd: only libc' \
	"the ASan build links libasan, libubsan and their libstdc++, libm, libgcc_s"
xfail tests/3a-engine-faults.t '^VmRSS grew by less than' \
	"ASan's allocator holds freed blocks in its quarantine (256 MB); with quarantine_size_mb=0 the growth is 0 kB"
xfail tests/39-cli-root.t "^(nobody's program: 2 connects refused|nobody sees dead open|root: status shows nobody's breakers|root: the table shows dead open too|nobody now sees dead closed|the transition is in nobody's log)" \
	"setpriv --reset-env drops ASAN_OPTIONS: nobody's program (LD_PRELOAD=\$SHIM alone) stops at ASan's link-order check, so breaker dead never opens, and these checks follow it"

xfail tests/81-tls.t '^PHP file_get_contents' \
	"php dlopens its opcache extension with RTLD_DEEPBIND, which the ASan runtime refuses (it stops php; see XREPORT)"

# Sanitizer reports a test is expected to cause, not of our code: FILE, a
# glob for the report's name, an ERE its text matches, why.
XR_FILE=() XR_GLOB=() XR_RE=() XR_WHY=()
xreport() { XR_FILE+=("$1"); XR_GLOB+=("$2"); XR_RE+=("$3"); XR_WHY+=("$4"); }
xreport tests/26-config.t 'asan.sh.*' 'ERROR: AddressSanitizer: SEGV on unknown address 0x000000000000 \(pc 0x000000000000 .* T-1\)' \
	"LD_PRELOAD=libc.so.6 recloser run -- sh: with libc.so.6 (and so ld.so) ahead of the ASan runtime in the search list, ASan's start (InitTlsSize) gets NULL from dlsym(RTLD_NEXT, \"_dl_get_tls_static_info\") and calls it, before any shim code runs (LD_PRELOAD=\"libc.so.6 build-asan/librecloser.so\" /bin/true does the same)"

xreport tests/81-tls.t 'asan.php.*' 'with RTLD_DEEPBIND flag which is incompatible with sanitizer runtime' \
	"php loads opcache.so with dlopen(RTLD_DEEPBIND); the ASan runtime reports that and stops php before any of its code runs (google/sanitizers#611)"

# xfail_why FILE DESC: the reason when FILE's assertion DESC is an XFAIL.
xfail_why() {
	local i
	for i in "${!XF_FILE[@]}"; do
		if [ "${XF_FILE[i]}" = "$1" ] && [[ $2 =~ ${XF_RE[i]} ]]; then
			echo "${XF_WHY[i]}"
			return
		fi
	done
}

# tap-run FILE (prove --exec): run FILE, its XFAIL assertions made TODO; a
# test that failed only those passes.
tap_run() {
	local t=${1#"$ROOT"/} line st=1 bad=0 xf=0 desc why rd f i n=0
	t=${t#./}
	rd=$ROOT/$ASAN_B/reports/${t##*/}
	mkdir -p "$rd"
	san_env "$rd" 0 "$INTEG_ASAN"
	while IFS= read -r line; do
		case $line in
		"##sanitize-exit "*)
			st=${line#\#\#sanitize-exit }
			continue
			;;
		"not ok "*)
			if [[ $line != *"# TODO"* ]]; then
				desc=${line#not ok }
				desc=${desc#* - }
				why=$(xfail_why "$t" "$desc")
				if [ -n "$why" ]; then
					line="$line # TODO sanitizer build: $why"
					xf=$((xf + 1))
					echo "$t: $desc: $why" >>"$ROOT/$ASAN_B/reports.xfail"
				else
					bad=$((bad + 1))
				fi
			fi
			;;
		esac
		printf '%s\n' "$line"
	done < <(bash "$t"; echo "##sanitize-exit $?")
	[ "$st" = 1 ] && [ $bad = 0 ] && [ $xf -gt 0 ] && st=0
	# its sanitizer reports: an expected one is renamed *.expected, any
	# other fails the test
	for f in "$rd"/*; do
		[ -f "$f" ] && [[ $f != *.expected ]] || continue
		for i in "${!XR_FILE[@]}"; do
			# shellcheck disable=SC2053
			if [ "${XR_FILE[i]}" = "$t" ] && [[ ${f##*/} == ${XR_GLOB[i]} ]] &&
				grep -qE -- "${XR_RE[i]}" "$f"; then
				mv "$f" "$f.expected"
				echo "$t: report ${f##*/}: ${XR_WHY[i]}" >>"$ROOT/$ASAN_B/reports.xfail"
				continue 2
			fi
		done
		n=$((n + 1))
		echo "# sanitizer report ${f#"$ROOT"/}: $(grep -m1 -E 'ERROR|runtime error|^UBSan|WARNING: ThreadSanitizer' "$f")" >&2
	done
	[ $n -gt 0 ] && [ "$st" = 0 ] && st=66
	exit "$st"
}

# ---- sanitizer options: any report fails the run ----
# san_env REPORTDIR LEAKS(0|1) [ASAN_EXTRA]: export the options.
san_env() {
	local d=$1 leaks=$2 extra=${3:-}
	export RC_SAN_REPORTS=$d # san-preload.so's UBSan reports
	export ASAN_OPTIONS="halt_on_error=1:exitcode=66:abort_on_error=0:detect_leaks=$leaks:log_path=$d/asan:log_exe_name=1:verify_asan_link_order=0:check_initialization_order=1:strict_init_order=1:detect_stack_use_after_return=1:strict_string_checks=1:print_summary=1$extra"
	export UBSAN_OPTIONS="halt_on_error=1:exitcode=67:print_stacktrace=1:report_error_type=1:log_path=$d/ubsan:log_exe_name=1"
	export TSAN_OPTIONS="halt_on_error=1:exitcode=68:second_deadlock_stack=1:log_path=$d/tsan:log_exe_name=1"
	export LSAN_OPTIONS="exitcode=66"
}
# The integration step's ASan options beyond these:
# detect_leaks=0 (san_env's 0): leaks are the host programs' (python, node
# and curl exit with blocks allocated); the unit tests run with LSan.
# handle_sigbus=0: a SIGBUS is the program's or the shim's to handle (the
# shim survives a truncated state file), as without ASan, which reports it.
INTEG_ASAN=":handle_sigbus=0"

if [ "${1:-}" = tap-run ]; then
	tap_run "$2"
fi

fail=0
summary=()
say() { printf '%s\n' "sanitize: $*"; }
note_result() { summary+=("$1"); say "$1"; }

# reports DIR WHAT: print every report file in DIR; 1 if there was one.
reports() {
	local d=$1 what=$2 f n=0 ours
	while IFS= read -r f; do
		[ -s "$f" ] || continue
		n=$((n + 1))
		ours=host
		grep -qE 'shim/|librecloser\.so|build-[a-z]+/recloser|build-[a-z]+/t/' "$f" && ours=OURS
		echo "==== $what: sanitizer report ${f#"$ROOT"/} ($ours code in the stack)"
		cat "$f"
	done < <(find "$d" -type f ! -name '*.expected' | LC_ALL=C sort)
	[ $n -eq 0 ] && return 0
	note_result "FAIL $what: $n sanitizer report file(s) under ${d#"$ROOT"/}"
	return 1
}

fresh_reports() { rm -rf "$1/reports" "$1/reports.xfail"; mkdir -p "$1/reports"; }

# build DIR FLAGS TARGET...: make TARGETs in DIR with FLAGS.
build() {
	local d=$1 flags=$2 stamp=$1/.sanitize-cflags
	shift 2
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
 * libasan, before the ASan build of the shim, and into the ASan unit tests.
 * 1. Initialise ASan before libc's locale and gettext locks are taken.
 * 2. Write every UBSan report to $RC_SAN_REPORTS/ubsan-hook.PID, and its
 *    stack to ASan's log file: UBSan's own log_path is lost when libubsan
 *    and libasan are both loaded, and a test may discard the stderr. */
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
		snprintf(path, sizeof path, "%s/ubsan-hook.%s.%ld", dir,
			 program_invocation_short_name, (long)getpid());
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

build_asan() { build "$ASAN_B" "$ASAN_CFLAGS" sanitize-build && build_preload; }

# ---- steps ----

# canary_run NAME WANT_STATUS WANT_FILE CMD...: CMD exits WANT_STATUS and
# leaves a report file WANT_FILE.* in $CANARY/r.
canary_run() {
	local name=$1 want=$2 file=$3 st
	shift 3
	"$@" >/dev/null 2>&1
	st=$?
	if [ "$st" != "$want" ] || ! compgen -G "$CANARY/r/$file.*" >/dev/null; then
		note_result "FAIL canary $name: exit $st (want $want), report files: $(cd "$CANARY/r" && echo *)"
		canary_bad=1
	fi
	rm -f "$CANARY/r"/*
}

# canary: a heap overflow, a signed overflow and a data race, built with
# the flags above; a heap overflow and a signed overflow in a library
# preloaded into curl the way the shim is.
step_canary() {
	CANARY=$ROOT/$ASAN_B/canary
	canary_bad=0
	local d=$CANARY
	build_asan || return 1
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
	if ! { $CC $ASAN_CFLAGS -o "$d/heap" "$d/heap.c" && $CC $ASAN_CFLAGS -o "$d/ub" "$d/ub.c" &&
		$CC $TSAN_CFLAGS -o "$d/race" "$d/race.c" &&
		$CC $ASAN_CFLAGS -shared -fPIC -o "$d/lib.so" "$d/lib.c"; }; then
		note_result "FAIL canary: cannot build"
		return 1
	fi
	san_env "$d/r" 1
	canary_run asan 66 asan "$d/heap"
	canary_run ubsan 67 ubsan-hook env LD_PRELOAD="$PRELOAD_FIRST" "$d/ub"
	canary_run tsan 68 tsan "$d/race"
	canary_run asan-preloaded 66 asan env LD_PRELOAD="$PRELOAD_FIRST $d/lib.so" /usr/bin/curl -s file:///dev/null
	canary_run ubsan-preloaded 67 ubsan-hook env CANARY_UB=1 LD_PRELOAD="$PRELOAD_FIRST $d/lib.so" /usr/bin/curl -s file:///dev/null
	[ $canary_bad = 0 ] && note_result "ok canary: ASan, UBSan and TSan reports fail a run and leave a report file, also from a library preloaded into curl as the shim is"
	return $canary_bad
}

# unit DIR WHAT [PRELOAD]: run DIR/t/* (the Makefile's UNIT list) with the
# options set, with LD_PRELOAD=PRELOAD.
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
			tail -n 20 <<<"$out"
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
	build_asan || return 1
	san_env "$ROOT/$ASAN_B/reports" 1
	unit "$ASAN_B" asan-unit "$PRELOAD_FIRST"
}

step_tsan_unit() {
	build "$TSAN_B" "$TSAN_CFLAGS" sanitize-units || return 1
	san_env "$ROOT/$TSAN_B/reports" 0
	unit "$TSAN_B" tsan-unit
}

step_integration() {
	local t list=() st bad=0
	build_asan || return 1
	# build/'s helpers (tests/progs), which some tests run under the shim
	"$MAKE" -s -j2 sanitize-helpers || {
		note_result "FAIL build of build/ (sanitize-helpers)"
		return 1
	}
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
	san_env "$ROOT/$ASAN_B/reports" 0 "$INTEG_ASAN"
	unset RECLOSER_TEST_SHIM
	export RC_BUILD=$ROOT/$ASAN_B RC_PRELOAD_FIRST=$PRELOAD_FIRST
	say "integration: ${#list[@]} tests; under_shim: LD_PRELOAD=\"$RC_PRELOAD_FIRST $RC_BUILD/librecloser.so\", CLI $RC_BUILD/recloser"
	prove --timer -j"${SANITIZE_JOBS:-1}" -f --exec "bash $ROOT/scripts/sanitize.sh tap-run" "${list[@]}"
	st=$?
	unset RC_BUILD RC_PRELOAD_FIRST
	if [ -s "$ROOT/$ASAN_B/reports.xfail" ]; then
		say "excused (XFAIL made TODO, XREPORT renamed *.expected):"
		sed 's/^/  /' "$ROOT/$ASAN_B/reports.xfail"
	fi
	[ $st -ne 0 ] && { note_result "FAIL integration: prove exit $st"; bad=1; }
	reports "$ROOT/$ASAN_B/reports" integration || bad=1
	[ $bad = 0 ] && note_result "ok integration: ${#list[@]} test files passed under the ASan+UBSan build ($(grep -c . "$ROOT/$ASAN_B/reports.xfail" 2>/dev/null || echo 0) excused), no other sanitizer report"
	return $bad
}

steps=("$@")
[ ${#steps[@]} -eq 0 ] && steps=(canary asan-unit tsan-unit integration)
T0=$SECONDS
for s in "${steps[@]}"; do
	t0=$SECONDS
	case $s in
	canary) step_canary ;;
	asan-unit) step_asan_unit ;;
	tsan-unit) step_tsan_unit ;;
	integration) step_integration ;;
	*)
		echo "usage: $0 [canary|asan-unit|tsan-unit|integration]..." >&2
		exit 2
		;;
	esac || fail=1
	say "step $s: $((SECONDS - t0)) s"
done
echo
say "summary ($((SECONDS - T0)) s):"
for l in "${summary[@]}"; do echo "  $l"; done
exit $fail
