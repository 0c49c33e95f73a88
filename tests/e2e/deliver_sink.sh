#!/bin/bash
# deliver_sink.sh - the replay delivery client against Postfix smtp-sink as the primary.
#
# Normal delivery (bytes compared with smtp-sink's per-message dump, which turns CRLF
# into LF, undoes the dot-stuffing and prepends X-*/Received lines), connection reuse,
# parameters only where advertised (DSN, 8BITMIME), IPv6 and unix sockets, a socket
# connected to itself (nothing listening), AUTH only after TLS, SMTPUTF8 need, HELO
# fallback, and faults: 421 greeting, 421/4xx/5xx per command, a drop after the final
# dot, a stall with a short timeout.  Last, a real SMTP STARTTLS peer: mxspool-ingest
# (verified certificate, per-rcpt 250/550, stored bytes).
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/ingest.sh"
DT=$BUILD/tests/tools/delivertool
[ -x "$DT" ] || fail "no $DT (make O=... all)"
command -v smtp-sink >/dev/null || fail "no smtp-sink"
chmod 711 "$T"

SINKPID=
# sink NAME ARGS... - (re)start smtp-sink on a fresh port, dumping to $T/NAME/
sink() {
	name=$1; shift
	[ -n "$SINKPID" ] && kill "$SINKPID" 2>/dev/null && wait "$SINKPID" 2>/dev/null
	mkdir -m 777 -p "$T/$name"
	PORT=$(free_port)
	smtp-sink -u nobody -d "$T/$name/m." "$@" 127.0.0.1:"$PORT" 10 2>>"$T/sink.log" &
	SINKPID=$!
	wait_port "$PORT" 10 || fail "smtp-sink did not start ($name)"
}
cleanup_add '[ -n "$SINKPID" ] && kill $SINKPID'

# same_as_dump SRC DUMP - the dump, minus smtp-sink's headers, equals SRC as LF text
same_as_dump() {
	python3 - "$1" "$2" <<'PY'
import sys
src = open(sys.argv[1], 'rb').read().replace(b'\r\n', b'\n')
if not src.endswith(b'\n'):
    src += b'\n'
lines = open(sys.argv[2], 'rb').read().split(b'\n')
i = next(k for k, l in enumerate(lines) if l.startswith(b'Received: from '))
got = b'\n'.join(lines[i + 3:])
sys.exit(0 if got == src + b'\n' else 1)
PY
}

# the message: dot lines, an 8-bit line, a long line, no final CRLF
{
	printf 'From: Alice <alice@example.test>\r\nTo: bob@example.test\r\n'
	printf 'Subject: replay test\r\nMessage-ID: <t1@example.test>\r\n\r\n'
	printf '.starts with a dot\r\n..two dots\r\n.\r\n'
	printf 'caf\xc3\xa9 8-bit\r\n'
	head -c 3000 /dev/zero | tr '\0' 'x'; printf '\r\n'
	for i in $(seq 1 2000); do printf 'line %d of a longer body to span chunks\r\n' "$i"; done
	printf 'last line without CRLF'
} > "$T/msg.eml"

# 1. normal delivery, twice over one connection (RSET between), DSN params passed on
sink ok
"$DT" --to smtp://127.0.0.1:"$PORT" --from sender@example.test \
	--rcpt 'bob@example.test NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;bob@example.test' \
	--rcpt carol@example.test --params 'BODY=8BITMIME RET=HDRS ENVID=e1' --repeat 2 \
	"$T/msg.eml" > "$T/out1" 2> "$T/err1" || fail "normal delivery: $(cat "$T/err1")"
[ "$(grep -c ' 250 2.0.0 ' "$T/out1")" = 4 ] || fail "want 4 x 250: $(cat "$T/out1")"
grep -q '^usable 1' "$T/err1" || fail "connection not reusable after 2 sends"
wait_for "[ \$(ls $T/ok | wc -l) = 2 ]" 10 || fail "want 2 dumps, got $(ls "$T/ok")"
for f in "$T"/ok/m.*; do
	same_as_dump "$T/msg.eml" "$f" || fail "delivered bytes differ from the source ($f)"
	grep -qx 'X-Mail-Args: <sender@example.test> BODY=8BITMIME RET=HDRS ENVID=e1' "$f" ||
		fail "MAIL args: $(grep X-Mail-Args "$f")"
	want='X-Rcpt-Args: <bob@example.test> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;bob@example.test'
	grep -qx "$want" "$f" || fail "RCPT args: $(grep X-Rcpt-Args "$f")"
