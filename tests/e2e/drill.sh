#!/bin/bash
# drill.sh - `mxspool-replay drill` against a real mxspool-ingest (STARTTLS, file
# store) and Postfix smtp-sink as the primary: the canary gets 250, an unknown
# recipient 550 5.1.1, a foreign domain 554 5.7.1; the canary is found in the
# index and the store with its bytes intact, --deliver replays it to the sink
# (which keeps a copy with the X-Mxspool-Drill header), and nothing of it stays
# in the index or the store.  A gateway that accepts unknown recipients
# (catchall) and one without a recipient list entry for the canary make the
# drill fail, for that reason.
. "$(dirname "$0")/../lib/common.sh"
command -v smtp-sink >/dev/null || fail "no smtp-sink"

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 30 \
	-subj /CN=mx2.example.com -keyout "$T/key.pem" -out "$T/cert.pem" 2>/dev/null ||
	fail "openssl req"
SINK=$(free_port)
chmod 711 "$T"	# smtp-sink drops to nobody
mkdir -m 777 -p "$T/sink"
smtp-sink -u nobody -d "$T/sink/m." 127.0.0.1:"$SINK" 10 2>>"$T/sink.log" &
cleanup_add "kill $!"
wait_port "$SINK" 10 || fail "smtp-sink did not start"

gateway() {	# gateway NAME [DOMAIN-LINES]: an ingest and its config $T/NAME.conf
	_p=$(free_port)
	mkdir -p "$T/$1"
	printf 'postmaster@example.com\nalice@example.com\n' > "$T/$1/rcpts"
	cat > "$T/$1.conf" <<C
[general]
node = mx1
data_dir = $T/$1
[storage]
url = file://$T/$1/store
[ingest]
listen = 127.0.0.1:$_p
hostname = mx2.example.com
tls_cert = $T/cert.pem
tls_key = $T/key.pem
user =
greet_delay = 0
min_free_space = 0
[domain example.com]
recipients = $T/$1/rcpts
${2:-}
[routes]
example.com = smtp://127.0.0.1:$SINK
[deliver]
tls = opportunistic
tls_verify = no
[auth]
verify = no
C
	"$INGEST" -c "$T/$1.conf" >> "$T/$1.log" 2>&1 &
	cleanup_add "kill -9 $!"
	wait_port "$_p" 20 || { tail "$T/$1.log"; fail "ingest $1 did not start"; }
	eval "PORT_$1=$_p"
}
gateway good
"$REPLAY" -c "$T/good.conf" drill --deliver > "$T/out" 2>&1
rc=$?
cat "$T/out" | sed 's/^/    /'
[ "$rc" = 0 ] || fail "drill on a good gateway: exit $rc"
for p in '^PASS .* STARTTLS: TLSv1' \
	'^PASS .* unknown recipient <mxspool-drill-nobody-[0-9a-f]*@example.com>: 550 5\.1\.1' \
	'^PASS .* foreign domain <drill@mxspool-drill-[0-9a-f]*\.invalid>: 554 5\.7\.1' \
	'^PASS .* canary <postmaster@example.com>: 250 ' \
	'^PASS .* indexed (marked drill, held) and stored intact' \
	'^PASS .* --deliver: smtp://127.0.0.1:[0-9]* accepted the canary' \
	'^PASS .* purged (object and index row)' 'passed$'; do
	grep -q -- "$p" "$T/out" || fail "missing /$p/"
done
ok "good gateway: every step PASS, exit 0"
TAG=$(sed -n 's/^drill \([0-9a-f]*\): canary.*/\1/p' "$T/out")
wait_for "grep -l 'X-Mxspool-Drill: $TAG' $T/sink/m.*" 10 || fail "the sink never got the canary"
ok "the primary (smtp-sink) received the canary with X-Mxspool-Drill: $TAG"
[ -z "$(find "$T/good/store" -name '*.eml')" ] || fail "canary object left in the store"
n=$(sqlite3 "$T/good/index.sqlite" "SELECT count(*) FROM messages")
[ "$n" = 0 ] || fail "$n rows left in the index"
[ "$(sqlite3 "$T/good/index.sqlite" 'PRAGMA user_version')" -ge 7 ] || fail "schema < 7"
ok "nothing of the canary left in the index or the store"

# a real message stays, and is not confused with the canary
swaks --server 127.0.0.1:"$PORT_good" --to alice@example.com --from bob@example.org \
	--header 'Subject: real' >/dev/null 2>&1 || fail "swaks"
"$REPLAY" -c "$T/good.conf" drill --gateway 127.0.0.1:"$PORT_good" > "$T/out2" 2>&1 ||
	{ cat "$T/out2"; fail "second drill"; }
[ "$(sqlite3 "$T/good/index.sqlite" 'SELECT count(*) FROM messages WHERE drill = 0')" = 1 ] ||
	fail "the real message is gone"
[ "$(sqlite3 "$T/good/index.sqlite" 'SELECT count(*) FROM messages WHERE drill <> 0')" = 0 ] ||
	fail "a canary row stayed"
ok "--gateway: passes; the real message stays, unmarked"

# a catchall gateway accepts the unknown recipient: FAIL
gateway catchall "catchall = yes"
"$REPLAY" -c "$T/catchall.conf" drill > "$T/out3" 2>&1
rc=$?
sed 's/^/    /' "$T/out3"
[ "$rc" = 1 ] || fail "catchall: exit $rc, want 1"
grep -q '^FAIL .* unknown recipient <mxspool-drill-nobody-.*>: 250 .*(want 5\.1\.1)' "$T/out3" ||
	fail "catchall: no FAIL line for the unknown recipient"
grep -q 'FAILED$' "$T/out3" || fail "catchall: summary"
ok "catchall gateway: FAIL, exit 1"

# a canary the gateway does not know: 550 for it, FAIL
"$REPLAY" -c "$T/good.conf" drill --canary nobody@example.com > "$T/out4" 2>&1
rc=$?
[ "$rc" = 1 ] || fail "unknown canary: exit $rc"
grep -q '^FAIL .* canary <nobody@example.com>: 550' "$T/out4" || { cat "$T/out4"; fail "out4"; }
# nothing listens there
P=$(free_port)
"$REPLAY" -c "$T/good.conf" drill --gateway 127.0.0.1:"$P" > "$T/out5" 2>&1
[ $? = 1 ] && grep -q "^FAIL  127.0.0.1:$P .*connect" "$T/out5" || { cat "$T/out5"; fail "out5"; }
ok "unknown canary and a gateway down: FAIL, exit 1"
