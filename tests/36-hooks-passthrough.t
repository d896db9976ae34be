#!/bin/bash
# Pass-through of every hook: build/t/hookcalls (tests/progs/hookcalls.c)
# calls each function shim/hooks/hooks.def lists, once, on objects that
# belong to no breaker, and prints its return value and errno.  Under the
# shim, with an active config whose breaker matches none of them, every
# line must be the one libc gives without the shim.  A hook added to
# hooks.def without a case in hookcalls.c fails here (NO-CASE, exit 3).
source "$(dirname "$0")/lib.sh"
need_build

BIN=$ROOT/build/t/hookcalls
DEF=$ROOT/shim/hooks/hooks.def
[ -x "$BIN" ] || bail_out "$BIN missing: run make $BIN"

# the names, in hooks.def's order (the order hookcalls prints them in)
mapfile -t names < <(sed -n 's/^RC_HOOK([^,]*, *\([A-Za-z_][A-Za-z0-9_]*\) *,.*/\1/p' "$DEF")
nhooks=$(grep -c '^RC_HOOK(' "$DEF")
is "${#names[@]}" "$nhooks" "hooks.def: every RC_HOOK line gives a name ($nhooks)"

# An active shim: a breaker on a port nothing here uses (hookcalls' ports
# are ephemeral), and a name pattern for localhost on that port, so that
# the resolution hooks record what localhost resolves to.
write_config log_level=debug
breaker other "match=127.0.0.1:1, localhost:1" failure_threshold=1 open_duration=60s

mkdir "$T/plain" "$T/shim"
timeout -k 5 30 "$BIN" "$T/plain" >"$T/plain.out" 2>"$T/plain.err"
is "$?" 0 "without the shim: hookcalls exits 0" || diag "$(cat "$T/plain.err")"
under_shim "$BIN" "$T/shim" >"$T/shim.out" 2>"$T/shim.err"
is "$?" 0 "under the shim: hookcalls exits 0" || diag "$(cat "$T/shim.err")"

ok "$([ -f "$STATE" ]; echo $?)" "the shim was active: the state file exists"
cmp_ok "$(log_count 'event=start .*breakers=1')" '>=' 1 "the shim was active: it logged its start" ||
	show_log
is "$(log_count 'event=(call|reject|transition)')" 0 "no call was judged, rejected or tripped" ||
	show_log
is "$(counts other)" "0 0 0" "breaker other: calls 0, failures 0, rejected 0"

mapfile -t plain <"$T/plain.out"
mapfile -t shim <"$T/shim.out"
is "${#plain[@]}" "$nhooks" "without the shim: one line per RC_HOOK line of hooks.def"
is "${#shim[@]}" "$nhooks" "under the shim: one line per RC_HOOK line of hooks.def"

for i in "${!names[@]}"; do
	n=${names[i]} p=${plain[i]-} s=${shim[i]-}
	if [[ $p != "$n ret="* ]]; then
		ok 1 "$n: called (hookcalls printed '$p')"
		[ "$p" = "$n NO-CASE" ] && diag "tests/progs/hookcalls.c needs a case c_$n"
		continue
	fi
	is "$s" "$p" "$n: same under the shim: ${p#"$n "}"
done

done_testing
