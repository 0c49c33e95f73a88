#!/bin/bash
# check_readiness.sh - `mxspool-replay check` against real servers on loopback.
#
# dnsmasq serves example.com (not .test: libunbound answers that locally, RFC 6761) (MX, A, PTR, _mta-sts and _smtp._tls TXT, TLSA;
# unsigned: DANE is WARN here, the DNSSEC cases are in check_dnssec.sh);
# python's https server serves the MTA-STS policy with a certificate of the
# test's own CA; real mxspool-ingest gateways serve a good certificate, one
# for another name and one expiring in 5 days; Postfix smtp-sink is the
# primary.  Each check passes on the good setup and fails (or warns) for its
# own reason on a broken one; exit 0 only when nothing FAILs.
. "$(dirname "$0")/../lib/common.sh"
. "$TOP/tests/lib/dns.sh"
. "$TOP/tests/lib/ingest.sh"
command -v smtp-sink >/dev/null || fail "no smtp-sink"

# --- a test CA and its certificates (EC keys: fast) ---
mkdir -p "$T/pki" "$T/www/.well-known" "$T/run"
cd "$T/pki" || exit 1
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 30 \
	-subj /CN=mxspool-test-CA -keyout ca.key -out ca.pem 2>/dev/null || fail "CA"
leaf() {	# leaf NAME SAN DAYS
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=$2" \
		-keyout "$1.key" -out "$1.csr" 2>/dev/null || fail "csr $1"
	printf 'subjectAltName=DNS:%s\n' "$2" > "$1.ext"
	openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -days "$3" \
		-extfile "$1.ext" -out "$1.pem" 2>/dev/null || fail "sign $1"
}
leaf good mx2.example.com 90
leaf wrong other.example.com 90
leaf soon mx2.example.com 5
leaf sts mta-sts.example.com 90
cd "$TOP" || exit 1
TLSA=$(openssl x509 -in "$T/pki/good.pem" -pubkey -noout | openssl pkey -pubin -outform DER |
	sha256sum | cut -c1-64)

# --- the gateways (good, wrong name, expiring) and the primary ---
INGEST_HOSTNAME=mx2.example.com INGEST_DOMAIN=example.com INGEST_RCPTS=$T/rcpts
echo postmaster@example.com > "$T/rcpts"
gateway() {	# gateway NAME CERT: an ingest with CERT, port in $PORT_NAME
	ingest_gateway "$1" "tls_cert = $T/pki/$2.pem
tls_key = $T/pki/$2.key"
}
gateway good good
gateway wrong wrong
gateway soon soon
SINK=$(free_port)
smtp-sink -u nobody 127.0.0.1:"$SINK" 10 2>>"$T/sink.log" &
SINK_PID=$!
cleanup_add "kill $SINK_PID"
wait_port "$SINK" 10 || fail "smtp-sink did not start"

# --- the MTA-STS policy host ---
HTTPS=$(free_port)
cat > "$T/https.py" <<'PY'
import http.server, ssl, sys, os
os.chdir(sys.argv[1])
s = http.server.HTTPServer(("127.0.0.1", int(sys.argv[2])), http.server.SimpleHTTPRequestHandler)
c = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
c.load_cert_chain(sys.argv[3], sys.argv[4])
s.socket = c.wrap_socket(s.socket, server_side=True)
s.serve_forever()
PY
python3 "$T/https.py" "$T/www" "$HTTPS" "$T/pki/sts.pem" "$T/pki/sts.key" 2>"$T/https.log" &
cleanup_add "kill $!"
wait_port "$HTTPS" 10 || fail "https server did not start"
policy() {	# policy MODE MX...
	_m=$1; shift
	{ printf 'version: STSv1\r\nmode: %s\r\n' "$_m"; for p in "$@"; do printf 'mx: %s\r\n' "$p"
	done; printf 'max_age: 86400\r\n'; } > "$T/www/.well-known/mta-sts.txt"
}

# --- zones ---
zone() {	# zone FILE [extra lines on stdin replace the defaults named by $1]
	cat > "$T/zone.base" <<Z
local=/example.com/
host-record=primary.example.com,10.0.0.10
host-record=mta-sts.example.com,127.0.0.1
txt-record=_mta-sts.example.com,"v=STSv1; id=20261203"
Z
}
GOODZONE="host-record=mx2.example.com,10.0.0.11
mx-host=example.com,primary.example.com,10
mx-host=example.com,mx2.example.com,20
txt-record=_smtp._tls.example.com,\"v=TLSRPTv1; rua=mailto:tls@example.com\"
dns-rr=_25._tcp.mx2.example.com,52,030101$TLSA"
dns_up() {	# dns_up LINES: (re)start dnsmasq with the base zone and LINES
	[ -n "${DNS_PID:-}" ] && dns_stop
	zone
	{ cat "$T/zone.base"; printf '%s\n' "$1"; } > "$T/zone"
	dns_start "$T/zone"
}

