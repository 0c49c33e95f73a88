#!/bin/bash
# ingest_dnsbl.sh - DNSBL/DNSWL screening before the greeting ([dnsbl]) against a
# real DNS server on loopback (dnsmasq, tests/lib/dns.sh).  Clients connect from
# different 127.0.0.x source addresses (and ::1).  Checked: a listed client gets
# "554 5.7.1 ... blocked using ZONE" as greeting and to every command but QUIT
# (221); IPv6 reversed names; an allowlisted network is accepted; a
# 127.255.255.254 answer is an error (logged), not a listing; return-code
# filters (a code outside the filter does not count); two lists adding up to
# the threshold (the highest-weighted one named); a list alone below it; a
# DNSWL negative weight offsetting a listing; the result cache (a second
# connection logs cached=yes and sends no query); a reload; a list that never answers
# and one whose server is down score 0, and so does a resolver that is dead.
# Allowlisted names: a client whose reverse name is confirmed by its A record and
# matches a name (exact) or a .domain (any name under it) skips screening; a PTR
# that the A record does not confirm, a name the entry does not cover, and a PTR
# lookup that times out allowlist nothing; only wanted names cost a forward
# lookup; the verdict is cached; a mistyped address is a start-up error.
. "$(dirname "$0")/../lib/common.sh"
. "$TOP/tests/lib/ingest.sh"
. "$TOP/tests/lib/dns.sh"

[ -x "$INGEST" ] || fail "no $INGEST (build first)"
mkdir -p "$T/run"
printf 'alice\n' > "$T/run/rcpts"

# the silent upstream of dead.example, and a closed port for down.example
dns_silent_start
CLOSED_PORT=$(dns_free_port)
V6=$(python3 -c "import ipaddress; print(ipaddress.ip_address('::1').reverse_pointer[:-9])")
cat > "$T/zone" <<Z
local=/bl.example/
local=/zen.example/
local=/part1.example/
local=/wl.example/
server=/dead.example/127.0.0.1#$SILENT_PORT
server=/down.example/127.0.0.1#$CLOSED_PORT
host-record=2.0.0.127.bl.example,127.0.0.2
host-record=$V6.bl.example,127.0.0.2
host-record=3.0.0.127.bl.example,127.0.0.2
host-record=4.0.0.127.bl.example,127.255.255.254
host-record=5.0.0.127.zen.example,127.0.0.4
host-record=5.0.0.127.part1.example,127.0.0.2
host-record=6.0.0.127.zen.example,127.0.0.20
host-record=6.0.0.127.part1.example,127.0.0.2
host-record=7.0.0.127.zen.example,127.0.0.4
host-record=8.0.0.127.bl.example,127.0.0.2
host-record=8.0.0.127.wl.example,127.0.10.2
local=/mon.example/
local=/partner.example/
local=/other.example/
ptr-record=20.0.0.127.in-addr.arpa,probe1.mon.example
address=/probe1.mon.example/127.0.0.20
ptr-record=21.0.0.127.in-addr.arpa,fake.mon.example
address=/fake.mon.example/127.0.0.99
ptr-record=22.0.0.127.in-addr.arpa,mx.partner.example
address=/mx.partner.example/127.0.0.22
ptr-record=23.0.0.127.in-addr.arpa,mx2.partner.example
address=/mx2.partner.example/127.0.0.23
ptr-record=24.0.0.127.in-addr.arpa,host.other.example
ptr-record=24.0.0.127.in-addr.arpa,probe2.mon.example
address=/probe2.mon.example/127.0.0.24
server=/25.0.0.127.in-addr.arpa/127.0.0.1#$SILENT_PORT
Z
# every client of the allowlisted-names part (127.0.0.20-25) is listed in bl.example:
# only an allowlisted name lets it in
for n in 20 21 22 23 24 25; do echo "host-record=$n.0.0.127.bl.example,127.0.0.2"; done >> "$T/zone"
dns_start "$T/zone"

