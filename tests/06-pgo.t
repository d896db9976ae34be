#!/bin/bash
# The shim's profile-guided build (Makefile, PGO; scripts/pgo-train.c):
# the default build was trained and its hot objects compiled with the
# counts; the training driver runs through with a shim and fails without
# one (ld.so only warns of a preload it cannot load); and a training run
# that fails gives a working shim built without a profile, saying so.
source "$(dirname "$0")/lib.sh"
need_build
[ -e "$ROOT/build/pgo/profile" ] ||
	skip_all "build/pgo/profile missing: a build without PGO (not gcc, or PGO=)"
command -v make >/dev/null || skip_all "make not installed"

TRAIN=$ROOT/build/pgo/train

like "$(cat "$ROOT/build/pgo/profile")" '-fprofile-use' \
	"the build was trained: build/pgo/profile holds the flags of the real compile"
# producer OBJ: the flags gcc records of OBJ's compile (-grecord-gcc-switches)
producer() { readelf --debug-dump=info "$1" 2>/dev/null | grep -m1 DW_AT_producer; }
HOT="hooks/io engine/stream engine/call engine/gate core/breaker core/clock"
missing=()
for o in $HOT; do
	[ -s "$ROOT/build/obj/$o.gcda" ] && [[ $(producer "$ROOT/build/obj/$o.o") == *-fprofile-use* ]] ||
		missing+=("build/obj/$o")
done
is "${missing[*]}" "" "the call path's objects were compiled with -fprofile-use and their counts beside them"

# gcc finds every function's counts under the names the Makefile gives
# (a static function's are named after the object's and the source's
# paths): the same compile, the counts checked (-Wmissing-profile -Werror),
# in a directory of its own, as obj/engine/stream.o from the absolute
# source; and, to show the check can fail, as another object's name.
SRC=$ROOT/shim/engine/stream.c
pc() { # DIR NAME: compile SRC there as obj/NAME.o with build/'s counts of stream
	mkdir -p "$1/obj/engine" && cp "$ROOT/build/obj/engine/stream.gcda" "$1/obj/engine/$2.gcda" &&
		(cd "$1" && ${CC:-cc} -O2 -std=gnu11 -D_GNU_SOURCE -fPIC -pthread -I"$ROOT/shim" \
			-fprofile-use -fprofile-partial-training -Wmissing-profile -Werror \
			-c -o "obj/engine/$2.o" "$SRC") >"$1/cc.out" 2>&1
}
pc "$T/c" stream
is "$?" 0 "gcc takes the training's counts of stream.c under the Makefile's names" ||
	diag "$(head -5 "$T/c/cc.out")"
pc "$T/c2" other
isnt "$?" 0 "and not under another object's name (the check can fail)"

"$TRAIN" "$ROOT/build/librecloser.so" >"$T/train.out" 2>&1
st=$?
is "$st" 0 "the training driver runs every workload through under the shim" ||
	diag "$(cat "$T/train.out")"
"$TRAIN" "$T/no-such-shim.so" >"$T/train2.out" 2>&1
st=$?
is "$st" 1 "without a shim in its clients the driver fails (exit 1)"
like "$(cat "$T/train2.out")" 'did not run in the clients' "and says why"

# A training run that fails: the test's own make, into a build directory
# of its own, with a training command that fails.
mk() { env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$ROOT" "$@"; }
B=$T/b
mk -j2 B="$B" PGO_TRAIN=false "$B/librecloser.so" >"$T/make.out" 2>&1
st=$?
is "$st" 0 "make with a training run that fails still builds the shim" || diag "$(tail -20 "$T/make.out")"
like "$(cat "$T/make.out")" 'pgo: the training run failed: the shim is built without a profile' \
	"and says it is built without a profile"
is "$(wc -c <"$B/pgo/profile" 2>/dev/null || echo missing)" 0 "its profile flags are none"
is "$(find "$B/obj" -name '*.gcda' | wc -l)" 0 "no counts beside its objects"
unlike "$(producer "$B/obj/engine/stream.o")" '-fprofile-use' "and its objects were compiled without -fprofile-use"
"$TRAIN" "$B/librecloser.so" >"$T/train3.out" 2>&1
st=$?
is "$st" 0 "that shim works: the driver runs through under it (its breakers judge, one opens)" ||
	diag "$(cat "$T/train3.out")"

done_testing