# conf FILE [EXTRA]: the check's view: gateway "good" unless [check] connect says otherwise;
# [storage] from INGEST_STORAGE when set, more [domain example.com] lines in DOMX
conf() {
	INGEST_DIR=$T/good INGEST_ROUTE=smtp://127.0.0.1:$SINK \
		ingest_conf "$1" "127.0.0.1:$PORT_good" "" "${DOMX:-}
[dns]
nameserver = $DNS_NS
timeout = 3s
[check]
ca_file = $T/pki/ca.pem
mta_sts_port = $HTTPS
timeout = 5s
${2:-}"
}

# run [EXTRA]: check --json with conf + EXTRA into $T/out.json, exit code in $RC
run() {
	conf "$T/check.conf" "${1:-}"
	"$REPLAY" -c "$T/check.conf" check --json > "$T/out.json" 2>"$T/out.err"
	RC=$?
}
# want CHECK STATUS PATTERN: some result of CHECK has STATUS and evidence matching PATTERN
want() {
	# jq -e succeeds on an empty file; -s makes that an empty array: no report fails here
	jq -es '.[0].checks | length > 0' "$T/out.json" >/dev/null 2>&1 || {
		cat "$T/out.err"; fail "$1: no JSON report (check exit ${RC:-?})"; }
	jq -e --arg c "$1" --arg s "$2" --arg p "$3" \
		'[.checks[] | select(.check == $c and .status == $s and (.evidence | test($p)))]
		| length > 0' "$T/out.json" >/dev/null || {
		cat "$T/out.err"; jq -c ".checks[] | select(.check == \"$1\")" "$T/out.json"
		fail "$1: want $2 matching /$3/"; }
	ok "$1 $2: $(jq -r --arg c "$1" '[.checks[] | select(.check == $c)][0].evidence' \
		"$T/out.json" | cut -c1-110)"
}

policy enforce mx2.example.com primary.example.com
dns_up "$GOODZONE"
run
jq -es '.[0].checks | length > 0' "$T/out.json" >/dev/null 2>&1 || {
	cat "$T/out.err"; fail "no JSON report (exit $RC)"; }
for c in mx mx_ttl mx_hosts fcrdns tls tls_name tls_chain tls_expiry dane mta_sts tls_rpt \
	store spool primary recipients recipients_load; do
	jq -e --arg c "$c" '[.checks[] | select(.check == $c)] | length > 0' "$T/out.json" \
		>/dev/null || { cat "$T/out.err" "$T/out.json"; fail "no $c result"; }
done
want mx pass 'mx2.example.com listed at preference 20, after the primary.s 10'
want mx_ttl pass 'MX TTL 300 s'
want mx_hosts pass 'primary.example.com 10.0.0.10(;|$)'
want mx_hosts pass 'mx2.example.com 10.0.0.11(;|$)'
want fcrdns pass '10.0.0.11 -> mx2.example.com'
want tls pass 'STARTTLS TLSv1'
want tls_name pass 'valid for mx2.example.com'
want tls_chain pass "chains to $T/pki/ca.pem"
want tls_expiry pass 'in (89|90) days'
want dane warn 'TLSA records, not DNSSEC-validated: no \[dns\] trust_anchor \(they match'
want mta_sts pass 'mode enforce, mx: mx2.example.com primary.example.com; every gateway'
want tls_rpt pass 'v=TLSRPTv1'
want store pass 'canary put, read back intact, deleted'
want spool pass 'room for a'
want primary pass 'answers EHLO'
want recipients pass "$T/rcpts: 0 h old"
want recipients_load pass 'load'
[ "$RC" = 0 ] || { cat "$T/out.json"; fail "good setup: exit $RC"; }
"$REPLAY" -c "$T/check.conf" check > "$T/out.txt" || fail "text report: exit $?"
grep -q '^PASS  mx  *example.com  *mx2.example.com listed' "$T/out.txt" || { cat "$T/out.txt"; fail "text report"; }
grep -q 'failover is ready' "$T/out.txt" || fail "text report summary"
ok "good setup: exit 0, every check PASS"

