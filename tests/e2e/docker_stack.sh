#!/bin/bash
# docker_stack.sh - the docker-compose standby stack (deploy/docker/), for
# real: a private dockerd, images built from a debootstrap base (no registry),
# the compose file plus docker-compose.test.yml (Ceph RGW as the object
# store, a Postfix smtp-sink as the primary).  The primary is stopped (the
# outage), mail goes in through BOTH gateways on their ports published on
# 127.0.0.1, the backlog shows in /status and in `qshape` through
# `docker-compose exec`; the primary comes back, `requeue --all`, and every
# message must arrive once with its bytes intact; then the dashboard's
# /status numbers and HTML page, `compose down -v`, dockerd stopped, its data
# root removed.  Timing (2 cores, shared): ~2 min with a warm cache, ~4 min
# cold (debootstrap of two base images into MXS_TEST_CACHE, default
# /var/cache/mxspool-test).  Needs root, docker.io, docker-compose, debootstrap.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/docker.sh"
N_PER_GW=${N_PER_GW:-4}

docker_start
docker_base_images
ok "dockerd on $DOCKER_HOST, base images imported ($(el))"

# --- the mxspool image, from host-built binaries (Dockerfile.local) -------------
docker_mxspool_image
ok "image mxs-test/mxspool built ($(el))"

# --- addresses: two free /24s in 10/8, bridges named by us ---------------------
docker_nets
tag=$DK_TAG
P1=$(free_port); P2=$(free_port); PH1=$(free_port); PH2=$(free_port); PR=$(free_port)
TOKEN=tok$(od -An -tx1 -N12 /dev/urandom | tr -d ' \n')
mkdir -p "$T/sink" "$T/config/tls"
chmod 1777 "$T/sink"

# --- configuration, TLS material and secrets, as an operator would write them -
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=mx.example.test \
	-keyout "$T/config/tls/key.pem" -out "$T/config/tls/cert.pem" 2>/dev/null ||
	fail "openssl req"
chown 10025:10025 "$T/config/tls/key.pem"
chmod 0600 "$T/config/tls/key.pem"
docker_config "$T/config" "url = http://s3:9000
bucket = mxspool" "hostname = mx.example.test
tls_cert = /etc/mxspool/tls/cert.pem
tls_key = /etc/mxspool/tls/key.pem" "max_backoff = 10s
[routes]
example.test = smtp://primary:2525"

cat >"$T/test.env" <<EOF
MXSPOOL_IMAGE=mxs-test/mxspool
MXS_RGW_IMAGE=mxs-test/base:rgw
MXS_DD=$DD
MXS_BASE_IMAGE=mxs-test/base:run
MXSPOOL_CONFIG_DIR=$T/config
MXSPOOL_S3_ACCESS_KEY=MXS$(od -An -tx1 -N8 /dev/urandom | tr -d ' \n' | tr a-f A-F)
MXSPOOL_S3_SECRET_KEY=$(od -An -tx1 -N20 /dev/urandom | tr -d ' \n')
MXSPOOL_HTTP_TOKEN=$TOKEN
MINIO_ROOT_USER=unused
MINIO_ROOT_PASSWORD=unused
MX1_SMTP_BIND=127.0.0.1:$P1
MX2_SMTP_BIND=127.0.0.1:$P2
MX1_HEALTH_BIND=127.0.0.1:$PH1
MX2_HEALTH_BIND=127.0.0.1:$PH2
REPLAY_HTTP_BIND=127.0.0.1:$PR
MXS_NET_BACKEND=$DK_NET1
MXS_NET_EDGE=$DK_NET2
MXS_BRIDGE=$tag
MXS_SINK_DIR=$T/sink
EOF

compose() {
	docker-compose --env-file "$T/test.env" -p "$tag" -f "$DD/docker-compose.yml" \
		-f "$DD/docker-compose.test.yml" "$@"
}
# down first (containers, volumes, networks), then dockerd (cleanup is LIFO);
# bridges by name in case dockerd died before removing them
cleanup_add "ip link del ${tag}e; ip link del ${tag}b"
cleanup_add "compose down -v --timeout 20"
compose config -q || fail "compose config rejects the files"

