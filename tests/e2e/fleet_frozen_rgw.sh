#!/bin/bash
# fleet_frozen_rgw.sh - the fleet's bucket calls against a real Ceph RGW frozen with
# SIGSTOP (TCP accepted, never answered): a store that hangs is treated like one that
# refuses, within [fleet] call_deadline (docs/storage.md "The fleet").
#   1. node mx1's ingest and serve on RGW: heartbeats in the bucket, one message
#      delivered to smtp-sink
#   2. RGW frozen: `status --fleet` exits 69 within call_deadline and a margin (not the
#      store's 30 s request timeout); serve's /status still answers at once, its fleet
#      view keeping the last state with the error; the ingest still answers 250 (the
#      spool takes the message) and serve delivers it from the spool
#   3. still frozen: SIGTERM ends the ingest and serve, their final heartbeat and ledger
#      writes giving up at call_deadline
#   4. RGW thawed: a new ingest beats again and `status --fleet` exits 0
# The bounds below are generous deadlines for "did not hang", not timings.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/rgw.sh"
. "$(dirname "$0")/../lib/ingest.sh"
[ -x "$INGEST" ] && [ -x "$REPLAY" ] || fail "build first (make O=... all)"
command -v smtp-sink >/dev/null || fail "no smtp-sink"

CALL=2			# [fleet] call_deadline, seconds
BOUND=15		# a call that took longer than this did not keep its deadline
rgw_up mail
SPORT=$(free_port)
HPORT=$(free_port)
PORT=$(free_port)
chmod 711 "$T"
mkdir -p "$T/run" "$T/sink"
chmod 777 "$T/sink"
printf 'alice\n' > "$T/run/rcpts"
smtp-sink -u nobody -d "$T/sink/m." 127.0.0.1:"$SPORT" 50 2>>"$T/sink.log" &
cleanup_add "kill $!"
wait_port "$SPORT" 10 || fail "smtp-sink did not start"
INGEST_STORAGE="$(rgw_storage mail)
commit_deadline = 2s" ingest_conf "$T/mx.conf" "127.0.0.1:$PORT" "" "[fleet]
heartbeat_interval = 5s
call_deadline = ${CALL}s
ledger_interval = 1s
[replay]
ramp = 1s
min_backoff = 1s
max_backoff = 2s
[routes]
* = smtp://127.0.0.1:$SPORT
[http]
listen = 127.0.0.1:$HPORT"

send() {	# send SUBJECT - one message to the ingest; prints the reply code to DATA
	python3 - "$PORT" "$1" <<'PY'
import smtplib, sys
s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=60)
s.ehlo("client.example")
s.mail("s@sender.example")
s.rcpt("alice@example.test")
code, _ = s.data(("Subject: %s\r\n\r\nbody\r\n" % sys.argv[2]).encode())
s.quit()
print(code)
PY
}
fleet() { "$REPLAY" -c "$T/mx.conf" status --fleet --json 2>>"$T/replay.log" </dev/null; }
delivered() { grep -l "Subject: $1" "$T"/sink/m.* 2>/dev/null | wc -l; }
# gone PID SECONDS - PID exited within SECONDS (after a signal); its status in GONE_RC
gone() {
	_n=$(( $2 * 10 ))
	while kill -0 "$1" 2>/dev/null && [ $_n -gt 0 ]; do sleep 0.1; _n=$((_n - 1)); done
	kill -0 "$1" 2>/dev/null && return 1
	GONE_RC=0; wait "$1" || GONE_RC=$?
	return 0
}

# 1. a working node
ingest_start "$T/mx.conf" "$PORT" "$T/ingest.log"
IPID=$INGEST_PID
"$REPLAY" -c "$T/mx.conf" serve 2>>"$T/serve.log" </dev/null &
SPID=$!
cleanup_add "kill -9 $SPID"
U=http://127.0.0.1:$HPORT
wait_for "curl -sf $U/status > /dev/null" 30 || fail "serve did not start: $(tail -5 "$T/serve.log")"
[ "$(send before)" = 250 ] || fail "no 250 with RGW up"
wait_for '[ "$(delivered before)" = 1 ]' 60 || fail "not delivered with RGW up"
wait_for "fleet | python3 -c 'import json,sys; n={x[\"node\"]: x for x in json.load(sys.stdin)[\"nodes\"]}; sys.exit(0 if \"mx1\" in n else 1)'" 30 ||
	fail "no heartbeat of mx1: $(fleet)"
