#!/bin/bash
# replay_serve_controls.sh - the operator's controls of a running `serve`, on an index
# that nobody ever paused (a fresh one), with Postfix smtp-sink as the primary.
#
# 1) `mxspool-replay rate R` changes serve's rate: serve publishes target_rate = R.
# 2) `status`, `status --json`, /status and /metrics show the target and achieved rate
#    (with its window) and the primary's health with when it was last probed.
# 3) The object store probe: the Storage card in real Chromium says "ok" with a working
#    store, "failing" with the reason for one that accepts TCP and never answers
#    (found within storage_probe_timeout; /status keeps answering meanwhile).
# 4) The dashboard's Pause / Resume / Set rate buttons, clicked in real Chromium with
#    the token typed in: the control table and serve follow; a wrong token is refused.
# No throughput is measured: only what serve publishes and what the index holds.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/status.sh"
status_need_chromium
command -v smtp-sink >/dev/null || fail "no smtp-sink"
chmod 711 "$T"

TOKEN="ctl-$RANDOM-token"
SINK=$(free_port)
HTTP=$(free_port)
replay_conf() {	# replay_conf FILE HTTP_PORT - status_config + what serve needs
	status_config "$1" "$2" "$TOKEN"
	cat >> "$1" <<EOF
[replay]
rate = 200
ramp = 1s
concurrency = 2
min_backoff = 1s
max_backoff = 2s
probe_interval = 1s
storage_probe_timeout = 1s
[routes]
* = smtp://127.0.0.1:$SINK
EOF
}
replay_conf "$T/mx.conf" "$HTTP"
R() { "$REPLAY" -c "$T/mx.conf" "$@" 2>>"$T/replay.log"; }
U=http://127.0.0.1:$HTTP

mkdir -m 777 -p "$T/sink"
smtp-sink -u nobody -d "$T/sink/m." 127.0.0.1:"$SINK" 50 2>>"$T/sink.log" &
cleanup_add "kill $!"
wait_port "$SINK" 10 || fail "smtp-sink did not start"

# messages through the real commit path: this creates the index; nothing writes "paused"
printf 'Subject: ctl\r\n\r\nbody\r\n' > "$T/m.eml"
for i in 1 2 3; do
	"$STORETOOL" -c "$T/mx.conf" commit "$T/m.eml" --from s@x.test --rcpt u$i@x.test \
	    >/dev/null 2>>"$T/st.log" || fail "storetool commit"
done
[ -z "$(sq "SELECT value FROM control WHERE key = 'paused'")" ] || fail "paused already set"

SERVE_PID=
serve() {	# serve CONF - start serve, wait for its HTTP port
	"$REPLAY" -c "$1" serve 2>>"$T/serve.log" &
	SERVE_PID=$!
	cleanup_add "kill -9 $SERVE_PID"
	wait_port "$HTTP" 20 || { tail "$T/serve.log"; fail "serve did not listen on $HTTP"; }
}
serve_stop() {
	kill "$SERVE_PID"; wait "$SERVE_PID"; _rc=$?
	[ "$_rc" = 0 ] || fail "serve exit $_rc after SIGTERM"
}
# js EXPR - evaluate a Python expression on /status (as s)
js() { curl -sf "$U/status" | python3 -c "import json,sys; s=json.load(sys.stdin); print($1)"; }

# 1. the rate of a running serve, on a fresh index
serve "$T/mx.conf"
wait_for "[ \"\$(js 's[\"replay\"][\"target_rate\"]')\" = 200 ]" 30 ||
	fail "serve published no target rate 200 on a fresh index: replay=$(js 's["replay"]')"
R rate 7 > /dev/null || fail "rate 7"
wait_for "[ \"\$(js 's[\"replay\"][\"target_rate\"]')\" = 7 ]" 30 ||
	fail "serve ignored 'rate 7': replay=$(js 's["replay"]')"
