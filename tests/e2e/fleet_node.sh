#!/bin/bash
# fleet_node.sh - the node side of the fleet (docs/storage.md "The fleet") with the real
# programs on a file store: heartbeats, the ledger, claims honoured.  The claim and its
# manifest are written by hand, as another node's `adopt` would write them (objstore-cli
# create: the conditional create).
#
#   1. the ingest writes hb/mx1/ingest.json (backlog from its index) once it accepts,
#      and exiting = true when it stops (SIGTERM)
#   2. a claim on mx1 without its manifest: drain delivers nothing, exits 75 and says why;
#      its heartbeat says blocked
#   3. the manifest names 2 of the 3 messages: the next drain marks them adopted, delivers
#      only the third, acknowledges epoch 1 (heartbeat), writes its recipients to the
#      ledger before it exits, and its last heartbeat says exiting
#   3b. an adopter (mx9) lost after its claim, before its manifest: adopt on mx2 is refused,
#      then --force takes over with the next claim; mx1 honours that one, not blocked
#   4. [fleet] enabled = no: a drain writes nothing under _fleet/
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/ingest.sh"
ST=$BUILD/tests/tools/storetool
CLI=$BUILD/tests/tools/objstore-cli
[ -x "$ST" ] && [ -x "$CLI" ] && [ -x "$REPLAY" ] && [ -x "$INGEST" ] ||
	fail "build first (make O=... all)"
command -v smtp-sink >/dev/null || fail "no smtp-sink (postfix)"

SINK=$(free_port)
PORT=$(free_port)
mkdir -p "$T/run"
chmod 711 "$T"
mkdir -m 777 "$T/sink"
echo alice@example.test > "$T/run/rcpts"
ingest_conf "$T/mx.conf" "127.0.0.1:$PORT" "" "[routes]
* = smtp://127.0.0.1:$SINK
[replay]
concurrency = 1
probe_interval = 0"
F=$T/run/store/mail/_fleet
R() { "$REPLAY" -c "$T/mx.conf" "$@" 2>>"$T/replay.log"; }
# hb ROLE KEY - a field of mx1's heartbeat of ROLE
hb() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' \
	"$F/hb/mx1/$1.json" "$2"; }
