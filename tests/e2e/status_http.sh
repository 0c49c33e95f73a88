#!/bin/bash
# status_http.sh - the status HTTP server (status_start via tests/tools/statustool)
# against an index populated through the real commit path: GET /status fields and
# values, GET /metrics accepted by promtool (any promtool output is a failure, lint
# included) with the expected samples and escaping, the control API (auth 401/403,
# 405, 404, 400 on bad JSON, 413 on big bodies, pause/resume/rate/release land in the
# index) and that no GET changes the index.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/status.sh"
command -v promtool >/dev/null || fail "promtool missing (Debian package prometheus)"

TOKEN="tok-$RANDOM-$RANDOM-secret"
export MXS_STATUS_TOKEN=$TOKEN
status_up "$T/mx.conf" "env:MXS_STATUS_TOKEN"
ok "statustool on $U, index populated (quarantined $QID)"

# code METHOD PATH [curl args...] - prints the HTTP status; body in $T/body, headers $T/hdr
code() {
	_m=$1; _p=$2; shift 2
	if [ "$_m" = HEAD ]; then set -- -I "$@"; else set -- -X "$_m" "$@"; fi
	curl -s -o "$T/body" -D "$T/hdr" -w '%{http_code}' "$@" "$U$_p"
}
auth=(-H "Authorization: Bearer $TOKEN")
# snapshot - everything a control action could change
snapshot() {
	sq "SELECT key, value FROM control ORDER BY key;
	    SELECT id, state, next_attempt_ms, state_ms FROM messages ORDER BY id;
	    SELECT message_id, rcpt, state FROM recipients ORDER BY 1, 2;" | sha256sum
}

