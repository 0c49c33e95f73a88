#!/bin/bash
# ingest_bdat.sh - CHUNKING/BDAT and BINARYMIME (RFC 3030) with real clients:
#   a raw-socket client (ingest_bdat_client.py; smtplib has no BDAT): chunks cut between
#   CR and LF and before dots, CR LF . CR LF and commands inside chunks, pipelined BDAT,
#   BDAT 0 LAST, 5 MiB in 64 KiB chunks, BDAT after STARTTLS;
#   each stored object = our Received: header + exactly the bytes sent (byte-exact),
#   and its index row (size, SHA-256) matches the object;
#   Exim, a real MTA that sends BDAT when CHUNKING is offered (scripts/deps.sh unpacks it).
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
	python3 "$TOP/tests/lib/stored_body.py" "$_f" "$2" >/dev/null \
		|| fail "$1: stored bytes differ from the bytes sent"
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

# --- Exim as the sender: a real MTA that uses BDAT when CHUNKING is offered (Postfix's
# smtp client and swaks never do).  scripts/deps.sh unpacks it into EXIM_DIR (it cannot be
# installed beside Postfix); it runs in a private mount namespace where /etc/passwd has its
# compiled-in user (Debian-exim, mapped to nobody) and ld.so.cache finds its libidn.
EXIM_DIR=${EXIM_DIR:-/opt/mxspool-test/exim}
EXIM=$EXIM_DIR/usr/sbin/exim4
[ -x "$EXIM" ] || fail "no Exim in $EXIM_DIR: run scripts/deps.sh test"
mkdir -p "$T/exim/spool"
chmod o+x "$T"		# Exim's delivery runs as nobody
chown 65534:65534 "$T/exim" "$T/exim/spool"
{ cat /etc/passwd; echo "Debian-exim:x:65534:65534::/nonexistent:/usr/sbin/nologin"; } 	> "$T/exim/passwd"
{ cat /etc/group; echo "Debian-exim:x:65534:"; } > "$T/exim/group"
{ echo "$EXIM_DIR/usr/lib/x86_64-linux-gnu"; cat /etc/ld.so.conf.d/*.conf 2>/dev/null; } 	> "$T/exim/ld.so.conf"
ldconfig -C "$T/exim/ld.so.cache" -f "$T/exim/ld.so.conf" 2>/dev/null || fail "ldconfig -C"
cat > "$T/exim/exim.conf" <<CONF
exim_path = $EXIM
primary_hostname = exim.test
spool_directory = $T/exim/spool
log_file_path = $T/exim/%slog
keep_environment =
begin routers
to_ingest:
  driver = manualroute
  route_list = * 127.0.0.1
  transport = to_ingest_smtp
  self = send
begin transports
to_ingest_smtp:
  driver = smtp
  port = $PORT
  hosts_avoid_tls = *
  allow_localhost
  hosts_try_chunking = *
begin retry
* * F,1m,1m
CONF
printf 'Subject: via exim\n\n.leading dot\n..two dots\n.\nMAIL FROM:<evil@other.test>\nlast\n' \
	> "$T/exim/msg"
timeout 120 unshare -m sh -c "mount --bind '$T/exim/passwd' /etc/passwd &&
	mount --bind '$T/exim/group' /etc/group &&
	mount --bind '$T/exim/ld.so.cache' /etc/ld.so.cache &&
	'$EXIM' -C '$T/exim/exim.conf' -odf -oi -f bob@other.test alice@example.test \
	< '$T/exim/msg'" 2>>"$T/exim/stderr" || fail "exim exit status $?"
grep -q ' => alice@example.test .* K C="250 2.0.0 Ok: queued as ' "$T/exim/mainlog" \
	|| { cat "$T/exim/mainlog" "$T/exim/paniclog" 2>/dev/null; fail "Exim did not deliver with CHUNKING (K)"; }
id=$(sed -n 's/.* K C="250 2.0.0 Ok: queued as \([^"]*\)".*/\1/p' "$T/exim/mainlog")
grep -q "ingest bdat_last chunks=" "$T/ingest.log" || fail "no BDAT seen by the ingest"
f=$(ingest_stored_file "$T/ingest.conf" "$id") || fail "$id not in the index"
python3 - "$f" <<'PY' || fail "Exim's message not stored byte-exact"
import sys
data = open(sys.argv[1], "rb").read()
body = b"\r\n\r\n.leading dot\r\n..two dots\r\n.\r\nMAIL FROM:<evil@other.test>\r\nlast\r\n"
assert data.endswith(body), data[-120:]
assert b"Subject: via exim\r\n" in data
PY
n=$(sqlite3 "$T/run/index.sqlite" "SELECT count(*) FROM messages")
[ "$n" = 4 ] || fail "$n messages in the index, want 4"
ok "Exim delivered with BDAT (CHUNKING): $id stored, dots and the body byte-exact"

kill "$IPID"; wait "$IPID" || fail "ingest exit status $?"
no_sanitizer "$T/ingest.log"
ok "clean shutdown, no sanitizer reports"