compose up -d --no-build >"$T/up.log" 2>&1 || { cat "$T/up.log"; fail "compose up"; }
cid() { compose ps -q "$1"; }
health() {
	dk inspect -f '{{if .State.Health}}{{.State.Health.Status}}{{else}}{{.State.Status}}{{end}}' \
		"$(cid "$1")"
}
for s in s3 mx1 mx2 replay; do
	for _i in $(seq 120); do	# "unhealthy" is final: Docker's retries are spent
		case "$(health $s)" in healthy|unhealthy) break ;; esac
		sleep 2
	done
	[ "$(health $s)" = healthy ] || {
		compose ps; compose logs --tail=30 "$s"; fail "$s is $(health "$s"), not healthy"; }
done
[ "$(compose exec -T mx1 id -u | tr -d '\r')" = 10025 ] || fail "mx1 does not run as uid 10025"
ok "compose up: s3 (RGW), mx1, mx2, replay healthy, running as uid 10025 ($(el))"

# --- the published ports: only 127.0.0.1 ---------------------------------------
for p in $P1 $P2 $PH1 $PH2 $PR; do
	ss -Hltn "sport = :$p" | awk '{print $4}' | grep -qx "127.0.0.1:$p" ||
		fail "port $p is not published on 127.0.0.1"
done
curl -fsS "http://127.0.0.1:$PH1/healthz" >/dev/null || fail "mx1 /healthz"
curl -fsS "http://127.0.0.1:$PH2/healthz" >/dev/null || fail "mx2 /healthz"
ok "published on 127.0.0.1 only; /healthz of both gateways answers 200"

# --- failover: the primary is down ---------------------------------------------
compose stop -t 5 primary >/dev/null 2>&1 || fail "compose stop primary"
ok "primary stopped (the outage)"

# --- mail through both gateways --------------------------------------------------
# each message carries a unique marker; -tls on every other one (STARTTLS
# with the mounted certificate)
mkdir -p "$T/msgs"
i=0
for gw in 1 2; do
	port=$P1; [ "$gw" = 2 ] && port=$P2
	for _n in $(seq "$N_PER_GW"); do
		i=$((i + 1))
		m=mxs-docker-$tag-$i
		rcpt=alice; [ $((i % 3)) = 0 ] && rcpt=bob
		tls=; [ $((i % 2)) = 0 ] && tls=-tls
		{
			printf 'From: sender%d@remote.test\r\nTo: %s@example.test\r\n' "$i" "$rcpt"
			printf 'Subject: %s\r\nMessage-ID: <%s@remote.test>\r\n\r\n' "$m" "$m"
			printf 'marker %s via mx%s\r\n' "$m" "$gw"
			head -c $((3000 * i)) /dev/urandom | base64 -w 76 | sed 's/$/\r/'
		} >"$T/msgs/$m.eml"
		swaks --server 127.0.0.1 --port "$port" $tls --helo client.remote.test \
			--from "sender$i@remote.test" --to "$rcpt@example.test" \
			--data "@$T/msgs/$m.eml" >"$T/swaks-$i.log" 2>&1 ||
			{ cat "$T/swaks-$i.log"; fail "message $i via mx$gw not accepted"; }
	done
done
ok "$i messages accepted: $N_PER_GW via mx1, $N_PER_GW via mx2 (half with STARTTLS)"

# a domain that is not ours is refused, through either gateway
swaks --server 127.0.0.1 --port "$P2" --from a@remote.test --to x@elsewhere.test \
	--quit-after RCPT >"$T/swaks-relay.log" 2>&1
grep -qE '<\*\* +5[0-9][0-9]' "$T/swaks-relay.log" ||
	{ cat "$T/swaks-relay.log"; fail "relay not denied"; }
ok "relay to a foreign domain denied (5xx)"

