#!/bin/bash
# check_store_rgw.sh - the "store" readiness check against a real Ceph RGW: the
# canary is put, read back and deleted with the configured credentials (nothing
# left in the bucket); rotated credentials, a missing bucket and a stopped gateway
# each FAIL with the S3 reason, and the exit code is 1.
. "$(dirname "$0")/../lib/common.sh"
. "$TOP/tests/lib/dns.sh"
. "$TOP/tests/lib/rgw.sh"
rgw_up ready
printf 'local=/example.com/\n' > "$T/zone"
dns_start "$T/zone"	# the other checks ask this empty zone, never the Internet
mkdir -p "$T/data"
echo postmaster@example.com > "$T/rcpts"
NOPORT=$(free_port)
conf() {	# conf FILE STORAGE-LINES
	cat > "$1" <<C
[general]
node = mx1
data_dir = $T/data
[storage]
$2
path_style = yes
retries = 0
connect_timeout = 3s
timeout = 5s
[dns]
nameserver = $DNS_NS
[ingest]
listen = 127.0.0.1:$NOPORT
hostname = mx2.example.com
[domain example.com]
recipients = $T/rcpts
[check]
timeout = 3s
C
}
store() {	# store STORAGE-LINES: the check's store result into $T/store.json, exit in $RC
	conf "$T/c.conf" "$1"
	"$REPLAY" -c "$T/c.conf" check --json > "$T/out.json" 2>"$T/out.err"
	RC=$?
	jq -es '.[0].checks[] | select(.check == "store")' "$T/out.json" > "$T/store.json" ||
		{ cat "$T/out.err"; fail "no store result"; }
}
expect() {	# expect STATUS PATTERN
	jq -e --arg s "$1" --arg p "$2" '.status == $s and (.evidence | test($p))' \
		"$T/store.json" >/dev/null || { cat "$T/store.json"; fail "want $1 /$2/"; }
	ok "store $1: $(jq -r .evidence "$T/store.json" | cut -c1-120)"
}

store "$(rgw_storage ready)"
expect pass 'canary put, read back intact, deleted'
[ -z "$(aws_s3 s3 ls --recursive s3://ready/)" ] || fail "the canary stayed in the bucket"
ok "nothing left in the bucket"

store "$(rgw_storage ready | sed 's/^secret_key = .*/secret_key = RotatedAway0000000000000000000000000000001/')"
expect fail 'put .*check/canary-mx1-.*(SignatureDoesNotMatch|403)'
[ "$RC" = 1 ] || fail "rotated secret: exit $RC"
store "$(rgw_storage gone)"
expect fail 'put .*bucket gone does not exist'
rgw_stop_gateway
store "$(rgw_storage ready)"
expect fail 'put .*check/canary'
[ "$RC" = 1 ] || fail "gateway down: exit $RC"
ok "rotated secret, missing bucket, stopped gateway: FAIL, exit 1"
