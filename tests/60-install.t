#!/bin/bash
# make install into a DESTDIR with PREFIX=/usr: the files land where they
# should; the installed `recloser run` finds the installed shim from its own
# location and really protects curl; the installed man pages are found by
# man; make uninstall leaves exactly the tree that was there before.
source "$(dirname "$0")/lib.sh"
need_build
command -v make >/dev/null || skip_all "make not installed"

# The test's own make, not one inherited from `make test`.
mk() { env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$ROOT" "$@"; }
# snapshot DIR: every path under DIR with its type, sorted.
snapshot() { (cd "$1" && find . -printf '%y %p\n' | LC_ALL=C sort); }

D=$T/root
P=/usr
# A host that already has these directories and a file of another package.
mkdir -p "$D$P/bin" "$D$P/lib" "$D$P/share/man/man1" "$D$P/share/man/man5" "$D$P/share/doc"
echo other >"$D$P/bin/other-tool"
before=$(snapshot "$D")

mk install DESTDIR="$D" PREFIX="$P" >"$T/install.out" 2>&1
st=$?
is "$st" 0 "make install DESTDIR=... PREFIX=/usr exits 0" || diag "$(cat "$T/install.out")"

check_file() { # PATH MODE DESC
	local got
	got=$(stat -c %a "$D$1" 2>/dev/null || echo missing)
	is "$got" "$2" "$3 ($1, mode $2)"
}
check_file "$P/bin/recloser" 755 "the CLI"
check_file "$P/lib/recloser/librecloser.so" 644 "the shim"
check_file "$P/share/man/man1/recloser.1" 644 "recloser(1)"
check_file "$P/share/man/man5/recloser.ini.5" 644 "recloser.ini(5)"
check_file "$P/share/doc/recloser/recloser.ini.example" 644 "the reference config as an example"
ok "$(cmp -s "$ROOT/conf/recloser.ini" "$D$P/share/doc/recloser/recloser.ini.example"; echo $?)" \
	"...a copy of conf/recloser.ini"
ok "$(cmp -s "$ROOT/build/librecloser.so" "$D$P/lib/recloser/librecloser.so"; echo $?)" \
	"the installed shim is build/librecloser.so"
# Every other file under conf/ (examples, alert rules, ...) is installed too.
missing=0 nconf=0
while IFS= read -r f; do
	rel=${f#"$ROOT"/conf/}
	[ "$rel" = recloser.ini ] && continue
	nconf=$((nconf + 1))
	cmp -s "$f" "$D$P/share/doc/recloser/$rel" || { missing=$((missing + 1)); diag "not installed: conf/$rel"; }
done < <(find "$ROOT/conf" -type f ! -name '.*' ! -name '*~')
is "$missing" 0 "every other file under conf/ is in share/doc/recloser/ ($nconf files)"
is "$(cat "$D$P/bin/other-tool")" other "another package's file is untouched"

# The installed CLI, with no build tree in sight: it must find the shim in
# ../lib/recloser/ from its own location.
IR=$D$P/bin/recloser
unset RECLOSER_SHIM
P0=$(closed_port)
write_config connect_timeout=2s
breaker dead "match=127.0.0.1:$P0" failure_threshold=3 open_duration=60s

out=$("$IR" run -c "$CFG" -- /bin/sh -c 'echo "$LD_PRELOAD"')
is "$out" "$D$P/lib/recloser/librecloser.so" "installed recloser run preloads the installed shim"
out=$(cd / && PATH=$D$P/bin:$PATH recloser run -c "$CFG" -- /bin/sh -c 'echo "$LD_PRELOAD"')
is "$out" "$D$P/lib/recloser/librecloser.so" "...also when found through PATH"

codes=""
for i in 1 2 3 4; do
	timeout -k 5 30 "$IR" run -c "$CFG" -- "$CURL" -s -o /dev/null -m 10 \
		--connect-timeout 5 "http://127.0.0.1:$P0/" >/dev/null
	codes="$codes $?"
done
is "$codes" " 7 7 7 7" "curl under the installed run: cannot connect, 4 times"
json=$("$IR" -c "$CFG" status --json)
st=$("$PY" -c '
import json, sys
d = {b["name"]: b for b in json.loads(sys.argv[1])}["dead"]
print(d["state"], d["calls"], d["failures"], d["rejected"])' "$json" 2>&1)
is "$st" "open 3 3 1" "installed status --json: dead opened after 3 failed calls, the 4th rejected" || show_log
like "$(grep 'event=transition' "$LOG" 2>/dev/null)" 'prog=curl .*breaker=dead from=closed to=open' \
	"the installed shim in curl logged the transition" || show_log
"$IR" run -c "$T/nonexistent.ini" -- /bin/true 2>/dev/null
is "$?" 2 "installed run with a missing config: exit 2"

# man finds the installed pages.
if command -v man >/dev/null; then
	out=$(MANWIDTH=80 man -M "$D$P/share/man" 1 recloser 2>&1 | head -n 20 | tr -s " ")
	like "$out" 'recloser - circuit breakers' "man -M PREFIX/share/man 1 recloser shows the installed page"
	out=$(MANWIDTH=80 man -M "$D$P/share/man" 5 recloser.ini 2>&1 | head -n 20 | tr -s " ")
	like "$out" 'recloser.ini - configuration' "man -M PREFIX/share/man 5 recloser.ini shows the installed page"
else
	skip "man not installed" 2
fi

# Installing twice is harmless.
mk install DESTDIR="$D" PREFIX="$P" >"$T/install2.out" 2>&1
is "$?" 0 "make install a second time exits 0"

mk uninstall DESTDIR="$D" PREFIX="$P" >"$T/uninstall.out" 2>&1
st=$?
is "$st" 0 "make uninstall exits 0" || diag "$(cat "$T/uninstall.out")"
after=$(snapshot "$D")
is "$after" "$before" "after uninstall the tree is exactly what it was before install" ||
	diag "$(diff <(echo "$before") <(echo "$after"))"
mk uninstall DESTDIR="$D" PREFIX="$P" >"$T/uninstall2.out" 2>&1
is "$?" 0 "make uninstall again (nothing installed) exits 0"

# Into an empty DESTDIR with the default PREFIX: no file is left behind, and
# no recloser directory; a file of the user's in share/doc/recloser survives.
E=$T/empty
mk install DESTDIR="$E" >"$T/install3.out" 2>&1
is "$?" 0 "make install DESTDIR=... (default PREFIX) exits 0"
ok "$([ -x "$E/usr/local/bin/recloser" ] && [ -f "$E/usr/local/lib/recloser/librecloser.so" ]; echo $?)" \
	"the default PREFIX is /usr/local"
mk uninstall DESTDIR="$E" >"$T/uninstall3.out" 2>&1
is "$?" 0 "make uninstall DESTDIR=... exits 0"
is "$(find "$E" ! -type d | wc -l | tr -d ' ')" 0 "no file left under DESTDIR" ||
	diag "$(find "$E" ! -type d)"
is "$(find "$E" -name '*recloser*' | wc -l | tr -d ' ')" 0 "no recloser directory left" ||
	diag "$(find "$E" -name '*recloser*')"
mk install DESTDIR="$E" >/dev/null 2>&1
echo mine >"$E/usr/local/share/doc/recloser/my-notes.txt"
mk uninstall DESTDIR="$E" >/dev/null 2>&1
is "$(find "$E" ! -type d)" "$E/usr/local/share/doc/recloser/my-notes.txt" \
	"uninstall removes only its own files: a file of the user's stays, with its directory"

done_testing