# MX: the gateway below the primary, not listed, a host without address; TTL too short
dns_ttl 30
dns_up "host-record=mx2.example.com,10.0.0.11
mx-host=example.com,primary.example.com,10
mx-host=example.com,mx2.example.com,5
mx-host=example.com,ghost.example.com,30"
run
want mx fail 'mx2.example.com is at preference 5, not above the primary.s 10'
want mx_ttl warn 'MX TTL 30 s is outside 60 s'
want mx_hosts fail 'no address for ghost.example.com \(A nxdomain'
want tls_rpt warn 'no TLS-RPT record'
want dane pass 'no TLSA'
[ "$RC" = 1 ] || fail "bad MX: exit $RC, want 1"
dns_ttl 300
dns_up "host-record=mx2.example.com,10.0.0.11
mx-host=example.com,primary.example.com,10
host-record=mx3.example.com,10.0.0.12"
run "gateways = mx3.example.com"
want mx fail 'mx2.example.com is not an MX of example.com'
want mx fail 'mx3.example.com is not an MX of example.com'
want mta_sts fail 'not matched: mx3.example.com'
ok "bad MX: exit 1"

# forward/reverse disagree; TLSA of another key; MTA-STS policy without the gateway
dns_up "address=/mx2.example.com/10.0.0.11
ptr-record=11.0.0.10.in-addr.arpa,other.example.com
mx-host=example.com,primary.example.com,10
mx-host=example.com,mx2.example.com,20
dns-rr=_25._tcp.mx2.example.com,52,030101$(echo x | sha256sum | cut -c1-64)"
policy enforce primary.example.com
run
want fcrdns warn '10.0.0.11 -> other.example.com'
want dane warn '_25._tcp.mx2.example.com has 1 TLSA records, not DNSSEC-validated: .*they do not match'
want mta_sts fail 'mode enforce, mx: primary.example.com; not matched: mx2.example.com'
[ "$RC" = 1 ] || fail "exit $RC, want 1"
policy testing primary.example.com
run
want mta_sts warn 'mode testing, .*not matched: mx2.example.com'
policy enforce '*.example.com'
run
want mta_sts pass 'mx: \*.example.com; every gateway matches'
rm "$T/www/.well-known/mta-sts.txt"
run
want mta_sts fail 'policy not fetched: .*HTTP 404'
ok "fcrdns, MTA-STS fail for their reasons; unvalidated TLSA records: WARN, never FAIL or PASS"
policy enforce mx2.example.com
dns_up "$GOODZONE
dns-rr=_25._tcp.mx2.example.com,52,020101$(echo x | sha256sum | cut -c1-64)"
run
want dane warn 'has 2 TLSA records, not DNSSEC-validated: .*they match'
dns_up "${GOODZONE%dns-rr=*}dns-rr=_25._tcp.mx2.example.com,52,020101$TLSA"
run
want dane warn 'has 1 TLSA records, not DNSSEC-validated: .*they do not match'
ok "DANE without [dns] trust_anchor: WARN, with whether the records match (DNSSEC cases: check_dnssec.sh)"

# TLS: a certificate for another name; one expiring in 5 days; a CA the cert is not from
policy enforce mx2.example.com
dns_up "$GOODZONE"
run "connect = 127.0.0.1:$PORT_wrong"
want tls_name fail 'not valid for mx2.example.com'
want dane warn 'they do not match'
[ "$RC" = 1 ] || fail "wrong name: exit $RC"
run "connect = 127.0.0.1:$PORT_soon"
want tls_expiry fail 'expires .*(less than 21 days)'
want tls_name pass 'valid for mx2.example.com'
sed -i "s|^ca_file = .*|ca_file = /etc/ssl/certs/ca-certificates.crt|" "$T/check.conf"
"$REPLAY" -c "$T/check.conf" check --json > "$T/out.json"
want tls_chain fail 'does not chain to /etc/ssl/certs/ca-certificates.crt: unable to get local'
P=$(free_port)
run "connect = 127.0.0.1:$P"
want tls fail "127.0.0.1:$P: "
ok "TLS: wrong name, expiring, foreign CA, nothing listening: FAIL"

