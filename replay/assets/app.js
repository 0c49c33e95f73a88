/*
 * app.js - the mxspool dashboard: fetch /status every REFRESH_MS and draw it.
 * Plain JS, no libraries, nothing from the network but this server.  Text
 * from the index (domains, reply texts) goes in through textContent only.
 * The control form POSTs to /control/* with the token the operator typed:
 * it stays in the input (no storage, no cookie, no URL) and travels in the
 * Authorization header, which a page of another origin cannot send here
 * (that needs a CORS preflight this server never grants), so no CSRF.
 */
"use strict";

const REFRESH_MS = 5000;
const SVGNS = "http://www.w3.org/2000/svg";
let lastOk = 0;
let lastStatus = null;
let refreshTimer = 0;

/* chart width in CSS pixels: drawn 1:1 so that labels keep their size on a phone */
function chartWidth(id) {
  return Math.max(280, Math.round($(id).clientWidth || 640));
}

function $(id) { return document.getElementById(id); }

function fmtInt(n) {
  return n === null || n === undefined ? "–" : Number(n).toLocaleString("en-US");
}

function fmtAge(s) {
  if (s === null || s === undefined) return "–";
  if (s < 60) return s + " s";
  const m = Math.floor(s / 60);
  if (m < 60) return m + " min";
  const h = Math.floor(m / 60);
  if (h < 24) return h + " h " + (m % 60) + " min";
  return Math.floor(h / 24) + " d " + (h % 24) + " h";
}

/* "12 s ago" from a time in ms, against the server's clock */
function fmtAgo(ms, nowMs) {
  if (!ms) return "never";
  return fmtAge(Math.max(0, Math.floor((nowMs - ms) / 1000))) + " ago";
}

function fmtBytes(b) {
  if (b === null || b === undefined) return "–";
  const u = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (b >= 1024 && i < u.length - 1) { b /= 1024; i++; }
  return (i === 0 ? b : b.toFixed(b < 10 ? 1 : 0)) + " " + u[i];
}

function fmtTime(ms) {
  if (!ms) return "–";
  const d = new Date(ms);
  return d.toLocaleTimeString("en-GB", { hour: "2-digit", minute: "2-digit" });
}

function fmtNum(x) {
  return Number(x).toLocaleString("en-US", { maximumFractionDigits: 2 });
}

function fmtRate(r) {
  if (r === null || r === undefined) return "unknown";
  return r === 0 ? "unlimited" : fmtNum(r) + "/s";
}

function setText(id, text, cls) {
  const e = $(id);
  e.textContent = text;
  if (cls !== undefined) e.className = cls;
}

function svgEl(name, attrs, text) {
  const e = document.createElementNS(SVGNS, name);
  for (const k in attrs) e.setAttribute(k, attrs[k]);
  if (text !== undefined) e.textContent = text;
  return e;
}

/* bar chart of the qshape age buckets, green (young) to red (old) */
function drawAges(buckets) {
  const W = chartWidth("age-chart"), H = 230, top = 20, bottom = 44, left = 4;
  const svg = svgEl("svg", { viewBox: "0 0 " + W + " " + H, width: W, height: H });
  const max = Math.max(1, ...buckets.map(b => b.count));
  const bw = (W - left * 2) / buckets.length;
  buckets.forEach((b, i) => {
    const h = Math.round((H - top - bottom) * b.count / max);
    const x = left + i * bw;
    const hue = 120 - Math.round(120 * i / (buckets.length - 1));
    svg.appendChild(svgEl("rect", { x: x + 3, y: H - bottom - h, width: bw - 6,
      height: Math.max(h, b.count > 0 ? 2 : 0), fill: "hsl(" + hue + ",65%,45%)", rx: 2 }));
    svg.appendChild(svgEl("text", { x: x + bw / 2, y: H - bottom - h - 5,
      "text-anchor": "middle", class: "value" }, fmtInt(b.count)));
    /* ranges when there is room, else qshape's column heads (upper bounds) */
    const label = b.max_minutes === null ? b.min_minutes + "+" : bw >= 64 ?
      (b.min_minutes === 0 ? "<" + b.max_minutes : b.min_minutes + "–" + b.max_minutes) :
      String(b.max_minutes);
    /* narrow: every other label one line lower, so that "1280" and "1280+" do not touch */
    svg.appendChild(svgEl("text", { x: x + bw / 2, y: H - bottom + 16 + (bw < 64 && i % 2 ?
      12 : 0), "text-anchor": "middle" }, label));
  });
  svg.appendChild(svgEl("line", { x1: 0, x2: W, y1: H - bottom, y2: H - bottom,
    class: "axis" }));
  svg.appendChild(svgEl("text", { x: W / 2, y: H - 3, "text-anchor": "middle" },
    bw >= 64 ? "minutes since arrival" : "minutes since arrival (up to)"));
  $("age-chart").replaceChildren(svg);
}

