#!/bin/bash
# replay_ingest.sh - the whole path: swaks -> mxspool-ingest (file store) -> index ->
# mxspool-replay drain -> Postfix smtp-sink as the primary.  The bytes the primary got
# equal the stored object (export), the envelope (sender, both recipients) is passed
# on, and `list`/`qshape` saw the messages before the drain.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/ingest.sh"
[ -x "$INGEST" ] && [ -x "$REPLAY" ] || fail "build first (make O=... all)"
command -v swaks >/dev/null && command -v smtp-sink >/dev/null || fail "no swaks/smtp-sink"
chmod 711 "$T"
IPORT=$(free_port); HPORT=$(free_port); SPORT=$(free_port)
mkdir -p "$T/run"
printf 'postmaster\nalice\n' > "$T/run/rcpts"
ingest_conf "$T/mx.conf" "127.0.0.1:$IPORT" "health_listen = 127.0.0.1:$HPORT" "[replay]
concurrency = 2
[routes]
* = smtp://127.0.0.1:$SPORT"
ingest_start "$T/mx.conf" "$IPORT" "$T/ingest.log"
mkdir -m 777 "$T/sink"
smtp-sink -u nobody -d "$T/sink/m." 127.0.0.1:"$SPORT" 10 2>>"$T/sink.log" & SPID=$!
cleanup_add "kill $SPID"
wait_port "$SPORT" 10 || fail "smtp-sink did not start"

for i in 1 2 3; do
	swaks --server 127.0.0.1:"$IPORT" --from "s$i@sender.test" \
		--to alice@example.test,postmaster@example.test --header "Subject: via ingest $i" \
		--body "body $i" > "$T/swaks$i.log" 2>&1 || fail "swaks $i: $(tail -5 "$T/swaks$i.log")"
done
R() { "$REPLAY" -c "$T/mx.conf" "$@" 2>>"$T/replay.log"; }
[ "$(R list | grep -c '^01')" = 3 ] || fail "list after ingest: $(R list)"
R qshape | grep -Eq '^ +example\.test +3 ' || fail "qshape: $(R qshape)"
ok "3 messages accepted by the ingest (swaks) are listed, qshape counts them"

R drain > "$T/drain.out" || fail "drain: $(cat "$T/drain.out")"
wait_for "[ \$(ls $T/sink | wc -l) = 3 ]" 10 || fail "want 3 dumps, got $(ls "$T/sink" | wc -l)"
for id in $(R list --state delivered | grep -o '^01[^ !*#]*'); do
	R export "$id" > "$T/$id.eml" || fail "export $id"
	subj=$(grep -m1 '^Subject:' "$T/$id.eml" | tr -d '\r')
	dump=$(grep -l "^$subj\$" "$T"/sink/m.*) || fail "no dump for $id ($subj)"
	python3 - "$T/$id.eml" "$dump" <<'PY' || fail "delivered bytes differ from the stored object ($id)"
import sys
src = open(sys.argv[1], 'rb').read().replace(b'\r\n', b'\n')
if not src.endswith(b'\n'):
    src += b'\n'
lines = open(sys.argv[2], 'rb').read().split(b'\n')
i = next(k for k, l in enumerate(lines) if l.startswith(b'Received: from '))
sys.exit(0 if b'\n'.join(lines[i + 3:]) == src + b'\n' else 1)
PY
	n=${subj##* }
	grep -q "^X-Mail-Args: <s$n@sender.test>" "$dump" || fail "sender of $id"
	[ "$(grep -c '^X-Rcpt-Args: <\(alice\|postmaster\)@example.test>' "$dump")" = 2 ] ||
		fail "recipients of $id: $(grep X-Rcpt "$dump")"
done
[ "$(R list --state delivered | grep -c '^01')" = 3 ] || fail "not all delivered"
ok "drain delivered all 3: bytes equal to the stored objects, sender and 2 recipients each"
exit 0
