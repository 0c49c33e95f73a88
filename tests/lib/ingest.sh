# ingest.sh - sourced after common.sh: a real mxspool-ingest for tests.
#
#   ingest_conf FILE LISTEN [KEYS] [MORE]
#       a config: node mx1, data_dir $T/run (or INGEST_DIR), more [general] lines
#       in INGEST_GENERAL, a file store in the data dir
#       (or the [storage] lines in INGEST_STORAGE), [ingest] on LISTEN (e.g. 127.0.0.1:PORT;
#       no listen line when LISTEN is empty: a config only the replay reads)
#       as hostname mx.test (or INGEST_HOSTNAME), no user switch, no greeting delay,
#       no free-space floor, plus the lines KEYS; [routes] with the domain's route
#       INGEST_ROUTE (e.g. smtp://127.0.0.1:PORT) when set; [auth] with the lines of $INGEST_AUTH
#       (default "verify = no": tests without a DNS server of their own never ask the
#       system resolver); [domain example.test] (or INGEST_DOMAIN) with recipients
#       $T/run/rcpts (or INGEST_RCPTS) and the lines MORE, which go on with further
#       sections
#   ingest_gateway NAME [KEYS] [MORE]
#       an ingest on a free loopback port, started (ingest_start): data_dir $T/NAME (made;
#       INGEST_DIR is not read), config $T/NAME.conf from ingest_conf with KEYS and MORE,
#       log $T/NAME.log; its port in PORT_NAME
#   ingest_start CONF PORT [LOG]
#       $INGEST -c CONF, output appended to LOG (default CONF with .log for .conf),
#       until it listens on 127.0.0.1:PORT (else the log and fail); sets INGEST_PID;
#       SIGKILLed at exit
#   ingest_rcpt_code PORT ADDR
#       the reply code to RCPT TO:<ADDR> (python3 smtplib, a fresh session on
#       127.0.0.1:PORT, MAIL FROM:<s@sender.test>)
#   ingest_stored_file CONF ID
#       path of message ID's object in the file store $T/run/store (from its index row)
ingest_conf() {
	cat > "$1" <<CONF
[general]
node = mx1
data_dir = ${INGEST_DIR:-$T/run}
${INGEST_GENERAL:-}
[storage]
${INGEST_STORAGE:-url = file://${INGEST_DIR:-$T/run}/store}
[ingest]
${2:+listen = $2}
hostname = ${INGEST_HOSTNAME:-mx.test}
user =
greet_delay = 0
min_free_space = 0
${3:-}
${INGEST_ROUTE:+[routes]
${INGEST_DOMAIN:-example.test} = $INGEST_ROUTE}
[auth]
${INGEST_AUTH:-verify = no}
[domain ${INGEST_DOMAIN:-example.test}]
recipients = ${INGEST_RCPTS:-$T/run/rcpts}
${4:-}
CONF
}

ingest_gateway() {
	_gp=$(free_port)
	mkdir -p "$T/$1"
	INGEST_DIR=$T/$1 ingest_conf "$T/$1.conf" "127.0.0.1:$_gp" "${2:-}" "${3:-}"
	ingest_start "$T/$1.conf" "$_gp"
	eval "PORT_$1=$_gp"
}

ingest_start() {
	_log=${3:-${1%.conf}.log}
	"$INGEST" -c "$1" >> "$_log" 2>&1 &
	INGEST_PID=$!
	cleanup_add "kill -9 $INGEST_PID"
	wait_port "$2" 20 || { tail -20 "$_log"; fail "ingest did not start ($1)"; }
}

ingest_stored_file() {
	_key=$("$BUILD/tests/tools/storetool" -c "$1" show "$2" | sed -n 's/.*key=\([^ ]*\).*/\1/p')
	[ -n "$_key" ] || return 1
	echo "$T/run/store/$_key"
}

ingest_rcpt_code() {
	python3 - "$1" "$2" <<'PY'
import smtplib, sys
s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=30)
s.ehlo("client.test")
s.mail("s@sender.test")
print(s.rcpt(sys.argv[2])[0])
s.quit()
PY
}
