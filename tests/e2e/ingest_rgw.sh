#!/bin/bash
# ingest_rgw.sh - mxspool-ingest against a real Ceph RGW, under load and kill -9.
#   1. smtp-source: 2,000 messages over 20 sessions; all in the index and the bucket
#   2. ingest_sender.py (20 sessions; records every "queued as <id>") plus smtp-source,
#      while the ingest is killed with SIGKILL at random moments and restarted,
#      several times; then every acknowledged id must be in the index, and its
#      object in the bucket (or, if the index says so, in the fallback spool).
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/rgw.sh"
. "$(dirname "$0")/../lib/ingest.sh"
[ -x "$INGEST" ] || fail "no $INGEST (build first)"
command -v smtp-source >/dev/null || fail "no smtp-source (postfix)"
N=${INGEST_RGW_MESSAGES:-2000}

rgw_up mail
PORT=$(free_port)
mkdir -p "$T/run"
printf 'postmaster\nalice\n' > "$T/run/rcpts"
INGEST_STORAGE="$(rgw_storage mail)
connect_timeout = 5
timeout = 30" ingest_conf "$T/ingest.conf" "127.0.0.1:$PORT" \
	"client_connection_count_limit = 0"
IPID=
start_ingest() {
	"$INGEST" -c "$T/ingest.conf" >> "$T/ingest.log" 2>&1 &
	IPID=$!
	wait_port "$PORT" 20 || { tail "$T/ingest.log"; fail "ingest did not start"; }
}
start_ingest
cleanup_add 'kill -9 $IPID'
count() { sqlite3 "$T/run/index.sqlite" "PRAGMA busy_timeout=5000; SELECT count(*) FROM messages" | tail -1; }

# --- 1. smtp-source load
smtp-source -s 20 -m "$N" -l 2048 -f load@other.test -t alice@example.test \
	127.0.0.1:"$PORT" > "$T/source.out" 2>&1 || { cat "$T/source.out"; fail "smtp-source"; }
c=$(count)
[ "$c" -eq "$N" ] || fail "index has $c messages after $N sent"
objs=$(aws_s3 s3 ls s3://mail/mail/mx1/ --recursive | grep -c '\.eml$')
[ "$objs" -eq "$N" ] || fail "bucket has $objs objects, want $N"
ok "smtp-source: $N messages over 20 sessions, $c indexed, $objs objects in the bucket"

# --- 2. kill -9 under load
: > "$T/acked"
python3 "$TOP/tests/e2e/ingest_sender.py" "$PORT" 20 1000000 "$T/acked" > "$T/sender.out" 2>&1 &
SPID=$!
cleanup_add "kill $SPID"
( while :; do smtp-source -s 5 -m 200 -f load@other.test -t alice@example.test \
	127.0.0.1:"$PORT" >/dev/null 2>&1; sleep 0.2; done ) &
LPID=$!
cleanup_add "kill $LPID"
for round in 1 2 3 4; do
	sleep "$(python3 -c 'import random; print(round(random.uniform(1.0, 3.0), 2))')"
	kill -9 "$IPID"
	wait "$IPID" 2>/dev/null
	ok "round $round: killed the ingest with SIGKILL ($(wc -l < "$T/acked") acknowledged so far)"
	start_ingest
done
sleep 2
kill "$SPID"; wait "$SPID" 2>/dev/null
kill "$LPID" 2>/dev/null; wait "$LPID" 2>/dev/null
acked=$(wc -l < "$T/acked")
[ "$acked" -gt 0 ] || fail "nothing acknowledged"

aws_s3 s3 ls s3://mail/mail/mx1/ --recursive | awk '{print $4}' > "$T/bucket"
sqlite3 "$T/run/index.sqlite" "SELECT id, location, object_key FROM messages" > "$T/index"
python3 - "$T/acked" "$T/bucket" "$T/index" "$T/run" <<'PY' || fail "acknowledged messages lost"
import os, sys
acked = [l.strip() for l in open(sys.argv[1]) if l.strip()]
bucket = set(os.path.basename(k)[:-4] for k in open(sys.argv[2]).read().split() if k.endswith(".eml"))
index = {}
for l in open(sys.argv[3]):
    mid, loc, key = l.rstrip("\n").split("|")
    index[mid] = (int(loc), key)
lost = []
for mid in acked:
    if mid not in index:
        lost.append(mid + " (not indexed)")
    elif index[mid][0] == 0 and mid not in bucket:
        lost.append(mid + " (no object)")
    elif index[mid][0] == 1 and not os.path.exists(os.path.join(sys.argv[4], "spool", mid + ".eml")):
        lost.append(mid + " (not in spool)")
if lost:
    print("lost %d of %d: %s" % (len(lost), len(acked), " ".join(lost[:10])))
    sys.exit(1)
print("all %d acknowledged ids indexed and stored (%d index rows, %d objects)" %
      (len(acked), len(index), len(bucket)))
PY
ok "kill -9 x4 under load: every acknowledged message is indexed and in the bucket"
