#!/bin/bash
# ingest_concurrency.sh - many sessions and the per-client limits.
#   1. 1,000 idle connections held open; a new client still gets its banner
#      and can send a message; the ingest's RSS is reported (not asserted).
#   2. client_connection_count_limit = 3: the 4th concurrent connection from
#      one address gets 421 4.7.0; after one closes, a new one is served.
#   3. client_connection_rate_limit = 5/min: the 6th connection gets 421 4.7.0.
#   4. client_message_rate_limit = 2/min: the 3rd MAIL gets 450 4.7.1.
#   5. IPv6 clients count per /84: over the limit from a second address of
#      the same /84 (network namespace of our own), served from another /84.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/ingest.sh"
[ -x "$INGEST" ] || fail "no $INGEST (build first)"
mkdir -p "$T/run"
printf 'postmaster\nalice\n' > "$T/run/rcpts"
start_ingest() {	# NAME EXTRA
	_port=$(free_port)
	ingest_conf "$T/$1.conf" "127.0.0.1:$_port" "$2"
	ingest_start "$T/$1.conf" "$_port"
	eval "PORT_$1=$_port PID_$1=$INGEST_PID"
}

start_ingest many "client_connection_count_limit = 0
max_sessions = 1500"
python3 - "$PORT_many" "$PID_many" <<'PY' || fail "1,000 idle sessions"
import resource, smtplib, socket, sys
port, pid = int(sys.argv[1]), int(sys.argv[2])
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
conns = []
for i in range(1000):
    s = socket.create_connection(("127.0.0.1", port), timeout=60)
    conns.append(s)
for s in conns:
    b = s.recv(100)
    assert b.startswith(b"220 "), b
rss = [l for l in open("/proc/%d/status" % pid) if l.startswith(("VmRSS", "Threads"))]
s = smtplib.SMTP("127.0.0.1", port, timeout=60)
s.ehlo("new.test")
s.sendmail("bob@other.test", ["alice@example.test"], b"Subject: still served\r\n\r\nhi\r\n")
s.quit()
print("  1000 idle sessions held; " + " ".join(x.split()[0] + x.split()[1] for x in rss) + " kB")
for c in conns:
    c.close()
PY
ok "1,000 idle sessions: a new client still got its banner and sent a message"

start_ingest count "client_connection_count_limit = 3"
python3 - "$PORT_count" <<'PY' || fail "connection count limit"
import socket, sys
port = int(sys.argv[1])
def banner():
    s = socket.create_connection(("127.0.0.1", port), timeout=20)
    return s, s.makefile("rb").readline()
held = [banner() for _ in range(3)]
assert all(b.startswith(b"220 ") for _, b in held), held
s, b = banner()
assert b.startswith(b"421 4.7.0 mx.test Error: too many connections from 127.0.0.1"), b
held[0][0].close()
import time
for _ in range(50):
    s, b = banner()
    if b.startswith(b"220"):
        break
    time.sleep(0.1)
assert b.startswith(b"220"), b
PY
ok "client_connection_count_limit: 4th concurrent connection 421 4.7.0, served again after a close"

start_ingest rate "client_connection_rate_limit = 5
client_message_rate_limit = 2"
python3 - "$PORT_rate" <<'PY' || fail "rate limits"
import socket, sys
port = int(sys.argv[1])
got = []
# wait_port's probe was the first connection of this minute: 4 more are allowed
for i in range(4):
    s = socket.create_connection(("127.0.0.1", port), timeout=20)
    f = s.makefile("rb")
    got.append(f.readline())
    if i == 0:
        for n in range(3):
            s.sendall(b"HELO r.test\r\n" if n == 0 else b"RSET\r\n"); f.readline()
            s.sendall(b"MAIL FROM:<bob@other.test>\r\n")
            r = f.readline()
            assert r.startswith(b"250" if n < 2 else b"450 4.7.1 Error: too much mail"), (n, r)
    s.close()
assert all(b.startswith(b"220") for b in got), got
s = socket.create_connection(("127.0.0.1", port), timeout=20)
b = s.makefile("rb").readline()
assert b.startswith(b"421 4.7.0"), b
PY
ok "client_connection_rate_limit 5/min: 6th connection 421; client_message_rate_limit 2/min: 3rd MAIL 450 4.7.1"

# 5. IPv6 clients are counted per /84 (client_ipv6_prefix_length, as Postfix
# 3.8): one host with a /64 of its own must not get a fresh count for each
# address.  In a network namespace of our own, with addresses of the
# documentation prefix on its loopback.
NS=mxs-conc-$$
ip netns add "$NS" || fail "ip netns add $NS"
cleanup_add "ip netns del $NS"
NX="ip netns exec $NS"
$NX ip link set lo up || fail "netns lo up"
for a in 2001:db8::1 2001:db8::2 2001:db8::ffff:3 2001:db8::1000:0:4; do
	$NX ip -6 addr add "$a/128" dev lo nodad || fail "netns address $a"
done
V6PORT=$(free_port)
ingest_conf "$T/v6.conf" "[2001:db8::1]:$V6PORT" "client_connection_count_limit = 1"
$NX "$INGEST" -c "$T/v6.conf" >> "$T/v6.log" 2>&1 &
V6PID=$!
cleanup_add "kill -9 $V6PID"
$NX python3 - "$V6PORT" <<'PY' || { tail -5 "$T/v6.log"; fail "IPv6 /84 client count"; }
import socket, sys, time
port = int(sys.argv[1])
def banner(src):
    s = socket.socket(socket.AF_INET6)
    s.settimeout(20)
    s.bind((src, 0))
    s.connect(("2001:db8::1", port))
    return s, s.makefile("rb").readline()
for _ in range(200):
    try:
        held, b = banner("2001:db8::2")
        break
    except OSError:
        time.sleep(0.1)
assert b.startswith(b"220 "), b
# another address of the same /84: the same client, over its limit of 1
s, b = banner("2001:db8::ffff:3")
assert b.startswith(b"421 4.7.0 mx.test Error: too many connections from 2001:db8::ffff:3"), b
# an address of another /84 is another client
s, b = banner("2001:db8::1000:0:4")
assert b.startswith(b"220 "), b
PY
grep -q 'ingest refuse addr=2001:db8::ffff:3 client=2001:db8::/84 reason=connection_count' \
	"$T/v6.log" || fail "IPv6 refusal not logged with its /84: $(grep refuse "$T/v6.log")"
ok "IPv6 clients counted per /84: a second address of one /84 421 4.7.0, another /84 served"
