#!/bin/bash
# replay_cli.sh - the operator's view of mxspool-replay (issue 12, "the operator's controls").
#
# Messages enter through the real commit path (storetool commit, file store), from two
# nodes with names of different lengths.  Covers: --version (and mxspool-ingest -V);
# list columns line up with the header whatever the id length; sizes and ages for people
# (47.5 GiB, 3d 0h) in list/status/show/qshape while --json keeps raw numbers;
# hold --all --limit 10 holds exactly the 10 oldest; show of a message delivered to
# Postfix smtp-sink and purged by serve's retention says so (exit 0, no "reindex");
# exit codes of docs/replay.md: garbage index 70, newer schema (PRAGMA user_version) 70,
# bad storage url on export 78, [replay] concurrency = 0 -> 78, --concurrency 0 -> 64;
# qshape --json equal to the old aggregation (SELECT DISTINCT, recomputed here with
# sqlite3) on a mixed index, with filters; verify flush: a running mxspool-ingest whose
# callout primary (smtp-sink) accepts everyone answers 550 from a cached negative, and
# 250 after `verify flush`, without a restart.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/ingest.sh"
ST=$BUILD/tests/tools/storetool
[ -x "$ST" ] && [ -x "$REPLAY" ] && [ -x "$INGEST" ] || fail "build first (make O=... all)"
command -v smtp-sink >/dev/null || fail "no smtp-sink"
command -v sqlite3 >/dev/null || fail "no sqlite3"
chmod 711 "$T"

PORT=$(free_port)
conf() {	# conf FILE NODE [EXTRA_REPLAY_LINE...]
	f=$1; node=$2; shift 2
	cat > "$f" <<EOF
[general]
node = $node
data_dir = $T/data
[storage]
url = file://$T/store
[replay]
rate = 0
concurrency = 2
poll_interval = 1s
probe_interval = 0
retention = 0s
$(printf '%s\n' "$@")
[deliver]
connect_timeout = 5s
command_timeout = 10s
[routes]
* = smtp://127.0.0.1:$PORT
EOF
}
mkdir -p "$T/data"
conf "$T/mx.conf" mx1
conf "$T/long.conf" mx-backup-long
R() { "$REPLAY" -c "$T/mx.conf" "$@" 2>>"$T/replay.log"; }
Q() { sqlite3 "$T/data/index.sqlite" "$1"; }

N=0
commit() {	# commit CONF RCPT... - one message; prints its id
	cf=$1; shift
	N=$((N + 1))
	printf 'From: s@x.test\r\nSubject: msg-%d\r\n\r\nbody %d\r\n' "$N" "$N" > "$T/m$N.eml"
	args=(); for r in "$@"; do args+=(--rcpt "$r"); done
	"$ST" -c "$cf" commit "$T/m$N.eml" --from s@x.test "${args[@]}" 2>>"$T/st.log" ||
		fail "storetool commit"
}

# 1. --version
v=$("$REPLAY" --version) || fail "--version: exit $?"
echo "$v" | grep -Eq '^mxspool-replay [0-9]+\.[0-9]+\.[0-9]+ \(index schema [0-9]+' ||
	fail "--version: $v"
"$INGEST" -V | grep -Eq '^mxspool-ingest [0-9]' || fail "mxspool-ingest -V"
"$INGEST" --version | grep -Eq '^mxspool-ingest [0-9]' || fail "mxspool-ingest --version"
ok "--version: $v"

# 2. list: ids of different lengths, one column layout
a=$(commit "$T/mx.conf" u1@one.test v1@two.test)
b=$(commit "$T/long.conf" u2@one.test)
c=$(commit "$T/mx.conf" v3@two.test)
R list > "$T/list.txt" || fail "list"
# the column where the arrival date starts, on the header and on every message line
# (no {n} intervals: mawk has none)
awk '/^-Queue ID-/ { print "H", index($0, "--Arrival"); next }
	/^[0-9A-Z][0-9A-Z]*\.[a-z0-9-]/ { print "M", match($0, / 20[0-9][0-9]-/) + 1 }' \
	"$T/list.txt" > "$T/cols"
[ "$(grep -c '^M' "$T/cols")" = 3 ] || { cat "$T/list.txt"; fail "list: not 3 messages"; }
cols=$(cut -d' ' -f2 "$T/cols" | sort -u)
[ "$(echo "$cols" | wc -l)" = 1 ] || { cat "$T/list.txt"; fail "list columns: $cols"; }
ok "list: ids of nodes mx1 and mx-backup-long padded to one width (date at column $cols)"

