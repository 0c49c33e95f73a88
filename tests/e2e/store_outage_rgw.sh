#!/bin/bash
# store_outage_rgw.sh - the ingest while a real Ceph RGW is stopped or frozen:
#   a. gateway stopped: messages are accepted (250) through the fallback spool; after
#      breaker_failures failures the breaker opens and later messages make no S3
#      request at all (no attempt, no retry logged for them, even under -d); /healthz
#      stays 200 while the spool has room; gateway back: the probe closes the breaker,
#      the spooled messages reach the bucket (awscli) and the index says store
#   b. radosgw frozen with SIGSTOP (TCP accepted, never answered): the reply after
#      end-of-data comes within commit_deadline plus a margin (the client gives up
#      after that: a functional check, not a benchmark), 250 through the spool;
#      /healthz answers meanwhile (curl --max-time); SIGCONT: recovery as in a
#   c. /healthz 503 with the reason when every message would be refused: store down
#      and the spool over max_size (452, before and after the breaker opens); store down and the spool's file system below the
#      free-space reserve (the 452's log line says so, not "max_size"); the index's
#      file system full; the staging file system full (c2-c4 need root for tmpfs)
# OUTAGE_PARTS="b c" runs only those parts (to show each fails on an older build).
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/rgw.sh"
. "$(dirname "$0")/../lib/ingest.sh"
[ -x "$INGEST" ] || fail "no $INGEST (build first)"
ST=$BUILD/tests/tools/storetool
[ -x "$ST" ] || fail "no $ST (make O=... all)"
DEADLINE=5		# commit_deadline, seconds
MARGIN=25		# what the client adds before it gives up waiting for the reply

rgw_up mail
mkdir -p "$T/run"
printf 'postmaster\nalice\n' > "$T/run/rcpts"
PORT=$(free_port); HPORT=$(free_port)
# timeout = 300 and retries = 3: what a hung store cost before the deadline existed
INGEST_STORAGE="$(rgw_storage mail)
connect_timeout = 10
timeout = 300
retries = 3
commit_deadline = ${DEADLINE}s
breaker_failures = 3
probe_interval = 1s
probe_timeout = 2s
[spool]
max_size = 100M" ingest_conf "$T/mx.conf" "127.0.0.1:$PORT" "health_listen = 127.0.0.1:$HPORT
spool_flush_interval = 1s"
LOG=$T/mx.log
# -d: every S3 retry is logged with its key (which holds the message id)
"$INGEST" -d -c "$T/mx.conf" >> "$LOG" 2>&1 &
IPID=$!
cleanup_add "kill -9 $IPID"
wait_port "$PORT" 20 || { tail -20 "$LOG"; fail "ingest did not start"; }

# send.py PORT N WAIT - N sessions at once, one message each; prints "CODE ID" per
# message; a reply that has not come after WAIT seconds is a failure
cat > "$T/send.py" <<'PY'
import smtplib, sys, threading
port, n, wait = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
out, lock = [], threading.Lock()
def one(i):
    try:
        s = smtplib.SMTP("127.0.0.1", port, timeout=wait)
        s.ehlo("t.test")
        s.mail("bob@other.test")
        s.rcpt("alice@example.test")
        code, msg = s.data(b"Subject: outage %d\r\n\r\nbody %d\r\n" % (i, i))
        s.quit()
        line = "%d %s" % (code, msg.decode().split()[-1])
    except Exception as e:
        line = "ERR %s" % type(e).__name__
    with lock:
        out.append(line)
t = [threading.Thread(target=one, args=(i,)) for i in range(n)]
for x in t: x.start()
for x in t: x.join()
print("\n".join(out))
PY
send() {	# N -> "CODE ID" lines in $T/sent, all must be 250
	python3 "$T/send.py" "$PORT" "$1" $((DEADLINE + MARGIN)) > "$T/sent"
	! grep -v '^250 ' "$T/sent" || fail "not all 250 (reply later than ${DEADLINE}s + ${MARGIN}s: ERR timeout)"
	[ "$(wc -l < "$T/sent")" = "$1" ] || fail "$(wc -l < "$T/sent") replies for $1 messages"
}
health() {	# -> HTTP code (000: no answer within 3 s); body in $T/h.out
	curl -s --max-time 3 -o "$T/h.out" -w '%{http_code}' "http://127.0.0.1:$HPORT/healthz"
}
location() { "$ST" -c "$T/mx.conf" show "$1" 2>/dev/null | sed -n 's/^location=\([a-z]*\) .*/\1/p'; }
# in_bucket ID - the message's object is in the bucket and the index says store
in_bucket() {
	_k=$("$ST" -c "$T/mx.conf" show "$1" | sed -n 's/^location=store key=\([^ ]*\) .*/\1/p')
	[ -n "$_k" ] && aws_s3 s3api head-object --bucket mail --key "$_k" >/dev/null 2>&1
}
breaker_lines() { grep -c "store breaker $1" "$LOG"; }
part() { case " ${OUTAGE_PARTS:-a b c} " in *" $1 "*) return 0;; esac; return 1; }

