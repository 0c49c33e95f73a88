#!/bin/bash
# leftovers.sh - what a crash leaves in the file store is cleaned up, and only that.
#   Messages are taken by a real mxspool-ingest; then the index rows of two are removed
#   (as when the ingest is killed between the object write and the index commit: never
#   acknowledged) and temp files of interrupted puts are placed, some older than
#   [storage] orphan_age (mtime set back), some fresh (a put in flight).
#   1. reindex --repair removes the stale temp files only and adds no orphan (it would
#      deliver a duplicate); it keeps adding what a lost index leaves (part 3)
#   2. ingest start-up: stale temp files removed, the old orphan moved aside to
#      mail/_orphaned/..., the fresh one (maybe in flight) and indexed messages untouched,
#      counts in the log; reindex does not see the moved orphan
#   3. a lost index (index.sqlite removed): objects older than the new index are not
#      moved, a warning points at reindex --repair, which adds them
#   4. a real kill -9 while the index commit waits for a lock: no 250; at the next start
#      the orphan (aged past orphan_age) is moved aside
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/ingest.sh"
mkdir -p "$T/run"
printf 'alice@example.test\n' > "$T/run/rcpts"
PORT=$(free_port)
ingest_conf "$T/mx.conf" "127.0.0.1:$PORT"
S=$T/run/store
sq() { sqlite3 "$T/run/index.sqlite" "$@"; }
stop_ingest() { kill "$INGEST_PID"; wait "$INGEST_PID" 2>/dev/null; }
old() { touch -d '2 hours ago' "$@"; }

ingest_start "$T/mx.conf" "$PORT"
python3 - "$PORT" <<'PY' || fail "could not send"
import smtplib, sys
s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=30)
for i in range(4):
    s.sendmail("bob@other.test", ["alice@example.test"], b"Subject: %d\r\n\r\nbody\r\n" % i)
s.quit()
PY
stop_ingest
[ "$(sq 'SELECT count(*) FROM messages')" = 4 ] || fail "4 messages not indexed"
mapfile -t KEYS < <(sq 'SELECT object_key FROM messages ORDER BY id')
mapfile -t IDS < <(sq 'SELECT id FROM messages ORDER BY id')
A=${KEYS[0]} B=${KEYS[1]}
DIR=$(dirname "$S/$A")
MDIR=$(dirname "$S/.meta/$A")
# A and B: written, never committed; A long ago, B just now (may be in flight)
sq "PRAGMA foreign_keys = ON; DELETE FROM messages WHERE id IN ('${IDS[0]}', '${IDS[1]}')"
old "$S/$A" "$S/.meta/$A"
place_tmp() {
	head -c 100000 /dev/urandom > "$DIR/.tmp-Old1x2"
	: > "$MDIR/.tmp-Old3x4"
	: > "$DIR/.tmp-New5x6"
	old "$DIR/.tmp-Old1x2" "$MDIR/.tmp-Old3x4"
}
place_tmp

# --- 1. reindex --repair
"$REPLAY" -c "$T/mx.conf" reindex --repair > "$T/reindex1.out" 2>&1 ||
	fail "reindex --repair: exit $?: $(cat "$T/reindex1.out")"
n=$(sq 'SELECT count(*) FROM messages')
[ "$n" = 2 ] || fail "reindex --repair: $n messages indexed, want 2 (it adopted orphans):
$(cat "$T/reindex1.out")"
grep -q "${IDS[0]} orphan" "$T/reindex1.out" && grep -q "${IDS[1]} orphan" "$T/reindex1.out" ||
	fail "reindex did not report the orphans: $(cat "$T/reindex1.out")"
[ ! -e "$DIR/.tmp-Old1x2" ] && [ ! -e "$MDIR/.tmp-Old3x4" ] ||
	fail "reindex left stale temp files: $(ls -A "$DIR" "$MDIR")"
[ -e "$DIR/.tmp-New5x6" ] || fail "reindex removed a temp file being written"
ok "reindex --repair: 2 orphans reported and not added, stale temp files removed, fresh kept"

# --- 2. ingest start-up
place_tmp
: > "$T/mx.log"		# only this start's reconcile
ingest_start "$T/mx.conf" "$PORT"
wait_for "grep -q 'reconcile done' '$T/mx.log'" 30 || fail "no reconcile at start-up: $(tail "$T/mx.log")"
grep -q "reconcile done node=mx1 objects=4 orphans=1 tmp_removed=2 failed=0" "$T/mx.log" ||
	fail "reconcile counts: $(grep reconcile "$T/mx.log")"
