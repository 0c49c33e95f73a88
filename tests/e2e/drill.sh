#!/bin/bash
# drill.sh - `mxspool-replay drill` against a real mxspool-ingest (STARTTLS, file
# store) and Postfix smtp-sink as the primary: the canary gets 250, an unknown
# recipient 550 5.1.1, a foreign domain 554 5.7.1; the canary is found in the
# index and the store with its bytes intact, --deliver replays it to the sink
# (which keeps a copy with the X-Mxspool-Drill header), and nothing of it stays
# in the index or the store.  A gateway that accepts unknown recipients
# (catchall) and one without a recipient list entry for the canary make the
# drill fail, for that reason.  With serve running, the canary's row is marked and
# held already when its 250 leaves the gateway (a proxy reads the row at that moment).
. "$(dirname "$0")/../lib/common.sh"
. "$TOP/tests/lib/ingest.sh"
command -v smtp-sink >/dev/null || fail "no smtp-sink"

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 30 \
	-subj /CN=mx2.example.com -keyout "$T/key.pem" -out "$T/cert.pem" 2>/dev/null ||
	fail "openssl req"
SINK=$(free_port)
chmod 711 "$T"	# smtp-sink drops to nobody
mkdir -m 777 -p "$T/sink"
smtp-sink -u nobody -d "$T/sink/m." 127.0.0.1:"$SINK" 10 2>>"$T/sink.log" &
cleanup_add "kill $!"
wait_port "$SINK" 10 || fail "smtp-sink did not start"

INGEST_HOSTNAME=mx2.example.com INGEST_DOMAIN=example.com
gateway() {	# gateway NAME [DOMAIN-LINES]: an ingest and its config $T/NAME.conf
	mkdir -p "$T/$1"
	printf 'postmaster@example.com\nalice@example.com\n' > "$T/$1/rcpts"
	INGEST_RCPTS=$T/$1/rcpts INGEST_ROUTE=smtp://127.0.0.1:$SINK ingest_gateway "$1" \
		"tls_cert = $T/cert.pem
tls_key = $T/key.pem" "${2:-}
[deliver]
tls = opportunistic
tls_verify = no"
}
gateway good
"$REPLAY" -c "$T/good.conf" drill --deliver > "$T/out" 2>&1
rc=$?
cat "$T/out" | sed 's/^/    /'
[ "$rc" = 0 ] || fail "drill on a good gateway: exit $rc"
for p in '^PASS .* STARTTLS: TLSv1' \
	'^PASS .* unknown recipient <mxspool-drill-nobody-[0-9a-f]*@example.com>: 550 5\.1\.1' \
	'^PASS .* foreign domain <drill@mxspool-drill-[0-9a-f]*\.invalid>: 554 5\.7\.1' \
	'^PASS .* canary <postmaster@example.com>: 250 ' \
	'^PASS .* indexed (marked drill, held) and stored intact' \
	'^PASS .* --deliver: smtp://127.0.0.1:[0-9]* accepted the canary' \
	'^PASS .* purged (object and index row)' 'passed$'; do
	grep -q -- "$p" "$T/out" || fail "missing /$p/"
done
ok "good gateway: every step PASS, exit 0"
TAG=$(sed -n 's/^drill \([0-9a-f]*\): canary.*/\1/p' "$T/out")
wait_for "grep -l 'X-Mxspool-Drill: $TAG' $T/sink/m.*" 10 || fail "the sink never got the canary"
ok "the primary (smtp-sink) received the canary with X-Mxspool-Drill: $TAG"
[ -z "$(find "$T/good/store" -name '*.eml')" ] || fail "canary object left in the store"
n=$(sqlite3 "$T/good/index.sqlite" "SELECT count(*) FROM messages")
[ "$n" = 0 ] || fail "$n rows left in the index"
[ "$(sqlite3 "$T/good/index.sqlite" 'PRAGMA user_version')" -ge 7 ] || fail "schema < 7"
ok "nothing of the canary left in the index or the store"

# a real message stays, and is not confused with the canary
swaks --server 127.0.0.1:"$PORT_good" --to alice@example.com --from bob@example.org \
	--header 'Subject: real' >/dev/null 2>&1 || fail "swaks"
"$REPLAY" -c "$T/good.conf" drill --gateway 127.0.0.1:"$PORT_good" > "$T/out2" 2>&1 ||
	{ cat "$T/out2"; fail "second drill"; }
[ "$(sqlite3 "$T/good/index.sqlite" 'SELECT count(*) FROM messages WHERE drill = 0')" = 1 ] ||
	fail "the real message is gone"
[ "$(sqlite3 "$T/good/index.sqlite" 'SELECT count(*) FROM messages WHERE drill <> 0')" = 0 ] ||
	fail "a canary row stayed"
ok "--gateway: passes; the real message stays, unmarked"