state() { R show --json "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["state"])'; }
smtp-sink -u nobody -d "$T/sink/m." "127.0.0.1:$SINK" 10 2>>"$T/sink.log" &
cleanup_add "kill $!"
wait_port "$SINK" 10 || fail "smtp-sink did not start"
got() { find "$T/sink" -type f | wc -l; }

# 1. the ingest's heartbeat
ingest_start "$T/mx.conf" "$PORT"
for i in 1 2 3; do
	printf 'From: s@x.test\r\nSubject: m%d\r\n\r\nbody\r\n' "$i" > "$T/m$i.eml"
	"$ST" -c "$T/mx.conf" commit "$T/m$i.eml" --from s@x.test --rcpt alice@example.test \
		> "$T/id$i" 2>>"$T/st.log" || fail "storetool commit"
done
wait_for "[ -f '$F/hb/mx1/ingest.json' ]" 15 || fail "no ingest heartbeat under $F/hb/mx1"
[ "$(hb ingest exiting)" = False ] && [ "$(hb ingest replay)" = none ] ||
	fail "ingest heartbeat: $(cat "$F/hb/mx1/ingest.json")"
kill -TERM "$INGEST_PID"
wait_for "! kill -0 $INGEST_PID" 30 || fail "ingest did not stop"
[ "$(hb ingest exiting)" = True ] || fail "ingest's last heartbeat: $(cat "$F/hb/mx1/ingest.json")"
[ "$(hb ingest backlog)" = 3 ] || fail "ingest heartbeat backlog $(hb ingest backlog), want 3"
ok "ingest: heartbeat while it runs, exiting = true (backlog 3) after SIGTERM"

# 2. a claim without manifest blocks the replay
printf '{"adopter":"mx2","at_ms":1,"epoch":1,"node":"mx1"}' > "$T/claim"
"$CLI" -c "$T/mx.conf" create mail/_fleet/claims/mx1/0000000001.json "$T/claim" ||
	fail "create the claim"
rc=0; "$REPLAY" -c "$T/mx.conf" drain > "$T/d1.out" 2> "$T/d1.err" || rc=$?
[ "$rc" = 75 ] || fail "drain under a claim without manifest: exit $rc, want 75"
grep -q 'delivered nothing: node mx2 claimed' "$T/d1.err" ||
	fail "drain does not say why: $(cat "$T/d1.out" "$T/d1.err")"
[ "$(got)" = 0 ] || fail "the primary got $(got) messages while blocked"
[ "$(hb drain replay)" = stopped ] || fail "drain heartbeat: $(cat "$F/hb/mx1/drain.json")"
grep -q "fleet blocked node=mx1 role=drain" "$T/d1.err" || fail "no 'fleet blocked' log line"
ok "claim without manifest: exit 75, \"$(grep -o 'delivered nothing: .\{60\}' "$T/d1.err")...\""

# 3. the manifest takes messages 1 and 2: adopted here; 3 is delivered and in the ledger
cat "$T/id1" "$T/id2" > "$T/ids"
"$CLI" -c "$T/mx.conf" put mail/_fleet/claims/mx1/0000000001.ids "$T/ids" || fail "manifest"
R drain > "$T/d2.out" 2>&1 || fail "drain after the manifest: exit $? ($(cat "$T/d2.out"))"
for i in 1 2; do
	[ "$(state "$(cat "$T/id$i")")" = adopted ] || fail "message $i: $(state "$(cat "$T/id$i")")"
done
[ "$(state "$(cat "$T/id3")")" = delivered ] || fail "message 3: $(state "$(cat "$T/id3")")"
wait_for '[ "$(got)" = 1 ]' 10 || fail "the primary got $(got) messages, want 1"
[ "$(hb drain epoch)" = 1 ] && [ "$(hb drain exiting)" = True ] ||
	fail "drain heartbeat: $(cat "$F/hb/mx1/drain.json")"
cat "$F"/ledger/mx1/*.jsonl > "$T/ledger"
grep -q "\"id\":\"$(cat "$T/id3")\"" "$T/ledger" && grep -q '"outcome":"delivered"' "$T/ledger" ||
	fail "ledger: $(cat "$T/ledger")"
[ "$(wc -l < "$T/ledger")" = 1 ] || fail "ledger has $(wc -l < "$T/ledger") lines, want 1"
ok "manifest: 2 adopted (not delivered), 1 delivered and in the ledger, epoch 1 acknowledged"

# 3b. an adopter lost before its manifest: its claim 2 blocks mx1 until mx2 takes over
# with --force (claim 3); mx1 then honours claim 3 (the newer claim supersedes 2)
"$ST" -c "$T/mx.conf" commit "$T/m1.eml" --from s@x.test --rcpt alice@example.test \
	> "$T/id4" 2>>"$T/st.log" || fail "storetool commit"
printf '{"adopter":"mx9","at_ms":2,"epoch":2,"node":"mx1"}' > "$T/claim2"
"$CLI" -c "$T/mx.conf" create mail/_fleet/claims/mx1/0000000002.json "$T/claim2" ||
	fail "create claim 2"
mkdir -p "$T/run2"
sed -e 's/^node = mx1$/node = mx2/' -e "s|^data_dir = .*|data_dir = $T/run2|" \
	"$T/mx.conf" > "$T/mx2.conf"
rc=0; "$REPLAY" -c "$T/mx2.conf" adopt mx1 > "$T/a1.out" 2>&1 || rc=$?
[ "$rc" = 75 ] && grep -q 'being adopted by mx9' "$T/a1.out" ||
	fail "adopt over mx9's claim without --force: exit $rc ($(cat "$T/a1.out"))"
"$REPLAY" -c "$T/mx2.conf" adopt --force mx1 > "$T/a2.out" 2>&1 ||
	fail "adopt --force over a lost adopter's claim: exit $? ($(cat "$T/a2.out"))"
[ "$(cat "$F/claims/mx1/0000000003.ids")" = "$(cat "$T/id4")" ] ||
	fail "claim 3's manifest: $(cat "$F/claims/mx1/0000000003.ids" 2>&1), want $(cat "$T/id4")"
R drain > "$T/d4.out" 2>&1 || fail "mx1's drain after the takeover: exit $? ($(cat "$T/d4.out"))"
[ "$(state "$(cat "$T/id4")")" = adopted ] || fail "message 4: $(state "$(cat "$T/id4")")"
[ "$(hb drain epoch)" = 3 ] || fail "drain heartbeat: $(cat "$F/hb/mx1/drain.json")"
[ "$(got)" = 1 ] || fail "the primary got $(got) messages, want still 1"
ok "a lost adopter's claim without manifest: refused, then --force takes over (claim 3); mx1 honours it"

# 4. the fleet off: nothing written under _fleet
rm -rf "$F"
{ cat "$T/mx.conf"; printf '[fleet]\nenabled = no\n'; } > "$T/off.conf"
"$ST" -c "$T/off.conf" commit "$T/m1.eml" --from s@x.test --rcpt alice@example.test \
	> /dev/null 2>>"$T/st.log" || fail "storetool commit"
"$REPLAY" -c "$T/off.conf" drain > "$T/d3.out" 2>>"$T/replay.log" || fail "drain, fleet off"
wait_for '[ "$(got)" = 2 ]' 10 || fail "fleet off: the primary got $(got) messages, want 2"
[ ! -e "$F" ] || fail "fleet off, yet $(find "$F" -type f | head -3)"
ok "[fleet] enabled = no: delivered, nothing under _fleet/"
exit 0
