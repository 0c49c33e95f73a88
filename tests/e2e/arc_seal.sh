#!/bin/bash
# arc_seal.sh - ARC sealing at replay (RFC 8617) checked by three verifiers that share no code
# with mxspool: dkimpy's arc_verify (python3-dkim), Perl's Mail::DKIM::ARC::Verifier and
# mailauth (npm, tests/node); Ed25519 sets by dkimpy and mailauth (Mail::DKIM 1.20230212 has
# no Ed25519 ARC).
# Keys are published by a dnsmasq started on loopback by this test; verifiers and the sealer
# ask it (never the Internet).
# Covers: swaks -> mxspool-ingest (file store) -> drain --to Postfix smtp-sink: the message
# the primary got has an ARC set i=1 cv=none that both verifiers pass; [arc] skip_targets
# sends it unsealed; [replay] source_address is the address the primary sees, a source
# address not on this host defers with the reason; the sealer alone (tests/tools/arctool):
# RSA passes all three, Ed25519 passes dkimpy and mailauth, results come from our
# Authentication-Results or are given; a chain of two sealers (dkimpy's arc_sign, then
# mxspool with RSA or Ed25519: i=2 cv=pass) passes; a body or header changed after sealing,
# or a seal whose signature is damaged, fails every verifier; a broken chain is sealed cv=fail.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/ingest.sh"
ARCTOOL=$BUILD/tests/tools/arctool
PY=/usr/bin/python3	# python3-dkim is Debian's: the system interpreter, whatever PATH says
VPY="$TOP/tests/e2e/arc_verify.py"; VPL="$TOP/tests/e2e/arc_verify.pl"
VJS="$TOP/tests/e2e/arc_verify.js"
[ -x "$INGEST" ] && [ -x "$REPLAY" ] || fail "build first (make O=... all)"
command -v swaks >/dev/null && command -v smtp-sink >/dev/null || fail "no swaks/smtp-sink"
command -v dnsmasq >/dev/null || fail "no dnsmasq (dnsmasq-base)"
$PY -c 'import dkim, dns.resolver, nacl' 2>/dev/null ||
	fail "no python3-dkim/python3-dnspython/python3-nacl"
perl -MMail::DKIM::ARC::Verifier -MNet::DNS -e1 2>/dev/null || fail "no libmail-dkim-perl"
command -v node >/dev/null && [ -d "$TOP/tests/node/node_modules/mailauth" ] ||
	fail "no node or mailauth (scripts/deps.sh test: npm ci --prefix tests/node)"
# mailauth 7.1.0 declares Node.js >= 22.19; it runs on 20 (tested 20.20), not known below
[ "$(node -p 'process.versions.node.split(".")[0]')" -ge 18 ] ||
	fail "mailauth needs Node.js >= 18, this is $(node --version)"
chmod 711 "$T"

# keys: the gateway's (RSA and Ed25519) and another sealer's, before mxspool in a chain
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$T/rsa.pem" 2>/dev/null &&
openssl genpkey -algorithm ED25519 -out "$T/ed.pem" &&
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$T/fwd.pem" 2>/dev/null ||
	fail "openssl genpkey"
spki() { openssl pkey -in "$1" -pubout -outform DER | base64 -w0; }
DPORT=$(free_port)
dnsmasq --conf-file=/dev/null --keep-in-foreground --no-resolv --no-hosts --port="$DPORT" \
	--listen-address=127.0.0.1 --bind-interfaces --pid-file="$T/dnsmasq.pid" \
	--txt-record="rsa._domainkey.gw.test,v=DKIM1; k=rsa; p=$(spki "$T/rsa.pem")" \
	--txt-record="ed._domainkey.gw.test,v=DKIM1; k=ed25519; p=$(openssl pkey \
		-in "$T/ed.pem" -pubout -outform DER | tail -c 32 | base64 -w0)" \
	--txt-record="fwd._domainkey.fwd.example,v=DKIM1; k=rsa; p=$(spki "$T/fwd.pem")" \
	2>"$T/dnsmasq.log" & DNSPID=$!
cleanup_add "kill $DNSPID"
wait_for "$PY -c 'import dns.resolver as r; x=r.Resolver(configure=False); \
x.nameservers=[\"127.0.0.1\"]; x.port=$DPORT; x.resolve(\"rsa._domainkey.gw.test\", \"TXT\")'" 10 ||
	fail "dnsmasq did not answer: $(cat "$T/dnsmasq.log")"

