#!/bin/bash
# replay_sink.sh - mxspool-replay (CLI and serve) against Postfix smtp-sink as the primary.
#
# Messages enter the index through the real commit path (storetool commit, file store).
# Covers: no index -> 66 and none created; list/--json/filters/qshape; drain --dry-run
# sends nothing; drain --domain/--limit; hold/release; 4xx -> deferred (75) then requeue;
# 5xx -> quarantine (65), quarantine release -> delivered; a stalled DATA -> timeout;
# serve paused/resumed through the control table; retention and forget_after (purged
# history dropped); kill -9 of serve mid-run then drain:
# every message delivered, duplicates only for those in flight; two serve processes on
# one index: each message exactly once; export bytes; delete needs --yes off a terminal.
. "$(dirname "$0")/../lib/common.sh"
ST=$BUILD/tests/tools/storetool
[ -x "$ST" ] && [ -x "$REPLAY" ] || fail "build first (make O=... all)"
command -v smtp-sink >/dev/null || fail "no smtp-sink"
chmod 711 "$T"

PORT=$(free_port)
conf() {	# conf FILE [COMMAND_TIMEOUT] [EXTRA_REPLAY_LINE...]
	f=$1; to=${2:-30s}; shift; shift
	mx_conf "$f" <<EOF
[replay]
rate = 200
ramp = 1s
concurrency = 4
min_backoff = 1s
max_backoff = 2s
poll_interval = 1s
probe_interval = 1s
retention = 0s
$(printf '%s\n' "$@")
[deliver]
connect_timeout = 5s
command_timeout = $to
data_timeout = 30s
[routes]
* = smtp://127.0.0.1:$PORT
EOF
}
conf "$T/mx.conf"
R() { "$REPLAY" -c "$T/mx.conf" "$@" 2>>"$T/replay.log"; }

SINKPID=
sink() {	# sink NAME [smtp-sink options] - (re)start the primary on $PORT, dumps in $T/NAME
	name=$1; shift
	[ -n "$SINKPID" ] && kill "$SINKPID" 2>/dev/null && wait "$SINKPID" 2>/dev/null
	mkdir -m 777 -p "$T/$name"
	smtp-sink -u nobody -d "$T/$name/m." "$@" 127.0.0.1:"$PORT" 50 2>>"$T/sink.log" &
	SINKPID=$!
	wait_port "$PORT" 10 || fail "smtp-sink did not start ($name)"
}
cleanup_add '[ -n "$SINKPID" ] && kill $SINKPID'
dumps() { ls "$T/$1" 2>/dev/null | wc -l; }