send 1
id0=$(cut -d' ' -f2 "$T/sent")
[ "$(location "$id0")" = store ] || fail "$id0 not in the store with the gateway up"
[ "$(health)" = 200 ] || fail "healthz with the store up: $(cat "$T/h.out")"
ok "gateway up: 250, location=store, /healthz 200"

# --- a. gateway stopped
if part a; then
rgw_stop_gateway
# the breaker counts failures across the commit workers and the idle-store probe
# (probe_interval 1s): these three may open it, or the probe may have begun to
send 3
cut -d' ' -f2 "$T/sent" > "$T/first"
for id in $(cat "$T/first"); do
	grep -q "$id store \(tempfail reason=\"objstore\|fallback=spool reason=\"breaker open\)" \
		"$LOG" || fail "$id: neither a store attempt nor the breaker logged"
	[ "$(location "$id")" = spool ] || fail "$id not spooled"
done
wait_for "grep -q 'store breaker open reason=' '$LOG'" 10 || fail "breaker did not open"
ok "gateway stopped: 3 messages 250 via the spool; $(grep -o 'store breaker open.*' "$LOG")"
send 5
cut -d' ' -f2 "$T/sent" > "$T/later"
for id in $(cat "$T/later"); do
	grep -q "$id store fallback=spool reason=\"breaker open\"" "$LOG" ||
		fail "$id: not sent to the spool by the breaker"
	! grep -q "$id store tempfail\|retry .*$id" "$LOG" ||
		fail "$id: an S3 request was made with the breaker open"
	[ "$(location "$id")" = spool ] || fail "$id not spooled"
done
[ "$(health)" = 200 ] || fail "healthz with the store down and room in the spool: $(cat "$T/h.out")"
ok "breaker open: 5 more messages 250, no S3 attempt or retry for them; /healthz 200"

rgw_start_gateway
wait_for "grep -q 'store breaker closed' '$LOG'" 30 || fail "the probe did not close the breaker"
for id in $(cat "$T/first" "$T/later"); do
	wait_for "in_bucket $id" 30 || fail "$id did not reach the bucket (location $(location "$id"))"
done
[ "$(breaker_lines open)" = 1 ] && [ "$(breaker_lines closed)" = 1 ] ||
	fail "breaker transitions logged $(breaker_lines open)/$(breaker_lines closed) times, want 1/1"
send 1
[ "$(location "$(cut -d' ' -f2 "$T/sent")")" = store ] || fail "after recovery: not stored directly"
ok "gateway back: breaker closed (logged once), 8 spooled messages in the bucket, index says store"
fi

# --- b. radosgw frozen
if part b; then
nopen=$(breaker_lines open); nclosed=$(breaker_lines closed)
RGWPID=$(cat "$RGW_DIR/run/client.rgw.a.pid")
kill -STOP "$RGWPID"
cleanup_add "kill -CONT $RGWPID"
python3 "$T/send.py" "$PORT" 3 $((DEADLINE + MARGIN)) > "$T/frozen" &
SPID=$!
sleep 1		# the three commits are now waiting on the frozen gateway
h=$(health)
[ "$h" = 200 ] || fail "healthz while commits wait on a frozen store: '$h' $(cat "$T/h.out" 2>/dev/null)"
wait "$SPID"
! grep -v '^250 ' "$T/frozen" ||
	fail "frozen store: no 250 within commit_deadline ${DEADLINE}s + ${MARGIN}s (ERR timeout: the client gave up)"
# each was cut by the deadline, or (on a machine so slow that the idle-store probes
# opened the breaker first) sent to the spool by the breaker; at least one by the deadline
for id in $(cut -d' ' -f2 "$T/frozen"); do
	grep -q "$id store \(tempfail reason=.*deadline reached\|fallback=spool reason=\"breaker\)" \
		"$LOG" || fail "$id: neither the deadline nor the breaker logged"
	[ "$(location "$id")" = spool ] || fail "$id not spooled"
done
grep -q "store tempfail reason=.*deadline reached" "$LOG" || fail "no commit cut by the deadline"
ok "frozen gateway: /healthz 200 while 3 commits waited; each got 250 via the spool (deadline reached)"
wait_for "[ \$(breaker_lines open) = $((nopen + 1)) ]" 10 || fail "breaker did not open on the frozen store"
send 2
cat "$T/frozen" >> "$T/sent"
for id in $(cut -d' ' -f2 "$T/sent"); do
	[ "$(location "$id")" = spool ] || fail "$id not spooled"
done
[ "$(health)" = 200 ] || fail "healthz, frozen store, breaker open: $(cat "$T/h.out")"
kill -CONT "$RGWPID"
wait_for "[ \$(breaker_lines closed) = $((nclosed + 1)) ]" 60 || fail "breaker did not close after SIGCONT"
for id in $(cut -d' ' -f2 "$T/sent"); do
	wait_for "in_bucket $id" 60 || fail "$id did not reach the bucket after SIGCONT"
