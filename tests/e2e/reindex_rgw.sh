#!/bin/bash
# reindex_rgw.sh - rebuild the index from a real Ceph RGW bucket: commit messages (one
# with 200 recipients, so its envelope is a sidecar object), delete the index, reindex
# --repair, and compare the rebuilt rows with the originals; then an object deleted
# behind our back is reported missing and an orphan .eml is reported and adopted.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/rgw.sh"
ST=$BUILD/tests/tools/storetool
[ -x "$ST" ] || fail "no $ST (make O=... all)"

rgw_up mail
rgw_conf "$T/mx.conf" mail "prefix = arch/v1"
S() { "$ST" -c "$T/mx.conf" "$@"; }

ids=""
for i in 1 2 3; do
	printf 'Subject: m%s\r\n\r\nbody %s\r\n' "$i" "$i" > "$T/m$i.eml"
	id=$(S commit "$T/m$i.eml" --from "s$i@example.org" --mail-params "BODY=8BITMIME" \
		--rcpt "a$i@example.test" \
		--rcpt-params "NOTIFY=FAILURE ORCPT=rfc822;a$i@example.test" \
		--rcpt "b$i@Other.TEST") || fail "commit $i"
	ids="$ids $id"
done
args=""
for n in $(seq 1 200); do args="$args --rcpt user$n@example.test"; done
printf 'Subject: many\r\n\r\nlots of recipients\r\n' > "$T/m4.eml"
# shellcheck disable=SC2086
big=$(S commit "$T/m4.eml" --from "" $args) || fail "commit with 200 recipients"
ids="$ids $big"
bigkey=$(S show "$big" | sed -n 's/^location=store key=\([^ ]*\) .*/\1/p')
aws_s3 s3api head-object --bucket mail --key "${bigkey%.eml}.env.json" >/dev/null ||
	fail "no sidecar for the 200-recipient envelope"
aws_s3 s3api head-object --bucket mail --key "$bigkey" | grep -q '"envelope": "sidecar"' ||
	fail "metadata does not point at the sidecar"
for id in $ids; do S show "$id" > "$T/before.$id" || fail "show $id"; done
ok "4 messages committed (one with a sidecar envelope)"

rm -f "$T"/data/index.sqlite*
S reindex > "$T/dry" || fail "reindex (report only)"
grep -q '^objects=4 ok=0 added=4 missing=0 incomplete=0$' "$T/dry" ||
	{ cat "$T/dry"; fail "dry run"; }
S show "$big" >/dev/null 2>&1 && fail "report-only reindex changed the index"
S reindex --repair --node mx1 > "$T/rep" || fail "reindex --repair"
grep -q '^objects=4 ok=0 added=4 ' "$T/rep" || { cat "$T/rep"; fail "repair"; }
for id in $ids; do
	S show "$id" > "$T/after.$id" || fail "show $id after reindex"
	cmp -s "$T/before.$id" "$T/after.$id" || { diff "$T/before.$id" "$T/after.$id"; \
		fail "row $id differs after reindex"; }
done
grep -q '"addr":"user200@example.test"' "$T/after.$big" || fail "recipient 200 lost"
ok "empty index rebuilt from the bucket: rows equal (recipients, params, sha256)"

gone=$(echo $ids | cut -d' ' -f1)
gonekey=$(S show "$gone" | sed -n 's/^location=store key=\([^ ]*\) .*/\1/p')
aws_s3 s3 rm "s3://mail/$gonekey" >/dev/null || fail "delete $gonekey"
S reindex > "$T/r2" || fail "reindex after delete"
grep -q "^$gone missing key=" "$T/r2" || { cat "$T/r2"; fail "missing object not reported"; }
grep -q ' missing=1 ' "$T/r2" || fail "missing count"
S reindex --repair > /dev/null || fail "reindex --repair after delete"
S reindex > "$T/r3"
grep -q "^$gone missing key=.*already marked" "$T/r3" || { cat "$T/r3"; fail "not marked missing"; }
ok "an object deleted behind our back is reported and marked missing"

