#!/bin/bash
# config_check.sh - one configuration check for `mxspool-ingest -t`, start-up,
# SIGHUP reload and mxspool-replay (issue 12 "the operator's controls"):
#   each config that -t used to call ok but the daemon refused (node = Bad_Node,
#   listen = nonsense, url = ftp://, S3 without keys, an index in a missing
#   directory, [replay] rate = fast, listen port 99999, an unknown key) fails -t
#   with a non-zero exit and a line naming file, section and key; a good one
#   passes and creates nothing; listen = 127.0.0.1:99999 is refused at start-up
#   (it used to bind port 34463); a SIGHUP with a bad file logs every error and
#   keeps the old configuration serving, then a good reload takes effect
#   (python3 smtplib sees a new domain); mxspool-replay refuses the bad file
#   (exit 78) and `check-config` passes the good one; so is a bad [check] gateways or
#   connect (issue 14: `check` exited 1 on it).
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/ingest.sh"

[ -x "$INGEST" ] && [ -x "$REPLAY" ] || fail "no $INGEST or $REPLAY (build first)"
PORT=$(free_port)
mkdir -p "$T/run"
printf 'alice\n' > "$T/run/rcpts"
unset MXSPOOL_S3_ACCESS_KEY MXSPOOL_S3_SECRET_KEY

# bad NAME SECTION-AND-KEY [KEYS] [MORE] - -t on a config with KEYS/MORE fails naming it
bad() {
	ingest_conf "$T/$1.conf" "127.0.0.1:$PORT" "${3:-}" "${4:-}"
	if "$INGEST" -t -c "$T/$1.conf" > "$T/$1.out" 2>&1; then
		fail "-t passed $1: $(cat "$T/$1.out")"
	fi
	grep -qF "$T/$1.conf: $2" "$T/$1.out" ||
		fail "-t on $1 does not say '$2': $(cat "$T/$1.out")"
	grep -q 'configuration ok' "$T/$1.out" && fail "-t on $1 says ok: $(cat "$T/$1.out")"
	ok "-t refuses $1: $(grep -F "$2" "$T/$1.out" | head -1 | sed "s|$T/||")"
}

bad node '[general] node = "Bad_Node"' "" "[general]
node = Bad_Node"
bad listen '[ingest] listen = "nonsense"' "listen = nonsense"
bad port99999 '[ingest] listen = "127.0.0.1:99999"' "listen = 127.0.0.1:99999"
bad ftp '[storage] url = "ftp://files.example.test/store"' "" "[storage]
url = ftp://files.example.test/store"
INGEST_STORAGE="url = http://127.0.0.1:$PORT
bucket = mail" bad s3nokeys 'no S3 credentials: set [storage] access_key and secret_key'
# reconcile moves aside unindexed objects older than orphan_age: one under two commit
# deadlines could take the object of a commit about to be acknowledged
INGEST_STORAGE="url = file://$T/run/store
orphan_age = 50s
commit_deadline = 30s" bad orphan '[storage] orphan_age: 50s is under 2 x commit_deadline (30s)'
bad index '[general] index = "/nonexistent-mxs/dir/index.sqlite"' "" "[general]
index = /nonexistent-mxs/dir/index.sqlite"
bad rate '[replay] rate = "fast"' "" "[replay]
rate = fast"
bad concurrency '[replay] concurrency = "0"' "" "[replay]
concurrency = 0"
bad typo '[ingest] max_mesage_size: unknown key (did you mean max_message_size?)' \
	"max_mesage_size = 10M"