done
ok "2 messages over one connection, bytes identical, DSN/BODY params passed on"

# 2. no DSN, no 8BITMIME advertised: those parameters are not sent
sink nodsn -N -8
"$DT" --to smtp://127.0.0.1:"$PORT" --from sender@example.test \
	--rcpt 'bob@example.test NOTIFY=NEVER' --params 'BODY=8BITMIME RET=FULL' \
	"$T/msg.eml" > "$T/out2" 2>&1 || fail "nodsn: $(cat "$T/out2")"
wait_for "ls $T/nodsn/m.*" 10 || fail "no dump (nodsn)"
grep -qx 'X-Mail-Args: <sender@example.test>' "$T"/nodsn/m.* ||
	fail "params sent without DSN/8BITMIME"
grep -qx 'X-Rcpt-Args: <bob@example.test>' "$T"/nodsn/m.* || fail "NOTIFY sent without DSN"
ok "parameters only where the primary advertised them"

# 2b. no ESMTP at all: HELO after the EHLO refusal, plain MAIL/RCPT
sink noesmtp -e
"$DT" --to smtp://127.0.0.1:"$PORT" --from sender@example.test \
	--rcpt 'bob@example.test NOTIFY=NEVER' --params 'BODY=8BITMIME' \
	"$T/msg.eml" > "$T/out2b" 2>&1 || fail "HELO fallback: $(cat "$T/out2b")"
wait_for "ls $T/noesmtp/m.*" 10 || fail "no dump (noesmtp)"
grep -qx 'X-Client-Proto: SMTP' "$T"/noesmtp/m.* &&
	grep -qx 'X-Mail-Args: <sender@example.test>' "$T"/noesmtp/m.* &&
	same_as_dump "$T/msg.eml" "$(ls "$T"/noesmtp/m.* | head -1)" || fail "HELO fallback dump"
ok "EHLO refused -> HELO, no parameters"

# 3. IPv6 loopback and a unix socket
if python3 -c 'import socket; s=socket.socket(socket.AF_INET6); s.bind(("::1",0))' 2>/dev/null; then
	kill "$SINKPID"; wait "$SINKPID" 2>/dev/null
	mkdir -m 777 -p "$T/v6"; PORT=$(free_port)
	smtp-sink -u nobody -d "$T/v6/m." "[::1]:$PORT" 10 2>>"$T/sink.log" & SINKPID=$!
	wait_for "$DT --to 'smtp://[::1]:$PORT' --from a@example.test --rcpt b@example.test \
		$T/msg.eml" 10 ||
		fail "IPv6 delivery"
	ok "IPv6 [::1]"
fi
kill "$SINKPID"; wait "$SINKPID" 2>/dev/null
mkdir -m 777 -p "$T/unix"
smtp-sink -u nobody -d "$T/unix/m." "unix:$T/unix/sock" 10 2>>"$T/sink.log" & SINKPID=$!
wait_for "[ -S $T/unix/sock ]" 10 || fail "unix smtp-sink"
chmod 777 "$T/unix/sock" 2>/dev/null
"$DT" --to "smtp:unix:$T/unix/sock" --from a@example.test --rcpt b@example.test "$T/msg.eml" \
	> "$T/out3" 2>&1 || fail "unix socket: $(cat "$T/out3")"
grep -q '^b@example.test 250 ' "$T/out3" || fail "unix socket: $(cat "$T/out3")"
wait_for "ls $T/unix/m.*" 10 && same_as_dump "$T/msg.eml" "$(ls "$T"/unix/m.* | head -1)" ||
	fail "unix socket bytes differ"
ok "unix socket"

# Nothing listening on a loopback port that the kernel may also pick as the
# local port: TCP's simultaneous open then "connects" the socket to itself.
# Made certain in a network namespace of our own whose only ephemeral port is
# that one.  It must fail at once as refused, not wait out the greeting.
SELF=$(free_port)
unshare -n sh -c "ip link set lo up &&
	sysctl -qw net.ipv4.ip_local_port_range='$SELF $SELF' &&
	exec '$DT' --to smtp://127.0.0.1:$SELF --from a@example.test --rcpt b@example.test \
		--timeout 30 '$T/msg.eml'" > "$T/out3s" 2>&1