verify_both() {	# verify_both FILE WHAT - every verifier must say pass
	$PY "$VPY" "$DPORT" "$1" > "$T/vpy" 2>&1 || fail "$2: dkimpy: $(cat "$T/vpy")"
	perl "$VPL" "$DPORT" "$1" > "$T/vpl" 2>&1 || fail "$2: Mail::DKIM: $(cat "$T/vpl")"
	node "$VJS" "$DPORT" "$1" > "$T/vjs" 2>&1 || fail "$2: mailauth: $(cat "$T/vjs")"
}
refuse_both() {	# refuse_both FILE WHAT - no verifier may say pass
	! $PY "$VPY" "$DPORT" "$1" > "$T/vpy" 2>&1 || fail "$2: dkimpy passed it: $(cat "$T/vpy")"
	! perl "$VPL" "$DPORT" "$1" > "$T/vpl" 2>&1 || fail "$2: Mail::DKIM passed it: $(cat "$T/vpl")"
	refuse_js "$1" "$2"
}
refuse_js() {	# refuse_js FILE WHAT - mailauth must say fail (not pass, not an error)
	node "$VJS" "$DPORT" "$1" > "$T/vjs" 2>&1
	[ $? = 1 ] && grep -q '^fail' "$T/vjs" || fail "$2: mailauth: $(cat "$T/vjs")"
}
verify_ed() {	# verify_ed FILE WHAT - the Ed25519 verifiers (dkimpy, mailauth) must say pass
	$PY "$VPY" "$DPORT" "$1" --ed25519 > "$T/vpy" 2>&1 || fail "$2: dkimpy: $(cat "$T/vpy")"
	node "$VJS" "$DPORT" "$1" > "$T/vjs" 2>&1 || fail "$2: mailauth: $(cat "$T/vjs")"
}
refuse_ed() {	# refuse_ed FILE WHAT - neither Ed25519 verifier may say pass
	! $PY "$VPY" "$DPORT" "$1" --ed25519 > "$T/vpy" 2>&1 ||
		fail "$2: dkimpy passed it: $(cat "$T/vpy")"
	refuse_js "$1" "$2"
}
# break_seal IN OUT - the topmost ARC-Seal's signature damaged (one character of b= changed)
break_seal() {
	$PY - "$1" "$2" <<'PY'
import re, sys
m = open(sys.argv[1], 'rb').read()
i = m.index(b'ARC-Seal:')
j = i + re.compile(rb'[;\s]b=').search(m, i).end() - i + 10	# inside the signature
c = m[j:j + 1]
open(sys.argv[2], 'wb').write(m[:j] + (b'A' if c != b'A' else b'B') + m[j + 1:])
PY
}
undump() {	# undump DUMP OUT - the message as the primary got it (without smtp-sink's lines)
	$PY - "$1" "$2" <<'PY'
import sys
lines = open(sys.argv[1], 'rb').read().split(b'\n')
i = next(k for k, l in enumerate(lines) if l.startswith(b'Received: from '))
open(sys.argv[2], 'wb').write(b'\r\n'.join(lines[i + 3:]))
PY
}

# 1. the whole path: ingest -> drain --to -> smtp-sink, sealed with the RSA key
IPORT=$(free_port); SPORT=$(free_port); DEAD=$(free_port)
mkdir -p "$T/run"; printf 'alice\n' > "$T/run/rcpts"
arc_conf() {	# arc_conf FILE [EXTRA_ARC_LINE] [REPLAY_LINE]
	ingest_conf "$1" "127.0.0.1:$IPORT" "" "[routes]
* = smtp://127.0.0.1:$DEAD
[deliver]
connect_timeout = 5s
[replay]
min_backoff = 1s
${3:-}
[dns]
nameserver = 127.0.0.1:$DPORT
[arc]
domain = gw.test
selector = rsa
key_file = $T/rsa.pem
${2:-}"
}
arc_conf "$T/mx.conf"
ingest_start "$T/mx.conf" "$IPORT" "$T/ingest.log"
mkdir -m 777 "$T/sink"
smtp-sink -u nobody -d "$T/sink/m." 127.0.0.1:"$SPORT" 10 2>>"$T/sink.log" & SPID=$!
cleanup_add "kill $SPID"
wait_port "$SPORT" 10 || fail "smtp-sink did not start"
send() {	# send N - one message through the ingest
	swaks --server 127.0.0.1:"$IPORT" --from s@sender.test --to alice@example.test \
		--header "Subject: arc $1" --body "line one  with   spaces	
trailing blanks   

.dot line" > "$T/swaks$1.log" 2>&1 || fail "swaks $1: $(tail -5 "$T/swaks$1.log")"
}
R() { "$REPLAY" -c "$1" drain --to "smtp://127.0.0.1:$SPORT" >> "$T/drain.out" \
	2>>"$T/replay.log"; }
