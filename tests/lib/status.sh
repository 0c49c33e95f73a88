# status.sh - sourced by tests/e2e/status_*.sh after common.sh: a populated index
# and the status HTTP server (tests/tools/statustool = status_start() alone) on a
# free loopback port.
#
#   status_config FILE PORT [TOKEN]  a config on $T/data and a file store $T/store;
#                                    TOKEN "" = no [http] token line
#   status_populate CONF   messages through the real commit path (storetool commit +
#                          fill), then what the worker and the ingest would have
#                          written: attempts, counters, samples, one quarantined and
#                          one spooled message (sqlite3 CLI); sets QID (quarantined id)
#   status_serve CONF PORT start statustool, wait for the port; stopped at exit
#   status_up CONF TOKEN   the three above on a free port: sets PORT, QID and
#                          U (http://127.0.0.1:PORT)
#   status_stop            SIGTERM it and require a clean exit (ASan builds: no report)
#   sq SQL                 sqlite3 on the index, output in list mode
#   status_need_chromium   fail unless $CHROMIUM (default /usr/bin/chromium) runs
#   chrome ARGS...         one headless Chromium run (--dump-dom URL, --screenshot=F URL);
#                          virtual time lets app.js fetch and draw
#   cdp URL STEP...        drive the page in Chromium: type, click, wait (tests/lib/cdp.py)
STT=$BUILD/tests/tools/statustool
STORETOOL=$BUILD/tests/tools/storetool
DB=$T/data/index.sqlite
STATUS_PID=""
[ -x "$STT" ] || fail "no $STT (make O=... all)"
[ -x "$STORETOOL" ] || fail "no $STORETOOL (make O=... all)"
command -v sqlite3 >/dev/null || fail "sqlite3 CLI missing (scripts/deps.sh)"

status_up() {
	PORT=$(free_port)
	status_config "$1" "$PORT" "$2"
	status_populate "$1"
	status_serve "$1" "$PORT"
	U=http://127.0.0.1:$PORT
}

sq() { sqlite3 -bail -cmd '.timeout 5000' "$DB" "$@"; }

status_config() {
	mkdir -p "$T/store"
	mx_conf "$1" <<CONF
[http]
listen = 127.0.0.1:$2
CONF
	[ -n "${3:-}" ] && echo "token = $3" >> "$1"
	return 0
}

status_populate() {
	_c=$1
	printf 'Subject: one\r\n\r\nfirst body\r\n' > "$T/m1.eml"
	printf 'Subject: two\r\n\r\nsecond body, a little longer\r\n' > "$T/m2.eml"
	ID1=$("$STORETOOL" -c "$_c" commit "$T/m1.eml" --from a@example.org \
	    --rcpt u1@example.test --rcpt u2@example.test) || fail "storetool commit 1"
	QID=$("$STORETOOL" -c "$_c" commit "$T/m2.eml" --from a@example.org \
	    --rcpt bad@quarantine.test) || fail "storetool commit 2"
	"$STORETOOL" -c "$_c" fill 60 >/dev/null || fail "storetool fill"
	_now=$(( $(date +%s) * 1000 ))
	# what the replay worker writes: a 5xx quarantine, attempts; the ingest: counters;
	# serve: samples and control keys.  Message 1 is still in the fallback spool.
	sq "UPDATE messages SET state = 'quarantine' WHERE id = '$QID';
	    UPDATE recipients SET state = 'quarantine', last_code = 550 WHERE message_id = '$QID';
	    UPDATE messages SET location = 1, spool_path = '$T/data/spool/$ID1.eml' WHERE id = '$ID1';
	    INSERT INTO attempts (message_id, rcpt, at_ms, target, code, text) VALUES
	      ('$QID', 'bad@quarantine.test', $_now - 60000, 'primary.test:25', 550,
	       '5.1.1 <bad@quarantine.test>: Recipient address rejected'),
	      ('$ID1', 'u1@example.test', $_now - 50000, 'primary.test:25', 421, '4.3.2 busy'),
	      ('$ID1', 'u1@example.test', $_now - 40000, 'primary.test:25', 421, '4.3.2 busy'),
	      ('$ID1', 'u1@example.test', $_now - 30000, 'lmtp.test:24', 0, 'connect: refused'),
	      ('$ID1', 'u1@example.test', $_now - 20000, 'primary.test:25', 250, '2.0.0 ok'),
	      ('$ID1', 'u1@example.test', $_now - 7200000, 'primary.test:25', 451, 'old');
	    INSERT INTO counters (name, label, value, updated_ms) VALUES
	      ('ingest_accepted', '', 62, $_now), ('ingest_rejected', 'relay', 5, $_now),
	      ('ingest_rejected', 'unknown_user', 3, $_now),
	      ('ingest_rejected', 'we\"ird\\label', 1, $_now),
	      ('storage_errors', 'put', 2, $_now), ('tls_failures', 'ingest', 4, $_now),
	      ('auth_dmarc', 'pass', 40, $_now), ('auth_dmarc', 'fail', 3, $_now),
	      ('auth_dmarc', 'temperror', 1, $_now);
	    INSERT INTO backlog_samples (at_ms, count, bytes, oldest_ms) VALUES
	      ($_now - 7200000, 20, 1000, $_now - 9000000),
	      ($_now - 3600000, 40, 2000, $_now - 9000000), ($_now - 60000, 62, 3000, NULL);
	    INSERT INTO control (key, value, updated_ms) VALUES ('primary_health', 'up', $_now),
	      ('achieved_rate', '3', $_now), ('storage_health', 'ok', $_now);" ||
		fail "populate with sqlite3"
}

status_serve() {
	"$STT" -c "$1" 2>>"$T/statustool.log" &
	STATUS_PID=$!
	cleanup_add "kill $STATUS_PID"
	wait_port "$2" 20 || { cat "$T/statustool.log"; fail "statustool did not listen on $2"; }
}

status_stop() {
	[ -n "$STATUS_PID" ] || return 0
	kill -TERM "$STATUS_PID"
	wait "$STATUS_PID"
	_rc=$?
	STATUS_PID=""
	if [ "$_rc" -ne 0 ] || grep -q "Sanitizer" "$T/statustool.log"; then
		cat "$T/statustool.log"
		fail "statustool exit $_rc"
	fi
}

status_need_chromium() {
	CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
	export CHROMIUM
	[ -x "$CHROMIUM" ] || fail "no $CHROMIUM (Debian package chromium)"
}

chrome() {
	timeout 120 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-quic \
	    --no-first-run --disable-background-networking --disable-component-update \
	    --disable-sync --disable-extensions --user-data-dir="$T/chr" \
	    --force-device-scale-factor=1 --virtual-time-budget=5000 "$@" 2>>"$T/chromium.log"
}

cdp() {
	timeout 180 python3 "$TOP/tests/lib/cdp.py" "$T/cdp" "$@"
}
