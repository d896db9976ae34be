#!/bin/bash
# conf/: the example configs (HTTP API, Redis, PostgreSQL) are valid,
# commented, and work under the shim once pointed at a local port; the
# systemd drop-in is well formed (systemd-analyze verify when there is
# one), preloads the shim from where `make install` puts it, and says how
# to install it; the README lists the new commands.
source "$(dirname "$0")/lib.sh"
need_build

# ---- the examples ----
P=$(closed_port)
# example FILE FIRST-BREAKER THRESHOLD REJECT-ERRNO
example() {
	local f=$ROOT/conf/examples/$1 first=$2 thr=$3 rej=$4 out st names listed
	if [ ! -f "$f" ]; then
		ok 1 "conf/examples/$1 exists"
		return
	fi
	out=$("$RECLOSER" check "$f" 2>&1); st=$?
	is "$st" 0 "recloser check conf/examples/$1: valid" || diag "$out"
	names=$(sed -n 's/^\[\([^]]*\)\].*/\1/p' "$f" | grep -vx global)
	listed=$(sed -n '2,$s/^\([^:]*\):.*/\1/p' <<<"$out")
	is "$listed" "$names" "...check lists its breakers: $(echo $names)"
	cmp_ok "$(grep -c '^;' "$f")" '>=' 15 "...and it is commented ($(grep -c '^;' "$f") comment lines)"
	# Pointed at a closed local port, with the test's state file and log,
	# the first breaker counts python's failed connects and opens.
	sed -e "0,/^match = /s|^match = |match = 127.0.0.1:$P, |" \
	    -e "s|^log_file = .*|log_file = $LOG|" \
	    -e "s|^\[global\]|[global]\nstate_file = $STATE|" "$f" >"$CFG"
	rm -f "$STATE"
	out=$(pyc connect 127.0.0.1 "$P" -n "$thr")
	is "$(kv "$out" ECONNREFUSED)" "$thr" "...under the shim: $thr refused connects to the first breaker's service"
	is "$(state_of "$first")" open "...open [$first] (failure_threshold = $thr)"
	out=$(pyc connect 127.0.0.1 "$P" -n 1)
	is "$(kv "$out" "$rej")" 1 "...which then rejects with $rej"
}
example http-api.ini payments 5 ECONNREFUSED
example redis.ini redis-primary 3 ECONNREFUSED
example postgresql.ini pg-primary 3 ETIMEDOUT
example nginx-upstream.ini app 5 ECONNREFUSED
grep -q '^mode = observe' "$ROOT/conf/examples/http-api.ini" "$ROOT/conf/examples/redis.ini"
ok $? "the examples show observe mode too"
like "$(grep -h '^match' "$ROOT"/conf/examples/*.ini)" ':6379' "the Redis example matches Redis' port"
like "$(grep -h '^match' "$ROOT"/conf/examples/*.ini)" ':5432' "the PostgreSQL example matches PostgreSQL's port"

# ---- the systemd drop-in ----
D=$ROOT/conf/systemd/recloser-preload.conf
[ -f "$D" ]; ok $? "conf/systemd/recloser-preload.conf exists" || bail_out "no drop-in"
PREFIX=$(sed -n 's/^PREFIX *[?:]*= *\([^ ]*\).*/\1/p' "$ROOT/Makefile" | head -1)
PREFIX=${PREFIX:-/usr/local}
WANT_SHIM=$PREFIX/lib/recloser/librecloser.so
is "$(grep -v '^[#;]' "$D" | sed '/^[[:space:]]*$/d')" "[Service]
Environment=LD_PRELOAD=$WANT_SHIM
Environment=RECLOSER_CONFIG=/etc/recloser.ini" \
	"its only settings: [Service] with LD_PRELOAD=$WANT_SHIM (make install's PREFIX) and RECLOSER_CONFIG"
like "$(cat "$D")" 'systemctl edit [a-z]+\.service' "its comments say how to install it with systemctl edit"
like "$(cat "$D")" 'daemon-reload' "...and with a file and daemon-reload"
like "$(cat "$D")" 'RECLOSER_DISABLE=1' "...and how to turn it off"

if grep -q '^install:' "$ROOT/Makefile"; then
	# The Makefile's own idea of where the shim goes, without building.
	shimdir=$(cd "$ROOT" && make -s --no-print-directory -f Makefile \
		-f <(printf 'print-%%:\n\t@echo $($*)\n') print-SHIMDIR 2>/dev/null)
	is "$shimdir/librecloser.so" "$WANT_SHIM" "the Makefile installs the shim at the drop-in's LD_PRELOAD path"
	make -s -C "$ROOT" install DESTDIR="$T/root" >"$T/install.log" 2>&1; st=$?
	is "$st" 0 "make install DESTDIR=...: exit 0" || diag "$(cat "$T/install.log")"
	[ -f "$T/root$WANT_SHIM" ]; ok $? "make install puts the shim where the drop-in preloads it ($WANT_SHIM)"
	# What systemd would run, with the installed shim.
	start_server HTTP http
	write_config
	breaker svc "match=127.0.0.1:$HTTP"
	env LD_PRELOAD="$T/root$WANT_SHIM" RECLOSER_CONFIG="$CFG" "$CURL" -s -o /dev/null "http://127.0.0.1:$HTTP/"
	is "$(counts svc)" "1 0 0" "a program started with the drop-in's environment is counted by its breaker"
else
	skip "no install target in the Makefile yet" 4
fi

if command -v systemd-analyze >/dev/null; then
	U=$T/units
	mkdir -p "$U/demo.service.d"
	printf '[Unit]\nDescription=recloser drop-in test\n[Service]\nExecStart=/bin/true\n' >"$U/demo.service"
	cp "$D" "$U/demo.service.d/recloser.conf"
	out=$(cd "$U" && SYSTEMD_LOG_LEVEL=debug systemd-analyze verify ./demo.service 2>&1); st=$?
	is "$st" 0 "systemd-analyze verify of a unit with the drop-in: exit 0"
	unlike "$out" 'recloser\.conf:[0-9]+:' "...no complaint about any line of the drop-in" || diag "$out"
	like "$out" "DropIn Path: $U/demo.service.d/recloser.conf" "...which systemd loaded"
	like "$out" "Environment: LD_PRELOAD=$WANT_SHIM" "...setting LD_PRELOAD"
	like "$out" "Environment: RECLOSER_CONFIG=/etc/recloser.ini" "...and RECLOSER_CONFIG"
	# ...and it would complain about a broken one.
	printf '[Service]\nEnviroment=LD_PRELOAD=x\n' >"$U/demo.service.d/zz-typo.conf"
	out=$(cd "$U" && systemd-analyze verify ./demo.service 2>&1)
	like "$out" "zz-typo\.conf:2: Unknown key" "(systemd-analyze does report a bad line in a drop-in)"
else
	skip "systemd-analyze not installed" 6
fi

# ---- the README ----
R=$(cat "$ROOT/README.md")
like "$R" $'\n\\| `add NAME PATTERN\\.\\.\\. \\[KEY=VALUE\\.\\.\\.\\]` \\|' "README's CLI table has add"
like "$R" $'\n\\| `metrics \\[--textfile DIR\\]` \\|' "...metrics"
like "$R" $'\n\\| `status \\[NAME\\] --watch' "...status --watch"
like "$R" $'\n## Monitoring\n' "README has a Monitoring section"
like "$R" 'conf/alerts\.yml' "...naming conf/alerts.yml"
for u in add metrics --watch; do
	like "$("$RECLOSER" --help)" " $u " "recloser --help mentions $u"
done

done_testing