# 3. sizes and ages for people; --json keeps raw numbers
now=$(($(date +%s) * 1000))
Q "UPDATE messages SET size = 51033003565, received_ms = $now - 4321 * 60000 WHERE id = '$a'"
R list > "$T/list.txt"
grep -F "$a" "$T/list.txt" | grep -q ' 47\.5 GiB .* 3d 0h ' ||
	{ cat "$T/list.txt"; fail "list: want 47.5 GiB and 3d 0h"; }
R status > "$T/status.txt"
grep -q '^Backlog: 3 messages, 4 recipients, 47\.5 GiB; oldest .* (3d 0h ago)' "$T/status.txt" ||
	{ cat "$T/status.txt"; fail "status: want 47.5 GiB, 3d 0h ago"; }
grep -q '^  queued .* 47\.5 GiB' "$T/status.txt" || { cat "$T/status.txt"; fail "status states"; }
R show "$a" | grep -q 'size: *47\.5 GiB (51033003565 bytes)' || fail "show: size"
R qshape | grep -q '(3d 0h ago)' || fail "qshape: oldest age"
R list --json | grep -q '"size": 51033003565' || fail "list --json: raw size"
R status --json | grep -q '"backlog_bytes": 51033003\|"bytes": 51033003' ||
	fail "status --json: raw bytes"
ok "list/status/show/qshape: 47.5 GiB and 3d 0h; --json raw bytes"

# 3b. show prints a fallback-spool path whole: [spool] dir may be 1023 octets
# (common/limits.h CONFIG_PATH_MAX); show's buffer was 512 and cut it short
long="/var/spool/$(printf 'd%.0s' $(seq 1 200))/$(printf 'e%.0s' $(seq 1 200))"
long="$long/$(printf 'f%.0s' $(seq 1 200))/$a.eml"
saved=$(Q "SELECT location || '|' || COALESCE(spool_path, '') FROM messages WHERE id = '$a'")
Q "UPDATE messages SET location = 1, spool_path = '$long' WHERE id = '$a'"
R show "$a" | grep -qF "stored at:  $long (fallback spool)" ||
	{ R show "$a" | grep 'stored at'; fail "show: spool path of ${#long} octets not whole"; }
Q "UPDATE messages SET location = ${saved%%|*}, spool_path = NULLIF('${saved#*|}', '')
    WHERE id = '$a'"
ok "show: a fallback-spool path of ${#long} octets printed whole"
Q "UPDATE messages SET size = 100, received_ms = $now - 1000 WHERE id = '$a'"

