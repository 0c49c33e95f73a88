#!/bin/bash
# docker_fleet.sh - two gateway hosts of a fleet (deploy/docker/
# docker-compose.host.yml), for real: two compose projects, "host A" (node
# mx-a) and "host B" (node mx-b), each on its own bridge with its own volume
# and index, sharing only one bucket of a real Ceph RGW that runs on this
# machine (tests/lib/rgw.sh) as the external S3 service, reached by the
# containers at their bridge's gateway address.  The primary (Postfix
# smtp-sink on the same addresses) is down: mail goes in through both hosts;
# both heartbeats show in `status --fleet`, /status and /metrics.  Host A is
# lost (its containers killed); once its heartbeat is stale, host B runs
# `adopt mx-a --dry-run`, then `adopt mx-a`; the primary comes back and B
# delivers both backlogs: every message exactly once, bytes intact.  Host A
# comes back: it sees the claim, delivers nothing B adopted, and still
# delivers the mail it accepts after its return.
# Private dockerd and image build as in docker_stack.sh (tests/lib/docker.sh;
# only the runtime base image).  No traffic leaves this machine: the bridges
# are the test's own, dockerd runs without NAT or forwarding.
# Timing (2 cores, shared): ~3 min with a warm debootstrap cache.
# Needs root, docker.io, docker-compose, debootstrap, ceph (radosgw), swaks.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/rgw.sh"
. "$(dirname "$0")/../lib/docker.sh"
N_PER_HOST=${N_PER_HOST:-4}
command -v swaks >/dev/null && command -v smtp-sink >/dev/null || fail "no swaks/smtp-sink"

docker_start
docker_base_images run
docker_mxspool_image
ok "dockerd on $DOCKER_HOST, image mxs-test/mxspool built ($(el))"

# --- two hosts: a bridge, a config directory and an .env each --------------------
docker_nets
NET_a=$DK_NET1; NET_b=$DK_NET2
PS=$(free_port)			# the primary's port, on both bridges' gateway addresses
TOKEN=tok$(od -An -tx1 -N12 /dev/urandom | tr -d ' \n')
mkdir -p "$T/sink"
chmod 1777 "$T/sink"
chmod o+x "$T"			# smtp-sink runs as nobody
for h in a b; do
	eval "net=\$NET_$h"
	eval "SMTP_$h=$(free_port) HTTP_$h=$(free_port)"
	eval "smtp=\$SMTP_$h http=\$HTTP_$h"
	# as an operator writes it: one host's view; the fleet's S3 endpoint and
	# the node id come from .env (docker-compose.host.yml)
	docker_config "$T/$h/config" "url = env:MXSPOOL_S3_URL
bucket = env:MXSPOOL_S3_BUCKET" "hostname = mx-$h.example.test" "max_backoff = 5s
[routes]
example.test = smtp://$net.1:$PS
[fleet]
enabled = env:MXSPOOL_FLEET
heartbeat_interval = 5s
stale_after = 15s
ledger_interval = 1s"
	cat >"$T/$h/.env" <<EOF
MXSPOOL_NODE=mx-$h
MXSPOOL_S3_URL=http://$net.1:RGW_PORT
S3_BUCKET=fleet
MXSPOOL_S3_ACCESS_KEY=$RGW_AK
MXSPOOL_S3_SECRET_KEY=$RGW_SK
MXSPOOL_HTTP_TOKEN=$TOKEN
MXSPOOL_IMAGE=mxs-test/mxspool
MXSPOOL_CONFIG_DIR=$T/$h/config
MX_SMTP_BIND=127.0.0.1:$smtp
MX_HEALTH_BIND=127.0.0.1:$(free_port)
REPLAY_HTTP_BIND=127.0.0.1:$http
MXS_NET=$net
MXS_BRIDGE=${DK_TAG}$h
EOF
done