[ ! -e "$S/$A" ] && [ ! -e "$S/.meta/$A" ] || fail "the old orphan $A is still in place"
AS=$S/mail/_orphaned/${A#mail/}
[ -s "$AS" ] && [ -s "$S/.meta/mail/_orphaned/${A#mail/}" ] || fail "the orphan is not at $AS"
[ -e "$S/$B" ] || fail "the fresh orphan $B (maybe in flight) was touched"
for k in "${KEYS[2]}" "${KEYS[3]}"; do [ -e "$S/$k" ] || fail "indexed $k removed"; done
[ ! -e "$DIR/.tmp-Old1x2" ] && [ ! -e "$MDIR/.tmp-Old3x4" ] && [ -e "$DIR/.tmp-New5x6" ] ||
	fail "start-up temp file sweep: $(ls -A "$DIR" "$MDIR")"
grep -q "${IDS[0]} reconcile orphan key=$A moved=mail/_orphaned/" "$T/mx.log" ||
	fail "the move is not logged: $(grep reconcile "$T/mx.log")"
stop_ingest
"$REPLAY" -c "$T/mx.conf" reindex > "$T/reindex2.out" 2>&1 || fail "reindex: $(cat "$T/reindex2.out")"
grep -q "^reindex: 3 objects, 2 ok, 0 not indexed, 0 missing, 0 incomplete, 1 orphans" \
	"$T/reindex2.out" || fail "reindex after the reconcile: $(cat "$T/reindex2.out")"
ok "start-up: the old orphan moved to mail/_orphaned/ (logged, counted), the fresh one and" \
    "indexed ones kept, stale temp files removed; reindex ignores _orphaned/"

# --- 3. a lost index
rm -f "$T/run/index.sqlite" "$T/run/index.sqlite-wal" "$T/run/index.sqlite-shm"
old "$S/$B" "$S/${KEYS[2]}" "$S/${KEYS[3]}"
: > "$T/mx.log"
ingest_start "$T/mx.conf" "$PORT"
wait_for "grep -q 'reconcile done' '$T/mx.log'" 30 || fail "no reconcile at start-up: $(tail "$T/mx.log")"
grep -q "reconcile done node=mx1 objects=3 orphans=0" "$T/mx.log" ||
	fail "lost index: $(grep reconcile "$T/mx.log")"
grep -q "unindexed=3 node=mx1: .*index was lost or replaced.*reindex --repair" "$T/mx.log" ||
	fail "no lost-index warning: $(grep reconcile "$T/mx.log")"
for k in "$B" "${KEYS[2]}" "${KEYS[3]}"; do [ -e "$S/$k" ] || fail "lost index: $k moved"; done
stop_ingest
"$REPLAY" -c "$T/mx.conf" reindex --repair > "$T/reindex3.out" 2>&1 ||
	fail "reindex --repair: $(cat "$T/reindex3.out")"
[ "$(sq 'SELECT count(*) FROM messages')" = 3 ] ||
	fail "reindex --repair after a lost index: $(cat "$T/reindex3.out")"
ok "lost index: nothing moved, a warning points at reindex --repair, which adds the 3 messages"

# --- 4. a real kill -9 at end-of-data: the object is written, the index commit waits for a
# lock another process holds, the ingest is killed: the sender got no 250, the next start
# (the object aged past orphan_age) moves the orphan aside
emls() { find "$S/mail/mx1" -name '*.eml' | sort; }
emls > "$T/before.lst"
: > "$T/mx.log"
ingest_start "$T/mx.conf" "$PORT"
python3 - "$T/run/index.sqlite" "$T/locked" <<'PY' &
import sqlite3, sys, time
con = sqlite3.connect(sys.argv[1], isolation_level=None)
con.execute("BEGIN IMMEDIATE")
open(sys.argv[2], "w").close()
time.sleep(600)
PY
LOCKER=$!
cleanup_add "kill $LOCKER"
wait_for "[ -e '$T/locked' ]" 30 || fail "could not lock the index"
python3 - "$PORT" > "$T/kill.reply" 2>&1 <<'PY' &
import smtplib, sys
s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=60)
try:
    s.sendmail("bob@other.test", ["alice@example.test"], b"Subject: k\r\n\r\nkilled\r\n")
    print("250")
except Exception as e:
    print("no 250:", repr(e))
PY
SENDER=$!
wait_for "[ \$(find '$S/mail/mx1' -name '*.eml' | wc -l) -gt $(wc -l < "$T/before.lst") ]" 30 ||
	fail "the object was not written: $(tail -3 "$T/mx.log")"
kill -9 "$INGEST_PID"
kill "$LOCKER"
wait "$SENDER"
grep -q "^no 250" "$T/kill.reply" || fail "kill -9 at end-of-data: the sender got $(cat "$T/kill.reply")"
K=$(emls | comm -13 "$T/before.lst" -)
K=${K#"$S/"}
[ -n "$K" ] && [ -z "$(sq "SELECT id FROM messages WHERE object_key = '$K'")" ] ||
	fail "no unindexed object after kill -9"
old "$S/$K" "$S/.meta/$K"
: > "$T/mx.log"
ingest_start "$T/mx.conf" "$PORT"
wait_for "grep -q 'reconcile done' '$T/mx.log'" 30 || fail "no reconcile: $(tail "$T/mx.log")"
grep -q "reconcile orphan key=$K moved=mail/_orphaned/" "$T/mx.log" ||
	fail "the kill -9 orphan was not moved: $(grep reconcile "$T/mx.log")"
[ ! -e "$S/$K" ] || fail "$K still in place"
stop_ingest
ok "kill -9 while the index commit waits: no 250, the object's orphan moved aside at restart"

bad=$(grep -l "Sanitizer\|runtime error" "$T"/*.log "$T"/*.out 2>/dev/null)
[ -z "$bad" ] || fail "sanitizer reports in: $bad"
ok "no sanitizer reports"