send 1
R "$T/mx.conf" || fail "drain: $(tail -5 "$T/replay.log")"
wait_for "[ \$(ls $T/sink | wc -l) = 1 ]" 10 || fail "nothing delivered: $(tail "$T/replay.log")"
undump "$T"/sink/m.* "$T/d1.eml"
head -1 "$T/d1.eml" | grep -q '^ARC-Seal: i=1; a=rsa-sha256; .*cv=none;' ||
	fail "no ARC-Seal on top: $(head -3 "$T/d1.eml")"
grep -q '^ARC-Authentication-Results: i=1; mx.test;' "$T/d1.eml" ||
	fail "AAR without the [ingest] hostname as authserv-id: $(grep ^ARC-Auth "$T/d1.eml")"
verify_both "$T/d1.eml" "ingest -> drain --to (RSA)"
ok "ingest -> drain --to: ARC set i=1 cv=none, authserv-id mx.test; dkimpy and Mail::DKIM pass"

# 2. a route that opts out: [arc] skip_targets = the --to target
rm -f "$T"/sink/m.*
arc_conf "$T/skip.conf" "skip_targets = lmtp://192.0.2.1:24, smtp://127.0.0.1:$SPORT"
send 2
R "$T/skip.conf" || fail "drain (skip)"
wait_for "[ \$(ls $T/sink | wc -l) = 1 ]" 10 || fail "nothing delivered (skip)"
! grep -q '^ARC-' "$T"/sink/m.* || fail "skip_targets: the message was sealed"
ok "[arc] skip_targets: the target opts out, message delivered unsealed"

# 3. [replay] source_address: the primary sees it; one not on this host defers with why
rm -f "$T"/sink/m.*
arc_conf "$T/src.conf" "" "source_address = 127.0.0.2"
send 3
R "$T/src.conf" || fail "drain (source_address)"
wait_for "[ \$(ls $T/sink | wc -l) = 1 ]" 10 || fail "nothing delivered (source_address)"
grep -q '^X-Client-Addr: 127.0.0.2' "$T"/sink/m.* ||
	fail "source_address: $(grep ^X-Client-Addr "$T"/sink/m.*)"
arc_conf "$T/bad.conf" "" "source_address = 192.0.2.7"
send 4
R "$T/bad.conf"
grep -q 'bind to \[replay\] source_address: Cannot assign requested address' "$T/replay.log" ||
	fail "a foreign source_address: $(tail -3 "$T/replay.log")"
ok "[replay] source_address 127.0.0.2 is the client address the primary logs; 192.0.2.7 defers"

# 3b. the AAR carries what the ingest verified, never an Authentication-Results: that came
# with the message, even one claiming our authserv-id
FORGED="Authentication-Results: mx.test; spf=pass smtp.mailfrom=ceo@bank.example; dmarc=pass header.from=bank.example"
sendf() {	# sendf CONF SUBJECT HEADER - one message with HEADER through the ingest of CONF
	swaks --server 127.0.0.1:"$IPORT" --from s@sender.test --to alice@example.test \
		--header "Subject: $2" --add-header "$3" --body "forged" > "$T/swaks-f.log" 2>&1 ||
		fail "swaks $2: $(tail -5 "$T/swaks-f.log")"
	rm -f "$T"/sink/m.*
	R "$1" || fail "drain $2: $(tail -5 "$T/replay.log")"
	wait_for "grep -l '^Subject: $2' $T/sink/m.* >/dev/null 2>&1" 10 || fail "$2: not delivered"
	undump "$(grep -l "^Subject: $2" "$T"/sink/m.*)" "$T/$2.eml"
	grep -A1 '^ARC-Authentication-Results: ' "$T/$2.eml" | tr -d '\r\n' > "$T/$2.aar"
}
# not verified ([auth] verify = no): the ingest renamed nothing, so "none"
sendf "$T/mx.conf" forged-unverified "$FORGED"
[ "$(cat "$T/forged-unverified.aar")" = "ARC-Authentication-Results: i=1; mx.test;	none" ] ||
	fail "unverified message: the AAR is not 'none': $(cat "$T/forged-unverified.aar")"