# --- the backlog, seen through the dashboard and the CLI -------------------------
total=$i
cat >"$T/backlog-check.py" <<'PY'
import json, sys
s = json.load(open(sys.argv[1])); total = int(sys.argv[2])
if s["backlog"]["messages"] != total or s["states"]["delivered"]["messages"] != 0:
    sys.exit("backlog=%d delivered=%d, expected backlog=%d delivered=0" %
             (s["backlog"]["messages"], s["states"]["delivered"]["messages"], total))
PY
curl -fsS "http://127.0.0.1:$PR/status" >"$T/backlog.json" || fail "GET /status"
python3 "$T/backlog-check.py" "$T/backlog.json" "$total" || fail "/status during the outage"
compose exec -T replay mxspool-replay qshape >"$T/qshape.txt" 2>&1 ||
	{ cat "$T/qshape.txt"; fail "docker-compose exec replay mxspool-replay qshape"; }
grep -qE "TOTAL +$total " "$T/qshape.txt" ||
	{ cat "$T/qshape.txt"; fail "qshape: TOTAL is not $total"; }
ok "outage: /status backlog=$total, qshape TOTAL $total (through docker-compose exec)"

# --- failback: primary up, retry now, every message arrives once, intact ---------
compose start primary >/dev/null 2>&1 || fail "compose start primary"
compose exec -T replay mxspool-replay requeue --all >"$T/requeue.txt" 2>&1 ||
	{ cat "$T/requeue.txt"; fail "docker-compose exec replay mxspool-replay requeue --all"; }
wait_for "[ \$(find $T/sink -type f | wc -l) -ge $total ]" 180 || {
	compose logs --tail=40 replay
	fail "$(find "$T/sink" -type f | wc -l) of $total at the primary"; }
python3 "$TOP/tests/lib/sink_once.py" "$T/msgs" "$T/sink" "$total" ||
	fail "delivered messages differ from the sent ones"
ok "all $total messages at the primary exactly once, bytes intact ($(el))"

# --- the dashboard ------------------------------------------------------------
# counters reach the index every [ingest] counters_interval: poll, then assert
cat >"$T/status-check.py" <<'PY'
import json, sys
s = json.load(open(sys.argv[1])); total = int(sys.argv[2])
got = (s["states"]["delivered"]["messages"], s["backlog"]["messages"], s["ingest"]["accepted"])
print("  /status: delivered=%d backlog=%d ingest.accepted=%d" % got)
if got[0] != total or got[1] != 0 or got[2] < total:
    sys.exit("expected delivered=%d backlog=0 accepted>=%d" % (total, total))
PY
for _s in $(seq 60); do
	curl -fsS "http://127.0.0.1:$PR/status" >"$T/status.json" &&
		python3 "$T/status-check.py" "$T/status.json" "$total" >/dev/null 2>&1 && break
	sleep 1
done
python3 "$T/status-check.py" "$T/status.json" "$total" ||
	{ cat "$T/status.json"; fail "/status numbers"; }
curl -fsS -D "$T/index.hdr" "http://127.0.0.1:$PR/" >"$T/index.html" || fail "GET /"
grep -qi '^content-type: text/html' "$T/index.hdr" || fail "GET / is not text/html"
grep -qi '<html' "$T/index.html" || fail "GET / is not an HTML page"
ok "dashboard: /status JSON shows the deliveries, / is the HTML page"

# --- the operator CLI through compose -------------------------------------------
compose exec -T replay mxspool-replay status >"$T/cli-status.txt" 2>&1 ||
	{ cat "$T/cli-status.txt"; fail "docker-compose exec replay mxspool-replay status"; }
ok "docker-compose exec replay mxspool-replay status works"

compose down -v --timeout 20 >"$T/down.log" 2>&1 || { cat "$T/down.log"; fail "compose down"; }
[ -z "$(dk ps -aq)" ] || fail "containers left after compose down"
[ -z "$(dk volume ls -q)" ] || fail "volumes left after compose down -v"
ok "compose down -v: no containers, no volumes left ($(el) in all)"
