#!/bin/bash
# ingest_faults.sh - the ingest when things around it go wrong:
#   1. monitoring mode: while the primary (Postfix smtp-sink) answers, MAIL gets
#      451 4.3.0; once it is stopped, mail is accepted again
#   2. storage down and the fallback spool full: 452 4.3.1 after DATA (never
#      250), /healthz 503; nothing indexed
#   3. low disk on the staging file system (min_free_space): 452 4.3.1 at MAIL
#   4. started as root with [ingest] user = nobody: runs as nobody and accepts mail
#   5. minimum data rate: a client trickling DATA (each read well within the
#      timeout) is still cut off with 421 4.4.2 (Postfix smtpd_min_data_rate), and so
#      is one sending small BDAT chunks slowly (the rate is the message's)
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/ingest.sh"
[ -x "$INGEST" ] || fail "no $INGEST (build first)"
command -v smtp-sink >/dev/null || fail "no smtp-sink (postfix)"
printf 'postmaster\nalice\n' > "$T/rcpts"
start_ingest() {	# NAME STORAGE-SECTION INGEST-EXTRA
	_port=$(free_port); _hport=$(free_port)
	while [ "$_hport" = "$_port" ]; do _hport=$(free_port); done	# the kernel may hand out one port twice
	mkdir -p "$T/$1"
	INGEST_DIR=$T/$1 INGEST_STORAGE=$2 INGEST_RCPTS=$T/rcpts ingest_conf "$T/$1.conf" \
	    "127.0.0.1:$_port" "health_listen = 127.0.0.1:$_hport
$3"
	[ -z "${4:-}" ] || chown -R "$4" "$T/$1"
	"$INGEST" -c "$T/$1.conf" > "$T/$1.log" 2>&1 &
	_pid=$!
	cleanup_add "kill -9 $_pid"
	wait_port "$_port" 20 || { cat "$T/$1.log"; fail "ingest $1 did not start"; }
	eval "PORT_$1=$_port HPORT_$1=$_hport PID_$1=$_pid"
}
# mail_reply PORT STEP - the reply code at STEP (mail|data) of one transaction
cat > "$T/try.py" <<'PY'
import socket, sys
port, step = int(sys.argv[1]), sys.argv[2]
s = socket.create_connection(("127.0.0.1", port), timeout=60)
f = s.makefile("rb")
def cmd(c):
    s.sendall(c + b"\r\n")
    while True:
        l = f.readline()
        if l[3:4] != b"-":
            return l.decode().strip()
f.readline()
cmd(b"EHLO t.test")
r = cmd(b"MAIL FROM:<bob@other.test>")
if step == "mail" or not r.startswith("250"):
    print(r); sys.exit(0)
cmd(b"RCPT TO:<alice@example.test>")
cmd(b"DATA")
print(cmd(b"Subject: t\r\n\r\nbody\r\n."))
PY

# --- 1. monitoring mode
SINK=$(free_port)
smtp-sink $([ "$(id -u)" = 0 ] && echo "-u nobody") 127.0.0.1:"$SINK" 10 > /dev/null 2>&1 &
SINKPID=$!
cleanup_add "kill $SINKPID"
wait_port "$SINK" 10 || fail "smtp-sink did not start"
start_ingest mon "url = file://$T/mon/store" "monitor = smtp://127.0.0.1:$SINK
monitor_interval = 1
monitor_healthy_after = 1
monitor_unhealthy_after = 1"
wait_for "python3 '$T/try.py' $PORT_mon mail | grep -q '^451 4.3.0 mx.test: primary MX is up'" 20 \
	|| fail "MAIL not deferred while the primary is up: $(python3 "$T/try.py" "$PORT_mon" mail)"
kill "$SINKPID"
wait_for "python3 '$T/try.py' $PORT_mon data | grep -q '^250 2.0.0 Ok: queued as'" 20 \
	|| fail "mail not accepted with the primary down"
ok "monitoring mode: 451 4.3.0 while the primary answers, 250 once it is down"