verify_both "$T/forged-unverified.eml" "unverified message"
ok "not verified at ingest: AAR 'none', not the forged Authentication-Results: it carried"
# verified, [arc] authserv_id apart from [auth]'s: a forged A-R of the seal's id is not renamed
# by the ingest (not its id), and must not be taken either
kill "$INGEST_PID"; wait "$INGEST_PID" 2>/dev/null
INGEST_AUTH="verify = yes" arc_conf "$T/vf.conf" "authserv_id = seal.test"
ingest_start "$T/vf.conf" "$IPORT" "$T/ingest.log"
sendf "$T/vf.conf" forged-verified "${FORGED/mx.test/seal.test}"
grep -q '^ARC-Authentication-Results: i=1; seal.test;	spf=none smtp.mailfrom=s@sender.test;' \
	"$T/forged-verified.aar" && ! grep -q bank.example "$T/forged-verified.aar" ||
	fail "verified message: the AAR is not the ingest's: $(cat "$T/forged-verified.aar")"
grep -q '^Authentication-Results: seal.test; spf=pass' "$T/forged-verified.eml" ||
	fail "the forged header is not in the message (the test proves nothing)"
verify_both "$T/forged-verified.eml" "verified message"
ok "verified: the AAR is the ingest's own A-R (spf=none ...), not a forged one of the seal's id"
# [arc] authserv_id defaults to [auth] authserv_id (the id the ingest writes)
INGEST_AUTH="verify = yes
authserv_id = auth.test" arc_conf "$T/aid.conf"
printf 'Received: from x by auth.test; Thu, 3 Dec 2026 10:00:00 +0000\r\nAuthentication-Results: auth.test; spf=pass smtp.mailfrom=a@b.example\r\nFrom: a@b.example\r\n\r\nhi\r\n' > "$T/aid.eml"
"$ARCTOOL" -c "$T/aid.conf" "$T/aid.eml" > "$T/aid-s.eml" 2>"$T/at.log" || fail "arctool aid"
grep -q '^ARC-Authentication-Results: i=1; auth.test;' "$T/aid-s.eml" ||
	fail "[arc] authserv_id is not [auth]'s: $(grep ^ARC-Auth "$T/aid-s.eml")"
ok "[arc] authserv_id defaults to [auth] authserv_id"

# 4. the sealer alone: a message with trailing blanks, folded fields, our A-R, empty lines
printf '%s\r\n' "Received: from a.sender.test by mx.gw.test; Thu, 3 Dec 2026 10:00:00 +0000" \
	"Authentication-Results: mx.gw.test; spf=pass smtp.mailfrom=alice@sender.test;" \
	"	dkim=none" "Authentication-Results: other.test; spf=fail" \
	"From: Alice <alice@sender.test>" "To: bob@example.test" "Subject:   Hello  " \
	"	 folded   there " "Date: Thu, 3 Dec 2026 10:00:00 +0000" \
	"Message-ID: <1@sender.test>" "" "Hello  world   " "tabs	 here	" "" ".dot" "" "" \
	> "$T/msg.eml"
gwconf() {	# gwconf FILE SELECTOR KEY
	printf '[arc]\ndomain = gw.test\nselector = %s\nkey_file = %s\n[auth]\nauthserv_id = mx.gw.test\n[dns]\nnameserver = 127.0.0.1:%s\n' \
		"$2" "$3" "$DPORT" > "$1"
}
gwconf "$T/rsa.conf" rsa "$T/rsa.pem"; gwconf "$T/ed.conf" ed "$T/ed.pem"
"$ARCTOOL" -c "$T/rsa.conf" "$T/msg.eml" > "$T/s-rsa.eml" 2>"$T/at.log" ||
	fail "arctool: $(cat "$T/at.log")"
