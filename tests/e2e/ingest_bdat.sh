#!/bin/bash
# ingest_bdat.sh - CHUNKING/BDAT and BINARYMIME (RFC 3030) with real clients:
#   a raw-socket client (ingest_bdat_client.py; smtplib has no BDAT): chunks cut between
#   CR and LF and before dots, CR LF . CR LF and commands inside chunks, pipelined BDAT,
#   BDAT 0 LAST, 5 MiB in 64 KiB chunks, BDAT after STARTTLS;
#   each stored object = our Received: header + exactly the bytes sent (byte-exact),
#   and its index row (size, SHA-256) matches the object;
#   Exim (a real MTA that sends BDAT when CHUNKING is offered) when it is installed.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/ingest.sh"

[ -x "$INGEST" ] || fail "no $INGEST (build first)"
PORT=$(free_port)
mkdir -p "$T/run" "$T/out"
printf 'postmaster\nalice\n' > "$T/run/rcpts"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/key.pem" -out "$T/cert.pem" \
	-days 2 -subj /CN=mx.test >/dev/null 2>&1 || fail "openssl req"
ingest_conf "$T/ingest.conf" "127.0.0.1:$PORT" "max_message_size = 20M
timeout = 20s
tls_cert = $T/cert.pem
tls_key = $T/key.pem"
ingest_start "$T/ingest.conf" "$PORT"
IPID=$INGEST_PID

# check_stored ID SENT - the object is Received: + SENT exactly; the index row agrees
check_stored() {
	_f=$(ingest_stored_file "$T/ingest.conf" "$1") || fail "$1 not in the index"
	python3 - "$_f" "$2" <<'PY' || fail "$1: stored bytes differ from the bytes sent"
import sys
data = open(sys.argv[1], "rb").read()
sent = open(sys.argv[2], "rb").read()
assert data.startswith(b"Received: from "), data[:80]
i = data.index(b"\r\n")
while data[i + 2:i + 3] == b"\t":
    i = data.index(b"\r\n", i + 2)
assert data[i + 2:] == sent, "body differs (%d stored, %d sent)" % (len(data) - i - 2, len(sent))
PY
	_show=$("$BUILD/tests/tools/storetool" -c "$T/ingest.conf" show "$1")
	_sha=$(sha256sum "$_f" | cut -d' ' -f1)
	_size=$(stat -c %s "$_f")
	echo "$_show" | grep -q "$_sha" || fail "$1: index SHA-256 is not the object's ($_sha)"
	echo "$_show" | grep -Eq "size[=\":]+$_size\b" || fail "$1: index size is not $_size"
}

for c in edges large tls; do
	id=$(python3 "$TOP/tests/e2e/ingest_bdat_client.py" "$PORT" "$c" "$T/out") \
		|| fail "BDAT client, case $c"
	check_stored "$id" "$T/out/$c.sent"
	ok "BDAT $c: $id stored as Received + the exact bytes sent; index size and SHA-256 match"
done
"$BUILD/tests/tools/storetool" -c "$T/ingest.conf" show "$id" | grep -q 'BODY=BINARYMIME' \
	|| fail "BODY=BINARYMIME not kept in the envelope"
ok "BODY=BINARYMIME kept in the envelope (the replay sends it as 8BITMIME)"
n=$(sqlite3 "$T/run/index.sqlite" "SELECT count(*) FROM messages")
[ "$n" = 3 ] || fail "$n messages in the index, want 3 (a smuggled one?)"
ok "three messages in the index: nothing smuggled inside the chunks"

kill "$IPID"; wait "$IPID" || fail "ingest exit status $?"
! grep -Eq "Sanitizer|runtime error" "$T/ingest.log" || fail "sanitizer report"
ok "clean shutdown, no sanitizer reports"
