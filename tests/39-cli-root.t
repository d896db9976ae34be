#!/bin/bash
# The CLI on configs that would hurt the programs or mislead the operator:
#  1. reject_errno = EINTR (or EAGAIN, or one that looks like a pending or
#     finished connect) is refused by `recloser check` and `run` with
#     FILE:LINE: and why, and the shim stays inert on such a config rather
#     than turning a retry loop into a spin of rejections.
#  2. root running the CLI on a config owned by another user acts as that
#     user: "<uid>" is the owner's, the state file shown is the one the
#     user's programs use (status says so), a flip reaches them and is
#     logged to their log, and no file of root's is left in their way.
#     `run` keeps root's identity; a config of root's is unchanged.
source "$(dirname "$0")/lib.sh"
need_build

P=$(closed_port)

# ---- 1. reject_errno that callers retry at once ----
for v in EINTR EAGAIN EWOULDBLOCK EINPROGRESS EALREADY EISCONN 4; do
	write_config
	breaker dead "match=127.0.0.1:$P" failure_threshold=1 open_duration=60s "reject_errno=$v"
	line=$(grep -n '^reject_errno' "$CFG" | cut -d: -f1)
	out=$(rc check 2>&1)
	st=$?
	is "$st" 1 "check: reject_errno = $v is refused (exit 1)"
	like "$out" "^$CFG:$line: bad value '$v' for reject_errno: E[A-Z]+ makes " \
		"...as FILE:LINE: with why ($(head -c 120 <<<"$out")...)"
done
like "$out" 'EINTR makes callers retry at once' "...4 is EINTR, by number too"
write_config reject_errno=EAGAIN
breaker dead "match=127.0.0.1:$P"
out=$(rc check 2>&1)
like "$out" "^$CFG:5: bad value 'EAGAIN' for reject_errno: EAGAIN makes callers retry at once .*use a connect failure such as ECONNREFUSED" \
	"in [global] too, with advice"
out=$(rc run -- true 2>&1)
is "$?" 2 "run refuses it (exit 2) and runs nothing"
write_config
breaker dead "match=127.0.0.1:$P" failure_threshold=1 open_duration=60s reject_errno=ECONNABORTED
out=$(rc check 2>&1)
is "$?" 0 "check: reject_errno = ECONNABORTED is fine"

# Python does not give up on a connect that fails with EINTR (PEP 475): it
# waits for the socket and takes SO_ERROR 0 for a connection, so a
# rejection with EINTR looked like a successful connect.  The config is
# now refused: the shim stays inert and the kernel answers.
write_config
breaker dead "match=127.0.0.1:$P" failure_threshold=1 open_duration=60s reject_errno=EINTR
rm -f "$LOG"
out=$(RUN_TIMEOUT=10 pyc connect 127.0.0.1 "$P" -n 3)
st=$?
is "$st" 0 "a Python client on a config with reject_errno = EINTR finishes" || diag "$out"
is "$(kv "$out" ECONNREFUSED)" 3 "...its connects reach the kernel (the shim is inert): 3 ECONNREFUSED, no rejection taken for success ($out)"
like "$(grep -m1 'event=config_error' "$LOG" 2>/dev/null)" "msg=.*reject_errno" \
	"...and the shim logged the config_error" || show_log

# ---- 2. root on another user's config ----
if [ "$(id -u)" != 0 ]; then
	skip "not root" 27
	done_testing
fi
USR=nobody
UID_=$(id -u "$USR" 2>/dev/null) || { skip "no user $USR" 27; done_testing; }
GID_=$(id -g "$USR")
UD=$T/user
mkdir -m 0755 "$UD"
chown "$UID_:$GID_" "$UD"
chmod 0711 "$T"     # the user can reach $UD, not read $T
UCFG=$UD/recloser.ini
# as_user CMD...: CMD as $USR, bounded
as_user() {
	timeout -k 5 30 setpriv --reuid="$UID_" --regid="$GID_" --init-groups \
		--reset-env -- env PATH=/usr/bin:/bin "$@"
}
as_user sh -c "cat >'$UCFG'" <<EOF
[global]
state_file = $UD/state-<uid>
log_file = $UD/log-<uid>.log
log_level = info

[dead]
match = 127.0.0.1:$P
failure_threshold = 1
open_duration = 60s

[svc]
match = 127.0.0.1:1
EOF
is "$(stat -c %u "$UCFG")" "$UID_" "the config is owned by $USR ($UID_)"