rc=$?
[ $rc = 75 ] && grep -q 'Connection refused (the socket connected to itself' "$T/out3s" ||
	fail "self-connect: exit $rc: $(cat "$T/out3s")"
ok "a connect to itself (nothing listening) is refused at once"

# run EXPECTED_RC ARGS... - run delivertool against the current sink into $T/out
run() {
	want=$1; shift
	"$DT" --to smtp://127.0.0.1:"$PORT" --from sender@example.test "$@" > "$T/out" 2>&1
	rc=$?
	[ "$rc" = "$want" ] || fail "delivertool $*: exit $rc, want $want: $(cat "$T/out")"
}

# 4. faults
sink greet421 -Q CONNECT
run 75 --rcpt bob@example.test "$T/msg.eml"
grep -q 'code=421' "$T/out" || fail "421 greeting: $(cat "$T/out")"
ok "421 greeting -> tempfail, code 421"

sink mail4xx -r MAIL
run 75 --rcpt bob@example.test --rcpt carol@example.test "$T/msg.eml"
[ "$(grep -c '^[a-z]*@example.test 450 4.3.0 ' "$T/out")" = 2 ] || fail "MAIL 4xx: $(cat "$T/out")"
ok "MAIL 450 -> tempfail, every rcpt 450"

sink mail5xx -f MAIL
run 0 --rcpt bob@example.test "$T/msg.eml"
grep -q '^bob@example.test 500 5.3.0' "$T/out" && grep -q 'status permfail' "$T/out" ||
	fail "MAIL 5xx: $(cat "$T/out")"
ok "MAIL 500 -> permfail"

sink rcpt5xx -f RCPT
run 0 --rcpt bob@example.test --rcpt carol@example.test "$T/msg.eml"
[ "$(grep -c '^[a-z]*@example.test 500 5.3.0 ' "$T/out")" = 2 ] && grep -q 'status ok' "$T/out" ||
	fail "RCPT 5xx: $(cat "$T/out")"
sleep 0.2; [ -z "$(ls "$T/rcpt5xx")" ] || fail "a message was delivered with no recipient"
ok "every RCPT refused -> no DATA, each rcpt has its 500"

sink rcpt421 -Q RCPT
run 75 --rcpt bob@example.test --rcpt carol@example.test "$T/msg.eml"
grep -q '^bob@example.test 421 4.0.0 ' "$T/out" && grep -q '^carol@example.test 0 - ' "$T/out" &&
	grep -q '^usable 0' "$T/out" || fail "421 to RCPT: $(cat "$T/out")"
ok "421 to RCPT -> tempfail, that rcpt 421, the next without a reply, connection closed"

sink data4xx -r DATA
run 75 --rcpt bob@example.test "$T/msg.eml"
grep -q '^bob@example.test 450 4.3.0' "$T/out" || fail "DATA 4xx: $(cat "$T/out")"
ok "DATA 450 -> tempfail"

sink dot5xx -f .
run 0 --rcpt bob@example.test --rcpt carol@example.test "$T/msg.eml"
[ "$(grep -c '^[a-z]*@example.test 500 5.3.0 ' "$T/out")" = 2 ] ||
	fail "end-of-data 5xx: $(cat "$T/out")"
ok "end-of-data 500 applies to every accepted rcpt"

sink drop -q .
run 75 --rcpt bob@example.test "$T/msg.eml"
grep -q '^bob@example.test 0 - ' "$T/out" && grep -q 'end of data: connection closed' "$T/out" ||
	fail "drop after dot: $(cat "$T/out")"
ok "connection dropped after the dot -> tempfail, rcpt code 0 (retried)"

sink stall -w 30
run 75 --timeout 1 --rcpt bob@example.test "$T/msg.eml"
grep -q 'DATA: timeout' "$T/out" || fail "stall: $(cat "$T/out")"
ok "stalled DATA reply with a 1 s command timeout -> tempfail"

# 5. AUTH only after TLS unless allowed; SMTPUTF8 needed but not offered
sink auth
printf '[deliver]\ntls = none\nauth_user = u\nauth_password = env:H4_PW\n' > "$T/auth.conf"
H4_PW=secret run 75 -c "$T/auth.conf" --rcpt bob@example.test "$T/msg.eml"
grep -q 'AUTH refused without TLS' "$T/out" || fail "AUTH in plaintext: $(cat "$T/out")"
printf 'auth_plaintext = yes\n' >> "$T/auth.conf"
# smtp-sink answers AUTH with 250, not 235 (RFC 4954 4): attempted, and refused as invalid
H4_PW=secret run 75 -c "$T/auth.conf" --rcpt bob@example.test "$T/msg.eml"
grep -q 'AUTH: 250 2.0.0 Ok' "$T/out" || fail "AUTH with auth_plaintext: $(cat "$T/out")"
grep -q secret "$T/out" && fail "the password was printed"
ok "AUTH refused in plaintext by default; attempted with auth_plaintext = yes (235 required)"

