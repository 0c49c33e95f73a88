#!/bin/bash
# ingest_smtp.sh - mxspool-ingest with real clients and a file store:
#   python3 smtplib plain and STARTTLS (self-signed certificate made here),
#   stored bytes = our Received: header + exactly the bytes sent (cmp),
#   swaks plain and --tls, openssl s_client -starttls smtp,
#   STARTTLS command injection (plaintext after STARTTLS is never executed),
#   idle timeout (421 4.4.2), per-command deadline (a command sent one byte a second:
#   421 4.4.2 before it ends), /healthz, SIGHUP reload (new recipient, old
#   session kept, bad config refused), SIGTERM grace (a transaction in flight
#   finishes, idle sessions get 421 4.3.2), counters in the index, SMTPUTF8
#   recipients with internationalised domains (U-labels and A-labels).
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/ingest.sh"

[ -x "$INGEST" ] || fail "no $INGEST (build first)"
STORETOOL=$BUILD/tests/tools/storetool
PORT=$(free_port); HPORT=$(free_port); PORT6=$(free_port)
mkdir -p "$T/run"
printf 'postmaster\nalice\n' > "$T/run/rcpts"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/key.pem" -out "$T/cert.pem" \
	-days 2 -subj /CN=mx.test >/dev/null 2>&1 || fail "openssl req"
write_conf() {	# EXTRA-LINE
	ingest_conf "$T/ingest.conf" "127.0.0.1:$PORT, [::1]:$PORT6" "health_listen = 127.0.0.1:$HPORT
timeout = 3s
command_deadline = 2s
shutdown_grace = 20s
counters_interval = 1s
tls_cert = $T/cert.pem
tls_key = $T/key.pem
$1" "[domain bücher.example]
recipients = $T/run/rcpts"
}
write_conf ""
ingest_start "$T/ingest.conf" "$PORT"
IPID=$INGEST_PID
"$INGEST" -t -c "$T/ingest.conf" >/dev/null || fail "-t rejects a good config"

stored_file() { ingest_stored_file "$T/ingest.conf" "$1"; }

# --- smtplib, plain and STARTTLS; byte-exact storage
cat > "$T/send.py" <<'PY'
import smtplib, ssl, sys
port, tls, out = int(sys.argv[1]), sys.argv[2] == "tls", sys.argv[3]
body = (b"From: Bob <bob@other.test>\r\nTo: alice@example.test\r\nSubject: bytes\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\n\r\n"
        b"line one\r\n.leading dot\r\n..two dots\r\n\xc3\xa9t\xc3\xa9 8bit\r\n"
        b"trailing space \r\n\tTAB\r\n" + b"x" * 990 + b"\r\n\r\n")
s = smtplib.SMTP("127.0.0.1", port, timeout=30)
s.ehlo("client.test")
if tls:
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    s.starttls(context=ctx)
    s.ehlo("client.test")
code, msg = s.mail("bob@other.test", ["BODY=8BITMIME", "SIZE=%d" % len(body)])
assert code == 250, (code, msg)
code, msg = s.rcpt("alice@example.test", ["NOTIFY=FAILURE", "ORCPT=rfc822;alice@example.test"])
assert code == 250, (code, msg)
code, msg = s.data(body)
assert code == 250, (code, msg)
s.quit()
open(out + ".sent", "wb").write(body)
print(msg.decode().split("queued as ")[1])
PY
for mode in plain tls; do
	id=$(python3 "$T/send.py" "$PORT" "$mode" "$T/$mode") || fail "smtplib $mode"
	f=$(stored_file "$id") || fail "$mode: $id not in the index"
	[ -f "$f" ] || fail "$mode: no object $f"
	# strip our Received: header (first line + its continuation lines) and compare
	python3 "$TOP/tests/lib/stored_body.py" "$f" "$T/$mode.sent" \
		"Received: from client.test ([127.0.0.1])"$'\r\n' || fail "$mode: stored bytes differ"
	ok "smtplib $mode: $id stored as Received + the exact bytes sent"
done
f=$(stored_file "$id")
head -4 "$f" | grep -q "(using TLSv1\.[23] " || fail "no TLS comment in Received"
head -4 "$f" | grep -q "with ESMTPS id $id" || fail "no ESMTPS in Received"
"$STORETOOL" -c "$T/ingest.conf" show "$id" | grep -q '"params":"NOTIFY=FAILURE ORCPT=rfc822;alice@example.test"' \
	|| fail "DSN rcpt params not kept"
"$STORETOOL" -c "$T/ingest.conf" show "$id" | grep -q '"mail_params":"BODY=8BITMIME SIZE=' \
	|| fail "mail params not kept"
ok "Received names TLS version/cipher and ESMTPS; DSN params kept in the envelope"