N=0
commit() {	# commit RCPT... - one message with a unique subject; prints its id
	N=$((N + 1))
	printf 'From: s@x.test\r\nSubject: msg-%d\r\nMessage-ID: <%d@x.test>\r\n\r\nbody %d\r\n' \
		"$N" "$N" "$N" > "$T/m$N.eml"
	args=(); for r in "$@"; do args+=(--rcpt "$r"); done
	"$ST" -c "$T/mx.conf" commit "$T/m$N.eml" --from s@x.test "${args[@]}" 2>>"$T/st.log" ||
		fail "storetool commit"
}
state() { R show --json "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["state"])'; }

# 1. no index: exit 66 and no index file created
R list > /dev/null; rc=$?
[ "$rc" = 66 ] || fail "list without an index: exit $rc, want 66"
[ ! -e "$T/data/index.sqlite" ] || fail "the CLI created an index"
R bogus > /dev/null; [ $? = 64 ] || fail "unknown command: want 64"
ok "no index -> 66 (none created); unknown command -> 64"

# 2. three messages, listings and filters
a=$(commit u1@one.test v1@two.test); b=$(commit u2@one.test); c=$(commit v3@two.test)
[ "$(R list | grep -c '^01')" = 3 ] || fail "list: $(R list)"
[ "$(R list --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" = 3 ] ||
	fail "list --json"
[ "$(R list --domain two.test | grep -c '^01')" = 2 ] || fail "list --domain"
[ "$(R list --rcpt u2@one.test | grep -c '^01')" = 1 ] || fail "list --rcpt"
[ "$(R list --older-than 1h | grep -c '^01')" = 0 ] || fail "list --older-than"
[ "$(R list --since 1h | grep -c '^01')" = 3 ] || fail "list --since"
R qshape | grep -Eq '^ +TOTAL +4 +4 ' || fail "qshape TOTAL: $(R qshape)"
R qshape | grep -Eq '^ +(one|two)\.test +2 ' || fail "qshape domains"
R show nonexistent > /dev/null; [ $? = 64 ] || fail "show of a bad id: want 64"
R show 01JDAB3K8QW2E5R7T9Y1V3X5Z7.mx1 > /dev/null; [ $? = 66 ] || fail "show unknown: want 66"
ok "list, --json, --domain/--rcpt/--since/--older-than, qshape, show errors"

# 3. dry run sends nothing
sink s1
R drain --dry-run > "$T/dry" || fail "dry run exit"
grep -q "3 messages would be sent" "$T/dry" || fail "dry run: $(cat "$T/dry")"
sleep 1; [ "$(dumps s1)" = 0 ] || fail "dry run sent mail"
[ "$(R list --state queued | grep -c '^01')" = 3 ] || fail "dry run changed states"
ok "drain --dry-run lists 3, sends nothing"

# 4. filters: --domain, --limit; hold/release
R hold "$c" > /dev/null || fail "hold"
[ "$(state "$c")" = hold ] || fail "hold state"
R drain --domain one.test --limit 1 > "$T/d1" || fail "drain --limit: $(cat "$T/d1")"
wait_for "[ \$(ls $T/s1 | wc -l) = 1 ]" 10 || fail "drain --limit 1: $(dumps s1) dumps"
R drain --domain one.test > /dev/null || fail "drain --domain"
[ "$(dumps s1)" = 2 ] || fail "drain --domain: $(dumps s1) dumps, want 2"
grep -L 'two.test' "$T"/s1/m.* | wc -l | grep -qx 2 || fail "--domain sent two.test mail"
R drain > /dev/null || fail "drain"
[ "$(dumps s1)" = 3 ] || fail "held message sent? $(dumps s1) dumps"
[ "$(state "$a")" = delivered ] && [ "$(state "$b")" = delivered ] || fail "a/b not delivered"
R release "$c" > /dev/null || fail "release"
R drain > /dev/null || fail "drain after release"
[ "$(dumps s1)" = 4 ] && [ "$(state "$c")" = delivered ] || fail "released message not sent"
ok "drain --domain/--limit, hold keeps a message back, release lets it go"

# 5. export and delete
R export "$a" > "$T/exp" || fail "export"
cmp -s "$T/exp" "$T/m1.eml" || fail "export bytes differ"
R delete "$b" < /dev/null > /dev/null; [ $? = 64 ] || fail "delete without --yes off a tty"
[ "$(state "$b")" = delivered ] || fail "refused delete changed the state"
R delete --yes "$b" > /dev/null || fail "delete --yes"
[ "$(state "$b")" = deleted ] || fail "delete state"
R export "$b" > /dev/null; [ $? = 66 ] || fail "export of a deleted message: want 66"
ok "export bytes identical; delete refuses off a terminal, --yes deletes the object"

# 6. 4xx -> deferred (exit 75, attempt recorded), then requeue and deliver
d=$(commit u6@one.test)
sink s2 -r RCPT
R drain > /dev/null; rc=$?
[ "$rc" = 75 ] || fail "drain with 4xx: exit $rc, want 75"
[ "$(state "$d")" = queued ] || fail "4xx: state $(state "$d")"
R show "$d" | grep -Eq ' 45[0-9] ' || fail "4xx attempt not recorded: $(R show "$d")"
sink s3
R requeue "$d" > /dev/null || fail "requeue"
R drain > /dev/null || fail "drain after 4xx"
[ "$(state "$d")" = delivered ] && [ "$(dumps s3)" = 1 ] || fail "not delivered after 4xx"
ok "4xx -> deferred with the attempt recorded (exit 75); requeue + drain delivers"

# 7. 5xx -> quarantine (65), quarantine release -> delivered
e=$(commit u7@one.test); e2=$(commit u7b@one.test)
sink s4 -f RCPT
R drain > /dev/null; rc=$?
[ "$rc" = 65 ] || fail "drain with 5xx: exit $rc, want 65"
[ "$(state "$e")" = quarantine ] || fail "5xx: state $(state "$e")"
R quarantine list | grep -q "^$e" || fail "quarantine list"
R quarantine delete --yes "$e2" > /dev/null || fail "quarantine delete"
[ "$(state "$e2")" = deleted ] || fail "quarantine delete: state $(state "$e2")"
R drain > /dev/null; [ "$(state "$e")" = quarantine ] || fail "quarantine re-sent by drain"
sink s5
R quarantine release "$e" > /dev/null || fail "quarantine release"
R drain > /dev/null || fail "drain after release"
[ "$(state "$e")" = delivered ] && [ "$(dumps s5)" = 1 ] || fail "not delivered after release"
ok "5xx -> quarantine (exit 65, never re-sent); release -> delivered; delete"

# 8. a stalled primary: DATA never answered in time -> timeout, deferred
conf "$T/stall.conf" 2s
f=$(commit u8@one.test)
sink s6 -w 30
"$REPLAY" -c "$T/stall.conf" drain > /dev/null 2>>"$T/replay.log"; rc=$?
[ "$rc" = 75 ] || fail "stall: exit $rc, want 75"
[ "$(state "$f")" = queued ] || fail "stall: state $(state "$f")"
R show --json "$f" | python3 -c '
import json,sys; a=json.load(sys.stdin)["attempts"]; sys.exit(0 if a and a[-1]["code"]==0 else 1)' ||
	fail "stall: attempt without code 0"
sink s7
R drain > /dev/null || fail "drain after stall"
ok "stalled DATA -> timeout, no reply recorded, deferred (75); delivered afterwards"

# 8b. [route_rates]: a bad cap is a configuration error (78); a valid one delivers
conf "$T/rr-bad.conf" 30s "[route_rates]" "one.test = fast"
"$REPLAY" -c "$T/rr-bad.conf" drain > /dev/null 2>>"$T/replay.log"; rc=$?
[ "$rc" = 78 ] || fail "bad [route_rates]: exit $rc, want 78"
conf "$T/rr.conf" 30s "[route_rates]" "one.test = 20"
g=$(commit u9@one.test)
"$REPLAY" -c "$T/rr.conf" drain > /dev/null 2>>"$T/replay.log" || fail "drain with [route_rates]"
[ "$(state "$g")" = delivered ] || fail "[route_rates]: not delivered"
ok "[route_rates]: bad value -> 78; a capped route delivers"

# 9. serve: paused through the control table, then resumed
for i in 1 2 3 4 5; do commit p$i@one.test > /dev/null; done
R pause > /dev/null || fail "pause"
"$REPLAY" -c "$T/mx.conf" serve 2>>"$T/serve.log" & SERVE=$!
cleanup_add "kill -9 $SERVE"
wait_for "R status --json | grep -q '\"primary_health\": \"up\"'" 20 || fail "serve: no health"
wait_for "R status --json | grep -q '\"target_rate\": \"0.000\"'" 20 || fail "serve: not paused"
[ "$(dumps s7)" = 2 ] || fail "paused serve delivered: $(dumps s7)"
R resume > /dev/null || fail "resume"
wait_for "[ \$(ls $T/s7 | wc -l) = 7 ]" 30 || fail "resumed serve: $(dumps s7) dumps, want 7"
kill "$SERVE"; wait "$SERVE"; rc=$?
[ "$rc" = 0 ] || fail "serve exit $rc after SIGTERM"
ok "serve: paused -> nothing sent; resume -> all 5 delivered; SIGTERM -> exit 0"
R show --json "$a" > /dev/null || fail "purged message lost its index row"
R export "$a" > /dev/null 2>&1; [ $? = 66 ] || fail "retention 0s: object of $a not purged"
R status --json | grep -q '"primary_health": "up"' || fail "primary_health"
[ "$(sqlite3 "$T/data/index.sqlite" 'SELECT count(*) FROM backlog_samples')" -ge 1 ] ||
	fail "no backlog sample"
ok "retention: delivered objects purged by serve (row kept); backlog sample written"

# 9b. start_paused + autostart_probes: starts paused, resumes after 2 healthy probes
conf "$T/auto.conf" 30s "start_paused = yes" "autostart_probes = 2"
for i in 1 2; do commit auto$i@one.test > /dev/null; done
"$REPLAY" -c "$T/auto.conf" serve 2>"$T/auto.log" & SERVE=$!
cleanup_add "kill -9 $SERVE"
wait_for "[ \$(ls $T/s7 | wc -l) = 9 ]" 30 || fail "autostart: $(dumps s7) dumps, want 9"
kill "$SERVE"; wait "$SERVE"
grep -q 'replay paused' "$T/auto.log" && grep -q 'replay autostart' "$T/auto.log" ||
	fail "autostart: $(cat "$T/auto.log")"
ok "start_paused = yes: paused at start, resumed after 2 healthy probes"

# 9c. forget_after: the history of messages purged long enough ago goes (rows, recipients,
# attempts); the first housekeeping of serve does it, before its own purge
sleep 2
conf "$T/forget.conf" 30s "forget_after = 1s"
Q() { sqlite3 "$T/data/index.sqlite" "$1"; }
[ "$(Q "SELECT count(*) FROM messages WHERE id = '$a' AND purged_ms IS NOT NULL")" = 1 ] ||
	fail "forget_after: $a not purged before the test"
keep=$(Q "SELECT count(*) FROM messages WHERE purged_ms IS NULL")
gone=$(Q "SELECT count(*) FROM messages WHERE purged_ms IS NOT NULL")
"$REPLAY" -c "$T/forget.conf" serve 2>"$T/forget.log" & SERVE=$!
cleanup_add "kill -9 $SERVE"
wait_for "grep -q 'replay forgot messages=$gone ' $T/forget.log" 20 ||
	fail "forget_after: no 'forgot messages=$gone': $(grep forg "$T/forget.log")"
kill "$SERVE"; wait "$SERVE"
[ "$(Q "SELECT count(*) FROM messages")" = "$keep" ] &&
	[ "$(Q "SELECT count(*) FROM recipients WHERE message_id = '$a'")" = 0 ] &&
	[ "$(Q "SELECT count(*) FROM attempts WHERE message_id = '$a'")" = 0 ] ||
	fail "forget_after: rows left: $(Q "SELECT count(*) FROM messages"), want $keep"
R show "$a" > /dev/null 2>&1 && fail "forget_after: $a still shown"
ok "forget_after = 1s: $gone purged messages forgotten (rows, recipients, attempts), $keep kept"

# subjects_ok DIR FROM TO MAXDUP - every msg-FROM..TO at least once, at most MAXDUP extra
subjects_ok() {
	python3 - "$@" <<'PY'
import sys, glob, re, collections
d, lo, hi, maxdup = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
c = collections.Counter()
for f in glob.glob(d + "/m.*"):
    m = re.search(rb"^Subject: msg-(\d+)$", open(f, "rb").read(), re.M)
    if m: c[int(m.group(1))] += 1
missing = [i for i in range(lo, hi + 1) if c[i] == 0]
extra = sum(v - 1 for v in c.values() if v > 1)
print("missing=%s extra=%d" % (missing, extra))
sys.exit(0 if not missing and extra <= maxdup else 1)
PY
}

# 10. kill -9 of serve mid-run, then a drain: all delivered, duplicates <= in flight (4)
first=$((N + 1))
for i in $(seq 1 16); do commit k$i@one.test > /dev/null; done
sink s8 -w 1
"$REPLAY" -c "$T/mx.conf" serve 2>>"$T/serve.log" & SERVE=$!
wait_for "[ \$(ls $T/s8 | wc -l) -ge 3 ]" 60 || fail "serve did not start delivering"
kill -9 "$SERVE"; wait "$SERVE" 2>/dev/null
[ "$(R list --state active | grep -c '^01')" -ge 1 ] || echo "  (no message was in flight)"
sink s9
R drain > /dev/null || fail "drain after kill -9"
cat "$T"/s9/m.* > /dev/null 2>&1; cp "$T"/s9/m.* "$T/s8/" 2>/dev/null
subjects_ok "$T/s8" "$first" "$N" 4 > "$T/dup" || fail "after kill -9: $(cat "$T/dup")"
[ "$(R list --state delivered | grep -c '^01')" -ge 16 ] || fail "not all delivered"
ok "kill -9 mid-run + drain: every message delivered, $(cat "$T/dup")"

# 10b. Ctrl-C of a drain: in-flight finish, leases given back (exit 75); a re-run (on a
# terminal: progress bar) resumes and nothing is sent twice
first=$((N + 1))
for i in $(seq 1 10); do commit c$i@one.test > /dev/null; done
sink s11 -w 1
"$REPLAY" -c "$T/mx.conf" drain --concurrency 2 > "$T/int.out" 2>>"$T/replay.log" & DP=$!
wait_for "[ \$(ls $T/s11 | wc -l) -ge 2 ]" 30 || fail "drain did not start"
kill -INT "$DP"; wait "$DP"; rc=$?
[ "$rc" = 75 ] || fail "interrupted drain: exit $rc, want 75"
grep -q 'interrupted' "$T/int.out" || fail "no interrupted note: $(cat "$T/int.out")"
[ "$(R list --state active | grep -c '^01')" = 0 ] || fail "leases left after Ctrl-C"
left=$(R list --state queued | grep -c '^01')
[ "$left" -ge 1 ] || fail "Ctrl-C did not stop the drain"
script -qec "$REPLAY -c $T/mx.conf drain" /dev/null > "$T/tty.out" 2>&1 ||
	fail "re-run drain: $(tail -3 "$T/tty.out")"
grep -q 'msg/s ETA' "$T/tty.out" || fail "no progress bar on a terminal"
subjects_ok "$T/s11" "$first" "$N" 0 > "$T/dup3" || fail "after Ctrl-C + re-run: $(cat "$T/dup3")"
ok "Ctrl-C: exit 75, no lease left, $left left queued; re-run (progress bar) resumes, no duplicate"

# 11. two serve processes on one index: exactly once each
first=$((N + 1))
for i in $(seq 1 30); do commit t$i@one.test > /dev/null; done
sink s10
"$REPLAY" -c "$T/mx.conf" serve 2>>"$T/serve.log" & S1=$!
"$REPLAY" -c "$T/mx.conf" serve 2>>"$T/serve.log" & S2=$!
cleanup_add "kill -9 $S1 $S2"
wait_for "[ \$(R list --state queued | grep -c '^01') = 0 ] && [ \$(R list --state active | grep -c '^01') = 0 ]" 60 ||
	fail "two workers did not finish"
kill "$S1" "$S2"; wait "$S1" "$S2"
subjects_ok "$T/s10" "$first" "$N" 0 > "$T/dup2" || fail "two workers: $(cat "$T/dup2")"
[ "$(dumps s10)" = 30 ] || fail "two workers: $(dumps s10) dumps, want 30"
grep -q "/w" "$T/serve.log" || true
ok "two serve workers on one index: 30 messages, each delivered exactly once"
exit 0
