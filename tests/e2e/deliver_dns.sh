#!/bin/bash
# deliver_dns.sh - the SMTP client resolves peer names through [dns] nameserver (common/dns.c),
# not libc: a route names a host that only the test's loopback DNS server (dnsmasq) knows.
#
# Checked with mxspool-replay drain against Postfix smtp-sink: the name is looked up on the
# test's server (its query log) and the message is delivered; a route to a name the server
# says does not exist defers the message (exit 75, kept queued) with the reason "no such host"; with
# [dns] pointing at a server that never answers, the lookup ends within the connect's
# deadline ([deliver] connect_timeout) and the message is deferred, not lost.  A name with
# an IPv6 address that never answers (SYNs to [::1] dropped: a listener whose accept queue
# is full) and an IPv4 one that works: the IPv6 address, tried first, takes only its share
# of connect_timeout and the message is delivered over IPv4 in the same attempt.
. "$(dirname "$0")/../lib/common.sh"
. "$TOP/tests/lib/dns.sh"
ST=$BUILD/tests/tools/storetool
[ -x "$ST" ] && [ -x "$REPLAY" ] || fail "build first (make O=... all)"
command -v smtp-sink >/dev/null || fail "no smtp-sink"
chmod 711 "$T"

cat > "$T/zone" <<'Z'
local=/route.example/
host-record=primary.route.example,127.0.0.1
host-record=dual.route.example,127.0.0.1,::1
Z
dns_start "$T/zone"
dns_silent_start
PORT=$(free_port)
conf() {	# conf NAMESERVER HOST
	mx_conf "$T/mx.conf" <<C
[dns]
nameserver = $1
timeout = 5s
[replay]
min_backoff = 1s
max_backoff = 2s
retention = 0s
[deliver]
connect_timeout = 2s
command_timeout = 10s
[routes]
* = smtp://$2:$PORT
C
}
R() { "$REPLAY" -c "$T/mx.conf" "$@" 2>>"$T/replay.log"; }
mkdir -m 777 -p "$T/sink"
smtp-sink -u nobody -d "$T/sink/m." 127.0.0.1:"$PORT" 10 2>>"$T/sink.log" &
SINKPID=$!
cleanup_add "kill $SINKPID 2>/dev/null"
wait_port "$PORT" 10 || fail "smtp-sink did not start"

N=0
commit() {	# commit - one message to bob@dest.test; prints its id
	N=$((N + 1))
	printf 'From: s@x.test\r\nSubject: msg-%d\r\nMessage-ID: <%d@x.test>\r\n\r\nbody\r\n' \
		"$N" "$N" > "$T/m$N.eml"
	"$ST" -c "$T/mx.conf" commit "$T/m$N.eml" --from s@x.test --rcpt bob@dest.test \
		2>>"$T/st.log" || fail "storetool commit"
}
state() { R show --json "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["state"])'; }

# 1. a route by a name only the test's DNS server knows: delivered
conf "$DNS_NS" primary.route.example
a=$(commit)
R drain > "$T/d1" || fail "drain to primary.route.example: $(cat "$T/d1" "$T/replay.log")"
[ "$(ls "$T/sink" | wc -l)" = 1 ] || fail "no message at the sink: $(cat "$T/replay.log")"
[ "$(state "$a")" = delivered ] || fail "state $(state "$a"), want delivered"
grep -q 'query\[A\] primary.route.example' "$T/dnsmasq.log" ||
	fail "the name was not asked of [dns] nameserver: $(cat "$T/dnsmasq.log")"
ok "route smtp://primary.route.example: looked up on [dns] nameserver, delivered"

# 2. a name the server says does not exist: deferred, the reason says so
conf "$DNS_NS" missing.route.example
b=$(commit)
R drain > "$T/d2"; rc=$?
[ "$rc" = 75 ] || fail "drain to a missing name: exit $rc, want 75: $(cat "$T/d2")"
[ "$(state "$b")" = queued ] || fail "state $(state "$b"), want queued (to be retried)"
grep -q 'missing.route.example.*no such host' "$T/replay.log" "$T/d2" ||
	fail "no NXDOMAIN reason: $(tail -5 "$T/replay.log")"
ok "NXDOMAIN name: deferred (75), reason \"no such host\""

# 3. a resolver that never answers: the lookup ends by the connect's deadline, deferred
conf "$SILENT_NS" primary.route.example
R requeue "$b" > /dev/null 2>&1
R drain > "$T/d3"; rc=$?
[ "$rc" = 75 ] || fail "drain with a silent resolver: exit $rc, want 75: $(cat "$T/d3")"
grep -q 'primary.route.example: temporary DNS failure (timeout)' "$T/replay.log" "$T/d3" ||
	fail "no timeout reason: $(tail -5 "$T/replay.log")"
[ "$(ls "$T/sink" | wc -l)" = 1 ] || fail "a message got through without its address"
ok "silent resolver: deferred (75), \"temporary DNS failure (timeout)\""

# 4. IPv6 first, and it never answers: the next address still gets its turn in the deadline
python3 - "$PORT" > "$T/hole.out" 2>&1 <<'PY' &
import socket, sys, time
port = int(sys.argv[1])
l = socket.socket(socket.AF_INET6)
l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("::1", port))
l.listen(0)
fill = []
for _ in range(3):	# never accepted: the queue stays full, later SYNs are dropped
    c = socket.socket(socket.AF_INET6)
    c.setblocking(False)
    try:
        c.connect(("::1", port))
    except BlockingIOError:
        pass
    fill.append(c)
print("ready", flush=True)
time.sleep(600)
PY
HOLE=$!
cleanup_add "kill $HOLE 2>/dev/null"
wait_for 'grep -q ready "$T/hole.out"' 10 || fail "no IPv6 black hole: $(cat "$T/hole.out")"
python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET6); s.settimeout(1)
try:
    s.connect(("::1", int(sys.argv[1]))); sys.exit(1)
except socket.timeout:
    sys.exit(0)' "$PORT" || fail "[::1]:$PORT answers: not a black hole"
conf "$DNS_NS" dual.route.example
c=$(commit)
R drain > "$T/d4" || fail "drain to dual.route.example: $(cat "$T/d4"; tail -5 "$T/replay.log")"
[ "$(state "$c")" = delivered ] || fail "state $(state "$c"), want delivered over IPv4"
[ "$(ls "$T/sink" | wc -l)" = 3 ] || fail "not at the sink (with the requeued one of step 3): $(tail -5 "$T/replay.log")"
grep -q 'query\[AAAA\] dual.route.example' "$T/dnsmasq.log" || fail "no AAAA asked"
ok "AAAA ::1 never answers, A works: delivered in the same attempt (IPv6 took its share)"
