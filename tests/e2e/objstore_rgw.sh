#!/bin/bash
# objstore_rgw.sh - the object store against a real, strict S3 server (Ceph RGW).
#
#   1. the unit contract suite (tests/unit/test_objstore.c) against RGW, path-style,
#      single PUTs; then again with a small multipart_threshold (multipart for real)
#   2. an object written by mxspool read back by awscli (independent client) with
#      cmp, multipart ETag "-N" and metadata checked; and one written by awscli read
#      by mxspool
#   3. a wrong secret is refused: permanent failure naming the credentials, and the
#      secret is not in the message; a missing bucket is named
#   4. the gateway stopped in the middle of a multipart upload: temporary failure
#      (exit 75, not 76); while down every operation is a temporary failure; after a
#      restart no partial object is visible and puts work again
#   5. a front answering 503 SlowDown: retried with backoff, then exit 75
#   6. https through a TLS front with a self-signed certificate: works with ca_file,
#      refused (exit 76, naming ca_file) without
#   7. the conditional create (If-None-Match: *, the fleet's claims): a second create of a
#      key is refused with RGW's 412 (exit 2) and awscli still reads the first bytes; the
#      contract suite of step 1 also races 6 processes on one key (one wins); the fleet's
#      probe (what adopt asks before it claims) finds RGW honours it and leaves no key
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/rgw.sh"
CLI=$BUILD/tests/tools/objstore-cli
UNIT=$BUILD/tests/test_objstore
[ -x "$CLI" ] && [ -x "$UNIT" ] || fail "no $CLI or $UNIT (make O=... all unit)"
B=mxs-objstore

rgw_up "$B"

# conf FILE EXTRA... - a [storage] section for the test bucket plus EXTRA lines
conf() {
	_f=$1; shift
	{ printf '[storage]\nurl = %s\nbucket = %s\npath_style = yes\n' "$RGW_URL" "$B"
	  for _l in "$@"; do printf '%s\n' "$_l"; done; } > "$_f"
}
conf "$T/single.conf" "access_key = $RGW_AK" "secret_key = env:MXS_TEST_SK" \
	"multipart_threshold = 64M"
# credentials only from the environment here
conf "$T/multi.conf" "multipart_threshold = 6M" "part_size = 5M"
export MXS_TEST_SK=$RGW_SK
export MXSPOOL_S3_ACCESS_KEY=$RGW_AK MXSPOOL_S3_SECRET_KEY=$RGW_SK

# 1. the contract suite
MXS_TEST_STORAGE_CONF=$T/single.conf "$UNIT" > "$T/unit1.log" 2>&1 ||
	{ cat "$T/unit1.log"; fail "contract suite against RGW (single PUT)"; }
ok "contract suite passes against RGW (path-style, single PUT, secret via env:NAME)"
MXS_TEST_STORAGE_CONF=$T/multi.conf MXS_TEST_EXPECT_MULTIPART=1 "$UNIT" > "$T/unit2.log" 2>&1 ||
	{ cat "$T/unit2.log"; fail "contract suite against RGW (multipart)"; }
ok "contract suite passes against RGW with multipart_threshold 6M (20 MB object in parts)"

# 2. an independent client agrees on the bytes
K=mail/mx1/2026/11/23/01JDAB3K8QW2E5R7T9Y1U3I5O7.mx1.eml
head -c 12582917 /dev/urandom > "$T/big.eml"	# 12 MiB + 5: three parts of 5 MiB
"$CLI" -c "$T/multi.conf" put "$K" "$T/big.eml" -m envelope=eyJ2IjoxfQ== ||
	fail "objstore-cli put $K"
aws_s3 s3api head-object --bucket "$B" --key "$K" > "$T/head.json" || fail "head-object $K"
grep -q '"ETag": "\\"[0-9a-f]*-3\\""' "$T/head.json" ||
	{ cat "$T/head.json"; fail "ETag of $K does not end in -3 (not a 3-part upload)"; }
grep -q '"envelope": "eyJ2IjoxfQ=="' "$T/head.json" || fail "metadata not seen by awscli"
aws_s3 s3 cp "s3://$B/$K" "$T/aws.eml" > /dev/null || fail "awscli cannot read $K"
cmp "$T/big.eml" "$T/aws.eml" || fail "awscli reads other bytes than mxspool wrote"
ok "12 MB object written in 3 parts: awscli sees ETag -3, the metadata, the same bytes"
printf 'written\0by awscli\n' > "$T/small"
aws_s3 s3 cp "$T/small" "s3://$B/from-aws/x.eml" > /dev/null || fail "awscli put"
"$CLI" -c "$T/single.conf" get from-aws/x.eml "$T/small.got" || fail "get of an awscli object"
cmp "$T/small" "$T/small.got" || fail "mxspool reads other bytes than awscli wrote"
ok "object written by awscli reads back identical"