# compose H ARGS - docker-compose for host H (a or b): its own project
compose() {
	_h=$1; shift
	docker-compose --env-file "$T/$_h/.env" -p "$DK_TAG$_h" -f "$DD/docker-compose.host.yml" \
		-f "$DD/docker-compose.host.test.yml" "$@"
}
cleanup_add "ip link del ${DK_TAG}a; ip link del ${DK_TAG}b"
cleanup_add "compose a down -v --timeout 10; compose b down -v --timeout 10"
# the networks first: radosgw listens on their gateway addresses
for h in a b; do
	compose $h config -q || fail "compose config rejects the files (host $h)"
	compose $h up --no-start >"$T/create-$h.log" 2>&1 ||
		{ cat "$T/create-$h.log"; fail "compose up --no-start (host $h)"; }
done
ip -4 addr show dev "${DK_TAG}a" | grep -q "inet $NET_a.1/" || fail "bridge of host A has no $NET_a.1"
ip -4 addr show dev "${DK_TAG}b" | grep -q "inet $NET_b.1/" || fail "bridge of host B has no $NET_b.1"

# --- the external S3 service: Ceph RGW on this machine --------------------------
RGW_BIND_EXTRA="$NET_a.1 $NET_b.1"
rgw_up fleet
sed -i "s/RGW_PORT/$RGW_PORT/" "$T/a/.env" "$T/b/.env"
for net in "$NET_a" "$NET_b"; do
	curl -s -o /dev/null "http://$net.1:$RGW_PORT/" || fail "RGW does not answer on $net.1"
done

health() {
	dk inspect -f '{{if .State.Health}}{{.State.Health.Status}}{{else}}{{.State.Status}}{{end}}' \
		"$(compose "$1" ps -q "$2")"
}
up() {	# up H - start host H, wait until both its services are healthy
	compose "$1" up -d --no-build >"$T/up-$1.log" 2>&1 ||
		{ cat "$T/up-$1.log"; fail "compose up (host $1)"; }
	for s in mx replay; do
		for _i in $(seq 90); do
			case "$(health "$1" $s)" in healthy|unhealthy) break ;; esac
			sleep 2
		done
		[ "$(health "$1" $s)" = healthy ] || { compose "$1" logs --tail=30 $s
			fail "host $1: $s is $(health "$1" $s), not healthy"; }
	done
}
up a
up b
ok "hosts A (mx-a) and B (mx-b) up and healthy, one RGW bucket, no S3 of their own ($(el))"

# the runbook's check of the bucket, in a one-off replay container of host B
compose b run --rm -T replay sh <"$DD/bucket-check.sh" >"$T/bucket-check.txt" 2>&1 ||
	{ cat "$T/bucket-check.txt"; fail "bucket-check.sh on host B"; }
grep -q 'everything the fleet needs works' "$T/bucket-check.txt" ||
	{ cat "$T/bucket-check.txt"; fail "bucket-check.sh: no verdict"; }
ok "bucket-check.sh in a replay container of host B: conditional PUT fences (412), get, list, delete"

# --- the outage: mail through both hosts ------------------------------------------
send() {	# send H I - message I through host H's gateway
	_port=$(eval echo "\$SMTP_$1")
	_m=mxs-fleet-$DK_TAG-$2
	{
		printf 'From: sender%d@remote.test\r\nTo: alice@example.test\r\n' "$2"
		printf 'Subject: %s\r\nMessage-ID: <%s@remote.test>\r\n\r\n' "$_m" "$_m"
		printf 'marker %s via mx-%s\r\n' "$_m" "$1"
		head -c $((2000 * $2)) /dev/urandom | base64 -w 76 | sed 's/$/\r/'
	} >"$T/msgs/$_m.eml"
	swaks --server 127.0.0.1 --port "$_port" --helo client.remote.test \
		--from "sender$2@remote.test" --to alice@example.test \
		--data "@$T/msgs/$_m.eml" >"$T/swaks-$2.log" 2>&1 ||
		{ cat "$T/swaks-$2.log"; fail "message $2 via host $1 not accepted"; }
}
mkdir -p "$T/msgs"
i=0
for h in a b; do
	for _n in $(seq "$N_PER_HOST"); do i=$((i + 1)); send $h $i; done
