#!/bin/bash
# status_dashboard.sh - the dashboard (GET /, embedded replay/assets/) in headless
# Chromium against a populated index: after app.js has fetched /status, the DOM
# shows the backlog headline ("Backlog: 62 messages, oldest 3 d 0 h"), the per-domain
# table, the recent errors, the quarantine count and the drain state, and it follows
# a pause made through the control API.  Screenshots (desktop, phone 390x844 and the
# whole phone page) go to $BUILD/test-output/status_dashboard/; on a phone-sized
# window the page must not need sideways scrolling.  Nothing may come from the network.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/status.sh"
status_need_chromium
OUT=$BUILD/test-output/status_dashboard
mkdir -p "$OUT"

TOKEN="dash-$RANDOM-token"
status_up "$T/mx.conf" "$TOKEN"
ok "statustool on $U"

# nothing from elsewhere: no absolute URLs in the files but the SVG namespace
for f in / /app.js /style.css; do
	curl -sf "$U$f" | grep -oE '(https?:)?//[a-zA-Z0-9.-]+' | grep -v '^http://www.w3.org$' |
		grep -q . && fail "$f refers to another host"
done
ok "dashboard files refer to no other host"

curl -sf "$U/status" > "$T/status.json" || fail "GET /status"
chrome --window-size=1280,1800 --dump-dom "$U/" > "$T/dom.html" || fail "chromium --dump-dom"
python3 - "$T/status.json" "$T/dom.html" <<'PY' || fail "dashboard DOM (above)"
import html.parser, json, re, sys
s = json.load(open(sys.argv[1]))
dom = open(sys.argv[2]).read()

class Text(html.parser.HTMLParser):
    """text of each element with an id, and of every table row"""
    def __init__(self):
        super().__init__(); self.stack = []; self.byid = {}; self.rows = []; self.row = None
        self.body = {}
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "body": self.body = a
        if tag == "tr": self.row = []
        if tag in ("td", "th") and self.row is not None: self.row.append("")
        self.stack.append(a.get("id"))
        if a.get("id"): self.byid[a["id"]] = ""
    def handle_endtag(self, tag):
        if tag == "tr" and self.row is not None: self.rows.append(self.row); self.row = None
        if self.stack: self.stack.pop()
    def handle_data(self, d):
        for i in self.stack:
            if i: self.byid[i] += d
        if self.row: self.row[-1] += d

t = Text(); t.feed(dom)
def need(what, cond, got):
    if not cond:
        print(f"{what}: got {got!r}"); sys.exit(1)
need("body data-loaded (app.js drew /status)", t.body.get("data-loaded") == "1", t.body)
b = s["backlog"]
head = t.byid.get("headline", "").strip()
need("headline", re.fullmatch(r"Backlog: %s messages, oldest \d+ (d|h|min)( \d+ (h|min))?"
     % re.escape(f"{b['messages']:,}"), head), head)
need("oldest 3 days", "oldest 3 d" in head, head)
need("backlog card", t.byid["c-messages"].strip() == f"{b['messages']:,}", t.byid["c-messages"])
need("quarantine card", t.byid["c-quarantine"].strip() == "1", t.byid["c-quarantine"])
need("DMARC card", t.byid["c-dmarc"].strip() == "40 / 3", t.byid["c-dmarc"])
need("errors card", t.byid["c-errors"].strip() == str(s["errors"]["total"]), t.byid["c-errors"])
need("drain badge", t.byid["drain"].strip() == "RUNNING", t.byid["drain"])
need("rate", t.byid["rate"].strip() == "rate limit 10/s, achieved 3/s", t.byid["rate"])
need("storage", t.byid["c-storage"].strip() == "ok", t.byid["c-storage"])
age = t.byid.get("age-chart", "")
for x in b["age_buckets"]:
    need("age chart count %s" % x["label"], f"{x['count']:,}" in age, age)
need("age chart labels", "1280+" in age and "<5" in age, age)
need("history chart drawn", "no samples" not in t.byid.get("history-chart", ""),
     t.byid.get("history-chart"))
doms = {r[0]: r for r in t.rows if len(r) == 4}
for d in s["domains"]["list"]:
    need("domain row " + d["domain"], d["domain"] in doms, sorted(doms)[:5])
    need("domain recipients " + d["domain"], doms[d["domain"]][1] == f"{d['recipients']:,}",
         doms[d["domain"]])
errs = [r for r in t.rows if len(r) == 5 and r[0] in ("421", "550", "no reply")]
need("error rows", sorted(r[0] for r in errs) == ["421", "550", "no reply"], errs)
need("error 421 target", any(r[0] == "421" and r[1] == "primary.test:25" and r[2] == "2"
     for r in errs), errs)
PY
ok "DOM after the fetch: headline, cards, age chart, domains and errors match /status"

chrome --window-size=1280,1800 --screenshot="$T/desktop.png" "$U/" >/dev/null ||
	fail "desktop screenshot"
chrome --window-size=390,844 --screenshot="$T/phone.png" "$U/" >/dev/null ||
	fail "phone screenshot"
chrome --window-size=390,2600 --screenshot="$T/phone-full.png" "$U/" >/dev/null ||
	fail "full phone screenshot"
for f in desktop phone phone-full; do
	[ "$(stat -c %s "$T/$f.png")" -gt 20000 ] || fail "$f.png is (nearly) empty"
	cp "$T/$f.png" "$OUT/"
done
ok "screenshots in $OUT (desktop.png, phone.png, phone-full.png)"

chrome --window-size=390,844 --dump-dom "$U/" > "$T/phone.html" || fail "phone dump-dom"
grep -q 'data-loaded="1"' "$T/phone.html" || fail "phone: app.js did not draw"
grep -q 'data-overflow="0"' "$T/phone.html" || fail "phone: the page scrolls sideways at 390 px"
grep -q 'name="viewport"' "$T/phone.html" || fail "no viewport meta"
ok "phone size (390x844): drawn, no sideways scrolling"

curl -sf -X POST -H "Authorization: Bearer $TOKEN" "$U/control/pause" >/dev/null || fail "pause"
chrome --window-size=1280,900 --dump-dom "$U/" > "$T/paused.html" || fail "dump-dom paused"
grep -q '<span id="drain" class="badge paused">PAUSED</span>' "$T/paused.html" ||
	fail "dashboard does not show PAUSED after /control/pause"
ok "after POST /control/pause the dashboard shows PAUSED"
status_stop
