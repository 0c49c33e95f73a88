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
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/rgw.sh"
CLI=$BUILD/tests/tools/objstore-cli
UNIT=$BUILD/tests/test_objstore
[ -x "$CLI" ] && [ -x "$UNIT" ] || fail "no $CLI or $UNIT (make O=... all unit)"
B=mxs-objstore

rgw_start
rgw_mkbucket "$B"
ok "rgw up at $RGW_URL"

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
exit 0