/* line chart of the backlog samples (one a minute, written by serve) */
function drawHistory(samples, nowMs) {
  const W = chartWidth("history-chart"), H = 200, top = 16, bottom = 26, left = 56;
  const right = 10;
  const svg = svgEl("svg", { viewBox: "0 0 " + W + " " + H, width: W, height: H });
  const pts = samples.points || [];
  $("history-window").textContent = "(last " + fmtAge(samples.window_s) + ")";
  if (pts.length < 2) {
    svg.appendChild(svgEl("text", { x: W / 2, y: H / 2, "text-anchor": "middle",
      class: "empty" }, "no samples yet (mxspool-replay serve records one a minute)"));
    $("history-chart").replaceChildren(svg);
    return;
  }
  const t0 = pts[0].at_ms, t1 = Math.max(pts[pts.length - 1].at_ms, t0 + 1);
  const max = Math.max(1, ...pts.map(p => p.messages));
  const X = t => left + (W - left - right) * (t - t0) / (t1 - t0);
  const Y = v => H - bottom - (H - top - bottom) * v / max;
  let d = "";
  pts.forEach((p, i) => { d += (i ? "L" : "M") + X(p.at_ms).toFixed(1) + " " +
    Y(p.messages).toFixed(1); });
  svg.appendChild(svgEl("path", { d: d + "L" + X(t1) + " " + Y(0) + "L" + X(t0) + " " +
    Y(0) + "Z", class: "area" }));
  svg.appendChild(svgEl("path", { d: d, class: "line" }));
  svg.appendChild(svgEl("line", { x1: left, x2: W - right, y1: H - bottom, y2: H - bottom,
    class: "axis" }));
  svg.appendChild(svgEl("line", { x1: left, x2: left, y1: top, y2: H - bottom,
    class: "axis" }));
  svg.appendChild(svgEl("text", { x: left - 6, y: top + 4, "text-anchor": "end" },
    fmtInt(max)));
  svg.appendChild(svgEl("text", { x: left - 6, y: H - bottom, "text-anchor": "end" }, "0"));
  svg.appendChild(svgEl("text", { x: left, y: H - 6 }, fmtTime(t0)));
  svg.appendChild(svgEl("text", { x: W - right, y: H - 6, "text-anchor": "end" },
    fmtTime(t1)));
  $("history-chart").replaceChildren(svg);
}

function row(cells) {
  const tr = document.createElement("tr");
  cells.forEach(c => {
    const td = document.createElement("td");
    td.textContent = c.text;
    if (c.cls) td.className = c.cls;
    tr.appendChild(td);
  });
  return tr;
}

function drawDomains(domains) {
  const body = $("domains").tBodies[0];
  const rows = domains.list.map(d => row([
    { text: d.domain }, { text: fmtInt(d.recipients), cls: "num" },
    { text: fmtInt(d.messages), cls: "num opt" },
    { text: fmtAge(d.oldest_age_s), cls: "num" }]));
  if (rows.length === 0) rows.push(row([{ text: "no backlog" }, { text: "" }, { text: "" },
    { text: "" }]));
  body.replaceChildren(...rows);
  $("domains-count").textContent = domains.total > domains.shown ?
    "(largest " + domains.shown + " of " + fmtInt(domains.total) + ")" :
    "(" + fmtInt(domains.total) + ")";
}