grep -q 'replay rate cap=7.000' "$T/serve.log" || fail "no 'rate cap=7.000' in the log"
curl -sf "$U/metrics" | grep -qx 'mxspool_replay_target_rate 7' ||
	fail "metrics: $(curl -sf "$U/metrics" | grep replay_)"
ok "fresh index: 'mxspool-replay rate 7' -> serve's target_rate 7 (/status, /metrics, log)"

# 2. status: target and achieved rate, primary health and when it was checked
wait_for "[ \"\$(js 's[\"replay\"][\"primary_health\"]')\" = up ]" 30 ||
	fail "primary health: $(js 's["replay"]')"
js 's["replay"]["achieved_rate"] is not None and s["replay"]["achieved_window_s"] == 10 and
    s["replay"]["primary_checked_ms"] > s["now_ms"] - 60000 and
    s["replay"]["rate_limit"] == 7' | grep -qx True || fail "/status replay: $(js 's["replay"]')"
R status > "$T/status.txt" || fail "status"
want='^Replay: running, rate limit 7/s \(control\); serve target 7/s, achieved [0-9.]+/s'
grep -Eq "$want \\(last 10 s\\)\$" "$T/status.txt" ||
	fail "status Replay line: $(cat "$T/status.txt")"
grep -Eq '^Primary: up \(checked [0-9-]+ [0-9:]+ UTC, [0-9]+ s ago\)$' "$T/status.txt" ||
	fail "status Primary line: $(cat "$T/status.txt")"
R status --json | python3 -c '
import json, sys
s = json.load(sys.stdin)
r = s["replay"]
ok = r["target_rate"] == 7 and r["achieved_rate"] is not None and r["primary_health"] == "up" \
    and r["primary_checked_ms"] and s["storage"]["health"] == "ok"
sys.exit(0 if ok else print(s["replay"], s["storage"]) or 1)' || fail "status --json"
curl -sf "$U/metrics" > "$T/metrics"
promtool check metrics < "$T/metrics" > "$T/promtool.out" 2>&1 && [ ! -s "$T/promtool.out" ] ||
	fail "promtool: $(cat "$T/promtool.out")"
for m in primary storage; do
	grep -Eq "^mxspool_${m}_checked_timestamp_seconds [0-9]{10}\$" "$T/metrics" ||
		fail "no ${m} probe time in /metrics: $(grep checked "$T/metrics")"
done
ok "status, status --json, /status: target 7/s, achieved (10 s window), primary up + when"
ok "/metrics: probe times for alerting on a stale serve (promtool clean)"

# 3a. storage ok: the card in Chromium
wait_for "[ \"\$(js 's[\"storage\"][\"health\"]')\" = ok ]" 30 ||
	fail "storage health: $(js 's["storage"]')"
chrome --window-size=1280,1800 --dump-dom "$U/" > "$T/ok.html" || fail "dump-dom"
grep -q '<div id="c-storage" class="big ok">ok</div>' "$T/ok.html" ||
	fail "Storage card: $(grep -o '<div id="c-storage".*' "$T/ok.html")"
grep -Eq '<div id="c-storage-why" class="why muted">checked [0-9]+ s ago</div>' "$T/ok.html" ||
	fail "Storage when: $(grep -o '<div id="c-storage-why".*' "$T/ok.html")"
ok "Storage card (Chromium): ok, checked N s ago"

# 4. the dashboard's buttons, clicked with the token typed in
cdp "$U/" 'wait:document.body.dataset.loaded === "1"' "type:ctl-token:wrong-token" \
    "click:ctl-pause" "waittext:ctl-msg:Wrong token" > "$T/cdp0.out" ||
	fail "dashboard with a wrong token (above)"
[ "$(sq "SELECT value FROM control WHERE key = 'paused'")" = "" ] ||
	fail "a wrong token paused"
cdp "$U/" 'wait:document.body.dataset.loaded === "1"' "type:ctl-token:$TOKEN" \
    "click:ctl-pause" "waittext:ctl-msg:Paused" "waittext:drain:PAUSED" > "$T/cdp1.out" ||
	fail "dashboard Pause (above)"