printf 'Subject: \xc3\xa9t\xc3\xa9\r\n\r\nbody\r\n' > "$T/utf8.eml"
run 0 --params SMTPUTF8 --rcpt bob@example.test "$T/utf8.eml"
grep -q '^bob@example.test 550 5.6.7 ' "$T/out" && grep -q 'status permfail' "$T/out" ||
	fail "SMTPUTF8: $(cat "$T/out")"
printf 'Subject: ascii\r\n\r\nbody\r\n' > "$T/ascii.eml"
run 0 --params SMTPUTF8 --rcpt bob@example.test "$T/ascii.eml"
grep -q '^bob@example.test 250 ' "$T/out" || fail "SMTPUTF8 not needed: $(cat "$T/out")"
ok "SMTPUTF8 needed and not offered -> 550 5.6.7; declared but not needed -> sent"
# 6. a real SMTP STARTTLS peer: our own mxspool-ingest (file store), verified certificate,
#    partial acceptance (alice 250, nobody 550), stored bytes = its Received: + the source
kill "$SINKPID"; wait "$SINKPID" 2>/dev/null; SINKPID=
if [ -x "$INGEST" ] && [ -x "$BUILD/tests/tools/storetool" ]; then
	IPORT=$(free_port); HPORT=$(free_port)
	mkdir -p "$T/run"; printf 'alice\n' > "$T/run/rcpts"
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost \
		-addext subjectAltName=DNS:localhost -keyout "$T/ikey.pem" -out "$T/icert.pem" \
		2>/dev/null || fail "openssl req"
	ingest_conf "$T/ingest.conf" "127.0.0.1:$IPORT" "health_listen = 127.0.0.1:$HPORT
tls_cert = $T/icert.pem
tls_key = $T/ikey.pem"
	ingest_start "$T/ingest.conf" "$IPORT"
	"$DT" --to smtp://localhost:"$IPORT" --tls required --verify --ca "$T/icert.pem" \
		--from sender@example.test --rcpt alice@example.test --rcpt nobody@example.test \
		--params BODY=8BITMIME "$T/msg.eml" > "$T/out6" 2>&1 ||
		fail "ingest: $(cat "$T/out6")"
	grep -q '^tls "TLSv1\.[23] ' "$T/out6" && grep -q '^alice@example.test 250 ' "$T/out6" &&
		grep -q '^nobody@example.test 550 5.1.1 ' "$T/out6" ||
		fail "ingest: $(cat "$T/out6")"
	id=$(sed -n 's/^alice@example.test 250 .*queued as \([^ ]*\).*/\1/p' "$T/out6")
	key=$("$BUILD/tests/tools/storetool" -c "$T/ingest.conf" show "$id" |
		sed -n 's/.*key=\([^ ]*\).*/\1/p')
	[ -n "$key" ] || fail "ingest: $id not in its index ($(cat "$T/out6"))"
	python3 - "$T/run/store/$key" "$T/msg.eml" <<'PY' || fail "ingest: stored bytes differ"
import sys
data, src = open(sys.argv[1], "rb").read(), open(sys.argv[2], "rb").read() + b"\r\n"
assert data.startswith(b"Received: "), data[:60]
i = data.index(b"\r\n")
while data[i + 2:i + 3] in (b"\t", b" "):
    i = data.index(b"\r\n", i + 2)
assert data[i + 2:] == src
PY
	"$DT" --to smtp://127.0.0.1:"$IPORT" --tls required --verify --ca "$T/icert.pem" \
		--from sender@example.test --rcpt alice@example.test "$T/msg.eml" > "$T/out7" 2>&1
	[ $? = 75 ] && grep -q 'certificate verification failed' "$T/out7" ||
		fail "ingest, wrong name: $(cat "$T/out7")"
	ok "STARTTLS (verified) to mxspool-ingest: alice 250, nobody 550 5.1.1, exact bytes"
fi
echo "deliver_sink: all ok"