function drawErrors(errors) {
  const body = $("errors").tBodies[0];
  const rows = errors.by_target.slice(0, 50).map(e => row([
    { text: e.code === 0 ? "no reply" : String(e.code),
      cls: e.class === "5xx" ? "code5" : "code4" },
    { text: e.target, cls: "target" }, { text: fmtInt(e.count), cls: "num" },
    { text: fmtTime(e.last_ms), cls: "opt" }, { text: e.last_text, cls: "text" }]));
  if (rows.length === 0) rows.push(row([{ text: "none" }, { text: "" }, { text: "" },
    { text: "" }, { text: "" }]));
  body.replaceChildren(...rows);
  $("errors-window").textContent = "(last " + fmtAge(errors.window_s) + ")";
}

// serve's last `mxspool-replay check`: failures first, then warnings, then passes
function drawReadiness(rd) {
  const body = $("readiness").tBodies[0];
  const rep = rd ? rd.report : null;
  const order = { fail: 0, warn: 1, pass: 2 };
  let rows = [], summary = "serve has not run the check yet ([replay] check_interval)", cls = "";
  if (rep && rep.error) {
    summary = "check could not run: " + rep.error;
    cls = "bad";
  } else if (rep && rep.checks) {
    const n = { pass: 0, warn: 0, fail: 0 };
    rep.checks.forEach(c => { n[c.status]++; });
    summary = n.fail > 0 ? "FAILOVER WOULD NOT WORK: " + n.fail + " failing" :
      "ready" + (n.warn > 0 ? " (" + n.warn + " warnings)" : "");
    cls = n.fail > 0 ? "bad" : n.warn > 0 ? "warn" : "ok";
    rows = rep.checks.slice().sort((a, b) => order[a.status] - order[b.status]).map(c => row([
      { text: c.status.toUpperCase(), cls: "rd-" + c.status }, { text: c.check },
      { text: c.domain || "-" }, { text: c.evidence, cls: "text" },
      { text: c.fix, cls: "opt text" }]));
  }
  if (rd && rd.drill_canaries > 0)
    summary += " · " + fmtInt(rd.drill_canaries) + " drill canary message(s) in the index";
  setText("readiness-summary", summary, cls);
  body.replaceChildren(...rows);
  $("readiness-when").textContent = rep && rep.checked_ms ?
    "(checked " + fmtTime(rep.checked_ms) + ")" : "";
}

/* the gateways sharing the bucket, as serve last read their heartbeats */
function fleetClaim(n) {
  if (!n.claim) return "-";
  return "by " + n.claim.adopter + " #" + n.claim.epoch +
    (n.claim.manifest ? "" : " (in progress)") + (n.claim.acknowledged ? " acked" : "");
}

function drawFleet(f, nowMs) {
  const body = $("fleet").tBodies[0];
  let summary, cls = "";
  if (!f) {
    summary = "not read yet (serve reads the heartbeats every [fleet] heartbeat_interval;" +
      " off with [fleet] enabled = no)";
    body.replaceChildren();
  } else if (!f.nodes) {
    summary = "cannot read the fleet's heartbeats from the bucket: " + f.error;
    cls = "bad";
    body.replaceChildren();
  } else {
    const nodes = f.nodes;
    const bad = nodes.filter(n => n.problem);
    summary = nodes.length + (nodes.length === 1 ? " gateway" : " gateways") +
      ", fleet backlog " + fmtInt(f.backlog) + (f.backlog === 1 ? " message" : " messages") +
      (f.oldest_age_s ? ", oldest " + fmtAge(f.oldest_age_s) : "");
    cls = "ok";
    if (bad.length > 0) {
      summary = bad.map(n => "PROBLEM: " + n.node + " is stale (seen " +
        fmtAgo(n.last_seen_ms, nowMs) + ") and holds " + fmtInt(n.backlog) +
        " messages: if it is lost, run mxspool-replay adopt " + n.node).join("; ") +
        " · " + summary;
      cls = "bad";
    }
    if (f.error) {
      summary += " · last read failed: " + f.error;
      cls = "bad";
    }
    body.replaceChildren(...nodes.map(n => {
      const tr = row([{ text: n.node }, { text: fmtAgo(n.last_seen_ms, nowMs) +
        (n.stale ? " (stale)" : "") }, { text: fmtInt(n.backlog), cls: "num" },
        { text: fmtAge(n.oldest_age_s), cls: "num" },
        { text: n.stale ? "(" + n.replay + ")" : n.replay },
        { text: n.running.join(", ") || "-", cls: "opt" },
        { text: fleetClaim(n), cls: "opt" }]);
      tr.className = n.problem ? "problem" : n.stale ? "stale" : "";
      tr.dataset.node = n.node;
      return tr;
    }));
  }
  setText("fleet-summary", summary, cls);
  $("fleet-when").textContent = f && f.checked_ms ? "(read " + fmtAgo(f.checked_ms, nowMs) +
    ")" : "";
}

