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
#   dns_delay_start PORT LABEL=SECS...
#                               a UDP relay to 127.0.0.1:PORT that holds back each
#                               question whose first label is LABEL for SECS seconds
#                               (a slow upstream): DELAY_NS=127.0.0.1:PORT
#   dns_servfail_start          knotd serving a zone whose file is missing: every
#                               question under servfail.example.com gets SERVFAIL
#                               (SERVFAIL_NS=127.0.0.1:PORT)
#   dns_ttl SECS                TTL of the local records (set before dns_start; default 300)
#   dns_knot_start ZONE=FILE... knotd serving zone files as they are (DNSSEC-signed ones from
#                               tests/lib/dnssec_zone.py): KNOT_NS=127.0.0.1:PORT
DNS_TTL=300

dns_free_port() { free_port; }	# common.sh's: free for UDP and TCP

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
	# the socket takes a port of the kernel's choosing and says which: a port found
	# free first could be taken meanwhile (a resolver's query socket took one: EADDRINUSE)
	python3 -c "
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('127.0.0.1', 0))
print(s.getsockname()[1], flush=True)
time.sleep(3600)" > "$T/silent.port" &
	SILENT_PID=$!
	cleanup_add "kill $SILENT_PID 2>/dev/null"
	for _i in $(seq 50); do [ -s "$T/silent.port" ] && break; sleep 0.1; done
	SILENT_PORT=$(cat "$T/silent.port")
	[ -n "$SILENT_PORT" ] || fail "the silent UDP socket did not start"
	echo "$SILENT_PORT" >> "$T/.ports"	# free_port never gives it out again
	SILENT_NS=127.0.0.1:$SILENT_PORT
}

# _dns_wait_udp PORT - until something has bound the UDP port (binding it then fails)
_dns_wait_udp() {
	for _i in $(seq 50); do
		python3 -c "import socket; socket.socket(socket.AF_INET, socket.SOCK_DGRAM).bind(
('127.0.0.1', $1))" 2>/dev/null || return 0
		sleep 0.1
	done
	return 1
}

dns_servfail_start() {
	command -v knotd >/dev/null || fail "knotd missing (make deps: knot)"
	SERVFAIL_PORT=$(dns_free_port)
	mkdir -p "$T/knot"
	cat > "$T/knot/knot.conf" <<K
server:
    rundir: $T/knot
    listen: 127.0.0.1@$SERVFAIL_PORT
    user: $(id -un)
database:
    storage: $T/knot
zone:
  - domain: servfail.example.com
    file: $T/knot/missing.zone
K
	knotd -c "$T/knot/knot.conf" >"$T/knot/knotd.log" 2>&1 &
	SERVFAIL_PID=$!
	cleanup_add "kill $SERVFAIL_PID 2>/dev/null"
	SERVFAIL_NS=127.0.0.1:$SERVFAIL_PORT
	wait_port "$SERVFAIL_PORT" 10 || { cat "$T/knot/knotd.log"; fail "knotd did not start"; }
}

dns_delay_start() {
	_up=$1; shift
	DELAY_PORT=$(dns_free_port)
	python3 - "$DELAY_PORT" "$_up" "$@" <<'PY' &
import socket, sys, threading, time
port, up = int(sys.argv[1]), int(sys.argv[2])
delay = {k.encode(): float(v) for k, v in (a.split("=") for a in sys.argv[3:])}
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", port))
def relay(q, peer):
    label = q[13:13 + q[12]].lower()	# the first label of the question
    time.sleep(delay.get(label, 0))
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.settimeout(5)
    u.sendto(q, ("127.0.0.1", up))
    try:
        s.sendto(u.recv(4096), peer)
    except OSError:
        pass
while True:
    q, peer = s.recvfrom(4096)
    threading.Thread(target=relay, args=(q, peer), daemon=True).start()
PY
	DELAY_PID=$!
	cleanup_add "kill $DELAY_PID 2>/dev/null"
	DELAY_NS=127.0.0.1:$DELAY_PORT
	_dns_wait_udp "$DELAY_PORT" || fail "the delaying relay did not start"
}

# dns_knot_start ZONE=FILE...  knotd serving each ZONE from its zone FILE as it is (signed
#                             or not: knotd signs nothing here) on 127.0.0.1: KNOT_NS
dns_knot_start() {
	command -v knotd >/dev/null || fail "knotd missing (make deps: knot)"
	KNOT_PORT=$(dns_free_port)
	mkdir -p "$T/knotz"
	{ printf 'server:\n    rundir: %s\n    listen: 127.0.0.1@%s\n    user: %s\n' \
		"$T/knotz" "$KNOT_PORT" "$(id -un)"
	  printf 'database:\n    storage: %s\ntemplate:\n  - id: default\n' "$T/knotz"
	  printf '    zonefile-sync: -1\n    zonefile-load: whole\n    journal-content: none\nzone:\n'
	  for _z in "$@"; do printf '  - domain: %s\n    file: %s\n' "${_z%%=*}" "${_z#*=}"; done
	} > "$T/knotz/knot.conf"
	knotd -c "$T/knotz/knot.conf" >"$T/knotz/knotd.log" 2>&1 &
	KNOT_PID=$!
	cleanup_add "kill $KNOT_PID 2>/dev/null"
	KNOT_NS=127.0.0.1:$KNOT_PORT
	wait_port "$KNOT_PORT" 10 || { cat "$T/knotz/knotd.log"; fail "knotd did not start"; }
}
