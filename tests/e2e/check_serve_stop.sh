#!/bin/bash
# check_serve_stop.sh - serve stops promptly on SIGTERM while its scheduled readiness check
# ([replay] check_interval = 1h) is blocked: the only nameserver never answers and [dns]
# timeout is 60 s, so one run waits on DNS for minutes.  The check thread is told to stop
# (its DNS waits end, no further area starts) and serve must exit within 30 s, far below
# even one DNS timeout; before, serve waited for the whole run.  Also: the interrupted run
# stores no report, and serve exits 0.
. "$(dirname "$0")/../lib/common.sh"
. "$TOP/tests/lib/dns.sh"
. "$TOP/tests/lib/ingest.sh"

dns_silent_start
mkdir -p "$T/run"
echo postmaster@example.com > "$T/run/rcpts"
INGEST_HOSTNAME=mx2.example.com INGEST_DOMAIN=example.com INGEST_ROUTE=smtp://127.0.0.1:$(free_port)
ingest_conf "$T/mx.conf" "" "" "[dns]
nameserver = $SILENT_NS
timeout = 60s
[replay]
check_interval = 1h
start_paused = yes
[check]
connect = 127.0.0.1:$(free_port)
timeout = 2s"
"$REPLAY" -c "$T/mx.conf" serve >> "$T/serve.log" 2>&1 &
SERVE=$!
cleanup_add "kill -9 $SERVE 2>/dev/null"
wait_for "grep -q 'replay start' '$T/serve.log'" 20 || { cat "$T/serve.log"; fail "no start"; }
sleep 1		# the run is now waiting on the silent nameserver
kill -TERM "$SERVE"
wait_for "! kill -0 $SERVE 2>/dev/null" 30 ||
	{ tail -5 "$T/serve.log"; fail "serve still running 30 s after SIGTERM (check run blocked)"; }
wait "$SERVE"; rc=$?
[ "$rc" = 0 ] || { tail "$T/serve.log"; fail "serve exit $rc"; }
ok "serve exits (0) on SIGTERM while the scheduled check waits on DNS"
if grep -q 'replay check status=' "$T/serve.log"; then
	fail "the interrupted run stored a report: $(grep 'replay check' "$T/serve.log")"
fi
if grep -E 'AddressSanitizer|LeakSanitizer|runtime error' "$T/serve.log"; then
	fail "sanitizer report in serve.log"
fi
ok "the interrupted run stored no partial report"