# 4. hold --all --limit 10: exactly the 10 oldest
for i in $(seq 1 12); do commit "$T/mx.conf" "h$i@three.test" > /dev/null; done
R hold --all --limit 10 --domain three.test > "$T/hold.txt"; rc=$?
[ "$rc" = 0 ] || { cat "$T/replay.log"; fail "hold --all --limit 10: exit $rc"; }
grep -q '^hold: 10 messages' "$T/hold.txt" || fail "hold: $(cat "$T/hold.txt")"
count() { python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'; }
[ "$(R list --state hold --json | count)" = 10 ] ||
	fail "hold --limit 10: $(R list --state hold | grep -c '^0')"
R list --state queued --domain three.test --json | python3 -c '
import json, sys
rows = json.load(sys.stdin)
rcpts = sorted(r["rcpt"] for m in rows for r in m["recipients"])
sys.exit(0 if rcpts == ["h11@three.test", "h12@three.test"] else 1)' ||
	fail "hold --limit 10 did not take the 10 oldest"
R release --all --limit 100 > /dev/null || fail "release --all --limit"
ok "hold --all --limit 10 holds the 10 oldest; release --all --limit works"

# 5. exit codes
mkdir -p "$T/g/data"
sed "s#$T/data#$T/g/data#" "$T/mx.conf" > "$T/g/mx.conf"
head -c 8192 /dev/urandom > "$T/g/data/index.sqlite"
"$REPLAY" -c "$T/g/mx.conf" status > /dev/null 2>"$T/err"; rc=$?
[ "$rc" = 70 ] || fail "garbage index: exit $rc, want 70 ($(cat "$T/err"))"
rm -f "$T/g/data/"index.sqlite*
cp "$T/data/index.sqlite" "$T/g/data/index.sqlite"
sqlite3 "$T/g/data/index.sqlite" 'PRAGMA user_version = 999'
"$REPLAY" -c "$T/g/mx.conf" list > /dev/null 2>"$T/err"; rc=$?
[ "$rc" = 70 ] || fail "newer schema: exit $rc, want 70 ($(cat "$T/err"))"
grep -q 'newer' "$T/err" || fail "newer schema: $(cat "$T/err")"
sed "s#^url = .*#url = ftp://storage.invalid/bucket#" "$T/mx.conf" > "$T/badurl.conf"
"$REPLAY" -c "$T/badurl.conf" export "$c" > /dev/null 2>"$T/err"; rc=$?
[ "$rc" = 78 ] || fail "export with a bad storage url: exit $rc, want 78 ($(cat "$T/err"))"
conf "$T/conc0.conf" mx1 "concurrency = 0"
"$REPLAY" -c "$T/conc0.conf" drain --dry-run > /dev/null 2>"$T/err"; rc=$?
[ "$rc" = 78 ] || fail "[replay] concurrency = 0: exit $rc, want 78 ($(cat "$T/err"))"
grep -q 'concurrency' "$T/err" || fail "concurrency = 0: $(cat "$T/err")"
R drain --concurrency 0 --dry-run > /dev/null; rc=$?
[ "$rc" = 64 ] || fail "--concurrency 0: exit $rc, want 64"
ok "exit codes: garbage index 70, newer schema 70, bad url on export 78," \
	"concurrency = 0 78, --concurrency 0 64"

# 6. qshape equals the old aggregation on a mixed index (states, domains, ages)
i=0
for id in $(Q "SELECT id FROM messages ORDER BY id"); do
	i=$((i + 1))
	case $((i % 4)) in
	0) st=hold ;; 1) st=queued ;; 2) st=quarantine ;; 3) st=delivered ;;
	esac
	Q "UPDATE messages SET state = '$st', received_ms = $now - $i * 37 * 60000 WHERE id = '$id'"
	[ "$st" = delivered ] && Q "UPDATE recipients SET state = 'delivered' WHERE message_id = '$id'"
done
x=$(Q "SELECT id FROM messages WHERE state = 'queued' LIMIT 1")
Q "UPDATE recipients SET state = 'quarantine' WHERE message_id = '$x' AND rcpt LIKE 'u%'"
qcheck() {	# qcheck WHERE ARGS... - qshape --json ARGS vs the old SELECT DISTINCT
	w=$1; shift
	old=$(Q "SELECT DISTINCT m.id, lower(q.domain), m.received_ms FROM messages m
		JOIN recipients q ON q.message_id = m.id AND q.state = 'pending'
		WHERE m.state IN ('queued','active','hold','quarantine') $w")
	R qshape --json "$@" > "$T/q.json" || fail "qshape $*"
	OLD="$old" NOW=$(($(date +%s) * 1000)) python3 - "$T/q.json" <<'PY' || fail "qshape $* differs"
import json, os, sys
edges = [5, 10, 20, 40, 80, 160, 320, 640, 1280]
now, want = int(os.environ["NOW"]), {}
for line in os.environ["OLD"].splitlines():
    _, dom, rcv = line.split("|")
    age = now - int(rcv)
    b = next((i for i, e in enumerate(edges) if age < e * 60000), len(edges))
    want.setdefault(dom, [0] * 10)[b] += 1
got = {r["domain"]: r["buckets"] for r in json.load(open(sys.argv[1]))["rows"]}
tot = got.pop("TOTAL")
ok = got == want and tot == [sum(c) for c in zip(*want.values())] if want else not got
if not ok:
    print("got", got, tot, "\nwant", want, file=sys.stderr)
sys.exit(0 if ok else 1)
PY
}
qcheck ""
qcheck "AND m.received_ms < $now - 200 * 60000" --older-than 200m
qcheck "AND EXISTS (SELECT 1 FROM recipients r WHERE r.message_id = m.id
	AND r.domain = 'two.test')" --domain two.test
qcheck "AND m.state = 'hold'" --state hold
ok "qshape --json equals the old aggregation (plain, --older-than, --domain, --state)"