wait_for "curl -sf $U/status | python3 -c 'import json,sys; f=json.load(sys.stdin)[\"fleet\"]; sys.exit(0 if [x for x in f[\"nodes\"] if x[\"node\"] == \"mx1\"] else 1)'" 90 ||
	fail "serve's fleet view never showed mx1: $(curl -s "$U/status")"
ok "RGW up: mx1 beats, serve's fleet view reads the bucket, a message delivered"

# 2. RGW frozen
RGWPID=$(cat "$RGW_DIR/run/client.rgw.a.pid")
kill -STOP "$RGWPID"
cleanup_add "kill -CONT $RGWPID"
t0=$(date +%s)
rc=0; timeout 120 "$REPLAY" -c "$T/mx.conf" status --fleet > "$T/frozen.out" 2>&1 </dev/null ||
	rc=$?
took=$(( $(date +%s) - t0 ))
[ "$rc" = 124 ] && fail "status --fleet hung on a frozen RGW (killed after 120 s)"
[ "$rc" = 69 ] || fail "status --fleet on a frozen RGW: exit $rc, want 69: $(cat "$T/frozen.out")"
[ "$took" -le "$BOUND" ] ||
	fail "status --fleet took ${took}s on a frozen RGW (call_deadline ${CALL}s, bound ${BOUND}s)"
ok "frozen: status --fleet exits 69 after ${took}s: $(head -1 "$T/frozen.out" | cut -c1-100)"

# serve's view: read on its own schedule, so /status answers at once with the last view
wait_for "curl -sf -m 10 $U/metrics | grep -q '^mxspool_fleet_read_ok 0\$'" 60 ||
	fail "serve's fleet view: no failed read with RGW frozen: $(curl -s -m 10 "$U/metrics" | grep fleet_read)"
curl -sf -m 10 "$U/status" > "$T/status.json" || fail "serve's /status did not answer with RGW frozen"
python3 - "$T/status.json" <<'PY' || fail "fleet view while frozen: $(cat "$T/status.json")"
import json, sys
f = json.load(open(sys.argv[1]))["fleet"]
n = {x["node"]: x for x in f["nodes"]}
assert "mx1" in n and f["error"], f     # the last view is kept, with the reason it is old
PY
ok "frozen: serve's /status answers with the last fleet view and its error"

[ "$(send during)" = 250 ] || fail "no 250 with RGW frozen (the spool should take it)"
wait_for '[ "$(delivered during)" = 1 ]' 60 || fail "the spooled message was not delivered"
ok "frozen: the ingest answers 250 (spool), serve delivers it from the spool"

# 3. shutdown while frozen: the final heartbeats and ledger writes keep the deadline
kill -TERM "$IPID" "$SPID"
gone "$IPID" 60 || fail "the ingest still runs 60 s after SIGTERM with RGW frozen"
[ "$GONE_RC" = 0 ] || fail "the ingest exited $GONE_RC after SIGTERM"
gone "$SPID" 60 || fail "serve still runs 60 s after SIGTERM with RGW frozen"
[ "$GONE_RC" = 0 ] || fail "serve exited $GONE_RC after SIGTERM"
grep -q 'fleet' "$T/ingest.log" || fail "the ingest logged no fleet failure: $(tail -5 "$T/ingest.log")"
ok "frozen: SIGTERM ends the ingest and serve (exit 0), fleet failures logged"

# 4. thawed
kill -CONT "$RGWPID"
ingest_start "$T/mx.conf" "$PORT" "$T/ingest2.log"
wait_for "fleet > /dev/null" 30 || fail "status --fleet after the thaw: $(fleet)"
ok "thawed: the node beats again, status --fleet exits 0"
kill -TERM "$INGEST_PID"
gone "$INGEST_PID" 60 || fail "the ingest did not stop"