[ "$(sq "SELECT value FROM control WHERE key = 'paused'")" = 1 ] || fail "Pause: paused not 1"
paused_js='s["replay"]["paused"] and s["replay"]["target_rate"] == 0'
wait_for "[ \"\$(js '$paused_js')\" = True ]" 30 ||
	fail "serve did not pause: $(js 's["replay"]')"
grep -q 'replay paused' "$T/serve.log" || fail "serve did not log the pause"
cdp "$U/" 'wait:document.body.dataset.loaded === "1"' "type:ctl-token:$TOKEN" \
    "click:ctl-resume" "waittext:ctl-msg:Resumed" "waittext:drain:RUNNING" \
    "type:ctl-rate:3" "click:ctl-setrate" "waittext:ctl-msg:Rate limit set to 3/s" \
    "waittext:rate:rate limit 3/s" > "$T/cdp2.out" || fail "dashboard Resume / Set rate (above)"
[ "$(sq "SELECT value FROM control WHERE key = 'paused'")" = 0 ] || fail "Resume: paused not 0"
[ "$(sq "SELECT value FROM control WHERE key = 'rate'")" = 3 ] || fail "Set rate: rate not 3"
wait_for "[ \"\$(js 's[\"replay\"][\"target_rate\"]')\" = 3 ]" 30 ||
	fail "serve did not take rate 3: $(js 's["replay"]')"
grep -q 'status control action=pause' "$T/serve.log" || fail "pause not logged"
grep -q 'status control action=rate rate=3 ' "$T/serve.log" || fail "rate not logged"
ok "dashboard (Chromium clicks): wrong token refused; Pause, Resume, Set rate 3 -> index and serve"
serve_stop

# 3b. a store that accepts TCP and never answers: failing, with the reason, within the
# probe's deadline; /status answers all the while.  Nothing is left to deliver (no
# worker waits for that store), and its own deadlines are short anyway.
[ "$(sq "SELECT count(*) FROM messages WHERE state <> 'delivered'")" = 0 ] ||
	fail "messages left undelivered before the hung-store part"
HUNG=$(free_port)
python3 -c '
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(64); held = []
while True:
    c, _ = s.accept(); held.append(c)
' "$HUNG" &
cleanup_add "kill $!"
wait_port "$HUNG" 10 || fail "hung store did not listen"
replay_conf "$T/hung.conf" "$HTTP"
s3="url = http://127.0.0.1:$HUNG\nbucket = mxs\naccess_key = k\nsecret_key = s"
sed -i "s|^url = file://.*|$s3\ntimeout = 2s\nretries = 0|" "$T/hung.conf"
serve "$T/hung.conf"
wait_for "[ \"\$(js 's[\"storage\"][\"health\"]')\" = failing ]" 30 ||
	fail "hung store not reported failing: $(js 's["storage"]')"
js 's["storage"]["reason"]' > "$T/why"
grep -q "127.0.0.1:$HUNG" "$T/why" || fail "reason does not name the store: $(cat "$T/why")"
chrome --window-size=1280,1800 --dump-dom "$U/" > "$T/bad.html" || fail "dump-dom"
grep -q '<div id="c-storage" class="big bad">failing</div>' "$T/bad.html" ||
	fail "Storage card: $(grep -o '<div id="c-storage".*' "$T/bad.html")"
why="<div id=\"c-storage-why\" class=\"why muted\">[^<]*127.0.0.1:$HUNG[^<]*;"
grep -Eq "$why checked [0-9]+ s ago</div>" "$T/bad.html" ||
	fail "Storage reason: $(grep -o '<div id="c-storage-why".*' "$T/bad.html")"
R status | grep -q "^Storage: failing (checked .*): .*127.0.0.1:$HUNG" ||
	fail "status Storage line: $(R status | grep Storage)"
ok "hung store: failing ($(cat "$T/why")), on the card and in status"
serve_stop
exit 0
