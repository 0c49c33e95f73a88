#!/bin/bash
# ingest_verify.sh - recipient verification and monitoring mode against real primaries.
#
# Lists (plain, hashed with sha256sum, catch-all, sub-address), relay denial and routing
# characters through tests/tools/verifytool; callouts against a private, real Postfix
# instance (smtpd_reject_unlisted_recipient: real 550 5.1.1 answers) with the cache in
# the index: known user ok and cached, unknown user nouser and cached, the same for UTF-8
# local parts (SMTPUTF8 callout to a strict_smtputf8 Postfix); Postfix stopped:
# cached answers still hold (an expired positive too), an expired negative and a
# never-seen address get tempfail (never ok, never nouser).  Monitoring: smtp-sink up ->
# healthy, down -> unhealthy.  Then, if mxspool-ingest is built, one RCPT of each kind
# through swaks to check the SMTP replies, and monitoring mode through the ingest
# (primary up: 451 4.3.0; down: 250).
. "$(dirname "$0")/../lib/common.sh"
. "$TOP/tests/lib/postfix.sh"
V=$BUILD/tests/tools/verifytool
[ -x "$V" ] || fail "no $V (make O=... all)"
[ "$(id -u)" = 0 ] || fail "needs root: runs a private Postfix instance"
command -v postfix >/dev/null || fail "no postfix"
command -v smtp-sink >/dev/null || fail "no smtp-sink"
chmod 711 "$T"	# Postfix daemons (user postfix) reach $T/pf