# --- GET /status ---------------------------------------------------------------
[ "$(code GET /status)" = 200 ] || fail "GET /status: $(cat "$T/body")"
grep -qi '^content-type: application/json' "$T/hdr" || fail "status content-type"
cp "$T/body" "$T/status.json"
python3 -m json.tool "$T/status.json" > /dev/null || fail "status is not JSON"
want_msgs=$(sq "SELECT count(*) FROM messages WHERE state IN
    ('queued','active','hold','quarantine')")
want_oldest=$(sq "SELECT min(received_ms) FROM messages WHERE state IN
    ('queued','active','hold','quarantine')")
want_bytes=$(sq "SELECT sum(size) FROM messages WHERE state IN
    ('queued','active','hold','quarantine')")
want_rcpts=$(sq "SELECT count(*) FROM recipients r JOIN messages m ON m.id = r.message_id
    WHERE r.state = 'pending' AND m.state IN ('queued','active','hold','quarantine')")
spool_bytes=$(sq "SELECT size FROM messages WHERE location = 1")
[ "$want_msgs" = 62 ] || fail "populate: want 62 backlog messages, index has $want_msgs"
WANT_MSGS=$want_msgs WANT_OLDEST=$want_oldest WANT_BYTES=$want_bytes WANT_RCPTS=$want_rcpts \
SPOOL_BYTES=$spool_bytes python3 - "$T/status.json" <<'PY' || fail "/status values (above)"
import json, os, sys
s = json.load(open(sys.argv[1]))
e = os.environ
def check(what, got, want):
    if got != want:
        print(f"{what}: got {got!r}, want {want!r}")
        sys.exit(1)
b = s["backlog"]
check("node", s["node"], "mx1")
check("backlog.messages", b["messages"], int(e["WANT_MSGS"]))
check("backlog.bytes", b["bytes"], int(e["WANT_BYTES"]))
check("backlog.recipients", b["recipients"], int(e["WANT_RCPTS"]))
check("backlog.oldest_received_ms", b["oldest_received_ms"], int(e["WANT_OLDEST"]))
age = (s["now_ms"] - int(e["WANT_OLDEST"])) // 1000
check("backlog.oldest_age_s", b["oldest_age_s"], age)
check("age bucket count", len(b["age_buckets"]), 10)
check("age bucket labels", [x["label"] for x in b["age_buckets"]],
      ["0-5m", "5-10m", "10-20m", "20-40m", "40-80m", "80-160m", "160-320m", "320-640m",
       "640-1280m", "1280m+"])
check("sum of age buckets", sum(x["count"] for x in b["age_buckets"]), b["messages"])
# the two committed messages are seconds old: at least they are in the first bucket
if b["age_buckets"][0]["count"] < 2:
    print("first age bucket should hold the 2 fresh messages:", b["age_buckets"][0]); sys.exit(1)
check("states.quarantine", s["states"]["quarantine"]["messages"], 1)
check("states.delivered (zero, present)", s["states"]["delivered"]["messages"], 0)
check("quarantine", s["quarantine"], {"messages": 1, "recipients": 1})
check("fallback_spool", s["fallback_spool"],
      {"messages": 1, "bytes": int(e["SPOOL_BYTES"])})
check("storage", s["storage"], {"health": "ok", "checked_ms": None, "reason": None,
      "errors": 2})
check("ingest.accepted", s["ingest"]["accepted"], 62)
check("ingest.rejected", s["ingest"]["rejected"], 9)
check("ingest.rejected_by_reason.relay", s["ingest"]["rejected_by_reason"]["relay"], 5)
r = s["replay"]
check("replay.paused", r["paused"], False)
check("replay.rate_limit ([replay] rate default)", r["rate_limit"], 10)
check("replay.rate_limit_source", r["rate_limit_source"], "config")
check("replay.target_rate (serve has not written it)", r["target_rate"], None)
check("replay.achieved_rate", r["achieved_rate"], 3)
check("replay.primary_health", r["primary_health"], "up")
er = s["errors"]
check("errors.window_s", er["window_s"], 3600)
check("errors.total (2xx and >1h old excluded)", er["total"], 4)
codes = {c["code"]: c for c in er["by_code"]}
check("errors 421", codes[421]["count"], 2)
check("errors 421 first (most frequent)", er["by_code"][0]["code"], 421)
check("errors 550 text", codes[550]["last_text"],
      "5.1.1 <bad@quarantine.test>: Recipient address rejected")
check("errors no-reply class", codes[0]["class"], "none")
check("errors codes", sorted(codes), [0, 421, 550])
t = {(x["target"], x["code"]): x["count"] for x in er["by_target"]}
check("errors by target", t, {("primary.test:25", 421): 2, ("primary.test:25", 550): 1,
      ("lmtp.test:24", 0): 1})
d = {x["domain"]: x for x in s["domains"]["list"]}
check("domain example.test recipients", d["example.test"]["recipients"], 2)
check("domain example.test buckets", sum(d["example.test"]["buckets"]), 2)
if "quarantine.test" in d:
    print("quarantine.test has no pending recipient, must not be listed"); sys.exit(1)
check("domains total >= shown", s["domains"]["total"] >= s["domains"]["shown"], True)
check("samples", len(s["samples"]["points"]), 3)
check("samples order", [p["messages"] for p in s["samples"]["points"]], [20, 40, 62])
PY
ok "GET /status: backlog, ages, states, domains, errors, ingest, spool, storage, samples"

[ "$(code HEAD /status)" = 200 ] && ! grep -q '"backlog"' "$T/body" || fail "HEAD /status"
ok "HEAD /status: 200 without a body"

# --- GET /metrics --------------------------------------------------------------
[ "$(code GET /metrics)" = 200 ] || fail "GET /metrics"
grep -qi '^content-type: text/plain; version=0.0.4' "$T/hdr" || fail "metrics content-type"
cp "$T/body" "$T/metrics.txt"
promtool check metrics < "$T/metrics.txt" > "$T/promtool.out" 2>&1 ||
	{ cat "$T/promtool.out"; fail "promtool check metrics failed"; }
[ ! -s "$T/promtool.out" ] || { cat "$T/promtool.out"; fail "promtool printed warnings"; }
for line in \
	"mxspool_backlog_messages $want_msgs" \
	"mxspool_quarantine_messages 1" \
	"mxspool_fallback_spool_messages 1" \
	"mxspool_fallback_spool_bytes $spool_bytes" \
	'mxspool_messages{state="quarantine"} 1' \
	'mxspool_domain_backlog_recipients{domain="example.test"} 2' \
	'mxspool_delivery_attempts_total{target="primary.test:25",class="4xx",code="421"} 2' \
	'mxspool_delivery_attempts_total{target="primary.test:25",class="5xx",code="550"} 1' \
	'mxspool_delivery_attempts_total{target="lmtp.test:24",class="none",code="0"} 1' \
	'mxspool_delivery_errors_recent{target="primary.test:25",class="4xx",code="421"} 2' \
	'mxspool_ingest_accepted_total 62' \
	'mxspool_ingest_rejected_total{reason="relay"} 5' \
	'mxspool_ingest_rejected_total{reason="we\"ird\\label"} 1' \
	'mxspool_storage_errors_total{op="put"} 2' \
	'mxspool_tls_failures_total{side="ingest"} 4' \
	'mxspool_replay_paused 0' \
	'mxspool_replay_achieved_rate 3' \
	'mxspool_primary_up 1' \
	'mxspool_storage_healthy 1' \
	'mxspool_backlog_age_messages{age="1280m+"}' \
	'# TYPE mxspool_delivery_attempts_total counter' \
	'# TYPE mxspool_backlog_messages gauge'; do
	grep -qxF "$line" "$T/metrics.txt" || grep -qF "$line " "$T/metrics.txt" ||
		fail "metrics: no line '$line'"
done
# the 451 of two hours ago counts in the counter, not in the recent errors
grep -qF 'mxspool_delivery_attempts_total{target="primary.test:25",class="4xx",code="451"} 1' \
	"$T/metrics.txt" || fail "metrics: old 451 attempt not counted"
! grep -qF 'mxspool_delivery_errors_recent{target="primary.test:25",class="4xx",code="451"}' \
	"$T/metrics.txt" || fail "metrics: 451 of 2 h ago is not recent"
ok "GET /metrics: promtool check metrics clean; samples, labels and escaping as expected"

# --- routing and methods ----------------------------------------------------------
[ "$(code GET /nope)" = 404 ] && grep -q '"error"' "$T/body" || fail "unknown path: 404 JSON"
[ "$(code POST /status "${auth[@]}")" = 405 ] || fail "POST /status should be 405"
grep -qi '^allow: GET, HEAD' "$T/hdr" || fail "405 without Allow"
[ "$(code PUT /metrics)" = 405 ] || fail "PUT /metrics should be 405"
[ "$(code DELETE /control/pause "${auth[@]}")" = 405 ] || fail "DELETE /control/pause"
grep -qi '^allow: POST' "$T/hdr" || fail "405 on control without Allow: POST"
[ "$(code GET /)" = 200 ] && grep -q 'app.js' "$T/body" || fail "GET / dashboard"
grep -qi "^content-security-policy: default-src 'none'" "$T/hdr" || fail "dashboard CSP"
[ "$(code GET /app.js)" = 200 ] && grep -q 'fetch("status"' "$T/body" || fail "GET /app.js"
[ "$(code GET /style.css)" = 200 ] || fail "GET /style.css"
ok "404 JSON, 405 with Allow, dashboard files with a CSP"

# --- GET never changes state ------------------------------------------------------
before=$(snapshot)
for p in /status /metrics / /control/pause /control/resume /control/release /control/rate; do
	code GET "$p" "${auth[@]}" >/dev/null
	code HEAD "$p" "${auth[@]}" >/dev/null
done
code GET "/control/pause?x=1" "${auth[@]}" -d '{}' >/dev/null
[ "$(snapshot)" = "$before" ] || fail "a GET changed the index"
ok "GETs (with the token, on every path) leave the index as it was"

# --- auth ----------------------------------------------------------------------------
[ "$(code POST /control/pause)" = 401 ] || fail "pause without a token: want 401"
grep -qi '^www-authenticate: Bearer realm="mxspool"' "$T/hdr" || fail "401 without challenge"
grep -q '"error"' "$T/body" || fail "401 without a JSON error"
[ "$(code POST /control/pause -H "Authorization: Bearer ${TOKEN}x")" = 401 ] ||
	fail "longer wrong token: want 401"
grep -qi 'error="invalid_token"' "$T/hdr" || fail "wrong token: no invalid_token"
[ "$(code POST /control/pause -H "Authorization: Bearer ${TOKEN%?}")" = 401 ] ||
	fail "prefix of the token: want 401"
[ "$(code POST /control/pause -H "Authorization: Basic $TOKEN")" = 401 ] || fail "Basic scheme"
[ "$(snapshot)" = "$before" ] || fail "a refused POST changed the index"
! grep -qF "$TOKEN" "$T/statustool.log" || fail "the token was logged"
grep -q 'auth-failed path=/control/pause' "$T/statustool.log" || fail "auth failure not logged"
ok "control without/with a wrong token: 401 + WWW-Authenticate, nothing changed, token not logged"

# --- bad requests ----------------------------------------------------------------------
[ "$(code POST /control/rate "${auth[@]}" -d '{"rate": ')" = 400 ] || fail "truncated JSON"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert "malformed JSON" in d["error"]' \
	"$T/body" || fail "400 body is not {\"error\": \"malformed JSON...\"}"
printf '{"rate": "\xff\xfe"}' > "$T/bad-utf8"
[ "$(code POST /control/rate "${auth[@]}" --data-binary @"$T/bad-utf8")" = 400 ] &&
	python3 -m json.tool "$T/body" >/dev/null || fail "invalid UTF-8 body: want 400 JSON"
for b in '[1,2]' '{"rate": "fast"}' '{"rate": -1}' '{"rate": "-1"}' '{"rate": 100001}' '{}' \
	'{"rate": true}' '{"rate": "10/d"}' '{"rate": 1, "rate": 2}'; do
	[ "$(code POST /control/rate "${auth[@]}" -d "$b")" = 400 ] || fail "rate body $b: want 400"
done
want='{"error":"\"rate\" must be messages/s from 0 (unlimited) to 100000,'
want=$want' a number or a string like \"600/m\""}'
[ "$(code POST /control/rate "${auth[@]}" -d '{"rate": "fast"}')" = 400 ] &&
	[ "$(cat "$T/body")" = "$want" ] || fail "rate 400: error text $(cat "$T/body")"
for b in '{}' '{"all": false}' '{"id": 5}' '{"id": ""}' '{"id": "x", "all": true}'; do
	[ "$(code POST /control/release "${auth[@]}" -d "$b")" = 400 ] ||
		fail "release body $b: want 400"
done
head -c 4097 /dev/zero | tr '\0' ' ' > "$T/big"
[ "$(code POST /control/rate "${auth[@]}" --data-binary @"$T/big")" = 413 ] ||
	fail "4097-byte body: want 413"
[ "$(code POST /control/rate "${auth[@]}" -H 'Transfer-Encoding: chunked' \
	--data-binary @"$T/big")" = 413 ] || fail "chunked 4097-byte body: want 413"
python3 -c "import sys; sys.stdout.write('{\"rate\": 7' + ' ' * 4080 + '}')" > "$T/fits"
[ "$(code POST /control/rate "${auth[@]}" --data-binary @"$T/fits")" = 200 ] ||
	fail "a 4092-byte body is within HTTP_BODY_MAX"
[ "$(sq "SELECT value FROM control WHERE key = 'rate'")" = 7 ] || fail "rate 7 not stored"
ok "malformed JSON and bad values 400 {error}, bodies over 4096 bytes 413 (plain and chunked)"

# --- control actions land in the index ---------------------------------------------------
[ "$(code POST /control/pause "${auth[@]}")" = 200 ] || fail "pause: $(cat "$T/body")"
[ "$(sq "SELECT value FROM control WHERE key = 'paused'")" = 1 ] || fail "control paused != 1"
code GET /status >/dev/null
python3 -c 'import json,sys; assert json.load(open(sys.argv[1]))["replay"]["paused"] is True' \
	"$T/body" || fail "/status does not say paused"
curl -s "$U/metrics" | grep -qx 'mxspool_replay_paused 1' || fail "metrics not paused"
[ "$(code POST /control/resume "${auth[@]}" -d '')" = 200 ] || fail "resume"
[ "$(sq "SELECT value FROM control WHERE key = 'paused'")" = 0 ] || fail "control paused != 0"
[ "$(code POST /control/rate "${auth[@]}" -H 'Content-Type: application/json' \
	-d '{"rate": 20}')" = 200 ] || fail "rate 20"
[ "$(sq "SELECT value FROM control WHERE key = 'rate'")" = 20 ] || fail "rate 20 not stored"
code GET /status >/dev/null
python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["replay"]
assert (r["rate_limit"], r["rate_limit_source"]) == (20, "control"), r' \
	"$T/body" || fail "/status rate_limit is not 20 from control"
curl -s "$U/metrics" | grep -qx 'mxspool_replay_rate_limit 20' || fail "metrics rate limit"
# fractions and the CLI's "N/m" form, stored as `mxspool-replay rate` stores them
[ "$(code POST /control/rate "${auth[@]}" -d '{"rate": 0.5}')" = 200 ] || fail "rate 0.5"
[ "$(sq "SELECT value FROM control WHERE key = 'rate'")" = 0.5 ] || fail "rate 0.5 not stored"
[ "$(code POST /control/rate "${auth[@]}" -d '{"rate": "600/m"}')" = 200 ] || fail "600/m"
grep -qx '{"rate":10}' "$T/body" || fail "600/m is not answered as 10/s: $(cat "$T/body")"
[ "$(code POST /control/rate "${auth[@]}" -d '{"rate": 0}')" = 200 ] || fail "rate 0"
[ "$(sq "SELECT value FROM control WHERE key = 'rate'")" = 0 ] || fail "rate 0 not stored"
grep -q 'status control action=pause peer=127.0.0.1' "$T/statustool.log" ||
	fail "control action not logged"
ok "pause, resume, rate 20/0.5/600m/0: in the control table, /status and /metrics, logged"

[ "$(code POST /control/release "${auth[@]}" -d "{\"id\": \"$QID\"}")" = 200 ] ||
	fail "release $QID: $(cat "$T/body")"
[ "$(sq "SELECT state FROM messages WHERE id = '$QID'")" = queued ] || fail "not requeued"
[ "$(sq "SELECT state FROM recipients WHERE message_id = '$QID'")" = pending ] ||
	fail "recipient still quarantined"
[ "$(code POST /control/release "${auth[@]}" -d "{\"id\": \"$QID\"}")" = 409 ] ||
	fail "second release of $QID: want 409"
[ "$(code POST /control/release "${auth[@]}" -d '{"id": "01ZZZZZZZZZZZZZZZZZZZZZZZZ.mx1"}')" \
	= 404 ] || fail "release of an unknown id: want 404"
sq "UPDATE messages SET state = 'quarantine' WHERE id = '$QID';
    UPDATE recipients SET state = 'quarantine' WHERE message_id = '$QID';"
[ "$(code POST /control/release "${auth[@]}" -d '{"all": true}')" = 200 ] || fail "release all"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["released"] == 1, d' \
	"$T/body" || fail "release all: want released 1"
[ "$(sq "SELECT count(*) FROM messages WHERE state = 'quarantine'")" = 0 ] ||
	fail "quarantine not empty after release all"
ok "release by id (then 409, unknown 404) and release all"
status_stop

# --- no token configured: control refused entirely ------------------------------------------
PORT2=$(free_port)
status_config "$T/notoken.conf" "$PORT2" ""
status_serve "$T/notoken.conf" "$PORT2"
U=http://127.0.0.1:$PORT2
before=$(snapshot)
[ "$(code POST /control/pause "${auth[@]}")" = 403 ] || fail "no token configured: want 403"
grep -q '"error"' "$T/body" || fail "403 without a JSON error"
[ "$(code POST /control/resume)" = 403 ] || fail "no token configured, no header: want 403"
[ "$(snapshot)" = "$before" ] || fail "a refused POST changed the index"
[ "$(code GET /status)" = 200 ] || fail "GET /status without a token configured"
ok "no [http] token: every POST 403, GET still served"
status_stop

# --- start-up errors -------------------------------------------------------------------
status_config "$T/bad.conf" "x" ""
sed -i 's/^listen = .*/listen = 127.0.0.1/' "$T/bad.conf"
"$STT" -c "$T/bad.conf" 2> "$T/bad.err" && fail "listen without a port accepted"
grep -q '\[http\] listen' "$T/bad.err" || fail "bad listen: message does not name the key"
PORT3=$(free_port)
status_config "$T/busy.conf" "$PORT3" ""
python3 -c "
import socket, subprocess, sys
s = socket.socket(); s.bind(('127.0.0.1', $PORT3)); s.listen(1)
sys.exit(subprocess.call(['$STT', '-c', '$T/busy.conf'], stderr=open('$T/busy.err', 'w')))
" && fail "a busy port was accepted"
grep -q "cannot listen" "$T/busy.err" || fail "busy port: no clear message"
ok "bad [http] listen and a busy port: exit non-zero naming [http] listen"

# --- the same server inside `mxspool-replay serve` ------------------------------------------
# serve starts it when [http] listen is set and publishes its figures to the control table
[ -x "$REPLAY" ] || fail "no $REPLAY"
PORT4=$(free_port)
status_config "$T/serve.conf" "$PORT4" "$TOKEN"
printf '[replay]\nstart_paused = yes\n' >> "$T/serve.conf"
"$REPLAY" -c "$T/serve.conf" serve 2>>"$T/serve.log" &
SERVE_PID=$!
cleanup_add "kill $SERVE_PID"
wait_port "$PORT4" 20 || { cat "$T/serve.log"; fail "serve did not listen on [http] listen"; }
U=http://127.0.0.1:$PORT4
wait_for "curl -sf $U/status | python3 -c 'import json,sys; r=json.load(sys.stdin)[\"replay\"];
sys.exit(0 if r[\"target_rate\"] is not None and r[\"paused\"] else 1)'" 20 ||
	fail "serve: /status never showed serve's published target_rate and paused"
[ "$(code POST /control/resume "${auth[@]}")" = 200 ] || fail "serve: resume"
[ "$(code POST /control/pause "${auth[@]}")" = 200 ] || fail "serve: pause"
curl -sf "$U/metrics" | promtool check metrics >/dev/null 2>&1 || fail "serve: /metrics"
kill -TERM "$SERVE_PID"
wait "$SERVE_PID" || { cat "$T/serve.log"; fail "serve did not stop cleanly on SIGTERM"; }
grep -q 'status listening' "$T/serve.log" || fail "serve: no status listening line"
ok "mxspool-replay serve: status server up, serve's figures in /status, control works, clean stop"
