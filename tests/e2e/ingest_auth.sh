#!/bin/bash
# ingest_auth.sh - SPF, DKIM, DMARC at ingest and the Authentication-Results: header.
#
# dnsmasq on loopback serves the senders' SPF, DKIM keys and DMARC records; a real
# mxspool-ingest verifies messages that an independent signer (dkimpy, python3-dkim)
# signed and python smtplib sends.  Checked per message: the stored object is our
# Received:, our Authentication-Results: (RFC 8601 words), then the sent bytes
# exactly (DATA, and BDAT once).  SPF pass/fail/softfail/none/temperror (a name the
# server refuses), HELO for <>; DKIM relaxed/simple and simple/simple, two signatures
# (RSA + Ed25519), l= with text appended, a broken body hash (fail), a missing key, an
# expired x=; DMARC pass, p=reject failure under record (250, dmarc=fail) and under
# enforce (550 5.7.1, nothing stored), p=quarantine under enforce (stored, in
# quarantine), temperror under enforce (250); an incoming Authentication-Results: with
# our authserv-id renamed, another one kept; -t refuses a bad auth_policy; the
# verdicts in the index, `mxspool-replay show`, the envelope and /metrics; a DNS
# server that never answers: spf, dkim and dmarc temperror, and still 250.
. "$(dirname "$0")/../lib/common.sh"
. "$TOP/tests/lib/dns.sh"
. "$TOP/tests/lib/ingest.sh"
PY=/usr/bin/python3	# Debian's, with python3-dkim
MAIL="$PY $TOP/tests/e2e/auth_mail.py"
$PY -c 'import dkim, nacl' 2>/dev/null || fail "python3-dkim / python3-nacl missing (make deps)"

# keys: RSA 2048 and Ed25519 (RFC 8463), made by dkimpy's dknewkey
(cd "$T" && dknewkey --ktype rsa rsa >/dev/null && dknewkey --ktype ed25519 ed >/dev/null) ||
	fail "dknewkey"
# txt_split NAME FILE: a txt-record= line, the record cut into 255-octet strings
txt_split() {
	$PY - "$1" "$2" <<'PY'
import sys
v = open(sys.argv[2]).read().strip()
parts = ('"%s"' % v[i:i + 255] for i in range(0, len(v), 255))
print("txt-record=%s,%s" % (sys.argv[1], ",".join(parts)))
PY
}
{
	echo 'local=/test.example/'
	echo 'host-record=none.test.example,192.0.2.9'
	echo 'txt-record=pass.test.example,"v=spf1 ip4:127.0.0.1 -all"'
	echo 'txt-record=fail.test.example,"v=spf1 ip4:192.0.2.1 -all"'
	echo 'txt-record=soft.test.example,"v=spf1 ip4:192.0.2.1 ~all"'
	echo 'txt-record=dk.test.example,"v=spf1 ip4:192.0.2.1 -all"'
	echo 'txt-record=_dmarc.dk.test.example,"v=DMARC1; p=reject"'
	echo 'txt-record=_dmarc.rej.test.example,"v=DMARC1; p=reject"'
	echo 'txt-record=_dmarc.quar.test.example,"v=DMARC1; p=quarantine"'
	txt_split rsa._domainkey.dk.test.example "$T/rsa.dns"
	txt_split ed._domainkey.dk.test.example "$T/ed.dns"
} > "$T/zone"
dns_start "$T/zone"

PORT=$(free_port)
mkdir -p "$T/run"
echo "alice@example.test" > "$T/run/rcpts"
HPORT=$(free_port)
INGEST_AUTH="verify = yes" ingest_conf "$T/mx.conf" "127.0.0.1:$PORT" "counters_interval = 1s" \
"[http]
listen = 127.0.0.1:$HPORT
[domain enforce.test]
catchall = yes
auth_policy = enforce
[dns]
nameserver = $DNS_NS
timeout = 2s"
# mxspool-ingest -t checks the [auth] keys and auth_policy
sed 's/^auth_policy = enforce/auth_policy = enforc/' "$T/mx.conf" > "$T/bad.conf"
"$INGEST" -t -c "$T/bad.conf" 2>"$T/bad.err" && fail "-t accepted auth_policy = enforc"
grep -q 'auth_policy = "enforc": want record/enforce' "$T/bad.err" ||
	fail "-t: $(cat "$T/bad.err")"
