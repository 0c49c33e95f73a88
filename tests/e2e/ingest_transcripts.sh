#!/bin/bash
# ingest_transcripts.sh - golden SMTP transcripts (tests/transcripts/*.txt)
# against three real mxspool-ingest instances sharing one file store/index:
#   default  small limits (10k messages, 3 recipients, 600-octet commands,
#            1000-octet data lines), no TLS, no greeting delay
#   strict   greet_delay 1s, require_tls with a self-signed certificate
#   keep     bare_newline = keep, nul_in_data = keep (smuggling: one message)
# See tests/transcripts/run.py for the transcript format.  TRANSCRIPTS=GLOB runs only
# the matching files (e.g. TRANSCRIPTS='28_*').
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/ingest.sh"

[ -x "$INGEST" ] || fail "no $INGEST (build first)"
mkdir -p "$T/run"
printf 'postmaster\nalice\ncarol\n' > "$T/run/rcpts"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/key.pem" -out "$T/cert.pem" \
	-days 2 -subj /CN=mx.test >/dev/null 2>&1 || fail "openssl req"

start_ingest() {	# NAME EXTRA-INGEST-KEYS
	_name=$1; _port=$(free_port)
	ingest_conf "$T/$_name.conf" "127.0.0.1:$_port" "max_message_size = 10k
max_recipients = 3
max_line_length = 600
max_data_line = 1000
error_sleep_time = 0
$2"
	ingest_start "$T/$_name.conf" "$_port"
	eval "PORT_$_name=$_port PID_$_name=$INGEST_PID"
}

start_ingest default ""
start_ingest strict "greet_delay = 1
require_tls = yes
tls_cert = $T/cert.pem
tls_key = $T/key.pem"
start_ingest keep "bare_newline = keep
nul_in_data = keep"

python3 "$TOP/tests/transcripts/run.py" "$T/run/index.sqlite" \
	default="$PORT_default" strict="$PORT_strict" keep="$PORT_keep" \
	-- "$TOP"/tests/transcripts/${TRANSCRIPTS:-*}.txt || { tail -20 "$T/default.log"; fail "transcripts"; }
ok "all transcripts"
stop_clean default strict keep
ok "clean shutdown, no sanitizer reports"