# conf FILE PORT NAMESERVER SITES [DNSBL-TIMEOUT] [INGEST-KEYS]
conf() {
	ingest_conf "$1" "127.0.0.1:$2, [::1]:$2" "${6:-}" "[dns]
nameserver = $3
timeout = 2s
[dnsbl]
sites = $4
threshold = 3
allowlist = 127.0.0.3, 10.0.0.0/8, 2001:db8::/32
timeout = ${5:-3s}"
}
PORT=$(free_port)
conf "$T/a.conf" "$PORT" "$DNS_NS" \
	"bl.example*3, zen.example=127.0.0.[2..11]*2, part1.example,"\
" wl.example=127.0.[0..255].[1..3]*-5"
ingest_start "$T/a.conf" "$PORT"
PID_a=$INGEST_PID

# an SMTP session from source address SRC: the greeting, then either a whole
# message (220) or EHLO and MAIL (refused), then QUIT; one "VERB reply" a line
cat > "$T/probe.py" <<'PY'
import socket, sys
src, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
s.settimeout(30)
s.bind((src, 0))
s.connect((host, port))
f = s.makefile("rb")
def reply():
    while True:
        line = f.readline().decode().rstrip("\r\n")
        if len(line) < 4 or line[3] != "-":
            return line
def cmd(c):
    s.sendall(c.encode() + b"\r\n")
    return reply()
g = reply()
print("GREETING", g)
if g.startswith("220"):
    for c in ["EHLO client.test", "MAIL FROM:<bob@other.test>", "RCPT TO:<alice@example.test>",
              "DATA"]:
        print(c.split()[0], cmd(c))
    print("END", cmd("Subject: t\r\n\r\nhi\r\n."))
else:
    print("EHLO", cmd("EHLO client.test"))
    print("MAIL", cmd("MAIL FROM:<bob@other.test>"))
print("QUIT", cmd("QUIT"))
PY
probe() { python3 "$T/probe.py" "$1" "${3:-127.0.0.1}" "$2"; }
# accepted SRC PORT: the whole message got 250
accepted() {
	_o=$(probe "$1" "$2" "${3:-}") || fail "$1: probe failed: $_o"
	echo "$_o" | grep -q '^END 250 ' || fail "$1: not accepted: $_o"
}
# blocked SRC PORT ZONE [HOST]: 554 5.7.1 naming ZONE at the greeting and to EHLO and MAIL
blocked() {
	_o=$(probe "$1" "$2" "${4:-}") || fail "$1: probe failed: $_o"
	_want="554 5.7.1 Service unavailable; client [$1] blocked using $3"
	[ "$(echo "$_o" | sed -n 1,3p)" = "GREETING $_want
EHLO $_want
MAIL $_want" ] || fail "$1: want '$_want' three times, got: $_o"
	echo "$_o" | grep -q '^QUIT 221 ' || fail "$1: QUIT after the 554: $_o"
}
# decision SRC LOG PATTERN: the dnsbl log line of the last session from SRC matches
decision() {
	_l=$(grep " ingest dnsbl addr=$1 " "$2" | tail -1)
	# shellcheck disable=SC2254 # $3 is a pattern
	case "$_l" in $3) ok "$1: ${_l#* ingest }" ;; *) fail "$1: got '$_l', want '$3'" ;; esac
}

blocked 127.0.0.2 "$PORT" bl.example
decision 127.0.0.2 "$T/a.log" \
	'*action=reject score=3 threshold=3 listings="bl.example*3"*cached=no*'
blocked ::1 "$PORT" bl.example ::1
decision ::1 "$T/a.log" '*action=reject score=3 *listings="bl.example*3"*'

accepted 127.0.0.3 "$PORT"
decision 127.0.0.3 "$T/a.log" '*action=allowlisted score=0 *'

accepted 127.0.0.4 "$PORT"
decision 127.0.0.4 "$T/a.log" '*action=pass score=0 *errors="bl.example:127.255.255.254"*'
grep -q 'dnsbl list_error zone=bl.example error="error code 127.255.255.254"' "$T/a.log" ||
	fail "no list_error logged for the 127.255.255.254 answer"
ok "127.255.255.254 logged as a list error"