# serve running (not paused, delivering to the sink): the canary's row is held from the
# moment the ingest commits it, so serve can never lease it.  A proxy between the drill
# and the gateway reads the canary's row when the gateway's 250 passes through, before
# the drill sees it (it hides STARTTLS to read the replies): the row must already be
# marked and held (the mark came after the 250 before: a window for serve)
cat > "$T/proxy.py" <<'PY'
import re, socket, sqlite3, sys, threading
lport, gport, db, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
def pump(src, dst, replies):
    buf = b""
    while True:
        data = src.recv(65536)
        if not data:
            break
        if not replies:
            dst.sendall(data)
            continue
        buf += data
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            line = line.replace(b"STARTTLS", b"NOTLS")
            m = re.match(rb"250 .*queued as (\S+)", line)
            if m:
                c = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=10)
                row = c.execute("SELECT drill, state FROM messages WHERE id = ?",
                                (m.group(1).decode(),)).fetchone()
                c.close()
                with open(out, "a") as f:
                    f.write("%s %s %s\n" % (m.group(1).decode(), *(row or ("-", "-"))))
            dst.sendall(line + b"\n")
    dst.close()
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", lport))
s.listen(8)
while True:
    c, _ = s.accept()
    g = socket.create_connection(("127.0.0.1", gport))
    threading.Thread(target=pump, args=(c, g, False), daemon=True).start()
    threading.Thread(target=pump, args=(g, c, True), daemon=True).start()
PY
PX=$(free_port)
python3 "$T/proxy.py" "$PX" "$PORT_good" "$T/good/index.sqlite" "$T/seen" 2>"$T/proxy.log" &
cleanup_add "kill $!"
wait_port "$PX" 10 || fail "the proxy did not start"
"$REPLAY" -c "$T/good.conf" serve >> "$T/serve.log" 2>&1 &
SERVE=$!
cleanup_add "kill $SERVE 2>/dev/null"
swaks --server 127.0.0.1:"$PORT_good" --to alice@example.com --from bob@example.org \
	--header 'Subject: real while serving' >/dev/null 2>&1 || fail "swaks"
wait_for "grep -l 'Subject: real while serving' $T/sink/m.*" 30 ||
	{ tail "$T/serve.log"; fail "serve did not deliver a real message"; }
"$REPLAY" -c "$T/good.conf" drill --gateway 127.0.0.1:"$PX" > "$T/out6" 2>&1 ||
	{ cat "$T/out6"; fail "drill with serve running"; }
TAG6=$(sed -n 's/^drill \([0-9a-f]*\): canary.*/\1/p' "$T/out6")
ID6=$(sed -n 's/.*canary <[^>]*>: 250 .*queued as \([^ ]*\).*/\1/p' "$T/out6")
[ -n "$ID6" ] || { cat "$T/out6"; fail "no canary id"; }
grep -qx "$ID6 1 hold" "$T/seen" ||
	fail "at its 250 the canary row was '$(grep "^$ID6 " "$T/seen")', want '1 hold' (serve could lease it)"
grep -q "^PASS .* canary $ID6: marked a drill canary and held by the ingest" "$T/out6" ||
	{ cat "$T/out6"; fail "no 'marked by the ingest' line"; }
ok "serve running: the canary row was marked and held when its 250 left the gateway"
kill "$SERVE"; wait "$SERVE" 2>/dev/null
if grep -l "X-Mxspool-Drill: $TAG6" "$T"/sink/m.* 2>/dev/null; then
	fail "serve delivered the canary to the primary"
fi
[ "$(sqlite3 "$T/good/index.sqlite" "SELECT count(*) FROM control WHERE key LIKE 'drill_canary:%'")" = 0 ] ||
	fail "a drill registration stayed in the control table"
ok "serve never delivered the canary; no drill registration left"
# a sender cannot make mail a canary: a drill-like ENVID without the drill's registration
python3 -c "import smtplib; s = smtplib.SMTP('127.0.0.1', $PORT_good); s.sendmail(
'bob@example.org', ['alice@example.com'], b'Subject: forged\r\n\r\nx\r\n',
mail_options=['ENVID=mxspool-drill-' + 'ab' * 16]); s.quit()" || fail "smtplib"
[ "$(sqlite3 "$T/good/index.sqlite" "SELECT drill || ' ' || state FROM messages WHERE
	mail_params LIKE '%ENVID=mxspool-drill-abab%'")" = "0 queued" ] ||
	fail "a forged drill ENVID was marked: $(sqlite3 "$T/good/index.sqlite" \
	'SELECT id, drill, state, mail_params FROM messages')"
ok "a sender's drill-like ENVID without a registration stays real mail (queued, unmarked)"

# a catchall gateway accepts the unknown recipient: FAIL
gateway catchall "catchall = yes"
"$REPLAY" -c "$T/catchall.conf" drill > "$T/out3" 2>&1
rc=$?
sed 's/^/    /' "$T/out3"
[ "$rc" = 1 ] || fail "catchall: exit $rc, want 1"
grep -q '^FAIL .* unknown recipient <mxspool-drill-nobody-.*>: 250 .*(want 5\.1\.1)' "$T/out3" ||
	fail "catchall: no FAIL line for the unknown recipient"
grep -q 'FAILED$' "$T/out3" || fail "catchall: summary"
ok "catchall gateway: FAIL, exit 1"

# a canary the gateway does not know: 550 for it, FAIL
"$REPLAY" -c "$T/good.conf" drill --canary nobody@example.com > "$T/out4" 2>&1
rc=$?
[ "$rc" = 1 ] || fail "unknown canary: exit $rc"
grep -q '^FAIL .* canary <nobody@example.com>: 550' "$T/out4" || { cat "$T/out4"; fail "out4"; }
# nothing listens there
P=$(free_port)
"$REPLAY" -c "$T/good.conf" drill --gateway 127.0.0.1:"$P" > "$T/out5" 2>&1
[ $? = 1 ] && grep -q "^FAIL  127.0.0.1:$P .*connect" "$T/out5" || { cat "$T/out5"; fail "out5"; }
ok "unknown canary and a gateway down: FAIL, exit 1"
