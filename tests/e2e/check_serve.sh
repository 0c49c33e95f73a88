#!/bin/bash
# check_serve.sh - serve runs the readiness check every [replay] check_interval and
# shows it: /status "readiness", /metrics mxspool_check_status{check,domain} (0 pass,
# 1 warn, 2 fail) and the dashboard's "Failover readiness" panel (real Chromium).
# The gateway is a real mxspool-ingest with a self-signed certificate (tls_chain
# FAILs against the system CAs), DNS is dnsmasq on loopback with a good MX.
. "$(dirname "$0")/../lib/common.sh"
. "$TOP/tests/lib/dns.sh"
. "$TOP/tests/lib/status.sh"
. "$TOP/tests/lib/ingest.sh"
status_need_chromium

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 60 \
	-subj /CN=mx2.example.com -addext subjectAltName=DNS:mx2.example.com \
	-keyout "$T/key.pem" -out "$T/cert.pem" 2>/dev/null || fail "openssl req"
cat > "$T/zone" <<'Z'
local=/example.com/
host-record=primary.example.com,10.0.0.10
host-record=mx2.example.com,10.0.0.11
mx-host=example.com,primary.example.com,10
mx-host=example.com,mx2.example.com,20
Z
dns_start "$T/zone"
HTTP=$(free_port)
echo postmaster@example.com > "$T/rcpts"
INGEST_RCPTS=$T/rcpts INGEST_HOSTNAME=mx2.example.com INGEST_DOMAIN=example.com \
INGEST_ROUTE=smtp://127.0.0.1:$(free_port) ingest_gateway mx "tls_cert = $T/cert.pem
tls_key = $T/key.pem" "[dns]
nameserver = $DNS_NS
[replay]
check_interval = 1s
start_paused = yes
[http]
listen = 127.0.0.1:$HTTP
[check]
ca_file = /etc/ssl/certs/ca-certificates.crt
timeout = 3s"
"$REPLAY" -c "$T/mx.conf" serve >> "$T/serve.log" 2>&1 &
SERVE=$!
cleanup_add "kill $SERVE"
wait_port "$HTTP" 20 || { tail "$T/serve.log"; fail "serve did not start"; }

U=http://127.0.0.1:$HTTP
wait_for "curl -sf $U/status | jq -e '.readiness.report.checks | length > 0'" 30 ||
	{ curl -s "$U/status" | jq .readiness; tail "$T/serve.log"; fail "no readiness report"; }
curl -sf "$U/status" > "$T/s1.json"
jq -e '.control | has("check_report") | not' "$T/s1.json" >/dev/null ||
	fail "the raw report leaks into .control"
jq -e '.readiness.report.status == "fail" and .readiness.drill_canaries == 0' "$T/s1.json" \
	>/dev/null || fail "readiness: $(jq -c .readiness "$T/s1.json" | cut -c1-300)"
ok "/status readiness: $(jq -c '[.readiness.report.checks[] | .check + "=" + .status]' \
	"$T/s1.json" | cut -c1-200)"
t1=$(jq .readiness.report.checked_ms "$T/s1.json")
wait_for "[ \$(curl -sf $U/status | jq .readiness.report.checked_ms) -gt $t1 ]" 30 ||
	fail "the report was not refreshed"
ok "serve refreshes the report ([replay] check_interval)"

curl -sf "$U/metrics" > "$T/metrics"
want_metric() {
	grep -qxF "$1" "$T/metrics" || { grep mxspool_check "$T/metrics"; fail "no '$1'"; }
	ok "metric $1"
}
want_metric 'mxspool_check_status{check="mx",domain="example.com"} 0'
want_metric 'mxspool_check_status{check="tls_name",domain=""} 0'
want_metric 'mxspool_check_status{check="tls_chain",domain=""} 2'
want_metric 'mxspool_check_status{check="primary",domain=""} 1'
want_metric 'mxspool_drill_canaries 0'
grep -q '^mxspool_check_timestamp_seconds [0-9]' "$T/metrics" || fail "no timestamp gauge"
[ "$(grep -c '^mxspool_check_status{check="recipients",domain="example.com"}' \
	"$T/metrics")" = 1 ] || fail "duplicate series"
if command -v promtool >/dev/null; then
	promtool check metrics < "$T/metrics" || fail "promtool"
	ok "promtool check metrics: clean"
fi

chrome --window-size=1280,1800 --dump-dom "$U/" > "$T/dom.html" || fail "chromium --dump-dom"
grep -q 'Failover readiness' "$T/dom.html" || fail "no panel"
grep -q 'id="readiness-summary" class="bad">FAILOVER WOULD NOT WORK: 1 failing' \
	"$T/dom.html" || { grep -o 'readiness-summary[^<]*<' "$T/dom.html"; fail "summary"; }
grep -q '<td class="rd-fail">FAIL</td><td>tls_chain</td>' "$T/dom.html" ||
	fail "no FAIL row for tls_chain"
ok "dashboard: Failover readiness panel shows the failing check first"
kill "$SERVE"; wait "$SERVE"
rc=$?
[ "$rc" = 0 ] || { tail "$T/serve.log"; fail "serve exit $rc"; }
if grep -E 'AddressSanitizer|LeakSanitizer|runtime error' "$T/serve.log"; then
	fail "sanitizer report in serve.log"
fi
ok "serve stops cleanly (the check thread joined): exit 0, no sanitizer report"
