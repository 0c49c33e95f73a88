#!/bin/bash
# fleet_rgw.sh - three gateways as separate hosts (own data dir, index, ports; no
# shared file but the bucket) on one real Ceph RGW bucket, Postfix smtp-sink as the
# primary (docs/storage.md "The fleet", docs/replay.md "adopt").
#   1. mail to all three through their ingests; every 250 is recorded with its id
#   2. A is alive: `adopt mx-a` refuses (75, nothing claimed); --dry-run prints what
#      it would take and changes nothing
#   3. A drains part of its backlog (drain --rate 1); kill -9 of A's drain and ingest
#      mid-drain (the host is lost).  A writes its ledger in batches of 4 outcomes
#      (and no timer): at the kill, the deliveries of an unfinished batch are known
#      to nobody but the primary, as after a crash between two ledger writes
#   4. A's heartbeats go stale: `status --fleet` (text and --json) flags mx-a as the
#      problem; serve's /status, /metrics and the dashboard's Fleet panel (headless
#      Chromium) show the same; serve reads the bucket on its own schedule (RGW's log:
#      40 requests, fewer reads), keeps its last view while RGW is stopped
#   5. on a terminal (script(1)) adopt asks, and "n" takes nothing; B and C adopt A at once: exactly one wins (0), the other exits 75 naming the
#      winner; one claim, one manifest; manifest and A's ledger split A's 20 messages
#   6. the winner drains; B and C drain their own; re-running adopt completes nothing
#      new (idempotent)
#   7. every acknowledged message reached the primary byte-exact, exactly once, except
#      those A delivered but had not yet written to its ledger (in flight at the
#      kill), which may arrive once more, never a third time
#   8. A is restarted: its adopted messages are 'adopted' in its index, it delivers
#      none of them, but delivers new mail; status --fleet shows the claim acknowledged
#   9. a chain: A takes 4 more and dies again; the loser's claim 2 on A is there
#      without manifest (its adopt died after the claim): adopt run again completes it
#      (only those 4, not what claim 1 took); the loser dies before delivering; A
#      comes back (its 4 are 'adopted' there, it sends nothing), adopts the loser and
#      with it the loser's claim on A: its own 4 come back and reach the primary once
# FLEET_STORE=file (tests/e2e/fleet_file.sh) runs the same on a shared file:// store.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/rgw.sh"
. "$(dirname "$0")/../lib/status.sh"
. "$(dirname "$0")/../lib/ingest.sh"
[ -x "$INGEST" ] && [ -x "$REPLAY" ] || fail "build first (make O=... all)"
command -v smtp-sink >/dev/null || fail "no smtp-sink"
command -v script >/dev/null || fail "no script(1) (bsdutils)"
chmod 711 "$T"
FLEET_STORE=${FLEET_STORE:-rgw}

