#!/bin/bash
# capture_rgw.sh OUT - capture real seed inputs for fuzz_s3xml and fuzz_envelope
# from a throwaway Ceph RGW (tests/lib/rgw.sh) and a real mxspool-ingest: raw
# ListObjectsV2 pages (plain, truncated, entity-encoded keys), error documents
# (NoSuchKey, NoSuchBucket, SignatureDoesNotMatch, NoSuchUpload), an
# InitiateMultipartUpload answer, and the envelope metadata the ingest wrote
# (inline base64 and a sidecar .env.json).  Run by hand to refresh
# tests/fuzz/corpus/{s3xml,envelope}/ (each file: the harness mode byte + body).
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/ingest.sh"
. "$(dirname "$0")/../lib/rgw.sh"
OUT=${1:?usage: capture_rgw.sh OUT}
case "$OUT" in /*) ;; *) OUT=$PWD/$OUT ;; esac
mkdir -p "$OUT/s3xml" "$OUT/envelope"
rgw_up fzseed
s3() {	# METHOD PATH+QUERY [SECRET] - the raw body of a SigV4-signed request (botocore)
	python3 - "$1" "$RGW_URL$2" "$RGW_AK" "${3:-$RGW_SK}" <<'PY'
import sys, urllib.request, urllib.error
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
method, url, ak, sk = sys.argv[1:5]
req = AWSRequest(method=method, url=url, data=b"")
S3SigV4Auth(Credentials(ak, sk), "s3", "us-east-1").add_auth(req)
r = urllib.request.Request(url, method=method, headers=dict(req.headers.items()), data=b"")
try:
    body = urllib.request.urlopen(r).read()
except urllib.error.HTTPError as e:
    body = e.read()
sys.stdout.buffer.write(body)
PY
}
seed() {	# DIR NAME MODE - stdin with the mode byte in front
	{ printf "\\x$3"; cat; } > "$OUT/$1/$2"
}
printf 'x' > "$T/obj"
for k in a/1.eml 'a/key with space & amp.eml' 'a/<lt>"q".eml' a/2.eml a/3.eml; do
	aws_s3 s3api put-object --bucket fzseed --key "$k" --body "$T/obj" > /dev/null ||
		fail "put $k"
done
s3 GET "/fzseed?list-type=2&prefix=a%2F" | seed s3xml list_rgw 00
s3 GET "/fzseed?list-type=2&max-keys=2&prefix=a%2F" | seed s3xml list_rgw_truncated 00
s3 GET "/fzseed?list-type=2&prefix=none%2F" | seed s3xml list_rgw_empty 00
s3 GET "/fzseed?encoding-type=url&list-type=2&prefix=a%2F" | seed s3xml list_rgw_urlenc 00
s3 GET "/fzseed/a/missing.eml" | seed s3xml error_nosuchkey 01
s3 GET "/nobucket?list-type=2" | seed s3xml error_nosuchbucket 01
s3 GET "/fzseed?list-type=2" wrongsecret0000000000000000000000000000 | seed s3xml error_signature 01
s3 POST "/fzseed/a/big.eml?uploads=" | seed s3xml multipart_initiate 02
s3 POST "/fzseed/a/big.eml?uploadId=nosuchupload" | seed s3xml error_nosuchupload 01

# envelopes as the ingest writes them: inline metadata, and a sidecar (many recipients)
printf 'alice\n' > "$T/rcpts"
for i in $(seq 1 60); do printf 'user%02d\n' "$i"; done >> "$T/rcpts"
mkdir -p "$T/run"; cp "$T/rcpts" "$T/run/rcpts"
PORT=$(free_port)
INGEST_STORAGE="$(rgw_storage fzseed)" ingest_conf "$T/ingest.conf" "127.0.0.1:$PORT"
ingest_start "$T/ingest.conf" "$PORT"
python3 - "$PORT" <<'PY' || fail "smtp"
import smtplib, sys
s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]))
s.ehlo("client.test")
s.sendmail("bob@other.test", ["alice@example.test"], "Subject: one\r\n\r\nbody\r\n",
           mail_options=["BODY=8BITMIME"], rcpt_options=["NOTIFY=SUCCESS,FAILURE"])
s.sendmail("", ["user%02d@example.test" % i for i in range(1, 61)], "Subject: many\r\n\r\nx\r\n")
s.quit()
PY
sleep 1
for k in $(aws_s3 s3api list-objects-v2 --bucket fzseed --prefix mail/ --query 'Contents[].Key' \
	--output text); do
	case "$k" in
	*.env.json) aws_s3 s3 cp "s3://fzseed/$k" - | seed envelope sidecar_rgw 00 ;;
	*.eml)
		v=$(aws_s3 s3api head-object --bucket fzseed --key "$k" --query 'Metadata.envelope' \
			--output text)
		[ "$v" = sidecar ] && continue
		printf '%s' "$v" | seed envelope meta_b64_rgw 01
		printf '%s' "$v" | base64 -d | seed envelope json_rgw 00 ;;
	esac
done
s3 GET "/fzseed?list-type=2&prefix=mail%2F" | seed s3xml list_rgw_ingest 00
ls -l "$OUT"/*