blocked 127.0.0.5 "$PORT" zen.example
decision 127.0.0.5 "$T/a.log" '*action=reject score=3 *listings="zen.example*2,part1.example*1"*'
accepted 127.0.0.6 "$PORT"
decision 127.0.0.6 "$T/a.log" '*action=pass score=1 *listings="part1.example*1"*'
accepted 127.0.0.7 "$PORT"
decision 127.0.0.7 "$T/a.log" '*action=pass score=2 *listings="zen.example*2"*'
accepted 127.0.0.8 "$PORT"
decision 127.0.0.8 "$T/a.log" '*action=pass score=-2 *listings="bl.example*3,wl.example*-5"*'

# the cache: the same client again, no query reaches the server
n0=$(grep -c 'query\[A\] 5.0.0.127.zen.example' "$T/dnsmasq.log")
blocked 127.0.0.5 "$PORT" zen.example
decision 127.0.0.5 "$T/a.log" '*action=reject score=3 *cached=yes*'
n1=$(grep -c 'query\[A\] 5.0.0.127.zen.example' "$T/dnsmasq.log")
[ "$n0" = 1 ] && [ "$n1" = 1 ] || fail "cache: dnsmasq saw $n0 then $n1 queries"
ok "second connection from 127.0.0.5: cached, dnsmasq saw 1 query"

# sessions side by side (the cache and the lookups shared between threads)
pids=""
for i in 1 2 3; do
	for a in 2 5 11 12 13; do
		case $a in 2|5) blocked "127.0.0.$a" "$PORT" "$( [ $a = 2 ] && echo bl ||
			echo zen).example" & ;;
		*) accepted "127.0.0.$a" "$PORT" & ;;
		esac
		pids="$pids $!"
	done
done
for p in $pids; do wait "$p" || fail "a parallel session failed"; done
ok "15 sessions in parallel from 5 addresses"

# SIGHUP: a new table with 127.0.0.2 allowlisted (and an empty cache)
sed -i 's|^allowlist = |allowlist = 127.0.0.2, |' "$T/a.conf"
kill -HUP "$PID_a"
wait_for "grep -q 'reload ok' '$T/a.log'" 20 || fail "reload: $(tail -3 "$T/a.log")"
accepted 127.0.0.2 "$PORT"
decision 127.0.0.2 "$T/a.log" '*action=allowlisted *'

# lists that fail: one never answers (dnsmasq forwards to a silent socket), one's
# server is down (closed port); the listing of a working list still counts
PORT2=$(free_port)
# (with greet_delay: the lookups run during the pre-greeting wait)
conf "$T/b.conf" "$PORT2" "$DNS_NS" "dead.example*3, down.example*3, bl.example*3" 2s \
	"greet_delay = 1s"
ingest_start "$T/b.conf" "$PORT2"
PID_b=$INGEST_PID
accepted 127.0.0.10 "$PORT2"
decision 127.0.0.10 "$T/b.log" '*action=pass score=0 *errors="dead.example:*,down.example:*"*'
grep -q 'dnsbl list_error zone=dead.example' "$T/b.log" || fail "dead.example: no list_error"
ok "dead lists score 0: $(grep -o ' ms=[0-9]*' "$T/b.log" | tail -1) (dnsbl timeout 2s)"
blocked 127.0.0.2 "$PORT2" bl.example
# a client that speaks first is told so, screening or not
got=$(python3 -c "
import socket
s = socket.socket(); s.bind(('127.0.0.2', 0)); s.connect(('127.0.0.1', $PORT2))
s.sendall(b'EHLO early.test\r\n'); print(s.makefile('rb').readline().decode().strip())")
case "$got" in "554 5.5.1 "*"client spoke before the greeting") ok "pregreet: $got" ;;
	*) fail "pregreet with screening: got '$got'" ;; esac

# the resolver itself is dead: even a listed client is accepted
PORT3=$(free_port)
conf "$T/c.conf" "$PORT3" "$SILENT_NS" "bl.example*3" 1s
ingest_start "$T/c.conf" "$PORT3"
PID_c=$INGEST_PID
accepted 127.0.0.2 "$PORT3"
decision 127.0.0.2 "$T/c.log" '*action=pass score=0 *errors="bl.example:timeout"*'