# expect CONF ADDR WORD ...: verifytool's first two fields for each address, in order
expect() {
	conf=$1; shift
	set -f
	addrs=""; want=""
	while [ $# -gt 0 ]; do addrs="$addrs $1"; want="$want$1 $2
"; shift 2; done
	# shellcheck disable=SC2086
	got=$("$V" -c "$conf" $addrs 2>>"$T/verifytool.log" | cut -d' ' -f1-2) ||
		fail "verifytool exited non-zero"
	set +f
	want=$(printf '%s' "$want")
	[ "$got" = "$want" ] || fail "verifytool answers
got:
$got
want:
$want"
}

port_closed() { ! python3 -c "import socket,sys; s=socket.socket(); s.settimeout(1); sys.exit(s.connect_ex(('127.0.0.1',$1)))"; }

# --- lists, hashes, catch-all, sub-addresses: no primary involved
printf '# plain list\nalice\nBob@Example.TEST\n' > "$T/users.txt"
{
	echo "# sha256 of local@domain"
	printf '%s' carol@example.test | sha256sum
	printf '%s' dave@hashed.test | sha256sum | cut -d' ' -f1
} > "$T/hashed.txt"
cat > "$T/lists.conf" <<EOF
[general]
data_dir = $T
[domain example.test]
recipients = users.txt
hashed = hashed.txt
subaddress = yes
[domain hashed.test]
hashed = $T/hashed.txt
[domain catch.test]
catchall = yes
EOF
expect "$T/lists.conf" alice@example.test ok ALICE@EXAMPLE.TEST ok bob@example.test ok \
	carol@example.test ok Carol@Example.Test ok dave@hashed.test ok carol@hashed.test nouser \
	alice+tag@example.test ok carol+x@example.test ok eve@example.test nouser \
	anyone@catch.test ok alice@elsewhere.test nodomain 'alice%elsewhere.test@example.test' nodomain \
	'elsewhere.test!alice@catch.test' nodomain 'alice@elsewhere.test@catch.test' nodomain
ok "plain list, hashed list (sha256sum), catch-all, sub-address, relay denial, %/!/@ refused"
printf 'alice\nbad%%entry\n' > "$T/users.txt"
"$V" -c "$T/lists.conf" alice@example.test >/dev/null 2>"$T/err" && fail "bad list loaded"
grep -q "users.txt:2" "$T/err" || fail "load error does not name the file: $(cat "$T/err")"
ok "a bad list entry fails the load, naming file and line"

# --- a real Postfix primary: alice exists (example.test, ttl0.test), nobody else
PF=$T/pf
PFPORT=$(free_port)
postfix_main_cf "$PF" <<EOF
myhostname = primary.example.test
mydomain = example.test
mydestination = example.test, ttl0.test
local_recipient_maps = texthash:$PF/etc/users
smtpd_reject_unlisted_recipient = yes
# UTF-8 addresses only in a transaction that declared SMTPUTF8 (RFC 6531 3.4)
strict_smtputf8 = yes
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
alias_maps =
alias_database =
maillog_file_prefixes = /tmp, $T
EOF
printf 'alice x\nj\303\266rg x\n' > "$PF/etc/users"
cat > "$PF/etc/master.cf" <<EOF
127.0.0.1:$PFPORT inet n - n - - smtpd
pickup    unix  n - n 60 1 pickup
cleanup   unix  n - n -  0 cleanup
qmgr      unix  n - n 300 1 qmgr
rewrite   unix  - - n -  - trivial-rewrite
bounce    unix  - - n -  0 bounce
defer     unix  - - n -  0 bounce
trace     unix  - - n -  0 bounce
verify    unix  - - n -  1 verify
proxymap  unix  - - n -  - proxymap
error     unix  - - n -  - error
retry     unix  - - n -  - error
discard   unix  - - n -  - discard
local     unix  - n n -  - local
smtp      unix  - - n -  - smtp
anvil     unix  - - n -  1 anvil
scache    unix  - - n -  1 scache
postlog   unix-dgram n - n - 1 postlogd
showq     unix  n - n -  - showq
flush     unix  n - n 1000? 0 flush
EOF
cleanup_add "postfix -c $PF/etc stop"
postfix -c "$PF/etc" start >"$T/postfix.log" 2>&1 ||
	fail "postfix did not start: $(cat "$T/postfix.log"; tail -5 "$PF/maillog" 2>/dev/null)"
wait_port "$PFPORT" 20 || fail "postfix smtpd does not listen: $(tail -5 "$PF/maillog")"

cat > "$T/callout.conf" <<EOF
[general]
data_dir = $T
index = $T/index.sqlite
[ingest]
hostname = mx2.example.test
[domain example.test]
callout = smtp://127.0.0.1:$PFPORT
callout_timeout = 20s
subaddress = yes
# every lookup asks the primary again; when it is down, positives stay usable
[domain ttl0.test]
callout = smtp://127.0.0.1:$PFPORT
positive_ttl = 0
negative_ttl = 0
EOF
expect "$T/callout.conf" alice@example.test ok bob@example.test nouser \
	Alice+news@example.test ok alice@ttl0.test ok bob@ttl0.test nouser
grep -q 'reject: RCPT .*550 5.1.1 <bob@example.test>' "$PF/maillog" ||
	fail "Postfix did not see the callout for bob"
got=$("$V" -c "$T/callout.conf" --cache alice@example.test bob@example.test \
	carol@example.test | cut -d' ' -f1-3)
[ "$got" = "alice@example.test positive 250
bob@example.test negative 550
carol@example.test none" ] || fail "cache rows: $got"
ok "callouts to Postfix: alice ok (cached positive), bob 550 5.1.1 -> nouser (cached negative)"

# an SMTPUTF8 recipient: asked with "MAIL FROM:<> SMTPUTF8", which Postfix offers; without
# it this Postfix (strict_smtputf8) refuses the address and the callout could only say tempfail
expect "$T/callout.conf" "j$(printf '\303\266')rg@example.test" ok \
	"j$(printf '\303\274')rgen@example.test" nouser
ok "callouts to Postfix for UTF-8 local parts: MAIL FROM:<> SMTPUTF8; known ok, unknown nouser"

postfix -c "$PF/etc" stop >>"$T/postfix.log" 2>&1
wait_for "port_closed $PFPORT" 20 || fail "postfix did not stop"
expect "$T/callout.conf" alice@example.test ok bob@example.test nouser \
	alice+x@example.test ok carol@example.test tempfail alice@ttl0.test ok \
	bob@ttl0.test tempfail never@ttl0.test tempfail
ok "primary down: cached answers hold, expired positive used, unknown/expired negative -> tempfail"

# --- monitoring mode against smtp-sink
sink_start
SPORT=$SINK_PORT SINKPID=$SINK_PID
cat > "$T/monitor.conf" <<EOF
[ingest]
monitor = smtp://127.0.0.1:$SPORT
monitor_interval = 1s
monitor_timeout = 5s
monitor_healthy_after = 2
monitor_unhealthy_after = 2
EOF
got=$("$V" -c "$T/monitor.conf" --monitor 2>>"$T/verifytool.log")
[ "$got" = healthy ] || fail "monitor with the primary up: got $got, want healthy"
kill "$SINKPID"; wait "$SINKPID" 2>/dev/null
wait_for "port_closed $SPORT" 10 || fail "smtp-sink did not stop"
got=$("$V" -c "$T/monitor.conf" --monitor 2>>"$T/verifytool.log")
[ "$got" = unhealthy ] || fail "monitor with the primary down: got $got, want unhealthy"
ok "monitor: smtp-sink up -> healthy, down -> unhealthy"

# --- the SMTP replies through mxspool-ingest (Postfix still down; cache from above)
if [ ! -x "$INGEST" ]; then
	echo "  skip - $INGEST not built: SMTP replies through swaks not checked"
	exit 0
fi
IPORT=$(free_port); HPORT=$(free_port)
mkdir -p "$T/run"
cat > "$T/ingest.conf" <<EOF
[general]
node = mx2
data_dir = $T/run
index = $T/index.sqlite
[storage]
url = file://$T/run/store
[ingest]
listen = 127.0.0.1:$IPORT
health_listen = 127.0.0.1:$HPORT
hostname = mx2.example.test
user =
greet_delay = 0
min_free_space = 0
[auth]
verify = no
[domain example.test]
callout = smtp://127.0.0.1:$PFPORT
callout_timeout = 20s
subaddress = yes
[domain catch.test]
catchall = yes
EOF
"$INGEST" -c "$T/ingest.conf" > "$T/ingest.log" 2>&1 &
IPID=$!
cleanup_add "kill $IPID"
wait_port "$IPORT" 20 || fail "mxspool-ingest did not start: $(tail -5 "$T/ingest.log")"
# rcpt_reply ADDR - code and enhanced code of the reply to RCPT TO:<ADDR> (or to MAIL
# when MAIL is refused)
rcpt_reply() {
	swaks --server 127.0.0.1:"$IPORT" --from sender@other.test --to "$1" \
		--quit-after RCPT 2>&1 | awk '
		/-> MAIL FROM/ { r = 1; next }
		/-> RCPT TO/ { r = 1; rcpt = 1; next }
		r && /^<[-*]/ { r = 0; if ($2 !~ /^2/ || rcpt) { print $2, $3; exit } }'
}
for c in "alice@example.test 250 2.1.5" "alice+x@example.test 250 2.1.5" \
	"bob@example.test 550 5.1.1" "carol@example.test 450 4." "x@catch.test 250 2.1.5" \
	"x@elsewhere.test 554 5.7.1" "a%b@example.test 554 5.7.1" "b!a@catch.test 554 5.7.1"
do
	# shellcheck disable=SC2086
	set -- $c
	got=$(rcpt_reply "$1")
	case "$got" in "$2 $3"*) ;; *) fail "RCPT TO:<$1>: got \"$got\", want $2 $3";; esac