"$INGEST" -t -c "$T/mx.conf" >/dev/null 2>&1 || fail "-t refused the good config"
ok "-t: a bad auth_policy is refused, naming the section"
ingest_start "$T/mx.conf" "$PORT"

# msg FILE FROM [HEADER]: a message with CRLF line ends (HEADER: printf %b escapes)
n=0
msg() {
	n=$((n + 1))
	{
		printf 'From: Sender <%s>\r\nTo: alice@example.test\r\n' "$2"
		printf 'Subject: test %s\r\nDate: Thu, 03 Dec 2026 19:00:00 +0000\r\n' "$n"
		printf 'Message-ID: <m%s@test.example>\r\n' "$n"
		[ -n "${3:-}" ] && printf '%b\r\n' "$3"
		printf '\r\nHello world\r\nline two\r\n'
	} > "$1"
}
# sent MAILFROM FILE [RCPT]: send (DATA, or BDAT when VERB=bdat), the reply into REPLY,
# the message id into ID
sent() {
	REPLY=$($MAIL "${VERB:-send}" "$PORT" "$1" "${3:-alice@example.test}" "$2")
	ID=$(echo "$REPLY" | sed -n 's/^250 .*queued as \([^ ]*\).*/\1/p')
}
# check MAILFROM FILE PATTERN...: sent, stored byte-exact, the A-R matches each pattern
check() {
	_mf=$1 _f=$2
	shift 2
	sent "$_mf" "$_f"
	[ -n "$ID" ] || fail "$_f: not accepted: $REPLY"
	_obj=$(ingest_stored_file "$T/mx.conf" "$ID") || fail "$ID: no stored object"
	AR=$($MAIL stored "$_obj" "${EXPECT:-$_f}") || fail "$_f: stored object: $AR"
	for _p in "$@"; do
		# shellcheck disable=SC2254 # a pattern
		case "$AR" in *$_p*) ;; *) fail "$_f: want '$_p' in: $AR" ;; esac
	done
	ok "$(basename "$_f"): $*"
}

# SPF, with the MAIL FROM identity
msg "$T/m" a@pass.test.example
check a@pass.test.example "$T/m" \
	"Authentication-Results: mx.test; spf=pass smtp.mailfrom=a@pass.test.example; dkim=none;" \
	"dkim=none; dmarc=none header.from=pass.test.example"
check a@fail.test.example "$T/m" "spf=fail smtp.mailfrom=a@fail.test.example"
check a@soft.test.example "$T/m" "spf=softfail smtp.mailfrom=a@soft.test.example"
check a@none.test.example "$T/m" "spf=none smtp.mailfrom=a@none.test.example"
check a@elsewhere.example.org "$T/m" "spf=temperror smtp.mailfrom=a@elsewhere.example.org"
check "" "$T/m" "spf=none smtp.helo=client.test"

# DKIM, signed by dkimpy
K="$T/rsa.key" D=dk.test.example
msg "$T/u" a@dk.test.example
$MAIL sign "$T/u" "$T/rs" "$K" rsa $D || fail sign
check a@dk.test.example "$T/rs" "dkim=pass header.d=dk.test.example header.s=rsa header.b=\"" \
	"dmarc=pass (p=reject) header.from=dk.test.example"
PASSID=$ID
VERB=bdat check a@dk.test.example "$T/rs" "dkim=pass header.d=dk.test.example header.s=rsa" \
	"dmarc=pass (p=reject)"