# allowlisted names: the client's reverse name, confirmed by its A record
PORT4=$(free_port)
conf "$T/d.conf" "$PORT4" "$DNS_NS" "bl.example*3" 2s
sed -i 's|^allowlist = .*|allowlist = 10.0.0.0/8, .mon.example, mx.partner.example|' "$T/d.conf"
ingest_start "$T/d.conf" "$PORT4"
PID_d=$INGEST_PID
accepted 127.0.0.20 "$PORT4"
decision 127.0.0.20 "$T/d.log" \
	'*action=allowlisted score=3 *cached=no *allowed_by=probe1.mon.example'
accepted 127.0.0.22 "$PORT4"
decision 127.0.0.22 "$T/d.log" '*action=allowlisted *allowed_by=mx.partner.example'
accepted 127.0.0.24 "$PORT4"
decision 127.0.0.24 "$T/d.log" '*action=allowlisted *allowed_by=probe2.mon.example'
"$BUILD/tests/tools/spftool" dns "$DNS_NS" 3000 lookup 24.0.0.127.in-addr.arpa PTR |
	grep -q host.other.example || fail "the PTR answer of 127.0.0.24 lacks host.other.example"
! grep -q 'query\[A\] host.other.example' "$T/dnsmasq.log" ||
	fail "a PTR name that no entry covers was looked up"
ok "a PTR name that no allowlist entry covers costs no lookup"
# fake.mon.example's A record is 127.0.0.99: the PTR alone proves nothing
blocked 127.0.0.21 "$PORT4" bl.example
decision 127.0.0.21 "$T/d.log" '*action=reject score=3 *errors=""*'
# mx.partner.example is allowlisted, not every name under partner.example
blocked 127.0.0.23 "$PORT4" bl.example
decision 127.0.0.23 "$T/d.log" '*action=reject score=3 *'
# the PTR lookup times out: screened as any client, the failure said
blocked 127.0.0.25 "$PORT4" bl.example
decision 127.0.0.25 "$T/d.log" '*action=reject score=3 *errors="client-name:tempfail"*'
# the verdict is cached like a listing: no PTR query the second time
n0=$(grep -c 'query\[PTR\] 20.0.0.127.in-addr.arpa' "$T/dnsmasq.log")
accepted 127.0.0.20 "$PORT4"
decision 127.0.0.20 "$T/d.log" '*action=allowlisted *cached=yes *allowed_by=name'
n1=$(grep -c 'query\[PTR\] 20.0.0.127.in-addr.arpa' "$T/dnsmasq.log")
[ "$n0" = 1 ] && [ "$n1" = 1 ] || fail "name cache: dnsmasq saw $n0 then $n1 PTR queries"
ok "second connection from 127.0.0.20: allowlisted from the cache, 1 PTR query"
# a mistyped address is not taken for a name
conf "$T/bad2.conf" "$(free_port)" "$DNS_NS" "bl.example"
sed -i 's|^allowlist = .*|allowlist = 192.0.2.300, .mon.example|' "$T/bad2.conf"
out=$("$INGEST" -t -c "$T/bad2.conf" 2>&1) && fail "allowlist 192.0.2.300 was accepted"
case "$out" in *'[dnsbl] allowlist: "192.0.2.300": want an IPv4 or IPv6 address'*)
	ok "bad allowlist entry: $out" ;; *) fail "bad allowlist entry: $out" ;; esac

# a bad site is a start-up error naming the key
conf "$T/bad.conf" "$(free_port)" "$DNS_NS" "zen.example=127.0.0.[11..2]"
out=$("$INGEST" -t -c "$T/bad.conf" 2>&1) && fail "a bad filter was accepted"
case "$out" in *'[dnsbl] sites: "zen.example=127.0.0.[11..2]": bad return-code filter'*)
	ok "bad filter: $out" ;; *) fail "bad filter: $out" ;; esac
stop_clean a b c d
ok "clean shutdown, no sanitizer reports"
echo "PASS $TNAME"
