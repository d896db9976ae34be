#!/bin/bash
# The layer rules of the layout (ARCHITECTURE.md, "Rules that keep it so"),
# checked on the sources and on what `make` built, with the project's own
# tools: grep over the includes, nm, objdump, ldd.  Each rule is one or more
# `ok` lines; an offending file, include or symbol is a "# ..." diagnostic.
#
#   1. A layer includes only itself and the layers below it:
#      cli -> core; hooks -> engine -> core; core -> core.  The .def lists
#      are data: any layer may include them.  tests/unit includes core only.
#   2. No import circle between modules (shim/<layer>/<base>: its .c and .h).
#   3. Core does I/O only through core/sys.o: no other core object calls a
#      function hooks.def hooks.
#   4. The call path (engine/, hooks/) allocates, locks and uses stdio not
#      at all, but for the objects of INIT_ONLY below.
#   5. Only engine/gate.o asks the state machine (rc_breaker_admit/record,
#      core/breaker.c); only core/breaker.c reads the state word.
#   6. librecloser.so exports exactly the hooked names and never calls one
#      of them itself through the PLT/GOT.
#   7. librecloser.so needs libc only.
#   8. Warnings, never failures: a .c file over MAX_FILE_LINES lines, a
#      function over about MAX_FUNC_LINES.
#
# Objects are build/obj/<layer>/<base>.o for each shim/<layer>/<base>.c (an
# object whose source is gone is not linked, and is ignored with a note).
source "$(dirname "$0")/lib.sh"
cd "$ROOT" || bail_out "cannot cd to $ROOT"

# ---- the rules' data ----

LAYERS=(core engine hooks cli)
# what each layer may include: itself and the layers below it
declare -A MAY_INCLUDE=(
	[core]="core"
	[engine]="engine core"
	[hooks]="hooks engine core"
	[cli]="cli core"
)
UNIT_MAY_INCLUDE="core"          # tests/unit/*.c

SYS_O=build/obj/core/sys.o       # rule 3: the one core object allowed I/O
GATE_O=build/obj/engine/gate.o   # rule 5: the one object that asks the machine
BREAKER_O=build/obj/core/breaker.o
BREAKER_C=shim/core/breaker.c
SLOT_H=shim/core/slot.h          # defines the state word's accessors
DECIDE_SYMS="rc_breaker_admit rc_breaker_record"
WORD_ERE='RC_W_(STATE|GEN|LEVEL|SINCE)|->[[:space:]]*word\b'

# Rule 4: what the call path must not reference (nm -u).  Allocation (and
# the stdio calls that allocate), locks, and stdio: snprintf and vsnprintf
# (and their fortified _chk forms) are allowed, they only format into a
# caller's buffer.  printf is lowered by gcc to puts/putchar/fwrite, so
# those are listed too.
CALLPATH_BAN_ERE='^(malloc|calloc|realloc|reallocarray|free|strdup|strndup|aligned_alloc|posix_memalign|memalign|valloc|pvalloc'
CALLPATH_BAN_ERE+='|pthread_mutex_.*|pthread_rwlock_.*|pthread_spin_.*'
CALLPATH_BAN_ERE+='|printf|vprintf|fprintf|vfprintf|dprintf|vdprintf|sprintf|vsprintf|asprintf|vasprintf'
CALLPATH_BAN_ERE+='|__(v?)(printf|fprintf|dprintf|sprintf|asprintf)_chk'
CALLPATH_BAN_ERE+='|fopen|fopen64|fdopen|freopen|fclose|fwrite|fwrite_unlocked|fread|fputs|fputs_unlocked'
CALLPATH_BAN_ERE+='|fputc|putc|putchar|puts|fgets|fgetc|getc|getline|getdelim|__getdelim|fflush|setvbuf|perror|open_memstream)$'

# Rule 4 allow-list: objects that run only at init or on a reload, never on
# a call's path.  OBJECT -> the banned names it may use ('*': any of them).
declare -A INIT_ONLY=(
	# resolves the real functions and loads the first config: parsing the
	# INI file allocates (inih, the pattern tables), a one-time lock at most
	[build/obj/engine/init.o]='*'
	# the live config: a reload builds a new config (allocating) and frees
	# the one it replaces once no call holds it
	[build/obj/engine/live.o]='*'
	# (hooks/curl.o parses a port with strtol: not on the list, so it needs
	# no entry here; it must not allocate.)
)