function draw(s) {
  const b = s.backlog, r = s.replay;
  lastStatus = s;
  $("node").textContent = s.node;
  let head = "Backlog: empty";
  let cls = "headline";
  if (b.messages > 0) {
    head = "Backlog: " + fmtInt(b.messages) + (b.messages === 1 ? " message" : " messages") +
      ", oldest " + fmtAge(b.oldest_age_s);
    cls += b.oldest_age_s >= 86400 ? " bad" : b.oldest_age_s >= 3600 ? " warn" : "";
  }
  setText("headline", head, cls);
  setText("drain", r.paused ? "PAUSED" : "RUNNING", "badge " + (r.paused ? "paused" : "running"));
  /* limit = what the operator set; target = where serve's slow start/backoff is now */
  setText("rate", "rate limit " + fmtRate(r.rate_limit) +
    (r.target_rate === null || r.paused ? "" : ", target " + fmtNum(r.target_rate) + "/s") +
    ", achieved " + (r.achieved_rate === null ? "unknown" : fmtNum(r.achieved_rate) + "/s"));
  setText("primary", "primary: " + (r.primary_health === null ? "unknown" :
    r.primary_health + (r.primary_health === "down" && r.primary_reason ?
    " (" + r.primary_reason + ")" : "") + (r.primary_checked_ms ?
    ", checked " + fmtAgo(r.primary_checked_ms, s.now_ms) : "")));
  setText("c-messages", fmtInt(b.messages));
  setText("c-oldest", fmtAge(b.oldest_age_s));
  setText("c-rcpts", fmtInt(b.recipients));
  setText("c-bytes", fmtBytes(b.bytes));
  setText("c-quarantine", fmtInt(s.quarantine.messages),
    "big" + (s.quarantine.messages > 0 ? " bad" : ""));
  setText("c-errors", fmtInt(s.errors.total), "big" + (s.errors.total > 0 ? " warn" : ""));
  setText("c-spool", fmtInt(s.fallback_spool.messages) + " (" +
    fmtBytes(s.fallback_spool.bytes) + ")", "big" + (s.fallback_spool.messages > 0 ? " warn" : ""));
  const h = s.storage.health;
  setText("c-storage", h === null ? "unknown" : h,
    "big" + (h === null ? "" : /^(ok|up)$/.test(h) ? " ok" : " bad"));
  setText("c-storage-why", h === null ? "serve has not checked it" :
    (/^(ok|up)$/.test(h) || !s.storage.reason ? "" : s.storage.reason +
    (s.storage.checked_ms ? "; " : "")) +
    (s.storage.checked_ms ? "checked " + fmtAgo(s.storage.checked_ms, s.now_ms) : ""));
  setText("c-ingest", fmtInt(s.ingest.accepted) + " / " + fmtInt(s.ingest.rejected));
  /* the ingest's verdicts (counters auth_dmarc{result}); temperror etc. are neither */
  const dm = { pass: 0, fail: 0 };
  for (const c of s.counters || [])
    if (c.name === "auth_dmarc" && c.label in dm) dm[c.label] += c.value;
  setText("c-dmarc", fmtInt(dm.pass) + " / " + fmtInt(dm.fail), "big" + (dm.fail > 0 ? " warn" : ""));
  drawAges(b.age_buckets);
  drawHistory(s.samples, s.now_ms);
  drawDomains(s.domains);
  drawErrors(s.errors);
  drawReadiness(s.readiness);
  drawFleet(s.fleet, s.now_ms);
  const states = Object.keys(s.states).map(k => {
    const sp = document.createElement("span");
    sp.textContent = k + " ";
    const n = document.createElement("b");
    n.textContent = fmtInt(s.states[k].messages);
    sp.appendChild(n);
    return sp;
  });
  $("states").replaceChildren(...states);
}

