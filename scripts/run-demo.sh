#!/bin/sh
# run-demo.sh - `make run`: the standby stack on this machine, in the
# foreground until Ctrl-C, on the embedded file store under run/.
#
#   ingest   127.0.0.1:2525  (domain example.test: postmaster@, alice@)
#   status   http://127.0.0.1:8025/  (replay worker dashboard)
#   health   http://127.0.0.1:8026/healthz
#   primary  127.0.0.1:2526  Postfix smtp-sink as a stand-in restored primary,
#            dumping what it receives into run/primary/
# The replay worker starts paused, as at the start of an outage: the backlog
# grows until you drain it (commands printed below).
# Ports can be moved with INGEST_PORT, HTTP_PORT, HEALTH_PORT, PRIMARY_PORT.
set -eu
cd "$(dirname "$0")/.."
TOP=$(pwd)
RUN=$TOP/run
INGEST_PORT=${INGEST_PORT:-2525}
HTTP_PORT=${HTTP_PORT:-8025}
HEALTH_PORT=${HEALTH_PORT:-8026}
PRIMARY_PORT=${PRIMARY_PORT:-2526}
mkdir -p "$RUN/store" "$RUN/spool" "$RUN/staging" "$RUN/primary"
printf 'postmaster@example.test\nalice@example.test\n' > "$RUN/recipients-example.test"
cat > "$RUN/mxspool.conf" <<CONF
# Written by make run (scripts/run-demo.sh); see README.md for every key.
[general]
node = demo
data_dir = $RUN

[storage]
url = file://$RUN/store
prefix = mail

[spool]
dir = $RUN/spool
max_size = 256M

[ingest]
listen = 127.0.0.1:$INGEST_PORT
hostname = mxspool.demo.test
health_listen = 127.0.0.1:$HEALTH_PORT
staging_dir = $RUN/staging
; the demo runs as whoever typed make run; a real install sets a user to drop to
user =

[auth]
; the demo's senders are made up and there is no DNS of theirs to ask (docs/auth.md)
verify = no

[domain example.test]
recipients = $RUN/recipients-example.test

[routes]
* = smtp://127.0.0.1:$PRIMARY_PORT

[replay]
start_paused = yes
check_interval = 1h                 ; the dashboard's "Failover readiness" panel

[http]
listen = 127.0.0.1:$HTTP_PORT
token = demo-token
CONF

pids=""
stop() {
	trap - INT TERM EXIT
	echo; echo "stopping..."
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	echo "stopped; data kept in run/ (remove it to start afresh)"
}
trap stop INT TERM EXIT

/usr/sbin/smtp-sink -u "$(id -un)" -d "$RUN/primary/%Y%m%d%H/%M." -c \
	127.0.0.1:$PRIMARY_PORT 100 >"$RUN/primary.log" 2>&1 &
pids="$pids $!"
build/mxspool-ingest -c "$RUN/mxspool.conf" 2>>"$RUN/ingest.log" &
pids="$pids $!"
build/mxspool-replay -c "$RUN/mxspool.conf" serve 2>>"$RUN/replay.log" &
pids="$pids $!"
sleep 1

R="build/mxspool-replay -c run/mxspool.conf"
cat <<MSG

mxspool demo is running (Ctrl-C stops it; logs in run/*.log).

  SMTP ingest     127.0.0.1:$INGEST_PORT   domain example.test (postmaster@, alice@)
  dashboard       http://127.0.0.1:$HTTP_PORT/   (JSON: /status, Prometheus: /metrics)
  health          http://127.0.0.1:$HEALTH_PORT/healthz
  stand-in primary 127.0.0.1:$PRIMARY_PORT (smtp-sink, writes to run/primary/)

Try:
  swaks --server 127.0.0.1:$INGEST_PORT --to alice@example.test        # accepted: 250 ... queued as <id>
  swaks --server 127.0.0.1:$INGEST_PORT --to bob@example.test          # 550 5.1.1 unknown user
  swaks --server 127.0.0.1:$INGEST_PORT --to someone@elsewhere.test    # 554 5.7.1 relay denied
  $R status                     # backlog at a glance
  $R qshape                     # backlog age by domain
  $R list                       # the queue, like postqueue -p
  $R drain --dry-run            # what a drain would send
  $R drain --rate 5             # deliver to the primary at 5 msg/s (foreground)
  curl -s -H 'Authorization: Bearer demo-token' -X POST http://127.0.0.1:$HTTP_PORT/control/resume
                                # or let the worker drain it in the background
  $R drill --deliver            # failover rehearsal: canary 250, unknown 550 5.1.1, foreign
                                # 554 5.7.1, canary stored intact, replayed to the primary, purged
  $R check                      # would failover work? MX, MTA-STS, TLS, store, recipients...
                                # (the demo has no DNS zone and no certificate: MX and TLS FAIL)
MSG
wait