# The user's own program opens dead (one refused connect), and the user
# force-opens svc with the CLI.
out=$(as_user env LD_PRELOAD="$SHIM" RECLOSER_CONFIG="$UCFG" "$PY" "$PYCLIENT" connect 127.0.0.1 "$P" -n 2)
is "$(kv "$out" ECONNREFUSED)" 2 "$USR's program: 2 connects refused (1 by the kernel, 1 by the open breaker)"
as_user "$RECLOSER" -c "$UCFG" force-open svc >/dev/null
ustate() { as_user "$RECLOSER" -c "$UCFG" status --json | "$PY" -c '
import json, sys
print(" ".join("%s=%s" % (b["name"], b["state"]) for b in json.load(sys.stdin)))'; }
is "$(ustate)" "dead=open svc=forced_open" "$USR sees dead open, svc forced_open"
ok "$([ -f "$UD/state-$UID_" ]; echo $?)" "...in its state file state-$UID_"

# root, same config
json=$("$RECLOSER" -c "$UCFG" status --json 2>"$T/root.err")
is "$?" 0 "root: status on $USR's config works"
got=$("$PY" -c '
import json, sys
print(" ".join("%s=%s" % (b["name"], b["state"]) for b in json.loads(sys.argv[1])))' "$json" 2>&1)
is "$got" "dead=open svc=forced_open" "root: status shows $USR's breakers: dead open, svc forced_open"
like "$(cat "$T/root.err")" "state file $UD/state-$UID_" "root: status says which state file it shows ($(cat "$T/root.err"))"
like "$(cat "$T/root.err")" "owned by uid $UID_" "...and why (the config's owner)"
table=$("$RECLOSER" -c "$UCFG" status 2>&1)
like "$table" "dead +open " "root: the table shows dead open too"
ok "$([ ! -e "$UD/state-0" ]; echo $?)" "root made no state-0 (the plain expansion) beside it"

# root flips a breaker of the user's: the user's programs see it, the
# transition goes to the user's log, no file of root's appears.
out=$("$RECLOSER" -c "$UCFG" close dead 2>&1)
is "$?" 0 "root: close dead on $USR's config ($out)"
is "$(ustate)" "dead=closed svc=forced_open" "$USR now sees dead closed"
like "$(grep 'breaker=dead' "$UD/log-$UID_.log" 2>/dev/null | grep 'reason=cli' | tail -n 1)" \
	'from=open to=closed reason=cli' "the transition is in $USR's log"
is "$(stat -c %u "$UD/log-$UID_.log" 2>/dev/null)" "$UID_" "...which is still $USR's"
is "$(find "$UD" -user 0 | wc -l | tr -d ' ')" 0 "no file of root's in $USR's directory"
out=$("$RECLOSER" -c "$UCFG" metrics 2>&1)
is "$(grep -c '^recloser_breaker_state{breaker="svc"' <<<"$out")" 5 "root: metrics on $USR's config works" ||
	diag "$(head -c 300 <<<"$out")"
is "$(grep '^recloser_breaker_state{breaker="svc",state="forced_open"}' <<<"$out" | awk '{print $2}')" 1 \
	"...and shows svc forced_open" || diag "$(grep 'breaker="svc"' <<<"$out" | head -n 5)"

# metrics --textfile: the file goes where root asked, written as root.
mkdir -m 0755 "$T/prom"
out=$("$RECLOSER" -c "$UCFG" metrics --textfile "$T/prom" 2>&1)
is "$?" 0 "root: metrics --textfile into root's directory works ($out)"
is "$(stat -c %u "$T/prom/recloser.prom" 2>/dev/null)" 0 "...the file is root's"

# run keeps root: the command is root's, and so is its <uid>.
out=$("$RECLOSER" -c "$UCFG" run -- id -u 2>&1)
is "$out" 0 "root: run on $USR's config runs the command as root"

# check is unchanged
out=$("$RECLOSER" check "$UCFG" 2>&1)
is "$?" 0 "root: check on $USR's config"

# A config of root's: nothing changes (root's own state file, no note).
cp "$UCFG" "$T/rootcfg.ini"
sed -i "s|$UD/|$T/r-|" "$T/rootcfg.ini"
out=$("$RECLOSER" -c "$T/rootcfg.ini" status --json 2>"$T/root2.err")
is "$?" 0 "root on its own config: status works"
is "$(cat "$T/root2.err")" "" "...with no note"
ok "$([ -f "$T/r-state-0" ]; echo $?)" "...on its own state file (state-0)"

# The user's state file, not the config, decides nothing: a state file of
# root's at the user's path is refused, not used, and not changed.
as_user rm -f "$UD/state-$UID_"
: >"$UD/state-$UID_"
chmod 0666 "$UD/state-$UID_"   # openable by the user: the owner check speaks
out=$("$RECLOSER" -c "$UCFG" status 2>&1)
is "$?" 1 "root: a state file of root's at $USR's path is refused (exit 1)"
like "$out" "owned by uid 0, not $UID_" "...saying whose it is ($out)"
is "$(stat -c %s "$UD/state-$UID_")" 0 "...and left alone"
rm -f "$UD/state-$UID_"

done_testing