grep -qx 'i=1 cv=none' "$T/at.log" || fail "arctool: $(cat "$T/at.log")"
verify_both "$T/s-rsa.eml" "RSA seal"
grep -A1 '^ARC-Authentication-Results: i=1; mx.gw.test;' "$T/s-rsa.eml" |
	grep -q 'spf=pass smtp.mailfrom=alice@sender.test;' ||
	fail "AAR does not carry our A-R: $(grep -A2 ^ARC-Auth "$T/s-rsa.eml")"
# without the ingest's A-R where the ingest puts it (under its Received:), the index's words
grep -v -e '^Authentication-Results: mx.gw.test' -e '^	dkim=none' "$T/msg.eml" > "$T/msg-noar.eml"
"$ARCTOOL" -c "$T/rsa.conf" -r "spf=fail; dkim=none; dmarc=fail" "$T/msg-noar.eml" \
	> "$T/s-res.eml" 2>"$T/at.log" || fail "arctool -r"
grep -A1 '^ARC-Authentication-Results: i=1; mx.gw.test;' "$T/s-res.eml" |
	grep -q 'spf=fail; dkim=none; dmarc=fail' || fail "AAR does not carry the given verdicts"
verify_both "$T/s-res.eml" "RSA seal, given results"
# an A-R of our id lower down came with the message: not ours, the index's words again
printf '%s\r\n' "Received: from a.sender.test by mx.gw.test; Thu, 3 Dec 2026 10:00:00 +0000" \
	"From: Alice <alice@sender.test>" \
	"Authentication-Results: mx.gw.test; spf=pass smtp.mailfrom=alice@sender.test" \
	"To: bob@example.test" "Subject: low" "" "Hello" > "$T/msg-low.eml"
"$ARCTOOL" -c "$T/rsa.conf" -r "spf=fail; dkim=none; dmarc=fail" "$T/msg-low.eml" \
	> "$T/s-low.eml" 2>"$T/at.log" || fail "arctool -r (low)"
grep -A1 '^ARC-Authentication-Results: i=1; mx.gw.test;' "$T/s-low.eml" |
	grep -q 'spf=fail; dkim=none; dmarc=fail' ||
	fail "AAR took an A-R that is not the ingest's: $(grep -A1 ^ARC-Auth "$T/s-low.eml")"
# -u: not verified at ingest: "none" although our A-R is in place
"$ARCTOOL" -c "$T/rsa.conf" -u "$T/msg.eml" > "$T/s-unv.eml" 2>"$T/at.log" || fail "arctool -u"
grep -A1 '^ARC-Authentication-Results: i=1; mx.gw.test;' "$T/s-unv.eml" | grep -q '^	none' ||
	fail "AAR of an unverified message: $(grep -A1 ^ARC-Auth "$T/s-unv.eml")"
ok "sealer: RSA set passes all three; AAR = the ingest's A-R (not other.test's, not one lower down), else the index's verdicts, 'none' if not verified"

"$ARCTOOL" -c "$T/ed.conf" "$T/msg.eml" > "$T/s-ed.eml" 2>"$T/at.log" || fail "arctool ed25519"
grep -q '^ARC-Seal: i=1; a=ed25519-sha256;' "$T/s-ed.eml" || fail "not an Ed25519 seal"
verify_ed "$T/s-ed.eml" "Ed25519 seal"
break_seal "$T/s-ed.eml" "$T/s-ed-bad.eml"
refuse_ed "$T/s-ed-bad.eml" "Ed25519 seal with a damaged signature"
sed 's/^Hello  world/Hello  World/' "$T/s-ed.eml" > "$T/t-ed-body.eml"
refuse_ed "$T/t-ed-body.eml" "body changed after Ed25519 sealing"
ok "sealer: Ed25519 (RFC 8463) set passes dkimpy and mailauth; a damaged seal or body fails both"
break_seal "$T/s-rsa.eml" "$T/s-rsa-bad.eml"
refuse_both "$T/s-rsa-bad.eml" "RSA seal with a damaged signature"
ok "sealer: an RSA seal with a damaged signature fails all three verifiers"