MAX_FILE_LINES=600
MAX_FUNC_LINES=60

for tool in nm objdump ldd awk grep; do
	command -v "$tool" >/dev/null || bail_out "$tool not found (binutils, libc-bin)"
done

# diag_list PREFIX LINE...: each LINE as a diagnostic
diag_list() {
	local p=$1 l
	shift
	for l in "$@"; do diag "$p$l"; done
}

# nm_u OBJ: the names OBJ references but does not define; fails with nm
nm_u() {
	local out
	out=$(nm -u "$1" 2>&1) || { diag "nm -u $1: $out"; return 1; }
	awk 'NF { print $NF }' <<<"$out"
}

# ---- the hooked names (hooks.def, and the RC_CURL names of curl.def) ----

def_names() { # MACRO FILE
	sed -nE "s/^[[:space:]]*$1\([^,]+,[[:space:]]*([A-Za-z_][A-Za-z0-9_]*)[[:space:]]*,.*/\1/p" "$2" 2>/dev/null
}
mapfile -t HOOKED < <(def_names RC_HOOK shim/hooks/hooks.def)
mapfile -t CURLED < <(def_names RC_CURL shim/hooks/curl.def)
# RC_TLS(lib, ret, name, params): the name is the third field
mapfile -t TLSED < <(sed -nE 's/^[[:space:]]*RC_TLS\([^,]+,[^,]+,[[:space:]]*([A-Za-z_][A-Za-z0-9_]*)[[:space:]]*,.*/\1/p' \
	shim/hooks/tls.def 2>/dev/null)
