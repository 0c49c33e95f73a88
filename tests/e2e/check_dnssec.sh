#!/bin/bash
# check_dnssec.sh - DANE in `mxspool-replay check` counts TLSA records only when DNSSEC
# validates them (RFC 7672 2.2).  knotd on loopback serves three zones, each with an MX host
# mx.ZONE whose TLSA 3 1 1 record names the key a real mxspool-ingest serves on STARTTLS:
#   signed.example  signed (tests/lib/dnssec_zone.py), its DS in [dns] trust_anchor: PASS
#                   "(DNSSEC: secure)"; mx2.signed.example has a TLSA of another key: FAIL
#   plain.example   unsigned (no chain of trust): WARN, DANE not in effect, never a PASS
#   bogus.example   signed, DS in the trust anchor, but the TLSA signature broken: FAIL
#                   with the validator's reason (bogus)
# and signed.example without [dns] trust_anchor: WARN naming the missing setting.
# libunbound in mxspool validates itself; knotd only serves the signed files.
. "$(dirname "$0")/../lib/common.sh"
. "$TOP/tests/lib/dns.sh"
. "$TOP/tests/lib/ingest.sh"
PY=/usr/bin/python3	# python3-dnspython is Debian's: the system interpreter, whatever PATH says
$PY -c 'import dns.dnssec, cryptography' 2>/dev/null || fail "no python3-dnspython (make deps)"

# --- the gateway: a real ingest serving one certificate for the three MX names ---
mkdir -p "$T/z"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 60 \
	-subj /CN=mx.signed.example \
	-addext subjectAltName=DNS:mx.signed.example,DNS:mx.plain.example,DNS:mx.bogus.example \
	-keyout "$T/key.pem" -out "$T/cert.pem" 2>/dev/null || fail "openssl req"
TLSA=$(openssl x509 -in "$T/cert.pem" -pubkey -noout | openssl pkey -pubin -outform DER |
	sha256sum | cut -c1-64)
OTHER=$(echo other | sha256sum | cut -c1-64)
echo postmaster@signed.example > "$T/rcpts"
INGEST_RCPTS=$T/rcpts
INGEST_HOSTNAME=mx.signed.example INGEST_DOMAIN=signed.example ingest_gateway gw \
	"tls_cert = $T/cert.pem
tls_key = $T/key.pem"

# --- the zones: signed, unsigned, signed with a broken TLSA signature ---
for z in signed plain bogus; do
	cat > "$T/z/$z.in" <<Z
\$TTL 300
@ SOA ns hostmaster 1 3600 600 86400 300
@ NS ns
ns A 127.0.0.1
@ MX 10 primary
@ MX 20 mx
primary A 127.0.0.10
mx A 127.0.0.1
mx2 A 127.0.0.1
_25._tcp.mx TLSA 3 1 1 $TLSA
_25._tcp.mx2 TLSA 3 1 1 $OTHER
Z
done
$PY "$TOP/tests/lib/dnssec_zone.py" signed.example. "$T/z/signed.in" "$T/z/signed.zone" \
	"$T/ta.keys" || fail "signing signed.example"
$PY "$TOP/tests/lib/dnssec_zone.py" bogus.example. "$T/z/bogus.in" "$T/z/bogus.zone" \
	"$T/ta.keys" --break TLSA || fail "signing bogus.example"
cp "$T/z/plain.in" "$T/z/plain.zone"
dns_knot_start signed.example="$T/z/signed.zone" plain.example="$T/z/plain.zone" \
	bogus.example="$T/z/bogus.zone"
ok "knotd serves signed.example and bogus.example (DS: $(cut -d' ' -f1,5- "$T/ta.keys" |
	tr '\n' ' ' | cut -c1-60)...) and plain.example"

# run HOST [TA]: check --json as gateway HOST ([dns] trust_anchor TA, none when empty)
run() {
	INGEST_DIR=$T/gw INGEST_HOSTNAME=$1 INGEST_DOMAIN=${1#*.} ingest_conf "$T/check.conf" "" "" \
		"[dns]
nameserver = $KNOT_NS
timeout = 3s
${2:+trust_anchor = $2}
[check]
connect = 127.0.0.1:$PORT_gw
ca_file = $T/cert.pem
timeout = 5s"
	"$REPLAY" -c "$T/check.conf" check --json > "$T/out.json" 2>"$T/out.err"
	RC=$?
}
# want STATUS PATTERN: the dane result has STATUS and evidence matching PATTERN
want() {
	# -s: an empty file (no report) is an empty array, which fails here (jq -e passes it)
	jq -es --arg s "$1" --arg p "$2" '[.[0].checks[]? | select(.check == "dane" and
		.status == $s and (.evidence | test($p)))] | length == 1' "$T/out.json" \
		>/dev/null 2>&1 || { cat "$T/out.err"; jq -c '.checks[] | select(.check == "dane")' \
		"$T/out.json"; fail "dane: want $1 matching /$2/"; }
	ok "dane $1: $(jq -r '.checks[] | select(.check == "dane") | .evidence' "$T/out.json" |
		cut -c1-140)"
}

run mx.signed.example "$T/ta.keys"
want pass '^TLSA 3 1 1 at _25._tcp.mx.signed.example matches the served certificate \(DNSSEC: secure\)$'
jq -e '.checks[] | select(.check == "tls_name" and .status == "pass")' "$T/out.json" \
	>/dev/null || fail "the gateway's certificate was not fetched: $(cat "$T/out.json")"
run mx2.signed.example "$T/ta.keys"
want fail 'none of the 1 TLSA records at _25._tcp.mx2.signed.example matches .*\(DNSSEC: secure\)'
[ "$RC" = 1 ] || fail "secure mismatch: exit $RC, want 1"
run mx.plain.example "$T/ta.keys"
want warn 'unsigned zone \(DNSSEC: insecure\): DANE senders ignore them .*they match'
run mx.bogus.example "$T/ta.keys"
want fail '^TLSA lookup of _25._tcp.mx.bogus.example failed DNSSEC validation \(bogus: .+\)'
[ "$RC" = 1 ] || fail "bogus: exit $RC, want 1"
run mx.signed.example ""
want warn 'not DNSSEC-validated: no \[dns\] trust_anchor \(they match'
ok "DANE: secure match PASS, secure mismatch FAIL, insecure WARN, bogus FAIL"

# the trust anchor is a configuration key: a missing file is refused like any other
rc=0; "$REPLAY" -c "$T/check.conf" check-config > /dev/null 2>&1 || rc=$?
[ "$rc" = 0 ] || fail "check-config refuses the good file: $rc"
sed -i "s|^\[dns\]|[dns]\ntrust_anchor = $T/missing.keys|" "$T/check.conf"
rc=0; "$REPLAY" -c "$T/check.conf" check > "$T/missing.out" 2>&1 || rc=$?
[ "$rc" = 78 ] && grep -qF "[dns] trust_anchor = \"$T/missing.keys\": cannot read" \
	"$T/missing.out" || fail "missing trust anchor: exit $rc $(cat "$T/missing.out")"
ok "a missing [dns] trust_anchor file: exit 78 naming the key"
