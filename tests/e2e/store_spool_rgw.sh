#!/bin/bash
# store_spool_rgw.sh - the commit path against a real Ceph RGW: a commit lands in the
# bucket; with the gateway stopped a commit still succeeds into the local spool (index
# says spool); after the gateway is back a flush uploads it (bytes compared with awscli)
# and moves the index row to the store.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/rgw.sh"
ST=$BUILD/tests/tools/storetool
[ -x "$ST" ] || fail "no $ST (make O=... all)"

rgw_up mail
rgw_conf "$T/mx.conf" mail "retries = 0
connect_timeout = 2
timeout = 20
[spool]
max_size = 10M"
printf 'Subject: one\r\n\r\nfirst body\r\n' > "$T/m1.eml"
python3 -c "import sys; sys.stdout.write('Subject: two\r\n\r\n' + 'x' * 70000 + '\r\n')" \
	> "$T/m2.eml"

id1=$("$ST" -c "$T/mx.conf" commit "$T/m1.eml" --from a@example.org --rcpt b@example.test) ||
	fail "commit with the store up"
"$ST" -c "$T/mx.conf" show "$id1" | grep -q '^location=store ' || fail "$id1 not in the store"
key1=$("$ST" -c "$T/mx.conf" show "$id1" | sed -n 's/^location=store key=\([^ ]*\) .*/\1/p')
aws_s3 s3 cp "s3://mail/$key1" "$T/got1" >/dev/null || fail "object $key1 not in the bucket"
cmp -s "$T/m1.eml" "$T/got1" || fail "object bytes differ"
ok "commit with the store up: object in the bucket, index location=store"

rgw_stop_gateway
id2=$("$ST" -c "$T/mx.conf" commit "$T/m2.eml" --from a@example.org --rcpt c@example.test \
	2>"$T/commit2.err") || { cat "$T/commit2.err"; fail "commit with the store down"; }
grep -q "$id2 store tempfail reason=" "$T/commit2.err" || fail "no tempfail log line"
"$ST" -c "$T/mx.conf" show "$id2" | grep -q '^location=spool ' || fail "$id2 not spooled"
[ -f "$T/data/spool/$id2.eml" ] && [ -f "$T/data/spool/$id2.env.json" ] || fail "spool files"
cmp -s "$T/m2.eml" "$T/data/spool/$id2.eml" || fail "spooled bytes differ"
ok "commit with the gateway down: exit 0, spooled, index location=spool"

[ "$("$ST" -c "$T/mx.conf" flush 2>/dev/null)" = 1 ] || fail "flush while down should leave 1"
rgw_start_gateway
[ "$("$ST" -c "$T/mx.conf" flush)" = 0 ] || fail "flush after restart left messages"
"$ST" -c "$T/mx.conf" show "$id2" > "$T/show2" || fail "show $id2"
grep -q '^location=store ' "$T/show2" || fail "$id2 still in the spool after flush"
key2=$(sed -n 's/^location=store key=\([^ ]*\) .*/\1/p' "$T/show2")
aws_s3 s3 cp "s3://mail/$key2" "$T/got2" >/dev/null || fail "flushed object not in the bucket"
cmp -s "$T/m2.eml" "$T/got2" || fail "flushed bytes differ"
aws_s3 s3api head-object --bucket mail --key "$key2" > "$T/head2" || fail "head $key2"
grep -q "\"id\": \"$id2\"" "$T/head2" || fail "metadata id missing"
[ ! -e "$T/data/spool/$id2.eml" ] || fail "spool file left after flush"
ok "flush after the gateway is back: object in the bucket (bytes equal), location=store"
