#!/bin/bash
# first_start.sh - a first start on a fresh data directory creates only what the user it runs
# as can use, `-t` creates nothing, and the replay CLI on a missing data directory says so.
#   1. (root only) mxspool-ingest started as root with [ingest] user = nobody, a callout
#      domain (its primary: Postfix smtp-sink) and a data_dir that does not exist yet:
#      a message gets 250, and the data dir, index.sqlite (-wal, -shm), staging, spool
#      and file store are nobody's
#   2. mxspool-ingest -t on an empty data dir and on a missing one creates nothing
#   3. mxspool-replay on a missing data dir: commands that need an index exit 66 naming
#      the data dir; those that create one (serve, reindex --repair) create it, or exit
#      73 when they cannot; as root they create it for the [ingest] user
. "$(dirname "$0")/../lib/common.sh"
command -v smtp-sink >/dev/null || fail "no smtp-sink (postfix)"
chmod 755 "$T"
printf 'alice@example.test\n' > "$T/rcpts"
chmod 644 "$T/rcpts"

SINK=$(free_port)
smtp-sink $([ "$(id -u)" = 0 ] && echo "-u nobody") 127.0.0.1:"$SINK" 10 > /dev/null 2>&1 &
cleanup_add "kill $!"
wait_port "$SINK" 10 || fail "smtp-sink did not start"

# conf NAME USER: data_dir $T/NAME/data (not created here), callout to the sink
conf() {
	PORT=$(free_port)
	mkdir -p "$T/$1"
	cat > "$T/$1.conf" <<CONF
[general]
node = mx1
data_dir = $T/$1/data
[storage]
url = file://$T/$1/data/store
[ingest]
listen = 127.0.0.1:$PORT
hostname = mx.test
user = $2
greet_delay = 0
min_free_space = 0
[domain example.test]
callout = smtp://127.0.0.1:$SINK
[auth]
verify = no
CONF
}

# --- 1. root first start: a data dir that does not exist, and one made empty for nobody
first_start() {	# NAME
	"$INGEST" -c "$T/$1.conf" > "$T/$1.log" 2>&1 &
	pid=$!
	cleanup_add "kill -9 $pid"
	wait_port "$PORT" 20 || { cat "$T/$1.log"; fail "$1: ingest did not start"; }
	r=$(python3 - "$PORT" <<'PY'
import smtplib, sys
s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=30)
s.ehlo("client.test")
try:
    s.sendmail("bob@other.test", ["alice@example.test"], b"Subject: t\r\n\r\nbody\r\n")
    print("250")
except smtplib.SMTPException as e:
    print(e)
s.quit()
PY
)
	[ "$r" = 250 ] || fail "$1: first start as root with a callout domain: got '$r', want 250
$(tail -5 "$T/$1.log")"
	D=$T/$1/data
	for f in "$D" "$D/index.sqlite" "$D/index.sqlite-wal" "$D/index.sqlite-shm" \
	    "$D/staging" "$D/spool" "$D/store" "$D/store/.meta"; do
		[ -e "$f" ] || fail "$1: $f was not created"
		[ "$(stat -c %U "$f")" = nobody ] || fail "$1: $f is $(stat -c %U "$f")'s, want nobody's"
	done
	[ "$(sqlite3 "$D/index.sqlite" 'SELECT count(*) FROM messages')" = 1 ] ||
		fail "$1: the message is not indexed"
	kill "$pid"
}
if [ "$(id -u)" = 0 ]; then
	conf empty nobody
	mkdir "$T/empty/data"
	chown nobody "$T/empty/data"
	first_start empty
	conf root nobody
	first_start root
	ok "root first start with a callout domain (data dir empty, and missing): 250; data" \
	    "dir, index (-wal, -shm), staging, spool and store are nobody's"
	# an index left root's by an older version: refused at start-up, not 451 per message
	conf stale nobody
	mkdir "$T/stale/data"
	"$BUILD/tests/tools/storetool" -c "$T/stale.conf" reindex > /dev/null ||
		fail "storetool could not create the index"
	chown -R nobody "$T/stale/data"
	chown root "$T/stale/data"/index.sqlite*
	"$INGEST" -c "$T/stale.conf" > "$T/stale.log" 2>&1 &
	pid=$!
	cleanup_add "kill -9 $pid"
	wait_for "! kill -0 $pid" 20 || fail "ingest runs with an index it cannot write"
	wait "$pid" && fail "ingest exited 0 with an index it cannot write"
	grep -q "index $T/stale/data/index.sqlite: not writable by uid $(id -u nobody).*chown" \
		"$T/stale.log" || fail "unclear start-up error: $(cat "$T/stale.log")"
	ok "a root-owned index from an older start: refused at start-up, naming the file and chown"