# 3. refusals that retrying cannot fix
conf "$T/wrong.conf" "access_key = $RGW_AK" "secret_key = WrongSecretValue0000000000000000000000000"
rc=0; "$CLI" -c "$T/wrong.conf" put "$K.2" "$T/small" 2> "$T/wrong.err" || rc=$?
[ "$rc" = 76 ] || { cat "$T/wrong.err"; fail "wrong secret: exit $rc, want 76 (permfail)"; }
grep -q 'credentials.*access_key/secret_key' "$T/wrong.err" ||
	{ cat "$T/wrong.err"; fail "wrong secret: message does not name the credentials"; }
grep -q WrongSecretValue "$T/wrong.err" && fail "the secret appears in the error message"
ok "wrong secret refused: exit 76, \"$(sed 's/^objstore-cli: //' "$T/wrong.err")\""
sed "s/^bucket = .*/bucket = no-such-bucket/" "$T/single.conf" > "$T/nobucket.conf"
rc=0; "$CLI" -c "$T/nobucket.conf" head "$K" 2> "$T/nob.err" || rc=$?
[ "$rc" = 76 ] && grep -q 'bucket no-such-bucket does not exist' "$T/nob.err" ||
	{ cat "$T/nob.err"; fail "missing bucket: exit $rc"; }
ok "missing bucket: exit 76, named in the message"

# 4. the gateway goes away in the middle of an upload
conf "$T/slow.conf" "multipart_threshold = 6M" "part_size = 5M" "max_upload_rate = 1M" \
	"retries = 2" "connect_timeout = 2" "timeout = 60"
KO=mail/mx1/2026/11/23/outage.eml
head -c 20971520 /dev/urandom > "$T/outage.eml"
"$CLI" -c "$T/slow.conf" put "$KO" "$T/outage.eml" 2> "$T/outage.err" &
pid=$!
# the upload is under way once RGW lists it as an open multipart upload
wait_for "aws_s3 s3api list-multipart-uploads --bucket $B | grep -q outage.eml" 60 ||
	fail "the throttled upload never started"
rgw_stop_gateway
rc=0; wait "$pid" || rc=$?
[ "$rc" = 75 ] || { cat "$T/outage.err"; fail "gateway stopped mid-upload: exit $rc, want 75"; }
ok "gateway stopped mid-upload: exit 75, \"$(sed 's/^objstore-cli: //' "$T/outage.err")\""
for op in "put $KO.2 $T/small" "head $KO" "get $KO $T/none" "del $KO" "ls mail/"; do
	rc=0; "$CLI" -c "$T/single.conf" $op 2> "$T/down.err" > /dev/null || rc=$?
	[ "$rc" = 75 ] || { cat "$T/down.err"; fail "gateway down: ${op%% *} exit $rc, want 75"; }
done
ok "gateway down: put, head, get, del, ls all exit 75"
rgw_start_gateway
rc=0; "$CLI" -c "$T/single.conf" head "$KO" 2> /dev/null || rc=$?
[ "$rc" = 1 ] || fail "after restart: head of the interrupted object exit $rc, want 1"
aws_s3 s3api head-object --bucket "$B" --key "$KO" > /dev/null 2>&1 &&
	fail "after restart: awscli sees a partial object"
"$CLI" -c "$T/single.conf" ls mail/ > "$T/ls.txt" || fail "ls after restart"
grep -q outage "$T/ls.txt" && fail "after restart: the interrupted object is listed"
"$CLI" -c "$T/single.conf" put "$KO" "$T/small" || fail "put after restart"
ok "after restart: no partial object visible (objstore-cli and awscli), puts work again"

# A front for RGW on loopback (python asyncio): TLS with a certificate, and/or the
# first FAILS requests answered "503 SlowDown" (what a throttling S3 says) unproxied.
cat > "$T/front.py" <<'PY'
import asyncio, ssl, sys
lport, tport, fails = int(sys.argv[1]), int(sys.argv[2]), [int(sys.argv[3])]
ctx = None
if len(sys.argv) > 5 and sys.argv[4]:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(sys.argv[4], sys.argv[5])
BODY = b"<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>"
async def pipe(r, w):
    try:
        while True:
            d = await r.read(65536)
            if not d:
                break
            w.write(d)
            await w.drain()
    finally:
        w.close()
async def handle(cr, cw):
    if fails[0] > 0:
        try:
            head = (await cr.readuntil(b"\r\n\r\n")).decode("latin-1").lower()
        except asyncio.IncompleteReadError:
            cw.close()	# a port probe, not a request
            return
        fails[0] -= 1
        if "expect: 100-continue" not in head:
            for line in head.split("\r\n"):
                if line.startswith("content-length:"):
                    await cr.readexactly(int(line.split(":")[1]))
        cw.write(b"HTTP/1.1 503 Slow Down\r\nContent-Type: application/xml\r\n"
                 b"Connection: close\r\nContent-Length: %d\r\n\r\n" % len(BODY) + BODY)
        await cw.drain()
        cw.close()
        print("503", flush=True)
        return
    try:
        ur, uw = await asyncio.open_connection("127.0.0.1", tport)
    except OSError:
        cw.close()
        return
    await asyncio.gather(pipe(cr, uw), pipe(ur, cw), return_exceptions=True)