# store: a broken store; recipients: an old list, a missing one; primary down: WARN only
echo x > "$T/notadir"
INGEST_STORAGE="url = file://$T/notadir/store" run
want store fail "notadir"
[ "$RC" = 1 ] || fail "broken store: exit $RC"
touch -d '40 days ago' "$T/rcpts"
kill "$SINK_PID"; wait "$SINK_PID" 2>/dev/null
run
want recipients warn "$T/rcpts: 40 days old \(over 7\)"
want primary warn 'no EHLO'
[ "$RC" = 0 ] || { jq -c '.checks[] | select(.status == "fail")' "$T/out.json"
	fail "old list + primary down: exit $RC, want 0 (warnings only)"; }
run "recipients_max_age = 60d"
want recipients pass "$T/rcpts: 960 h old"
sed -i "s|^recipients = .*|recipients = $T/gone|" "$T/check.conf"
"$REPLAY" -c "$T/check.conf" check --json > "$T/out.json"
want recipients fail "$T/gone: No such file"
want recipients_load fail "gone"
ok "store, recipients, primary"

# callout: the primary answers; it does not and nothing is cached; a fresh cached answer
SINK2=$(free_port)
smtp-sink -u nobody 127.0.0.1:"$SINK2" 10 2>>"$T/sink.log" &
SINK2_PID=$!
cleanup_add "kill $SINK2_PID"
wait_port "$SINK2" 10 || fail "smtp-sink 2 did not start"
touch "$T/rcpts"
DOMX="callout = smtp://127.0.0.1:$SINK2" run
want callout pass "callout smtp://127.0.0.1:$SINK2 answers EHLO"
kill "$SINK2_PID"; wait "$SINK2_PID" 2>/dev/null
DOMX="callout = smtp://127.0.0.1:$SINK2" run
want callout fail 'no fresh cached answer \(0 positive\)'
[ "$RC" = 1 ] || fail "callout down, empty cache: exit $RC"
now=$(($(date +%s) * 1000))
sqlite3 "$T/good/index.sqlite" "INSERT INTO verify_cache VALUES ('alice@example.com', 1, 250,
	'ok', $now, $((now + 86400000)))" || fail "sqlite3"
DOMX="callout = smtp://127.0.0.1:$SINK2" run
want callout pass 'the cache answers for 1 addresses'
ok "callout: answers, down with an empty cache (FAIL), down with a fresh cache"

# hashed list: loads (sha256sum output), then a corrupt line
printf 'alice@example.com' | sha256sum > "$T/hashed"
DOMX="hashed = $T/hashed" run
want recipients pass "hashed $T/hashed: 0 h old"
want recipients_load pass 'load'
echo "not-a-hash" >> "$T/hashed"
DOMX="hashed = $T/hashed" run
want recipients_load fail "$T/hashed:2: bad hashed entry"
[ "$RC" = 1 ] || fail "corrupt hashed list: exit $RC"
ok "hashed list: loads; a corrupt line FAILs with file:line"

# an ingest key whose env:NAME is set for the ingest only: a FAIL naming it, not an exit
unset MXS_CHECK_UNSET
DOMX="hashed = env:MXS_CHECK_UNSET" run
want recipients fail '\[domain example.com\] hashed: environment variable MXS_CHECK_UNSET is not set'
want recipients_load fail 'MXS_CHECK_UNSET is not set'
[ "$RC" = 1 ] || fail "unset env: exit $RC, want 1"
ok "a [domain] key check cannot read here (env:NAME unset): FAIL with file, section and key"

# every [domain] section is checked, however many: 300 here (the check stopped at 256
# without a word before); the tables load once per run, not once per domain
printf 'alice\n' > "$T/rcpts"
policy enforce mx2.example.com
dns_up "$GOODZONE"
DOMX=$(for i in $(seq 1 299); do printf '[domain d%d.example.com]\nrecipients = %s\n' \
	"$i" "$T/rcpts"; done) run
jq -e '.truncated == false' "$T/out.json" >/dev/null || fail "300 domains: report truncated"
n=$(jq '[.checks[] | select(.domain != "") | .domain] | unique | length' "$T/out.json")
[ "$n" = 300 ] || fail "300 domains: $n of them in the report"
for c in mx:fail recipients:pass recipients_load:pass; do
	jq -e --arg c "${c%:*}" --arg s "${c#*:}" '[.checks[] | select(.domain ==
		"d299.example.com" and .check == $c and .status == $s)] | length == 1' \
		"$T/out.json" >/dev/null || fail "300 domains: no $c result for d299.example.com"
done
ok "300 [domain] sections: each one in the report, the last one (d299) too"