# 5. a chain of two sealers: dkimpy's arc_sign seals first (i=1), then mxspool (i=2)
$PY - "$T/msg.eml" "$T/fwd.pem" > "$T/c1.eml" <<'PY' || fail "dkimpy arc_sign"
import sys, dkim
msg = open(sys.argv[1], 'rb').read()
msg = b"Authentication-Results: fwd.example; arc=none; spf=pass smtp.mailfrom=alice@sender.test\r\n" + msg
arc = dkim.arc_sign(msg, b"fwd", b"fwd.example", open(sys.argv[2], 'rb').read(), b"fwd.example")
assert arc, "arc_sign made no set"
sys.stdout.buffer.write(b"".join(arc) + msg)
PY
verify_both "$T/c1.eml" "the first sealer's (dkimpy) set"
"$ARCTOOL" -c "$T/rsa.conf" "$T/c1.eml" > "$T/c2.eml" 2>"$T/at.log" || fail "arctool chain"
grep -qx 'i=2 cv=pass' "$T/at.log" || fail "chain: $(cat "$T/at.log")"
head -1 "$T/c2.eml" | grep -q '^ARC-Seal: i=2; .*cv=pass;' || fail "chain: $(head -1 "$T/c2.eml")"
verify_both "$T/c2.eml" "chain of two sealers"
ok "chain: dkimpy seals i=1, mxspool validates it and seals i=2 cv=pass; all three pass"
"$ARCTOOL" -c "$T/ed.conf" "$T/c1.eml" > "$T/c2-ed.eml" 2>"$T/at.log" || fail "arctool chain ed"
grep -qx 'i=2 cv=pass' "$T/at.log" || fail "Ed25519 chain: $(cat "$T/at.log")"
head -1 "$T/c2-ed.eml" | grep -q '^ARC-Seal: i=2; a=ed25519-sha256; .*cv=pass;' ||
	fail "Ed25519 chain: $(head -1 "$T/c2-ed.eml")"
verify_ed "$T/c2-ed.eml" "chain of two sealers, Ed25519 last"
break_seal "$T/c2-ed.eml" "$T/c2-ed-bad.eml"
refuse_ed "$T/c2-ed-bad.eml" "Ed25519 chain with the i=2 seal damaged"
ok "chain: RSA (dkimpy) i=1, then mxspool Ed25519 i=2 cv=pass passes dkimpy and mailauth; damaged fails"

# 6. changes after sealing fail, and a broken chain is sealed cv=fail
sed 's/^Hello  world/Hello  World/' "$T/s-rsa.eml" > "$T/t-body.eml"
refuse_both "$T/t-body.eml" "body changed after sealing"
sed 's/^To: bob@/To: eve@/' "$T/s-rsa.eml" > "$T/t-hdr.eml"
refuse_both "$T/t-hdr.eml" "To: changed after sealing"
sed 's/^Hello  world/Hello  World/' "$T/c1.eml" > "$T/c1-bad.eml"
"$ARCTOOL" -c "$T/rsa.conf" "$T/c1-bad.eml" > "$T/c2-bad.eml" 2>"$T/at.log" ||
	fail "arctool on a broken chain"
grep -q '^i=2 cv=fail .*body hash mismatch' "$T/at.log" || fail "broken chain: $(cat "$T/at.log")"
head -1 "$T/c2-bad.eml" | grep -q '^ARC-Seal: i=2; .*cv=fail;' || fail "broken chain seal"
refuse_both "$T/c2-bad.eml" "a chain sealed cv=fail"
ok "a changed body or To: fails both verifiers; a broken chain is detected and sealed cv=fail"

# 7. a 50 MB message is hashed streaming: the sealer's peak memory stays far below its size
{ head -c -2 "$T/msg.eml"; for i in $(seq 1 100); do
	head -c 480000 /dev/zero | tr '\0' 'x' | fold -w 76 | sed 's/$/  \r/'; done; } > "$T/big.eml"
[ "$(stat -c %s "$T/big.eml")" -gt 50000000 ] || fail "big message too small"
rss=$($PY - "$ARCTOOL" "$T/rsa.conf" "$T/big.eml" "$T/s-big.eml" <<'PY'
import resource, subprocess, sys
with open(sys.argv[4], 'wb') as out:
    subprocess.run([sys.argv[1], '-c', sys.argv[2], sys.argv[3]], stdout=out, check=True,
                   stderr=subprocess.DEVNULL)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
PY
) || fail "arctool on 50 MB"
[ "$rss" -lt 30000 ] || fail "sealing 50 MB took $rss KiB of memory"
verify_both "$T/s-big.eml" "50 MB message"
ok "50 MB message sealed with $rss KiB peak memory; both verifiers pass"
exit 0