# --- 2. storage down, spool full
DEAD=$(free_port)
start_ingest down "url = http://127.0.0.1:$DEAD
bucket = mail
access_key = AK
secret_key = SK
retries = 0
connect_timeout = 1
[spool]
max_size = 1" ""
r=$(python3 "$T/try.py" "$PORT_down" data)
case "$r" in "452 4.3.1 "*) ;; *) fail "store down + spool full: got '$r', want 452 4.3.1";; esac
code=$(curl -s -o "$T/h.out" -w '%{http_code}' "http://127.0.0.1:$HPORT_down/healthz")
[ "$code" = 503 ] || fail "healthz with the store down: $code"
n=$(sqlite3 "$T/down/index.sqlite" "SELECT count(*) FROM messages")
[ "$n" = 0 ] || fail "$n messages indexed with the store down"
ok "store down and spool full: 452 4.3.1 after DATA, /healthz 503 ($(cat "$T/h.out")), nothing indexed"

# --- 3. low disk
start_ingest disk "url = file://$T/disk/store" "min_free_space = 1000000g"
r=$(python3 "$T/try.py" "$PORT_disk" mail)
case "$r" in "452 4.3.1 Insufficient system storage") ;; *) fail "low disk: got '$r'";; esac
ok "low disk on the staging directory: 452 4.3.1 at MAIL"

# --- 4. privilege drop
if [ "$(id -u)" = 0 ]; then
	chmod 755 "$T"; chmod 644 "$T/rcpts"
	start_ingest priv "url = file://$T/priv/store" "user = nobody" nobody
	uid=$(awk '/^Uid:/{print $2, $3, $4, $5}' "/proc/$PID_priv/status")
	[ "$uid" = "$(id -u nobody) $(id -u nobody) $(id -u nobody) $(id -u nobody)" ] \
		|| fail "not running as nobody: Uid $uid"
	r=$(python3 "$T/try.py" "$PORT_priv" data)
	case "$r" in "250 2.0.0 Ok: queued as "*) ;; *) fail "as nobody: got '$r'";; esac
	ok "started as root, runs as nobody (uid $(id -u nobody)) and stores mail"
else
	ok "privilege drop: skipped (not root)"
fi

# --- 5. minimum data rate
start_ingest slow "url = file://$T/slow/store" "timeout = 2s
min_data_rate = 1000000"
python3 - "$PORT_slow" <<'PY' || fail "min data rate"
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=30)
f = s.makefile("rb")
f.readline()
for c in (b"HELO s.test", b"MAIL FROM:<bob@other.test>", b"RCPT TO:<alice@example.test>", b"DATA"):
    s.sendall(c + b"\r\n"); f.readline()
s.settimeout(0.5)
for i in range(60):
    try:
        s.sendall(b"x")
        l = s.recv(200)
        break
    except socket.timeout:
        continue
    except OSError:
        l = b"reset"
        break
else:
    raise SystemExit("a 1 byte/0.5 s sender was never cut off")
assert l.startswith(b"421 4.4.2 mx.test Error: timeout exceeded"), l
PY
ok "a client trickling DATA below min_data_rate gets 421 4.4.2"
python3 - "$PORT_slow" <<'PY' || fail "min data rate over BDAT chunks"
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=30)
f = s.makefile("rb")
f.readline()
for c in (b"EHLO s.test", b"MAIL FROM:<bob@other.test>", b"RCPT TO:<alice@example.test>"):
    s.sendall(c + b"\r\n")
    while True:
        l = f.readline()
        if l[3:4] != b"-":
            break
# each chunk whole, one every 0.5 s: no single read waits, the message as a whole is slow
for i in range(60):
    s.sendall(b"BDAT 1\r\nx")
    l = f.readline()
    if not l.startswith(b"250 "):
        break
    time.sleep(0.5)
else:
    raise SystemExit("a BDAT sender of 1 octet per 0.5 s was never cut off")
assert l.startswith(b"421 4.4.2 mx.test Error: timeout exceeded"), l
PY
ok "a client sending whole BDAT chunks below min_data_rate gets 421 4.4.2"

stop_clean mon down disk slow ${PID_priv:+priv}
ok "clean shutdown, no sanitizer reports"