# --- IPv6 listener
python3 - "$PORT6" <<'PY' || fail "IPv6"
import smtplib, sys
s = smtplib.SMTP("::1", int(sys.argv[1]), timeout=30)
s.ehlo("v6.test")
s.sendmail("bob@other.test", ["alice@example.test"], b"Subject: v6\r\n\r\nhi\r\n")
s.quit()
PY
grep -q "ingest connect addr=::1 " "$T/ingest.log" || fail "no IPv6 session logged"
ok "IPv6 listener [::1]"

# --- SMTPUTF8 and internationalised domains: [domain bücher.example] is also
# xn--bcher-kva.example, and a U-label RCPT in any case finds it
python3 - "$PORT" <<'PY' || fail "SMTPUTF8 / IDN"
import smtplib, sys
s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=30)
s.ehlo("utf8.test")
assert s.has_extn("smtputf8"), s.esmtp_features
code, msg = s.mail("böb@other.test", ["SMTPUTF8", "BODY=8BITMIME"])
assert code == 250, (code, msg)
code, msg = s.rcpt("alice@BÜCHER.example")
assert code == 250, (code, msg)
code, msg = s.rcpt("carol@bücher.example")
assert code == 550 and msg.startswith(b"5.1.1"), (code, msg)
code, msg = s.rcpt("alice@bücher.other")
assert code == 554 and msg.startswith(b"5.7.1"), (code, msg)
code, msg = s.data("Subject: grüße\r\n\r\nhi\r\n".encode())
assert code == 250, (code, msg)
s.rset()
s.command_encoding = "ascii"
code, msg = s.mail("bob@other.test")
assert code == 250, (code, msg)
code, msg = s.rcpt("postmaster@xn--bcher-kva.example")
assert code == 250, (code, msg)
s.quit()
PY
ok "SMTPUTF8: RCPT to a U-label domain (any case) 250 / unknown 550 5.1.1 / other domain 554; A-label form 250"

# --- swaks plain and TLS
for opt in "" "--tls"; do
	swaks --server 127.0.0.1:"$PORT" --helo swaks.test --from bob@other.test \
		--to alice@example.test $opt --timeout 20 > "$T/swaks.out" 2>&1 \
		|| { cat "$T/swaks.out"; fail "swaks $opt"; }
	grep -Eq "<[-~]  250 2.0.0 Ok: queued as " "$T/swaks.out" || fail "swaks $opt: no queued"
	[ -z "$opt" ] || grep -q "TLS started" "$T/swaks.out" || fail "swaks: no TLS"
done
ok "swaks plain and --tls"

# --- openssl s_client -starttls smtp
{ sleep 1; printf 'EHLO sclient.test\n'; sleep 0.5; printf 'MAIL FROM:<bob@other.test>\n'
  sleep 0.3; printf 'RCPT TO:<postmaster@example.test>\n'; sleep 0.3; printf 'DATA\n'
  sleep 0.3; printf 'Subject: s_client\n\nhello\n.\n'; sleep 1; printf 'QUIT\n'
  sleep 0.5; } | timeout 30 openssl s_client -starttls smtp -connect 127.0.0.1:"$PORT" \
	-crlf -quiet > "$T/sclient.out" 2>&1
grep -q "^250 2.0.0 Ok: queued as " "$T/sclient.out" || { cat "$T/sclient.out"; fail "s_client"; }
ok "openssl s_client -starttls smtp"

# --- STARTTLS command injection: plaintext after STARTTLS is dropped
python3 - "$PORT" <<'PY' || fail "STARTTLS injection"
import socket, ssl, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=20)
f = s.makefile("rb")
def reply(f):
    lines = []
    while True:
        l = f.readline().decode()
        lines.append(l.strip())
        if len(l) < 4 or l[3] != "-":
            return lines
assert reply(f)[0].startswith("220")
s.sendall(b"EHLO inj.test\r\n"); reply(f)
s.sendall(b"STARTTLS\r\nMAIL FROM:<evil@other.test>\r\nRCPT TO:<alice@example.test>\r\n")
r = reply(f)
assert r[0].startswith("220 2.0.0"), r
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
t = ctx.wrap_socket(s, server_hostname="mx.test")
g = t.makefile("rb")
t.sendall(b"EHLO inj.test\r\n")
r = reply(g)
assert r[0] == "250-mx.test" and "250-STARTTLS" not in r, r
t.sendall(b"RCPT TO:<alice@example.test>\r\n")
r = reply(g)
assert r[0].startswith("503 5.5.1"), ("injected MAIL was executed", r)
t.sendall(b"QUIT\r\n"); reply(g)
PY
grep -q "ingest starttls_injection" "$T/ingest.log" || fail "injection not logged"
ok "STARTTLS injection: injected MAIL/RCPT not executed after the handshake"