declare -A IS_HOOKED=() IS_EXPORT=()
for n in "${HOOKED[@]}"; do IS_HOOKED[$n]=1; IS_EXPORT[$n]=1; done
for n in "${CURLED[@]}" "${TLSED[@]}"; do IS_EXPORT[$n]=1; done
((${#HOOKED[@]} > 0 && ${#CURLED[@]} > 0))
ok $? "hooks.def and curl.def name the hooks (${#HOOKED[@]} RC_HOOK, ${#CURLED[@]} RC_CURL)" ||
	diag "no RC_HOOK(ret, name, params) lines in shim/hooks/hooks.def or no RC_CURL(...) in shim/hooks/curl.def"

# ---- the objects ----

declare -A OBJS=()   # layer -> its objects, one per shim/<layer>/*.c
bad=()
nobj=0
for L in core engine hooks; do
	OBJS[$L]=""
	for c in shim/$L/*.c; do
		[ -e "$c" ] || continue
		b=${c##*/}
		o=build/obj/$L/${b%.c}.o
		if [ ! -f "$o" ]; then
			bad+=("$o missing (from $c)")
		elif [ "$o" -ot "$c" ]; then
			bad+=("$o older than $c")
		else
			OBJS[$L]+="$o "
			nobj=$((nobj + 1))
		fi
	done
	for o in build/obj/$L/*.o; do
		[ -e "$o" ] || continue
		b=${o##*/}
		[ -e "shim/$L/${b%.o}.c" ] || note "ignored: $o has no shim/$L/${b%.o}.c (left from a rename? make clean)"
	done
done
[ "$nobj" -gt 0 ] || bad+=("no objects in build/obj/{core,engine,hooks}: run make")
if [ -f build/librecloser.so ]; then
	newer=()
	for o in ${OBJS[core]} ${OBJS[engine]} ${OBJS[hooks]}; do
		# core/sys.o is libc's binding of core's I/O, for the CLI and
		# the tests: the shim binds it itself (engine/real.c)
		[ "$o" = build/obj/core/sys.o ] && continue
		[ build/librecloser.so -ot "$o" ] && newer+=("$o")
	done
	((${#newer[@]} == 0)) ||
		bad+=("build/librecloser.so older than ${#newer[@]} of its objects (${newer[0]}...): rules 6 and 7 read a stale link")
else
	bad+=("build/librecloser.so missing")
fi
for L in core engine hooks; do
	[ -n "${OBJS[$L]}" ] || bad+=("no object of layer $L (shim/$L/*.c)")
done
((${#bad[@]} == 0))
ok $? "build/obj holds an up-to-date object for each shim/{core,engine,hooks}/*.c ($nobj), and the shim is linked from them" ||
	{ diag_list "" "${bad[@]}"; diag "run make first"; }

# ---- rule 1: layers look down only ----

# layer_of PATH: the layer of shim/<layer>/..., else empty
layer_of() {
	local p=${1#shim/} l
	for l in "${LAYERS[@]}"; do
		[ "${p%%/*}" = "$l" ] && [ "$p" != "$l" ] && { echo "$l"; return; }
	done
}

# includes FILE...: "file:line:path:quote" for each #include, quote " or <
includes() {
	grep -nE '^[[:space:]]*#[[:space:]]*include[[:space:]]*[<"][^">]+[">]' "$@" /dev/null |
		sed -nE 's/^([^:]+):([0-9]+):[[:space:]]*#[[:space:]]*include[[:space:]]*([<"])([^">]+)[">].*/\1:\2:\4:\3/p'
}

mapfile -t SHIM_FILES < <(find shim -type f ! -name '*~' ! -name '.*' | LC_ALL=C sort)
bad=()
for f in "${SHIM_FILES[@]}"; do
	[ -n "$(layer_of "$f")" ] || bad+=("$f: lies in no layer folder (${LAYERS[*]})")
done
while IFS=: read -r f line inc q; do
	L=$(layer_of "$f")
	[ -n "$L" ] || continue
	top=${inc%%/*}
	if [ "$top" = "$inc" ] || [ -z "${MAY_INCLUDE[$top]+x}" ]; then
		# not "layer/file": system headers in <> are fine; a quoted
		# include must name its layer
		[ "$q" = '"' ] && bad+=("$f:$line: #include \"$inc\" does not name its layer (\"layer/file.h\")")
		continue
	fi
	[[ $inc == *.def ]] && continue           # data lists: any layer
	[[ " ${MAY_INCLUDE[$L]} " == *" $top "* ]] ||
		bad+=("$f:$line: $L includes $inc ($L may include: ${MAY_INCLUDE[$L]})")
done < <(includes "${SHIM_FILES[@]}")
((${#SHIM_FILES[@]} > 0)) || bad+=("no files under shim/")
((${#bad[@]} == 0))
ok $? "rule 1: each layer includes only itself and the layers below (cli->core, hooks->engine->core)" ||
	diag_list "" "${bad[@]}"

bad=()
mapfile -t UNIT_FILES < <(find tests/unit -type f \( -name '*.c' -o -name '*.h' \) | LC_ALL=C sort)
while IFS=: read -r f line inc q; do
	top=${inc%%/*}
	if [ -n "${MAY_INCLUDE[$top]+x}" ] && [ "$top" != "$inc" ]; then
		[[ $inc == *.def ]] && continue
		[[ " $UNIT_MAY_INCLUDE " == *" $top "* ]] ||
			bad+=("$f:$line: includes $inc (tests/unit may include: $UNIT_MAY_INCLUDE)")
	elif [ "$q" = '"' ] && [ ! -e "tests/unit/$inc" ]; then
		bad+=("$f:$line: #include \"$inc\" is neither core/... nor a file of tests/unit")
	fi
done < <(((${#UNIT_FILES[@]} > 0)) && includes "${UNIT_FILES[@]}")
((${#bad[@]} == 0))
ok $? "rule 1: tests/unit includes core only" || diag_list "" "${bad[@]}"

# ---- rule 2: no import circle ----

# A module is shim/<layer>/<base>: its .c and .h together.  An edge A -> B
# when a file of A includes B's .h.
declare -A EDGES=() WHERE=() COLOR=()
MODS=()
while IFS=: read -r f line inc q; do
	L=$(layer_of "$f")
	[ -n "$L" ] && [ "$q" = '"' ] || continue
	case $f in *.c | *.h) ;; *) continue ;; esac
	[[ $inc == */*.h ]] && [ -n "${MAY_INCLUDE[${inc%%/*}]+x}" ] || continue
	b=${f##*/}
	a=$L/${b%.*}
	m=${inc%.h}
	[ "$a" = "$m" ] && continue
	[ -n "${WHERE["$a $m"]+x}" ] && continue
	WHERE["$a $m"]="$f:$line"
	EDGES[$a]+="$m "
	[ -n "${COLOR[$a]+x}" ] || { COLOR[$a]=0; MODS+=("$a"); }
	[ -n "${COLOR[$m]+x}" ] || { COLOR[$m]=0; MODS+=("$m"); }
done < <(includes "${SHIM_FILES[@]}")

STACK=()
CYCLES=()
dfs() {
	local n=$1 m i on s
	COLOR[$n]=1
	STACK+=("$n")
	for m in ${EDGES[$n]:-}; do
		case ${COLOR[$m]} in
		0) dfs "$m" ;;
		1) # a back edge: the stack from m to n, then m again, is a circle
			on=0 s=""
			for i in "${STACK[@]}"; do
				[ "$i" = "$m" ] && on=1
				[ $on = 1 ] && s+="$i -> "
			done
			CYCLES+=("$s$m") ;;
		esac
	done
	unset 'STACK[${#STACK[@]}-1]'
	COLOR[$n]=2
}
for n in "${MODS[@]}"; do
	[ "${COLOR[$n]}" = 0 ] && dfs "$n"
done
((${#CYCLES[@]} == 0))
ok $? "rule 2: no import circle between modules (${#MODS[@]} modules, ${#WHERE[@]} edges)" || {
	for c in "${CYCLES[@]}"; do
		diag "circle: $c"
		read -ra hop <<<"${c//->/ }"
		for ((i = 0; i + 1 < ${#hop[@]}; i++)); do
			diag "    ${hop[i]} -> ${hop[i + 1]}: ${WHERE["${hop[i]} ${hop[i + 1]}"]}"
		done
	done
}

# ---- rule 3: core does I/O only through core/sys ----

bad=()
for o in ${OBJS[core]}; do
	[ "$o" = "$SYS_O" ] && continue
	syms=$(nm_u "$o") || { bad+=("$o: nm failed"); continue; }
	hits=()
	for s in $syms; do [ -n "${IS_HOOKED[$s]+x}" ] && hits+=("$s"); done
	((${#hits[@]} == 0)) || bad+=("$o: ${hits[*]}")
done
((${#HOOKED[@]} > 0)) || bad+=("no hooked names to look for")
((${#bad[@]} == 0))
ok $? "rule 3: core objects but ${SYS_O#build/obj/} call no hooked I/O function (nm -u)" ||
	diag_list "" "${bad[@]}"

# ---- rule 4: the call path allocates, locks and prints nothing ----

bad=()
for o in "${!INIT_ONLY[@]}"; do
	[ -f "$o" ] || note "allow-list: $o is not built (yet)"
done
for o in ${OBJS[engine]} ${OBJS[hooks]}; do
	syms=$(nm_u "$o") || { bad+=("$o: nm failed"); continue; }
	allow=${INIT_ONLY[$o]:-}
	[ "$allow" = '*' ] && continue
	hits=()
	for s in $(grep -E "$CALLPATH_BAN_ERE" <<<"$syms"); do
		[[ " $allow " == *" $s "* ]] || hits+=("$s")
	done
	((${#hits[@]} == 0)) || bad+=("$o: ${hits[*]}")
done
((${#bad[@]} == 0))
ok $? "rule 4: engine and hooks objects (but the init-only allow-list) reference no malloc, lock or stdio (nm -u)" ||
	diag_list "" "${bad[@]}"

# ---- rule 5: only the gate decides; only the breaker reads the word ----

bad=()
if [ -f "$BREAKER_O" ]; then
	defs=$(nm --defined-only -g "$BREAKER_O" 2>/dev/null | awk 'NF { print $NF }')
	for s in $DECIDE_SYMS; do
		grep -qx -- "$s" <<<"$defs" || bad+=("$BREAKER_O does not define $s")
	done
else
	bad+=("$BREAKER_O missing ($([ -f "$BREAKER_C" ] && echo "not built: run make" || echo "no $BREAKER_C"))")
fi
if [ -f "$GATE_O" ]; then
	syms=$(nm_u "$GATE_O") || bad+=("$GATE_O: nm failed")
	for s in $DECIDE_SYMS; do
		grep -qx -- "$s" <<<"${syms:-}" || bad+=("$GATE_O does not call $s")
	done
else
	bad+=("$GATE_O missing ($([ -f shim/engine/gate.c ] && echo "not built: run make" || echo "no shim/engine/gate.c"))")
fi
((${#bad[@]} == 0))
ok $? "rule 5: the state machine's admit and record are in ${BREAKER_O#build/obj/}, and ${GATE_O#build/obj/} calls them" ||
	diag_list "" "${bad[@]}"

bad=()
for o in ${OBJS[engine]} ${OBJS[hooks]}; do
	[ "$o" = "$GATE_O" ] && continue
	syms=$(nm_u "$o") || { bad+=("$o: nm failed"); continue; }
	hits=()
	for s in $DECIDE_SYMS; do grep -qx -- "$s" <<<"$syms" && hits+=("$s"); done
	((${#hits[@]} == 0)) || bad+=("$o: ${hits[*]}")
done
((${#bad[@]} == 0))
ok $? "rule 5: no engine or hooks object but ${GATE_O#build/obj/} references $DECIDE_SYMS" ||
	diag_list "" "${bad[@]}"

# nocomment FILE: FILE with its comments and string literals blanked (the
# line count kept), so that neither can match nor count a brace.
nocomment() {
	awk '
	{
		s = $0; out = ""; n = length(s)
		for (i = 1; i <= n; i++) {
			c = substr(s, i, 1); c2 = substr(s, i, 2)
			if (incom) { if (c2 == "*/") { incom = 0; i++ } continue }
			if (c2 == "/*") { incom = 1; i++; continue }
			if (c2 == "//") break
			if (c == "\"" || c == "\047") {
				q = c
				for (i++; i <= n; i++) {
					c = substr(s, i, 1)
					if (c == "\\") { i++; continue }
					if (c == q) break
				}
				out = out q q; continue
			}
			out = out c
		}
		print out
	}' "$1"
}

bad=()
for f in "${SHIM_FILES[@]}"; do
	case $f in *.c | *.h) ;; *) continue ;; esac
	[ "$f" = "$BREAKER_C" ] || [ "$f" = "$SLOT_H" ] && continue
	k=0
	while IFS= read -r hit; do
		k=$((k + 1))
		((k <= 5)) && bad+=("$f:$hit")
	done < <(nocomment "$f" | grep -nE -- "$WORD_ERE")
	((k > 5)) && bad+=("$f: ... $((k - 5)) more lines")
done
((${#bad[@]} == 0))
ok $? "rule 5: the state word (RC_W_*, ->word) is read in ${BREAKER_C#shim/} only" ||
	diag_list "" "${bad[@]}"

# ---- rule 6: the exports, and no call of our own exports ----

SO=build/librecloser.so
if [ -f "$SO" ]; then
	exported=$(nm -D --defined-only "$SO" 2>&1) || { diag "$exported"; exported=""; }
	mapfile -t got < <(awk 'NF >= 3 { sub(/@.*/, "", $NF); print $NF }' <<<"$exported" | LC_ALL=C sort -u)
	mapfile -t want < <(printf '%s\n' "${!IS_EXPORT[@]}" | LC_ALL=C sort -u)
	extra=$(LC_ALL=C comm -23 <(printf '%s\n' "${got[@]}") <(printf '%s\n' "${want[@]}"))
	missing=$(LC_ALL=C comm -13 <(printf '%s\n' "${got[@]}") <(printf '%s\n' "${want[@]}"))
	[ -z "$extra" ] && [ -z "$missing" ] && ((${#got[@]} > 0))
	ok $? "rule 6: $SO exports exactly the hooks.def, RC_CURL and RC_TLS names (${#got[@]})" || {
		((${#got[@]} > 0)) || diag "nm -D --defined-only shows no symbol"
		[ -z "$extra" ] || diag "exported, not hooked: ${extra//$'\n'/ }"
		[ -z "$missing" ] || diag "hooked, not exported: ${missing//$'\n'/ }"
	}

	relocs=$(objdump -R "$SO" 2>&1) || { diag "$relocs"; relocs=""; }
	[ -n "$relocs" ] || diag "objdump -R $SO shows nothing"
	hits=()
	for s in $(awk 'NF == 3 && $1 ~ /^[0-9a-f]+$/ { v = $3; sub(/@.*/, "", v); sub(/\+0x.*/, "", v); print v }' <<<"$relocs" | LC_ALL=C sort -u); do
		[ -n "${IS_EXPORT[$s]+x}" ] && hits+=("$s")
	done
	[ -n "$relocs" ] && ((${#hits[@]} == 0))
	ok $? "rule 6: no relocation in $SO against a hooked name (its code never calls its own hooks)" || {
		INIH_A=
		for d in /usr/lib/$(gcc -print-multiarch 2>/dev/null) /usr/lib64 /usr/lib; do
			[ -f "$d/libinih.a" ] && { INIH_A=$d/libinih.a; break; }
		done
		for s in "${hits[@]}"; do
			by=()
			for o in ${OBJS[core]} ${OBJS[engine]} ${OBJS[hooks]} $INIH_A; do
				nm -u "$o" 2>/dev/null | awk 'NF { print $NF }' | grep -qx -- "$s" && by+=("$o")
			done
			diag "$s: relocation $(awk -v s="$s" '$3 ~ "^" s "(@|$)" { print $2 " " $3; exit }' <<<"$relocs"); referenced by: ${by[*]:-?}"
		done
	}
else
	ok 1 "rule 6: $SO exports exactly the hooked names" || diag "$SO missing: run make"
	ok 1 "rule 6: no relocation against a hooked name" || diag "$SO missing: run make"
fi

# ---- rule 7: libc only ----

bad=()
if [ -f "$SO" ]; then
	if out=$(ldd "$SO" 2>&1); then
		n=0
		while read -r lib _; do
			[ -n "$lib" ] || continue
			n=$((n + 1))
			case $lib in
			linux-vdso.so.* | linux-gate.so.* | libc.so.6 | */ld-linux*.so.* | ld-linux*.so.*) ;;
			*) bad+=("needs $lib") ;;
			esac
		done <<<"$out"
		grep -q '^[[:space:]]*libc\.so\.6 ' <<<"$out" || bad+=("ldd names no libc.so.6: $out")
	else
		bad+=("ldd failed: $out")
	fi
else
	bad+=("$SO missing: run make")
fi
((${#bad[@]} == 0))
ok $? "rule 7: ldd $SO names libc only (and the vdso and ld-linux)" || diag_list "" "${bad[@]}"

# ---- rule 8: sizes (warnings only) ----

warn=()
for f in "${SHIM_FILES[@]}"; do
	[[ $f == *.c ]] || continue
	n=$(wc -l <"$f")
	((n > MAX_FILE_LINES)) && warn+=("$f: $n lines (over $MAX_FILE_LINES)")
	while IFS= read -r w; do warn+=("$w"); done < <(nocomment "$f" | awk -v f="$f" -v max="$MAX_FUNC_LINES" '
	# A function: a "{" at depth 0 after a head with "(" and no "=".
	/^[ \t]*#/ { cont = /\\$/; next }
	cont { cont = /\\$/; next }
	{
		n = length($0)
		for (i = 1; i <= n; i++) {
			c = substr($0, i, 1)
			if (c == "{") {
				if (depth == 0) {
					fn = ""
					if (head ~ /\(/ && head !~ /=/) {
						h = head
						while (match(h, /[A-Za-z_][A-Za-z0-9_]*[ \t]*\(/)) {
							w = substr(h, RSTART, RLENGTH); sub(/[ \t]*\($/, "", w)
							if (w != "__attribute__") { fn = w; break }
							h = substr(h, RSTART + RLENGTH)
						}
					}
					start = NR
				}
				depth++
			} else if (c == "}") {
				if (depth > 0 && --depth == 0) {
					if (fn != "" && NR - start + 1 > max)
						printf "%s:%d: %s() is %d lines (over %d)\n", f, start, fn, NR - start + 1, max
					fn = ""; head = ""
				}
			} else if (depth == 0) {
				if (c == ";") head = ""
				else head = head c
			}
		}
		if (depth == 0) head = head " "
	}')
done
for w in "${warn[@]}"; do note "warning: $w"; done
((${#warn[@]} == 0)) ||
	diag "warning: ${#warn[@]} size warnings (files over $MAX_FILE_LINES lines, functions over $MAX_FUNC_LINES); prove -v tests/05-layers.t lists them"

done_testing