async def main():
    srv = await asyncio.start_server(handle, "127.0.0.1", lport, ssl=ctx)
    async with srv:
        await srv.serve_forever()
asyncio.run(main())
PY
# front NAME FAILS [CERT KEY] - start one; sets FRONT_PORT
front() {
	FRONT_PORT=$(free_port)
	python3 "$T/front.py" "$FRONT_PORT" "$RGW_PORT" "$2" "${3:-}" "${4:-}" > "$T/$1.log" 2>&1 &
	cleanup_add "kill $!"
	wait_port "$FRONT_PORT" 10 || fail "front $1 did not start"
}

# 5. throttling: 503 SlowDown is retried with backoff, then a temporary failure
front slow2 2
sed "s|^url = .*|url = http://127.0.0.1:$FRONT_PORT|" "$T/single.conf" > "$T/f.conf"
{ cat "$T/f.conf"; echo "retries = 3"; } > "$T/retry3.conf"
"$CLI" -c "$T/retry3.conf" put throttle/x.eml "$T/small" || fail "put through 2 x 503"
[ "$(grep -c 503 "$T/slow2.log")" = 2 ] || fail "the front did not answer 503 twice"
aws_s3 s3api head-object --bucket "$B" --key throttle/x.eml > /dev/null || fail "not stored"
ok "503 SlowDown twice, retries = 3: stored on the third attempt"
front slowall 1000
sed "s|^url = .*|url = http://127.0.0.1:$FRONT_PORT|" "$T/single.conf" > "$T/f.conf"
{ cat "$T/f.conf"; echo "retries = 1"; } > "$T/retry1.conf"
rc=0; "$CLI" -c "$T/retry1.conf" put throttle/y.eml "$T/small" 2> "$T/slow.err" || rc=$?
[ "$rc" = 75 ] && grep -q '503 SlowDown' "$T/slow.err" ||
	{ cat "$T/slow.err"; fail "always 503: exit $rc, want 75 naming SlowDown"; }
[ "$(grep -c 503 "$T/slowall.log")" = 2 ] || fail "retries = 1 did not make exactly 2 attempts"
ok "always 503, retries = 1: 2 attempts, exit 75, \"$(sed 's/^objstore-cli: //' "$T/slow.err")\""

# 6. TLS: the front with a self-signed certificate for 127.0.0.1
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/tls.key" -out "$T/tls.pem" -days 2 \
	-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 > /dev/null 2>&1 ||
	fail "openssl req"
front tls 0 "$T/tls.pem" "$T/tls.key"
TLS_PORT=$FRONT_PORT
sed "s|^url = .*|url = https://127.0.0.1:$TLS_PORT|" "$T/single.conf" > "$T/tls-noca.conf"
{ cat "$T/tls-noca.conf"; echo "ca_file = $T/tls.pem"; } > "$T/tls.conf"
"$CLI" -c "$T/tls.conf" put tls/x.eml "$T/big.eml" || fail "put over TLS with ca_file"
"$CLI" -c "$T/tls.conf" get tls/x.eml "$T/tls.got" || fail "get over TLS with ca_file"
cmp "$T/big.eml" "$T/tls.got" || fail "bytes differ over TLS"
ok "https with ca_file: put and get through TLS, same bytes"
rc=0; "$CLI" -c "$T/tls-noca.conf" head tls/x.eml 2> "$T/tls.err" || rc=$?
[ "$rc" = 76 ] && grep -q 'TLS verification failed.*ca_file' "$T/tls.err" ||
	{ cat "$T/tls.err"; fail "unknown CA: exit $rc, want 76 naming ca_file"; }
ok "https without ca_file: refused, exit 76, \"$(sed 's/^objstore-cli: //' "$T/tls.err")\""

# 7. conditional create
CK=mail/_fleet/claims/mx1/0000000001.json
printf '{"adopter":"mx2"}' > "$T/claim1"
printf '{"adopter":"mx3"}' > "$T/claim2"
"$CLI" -c "$T/single.conf" create "$CK" "$T/claim1" || fail "create of a new key"
rc=0; "$CLI" -c "$T/single.conf" create "$CK" "$T/claim2" 2> "$T/create.err" || rc=$?
[ "$rc" = 2 ] && grep -q '412' "$T/create.err" ||
	{ cat "$T/create.err"; fail "second create: exit $rc, want 2 (exists, 412)"; }
aws_s3 s3 cp "s3://$B/$CK" "$T/claim.got" > /dev/null || fail "awscli cannot read $CK"
cmp "$T/claim1" "$T/claim.got" || fail "the second create replaced the first object"
"$CLI" -c "$T/single.conf" probe > "$T/probe.out" 2>&1 || fail "probe: $(cat "$T/probe.out")"
[ -z "$(aws_s3 s3 ls --recursive "s3://$B/mail/_fleet/probe/")" ] || fail "the probe key stayed"
ok "conditional create: the second is refused (\"$(sed 's/^objstore-cli: //' "$T/create.err")\"), awscli reads the first; the fleet's probe: $(cat "$T/probe.out")"
exit 0
