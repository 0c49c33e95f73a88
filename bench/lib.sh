# lib.sh - sourced by bench/ingest and bench/replay.  Starts the comparison
# peers on free loopback ports: a private Postfix instance configured as a
# backup MX for example.test, and Postfix smtp-sink as the primary.
# Nothing here is a test: it measures, and prints, and never asserts a time.
set -eu
BTOP=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$BTOP/build}
B=${BENCH_DIR:-$(mktemp -d /tmp/mxs-bench.XXXXXX)}
export PATH="$PATH:/usr/sbin:/usr/lib/postfix/sbin"
. "$BTOP/tests/lib/postfix.sh"
_bcleanups=""
bcleanup_add() { _bcleanups="$*; $_bcleanups"; }
trap 'set +e; eval "$_bcleanups" >/dev/null 2>&1' EXIT
trap 'exit 130' INT TERM

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

wait_port() {
	_n=300
	while [ $_n -gt 0 ]; do
		python3 -c "import socket,sys; s=socket.socket(); sys.exit(s.connect_ex(('127.0.0.1',$1)))" && return 0
		sleep 0.1; _n=$((_n - 1))
	done
	return 1
}

# postfix_start PORT RELAY - a Postfix instance under $B/pf that accepts mail
# for example.test on 127.0.0.1:PORT as a backup MX would (relay_domains,
# clients are outsiders), queues it durably, and holds it (defer_transports)
# until postfix_flush; relay target RELAY (host:port) is the primary.
postfix_start() {
	PF=$B/pf
	PF_PORT=$1
	postfix_main_cf "$PF" <<CF
myhostname = backup-mx.bench.test
mydestination =
mynetworks = 192.0.2.0/24
relay_domains = example.test
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
smtpd_recipient_restrictions =
transport_maps = inline:{ example.test=smtp:[127.0.0.1]:$2 }
defer_transports = smtp
default_process_limit = 200
smtpd_client_connection_count_limit = 0
smtpd_client_connection_rate_limit = 0
anvil_rate_time_unit = 60s
maillog_file_prefixes = /tmp, /var, /dev/stdout
smtp_destination_concurrency_limit = 50
default_destination_concurrency_limit = 50
initial_destination_concurrency = 50
smtp_connection_cache_on_demand = yes
message_size_limit = 104857600
CF
	cp /etc/postfix/master.cf "$PF/etc/master.cf"
	sed -i 's/^smtp      inet.*/#&/' "$PF/etc/master.cf"
	echo "127.0.0.1:$PF_PORT inet n - n - - smtpd" >> "$PF/etc/master.cf"
	# No chroot (the instance has no chroot tree), and the scratch dir must be
	# traversable by the postfix user.
	postconf -c "$PF/etc" -F '*/*/chroot = n'
	chmod 755 "$B"
	script -qc "postfix -c $PF/etc start" /dev/null >"$B/postfix-start.log" 2>&1 || { cat "$B/postfix-start.log"; exit 1; }
	bcleanup_add "postfix -c '$PF/etc' stop"
	wait_port "$PF_PORT"
}

# postfix_queue_count - messages in the instance's queue
postfix_queue_count() {
	find "$PF/spool/incoming" "$PF/spool/active" "$PF/spool/deferred" "$PF/spool/maildrop" \
	    -type f 2>/dev/null | wc -l
}

# sink_start PORT DIR - smtp-sink as the primary; counts messages by log lines
sink_start() {
	smtp-sink -u postfix -c 127.0.0.1:$1 1000 > "$2.log" 2>&1 &
	SINK_PID=$!
	bcleanup_add "kill $SINK_PID"
	wait_port "$1"
}

# rss_kb PID - resident set size
rss_kb() { ps -o rss= -p "$1" | tr -d ' '; }

now() { date +%s.%N; }
