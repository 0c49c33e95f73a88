#!/bin/bash
# deliver_lmtp.sh - the replay delivery client against a real Dovecot LMTP (RFC 2033).
#
# Dovecot runs as root from $T/dovecot.conf (base_dir, state and mail under $T), LMTP on
# a free 127.0.0.1 port and a unix socket, users alice and bob (passwd-file), STARTTLS
# with a self-signed certificate made here.  Checks: one reply per accepted recipient
# (unknown -> 550 5.1.1 while alice and bob get 250), Maildir bytes equal to the source
# (Dovecot prepends Return-Path:, Delivered-To: and Received: lines, which are stripped
# before comparing, and stores LF line ends), connection reuse, the unix socket, and
# STARTTLS: required + verified, a wrong CA and a wrong name -> tempfail.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/dovecot.sh"
DT=$BUILD/tests/tools/delivertool
[ -x "$DT" ] || fail "no $DT (make O=... all)"

# a CA-less self-signed certificate naming localhost only (no IP SAN), and an unrelated one
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost \
	-addext subjectAltName=DNS:localhost -keyout "$T/key.pem" -out "$T/cert.pem" 2>/dev/null ||
	fail "openssl req"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=other.test \
	-keyout "$T/other-key.pem" -out "$T/other.pem" 2>/dev/null || fail "openssl req (other)"
DOVECOT_CERT=$T/cert.pem DOVECOT_KEY=$T/key.pem dovecot_start alice bob
PORT=$LMTP_PORT

{
	printf 'From: Alice <alice@example.test>\r\nTo: bob@example.test\r\n'
	printf 'Subject: lmtp replay\r\nMessage-ID: <l1@example.test>\r\n\r\n'
	printf '.starts with a dot\r\n..two dots\r\n.\r\ncaf\xc3\xa9\r\n'
	for i in $(seq 1 3000); do printf 'line %d of a body that spans chunks\r\n' "$i"; done
	printf 'last line without CRLF'
} > "$T/msg.eml"

# 1. per-recipient replies, partial acceptance, bytes, reuse (2 sends on one connection)
"$DT" --to lmtp://127.0.0.1:"$PORT" --from sender@example.test --rcpt alice@example.test \
	--rcpt unknown@example.test --rcpt bob@example.test --repeat 2 "$T/msg.eml" \
	> "$T/out1" 2> "$T/err1" || fail "LMTP delivery: $(cat "$T/out1" "$T/err1")"
[ "$(grep -c '^alice@example.test 250 2.0.0 ' "$T/out1")" = 2 ] &&
	[ "$(grep -c '^bob@example.test 250 2.0.0 ' "$T/out1")" = 2 ] &&
	[ "$(grep -c '^unknown@example.test 550 5.1.1 ' "$T/out1")" = 2 ] ||
	fail "per-rcpt replies: $(cat "$T/out1")"
grep -q '^usable 1' "$T/err1" || fail "LMTP connection not reusable"
[ "$(maildir_count alice)" = 2 ] && [ "$(maildir_count bob)" = 2 ] ||
	fail "want 2+2 messages in Maildirs"
for f in "$T"/mail/alice/new/* "$T"/mail/bob/new/*; do
	same_as_maildir "$T/msg.eml" "$f" || fail "Maildir bytes differ from the source: $f"
done
ok "LMTP: alice/bob 250, unknown 550 5.1.1, twice on one connection, Maildir bytes identical"

# 2. the unix socket
"$DT" --to "lmtp:unix:$T/run/lmtp-test" --from sender@example.test --rcpt alice@example.test \
	"$T/msg.eml" > "$T/out2" 2>&1 || fail "LMTP unix: $(cat "$T/out2")"
grep -q '^alice@example.test 250 ' "$T/out2" && [ "$(maildir_count alice)" = 3 ] ||
	fail "LMTP unix: $(cat "$T/out2")"
ok "LMTP over a unix socket"

# 3. STARTTLS required, certificate verified against the CA file and the name localhost
"$DT" --to lmtp://localhost:"$PORT" --tls required --verify --ca "$T/cert.pem" \
	--from sender@example.test --rcpt bob@example.test "$T/msg.eml" > "$T/out3" 2>&1 ||
	fail "STARTTLS: $(cat "$T/out3")"
grep -q '^tls "TLSv1\.[23] ' "$T/out3" && grep -q '^bob@example.test 250 ' "$T/out3" ||
	fail "STARTTLS: $(cat "$T/out3")"
[ "$(maildir_count bob)" = 3 ] &&
	same_as_maildir "$T/msg.eml" "$(ls -t "$T"/mail/bob/new/* | head -1)" ||
	fail "STARTTLS delivery bytes"
ok "STARTTLS required + verified: $(grep '^tls' "$T/out3")"

# 4. verification failures are temporary failures, nothing delivered
"$DT" --to lmtp://localhost:"$PORT" --tls required --verify --ca "$T/other.pem" \
	--from sender@example.test --rcpt bob@example.test "$T/msg.eml" > "$T/out4" 2>&1
[ $? = 75 ] && grep -q 'certificate verification failed' "$T/out4" ||
	fail "wrong CA: $(cat "$T/out4")"
"$DT" --to lmtp://127.0.0.1:"$PORT" --tls required --verify --ca "$T/cert.pem" \
	--from sender@example.test --rcpt bob@example.test "$T/msg.eml" > "$T/out5" 2>&1
[ $? = 75 ] && grep -q 'certificate verification failed' "$T/out5" ||
	fail "wrong name: $(cat "$T/out5")"
[ "$(maildir_count bob)" = 3 ] || fail "delivered despite a failed verification"
ok "wrong CA and wrong name (127.0.0.1 not in the certificate) -> tempfail"

# 5. opportunistic without verification still encrypts
"$DT" --to lmtp://127.0.0.1:"$PORT" --tls opportunistic --from sender@example.test \
	--rcpt alice@example.test "$T/msg.eml" > "$T/out6" 2>&1 ||
	fail "opportunistic: $(cat "$T/out6")"
grep -q '^tls "TLSv1' "$T/out6" || fail "opportunistic TLS not used: $(cat "$T/out6")"
ok "opportunistic TLS"
echo "deliver_lmtp: all ok"