# an orphan: a message object written by another tool, with inline envelope metadata
oid=01JDAB3K8QW2E5R7T9Y1V3X5Z7.mx2
okey=arch/v1/mx2/2024/11/19/$oid.eml
sha=$(sha256sum "$T/m1.eml" | cut -d' ' -f1)
fmt='{"v":1,"id":"%s","node":"mx2","received_ms":1732000000000,"size":%d,"sha256":"%s",'
fmt=$fmt'"mail_from":"o@example.org","mail_params":"",'
fmt=$fmt'"rcpts":[{"addr":"z@example.test","params":""}],'
fmt=$fmt'"client_addr":"","client_name":"","helo":"","tls":""}'
# shellcheck disable=SC2059
env=$(printf "$fmt" "$oid" "$(stat -c %s "$T/m1.eml")" "$sha" | base64 -w0)
aws_s3 s3api put-object --bucket mail --key "$okey" --body "$T/m1.eml" \
	--metadata "envelope=$env,id=$oid,sha256=$sha" >/dev/null || fail "put orphan"
bad=01JDAB3K8QW2E5R7T9Y1V3X5Z8.mx2
aws_s3 s3api put-object --bucket mail --key "arch/v1/mx2/2024/11/19/$bad.eml" \
	--body "$T/m1.eml" >/dev/null || fail "put orphan without envelope"
S reindex --node mx1 > "$T/r4"
grep -q '^objects=3 ' "$T/r4" || { cat "$T/r4"; fail "--node mx1 should only list mx1"; }
S reindex --repair > "$T/r5" || fail "reindex --repair with orphans"
grep -q "^$oid added key=$okey" "$T/r5" || { cat "$T/r5"; fail "orphan not adopted"; }
grep -q "^$bad incomplete " "$T/r5" || fail "no-envelope object not incomplete"
S show "$oid" | grep -q '"addr":"z@example.test"' || fail "orphan row"
ok "orphan .eml reported and adopted; object without envelope reported incomplete"

# crash leftovers on S3: a message whose index row was never committed (written after its
# node registered with the index): reindex --repair does not adopt it; the start-up reconcile (with
# orphan_age = 1s) moves it aside to arch/v1/_orphaned/, once it is older than that
rgw_conf "$T/age.conf" mail "prefix = arch/v1
orphan_age = 1s"
# mx1's ingest commits into this index from now on (the ingest registers its node at start)
"$ST" -c "$T/age.conf" reconcile mx1 > "$T/rc0" 2>&1 || fail "reconcile: $(cat "$T/rc0")"
printf 'Subject: orphan\r\n\r\nnever acknowledged\r\n' > "$T/o.eml"
orph=$(S commit "$T/o.eml" --from "o@example.org" --rcpt "z@example.test") || fail "commit"
orphkey=$(S show "$orph" | sed -n 's/^location=store key=\([^ ]*\) .*/\1/p')
sqlite3 "$T/data/index.sqlite" "PRAGMA foreign_keys = ON; DELETE FROM messages WHERE id = '$orph'"
S reindex --repair > "$T/r6" || fail "reindex --repair with an orphan"
grep -q "^$orph orphan key=$orphkey" "$T/r6" || { cat "$T/r6"; fail "orphan not reported"; }
S show "$orph" > /dev/null 2>&1 && fail "reindex --repair adopted a never-acknowledged orphan"
sleep 2		# past orphan_age: no longer possibly in flight
"$ST" -c "$T/age.conf" reconcile mx1 > "$T/rc" 2>&1 || fail "reconcile: $(cat "$T/rc")"
grep -q '^objects=[0-9]* orphans=1 predate=0 tmp=0 failed=0$' "$T/rc" || { cat "$T/rc"; fail "reconcile counts"; }
aws_s3 s3api head-object --bucket mail --key "$orphkey" >/dev/null 2>&1 &&
	fail "the orphan is still at $orphkey"
aws_s3 s3api head-object --bucket mail --key "arch/v1/_orphaned/${orphkey#arch/v1/}" \
	| grep -q '"envelope"' || fail "the orphan (with its envelope metadata) is not in _orphaned/"
S reindex > "$T/r7" || fail "reindex after the reconcile"
grep -q "$orph" "$T/r7" && { cat "$T/r7"; fail "reindex still sees the moved orphan"; }
ok "S3 orphan: reindex --repair does not adopt it; reconcile moves it to _orphaned/ (metadata kept)"