# 7. show of a message delivered and then purged by serve's retention
mkdir -m 777 -p "$T/sink"
smtp-sink -u nobody -d "$T/sink/m." 127.0.0.1:"$PORT" 50 2>>"$T/sink.log" &
SINK=$!
cleanup_add "kill $SINK"
wait_port "$PORT" 10 || fail "smtp-sink did not start"
d=$(commit "$T/mx.conf" purge@four.test)
R drain --domain four.test > /dev/null || fail "drain to smtp-sink"
"$REPLAY" -c "$T/mx.conf" serve 2>>"$T/serve.log" &
SERVE=$!
cleanup_add "kill $SERVE"
wait_for "[ \"\$(Q \"SELECT purged_ms IS NOT NULL FROM messages WHERE id = '$d'\")\" = 1 ]" 30 ||
	fail "serve did not purge $d (retention 0s)"
kill "$SERVE"; wait "$SERVE"
R show "$d" > "$T/show.txt"; rc=$?
[ "$rc" = 0 ] || { cat "$T/show.txt" "$T/replay.log"; fail "show of a purged message: exit $rc"; }
grep -q 'delivered .* UTC; the stored object was purged .* by \[replay\] retention' \
	"$T/show.txt" || { cat "$T/show.txt"; fail "show: no purge explanation"; }
grep -qi reindex "$T/show.txt" "$T/replay.log" && fail "show of a purged message mentions reindex"
R export "$d" > /dev/null; rc=$?
[ "$rc" = 66 ] || fail "export of a purged message: exit $rc, want 66"
grep 'export' "$T/replay.log" | tail -1 | grep -q 'nothing to export: delivered .* retention' ||
	fail "export of a purged message: $(tail -1 "$T/replay.log")"
ok "show (exit 0) and export (66) of a purged message: delivered at, purged at, by retention"
kill "$SINK"; wait "$SINK" 2>/dev/null

# 8. verify flush with a running ingest: a cached negative -> 550, flushed -> 250
SPORT=$(free_port); IPORT=$(free_port)
mkdir -p "$T/run"; : > "$T/run/rcpts"
smtp-sink -u nobody 127.0.0.1:"$SPORT" 10 2>>"$T/sink.log" &	# the primary: all RCPTs exist
SINK=$!
cleanup_add "kill $SINK"
wait_port "$SPORT" 10 || fail "callout smtp-sink did not start"
ingest_conf "$T/in.conf" "127.0.0.1:$IPORT" "" "callout = smtp://127.0.0.1:$SPORT
negative_ttl = 1h"
ingest_start "$T/in.conf" "$IPORT" "$T/ingest.log"
rcpt() { ingest_rcpt_code "$IPORT" "$1"; }	# rcpt ADDR - the ingest's reply code to RCPT TO
[ "$(rcpt known@example.test)" = 250 ] || fail "callout to smtp-sink: not 250"
IQ() { sqlite3 "$T/run/index.sqlite" "$1"; }
t=$(($(date +%s) * 1000))
IQ "INSERT OR REPLACE INTO verify_cache VALUES ('new.user@example.test', 0, 550,
	'5.1.1 unknown', $t, $t + 3600000)"
[ "$(rcpt New.User@example.test)" = 550 ] || fail "cached negative: want 550"
IR() { "$REPLAY" -c "$T/in.conf" "$@" 2>>"$T/replay.log"; }
IR verify list --domain example.test | grep -q '^new.user@example.test  *negative  *550' ||
	fail "verify list: $(IR verify list)"
IR verify flush New.User@Example.TEST > "$T/flush.txt" || fail "verify flush: exit $?"
grep -q '^new.user@example.test: forgotten' "$T/flush.txt" || fail "flush: $(cat "$T/flush.txt")"
[ "$(rcpt New.User@example.test)" = 250 ] || fail "after verify flush: not 250"
[ "$(IQ "SELECT result FROM verify_cache WHERE address = 'new.user@example.test'")" = 1 ] ||
	fail "no fresh positive cached after the flush"
kill -0 "$INGEST_PID" || fail "ingest died"
IR verify flush --domain example.test | grep -q '^flush: 2 cached answers forgotten' ||
	fail "verify flush --domain"
IR verify flush nobody > /dev/null; [ $? = 64 ] || fail "verify flush of a non-address: want 64"
ok "verify flush: 550 from a cached negative, 250 after the flush, same ingest process"