done
total=$i
ok "$total messages accepted: $N_PER_HOST via host A, $N_PER_HOST via host B (primary down)"

# --- the fleet as host B sees it ----------------------------------------------------
# fleet-check FILE EXPR - /status JSON in FILE; EXPR over f (the "fleet"
# object) and nodes (by node id) must hold
cat >"$T/fleet-check.py" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
f = s.get("fleet") or {}
nodes = {n["node"]: n for n in f.get("nodes", [])}
try:
    good = eval(sys.argv[2])
except (KeyError, TypeError) as e:
    good = False
if not good:
    sys.exit("not (%s): %s" % (sys.argv[2], json.dumps(f)))
PY
fleet_is() {	# fleet_is H EXPR - host H's /status fleet view satisfies EXPR
	curl -fsS "http://127.0.0.1:$(eval echo "\$HTTP_$1")/status" >"$T/status-$1.json" &&
		python3 "$T/fleet-check.py" "$T/status-$1.json" "$2"
}
both="nodes['mx-a']['backlog'] == $N_PER_HOST and nodes['mx-b']['backlog'] == $N_PER_HOST"
both="$both and not nodes['mx-a']['stale'] and not nodes['mx-b']['stale']"
wait_for "fleet_is b \"$both and f['backlog'] == $total\"" 60 ||
	{ fleet_is b "$both"; fail "host B's /status does not show both hosts' backlog"; }
compose b exec -T replay mxspool-replay status --fleet >"$T/fleet-b.txt" 2>&1 ||
	{ cat "$T/fleet-b.txt"; fail "docker-compose exec replay mxspool-replay status --fleet"; }
grep -q 'mx-a' "$T/fleet-b.txt" && grep -q 'mx-b' "$T/fleet-b.txt" ||
	{ cat "$T/fleet-b.txt"; fail "status --fleet does not list mx-a and mx-b"; }
curl -fsS "http://127.0.0.1:$HTTP_a/metrics" >"$T/metrics-a.txt" || fail "GET /metrics"
grep -qE "^mxspool_fleet_[a-z_]+\{[^}]*node=\"mx-b\"" "$T/metrics-a.txt" ||
	{ grep fleet "$T/metrics-a.txt"; fail "host A's /metrics has no fleet series of mx-b"; }
# the dashboard the image serves has the Fleet panel (its rendering of a lost
# node: tests/e2e/fleet_rgw.sh, in Chromium)
curl -fsS "http://127.0.0.1:$HTTP_b/" | grep -q 'aria-label="fleet"' ||
	fail "host B's dashboard has no Fleet panel"
ok "both heartbeats seen from either host: /status backlog $N_PER_HOST + $N_PER_HOST," \
	"status --fleet, /metrics; dashboard with its Fleet panel ($(el))"

# --- host A is lost ----------------------------------------------------------------
compose a kill >"$T/kill-a.log" 2>&1 || { cat "$T/kill-a.log"; fail "compose kill (host A)"; }
wait_for "fleet_is b \"nodes['mx-a']['stale']\"" 90 ||
	{ cat "$T/status-b.json"; fail "host A's heartbeat never went stale on host B"; }
compose b exec -T replay mxspool-replay status --fleet >"$T/fleet-stale.txt" 2>&1
grep -q '^mx-a .*STALE WITH BACKLOG' "$T/fleet-stale.txt" &&
	grep -q '^PROBLEM: mx-a' "$T/fleet-stale.txt" ||
	{ cat "$T/fleet-stale.txt"; fail "status --fleet does not flag mx-a, stale with backlog"; }
curl -fsS "http://127.0.0.1:$HTTP_b/metrics" >"$T/metrics-b.txt" || fail "GET /metrics (host B)"
grep -qx 'mxspool_fleet_node_problem{node="mx-a"} 1' "$T/metrics-b.txt" ||
	{ grep fleet_node "$T/metrics-b.txt"; fail "host B's /metrics: mx-a is not a problem"; }
ok "host A killed: on host B it is stale with backlog in /status, status --fleet, /metrics ($(el))"