if [ "$FLEET_STORE" = rgw ]; then
	rgw_up mail
	STORAGE=$(rgw_storage mail)
	# LS PREFIX - the keys under PREFIX; SYNC DIR - a copy of the bucket in DIR
	LS() { aws_s3 s3 ls --recursive "s3://mail/$1" | awk '{print $4}'; }
	SYNC() { aws_s3 s3 sync --quiet s3://mail/ "$1/" || fail "aws s3 sync"; }
	CAT() { aws_s3 s3 cp --quiet "s3://mail/$1" -; }
else
	mkdir -p "$T/store"
	STORAGE="url = file://$T/store"
	LS() { [ -d "$T/store/$1" ] || return 0
		(cd "$T/store" && find "$1" -type f ! -name '.tmp-*' | sort); }
	SYNC() { mkdir -p "$1"; cp -r "$T/store/." "$1/"; }
	CAT() { cat "$T/store/$1"; }
fi
printf 'alice\npostmaster\n' > "$T/rcpts"
SPORT=$(free_port)
declare -A PORT HPORT
for n in a b c; do PORT[$n]=$(free_port); HPORT[$n]=$(free_port); done

node_conf() {	# node_conf N - $T/N.conf: node mx-N, data dir $T/N, the shared bucket
	mkdir -p "$T/$1"
	INGEST_STORAGE=$STORAGE ingest_conf "$T/$1.conf" "127.0.0.1:${PORT[$1]}" "" "[fleet]
heartbeat_interval = 5s
stale_after = 10s
$([ "$1" = a ] && printf 'ledger_interval = 3600s\nledger_batch = 4' || echo 'ledger_interval = 1s')
[replay]
ramp = 1s
concurrency = 1
min_backoff = 1s
max_backoff = 2s
[deliver]
connect_timeout = 5s
command_timeout = 30s
[routes]
* = smtp://127.0.0.1:$SPORT
[http]
listen = 127.0.0.1:${HPORT[$1]}"
	# ingest_conf's one gateway (mx1 in $T/run) becomes host N of the fleet
	sed -i -e "s|^node = mx1\$|node = mx-$1|" -e "s|^data_dir = $T/run\$|data_dir = $T/$1|" \
	    -e "s|^recipients = $T/run/rcpts\$|recipients = $T/rcpts|" "$T/$1.conf"
	grep -q "^node = mx-$1\$" "$T/$1.conf" && grep -q "^data_dir = $T/$1\$" "$T/$1.conf" ||
		fail "node_conf $1: $(cat "$T/$1.conf")"
}
R() { _n=$1; shift; "$REPLAY" -c "$T/$_n.conf" "$@" 2>>"$T/replay-$_n.log" </dev/null; }
RE() { _n=$1; shift; "$REPLAY" -c "$T/$_n.conf" "$@" </dev/null; }	# stderr kept
declare -A IPID
ingest_up() {	# ingest_up N - start node N's ingest
	ingest_start "$T/$1.conf" "${PORT[$1]}" "$T/ingest-$1.log"
	IPID[$1]=$INGEST_PID
}

SINKPID=
sink() {	# sink NAME - (re)start the primary, dumps in $T/NAME
	[ -n "$SINKPID" ] && kill "$SINKPID" 2>/dev/null && wait "$SINKPID" 2>/dev/null
	mkdir -m 777 -p "$T/$1"
	smtp-sink -u nobody -d "$T/$1/m." 127.0.0.1:"$SPORT" 50 2>>"$T/sink.log" &
	SINKPID=$!
	wait_port "$SPORT" 10 || fail "smtp-sink did not start ($1)"
}
cleanup_add '[ -n "$SINKPID" ] && kill $SINKPID'
dumps() { ls "$T/$1" 2>/dev/null | wc -l; }

# send N COUNT - COUNT messages to node N's ingest; "SUBJECT ID" per 250 in $T/acked
cat > "$T/send.py" <<'PY'
import smtplib, sys
port, node, first, count = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
for i in range(first, first + count):
    subj = "fleet-%s-%d" % (node, i)
    msg = ("From: s@sender.example\r\nTo: alice@example.test\r\nSubject: %s\r\n"
           "Message-ID: <%s@sender.example>\r\n\r\nbody of %s\r\n" % (subj, subj, subj)
           + "x" * (i * 37 % 500) + "\r\n")
    s = smtplib.SMTP("127.0.0.1", port, timeout=60)
    s.ehlo("client.example")
    s.mail("s@sender.example")
    s.rcpt("alice@example.test")
    if i % 3 == 0:
        s.rcpt("postmaster@example.test")
    code, text = s.data(msg.encode())
    s.quit()
    if code == 250:
        print(subj, text.decode().split()[-1])
PY
send() {
	python3 "$T/send.py" "${PORT[$1]}" "$1" "$2" "$3" >> "$T/acked" ||
		fail "sending to $1"
}

for n in a b c; do node_conf $n; ingest_up $n; done
send a 1 20; send b 1 6; send c 1 6
[ "$(wc -l < "$T/acked")" = 32 ] || fail "acknowledged $(wc -l < "$T/acked") of 32"
[ "$(R a list | grep -c '^01')" = 20 ] || fail "A lists $(R a list | grep -c '^01'), want 20"
ok "32 messages acknowledged by three gateways (A 20, B 6, C 6), each in its own index"

# 2. A is alive: no adoption, a dry run changes nothing
wait_for "[ -n \"\$(LS mail/_fleet/hb/mx-a/)\" ]" 20 || fail "no heartbeat of mx-a in the bucket"
RE b adopt mx-a > "$T/alive.out" 2> "$T/alive.err"; rc=$?
[ "$rc" = 75 ] || fail "adopt of a live node: exit $rc, want 75 ($(cat "$T/alive.err"))"
grep -q "mx-a is alive" "$T/alive.err" || fail "refusal does not say why: $(cat "$T/alive.err")"
[ -z "$(LS mail/_fleet/claims/)" ] || fail "a refused adopt left a claim: $(LS mail/_fleet/claims/)"
R b adopt --dry-run mx-a > "$T/dry.out" || fail "adopt --dry-run: exit $? ($(cat "$T/dry.out"))"
grep -q "^adopt --dry-run: mx-a: 20 messages, 26 recipients, .*, oldest " "$T/dry.out" ||
	fail "dry run figures: $(cat "$T/dry.out")"
grep -q "alive: adopt refuses it without --force" "$T/dry.out" || fail "dry run: no alive note"
[ -z "$(LS mail/_fleet/claims/)" ] || fail "--dry-run claimed"
[ "$(R b list --state all | grep -c '^01')" = 6 ] || fail "--dry-run imported into B"
ok "A alive: adopt exits 75 (nothing claimed); --dry-run prints 20 messages, 26 recipients, changes nothing"

# 3. A drains part of its backlog and its host dies mid-drain
SYNC "$T/bucket"
sink s1
"$REPLAY" -c "$T/a.conf" drain --rate 1 > "$T/drain-a.out" 2>>"$T/replay-a.log" </dev/null &
DPID=$!
cleanup_add "kill -9 $DPID"
wait_for "[ \$(ls $T/s1 | wc -l) -ge 5 ] && [ -n \"\$(LS mail/_fleet/ledger/mx-a/)\" ]" 60 ||
	fail "A's drain: $(dumps s1) delivered, ledger: $(LS mail/_fleet/ledger/mx-a/)"
kill -9 "$DPID" "${IPID[a]}"; wait "$DPID" "${IPID[a]}" 2>/dev/null
got1=$(dumps s1)
[ "$got1" -lt 20 ] || fail "A's drain finished before the kill"
ok "kill -9 of A (drain and ingest) after $got1 of its 20 messages reached the primary"

# 4. staleness: status --fleet, /status, /metrics, the dashboard
wait_for "R b status --fleet --json | python3 -c 'import json,sys; n={x[\"node\"]: x for x in json.load(sys.stdin)[\"nodes\"]}; sys.exit(0 if n[\"mx-a\"][\"stale\"] and n[\"mx-a\"][\"problem\"] else 1)'" 60 ||
	fail "mx-a not shown stale: $(R b status --fleet --json)"
R b status --fleet > "$T/fleet.txt" || fail "status --fleet: exit $?"
grep -q "^mx-a .*STALE WITH BACKLOG" "$T/fleet.txt" && grep -q "^PROBLEM: mx-a was last seen" \
	"$T/fleet.txt" && grep -q "mxspool-replay adopt mx-a" "$T/fleet.txt" ||
	fail "status --fleet text: $(cat "$T/fleet.txt")"
grep -q "^mx-b " "$T/fleet.txt" && ! grep -q "^mx-b .*stale\|^mx-b .*STALE" "$T/fleet.txt" ||
	fail "mx-b should be fresh: $(cat "$T/fleet.txt")"
R b status --fleet --json > "$T/fleet.json"
python3 - "$T/fleet.json" <<'PY' || fail "status --fleet --json (above)"
import json, sys
f = json.load(open(sys.argv[1]))
n = {x["node"]: x for x in f["nodes"]}
assert set(n) == {"mx-a", "mx-b", "mx-c"}, n.keys()
assert n["mx-a"]["stale"] and n["mx-a"]["problem"] and n["mx-a"]["backlog"] > 0, n["mx-a"]
assert n["mx-a"]["running"] == [] or n["mx-a"]["stale"], n["mx-a"]
assert not n["mx-b"]["stale"] and not n["mx-b"]["problem"], n["mx-b"]
assert f["problems"] == 1 and f["nodes_stale"] == 1, f
assert f["backlog"] == sum(x["backlog"] for x in f["nodes"]), f
print("  mx-a: backlog %d, last seen %ss ago" % (n["mx-a"]["backlog"], n["mx-a"]["last_seen_age_s"]))
PY
ok "status --fleet: mx-a stale with backlog, named as the problem with the adopt command"

"$REPLAY" -c "$T/b.conf" serve 2>>"$T/serve-b.log" </dev/null &
SPID=$!
cleanup_add "kill -9 $SPID"
U=http://127.0.0.1:${HPORT[b]}
wait_for "curl -sf $U/status | python3 -c 'import json,sys; sys.exit(0 if json.load(sys.stdin)[\"fleet\"] else 1)'" 30 ||
	fail "serve's /status has no fleet view"
curl -sf "$U/status" | python3 -c '
import json, sys
f = json.load(sys.stdin)["fleet"]
n = {x["node"]: x for x in f["nodes"]}
sys.exit(0 if n["mx-a"]["problem"] and not n["mx-b"]["stale"] else 1)' || fail "/status fleet"
curl -sf "$U/metrics" > "$T/metrics" || fail "GET /metrics"
grep -q '^mxspool_fleet_node_stale{node="mx-a"} 1$' "$T/metrics" &&
	grep -q '^mxspool_fleet_node_problem{node="mx-a"} 1$' "$T/metrics" &&
	grep -q '^mxspool_fleet_node_stale{node="mx-b"} 0$' "$T/metrics" &&
	grep -Eq '^mxspool_fleet_node_backlog\{node="mx-a"\} [1-9]' "$T/metrics" &&
	grep -Eq '^mxspool_fleet_node_last_seen_seconds\{node="mx-a"\} [1-9]' "$T/metrics" ||
	fail "fleet metrics: $(grep fleet "$T/metrics")"
if command -v promtool >/dev/null; then
	promtool check metrics < "$T/metrics" > "$T/promtool.out" 2>&1 && [ ! -s "$T/promtool.out" ] ||
		fail "promtool on /metrics with the fleet: $(cat "$T/promtool.out")"
fi
if [ -x "${CHROMIUM:-/usr/bin/chromium}" ]; then
	status_need_chromium
	chrome --window-size=1280,1800 --dump-dom "$U/" > "$T/dom.html" || fail "chromium"
	python3 - "$T/dom.html" <<'PY' || fail "dashboard Fleet panel (above)"
import html.parser, re, sys
dom = open(sys.argv[1]).read()
class P(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(); self.rows = {}; self.cur = None; self.sid = None; self.summary = ""
    def handle_starttag(self, tag, a):
        a = dict(a)
        if tag == "tr" and a.get("data-node"):
            self.cur = a["data-node"]; self.rows[self.cur] = [a.get("class") or "", ""]
        if a.get("id") == "fleet-summary": self.sid = 1
    def handle_endtag(self, tag):
        if tag == "tr": self.cur = None
        if tag == "div": self.sid = None
    def handle_data(self, d):
        if self.cur: self.rows[self.cur][1] += d + "|"
        if self.sid: self.summary += d
p = P(); p.feed(dom)
ok = (set(p.rows) == {"mx-a", "mx-b", "mx-c"} and p.rows["mx-a"][0] == "problem"
      and "(stale)" in p.rows["mx-a"][1] and p.rows["mx-b"][0] == ""
      and re.search(r"PROBLEM: mx-a is stale .* run mxspool-replay adopt mx-a", p.summary)
      and "3 gateways" in p.summary)
if not ok:
    print("rows:", p.rows, "summary:", p.summary); sys.exit(1)
PY
	chrome --window-size=1280,1800 --screenshot="$T/fleet.png" "$U/" >/dev/null &&
		mkdir -p "$BUILD/test-output/$TNAME" && cp "$T/fleet.png" "$BUILD/test-output/$TNAME/"
	ok "serve: /status, /metrics and the dashboard's Fleet panel (Chromium) flag mx-a"
else
	[ -n "${CI:-}" ] && fail "no chromium"
	ok "serve: /status and /metrics flag mx-a (no chromium here: panel not drawn)"
fi
if [ "$FLEET_STORE" = rgw ]; then
	# serve reads the bucket on its own schedule: 40 requests cause (far) fewer reads
	RL=$RGW_DIR/log/client.rgw.a.log
	reads() { grep -c 'GET /mail?.*_fleet%2Fhb' "$RL"; }
	r0=$(reads)
	for i in $(seq 20); do
		curl -sf "$U/status" > /dev/null && curl -sf "$U/metrics" > /dev/null ||
			fail "GET /status, /metrics"
	done
	r1=$(reads)
	[ "$r1" -gt 0 ] && [ $((r1 - r0)) -lt 20 ] ||
		fail "heartbeat listings in RGW's log: $r0 before, $r1 after 40 requests"
	# the store stops answering: the last view stays, with the error; back: read again
	rgw_stop_gateway
	wait_for "curl -sf $U/metrics | grep -q '^mxspool_fleet_read_ok 0\$'" 60 ||
		fail "read_ok with RGW stopped: $(curl -s "$U/metrics" | grep fleet_read)"
	curl -sf "$U/status" | python3 -c '
import json, sys
f = json.load(sys.stdin)["fleet"]
sys.exit(0 if f["error"] and len(f["nodes"]) == 3 else 1)' || fail "/status fleet with RGW stopped"
	rgw_start_gateway
	wait_for "curl -sf $U/metrics | grep -q '^mxspool_fleet_read_ok 1\$'" 60 ||
		fail "read_ok after RGW came back"
	ok "serve: $((r1 - r0)) bucket reads for 40 requests; RGW stopped: the last view with its error, read_ok 0; back: 1"
fi
kill "$SPID"; wait "$SPID" || fail "serve of B: exit $? after SIGTERM"

# on a terminal adopt asks once; "n" takes nothing
printf 'n\n' | script -qec "$REPLAY -c $T/b.conf adopt mx-a" /dev/null > "$T/tty.out" 2>&1; rc=$?
[ "$rc" = 64 ] && grep -q "Adopt [0-9]* messages of mx-a (claim 1)? \[y/N\]" "$T/tty.out" ||
	fail "adopt on a terminal answered n: exit $rc, $(cat "$T/tty.out")"
[ -z "$(LS mail/_fleet/claims/)" ] || fail "a declined adopt claimed"
ok "on a terminal adopt asks (answered n: exit 64, nothing claimed); without one it never asks"

# 5. B and C adopt A at once: one claim wins
sink s2
RE b adopt mx-a > "$T/adopt-b.out" 2> "$T/adopt-b.err" & PB=$!
RE c adopt mx-a > "$T/adopt-c.out" 2> "$T/adopt-c.err" & PC=$!
wait "$PB"; rb=$?; wait "$PC"; rc=$?
if [ "$rb" = 0 ] && [ "$rc" = 75 ]; then W=b; L=c
elif [ "$rb" = 75 ] && [ "$rc" = 0 ]; then W=c; L=b
else fail "adopt race: B exit $rb ($(cat "$T/adopt-b.err")), C exit $rc ($(cat "$T/adopt-c.err")); want one 0, one 75"
fi
grep -q "mx-$W" "$T/adopt-$L.err" || fail "the loser does not name the winner: $(cat "$T/adopt-$L.err")"
claims=$(LS mail/_fleet/claims/mx-a/)
[ "$(echo "$claims" | grep -c '\.json$')" = 1 ] && [ "$(echo "$claims" | grep -c '\.ids$')" = 1 ] ||
	fail "want one claim and one manifest: $claims"
CAT "$(echo "$claims" | grep '\.json$')" | grep -q "\"mx-$W\"" || fail "the claim is not mx-$W's"
CAT "$(echo "$claims" | grep '\.ids$')" > "$T/manifest"
for k in $(LS mail/_fleet/ledger/mx-a/); do CAT "$k"; done > "$T/ledger-a"
python3 - "$T/acked" "$T/manifest" "$T/ledger-a" <<'PY' || fail "manifest and ledger (above)"
import json, sys
ids = {l.split()[1] for l in open(sys.argv[1]) if l.startswith("fleet-a-")}
man = {l.strip() for l in open(sys.argv[2]) if l.strip()}
led = {json.loads(l)["id"] for l in open(sys.argv[3]) if l.strip()}
if man & led or man | led != ids:
    print("manifest", len(man), "ledger", len(led), "both", man & led, "neither", ids - man - led)
    sys.exit(1)
print("  manifest %d ids, A's ledger %d ids: together A's 20, none in both" % (len(man), len(led)))
PY
grep -Eq "^adopt: mx-a: [0-9]+ messages?, [0-9]+ recipients?, .* to take" "$T/adopt-$W.out" ||
	fail "winner's output: $(cat "$T/adopt-$W.out")"
ok "B and C adopt mx-a at once: mx-$W wins (0), mx-$L exits 75 naming it; one claim, one manifest"

# 6. the winner drains what it took; everybody drains their own
R $W drain > "$T/drain-w.out" || fail "drain on mx-$W: exit $? ($(cat "$T/drain-w.out"))"
R $L drain > "$T/drain-l.out" || fail "drain on mx-$L: exit $? ($(cat "$T/drain-l.out"))"
R $W adopt mx-a > "$T/again.out" 2>&1 || fail "adopt re-run: exit $? ($(cat "$T/again.out"))"
grep -q "are ours already; completing the import" "$T/again.out" &&
	grep -q "imported 0 messages" "$T/again.out" || fail "adopt re-run: $(cat "$T/again.out")"
[ "$(R $W list | grep -c '^01')" = 0 ] || fail "backlog left on mx-$W: $(R $W list)"
ok "mx-$W delivered A's messages; adopt re-run completes nothing new"

# 7. exactly once (byte-exact), except what was in flight at the kill
python3 - "$T/acked" "$T/ledger-a" "$T/bucket" "$T/s1" "$T/s2" <<'PY' || fail "deliveries (above)"
import glob, json, os, re, sys
acked = dict(l.split() for l in open(sys.argv[1]))
inledger = {json.loads(l)["id"] for l in open(sys.argv[2]) if l.strip()}
objs = {os.path.basename(p)[:-4]: p for p in glob.glob(sys.argv[3] + "/mail/mx-*/**/*.eml",
        recursive=True)}
count, by_a = {}, set()
for d in sys.argv[4:]:
    for f in glob.glob(d + "/m.*"):
        raw = open(f, "rb").read()
        m = re.search(rb"^Subject: (fleet-\S+)$", raw, re.M)
        subj = m.group(1).decode()
        count[subj] = count.get(subj, 0) + 1
        if d.endswith("/s1") and subj.startswith("fleet-a-"): by_a.add(subj)
        # byte-exact: what follows smtp-sink's Received: header is the stored object
        src = open(objs[acked[subj]], "rb").read().replace(b"\r\n", b"\n")
        lines = raw.split(b"\n")
        i = next(k for k, l in enumerate(lines) if l.startswith(b"Received: from "))
        if b"\n".join(lines[i + 3:]) != src + b"\n":
            print("bytes differ:", subj, f); sys.exit(1)
inflight = {s for s in by_a if acked[s] not in inledger}
bad = [(s, count.get(s, 0)) for s in acked
       if not (count.get(s, 0) == 1 or (s in inflight and count[s] == 2))]
if bad or set(count) - set(acked):
    print("wrong counts:", bad, "unknown:", set(count) - set(acked)); sys.exit(1)
dup = sum(1 for s in inflight if count[s] == 2)
if not inflight:
    print("  (no delivery was in flight at the kill this time: the kill came at a batch end)")
print("  %d acknowledged, all delivered byte-exact; in flight at the kill (delivered by A,"
      " not in its ledger): %d, delivered twice: %d" % (len(acked), len(inflight), dup))
PY
ok "every acknowledged message reached the primary once (in-flight ones at most twice)"

# 8. A comes back: delivers nothing adopted, but its new mail
sink s3
ingest_up a
send a 21 1
R a drain > "$T/drain-a2.out" || fail "A's drain after restart: exit $? ($(cat "$T/drain-a2.out"))"
R a list --state adopted | grep -o '^01[^ !*#]*' > "$T/a-adopted"
R a list --state delivered | grep -o '^01[^ !*#]*' > "$T/a-delivered"
# every id of the manifest is 'adopted' in A's index, or 'delivered' if A recorded its
# delivery before the kill (in flight: not in its ledger yet, delivered once more by
# the adopter); nothing else of A's is adopted
python3 - "$T/manifest" "$T/a-adopted" "$T/a-delivered" "$T/acked" "$T/s1" <<'PY' ||
import glob, re, sys
rd = lambda f: {l.split()[0] for l in open(f) if l.strip()}
man, ado, dlv = rd(sys.argv[1]), rd(sys.argv[2]), rd(sys.argv[3])
acked = dict(l.split() for l in open(sys.argv[4]))
by_a = {acked[re.search(rb"^Subject: (\S+)$", open(f, "rb").read(), re.M).group(1).decode()]
        for f in glob.glob(sys.argv[5] + "/m.*")}
if not ado <= man or not man <= ado | dlv or not (man & dlv) <= by_a:
    print("manifest", len(man), "adopted", len(ado), "adopted not in manifest", ado - man,
          "neither", man - ado - dlv, "delivered but not by A", (man & dlv) - by_a)
    sys.exit(1)
print("  A's index: %d adopted, %d of the manifest delivered by A before the kill" %
      (len(ado), len(man & dlv)))
PY
	fail "A's index after the adoption (above)"
nman=$(wc -l < "$T/a-adopted")
[ "$(dumps s3)" = 1 ] && grep -q '^Subject: fleet-a-21$' "$T"/s3/m.* ||
	fail "A after restart delivered $(dumps s3) messages: $(grep -h '^Subject:' "$T"/s3/m.* | head)"
ok "A restarted: its $nman adopted messages are 'adopted' there; it delivers only its new mail"
wait_for "R b status --fleet --json | python3 -c 'import json,sys; n={x[\"node\"]: x for x in json.load(sys.stdin)[\"nodes\"]}; a=n[\"mx-a\"]; sys.exit(0 if not a[\"stale\"] and a[\"claim\"][\"acknowledged\"] and a[\"claim\"][\"adopter\"]==\"mx-$W\" and not a[\"adopted\"] else 1)'" 30 ||
	fail "status --fleet after A's return: $(R b status --fleet --json)"
R b status --fleet | grep -q "^mx-a .*by mx-$W #1 acked" || fail "$(R b status --fleet)"
ok "status --fleet: mx-a fresh again, claim by mx-$W #1 acknowledged"

# 9. a chain of adoptions loses nothing and repeats nothing
sink s4
send a 22 4
kill -9 "${IPID[a]}"; wait "${IPID[a]}" 2>/dev/null
stale() {	# stale NODE - until the winner's status --fleet says NODE is stale
	wait_for "R $W status --fleet --json | python3 -c 'import json,sys; n={x[\"node\"]: x for x in json.load(sys.stdin)[\"nodes\"]}; sys.exit(0 if n[\"$1\"][\"stale\"] else 1)'" 60 ||
		fail "$1 not stale: $(R $W status --fleet)"
}
stale mx-a
# mx-$L "crashed" right after its claim's PUT: the claim is there, no manifest; its adopt
# run again completes that claim (no second claim, no prompt)
printf '{"adopter":"mx-%s","at_ms":%s,"epoch":2,"node":"mx-a"}' "$L" "$(date +%s000)" > "$T/claim2"
"$BUILD/tests/tools/objstore-cli" -c "$T/$L.conf" put mail/_fleet/claims/mx-a/0000000002.json \
	"$T/claim2" > /dev/null 2>&1 || fail "writing claim 2"
RE $L adopt mx-a > "$T/adopt2.out" 2>&1 || fail "second adoption of mx-a by mx-$L: $(cat "$T/adopt2.out")"
grep -q "^adopt: mx-a: claim 2 is ours; imported 4 messages" "$T/adopt2.out" &&
	[ "$(LS mail/_fleet/claims/mx-a/ | grep -c '\.json$')" = 2 ] ||
	fail "completing claim 2: $(cat "$T/adopt2.out"); $(LS mail/_fleet/claims/mx-a/)"
grep -q "^adopt: mx-a: 4 messages, 5 recipients" "$T/adopt2.out" ||
	fail "claim 2 should take the 4 new messages only: $(cat "$T/adopt2.out")"
kill -9 "${IPID[$L]}"; wait "${IPID[$L]}" 2>/dev/null
# A comes back: its drain honours claim 2 (the 4 are 'adopted' there) and sends nothing
ingest_up a
R a drain > "$T/drain-a3.out" || fail "A's drain under claim 2: $(cat "$T/drain-a3.out")"
[ "$(dumps s4)" = 0 ] || fail "A delivered what claim 2 took: $(dumps s4)"
[ "$(R a list --state adopted | grep -c '^01')" = $((nman + 4)) ] ||
	fail "A's index: $(R a list --state adopted | grep -c '^01') adopted, want $((nman + 4))"
# then A adopts the dead mx-$L, and with it mx-$L's claim on A: its own 4 come back
stale "mx-$L"
RE a adopt "mx-$L" > "$T/adopt3.out" 2>&1 || fail "mx-a adopting mx-$L: $(cat "$T/adopt3.out")"
grep -q "^adopt: mx-$L: 4 messages, 5 recipients" "$T/adopt3.out" &&
	grep -q "imported 4 messages" "$T/adopt3.out" ||
	fail "mx-$L's claim on mx-a not taken back: $(cat "$T/adopt3.out")"
R a drain > "$T/drain-a4.out" || fail "A's drain: $(cat "$T/drain-a4.out")"
subj=$(grep -h '^Subject:' "$T"/s4/m.* 2>/dev/null | sort | tr -d '\r' | tr '\n' ' ')
[ "$subj" = "Subject: fleet-a-22 Subject: fleet-a-23 Subject: fleet-a-24 Subject: fleet-a-25 " ] ||
	fail "after the chain the primary got: $subj"
ok "chain: mx-$L completed its claim 2 on mx-a (only the 4 new) and died; mx-a took them back by adopting mx-$L and delivered them once"
exit 0