ok "the same through BDAT (CHUNKING)"
$MAIL sign "$T/u" "$T/ss" "$K" rsa $D canon=simple/simple || fail sign
check a@dk.test.example "$T/ss" "dkim=pass header.d=dk.test.example header.s=rsa"
$MAIL sign "$T/u" "$T/ed" "$T/ed.key" ed $D alg=ed25519 || fail sign
check a@dk.test.example "$T/ed" "dkim=pass header.d=dk.test.example header.s=ed"
$MAIL sign "$T/rs" "$T/two" "$T/ed.key" ed $D alg=ed25519 || fail sign
check a@dk.test.example "$T/two" "dkim=pass header.d=dk.test.example header.s=ed" \
	"dkim=pass header.d=dk.test.example header.s=rsa"
$MAIL sign "$T/u" "$T/len" "$K" rsa $D length append="appended after signing" || fail sign
check a@dk.test.example "$T/len" "dkim=pass header.d=dk.test.example header.s=rsa"
$MAIL sign "$T/u" "$T/bad" "$K" rsa $D break-body || fail sign
check a@dk.test.example "$T/bad" "dkim=fail (body hash did not verify) header.d=dk.test.example" \
	"dmarc=fail (p=reject) header.from=dk.test.example"
$MAIL sign "$T/u" "$T/nokey" "$K" nokey $D || fail sign
check a@dk.test.example "$T/nokey" "dkim=permerror (no key) header.d=dk.test.example header.s=nokey"
$MAIL sign "$T/u" "$T/exp" "$K" rsa $D expired || fail sign
check a@dk.test.example "$T/exp" "dkim=fail (signature expired) header.d=dk.test.example"

# DMARC p=reject failure: recorded (record, the default) ...
msg "$T/rej" x@rej.test.example
check a@fail.test.example "$T/rej" "dmarc=fail (p=reject) header.from=rej.test.example"
REJID=$ID
# ... refused under enforce, before anything is stored
before=$(find "$T/run/store" -path "*/_fleet" -prune -o -type f -print | wc -l)
sent a@fail.test.example "$T/rej" bob@enforce.test
case "$REPLY" in "550 5.7.1 "*rej.test.example*) ok "enforce: $REPLY" ;;
*) fail "enforce: want 550 5.7.1, got $REPLY" ;; esac
[ "$(find "$T/run/store" -path "*/_fleet" -prune -o -type f -print | wc -l)" = "$before" ] || fail "a rejected message was stored"
# ... and a pass under enforce is accepted
sent a@dk.test.example "$T/rs" bob@enforce.test
[ -n "$ID" ] || fail "enforce, DMARC pass: $REPLY"
ok "enforce: a DMARC pass is accepted ($ID)"
# a DNS temporary error under enforce is never a 5xx
msg "$T/tmp" x@elsewhere.example.org
sent a@elsewhere.example.org "$T/tmp" bob@enforce.test
case "$REPLY" in 250*) ok "enforce, temperror: $REPLY" ;;
*) fail "enforce, temperror: $REPLY" ;; esac

# an incoming Authentication-Results: claiming our authserv-id is renamed, another kept
msg "$T/forged" a@pass.test.example "Authentication-Results: mx.test; dkim=pass\r\n\
 header.d=bank.example\r\nAuthentication-Results: other.example; spf=pass smtp.mailfrom=x@y.example"
sed 's/^Authentication-Results: mx.test;/X-Original-Authentication-Results: mx.test;/' \
	"$T/forged" > "$T/forged.want"
EXPECT=$T/forged.want check a@pass.test.example "$T/forged" "spf=pass"
obj=$(ingest_stored_file "$T/mx.conf" "$ID")
[ "$(grep -c '^Authentication-Results: mx.test;' "$obj")" = 1 ] || fail "forged A-R left in place"
grep -q '^Authentication-Results: other.example;' "$obj" || fail "another authserv-id removed"
ok "forged Authentication-Results: renamed, the other one kept"
grep -q "ingest auth .*spf=fail dkim=pass dmarc=pass" "$T/mx.log" || fail "no auth log line"
ok "one log line per verified message"

