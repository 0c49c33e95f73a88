#!/bin/bash
# replay_lmtp.sh - mxspool-replay drain to a real Dovecot LMTP, and lifetime expiry.
#
# LMTP: one message for alice, bob and an unknown user -> alice and bob delivered (Maildir
# bytes equal to the accepted bytes), the unknown one quarantined (5.1.1), message state
# quarantine; a second drain sends nothing again.  Expiry ([replay] max_lifetime 2s): a
# message whose route is down defers, then expires: a DSN goes through [replay] dsn_relay
# (an smtp-sink) to the sender, naming the recipient; a <> sender gets none; without a
# dsn_relay the expired message is held for the operator with a note.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/dovecot.sh"
ST=$BUILD/tests/tools/storetool
[ -x "$ST" ] && [ -x "$REPLAY" ] || fail "build first (make O=... all)"
command -v smtp-sink >/dev/null || fail "no smtp-sink"

dovecot_start alice bob
DSNPORT=$(free_port)
DOWNPORT=$(free_port)	# nothing listens there: connection refused
conf() {	# conf FILE LIFETIME [DSN_RELAY]
	mx_conf "$1" <<EOF
[replay]
rate = 100
ramp = 1s
min_backoff = 1s
max_backoff = 1s
max_lifetime = $2
dsn_relay = ${3:-}
[deliver]
connect_timeout = 5s
[routes]
example.test = lmtp://127.0.0.1:$LMTP_PORT
down.test = smtp://127.0.0.1:$DOWNPORT
EOF
}
conf "$T/mx.conf" 7d
conf "$T/short.conf" 2s "smtp://127.0.0.1:$DSNPORT"
conf "$T/norelay.conf" 2s
R() { "$REPLAY" -c "$T/mx.conf" "$@" 2>>"$T/replay.log"; }
state() { R show --json "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["state"])'; }
rstate() {	# rstate ID RCPT
	R show --json "$1" | python3 -c 'import json,sys
for r in json.load(sys.stdin)["recipients"]:
    if r["rcpt"] == sys.argv[1]: print(r["state"], r["last_code"])' "$2"
}

{
	printf 'From: Sender <s@x.test>\r\nTo: alice@example.test\r\nSubject: lmtp replay\r\n'
	printf 'Message-ID: <r1@x.test>\r\n\r\n.dot line\r\ncaf\xc3\xa9\r\n'
	for i in $(seq 1 500); do printf 'line %d\r\n' "$i"; done
} > "$T/m1.eml"
id=$("$ST" -c "$T/mx.conf" commit "$T/m1.eml" --from s@x.test --rcpt alice@example.test \
	--rcpt nobody@example.test --rcpt bob@example.test 2>>"$T/st.log") || fail "commit"

# 1. partial acceptance
R drain > "$T/d1"; rc=$?
[ "$rc" = 65 ] || fail "drain: exit $rc, want 65 (quarantine): $(cat "$T/d1")"
[ "$(rstate "$id" alice@example.test)" = "delivered 250" ] || fail "alice: $(rstate "$id" alice@example.test)"
[ "$(rstate "$id" bob@example.test)" = "delivered 250" ] || fail "bob"
[ "$(rstate "$id" nobody@example.test)" = "quarantine 550" ] ||
	fail "nobody: $(rstate "$id" nobody@example.test)"
[ "$(state "$id")" = quarantine ] || fail "message state $(state "$id")"
[ "$(maildir_count alice)" = 1 ] && [ "$(maildir_count bob)" = 1 ] || fail "Maildir counts"
for f in "$T"/mail/alice/new/* "$T"/mail/bob/new/*; do
	same_as_maildir "$T/m1.eml" "$f" || fail "Maildir bytes differ: $f"
done
R drain > /dev/null
[ "$(maildir_count alice)" = 1 ] || fail "a second drain re-sent to alice"
ok "LMTP: alice+bob delivered (bytes equal), unknown user quarantined, no re-send"

# 2. expiry with a DSN through dsn_relay; none for <>
mkdir -m 777 "$T/dsn"
smtp-sink -u nobody -d "$T/dsn/m." 127.0.0.1:"$DSNPORT" 10 2>>"$T/sink.log" & SINK=$!
cleanup_add "kill $SINK"
wait_port "$DSNPORT" 10 || fail "smtp-sink (dsn relay)"
printf 'From: s@x.test\r\nSubject: will expire\r\nMessage-ID: <e1@x.test>\r\n\r\nbody\r\n' \
	> "$T/m2.eml"
e1=$("$ST" -c "$T/mx.conf" commit "$T/m2.eml" --from sender@x.test --rcpt u1@down.test \
	2>>"$T/st.log") || fail "commit e1"
e2=$("$ST" -c "$T/mx.conf" commit "$T/m2.eml" --from '' --rcpt u2@down.test \
	2>>"$T/st.log") || fail "commit e2"
"$REPLAY" -c "$T/short.conf" drain > /dev/null 2>>"$T/replay.log"; rc=$?
[ "$rc" = 75 ] || fail "route down: exit $rc, want 75"
[ "$(state "$e1")" = queued ] || fail "e1 after a refused connection: $(state "$e1")"
sleep 2	# let the 2 s lifetime pass (not an assertion on timing)
"$REPLAY" -c "$T/short.conf" drain > "$T/d2" 2>>"$T/replay.log" || fail "expiry drain: $(cat "$T/d2")"
[ "$(state "$e1")" = expired ] && [ "$(state "$e2")" = expired ] ||
	fail "states $(state "$e1") $(state "$e2")"
wait_for "ls $T/dsn/m.*" 10 || fail "no DSN arrived"
[ "$(ls "$T/dsn" | wc -l)" = 1 ] || fail "want exactly one DSN (none for <>): $(ls "$T/dsn")"
d=$(ls "$T"/dsn/m.*)
grep -q '^X-Rcpt-Args: <sender@x.test>' "$d" || fail "DSN not to the sender: $(grep X- "$d")"
grep -q '^X-Mail-Args: <>' "$d" || fail "DSN not from <>"
grep -qi '^Final-Recipient: rfc822; *u1@down.test' "$d" || fail "DSN does not name u1@down.test"
grep -q '^Action: failed' "$d" || fail "DSN Action"
[ "$(rstate "$e1" u1@down.test | cut -d' ' -f1)" = expired ] || fail "rcpt not expired"
R show "$e1" | grep -q 'DSN sent' || fail "no note about the DSN"
ok "lifetime over: DSN via dsn_relay to the sender naming the recipient; none for <>"

# 3. no dsn_relay: held for the operator
e3=$("$ST" -c "$T/mx.conf" commit "$T/m2.eml" --from sender@x.test --rcpt u3@down.test \
	2>>"$T/st.log") || fail "commit e3"
sleep 2
"$REPLAY" -c "$T/norelay.conf" drain > /dev/null 2>>"$T/replay.log"
[ "$(state "$e3")" = hold ] || fail "no relay: state $(state "$e3")"
R list --state hold | grep -q 'no \[replay\] dsn_relay' || fail "hold note: $(R list --state hold)"
[ "$(ls "$T/dsn" | wc -l)" = 1 ] || fail "a DSN was sent without dsn_relay?"
ok "lifetime over without dsn_relay: held with a note, no DSN"
exit 0