done
ok "frozen: breaker opened, 2 more via the spool, /healthz 200; SIGCONT: all 5 in the bucket"
fi

kill "$IPID"; wait "$IPID" || fail "ingest exit status $?"
no_sanitizer "$LOG"

# --- c. /healthz 503 when every message would be refused
part c || exit 0
rgw_stop_gateway
# start2 NAME STORAGE-MORE SPOOL-MORE [INGEST-MORE] [GENERAL-MORE]: an ingest on the stopped
# gateway; sets P (smtp) H (health) and its log $T/NAME.log
start2() {
	mkdir -p "$T/$1"
	P=$(free_port); H=$(free_port)
	INGEST_DIR=$T/$1 INGEST_GENERAL=${5:-} INGEST_STORAGE="$(rgw_storage mail)
retries = 0
connect_timeout = 1
commit_deadline = 2s
probe_interval = 1s
probe_timeout = 1s
$2" ingest_conf "$T/$1.conf" "127.0.0.1:$P" "health_listen = 127.0.0.1:$H
${4:-}" "[spool]
$3"
	"$INGEST" -c "$T/$1.conf" > "$T/$1.log" 2>&1 &
	eval "PID_$1=\$!"
	cleanup_add "kill -9 \$PID_$1"
	wait_port "$P" 20 || { cat "$T/$1.log"; fail "ingest $1 did not start"; }
}
h503() {	# H WANT-REASON-PATTERN
	wait_for "[ \"\$(curl -s --max-time 3 -o '$T/h.out' -w '%{http_code}' http://127.0.0.1:$1/healthz)\" = 503 ]" 15 ||
		fail "healthz: $(cat "$T/h.out") (want 503)"
	grep -q "$2" "$T/h.out" || fail "healthz reason: $(cat "$T/h.out") (want $2)"
}
start2 full "" "max_size = 1"
h503 "$H" "object store down .* and spool .* full (max_size 1"
# one after the other: three failures open the breaker, the fourth meets it open
for i in 1 2 3 4; do python3 "$T/send.py" "$P" 1 30; done > "$T/full.sent"
[ "$(grep -c '^452 ' "$T/full.sent")" = 4 ] || fail "store down, spool full: $(cat "$T/full.sent")"
grep -q "store breaker open" "$T/full.log" || fail "breaker did not open (spool full)"
grep -q "fallback=spool reason=\"breaker open\"" "$T/full.log" ||
	fail "no message met the open breaker with the spool full"
ok "store down, spool over max_size: /healthz $(cat "$T/h.out"); 452 (breaker closed and open)"

if [ "$(id -u)" = 0 ] && mkdir -p "$T/tiny" && mount -t tmpfs -o size=8m tmpfs "$T/tiny"; then
	cleanup_add "umount -l '$T/tiny'"
	# 8 MB free is below the spool's 16 MB reserve, although max_size is far away
	start2 reserve "" "dir = $T/tiny/spool"
	h503 "$H" "spool .*below the reserve"
	python3 "$T/send.py" "$P" 1 30 | grep -q '^452 ' || fail "store down, spool below reserve: not 452"
	grep -q "store nospace reason=\".*below the reserve" "$T/reserve.log" ||
		fail "log does not name the reserve: $(grep nospace "$T/reserve.log")"
	! grep -q "nospace.*max_size" "$T/reserve.log" || fail "log blames max_size"
	ok "store down, spool file system below the reserve: /healthz 503 and the log say so; 452"
	kill "$PID_reserve"

	rgw_start_gateway
	mkdir -p "$T/tiny/idx"
	start2 index "" "" "" "index = $T/tiny/idx/index.sqlite"
	wait_for "[ \"\$(curl -s --max-time 3 -o /dev/null -w '%{http_code}' http://127.0.0.1:$H/healthz)\" = 200 ]" 15 ||
		fail "healthz before the disk fills: not 200"
	dd if=/dev/zero of="$T/tiny/fill" bs=64k 2>/dev/null
	h503 "$H" "index .*file system full"
	ok "index file system full: /healthz $(cat "$T/h.out")"
	rm -f "$T/tiny/fill"
	kill "$PID_index"

	start2 staging "" "" "staging_dir = $T/tiny/staging"
	dd if=/dev/zero of="$T/tiny/fill" bs=64k 2>/dev/null
	h503 "$H" "staging .*file system full"
	ok "staging file system full: /healthz $(cat "$T/h.out")"
	rm -f "$T/tiny/fill"
	kill "$PID_staging"
else
	ok "file-system-full cases: skipped (need root and tmpfs)"
fi
kill "$PID_full"
for n in full ${PID_reserve:+reserve} ${PID_index:+index} ${PID_staging:+staging}; do
	no_sanitizer "$T/$n.log" "$n"
done