async function refresh() {
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), REFRESH_MS - 500);
  try {
    const res = await fetch("status", { cache: "no-store", signal: ctl.signal });
    if (!res.ok) throw new Error("HTTP " + res.status);
    const s = await res.json();
    draw(s);
    lastOk = Date.now();
    $("banner").hidden = true;
    $("updated").textContent = "updated " + new Date().toLocaleTimeString("en-GB");
    document.body.dataset.loaded = "1";
    /* for tests/e2e/status_dashboard.sh: does the page need sideways scrolling? */
    document.body.dataset.overflow =
      document.documentElement.scrollWidth > window.innerWidth + 1 ? "1" : "0";
  } catch (e) {
    const b = $("banner");
    b.textContent = "Cannot read /status (" + (e.name === "AbortError" ? "timeout" :
      e.message) + ")" + (lastOk ? "; figures below are from " +
      new Date(lastOk).toLocaleTimeString("en-GB") : "");
    b.hidden = false;
  } finally {
    clearTimeout(timer);
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(refresh, REFRESH_MS);
  }
}

function ctlMsg(text, bad) {
  setText("ctl-msg", text, bad ? "bad" : "ok");
}

/* control - POST /control/<what> with the typed token; the answer shown, then a refresh */
async function control(what, body, done) {
  const token = $("ctl-token").value.trim();
  if (!token) {
    ctlMsg("Type the bearer token ([http] token) first.", true);
    return;
  }
  const buttons = document.querySelectorAll("#ctl button");
  buttons.forEach(b => { b.disabled = true; });
  try {
    const res = await fetch("control/" + what, { method: "POST", cache: "no-store",
      credentials: "omit", headers: { "Authorization": "Bearer " + token,
      "Content-Type": "application/json" }, body: JSON.stringify(body || {}) });
    let j = {};
    try { j = await res.json(); } catch (e) { /* an empty or non-JSON answer */ }
    if (!res.ok)
      ctlMsg((res.status === 401 ? "Wrong token" : "Refused (HTTP " + res.status + ")") +
        (j.error ? ": " + j.error : ""), true);
    else
      ctlMsg(done(j));
  } catch (e) {
    ctlMsg("Cannot reach the server: " + e.message, true);
  } finally {
    buttons.forEach(b => { b.disabled = false; });
    refresh();
  }
}

$("ctl").addEventListener("submit", e => e.preventDefault());
$("ctl-pause").addEventListener("click", () => control("pause", null,
  () => "Paused: serve stops leasing within a second; in-flight messages finish."));
$("ctl-resume").addEventListener("click", () => control("resume", null,
  () => "Resumed: serve starts again slowly (slow start)."));
function setRate() {
  const v = $("ctl-rate").value.trim();
  if (!v) {
    ctlMsg("Type a rate: 10, 0.5 or 600/m (0 = unlimited).", true);
    return;
  }
  /* a plain number goes as a number, "600/m" as the CLI's text */
  control("rate", { rate: /^[0-9]+(\.[0-9]+)?$/.test(v) ? Number(v) : v },
    j => "Rate limit set to " + fmtRate(j.rate) + ".");
}
$("ctl-setrate").addEventListener("click", setRate);
$("ctl-rate").addEventListener("keydown", e => { if (e.key === "Enter") setRate(); });

let resizeTimer = 0;
window.addEventListener("resize", () => {
  clearTimeout(resizeTimer);
  resizeTimer = setTimeout(() => { if (lastStatus) draw(lastStatus); }, 200);
});

refresh();
