#!/bin/bash
# capture_replies.sh OUT - capture real primaries' replies as fuzz_reply scripts:
# Postfix smtp-sink (plain, with 5xx/4xx answers from -B/-f/-r) and Dovecot LMTP
# (tests/lib/dovecot.sh: alice and bob exist, carol gets 550 5.1.1).  A python
# client speaks what replay/deliver.c sends (greeting, EHLO/LHLO, MAIL, RCPT
# alice bob carol, DATA, the message, RSET, the same again, QUIT) and records
# each reply; the chunks (each ending in LF) are joined with "@@\n" after the harness's mode byte.
# Run by hand to refresh tests/fuzz/corpus/reply/.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/dovecot.sh"
OUT=${1:?usage: capture_replies.sh OUT}
case "$OUT" in /*) ;; *) OUT=$PWD/$OUT ;; esac
mkdir -p "$OUT"
cat > "$T/cap.py" <<'PY'
import socket, sys
host, proto, out = sys.argv[1], sys.argv[3], sys.argv[5]
port, mode = int(sys.argv[2]), int(sys.argv[4])
s = socket.create_connection((host, port), timeout=10)
f = s.makefile("rb")
chunks = []

def reply():
    data = b""
    while True:
        l = f.readline()
        data += l
        if len(l) < 4 or l[3:4] != b"-":
            return data

def cmd(line):
    s.sendall(line.encode() + b"\r\n")
    r = reply()
    chunks.append(r)
    return r

chunks.append(reply())
cmd(("LHLO" if proto == "lmtp" else "EHLO") + " mx.test")
for t in range(2):
    if t:
        cmd("RSET")
    cmd("MAIL FROM:<sender@other.test>")
    ok = [cmd("RCPT TO:<%s@example.test>" % r)[:1] == b"2" for r in ("alice", "bob", "carol")]
    if cmd("DATA")[:1] != b"3":
        continue
    s.sendall(b"Subject: fuzz\r\n\r\n..leading dot\r\nbody\r\n.\r\n")
    n = sum(ok) if proto == "lmtp" else 1
    chunks.append(b"".join(reply() for i in range(n)))
cmd("QUIT")
open(out, "wb").write(bytes([mode]) + b"@@\n".join(chunks))
PY

sink() {	# NAME ARGS... - smtp-sink with ARGS on a fresh port, one captured session
	name=$1; shift
	port=$(free_port)
	smtp-sink -u nobody -h mx.test "$@" 127.0.0.1:"$port" 10 2>>"$T/sink.log" & pid=$!
	wait_port "$port" 10 || fail "smtp-sink did not start"
	python3 "$T/cap.py" 127.0.0.1 "$port" smtp 0 "$OUT/$name" || fail "capture $name"
	kill "$pid"; wait "$pid" 2>/dev/null
}
sink postfix_sink
sink postfix_sink_8bit_noutf8 -8
sink postfix_sink_rcpt_5xx -B "550 5.1.1 Recipient address rejected: User unknown" -f RCPT
sink postfix_sink_data_4xx -r DATA
sink postfix_sink_dot_5xx -f .

dovecot_start alice bob
python3 "$T/cap.py" 127.0.0.1 "$LMTP_PORT" lmtp 4 "$OUT/dovecot_lmtp" || fail "capture lmtp"
ls -l "$OUT"