done
ok "swaks through mxspool-ingest: 250 (cache, catch-all), 550 5.1.1, 450 4.x, 554 5.7.1"

# --- monitoring mode through mxspool-ingest: primary up -> 451 (deliver there), down -> 250
sink_start
SPORT=$SINK_PORT SINKPID=$SINK_PID
kill "$IPID"; wait "$IPID" 2>/dev/null
IPORT=$(free_port); HPORT=$(free_port)
sed -e "s/^listen = .*/listen = 127.0.0.1:$IPORT/" \
	-e "s/^health_listen = .*/health_listen = 127.0.0.1:$HPORT/" \
	-e "s|^\[ingest\]|[ingest]\nmonitor = smtp://127.0.0.1:$SPORT\nmonitor_interval = 1s\nmonitor_healthy_after = 2\nmonitor_unhealthy_after = 2|" \
	"$T/ingest.conf" > "$T/ingest-monitor.conf"
"$INGEST" -c "$T/ingest-monitor.conf" > "$T/ingest-monitor.log" 2>&1 &
IPID=$!
cleanup_add "kill $IPID"
wait_port "$IPORT" 20 || fail "mxspool-ingest did not start: $(tail -5 "$T/ingest-monitor.log")"
wait_for '[ "$(rcpt_reply x@catch.test)" = "451 4.3.0" ]' 15 ||
	fail "primary up: got \"$(rcpt_reply x@catch.test)\", want 451 4.3.0"
kill "$SINKPID"; wait "$SINKPID" 2>/dev/null
wait_for '[ "$(rcpt_reply x@catch.test)" = "250 2.1.5" ]' 15 ||
	fail "primary down: got \"$(rcpt_reply x@catch.test)\", want 250 2.1.5"
grep -q "monitor primary healthy -> unhealthy" "$T/ingest-monitor.log" ||
	fail "no monitor transition logged"
ok "monitoring mode through mxspool-ingest: primary up -> 451 4.3.0 at MAIL, down -> 250"
