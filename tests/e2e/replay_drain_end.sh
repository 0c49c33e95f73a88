#!/bin/bash
# replay_drain_end.sh - drain's exit code follows how the queue ends, and its progress
# bar stays readable on a terminal.
#
# The primary greylists (tests/lib/greylist_primary.py: 451 to the first RCPT of each
# grey* address, 250 after).  1) A drain in which one message is greylisted, then
# delivered on its retry in the same run, exits 0 (docs/replay.md: 75 only when
# messages are LEFT deferred).  2) A drain that ends with the message still deferred
# exits 75 and says so; the next drain delivers it (0).  3) On a pseudo-terminal
# (script(1)) the bar is not interleaved with per-recipient log lines and its ETA is
# "--:--" or h:mm:ss.
. "$(dirname "$0")/../lib/common.sh"
ST=$BUILD/tests/tools/storetool
[ -x "$ST" ] && [ -x "$REPLAY" ] || fail "build first (make O=... all)"
command -v script >/dev/null || fail "no script(1) (bsdutils)"

PORT=$(free_port)
mx_conf "$T/mx.conf" <<EOF
[replay]
rate = 200
ramp = 1s
concurrency = 1
min_backoff = 1s
max_backoff = 1s
probe_interval = 0
[deliver]
connect_timeout = 5s
command_timeout = 30s
[routes]
* = smtp://127.0.0.1:$PORT
EOF
R() { "$REPLAY" -c "$T/mx.conf" "$@" 2>>"$T/replay.log"; }
python3 "$TOP/tests/lib/greylist_primary.py" "$PORT" "$T/got" 2>>"$T/primary.log" &
cleanup_add "kill $!"
wait_port "$PORT" 10 || fail "greylist primary did not start"

N=0
commit() {	# commit RCPT - one message; prints its id
	N=$((N + 1))
	printf 'From: s@x.test\r\nSubject: msg-%d\r\n\r\nbody %d\r\n' "$N" "$N" > "$T/m$N.eml"
	"$ST" -c "$T/mx.conf" commit "$T/m$N.eml" --from s@x.test --rcpt "$1" 2>>"$T/st.log" ||
		fail "storetool commit"
}
state() { R show --json "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["state"])'; }
got() { ls "$T/got" 2>/dev/null | wc -l; }

# 1. greylisted first, delivered on the retry within the same drain: exit 0.  The rate
# (1/s, 5 messages) keeps the drain going for 3 s or more, over twice the longest backoff
# (1 s + 25% jitter): the retry is due before the last message may start.
g=$(commit grey1@x.test)
for i in 1 2 3 4; do commit u$i@x.test > /dev/null; done
R drain --rate 1 > "$T/d1.out"; rc=$?
[ "$(state "$g")" = delivered ] || fail "greylisted message not delivered in the run: $(state "$g")"
R show "$g" | grep -q ' 451 ' || fail "no 451 attempt recorded: $(R show "$g")"
grep -q ' 1 deferred' "$T/d1.out" || fail "summary does not count the deferral: $(cat "$T/d1.out")"
[ "$rc" = 0 ] ||
	fail "drain after a deferral that later succeeded: exit $rc, want 0 ($(cat "$T/d1.out"))"
[ "$(got)" = 5 ] || fail "primary got $(got) messages, want 5"
ok "451 then 250 in the same drain: exit 0, the deferral still counted in the summary"

# 2. the drain ends while the message waits for its retry: 75, and it says so
h=$(commit grey2@x.test)
R drain > "$T/d2.out"; rc=$?
[ "$rc" = 75 ] || fail "drain ending with a deferred message: exit $rc, want 75"
grep -q '1 message left deferred' "$T/d2.out" || fail "no 'left deferred': $(cat "$T/d2.out")"
[ "$(state "$h")" = queued ] || fail "state $(state "$h"), want queued"
R drain > "$T/d3.out" || fail "second drain: exit $? ($(cat "$T/d3.out"))"
[ "$(state "$h")" = delivered ] || fail "not delivered by the second drain"
ok "a message left deferred: exit 75 ('1 message left deferred'); the next drain delivers it (0)"

# 3. a pseudo-terminal: the bar alone, no per-recipient log lines, a well-formed ETA
for i in $(seq 1 12); do commit t$i@x.test > /dev/null; done
script -qec "$REPLAY -c $T/mx.conf drain --rate 20" /dev/null > "$T/tty.out" 2>&1 ||
	fail "drain on a pty: $(tail -c 600 "$T/tty.out")"
python3 - "$T/tty.out" <<'PY' || fail "progress output on a terminal (above)"
import re, sys
raw = open(sys.argv[1], "rb").read().decode("utf-8", "replace")
# what the terminal shows: each \r or \n starts a new piece of screen line
pieces = [p for p in re.split(r"[\r\n]+", raw.replace("\x1b[K", "")) if p.strip()]
bars = [p for p in pieces if p.startswith("[") and " msg/s ETA " in p]
if not bars:
    print("no progress bar in:", raw[-500:]); sys.exit(1)
logs = [p for p in pieces if "replay rcpt" in p or "mxspool-replay[" in p]
if logs:
    print("log lines on the terminal with the bar:", logs[:3]); sys.exit(1)
for b in bars:
    m = re.search(r" ETA (\S+) ", b)
    if not m or not re.fullmatch(r"--:--|\d+:[0-5]\d:[0-5]\d", m.group(1)):
        print("bad ETA in", repr(b)); sys.exit(1)
if not any(p.startswith("drain: 12 messages attempted") for p in pieces):
    print("no summary line:", pieces[-3:]); sys.exit(1)
print("  %d bar redraws, last: %s" % (len(bars), bars[-1].strip()))
PY
[ "$(got)" = 18 ] || fail "primary got $(got) messages, want 18"
ok "on a pty: the bar without log lines, ETA --:-- or h:mm:ss, summary on its own line"
exit 0