else
	ok "root first start: skipped (not root)"
fi

# --- 2. -t creates nothing
conf check ""
mkdir "$T/check/data"
"$INGEST" -t -c "$T/check.conf" > "$T/check.out" 2>&1 || fail "-t: $(cat "$T/check.out")"
[ -z "$(ls -A "$T/check/data")" ] || fail "-t created: $(ls -A "$T/check/data")"
rmdir "$T/check/data"
"$INGEST" -t -c "$T/check.conf" > "$T/check.out" 2>&1
[ ! -e "$T/check/data" ] || fail "-t created the data dir $T/check/data"
ok "-t on an empty and on a missing data dir creates nothing"

# --- 3. mxspool-replay on a missing data dir
# rconf NAME DATADIR [USER]: a replay config with a file store outside the data dir
rconf() {
	printf '[general]\nnode = mx1\ndata_dir = %s\n[storage]\nurl = file://%s/%s.store\n' \
	    "$2" "$T" "$1" > "$T/$1.conf"
	[ -z "${3:-}" ] || printf '[ingest]\nuser = %s\n' "$3" >> "$T/$1.conf"
}
# expect NAME CODE PATTERN CMD...: mxspool-replay -c NAME.conf CMD exits CODE saying PATTERN
expect() {
	_n=$1 _code=$2 _pat=$3
	shift 3
	"$REPLAY" -c "$T/$_n.conf" "$@" > "$T/$_n.out" 2>&1
	_rc=$?
	[ "$_rc" = "$_code" ] || fail "replay $*: exit $_rc, want $_code: $(cat "$T/$_n.out")"
	grep -q "$_pat" "$T/$_n.out" || fail "replay $*: unclear message: $(cat "$T/$_n.out")"
}
rconf miss "$T/miss/data"
for cmd in status list "rate 5" pause reindex "show 01M8YJK618TJ3S1TTMWNPFF96S.mx1"; do
	# shellcheck disable=SC2086
	expect miss 66 "data dir $T/miss/data (\[general\] data_dir) does not exist" $cmd
done
[ ! -e "$T/miss" ] || fail "a command that needs an index created $T/miss"
ok "replay status, list, rate, pause, reindex, show on a missing data dir: exit 66 naming it"

: > "$T/afile"
rconf cant "$T/afile/data"
for cmd in serve "reindex --repair"; do
	# shellcheck disable=SC2086
	expect cant 73 "cannot create the data dir $T/afile/data" $cmd
done
ok "replay serve and reindex --repair when the data dir cannot be created: exit 73 naming it"

user=""
[ "$(id -u)" = 0 ] && user=nobody
rconf mk "$T/mk/data" "$user"
sed -i "s|^url = .*|url = file://$T/mk/data/store|" "$T/mk.conf"
"$REPLAY" -c "$T/mk.conf" reindex --repair > "$T/mk.out" 2>&1 ||
	fail "reindex --repair on a missing data dir: exit $?: $(cat "$T/mk.out")"
for f in "$T/mk/data" "$T/mk/data/index.sqlite"; do
	[ -e "$f" ] || fail "reindex --repair did not create $f"
	[ "$(stat -c %U "$f")" = "${user:-$(id -un)}" ] ||
		fail "$f is $(stat -c %U "$f")'s, want ${user:-$(id -un)}'s"
done
ok "replay reindex --repair creates a missing data dir and index${user:+, as root for the [ingest] user}"

bad=$(grep -l "Sanitizer\|runtime error" "$T"/*.log "$T"/*.out 2>/dev/null)
[ -z "$bad" ] || fail "sanitizer reports in: $bad"
ok "no sanitizer reports"