# every error of a file in one run
ingest_conf "$T/many.conf" nonsense "max_mesage_size = 1" "[replay]
rate = fast"
"$INGEST" -t -c "$T/many.conf" > "$T/many.out" 2>&1 && fail "-t passed many.conf"
[ "$(grep -c "^$T/many.conf: \[" "$T/many.out")" = 3 ] || fail "not 3 errors: $(cat "$T/many.out")"
ok "-t reports every error at once ($(tail -1 "$T/many.out" | sed "s|$T/||"))"

# a good config passes and -t creates nothing
ingest_conf "$T/good.conf" "127.0.0.1:$PORT"
"$INGEST" -t -c "$T/good.conf" > "$T/good.out" 2>&1 ||
	fail "-t refuses good.conf: $(cat "$T/good.out")"
grep -q 'configuration ok' "$T/good.out" || fail "-t good: $(cat "$T/good.out")"
[ -z "$(ls -A "$T/run" | grep -v rcpts)" ] || fail "-t created $(ls "$T/run")"
"$REPLAY" -c "$T/good.conf" check-config > "$T/rgood.out" 2>&1 ||
	fail "replay check-config refuses good.conf: $(cat "$T/rgood.out")"
ok "a good config passes -t and mxspool-replay check-config, nothing created"

# mxspool-replay: the same check before any command
rc=0; "$REPLAY" -c "$T/rate.conf" status > "$T/rrate.out" 2>&1 || rc=$?
[ "$rc" = 78 ] && grep -qF "$T/rate.conf: [replay] rate = \"fast\"" "$T/rrate.out" ||
	fail "replay status on rate.conf: exit $rc $(cat "$T/rrate.out")"
rc=0; "$REPLAY" -c "$T/typo.conf" check-config > "$T/rtypo.out" 2>&1 || rc=$?
[ "$rc" = 78 ] && grep -qF 'max_mesage_size: unknown key' "$T/rtypo.out" ||
	fail "replay check-config on typo.conf: exit $rc $(cat "$T/rtypo.out")"
ok "mxspool-replay refuses a bad config (exit 78) with the same lines"

# [check] (issue 14): a bad gateway list or connect address is a configuration error (78 and
# the key), not a failed run of `check` (it exited 1 with a message of its own)
bad gateways '[check] gateways = "mx2.example.com, bad..name": "bad..name" is not a host name' \
	"" "[check]
gateways = mx2.example.com, bad..name"
bad connect '[check] connect = "127.0.0.1:99999"' "" "[check]
connect = 127.0.0.1:99999"
for n in gateways connect; do
	rc=0; "$REPLAY" -c "$T/$n.conf" check > "$T/rcheck-$n.out" 2>&1 || rc=$?
	[ "$rc" = 78 ] && grep -qF "$T/$n.conf: [check] $n = " "$T/rcheck-$n.out" ||
		fail "replay check on $n.conf: exit $rc $(cat "$T/rcheck-$n.out")"
done
ok "mxspool-replay check refuses a bad [check] gateways or connect (exit 78, file and key)"

# start-up: port 99999 is refused, not bound modulo 65536
rc=0; timeout 20 "$INGEST" -c "$T/port99999.conf" > "$T/start99999.out" 2>&1 || rc=$?
[ "$rc" != 0 ] && [ "$rc" != 124 ] ||
	fail "start with port 99999: exit $rc $(cat "$T/start99999.out")"
grep -qF '[ingest] listen = "127.0.0.1:99999"' "$T/start99999.out" ||
	fail "start with port 99999: $(cat "$T/start99999.out")"
grep -q 'ingest started' "$T/start99999.out" && fail "started with port 99999"
ok "start-up refuses listen = 127.0.0.1:99999 (exit $rc)"

rcpt_code() { ingest_rcpt_code "$PORT" "$1"; }

# SIGHUP: a bad file is refused with every error logged, the old config serves on
ingest_start "$T/good.conf" "$PORT" "$T/daemon.log"
IPID=$INGEST_PID
[ "$(rcpt_code carol@new.test)" = 554 ] || fail "new.test accepted before any reload"
cp "$T/good.conf" "$T/good.conf.orig"
ingest_conf "$T/good.conf" "127.0.0.1:$PORT" "max_mesage_size = 10M
health_listen = 127.0.0.1:99999" "[domain new.test]
catchall = yes
[replay]
rate = fast"
kill -HUP "$IPID"
wait_for "grep -q 'ingest reload refused' '$T/daemon.log'" 20 || fail "bad reload not refused"
for want in '[ingest] max_mesage_size: unknown key' \
	'[ingest] health_listen = "127.0.0.1:99999"' '[replay] rate = "fast"'; do
	grep 'config_error' "$T/daemon.log" | grep -qF "$T/good.conf: $want" ||
		fail "reload log lacks '$want': $(cat "$T/daemon.log")"
done
grep -q 'reload refused errors=3 ' "$T/daemon.log" || fail "refusal line: $(cat "$T/daemon.log")"
kill -0 "$IPID" 2>/dev/null || fail "ingest died on a bad reload"
[ "$(rcpt_code alice@example.test)" = 250 ] || fail "old config not serving after bad reload"
[ "$(rcpt_code carol@new.test)" = 554 ] || fail "part of the refused file took effect"
ok "SIGHUP with a bad file: 3 errors logged, old configuration kept and serving"

# a good reload takes effect
ingest_conf "$T/good.conf" "127.0.0.1:$PORT" "" "[domain new.test]
catchall = yes"
kill -HUP "$IPID"
wait_for "grep -q 'ingest reload ok' '$T/daemon.log'" 20 ||
	fail "good reload: $(cat "$T/daemon.log")"
[ "$(rcpt_code carol@new.test)" = 250 ] || fail "good reload did not take effect"
ok "SIGHUP with a good file: the new domain is accepted"
