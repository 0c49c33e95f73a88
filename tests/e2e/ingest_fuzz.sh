#!/bin/bash
# ingest_fuzz.sh - hostile clients against a real ingest (the parsers' libFuzzer
# harnesses are replayed by tests/e2e/fuzz_replay.sh):
#   1. a client closing the connection mid-DATA: nothing indexed, nothing
#      left in the staging directory, data_aborted logged, ingest still serves.
#   2. max_sessions = 2: the third concurrent client gets 421 4.3.2 and is
#      closed; once one session ends a new client is served.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/ingest.sh"

[ -x "$INGEST" ] || fail "no $INGEST (build first)"

# --- the server
mkdir -p "$T/run/staging"
printf 'alice\n' > "$T/run/rcpts"
PORT=$(free_port)
ingest_conf "$T/ingest.conf" "127.0.0.1:$PORT" "staging_dir = $T/run/staging
max_sessions = 2"
ingest_start "$T/ingest.conf" "$PORT"
IPID=$INGEST_PID

# python3 helper: scripted raw sessions (no timing: every step waits for a reply)
cat > "$T/sess.py" <<'PY'
import socket, sys, time
port = int(sys.argv[1]); what = sys.argv[2]

def conn():
    s = socket.create_connection(("127.0.0.1", port), timeout=15)
    return s, s.makefile("rb")

def reply(f):
    while True:
        l = f.readline()
        if not l:
            return ""
        l = l.decode("latin-1").rstrip("\r\n")
        if len(l) < 4 or l[3] != "-":
            return l

def cmd(s, f, c, want):
    s.sendall(c.encode() + b"\r\n")
    r = reply(f)
    if not r.startswith(want):
        sys.exit("%s: got %r, want %s" % (c, r, want))

if what == "abort":
    # a big message cut off mid-DATA: the staging file must go, nothing indexed
    s, f = conn(); reply(f)
    cmd(s, f, "HELO client.test", "250")
    cmd(s, f, "MAIL FROM:<bob@other.test>", "250")
    cmd(s, f, "RCPT TO:<alice@example.test>", "250")
    cmd(s, f, "DATA", "354")
    s.sendall(b"Subject: cut\r\n\r\n" + (b"y" * 998 + b"\r\n") * 200)
    s.sendall(b"\r\n.")          # almost the end: never completed
    s.shutdown(socket.SHUT_WR)
    r = reply(f)                  # EOF, or a 4xx: never a 250
    if r.startswith("250"):
        sys.exit("aborted DATA got %r" % r)
    print("closed")
elif what == "send":
    s, f = conn()
    reply(f)
    cmd(s, f, "HELO client.test", "250")
    cmd(s, f, "MAIL FROM:<bob@other.test>", "250")
    cmd(s, f, "RCPT TO:<alice@example.test>", "250")
    cmd(s, f, "DATA", "354")
    cmd(s, f, "Subject: ok\r\n\r\nbody\r\n.", "250")
    cmd(s, f, "QUIT", "221")
    print("sent")
elif what == "sessions":
    # two sessions held open (banner read), the third is refused
    a, fa = conn(); ra = reply(fa)
    b, fb = conn(); rb = reply(fb)
    c, fc = conn(); rc = reply(fc)
    if not ra.startswith("220") or not rb.startswith("220"):
        sys.exit("first two: %r %r" % (ra, rb))
    if not rc.startswith("421 4.3.2"):
        sys.exit("third: got %r, want 421 4.3.2" % rc)
    if fc.read(1) != b"":
        sys.exit("third not closed")
    cmd(a, fa, "QUIT", "221")
    a.close()
    # the QUIT reply comes before the session thread ends: wait for its slot
    for i in range(200):
        d, fd = conn(); rd = reply(fd)
        if rd.startswith("220"):
            break
        d.close()
        time.sleep(0.05)
    else:
        sys.exit("no session freed after QUIT")
    cmd(d, fd, "QUIT", "221")
    cmd(b, fb, "QUIT", "221")
    print("refused")
PY

count_messages() {
	python3 -c 'import sqlite3,sys
try:
    print(sqlite3.connect(sys.argv[1]).execute("select count(*) from messages").fetchone()[0])
except Exception:
    print(0)' "$T/run/index.sqlite"
}

# --- 1. close mid-DATA
before=$(count_messages)
python3 "$T/sess.py" "$PORT" abort > "$T/abort.out" || fail "abort session: $(cat "$T/abort.out")"
wait_for "grep -q 'ingest data_aborted' '$T/ingest.log'" 10 || fail "no data_aborted logged"
[ "$(count_messages)" = "$before" ] || fail "a message was indexed for an aborted DATA"
left=$(find "$T/run/staging" -type f | wc -l)
[ "$left" = 0 ] || fail "staging files left behind: $(ls -la "$T/run/staging")"
python3 "$T/sess.py" "$PORT" send > "$T/send.out" || fail "send after abort: $(cat "$T/send.out")"
[ "$(count_messages)" = "$((before + 1))" ] || fail "the next message was not indexed"
ok "client closing mid-DATA: nothing indexed, no staging file left, next message accepted"

# --- 2. max_sessions
python3 "$T/sess.py" "$PORT" sessions > "$T/sessions.out" ||
	fail "max_sessions: $(cat "$T/sessions.out")"
grep -q "reason=max_sessions" "$T/ingest.log" || fail "no refuse reason=max_sessions logged"
ok "max_sessions = 2: third client 421 4.3.2 and closed, served again after a QUIT"

kill "$IPID"; wait "$IPID" || fail "ingest exit status $?"
no_sanitizer "$T/ingest.log"
ok "clean shutdown, no sanitizer reports"
