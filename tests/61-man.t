#!/bin/bash
# The man pages: recloser(1) and recloser.ini(5) render with man-db and groff
# without a single warning; they have the sections a reader expects; every
# INI key of shim/core/keys.def is an item of recloser.ini(5) with its default
# and its bounds; every command of the CLI (SPEC section 6, add, metrics, and
# whatever `recloser help` lists) is an item of recloser(1); the example
# configs in the pages pass `recloser check`.
source "$(dirname "$0")/lib.sh"
need_build
command -v man >/dev/null || skip_all "man (man-db) not installed: run scripts/deps.sh"
command -v groff >/dev/null || skip_all "groff not installed: run scripts/deps.sh"

M1=$ROOT/man/recloser.1
M5=$ROOT/man/recloser.ini.5

# render PAGE: plain text, 80 columns, no hyphenation, no bold or underline.
render() { groff -man -Tutf8 -rLL=80n -rHY=0 -P-cbou "$1" 2>/dev/null; }

for page in "$M1" "$M5"; do
	n=${page##*/}
	ok "$([ -f "$page" ]; echo $?)" "$n exists"
	# (man -E UTF-8 in the C locale prints "\xe2\x80\xa2" for a bullet)
	err=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -E UTF-8 -l "$page" 2>&1 >"$T/$n.txt"); st=$?
	is "$st:$err" "0:" "man --warnings -E UTF-8 -l $n: exit 0, nothing on stderr"
	err=$(groff -man -ww -z "$page" 2>&1); st=$?
	is "$st:$err" "0:" "groff -man -ww -z $n: exit 0, no warning"
	err=$(MANWIDTH=60 man --warnings -E ascii -l "$page" 2>&1 >/dev/null)
	is "$err" "" "man --warnings at 60 columns, ASCII: no warning either"
	cmp_ok "$(wc -l <"$T/$n.txt")" '>' 100 "$n renders to more than 100 lines"
	# Hand-written roff: no line of the output wider than the page.
	wide=$("$PY" -c '
import sys
for l in open(sys.argv[1], encoding="utf-8"):
    if len(l.rstrip("\n")) > 80:
        print(l, end="")' "$T/$n.txt")
	is "$wide" "" "$n: no rendered line wider than 80 columns"
done

R1=$(render "$M1")
R5=$(render "$M5")

# headings SECTION...: each appears as a heading (column 0) of the page.
for s in NAME SYNOPSIS DESCRIPTION COMMANDS OPTIONS ENVIRONMENT FILES "EXIT STATUS" \
	EXAMPLES LIMITATIONS "SEE ALSO"; do
	ok "$(grep -qx "$s" <<<"$R1"; echo $?)" "recloser(1) has the section $s"
done
for s in NAME SYNOPSIS DESCRIPTION FORMAT "GLOBAL SETTINGS" "BREAKER SETTINGS" DURATIONS \
	PATTERNS "LIVE RELOAD" "LOG FORMAT" EXAMPLE "SEE ALSO"; do
	ok "$(grep -qx "$s" <<<"$R5" ; echo $?)" "recloser.ini(5) has the section $s"
done
like "$(grep -A1 -x NAME <<<"$R1" | tail -n 1 | tr -s ' ')" '^ +recloser - ' "recloser(1) NAME: recloser - ..."
like "$(grep -A1 -x NAME <<<"$R5" | tail -n 1 | tr -s ' ')" '^ +recloser\.ini - ' "recloser.ini(5) NAME: recloser.ini - ..."

# item PAGE_TEXT WORD: the text of the item whose tag line starts with WORD
# (a tag at 7 columns, its body indented deeper), joined into one line.
item() {
	"$PY" -c '
import re, sys
text, word = sys.argv[1], sys.argv[2]
lines = text.split("\n")
for i, l in enumerate(lines):
    if re.match(r"^ {7}" + re.escape(word) + r"( |$)", l):
        body = [l]
        for m in lines[i + 1:]:
            if m.strip() and not m.startswith(" " * 8):
                break
            body.append(m)
        print(" ".join(" ".join(body).split()))
        break
' "$1" "$2"
}

# Every key of keys.def is an item of recloser.ini(5) that gives its default.
# keys.def: RC_GLOBAL/RC_BREAKER(name, TYPE, "default", min, max).
keys=$(sed -n 's/^RC_\(GLOBAL\|BREAKER\)(\([a-z_]*\), *[A-Z]*, *"\([^"]*\)",.*/\2 \3/p' "$ROOT/shim/core/keys.def")
cmp_ok "$(wc -l <<<"$keys")" '>=' 19 "keys.def lists the keys ($(wc -l <<<"$keys"))"
nkeys=0 undoc=0 nodef=0
while read -r key dflt; do
	nkeys=$((nkeys + 1))
	it=$(item "$R5" "$key")
	if [ -z "$it" ]; then
		undoc=$((undoc + 1)); diag "recloser.ini(5) has no item for $key"; continue
	fi
	if [ -n "$dflt" ]; then
		[[ $it == *"Default: $dflt"* ]] || { nodef=$((nodef + 1)); diag "$key: no 'Default: $dflt' in: $it"; }
	else
		[[ $it == *"Default: "* ]] || { nodef=$((nodef + 1)); diag "$key: no 'Default:' in: $it"; }
	fi
done <<<"$keys"
is "$undoc" 0 "each of the $nkeys keys of shim/core/keys.def is an item of recloser.ini(5)"
is "$nodef" 0 "...and each item states the default of keys.def"

# ...and states the bounds keys.def gives it: "MIN to MAX", "At least MIN"
# or "At most MAX" (a DURATION's in ms, written as the shortest of ms, s,
# m, h that is whole; a bound named by a macro resolved from shim/core/*.h).
bounds=$(sed -n 's/^RC_\(GLOBAL\|BREAKER\)(\([a-z_]*\), *\([A-Z]*\), *"[^"]*", *\([^,]*\), *\([^)]*\)).*/\2|\3|\4|\5/p' \
	"$ROOT/shim/core/keys.def" | sed 's/ *|/|/g; s/ *$//')
is "$(wc -l <<<"$bounds")" "$(wc -l <<<"$keys")" "keys.def: every key has its bounds columns"
# bound TYPE VALUE: VALUE as recloser.ini(5) writes it
bound() {
	local v=$2
	[ -n "$v" ] || return 0
	if [[ $v =~ ^[A-Z_][A-Z0-9_]*$ ]]; then
		v=$(sed -n "s/^#define $v  *\([0-9][0-9]*\).*/\1/p" "$ROOT"/shim/core/*.h | head -n 1)
		[ -n "$v" ] || { echo "($2: no #define in shim/core/*.h)"; return 0; }
	fi
	if [ "$1" = DURATION ]; then
		if [ "$v" -ne 0 ] && [ $((v % 3600000)) -eq 0 ]; then v="$((v / 3600000))h"
		elif [ "$v" -ne 0 ] && [ $((v % 60000)) -eq 0 ]; then v="$((v / 60000))m"
		elif [ "$v" -ne 0 ] && [ $((v % 1000)) -eq 0 ]; then v="$((v / 1000))s"
		else v="${v}ms"; fi
	fi
	echo "$v"
}
nbound=0 nobound=0
while IFS='|' read -r key type min max; do
	[ -n "$min$max" ] || continue
	nbound=$((nbound + 1))
	lo=$(bound "$type" "$min") hi=$(bound "$type" "$max")
	if [ -n "$min" ] && [ -n "$max" ]; then want="$lo to $hi"
	elif [ -n "$min" ]; then want="At least $lo"
	else want="At most $hi"; fi
	it=$(item "$R5" "$key")
	[[ $it == *"$want"* ]] || { nobound=$((nobound + 1)); diag "$key: no '$want' in: $it"; }
done <<<"$bounds"
cmp_ok "$nbound" '>=' 3 "keys.def bounds some keys ($nbound)"
is "$nobound" 0 "...and each item of recloser.ini(5) states the bounds of keys.def"
like "$(item "$R5" match)" 'required' "match: documented as required"
# ...and no item documents a key that does not exist.
extra=$(grep -oE '^ {7}[a-z_]+ = ' <<<"$R5" | awk '{print $1}' | while read -r k; do
	grep -qx "$k" <<<"$(cut -d' ' -f1 <<<"$keys")
match" || echo "$k"
done)
is "$extra" "" "recloser.ini(5) documents no key that keys.def lacks"

# The log events of SPEC section 5 (and the README) are items of the page.
for ev in start config_error state_error reload transition reject call; do
	ok "$([ -n "$(item "$R5" "$ev")" ]; echo $?)" "recloser.ini(5) documents event=$ev"
done
like "$(item "$R5" config_error)" 'line.*kept_previous' "config_error: line= and action=kept_previous"
like "$(item "$R5" transition)" 'consecutive_failures.*failure_rate.*open_elapsed.*probe_failed.*probes_succeeded.*cli' \
	"transition: every reason"
like "$R5" 'renamed +or +removed' "recloser.ini(5) says how a rotated log is followed"

# Every command is an item of recloser(1): SPEC section 6, add, metrics, and
# every command `recloser help` lists (so a new command needs its entry).
cmds="status open close half-open force-open force-close check run add metrics"
helpcmds=$("$RECLOSER" help 2>/dev/null | sed -n '/^commands:/,/^$/s/^  \([a-z][a-z-]*\).*/\1/p')
cmp_ok "$(wc -w <<<"$helpcmds")" '>=' 8 "recloser help lists its commands ($(echo $helpcmds))"
for c in $(printf '%s\n' $cmds $helpcmds | awk '!seen[$0]++'); do
	ok "$([ -n "$(item "$R1" "$c")" ]; echo $?)" "recloser(1) documents the command $c"
done
# the options of the commands
for o in -c --json --watch --interval --count --textfile; do
	ok "$([ -n "$(item "$R1" "$o")" ]; echo $?)" "recloser(1) documents the option $o"
	like "$(sed -n '/^SYNOPSIS/,/^DESCRIPTION/p' <<<"$R1")" "\[$o" "...and shows it in the SYNOPSIS"
done
for v in RECLOSER_CONFIG RECLOSER_DISABLE LD_PRELOAD RECLOSER_SHIM; do
	ok "$([ -n "$(item "$R1" "$v")" ]; echo $?)" "recloser(1) ENVIRONMENT: $v"
done
for s in 0 1 2; do
	ok "$([ -n "$(item "$R1" "$s")" ]; echo $?)" "recloser(1) EXIT STATUS: $s"
done
lim=$(sed -n '/^LIMITATIONS/,/^SEE ALSO/p' <<<"$R1" | tr -s ' \n' ' ')
for w in 'Statically linked' 'raw system calls' 'Go' 'setuid' 'io_uring' 'libc-internal'; do
	like "$lim" "$w" "recloser(1) LIMITATIONS: $w"
done
like "$(sed -n '/^SEE ALSO/,$p' <<<"$R1")" 'recloser\.ini\(5\)' "recloser(1) SEE ALSO recloser.ini(5)"
like "$(sed -n '/^SEE ALSO/,$p' <<<"$R5")" 'recloser\(1\)' "recloser.ini(5) SEE ALSO recloser(1)"

# The example configs in the pages are valid: `recloser check` accepts them.
sed -n '/^EXAMPLE$/,/^FILES$/p' <<<"$R5" | sed '1d;$d' | sed 's/^       //' >"$T/example5.ini"
out=$("$RECLOSER" check "$T/example5.ini" 2>&1); st=$?
is "$st" 0 "the EXAMPLE of recloser.ini(5) passes recloser check" || diag "$out"
like "$out" 'ok, 3 breakers' "...with its 3 breakers"
sed -n '/^ *\$ cat recloser.ini$/,/^ *\$ recloser/p' <<<"$R1" | sed '1d;$d' | sed 's/^       //' >"$T/example1.ini"
out=$("$RECLOSER" check "$T/example1.ini" 2>&1); st=$?
is "$st" 0 "the config in the EXAMPLES of recloser(1) passes recloser check" || diag "$out"
like "$out" 'ok, 1 breaker' "...with its breaker"

done_testing