# p=quarantine under enforce: stored, and held in quarantine for the operator
msg "$T/quar" x@quar.test.example
sent a@fail.test.example "$T/quar" bob@enforce.test
[ -n "$ID" ] || fail "quarantine: not accepted: $REPLY"
QID=$ID

# the verdicts: index columns, show, the envelope kept with the object, /metrics
DB=$T/run/index.sqlite
[ "$(sqlite3 "$DB" "SELECT auth_spf, auth_dkim, auth_dmarc FROM messages WHERE id = '$PASSID'")" \
	= "fail|pass|pass" ] || fail "index: verdicts of $PASSID"
[ "$(sqlite3 "$DB" "SELECT auth_dmarc FROM messages WHERE id = '$REJID'")" = fail ] ||
	fail "index: dmarc of $REJID"
[ "$(sqlite3 "$DB" "SELECT state FROM messages WHERE id = '$QID'")" = quarantine ] ||
	fail "quarantine: message state"
[ "$(sqlite3 "$DB" "SELECT state FROM recipients WHERE message_id = '$QID'")" = quarantine ] ||
	fail "quarantine: recipient state"
ok "index: verdicts queryable, p=quarantine under enforce is in quarantine"
"$REPLAY" -c "$T/mx.conf" show "$PASSID" > "$T/show" || fail "show $PASSID"
grep -q '^  auth: *spf=fail dkim=pass dmarc=pass$' "$T/show" || { cat "$T/show"; fail "show"; }
"$REPLAY" -c "$T/mx.conf" show --json "$QID" | grep -q '"dmarc": *"fail"' || fail "show --json"
ok "show: $(grep auth: "$T/show")"
# the envelope kept with the object (file store: .meta/KEY), so reindex keeps the verdicts
obj=$(ingest_stored_file "$T/mx.conf" "$QID")
awk '$2 == "envelope" { print $3 }' "$T/run/store/.meta/${obj#"$T/run/store/"}" | base64 -d |
	grep -q '"auth":{"spf":"fail","dkim":"none","dmarc":"fail","quarantine":true}' ||
	fail "envelope: no auth verdicts"
ok "envelope: the verdicts and the quarantine flag are stored with the object"
"$BUILD/tests/tools/statustool" -c "$T/mx.conf" 2>>"$T/statustool.log" &
cleanup_add "kill $!"
wait_port "$HPORT" 20 || fail "statustool did not listen"
metric() { curl -s "http://127.0.0.1:$HPORT/metrics" | grep -q "^$1 $2\$"; }
wait_for 'metric "mxspool_auth_dmarc_total{result=\"fail\"}" 6' 20 ||
	{ curl -s "http://127.0.0.1:$HPORT/metrics" | grep auth_; fail "/metrics: dmarc fail"; }
metric 'mxspool_auth_dkim_total{result="pass"}' 7 || fail "/metrics: dkim pass"
metric 'mxspool_auth_spf_total{result="temperror"}' 2 || fail "/metrics: spf temperror"
ok "/metrics: mxspool_auth_{spf,dkim,dmarc}_total{result=...}"

# a DNS server that never answers: every check is temperror, within [auth] timeout, and 250
kill -9 "$INGEST_PID"
wait "$INGEST_PID" 2>/dev/null
dns_silent_start
PORT=$(free_port)
INGEST_AUTH="verify = yes
timeout = 4s" ingest_conf "$T/silent.conf" "127.0.0.1:$PORT" "" "[dns]
nameserver = $SILENT_NS
timeout = 1s"
ingest_start "$T/silent.conf" "$PORT"
check a@dk.test.example "$T/rs" "spf=temperror smtp.mailfrom=a@dk.test.example" \
	"dkim=temperror (key query failed) header.d=dk.test.example" "dmarc=temperror"