# --- idle timeout (timeout = 3s): 421 4.4.2, then closed
python3 - "$PORT" <<'PY' || fail "idle timeout"
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=60)
f = s.makefile("rb")
assert f.readline().startswith(b"220")
s.sendall(b"HELO idle.test\r\n"); assert f.readline().startswith(b"250")
l = f.readline()
assert l.startswith(b"421 4.4.2 mx.test Error: timeout exceeded"), l
assert f.readline() == b""
PY
ok "idle client gets 421 4.4.2 after the configured timeout"

# --- per-command deadline (command_deadline = 2s): "NOOP\r\n" one byte a second, each
# byte within the 3s idle timeout, never completes (without the deadline: 250 after 5s)
python3 - "$PORT" <<'PY' || fail "command deadline"
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=60)
f = s.makefile("rb")
assert f.readline().startswith(b"220")
try:
    for b in b"NOOP\r\n":
        s.sendall(bytes([b]))
        time.sleep(1)
except (BrokenPipeError, ConnectionResetError):
    pass
l = f.readline()
assert l.startswith(b"421 4.4.2 mx.test Error: timeout exceeded"), l
assert f.readline() == b""
PY
ok "a command trickled one byte a second gets 421 4.4.2 at command_deadline"

# --- health
code=$(curl -s -o "$T/h.out" -w '%{http_code}' "http://127.0.0.1:$HPORT/healthz")
[ "$code" = 200 ] || fail "healthz: $code $(cat "$T/h.out")"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$HPORT/other")
[ "$code" = 404 ] || fail "healthz other path: $code"
ok "/healthz 200"

# --- SIGHUP reload: a session open across the reload keeps working; new recipient visible
exec 7<>/dev/tcp/127.0.0.1/"$PORT"
read -r -t 10 banner <&7 || fail "no banner"
printf 'dave\n' >> "$T/run/rcpts"
kill -HUP "$IPID"
wait_for "grep -q 'ingest reload ok' '$T/ingest.log'" 20 || fail "reload not logged"
printf 'NOOP\r\n' >&7; read -r -t 10 l <&7; case "$l" in "250 2.0.0"*) ;; *) fail "old session: $l";; esac
exec 7>&-
swaks --server 127.0.0.1:"$PORT" --from bob@other.test --to dave@example.test \
	--timeout 20 > "$T/swaks.out" 2>&1 || { cat "$T/swaks.out"; fail "reloaded recipient"; }
write_conf "max_recipients = banana"
kill -HUP "$IPID"
wait_for "grep -q 'ingest reload refused' '$T/ingest.log'" 20 || fail "bad reload not refused"
kill -0 "$IPID" || fail "ingest died on a bad reload"
swaks --server 127.0.0.1:"$PORT" --from bob@other.test --to dave@example.test \
	--timeout 20 > "$T/swaks.out" 2>&1 || fail "after refused reload"
write_conf ""
ok "SIGHUP reload: new recipient, old session alive, bad config refused and kept running"

# --- SIGTERM: a transaction in flight finishes; an idle session gets 421 4.3.2
python3 - "$PORT" "$IPID" <<'PY' || fail "graceful shutdown"
import os, signal, socket, sys, time
port, pid = int(sys.argv[1]), int(sys.argv[2])
def conn():
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    f = s.makefile("rb"); assert f.readline().startswith(b"220")
    s.sendall(b"HELO g.test\r\n"); assert f.readline().startswith(b"250")
    return s, f
idle, fi = conn()
busy, fb = conn()
busy.sendall(b"MAIL FROM:<bob@other.test>\r\n"); assert fb.readline().startswith(b"250")
busy.sendall(b"RCPT TO:<alice@example.test>\r\n"); assert fb.readline().startswith(b"250")
busy.sendall(b"DATA\r\n"); assert fb.readline().startswith(b"354")
busy.sendall(b"Subject: in flight\r\n\r\nfirst half\r\n")
os.kill(pid, signal.SIGTERM)
l = fi.readline()
assert l.startswith(b"421 4.3.2"), l
# the listener is closed: new clients are refused
try:
    socket.create_connection(("127.0.0.1", port), timeout=5).recv(10)
    raise SystemExit("still accepting")
except (ConnectionRefusedError, ConnectionResetError):
    pass
busy.sendall(b"second half\r\n.\r\n")
l = fb.readline()
assert l.startswith(b"250 2.0.0 Ok: queued as"), l
l = fb.readline()
assert l.startswith(b"421 4.3.2"), l
PY
wait_for "! kill -0 $IPID" 30 || fail "ingest did not exit after SIGTERM"
grep -q "ingest stopped" "$T/ingest.log" || fail "no clean stop"
no_sanitizer "$T/ingest.log" "the ingest log"
ok "SIGTERM: in-flight transaction finished (250), idle session 421 4.3.2, clean exit"

n=$(sqlite3 "$T/run/index.sqlite" "SELECT value FROM counters WHERE name='ingest_accepted' AND label=''")
[ "${n:-0}" -ge 7 ] || fail "accepted counter: ${n:-none}"
ok "counters flushed to the index (accepted=$n)"
