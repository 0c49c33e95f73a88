# dns.sh - sourced by tests/e2e/*.sh after common.sh: a real DNS server on
# loopback with the test's own zones (dnsmasq from dnsmasq-base), and a UDP
# port that never answers.  Never the Internet: dnsmasq runs --no-resolv, and
# a name outside the zones it knows gets REFUSED.
#
#   dns_free_port               a port free for both UDP and TCP on 127.0.0.1
#   dns_start FILE              start dnsmasq with the zone lines of FILE (dnsmasq
#                               options without "--", one a line: host-record=,
#                               mx-host=, txt-record=, ptr-record=, dns-rr=,
#                               local=/zone/ for NXDOMAIN/NODATA) on DNS_PORT;
#                               stopped at exit; DNS_NS=127.0.0.1:PORT for [dns]
#   dns_stop                    stop it now
#   dns_silent_start            a UDP socket that reads nothing: SILENT_NS=127.0.0.1:PORT
#   dns_ttl SECS                TTL of the local records (set before dns_start; default 300)
DNS_TTL=300

dns_free_port() {
	python3 - <<'PY'
import socket
while True:
    t = socket.socket(); t.bind(("127.0.0.1", 0)); p = t.getsockname()[1]
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        u.bind(("127.0.0.1", p)); break
    except OSError:
        t.close()
print(p)
PY
}

dns_ttl() { DNS_TTL=$1; }

dns_start() {
	_zf=$1
	command -v dnsmasq >/dev/null || fail "dnsmasq missing (make deps: dnsmasq-base)"
	DNS_PORT=$(dns_free_port)
	dnsmasq --keep-in-foreground --conf-file="$_zf" --no-resolv --no-hosts --no-poll \
		--port="$DNS_PORT" --listen-address=127.0.0.1 --bind-interfaces --pid-file= \
		--local-ttl="$DNS_TTL" --log-queries --log-facility="$T/dnsmasq.log" \
		>"$T/dnsmasq.out" 2>&1 &
	DNS_PID=$!
	cleanup_add "kill $DNS_PID 2>/dev/null"
	DNS_NS=127.0.0.1:$DNS_PORT
	wait_port "$DNS_PORT" 10 || { cat "$T/dnsmasq.out"; fail "dnsmasq did not start"; }
}

dns_stop() {
	kill "$DNS_PID" 2>/dev/null; wait "$DNS_PID" 2>/dev/null
}

dns_silent_start() {
	SILENT_PORT=$(dns_free_port)
	python3 -c "
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('127.0.0.1', $SILENT_PORT))
time.sleep(3600)" &
	SILENT_PID=$!
	cleanup_add "kill $SILENT_PID 2>/dev/null"
	SILENT_NS=127.0.0.1:$SILENT_PORT
	# until the port is taken (binding it ourselves then fails)
	for _i in $(seq 50); do
		python3 -c "import socket; socket.socket(socket.AF_INET, socket.SOCK_DGRAM).bind(
('127.0.0.1', $SILENT_PORT))" 2>/dev/null || return 0
		sleep 0.1
	done
	fail "the silent UDP socket did not start"
}