# --- B adopts A: first --dry-run, which takes nothing ------------------------------
compose b exec -T replay mxspool-replay adopt --dry-run mx-a >"$T/adopt-dry.txt" 2>&1 ||
	{ cat "$T/adopt-dry.txt"; fail "adopt mx-a --dry-run"; }
grep -qw "$N_PER_HOST" "$T/adopt-dry.txt" ||
	{ cat "$T/adopt-dry.txt"; fail "adopt --dry-run does not say $N_PER_HOST messages"; }
compose b exec -T replay mxspool-replay qshape >"$T/qshape-dry.txt" 2>&1
grep -qE "TOTAL +$N_PER_HOST " "$T/qshape-dry.txt" ||
	{ cat "$T/qshape-dry.txt"; fail "adopt --dry-run changed host B's backlog"; }
compose b exec -T replay mxspool-replay adopt mx-a >"$T/adopt.txt" 2>&1 </dev/null ||
	{ cat "$T/adopt.txt"; fail "adopt mx-a"; }
compose b exec -T replay mxspool-replay qshape >"$T/qshape-adopt.txt" 2>&1
grep -qE "TOTAL +$total " "$T/qshape-adopt.txt" ||
	{ cat "$T/adopt.txt" "$T/qshape-adopt.txt"; fail "host B's backlog is not $total after adopt"; }
ok "adopt mx-a --dry-run took nothing; adopt mx-a: host B's backlog is $total ($(el))"

# --- the primary comes back: B delivers both backlogs --------------------------------
for net in "$NET_a" "$NET_b"; do
	smtp-sink -u nobody -d "$T/sink/%M." "$net.1:$PS" 64 2>>"$T/sink.log" &
	cleanup_add "kill $!"
done
compose b exec -T replay mxspool-replay requeue --all >"$T/requeue.txt" 2>&1 ||
	{ cat "$T/requeue.txt"; fail "requeue --all on host B"; }
wait_for "[ \$(find $T/sink -type f | wc -l) -ge $total ]" 180 ||
	{ compose b logs --tail=40 replay; fail "$(find "$T/sink" -type f | wc -l) of $total at the primary"; }
python3 "$TOP/tests/lib/sink_once.py" "$T/msgs" "$T/sink" "$total" || fail "after adoption"
ok "primary back: all $total messages (A's and B's) delivered by host B exactly once ($(el))"

# --- host A comes back -----------------------------------------------------------------
up a
# its replay read the claim at start: what B adopted is no longer A's backlog
wait_for "fleet_is a \"nodes['mx-a']['epoch'] >= 1 and nodes['mx-a']['backlog'] == 0\"" 60 ||
	{ cat "$T/status-a.json"; compose a logs --tail=30 replay
	  fail "host A back: it did not acknowledge the claim"; }
# and it still delivers what it accepts after its return
i=$((i + 1)); send a $i; total=$i
compose a exec -T replay mxspool-replay requeue --all >/dev/null 2>&1
wait_for "[ \$(find $T/sink -type f | wc -l) -ge $total ]" 120 ||
	{ compose a logs --tail=40 replay; fail "host A does not deliver its new mail"; }
curl -fsS "http://127.0.0.1:$HTTP_a/status" >"$T/status-a.json" || fail "GET /status (host A)"
python3 - "$T/status-a.json" <<'PY' || fail "host A's backlog after its return"
import json, sys
s = json.load(open(sys.argv[1]))
if s["backlog"]["messages"] != 0:
    sys.exit("host A still has %d messages to deliver" % s["backlog"]["messages"])
PY
python3 "$TOP/tests/lib/sink_once.py" "$T/msgs" "$T/sink" "$total" || fail "after host A's return"
ok "host A back: delivered only its new message, none of the $N_PER_HOST B adopted ($(el))"

for h in a b; do
	compose $h down -v --timeout 20 >"$T/down-$h.log" 2>&1 ||
		{ cat "$T/down-$h.log"; fail "compose down (host $h)"; }
done
[ -z "$(dk ps -aq)" ] || fail "containers left after compose down"
ok "compose down -v on both hosts ($(el) in all)"
