#!/usr/bin/env python3
"""cdp.py PROFILE URL STEP... - drive headless Chromium through the DevTools
protocol over --remote-debugging-pipe (fds 3 and 4, NUL-separated JSON: no
websocket library needed) and run STEPs on the page at URL, in order:

  wait:JS          until the expression JS is truthy (30 s at most)
  type:ID:TEXT     focus element #ID and type TEXT (Input.insertText)
  click:ID         a real left click (mouse pressed + released) at #ID's centre
  waittext:ID:S    until #ID's text contains S (30 s at most)
  print:JS         print the value of JS

The browser is $CHROMIUM (default /usr/bin/chromium) with its profile in
PROFILE.  Exit 0 when every step passed; 1 with the reason on stderr.  The page
only talks to URL's server (the test's loopback server)."""
import json
import os
import subprocess
import sys
import time

PROFILE, URL, STEPS = sys.argv[1], sys.argv[2], sys.argv[3:]
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
WAIT_S = 30


def die(msg):
    print("cdp: " + msg, file=sys.stderr)
    sys.exit(1)


cmd_r, cmd_w = os.pipe()        # we write commands, chromium reads fd 3
ev_r, ev_w = os.pipe()          # chromium writes fd 4, we read


def child_fds():
    """in the child: our pipe ends as fds 3 and 4 (the others close on exec)"""
    a, b = os.dup(cmd_r), os.dup(ev_w)      # above every fd in use: no clobbering
    os.dup2(a, 3)
    os.dup2(b, 4)


proc = subprocess.Popen(
    [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
     "--no-first-run", "--disable-background-networking", "--disable-component-update",
     "--disable-sync", "--disable-extensions", "--user-data-dir=" + PROFILE,
     "--remote-debugging-pipe", "--window-size=1280,1000", "about:blank"],
    close_fds=False, preexec_fn=child_fds,
    stdout=subprocess.DEVNULL, stderr=open(PROFILE + ".log", "ab"))
os.close(cmd_r)
os.close(ev_w)
rbuf = b""
next_id = [0]
session = None


def send(method, params=None, sess=True):
    next_id[0] += 1
    msg = {"id": next_id[0], "method": method, "params": params or {}}
    if sess and session:
        msg["sessionId"] = session
    os.write(cmd_w, json.dumps(msg).encode() + b"\0")
    return recv(next_id[0])


def recv(want):
    global rbuf
    while True:
        while b"\0" in rbuf:
            raw, rbuf = rbuf.split(b"\0", 1)
            m = json.loads(raw)
            if m.get("id") == want:
                if "error" in m:
                    die("%s" % m["error"])
                return m.get("result", {})
        chunk = os.read(ev_r, 1 << 16)
        if not chunk:
            die("chromium closed the pipe (see %s.log)" % PROFILE)
        rbuf += chunk


def js(expr):
    r = send("Runtime.evaluate", {"expression": expr, "returnByValue": True,
                                  "awaitPromise": True})
    if "exceptionDetails" in r:
        die("%s: %s" % (expr, r["exceptionDetails"].get("text")))
    return r["result"].get("value")


def until(expr, what, now=None):
    """poll expr; on giving up, say what we waited for and (now) what there is"""
    end = time.monotonic() + WAIT_S
    while time.monotonic() < end:
        if js(expr):
            return
        time.sleep(0.1)
    die("gave up waiting for %s%s" % (what, "; got %r" % js(now) if now else ""))


def el(ident):
    return "document.getElementById(%s)" % json.dumps(ident)


try:
    tid = send("Target.createTarget", {"url": "about:blank"}, sess=False)["targetId"]
    session = send("Target.attachToTarget", {"targetId": tid, "flatten": True},
                   sess=False)["sessionId"]
    send("Page.enable")
    send("Runtime.enable")
    send("Page.navigate", {"url": URL})
    until("document.readyState === 'complete'", "the page to load")
    for step in STEPS:
        kind, _, arg = step.partition(":")
        if kind == "wait":
            until(arg, arg)
        elif kind == "type":
            ident, _, text = arg.partition(":")
            js(el(ident) + ".focus()")
            send("Input.insertText", {"text": text})
        elif kind == "click":
            r = js("(() => { const e = %s; e.scrollIntoView({block: 'center'});"
                   " const b = e.getBoundingClientRect();"
                   " return [b.x + b.width / 2, b.y + b.height / 2]; })()" % el(arg))
            for t in ("mousePressed", "mouseReleased"):
                send("Input.dispatchMouseEvent", {"type": t, "x": r[0], "y": r[1],
                                                  "button": "left", "clickCount": 1})
        elif kind == "waittext":
            ident, _, sub = arg.partition(":")
            until("(%s.textContent || '').includes(%s)" % (el(ident), json.dumps(sub)),
                  "#%s to say %r" % (ident, sub), el(ident) + ".textContent")
        elif kind == "print":
            print(js(arg))
        else:
            die("unknown step " + step)
finally:
    try:
        send("Browser.close", sess=False)
    except SystemExit:
        pass
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
